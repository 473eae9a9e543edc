"""Turn validated equations into the statements of one update function.

Shared by neurons and synapses.  Input: :class:`~ratenet.equations.EquationDef`
records (right-hand sides already validated and resolved to symbols).  Output:
Python statement trees that update the variables in place, one numerical
method per ODE, with the block semantics of the design:

* consecutive ODEs form a block: every derivative is computed from the old
  values, then every variable of the block is updated, then clamped;
* assignments run in order and see the values already updated.

Nothing here touches arrays: the caller binds the names in a namespace and
compiles the statements with :func:`ratenet.equations.build_function`.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from .equations import (
    EquationDef,
    NonLinear,
    additive_terms,
    add,
    classify,
    linear_split,
    mul,
    sub,
    substitute,
)

__all__ = ["UpdateCode", "update_code", "check_methods"]

_DT = ast.Name(id="dt", ctx=ast.Load())


def _name(symbol: str) -> ast.Name:
    return ast.Name(id=symbol, ctx=ast.Load())


def _num(value: float) -> ast.Constant:
    return ast.Constant(value=value)


def _assign(symbol: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(id=symbol, ctx=ast.Store())], value=value)


def _call(func: str, args: Sequence[ast.expr], **keywords: ast.expr) -> ast.Call:
    return ast.Call(func=_name(func), args=list(args),
                    keywords=[ast.keyword(arg=k, value=v) for k, v in keywords.items()])


def _plus(a: ast.expr | None, b: ast.expr | None) -> ast.expr:
    return add(a, b) or _num(0.0)


@dataclass
class UpdateCode:
    """Statements of an update function and what they need.

    Attributes
    ----------
    statements : list of ast.stmt
        The body.
    rebinds : set of str
        Namespace entries the body rebinds (scalar variables); the compiled
        function declares them ``global``.
    randoms : set of str
        Random symbols used, already renamed by locality (``_rnd_<locality>_<Distribution>``).
    """

    statements: list[ast.stmt]
    rebinds: set[str]
    randoms: set[str]

    def source(self) -> str:
        """The statements as Python text (for reading, never executed as text)."""
        module = ast.fix_missing_locations(ast.Module(body=list(self.statements), type_ignores=[]))
        return ast.unparse(module)


class _Hoister:
    """Evaluate each random draw once per step, before the equations that use it."""

    def __init__(self) -> None:
        self.count = 0
        self.randoms: set[str] = set()

    def __call__(self, tree: ast.expr, locality: str, out: list[ast.stmt]) -> ast.expr:
        hoister = self

        class _T(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.AST:
                self.generic_visit(node)
                if isinstance(node.func, ast.Name) and classify(node.func.id)[0] == "random":
                    symbol = f"_rnd_{locality}_{classify(node.func.id)[1]}"
                    hoister.randoms.add(symbol)
                    temp = f"_draw{hoister.count}"
                    hoister.count += 1
                    out.append(_assign(temp, ast.Call(func=_name(symbol), args=node.args, keywords=[])))
                    return _name(temp)
                return node

        return _T().visit(copy.deepcopy(tree))


def _bound(value: object) -> ast.expr:
    return _name(value) if isinstance(value, str) else _num(float(value))


def _clamp(eq: EquationDef, is_scalar: bool) -> list[ast.stmt]:
    if eq.min is None and eq.max is None:
        return []
    x = _name(eq.target)
    if is_scalar:
        lo = _bound(eq.min) if eq.min is not None else _num(float("-inf"))
        hi = _bound(eq.max) if eq.max is not None else _num(float("inf"))
        return [_assign(eq.target, _call(f"_cast_{eq.dtype}", [_call("_np_clip", [x, lo, hi])]))]
    out = {"out": _name(eq.target)}
    if eq.min is not None and eq.max is not None:
        return [ast.Expr(_call("_np_clip", [x, _bound(eq.min), _bound(eq.max)], **out))]
    if eq.min is not None:
        return [ast.Expr(_call("_np_maximum", [x, _bound(eq.min)], **out))]
    return [ast.Expr(_call("_np_minimum", [x, _bound(eq.max)], **out))]


def _clamped_store(eq: EquationDef, rhs: ast.expr) -> ast.stmt:
    """``x = rhs : min=..., max=...`` for a float array, as one ufunc writing into ``x``."""
    out = {"out": _name(eq.target)}
    if eq.min is not None and eq.max is not None:
        return ast.Expr(_call("_np_clip", [rhs, _bound(eq.min), _bound(eq.max)], **out))
    if eq.min is not None:
        return ast.Expr(_call("_np_maximum", [rhs, _bound(eq.min)], **out))
    return ast.Expr(_call("_np_minimum", [rhs, _bound(eq.max)], **out))


def _store(target: str, value: ast.expr, is_scalar: bool, dtype: str, op: str = "=") -> ast.stmt:
    """``x[...] = value`` for arrays (in place), ``x = cast(value)`` for scalars."""
    if is_scalar:
        if op != "=":
            binop = {"+=": ast.Add, "-=": ast.Sub, "*=": ast.Mult, "/=": ast.Div}[op]()
            value = ast.BinOp(left=_name(target), op=binop, right=value)
        return _assign(target, _call(f"_cast_{dtype}", [value]))
    slot = ast.Subscript(value=_name(target), slice=ast.Constant(value=Ellipsis), ctx=ast.Store())
    if op == "=":
        return ast.Assign(targets=[slot], value=value)
    binop = {"+=": ast.Add, "-=": ast.Sub, "*=": ast.Mult, "/=": ast.Div}[op]()
    return ast.AugAssign(target=slot, op=binop, value=value)


def _linear_parts(eq: EquationDef, semi: bool) -> tuple[ast.expr | None, ast.expr | None]:
    """``f = A*x + B``; for the semi-implicit method, nonlinear terms go to B."""
    if not semi:
        return linear_split(eq.rhs, eq.target)
    a_total: ast.expr | None = None
    b_total: ast.expr | None = None
    for term in additive_terms(eq.rhs, eq.target):
        try:
            a, b = linear_split(term, eq.target)
        except NonLinear:
            a, b = None, term
        a_total, b_total = add(a_total, a), add(b_total, b)
    return a_total, b_total


def check_methods(equations: Iterable[EquationDef]) -> None:
    """Raise an EquationError for an ODE its method cannot integrate."""
    for eq in equations:
        if eq.kind != "ode" or eq.method not in ("implicit", "exponential"):
            continue
        try:
            linear_split(eq.rhs, eq.target)
        except NonLinear:
            raise eq.source.error(
                f"the {eq.method} method needs an ODE that is linear in {eq.target}",
                0, "use semiimplicit, midpoint or rk4 for nonlinear equations") from None


def _single_stage(eq: EquationDef, f: ast.expr) -> ast.expr:
    """New value of ``eq.target`` for the one-stage methods, from old values."""
    x = _name(eq.target)
    if eq.method == "explicit":
        return ast.BinOp(left=x, op=ast.Add(), right=ast.BinOp(left=_DT, op=ast.Mult(), right=f))
    scratch = EquationDef(eq.target, "ode", f, method=eq.method)
    a, b = _linear_parts(scratch, semi=eq.method == "semiimplicit")
    if a is None:  # x does not appear: every method reduces to the explicit step
        return ast.BinOp(left=x, op=ast.Add(), right=ast.BinOp(left=_DT, op=ast.Mult(), right=f))
    if eq.method == "exponential":
        # x + f(x) * (exp(a dt) - 1) / a: exact for dx/dt = a x + b with a, b held over the step
        return ast.BinOp(left=x, op=ast.Add(),
                         right=ast.BinOp(left=f, op=ast.Mult(), right=_call("_expm1_ratio", [a, _DT])))
    # implicit and semi-implicit: x_new = (x + dt*B) / (1 - dt*A)
    numerator = _plus(x, mul(_DT, b))
    denominator = sub(_num(1.0), mul(_DT, a))
    return ast.BinOp(left=numerator, op=ast.Div(), right=denominator)


def _multi_stage(group: list[tuple[EquationDef, ast.expr]], method: str, out: list[ast.stmt],
                 new: dict[str, str], counter: list[int]) -> None:
    """Midpoint or RK4 for a group of ODEs integrated together."""
    targets = [eq.target for eq, _ in group]

    def stage(shift: float, states: dict[str, str] | None) -> dict[str, str]:
        result = {}
        mapping: dict[str, ast.expr] = {}
        if states:
            mapping = {x: _name(s) for x, s in states.items()}
        if shift:
            mapping["t"] = ast.BinOp(left=_name("t"), op=ast.Add(),
                                     right=ast.BinOp(left=_num(shift), op=ast.Mult(), right=_DT))
        for eq, f in group:
            counter[0] += 1
            k = f"_k{counter[0]}_{eq.target}"
            out.append(_assign(k, substitute(f, mapping) if mapping else f))
            result[eq.target] = k
        return result

    def advance(ks: dict[str, str], factor: float) -> dict[str, str]:
        states = {}
        for x in targets:
            counter[0] += 1
            s = f"_s{counter[0]}_{x}"
            step = ast.BinOp(left=ast.BinOp(left=_num(factor), op=ast.Mult(), right=_DT), op=ast.Mult(),
                             right=_name(ks[x]))
            out.append(_assign(s, ast.BinOp(left=_name(x), op=ast.Add(), right=step)))
            states[x] = s
        return states

    k1 = stage(0.0, None)
    if method == "midpoint":
        k2 = stage(0.5, advance(k1, 0.5))
        for x in targets:
            new[x] = f"_n_{x}"
            out.append(_assign(new[x], ast.BinOp(left=_name(x), op=ast.Add(),
                                                 right=ast.BinOp(left=_DT, op=ast.Mult(), right=_name(k2[x])))))
        return
    k2 = stage(0.5, advance(k1, 0.5))
    k3 = stage(0.5, advance(k2, 0.5))
    k4 = stage(1.0, advance(k3, 1.0))
    for x in targets:
        total = ast.BinOp(left=_name(k1[x]), op=ast.Add(), right=ast.BinOp(
            left=ast.BinOp(left=_num(2.0), op=ast.Mult(), right=ast.BinOp(
                left=_name(k2[x]), op=ast.Add(), right=_name(k3[x]))),
            op=ast.Add(), right=_name(k4[x])))
        new[x] = f"_n_{x}"
        out.append(_assign(new[x], ast.BinOp(left=_name(x), op=ast.Add(), right=ast.BinOp(
            left=ast.BinOp(left=_DT, op=ast.Div(), right=_num(6.0)), op=ast.Mult(), right=total))))


def update_code(equations: Sequence[EquationDef], is_scalar: Callable[[str], bool]) -> UpdateCode:
    """Statements that run ``equations`` once (one simulation step).

    Parameters
    ----------
    equations : sequence of EquationDef
        In declaration order.
    is_scalar : callable
        Whether a variable holds one shared value (rebound) rather than an
        array (updated in place).

    Returns
    -------
    UpdateCode

    Examples
    --------
    >>> import ast
    >>> from ratenet.equations import parse_equations, Scope
    >>> eqs = parse_equations("tau * dr/dt + r = I : exponential", Scope(locals={"tau": "local", "I": "local"}))
    >>> code = update_code(eqs, lambda name: False)
    >>> print(code.source())
    r[...] = r + (I - r) / tau * _expm1_ratio(-1.0 / tau, dt)
    """
    check_methods(equations)
    hoist = _Hoister()
    statements: list[ast.stmt] = []
    rebinds: set[str] = set()
    counter = [0]
    i = 0
    while i < len(equations):
        eq = equations[i]
        scalar = is_scalar(eq.target)
        if eq.kind == "assign":
            rhs = hoist(eq.rhs, eq.locality, statements)
            if not scalar and eq.op == "=" and eq.dtype == "float" and (eq.min is not None or eq.max is not None):
                # one pass instead of two: clamp straight into the variable
                statements.append(_clamped_store(eq, rhs))
            else:
                statements.append(_store(eq.target, rhs, scalar, eq.dtype, eq.op))
                statements.extend(_clamp(eq, scalar))
            if scalar:
                rebinds.add(eq.target)
            i += 1
            continue
        block = []
        while i < len(equations) and equations[i].kind == "ode":
            block.append(equations[i])
            i += 1
        # Draws are shared by every stage of the step.
        derivs = [(e, hoist(e.rhs, e.locality, statements)) for e in block]
        new: dict[str, str] = {}
        if len(block) == 1 and block[0].method == "explicit" and not is_scalar(block[0].target):
            e, f = derivs[0]
            statements.append(_store(e.target, ast.BinOp(left=_DT, op=ast.Mult(), right=f), False, e.dtype, "+="))
        elif len(block) == 1 and block[0].method not in ("midpoint", "rk4"):
            e, f = derivs[0]
            statements.append(_store(e.target, _single_stage(e, f), is_scalar(e.target), e.dtype))
        else:
            for method in ("midpoint", "rk4"):
                group = [(e, f) for e, f in derivs if e.method == method]
                if group:
                    _multi_stage(group, method, statements, new, counter)
            for e, f in derivs:
                if e.method in ("midpoint", "rk4"):
                    continue
                new[e.target] = f"_n_{e.target}"
                statements.append(_assign(new[e.target], _single_stage(e, f)))
            for e in block:
                statements.append(_store(e.target, _name(new[e.target]), is_scalar(e.target), e.dtype))
        for e in block:
            statements.extend(_clamp(e, is_scalar(e.target)))
            if is_scalar(e.target):
                rebinds.add(e.target)
    return UpdateCode(statements, rebinds, hoist.randoms)


def global_operation_code(needed: Iterable[tuple[str, str, str]]) -> list[ast.stmt]:
    """``symbol = op(var)`` statements for the global operations a model reads.

    ``needed`` holds (symbol, op, var) triples.
    """
    return [_assign(symbol, _call(f"_gop_{op}", [_name(var)])) for symbol, op, var in sorted(needed)]
