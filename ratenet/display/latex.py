"""Equations typeset in LaTeX, rendered from their syntax trees.

Each definition is shown as its author wrote it (``tau * dr/dt + r =
sum(exc)`` becomes :math:`\\tau \\frac{dr}{dt} + r = \\Sigma_{\\mathrm{exc}}`),
from the tree of the text that was validated when the model was defined.
Nothing is simplified or reordered: a report shows the model that runs.

Conventions
-----------
========================  ====================================================
written                   LaTeX
========================  ====================================================
``dr/dt``                 ``\\frac{dr}{dt}``
``a / b``                 ``\\frac{a}{b}``
``x^2``, ``x**2``         ``x^{2}``
``tau``, ``tau_m``        ``\\tau``, ``\\tau_{m}``
``baseline``, ``v_rest``  ``\\mathit{baseline}``, ``v_{\\mathrm{rest}}``
``sum(exc)``, ``sum()``   ``\\Sigma_{\\mathrm{exc}}``, ``\\Sigma``
``pre.r``, ``post.sum(e)``  ``r^{\\mathrm{pre}}``, ``\\Sigma_{\\mathrm{e}}^{\\mathrm{post}}``
``pos(x)``, ``neg(x)``    ``\\left[x\\right]^{+}``, ``\\left[x\\right]^{-}``
``exp(x)``, ``sqrt(x)``   ``e^{x}`` (or ``\\exp(...)``), ``\\sqrt{x}``
``mean(r)``, ``norm2(r)`` ``\\operatorname{mean}(r)``, ``\\lVert r \\rVert_{2}``
``ite(c, a, b)``          a ``cases`` environment
``Uniform(0, 1)``         ``\\mathcal{U}(0, 1)``
========================  ====================================================

The output uses only ``amsmath`` commands, so it compiles with ``pdflatex``
and renders in MathJax (Jupyter, the HTML reports).
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Iterable

from ..equations import EquationDef, FunctionDef, classify, written_expression, written_form
from ..exceptions import EquationError

__all__ = [
    "name_latex",
    "expression_latex",
    "equation_latex",
    "function_latex",
    "psp_latex",
    "value_latex",
    "escape_text",
]

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi",
    "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
    "Phi", "Psi", "Omega",
}
# Python's keyword 'lambda' cannot be a name; ANNarchy models write 'Lambda' or 'lamda'.
_ALIASES = {"lamda": r"\lambda", "Lambda": r"\Lambda"}

# Precedence of what a rendered piece is, to decide where parentheses go.
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _UNARY, _POW, _ATOM = range(1, 10)

_COMPARE = {ast.Lt: "<", ast.LtE: r"\leq", ast.Gt: ">", ast.GtE: r"\geq", ast.Eq: "=", ast.NotEq: r"\neq",
            ast.Is: "=", ast.IsNot: r"\neq"}
_NAMED_FUNCTIONS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh",
    "asin": r"\arcsin", "acos": r"\arccos", "atan": r"\arctan", "arcsin": r"\arcsin", "arccos": r"\arccos",
    "arctan": r"\arctan", "log": r"\ln", "log10": r"\log_{10}", "log2": r"\log_{2}",
    "max": r"\max", "min": r"\min",
}
_OPERATOR_NAMES = {"sign": "sgn", "atan2": "atan2", "round": "round", "clip": "clip"}
_DISTRIBUTIONS = {"Uniform": r"\mathcal{U}", "Normal": r"\mathcal{N}"}
_ASSIGN = {"=": "=", "+=": r"\mathrel{+}=", "-=": r"\mathrel{-}=", "*=": r"\mathrel{*}=", "/=": r"\mathrel{/}="}
_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape_text(text: str) -> str:
    """Escape text for LaTeX's text mode (``_``, ``%``, ``&``...).

    Examples
    --------
    >>> escape_text("tau_m & 50%")
    'tau\\\\_m \\\\& 50\\\\%'
    """
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in str(text))


def _word(part: str) -> str:
    if part in GREEK:
        return "\\" + part
    if part in _ALIASES:
        return _ALIASES[part]
    if len(part) == 1 or part.isdigit():
        return part
    return r"\mathrm{" + part + "}"


def name_latex(name: str) -> str:
    """A model name as a LaTeX symbol.

    Greek letter names become letters, the part after the first underscore a
    subscript, trailing digits a subscript; other words of several letters
    are set upright (``\\mathit`` for the main symbol) so they do not read as
    products of single letters.

    Examples
    --------
    >>> name_latex("tau"), name_latex("tau_m"), name_latex("v_rest"), name_latex("w2")
    ('\\\\tau', '\\\\tau_{m}', 'v_{\\\\mathrm{rest}}', 'w_{2}')
    >>> name_latex("baseline"), name_latex("dt")
    ('\\\\mathit{baseline}', '\\\\Delta t')
    """
    if name == "dt":
        return r"\Delta t"
    parts = [p for p in name.split("_") if p]
    if not parts:
        return escape_text(name)
    base, subs = parts[0], parts[1:]
    match = re.fullmatch(r"([A-Za-z]+?)(\d+)", base)
    if match:
        base, subs = match.group(1), [match.group(2)] + subs
    if base in GREEK or base in _ALIASES:
        head = _word(base)
    elif len(base) == 1:
        head = base
    else:
        head = r"\mathit{" + base + "}"
    if not subs:
        return head
    return head + "_{" + ",".join(_word(s) for s in subs) + "}"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return r"\mathrm{" + str(value) + "}"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if value == math.pi:
        return r"\pi"
    if value == math.e:
        return "e"
    if value.is_integer() and abs(value) < 1e15:
        text = repr(value)
        return text if "e" not in text else str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = "10^{" + str(int(exponent)) + "}"
        return power if mantissa in ("1", "1.0") else f"{mantissa} \\cdot {power}"
    return text


def value_latex(value: Any) -> str:
    """A parameter value (number, bool or distribution) in LaTeX.

    Examples
    --------
    >>> from ratenet import Uniform
    >>> value_latex(10.0), value_latex(1e-05), value_latex(Uniform(0.0, 0.5))
    ('10.0', '10^{-5}', '\\\\mathcal{U}(0.0, 0.5)')
    """
    if isinstance(value, (bool, int, float)):
        return _number(value)
    params = getattr(value, "_params", None)
    if params is not None:  # a distribution
        name = type(value).__name__
        head = _DISTRIBUTIONS.get(name, r"\operatorname{" + name + "}")
        args = ", ".join(_number(getattr(value, p)) for p in params)
        return f"{head}({args})"
    try:
        return _number(float(value))
    except (TypeError, ValueError):
        return r"\text{" + escape_text(str(value)) + "}"


class _Renderer:
    """One method per syntax node type; each returns (latex, precedence)."""

    def __call__(self, node: ast.AST) -> tuple[str, int]:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return r"\text{" + escape_text(ast.unparse(node)) + "}", _ATOM
        return method(node)

    def wrap(self, node: ast.AST, minimum: int) -> str:
        text, level = self(node)
        return r"\left(" + text + r"\right)" if level < minimum else text

    def visit_Constant(self, node: ast.Constant) -> tuple[str, int]:
        if isinstance(node.value, (bool, int, float)):
            text = _number(node.value)
            return text, (_UNARY if text.startswith("-") else _ATOM)
        return r"\text{" + escape_text(repr(node.value)) + "}", _ATOM

    def visit_Name(self, node: ast.Name) -> tuple[str, int]:
        kind = classify(node.id)
        if kind[0] == "derivative":
            return r"\frac{d" + name_latex(kind[1]) + "}{dt}", _MUL
        if kind[0] in ("sum", "sumall"):
            return _sigma(kind[1] if kind[0] == "sum" else None), _ATOM
        if kind[0] in ("sumpre", "sumpost"):
            return _sigma(kind[1]) + "^{" + _side(kind[0][3:]) + "}", _POW
        if kind[0] in ("pre", "post"):
            return name_latex(kind[1]) + "^{" + _side(kind[0]) + "}", _POW
        if kind[0] in ("global", "globalpre", "globalpost"):
            _, op, var = kind
            inner = name_latex(var)
            if kind[0] != "global":
                inner += "^{" + _side(kind[0][6:]) + "}"
            return _global(op, inner), _ATOM
        if node.id in ("pi",):
            return r"\pi", _ATOM
        if node.id in ("True", "False", "true", "false"):
            return r"\mathrm{" + node.id.capitalize() + "}", _ATOM
        return name_latex(node.id), _ATOM

    def visit_Attribute(self, node: ast.Attribute) -> tuple[str, int]:
        if isinstance(node.value, ast.Name) and node.value.id in ("pre", "post"):
            return name_latex(node.attr) + "^{" + _side(node.value.id) + "}", _POW
        return r"\text{" + escape_text(ast.unparse(node)) + "}", _ATOM

    def visit_BinOp(self, node: ast.BinOp) -> tuple[str, int]:
        op = node.op
        if isinstance(op, ast.Add):
            return f"{self.wrap(node.left, _ADD)} + {self.wrap(node.right, _MUL)}", _ADD
        if isinstance(op, ast.Sub):
            return f"{self.wrap(node.left, _ADD)} - {self.wrap(node.right, _MUL)}", _ADD
        if isinstance(op, ast.Mult):
            left = self.wrap(node.left, _MUL)
            right, level = self(node.right)
            if level < _MUL or level == _UNARY:  # a * (b + c), a * (-b)
                right = r"\left(" + right + r"\right)"
            joint = r" \cdot " if right[:1].isdigit() or right.startswith(("-", r"\left(-")) else r" \, "
            return left + joint + right, _MUL
        if isinstance(op, ast.Div):
            return r"\frac{" + self(node.left)[0] + "}{" + self(node.right)[0] + "}", _MUL
        if isinstance(op, (ast.Pow, ast.BitXor)):
            return self._power(node.left, node.right)
        return r"\text{" + escape_text(ast.unparse(node)) + "}", _ATOM

    def _power(self, base: ast.AST, exponent: ast.AST) -> tuple[str, int]:
        return self.wrap(base, _ATOM) + "^{" + self(exponent)[0] + "}", _POW

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, int]:
        if isinstance(node.op, ast.USub):
            return "-" + self.wrap(node.operand, _UNARY), _UNARY
        if isinstance(node.op, ast.UAdd):
            return "+" + self.wrap(node.operand, _UNARY), _UNARY
        if isinstance(node.op, ast.Not):
            return r"\neg " + self.wrap(node.operand, _POW), _NOT
        return r"\text{" + escape_text(ast.unparse(node)) + "}", _ATOM

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[str, int]:
        level = _AND if isinstance(node.op, ast.And) else _OR
        joint = r" \wedge " if level == _AND else r" \vee "
        return joint.join(self.wrap(v, level + 1) for v in node.values), level

    def visit_Compare(self, node: ast.Compare) -> tuple[str, int]:
        parts = [self.wrap(node.left, _ADD)]
        for op, right in zip(node.ops, node.comparators):
            parts.append(_COMPARE.get(type(op), "?"))
            parts.append(self.wrap(right, _ADD))
        return " ".join(parts), _CMP

    def visit_IfExp(self, node: ast.IfExp) -> tuple[str, int]:
        return self._cases([(node.test, node.body)], node.orelse)

    def _cases(self, branches: list[tuple[ast.AST, ast.AST]], otherwise: ast.AST) -> tuple[str, int]:
        # a conditional in the 'else' branch continues the list of cases
        while True:
            if isinstance(otherwise, ast.IfExp):
                branches.append((otherwise.test, otherwise.body))
                otherwise = otherwise.orelse
            elif isinstance(otherwise, ast.Call) and _call_name(otherwise) in ("ite", "_f_ite", "_f_where") \
                    and len(otherwise.args) == 3:
                branches.append((otherwise.args[0], otherwise.args[1]))
                otherwise = otherwise.args[2]
            else:
                break
        rows = [self(body)[0] + r" & \text{if } " + self(test)[0] for test, body in branches]
        rows.append(self(otherwise)[0] + r" & \text{otherwise}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}", _ATOM

    def visit_Call(self, node: ast.Call) -> tuple[str, int]:
        func = node.func
        args = node.args
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr == "sum":
            target = args[0].id if args and isinstance(args[0], ast.Name) else None
            return _sigma(target) + "^{" + _side(func.value.id) + "}", _POW
        name = _call_name(node)
        if name is None:
            return r"\text{" + escape_text(ast.unparse(node)) + "}", _ATOM
        for prefix in ("_f_", "_u_", "_rnd_"):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if name == "sum":
            target = args[0].id if args and isinstance(args[0], ast.Name) else None
            return _sigma(target), _ATOM
        if name in ("mean", "max", "min", "norm1", "norm2") and len(args) == 1:
            return _global(name, self(args[0])[0]), _ATOM
        if name in ("ite", "where") and len(args) == 3:
            return self._cases([(args[0], args[1])], args[2])
        if name in ("logical_and", "logical_or"):
            level = _AND if name == "logical_and" else _OR
            joint = r" \wedge " if level == _AND else r" \vee "
            return joint.join(self.wrap(a, level + 1) for a in args), level
        if name == "logical_not" and len(args) == 1:
            return r"\neg " + self.wrap(args[0], _POW), _NOT
        rendered = [self(a)[0] for a in args]
        if name in ("pos", "positive") and len(args) == 1:
            return r"\left[" + rendered[0] + r"\right]^{+}", _POW
        if name in ("neg", "negative") and len(args) == 1:
            return r"\left[" + rendered[0] + r"\right]^{-}", _POW
        if name == "sqrt" and len(args) == 1:
            return r"\sqrt{" + rendered[0] + "}", _ATOM
        if name in ("abs", "fabs") and len(args) == 1:
            return r"\left|" + rendered[0] + r"\right|", _ATOM
        if name == "floor" and len(args) == 1:
            return r"\left\lfloor " + rendered[0] + r" \right\rfloor", _ATOM
        if name == "ceil" and len(args) == 1:
            return r"\left\lceil " + rendered[0] + r" \right\rceil", _ATOM
        if name == "heaviside" and len(args) == 1:
            return r"\Theta\left(" + rendered[0] + r"\right)", _ATOM
        if name in ("power", "pow") and len(args) == 2:
            return self._power(args[0], args[1])
        if name in ("modulo", "fmod") and len(args) == 2:
            return f"{self.wrap(args[0], _POW)} \\bmod {self.wrap(args[1], _POW)}", _MUL
        if name == "exp" and len(args) == 1:
            inner, _ = self(args[0])
            if len(inner) <= 16 and r"\frac" not in inner and "^" not in inner:
                return "e^{" + inner + "}", _POW
            return r"\exp\left(" + inner + r"\right)", _ATOM
        joined = ", ".join(rendered)
        if name in _NAMED_FUNCTIONS:
            return _NAMED_FUNCTIONS[name] + r"\left(" + joined + r"\right)", _ATOM
        if name in _DISTRIBUTIONS:
            return _DISTRIBUTIONS[name] + r"\left(" + joined + r"\right)", _ATOM
        if name in _OPERATOR_NAMES:
            return r"\operatorname{" + _OPERATOR_NAMES[name] + r"}\left(" + joined + r"\right)", _ATOM
        head = name_latex(name) if len(name) == 1 else r"\operatorname{" + escape_text(name) + "}"
        return head + r"\left(" + joined + r"\right)", _ATOM


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _side(side: str) -> str:
    return r"\mathrm{" + side + "}"


def _sigma(target: str | None) -> str:
    if target is None:
        return r"\Sigma"
    return r"\Sigma_{\mathrm{" + escape_text(target) + "}}"


def _global(op: str, inner: str) -> str:
    if op in ("norm1", "norm2"):
        return r"\lVert " + inner + r" \rVert_{" + op[-1] + "}"
    if op in ("max", "min"):
        return "\\" + op + r"\left(" + inner + r"\right)"
    return r"\operatorname{" + op + r"}\left(" + inner + r"\right)"


def expression_latex(tree: ast.AST) -> str:
    """A syntax tree (as written, or as resolved by the parser) in LaTeX.

    Examples
    --------
    >>> import ast
    >>> expression_latex(ast.parse("(I - r) / tau", mode="eval").body)
    '\\\\frac{I - r}{\\\\tau}'
    >>> expression_latex(ast.parse("eta * pre.r * post.r", mode="eval").body)
    '\\\\eta \\\\, r^{\\\\mathrm{pre}} \\\\, r^{\\\\mathrm{post}}'
    """
    return _Renderer()(tree)[0]


def equation_latex(eq: EquationDef) -> str:
    """One equation of a model, as written, in LaTeX (flags left out).

    Falls back to the parsed form (``dx/dt`` solved) if the text cannot be
    read again.

    Examples
    --------
    >>> from ratenet import Neuron
    >>> n = Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) : min=0.0")
    >>> equation_latex(n.equations[0])
    '\\\\tau \\\\, \\\\frac{dr}{dt} + r = \\\\Sigma_{\\\\mathrm{exc}}'
    """
    render = _Renderer()
    try:
        left, op, right = written_form(eq)
        return f"{render(left)[0]} {_ASSIGN.get(op, '=')} {render(right)[0]}"
    except (EquationError, SyntaxError, ValueError):
        target = name_latex(eq.target)
        lhs = r"\frac{d" + target + "}{dt}" if eq.kind == "ode" else target
        return f"{lhs} {_ASSIGN.get(eq.op, '=')} {render(eq.rhs)[0]}"


def function_latex(function: FunctionDef) -> str:
    """A user function ``f(x) = ...`` in LaTeX.

    Examples
    --------
    >>> from ratenet.equations import parse_functions
    >>> function_latex(parse_functions("sigmoid(x) = 1.0 / (1.0 + exp(-x))")["sigmoid"])
    '\\\\operatorname{sigmoid}\\\\left(x\\\\right) = \\\\frac{1.0}{1.0 + e^{-x}}'
    """
    render = _Renderer()
    try:
        left, _, right = written_form(function)
        return f"{render(left)[0]} = {render(right)[0]}"
    except (EquationError, SyntaxError, ValueError):
        head = render(ast.Call(func=ast.Name(id=function.name), args=[ast.Name(id=a) for a in function.args],
                               keywords=[]))[0]
        return f"{head} = {render(function.body)[0]}"


def psp_latex(text: str) -> str:
    """A synapse's ``psp`` (or any expression text) in LaTeX.

    Examples
    --------
    >>> psp_latex("w * pre.r")
    'w \\\\, r^{\\\\mathrm{pre}}'
    """
    try:
        return expression_latex(written_expression(text))
    except (EquationError, SyntaxError, ValueError):
        return r"\text{" + escape_text(text) + "}"


def equations_latex(equations: Iterable[EquationDef]) -> list[str]:
    """Every equation of a model, in order (see :func:`equation_latex`)."""
    return [equation_latex(eq) for eq in equations]
