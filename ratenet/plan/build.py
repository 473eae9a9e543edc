"""Building the step plan: a network's objects -> a flat list of operators.

One step runs, in this order (DESIGN §3): the transmissions (projections
write into ``sum(target)``, reading ``pre`` as it was at the end of the
previous step), the updates of the populations, the finite check, the delay
histories, learning, the monitors.

Two plans can be built from the same network:

**Optimized** (the default): populations of the same model are stacked into
blocks, sparse projections between two blocks are fused into one product,
work whose reads did not change is skipped (:class:`~.operators.SkipUnchanged`),
and transmissions may run on several threads.

**Reference** (``Network(reference=True)``): one update per population, one
product per projection into a buffer of its own, the inputs of each
population added by :class:`~.operators.AddInputs`; nothing stacked, fused,
skipped or threaded.  It is the plainest correct reading of the semantics,
and what the optimized plan is compared with, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..neurons import constants_epoch
from ..projections.storage import matvec_function, matvecs_function
from ..state import PopulationState, ProjectionState, State, Transmission, python_writes, sum_key
from .blocks import Block, form_blocks
from .delays import History, SampleSources, Sources
from .operators import (
    Access,
    AddInputs,
    CheckFinite,
    InParallel,
    Learn,
    Rewire,
    Operator,
    PushHistory,
    Record,
    Replay,
    SkipUnchanged,
    SumInputs,
    TransmitDense,
    TransmitDenseBatch,
    TransmitDenseSamples,
    TransmitFusedGather,
    TransmitFusedSparse,
    TransmitGather,
    TransmitGatherBatch,
    TransmitKernel,
    TransmitPerSample,
    TransmitPsp,
    TransmitSparse,
    TransmitSparseBatch,
    UpdateBlock,
)

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["Plan", "build_plan"]


class Plan:
    """A built step plan: the operators, and what the network keeps between builds.

    Attributes
    ----------
    operators : list of Operator
        In execution order (wrapped by :class:`SkipUnchanged` where skipping applies).
    calls : list of callables
        What the loop calls, one per operator.
    blocks : list of Block
    histories : dict
        Ring buffers by (id of the population, variable).
    stops : dict
        Compiled stop conditions by id of the population.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
    >>> plan = net.plan
    >>> plan.lines(), len(plan.calls), plan.prepare()
    (['pop0: tau * dr/dt + r = 1.0  [UpdateBlock]'], 1, True)
    """

    def __init__(self, operators: list[Operator], blocks: list[Block], histories: dict[tuple[int, str], History],
                 stops: dict[int, Callable[[], Any]], constants: State, structure: int) -> None:
        self.operators = operators
        self.calls = [op.step() for op in operators]
        self.blocks = blocks
        self.histories = histories
        self.stops = stops
        self.constants = constants
        self.structure = structure
        self.constants_seen = constants_epoch()
        self.writes_seen = -1
        self.preparing = [op for op in operators if type(op).prepare is not Operator.prepare]
        self.settling = [op for op in _flatten(operators) if type(op).settle is not Operator.settle]
        self.skipping = [op for op in _flatten(operators) if isinstance(op, SkipUnchanged)]
        self.pool: ThreadPoolExecutor | None = None
        self.pool_threads = 0
        #: How many structural plasticity rules run (each may end a run: see :class:`Rewire`).
        self.rewires = 0
        #: Populations whose r may be an array lent by the caller (see PopulationState.lends).
        self.lenders: list[PopulationState] = []

    def prepare(self) -> bool:
        """Before a run: notice changed constants, stacked parameters, values set between runs.

        Returns False when the plan no longer fits the network (stacked populations whose
        population-level parameters now differ) and must be built again.
        """
        for state in self.lenders:
            if state.borrowed:  # its owner may have changed it in place since the last run: as if assigned
                state.bump("r")
        epoch = constants_epoch()
        if epoch != self.constants_seen:
            self.constants_seen = epoch
            self.constants.bump("constants")
        writes = python_writes()
        if writes == self.writes_seen:
            return True  # nothing written from Python since the last run: nothing to take in
        for op in self.preparing:
            op.prepare()
        self.writes_seen = python_writes()
        return not any(block.split for block in self.blocks)

    def settle(self) -> None:
        """After a run: every operator finishes the work it left pending (deferred learning updates)."""
        for op in self.settling:
            op.settle()

    def forget(self) -> None:
        """Make every skippable operator run at the next step (the time jumped)."""
        for op in self.skipping:
            op.forget()
        for history in self.histories.values():
            history.restamp()

    def lines(self) -> list[str]:
        return [str(op) for op in self.operators]


def _flatten(operators: Sequence[Operator]) -> list[Operator]:
    out: list[Operator] = []
    for op in operators:
        out.append(op)
        if isinstance(op, InParallel):
            out.extend(op.operators)
    return out


# ----------------------------------------------------------------------- pieces
def _histories(registry: Any, previous: dict[tuple[int, str], History]) -> dict[tuple[int, str], History]:
    """Create (or keep) the ring buffers that delayed projections read."""
    needed: dict[tuple[int, str], tuple[Any, int]] = {}
    for proj in registry.projections:
        for pop, var, depth in registry.state(proj).history_needs():
            key = (id(pop), var)
            needed[key] = (pop, max(depth, needed.get(key, (pop, 0))[1]))
    histories = {}
    for key, (pop, depth) in needed.items():
        old = previous.get(key)
        state = registry.state(pop)
        if old is not None and old.depth == depth and old.state is state and \
                old.ring.shape[1:] == np.shape(state.values[key[1]]):
            histories[key] = old
        else:
            histories[key] = History(state, key[1], depth, registry.clock)
            if old is not None and old.state is state and old.ring.shape[1:] == histories[key].ring.shape[1:]:
                histories[key].take_over(old)  # a delay changed: the values already kept stay valid
    return histories


def _delay_range(t: Transmission) -> tuple[int, int]:
    if np.ndim(t.delay) == 0:
        return int(t.delay), int(t.delay)
    existing = t.storage.synapse_values(t.delay)
    return (int(existing.min()), int(existing.max())) if existing.size else (1, 1)


class _Inputs:
    """Where each population's inputs go: one entry per (population, target), in projection order."""

    def __init__(self) -> None:
        self.by_target: dict[tuple[int, str], list[tuple[int, Transmission]]] = {}

    def add(self, index: int, t: Transmission, post: PopulationState) -> None:
        self.by_target.setdefault((id(post), t.target), []).append((index, t))

    def sole(self, t: Transmission, post: PopulationState) -> bool:
        return len(self.by_target[(id(post), t.target)]) == 1


