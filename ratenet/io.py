"""The state file (``.npz``): every array of populations and projections, bit for bit.

Functions here work on :mod:`state records <ratenet.state>`, so populations
and projections can save themselves and :func:`ratenet.save` /
:func:`ratenet.load` (in :mod:`ratenet.api`) can save a whole network with
its delay histories and step.  Loading checks the whole file against the
objects before changing anything, so a file that does not fit leaves them as
they were.

Keys: ``pop:<name>:<attribute>``, ``proj:<name>:<attribute or .storage field>``,
``kern:<name>:...`` (Convolution and Pooling), ``hist:<population>:<variable>``
and ``.step``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .exceptions import ValidationError
from .state import PopulationState, ProjectionState

__all__ = ["save_objects", "load_objects", "Loaded"]

_FORMAT = "ratenet-state-1"


@dataclass
class Loaded:
    """What a network-level load hands back besides the objects: the step and the delay histories.

    Examples
    --------
    >>> Loaded(3).step, Loaded().histories
    (3, {})
    """

    step: int | None = None
    histories: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def _population_arrays(state: PopulationState) -> dict[str, np.ndarray]:
    return {f"pop:{state.name}:{name}": np.asarray(state.values[name]) for name in state.locality}


def save_objects(filename: str | os.PathLike[str], populations: Iterable[PopulationState],
                 projections: Iterable[ProjectionState], step: int | None = None,
                 histories: dict[tuple[str, str], np.ndarray] | None = None) -> None:
    """Write the given objects' state to ``filename`` (exactly that path).

    ``histories`` holds the ring buffers of delayed projections, by (population
    name, variable), so that a loaded network continues exactly as the saved one.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.npz")
    >>> save_objects(path, [net.registry.state(pop)], [])
    >>> sorted(np.load(path).files)
    ['.format', 'pop:inp:r']
    """
    arrays: dict[str, np.ndarray] = {".format": np.array(_FORMAT)}
    if step is not None:
        arrays[".step"] = np.array(step)
    for pop in populations:
        arrays.update(_population_arrays(pop))
    for proj in projections:
        if proj.save_kind is not None:
            arrays.update({f"{proj.save_kind}:{proj.name}:{key}": value for key, value in proj.export().items()})
    for (pop_name, var), ring in (histories or {}).items():
        arrays[f"hist:{pop_name}:{var}"] = ring
    entries: dict[str, Any] = arrays  # savez's stubs type **kwds like its own keywords
    with open(filename, "wb") as handle:
        np.savez(handle, **entries)


def _read(filename: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    if not os.path.exists(filename):
        raise FileNotFoundError(f"load: no such file: '{os.fspath(filename)}'")
    try:
        with np.load(filename, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError) as exc:
        raise ValueError(f"load: '{os.fspath(filename)}' is not a ratenet state file ({exc})") from None
    if arrays.get(".format", np.array("")).item() != _FORMAT:
        raise ValueError(f"load: '{os.fspath(filename)}' is not a ratenet state file (written by save())")
    return arrays


def _group(arrays: dict[str, np.ndarray], kind: str) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if key.startswith(kind + ":"):
            _, name, attr = key.split(":", 2)
            groups.setdefault(name, {})[attr] = value
    return groups


def _match(saved: dict[str, Any], current: dict[str, Any], what: str, where: str) -> dict[str, Any]:
    """Pair saved groups with objects by name (a single object takes a single saved one by any name)."""
    if len(saved) == 1 and len(current) == 1:
        (saved_name,), (name,) = saved, current
        return {saved_name: current[name]}
    if set(saved) != set(current):
        missing = sorted(set(current) - set(saved))
        extra = sorted(set(saved) - set(current))
        detail = "; ".join(part for part in (f"not in the file: {missing}" if missing else "",
                                             f"not in the network: {extra}" if extra else "") if part)
        raise ValidationError(where, what, f"the file and the network hold different {what} ({detail})")
    return {name: current[name] for name in saved}


def _check_population(state: PopulationState, name: str, saved: dict[str, np.ndarray], where: str) -> None:
    attributes = list(state.locality)
    if set(saved) != set(attributes):
        raise ValidationError(where, f"population '{name}'", f"the file has attributes {sorted(saved)}, the "
                                                             f"population {sorted(attributes)}")
    for attr, value in saved.items():
        current = np.asarray(state.values[attr])
        if value.shape != current.shape:
            raise ValidationError(where, f"population '{name}'", f"'{attr}' has shape {value.shape} in the "
                                                                 f"file but {current.shape} in the network")


def _restore_population(state: PopulationState, saved: dict[str, np.ndarray]) -> None:
    values = state.values
    for attr, value in saved.items():
        if state.locality[attr] != "local":
            values[attr] = np.asarray(values[attr]).dtype.type(value)
        else:
            values[attr][...] = value
        state.bump(attr)


def load_objects(filename: str | os.PathLike[str], populations: Iterable[PopulationState] | None,
                 projections: Iterable[ProjectionState] | None) -> Loaded:
    """Restore the given objects from ``filename`` (``None``: leave that kind alone).

    Every check happens before any change.  Returns the saved step and delay
    histories, for the network to continue where the file left off.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.npz")
    >>> save_objects(path, [net.registry.state(pop)], [], step=7)
    >>> pop.r = 0.0
    >>> load_objects(path, [net.registry.state(pop)], None).step, pop.r.tolist()
    (7, [1.0, 2.0])
    """
    arrays = _read(filename)
    where = f"load('{os.fspath(filename)}')"
    matched: list[tuple[Any, dict[str, np.ndarray]]] = []
    if populations is not None:
        saved_pops = _group(arrays, "pop")
        pops = _match(saved_pops, {p.name: p for p in populations}, "populations", where)
        for name, saved in saved_pops.items():
            _check_population(pops[name], name, saved, where)
            matched.append((pops[name], saved))
    if projections is not None:
        projections = list(projections)
        for kind, what in (("proj", "projections"), ("kern", "convolution and pooling projections")):
            saved_projs = _group(arrays, kind)
            current = {p.name: p for p in projections if p.save_kind == kind}
            if kind == "kern" and not saved_projs and not current:
                continue
            projs = _match(saved_projs, current, what, where)
            for name, saved in saved_projs.items():
                projs[name].check(saved, f"projection '{name}'", where)
                matched.append((projs[name], saved))
    # -- then change
    for state, saved in matched:
        if isinstance(state, PopulationState):
            _restore_population(state, saved)
        else:
            state.restore(saved)
    histories = {(key.split(":", 2)[1], key.split(":", 2)[2]): value for key, value in arrays.items()
                 if key.startswith("hist:")}
    return Loaded(int(arrays[".step"]) if ".step" in arrays else None, histories)
