"""Equations that used to break ratenet (issue 13 items 4-9, 11-13; issue 10's parser defects).

Each test names the reproducer it covers.  Expected values are computed here with
Python floats or NumPy, independently of ratenet; error tests check the message,
the quoted line, the caret column and the object named.

1. depth: flat sums and products of any length, nesting up to the documented limit;
2. C semantics: comparisons and bools in arithmetic, int and bool variables;
3. init= naming an attribute, bounds, distribution arguments, numerical methods;
4. stability warnings for explicit methods;
5. one character rule for every text slot; NUL bytes; warnings from generated code.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import ratenet
from ratenet import (
    EquationError,
    Network,
    Neuron,
    Parameter,
    Pruning,
    Synapse,
    UnstableMethodWarning,
    Variable,
)
from ratenet._codegen import unstable_odes
from ratenet.equations import MAX_BRACKETS, MAX_DEPTH, MAX_LENGTH, Scope, parse_equations

from _messages import caret, check_caret, concise  # noqa: E402 - tests/ is on the path


@pytest.fixture(autouse=True)
def _fresh_globals():
    ratenet.clear()
    yield
    ratenet.clear()


def run(equations, parameters="", steps=1, size=3, dt=1.0, name=None, **values):
    net = Network(dt=dt, seed=3)
    pop = net.create(size, Neuron(parameters=parameters, equations=equations, name=name))
    for attribute, value in values.items():
        setattr(pop, attribute, value)
    for _ in range(steps):
        net.step()
    return pop


def nested_calls(depth: int, function):
    """Call ``function`` from ``depth`` extra Python frames (a caller that is already deep)."""
    return nested_calls(depth - 1, function) if depth else function()


# ===========================================================================
# 1. depth


def test_flat_sum_of_245_terms_issue_13_item_4():
    """Reproducer: ``"r = " + " + ".join(["a"]*245)`` raised RecursionError."""
    pop = run("r = " + " + ".join(["a"] * 245), "a = 0.1")
    expected = 0.0
    for _ in range(245):
        expected += 0.1            # left to right, as C evaluates a + a + ...
    assert pop.r.tolist() == [expected] * 3


def test_flat_chains_as_long_as_the_text_limit_allows_compute_left_to_right():
    """The longest flat sum that fits in MAX_LENGTH, and a chain mixing + - * /, bit for bit."""
    terms = (MAX_LENGTH - 4) // 2
    pop = run("r = " + "+".join(["a"] * terms), "a = 0.1")
    expected = 0.1
    for _ in range(terms - 1):
        expected += 0.1
    assert pop.r.tolist() == [expected] * 3
    ops = "+-*/" * 600
    text = "r = a" + "".join(f" {op} b" for op in ops)
    a, b = 0.7, 1.3
    expected = a
    for op in ops:
        expected = {"+": expected + b, "-": expected - b, "*": expected * b, "/": expected / b}[op]
    pop = run(text, "a = 0.7\nb = 1.3")
    assert pop.r.tolist() == [expected] * 3


@pytest.mark.parametrize("method", ["explicit", "exponential", "semiimplicit", "implicit", "midpoint", "rk4"])
def test_flat_sum_in_an_ode_is_solved_and_integrated(method):
    """ODE solving, linear splitting and every method on a 1000-term right side."""
    n, tau, inflow, dt = 1000, 4.0, 0.001, 1.0
    text = "tau * dr/dt + r = " + " + ".join(["I"] * n) + f" : {method}"
    pop = run(text, f"tau = {tau}\nI = {inflow}", steps=2)
    total = 0.0
    for _ in range(n):
        total += inflow
    f = lambda x: (total - x) / tau  # noqa: E731
    r = 0.0
    for _ in range(2):
        if method == "explicit":
            r = r + dt * f(r)
        elif method == "exponential":
            r = r + f(r) * (math.expm1(-dt / tau) / (-1 / tau))
        elif method in ("implicit", "semiimplicit"):
            r = (r + dt * total / tau) / (1 + dt / tau)
        elif method == "midpoint":
            r = r + dt * f(r + dt * f(r) / 2)
        else:
            k1 = f(r); k2 = f(r + dt * k1 / 2); k3 = f(r + dt * k2 / 2); k4 = f(r + dt * k3)  # noqa: E702
            r = r + dt / 6 * (k1 + 2 * (k2 + k3) + k4)
    np.testing.assert_allclose(pop.r, r, rtol=1e-12)


def test_flat_chains_in_every_text_slot():
    ratenet.add_function("f(x) = " + " + ".join(["x"] * 1500))
    net = Network()
    pre = net.create(2, Neuron(parameters="r = " + " + ".join(["0.5"] * 1000)))
    post = net.create(2, Neuron(parameters="k = 1.0",
                                equations="v = f(k) : init=" + "+".join(["1"] * 800) + "\nr = sum(exc)"),
                      stop_condition=" + ".join(["r"] * 1500) + " > 0 : any")
    syn = Synapse(psp=" * ".join(["w"] * 3) + " * pre.r" + " + w * pre.r" * 700,
                  equations="dw/dt = " + " + ".join(["0*w"] * 1000))
    net.connect(pre, post, "exc", syn).connect_one_to_one(1.0)
    assert post.v.tolist() == [800.0, 800.0]
    assert pre.r.tolist() == [500.0, 500.0]
    assert net.simulate_until(5.0, post) == 1.0       # the condition holds after the first step
    assert post.v.tolist() == [1500.0, 1500.0]
    assert post.r.tolist() == [701 * 500.0] * 2


DEEP = MAX_DEPTH - 3   # the body of "r = ..." plus the levels of the node kinds below


@pytest.mark.parametrize("label, text, expected", [
    ("163 nested not (issue 13)", "not " * 163 + "a", 0.0),
    ("163 nested exp (issue 13)", "exp(" * 163 + "-1000" + ")" * 163, math.inf),   # e, e^e, ... overflows
    ("163 nested ite (issue 13)", "ite(a, " * 163 + "2" + ", 0)" * 163, 2.0),
    ("162 nested if/else (issue 13)", "if a > 2: 0 else: " * 162 + "3", 3.0),
    (f"{DEEP} unary minus", "-" * (DEEP - 1) + "a", (-1.0) ** (DEEP - 1)),
    (f"{DEEP} not", "not " * (DEEP - 1) + "a", float((DEEP - 1) % 2 == 0)),
    (f"{DEEP // 2} if/else", "if a > 2: 0 else: " * (DEEP // 2) + "3", 3.0),
    (f"{DEEP // 2} inline conditionals", "0 if a > 2 else " * (DEEP // 2) + "3", 3.0),
    (f"{MAX_BRACKETS - 1} nested brackets", "(" * (MAX_BRACKETS - 1) + "a" + ")" * (MAX_BRACKETS - 1), 1.0),
    (f"{MAX_BRACKETS - 1} nested calls", "pos(" * (MAX_BRACKETS - 1) + "a" + ")" * (MAX_BRACKETS - 1), 1.0),
], ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "")
@pytest.mark.parametrize("stack", [0, 500], ids=["shallow caller", "caller 500 frames deep"])
def test_nesting_up_to_the_limit_works(label, text, expected, stack):
    """Every walker (parser, validator, ODE solving, code generation, compiler) handles the documented depth."""
    with np.errstate(over="ignore"):
        pop = nested_calls(stack, lambda: run(f"r = {text}", "a = 1.0"))
    assert pop.r.tolist() == [expected] * 3


def test_nesting_up_to_the_limit_in_an_ode_with_rk4():
    """Substitution of the stages into a deep right side (RK4 copies it four times)."""
    pop = run("tau * dr/dt = " + "-(" * 140 + "r - 1" + ")" * 140 + " : rk4", "tau = 2.0", steps=3)
    r = 0.0
    f = lambda x: (x - 1) / 2.0  # noqa: E731 - 140 negations cancel
    for _ in range(3):
        k1 = f(r)
        k2 = f(r + 0.5 * k1)
        k3 = f(r + 0.5 * k2)
        k4 = f(r + k3)
        r = r + (k1 + 2 * (k2 + k3) + k4) / 6
    np.testing.assert_allclose(pop.r, r, rtol=1e-14)


TOO_DEEP = rf"expression too deeply nested \(more than {MAX_DEPTH} levels\)"
TOO_MANY_BRACKETS = rf"expression too deeply nested \(brackets nest at most {MAX_BRACKETS} deep\)"


@pytest.mark.parametrize("text, message, token", [
    ("r = " + "-" * (MAX_DEPTH + 1) + "a", TOO_DEEP, "-"),
    ("r = " + "not " * (MAX_DEPTH + 1) + "a", TOO_DEEP, "not"),
    ("r = " + "if a > 0: 1 else: " * MAX_DEPTH + "0", TOO_DEEP, "if"),
    ("r = a" + "^a" * 1000, TOO_DEEP, "a"),
    ("r = " + "(" * (MAX_BRACKETS + 1) + "a" + ")" * (MAX_BRACKETS + 1), TOO_MANY_BRACKETS, "("),
    ("r = " + "exp(" * (MAX_BRACKETS + 1) + "a" + ")" * (MAX_BRACKETS + 1), TOO_MANY_BRACKETS, "exp"),
], ids=["unary minus", "not", "if/else", "powers", "brackets", "calls"])
def test_nesting_beyond_the_limit_is_the_documented_error(text, message, token):
    with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}\n") as info:
        nested_calls(300, lambda: Neuron(parameters="a = 1.0", equations=text))
    quoted, column = caret(info.value)
    assert quoted == text
    assert text.index(token) <= column < len(text)


def test_brackets_nest_exactly_up_to_the_documented_limit():
    text = "r = " + "(" * MAX_BRACKETS + "a" + ")" * MAX_BRACKETS
    assert run(text, "a = 2.0").r.tolist() == [2.0] * 3


# ===========================================================================
# 2. C semantics: comparisons and bools are 1.0/0.0 in arithmetic; int and bool variables

A = np.array([-1.0, 0.1, 0.5])


@pytest.mark.parametrize("text, expected", [
    ("-(a > 0.1)", -(A > 0.1).astype(float)),                                       # issue 13 item 5
    ("(a > 0.1) - (a < 0.1)", (A > 0.1).astype(float) - (A < 0.1).astype(float)),   # issue 13 item 5
    ("(a > 0) + (a > 0)", 2.0 * (A > 0)),             # 2, not True (NumPy's bool + bool is 'or')
    ("(a > 0) * 3 - (a >= 0.5) / 2", 3.0 * (A > 0) - (A >= 0.5) / 2),
    ("exp(a > 0)", np.exp((A > 0).astype(float))),    # a double, not NumPy's float16 exp of a bool
    ("-(a > 0 and a < 0.4)", -((A > 0) & (A < 0.4)).astype(float)),
    ("-(not (a > 0))", -(~(A > 0)).astype(float)),
    ("(a > 0)^2 + True - False", (A > 0).astype(float) + 1.0),
    ("-ite(a > 0, a > 0.2, a < 0)", -np.where(A > 0, A > 0.2, A < 0).astype(float)),
])
def test_comparisons_are_doubles_in_arithmetic(text, expected):
    pop = run(f"r = {text}", "a = 0.0", a=A)
    np.testing.assert_array_equal(pop.r, expected)
    assert pop.r.dtype == np.float64


def test_comparisons_are_doubles_in_a_psp_issue_13_item_5():
    """Reproducer: ``psp="-(pre.r > 0)"`` raised NumPy's TypeError."""
    with concise():
        net = Network()
        pre = net.create(3, Neuron(parameters="r = 0.0"))
        post = net.create(2, Neuron(equations="r = sum(exc)"))
        net.connect(pre, post, "exc", Synapse(psp="-(pre.r > 0) + (pre.r > 0) * (pre.r > 0.5)")).connect_all_to_all(1.0)
        pre.r = [0.2, 0.0, 0.7]
        net.simulate(2.0)
    assert post.r.tolist() == [-2.0 + 1.0] * 2


