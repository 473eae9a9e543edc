"""Delays: ring buffers of past values, and the readers projections use.

A delay of d steps reads ``pre.var`` as it was at the end of step ``n - d``
(``n``: the current step); ``d = 1`` is the ordinary lag and reads the live
array.  Longer delays read a :class:`History`, which keeps the last ``depth``
end-of-step values: the value at the end of step ``m`` lives in slot
``m % depth``, and every slot starts with the value at compile (or reset)
time, which is therefore what a delayed read returns before the run has gone
back far enough.

Versions.  A history stamps every slot with a version of its own (it grows
when the source's version changed since the previous push), and keeps, for
each delay range ``[dmin, dmax]`` its readers use, a *window version* that
grows whenever the values such a reader sees change from one step to the
next: slots ``n - dmax .. n - dmin`` at step ``n`` hold the same values as
slots ``n - 1 - dmax .. n - 1 - dmin`` at step ``n - 1`` exactly when every
stamp from ``n - 1 - dmax`` to ``n - dmin`` is the same, and stamps only grow,
so comparing the two ends is enough.  Readers skipping unchanged work compare
window versions like any other version.

:class:`Sources` is what a projection's ``compute(sources)`` (see
:class:`~ratenet.state.Transmission`) receives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Callable

import numpy as np

from ..registry import Clock
from ..state import PopulationState, Ref, State

__all__ = ["History", "Sources", "SampleSources", "LiveView", "Delayed"]


class History:
    """The last ``depth`` end-of-step values of one population variable, with versions.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> from ratenet.state import State
    >>> state = State("pop", {"r": np.zeros(2)}); state.track("r")
    >>> clock = Clock()
    >>> history = History(state, "r", 3, clock)
    >>> state.values["r"][...] = 1.0; state.bump("r"); history.push()   # the end of step 0
    >>> clock.step = 1
    >>> history.read(1).tolist(), history.read(2).tolist()
    ([1.0, 1.0], [0.0, 0.0])
    """

    def __init__(self, state: State, var: str, depth: int, clock: Clock) -> None:
        self.state = state
        self.var = var
        self.depth = depth
        self.clock = clock
        source = np.asarray(state.values[var])
        self.ring = np.empty((depth,) + source.shape, dtype=source.dtype)
        self.stamps = [0] * depth
        self.counter = 0
        self.source_version = -1
        self.versions = State(f"{state.name}.{var} history")
        self.windows: dict[tuple[int, int], int] = {}
        self.refill()

    @property
    def name(self) -> str:
        return self.state.name

    def window(self, dmin: int, dmax: int) -> Ref:
        """The version of what a reader with delays ``dmin..dmax`` sees."""
        key = f"{dmin}..{dmax}"
        if key not in self.versions.slots:
            self.versions.track(key)
            self.windows[(dmin, dmax)] = self.versions.slots[key]
        return self.versions.ref(key)

    def _source_version(self) -> int:
        return self.state.version(self.var)

    def refill(self) -> None:
        """Every slot takes the current value (compile time, reset)."""
        self.ring[...] = self.state.values[self.var]
        self.counter += 1
        self.stamps = [self.counter] * self.depth
        self.source_version = self._source_version()
        self.versions.bump_all()

    def take_over(self, old: "History") -> None:
        """Continue ``old`` (the same variable with another depth): keep the values it still holds.

        Steps older than what ``old`` kept take the oldest value it has.

        Examples
        --------
        >>> import numpy as np
        >>> from ratenet.registry import Clock
        >>> from ratenet.state import State
        >>> state = State("p", {"r": np.zeros(1)}); state.track("r")
        >>> clock = Clock(); old = History(state, "r", 2, clock)
        >>> for step in range(3):
        ...     clock.step = step; state.values["r"][...] = step; state.bump("r"); old.push()
        >>> clock.step = 3; new = History(state, "r", 4, clock); new.take_over(old)
        >>> [new.read(d).item() for d in (1, 2, 3, 4)]
        [2.0, 1.0, 1.0, 1.0]
        """
        n = self.clock.step
        kept = min(old.depth, self.depth)
        for k in range(self.depth, 0, -1):
            self.ring[(n - k) % self.depth] = old.ring[(n - min(k, kept)) % old.depth]
        self.restamp()

    def restamp(self) -> None:
        """Give every slot a version of its own (after a load or a jump in time)."""
        n = self.clock.step
        for k in range(self.depth, 0, -1):  # oldest first: stamps grow with the step they belong to
            self.counter += 1
            self.stamps[(n - k) % self.depth] = self.counter
        self.versions.bump_all()

    def push(self) -> None:
        """Keep the value at the end of the current step; update the window versions for the next one."""
        m = self.clock.step
        depth = self.depth
        slot = m % depth
        oldest = self.stamps[slot]  # the stamp of step m - depth, about to be overwritten
        version = self.state.versions[self.state.slots[self.var]]
        if version != self.source_version:
            self.counter += 1
            self.source_version = version
        self.ring[slot] = self.state.values[self.var]
        stamps = self.stamps
        stamps[slot] = self.counter
        versions = self.versions.versions
        for (dmin, dmax), index in self.windows.items():
            newest = stamps[(m + 1 - dmin) % depth]
            before = oldest if dmax == depth else stamps[(m - dmax) % depth]
            if newest != before:
                versions[index] += 1

    def replace_last(self) -> None:
        """A value set from Python between runs replaces the value at the end of the last step."""
        n = self.clock.step
        slot = (n - 1) % self.depth
        self.ring[slot] = self.state.values[self.var]
        version = self._source_version()
        if version != self.source_version:
            self.counter += 1
            self.source_version = version
            self.stamps[slot] = self.counter
            for (dmin, _), index in self.windows.items():
                if dmin == 1:  # read at the next step
                    self.versions.versions[index] += 1

    def read(self, delay: int) -> np.ndarray:
        """The value at the end of step ``n - delay``."""
        return self.ring[(self.clock.step - delay) % self.depth]


class LiveView:
    """Values of a population variable at some ranks, in their order (gathered at each call).

    With a batch of ``batch`` samples, one row per sample.

    Examples
    --------
    >>> import numpy as np
    >>> LiveView({"r": np.array([1.0, 2.0, 3.0])}, "r", np.array([2, 0]))().tolist()
    [3.0, 1.0]
    """

    __slots__ = ("values", "var", "ranks", "rows")

    def __init__(self, values: dict[str, Any], var: str, ranks: np.ndarray, batch: int | None = None) -> None:
        self.values, self.var, self.ranks = values, var, ranks
        self.rows: Any = -1 if batch is None else (batch, -1)

    def __call__(self) -> np.ndarray:
        return self.values[self.var].reshape(self.rows).take(self.ranks, axis=-1)


class Live:
    """A population variable, flat (looked up at each call: population-level values are rebound).

    Examples
    --------
    >>> import numpy as np
    >>> Live({"r": np.ones((2, 2))}, "r")().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    __slots__ = ("values", "var", "rows")

    def __init__(self, values: dict[str, Any], var: str, batch: int | None = None) -> None:
        self.values, self.var = values, var
        self.rows: Any = -1 if batch is None else (batch, -1)

    def __call__(self) -> np.ndarray:
        return self.values[self.var].reshape(self.rows)


