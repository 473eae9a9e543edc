"""Learning rules without needless sweeps (ratenet._shortcuts): exact shortcuts and lazily added outer products.

The exact shortcuts must give the reference mode's bits; a deferred sum must
agree with a step-by-step NumPy loop within the documented bound
``(n + 8) * eps * (|v0| + sum_t |term_t|)``.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratenet import EquationError, Network, Neuron, Synapse, TimedArray, Uniform
from ratenet._shortcuts import KnownValues, OuterSum, Shortcuts, capacity_for, separable
from ratenet.state import State

MICONI = Synapse(
    parameters="eta = 0.5 : projection\nmax_dw = 0.01 : projection\nphase = 0.0 : projection\n"
               "reward = 0.0 : projection\nmean_r = 0.0 : projection",
    equations="trace += ite(phase > 0.5, 0.0, power(pre.r * post.r, 3))\n"
              "delta_w = clip(ite(phase > 0.5, eta * trace * fabs(mean_r) * (reward - mean_r), 0.0), -max_dw, max_dw)\n"
              "w += delta_w")


def _bound(n: int, v0: np.ndarray, terms: np.ndarray, dtype=np.float64) -> np.ndarray:
    """The documented bound for ``n`` steps: (n + 8) eps (|v0| + sum |term|)."""
    return (n + 8) * np.finfo(dtype).eps * (np.abs(v0) + terms)


def _timed_pair(steps: int, n_pre: int, n_post: int, seed: int, net: Network, rule=MICONI, **connect):
    rng = np.random.default_rng(seed)
    pre_rates = rng.uniform(-1.0, 1.0, (steps, n_pre))
    post_rates = rng.uniform(-1.0, 1.0, (steps, n_post))
    pre = TimedArray(pre_rates, network=net)
    post = TimedArray(post_rates, network=net)
    weights = rng.uniform(-0.5, 0.5, (n_post, n_pre))
    proj = net.connect(pre, post, "exc", rule, name="p").connect_from_matrix(weights, storage_format="dense",
                                                                             **connect)
    return pre_rates, post_rates, weights, proj


# ----------------------------------------------------------------- against a NumPy loop
@pytest.mark.parametrize("steps", [1, 7, 8, 30, 100])
def test_deferred_trace_agrees_with_a_step_by_step_loop(steps):
    net = Network()
    pre_rates, post_rates, weights, proj = _timed_pair(steps, 5, 4, steps, net)
    assert "trace added lazily" in net.step_order[-1]
    net.simulate(float(steps))
    trace, total = np.zeros((4, 5)), np.zeros((4, 5))
    for t in range(steps):
        term = np.outer(post_rates[t], pre_rates[t]) ** 3
        trace += term
        total += np.abs(term)
    assert np.all(np.abs(proj.trace - trace) <= _bound(steps, np.zeros_like(trace), total))
    assert np.array_equal(proj.w, weights)  # delta_w is 0.0 outside the learning phase: w keeps its bits


def test_learning_step_reads_the_whole_trace_and_changes_w_as_a_loop_does():
    steps = 40
    net = Network()
    pre_rates, post_rates, weights, proj = _timed_pair(steps + 1, 6, 3, 1, net)
    net.simulate(float(steps))
    proj.phase, proj.reward, proj.mean_r = 1.0, -0.2, -0.5
    before = proj.trace
    net.step()
    trace = sum(np.outer(post_rates[t], pre_rates[t]) ** 3 for t in range(steps))
    total = sum(np.abs(np.outer(post_rates[t], pre_rates[t]) ** 3) for t in range(steps))
    error = _bound(steps, np.zeros_like(trace), total)
    assert np.all(np.abs(before - trace) <= error)
    assert np.array_equal(proj.trace, before)  # + 0.0 in the learning phase (no -0.0 in a sum of cubes here)
    factor = 0.5 * abs(-0.5) * (-0.2 + 0.5)
    expected = weights + np.clip(factor * trace, -0.01, 0.01)
    assert np.all(np.abs(proj.w - expected) <= factor * error + 4 * np.finfo(float).eps * np.abs(expected))


def test_reads_in_the_middle_of_a_run_see_every_term():
    """A rule statement reading the trace while terms wait: they are added first."""
    rule = Synapse(parameters="k = 0.5 : projection",
                   equations="trace += ite(modulo(t, 4.0) > 2.5, 0.0, k * pre.r * post.r)\n"
                             "seen = ite(modulo(t, 4.0) > 2.5, trace, -1.0)")
    steps = 13
    net = Network()
    pre_rates, post_rates, _, proj = _timed_pair(steps, 3, 4, 5, net, rule)
    assert "trace added lazily" in net.step_order[-1]
    net.simulate(float(steps))
    trace, total, seen = np.zeros((4, 3)), np.zeros((4, 3)), None
    for t in range(steps):
        if t % 4 > 2.5:
            seen = trace.copy(), total.copy()
        else:
            term = 0.5 * np.outer(post_rates[t], pre_rates[t])
            trace += term
            total += np.abs(term)
    assert seen is not None
    assert np.all(np.abs(proj.trace - trace) <= _bound(steps, 0 * trace, total))
    # step 12 (t = 12) is not a reading step: seen holds the fill of -1.0 made there
    assert np.array_equal(proj.seen, np.full((4, 3), -1.0))


def test_capacity_keeps_the_buffers_no_larger_than_the_array():
    assert capacity_for((200, 200)) == 100
    assert capacity_for((3, 4)) == 8
    assert capacity_for((4000, 4000)) == 512


# ----------------------------------------------------------------- against the reference mode
def _miconi_run(reference: bool, seed: int = 3, monitor: bool = False, check_finite: bool = False):
    net = Network(reference=reference, seed=seed)
    net.check_finite = check_finite
    pop = net.create(6, Neuron(parameters="tau = 5.0 : population",
                                equations="x += dt * (sum(exc) - x + Uniform(-0.5, 0.5)) / tau\nr = tanh(x)"))
    proj = net.connect(pop, pop, "exc", MICONI, name="rec").connect_all_to_all(0.3)
    if monitor:
        net.monitor(proj, "trace")
    values = []
    for task in range(3):
        net.simulate(9.0)
        proj.phase, proj.reward, proj.mean_r = 1.0, -0.1 * task, -0.3
        net.step()
        values.append((proj.trace, proj.w, proj.delta_w, pop.r))
        proj.phase = 0.0
        proj.trace = 0.0
    return net, values


def test_exact_shortcuts_give_the_reference_bits_when_the_trace_is_recorded():
    """A monitor reads the trace at every step: no deferral, only the exact shortcuts, the same bits."""
    net, got = _miconi_run(False, monitor=True)
    assert not any("lazily" in line for line in net.step_order)
    _, expected = _miconi_run(True, monitor=True)
    for a, b in zip(got, expected):
        for x, y in zip(a, b):
            assert np.array_equal(x, y) and np.array_equal(np.signbit(x), np.signbit(y))


@pytest.mark.parametrize("options", [{"check_finite": True}, {"reference": True}])
def test_no_deferral_where_values_are_read_at_every_step(options):
    net = Network()
    net.setup(**options)
    _timed_pair(3, 3, 3, 0, net)
    assert not any("lazily" in line for line in net.step_order)


def test_no_deferral_when_the_psp_reads_the_trace():
    def run(reference):
        net = Network(reference=reference)
        rule = Synapse(psp="w * trace * pre.r", equations="trace += pre.r * post.r")
        _timed_pair(6, 3, 2, 0, net, rule)
        net.simulate(5.0)
        return net, net.projections[0].trace, net.populations[1].sum("exc")

    net, trace, total = run(False)
    assert not any("lazily" in line for line in net.step_order)
    _, ref_trace, ref_total = run(True)
    assert np.array_equal(trace, ref_trace) and np.array_equal(total, ref_total)


def test_no_deferral_for_sparse_storage_or_a_batch():
    net = Network()
    pre = TimedArray(np.ones((2, 3)), network=net)
    post = TimedArray(np.ones((2, 3)), network=net)
    net.connect(pre, post, "exc", MICONI).connect_all_to_all(0.1, storage_format="csr")
    assert not any("lazily" in line for line in net.step_order)
    batched = Network(batch=2)
    a = batched.create(3, Neuron(parameters="r = 1.0"))
    b = batched.create(3, Neuron(equations="r = sum(exc)"))
    batched.connect(a, b, "exc", MICONI).connect_all_to_all(0.1)
    assert not any("lazily" in line for line in batched.step_order)


def test_deferred_run_stays_within_the_bound_of_the_reference():
    net, got = _miconi_run(False)
    assert any("trace added lazily" in line for line in net.step_order)
    _, expected = _miconi_run(True)
    # chaotic feedback is short here (3 tasks of 10 steps): everything stays close
    for a, b in zip(got, expected):
        for x, y in zip(a, b):
            assert np.allclose(x, y, rtol=1e-12, atol=1e-13)


def test_minus_zero_in_w_is_made_plus_zero_once_as_the_plain_addition_does():
    def run(reference):
        net = Network(reference=reference)
        _, _, weights, proj = _timed_pair(5, 3, 2, 0, net)
        w = proj.w
        w[0, :] = -0.0
        proj.w = w
        net.simulate(2.0)
        first = proj.w
        net.simulate(2.0)
        return first, proj.w

    for got, expected in zip(run(False), run(True)):
        assert np.array_equal(np.signbit(got), np.signbit(expected))
        assert not np.signbit(got[0]).any()


def test_nan_and_negative_zero_bounds_fill_what_clip_gives():
    rule = Synapse(parameters="lo = 0.0 : projection\nhi = -0.0 : projection",
                   equations="delta_w = clip(0.0, lo, hi)\nw += delta_w")
    results = []
    for reference in (False, True):
        net = Network(reference=reference)
        net.allow_nonfinite = True
        _, _, _, proj = _timed_pair(4, 2, 2, 0, net, rule)
        net.simulate(2.0)
        proj.lo, proj.hi = float("nan"), float("nan")
        net.simulate(2.0)
        results.append((proj.delta_w, proj.w))
    for got, expected in zip(*results):
        assert got.tobytes() == expected.tobytes()
    assert np.isnan(results[0][1]).all()


def test_values_set_reset_saved_and_loaded_between_runs(tmp_path):
    def run(reference):
        net = Network(reference=reference)
        _, _, _, proj = _timed_pair(30, 4, 3, 2, net)
        seen = []
        net.simulate(5.0)
        seen.append(proj.trace)
        net.save(str(tmp_path / f"s{reference}.npz"))
        proj.delta_w = 0.25  # known to be 0.0: the rule fills it again
        net.simulate(3.0)
        seen += [proj.trace, proj.delta_w]
        net.reset(projections=True)
        seen.append(proj.trace)
        net.simulate(4.0)
        net.load(str(tmp_path / f"s{reference}.npz"))
        seen.append(proj.trace)
        net.simulate(4.0)
        seen += [proj.trace, proj.w]
        return seen

    got, expected = run(False), run(True)
    for x, y in zip(got, expected):
        assert np.allclose(x, y, rtol=1e-13, atol=1e-15)
    assert np.array_equal(got[2], np.zeros((3, 4)))  # delta_w filled again after the assignment


def test_exact_shortcuts_see_values_set_loaded_and_reset_from_python(tmp_path):
    """Monitored trace (nothing deferred): the exact shortcuts alone, the reference's bits after every change."""
    def run(reference):
        net = Network(reference=reference)
        _, _, _, proj = _timed_pair(40, 4, 3, 2, net)
        net.monitor(proj, "trace")
        seen = []
        net.simulate(5.0)
        net.save(str(tmp_path / f"s{reference}.npz"))
        proj.delta_w = 0.25
        net.simulate(1.0)
        seen += [proj.delta_w, proj.w]
        proj.w = -0.0
        net.simulate(2.0)
        seen += [proj.w]
        proj.phase, proj.mean_r, proj.reward = 1.0, -0.5, 0.5
        net.step()
        proj.phase = 0.0
        net.simulate(2.0)
        seen += [proj.delta_w, proj.w]
        net.load(str(tmp_path / f"s{reference}.npz"))
        seen += [proj.delta_w, proj.w]
        net.simulate(2.0)
        seen += [proj.delta_w, proj.w, proj.trace]
        net.reset(projections=True)
        net.simulate(2.0)
        seen += [proj.delta_w, proj.w, proj.trace]
        return seen

    for got, expected in zip(run(False), run(True)):
        assert got.tobytes() == expected.tobytes()