def test_bool_and_int_variables_are_doubles_when_read():
    pop = run("b = a > 0 : bool\nn = 3 * a : int\nr = -b + b + b - n / 2 + n * n", "a = 0.0", a=A)
    b = (A > 0).astype(float)
    n = np.trunc(3 * A)
    np.testing.assert_array_equal(pop.b, A > 0)
    np.testing.assert_array_equal(pop.n, n.astype(np.int64))
    np.testing.assert_array_equal(pop.r, -b + b + b - n / 2 + n * n)


@pytest.mark.parametrize("equation, init, steps, expected", [
    ("n += 0.5", 3, 2, 3),        # trunc(3.5) = 3, twice (issue 13 item 8)
    ("n -= 0.5", 3, 2, 1),        # 2.5 -> 2, then 1.5 -> 1
    ("n -= 0.5", -3, 2, -3),      # -3.5 -> -3 (toward zero, as C), twice
    ("n /= 2", 7, 2, 1),          # 7/2 = 3.5 -> 3; 3/2 = 1.5 -> 1 (issue 13 item 8)
    ("n *= -1.5", 3, 1, -4),      # -4.5 -> -4
    ("n = -2.9", 0, 1, -2),
    ("n = 9.0e18", 0, 1, 9 * 10 ** 18),
])
def test_int_variables_truncate_toward_zero_as_c_does(equation, init, steps, expected):
    pop = run(f"{equation} : int, init={init}", steps=steps)
    assert pop.n.dtype == np.int64
    assert pop.n.tolist() == [expected] * 3


