"""Tests of synaptic learning: built-in and user rules, psp/operation with learned weights,
enabling/disabling learning (period, offset), and reset of learned weights.

Every expectation is recomputed here with a plain NumPy loop that follows DESIGN.md section 3
(one step = transmission reading pre.r of the previous step, population updates, learning seeing
this step's rates) and section 4 (integration methods, ODE blocks, clamps).  Learning groups run
as the brief for ratenet specifies: ``projection``-level equations first, then ``postsynaptic``
ones, then per-synapse ones, each in declaration order.

Only the public API is used: weights are read with ``connectivity_matrix()``,
``proj.<attribute>`` and ``proj.dendrite(rank)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ratenet
from ratenet import (
    IBCM,
    Hebb,
    Monitor,
    Network,
    Neuron,
    Oja,
    Population,
    Projection,
    Synapse,
    TimedArray,
    Uniform,
    clear,
    compile,
    setup,
    simulate,
)


@pytest.fixture(autouse=True)
def _fresh_default_network():
    clear()
    yield
    clear()


N_STEPS = 100
INPUT = Neuron(parameters="r = 0.0")
LINEAR = Neuron(equations="r = sum(exc)")
# post.v differs from post.r; the synapse reads it
RICH = Neuron(parameters="b = 0.0", equations="v = sum(exc) + b\nr = tanh(v)")
# pre.sum(exc) differs from pre.r; the synapse reads it
RELAY = Neuron(equations="r = 0.5 * sum(exc)")

# storage: (storage_format, every synapse present)
FORMATS = {"dense": ("dense", True), "dense-masked": ("dense", False), "csr": ("csr", False)}
LAYOUTS = ["populations", "views"]


def close(actual, expected, what="weights"):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=1e-12, atol=1e-12,
                               err_msg=what)


# =============================================================================== scenario


class Scenario:
    """A network ``src -> [relay ->] post`` with one learned projection, and its NumPy twin.

    * ``drive="set"``: ``src`` is an input population whose ``r`` the test sets before every
      ``step()``; ``drive="timed"``: ``src`` is a TimedArray replaying the same rates.
    * ``pre_kind="input"``: the learned projection starts at ``src``; ``"relay"``: at a
      relay population ``r = 0.5 * sum(exc)`` fed by ``src`` through fixed weights ``U``.
    * ``post_kind="linear"``: ``r = sum(exc)``; ``"rich"``: ``v = sum(exc) + b``, ``r = tanh(v)``.
    * ``layout="views"``: pre and post of the learned projection are PopulationViews with
      shuffled ranks.
    """

    def __init__(self, synapse, fmt="dense", layout="populations", drive="set", pre_kind="input",
                 post_kind="linear", w_range=(0.0, 0.3), n_pre=6, n_post=4, seed=0, dt=1.0):
        rng = np.random.default_rng(seed)
        self.fmt, self.layout, self.drive, self.pre_kind, self.post_kind = fmt, layout, drive, pre_kind, post_kind
        self.dt = dt
        storage, full = FORMATS[fmt]
        views = layout == "views"
        n_src = n_pre + 3 if views else n_pre
        n_post_total = n_post + 2 if views else n_post
        self.pre_idx = rng.permutation(n_src)[:n_pre] if views else np.arange(n_pre)
        self.post_idx = rng.permutation(n_post_total)[:n_post] if views else np.arange(n_post)
        self.X = rng.uniform(0.0, 1.0, (N_STEPS, n_src))
        self.b = rng.uniform(-0.2, 0.2, n_post_total)
        self.U = rng.uniform(0.0, 0.6, (n_src, n_src))
        self.W0 = rng.uniform(*w_range, (n_post, n_pre))
        if full:
            self.mask = np.ones((n_post, n_pre), dtype=bool)
        else:
            self.mask = rng.random((n_post, n_pre)) < 0.6
            self.mask[np.arange(n_post), rng.integers(0, n_pre, n_post)] = True  # no empty dendrite
            self.mask[0, :] = False
            self.mask[0, 1] = True
        self.W0 = np.where(self.mask, self.W0, 0.0)

        net = self.net = Network(dt=dt, seed=seed)
        if drive == "timed":
            self.src = TimedArray(self.X, network=net, name="src")
        else:
            self.src = net.create(n_src, INPUT, name="src")
        if pre_kind == "relay":
            self.relay = net.create(n_src, RELAY, name="relay")
            net.connect(self.src, self.relay, "exc", name="fixed").connect_from_matrix(self.U)
            pre_pop = self.relay
        else:
            pre_pop = self.src
        self.post_pop = net.create(n_post_total, LINEAR if post_kind == "linear" else RICH, name="post")
        if post_kind == "rich":
            self.post_pop.b = self.b
        pre = pre_pop[self.pre_idx.tolist()] if views else pre_pop
        post = self.post_pop[self.post_idx.tolist()] if views else self.post_pop
        weights = self.W0 if full else np.where(self.mask, self.W0.astype(object), None)
        self.proj = net.connect(pre, post, "exc", synapse, name="learned").connect_from_matrix(
            weights, storage_format=storage)
        assert self.proj.storage_format == storage

    # ------------------------------------------------------------------ ratenet
    def run(self, steps=N_STEPS, start=0):
        for n in range(start, start + steps):
            if self.drive == "set":
                self.src.r = self.X[n]
            self.net.step()

    def weights(self):
        return self.proj.connectivity_matrix()

    # ---------------------------------------------------------------- reference
    def inputs(self, steps=N_STEPS):
        """Per step: (pre rates read in phase 2, pre rates after the update, pre.sum(exc))."""
        idx = self.pre_idx
        src_prev = np.zeros(self.X.shape[1])  # r of src at compile time
        relay_prev = np.zeros(self.X.shape[1])
        for n in range(steps):
            src_in = self.X[n] if self.drive == "set" else src_prev
            if self.pre_kind == "relay":
                relay_sum = self.U @ src_in
                relay_now = 0.5 * relay_sum
                yield relay_prev[idx], relay_now[idx], relay_sum[idx]
                relay_prev = relay_now
            else:
                yield src_in[idx], self.X[n][idx], None
            src_prev = self.X[n]

    def post_update(self, s):
        if self.post_kind == "linear":
            return {"r": s}
        v = s + self.b[self.post_idx]
        return {"r": np.tanh(v), "v": v}

    def reference(self, rule, steps=N_STEPS, transmit=None, state=None, learn_at=None):
        """Run the NumPy twin; ``rule(W, pre, post, pre_sum, state)`` returns the new W.

        Returns the final weights and the list of weights after every step.
        """
        W = self.W0.copy()
        state = {} if state is None else state
        history = []
        for n, (pre_in, pre_now, pre_sum) in enumerate(self.inputs(steps)):
            s = W @ pre_in if transmit is None else transmit(W, self.mask, pre_in)
            post = self.post_update(s)
            if learn_at is None or learn_at(n):
                W = rule(W, pre_now, post, pre_sum, state)
                W = np.where(self.mask, W, 0.0)
            history.append(W.copy())
        return W, history


def changed(W, W0, at_least=1e-3):
    assert np.abs(W - W0).max() > at_least, "the rule barely changed the weights: the test proves little"


def check_dendrites(scn, W):
    """The weights of every dendrite, read one by one, in pre order."""
    for row, rank in enumerate(scn.post_idx):
        d = scn.proj.dendrite(int(rank))
        present = np.flatnonzero(scn.mask[row])
        assert d.size == len(present)
        assert sorted(d.pre_ranks) == sorted(scn.pre_idx[present].tolist())
        by_rank = dict(zip(d.pre_ranks, np.asarray(d.w).tolist()))
        close([by_rank[int(scn.pre_idx[c])] for c in present], W[row, present], f"dendrite {rank}")


# =============================================================================== built-in rules

ALL = [(fmt, layout) for fmt in FORMATS for layout in LAYOUTS]


@pytest.mark.parametrize("drive", ["set", "timed"])
@pytest.mark.parametrize("fmt,layout", ALL)
def test_hebb(fmt, layout, drive):
    eta = 0.02
    scn = Scenario(Hebb(eta=eta), fmt, layout, drive)
    scn.run()

    def rule(W, pre, post, _sum, _state):
        return np.maximum(W + scn.dt * (eta * np.outer(post["r"], pre)), 0.0)

    W, _ = scn.reference(rule)
    changed(W, scn.W0)
    close(scn.weights(), W)
    check_dendrites(scn, W)
    assert scn.proj.eta == eta


@pytest.mark.parametrize("drive", ["set", "timed"])
@pytest.mark.parametrize("fmt,layout", ALL)
def test_oja(fmt, layout, drive):
    eta, alpha = 0.05, 2.0
    scn = Scenario(Oja(eta=eta, alpha=alpha), fmt, layout, drive, w_range=(0.0, 0.8))
    scn.run()

    def rule(W, pre, post, _sum, _state):
        r = post["r"][:, None]
        return np.maximum(W + scn.dt * eta * (r * pre[None, :] - alpha * r ** 2 * W), 0.0)

    W, _ = scn.reference(rule)
    changed(W, scn.W0)
    close(scn.weights(), W)
    check_dendrites(scn, W)


@pytest.mark.parametrize("fmt,layout", ALL)
def test_ibcm_postsynaptic_threshold_exponential(fmt, layout):
    eta, tau = 0.05, 20.0
    scn = Scenario(IBCM(eta=eta, tau=tau), fmt, layout, "timed", w_range=(0.0, 0.6))
    scn.run()

    def rule(W, pre, post, _sum, state):
        r = post["r"]
        theta = state.get("theta", np.zeros_like(r))
        theta = theta + (1.0 - math.exp(-scn.dt / tau)) * (r ** 2 - theta)  # exponential method
        state["theta"] = theta
        return np.maximum(W + scn.dt * eta * np.outer(r * (r - theta), pre), 0.0)

    state = {}
    W, _ = scn.reference(rule, state=state)
    changed(W, scn.W0)
    close(scn.weights(), W)
    close(scn.proj.theta, state["theta"], "theta (one per post neuron)")
    for row, rank in enumerate(scn.post_idx):
        close(scn.proj.dendrite(int(rank)).theta, state["theta"][row], "dendrite theta")


# =============================================================================== user rules


COVARIANCE = Synapse(
    parameters="eta = 0.2 : projection",
    equations="dw/dt = eta * (pre.r - mean(pre.r)) * (post.r - mean(post.r)) : min=-1.0, max=1.0",
)


@pytest.mark.parametrize("fmt,layout", ALL)
def test_covariance_rule_with_global_means(fmt, layout):
    """mean(pre.r) / mean(post.r) are taken over the projection's pre / post neurons (views too)."""
    scn = Scenario(COVARIANCE, fmt, layout, "set", w_range=(-0.3, 0.3))
    scn.run()

    def rule(W, pre, post, _sum, _state):
        r = post["r"]
        dw = 0.2 * np.outer(r - r.mean(), pre - pre.mean())
        return np.clip(W + scn.dt * dw, -1.0, 1.0)

    W, _ = scn.reference(rule)
    changed(W, scn.W0)
    close(scn.weights(), W)


