"""The reference mode (and the optimised mode) against a hand-written NumPy loop.

The differential tests compare the optimised plan with the reference mode; this
file proves the reference mode itself against something that shares no code
with ratenet: small random networks of ``r = sum(exc) - sum(inh)`` and leaky
integrators (every integration method), dense and sparse weights, uniform and
per-synapse delays, inputs changed between runs, simulated with a plain loop
that follows DESIGN.md sections 3 and 4 step by step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import optimised_network, reference_network

from ratenet import Neuron

METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4")


@dataclass
class Group:
    """A population: an input (``kind`` "input"), ``r = sum(exc) - sum(inh)`` ("linear") or a leaky integrator."""

    kind: str
    size: int
    method: str = ""
    tau: float = 1.0
    bias: np.ndarray | None = None
    clamp: bool = False


@dataclass
class Link:
    pre: int
    post: int
    target: str
    weights: np.ndarray  # (post, pre); NaN marks a missing synapse
    delays: np.ndarray | float  # ms: one number or one per synapse, like weights
    storage: str | None


@st.composite
def networks(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    dt = draw(st.sampled_from([1.0, 0.5, 0.1]))
    groups = [Group("input", draw(st.integers(1, 8))) for _ in range(draw(st.integers(1, 2)))]
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 8))
        if draw(st.booleans()):
            groups.append(Group("linear", size, clamp=draw(st.booleans())))
        else:
            groups.append(Group("leaky", size, draw(st.sampled_from(METHODS)), draw(st.sampled_from([2.0, 5.0])),
                                rng.uniform(-0.5, 0.5, size)))
    links = []
    for _ in range(draw(st.integers(1, 6))):
        pre = draw(st.integers(0, len(groups) - 1))
        post = draw(st.integers(sum(g.kind == "input" for g in groups), len(groups) - 1))
        shape = (groups[post].size, groups[pre].size)
        weights = rng.uniform(-1.0, 1.0, shape) / math.sqrt(shape[1])
        if draw(st.booleans()):
            weights[rng.random(shape) < 0.5] = np.nan
        kind = draw(st.sampled_from(["none", "uniform", "per synapse"]))
        delays = {"none": 0.0, "uniform": dt * draw(st.integers(1, 3)),
                  "per synapse": dt * rng.integers(0, 4, shape).astype(float)}[kind]
        links.append(Link(pre, post, draw(st.sampled_from(["exc", "inh"])), weights, delays,
                          draw(st.sampled_from([None, "dense", "csr"]))))
    runs = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    inputs = [[rng.uniform(0.0, 1.0, g.size) for g in groups if g.kind == "input"] for _ in runs]
    return dt, groups, links, runs, inputs


# ---------------------------------------------------------------------------
# the NumPy loop


def leaky_step(r: np.ndarray, drive: np.ndarray, tau: float, dt: float, method: str) -> np.ndarray:
    """One step of ``tau * dr/dt + r = drive`` (DESIGN.md section 4)."""
    def f(x):
        return (drive - x) / tau

    if method == "explicit":
        return r + dt * f(r)
    if method == "midpoint":
        return r + dt * f(r + dt * f(r) / 2)
    if method == "rk4":
        k1 = f(r)
        k2 = f(r + dt * k1 / 2)
        k3 = f(r + dt * k2 / 2)
        k4 = f(r + dt * k3)
        return r + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    if method == "implicit":  # backward Euler: r' = r + dt * (drive - r') / tau
        return (r + dt * drive / tau) / (1 + dt / tau)
    h = dt / tau
    if method == "semiimplicit":
        return r + h / (h + 1) * (drive - r)
    return r + (1 - math.exp(-dt / tau)) * (drive - r)  # exponential


def numpy_run(dt, groups, links, runs, inputs) -> list[list[np.ndarray]]:
    """The rates of every population after each run, by the exact step of DESIGN.md section 3."""
    rates = [np.zeros(g.size) for g in groups]
    past: list[list[np.ndarray]] = []  # past[m]: every population's rate at the end of step m

    def at(group: int, step: int) -> np.ndarray:
        """The rate at the end of ``step``; before step 0, the rate when the run started (compile time)."""
        return past[step][group] if step >= 0 else initial[group]

    initial: list[np.ndarray] = []
    results = []
    n = 0
    for run, values in zip(runs, inputs, strict=True):
        # inputs set from Python replace the value at the end of the last step
        inputs_at = [i for i, g in enumerate(groups) if g.kind == "input"]
        for i, value in zip(inputs_at, values, strict=True):
            rates[i] = value.copy()
            if past:
                past[-1][i] = value.copy()
        if not initial:
            initial = [r.copy() for r in rates]
        for _ in range(run):
            sums = [{"exc": np.zeros(g.size), "inh": np.zeros(g.size)} for g in groups]  # phase 1
            for link in links:  # phase 2: the rates of the end of step n - d
                w = np.nan_to_num(link.weights, nan=0.0)
                steps = np.maximum(1, np.rint(np.asarray(link.delays) / dt)).astype(int)
                if steps.ndim == 0:
                    sums[link.post][link.target] += w @ at(link.pre, n - int(steps))
                else:
                    delayed = np.array([[at(link.pre, n - steps[i, j])[j] for j in range(w.shape[1])]
                                        for i in range(w.shape[0])]).reshape(w.shape)
                    sums[link.post][link.target] += (w * delayed).sum(axis=1)
            for i, g in enumerate(groups):  # phase 3
                drive = sums[i]["exc"] - sums[i]["inh"]
                if g.kind == "linear":
                    rates[i] = np.maximum(drive, 0.0) if g.clamp else drive
                elif g.kind == "leaky":
                    rates[i] = leaky_step(rates[i], drive + g.bias, g.tau, dt, g.method)
            past.append([r.copy() for r in rates])
            n += 1
        results.append([r.copy() for r in rates])
    return results


# ---------------------------------------------------------------------------
# the same network in ratenet


def ratenet_run(factory, dt, groups, links, runs, inputs) -> list[list[np.ndarray]]:
    net = factory(dt=dt)
    linear = Neuron(equations="r = sum(exc) - sum(inh)")
    clamped = Neuron(equations="r = sum(exc) - sum(inh) : min=0.0")
    leaky = {method: Neuron(parameters="tau = 1.0 : population\nb = 0.0",
                            equations=f"tau * dr/dt + r = sum(exc) - sum(inh) + b : {method}")
             for method in METHODS}  # one object per method: same-method populations are stacked
    pops = []
    for g in groups:
        if g.kind == "input":
            pops.append(net.create(g.size, Neuron(parameters="r = 0.0")))
        elif g.kind == "linear":
            pops.append(net.create(g.size, clamped if g.clamp else linear))
        else:
            pop = net.create(g.size, leaky[g.method])
            pop.tau, pop.b = g.tau, g.bias
            pops.append(pop)
    for link in links:
        weights = np.where(np.isnan(link.weights), None, link.weights)
        delays = link.delays if np.ndim(link.delays) == 0 else \
            np.where(np.isnan(link.weights), None, link.delays)
        net.connect(pops[link.pre], pops[link.post], link.target).connect_from_matrix(
            weights, delays=delays, storage_format=link.storage)
    results = []
    for run, values in zip(runs, inputs, strict=True):
        for pop, value in zip([p for p, g in zip(pops, groups, strict=True) if g.kind == "input"], values, strict=True):
            pop.r = value
        net.simulate(run * dt)
        results.append([pop.r for pop in pops])
    return results


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(networks())
def test_both_modes_follow_the_numpy_loop(network):
    expected = numpy_run(*network)
    for factory in (reference_network, optimised_network):
        got = ratenet_run(factory, *network)
        for run, (rates, wanted) in enumerate(zip(got, expected, strict=True)):
            for i, (a, b) in enumerate(zip(rates, wanted, strict=True)):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12,
                                           err_msg=f"{factory.__name__}, population {i}, after run {run}")


def test_the_numpy_loop_knows_the_closed_form():
    """The loop itself: a constant drive relaxes as the closed form of each method says."""
    tau, dt, drive, steps = 5.0, 0.5, 2.0, 12
    factor = {"explicit": 1 - dt / tau, "implicit": 1 / (1 + dt / tau), "semiimplicit": 1 - (dt / tau) / (1 + dt / tau),
              "exponential": math.exp(-dt / tau),
              "midpoint": 1 - dt / tau + (dt / tau) ** 2 / 2,
              "rk4": sum((-dt / tau) ** k / math.factorial(k) for k in range(5))}
    for method, decay in factor.items():
        r = np.zeros(1)
        for _ in range(steps):
            r = leaky_step(r, np.full(1, drive), tau, dt, method)
        np.testing.assert_allclose(r, drive * (1 - decay ** steps), rtol=1e-13, err_msg=method)


def test_the_numpy_loop_delays_and_replaces_like_the_design_says():
    """A two-step delay reads the compile-time value until step 2; a value set between runs is read at once."""
    groups = [Group("input", 1), Group("linear", 1)]
    links = [Link(0, 1, "exc", np.ones((1, 1)), 2.0, None)]
    results = numpy_run(1.0, groups, links, [1, 1, 1, 2], [[np.array([v])] for v in (1.0, 2.0, 3.0, 4.0)])
    # steps 0 and 1 read the compile-time value 1; step 2 reads the end of step 0, which the second run
    # replaced by 2; step 3 (not shown) the end of step 1, replaced by 3; step 4 the end of step 2, replaced by 4
    assert [r[1].item() for r in results] == [1.0, 1.0, 2.0, 4.0]
