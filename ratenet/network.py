"""Networks: objects, time, dt, the random generator, and the plan that runs them.

One simulation step runs, in this order:

1. every projection writes (or adds) its input into ``post``'s ``sum(target)``,
   reading ``pre.r`` as it was at the end of the previous step (targets that
   no projection feeds stay at 0);
2. every population updates its variables (global operations such as
   ``mean(r)`` are computed right after, and are therefore seen one step late
   by the equations);
3. learning rules run, seeing this step's rates;
4. monitors record;
5. ``t += dt``.

The objects register with the network's :class:`~ratenet.registry.Registry`;
the network builds a :mod:`step plan <ratenet.plan>` from them (again when
their structure changes) and runs it.  Module-level functions (``simulate``,
``setup``...) are in :mod:`ratenet.api`.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ._lazy import LazyModule
from ._memory import check_bytes
from .exceptions import RatenetWarning, ValidationError
from .io import load_objects, save_objects
from .monitor import Monitor
from .plan import Plan, build_plan, run, steps_for
from .population import IndividualNeuron, Population, PopulationView
from .projections.projection import Projection, check_end, select
from .registry import Registry, default_network, has_default_network, set_default_network

if TYPE_CHECKING:  # pragma: no cover
    from .neurons import Neuron, Synapse
    from .display import html as _html, plots as _plots, text as _text
    from . import parallel as _parallel
else:  # imported on first use (see ratenet/_lazy.py)
    _html = LazyModule("ratenet.display.html")
    _plots = LazyModule("ratenet.display.plots")
    _text = LazyModule("ratenet.display.text")
    _parallel = LazyModule("ratenet.parallel")

__all__ = ["Network"]

def _user_frame(obj: Any) -> dict[str, Any]:
    """Where a warning about ``obj``'s creation points: the code that created it.

    Python 3.12+ skips every frame inside ratenet; before, the stack level
    counts the constructors that run (one per class of ``obj`` defining
    ``__init__``, as ``ImagePopulation`` does on top of ``Population``) and the
    registry's call to :meth:`Network._adding`.
    """
    if sys.version_info >= (3, 12):
        return {"skip_file_prefixes": (os.path.dirname(os.path.abspath(__file__)),)}
    constructors = sum(1 for cls in type(obj).__mro__ if "__init__" in cls.__dict__ and cls is not object)
    return {"stacklevel": 3 + constructors}


_IGNORED = {"paradigm", "verbose", "suppress_warnings", "show_time", "disable_omp",
            "sparse_matrix_format", "sparse_matrix_storage_order", "only_int_idx_type", "visible_cores", "debug",
            "profiling", "method"}


#: Constructor keywords that belong to Network itself, not to a subclass's ``__init__``.
_BASE_KEYWORDS = ("dt", "seed", "dtype", "name", "num_threads", "reference", "batch")


class _NetworkType(type):
    """Builds networks the way ANNarchy 5 does, so a subclass's ``__init__`` need not call ``super().__init__()``.

    ``Network.__init__`` runs first with the keywords that are Network's own
    (``dt``, ``seed``, ``dtype``, ``name``, ``num_threads``, ``reference``, ``batch``),
    then the subclass's ``__init__`` with the rest (and with those of
    Network's keywords it declares too).  A ``super().__init__(dt=...)``
    inside it applies what the caller did not give.  The arguments are kept
    (``net.init_args``) so a copy can be built again.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        init = cls.__init__  # type: ignore[misc]
        if init is Network.__init__:
            net = super().__call__(*args, **kwargs)
        else:
            own_parameters = inspect.signature(init).parameters
            base = {key: kwargs.pop(key) for key in _BASE_KEYWORDS if key in kwargs}
            net = cls.__new__(cls)  # type: ignore[call-overload]  # the class being built, not a metaclass
            Network.__init__(net, **base)
            net.__dict__["_given"] = set(base)  # a super().__init__() call in init does not override these
            init(net, *args, **kwargs, **{key: value for key, value in base.items() if key in own_parameters})
            kwargs = {**base, **kwargs}
        net.__dict__["_init_call"] = (tuple(args), dict(kwargs))
        return net


