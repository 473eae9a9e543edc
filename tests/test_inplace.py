"""Generated code without temporaries, small integer powers, one-value ite, the plan's generated loop.

Each rewrite is compared with an independent evaluation: the same statement
compiled without the in-place pass (plain NumPy operators), NumPy's own
``power``, a closed form, or the plan's plain Python loop.
"""

from __future__ import annotations

import ast
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ratenet.equations as eqmod
from ratenet import Network, Neuron, Synapse, ValidationError
from ratenet._inplace import lower_in_place
from ratenet.equations import build_function, numpy_namespace
from ratenet.plan.runner import loop_of


# ---------------------------------------------------------------- in place
def _namespace(dtype: type) -> dict:
    rng = np.random.default_rng(3)
    ns = numpy_namespace()
    ns.update({
        "a": rng.normal(size=6).astype(dtype), "b": rng.normal(size=6).astype(dtype),
        "c": np.array([0.0, -0.0, np.inf, -1.5, np.nan, 2.0], dtype=dtype),
        "col": rng.normal(size=(6, 1)).astype(dtype), "row": rng.normal(size=(1, 6)).astype(dtype),
        "s": np.float64(0.7), "h": np.float32(1.3), "dt": np.float64(1.0),
        "x": np.zeros(6, dtype), "m": np.zeros((6, 6), dtype),
    })
    return ns


_LEAVES = ["a", "b", "c", "s", "h", "dt", "2.5", "a"]
_FUNCTIONS = ["_f_tanh", "_f_exp", "_f_abs", "_f_sin"]


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0, matrix: bool = False) -> str:
    leaves = _LEAVES + (["col", "row"] if matrix else [])
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))
    kind = draw(st.sampled_from(["binop", "binop", "unary", "call", "power"]))
    left = draw(_expressions(depth + 1, matrix))
    if kind == "unary":
        return f"-({left})"
    if kind == "call":
        return f"{draw(st.sampled_from(_FUNCTIONS))}({left})"
    if kind == "power":
        return f"({left}) ** {draw(st.sampled_from(['2', '3', '4']))}"
    right = draw(_expressions(depth + 1, matrix))
    return f"({left}) {draw(st.sampled_from(['+', '-', '*', '/']))} ({right})"


def _run(text: str, dtype: type, lowered: bool) -> dict:
    ns = _namespace(dtype)
    body = ast.parse(text).body
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if lowered:
            build_function(body, ns, "test", dtype=dtype)()
        else:
            with mock.patch.object(eqmod, "lower_in_place", lambda body, *args, **kwargs: body):
                build_function(body, ns, "test", dtype=dtype)()
    return ns


