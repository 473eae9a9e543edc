"""Objects where ANNarchy takes them: single neurons as projection ends, flat view values, dendrites, functions."""

from __future__ import annotations

import numpy as np
import pytest

from ratenet import Network, Neuron, Synapse, ValidationError
from ratenet.projections import Convolution

INPUT = Neuron(parameters="r = 0.0")
SUM = Neuron(equations="r = sum(exc)")


def test_a_single_neuron_is_a_projection_end():
    net = Network()
    gpi = net.create(3, INPUT)
    out = net.create(2, SUM)
    gpi.r = [1.0, 2.0, 4.0]
    a = net.connect(gpi[0], out, "exc").connect_all_to_all(0.5)
    b = net.connect(gpi, out[1], "exc").connect_all_to_all(1.0)
    assert a.pre.ranks.tolist() == [0] and b.post.ranks.tolist() == [1]
    net.step()
    # by hand: out0 = 0.5 * 1; out1 = 0.5 * 1 + (1 + 2 + 4)
    np.testing.assert_allclose(out.r, [0.5, 7.5])
    monitor = net.monitor(gpi[0] + gpi[2], "r")
    net.step()
    np.testing.assert_allclose(monitor.get("r")[-1], [1.0, 4.0])


def test_view_values_are_flat_in_rank_order():
    net = Network()
    pop = net.create((4, 4), INPUT)
    pop.r = np.arange(16.0).reshape(4, 4)
    view = pop[0:3, 0:3]
    assert view.r.shape == (9,)
    np.testing.assert_array_equal(view.r, [0, 1, 2, 4, 5, 6, 8, 9, 10])
    np.testing.assert_array_equal(pop[1:3, 1].r, [5, 9])
    np.testing.assert_array_equal(view.get("r"), view.r)
    cube = net.create((3, 3, 3), INPUT)
    assert cube[0:3, 0:3, 0:3].r.shape == (27,)


def test_model_functions_take_lists_and_scalars():
    net = Network()
    pop = net.create(2, Neuron(equations="r = 1", functions="f(x, y) = x * y + 1"))
    proj = net.connect(pop, pop, "exc", Synapse(functions="g(x) = 2 * x")).connect_all_to_all(1.0)
    np.testing.assert_allclose(pop.f([1, 2, 3], 2.0), [3.0, 5.0, 7.0])
    assert float(pop.f(2.0, 3.0)) == 7.0
    np.testing.assert_allclose(pop.f(np.array([1.0]), [4.0]), [5.0])
    np.testing.assert_allclose(proj.g((1, 2)), [2.0, 4.0])


class TestDendrite:
    def make(self):
        net = Network()
        pre = net.create(4, INPUT)
        post = net.create(3, SUM)
        weights = np.array([[1.0, None, 2.0, None], [None, None, None, None], [3.0, 4.0, None, 5.0]], dtype=object)
        syn = Synapse(parameters="eta = 0.1 : postsynaptic\nk = 2.0 : projection")
        proj = net.connect(pre, post, "exc", syn).connect_from_matrix(weights)
        return net, pre, post, proj

    def test_a_post_neuron_without_synapses_has_no_dendrite(self):
        net, pre, post, proj = self.make()
        with pytest.raises(ValidationError, match=r"post: the neuron of rank 1 has no dendrite in this projection "
                                                  r"\(it receives no synapse\) \(got 1\)"):
            proj.dendrite(1)

    def test_index_is_the_pre_rank(self):
        net, pre, post, proj = self.make()
        dendrite = proj.dendrite(2)
        assert dendrite.pre_ranks == [0, 1, 3]
        assert dendrite[3].w == 5.0 and dendrite[1].w == 4.0
        dendrite[3].w = 7.0
        dendrite[0].eta = 0.5  # postsynaptic: the dendrite's value
        assert proj.connectivity_matrix().tolist()[2] == [3.0, 4.0, 0.0, 7.0]
        assert proj.eta.tolist() == [0.1, 0.5] and dendrite[1].k == 2.0
        with pytest.raises(ValidationError, match=r"pos: the neuron of rank 2 has no synapse in this dendrite "
                                                  r"\(pre ranks: \[0, 1, 3\]\) \(got 2\)"):
            dendrite[2]
        with pytest.raises(ValidationError, match="k: is shared by the whole projection"):
            dendrite[0].k = 1.0
        with pytest.raises(AttributeError, match="has no attribute 'v' \\(it has: w, eta, k\\)"):
            dendrite[0].v
        assert [s.rank for s in dendrite] == [0, 1, 3]
        assert [s.w for s in dendrite.synapses()] == [3.0, 4.0, 7.0]

    def test_get_and_set(self):
        net, pre, post, proj = self.make()
        dendrite = proj.dendrite(0)
        assert dendrite.get("w").tolist() == [1.0, 2.0]
        assert dendrite.get("pre_ranks") == [0, 2]
        assert dendrite.get("eta") == pytest.approx(0.1)
        dendrite.set({"w": [5.0, 6.0], "eta": 0.3})
        assert proj.connectivity_matrix().tolist()[0] == [5.0, 0.0, 6.0, 0.0]
        assert proj.eta.tolist() == [0.3, 0.1]
        with pytest.raises(ValidationError, match=r"tau: the dendrite has no parameter or variable of that name "
                                                  r"\(it has: w, eta, k\)"):
            dendrite.get("tau")
        with pytest.raises(ValidationError, match="tau: the dendrite has no parameter or variable"):
            dendrite.set({"tau": 1.0})
        net.step()

    def test_sparse_and_dense_agree(self):
        for storage in ("dense", "csr"):
            net = Network()
            pre, post = net.create(3, INPUT), net.create(2, SUM)
            proj = net.connect(pre, post, "exc").connect_all_to_all(1.0, storage_format=storage)
            proj.dendrite(1)[2].w = 9.0
            assert proj.connectivity_matrix().tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 9.0]]


def test_convolution_that_collapses_but_does_not_span_the_last_axis_is_refused():
    net = Network()
    pre = net.create((4, 4, 3), INPUT)
    post = net.create((4, 4), SUM)
    with pytest.raises(ValidationError, match=r"weights: the result has one dimension less than pre, so the last "
                                              r"dimension of the kernel \(\(3, 3, 2\)\) must equal pre's last "
                                              r"dimension 3 \(pre \(4, 4, 3\), post \(4, 4\)\)"):
        Convolution(pre, post, "exc").connect_filter(np.ones((3, 3, 2)))
