"""sweep() against each grid point run alone in a plain network here; Dask clusters started by the tests.

The reference of a grid point is ``build`` called in this process on a plain,
unbatched ``Network(dt, seed=derive_seed(seed, i))`` (``i``: the point's place
in the grid, C order), simulated for the sweep's duration with a monitor on
what ``build`` returned.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import sys
import threading

import numpy as np
import pytest

from ratenet import Network, Neuron, RatenetError, ValidationError, parallel_run, sweep
from ratenet import parallel as par
from ratenet.parallel import derive_seed

xr = pytest.importorskip("xarray", reason="sweep needs the distributed extra: pip install '.[distributed]'")

NOISY = Neuron(parameters="tau = 10.0 : population\nI = 1.0 : population",
               equations="tau * dr/dt + r = I + Uniform(-0.2, 0.2)")
RELAY = Neuron(equations="r = sum(exc)")

HAS_BATCH = "batch" in inspect.signature(Network.__init__).parameters
needs_batch = pytest.mark.skipif(not HAS_BATCH, reason="Network(batch=B) is not on this branch yet (issue 15 item 1)")
GRID = {"tau": [5.0, 10.0, 20.0], "I": [0.5, 1.0, 2.0, 4.0]}


def build(net, tau, I):
    pop = net.create(3, NOISY)
    pop.tau, pop.I = tau, I
    out = net.create((2, 2), RELAY)
    net.connect(pop, out, "exc").connect_all_to_all(0.5)
    return {"rate": pop, "out": (out, "r"), "total": (out, "sum(exc)")}


def build_deterministic(net, tau, I):
    quiet = Neuron(parameters="tau = 10.0 : population\nI = 1.0 : population", equations="tau * dr/dt + r = I")
    pop = net.create(3, quiet)
    pop.tau, pop.I = tau, I
    out = net.create(2, RELAY)
    net.connect(pop, out, "exc").connect_all_to_all(0.5)
    return {"rate": pop, "out": out}


def reference(build, grid, duration, seed, dt=1.0):
    """{name: array (*grid shape, steps, *neurons)} from plain runs here."""
    names = list(grid)
    shape = tuple(len(v) for v in grid.values())
    out: dict[str, list] = {}
    for i, point in enumerate(itertools.product(*grid.values())):
        net = Network(dt=dt, seed=derive_seed(seed, i))
        targets = build(net, **dict(zip(names, point)))
        monitors = {}
        for key, value in targets.items():
            obj, var = value if isinstance(value, tuple) else (value, "r")
            monitors[key] = (net.monitor(obj, var), var)
        net.simulate(duration)
        for key, (monitor, var) in monitors.items():
            out.setdefault(key, []).append(monitor.get(var, reshape=True))
    return {key: np.array(arrays).reshape(shape + arrays[0].shape) for key, arrays in out.items()}


def check_against_reference(res, expected, grid, exact=True):
    assert list(res.data_vars) == list(expected)
    for key, values in expected.items():
        assert res[key].dims[:len(grid) + 1] == (*grid, "time")
        if exact:
            np.testing.assert_array_equal(res[key].values, values)
        else:
            np.testing.assert_allclose(res[key].values, values, rtol=1e-12, atol=1e-14)
    for name, values in grid.items():
        np.testing.assert_array_equal(res[name].values, values)


def test_sweep_equals_plain_runs_and_labels_every_axis():
    res = sweep(build, GRID, duration=15.0, seed=3, max_processes=2)
    expected = reference(build, GRID, 15.0, 3)
    check_against_reference(res, expected, GRID)
    assert res["rate"].dims == ("tau", "I", "time", "rate_neuron")
    assert res["out"].dims == ("tau", "I", "time", "out_neuron_0", "out_neuron_1")
    np.testing.assert_array_equal(res["time"].values, np.arange(15.0))
    assert res.attrs["seed"] == 3
    # a grid point by its values, as the issue shows
    np.testing.assert_array_equal(res["rate"].sel(tau=10.0, I=4.0).values, expected["rate"][1, 3])
    # the same whatever the number of workers (and so the order of completion) or running one by one
    again = sweep(build, GRID, duration=15.0, seed=3, max_processes=1)
    assert again.identical(res)


def test_a_recording_period():
    grid = {"tau": [5.0, 10.0], "I": [1.0]}
    res = sweep(build, grid, duration=10.0, seed=6, period=3.0)
    full = reference(build, grid, 10.0, 6)
    np.testing.assert_array_equal(res["time"].values, [0.0, 3.0, 6.0, 9.0])
    np.testing.assert_array_equal(res["rate"].values, full["rate"][:, :, ::3])


def test_shared_neuron_dimensions_when_shapes_agree_and_dt():
    grid = {"tau": [5.0, 10.0]}
    res = sweep(build_deterministic, {**grid, "I": [1.0]}, duration=2.0, dt=0.5, seed=0)
    assert res["rate"].dims == ("tau", "I", "time", "rate_neuron")  # 3 neurons and 2: distinct
    res = sweep(lambda net, tau: {"a": net.create(2, RELAY), "b": net.create(2, RELAY)}, grid, duration=1.0)
    assert res["a"].dims == res["b"].dims == ("tau", "time", "neuron")
    np.testing.assert_array_equal(res["time"].values, [0.0])


def test_seed_none_draws_one_and_keeps_it():
    grid = {"tau": [5.0], "I": [1.0, 2.0]}
    res = sweep(build, grid, duration=5.0)
    check_against_reference(res, reference(build, grid, 5.0, res.attrs["seed"]), grid)


def test_packing_of_grid_points_into_tasks():
    assert par.chunks(12, 5) == [range(0, 5), range(5, 10), range(10, 12)]
    assert par.chunks(3, 1) == [range(0, 1), range(1, 2), range(2, 3)]
    assert par.chunks(4, 8) == [range(0, 4)]


@needs_batch
@pytest.mark.parametrize("batch", [2, 5, 12])
def test_batched_tasks_give_the_plain_runs(batch):
    res = sweep(build_deterministic, GRID, duration=10.0, seed=1, batch=batch)
    check_against_reference(res, reference(build_deterministic, GRID, 10.0, 1), GRID, exact=False)


@needs_batch
def test_batched_noise_follows_each_points_seed():
    one = sweep(build, GRID, duration=10.0, seed=1, batch=1)
    for batch in (3, 5):
        other = sweep(build, GRID, duration=10.0, seed=1, batch=batch)
        for key in one.data_vars:
            np.testing.assert_allclose(other[key].values, one[key].values, rtol=1e-12, atol=1e-14)


def test_progress_bar_counts_grid_points(capsys):
    sweep(build, {"tau": [5.0, 10.0], "I": [1.0, 2.0, 3.0]}, duration=2.0, seed=1, progress_bar=True)
    assert "6/6" in capsys.readouterr().err


def test_bad_grids():
    cases = [
        ([], r"sweep.grid: must be a non-empty dict: parameter name -> list of values \(got \[\]\)"),
        ({}, r"sweep.grid: must be a non-empty dict"),
        ({"1tau": [1.0]}, r"sweep.grid: names must be Python identifiers .* \(got '1tau'\)"),
        ({"time": [1.0]}, r"sweep.grid: 'time' is a dimension of the result; rename the parameter"),
        ({"tau": "abc"}, r"sweep.grid\['tau'\]: must be a list of values \(got 'abc'\)"),
        ({"tau": 5.0}, r"sweep.grid\['tau'\]: must be a list of values \(got 5.0\)"),
        ({"tau": []}, r"sweep.grid\['tau'\]: must be a non-empty flat list of numbers"),
        ({"tau": [[1.0, 2.0]]}, r"sweep.grid\['tau'\]: must be a non-empty flat list of numbers"),
        ({"tau": ["a", "b"]}, r"sweep.grid\['tau'\]: must hold real numbers"),
        ({"tau": [1.0, np.nan]}, r"sweep.grid\['tau'\]: must hold finite numbers"),
        ({"tau": [1.0, 2.0, 1.0]}, r"sweep.grid\['tau'\]: holds a value twice"),
    ]
    for grid, message in cases:
        with pytest.raises(ValidationError, match=message):
            sweep(build, grid, duration=1.0)
    with pytest.raises(ValidationError, match=r"sweep.batch: must be a positive number of grid points per task "
                                              r"\(got 0\)"):
        sweep(build, GRID, duration=1.0, batch=0)
    with pytest.raises(ValidationError, match=r"sweep.seed: must be a non-negative integer or None \(got -2\)"):
        sweep(build, GRID, duration=1.0, seed=-2)
    with pytest.raises(ValidationError, match=r"Network.dt: must be a positive number of ms \(got 0\)"):
        sweep(build, GRID, duration=1.0, dt=0)
    with pytest.raises(ValidationError, match=r"sweep.period: must be a number of ms, at least dt \(got 0.5\)"):
        sweep(build, GRID, duration=1.0, period=0.5)
    with pytest.raises(ValidationError, match=r"sweep.build: must be a function build\(net, \*\*params\)"):
        sweep("build", GRID, duration=1.0)


def returns(value):
    def build(net, tau):
        pop = net.create(2, RELAY)
        other = Network().create(2, RELAY)
        return value(pop, other)
    return build


def test_build_returning_the_wrong_things():
    cases = [
        (lambda pop, other: pop, r"sweep.build: build\(\) must return a non-empty dict of what to record: name -> "
                                 r"population \(its r\) or \(object, variable\) \(got Population\)"),
        (lambda pop, other: {}, r"sweep.build: build\(\) must return a non-empty dict"),
        (lambda pop, other: {"r": 3}, r"sweep.build: build\(\) returned for 'r' neither a population nor an "
                                      r"\(object, variable\) pair \(got 3\)"),
        (lambda pop, other: {"not a name": pop}, r"sweep.build: build\(\) returned a name that is not an identifier"),
        (lambda pop, other: {"r": other}, r"sweep.build: returned for 'r' an object of another network"),
        (lambda pop, other: {"r": (pop, "nope")}, r"sweep.build: returned for 'r' something that cannot be "
                                                  r"recorded: .*nope"),
    ]
    for value, message in cases:
        with pytest.raises(RatenetError, match=r"sweep: run 0 failed: ValidationError: " + message):
            sweep(returns(value), {"tau": [1.0]}, duration=1.0)


def test_without_xarray_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(RatenetError, match=r"sweep\(\) returns an xarray.Dataset and needs xarray: pip install "
                                           r"'ratenet\[distributed\]'"):
        sweep(build, GRID, duration=1.0)


def test_spawned_workers_need_a_picklable_build(monkeypatch):
    monkeypatch.setattr(par, "START_METHOD", "spawn")
    with pytest.raises(RatenetError, match=r"sweep: the method and its arguments cannot be sent to worker processes "
                                           r"started with 'spawn'"):
        sweep(lambda net, tau: {"r": net.create(1, RELAY)}, {"tau": [1.0, 2.0]}, duration=1.0, max_processes=1)
    grid = {"tau": [5.0, 10.0], "I": [1.0]}
    res = sweep(build, grid, duration=3.0, seed=2, max_processes=1)
    check_against_reference(res, reference(build, grid, 3.0, 2), grid)


def test_a_local_worker_killed_mid_sweep_costs_a_retry(tmp_path):
    marker = str(tmp_path / "killed")
    job = functools.partial(kills_its_worker_once, marker=marker, parent=os.getpid())
    res = sweep(job, GRID, duration=8.0, seed=5, max_processes=2)
    assert os.path.exists(marker)
    check_against_reference(res, reference(build, GRID, 8.0, 5), GRID)


def kills_its_worker_always(net, tau, I, parent):
    if tau == 10.0 and os.getpid() != parent:
        os._exit(1)
    return build(net, tau, I)


def test_a_worker_that_always_dies_gives_up_after_the_retries():
    job = functools.partial(kills_its_worker_always, parent=os.getpid())
    with pytest.raises(RatenetError, match=r"sweep: worker processes died 3 times \(killed, or out of memory\); "
                                           r"\d+ runs are not done \(the first: run 4\)"):
        sweep(job, GRID, duration=2.0, seed=5, max_processes=1)


# ------------------------------------------------------------------ on a Dask cluster
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="the Dask tests need the distributed extra")
    import logging

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_sweep_on_a_cluster_equals_plain_runs(client):
    res = sweep(build, GRID, duration=8.0, seed=4, client=client, progress_bar=True)
    check_against_reference(res, reference(build, GRID, 8.0, 4), GRID)
    # lambdas travel to a cluster (cloudpickle)
    lam = sweep(lambda net, tau, I: build(net, tau, I), GRID, duration=8.0, seed=4, client=client)
    assert lam.identical(res)
    lock = threading.Lock()
    with pytest.raises(RatenetError, match=r"sweep: the method and its arguments cannot be sent to the Dask cluster "
                                           r"\(TypeError: .*lock.*\); they must be picklable"):
        sweep(lambda net, tau, I: lock and build(net, tau, I), GRID, duration=8.0, client=client)


def kills_its_worker_once(net, tau, I, marker, parent):
    if tau == 10.0 and I == 2.0 and os.getpid() != parent and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)  # the worker process dies in the middle of the sweep
    return build(net, tau, I)


def test_a_worker_killed_mid_sweep_costs_a_retry_not_a_result(client, tmp_path):
    marker = str(tmp_path / "killed")
    job = functools.partial(kills_its_worker_once, marker=marker, parent=os.getpid())
    res = sweep(job, GRID, duration=8.0, seed=5, client=client)
    assert os.path.exists(marker)  # a worker did die
    check_against_reference(res, reference(build, GRID, 8.0, 5), GRID)


class Leaky(Network):
    def __init__(self, n: int = 3) -> None:
        self.pop = self.create(n, NOISY)


def run_leaky(net, steps):
    net.simulate(float(steps))
    return net.pop.r.copy()


def test_parallel_run_on_a_cluster(client):
    net = Leaky(n=2, seed=8)
    results = net.parallel_run(run_leaky, number=3, steps=[5, 10, 15], client=client)
    for i, rates in enumerate(results):
        ref = Network(seed=derive_seed(8, i))
        pop = ref.create(2, NOISY)
        ref.simulate(float(5 * (i + 1)))
        np.testing.assert_array_equal(rates, pop.r)
    with pytest.raises(RatenetError, match=r"Network.parallel_run: run 1 failed: ValueError"):
        net.parallel_run(lambda net, k: int("x") if k == 1 else k, number=2, k=[0, 1], client=client)
    # 4.x form: given networks are rebuilt on the cluster from their class and constructor arguments
    nets = [Leaky(n=2, seed=8), Leaky(n=3, seed=9)]
    results = parallel_run(lambda idx, net, steps: (idx, run_leaky(net, steps)), networks=nets, steps=[5, 7],
                           client=client)
    for i, (idx, rates) in enumerate(results):
        ref = Network(seed=8 + i)
        pop = ref.create(2 + i, NOISY)
        ref.simulate(float(5 + 2 * i))
        assert idx == i
        np.testing.assert_array_equal(rates, pop.r)
    with pytest.raises(RatenetError, match=r"parallel_run: copies of the default network can only reach forked "
                                           r"worker processes \(Linux\), not a Dask cluster"):
        parallel_run(lambda idx, net: 0, number=2, client=client)
    with pytest.raises(ValidationError, match=r"parallel_run.networks\[0\]: cannot be rebuilt in another process"):
        parallel_run(lambda idx, net: 0, networks=[Network()], client=client)
    with pytest.raises(ValidationError, match=r"Network.parallel_run.client: must be a dask.distributed.Client"):
        net.parallel_run(run_leaky, number=1, steps=1, client="tcp://nowhere")
