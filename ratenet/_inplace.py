"""Generated updates without temporaries: array expressions as chains of ufuncs writing into scratch arrays.

``r[...] += dt * ((_sum_exc + 0.1 - r) / tau)`` evaluated by NumPy's operators
allocates an array per operation.  This pass rewrites the statements of a
generated function so that each array operation is the same ufunc given its
output array: a scratch array of the function (one per live intermediate,
reused from statement to statement), or the variable itself for the last
operation of ``x[...] = ...``::

    _np_add(_sum_exc, _lit_0x1_999999999999apm4, _scratch0)
    _np_subtract(_scratch0, r, _scratch0)
    _np_divide(_scratch0, tau, _scratch0)
    _np_add(r, _scratch0, r)

Every operation is the one NumPy's operator would run, on the same operands,
into an array of the dtype and shape that operator would return (found when
the function is built, from the namespace's values: shapes by broadcasting,
dtypes by evaluating the expression on one-element stand-ins): the results are
the same bits.  One exact simplification is made: a
multiplication or division by ``dt`` when ``dt`` is 1 (``x * 1.0`` is ``x`` for
every double, NaN, infinities and signed zeros included), only when the other
operand already has the result's dtype and shape.

What is not rewritten: expressions reading names assigned in the function
(random draws, the stages of midpoint or RK4), names bound only at run time,
calls that are not NumPy ufuncs (they run as before and their result is an
operand), ``**`` with other exponents than 2, 3 and 4 (see
:meth:`ratenet.equations._Preparer.power`), comparisons and anything of one value.
"""

from __future__ import annotations

import ast
import operator
import warnings
from typing import Any, Sequence, cast

import numpy as np

__all__ = ["lower_in_place", "split_choices"]

#: binary operator -> (the ufunc NumPy's operator calls, the operator)
_UFUNCS: dict[type, tuple[Any, Any]] = {
    ast.Add: (np.add, operator.add),
    ast.Sub: (np.subtract, operator.sub),
    ast.Mult: (np.multiply, operator.mul),
    ast.Div: (np.true_divide, operator.truediv),
}
#: comparison -> (the ufunc NumPy's operator calls, the operator)
_COMPARISONS: dict[type, tuple[Any, Any]] = {
    ast.Lt: (np.less, operator.lt),
    ast.LtE: (np.less_equal, operator.le),
    ast.Gt: (np.greater, operator.gt),
    ast.GtE: (np.greater_equal, operator.ge),
    ast.Eq: (np.equal, operator.eq),
    ast.NotEq: (np.not_equal, operator.ne),
}
_AUGMENTED = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide}
_UNKNOWN = object()
_CLAMPS = ("_np_clip", "_np_maximum", "_np_minimum")
_POWERS = ("_ipow2", "_ipow3", "_ipow4")
#: deeper statements (long sums) are left to the chain lowering of the compiler
_MAX_DEPTH = 60
#: statements are split on at most this many one-value ite conditions (2 ** 3 branches)
_MAX_SPLITS = 3


def _name(symbol: str) -> ast.Name:
    return ast.Name(id=symbol, ctx=ast.Load())


class _Array:
    """What an array-valued expression gives: its shape, and a miniature (all dimensions 1) of its dtype.

    NumPy chooses a result's dtype from its operands' dtypes (NEP 50), not from
    their sizes or values: the miniature gets the dtype the full array would,
    without computing it (a synaptic matrix may be large).
    """

    __slots__ = ("mini", "shape", "dtype")

    def __init__(self, mini: np.ndarray, shape: tuple[int, ...]) -> None:
        self.mini, self.shape, self.dtype = mini, tuple(shape), mini.dtype


