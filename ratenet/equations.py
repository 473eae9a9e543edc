"""The equation language: text -> validated records -> NumPy code.

This module is pure: it knows nothing about populations or networks.  It turns
``parameters``/``equations``/``functions`` strings (or ANNarchy 5's
:class:`~ratenet.attributes.Parameter` and :class:`~ratenet.attributes.Variable`
objects) into :class:`ParameterDef` and :class:`EquationDef` records whose
right-hand sides are *validated* Python syntax trees, and it turns those trees
into Python functions that run as vectorized NumPy.

Safety
------
User text is parsed with :func:`ast.parse` and checked against an allowlist:
numbers, names, arithmetic, comparisons, ``and``/``or``/``not``, conditionals
and calls of known functions with positional arguments.  Every other node is
rejected with an :class:`~ratenet.exceptions.EquationError` that quotes the
line and points at the column.  Every text slot accepts printable ASCII only,
so a look-alike letter (``ℯxp``) cannot stand for another.  The code that
finally runs is compiled from a tree that ratenet *rebuilt* from the validated
one; its builtins hold only an import hook that hands CPython's warning
machinery the ``warnings`` module and refuses everything else.  No user text
ever reaches :func:`eval` or :func:`exec`.

Numbers
-------
As in C, every number is a double; a comparison or a bool is 1.0 or 0.0 in
arithmetic (``-(a > 0)`` is -1.0 where ``a > 0``); a value stored into an
``int`` variable is truncated toward zero (NaN, infinities and values beyond
the 64-bit range are an error naming the equation) and a value stored into a
``bool`` variable is true when it is not zero.

Depth
-----
A flat sum or product (``a + b - c + ...``) may have any length the text limit
allows.  Other nesting (brackets, calls, unary operators, conditionals) stops
at :data:`MAX_DEPTH` levels, brackets at :data:`MAX_BRACKETS` (Python's
parser limit); deeper text is an :class:`~ratenet.exceptions.EquationError`.
"""

from __future__ import annotations

import ast
import bisect
import keyword
import math
import operator
import re
import sys
import types
import warnings
import weakref
from typing import Any, Callable, Iterable, Mapping, Sequence, cast

from ._inplace import lower_in_place
from ._trees import copy_tree, set_locations, transform, unparse, with_headroom
from .attributes import Creating, Parameter, Pruning, Variable, locality_flag
from .exceptions import EquationError, closest
from .random import DISTRIBUTIONS, Distribution, argument_error

__all__ = [
    "METHODS",
    "MAX_DEPTH",
    "MAX_BRACKETS",
    "MAX_LENGTH",
    "ParameterDef",
    "EquationDef",
    "FunctionDef",
    "StructuralRule",
    "Scope",
    "parse_parameters",
    "parse_equations",
    "parse_functions",
    "parse_condition",
    "parse_structural_rule",
    "parse_expression",
    "generated_body",
    "generated_builtins",
    "check_text",
    "linear_split",
    "written_form",
    "expression_text",
    "written_expression",
    "strip_flags",
    "build_function",
    "BUILTIN_FUNCTIONS",
    "GLOBAL_OPERATIONS",
]

METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4")
GLOBAL_OPERATIONS = ("mean", "max", "min", "norm1", "norm2")
_LOCALITY_FLAGS = {"neuron": ("population",), "synapse": ("postsynaptic", "projection")}
_TYPE_FLAGS = ("int", "bool", "float")
_VALUE_FLAGS = ("init", "min", "max")
_RESERVED = {"t", "dt", "pi", "e", "sum", "pre", "post", "True", "False", "None"}
#: Names a user function may take as arguments although equations reserve them.
_ARGUMENT_NAMES_ALLOWED = {"t", "dt"}
#: Deeper trees than this are refused (a flat sum or product counts as one level): they are
#: never written by hand.
MAX_DEPTH = 300
#: Python's parser stops at this many nested brackets (parentheses and calls).
MAX_BRACKETS = 200
MAX_LENGTH = 10_000

#: name -> (numpy attribute or internal helper, allowed argument counts)
BUILTIN_FUNCTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "exp": ("exp", (1,)),
    "log": ("log", (1,)),
    "log10": ("log10", (1,)),
    "log2": ("log2", (1,)),
    "sqrt": ("sqrt", (1,)),
    "abs": ("abs", (1,)),
    "fabs": ("abs", (1,)),
    "sin": ("sin", (1,)),
    "cos": ("cos", (1,)),
    "tan": ("tan", (1,)),
    "asin": ("arcsin", (1,)),
    "acos": ("arccos", (1,)),
    "atan": ("arctan", (1,)),
    "arcsin": ("arcsin", (1,)),
    "arccos": ("arccos", (1,)),
    "arctan": ("arctan", (1,)),
    "atan2": ("arctan2", (2,)),
    "sinh": ("sinh", (1,)),
    "cosh": ("cosh", (1,)),
    "tanh": ("tanh", (1,)),
    "floor": ("floor", (1,)),
    "ceil": ("ceil", (1,)),
    "round": ("_round", (1,)),
    "sign": ("sign", (1,)),
    "pos": ("_pos", (1,)),
    "positive": ("_pos", (1,)),
    "neg": ("_neg", (1,)),
    "negative": ("_neg", (1,)),
    "heaviside": ("_heaviside", (1,)),
    "clip": ("clip", (3,)),
    "power": ("power", (2,)),
    "pow": ("power", (2,)),
    "modulo": ("fmod", (2,)),
    "fmod": ("fmod", (2,)),
    "ite": ("where", (3,)),
    "max": ("maximum", (2,)),
    "min": ("minimum", (2,)),
}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.BitXor: "**",  # ANNarchy writes powers as x^2
}
_BINOP_HINTS: dict[type, str] = {
    ast.Mod: "use modulo(a, b)",
    ast.FloorDiv: "use floor(a / b)",
    ast.MatMult: "matrix products are not part of the equation language",
    ast.BitAnd: "use 'and'",
    ast.BitOr: "use 'or'",
    ast.LShift: "shifts are not part of the equation language",
    ast.RShift: "shifts are not part of the equation language",
}
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
#: ANNarchy reads ``is`` as ``==`` and ``is not`` as ``!=``.
_COMPARE_ALIASES = {ast.Is: ast.Eq, ast.IsNot: ast.NotEq}
_NODE_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dictionary",
    ast.Set: "a set",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "a string",
    ast.NamedExpr: "':=' assignment",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


# ---------------------------------------------------------------------------
# records


