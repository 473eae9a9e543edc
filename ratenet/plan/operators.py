"""The operators of the step plan.

Each entry of the plan is an instance of a small class below: it declares
what it **reads** and what it **sets** (or **increments**), as pairs of a
:class:`~ratenet.state.State` record and a name, does its work in place when
called, and reads well (``str(op)`` is a line of ``net.step_order``).

Three kinds of behaviour matter to the planner:

* ``always``: the result changes at every call whatever it reads (ODEs,
  time, random draws); such operators run every step and need not bump
  versions, because nothing that reads their results is ever skipped;
* ``pure`` (the transmissions, the combination of inputs, pure updates): the
  result depends on the declared reads only, so :class:`SkipUnchanged` may
  skip the call when none of their versions changed, and bumps the versions
  of what it sets when it does run;
* the others (replaying arrays, pushing delay histories, learning) bump the
  versions of what they set themselves, when they set it.

Writing a new operator: subclass :class:`Operator`, pass ``label``,
``reads``, ``sets`` (and ``incs``) to ``__init__``, implement ``__call__``
(in place, no allocation you can avoid), set ``pure`` or ``always``, and
``prepare()`` if something must happen before each run.  The loop calls
``op.step()`` once per step: by default the bound ``__call__``, or the kernel
itself when there is nothing else to do.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from ..equations import generated_body
from ..exceptions import RatenetError
from ..registry import Clock
from ..state import Learning, PopulationState, Ref, Rewiring, State
from .blocks import Block
from .delays import History

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["Operator", "Access", "TransmitDense", "TransmitSparse", "TransmitGather", "TransmitFusedSparse",
           "TransmitFusedGather", "TransmitKernel", "TransmitPsp", "TransmitDenseBatch", "TransmitDenseSamples",
           "TransmitGatherBatch", "TransmitSparseBatch", "TransmitPerSample", "SumInputs", "AddInputs", "UpdateBlock",
           "Replay", "PushHistory", "Learn", "Rewire", "Record", "CheckFinite", "InParallel", "SkipUnchanged",
           "Fresh", "LOCAL"]

#: What an operator reads or writes: a record and the name of a value in it.
Access = tuple[State, str]


def ref(access: Access) -> Ref:
    state, key = access
    return state.ref(key)


class Fresh(NamedTuple):
    """A name of inlined statements whose value is read at the start of each run: ``convert(mapping[key])``.

    For values that Python may rebind between runs (a parameter set from
    Python, an array replaced): the plan's loop reads them once per run, into
    a local (see :meth:`Operator.inline`).

    Examples
    --------
    >>> values = {"tau": 10.0}
    >>> fresh = Fresh(values, "tau")
    >>> values["tau"] = 5.0; fresh.mapping[fresh.key]
    5.0
    """

    mapping: Mapping[str, Any]
    key: str
    convert: Callable[[Any], Any] | None = None


#: The value, in :meth:`Operator.inline`'s names, of a name its statements assign (a local of the loop).
LOCAL: Any = object()


class Operator:
    """One entry of the step plan (see the module docstring).

    Examples
    --------
    An operator doubling one array into another, as a plan would hold it:

    >>> import numpy as np
    >>> from ratenet.state import State
    >>> record = State("pop", {"x": np.ones(3), "y": np.zeros(3)}); record.track("x", "y")
    >>> class Double(Operator):
    ...     pure = True
    ...     def __call__(self):
    ...         np.multiply(record.values["x"], 2.0, out=record.values["y"])
    >>> op = Double("pop: y = 2 * x", reads=[(record, "x")], sets=[(record, "y")])
    >>> op(); record.values["y"].tolist()
    [2.0, 2.0, 2.0]
    >>> print(op.describe())
    pop: y = 2 * x  [Double]
        reads: pop.x
        sets: pop.y
    """

    pure = False
    always = False

    def __init__(self, label: str, reads: Sequence[Access] = (), sets: Sequence[Access] = (),
                 incs: Sequence[Access] = ()) -> None:
        self.label = label
        self.reads = tuple(reads)
        self.sets = tuple(sets)
        self.incs = tuple(incs)

    def __call__(self) -> None:
        raise NotImplementedError

    def step(self) -> Callable[[], Any]:
        """What the loop calls at every step."""
        return self.__call__

    def prepare(self) -> None:
        """Before each run (values may have been changed from Python since the last one)."""

    def settle(self) -> None:
        """After each run, even one that raised: finish work left pending (nothing by default)."""

    def inline(self) -> tuple[list[ast.stmt], dict[str, Any]] | None:
        """The work of one call as statements for the plan's generated loop, and the names they read.

        None (the default): the loop calls :meth:`step`'s callable.  Names are
        local to the operator; the loop gives each operator's its own prefix.
        A name's value is bound once, when the loop is built, unless it is a
        :class:`Fresh` (read at the start of each run) or :data:`LOCAL` (the
        statements assign it).
        """
        return None

    def groups(self) -> list[tuple[tuple[Access, ...], tuple[Access, ...]]]:
        """(reads, writes) pairs: the writes of a pair change only when its reads do."""
        return [(self.reads, self.sets + self.incs)]

    @property
    def kind(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        return f"{self.label}  [{self.kind}]"

    def describe(self) -> str:
        """The label, then what the operator reads and writes."""
        def names(accesses: Sequence[Access]) -> str:
            return ", ".join(state.label(key) for state, key in accesses) or "-"

        text = f"{self}\n    reads: {names(self.reads)}\n    sets: {names(self.sets)}"
        return text + (f"\n    increments: {names(self.incs)}" if self.incs else "")


# ----------------------------------------------------------------- transmission
_NOTHING = np.empty(0)


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _out_call(func: str, args: list[ast.expr], out: str) -> ast.Call:
    return ast.Call(func=_load(func), args=args, keywords=[ast.keyword(arg="out", value=_load(out))])


def _source(pre: np.ndarray | Callable[[], np.ndarray]) -> tuple[np.ndarray, Callable[[], np.ndarray] | None]:
    """(the array itself, None), or (a placeholder, the function returning it at each step)."""
    if isinstance(pre, np.ndarray):
        return pre, None
    return _NOTHING, pre


class TransmitDense(Operator):
    """``out = W @ pre`` with a dense weight matrix (BLAS).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(2)
    >>> TransmitDense("ab", np.array([[1.0, 2.0], [3.0, 4.0]]), np.ones(2), out, (), ())()
    >>> out.tolist()
    [3.0, 7.0]
    """

    pure = True

    def __init__(self, label: str, weights: np.ndarray, pre: np.ndarray | Callable[[], np.ndarray],
                 out: np.ndarray, reads: Sequence[Access], sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.w = weights
        self.x, self.read = _source(pre)
        self.out = out

    def __call__(self) -> None:
        np.dot(self.w, self.x if self.read is None else self.read(), out=self.out)

    def inline(self) -> tuple[list[ast.stmt], dict[str, Any]] | None:
        if self.read is not None:
            return None
        call = _out_call("dot", [_load("w"), _load("x")], "out")
        return [ast.Expr(value=call)], {"dot": np.dot, "w": self.w, "x": self.x, "out": self.out}


class TransmitDenseBatch(Operator):
    """A batch: ``out = pre @ W.T``, one BLAS matrix-matrix product for every sample.

    ``pre`` and ``out`` have one row per sample.  A matrix-matrix product does
    not add in the order of B matrix-vector products: results may differ from
    separate unbatched runs in the last bits (a relative 1e-15 or so).  With
    ``exact`` (the reference mode) it runs one matrix-vector product per
    sample instead, the same bits as unbatched runs.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty((2, 2))
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> TransmitDenseBatch("ab", w, np.array([[1.0, 1.0], [1.0, 0.0]]), out, (), ())()
    >>> out.tolist()
    [[3.0, 7.0], [1.0, 3.0]]
    """

    pure = True

    def __init__(self, label: str, weights: np.ndarray, pre: np.ndarray | Callable[[], np.ndarray],
                 out: np.ndarray, reads: Sequence[Access], sets: Sequence[Access], exact: bool = False) -> None:
        super().__init__(label, reads, sets)
        self.w = weights
        self.wt = weights.T
        self.x, self.read = _source(pre)
        self.out = out
        self.exact = exact
        # BLAS writes into C-contiguous arrays only (a stacked member's rows are not one block)
        self.result = out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)

    @property
    def kind(self) -> str:
        return "TransmitDenseBatch, one product per sample" if self.exact else "TransmitDenseBatch"

    def __call__(self) -> None:
        x = self.x if self.read is None else self.read()
        if self.exact:
            w, out = self.w, self.out
            for b in range(len(out)):
                np.dot(w, x[b], out=out[b])
        else:
            np.dot(x, self.wt, out=self.result)
            if self.result is not self.out:
                np.copyto(self.out, self.result)


class TransmitDenseSamples(Operator):
    """A batch where each sample has its own dense weights (a learning synapse): ``out[b] = W[b] @ pre[b]``.

    One matrix-vector product per sample, as an unbatched network computes
    it: the same bits as B separate runs.  (A stacked ``np.matmul(W, pre[..., None])``
    may add in another order, so it is not used; each sample's matrix is read
    once either way.)

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty((2, 2))
    >>> w = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]])
    >>> TransmitDenseSamples("ab", w, np.array([[1.0, 1.0], [1.0, 2.0]]), out, (), ())()
    >>> out.tolist()
    [[3.0, 7.0], [2.0, 1.0]]
    """

    pure = True

    def __init__(self, label: str, weights: np.ndarray, pre: np.ndarray | Callable[[], np.ndarray],
                 out: np.ndarray, reads: Sequence[Access], sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.w = weights
        self.x, self.read = _source(pre)
        self.out = out
        self.rows = [out[b] if out[b].flags.c_contiguous else None for b in range(len(out))]
        self.result = np.empty(out.shape[1:], out.dtype)  # BLAS writes into C-contiguous arrays only

    def __call__(self) -> None:
        x = self.x if self.read is None else self.read()
        w, out, result = self.w, self.out, self.result
        for b, row in enumerate(self.rows):
            if row is None:
                np.dot(w[b], x[b], out=result)
                out[b] = result
            else:
                np.dot(w[b], x[b], out=row)


class TransmitGatherBatch(Operator):
    """A batch: ``out = w * pre[:, columns]`` (sparse weights with exactly one synapse per row).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty((2, 2))
    >>> pre = np.array([[1.0, 10.0], [2.0, 20.0]])
    >>> TransmitGatherBatch("ab", np.array([2.0, 3.0]), np.array([1, 0]), pre, out, (), ())()
    >>> out.tolist()
    [[20.0, 3.0], [40.0, 6.0]]
    """

    pure = True

    def __init__(self, label: str, weights: np.ndarray, columns: np.ndarray | None,
                 pre: np.ndarray | Callable[[], np.ndarray], out: np.ndarray, reads: Sequence[Access],
                 sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.w = weights
        self.columns = columns
        self.x, self.read = _source(pre)
        self.out = out
        self.factor: Any = weights

    def prepare(self) -> None:
        # Equal weights (one_to_one(0.5)...) multiply as one number: a NumPy scalar is about twice as fast as
        # a row broadcast over the batch, and gives the same bits.  Weights only change from Python between
        # runs here (a batched network runs no learning rule).
        w = self.w
        same = len(w) and bool((w == w[0]).all()) and bool((np.signbit(w) == np.signbit(w[0])).all())
        self.factor = w[0] if same else w

    def __call__(self) -> None:
        x = self.x if self.read is None else self.read()
        if self.columns is None:
            np.multiply(self.factor, x, out=self.out)
        else:
            np.multiply(self.factor, x.take(self.columns, axis=1), out=self.out)


class TransmitPerSample(Operator):
    """A batch, one sample at a time: ``computes[b]`` writes sample ``b``'s contribution into ``out[b]``.

    For transmissions with no batched kernel (any psp or operation, and
    convolution or pooling kernels): each sample runs the code of an
    unbatched network over its own values (see
    :class:`~ratenet.plan.delays.SampleSources`), the same bits.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty((2, 1))
    >>> computes = [lambda target, b=b: target.fill(b + 1.0) for b in range(2)]
    >>> TransmitPerSample("ab", computes, out, (), ())(); out.tolist()
    [[1.0], [2.0]]
    """

    pure = True

    def __init__(self, label: str, computes: Sequence[Callable[[np.ndarray], None]], out: np.ndarray,
                 reads: Sequence[Access], sets: Sequence[Access], always: bool = False) -> None:
        super().__init__(label, reads, sets)
        self.computes = list(computes)
        self.rows = list(out)  # views of one row each
        self.always = always

    def __call__(self) -> None:
        for compute, row in zip(self.computes, self.rows):
            compute(row)


class TransmitSparse(Operator):
    """``out = W @ pre`` with compressed sparse rows (one SciPy kernel call).

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.projections.storage import matvec_function
    >>> product = matvec_function(np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), 2)
    >>> out = np.empty(2)
    >>> TransmitSparse("ab", product, np.array([1.0, 10.0]), out, (), ())()
    >>> out.tolist()
    [21.0, 30.0]
    """

    pure = True

    def __init__(self, label: str, product: Callable[[np.ndarray, np.ndarray], None],
                 pre: np.ndarray | Callable[[], np.ndarray], out: np.ndarray, reads: Sequence[Access],
                 sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.product = product
        self.x, self.read = _source(pre)
        self.out = out

    def __call__(self) -> None:
        self.product(self.x if self.read is None else self.read(), self.out)



class TransmitSparseBatch(TransmitSparse):
    """A batch: ``out = pre @ W.T`` with compressed sparse rows (one SciPy multi-vector kernel call).

    :class:`TransmitSparse` with a product over the batch axis; its own name in ``step_order``.

    Each sample gets the same bits as an unbatched product (see
    :func:`~ratenet.projections.storage.matvecs_function`).

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.projections.storage import matvecs_function
    >>> product = matvecs_function(np.array([0, 1, 2]), np.array([1, 0]), np.array([2.0, 3.0]), 2, 2, np.float64)
    >>> out = np.empty((2, 2))
    >>> TransmitSparseBatch("ab", product, np.array([[1.0, 10.0], [2.0, 0.0]]), out, (), ())()
    >>> out.tolist()
    [[20.0, 3.0], [0.0, 6.0]]
    """


class TransmitGather(Operator):
    """``out = w * pre[columns]``: sparse weights with exactly one synapse per row.

    ``columns`` None means row i reads column i (one-to-one).  With
    ``stretches``, rows that read consecutive columns (a ring or a chain of
    one-to-one projections between stacked populations: a few long
    stretches) multiply slices of pre's array directly, one product per
    stretch: no gathered copy, the same products element by element.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(2)
    >>> TransmitGather("ab", np.array([2.0, 3.0]), np.array([1, 0]), np.array([1.0, 10.0]), out, (), ())()
    >>> out.tolist()
    [20.0, 3.0]
    >>> ring = TransmitGather("ring", np.full(4, 0.5), np.array([2, 3, 0, 1]), np.arange(4.0), out := np.empty(4),
    ...                       (), (), stretches=True)
    >>> len(ring.pieces), ring(), out.tolist()
    (2, None, [1.0, 1.5, 0.0, 0.5])
    """

    pure = True

    def __init__(self, label: str, weights: np.ndarray, columns: np.ndarray | None,
                 pre: np.ndarray | Callable[[], np.ndarray], out: np.ndarray, reads: Sequence[Access],
                 sets: Sequence[Access], stretches: bool = False) -> None:
        super().__init__(label, reads, sets)
        self.w = weights
        self.columns = columns
        self.x, self.read = _source(pre)
        self.out = out
        #: (weights, pre, out) slices, one per stretch of consecutive columns; None: one gather
        self.pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        if stretches and columns is not None and self.read is None and isinstance(weights, np.ndarray) \
                and weights.shape == columns.shape == out.shape and self.x.ndim == 1 \
                and not np.shares_memory(self.x, out):  # a gather copies pre before writing: slices must not
            bounds = _stretches(columns)
            if bounds is not None:
                self.pieces = [(weights[a:b], self.x[c:c + b - a], out[a:b]) for a, b, c in bounds]

    def __call__(self) -> None:
        if self.pieces is not None:
            for w, x, out in self.pieces:
                np.multiply(w, x, out)
            return
        x = self.x if self.read is None else self.read()
        if self.columns is None:
            np.multiply(self.w, x, out=self.out)
        else:
            # ndarray.take without out= is several times faster than np.take(..., out=)
            np.multiply(self.w, x.take(self.columns), out=self.out)

    def inline(self) -> tuple[list[ast.stmt], dict[str, Any]] | None:
        if self.read is not None:
            return None
        if self.pieces is not None:  # positional out: a little faster than out=
            statements: list[ast.stmt] = []
            names: dict[str, Any] = {"multiply": np.multiply}
            for k, (w_k, x_k, out_k) in enumerate(self.pieces):
                names.update({f"w{k}": w_k, f"x{k}": x_k, f"out{k}": out_k})
                call = ast.Call(func=_load("multiply"), args=[_load(f"w{k}"), _load(f"x{k}"), _load(f"out{k}")],
                                keywords=[])
                statements.append(ast.Expr(value=call))
            return statements, names
        x: ast.expr = _load("x")
        if self.columns is not None:
            x = ast.Call(func=ast.Attribute(value=x, attr="take", ctx=ast.Load()), args=[_load("columns")],
                         keywords=[])
        call = _out_call("multiply", [_load("w"), x], "out")
        names = {"multiply": np.multiply, "w": self.w, "x": self.x, "columns": self.columns, "out": self.out}
        return [ast.Expr(value=call)], names


def _stretches(columns: np.ndarray) -> list[tuple[int, int, int]] | None:
    """(first row, end row, first column) of each stretch of rows reading consecutive columns.

    None when there are so many that one gather costs less: each stretch is
    one NumPy call (a few tenths of a microsecond), the gather a call, an
    allocation and a copy of every element.
    """
    if not len(columns):
        return None
    breaks = np.flatnonzero(np.diff(columns) != 1) + 1
    if len(breaks) + 1 > 4 + len(columns) // 256:
        return None
    starts = [0] + breaks.tolist()
    ends = breaks.tolist() + [len(columns)]
    return [(a, b, int(columns[a])) for a, b in zip(starts, ends)]


class TransmitFusedSparse(TransmitSparse):
    """Several sparse projections between two blocks in one product (their rows side by side).

    Built by the planner (see :mod:`ratenet.plan.build`); it runs like
    :class:`TransmitSparse` over the concatenated rows.
    """


class TransmitFusedGather(TransmitGather):
    """Several one-synapse-per-row projections between two blocks in one gather.

    Built by the planner; it runs like :class:`TransmitGather` over the concatenated rows.
    Its projections learn nothing (the planner fuses no learning synapse), so
    their weights change only from Python, between runs: a stretch whose
    weights are all equal (``one_to_one(0.5)``) multiplies by that one number
    (a 0-d array, the same bits), which spares NumPy reading the weights.

    Examples
    --------
    >>> import numpy as np
    >>> out, w = np.empty(4), np.array([0.5, 0.5, 2.0, 3.0])
    >>> op = TransmitFusedGather("ring", w, np.array([2, 3, 0, 1]), np.arange(4.0), out, (), (), stretches=True)
    >>> op.prepare(); [np.ndim(factor) for factor in op.factors.values()]
    [0, 1]
    >>> op(); out.tolist()
    [1.0, 1.5, 0.0, 3.0]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.factors: dict[str, Any] = {f"w{k}": w for k, (w, _, _) in enumerate(self.pieces or [])}

    def prepare(self) -> None:
        for k, (w, _, _) in enumerate(self.pieces or []):
            same = len(w) > 0 and bool((w == w[0]).all()) and bool((np.signbit(w) == np.signbit(w[0])).all())
            self.factors[f"w{k}"] = np.array(w[0]) if same else w

    def __call__(self) -> None:
        if self.pieces is None:
            super().__call__()
            return
        factors = self.factors
        for k, (_, x, out) in enumerate(self.pieces):
            np.multiply(factors[f"w{k}"], x, out)

    def inline(self) -> tuple[list[ast.stmt], dict[str, Any]] | None:
        inlined = super().inline()
        if inlined is None or self.pieces is None:
            return inlined
        statements, names = inlined
        for key in self.factors:
            names[key] = Fresh(self.factors, key)
        return statements, names


