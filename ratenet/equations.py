"""The equation language: text -> validated records -> NumPy code.

This module is pure: it knows nothing about populations or networks.  It turns
``parameters``/``equations``/``functions`` strings into :class:`ParameterDef`
and :class:`EquationDef` records whose right-hand sides are *validated* Python
syntax trees, and it turns those trees into Python functions that run as
vectorized NumPy.

Safety
------
User text is parsed with :func:`ast.parse` and checked against an allowlist:
numbers, names, arithmetic, comparisons, ``and``/``or``/``not``, conditionals
and calls of known functions with positional arguments.  Every other node is
rejected with an :class:`~ratenet.exceptions.EquationError` that quotes the
line and points at the column.  The code that finally runs is compiled from a
tree that ratenet *rebuilt* from the validated one, with empty builtins; no user
text ever reaches :func:`eval` or :func:`exec`.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import keyword
import math
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from .exceptions import EquationError
from .random import DISTRIBUTIONS

__all__ = [
    "METHODS",
    "ParameterDef",
    "EquationDef",
    "FunctionDef",
    "Scope",
    "parse_parameters",
    "parse_equations",
    "parse_functions",
    "parse_condition",
    "linear_split",
    "written_form",
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
#: Deeper trees than this are refused: they are never written by hand and
#: would otherwise exhaust Python's recursion limit inside the parser.
MAX_DEPTH = 300
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


@dataclass(frozen=True)
class Source:
    """Where a definition came from, for error messages."""

    text: str
    where: str  # e.g. "equations, line 2"

    def error(self, message: str, column: int | None = None, hint: str | None = None) -> EquationError:
        return EquationError(message, text=self.text, column=column, owner=self.where, hint=hint)


@dataclass(frozen=True)
class ParameterDef:
    """One parameter: ``name = value : flags``.

    ``value`` is a number, a bool, or a :class:`~ratenet.random.Distribution`.
    ``locality`` is ``"local"`` (one value per neuron or synapse),
    ``"population"`` (neurons), ``"postsynaptic"`` or ``"projection"``
    (synapses).
    """

    name: str
    value: Any
    locality: str = "local"
    dtype: str = "float"
    source: Source | None = None


@dataclass(frozen=True)
class EquationDef:
    """One equation, with its right-hand side already validated.

    For an assignment (``kind == "assign"``), ``rhs`` is the assigned
    expression and ``op`` one of ``=``, ``+=``, ``-=``, ``*=``, ``/=``.  For an
    ODE (``kind == "ode"``), ``rhs`` is the derivative ``dx/dt`` solved from
    the equation as written.
    """

    target: str
    kind: str
    rhs: ast.expr
    op: str = "="
    method: str = "explicit"
    init: Any = None
    min: Any = None
    max: Any = None
    locality: str = "local"
    dtype: str = "float"
    source: Source | None = None

    @property
    def text(self) -> str:
        return self.source.text if self.source else ast.unparse(self.rhs)


@dataclass(frozen=True)
class FunctionDef:
    """A user function ``name(x, y) = expression``.

    ``callees`` holds the user functions its body calls, so a function carries
    everything it needs to run.
    """

    name: str
    args: tuple[str, ...]
    body: ast.expr
    source: Source | None = None
    callees: tuple["FunctionDef", ...] = field(default=(), compare=False, repr=False)

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.args):
            raise TypeError(f"{self.name}() takes {len(self.args)} argument(s) ({len(values)} given)")
        return self.compiled()(*values)

    def compiled(self) -> Callable[..., Any]:
        """The function as vectorized NumPy code (built once, on first use)."""
        cached = self.__dict__.get("_compiled")
        if cached is None:
            namespace = numpy_namespace()
            namespace.update(user_function_namespace(self.callees))
            cached = build_function([ast.Return(value=self.body)], namespace, f"function {self.name}",
                                    args=self.args)
            object.__setattr__(self, "_compiled", cached)
        return cached


@dataclass
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

    kind: str = "neuron"
    locals: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, FunctionDef] = field(default_factory=dict)
    constants: Iterable[str] = ()
    args: tuple[str, ...] = ()

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
# splitting text into logical lines, definitions and flags

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DERIVATIVE = re.compile(r"(?<![\w.])d([A-Za-z][A-Za-z0-9_]*)\s*/\s*dt(?![\w])")


@dataclass
class _Scan:
    """State of a left-to-right scan that understands ``if c: a else: b``."""

    flags_colon: int | None = None
    pending: list[str] = field(default_factory=list)
    depth: int = 0
    #: the text ends right after the colon of an ``if``/``else``: its branch is on the next line
    open_branch: bool = False


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
        elif (ch.isalpha() or ch == "_") and ch.isascii():
            match = _IDENT.match(text, i)
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


def _logical_lines(text: str, where: str) -> list[tuple[str, str]]:
    """Split text into (logical line, location) pairs.

    Comments and blank lines go; a line continues while a bracket is open or an
    ``if ...:``/``else:`` form is unfinished, so the multi-line conditional
    reads as one definition.
    """
    if not isinstance(text, str):
        raise EquationError(f"{where} must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise EquationError(f"{where} is longer than {MAX_LENGTH} characters")
    out: list[tuple[str, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.isascii():
            column = next(i for i, ch in enumerate(line) if not ch.isascii())
            raise EquationError(f"non-ASCII character {line[column]!r}: names and operators must be ASCII",
                                text=line, column=column, owner=f"{where}, line {number}")
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


@dataclass(frozen=True)
class _Flag:
    name: str
    value: ast.expr | None
    column: int


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


def _parse_expression(line: str, start: int, end: int, source: Source) -> ast.expr:
    """Parse ``line[start:end]`` into a tree whose columns index ``line``.

    ANNarchy's ``if c: a else: b`` is turned into Python's conditional here,
    with each part parsed where it stands.
    """
    piece = line[start:end]
    if not piece.strip():
        raise source.error("expected an expression", min(start, max(len(line) - 1, 0)))
    stripped_start = start + len(piece) - len(piece.lstrip())
    if re.match(r"if\b", line[stripped_start:end]):
        return _parse_conditional(line, stripped_start, end, source)
    # ANNarchy writes powers as x^2; Python's '^' binds looser than '+', so
    # rewrite it to '**' before parsing and map the columns back afterwards.
    # Caret k sits at carets[k] in the line and at carets[k] + k in the rewritten text.
    shifted = [start + i + k for k, i in enumerate(i for i, ch in enumerate(piece) if ch == "^")]
    code = piece.replace("^", "**")

    def original(column: int) -> int:
        return column - bisect.bisect_left(shifted, column)

    try:
        # Parentheses let the piece keep its columns: pad with spaces up to it.
        tree = ast.parse("(" + " " * start + code + "\n)", mode="eval")
    except SyntaxError as exc:
        message = exc.msg
        first = start + len(piece) - len(piece.lstrip())
        if "nested" in message:
            message, column = "expression too deeply nested", first
        elif "never closed" in message:
            column = _unclosed_bracket(line, start, end)
            message = f"syntax error: {message}"
        else:
            column = original(exc.offset - 2) if exc.lineno == 1 and exc.offset else end
            message = f"syntax error: {message}"
        raise source.error(message, max(min(column, len(line)), 0)) from None
    except (RecursionError, MemoryError):
        raise source.error("expression too deeply nested", start + len(piece) - len(piece.lstrip())) from None
    body = tree.body
    for node in ast.walk(body):
        if hasattr(node, "col_offset"):
            node.col_offset = original(node.col_offset - 1)
            if getattr(node, "end_col_offset", None) is not None:
                node.end_col_offset = original(node.end_col_offset - 1)
    _check_depth(body, source)
    return body


def _unclosed_bracket(line: str, start: int, end: int) -> int:
    stack = []
    for i in range(start, end):
        if line[i] in "([{":
            stack.append(i)
        elif line[i] in ")]}" and stack:
            stack.pop()
    return stack[-1] if stack else start


def _parse_conditional(line: str, start: int, end: int, source: Source) -> ast.expr:
    """Parse ``if cond: a else: b`` (``start`` points at ``if``).

    Conditionals nested in ``a`` (ANNarchy's or Python's form) are skipped by
    counting their ``if``/``else`` pairs; one in ``b`` is parsed recursively.
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
        elif depth == 0 and (ch.isalpha() or ch == "_") and ch.isascii():
            word = _IDENT.match(text, i).group()
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
    test = _parse_expression(line, start + 2, colon, source)
    body = _parse_expression(line, colon + 1, else_at, source)
    orelse = _parse_expression(line, else_colon + 1, end, source)
    node = ast.IfExp(test=test, body=body, orelse=orelse)
    node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = 1, start, 1, end
    return node


