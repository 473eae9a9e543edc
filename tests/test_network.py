"""Tests of ratenet.network: step semantics (DESIGN §3), closed forms, the Network API,
module-level functions, seeds and float32 networks.

Every expected value comes from an independent reference: a closed form, a hand
computation or a NumPy loop written here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ratenet
from ratenet import (
    InputArray,
    Monitor,
    Network,
    Neuron,
    Normal,
    Population,
    TimedArray,
    Uniform,
    ValidationError,
)


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


LINEAR = Neuron(equations="r = sum(exc)")
INPUT = Neuron(parameters="r = 0.0")


def leaky(method: str) -> Neuron:
    return Neuron(parameters="tau = 10.0\nI = 2.0", equations=f"tau * dr/dt + r = I : {method}")


# ---------------------------------------------------------------------------
# 1. closed forms


@pytest.mark.parametrize("dt", [1.0, 0.1])
def test_exponential_leaky_integrator_matches_closed_form(dt):
    net = Network(dt=dt)
    pop = net.create(3, leaky("exponential"))
    mon = net.monitor(pop, "r")
    net.simulate(50.0)
    r = mon.get("r")
    n_steps = round(50.0 / dt)
    assert r.shape == (n_steps, 3)
    # the sample after step k (0-based) is the state at t = (k + 1) * dt
    t = np.arange(1, n_steps + 1) * dt
    expected = 2.0 * (1.0 - np.exp(-t / 10.0))
    np.testing.assert_allclose(r, np.repeat(expected[:, None], 3, axis=1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dt", [1.0, 0.1])
def test_explicit_euler_equals_discrete_recursion(dt):
    net = Network(dt=dt)
    pop = net.create(2, leaky("explicit"))
    mon = net.monitor(pop, "r")
    net.simulate(30.0)
    r = mon.get("r")[:, 0]
    n = np.arange(1, len(r) + 1)
    expected = 2.0 * (1.0 - (1.0 - dt / 10.0) ** n)
    np.testing.assert_allclose(r, expected, rtol=0, atol=1e-12)


def test_default_method_is_explicit_euler():
    a, b = Network(dt=0.5), Network(dt=0.5)
    pa = a.create(1, Neuron(parameters="tau = 10.0\nI = 2.0", equations="tau * dr/dt + r = I"))
    pb = b.create(1, leaky("explicit"))
    a.simulate(10.0)
    b.simulate(10.0)
    assert pa.r[0] == pb.r[0]
    assert pa.r[0] == pytest.approx(2.0 * (1.0 - 0.95 ** 20), abs=1e-12)


def _rk4_cos_error(dt: float, duration: float = 2.0) -> float:
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="dr/dt = cos(t) : rk4"))
    mon = net.monitor(pop, "r")
    net.simulate(duration)
    r = mon.get("r")[:, 0]
    t = np.arange(1, len(r) + 1) * dt
    return float(np.abs(r - np.sin(t)).max())


def test_rk4_on_cos_t_converges_at_fourth_order():
    e_coarse, e_fine = _rk4_cos_error(0.2), _rk4_cos_error(0.1)
    assert e_fine < 1e-6
    # fourth order: halving dt divides the error by ~16 (Euler-like use of t would give ~2)
    assert 12.0 < e_coarse / e_fine < 20.0


@pytest.mark.parametrize("dt", [1.0, 0.1, 0.25])
def test_t_in_equations_is_n_times_dt(dt):
    net = Network(dt=dt)
    pop = net.create(2, Neuron(equations="r = t"))
    mon = net.monitor(pop, "r")
    net.simulate(40 * dt)
    r = mon.get("r")
    np.testing.assert_allclose(r[:, 0], np.arange(40) * dt, rtol=0, atol=1e-12)
    assert net.get_time() == pytest.approx(40 * dt, abs=1e-12)


def test_dt_inside_equations_is_the_network_dt():
    net = Network(dt=0.25)
    pop = net.create(1, Neuron(equations="r = dt"))
    net.step()
    assert pop.r[0] == 0.25


# ---------------------------------------------------------------------------
# 2. step semantics


def _chain(net: Network, order: str = "forward"):
    inp = InputArray(2, network=net, name="inp")
    if order == "forward":
        a = net.create(2, LINEAR, name="A")
        b = net.create(2, LINEAR, name="B")
        c = net.create(2, LINEAR, name="C")
        net.connect(inp, a, "exc").one_to_one(1.0)
        net.connect(a, b, "exc").one_to_one(1.0)
        net.connect(b, c, "exc").one_to_one(1.0)
    else:
        c = net.create(2, LINEAR, name="C")
        b = net.create(2, LINEAR, name="B")
        a = net.create(2, LINEAR, name="A")
        net.connect(b, c, "exc").one_to_one(1.0)
        net.connect(a, b, "exc").one_to_one(1.0)
        net.connect(inp, a, "exc").one_to_one(1.0)
    inp.r = [1.0, 2.0]
    return inp, a, b, c


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_chain_reaches_c_at_step_three(order):
    net = Network()
    inp, a, b, c = _chain(net, order)
    mons = [net.monitor(p, "r") for p in (a, b, c)]
    net.simulate(5.0)
    ra, rb, rc = (m.get("r") for m in mons)
    first = [int(np.argmax(np.any(x != 0, axis=1))) + 1 for x in (ra, rb, rc)]
    assert first == [1, 2, 3]  # 1-based step at which each becomes non-zero
    np.testing.assert_array_equal(rc[:2], 0.0)
    np.testing.assert_array_equal(rc[2:], [[1.0, 2.0]] * 3)


def _rich_network(reverse: bool) -> dict[str, np.ndarray]:
    """A network with recurrence, views, several projections into one target and a
    global operation, built in two different orders."""
    rng = np.random.default_rng(12)
    w_ia = rng.uniform(-1, 1, (4, 3))
    w_ab = rng.uniform(-1, 1, (5, 4))
    w_ba = rng.uniform(-1, 1, (4, 5))
    w_aa = rng.uniform(-0.5, 0.5, (4, 4))
    w_view = rng.uniform(-1, 1, (2, 2))
    net = Network(dt=0.5)
    leak = Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = sum(exc) - sum(inh) + 0.1 * mean(r)")
    lin = Neuron(equations="r = tanh(sum(exc)) + 0.2 * max(r)")
    specs = [("inp", 3, None), ("A", 4, leak), ("B", 5, lin)]
    pops = {}
    for name, size, neuron in (reversed(specs) if reverse else specs):
        pops[name] = InputArray(size, network=net, name=name) if neuron is None else \
            net.create(size, neuron, name=name)
    pops["inp"].r = [0.5, -1.0, 2.0]
    projs = [
        ("inp", "A", "exc", w_ia, None, None),
        ("A", "B", "exc", w_ab, None, None),
        ("B", "A", "inh", w_ba, None, None),
        ("A", "A", "exc", w_aa, None, None),
        ("inp", "B", "exc", w_view, slice(0, 2), [1, 3]),
    ]
    for pre, post, target, w, pre_idx, post_idx in (reversed(projs) if reverse else projs):
        pre_obj = pops[pre] if pre_idx is None else pops[pre][pre_idx]
        post_obj = pops[post] if post_idx is None else pops[post][post_idx]
        net.connect(pre_obj, post_obj, target).connect_from_matrix(w)
    mons = {name: net.monitor(pops[name], ["r"] + [f"sum({t})" for t in pops[name].targets])
            for name in ("A", "B")}
    net.simulate(20.0)
    out = {}
    for name, mon in mons.items():
        for var, data in mon.get().items():
            out[f"{name}.{var}"] = data
    return out


def test_creation_order_never_changes_a_result():
    forward, backward = _rich_network(False), _rich_network(True)
    assert forward.keys() == backward.keys()
    assert set(forward) == {"A.r", "A.sum(exc)", "A.sum(inh)", "B.r", "B.sum(exc)"}
    for key in forward:
        assert forward[key].shape[0] == 40
        np.testing.assert_allclose(forward[key], backward[key], rtol=1e-13, atol=1e-15, err_msg=key)


def test_rich_network_against_numpy_reference():
    """The same network as above, stepped by a NumPy loop that follows DESIGN §3."""
    got = _rich_network(False)
    rng = np.random.default_rng(12)
    w_ia = rng.uniform(-1, 1, (4, 3))
    w_ab = rng.uniform(-1, 1, (5, 4))
    w_ba = rng.uniform(-1, 1, (4, 5))
    w_aa = rng.uniform(-0.5, 0.5, (4, 4))
    w_view = rng.uniform(-1, 1, (2, 2))
    inp = np.array([0.5, -1.0, 2.0])
    ra, rb = np.zeros(4), np.zeros(5)
    mean_a, max_b = 0.0, 0.0
    dt, tau = 0.5, 5.0
    rows_a, rows_b = [], []
    for _ in range(40):
        exc_a = w_ia @ inp + w_aa @ ra
        inh_a = w_ba @ rb
        exc_b = w_ab @ ra
        exc_b[[1, 3]] += w_view @ inp[:2]
        ra = ra + dt / tau * (-ra + exc_a - inh_a + 0.1 * mean_a)
        rb = np.tanh(exc_b) + 0.2 * max_b
        mean_a, max_b = ra.mean(), rb.max()
        rows_a.append(ra)
        rows_b.append(rb)
    np.testing.assert_allclose(got["A.r"], rows_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["B.r"], rows_b, rtol=1e-12, atol=1e-12)


def test_global_operations_are_seen_one_step_late():
    net = Network(dt=1.0)
    pop = net.create(3, Neuron(parameters="k = 0.0",
                               equations="r = t + k\nm = mean(r) : population\nx = max(r) : population"))
    pop.k = [1.0, 2.0, 6.0]
    mon = net.monitor(pop, ["m", "x"])
    net.simulate(5.0)
    n = np.arange(5)
    # step n reads mean/max of r computed at the end of step n-1 (0 before the first step)
    expected_mean = np.where(n == 0, 0.0, 3.0 + (n - 1))
    expected_max = np.where(n == 0, 0.0, 6.0 + (n - 1))
    np.testing.assert_array_equal(mon.get("m"), expected_mean)
    np.testing.assert_array_equal(mon.get("x"), expected_max)


def test_several_projections_into_one_target_add_up():
    net = Network()
    i1 = InputArray(4, network=net)
    i2 = InputArray(3, network=net)
    post = net.create(4, Neuron(equations="r = sum(exc)"))
    net.connect(i1, post, "exc").one_to_one(2.0)
    net.connect(i2, post, "exc").all_to_all(0.5)
    w = np.array([[1.0, -1.0], [3.0, 0.5]])
    net.connect(i1[0:2], post[[1, 2]], "exc").from_matrix(w)
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([-1.0, 5.0, 0.25])
    i1.r, i2.r = a, b
    net.simulate(2.0)
    expected = 2.0 * a + 0.5 * b.sum()
    expected[[1, 2]] += w @ a[:2]
    np.testing.assert_allclose(post.r, expected, rtol=1e-14)
    np.testing.assert_allclose(post.sum("exc"), expected, rtol=1e-14)


def test_view_projection_first_then_whole_projection():
    """A projection into part of the target created before one into all of it."""
    net = Network()
    i1 = InputArray(4, network=net)
    post = net.create(4, Neuron(equations="r = sum(exc)"))
    net.connect(i1[[3]], post[[0]], "exc").from_matrix(np.array([[10.0]]))
    net.connect(i1, post, "exc").one_to_one(1.0)
    i1.r = [1.0, 2.0, 3.0, 4.0]
    for _ in range(3):  # the sum must not accumulate across steps
        net.step()
        np.testing.assert_array_equal(post.r, [41.0, 2.0, 3.0, 4.0])


def test_sum_without_target_sums_all_targets():
    net = Network()
    inp = InputArray(3, network=net)
    post = net.create(3, Neuron(equations="r = sum()"))
    net.connect(inp, post, "exc").one_to_one(2.0)
    net.connect(inp, post, "inh").one_to_one(-0.5)
    net.connect(inp, post, "mod").all_to_all(1.0)
    inp.r = [1.0, 2.0, 4.0]
    net.simulate(2.0)
    np.testing.assert_allclose(post.r, 2.0 * inp.r - 0.5 * inp.r + 7.0)


def test_target_that_no_projection_feeds_reads_zero():
    net = Network()
    inp = InputArray(2, network=net)
    post = net.create(2, Neuron(equations="r = sum(exc) - sum(inh) + 1.0"))
    net.connect(inp, post, "exc").one_to_one(1.0)
    inp.r = [3.0, 4.0]
    net.simulate(3.0)
    np.testing.assert_array_equal(post.r, [4.0, 5.0])
    np.testing.assert_array_equal(post.sum("inh"), [0.0, 0.0])


def test_population_with_no_projection_at_all_reads_zero():
    net = Network()
    pop = net.create(2, Neuron(equations="r = sum(exc) + 1.0"))
    net.simulate(2.0)
    np.testing.assert_array_equal(pop.r, [1.0, 1.0])


def test_projection_reads_rates_of_previous_step():
    net = Network()
    src = net.create(1, Neuron(equations="r = t + 1"))
    dst = net.create(1, Neuron(equations="r = sum(exc)"))
    net.connect(src, dst, "exc").one_to_one(1.0)
    mon = net.monitor(dst, "r")
    net.simulate(4.0)
    # src.r at the end of step n is n + 1; dst at step n reads src of step n-1 (0 at first)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("duration, dt, steps", [
    (0.07, 0.01, 7),
    (2.1, 0.3, 7),
    (0.25, 0.1, 3),
    (0.3, 0.1, 3),
    (0.7, 0.1, 7),
    (1.0, 1.0, 1),
    (0.5, 1.0, 1),
    (1.5, 1.0, 2),
    (10.0, 0.1, 100),
    (0.0, 1.0, 0),
])
def test_simulate_runs_ceil_duration_over_dt_steps(duration, dt, steps):
    net = Network(dt=dt)
    pop = net.create(1, Neuron(equations="r = r + 1"))
    net.simulate(duration)
    assert net.get_current_step() == steps
    assert pop.r[0] == steps
    assert net.get_time() == pytest.approx(steps * dt, abs=1e-12)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "10", None, True])
def test_simulate_rejects_bad_durations(bad):
    net = Network()
    net.create(1, LINEAR)
    with pytest.raises(ValidationError, match="simulate.duration"):
        net.simulate(bad)
    assert net.get_current_step() == 0


def test_simulate_accumulates_over_calls():
    net = Network(dt=0.1)
    pop = net.create(1, Neuron(equations="r = r + 1"))
    for _ in range(10):
        net.simulate(0.3)
    assert net.get_current_step() == 30
    assert pop.r[0] == 30


def _counter(net: Network, increments, stop: str, name: str | None = None) -> Population:
    pop = net.create(len(increments), Neuron(parameters="k = 0.0", equations="r = r + k"), name=name,
                     stop_condition=stop)
    pop.k = increments
    return pop


def _steps_until(increments, predicate, max_steps=1000) -> int:
    r = np.zeros(len(increments))
    for n in range(1, max_steps + 1):
        r = r + np.asarray(increments)
        if predicate(r):
            return n
    return max_steps


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_simulate_until_any(dt):
    net = Network(dt=dt)
    k = [0.3, 0.15, 0.05]
    pop = _counter(net, k, "r > 1.0 : any")
    expected = _steps_until(k, lambda r: np.any(r > 1.0))
    assert expected == 4
    assert net.simulate_until(100.0, pop) == pytest.approx(expected * dt)
    assert net.get_current_step() == expected
    np.testing.assert_allclose(pop.r, np.array(k) * expected)


def test_simulate_until_all_and_default_mode_is_all():
    k = [0.3, 0.15, 0.06]
    expected = _steps_until(k, lambda r: np.all(r > 1.0))
    assert expected == 17
    for stop in ("r > 1.0 : all", "r > 1.0"):
        net = Network()
        pop = _counter(net, k, stop)
        assert net.simulate_until(100.0, pop) == expected
        assert net.get_current_step() == expected


def test_simulate_until_with_and_or_inside_the_condition():
    k = [0.5, 3.0, -0.1]
    # 'and' per neuron (inside the window (1, 2)), then any neuron
    expected_and = _steps_until(k, lambda r: np.any((r > 1.0) & (r < 2.0)))
    # 'or' per neuron, then all neurons
    expected_or = _steps_until(k, lambda r: np.all((r > 2.2) | (r < -0.25)))
    assert (expected_and, expected_or) == (3, 5)
    net = Network()
    pop = _counter(net, k, "r > 1.0 and r < 2.0 : any")
    assert net.simulate_until(50.0, pop) == expected_and
    net = Network()
    pop = _counter(net, k, "r > 2.2 or r < -0.25 : all")
    assert net.simulate_until(50.0, pop) == expected_or


def test_simulate_until_and_versus_or_over_two_populations():
    fast_k, slow_k = [0.5], [0.1]
    fast_steps = _steps_until(fast_k, lambda r: np.all(r > 1.0))
    slow_steps = _steps_until(slow_k, lambda r: np.all(r > 1.0))
    assert (fast_steps, slow_steps) == (3, 11)
    for operator, expected in (("and", slow_steps), ("or", fast_steps)):
        net = Network(dt=0.5)
        fast = _counter(net, fast_k, "r > 1.0")
        slow = _counter(net, slow_k, "r > 1.0")
        assert net.simulate_until(100.0, [fast, slow], operator=operator) == pytest.approx(expected * 0.5)
        assert net.get_current_step() == expected


def test_simulate_until_default_operator_is_and():
    net = Network()
    fast = _counter(net, [0.5], "r > 1.0")
    slow = _counter(net, [0.1], "r > 1.0")
    assert net.simulate_until(100.0, [fast, slow]) == 11


def test_simulate_until_reaches_max_duration():
    net = Network(dt=0.1)
    pop = _counter(net, [0.01], "r > 100.0")
    assert net.simulate_until(2.5, pop) == pytest.approx(2.5)
    assert net.get_current_step() == 25
    # a duration that is not a whole number of steps runs ceil(T/dt) steps
    net = Network(dt=1.0)
    pop = _counter(net, [0.01], "r > 100.0")
    assert net.simulate_until(2.5, pop) == 3.0
    assert net.get_current_step() == 3


def test_simulate_until_condition_true_from_start_still_runs_one_step():
    net = Network(dt=0.5)
    pop = net.create(2, Neuron(parameters="r = 5.0"), stop_condition="r > 1.0 : all")
    assert net.simulate_until(10.0, pop) == 0.5
    assert net.get_current_step() == 1


def test_simulate_until_continues_from_current_state():
    net = Network()
    pop = _counter(net, [0.4], "r > 1.0")
    assert net.simulate_until(100.0, pop) == 3  # r = 1.2
    assert net.simulate_until(100.0, pop) == 1  # already true: one step more
    assert net.get_current_step() == 4


def test_simulate_until_monitors_record_every_step_run():
    net = Network()
    pop = _counter(net, [0.25], "r >= 1.0")
    mon = net.monitor(pop, "r")
    net.simulate_until(100.0, pop)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.25, 0.5, 0.75, 1.0])


def test_simulate_until_errors():
    net = Network()
    pop = _counter(net, [0.5], "r > 1.0")
    plain = net.create(1, LINEAR, name="plain")
    with pytest.raises(ValidationError, match=r"simulate_until\.population: 'plain' has no stop_condition"):
        net.simulate_until(10.0, plain)
    with pytest.raises(ValidationError, match=r"simulate_until\.operator: must be 'and' or 'or' \(got 'xor'\)"):
        net.simulate_until(10.0, pop, operator="xor")
    with pytest.raises(ValidationError, match=r"simulate_until\.population: must be a population"):
        net.simulate_until(10.0, [])
    with pytest.raises(ValidationError, match=r"simulate_until\.population"):
        net.simulate_until(10.0, "pop")
    with pytest.raises(ValidationError, match=r"simulate_until\.duration"):
        net.simulate_until(-1.0, pop)
    other = Network()
    foreign = _counter(other, [0.5], "r > 1.0")
    with pytest.raises(ValidationError, match="another network"):
        net.simulate_until(10.0, foreign)
    assert net.get_current_step() == 0


def test_stop_condition_errors_at_creation():
    net = Network()
    with pytest.raises(ratenet.EquationError, match="unknown name 'x'"):
        net.create(2, LINEAR, stop_condition="x > 1")
    with pytest.raises(ratenet.EquationError, match="syntax"):
        net.create(2, LINEAR, stop_condition="r >")
    with pytest.raises(ratenet.RatenetError, match="stop_condition"):
        net.create(2, LINEAR, stop_condition="r > 1 : sometimes")
    with pytest.raises(ValidationError, match="stop_condition"):
        net.create(2, LINEAR, stop_condition=3)


# ---------------------------------------------------------------------------
# 3. Network API


def test_network_defaults_and_properties():
    net = Network()
    assert net.dt == 1.0
    assert net.seed is None
    assert net.dtype == np.float64
    assert net.get_time() == 0.0 and net.get_current_step() == 0
    net = Network(dt=0.25, seed=3, dtype=np.float32)
    assert (net.dt, net.seed, net.dtype) == (0.25, 3, np.dtype(np.float32))
    assert "dt=0.25" in repr(net)


@pytest.mark.parametrize("kwargs, match", [
    (dict(dt=0), r"Network\.dt: must be a positive number of ms \(got 0\)"),
    (dict(dt=-0.1), r"Network\.dt"),
    (dict(dt="1"), r"Network\.dt"),
    (dict(dt=True), r"Network\.dt"),
    (dict(dt=float("nan")), r"Network\.dt"),
    (dict(seed=-1), r"Network\.seed: must be a non-negative integer or None \(got -1\)"),
    (dict(seed=1.5), r"Network\.seed"),
    (dict(seed="1"), r"Network\.seed"),
    (dict(dtype=np.int32), r"Network\.dtype: must be numpy\.float64 or numpy\.float32"),
    (dict(dtype="complex"), r"Network\.dtype"),
])
def test_network_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        Network(**kwargs)


def test_setup_options():
    net = Network()
    net.setup(dt=0.5, seed=4, num_threads=2, paradigm="openmp")  # ANNarchy options are ignored
    assert (net.dt, net.seed) == (0.5, 4)
    net.setup(precision="float")
    assert net.dtype == np.float32
    with pytest.raises(ValidationError, match=r"setup\.colour: unknown option"):
        net.setup(colour="blue")
    with pytest.raises(ValidationError, match=r"setup\.precision"):
        net.setup(precision="half")
    net.create(2, LINEAR)
    with pytest.raises(ValidationError, match=r"Network\.dtype: cannot change once populations exist"):
        net.setup(dtype=np.float64)


def test_create_connect_monitor_compile_step():
    net = Network()
    inp = net.create(3, INPUT, name="inp")
    out = net.create(3, LINEAR, name="out")
    proj = net.connect(inp, out, "exc", name="p")
    assert proj.connect_one_to_one(2.0) is proj
    mon = net.monitor(out, "r")
    assert net.compile() is net
    assert net.populations == [inp, out]
    assert net.projections == [proj]
    assert net.monitors == [mon]
    assert net.get_population("out") is out
    assert net.get_projection("p") is proj
    inp.r = [1.0, 2.0, 3.0]
    net.step()
    assert net.get_current_step() == 1 and net.get_time() == 1.0
    np.testing.assert_array_equal(out.r, [2.0, 4.0, 6.0])
    assert mon.get("r").shape == (1, 3)


def test_network_lookup_and_argument_errors():
    net = Network()
    pop = net.create(2, LINEAR, name="a")
    with pytest.raises(ValidationError, match="neuron: is required"):
        net.create(3)
    with pytest.raises(ValidationError, match=r"name: is already used in this network \(got 'a'\)"):
        net.create(2, LINEAR, name="a")
    with pytest.raises(ValidationError, match="no population of that name"):
        net.get_population("b")
    with pytest.raises(ValidationError, match="no projection of that name"):
        net.get_projection("b")
    with pytest.raises(ValidationError, match="post: is required"):
        net.connect(pop)


def test_compile_is_optional_and_checks_unconnected_projections():
    net = Network()
    a = net.create(2, INPUT)
    b = net.create(2, LINEAR)
    net.connect(a, b, "exc")  # no connector called
    with pytest.raises(ValidationError, match="is not connected"):
        net.compile()
    with pytest.raises(ValidationError, match="is not connected"):
        net.simulate(1.0)


def test_objects_added_after_a_run_take_part():
    net = Network()
    a = net.create(1, Neuron(equations="r = r + 1"))
    net.simulate(2.0)
    b = net.create(1, Neuron(equations="r = sum(exc)"))
    net.connect(a, b, "exc").one_to_one(10.0)
    mon = net.monitor(b, "r")
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [20.0, 30.0])


def test_step_order_is_readable_and_follows_the_phases():
    net = Network()
    mon_target = net.create(2, LINEAR, name="b")  # created before its input
    a = net.create(2, INPUT, name="a")
    net.connect(a, mon_target, "exc", name="ab").one_to_one(1.0)
    net.monitor(mon_target, "r", name="mb")
    order = net.step_order
    assert all(isinstance(line, str) for line in order)
    idx_proj = next(i for i, s in enumerate(order) if s.startswith("ab:"))
    idx_pop = next(i for i, s in enumerate(order) if s.startswith("b:"))
    idx_mon = next(i for i, s in enumerate(order) if s.startswith("mb:"))
    assert idx_proj < idx_pop < idx_mon
    assert "sum(exc)" in order[idx_proj] and "r = sum(exc)" in order[idx_pop]
    assert not any(s.startswith("a:") for s in order)  # inputs have nothing to update


def test_get_set_time_and_current_step():
    net = Network(dt=0.5)
    pop = net.create(1, Neuron(equations="r = t"))
    net.simulate(2.0)
    assert net.get_current_step() == 4 and net.get_time() == 2.0
    net.set_time(10.0)
    assert net.get_current_step() == 20 and net.get_time() == 10.0
    net.step()
    assert pop.r[0] == 10.0  # t inside equations follows set_time
    net.set_current_step(3)
    assert net.get_time() == 1.5
    with pytest.raises(ValidationError, match=r"Network\.t"):
        net.set_time(-1.0)
    with pytest.raises(ValidationError, match=r"Network\.step"):
        net.set_current_step(-2)


def _reset_network():
    net = Network(dt=1.0)
    pop = net.create(3, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0 : exponential\n"
                                                                  "m = mean(r) : population"))
    mon = net.monitor(pop, ["r", "m"])
    return net, pop, mon


def test_reset_restores_compile_time_values_time_and_monitors():
    net, pop, mon = _reset_network()
    pop.r = [0.5, 0.25, 0.0]  # before compile: part of the compile-time state
    pop.tau = [1.0, 2.0, 4.0]
    net.compile()
    net.simulate(5.0)
    first = mon.get("r", keep=True)
    pop.tau = 100.0  # after compile: forgotten by reset
    net.reset()
    assert net.get_time() == 0.0 and net.get_current_step() == 0
    np.testing.assert_array_equal(pop.r, [0.5, 0.25, 0.0])
    np.testing.assert_array_equal(pop.tau, [1.0, 2.0, 4.0])
    assert pop.m == 0.0
    assert mon.get("r").shape == (0, 3)
    net.simulate(5.0)
    np.testing.assert_array_equal(mon.get("r"), first)


def test_reset_keeping_monitors_and_population_values():
    net, pop, mon = _reset_network()
    net.simulate(3.0)
    r_after = pop.r
    net.reset(populations=False, monitors=False)
    assert net.get_current_step() == 0
    np.testing.assert_array_equal(pop.r, r_after)
    assert mon.get("r").shape == (3, 3)


def test_reset_without_compile_snapshots_current_values():
    net, pop, _ = _reset_network()
    pop.r = 0.75
    net.reset()
    np.testing.assert_array_equal(pop.r, [0.75] * 3)


def test_reset_restores_weights_only_when_asked():
    net = Network()
    a = net.create(2, INPUT)
    b = net.create(2, LINEAR)
    proj = net.connect(a, b, "exc").one_to_one(1.0)
    net.compile()
    proj.w = 5.0
    net.reset()
    np.testing.assert_array_equal(np.ravel(proj.w), [5.0, 5.0])
    net.reset(projections=True)
    np.testing.assert_array_equal(np.ravel(proj.w), [1.0, 1.0])


def test_several_networks_are_independent():
    n1, n2 = Network(dt=1.0), Network(dt=0.1)
    p1 = n1.create(2, Neuron(equations="r = r + 1"))
    p2 = n2.create(2, Neuron(equations="r = r + 1"))
    m1, m2 = n1.monitor(p1, "r"), n2.monitor(p2, "r")
    n1.simulate(3.0)
    assert n2.get_current_step() == 0 and n2.get_time() == 0.0
    n2.simulate(1.0)
    assert (n1.get_current_step(), n2.get_current_step()) == (3, 10)
    np.testing.assert_array_equal(p1.r, [3.0, 3.0])
    np.testing.assert_array_equal(p2.r, [10.0, 10.0])
    assert m1.get("r").shape == (3, 2) and m2.get("r").shape == (10, 2)
    n1.reset()
    assert n2.get_current_step() == 10
    np.testing.assert_array_equal(p2.r, [10.0, 10.0])
    # a default-network population is in none of them
    ratenet.Population(2, LINEAR)
    assert len(n1.populations) == 1 and len(n2.populations) == 1


def test_objects_of_different_networks_cannot_be_connected_or_monitored():
    n1, n2 = Network(), Network()
    a = n1.create(2, INPUT)
    b = n2.create(2, LINEAR)
    with pytest.raises(ValidationError, match="belongs to another network"):
        n2.connect(a, b, "exc")
    with pytest.raises(ValidationError, match="same network"):
        ratenet.Projection(a, b, "exc")
    with pytest.raises(ValidationError, match="belongs to another network"):
        n2.monitor(a, "r")


def test_networks_with_the_same_seed_built_interleaved_are_identical():
    n1, n2 = Network(seed=5), Network(seed=5)
    neuron = Neuron(parameters="b = Uniform(0, 1)", equations="r = b + Normal(0, 1)")
    p1 = n1.create(4, neuron)
    p2 = n2.create(4, neuron)
    for _ in range(3):
        n1.step()
        n2.step()
    np.testing.assert_array_equal(p1.r, p2.r)
    np.testing.assert_array_equal(p1.b, p2.b)


# ---------------------------------------------------------------------------
# seeds and reproducibility


def _random_network(seed, dtype=np.float64):
    net = Network(dt=0.5, seed=seed, dtype=dtype)
    a = net.create(6, Neuron(parameters="b = Uniform(0, 1)\ntau = 5.0",
                             equations="tau * dr/dt + r = b + Normal(0, 0.1)"))
    a.tau = Uniform(2.0, 8.0)
    b = net.create(4, Neuron(equations="r = sum(exc) + Uniform(-0.01, 0.01)"))
    proj = net.connect(a, b, "exc").all_to_all(Normal(0.0, 1.0))
    mon = net.monitor(a, "r")
    monb = net.monitor(b, "r")
    net.simulate(5.0)
    return {"a.b": a.b, "a.tau": a.tau, "w": np.asarray(proj.w), "a.r": mon.get("r"), "b.r": monb.get("r")}


def test_same_seed_gives_identical_arrays():
    x, y = _random_network(42), _random_network(42)
    for key in x:
        np.testing.assert_array_equal(x[key], y[key], err_msg=key)


def test_different_seeds_give_different_arrays():
    x, y = _random_network(1), _random_network(2)
    for key in x:
        assert not np.array_equal(x[key], y[key]), key


def test_unseeded_networks_differ():
    x, y = _random_network(None), _random_network(None)
    assert not np.array_equal(x["a.r"], y["a.r"])


def test_setup_seed_after_compile_reseeds_equation_draws():
    """setup(seed=s) must make later draws those of a fresh Network(seed=s)."""
    neuron = Neuron(equations="r = Uniform(0, 1)")
    fresh = Network(seed=7)
    expected = fresh.create(4, neuron)
    fresh.step()
    net = Network(seed=1)
    pop = net.create(4, neuron)
    net.step()  # builds the plan with the generator of seed 1
    net.setup(seed=7)
    net.reset()
    net.step()
    np.testing.assert_array_equal(pop.r, expected.r)


def test_setup_seed_before_creation_equals_network_seed():
    ratenet.setup(seed=11)
    pop = Population(5, Neuron(parameters="b = Uniform(0, 1)"))
    net = Network(seed=11)
    ref = net.create(5, Neuron(parameters="b = Uniform(0, 1)"))
    np.testing.assert_array_equal(pop.b, ref.b)


# ---------------------------------------------------------------------------
# float32


def _float_network(dtype):
    net = Network(dt=0.5, dtype=dtype)
    inp = InputArray(4, network=net)
    inp.r = [0.2, 0.4, 0.6, 0.8]
    a = net.create(4, Neuron(parameters="tau = 10.0\ng = 0.5 : population",
                             equations="tau * dr/dt + r = sum(exc) + g * mean(r) : exponential"))
    b = net.create(3, Neuron(parameters="tau = 4.0", equations="tau * dr/dt + r = tanh(sum(exc))"))
    w = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    proj = net.connect(a, b, "exc").from_matrix(w)
    net.connect(inp, a, "exc").one_to_one(1.5)
    mon = net.monitor(b, ["r", "sum(exc)"])
    net.simulate(20.0)
    return net, inp, a, b, proj, mon


def test_float32_network_arrays_are_float32():
    net, inp, a, b, proj, mon = _float_network(np.float32)
    assert net.dtype == np.float32
    for array in (inp.r, a.r, a.tau, b.r, a.sum("exc"), b.sum("exc"), np.asarray(proj.w)):
        assert array.dtype == np.float32
    data = mon.get()
    assert data["r"].dtype == np.float32 and data["sum(exc)"].dtype == np.float32
    assert isinstance(a.g, float)
    a.r = 0.1
    assert a.r.dtype == np.float32


def test_float32_results_match_float64():
    *_, b32, _, m32 = _float_network(np.float32)
    *_, b64, _, m64 = _float_network(np.float64)
    assert b64.r.dtype == np.float64
    np.testing.assert_allclose(b32.r, b64.r, rtol=1e-5, atol=1e-6)
    d32, d64 = m32.get(), m64.get()
    for key in d64:
        np.testing.assert_allclose(d32[key], d64[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_module_setup_precision_float():
    ratenet.setup(dtype=np.float32)
    pop = Population(3, LINEAR)
    assert pop.r.dtype == np.float32
    ratenet.clear()
    assert Population(3, LINEAR).r.dtype == np.float64


# ---------------------------------------------------------------------------
# module-level functions and the default network


def test_setup_and_clear():
    ratenet.setup(dt=0.1, seed=3)
    assert ratenet.dt() == 0.1
    assert ratenet.default_network().seed == 3
    Population(2, LINEAR)
    assert len(ratenet.populations()) == 1
    ratenet.clear()
    assert ratenet.dt() == 1.0
    assert ratenet.default_network().seed is None
    assert ratenet.populations() == [] and ratenet.monitors() == []
    assert ratenet.get_time() == 0.0


def test_module_level_projections_function():
    """ratenet.projections() lists the default network's projections (ANNarchy's name)."""
    a = Population(2, INPUT)
    b = Population(2, LINEAR)
    proj = ratenet.Projection(a, b, "exc").connect_one_to_one(1.0)
    assert ratenet.populations() == [a, b]
    assert callable(ratenet.projections), "ratenet.projections is the subpackage, not the function"
    assert ratenet.projections() == [proj]
    assert ratenet.projections.Convolution.__name__ == "Convolution"  # the subpackage, callable
    assert ratenet.projections(target="inh") == []


def test_clear_gives_a_fresh_default_network():
    old = ratenet.default_network()
    pop = Population(2, LINEAR)
    ratenet.simulate(3.0)
    ratenet.clear()
    new = ratenet.default_network()
    assert new is not old
    assert pop.network is old
    assert ratenet.get_current_step() == 0


def test_module_level_workflow():
    inp = Population(3, INPUT, name="inp")
    out = Population(3, Neuron(parameters="tau = 2.0", equations="tau * dr/dt + r = sum(exc) : exponential"),
                     name="out", stop_condition="r > 0.5 : all")
    proj = ratenet.Projection(inp, out, "exc").connect_one_to_one(1.0)
    mon = Monitor(out, "r")
    assert ratenet.get_population("out") is out and ratenet.get_projection(proj.name) is proj
    assert ratenet.monitors() == [mon]
    inp.r = 1.0
    ratenet.compile()
    ratenet.simulate(3.0)
    ratenet.step()
    assert ratenet.get_current_step() == 4 and ratenet.get_time() == 4.0
    r = mon.get("r")[:, 0]
    # step 0 already reads inp.r = 1 (set before the run)
    expected = [1.0 - math.exp(-n / 2.0) for n in range(1, 5)]
    np.testing.assert_allclose(r, expected, atol=1e-12)
    ratenet.reset()
    assert ratenet.get_time() == 0.0
    np.testing.assert_array_equal(out.r, 0.0)
    ratenet.set_time(2.0)
    assert ratenet.get_current_step() == 2
    ratenet.set_current_step(0)
    steps = ratenet.simulate_until(20.0, out)
    expected_steps = next(n for n in range(1, 100) if 1.0 - math.exp(-n / 2.0) > 0.5)
    assert steps == expected_steps


def test_default_network_dt_applies_to_new_objects():
    ratenet.setup(dt=0.25)
    pop = Population(1, Neuron(equations="r = r + dt"))
    ratenet.simulate(1.0)
    assert ratenet.get_current_step() == 4
    assert pop.r[0] == 1.0


def test_timed_array_feeds_a_projection_one_step_late():
    net = Network()
    ta = TimedArray(np.array([[1.0], [2.0], [3.0]]), network=net)
    post = net.create(1, LINEAR)
    net.connect(ta, post, "exc").one_to_one(10.0)
    mon = net.monitor(post, "r")
    net.simulate(5.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 10.0, 20.0, 30.0, 30.0])


def test_create_adopts_a_population_built_elsewhere():
    pop = Population(3, INPUT, name="img")
    net = Network()
    assert net.create(pop) is pop
    assert pop.network is net and net.populations == [pop]
    assert ratenet.populations() == []
    post = net.create(3, LINEAR)
    net.connect(pop, post, "exc").one_to_one(2.0)
    pop.r = [1.0, 2.0, 3.0]
    net.step()
    np.testing.assert_array_equal(post.r, [2.0, 4.0, 6.0])


def test_adopting_a_population_keeps_the_values_set_before():
    pop = Population(3, Neuron(parameters="r = 0.0\ntau = 1.0"))
    pop.r = [1.0, 2.0, 3.0]
    pop.tau = 5.0
    net = Network()
    net.create(pop)
    np.testing.assert_array_equal(pop.r, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(pop.tau, [5.0, 5.0, 5.0])


def test_adopting_a_connected_population_is_refused():
    a = Population(2, INPUT)
    b = Population(2, LINEAR)
    ratenet.Projection(a, b, "exc").connect_one_to_one(1.0)
    with pytest.raises(ValidationError, match="already connected in another network"):
        Network().create(a)


def test_simulate_measure_time_and_progress_bar(capsys):
    net = Network()
    net.create(2, Neuron(equations="r = r + 1"))
    net.simulate(5.0, measure_time=True, progress_bar=True)
    captured = capsys.readouterr()
    assert "Simulating 5.0 ms (5 steps)" in captured.out
    assert "5/5" in captured.err and "t=5 ms" in captured.err
    assert net.get_current_step() == 5


def test_check_finite_names_population_variable_and_neuron():
    from ratenet import RatenetError

    net = Network()
    net.setup(check_finite=True)
    pop = net.create(3, Neuron(parameters="k = 1.0", equations="r = 1.0 / (k - t)"), name="div")
    pop.k = [5.0, 2.0, 7.0]
    net.simulate(2.0)
    with pytest.raises(RatenetError, match=r"Population 'div'\.r: neuron 1 is inf after step 2 \(t = 2\.0 ms\)"):
        with np.errstate(divide="ignore"):
            net.simulate(1.0)


def test_check_finite_is_off_by_default():
    net = Network()
    pop = net.create(1, Neuron(equations="r = log(0.0)"))
    with np.errstate(divide="ignore"):
        net.simulate(1.0)
    assert np.isneginf(pop.r[0])
