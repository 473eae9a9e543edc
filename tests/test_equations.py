"""Tests of the equation language (ratenet.equations) and of the update code (ratenet._codegen).

Every numerical expectation is computed here, by hand or with NumPy/math, never
with ratenet itself.  Sections:

1. valid forms: parsed records, ODE forms, ``^``, conditionals, built-in functions;
2. invalid forms at the parser level: exception type, message and caret column;
3. malicious strings given straight to the parser functions;
4. one step of every integration method, block semantics and clamps.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

import ratenet
from ratenet import EquationError, Network, Neuron
from ratenet.equations import (
    BUILTIN_FUNCTIONS,
    METHODS,
    MAX_DEPTH,
    MAX_LENGTH,
    NonLinear,
    Scope,
    build_function,
    linear_split,
    numpy_namespace,
    parse_condition,
    parse_equations,
    parse_functions,
    parse_parameters,
)
from ratenet.random import Distribution, Normal, Uniform

from _messages import assert_sealed_builtins, caret, check_caret, concise  # noqa: E402 - tests/ is on the path


@pytest.fixture(autouse=True)
def _fresh_globals():
    """Constants and add_function() entries are global: start and end each test clean."""
    ratenet.clear()
    yield
    ratenet.clear()


# ---------------------------------------------------------------------------
# helpers


def scope_of(*names: str, kind: str = "neuron", **localities: str) -> Scope:
    locals_ = {name: "local" for name in names}
    locals_.update(localities)
    return Scope(kind, locals_)


def evaluate(tree: ast.expr, **values):
    """Run a resolved right-hand side with the given values bound to its names."""
    namespace = numpy_namespace()
    namespace.update(values)
    with concise():
        return build_function([ast.Return(value=tree)], namespace, "test")()


def expression(text: str, **values):
    """Value of ``text`` as the right-hand side of an assignment."""
    scope = scope_of(*values)
    with concise():
        (eq,) = parse_equations(f"out = {text}", scope)
    assert eq.kind == "assign"
    return evaluate(eq.rhs, **values)




# ===========================================================================
# 1. valid forms


LINEAR_FORMS = [
    "tau*dr/dt + r = I",
    "dr/dt = (I-r)/tau",
    "tau*dr/dt = -r + I",
    "dr/dt + r/tau = I/tau",
    "tau * dr / dt + r = I",
    "dr/dt * tau = I - r",
    "-tau*dr/dt = r - I",
    "(tau*dr/dt + r)/2 = I/2",
    "2*(tau*dr/dt + r) = 2*I",
    "tau*dr/dt + r - I = 0",
    "0 = I - r - tau*dr/dt",
    "dr/dt = I/tau - r/tau",
    "tau*(dr/dt) = I - r",
]


@pytest.mark.parametrize("text", LINEAR_FORMS)
def test_linear_ode_forms_give_the_same_derivative(text):
    tau = np.array([2.0, 5.0, 0.5])
    I = np.array([1.0, -3.0, 0.25])
    r = np.array([0.5, 2.0, -1.0])
    (eq,) = parse_equations(text, scope_of("tau", "I"))
    assert (eq.target, eq.kind, eq.op, eq.method) == ("r", "ode", "=", "explicit")
    got = evaluate(eq.rhs, tau=tau, I=I, r=r)
    np.testing.assert_allclose(got, (I - r) / tau, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("text, reference", [
    ("dv/dt = -v*v + a", lambda v, a, b: -v * v + a),
    ("b*dv/dt = exp(-v) - a", lambda v, a, b: (np.exp(-v) - a) / b),
    ("dv/dt + v^3 = a", lambda v, a, b: a - v ** 3),
    ("a*dv/dt + b*v = a*b", lambda v, a, b: (a * b - b * v) / a),
    ("dv/dt = 0", lambda v, a, b: 0.0 * v),
    ("dv/dt = t", lambda v, a, b: 0.0 * v + 0.75),
])
def test_nonlinear_in_the_variable_but_linear_in_the_derivative(text, reference):
    v = np.array([0.3, -1.2, 2.0])
    a = np.array([1.5, 2.0, -0.5])
    b = np.array([2.0, 4.0, 3.0])
    (eq,) = parse_equations(text, scope_of("a", "b"))
    assert eq.kind == "ode" and eq.target == "v"
    got = evaluate(eq.rhs, v=v, a=a, b=b, t=0.75, dt=0.1)
    np.testing.assert_allclose(got, reference(v, a, b), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2^2*3", 13),
    ("2^3^2", 512),
    ("(2^3)^2", 64),
    ("2^-1", 0.5),
    ("-2^2", -4),
    ("2*3^2", 18),
    ("2^2 + 3^2", 13),
    ("10 - 2^3", 2),
    ("2**3", 8),
    ("8 / 2 / 2", 2),
    ("7 - 3 - 2", 2),
    ("1 + 2 * 3 - 4 / 2", 5),
    ("(1 + 2) * 3", 9),
    ("+3", 3),
    ("--3", 3),
    ("1.5e2", 150.0),
    ("pi", math.pi),
    ("e", math.e),
    ("2*pi", 2 * math.pi),
    ("True", 1),
    ("3 > 2", True),
    ("1 < 2 < 3", True),
    ("3 < 2 < 4", False),
    ("1 == 1.0", True),
    ("1 != 1", False),
    ("2 >= 2 and 1 <= 0", False),
    ("2 >= 2 or 1 <= 0", True),
    ("not 0", True),
])
def test_constant_expressions(text, expected):
    assert np.asarray(expression(text)).item() == pytest.approx(expected, rel=1e-15)


def test_caret_power_on_arrays_follows_python_precedence():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(expression("1 + x^2*3", x=x), 1 + x ** 2 * 3)
    np.testing.assert_allclose(expression("-x^2", x=x), -(x ** 2))
    np.testing.assert_allclose(expression("x^x^0.5", x=x), x ** (x ** 0.5))


@pytest.mark.parametrize("text", [
    "if c > 0: a else: b",
    "if c > 0 : a else : b",
    "if (c > 0): (a) else: (b)",
    "a if c > 0 else b",
    "ite(c > 0, a, b)",
    "(a if c > 0 else b)",
])
def test_conditionals(text):
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([-1.0, -2.0, -3.0, -4.0])
    c = np.array([1.0, -1.0, 0.0, 2.0])
    np.testing.assert_array_equal(expression(text, a=a, b=b, c=c), np.where(c > 0, a, b))


@pytest.mark.parametrize("text", [
    "if c > 0: 1 else: if c < 0: 2 else: 3",
    "ite(c > 0, 1, ite(c < 0, 2, 3))",
    "1 if c > 0 else (2 if c < 0 else 3)",
    "1 if c > 0 else 2 if c < 0 else 3",
])
def test_nested_conditionals_in_the_else_branch(text):
    c = np.array([1.0, -1.0, 0.0])
    np.testing.assert_array_equal(expression(text, c=c), [1, 2, 3])


def test_nested_conditional_in_the_then_branch():
    """BUG: an ANNarchy conditional nested in the *then* branch is refused.

    ``if c > 0: if d > 0: 1 else: 2 else: 3`` raises "'if cond: a' needs an
    'else: b' part": the colon of the inner ``if`` is taken for the end of the
    pending one, so the inner ``else`` is paired with the outer ``if``.
    """
    c = np.array([1.0, 1.0, -1.0, -1.0])
    d = np.array([1.0, -1.0, 1.0, -1.0])
    got = expression("if c > 0: if d > 0: 1 else: 2 else: 3", c=c, d=d)
    np.testing.assert_array_equal(got, [1, 2, 3, 3])


def test_multi_line_conditional_with_flags_after_the_last_line():
    text = """
        r = if I > 0:
                2.0 * I
            else:
                -1.0 : min=-0.5, max=3.0
        q = r + 1
    """
    eqs = parse_equations(text, scope_of("I"))
    assert [e.target for e in eqs] == ["r", "q"]
    r = eqs[0]
    assert (r.kind, r.min, r.max, r.init) == ("assign", -0.5, 3.0, None)
    assert r.source.where == "equations, lines 2-5"
    assert eqs[1].source.where == "equations, line 6"
    I = np.array([1.0, 0.0, -2.0])
    np.testing.assert_array_equal(evaluate(r.rhs, I=I), np.where(I > 0, 2.0 * I, -1.0))


@pytest.mark.parametrize("text, flags", [
    ("r = if I > 0: 1 else: 2 : init=3", dict(init=3)),
    ("r = 1 if I > 0 else 2 : min=0", dict(min=0)),
    ("r = if I > 0: 1 else: if I < -1: 2 else: 3 : max=5", dict(max=5)),
    ("r = ite(I > 0, 1, 2) : max=pi", dict(max=math.pi)),
    ("r = if I > 0: 1 else: 2  # a comment: with a colon", {}),
])
def test_flags_after_conditionals(text, flags):
    (eq,) = parse_equations(text, scope_of("I"))
    for name in ("init", "min", "max"):
        assert getattr(eq, name) == flags.get(name)


def _fmod(a, b):
    return np.fmod(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


X = np.array([-2.5, -1.0, -0.25, 0.0, 0.5, 1.5, 2.5])
POS = np.array([0.1, 0.5, 1.0, 2.0, 7.5])
UNIT = np.array([-0.9, -0.5, 0.0, 0.3, 0.99])

#: name -> (arguments, reference computed with numpy/math)
BUILTIN_REFERENCES = {
    "exp": ((X,), np.exp(X)),
    "log": ((POS,), np.log(POS)),
    "log10": ((POS,), np.log10(POS)),
    "log2": ((POS,), np.log2(POS)),
    "sqrt": ((POS,), np.sqrt(POS)),
    "abs": ((X,), np.abs(X)),
    "fabs": ((X,), np.abs(X)),
    "sin": ((X,), np.sin(X)),
    "cos": ((X,), np.cos(X)),
    "tan": ((X,), np.tan(X)),
    "asin": ((UNIT,), np.arcsin(UNIT)),
    "acos": ((UNIT,), np.arccos(UNIT)),
    "atan": ((X,), np.arctan(X)),
    "arcsin": ((UNIT,), np.arcsin(UNIT)),
    "arccos": ((UNIT,), np.arccos(UNIT)),
    "arctan": ((X,), np.arctan(X)),
    "atan2": ((X, X[::-1]), np.arctan2(X, X[::-1])),
    "sinh": ((X,), np.sinh(X)),
    "cosh": ((X,), np.cosh(X)),
    "tanh": ((X,), np.tanh(X)),
    "floor": ((X,), np.array([-3.0, -1.0, -1.0, 0.0, 0.0, 1.0, 2.0])),
    "ceil": ((X,), np.array([-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, 3.0])),
    "sign": ((X,), np.array([-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0])),
    "pos": ((X,), np.array([0.0, 0.0, 0.0, 0.0, 0.5, 1.5, 2.5])),
    "positive": ((X,), np.array([0.0, 0.0, 0.0, 0.0, 0.5, 1.5, 2.5])),
    "neg": ((X,), np.array([-2.5, -1.0, -0.25, 0.0, 0.0, 0.0, 0.0])),
    "negative": ((X,), np.array([-2.5, -1.0, -0.25, 0.0, 0.0, 0.0, 0.0])),
    "heaviside": ((X,), np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])),
    "clip": ((X, -1.0, 1.0), np.array([-1.0, -1.0, -0.25, 0.0, 0.5, 1.0, 1.0])),
    "power": ((POS, 2.5), POS ** 2.5),
    "pow": ((X, 3.0), X ** 3),
    # C fmod: the result has the sign of the dividend
    "modulo": ((np.array([7.0, -7.0, 7.0, -7.0, 5.5]), np.array([3.0, 3.0, -3.0, -3.0, 2.0])),
               np.array([1.0, -1.0, 1.0, -1.0, 1.5])),
    "fmod": ((np.array([7.0, -7.0, 7.0, -7.0, 5.5]), np.array([3.0, 3.0, -3.0, -3.0, 2.0])),
             np.array([1.0, -1.0, 1.0, -1.0, 1.5])),
    "ite": ((X > 0, X, -X), np.abs(X)),
    "max": ((X, X[::-1]), np.maximum(X, X[::-1])),
    "min": ((X, X[::-1]), np.minimum(X, X[::-1])),
    # C's round(): halves away from zero (ANNarchy compiles to C++)
    "round": ((X,), np.array([-3.0, -1.0, -0.0, 0.0, 1.0, 2.0, 3.0])),
}


def test_every_builtin_function_has_a_reference():
    assert set(BUILTIN_REFERENCES) == set(BUILTIN_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(BUILTIN_FUNCTIONS))
def test_builtin_functions_against_numpy(name):
    args, reference = BUILTIN_REFERENCES[name]
    values = {f"a{i}": np.asarray(a) if isinstance(a, np.ndarray) else a for i, a in enumerate(args)}
    call = f"{name}({', '.join(values)})"
    got = expression(call, **values)
    np.testing.assert_allclose(np.asarray(got, dtype=float), reference, rtol=1e-14, atol=0)


@pytest.mark.parametrize("text, expected", [
    ("modulo(-7, 3)", -1.0),
    ("modulo(7, -3)", 1.0),
    ("modulo(7.5, 2)", 1.5),
    ("power(2, 10)", 1024.0),
    ("power(2, 0.5)", math.sqrt(2)),
    ("clip(5, 0, 1)", 1.0),
    ("clip(-5, 0, 1)", 0.0),
    ("pos(-3)", 0.0),
    ("neg(-3)", -3.0),
    ("heaviside(0)", 0.0),
    ("ite(0, 1, 2)", 2.0),
])
def test_builtin_functions_on_numbers(text, expected):
    assert float(expression(text)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("args", [(1.0, 16.86, math.nan), (1.0, math.nan, 2.0), (math.nan, 0.0, 1.0),
                                  (3.0, 0.0, math.nan), (-3.0, math.nan, math.nan)])
@pytest.mark.parametrize("shape", [(), (4,)])
def test_clip_gives_nan_when_any_argument_is_nan_on_every_numpy(args, shape):
    """numpy < 2's own ``clip`` returns the other bound for a NaN bound (``clip(1, 16.86, nan)`` is 16.86)."""
    x, lo, hi = args
    got = np.asarray(expression("clip(x, lo, hi)", x=np.full(shape, x), lo=lo, hi=hi))
    assert got.shape == shape
    assert np.isnan(got).all()


