"""Populations: arrays shaped like a geometry, updated by generated NumPy code.

A population keeps its parameters, variables and ``sum(target)`` arrays in a
:class:`~ratenet.state.PopulationState` record that it registers with its
network; every write from Python bumps the version of what it wrote, so the
step plan knows what changed (see :mod:`ratenet.state`).
"""

from __future__ import annotations

import ast
import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

import inspect

from ._lazy import LazyModule
from . import equations as eqmod
from ._codegen import global_operation_code, update_code, warn_unstable
from .equations import Scope, build_function, classify, numpy_namespace, parse_condition, symbols, \
    user_function_namespace
from .exceptions import EquationError, RatenetWarning, ValidationError, closest
from ._memory import check_bytes
from .io import load_objects, save_objects
from .neurons import Neuron
from .random import Distribution, draw_in_equation
from .readonly import read_only
from .registry import Clock, default_network
from .state import PopulationState, sum_key

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network
    from .display import html as _html, plots as _plots, text as _text
else:  # imported on first use (see ratenet/_lazy.py)
    _html = LazyModule("ratenet.display.html")
    _plots = LazyModule("ratenet.display.plots")
    _text = LazyModule("ratenet.display.text")

__all__ = ["Population", "PopulationView", "IndividualNeuron", "InputArray", "TimedArray"]

_DTYPES = {"int": np.int64, "bool": np.bool_}
#: ``ranks`` of an assignment to the whole population (contiguous: no index array needed)
_WHOLE = slice(None)

#: What a refused NaN or infinity is told (see Network.allow_nonfinite).
NONFINITE = ("expected finite numbers; NaN and infinities are refused unless the network allows them "
             "(Network(...).allow_nonfinite = True or setup(allow_nonfinite=True))")
#: The global operations (``mean(r)``...), by name, as an unbatched population computes them.
_GLOBAL_PER_SAMPLE = {key[5:]: value for key, value in numpy_namespace().items() if key.startswith("_gop_")}


