"""Per-synapse learning rules that do not sweep every synapse when they need not.

A per-synapse rule (a :class:`~ratenet.Synapse` equation of local level)
runs over every synapse at every step.  :class:`Shortcuts` rewrites the
statements of its generated function (the ``rewrite`` step of
:func:`ratenet.equations.build_function`, before the in-place lowering) so
that two kinds of sweep are avoided.  Statements holding a one-value
``ite`` are first split into an ``if`` per branch
(:func:`ratenet._inplace.split_choices`); the rewrites apply per branch.

**Exact shortcuts** (same bits as the plain statements):

* ``x[...] = c`` where ``c`` is one value (``delta_w = clip(0.0, -m, m)``):
  :meth:`KnownValues.fill` fills ``x`` once, then skips the fill while ``x``
  is known to hold the same bits;
* ``w[...] += x`` where ``x`` is known to hold +0.0 everywhere:
  :meth:`KnownValues.add` skips the addition while ``w`` is known to hold no
  -0.0 (``w + 0.0`` is ``w`` bit for bit, NaN and infinities included, except
  that it turns -0.0 into +0.0; one addition is therefore made first).

What a value is known to hold is forgotten as soon as another statement of
the rule writes it, and whenever anything is written from Python (a single
counter, :func:`ratenet.state.python_writes`, covers assignments, ``reset``
and ``load``): the next call then does the work once more.

**A deferred outer-product sum** (``defer``; dense storage, not in the
reference mode): an update ``v += f(pre) * g(post)`` whose right-hand side
is a product of presynaptic and postsynaptic factors (``pre.a * post.b``,
also under ``power(..., n)`` for n = 2, 3, 4, divisions by one side,
negation, one-value factors) is not applied at every step:
:class:`OuterSum` stores the two vectors of each step and adds them all at
once, ``v += U.T @ P``, one BLAS product, when something reads ``v``: another
statement of the rule (it flushes first), the end of every run (the plan's
``settle``, so that nothing outside a run ever sees a stale value), or a
full buffer.  The planner only allows it for values that nothing else reads
during a run (no monitor, transmission, finiteness check or structural rule
reading them).

The deferred sum adds the same terms in another order and rounds the
product differently (``a**3 * b**3`` instead of ``(a*b)**3``): for ``n``
steps accumulated between two flushes, each element differs from the
step-by-step sum by at most ``(n + 8) * eps * (|v0| + sum_t |term_t|)``
(``eps`` of the dtype, ``v0`` the value at the last flush): the classical
bound of a recursive sum, plus a few roundings per term.  In practice the
difference is a few ``eps`` of the sum.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Collection, Sequence, cast

import numpy as np

from ._inplace import split_choices
from .state import python_writes

__all__ = ["Shortcuts", "KnownValues", "OuterSum", "separable"]

_SCALAR, _PRE, _POST, _OTHER = "scalar", "pre", "post", "other"
_ELEMENTWISE = ("_f_", "_ipow", "_as_")


class KnownValues:
    """What the synaptic arrays of one rule are known to hold, for the exact shortcuts.

    An entry is valid while no write from Python happened since it was made
    (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> known = KnownValues()
    >>> dw, w = np.ones(3), np.array([-0.0, 1.0, 2.0])
    >>> known.fill("dw", dw, np.float64(0.0)); known.add("w", w, "dw", dw)  # one addition: -0.0 becomes 0.0
    True
    >>> w.tolist(), bool(np.signbit(w).any())
    ([0.0, 1.0, 2.0], False)
    >>> known.fill("dw", dw, np.float64(0.0)); known.add("w", w, "dw", dw)  # nothing to do
    False
    """

    def __init__(self) -> None:
        #: name -> (bits of the value it holds everywhere, python writes then, the fill statement's key,
        #: whether the value is +0.0)
        self.held: dict[str, tuple[bytes, int, int | None, bool]] = {}
        #: name -> python writes when it was last made free of -0.0
        self.clean: dict[str, int] = {}
        #: name -> python writes when its last addition was skipped (nothing wrote it since)
        self.kept: dict[str, int] = {}

    def fill(self, name: str, array: np.ndarray, value: Any, key: int | None = None) -> None:
        """``array[...] = value``, skipped when ``array`` is known to hold ``value``'s bits already.

        ``key`` names the statement (see :meth:`holds`).
        """
        if np.ndim(value):  # not one value after all (a user function returning an array): as written
            array[...] = value
            self.forget(name)
            return
        stored = array.dtype.type(value)
        writes = python_writes()
        bits = stored.tobytes()
        entry = self.held.get(name)
        self.kept.pop(name, None)
        if entry is not None and entry[0] == bits and entry[1] == writes:
            self.held[name] = (bits, writes, key, entry[3])
            return
        array[...] = stored
        self.held[name] = (bits, writes, key, bits == array.dtype.type(0.0).tobytes())
        self.clean.pop(name, None)

    def holds(self, name: str, key: int) -> bool:
        """Whether statement ``key`` filled ``name`` last and nothing was written since.

        For a statement whose value only reads what changes by writes from
        Python (parameters, literals): it would fill the same bits again.
        """
        entry = self.held.get(name)
        return entry is not None and entry[2] == key and entry[1] == python_writes()

    def add(self, name: str, array: np.ndarray, other_name: str, other: np.ndarray) -> bool:
        """``array += other``, skipped when it changes nothing; returns whether it added."""
        writes = python_writes()
        entry = self.held.get(other_name)
        zero = entry is not None and entry[1] == writes and entry[3]
        if zero and self.clean.get(name) == writes:
            self.kept[name] = writes
            return False
        np.add(array, other, out=array)
        self.held.pop(name, None)
        self.kept.pop(name, None)
        if zero:  # x + 0.0 has no -0.0
            self.clean[name] = writes
        else:
            self.clean.pop(name, None)
        return True

    def changed(self, name: str) -> bool:
        """False when the last addition to ``name`` was skipped and nothing wrote it since."""
        return self.kept.get(name) != python_writes()

    def forget(self, name: str) -> None:
        """``name`` was written by something else: nothing is known of it any more."""
        self.held.pop(name, None)
        self.clean.pop(name, None)
        self.kept.pop(name, None)


class OuterSum:
    """A ``(n_post, n_pre)`` array receiving one outer product per step, added lazily.

    Each step writes its two factors into :attr:`post` (``(n_post, 1)``) and
    :attr:`pre` (``(1, n_pre)``), views of the next free row of two buffers,
    then calls :meth:`push`; :meth:`flush` adds ``sum_t outer(post_t, pre_t)``
    to the array in one matrix product; a full buffer flushes by itself.
    When ``namespace`` is given, the two views are also bound there under
    ``names`` (what generated code writes into).  See the module docstring
    for the rounding.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((2, 3))
    >>> acc = OuterSum(v, capacity=4)
    >>> for t in range(3):
    ...     acc.post[...] = [[1.0], [2.0]]; acc.pre[...] = [[1.0, 0.0, t]]; acc.push()
    >>> v.tolist()  # nothing added yet
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> acc.flush(); v.tolist()
    [[3.0, 0.0, 3.0], [6.0, 0.0, 6.0]]
    """

    def __init__(self, array: np.ndarray, capacity: int, namespace: dict[str, Any] | None = None,
                 names: tuple[str, str] = ("", "")) -> None:
        n_post, n_pre = array.shape
        self.array = array
        self.capacity = max(1, int(capacity))
        self.posts = np.empty((self.capacity, n_post), array.dtype)
        self.pres = np.empty((self.capacity, n_pre), array.dtype)
        self.post_rows = [row.reshape(n_post, 1) for row in self.posts]
        self.pre_rows = [row.reshape(1, n_pre) for row in self.pres]
        # the product is made a block of rows at a time: a scratch of at most 64k values, not a second matrix
        self.rows = max(1, min(n_post, 65536 // max(1, n_pre)))
        self.product = np.empty((self.rows, n_pre), array.dtype)
        self.namespace = namespace
        self.names = names
        self.count = 0
        self._bind()

    def _bind(self) -> None:
        self.post, self.pre = self.post_rows[self.count], self.pre_rows[self.count]
        if self.namespace is not None:
            self.namespace[self.names[0]], self.namespace[self.names[1]] = self.post, self.pre

    def push(self) -> None:
        """Keep this step's term ``outer(post, pre)``: the next one goes into the next row."""
        self.count += 1
        if self.count == self.capacity:
            self.flush()
        else:
            self._bind()

    def flush(self) -> None:
        """Add the stored terms to the array (nothing when none)."""
        k = self.count
        if not k:
            return
        self.count = 0
        posts, pres, array, rows = self.posts[:k], self.pres[:k], self.array, self.rows
        for start in range(0, len(array), rows):
            stop = min(start + rows, len(array))
            product = self.product[:stop - start]
            np.dot(posts[:, start:stop].T, pres, out=product)
            np.add(array[start:stop], product, out=array[start:stop])
        self._bind()


def capacity_for(shape: tuple[int, int]) -> int:
    """Steps an :class:`OuterSum` buffers: its two buffers take at most the array's size (8 to 512 steps)."""
    n_post, n_pre = shape
    return int(min(512, max(8, (n_post * n_pre) // (n_post + n_pre))))


def _ellipsis_target(node: ast.AST) -> str | None:
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and node.slice.value is Ellipsis):
        return node.value.id
    return None


def _written(stmt: ast.stmt) -> set[str]:
    """Arrays a leaf statement writes in place: ``x[...] = ...``, ``x[...] += ...``, ``f(..., out=x)``."""
    names: set[str] = set()
    if isinstance(stmt, ast.Assign):
        names.update(n for n in (_ellipsis_target(t) for t in stmt.targets) if n)
    elif isinstance(stmt, ast.AugAssign):
        name = _ellipsis_target(stmt.target)
        if name:
            names.add(name)
    for node in ast.walk(stmt):
        if isinstance(node, ast.keyword) and node.arg == "out" and isinstance(node.value, ast.Name):
            names.add(node.value.id)
    return names


def _mentions(stmt: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(stmt) if isinstance(node, ast.Name)}


def _call(owner: str, method: str, args: Sequence[ast.expr]) -> ast.stmt:
    func = ast.Attribute(value=ast.Name(id=owner, ctx=ast.Load()), attr=method, ctx=ast.Load())
    return ast.Expr(value=ast.Call(func=func, args=list(args), keywords=[]))


def _store(name: str, value: ast.expr) -> ast.stmt:
    slot = ast.Subscript(value=_load(name), slice=ast.Constant(value=Ellipsis), ctx=ast.Store())
    return ast.Assign(targets=[slot], value=value)


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _text(value: str) -> ast.Constant:
    return ast.Constant(value=value)


def separable(expr: ast.expr, side: Any) -> tuple[ast.expr, ast.expr] | None:
    """``(post, pre)`` expressions whose outer product is ``expr``, or None.

    ``side(name)`` says what a name holds: ``"scalar"`` (one value),
    ``"pre"`` (a ``(1, n_pre)`` row), ``"post"`` (a ``(n_post, 1)`` column),
    ``"function"`` (an elementwise function) or ``"other"``.  Products,
    quotients, negations and ``_ipow<n>`` of factors are taken apart;
    one-value factors join the postsynaptic side.

    Examples
    --------
    >>> import ast
    >>> sides = {"a": "pre", "b": "post", "k": "scalar", "_ipow3": "function"}
    >>> post, pre = separable(ast.parse("k * _ipow3(a * b)", mode="eval").body, sides.get)
    >>> ast.unparse(post), ast.unparse(pre)
    ('k * _ipow3(b)', '_ipow3(a)')
    >>> separable(ast.parse("a + b", mode="eval").body, sides.get) is None
    True
    """
    parts = _parts(expr, side)
    if parts is None:
        return None
    pre, post, scalar = parts[_PRE], parts[_POST], parts[_SCALAR]
    if pre is None or post is None:
        return None
    return (post if scalar is None else ast.BinOp(left=scalar, op=ast.Mult(), right=post)), pre


def _sides(node: ast.AST, side: Any) -> set[str] | None:
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            if not (isinstance(child.func, ast.Name) and child.func.id.startswith(_ELEMENTWISE)
                    and side(child.func.id) == "function") or child.keywords:
                return None
        elif isinstance(child, ast.Name) and side(child.id) != "function":
            kind = side(child.id)
            if kind not in (_SCALAR, _PRE, _POST):
                return None
            found.add(kind)
        elif isinstance(child, (ast.Attribute, ast.Subscript, ast.Lambda, ast.Starred)):
            return None
    return found


def _combine(op: ast.operator, a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if b is None:
        return a
    if a is None:
        return b if isinstance(op, ast.Mult) else ast.BinOp(left=ast.Constant(value=1.0), op=op, right=b)
    return ast.BinOp(left=a, op=op, right=b)


def _parts(node: ast.expr, side: Any) -> dict[str, ast.expr | None] | None:
    sides = _sides(node, side)
    empty: dict[str, ast.expr | None] = {_SCALAR: None, _PRE: None, _POST: None}
    if sides is not None and len(sides - {_SCALAR}) <= 1:
        kind = (sides - {_SCALAR}).pop() if sides - {_SCALAR} else _SCALAR
        return {**empty, kind: node}
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left, right = _parts(node.left, side), _parts(node.right, side)
        if left is None or right is None:
            return None
        return {k: _combine(node.op, left[k], right[k]) for k in empty}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _parts(node.operand, side)
        if inner is None:
            return None
        key, part = next((k, p) for k in (_SCALAR, _POST, _PRE) if (p := inner[k]) is not None)
        return {**inner, key: ast.UnaryOp(op=ast.USub(), operand=part)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith(("_ipow", "_as_"))
            and len(node.args) == 1 and not node.keywords and side(node.func.id) == "function"):
        inner = _parts(node.args[0], side)
        if inner is None:
            return None
        func = node.func.id
        return {k: None if v is None else ast.Call(func=_load(func), args=[v], keywords=[]) for k, v in inner.items()}
    return None


class Shortcuts:
    """The rewrite of one generated per-synapse learning function (see the module docstring).

    Parameters
    ----------
    namespace : dict
        The function's namespace (it receives ``_known`` and one
        ``_defer_<name>`` per deferred value).
    shape : tuple of int
        The synaptic layout, ``(n_post, n_pre)`` (dense) or ``(nnz,)``.
    arrays : collection of str
        The float synaptic arrays of the rule (per-synapse attributes).
    defer : collection of str
        Those that may be accumulated lazily (the planner's decision: nothing
        else reads them during a run); only for a dense layout.
    stable : collection of str
        Names that only writes from Python change (the rule's parameters): a
        fill reading nothing else is not even evaluated again while the
        array still holds what it filled.

    Examples
    --------
    >>> import ast, numpy as np
    >>> ns = {"trace": np.zeros((2, 3)), "a": np.ones((1, 3)), "b": np.ones((2, 1)), "_ipow3": lambda x: x ** 3}
    >>> rule = Shortcuts(ns, (2, 3), ["trace"], defer=["trace"])
    >>> body = rule(ast.parse("trace[...] += _ipow3(a * b)").body)
    >>> print(ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))))
    _defer_trace_post[...] = _ipow3(b)
    _defer_trace_pre[...] = _ipow3(a)
    _defer_trace.push()
    _known.forget('trace')
    >>> rule.deferred
    ['trace']
    """

    def __init__(self, namespace: dict[str, Any], shape: tuple[int, ...], arrays: Collection[str],
                 defer: Collection[str] = (), stable: Collection[str] = ()) -> None:
        self.ns = namespace
        self.stable = set(stable)
        self.fills = 0
        self.shape = tuple(shape)
        self.arrays = {name for name in arrays if isinstance(namespace.get(name), np.ndarray)
                       and namespace[name].shape == self.shape and namespace[name].dtype.kind == "f"}
        two = len(self.shape) == 2 and min(self.shape) > 1
        self.defer = {name for name in defer if name in self.arrays} if two else set()
        self.assigned: set[str] = set()
        self.known = KnownValues()
        self.sums: dict[str, OuterSum] = {}

    @property
    def deferred(self) -> list[str]:
        """The values accumulated lazily."""
        return sorted(self.sums)

    def settle(self) -> None:
        """Add every deferred term (the end of a run)."""
        for acc in self.sums.values():
            acc.flush()

    def side(self, name: str) -> str:
        if name in self.assigned or name not in self.ns:
            return _OTHER
        value = self.ns[name]
        if isinstance(value, np.ndarray):
            if value.ndim == 0:
                return _SCALAR
            if len(self.shape) == 2 and value.shape == (1, self.shape[1]):
                return _PRE
            if len(self.shape) == 2 and value.shape == (self.shape[0], 1):
                return _POST
            return _OTHER
        if isinstance(value, (float, int, np.number)) and not isinstance(value, bool):
            return _SCALAR
        if callable(value):
            return "function"
        return _OTHER

    def __call__(self, body: list[ast.stmt]) -> list[ast.stmt]:
        self.assigned = {node.id for stmt in body for node in ast.walk(stmt)
                         if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        body = [split_choices(stmt) for stmt in body]
        self.ns["_known"] = self.known
        pushes = {name for stmt in body for leaf in _leaves(stmt) if (push := self.push(leaf)) is not None
                  for name in [push[0]]}
        for stmt in body:  # a value read at every call gains nothing from waiting
            if not isinstance(stmt, ast.If) and self.push(stmt) is None:
                pushes -= _mentions(stmt)
        for name in sorted(pushes & self.defer):
            self.sums[name] = OuterSum(self.ns[name], capacity_for(cast(tuple[int, int], self.shape)), self.ns,
                                       (f"_defer_{name}_post", f"_defer_{name}_pre"))
            self.ns[f"_defer_{name}"] = self.sums[name]
        return [out for stmt in body for out in self.rewrite(stmt)]

    def push(self, stmt: ast.stmt) -> tuple[str, ast.expr, ast.expr] | None:
        """(name, post, pre) when ``stmt`` is ``v[...] += post * pre`` (or ``-=``) for a value that may wait."""
        if not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub))):
            return None
        name = _ellipsis_target(stmt.target)
        if name is None or name not in self.defer:
            return None
        found = separable(stmt.value, self.side)
        if found is None:
            return None
        post, pre = found
        if isinstance(stmt.op, ast.Sub):
            post = ast.UnaryOp(op=ast.USub(), operand=post)
        return name, post, pre

    def rewrite(self, stmt: ast.stmt) -> list[ast.stmt]:
        if isinstance(stmt, ast.If):
            body = [s for branch in stmt.body for s in self.rewrite(branch)]
            orelse = [s for branch in stmt.orelse for s in self.rewrite(branch)]
            return [ast.If(test=stmt.test, body=body or [ast.Pass()], orelse=orelse)]
        push = self.push(stmt)
        if push is not None and push[0] in self.sums:
            name, post, pre = push
            # the factors are computed into the buffer's next rows (the lowering writes them in place)
            return [_store(f"_defer_{name}_post", post), _store(f"_defer_{name}_pre", pre),
                    _call(f"_defer_{name}", "push", []), _call("_known", "forget", [_text(name)])]
        out = [_call(f"_defer_{name}", "flush", []) for name in sorted(self.sums) if name in _mentions(stmt)]
        target = _ellipsis_target(stmt.targets[0]) if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            else None
        if isinstance(stmt, ast.Assign) and target is not None and target in self.arrays \
                and self.one_value(stmt.value):
            return out + self.fill(target, stmt.value)
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.value, ast.Name):
            added = _ellipsis_target(stmt.target)
            other = stmt.value.id
            if added is not None and added in self.arrays and other in self.arrays and other != added:
                return out + [_call("_known", "add", [_text(added), _load(added), _text(other), _load(other)])]
        out.append(stmt)
        out += [_call("_known", "forget", [_text(name)]) for name in sorted(_written(stmt) & self.arrays)]
        return out

    def fill(self, target: str, value: ast.expr) -> list[ast.stmt]:
        """``_known.fill(...)``; guarded by ``_known.holds`` when ``value`` only reads stable names."""
        self.fills += 1
        key = ast.Constant(value=self.fills)
        call = _call("_known", "fill", [_text(target), _load(target), value, key])
        names = {node.id for node in ast.walk(value) if isinstance(node, ast.Name)}
        if not all(name in self.stable or name.startswith("_lit_") or self.side(name) == "function"
                   for name in names):
            return [call]
        held = ast.Call(func=ast.Attribute(value=_load("_known"), attr="holds", ctx=ast.Load()),
                        args=[_text(target), key], keywords=[])
        return [ast.If(test=ast.UnaryOp(op=ast.Not(), operand=held), body=[call], orelse=[])]

    def unless_unchanged(self, name: str, stage: Callable[[], Any]) -> Callable[[], Any]:
        """``stage`` (an idempotent write of ``name``), skipped when ``name`` did not change since it last ran."""
        known = self.known

        def guarded() -> None:
            if known.changed(name):
                stage()

        return guarded

    def one_value(self, expr: ast.expr) -> bool:
        """Whether ``expr`` reads nothing but one-value names and elementwise functions."""
        sides = _sides(expr, self.side)
        return sides is not None and sides <= {_SCALAR}


def _leaves(stmt: ast.stmt) -> list[ast.stmt]:
    if isinstance(stmt, ast.If):
        return [leaf for branch in stmt.body + stmt.orelse for leaf in _leaves(branch)]
    return [stmt]
