"""Fuzzing the equation language: strategies, an independent evaluator, and the checks.

Three kinds of input, in every text slot ratenet has (equations, parameters, flags,
functions, psp, stop conditions, pruning and creating rules, ANNarchy 5 objects,
parameter names, constants):

* **grammar**: valid equations built from a grammar of the language (numbers,
  names, ``+ - * / ^ **``, unary signs, comparisons and their chains, ``is``,
  ``and/or/not``, ``ite``, Python's and ANNarchy's conditionals, built-in
  functions, long flat chains, flags).  Each is rendered with the fewest
  parentheses precedence allows, simulated for two steps, and compared with
  :func:`evaluate`, a small evaluator of the same grammar written here: Python
  float arithmetic with C semantics (IEEE division, C ``pow``, comparisons and
  bools as 1.0/0.0, truncation of ints), and NumPy only for the transcendental
  kernels (``exp``, ``log``, ``sin``...), which is what the language documents
  as its built-ins.
* **mutations**: a valid text with characters inserted, deleted or replaced from
  a palette of operators, brackets, quotes, separators, keywords, dunders,
  look-alike letters and control characters.
* **payloads**: strings that try to run code or exhaust the parser.

The only exceptions allowed are ratenet's own: :class:`~ratenet.EquationError`
and :class:`~ratenet.ValidationError` (the two subclasses of
:class:`~ratenet.RatenetError`).  Nothing may run: ``os.system``, ``os.popen``,
``subprocess.Popen``, ``builtins.exec``/``eval``/``breakpoint`` and imports
made from generated code are recorded, ``open`` of the sentinel file too, and
the sentinel file must never appear.

Run the long campaign (100,000 strings by default) from the repository root::

    PYTHONPATH=$PWD python tests/fuzz_equations.py --examples 100000

The suite runs a few thousand of the same examples (tests/test_fuzz_equations.py).
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ratenet
from ratenet import (
    Creating,
    EquationError,
    Network,
    Neuron,
    Parameter,
    Pruning,
    RatenetError,
    Synapse,
    ValidationError,
    Variable,
)

#: The exceptions ratenet may raise on bad input: its two RatenetError subclasses, nothing else.
ALLOWED = (EquationError, ValidationError)
assert all(issubclass(kind, RatenetError) for kind in ALLOWED)

SENTINEL_NAME = "ratenet-fuzz-pwned"

# ===========================================================================
# the independent evaluator

PARAMETERS = ("a", "b", "c")
INF, NAN = math.inf, math.nan


class Unrepresentable(Exception):
    """The evaluator's own signal that C has no int for this value (ratenet must raise EquationError)."""


class Undecided(Exception):
    """The evaluator cannot vouch for the value an int variable receives (last bits of a kernel decide)."""


EXACT, SIGNLESS, CLOSE, UNKNOWN = 0, 1, 2, 3


@dataclass
class Value:
    """A number and how far the evaluator vouches for it.

    ``EXACT``: ratenet must give the same bits.  ``SIGNLESS``: the same value, but a zero
    may carry either sign (NumPy's clip, maximum and minimum pick between +0.0 and -0.0
    differently for scalar and array bounds).  ``CLOSE``: the value went through a
    transcendental kernel or ``pow``, whose last bit NumPy may round differently (array
    and scalar paths differ), so ratenet must agree to 1e-9 relative.  ``UNKNOWN``:
    something that can amplify a last-bit difference without bound came after (a
    comparison too close to call, floor, a cancellation, a division by a zero of unknown
    sign): only the absence of foreign exceptions is checked.
    """

    v: float
    state: int = EXACT

    @property
    def exact(self) -> bool:
        return self.state == EXACT


def _join(*values: Value) -> int:
    return max(v.state for v in values)


def _after_arithmetic(result: float, operands: tuple[Value, ...], additive: bool) -> int:
    state = _join(*operands)
    if state == EXACT:
        return EXACT
    if state == SIGNLESS:
        if result == 0:
            return SIGNLESS
        if not math.isfinite(result) and any(o.state == SIGNLESS and o.v == 0 for o in operands):
            return UNKNOWN     # x / (+-0): the sign of the infinity is the zero's
        return EXACT
    if state == UNKNOWN:
        return UNKNOWN
    if not math.isfinite(result) or abs(result) < 1e-290:
        return UNKNOWN         # at an overflow or underflow edge a last bit decides
    if additive and abs(result) < 1e-3 * sum(abs(o.v) for o in operands):
        return UNKNOWN         # cancellation amplifies the difference
    return CLOSE


def _decided(*values: Value) -> bool:
    """Whether a comparison or truth test of these values is certain despite CLOSE operands."""
    if all(v.state <= SIGNLESS for v in values):
        return True
    if any(v.state == UNKNOWN for v in values):
        return False
    finite = [v.v for v in values if math.isfinite(v.v)]
    if len(finite) != len(values):
        return False
    if len(values) == 1:
        return abs(values[0].v) > 1e-250
    x, y = finite
    return abs(x - y) > 1e-9 * max(abs(x), abs(y), 1e-300)


