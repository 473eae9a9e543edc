"""Equation forms ANNarchy accepts (issue 11 items 2 and 5) and ANNarchy 5's model objects (issue 12 item 1).

1. targets named after Python keywords (``sum(in)``), everywhere a target appears;
2. several definitions on one line separated by ``;``; ``is``/``is not``; bounds that are
   expressions of parameters; user functions with an argument named ``t``;
3. ``Parameter``/``Variable`` objects build the same parsed model as the 4.x strings;
4. ``pruning``/``creating`` rules (4.x strings and 5.x objects) parsed into records.

Expected values are computed here with NumPy; records are compared field by field
(syntax trees through ``ast.dump``).
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import ratenet
from ratenet import (
    Creating,
    EquationError,
    Network,
    Neuron,
    Parameter,
    Pruning,
    Synapse,
    Uniform,
    ValidationError,
    Variable,
)
from ratenet.equations import Scope, StructuralRule, build_function, numpy_namespace, parse_equations

from _messages import check_caret, concise  # noqa: E402 - tests/ is on the path


@pytest.fixture(autouse=True)
def _fresh_globals():
    ratenet.clear()
    yield
    ratenet.clear()


def records(model) -> tuple:
    """Everything a parsed model consists of, comparable with ==."""
    def value(v):
        return ast.dump(v) if isinstance(v, ast.AST) else v

    parameters = [(p.name, p.value, p.locality, p.dtype) for p in model.parameters]
    equations = [(e.target, e.kind, ast.dump(e.rhs), e.op, e.method, value(e.init), value(e.min), value(e.max),
                  e.locality, e.dtype) for e in model.equations]
    extra = ()
    if isinstance(model, Synapse):
        rules = tuple(None if r is None else (r.kind, ast.dump(r.condition), r.proba, r.w, r.d)
                      for r in (model.pruning, model.creating))
        extra = (ast.dump(model.psp), model.operation, rules)
    return parameters, equations, extra


# ===========================================================================
# 1. targets named after Python keywords (issue 11 item 2)

KEYWORD_TARGETS = ["in", "if", "for", "lambda", "not", "and", "True", "None", "class", "exc"]


@pytest.mark.parametrize("target", KEYWORD_TARGETS)
def test_a_target_named_after_a_keyword_works_everywhere(target):
    with concise():
        net = Network()
        pre = net.create(3, Neuron(parameters="r = 0.0"))
        post = net.create(3, Neuron(equations=f"r = 2 * sum({target}) + sum( {target} ) + sum()"))
        net.connect(pre, post, target).connect_one_to_one(1.5)
        monitor = net.monitor(post, ["r", f"sum({target})"])
        pre.r = [1.0, 2.0, 3.0]
        net.simulate(2.0)
    inflow = 1.5 * np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(post.r, 4 * inflow)
    np.testing.assert_array_equal(post.sum(target), inflow)
    np.testing.assert_array_equal(monitor.get(f"sum({target})")[-1], inflow)
    assert post.targets == [target]


def test_keyword_targets_in_synapses():
    with concise():
        net = Network()
        pre = net.create(2, Neuron(parameters="r = 0.0", equations="q = sum(if)"))
        post = net.create(2, Neuron(equations="r = sum(exc) + sum(in)"))
        learning = Synapse(equations="x = post.sum(in) + 10 * pre.sum(if)")
        proj = net.connect(pre, post, "exc", learning).connect_one_to_one(1.0)
        net.connect(pre, post, "in").connect_one_to_one(2.0)
        net.connect(post, pre, "if").connect_one_to_one(3.0)
        pre.r = [1.0, 2.0]
        net.simulate(1.0)
    # step 1: post.sum(in) = 2 * pre.r; pre.sum(if) = 3 * post.r of the step before = 0
    np.testing.assert_array_equal(np.asarray(proj.x).reshape(-1)[[0, -1]], [2.0, 4.0])
    np.testing.assert_array_equal(post.r, [1.0 + 2.0, 2.0 + 4.0])


@pytest.mark.parametrize("text, message, token", [
    ("r = sum(a-b)", r"'a-b' is not a target name: a target is a name of letters, digits and '_' that does not start "
                     r"with a digit; e\.g\. sum\(exc\)", "a"),
    ("r = sum(2)", r"'2' is not a target name", "2"),
    ("r = sum(exc, inh)", r"sum\(\) takes one target name, e\.g\. sum\(exc\)", "sum"),
    ("r = sum(_x)", r"names starting with '_' are reserved \(got '_x'\); a target may not start with '_'", "_x"),
    ("r = in + 1", r"syntax error", "in"),       # a keyword is a target only inside sum()
    ("r = 2^sum(if)^2 + sum( for ) + q", r"unknown name 'q'\n", "q"),
    ("r = sum(in) ^ (1 +", r"syntax error: '\(' was never closed", ("(", 1)),
    ("r = sum(ｅxc)", r"non-ASCII character 'ｅ' \(U\+FF45\): names and operators must be ASCII; it looks like "
                      r"'e': type that instead", "ｅ"),
])
def test_a_target_that_cannot_be_used_says_why(text, message, token):
    """Also: carets stay in place after keyword targets and ``^`` are rewritten for Python's parser."""
    with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}") as info:
        Neuron(equations=text)
    check_caret(info.value, text, token)