class _Fused:
    """A fused product: its operator, the indices of its projections, and where each one's input lands
    when the product goes into a buffer (``buffer``: that buffer's record and name)."""

    def __init__(self, operator: Operator, members: list[int], rows: dict[int, np.ndarray],
                 buffer: Access | None) -> None:
        self.operator, self.members, self.rows, self.buffer = operator, members, rows, buffer


class _Builder:
    def __init__(self, net: Any, previous: Plan | None) -> None:
        self.net = net
        self.registry = registry = net.registry
        self.clock = registry.clock
        self.reference = bool(net.reference)
        self.batch: int | None = net.batch
        self.samples: list[SampleSources] = []  # what each sample of a batch reads (see transmit)
        self.skip = bool(net.skip_unchanged) and not self.reference
        self.buffers = State("inputs")
        self.constants = previous.constants if previous is not None else State("constants")
        self.constants.track("constants")
        self.always_run = State("plan")
        self.always_run.track("built")
        self.previous = previous
        self.executor: ThreadPoolExecutor | None = previous.pool if previous is not None else None

    def state(self, obj: Any) -> Any:
        return self.registry.state(obj)

    # ------------------------------------------------------------ transmissions
    def pre_reads(self, t: Transmission, sources: Sources) -> list[Access]:
        dmin, dmax = _delay_range(t)
        reads = [sources.version(t.pre, var, dmin, dmax) for var in t.pre_vars]
        pre, post = self.state(t.pre), self.state(t.post)
        reads += [(pre, var) for var in t.pre_live] + [(post, var) for var in t.post_vars]
        if t.constants:
            reads.append((self.constants, "constants"))
        return list(t.reads) + reads

    def transmit(self, t: Transmission, sources: Sources, out: np.ndarray, sets: list[Access]) -> Operator:
        """The operator computing one projection's contribution into ``out`` (flat, post's size)."""
        label = f"{self.name_of(t)}: {t.post.name}.sum({t.target}) = {t.description}"
        reads = self.pre_reads(t, sources)
        if self.batch is not None:
            return self.transmit_batch(t, sources, out, sets, label, reads)
        if t.kind in ("kernel", "generic"):
            assert t.compute is not None
            cls = TransmitKernel if t.kind == "kernel" else TransmitPsp
            return cls(label, t.compute(sources), out, reads, sets, always=t.volatile)
        weights = self.weights_of(t).values["w"]
        pre = self.pre_rates(t, sources)
        storage = t.storage
        if storage.kind == "dense":
            return TransmitDense(label, weights.T if t.transposed else weights, pre, out, reads, sets)
        columns = None if t.transposed else storage.one_per_row()
        if columns is not None:
            identity = len(columns) == storage.n_pre and bool(np.array_equal(columns, np.arange(storage.n_pre)))
            return TransmitGather(label, weights, None if identity else columns.astype(np.intp), pre, out,
                                  reads, sets, stretches=not self.reference)
        product = matvec_function(storage.indptr, storage.indices, weights, storage.n_pre, transposed=t.transposed)
        return TransmitSparse(label, product, pre, out, reads, sets)

    def transmit_batch(self, t: Transmission, sources: Sources, out: np.ndarray, sets: list[Access], label: str,
                       reads: list[Access]) -> Operator:
        """The same with a batch axis: ``out`` and pre's values have one row per sample."""
        assert self.batch is not None
        if t.kind == "kernel" and t.compute_batch is not None and not self.reference:
            # One kernel call over the whole batch (reference mode keeps one call per sample).
            return TransmitKernel(label, t.compute_batch(sources, self.batch), out, reads, sets, always=t.volatile)
        if t.kind in ("kernel", "generic"):
            assert t.compute is not None
            computes = [t.compute(sample) for sample in self.samples]
            return TransmitPerSample(label, computes, out, reads, sets, always=t.volatile)
        weights = self.weights_of(t).values["w"]
        pre = self.pre_rates(t, sources)
        storage = t.storage
        if weights.ndim == len(storage.shape) + 1:  # a learning synapse: one weight set per sample
            return self.transmit_own_weights(t, weights, pre, out, sets, label, reads)
        if storage.kind == "dense":
            return TransmitDenseBatch(label, weights.T if t.transposed else weights, pre, out, reads, sets,
                                      exact=self.reference)
        columns = None if t.transposed else storage.one_per_row()
        if columns is not None:
            identity = len(columns) == storage.n_pre and bool(np.array_equal(columns, np.arange(storage.n_pre)))
            return TransmitGatherBatch(label, weights, None if identity else columns.astype(np.intp), pre, out,
                                       reads, sets)
        assert self.batch is not None
        product = matvecs_function(storage.indptr, storage.indices, weights, storage.n_pre, self.batch, out.dtype,
                                   transposed=t.transposed)
        return TransmitSparseBatch(label, product, pre, out, reads, sets)

    def transmit_own_weights(self, t: Transmission, weights: np.ndarray, pre: Any, out: np.ndarray,
                             sets: list[Access], label: str, reads: list[Access]) -> Operator:
        """A batch where each sample has its own weights (``weights[b]``): one unbatched product per sample."""
        storage = t.storage
        if storage.kind == "dense":
            return TransmitDenseSamples(label, weights.transpose(0, 2, 1) if t.transposed else weights, pre, out,
                                        reads, sets)
        assert self.batch is not None
        computes = []
        for b in range(self.batch):
            product = matvec_function(storage.indptr, storage.indices, weights[b], storage.n_pre,
                                      transposed=t.transposed)
            computes.append(_sample_product(product, pre, b))
        return TransmitPerSample(label, computes, out, reads, sets)

    @staticmethod
    def weights_of(t: Transmission) -> State:
        assert t.source is not None, "dense and sparse transmissions name the record holding their weights"
        return t.source

    def pre_rates(self, t: Transmission, sources: Sources) -> np.ndarray | Callable[[], np.ndarray]:
        """pre.r as the product reads it: the flat array itself when it can (no call per step)."""
        state = self.state(t.pre)
        rates = state.values["r"]
        # an r the caller may lend is another array at each assignment: looked up at each call instead
        if t.delay == 1 and t.pre.population is t.pre and isinstance(rates, np.ndarray) and not state.lends:
            return rates.reshape(-1) if self.batch is None else rates.reshape(self.batch, -1)
        return sources.flat(t.pre, "r", int(t.delay))

    def rows_of(self, array: np.ndarray) -> np.ndarray:
        """A population array flat (one row per sample in a batch), as a view."""
        return array.reshape(-1) if self.batch is None else array.reshape(self.batch, -1)

    def name_of(self, t: Transmission) -> str:
        return self.projection_names[id(t)]

    def buffer(self, name: str, size: int, dtype: Any) -> tuple[np.ndarray, Access]:
        array = np.zeros(size if self.batch is None else (self.batch, size), dtype=dtype)
        self.buffers.values[name] = array
        self.buffers.track(name)
        return array, (self.buffers, name)

    def fuse(self, items: list[tuple[int, Transmission]], block_of: dict[int, Block], inputs: _Inputs,
             sources: Sources) -> list[_Fused]:
        """Sparse projections between the same two blocks (same target): one product per group.

        Members that are the only input of their target and sit side by side
        in the post block write straight into it; the others share one buffer,
        each member's rows of it being that projection's input.
        """
        groups: dict[tuple[Any, ...], list[tuple[int, Transmission]]] = {}
        for index, t in items:
            if not (t.fusable and t.delay == 1) or self.state(t.pre).lends:  # a fused product holds pre's array
                continue
            gather = t.storage.one_per_row() is not None
            key = (id(block_of[id(self.state(t.pre))]), id(block_of[id(self.state(t.post))]), t.target, gather)
            groups.setdefault(key, []).append((index, t))
        fused: list[_Fused] = []
        for (_, _, target, gather), members in groups.items():
            if len(members) < 2:
                continue
            pre_block = block_of[id(self.state(members[0][1].pre))]
            post_block = block_of[id(self.state(members[0][1].post))]
            sole = sorted((item for item in members if inputs.sole(item[1], self.state(item[1].post))),
                          key=lambda item: post_block.offsets[id(self.state(item[1].post))])
            shared = [item for item in members if not inputs.sole(item[1], self.state(item[1].post))]
            runs: list[list[tuple[int, Transmission]]] = []
            for item in sole:
                state = self.state(item[1].post)
                if runs:
                    last = self.state(runs[-1][-1][1].post)
                    if post_block.offsets[id(last)] + last.size == post_block.offsets[id(state)]:
                        runs[-1].append(item)
                        continue
                runs.append([item])
            if sum_key(target) not in post_block.values:  # a target the block's update does not read
                shared, runs = shared + [item for run in runs for item in run], []
            for run in runs:
                if len(run) > 1:
                    fused.append(self.fused_operator(run, pre_block, post_block, target, gather, sources, True))
            if len(shared) > 1:
                fused.append(self.fused_operator(shared, pre_block, post_block, target, gather, sources, False))
        return fused

    def fused_operator(self, run: list[tuple[int, Transmission]], pre_block: Block, post_block: Block, target: str,
                       gather: bool, sources: Sources, direct: bool) -> _Fused:
        posts = [self.state(t.post) for _, t in run]
        indptr_parts, indices, weights = [np.zeros(1, dtype=np.int64)], [], []
        total = 0
        for _, t in run:
            storage = t.storage
            indptr_parts.append(storage.indptr[1:].astype(np.int64) + total)
            total += storage.nnz
            indices.append(storage.indices.astype(np.int64) + pre_block.offsets[id(self.state(t.pre))])
            weights.append(self.weights_of(t).values["w"])
        w = np.concatenate(weights)
        # the members' weights become views of the fused ones: changes made from Python go through
        position = 0
        for (_, t), part in zip(run, weights):
            self.weights_of(t).adopt("w", w[position:position + len(part)])
            position += len(part)
        columns = np.concatenate(indices)
        pre = pre_block.flat("r")
        names = "+".join(self.name_of(t) for _, t in run)
        rows: dict[int, np.ndarray] = {}
        if direct:
            start = post_block.offsets[id(posts[0])]
            stop = post_block.offsets[id(posts[-1])] + posts[-1].size
            out = post_block.flat(sum_key(target))[start:stop]
            sets: list[Access] = [(p, sum_key(target)) for p in posts]
            into = f"{'+'.join(p.name for p in posts)}.sum({target})"
        else:
            out, access = self.buffer(names, sum(p.size for p in posts), posts[0].dtype)
            sets = [access]
            position = 0
            for (index, _), p in zip(run, posts):
                rows[index] = out[position:position + p.size]
                position += p.size
            into = f"inputs of {', '.join(f'{p.name}.sum({target})' for p in posts)}"
        label = f"{names}: {into} = w * pre.r (one sparse product)"
        reads: list[Access] = []
        for _, t in run:
            reads += self.pre_reads(t, sources)
        op: Operator
        if gather:
            op = TransmitFusedGather(label, w, columns.astype(np.intp), pre, out, reads, sets, stretches=True)
        else:
            product = matvec_function(np.concatenate(indptr_parts), columns, w, pre_block.size)
            op = TransmitFusedSparse(label, product, pre, out, reads, sets)
        return _Fused(op, [index for index, _ in run], rows, None if direct else sets[0])

    def transmissions(self, blocks: list[Block], sources: Sources) -> tuple[list[Operator], list[Operator]]:
        """(transmit operators in projection order, operators combining inputs)."""
        block_of = {id(m): b for b in blocks for m in b.members}
        items = []
        self.projection_names: dict[int, str] = {}
        inputs = _Inputs()
        for index, proj in enumerate(self.registry.projections):
            t = self.state(proj).transmission()
            self.projection_names[id(t)] = proj.name
            items.append((index, t))
            inputs.add(index, t, self.state(t.post))
        fused = [] if self.reference or self.batch is not None else self.fuse(items, block_of, inputs, sources)
        placed: dict[int, Operator] = {f.members[0]: f.operator for f in fused}
        done = {index for f in fused for index in f.members}
        # where each input that does not go straight into its sum lands: (array, its version)
        buffers: dict[int, tuple[np.ndarray, Access]] = {}
        for f in fused:
            if f.buffer is not None:
                for index, part in f.rows.items():
                    buffers[index] = (part, f.buffer)
        for index, t in items:
            if index in done:
                continue
            post = self.state(t.post)
            whole = t.post.population is t.post
            if not self.reference and whole and inputs.sole(t, post):
                out = self.rows_of(post.values[sum_key(t.target)])  # a view of the block's array when stacked
                placed[index] = self.transmit(t, sources, out, [(post, sum_key(t.target))])
            else:
                buffer, access = self.buffer(f"{self.name_of(t)}", t.post.size, post.dtype)
                buffers[index] = (buffer, access)
                placed[index] = self.transmit(t, sources, buffer, [access])
        transmits = [placed[index] for index in sorted(placed)]
        combines: list[Operator] = []
        for (_, target), entries in inputs.by_target.items():
            parts = [(index, t) for index, t in entries if index in buffers]
            if not parts:
                continue
            post = self.state(entries[0][1].post)
            out = self.rows_of(post.values[sum_key(target)])
            rows = [slice(None) if t.post.population is t.post else t.post.ranks for _, t in parts]
            arrays = [buffers[index][0] for index, _ in parts]
            reads = list(dict.fromkeys(buffers[index][1] for index, _ in parts))
            names = ", ".join(self.name_of(t) for _, t in parts)
            label = f"{post.name}: sum({target}) = inputs of {names}"
            cls = AddInputs if self.reference else SumInputs
            combines.append(cls(label, out, list(zip(rows, arrays)), reads, [(post, sum_key(target))]))
        return transmits, combines

    # ----------------------------------------------------------------- updates
    def updates(self, blocks: list[Block]) -> list[Operator]:
        ops: list[Operator] = []
        for block in blocks:
            first = block.members[0]
            if first.role == "timed":
                assert first.make_replay is not None
                replay = first.make_replay(self.clock)
                ops.append(Replay(f"{first.name}: {replay.__doc__}", replay, first))
                continue
            if block.update is None:
                continue
            partition: list[tuple[tuple[Access, ...], tuple[Access, ...]]] = []
            for m in block.members:
                reads: list[Access] = [(m, key) for key in m.update_reads()]
                if m.reads_constants:
                    reads.append((self.constants, "constants"))
                partition.append((tuple(reads), tuple((m, v) for v in m.variables)))
            reads_all = [a for r, _ in partition for a in r]
            writes = [a for _, w in partition for a in w]
            pure = first.pure
            sets = writes if pure else []
            incs = [] if pure else writes
            texts = [eq.text for eq in first.model.equations]
            text = "; ".join(texts)
            text = text if len(text) <= 120 else text[:117] + "..."
            ops.append(UpdateBlock(f"{block.name}: {text}", block, reads_all, sets, incs, pure, partition,
                                   inlined=not self.reference))
        return ops

    # -------------------------------------------------------------------- build
    def build(self) -> Plan:
        registry, net = self.registry, self.net
        for proj in registry.projections:  # every target a projection feeds has its sum array
            self.state(proj.post).ensure_sum(proj.target)
        states = [self.state(pop) for pop in registry.populations]
        previous_blocks = {tuple(id(m) for m in b.members): b for b in self.previous.blocks} \
            if self.previous is not None else {}
        blocks = form_blocks(states, previous_blocks, not self.reference, self.clock, net.dt, net.rng, net.dtype)
        histories = _histories(registry, self.previous.histories if self.previous is not None else {})
        sources = Sources(registry, histories, self.clock, self.batch)
        if self.batch is not None:
            self.samples = [SampleSources(registry, histories, self.clock, b) for b in range(self.batch)]
        transmits, combines = self.transmissions(blocks, sources)
        ops: list[Operator] = []
        ops += self.updates(blocks)
        if net.check_finite:
            watched = [(s, name) for pop, s in zip(registry.populations, states) for name in pop.variables
                       if s.kinds.get(name) == "float"]
            # an input's r is checked when assigned, but not a lent one (taken as it is): checked here
            watched += [(s, "r") for pop, s in zip(registry.populations, states)
                        if s.lends and "r" not in pop.variables]
            ops.append(CheckFinite("check that every variable is finite", watched, self.clock, net.dt))
        for (_, var), history in histories.items():
            reads: list[Access] = [(history.state, var)]
            sets: list[Access] = [(history.versions, key) for key in history.versions.slots]
            ops.append(PushHistory(f"{history.name}: keep {var} for delayed projections ({history.depth} steps)",
                                   history, reads, sets))
        learned: list[Access] = []
        where: dict[int, tuple[str, Callable[[int], str]]] = {}
        read = self.read_during_run(transmits)
        for proj in registry.projections:
            state = self.state(proj)
            learning = state.learning(self.deferrable(proj, state, read))
            if learning is not None:
                ops.append(Learn(f"{proj.name}: learning {learning.description}", learning, self.clock, (),
                                 [(state, name) for name in learning.sets]))
                synapse = getattr(proj.synapse_type, "name", None)
                owner = f"{type(proj).__name__} '{proj.name}' (synapse {repr(synapse) if synapse else 'unnamed'})"
                for name in learning.sets:
                    if np.asarray(state.values[name]).dtype.kind == "f":
                        locate = _synapse_locator(state, name)
                        if self.batch is not None:  # one set per sample: name the sample first
                            locate = _per_sample_locator(locate, state.values[name][0].size)
                        where[len(learned)] = (owner, locate)
                        learned.append((state, name))
        if net.check_finite and learned:
            ops.append(CheckFinite("check that every learned synaptic value is finite", learned, self.clock, net.dt,
                                   where))
        rewires = 0
        for proj in registry.projections:
            state = self.state(proj)
            for rule in state.rewiring():
                ops.append(Rewire(f"{proj.name}: {rule.kind} {rule.description} (every {rule.period} steps)", rule,
                                  self.clock, [(state, name) for name in state.slots]))
                rewires += 1
        for monitor in registry.monitors:
            record = registry.recorder(monitor)()
            ops.append(Record(f"{monitor.name}: record {', '.join(monitor.variables)}", record))
        phase2 = transmits + combines
        operators = self.finish(phase2, ops, len(transmits))
        stops = {id(pop): s.make_stop() for pop, s in zip(registry.populations, states) if s.make_stop is not None}
        plan = Plan(operators, blocks, histories, stops, self.constants, registry.structure)
        plan.rewires = rewires
        plan.lenders = [s for s in states if s.lends]
        plan.pool, plan.pool_threads = self.executor, net.num_threads
        return plan

    def read_during_run(self, transmits: list[Operator]) -> set[tuple[int, str]]:
        """(record id, name) of the synaptic values that something besides learning reads at every step."""
        read = {(id(state), key) for op in _flatten(transmits) for state, key in op.reads}
        projections = {id(proj) for proj in self.registry.projections}
        for monitor in self.registry.monitors:
            if id(monitor.object) in projections:
                state = self.state(monitor.object)
                read.update((id(state), name) for name in monitor.variables)
        return read

    def deferrable(self, proj: Any, state: ProjectionState, read: set[tuple[int, str]]) -> list[str]:
        """The attributes of ``proj`` whose learning updates may wait until something reads them.

        None in the reference mode, in a batch, when every step's values are
        checked for NaN, or when structural plasticity reads the projection.
        """
        if self.reference or self.batch is not None or self.net.check_finite or state.rewiring():
            return []
        return [name for name in state.slots if (id(state), name) not in read]

    def finish(self, phase2: list[Operator], rest: list[Operator], n_transmits: int) -> list[Operator]:
        """Find what changes at every step, wrap the rest to skip unchanged work, add threads."""
        operators = phase2 + rest
        # Which values change at every step: those written by operators that always change them, or that
        # read such values (to a fixed point: dependencies go round through the next step).
        always: set[tuple[int, str]] = set()
        moving: dict[int, set[int]] = {id(op): set() for op in operators}
        grew = True
        while grew:
            grew = False
            for op in operators:
                for g, (reads, writes) in enumerate(op.groups()):
                    if g in moving[id(op)]:
                        continue
                    if op.always or any((id(s), k) in always for s, k in reads):
                        moving[id(op)].add(g)
                        always.update((id(s), k) for s, k in writes)
                        grew = True
        built = self.always_run.ref("built")

        def wrap(op: Operator) -> Operator:
            if not (self.skip and op.pure) or len(moving[id(op)]) == len(op.groups()):
                return op
            return SkipUnchanged(op, built, moving[id(op)])

        transmits = [wrap(op) for op in phase2[:n_transmits]]
        combines = [wrap(op) for op in phase2[n_transmits:]]
        rest = [wrap(op) for op in rest]
        threads = self.net.num_threads
        if threads > 1 and not self.reference and len(transmits) > 1:
            # random draws keep their order: those transmissions run after the others, one by one
            parallel = [op for op in transmits if not getattr(op, "always", False)]
            ordered = [op for op in transmits if getattr(op, "always", False)]
            if len(parallel) > 1:
                transmits = [InParallel(parallel, self.pool(threads), threads)] + ordered
        return transmits + combines + rest

    def pool(self, threads: int) -> ThreadPoolExecutor:
        # imported here: most networks never use threads, and concurrent.futures takes ~4 ms to import
        from concurrent.futures import ThreadPoolExecutor

        previous = self.previous
        if previous is not None and previous.pool is not None and previous.pool_threads == threads:
            self.executor = previous.pool
        else:
            self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ratenet")
        return self.executor