def _ieee_div(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if math.isnan(x) or x == 0:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and int(y) % 2 == 1


def _c_pow(x: float, y: float) -> float:
    """C's pow (C99 Annex F), whichever way this Python's math.pow reports its edge cases."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0 and _odd_integer(y) else INF
    except ValueError:
        if x == 0 and y < 0:
            return math.copysign(INF, x) if _odd_integer(y) else INF
        return NAN


def _numpy_kernel(name: str) -> Callable[..., float]:
    function = getattr(np, name)

    def apply(*args: float) -> float:
        with np.errstate(all="ignore"):
            return float(function(*[np.array([a], dtype=np.float64) for a in args])[0])

    return apply


def _max2(x: float, y: float) -> float:     # NaN propagates; a tie returns the second value
    return NAN if math.isnan(x) or math.isnan(y) else (x if x > y else y)


def _min2(x: float, y: float) -> float:
    return NAN if math.isnan(x) or math.isnan(y) else (x if x < y else y)


def _clip(x: float, lo: float, hi: float) -> float:
    if math.isnan(x) or math.isnan(lo) or math.isnan(hi):
        return NAN
    y = lo if x < lo else x
    return hi if y > hi else y


def _floor(x: float) -> float:
    return x if not math.isfinite(x) else math.copysign(float(math.floor(x)), x)


def _ceil(x: float) -> float:
    return x if not math.isfinite(x) else math.copysign(float(math.ceil(x)), x)


def _round(x: float) -> float:   # half away from zero, as C's round
    return x if not math.isfinite(x) else math.copysign(float(math.floor(abs(x) + 0.5)), x)


def _sign(x: float) -> float:
    return NAN if math.isnan(x) else (1.0 if x > 0 else -1.0 if x < 0 else 0.0)


def _fmod(x: float, y: float) -> float:
    try:
        return math.fmod(x, y)
    except ValueError:
        return NAN


FUNCTIONS: dict[str, tuple[int, Callable[..., float]]] = {
    "exp": (1, _numpy_kernel("exp")), "log": (1, _numpy_kernel("log")), "log10": (1, _numpy_kernel("log10")),
    "log2": (1, _numpy_kernel("log2")), "sqrt": (1, _numpy_kernel("sqrt")), "sin": (1, _numpy_kernel("sin")),
    "cos": (1, _numpy_kernel("cos")), "tan": (1, _numpy_kernel("tan")), "tanh": (1, _numpy_kernel("tanh")),
    "sinh": (1, _numpy_kernel("sinh")), "cosh": (1, _numpy_kernel("cosh")), "asin": (1, _numpy_kernel("arcsin")),
    "acos": (1, _numpy_kernel("arccos")), "atan": (1, _numpy_kernel("arctan")),
    "atan2": (2, _numpy_kernel("arctan2")),
    "abs": (1, abs), "fabs": (1, abs), "floor": (1, _floor), "ceil": (1, _ceil), "round": (1, _round),
    "sign": (1, _sign), "pos": (1, lambda x: _max2(x, 0.0)), "positive": (1, lambda x: _max2(x, 0.0)),
    "neg": (1, lambda x: _min2(x, 0.0)), "negative": (1, lambda x: _min2(x, 0.0)),
    "heaviside": (1, lambda x: 1.0 if x > 0 else 0.0), "clip": (3, _clip), "power": (2, _c_pow),
    "pow": (2, _c_pow), "modulo": (2, _fmod), "fmod": (2, _fmod), "max": (2, _max2), "min": (2, _min2),
}
COMPARISONS = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
               ">=": lambda x, y: x >= y, "==": lambda x, y: x == y, "!=": lambda x, y: x != y,
               "is": lambda x, y: x == y, "is not": lambda x, y: x != y}
ARITHMETIC = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": _ieee_div}


def _truthy(x: float) -> bool:
    return x != 0   # NaN is true, as in C


TRANSCENDENTAL = {"exp", "log", "log10", "log2", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos",
                  "atan", "atan2", "power", "pow", "sqrt"}
DISCONTINUOUS = {"floor", "ceil", "round", "sign", "heaviside", "modulo", "fmod"}
SELECTIONS = {"clip", "max", "min", "pos", "positive", "neg", "negative"}


def evaluate(node: tuple, env: dict[str, Any]) -> Value:
    """Value of a grammar node (see :class:`_Grower`), with C semantics."""
    kind = node[0]
    if kind == "num":
        return Value(node[1])
    if kind == "bool":
        return Value(1.0 if node[1] else 0.0)
    if kind == "name":
        value = env[node[1]]
        return value if isinstance(value, Value) else Value(value)
    if kind in ("neg", "pos"):
        inner = evaluate(node[1], env)
        return Value(-inner.v if kind == "neg" else inner.v, inner.state)
    if kind == "chain":       # a flat chain of + - (or * /), left to right
        _, ops, operands = node
        value = evaluate(operands[0], env)
        for op, operand in zip(ops, operands[1:]):
            right = evaluate(operand, env)
            result = ARITHMETIC[op](value.v, right.v)
            value = Value(result, _after_arithmetic(result, (value, right), op in "+-"))
        return value
    if kind == "pow":
        base, power = evaluate(node[1], env), evaluate(node[2], env)
        result = _c_pow(base.v, power.v)
        # NumPy's array ** scalar shortcuts (sqrt for 0.5...) and SIMD pow differ from C pow in the last bit
        state = CLOSE if _join(base, power) <= SIGNLESS else UNKNOWN
        return Value(result, UNKNOWN if not math.isfinite(result) or result == 0 else state)
    if kind == "compare":
        _, ops, operands = node
        values = [evaluate(o, env) for o in operands]
        holds = all(COMPARISONS[op](x.v, y.v) for op, x, y in zip(ops, values, values[1:]))
        certain = all(_decided(x, y) for x, y in zip(values, values[1:]))
        return Value(1.0 if holds else 0.0, EXACT if certain else UNKNOWN)
    if kind == "not":
        inner = evaluate(node[1], env)
        return Value(0.0 if _truthy(inner.v) else 1.0, EXACT if _decided(inner) else UNKNOWN)
    if kind in ("and", "or"):
        values = [evaluate(o, env) for o in node[1]]
        truth = [_truthy(v.v) for v in values]
        holds = all(truth) if kind == "and" else any(truth)
        return Value(1.0 if holds else 0.0, EXACT if all(_decided(v) for v in values) else UNKNOWN)
    if kind in ("ifexp", "aif", "ite"):
        test, yes, no = (evaluate(part, env) for part in node[1:])
        chosen = yes if _truthy(test.v) else no
        return Value(chosen.v, chosen.state if _decided(test) else UNKNOWN)
    if kind == "call":
        _, name, args = node
        values = [evaluate(a, env) for a in args]
        result = float(FUNCTIONS[name][1](*[v.v for v in values]))
        state = _join(*values)
        if name in TRANSCENDENTAL:
            if state <= SIGNLESS:
                state = CLOSE if math.isfinite(result) and result != 0 or state == EXACT else UNKNOWN
            else:
                state = UNKNOWN
            if not math.isfinite(result) and state == CLOSE and any(not math.isfinite(v.v) for v in values):
                state = EXACT if all(v.state == EXACT for v in values) else UNKNOWN
        elif name in DISCONTINUOUS:
            if state >= CLOSE:
                state = UNKNOWN
            elif state == SIGNLESS:
                state = SIGNLESS if result == 0 else EXACT
        elif name in SELECTIONS:
            state = SIGNLESS if result == 0 and state <= SIGNLESS else state
        elif name in ("abs", "fabs") and state == SIGNLESS:
            state = EXACT
        return Value(result, state)
    raise AssertionError(kind)


def to_int(value: float) -> int:
    if not math.isfinite(value) or not -2.0 ** 63 <= value < 2.0 ** 63:
        raise Unrepresentable(value)
    return int(value)   # truncation toward zero


# ===========================================================================
# rendering with the fewest parentheses

PREC = {"ifexp": 0, "aif": 0, "or": 1, "and": 2, "not": 3, "compare": 4, "chain+": 6, "chain*": 7, "neg": 8,
        "pos": 8, "pow": 9, "atom": 10}


def _precedence(node: tuple) -> int:
    kind = node[0]
    if kind == "chain":
        return PREC["chain+"] if node[1][0] in "+-" else PREC["chain*"]
    if kind == "num" and (node[1] < 0 or math.copysign(1.0, node[1]) < 0):
        return PREC["neg"]
    return PREC.get(kind, PREC["atom"])


def _number(value: float) -> str:
    text = repr(float(value))
    if text.endswith(".0") and abs(value) < 1e15:
        return text[:-2]            # ANNarchy models write integers
    return text


def render(node: tuple, context: int = 0) -> str:
    """Text of a node; parenthesized when its precedence is below ``context``."""
    text = _render(node)
    return f"({text})" if _precedence(node) < context else text


def _render(node: tuple) -> str:
    kind = node[0]
    if kind == "num":
        return _number(node[1])
    if kind == "bool":
        return "True" if node[1] else "False"
    if kind == "name":
        return node[1]
    if kind in ("neg", "pos"):
        operand = render(node[1], PREC["neg"])
        sign = "-" if kind == "neg" else "+"
        return f"{sign} {operand}" if operand.startswith(("-", "+")) else f"{sign}{operand}"
    if kind == "chain":
        _, ops, operands = node
        level = _precedence(node)
        parts = [render(operands[0], level)]
        for op, operand in zip(ops, operands[1:]):
            parts.append(f" {op} {render(operand, level + 1)}")
        return "".join(parts)
    if kind == "pow":
        symbol = node[3]
        # ** binds tighter than a unary sign on its left, and is right-associative
        return f"{render(node[1], PREC['pow'] + 1)} {symbol} {render(node[2], PREC['neg'])}"
    if kind == "compare":
        _, ops, operands = node
        parts = [render(operands[0], PREC["compare"] + 1)]
        for op, operand in zip(ops, operands[1:]):
            parts.append(f" {op} {render(operand, PREC['compare'] + 1)}")
        return "".join(parts)
    if kind == "not":
        return f"not {render(node[1], PREC['not'])}"
    if kind in ("and", "or"):
        return f" {kind} ".join(render(o, PREC[kind] + 1) for o in node[1])
    if kind == "ifexp":
        return f"{render(node[2], 1)} if {render(node[1], 1)} else {render(node[3], 0)}"
    if kind == "aif":           # ANNarchy's form; only at the start of an expression (see expressions())
        return f"if {render(node[1])}: {render(node[2])} else: {render(node[3])}"
    if kind == "ite":
        return f"ite({render(node[1])}, {render(node[2])}, {render(node[3])})"
    if kind == "call":
        return f"{node[1]}({', '.join(render(a) for a in node[2])})"
    raise AssertionError(kind)


# ===========================================================================
# strategies

SPECIAL = [0.0, 1.0, 2.0, 0.5, 3.0, 10.0, 0.1, 1e-300, 1e300, 5e-324, 1.7976931348623157e308, 2.0 ** 63, 7.25]
PARAMETER_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e300, -1e-300, 3.0, 1.7976931348623157e308]
UNARY = ("neg", "pos", "not")
FUNCTIONS_BY_ARITY = {n: sorted(name for name, (k, _) in FUNCTIONS.items() if k == n) for n in (1, 2, 3)}


def _number_from(rng: Any, special: list[float], negative: bool = False) -> float:
    roll = rng.random()
    if roll < 0.4:
        value = rng.choice(special)
    elif roll < 0.7:
        value = round(rng.uniform(0, 20), rng.randint(0, 3))
    elif roll < 0.9:
        value = rng.uniform(0, 1e6)
    else:
        value = math.ldexp(rng.random(), rng.randint(-1070, 1020))
    if negative and rng.random() < 0.5:
        value = -value
    return value


class _Grower:
    """Grow a grammar tree from a Random that Hypothesis controls (st.randoms), in a few microseconds a node."""

    def __init__(self, rng: Any, names: tuple[str, ...], leaves: int) -> None:
        self.rng, self.names, self.left = rng, names, leaves

    def leaf(self) -> tuple:
        roll = self.rng.random()
        if roll < 0.45:
            return ("num", _number_from(self.rng, SPECIAL))
        if roll < 0.95:
            return ("name", self.rng.choice(self.names))
        return ("bool", self.rng.random() < 0.5)

    def node(self, depth: int = 0) -> tuple:
        rng = self.rng
        self.left -= 1
        if self.left <= 0 or depth > 12 or rng.random() < 0.3:
            return self.leaf()
        roll = rng.random()
        if roll < 0.15:
            return (rng.choice(UNARY), self.node(depth + 1))
        if roll < 0.35:
            ops = "+-" if rng.random() < 0.6 else "*/"
            n = rng.randint(1, 4)
            return ("chain", [rng.choice(ops) for _ in range(n)], [self.node(depth + 1) for _ in range(n + 1)])
        if roll < 0.45:
            return ("pow", self.node(depth + 1), self.node(depth + 1), rng.choice(["**", "^"]))
        if roll < 0.6:
            n = rng.randint(1, 3)
            return ("compare", [rng.choice(sorted(COMPARISONS)) for _ in range(n)],
                    [self.node(depth + 1) for _ in range(n + 1)])
        if roll < 0.68:
            return (rng.choice(["and", "or"]), [self.node(depth + 1) for _ in range(rng.randint(2, 3))])
        if roll < 0.78:
            return (rng.choice(["ifexp", "ite"]), self.node(depth + 1), self.node(depth + 1), self.node(depth + 1))
        arity = rng.choice([1, 1, 1, 2, 2, 3])
        return ("call", rng.choice(FUNCTIONS_BY_ARITY[arity]), [self.node(depth + 1) for _ in range(arity)])

    def top(self) -> tuple:
        """An expression as it may start a right-hand side: ANNarchy's ``if`` or a long flat chain too."""
        roll = self.rng.random()
        if roll < 0.1:
            n = self.rng.randint(30, 90)
            return ("chain", [self.rng.choice("+-") for _ in range(n)], [self.leaf() for _ in range(n + 1)])
        if roll < 0.2:
            tail = self.top() if self.rng.random() < 0.3 else self.node()
            return ("aif", self.node(), self.node(), tail)
        return self.node()


#: Hypothesis draws one seed per example; a Random seeded with it grows the tree in microseconds (drawing
#: every choice through Hypothesis costs ~20 ms an example).  A failure prints its seed, which replays it.
seeds = st.integers(min_value=0, max_value=2 ** 63 - 1)


def grown(names: tuple[str, ...] = PARAMETERS, leaves: int = 25) -> st.SearchStrategy:
    """Grammar nodes of the equation language, grown from a seed Hypothesis draws."""
    return seeds.map(lambda seed: _Grower(random.Random(seed), names, leaves).top())


def expressions(names: tuple[str, ...] = PARAMETERS, max_leaves: int = 25) -> st.SearchStrategy:
    """Grammar nodes (alias of :func:`grown`)."""
    return grown(names, max_leaves)


FIRST_NAMES = PARAMETERS + ("t", "dt", "pi", "e")
SECOND_NAMES = PARAMETERS + ("x", "t", "dt")


@dataclass
class GrammarCase:
    """One model: parameters a, b, c; x = e1 (+ flags); r op= e2 (+ flags), or an ODE; checked after two steps."""

    values: dict[str, float]
    first: tuple
    second: tuple
    op: str = "="
    kind: str = "float"          # float, int or bool for the second variable
    init: float = 0.0
    bounds: tuple[float | None, float | None] = (None, None)
    ode: bool = False
    dt: float = 1.0
    separator: str = "\n"

    def text(self) -> str:
        flags = []
        if self.init:
            flags.append(f"init={_number(self.init)}")
        lo, hi = self.bounds
        if lo is not None:
            flags.append(f"min={_number(lo)}")
        if hi is not None:
            flags.append(f"max={_number(hi)}")
        if self.kind != "float":
            flags.append(self.kind)
        suffix = f" : {', '.join(flags)}" if flags else ""
        second = render(self.second)
        if self.ode:
            line = f"tau * dv/dt + v = {second}{suffix}"
        else:
            line = f"v {self.op} {second}{suffix}"
        return f"x = {render(self.first)}{self.separator}{line}"

    def parameters(self) -> str:
        return "\n".join(f"{name} = "
                         f"{_number(value) if value >= 0 and math.copysign(1, value) > 0 else '-' + _number(-value)}"
                         for name, value in self.values.items()) + "\ntau = 4.0"

    def expected(self) -> tuple[Value, Value]:
        """(x, v) after two steps; raises Unrepresentable when C has no int for v."""
        env = dict(self.values, t=0.0, dt=self.dt, pi=math.pi, e=math.e)
        init = self.init if self.kind == "float" else float(to_int(self.init)) if self.kind == "int" else \
            float(_truthy(self.init))
        v, x = Value(init), Value(0.0)
        for step in range(2):
            env["t"] = step * self.dt
            x = evaluate(self.first, env)
            env["x"] = x
            value = evaluate(self.second, env)
            if self.ode:
                inner = Value(value.v - v.v, _after_arithmetic(value.v - v.v, (value, v), True))
                step_size = Value(self.dt * (inner.v / 4.0), inner.state)
                new = Value(v.v + step_size.v, _after_arithmetic(v.v + step_size.v, (v, step_size), True))
            else:
                op = self.op
                a, b = v.v, value.v
                result = {"=": lambda: b, "+=": lambda: a + b, "-=": lambda: a - b,  # noqa: B023 - called here
                          "*=": lambda: a * b, "/=": lambda: _ieee_div(a, b)}[op]()  # noqa: B023 - called here
                new = Value(result, value.state if op == "=" else
                            _after_arithmetic(result, (v, value), op in ("+=", "-=")))
            lo, hi = self.bounds
            if lo is not None or hi is not None:
                if lo is not None and hi is not None:
                    clamped = _clip(new.v, lo, hi)
                else:
                    clamped = _max2(new.v, lo) if lo is not None else _min2(new.v, hi)
                new = Value(clamped, SIGNLESS if clamped == 0 and new.state <= SIGNLESS else new.state)
            if self.kind == "int":
                if new.state > SIGNLESS:
                    raise Undecided()
                new = Value(float(to_int(new.v)))
            elif self.kind == "bool":
                new = Value(1.0 if _truthy(new.v) else 0.0, EXACT if _decided(new) else UNKNOWN)
            v = new
        return x, v


def _case_from(rng: Any) -> GrammarCase:
    values = {name: _number_from(rng, PARAMETER_SPECIAL, negative=True) for name in PARAMETERS}
    first = _Grower(rng, FIRST_NAMES, 25).top()
    second = _Grower(rng, SECOND_NAMES, 25).top()
    ode = rng.random() < 0.2
    kind = "float" if ode else rng.choice(["float", "float", "float", "int", "bool"])
    op = "=" if ode else rng.choice(["=", "=", "+=", "-=", "*=", "/="])
    init = rng.choice([0.0, 0.0, 1.0, 2.5, -3.0])
    lo = rng.choice([None, None, -1.0, 0.0, 0.5])
    hi = rng.choice([None, None, 1.0, 2.0, 1e10])
    separator = rng.choice(["\n", "\n", "; ", "\n  # a comment\n"])
    return GrammarCase(values, first, second, op, kind, init, (lo, hi), ode, rng.choice([1.0, 0.5]), separator)


def grammar_cases() -> st.SearchStrategy:
    """Models of two equations over three parameters (see :class:`GrammarCase`)."""
    return seeds.map(lambda seed: _case_from(random.Random(seed)))


def same(got: float, expected: float) -> bool:
    """Equal bit for bit, NaN equal to NaN, +0.0 and -0.0 told apart."""
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected)


