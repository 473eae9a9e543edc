"""The step plan: which work runs each step, and which work can be skipped.

Built once (and again only when the network's structure changes), the plan is
a flat list of zero-argument functions.  Three ideas keep it cheap:

**Blocks.**  Populations of the same neuron model are *stacked*: their arrays
become views into one array per variable, and one generated update runs for
all of them.  A network of many small populations then costs a few NumPy calls
per step, not a few per population.

**Skipping unchanged work.**  Each population records the last step at which
its state changed, and the last step at which its summed inputs changed.  A
projection whose pre-synaptic population has not changed since it last ran
(for its delay) keeps its previous result, and a *pure* block (one whose
variables are recomputed from their inputs alone, such as
``r = sum(exc) : min=0.0``) is not updated when none of its inputs changed;
when it is, only the members whose inputs changed count as changed.
Values changed from Python can only happen between runs, so every run starts
by recomputing everything once.  The results are the same bit for bit.

**Fused sparse products.**  Sparse projections from one block into another
block's populations (same target, plain weighted sums) are merged into one
compressed sparse matrix, computed with a single kernel call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .population import Population, is_pure, model_namespace, update_function
from .projections.storage import Sparse, matvec_function

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network
    from .projections.projection import Projection

__all__ = ["Block", "Contribution", "form_blocks", "transmission_steps"]

NEVER = -(1 << 62)


class Block:
    """Populations updated together, with the change tracking that lets work be skipped."""

    def __init__(self, members: Sequence[Population], net: "Network") -> None:
        self.members = list(members)
        self.net = net
        self.offsets: dict[int, int] = {}
        offset = 0
        for pop in self.members:
            self.offsets[id(pop)] = offset
            offset += pop.size
        self.size = offset
        self.name = self.members[0].name if len(self.members) == 1 else \
            "+".join(p.name for p in self.members)
        self.valid = False
        first = self.members[0]
        self.pure = is_pure(first.neuron_type)
        self.timed = hasattr(first, "_rates")
        # A block updated by ODEs, time or randomness changes at every step: its readers need not check.
        always = bool(first.neuron_type.equations) and not self.pure and not self.timed
        for pop in self.members:
            pop._changed_at = NEVER  # last step at whose end its values changed
            pop._inputs_at = NEVER  # last step its summed inputs changed
            pop._always = always
        self.sums: dict[str, np.ndarray] = {}
        if len(self.members) == 1:
            self.ns = first._ns
            for target, array in first._sums.items():
                self.sums[target] = array.reshape(-1)
            self.update = first._update_function()
            self._views: dict[int, dict[str, np.ndarray]] = {}
        else:
            self._stack()

    # -------------------------------------------------------------- stacking
    def _stack(self) -> None:
        members = self.members
        first = members[0]
        locality = first._locality
        ns: dict[str, Any] = {}
        self._views = {id(p): {} for p in members}
        self._shared: dict[str, list[Any]] = {}
        for name, level in locality.items():
            if level == "local":
                stacked = np.concatenate([p._ns[name].reshape(-1) for p in members])
            else:
                values = [p._ns[name] for p in members]
                self._shared[name] = values
                stacked = values[0] if all(v == values[0] for v in values) else \
                    np.concatenate([np.full(p.size, v, dtype=np.asarray(v).dtype) for p, v in zip(members, values)])
            ns[name] = stacked
        targets = sorted({t for p in members for t in p._sums})
        for target in targets:
            ns[f"_sum_{target}"] = np.concatenate([p._sum_array(target).reshape(-1) for p in members])
            self.sums[target] = ns[f"_sum_{target}"]
        for pop in members:
            start = self.offsets[id(pop)]
            part = slice(start, start + pop.size)
            for name, level in locality.items():
                if level == "local":
                    view = ns[name][part].reshape(pop.geometry)
                    pop._ns[name] = view
                    self._views[id(pop)][name] = view
            for target in targets:
                view = ns[f"_sum_{target}"][part].reshape(pop.geometry)
                pop._sums[target] = view
                pop._ns[f"_sum_{target}"] = view
                self._views[id(pop)][f"_sum_{target}"] = view
            object.__setattr__(pop, "_stacked", True)
        model_namespace(first.neuron_type, ns, (self.size,), self.net, locality)
        self.ns = ns
        self.update = update_function(first.neuron_type, ns, locality, targets, [], f"update {self.name}",
                                      self.net.dtype)

    def intact(self) -> bool:
        """Whether the members still hold this block's arrays (so the block can be reused)."""
        if len(self.members) == 1:
            return False
        for pop in self.members:
            views = self._views[id(pop)]
            if any(pop._ns.get(name) is not view for name, view in views.items()):
                return False
            if set(pop._sums) != set(self.sums):
                return False
        # population-level parameters live in the block as copies: any change means a new block
        return all(pop._ns[name] == value for name, values in self._shared.items()
                   for pop, value in zip(self.members, values))

    def rows(self, pop: Population) -> slice:
        start = self.offsets[id(pop)]
        return slice(start, start + pop.size)

    def step(self) -> Callable[[], None] | None:
        """The phase-3 function of this block (None for inputs)."""
        net, update, members = self.net, self.update, self.members
        if self.timed:
            pop = members[0]

            def replay() -> None:
                if update():
                    pop._changed_at = net._step

            return replay
        if update is None:
            return None
        block = self
        if self.pure:
            def run_pure() -> None:
                n = net._step
                fresh = block.valid and net.skip_unchanged
                if fresh and all(pop._inputs_at < n for pop in members):
                    return
                update()
                # a member whose inputs did not change got the same values again
                for pop in members:
                    if not fresh or pop._inputs_at == n:
                        pop._changed_at = n
                block.valid = True

            return run_pure

        return update  # its members are marked as changing at every step (``_always``)


