"""Blocks: populations updated together.

Populations of the same neuron model are *stacked*: their arrays become views
into one array per variable, and one generated update runs for all of them.
A network of many small populations then costs a few NumPy calls per step,
not a few per population.  Only models whose equations act neuron by neuron
and draw no random numbers are stacked (see
:attr:`~ratenet.state.PopulationState.stackable`): a stacked update computes,
element by element, exactly what separate updates would.

Members agree on their population-level parameters (one value each, used as
a single number, exactly as a population alone uses it: an array of equal
values would not always give the same bits, e.g. ``exp`` over an array).  When
a value set from Python breaks that agreement, the block says so before the
next run and the plan is built again.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..population import model_namespace, update_function
from ..state import PopulationState, sum_key

__all__ = ["Block", "form_blocks"]


class Block:
    """One population, or several of the same model stacked into shared arrays.

    Attributes
    ----------
    members : list of PopulationState
    offsets : dict
        Position of each member (by id of its record) in the stacked arrays.
    size : int
    values : dict
        The namespace the block's update runs in (the member's own for a
        single population).
    update : callable or None
        The compiled update (None for inputs).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> model = Neuron(equations="r = 1 + sum(exc)")
    >>> a, b = net.create(2, model, name="a"), net.create(3, model, name="b")
    >>> block, = net.plan.blocks
    >>> block.name, block.size, block.rows(net.registry.state(b))
    ('a+b', 5, slice(2, 5, None))
    >>> net.step(); b.r.tolist()   # one update ran for both
    [1.0, 1.0, 1.0]
    """

    def __init__(self, members: Sequence[PopulationState], clock: Any, dt: float, rng: np.random.Generator,
                 dtype: Any) -> None:
        self.members = list(members)
        self.offsets: dict[int, int] = {}
        offset = 0
        for state in self.members:
            self.offsets[id(state)] = offset
            offset += state.size
        self.size = offset
        self.name = "+".join(state.name for state in self.members)
        self.shared: dict[str, list[int]] = {}
        self.targets: list[str] = []
        self.split = False
        self.locality: dict[str, str] = {}
        self.views: dict[int, dict[str, np.ndarray]] = {}
        first = self.members[0]
        if len(self.members) == 1:
            self.values = first.values
            self.update: Callable[[], Any] | None = first.make_update()
        else:
            self.values = self._stack(clock, dt, rng, dtype)

    # -------------------------------------------------------------- stacking
    def _stack(self, clock: Any, dt: float, rng: np.random.Generator, dtype: Any) -> dict[str, Any]:
        members = self.members
        first = members[0]
        locality = first.locality
        self.locality = dict(locality)  # a parameter made local later (see Population._promote) breaks the block
        ns: dict[str, Any] = {}
        for state in members:
            self.views[id(state)] = {}
        # with a batch axis, the members sit side by side in each sample's row (their views are
        # (B, *geometry) arrays whose rows are contiguous, not the whole array)
        flat = (-1,) if first.batch is None else (first.batch, -1)
        for name, level in locality.items():
            if level == "local":
                ns[name] = np.concatenate([state.values[name].reshape(flat) for state in members], axis=-1)
            else:
                self.shared[name] = [-1] * len(members)
        self._sync(ns)
        targets = self.targets = stacked_targets(first)
        for target in targets:
            key = sum_key(target)
            ns[key] = np.concatenate([state.ensure_sum(target).reshape(flat) for state in members], axis=-1)
        for state in members:
            part = self.rows(state)
            for name, level in locality.items():
                if level == "local":
                    view = ns[name][..., part].reshape(state.shape)
                    state.adopt(name, view)
                    self.views[id(state)][name] = view
            for target in targets:
                key = sum_key(target)
                view = ns[key][..., part].reshape(state.shape)
                state.adopt(key, view)
                self.views[id(state)][key] = view
        self.values = ns
        self.compile(clock, dt, rng, dtype)
        return ns

    def compile(self, clock: Any, dt: float, rng: np.random.Generator, dtype: Any) -> None:
        """(Re)build the stacked update (dt and the generator may have changed since the last plan)."""
        first = self.members[0]
        batched = first.batch is not None
        # stacked models draw no random numbers: no generator per sample needed
        model_namespace(first.model, self.values, (self.size,), clock, dt, rng, dtype, first.locality)
        self.update = update_function(first.model, self.values, first.locality, self.targets, [],
                                      f"update {self.name}", dtype, batched=batched)

    def _sync(self, ns: dict[str, Any]) -> None:
        """Take in the members' population-level parameters (changed from Python since the last time)."""
        for name, seen in self.shared.items():
            versions = [state.version(name) for state in self.members]
            if versions == seen:
                continue
            self.shared[name] = versions
            values = [state.values[name] for state in self.members]
            if len({_bits(v) for v in values}) > 1:
                self.split = True  # the members no longer agree: this block must be formed again
            value = values[0]
            if isinstance(value, np.ndarray) and value.ndim:  # one per sample: (B, 1) against (B, size)
                value = value.reshape(len(value), 1)
            ns[name] = value

    def prepare(self) -> None:
        """Before a run: take in population-level parameters changed from Python."""
        if self.shared:
            self._sync(self.values)

    def intact(self) -> bool:
        """Whether the members still hold this block's arrays (so the block can be reused)."""
        if len(self.members) == 1 or self.split:
            return False
        for state in self.members:
            if state.locality != self.locality:
                return False
            views = self.views[id(state)]
            if any(state.values.get(name) is not view for name, view in views.items()):
                return False
            if stacked_targets(state) != self.targets:
                return False
        return True

    def rows(self, state: PopulationState) -> slice:
        """The rows of a member in the stacked arrays."""
        start = self.offsets[id(state)]
        return slice(start, start + state.size)

    def flat(self, key: str) -> np.ndarray:
        """The block's array ``key``, flat (a member's own array for a single population; unbatched)."""
        return self.values[key].reshape(-1)


