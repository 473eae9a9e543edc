"""Structural plasticity (creating and pruning rules) against a plain NumPy loop over a dense masked matrix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from ratenet import Creating, Network, Neuron, Pruning, Synapse, ValidationError

N = 8
SEED = 7
W0 = 0.05


def _neuron() -> Neuron:
    return Neuron(parameters="baseline = 0.0", equations="r = baseline + 0.1 * sum(exc)")


def _synapse() -> Synapse:
    return Synapse(parameters="T = 3 : int, projection",
                   equations="age = if pre.r * post.r > 0.5 : 0 else : age + 1 : init=0, int",
                   pruning="age > T : proba=0.5",
                   creating="pre.r * post.r > 0.5 : proba=0.3, w=0.05")


def _initial_mask() -> np.ndarray:
    mask = np.random.default_rng(123).random((N, N)) < 0.3
    np.fill_diagonal(mask, False)
    mask[N - 1] = False  # a post neuron without dendrite: ANNarchy never creates synapses there
    return mask


def _phases() -> list[tuple[np.ndarray, int]]:
    first = np.where(np.arange(N) < N // 2, 1.0, 0.0)
    return [(first, 23), (np.full(N, 0.9), 12), (np.zeros(N), 17), (1.0 - first, 31)]


def _numpy_reference(period: int, creating_from: int, pruning_from: int) -> tuple[np.ndarray, np.ndarray]:
    """One step: transmission, neuron update, learning, creating, pruning (ANNarchy's order)."""
    rng = np.random.default_rng(SEED)
    mask = _initial_mask()
    dendrites = mask.any(axis=1)
    w = np.where(mask, W0, 0.0)
    age = np.zeros((N, N), dtype=np.int64)
    r = np.zeros(N)
    step = 0
    for baseline, steps in _phases():
        for _ in range(steps):
            exc = (w * mask) @ r
            r = baseline + 0.1 * exc
            both = np.outer(r, r) > 0.5  # [post, pre]
            age = np.where(mask, np.where(both, 0, age + 1), 0)
            if step >= creating_from and (step - creating_from) % period == 0:
                for i in range(N):
                    if not dendrites[i]:
                        continue
                    for j in range(N):
                        if both[i, j] and not mask[i, j] and rng.random() < 0.3:
                            mask[i, j], w[i, j], age[i, j] = True, 0.05, 0
            if step >= pruning_from and (step - pruning_from) % period == 0:
                for i in range(N):
                    for j in range(N):
                        if mask[i, j] and age[i, j] > 3 and rng.random() < 0.5:
                            mask[i, j], w[i, j], age[i, j] = False, 0.0, 0
            step += 1
    return mask, np.where(mask, w, 0.0)


def _matrix(proj) -> tuple[np.ndarray, np.ndarray]:
    mask = ~np.isnan(proj.connectivity_matrix(fill=np.nan))
    return mask, proj.connectivity_matrix()


def _run(storage: str, period: int, creating_from: int, pruning_from: int,
         reference: bool = False) -> tuple[np.ndarray, np.ndarray]:
    net = Network(seed=SEED, reference=reference)
    net.setup(structural_plasticity=True)
    pop = net.create(N, _neuron())
    weights = np.where(_initial_mask(), W0, None)
    proj = net.connect(pop, pop, "exc", _synapse()).connect_from_matrix(weights, storage_format=storage)
    starts = {creating_from: proj.start_creating, pruning_from: proj.start_pruning}
    if creating_from == pruning_from:
        starts = {creating_from: lambda period: (proj.start_creating(period), proj.start_pruning(period))}
    step = 0
    for baseline, steps in _phases():
        pop.baseline = baseline
        end = step + steps
        while step < end:
            due = [s for s in starts if step <= s < end]
            if due and min(due) == step:
                starts.pop(step)(period=float(period))
                due = [s for s in starts if step < s < end]
            chunk = (min(due) if due else end) - step
            net.simulate(float(chunk))
            step += chunk
    assert net.get_current_step() == step
    return _matrix(proj)


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("period, creating_from, pruning_from", [(1, 0, 0), (5, 3, 10), (7, 20, 2)])
def test_rules_follow_a_numpy_loop_over_a_masked_matrix(storage, period, creating_from, pruning_from):
    expected_mask, expected_w = _numpy_reference(period, creating_from, pruning_from)
    mask, w = _run(storage, period, creating_from, pruning_from)
    assert mask.sum() != _initial_mask().sum() or not np.array_equal(mask, _initial_mask())
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_allclose(w, expected_w)


def test_reference_plan_rewires_the_same_way():
    expected_mask, expected_w = _numpy_reference(5, 3, 10)
    mask, w = _run("csr", 5, 3, 10, reference=True)
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_allclose(w, expected_w)


def test_rules_both_changed_something():
    """The scenario exercises both rules (else the comparison above proves little)."""
    initial = _initial_mask()
    mask, _ = _numpy_reference(1, 0, 0)
    assert (mask & ~initial).any() and (initial & ~mask).any()


def test_stop_pruning_and_stop_creating():
    net = Network(seed=1)
    net.setup(structural_plasticity=True)
    pop = net.create(3, Neuron(parameters="r = 1.0"))
    syn = Synapse(pruning="w < 0.5 : proba=1.0", creating="pre.r > 0.5 : proba=1.0, w=0.1")
    proj = net.connect(pop, pop, "exc", syn).connect_one_to_one(1.0)
    proj.start_creating(period=2.0)
    net.simulate(1.0)  # created: every pair, weight 0.1
    assert proj.nb_synapses == 9
    proj.stop_creating()
    proj.start_pruning()
    net.simulate(1.0)  # pruned: the new ones (w < 0.5)
    assert proj.nb_synapses == 3
    proj.stop_pruning()
    proj.w = 0.2
    net.simulate(3.0)
    assert proj.nb_synapses == 3
    assert "Rewire" not in " ".join(net.step_order)


def test_created_synapses_take_initial_values_and_transmit():
    net = Network(seed=1)
    net.setup(structural_plasticity=True)
    src = net.create(2, Neuron(parameters="r = 1.0"))
    dst = net.create(2, Neuron(equations="r = sum(exc)"))
    syn = Synapse(parameters="eta = 0.5", equations="trace = trace + 1.0 : init=10.0",
                  creating="pre.r > 0.5 : w=0.25")
    proj = net.connect(src, dst, "exc", syn).connect_one_to_one(1.0, storage_format="csr")
    proj.start_creating(period=100.0)
    net.simulate(1.0)
    # the creating step is the first: the created synapses (0->1, 1->0) start at trace's init
    assert proj.pre_ranks == [[0, 1], [0, 1]]
    np.testing.assert_allclose(proj.trace, [[11.0, 10.0], [10.0, 11.0]])
    np.testing.assert_allclose(proj.w, [[1.0, 0.25], [0.25, 1.0]])
    net.simulate(1.0)
    np.testing.assert_allclose(dst.r, [1.25, 1.25])


def test_start_rule_errors():
    net = Network()
    pop = net.create(3, Neuron(parameters="r = 1.0"))
    proj = net.connect(pop, pop, "exc", Synapse(pruning="w < 0.5")).connect_all_to_all(0.1)
    with pytest.raises(ValidationError, match=r"start_pruning: structural plasticity is off in this network: "
                                              r"call setup\(structural_plasticity=True\)"):
        proj.start_pruning()
    net.setup(structural_plasticity=True)
    with pytest.raises(ValidationError, match=r"start_creating: the synapse '.*' defines no 'creating' rule"):
        proj.start_creating()
    with pytest.raises(ValidationError, match=r"period: must be a positive number of ms \(got -1.0\)"):
        proj.start_pruning(period=-1.0)
    plain = net.connect(pop, pop, "inh").connect_all_to_all(0.1)
    with pytest.raises(ValidationError, match="defines no 'pruning' rule"):
        plain.stop_pruning()


def test_creating_delay_must_match_a_uniform_delay():
    net = Network()
    net.setup(structural_plasticity=True)
    pop = net.create(3, Neuron(parameters="r = 1.0"))
    syn = Synapse(creating="pre.r > 0.5 : proba=1.0, d=3.0")
    proj = net.connect(pop, pop, "exc", syn).connect_one_to_one(1.0, delays=2.0)
    with pytest.raises(ValidationError, match=r"creating: creates synapses with delay d=3.0 ms, but the projection's "
                                              r"delays are all 2.0 ms"):
        proj.start_creating()


def test_annarchy5_objects_switch_structural_plasticity_on():
    net = Network()
    pop = net.create(2, Neuron(parameters="r = 1.0"))
    syn = Synapse(pruning=Pruning("w < 0.5", proba=1.0))
    proj = net.connect(pop, pop, "exc", syn).connect_all_to_all(0.1)
    proj.start_pruning()
    net.simulate(1.0)
    assert proj.nb_synapses == 0
    assert Synapse(creating=Creating("pre.r > 0.5")).structural_auto


def test_reset_restores_the_synapses_of_compile_time():
    net = Network(seed=3)
    net.setup(structural_plasticity=True)
    pop = net.create(4, Neuron(parameters="r = 1.0"))
    proj = net.connect(pop, pop, "exc", Synapse(pruning="w < 0.5 : proba=0.5")).connect_all_to_all(0.1)
    net.compile()
    proj.start_pruning()
    net.simulate(3.0)
    assert proj.nb_synapses < 12
    net.reset(projections=True, synapses=True)
    assert proj.nb_synapses == 12


@pytest.mark.parametrize("storage", ["dense", "csr"])
def test_monitors_record_after_the_rules(storage):
    """ANNarchy's order: structural plasticity, then monitors; the sample of a rewiring step shows the new synapses."""
    net = Network()
    net.setup(structural_plasticity=True)
    pop = net.create(3, Neuron(parameters="r = 1.0"))
    proj = net.connect(pop, pop, "exc", Synapse(pruning="w < 0.5 : proba=1.0")).connect_all_to_all(
        0.1, storage_format=storage)
    proj.w = [[0.0, 0.9, 0.1], [0.9, 0.0, 0.1], [0.9, 0.9, 0.0]]
    monitor = net.monitor(proj, "w")
    proj.start_pruning(period=2.0)
    net.simulate(3.0)
    samples = monitor.get("w")
    kept = [0.9, 0.9, 0.9, 0.9]
    for sample in samples:
        values = np.asarray(sample).reshape(-1)
        np.testing.assert_allclose(values[values != 0.0], kept)
    assert len(samples) == 3


@pytest.mark.parametrize("reference", [False, True])
def test_a_creating_rule_reads_the_rates_of_a_population_the_plan_restacked(reference):
    """Regression (found by the differential tests): the compiled condition was cached with the arrays
    of its first plan; a plan that gave the pre population new arrays (its stack re-formed after a
    population-level parameter of another member changed) left it reading rates that never changed."""
    model = Neuron(parameters="tau = 2.0 : population\nb = 0.0", equations="tau * dr/dt + r = b")
    net = Network(reference=reference)
    net.setup(structural_plasticity=True)
    # one model: stacked in the optimised plan; when other leaves the stack, pre and third form a new one
    other, pre, _third = net.create(3, model), net.create(4, model), net.create(2, model)
    post = net.create(1, Neuron(parameters="r = 0.5"))
    proj = net.connect(pre, post, "exc", Synapse(creating="post.r > pre.r : w=0.25"))
    proj.connect_from_sparse(scipy.sparse.csr_matrix(([0.1], ([0], [0])), shape=(4, 1)))  # (pre, post)
    proj.start_creating(period=1.0)
    pre.r = 1.0
    pre.b = np.array([1.0, 1.0, 0.0, 0.0])  # two of them decay below post.r = 0.5 within 2 ms
    net.simulate(1.0)
    other.tau = 3.0  # the stack splits: pre gets arrays of its own
    net.simulate(3.0)
    # explicit Euler with dt = tau / 2 halves r at each step where b = 0: 0.5 after step 1 (not below
    # post.r), 0.25 after step 2, when the rule creates both synapses; where b = 1, r stays 1
    assert proj.nb_synapses == 3
    matrix = proj.connectivity_matrix()
    assert matrix.tolist() == [[0.1, 0.0, 0.25, 0.25]]
