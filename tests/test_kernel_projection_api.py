"""What Convolution and Pooling answer to the Projection API they inherit, and other messages."""

from __future__ import annotations

import numpy as np
import pytest

from ratenet import Network, Neuron, ValidationError
from ratenet.projections import Convolution, Copy, Pooling, Transpose


@pytest.fixture
def pair():
    net = Network()
    pre = net.create((4, 6), Neuron(parameters="r = 0.0"), name="pre")
    post = net.create((2, 3), Neuron(equations="r = sum(exc)"), name="post")
    return net, pre, post


def test_convolution_answers_with_its_kernel(pair):
    net, pre, post = pair
    proj = Convolution(pre, post, "exc", name="conv").connect_filter(np.ones((3, 3)), delays=2.0)
    assert proj.delays == 2.0
    np.testing.assert_array_equal(proj.get("w"), np.ones((3, 3)))
    np.testing.assert_array_equal(proj.get("weights"), np.ones((3, 3)))
    with pytest.raises(ValidationError, match=r"Convolution 'conv'\.name: is not an attribute of this projection "
                                              r"\(it has 'weights'\) \(got 'eta'\)"):
        proj.get("eta")
    with pytest.raises(ValidationError, match=r"Convolution 'conv'\.receptive_fields: is not available: every "
                                              r"post neuron shares the same kernel"):
        proj.receptive_fields()
    with pytest.raises(ValidationError, match=r"Convolution 'conv'\.inspection: is not available: this projection "
                                              r"applies one kernel"):
        proj.nb_synapses_per_dendrite()


def test_pooling_has_no_synaptic_attributes(pair):
    net, pre, post = pair
    proj = Pooling(pre, post, "exc", name="pool").connect_pooling()
    with pytest.raises(ValidationError, match=r"Pooling 'pool'\.name: is not an attribute of this projection "
                                              r"\(it has no synaptic attributes\)"):
        proj.get("w")


@pytest.mark.parametrize("kind, hint", [("convolution", r"connect_filter\(\) or connect_filters\(\)"),
                                        ("pooling", r"connect_pooling\(\)")])
def test_foreign_connectors_and_missing_connection_name_the_right_connector(pair, kind, hint):
    net, pre, post = pair
    proj = Convolution(pre, post, "exc") if kind == "convolution" else Pooling(pre, post, "exc")
    with pytest.raises(ValidationError, match=rf"projections are connected with {hint}, not with the connectors"):
        proj.connect_all_to_all(1.0)
    with pytest.raises(ValidationError, match=rf"projections are connected with {hint}"):
        proj.connect_from_function(lambda pre, post: None)
    with pytest.raises(ValidationError, match=rf"is not connected: call {hint} before simulating"):
        net.simulate(1.0)
    with pytest.raises(ValidationError, match=rf"is not connected yet: call {hint} first"):
        proj.delays


def test_copy_and_transpose_name_their_connectors_and_refuse_structural_changes():
    net = Network()
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(3, Neuron(equations="r = sum(exc) + sum(back)"))
    c = net.create(3, Neuron(equations="r = sum(exc)"))
    original = net.connect(a, b, "exc", name="orig").connect_all_to_all(0.5, storage_format="csr")
    copy = Copy(a, c, "exc", name="copy")
    with pytest.raises(ValidationError, match=r"Copy 'copy'\.connect: is not connected: call "
                                              r"connect_copy\(projection\) before simulating"):
        net.simulate(1.0)
    copy.connect_copy(original)
    back = Transpose(original, "back", name="back").connect()
    with pytest.raises(ValidationError, match=r"Copy 'copy'\.create_synapse: shares the synapses of 'orig': "
                                              r"create synapses there"):
        copy.dendrite(0).create_synapse(0, 1.0)
    with pytest.raises(ValidationError, match=r"Copy 'copy'\.prune_synapse: shares the synapses of 'orig': "
                                              r"prune synapses there"):
        copy.dendrite(0).prune_synapse(0)
    with pytest.raises(ValidationError, match=r"Transpose 'back'\.dendrite: is not available on a transposed "
                                              r"projection"):
        back.dendrite(0)


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_num_threads_must_be_a_count(value):
    with pytest.raises(ValidationError, match=r"Network\.num_threads: must be a positive integer, or 0 for every "
                                              r"core"):
        Network().setup(num_threads=value)


def test_several_threads_give_the_same_result():
    results = []
    for threads in (1, 2):
        net = Network(seed=2, num_threads=threads)
        rng = np.random.default_rng(0)
        inp = net.create((8, 8), Neuron(parameters="r = 0.0"))
        inp.r = rng.random((8, 8))
        a = net.create((8, 8), Neuron(equations="r = sum(exc)"))
        b = net.create(64, Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = sum(exc) - sum(inh)"))
        net.connect(Convolution(inp, a, "exc")).connect_filter(rng.normal(size=(3, 3)))
        net.connect(inp, b, "exc").connect_all_to_all(0.1)
        net.connect(a, b, "inh").connect_fixed_probability(0.3, 0.2)
        net.simulate(10.0)
        results.append(b.r)
        if threads > 1:
            assert any("in parallel on 2 threads" in line for line in net.step_order)
    np.testing.assert_array_equal(results[0], results[1])