class Delayed:
    """A population variable ``delay`` steps back, flat, optionally at some ranks.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> from ratenet.state import State
    >>> state = State("p", {"r": np.zeros(2)}); state.track("r")
    >>> clock = Clock()
    >>> history = History(state, "r", 2, clock)
    >>> state.values["r"][...] = [1.0, 2.0]; state.bump("r"); history.push(); clock.step = 1
    >>> Delayed(history, 1, None)().tolist(), Delayed(history, 2, np.array([1]))().tolist()
    ([1.0, 2.0], [0.0])
    """

    __slots__ = ("ring", "depth", "delay", "clock", "ranks")

    def __init__(self, history: Any, delay: int, ranks: np.ndarray | None, batch: int | None = None) -> None:
        self.ring = history.ring.reshape((history.depth, -1) if batch is None else (history.depth, batch, -1))
        self.depth = history.depth
        self.delay = delay
        self.clock = history.clock
        self.ranks = ranks

    def __call__(self) -> np.ndarray:
        values = self.ring[(self.clock.step - self.delay) % self.depth]
        return values if self.ranks is None else values.take(self.ranks, axis=-1)


class PerSynapse:
    """One pre-synaptic value per synapse, each through its own delay.

    ``positions`` are the pre ranks of the synapses (in the storage layout).

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> from ratenet.state import State
    >>> state = State("p", {"r": np.zeros(2)}); state.track("r")
    >>> clock = Clock()
    >>> history = History(state, "r", 2, clock)
    >>> state.values["r"][...] = [1.0, 2.0]; state.bump("r"); history.push(); clock.step = 1
    >>> PerSynapse(history, np.array([1, 2, 1]), np.array([0, 0, 1]))().tolist()
    [1.0, 0.0, 2.0]
    """

    __slots__ = ("flat", "size", "depth", "delays", "positions", "clock")

    def __init__(self, history: History, delays: np.ndarray, positions: np.ndarray) -> None:
        ring = history.ring.reshape(history.depth, -1)
        self.flat = ring.reshape(-1)
        self.size = ring.shape[1]
        self.depth = history.depth
        self.delays = delays
        self.positions = positions
        self.clock = history.clock

    def __call__(self) -> np.ndarray:
        slots = (self.clock.step - self.delays) % self.depth
        return self.flat[slots * self.size + self.positions]


