"""Equations typeset in LaTeX from their syntax trees (ratenet.display.latex).

Each expected string was written by hand from the rules in the module's
docstring, not produced by the code under test.
"""

from __future__ import annotations

import ast
import re

import pytest

from ratenet import IBCM, Hebb, LeakyIntegrator, Neuron, Oja, Synapse, Uniform
from ratenet.display.latex import (equation_latex, escape_text, expression_latex, function_latex, name_latex,
                                   psp_latex, value_latex)
from ratenet.equations import Scope, parse_equations, parse_functions, written_expression, written_form


@pytest.mark.parametrize("name, expected", [
    ("r", "r"),
    ("tau", r"\tau"),
    ("Gamma", r"\Gamma"),
    ("tau_m", r"\tau_{m}"),
    ("v_rest", r"v_{\mathrm{rest}}"),
    ("tau_syn_exc", r"\tau_{\mathrm{syn},\mathrm{exc}}"),
    ("w2", "w_{2}"),
    ("alpha1", r"\alpha_{1}"),
    ("baseline", r"\mathit{baseline}"),
    ("theta_alpha", r"\theta_{\alpha}"),
    ("dt", r"\Delta t"),
    ("lamda", r"\lambda"),
])
def test_names(name, expected):
    assert name_latex(name) == expected


def _tex(text: str) -> str:
    return expression_latex(written_expression(text))


@pytest.mark.parametrize("text, expected", [
    ("a + b - c", "a + b - c"),
    ("a - (b - c)", r"a - \left(b - c\right)"),
    ("a - (b + c)", r"a - \left(b + c\right)"),
    ("(a + b) * c", r"\left(a + b\right) \, c"),
    ("2 * x", r"2 \, x"),
    ("x * 2", r"x \cdot 2"),
    ("x * (-y)", r"x \cdot \left(-y\right)"),
    ("(a + b) / (c - d)", r"\frac{a + b}{c - d}"),
    ("1 / (1 + exp(-x))", r"\frac{1}{1 + e^{-x}}"),
    ("exp(-(x - mu)^2 / (2 * sigma^2))", r"\exp\left(\frac{-\left(x - \mu\right)^{2}}{2 \, \sigma^{2}}\right)"),
    ("x^2", "x^{2}"),
    ("x**(a + 1)", "x^{a + 1}"),
    ("(a * b)^2", r"\left(a \, b\right)^{2}"),
    ("-x^2", "-x^{2}"),
    ("-(a + b)", r"-\left(a + b\right)"),
    ("sum(exc)", r"\Sigma_{\mathrm{exc}}"),
    ("sum()", r"\Sigma"),
    ("sum(exc) - sum(inh)", r"\Sigma_{\mathrm{exc}} - \Sigma_{\mathrm{inh}}"),
    ("pre.r * post.r", r"r^{\mathrm{pre}} \, r^{\mathrm{post}}"),
    ("post.r^2", r"\left(r^{\mathrm{post}}\right)^{2}"),
    ("post.sum(exc)", r"\Sigma_{\mathrm{exc}}^{\mathrm{post}}"),
    ("pos(v - T)", r"\left[v - T\right]^{+}"),
    ("neg(x)", r"\left[x\right]^{-}"),
    ("sqrt(abs(x))", r"\sqrt{\left|x\right|}"),
    ("tanh(x)", r"\tanh\left(x\right)"),
    ("log(x)", r"\ln\left(x\right)"),
    ("log10(x)", r"\log_{10}\left(x\right)"),
    ("floor(x)", r"\left\lfloor x \right\rfloor"),
    ("power(x, 3)", "x^{3}"),
    ("modulo(t, 10)", r"t \bmod 10"),
    ("clip(x, 0, 1)", r"\operatorname{clip}\left(x, 0, 1\right)"),
    ("max(a, b)", r"\max\left(a, b\right)"),
    ("mean(r)", r"\operatorname{mean}\left(r\right)"),
    ("norm2(r)", r"\lVert r \rVert_{2}"),
    ("Uniform(0, 1)", r"\mathcal{U}\left(0, 1\right)"),
    ("Normal(0.0, 0.1)", r"\mathcal{N}\left(0.0, 0.1\right)"),
    ("sigmoid(x)", r"\operatorname{sigmoid}\left(x\right)"),
    ("f(x)", r"f\left(x\right)"),
    ("pi * t", r"\pi \, t"),
    ("1e-05 * x", r"10^{-5} \, x"),
    ("2.5e-3", r"0.0025"),
    ("a > b", "a > b"),
    ("a >= b and not c", r"a \geq b \wedge \neg c"),
    ("a < b or a != c", r"a < b \vee a \neq c"),
    ("ite(v > 0, v, 0)", r"\begin{cases} v & \text{if } v > 0 \\ 0 & \text{otherwise} \end{cases}"),
    ("if v > 1: 1 else: if v < 0: -1 else: 0",
     r"\begin{cases} 1 & \text{if } v > 1 \\ -1 & \text{if } v < 0 \\ 0 & \text{otherwise} \end{cases}"),
])
def test_expressions(text, expected):
    assert _tex(text) == expected


