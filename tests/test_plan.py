"""The step plan's shortcuts change no result.

Skipping work whose inputs did not change, stacking same-model populations and
fusing sparse projections must give the same numbers, bit for bit, as
recomputing everything for every population separately.  Each test builds the
same network twice (with the shortcuts, and without: ``skip_unchanged=False``
and one Neuron object per population so nothing is stacked) and compares every
recorded array.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ratenet import Monitor, Network, Neuron, TimedArray, Uniform
from ratenet.projections import Convolution, Pooling


def linear() -> Neuron:
    return Neuron(equations="r = sum(exc) - sum(inh) : min=0.0")


def leaky() -> Neuron:
    return Neuron(parameters="tau = 5.0 : population\nb = 0.1", equations="tau * dr/dt + r = sum(exc) + b")


def build(shortcuts: bool, seed: int = 4):
    """A network mixing pure and stateful populations, delays, kernels and sparse projections."""
    net = Network(seed=seed)
    net.skip_unchanged = shortcuts
    shared_linear, shared_leaky = linear(), leaky()
    model = (lambda make, shared: shared) if shortcuts else (lambda make, shared: make())
    rng = np.random.default_rng(seed)
    inp = net.create((6, 6), Neuron(parameters="r = 0.0"), name="inp")
    inp.r = rng.random((6, 6))
    timed = TimedArray(rng.random((5, 6, 6)), schedule=3.0, network=net, name="timed")
    pooled = net.create((3, 3), model(linear, shared_linear), name="pooled")
    smooth = net.create((6, 6), model(linear, shared_linear), name="smooth")
    ring = [net.create(10, model(leaky, shared_leaky), name=f"ring{i}") for i in range(4)]
    deep = net.create(10, model(linear, shared_linear), name="deep")
    net.connect(Pooling(inp, pooled, "exc", operation="max")).connect_pooling()
    net.connect(Convolution(timed, smooth, "exc")).connect_filter(rng.normal(size=(3, 3)))
    net.connect(Convolution(inp, smooth, "inh")).connect_filter(np.full((3, 3), 0.05), delays=2.0)
    for i in range(4):
        net.connect(ring[i], ring[(i + 1) % 4], "exc").connect_one_to_one(0.5)
        net.connect(pooled[0:9], ring[i][0:9], "exc").connect_fixed_probability(0.5, 0.3, storage_format="csr")
    net.connect(ring[2], deep, "exc").connect_from_matrix(rng.random((10, 10)), delays=3.0)
    net.connect(smooth[0:10], deep, "inh").connect_one_to_one(0.2)
    monitors = [Monitor(pop, ["r"] + [f"sum({t})" for t in pop.targets]) for pop in net.populations
                if pop.name not in ("inp",)]
    return net, inp, monitors


def run(shortcuts: bool) -> list[dict[str, np.ndarray]]:
    net, inp, monitors = build(shortcuts)
    net.simulate(7.0)
    inp.r = np.linspace(0, 1, 36).reshape(6, 6)  # a change from Python between runs
    for _ in range(5):
        net.step()
    net.simulate(4.0)
    return [m.get() for m in monitors]


def test_shortcuts_change_no_result():
    with_shortcuts, without = run(True), run(False)
    for a, b in zip(with_shortcuts, without):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_shortcuts_are_really_taken():
    net, inp, _ = build(True)
    stacked = [b for b in net.plan.blocks if len(b.members) > 1]
    assert {tuple(p.name for p in b.members) for b in stacked} == {("pooled", "smooth", "deep"),
                                                                  ("ring0", "ring1", "ring2", "ring3")}
    assert any("one sparse product" in line for line in net.step_order)
    net.simulate(20.0)  # the inputs settle: the pure layers and their projections stop being recomputed
    pooled = net.registry.state(net.get_population("pooled"))
    version = pooled.version("r")
    net.simulate(5.0)
    assert pooled.version("r") == version


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_changed_constant_is_seen_by_a_settled_network(dtype):
    from ratenet import Constant, clear

    clear()
    gain = Constant("gain", 2.0)
    net = Network(dtype=dtype)
    inp = net.create(3, Neuron(parameters="r = 1.0"))
    out = net.create(3, Neuron(equations="r = gain * sum(exc)"))
    net.connect(inp, out).connect_one_to_one(1.0)
    net.simulate(10.0)
    assert out.r.tolist() == [2.0, 2.0, 2.0]
    gain.set(3.0)
    net.simulate(2.0)
    assert out.r.tolist() == [3.0, 3.0, 3.0]
    clear()


def test_population_parameter_of_a_stacked_population_is_seen():
    net = Network()
    model = Neuron(parameters="g = 1.0 : population", equations="r = g * sum(exc)")
    inp = net.create(2, Neuron(parameters="r = 1.0"))
    a, b = net.create(2, model), net.create(2, model)
    net.connect(inp, a).connect_one_to_one(1.0)
    net.connect(inp, b).connect_one_to_one(1.0)
    net.simulate(5.0)
    a.g = 4.0
    net.simulate(2.0)
    assert a.r.tolist() == [4.0, 4.0] and b.r.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- regressions
# Each of these failed before the plan became a list of operator objects.

def test_fused_groups_each_use_their_own_weights():
    """Two populations of one model, each receiving a sparse exc and a sparse inh projection: the two
    fused products (one per target) must use their own weights (closures once took the last group's)."""
    net = Network()
    a = net.create(10, Neuron(parameters="r = 0.0"), name="a")
    model = Neuron(equations="r = sum(exc) - sum(inh)")
    p, q = net.create(10, model, name="p"), net.create(10, model, name="q")
    for b in (p, q):
        net.connect(a, b, "exc").connect_one_to_one(1.0)
        net.connect(a, b, "inh").connect_one_to_one(0.5)
    a.r = 1.0
    net.simulate(2.0)
    assert p.r.tolist() == [0.5] * 10 and q.r.tolist() == [0.5] * 10
    assert sum("one sparse product" in line for line in net.step_order) == 2


def test_fused_groups_with_random_weights_match_matrix_products():
    net = Network(seed=3)
    rng = np.random.default_rng(3)
    a = net.create(15, Neuron(parameters="r = 0.0"), name="a")
    model = Neuron(equations="r = sum(exc) - 2 * sum(inh)")
    posts = [net.create(n, model) for n in (4, 9, 6)]
    projections = {(i, target): net.connect(a, b, target).connect_fixed_probability(0.4, Uniform(0.1, 1.0),
                                                                                    storage_format="csr")
                   for i, b in enumerate(posts) for target in ("exc", "inh")}
    a.r = rng.random(15)
    net.simulate(2.0)
    for i, b in enumerate(posts):
        exc = projections[(i, "exc")].connectivity_matrix() @ a.r
        inh = projections[(i, "inh")].connectivity_matrix() @ a.r
        np.testing.assert_allclose(b.r, exc - 2 * inh, rtol=1e-12, atol=1e-14)


FUSED_BLOCKS_OF_TWO_SIZES = """
import numpy as np
from ratenet import Network, Neuron, Uniform
net = Network(seed=5)
a = net.create(40, Neuron(parameters="r = 0.0"), name="a")
big, small = Neuron(equations="r = sum(exc)"), Neuron(equations="r = 3 * sum(exc)")
posts = [net.create(200, big), net.create(200, big), net.create(3, small), net.create(3, small)]
projs = [net.connect(a, b, "exc").connect_fixed_probability(0.5, Uniform(0.0, 1.0), storage_format="csr")
         for b in posts]
a.r = np.linspace(0.0, 1.0, 40)
net.simulate(3.0)
for b, p, k in zip(posts, projs, (1, 1, 3, 3)):
    expected = k * (p.connectivity_matrix() @ a.r)
    print(float(np.max(np.abs(b.r - expected))))
"""


def test_fused_groups_onto_blocks_of_different_sizes_write_their_own_rows():
    """Once, the small block's product wrote the big block's rows into its small array (a crash of the
    interpreter): run it in a child process and check its numbers against matrix products."""
    done = subprocess.run([sys.executable, "-c", FUSED_BLOCKS_OF_TWO_SIZES], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    errors = [float(line) for line in done.stdout.split()]
    assert len(errors) == 4 and max(errors) < 1e-12


def test_reset_restores_a_population_parameter_of_stacked_populations():
    net = Network()
    model = Neuron(parameters="tau = 2.626 : population\nb = 0.334",
                   equations="tau * dr/dt + r = sum(exc) - sum(inh) + b")
    net.create(9, model)
    stacked = net.create((2, 3), model)
    net.simulate(1.0)
    stacked.tau = 3.07
    net.reset(projections=True)
    assert stacked.tau == 2.626
    net.simulate(1.0)
    # one explicit Euler step from r = 0: r = dt * b / tau
    np.testing.assert_allclose(stacked.r, np.full((2, 3), 0.334 / 2.626), rtol=1e-14)


def test_reset_restores_a_convolution_kernel_set_from_python():
    net = Network()
    inp = net.create((4, 4), Neuron(parameters="r = 0.0"))
    out = net.create((4, 4), Neuron(equations="r = sum(exc)"))
    kernel = np.arange(9.0).reshape(3, 3)
    conv = net.connect(Convolution(inp, out, "exc")).connect_filter(kernel)
    inp.r = np.arange(16.0).reshape(4, 4)
    net.simulate(2.0)
    conv.weights = np.ones((3, 3))
    net.simulate(2.0)
    net.reset(populations=False, projections=True)
    np.testing.assert_array_equal(conv.weights, kernel)
    net.simulate(2.0)
    padded = np.pad(inp.r, 1)
    expected = [[np.sum(padded[i:i + 3, j:j + 3] * kernel) for j in range(4)] for i in range(4)]
    np.testing.assert_array_equal(out.r, expected)


def test_a_value_set_on_a_settled_pure_population_is_recomputed():
    net = Network()
    inp = net.create(3, Neuron(parameters="r = 1.0"))
    pure = net.create(3, Neuron(equations="r = 2 * sum(exc)"))
    net.connect(inp, pure).connect_one_to_one(1.0)
    net.simulate(10.0)
    pure.r = 99.0
    net.step()
    assert pure.r.tolist() == [2.0, 2.0, 2.0]


def test_resetting_one_population_recomputes_its_inputs():
    net = Network()
    inp = net.create(3, Neuron(parameters="r = 1.0"))
    pure = net.create(3, Neuron(equations="r = 2 * sum(exc)"))
    net.connect(inp, pure).connect_one_to_one(1.5)
    net.simulate(10.0)
    pure.reset()   # zeroes its sum(exc); the projection, whose input did not change, must fill it again
    assert pure.sum("exc").tolist() == [0.0] * 3
    net.step()
    assert pure.sum("exc").tolist() == [1.5] * 3 and pure.r.tolist() == [3.0] * 3
