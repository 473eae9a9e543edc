"""Issue 13, items 10-12 and 14: the behaviours behind the catalogue's refusals.

References: values computed by hand or by a plain Python loop, and the
state of the network before the refused call.
"""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

import ratenet as rn
from ratenet import (Hebb, Network, Neuron, RatenetError, RatenetWarning, Synapse, TimedArray, Uniform,
                     ValidationError)
from ratenet.readonly import ReadOnlyArray


# -- non-finite values: refused unless the network allows them

def test_allow_nonfinite_lets_every_slot_take_nan_and_inf(tmp_path):
    net = Network()
    pop = net.create(3, Neuron(parameters="theta = 1.0\ntau = 2.0 : population"), name="p")
    inp = net.create(2, Neuron(parameters="r = 1.0"))
    proj = net.connect(inp, pop, "exc", Synapse(parameters="g = 1.0 : projection")).connect_all_to_all(1.0)
    with pytest.raises(ValidationError, match="allow_nonfinite"):
        pop.theta = math.inf
    net.allow_nonfinite = True
    pop.theta = [math.inf, -math.inf, math.nan]
    pop.tau = math.inf
    proj.w = math.nan
    proj.g = math.inf
    timed = TimedArray([[math.nan, 1.0]], network=net)
    assert str(pop.theta.tolist()) == "[inf, -inf, nan]" and pop.tau == math.inf
    assert np.isnan(proj.w).all() and proj.g == math.inf
    net.simulate(1.0)
    assert np.isnan(timed.r[0]) and timed.r[1] == 1.0
    net.save(tmp_path / "s.npz")           # a network that allows them loads them back
    pop.theta = 0.0
    net.load(tmp_path / "s.npz")
    assert str(pop.theta.tolist()) == "[inf, -inf, nan]"
    strict = Network()
    strict_pop = strict.create(3, Neuron(parameters="theta = 1.0\ntau = 2.0 : population"), name="p")
    strict_inp = strict.create(2, Neuron(parameters="r = 1.0"))
    strict.connect(strict_inp, strict_pop, "exc", Synapse(parameters="g = 1.0 : projection")).connect_all_to_all(1.0)
    strict.create(2, Neuron(parameters="r = 0.0"))  # the TimedArray's place
    with pytest.raises(ValidationError, match=r"pop:p:theta: expected finite numbers of shape \(3,\)"):
        strict.load(tmp_path / "s.npz", projections=False)


def test_setup_option_and_docs():
    rn.clear()
    rn.setup(allow_nonfinite=True)
    assert rn.default_network().allow_nonfinite
    rn.clear()
    assert not rn.default_network().allow_nonfinite


# -- int and bool parameters: refused, not truncated

def test_int_and_bool_attributes_take_whole_values_exactly():
    net = Network()
    pop = net.create(2, Neuron(parameters="n = 1 : int\nb = False : bool"))
    pop.n = 3.0                         # a whole float is fine
    pop.n = np.array([4, 5])
    pop.b = 1
    pop.b = [True, False]
    assert pop.n.tolist() == [4, 5] and pop.b.tolist() == [True, False]
    for value in (2.7, [1.0, 2.5], math.inf):
        with pytest.raises(ValidationError, match="int attribute: expected whole numbers"):
            pop.n = value
    assert pop.n.tolist() == [4, 5]


# -- delays that are not multiples of dt: rounded as ANNarchy does, with a warning

@pytest.mark.parametrize("delay, dt, steps", [(0.5, 1.0, 0), (1.5, 1.0, 2), (2.5, 1.0, 2), (3.5, 1.0, 4),
                                              (0.3, 0.2, 1), (2.0, 1.0, 2)])