def all_finite(array: np.ndarray) -> bool:
    """Whether every value of a float array is finite: one sum first (NaN or an infinity makes it
    non-finite), the element-wise test only when the sum is not finite (it may overflow).

    Examples
    --------
    >>> all_finite(np.array([1.0, 2.0])), all_finite(np.array([1.0, np.nan])), all_finite(np.full(3, 1e308))
    (True, False, True)
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if np.isfinite(total):
        return True
    return bool(np.isfinite(array).all())


def check_geometry(geometry: Any, owner: str) -> tuple[int, ...]:
    """Normalise a geometry (int or tuple of ints) and reject bad ones.

    Examples
    --------
    >>> check_geometry(10, "Population"), check_geometry((48, 64, 3), "Population")
    ((10,), (48, 64, 3))
    """
    given = geometry
    if isinstance(geometry, (numbers.Integral,)) and not isinstance(geometry, bool):
        geometry = (int(geometry),)
    message = "must be a positive int or a non-empty tuple of positive ints"
    if not isinstance(geometry, (tuple, list)) or not geometry:
        raise ValidationError(owner, "geometry", message, got=given)
    for g in geometry:
        if isinstance(g, bool) or not isinstance(g, numbers.Integral) or g <= 0:
            raise ValidationError(owner, "geometry", message, got=given)
    return tuple(int(g) for g in geometry)


def _coordinates(coord: Any) -> tuple[Any, ...]:
    """One coordinate (an integer) or several, as a tuple."""
    return (coord,) if isinstance(coord, numbers.Integral) else tuple(coord)


class _Attributes:
    """Get/set of named arrays, shared by populations and their views."""

    attributes: list[str]

    def _owner(self) -> str:
        raise NotImplementedError

    def get(self, name: str) -> Any:
        """Value(s) of a parameter or variable (a copy).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(3, Neuron(parameters="tau = 10.0", equations="r = tau"))
        >>> pop.get("tau")
        array([10., 10., 10.])
        """
        return getattr(self, name)

    def set(self, values: Mapping[str, Any]) -> None:
        """Set several attributes at once: ``pop.set({"tau": 5.0, "r": 0.0})``."""
        if not isinstance(values, Mapping):
            raise ValidationError(self._owner(), "set", "expects a dict {name: value}", got=values)
        for name, value in values.items():
            if name not in self.attributes:
                raise self._unknown(name)
            setattr(self, name, value)

    def _unknown(self, name: str) -> AttributeError:
        close = closest(name, self.attributes)
        hint = f"; did you mean '{close}'?" if close else ""
        return AttributeError(f"{self._owner()} has no attribute '{name}'{hint} "
                              f"(attributes: {', '.join(self.attributes)})")


class Population(_Attributes):
    """A group of identical rate-coded neurons arranged in a geometry.

    Every parameter and variable of the neuron model is a NumPy array shaped
    like ``geometry`` (``population`` parameters and variables are single
    numbers).  Reading ``pop.r`` returns a read-only copy; assign ``pop.r =
    values`` (a number, an array of shape ``geometry`` or ``(size,)``, or a
    distribution) to change it.

    Parameters
    ----------
    geometry : int or tuple of int
        Number of neurons, or their arrangement, e.g. ``(48, 64, 3)``.
    neuron : Neuron
        The model (a :class:`~ratenet.neurons.Neuron` instance or class).
    name : str, optional
        Unique name in the network; ``"pop<id>"`` by default.
    stop_condition : str, optional
        Condition for :func:`~ratenet.simulate_until`, e.g. ``"r > 1.0 : any"``.
    network : Network, optional
        The network to join; the default network when omitted.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create((2, 3), Neuron(equations="r = 1.0 + t"))
    >>> net.simulate(2.0)
    >>> pop.r
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """

    _reserved = {"network", "geometry", "size", "name", "batch", "neuron_type", "ranks", "attributes", "parameters",
                 "variables", "targets", "dimension", "width", "height", "depth", "stop_condition"}

    def __new__(cls, *args: Any, **kwargs: Any) -> "Population":
        self = super().__new__(cls)
        # the constructor's arguments, so that copy_to() can build the same population elsewhere
        object.__setattr__(self, "_init_call", (args, kwargs))
        return self

    def __init__(
        self,
        geometry: int | Sequence[int],
        neuron: Neuron | type[Neuron],
        name: str | None = None,
        stop_condition: str | None = None,
        network: "Network | None" = None,
        *,
        copied: bool = False,
    ) -> None:
        object.__setattr__(self, "_ready", False)
        owner = f"{type(self).__name__} '{name}'" if name else type(self).__name__
        self.geometry = check_geometry(geometry, owner)
        if isinstance(neuron, type) and issubclass(neuron, Neuron):
            neuron = neuron()
        if not isinstance(neuron, Neuron):
            raise ValidationError(owner, "neuron", "must be a Neuron", got=neuron)
        neuron.refuse_spiking(owner, "neuron")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValidationError("Population", "name", "must be a non-empty string", got=name)
        self.neuron_type = neuron
        self.size = math.prod(self.geometry)
        if network is None:
            network = default_network()
        #: samples run at once (None: no batch axis); fixed when the population is created
        self.batch: int | None = network.batch
        samples = 1 if self.batch is None else self.batch
        local = {p.name for p in neuron.parameters if p.locality == "local"} | \
            {eq.target for eq in neuron.equations if eq.locality == "local"} | {"r"}
        arrays = len(local) + len(neuron.targets) + 1  # the variables, sums and ranks
        check_bytes(float(self.size) * samples * arrays * 8, owner, "geometry",
                    f"{arrays} arrays of {self.size:,} neurons" + ("" if samples == 1 else f" x {samples} samples"),
                    geometry)
        self.dimension = len(self.geometry)
        self.ranks = np.arange(self.size)
        self.network = network
        registry = network.registry
        self.name = registry.unique_name(name, "pop")
        try:
            self._allocate()
            self._stop = None if stop_condition is None else self._parse_stop(stop_condition)
        except Exception:
            registry.release_name(self.name)  # a failed population leaves nothing behind
            raise
        self.stop_condition = stop_condition
        self._state.make_stop = None if self._stop is None else self._stop_function
        registry.add_population(self, self._state)
        object.__setattr__(self, "_ready", True)
        self._warn_unstable()

    # ---------------------------------------------------------------- storage
    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"


    @property
    def dtype(self) -> np.dtype:
        return self.network.dtype

    def _dtype_of(self, kind: str) -> Any:
        return _DTYPES.get(kind, self.network.dtype)

    @property
    def _shape(self) -> tuple[int, ...]:
        """The shape of a local array: the geometry, after the batch axis when there is one."""
        return self.geometry if self.batch is None else (self.batch,) + self.geometry

    @property
    def _shared_shape(self) -> tuple[int, ...]:
        """The shape of a population-level array in a batched network: one value per sample."""
        assert self.batch is not None
        return (self.batch,) + (1,) * len(self.geometry)

    def _sample_rngs(self) -> list[np.random.Generator]:
        return self.network.sample_rngs

    def _allocate(self) -> None:
        neuron = self.neuron_type
        rng = self.network.rng
        ns: dict[str, Any] = {}
        locality: dict[str, str] = {}
        kinds: dict[str, str] = {}
        for p in neuron.parameters:
            locality[p.name] = p.locality
            kinds[p.name] = p.dtype
            ns[p.name] = self._initial(p.value, p.locality, p.dtype, ns, rng)
        variables: list[str] = []
        for eq in neuron.equations:
            if eq.target in ns:
                continue
            variables.append(eq.target)
            locality[eq.target] = eq.locality
            kinds[eq.target] = eq.dtype
            init = eq.init if eq.init is not None else 0.0
            ns[eq.target] = self._initial(init, eq.locality, eq.dtype, ns, rng)
        if "r" not in ns:
            variables.append("r")
            locality["r"] = "local"
            kinds["r"] = "float"
            ns["r"] = np.zeros(self._shape, dtype=self.dtype)
        self.parameters = [p.name for p in neuron.parameters]
        self.variables = variables
        self.attributes = self.parameters + self.variables
        state = PopulationState(self.name, self.geometry, neuron, self.dtype, ns, self.batch)
        state.locality = locality
        state.kinds = kinds
        state.track(*self.attributes)
        state.variables = list(dict.fromkeys(eq.target for eq in neuron.equations))
        if self.batch is not None:  # population-level parameters whose samples agree: one scalar
            for name, level in locality.items():
                if level != "local":
                    state.set_per_sample(name, ns[name])
        self._state = state
        self._ns = ns
        self._locality = locality
        self._kinds = kinds
        # 5.x Parameters declared without a locality: global until given one value per neuron
        self._promotable = {p.name for p in neuron.parameters if p.promotable}
        state.promotable = self._promotable
        state.promote = self._promote
        for target in neuron.targets:
            state.ensure_sum(target)
        self._globals = sorted({classify(s) for eq in neuron.equations for s in symbols(eq.rhs)
                                if classify(s)[0] == "global"})
        for _, op, var in self._globals:
            if var not in ns:
                raise EquationError(f"the global operation {op}({var}) needs a variable or parameter '{var}'")
            ns[f"_g_{op}_{var}"] = self._zero_global()
        self._describe_model()
        self._initial_state: dict[str, Any] | None = None

    def _zero_global(self) -> Any:
        """The value of a global operation before the first step (one per sample in a batch)."""
        if self.batch is None:
            return self.dtype.type(0.0)
        return np.zeros(self._shared_shape, dtype=self.dtype)

    def _warn_unstable(self) -> None:
        """Warn when dt makes an explicit method diverge for a constant time constant.

        Checked with the parameter values and dt the population is created with.
        Hook point: the step-plan build, which knows the final dt and values,
        is the better home for this call (see ratenet._codegen.warn_unstable).
        """
        values = {name: self._ns[name] for name in self.parameters}
        if self.batch is not None:  # the stability check looks at one sample's values
            values = {name: self._state.per_sample(name)[0].reshape(()) if self._locality[name] != "local"
                      else value[0] for name, value in values.items()}
        values.update({name: c.value for name, c in self.neuron_type.constants.items() if name not in values})
        warn_unstable(self.neuron_type.equations, self.network.dt, values, owner=self._owner())

    def _describe_model(self) -> None:
        """Tell the plan how this population is updated (see :class:`~ratenet.state.PopulationState`)."""
        state, neuron = self._state, self.neuron_type
        state.role = "model" if neuron.equations else "input"
        state.pure = is_pure(neuron)
        state.reads_constants = bool(neuron.constants)
        state.stackable = (type(self) is Population and bool(neuron.equations) and not self._globals
                           and all(eq.locality == "local" for eq in neuron.equations)
                           and not uses_random(neuron))
        state.make_update = self._update_function
        state.compiled = self._compiled
        state.move = self._move_to

    def _move_to(self, network: "Network") -> None:
        """Leave this network for ``network``: keep the values, in that network's dtype."""
        if network.batch != self.batch:
            raise ValidationError("Network.create", "population", f"has a batch of {self.batch} samples, the "
                                                                  f"network {network.batch}", got=self.name)
        self.network.registry.remove_population(self)
        registry = network.registry
        object.__setattr__(self, "network", network)
        object.__setattr__(self, "name", registry.unique_name(self.name if self.name not in registry.names else None,
                                                              "pop"))
        self._state.name = self.name
        ns = self._ns
        for name, kind in self._kinds.items():
            value = ns[name]
            dtype = self._dtype_of(kind)
            ns[name] = value.astype(dtype) if isinstance(value, np.ndarray) else np.dtype(dtype).type(value)
        for target in self._state.targets:
            ns[sum_key(target)] = ns[sum_key(target)].astype(self.dtype)
        self._state.dtype = self.dtype
        self._state.borrowed = False  # astype copied every array, a borrowed r included
        self._state.bump_all()
        registry.add_population(self, self._state)

    def _initial(self, value: Any, locality: str, kind: str, ns: Mapping[str, Any], rng: np.random.Generator) -> Any:
        if self.batch is not None:
            return self._initial_batched(value, locality, kind, ns)
        dtype = self._dtype_of(kind)
        shared = locality != "local"
        if isinstance(value, str):  # init=<parameter name>
            source = ns[value] if value in ns else float(self.neuron_type.constants[value])
            if shared:
                if np.ndim(source):
                    raise ValidationError(self._owner(), value, "a population variable cannot start from a "
                                                                "per-neuron parameter")
                return np.dtype(dtype).type(source)
            return np.array(np.broadcast_to(source, self.geometry), dtype=dtype)
        if isinstance(value, Distribution):
            drawn = value.sample(() if shared else self.geometry, rng, dtype)
            return np.dtype(dtype).type(drawn) if shared else np.ascontiguousarray(drawn)
        if shared:
            return np.dtype(dtype).type(value)
        return np.full(self.geometry, value, dtype=dtype)

    def _initial_batched(self, value: Any, locality: str, kind: str, ns: Mapping[str, Any]) -> np.ndarray:
        """An initial value with the batch axis: ``(B, *geometry)``, or ``(B, 1, ...)`` for population-level ones.

        Population-level values are arrays too (updated in place by the generated code), so
        that they broadcast against the local ones sample by sample.
        """
        dtype = self._dtype_of(kind)
        shared = locality != "local"
        shape = self._shared_shape if shared else self._shape
        if isinstance(value, str):  # init=<parameter name>
            source = ns[value] if value in ns else float(self.neuron_type.constants[value])
            if shared and np.ndim(source) and np.shape(source)[1:] != (1,) * len(self.geometry):
                raise ValidationError(self._owner(), value, "a population variable cannot start from a "
                                                            "per-neuron parameter")
            return np.array(np.broadcast_to(source, shape), dtype=dtype)
        if isinstance(value, Distribution):
            sample_shape = () if shared else self.geometry
            drawn = [value.sample(sample_shape, rng, dtype) for rng in self._sample_rngs()]
            return np.ascontiguousarray(np.reshape(drawn, shape), dtype=dtype)
        return np.full(shape, value, dtype=dtype)

    @property
    def targets(self) -> list[str]:
        """Targets this population receives (or its equations read)."""
        return self._state.targets

    # ------------------------------------------------------------- attributes
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        ns = self.__dict__.get("_ns")
        if ns is not None and name in self.__dict__.get("_locality", {}):
            value = ns[name]
            if self._locality[name] != "local":
                if self.batch is None:
                    return value.item()
                return np.array(np.broadcast_to(value, self._shared_shape)).reshape(self.batch)
            return read_only(value.copy(), self._owner(), name, self.name)
        neuron = self.__dict__.get("neuron_type")
        if neuron is not None and name in neuron.functions:
            return neuron.functions[name]
        raise self._unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not self.__dict__.get("_ready") or name.startswith("_") or name in self._reserved:
            if self.__dict__.get("_ready") and name in ("geometry", "size", "neuron_type", "network"):
                raise AttributeError(f"{self._owner()}.{name} cannot be changed after creation")
            object.__setattr__(self, name, value)
            return
        if name not in self._locality:
            raise self._unknown(name)
        # the whole population: a plain copy into the state array, not a gather through its ranks
        if self._locality[name] != "local" and name in self._promotable and self._per_neuron(value):
            self._assign_promoting(name, value, _WHOLE, shape=self.geometry)
        else:
            self._assign(name, value, _WHOLE, shape=self.geometry)

    def _per_neuron(self, value: Any) -> bool:
        """Whether a value assigned to the whole population gives each neuron its own (an array, not one per sample)."""
        if isinstance(value, Distribution) or np.ndim(value) == 0:
            return False
        return self.batch is None or np.shape(value) != (self.batch,)

    def _refuse_shared(self, name: str, value: Any, owner: str) -> None:
        """Refuse one value per neuron for a population-level attribute that cannot become local."""
        if self._locality[name] != "local" and name not in self._promotable:
            raise ValidationError(owner, name, "is shared by the whole population: set it on the population "
                                               "itself, or declare it Parameter(..., locality='local') (in a 4.x "
                                               "string: without ': population') for one value per neuron",
                                  got=value)

    def _assign_promoting(self, name: str, value: Any, ranks: np.ndarray | slice | None,
                          shape: tuple[int, ...] | None = None, owner: str | None = None) -> None:
        """:meth:`_assign` one value per neuron to a promotable parameter: made local first, undone on failure."""
        value_before = self._ns[name]
        initial = self._initial_state
        initial_before = None if initial is None else initial.get(name)
        self._promote(name)
        try:
            self._assign(name, value, ranks, shape=shape, owner=owner)
        except BaseException:
            self._ns[name] = value_before
            if initial is not None and initial_before is not None:
                initial[name] = initial_before
            self._locality[name] = "population"
            self._state.bump(name)
            raise
        warnings.warn(
            f"{self._owner()}.{name}: one value per neuron was given for a Parameter declared without a "
            f"locality, which is global (one value for the population) since ANNarchy 5.0.2; it is now local "
            f"(one value per neuron) for this population only, as in ANNarchy 5.0.0. To silence this, declare "
            f"Parameter(..., locality='local') (per neuron) or locality='global' (per population, refusing "
            f"per-neuron values)", RatenetWarning, stacklevel=3)

    def _promote(self, name: str) -> None:
        """Make the 5.x ``Parameter`` ``name`` (declared without a locality) local for this population only.

        ANNarchy 5.0.0 and 5.0.1 made such a parameter local, 5.0.2 and later
        global; the published 5.x notebooks assign it per neuron.  Its value
        (one per sample in a batch) is spread over the neurons, the compile-time
        value ``reset`` returns to likewise, and the plan is built again: the
        generated update (a one-value ``ite`` is a Python branch), stacking
        with other populations, monitors and saved files follow the locality.
        """
        dtype = np.asarray(self._ns[name]).dtype
        self._ns[name] = np.array(np.broadcast_to(self._ns[name], self._shape), dtype=dtype)
        if self._initial_state is not None and name in self._initial_state:
            self._initial_state[name] = np.array(np.broadcast_to(self._initial_state[name], self._shape), dtype=dtype)
        self._locality[name] = "local"  # the state's dict too: monitors, save/load and the plan read it
        self._state.bump(name)
        self.network.registry.structure_changed()

    def _assign(self, name: str, value: Any, ranks: np.ndarray | slice | None,
                shape: tuple[int, ...] | None = None, owner: str | None = None) -> None:
        """Write ``value`` into attribute ``name`` for the neurons ``ranks`` (laid out as ``shape``)."""
        ns = self._ns
        kind = self._kinds[name]
        dtype = self._dtype_of(kind)
        if self._locality[name] != "local":
            if self.batch is not None:
                self._assign_shared_batched(name, value, dtype)
                return
            if isinstance(value, Distribution):
                value = value.sample((), self.network.rng)
            if np.ndim(value) != 0:
                raise ValidationError(self._owner(), name, "is one value for the whole population: expected a "
                                                           "single number (declare it Parameter(..., locality="
                                                           "'local') for one value per neuron)", got=value)
            number = self._checked_number(name, value)
            self._check_kind(name, kind, np.asarray(number), owner or self._owner(), value)
            ns[name] = np.dtype(dtype).type(number)
            self._state.bump(name)
            return
        count = self.size if isinstance(ranks, slice) or ranks is None else len(ranks)
        if self.batch is not None:
            self._assign_local_batched(name, value, ranks, count, shape or self._shape_of(ranks), owner, dtype)
            return
        if isinstance(value, Distribution):
            value = value.sample(count, self.network.rng, dtype)
        array = self._checked_array(name, value, count, shape or self._shape_of(ranks), owner or self._owner())
        self._check_kind(name, kind, array, owner or self._owner(), value)
        flat = self._state.writable(name, keep=ranks is not _WHOLE).reshape(-1)  # never into a borrowed r
        if ranks is _WHOLE:
            flat[...] = array  # a plain copy (or fill); casts as the indexed store below does
        else:
            flat[ranks] = array
        self._state.bump(name)

    def _check_kind(self, name: str, kind: str, array: np.ndarray, owner: str, given: Any) -> None:
        """Refuse what the attribute cannot hold exactly: non-finite floats (unless allowed), fractions for ints."""
        if array.dtype.kind != "f":
            if kind == "bool" and array.dtype.kind in "iu" and not np.isin(array, (0, 1)).all():
                raise ValidationError(owner, name, "is a bool attribute: expected True/False (or 0/1)", got=given)
            return
        if kind == "float":
            if not self.network.allow_nonfinite and not all_finite(array):
                raise ValidationError(owner, name, NONFINITE, got=given)
            return
        finite = np.isfinite(array)
        if not finite.all() or (array != np.round(array)).any():
            what = "whole numbers" if kind == "int" else "True/False (or 0/1)"
            raise ValidationError(owner, name, f"is {'an int' if kind == 'int' else 'a bool'} attribute: "
                                               f"expected {what}, not truncated fractions", got=given)
        if kind == "bool" and not np.isin(array, (0, 1)).all():
            raise ValidationError(owner, name, "is a bool attribute: expected True/False (or 0/1)", got=given)
        if kind == "int" and (np.abs(array) >= 2.0**63).any():
            raise ValidationError(owner, name, "is an int attribute: expected whole numbers from -2**63 to 2**63-1",
                                  got=given)

    def _set_per_sample(self, name: str, values: Any) -> None:
        """Hold a batched population-level value (see PopulationState.set_per_sample).

        The generated code was written for a scalar or for an array (``ite(k > 0.5, ...)`` on one number
        takes one branch): when the value changes from one to the other, the plan is built again.
        """
        before = np.ndim(self._ns[name])
        self._state.set_per_sample(name, values)
        if np.ndim(self._ns[name]) != before:
            self.network.registry.structure_changed()

    def _assign_shared_batched(self, name: str, value: Any, dtype: Any) -> None:
        """A population-level value in a batch: one number for every sample, or one per sample."""
        batch = self.batch
        assert batch is not None
        if isinstance(value, Distribution):
            value = [value.sample((), rng) for rng in self._sample_rngs()]
        if isinstance(value, (list, tuple)):
            value = np.asarray(value) if all(isinstance(v, numbers.Number) for v in value) else value
        if np.ndim(value) == 0:
            number = self._checked_number(name, value)
            self._check_kind(name, self._kinds[name], np.asarray(number), self._owner(), value)
            self._set_per_sample(name, np.dtype(dtype).type(number))
        else:
            array = np.asarray(value) if isinstance(value, np.ndarray) else None
            if array is None or array.shape != (batch,) or array.dtype.kind not in "biuf":
                raise ValidationError(self._owner(), name, f"is one value per sample: expected a number or an array "
                                                           f"of shape ({batch},)",
                                      got=f"shape {np.shape(value)}" if array is not None else value,
                                      got_repr=array is None)
            self._check_kind(name, self._kinds[name], array, self._owner(), value)
            self._set_per_sample(name, array.astype(dtype))
        self._state.bump(name)

    def _assign_local_batched(self, name: str, value: Any, ranks: np.ndarray | slice | None, count: int,
                              shape: tuple[int, ...], owner: str | None, dtype: Any) -> None:
        """A local value in a batch: the same for every sample (a number, ``shape``), or ``(B, *shape)``."""
        batch = self.batch
        assert batch is not None
        if isinstance(value, Distribution):
            value = np.stack([value.sample(count, rng, dtype) for rng in self._sample_rngs()])
        owner = owner or self._owner()
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.kind not in "biuf":
            raise ValidationError(owner, name, "expected numbers", got=value)
        self._check_kind(name, self._kinds[name], array, owner, value)
        if array.ndim == 0 or array.shape == shape or array.shape == (count,):
            array = array.reshape(-1)
        elif array.shape == (batch,) + shape or array.shape == (batch, count):
            array = array.reshape(batch, count)
        else:
            one = f"{shape} or ({count},)" if shape != (count,) else f"({count},)"
            each = f"{(batch,) + shape}" + (f" or ({batch}, {count})" if shape != (count,) else "")
            raise ValidationError(owner, name, f"expected a number, an array of shape {one} (every sample) or "
                                               f"{each} (one per sample)", got=f"shape {array.shape}", got_repr=False)
        whole = ranks is None or ranks is self.ranks or ranks is _WHOLE
        rows = self._state.writable(name, keep=not whole).reshape(batch, -1)  # never into a borrowed r
        if whole:
            rows[...] = array  # the whole population: a plain copy, not an assignment through an index array
        else:
            rows[:, ranks] = array
        self._state.bump(name)

    def _checked_number(self, name: str, value: Any) -> Any:
        try:
            number = np.asarray(value)
            if number.dtype.kind not in "biuf":
                raise TypeError
        except (TypeError, ValueError):
            raise ValidationError(self._owner(), name, "expected a number", got=value) from None
        return number.item()

    def _checked_array(self, name: str, value: Any, count: int, shape: tuple[int, ...], owner: str) -> np.ndarray:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.kind not in "biuf":
            raise ValidationError(owner, name, "expected numbers", got=value)
        if array.ndim == 0:
            return array
        if array.shape == shape or array.shape == (count,):
            return array.reshape(-1)
        squeezed = tuple(n for n in array.shape if n != 1)
        if array.size == count and squeezed in (tuple(n for n in shape if n != 1), (count,)):
            return array.reshape(-1)  # extra axes of length 1, as (1, 289) for a (17, 17) population (ANNarchy)
        expected = f"{shape} or ({count},)" if shape != (count,) else f"({count},)"
        raise ValidationError(owner, name, f"expected a number or an array of shape {expected}",
                              got=f"shape {array.shape}", got_repr=False)

    def _shape_of(self, ranks: Any) -> tuple[int, ...]:
        return self.geometry if ranks is None or (isinstance(ranks, np.ndarray) and len(ranks) == self.size) \
            else (len(ranks),)

    def _write_rates(self, rates: np.ndarray) -> None:
        """Replace ``r`` (already checked and shaped like the geometry, or ``(B, *geometry)``): inputs fed
        from Python."""
        self._state.writable("r", keep=False)[...] = rates
        self._state.bump("r")

    def _fill_rates(self, fill: Callable[[np.ndarray], Any]) -> None:
        """Replace ``r`` by ``fill(r)`` writing into it (it checks everything before it writes): inputs fed
        from Python without an intermediate array."""
        state = self._state
        if state.borrowed:  # into an array of its own, taken only when fill succeeds (r unchanged otherwise)
            own = np.empty(self._shape, dtype=self.dtype)
            fill(own)
            self._ns["r"] = own
            state.borrowed = False
        else:
            fill(self._ns["r"])
        state.bump("r")

    def _borrow_rates(self, rates: np.ndarray) -> None:
        """Make ``rates`` (checked: the dtype, shape and layout of ``r``) *be* ``r`` until the next write,
        without a copy (see :meth:`ratenet.state.PopulationState.writable`)."""
        state = self._state
        if not state.lends:  # from now on the plan reads r through the record: built again once
            state.lends = True
            self.network.registry.structure_changed()
        self._ns["r"] = rates
        state.borrowed = True
        state.bump("r")

    # -------------------------------------------------------------- sums etc.
    def sum(self, target: str) -> np.ndarray:
        """The summed input ``sum(target)`` of the last step (a copy).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = sum(exc)"))
        >>> pop.sum("exc")
        array([0., 0.])
        """
        if sum_key(target) not in self._ns:
            raise ValidationError(self._owner(), "target", f"no projection or equation uses this target "
                                                           f"(known: {', '.join(self.targets) or 'none'})",
                                  got=target)
        return self._ns[sum_key(target)].copy()

    # ------------------------------------------------------------ coordinates
    def rank_from_coordinates(self, coord: Sequence[int] | int) -> int:
        """Flat (C-order) rank of the neuron at ``coord``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create((4, 5), Neuron(equations="r = 0"))
        >>> pop.rank_from_coordinates((2, 3))
        13
        """
        coords = _coordinates(coord)
        if len(coords) != self.dimension or any(not 0 <= int(c) < g for c, g in zip(coords, self.geometry)):
            raise ValidationError(self._owner(), "coord", f"must be {self.dimension} integers within "
                                                          f"{self.geometry}", got=coords)
        return int(np.ravel_multi_index(tuple(int(c) for c in coords), self.geometry))

    def coordinates_from_rank(self, rank: int) -> tuple[int, ...]:
        """Coordinates of the neuron of flat rank ``rank``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create((4, 5), Neuron(equations="r = 0"))
        >>> pop.coordinates_from_rank(13)
        (2, 3)
        """
        self._check_rank(rank)
        coord = tuple(int(c) for c in np.unravel_index(int(rank), self.geometry))
        return coord

    def normalized_coordinates_from_rank(self, rank: int, norm: float = 1.0) -> tuple[float, ...]:
        """Coordinates scaled to ``[0, norm]`` per axis (0 on an axis of size 1).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create((5, 1), Neuron(equations="r = 0"))
        >>> pop.normalized_coordinates_from_rank(2)
        (0.5, 0.0)
        """
        coord = self.coordinates_from_rank(rank)
        return tuple(norm * c / (g - 1) if g > 1 else 0.0 for c, g in zip(coord, self.geometry))

    def _check_rank(self, rank: Any) -> None:
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 0 <= int(rank) < self.size:
            raise ValidationError(self._owner(), "rank", f"must be an integer in [0, {self.size})", got=rank)

    # ---------------------------------------------------------------- subsets
    def neuron(self, *coord: int) -> "IndividualNeuron":
        """One neuron, by rank or coordinates: ``pop.neuron(3)``, ``pop.neuron(1, 2)``."""
        if len(coord) == 1 and self.dimension > 1 and isinstance(coord[0], numbers.Integral):
            rank = coord[0]
            self._check_rank(rank)
        elif len(coord) == 1 and not isinstance(coord[0], numbers.Integral):
            rank = self.rank_from_coordinates(coord[0])
        else:
            rank = self.rank_from_coordinates(coord) if len(coord) > 1 else coord[0]
            self._check_rank(rank)
        return IndividualNeuron(self, int(rank))

    def __getitem__(self, index: Any) -> "PopulationView | IndividualNeuron":
        return _index(self, self.geometry, self.ranks, index)

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        for rank in range(self.size):
            yield IndividualNeuron(self, rank)

    @property
    def population(self) -> "Population":
        return self

    def copy_to(self, network: "Network") -> "Population":
        """A population built in ``network`` like this one, with this one's current values.

        The copy is made with the arguments this population was created with
        (so an ``InputArray`` copies as an ``InputArray``) and keeps its name;
        then every parameter and variable takes the value it has here now.
        ``Network.add`` uses it (ANNarchy 4.x's copy semantics).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create(3, Neuron(parameters="tau = 10.0", equations="r = tau"), name="p")
        >>> pop.tau = [1.0, 2.0, 3.0]
        >>> other = pop.copy_to(Network())
        >>> other.name, other.tau.tolist(), other.network is pop.network
        ('p', [1.0, 2.0, 3.0], False)
        """
        if network.batch != self.batch:  # a sample's values have no place in another batch size
            def axis(batch: int | None) -> str:
                return "no batch axis" if batch is None else f"a batch of {batch} samples"

            raise ValidationError(self._owner(), "copy_to", f"has {axis(self.batch)}, the network "
                                                            f"{axis(network.batch)}", got=network)
        args, kwargs = self.__dict__.get("_init_call", ((), {}))
        bound = inspect.signature(type(self).__init__).bind(None, *args, **kwargs)
        bound.arguments["network"] = network
        copy = type(self)(*bound.args[1:], **bound.kwargs)
        for name in self.attributes:
            value = self._ns[name]
            if self._locality[name] != copy._locality[name]:  # made local here by a per-neuron assignment
                copy._promote(name)
            if self._locality[name] != "local":
                value = value.item() if isinstance(value, np.generic) else value
                if self.batch is not None and np.ndim(value):  # held (B, 1, ...): assigned as one per sample
                    value = np.reshape(value, -1)
            copy._assign(name, value, copy.ranks)
        return copy

    # ------------------------------------------------------------------ reset
    def _compiled(self, first: bool) -> None:
        if first or self._initial_state is None:
            self._snapshot()

    def _snapshot(self) -> None:
        self._initial_state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._ns.items()
                               if k in self._locality}

    def initial_value(self, name: str) -> Any:
        """The value ``reset`` returns attribute ``name`` to: its value at compile time (the current one before).

        This is ANNarchy's ``pop.init[name]`` (what ``save_parameters`` writes).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(parameters="tau = 10.0 : population"))
        >>> _ = net.compile(); pop.tau = 5.0
        >>> pop.initial_value("tau"), pop.tau
        (10.0, 5.0)
        """
        if name not in self._locality:
            raise self._unknown(name)
        value = self._ns[name] if self._initial_state is None else self._initial_state[name]
        if self.batch is not None and self._locality[name] != "local":  # one per sample, as pop.<name> reads
            return np.array(np.broadcast_to(value, self._shared_shape)).reshape(self.batch)
        return value.item() if np.ndim(value) == 0 else np.array(value, copy=True)

    def reset(self, attributes: Iterable[str] | None = None) -> None:
        """Restore the values the attributes had when the network was compiled.

        Parameters
        ----------
        attributes : iterable of str, optional
            Only these; all parameters and variables by default.
        """
        if self._initial_state is None:
            self._snapshot()
        initial = self._initial_state
        assert initial is not None
        names = self.attributes if attributes is None else list(attributes)
        state = self._state
        for name in names:
            if name not in self._locality:
                raise self._unknown(name)
            saved = initial[name]
            if self.batch is not None and self._locality[name] != "local":
                self._set_per_sample(name, saved)
            elif isinstance(saved, np.ndarray):
                state.writable(name, keep=False)[...] = saved
            else:
                self._ns[name] = saved
            state.bump(name)
        for target in state.targets:
            self._ns[sum_key(target)][...] = 0.0
            state.bump(sum_key(target))
        for _, op, var in self._globals:
            self._ns[f"_g_{op}_{var}"] = self.dtype.type(0.0)

    def save(self, filename: str) -> None:
        """Save this population's parameters and variables to an ``.npz`` file."""
        save_objects(filename, [self._state], [])

    def load(self, filename: str) -> None:
        """Load values saved by :meth:`save` (or by :func:`ratenet.save` for one population)."""
        load_objects(filename, [self._state], None, finite=not self.network.allow_nonfinite)

    # ---------------------------------------------------------- simulation
    def _parse_stop(self, text: str) -> tuple[ast.expr, str]:
        if not isinstance(text, str):
            raise ValidationError(self._owner(), "stop_condition", "must be a string such as 'r > 1.0 : any'",
                                  got=text)
        scope = Scope("neuron", dict(self._locality), self.neuron_type.functions, set(self.neuron_type.constants))
        try:
            return parse_condition(text, scope)
        except EquationError as exc:
            raise exc.with_owner(self._owner()) from None

    def _namespace(self) -> dict[str, Any]:
        """Bind everything the generated code may read (into this population's namespace)."""
        net = self.network
        return model_namespace(self.neuron_type, self._ns, self.geometry, net.registry.clock, net.dt, net.rng,
                               net.dtype, self._locality, batch_rngs=net.sample_rngs if self.batch else None)

    def _update_function(self) -> Callable[[], Any] | None:
        """The generated update for one step, or None for an input population."""
        if not self.neuron_type.equations:
            return None
        return update_function(self.neuron_type, self._namespace(), self._locality, self.targets, self._globals,
                               f"update {self.name}", self.dtype, batched=self.batch is not None)

    def _stop_function(self) -> Callable[[], Any]:
        assert self._stop is not None
        tree, mode = self._stop
        ns = self._namespace()
        ns["_np_any"] = np.any
        ns["_np_all"] = np.all
        body: list[ast.stmt] = [ast.Return(value=ast.Call(func=ast.Name(id=f"_np_{mode}", ctx=ast.Load()),
                                                          args=[tree], keywords=[]))]
        return build_function(body, ns, f"stop condition of {self.name}", dtype=self.dtype)

    def __repr__(self) -> str:
        return _text.population_repr(self)

    def __str__(self) -> str:
        return _text.population_text(self)

    def _repr_html_(self) -> str:
        """Geometry, model, every attribute's min/mean/max and an image of ``r`` (2-D, 3-D), for notebooks."""
        return _html.population_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)

    def plot(self, variable: str = "r", ax: Any = None, rgb: bool | None = None, **kwargs: Any) -> Any:
        """Draw a variable in the population's geometry (see :func:`ratenet.display.plots.plot_values`).

        A 1-D population gives a line against the rank, a 2-D one an image,
        a 3-D one with 3 channels an RGB image (``rgb=False`` for panels) and
        other channel counts one image per channel.

        Returns
        -------
        matplotlib.axes.Axes, or a list of them (one per channel)

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import numpy as np
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create((2, 3), Neuron(parameters="r = 0.0"))
        >>> pop.r = np.arange(6.0).reshape(2, 3)
        >>> ax = pop.plot()
        >>> ax.images[0].get_array().tolist()
        [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        """
        return _plots.plot_values(self, variable, ax=ax, rgb=rgb, **kwargs)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.attributes) | set(self.neuron_type.functions))


