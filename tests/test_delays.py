"""Tests of synaptic delays: uniform and per-synapse, dense and sparse, views, custom psp,
timing before the history exists, and reset.

The semantics under test (DESIGN.md section 5): a delay of ``d`` steps, ``d = max(1,
round(delay / dt))``, makes step ``n`` read ``pre.r`` as it was at the end of step ``n - d``;
before the run has gone that far back it reads the rate the population had when the network
was compiled (or last reset).  ``delays=0`` and ``delays=dt`` are the ordinary one-step lag.

Every expected value comes from a NumPy loop over the synapses written here.  The pre-synaptic
population is usually a *counter* ``r = k * (t + 1)``, whose value at the end of step ``m`` is
``k * (m * dt + 1)``, so every step (and every neuron) has its own value and a wrong lag shows
up at once; its compile-time rates are set to distinct negative numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import ratenet
from ratenet import (
    DiscreteUniform,
    Monitor,
    Network,
    Neuron,
    Population,
    Projection,
    Synapse,
    TimedArray,
    Uniform,
    ValidationError,
    clear,
    simulate,
)


@pytest.fixture(autouse=True)
def _fresh_default_network():
    clear()
    yield
    clear()


COUNTER = Neuron(parameters="k = 1.0", equations="r = k * (t + 1)")
INPUT = Neuron(parameters="r = 0.0")
POST = Neuron(equations="r = sum(exc)")
N_STEPS = 12


def close(actual, expected, what=""):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=1e-12, atol=1e-12,
                               err_msg=what)


def steps_of(delays_ms, dt):
    """Delays in steps as DESIGN.md defines them."""
    return np.maximum(1, np.rint(np.asarray(delays_ms, dtype=np.float64) / dt)).astype(int)


class Counter:
    """A counter population of ``n`` neurons (or a view of it) and its exact history."""

    def __init__(self, net, n=5, view=False, seed=0):
        rng = np.random.default_rng(seed)
        total = n + 3 if view else n
        self.pop = net.create(total, COUNTER, name="counter")
        self.k = rng.uniform(0.5, 2.0, total)
        self.r0 = -rng.uniform(1.0, 10.0, total)  # compile-time rates
        self.pop.k = self.k
        self.pop.r = self.r0
        self.idx = rng.permutation(total)[:n] if view else np.arange(n)
        self.side = self.pop[self.idx.tolist()] if view else self.pop
        self.dt = net.dt

    def value(self, m):
        """pre.r (of the view) at the end of step m; the compile-time rates for m < 0."""
        full = self.r0 if m < 0 else self.k * (m * self.dt + 1.0)
        return full[self.idx]


def expected_sums(W, mask, D, value, n_steps, psp=None):
    """sum(exc) of every step: sum_j psp(W_ij, value_j(n - D_ij)) over existing synapses."""
    out = np.zeros((n_steps, W.shape[0]))
    for n in range(n_steps):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                if mask[i, j]:
                    x = value(n - D[i, j])[j]
                    out[n, i] += W[i, j] * x if psp is None else psp(W[i, j], x)
    return out


def make_post(net, n, view, seed=1):
    total = n + 2 if view else n
    post = net.create(total, POST, name="post")
    idx = np.random.default_rng(seed).permutation(total)[:n] if view else np.arange(n)
    side = post[idx.tolist()] if view else post
    return post, side, idx


# =============================================================================== uniform


UNIFORM = [  # (dt, delays in ms, steps)
    (1.0, 0.0, 1),
    (1.0, 1.0, 1),
    (1.0, 3.0, 3),
    (1.0, 2.4, 2),
    (1.0, 2.6, 3),
    (1.0, 20.0, 20),   # longer than the run: the compile-time rates throughout
    (0.1, 0.3, 3),     # 0.3 / 0.1 = 2.9999999999999996
    (0.5, 1.2, 2),
    (0.5, 0.2, 1),     # rounds to 0 steps: still the ordinary lag
    (0.25, 1.0, 4),
]


@pytest.mark.parametrize("dt,delay,steps", UNIFORM)
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("view", [False, True])
def test_uniform_delay(dt, delay, steps, fmt, view):
    net = Network(dt=dt, seed=0)
    pre = Counter(net, 5, view)
    post, post_side, post_idx = make_post(net, 3, view)
    W = np.random.default_rng(2).uniform(-1, 1, (3, 5))
    mask = np.ones_like(W, dtype=bool)
    if fmt == "csr":
        mask[0, 1] = mask[2, 3] = mask[2, 4] = False
    weights = np.where(mask, W.astype(object), None) if fmt == "csr" else W
    proj = net.connect(pre.side, post_side, "exc").connect_from_matrix(weights, delays=delay,
                                                                       storage_format=fmt)
    mon = Monitor(post, "sum(exc)")
    net.simulate(N_STEPS * dt)
    assert net.get_current_step() == N_STEPS
    D = np.full(W.shape, steps)
    expected = expected_sums(W, mask, D, pre.value, N_STEPS)
    close(mon.get("sum(exc)")[:, post_idx], expected, f"delay {delay} ms at dt {dt} is {steps} steps")
    if delay in (0.0, 1.0, 3.0, 20.0):
        assert proj.delays == delay


def test_uniform_delay_connectors_other_than_from_matrix():
    net = Network()
    pre = Counter(net, 4)
    post, _, _ = make_post(net, 4, False)
    net.connect(pre.side, post, "exc").connect_one_to_one(weights=2.0, delays=2.0)
    mon = Monitor(post, "sum(exc)")
    net.simulate(N_STEPS)
    expected = expected_sums(np.diag([2.0] * 4), np.eye(4, dtype=bool), np.full((4, 4), 2), pre.value, N_STEPS)
    close(mon.get("sum(exc)"), expected)


def test_what_post_sees_before_the_history_exists():
    """Delay 3 steps: steps 0, 1, 2 see the compile-time rate, step 3 the rate after step 0."""
    net = Network()
    pre = net.create(1, COUNTER)
    pre.r = 7.0
    post = net.create(1, POST)
    net.connect(pre, post, "exc").connect_one_to_one(1.0, delays=3.0)
    mon = Monitor(post, "r")
    net.simulate(6)
    # pre.r after step m is m + 1
    assert mon.get("r")[:, 0].tolist() == [7.0, 7.0, 7.0, 1.0, 2.0, 3.0]


def test_initial_value_is_the_rate_at_compile_time():
    """Delay 3 steps, r = 3 at compile time, set to 5 before the run: the value set replaces
    the state at the end of the last step (step -1), the older history is the compile-time rate."""
    net = Network()
    pre = net.create(1, INPUT)
    post = net.create(1, POST)
    net.connect(pre, post, "exc").connect_one_to_one(1.0, delays=3.0)
    pre.r = 3.0
    net.compile()
    pre.r = 5.0
    mon = Monitor(post, "r")
    net.simulate(5)
    assert mon.get("r")[:, 0].tolist() == [3.0, 3.0, 5.0, 5.0, 5.0]


def test_python_set_inputs_with_uniform_delays():
    """Rates set from Python before every step.  The ordinary lag reads the value just set: it is
    pre.r "at the end of the previous step".  A delay of d steps reads the end of step n - d, so it
    sees the same value d - 1 steps later: x_{n-d+1}; before that, the compile-time rate."""
    net = Network()
    inp = net.create(1, INPUT)
    post = net.create(1, Neuron(equations="a = sum(a)\nb = sum(b)\nc = sum(c)\nd = sum(d)"))
    for target, delay in zip("abcd", (0.0, 1.0, 2.0, 4.0)):
        net.connect(inp, post, target).connect_one_to_one(1.0, delays=delay)
    mon = Monitor(post, ["a", "b", "c", "d"])
    inp.r = 5.0
    net.compile()
    x = 10.0 + np.arange(8)
    for n in range(8):
        inp.r = x[n]
        net.step()
    got = mon.get()
    assert got["a"][:, 0].tolist() == x.tolist()
    assert got["b"][:, 0].tolist() == x.tolist()
    assert got["c"][:, 0].tolist() == [5.0] + x[:-1].tolist()
    assert got["d"][:, 0].tolist() == [5.0] * 3 + x[:-3].tolist()


def test_python_set_input_then_one_long_run():
    """A value set between runs enters the history once; a single simulate() then reads it
    d - 1 steps after a projection without delay does."""
    net = Network()
    inp = net.create(1, INPUT)
    post = net.create(1, Neuron(equations="a = sum(a)\nc = sum(c)"))
    net.connect(inp, post, "a").connect_one_to_one(1.0)
    net.connect(inp, post, "c").connect_one_to_one(1.0, delays=3.0)
    mon = Monitor(post, ["a", "c"])
    inp.r = 10.0
    net.simulate(4)
    inp.r = 20.0
    net.simulate(6)
    got = mon.get()
    assert got["a"][:, 0].tolist() == [10.0] * 4 + [20.0] * 6
    assert got["c"][:, 0].tolist() == [10.0] * 6 + [20.0] * 4


def test_timed_array_with_schedule_and_delays_in_one_run():
    """The input changes every 3 steps only; one simulate() call."""
    X = np.array([[1.0, -1.0], [2.0, -2.0], [3.0, -3.0], [4.0, -4.0]])
    net = Network()
    inp = TimedArray(X, schedule=3.0, network=net)
    post = net.create(2, POST)
    net.connect(inp, post, "exc").connect_from_matrix(np.array([[1.0, 0.5], [0.0, 2.0]]),
                                                      delays=np.array([[2.0, 5.0], [1.0, 4.0]]))
    mon = Monitor(post, "r")
    net.simulate(16)

    def value(m):  # the TimedArray after step m: X[m // 3] (kept after the last one), 0 before
        return X[min(m // 3, 3)] if m >= 0 else np.zeros(2)

    expected = expected_sums(np.array([[1.0, 0.5], [0.0, 2.0]]), np.array([[True, True], [False, True]]),
                             np.array([[2, 5], [1, 4]]), value, 16)
    close(mon.get("r"), expected)


def test_timed_array_pre_with_delay():
    X = np.random.default_rng(3).uniform(0, 1, (N_STEPS, 4))
    net = Network()
    inp = TimedArray(X, network=net)
    post = net.create(2, POST)
    W = np.random.default_rng(4).uniform(0, 1, (2, 4))
    net.connect(inp, post, "exc").connect_from_matrix(W, delays=3.0)
    mon = Monitor(post, "r")
    net.simulate(N_STEPS)

    def value(m):
        return X[m] if m >= 0 else np.zeros(4)

    close(mon.get("r"), expected_sums(W, np.ones((2, 4), bool), np.full((2, 4), 3), value, N_STEPS))


# =============================================================================== per-synapse


@pytest.mark.parametrize("fmt,full", [("dense", True), ("dense", False), ("csr", False)])
@pytest.mark.parametrize("view", [False, True])
@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_delays_from_matrix(fmt, full, view, dt):
    rng = np.random.default_rng(5)
    net = Network(dt=dt)
    pre = Counter(net, 5, view)
    post, post_side, post_idx = make_post(net, 4, view)
    W = rng.uniform(-1, 1, (4, 5))
    mask = np.ones((4, 5), bool) if full else rng.random((4, 5)) < 0.6
    mask[:, 0] = True
    # multiples of dt from 0 to 4 dt, and non-integer multiples that round
    choices = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 1.4, 2.6]) * dt
    D_ms = rng.choice(choices, size=(4, 5))
    D_ms[0, 0], D_ms[1, 0] = 0.0, 4.0 * dt
    weights = W if full else np.where(mask, W.astype(object), None)
    delays = D_ms if full else np.where(mask, D_ms.astype(object), None)
    proj = net.connect(pre.side, post_side, "exc").connect_from_matrix(weights, delays=delays, storage_format=fmt)
    assert proj.storage_format == fmt
    mon = Monitor(post, "sum(exc)")
    net.simulate(N_STEPS * dt)
    expected = expected_sums(W, mask, steps_of(D_ms, dt), pre.value, N_STEPS)
    close(mon.get("sum(exc)")[:, post_idx], expected)
    # delays read back per dendrite, in ms
    for row, ranks, values in zip(range(4), proj.pre_ranks, proj.delays):
        cols = [int(np.flatnonzero(pre.idx == r)[0]) for r in ranks]
        close(values, D_ms[row, cols], "proj.delays")


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("view", [False, True])
def test_delays_from_distributions(fmt, view):
    net = Network(seed=11)
    pre = Counter(net, 6, view)
    post, post_side, post_idx = make_post(net, 4, view)
    p1 = net.connect(pre.side, post_side, "exc").connect_all_to_all(
        Uniform(0.0, 1.0), delays=DiscreteUniform(1, 4), storage_format=fmt)
    p2 = net.connect(pre.side, post_side, "exc").connect_fixed_probability(
        0.5, Uniform(0.0, 1.0), delays=Uniform(0.0, 5.0), storage_format=fmt)
    mon = Monitor(post, "sum(exc)")
    net.simulate(N_STEPS)

    expected = np.zeros((N_STEPS, 4))
    for proj, integers in ((p1, True), (p2, False)):
        W = proj.connectivity_matrix(fill=np.nan)
        mask = ~np.isnan(W)
        D = np.zeros(W.shape)
        for row, (ranks, values) in enumerate(zip(proj.pre_ranks, proj.delays)):
            cols = [int(np.flatnonzero(pre.idx == r)[0]) for r in ranks]
            D[proj.post_rows[row], cols] = values
        given = D[mask]
        if integers:
            assert set(np.unique(given)) <= {1.0, 2.0, 3.0, 4.0} and len(np.unique(given)) > 1
        else:
            assert given.min() >= 0.0 and given.max() <= 5.0 and len(np.unique(given)) > 1
        expected += expected_sums(np.nan_to_num(W), mask, steps_of(D, 1.0), pre.value, N_STEPS)
    close(mon.get("sum(exc)")[:, post_idx], expected)


def test_equal_per_synapse_delays_behave_as_a_uniform_delay():
    net = Network()
    pre = Counter(net, 3)
    post, _, _ = make_post(net, 2, False)
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    net.connect(pre.side, post, "exc").connect_from_matrix(W, delays=np.full((2, 3), 2.0))
    mon = Monitor(post, "r")
    net.simulate(N_STEPS)
    close(mon.get("r"), expected_sums(W, np.ones((2, 3), bool), np.full((2, 3), 2), pre.value, N_STEPS))


def test_delay_zero_synapse_among_delayed_ones_is_the_ordinary_lag():
    """A synapse with delay 0 (or dt) in a projection whose other synapses have longer delays
    must see what a projection without delays sees: with rates set from Python before each
    step, the value just set."""
    net = Network()
    inp = net.create(2, INPUT)
    post = net.create(2, Neuron(equations="a = sum(a)\nb = sum(b)"))
    net.connect(inp, post, "a").connect_from_matrix(np.eye(2), delays=0.0)
    net.connect(inp, post, "b").connect_from_matrix(np.eye(2), delays=np.array([[0.0, 0.0], [0.0, 2.0]]))
    mon = Monitor(post, ["a", "b"])
    for n in range(5):
        inp.r = [n + 1.0, 10.0 * (n + 1)]
        net.step()
    got = mon.get()
    assert got["a"][:, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    # the delayed synapse (2 steps): x_{n-1}, the rate at the first step before that
    assert got["b"][:, 1].tolist() == [10.0, 10.0, 20.0, 30.0, 40.0]
    assert got["b"][:, 0].tolist() == got["a"][:, 0].tolist(), \
        "the delay-0 synapse of a non-uniform projection lags one step behind the ordinary lag"


def test_two_projections_from_one_population_with_different_delays():
    net = Network()
    pre = Counter(net, 3)
    post = net.create(2, Neuron(equations="r = sum(exc) - sum(inh)"))
    We = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 2.0]])
    Wi = np.array([[0.3, 0.0, 1.0], [1.0, 1.0, 1.0]])
    net.connect(pre.side, post, "exc").connect_from_matrix(We, delays=2.0)
    net.connect(pre.side, post, "inh").connect_from_matrix(Wi, delays=np.array([[5.0, 1.0, 3.0], [0.0, 6.0, 2.0]]))
    mon = Monitor(post, ["sum(exc)", "sum(inh)", "r"])
    net.simulate(N_STEPS)
    full = np.ones((2, 3), bool)
    e = expected_sums(We, full, np.full((2, 3), 2), pre.value, N_STEPS)
    i = expected_sums(Wi, full, np.array([[5, 1, 3], [1, 6, 2]]), pre.value, N_STEPS)
    got = mon.get()
    close(got["sum(exc)"], e)
    close(got["sum(inh)"], i)
    close(got["r"], e - i)


# =============================================================================== reset


@pytest.mark.parametrize("delays", [3.0, np.array([[1.0, 4.0], [2.0, 0.0]])], ids=["uniform", "per-synapse"])
def test_reset_restarts_the_history(delays):
    net = Network()
    pre = Counter(net, 2)
    post, _, _ = make_post(net, 2, False)
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    net.connect(pre.side, post, "exc").connect_from_matrix(W, delays=delays)
    mon = Monitor(post, "sum(exc)")
    net.simulate(8)
    first = mon.get("sum(exc)")
    D = steps_of(np.broadcast_to(delays, (2, 2)), 1.0)
    close(first, expected_sums(W, np.ones((2, 2), bool), D, pre.value, 8))
    net.reset()
    assert np.array_equal(pre.pop.r, pre.r0)
    net.simulate(8)
    assert np.array_equal(mon.get("sum(exc)"), first), "after reset() the delayed rates start again from " \
                                                       "the compile-time rates"


def test_reset_in_the_middle_of_a_long_delay():
    net = Network()
    pre = net.create(1, COUNTER)
    post = net.create(1, POST)
    net.connect(pre, post, "exc").connect_one_to_one(1.0, delays=5.0)
    mon = Monitor(post, "r")
    net.simulate(7)
    net.reset()
    net.simulate(7)
    # r0 = 0 at compile time, pre.r after step m is m + 1
    assert mon.get("r")[:, 0].tolist() == [0.0] * 5 + [1.0, 2.0]


# =============================================================================== custom psp


PSP_CASES = {
    "square": (Synapse(psp="w * pre.r * pre.r"), "sum", lambda w, x: w * x * x),
    "max": (Synapse(psp="w * pre.r", operation="max"), "max", lambda w, x: w * x),
    "mean": (Synapse(psp="w * (pre.r - 1.0)", operation="mean"), "mean", lambda w, x: w * (x - 1.0)),
}


@pytest.mark.parametrize("case", PSP_CASES)
@pytest.mark.parametrize("delays", [3.0, "matrix"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_delays_with_custom_psp(case, delays, fmt):
    synapse, op, psp = PSP_CASES[case]
    rng = np.random.default_rng(8)
    net = Network()
    pre = Counter(net, 4, view=True)
    post, post_side, post_idx = make_post(net, 3, True)
    W = rng.uniform(-1, 1, (3, 4))
    mask = np.ones((3, 4), bool)
    if fmt == "csr":
        mask[1, 2] = mask[0, 0] = False
    D_ms = np.full((3, 4), 3.0) if delays == 3.0 else rng.choice([0.0, 1.0, 2.0, 5.0], (3, 4))
    weights = np.where(mask, W.astype(object), None) if fmt == "csr" else W
    d_arg = 3.0 if delays == 3.0 else (np.where(mask, D_ms.astype(object), None) if fmt == "csr" else D_ms)
    net.connect(pre.side, post_side, "exc", synapse).connect_from_matrix(weights, delays=d_arg, storage_format=fmt)
    mon = Monitor(post, "sum(exc)")
    net.simulate(N_STEPS)
    D = steps_of(D_ms, 1.0)
    expected = np.zeros((N_STEPS, 3))
    for n in range(N_STEPS):
        for i in range(3):
            vals = [psp(W[i, j], pre.value(n - D[i, j])[j]) for j in range(4) if mask[i, j]]
            expected[n, i] = {"sum": np.sum, "max": np.max, "mean": np.mean}[op](vals)
    close(mon.get("sum(exc)")[:, post_idx], expected)


@pytest.mark.parametrize("delays", [2.0, np.array([[2.0, 0.0], [3.0, 1.0]])], ids=["uniform", "per-synapse"])
def test_psp_reading_post_r_is_not_delayed(delays):
    """Only the pre-synaptic side is delayed: post.r in a psp is post's rate of the previous step."""
    net = Network()
    pre = Counter(net, 2)
    post = net.create(2, Neuron(equations="r = 0.5 * sum(exc) + 1.0"))
    W = np.array([[1.0, -1.0], [0.5, 2.0]])
    net.connect(pre.side, post, "exc", Synapse(psp="w * pre.r + 0.1 * post.r")).connect_from_matrix(W, delays=delays)
    mon = Monitor(post, ["sum(exc)", "r"])
    net.simulate(N_STEPS)
    D = steps_of(np.broadcast_to(delays, (2, 2)), 1.0)
    post_r = np.zeros(2)
    expected = np.zeros((N_STEPS, 2))
    for n in range(N_STEPS):
        for i in range(2):
            expected[n, i] = sum(W[i, j] * pre.value(n - D[i, j])[j] + 0.1 * post_r[i] for j in range(2))
        post_r = 0.5 * expected[n] + 1.0
    got = mon.get()
    close(got["sum(exc)"], expected)
    close(got["r"][-1], post_r)


# =============================================================================== module level


def test_module_level_script_with_delays():
    pre = Population(3, COUNTER)
    post = Population(3, POST)
    Projection(pre, post, "exc").connect_one_to_one(weights=1.0, delays=4.0)
    ratenet.compile()
    mon = Monitor(post, "r")
    simulate(8.0)
    r = mon.get("r")[:, 0]
    assert r.tolist() == [0.0] * 4 + [1.0, 2.0, 3.0, 4.0]


def test_negative_delays_rejected():
    net = Network()
    a = net.create(2, INPUT)
    b = net.create(2, POST)
    with pytest.raises(ValidationError, match="delay"):
        net.connect(a, b).connect_all_to_all(1.0, delays=-1.0)
    with pytest.raises(ValidationError, match="delay"):
        net.connect(a, b).connect_from_matrix(np.ones((2, 2)), delays=np.array([[1.0, -2.0], [0.0, 0.0]]))
