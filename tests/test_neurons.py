"""Tests of models defined by equation strings (ratenet.neurons) as users see them.

Neuron, Synapse, Constant, add_function and functions, run through
ratenet.Network where a value matters.  Expected values are computed here, by
hand or with NumPy.  Sections:

1. valid models: parameters and flags, conditionals, ``^``, sums, global
   operations, user functions, add_function/clear, Constant;
2. invalid models: exception type, message, and the caret under the right column;
3. malicious strings anywhere a string is accepted, with proof of no side effect.
"""

from __future__ import annotations

import builtins
import math
import os
import subprocess

import numpy as np
import pytest

import ratenet
from ratenet import (
    Constant,
    EquationError,
    Network,
    Neuron,
    RatenetError,
    Synapse,
    ValidationError,
    add_function,
    functions,
)

from _messages import assert_sealed_builtins, check_caret, concise  # noqa: E402 - tests/ is on the path


@pytest.fixture(autouse=True)
def _fresh_globals():
    """Constants and add_function() entries are global: start and end each test clean."""
    ratenet.clear()
    yield
    ratenet.clear()


def run(neuron: Neuron, steps: int = 1, size: int = 3, dt: float = 1.0, **values):
    with concise():
        net = Network(dt=dt, seed=1)
        pop = net.create(size, neuron)
        for name, value in values.items():
            setattr(pop, name, value)
        for _ in range(steps):
            net.step()
    return pop


# ===========================================================================
# 1. valid models


@pytest.mark.parametrize("form", [
    "tau*dr/dt + r = I",
    "dr/dt = (I-r)/tau",
    "tau*dr/dt = -r + I",
    "dr/dt + r/tau = I/tau",
])
def test_linear_forms_simulate_identically(form):
    tau = np.array([2.0, 5.0, 10.0])
    I = np.array([1.0, -2.0, 0.5])
    pop = run(Neuron(parameters="tau = 1.0\nI = 0.0", equations=form), steps=6, dt=0.5, tau=tau, I=I)
    r = np.zeros(3)
    for _ in range(6):
        r = r + 0.5 * (I - r) / tau
    np.testing.assert_allclose(pop.r, r, rtol=0, atol=1e-14)


@pytest.mark.parametrize("equation, expected", [
    ("r = 1 + 2^2*3", 13.0),
    ("r = 2^3^2", 512.0),
    ("r = (2^3)^2", 64.0),
    ("r = -2^2", -4.0),
    ("r = 2^-1", 0.5),
    ("r = 2 ** 3 + 1", 9.0),
])
def test_caret_is_power_in_a_population(equation, expected):
    np.testing.assert_array_equal(run(Neuron(equations=equation)).r, [expected] * 3)


CONDITIONALS = {
    "single line": "r = if I > 0: 2*I else: -1",
    "spaces": "r = if I > 0 : 2*I else : -1",
    "multi-line": "r = if I > 0:\n        2*I\n    else:\n        -1",
    "python": "r = 2*I if I > 0 else -1",
    "ite": "r = ite(I > 0, 2*I, -1)",
}


@pytest.mark.parametrize("equation", list(CONDITIONALS.values()), ids=list(CONDITIONALS))
def test_conditionals_run(equation):
    """BUG for the ``if c: a else: b`` forms: the neuron is accepted, but building the update fails.

    ``ValueError: line 1, column 4-0 is not a valid range`` from ``compile()`` in
    ``build_function``: ``_parse_conditional`` gives the new ``ast.IfExp`` a
    ``col_offset`` but no ``end_col_offset``, so ``fix_missing_locations`` copies
    the enclosing statement's end (0).  The Python and ``ite`` forms work.
    """
    I = np.array([1.5, 0.0, -2.0])
    with concise():
        neuron = Neuron(parameters="I = 0.0", equations=equation)
    pop = run(neuron, I=I)
    np.testing.assert_array_equal(pop.r, np.where(I > 0, 2 * I, -1.0))


def test_nested_and_multi_line_conditionals_with_flags():
    """BUG: same cause as test_conditionals_run."""
    with concise():
        neuron = Neuron(parameters="I = 0.0", equations="""
        r = if I > 1:
                10
            else:
                if I < -1: -10 else: I : min=-5, max=5
    """)
    assert (neuron.equations[0].min, neuron.equations[0].max) == (-5, 5)
    I = np.array([2.0, 0.5, -3.0])
    np.testing.assert_array_equal(run(neuron, I=I).r, [5.0, 0.5, -5.0])


def test_parameters_and_flags_in_a_population():
    neuron = Neuron(parameters="""
        # comment line

        tau = 10 : population     # shared
        n = 3 : int
        k = 2 : population, int
        flag = True : bool
        off = false
        u = Uniform(0.0, 1.0)
        q = Normal(0.0, 1.0) : population
        baseline = -0.5
    """)
    pop = Network(seed=7).create(50, neuron)
    assert isinstance(pop.tau, float) and pop.tau == 10.0
    assert pop.n.dtype == np.int64 and pop.n.shape == (50,) and (pop.n == 3).all()
    assert isinstance(pop.k, int) and pop.k == 2
    assert pop.flag.dtype == np.bool_ and pop.flag.all()
    assert pop.off.dtype == np.bool_ and not pop.off.any()
    assert pop.u.shape == (50,) and (pop.u >= 0).all() and (pop.u < 1).all() and np.unique(pop.u).size == 50
    assert isinstance(pop.q, float)
    np.testing.assert_array_equal(pop.baseline, np.full(50, -0.5))
    with pytest.raises(ValidationError, match=r"tau: is one value for the whole population"):
        pop.tau = np.arange(50.0)
    assert neuron.parameter_names == ["tau", "n", "k", "flag", "off", "u", "q", "baseline"]
    assert neuron.variable_names == []