def form_blocks(net: "Network", previous: dict[tuple[int, ...], Block]) -> tuple[list[Block], dict[int, Block]]:
    """Group the populations into blocks (reusing intact ones), and map each population to its block."""
    groups: dict[tuple[int, str], list[Population]] = {}
    order: list[tuple[int, str]] = []
    for pop in net.populations:
        key = (id(pop.neuron_type), "stack") if pop._stackable() else (id(pop), "alone")
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(pop)
    blocks: list[Block] = []
    by_population: dict[int, Block] = {}
    for key in order:
        members = groups[key]
        ident = tuple(id(p) for p in members)
        old = previous.get(ident)
        block = old if old is not None and old.intact() else Block(members, net)
        if old is not None and block is old:
            block.update = old.update
        blocks.append(block)
        for pop in members:
            by_population[id(pop)] = block
    return blocks, by_population


class Contribution:
    """One projection's (or fused group's) input into rows of a block's ``sum(target)``."""

    def __init__(self, label: str, compute: Callable[[np.ndarray], None], rows: slice | np.ndarray,
                 pre: Sequence[Population], post: Sequence[Population], delay: int, volatile: bool) -> None:
        self.label = label
        self.compute = compute
        self.rows = rows
        self.pre = list(pre)
        self.post = list(post)
        self.always = any(pop._always for pop in self.pre)
        # only pure blocks look at when their inputs changed
        self.marks = [pop for pop in self.post if is_pure(pop.neuron_type)]
        self.delay = delay
        self.volatile = volatile
        self.computed = NEVER
        self.valid = False

    def stale(self, n: int, skip: bool) -> bool:
        if self.always or not skip or not self.valid or self.volatile:
            return True
        limit = self.computed - self.delay
        for pop in self.pre:
            if pop._changed_at > limit:
                return True
        return False

    def mark(self, n: int) -> None:
        self.computed = n
        self.valid = True
        for pop in self.marks:
            pop._inputs_at = n

    def row_set(self, size: int) -> np.ndarray:
        return np.arange(size)[self.rows]


