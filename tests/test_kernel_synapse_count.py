"""nb_synapses of Convolution and Pooling, counted without listing receptive fields,
against the brute-force sum of the receptive fields' sizes."""

from __future__ import annotations

import numpy as np
import pytest

from ratenet import Network, Neuron
from ratenet.projections import Convolution, Pooling


def _brute(proj) -> int:
    return sum(len(fields) for fields in proj.pre_ranks)


@pytest.mark.parametrize("pre, post, weights, bank, options", [
    ((3, 3), (3, 3), np.ones((3, 3)), False, {}),
    ((8, 8), (4, 4), np.ones((3, 3)), False, {}),
    ((5, 5), (5, 5), np.ones((4, 4)), False, {"padding": "border"}),
    ((6, 6, 3), (6, 6), np.ones((3, 3, 3)), False, {}),
    ((6, 6, 3), (6, 6, 3), np.ones((3, 3)), False, {"keep_last_dimension": True}),
    ((6, 6, 3), (6, 6, 2), np.ones((2, 2, 2, 3)), True, {}),
    ((7, 7), (3,), np.ones((3, 3)), False, {"subsampling": [[0, 0], [3, 3], [6, 5]]}),
])
def test_convolution(pre, post, weights, bank, options):
    net = Network()
    a = net.create(pre, Neuron(parameters="r = 0.0"))
    b = net.create(post, Neuron(equations="r = sum(exc)"))
    proj = Convolution(a, b)
    (proj.connect_filters if bank else proj.connect_filter)(weights, **options)
    assert proj.nb_synapses == _brute(proj)


@pytest.mark.parametrize("pre, post, extent", [
    ((4, 4), (2, 2), None),
    ((5, 4), (2, 2), (3, 2)),
    ((7, 7), (3, 3), (3, 3)),
    ((6, 8, 3), (3, 4), (2, 2, 3)),
    ((6, 8, 3), (3, 4), (1, 2, 2)),
    ((12, 12, 3), (4, 4, 3), None),
])
def test_pooling(pre, post, extent):
    net = Network()
    a = net.create(pre, Neuron(parameters="r = 0.0"))
    b = net.create(post, Neuron(equations="r = sum(exc)"))
    proj = Pooling(a, b, operation="mean").connect_pooling(extent)
    assert proj.nb_synapses == _brute(proj)