def test_a_run_that_raises_still_adds_the_terms_it_made():
    net = Network(seed=1)
    pre = net.create(3, Neuron(parameters="s = 1.0 : population", equations="r = Normal(0.0, s)"))
    post = TimedArray(np.ones((20, 2)), network=net)
    rule = Synapse(equations="trace += pre.r * post.r")
    proj = net.connect(pre, post, "exc", rule, name="p").connect_all_to_all(0.0, storage_format="dense")
    assert "trace added lazily" in net.step_order[-1]
    net.simulate(4.0)
    pre.s = -1.0
    with pytest.raises(EquationError, match="sigma must be >= 0"):
        net.simulate(3.0)
    plain = Network(reference=True, seed=1)
    # the same draws: the trace holds the four steps before the error
    plain_pre = plain.create(3, Neuron(parameters="s = 1.0 : population", equations="r = Normal(0.0, s)"))
    plain_post = TimedArray(np.ones((20, 2)), network=plain)
    plain_proj = plain.connect(plain_pre, plain_post, "exc", rule).connect_all_to_all(0.0, storage_format="dense")
    plain.simulate(4.0)
    assert np.allclose(proj.trace, plain_proj.trace, rtol=1e-14, atol=1e-15)
    assert proj.trace.any()


def test_learning_every_few_steps_and_a_view_as_pre():
    def run(reference):
        net = Network(reference=reference)
        rng = np.random.default_rng(4)
        pre = TimedArray(rng.uniform(-1, 1, (30, 6)), network=net)
        post = TimedArray(rng.uniform(-1, 1, (30, 3)), network=net)
        rule = Synapse(equations="dtrace/dt = -0.5 * pre.r * post.r / 2.0")
        proj = net.connect(pre, post, "exc", rule).connect_all_to_all(0.1, storage_format="dense")
        proj.enable_learning(period=3.0)
        view = net.connect(pre[1:5], post, "inh", rule).connect_all_to_all(0.1, storage_format="dense")
        net.simulate(25.0)
        return net, proj.trace, view.trace

    net, *got = run(False)
    lazy = [line for line in net.step_order if "lazily" in line]
    assert len(lazy) == 1  # a view's rates are gathered at each step: that rule stays as it is
    _, *expected = run(True)
    for x, y in zip(got, expected):
        assert np.allclose(x, y, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("delays", [3.0, Uniform(1.0, 4.0)])
def test_a_delayed_projection_learns_as_in_the_reference_mode(delays):
    def run(reference):
        net = Network(reference=reference, seed=3)
        pop = net.create(5, Neuron(equations="r = tanh(sum(exc)) + Uniform(-0.5, 0.5)"))
        rule = Synapse(equations="trace += power(pre.r * post.r, 2)")
        proj = net.connect(pop, pop, "exc", rule).connect_all_to_all(0.2, delays=delays, storage_format="dense")
        net.simulate(12.0)
        return net, proj.trace, pop.r

    net, *got = run(False)
    # per-synapse delays make the transmission read every synaptic array (a generic psp): nothing waits
    lazy = any("trace added lazily" in line for line in net.step_order)
    assert lazy == isinstance(delays, float)
    _, *expected = run(True)
    assert np.array_equal(got[1], expected[1])  # the trace feeds nothing: the rates keep their bits
    assert np.allclose(got[0], expected[0], rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------- Hypothesis: random separable rules
RULES = {
    "pre.r * post.r": lambda a, b: np.outer(b, a),
    "power(pre.r * post.r, 2)": lambda a, b: np.outer(b, a) ** 2,
    "-k * power(post.r * pre.r, 3)": lambda a, b: -0.7 * np.outer(b, a) ** 3,
    "k * pre.r / (2.0 + post.r)": lambda a, b: 0.7 * np.outer(1.0 / (2.0 + b), a),
    "tanh(pre.r) * (post.r - 1.0) * k": lambda a, b: np.outer(b - 1.0, np.tanh(a)) * 0.7,
    "power(-(pre.r * post.r * k), 4)": lambda a, b: (0.7 * np.outer(b, a)) ** 4,
}


@settings(max_examples=40, deadline=None)
@given(rule=st.sampled_from(sorted(RULES)), n_pre=st.integers(2, 7), n_post=st.integers(2, 7),
       steps=st.integers(1, 40), subtract=st.booleans(), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float64", "float32"]))
def test_random_separable_rules_agree_with_a_loop(rule, n_pre, n_post, steps, subtract, seed, dtype):
    op = "-=" if subtract else "+="
    synapse = Synapse(parameters="k = 0.7 : projection", equations=f"trace {op} {rule}")
    net = Network(dtype=dtype)
    pre_rates, post_rates, _, proj = _timed_pair(steps, n_pre, n_post, seed, net, synapse)
    assert "trace added lazily" in net.step_order[-1]
    net.simulate(float(steps))
    terms = [RULES[rule](pre_rates[t].astype(dtype).astype(float), post_rates[t].astype(dtype).astype(float))
             for t in range(steps)]
    expected = -sum(terms) if subtract else sum(terms)
    total = sum(np.abs(term) for term in terms)
    # float32: the terms themselves are computed in float32 from rounded rates
    assert np.all(np.abs(proj.trace - expected) <= _bound(steps, 0 * expected, total, np.dtype(dtype)) * 4)


# ----------------------------------------------------------------- the pieces
def test_separable_takes_products_apart_and_refuses_sums():
    sides = {"a": "pre", "b": "post", "k": "scalar", "_ipow3": "function", "_f_tanh": "function", "w": "other"}

    def parts(text):
        found = separable(ast.parse(text, mode="eval").body, sides.get)
        return None if found is None else tuple(ast.unparse(x) for x in found)

    assert parts("a * b") == ("b", "a")
    assert parts("-(a * k) / b") == ("1.0 / b", "-(a * k)")
    assert parts("-(a * b)") == ("-b", "a")
    assert parts("_ipow3(a * b * k)") == ("_ipow3(k) * _ipow3(b)", "_ipow3(a)")
    assert parts("_f_tanh(a) * b") == ("b", "_f_tanh(a)")
    assert parts("a + b") is None
    assert parts("a * w") is None
    assert parts("a * k") is None  # no postsynaptic factor: not an outer product
    assert parts("_f_tanh(a * b)") is None


def test_outer_sum_flushes_when_full():
    v = np.zeros((2, 2))
    acc = OuterSum(v, capacity=2)
    for _ in range(3):
        acc.post[...] = 1.0
        acc.pre[...] = 2.0
        acc.push()
    assert v.tolist() == [[4.0, 4.0], [4.0, 4.0]]  # two terms added when the buffer filled
    acc.flush()
    assert v.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    acc.flush()  # nothing waits
    assert v.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_outer_sum_of_a_wide_matrix_is_made_by_blocks_of_rows():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(7, 20000))
    start = v.copy()
    acc = OuterSum(v, capacity=5)
    assert acc.rows == 3 and acc.product.shape == (3, 20000)  # scratch of 64k values at most
    posts, pres = rng.normal(size=(4, 7)), rng.normal(size=(4, 20000))
    for post, pre in zip(posts, pres):
        acc.post[...] = post[:, None]
        acc.pre[...] = pre[None, :]
        acc.push()
    acc.flush()
    terms = [np.outer(post, pre) for post, pre in zip(posts, pres)]
    assert np.all(np.abs(v - (start + sum(terms))) <= _bound(4, start, sum(np.abs(t) for t in terms)))


def test_known_values_forget_after_a_write_from_python():
    known = KnownValues()
    x = np.zeros(3)
    known.fill("x", x, np.float64(2.0))
    x[...] = 5.0
    State("s", {"x": x}).bump  # noqa: B018 - the bound method: no write yet
    record = State("s", {"x": x})
    record.track("x")
    record.bump("x")  # a write from Python
    known.fill("x", x, np.float64(2.0))
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_known_values_fill_with_an_array_writes_it_and_forgets():
    known = KnownValues()
    x = np.zeros(2)
    known.fill("x", x, np.float64(1.0))
    known.fill("x", x, np.array([3.0, 4.0]))
    assert x.tolist() == [3.0, 4.0]
    known.fill("x", x, np.float64(1.0))
    assert x.tolist() == [1.0, 1.0]


def test_shortcuts_leave_int_arrays_and_other_statements_alone():
    ns = {"n": np.zeros((2, 3), dtype=np.int64), "x": np.zeros((2, 3)), "k": np.float64(1.0)}
    rule = Shortcuts(ns, (2, 3), ["n", "x"], defer=["x"])
    body = rule(ast.parse("n[...] = k\nx[...] = x * k").body)
    text = ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[])))
    assert text == "n[...] = k\nx[...] = x * k\n_known.forget('x')"
    assert rule.deferred == []
