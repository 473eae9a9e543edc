"""ANNarchy's parameter files: the global parameters of a network as JSON.

:func:`save_parameters` writes, and :func:`load_parameters` reads, the format
of ANNarchy 4.8 (``indent=4``)::

    {
        "populations": {"<name>": {"<parameter>": value, ...}, ...},
        "projections": {"<name>": {"<parameter>": value, ...}, ...},
        "network": {},
        "constants": {"<name>": value, ...}
    }

As in ANNarchy, only **global** attributes are written (flag ``population``
for neurons, ``projection`` for synapses), with their values at compile
time (ANNarchy's ``pop.init``: what ``reset()`` returns to; the current
values before the network is compiled), and objects are matched by name.

In a batched network (``Network(batch=B)``) a global parameter holds one
value per sample: it is written as one number when the samples agree (the
file reads as ANNarchy's), else as a list of B numbers, which
:func:`load_parameters` reads back into each sample.

Both are all-or-nothing: the file is written to a temporary file and renamed
(see :func:`ratenet.io.write_atomic`); a file is read and every value checked
(numbers, finite, whole for ``int`` attributes) before the first one is set.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import IO, Any

import numpy as np

from .exceptions import MissingFileError, RatenetWarning, ValidationError, FileError
from .io import check_path, write_atomic
from .neurons import Constant, defined_constants, remove_constant
from .population import NONFINITE
from .registry import default_network

__all__ = ["save_parameters", "load_parameters"]

_SECTIONS = ("populations", "projections", "network", "constants")


def _global_names(obj: Any, locality: dict[str, str], level: str) -> list[str]:
    return [name for name in obj.attributes if locality.get(name) == level]


def _plain(value: Any) -> Any:
    """A JSON value: Python numbers (NumPy scalars turned into them).

    One value per sample of a batch is one number when the samples agree (the
    file reads as ANNarchy's), else a list of one number per sample.
    """
    if np.ndim(value) == 1:
        values = np.asarray(value).tolist()
        return values[0] if values and all(v == values[0] for v in values) else values
    item = value.item() if hasattr(value, "item") else value
    return item


def save_parameters(filename: str | os.PathLike[str], net: Any = None) -> None:
    """Save the global parameters of a network (the default one unless ``net``) to a JSON file.

    See the module's description for the format.  The write is atomic: a
    failure leaves a previous file as it was.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="tau = 10.0 : population\\nbaseline = 0.5"), name="layer")
    >>> path = os.path.join(tempfile.mkdtemp(), "params.json")
    >>> save_parameters(path, net=net)
    >>> json.load(open(path))["populations"]
    {'layer': {'tau': 10.0}}
    """
    network = default_network() if net is None else net
    path = check_path(filename, "save_parameters")
    description: dict[str, dict[str, Any]] = {section: {} for section in _SECTIONS}
    for name, constant in defined_constants().items():
        description["constants"][name] = constant.value
    for pop in network.populations:
        locality = network.registry.state(pop).locality
        description["populations"][pop.name] = {
            name: _plain(pop.initial_value(name)) for name in _global_names(pop, locality, "population")}
    for proj in network.projections:
        state = network.registry.state(proj)
        if proj.synapse_type is None or state.storage is None:
            description["projections"][proj.name] = {}
            continue
        description["projections"][proj.name] = {
            name: _plain(proj.initial_value(name)) for name in _global_names(proj, state.locality, "projection")}
    import json  # stdlib, but 1.5 ms of `import ratenet` for a rarely used file format

    text = json.dumps(description, indent=4)

    def write(handle: IO[bytes]) -> None:
        handle.write(text.encode("utf-8"))

    write_atomic(path, write, "save_parameters")


def _read_json(path: str) -> dict[str, Any]:
    import json  # see save_parameters

    owner = "load_parameters"
    if not os.path.exists(path):
        raise MissingFileError(f"{owner}: no such file: '{path}'")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise FileError(f"{owner}: cannot read '{path}' ({exc.strerror or exc})") from exc
    try:
        desc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationError(owner, "filename", "expected a JSON file written by save_parameters()",
                              got=f"a binary file: '{path}'", got_repr=False) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(owner, "filename", "expected a JSON file written by save_parameters()",
                              got=f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}): '{path}'",
                              got_repr=False) from None
    if not isinstance(desc, dict):
        raise ValidationError(owner, "filename", "expected a JSON object with the sections " + ", ".join(_SECTIONS),
                              got=f"a JSON {type(desc).__name__}: '{path}'", got_repr=False)
    for section in _SECTIONS:
        if section in desc and not isinstance(desc[section], dict):
            raise ValidationError(owner, section, "expected a JSON object {name: ...}", got=desc[section])
    return desc


def _per_sample(owner: str, key: str, value: list[Any], samples: int | None, batch: int | None,
                finite: bool) -> list[float]:
    """A list in a parameter file: one number per sample of the batch of an object that holds one per sample."""
    if samples is None and batch is None:
        return [_number(owner, key, value, finite)]  # refused: parameter files of an unbatched network hold numbers
    if samples is None:
        raise ValidationError(owner, key, "expected a single number (a list gives one value per sample of a batch; "
                                          "this object holds one value for every sample)", got=value)
    if len(value) != samples:
        raise ValidationError(owner, key, f"expected a number or {samples} numbers (one per sample of the batch)",
                              got=value)
    return [_number(owner, key, v, finite) for v in value]


def _number(owner: str, key: str, value: Any, finite: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(owner, key, "expected a single number (parameter files hold no arrays or text)",
                              got=value)
    number = float(value)
    if finite and not math.isfinite(number):
        raise ValidationError(owner, key, NONFINITE, got=value)
    return number


def load_parameters(filename: str | os.PathLike[str], global_only: bool = True, verbose: bool = False,
                    net: Any = None) -> dict[str, float]:
    """Set parameters of a network (the default one unless ``net``) from a JSON file; return its ``network`` part.

    Populations and projections are matched by name.  A name the network
    does not have, or a parameter the object does not have, is skipped with
    a :class:`~ratenet.RatenetWarning`.  With ``global_only`` (the default)
    only global parameters are set; otherwise a per-neuron or per-synapse
    parameter gets the file's single value everywhere.  Constants are changed,
    or created when missing.  ``verbose`` prints every change.

    Every value is checked (a number; finite unless the network allows
    non-finite values; whole for ``int`` attributes) before anything is set:
    a refused file changes nothing.

    Returns
    -------
    dict
        The ``"network"`` section, each value as a float.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="tau = 10.0 : population"), name="layer")
    >>> path = os.path.join(tempfile.mkdtemp(), "params.json")
    >>> _ = open(path, "w").write(json.dumps({"populations": {"layer": {"tau": 20}}, "network": {"lr": 0.1}}))
    >>> load_parameters(path, net=net), pop.tau
    ({'lr': 0.1}, 20.0)
    """
    network = default_network() if net is None else net
    path = check_path(filename, "load_parameters")
    desc = _read_json(path)
    finite = not network.allow_nonfinite
    owner = f"load_parameters('{path}')"
    changes: list[tuple[Any, str, Any, Any]] = []   # (object, attribute, value, previous)
    notes: list[str] = []
    for section, objects, level in (("populations", network.populations, "population"),
                                    ("projections", network.projections, "projection")):
        by_name = {obj.name: obj for obj in objects}
        for name, parameters in desc.get(section, {}).items():
            if not isinstance(parameters, dict):
                raise ValidationError(owner, f"{section}.{name}", "expected a JSON object {parameter: number}",
                                      got=parameters)
            obj = by_name.get(name)
            if obj is None:
                warnings.warn(f"load_parameters: the file '{path}' names the {section[:-1]} '{name}', which this "
                              f"network does not have (it has: {', '.join(by_name) or 'none'}); skipped",
                              RatenetWarning, stacklevel=2)
                continue
            state = network.registry.state(obj)
            samples = network.batch if section == "populations" else getattr(obj, "batch", None)
            for attr, value in parameters.items():
                key = f"{section}.{name}.{attr}"
                numbers = _per_sample(owner, key, value, samples, network.batch, finite) \
                    if isinstance(value, list) else None
                number = _number(owner, key, value, finite) if numbers is None else numbers[0]
                if attr not in obj.parameters or attr not in state.locality:
                    warnings.warn(f"load_parameters: '{attr}' is not a parameter of {section[:-1]} '{name}' "
                                  f"(parameters: {', '.join(obj.parameters) or 'none'}); skipped", RatenetWarning,
                                  stacklevel=2)
                    continue
                if global_only and state.locality[attr] != level:
                    notes.append(f"  {attr} is not a global parameter of '{name}', skipping")
                    continue
                if numbers is not None and state.locality[attr] != level:
                    raise ValidationError(owner, key, "expected a single number (one value per sample is for "
                                                      "global parameters)", got=value)
                kind = getattr(state, "kinds", {}).get(attr)
                if kind is None:
                    kind = {"i": "int", "b": "bool"}.get(state.values[attr].dtype.kind, "float")
                for each in [number] if numbers is None else numbers:
                    if kind != "float" and each != round(each):
                        raise ValidationError(owner, key, f"is an {kind} attribute: expected a whole number",
                                              got=value)
                    if kind == "bool" and each not in (0.0, 1.0):
                        raise ValidationError(owner, key, "is a bool attribute: expected 0 or 1", got=value)
                previous = getattr(obj, attr)
                whole = kind == "int"
                new_value: Any = number if numbers is None else \
                    np.array([int(v) for v in numbers] if whole else numbers)
                shown = f"{number:g}" if numbers is None else str([f"{v:g}" for v in numbers]).replace("'", "")
                notes.append(f"  {name}.{attr}: {previous} -> {shown}")
                changes.append((obj, attr, new_value, previous))
    constants = {}
    for name, value in desc.get("constants", {}).items():
        constants[name] = _number(owner, f"constants.{name}", value, True)
    network_parameters = {name: _number(owner, f"network.{name}", value, False)
                          for name, value in desc.get("network", {}).items()}
    # -- then change: the values were checked; a refusal (a constant's name...) rolls back what was done before it
    existing = defined_constants()
    created: list[str] = []
    done: list[tuple[Any, str, Any, Any]] = []
    try:
        for name, value in constants.items():
            if name not in existing:
                Constant(name, value)
                created.append(name)
        for change in changes:
            obj, attr, number, _ = change
            whole = getattr(network.registry.state(obj), "kinds", {}).get(attr) == "int" and np.ndim(number) == 0
            setattr(obj, attr, int(number) if whole else number)
            done.append(change)
    except BaseException:
        for obj, attr, _, previous in reversed(done):
            setattr(obj, attr, previous)
        for name in created:
            remove_constant(name)
        raise
    for name, value in constants.items():
        if name in existing:
            existing[name].set(value)
    if verbose:
        print(f"Loading parameters from '{path}'")
        print("\n".join(notes) if notes else "  (nothing to change)")
    return network_parameters