def test_resolved_trees_render_like_written_ones():
    # The fallback path renders the parser's own trees (symbols such as _sum_exc, _pre_r, _f_exp).
    eq = parse_equations("r = pos(sum(exc)) * exp(-tau) + mean(r)", Scope(locals={"tau": "local"}))[0]
    assert expression_latex(eq.rhs) == r"\left[\Sigma_{\mathrm{exc}}\right]^{+} \, e^{-\tau} + " \
                                       r"\operatorname{mean}\left(r\right)"
    synapse = Synapse(equations="dw/dt = pre.r * post.sum(exc) - mean(post.r)")
    assert expression_latex(synapse.equations[0].rhs) == \
        r"r^{\mathrm{pre}} \, \Sigma_{\mathrm{exc}}^{\mathrm{post}} - \operatorname{mean}\left(r^{\mathrm{post}}\right)"


@pytest.mark.parametrize("equations, expected", [
    ("tau * dr/dt + r = sum(exc) : min=0.0", r"\tau \, \frac{dr}{dt} + r = \Sigma_{\mathrm{exc}}"),
    ("dr/dt = (I - r) / tau", r"\frac{dr}{dt} = \frac{I - r}{\tau}"),
    ("tau * dtheta_m/dt = -theta_m", r"\tau \, \frac{d\theta_{m}}{dt} = -\theta_{m}"),
    ("r = if v > 0: v else: 0 : min=0.0",
     r"r = \begin{cases} v & \text{if } v > 0 \\ 0 & \text{otherwise} \end{cases}"),
    ("x += 2 * I", r"x \mathrel{+}= 2 \, I"),
    ("x /= tau", r"x \mathrel{/}= \tau"),
])
def test_equations_as_written(equations, expected):
    neuron = Neuron(parameters="tau = 10.0\nI = 1.0\nv = 0.0", equations=equations)
    assert equation_latex(neuron.equations[-1]) == expected


def test_written_form_gives_the_sides_as_written():
    eq = parse_equations("tau*dv/dt + v = sum(exc) - v^2 : exponential", Scope(locals={"tau": "local"}))[0]
    left, op, right = written_form(eq)
    assert (ast.unparse(left), op, ast.unparse(right)) == ("tau * _dv_ + v", "=", "sum(exc) - v ** 2")
    function = parse_functions("f(x, y) = x * y")["f"]
    assert [ast.unparse(t) for t in written_form(function)[::2]] == ["f(x, y)", "x * y"]


def test_functions_and_psp():
    function = parse_functions("sigmoid(x) = 1.0 / (1.0 + exp(-x))")["sigmoid"]
    assert function_latex(function) == r"\operatorname{sigmoid}\left(x\right) = \frac{1.0}{1.0 + e^{-x}}"
    assert psp_latex("w * pre.r") == r"w \, r^{\mathrm{pre}}"
    assert psp_latex("w * (pre.r - post.r)^2") == r"w \, \left(r^{\mathrm{pre}} - r^{\mathrm{post}}\right)^{2}"


@pytest.mark.parametrize("value, expected", [
    (10.0, "10.0"), (3, "3"), (0.25, "0.25"), (2e-06, r"2 \cdot 10^{-6}"), (True, r"\mathrm{True}"),
    (Uniform(-0.5, 0.5), r"\mathcal{U}(-0.5, 0.5)"),
])
def test_values(value, expected):
    assert value_latex(value) == expected


def test_text_escapes():
    assert escape_text("a_b & 50% $x$ #1 {y}") == r"a\_b \& 50\% \$x\$ \#1 \{y\}"


def _balanced(latex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", latex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and latex.count(r"\left") == latex.count(r"\right")


@pytest.mark.parametrize("model", [LeakyIntegrator(), Hebb(), Oja(), IBCM()], ids=lambda m: m.name)
def test_built_in_models_render_without_fallback(model):
    for eq in model.equations:
        latex = equation_latex(eq)
        assert r"\text{" not in latex and _balanced(latex), latex
    assert equation_latex(IBCM().equations[0]) == \
        r"\tau \, \frac{d\theta}{dt} + \theta = \left(r^{\mathrm{post}}\right)^{2}"