def test_int_population_variable_and_clamps():
    pop = run("n += 1.7 : int, population, max=4.5\nm = -3.7 : int, min=-2.5", steps=3)
    assert pop.n == 3           # 1.7 -> 1, 2.7 -> 2, 3.7 -> 3 (max 4.5 not reached)
    assert pop.m.tolist() == [-2] * 3   # clip(-3.7, -2.5) = -2.5, truncated -> -2
    pop = run("n += 1.7 : int, population, max=4.5", steps=4)
    assert pop.n == 4           # 4.7 clipped to 4.5, truncated


@pytest.mark.parametrize("equation, value", [
    ("n = log(-1)", "nan"),           # issue 13 item 8
    ("n = 1e300", "1e+300"),          # issue 13 item 8
    ("n = -1 / 0", "-inf"),
    ("n = 2.0^63", "9.223372036854776e+18"),
])
def test_ints_that_c_cannot_hold_are_a_clear_error(equation, value):
    with pytest.raises(EquationError, match=rf"^Neuron 'N', equations, line 2: the int variable 'n' cannot hold "
                                            rf"{re.escape(value)}: int variables hold whole numbers from "
                                            rf"-2\*\*63 to 2\*\*63-1") as info:
        run(f"r = 1\n{equation} : int", name="N")
    check_caret(info.value, f"{equation} : int", "n")