def _same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal bit for bit (signed zeros apart), except a NaN's sign and payload.

    NumPy does not define them: numpy 1.24 gives ``nan * -nan`` either sign depending
    on which SIMD loop runs, which depends on the arrays' alignment.
    """
    def canonical(a: np.ndarray) -> bytes:
        return np.where(np.isnan(a), np.array(np.nan, a.dtype), a).tobytes()

    return x.dtype == y.dtype and x.shape == y.shape and canonical(x) == canonical(y)


@settings(max_examples=150, deadline=None)
@given(expression=_expressions(), op=st.sampled_from(["=", "+=", "-=", "*=", "/="]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_in_place_statements_give_the_bits_of_numpys_operators(expression: str, op: str, dtype: type) -> None:
    text = f"x[...] {op} {expression}\nb[...] = {expression}"
    got, expected = _run(text, dtype, True), _run(text, dtype, False)
    for name in ("x", "b", "a"):
        assert _same_bits(got[name], expected[name]), (text, name)


@settings(max_examples=60, deadline=None)
@given(expression=_expressions(matrix=True), dtype=st.sampled_from([np.float64, np.float32]))
def test_in_place_broadcasts_like_numpy(expression: str, dtype: type) -> None:
    text = f"m[...] += col * row + {expression}"
    got, expected = _run(text, dtype, True), _run(text, dtype, False)
    assert _same_bits(got["m"], expected["m"]), text


@settings(max_examples=120, deadline=None)
@given(test=_expressions(), body=_expressions(), orelse=_expressions(), compare=st.sampled_from(
       ["<", "<=", ">", ">=", "==", "!="]), target=st.sampled_from(["x", "a", "c"]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_a_choice_per_element_gives_the_bits_of_where(test: str, body: str, orelse: str, compare: str,
                                                      target: str, dtype: type) -> None:
    """``x[...] = where(cond, a, b)`` written as two copies into x: the same numbers, even when a branch reads x."""
    text = f"{target}[...] = _f_ite(({test}) {compare} c, {body}, {orelse} + {target})"
    got, expected = _run(text, dtype, True), _run(text, dtype, False)
    assert _same_bits(got[target], expected[target]), text


def test_a_choice_per_element_writes_into_the_variable() -> None:
    ns = _namespace(np.float64)
    fn = build_function(ast.parse("x[...] = _f_ite(a < b, _f_tanh(a), s)").body, ns, "choice")
    assert "_np_copyto(x, s)" in fn.__doc__ and "_np_copyto(x, _scratch" in fn.__doc__
    fn()
    assert np.array_equal(ns["x"], np.where(ns["a"] < ns["b"], np.tanh(ns["a"]), 0.7))


def test_the_update_of_the_ring_runs_four_ufuncs_into_one_scratch() -> None:
    ns = {"r": np.zeros(3), "_sum_exc": np.ones(3), "tau": np.float64(10.0), "dt": np.float64(1.0),
          "_lit": np.float64(0.1)}
    body = ast.parse("r[...] += dt * ((_sum_exc + _lit - r) / tau)").body
    text = ast.unparse(ast.Module(body=lower_in_place(body, ns), type_ignores=[]))
    assert text.splitlines() == ["_np_add(_sum_exc, _lit, _scratch0)", "_np_subtract(_scratch0, r, _scratch0)",
                                 "_np_divide(_scratch0, tau, _scratch0)", "_np_add(r, _scratch0, r)"]


def test_dt_other_than_one_stays_and_a_value_read_before_the_store_is_the_old_one() -> None:
    ns = {"r": np.array([1.0, 2.0]), "dt": np.float64(0.5)}
    body = ast.parse("r[...] = dt * r + r * r").body
    text = ast.unparse(ast.Module(body=lower_in_place(body, ns), type_ignores=[]))
    assert "dt" in text
    build_function(body, ns, "test")()
    assert ns["r"].tolist() == [0.5 * 1.0 + 1.0, 0.5 * 2.0 + 4.0]


def test_names_assigned_in_the_function_are_left_to_numpy() -> None:
    ns = {"r": np.zeros(2), "_draw0": None}
    body = ast.parse("k = r + 1.0\nr[...] = k * 2.0").body
    assert ast.unparse(ast.Module(body=lower_in_place(body, ns), type_ignores=[])) == "k = r + 1.0\nr[...] = k * 2.0"


# ----------------------------------------------------------------- powers
def _ulps(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.abs(got - expected) / np.spacing(np.abs(expected))


@pytest.mark.parametrize("text, n", [("power(x, 3)", 3), ("x ** 3", 3), ("x^4", 4), ("pow(x, 2)", 2)])
def test_small_integer_powers_are_within_3_ulp_of_numpys_power(text: str, n: int) -> None:
    net = Network()
    net.allow_nonfinite = True
    pop = net.create(2000, Neuron(parameters="x = 0.0", equations=f"r = {text}"))
    x = np.random.default_rng(5).normal(0.0, 3.0, 2000)
    x[:4] = [0.0, -0.0, -np.inf, np.nan]
    pop.x = x
    net.step()
    expected = np.power(x, float(n))
    got = pop.r
    finite = np.isfinite(expected) & (expected != 0)
    assert np.all(_ulps(got[finite], expected[finite]) <= 3)
    assert np.array_equal(got[~finite], expected[~finite], equal_nan=True)
    assert np.array_equal(np.signbit(got[:2]), np.signbit(expected[:2]))
    if n == 2:
        assert np.array_equal(got, x * x, equal_nan=True)  # as NumPy's own power computes a square


def test_a_power_of_a_population_level_value_is_a_number() -> None:
    net = Network()
    pop = net.create(2, Neuron(parameters="k = -1.5 : population", equations="r = power(k, 3) + k^2"))
    net.step()
    assert pop.r.tolist() == [-1.5 * -1.5 * -1.5 + 2.25] * 2


def test_optimised_and_reference_networks_agree_bit_for_bit_on_powers() -> None:
    runs = []
    for reference in (False, True):
        net = Network(reference=reference, seed=2)
        model = Neuron(parameters="b = 0.1", equations="x = tanh(sum(exc)) - b\nr = power(x, 3) + x ** 4")
        a = net.create(30, Neuron(parameters="r = 0.0"))
        b, c = net.create(30, model), net.create(30, model)
        a.r = np.linspace(-2.0, 2.0, 30)
        net.connect(a, b).connect_all_to_all(0.3)
        net.connect(b, c).connect_one_to_one(-1.2)
        net.simulate(5.0)
        runs.append(np.concatenate([b.r, c.r]))
    assert runs[0].tobytes() == runs[1].tobytes()


# --------------------------------------------------------------------- ite
def test_ite_with_a_one_value_condition_evaluates_only_the_branch_taken() -> None:
    net = Network()
    pop = net.create(3, Neuron(parameters="k = 0.0 : population\nx = -1.0", equations="r = ite(k > 0.5, log(x), 2.0)"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(-1) would warn if it ran
        net.step()
    assert pop.r.tolist() == [2.0, 2.0, 2.0]
    pop.k = 1.0
    pop.x = np.e
    net.step()
    assert pop.r.tolist() == np.log(np.full(3, np.e)).tolist()  # 1 ulp below 1 on numpy 1.24


def test_ite_with_a_per_neuron_condition_still_chooses_per_neuron() -> None:
    net = Network()
    pop = net.create(3, Neuron(parameters="k = 0.0", equations="r = ite(k > 0.5, 1.0, -1.0)"))
    pop.k = [0.0, 1.0, 0.0]
    net.step()
    assert pop.r.tolist() == [-1.0, 1.0, -1.0]


def test_learning_with_a_one_value_condition_matches_numpy() -> None:
    rule = Synapse(parameters="phase = 0.0 : projection\neta = 0.5 : projection",
                   equations="trace += ite(phase > 0.5, 0.0, power(pre.r * post.r, 3))\n"
                             "w += ite(phase > 0.5, eta * trace, 0.0)")
    net = Network()
    a = net.create(4, Neuron(parameters="r = 0.0"))
    b = net.create(3, Neuron(parameters="r = 0.0"))
    a.r, b.r = [0.5, -1.0, 2.0, 0.25], [1.5, -0.5, 0.75]
    proj = net.connect(a, b, synapse=rule).connect_all_to_all(0.1)
    net.simulate(3.0)
    product = np.multiply.outer(b.r, a.r)
    trace = 3 * product * product * product
    assert np.allclose(proj.trace, trace, rtol=1e-15, atol=0)
    assert np.all(np.array(proj.w) == 0.1)
    proj.phase = 1.0
    net.step()
    assert np.allclose(proj.trace, trace, rtol=1e-15, atol=0)  # += 0.0
    assert np.allclose(proj.w, 0.1 + 0.5 * trace, rtol=1e-15, atol=0)


# --------------------------------------------------------------- the loop
def test_the_generated_loop_runs_what_the_plain_loop_runs() -> None:
    def build() -> tuple[Network, object, object]:
        net = Network(seed=4)
        model = Neuron(parameters="tau = 4.0", equations="tau * dr/dt + r = sum(exc) + Uniform(0, 0.1) + t / 100")
        a = net.create(5, model)
        b = net.create(5, Neuron(equations="r = tanh(sum(exc)) : min=0.0"))
        net.connect(a, b).connect_one_to_one(1.5, delays=2.0)
        net.connect(b, a).connect_all_to_all(0.2)
        proj = net.connect(a, a, "exc", Synapse(equations="dw/dt = 0.01 * pre.r * post.r")).connect_one_to_one(0.1)
        proj.enable_learning(period=2.0)  # (setting proj.learning_period was silently ignored; it is refused now)
        monitor = net.monitor(b, "r")
        return net, monitor, proj

    plain, fast = build(), build()
    plain[0].simulate(7.0, progress_bar=True)  # the progress bar takes the plain loop
    fast[0].simulate(7.0)
    assert plain[0].get_current_step() == fast[0].get_current_step() == 7
    assert np.array_equal(plain[1].get("r"), fast[1].get("r"))
    assert np.array_equal(plain[2].w, fast[2].w)


def test_the_loop_stops_when_told_and_counts_steps() -> None:
    net = Network()
    pop = net.create(1, Neuron(equations="r = t"))
    plan = net.plan
    plan.prepare()
    loop = loop_of(plan, net.registry.clock, net.dt)
    assert loop(4, lambda: pop.r[0] >= 2.0) == 3
    assert net.get_current_step() == 3 and pop.r.tolist() == [2.0]
    assert loop(0, None) == 0 and net.get_current_step() == 3


# ------------------------------------------------------- whole assignment
def test_assigning_a_whole_population_copies_and_is_seen_by_the_next_step() -> None:
    net = Network()
    image = net.create((2, 3), Neuron(parameters="r = 0.0"))
    out = net.create((2, 3), Neuron(equations="r = sum(exc)"))
    net.connect(image, out).connect_one_to_one(2.0)
    net.step()
    frame = np.arange(6.0).reshape(2, 3)
    image.r = frame
    frame[0, 0] = 99.0  # a copy was taken
    net.step()
    assert out.r.tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]
    image.r = np.ones(6)  # flat is accepted too
    image.r = 0.5
    net.step()
    assert out.r.tolist() == [[1.0] * 3] * 2


def test_whole_assignment_converts_like_an_indexed_one() -> None:
    net = Network()
    pop = net.create(3, Neuron(parameters="n = 0 : int\nflag = False : bool", equations="r = n + flag"))
    pop.n = np.array([1.0, -2.0, 3.0])
    pop.flag = [0.0, 1.0, 0.0]
    assert pop.n.tolist() == [1, -2, 3] and pop.flag.tolist() == [False, True, False]
    pop[1:3].n = np.array([7.0, 8.0])
    assert pop.n.tolist() == [1, 7, 8]


def test_a_non_finite_frame_is_still_refused() -> None:
    pop = Network().create((2, 2), Neuron(parameters="r = 0.0"))
    frame = np.ones((2, 2))
    frame[1, 0] = np.nan
    with pytest.raises(ValidationError, match="NaN and infinities are refused"):
        pop.r = frame
    assert pop.r.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    pop.r = np.full((2, 2), 1e308)  # the sum overflows, every value is finite
    assert pop.r[0, 0] == 1e308


def test_maximum_and_minimum_take_their_output_by_keyword() -> None:
    """numpy 2 deprecates a third positional argument of np.maximum/np.minimum (it will read it as an input)."""
    net = Network()
    pop = net.create(4, Neuron(parameters="x = 0.0", equations="r = max(x, 0.5) + min(x, -0.5) : min=-1.0"))
    pop.x = np.array([-2.0, 0.0, 0.7, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        net.step()
    expected = np.clip(np.maximum(pop.x, 0.5) + np.minimum(pop.x, -0.5), -1.0, None)
    assert pop.r.tolist() == expected.tolist()