def build_plan(net: Any, previous: Plan | None = None) -> Plan:
    """Build the step plan of ``net`` (reusing the stacked blocks and histories of ``previous``).

    ``net`` provides ``registry``, ``dt``, ``rng``, ``dtype``, ``reference``,
    ``skip_unchanged``, ``num_threads`` and ``check_finite``.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(reference=True)
    >>> a = net.create(2, Neuron(parameters="r = 1.0"), name="a")
    >>> b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    >>> _ = net.connect(a, b, name="ab").connect_one_to_one(2.0)
    >>> for line in build_plan(net).lines():
    ...     print(line)
    ab: b.sum(exc) = w * pre.r  [TransmitGather]
    b: sum(exc) = inputs of ab  [AddInputs]
    b: r = sum(exc)  [UpdateBlock]
    """
    return _Builder(net, previous).build()


def _sample_product(product: Callable[[np.ndarray, np.ndarray], Any], pre: Any, sample: int
                    ) -> Callable[[np.ndarray], None]:
    """Sample ``sample``'s sparse product into its row of the batch's sums (``pre``: the batch's rows or a reader)."""
    if callable(pre):
        return lambda row: product(pre()[sample], row)
    x = pre[sample]
    return lambda row: product(x, row)


def _per_sample_locator(locate: Callable[[int], str], size: int) -> Callable[[int], str]:
    """Words for a flat index of a synaptic array with one set per sample (``size`` values each)."""
    return lambda index: f"sample {index // size}, {locate(index % size)}" if size else locate(index)


def _synapse_locator(state: ProjectionState, name: str) -> Callable[[int], str]:
    """Words for the element at a flat index of a synaptic array (its post and pre rows)."""
    locality = state.locality.get(name, "local")

    def locate(index: int) -> str:
        storage = state.storage
        if locality == "postsynaptic":
            return f"post neuron {index}"
        if locality == "projection" or storage is None:
            return "the value"
        if storage.kind == "dense":
            return f"synapse (post {index // storage.n_pre}, pre {index % storage.n_pre})"
        row = int(np.searchsorted(storage.indptr, index, side="right")) - 1
        return f"synapse (post {row}, pre {int(storage.indices[index])})"

    return locate