def test_a_clamped_variable_with_a_nan_bound_becomes_nan_as_clip_gives():
    net = Network()
    net.allow_nonfinite = True
    pop = net.create(3, Neuron(parameters="hi = 2.0 : population", equations="r = clip(dt, 16.86, hi)"))
    net.step()
    assert pop.r.tolist() == [2.0] * 3  # lo > hi: min(max(x, lo), hi), the upper bound
    pop.hi = math.nan
    net.step()
    assert np.isnan(pop.r).all()


@pytest.mark.parametrize("text, expected", [
    ("power(2, -1)", 0.5),
    ("power(4, -2)", 0.0625),
    ("modulo(7, 0)", math.nan),
])
def test_integer_literals_follow_c_double_semantics(text, expected):
    """BUG: integer literals are computed with integer NumPy semantics.

    ``power(2, -1)`` raises "ValueError: Integers to negative integer powers
    are not allowed." at run time (C's pow gives 0.5; the same happens with an
    ``int`` parameter: ``power(n, -1)``), and ``modulo(7, 0)`` gives 0 with a
    RuntimeWarning where C's fmod gives NaN.
    """
    got = float(expression(text))
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-15)


def test_sum_and_global_operations_are_rewritten_to_symbols():
    (eq,) = parse_equations("r = sum(exc) - sum(inh) + sum() + mean(v) + max(v) + min(v) + norm1(v) + norm2(v)"
                            " + max(v, 1) + min(1, v)", scope_of("v"))
    text = ast.unparse(eq.rhs)
    for symbol in ("_sum_exc", "_sum_inh", "_sumall", "_g_mean_v", "_g_max_v", "_g_min_v", "_g_norm1_v",
                   "_g_norm2_v", "_f_max(v, 1.0)", "_f_min(1.0, v)"):
        assert symbol in text


