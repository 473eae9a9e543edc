"""Tests of ratenet.monitor.Monitor: shapes, timing of samples, periods, start/pause/resume,
get(keep=...), times(), sample_times(), sum(target), views, single neurons and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ratenet
from ratenet import InputArray, Monitor, Network, Neuron, Population, ValidationError


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


# r after step n (0-based) is n*dt + k: every sample is easy to predict
RAMP = Neuron(parameters="k = 0.0\ng = 2.0 : population", equations="r = t + k\nv = g * t : population")


def ramp(net: Network, geometry=(2, 3)):
    pop = net.create(geometry, RAMP, name="ramp")
    pop.k = np.arange(pop.size, dtype=float) * 100.0
    return pop


def expected_ramp(steps, dt, size):
    """(steps, size) reference: sample n holds n*dt + 100*rank."""
    return np.arange(steps)[:, None] * dt + 100.0 * np.arange(size)[None, :]


# ---------------------------------------------------------------------------
# shapes and values


@pytest.mark.parametrize("dt", [1.0, 0.1])
def test_records_steps_by_neurons(dt):
    net = Network(dt=dt)
    pop = ramp(net)
    mon = Monitor(pop, "r")
    net.simulate(10 * dt)
    data = mon.get("r")
    assert data.shape == (10, 6)
    np.testing.assert_allclose(data, expected_ramp(10, dt, 6), rtol=0, atol=1e-12)


def test_first_sample_is_the_state_after_the_first_step():
    net = Network()
    pop = net.create(1, Neuron(equations="r = r + 1"))
    mon = net.monitor(pop, "r")
    net.step()
    np.testing.assert_array_equal(mon.get("r"), [[1.0]])


def test_reshape_gives_steps_by_geometry():
    net = Network()
    pop = net.create((2, 3, 2), RAMP)
    pop.k = np.arange(12.0) * 100.0
    mon = Monitor(pop, ["r", "v"])
    net.simulate(4.0)
    data = mon.get("r", reshape=True, keep=True)
    assert data.shape == (4, 2, 3, 2)
    np.testing.assert_array_equal(data, expected_ramp(4, 1.0, 12).reshape(4, 2, 3, 2))
    flat = mon.get("r", keep=True)
    assert flat.shape == (4, 12)
    np.testing.assert_array_equal(flat.reshape(4, 2, 3, 2), data)
    assert mon.get("v", reshape=True).shape == (4,)


def test_population_level_variables_give_one_value_per_step():
    net = Network(dt=0.5)
    pop = ramp(net)
    mon = net.monitor(pop, ["v", "g"])
    net.simulate(3.0)
    v, g = mon.get("v"), mon.get("g")
    assert v.shape == (6,) and g.shape == (6,)
    np.testing.assert_allclose(v, 2.0 * 0.5 * np.arange(6), atol=1e-12)
    np.testing.assert_array_equal(g, 2.0)


def test_several_variables_and_get_all():
    net = Network()
    pop = ramp(net)
    mon = Monitor(pop, ["r", "v"])
    net.simulate(3.0)
    data = mon.get()
    assert set(data) == {"r", "v"}
    assert data["r"].shape == (3, 6) and data["v"].shape == (3,)
    assert mon.get("r").shape == (0, 6)  # get() without keep emptied every variable
    net.simulate(1.0)
    both = mon.get(["r", "v"])
    assert isinstance(both, dict) and both["r"].shape == (1, 6)
    net.simulate(1.0)
    one = mon.get("r", force_dict=True)
    assert list(one) == ["r"]


def test_samples_are_copies_not_views_of_the_state():
    net = Network()
    pop = net.create(2, Neuron(equations="r = r + 1"))
    mon = net.monitor(pop, "r")
    net.simulate(3.0)
    data = mon.get("r", keep=True)
    data[:] = -1.0
    np.testing.assert_array_equal(mon.get("r"), [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    np.testing.assert_array_equal(pop.r, [3.0, 3.0])


def test_recording_across_storage_blocks():
    """Enough neurons that a storage block holds only 16 samples."""
    net = Network()
    size = 70_000
    pop = net.create(size, Neuron(parameters="k = 0.0", equations="r = t + k"))
    pop.k = np.arange(size, dtype=float)
    mon = net.monitor(pop, "r")
    net.simulate(40.0)
    first = mon.get("r", keep=True)
    assert first.shape == (40, size)
    np.testing.assert_array_equal(first[:, 0], np.arange(40.0))
    np.testing.assert_array_equal(first[:, -1], np.arange(40.0) + size - 1)
    np.testing.assert_array_equal(mon.sample_times(), np.arange(40.0))
    net.simulate(3.0)
    second = mon.get("r")
    assert second.shape == (43, size)
    np.testing.assert_array_equal(second[:40], first)
    assert mon.get("r").shape == (0, size)


# ---------------------------------------------------------------------------
# period


@pytest.mark.parametrize("dt, period, every", [
    (1.0, 1.0, 1),
    (1.0, 3.0, 3),
    (0.1, 0.3, 3),
    (0.1, 0.7, 7),
    (0.5, 2.0, 4),
    (0.01, 0.07, 7),
])
def test_period_records_every_k_steps_from_start(dt, period, every):
    net = Network(dt=dt)
    pop = ramp(net, 2)
    mon = net.monitor(pop, "r", period=period)
    n = 5 * every + 2
    net.simulate(n * dt)
    steps = np.arange(0, n, every)
    np.testing.assert_allclose(mon.sample_times(), steps * dt, atol=1e-12)
    np.testing.assert_allclose(mon.get("r"), expected_ramp(n, dt, 2)[steps], atol=1e-12)


def test_period_counts_from_when_recording_starts():
    net = Network()
    pop = ramp(net, 1)
    net.simulate(5.0)
    mon = net.monitor(pop, "r", period=2.0)
    net.simulate(6.0)
    np.testing.assert_array_equal(mon.sample_times(), [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(mon.get("r")[:, 0], [5.0, 7.0, 9.0])


@pytest.mark.parametrize("dt, period", [(0.1, 0.25), (1.0, 1.5), (1.0, 0.5), (0.3, 0.5)])
def test_period_not_a_multiple_of_dt_is_an_error(dt, period):
    net = Network(dt=dt)
    pop = ramp(net, 1)
    with pytest.raises(ValidationError, match=rf"Monitor\.period: must be a multiple of dt = {dt} ms "
                                              rf"\(got {period}\)"):
        net.monitor(pop, "r", period=period)


@pytest.mark.parametrize("period", [0, -1.0, float("nan"), "2", True])
def test_bad_period_values(period):
    net = Network()
    pop = ramp(net, 1)
    with pytest.raises(ValidationError, match=r"Monitor\.period: must be a positive number of ms"):
        net.monitor(pop, "r", period=period)


# ---------------------------------------------------------------------------
# start, pause, resume


def test_start_false_then_start():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r", start=False)
    net.simulate(3.0)
    assert mon.get("r").shape == (0, 1)
    assert mon.times() == {"r": {"start": [], "stop": []}}
    mon.start()
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [3.0, 4.0])


def test_start_with_another_period():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r", start=False)
    net.simulate(2.0)
    mon.start(period=3.0)
    net.simulate(7.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [2.0, 5.0, 8.0])


def test_pause_and_resume():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r")
    net.simulate(3.0)
    mon.pause()
    net.simulate(4.0)
    mon.resume()
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.sample_times(), [0.0, 1.0, 2.0, 7.0, 8.0])
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 1.0, 2.0, 7.0, 8.0])
    times = mon.times()
    assert times == {"r": {"start": [0.0, 7.0], "stop": [3.0, 9.0]}}


def test_stop_keeps_data_until_read():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r")
    net.simulate(2.0)
    mon.stop()
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 1.0])


def test_pause_twice_and_resume_while_recording_are_harmless():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r")
    net.simulate(1.0)
    mon.pause()
    mon.pause()
    net.simulate(1.0)
    mon.resume()
    mon.resume()
    net.simulate(1.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 2.0])


def test_period_with_pause_and_resume_restarts_the_count():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r", period=2.0)
    net.simulate(3.0)  # samples at 0, 2
    mon.pause()
    net.simulate(2.0)
    mon.resume()  # at step 5
    net.simulate(4.0)  # samples at 5, 7
    np.testing.assert_array_equal(mon.sample_times(), [0.0, 2.0, 5.0, 7.0])


# ---------------------------------------------------------------------------
# get(keep=...), times(), sample_times()


def test_get_without_keep_empties_and_with_keep_keeps():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r")
    net.simulate(3.0)
    kept = mon.get("r", keep=True)
    again = mon.get("r", keep=True)
    np.testing.assert_array_equal(kept, again)
    np.testing.assert_array_equal(mon.sample_times(), [0.0, 1.0, 2.0])
    taken = mon.get("r")
    np.testing.assert_array_equal(taken, kept)
    assert mon.get("r").shape == (0, 1)
    assert mon.sample_times().shape == (0,)
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [3.0, 4.0])


def test_times_while_recording():
    net = Network(dt=0.5)
    pop = ramp(net, 1)
    mon = net.monitor(pop, ["r", "v"])
    net.simulate(2.0)
    assert mon.times() == {"r": {"start": [0.0], "stop": [2.0]}, "v": {"start": [0.0], "stop": [2.0]}}
    assert mon.times("r") == {"r": {"start": [0.0], "stop": [2.0]}}


def test_sample_times_are_the_t_of_each_sampled_step():
    net = Network(dt=0.25)
    pop = ramp(net, 1)
    mon = net.monitor(pop, ["r", "v"], period=0.5)
    net.simulate(2.0)
    np.testing.assert_allclose(mon.sample_times(), [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(mon.sample_times("v"), [0.0, 0.5, 1.0, 1.5])
    # with r = t + k, a sample's value equals its sample time
    np.testing.assert_allclose(mon.get("r")[:, 0], mon.sample_times("v"))
    with pytest.raises(ValidationError, match="is not recorded"):
        mon.sample_times("x")


def test_reset_of_the_network_clears_monitors():
    net = Network()
    pop = ramp(net, 1)
    mon = net.monitor(pop, "r", period=2.0)
    net.simulate(5.0)
    net.reset()
    assert mon.get("r", keep=True).shape == (0, 1)
    net.simulate(3.0)
    np.testing.assert_array_equal(mon.sample_times(), [0.0, 2.0])
    np.testing.assert_array_equal(mon.get("r")[:, 0], [0.0, 2.0])
    assert mon.times()["r"]["start"] == [0.0]


def test_monitor_created_after_a_run():
    net = Network()
    pop = ramp(net, 1)
    net.simulate(4.0)
    mon = net.monitor(pop, "r")
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [4.0, 5.0])
    assert mon.times()["r"]["start"] == [4.0]


# ---------------------------------------------------------------------------
# sum(target)


def test_sum_target_is_recordable_and_equals_the_phase_two_sum():
    rng = np.random.default_rng(3)
    w = rng.uniform(-0.5, 0.5, (4, 4))
    w_in = rng.uniform(0.0, 1.0, (4, 2))
    net = Network()
    inp = InputArray(2, network=net)
    inp.r = [1.0, -2.0]
    pop = net.create(4, Neuron(equations="r = tanh(sum(exc)) + 0.5 * sum(inh)"))
    net.connect(pop, pop, "exc").from_matrix(w)
    net.connect(inp, pop, "inh").from_matrix(w_in)
    mon = net.monitor(pop, ["r", "sum(exc)", "sum(inh)"])
    net.simulate(6.0)
    r = np.zeros(4)
    sums, rates = [], []
    for _ in range(6):
        exc = w @ r  # phase 2 reads r of the previous step
        inh = w_in @ inp.r
        r = np.tanh(exc) + 0.5 * inh
        sums.append(exc)
        rates.append(r)
    data = mon.get()
    np.testing.assert_allclose(data["sum(exc)"], sums, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(data["r"], rates, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(data["sum(inh)"], np.tile(w_in @ inp.r, (6, 1)), rtol=1e-14)


def test_sum_target_of_a_view_and_reshape():
    net = Network()
    inp = InputArray((2, 3), network=net)
    inp.r = np.arange(6.0).reshape(2, 3)
    pop = net.create((2, 3), Neuron(equations="r = sum(exc)"))
    net.connect(inp, pop, "exc").one_to_one(2.0)
    mon = net.monitor(pop[:, 1], "sum(exc)")
    full = net.monitor(pop, "sum(exc)")
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("sum(exc)"), [[2.0, 8.0], [2.0, 8.0]])
    np.testing.assert_array_equal(full.get("sum(exc)", reshape=True)[0], 2.0 * np.arange(6.0).reshape(2, 3))


def test_sum_of_a_target_nothing_feeds_records_zero():
    net = Network()
    pop = net.create(2, Neuron(equations="r = sum(exc) + 1"))
    mon = net.monitor(pop, "sum(exc)")
    net.simulate(2.0)
    np.testing.assert_array_equal(mon.get("sum(exc)"), np.zeros((2, 2)))


# ---------------------------------------------------------------------------
# views and single neurons


def test_monitor_of_views_matches_the_population_record():
    net = Network()
    pop = ramp(net, (3, 4))
    full = Monitor(pop, "r")  # 4.x: flat by default
    column = net.monitor(pop[:, 2], "r")
    block = net.monitor(pop[0:2, 1:3], "r")
    listed = net.monitor(pop[[11, 0, 5]], "r")
    net.simulate(3.0)
    reference = full.get("r")
    np.testing.assert_array_equal(column.get("r", keep=True), reference[:, [2, 6, 10]])
    assert column.get("r", reshape=True).shape == (3, 3)
    np.testing.assert_array_equal(block.get("r", reshape=True, keep=True),
                                  reference.reshape(3, 3, 4)[:, 0:2, 1:3])
    assert block.get("r").shape == (3, 4)
    np.testing.assert_array_equal(listed.get("r"), reference[:, [11, 0, 5]])


def test_monitor_of_a_view_records_population_level_variables():
    net = Network()
    pop = ramp(net, 4)
    mon = net.monitor(pop[1:3], ["r", "v"])
    net.simulate(2.0)
    assert mon.get("v").shape == (2,)
    assert mon.get("r").shape == (2, 2)


def test_monitor_of_single_neurons():
    net = Network()
    pop = ramp(net, (3, 4))
    by_coord = net.monitor(pop.neuron(1, 2), "r")
    by_rank = net.monitor(pop[7], ["r", "v"])
    net.simulate(3.0)
    np.testing.assert_array_equal(by_coord.get("r"), expected_ramp(3, 1.0, 12)[:, [6]])
    data = by_rank.get()
    assert data["r"].shape == (3, 1)
    np.testing.assert_array_equal(data["r"][:, 0], np.arange(3.0) + 700.0)
    assert data["v"].shape == (3,)


# ---------------------------------------------------------------------------
# errors


def test_unknown_variable_with_suggestion():
    net = Network()
    pop = ramp(net, 2)
    with pytest.raises(ValidationError) as info:
        net.monitor(pop, "rr")
    assert str(info.value) == ("Monitor.variables: 'ramp' has no attribute of that name; did you mean 'r'? "
                               "(attributes: k, g, r, v) (got 'rr')")
    with pytest.raises(ValidationError, match="has no attribute of that name"):
        net.monitor(pop, ["r", "zzz"])
    with pytest.raises(ValidationError, match="did you mean 'r'"):
        net.monitor(pop[0:1], "rr")
    with pytest.raises(ValidationError, match="did you mean 'r'"):
        net.monitor(pop.neuron(0), "rr")


def test_unknown_target():
    net = Network()
    pop = net.create(2, Neuron(equations="r = sum(exc)"), name="p")
    with pytest.raises(ValidationError, match=r"Monitor\.variables: 'p' receives no target 'inh' "
                                              r"\(targets: exc\) \(got 'sum\(inh\)'\)"):
        net.monitor(pop, "sum(inh)")


def test_empty_variable_list():
    net = Network()
    pop = ramp(net, 2)
    with pytest.raises(ValidationError, match=r"Monitor\.variables: name at least one variable to record"):
        net.monitor(pop, [])
    with pytest.raises(ValidationError, match=r"Monitor\.variables"):
        Monitor(pop)


@pytest.mark.parametrize("obj", [3, "ramp", None, np.zeros(3)])
def test_wrong_object(obj):
    with pytest.raises(ValidationError, match=r"Monitor\.obj: must be a Population, PopulationView, neuron or "
                                              r"Projection"):
        Monitor(obj, "r")


def test_non_string_variable():
    net = Network()
    pop = ramp(net, 2)
    with pytest.raises(ValidationError, match=r"Monitor\.variables: must be a name or a list of names.* \(got \[1\]\)"):
        net.monitor(pop, [1])


def test_get_of_an_unrecorded_variable():
    net = Network()
    pop = ramp(net, 2)
    mon = net.monitor(pop, "r", name="m")
    with pytest.raises(ValidationError, match=r"Monitor 'm'\.variables: 'v' is not recorded \(recorded: r\)"):
        mon.get("v")


def test_failed_monitor_is_not_registered():
    net = Network()
    pop = ramp(net, 2)
    with pytest.raises(ValidationError):
        net.monitor(pop, "rr")
    with pytest.raises(ValidationError):
        net.monitor(pop, "r", period=0.5)
    assert net.monitors == []
    net.simulate(1.0)


# ---------------------------------------------------------------------------
# module level, dtype


def test_module_level_monitor_on_the_default_network():
    pop = Population(2, Neuron(equations="r = r + 1"))
    mon = Monitor(pop, "r")
    assert ratenet.monitors() == [mon]
    ratenet.simulate(3.0)
    np.testing.assert_array_equal(mon.get("r")[:, 0], [1.0, 2.0, 3.0])
    ratenet.reset()
    ratenet.step()
    np.testing.assert_array_equal(mon.get("r")[:, 0], [1.0])


def test_float32_monitor_data():
    net = Network(dtype=np.float32)
    pop = net.create(3, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0\nm = mean(r) : population"))
    mon = net.monitor(pop, ["r", "m"])
    net.simulate(3.0)
    data = mon.get()
    assert data["r"].dtype == np.float32
    np.testing.assert_allclose(data["r"][:, 0], 1.0 - 0.9 ** np.arange(1, 4), rtol=1e-6)
    assert data["m"].shape == (3,)


def test_size_in_bytes_grows_with_recording():
    net = Network()
    pop = ramp(net, 4)
    mon = net.monitor(pop, "r")
    assert mon.size_in_bytes() == 0
    net.simulate(2.0)
    assert mon.size_in_bytes() >= 2 * 4 * 8


def test_sum_of_a_target_is_recordable_as_soon_as_a_projection_feeds_it():
    net = Network()
    inp = net.create(1, Neuron(parameters="r = 2.0"))
    pop = net.create(1, Neuron(parameters="tau = 2.0", equations="tau * dr/dt + r = sum()"))
    net.connect(inp, pop, "extra").connect_all_to_all(0.5)
    assert pop.targets == ["extra"] and pop.sum("extra").tolist() == [0.0]
    m = net.monitor(pop, ["r", "sum(extra)"])   # before the network was compiled
    net.simulate(2.0)
    np.testing.assert_array_equal(m.get("sum(extra)"), [[1.0], [1.0]])