def _check_depth(tree: ast.AST, source: Source) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise source.error(
                f"expression too deeply nested (more than {MAX_DEPTH} levels)", getattr(node, "col_offset", 0)
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


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
            raise self.fail(node, f"'{name}' is not available in functions: pass it as an argument")
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
        close = difflib.get_close_matches(name, [k for k in self.scope.known() if k != name], n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else None
        return self.fail(node, f"unknown name '{name}'", hint)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        op = type(node.op)
        if op not in _BINOPS:
            hint = _BINOP_HINTS.get(op)
            symbol = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
                      ast.LShift: "<<", ast.RShift: ">>"}.get(op, op.__name__)
            raise self.source.error(f"the operator '{symbol}' is not allowed",
                                    self._operator_column(node, symbol), hint)
        new_op = ast.Pow() if op is ast.BitXor else op()
        return ast.BinOp(left=self(node.left), op=new_op, right=self(node.right))

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
        values = [self(v) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = _call(func, [result, value])
        return result

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        operands = [self(node.left)] + [self(c) for c in node.comparators]
        parts = []
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if not isinstance(op, _COMPARE):
                word = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}.get(type(op), "?")
                raise self.fail(node, f"the comparison '{word}' is not allowed", "use <, <=, >, >=, == or !=")
            parts.append(ast.Compare(left=left, ops=[type(op)()], comparators=[right]))
        result = parts[0]
        for part in parts[1:]:
            result = _call("_f_logical_and", [result, part])
        return result

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
            return _call(f"_rnd_{name}", [self(a) for a in node.args])
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
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise self.fail(node, "sum() takes one target name, e.g. sum(exc)")
        target = node.args[0].id
        if target.startswith("_"):
            raise self.fail(node.args[0], f"names starting with '_' are reserved (got '{target}')")
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


# ---------------------------------------------------------------------------
# algebra on resolved trees


class NonLinear(Exception):
    """Raised by :func:`linear_split` when the symbol does not appear linearly."""


ONE = ast.Constant(value=1.0)


def _is_zero(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value == 0)


def _is_one(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)


def add(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if _is_zero(a):
        return b
    if _is_zero(b):
        return a
    if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub):
        return ast.BinOp(left=a, op=ast.Sub(), right=b.operand)
    return ast.BinOp(left=a, op=ast.Add(), right=b)


def sub(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if _is_zero(b):
        return a
    if _is_zero(a):
        return neg(b)
    return ast.BinOp(left=a, op=ast.Sub(), right=b)


def neg(a: ast.expr | None) -> ast.expr | None:
    if _is_zero(a):
        return None
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub):
        return a.operand
    if isinstance(a, ast.BinOp) and isinstance(a.op, ast.Sub):
        return ast.BinOp(left=a.right, op=ast.Sub(), right=a.left)
    if isinstance(a, ast.Constant) and not isinstance(a.value, bool):
        return ast.Constant(value=-a.value)
    return ast.UnaryOp(op=ast.USub(), operand=a)


def mul(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if _is_zero(a) or _is_zero(b):
        return None
    if _is_one(a):
        return b
    if _is_one(b):
        return a
    return ast.BinOp(left=a, op=ast.Mult(), right=b)


def div(a: ast.expr | None, b: ast.expr) -> ast.expr | None:
    if _is_zero(a):
        return None
    if _is_one(b):
        return a
    return ast.BinOp(left=a, op=ast.Div(), right=b)


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
    if not _contains(node, name):
        return None, node
    if isinstance(node, ast.Name):
        return ONE, None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        a, b = linear_split(node.operand, name)
        return (neg(a), neg(b)) if isinstance(node.op, ast.USub) else (a, b)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            a1, b1 = linear_split(node.left, name)
            a2, b2 = linear_split(node.right, name)
            if isinstance(node.op, ast.Add):
                return add(a1, a2), add(b1, b2)
            return sub(a1, a2), sub(b1, b2)
        if isinstance(node.op, ast.Mult):
            if not _contains(node.left, name):
                a, b = linear_split(node.right, name)
                return mul(node.left, a), mul(node.left, b)
            if not _contains(node.right, name):
                a, b = linear_split(node.left, name)
                return mul(a, node.right), mul(b, node.right)
        if isinstance(node.op, ast.Div) and not _contains(node.right, name):
            a, b = linear_split(node.left, name)
            return div(a, node.right), div(b, node.right)
    raise NonLinear(name)


def additive_terms(node: ast.expr, name: str | None = None) -> list[ast.expr]:
    """Split a sum into its terms (signs folded into the terms).

    With ``name``, products and quotients by factors free of ``name`` are
    distributed too: ``(a - x) / tau`` gives ``a / tau`` and ``-x / tau``.
    """
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return additive_terms(node.left, name) + additive_terms(node.right, name)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        return additive_terms(node.left, name) + [neg(t) for t in additive_terms(node.right, name)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [neg(t) for t in additive_terms(node.operand, name)]
    if name is not None and isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div) and not _contains(node.right, name):
            return [div(t, node.right) for t in additive_terms(node.left, name)]
        if isinstance(node.op, ast.Mult) and not _contains(node.left, name):
            return [mul(node.left, t) for t in additive_terms(node.right, name)]
        if isinstance(node.op, ast.Mult) and not _contains(node.right, name):
            return [mul(t, node.right) for t in additive_terms(node.left, name)]
    return [node]


def substitute(node: ast.expr, mapping: Mapping[str, ast.expr]) -> ast.expr:
    """Copy of ``node`` with the named symbols replaced by trees."""

    class _Sub(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.AST:
            return mapping[n.id] if n.id in mapping else n

    import copy

    return _Sub().visit(copy.deepcopy(node))


# ---------------------------------------------------------------------------
# parsing definitions


def _check_new_name(name: str, column: int, source: Source, kind: str) -> None:
    if not _IDENT.fullmatch(name):
        raise source.error(f"'{name}' is not a valid name", column)
    if name.startswith("_"):
        raise source.error(f"names starting with '_' are reserved (got '{name}')", column)
    if keyword.iskeyword(name) or name in _RESERVED:
        raise source.error(f"'{name}' is reserved and cannot be used as {_article(kind)} name", column)
    if name in BUILTIN_FUNCTIONS or name in GLOBAL_OPERATIONS or name in DISTRIBUTIONS:
        raise source.error(f"'{name}' is a built-in function and cannot be used as {_article(kind)} name", column)


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _flag_error(flag: _Flag, allowed: Sequence[str], source: Source, what: str) -> EquationError:
    close = difflib.get_close_matches(flag.name, allowed, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else "known flags: " + ", ".join(allowed)
    return source.error(f"unknown flag '{flag.name}' for {what}", flag.column, hint)


def _describe_node(node: ast.AST) -> str:
    """How to name a syntax node in a message."""
    if isinstance(node, ast.Constant):
        return "a string" if isinstance(node.value, (str, bytes)) else f"the constant {node.value!r}"
    extra = {ast.Call: "a function call", ast.Compare: "a comparison", ast.BoolOp: "'and'/'or'",
             ast.IfExp: "a conditional", ast.UnaryOp: "this operator", ast.BinOp: "this operator",
             ast.Name: "a name"}
    return _NODE_NAMES.get(type(node)) or extra.get(type(node), type(node).__name__)


def constant_value(tree: ast.expr, source: Source, constants: Mapping[str, float] | None = None) -> Any:
    """Evaluate a constant expression (numbers, + - * / **, pi, e, constants).

    Used for parameter values and flag values; a distribution call returns a
    :class:`~ratenet.random.Distribution`.  Nothing here calls ``eval``.
    """
    constants = dict(constants or {})

    def value(node: ast.expr) -> Any:
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
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = value(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = value(node.left), value(node.right)
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
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DISTRIBUTIONS:
            if node.keywords:
                raise source.error("keyword arguments are not allowed here", node.keywords[0].col_offset)
            cls, low, high = DISTRIBUTIONS[node.func.id]
            if not low <= len(node.args) <= high:
                raise source.error(f"{node.func.id}() takes {low} to {high} arguments", node.col_offset)
            args = [value(a) for a in node.args]
            try:
                return cls(*args)
            except ValueError as exc:
                raise source.error(str(exc), node.col_offset) from None
        what = _describe_node(node)
        raise source.error(f"{what} is not allowed in a value", getattr(node, "col_offset", 0),
                           "values must be numbers, True/False or distributions")

    return value(tree)


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
        One ``name = value : flags`` per line, or ``{name: value}``.
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
    """
    from .random import Distribution

    if text is None:
        return []
    if isinstance(text, Mapping):
        result = []
        for name, value in text.items():
            source = Source(f"{name} = {value!r}", where)
            _check_new_name(str(name), 0, source, "parameter")
            if not isinstance(value, (bool, int, float, Distribution)):
                raise source.error(f"the value of '{name}' must be a number, a bool or a distribution")
            result.append(ParameterDef(str(name), value, "local", _dtype_of(value), source))
        return result
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
        if dtype == "bool" and not (isinstance(value, bool) or value in (0.0, 1.0)):
            value_at = eq + 1 + len(body[eq + 1:]) - len(body[eq + 1:].lstrip())
            raise source.error(f"the bool parameter '{name}' needs True, False, 0 or 1", value_at)
        if dtype == "bool":
            value = bool(value)
        if dtype == "int" and isinstance(value, float) and value != int(value):
            value_at = eq + 1 + len(body[eq + 1:]) - len(body[eq + 1:].lstrip())
            raise source.error(f"the int parameter '{name}' needs a whole number", value_at)
        if isinstance(value, bool) and dtype == "float":
            value = float(value)
        result.append(ParameterDef(name, value, locality, dtype, source))
    return result


def _dtype_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "float"


def _derivative_spans(text: str) -> tuple[str, dict[int, str], list[tuple[int, str]]]:
    """Replace each ``dx/dt`` by a same-width placeholder ``_dx_``."""
    spans: list[tuple[int, str]] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        placeholder = f"_d{name}_"
        spans.append((match.start(), name))
        return placeholder.ljust(len(match.group()))

    replaced = _DERIVATIVE.sub(repl, text)
    mapping = {col: f"_d{name}_" for col, name in spans}
    return replaced, mapping, spans


def parse_equations(
    text: str | Sequence[str] | None,
    scope: Scope,
    *,
    where: str = "equations",
) -> list[EquationDef]:
    """Parse an ``equations`` string into validated records.

    Parameters
    ----------
    text : str, list of str or None
        One definition per (logical) line.
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
    if not isinstance(text, str):
        text = "\n".join(text)
    lines = _logical_lines(text, where)
    # First pass: find every variable so right-hand sides may use any of them.
    parsed = []
    variables: dict[str, str] = {}
    allowed_locality = _LOCALITY_FLAGS.get(scope.kind, ())
    for line, label in lines:
        source = Source(line, label)
        body, flags_text, flags_at = _split_flags(line)
        replaced, placeholders, spans = _derivative_spans(body)
        found = _find_assignment(replaced)
        if found is None:
            raise source.error("expected 'x = expression' or an ODE such as 'tau * dx/dt + x = I'",
                               len(body.rstrip()))
        flags = _parse_flags(flags_text, flags_at, source)
        locality = "local"
        for flag in flags:
            if flag.name in allowed_locality and flag.value is None:
                locality = flag.name
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
        parsed.append((source, replaced, placeholders, found, flags, kind, target, locality,
                       spans[0][0] if spans else 0))

    inner = Scope(scope.kind, {**scope.locals, **variables}, scope.functions, scope.constants, scope.args)
    equations: list[EquationDef] = []
    for source, replaced, placeholders, found, flags, kind, target, locality, deriv_at in parsed:
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
                a, b = linear_split(sub(lhs, rhs), symbol)
            except NonLinear:
                raise source.error(f"d{target}/dt must appear linearly (e.g. tau * d{target}/dt + {target} = I)",
                                   deriv_at) from None
            if _is_zero(a):
                raise source.error(f"d{target}/dt cancels out of this equation", deriv_at)
            rhs = div(neg(b), a) if b is not None else ast.Constant(value=0.0)
            if rhs is None:
                rhs = ast.Constant(value=0.0)
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
            elif flag.name == "method":
                shown = flag.value.id if isinstance(flag.value, ast.Name) else ast.unparse(flag.value)
                close = difflib.get_close_matches(shown, METHODS, n=1)
                raise source.error(f"unknown method '{shown}'", flag.value.col_offset,
                                   f"did you mean '{close[0]}'?" if close else "methods: " + ", ".join(METHODS))
            else:
                raise _flag_error(flag, list(METHODS) + list(allowed_locality) + list(_TYPE_FLAGS)
                                  + ["init=", "min=", "max="], source, "an equation")
        if kind == "ode" and options["dtype"] != "float":
            raise source.error(f"an ODE variable cannot have the '{options['dtype']}' flag",
                               columns.get(options["dtype"], 0))
        if kind == "assign" and options["method"] != "explicit":
            raise source.error(f"the method '{options['method']}' only applies to ODEs", columns.get("method", 0))
        equations.append(EquationDef(target, kind, rhs, op if kind == "assign" else "=", options["method"],
                                     options["init"], options["min"], options["max"], locality,
                                     options["dtype"], source))
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


def _flag_value(flag: _Flag, scope: Scope, source: Source) -> Any:
    node = flag.value
    if isinstance(node, ast.Name) and node.id not in ("pi", "e", "true", "false"):
        if node.id in scope.locals or node.id in scope.constants:
            return node.id
        close = difflib.get_close_matches(node.id, list(scope.locals) + list(scope.constants), n=1)
        raise source.error(f"unknown name '{node.id}' in the flag '{flag.name}'", node.col_offset,
                           f"did you mean '{close[0]}'?" if close else None)
    value = constant_value(node, source)
    from .random import Distribution

    if isinstance(value, Distribution) and flag.name != "init":
        raise source.error(f"the flag '{flag.name}' needs a number", node.col_offset)
    return value


def parse_functions(
    text: str | None,
    *,
    where: str = "functions",
    known: Mapping[str, FunctionDef] | None = None,
    constants: Iterable[str] = (),
) -> dict[str, FunctionDef]:
    """Parse ``name(x, y) = expression`` lines into user functions.

    Later functions may call earlier ones (and ``known`` ones).

    Examples
    --------
    >>> f = parse_functions("sigmoid(x) = 1.0 / (1.0 + exp(-x))")["sigmoid"]
    >>> round(float(f(0.0)), 3)
    0.5
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
        args = tuple(a.strip() for a in head_match.group(2).split(",") if a.strip())
        for arg in args:
            _check_new_name(arg, body.index(arg), source, "argument")
        if len(set(args)) != len(args):
            raise source.error(f"the function '{name}' repeats an argument name", head_match.start(2))
        scope = Scope("function", {}, result, constants, args)
        tree = resolve(_parse_expression(line, found[0] + 1, len(body), source), scope, source)
        fdef = FunctionDef(name, args, tree, source, tuple(called_functions([tree], result)))
        result[name] = fdef
        new[name] = fdef
    return new


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
        raise EquationError(f"{where} must be one condition", text=text)
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


# ---------------------------------------------------------------------------
# code generation


def numpy_namespace() -> dict[str, Any]:
    """The namespace every generated function starts from.

    It holds only NumPy functions under internal names and an empty
    ``__builtins__``: generated code can reach nothing else.
    """
    import numpy as np

    ns: dict[str, Any] = {"__builtins__": {}}
    for name, (target, _) in BUILTIN_FUNCTIONS.items():
        ns[f"_f_{name}"] = _HELPERS[target] if target.startswith("_") else getattr(np, target)
    ns["_f_where"] = np.where
    ns["_f_logical_and"] = np.logical_and
    ns["_f_logical_or"] = np.logical_or
    ns["_f_logical_not"] = np.logical_not
    ns["_np_clip"] = np.clip
    ns["_np_maximum"] = np.maximum
    ns["_np_minimum"] = np.minimum
    ns["_np_copyto"] = np.copyto
    ns["_np_multiply"] = np.multiply
    ns["_np_add"] = np.add
    ns["_np_exp"] = np.exp
    ns["_expm1_ratio"] = expm1_ratio
    ns["_gop_mean"] = np.mean
    ns["_gop_max"] = np.max
    ns["_gop_min"] = np.min
    ns["_gop_norm1"] = lambda x: np.sum(np.abs(x))
    ns["_gop_norm2"] = lambda x: np.sqrt(np.sum(np.square(x)))
    return ns


def user_function_namespace(functions: Iterable[FunctionDef]) -> dict[str, Any]:
    """Bind user functions under the symbols generated code calls them by."""
    return {f"_u_{f.name}": f.compiled() for f in functions}


def called_functions(trees: Iterable[ast.AST], functions: Mapping[str, FunctionDef]) -> list[FunctionDef]:
    """The user functions (from ``functions``) that the trees call directly."""
    names = {n.id[3:] for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.startswith("_u_")}
    return [functions[name] for name in sorted(names)]


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


_HELPERS = {"_pos": _pos, "_neg": _neg, "_heaviside": _heaviside, "_round": _round}


def expm1_ratio(a: Any, dt: float) -> Any:
    """``(exp(a*dt) - 1) / a``, equal to ``dt`` where ``a == 0``.

    The exponential method advances ``dx/dt = a*x + b`` exactly over one step:
    ``x += f(x) * expm1_ratio(a, dt)``.

    Examples
    --------
    >>> round(float(expm1_ratio(-0.1, 1.0)), 6), float(expm1_ratio(0.0, 2.0))
    (0.951626, 2.0)
    """
    import numpy as np

    z = np.asarray(a, dtype=float)
    if z.ndim == 0:
        av = float(z)
        return math.expm1(av * dt) / av if av != 0.0 else dt
    safe = np.where(z == 0.0, 1.0, z)
    return np.where(z == 0.0, dt, np.expm1(z * dt) / safe)


def build_function(
    body: list[ast.stmt],
    namespace: dict[str, Any],
    name: str,
    *,
    args: Sequence[str] = (),
    globals_: Iterable[str] = (),
    dtype: Any = None,
) -> Callable[..., Any]:
    """Compile generated statements into a function whose globals are ``namespace``.

    The statements are trees built by ratenet from validated input; they are
    compiled as a function body, and the function object is created from the
    resulting code object directly (no ``exec``).  ``globals_`` lists the
    namespace entries the body rebinds.

    Numbers become NumPy scalars of ``dtype`` (float64 by default), bound in
    the namespace: arithmetic then follows C doubles (``1/0`` is ``inf``, not
    an exception) and a float32 network stays in float32.
    """
    import copy

    import numpy as np

    scalar = np.dtype(dtype or np.float64).type
    literals: dict[float, str] = {}

    class _Literals(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return node
            symbol = literals.get(value)
            if symbol is None:
                # Named by the value itself, so functions sharing a namespace agree on it.
                text = float(value).hex().replace("-", "m").replace("+", "p").replace(".", "_")
                symbol = literals[value] = f"_lit_{text}"
                namespace[symbol] = scalar(value)
            return ast.Name(id=symbol, ctx=ast.Load())

    body = [_Literals().visit(copy.deepcopy(stmt)) for stmt in (body or [ast.Pass()])]
    declared = sorted(set(globals_))
    stmts: list[ast.stmt] = ([ast.Global(names=declared)] if declared else []) + body
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in args], vararg=None, kwonlyargs=[],
                              kw_defaults=[], kwarg=None, defaults=[])
    extra = {"type_params": []} if sys.version_info >= (3, 12) else {}
    fdef = ast.FunctionDef(name="_generated", args=arguments, body=stmts, decorator_list=[], returns=None,
                           **extra)
    module = ast.Module(body=[fdef], type_ignores=[])
    # Positions came from user text and no longer mean anything here.
    for node in ast.walk(module):
        if "lineno" in node._attributes:
            node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = 1, 0, 1, 0
    namespace.setdefault("__builtins__", {})
    code = compile(module, f"<ratenet {name}>", "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    function = types.FunctionType(fcode, namespace, name)
    function.__doc__ = ast.unparse(module)
    return function
