"""State records: what the step plan (and monitors, save/load) see of populations and projections.

A population or projection keeps its arrays in a :class:`State` record and
registers it with its network.  The record holds

* ``values``: the arrays (and, for population-level values, NumPy scalars) by
  name.  For a population this dict is also the namespace its generated code
  runs in, so it holds ``_sum_<target>`` arrays and the bindings the code
  needs;
* a **version** per tracked name: an integer bumped by every writer, Python
  assignments included.  A reader that remembers the versions it saw knows,
  by comparing integers, whether anything it reads has changed; this is what
  the plan's skipping of unchanged work is built on.  Versions only grow, so
  equal versions mean the same write;
* for a population, what the plan needs to run its model (:class:`PopulationState`),
  and for a projection, how it transmits and learns (:class:`ProjectionState`
  with :class:`Transmission` and :class:`Learning` descriptions).

The owner writes through the record (``state.values[name][...] = x`` then
``state.bump(name)``); the plan only replaces storage through
:meth:`State.adopt` (stacked populations share one array per variable).

With a batch axis (``Network(batch=B)``) every population array gains a
leading axis of size B (population-level values become ``(B, 1, ...)``
arrays), and operators see the same records.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["State", "PopulationState", "ProjectionState", "Transmission", "Learning", "Rewiring", "Ref",
           "sum_key", "python_writes"]

#: Where a version lives: the versions list of a record and an index in it.
Ref = tuple[list[int], int]

# Operators bump versions through their refs; State.bump and State.bump_all are for writes made
# from Python (assignments, reset, load).  Counting those lets a plan see, with one comparison,
# that nothing was written from Python since its last run (then it has nothing to re-check).
_PYTHON_WRITES = [0]


def python_writes() -> int:
    """A counter of writes made from Python to any record (it only grows)."""
    return _PYTHON_WRITES[0]


def sum_key(target: str) -> str:
    """The name under which a population holds ``sum(target)``."""
    return f"_sum_{target}"


def display_key(key: str) -> str:
    """``_sum_exc`` shown as ``sum(exc)``; other names unchanged."""
    return f"sum({key[5:]})" if key.startswith("_sum_") else key


class State:
    """Named values of one object, each with a version counter.

    Examples
    --------
    >>> import numpy as np
    >>> state = State("pop", {"r": np.zeros(3)})
    >>> state.track("r")
    >>> before = state.version("r")
    >>> state.values["r"][...] = 1.0; state.bump("r")
    >>> state.version("r") > before
    True
    """

    __slots__ = ("name", "values", "versions", "slots")

    def __init__(self, name: str, values: dict[str, Any] | None = None) -> None:
        self.name = name
        self.values: dict[str, Any] = {} if values is None else values
        self.versions: list[int] = []
        self.slots: dict[str, int] = {}

    def track(self, *keys: str) -> None:
        """Give each key a version counter (a key already tracked keeps its own)."""
        for key in keys:
            if key not in self.slots:
                self.slots[key] = len(self.versions)
                self.versions.append(0)

    def bump(self, key: str) -> None:
        """Note that ``key`` was written (from Python: operators bump through their refs)."""
        self.versions[self.slots[key]] += 1
        _PYTHON_WRITES[0] += 1

    def bump_all(self) -> None:
        """Note that every tracked value was written."""
        versions = self.versions
        for i in range(len(versions)):
            versions[i] += 1
        _PYTHON_WRITES[0] += 1

    def version(self, key: str) -> int:
        return self.versions[self.slots[key]]

    def ref(self, key: str) -> Ref:
        """Where the version of ``key`` lives, for readers that compare it at every step."""
        return self.versions, self.slots[key]

    def adopt(self, key: str, array: Any) -> None:
        """Hold ``key`` in ``array`` from now on (the caller has copied the values into it)."""
        self.values[key] = array

    def label(self, key: str) -> str:
        return f"{self.name}.{display_key(key)}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {', '.join(display_key(k) for k in self.slots)}>"


class PopulationState(State):
    """A population's arrays and what the plan needs to update it.

    Attributes
    ----------
    geometry, size, model, dtype, batch
        As on the population (``batch`` None: no batch axis).
    shape : tuple of int
        The shape of a local array: ``geometry``, or ``(batch, *geometry)``.
    locality : dict
        Parameters and variables (the attributes), ``"local"`` (one value per
        neuron, an array shaped like the geometry) or ``"population"`` (one
        value, a NumPy scalar rebound by the generated code).
    kinds : dict
        ``"float"``, ``"int"`` or ``"bool"`` per attribute.
    role : {"model", "input", "timed"}
        Updated by its equations, set from Python only, or replaying arrays.
    variables : list of str
        The attributes the model's equations write.
    stackable, pure : bool
        Whether populations of the same model can share one update (only
        neuron-by-neuron equations, no random draws), and whether an update
        only recomputes values from its inputs (so it can be skipped when
        they did not change).
    make_update : callable
        ``make_update()`` compiles the model's update over ``values`` (None
        for an input).
    make_replay : callable or None
        For a timed population, ``make_replay(clock)`` returns a function that
        writes this step's rates and says whether it wrote.
    make_stop : callable or None
        ``make_stop()`` compiles the stop condition.
    compiled : callable
        ``compiled(first)`` is called when the network builds its plan (the
        first time, ``first`` is True): the population keeps the values that
        ``reset`` returns to.
    move : callable
        ``move(network)``: leave this network for another one (keeping the
        values, in the other network's dtype).
    promotable : set of str
        Population-level 5.x ``Parameter`` objects declared without a locality,
        which ``promote(name)`` makes local (one value per neuron) for this
        population, as a per-neuron assignment does (a loaded file may hold
        one value per neuron for them, or one value after they became local).
    borrowed, lends : bool
        ``borrowed``: ``r`` is now the caller's array, not the record's own
        (``ImagePopulation.set_images(..., copy=False)``): nothing in ratenet
        writes into it, every writer takes an array of its own first
        (:meth:`writable`).  ``lends``: ``r`` has been borrowed at least once;
        from then on the plan reads it through the record at every step
        (never a captured array) and counts it changed at every step while
        it is borrowed (its owner may change it in place).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="tau = 5.0", equations="r = sum(exc) / tau"), name="p")
    >>> state = net.registry.state(pop)
    >>> state.role, state.pure, state.variables, state.update_reads()
    ('model', True, ['r'], ['_sum_exc', 'tau'])
    >>> before = state.version("tau"); pop.tau = 2.0; state.version("tau") > before
    True
    """

    __slots__ = ("geometry", "size", "model", "dtype", "batch", "shape", "locality", "kinds", "role", "variables",
                 "stackable", "pure", "reads_constants", "make_update", "make_replay", "make_stop", "compiled", "move",
                 "promotable", "promote", "borrowed", "lends")

    def __init__(self, name: str, geometry: tuple[int, ...], model: Any, dtype: np.dtype,
                 values: dict[str, Any], batch: int | None = None) -> None:
        super().__init__(name, values)
        self.geometry = geometry
        self.batch = batch
        self.shape = geometry if batch is None else (batch,) + geometry
        self.size = int(np.prod(geometry))
        self.model = model
        self.dtype = dtype
        self.locality: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.role = "model"
        self.variables: list[str] = []
        self.stackable = False
        self.pure = False
        self.reads_constants = False
        self.make_update: Callable[[], Callable[[], Any] | None] = lambda: None
        self.make_replay: Callable[[Any], Callable[[], bool]] | None = None
        self.make_stop: Callable[[], Callable[[], Any]] | None = None
        self.compiled: Callable[[bool], None] = _ignore
        self.move: Callable[[Any], None] = _ignore
        self.promotable: set[str] = set()
        self.promote: Callable[[str], None] = _ignore
        self.borrowed = False
        self.lends = False

    def writable(self, key: str, keep: bool = True) -> Any:
        """``values[key]`` to write into: when it is a borrowed ``r``, an array of the record's own first.

        ``keep``: the new array starts with the borrowed values (a partial
        write follows); False when the whole array is about to be written.

        Examples
        --------
        >>> import numpy as np
        >>> caller = np.ones(3)
        >>> state = PopulationState("p", (3,), None, np.dtype(float), {"r": caller})
        >>> state.borrowed = True
        >>> state.writable("r")[0] = 5.0
        >>> caller.tolist(), state.values["r"].tolist(), state.borrowed
        ([1.0, 1.0, 1.0], [5.0, 1.0, 1.0], False)
        """
        if key == "r" and self.borrowed:
            lent = self.values["r"]
            self.values["r"] = np.array(lent, order="C") if keep else np.empty(lent.shape, dtype=lent.dtype)
            self.borrowed = False
        return self.values[key]

    def per_sample(self, key: str) -> np.ndarray:
        """A population-level value of a batched population, one per sample: a ``(B, 1, ...)`` array."""
        assert self.batch is not None
        return np.array(np.broadcast_to(self.values[key], (self.batch,) + (1,) * len(self.geometry)))

    def set_per_sample(self, key: str, values: Any) -> None:
        """Hold a batched population-level value (``values``: one per sample, or one for all).

        A parameter whose samples agree is held as one NumPy scalar, as
        without a batch: the generated code then runs as fast (an array of
        shape ``(B, 1, ...)`` broadcast in every operation costs NumPy its
        in-place reuse of temporaries).  Variables (written in place by the
        update) are always arrays.
        """
        assert self.batch is not None
        shape = (self.batch,) + (1,) * len(self.geometry)
        dtype = np.asarray(self.values[key]).dtype if key in self.values else self.dtype
        array = np.array(np.broadcast_to(np.asarray(values, dtype=dtype).reshape(-1, *(1,) * len(self.geometry))
                                         if np.ndim(values) else values, shape), dtype=dtype)
        if key in self.variables:
            current = self.values.get(key)
            if isinstance(current, np.ndarray) and current.shape == shape:
                current[...] = array
            else:
                self.values[key] = array
        elif bool((array == array.flat[0]).all()) or bool(np.isnan(array).all()):
            self.values[key] = array.flat[0]
        else:
            self.values[key] = array

    @property
    def targets(self) -> list[str]:
        """The targets this population holds a ``sum(target)`` array for."""
        return sorted(key[5:] for key in self.values if key.startswith("_sum_"))

    def ensure_sum(self, target: str) -> np.ndarray:
        """The ``sum(target)`` array, created (zero) when missing."""
        key = sum_key(target)
        array = self.values.get(key)
        if array is None:
            array = np.zeros(self.shape, dtype=self.dtype)
            self.values[key] = array
            self.track(key)
        return array

    def update_reads(self) -> list[str]:
        """What the model's update reads besides its own variables: its sums and parameters."""
        model = self.model
        targets = self.targets if model.uses_sum_all else [t for t in model.targets if sum_key(t) in self.values]
        params = [name for name in self.locality if name not in self.variables]
        return [sum_key(t) for t in targets] + params