def _is_ellipsis_slot(node: ast.AST) -> str | None:
    """``x`` for ``x[...]``, else None."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and node.slice.value is Ellipsis):
        return node.value.id
    return None


class _Lowering:
    def __init__(self, namespace: dict[str, Any], assigned: set[str], args: Sequence[str],
                 scratch: dict[str, np.ndarray]) -> None:
        self.ns = namespace
        self.scratches = scratch
        self.made: list[str] = []  # the names of the scratch arrays (scratch may be the namespace itself)
        self.opaque = set(assigned) | set(args)
        self.values: dict[int, Any] = {}
        self.free: list[str] = []
        self.count = 0
        self.out: list[ast.stmt] = []

    # ------------------------------------------------------------ evaluation
    def value(self, node: ast.AST) -> Any:
        """The value ``node`` has on the namespace's current values, or _UNKNOWN."""
        key = id(node)
        if key not in self.values:
            self.values[key] = (node, self._value(node))
        return self.values[key][1]

    def _value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.opaque or node.id not in self.ns:
                return _UNKNOWN
            value = self.ns[node.id]
            if isinstance(value, np.ndarray) and value.ndim:
                return _Array(np.ones((1,) * value.ndim, value.dtype), value.shape)
            return value
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _UFUNCS:
            return self.apply(_UFUNCS[type(node.op)][1], [node.left, node.right])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.apply(operator.neg, [node.operand])
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS:
            return self.apply(_COMPARISONS[type(node.ops[0])][1], [node.left, node.comparators[0]])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            func = self.ns.get(node.func.id)
            if node.func.id in _POWERS and len(node.args) == 1:
                return self.apply(func, node.args)
            if isinstance(func, np.ufunc) and func.nout == 1 and func.nin == len(node.args):
                return self.apply(func, node.args)
        return _UNKNOWN

    def apply(self, func: Any, operands: Sequence[ast.AST]) -> Any:
        """``func`` of the operands' values: numbers as they are, arrays as miniatures of their dtype."""
        values = [self.value(operand) for operand in operands]
        if any(value is _UNKNOWN for value in values):
            return _UNKNOWN
        result = func(*[value.mini if isinstance(value, _Array) else value for value in values])
        shape = np.broadcast_shapes(*[value.shape if isinstance(value, _Array) else np.shape(value)
                                      for value in values])
        if not shape:
            return result
        return _Array(np.asarray(result), shape)

    # --------------------------------------------------------------- lowering
    def array_op(self, node: ast.AST) -> tuple[Any, list[ast.expr]] | None:
        """(the ufunc, its operands) when ``node`` is an array operation this pass rewrites."""
        value = self.value(node)
        if not isinstance(value, _Array):
            return None
        if isinstance(node, ast.BinOp) and type(node.op) in _UFUNCS:
            return _UFUNCS[type(node.op)][0], [node.left, node.right]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return np.negative, [node.operand]
        if isinstance(node, ast.Compare):  # one operator (value() gave an array): a bool array
            return _COMPARISONS[type(node.ops[0])][0], [node.left, node.comparators[0]]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _POWERS:
            base = self.value(node.args[0])
            if not (isinstance(base, _Array) and base.shape == value.shape and base.dtype == value.dtype):
                return None
            return node.func.id, list(node.args)
        if isinstance(node, ast.Call):
            return self.ns[cast(ast.Name, node.func).id], list(node.args)
        return None

    def folded(self, node: ast.AST) -> ast.AST:
        """``node`` without an exact no-op: ``dt * x`` or ``x / dt`` with dt = 1."""
        while isinstance(node, ast.BinOp):
            value = self.value(node)
            if not isinstance(value, _Array):
                return node
            keep: ast.AST | None = None
            if isinstance(node.op, ast.Mult):
                for one, other in ((node.left, node.right), (node.right, node.left)):
                    if self._is_one_dt(one):
                        keep = other
                        break
            elif isinstance(node.op, ast.Div) and self._is_one_dt(node.right):
                keep = node.left
            if keep is None:
                return node
            kept = self.value(keep)
            if not (isinstance(kept, _Array) and kept.dtype == value.dtype and kept.shape == value.shape):
                return node
            node = keep
        return node

    def _is_one_dt(self, node: ast.AST) -> bool:
        if not (isinstance(node, ast.Name) and node.id == "dt"):
            return False
        value = self.value(node)
        return value is not _UNKNOWN and np.ndim(value) == 0 and bool(value == 1.0)

    def scratch(self, like: _Array | np.ndarray) -> str:
        for index, name in enumerate(self.free):
            array = self.scratches[name]
            if array.shape == like.shape and array.dtype == like.dtype:
                return self.free.pop(index)
        name = f"_scratch{self.count}"
        self.count += 1
        while name in self.ns or name in self.scratches:
            name = f"_scratch{self.count}"
            self.count += 1
        self.scratches[name] = np.empty(like.shape, like.dtype)
        self.made.append(name)
        return name

    def emit(self, node: ast.AST, into: str | None = None) -> tuple[ast.expr, str | None]:
        """Statements computing ``node``; returns (what to read it as, the scratch it occupies or None)."""
        node = self.folded(node)
        op = self.array_op(node)
        if op is None:
            return node, None  # type: ignore[return-value]
        ufunc, operands = op
        value = self.value(node)
        parts: list[ast.expr] = []
        held: list[str] = []
        for operand in operands:
            expr, scratch = self.emit(operand)
            parts.append(expr)
            if scratch is not None:
                held.append(scratch)
        target = into
        if target is None:
            for scratch in held:  # an operand's scratch of the right kind takes the result (elementwise)
                array = self.scratches[scratch]
                if array.shape == value.shape and array.dtype == value.dtype:
                    target = scratch
                    break
            if target is None:
                target = self.scratch(value)
            else:
                held.remove(target)
        if isinstance(ufunc, str):  # x ** n by multiplications, as _ipow2/3/4 do them
            self.power(ufunc, parts[0], held, target)
            return _name(target), (None if into is not None else target)
        self.free.extend(held)
        symbol = _ufunc_symbol(self.ns, ufunc)
        call = _ufunc_call(symbol, parts, target)
        self.out.append(ast.Expr(value=call))
        return _name(target), (None if into is not None else target)

    def power(self, which: str, base: ast.expr, held: list[str], target: str) -> None:
        """``y = x * x``, then ``y *= x`` (cube) or ``y *= y`` (fourth power), into ``target``."""
        multiply = _name(_ufunc_symbol(self.ns, np.multiply))

        def product(a: ast.expr, b: ast.expr, into: str = target) -> None:
            self.out.append(ast.Expr(value=_ufunc_call(multiply.id, [a, b], into)))

        if not isinstance(base, ast.Name):  # an operand computed by a call: evaluate it once
            local = f"_base{self.count}"
            self.count += 1
            self.out.append(ast.Assign(targets=[ast.Name(id=local, ctx=ast.Store())], value=base))
            base = _name(local)
        if which == "_ipow2":
            product(base, base)
        elif isinstance(base, ast.Name) and base.id == target:
            # the base lives in the target itself: square it in a scratch first
            square = self.scratch(self.scratches[target] if target in self.made else self.ns[target])
            product(base, base, square)
            product(_name(square), base if which == "_ipow3" else _name(square))
            self.free.append(square)
        else:
            product(base, base)
            product(_name(target), base if which == "_ipow3" else _name(target))
        self.free.extend(held)

    def where(self, target: str, variable: np.ndarray, node: ast.expr) -> list[ast.stmt] | None:
        """``x[...] = where(c, a, b)`` as ``copyto(x, b); copyto(x, a, where=c)``: no result array to copy.

        Only for a float variable and a condition that is a comparison (bools);
        the branches (doubles: the preparer made them so) are evaluated first,
        so a branch reading ``x`` sees its old values.  np.where would convert
        both branches to their common float type, then to x's: each element
        is the same number either way.
        """
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords
                and len(node.args) == 3 and self.ns.get(node.func.id) is np.where and variable.dtype.kind == "f"):
            return None
        test = node.args[0]
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
            return None
        for branch in node.args[1:]:
            value = self.value(branch)
            if isinstance(value, _Array) and (value.dtype.kind != "f" or value.shape != variable.shape
                                              and np.broadcast_shapes(value.shape, variable.shape) != variable.shape):
                return None
            if value is not _UNKNOWN and not isinstance(value, _Array) and not isinstance(value, (float, np.floating)):
                return None
        parts: list[ast.expr] = []
        for operand in node.args:
            expr, _ = self.emit(operand)
            if not isinstance(expr, (ast.Name, ast.Constant)):  # evaluated once, before x is written
                local = f"_choice{self.count}"
                self.count += 1
                self.out.append(ast.Assign(targets=[ast.Name(id=local, ctx=ast.Store())], value=expr))
                expr = _name(local)
            parts.append(expr)
        copyto = _name(_ufunc_symbol(self.ns, np.copyto))
        self.out.append(ast.Expr(value=ast.Call(func=copyto, args=[_name(target), parts[2]], keywords=[])))
        self.out.append(ast.Expr(value=ast.Call(func=copyto, args=[_name(target), parts[1]],
                                                keywords=[ast.keyword(arg="where", value=parts[0])])))
        return self.out

    def statement(self, stmt: ast.stmt) -> list[ast.stmt]:
        self.out = []
        self.free = list(self.made)  # every scratch is free again
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = _is_ellipsis_slot(stmt.targets[0])
            variable = self.ns.get(target) if target is not None and target not in self.opaque else None
            if isinstance(variable, np.ndarray) and target is not None:
                chosen = self.where(target, variable, stmt.value)
                if chosen is not None:
                    return chosen
                value = self.value(self.folded(stmt.value))
                if isinstance(value, _Array) and value.shape == variable.shape and value.dtype == variable.dtype \
                        and self.array_op(self.folded(stmt.value)) is not None:
                    self.emit(stmt.value, into=target)
                    return self.out
                expr, _ = self.emit(stmt.value)
                if not self.out:
                    return [stmt]
                return self.out + [ast.Assign(targets=stmt.targets, value=expr)]
        if isinstance(stmt, ast.AugAssign) and type(stmt.op) in _AUGMENTED:
            target = _is_ellipsis_slot(stmt.target)
            variable = self.ns.get(target) if target is not None and target not in self.opaque else None
            value = self.value(self.folded(stmt.value))
            if isinstance(variable, np.ndarray) and isinstance(value, _Array) \
                    and value.shape == variable.shape and value.dtype == variable.dtype:
                expr, _ = self.emit(stmt.value)
                symbol = _ufunc_symbol(self.ns, _AUGMENTED[type(stmt.op)])
                assert target is not None
                call = _ufunc_call(symbol, [_name(target), expr], target)
                return self.out + [ast.Expr(value=call)]
            if isinstance(variable, np.ndarray):
                expr, _ = self.emit(stmt.value)
                if not self.out:
                    return [stmt]
                return self.out + [ast.AugAssign(target=stmt.target, op=stmt.op, value=expr)]
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and stmt.value.args \
                and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in _CLAMPS \
                and [k.arg for k in stmt.value.keywords] == ["out"]:
            # a clamped store, clip(expression, lo, hi, out=x): the expression's array is consumed at once
            call = stmt.value
            expr, _ = self.emit(call.args[0])
            if not self.out:
                return [stmt]
            lowered = ast.Call(func=call.func, args=[expr] + call.args[1:], keywords=call.keywords)
            return self.out + [ast.Expr(value=lowered)]
        return [stmt]