@pytest.mark.parametrize("text, op, expected", [
    ("x = 1", "=", 1.0),
    ("x += 2", "+=", 2.0),
    ("x -= 3", "-=", 3.0),
    ("x *= 4", "*=", 4.0),
    ("x /= 5", "/=", 5.0),
])
def test_compound_assignments(text, op, expected):
    (eq,) = parse_equations(text, Scope())
    assert (eq.target, eq.kind, eq.op) == ("x", "assign", op)
    assert evaluate(eq.rhs) == expected


def test_equation_records():
    text = """
        # a comment line, then a blank line

        tau * dr/dt + r = I : init=0.5, min=0.0, max=rmax, exponential  # trailing comment
        dg/dt = 1 : population, rk4
        n = r > 0 : int
        b = r > 0 : bool
        m = 2 : population
        x += 1 : init = 1.0 , min = -1
        dy/dt = -y : method=midpoint, init=-2^2
    """
    eqs = parse_equations(text, scope_of("tau", "I", "rmax"))
    got = [(e.target, e.kind, e.op, e.method, e.init, e.min, e.max, e.locality, e.dtype) for e in eqs]
    assert got == [
        ("r", "ode", "=", "exponential", 0.5, 0.0, "rmax", "local", "float"),
        ("g", "ode", "=", "rk4", None, None, None, "population", "float"),
        ("n", "assign", "=", "explicit", None, None, None, "local", "int"),
        ("b", "assign", "=", "explicit", None, None, None, "local", "bool"),
        ("m", "assign", "=", "explicit", None, None, None, "population", "float"),
        ("x", "assign", "+=", "explicit", 1.0, -1, None, "local", "float"),
        ("y", "ode", "=", "midpoint", -4, None, None, "local", "float"),
    ]
    assert [e.source.where for e in eqs] == [f"equations, line {n}" for n in (4, 5, 6, 7, 8, 9, 10)]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_flag_is_recorded(method):
    (eq,) = parse_equations(f"tau*dr/dt + r = 1 : {method}", scope_of("tau"))
    assert eq.method == method


def test_equations_may_use_variables_defined_later_and_lists_of_lines():
    eqs = parse_equations(["a = b + 1", "b = 2  # comment"], Scope())
    assert [e.target for e in eqs] == ["a", "b"]


def test_windows_line_endings_and_tabs():
    eqs = parse_equations("a = 1\r\n\tb = a\t# c\r\n", Scope())
    assert [e.target for e in eqs] == ["a", "b"]


def test_brackets_continue_a_definition_over_lines():
    (eq,) = parse_equations("r = (1 +\n     2) : min=0", Scope())
    assert evaluate(eq.rhs) == 3 and eq.min == 0 and eq.source.where == "equations, lines 1-2"


def test_parameter_records():
    params = parse_parameters("""
        tau = 10.0 : population      # shared
        n = 3 : int
        flag = True : bool
        off = false
        u = Uniform(0, 1)
        q = Normal(0, 1) : population
        k = 2 : population, int
        two_pi = 2*pi
        small = -1e-3
    """)
    got = {p.name: (p.locality, p.dtype) for p in params}
    assert got == {
        "tau": ("population", "float"), "n": ("local", "int"), "flag": ("local", "bool"),
        "off": ("local", "bool"), "u": ("local", "float"), "q": ("population", "float"),
        "k": ("population", "int"), "two_pi": ("local", "float"), "small": ("local", "float"),
    }
    values = {p.name: p.value for p in params}
    assert values["tau"] == 10.0 and values["n"] == 3 and values["flag"] is True and values["off"] is False
    assert values["two_pi"] == pytest.approx(2 * math.pi) and values["small"] == -1e-3
    assert isinstance(values["u"], Uniform) and isinstance(values["q"], Normal)
    assert isinstance(values["u"], Distribution)


def test_parameters_from_a_mapping():
    params = parse_parameters({"tau": 10.0, "flag": True})
    assert [(p.name, p.value, p.dtype) for p in params] == [("tau", 10.0, "float"), ("flag", True, "bool")]


def test_synapse_parameter_localities():
    params = parse_parameters("eta = 0.1 : projection\ntheta = 1 : postsynaptic", kind="synapse")
    assert [p.locality for p in params] == ["projection", "postsynaptic"]


def test_user_functions_parse_and_call():
    fns = parse_functions("""
        sq(x) = x^2
        f(x, y) = sq(x) + y   # calls an earlier one
        zero() = 0
    """)
    assert set(fns) == {"sq", "f", "zero"}
    assert fns["f"].args == ("x", "y")
    np.testing.assert_allclose(fns["f"](np.array([1.0, 2.0, 3.0]), 0.5), [1.5, 4.5, 9.5])
    assert fns["zero"]() == 0
    with pytest.raises(TypeError, match="takes 2 argument"):
        fns["f"](1.0)


def test_user_functions_in_equations():
    fns = parse_functions("sigmoid(x) = 1 / (1 + exp(-x))")
    (eq,) = parse_equations("r = sigmoid(v)", Scope("neuron", {"v": "local"}, fns))
    v = np.array([-1.0, 0.0, 2.0])
    namespace = {"_u_sigmoid": fns["sigmoid"].compiled()}
    np.testing.assert_allclose(evaluate(eq.rhs, v=v, **namespace), 1 / (1 + np.exp(-v)), rtol=1e-15)


def test_stop_condition():
    tree, mode = parse_condition("r > 1.0 and r < 3 : any", scope_of("r"))
    assert mode == "any"
    np.testing.assert_array_equal(evaluate(tree, r=np.array([0.0, 2.0, 4.0])), [False, True, False])
    assert parse_condition("r > 1", scope_of("r"))[1] == "all"


def test_linear_split():
    tree = ast.parse("(I - x) / tau + 2*x", mode="eval").body
    a, b = linear_split(tree, "x")
    assert evaluate(a, tau=4.0) == pytest.approx(-1 / 4 + 2)
    assert evaluate(b, I=3.0, tau=4.0) == pytest.approx(3 / 4)
    for text in ("x*x", "exp(x)", "1/x", "x**2"):
        with pytest.raises(NonLinear):
            linear_split(ast.parse(text, mode="eval").body, "x")


# ===========================================================================
# 2. invalid forms at the parser level