class Transmission:
    """How a projection adds into ``post``'s ``sum(target)``, for the plan to build an operator.

    ``kind`` is ``"dense"`` or ``"sparse"`` (``weights @ pre.r`` with the
    weights of ``source`` under ``"w"``, stored as ``storage``), ``"kernel"``
    (Convolution, Pooling) or ``"generic"`` (any psp and operation).  For the
    last two, ``compute(sources)`` returns a function writing the contribution
    into a flat array of post's size; ``sources`` is the plan's reader of
    (possibly delayed) pre-synaptic values, see :mod:`ratenet.plan.delays`.
    A kernel may also give ``compute_batch(sources, B)``: the same for a whole
    batch in one call, into a ``(B, post size)`` array, each row with the bits
    of ``compute`` over that sample alone.

    What it reads, for the plan to know when its result may change: ``reads``
    (records and names: its weights...), ``pre_vars`` of pre through the delay,
    ``pre_live`` of pre and ``post_vars`` of post as they are now; ``volatile``
    when it also reads time or random draws, ``constants`` when it reads
    :class:`~ratenet.Constant` values.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b, name="ab").connect_one_to_one(1.0, delays=2.0)
    >>> t = net.registry.state(proj).transmission()
    >>> t.kind, t.delay, t.description, [state.label(key) for state, key in t.reads]
    ('csr', 2, 'w * pre.r (delay 2 steps)', ['ab.w'])
    """

    def __init__(self, kind: str, pre: Any, post: Any, target: str, delay: Any, description: str,
                 source: State | None = None, storage: Any = None, transposed: bool = False,
                 reads: list[tuple[State, str]] | None = None, pre_vars: Sequence[str] = ("r",),
                 pre_live: Sequence[str] = (), post_vars: Sequence[str] = (), volatile: bool = False,
                 constants: bool = False, fusable: bool = False,
                 compute: Callable[[Any], Callable[[np.ndarray], None]] | None = None,
                 compute_batch: Callable[[Any, int], Callable[[np.ndarray], None]] | None = None) -> None:
        # A plain class, not a dataclass: each dataclass costs about 0.4 ms of `import ratenet`.
        self.kind, self.pre, self.post, self.target, self.delay = kind, pre, post, target, delay
        self.description, self.source, self.storage, self.transposed = description, source, storage, transposed
        self.reads: list[tuple[State, str]] = [] if reads is None else reads
        self.pre_vars, self.pre_live, self.post_vars = pre_vars, pre_live, post_vars
        self.volatile, self.constants = volatile, constants
        self.fusable, self.compute, self.compute_batch = fusable, compute, compute_batch

    def __repr__(self) -> str:
        return f"Transmission({self.kind!r}, {self.description!r})"