@pytest.mark.parametrize("equation, init, steps, expected", [
    ("b += 1", False, 1, True),      # issue 13 item 8
    ("b -= 1", True, 1, False),      # 1 - 1 = 0
    ("b -= 1", False, 1, True),      # 0 - 1 = -1, not zero
    ("b = 0.0 / 0.0", False, 1, True),   # NaN is not zero: true, as in C
    ("b = 0.25 - 0.25", True, 1, False),
    ("b *= 2", True, 2, True),
    ("b /= 2", True, 1, True),       # 0.5
])
def test_bool_variables_are_true_when_not_zero(equation, init, steps, expected):
    pop = run(f"{equation} : bool, init={init}", steps=steps)
    assert pop.b.dtype == np.bool_
    assert pop.b.tolist() == [expected] * 3


# ===========================================================================
# 3. init=, bounds, distribution arguments, numerical methods


@pytest.mark.parametrize("text, message, token", [
    ("r = 1 : init=r", r"init=r names the variable itself: give a number, a distribution or another "
                       r"attribute's name", "init"),                                          # issue 13 item 6
    ("x = 1 : init=y", r"init=y names a variable defined on a later line: a variable may start from a parameter, "
                       r"a constant or a variable defined before it; move the definition of 'y' above this line",
     "init"),                                                                                   # issue 13 item 6
])
def test_init_naming_a_variable_that_does_not_exist_yet_issue_13_item_6(text, message, token):
    with pytest.raises(EquationError, match=rf"^Neuron 'N', equations, line 1: {message}") as info:
        Neuron(equations=f"{text}\ny = 2", name="N")
    check_caret(info.value, text, token)


def test_init_naming_an_earlier_variable_or_a_parameter_copies_its_initial_value():
    with concise():
        net = Network(seed=1)
        pop = net.create(4, Neuron(parameters="p = Uniform(0, 1)",
                                   equations="y = y + 1 : init=p\nx = x * 2 : init=y\nn = 0 : int, init=p"))
    np.testing.assert_array_equal(pop.x, pop.y)
    np.testing.assert_array_equal(pop.y, pop.p)
    assert pop.n.tolist() == [0, 0, 0, 0]          # p in [0, 1) truncated
    assert len(set(pop.p.tolist())) == 4


def test_a_shared_variable_cannot_start_from_a_per_neuron_attribute():
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1: the population variable 'g' cannot start "
                                            r"from 'b', which has one value per neuron") as info:
        Neuron(parameters="b = 1.0", equations="g = 1 : population, init=b")
    check_caret(info.value, "g = 1 : population, init=b", 0)
    with pytest.raises(EquationError, match=r"the projection variable 'g' cannot start from 'w', which has one value "
                                            r"per synapse"):
        Synapse(equations="g = 1 : projection, init=w")