def test_delays_round_like_annarchy(delay, dt, steps):
    """ANNarchy 4.8: uniform_delay = round(delay / dt) (Python's round: halves to even; 0.3 / 0.2 is 1.4999...)."""
    assert round(delay / dt) == steps               # the reference
    net = Network(dt=dt)
    pre = net.create(1, Neuron(parameters="r = 0.0"))
    post = net.create(1, Neuron(equations="r = sum(exc)"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.connect(pre, post, "exc").connect_one_to_one(1.0, delays=delay)
    rounded = [w for w in caught if issubclass(w.category, RatenetWarning)]
    if abs(delay / dt - round(delay / dt)) < 1e-9:
        assert not rounded
    else:
        assert len(rounded) == 1
        text = str(rounded[0].message)
        assert f"the delay {delay:g} ms is not a multiple of dt = {dt:g} ms" in text
        assert f"rounded to {steps * dt:g} ms ({steps} steps" in text
        assert rounded[0].filename == __file__        # it points at the user's line
    # pre.r steps to 1 once the network runs: post sees it after max(1, steps) steps (1 is the ordinary lag)
    net.step()
    pre.r = 1.0
    seen = []
    for _ in range(6):
        net.step()
        seen.append(float(post.r[0]))
    first = seen.index(1.0) + 1
    assert first == max(1, steps)


# -- memory: refused before allocating or running, saying how much

def test_simulate_refused_before_running_when_monitors_cannot_hold_it():
    net = Network()
    pop = net.create(1000, Neuron(equations="r = t"))
    monitor = net.monitor(pop, "r")
    net.simulate(3.0)
    steps = 10**10
    expected = steps * (1000 * 8 + 8)        # one float64 per neuron and a step number per sample
    assert monitor.memory_for(steps) == expected
    with pytest.raises(ValidationError) as error:
        net.simulate(float(steps))
    assert "recording 10,000,000,000 steps, the monitors ('monitor of pop0') would take 80.1 TB" in str(error.value)
    assert net.get_current_step() == 3 and monitor.get("r").shape == (3, 1000)
    monitor.pause()
    assert monitor.memory_for(steps) == 0
    sparse = net.monitor(pop, "r", period=1000.0)
    assert sparse.memory_for(10**6) == 1000 * (1000 * 8 + 8)


def test_geometry_and_delay_refused_before_allocating():
    net = Network()
    model = Neuron(parameters="a = 1.0", equations="r = a * sum(exc)")
    with pytest.raises(ValidationError, match=r"^Population 'huge'\.geometry: 4 arrays of 1,000,000,000,000 neurons "
                                              r"would take 32 TB"):
        net.create(10**12, model, name="huge")
    assert "huge" not in [p.name for p in net.populations]
    pre = net.create(1000, Neuron(parameters="r = 1.0"), name="pre")
    post = net.create(2, model)
    with pytest.raises(ValidationError, match=r"the history of 100,000,000,000 steps of 'pre' that a delay of "
                                              r"1e\+11 ms needs \(dt = 1 ms\) would take 1.6e\+03 TB"):
        net.connect(pre, post).connect_all_to_all(1.0, delays=1e11)


# -- check_finite watches learned weights

def test_check_finite_names_the_projection_synapse_and_element():
    k = 1e200
    w, step = 1.0, 0
    while math.isfinite(w):                   # explicit Euler by hand: w += dt * k * w
        w = w + k * w
        step += 1
    for storage in ("dense", "csr"):
        net = Network(dt=1.0)
        net.check_finite = True
        pre = net.create(3, Neuron(parameters="r = 1.0"), name="pre")
        post = net.create(2, Neuron(parameters="r = 0.0"), name="post")
        syn = Synapse(parameters=f"k = {k}", equations="dw/dt = k * w", name="Runaway")
        proj = net.connect(pre, post, "exc", syn, name="ff").connect_all_to_all(1.0, storage_format=storage)
        proj.dendrite(1).w = [1.0, 0.5, 1.0]    # (post 0, pre 0) overflows first
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(RatenetError) as error:
                net.simulate(10.0)
        assert str(error.value) == (f"Projection 'ff' (synapse 'Runaway').w: synapse (post 0, pre 0) is inf after "
                                    f"step {step - 1} (t = {float(step - 1)} ms)")
        assert net.get_current_step() == step - 1


def test_check_finite_off_does_not_watch_weights():
    net = Network()
    pre = net.create(1, Neuron(parameters="r = 1.0"))
    post = net.create(1, Neuron(parameters="r = 1.0"))
    net.connect(pre, post, "exc", Hebb(eta=1e300)).connect_all_to_all(1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        net.simulate(3.0)
    assert not any("finite" in line for line in net.step_order)
    net.check_finite = True
    assert any("learned synaptic value" in line for line in net.step_order)


# -- reading attributes: read-only copies that say how to assign

def test_read_only_copies():
    net = Network()
    pop = net.create((2, 2), Neuron(parameters="r = 0.0\ntau = 1.0"), name="layer")
    values = pop.r
    assert isinstance(values, ReadOnlyArray) and not values.flags.writeable
    with pytest.raises(ValidationError) as error:
        values[0, 1] = 5.0
    assert str(error.value).startswith("Population 'layer'.r: the array read from layer.r is a read-only copy")
    assert "(got [0, 1] = 5.0)" in str(error.value)
    with pytest.raises(ValueError):              # a ValidationError is a ValueError, as NumPy's was
        pop.tau[0] = 1.0
    assert pop.r.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    # what is computed from it is a plain array; a copy is writable
    doubled = pop.r * 2 + 1
    assert type(doubled) is np.ndarray and doubled.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert type(pop.r.sum()) is np.float64 and type(pop.r[0]) is ReadOnlyArray
    copy = pop.r.copy()
    copy[0, 0] = 3.0
    pop.r = copy
    assert pop.r.tolist() == [[3.0, 0.0], [0.0, 0.0]]
    # in-place arithmetic assigns a new array
    pop.r += 1.0
    pop.tau *= 3.0
    assert pop.r.tolist() == [[4.0, 1.0], [1.0, 1.0]] and pop.tau.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    view = pop[0, :]
    view.r -= 1.0
    assert pop.r.tolist() == [[3.0, 0.0], [1.0, 1.0]]
    assert repr(pop.r) == "array([[3., 0.],\n       [1., 1.]])"
    restored = pickle.loads(pickle.dumps(pop.r))
    assert type(restored) is np.ndarray and restored.tolist() == pop.r.tolist()


def test_distribution_bounds_in_a_connector_still_work():
    net = Network(seed=2)
    pre = net.create(3, Neuron(parameters="r = 1.0"))
    post = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(pre, post).connect_all_to_all(Uniform(0.0, 1.0))
    assert np.all((np.asarray(proj.w) >= 0) & (np.asarray(proj.w) <= 1))