def model_namespace(neuron: Neuron, ns: dict[str, Any], shape: tuple[int, ...], clock: Clock, dt: float,
                    rng: np.random.Generator, dtype: Any, locality: Mapping[str, str],
                    batch_rngs: Sequence[np.random.Generator] | None = None) -> dict[str, Any]:
    """Add to ``ns`` what a neuron model's generated code reads besides its arrays.

    With ``batch_rngs`` (one generator per sample) the arrays have a leading
    batch axis: random draws come from each sample's generator, global
    operations reduce each sample separately.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> ns = model_namespace(Neuron(equations="r = t"), {}, (2,), Clock(), 0.5, np.random.default_rng(), np.float64,
    ...                      {"r": "local"})
    >>> ns["dt"], float(ns["t"])
    (0.5, 0.0)
    """
    ns.update(numpy_namespace())
    ns["t"] = clock.t
    ns["dt"] = dt
    for name, constant in neuron.constants.items():
        if name not in locality:
            ns[name] = constant.array
    ns.update(user_function_namespace(neuron.functions.values()))
    for kind in ("float", "int", "bool"):
        ns[f"_cast_{kind}"] = _cast(_DTYPES.get(kind, dtype))
    for dist in eqmod.DISTRIBUTIONS:
        for level, size in (("local", shape), ("population", ())):
            ns[f"_rnd_{level}_{dist}"] = _drawer(dist, rng, size) if batch_rngs is None else \
                _batch_drawer(dist, batch_rngs, size, len(shape))
    if batch_rngs is not None:
        for name, reduce in _GLOBAL_PER_SAMPLE.items():
            ns[f"_gop_{name}"] = _per_sample(reduce, len(shape))
    return ns