@pytest.mark.parametrize("text, message, token", [
    ("r = 1 : min=2, max=1", r"min=2\.0 is greater than max=1\.0: no value can satisfy both", "min"),  # item 11
    ("r = 1 : max=-1, min=1-1", r"min=0\.0 is greater than max=-1\.0", "min"),
])
def test_contradictory_bounds_are_refused_at_definition_issue_13_item_11(text, message, token):
    with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}") as info:
        Neuron(equations=text)
    check_caret(info.value, text, token)


def test_contradictory_bounds_of_a_variable_object():
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1: min=2\.0 is greater than max=1\.0") as info:
        Neuron(equations=[Variable("r = 1", min=2.0, max=1.0)])
    check_caret(info.value, "r = 1", 0)


@pytest.mark.parametrize("call, message", [
    ("Uniform(1, 0)", r"Uniform\(\): min must not exceed max \(got min=1\.0, max=0\.0\)"),
    ("Normal(0, -1)", r"Normal\(\): sigma must be >= 0 \(got -1\.0\)"),
    ("Gamma(-1, 1)", r"Gamma\(\): alpha must be > 0 \(got -1\.0\)"),
    ("Binomial(3, 2)", r"Binomial\(\): p must be in \[0, 1\] \(got 2\.0\)"),
    ("DiscreteUniform(3, 0)", r"DiscreteUniform\(\): min must not exceed max \(got min=3\.0, max=0\.0\)"),
    ("Exponential(-1)", r"Exponential\(\): Lambda must be > 0 \(got -1\.0\)"),
    ("Uniform(0, log(-1))", r"Uniform\(\): max must be finite \(got nan\)"),
    ("Normal(0, 1, 2, 1)", r"Normal\(\): min must not exceed max \(got min=2\.0, max=1\.0\)"),
    ("Binomial(2.5, 0.5)", r"Binomial\(\): n must be a whole number >= 0 \(got 2\.5\)"),
])
def test_constant_distribution_arguments_are_checked_at_definition_issue_13_item_7(call, message):
    text = f"r = 1 + {call}"
    with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}") as info:
        Neuron(equations=text)
    check_caret(info.value, text, call.split("(")[0])


def test_distribution_arguments_from_variables_are_checked_at_run_time_issue_13_item_7():
    equations = "s = 1 - t\nr = Normal(0, s) + Uniform(s, 1)"
    with concise():
        net = Network()
        pop = net.create(2, Neuron(equations=equations, name="Noisy"))
        net.step()                      # s = 1: fine
        net.step()                      # s = 0: fine (sigma 0, Uniform(0, 1))
    with pytest.raises(EquationError, match=r"^Neuron 'Noisy', equations, line 2: Normal\(\): sigma must be >= 0 "
                                            r"\(got -1\.0\)") as info:
        net.step()                      # s = -1
    check_caret(info.value, "r = Normal(0, s) + Uniform(s, 1)", "Normal")
    assert pop.s.tolist() == [-1.0, -1.0]


def test_distribution_arguments_of_synapse_equations_are_checked_at_run_time():
    with concise():
        net = Network()
        pre = net.create(2, Neuron(parameters="r = 1.0"))
        post = net.create(2, Neuron(equations="r = sum(exc)"))
        syn = Synapse(parameters="p = 2.0 : projection", equations="x = Binomial(1, p)", name="Noisy")
        net.connect(pre, post, "exc", syn).connect_all_to_all(1.0)
    with pytest.raises(EquationError, match=r"^Synapse 'Noisy', equations, line 1: Binomial\(\): p must be in "
                                            r"\[0, 1\] \(got 2\.0\)") as info:
        net.step()
    check_caret(info.value, "x = Binomial(1, p)", "Binomial")


def test_semiimplicit_with_a_zero_coefficient_issue_13_item_9():
    """Reproducer: ``dr/dt = 0*r : semiimplicit`` raised AttributeError."""
    pop = run("dr/dt = 0*r : semiimplicit, init=2\nq = 0", steps=3)
    assert pop.r.tolist() == [2.0] * 3
    pop = run("dr/dt = 0*r*r + 1 : semiimplicit", steps=3)
    assert pop.r.tolist() == [3.0] * 3