INVALID_EQUATIONS = [
    # (text, locals, message regex, caret token, other accepted tokens)
    ("r = tua * I", ("tau", "I"), r"unknown name 'tua'; did you mean 'tau'\?", "tua", ()),
    ("r = exq(I)", ("I",), r"unknown name 'exq'; did you mean 'exp'\?", "exq", ()),
    ("r = tanhh(I)", ("I",), r"unknown name 'tanhh'; did you mean 'tanh'\?", "tanhh", ()),
    ("r = Normall(0, 1)", (), r"unknown name 'Normall'; did you mean 'Normal'\?", "Normall", ()),
    ("r = 2^3 + tua", ("tau",), r"unknown name 'tua'", "tua", ()),
    ("r = 1^2^3^4^5 + I^2 + tua^2", ("tau", "I"), r"unknown name 'tua'", "tua", ()),
    ("r = 2^(3^tua)", ("tau",), r"unknown name 'tua'", "tua", ()),
    ("r = zzzz", (), r"equations, line 1: unknown name 'zzzz'\n", "zzzz", ()),
    ("r = 1 : explict", (), r"unknown flag 'explict' for an equation; did you mean 'explicit'\?", "explict", ()),
    ("dr/dt = 1 : rk", (), r"unknown flag 'rk' for an equation; did you mean 'rk4'\?", "rk", ()),
    ("dr/dt = 1 : semi-implicit", (), r"did you mean 'semiimplicit'\?", "semi", ()),
    ("dr/dt = 1 : mni=0", (), r"unknown flag 'mni'.*did you mean 'min='\?", "mni", ()),
    ("r = 1 : zzz", (), r"unknown flag 'zzz' for an equation; known flags: explicit, implicit", "zzz", ()),
    ("dr/dt + dv/dt = 1", (), r"an equation may contain only one derivative", "dv/dt", ()),
    ("dr/dt = r*dr/dt", (), r"only one derivative", ("dr/dt", 1), ()),
    ("r / dr/dt = 1", (), r"dr/dt must appear linearly \(e\.g\. tau \* dr/dt \+ r = I\)", "dr/dt", (0,)),
    ("exp(dr/dt) = 1", (), r"dr/dt must appear linearly", "dr/dt", (0,)),
    ("dr/dt^2 = 1", (), r"dr/dt must appear linearly", "dr/dt", (0,)),
    ("0*dr/dt = 1", (), r"dr/dt cancels out of this equation", "dr/dt", (0,)),
    ("dr/dt += 1", (), r"an ODE is written with '=', not '\+='", "+=", ()),
    ("r + 1 = 2", (), r"the left-hand side must be a variable name", "r", ()),
    ("dr/dt = 1\ndr/dt = 2", (), r"line 2: the variable 'r' has two ODEs", "dr/dt", ()),
    ("t = 1", (), r"'t' is reserved and cannot be used as a variable name", "t", ()),
    ("dt = 1", (), r"'dt' is reserved", "dt", ()),
    ("pi = 1", (), r"'pi' is reserved", "pi", ()),
    ("e = 1", (), r"'e' is reserved", "e", ()),
    ("sum = 1", (), r"'sum' is reserved", "sum", ()),
    ("dpi/dt = 1", (), r"'pi' is reserved", "pi", ()),
    ("dexp/dt = 1", (), r"'exp' is a built-in function and cannot be used as a variable name", "exp", ()),
    ("mean = 1", (), r"'mean' is a built-in function", "mean", ()),
    ("Normal = 1", (), r"'Normal' is a built-in function", "Normal", ()),
    ("_x = 1", (), r"names starting with '_' are reserved \(got '_x'\)", "_x", ()),
    ("r = _y", (), r"names starting with '_' are reserved \(got '_y'\)", "_y", ()),
    ("r = _f_exp(1)", (), r"names starting with '_' are reserved \(got '_f_exp'\)", "_f_exp", ()),
    ("r = sum(_a)", (), r"names starting with '_' are reserved \(got '_a'\)", "_a", ()),
    ("lambda = 1", (), r"'lambda' is reserved", "lambda", ()),
    ("r = exp(x=1)", (), r"keyword arguments are not allowed in equations; pass arguments by position", ("x", 1), ()),
    ("r = sum(target=exc)", (), r"keyword arguments are not allowed", "exc", ("target",)),
    ("r = exp(*I)", ("I",), r"starred arguments are not allowed in equations", "*I", ()),
    ("r = I % 2", ("I",), r"the operator '%' is not allowed; use modulo\(a, b\)", "I", ("%",)),
    ("r = I // 2", ("I",), r"the operator '//' is not allowed; use floor\(a / b\)", "I", ("//",)),
    ("r = I & 2", ("I",), r"the operator '&' is not allowed; use 'and'", "I", ("&",)),
    ("r = I | 2", ("I",), r"the operator '\|' is not allowed; use 'or'", "I", ("|",)),
    ("r = I << 2", ("I",), r"the operator '<<' is not allowed; shifts", "I", ("<<",)),
    ("r = I >> 2", ("I",), r"the operator '>>' is not allowed; shifts", "I", (">>",)),
    ("r = I @ I", ("I",), r"the operator '@' is not allowed; matrix products", "I", ("@",)),
    ("r = ~I", ("I",), r"the operator '~' is not allowed; use 'not'", "~", ()),
    ("r = I in I", ("I",), r"the comparison 'in' is not allowed; use <, <=, >, >=, == or !=", "I", ("in",)),
    ("r = I not in I", ("I",), r"the comparison 'not in' is not allowed", "I", ("not",)),
    ("r = exp(1, 2)", (), r"exp\(\) takes 1 argument\(s\), got 2", "exp", ()),
    ("r = clip(1, 2)", (), r"clip\(\) takes 3 argument\(s\), got 2", "clip", ()),
    ("r = ite(1, 2)", (), r"ite\(\) takes 3 argument\(s\), got 2", "ite", ()),
    ("r = modulo(1)", (), r"modulo\(\) takes 2 argument\(s\), got 1", "modulo", ()),
    ("r = power(2)", (), r"power\(\) takes 2 argument\(s\), got 1", "power", ()),
    ("r = atan2(1)", (), r"atan2\(\) takes 2 argument\(s\), got 1", "atan2", ()),
    ("r = Normal(1)", (), r"Normal\(\) takes 2 to 4 arguments, got 1", "Normal", ()),
    ("r = Uniform(0, 1, 2)", (), r"Uniform\(\) takes 2 arguments, got 3", "Uniform", ()),
    ("r = max(1)", (), r"max\(\) with one argument is a global operation and needs a variable name; "
                       r"for an elementwise max use max\(a, b\)", "max", ()),
    ("r = min(1)", (), r"min\(\) with one argument is a global operation", "min", ()),
    ("r = max(1, 2, 3)", (), r"max\(\) takes 1 argument \(a variable: global operation\) or 2 \(elementwise\), "
                             r"got 3", "max", ()),
    ("r = max()", (), r"max\(\) takes 1 argument .* got 0", "max", ()),
    ("r = mean(1)", (), r"mean\(\) takes one variable name\n", "mean", ()),
    ("r = mean()", (), r"mean\(\) takes one variable name, got 0 arguments", "mean", ()),
    ("r = norm2(I, I)", ("I",), r"norm2\(\) takes one variable name, got 2 arguments", "norm2", ()),
    ("r = mean(q)", (), r"unknown name 'q'", "q", ()),
    ("r = sum(1)", (), r"'1' is not a target name: a target is a name of letters, digits and '_' that does not "
                       r"start with a digit; e\.g\. sum\(exc\)", "1", ()),
    ("r = sum(a-b)", (), r"'a-b' is not a target name", "a", ()),
    ("r = sum(pre.r)", (), r"'pre\.r' is not a target name", "pre", ()),
    ("r = sum(a, b)", (), r"sum\(\) takes one target name", "sum", ()),
    ("r = exp", (), r"'exp' is a function: call it, e\.g\. exp\(x\)", "exp", ()),
    ("r = Normal + 1", (), r"'Normal' is a function: call it", "Normal", ()),
    ("r = 'abc'", (), r"strings are not allowed in equations", "'abc'", ()),
    ("r = b'abc'", (), r"the constant b'abc' is not allowed in equations", "b'abc'", ()),
    ("r = 1j", (), r"the constant 1j is not allowed", "1j", ()),
    ("r = None", (), r"the constant None is not allowed", "None", ()),
    ("r = ...", (), r"the constant Ellipsis is not allowed", "...", ()),
    ("r = 1e400", (), r"numbers must be finite", "1e400", ()),
    ("r = 1 + 1e999 - 1e999", (), r"numbers must be finite", "1e999", ()),
    ("r = pre.r", (), r"'pre\.r' is only available in synapse equations", "pre", ()),
    ("r = I.real", ("I",), r"attribute access is not allowed in equations", "I", ()),
    ("r = I[0]", ("I",), r"indexing is not allowed in equations", "I", ()),
    ("r = [1]", (), r"a list is not allowed in equations", "[", ()),
    ("r = (1, 2)", (), r"a tuple is not allowed in equations", "(", ("1",)),
    ("r = {1: 2}", (), r"a dictionary is not allowed in equations", "{", ()),
    ("r = {1}", (), r"a set is not allowed in equations", "{", ()),
    ("r = exp(lambda: 1)", (), r"a lambda is not allowed in equations", "lambda", ()),
    ("r = exp(x for x in I)", ("I",), r"a generator expression is not allowed in equations", "(", ("x",)),
    ("r = [x for x in I]", ("I",), r"a comprehension is not allowed in equations", "[", ()),
    ("r = (y := 1)", (), r"':=' assignment is not allowed in equations", "y", ()),
    ("r = f'{I}'", ("I",), r"a string is not allowed in equations", "f", ()),
    ("r = await I", ("I",), r"await is not allowed in equations", "await", ()),
    ("r = exp(r)(1)", (), r"only named functions can be called in equations", "exp", ()),
    ("r = (1", (), r"syntax error: '\(' was never closed", "(", ()),
    ("r = 1 +", (), r"syntax error: invalid syntax", 7, ()),
    ("r = (1; 2)", (), r"syntax error", ";", ()),
    ("r =", (), r"expected an expression", "=", (3,)),
    ("r", (), r"expected 'x = expression' or an ODE such as 'tau \* dx/dt \+ x = I'", 1, ()),
    ("r = if I > 0: 1", ("I",), r"'if cond: a' needs an 'else: b' part", "if", ()),
    ("r = if I > 0 1 else 2", ("I",), r"'if' needs a ':' after its condition", "if", ()),
    ("r = 1 : init", (), r"the flag 'init' needs a value, e\.g\. init=0\.0", "init", ()),
    ("r = 1 : max=1, max", (), r"the flag 'max' is given twice", ("max", 1), ()),
    ("r = 1 : max", (), r"the flag 'max' needs a value", "max", ()),
    ("r = 1 : population=1", (), r"the flag 'population' takes no value", "population", ()),
    ("r = 1 : rk4=1", (), r"the flag 'rk4' takes no value", "rk4", ()),
    ("dr/dt = 1 : int", (), r"an ODE variable cannot have the 'int' flag", 0, ("int",)),
    ("r = 1 : rk4", (), r"the method 'rk4' only applies to ODEs", 0, ("rk4",)),
    ("r = 1 : init=qq", (), r"unknown name 'qq' in the flag 'init'\n", "qq", ()),
    ("r = 1 : min=rmn", ("rmin",), r"unknown name 'rmn' in the flag 'min'; did you mean 'rmin'\?", "rmn", ()),
    ("r = 1 : min=Normal(0, 1)", (), r"the flag 'min' needs a number or an expression of parameters and "
                                     r"variables, not a random draw", "Normal", ()),
    ("r = 1 : init=exp(1)", (), r"a function call is not allowed in a value", "exp", ()),
    ("r = 1 : ", (), r"empty flags after ':'", ":", ()),
    ("r = 1 : a,,b", (), r"empty flag between commas", (",", 1), ()),
]