def _per_sample(reduce: Callable[[np.ndarray], Any], ndim: int) -> Callable[[np.ndarray], np.ndarray]:
    """A global operation over each sample of a batch: ``(B, *geometry)`` -> ``(B, 1, ...)``.

    Each sample is reduced by the same call as an unbatched population (a loop over the
    samples): the result is bit for bit that of separate runs.
    """
    def apply(x: np.ndarray) -> np.ndarray:
        values = np.array([reduce(sample) for sample in x])
        return values.reshape((len(values),) + (1,) * ndim)

    return apply


def _batch_drawer(name: str, rngs: Sequence[np.random.Generator], size: tuple[int, ...],
                  ndim: int) -> Callable[..., Any]:
    """Draws with a batch axis: sample ``b`` from its own generator (arguments taken sample by sample)."""
    batch = len(rngs)
    shape = (batch,) + (size if size else (1,) * ndim)

    def pick(arg: Any, b: int) -> Any:
        return arg[b] if np.ndim(arg) == ndim + 1 and np.shape(arg)[0] == batch else arg

    def draw(*args: Any) -> Any:
        where = args[:1] if args and isinstance(args[0], tuple) else ()
        rest = args[len(where):]
        drawn = [draw_in_equation(name, rng, size, where + tuple(pick(a, b) for a in rest))
                 for b, rng in enumerate(rngs)]
        return np.reshape(drawn, shape)

    return draw


