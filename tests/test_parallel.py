"""parallel_run (ANNarchy 4.x), Network.parallel_run (5.x) and their seeds, compared with plain runs here.

Every reference is the same network built and run in the test process, one run
at a time, with the seed the run is documented to get.
"""

from __future__ import annotations


import numpy as np
import pytest

import ratenet
from ratenet import Network, Neuron, Population, RatenetError, ValidationError, clear, parallel_run, setup
from ratenet import parallel as par
from ratenet.parallel import derive_seed

# a leaky unit with fresh noise at every step: runs with different seeds differ, no random initial value
NOISY = Neuron(parameters="tau = 10.0 : population\nI = 1.0 : population",
               equations="tau * dr/dt + r = I + Uniform(-0.5, 0.5)")

fork_only = pytest.mark.skipif(par.start_method() != "fork", reason="needs forked worker processes (Linux)")


def reference(seed: int, tau: float = 10.0, I: float = 1.0, steps: int = 20, n: int = 4) -> np.ndarray:
    """One run in this process, in a network of its own."""
    net = Network(seed=seed)
    pop = net.create(n, NOISY)
    pop.tau, pop.I = tau, I
    net.simulate(float(steps))
    return pop.r.copy()


@pytest.fixture
def default_pop():
    clear()
    setup(seed=7)
    pop = Population(4, NOISY, name="noisy")
    yield pop
    clear()


def run_pop(idx, net, tau):
    pop = net.get_population("noisy")
    pop.tau = tau
    net.simulate(20.0)
    return idx, pop.r.copy()


# ------------------------------------------------------------------ 4.x parallel_run
@fork_only
def test_number_of_copies_match_plain_runs_with_derived_seeds(default_pop):
    taus = [5.0, 10.0, 20.0, 40.0, 80.0]
    results = parallel_run(run_pop, number=5, max_processes=2, tau=taus)
    assert [idx for idx, _ in results] == list(range(5))
    for i, (_, rates) in enumerate(results):
        np.testing.assert_array_equal(rates, reference(derive_seed(7, i), tau=taus[i]))
    # the parent's network is untouched
    assert ratenet.get_time() == 0.0 and (default_pop.r == 0).all()
    # reproducible from the master seed; same_seed gives every copy the network's seed
    again = parallel_run(run_pop, number=5, tau=taus)
    for (_, a), (_, b) in zip(results, again):
        np.testing.assert_array_equal(a, b)
    same = parallel_run(run_pop, number=3, same_seed=True, tau=[10.0] * 3)
    for _, rates in same:
        np.testing.assert_array_equal(rates, reference(7))


@fork_only
def test_a_method_defined_here_as_a_lambda_and_sequential_runs(default_pop):
    def method(idx, net):
        net.simulate(20.0)
        return net.get_population("noisy").r.copy()
    seq = parallel_run(method, number=3, sequential=True)
    par_ = parallel_run(lambda idx, net: method(idx, net), number=3)
    for i in range(3):
        np.testing.assert_array_equal(seq[i], reference(derive_seed(7, i)))
        np.testing.assert_array_equal(par_[i], seq[i])


@fork_only
def test_a_4x_method_finds_its_copy_with_net_get(default_pop):
    def method(idx, net, tau):
        net.get(default_pop).tau = tau
        net.simulate(20.0)
        return net.get(default_pop).r.copy()
    results = parallel_run(method, number=2, tau=[5.0, 30.0])
    for i, rates in enumerate(results):
        np.testing.assert_array_equal(rates, reference(derive_seed(7, i), tau=(5.0, 30.0)[i]))


