"""Networks: objects, time, the random generator and the step plan.

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

Module-level functions (``simulate``, ``setup``, ...) act on a default network;
:func:`clear` replaces it with a fresh one.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from .display import html as _html, plots as _plots, text as _text
from .display.progress import ProgressBar
from .exceptions import RatenetWarning, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from .monitor import Monitor
    from .neurons import Neuron, Synapse
    from .population import Population
    from .projections.projection import Projection

__all__ = [
    "Network",
    "default_network",
    "setup",
    "clear",
    "compile",
    "simulate",
    "simulate_until",
    "step",
    "reset",
    "get_time",
    "set_time",
    "get_current_step",
    "set_current_step",
    "dt",
    "enable_learning",
    "disable_learning",
    "get_population",
    "get_projection",
    "populations",
    "projections",
    "monitors",
]


def _user_frame(obj: Any) -> dict[str, Any]:
    """Where a warning about ``obj``'s creation points: the code that created it.

    Python 3.12+ skips every frame inside ratenet; before, the stack level
    counts the constructors that run (one per class of ``obj`` defining
    ``__init__``, as ``ImagePopulation`` does on top of ``Population``).
    """
    if sys.version_info >= (3, 12):
        return {"skip_file_prefixes": (os.path.dirname(os.path.abspath(__file__)),)}
    constructors = sum(1 for cls in type(obj).__mro__ if "__init__" in cls.__dict__ and cls is not object)
    return {"stacklevel": 2 + constructors}


def _steps_for(duration: Any, dt: float, owner: str) -> int:
    """``ceil(duration / dt)``, robust to the float error just above an integer."""
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration):
        raise ValidationError(owner, "duration", "must be a finite number of ms", got=duration)
    if duration < 0:
        raise ValidationError(owner, "duration", "must be >= 0", got=duration)
    ratio = float(duration) / dt
    nearest = round(ratio)
    if abs(ratio - nearest) <= 1e-9 * max(1.0, abs(nearest)):
        return int(nearest)
    return int(math.ceil(ratio))


class _Step:
    """One entry of the step plan: a function and a readable description."""

    __slots__ = ("function", "label", "units")

    def __init__(self, function: Callable[[], None], label: str) -> None:
        self.function = function
        self.label = label

    def __str__(self) -> str:
        return self.label


class _History:
    """The last ``depth`` end-of-step values of one population variable (a ring buffer).

    The value at the end of step ``m`` lives in slot ``m % depth``; every slot
    starts with the value at compile (or reset) time, which is therefore what
    a delayed read returns before the run has gone back far enough.
    """

    def __init__(self, source: np.ndarray, depth: int, name: str = "") -> None:
        self.name = name
        self.source = source
        self.depth = depth
        self.ring = np.empty((depth,) + source.shape, dtype=source.dtype)
        self.refill()

    def refill(self) -> None:
        self.ring[...] = self.source

    def push(self, step: int) -> None:
        self.ring[step % self.depth] = self.source


class Network:
    """A set of populations, projections and monitors with its own time, dt and RNG.

    Parameters
    ----------
    dt : float
        Step size in ms.
    seed : int, optional
        Seed of the network's :class:`numpy.random.Generator`; the same seed
        gives the same simulation.
    dtype : {numpy.float64, numpy.float32}
        Floating-point type of every array.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(dt=0.5, seed=1)
    >>> pop = net.create(4, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
    >>> net.simulate(10.0)
    >>> net.get_time(), net.get_current_step()
    (10.0, 20)
    """

    def __init__(self, dt: float = 1.0, seed: int | None = None, dtype: Any = np.float64,
                 name: str | None = None, num_threads: int = 1) -> None:
        self.name = name
        self.num_threads = 1
        self._pool: Any = None
        #: After each update, check that no variable became NaN or infinite (costs one pass per array).
        self.check_finite = False
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.monitors: list[Monitor] = []
        self._names: set[str] = set()
        self._counter = 0
        self._t = np.zeros((), dtype=np.float64)
        self._step = 0
        self._plan: list[_Step] | None = None
        self._histories: dict[tuple[int, str], _History] = {}
        self._blocks: dict[tuple[int, ...], Any] = {}
        self._block_list: list[Any] = []
        self._contributions: list[Any] = []
        self._compiled = False
        self._warned_growth = False
        #: Reuse results whose inputs did not change (see ratenet._plan); False recomputes everything.
        self.skip_unchanged = True
        self._values_changed = True
        self._constants_seen = -1
        self._dt = 1.0
        self._dtype = np.dtype(np.float64)
        self.setup(dt=dt, seed=seed, dtype=dtype, num_threads=num_threads)

    # ------------------------------------------------------------ configuration
    def setup(self, dt: float | None = None, seed: int | None | str = "keep", dtype: Any = None,
              **options: Any) -> None:
        """Change dt, the seed or the dtype.

        ``dtype`` can only change while the network is empty.  Options that
        ANNarchy accepts but that have no meaning here (``num_threads``,
        ``paradigm``, ``verbose``...) are accepted and ignored;
        ``precision="float"`` means ``dtype=numpy.float32``.
        """
        owner = "setup"
        ignored = {"paradigm", "verbose", "suppress_warnings", "show_time", "disable_omp",
                   "structural_plasticity", "sparse_matrix_format", "sparse_matrix_storage_order",
                   "only_int_idx_type", "visible_cores", "debug", "profiling", "method"}
        for key, value in options.items():
            if key == "num_threads":
                if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                    raise ValidationError("Network", "num_threads", "must be a positive integer, or 0 for every "
                                                                    "core", got=value)
                import os

                self.num_threads = int(value) or (os.cpu_count() or 1)
                self._changed(structure=True)
            elif key == "check_finite":
                self.check_finite = bool(value)
                self._changed(structure=True)
            elif key == "precision":
                if value not in ("float", "double"):
                    raise ValidationError(owner, "precision", "must be 'float' or 'double'", got=value)
                dtype = np.float32 if value == "float" else np.float64
            elif key not in ignored:
                raise ValidationError(owner, key, "unknown option (known: dt, seed, dtype, precision, num_threads, "
                                          "check_finite)")
        if dt is not None:
            if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
                raise ValidationError("Network" if owner == "setup" else owner, "dt", "must be a positive number "
                                                                                      "of ms", got=dt)
            self._dt = float(dt)
            self._changed(structure=True)
        if seed != "keep":
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
                raise ValidationError("Network", "seed", "must be a non-negative integer or None", got=seed)
            self.seed = None if seed is None else int(seed)
            self.rng = np.random.default_rng(self.seed)
            self._changed(structure=True)  # generated code holds the generator
        if dtype is not None:
            try:
                kind = np.dtype(dtype)
            except TypeError:
                kind = None
            if kind not in (np.dtype(np.float64), np.dtype(np.float32)):
                raise ValidationError("Network", "dtype", "must be numpy.float64 or numpy.float32", got=dtype)
            if kind != self._dtype and (self.populations or self.projections):
                raise ValidationError("Network", "dtype", "cannot change once populations exist; call it first")
            self._dtype = kind

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
        return self._step * self._dt

    def get_time(self) -> float:
        """Current time in ms."""
        return self.t

    def set_time(self, t: float) -> None:
        """Set the current time (rounded to a whole number of steps)."""
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
            raise ValidationError("Network", "t", "must be a non-negative number of ms", got=t)
        self._step = int(round(t / self._dt))
        self._changed()

    def get_current_step(self) -> int:
        """Number of steps simulated since time 0."""
        return self._step

    def set_current_step(self, step: int) -> None:
        """Set the step counter (time = step * dt)."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValidationError("Network", "step", "must be a non-negative integer", got=step)
        self._step = int(step)
        self._changed()

    # --------------------------------------------------------------- objects
    def _unique_name(self, name: str | None, prefix: str) -> str:
        if name is None:
            while True:
                candidate = f"{prefix}{self._counter}"
                self._counter += 1
                if candidate not in self._names:
                    break
            name = candidate
        elif name in self._names:
            owner = {"pop": "Population", "proj": "Projection"}.get(prefix, "Monitor")
            hint = ("; if you ran the cell that builds the network again, call clear() at its top to start a "
                    "fresh default network") if self is _default else ""
            raise ValidationError(owner, "name", f"is already used in this network{hint}", got=name)
        self._names.add(name)
        return name

    def _add_population(self, pop: "Population") -> None:
        if self is _default and self._compiled and not self._warned_growth:
            # In a notebook, running the cell that builds the network a second time lands here.
            self._warned_growth = True
            warnings.warn(f"population '{pop.name}' is added to the default network after it was compiled or "
                          f"simulated (t = {self.t:g} ms); if you ran the cell that builds the network again, the "
                          "network now holds a second copy of everything: call clear() at the top of that cell",
                          RatenetWarning, **_user_frame(pop))
        self.populations.append(pop)
        self._changed(structure=True)

    def _add_projection(self, proj: "Projection") -> None:
        self.projections.append(proj)
        self._changed(structure=True)

    def _add_monitor(self, monitor: "Monitor") -> None:
        self.monitors.append(monitor)
        self._changed(structure=True)

    def _changed(self, structure: bool = False) -> None:
        """Note a change made from Python (values, or the structure when ``structure``).

        Every path that changes a value from Python calls this, so the next run
        knows it cannot reuse results computed before the change.
        """
        self._values_changed = True
        if structure:
            self._plan = None

    def create(self, geometry: Any = None, neuron: "Neuron | None" = None, name: str | None = None,
               stop_condition: str | None = None, population: "Population | None" = None) -> "Population":
        """Create a population in this network (or adopt one: ``net.create(ImagePopulation(...))``).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> net.create((2, 2), Neuron(equations="r = 1.0"), name="grid").size
        4
        """
        from .population import Population

        if isinstance(geometry, Population) or isinstance(population, Population):
            return self._adopt(geometry if isinstance(geometry, Population) else population)
        if neuron is None:
            raise ValidationError("Network.create", "neuron", "is required (a Neuron)")
        return Population(geometry, neuron, name=name, stop_condition=stop_condition, network=self)

    def _adopt(self, pop: "Population") -> "Population":
        if pop.network is self:
            return pop
        old = pop.network
        if any(p.pre.population is pop or p.post.population is pop for p in old.projections) or \
                any(m.population_of() is pop for m in old.monitors):
            raise ValidationError("Network.create", "population", "is already connected in another network",
                                  got=pop.name)
        old.populations.remove(pop)
        old._names.discard(pop.name)
        old._changed(structure=True)
        object.__setattr__(pop, "network", self)
        object.__setattr__(pop, "name", self._unique_name(pop.name if pop.name not in self._names else None, "pop"))
        pop._allocate_for(self)
        self._add_population(pop)
        return pop

    def connect(self, pre: Any, post: Any = None, target: str = "exc", synapse: "Synapse | None" = None,
                name: str | None = None) -> "Projection":
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
        from .projections.projection import Projection

        if isinstance(pre, Projection):
            if pre.network is not self:
                raise ValidationError("Network.connect", "projection", "belongs to another network: create its "
                                                                       "populations with this network")
            return pre
        if post is None:
            raise ValidationError("Network.connect", "post", "is required")
        from .projections.projection import _check_end

        _check_end("Network.connect", "pre", pre)
        _check_end("Network.connect", "post", post)
        if pre.network is not self:
            raise ValidationError("Network.connect", "pre", "belongs to another network", got=pre)
        return Projection(pre, post, target, synapse, name)

    def monitor(self, obj: Any, variables: str | Sequence[str] = (), period: float | None = None,
                start: bool = True, name: str | None = None) -> "Monitor":
        """Record variables of a population, view or projection (see :class:`~ratenet.Monitor`)."""
        from .monitor import Monitor

        if getattr(obj, "network", self) is not self:
            raise ValidationError("Network.monitor", "obj", "belongs to another network", got=obj)
        return Monitor(obj, variables, period=period, start=start, name=name)

    def get_population(self, name: str) -> "Population":
        """The population with this name."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValidationError("Network", "get_population", "no population of that name", got=name)

    def get_projection(self, name: str) -> "Projection":
        """The projection with this name."""
        for proj in self.projections:
            if proj.name == name:
                return proj
        raise ValidationError("Network", "get_projection", "no projection of that name", got=name)

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

    def _build(self) -> list[_Step]:
        if self._plan is not None:
            return self._plan
        for proj in self.projections:
            if not proj._is_connected():
                raise ValidationError(proj._owner(), "connect", f"is not connected: call {proj._connector_hint()} "
                                                                "before simulating")
        from ._plan import form_blocks, transmission_steps

        for proj in self.projections:  # every target a projection feeds has its sum array
            proj.post.population._sum_array(proj.target)
        blocks, blocks_of = form_blocks(self, self._blocks)
        self._blocks = {tuple(id(p) for p in b.members): b for b in blocks}
        self._block_list = blocks
        self._build_histories()
        # phase 1-2: transmission, one entry per (block, target)
        plan, self._contributions = transmission_steps(self, blocks_of)
        if self.num_threads > 1 and sum(len(s.units) for s in plan) > 1:
            plan = [self._in_parallel(plan)]
        # phase 3: populations, block by block
        for block in blocks:
            fn = block.step()
            if fn is not None:
                plan.append(_Step(fn, f"{block.name}: {_summary(block.members[0], fn)}"
                                  + (" (skipped when its inputs did not change)" if block.pure else "")))
        if self.check_finite:
            plan.append(_Step(self._finite_check(), "check that every variable is finite"))
        for (pop_id, var), history in self._histories.items():
            plan.append(_Step((lambda h: lambda: h.push(self._step))(history),
                              f"{history.name}: keep {var} for delayed projections ({history.depth} steps)"))
        # phase 5: learning
        for proj in self.projections:
            fn = proj._learning_function() if hasattr(proj, "_learning_function") else None
            if fn is not None:
                plan.append(_Step(fn, f"{proj.name}: learning {fn.__doc__}"))
        # phase 6: monitors
        for monitor in self.monitors:
            fn = monitor._record_function()
            plan.append(_Step(fn, f"{monitor.name}: record {', '.join(monitor.variables)}"))
        self._stop_functions = {id(pop): pop._stop_function() for pop in self.populations}
        if not self._compiled:
            for pop in self.populations:
                pop._snapshot()
            for proj in self.projections:
                proj._snapshot()
            self._compiled = True
        else:
            for obj in list(self.populations) + list(self.projections):
                if obj._initial_state is None:
                    obj._snapshot()
        self._plan = plan
        return plan

    def _finite_check(self) -> Callable[[], None]:
        """A step raising, at the first NaN or infinity, which population, variable and neuron."""
        from .exceptions import RatenetError

        watched = [(pop, name) for pop in self.populations for name in pop.variables
                   if pop._kinds.get(name) == "float"]
        net = self

        def check() -> None:
            for pop, name in watched:
                values = pop._ns[name]
                if not np.isfinite(values).all():
                    bad = int(np.flatnonzero(~np.isfinite(np.ravel(values)))[0])
                    where = f"neuron {bad} " if np.ndim(values) else ""
                    raise RatenetError(f"Population '{pop.name}'.{name}: {where}is "
                                       f"{np.ravel(values)[bad]} after step {net._step} (t = {net.t} ms)")

        return check

    def _in_parallel(self, steps: list[_Step]) -> _Step:
        """Run the transmission steps on a pool of threads.

        They read the previous step's state and write separate arrays, so they
        are independent; NumPy, SciPy and BLAS release the interpreter lock in
        their kernels.  Dispatching costs some tens of microseconds per step:
        this pays for networks with several large projections.
        """
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None or self._pool._max_workers != self.num_threads:
            self._pool = ThreadPoolExecutor(max_workers=self.num_threads, thread_name_prefix="ratenet")
        pool = self._pool
        units = [unit for s in steps for unit in s.units]
        net = self

        def parallel() -> None:
            n = net._step
            for future in [pool.submit(unit, n) for unit in units]:
                future.result()

        return _Step(parallel, f"in parallel on {self.num_threads} threads: " + " | ".join(str(s) for s in steps))

    def _build_histories(self) -> None:
        """Create (or keep) the ring buffers that delayed projections read."""
        needed: dict[tuple[int, str], tuple[Any, int]] = {}
        for proj in self.projections:
            for pop, var, depth in proj._history_needs():
                key = (id(pop), var)
                needed[key] = (pop, max(depth, needed.get(key, (pop, 0))[1]))
        histories = {}
        saved = self.__dict__.pop("_saved_histories", {})
        for key, (pop, depth) in needed.items():
            old = self._histories.get(key)
            if old is not None and old.depth == depth:
                old.source = pop._ns[key[1]]  # the same history, maybe now read from a stacked array
                histories[key] = old
            else:
                histories[key] = _History(pop._ns[key[1]], depth, pop.name)
            ring = saved.get((pop.name, key[1]))
            if ring is not None and ring.shape == histories[key].ring.shape:
                histories[key].ring[...] = ring  # loaded with the state: continue where the file left off
        self._histories = histories

    def _history(self, pop: Any, var: str) -> _History:
        return self._histories[(id(pop), var)]

    def _reader(self, pop: Any, var: str, steps: int) -> Callable[[], np.ndarray]:
        """A function returning ``pop.var`` as it was at the end of step ``n - steps`` (``n``: current)."""
        source = pop._ns[var]
        if steps <= 1:
            return lambda: source
        history = self._history(pop, var)
        ring, depth = history.ring, history.depth
        return lambda: ring[(self._step - steps) % depth]

    @property
    def step_order(self) -> list[str]:
        """The step plan, one readable line per operation, in execution order.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(2, Neuron(parameters="r = 1.0"), name="a")
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
        >>> proj = net.connect(a, b, "exc", name="ab").one_to_one(1.0)
        >>> print("\\n".join(net.step_order))
        ab: b.sum(exc) = w * pre.r
        b: r = sum(exc) (skipped when its inputs did not change)
        """
        return [str(s) for s in self._build()]

    # ------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one step."""
        self._run(1)

    def _invalidate(self) -> None:
        """Values were changed from Python: the next step recomputes everything once.

        A value set between runs replaces the value at the end of the last step:
        it is what the next step reads, with or without a delay (a projection
        with a delay of d steps sees it d - 1 steps after one without).
        """
        from . import neurons

        n = self._step
        for history in self._histories.values():
            history.ring[(n - 1) % history.depth] = history.source
        for block in self._block_list:
            block.valid = False
            for pop in block.members:
                pop._changed_at = max(pop._changed_at, n - 1)
        for contribution in self._contributions:
            contribution.valid = False
        self._values_changed = False
        self._constants_seen = neurons.constants_epoch()

    def _run(self, steps: int, stop: Callable[[], bool] | None = None, progress: bool = False) -> int:
        from . import neurons

        plan = [s.function for s in self._build()]
        if self._values_changed or self._constants_seen != neurons.constants_epoch():
            self._invalidate()
        dt = self._dt
        t = self._t
        bar = ProgressBar(steps, dt, self.t) if progress else None
        done = 0
        try:
            for done in range(1, steps + 1):
                t[()] = self._step * dt
                for function in plan:
                    function()
                self._step += 1
                if bar is not None:
                    bar.update(done)
                if stop is not None and stop():
                    break
            else:
                done = steps
        finally:
            if bar is not None:
                bar.close(done)
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

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = t"))
        >>> net.simulate(3.0, progress_bar=True)  # the bar goes to stderr
        >>> net.get_time()
        3.0
        """
        steps = _steps_for(duration, self._dt, "simulate")
        start = time.perf_counter()
        self._run(steps, progress=progress_bar)
        if measure_time:
            elapsed = time.perf_counter() - start
            print(f"Simulating {duration} ms ({steps} steps) took {elapsed:.3f} s "
                  f"({1000 * elapsed / max(steps, 1):.4f} ms per step).")

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
        from .population import Population

        pops = [population] if isinstance(population, Population) else list(population)
        if not pops or not all(isinstance(p, Population) for p in pops):
            raise ValidationError("simulate_until", "population", "must be a population or a list of them",
                                  got=population)
        for pop in pops:
            if pop._stop is None:
                raise ValidationError("simulate_until", "population", f"'{pop.name}' has no stop_condition; create "
                                                                      "it with stop_condition='r > 1.0 : any'")
            if pop.network is not self:
                raise ValidationError("simulate_until", "population", "belongs to another network", got=pop.name)
        if operator not in ("and", "or"):
            raise ValidationError("simulate_until", "operator", "must be 'and' or 'or'", got=operator)
        steps = _steps_for(max_duration, self._dt, "simulate_until")
        self._build()
        checks = [self._stop_functions[id(p)] for p in pops]
        combine = all if operator == "and" else any

        def stop() -> bool:
            return combine(bool(check()) for check in checks)

        start = time.perf_counter()
        done = self._run(steps, stop, progress=progress_bar)
        if measure_time:
            print(f"Simulating {done * self._dt} ms took {time.perf_counter() - start:.3f} s.")
        return done * self._dt

    def reset(self, populations: bool = True, projections: bool = False, synapses: bool = False,
              monitors: bool = True) -> None:
        """Return to time 0 with the values of compile time.

        Parameters
        ----------
        populations : bool
            Restore every population's parameters and variables.
        projections, synapses : bool
            Restore the synaptic attributes (weights included).
        monitors : bool
            Drop what monitors recorded.
        """
        self._build()
        if populations:
            for pop in self.populations:
                pop.reset()
        if projections or synapses:
            for proj in self.projections:
                proj.reset()
        if monitors:
            for monitor in self.monitors:
                monitor.reset()
        for history in self._histories.values():
            history.refill()
        self._step = 0
        self._changed()
        self._t[()] = 0.0

    def enable_learning(self, projections: Iterable["Projection"] | None = None, period: float | None = None,
                        offset: float | None = None) -> None:
        """Enable learning for the given projections (all plastic ones by default)."""
        for proj in (self.projections if projections is None else projections):
            if proj.synapse_type.plastic:
                proj.enable_learning(period, offset)

    def disable_learning(self, projections: Iterable["Projection"] | None = None) -> None:
        """Disable learning for the given projections (all by default)."""
        for proj in (self.projections if projections is None else projections):
            proj.disable_learning()

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


def _summary(pop: "Population", fn: Callable[..., Any]) -> str:
    """The equations an update runs, as the user wrote them, for step_order."""
    texts = [eq.text for eq in pop.neuron_type.equations]
    text = "; ".join(texts) if texts else (fn.__doc__ or "update")
    return text if len(text) <= 120 else text[:117] + "..."


# ---------------------------------------------------------------------------
# the default network and module-level functions

_default: Network = Network()

# Every function below acts on the default network.  The examples share one
# short script: a population whose rate is the time, built after clear().


def default_network() -> Network:
    """The network that module-level functions and constructors use.

    Examples
    --------
    >>> from ratenet import Population, Neuron, clear, default_network
    >>> clear()
    >>> pop = Population(2, Neuron(equations="r = t"))
    >>> default_network().populations == [pop]
    True
    """
    return _default


def setup(**kwargs: Any) -> None:
    """Configure the default network: ``dt``, ``seed``, ``dtype``, ``precision``, ``num_threads``, ``check_finite``.

    Examples
    --------
    >>> from ratenet import clear, dt, setup
    >>> clear(); setup(dt=0.1, seed=42)
    >>> dt()
    0.1
    """
    _default.setup(**kwargs)


def clear() -> None:
    """Start a fresh default network (dt = 1.0, no seed) and forget constants and added functions.

    ANNarchy keeps the values given to ``setup()`` across ``clear()``; ratenet
    restores the defaults, so a script's result never depends on what ran
    before it.

    Examples
    --------
    >>> from ratenet import clear, dt, setup
    >>> setup(dt=0.5); clear(); dt()
    1.0
    """
    global _default
    from . import neurons

    _default = Network()
    neurons._GLOBAL_FUNCTIONS.clear()
    neurons._CONSTANTS.clear()


def compile(*args: Any, **kwargs: Any) -> None:  # noqa: A001 - ANNarchy's name, expected by ported scripts
    """Check the default network and build its step plan (no compiler is involved).

    Optional: ``simulate`` does it when needed.  ANNarchy's arguments
    (``directory``, ``clean``...) are accepted and ignored.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, compile
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> compile()
    """
    _default.compile(*args, **kwargs)


def simulate(duration: float, measure_time: bool = False, progress_bar: bool = False, callbacks: bool = True) -> None:
    """Simulate the default network for ``duration`` ms (``ceil(duration / dt)`` steps).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_time, simulate
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> simulate(3.0); get_time(), pop.r.tolist()
    (3.0, [2.0, 2.0])
    """
    _default.simulate(duration, measure_time=measure_time, progress_bar=progress_bar)


def simulate_until(max_duration: float, population: Any, operator: str = "and", measure_time: bool = False,
                   progress_bar: bool = False) -> float:
    """Simulate until the populations' stop conditions hold; returns the simulated time (ms).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, simulate_until
    >>> clear(); pop = Population(2, Neuron(equations="r = t"), stop_condition="r > 4 : any")
    >>> simulate_until(100.0, pop)
    6.0
    """
    return _default.simulate_until(max_duration, population, operator, measure_time, progress_bar)


def step() -> None:
    """Simulate one step of the default network.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_current_step, step
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> step(); step(); get_current_step()
    2
    """
    _default.step()


def reset(populations: bool = True, projections: bool = False, synapses: bool = False, monitors: bool = True) -> None:
    """Return the default network to time 0 and compile-time values (see :meth:`Network.reset`).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_time, reset, simulate
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> simulate(5.0); reset(); get_time(), pop.r.tolist()
    (0.0, [0.0, 0.0])
    """
    _default.reset(populations, projections, synapses, monitors)


def get_time() -> float:
    """Current time of the default network, in ms.

    Examples
    --------
    >>> from ratenet import clear, get_time, setup, step
    >>> clear(); setup(dt=0.25); step(); get_time()
    0.25
    """
    return _default.get_time()


def set_time(t: float, net_id: int = 0) -> None:
    """Set the current time of the default network (a whole number of steps).

    Examples
    --------
    >>> from ratenet import clear, get_current_step, set_time
    >>> clear(); set_time(10.0); get_current_step()
    10
    """
    _default.set_time(t)


def get_current_step() -> int:
    """Steps simulated by the default network since time 0.

    Examples
    --------
    >>> from ratenet import clear, get_current_step, simulate
    >>> clear(); simulate(4.0); get_current_step()
    4
    """
    return _default.get_current_step()


def set_current_step(step: int, net_id: int = 0) -> None:
    """Set the step counter of the default network.

    Examples
    --------
    >>> from ratenet import clear, get_time, set_current_step
    >>> clear(); set_current_step(7); get_time()
    7.0
    """
    _default.set_current_step(step)


def dt() -> float:
    """Step size of the default network, in ms.

    Examples
    --------
    >>> from ratenet import clear, dt
    >>> clear(); dt()
    1.0
    """
    return _default.dt


def enable_learning(projections: Iterable["Projection"] | None = None, period: float | None = None,
                    offset: float | None = None) -> None:
    """Enable learning of plastic projections of the default network (all by default).

    Examples
    --------
    >>> from ratenet import Hebb, Neuron, Population, Projection, clear, disable_learning, enable_learning
    >>> clear()
    >>> a, b = Population(2, Neuron(parameters="r = 1.0")), Population(2, Neuron(equations="r = sum(exc)"))
    >>> proj = Projection(a, b, "exc", Hebb()).connect_all_to_all(0.5)
    >>> disable_learning(); proj.learning
    False
    >>> enable_learning(); proj.learning
    True
    """
    _default.enable_learning(projections, period, offset)


def disable_learning(projections: Iterable["Projection"] | None = None) -> None:
    """Disable learning in the default network (see :func:`enable_learning`)."""
    _default.disable_learning(projections)


def get_population(name: str) -> "Population":
    """The population of the default network with this name.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_population
    >>> clear(); pop = Population(2, Neuron(equations="r = t"), name="clock")
    >>> get_population("clock") is pop
    True
    """
    return _default.get_population(name)


def get_projection(name: str) -> "Projection":
    """The projection of the default network with this name (see :func:`get_population`)."""
    return _default.get_projection(name)


def populations(net_id: int = 0) -> list["Population"]:
    """The default network's populations (see :func:`default_network`)."""
    return list(_default.populations)


def projections(net_id: int = 0, post: Any = None, pre: Any = None, target: str | None = None,
                suppress_error: bool = False) -> list["Projection"]:
    """The default network's projections, optionally only those with this post, pre or target.

    Examples
    --------
    >>> import ratenet
    >>> from ratenet import Neuron, Population, Projection, clear
    >>> clear()
    >>> a, b = Population(2, Neuron(parameters="r = 1.0")), Population(2, Neuron(equations="r = sum(exc)"))
    >>> proj = Projection(a, b, "exc").connect_one_to_one(1.0)
    >>> ratenet.projections(target="exc") == [proj], ratenet.projections(target="inh")
    (True, [])
    """
    return [p for p in _default.projections
            if (post is None or p.post is post or p.post.population is post)
            and (pre is None or p.pre is pre or p.pre.population is pre)
            and (target is None or p.target == target)]


def monitors(net_id: int = 0) -> list["Monitor"]:
    """The default network's monitors (see :func:`default_network`)."""
    return list(_default.monitors)
