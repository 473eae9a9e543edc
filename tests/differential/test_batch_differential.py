"""A batched network equals B separate unbatched runs, sample by sample.

Each example is a random network of :mod:`netgen` (every connector, dense and
sparse storage, delays, views, custom psp and operations, Convolution,
Pooling, Copy/Transpose, TimedArray inputs, monitors, reset, save/load),
rewritten so that every sample gets inputs and parameters of its own: the
values a script assigns to populations (input rates, variables, local and
population-level parameters, TimedArray sequences) are multiplied by a factor
of the sample (1, 1.25, 1.5...).  The same script runs once with
``Network(batch=B)`` and B times unbatched with that sample's factor; the
weights, kernels and connectivity are shared (drawn from the same generators).

Reference mode (``Network(reference=True, batch=B)``) must give the unbatched
reference runs' numbers bit for bit.  The optimised batched plan too, except
where a dense projection does one BLAS matrix-matrix product for the batch:
such a product does not add in the order of B matrix-vector products, so
there the comparison allows a relative 1e-9 (float64) or 1e-3 (float32) of
the array's scale (measured: ~1e-15 per product, grown by the dynamics over a
few steps); networks without dense products must agree bit for bit.

Learning synapses keep one set of synaptic values per sample in a batch: sample
``b``'s values of such a projection are compared with the b-th run's, bit for
bit (each sample runs the unbatched rule and product over its own weights).

Left out: structural plasticity (a batch refuses it with learning), distributions
assigned to populations (sample ``b`` of a batch draws from its own
generator, an unbatched network from its only one: they cannot agree; see
``test_random_draws_depend_on_the_sample_only``).
"""

from __future__ import annotations

import os
import re

import numpy as np
from hypothesis import HealthCheck, event, given, note, settings
from netgen import deferred_keys, descriptions, differences, execute_source, render

from ratenet import Network, Neuron

EXAMPLES = int(os.environ.get("RATENET_BATCH_EXAMPLES", "60"))
BATCH = 3
FACTORS = [1.0 + 0.25 * b for b in range(BATCH)]

_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much, HealthCheck.large_base_example])

_UNIFORM = re.compile(r"Uniform\(([-0-9.e]+), ([-0-9.e]+)\)")


def _middle(match: re.Match[str]) -> str:
    return repr((float(match.group(1)) + float(match.group(2))) / 2)


def per_sample(desc, build: str, steps: list[str]) -> tuple[str, list[str]]:
    """The script with ``PS(...)``/``PT(...)`` around every value assigned to a population.

    ``PS`` multiplies by the sample's factor (with a batch: one row per sample),
    ``PT`` does it for a TimedArray's sequence (steps first).
    """
    pops = {p.name for p in desc.pops}
    lines = []
    for line in build.splitlines():
        if "Neuron(parameters=" in line or "LeakyIntegrator(" in line:
            line = _UNIFORM.sub(_middle, line)  # a per-neuron distribution: one value
        match = re.match(r"^(\w+)\.r = (rng\.uniform\(.*\))$", line)
        if match and match.group(1) in pops:
            line = f"{match.group(1)}.r = PS({match.group(2)})"
        line = re.sub(r"TimedArray\((rng\.uniform\(0\.0, 1\.0, \(3,\) \+ \([^)]*\)\)),", r"TimedArray(PT(\1),",
                      line)
        lines.append(line)
    out = []
    for code in steps:
        owner = re.match(r"^(\w+)[\[.]", code)
        if owner and owner.group(1) in pops and " = " in code:
            target, _, value = code.partition(" = ")
            value = _UNIFORM.sub(_middle, value)
            model = desc.model(desc.pop(owner.group(1)).model)
            shared = model is not None and target.rpartition(".")[2] in dict(model.population_parameters)
            if value.startswith("rng.") or shared:  # an array, or a population-level value: one per sample
                value = f"PS({value})"
            code = f"{target} = {value}"
        out.append(code)
    return "\n".join(lines) + "\n", out


def _factory(batch: int | None, reference: bool):
    def make(**kwargs):
        kwargs.pop("num_threads", None)
        return Network(batch=batch, reference=reference, **kwargs)
    return make


def _helpers(ns_batch: int | None, sample: int = 0) -> str:
    if ns_batch is None:
        factor = FACTORS[sample]
        return (f"def PS(x):\n    return np.asarray(x) * {factor!r}\n\n"
                f"def PT(x):\n    return np.asarray(x) * {factor!r}\n")
    return (f"_F = np.array({FACTORS[:ns_batch]!r})\n"
            "def PS(x):\n    x = np.asarray(x)\n    return x[None] * _F.reshape((-1,) + (1,) * x.ndim)\n\n"
            "def PT(x):\n    x = np.asarray(x)\n    return x[:, None] * _F.reshape((1, -1) + (1,) * (x.ndim - 1))\n")


