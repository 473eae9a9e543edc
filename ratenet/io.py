"""Saving and loading the state of a network (``.npz``).

Every population's parameters and variables and every projection's
connectivity, synaptic attributes and delays are written bit for bit.  Loading
checks the whole file against the network before changing anything, so a
file that does not fit leaves the network as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from .exceptions import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network
    from .population import Population
    from .projections.projection import Projection

__all__ = ["save", "load", "save_objects", "load_objects"]

_FORMAT = "ratenet-state-1"


def _population_arrays(pop: "Population") -> dict[str, np.ndarray]:
    return {f"pop:{pop.name}:{name}": np.asarray(pop._ns[name]) for name in pop.attributes}


def _projection_arrays(proj: "Projection") -> dict[str, np.ndarray]:
    storage = proj._require_connected()
    key = f"proj:{proj.name}"
    out: dict[str, np.ndarray] = {f"{key}:.shape": np.array([storage.n_post, storage.n_pre]),
                                  f"{key}:.kind": np.array(storage.kind),
                                  f"{key}:.delays": np.asarray(proj._delays)}
    if storage.kind == "dense":
        if storage.mask is not None:
            out[f"{key}:.mask"] = storage.mask
    else:
        out[f"{key}:.indptr"] = storage.indptr
        out[f"{key}:.indices"] = storage.indices
    for name, array in proj._attrs.items():
        out[f"{key}:{name}"] = array
    return out


def _weighted(projections: Iterable["Projection"]) -> list["Projection"]:
    """Projections that own their weights (kernel projections and copies have none to save)."""
    return [p for p in projections if p.__dict__.get("_storage") is not None and "_attrs" in p.__dict__
            and getattr(p, "_original", None) is None]


def _kernels(projections: Iterable["Projection"]) -> list["Projection"]:
    """Convolution and Pooling projections: one shared kernel (and a delay) each."""
    return [p for p in projections if p.__dict__.get("_kernel") is not None]


def _kernel_arrays(proj: "Projection") -> dict[str, np.ndarray]:
    out = {f"kern:{proj.name}:.delays": np.asarray(proj._delays)}
    if hasattr(type(proj), "weights"):
        out[f"kern:{proj.name}:weights"] = np.asarray(proj._kernel.weights)
    return out


def save_objects(filename: str | os.PathLike[str], populations: Iterable["Population"],
                 projections: Iterable["Projection"], step: int | None = None,
                 histories: dict[tuple[str, str], np.ndarray] | None = None) -> None:
    """Write the given objects' state to ``filename`` (exactly that path).

    ``histories`` holds the ring buffers of delayed projections, by (population
    name, variable), so that a loaded network continues exactly as the saved one.
    """
    arrays: dict[str, np.ndarray] = {".format": np.array(_FORMAT)}
    if step is not None:
        arrays[".step"] = np.array(step)
    for pop in populations:
        arrays.update(_population_arrays(pop))
    projections = list(projections)
    for proj in _weighted(projections):
        arrays.update(_projection_arrays(proj))
    for proj in _kernels(projections):
        arrays.update(_kernel_arrays(proj))
    for (pop_name, var), ring in (histories or {}).items():
        arrays[f"hist:{pop_name}:{var}"] = ring
    with open(filename, "wb") as handle:
        np.savez(handle, **arrays)


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


def load_objects(filename: str | os.PathLike[str], populations: Iterable["Population"] | None,
                 projections: Iterable["Projection"] | None, network: "Network | None" = None) -> None:
    """Restore the given objects from ``filename`` (``None``: leave that kind alone).

    Every check happens before any change.
    """
    from .projections.storage import Dense, Sparse

    arrays = _read(filename)
    where = f"load('{os.fspath(filename)}')"
    saved_pops = _group(arrays, "pop") if populations is not None else {}
    saved_projs = _group(arrays, "proj") if projections is not None else {}
    saved_kernels = _group(arrays, "kern") if projections is not None else {}
    projections = list(projections) if projections is not None else None
    pops = _match(saved_pops, {p.name: p for p in populations}, "populations", where) if populations is not None \
        else {}
    projs = _match(saved_projs, {p.name: p for p in _weighted(projections)}, "projections", where) \
        if projections is not None else {}
    kernels = _match(saved_kernels, {p.name: p for p in _kernels(projections)}, "convolution and pooling "
                     "projections", where) if projections is not None and (saved_kernels or _kernels(projections)) \
        else {}
    for name, saved in saved_kernels.items():
        proj = kernels[name]
        if "weights" in saved and np.shape(saved["weights"]) != np.shape(proj._kernel.weights):
            raise ValidationError(where, f"projection '{name}'", f"its kernel has shape {saved['weights'].shape} "
                                                                 f"in the file but {proj._kernel.weights.shape} in "
                                                                 "the network")
    for name, saved in saved_pops.items():
        pop = pops[name]
        if set(saved) != set(pop.attributes):
            raise ValidationError(where, f"population '{name}'", f"the file has attributes {sorted(saved)}, the "
                                                                 f"population {sorted(pop.attributes)}")
        for attr, value in saved.items():
            current = np.asarray(pop._ns[attr])
            if value.shape != current.shape:
                raise ValidationError(where, f"population '{name}'", f"'{attr}' has shape {value.shape} in the "
                                                                     f"file but {current.shape} in the network")
    for name, saved in saved_projs.items():
        proj = projs[name]
        shape = tuple(int(v) for v in saved[".shape"])
        if shape != (proj.post.size, proj.pre.size):
            raise ValidationError(where, f"projection '{name}'", f"connects {shape[1]} -> {shape[0]} neurons in "
                                                                 f"the file but {proj.pre.size} -> {proj.post.size} "
                                                                 "in the network")
        attrs = {k for k in saved if not k.startswith(".")}
        if attrs != set(proj._attrs):
            raise ValidationError(where, f"projection '{name}'", f"the file has synaptic attributes {sorted(attrs)}, "
                                                                 f"the projection {sorted(proj._attrs)}")
    # -- then change
    for name, saved in saved_pops.items():
        pop = pops[name]
        for attr, value in saved.items():
            if pop._locality[attr] != "local":
                pop._ns[attr] = np.asarray(pop._ns[attr]).dtype.type(value)
            else:
                pop._ns[attr][...] = value
    for name, saved in saved_projs.items():
        proj = projs[name]
        n_post, n_pre = (int(v) for v in saved[".shape"])
        if saved[".kind"].item() == "dense":
            proj._storage = Dense(n_post, n_pre, saved.get(".mask"))
        else:
            proj._storage = Sparse(n_post, n_pre, saved[".indptr"], saved[".indices"])
        for attr in proj._attrs:
            current = proj._attrs[attr]
            if current.shape == saved[attr].shape:
                current[...] = saved[attr]  # in place: copies and transposes share this array
            else:
                proj._attrs[attr] = np.array(saved[attr], dtype=current.dtype)
        delays = saved[".delays"]
        proj._delays = float(delays) if delays.ndim == 0 else np.array(delays)
    for name, saved in saved_kernels.items():
        proj = kernels[name]
        if "weights" in saved:
            proj._kernel.weights = saved["weights"]
        proj._delays = float(saved[".delays"])
    if network is not None:
        if ".step" in arrays:
            network._step = int(arrays[".step"])
        network._changed(structure=True)
        network._saved_histories = {tuple(key.split(":", 2)[1:]): value for key, value in arrays.items()
                                    if key.startswith("hist:")}


def save(filename: str | os.PathLike[str], populations: bool = True, projections: bool = True,
         net: "Network | None" = None) -> None:
    """Save the state of a network (the default one unless ``net``) to an ``.npz`` file.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0, 3.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
    >>> save(path, net=net); pop.r = 0.0
    >>> load(path, net=net); pop.r.tolist()
    [1.0, 2.0, 3.0]
    """
    from .network import default_network

    net = net or default_network()
    net._build()
    histories = {(h.name, var): h.ring for (_, var), h in net._histories.items()} if populations else None
    save_objects(filename, net.populations if populations else [], net.projections if projections else [],
                 step=net.get_current_step(), histories=histories)


def load(filename: str | os.PathLike[str], populations: bool = True, projections: bool = True,
         net: "Network | None" = None) -> None:
    """Load a state written by :func:`save` into a network of the same structure.

    Raises
    ------
    ValidationError
        If populations, projections, geometries or attributes differ (nothing
        is changed then).
    """
    from .network import default_network

    net = net or default_network()
    load_objects(filename, net.populations if populations else None, net.projections if projections else None,
                 network=net)