def _cast(dtype: Any) -> Callable[[Any], Any]:
    """A function converting a value to ``dtype`` (a function: the code generator looks at what the
    namespace holds, and a NumPy type would pass for an array of its own)."""
    kind = np.dtype(dtype)

    def cast(value: Any) -> Any:
        return kind.type(value)

    return cast


def _drawer(name: str, rng: np.random.Generator, size: tuple[int, ...]) -> Callable[..., Any]:
    """A function drawing ``size`` values of distribution ``name`` (its arguments given at each call)."""
    def draw(*args: Any) -> Any:
        return draw_in_equation(name, rng, size, args)

    return draw


def update_function(neuron: Neuron, ns: dict[str, Any], locality: Mapping[str, str], targets: Sequence[str],
                    globals_: Sequence[tuple[str, ...]], name: str, dtype: Any, batched: bool = False
                    ) -> Callable[[], Any]:
    """Compile a neuron model's equations into one update function over ``ns``.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> model = Neuron(parameters="k = 2.0", equations="r = k * sum(exc)")
    >>> ns = {"k": np.full(2, 2.0), "r": np.zeros(2), "_sum_exc": np.array([1.0, 3.0])}
    >>> _ = model_namespace(model, ns, (2,), Clock(), 1.0, np.random.default_rng(), np.float64,
    ...                     {"k": "local", "r": "local"})
    >>> update_function(model, ns, {"k": "local", "r": "local"}, ["exc"], [], "update", np.float64)()
    >>> ns["r"].tolist()
    [2.0, 6.0]
    """
    # in a batch, population-level values are arrays (one value per sample) updated in place
    code = update_code(neuron.equations, lambda var: not batched and locality.get(var, "local") != "local")
    prelude: list[ast.stmt] = []
    if neuron.uses_sum_all:
        total: ast.expr = ast.Constant(value=0.0)
        for target in targets:
            total = ast.BinOp(left=total, op=ast.Add(), right=ast.Name(id=f"_sum_{target}", ctx=ast.Load()))
        prelude.append(ast.Assign(targets=[ast.Name(id="_sumall", ctx=ast.Store())], value=total))
    after = global_operation_code((f"_g_{op}_{var}", op, var) for _, op, var in globals_)
    rebinds = set(code.rebinds) | {f"_g_{op}_{var}" for _, op, var in globals_}
    return build_function(prelude + code.statements + after, ns, name, globals_=rebinds, dtype=dtype)