class Learning:
    """A projection's learning rule: ``stages`` run in order, every ``period`` steps from ``offset``.

    ``ProjectionState.learning(defer)`` returns it; ``defer`` names the
    synaptic attributes that nothing but the rule reads during a run (their
    updates may wait until the end of the run: see :mod:`ratenet._shortcuts`).

    Examples
    --------
    >>> from ratenet import Hebb, Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b, "exc", Hebb()).connect_all_to_all(0.5)
    >>> learning = net.registry.state(proj).learning()
    >>> learning.sets, learning.period
    (['w'], 1)
    """

    def __init__(self, stages: list[Callable[[], Any]], period: int, offset: int, sets: list[str],
                 description: str, settle: Callable[[], None] | None = None,
                 deferred: list[str] | None = None) -> None:
        self.stages, self.period, self.offset, self.sets = stages, period, offset, sets
        self.description = description
        #: adds what the stages left pending (deferred updates: see :mod:`ratenet._shortcuts`); the plan
        #: calls it at the end of every run
        self.settle = settle
        #: the synaptic attributes whose updates wait (for ``step_order``)
        self.deferred: list[str] = [] if deferred is None else deferred

    def __repr__(self) -> str:
        return f"Learning({self.description!r}, period={self.period}, offset={self.offset})"