@pytest.mark.parametrize("text, names, message, token, also", INVALID_EQUATIONS,
                         ids=[c[0] for c in INVALID_EQUATIONS])
def test_invalid_equations(text, names, message, token, also):
    with pytest.raises(EquationError, match=message) as info:
        parse_equations(text, scope_of(*names))
    quoted_text = text.splitlines()[-1] if "line 2" in str(info.value) else text.splitlines()[0]
    check_caret(info.value, quoted_text.strip(), token, also=also)


INVALID_PARAMETERS = [
    ("a == 1", r"expected 'name = value'", 6, ("=",)),
    ("a", r"expected 'name = value'", 1, ()),
    ("a += 1", r"expected 'name = value'", "+", ("=",)),
    ("a = 1\na = 2", r"line 2: the parameter 'a' is defined twice", "a", ()),
    ("t = 1", r"'t' is reserved and cannot be used as a parameter name", "t", ()),
    ("for = 1", r"'for' is reserved", "for", ()),
    ("_a = 1", r"names starting with '_' are reserved", "_a", ()),
    ("exp = 1", r"'exp' is a built-in function and cannot be used as a parameter name", "exp", ()),
    ("a = b", r"unknown name 'b' in a value; values must be numbers, True/False or distributions", "b", ()),
    ("a = exp(1)", r"is not allowed in a value", "exp", ()),
    ("a = 1/0", r"this value divides by zero", "1", ()),
    ("a = 2 * (1/0)", r"this value divides by zero", "1", ()),
    ("a = 10.0**400", r"this value is too large", "10.0", ()),
    ("a = (-1)**0.5", r"this value is not a finite real number", "(", ("-",)),
    ("a = 1.5 : bool", r"the bool parameter 'a' needs True, False, 0 or 1", "1.5", ()),
    ("a = Normal(0)", r"Normal\(\) takes 2 to 4 arguments", "Normal", ()),
    ("a = Normal(0, -1)", r"Normal\.sigma: must be >= 0", "Normal", ()),
    ("a = Normal(mu=0, sigma=1)", r"keyword arguments are not allowed here", "Normal", ("mu",)),
    ("a = 1 : populaton", r"unknown flag 'populaton' for a parameter; did you mean 'population'\?", "populaton", ()),
    ("a = 1 : integer", r"did you mean 'int'\?", "integer", ()),
    ("a = 1 : postsynaptic", r"unknown flag 'postsynaptic' for a parameter; known flags: population, int, bool",
     "postsynaptic", ()),
    ("a = 'x'", r"is not allowed in a value", "'x'", ()),
    ("a = 1 : ", r"empty flags after ':'", ":", ()),
]


@pytest.mark.parametrize("text, message, token, also", INVALID_PARAMETERS, ids=[c[0] for c in INVALID_PARAMETERS])
def test_invalid_parameters(text, message, token, also):
    with pytest.raises(EquationError, match=message) as info:
        parse_parameters(text)
    line = text.splitlines()[-1]
    check_caret(info.value, line.strip(), token, also=also)


def test_bool_parameter_caret_points_at_the_value():
    """BUG (caret): for ``a = 1.5 : bool`` the caret is one column left of ``1.5``.

    ``parse_parameters`` passes ``eq + 1`` (the blank after ``=``) as the column.
    Covered by ``test_invalid_parameters[a = 1.5 : bool]``; this test pins the
    exact column.
    """
    with pytest.raises(EquationError) as info:
        parse_parameters("a = 1.5 : bool")
    assert caret(info.value) == ("a = 1.5 : bool", 4)


@pytest.mark.parametrize("text", ["a = 2 : bool", "a = -1 : bool"])
def test_bool_parameter_rejects_other_integers(text):
    """BUG: the message says a bool parameter "needs True, False, 0 or 1", but 2 and -1 are accepted."""
    with pytest.raises(EquationError, match=r"needs True, False, 0 or 1"):
        parse_parameters(text)


@pytest.mark.parametrize("text", ["a = 1e999", "a = -1e999", "a = 1e400 : population"])
def test_parameters_must_be_finite(text):
    """BUG: an infinite literal is accepted as a parameter value.

    Equations refuse ``1e999`` ("numbers must be finite") and computed values are
    checked ("this value is not a finite real number"), but a bare literal such
    as ``a = 1e999`` is stored as inf.
    """
    with pytest.raises(EquationError, match="finite") as info:
        parse_parameters(text)
    check_caret(info.value, text, "1e", also=("-",) if "-" in text else ())


def test_infinite_flag_value_is_refused():
    """BUG (same cause as test_parameters_must_be_finite): ``init=1e999`` is accepted."""
    with pytest.raises(EquationError, match="finite"):
        parse_equations("r = 1 : init=1e999", Scope())