class TransmitKernel(Operator):
    """Convolution or pooling: one kernel call on pre's array.

    ``compute(out)`` comes from the projection (see
    :class:`~ratenet.state.Transmission`); ``always`` when it reads time or
    random draws.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(2)
    >>> TransmitKernel("pool", lambda target: np.max([[1.0, 5.0], [4.0, 2.0]], axis=1, out=target), out, (), ())()
    >>> out.tolist()
    [5.0, 4.0]
    """

    pure = True

    def __init__(self, label: str, compute: Callable[[np.ndarray], None], out: np.ndarray,
                 reads: Sequence[Access], sets: Sequence[Access], always: bool = False) -> None:
        super().__init__(label, reads, sets)
        self.compute = compute
        self.out = out
        self.always = always

    def __call__(self) -> None:
        self.compute(self.out)


class TransmitPsp(TransmitKernel):
    """Any psp and operation: evaluated per synapse, then reduced per post neuron.

    Runs like :class:`TransmitKernel`; ``compute`` is the projection's
    evaluation of its psp followed by the reduction of its operation.
    """


class SumInputs(Operator):
    """``sum(target)`` from several contributions (or one onto some rows), in the order of the projections.

    Each neuron's first contribution is taken as is, the others are added;
    neurons that receive none keep 0.  ``parts`` pairs rows (a slice or
    indices) with the buffer a contribution was written into, in projection order.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros(4)
    >>> parts = [(slice(0, 3), np.array([1.0, 2.0, 3.0])), (np.array([2, 3]), np.array([10.0, 20.0]))]
    >>> SumInputs("p: sum(exc)", out, parts, (), ())(); out.tolist()
    [1.0, 2.0, 13.0, 20.0]
    """

    pure = True

    def __init__(self, label: str, out: np.ndarray, parts: Sequence[tuple[Any, np.ndarray]],
                 reads: Sequence[Access], sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.out = out
        size = out.shape[-1]  # a batch has one row per sample
        covered = np.zeros(size, dtype=bool)
        actions: list[tuple[bool, Any, np.ndarray, Any]] = []
        for rows, buffer in parts:
            index = np.arange(size)[rows]
            first = ~covered[index]
            if first.all():
                actions.append((True, rows, buffer, None))
            elif not first.any():
                actions.append((False, rows, buffer, None))
            else:
                actions.append((True, index[first], buffer, first))
                actions.append((False, index[~first], buffer, ~first))
            covered[index] = True
        self.actions = actions

    def __call__(self) -> None:
        out = self.out
        for first, rows, buffer, select in self.actions:
            values = buffer if select is None else buffer[..., select]
            if first:
                out[..., rows] = values
            else:
                out[..., rows] += values


class AddInputs(Operator):
    """Reference mode: ``sum(target)`` rebuilt from every contribution, the plainest way.

    Zero, then for each projection in creation order: where a neuron already
    received something, add; otherwise take the contribution as is.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros(4)
    >>> parts = [(np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0])), (np.array([2, 3]), np.array([10.0, 20.0]))]
    >>> AddInputs("p: sum(exc)", out, parts, (), ())(); out.tolist()
    [1.0, 2.0, 13.0, 20.0]
    """

    def __init__(self, label: str, out: np.ndarray, parts: Sequence[tuple[Any, np.ndarray]],
                 reads: Sequence[Access], sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.out = out
        self.parts = list(parts)
        self.covered = np.zeros(out.shape[-1], dtype=bool)  # a batch has one row per sample

    def __call__(self) -> None:
        out, covered = self.out, self.covered
        out[...] = 0.0
        covered[...] = False
        for rows, buffer in self.parts:
            here = covered[rows]
            out[..., rows] = np.where(here, out[..., rows] + buffer, buffer)
            covered[rows] = True


# ---------------------------------------------------------------------- updates
class UpdateBlock(Operator):
    """The generated update of one population, or of several of the same model stacked.

    ``partition`` holds, per member, what it reads and what it writes: a
    skipped stacked update still marks only the members whose reads changed.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> model = Neuron(equations="r = 1 + sum(exc)")
    >>> a, b = net.create(2, model), net.create(3, model)
    >>> update = net.plan.operators[0].operator
    >>> type(update).__name__, len(update.block.members), len(update.groups())
    ('UpdateBlock', 2, 2)
    """

    def __init__(self, label: str, block: Block, reads: Sequence[Access], sets: Sequence[Access],
                 incs: Sequence[Access], pure: bool, partition: list[tuple[tuple[Access, ...], tuple[Access, ...]]],
                 inlined: bool = False) -> None:
        super().__init__(label, reads, sets, incs)
        assert block.update is not None, "inputs have nothing to update"
        self.block = block
        self.update: Callable[[], Any] = block.update
        self.pure = pure
        self.always = not pure
        self.partition = partition
        #: whether the loop may take the update's statements in (the reference mode keeps one call)
        self.inlined = inlined

    def __call__(self) -> None:
        self.update()

    def inline(self) -> tuple[list[ast.stmt], dict[str, Any]] | None:
        """The generated update's statements, reading its namespace afresh at each run.

        Numbers (NumPy scalars) that the statements only pass to ufuncs as
        inputs are passed as 0-d arrays: a ufunc turns a scalar into one at
        every call anyway (about 0.2 us each), and computes the same bits.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(3, Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = 1.0"))
        >>> update = net.plan.operators[0]
        >>> statements, names = update.inline()
        >>> type(names["tau"]).__name__, names["tau"].convert(names["tau"].mapping["tau"]).ndim
        ('Fresh', 0)
        """
        if not self.inlined:
            return None
        body = generated_body(self.update)
        # a body rebinding names of its namespace (global operations, population-level variables) keeps its call
        if body is None or any(isinstance(statement, ast.Global) for statement in body):
            return None
        namespace: dict[str, Any] = self.update.__globals__
        scratch = self.update.__kwdefaults__ or {}
        builtins = namespace.get("__builtins__", {})
        stored: set[str] = set()
        loaded: set[str] = set()
        inputs: set[int] = set()  # the Name nodes passed to a ufunc as one of its inputs
        for statement in body:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name):
                    (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in stored:
                    function = namespace.get(node.func.id)
                    if isinstance(function, np.ufunc):
                        inputs.update(id(arg) for arg in node.args[:function.nin] if isinstance(arg, ast.Name))
        elsewhere = {node.id for statement in body for node in ast.walk(statement)
                     if isinstance(node, ast.Name) and id(node) not in inputs}
        names: dict[str, Any] = {}
        for name in sorted(stored):
            names[name] = LOCAL
        for name in sorted(loaded - stored):
            if name in scratch:
                names[name] = scratch[name]
            elif name in namespace:
                names[name] = Fresh(namespace, name, None if name in elsewhere else _operand)
            elif isinstance(builtins, dict) and name in builtins:
                names[name] = builtins[name]
            else:
                return None
        return body, names

    def step(self) -> Callable[[], Any]:
        return self.update  # nothing else to do: the generated function itself

    def prepare(self) -> None:
        self.block.prepare()

    def groups(self) -> list[tuple[tuple[Access, ...], tuple[Access, ...]]]:
        # a member whose inputs did not change gets the same values again
        return self.partition


def _operand(value: Any) -> Any:
    """A ufunc's input as the ufunc would convert it: a NumPy scalar as a 0-d array (the same bits)."""
    return np.asarray(value) if isinstance(value, np.generic) else value


class Replay(Operator):
    """A timed population writing this step's rates (when its schedule says so).

    It bumps the version of ``r`` only when it wrote, so what reads ``r`` can
    be skipped in between.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network, TimedArray
    >>> net = Network()
    >>> timed = TimedArray(np.array([[1.0], [2.0]]), schedule=2.0, network=net)
    >>> str(net.plan.operators[0])
    'pop0: r = rates[step // 2]  [Replay]'
    """

    def __init__(self, label: str, replay: Callable[[], bool], state: PopulationState) -> None:
        super().__init__(label, (), [(state, "r")])
        self.replay = replay
        self.versions, self.slot = state.ref("r")

    def __call__(self) -> None:
        if self.replay():
            self.versions[self.slot] += 1


class PushHistory(Operator):
    """Keep a population variable's end-of-step value for delayed projections.

    See :class:`~ratenet.plan.delays.History`; before each run it takes in a
    value set from Python as the value at the end of the last step.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 0.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> _ = net.connect(a, b).connect_one_to_one(1.0, delays=3.0)
    >>> [line for line in net.step_order if "PushHistory" in line]
    ['pop0: keep r for delayed projections (3 steps)  [PushHistory]']
    """

    def __init__(self, label: str, history: History, reads: Sequence[Access], sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.history = history

    def __call__(self) -> None:
        self.history.push()

    def step(self) -> Callable[[], Any]:
        return self.history.push

    def prepare(self) -> None:
        self.history.replace_last()


class Learn(Operator):
    """A projection's learning rule, every ``period`` steps from ``offset``.

    It bumps the versions of what the rule sets each time it runs.

    Examples
    --------
    >>> from ratenet import Hebb, Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> _ = net.connect(a, b, "exc", Hebb(eta=0.1), name="ab").connect_all_to_all(0.5)
    >>> [line for line in net.step_order if "Learn" in line]
    ['ab: learning dw/dt = eta * pre.r * post.r : min=0.0, explicit  [Learn]']
    """

    def __init__(self, label: str, learning: Learning, clock: Clock, reads: Sequence[Access],
                 sets: Sequence[Access]) -> None:
        super().__init__(label, reads, sets)
        self.stages = list(learning.stages)
        self.period, self.offset = learning.period, learning.offset
        self.clock = clock
        self.always = self.period == 1 and self.offset == 0
        self.bumps = [ref(access) for access in sets]
        self.pending = learning.settle
        self.deferred = list(learning.deferred)

    @property
    def kind(self) -> str:
        if not self.deferred:
            return "Learn"
        return f"Learn, {', '.join(self.deferred)} added lazily"

    def settle(self) -> None:
        """Add the updates the rule deferred (see :mod:`ratenet._shortcuts`), so that reads see them."""
        if self.pending is not None:
            self.pending()

    def __call__(self) -> None:
        if self.period > 1 or self.offset:
            k = self.clock.step - self.offset
            if k < 0 or k % self.period:
                return
        for stage in self.stages:
            stage()
        for versions, slot in self.bumps:
            versions[slot] += 1


class Rewire(Operator):
    """A projection's structural plasticity rule (creating or pruning), every ``period`` steps from ``offset``.

    It runs after learning and before monitors record, as in ANNarchy.  When
    the rule adds or removes synapses the projection's storage changes layout
    and the structure version of the network moves on: the loop ends the run
    after this step and the network builds a new plan (every operator that
    held the old layout is rebuilt), then goes on.

    Examples
    --------
    >>> from ratenet import Network, Neuron, Synapse
    >>> net = Network(); net.setup(structural_plasticity=True)
    >>> pop = net.create(2, Neuron(equations="r = 1.0"))
    >>> syn = Synapse(pruning="w < 0.5 : proba=1.0")
    >>> proj = net.connect(pop, pop, "exc", syn, name="pp").connect_all_to_all(0.1)
    >>> proj.start_pruning(period=10.0)
    >>> [line for line in net.step_order if "Rewire" in line]
    ['pp: pruning w < 0.5 : proba=1.0 (every 10 steps)  [Rewire]']
    >>> net.simulate(1.0); proj.nb_synapses
    0
    """

    def __init__(self, label: str, rewiring: Rewiring, clock: Clock, sets: Sequence[Access]) -> None:
        super().__init__(label, (), sets)
        self.apply = rewiring.apply
        self.period, self.offset = rewiring.period, rewiring.offset
        self.clock = clock
        self.bumps = [ref(access) for access in sets]

    def __call__(self) -> None:
        k = self.clock.step - self.offset
        if k < 0 or k % self.period:
            return
        if self.apply():
            for versions, slot in self.bumps:
                versions[slot] += 1


class Record(Operator):
    """A monitor taking its sample.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(equations="r = t"))
    >>> _ = net.monitor(pop, "r", name="m")
    >>> net.step_order[-1]
    'm: record r  [Record]'
    """

    def __init__(self, label: str, record: Callable[[], None], reads: Sequence[Access] = ()) -> None:
        super().__init__(label, reads)
        self.record = record

    def __call__(self) -> None:
        self.record()

    def step(self) -> Callable[[], Any]:
        return self.record


class CheckFinite(Operator):
    """Raise, at the first NaN or infinity, naming the object, the variable, the element and the step.

    ``watched`` holds population variables, or synaptic attributes of
    learning projections; ``where``, when given, maps the index of a watched
    entry to ``(owner, locate)``: how to name its object (``"Projection 'ff'
    (synapse 'Hebb')"``) and a function turning a flat index into words
    (``"synapse post 1, pre 2"``).  Other entries are population variables:
    ``"Population 'name'"`` and ``"neuron i"``.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.registry import Clock
    >>> from ratenet.state import State
    >>> record = State("pop", {"r": np.array([0.0, np.inf])})
    >>> CheckFinite("check", [(record, "r")], Clock(), 1.0)()
    Traceback (most recent call last):
    ...
    ratenet.exceptions.RatenetError: Population 'pop'.r: neuron 1 is inf after step 0 (t = 0.0 ms)
    >>> weights = State("ff", {"w": np.array([[0.0, 1.0], [np.nan, 2.0]])})
    >>> where = {0: ("Projection 'ff' (synapse 'Hebb')", lambda i: f"synapse post {i // 2}, pre {i % 2}")}
    >>> CheckFinite("check", [(weights, "w")], Clock(), 1.0, where)()
    Traceback (most recent call last):
    ...
    ratenet.exceptions.RatenetError: Projection 'ff' (synapse 'Hebb').w: synapse post 1, pre 0 is nan after ...
    """

    def __init__(self, label: str, watched: Sequence[Access], clock: Clock, dt: float,
                 where: dict[int, tuple[str, Callable[[int], str]]] | None = None) -> None:
        super().__init__(label, watched)
        self.watched = list(watched)
        self.clock = clock
        self.dt = dt
        self.where = where or {}

    def __call__(self) -> None:
        for index, (state, name) in enumerate(self.watched):
            values = state.values[name]
            if not np.isfinite(values).all():
                batch = getattr(state, "batch", None)
                sample = ""
                if batch is not None:  # name the first sample that went wrong, and the neuron in it
                    rows = np.reshape(values, (batch, -1))
                    first = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
                    values = rows[first]
                    if getattr(state, "locality", {}).get(name) != "local":
                        values = values[0]
                    sample = f"sample {first}" + (", " if np.ndim(values) else " ")
                flat = np.ravel(values)
                bad = int(np.flatnonzero(~np.isfinite(flat))[0])
                owner, locate = self.where.get(index, (f"Population '{state.name}'", _neuron))
                element = sample + (f"{locate(bad)} " if np.ndim(values) else "")
                step = self.clock.step
                raise RatenetError(f"{owner}.{name}: {element}is {flat[bad]} after step {step} "
                                   f"(t = {step * self.dt} ms)")


def _neuron(index: int) -> str:
    return f"neuron {index}"


class InParallel(Operator):
    """Independent operators (transmissions) run on a pool of threads.

    They read the previous step's state and write separate arrays; NumPy,
    SciPy and BLAS release the interpreter lock in their kernels.  Dispatching
    costs some tens of microseconds per step: this pays for networks with
    several large projections.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(num_threads=2)
    >>> a = net.create(3, Neuron(parameters="r = 1.0"))
    >>> b, c = (net.create(3, Neuron(parameters="k = 1.0", equations="r = k * sum(exc)")) for _ in range(2))
    >>> for post in (b, c):
    ...     _ = net.connect(a, post).connect_all_to_all(0.5)
    >>> net.step_order[0].startswith("in parallel on 2 threads")
    True
    """

    def __init__(self, operators: Sequence[Operator], pool: ThreadPoolExecutor, threads: int) -> None:
        label = f"in parallel on {threads} threads: " + " | ".join(op.label for op in operators)
        super().__init__(label, [a for op in operators for a in op.reads], [a for op in operators for a in op.sets])
        self.operators = list(operators)
        self.calls = [op.step() for op in operators]
        self.pool = pool

    def __call__(self) -> None:
        for future in [self.pool.submit(call) for call in self.calls]:
            future.result()

    def prepare(self) -> None:
        for op in self.operators:
            op.prepare()


# ------------------------------------------------------------------- skipping
class SkipUnchanged(Operator):
    """Run a pure operator only when something it reads changed since its last run.

    It remembers the versions it saw; when any differs it runs the operator
    and bumps the versions of what it writes (for a stacked update, only the
    members whose own reads changed: the others got the same values again).
    Before each run it also checks that nothing else wrote what it writes (a
    value set from Python, a reset): if so it runs at the next step.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet.state import State
    >>> record = State("p", {"x": np.ones(2), "y": np.zeros(2)}); record.track("x", "y")
    >>> calls = []
    >>> class Copy(Operator):
    ...     pure = True
    ...     def __call__(self):
    ...         calls.append(1); record.values["y"][...] = record.values["x"]
    >>> skip = SkipUnchanged(Copy("p: y = x", [(record, "x")], [(record, "y")]), (record.versions, 0))
    >>> skip(); skip(); len(calls)
    1
    >>> record.values["x"][...] = 5.0; record.bump("x")
    >>> skip(); len(calls), record.values["y"].tolist()
    (2, [5.0, 5.0])
    """

    def __init__(self, operator: Operator, always_run: Ref, moving: set[int] | None = None) -> None:
        super().__init__(operator.label, operator.reads, operator.sets, operator.incs)
        self.operator = operator
        self.work = operator.step()
        self.parts: list[tuple[list[Ref], list[int], list[Ref], list[int]]] = []
        for g, (reads, writes) in enumerate(operator.groups()):
            if moving and g in moving:
                continue  # changes at every step: nothing to compare, nobody compares what it writes
            refs = [ref(access) for access in reads] or [always_run]
            bumps = [ref(access) for access in writes]
            self.parts.append((refs, [-1] * len(refs), bumps, [-1] * len(bumps)))
        if moving:
            self.run = self._some
        elif len(self.parts) == 1 and len(self.parts[0][0]) == 1 and len(self.parts[0][2]) == 1:
            ((self.versions, self.slot),), _, ((self.out_versions, self.out_slot),), _ = self.parts[0]
            self.seen = -1
            self.left = -1
            self.run = self._one
        else:
            self.run = self._many

    @property
    def kind(self) -> str:
        if self.run == self._some:
            return f"{self.operator.kind}, its outputs marked changed only where what they read changed"
        return f"{self.operator.kind}, skipped when what it reads did not change"

    def __call__(self) -> None:
        self.run()

    def step(self) -> Callable[[], Any]:
        return self.run

    def prepare(self) -> None:
        self.operator.prepare()
        if self.run == self._one:
            if self.out_versions[self.out_slot] != self.left:
                self.seen = -1
            return
        for _, seen, bumps, left in self.parts:
            if any(versions[slot] != v for (versions, slot), v in zip(bumps, left)):
                seen[:] = [-1] * len(seen)

    def forget(self) -> None:
        """Run at the next call, whatever the versions say."""
        self.seen = -1
        for _, seen, _, _ in self.parts:
            seen[:] = [-1] * len(seen)

    def _one(self) -> None:
        version = self.versions[self.slot]
        if version == self.seen:
            return
        self.work()
        self.seen = version
        left = self.out_versions[self.out_slot] + 1
        self.out_versions[self.out_slot] = left
        self.left = left

    def _some(self) -> None:
        """Some members change at every step: run, and bump what the others write if their reads changed."""
        self.work()
        for reads, seen, bumps, left in self.parts:
            k = 0
            changed = False
            for versions, slot in reads:
                if versions[slot] != seen[k]:
                    seen[k] = versions[slot]
                    changed = True
                k += 1
            if changed:
                k = 0
                for versions, slot in bumps:
                    versions[slot] += 1
                    left[k] = versions[slot]
                    k += 1

    def _many(self) -> None:
        changed = []
        for part in self.parts:
            k = 0
            seen = part[1]
            for versions, slot in part[0]:
                if versions[slot] != seen[k]:
                    changed.append(part)
                    break
                k += 1
        if not changed:
            return
        self.work()
        for reads, seen, bumps, left in changed:
            k = 0
            for versions, slot in reads:
                seen[k] = versions[slot]
                k += 1
            k = 0
            for versions, slot in bumps:
                versions[slot] += 1
                left[k] = versions[slot]
                k += 1