# ===========================================================================
# 2. ';', is / is not, bounds naming parameters, functions of t (issue 11 item 5)


def test_several_definitions_on_one_line():
    one_line = Neuron(parameters="a = 1.0; b = 2.0 : population", functions="f(x) = 2 * x; g(x) = f(x) + 1",
                      equations="v = g(a) ; dr/dt + r = v + b : min=0.0;  # a comment; still a comment", name="N")
    lines = Neuron(parameters="a = 1.0\nb = 2.0 : population", functions="f(x) = 2 * x\ng(x) = f(x) + 1",
                   equations="v = g(a)\ndr/dt + r = v + b : min=0.0", name="N")
    assert records(one_line) == records(lines)
    assert [e.source.where for e in one_line.equations] == ["Neuron 'N', equations, line 1"] * 2
    assert [e.source.text for e in one_line.equations] == ["v = g(a)", "dr/dt + r = v + b : min=0.0"]
    assert sorted(one_line.own_functions) == ["f", "g"]


def test_an_error_in_the_second_definition_of_a_line_quotes_that_definition():
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 2: unknown name 'q'") as info:
        Neuron(equations="v = 1\nw = v; r = q + 1")
    check_caret(info.value, "r = q + 1", "q")
    with pytest.raises(EquationError, match=r"syntax error") as info:
        Neuron(equations="r = max(1; 2)")       # inside brackets ';' separates nothing
    check_caret(info.value, "r = max(1; 2)", ";")


@pytest.mark.parametrize("text, reference", [
    ("a is b", lambda a, b: a == b),
    ("a is not b", lambda a, b: a != b),
    ("(a is 1) and (b is not 1)", lambda a, b: (a == 1) & (b != 1)),
    ("ite(a is b, 1, 2)", lambda a, b: np.where(a == b, 1.0, 2.0)),
])
def test_is_and_is_not_are_equality_tests_as_in_annarchy(text, reference):
    a = np.array([1.0, 2.0, 1.0])
    b = np.array([1.0, 1.0, 3.0])
    with concise():
        net = Network()
        pop = net.create(3, Neuron(parameters="a = 0.0\nb = 0.0", equations=f"r = {text}"))
        pop.a, pop.b = a, b
        net.step()
    np.testing.assert_array_equal(pop.r, np.asarray(reference(a, b), dtype=float))


def test_bounds_that_are_expressions_of_parameters_and_variables():
    synapse = Synapse(parameters="max_weight_change = 0.01 : projection\neta = 1.0 : projection",
                      equations="delta = eta * pre.r * post.r : min=-max_weight_change, max=max_weight_change\n"
                                "w += delta : min = 0.5 * w0, max = w0 + 2 * max_weight_change\nw0 = 0.3 : projection")
    with concise():
        net = Network()
        pre = net.create(2, Neuron(parameters="r = 0.0"))
        post = net.create(2, Neuron(parameters="lim = 0.5 : population",
                                    equations="r = sum(exc) : min=-lim, max=2*lim"))
        proj = net.connect(pre, post, "exc", synapse)
        proj.connect_all_to_all(0.3)
        pre.r = [1.0, -1.0]
        net.simulate(4.0)
    # reference: the same loop in NumPy
    w = np.full((2, 2), 0.3)
    r_pre = np.array([1.0, -1.0])
    r = np.zeros(2)
    for _ in range(4):
        r = np.clip(w @ r_pre, -0.5, 1.0)
        delta = np.clip(np.outer(r, r_pre), -0.01, 0.01)
        w = np.clip(w + delta, 0.15, 0.3 + 0.02)
    np.testing.assert_allclose(post.r, r, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(proj.w).reshape(2, 2), w, rtol=1e-14)