#: ufuncs whose output NumPy 2 no longer takes by position (a third argument reads as a third input)
_OUT_BY_KEYWORD = {"_np_maximum", "_np_minimum", "_np_fmax", "_np_fmin"}


def _ufunc_call(symbol: str, operands: list[ast.expr], out: str) -> ast.Call:
    """``ufunc(operands..., out)``: the output array given by position (a little faster than ``out=``)."""
    if symbol in _OUT_BY_KEYWORD:
        return ast.Call(func=_name(symbol), args=list(operands), keywords=[ast.keyword(arg="out", value=_name(out))])
    return ast.Call(func=_name(symbol), args=list(operands) + [_name(out)], keywords=[])


def _ufunc_symbol(ns: dict[str, Any], ufunc: Any) -> str:
    symbol = f"_np_{ufunc.__name__}"
    ns.setdefault(symbol, ufunc)
    return symbol


def _assigned_names(body: Sequence[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def lower_in_place(body: list[ast.stmt], namespace: dict[str, Any], args: Sequence[str] = (),
                   scratch: dict[str, np.ndarray] | None = None) -> list[ast.stmt]:
    """The statements of ``body`` with array operations as ufunc calls into scratch arrays (see the module).

    The scratch arrays go into ``scratch`` (into ``namespace`` if None;
    :func:`ratenet.equations.build_function` makes them the function's own
    keyword-only defaults, so that a population's values hold none of them);
    ``args`` are the function's arguments (unknown until called: left as they are).

    Examples
    --------
    >>> import ast, numpy as np
    >>> ns = {"r": np.zeros(3), "s": np.ones(3), "tau": np.float64(2.0), "dt": np.float64(1.0)}
    >>> body = ast.parse("r[...] += dt * ((s - r) / tau)").body
    >>> print(ast.unparse(ast.Module(body=lower_in_place(body, ns), type_ignores=[])))
    _np_subtract(s, r, _scratch0)
    _np_divide(_scratch0, tau, _scratch0)
    _np_add(r, _scratch0, r)
    """
    assigned = _assigned_names(body)
    lowering = _Lowering(namespace, assigned, args, namespace if scratch is None else scratch)
    out: list[ast.stmt] = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for stmt in body:
            if _too_deep(stmt):
                out.append(stmt)
                continue
            out.extend(_lowered(lowering, stmt, _MAX_SPLITS))
    return out


def split_choices(stmt: ast.stmt, splits: int = _MAX_SPLITS) -> ast.stmt:
    """``stmt`` as an ``if`` per one-value ``ite`` it holds (``a if c else b`` nodes), at most ``splits`` deep.

    Each branch is the statement with the choice replaced by the branch
    taken; the condition is pure, so evaluating it first changes nothing.

    Examples
    --------
    >>> import ast
    >>> stmt = ast.parse("x[...] += (0.0 if c > 0.5 else a * b)").body[0]
    >>> print(ast.unparse(split_choices(stmt)))
    if c > 0.5:
        x[...] += 0.0
    else:
        x[...] += a * b
    """
    choice = _first_choice(stmt) if splits else None
    if choice is None:
        return stmt
    body = split_choices(cast(ast.stmt, _replaced(stmt, choice, choice.body)), splits - 1)
    orelse = split_choices(cast(ast.stmt, _replaced(stmt, choice, choice.orelse)), splits - 1)
    return ast.If(test=choice.test, body=[body], orelse=[orelse])


def _lowered(lowering: _Lowering, stmt: ast.stmt, splits: int) -> list[ast.stmt]:
    if isinstance(stmt, ast.If):  # branches made before (split_choices): each is lowered on its own
        body = [s for branch in stmt.body for s in _lowered(lowering, branch, splits)]
        orelse = [s for branch in stmt.orelse for s in _lowered(lowering, branch, splits)]
        return [ast.If(test=stmt.test, body=body or [ast.Pass()], orelse=orelse)]
    choice = _first_choice(stmt) if splits else None
    if choice is not None:
        # ite with a one-value condition (see equations._Preparer.branch): one statement per branch,
        # so that each is computed in place (the condition is pure: evaluating it first changes nothing)
        body = _lowered(lowering, cast(ast.stmt, _replaced(stmt, choice, choice.body)), splits - 1)
        orelse = _lowered(lowering, cast(ast.stmt, _replaced(stmt, choice, choice.orelse)), splits - 1)
        return [ast.If(test=choice.test, body=body, orelse=orelse)]
    try:
        return lowering.statement(stmt)
    except Exception:  # a value that cannot be computed now: leave the statement as it is
        return [stmt]
    finally:
        lowering.values.clear()


def _first_choice(stmt: ast.stmt) -> ast.IfExp | None:
    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr)):
        return None
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.IfExp):
            return node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return None


def _replaced(node: ast.AST, old: ast.AST, new: ast.AST) -> ast.AST:
    """A copy of ``node`` with ``old`` (by identity) replaced by ``new`` (shallow trees only)."""
    if node is old:
        return new
    if not node._fields:
        return node
    fields: dict[str, Any] = {}
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            value = [_replaced(item, old, new) if isinstance(item, ast.AST) else item for item in value]
        elif isinstance(value, ast.AST):
            value = _replaced(value, old, new)
        fields[field] = value
    return type(node)(**fields)  # every field given (Python 3.13 deprecates nodes built without them)


def _too_deep(stmt: ast.stmt) -> bool:
    depth = 0
    stack: list[tuple[ast.AST, int]] = [(stmt, 0)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if depth > _MAX_DEPTH:
            return True
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return False