SHARED = Synapse(
    parameters="tau = 10.0 : projection",
    equations="""
        tau * dw/dt = pre.r * (post.r - x) - w : implicit
        m = mean(post.r) : projection
        tau * dx/dt + x = post.r * m : postsynaptic, exponential
    """,
)


@pytest.mark.parametrize("fmt,layout", ALL)
def test_projection_and_postsynaptic_variables_run_before_local_ones(fmt, layout):
    """Declared last, m (projection) and x (postsynaptic) are still updated before w, which
    sees this step's values; w uses the implicit (backward Euler) method."""
    scn = Scenario(SHARED, fmt, layout, "timed", post_kind="rich", w_range=(0.0, 0.5))
    scn.run()
    tau = 10.0
    h = scn.dt / tau

    def rule(W, pre, post, _sum, state):
        r = post["r"]
        m = r.mean()
        x = state.get("x", np.zeros_like(r))
        x = x + (1.0 - math.exp(-h)) * (r * m - x)
        state["x"], state["m"] = x, m
        # backward Euler of tau*dw/dt = A - w: w_new = (w + h*A) / (1 + h)
        return (W + h * np.outer(r - x, pre)) / (1.0 + h)

    state = {}
    W, _ = scn.reference(rule, state=state)
    changed(W, scn.W0)
    close(scn.weights(), W)
    close(scn.proj.x, state["x"], "postsynaptic x")
    close(scn.proj.m, state["m"], "projection-level m")
    assert isinstance(scn.proj.m, float)