@pytest.mark.parametrize("text, message, token", [
    ("r = 1 : min=sum(exc)", r"the flag 'min' may use numbers, parameters, variables, constants and functions, not "
                             r"sum\(exc\)", "sum"),
    ("r = 1 : max=mean(v)", r"the flag 'max' may use .* not mean\(v\)", "mean"),
    ("r = 1 : min=-Uniform(0, 1)", r"the flag 'min' needs a number or an expression of parameters and variables, "
                                   r"not a random draw", "Uniform"),
    ("r = 1 : min=-q", r"unknown name 'q'", "q"),
    ("r = 1 : min=-tua", r"unknown name 'tua'; did you mean 'tau'\?", "tua"),
])
def test_bound_expressions_that_cannot_be_used(text, message, token):
    with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}") as info:
        Neuron(parameters="tau = 1.0", equations=f"v = 1\n{text}".replace("\n", "; "))
    check_caret(info.value, text, token)
    with pytest.raises(EquationError, match=r"not pre\.r"):
        Synapse(equations="x = 1 : min=-pre.r")


def test_a_function_may_take_an_argument_named_t_or_dt():
    with concise():
        net = Network(dt=0.5)
        pop = net.create(2, Neuron(functions="decay(x, t) = x * exp(-t)\nstep(dt, t) = t + dt",
                                   equations="r = decay(2.0, t) + step(dt, t)"))
        net.simulate(1.5)        # the last step runs at t = 1.0
    np.testing.assert_allclose(pop.r, 2.0 * np.exp(-1.0) + 1.5, rtol=1e-15)
    assert float(pop.decay(3.0, 0.0)) == 3.0
    with pytest.raises(EquationError, match=r"'t' is not available in functions: pass it as an argument; e\.g\. "
                                            r"f\(x, t\) = \.\.\. called as f\(x, t\)"):
        Neuron(functions="f(x) = x * t")


# ===========================================================================
# 3. ANNarchy 5's Parameter and Variable (issue 12 item 1)