def uses_random(model: Any) -> bool:
    """Whether a model's equations draw random numbers (its updates then consume the network's generator).

    Examples
    --------
    >>> uses_random(Neuron(equations="r = Uniform(0, 1)")), uses_random(Neuron(equations="r = 1.0"))
    (True, False)
    """
    return any(classify(s)[0] == "random" for eq in model.equations for s in eq.reads())


def is_pure(neuron: Neuron) -> bool:
    """Whether an update only recomputes values from inputs: same sums and parameters, same result.

    True for assignments (``=`` only) that read parameters, sums, constants,
    functions and variables assigned earlier in the same update; false as soon
    as there is an ODE, time, randomness, a global operation or a variable read
    before it is assigned (state carried from the previous step).

    Examples
    --------
    >>> is_pure(Neuron(equations="r = sum(exc) : min=0.0")), is_pure(Neuron(equations="r = r + sum(exc)"))
    (True, False)
    """
    if not neuron.equations:
        return False
    parameters = set(neuron.parameter_names)
    assigned: set[str] = set()
    for eq in neuron.equations:
        if eq.kind != "assign" or eq.op != "=":
            return False
        for symbol in eq.reads():
            kind = classify(symbol)
            if kind[0] in ("sum", "sumall", "function", "user") or symbol == "dt":
                continue
            if kind[0] == "name" and (symbol in parameters or symbol in neuron.constants or symbol in assigned):
                continue
            return False
        assigned.add(eq.target)
    return True


def _index(pop: Population, geometry: tuple[int, ...], ranks: np.ndarray, index: Any):
    """Index a population (or view) like a NumPy array of its ranks."""
    grid = ranks.reshape(geometry)
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        # As in ANNarchy, a single integer is a rank, whatever the geometry.
        if not -len(ranks) <= int(index) < len(ranks):
            raise IndexError(f"{pop._owner()}: index {index} is out of range for {len(ranks)} neurons")
        return IndividualNeuron(pop, int(ranks[index]))
    try:
        if isinstance(index, tuple) and all(isinstance(i, numbers.Integral) for i in index) \
                and len(index) == len(geometry):
            return IndividualNeuron(pop, int(grid[index]))
        if isinstance(index, (list, np.ndarray)) and np.asarray(index).dtype.kind in "iu":
            selected = ranks[np.asarray(index)]
        elif isinstance(index, slice):
            # As in ANNarchy, a single slice is a range of ranks, whatever the geometry.
            selected = ranks[index]
        else:
            selected = grid[index]
    except (IndexError, TypeError) as exc:
        raise IndexError(f"{pop._owner()}: cannot index with {index!r}: {exc}") from None
    selected = np.asarray(selected)
    if selected.size == 0:
        raise IndexError(f"{pop._owner()}: the index {index!r} selects no neuron")
    return PopulationView(pop, selected.reshape(-1), geometry=selected.shape if selected.ndim else (1,))


