"""Monitor.plot and the progress bar."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from ratenet import Monitor, Network, Neuron, ValidationError


def test_traces_follow_the_recorded_values():
    net = Network()
    pop = net.create(4, Neuron(parameters="g = 1.0", equations="r = g * t"))
    pop.g = [1.0, 2.0, 3.0, 4.0]
    m = Monitor(pop, "r")
    net.simulate(5.0)
    ax = m.plot(neurons=[1, 3])
    assert len(ax.lines) == 2
    x, y = ax.lines[1].get_data()
    np.testing.assert_array_equal(x, np.arange(5.0))
    np.testing.assert_array_equal(y, 4.0 * np.arange(5.0))
    assert m.get("r").shape == (5, 4), "plot must not drop the recording"


def test_many_neurons_give_an_image():
    net = Network()
    pop = net.create((10, 10), Neuron(equations="r = t"))
    m = Monitor(pop, "r")
    net.simulate(3.0)
    ax = m.plot()
    image = ax.images[0].get_array()
    assert image.shape == (100, 3)
    np.testing.assert_array_equal(image[0], [0.0, 1.0, 2.0])


def test_samples_of_changing_size_are_refused():
    net = Network()
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b).connect_from_matrix([[1.0, None, None], [None, 1.0, None]], storage_format="csr")
    m = Monitor(proj, "w")
    net.simulate(2.0)
    proj.dendrite(0).create_synapse(2, 0.5)
    net.simulate(2.0)
    with pytest.raises(ValidationError, match="cannot plot samples of changing sizes"):
        m.plot()


def test_nothing_recorded_is_a_clear_error():
    net = Network()
    pop = net.create(2, Neuron(equations="r = t"))
    m = Monitor(pop, "r")
    with pytest.raises(ValidationError, match="nothing recorded for 'r'"):
        m.plot()
    net.simulate(2.0)
    m.get("r")
    with pytest.raises(ValidationError, match="nothing recorded"):
        m.plot()