def test_neuron_in_5x_form_is_the_same_model_as_in_4x_form():
    four = Neuron(
        parameters="tau = 10.0 : population\nbaseline = Uniform(0, 1)\nn = 3 : population, int\nflag = True",
        equations="tau * dr/dt + r = baseline + sum(exc) : min=0.0, exponential, init=0.1\n"
                  "count = count + 1 : int, population\nactive = r > 0.5 : bool",
        name="L", description="leaky")
    five = Neuron(
        parameters=dict(tau=10.0, baseline=Parameter(Uniform(0, 1), locality="local"),
                        n=Parameter(3, type=int), flag=Parameter(True, locality="local", type=bool)),
        equations=[Variable("tau * dr/dt + r = baseline + sum(exc)", min=0.0, method="exponential", init=0.1),
                   Variable("count = count + 1", type=int, locality="global"),
                   "active = r > 0.5 : bool"],
        name="L", description="leaky")
    assert records(five) == records(four)
    assert five.targets == four.targets == ["exc"]
    # and they simulate identically
    results = []
    for model in (four, five):
        with concise():
            net = Network(seed=7)
            pop = net.create(4, model)
            net.simulate(5.0)
        results.append((pop.r.copy(), pop.count, pop.active.copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1:2] == results[1][1:2]


def test_synapse_in_5x_form_is_the_same_model_as_in_4x_form():
    four = Synapse(
        parameters="eta = 0.1 : projection\ntheta = 1.0 : postsynaptic\nT = 5 : projection, int\nmax_change = 0.01",
        equations="age = if pre.r * post.r > theta: 0 else: age + 1 : int, init=0\n"
                  "dw/dt = eta * pre.r * post.r : min=-max_change, max=1.0\n"
                  "m = mean(pre.r) : postsynaptic",
        psp="w * pre.r", operation="max",
        pruning="age > T : proba = 0.5", creating="pre.r * post.r > theta : proba=0.1, w=0.01, d=2.0")
    five = Synapse(
        parameters=dict(eta=0.1, theta=Parameter(1.0, locality="semiglobal"), T=Parameter(5, type=int),
                        max_change=Parameter(0.01, locality="local")),
        equations=[Variable("age = if pre.r * post.r > theta: 0 else: age + 1", type=int, init=0),
                   Variable("dw/dt = eta * pre.r * post.r", min="-max_change", max=1.0),
                   Variable("m = mean(pre.r)", locality="semiglobal")],
        psp="w * pre.r", operation="max",
        pruning=Pruning("age > T", proba=0.5), creating=Creating("pre.r * post.r > theta", proba=0.1, w=0.01, d=2.0))
    assert records(five) == records(four)


def test_the_5x_words_for_localities():
    synapse = Synapse(parameters=dict(a=Parameter(1.0), b=Parameter(1.0, "semiglobal"), c=Parameter(1.0, "local"),
                                      d=Parameter(1.0, "projection"), e2=Parameter(1.0, "postsynaptic"), f=2.0))
    assert [p.locality for p in synapse.parameters] == ["projection", "postsynaptic", "local", "projection",
                                                        "postsynaptic", "projection"]
    neuron = Neuron(parameters=dict(a=Parameter(1.0), c=Parameter(1.0, "local"), d=Parameter(1.0, "population"),
                                    f=2.0, r=0.0))
    assert [p.locality for p in neuron.parameters] == ["population", "local", "population", "population", "local"]
    with pytest.raises(EquationError, match=r"^Neuron, parameters: the parameter 'b': 'semiglobal' \(one value per "
                                            r"post-synaptic neuron\) exists only in synapses\n    b = Parameter"):
        Neuron(parameters=dict(b=Parameter(1.0, "semiglobal")))
    with pytest.raises(EquationError, match=r"'projection' is not a locality of a neuron attribute \(use 'global'\)"):
        Neuron(parameters=dict(b=Parameter(1.0, "projection")))
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1: Variable\(locality='semiglobal'\): "
                                            r"'semiglobal' \(one value per post-synaptic neuron\) exists only in "
                                            r"synapses"):
        Neuron(equations=[Variable("r = 1", locality="semiglobal")])


def test_variable_flags_may_repeat_the_text_but_not_contradict_it():
    """ANNarchy 5's own example writes ``init = 0, int`` in the text and ``init=0, type=int`` again."""
    repeated = Synapse(equations=[Variable("age = age + 1 : init = 0, int", init=0, type=int)])
    assert records(repeated) == records(Synapse(equations="age = age + 1 : init=0, int"))
    for variable, message, token in [
        (Variable("r = 1 : init=1", init=2), r"the flag 'init=' contradicts Variable\(init=2\)", "init"),
        (Variable("r = 1 : int", type=bool), r"the flag 'int' contradicts Variable\(type=bool\)", "int"),
        (Variable("dr/dt = 1 : rk4", method="explicit"), r"the flag 'rk4' contradicts Variable\(method='explicit'\)",
         "rk4"),
        (Variable("r = 1 : population", locality="semiglobal"),
         r"Variable\(locality='semiglobal'\): 'semiglobal' \(one value per post-synaptic neuron\) exists only in "
         r"synapses", 0),
        (Variable("r = 1 : min=0", min="1 - 1 + 2"), r"the flag 'min=' contradicts Variable\(min='1 - 1 \+ 2'\)",
         "min"),
    ]:
        with pytest.raises(EquationError, match=rf"^Neuron, equations, line 1: {message}") as info:
            Neuron(equations=[variable])
        check_caret(info.value, variable.equation, token)


def test_variable_holding_two_definitions_or_a_bad_bound():
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1: a Variable holds exactly one definition "
                                            r"\(got 2\)"):
        Neuron(equations=[Variable("v = 1\nr = 2")])
    with pytest.raises(EquationError, match=r"^Neuron, equations, line 1, Variable\(min=\.\.\.\): unknown name 'q'"):
        Neuron(equations=[Variable("r = 1", min="-q")])
    with pytest.raises(EquationError, match=r"Variable\(init=\.\.\.\): init= takes a number, a bool, a distribution "
                                            r"or the name of an attribute"):
        Neuron(equations=[Variable("r = 1", init="1 + x")])