@pytest.mark.parametrize("locality", ["population", "local"])
def test_exponential_method_overflow_gives_inf_issue_13_item_9(locality):
    """Reproducer: a population-wide tau with an overflowing step raised OverflowError (math.expm1)."""
    flag = " : population" if locality == "population" else ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop = run("tau * dr/dt = r : exponential, init=1", f"tau = 0.001{flag}")
    assert pop.r.tolist() == [math.inf] * 3
    assert any(issubclass(w.category, RuntimeWarning) and "overflow" in str(w.message) for w in caught)
    # a finite case: x(dt) = x0 * exp(dt/tau)
    pop = run("tau * dr/dt = r : exponential, init=1", f"tau = 2.0{flag}")
    np.testing.assert_allclose(pop.r, math.exp(0.5), rtol=1e-14)


# ===========================================================================
# 4. stability of explicit methods (issue 13 item 12)


def test_explicit_euler_with_dt_above_twice_tau_warns_at_creation():
    with pytest.warns(UnstableMethodWarning) as record:
        Network(dt=1.0).create(3, Neuron(parameters="tau = 0.4", equations="tau * dr/dt + r = 1", name="Fast"))
    (warning,) = record.list
    assert str(warning.message) == (
        "Population 'pop0': Neuron 'Fast', equations, line 1: the explicit method is unstable with dt=1 for "
        "'tau * dr/dt + r = 1': its time constant is 0.4, so values grow and oscillate unless dt <= 0.8; use the "
        "exponential or implicit method, or a smaller dt")
    assert warning.filename == __file__          # points at the user's line


@pytest.mark.parametrize("method, tau, unstable", [
    ("explicit", 0.49, True), ("explicit", 0.5, False),
    ("midpoint", 0.49, True), ("midpoint", 0.5, False),
    ("rk4", 0.35, True), ("rk4", 0.36, False),          # RK4 is stable down to a*dt = -2.7853
    ("exponential", 0.01, False), ("implicit", 0.01, False), ("semiimplicit", 0.01, False),
])
def test_stability_bounds_of_each_method(method, tau, unstable):
    eqs = parse_equations(f"tau * dr/dt + r = I : {method}", Scope(locals={"tau": "local", "I": "local"}))
    found = unstable_odes(eqs, 1.0, {"tau": np.array([1.0, tau, 5.0])})
    assert bool(found) == unstable
    if unstable:
        assert found[0].time_constant == pytest.approx(tau)
    # the reference: iterate the method on dx/dt = -x/tau and watch the amplitude
    x = 1.0
    for _ in range(200):
        f = lambda v: -v / tau  # noqa: E731
        if method == "explicit":
            x = x + f(x)
        elif method == "midpoint":
            x = x + f(x + f(x) / 2)
        elif method == "rk4":
            k1 = f(x); k2 = f(x + k1 / 2); k3 = f(x + k2 / 2); k4 = f(x + k3)  # noqa: E702
            x = x + (k1 + 2 * k2 + 2 * k3 + k4) / 6
        else:
            x = x * math.exp(-1 / tau) if method == "exponential" else x / (1 + 1 / tau)
    assert (abs(x) > 1.0) == unstable


def test_no_stability_warning_when_the_time_constant_is_not_constant():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnstableMethodWarning)
        net = Network(dt=1.0)
        net.create(2, Neuron(equations="tau = 0.1 + 0 * t\ntau * dr/dt + r = 1"))      # a variable
        net.create(2, Neuron(equations="dr/dt = -r * r"))                               # nonlinear
        net.create(2, Neuron(parameters="tau = 0.4", equations="tau * dr/dt + r = 1 : exponential"))
        net.create(2, Neuron(parameters="tau = 0.4", equations="tau * dr/dt = r"))      # growth: the ODE itself


def test_stability_warning_uses_constants_and_per_neuron_values():
    ratenet.Constant("tau_c", 0.2)
    with pytest.warns(UnstableMethodWarning, match=r"time constant is 0\.2"):
        Network().create(2, Neuron(equations="tau_c * dr/dt + r = 1"))
    eqs = parse_equations("tau * dr/dt + r = 1", Scope(locals={"tau": "local"}))
    (found,) = unstable_odes(eqs, 1.0, {"tau": np.array([10.0, 0.3, 0.45])})
    assert found.time_constant == pytest.approx(0.3)       # the worst neuron
    assert found.largest_dt == pytest.approx(0.6)