def stacked_targets(state: PopulationState) -> list[str]:
    """The targets whose sums a stacked update reads: those its equations name, or all for ``sum()``.

    Members keep the others (fed by projections, read by nobody) in arrays of their own.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create(2, Neuron(parameters="r = 1.0"))
    >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
    >>> _ = net.connect(a, b, "other").connect_one_to_one(1.0)
    >>> _ = net.compile()   # every target a projection feeds gets its sum array
    >>> state = net.registry.state(b)
    >>> state.targets, stacked_targets(state)
    (['exc', 'other'], ['exc'])
    """
    if state.model.uses_sum_all:
        return state.targets
    return [t for t in state.targets if t in state.model.targets]


def _bits(value: Any) -> tuple[str, bytes]:
    array = np.asarray(value)
    return array.dtype.str, array.tobytes()


def shared_values(state: PopulationState) -> tuple[Any, ...]:
    """The population-level parameters of a population, exactly (for grouping equal ones).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create(2, Neuron(parameters="tau = 2.0 : population\\nb = 1.0", equations="r = b"))
    >>> [name for name, _ in shared_values(pop.network.registry.state(pop))]
    ['tau']
    """
    return tuple((name, _bits(state.values[name])) for name, level in state.locality.items() if level != "local")


#: A batched network stacks populations only while a stacked array stays below this (bytes).  The
#: generated update makes a temporary array or two per step; past glibc's thresholds (128 kB to
#: mmap, about 1 MB to give memory back) every step then pays page faults for them, which cost far
#: more than the Python calls stacking saves (measured on the ring of 10 x 100 neurons, B = 64: 7x
#: slower stacked).  Unbatched stacks are small anyway.
STACK_BYTES = 1 << 17


def _small_enough(states: Sequence[PopulationState]) -> bool:
    """Whether stacking the populations of a batched network keeps every stacked array small."""
    total: dict[int, int] = {}
    for state in states:
        total[id(state.model)] = total.get(id(state.model), 0) + state.size
    batch = states[0].batch or 1
    return max(total.values()) * batch * np.dtype(states[0].dtype).itemsize <= STACK_BYTES


def form_blocks(states: Sequence[PopulationState], previous: dict[tuple[int, ...], Block], stack: bool,
                clock: Any, dt: float, rng: np.random.Generator, dtype: Any) -> list[Block]:
    """Group the populations into blocks (reusing intact ones); one block per population unless ``stack``.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> model = Neuron(equations="r = 1 + sum(exc)")
    >>> states = [net.registry.state(net.create(2, model)) for _ in range(3)]
    >>> clock = net.registry.clock
    >>> [len(b.members) for b in form_blocks(states, {}, True, clock, net.dt, net.rng, net.dtype)]
    [3]
    >>> [len(b.members) for b in form_blocks(states, {}, False, clock, net.dt, net.rng, net.dtype)]
    [1, 1, 1]
    """
    groups: dict[tuple[int, tuple[str, ...], tuple[Any, ...]], list[PopulationState]] = {}
    if states and states[0].batch is not None:
        stack = stack and _small_enough(states)
    for state in states:
        # with sum(), stacked members need the same targets (the update adds them all), and members
        # share their population-level parameters' values
        key = (id(state.model), tuple(stacked_targets(state)), shared_values(state)) \
            if stack and state.stackable else (id(state), (), ())
        groups.setdefault(key, []).append(state)
    blocks: list[Block] = []
    for members in groups.values():
        old = previous.get(tuple(id(s) for s in members))
        if old is not None and old.intact():
            old.compile(clock, dt, rng, dtype)
            blocks.append(old)
        else:
            blocks.append(Block(members, clock, dt, rng, dtype))
    return blocks