# -- psp: the same grammar over pre.r and w

@dataclass
class PspCase:
    pre: float
    weight: float
    tree: tuple

    def text(self) -> str:
        return render(self.tree).replace("PRE", "pre.r")

    def expected(self) -> Value:
        """post.r = sum(exc): the step's sum starts from 0.0, so a psp of -0.0 sums to +0.0."""
        value = evaluate(self.tree, {"PRE": self.pre, "w": self.weight})
        return Value(0.0 + value.v, value.state)


def _psp_case(rng: random.Random) -> PspCase:
    return PspCase(_number_from(rng, PARAMETER_SPECIAL, negative=True),
                   _number_from(rng, PARAMETER_SPECIAL, negative=True), _Grower(rng, ("PRE", "w"), 12).node())


psp_cases = seeds.map(lambda seed: _psp_case(random.Random(seed)))


# -- mutations and payloads

PALETTE = ["(", ")", "[", "]", "{", "}", "'", '"', ":", ",", ";", "#", "\n", "=", "==", "+=", "^", "**", ".",
           "_", "__", "lambda", "import", "if", "else", "not", "is", "in", "sum(", "pre.", "post.", "dr/dt",
           "Uniform(", "exp(", "\x00", "\x0b", "\t", " ", "ℯ", "ｅ", "＿", "µ", "1e999", "9" * 30, "@", "%", "&",
           "|", "~", "<<", "!", "$", "`", "\\", "init=", "min=", "max=", "population", "int", "bool", "rk4",
           "sum()", "mean(", "w", "t", "dt", "a", "b"]


