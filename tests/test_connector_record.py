"""Projections remember how they were connected (proj.connector) and describe it in a sentence."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from ratenet import LILConnectivity, Network, Neuron, Normal, Uniform, ValidationError
from ratenet.projections import Convolution, Copy, Pooling, Transpose
from ratenet.projections.record import ArraySummary


@pytest.fixture()
def pops():
    net = Network(seed=0)
    a = net.create((4, 4), Neuron(parameters="r = 0.0"), name="a")
    b = net.create((4, 4), Neuron(equations="r = sum(exc)"), name="b")
    return net, a, b


@pytest.mark.parametrize("call, name, description", [
    (lambda p: p.connect_all_to_all(0.5), "All-to-All", "all-to-all with weights 0.5"),
    (lambda p: p.all_to_all(weights=Uniform(0.0, 1.0), delays=2.0), "All-to-All",
     "all-to-all with weights Uniform(0, 1), delays 2 ms"),
    (lambda p: p.connect_one_to_one(Normal(0.5, 0.1)), "One-to-One", "one-to-one with weights Normal(0.5, 0.1)"),
    (lambda p: p.connect_fixed_probability(0.25, 1.0), "Random", "random with probability 0.25, weights 1"),
    (lambda p: p.connect_fixed_number_pre(3, 0.2), "Random Convergent",
     "3 random pre-synaptic neurons per post-synaptic neuron, weights 0.2"),
    (lambda p: p.fixed_number_post(2, 0.2), "Random Divergent",
     "2 random post-synaptic neurons per pre-synaptic neuron, weights 0.2"),
    (lambda p: p.connect_gaussian(amp=0.2, sigma=0.1), "Gaussian", "Gaussian with amp 0.2, sigma 0.1"),
    (lambda p: p.gaussian(0.2, 0.1, limit=0.1), "Gaussian", "Gaussian with amp 0.2, sigma 0.1, limit 0.1"),
    (lambda p: p.connect_dog(0.2, 0.1, 0.1, 0.5), "Difference-of-Gaussian",
     "difference of Gaussians with amp_pos 0.2, sigma_pos 0.1, amp_neg 0.1, sigma_neg 0.5"),
    (lambda p: p.connect_from_matrix(np.full((16, 16), 0.5)), "Connectivity matrix",
     "from a weight matrix (16 x 16, values 0.5)"),
    (lambda p: p.connect_from_matrix(np.arange(256.0).reshape(16, 16), pre_post=True), "Connectivity matrix",
     "from a weight matrix (16 x 16, values from 0 to 255), given pre x post"),
    (lambda p: p.connect_from_sparse(scipy.sparse.eye(16, format="lil") * 2.0), "Sparse connectivity matrix",
     "from a sparse weight matrix (16 x 16, 16 entries, values 2)"),
])
def test_descriptions(pops, call, name, description):
    net, a, b = pops
    proj = call(net.connect(a, b, "exc"))
    assert proj.connector_name == name and proj.connector.name == name
    assert proj.connector_description == description == str(proj.connector)


def test_arguments_are_recorded_with_defaults(pops):
    net, a, b = pops
    proj = net.connect(a, b).connect_gaussian(0.2, sigma=0.3)
    assert proj.connector.method == "connect_gaussian"
    assert proj.connector.arguments == {"amp": 0.2, "sigma": 0.3, "delays": 0.0, "limit": 0.01,
                                        "allow_self_connections": False, "storage_format": None,
                                        "storage_order": None}
    matrix = net.connect(a, b).connect_from_matrix(np.eye(16)).connector.arguments["weights"]
    assert isinstance(matrix, ArraySummary)  # a summary, not a second copy of the matrix
    assert (matrix.shape, matrix.minimum, matrix.maximum) == ((16, 16), 0.0, 1.0)


def test_self_connections_and_function_connectors(pops):
    net, a, b = pops
    proj = net.connect(b, b).connect_all_to_all(0.1, allow_self_connections=True)
    assert proj.connector_description == "all-to-all with weights 0.1, self-connections allowed"

    def diagonal(pre, post, weight=1.0):
        lil = LILConnectivity()
        for rank in range(post.size):
            lil.add(rank, [rank], [weight])
        return lil

    proj = net.connect(a, b).connect_from_function(diagonal, weight=0.3)
    assert proj.connector_name == "User-defined"
    assert proj.connector_description == "from the function diagonal(weight=0.3)"


def test_kernel_and_shared_projections(pops):
    net, a, b = pops
    conv = net.connect(Convolution(a, b)).connect_filter(np.ones((3, 3)) / 9.0, padding="border")
    assert conv.connector_description == "convolution with a (3, 3) filter, border padding"
    bank_post = net.create((4, 4, 2), Neuron(equations="r = sum(exc)"))
    bank = net.connect(Convolution(a, bank_post, operation="max")).connect_filters(np.ones((2, 3, 3)))
    assert bank.connector_description == "convolution with a bank of 2 filters of shape (3, 3), max over each window"
    small = net.create((2, 2), Neuron(equations="r = sum(exc)"))
    pool = net.connect(Pooling(a, small, operation="mean")).connect_pooling()
    assert (pool.connector_name, pool.connector_description) == ("Pooling", "mean-pooling over windows of (2, 2)")
    original = net.connect(a, b, "exc").connect_one_to_one(1.0)
    copy = net.connect(Copy(a, b, "inh")).connect_copy(original)
    assert copy.connector_description == f"copy of the weights of {original.name}"
    back = Transpose(original, "back").connect()
    assert back.connector_description == f"transpose of the weights of {original.name}"


def test_no_record_before_connecting_or_after_a_refused_connection(pops):
    net, a, b = pops
    proj = net.connect(a, b)
    assert proj.connector is None and proj.connector_name is None and proj.connector_description is None
    with pytest.raises(ValidationError):
        proj.connect_fixed_probability(2.0, 1.0)
    assert proj.connector is None
    proj.connect_one_to_one(1.0)
    assert proj.connector_name == "One-to-One"


def test_matrices_with_missing_synapses_are_summarised():
    net = Network()
    a = net.create(2, Neuron(parameters="r = 0.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b).connect_from_matrix([[None, 2.0], [1.0, None]])
    assert proj.connector_description == "from a weight matrix (2 x 2, values from 1 to 2)"
    empty = net.connect(a, b).connect_from_matrix(np.array([[None, None], [None, None]], dtype=object))
    assert empty.connector_description == "from a weight matrix (2 x 2)"