INVALID_FUNCTIONS = [
    ("f(x) = x : flag", r"functions take no flags", ":", ()),
    ("f = x", r"expected 'name\(x, y\) = expression'", 0, ()),
    ("f(x) += 1", r"expected 'name\(x, y\) = expression'", 0, ()),
    ("f(x, x) = x", r"the function 'f' repeats an argument name", "x", ()),
    ("f(x) = sum(exc)", r"sum\(target\) is not available here", "sum", ()),
    ("f(x) = mean(x)", r"the global operation mean\(\) is not available here", "mean", ()),
    ("f(x) = Normal(0, 1)", r"random distributions are not allowed in functions", "Normal", ()),
    ("exp(x) = x", r"'exp' is a built-in function and cannot be used as a function name", "exp", ()),
    ("f(x) = y", r"unknown name 'y'", "y", ()),
    ("f(x) = t", r"'t' is not available in functions: pass it as an argument", "t", ()),
    ("f(1x) = 1", r"'1x' is not a valid name", "1x", ()),
    ("f(x, lambda) = 1", r"'lambda' is reserved", "lambda", ()),
    ("_f(x) = x", r"names starting with '_' are reserved", "_f", ()),
    ("f(_x) = _x", r"names starting with '_' are reserved", "_x", ()),
    ("f(x) = g(x)", r"unknown name 'g'", "g", ()),
    ("f(x) = x\ng(x) = f(x, x)", r"f\(\) takes 1 argument\(s\), got 2", "f", ()),
]


@pytest.mark.parametrize("text, message, token, also", INVALID_FUNCTIONS, ids=[c[0] for c in INVALID_FUNCTIONS])
def test_invalid_functions(text, message, token, also):
    with pytest.raises(EquationError, match=message) as info:
        parse_functions(text)
    check_caret(info.value, text.splitlines()[-1], token, also=also)


def test_function_argument_message_grammar():
    """Unclear message: "cannot be used as a argument name" (should read "an argument")."""
    with pytest.raises(EquationError) as info:
        parse_functions("f(x, lambda) = 1")
    assert "as an argument name" in str(info.value)


def test_invalid_stop_conditions():
    with pytest.raises(EquationError, match=r"unknown flag 'anny' for a stop condition; did you mean 'any'\?") as info:
        parse_condition("r > 1 : anny", scope_of("r"))
    check_caret(info.value, "r > 1 : anny", "anny")
    with pytest.raises(EquationError, match=r"^stop_condition: one condition expected \(got 2\)"):
        parse_condition("r > 1\nr < 2", scope_of("r"))
    with pytest.raises(EquationError, match="unknown name 'q'") as info:
        parse_condition("q > 1 : any", scope_of("r"))
    check_caret(info.value, "q > 1 : any", "q")


def test_non_string_and_too_long_texts():
    with pytest.raises(EquationError, match="functions must be a string, got int"):
        parse_functions(5)
    with pytest.raises(EquationError, match="parameters must be a string, got int"):
        parse_parameters(5)
    with pytest.raises(EquationError, match=f"longer than {MAX_LENGTH} characters"):
        parse_equations("r = " + "+".join(["1"] * 6000), Scope())


def test_unknown_name_suggestions_only_from_known_names():
    with pytest.raises(EquationError, match=r"did you mean 'tau_r'\?"):
        parse_equations("tau_r = 1\nr = tau_rr", Scope())
    with pytest.raises(EquationError) as info:
        parse_equations("r = qqqqqq", Scope())
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("text, names, name", [
    ("r = I(1)", ("I",), "I"),
    ("r = t(1)", (), "t"),
    ("r = pi(1)", (), "pi"),
])
def test_calling_a_non_function_does_not_suggest_the_same_name(text, names, name):
    """Unclear message (bug): calling a variable, ``t`` or ``pi`` says "unknown name 'I'; did you mean 'I'?".

    Expected something like "'I' is not a function".
    """
    with pytest.raises(EquationError) as info:
        parse_equations(text, scope_of(*names))
    assert f"did you mean '{name}'" not in str(info.value)
    check_caret(info.value, text, name)


@pytest.mark.parametrize("text", ["é = 1", "r = ｅxp(1)", "r = 1 + µ", "dé/dt = 1"])
def test_non_ascii_names_give_an_equation_error(text):
    """BUG: a non-ASCII letter crashes the scanner with AttributeError.

    ``_scan`` tests ``ch.isalpha()`` (true for 'é') and then calls ``.group()``
    on the ASCII-only ``_IDENT`` match, which is None:
    ``AttributeError: 'NoneType' object has no attribute 'group'``.
    """
    with concise(), pytest.raises(EquationError):
        parse_equations(text, Scope())


# ===========================================================================
# 3. malicious strings, straight to the parser


def _payloads(path) -> list[str]:
    return [
        f"__import__('os').system('touch {path}')",
        f"open('{path}', 'w')",
        f"open('{path}', 'w').write('x')",
        "().__class__.__base__.__subclasses__()",
        "().__class__",
        "(lambda: 1)()",
        "(lambda x: x)(1)",
        "[x for x in (1, 2)]",
        "{x for x in (1, 2)}",
        "{x: 1 for x in (1, 2)}",
        "exp(x for x in (1, 2))",
        "r.__class__",
        "r[0]",
        "r[0:1]",
        "f'{1}'",
        "(y := 1)",
        f"exec('open(\"{path}\", \"w\")')",
        f"eval('open(\"{path}\", \"w\")')",
        "globals()",
        "locals()",
        "vars()",
        "getattr(r, 'x')",
        "__builtins__",
        "__name__",
        "__import__",
        "exp.__globals__",
        "exp(r)(1)",
        "exp(__import__('os'))",
        "r if r else __import__('os')",
        "compile('1', '', 'eval')",
        "breakpoint()",
        "type(r)",
        "print(1)",
        "'abc'",
        "b'abc'",
        "await r",
        "(yield)",
        "*r",
        "r; import os",
        "import os",
        "__import__('os').system\n('touch x')",
        "(" * 1000 + "1" + ")" * 1000,
        "-" * 5000 + "1",
        "exp(" * 300 + "1" + ")" * 300,
        "1" * 20000,
    ]


def _positions(payload: str) -> list[tuple[str, object]]:
    """Where a payload can go at the parser level: (label, callable)."""
    return [
        ("equation", lambda: parse_equations(f"r = {payload}", scope_of("I"))),
        ("ode", lambda: parse_equations(f"tau*dr/dt + r = {payload}", scope_of("tau"))),
        ("parameter", lambda: parse_parameters(f"a = {payload}")),
        ("flag init", lambda: parse_equations(f"r = 1 : init={payload}", Scope())),
        ("flag min", lambda: parse_equations(f"r = 1 : min={payload}", Scope())),
        ("flag name", lambda: parse_equations(f"r = 1 : {payload}", Scope())),
        ("function", lambda: parse_functions(f"f(x) = {payload}")),
        ("condition", lambda: parse_condition(f"{payload} : any", scope_of("r"))),
        ("synapse", lambda: parse_equations(f"dw/dt = {payload}", Scope("synapse", {}))),
    ]


def test_malicious_strings_are_refused_by_the_parser(tmp_path, monkeypatch):
    sentinel = tmp_path / "pwned"
    calls = []
    import builtins
    import os
    import subprocess

    def canary(name):
        def record(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} called with {args!r}")
        return record

    count = 0
    with monkeypatch.context() as patch:
        for module, name in ((os, "system"), (os, "popen"), (subprocess, "Popen"), (builtins, "eval"),
                             (builtins, "exec"), (builtins, "open"), (builtins, "breakpoint"),
                             (builtins, "print"), (builtins, "input")):
            patch.setattr(module, name, canary(f"{module.__name__}.{name}"))
        for payload in _payloads(sentinel):
            for label, define in _positions(payload):
                try:
                    define()
                except EquationError:
                    count += 1
                    continue
                raise AssertionError(f"{label}: accepted {payload[:60]!r}")
    assert not calls
    assert not sentinel.exists()
    assert count == len(_payloads(sentinel)) * len(_positions(""))


def test_deep_nesting_is_refused_without_recursion_error():
    for text in ("(" * 1000 + "1" + ")" * 1000, "-" * 5000 + "1", "not " * 2000 + "1",
                 "exp(" * 500 + "1" + ")" * 500, "1" + "**1" * 2000):
        with pytest.raises(EquationError, match="too deeply nested"):
            parse_equations("r = " + text, Scope())