class _Definition:
    """Value semantics for parsed definitions: immutable, equal when their compared fields are, hashable.

    Written by hand rather than with :mod:`dataclasses`: making a dataclass costs
    about 0.4 ms at import, a fifth of ``import ratenet`` for the dozen records it has.
    The fields live in ``__dict__`` (not slots), so copies and pickles restore them
    without going through the refused ``__setattr__``.
    """

    _FIELDS: tuple[str, ...] = ()  # in order, for repr and replace
    _COMPARED: tuple[str, ...] = ()  # for ==, and hash
    _SHOWN: tuple[str, ...] = ()  # for repr

    def _key(self) -> tuple[Any, ...]:
        values = self.__dict__
        return tuple(values[name] for name in self._COMPARED)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._SHOWN)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete field {name!r}")

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` applied to its fields."""
        values = {name: self.__dict__[name] for name in self._FIELDS}
        values.update(changes)
        return type(self)(**values)


class Source(_Definition):
    """Where a definition came from, for error messages."""

    _FIELDS = _COMPARED = _SHOWN = ("text", "where")
    text: str
    where: str  # e.g. "equations, line 2"

    def __init__(self, text: str, where: str) -> None:
        self.__dict__.update(text=text, where=where)

    def error(self, message: str, column: int | None = None, hint: str | None = None) -> EquationError:
        return EquationError(message, text=self.text, column=column, owner=self.where, hint=hint)

    def label(self, column: int | None = 0) -> tuple[str, str, int | None]:
        """``(where, text, column)``: how generated code names this definition in a runtime error."""
        return (self.where, self.text, column)


class ParameterDef(_Definition):
    """One parameter: ``name = value : flags``.

    ``value`` is a number, a bool, or a :class:`~ratenet.random.Distribution`.
    ``locality`` is ``"local"`` (one value per neuron or synapse),
    ``"population"`` (neurons), ``"postsynaptic"`` or ``"projection"``
    (synapses).  ``promotable``: a 5.x ``Parameter`` whose locality was not
    given; a population given one value per neuron for it makes it local
    for itself (ANNarchy 5.0.0's default).
    """

    _FIELDS = _SHOWN = ("name", "value", "locality", "dtype", "promotable", "source")
    _COMPARED = ("name", "value", "locality", "dtype", "promotable")
    name: str
    value: Any
    locality: str
    dtype: str
    promotable: bool
    source: Source | None

    def __init__(self, name: str, value: Any, locality: str = "local", dtype: str = "float",
                 promotable: bool = False, source: Source | None = None) -> None:
        self.__dict__.update(name=name, value=value, locality=locality, dtype=dtype, promotable=promotable,
                             source=source)


class EquationDef(_Definition):
    """One equation, with its right-hand side already validated.

    For an assignment (``kind == "assign"``), ``rhs`` is the assigned
    expression and ``op`` one of ``=``, ``+=``, ``-=``, ``*=``, ``/=``.  For an
    ODE (``kind == "ode"``), ``rhs`` is the derivative ``dx/dt`` solved from
    the equation as written.

    ``init`` is None, a number, a bool, a distribution, or the name of a
    parameter, a constant or a variable defined on an earlier line (the
    variable starts from that attribute's initial value).  ``min`` and
    ``max`` are None, a number, a name (parameter, variable or constant), or
    a validated tree (``min=-max_change``) over such names.
    """

    _FIELDS = _SHOWN = ("target", "kind", "rhs", "op", "method", "init", "min", "max", "locality", "dtype",
                        "source")
    _COMPARED = _FIELDS[:-1]
    target: str
    kind: str
    rhs: ast.expr
    op: str
    method: str
    init: Any
    min: Any
    max: Any
    locality: str
    dtype: str
    source: Source | None

    def __init__(self, target: str, kind: str, rhs: ast.expr, op: str = "=", method: str = "explicit",
                 init: Any = None, min: Any = None, max: Any = None, locality: str = "local",  # noqa: A002
                 dtype: str = "float", source: Source | None = None) -> None:
        self.__dict__.update(target=target, kind=kind, rhs=rhs, op=op, method=method, init=init, min=min,
                             max=max, locality=locality, dtype=dtype, source=source)

    @property
    def text(self) -> str:
        return self.source.text if self.source else unparse(self.rhs)

    def reads(self) -> set[str]:
        """Every symbol the update reads: its right-hand side and its bounds."""
        names = symbols(self.rhs)
        for bound in (self.min, self.max):
            if isinstance(bound, str):
                names.add(bound)
            elif isinstance(bound, ast.AST):
                names |= symbols(bound)
        return names


class FunctionDef(_Definition):
    """A user function ``name(x, y) = expression``.

    ``callees`` holds the user functions its body calls, so a function carries
    everything it needs to run.
    """

    _FIELDS = ("name", "args", "body", "source", "callees")
    _COMPARED = ("name", "args", "body")
    _SHOWN = ("name", "args", "body", "source")
    name: str
    args: tuple[str, ...]
    body: ast.expr
    source: Source | None
    callees: tuple[FunctionDef, ...]

    def __init__(self, name: str, args: tuple[str, ...], body: ast.expr, source: Source | None = None,
                 callees: tuple[FunctionDef, ...] = ()) -> None:
        self.__dict__.update(name=name, args=args, body=body, source=source, callees=callees)

    def __call__(self, *values: Any) -> Any:
        """Call the function from Python on numbers, lists or arrays (lists become arrays, as in ANNarchy).

        Examples
        --------
        >>> from ratenet import Neuron
        >>> double = Neuron(equations="r = 1", functions="double(x) = 2 * x").functions["double"]
        >>> double([1, 2]).tolist(), float(double(1.5))
        ([2.0, 4.0], 3.0)
        """
        if len(values) != len(self.args):
            raise TypeError(f"{self.name}() takes {len(self.args)} argument(s) ({len(values)} given)")
        if any(isinstance(v, (list, tuple)) for v in values):
            import numpy as np  # equations.py leaves NumPy out of import time; it is loaded by now

            values = tuple(np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v for v in values)
        return self.compiled()(*values)

    def compiled(self) -> Callable[..., Any]:
        """The function as vectorized NumPy code (built once, on first use)."""
        cached = self.__dict__.get("_compiled")
        if cached is None:
            namespace = numpy_namespace()
            namespace.update(user_function_namespace(self.callees))
            cached = build_function([ast.Return(value=self.body)], namespace, f"function {self.name}",
                                    args=self.args)
            self.__dict__["_compiled"] = cached
        return cached


class StructuralRule:
    """A synapse's ``pruning`` or ``creating`` rule (structural plasticity), parsed and validated.

    Attributes
    ----------
    kind : {"pruning", "creating"}
        Pruning removes existing synapses; creating adds missing ones.
    condition : ast.expr
        The condition, validated and resolved like the synapse's other
        expressions (``psp`` and learning rules), so the synapse context
        compiles it the same way: ``pre.x`` is the symbol ``_pre_x``,
        ``post.x`` is ``_post_x``, ``pre.sum(exc)`` is ``_sumpre_exc``,
        parameters, variables, ``w``, constants, ``t`` and ``dt`` keep their
        names, global operations are ``_gpre_<op>_<var>``/``_gpost_<op>_<var>``,
        functions ``_f_<name>``/``_u_<name>`` and a random draw is a call of
        ``_rnd_<Distribution>`` (see :func:`classify`).  A creating condition
        never reads per-synapse attributes (the synapse does not exist yet).
    proba : float
        Probability, in [0, 1], that a synapse whose condition holds is
        removed (pruning) or created (creating).
    w : float or None
        Weight of a created synapse (creating only; 0.0 by default).
    d : float or None
        Delay of a created synapse in ms (creating only; None: the
        projection's delay).
    source : Source
        The text the rule came from.
    """

    __slots__ = ("kind", "condition", "proba", "w", "d", "source")

    def __init__(self, kind: str, condition: ast.expr, proba: float = 1.0, w: float | None = None,
                 d: float | None = None, source: Source | None = None) -> None:
        # A plain class, not a dataclass: dataclasses cost import time.
        self.kind, self.condition, self.proba, self.w, self.d, self.source = kind, condition, proba, w, d, source

    @property
    def text(self) -> str:
        return self.source.text if self.source else unparse(self.condition)

    def __repr__(self) -> str:
        return (f"StructuralRule(kind={self.kind!r}, condition={expression_text(self.condition)!r}, "
                f"proba={self.proba!r}, w={self.w!r}, d={self.d!r})")


class Scope:
    """The names an expression may use, and what each one is.

    Parameters
    ----------
    kind : {"neuron", "synapse", "function", "value"}
        What the text belongs to.
    locals : mapping
        Parameter and variable names of the model, to their locality.
    functions : mapping
        User functions available, by name.
    constants : iterable of str
        Names of global constants.
    args : tuple of str
        Arguments of a user function being defined.
    """

    def __init__(self, kind: str = "neuron", locals: Mapping[str, str] | None = None,  # noqa: A002
                 functions: Mapping[str, FunctionDef] | None = None, constants: Iterable[str] = (),
                 args: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.locals: Mapping[str, str] = {} if locals is None else locals
        self.functions: Mapping[str, FunctionDef] = {} if functions is None else functions
        self.constants = constants
        self.args = args

    def __repr__(self) -> str:
        return (f"Scope(kind={self.kind!r}, locals={self.locals!r}, functions={self.functions!r}, "
                f"constants={self.constants!r}, args={self.args!r})")


    def known(self) -> list[str]:
        names = list(self.locals) + list(self.functions) + list(self.constants) + list(self.args)
        names += list(BUILTIN_FUNCTIONS) + list(GLOBAL_OPERATIONS) + list(DISTRIBUTIONS)
        if self.kind != "value":
            names += ["t", "dt", "sum"]
        names += ["pi", "e"]
        if self.kind == "synapse":
            names += ["pre", "post", "w"]
        return names


# ---------------------------------------------------------------------------
# characters: one rule for every text slot

_BAD_CHARACTER = re.compile(r"[^\t\x20-\x7e]")


def _displayable(text: str) -> str:
    """``text`` with control characters shown as '?' (same width, so carets still line up)."""
    return _CONTROL.sub("?", text)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _bad_character(text: str, newlines: bool = False) -> tuple[int, str, str | None] | None:
    """(column, message, hint) for the first character the equation language refuses, or None."""
    match = _BAD_CHARACTER.search(text)
    while match is not None and newlines and match.group() in "\r\n":
        match = _BAD_CHARACTER.search(text, match.end())
    if match is None:
        return None
    import unicodedata  # only on this error path

    character = match.group()
    if unicodedata.category(character)[0] == "C":
        return match.start(), f"control character {character!r} is not allowed", None
    message = f"non-ASCII character {character!r} (U+{ord(character):04X}): names and operators must be ASCII"
    folded = unicodedata.normalize("NFKC", character)
    hint = f"it looks like '{folded}': type that instead" if folded.isascii() and folded.isprintable() \
        and folded.strip() else None
    return match.start(), message, hint


def check_text(text: str, where: str) -> None:
    """Refuse anything but printable ASCII (and tabs) in one line of equation text.

    ``ast.parse`` folds look-alike letters into ASCII (``ℯxp`` becomes
    ``exp``) and control characters hide from the reader, so every text slot
    (parameters, equations, flags, functions, ``psp``, conditions, structural
    plasticity rules) goes through this one rule.

    Examples
    --------
    >>> check_text("r = ℯxp(1)", "psp")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.EquationError: psp: non-ASCII character 'ℯ' (U+212F): names and operators must be ASCII; ...
        r = ℯxp(1)
            ^
    """
    found = _bad_character(text)
    if found is not None:
        column, message, hint = found
        raise EquationError(message, text=_displayable(text), column=column, owner=where, hint=hint)


# ---------------------------------------------------------------------------
# splitting text into logical lines, definitions and flags

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DERIVATIVE = re.compile(r"(?<![\w.])d([A-Za-z][A-Za-z0-9_]*)\s*/\s*dt(?![\w])")


class _Scan:
    """State of a left-to-right scan that understands ``if c: a else: b``."""

    __slots__ = ("flags_colon", "pending", "depth", "open_branch")

    def __init__(self) -> None:
        self.flags_colon: int | None = None
        self.pending: list[str] = []
        self.depth = 0
        #: the text ends right after the colon of an ``if``/``else``: its branch is on the next line
        self.open_branch = False


def _scan(text: str) -> _Scan:
    """Find the colon that starts the flags, skipping those of if/else forms.

    An ``if`` opens an ANNarchy conditional when it starts an expression (the
    text before it is empty or ends with ``=``, ``:``, ``(`` or ``,`` or the
    word ``else``); Python's inline ``a if c else b`` is left to the parser.
    """
    state = _Scan()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "([{":
            state.depth += 1
        elif ch in ")]}":
            state.depth -= 1
        elif ch == ":" and state.depth == 0:
            if state.pending and state.pending[-1] in ("if", "else"):
                if state.pending[-1] == "if":
                    state.pending[-1] = "then"
                else:
                    state.pending.pop()
                state.open_branch = not text[i + 1:].strip()
            elif state.flags_colon is None:
                state.flags_colon = i
                return state
        elif (ch.isalpha() or ch == "_") and ch.isascii() and (match := _IDENT.match(text, i)) is not None:
            word = match.group()
            if state.depth == 0 and word == "if":
                before = text[:i].rstrip()
                if not before or before[-1] in "=:(," or re.search(r"\belse$", before):
                    state.pending.append("if")
            elif state.depth == 0 and word == "else" and state.pending and state.pending[-1] == "then":
                if text[match.end():].lstrip().startswith(":"):
                    state.pending[-1] = "else"
            i = match.end()
            continue
        i += 1
    return state


def _bracket_depth(text: str, depth: int = 0) -> int:
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def _split_semicolons(line: str, depth: int) -> list[str]:
    """Split a physical line at the ``;`` that separate definitions (outside brackets)."""
    pieces, start = [], 0
    for i, ch in enumerate(line):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ";" and depth <= 0:
            pieces.append(line[start:i])
            start = i + 1
    pieces.append(line[start:])
    return pieces


def _logical_lines(text: str, where: str) -> list[tuple[str, str]]:
    """Split text into (logical line, location) pairs.

    Comments and blank lines go; ``;`` separates definitions on one line (as
    in ANNarchy); a line continues while a bracket is open or an
    ``if ...:``/``else:`` form is unfinished, so the multi-line conditional
    reads as one definition.
    """
    if not isinstance(text, str):
        raise EquationError(f"{where} must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise EquationError(f"{where} is longer than {MAX_LENGTH} characters")
    out: list[tuple[str, str]] = []
    buffer, start = "", 0
    # Only \n and \r end a line: other characters str.splitlines() would break at are refused below.
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        physical = raw.split("#", 1)[0]
        check_text(physical.strip(" \t"), f"{where}, line {number}")
        for segment in _split_semicolons(physical, _bracket_depth(buffer)):
            line = segment.strip()
            if not line:
                continue
            if buffer:
                buffer += " " + line
            else:
                buffer, start = line, number
            state = _scan(buffer)
            unfinished = state.flags_colon is None and (state.depth > 0 or bool(state.pending) or state.open_branch)
            if unfinished:
                continue
            label = f"{where}, line {start}" if number == start else f"{where}, lines {start}-{number}"
            out.append((buffer, label))
            buffer = ""
    if buffer:
        out.append((buffer, f"{where}, line {start}"))
    return out


def _split_flags(line: str) -> tuple[str, str | None, int]:
    """Return (definition, flags text or None, column where the flags start)."""
    state = _scan(line)
    if state.flags_colon is None:
        return line, None, len(line)
    return line[: state.flags_colon], line[state.flags_colon + 1:], state.flags_colon + 1


def _find_assignment(text: str) -> tuple[int, str] | None:
    """Position and operator of the top-level ``=`` (or ``+=`` ...), if any."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            prev = text[i - 1] if i else ""
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt == "=" or prev in "=<>!":
                continue
            if prev in "+-*/":
                return i - 1, prev + "="
            return i, "="
    return None


class _Flag:
    __slots__ = ("name", "value", "column")

    def __init__(self, name: str, value: ast.expr | None, column: int) -> None:
        self.name, self.value, self.column = name, value, column


def _parse_flags(flags: str | None, offset: int, source: Source) -> list[_Flag]:
    if flags is None:
        return []
    result: list[_Flag] = []
    depth, start = 0, 0
    pieces: list[tuple[str, int]] = []
    for i, ch in enumerate(flags + ","):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append((flags[start:i], offset + start))
            start = i + 1
    seen: set[str] = set()
    for piece, column in pieces:
        stripped = piece.strip()
        column += len(piece) - len(piece.lstrip())
        if not stripped:
            if len(pieces) == 1:
                raise source.error("empty flags after ':'", column - 1)
            raise source.error("empty flag between commas", column)
        if "=" in stripped:
            name, value_text = stripped.split("=", 1)
            name = name.strip()
            value_column = column + stripped.index("=") + 1
            value = _parse_expression(source.text, value_column, value_column + len(value_text), source)
            flag = _Flag(name, value, column)
        else:
            flag = _Flag(stripped, None, column)
        if flag.name in seen:
            raise source.error(f"the flag '{flag.name}' is given twice", column)
        seen.add(flag.name)
        result.append(flag)
    return result


# ---------------------------------------------------------------------------
# parsing one expression

#: ``sum(in)``, ``pre.sum(if)``: a target named after a Python keyword.
_KEYWORD_TARGET = re.compile(r"(?<![\w.])(?:(?:pre|post)\s*\.\s*)?sum\s*\(\s*([A-Za-z_]\w*)\s*\)")
_KEYWORD_PREFIX = "_kw_"


class _Rewrite:
    """Text handed to Python's parser, and how its columns map back to the user's text.

    ANNarchy's ``x^2`` becomes ``x**2`` and a keyword target ``sum(in)``
    becomes ``sum(_kw_in)``; each insertion is recorded so that every column
    the parser reports can be mapped back.
    """

    def __init__(self, text: str) -> None:
        inserts: list[tuple[int, str]] = []  # (position in text, inserted string)
        for match in _KEYWORD_TARGET.finditer(text):
            if keyword.iskeyword(match.group(1)):
                inserts.append((match.start(1), _KEYWORD_PREFIX))
        inserts += [(i, "*") for i, ch in enumerate(text) if ch == "^"]
        inserts.sort()
        pieces, last = [], 0
        self.starts: list[int] = []  # positions of the inserted strings in the code
        self.before: list[int] = []  # characters inserted before each of them
        self.keywords: set[int] = set()
        added = 0
        for position, string in inserts:
            pieces.append(text[last:position])
            self.starts.append(position + added)
            self.before.append(added)
            if string == _KEYWORD_PREFIX:
                self.keywords.add(position + added)
            pieces.append(string)
            added += len(string)
            last = position
        pieces.append(text[last:])
        self.code = "".join(pieces).replace("^", "*")
        self.lengths = [len(s) for _, s in inserts]

    def original(self, column: int) -> int:
        """Column in the user's text of ``column`` in the code."""
        k = bisect.bisect_right(self.starts, column) - 1
        if k < 0:
            return column
        start, inserted = self.starts[k], self.before[k]
        if column < start + self.lengths[k]:
            return start - inserted  # inside an insertion: at the character it stands before
        return column - inserted - self.lengths[k]


def parse_expression(line: str, start: int, end: int, source: Source) -> ast.expr:
    """Parse ``line[start:end]`` into a tree whose columns index ``line``.

    ANNarchy's ``if c: a else: b`` is turned into Python's conditional here,
    with each part parsed where it stands.  The tree is checked against the
    nesting limits (:data:`MAX_DEPTH`, :data:`MAX_BRACKETS`), not against the
    allowlist (that is :func:`resolve`'s job).
    """
    tree = _parse_piece(line, start, end, source)
    _check_depth(tree, source)
    return tree


_parse_expression = parse_expression  # the name other ratenet modules know


def _parse_piece(line: str, start: int, end: int, source: Source) -> ast.expr:
    if len(line) > MAX_LENGTH:  # texts that skip _logical_lines (psp) meet the same limit here
        raise EquationError(f"{source.where} is longer than {MAX_LENGTH} characters")
    piece = line[start:end]
    found = _bad_character(piece, newlines=True)
    if found is not None:
        column, message, hint = found
        raise EquationError(message, text=_displayable(source.text), column=start + column, owner=source.where,
                            hint=hint)
    if not piece.strip():
        raise source.error("expected an expression", min(start, max(len(line) - 1, 0)))
    lead = len(piece) - len(piece.lstrip())
    base = start + lead
    if re.match(r"if\b", line[base:end]):
        return _parse_conditional(line, base, end, source)
    # Line breaks inside a single expression are plain blanks (same width, same columns).
    rewrite = _Rewrite(piece.strip().replace("\r", " ").replace("\n", " "))
    try:
        tree = ast.parse(rewrite.code, mode="eval")
    except SyntaxError as exc:
        message = exc.msg or "invalid syntax"
        if "nested parentheses" in message:
            message, column = f"expression too deeply nested (brackets nest at most {MAX_BRACKETS} deep)", base
        elif "nested" in message or "too complex" in message:
            message, column = "expression too deeply nested", base
        elif "never closed" in message:
            column = _unclosed_bracket(line, start, end)
            message = f"syntax error: {message}"
        else:
            code_column = exc.offset - 1 if exc.lineno == 1 and exc.offset else len(rewrite.code)
            column = base + rewrite.original(max(code_column, 0))
            message = f"syntax error: {message}"
        raise source.error(message, max(min(column, len(line)), 0)) from None
    except (RecursionError, MemoryError):
        raise source.error("expression too deeply nested", base) from None
    except ValueError as exc:  # e.g. a NUL byte on Python 3.10 (check_text catches it first)
        raise source.error(f"syntax error: {exc}", base) from None
    body = tree.body
    for node in ast.walk(body):
        if hasattr(node, "col_offset"):
            if isinstance(node, ast.Name) and node.col_offset in rewrite.keywords:
                node.id = node.id[len(_KEYWORD_PREFIX):]
            node.col_offset = base + rewrite.original(node.col_offset)
            located = cast(ast.expr, node)
            if located.end_col_offset is not None:
                located.end_col_offset = base + rewrite.original(located.end_col_offset)
    return body


def _unclosed_bracket(line: str, start: int, end: int) -> int:
    stack = []
    for i in range(start, end):
        if line[i] in "([{":
            stack.append(i)
        elif line[i] in ")]}" and stack:
            stack.pop()
    return stack[-1] if stack else start


def _conditional_parts(line: str, start: int, end: int, source: Source) -> tuple[int, int, int]:
    """Columns of the ``:``, the ``else`` and its ``:`` of the conditional at ``start``.

    Conditionals nested in the ``then`` part (ANNarchy's or Python's form) are
    skipped by counting their ``if``/``else`` pairs.
    """
    text = line[:end]
    i = start + 2
    depth = nest = 0
    colon = else_at = else_colon = None
    while i < end:
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == ":":
            if colon is None:
                colon = i
            elif else_at is not None:
                else_colon = i
                break
        elif depth == 0 and (ch.isalpha() or ch == "_") and ch.isascii() and \
                (found := _IDENT.match(text, i)) is not None:
            word = found.group()
            if colon is not None and word == "if":
                nest += 1
            elif colon is not None and word == "else":
                if nest:
                    nest -= 1
                else:
                    else_at = i
            i += len(word)
            continue
        i += 1
    if colon is None:
        raise source.error("'if' needs a ':' after its condition", start)
    if else_at is None or else_colon is None:
        raise source.error("'if cond: a' needs an 'else: b' part", start)
    return colon, else_at, else_colon


def _parse_conditional(line: str, start: int, end: int, source: Source) -> ast.expr:
    """Parse ``if cond: a else: b`` (``start`` points at ``if``).

    A chain ``if c1: a else: if c2: b else: ...`` is read in a loop, so its
    length costs no recursion.
    """
    levels: list[tuple[ast.expr, ast.expr, int]] = []
    at = start
    while True:
        colon, else_at, else_colon = _conditional_parts(line, at, end, source)
        test = _parse_piece(line, at + 2, colon, source)
        body = _parse_piece(line, colon + 1, else_at, source)
        levels.append((test, body, at))
        rest = else_colon + 1
        rest += len(line[rest:end]) - len(line[rest:end].lstrip())
        if re.match(r"if\b", line[rest:end]):
            at = rest
            continue
        node = _parse_piece(line, else_colon + 1, end, source)
        break
    for test, body, at in reversed(levels):
        node = ast.IfExp(test=test, body=body, orelse=node)
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = 1, at, 1, end
    return node


def _check_depth(tree: ast.AST, source: Source) -> None:
    """Refuse trees nested deeper than MAX_DEPTH; a chain of binary operators is one level."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise source.error(
                f"expression too deeply nested (more than {MAX_DEPTH} levels)", getattr(node, "col_offset", 0)
            )
        for child in ast.iter_child_nodes(node):
            same = isinstance(node, ast.BinOp) and child is node.left and isinstance(child, ast.BinOp)
            stack.append((child, depth if same else depth + 1))


# ---------------------------------------------------------------------------
# validation: one handler per allowed node type


class _Resolver:
    """Check a parsed tree against the allowlist and rewrite names.

    The result uses internal symbol names, all starting with ``_`` (which user
    names may not), so the rewritten tree can only refer to what ratenet puts
    in the namespace:

    ==================  ==============================
    written             symbol
    ==================  ==============================
    ``x`` (model name)  ``x``
    ``sum(exc)``        ``_sum_exc``; ``sum()`` -> ``_sumall``
    ``mean(r)``         ``_g_mean_r`` (also max/min/norm1/norm2)
    ``pre.r``           ``_pre_r``; ``post.sum(exc)`` -> ``_sumpost_exc``
    ``mean(pre.r)``     ``_gpre_mean_r``
    ``exp(x)``          ``_f_exp(x)``; user ``f(x)`` -> ``_u_f(x)``
    ``Normal(0, 1)``    ``_rnd_Normal(0, 1)``
    ``dx/dt``           ``_d_x`` (eliminated when the ODE is solved)
    ==================  ==============================

    Handlers recurse once per nesting level (the caller provides the stack
    room, see :func:`ratenet._trees.headroom`); a chain of binary operators,
    however long, is walked in a loop.
    """

    def __init__(self, scope: Scope, source: Source, derivatives: Mapping[int, str] | None = None) -> None:
        self.scope = scope
        self.source = source
        self.derivatives = dict(derivatives or {})
        self.constants = set(scope.constants)

    # entry point
    def __call__(self, node: ast.expr) -> ast.expr:
        handler = getattr(self, "visit_" + type(node).__name__, None)
        if handler is None:
            what = _describe_node(node)
            raise self.source.error(f"{what} is not allowed in equations", node.col_offset)
        result = handler(node)
        return ast.copy_location(result, node)

    def fail(self, node: ast.AST, message: str, hint: str | None = None) -> EquationError:
        return self.source.error(message, getattr(node, "col_offset", None), hint)

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, bool):
            return ast.Constant(value=value)
        if isinstance(value, (int, float)):
            # Every number is a double, as in C: 2^-1 is 0.5, 1/0 is inf.
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise self.fail(node, "numbers must be finite")
            return ast.Constant(value=number)
        if isinstance(value, str):
            raise self.fail(node, "strings are not allowed in equations")
        raise self.fail(node, f"the constant {value!r} is not allowed in equations")

    def visit_Name(self, node: ast.Name) -> ast.expr:
        name = node.id
        if name in self.derivatives.values() and self.derivatives.get(node.col_offset) is not None:
            return ast.Name(id=name, ctx=ast.Load())
        if name.startswith("_"):
            raise self.fail(node, f"names starting with '_' are reserved (got '{name}')")
        if name in self.scope.args or name in self.scope.locals:
            return ast.Name(id=name, ctx=ast.Load())
        if name in ("t", "dt") and self.scope.kind not in ("value", "function"):
            return ast.Name(id=name, ctx=ast.Load())
        if name in ("t", "dt") and self.scope.kind == "function":
            raise self.fail(node, f"'{name}' is not available in functions: pass it as an argument",
                            f"e.g. f(x, {name}) = ... called as f(x, {name})")
        if name == "w" and self.scope.kind == "synapse":
            return ast.Name(id="w", ctx=ast.Load())
        if name == "pi":
            return ast.Constant(value=math.pi)
        if name == "e":
            return ast.Constant(value=math.e)
        if name in self.constants:
            return ast.Name(id=name, ctx=ast.Load())
        if name in BUILTIN_FUNCTIONS or name in self.scope.functions or name in DISTRIBUTIONS:
            raise self.fail(node, f"'{name}' is a function: call it, e.g. {name}(x)")
        raise self.unknown(node, name)

    def unknown(self, node: ast.AST, name: str) -> EquationError:
        close = closest(name, [k for k in self.scope.known() if k != name])
        hint = f"did you mean '{close}'?" if close else None
        return self.fail(node, f"unknown name '{name}'", hint)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        # a + b - c + ... leans left as deep as it is long: walk that spine in a loop
        spine = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp):
            spine.append(current)
            current = current.left
        result = self(current)
        for binop in reversed(spine):
            op = type(binop.op)
            if op not in _BINOPS:
                hint = _BINOP_HINTS.get(op)
                symbol = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
                          ast.LShift: "<<", ast.RShift: ">>"}.get(op, op.__name__)
                raise self.source.error(f"the operator '{symbol}' is not allowed",
                                        self._operator_column(binop, symbol), hint)
            new_op = ast.Pow() if op is ast.BitXor else op()
            result = ast.copy_location(ast.BinOp(left=result, op=new_op, right=self(binop.right)), binop)
        return result

    def _operator_column(self, node: ast.BinOp, symbol: str) -> int:
        """Column of a binary operator: the first occurrence after the left operand."""
        after = getattr(node.left, "end_col_offset", None)
        if after is not None:
            found = self.source.text.find(symbol, after)
            if found >= 0:
                return found
        return node.col_offset

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return ast.UnaryOp(op=type(node.op)(), operand=self(node.operand))
        if isinstance(node.op, ast.Not):
            return _call("_f_logical_not", [self(node.operand)])
        raise self.fail(node, "the operator '~' is not allowed", "use 'not'")

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        func = "_f_logical_and" if isinstance(node.op, ast.And) else "_f_logical_or"
        return _balanced(func, [self(v) for v in node.values])

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        operands = [self(node.left)] + [self(c) for c in node.comparators]
        parts = []
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            kind = _COMPARE_ALIASES.get(type(op), type(op))
            if kind not in _COMPARE:
                word = {ast.In: "in", ast.NotIn: "not in"}.get(type(op), "?")
                raise self.fail(node, f"the comparison '{word}' is not allowed", "use <, <=, >, >=, == or !=")
            parts.append(ast.Compare(left=left, ops=[kind()], comparators=[right]))
        # Logical 'and' is exact, so the chain a < b < c < ... may be grouped as a balanced tree.
        return _balanced("_f_logical_and", parts)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        return _call("_f_where", [self(node.test), self(node.body), self(node.orelse)])

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        base = node.value
        if self.scope.kind == "synapse" and isinstance(base, ast.Name) and base.id in ("pre", "post"):
            if node.attr.startswith("_"):
                raise self.fail(node, f"names starting with '_' are reserved (got '{node.attr}')")
            return ast.Name(id=f"_{base.id}_{node.attr}", ctx=ast.Load())
        if isinstance(base, ast.Name) and base.id in ("pre", "post"):
            raise self.fail(node, f"'{base.id}.{node.attr}' is only available in synapse equations")
        raise self.fail(node, "attribute access is not allowed in equations")

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if node.keywords:
            raise self.fail(node.keywords[0], "keyword arguments are not allowed in equations",
                            "pass arguments by position")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, "starred arguments are not allowed in equations")
        func = node.func
        # pre.sum(exc) / post.sum(exc) in synapses
        if isinstance(func, ast.Attribute):
            if (self.scope.kind == "synapse" and isinstance(func.value, ast.Name)
                    and func.value.id in ("pre", "post") and func.attr == "sum"):
                target = self._target(node)
                return ast.Name(id=f"_sum{func.value.id}_{target}", ctx=ast.Load())
            raise self.fail(node, "only named functions can be called in equations")
        if not isinstance(func, ast.Name):
            raise self.fail(node, "only named functions can be called in equations")
        name = func.id
        nargs = len(node.args)
        if name == "sum":
            if self.scope.kind in ("function", "value"):
                raise self.fail(node, "sum(target) is not available here")
            if self.scope.kind == "synapse":
                raise self.fail(node, "in a synapse, write post.sum(target) or pre.sum(target)")
            if nargs == 0:
                return ast.Name(id="_sumall", ctx=ast.Load())
            return ast.Name(id=f"_sum_{self._target(node)}", ctx=ast.Load())
        if name in GLOBAL_OPERATIONS and nargs == 1:
            return self._global(node, name)
        if name in self.scope.functions:
            fdef = self.scope.functions[name]
            if nargs != len(fdef.args):
                raise self.fail(node, f"{name}() takes {len(fdef.args)} argument(s), got {nargs}")
            return _call(f"_u_{name}", [self(a) for a in node.args])
        if name in DISTRIBUTIONS:
            if self.scope.kind in ("function",):
                raise self.fail(node, "random distributions are not allowed in functions")
            _, low, high = DISTRIBUTIONS[name]
            if not low <= nargs <= high:
                expected = str(low) if low == high else f"{low} to {high}"
                raise self.fail(node, f"{name}() takes {expected} arguments, got {nargs}")
            args = [self(a) for a in node.args]
            values = [_constant_number(a) for a in args]
            if all(v is not None for v in values):
                # Constant arguments are checked now rather than at the first draw.
                problem = argument_error(name, tuple(values))
                if problem is not None:
                    raise self.fail(node, problem)
            return _call(f"_rnd_{name}", args)
        if name in BUILTIN_FUNCTIONS:
            _, counts = BUILTIN_FUNCTIONS[name]
            if nargs not in counts:
                if name in GLOBAL_OPERATIONS:
                    raise self.fail(node, f"{name}() takes 1 argument (a variable: global operation) "
                                          f"or 2 (elementwise), got {nargs}")
                expected = " or ".join(str(c) for c in counts)
                raise self.fail(node, f"{name}() takes {expected} argument(s), got {nargs}")
            return _call(f"_f_{name}", [self(a) for a in node.args])
        if name in GLOBAL_OPERATIONS:
            raise self.fail(node, f"{name}() takes one variable name, got {nargs} arguments")
        if name.startswith("_"):
            raise self.fail(node, f"names starting with '_' are reserved (got '{name}')")
        if name in self.scope.locals or name in self.scope.args or name in self.constants or \
                name in ("t", "dt", "pi", "e", "w", "pre", "post"):
            raise self.fail(node, f"'{name}' is not a function and cannot be called")
        raise self.unknown(func, name)

    def _target(self, node: ast.Call) -> str:
        """The target of ``sum(target)``: any ASCII identifier, Python keywords included."""
        if len(node.args) != 1:
            raise self.fail(node, "sum() takes one target name, e.g. sum(exc)")
        arg = node.args[0]
        if not isinstance(arg, ast.Name):
            end = getattr(arg, "end_col_offset", None)
            shown = self.source.text[arg.col_offset:end] if end is not None else unparse(arg)
            raise self.fail(arg, f"'{shown}' is not a target name: a target is a name of letters, digits and "
                                 f"'_' that does not start with a digit", "e.g. sum(exc)")
        target = arg.id
        if target.startswith("_"):
            raise self.fail(arg, f"names starting with '_' are reserved (got '{target}')",
                            "a target may not start with '_'")
        return target

    def _global(self, node: ast.Call, op: str) -> ast.expr:
        if self.scope.kind in ("function", "value"):
            raise self.fail(node, f"the global operation {op}() is not available here")
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id in self.scope.locals and self.scope.kind == "neuron":
            return ast.Name(id=f"_g_{op}_{arg.id}", ctx=ast.Load())
        if (self.scope.kind == "synapse" and isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
                and arg.value.id in ("pre", "post") and not arg.attr.startswith("_")):
            return ast.Name(id=f"_g{arg.value.id}_{op}_{arg.attr}", ctx=ast.Load())
        if op in ("max", "min"):
            raise self.fail(node, f"{op}() with one argument is a global operation and needs a variable name"
                                  + (" such as pre.r" if self.scope.kind == "synapse" else ""),
                            f"for an elementwise {op} use {op}(a, b)")
        if isinstance(arg, ast.Name) and arg.id in ("pre", "post"):
            raise self.fail(node, f"{op}({arg.id}) needs a variable, e.g. {op}({arg.id}.r)")
        if isinstance(arg, ast.Name) and arg.id not in self.scope.locals:
            raise self.unknown(arg, arg.id)
        raise self.fail(node, f"{op}() takes one variable name"
                        + (" of pre or post (e.g. pre.r)" if self.scope.kind == "synapse" else ""))


def _call(name: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])


def _balanced(func: str, values: Sequence[ast.expr]) -> ast.expr:
    """``func(func(a, b), func(c, d))`` for an associative, exact ``func``: depth log2(n), not n."""
    while len(values) > 1:
        paired: list[ast.expr] = [_call(func, [values[i], values[i + 1]]) for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]


def _constant_number(node: ast.expr) -> float | None:
    """The value of a resolved tree made only of numbers, arithmetic and built-in functions, or None.

    Used to check the arguments of a random distribution when the model is
    defined.  Evaluated with NumPy in double precision (as at run time), in a
    loop over the tree.
    """
    import numpy as np

    values: dict[int, Any] = {}
    stack: list[tuple[ast.AST, bool]] = [(node, False)]
    helpers = _numpy_functions()
    with np.errstate(all="ignore"):
        while stack:
            current, ready = stack.pop()
            if isinstance(current, ast.Constant):
                if isinstance(current.value, bool) or not isinstance(current.value, (int, float)):
                    return None
                values[id(current)] = np.float64(current.value)
                continue
            if isinstance(current, ast.UnaryOp) and isinstance(current.op, (ast.USub, ast.UAdd)):
                children: list[ast.AST] = [current.operand]
            elif isinstance(current, ast.BinOp):
                children = [current.left, current.right]
            elif (isinstance(current, ast.Call) and isinstance(current.func, ast.Name)
                  and current.func.id.startswith("_f_") and current.func.id[3:] in BUILTIN_FUNCTIONS):
                children = list(current.args)
            else:
                return None
            if not ready:
                stack.append((current, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            args = [values[id(c)] for c in children]
            if isinstance(current, ast.UnaryOp):
                result = -args[0] if isinstance(current.op, ast.USub) else args[0]
            elif isinstance(current, ast.BinOp):
                result = _ARITHMETIC[type(current.op)](args[0], args[1])
            else:
                result = helpers[cast(ast.Name, current.func).id](*args)
            values[id(current)] = np.float64(result)
    return float(values[id(node)])


_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


@with_headroom
def resolve(tree: ast.expr, scope: Scope, source: Source, derivatives: Mapping[int, str] | None = None) -> ast.expr:
    """Validate ``tree`` against the allowlist and rewrite it to symbols."""
    return _Resolver(scope, source, derivatives)(tree)


def classify(symbol: str) -> tuple[str, ...]:
    """Say what a symbol of a resolved tree stands for.

    Returns one of ``("sum", target)``, ``("sumall",)``, ``("global", op, var)``,
    ``("pre", var)``, ``("post", var)``, ``("sumpre", target)``,
    ``("sumpost", target)``, ``("globalpre", op, var)``,
    ``("globalpost", op, var)``, ``("random", name)``, ``("function", name)``,
    ``("user", name)``, ``("derivative", var)`` or ``("name", symbol)``.

    Examples
    --------
    >>> classify("_gpre_mean_r"), classify("_sum_exc"), classify("tau")
    (('globalpre', 'mean', 'r'), ('sum', 'exc'), ('name', 'tau'))
    """
    if not symbol.startswith("_"):
        return ("name", symbol)
    if symbol == "_sumall":
        return ("sumall",)
    for prefix, kind in (("_sumpre_", "sumpre"), ("_sumpost_", "sumpost"), ("_sum_", "sum"),
                         ("_pre_", "pre"), ("_post_", "post"), ("_rnd_", "random"), ("_f_", "function"),
                         ("_u_", "user")):
        if symbol.startswith(prefix):
            return (kind, symbol[len(prefix):])
    for prefix, kind in (("_gpre_", "globalpre"), ("_gpost_", "globalpost"), ("_g_", "global")):
        if symbol.startswith(prefix):
            op, var = symbol[len(prefix):].split("_", 1)
            return (kind, op, var)
    if symbol.startswith("_d") and symbol.endswith("_"):
        return ("derivative", symbol[2:-1])
    return ("internal", symbol)


def symbols(tree: ast.AST) -> set[str]:
    """All symbol names a resolved tree reads."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def is_product_of(tree: ast.AST, left: str, right: str) -> bool:
    """Whether ``tree`` is exactly ``left * right`` (in either order), e.g. the default psp ``w * pre.r``.

    Examples
    --------
    >>> import ast
    >>> is_product_of(ast.parse("_pre_r * w", mode="eval").body, "w", "_pre_r")
    True
    """
    return (isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult)
            and isinstance(tree.left, ast.Name) and isinstance(tree.right, ast.Name)
            and {tree.left.id, tree.right.id} == {left, right})


# ---------------------------------------------------------------------------
# algebra on resolved trees (loops, not recursion: a sum may have thousands of terms)


class NonLinear(Exception):
    """Raised by :func:`linear_split` when the symbol does not appear linearly."""


ONE = ast.Constant(value=1.0)


def _is_zero(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value == 0)


def _is_one(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)


def add(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if a is None or _is_zero(a):
        return b
    if b is None or _is_zero(b):
        return a
    if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub):
        return ast.BinOp(left=a, op=ast.Sub(), right=b.operand)
    return ast.BinOp(left=a, op=ast.Add(), right=b)


def sub(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if b is None or _is_zero(b):
        return a
    if a is None or _is_zero(a):
        return neg(b)
    return ast.BinOp(left=a, op=ast.Sub(), right=b)


def neg(a: ast.expr | None) -> ast.expr | None:
    if a is None or _is_zero(a):
        return None
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub):
        return a.operand
    if isinstance(a, ast.BinOp) and isinstance(a.op, ast.Sub):
        return ast.BinOp(left=a.right, op=ast.Sub(), right=a.left)
    if isinstance(a, ast.Constant) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool):
        return ast.Constant(value=-a.value)
    return ast.UnaryOp(op=ast.USub(), operand=a)


def mul(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if a is None or b is None or _is_zero(a) or _is_zero(b):
        return None
    if _is_one(a):
        return b
    if _is_one(b):
        return a
    return ast.BinOp(left=a, op=ast.Mult(), right=b)


def div(a: ast.expr | None, b: ast.expr) -> ast.expr | None:
    if a is None or _is_zero(a):
        return None
    if _is_one(b):
        return a
    return ast.BinOp(left=a, op=ast.Div(), right=b)


def _containing(node: ast.AST, name: str) -> set[int]:
    """ids of the nodes of ``node`` whose subtree reads ``name``."""
    order: list[ast.AST] = []
    stack = [node]
    while stack:
        current = stack.pop()
        order.append(current)
        stack.extend(ast.iter_child_nodes(current))
    found: set[int] = set()
    for current in reversed(order):  # children before parents
        if (isinstance(current, ast.Name) and current.id == name) or \
                any(id(child) in found for child in ast.iter_child_nodes(current)):
            found.add(id(current))
    return found


def _contains(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def linear_split(node: ast.expr, name: str) -> tuple[ast.expr | None, ast.expr | None]:
    """Write ``node`` as ``a * name + b`` with ``a`` and ``b`` free of ``name``.

    ``None`` stands for zero.  Raises :class:`NonLinear` when ``name`` appears
    in any other way (inside a function, multiplied by itself, as a divisor...).

    Examples
    --------
    >>> import ast
    >>> a, b = linear_split(ast.parse("(I - x) / tau", mode="eval").body, "x")
    >>> ast.unparse(a), ast.unparse(b)
    ('-1.0 / tau', 'I / tau')
    """
    has = _containing(node, name)
    if id(node) not in has:
        return None, node
    done: dict[int, tuple[ast.expr | None, ast.expr | None]] = {}
    stack: list[tuple[ast.expr, bool]] = [(node, False)]
    while stack:
        current, ready = stack.pop()
        if id(current) in done:
            continue
        if id(current) not in has:
            done[id(current)] = (None, current)
            continue
        if isinstance(current, ast.Name):
            done[id(current)] = (ONE, None)
            continue
        if isinstance(current, ast.UnaryOp) and isinstance(current.op, (ast.USub, ast.UAdd)):
            children: list[ast.expr] = [current.operand]
        elif isinstance(current, ast.BinOp) and isinstance(current.op, (ast.Add, ast.Sub)):
            children = [current.left, current.right]
        elif isinstance(current, ast.BinOp) and isinstance(current.op, ast.Mult) \
                and (id(current.left) not in has or id(current.right) not in has):
            children = [current.right if id(current.left) not in has else current.left]
        elif isinstance(current, ast.BinOp) and isinstance(current.op, ast.Div) and id(current.right) not in has:
            children = [current.left]
        else:
            raise NonLinear(name)
        if not ready:
            stack.append((current, True))
            stack.extend((child, False) for child in children)
            continue
        if isinstance(current, ast.UnaryOp):
            a, b = done[id(current.operand)]
            done[id(current)] = (neg(a), neg(b)) if isinstance(current.op, ast.USub) else (a, b)
        elif isinstance(current.op, (ast.Add, ast.Sub)):
            a1, b1 = done[id(current.left)]
            a2, b2 = done[id(current.right)]
            combine = add if isinstance(current.op, ast.Add) else sub
            done[id(current)] = (combine(a1, a2), combine(b1, b2))
        elif isinstance(current.op, ast.Mult):
            if id(current.left) not in has:
                a, b = done[id(current.right)]
                done[id(current)] = (mul(current.left, a), mul(current.left, b))
            else:
                a, b = done[id(current.left)]
                done[id(current)] = (mul(a, current.right), mul(b, current.right))
        else:
            a, b = done[id(current.left)]
            done[id(current)] = (div(a, current.right), div(b, current.right))
    return done[id(node)]


def additive_terms(node: ast.expr, name: str | None = None) -> list[ast.expr]:
    """Split a sum into its terms (signs folded into the terms).

    With ``name``, products and quotients by factors free of ``name`` are
    distributed too: ``(a - x) / tau`` gives ``a / tau`` and ``-x / tau``.
    """
    has = _containing(node, name) if name is not None else set()
    terms: list[ast.expr] = []
    # (node, wrappers): wrappers, outermost first, are applied to every term found under node.
    stack: list[tuple[ast.expr, tuple[tuple[str, ast.expr | None], ...]]] = [(node, ())]
    while stack:
        current, wrappers = stack.pop()
        if isinstance(current, ast.BinOp) and isinstance(current.op, (ast.Add, ast.Sub)):
            right = wrappers + (("neg", None),) if isinstance(current.op, ast.Sub) else wrappers
            stack.append((current.right, right))
            stack.append((current.left, wrappers))
            continue
        if isinstance(current, ast.UnaryOp) and isinstance(current.op, ast.USub):
            stack.append((current.operand, wrappers + (("neg", None),)))
            continue
        if name is not None and isinstance(current, ast.BinOp):
            if isinstance(current.op, ast.Div) and id(current.right) not in has:
                stack.append((current.left, wrappers + (("div", current.right),)))
                continue
            if isinstance(current.op, ast.Mult) and id(current.left) not in has:
                stack.append((current.right, wrappers + (("lmul", current.left),)))
                continue
            if isinstance(current.op, ast.Mult) and id(current.right) not in has:
                stack.append((current.left, wrappers + (("rmul", current.right),)))
                continue
        term: ast.expr | None = current
        for kind, factor in reversed(wrappers):
            if kind == "neg":
                term = neg(term)
            elif kind == "div":
                term = div(term, cast(ast.expr, factor))
            elif kind == "lmul":
                term = mul(factor, term)
            else:
                term = mul(term, factor)
        if term is not None:
            terms.append(term)
    return terms


def substitute(node: ast.expr, mapping: Mapping[str, ast.expr]) -> ast.expr:
    """Copy of ``node`` with the named symbols replaced by trees."""

    def visit(n: ast.AST) -> ast.AST:
        return mapping[n.id] if isinstance(n, ast.Name) and n.id in mapping else n

    return cast(ast.expr, transform(node, visit))


# ---------------------------------------------------------------------------
# parsing definitions


def _check_new_name(name: str, column: int, source: Source, kind: str) -> None:
    if not _IDENT.fullmatch(name):
        raise source.error(f"'{name}' is not a valid name", column)
    if name.startswith("_"):
        raise source.error(f"names starting with '_' are reserved (got '{name}')", column)
    if kind == "argument" and name in _ARGUMENT_NAMES_ALLOWED:
        return
    if keyword.iskeyword(name) or name in _RESERVED:
        raise source.error(f"'{name}' is reserved and cannot be used as {_article(kind)} name", column)
    if name in BUILTIN_FUNCTIONS or name in GLOBAL_OPERATIONS or name in DISTRIBUTIONS:
        raise source.error(f"'{name}' is a built-in function and cannot be used as {_article(kind)} name", column)


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _flag_error(flag: _Flag, allowed: Sequence[str], source: Source, what: str) -> EquationError:
    close = closest(flag.name, allowed, cutoff=0.5)
    hint = f"did you mean '{close}'?" if close else "known flags: " + ", ".join(allowed)
    return source.error(f"unknown flag '{flag.name}' for {what}", flag.column, hint)


def _describe_node(node: ast.AST) -> str:
    """How to name a syntax node in a message."""
    if isinstance(node, ast.Constant):
        return "a string" if isinstance(node.value, (str, bytes)) else f"the constant {node.value!r}"
    extra = {ast.Call: "a function call", ast.Compare: "a comparison", ast.BoolOp: "'and'/'or'",
             ast.IfExp: "a conditional", ast.UnaryOp: "this operator", ast.BinOp: "this operator",
             ast.Name: "a name"}
    return _NODE_NAMES.get(type(node)) or extra.get(type(node), type(node).__name__)


@with_headroom
def constant_value(tree: ast.expr, source: Source, constants: Mapping[str, float] | None = None) -> Any:
    """Evaluate a constant expression (numbers, + - * / **, pi, e, constants).

    Used for parameter values and flag values; a distribution call returns a
    :class:`~ratenet.random.Distribution`.  Nothing here calls ``eval``; a
    long sum is evaluated in a loop, left to right.
    """
    constants = dict(constants or {})

    def leaf(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            # doubles, as everywhere in the language (exact integers could grow without bound)
            try:
                number = float(node.value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise source.error("numbers must be finite", node.col_offset)
            return number
        if isinstance(node, ast.Name):
            if node.id == "pi":
                return math.pi
            if node.id == "e":
                return math.e
            if node.id in constants:
                return float(constants[node.id])
            if node.id in ("true", "false"):
                return node.id == "true"
            raise source.error(f"unknown name '{node.id}' in a value", node.col_offset,
                               "values must be numbers, True/False or distributions")
        what = _describe_node(node)
        raise source.error(f"{what} is not allowed in a value", getattr(node, "col_offset", 0),
                           "values must be numbers, True/False or distributions")

    def combine(node: ast.expr, args: list[Any]) -> Any:
        if isinstance(node, ast.UnaryOp):
            return -args[0] if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.BinOp):
            left, right = args
            try:
                result = {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
                          "/": lambda: left / right, "**": lambda: left ** right}[_BINOPS[type(node.op)]]()
            except ZeroDivisionError:
                raise source.error("this value divides by zero", node.col_offset) from None
            except OverflowError:
                raise source.error("this value is too large", node.col_offset) from None
            if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
                raise source.error("this value is not a finite real number", node.col_offset)
            return result
        cls = DISTRIBUTIONS[cast(ast.Name, cast(ast.Call, node).func).id][0]
        try:
            return cls(*args)
        except ValueError as exc:
            raise source.error(str(exc), node.col_offset) from None

    values: dict[int, Any] = {}
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            children = [node.operand]
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            children = [node.left, node.right]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DISTRIBUTIONS:
            if node.keywords:
                raise source.error("keyword arguments are not allowed here", node.keywords[0].col_offset)
            _, low, high = DISTRIBUTIONS[node.func.id]
            if not low <= len(node.args) <= high:
                raise source.error(f"{node.func.id}() takes {low} to {high} arguments", node.col_offset)
            children = list(node.args)
        else:
            values[id(node)] = leaf(node)
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        values[id(node)] = combine(node, [values[id(c)] for c in children])
    return values[id(tree)]


def _checked_parameter_value(name: str, value: Any, dtype: str, source: Source, column: int) -> Any:
    """The value of a parameter of type ``dtype``, or an error quoting its definition."""
    if dtype == "bool" and not (isinstance(value, bool) or value in (0.0, 1.0)):
        raise source.error(f"the bool parameter '{name}' needs True, False, 0 or 1", column)
    if dtype == "bool":
        return bool(value)
    if dtype == "int" and isinstance(value, float) and value != int(value):
        raise source.error(f"the int parameter '{name}' needs a whole number", column)
    if dtype == "int" and isinstance(value, (bool, int, float)):
        return int(value)
    if isinstance(value, bool) and dtype == "float":
        return float(value)
    return value


@with_headroom
def parse_parameters(
    text: str | Mapping[str, Any] | None,
    *,
    kind: str = "neuron",
    where: str = "parameters",
    constants: Mapping[str, float] | None = None,
) -> list[ParameterDef]:
    """Parse a ``parameters`` string (or mapping) into records.

    Parameters
    ----------
    text : str or mapping or None
        One ``name = value : flags`` per line (or several separated by
        ``;``), or, as in ANNarchy 5, ``{name: value or Parameter(...)}``.  In
        a mapping a plain value is one value for the whole population
        (neurons) or projection (synapses), as ANNarchy 5 defines it, except
        a neuron's rate ``r``, which is always one value per neuron.
    kind : {"neuron", "synapse"}
        Decides which locality flags are allowed.
    where : str
        Label for error messages.
    constants : mapping, optional
        Global constants that values may refer to.

    Returns
    -------
    list of ParameterDef

    Examples
    --------
    >>> [(p.name, p.value, p.locality) for p in parse_parameters('''
    ...     tau = 10.0 : population
    ...     baseline = 0.5
    ... ''')]
    [('tau', 10.0, 'population'), ('baseline', 0.5, 'local')]
    >>> from ratenet.attributes import Parameter
    >>> [(p.name, p.value, p.locality) for p in parse_parameters(
    ...     {"tau": 10.0, "baseline": Parameter(0.5, locality="local")})]
    [('tau', 10.0, 'population'), ('baseline', 0.5, 'local')]
    """
    if text is None:
        return []
    if isinstance(text, Mapping):
        return _parameters_from_mapping(text, kind, where)
    allowed_locality = _LOCALITY_FLAGS[kind]
    result: list[ParameterDef] = []
    seen: set[str] = set()
    for line, label in _logical_lines(text, where):
        source = Source(line, label)
        body, flags_text, flags_at = _split_flags(line)
        found = _find_assignment(body)
        if found is None or found[1] != "=":
            raise source.error("expected 'name = value'", len(body.rstrip()) if found is None else found[0])
        eq = found[0]
        name = body[:eq].strip()
        _check_new_name(name, len(body) - len(body.lstrip()), source, "parameter")
        if name in seen:
            raise source.error(f"the parameter '{name}' is defined twice", 0)
        seen.add(name)
        value = constant_value(_parse_expression(line, eq + 1, len(body), source), source, constants)
        locality, dtype = "local", _dtype_of(value)
        for flag in _parse_flags(flags_text, flags_at, source):
            if flag.name in allowed_locality and flag.value is None:
                locality = flag.name
            elif flag.name in _TYPE_FLAGS and flag.value is None:
                dtype = flag.name
            else:
                raise _flag_error(flag, allowed_locality + _TYPE_FLAGS, source, "a parameter")
        value_at = eq + 1 + len(body[eq + 1:]) - len(body[eq + 1:].lstrip())
        value = _checked_parameter_value(name, value, dtype, source, value_at)
        result.append(ParameterDef(name, value, locality, dtype, source=source))
    return result


def _parameters_from_mapping(text: Mapping[str, Any], kind: str, where: str) -> list[ParameterDef]:
    result = []
    for name, value in text.items():
        source = Source(f"{name} = {value!r}", where)
        if not isinstance(name, str):
            raise source.error(f"parameter names must be strings (got {name!r})")
        check_text(name, where)
        _check_new_name(name, 0, source, "parameter")
        if isinstance(value, Parameter):
            try:
                locality = locality_flag(value.locality, kind)
            except ValueError as exc:
                raise source.error(f"the parameter '{name}': {exc}") from None
            promotable = not value.explicit_locality and locality == "population"
            dtype, value = value.type, value.value
        elif isinstance(value, (bool, int, float, Distribution)) and not isinstance(value, complex):
            # ANNarchy 5: a plain value is one value for the population/projection.
            locality = "local" if kind == "neuron" and name == "r" else _LOCALITY_FLAGS[kind][-1]
            dtype = _dtype_of(value)
            promotable = False
        else:
            raise source.error(f"the value of '{name}' must be a number, a bool, a distribution or a Parameter")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(value):
            raise source.error(f"the value of '{name}' must be finite")
        value = _checked_parameter_value(name, value, dtype, source, len(name) + 3)
        result.append(ParameterDef(name, value, locality, dtype, promotable, source))
    return result


def _dtype_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "float"


def _derivative_spans(text: str, names: Iterable[str] = ()) -> tuple[str, dict[int, str], list[tuple[int, str]]]:
    """Replace each ``dx/dt`` by a same-width placeholder ``_dx_``.

    ``dt / dt`` and ``dv / dt`` where ``dv`` is one of ``names`` (a parameter or
    constant) are divisions, not derivatives.
    """
    spans: list[tuple[int, str]] = []
    known = set(names) | {"dt"}

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if f"d{name}" in known:
            return match.group()
        placeholder = f"_d{name}_"
        spans.append((match.start(), name))
        return placeholder.ljust(len(match.group()))

    replaced = _DERIVATIVE.sub(repl, text)
    mapping = {col: f"_d{name}_" for col, name in spans}
    return replaced, mapping, spans


def _equation_items(text: str | Variable | Sequence[str | Variable], where: str
                    ) -> list[tuple[str, str, Variable | None]]:
    """(logical line, label, Variable or None) for every definition, numbered as if joined by newlines."""
    if isinstance(text, (str, Variable)):
        items: Sequence[Any] = [text]
    elif isinstance(text, Sequence):
        items = text
    else:
        raise EquationError(f"{where} must be a string, a Variable or a list of them, got {type(text).__name__}")
    if all(isinstance(item, str) for item in items):
        return [(line, label, None) for line, label in _continued(_logical_lines("\n".join(items), where), where)]
    out: list[tuple[str, str, Variable | None]] = []
    first = 1
    for item in items:
        body = item.equation if isinstance(item, Variable) else item
        if not isinstance(body, str):
            raise EquationError(f"{where} must hold strings or Variables, got {type(item).__name__}")
        lines = _logical_lines(body, where)
        if not isinstance(item, Variable):
            lines = _continued(lines, where)
        lines = [(line, _shift_label(label, where, first - 1)) for line, label in lines]
        if isinstance(item, Variable):
            if len(lines) != 1:
                raise EquationError(f"a Variable holds exactly one definition (got {len(lines)})",
                                    text=_displayable(body.strip())[:200], owner=f"{where}, line {first}")
            out.append((lines[0][0], lines[0][1], item))
        else:
            out.extend((line, label, None) for line, label in lines)
        first += body.count("\n") + 1
    return out


_ASSIGNMENT = re.compile(r"(?<![=<>!])=(?!=)")


def _continued(lines: list[tuple[str, str]], where: str) -> list[tuple[str, str]]:
    """Join an equation line that assigns nothing to the line before it, as ANNarchy does.

    ``tau * dv/dt + v = a`` then ``+ b : implicit`` on the next line is one
    equation, ``tau * dv/dt + v = a + b : implicit``; the line before must not
    have flags of its own (they would end up in the middle).

    Examples
    --------
    >>> _continued([("x = a", "equations, line 1"), ("+ b : min=0", "equations, line 2")], "equations")
    [('x = a + b : min=0', 'equations, lines 1-2')]
    """
    out: list[tuple[str, str]] = []
    for line, label in lines:
        definition = _split_flags(line)[0]
        if out and not _ASSIGNMENT.search(definition) and _split_flags(out[-1][0])[1] is None:
            previous, previous_label = out[-1]
            first = previous_label[len(where):].lstrip(", ").split()[-1].split("-")[0]
            last = label.split()[-1].split("-")[-1]
            out[-1] = (f"{previous} {line}", f"{where}, lines {first}-{last}")
        else:
            out.append((line, label))
    return out


def _shift_label(label: str, where: str, offset: int) -> str:
    if not offset:
        return label
    numbers = [int(n) + offset for n in re.findall(r"\d+", label[len(where):])]
    if len(numbers) == 1:
        return f"{where}, line {numbers[0]}"
    return f"{where}, lines {numbers[0]}-{numbers[1]}"


@with_headroom
def parse_equations(
    text: str | Variable | Sequence[str | Variable] | None,
    scope: Scope,
    *,
    where: str = "equations",
) -> list[EquationDef]:
    """Parse an ``equations`` string into validated records.

    Parameters
    ----------
    text : str, Variable, list of str and Variables, or None
        One definition per (logical) line, or several on a line separated by
        ``;``; ANNarchy 5's :class:`~ratenet.attributes.Variable` objects
        carry one definition each, with their keyword arguments as flags.
    scope : Scope
        Names the right-hand sides may use.  Every assigned name is added to it
        as a variable (so equations may refer to variables defined later).
    where : str
        Label for error messages.

    Returns
    -------
    list of EquationDef

    Examples
    --------
    >>> import ast
    >>> eqs = parse_equations("tau * dr/dt + r = sum(exc) : min=0.0",
    ...                       Scope(locals={"tau": "local"}))
    >>> eqs[0].target, eqs[0].kind, ast.unparse(eqs[0].rhs), eqs[0].min
    ('r', 'ode', '(_sum_exc - r) / tau', 0.0)
    """
    if text is None:
        return []
    # First pass: find every variable so right-hand sides may use any of them.
    parsed = []
    variables: dict[str, str] = {}
    first_line: dict[str, int] = {}
    allowed_locality = _LOCALITY_FLAGS.get(scope.kind, ())
    for index, (line, label, variable) in enumerate(_equation_items(text, where)):
        source = Source(line, label)
        body, flags_text, flags_at = _split_flags(line)
        replaced, placeholders, spans = _derivative_spans(body, [*scope.locals, *scope.constants])
        found = _find_assignment(replaced)
        if found is None:
            raise source.error("expected 'x = expression' or an ODE such as 'tau * dx/dt + x = I'",
                               len(body.rstrip()))
        flags = _parse_flags(flags_text, flags_at, source)
        locality = "local"
        for flag in flags:
            if flag.name in allowed_locality and flag.value is None:
                locality = flag.name
        if variable is not None and variable.locality != "local":
            try:
                wanted = locality_flag(variable.locality, scope.kind)
            except ValueError as exc:
                raise source.error(f"Variable(locality={variable.locality!r}): {exc}", 0) from None
            if locality != "local" and locality != wanted:
                raise source.error(f"the flag '{locality}' contradicts Variable(locality={variable.locality!r})", 0)
            locality = wanted
        if spans:
            if len(spans) > 1:
                raise source.error("an equation may contain only one derivative", spans[1][0])
            if found[1] != "=":
                raise source.error(f"an ODE is written with '=', not '{found[1]}'", found[0])
            target = spans[0][1]
            _check_new_name(target, spans[0][0] + 1, source, "variable")
            lhs_text = replaced[: found[0]].strip()
            if _IDENT.fullmatch(lhs_text) and lhs_text != target and spans[0][0] > found[0]:
                raise source.error(f"d{target}/dt cannot be assigned to '{lhs_text}': derivatives appear only in "
                                   f"the ODE of their variable", spans[0][0],
                                   f"write it as 'd{target}/dt = ...'")
            kind = "ode"
        else:
            target = replaced[: found[0]].strip()
            if not _IDENT.fullmatch(target):
                raise source.error(
                    "the left-hand side must be a variable name (or contain a derivative dx/dt)", 0)
            _check_new_name(target, len(body) - len(body.lstrip()), source, "variable")
            kind = "assign"
        if target in variables and kind == "ode":
            raise source.error(f"the variable '{target}' has two ODEs", spans[0][0])
        variables.setdefault(target, locality)
        first_line.setdefault(target, index)
        parsed.append((source, replaced, placeholders, found, flags, kind, target, locality,
                       spans[0][0] if spans else 0, variable, index))

    inner = Scope(scope.kind, {**scope.locals, **variables}, scope.functions, scope.constants, scope.args)
    equations: list[EquationDef] = []
    for (source, replaced, placeholders, found, flags, kind, target, locality, deriv_at, variable,
         index) in parsed:
        line_for_parse = replaced + source.text[len(replaced):]
        eq_at, op = found
        rhs_start = eq_at + len(op)
        rhs_tree = _parse_expression(line_for_parse, rhs_start, len(replaced), source)
        rhs = resolve(rhs_tree, inner, source, placeholders)
        if kind == "ode":
            lhs_tree = _parse_expression(line_for_parse, 0, eq_at, source)
            lhs = resolve(lhs_tree, inner, source, placeholders)
            symbol = f"_d{target}_"
            try:
                a, b = linear_split(cast(ast.expr, sub(lhs, rhs)), symbol)
            except NonLinear:
                raise source.error(f"d{target}/dt must appear linearly (e.g. tau * d{target}/dt + {target} = I)",
                                   deriv_at) from None
            if a is None or _is_zero(a):
                raise source.error(f"d{target}/dt cancels out of this equation", deriv_at)
            rhs = div(neg(b), a) or ast.Constant(value=0.0)
        options: dict[str, Any] = {"method": "explicit", "init": None, "min": None, "max": None,
                                   "dtype": "float"}
        columns: dict[str, int] = {}
        for flag in flags:
            columns["method" if flag.name in METHODS else flag.name] = flag.column
            if flag.value is None and flag.name in METHODS:
                options["method"] = flag.name
            elif flag.value is None and flag.name in allowed_locality:
                continue
            elif flag.value is None and flag.name in _TYPE_FLAGS:
                options["dtype"] = flag.name
            elif flag.value is not None and flag.name in _VALUE_FLAGS:
                options[flag.name] = _flag_value(flag, inner, source)
            elif flag.name in _VALUE_FLAGS:
                raise source.error(f"the flag '{flag.name}' needs a value, e.g. {flag.name}=0.0", flag.column)
            elif flag.value is not None and (flag.name in METHODS or flag.name in allowed_locality):
                raise source.error(f"the flag '{flag.name}' takes no value", flag.column)
            elif flag.name == "method" and isinstance(flag.value, ast.Name) and flag.value.id in METHODS:
                options["method"] = flag.value.id
            elif flag.name == "method" and flag.value is not None:
                shown = flag.value.id if isinstance(flag.value, ast.Name) else unparse(flag.value)
                close = closest(shown, METHODS)
                raise source.error(f"unknown method '{shown}'", flag.value.col_offset,
                                   f"did you mean '{close}'?" if close else "methods: " + ", ".join(METHODS))
            else:
                raise _flag_error(flag, list(METHODS) + list(allowed_locality) + list(_TYPE_FLAGS)
                                  + ["init=", "min=", "max="], source, "an equation")
        if variable is not None:
            _apply_variable(variable, options, columns, inner, source)
        if kind == "ode" and options["dtype"] != "float":
            raise source.error(f"an ODE variable cannot have the '{options['dtype']}' flag",
                               columns.get(options["dtype"], 0))
        if kind == "assign" and options["method"] != "explicit":
            raise source.error(f"the method '{options['method']}' only applies to ODEs", columns.get("method", 0))
        lo, hi = options["min"], options["max"]
        if _is_number(lo) and _is_number(hi) and lo > hi:
            raise source.error(f"min={lo!r} is greater than max={hi!r}: no value can satisfy both",
                               columns.get("min", 0))
        init = options["init"]
        if isinstance(init, str) and init in variables:
            if init == target:
                raise source.error(f"init={init} names the variable itself: give a number, a distribution or "
                                   f"another attribute's name", columns.get("init", 0))
            if first_line[init] > index:
                raise source.error(f"init={init} names a variable defined on a later line: a variable may start "
                                   f"from a parameter, a constant or a variable defined before it",
                                   columns.get("init", 0), f"move the definition of '{init}' above this line")
        equations.append(EquationDef(target, kind, rhs, op if kind == "assign" else "=", options["method"],
                                     init, lo, hi, locality, options["dtype"], source))
    return equations


def written_form(definition: EquationDef | FunctionDef) -> tuple[ast.expr, str, ast.expr]:
    """A definition as its author wrote it: ``(left side, operator, right side)``.

    The text was validated when the model was defined; here it is parsed
    again but not resolved, so names, ``sum(exc)``, ``pre.r`` and calls stay as
    written (``^`` is a power).  A derivative ``dx/dt`` is the name ``_dx_``,
    which :func:`classify` reads as ``("derivative", "x")``.  For displays and
    reports: the trees are never run.

    Examples
    --------
    >>> import ast
    >>> eq = parse_equations("tau * dr/dt + r = sum(exc) : min=0.0", Scope(locals={"tau": "local"}))[0]
    >>> left, op, right = written_form(eq)
    >>> ast.unparse(left), op, ast.unparse(right)
    ('tau * _dr_ + r', '=', 'sum(exc)')
    """
    source = definition.source
    if source is None:
        raise EquationError("this definition has no text to show")
    line = source.text
    body, _, _ = _split_flags(line)
    replaced, _, _ = _derivative_spans(body)
    found = _find_assignment(replaced)
    if found is None:
        raise source.error("expected a definition with '='")
    at, op = found
    text = replaced + line[len(replaced):]
    return _parse_expression(text, 0, at, source), op, _parse_expression(text, at + len(op), len(replaced), source)


def strip_flags(text: str) -> str:
    """A definition's text without the flags after its last ``:`` (``if c: a else: b`` kept whole).

    Examples
    --------
    >>> strip_flags("r = if v > 0: v else: 0 : min=0.0, exponential")
    'r = if v > 0: v else: 0'
    """
    return _split_flags(text)[0].strip()


def written_expression(text: str) -> ast.expr:
    """An expression (a psp, a stop condition) as written, flags after ``:`` left out.

    Like :func:`written_form`, for displays: the tree is parsed, not resolved.

    Examples
    --------
    >>> import ast
    >>> ast.unparse(written_expression("r > 1.0 : any"))
    'r > 1.0'
    """
    body, _, _ = _split_flags(text.strip())
    return _parse_expression(body, 0, len(body), Source(body, "expression"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _apply_variable(variable: Variable, options: dict[str, Any], columns: dict[str, int], scope: Scope,
                    source: Source) -> None:
    """Merge a Variable's keyword arguments into the flags parsed from its text (equal values may repeat)."""
    if variable.method is not None:
        if "method" in columns and options["method"] != variable.method:
            raise source.error(f"the flag '{options['method']}' contradicts Variable(method={variable.method!r})",
                               columns["method"])
        options["method"] = variable.method
    if variable.type != "float":
        if options["dtype"] != "float" and options["dtype"] != variable.type:
            raise source.error(f"the flag '{options['dtype']}' contradicts Variable(type={variable.type})",
                               columns.get(options["dtype"], 0))
        options["dtype"] = variable.type
    for name in ("init", "min", "max"):
        given = getattr(variable, name)
        if given is None:
            continue
        if isinstance(given, str) and not (name == "init" and _IDENT.fullmatch(given.strip())):
            text = given.strip()
            label = Source(text, f"{source.where}, Variable({name}=...)")
            value = _bound_value(_parse_expression(text, 0, len(text), label), name, scope, label) \
                if name != "init" else _init_text_error(text, label)
        elif isinstance(given, str):
            value = _flag_value(_Flag(name, ast.Name(id=given.strip(), ctx=ast.Load(), col_offset=0), 0),
                                scope, Source(given, f"{source.where}, Variable({name}=...)"))
        else:
            value = float(given) if _is_number(given) else given
        if options[name] is not None and not _same_value(options[name], value):
            raise source.error(f"the flag '{name}=' contradicts Variable({name}={given!r})", columns.get(name, 0))
        options[name] = value


def _init_text_error(text: str, source: Source) -> Any:
    raise source.error("init= takes a number, a bool, a distribution or the name of an attribute", 0)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, ast.AST) or isinstance(b, ast.AST):
        return isinstance(a, ast.AST) and isinstance(b, ast.AST) and ast.dump(a) == ast.dump(b)
    return a == b


def _flag_value(flag: _Flag, scope: Scope, source: Source) -> Any:
    node = cast(ast.expr, flag.value)   # callers handle flags without a value
    if flag.name in ("min", "max"):
        return _bound_value(node, flag.name, scope, source)
    if isinstance(node, ast.Name) and node.id not in ("pi", "e", "true", "false"):
        return _attribute_name(node, flag.name, scope, source)
    return constant_value(node, source)


def _attribute_name(node: ast.Name, flag: str, scope: Scope, source: Source) -> str:
    """A flag naming an attribute: a parameter, a variable, a constant (or a synapse's weight)."""
    if node.id in scope.locals or node.id in scope.constants or (node.id == "w" and scope.kind == "synapse"):
        return node.id
    close = closest(node.id, list(scope.locals) + list(scope.constants))
    raise source.error(f"unknown name '{node.id}' in the flag '{flag}'", node.col_offset,
                       f"did you mean '{close}'?" if close else None)


def _bound_value(node: ast.expr, flag: str, scope: Scope, source: Source) -> Any:
    """A ``min=``/``max=`` value: a number, a name, or a tree over parameters, variables and constants."""
    names = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in ("pi", "e", "true", "false")]
    if not names:   # numbers and arithmetic (a distribution has a name: it is refused below)
        return float(constant_value(node, source))
    if isinstance(node, ast.Name):
        return _attribute_name(node, flag, scope, source)
    tree = resolve(node, scope, source)
    for sub_node in ast.walk(tree):
        if isinstance(sub_node, ast.Call) and isinstance(sub_node.func, ast.Name) \
                and classify(sub_node.func.id)[0] == "random":
            raise source.error(f"the flag '{flag}' needs a number or an expression of parameters and variables, "
                               f"not a random draw", sub_node.col_offset)
        if isinstance(sub_node, ast.Name) and classify(sub_node.id)[0] not in ("name", "function", "user"):
            raise source.error(f"the flag '{flag}' may use numbers, parameters, variables, constants and "
                               f"functions, not {_display_symbol(sub_node.id)}",
                               getattr(sub_node, "col_offset", node.col_offset))
    return tree


def expression_text(tree: ast.AST) -> str:
    """A resolved tree written back with the names its author used (``_f_exp`` is ``exp``).

    For displays of bounds such as ``min=-max_change`` (their trees are resolved).

    Examples
    --------
    >>> tree = parse_equations("r = 1 : min=-exp(lim)", Scope(locals={"lim": "population"}))[0].min
    >>> expression_text(tree)
    '-exp(lim)'
    """
    def visit(node: ast.AST) -> ast.AST:
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            kind = classify(node.id)
            name = kind[1] if kind[0] in ("function", "user", "random") else _display_symbol(node.id)
            return ast.Name(id=name, ctx=ast.Load())
        return node

    return unparse(transform(tree, visit))


def _display_symbol(symbol: str) -> str:
    """How a symbol of a resolved tree was written by the user."""
    kind = classify(symbol)
    text = {"sum": lambda: f"sum({kind[1]})", "sumall": lambda: "sum()", "random": lambda: f"{kind[1]}(...)",
            "pre": lambda: f"pre.{kind[1]}", "post": lambda: f"post.{kind[1]}",
            "sumpre": lambda: f"pre.sum({kind[1]})", "sumpost": lambda: f"post.sum({kind[1]})",
            "global": lambda: f"{kind[1]}({kind[2]})", "globalpre": lambda: f"{kind[1]}(pre.{kind[2]})",
            "globalpost": lambda: f"{kind[1]}(post.{kind[2]})"}.get(kind[0])
    return text() if text else symbol


@with_headroom
def parse_functions(
    text: str | None,
    *,
    where: str = "functions",
    known: Mapping[str, FunctionDef] | None = None,
    constants: Iterable[str] = (),
) -> dict[str, FunctionDef]:
    """Parse ``name(x, y) = expression`` lines into user functions.

    Later functions may call earlier ones (and ``known`` ones).  Arguments may
    be named ``t`` or ``dt`` (the function then sees what it is passed).

    Examples
    --------
    >>> f = parse_functions("sigmoid(x) = 1.0 / (1.0 + exp(-x))")["sigmoid"]
    >>> round(float(f(0.0)), 3)
    0.5
    >>> float(parse_functions("decay(x, t) = x * exp(-t)")["decay"](2.0, 0.0))
    2.0
    """
    result: dict[str, FunctionDef] = dict(known or {})
    new: dict[str, FunctionDef] = {}
    if text is None:
        return new
    for line, label in _logical_lines(text, where):
        source = Source(line, label)
        body, flags_text, flags_at = _split_flags(line)
        if flags_text is not None:
            raise source.error("functions take no flags", flags_at - 1)
        found = _find_assignment(body)
        head_match = re.match(r"\s*([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$", body[: found[0]] if found else "")
        if found is None or found[1] != "=" or head_match is None:
            raise source.error("expected 'name(x, y) = expression'", 0)
        name = head_match.group(1)
        _check_new_name(name, head_match.start(1), source, "function")
        args = []
        position = head_match.start(2)
        for piece in head_match.group(2).split(","):
            arg = piece.strip()
            if arg:
                _check_new_name(arg, position + len(piece) - len(piece.lstrip()), source, "argument")
                args.append(arg)
            position += len(piece) + 1
        if len(set(args)) != len(args):
            raise source.error(f"the function '{name}' repeats an argument name", head_match.start(2))
        scope = Scope("function", {}, result, constants, tuple(args))
        tree = resolve(_parse_expression(line, found[0] + 1, len(body), source), scope, source)
        fdef = FunctionDef(name, tuple(args), tree, source, tuple(called_functions([tree], result)))
        result[name] = fdef
        new[name] = fdef
    return new


@with_headroom
def parse_condition(text: str, scope: Scope, *, where: str = "stop_condition") -> tuple[ast.expr, str]:
    """Parse a stop condition ``"r > 1.0 : any"`` into (tree, "any" | "all").

    Examples
    --------
    >>> import ast
    >>> tree, mode = parse_condition("r > 1.0 : any", Scope(locals={"r": "local"}))
    >>> ast.unparse(tree), mode
    ('r > 1.0', 'any')
    """
    lines = _logical_lines(text, where)
    if len(lines) != 1:
        raise EquationError(f"one condition expected (got {len(lines)})", text=_displayable(text.strip())[:200],
                            owner=where)
    line, label = lines[0]
    source = Source(line, label)
    body, flags_text, flags_at = _split_flags(line)
    mode = "all"
    for flag in _parse_flags(flags_text, flags_at, source):
        if flag.name in ("any", "all") and flag.value is None:
            mode = flag.name
        else:
            raise _flag_error(flag, ["any", "all"], source, "a stop condition")
    tree = resolve(_parse_expression(line, 0, len(body), source), scope, source)
    return tree, mode


_RULE_FLAGS = {"pruning": ("proba",), "creating": ("proba", "w", "d")}


@with_headroom
def parse_structural_rule(rule: str | Creating | Pruning, kind: str, scope: Scope) -> StructuralRule:
    """Parse a synapse's ``pruning`` or ``creating`` rule (ANNarchy 4.x string or 5.x object).

    Parameters
    ----------
    rule : str, Creating or Pruning
        ``"condition : proba=0.5"`` (pruning) or
        ``"condition : proba=0.1, w=0.01, d=1.0"`` (creating); or the 5.x
        objects with the same fields.
    kind : {"pruning", "creating"}
        Which rule it is.
    scope : Scope
        The synapse's scope (kind ``"synapse"``; locals are its parameters and
        variables with their localities).

    Returns
    -------
    StructuralRule

    Examples
    --------
    >>> import ast
    >>> rule = parse_structural_rule("pre.r * post.r > T : proba=0.1, w=0.01", "creating",
    ...                              Scope("synapse", {"T": "projection"}))
    >>> ast.unparse(rule.condition), rule.proba, rule.w, rule.d
    ('_pre_r * _post_r > T', 0.1, 0.01, None)
    """
    where = kind
    expected = Creating if kind == "creating" else Pruning
    if isinstance(rule, (Creating, Pruning)):
        if not isinstance(rule, expected):
            raise EquationError(f"{where} must be a {expected.__name__} (got a {type(rule).__name__})")
        text = rule.equation
        given: dict[str, Any] = {"proba": float(rule.proba)}
        if isinstance(rule, Creating):
            given.update(w=float(rule.w), d=None if rule.d is None else float(rule.d))
    elif isinstance(rule, str):
        text, given = rule, {}
    else:
        raise EquationError(f"{where} must be a string such as 'condition : proba=0.5' or a "
                            f"{expected.__name__} (got {type(rule).__name__})")
    lines = _logical_lines(text, where)
    if len(lines) != 1:
        raise EquationError(f"one condition expected (got {len(lines)})", text=_displayable(text.strip())[:200],
                            owner=where)
    line, label = lines[0]
    source = Source(line, label)
    body, flags_text, flags_at = _split_flags(line)
    values: dict[str, Any] = {"proba": 1.0, "w": 0.0 if kind == "creating" else None, "d": None}
    for flag in _parse_flags(flags_text, flags_at, source):
        if flag.name not in _RULE_FLAGS[kind] or flag.value is None:
            raise _flag_error(flag, [f"{name}=" for name in _RULE_FLAGS[kind]], source, f"a {kind} rule")
        if flag.name in given:
            raise source.error(f"'{flag.name}' is given both in the text and as {expected.__name__}"
                               f"({flag.name}=...)", flag.column)
        value = constant_value(flag.value, source)
        if isinstance(value, Distribution) or isinstance(value, bool):
            raise source.error(f"the flag '{flag.name}' needs a number", flag.value.col_offset)
        if flag.name == "proba" and not 0.0 <= value <= 1.0:
            raise source.error(f"proba must lie in [0, 1] (got {value})", flag.value.col_offset)
        if flag.name == "d" and value < 0:
            raise source.error(f"the delay d must be >= 0 ms (got {value})", flag.value.col_offset)
        values[flag.name] = float(value)
    values.update(given)
    tree = resolve(_parse_expression(line, 0, len(body), source), scope, source)
    if kind == "creating":
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and classify(node.id)[0] == "name" and \
                    (node.id == "w" or scope.locals.get(node.id) == "local"):
                raise source.error(f"a creating condition is evaluated where no synapse exists yet: it cannot "
                                   f"read '{node.id}', which has one value per synapse",
                                   getattr(node, "col_offset", 0))
    return StructuralRule(kind, tree, values["proba"], values["w"], values["d"], source)


# ---------------------------------------------------------------------------
# code generation


def _import_for_warnings(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                         level: int = 0) -> Any:
    """The only builtin generated code has.

    CPython 3.13 imports ``warnings`` through the running frame's builtins
    when C code (NumPy's floating-point checks) issues a warning; with no
    ``__import__`` at all the warning becomes ``KeyError: '__import__'``.
    This hands over the already-loaded ``warnings`` module and nothing else;
    equation text cannot even name it (names starting with ``_`` are refused).
    """
    if name == "warnings" and level == 0:
        return warnings
    raise ImportError(f"generated equation code cannot import {name!r}")


def generated_builtins() -> dict[str, Any]:
    """The builtins of generated code: nothing but the import hook NumPy's warnings need.

    Python 3.13 imports ``warnings`` through ``__import__`` when a NumPy
    floating-point warning is raised inside a function; every namespace that
    runs generated statements (update functions, the plan's loop) has these.

    Examples
    --------
    >>> sorted(generated_builtins())
    ['__import__']
    """
    return {"__import__": _import_for_warnings}


def numpy_namespace() -> dict[str, Any]:
    """The namespace every generated function starts from.

    It holds only NumPy functions under internal names and builtins that
    contain nothing but an import hook for the ``warnings`` module (see
    :func:`_import_for_warnings`): generated code can reach nothing else.
    """
    ns: dict[str, Any] = {"__builtins__": generated_builtins()}
    ns.update(_numpy_functions())
    ns.update(_numpy_helpers())
    return ns


_FUNCTIONS_CACHE: dict[str, Any] = {}


def _numpy_functions() -> dict[str, Any]:
    """``_f_<name>`` -> the callable of each built-in function."""
    if not _FUNCTIONS_CACHE:
        import numpy as np

        for name, (target, _) in BUILTIN_FUNCTIONS.items():
            _FUNCTIONS_CACHE[f"_f_{name}"] = _HELPERS[target] if target.startswith("_") else getattr(np, target)
        _FUNCTIONS_CACHE["_f_clip"] = _FUNCTIONS_CACHE["_np_clip"] = _clip_function()
    return _FUNCTIONS_CACHE


def _numpy_helpers() -> dict[str, Any]:
    import numpy as np

    return {
        "_f_where": np.where,
        "_f_logical_and": np.logical_and,
        "_f_logical_or": np.logical_or,
        "_f_logical_not": np.logical_not,
        "_f_to_int": to_int,
        "_f_to_bool": to_bool,
        "_np_maximum": np.maximum,
        "_np_minimum": np.minimum,
        "_np_copyto": np.copyto,
        "_np_multiply": np.multiply,
        "_np_add": np.add,
        "_np_exp": np.exp,
        "_expm1_ratio": expm1_ratio,
        "_ipow2": _ipow2,
        "_ipow3": _ipow3,
        "_ipow4": _ipow4,
        "_chain": _chain,
        "_gop_mean": np.mean,
        "_gop_max": _global_max,
        "_gop_min": _global_min,
        "_gop_norm1": lambda x: np.sum(np.abs(x)),
        "_gop_norm2": lambda x: np.sqrt(np.sum(np.square(x))),
    }


def _global_max(x: Any) -> Any:
    import numpy as np

    value = np.max(x)
    return value if value.dtype.kind == "f" else np.float64(value)  # bools and ints count as doubles


def _global_min(x: Any) -> Any:
    import numpy as np

    value = np.min(x)
    return value if value.dtype.kind == "f" else np.float64(value)


def user_function_namespace(functions: Iterable[FunctionDef]) -> dict[str, Any]:
    """Bind user functions under the symbols generated code calls them by."""
    return {f"_u_{f.name}": f.compiled() for f in functions}


def called_functions(trees: Iterable[ast.AST], functions: Mapping[str, FunctionDef]) -> list[FunctionDef]:
    """The user functions (from ``functions``) that the trees call directly."""
    names = {n.id[3:] for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.startswith("_u_")}
    return [functions[name] for name in sorted(names)]


def _ipow2(x: Any) -> Any:
    """``x ** 2`` as ``x * x`` (what NumPy's power does for the exponent 2 too)."""
    return x * x


def _ipow3(x: Any) -> Any:
    """``x ** 3`` as ``(x * x) * x``: see :meth:`_Preparer.power`."""
    import numpy as np

    y = x * x
    if isinstance(y, np.ndarray):
        y *= x  # a fresh array: multiply in place
        return y
    return y * x


def _ipow4(x: Any) -> Any:
    """``x ** 4`` as ``(x * x) * (x * x)``: see :meth:`_Preparer.power`."""
    import numpy as np

    y = x * x
    if isinstance(y, np.ndarray):
        y *= y
        return y
    return y * y


def _pos(x: Any) -> Any:
    import numpy as np

    return np.maximum(x, 0.0)


def _neg(x: Any) -> Any:
    import numpy as np

    return np.minimum(x, 0.0)


def _heaviside(x: Any) -> Any:
    import numpy as np

    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def _round(x: Any) -> Any:
    """Round half away from zero, as C's ``round``."""
    import numpy as np

    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def _clip_propagating(x: Any, lo: Any, hi: Any, out: Any = None) -> Any:
    """``clip`` with a NaN anywhere giving NaN, where NumPy's own clip does not (numpy < 2 returns a bound).

    ``maximum`` then ``minimum`` compute what numpy 2's clip does, NaN
    included; only the sign of a zero may differ when ``x`` and a bound are
    zeros of opposite signs (which both implementations leave unspecified).
    """
    import numpy as np

    lower = np.maximum(x, lo, out=out)
    return np.minimum(lower, hi, out=out)


def _clip_function() -> Any:
    """NumPy's clip when it propagates a NaN bound (numpy >= 2), else :func:`_clip_propagating`."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")  # numpy 1.x deprecates a NaN bound while it returns the other bound
        propagates = bool(np.isnan(np.clip(np.float64(1.0), 0.0, np.nan)))
    return np.clip if propagates else _clip_propagating


_HELPERS = {"_pos": _pos, "_neg": _neg, "_heaviside": _heaviside, "_round": _round}

_INT_LIMIT = 2.0 ** 63


def to_int(value: Any, where: tuple[str, str, str] | None = None) -> Any:
    """A value stored into an ``int`` variable: truncated toward zero, as C converts a double.

    NaN, infinities and values outside the 64-bit range have no C meaning;
    they raise an :class:`~ratenet.exceptions.EquationError` that names the
    equation (``where`` is ``(owner, line, variable)``).

    Examples
    --------
    >>> to_int([2.7, -2.7, 0.5]).tolist()
    [2, -2, 0]
    >>> to_int(float("nan"), ("equations, line 1", "n = log(-1) : int", "n"))
    Traceback (most recent call last):
    ...
    ratenet.exceptions.EquationError: equations, line 1: the int variable 'n' cannot hold nan: int variables hold ...
        n = log(-1) : int
        ^
    """
    import numpy as np

    values = np.asarray(value, dtype=np.float64)
    good = np.isfinite(values) & (values >= -_INT_LIMIT) & (values < _INT_LIMIT)
    if not good.all():
        bad = float(values.reshape(-1)[np.flatnonzero(~good.reshape(-1))[0]])
        owner, text, target = where if where is not None else (None, None, "?")
        raise EquationError(f"the int variable '{target}' cannot hold {bad!r}: int variables hold whole numbers "
                            f"from -2**63 to 2**63-1", text=text, column=0 if text else None, owner=owner)
    return np.trunc(values).astype(np.int64)


def to_bool(value: Any) -> Any:
    """A value stored into a ``bool`` variable: true when it is not zero (NaN is true, as in C).

    Examples
    --------
    >>> to_bool([0.0, 2.5, float("nan")]).tolist()
    [False, True, True]
    """
    import numpy as np

    return np.not_equal(value, 0)


_CHAIN_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "^": operator.pow,
}
_CHAIN_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}
#: A left-leaning chain of binary operators longer than this becomes one call of _chain, so that
#: Python's compiler never sees it: CPython 3.10 and 3.11 compile at most ~1000 levels.
CHAIN_LIMIT = 32


def _chain(ops: str, first: Any, *rest: Any) -> Any:
    """``((first op0 rest0) op1 rest1) ...``, left to right, exactly as the binary operators would."""
    value = first
    for symbol, operand in zip(ops, rest, strict=True):
        value = _CHAIN_OPERATORS[symbol](value, operand)
    return value


def expm1_ratio(a: Any, dt: float) -> Any:
    """``(exp(a*dt) - 1) / a``, equal to ``dt`` where ``a == 0``.

    The exponential method advances ``dx/dt = a*x + b`` exactly over one step:
    ``x += f(x) * expm1_ratio(a, dt)``.  Overflow gives ``inf`` (with NumPy's
    warning), as the same formula in C would.

    Examples
    --------
    >>> round(float(expm1_ratio(-0.1, 1.0)), 6), float(expm1_ratio(0.0, 2.0))
    (0.951626, 2.0)
    """
    import numpy as np

    z = np.asarray(a, dtype=float)
    if z.ndim == 0:
        if z == 0.0:
            return dt
        return np.expm1(z * dt) / z
    safe = np.where(z == 0.0, 1.0, z)
    return np.where(z == 0.0, dt, np.expm1(z * dt) / safe)


# -- preparing generated trees: doubles everywhere, literals bound, long chains flattened

_FLOAT, _BOOL, _INT, _UNKNOWN = "f", "b", "i", "?"
#: calls whose arguments are taken as they are, and the kind of their result
_AS_IS = {"_f_logical_and": _BOOL, "_f_logical_or": _BOOL, "_f_logical_not": _BOOL, "_f_to_int": _INT,
          "_f_to_bool": _BOOL, "_cast_int": _INT, "_cast_bool": _BOOL, "_cast_float": _FLOAT,
          "_np_clip": _UNKNOWN, "_np_maximum": _UNKNOWN, "_np_minimum": _UNKNOWN, "_np_copyto": _UNKNOWN,
          "_np_multiply": _UNKNOWN, "_np_add": _UNKNOWN, "_expm1_ratio": _FLOAT, "_np_any": _BOOL,
          "_np_all": _BOOL}


#: exponents computed by multiplications (see :meth:`_Preparer.power`)
_SMALL_POWERS = (2.0, 3.0, 4.0)
#: calls whose result is not one value per element of their arguments
_NOT_ELEMENTWISE: frozenset[str] = frozenset()


def _kind_of(value: Any) -> str:
    """Whether a namespace value is a double, a bool, an int or unknown (for generated arithmetic)."""
    if isinstance(value, bool):
        return _BOOL
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return {"f": _FLOAT, "b": _BOOL, "i": _INT, "u": _INT}.get(dtype.kind, _UNKNOWN)
    if isinstance(value, int):
        return _INT
    if isinstance(value, float):
        return _FLOAT
    return _UNKNOWN


class _Preparer:
    """One bottom-up pass over generated statements, before compiling them.

    * arithmetic operands that are bools or ints (comparisons, ``and``/``or``,
      bool and int variables, or of unknown kind) and have no double partner
      become doubles, so ``-(a > 0)`` is -1.0 and ``b + b`` is 2.0 as in C;
    * ``True``/``False`` become 1.0/0.0 and every number becomes a NumPy
      scalar of the network's dtype bound in the namespace;
    Long chains of binary operators are lowered afterwards (:func:`_lower_chains`).
    """

    def __init__(self, namespace: dict[str, Any], scalar: Any, args: Sequence[str]) -> None:
        self.namespace = namespace
        self.scalar = scalar
        self.args = set(args)
        # Keyed by id(); each entry keeps its node alive so that no id is reused by a later node.
        self.kinds: dict[int, tuple[ast.AST, str]] = {}
        self.assigned: dict[str, str] = {}
        self.binops = 0
        self.to_float = f"_as_{scalar.__name__}"
        if self.to_float not in namespace:
            import numpy as np

            namespace[self.to_float] = lambda x, _t=scalar: np.asarray(x, dtype=_t)

    def kind(self, node: ast.AST) -> str:
        entry = self.kinds.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else _UNKNOWN

    def mark(self, node: ast.AST, kind: str) -> None:
        self.kinds[id(node)] = (node, kind)

    def floated(self, node: ast.expr) -> ast.expr:
        if self.kind(node) == _FLOAT:
            return node
        wrapped = _call(self.to_float, [node])
        self.mark(wrapped, _FLOAT)
        return wrapped

    def __call__(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id in self.assigned:
                    kind = self.assigned[node.id]
                elif node.id in self.args:
                    kind = _UNKNOWN
                else:
                    value = self.namespace.get(node.id)
                    kind = _kind_of(value)
                    if type(value) in (int, float, bool):
                        # a Python number (dt) follows Python's rules: (-0.5) ** 0.5 is complex and
                        # 0.5 / 0.0 raises; as a NumPy scalar it follows C's
                        self.namespace[node.id] = self.scalar(value)
                        kind = _FLOAT
                self.mark(node, kind)
            return node
        if isinstance(node, ast.BinOp):
            self.binops += 1
            if isinstance(node.op, ast.Pow) and self.small_power(node.right):
                return self.power(node.left, cast(ast.Name, node.right))
            if _FLOAT not in (self.kind(node.left), self.kind(node.right)):
                node.left, node.right = self.floated(node.left), self.floated(node.right)
            self.mark(node, _FLOAT)
            return node
        if isinstance(node, ast.UnaryOp):
            node.operand = self.floated(node.operand)
            self.mark(node, _FLOAT)
            return node
        if isinstance(node, ast.Compare):
            self.mark(node, _BOOL)
            return node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node)
        if isinstance(node, ast.Subscript):
            self.mark(node, self.kind(node.value))
            return node
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.assigned[node.targets[0].id] = self.kind(node.value)
        return node

    def constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, bool):
            value = float(value)  # true is 1.0 in arithmetic, as in C
        if not isinstance(value, (int, float)):
            return node
        symbol = f"_lit_{float(value).hex().replace('-', 'm').replace('+', 'p').replace('.', '_')}"
        # Named by the value itself, so functions sharing a namespace agree on it.
        if symbol not in self.namespace or type(self.namespace[symbol]) is not self.scalar:
            self.namespace[symbol] = self.scalar(value)
        name = ast.Name(id=symbol, ctx=ast.Load())
        self.mark(name, _FLOAT)
        return name

    def small_power(self, exponent: ast.expr) -> bool:
        """Whether ``exponent`` is a literal 2, 3 or 4 (a power computed by multiplications)."""
        if not (isinstance(exponent, ast.Name) and exponent.id.startswith("_lit_")):
            return False
        return float(self.namespace[exponent.id]) in _SMALL_POWERS

    def power(self, base: ast.expr, exponent: ast.Name) -> ast.expr:
        """``base ** n`` for n = 2, 3, 4 as multiplications of the (double) base.

        ``pow`` of a negative base costs some 100 times a multiplication.  The
        products round two or three times where ``pow`` rounds once: the result
        may differ from ``pow`` in the last bit or two (never more than 3 ulp).
        Every plan, reference mode included, runs this same code.
        """
        call = _call(f"_ipow{int(float(self.namespace[exponent.id]))}", [self.floated(base)])
        self.mark(call, _FLOAT)
        return call

    def one_value(self, node: ast.AST) -> bool:
        """Whether ``node`` is one value whatever the population's size (names bound to 0-d values only).

        Namespace entries keep their shape (locality never changes), so this
        holds for every later call; names assigned in the function, arguments,
        random draws and user functions do not count as scalars.
        """
        import numpy as np

        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Call):
                if not isinstance(current.func, ast.Name):
                    return False
                func = current.func.id
                if func.startswith("_gop_"):
                    continue  # a global operation is one value
                if not (func.startswith(("_f_", "_as_", "_ipow")) and func not in _NOT_ELEMENTWISE):
                    return False
                stack.extend(current.args)
                if current.keywords:
                    return False
            elif isinstance(current, ast.Name):
                if current.id in self.assigned or current.id in self.args or current.id not in self.namespace:
                    return False
                value = self.namespace[current.id]
                if not (isinstance(value, (int, float, bool, np.generic))
                        or (isinstance(value, np.ndarray) and value.ndim == 0)):
                    return False
            elif isinstance(current, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp)):
                stack.extend(child for child in ast.iter_child_nodes(current) if isinstance(child, ast.expr))
            elif not isinstance(current, ast.Constant):
                return False
        return True

    def call(self, node: ast.Call) -> ast.expr:
        func = cast(ast.Name, node.func).id
        if BUILTIN_FUNCTIONS.get(func[3:], ("",))[0] == "power" and func.startswith("_f_") \
                and len(node.args) == 2 and self.small_power(node.args[1]):
            return self.power(node.args[0], cast(ast.Name, node.args[1]))
        if func in ("_f_where", "_f_ite") and len(node.args) == 3 and self.one_value(node.args[0]):
            return self.branch(node)
        if func == "_f_where":
            kinds = {self.kind(node.args[1]), self.kind(node.args[2])}
            self.mark(node, _FLOAT if _FLOAT in kinds else (kinds.pop() if len(kinds) == 1 else _UNKNOWN))
        elif func in _AS_IS:
            self.mark(node, _AS_IS[func])
        elif func.startswith("_rnd_") or func.startswith("_gop_"):
            self.mark(node, _FLOAT)
        elif func == "_f_ite" and len(node.args) == 3:
            # where() only asks whether the condition is non-zero: a comparison's bools need no doubles
            node.args = node.args[:1] + [self.floated(arg) for arg in node.args[1:]]
            self.mark(node, _FLOAT)
        elif func.startswith("_f_"):
            node.args = [self.floated(arg) for arg in node.args]
            self.mark(node, _FLOAT)
        return node

    def branch(self, node: ast.Call) -> ast.expr:
        """``ite(c, a, b)`` with a scalar condition: ``a if c else b``, evaluating only the branch taken.

        The branches get the kind ``where`` would give their common result
        (doubles if either is a double), so what follows computes the same.
        """
        test, body, orelse = node.args
        kinds = {self.kind(body), self.kind(orelse)}
        if cast(ast.Name, node.func).id == "_f_ite" or _FLOAT in kinds:
            body, orelse, kind = self.floated(body), self.floated(orelse), _FLOAT
        else:
            kind = kinds.pop() if len(kinds) == 1 else _UNKNOWN
        choice = ast.IfExp(test=test, body=body, orelse=orelse)
        self.mark(choice, kind)
        return choice



def _chained(node: ast.AST) -> ast.AST:
    """``node``, or one ``_chain`` call if it tops a left-leaning chain of CHAIN_LIMIT or more operators."""
    if not isinstance(node, ast.BinOp):
        return node
    operands: list[ast.expr] = []
    symbols_: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.BinOp):
        operands.append(current.right)
        symbols_.append(_CHAIN_SYMBOLS[type(current.op)])
        current = current.left
    if len(operands) < CHAIN_LIMIT:
        return node
    operands.append(current)
    return _call("_chain", [ast.Constant(value="".join(reversed(symbols_)))] + operands[::-1])


def _lower_chains(root: ast.AST) -> None:
    """Replace, in place, every long chain of binary operators by a ``_chain`` call (see :func:`_chain`).

    CPython 3.10 and 3.11 compile at most about a thousand nested levels, and a
    flat sum of n terms is n levels deep.  ``_chain`` evaluates the same
    operations in the same order, so results are identical bit for bit.
    """
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        value[index] = _chained(item)
                        stack.append(value[index])
            elif isinstance(value, ast.AST):
                lowered = _chained(value)
                if lowered is not value:
                    setattr(node, name, lowered)
                stack.append(lowered)


@with_headroom
def build_function(
    body: list[ast.stmt],
    namespace: dict[str, Any],
    name: str,
    *,
    args: Sequence[str] = (),
    globals_: Iterable[str] = (),
    dtype: Any = None,
    rewrite: Callable[[list[ast.stmt]], list[ast.stmt]] | None = None,
) -> Callable[..., Any]:
    """Compile generated statements into a function whose globals are ``namespace``.

    The statements are trees built by ratenet from validated input; they are
    compiled as a function body, and the function object is created from the
    resulting code object directly (no ``exec``).  ``globals_`` lists the
    namespace entries the body rebinds.

    Numbers become NumPy scalars of ``dtype`` (float64 by default), bound in
    the namespace: arithmetic then follows C doubles (``1/0`` is ``inf``, not
    an exception) and a float32 network stays in float32.  Bools and ints
    meeting in arithmetic are doubles, as in C (see :class:`_Preparer`).

    ``rewrite``, when given, receives the prepared statements (numbers bound
    as names, a one-value ``ite`` as ``a if c else b``, small powers as
    ``_ipow<n>`` calls) and returns those to compile (learning rules use it:
    see :mod:`ratenet._shortcuts`); the in-place lowering runs after it.
    """
    import numpy as np

    scalar = np.dtype(dtype or np.float64).type
    prepare = _Preparer(namespace, scalar, args)
    body = [cast(ast.stmt, transform(stmt, prepare)) for stmt in (body or [ast.Pass()])]
    if rewrite is not None:
        body = rewrite(body) or [ast.Pass()]
    scratch: dict[str, Any] = {}
    if prepare.binops >= CHAIN_LIMIT:
        for stmt in body:
            _lower_chains(stmt)
    else:
        body = lower_in_place(body, namespace, args, scratch)
    declared = sorted(set(globals_))
    stmts: list[ast.stmt] = ([ast.Global(names=declared)] if declared else []) + body
    # scratch arrays of the in-place statements: keyword-only defaults (fast locals, and not in the namespace)
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in args], vararg=None,
                              kwonlyargs=[ast.arg(arg=name) for name in scratch], kw_defaults=[None] * len(scratch),
                              kwarg=None, defaults=[])
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    fdef = ast.FunctionDef(name="_generated", args=arguments, body=stmts, decorator_list=[], returns=None,
                           **extra)
    module = ast.Module(body=[fdef], type_ignores=[])
    # Positions came from user text and no longer mean anything here.
    set_locations(module)
    if "__builtins__" not in namespace or namespace["__builtins__"] == {}:
        namespace["__builtins__"] = generated_builtins()
    code = compile(module, f"<ratenet {name}>", "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    function = types.FunctionType(fcode, namespace, name)
    if scratch:
        function.__kwdefaults__ = scratch
    function.__doc__ = unparse(module)
    if prepare.binops < CHAIN_LIMIT:  # a chain-lowered body may be too deep to copy
        _BODIES[function] = stmts
    return function


#: The statements of the functions :func:`build_function` compiled (see :func:`generated_body`).
_BODIES: weakref.WeakKeyDictionary[Callable[..., Any], list[ast.stmt]] = weakref.WeakKeyDictionary()


def generated_body(function: Callable[..., Any]) -> list[ast.stmt] | None:
    """A fresh copy of the statements compiled into a function made by :func:`build_function`.

    For callers that put this work straight into generated code of their own
    (the plan's step loop): the statements read the function's globals
    (``function.__globals__``) and its keyword-only scratch arrays
    (``function.__kwdefaults__``).  None for any other function.

    Examples
    --------
    >>> import ast
    >>> body = [ast.parse("y[...] = x + 1.0").body[0]]
    >>> f = build_function(body, {"x": 1.0, "y": None}, "example")
    >>> [ast.unparse(statement) for statement in generated_body(f)]
    ['y[...] = x + _lit_0x1_0000000000000pp0']
    >>> generated_body(len) is None
    True
    """
    try:
        body = _BODIES.get(function)
    except TypeError:  # not weakly referenceable: not one of ours
        return None
    return None if body is None else [cast(ast.stmt, copy_tree(statement)) for statement in body]