def test_variable_init_naming_a_parameter_and_a_single_variable_as_equations():
    neuron = Neuron(parameters=dict(p=Parameter(2.5, locality="local")), equations=Variable("r = r + 1", init="p"))
    assert neuron.equations[0].init == "p"
    with concise():
        net = Network()
        pop = net.create(2, neuron)
        net.step()
    assert pop.r.tolist() == [3.5, 3.5]


@pytest.mark.parametrize("make, message", [
    (lambda: Parameter("1"), r"^Parameter\.value: must be a number, a bool or a distribution \(got '1'\)$"),
    (lambda: Parameter(float("nan")), r"^Parameter\.value: must be finite \(got nan\)$"),
    (lambda: Parameter(1.0, locality="everywhere"),
     r"^Parameter\.locality: must be 'global', 'semiglobal' or 'local' \(got 'everywhere'\)$"),
    (lambda: Parameter(1.0, type=complex),
     r"^Parameter\.type: must be float, int or bool \(or their names as strings\) \(got complex\)$"),
    (lambda: Variable(3), r"^Variable\.equation: must be a string \(got 3\)$"),
    (lambda: Variable("r = 1", method="euler"),
     r"^Variable\.method: must be one of explicit, implicit, semiimplicit, exponential, midpoint, rk4 "
     r"\(got 'euler'\)$"),
    (lambda: Variable("r = 1", min=float("inf")), r"^Variable\.min: must be a finite number \(got inf\)$"),
    (lambda: Variable("r = 1", init=[1]), r"^Variable\.init: must be a number, a bool, a distribution or a name"),
    (lambda: Creating("x > 1", proba=2.0), r"^Creating\.proba: must lie in \[0, 1\] \(got 2\.0\)$"),
    (lambda: Creating("x > 1", d=-1.0), r"^Creating\.d: must be >= 0 \(ms\) \(got -1\.0\)$"),
    (lambda: Creating("x > 1", w="big"), r"^Creating\.w: must be a finite number \(got 'big'\)$"),
    (lambda: Pruning(None), r"^Pruning\.equation: must be a string \(got None\)$"),
    (lambda: Pruning("x > 1", proba=-0.5), r"^Pruning\.proba: must lie in \[0, 1\] \(got -0\.5\)$"),
])
def test_model_object_arguments_are_checked(make, message):
    with pytest.raises(ValidationError, match=message):
        make()


def test_mapping_parameters_follow_annarchy_5():
    """A plain value is one value for the population (neurons) or projection (synapses); r stays per neuron."""
    with concise():
        net = Network()
        pop = net.create(3, Neuron(parameters={"r": 0.0, "gain": 2.0}))
    assert pop.gain == 2.0 and pop.r.shape == (3,)
    assert [p.locality for p in Synapse(parameters={"eta": 0.1}).parameters] == ["projection"]
    assert ratenet.Parameter is ratenet.attributes.Parameter
    for name in ("Parameter", "Variable", "Creating", "Pruning"):
        assert name in ratenet.__all__


# ===========================================================================
# 4. pruning and creating rules


def test_pruning_rule_record_and_its_condition_compiles_in_the_synapse_context():
    synapse = Synapse(parameters="T = 3 : projection, int",
                      equations="age = if pre.r * post.r > 0.5: 0 else: age + 1 : int",
                      pruning="age > T and pre.r < mean(post.r) : proba=0.25")
    rule = synapse.pruning
    assert isinstance(rule, StructuralRule)
    assert (rule.kind, rule.proba, rule.w, rule.d) == ("pruning", 0.25, None, None)
    assert rule.source.where == "Synapse, pruning, line 1"
    assert rule.text == "age > T and pre.r < mean(post.r) : proba=0.25"
    # the condition reads the same symbols as the synapse's other expressions: evaluate it on local-level arrays
    namespace = numpy_namespace()
    age = np.array([[0, 4], [5, 2]])
    pre_r = np.array([[0.1, 0.9]])
    post_r = np.array([0.2, 0.6])
    namespace.update(age=age, T=np.int64(3), _pre_r=pre_r, _gpost_mean_r=post_r.mean())
    condition = build_function([ast.Return(value=rule.condition)], namespace, "pruning condition")
    np.testing.assert_array_equal(condition(), (age > 3) & (pre_r < post_r.mean()))