@st.composite
def mutated(draw, base: st.SearchStrategy) -> str:
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(PALETTE) | st.text(max_size=3))
        if action == "insert":
            text = text[:where] + piece + text[where:]
        elif action == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 5)):]
        else:
            text = text[:where] + piece + text[where + len(piece):]
    return text


def payloads(sentinel: str) -> list[str]:
    """Strings that try to run code, reach Python objects or exhaust the parser."""
    touch = f"__import__('os').system('touch {sentinel}')"
    return [
        touch, f"open('{sentinel}', 'w')", f"exec(\"open('{sentinel}', 'w')\")", f"eval('{touch}')",
        "().__class__.__base__.__subclasses__()", "(lambda: 0)()", "[c for c in ().__class__.__mro__]",
        "{x: 1 for x in (1,)}", "f'{1}'", "(y := 1)", "globals()", "locals()", "vars()", "getattr(a, 'x')",
        "__builtins__", "__import__", "exp.__globals__", "a.__class__", "a[0]", "a[::-1]", "*a", "**a",
        "breakpoint()", "print(1)", "input()", "compile('1', '', 'eval')", "type(a)", "import os", "a; import os",
        "__import__('os').system\n('x')", "＿＿import＿＿('os')", "ｅｘｅｃ('1')", "exec\x00('1')",
        "\ufeffexp(1)", "ᵃ", "a\u200bb", "1" * 20000, "(" * 300 + "1" + ")" * 300, "-" * 5000 + "1",
        "not " * 2000 + "1", "9^9^9^9", "10**10**10", "1e999", "0x10", "1_000", "0b1", "1j", "'a' * 10",
        "b'x'", "None", "...", "await a", "(yield)", "a if a else __import__('os')", "_f_exp(1)", "_np_exp(1)",
        "_rnd_Uniform(0, 1)", "_sum_exc", "Uniform(1, 0)", "Normal(0, -1)", "Binomial(3, 2)",
        "Uniform(0, log(-1))", "sum(__class__)", "sum(in)", "pre.__class__", "post.sum(_x)", "mean(pre.__dict__)",
        "if a: b else: __import__('os')", "if __import__('os'): 1 else: 2", "ite(1, 2)", "dr/dt",
        "a is b is not c", "a not in b", "a @ b", "a // b", "a % b", "~a", "a << 1",
    ]