class SampleHistory:
    """One sample's slice of a batched :class:`History` (what a per-sample reader sees).

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> from ratenet.state import State
    >>> state = State("p", {"r": np.array([[1.0, 2.0], [3.0, 4.0]])}); state.track("r")
    >>> history = History(state, "r", 2, Clock())
    >>> SampleHistory(history, 1).read(2).tolist()
    [3.0, 4.0]
    """

    def __init__(self, history: History, sample: int) -> None:
        self.ring = history.ring[:, sample]
        self.depth = history.depth
        self.clock = history.clock
        self.state = history.state
        self.var = history.var

    def read(self, delay: int) -> np.ndarray:
        return self.ring[(self.clock.step - delay) % self.depth]


class SamplePerSynapse:
    """:class:`PerSynapse` over one sample's slice of a batched history (the slice is not contiguous)."""

    __slots__ = ("ring", "depth", "delays", "positions", "clock")

    def __init__(self, history: SampleHistory, delays: np.ndarray, positions: np.ndarray) -> None:
        self.ring = history.ring.reshape(history.depth, -1)
        self.depth = history.depth
        self.delays = delays
        self.positions = positions
        self.clock = history.clock

    def __call__(self) -> np.ndarray:
        return self.ring[(self.clock.step - self.delays) % self.depth, self.positions]


class SampleState:
    """One sample of a batched population's record: its values are views of row ``sample``.

    Population-level values (``(B, 1, ...)`` arrays) become ``(1, ...)`` views.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.state import State
    >>> state = State("p", {"r": np.arange(6.0).reshape(2, 3)})
    >>> SampleState(state, 1, 2).values["r"].tolist()
    [3.0, 4.0, 5.0]
    """

    def __init__(self, state: Any, sample: int, batch: int) -> None:
        self.name = f"{state.name}[sample {sample}]"
        self.record = state
        self.lends = getattr(state, "lends", False)
        self.values = SampleValues(state.values, sample, batch)


class SampleValues(Mapping):
    """A record's values seen by one sample, looked up at each access (population-level values are rebound).

    Examples
    --------
    >>> import numpy as np
    >>> values = SampleValues({"r": np.arange(4.0).reshape(2, 2), "tau": 5.0}, 1, 2)
    >>> values["r"].tolist(), values["tau"]
    ([2.0, 3.0], 5.0)
    """

    def __init__(self, values: dict[str, Any], sample: int, batch: int) -> None:
        self.source, self.sample, self.batch = values, sample, batch

    def __getitem__(self, key: str) -> Any:
        value = self.source[key]
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == self.batch:
            return value[self.sample]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.source)

    def __len__(self) -> int:
        return len(self.source)


