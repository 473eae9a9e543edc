"""The rest of the 4.x API the material uses: star import, standard models, seed=, late TimedArray, spiking refusal."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ratenet
from ratenet import (
    Binomial,
    DiscreteUniform,
    Exponential,
    Gamma,
    LogNormal,
    Network,
    Neuron,
    Normal,
    Synapse,
    TimedArray,
    Uniform,
    ValidationError,
    models,
)


def test_star_import_gives_what_annarchy_scripts_use():
    code = ("from ratenet import *\n"
            "x = np.ones(2)\n"
            "assert CSR is LILConnectivity and models.Hebb is Hebb\n"
            "assert [c.__name__ for c in list_standard_synapses()] == ['STP', 'STDP', 'Hebb', 'Oja', 'IBCM']\n"
            "assert IF_curr_exp and STDP and STP and Izhikevich and Uniform and Normal\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_standard_model_lists_follow_annarchy_order():
    assert [c.__name__ for c in ratenet.list_standard_neurons()] == [
        "LeakyIntegrator", "Izhikevich", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha",
        "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista"]
    assert [c.__name__ for c in models.list_standard_synapses()] == ["STP", "STDP", "Hebb", "Oja", "IBCM"]


def test_rate_coded_standard_synapses_given_as_classes_learn():
    net = Network()
    pre = net.create(2, Neuron(parameters="r = 1.0"))
    post = net.create(1, Neuron(parameters="r = 2.0"))
    proj = net.connect(pre, post, "exc", models.Hebb).connect_all_to_all(0.5, force_multiple_weights=True)
    net.step()
    # dw/dt = eta * pre.r * post.r, eta = 0.01, dt = 1: w = 0.5 + 0.01 * 1 * 2
    np.testing.assert_allclose(proj.w, [[0.52, 0.52]])


class TestSpikingModels:
    def test_defined_then_refused_when_used(self):
        spiking = Neuron(parameters="a = 0.02", equations="dv/dt = 0.04 * v^2 - u", spike="v >= 30",
                         reset="v = c", name="Izh")
        rate = Neuron(equations="r = sum(exc)")  # the module's rate-coded parts keep working
        net = Network()
        pop = net.create(2, rate)
        with pytest.raises(ValidationError, match=r"^Population\.neuron: 'Izh' is a spiking model \(it defines "
                                                  r"spike=\); ratenet simulates rate-coded neurons only$"):
            net.create(2, spiking)
        with pytest.raises(ValidationError, match=r"^Population\.neuron: 'IF_curr_exp' is a spiking model"):
            net.create(2, models.IF_curr_exp)
        with pytest.raises(ValidationError, match=r"^Projection\.synapse: 'STDP' is a spiking model \(it defines "
                                                  r"pre_spike=\); ratenet simulates rate-coded synapses only$"):
            net.connect(pop, pop, "exc", models.STDP(tau_plus=20.0))
        net.simulate(1.0)
        assert net.populations == [pop]

    def test_unknown_arguments_stay_errors(self):
        with pytest.raises(ValidationError, match=r"^Neuron\.foo: unknown argument$"):
            Neuron(equations="dv/dt = -v", spike="v > 1", foo=3)
        with pytest.raises(ValidationError, match=r"^Synapse\.bar: unknown argument$"):
            Synapse(pre_spike="g += w", bar=1)


@pytest.mark.parametrize("make, draw", [
    (lambda seed: Uniform(-1.0, 2.0, seed=seed), lambda rng, n: rng.uniform(-1.0, 2.0, n)),
    (lambda seed: DiscreteUniform(-4, -2, seed=seed), lambda rng, n: rng.integers(-4, -2, n, endpoint=True)),
    (lambda seed: Normal(0.5, 2.0, seed=seed), lambda rng, n: rng.normal(0.5, 2.0, n)),
    (lambda seed: LogNormal(0.0, 0.5, seed=seed), lambda rng, n: rng.lognormal(0.0, 0.5, n)),
    (lambda seed: Exponential(2.0, seed=seed), lambda rng, n: rng.exponential(0.5, n)),
    (lambda seed: Gamma(2.0, 3.0, seed=seed), lambda rng, n: rng.gamma(2.0, 3.0, n)),
    (lambda seed: Binomial(10, 0.3, seed=seed), lambda rng, n: rng.binomial(10, 0.3, n)),
])
def test_seed_on_every_distribution(make, draw):
    values = []
    for network_seed in (1, 2):
        net = Network(seed=network_seed)
        pop = net.create(6, Neuron(parameters="x = 0.0"))
        pre = net.create(3, Neuron(parameters="r = 0.0"))
        pop.x = make(56789)
        proj = net.connect(pre, pop, "exc").connect_all_to_all(make(7), storage_format="dense")
        values.append((pop.x.copy(), np.array(proj.w)))
    np.testing.assert_array_equal(values[0][0], values[1][0])  # the network's seed plays no part
    np.testing.assert_allclose(values[0][0], draw(np.random.default_rng(56789), 6))
    np.testing.assert_allclose(values[0][1].reshape(-1), draw(np.random.default_rng(7), 18))


def test_rng_argument_and_seed_errors():
    rng = np.random.default_rng(3)
    np.testing.assert_allclose(Uniform(0.0, 1.0, rng=rng).sample(2), np.random.default_rng(3).uniform(0.0, 1.0, 2))
    with pytest.raises(ValidationError, match=r"^Normal\.seed: must be a non-negative integer or None \(got -1\)$"):
        Normal(0.0, 1.0, seed=-1)
    with pytest.raises(ValidationError, match=r"^Uniform\.rng: must be a numpy.random.Generator or None \(got 3\)$"):
        Uniform(0.0, 1.0, rng=3)
    with pytest.raises(ValidationError, match=r"^Uniform\.seed: give seed \(ANNarchy 4\) or rng \(ANNarchy 5\), "
                                              r"not both \(got 1\)$"):
        Uniform(0.0, 1.0, seed=1, rng=rng)


class TestTimedArrayWithoutRates:
    def test_rates_given_later_replay_like_rates_given_first(self):
        inputs = np.eye(10)
        results = []
        for late in (False, True):
            net = Network()
            if late:
                inp = TimedArray(geometry=10, network=net)
                inp.update(inputs, schedule=2.0, period=20.0)
            else:
                inp = TimedArray(inputs, schedule=2.0, period=20.0, network=net)
            trace = []
            for _ in range(25):
                net.step()
                trace.append(inp.r.copy())
            results.append(np.array(trace))
        np.testing.assert_array_equal(results[0], results[1])
        # by hand: rates[k] from step 2k, period 20 steps
        np.testing.assert_array_equal(results[1][:, 0], [1, 1] + [0] * 18 + [1, 1, 0, 0, 0])

    def test_before_update_r_stays_zero_and_update_after_running(self):
        net = Network()
        inp = TimedArray(geometry=(2, 2), name="Input", network=net)
        net.simulate(3.0)
        assert inp.r.tolist() == [[0.0, 0.0], [0.0, 0.0]]
        inp.update(np.arange(16.0).reshape(4, 2, 2))  # one array per step, indexed by the step
        net.step()
        assert inp.r.tolist() == [[12.0, 13.0], [14.0, 15.0]]

    def test_without_rates_or_geometry(self):
        with pytest.raises(ValidationError, match=r"^TimedArray\.rates: are needed to deduce the geometry: give "
                                                  r"rates, or a geometry and the rates later with update\(rates\)$"):
            TimedArray()


def test_assignment_accepts_extra_axes_of_length_one():
    net = Network()
    pop = net.create((17, 17), Neuron(parameters="r = 0.0"))
    values = np.random.default_rng(0).random((1, 289))
    pop.r = values  # as ANNarchy's tests do
    np.testing.assert_array_equal(pop.r, values.reshape(17, 17))
    pop.r = values.reshape(17, 17, 1)
    np.testing.assert_array_equal(pop.r.reshape(-1), values.reshape(-1))
    other = net.create((4, 5), Neuron(parameters="r = 0.0"))
    with pytest.raises(ValidationError, match=r"r: expected a number or an array of shape \(4, 5\) or \(20,\) "
                                              r"\(got shape \(5, 4\)\)"):
        other.r = np.ones((5, 4))  # the same size but another layout: a mistake, not reshaped


def test_a_timed_array_given_its_rates_late_copies_with_them():
    original = TimedArray(geometry=3, network=Network())
    original.update(np.eye(3), schedule=2.0)
    net = Network()
    net.add(original)  # ANNarchy 4.x: the network holds a copy
    copy = net.get(original)
    trace = []
    for _ in range(6):
        net.step()
        trace.append(copy.r.tolist())
    # by hand: rates[k] from step 2k
    assert trace == [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]


def test_an_equation_may_continue_on_a_line_that_assigns_nothing():
    """ANNarchy appends a line without assignment (and its flags) to the equation before it."""
    split = Neuron(parameters="tau = 10.0\nb = 0.5", equations="""
        tau * dv/dt + v = 2.0 * b
                          + 1.0 : implicit
        r = pos(v)
    """)
    joined = Neuron(parameters="tau = 10.0\nb = 0.5",
                    equations="tau * dv/dt + v = 2.0 * b + 1.0 : implicit\nr = pos(v)")
    assert [e.text for e in split.equations] == [e.text.replace("  ", " ") for e in joined.equations]
    assert split.equations[0].method == "implicit"
    results = []
    for model in (split, joined):
        net = Network()
        pop = net.create(2, model)
        net.simulate(5.0)
        results.append(pop.r.copy())
    np.testing.assert_array_equal(results[0], results[1])
    # implicit Euler by hand: v <- (v + dt * 2 / tau) / (1 + dt / tau), five times from 0
    v = 0.0
    for _ in range(5):
        v = (v + 2.0 / 10.0) / (1.0 + 1.0 / 10.0)
    np.testing.assert_allclose(results[0], [v, v])
    with pytest.raises(ratenet.EquationError, match=r"line 2: expected 'x = expression'"):
        Neuron(equations="r = 1 : min=0\n+ 2")  # the line before has flags: not a continuation
