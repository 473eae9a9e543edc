"""Building large projections: block-wise draws give the values of one draw, and no
temporary as large as the weight matrix is made (traced with tracemalloc, which sees
NumPy's allocations)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import ratenet.random as random_module
from ratenet import (
    Binomial,
    DiscreteUniform,
    Exponential,
    Gamma,
    Hebb,
    LogNormal,
    Network,
    Neuron,
    Normal,
    Uniform,
)
from ratenet.exceptions import ValidationError
from ratenet.projections import connectors

DISTRIBUTIONS = [Uniform(-1.0, 2.0), Uniform(0.0, 0.5), Uniform(3.0, 3.0), Normal(0.5, 2.0),
                 Normal(0.0, 1.0, min=-0.5, max=0.7), DiscreteUniform(-2, 5), LogNormal(0.0, 0.5),
                 Exponential(1.5), Gamma(2.0, 0.5), Binomial(10, 0.3)]
RELAY = Neuron(equations="r = sum(exc)")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks and pieces of odd sizes, so every path cuts the draws many times."""
    monkeypatch.setattr(connectors, "_BLOCK", 1001)
    monkeypatch.setattr(random_module, "_PIECE", 77)


@pytest.mark.parametrize("spec", DISTRIBUTIONS, ids=repr)
def test_sample_into_gives_the_values_of_sample(small_blocks, spec):
    for dtype in (np.float64, np.float32, np.int64):
        out = np.empty((13, 29), dtype=dtype)
        spec.sample_into(out, np.random.default_rng(4))
        np.testing.assert_array_equal(out, spec.sample((13, 29), np.random.default_rng(4), dtype))
    strided = np.zeros((13, 58))[:, ::2]  # not contiguous: drawn in one go, then copied
    spec.sample_into(strided, np.random.default_rng(4))
    np.testing.assert_array_equal(strided, spec.sample((13, 29), np.random.default_rng(4)))