CLAMPED = Synapse(
    parameters="""
        eta = 0.6 : projection
        wmin = 0.05 : projection
        wmax = 0.25 : postsynaptic
    """,
    equations="dw/dt = eta * (pre.r - 0.5) * post.r : min=wmin, max=wmax",
)


@pytest.mark.parametrize("fmt,layout", ALL)
def test_min_max_clamps_from_parameters(fmt, layout):
    scn = Scenario(CLAMPED, fmt, layout, "set", w_range=(0.1, 0.2))
    wmax = np.linspace(0.15, 0.3, len(scn.post_idx))
    scn.proj.wmax = wmax  # one bound per post neuron
    scn.run()

    def rule(W, pre, post, _sum, _state):
        W = W + scn.dt * 0.6 * np.outer(post["r"], pre - 0.5)
        return np.minimum(np.maximum(W, 0.05), wmax[:, None])

    W, history = scn.reference(rule)
    close(scn.weights(), W)
    upper = np.broadcast_to(wmax[:, None], W.shape)[scn.mask]
    # the clamps are nonlinear: had ratenet skipped one at any step, the final weights would differ
    assert any(np.any(h[scn.mask] == 0.05) for h in history), "the lower bound was never reached"
    assert any(np.any(h[scn.mask] == upper) for h in history), "the upper bound was never reached"
    on = scn.weights()[scn.mask]
    assert np.all(on >= 0.05) and np.all(on <= upper)


