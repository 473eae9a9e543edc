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
import math
import os
import sys
import warnings
from types import FrameType
from typing import Any, Callable, Iterable, Mapping, Sequence, cast

from ._trees import copy_tree, set_locations, transform, unparse
from .equations import (
    EquationDef,
    NonLinear,
    additive_terms,
    add,
    build_function,
    classify,
    linear_split,
    mul,
    numpy_namespace,
    sub,
    substitute,
    symbols,
)
from .exceptions import EquationError, RatenetWarning

__all__ = ["UpdateCode", "update_code", "check_methods", "unstable_odes", "warn_unstable", "UnstableMethodWarning"]

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

    __slots__ = ("statements", "rebinds", "randoms")

    def __init__(self, statements: list[ast.stmt], rebinds: set[str], randoms: set[str]) -> None:
        self.statements, self.rebinds, self.randoms = statements, rebinds, randoms

    def source(self) -> str:
        """The statements as Python text (for reading, never executed as text)."""
        module = set_locations(ast.Module(body=[cast(ast.stmt, copy_tree(s)) for s in self.statements],
                                          type_ignores=[]))
        return unparse(module)


class _Hoister:
    """Evaluate each random draw once per step, before the equations that use it.

    Each draw receives, as its first argument, the ``(owner, line, column)``
    of the equation it comes from, so that bad arguments computed at run time
    (``Normal(0, s)`` with ``s < 0``) are reported against that equation.
    """

    def __init__(self) -> None:
        self.count = 0
        self.randoms: set[str] = set()

    def __call__(self, eq: EquationDef, tree: ast.expr, out: list[ast.stmt]) -> ast.expr:
        def visit(node: ast.AST) -> ast.AST:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and classify(node.func.id)[0] == "random":
                symbol = f"_rnd_{eq.locality}_{classify(node.func.id)[1]}"
                self.randoms.add(symbol)
                temp = f"_draw{self.count}"
                self.count += 1
                # A tuple of constants is a valid constant to the compiler (typeshed says otherwise).
                label = ast.Constant(value=_label(eq, getattr(node, "col_offset", 0)))  # type: ignore[arg-type]
                out.append(_assign(temp, ast.Call(func=_name(symbol), args=[label] + node.args, keywords=[])))
                return _name(temp)
            return node

        return cast(ast.expr, transform(tree, visit))


def _label(eq: EquationDef, column: int | None = 0) -> tuple[Any, ...]:
    if eq.source is None:
        return ("equations", eq.target, None)
    return eq.source.label(column)


def _bound(value: float | str | ast.expr) -> ast.expr:
    if isinstance(value, ast.expr):
        return cast(ast.expr, copy_tree(value))
    return _name(value) if isinstance(value, str) else _num(float(value))


def _clamp(eq: EquationDef, is_scalar: bool) -> list[ast.stmt]:
    if eq.min is None and eq.max is None or eq.dtype != "float":
        return []  # int and bool variables are clamped before their conversion (_store)
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


def _converted(eq: EquationDef, value: ast.expr, op: str) -> ast.expr:
    """The value an int or bool variable receives, computed in doubles then converted as C does."""
    if op != "=":
        binop = {"+=": ast.Add, "-=": ast.Sub, "*=": ast.Mult, "/=": ast.Div}[op]()
        value = ast.BinOp(left=_name(eq.target), op=binop, right=value)
    if eq.min is not None or eq.max is not None:
        lo = _bound(eq.min) if eq.min is not None else _num(float("-inf"))
        hi = _bound(eq.max) if eq.max is not None else _num(float("inf"))
        value = _call("_np_clip", [value, lo, hi])
    if eq.dtype == "int":
        label = _label(eq)
        where = (label[0], label[1], eq.target)
        # A tuple of constants is a valid constant to the compiler (typeshed says otherwise).
        return _call("_f_to_int", [value, ast.Constant(value=where)])  # type: ignore[arg-type]
    return _call("_f_to_bool", [value])


def _store(target: str, value: ast.expr, is_scalar: bool, dtype: str, op: str = "=",
           eq: EquationDef | None = None) -> ast.stmt:
    """``x[...] = value`` for arrays (in place), ``x = cast(value)`` for scalars."""
    if eq is not None and dtype in ("int", "bool"):
        value, op = _converted(eq, value, op), "="
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
            message = f"the {eq.method} method needs an ODE that is linear in {eq.target}"
            hint = "use semiimplicit, midpoint or rk4 for nonlinear equations"
            if eq.source is None:
                raise EquationError(f"{message}; {hint}") from None
            raise eq.source.error(message, 0, hint) from None


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
    denominator = cast(ast.expr, sub(_num(1.0), mul(_DT, a)))   # never None: 1.0 is not zero
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
            rhs = hoist(eq, eq.rhs, statements)
            if not scalar and eq.op == "=" and eq.dtype == "float" and (eq.min is not None or eq.max is not None):
                # one pass instead of two: clamp straight into the variable
                statements.append(_clamped_store(eq, rhs))
            else:
                statements.append(_store(eq.target, rhs, scalar, eq.dtype, eq.op, eq))
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
        derivs = [(e, hoist(e, e.rhs, statements)) for e in block]
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