def _clusters(contributions: list[Contribution], size: int) -> list[list[Contribution]]:
    """Group contributions whose rows overlap (transitively).

    Contiguous row ranges are compared as intervals; only projections onto
    views (scattered rows) need an explicit map of the rows.
    """
    parent = list(range(len(contributions)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    spans = [(c.rows.start, c.rows.stop, i) for i, c in enumerate(contributions) if isinstance(c.rows, slice)]
    spans.sort()
    reach, last = -1, -1
    for start, stop, i in spans:
        if start < reach:
            join(i, last)
        if stop > reach:
            reach, last = stop, i
    scattered = [i for i, c in enumerate(contributions) if not isinstance(c.rows, slice)]
    if scattered:
        owner = np.full(size, -1)
        for i, c in enumerate(contributions):
            rows = c.row_set(size)
            for j in np.unique(owner[rows]):
                if j >= 0:
                    join(int(j), i)
            owner[rows] = i
    clusters: dict[int, list[Contribution]] = {}
    for i, c in enumerate(contributions):
        clusters.setdefault(find(i), []).append(c)
    return list(clusters.values())


def _unit(net: "Network", block: Block, out: np.ndarray, cluster: list[Contribution]) -> Callable[[int], bool]:
    """A function running one cluster at step n; returns whether the sums changed."""
    if len(cluster) == 1:
        c = cluster[0]
        if isinstance(c.rows, slice):
            target = out[c.rows]

            def direct(n: int) -> bool:
                if not c.stale(n, net.skip_unchanged):
                    return False
                c.compute(target)
                c.mark(n)
                return True

            return direct
        buffer = np.zeros(len(c.row_set(block.size)), dtype=out.dtype)
        rows = c.rows

        def scattered(n: int) -> bool:
            if not c.stale(n, net.skip_unchanged):
                return False
            c.compute(buffer)
            out[rows] = buffer
            c.mark(n)
            return True

        return scattered
    buffers = [np.zeros(len(c.row_set(block.size)), dtype=out.dtype) for c in cluster]
    union = np.unique(np.concatenate([c.row_set(block.size) for c in cluster]))
    pairs = list(zip(cluster, buffers))

    def shared(n: int) -> bool:
        skip = net.skip_unchanged
        stale = [(c, b) for c, b in pairs if c.stale(n, skip)]
        if not stale:
            return False
        for c, b in stale:
            c.compute(b)
            c.mark(n)
        out[union] = 0.0
        for c, b in pairs:
            out[c.rows] += b
        return True

    return shared


def _fuse(net: "Network", fusable: list["Projection"], blocks_of: dict[int, Block]) -> list[tuple[list["Projection"], Contribution]]:
    """Merge sparse projections between the same two blocks (same target) into one product each."""
    groups: dict[tuple[int, int, str, int], list["Projection"]] = {}
    for proj in fusable:
        key = (id(blocks_of[id(proj.pre)]), id(blocks_of[id(proj.post)]), proj.target, proj._delay_steps())
        groups.setdefault(key, []).append(proj)
    fused = []
    for (_, _, target, delay), members in groups.items():
        posts = [id(p.post) for p in members]
        if len(members) < 2 or len(set(posts)) != len(posts) or delay != 1:
            continue
        pre_block, post_block = blocks_of[id(members[0].pre)], blocks_of[id(members[0].post)]
        members.sort(key=lambda p: post_block.offsets[id(p.post)])
        counts = np.zeros(post_block.size, dtype=np.int64)
        indices, data = [], []
        for proj in members:
            storage: Sparse = proj._storage
            start = post_block.offsets[id(proj.post)]
            counts[start:start + storage.n_post] = np.diff(storage.indptr)
            indices.append(storage.indices.astype(np.int64) + pre_block.offsets[id(proj.pre)])
            data.append(proj._attrs["w"])
        indptr = np.concatenate([[0], np.cumsum(counts)])
        weights = np.concatenate(data)
        # The members' weights become views of the fused ones: changes made from Python go through.
        position = 0
        for proj, part in zip(members, data):
            proj._attrs["w"] = weights[position:position + len(part)]
            position += len(part)
        fused_storage = Sparse(post_block.size, pre_block.size, indptr, np.concatenate(indices))
        source = pre_block.ns["r"] if len(pre_block.members) > 1 else pre_block.members[0]._ns["r"]
        flat = source.reshape(-1)
        if bool(np.all(counts == 1)):
            gather = fused_storage.indices.astype(np.intp)

            def compute(out: np.ndarray) -> None:
                # ndarray.take without out= is several times faster than np.take(..., out=)
                np.multiply(weights, flat.take(gather), out=out)
        else:
            product = matvec_function(fused_storage.indptr, fused_storage.indices, weights, pre_block.size)

            def compute(out: np.ndarray) -> None:
                product(flat, out)

        label = f"{'+'.join(p.name for p in members)}: {post_block.name}.sum({target}) = w * pre.r " \
                f"(one sparse product)"
        fused.append((members, Contribution(label, compute, slice(0, post_block.size),
                                            [p.pre.population for p in members],
                                            [p.post.population for p in members], 1, False)))
    return fused


def transmission_steps(net: "Network", blocks_of: dict[int, Block]) -> tuple[list[Any], list[Contribution]]:
    """Phase-2 plan entries (one per block and target) and every contribution (for invalidation)."""
    from .network import _Step

    def block(view: Any) -> Block:
        return blocks_of[id(view.population)]

    contributions: dict[tuple[int, str], list[Contribution]] = {}
    order: list[tuple[Block, str]] = []
    fusable = [p for p in net.projections if p._fusable()]
    fused = _fuse(net, fusable, {id(p.pre): block(p.pre) for p in fusable} | {id(p.post): block(p.post)
                                                                                for p in fusable})
    done = {id(p) for members, _ in fused for p in members}
    entries: list[tuple[Block, str, Contribution]] = []
    for members, c in fused:
        entries.append((block(members[0].post), members[0].target, c))
    for proj in net.projections:
        if id(proj) in done:
            continue
        post_block = block(proj.post)
        rows = post_block.rows(proj.post.population)
        if proj.post.population is not proj.post:
            rows = np.arange(rows.start, rows.stop)[proj.post.ranks]
        delay = proj._delay_steps()
        delay = int(np.max(delay)) if np.ndim(delay) else int(delay)
        label = f"{proj.name}: {proj.post.name}.sum({proj.target}) = {proj._describe()}"
        entries.append((post_block, proj.target,
                        Contribution(label, proj._compute(), rows, proj._dependencies(), [proj.post.population],
                                     delay, proj._volatile())))
    for post_block, target, c in entries:
        key = (id(post_block), target)
        if key not in contributions:
            contributions[key] = []
            order.append((post_block, target))
        contributions[key].append(c)
    steps = []
    every: list[Contribution] = []
    for post_block, target in order:
        group = contributions[(id(post_block), target)]
        every.extend(group)
        out = post_block.sums[target]
        units = [_unit(net, post_block, out, cluster) for cluster in _clusters(group, post_block.size)]
        label = "; ".join(c.label for c in group)
        step = _Step(_group_step(net, units), label)
        step.units = units  # independent pieces, for running on several threads
        steps.append(step)
    return steps, every


def _group_step(net: "Network", units: list[Callable[[int], None]]) -> Callable[[], None]:
    if len(units) == 1:
        unit = units[0]
        return lambda: unit(net._step)

    def several() -> None:
        n = net._step
        for unit in units:
            unit(n)

    return several