MIDPOINT = Synapse(
    parameters="eta = 0.05 : projection\ntau = 4.0 : projection",
    equations="dw/dt = eta * pre.sum(exc) * post.v - w / tau : midpoint, min=-0.4, max=0.4",
)


@pytest.mark.parametrize("fmt,layout", ALL)
def test_midpoint_rule_reading_pre_sum_and_post_variable(fmt, layout):
    scn = Scenario(MIDPOINT, fmt, layout, "set", pre_kind="relay", post_kind="rich", w_range=(-0.3, 0.3))
    scn.run()
    eta, tau, dt = 0.05, 4.0, scn.dt

    def rule(W, _pre, post, pre_sum, _state):
        A = eta * np.outer(post["v"], pre_sum)

        def f(w):
            return A - w / tau

        return np.clip(W + dt * f(W + dt * f(W) / 2.0), -0.4, 0.4)

    W, _ = scn.reference(rule)
    changed(W, scn.W0)
    close(scn.weights(), W)


def test_rk4_and_semiimplicit_rules_agree_with_their_formulas():
    """Two more methods on the same linear rule, dense, inputs set every step."""
    for method in ("rk4", "semiimplicit"):
        syn = Synapse(parameters="tau = 5.0 : projection", equations=f"tau * dw/dt + w = pre.r * post.r : {method}")
        scn = Scenario(syn, "dense", "populations", "set", w_range=(0.0, 0.5))
        scn.run()
        h = scn.dt / 5.0

        def rule(W, pre, post, _sum, _state, method=method, h=h, scn=scn):
            S = np.outer(post["r"], pre)
            if method == "semiimplicit":
                return W + (h / (h + 1.0)) * (S - W)

            def f(w):
                return (S - w) / 5.0

            k1 = f(W)
            k2 = f(W + scn.dt * k1 / 2)
            k3 = f(W + scn.dt * k2 / 2)
            k4 = f(W + scn.dt * k3)
            return W + scn.dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

        W, _ = scn.reference(rule)
        changed(W, scn.W0)
        close(scn.weights(), W, method)


def test_ode_block_in_synapse_uses_old_values():
    """Two consecutive per-synapse ODEs form a block: both derivatives from the old values."""
    syn = Synapse(equations="""
        dw/dt = 0.1 * (y - w) * pre.r
        dy/dt = 0.1 * (w - y) + 0.01 * post.r
    """)
    scn = Scenario(syn, "csr", "views", "set", w_range=(0.0, 0.5))
    scn.run()

    def rule(W, pre, post, _sum, state):
        Y = state.get("y", np.zeros_like(W))
        dW = 0.1 * (Y - W) * pre[None, :]
        dY = 0.1 * (W - Y) + 0.01 * post["r"][:, None]
        state["y"] = np.where(scn.mask, Y + scn.dt * dY, 0.0)
        return W + scn.dt * dW

    state = {}
    W, _ = scn.reference(rule, state=state)
    changed(W, scn.W0)
    close(scn.weights(), W)
    for row, rank in enumerate(scn.post_idx):
        d = scn.proj.dendrite(int(rank))
        present = np.flatnonzero(scn.mask[row])
        by_rank = dict(zip(d.pre_ranks, np.asarray(d.y).tolist()))
        close([by_rank[int(scn.pre_idx[c])] for c in present], state["y"][row, present], "y")