FRAMES = ["{}", "1 + {}", "exp({})", "if {}: 1 else: 2", "{} > 0", "ite(1, {}, 0)", "({})", "{} ; r = 1", "x = {}"]


def _embed(attack: str, frame: str, host: str, seed: int) -> str:
    """The attack in a frame, alone or spliced into a valid equation at a random place."""
    text = frame.replace("{}", attack)
    if seed % 3 == 0:
        return text
    at = random.Random(seed).randint(0, len(host))
    return host[:at] + text + host[at:]


def payload_texts(attacks: list[str]) -> st.SearchStrategy:
    """Payloads in a frame, often spliced into a valid equation (so there are more than a few hundred)."""
    return st.builds(_embed, st.sampled_from(attacks), st.sampled_from(FRAMES),
                     grammar_cases().map(lambda case: case.text()), seeds)


# ===========================================================================
# slots: every place text can go


def slots(text: str, net_factory: Callable[[], Network]) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(label, definer) for ``text`` in every text slot; a definer that returns a Network simulates it."""
    def neuron(**kwargs: Any) -> Callable[[], Any]:
        return lambda: Neuron(**kwargs)

    def population(**kwargs: Any) -> Callable[[], Any]:
        def define() -> Network:
            net = net_factory()
            net.create(2, Neuron(parameters="a = 1.0\nb = 2.0\nc = 0.5", equations="r = a"), **kwargs)
            return net
        return define

    def projection(synapse_kwargs: dict[str, Any]) -> Callable[[], Any]:
        def define() -> Network:
            net = net_factory()
            pre = net.create(2, Neuron(parameters="r = 0.5"))
            post = net.create(2, Neuron(equations="r = sum(exc)"))
            net.connect(pre, post, "exc", Synapse(**synapse_kwargs)).connect_all_to_all(0.5)
            return net
        return define

    parameters = "a = 1.0\nb = 2.0\nc = 0.5"
    yield "equation", neuron(parameters=parameters, equations=f"r = {text}")
    yield "equation line", neuron(parameters=parameters, equations=text)
    yield "ode", neuron(parameters=parameters, equations=f"tau * dr/dt + r = {text}\ntau = 2 : population")
    yield "flag value", neuron(parameters=parameters, equations=f"r = 1 : min={text}, init={text}")
    yield "flag name", neuron(equations=f"r = 1 : {text}")
    yield "parameter value", neuron(parameters=f"p = {text}")
    yield "parameter line", neuron(parameters=text)
    yield "parameter flag", neuron(parameters=f"p = 1 : {text}")
    yield "parameter name", neuron(parameters={text: 1.0})
    yield "function body", neuron(functions=f"f(x, t) = {text}")
    yield "function head", neuron(functions=f"{text} = 1")
    yield "psp", projection(dict(psp=text))
    yield "synapse equation", projection(dict(parameters="a = 1.0 : projection",
                                              equations=f"dw/dt = 0 * w + 0 * ({text})"))
    yield "pruning", lambda: Synapse(pruning=f"{text} : proba=0.5")
    yield "creating", lambda: Synapse(creating=f"pre.r > 0 : proba={text}, w={text}")
    yield "Pruning object", lambda: Synapse(pruning=Pruning(text))
    yield "Creating object", lambda: Synapse(creating=Creating(text))
    yield "Variable", lambda: Neuron(parameters=parameters, equations=[Variable(f"r = {text}")])
    yield "Variable bound", lambda: Neuron(parameters=parameters, equations=[Variable("r = 1", min=text)])
    yield "Parameter value", lambda: Neuron(parameters={"p": Parameter(text)})
    yield "stop condition", population(stop_condition=f"{text} : any")
    yield "add_function", lambda: ratenet.add_function(f"g(x) = {text}")
    yield "Constant name", lambda: ratenet.Constant(text, 1.0)


# ===========================================================================
# the checks and their bookkeeping


@dataclass
class Totals:
    """What a fuzz campaign saw."""

    strings: int = 0
    definitions: int = 0
    outcomes: Counter = field(default_factory=Counter)
    foreign: list[str] = field(default_factory=list)     # exceptions outside ALLOWED
    mismatches: list[str] = field(default_factory=list)  # accepted equations computing something else
    side_effects: list[str] = field(default_factory=list)

    def record(self, outcome: str) -> None:
        self.definitions += 1
        self.outcomes[outcome] += 1

    def summary(self) -> str:
        lines = [f"strings: {self.strings}", f"definitions tried: {self.definitions}"]
        lines += [f"  {name}: {count}" for name, count in sorted(self.outcomes.items())]
        lines += [f"exceptions outside ratenet's classes: {len(self.foreign)}",
                  f"wrong values: {len(self.mismatches)}", f"side effects: {len(self.side_effects)}"]
        return "\n".join(lines)


class Canaries:
    """Record every attempt to run something; install with :meth:`installed`."""

    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel
        self.calls: list[str] = []

    def _recorder(self, name: str, real: Callable[..., Any] | None = None) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"{name}{args!r}"[:200])
            raise PermissionError(f"fuzz canary: {name} called")
        return record

    @contextlib.contextmanager
    def installed(self) -> Iterator["Canaries"]:
        """Patch the guarded functions for the duration (Hypothesis itself uses exec: keep it outside)."""
        real_import, real_open = builtins.__import__, builtins.open
        canaries = self

        def guarded_import(name: str, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith("<ratenet"):
                canaries.calls.append(f"import {name} from {caller}")
            return real_import(name, *args, **kwargs)

        def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_code.co_filename
            if SENTINEL_NAME in str(file) or caller.startswith("<ratenet"):
                canaries.calls.append(f"open({file!r}) from {caller}")
                raise PermissionError("fuzz canary: open")
            return real_open(file, *args, **kwargs)

        record_exec, real_exec = self._recorder("exec"), builtins.exec

        def guarded_exec(*args: Any, **kwargs: Any) -> Any:
            # Python's import system runs a module's body with exec: ratenet imports some modules on
            # first use (difflib for "did you mean" hints). An equation cannot reach it: __import__
            # is guarded above.
            if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                return real_exec(*args, **kwargs)
            return record_exec(*args, **kwargs)

        patches = [(os, "system", self._recorder("os.system")), (os, "popen", self._recorder("os.popen")),
                   (subprocess, "Popen", self._recorder("subprocess.Popen")),
                   (builtins, "exec", guarded_exec), (builtins, "eval", self._recorder("eval")),
                   (builtins, "breakpoint", self._recorder("breakpoint")),
                   (builtins, "__import__", guarded_import), (builtins, "open", guarded_open)]
        saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
        try:
            for module, name, replacement in patches:
                setattr(module, name, replacement)
            yield self
        finally:
            for module, name, original in saved:
                setattr(module, name, original)


def _classify(exc: BaseException) -> str:
    return type(exc).__name__


def try_definition(totals: Totals, label: str, define: Callable[[], Any], steps: int = 2) -> Any:
    """Define (and, for a network, run) one thing; record what happened; return the result or None."""
    try:
        result = define()
        if isinstance(result, Network):
            result.simulate(steps * result.dt)
    except ALLOWED as exc:
        totals.record(_classify(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - anything else is a finding
        totals.record("foreign " + _classify(exc))
        totals.foreign.append(f"{label}: {type(exc).__name__}: {exc}"[:400])
        return None
    totals.record("accepted")
    return result


def agrees(got: float, want: Value) -> bool:
    """ratenet's value against the evaluator's, as far as the evaluator vouches for it."""
    if want.state == UNKNOWN:
        return True
    if want.state == EXACT:
        return same(got, want.v)
    if want.state == SIGNLESS:
        return got == want.v or (math.isnan(got) and math.isnan(want.v))
    if math.isnan(want.v) or math.isinf(want.v):
        return same(got, want.v)
    return math.isfinite(got) and abs(got - want.v) <= 1e-9 * max(abs(want.v), 1e-300)


def check_grammar_case(case: GrammarCase, totals: Totals) -> None:
    """Simulate the case for two steps and compare x and v with the evaluator."""
    totals.strings += 1
    text = case.text()
    undecided = False
    try:
        expected: tuple[Value, Value] | None = case.expected()
    except Unrepresentable:
        expected = None
    except Undecided:
        expected, undecided = None, True

    def define() -> Any:
        net = Network(dt=case.dt)
        pop = net.create(1, Neuron(parameters=case.parameters(), equations=text))
        net.simulate(2 * case.dt)
        return pop

    pop = try_definition(totals, "grammar", define, steps=0)
    if undecided:
        return
    if pop is None:
        if expected is not None:
            totals.mismatches.append(f"refused a valid equation:\n{text}\nparameters: {case.values}\n"
                                     f"(last outcome: {totals.outcomes.most_common(1)})")
        return
    if expected is None:
        totals.mismatches.append(f"accepted an int that C cannot hold:\n{text}\n{case.values}")
        return
    x, v = expected
    got_x, got_v = float(pop.x[0]), float(np.asarray(pop.v).reshape(-1)[0])
    for name, got, want in (("x", got_x, x), ("v", got_v, v)):
        if not agrees(got, want):
            totals.mismatches.append(f"{name} = {got!r}, expected {want.v!r} ({'exact' if want.exact else 'close'}):"
                                     f"\n{text}\nparameters: {case.values}")


def check_psp_case(case: PspCase, totals: Totals) -> None:
    totals.strings += 1
    expected = case.expected()

    def define() -> Any:
        net = Network()
        pre = net.create(1, Neuron(parameters=f"r = {case.pre!r}"))
        post = net.create(1, Neuron(equations="r = sum(exc)"))
        net.connect(pre, post, "exc", Synapse(psp=case.text())).connect_all_to_all(case.weight)
        net.simulate(2.0)
        return post

    post = try_definition(totals, "psp grammar", define, steps=0)
    if post is None:
        totals.mismatches.append(f"refused a valid psp: {case.text()}")
        return
    if not agrees(float(post.r[0]), expected):
        totals.mismatches.append(f"psp {case.text()!r} with pre.r={case.pre!r}, w={case.weight!r}: "
                                 f"{float(post.r[0])!r}, expected {expected.v!r}")


def check_everywhere(text: str, totals: Totals, canaries: Canaries) -> None:
    """Put ``text`` in every slot: only ratenet's errors, nothing run, nothing written."""
    totals.strings += 1
    with canaries.installed():
        for label, define in slots(text, Network):
            try_definition(totals, label, define)
            ratenet.clear()
    if canaries.calls:
        totals.side_effects.extend(canaries.calls)
        canaries.calls.clear()
    if os.path.exists(canaries.sentinel):
        totals.side_effects.append(f"the sentinel {canaries.sentinel} exists after {text!r:.80}")
        os.remove(canaries.sentinel)