# ===========================================================================
# 5. one character rule for every text slot (issue 13 item 13), NUL bytes, warnings


def _slots(text: str):
    """Every place a piece of equation text can go, as (label, owner in the message, definer)."""
    return [
        ("equation", "Neuron, equations, line 1", lambda: Neuron(equations=f"r = 1 + {text}")),
        ("parameter", "Neuron, parameters, line 1", lambda: Neuron(parameters=f"a = {text}")),
        ("flag", "Neuron, equations, line 1", lambda: Neuron(equations=f"r = 1 : min={text}")),
        ("function", "Neuron, functions, line 1", lambda: Neuron(functions=f"f(x) = {text}")),
        ("psp", "Synapse, psp", lambda: Synapse(psp=f"w * {text}")),
        ("synapse equation", "Synapse, equations, line 1", lambda: Synapse(equations=f"x = {text}")),
        ("pruning", "Synapse, pruning, line 1", lambda: Synapse(pruning=f"w > {text}")),
        ("creating", "Synapse, creating, line 1", lambda: Synapse(creating=f"pre.r > {text} : proba=0.5")),
        ("Variable", "Neuron, equations, line 1", lambda: Neuron(equations=[Variable(f"r = {text}")])),
        ("Pruning", "Synapse, pruning, line 1", lambda: Synapse(pruning=Pruning(f"w > {text}"))),
        ("stop condition", "Population 'p', stop_condition, line 1",
         lambda: Network().create(1, Neuron(equations="r = 1"), name="p", stop_condition=f"r > {text}")),
        ("add_function", "add_function, line 1", lambda: ratenet.add_function(f"g(x) = {text}")),
    ]


@pytest.mark.parametrize("text, character, hint", [
    ("ℯxp(1)", "ℯ", "e"),          # issue 13: accepted in psp, refused in equations
    ("pre.ｒ", "ｒ", "r"),
    ("µ", "µ", None),              # not a look-alike of an ASCII letter: no hint
    ("é", "é", None),
    ("1 ＋ 1", "＋", "+"),
])
def test_non_ascii_is_refused_in_every_text_slot_issue_13_item_13(text, character, hint):
    code = f"U+{ord(character):04X}"
    for label, owner, define in _slots(text):
        with pytest.raises(EquationError) as info:
            define()
        message = str(info.value)
        assert message.startswith(f"{owner}: non-ASCII character {character!r} ({code}): names and operators "
                                  f"must be ASCII"), (label, message)
        if hint:
            assert f"it looks like '{hint}': type that instead" in message, label
        else:
            assert "looks like" not in message, label
        quoted, column = caret(info.value)
        assert quoted[column] == character, (label, message)


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x1b", "\x7f"])
def test_control_characters_are_refused_in_every_text_slot(character):
    """Issue 10: on Python 3.10 a NUL byte escaped as a bare ValueError."""
    for label, owner, define in _slots(f"1{character}"):
        with pytest.raises(EquationError) as info:
            define()
        message = str(info.value)
        assert message.startswith(f"{owner}: control character {character!r} is not allowed"), (label, message)
        quoted, column = caret(info.value)
        assert quoted[column] == "?", (label, message)       # shown as '?', with the caret under it


def test_non_ascii_in_comments_is_fine_and_mapping_keys_are_checked():
    pop = run("r = 2  # café, ℯ")
    assert pop.r.tolist() == [2.0] * 3
    with pytest.raises(EquationError, match=r"^Neuron, parameters: non-ASCII character 'ｔ'"):
        Neuron(parameters={"ｔau": 1.0})
    with pytest.raises(EquationError, match=r"^Neuron, parameters: non-ASCII character"):
        Neuron(parameters={"tau": Parameter(1.0)} | {"bé": 1.0})