class PopulationView(_Attributes):
    """A subset of a population's neurons, usable as projection pre/post and for get/set.

    Created by slicing: ``pop[2:5]``, ``pop[:, 3]``, ``pop[[0, 4, 7]]``.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create((3, 4), Neuron(parameters="r = 0.0"))
    >>> column = pop[:, 1]
    >>> column.size, column.ranks.tolist()
    (3, [1, 5, 9])
    >>> column.r = 1.0
    >>> pop.r[:, 1].tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, population: Population, ranks: Sequence[int] | np.ndarray,
                 geometry: tuple[int, ...] | None = None) -> None:
        ranks = np.asarray(ranks, dtype=np.int64).reshape(-1)
        if ranks.size == 0:
            raise ValidationError("PopulationView", "ranks", "must select at least one neuron", got=ranks.tolist())
        if ranks.min() < 0 or ranks.max() >= population.size:
            raise ValidationError("PopulationView", "ranks", f"must lie in [0, {population.size})", got=ranks)
        if len(np.unique(ranks)) != len(ranks):
            raise ValidationError("PopulationView", "ranks", "must not repeat a neuron", got=ranks)
        object.__setattr__(self, "population", population)
        object.__setattr__(self, "ranks", ranks)
        object.__setattr__(self, "size", int(ranks.size))
        object.__setattr__(self, "geometry", tuple(geometry) if geometry is not None else (int(ranks.size),))
        if int(np.prod(self.geometry)) != self.size:
            object.__setattr__(self, "geometry", (self.size,))

    network = property(lambda self: self.population.network)
    name = property(lambda self: f"{self.population.name}[{_describe_ranks(self.ranks)}]")
    neuron_type = property(lambda self: self.population.neuron_type)
    attributes = property(lambda self: self.population.attributes)
    parameters = property(lambda self: self.population.parameters)
    variables = property(lambda self: self.population.variables)
    dimension = property(lambda self: len(self.geometry))

    def _owner(self) -> str:
        return f"PopulationView '{self.name}'"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        pop = self.population
        if name in pop._locality:
            if pop._locality[name] != "local":
                return getattr(pop, name)
            # as in ANNarchy: one value per neuron of the view, flat, in the order of its ranks
            # (in a batched network: one such row per sample)
            if pop.batch is not None:
                value = pop._ns[name].reshape(pop.batch, -1)[:, self.ranks]
            else:
                value = pop._ns[name].reshape(-1)[self.ranks]
            return read_only(value, self._owner(), name, self.name)
        if name in pop.neuron_type.functions:
            return pop.neuron_type.functions[name]
        raise self._unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        pop = self.population
        if name not in pop._locality:
            raise self._unknown(name)
        if pop._locality[name] != "local":
            pop._refuse_shared(name, value, self._owner())
            pop._assign_promoting(name, value, self.ranks, shape=self.geometry, owner=self._owner())
            return
        pop._assign(name, value, self.ranks, shape=self.geometry, owner=self._owner())

    def sum(self, target: str) -> np.ndarray:
        """``sum(target)`` of the neurons in the view."""
        pop = self.population
        if pop.batch is not None:  # one flat row per sample
            return pop.sum(target).reshape(pop.batch, -1)[:, self.ranks]
        return pop.sum(target).reshape(-1)[self.ranks]  # flat, in rank order, as ANNarchy

    def __getitem__(self, index: Any):
        return _index(self.population, self.geometry, self.ranks, index)

    def __len__(self) -> int:
        return self.size

    def __add__(self, other: "PopulationView") -> "PopulationView":
        if not isinstance(other, (PopulationView, IndividualNeuron)) or other.population is not self.population:
            raise ValidationError(self._owner(), "+", "can only join views of the same population", got=other)
        ranks = np.concatenate([self.ranks, np.atleast_1d(other.ranks)])
        return PopulationView(self.population, ranks)

    def rank_from_coordinates(self, coord: Sequence[int], local: bool = False) -> int:
        """Rank in the population (or in the view when ``local``) of coordinates within the view."""
        coords = _coordinates(coord)
        try:
            local_rank = int(np.ravel_multi_index(coords, self.geometry))
        except ValueError:
            raise ValidationError(self._owner(), "coord", f"must lie within {self.geometry}", got=coords) from None
        return local_rank if local else int(self.ranks[local_rank])

    def coordinates_from_rank(self, rank: int) -> tuple[int, ...]:
        """Coordinates in the population of population rank ``rank``."""
        return self.population.coordinates_from_rank(rank)

    def normalized_coordinates_from_rank(self, rank: int, norm: float = 1.0) -> tuple[float, ...]:
        """Normalized coordinates in the population of population rank ``rank``."""
        return self.population.normalized_coordinates_from_rank(rank, norm)

    def __repr__(self) -> str:
        return _text.view_repr(self)

    def __str__(self) -> str:
        return _text.view_text(self)

    def _repr_html_(self) -> str:
        """The view's neurons and values, for notebooks."""
        return _html.view_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)

    def plot(self, variable: str = "r", ax: Any = None, rgb: bool | None = None, **kwargs: Any) -> Any:
        """Draw a variable of the view in its geometry (see :meth:`Population.plot`)."""
        return _plots.plot_values(self, variable, ax=ax, rgb=rgb, **kwargs)


def _describe_ranks(ranks: np.ndarray) -> str:
    if len(ranks) > 1 and np.all(np.diff(ranks) == 1):
        return f"{ranks[0]}:{ranks[-1] + 1}"
    shown = ",".join(str(r) for r in ranks[:4])
    return shown + (",..." if len(ranks) > 4 else "")