FUZZ_SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))


# ===========================================================================
# the long campaign


def campaign(examples: int, seed: int | None = None) -> Totals:
    """Run ``examples`` strings: 40 % grammar, 10 % psp grammar, 35 % mutations, 15 % payloads in every slot."""
    totals = Totals()
    directory = tempfile.mkdtemp(prefix="ratenet-fuzz-")
    canaries = Canaries(os.path.join(directory, SENTINEL_NAME))
    shares = {"grammar": 0.40, "psp": 0.10, "mutation": 0.35, "payload": 0.15}
    counts = {kind: int(examples * share) for kind, share in shares.items()}
    counts["grammar"] += examples - sum(counts.values())
    seed_settings = dict(FUZZ_SETTINGS)
    if seed is not None:
        seed_settings["derandomize"] = True

    @settings(max_examples=counts["grammar"], **seed_settings)
    @given(grammar_cases())
    def grammar(case: GrammarCase) -> None:
        check_grammar_case(case, totals)

    @settings(max_examples=counts["psp"], **seed_settings)
    @given(psp_cases)
    def psp(case: PspCase) -> None:
        check_psp_case(case, totals)

    base = grammar_cases().map(lambda case: case.text())

    @settings(max_examples=counts["mutation"], **seed_settings)
    @given(mutated(base))
    def mutations(text: str) -> None:
        check_everywhere(text, totals, canaries)

    attacks = payloads(canaries.sentinel)

    @settings(max_examples=counts["payload"], **seed_settings)
    @given(payload_texts(attacks))
    def payload(text: str) -> None:
        check_everywhere(text, totals, canaries)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for name, run in (("grammar", grammar), ("psp", psp), ("mutations", mutations), ("payloads", payload)):
                started = time.perf_counter()
                if counts[{"mutations": "mutation", "payloads": "payload"}.get(name, name)]:
                    run()
                print(f"{name}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    os.rmdir(directory) if not os.listdir(directory) else None
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="strings to try (default 100,000)")
    parser.add_argument("--seed", type=int, default=None, help="derandomize Hypothesis (repeatable campaign)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    totals = campaign(args.examples, args.seed)
    print(totals.summary())
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    for finding in (totals.foreign + totals.mismatches + totals.side_effects)[:20]:
        print("---\n" + finding)
    return 1 if totals.foreign or totals.mismatches or totals.side_effects else 0


if __name__ == "__main__":
    sys.exit(main())