class Network(metaclass=_NetworkType):
    """A set of populations, projections and monitors with its own time, dt and RNG.

    Parameters
    ----------
    everything : bool
        ANNarchy 4.x: start with a copy of every population, projection and
        monitor of the default network (see :meth:`add`).
    dt : float, optional
        Step size in ms; the default network's (``setup(dt=...)``) when omitted.
    seed : int, optional
        Seed of the network's :class:`numpy.random.Generator`; the same seed
        gives the same simulation.  When omitted, the default network's seed
        (``setup(seed=...)``; none by default: a fresh generator).
    dtype : {numpy.float64, numpy.float32}
        Floating-point type of every array.
    num_threads : int
        Threads for the transmissions of a step (0: one per core).
    reference : bool
        Run the **reference** plan: one update per population and one product
        per projection, nothing stacked, fused, skipped or threaded.  It is
        the plainest reading of the semantics, slower, and what the default
        plan is tested against: both give the same numbers, bit for bit.
    batch : int, optional
        Run ``batch`` samples at once: every population array gains a leading
        axis of that size (``pop.r.shape == (batch, *geometry)``),
        population-level values hold one value per sample, weights are shared
        by the samples.  Sample ``b`` draws its random numbers from a generator
        of its own, spawned from the seed (``numpy.random.SeedSequence(seed)``,
        child ``b``): its values do not depend on the batch size.  None (the
        default) is no batch axis at all.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(dt=0.5, seed=1)
    >>> pop = net.create(4, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
    >>> net.simulate(10.0)
    >>> net.get_time(), net.get_current_step()
    (10.0, 20)
    >>> ref = Network(dt=0.5, seed=1, reference=True)
    >>> same = ref.create(4, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
    >>> ref.simulate(10.0); bool((same.r == pop.r).all())
    True

    A batch of 3 samples, each with its own time constant:

    >>> batched = Network(dt=0.5, batch=3)
    >>> pops = batched.create(4, Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = 1.0"))
    >>> pops.tau = [5.0, 10.0, 20.0]
    >>> batched.simulate(10.0); pops.r.shape
    (3, 4)
    """

    name: str | None  #: the name given at creation (``Network(name=...)``), or None

    def __init__(self, everything: bool = False, *, dt: float | None = None, seed: int | None = None,
                 dtype: Any = np.float64, name: str | None = None, num_threads: int = 1,
                 reference: bool = False, batch: int | None = None) -> None:
        if not isinstance(everything, bool):
            raise ValidationError("Network", "everything", "must be True or False (pass dt= and seed= as keywords)",
                                  got=everything)
        if "registry" in self.__dict__:
            # Already built (a subclass's __init__ calling super().__init__()): apply what the caller did not give.
            given = self.__dict__.get("_given", set())
            self.setup(dt=None if "dt" in given else dt, seed="keep" if seed is None or "seed" in given else seed)
            if batch is not None and "batch" not in given:
                self.setup(batch=batch)
            options = {key: value for key, value in (("dtype", dtype), ("num_threads", num_threads),
                                                     ("reference", reference)) if key not in given}
            self.setup(**options)
            if name is not None and "name" not in given:
                self.name = name
            return
        inherited = default_network() if has_default_network() else None
        if dt is None:
            dt = inherited.dt if inherited is not None else 1.0
        if seed is None and inherited is not None:
            seed = inherited.seed
        self.name = name
        self._copies: dict[int, tuple[Any, Any]] = {}
        self._callbacks: list[Any] = []
        self._callbacks_enabled = True
        self.registry = Registry()
        self._num_threads = 1
        self._check_finite = False
        self._allow_nonfinite = False
        self._skip_unchanged = True
        self._reference = False
        self._plan: Plan | None = None
        self._compiled = False
        self._warned_growth = False
        self.registry.adding = self._adding
        self._loaded_histories: dict[tuple[str, str], np.ndarray] = {}
        #: Whether projections may add and remove synapses as their synapse's creating/pruning rules say
        #: (``setup(structural_plasticity=True)``, as ANNarchy 4 asks before ``start_pruning``).
        self.structural_plasticity = False
        self._dt = 1.0
        self._dtype = np.dtype(np.float64)
        self._batch: int | None = None
        self._sample_rngs: list[np.random.Generator] = []
        self.setup(dt=dt, seed=seed, dtype=dtype, num_threads=num_threads, reference=reference, batch=batch)
        if everything and inherited is not None:
            self.add(list(inherited.populations) + list(inherited.projections) + list(inherited.monitors))

    @property
    def init_args(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments this network was created with, ``(args, kwargs)``: ``type(net)(*args, **kwargs)``
        builds it again (a subclass whose ``__init__`` builds the network, in another process for instance).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> class Pair(Network):
        ...     def __init__(self, size, rate=1.0):
        ...         self.pop = self.create(size, Neuron(parameters=f"r = {rate}"))
        >>> net = Pair(3, rate=2.0, dt=0.5)
        >>> net.init_args
        ((3,), {'dt': 0.5, 'rate': 2.0})
        >>> again = type(net)(*net.init_args[0], **net.init_args[1])
        >>> again.dt, again.pop.r.tolist()
        (0.5, [2.0, 2.0, 2.0])
        """
        args, kwargs = self.__dict__.get("_init_call", ((), {}))
        return tuple(args), dict(kwargs)

    def config(self, **options: Any) -> None:
        """ANNarchy 5's name for :meth:`setup`: ``net.config(dt=0.1, seed=1, num_threads=2)``.

        Examples
        --------
        >>> from ratenet import Network
        >>> net = Network(); net.config(dt=0.25); net.dt
        0.25
        """
        self.setup(**options)

    def set_seed(self, seed: int, use_seed_seq: bool = True) -> None:
        """Seed the network's random generator (ANNarchy 4.x; what ``setup(seed=...)`` does).

        Values already drawn keep their values; what is drawn from now on
        (connectors, random equations) follows the new seed.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(3, Neuron(equations="r = Uniform(0, 1)"))
        >>> net.set_seed(5); net.simulate(1.0); first = pop.r
        >>> net.set_seed(5); net.simulate(1.0); bool((first == pop.r).all())
        True
        """
        self.setup(seed=seed)

    # ------------------------------------------------------------ configuration
    def setup(self, dt: float | None = None, seed: int | None | str = "keep", dtype: Any = None,
              **options: Any) -> None:
        """Change dt, the seed, the dtype or an option.

        ``dtype`` can only change while the network is empty.  Options:
        ``num_threads``, ``check_finite``, ``allow_nonfinite``, ``reference``, ``batch`` (see :class:`Network`;
        ``batch`` can only change while the network is empty),
        ``precision="float"`` (``dtype=numpy.float32``), ``structural_plasticity``
        (let projections run their synapse's creating/pruning rules).  Options that ANNarchy
        accepts but that have no meaning here (``paradigm``, ``verbose``...)
        are accepted and ignored.
        """
        owner = "setup"
        for key, value in options.items():
            if key == "num_threads":
                self.num_threads = value
            elif key == "check_finite":
                self.check_finite = bool(value)
            elif key == "allow_nonfinite":
                self.allow_nonfinite = bool(value)
            elif key == "reference":
                self.reference = bool(value)
            elif key == "structural_plasticity":
                self.structural_plasticity = bool(value)
            elif key == "batch":
                self._set_batch(value)
            elif key == "precision":
                if value not in ("float", "double"):
                    raise ValidationError(owner, "precision", "must be 'float' or 'double'", got=value)
                dtype = np.float32 if value == "float" else np.float64
            elif key not in _IGNORED:
                raise ValidationError(owner, key, "unknown option (known: dt, seed, dtype, precision, num_threads, "
                                                  "check_finite, allow_nonfinite, reference, batch, "
                                                  "structural_plasticity)", got=key)
        if dt is not None:
            if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
                raise ValidationError("Network", "dt", "must be a positive number of ms", got=dt)
            self._dt = float(dt)
            self.registry.structure_changed()
        if seed != "keep":
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
                raise ValidationError("Network", "seed", "must be a non-negative integer or None", got=seed)
            self.seed = None if seed is None else int(seed)
            # Made on first use: numpy.random (with OpenSSL, through secrets) is a third of what
            # `import ratenet` would otherwise cost, for the default network made at import.
            self._rng: np.random.Generator | None = None
            self._rng_state: Any = None  # what reset(reseed_rng=True) returns to
            self._spawn_sample_rngs()
            self.registry.structure_changed()  # generated code holds the generator
        if dtype is not None:
            try:
                kind = np.dtype(dtype)
            except TypeError:
                kind = None
            if kind not in (np.dtype(np.float64), np.dtype(np.float32)):
                raise ValidationError("Network", "dtype", "must be numpy.float64 or numpy.float32", got=dtype)
            if kind != self._dtype and (self.populations or self.projections):
                raise ValidationError("Network", "dtype", "cannot change once populations exist; call it first",
                                      got=dtype)
            self._dtype = kind

    def _set_batch(self, value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
            raise ValidationError("Network", "batch", "must be a positive integer (samples run at once) or None",
                                  got=value)
        batch = None if value is None else int(value)
        if batch == self._batch:
            return
        if self.populations or self.projections:
            raise ValidationError("Network", "batch", "cannot change once populations exist; call it first",
                                  got=value)
        self._batch = batch
        self._spawn_sample_rngs()
        self.registry.structure_changed()

    def _spawn_sample_rngs(self) -> None:
        """One generator per sample, child ``b`` of the seed's SeedSequence (independent of the batch size)."""
        if self._batch is None:
            self._sample_rngs = []
            return
        seed = getattr(self, "seed", None)
        root = np.random.SeedSequence(seed)
        self._sample_rngs = [np.random.default_rng(child) for child in root.spawn(self._batch)]

    @property
    def rng(self) -> np.random.Generator:
        """The network's random generator (a :class:`numpy.random.Generator` seeded with ``seed``).

        Connectors, random initial values and the random functions of equations
        draw from it.  It is made on first use; ``setup(seed=...)`` replaces it.

        Examples
        --------
        >>> from ratenet import Network
        >>> a, b = Network(seed=3), Network(seed=3)
        >>> float(a.rng.random()) == float(b.rng.random())
        True
        """
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
            self._rng_state = self._rng.bit_generator.state
        return self._rng

    @rng.setter
    def rng(self, generator: np.random.Generator) -> None:
        if not isinstance(generator, np.random.Generator):
            raise ValidationError("Network", "rng", "must be a numpy.random.Generator", got=generator)
        self._rng = generator
        self._rng_state = generator.bit_generator.state
        self.registry.structure_changed()  # generated code holds the generator

    @property
    def batch(self) -> int | None:
        """Samples run at once (None: no batch axis); see :class:`Network`."""
        return self._batch

    @property
    def sample_rngs(self) -> list[np.random.Generator]:
        """The generators of the samples (empty without a batch axis)."""
        return self._sample_rngs

    @property
    def num_threads(self) -> int:
        """Threads for the transmissions of a step."""
        return self._num_threads

    @num_threads.setter
    def num_threads(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValidationError("Network", "num_threads", "must be a positive integer, or 0 for every core",
                                  got=value)
        self._num_threads = int(value) or (os.cpu_count() or 1)
        self.registry.structure_changed()

    @property
    def check_finite(self) -> bool:
        """After each update, check that no variable became NaN or infinite (costs one pass per array)."""
        return self._check_finite

    @check_finite.setter
    def check_finite(self, value: bool) -> None:
        self._check_finite = bool(value)
        self.registry.structure_changed()

    @property
    def allow_nonfinite(self) -> bool:
        """Accept NaN and infinities assigned from Python (values, parameters, weights, TimedArray rates, loads).

        False by default: ``pop.r = float("nan")`` is refused, as a NaN set by
        mistake would spread through the network silently.  Set it (or
        ``setup(allow_nonfinite=True)``) when a non-finite value is meant,
        e.g. ``inf`` as "no threshold".  Equations may still compute NaN or
        infinities; ``check_finite`` watches those.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(parameters="theta = 1.0"))
        >>> pop.theta = float("inf")
        Traceback (most recent call last):
        ...
        ratenet.exceptions.ValidationError: Population 'pop0'.theta: expected finite numbers; ... (got inf)
        >>> net.allow_nonfinite = True
        >>> pop.theta = float("inf"); pop.theta.tolist()
        [inf, inf]
        """
        return self._allow_nonfinite

    @allow_nonfinite.setter
    def allow_nonfinite(self, value: bool) -> None:
        self._allow_nonfinite = bool(value)

    @property
    def skip_unchanged(self) -> bool:
        """Reuse results whose inputs did not change (see :mod:`ratenet.plan`); False recomputes everything."""
        return self._skip_unchanged

    @skip_unchanged.setter
    def skip_unchanged(self, value: bool) -> None:
        self._skip_unchanged = bool(value)
        self.registry.structure_changed()

    @property
    def reference(self) -> bool:
        """Whether the network runs the reference plan (see :class:`Network`)."""
        return self._reference

    @reference.setter
    def reference(self, value: bool) -> None:
        self._reference = bool(value)
        self.registry.structure_changed()

    @property
    def dt(self) -> float:
        """Step size in ms."""
        return self._dt

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def t(self) -> float:
        """Current time in ms (``steps * dt``)."""
        return self.registry.clock.step * self._dt

    @property
    def populations(self) -> list[Population]:
        return self.registry.populations

    @property
    def projections(self) -> list[Projection]:
        return self.registry.projections

    @property
    def monitors(self) -> list[Monitor]:
        return self.registry.monitors

    @property
    def time(self) -> float:
        """Current time in ms (ANNarchy 5); assign to move the clock (a whole number of steps)."""
        return self.t

    @time.setter
    def time(self, value: float) -> None:
        self.set_time(value)

    @property
    def current_step(self) -> int:
        """Steps simulated since time 0 (ANNarchy 5); assign to move the clock."""
        return self.registry.clock.step

    @current_step.setter
    def current_step(self, value: int) -> None:
        self.set_current_step(value)

    def get_time(self) -> float:
        """Current time in ms."""
        return self.t

    def set_time(self, t: float) -> None:
        """Set the current time (rounded to a whole number of steps)."""
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
            raise ValidationError("Network", "t", "must be a non-negative number of ms", got=t)
        self._jump(int(round(t / self._dt)))

    def get_current_step(self) -> int:
        """Number of steps simulated since time 0."""
        return self.registry.clock.step

    def set_current_step(self, step: int) -> None:
        """Set the step counter (time = step * dt)."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValidationError("Network", "step", "must be a non-negative integer", got=step)
        self._jump(int(step))

    def _jump(self, step: int) -> None:
        """Move the clock: delayed reads now map to other slots, so nothing skipped may be reused."""
        self.registry.clock.step = step
        if self._plan is not None:
            self._plan.forget()

    # --------------------------------------------------------------- objects
    def create(self, geometry: Any = None, neuron: "Neuron | None" = None, stop_condition: str | None = None,
               name: str | None = None, population: Population | None = None,
               storage_order: str | None = None) -> Population:
        """Create a population in this network (or adopt one: ``net.create(ImagePopulation(...))``).

        The arguments come in ANNarchy 5's order: ``geometry, neuron,
        stop_condition, name``; ``storage_order`` is accepted and ignored.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> net.create((2, 2), Neuron(equations="r = 1.0"), name="grid").size
        4
        """
        if isinstance(geometry, Population):
            return self._adopt(geometry)
        if isinstance(population, Population):
            return self._adopt(population)
        if neuron is None:
            raise ValidationError("Network.create", "neuron", "is required (a Neuron)", got=None)
        return Population(geometry, neuron, name=name, stop_condition=stop_condition, network=self)

    def _adding(self, pop: Population) -> None:
        if default_network() is self and self._compiled and not self._warned_growth:
            # In a notebook, running the cell that builds the network a second time lands here.
            self._warned_growth = True
            warnings.warn(f"population '{pop.name}' is added to the default network after it was compiled or "
                          f"simulated (t = {self.t:g} ms); if you ran the cell that builds the network again, the "
                          "network now holds a second copy of everything: call clear() at the top of that cell",
                          RatenetWarning, **_user_frame(pop))

    def _adopt(self, pop: Population) -> Population:
        if pop.network is self:
            return pop
        old = pop.network
        if any(p.pre.population is pop or p.post.population is pop for p in old.projections) or \
                any(m.population_of() is pop for m in old.monitors):
            raise ValidationError("Network.create", "population", "is already connected in another network",
                                  got=pop.name)
        old.registry.state(pop).move(self)
        return pop

    def connect(self, pre: Any = None, post: Any = None, target: str = "exc", synapse: "Synapse | None" = None,
                name: str | None = None, projection: Projection | None = None,
                disable_omp: bool = True) -> Projection:
        """Create a projection (or adopt one built elsewhere: ``net.connect(Convolution(...))``).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(2, Neuron(parameters="r = 1.0"))
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
        >>> net.connect(a, b, "exc").one_to_one(2.0).nb_synapses
        2
        """
        if projection is not None:
            if pre is not None or post is not None:
                raise ValidationError("Network.connect", "projection", "is given with pre or post: give one or "
                                                                       "the other")
            pre = projection
        if isinstance(pre, Projection):
            if pre.network is not self:
                raise ValidationError("Network.connect", "projection", "belongs to another network: create its "
                                                                       "populations with this network")
            return pre
        if post is None:
            raise ValidationError("Network.connect", "post", "is required (a Population or PopulationView)", got=None)
        check_end("Network.connect", "pre", pre)
        check_end("Network.connect", "post", post)
        if pre.network is not self:
            raise ValidationError("Network.connect", "pre", "belongs to another network", got=pre)
        return Projection(pre, post, target, synapse, name)

    def monitor(self, obj: Any, variables: str | Sequence[str] = (), period: float | None = None,
                period_offset: float | None = None, start: bool = True, name: str | None = None) -> Monitor:
        """Record variables of a population, view or projection (see :class:`~ratenet.Monitor`).

        As in ANNarchy 5, ``get()`` of this monitor shapes a population's
        samples like its geometry by default (``Monitor(...)`` keeps ANNarchy
        4.x's flat default).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create((2, 3), Neuron(equations="r = t"))
        >>> m = net.monitor(pop, "r"); net.simulate(2.0)
        >>> m.get("r", keep=True).shape, m.get("r", reshape=False).shape
        ((2, 2, 3), (2, 6))
        """
        if getattr(obj, "network", self) is not self:
            raise ValidationError("Network.monitor", "obj", "belongs to another network", got=obj)
        return Monitor(obj, variables, period=period, period_offset=period_offset, start=start, name=name,
                       reshape=True)

    # ------------------------------------------------- ANNarchy 4.x: copies
    def add(self, objects: Any) -> None:
        """Add a copy of populations, projections and monitors built elsewhere (ANNarchy 4.x).

        ``objects`` is one object or a list.  Each population is copied with
        its current values (:meth:`Population.copy_to`), each projection
        between the copies of its ends with its synapses and their values
        (:meth:`Projection.copy_to`), each monitor on the copy of what it
        records; :meth:`get` returns the copy.  In one call, populations are
        copied first, then projections, then monitors, so their order in the
        list does not matter.  The originals are not changed.

        Raises
        ------
        ValidationError
            For an object added twice, one of this network, something that
            is not a population, projection or monitor, or a projection (or
            monitor) whose populations were not added first.

        Examples
        --------
        >>> from ratenet import Monitor, Network, Neuron, Population, Projection, clear
        >>> clear()
        >>> inp = Population(2, Neuron(parameters="r = 1.0"))
        >>> out = Population(2, Neuron(equations="r = sum(exc)"))
        >>> proj = Projection(inp, out, "exc").connect_all_to_all(0.5)
        >>> net = Network()
        >>> net.add([inp, out, proj]); _ = net.compile(); net.simulate(2.0)
        >>> net.get(out).r.tolist(), out.r.tolist()
        ([1.0, 1.0], [0.0, 0.0])
        """
        items = list(objects) if isinstance(objects, (list, tuple)) else [objects]
        for obj in items:
            if not isinstance(obj, (Population, Projection, Monitor)):
                raise ValidationError("Network.add", "objects", "must be populations, projections or monitors "
                                                                "(or a list of them)", got=obj)
            if id(obj) in self._copies or any(copy is obj for _, copy in self._copies.values()):
                raise ValidationError("Network.add", "objects", f"'{obj.name}' was already added to this network")
            if obj.network is self:
                raise ValidationError("Network.add", "objects", f"'{obj.name}' was created in this network: it is "
                                                                "already part of it")
        if len({id(obj) for obj in items}) != len(items):
            raise ValidationError("Network.add", "objects", "lists an object twice")
        for kind in (Population, Projection, Monitor):
            for obj in items:
                if isinstance(obj, kind):
                    self._copies[id(obj)] = (obj, self._copy_of(obj))

    def _copy_of(self, obj: Any) -> Any:
        if isinstance(obj, Population):
            return obj.copy_to(self)
        if isinstance(obj, Projection):
            return obj.copy_to(lambda end: self._counterpart(end, f"projection '{obj.name}'"))
        return obj.copy_to(self._counterpart(obj.object, f"monitor '{obj.name}'"))

    def _counterpart(self, obj: Any, user: str) -> Any:
        try:
            return self.get(obj)
        except ValidationError:
            raise ValidationError("Network.add", "objects", f"{user} uses '{obj.name}', which is not in this "
                                                            "network: add it first") from None

    def get(self, obj: Any) -> Any:
        """The copy living in this network of an object given to :meth:`add` (a list gives a list).

        A view or a neuron of an added population gives the same view (or
        neuron) of its copy; an object created in this network is returned
        as is.

        Raises
        ------
        ValidationError
            If the object was never added to this network.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create(4, Neuron(parameters="r = 0.0"), name="p")
        >>> net = Network(); net.add(pop)
        >>> copy = net.get(pop)
        >>> copy is pop, copy.name, net.get(pop[1:3]).ranks.tolist()
        (False, 'p', [1, 2])
        """
        if isinstance(obj, (list, tuple)):
            return [self.get(o) for o in obj]
        if isinstance(obj, PopulationView):
            return PopulationView(self.get(obj.population), obj.ranks, obj.geometry)
        if isinstance(obj, IndividualNeuron):
            return IndividualNeuron(self.get(obj.population), obj.rank)
        if getattr(obj, "network", None) is self:
            return obj
        entry = self._copies.get(id(obj))
        if entry is None or entry[0] is not obj:
            raise ValidationError("Network.get", "obj", "was never added to this network (call net.add(obj) first)",
                                  got=getattr(obj, "name", obj))
        return entry[1]

    def copy(self, *args: Any, **kwargs: Any) -> "Network":
        """Another network like this one (ANNarchy 5).

        A subclass is built again with the arguments given here, or, with
        none, those it was created with (:attr:`init_args`); ``dt`` and
        ``seed`` default to this network's.  A plain ``Network`` is copied
        object by object: every population, projection and monitor, with
        their current values (as :meth:`add` does); the copy starts at time 0.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network(dt=0.5, seed=3)
        >>> pop = net.create(2, Neuron(parameters="r = 0.0"), name="p"); pop.r = [1.0, 2.0]
        >>> twin = net.copy()
        >>> twin.dt, twin.seed, twin.get_population("p").r.tolist()
        (0.5, 3, [1.0, 2.0])
        """
        if type(self) is Network:
            if args or kwargs:
                raise ValidationError("Network.copy", "arguments", "are only for a subclass of Network, whose "
                                                                   "__init__ takes them")
            twin = Network(dt=self.dt, seed=self.seed, dtype=self.dtype, reference=self.reference, batch=self.batch)
            twin.add(list(self.populations) + list(self.projections) + list(self.monitors))
            return twin
        if not args and not kwargs:
            args, kwargs = self.init_args
        kwargs = dict(kwargs)
        kwargs.setdefault("dt", self.dt)
        kwargs.setdefault("seed", self.seed)
        if self.batch is not None:
            kwargs.setdefault("batch", self.batch)
        return type(self)(*args, **kwargs)

    def get_populations(self) -> list[Population]:
        """Every population of this network, in creation order."""
        return list(self.populations)

    def get_monitors(self, obj: Any = None) -> list[Monitor]:
        """The monitors of this network (only those recording ``obj`` when given).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a, b = (net.create(1, Neuron(equations="r = t")) for _ in range(2))
        >>> m = net.monitor(a, "r"); _ = net.monitor(b, "r")
        >>> net.get_monitors(a) == [m], len(net.get_monitors())
        (True, 2)
        """
        return [m for m in self.monitors if obj is None or m.object is obj]

    def get_monitor(self, name: str) -> Monitor:
        """The monitor with this name."""
        for monitor in self.monitors:
            if monitor.name == name:
                return monitor
        raise ValidationError("Network", "get_monitor", "no monitor of that name", got=name)

    # ------------------------------------------------------------ callbacks
    def add_callback(self, callback: Any) -> None:
        """Register a callback (what :class:`ratenet.every` does); called by :meth:`simulate`."""
        self._callbacks.append(callback)

    def enable_callbacks(self) -> None:
        """Call the callbacks again during :meth:`simulate`."""
        self._callbacks_enabled = True

    def disable_callbacks(self) -> None:
        """Simulate without calling the callbacks (they stay registered)."""
        self._callbacks_enabled = False

    def clear_all_callbacks(self) -> None:
        """Forget every callback of this network."""
        self._callbacks = []

    def callbacks_enabled(self) -> bool:
        """Whether :meth:`simulate` calls the callbacks."""
        return self._callbacks_enabled

    def get_population(self, name: str) -> Population:
        """The population with this name."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValidationError("Network", "get_population", "no population of that name", got=name)

    def get_projection(self, name: str) -> Projection:
        """The projection with this name."""
        for proj in self.projections:
            if proj.name == name:
                return proj
        raise ValidationError("Network", "get_projection", "no projection of that name", got=name)

    def get_projections(self, post: Any = None, pre: Any = None, target: str | None = None,
                        suppress_error: bool = False) -> list[Projection]:
        """The projections with this post, pre (a population or a view) and target (None: any).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b, "exc").connect_one_to_one(1.0)
        >>> net.get_projections(post=b) == [proj], net.get_projections(target="inh")
        (True, [])
        """
        return select(self.projections, post=post, pre=pre, target=target)

    # ------------------------------------------------------------ the plan
    def compile(self, *args: Any, **kwargs: Any) -> "Network":
        """Check the network and build its step plan (never runs a compiler).

        Called by ``simulate`` when needed; calling it first only moves the
        checks (and the snapshot that ``reset`` returns to) earlier.
        Arguments ANNarchy's ``compile`` takes (``directory``, ``clean``...)
        are accepted and ignored.
        """
        self._build()
        return self

    def _build(self) -> Plan:
        registry = self.registry
        plan = self._plan
        if plan is not None and plan.structure == registry.structure:
            return plan
        for proj in self.projections:
            registry.state(proj).check_connected()
        plan = build_plan(self, plan)
        for obj in list(self.populations) + list(self.projections):
            registry.state(obj).compiled(not self._compiled)
        if not self._compiled:
            self._rng_state = self.rng.bit_generator.state  # reset(reseed_rng=True) returns to compile time
            self._sample_rng_states = [g.bit_generator.state for g in self._sample_rngs]
        self._compiled = True
        if self._loaded_histories:
            for history in plan.histories.values():
                ring = self._loaded_histories.get((history.name, history.var))
                if ring is not None and ring.shape == history.ring.shape:
                    history.ring[...] = ring  # loaded with the state: continue where the file left off
                    history.restamp()
            self._loaded_histories = {}
        self._plan = plan
        return plan

    @property
    def step_order(self) -> list[str]:
        """The step plan, one readable line per operator, in execution order.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(2, Neuron(parameters="r = 1.0"), name="a")
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
        >>> proj = net.connect(a, b, "exc", name="ab").one_to_one(1.0)
        >>> print("\\n".join(net.step_order))
        ab: b.sum(exc) = w * pre.r  [TransmitGather, skipped when what it reads did not change]
        b: r = sum(exc)  [UpdateBlock, skipped when what it reads did not change]
        """
        return self._build().lines()

    @property
    def plan(self) -> Plan:
        """The step plan, built if needed: its ``operators`` (see :mod:`ratenet.plan`), ``blocks``,
        ``histories``, ``stops``; for inspection.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = t"))
        >>> [type(op).__name__ for op in net.plan.operators]
        ['UpdateBlock']
        """
        return self._build()

    # ------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one step."""
        self._run(1)

    def _check_recording(self, steps: int, owner: str, duration: float) -> None:
        """Refuse a run whose monitors could not hold what they would record, before running it."""
        total = sum(monitor.memory_for(steps) for monitor in self.monitors)
        if total:
            names = ", ".join(f"'{m.name}'" for m in self.monitors if m.memory_for(steps))
            check_bytes(total, owner, "duration", f"recording {steps:,} steps, the monitors ({names})", duration)

    def _run(self, steps: int, stop: Any = None, progress: bool = False) -> int:
        registry = self.registry
        done = 0
        stopped: list[bool] = []
        while True:
            plan = self._build()
            if not plan.prepare():  # a value set from Python no longer fits the stacked blocks
                registry.structure_changed()
                plan = self._build()
                plan.prepare()
            if not plan.rewires:
                return done + run(plan, registry.clock, self._dt, steps - done, stop, progress)
            # structural plasticity: a step that adds or removes synapses ends the run, so that the plan is
            # built again for the new layout before the next step
            def halt(plan: Plan = plan, stopped: list[bool] = stopped) -> bool:
                if stop is not None and stop():
                    stopped.append(True)
                    return True
                return registry.structure != plan.structure

            done += run(plan, registry.clock, self._dt, steps - done, halt, progress)
            if stopped or done >= steps:
                return done

    def simulate(self, duration: float, measure_time: bool = False, progress_bar: bool = False,
                 callbacks: bool = True) -> None:
        """Simulate ``duration`` ms: ``ceil(duration / dt)`` steps.

        Parameters
        ----------
        duration : float
            In ms.
        measure_time : bool
            Print how long it took.
        progress_bar : bool
            Show a progress bar (tqdm: a widget in Jupyter, text on stderr
            elsewhere) with the steps, the simulated time, steps per second
            and the time left.
        callbacks : bool
            Call the functions declared with :class:`ratenet.every` (when
            they are enabled); False runs without them.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = t"))
        >>> net.simulate(3.0, progress_bar=True)  # the bar goes to stderr
        >>> net.get_time()
        3.0
        """
        steps = steps_for(duration, self._dt, "simulate")
        self._check_recording(steps, "simulate", duration)
        start = time.perf_counter()
        if callbacks and self._callbacks_enabled and self._callbacks:
            self._run_with_callbacks(steps, progress_bar)
        else:
            self._run(steps, progress=progress_bar)
        if measure_time:
            elapsed = time.perf_counter() - start
            print(f"Simulating {duration} ms ({steps} steps) took {elapsed:.3f} s "
                  f"({1000 * elapsed / max(steps, 1):.4f} ms per step).")

    def _run_with_callbacks(self, steps: int, progress: bool) -> None:
        """Run ``steps`` steps, calling each callback before the steps it falls on (see :class:`ratenet.every`)."""
        start = self.get_current_step()
        moments = []
        for callback in list(self._callbacks):
            period, offset, wait = callback.steps(self._dt)
            for n, moment in enumerate(range(start + wait + offset, start + steps, period)):
                moments.append((moment, n, callback))
        moments.sort(key=lambda item: item[0])  # stable: declaration order at equal times
        for moment, n, callback in moments:
            if moment > self.get_current_step():
                self._run(moment - self.get_current_step(), progress=progress)
            callback.func(n)
        if start + steps > self.get_current_step():
            self._run(start + steps - self.get_current_step(), progress=progress)

    def simulate_until(self, max_duration: float, population: Any, operator: str = "and",
                       measure_time: bool = False, progress_bar: bool = False) -> float:
        """Simulate until the populations' ``stop_condition`` holds, at most ``max_duration`` ms.

        Stops at the end of the first step where the condition holds for all
        the populations (``operator="and"``) or any of them (``"or"``).
        ``progress_bar=True`` shows the steps run out of the most possible.

        Returns
        -------
        float
            The simulated time in ms.
        """
        pops = [population] if isinstance(population, Population) else list(population)
        if not pops or not all(isinstance(p, Population) for p in pops):
            raise ValidationError("simulate_until", "population", "must be a population or a list of them",
                                  got=population)
        for pop in pops:
            if pop.network is not self:
                raise ValidationError("simulate_until", "population", "belongs to another network", got=pop.name)
            if self.registry.state(pop).make_stop is None:
                raise ValidationError("simulate_until", "population", f"'{pop.name}' has no stop_condition; create "
                                                                      "it with stop_condition='r > 1.0 : any'")
        if operator not in ("and", "or"):
            raise ValidationError("simulate_until", "operator", "must be 'and' or 'or'", got=operator)
        steps = steps_for(max_duration, self._dt, "simulate_until")
        self._check_recording(steps, "simulate_until", max_duration)
        self._build()
        combine = all if operator == "and" else any

        def stop() -> bool:
            assert self._plan is not None
            stops = self._plan.stops  # looked up at each call: structural plasticity builds new plans
            return combine(bool(stops[id(p)]()) for p in pops)

        start = time.perf_counter()
        done = self._run(steps, stop, progress=progress_bar)
        if measure_time:
            print(f"Simulating {done * self._dt} ms took {time.perf_counter() - start:.3f} s.")
        return done * self._dt

    def reset(self, populations: bool = True, projections: bool = False, synapses: bool = False,
              monitors: bool = True, reseed_rng: bool = False) -> None:
        """Return to time 0 with the values of compile time.

        Parameters
        ----------
        populations : bool
            Restore every population's parameters and variables.
        projections, synapses : bool
            Restore the synaptic attributes (weights included).
        monitors : bool
            Drop what monitors recorded.
        reseed_rng : bool
            Also return the random generator to its state at compile time
            (or when it was last seeded), so the random draws of the next run
            repeat those of the first (ANNarchy 5, where it is the default;
            ANNarchy 4 never does it).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network(seed=1)
        >>> pop = net.create(2, Neuron(equations="r = Uniform(0, 1)"))
        >>> net.simulate(3.0); first = pop.r
        >>> net.reset(reseed_rng=True); net.simulate(3.0); bool((pop.r == first).all())
        True
        """
        plan = self._build()
        if populations:
            for pop in self.populations:
                pop.reset()
        if projections or synapses:
            for proj in self.projections:
                proj.reset()
        if monitors:
            for monitor in self.monitors:
                monitor.reset()
        for history in plan.histories.values():
            history.refill()
        self.registry.clock.step = 0
        self.registry.clock.t[()] = 0.0
        if reseed_rng:
            self.rng.bit_generator.state = self._rng_state  # in place: generated code holds this generator
            for generator, state in zip(self._sample_rngs, getattr(self, "_sample_rng_states", [])):
                generator.bit_generator.state = state  # each sample's generator too (a batch)

    def enable_learning(self, projections: Iterable[Projection] | None = None, period: float | None = None,
                        offset: float | None = None) -> None:
        """Enable learning for the given projections (all plastic ones by default)."""
        for proj in (self.projections if projections is None else projections):
            if proj.synapse_type.plastic:
                proj.enable_learning(period, offset)

    def disable_learning(self, projections: Iterable[Projection] | None = None) -> None:
        """Disable learning for the given projections (all by default)."""
        for proj in (self.projections if projections is None else projections):
            proj.disable_learning()

    def parallel_run(self, method: Any, number: int, max_processes: int = -1, seeds: Any = None,
                     measure_time: bool = False, client: Any = None, progress_bar: bool = False,
                     **kwargs: Any) -> list[Any]:
        """Run ``method(net, **kwargs)`` on ``number`` rebuilt copies of this network, in processes (ANNarchy 5.x).

        Only for an instance of a subclass (``class MyNet(Network)`` whose
        ``__init__`` builds the network): each run builds a new instance of the
        class in a worker process, with this network's constructor arguments
        and dt, and a seed of its own, then calls ``method`` on it.  Results
        come back in the order of the runs.

        Parameters
        ----------
        method : callable
            ``method(net, **kwargs)``; what it returns comes back (pickled).
        number : int
            Number of runs.
        max_processes : int
            Worker processes at most (-1: one per core).
        seeds : None, 'same', 'sequential' or list of int
            None: distinct seeds derived from this network's seed (reproducible;
            fresh ones when it has none; ANNarchy draws fresh ones always);
            ``'same'``: this network's seed for every run; ``'sequential'``:
            ``seed + 1, seed + 2...``; or one seed per run.
        measure_time : bool
            Print the time the runs took.
        client : dask.distributed.Client, optional
            Send the runs to a Dask cluster (the class must be importable or
            picklable there).
        progress_bar : bool
            A tqdm bar counting finished runs.
        **kwargs
            A keyword that names a parameter of the class's ``__init__`` goes to
            the constructor of each copy; others go to ``method``.  A list gives
            one value per run (it must have ``number`` values); anything else is
            shared by all runs.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> class Leaky(Network):
        ...     def __init__(self, size, tau=10.0):
        ...         model = Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = 1.0")
        ...         self.pop = self.create(size, model)
        ...         self.pop.tau = tau
        >>> def run(net, duration):
        ...     net.simulate(duration)
        ...     return round(float(net.pop.r[0]), 4)
        >>> net = Leaky(3, seed=1)
        >>> net.parallel_run(run, number=3, tau=[5.0, 10.0, 20.0], duration=10.0)  # tau: to Leaky(...)
        [0.8926, 0.6513, 0.4013]

        :func:`ratenet.parallel_run` is the 4.x form.
        """
        return _parallel.network_parallel_run(self, Network, method, number, max_processes=max_processes, seeds=seeds,
                                    measure_time=measure_time, client=client, progress_bar=progress_bar, **kwargs)

    # ------------------------------------------------------------ save / load
    def save(self, filename: str | os.PathLike[str], populations: bool = True, projections: bool = True) -> None:
        """Save the state (every population's and projection's arrays, the delay histories, the step).

        Examples
        --------
        >>> import os, tempfile
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = t"))
        >>> net.simulate(3.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
        >>> net.save(path); net.simulate(5.0)
        >>> net.load(path); net.get_current_step(), pop.r.tolist()
        (3, [2.0, 2.0])
        """
        plan = self._build()
        histories = {(h.name, h.var): h.ring for h in plan.histories.values()} if populations else None
        save_objects(filename, [self.registry.state(p) for p in self.populations] if populations else [],
                     [self.registry.state(p) for p in self.projections] if projections else [],
                     step=self.get_current_step(), histories=histories)

    def load(self, filename: str | os.PathLike[str], populations: bool = True, projections: bool = True) -> None:
        """Load a state written by :meth:`save` into a network of the same structure.

        Raises
        ------
        ValidationError
            If populations, projections, geometries or attributes differ (nothing
            is changed then).
        """
        plan = self._plan
        # With the projections, the file's delays decide a history's depth (structural plasticity may have
        # changed the current one since the save); without them, the current plan's depth must match.
        shapes = None if plan is None or plan.structure != self.registry.structure else \
            {(h.name, h.var): ((-1,) + h.ring.shape[1:] if projections else h.ring.shape)
             for h in plan.histories.values()}
        loaded = load_objects(filename, [self.registry.state(p) for p in self.populations] if populations else None,
                              [self.registry.state(p) for p in self.projections] if projections else None,
                              finite=not self._allow_nonfinite, history_shapes=shapes)
        if loaded.step is not None:
            self.registry.clock.step = loaded.step
        self._loaded_histories = loaded.histories
        self.registry.structure_changed()

    def __repr__(self) -> str:
        return _text.network_repr(self)

    def __str__(self) -> str:
        return _text.network_text(self)

    def _repr_html_(self) -> str:
        """dt, time and tables of populations, projections and monitors, for notebooks."""
        return _html.network_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)

    def plot(self, ax: Any = None) -> Any:
        """Draw the network: populations as boxes, projections as arrows labelled with target and connector.

        Populations are laid out in columns following the projections (inputs
        on the left); see :func:`ratenet.display.plots.plot_network`.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(4, Neuron(parameters="r = 1.0"), name="input")
        >>> b = net.create(4, Neuron(equations="r = sum(exc)"), name="output")
        >>> proj = net.connect(a, b, "exc").connect_all_to_all(0.1)
        >>> len(net.plot().patches)  # two boxes and an arrow
        3
        """
        return _plots.plot_network(self, ax=ax)


set_default_network(Network())