def _sample_of(state: dict[str, np.ndarray], sample: int, pops: set[str], monitors: set[str],
               learning: set[str] = frozenset()) -> dict:
    out = {}
    for key, value in state.items():
        owner = key.partition(".")[0]
        if owner in learning:  # one set of synaptic values per sample
            out[key] = value[sample]
        elif owner in pops:
            # a population-level value: one per sample in the batch's dtype, a Python number unbatched
            out[key] = value[sample] if value.ndim > 1 else np.array(value[sample].item())
        elif owner in monitors:
            out[key] = value[:, sample] if value.ndim > 1 else value
        else:
            out[key] = value
    return out


def run_batched_and_separately(desc, reference: bool) -> tuple[list[str], bool]:
    """Every difference between sample b of the batched run and the b-th unbatched run; whether a dense
    product ran for the batch."""
    pops = {p.name for p in desc.pops}
    monitors = {m.name for m in desc.monitors}
    learning = {p.name for p in desc.projs if p.plastic}
    build, steps = per_sample(desc, *render(desc))
    dense = []

    def inspect(net) -> None:
        dense.append(any("TransmitDenseBatch" in line and "per sample" not in line for line in net.step_order))

    batched = execute_source(_helpers(BATCH) + build, steps, _factory(BATCH, reference), inspect)
    found: list[str] = []
    inexact = any(dense)
    rtol = None if not inexact else (1e-3 if desc.dtype == "float32" else 1e-9)
    for b in range(BATCH):
        # an unbatched run may add a trace lazily (a batch never does): those values agree within their tolerance
        loose: dict[str, float] = {}
        alone = execute_source(_helpers(None, b) + build, steps, _factory(None, reference),
                               lambda net, loose=loose: loose.update(deferred_keys(net)))
        got = [_sample_of(state, b, pops, monitors, learning) for state in batched]
        found += [f"sample {b}: {line}" for line in differences(desc.actions, got, alone, rtol=rtol, loose=loose)]
        if found:
            break
    return found, inexact


# Promotions stay out: the per-sample rewrite of a script gives a number B values, which a promoted
# (local) parameter of a view of B neurons reads as one per neuron (tests/test_parameter_locality.py
# covers batched promotion with explicit shapes).
_batch_descriptions = descriptions(max_populations=3, max_projections=5).filter(
    lambda d: not any("pruning=" in line for p in d.projs for line in p.lines)
    and not any(a.kind == "promote" for a in d.actions))


@_settings
@given(_batch_descriptions)
def test_reference_batch_equals_separate_reference_runs_bit_for_bit(desc):
    note(render(desc)[0])
    found, _ = run_batched_and_separately(desc, reference=True)
    assert not found, "a batched reference run differs from the separate runs:\n" + "\n".join(found[:10])


@_settings
@given(_batch_descriptions)
def test_batch_equals_separate_runs(desc):
    note(render(desc)[0])
    found, inexact = run_batched_and_separately(desc, reference=False)
    event("a dense product for the batch (tolerance)" if inexact else "bit for bit")
    assert not found, "a batched run differs from the separate runs:\n" + "\n".join(found[:10])


def test_harness_sees_a_sample_that_differs():
    """The comparison is not blind: a sample given another input is found."""
    build = ("net = Network(seed=1)\ninp = net.create(3, Neuron(parameters='r = 0.0'), name='inp')\n"
             "inp.r = PS(rng.uniform(0.0, 1.0, (3,)))\n"
             "p = net.create(3, Neuron(equations='r = sum(exc)'), name='p')\n"
             "net.connect(inp, p, 'exc', name='c').connect_one_to_one(1.0)\nnet.compile()\n")
    head = "rng = np.random.default_rng(0)\n"
    batched = execute_source(_helpers(BATCH) + head + build, ["net.simulate(2.0)"], _factory(BATCH, False))
    alone = execute_source(_helpers(None, 0) + head + build, ["net.simulate(2.0)"], _factory(None, False))
    got = [_sample_of(state, 1, {"inp", "p"}, set()) for state in batched]  # sample 1 against run 0
    found = differences(["net.simulate(2.0)"], got, alone)
    assert found and "inp.r differs" in found[0]


def test_random_draws_depend_on_the_sample_only():
    """A sample's draws (initial values, assignments, equations) depend on the seed and its index, not on B."""
    def run(batch):
        net = Network(seed=7, batch=batch)
        pop = net.create(4, Neuron(parameters="b = Uniform(0, 1)", equations="r = b + Normal(0, 1)"))
        net.simulate(3.0)
        return pop.r, pop.b

    r2, b2 = run(2)
    r5, b5 = run(5)
    assert np.array_equal(r2, r5[:2]) and np.array_equal(b2, b5[:2])
    assert not np.array_equal(r5[0], r5[1])  # independent samples
    # sample b draws from child b of the seed's SeedSequence
    child = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[1])
    assert np.array_equal(b2[1], child.uniform(0, 1, 4))
    assert Network(batch=3).create(2, Neuron(parameters="r = 0.0")).r.shape == (3, 2)