class IndividualNeuron:
    """One neuron of a population: ``pop.neuron(3).r``, ``pop[1, 2].r = 0.5``.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create((2, 2), Neuron(parameters="r = 0.0"))
    >>> pop.neuron(1, 0).r = 3.0
    >>> pop.r.tolist()
    [[0.0, 0.0], [3.0, 0.0]]
    """

    def __init__(self, population: Population, rank: int) -> None:
        object.__setattr__(self, "population", population)
        object.__setattr__(self, "rank", int(rank))

    @property
    def ranks(self) -> np.ndarray:
        return np.array([self.rank])

    @property
    def coordinates(self) -> tuple[int, ...]:
        return self.population.coordinates_from_rank(self.rank)

    @property
    def network(self) -> Any:
        return self.population.network

    def __getattr__(self, name: str) -> Any:
        pop = self.population
        if name in pop._locality:
            if pop.batch is not None:  # one value per sample
                values = getattr(pop, name)
                return values if pop._locality[name] != "local" else values.reshape(pop.batch, -1)[:, self.rank]
            value = pop._ns[name]
            return value.item() if pop._locality[name] != "local" else value.reshape(-1)[self.rank].item()
        raise AttributeError(f"neuron {self.rank} of {pop._owner()} has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        pop = self.population
        if name not in pop._locality:
            raise pop._unknown(name)
        if pop._locality[name] != "local":
            pop._refuse_shared(name, value, pop._owner())
        if np.ndim(value) != 0 and not (pop.batch is not None and np.shape(value) == (pop.batch,)):
            expected = "a single number" + ("" if pop.batch is None else f" or one per sample ({pop.batch},)")
            raise ValidationError(f"{pop._owner()} (neuron {self.rank})", name, f"expected {expected}",
                                  got=value)
        if np.ndim(value):
            value = np.asarray(value).reshape(-1, 1)
        if pop._locality[name] != "local":
            pop._assign_promoting(name, value, np.array([self.rank]))
        else:
            pop._assign(name, value, np.array([self.rank]))

    def __add__(self, other: Any) -> PopulationView:
        return PopulationView(self.population, np.array([self.rank])) + other

    def __repr__(self) -> str:
        pop = self.population
        values = ", ".join(f"{n}={getattr(self, n)!r}" for n in pop.attributes)
        return f"<neuron {self.rank} of {pop.name}: {values}>"


# ------------------------------------------------------------------ inputs


_INPUT_NEURON: list[Neuron] = []


def input_neuron() -> Neuron:
    """The model of populations set from Python: one parameter, ``r``.

    Examples
    --------
    >>> input_neuron().parameter_names, input_neuron() is input_neuron()
    (['r'], True)
    """
    if not _INPUT_NEURON:
        _INPUT_NEURON.append(Neuron(parameters="r = 0.0", name="Input"))
    return _INPUT_NEURON[0]


class InputArray(Population):
    """A population whose rates are set from Python: ``inp.r = values``.

    Simulation never changes ``r``.

    Parameters
    ----------
    geometry : int or tuple of int
    name : str, optional
    network : Network, optional

    Examples
    --------
    >>> from ratenet import Network
    >>> net = Network()
    >>> inp = InputArray(3, network=net)
    >>> inp.r = [0.1, 0.2, 0.3]
    >>> net.simulate(5.0); inp.r.tolist()
    [0.1, 0.2, 0.3]
    """

    def __init__(self, geometry: int | Sequence[int] | None = None, name: str | None = None,
                 network: "Network | None" = None) -> None:
        if geometry is None:
            raise ValidationError("InputArray", "geometry", "is required (an int or a tuple of ints)", got=None)
        super().__init__(geometry, input_neuron(), name=name, network=network)


class TimedArray(Population):
    """A population that replays a sequence of rate arrays.

    ``rates[i]`` becomes ``r`` at time ``i * schedule`` (every step when
    ``schedule`` is 0); after the last one ``r`` keeps its value, unless a
    ``period`` restarts the sequence every ``period`` ms.

    Parameters
    ----------
    rates : array_like, optional
        Shape ``(n, *geometry)``; in a batched network (``Network(batch=B)``)
        also ``(n, B, *geometry)``: one sequence per sample.  May be left out
        when ``geometry`` is given: ``r`` stays 0 until :meth:`update` brings the rates.
    geometry : int or tuple, optional
        Deduced from ``rates`` when omitted (in a batched network, rates of
        shape ``(n, B, ...)`` are taken as one sequence per sample: give the
        geometry when its first axis has size B).
    schedule : float
        Time (ms) each array stays; one step when 0.
    period : float
        Restart time (ms); no restart when negative.
    name : str, optional
    network : Network, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network
    >>> net = Network()
    >>> inp = TimedArray(np.array([[1.0], [2.0], [3.0]]), network=net)
    >>> net.simulate(2.0); inp.r.tolist()
    [2.0]
    >>> net.simulate(5.0); inp.r.tolist()
    [3.0]
    """

    def __init__(self, rates: Any = None, geometry: int | Sequence[int] | None = None, schedule: float = 0.0,
                 period: float = -1.0, name: str | None = None, network: "Network | None" = None) -> None:
        owner = f"TimedArray '{name}'" if name else "TimedArray"
        if rates is None:  # as in ANNarchy 4.8: the rates come later, through update()
            if geometry is None:
                raise ValidationError(owner, "rates", "are needed to deduce the geometry: give rates, or a geometry "
                                                      "and the rates later with update(rates)")
            self._check_timing(schedule, period, owner)
            super().__init__(geometry, input_neuron(), name=name, network=network)
            return
        owner_net = network if network is not None else default_network()
        array = self._check_rates(rates, geometry, name, owner_net.allow_nonfinite, owner_net.batch)
        batch = owner_net.batch
        self._check_timing(schedule, period, owner)
        if geometry is None:
            per_sample = batch is not None and array.ndim > 2 and array.shape[1] == batch
            geometry = array.shape[2:] if per_sample else array.shape[1:]
        super().__init__(geometry, input_neuron(), name=name, network=network)
        self.update(array, schedule, period)

    @staticmethod
    def _check_timing(schedule: Any, period: Any, owner: str) -> None:
        for arg, value in (("schedule", schedule), ("period", period)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValidationError(owner, arg, "must be a finite number of ms", got=value)
        if schedule < 0:
            raise ValidationError(owner, "schedule", "must be >= 0", got=schedule)


    @staticmethod
    def _check_rates(rates: Any, geometry: Any, name: str | None, allow_nonfinite: bool = False,
                     batch: int | None = None) -> np.ndarray:
        owner = f"TimedArray '{name}'" if name else "TimedArray"
        try:
            array = np.asarray(rates, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(owner, "rates", "must be an array of numbers", got=rates) from None
        if array.ndim < 2:
            raise ValidationError(owner, "rates", "must have shape (steps, *geometry)",
                                  got=f"shape {array.shape}", got_repr=False)
        if geometry is not None:
            geo = check_geometry(geometry, owner)
            per_sample = batch is not None and array.shape[1:] == (batch,) + geo  # one sequence per sample
            if not per_sample and array.shape[1:] != geo and int(np.prod(array.shape[1:])) != int(np.prod(geo)):
                expected = ", ".join(["steps"] + [str(g) for g in geo])
                each = "" if batch is None else " or (" + ", ".join(["steps", str(batch)] + [str(g) for g in geo]) \
                    + ") (one sequence per sample)"
                raise ValidationError(owner, "rates", f"must have shape ({expected}){each}",
                                      got=f"shape {array.shape}", got_repr=False)
            if not per_sample:
                array = array.reshape((array.shape[0],) + geo)
        if array.shape[0] == 0:
            raise ValidationError(owner, "rates", "must hold at least one array of rates (shape (steps, *geometry) "
                                                  "with steps >= 1)", got=f"shape {array.shape}", got_repr=False)
        if 0 in array.shape[1:]:
            raise ValidationError(owner, "rates", "must hold at least one neuron per array",
                                  got=f"shape {array.shape}", got_repr=False)
        if not allow_nonfinite and not np.isfinite(array).all():
            bad = np.argwhere(~np.isfinite(array))[0]
            raise ValidationError(owner, "rates", f"{NONFINITE}; rates{list(int(i) for i in bad)} is "
                                                  f"{array[tuple(bad)]}", got=f"shape {array.shape}", got_repr=False)
        return array

    def update(self, rates: Any, schedule: float = 0.0, period: float = -1.0) -> None:
        """Replace the sequence (and its timing), or give it to a TimedArray created without rates.

        Examples
        --------
        >>> import numpy as np
        >>> from ratenet import Network
        >>> net = Network()
        >>> inp = TimedArray(geometry=2, network=net)
        >>> net.simulate(1.0); inp.r.tolist()
        [0.0, 0.0]
        >>> inp.update(np.array([[1.0, 2.0], [3.0, 4.0]])); net.simulate(1.0); inp.r.tolist()
        [3.0, 4.0]
        """
        array = self._check_rates(rates, self.geometry, self.name, self.network.allow_nonfinite, self.batch)
        self._check_timing(schedule, period, self._owner())
        object.__setattr__(self, "_rates", np.ascontiguousarray(array, dtype=self.dtype))
        object.__setattr__(self, "_schedule", float(schedule))
        object.__setattr__(self, "_period", float(period))
        self._state.role = "timed"
        self._state.make_replay = self._replay_function
        self.network.registry.structure_changed()

    def copy_to(self, network: "Network") -> "TimedArray":
        """A copy in ``network`` (see :meth:`Population.copy_to`) replaying the rates given last, with their timing.

        Examples
        --------
        >>> import numpy as np
        >>> from ratenet import Network
        >>> inp = TimedArray(geometry=2, network=Network())
        >>> inp.update(np.array([[1.0, 2.0]]))
        >>> other = Network(); copy = inp.copy_to(other); other.simulate(1.0); copy.r.tolist()
        [1.0, 2.0]
        """
        copy = super().copy_to(network)
        assert isinstance(copy, TimedArray)
        if "_rates" in self.__dict__:
            copy.update(self._rates, self._schedule, self._period)
        return copy

    def _replay_function(self, clock: Clock) -> Callable[[], bool]:
        """A function writing this step's rates into ``r``; it returns whether it wrote."""
        dt = self.network.dt
        every = max(1, int(round(self._schedule / dt))) if self._schedule > 0 else 1
        period = int(round(self._period / dt)) if self._period > 0 else 0
        rates, r = self._rates, self._ns["r"]
        count = len(rates)

        def replay() -> bool:
            step = clock.step
            if period:
                step %= period
            if step % every == 0:
                index = step // every
                if index < count:
                    r[...] = rates[index]
                    return True
            return False

        replay.__doc__ = f"r = rates[step // {every}]" + (f" (period {period} steps)" if period else "")
        return replay