@pytest.mark.parametrize("spec", DISTRIBUTIONS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fill_and_draws_give_the_values_of_one_draw(small_blocks, spec, dtype):
    expected = spec.sample((5000,), np.random.default_rng(9), dtype)
    np.testing.assert_array_equal(connectors.fill(spec, (5000,), np.random.default_rng(9), dtype), expected)
    matrix = connectors.fill(spec, (50, 100), np.random.default_rng(9), dtype)
    np.testing.assert_array_equal(matrix, expected.reshape(50, 100))
    draws = connectors._Draws(spec, 5000, np.random.default_rng(9), dtype)
    pieces = [draws.take(k) for k in (1, 999, 1, 0, 1500, 2499)]
    np.testing.assert_array_equal(np.concatenate(pieces), expected)


def test_storage_does_not_change_the_draws():
    def matrix(storage_format, probability):
        net = Network(seed=5)
        pop = net.create(120, RELAY)
        proj = net.connect(pop, pop).connect_fixed_probability(probability, Normal(0.0, 1.0), delays=Uniform(0, 3),
                                                                storage_format=storage_format)
        return proj.connectivity_matrix(fill=np.nan), proj.storage_format

    for probability in (0.05, 0.3, 0.6):
        dense, kind = matrix("dense", probability)
        sparse, other = matrix("csr", probability)
        assert (kind, other) == ("dense", "csr")
        np.testing.assert_array_equal(dense, sparse)
        assert np.isnan(np.diag(dense)).all()  # no self-connections


def peak_in_matrices(build, n, dtype):
    """Peak memory traced while ``build()`` runs, in units of one n x n weight matrix."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / (n * n * np.dtype(dtype).itemsize)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["all_to_all", "fixed_probability", "from_matrix", "from_matrix pre_post"])
def test_large_builds_hold_about_one_weight_matrix(monkeypatch, dtype, case):
    monkeypatch.setattr(connectors, "_BLOCK", 1 << 14)  # block temporaries small next to the matrix
    n = 1200
    net = Network(seed=1, dtype=dtype)
    pop, other = net.create(n, RELAY), net.create(n, RELAY)
    user = np.random.default_rng(0).random((n, n))

    def build():
        if case == "all_to_all":
            proj = net.connect(pop, pop).connect_all_to_all(Uniform(0.0, 1.0))
        elif case == "fixed_probability":
            proj = net.connect(pop, pop).connect_fixed_probability(0.5, Uniform(0.0, 1.0))
        else:
            proj = net.connect(pop, other).connect_from_matrix(user, pre_post=case.endswith("pre_post"))
        net.compile()
        net.step()
        assert proj.storage_format == "dense"

    # The weights, plus for a random pattern its boolean mask (one byte per possible synapse),
    # plus 5 % for the rest (small blocks, index arrays, the plan).
    mask = 1.0 / np.dtype(dtype).itemsize if case == "fixed_probability" else 0.0
    assert peak_in_matrices(build, n, dtype) <= 1.05 + mask


def test_all_to_all_without_self_connections_needs_no_mask_to_run():
    net = Network(seed=2)
    pop = net.create(50, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) + 1.0"))
    proj = net.connect(pop, pop).connect_all_to_all(Uniform(0.0, 0.1))
    net.simulate(5.0)
    assert proj._storage._mask is None  # listed as 50 missing synapses, not masked
    assert proj.nb_synapses == 50 * 49
    assert proj.nb_synapses_per_dendrite() == [49] * 50
    assert np.isnan(np.diag(proj.connectivity_matrix(fill=np.nan))).all()
    assert proj.dendrite(3).pre_ranks == [r for r in range(50) if r != 3]


def test_learning_keeps_the_absent_self_connections_at_zero():
    net = Network(seed=2)
    pop = net.create(20, Neuron(equations="r = sum(exc) + 0.5 : max=2.0"))
    proj = net.connect(pop, pop, "exc", Hebb(eta=0.01)).connect_all_to_all(Uniform(0.0, 0.05))
    net.simulate(20.0)
    w = proj.connectivity_matrix(fill=np.nan)
    assert np.isnan(np.diag(w)).all()
    assert (proj._attrs["w"].diagonal() == 0.0).all()
    assert proj.w[0][0] > 0.05  # learned


def test_from_matrix_keeps_its_own_copy():
    net = Network(seed=0)
    pre, post = net.create(3, RELAY), net.create(2, RELAY)
    user = np.arange(6.0).reshape(2, 3)
    proj = net.connect(pre, post).connect_from_matrix(user)
    user[0, 0] = 100.0  # the user's later changes do not reach the network
    np.testing.assert_array_equal(proj.connectivity_matrix(), [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    proj.w = np.ones((2, 3))  # nor do the network's reach the user's matrix
    assert user[1, 1] == 4.0


def test_from_matrix_refuses_values_too_large_for_float32():
    net = Network(dtype=np.float32)
    pre, post = net.create(2, RELAY), net.create(2, RELAY)
    with pytest.raises(ValidationError, match=r"Projection 'proj2'\.weights: must hold values that fit in float32, "
                                              r"the network's precision"):
        net.connect(pre, post).connect_from_matrix(np.array([[1e300, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValidationError, match=r"weights: must hold values that fit in float32"):
        net.connect(pre, post, "b").connect_from_matrix([[1e39, None], [1.0, 1.0]], storage_format="csr")
    proj = net.connect(pre, post, "c").connect_from_matrix(np.array([[3e38, 1.0], [1.0, 1.0]]))
    assert proj.connectivity_matrix()[0, 0] == np.float32(3e38)


def test_from_matrix_finiteness_is_checked_in_every_block(monkeypatch):
    monkeypatch.setattr(connectors, "_BLOCK", 64)
    net = Network()
    pre, post = net.create(16, RELAY), net.create(40, RELAY)
    user = np.ones((40, 16))
    user[37, 5] = np.inf  # in the last block of rows
    with pytest.raises(ValidationError, match=r"weights: must be finite \(use None for a missing synapse\)"):
        net.connect(pre, post).connect_from_matrix(user)
    with pytest.raises(ValidationError, match=r"delays: must be finite"):
        net.connect(pre, post, "d").connect_from_matrix(np.ones((40, 16)), delays=np.where(user > 1, np.nan, 1.0))