def test_parameters_from_a_mapping_and_an_input_neuron():
    pop = run(Neuron(parameters={"r": 0.0, "gain": 2.0}), r=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(pop.r, [1.0, 2.0, 3.0])   # no equation: r is kept
    np.testing.assert_array_equal(pop.gain, [2.0, 2.0, 2.0])


def test_variable_records_and_types():
    neuron = Neuron(parameters="tau = 2.0 : population", equations="""
        tau * dv/dt + v = 1 : init=0.5, min=0.0, max=10, semiimplicit
        g = mean(v) : population
        n = v * 2.7 : int
        b = v > 0.6 : bool
        r = pos(v)
    """)
    got = [(e.target, e.kind, e.method, e.init, e.min, e.max, e.locality, e.dtype) for e in neuron.equations]
    assert got == [
        ("v", "ode", "semiimplicit", 0.5, 0.0, 10, "local", "float"),
        ("g", "assign", "explicit", None, None, None, "population", "float"),
        ("n", "assign", "explicit", None, None, None, "local", "int"),
        ("b", "assign", "explicit", None, None, None, "local", "bool"),
        ("r", "assign", "explicit", None, None, None, "local", "float"),
    ]
    pop = run(neuron, dt=1.0)
    h = 0.5
    v = 0.5 + h / (1 + h) * (1 - 0.5)
    np.testing.assert_allclose(pop.v, [v] * 3, atol=1e-15)
    np.testing.assert_array_equal(pop.n, [int(v * 2.7)] * 3)
    assert pop.n.dtype == np.int64 and pop.b.dtype == np.bool_
    np.testing.assert_array_equal(pop.b, [v > 0.6] * 3)


def test_neuron_without_r_gets_a_zero_rate():
    pop = run(Neuron(equations="v = 1"))
    np.testing.assert_array_equal(pop.r, [0.0, 0.0, 0.0])


def test_equations_as_a_list_and_comments():
    neuron = Neuron(equations=["a = 1  # one", "", "# nothing", "r = a + 1"])
    np.testing.assert_array_equal(run(neuron).r, [2.0] * 3)


def test_sums_of_targets():
    net = Network()
    inp = net.create(3, Neuron(parameters="r = 0.0"), name="inp")
    inp.r = [1.0, -2.0, 3.0]
    post = net.create(3, Neuron(equations="r = sum(exc) + 10*sum(inh)\na = sum()\nb = sum(nothing)"), name="post")
    net.connect(inp, post, "exc").one_to_one(1.0)
    net.connect(inp, post, "inh").one_to_one(2.0)
    net.step()
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(post.r, x + 10 * 2 * x)
    np.testing.assert_array_equal(post.a, x + 2 * x)
    np.testing.assert_array_equal(post.b, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(post.sum("exc"), x)


def test_sum_of_all_targets_without_projections_is_zero():
    np.testing.assert_array_equal(run(Neuron(equations="r = sum() + sum(exc) + 1")).r, [1.0] * 3)


def test_global_operations_are_seen_one_step_late():
    x = np.array([3.0, -4.0, 0.5, 1.0])
    neuron = Neuron(parameters="x = 0.0", equations="""
        m = mean(x) : population
        M = max(x) : population
        mi = min(x) : population
        n1 = norm1(x) : population
        n2 = norm2(x) : population
        el = max(x, 0.75)
        r = x - mean(x)
    """)
    net = Network()
    pop = net.create(4, neuron)
    pop.x = x
    net.step()
    assert (pop.m, pop.M, pop.mi, pop.n1, pop.n2) == (0.0, 0.0, 0.0, 0.0, 0.0)
    np.testing.assert_array_equal(pop.el, np.maximum(x, 0.75))
    net.step()
    assert pop.m == pytest.approx(x.mean(), abs=1e-15)
    assert (pop.M, pop.mi) == (3.0, -4.0)
    assert pop.n1 == pytest.approx(np.abs(x).sum(), abs=1e-15)
    assert pop.n2 == pytest.approx(math.sqrt((x ** 2).sum()), abs=1e-15)
    np.testing.assert_allclose(pop.r, x - x.mean(), atol=1e-15)


def test_user_functions_from_equations_and_from_python():
    neuron = Neuron(functions="""
        sq(x) = x^2
        f(x, y) = sq(x) + y    # calls the one above
    """, equations="r = f(v, 1)\nv = 2")
    assert float(neuron.functions["f"](2.0, 3.0)) == 7.0
    np.testing.assert_array_equal(neuron.functions["sq"](np.array([1.0, -2.0])), [1.0, 4.0])
    pop = run(neuron, steps=2)
    np.testing.assert_array_equal(pop.r, [5.0] * 3)
    np.testing.assert_array_equal(pop.f(np.array([1.0, 2.0]), 1.0), [2.0, 5.0])
    assert float(pop.sq(3.0)) == 9.0
    assert "sq" in dir(pop)


def test_add_function_and_clear():
    add_function("g(x) = 2*x")
    add_function("h(x) = g(x) + 1\nk(x, y) = h(x) * y")
    assert float(functions("h")(1.0)) == 3.0
    assert float(functions("k")(1.0, 2.0)) == 6.0
    pop = run(Neuron(equations="r = k(3, 2)"))
    np.testing.assert_array_equal(pop.r, [14.0] * 3)
    assert float(pop.h(0.5)) == 2.0
    ratenet.clear()
    with pytest.raises(EquationError, match=r"unknown name 'h'") as info:
        Neuron(equations="r = h(3)")
    check_caret(info.value, "r = h(3)", "h")
    with pytest.raises(ValidationError, match=r"functions\.name: no function of that name was added \(known: none\)"):
        functions("h")


def test_model_functions_are_not_global():
    add_function("g(x) = 2*x")
    neuron = Neuron(functions="f(x) = g(x) + 1", equations="r = f(1)")
    np.testing.assert_array_equal(run(neuron).r, [3.0] * 3)
    with pytest.raises(ValidationError):
        functions("f")  # a model's own function is not global


def test_constant_changes_are_seen_by_a_running_network():
    gain = Constant("gain", 2.0)
    neuron = Neuron(parameters="I = 1.5\nbase = gain * 2", equations="r = gain * I\nq = base : init=gain")
    net = Network()
    pop = net.create(2, neuron)
    np.testing.assert_array_equal(pop.q, [2.0, 2.0])        # init from the constant
    net.step()
    np.testing.assert_array_equal(pop.r, [3.0, 3.0])
    np.testing.assert_array_equal(pop.base, [4.0, 4.0])     # a value computed at definition
    gain.value = 3.0
    net.step()
    np.testing.assert_array_equal(pop.r, [4.5, 4.5])
    gain.set(4)
    net.step()
    np.testing.assert_array_equal(pop.r, [6.0, 6.0])
    assert float(gain) == 4.0 and gain + 1 == 5.0 and 2 * gain == 8.0


def test_constants_in_flags():
    Constant("lo", -1.0)
    Constant("hi", 1.0)
    pop = run(Neuron(parameters="I = 0.0", equations="r = I : min=lo, max=hi"), I=[-5.0, 0.5, 5.0])
    np.testing.assert_array_equal(pop.r, [-1.0, 0.5, 1.0])


def test_constants_are_forgotten_by_clear():
    Constant("gain", 2.0)
    Neuron(equations="r = gain")
    ratenet.clear()
    with pytest.raises(EquationError, match="unknown name 'gain'"):
        Neuron(equations="r = gain")


def test_random_distributions_in_equations():
    neuron = Neuron(equations="r = Uniform(0, 1)\nn = Normal(0, 1) : min=-0.5, max=0.5")
    first = run(neuron, steps=1, size=20)
    again = run(neuron, steps=1, size=20)
    assert ((first.r >= 0) & (first.r < 1)).all() and np.unique(first.r).size == 20
    assert ((first.n >= -0.5) & (first.n <= 0.5)).all()
    np.testing.assert_array_equal(first.r, again.r)       # same seed, same draws
    twice = run(neuron, steps=2, size=20)
    assert not np.array_equal(twice.r, first.r)            # a fresh draw each step


def test_population_variable_with_a_random_draw():
    """BUG (probably): ``g = Normal(0, 1) : population`` is refused.

    The code generator prepares population-level draws (``_rnd_population_<name>``,
    shape ()), but ``_Model._check`` ranks every random symbol as per-neuron and
    raises "the population variable 'g' cannot depend on 'Normal(...)'".
    Expected: one draw per step, shared by the population.
    """
    with concise():
        neuron = Neuron(equations="g = Uniform(0, 1) : population")
    pop = run(neuron, size=4)
    assert isinstance(pop.g, float) and 0.0 <= pop.g < 1.0


def test_stop_condition_and_simulate_until():
    net = Network(dt=1.0)
    pop = net.create(3, Neuron(equations="r = t"), stop_condition="r >= 2.0 : any")
    assert net.simulate_until(10.0, pop) == 3.0      # t = 0, 1, 2
    np.testing.assert_array_equal(pop.r, [2.0] * 3)


def test_synapse_definitions():
    syn = Synapse(parameters="eta = 0.1 : projection\nalpha = 1 : postsynaptic",
                  equations="""
                      tau = 10.0
                      dtheta/dt = post.r^2 - theta : postsynaptic
                      dw/dt = eta * pre.r * post.r - alpha * mean(pre.r) * w : min=0.0
                  """,
                  psp="w * pos(pre.r - 0.1)", operation="max")
    assert syn.variable_names == ["tau", "theta", "w"]
    assert syn.locality("theta") == "postsynaptic" and syn.locality("w") == "local"
    assert syn.plastic and syn.operation == "max"
    assert syn.psp_text == "w * pos(pre.r - 0.1)"
    assert Synapse().psp_text == "w * pre.r" and not Synapse().plastic


def test_update_and_stop_functions_have_sealed_builtins():
    net = Network()
    pop = net.create(2, Neuron(parameters="tau = 10.0", functions="f(x) = exp(x)",
                               equations="tau*dr/dt + r = f(1) : rk4\nq = mean(r) : population"),
                     stop_condition="r > 0.5 : all")
    updates = [block.update for block in net.plan.blocks if block.update is not None]
    assert updates
    for update in updates:
        assert_sealed_builtins(update.__globals__["__builtins__"])
    for stop in net.plan.stops.values():
        assert_sealed_builtins(stop.__globals__["__builtins__"])
    assert_sealed_builtins(pop.f.compiled().__globals__["__builtins__"])


# ===========================================================================
# 2. invalid models


INVALID_MODELS = [
    # (constructor, kwargs, regex, quoted line, caret token, other accepted tokens)
    (Neuron, dict(parameters="tau = 10.0", equations="r = tua * sum(exc)"),
     r"^Neuron, equations, line 1: unknown name 'tua'; did you mean 'tau'\?", "r = tua * sum(exc)", "tua", ()),
    (Neuron, dict(equations="v = 1\nr = tanhh(v)", name="N"),
     r"^Neuron 'N', equations, line 2: unknown name 'tanhh'; did you mean 'tanh'\?", "r = tanhh(v)", "tanhh", ()),
    (Neuron, dict(equations="r = 1 : explict"),
     r"unknown flag 'explict' for an equation; did you mean 'explicit'\?", "r = 1 : explict", "explict", ()),
    (Neuron, dict(parameters="tau = 10.0 : populaton"),
     r"^Neuron, parameters, line 1: unknown flag 'populaton' for a parameter; did you mean 'population'\?",
     "tau = 10.0 : populaton", "populaton", ()),
    (Neuron, dict(equations="dr/dt + dv/dt = 1"),
     r"an equation may contain only one derivative", "dr/dt + dv/dt = 1", "dv/dt", ()),
    (Neuron, dict(equations="exp(dr/dt) = 1"),
     r"dr/dt must appear linearly", "exp(dr/dt) = 1", "dr/dt", (0,)),
    (Neuron, dict(equations="dr/dt = 1\ndr/dt = 2"),
     r"line 2: the variable 'r' has two ODEs", "dr/dt = 2", "dr/dt", ()),
    (Neuron, dict(equations="dr/dt = 1\nr = 2"),
     r"line 2: the variable 'r' is defined twice", "r = 2", "r", ()),
    (Neuron, dict(equations="r = 1\nr = 2 : population"),
     r"line 2: the variable 'r' is given two different localities", "r = 2 : population", "r", ()),
    (Neuron, dict(parameters="a = 1", equations="a = 2"),
     r"^Neuron, equations, line 1: 'a' is a parameter and cannot also be a variable", "a = 2", "a", ()),
    (Neuron, dict(parameters="a = 1", equations="da/dt = 2"),
     r"'a' is a parameter and cannot also be a variable", "da/dt = 2", 0, ("a",)),
    (Neuron, dict(equations="v = 1\ng = v : population"),
     r"line 2: the population variable 'g' cannot depend on 'v', which has one value per neuron; "
     r"use a global operation such as mean\(\.\.\.\)", "g = v : population", "g", ()),
    (Neuron, dict(equations="g = sum(exc) : population"),
     r"the population variable 'g' cannot depend on 'sum\(exc\)'", "g = sum(exc) : population", "g", ()),
    (Neuron, dict(equations="g = sum() : population"),
     r"the population variable 'g' cannot depend on 'sum\(\)'", "g = sum() : population", "g", ()),
    (Neuron, dict(parameters="hi = 1", equations="g = 1 : population, max=hi"),
     r"the population variable 'g' cannot depend on 'hi'", "g = 1 : population, max=hi", "g", ("hi",)),
    (Neuron, dict(equations="dg/dt = r : population\nr = 1"),
     r"the population variable 'g' cannot depend on 'r'", "dg/dt = r : population", 0, ()),
    (Neuron, dict(equations="t = 1"), r"'t' is reserved and cannot be used as a variable name", "t = 1", "t", ()),
    (Neuron, dict(equations="dt = 1"), r"'dt' is reserved", "dt = 1", "dt", ()),
    (Neuron, dict(equations="pi = 1"), r"'pi' is reserved", "pi = 1", "pi", ()),
    (Neuron, dict(equations="e = 1"), r"'e' is reserved", "e = 1", "e", ()),
    (Neuron, dict(equations="sum = 1"), r"'sum' is reserved", "sum = 1", "sum", ()),
    (Neuron, dict(equations="de/dt = 1"), r"'e' is reserved", "de/dt = 1", ("e", 0), ()),
    (Neuron, dict(parameters="pi = 3"), r"'pi' is reserved and cannot be used as a parameter name", "pi = 3",
     "pi", ()),
    (Neuron, dict(equations="_x = 1"), r"names starting with '_' are reserved \(got '_x'\)", "_x = 1", "_x", ()),
    (Neuron, dict(equations="r = __x"), r"names starting with '_' are reserved \(got '__x'\)", "r = __x",
     "__x", ()),
    (Neuron, dict(parameters="_a = 1"), r"names starting with '_' are reserved", "_a = 1", "_a", ()),
    (Neuron, dict(functions="_f(x) = x"), r"names starting with '_' are reserved", "_f(x) = x", "_f", ()),
    (Neuron, dict(equations="class = 1"), r"'class' is reserved", "class = 1", "class", ()),
    (Neuron, dict(equations="r = exp(x=1)"), r"keyword arguments are not allowed in equations",
     "r = exp(x=1)", ("x", 1), ()),
    (Neuron, dict(equations="r = 5 % 2"), r"the operator '%' is not allowed; use modulo\(a, b\)",
     "r = 5 % 2", "5", ("%",)),
    (Neuron, dict(equations="r = 5 // 2"), r"the operator '//' is not allowed; use floor\(a / b\)",
     "r = 5 // 2", "5", ("//",)),
    (Neuron, dict(equations="r = 5 & 2"), r"the operator '&' is not allowed", "r = 5 & 2", "5", ("&",)),
    (Neuron, dict(equations="r = ~5"), r"the operator '~' is not allowed; use 'not'", "r = ~5", "~", ()),
    (Neuron, dict(equations="r = exp(1, 2)"), r"exp\(\) takes 1 argument\(s\), got 2", "r = exp(1, 2)", "exp", ()),
    (Neuron, dict(equations="r = max(1)"), r"max\(\) with one argument is a global operation",
     "r = max(1)", "max", ()),
    (Neuron, dict(functions="f(x, y) = x", equations="r = f(1)"), r"f\(\) takes 2 argument\(s\), got 1",
     "r = f(1)", "f", ()),
    (Neuron, dict(equations="r = pre.r"), r"'pre\.r' is only available in synapse equations", "r = pre.r",
     "pre", ()),
    (Neuron, dict(equations="r = 1 : init=qq"), r"unknown name 'qq' in the flag 'init'", "r = 1 : init=qq",
     "qq", ()),
    (Neuron, dict(equations="r = 1 : rk4"), r"the method 'rk4' only applies to ODEs", "r = 1 : rk4", 0,
     ("rk4",)),
    (Neuron, dict(equations="dr/dt = 1 : bool"), r"an ODE variable cannot have the 'bool' flag",
     "dr/dt = 1 : bool", 0, ("bool",)),
    (Neuron, dict(functions="f(x) = y"), r"^Neuron, functions, line 1: unknown name 'y'", "f(x) = y", "y", ()),
    (Neuron, dict(functions="f(x) = x : flag"), r"functions take no flags", "f(x) = x : flag", ":", ()),
    (Neuron, dict(parameters="a = 1\na = 2"), r"line 2: the parameter 'a' is defined twice", "a = 2", "a", ()),
    (Neuron, dict(parameters="a = b"), r"unknown name 'b' in a value", "a = b", "b", ()),
    (Synapse, dict(parameters="w = 1"),
     r"^Synapse, parameters, line 1: 'w' is the weight, set by the connector; it cannot be a parameter",
     "w = 1", "w", ()),
    (Synapse, dict(parameters="eta = 1 : population"),
     r"unknown flag 'population' for a parameter; did you mean 'projection'\?", "eta = 1 : population",
     "population", ()),
    (Synapse, dict(equations="dw/dt = mean(w)"),
     r"mean\(\) takes one variable name of pre or post \(e\.g\. pre\.r\)", "dw/dt = mean(w)", "mean", ()),
    (Synapse, dict(equations="dw/dt = max(w)"),
     r"max\(\) with one argument is a global operation and needs a variable name such as pre\.r",
     "dw/dt = max(w)", "max", ()),
    (Synapse, dict(equations="dw/dt = pre._x"), r"names starting with '_' are reserved \(got '_x'\)",
     "dw/dt = pre._x", "pre", ("_x",)),
    (Synapse, dict(equations="theta = pre.r : postsynaptic"),
     r"the postsynaptic variable 'theta' cannot depend on 'pre\.r', which has one value per synapse",
     "theta = pre.r : postsynaptic", "theta", ()),
    (Synapse, dict(equations="theta = post.r : projection"),
     r"the projection variable 'theta' cannot depend on 'post\.r', which has one value per neuron",
     "theta = post.r : projection", "theta", ()),
    (Synapse, dict(equations="theta = w : projection"),
     r"the projection variable 'theta' cannot depend on 'w', which has one value per synapse",
     "theta = w : projection", "theta", ()),
    (Synapse, dict(parameters="tau = 1", psp="w * pre.r + tua"),
     r"^Synapse, psp: unknown name 'tua'; did you mean 'tau'\?", "w * pre.r + tua", "tua", ()),
    (Synapse, dict(psp="w * pre.r : flag"), r"^Synapse, psp: syntax error", "w * pre.r : flag", ":", ()),
    (Synapse, dict(psp="w * pre.r", name="S", equations="dw/dt = tua", parameters="tau = 1"),
     r"^Synapse 'S', equations, line 1: unknown name 'tua'; did you mean 'tau'\?", "dw/dt = tua", "tua", ()),
]


def _model_id(case) -> str:
    cls, kwargs = case[0], case[1]
    return f"{cls.__name__}:" + "|".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("cls, kwargs, message, line, token, also", INVALID_MODELS,
                         ids=[_model_id(c) for c in INVALID_MODELS])
def test_invalid_models(cls, kwargs, message, line, token, also):
    with pytest.raises(EquationError, match=message) as info:
        cls(**kwargs)
    assert isinstance(info.value, (RatenetError, ValueError))
    check_caret(info.value, line, token, also=also)


@pytest.mark.parametrize("equation", [
    "dr/dt = -exp(r) : implicit",
    "dr/dt = -r*r : exponential",
    "tau*dr/dt + r = tanh(r) : implicit",
])
def test_implicit_and_exponential_need_a_linear_ode_at_definition(equation):
    """BUG: the error is raised when the network is built, not when the Neuron is defined.

    ``check_methods`` runs in ``update_code`` (``Network.compile``/first step),
    and the message then lacks the ``Neuron`` owner: "equations, line 1: the
    implicit method needs an ODE that is linear in r ...".  DESIGN §8: errors
    are raised at construction.
    """
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1: the (implicit|exponential) method "
                                            r"needs an ODE that is linear in r; use semiimplicit, midpoint or rk4"
                       ) as info:
        Neuron(parameters="tau = 10.0", equations=equation)
    check_caret(info.value, equation, 0, also=(equation.rsplit(": ", 1)[1],))


@pytest.mark.parametrize("equation", [
    "dr/dt = -exp(r) : implicit",
    "dr/dt = -r*r : exponential",
])
def test_implicit_and_exponential_on_a_nonlinear_ode_fail_before_the_first_step(equation):
    try:
        neuron = Neuron(equations=equation)
    except EquationError:
        return  # refused at definition: even better
    net = Network()
    net.create(2, neuron)
    with pytest.raises(EquationError, match=r"method needs an ODE that is linear in r"):
        net.compile()


@pytest.mark.parametrize("kwargs, line", [
    (dict(psp="w * sum(exc)"), "w * sum(exc)"),
    (dict(equations="dw/dt = sum(exc)"), "dw/dt = sum(exc)"),
])
def test_bare_sum_in_a_synapse_is_refused_at_definition(kwargs, line):
    """BUG: ``sum(exc)`` (without ``pre.``/``post.``) is accepted in a synapse.

    The resolver turns it into ``_sum_exc``, which nothing binds for a
    projection: the first step fails with ``NameError: name '_sum_exc' is not
    defined``.  Expected: an EquationError at definition suggesting
    ``post.sum(exc)`` or ``pre.sum(exc)``.
    """
    with pytest.raises(EquationError, match=r"^Synapse, (psp|equations, line 1): ") as info:
        Synapse(**kwargs)
    check_caret(info.value, line, "sum")


def test_synapse_suggestion_is_not_the_same_name():
    """Unclear message (bug): ``mean(pre)`` in a synapse says "unknown name 'pre'; did you mean 'pre'?"."""
    with pytest.raises(EquationError) as info:
        Synapse(equations="dw/dt = mean(pre)")
    assert "did you mean 'pre'" not in str(info.value)
    check_caret(info.value, "dw/dt = mean(pre)", "mean", also=("pre",))


def test_unknown_flag_without_a_close_match_lists_the_known_flags():
    with pytest.raises(EquationError, match=r"unknown flag 'zzz' for an equation; known flags: explicit, implicit, "
                                            r"semiimplicit, exponential, midpoint, rk4, population") as info:
        Neuron(equations="dr/dt = 1 : zzz")
    check_caret(info.value, "dr/dt = 1 : zzz", "zzz")


def test_stop_condition_errors():
    net = Network()
    with pytest.raises(EquationError, match=r"^Population 'p', stop_condition, line 1: unknown flag 'anny' for a "
                                            r"stop condition; did you mean 'any'\?") as info:
        net.create(2, Neuron(equations="r = 1"), name="p", stop_condition="r > 1 : anny")
    check_caret(info.value, "r > 1 : anny", "anny")
    with pytest.raises(EquationError, match=r"unknown name 'rr'; did you mean 'r'\?") as info:
        net.create(2, Neuron(equations="r = 1"), stop_condition="rr > 1")
    check_caret(info.value, "rr > 1", "rr")
    with pytest.raises(EquationError,
                       match=r"^Population 'pop[0-9]+', stop_condition: one condition expected \(got 2\)"):
        net.create(2, Neuron(equations="r = 1"), stop_condition="r > 1\nr < 2")
    with pytest.raises(ValidationError, match=r"stop_condition: must be a string such as 'r > 1\.0 : any' \(got 3\)"):
        net.create(2, Neuron(equations="r = 1"), stop_condition=3)


def _project(synapse: Synapse) -> None:
    net = Network()
    pop = net.create(2, Neuron(equations="r = 1"))
    net.connect(pop, pop, "exc", synapse)


@pytest.mark.parametrize("make, message", [
    (lambda: Neuron(equations="r = 1", foo=1), r"^Neuron\.foo: unknown argument$"),
    (lambda: Network().create(1, Neuron(equations="r = 1", spike="v > 1")),
     r"^Population\.neuron: 'Neuron' is a spiking model \(it defines spike=\); ratenet simulates rate-coded "
     r"neurons only$"),
    (lambda: Neuron(equations="r = 1", refractory=2.0, foo=1), r"^Neuron\.foo: unknown argument$"),
    (lambda: Neuron(equations=3), r"^Neuron\.equations: must be a string, a Variable or a list of them \(got 3\)$"),
    (lambda: Neuron(parameters=1.5), r"^Neuron\.parameters: must be a string or a dict of values and Parameters "
                                     r"\(got 1\.5\)$"),
    (lambda: Neuron(functions=["f(x) = x"]), r"^Neuron\.functions: must be a string \(got \['f\(x\) = x'\]\)$"),
    (lambda: Synapse(pruning=3), r"^Synapse\.pruning: must be a string such as 'condition : proba=0\.5' or a "
                                 r"Pruning \(got 3\)$"),
    (lambda: Synapse(creating=ratenet.Pruning("w > 1")), r"^Synapse\.creating: must be a string such as "
                                                         r"'condition : proba=0\.5' or a Creating \(got Pruning"),
    (lambda: Neuron(functions=object), r"^Neuron\.functions: must be a string"),
    (lambda: Synapse(operation="prod"), r"^Synapse\.operation: must be one of 'sum', 'max', 'min', 'mean' "
                                        r"\(got 'prod'\)$"),
    (lambda: Synapse(psp=3), r"^Synapse\.psp: must be a string \(got 3\)$"),
    (lambda: _project(Synapse(pre_spike="g += w", name="S")),
     r"^Projection\.synapse: 'S' is a spiking model \(it defines pre_spike=\); ratenet simulates rate-coded "
     r"synapses only$"),
    (lambda: Synapse(foo=1), r"^Synapse\.foo: unknown argument$"),
    (lambda: Constant(3, 1.0), r"^Constant\.name: must be a string \(got 3\)$"),
    (lambda: Constant("c", float("nan")), r"^Constant 'c'\.value: must be a finite number \(got nan\)$"),
    (lambda: Constant("c", True), r"^Constant 'c'\.value: must be a finite number \(got True\)$"),
    (lambda: Constant("c", "1"), r"^Constant 'c'\.value: must be a finite number \(got '1'\)$"),
    (lambda: functions("nope"), r"^functions\.name: no function of that name was added"),
])
def test_validation_errors(make, message):
    with pytest.raises(ValidationError, match=message) as info:
        make()
    assert isinstance(info.value, ValueError) and isinstance(info.value, RatenetError)


@pytest.mark.parametrize("name, message", [
    ("exp", r"'exp' is a built-in function and cannot be used as a constant name"),
    ("t", r"'t' is reserved and cannot be used as a constant name"),
    ("_c", r"names starting with '_' are reserved"),
    ("os.system", r"'os\.system' is not a valid name"),
    ("for", r"'for' is reserved"),
])
def test_invalid_constant_names(name, message):
    with pytest.raises(EquationError, match=r"^Constant: " + message) as info:
        Constant(name, 1.0)
    check_caret(info.value, f"{name} = 1.0", 0)


def test_constant_set_rejects_bad_values_and_keeps_the_old_one():
    c = Constant("c", 1.0)
    for bad in (float("inf"), "2", None, True):
        with pytest.raises(ValidationError, match=r"Constant 'c'\.value: must be a finite number"):
            c.set(bad)
    assert c.value == 1.0


def test_parameter_mapping_errors():
    with pytest.raises(EquationError, match=r"^Neuron, parameters: the value of 'a' must be a number, a bool, a "
                                            r"distribution or a Parameter"):
        Neuron(parameters={"a": "1"})
    with pytest.raises(EquationError, match=r"names starting with '_' are reserved"):
        Neuron(parameters={"_a": 1.0})
    with pytest.raises(EquationError, match=r"'pi' is reserved"):
        Neuron(parameters={"pi": 1.0})


def test_ode_on_a_function_argument_name_message():
    """Unclear message: ``r = dx/dt`` reports "unknown name 'r'" (the ODE is taken to be for x)."""
    with pytest.raises(EquationError) as info:
        Neuron(equations="r = dx/dt")
    assert "unknown name 'r'" not in str(info.value)


# ===========================================================================
# 3. malicious strings, with proof of no side effect


@pytest.fixture
def canaries(monkeypatch):
    """Replace what a payload would reach for by recorders; yield the list of calls.

    ``builtins.ratenet_canary`` is a global sentinel that a payload tries to change.
    """
    calls: list[tuple[str, tuple]] = []

    def recorder(name):
        def record(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} was called with {args!r}")
        return record

    monkeypatch.setattr(builtins, "ratenet_canary", "untouched", raising=False)
    targets = [(os, "system"), (os, "popen"), (os, "remove"), (subprocess, "Popen"), (subprocess, "run"),
               (builtins, "eval"), (builtins, "exec"), (builtins, "open"), (builtins, "breakpoint"),
               (builtins, "input"), (builtins, "print")]
    with monkeypatch.context() as patch:
        for module, name in targets:
            patch.setattr(module, name, recorder(f"{module.__name__}.{name}"))
        yield calls


def payloads(path) -> dict[str, str]:
    return {
        "os.system": f"__import__('os').system('touch {path}')",
        "open": f"open('{path}', 'w')",
        "open.write": f"open('{path}', 'w').write('pwned')",
        "subclasses": "().__class__.__base__.__subclasses__()",
        "class chain": "(1).__class__.__mro__[-1].__subclasses__()",
        "lambda": f"(lambda: open('{path}', 'w'))()",
        "list comp": f"[open('{path}', 'w') for x in (1,)]",
        "gen exp": f"exp(open('{path}', 'w') for x in (1,))",
        "dict comp": "{x: 1 for x in (1,)}",
        "attribute": "r.__class__",
        "subscript": "r[0]",
        "f-string": f"f'{{open(\"{path}\", \"w\")}}'",
        "walrus": "(x := 1)",
        "exec": f"exec(\"open('{path}', 'w')\")",
        "eval": f"eval(\"open('{path}', 'w')\")",
        "globals": "globals()",
        "getattr": "getattr(r, '__class__')",
        "setattr": "setattr(__builtins__, 'ratenet_canary', 'changed')",
        "builtins dict": "__builtins__['ratenet_canary']",
        "dunder name": "__import__",
        "dunder call": "__import__('os')",
        "function globals": "exp.__globals__",
        "call result": "exp(r)(1)",
        "string": "'rm -rf /'",
        "bytes": "b'\\x00'",
        "conditional payload": f"1 if 1 else open('{path}', 'w')",
        "ite payload": f"ite(1, 1, open('{path}', 'w'))",
        "nested in function": f"exp(__import__('os').system('touch {path}'))",
        "statement": f"1; open('{path}', 'w')",
        "import": "import os",
        "1000 parentheses": "(" * 1000 + "1" + ")" * 1000,
        "5000 unary minus": "-" * 5000 + "1",
        "very long": "+".join(["1"] * 6000),
        "await": "await r",
        "yield": "(yield)",
    }


def positions(payload: str) -> dict[str, object]:
    """Every string argument a payload can go into, as zero-argument callables."""
    return {
        "equation": lambda: Neuron(equations=f"r = {payload}"),
        "ode": lambda: Neuron(parameters="tau = 10.0", equations=f"tau*dr/dt + r = {payload}"),
        "parameter": lambda: Neuron(parameters=f"a = {payload}"),
        "parameter name": lambda: Neuron(parameters={payload: 1.0}),
        "flag init": lambda: Neuron(equations=f"r = 1 : init={payload}"),
        "flag max": lambda: Neuron(equations=f"r = 1 : max={payload}"),
        "flag": lambda: Neuron(equations=f"r = 1 : {payload}"),
        "parameter flag": lambda: Neuron(parameters=f"a = 1 : {payload}"),
        "functions": lambda: Neuron(functions=f"f(x) = {payload}", equations="r = f(1)"),
        "synapse equation": lambda: Synapse(equations=f"dw/dt = {payload}"),
        "synapse parameter": lambda: Synapse(parameters=f"eta = {payload}"),
        "psp": lambda: Synapse(psp=payload),
        "stop_condition": lambda: Network().create(2, Neuron(equations="r = 1"), stop_condition=f"{payload} : any"),
        "stop_condition flag": lambda: Network().create(2, Neuron(equations="r = 1"),
                                                        stop_condition=f"r > 1 : {payload}"),
        "add_function": lambda: add_function(f"f(x) = {payload}"),
        "add_function name": lambda: add_function(f"{payload}(x) = x"),
        "constant name": lambda: Constant(payload, 1.0),
    }


def test_every_payload_in_every_position_is_refused_without_side_effect(tmp_path, canaries):
    sentinel = tmp_path / "pwned"
    accepted = []
    for label, payload in payloads(sentinel).items():
        for where, define in positions(payload).items():
            try:
                define()
            except (EquationError, ValidationError):
                continue
            except Exception as exc:  # noqa: BLE001 - reported below as a failure
                accepted.append(f"{where} / {label}: {type(exc).__name__}: {exc}")
                continue
            accepted.append(f"{where} / {label}: accepted")
    assert not canaries, canaries
    assert not sentinel.exists()
    assert builtins.ratenet_canary == "untouched"
    assert not accepted, "\n".join(accepted)


@pytest.mark.parametrize("label", sorted(payloads("FILE")))
def test_payload_in_an_equation_is_an_equation_error(tmp_path, canaries, label):
    sentinel = tmp_path / "pwned"
    with pytest.raises(EquationError) as info:
        Neuron(equations=f"r = {payloads(sentinel)[label]}")
    assert str(info.value).startswith("Neuron")
    assert not sentinel.exists() and not canaries
    assert builtins.ratenet_canary == "untouched"


def test_nothing_runs_when_a_rejected_model_is_used_afterwards(tmp_path, canaries):
    """A network built after rejected definitions runs normally and touches nothing."""
    sentinel = tmp_path / "pwned"
    with pytest.raises(EquationError):
        Neuron(equations=f"r = __import__('os').system('touch {sentinel}')")
    net = Network()
    pop = net.create(2, Neuron(equations="r = 1 + t"), stop_condition="r > 2 : all")
    assert net.simulate_until(5.0, pop) == 3.0
    assert not sentinel.exists() and not canaries


def test_names_that_look_like_python_are_not_python():
    """``open``, ``eval``, ``print`` are ordinary unknown names (no builtins leak into scope)."""
    for name in ("open", "eval", "exec", "print", "globals", "getattr", "compile", "input", "type", "object"):
        with pytest.raises(EquationError, match=rf"unknown name '{name}'"):
            Neuron(equations=f"r = {name}(1)")


def test_uniform_draws_in_equations_are_the_generators_uniform_bits():
    """Uniform(a, b) with b - a a power of two is drawn as a + (b - a) * random(): the same stream and the
    same bits as uniform(a, b) (the product is exact, one addition rounds); other ranges call uniform()."""
    from ratenet import Network

    bounds = [(0.0, 1.0), (-0.0, 1.0), (-1.0, 1.0), (0.25, 0.75), (-3.0, 5.0), (-1.0, 2.0), (0.1, 0.1 + 2**-20)]
    text = "\n".join(f"v{i} = Uniform({lo!r}, {hi!r})" for i, (lo, hi) in enumerate(bounds))
    net = Network(seed=7)
    pop = net.create(50, Neuron(equations=text + "\nr = 0.0"))
    net.simulate(3.0)
    rng = np.random.default_rng(7)
    expected = []
    for _ in range(3):
        expected = [rng.uniform(lo, hi, 50) for lo, hi in bounds]
    for i, want in enumerate(expected):
        assert getattr(pop, f"v{i}").tobytes() == want.tobytes(), bounds[i]


def test_uniform_with_a_power_of_two_range_matches_uniform_for_many_bounds():
    from ratenet.random import draw_in_equation

    picks = np.random.default_rng(1)
    for _ in range(200):
        low = float(picks.normal() * 10.0 ** picks.integers(-5, 5))
        span = 2.0 ** int(picks.integers(-30, 30))
        a, b = np.random.default_rng(5), np.random.default_rng(5)
        got = draw_in_equation("Uniform", a, (64,), (low, low + span))
        want = b.uniform(low, low + span, 64)
        assert got.tobytes() == want.tobytes(), (low, span)


def test_uniform_with_per_neuron_bounds_still_draws_and_checks():
    from ratenet import EquationError, Network

    net = Network(seed=3)
    pop = net.create(4, Neuron(parameters="lo = 0.0\nhi = 1.0", equations="r = Uniform(lo, hi)"))
    pop.hi = [1.0, 2.0, 3.0, 4.0]
    net.simulate(1.0)
    assert np.array_equal(pop.r, np.random.default_rng(3).uniform(np.zeros(4), np.arange(1.0, 5.0), 4))
    pop.lo = [0.0, 5.0, 0.0, 0.0]
    with pytest.raises(EquationError, match="min must not exceed max"):
        net.simulate(1.0)