@fork_only
def test_annarchy_argument_rules(default_pop):
    with pytest.raises(ValidationError, match=r"parallel_run.tau: must be a list of one value per run \(3\), as in "
                                              r"ANNarchy 4.x .*\(got 10.0\)"):
        parallel_run(run_pop, number=3, tau=10.0)
    with pytest.raises(ValidationError, match=r"parallel_run.tau: must hold one value per run \(3\) \(got 2 values\)"):
        parallel_run(run_pop, number=3, tau=[1.0, 2.0])
    with pytest.raises(ValidationError, match=r"parallel_run.args: must name the parameters of run_pop after its "
                                              r"first 2 \(tau\); unknown: taus; missing: tau"):
        parallel_run(run_pop, number=3, taus=[1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match=r"parallel_run.method: must take idx and net as its first arguments"):
        parallel_run(lambda net: 0, number=2)
    # 5.x rules: a scalar is shared by the runs
    shared = parallel_run(run_pop, number=2, tau=20.0, annarchy=False)
    for i, (_, rates) in enumerate(shared):
        np.testing.assert_array_equal(rates, reference(derive_seed(7, i), tau=20.0))


@fork_only
def test_given_networks_are_copied_into_the_workers_and_changed_only_when_sequential():
    nets = []
    for tau in (5.0, 50.0):
        net = Network(seed=3)
        net.create(4, NOISY, name="noisy").tau = tau
        nets.append(net)

    def method(idx, net, steps):
        net.simulate(float(steps))
        return idx, net.populations[0].r.copy()

    results = parallel_run(method, networks=nets, steps=[20, 20])
    for i, (idx, rates) in enumerate(results):
        assert idx == i
        np.testing.assert_array_equal(rates, reference(3, tau=(5.0, 50.0)[i]))
    assert all(net.get_time() == 0.0 for net in nets)
    results = parallel_run(method, networks=nets, steps=[20, 20], sequential=True)
    assert [idx for idx, _ in results] == [0, 1]  # ANNarchy 4.8 passes 0 each time
    assert all(net.get_time() == 20.0 for net in nets)


@fork_only
def test_measure_time_and_progress_bar(default_pop, capsys):
    parallel_run(lambda idx, net: idx, number=3, measure_time=True, progress_bar=True)
    out, err = capsys.readouterr()
    assert "Running 3 networks in parallel took" in out
    assert "3/3" in err


def test_parallel_run_errors(default_pop):
    with pytest.raises(ValidationError, match=r"parallel_run.number: must be a positive number of runs when "
                                              r"networks is not given \(got 0\)"):
        parallel_run(run_pop)
    with pytest.raises(ValidationError, match=r"parallel_run.method: must be a function \(idx, net, ...\) \(got 3\)"):
        parallel_run(3, number=2)
    with pytest.raises(ValidationError, match=r"parallel_run.networks: must be a non-empty list of networks"):
        parallel_run(run_pop, networks="net", tau=[1.0])
    with pytest.raises(ValidationError, match=r"parallel_run.networks\[1\]: must be a ratenet Network \(got "
                                              r"Population\)"):
        parallel_run(run_pop, networks=[ratenet.default_network(), default_pop], tau=[1.0, 2.0])
    with pytest.raises(ValidationError, match=r"parallel_run.max_processes: must be a positive integer, or -1"):
        parallel_run(run_pop, number=2, max_processes=0, tau=[1.0, 2.0])


def fails_on_run_one(idx, net):
    if idx == 1:
        raise ZeroDivisionError("no luck")
    return idx


@fork_only
def test_a_failing_run_and_a_result_that_cannot_come_back(default_pop):
    with pytest.raises(RatenetError, match=r"parallel_run: run 1 failed: ZeroDivisionError: no luck"):
        parallel_run(fails_on_run_one, number=3)
    with pytest.raises(RatenetError, match=r"parallel_run: the result of run 0 cannot be sent back .*return "
                                           r"arrays and plain values"):
        parallel_run(lambda idx, net: (lambda: idx), number=1)
    with pytest.raises(RatenetError, match=r"parallel_run: run 1 failed: ZeroDivisionError"):
        parallel_run(fails_on_run_one, number=2, sequential=True)


def test_without_fork_the_default_network_cannot_be_copied_and_methods_must_pickle(default_pop, monkeypatch):
    monkeypatch.setattr(par, "START_METHOD", "spawn")
    with pytest.raises(RatenetError, match=r"parallel_run: copies of the default network can only reach forked "
                                           r"worker processes \(Linux\), not processes started with 'spawn'"):
        parallel_run(run_pop, number=2, tau=[1.0, 2.0])
    net = Leaky(n=2, seed=1)
    with pytest.raises(RatenetError, match=r"Network.parallel_run: the method and its arguments cannot be sent to "
                                           r"worker processes started with 'spawn' \(not forked\) \(.*\); they must "
                                           r"be picklable"):
        net.parallel_run(lambda net: 0, number=2)


# ------------------------------------------------------------------ 5.x net.parallel_run
class Leaky(Network):
    """A network built by its constructor, as ANNarchy 5 recommends (no super().__init__(): Network does it)."""

    def __init__(self, n: int = 4, tau: float = 10.0) -> None:
        self.pop = self.create(n, NOISY)
        self.pop.tau = tau


class Leaky4(Network):
    """The same, calling super().__init__() itself and taking dt and seed, as a 4.x-minded user writes it."""

    def __init__(self, n: int = 4, dt: float = 1.0, seed: int | None = None) -> None:
        super().__init__(dt=dt, seed=seed)
        self.pop = self.create(n, NOISY)


def simulate_leaky(net, steps=20, I=1.0):
    net.pop.I = I
    net.simulate(float(steps))
    return net.pop.r.copy()


def test_network_parallel_run_rebuilds_the_subclass_per_run():
    net = Leaky(n=3, tau=5.0, seed=11)
    results = net.parallel_run(simulate_leaky, number=3, tau=[5.0, 20.0, 40.0], I=[1.0, 2.0, 3.0], steps=20)
    for i, rates in enumerate(results):
        np.testing.assert_array_equal(rates, reference(derive_seed(11, i), tau=(5.0, 20.0, 40.0)[i],
                                                       I=(1.0, 2.0, 3.0)[i], n=3))
    # n and tau come from the original's constructor; 'same' and 'sequential' and lists of seeds
    same = net.parallel_run(simulate_leaky, number=2, seeds="same")
    for rates in same:
        np.testing.assert_array_equal(rates, reference(11, tau=5.0, n=3))
    seq = net.parallel_run(simulate_leaky, number=2, seeds="sequential")
    for i, rates in enumerate(seq):
        np.testing.assert_array_equal(rates, reference(12 + i, tau=5.0, n=3))
    listed = net.parallel_run(simulate_leaky, number=2, seeds=[4, 9], max_processes=1)
    for seed, rates in zip([4, 9], listed):
        np.testing.assert_array_equal(rates, reference(seed, tau=5.0, n=3))


def test_network_parallel_run_with_a_subclass_that_calls_super():
    net = Leaky4(n=3, dt=1.0, seed=2)
    results = net.parallel_run(simulate_leaky, number=2, I=[2.0, 3.0])
    for i, rates in enumerate(results):
        np.testing.assert_array_equal(rates, reference(derive_seed(2, i), I=(2.0, 3.0)[i], n=3))


def test_network_parallel_run_on_spawned_processes(monkeypatch):
    monkeypatch.setattr(par, "START_METHOD", "spawn")
    net = Leaky(n=2, seed=5)
    results = net.parallel_run(simulate_leaky, number=2)
    for i, rates in enumerate(results):
        np.testing.assert_array_equal(rates, reference(derive_seed(5, i), n=2))


def test_network_parallel_run_errors():
    plain = Network(seed=1)
    with pytest.raises(ValidationError, match=r"Network.parallel_run.network: must be an instance of a class "
                                              r"deriving from Network .* \(got Network\)"):
        plain.parallel_run(simulate_leaky, number=2)
    net = Leaky(seed=1)
    with pytest.raises(ValidationError, match=r"Network.parallel_run.tau: must hold one value per run \(2\) "
                                              r"\(got 3 values\)"):
        net.parallel_run(simulate_leaky, number=2, tau=[1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match=r"Network.parallel_run.seeds: must be None, 'same', 'sequential' or "
                                              r"a list of seeds \(got 'random'\)"):
        net.parallel_run(simulate_leaky, number=2, seeds="random")
    with pytest.raises(ValidationError, match=r"Network.parallel_run.seeds: must hold one value per run \(2\)"):
        net.parallel_run(simulate_leaky, number=2, seeds=[1])
    with pytest.raises(ValidationError, match=r"Network.parallel_run.seeds: must hold non-negative integers "
                                              r"\(got -1\)"):
        net.parallel_run(simulate_leaky, number=2, seeds=[1, -1])
    with pytest.raises(ValidationError, match=r"Network.parallel_run.seeds: 'sequential' counts from the network's "
                                              r"seed, and it has none: create it with seed= \(got 'sequential'\)"):
        clear()  # no seed for the default network, which a network created without one may take
        Leaky().parallel_run(simulate_leaky, number=2, seeds="sequential")
    with pytest.raises(ValidationError, match=r"Network.parallel_run.number: must be a positive number of runs "
                                              r"\(got 0\)"):
        net.parallel_run(simulate_leaky, number=0)


def test_seeds_are_distinct_and_reproducible():
    seeds = [derive_seed(2024, i) for i in range(1000)]
    assert len(set(seeds)) == 1000 and seeds == [derive_seed(2024, i) for i in range(1000)]
    # run i's seed is child i of the master's SeedSequence
    children = np.random.SeedSequence(2024).spawn(10)
    assert seeds[:10] == [int(child.generate_state(1)[0]) for child in children]