def test_creating_rule_defaults_and_values():
    rule = Synapse(parameters="T = 1.0 : postsynaptic", creating="pre.r * post.r > T").creating
    assert (rule.kind, rule.proba, rule.w, rule.d) == ("creating", 1.0, 0.0, None)
    assert ast.unparse(rule.condition) == "_pre_r * _post_r > T"
    rule = Synapse(creating="pre.sum(exc) > 1 : d = 2, w = 0.5, proba = 1/4").creating
    assert (rule.proba, rule.w, rule.d) == (0.25, 0.5, 2.0)
    rule = Synapse(creating=Creating("post.r > 1 or Uniform(0, 1) < 0.1")).creating
    assert "_rnd_Uniform" in ast.unparse(rule.condition)


@pytest.mark.parametrize("kwargs, message, quoted, token", [
    (dict(pruning="w < 0 : probability=0.5"), r"^Synapse, pruning, line 1: unknown flag 'probability' for a pruning "
                                             r"rule; did you mean 'proba='\?", "w < 0 : probability=0.5",
                                             "probability"),
    (dict(pruning="w < 0 : w=0.5"), r"unknown flag 'w' for a pruning rule; known flags: proba=", "w < 0 : w=0.5",
     ("w", 1)),
    (dict(pruning="w < 0 : proba"), r"unknown flag 'proba' for a pruning rule", "w < 0 : proba", "proba"),
    (dict(pruning="w < 0 : proba=1.5"), r"proba must lie in \[0, 1\] \(got 1\.5\)", "w < 0 : proba=1.5", "1.5"),
    (dict(creating="pre.r > 0 : d=-1"), r"^Synapse, creating, line 1: the delay d must be >= 0 ms \(got -1\.0\)",
     "pre.r > 0 : d=-1", "-"),
    (dict(creating="pre.r > 0 : w=Uniform(0, 1)"), r"the flag 'w' needs a number", "pre.r > 0 : w=Uniform(0, 1)",
     "Uniform"),
    (dict(creating="w > 0.5"), r"a creating condition is evaluated where no synapse exists yet: it cannot read 'w', "
                               r"which has one value per synapse", "w > 0.5", "w"),
    (dict(parameters="k = 1.0", creating="pre.r > k"), r"cannot read 'k', which has one value per synapse",
     "pre.r > k", "k"),
    (dict(pruning="age > 1"), r"unknown name 'age'", "age > 1", "age"),
    (dict(pruning="sum(exc) > 1"), r"in a synapse, write post\.sum\(target\) or pre\.sum\(target\)", "sum(exc) > 1",
     "sum"),
])
def test_structural_rule_errors(kwargs, message, quoted, token):
    with pytest.raises(EquationError, match=message) as info:
        Synapse(**kwargs)
    check_caret(info.value, quoted, token)


def test_structural_rule_errors_without_a_line():
    with pytest.raises(EquationError, match=r"^Synapse 'S', pruning: one condition expected \(got 2\)\n"
                                            r"    w < 0\?w > 1$"):
        Synapse(pruning="w < 0\nw > 1", name="S")
    with pytest.raises(EquationError, match=r"^Synapse, creating, line 1: 'proba' is given both in the text and as "
                                            r"Creating\(proba=\.\.\.\)"):
        Synapse(creating=Creating("pre.r > 0 : proba=0.5", proba=0.5))


def test_equations_given_as_the_4x_list_of_strings_still_number_lines():
    eqs = parse_equations(["v = 1", "r = v\ns = 2"], Scope())
    assert [e.source.where for e in eqs] == ["equations, line 1", "equations, line 2", "equations, line 3"]
    eqs = parse_equations(["v = 1", Variable("r = v"), "s = 2\nq = 3"], Scope())
    assert [e.source.where for e in eqs] == ["equations, line 1", "equations, line 2", "equations, line 3",
                                             "equations, line 4"]


def test_the_readme_equation_section_example():
    """The README's example of the equation language: both forms parse to the same model and run."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## The equation language", 1)[1]
    (block,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], flags=re.S)
    namespace: dict = {}
    # The example is the user's own code (not equation text): running it is the point of the test.
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert records(namespace["Rate"]) == records(namespace["Same"])
    assert namespace["pop"].targets == ["in"]