def test_learning_with_dt_below_one():
    """dt enters the update: dt = 0.25, 100 steps."""
    eta = 0.05
    scn = Scenario(Hebb(eta=eta), "csr", "populations", "timed", dt=0.25)
    scn.run()

    def rule(W, pre, post, _sum, _state):
        return np.maximum(W + 0.25 * (eta * np.outer(post["r"], pre)), 0.0)

    W, _ = scn.reference(rule)
    changed(W, scn.W0, 1e-4)
    close(scn.weights(), W)


# =============================================================================== ANNarchy 4.x script


def test_annarchy_style_script_oja():
    """Module-level objects, compile(), simulate(): weights after 100 steps."""
    rates = np.random.default_rng(7).uniform(0.0, 1.0, (100, 3, 3))

    # -- the script, as an ANNarchy 4.x user writes it
    setup(dt=1.0, seed=42)
    Leaky = Neuron(parameters="tau = 5.0 : population",
                   equations="tau * dr/dt + r = sum(exc) : min=0.0")
    inp = TimedArray(rates=rates)
    out = Population(geometry=4, neuron=Leaky)
    proj = Projection(pre=inp, post=out, target="exc", synapse=Oja(eta=0.02, alpha=1.5))
    proj.connect_all_to_all(weights=Uniform(0.0, 0.5))
    compile()
    w0 = np.array(proj.w)
    simulate(100.0)
    # --

    assert ratenet.get_current_step() == 100
    W, r, pre_prev = w0.copy(), np.zeros(4), np.zeros(9)
    for n in range(100):
        s = W @ pre_prev
        r = np.maximum(r + (s - r) / 5.0, 0.0)
        x = rates[n].reshape(-1)
        W = np.maximum(W + 0.02 * (np.outer(r, x) - 1.5 * (r ** 2)[:, None] * W), 0.0)
        pre_prev = x
    changed(W, w0)
    close(proj.w, W)
    close(out.r, r, "post rates")


# =============================================================================== psp and operation


def _reduce(op):
    def transmit(W, mask, pre, psp=lambda w, x: w * x):
        values = psp(W, pre[None, :])
        out = np.zeros(W.shape[0])
        for i in range(W.shape[0]):
            v = values[i, mask[i]]
            if v.size:
                out[i] = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}[op](v)
        return out
    return transmit


@pytest.mark.parametrize("op", ["max", "min", "mean"])
@pytest.mark.parametrize("fmt,layout", ALL)
def test_operation_with_learned_weights(op, fmt, layout):
    syn = Synapse(parameters="eta = 0.1 : projection",
                  equations="dw/dt = eta * pre.r * (post.r - w) : min=0.0",
                  psp="w * pre.r", operation=op)
    scn = Scenario(syn, fmt, layout, "timed", w_range=(0.0, 1.0))
    mon = Monitor(scn.post_pop, "r")
    scn.run()

    def rule(W, pre, post, _sum, _state):
        return np.maximum(W + scn.dt * 0.1 * pre[None, :] * (post["r"][:, None] - W), 0.0)

    W, history = scn.reference(rule, transmit=_reduce(op))
    changed(W, scn.W0)
    close(scn.weights(), W)
    # what post received at the last step: op over the weights learned until the step before
    pre_in = list(scn.inputs())[-1][0]
    close(mon.get("r")[-1][scn.post_idx], _reduce(op)(history[-2], scn.mask, pre_in), "post.r at the last step")


@pytest.mark.parametrize("fmt", FORMATS)
def test_custom_psp_with_learned_weights(fmt):
    syn = Synapse(parameters="eta = 0.05 : projection",
                  equations="dw/dt = eta * pre.r * post.r - 0.1 * w",
                  psp="w * (pre.r - 0.25)", operation="sum")
    scn = Scenario(syn, fmt, "views", "set", w_range=(0.0, 1.0))
    scn.run()

    def transmit(W, mask, pre):
        return (np.where(mask, W * (pre[None, :] - 0.25), 0.0)).sum(axis=1)

    def rule(W, pre, post, _sum, _state):
        return W + scn.dt * (0.05 * np.outer(post["r"], pre) - 0.1 * W)

    W, _ = scn.reference(rule, transmit=transmit)
    changed(W, scn.W0)
    close(scn.weights(), W)