class Rewiring:
    """A projection's structural plasticity rule (``"creating"`` or ``"pruning"``), every ``period`` steps
    from ``offset``.

    ``apply()`` evaluates the rule once, adds or removes synapses, and returns
    whether it changed any: the storage then has a new layout, so the network
    builds its step plan again before the next step.

    Examples
    --------
    >>> rule = Rewiring("pruning", 100, 0, lambda: False, "age > T : proba=0.2")
    >>> rule.kind, rule.period
    ('pruning', 100)
    """

    def __init__(self, kind: str, period: int, offset: int, apply: Callable[[], bool], description: str) -> None:
        self.kind, self.period, self.offset, self.apply, self.description = kind, period, offset, apply, description

    def __repr__(self) -> str:
        return f"Rewiring({self.kind!r}, {self.period}, {self.offset}, {self.description!r})"


class ProjectionState(State):
    """A projection's synaptic arrays and how it transmits and learns.

    ``values`` holds the synaptic attributes (``w`` first) in the layout of
    ``storage`` (see :mod:`ratenet.projections.storage`), ``delays`` the
    delays in ms (a number, or one per synapse); ``transmission()``
    and ``learning()`` describe the work of a step (see :class:`Transmission`
    and :class:`Learning`), ``rewiring()`` its structural plasticity rules
    that are switched on (:class:`Rewiring`, creating first), ``history_needs()`` the delayed values it reads as
    ``(population, variable, depth)``, ``recordable(name)`` what a monitor
    records: ``(getter, sample shape, dtype)``, ``before_write()`` what must
    happen before a write from Python (a copy-on-write snapshot), and
    ``compiled(first)`` is called at each build of the plan (as for
    populations), ``check_connected()`` raises a clear error if a connector
    has not been called yet.  ``save_kind`` is the prefix of its
    entries in a state file (None: nothing of its own to save), and
    ``export()``, ``check(saved, prefix, where)`` and ``restore(saved)`` write
    and read them (see :mod:`ratenet.io`): ``check`` refuses, before any
    change, an entry of the wrong dtype, shape or value, naming its key
    (``prefix`` + field) and ``where`` (the load call).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(3, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b).connect_all_to_all(0.5, storage_format="dense")
    >>> state = net.registry.state(proj)
    >>> state.storage.kind, state.values["w"].shape, state.delays, state.save_kind
    ('dense', (2, 3), 0.0, 'proj')
    """

    __slots__ = ("storage", "locality", "delays", "transmission", "learning", "rewiring", "history_needs",
                 "save_kind", "export",
                 "check", "restore", "recordable", "before_write", "compiled", "check_connected")

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.storage: Any = None
        self.locality: dict[str, str] = {}
        self.delays: Any = 0.0
        self.transmission: Callable[[], Transmission] = _unconnected
        self.learning: Callable[..., Learning | None] = lambda defer=None: None
        self.rewiring: Callable[[], list[Rewiring]] = list
        self.history_needs: Callable[[], list[tuple[Any, str, int]]] = lambda: []
        self.save_kind: str | None = None
        self.export: Callable[[], dict[str, np.ndarray]] = dict
        self.check: Callable[[dict[str, np.ndarray], str, str], None] = lambda saved, prefix, where: None
        self.restore: Callable[[dict[str, np.ndarray]], None] = lambda saved: None
        self.recordable: Callable[[str], tuple[Callable[[], Any], tuple[int, ...], Any]] = _unrecordable
        self.before_write: Callable[[], None] = _nothing
        self.compiled: Callable[[bool], None] = _ignore
        self.check_connected: Callable[[], None] = _nothing


def _nothing() -> None:
    pass


def _ignore(first: Any) -> None:
    pass


def _unrecordable(var: str) -> Any:  # pragma: no cover - every projection sets its own
    raise RuntimeError("nothing to record")


def _unconnected() -> Transmission:  # pragma: no cover - the network refuses unconnected projections first
    raise RuntimeError("projection not connected")