@pytest.mark.parametrize("equation, expected", [
    ("r = exp(100 * t)", math.inf),     # t = 9 at the tenth step
    ("r = sqrt(-1 - t)", math.nan),
    ("r = log(0 * t)", -math.inf),
])
def test_floating_point_warnings_inside_generated_code_issue_10(equation, expected):
    """On Python 3.13 any NumPy warning in an update raised KeyError: '__import__'."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop = run(equation, steps=10)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught), [str(w.message) for w in caught]
    np.testing.assert_array_equal(pop.r, [expected] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning):     # the user's filter applies inside generated code too
            run(equation, steps=10)


def test_every_text_slot_has_the_length_limit():
    with pytest.raises(EquationError, match=rf"^Synapse: psp is longer than {MAX_LENGTH} characters$"):
        Synapse(psp="w * pre.r" + " + w" * 3000)
    with pytest.raises(EquationError, match=rf"^Synapse: pruning is longer than {MAX_LENGTH} characters$"):
        Synapse(pruning="w > 0" + " + w" * 3000)


def test_parameter_mappings_with_bad_keys_or_values():
    with pytest.raises(EquationError, match=r"^Neuron, parameters: parameter names must be strings \(got 1\)\n"
                                            r"    1 = 2\.0$"):
        Neuron(parameters={1: 2.0})
    with pytest.raises(EquationError, match=r"^Neuron, parameters: the value of 'a' must be finite\n    a = nan$"):
        Neuron(parameters={"a": math.nan})
    with pytest.raises(EquationError, match=r"^Neuron, parameters: the int parameter 'n' needs a whole number"):
        Neuron(parameters={"n": Parameter(2.5, type=int)})
    with pytest.raises(EquationError, match=r"^Neuron, parameters: the bool parameter 'b' needs True, False, 0 or 1"):
        Neuron(parameters={"b": Parameter(2.0, type="bool")})
    assert [(p.value, p.dtype) for p in Neuron(parameters={"n": Parameter(3.0, type=int)}).parameters] == [(3, "int")]


def test_equation_containers_that_are_not_text():
    with pytest.raises(EquationError, match=r"^equations must be a string, a Variable or a list of them, got int$"):
        parse_equations(3, Scope())
    with pytest.raises(EquationError, match=r"^equations must hold strings or Variables, got float$"):
        parse_equations(["r = 1", 2.0], Scope())
    with pytest.raises(EquationError, match=r"^Neuron: equations must hold strings or Variables, got Pruning$"):
        Neuron(equations=["r = 1", Pruning("w > 0")])


def test_structural_rules_given_to_the_parser_directly():
    from ratenet.equations import parse_structural_rule

    with pytest.raises(EquationError, match=r"^creating must be a Creating \(got a Pruning\)$"):
        parse_structural_rule(Pruning("w > 0"), "creating", Scope("synapse"))
    with pytest.raises(EquationError, match=r"^pruning must be a string such as 'condition : proba=0\.5' or a "
                                            r"Pruning \(got int\)$"):
        parse_structural_rule(3, "pruning", Scope("synapse"))


def test_the_character_rule_covers_kernel_psps_and_constant_names():
    from ratenet.projections import Convolution, Pooling

    net = Network()
    pre = net.create((4, 4), Neuron(parameters="r = 0.0"))
    post = net.create((2, 2), Neuron(equations="r = sum(exc)"))
    with pytest.raises(EquationError, match=r"psp: non-ASCII character 'ｒ' \(U\+FF52\): names and operators must be "
                                            r"ASCII; it looks like 'r': type that instead"):
        Pooling(pre, post, "exc", psp="pre.ｒ", operation="mean")
    with pytest.raises(EquationError, match=r"psp: control character '\\x00' is not allowed"):
        Convolution(pre, post, "exc", psp="pre.r * w\x00")
    with pytest.raises(EquationError, match=r"^Constant: non-ASCII character 'ℯ' \(U\+212F\)"):
        ratenet.Constant("ℯ2", 1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dt_follows_c_rules_like_every_number(dtype):
    """Found by the 100,000-string fuzz run: dt was a Python float, so ``(-dt) ** dt`` was complex
    (TypeError further on) and ``dt / (dt - dt)`` raised ZeroDivisionError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        net = Network(dt=2.0, dtype=dtype)
        pop = net.create(1, Neuron(equations="r = dt / (dt - dt)\nq = (-dt) ** (dt / 4)\nz = dt ** 2000\n"
                                             "y = atan2(dt, (-dt) ** 0.5)"))
        pre = net.create(1, Neuron(parameters="r = 1.0"))
        post = net.create(1, Neuron(equations="r = sum(exc)"))
        net.connect(pre, post, "exc", Synapse(psp="w * pre.r + dt / (dt - dt)")).connect_all_to_all(1.0)
        net.simulate(4.0)
    assert pop.r.tolist() == [math.inf]
    assert math.isnan(float(pop.q[0])) and math.isnan(float(pop.y[0]))
    assert pop.z.tolist() == [math.inf]
    assert post.r.tolist() == [math.inf]
    assert pop.r.dtype == dtype