class Sources:
    """How operators and projections read pre-synaptic values, through delays.

    Given to a projection's ``compute(sources)``; ``population`` arguments may
    be views.  ``delay`` counts steps (1: the ordinary lag, the live array).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="r = 0.0"))
    >>> pop.r = [1.0, 2.0, 3.0]
    >>> sources = Sources(net.registry, {}, net.registry.clock)
    >>> sources.flat(pop[1:3], "r", 1)().tolist()
    [2.0, 3.0]
    """

    def __init__(self, registry: Any, histories: dict[tuple[int, str], History], clock: Clock,
                 batch: int | None = None) -> None:
        self.registry = registry
        self.histories = histories
        self.clock = clock
        self.batch = batch

    def _state(self, population: Any) -> PopulationState:
        state: PopulationState = self.registry.state(population)
        return state

    def state(self, population: Any) -> Any:
        """The record a reader takes ``population``'s values from."""
        return self._state(population)

    def _ranks(self, population: Any) -> np.ndarray | None:
        return None if population.population is population else population.ranks

    def history(self, population: Any, var: str) -> History:
        return self.histories[(id(population.population), var)]

    def flat(self, population: Any, var: str, delay: int) -> Callable[[], np.ndarray]:
        """A function returning ``var`` flat, in the order of ``population`` (a view's ranks)."""
        ranks = self._ranks(population)
        if delay <= 1:
            values = self._state(population).values
            return Live(values, var, self.batch) if ranks is None else LiveView(values, var, ranks, self.batch)
        return Delayed(self.history(population, var), delay, ranks, self.batch)

    def array(self, population: Any, var: str, delay: int) -> Callable[[], np.ndarray]:
        """A function returning ``var`` shaped like the population's geometry (a whole population)."""
        if delay <= 1:
            values = self._state(population).values
            if self.registry.state(population).lends:  # another array at each assignment: looked up at each call
                return lambda: values[var]
            array = values[var]
            return lambda: array
        history = self.history(population, var)
        return lambda: history.read(delay)

    def per_synapse(self, population: Any, var: str, delays: np.ndarray, columns: np.ndarray
                    ) -> Callable[[], np.ndarray]:
        """A function returning, for every synapse, pre's ``var`` through that synapse's delay."""
        return PerSynapse(self.history(population, var), delays, population.ranks[columns])

    def version(self, population: Any, var: str, dmin: int, dmax: int) -> tuple[State, str]:
        """The record and name whose version changes when what such a read returns changes."""
        if dmax <= 1:
            return self._state(population), var
        history = self.history(population, var)
        history.window(dmin, dmax)
        return history.versions, f"{dmin}..{dmax}"


class SampleSources(Sources):
    """What a projection reads for one sample of a batch: every value is that sample's slice.

    A transmission without a batched kernel of its own (any psp, Convolution,
    Pooling...) is built once per sample over these: each sample then runs
    exactly the code of an unbatched network.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(batch=2)
    >>> pop = net.create(2, Neuron(parameters="r = 0.0"))
    >>> pop.r = [[1.0, 2.0], [3.0, 4.0]]
    >>> SampleSources(net.registry, {}, net.registry.clock, 1).flat(pop, "r", 1)().tolist()
    [3.0, 4.0]
    """

    def __init__(self, registry: Any, histories: dict[tuple[int, str], History], clock: Clock, sample: int) -> None:
        super().__init__(registry, histories, clock)
        self.sample = sample
        self.samples: dict[int, SampleState] = {}
        self.sample_histories: dict[tuple[int, str], SampleHistory] = {}

    def _state(self, population: Any) -> Any:
        state = self.registry.state(population)
        found = self.samples.get(id(state))
        if found is None:
            found = self.samples[id(state)] = SampleState(state, self.sample, state.batch)
        return found

    def history(self, population: Any, var: str) -> Any:
        key = (id(population.population), var)
        found = self.sample_histories.get(key)
        if found is None:
            found = self.sample_histories[key] = SampleHistory(self.histories[key], self.sample)
        return found

    def per_synapse(self, population: Any, var: str, delays: np.ndarray, columns: np.ndarray
                    ) -> Callable[[], np.ndarray]:
        return SamplePerSynapse(self.history(population, var), delays, population.ranks[columns])

    def version(self, population: Any, var: str, dmin: int, dmax: int) -> tuple[State, str]:
        raise NotImplementedError("the plan takes versions from the batch's Sources")