def run_with_timeout(function, timeout: float = 2.0) -> tuple[str, str]:
    """Run ``function`` in a forked child; ("ok", repr) / ("error", "Type: msg") / ("timeout", "").

    A fork keeps the child cheap (ratenet is already imported) and lets the test
    kill it if ratenet never returns: a CPU-bound big-integer power or a cubic
    loop holds the GIL, so a thread could not be interrupted.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child():
        try:
            result = ("ok", repr(function())[:200])
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = ("error", f"{type(exc).__name__}: {str(exc)[:200]}")
        sender.send(result)

    process = context.Process(target=child)
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return ("timeout", "")
    return receiver.recv() if receiver.poll(1.0) else ("crashed", str(process.exitcode))


def test_many_carets_parse_quickly():
    """BUG (denial of service): the column remapping after ``^`` -> ``**`` is cubic.

    ``_parse_expression`` maps every node's column with ``original()``, which
    sums over all carets and calls ``carets.index(c)`` (linear) for each: with
    n carets that is O(n^3).  ``"r = 1" + "^1" * 300`` already takes ~0.8 s and
    ``"^1" * 2000`` (a 4 kB string, under MAX_LENGTH) about five minutes before
    the "too deeply nested" error.  Expected: an EquationError within a second.
    """
    text = "r = 1" + "^1" * 2000
    status, detail = run_with_timeout(lambda: parse_equations(text, Scope()), timeout=0.5)
    assert status == "error" and detail.startswith("EquationError"), (status, detail)


@pytest.mark.parametrize("where, text", [
    ("parameter", "a = 9^9^9"),
    ("flag", "r = 1 : init=9^9^9"),
])
def test_huge_integer_powers_in_values_do_not_hang(where, text):
    """BUG (denial of service): values are computed with Python integers.

    ``constant_value`` evaluates ``9^9^9`` as the exact integer 9**387420489
    (hundreds of millions of digits), which takes minutes, at definition time.
    ANNarchy's values are doubles: expected an EquationError ("not a finite real
    number") at once.
    """
    if where == "parameter":
        define = lambda: parse_parameters(text)  # noqa: E731
    else:
        define = lambda: parse_equations(text, Scope())  # noqa: E731
    status, detail = run_with_timeout(define, timeout=0.5)
    assert status == "error" and detail.startswith("EquationError"), (status, detail)


def test_huge_integer_power_in_an_equation_does_not_hang():
    """BUG (denial of service): ``r = 9^9^9`` is accepted and the first step never ends.

    The generated code computes ``9 ** 9 ** 9`` with Python integers.  Expected:
    double arithmetic (r = inf after one step) or an error at definition.
    """
    def run():
        net = Network()
        pop = net.create(1, Neuron(equations="r = 9^9^9"))
        net.step()
        return float(pop.r[0])

    status, detail = run_with_timeout(run, timeout=0.5)
    assert status != "timeout"
    assert (status, detail) == ("ok", "inf") or detail.startswith("EquationError"), (status, detail)


def test_nesting_limit():
    ok = "-" * (MAX_DEPTH - 2) + "1"
    parse_equations("r = " + ok, Scope())
    with pytest.raises(EquationError, match=rf"too deeply nested \(more than {MAX_DEPTH} levels\)"):
        parse_equations("r = " + "-" * (MAX_DEPTH + 1) + "1", Scope())


@pytest.mark.parametrize("text", [
    "r = " + "(" * 1000 + "1" + ")" * 1000,
    "r = " + "-" * 5000 + "1",
], ids=["1000 parentheses", "5000 unary minus"])
def test_too_deep_caret_is_inside_the_expression(text):
    """BUG (caret, minor): for parser-level nesting errors the caret is under the blank before the expression.

    ``_parse_expression`` reports ``start`` (the column right after ``=``),
    not the first character of the expression.
    """
    with pytest.raises(EquationError) as info:
        parse_equations(text, Scope())
    quoted, column = caret(info.value)
    assert quoted == text
    assert 4 <= column < len(text), f"caret at column {column}, the expression starts at column 4"


def test_generated_functions_have_sealed_builtins():
    fns = parse_functions("f(x) = exp(x) + 1")
    compiled = fns["f"].compiled()
    assert_sealed_builtins(compiled.__globals__["__builtins__"])
    namespace = numpy_namespace()
    assert_sealed_builtins(namespace["__builtins__"])
    # every other entry is a NumPy function or a ratenet helper under an internal name
    assert all(name.startswith("_") for name in namespace)


# ===========================================================================
# 4. the update code: one step of each method (DESIGN §4), blocks and clamps

TAU = np.array([2.0, 3.0, 7.5, 0.4])
S = np.array([1.0, -0.5, 2.0, 0.3])
R0 = np.array([0.3, 1.2, -0.7, 0.0])


def one_step(equation: str, dt: float, r0=R0, tau=TAU, s=S, parameters="tau = 1.0\nS = 0.0"):
    with concise():
        net = Network(dt=dt)
        pop = net.create(len(r0), Neuron(parameters=parameters, equations=equation))
        pop.tau = tau
        pop.S = s
        pop.r = r0
        net.step()
        return pop.r


def reference_step(method: str, dt: float, r=R0, tau=TAU, s=S):
    f = lambda x: (s - x) / tau  # noqa: E731
    h = dt / tau
    if method == "explicit":
        return r + dt * f(r)
    if method == "midpoint":
        return r + dt * f(r + dt * f(r) / 2)
    if method == "rk4":
        k1 = f(r)
        k2 = f(r + dt / 2 * k1)
        k3 = f(r + dt / 2 * k2)
        k4 = f(r + dt * k3)
        return r + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    if method == "implicit":  # backward Euler: r1 = r + dt*(s - r1)/tau
        return (r + h * s) / (1 + h)
    if method == "semiimplicit":
        return r + (h / (h + 1)) * (s - r)
    if method == "exponential":
        return r + (1 - np.exp(-dt / tau)) * (s - r)
    raise AssertionError(method)


@pytest.mark.parametrize("dt", [0.1, 1.0])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("form", ["tau*dr/dt + r = S", "dr/dt = (S - r)/tau", "tau*dr/dt = -r + S"])
def test_single_step_of_each_method(method, dt, form):
    got = one_step(f"{form} : {method}", dt)
    np.testing.assert_allclose(got, reference_step(method, dt), rtol=0, atol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_constant_derivative_is_integrated_exactly_by_every_method(method):
    got = one_step(f"dr/dt = S : {method}", 0.5)
    np.testing.assert_allclose(got, R0 + 0.5 * S, rtol=0, atol=1e-15)


@pytest.mark.parametrize("method, expected", [
    ("explicit", [0.0, 0.25]),  # r(2 steps) = dt*t0 + dt*t1
    ("midpoint", [0.125, 0.5]),                          # exact for dr/dt = t
    ("rk4", [0.125, 0.5]),
])
def test_time_inside_multi_stage_methods(method, expected):
    net = Network(dt=0.5)
    pop = net.create(1, Neuron(equations=f"dr/dt = t : {method}"))
    net.step()
    assert pop.r[0] == pytest.approx(expected[0], abs=1e-15)
    net.step()
    assert pop.r[0] == pytest.approx(expected[1], abs=1e-15)


@pytest.mark.parametrize("method", ["explicit", "midpoint", "rk4", "semiimplicit"])
def test_nonlinear_ode_single_step(method):
    dt = 0.3
    f = lambda x: -x ** 3 + S  # noqa: E731
    r = R0
    if method in ("explicit", "semiimplicit"):  # no linear term in r: semiimplicit reduces to explicit
        expected = r + dt * f(r)
    elif method == "midpoint":
        expected = r + dt * f(r + dt * f(r) / 2)
    else:
        k1 = f(r)
        k2 = f(r + dt / 2 * k1)
        k3 = f(r + dt / 2 * k2)
        k4 = f(r + dt * k3)
        expected = r + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    got = one_step(f"dr/dt = -r^3 + S : {method}", dt)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


def test_semiimplicit_with_nonlinear_input():
    """BUG: semiimplicit degrades to explicit Euler when S depends nonlinearly on r.

    DESIGN §4: for ``tau*dr/dt + r = S`` semiimplicit is ``r += (h/(h+1))*(S-r)``,
    h = dt/tau, with S evaluated at the old r.  For ``S = tanh(r) + I`` the solved
    derivative is ``(tanh(r) + I - r)/tau``, a single term (a quotient), so
    ``_linear_parts`` puts all of it, leak included, in the explicit part and the
    step becomes ``r + dt*(S - r)/tau``.
    """
    dt = 1.0
    got = one_step("tau*dr/dt + r = tanh(r) + S : semiimplicit", dt)
    h = dt / TAU
    expected = R0 + (h / (h + 1)) * (np.tanh(R0) + S - R0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


def test_semiimplicit_with_nonlinear_input_written_as_separate_terms():
    dt = 1.0
    got = one_step("dr/dt = -r/tau + (tanh(r) + S)/tau : semiimplicit", dt)
    h = dt / TAU
    expected = R0 + (h / (h + 1)) * (np.tanh(R0) + S - R0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_population_ode_single_step(method):
    dt = 0.5
    net = Network(dt=dt)
    pop = net.create(3, Neuron(parameters="tau = 2.0 : population\nS = 3.0 : population",
                               equations=f"tau*dg/dt + g = S : population, {method}, init=1.0"))
    net.step()
    expected = reference_step(method, dt, r=np.array([1.0]), tau=np.array([2.0]), s=np.array([3.0]))[0]
    assert isinstance(pop.g, float)
    assert pop.g == pytest.approx(expected, abs=1e-14)


def test_coupled_odes_use_old_values():
    dt = 0.1
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="dx/dt = y : init=1.0\ndy/dt = -x : init=1.0"))
    net.step()
    assert pop.x[0] == pytest.approx(1.0 + dt * 1.0, abs=1e-15)
    assert pop.y[0] == pytest.approx(1.0 - dt * 1.0, abs=1e-15)  # old x, not 1.1


def test_coupled_odes_rk4_as_a_system():
    dt = 0.5
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="dx/dt = y : rk4, init=1.0\ndy/dt = -x : rk4"))
    net.step()
    f = lambda v: np.array([v[1], -v[0]])  # noqa: E731
    v = np.array([1.0, 0.0])
    k1 = f(v)
    k2 = f(v + dt / 2 * k1)
    k3 = f(v + dt / 2 * k2)
    k4 = f(v + dt * k3)
    expected = v + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    assert [pop.x[0], pop.y[0]] == pytest.approx(list(expected), abs=1e-15)


def test_coupled_odes_midpoint_as_a_system():
    dt = 0.5
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="dx/dt = y : midpoint, init=1.0\ndy/dt = -x : midpoint"))
    net.step()
    f = lambda v: np.array([v[1], -v[0]])  # noqa: E731
    v = np.array([1.0, 0.0])
    expected = v + dt * f(v + dt / 2 * f(v))
    assert [pop.x[0], pop.y[0]] == pytest.approx(list(expected), abs=1e-15)


def test_an_assignment_ends_an_ode_block():
    dt = 0.1
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="dx/dt = y : init=1.0\nz = x\ndy/dt = -x : init=1.0"))
    net.step()
    assert pop.x[0] == pytest.approx(1.1, abs=1e-15)
    assert pop.z[0] == pytest.approx(1.1, abs=1e-15)          # sees the updated x
    assert pop.y[0] == pytest.approx(1.0 - dt * 1.1, abs=1e-15)  # new block: sees the updated x


def test_assignments_run_in_order():
    net = Network()
    pop = net.create(2, Neuron(equations="a = b + 1\nb = 2\nc = a + b\nb = b * 10"))
    net.step()
    np.testing.assert_array_equal(pop.a, [1.0, 1.0])    # b was 0 at the start of the step
    np.testing.assert_array_equal(pop.c, [3.0, 3.0])    # a = 1 and b = 2, both already updated
    np.testing.assert_array_equal(pop.b, [20.0, 20.0])
    net.step()
    np.testing.assert_array_equal(pop.a, [21.0, 21.0])


def test_clamps_apply_after_the_block_and_before_later_assignments():
    dt = 0.1
    net = Network(dt=dt)
    pop = net.create(1, Neuron(parameters="lo = -0.25",
                               equations="dx/dt = 10 : max=1.0, init=0.95\n"
                                         "dy/dt = x\n"
                                         "dv/dt = -10 : min=lo\n"
                                         "z = x + v"))
    net.step()
    assert pop.x[0] == 1.0                              # 0.95 + 1 clamped to 1
    assert pop.y[0] == pytest.approx(dt * 0.95, abs=1e-15)  # old, unclamped x
    assert pop.v[0] == -0.25
    assert pop.z[0] == pytest.approx(0.75, abs=1e-15)       # clamped values


def test_clamps_on_assignments_and_population_variables():
    net = Network()
    pop = net.create(3, Neuron(parameters="I = 0.0\nhi = 2.0 : population",
                               equations="r = I : min=0.0, max=hi\ng = 5 : population, max=hi\nq = -I : max=0"))
    pop.I = [-1.0, 1.0, 3.0]
    net.step()
    np.testing.assert_array_equal(pop.r, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(pop.q, [0.0, -1.0, -3.0])
    assert pop.g == 2.0


@pytest.mark.parametrize("op, init, expected", [
    ("+= 2", 0.0, 6.0),
    ("-= 1.5", 0.0, -4.5),
    ("*= 2", 1.0, 8.0),
    ("/= 2", 8.0, 1.0),
])
def test_compound_assignments_run(op, init, expected):
    net = Network()
    pop = net.create(2, Neuron(equations=f"x {op} : init={init}\ng {op} : population, init={init}"))
    for _ in range(3):
        net.step()
    np.testing.assert_array_equal(pop.x, [expected, expected])
    assert pop.g == expected


def test_time_and_dt_in_equations():
    net = Network(dt=0.25)
    pop = net.create(1, Neuron(equations="a = t\nb = dt"))
    for n in range(4):
        net.step()
        assert pop.a[0] == n * 0.25
        assert pop.b[0] == 0.25


def test_update_function_has_sealed_builtins():
    net = Network()
    net.create(2, Neuron(parameters="tau = 10.0", equations="tau*dr/dt + r = 1 : rk4\nq = exp(r)"))
    updates = [block.update for block in net.plan.blocks if block.update is not None]
    assert updates
    for update in updates:
        assert_sealed_builtins(update.__globals__["__builtins__"])


def test_parsed_definitions_are_values_immutable_and_picklable():
    """The parsed records are plain classes (not dataclasses, for import time): their semantics, by hand."""
    import pickle

    from ratenet.equations import EquationDef, ParameterDef, Source

    first = parse_equations("tau * dr/dt + r = 1 : min=0.0", Scope(locals={"tau": "local"}))[0]
    same = first.replace(source=Source("another text", "elsewhere"))
    assert same == first and hash(same) == hash(first)  # the source is not compared
    assert same.source.where == "elsewhere" and same.rhs is first.rhs
    assert first.replace(min=1.0) != first
    with pytest.raises(AttributeError, match=r"^EquationDef is immutable: cannot assign to field 'target'$"):
        first.target = "v"
    with pytest.raises(AttributeError, match=r"^Source is immutable: cannot delete field 'text'$"):
        del first.source.text
    param = ParameterDef("tau", 10.0, source=Source("tau = 10.0", "parameters"))
    assert repr(param) == ("ParameterDef(name='tau', value=10.0, locality='local', dtype='float', promotable=False, "
                           "source=Source(text='tau = 10.0', where='parameters'))")
    back = pickle.loads(pickle.dumps(param))
    assert back == param and back.source == param.source
    assert isinstance(first, EquationDef) and first.__eq__(object()) is NotImplemented