@pytest.mark.parametrize("psp,reference", [
    ("w * pre.r + post.r", lambda w, x, post_r, post_v, t: w * x + post_r),
    ("w * pre.r * t", lambda w, x, post_r, post_v, t: w * x * t),
    ("w * pre.r + post.v", lambda w, x, post_r, post_v, t: w * x + post_v),
], ids=["post.r", "t", "post.v"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_psp_reading_more_than_pre_with_a_constant_input(psp, reference, fmt):
    """pre does not change, but the psp also reads post.r, post.v or t: what post receives
    changes at every step of one simulate() call."""
    net = Network()
    pre = net.create(2, INPUT)
    pre.r = [1.0, 0.5]
    post = net.create(2, Neuron(parameters="tau = 4.0", equations="tau * dv/dt + v = 1.0\nr = 0.5 * sum(exc)"))
    W = np.array([[1.0, 2.0], [0.5, 0.0]])
    net.connect(pre, post, "exc", Synapse(psp=psp)).connect_from_matrix(W, storage_format=fmt)
    mon = Monitor(post, "sum(exc)")
    net.simulate(6)
    post_r, post_v = np.zeros(2), np.zeros(2)
    expected = []
    for n in range(6):
        s = np.array([sum(reference(W[i, j], [1.0, 0.5][j], post_r[i], post_v[i], float(n)) for j in range(2))
                      for i in range(2)])
        expected.append(s)
        post_v = post_v + (1.0 - post_v) / 4.0
        post_r = 0.5 * s
    close(mon.get("sum(exc)"), np.array(expected), psp)


def test_random_draw_in_psp_works_or_is_rejected_at_definition():
    """Random distributions are allowed in equations; in a psp they must either draw a fresh value
    per synapse and step or be refused when the Synapse is defined (never fail mid-run)."""
    try:
        synapse = Synapse(psp="w * pre.r * Uniform(0.5, 1.5)")
    except ratenet.EquationError:
        return
    net = Network(seed=3)
    pre = net.create(3, Neuron(parameters="r = 1.0"))
    post = net.create(2, LINEAR)
    net.connect(pre, post, "exc", synapse).connect_all_to_all(1.0)
    mon = Monitor(post, "r")
    net.simulate(20)
    r = mon.get("r")
    assert r.min() >= 1.5 and r.max() <= 4.5 and len(np.unique(r)) > 10


@pytest.mark.parametrize("rule", ["hebb", "oja", "ibcm", "covariance"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_learning_in_one_run_with_a_constant_input(rule, fmt):
    """The input is set once and one simulate(100) call runs: learning still changes what post
    receives at every step (nothing may be reused because pre did not change)."""
    synapse = {"hebb": Hebb(eta=0.01), "oja": Oja(eta=0.05, alpha=2.0), "ibcm": IBCM(eta=0.05, tau=10.0),
               "covariance": COVARIANCE}[rule]
    rng = np.random.default_rng(12)
    x = rng.uniform(0, 1, 5)
    W0 = rng.uniform(0.0, 0.4, (3, 5))
    mask = np.ones((3, 5), bool) if fmt == "dense" else rng.random((3, 5)) < 0.7
    mask[:, 0] = True
    W0 = np.where(mask, W0, 0.0)
    net = Network()
    inp = net.create(5, INPUT)
    relay = net.create(5, LINEAR)                     # a pure relay in between
    out = net.create(3, LINEAR)
    net.connect(inp, relay, "exc").connect_one_to_one(1.0)
    proj = net.connect(relay, out, "exc", synapse).connect_from_matrix(
        W0 if fmt == "dense" else np.where(mask, W0.astype(object), None), storage_format=fmt)
    mon = Monitor(out, "r")
    inp.r = x
    net.simulate(N_STEPS)

    W, theta, relay_r, rs = W0.copy(), np.zeros(3), np.zeros(5), []
    for _ in range(N_STEPS):
        r = W @ relay_r
        relay_r = x.copy()
        if rule == "hebb":
            W = np.maximum(W + 0.01 * np.outer(r, relay_r), 0.0)
        elif rule == "oja":
            W = np.maximum(W + 0.05 * (np.outer(r, relay_r) - 2.0 * (r ** 2)[:, None] * W), 0.0)
        elif rule == "ibcm":
            theta = theta + (1.0 - math.exp(-1.0 / 10.0)) * (r ** 2 - theta)
            W = np.maximum(W + 0.05 * np.outer(r * (r - theta), relay_r), 0.0)
        else:
            W = np.clip(W + 0.2 * np.outer(r - r.mean(), relay_r - relay_r.mean()), -1.0, 1.0)
        W = np.where(mask, W, 0.0)
        rs.append(r)
    changed(W, W0)
    close(proj.connectivity_matrix(), W)
    close(mon.get("r"), np.array(rs), "post rates at every step")


def test_learning_with_a_slowly_changing_input():
    """A TimedArray that changes every 7 steps, one run: transmission between changes must still
    use the weights learned at every step."""
    rng = np.random.default_rng(13)
    X = rng.uniform(0, 1, (15, 4))
    net = Network()
    inp = TimedArray(X, schedule=7.0, network=net)
    out = net.create(2, LINEAR)
    W0 = rng.uniform(0, 0.5, (2, 4))
    proj = net.connect(inp, out, "exc", Oja(eta=0.05)).connect_from_matrix(W0)
    mon = Monitor(out, "r")
    net.simulate(N_STEPS)
    W, prev, rs = W0.copy(), np.zeros(4), []
    for n in range(N_STEPS):
        r = W @ prev
        now = X[min(n // 7, 14)]
        W = np.maximum(W + 0.05 * (np.outer(r, now) - (r ** 2)[:, None] * W), 0.0)
        prev = now
        rs.append(r)
    close(proj.connectivity_matrix(), W)
    close(mon.get("r"), np.array(rs))


# =============================================================================== enable / disable


def hebb_rule(scn, eta):
    def rule(W, pre, post, _sum, _state):
        return np.maximum(W + scn.dt * (eta * np.outer(post["r"], pre)), 0.0)
    return rule


@pytest.mark.parametrize("fmt", FORMATS)
def test_disable_then_enable_learning_per_projection(fmt):
    scn = Scenario(Hebb(eta=0.05), fmt, "populations", "set")
    scn.proj.disable_learning()
    scn.run(30)
    close(scn.weights(), scn.W0, "weights while learning is disabled")
    scn.proj.enable_learning()
    scn.run(40, start=30)
    scn.proj.disable_learning()
    scn.run(30, start=70)
    W, _ = scn.reference(hebb_rule(scn, 0.05), learn_at=lambda n: 30 <= n < 70)
    changed(W, scn.W0)
    close(scn.weights(), W)


@pytest.mark.parametrize("dt,period,offset", [(1.0, 5.0, 2.0), (0.5, 2.0, 1.5), (1.0, 3.0, None),
                                              (1.0, None, 10.0)])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_enable_learning_with_period_and_offset(fmt, dt, period, offset):
    scn = Scenario(Hebb(eta=0.05), fmt, "populations", "timed", dt=dt)
    scn.proj.enable_learning(period=period, offset=offset)
    scn.run()
    p = round(period / dt) if period else 1
    o = round(offset / dt) if offset else 0
    learn_at = lambda n: n >= o and (n - o) % p == 0  # noqa: E731
    assert sum(learn_at(n) for n in range(N_STEPS)) < N_STEPS or p == 1
    W, _ = scn.reference(hebb_rule(scn, 0.05), learn_at=learn_at)
    changed(W, scn.W0, 1e-4)
    close(scn.weights(), W)


def test_monitor_shows_learning_only_at_matching_steps():
    scn = Scenario(Hebb(eta=0.05), "dense", "populations", "set")
    scn.proj.enable_learning(period=4.0, offset=1.0)
    mon = Monitor(scn.proj, "w")
    scn.run(20)
    samples = mon.get("w")
    assert samples.shape == (20,) + scn.W0.shape
    moved = [not np.array_equal(samples[n], samples[n - 1] if n else scn.W0) for n in range(20)]
    assert moved == [n >= 1 and (n - 1) % 4 == 0 for n in range(20)]


def test_network_level_enable_and_disable():
    """Network.disable_learning() stops every projection, enable_learning(period) restarts them;
    the list form targets one projection only."""
    net = Network(seed=2)
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (60, 5))
    src = TimedArray(X, network=net)
    a = net.create(3, LINEAR)
    b = net.create(2, LINEAR)
    pa = net.connect(src, a, "exc", Hebb(eta=0.02)).connect_all_to_all(Uniform(0, 0.3), storage_format="dense")
    pb = net.connect(src, b, "exc", Oja(eta=0.05)).connect_all_to_all(Uniform(0, 0.3), storage_format="csr")
    static = net.connect(src, b, "exc").connect_all_to_all(0.1)
    Wa, Wb = pa.connectivity_matrix(), pb.connectivity_matrix()

    net.disable_learning()
    net.simulate(10)
    net.enable_learning(period=2.0)           # both learn every other step from now (absolute steps)
    net.simulate(20)
    net.disable_learning([pb])                # only pb stops
    net.simulate(30)
    assert static.connectivity_matrix().tolist() == np.full((2, 5), 0.1).tolist()

    ra, rb, prev = np.zeros(3), np.zeros(2), np.zeros(5)
    for n in range(60):
        ra = Wa @ prev
        rb = Wb @ prev + 0.1 * prev.sum()
        x = X[n]
        if 10 <= n and n % 2 == 0:
            Wa = np.maximum(Wa + 0.02 * np.outer(ra, x), 0.0)
            if n < 30:
                Wb = np.maximum(Wb + 0.05 * (np.outer(rb, x) - (rb ** 2)[:, None] * Wb), 0.0)
        prev = x
    close(pa.connectivity_matrix(), Wa)
    close(pb.connectivity_matrix(), Wb)


def test_module_level_enable_disable_learning():
    setup(seed=1)
    X = np.random.default_rng(4).uniform(0, 1, (20, 4))
    src = TimedArray(X)
    out = Population(2, LINEAR)
    proj = Projection(src, out, "exc", Hebb(eta=0.1)).connect_all_to_all(0.2)
    ratenet.disable_learning()
    simulate(10.0)
    assert np.array_equal(proj.w, np.full((2, 4), 0.2))
    ratenet.enable_learning()
    simulate(10.0)
    W, prev = np.full((2, 4), 0.2), np.zeros(4)
    for n in range(20):
        r = W @ prev
        if n >= 10:
            W = np.maximum(W + 0.1 * np.outer(r, X[n]), 0.0)
        prev = X[n]
    changed(W, np.full((2, 4), 0.2))
    close(proj.w, W)


def test_enable_learning_does_not_make_a_static_projection_learn():
    net = Network()
    a = net.create(2, INPUT)
    b = net.create(2, LINEAR)
    proj = net.connect(a, b).connect_all_to_all(0.5)
    net.enable_learning()
    proj.enable_learning()
    a.r = [1.0, 2.0]
    net.simulate(5)
    assert np.array_equal(proj.w, np.full((2, 2), 0.5))


# =============================================================================== reset


@pytest.mark.parametrize("fmt", FORMATS)
def test_reset_projections_restores_compile_time_weights(fmt):
    scn = Scenario(IBCM(eta=0.05, tau=10.0), fmt, "views", "timed", w_range=(0.0, 0.6))
    scn.net.compile()
    scn.run(50)
    first_w, first_theta = scn.weights(), np.array(scn.proj.theta)
    changed(first_w, scn.W0)

    scn.net.reset()                           # populations and time only
    assert scn.net.get_current_step() == 0
    close(scn.weights(), first_w, "reset() keeps learned weights")

    scn.net.reset(projections=True)
    assert np.array_equal(scn.weights(), scn.W0), "reset(projections=True) must restore the weights bit for bit"
    assert np.array_equal(scn.proj.theta, np.zeros(len(scn.post_idx)))
    scn.run(50)                               # the same run again, bit for bit
    assert np.array_equal(scn.weights(), first_w)
    assert np.array_equal(scn.proj.theta, first_theta)


def test_reset_synapses_flag_and_module_level_reset():
    setup(seed=5)
    src = TimedArray(np.random.default_rng(1).uniform(0, 1, (30, 3)))
    out = Population(2, LINEAR)
    proj = Projection(src, out, "exc", Hebb(eta=0.1)).connect_all_to_all(Uniform(0.0, 0.5))
    compile()
    w0 = np.array(proj.w)
    simulate(30.0)
    changed(np.array(proj.w), w0)
    ratenet.reset(synapses=True)
    assert np.array_equal(proj.w, w0)
    assert ratenet.get_time() == 0.0


def test_weights_set_before_compile_are_the_reset_target():
    net = Network()
    a = TimedArray(np.ones((10, 2)), network=net)
    b = net.create(2, LINEAR)
    proj = net.connect(a, b, "exc", Hebb(eta=0.1)).connect_all_to_all(0.1)
    proj.w = np.array([[0.2, 0.3], [0.4, 0.5]])
    net.simulate(10)
    assert not np.array_equal(proj.w, [[0.2, 0.3], [0.4, 0.5]])
    net.reset(projections=True)
    assert proj.w.tolist() == [[0.2, 0.3], [0.4, 0.5]]