# ---------------------------------------------------------------------------
# stability of the explicit methods


class UnstableMethodWarning(RatenetWarning, RuntimeWarning):
    """An ODE's numerical method diverges at this ``dt`` for its (constant) time constant."""


#: For dx/dt = a*x, each method multiplies x by R(a*dt) per step; it grows, oscillating, as soon as
#: a*dt falls below this bound on the negative real axis (|R| > 1).
_STABILITY_BOUND = {
    "explicit": -2.0,            # R(z) = 1 + z
    "midpoint": -2.0,            # R(z) = 1 + z + z^2/2
    "rk4": -2.785293563405282,   # R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24
}


class Instability:
    """An ODE that its method integrates unstably: see :func:`unstable_odes`.

    ``coefficient`` is the most negative ``a`` in ``dx/dt = a*x + b``.
    """

    __slots__ = ("equation", "coefficient", "dt")

    def __init__(self, equation: EquationDef, coefficient: float, dt: float) -> None:
        self.equation, self.coefficient, self.dt = equation, coefficient, dt

    def __repr__(self) -> str:
        return f"Instability({self.equation.target!r}, coefficient={self.coefficient!r}, dt={self.dt!r})"

    @property
    def time_constant(self) -> float:
        return -1.0 / self.coefficient

    @property
    def largest_dt(self) -> float:
        """The largest step at which the method stays stable."""
        return _STABILITY_BOUND[self.equation.method] / self.coefficient

    def message(self) -> str:
        eq = self.equation
        where = eq.source.where if eq.source else f"equation of {eq.target}"
        return (f"{where}: the {eq.method} method is unstable with dt={self.dt:g} for '{eq.text}': its time "
                f"constant is {self.time_constant:.4g}, so values grow and oscillate unless dt <= "
                f"{self.largest_dt:.4g}; use the exponential or implicit method, or a smaller dt")


def unstable_odes(equations: Iterable[EquationDef], dt: float,
                  values: Mapping[str, Any]) -> list[Instability]:
    """ODEs whose explicit method diverges at ``dt`` because of a constant time constant.

    For ``dx/dt = a*x + b`` the explicit, midpoint and RK4 methods are stable
    only while ``a*dt`` stays above -2, -2 and -2.785; ``tau*dr/dt + r = I``
    has ``a = -1/tau``.  Only ODEs linear in their variable whose ``a``
    depends on nothing but numbers, ``dt`` and the names in ``values``
    (parameters and constants: numbers or arrays, one value per neuron) are
    checked; the implicit, semi-implicit and exponential methods are stable
    for every negative ``a``.

    Examples
    --------
    >>> from ratenet.equations import parse_equations, Scope
    >>> eqs = parse_equations("tau * dr/dt + r = 1", Scope(locals={"tau": "population"}))
    >>> [round(found.time_constant, 3) for found in unstable_odes(eqs, 1.0, {"tau": 0.4})]
    [0.4]
    >>> unstable_odes(eqs, 0.5, {"tau": 0.4})
    []
    """
    import numpy as np

    found = []
    for eq in equations:
        if eq.kind != "ode" or eq.method not in _STABILITY_BOUND:
            continue
        try:
            a, _ = linear_split(eq.rhs, eq.target)
        except NonLinear:
            continue
        if a is None or not symbols(a) <= set(values) | {"dt"}:
            continue
        namespace = numpy_namespace()
        namespace.update({name: values[name] for name in symbols(a) if name in values})
        namespace["dt"] = dt
        with np.errstate(all="ignore"):
            coefficient = np.asarray(build_function([ast.Return(value=a)], namespace, "stability")(), dtype=float)
        if coefficient.size == 0:
            continue
        worst = float(np.min(coefficient))
        if math.isfinite(worst) and worst * dt < _STABILITY_BOUND[eq.method]:
            found.append(Instability(eq, worst, dt))
    return found


def warn_unstable(equations: Iterable[EquationDef], dt: float, values: Mapping[str, Any],
                  owner: str | None = None) -> list[Instability]:
    """Issue an :class:`UnstableMethodWarning` for each ODE :func:`unstable_odes` finds.

    The warning points at the first caller outside ratenet (the user's line).
    """
    found = unstable_odes(equations, dt, values)
    for item in found:
        message = item.message()
        warnings.warn(f"{owner}: {message}" if owner else message, UnstableMethodWarning,
                      stacklevel=_outside_ratenet())
    return found


def _outside_ratenet() -> int:
    """The ``stacklevel`` of the nearest frame whose code is not ratenet's."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level
