"""The plan's generated loop with work taken in: a ring of one-to-one projections, inlined updates.

The optimised plan multiplies slices of pre's array for one-to-one gathers over
consecutive columns, takes generated updates into its loop (reading their
namespace at the start of each run, numbers passed to ufuncs as 0-d arrays), and
sets the time only when something in the step reads it.  Each test compares
with ``Network(reference=True)`` (none of this), bit for bit, or with a value
worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from ratenet import Network, Neuron


def ring(reference: bool, n: int = 4, size: int = 5, closed: bool = True, dtype=np.float64,
         equations: str = "tau * dr/dt + r = sum(exc) + 0.1") -> tuple[Network, list]:
    net = Network(reference=reference, dtype=dtype)
    neuron = Neuron(parameters="tau = 10.0 : population", equations=equations)
    pops = [net.create(size, neuron, name=f"p{i}") for i in range(n)]
    for i, pop in enumerate(pops):
        pop.r = np.linspace(-1.0, 1.0, size) * (i + 1)
    for i in range(n if closed else n - 1):
        net.connect(pops[i], pops[(i + 1) % n], "exc", name=f"c{i}").connect_one_to_one(0.5 + 0.25 * i)
    return net, pops


def bits(pops: list) -> list[bytes]:
    return [pop.r.tobytes() + pop.sum("exc").tobytes() for pop in pops]


@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ring_equals_the_reference_bit_for_bit(closed, dtype):
    (net, pops), (ref, ref_pops) = ring(False, closed=closed, dtype=dtype), ring(True, closed=closed, dtype=dtype)
    for duration in (1.0, 7.0, 3.0):
        net.simulate(duration)
        ref.simulate(duration)
        assert bits(pops) == bits(ref_pops)
    assert any("(one sparse product)" in line for line in net.step_order)


def test_ring_inputs_are_products_of_slices_not_a_gather():
    net, pops = ring(False, n=10, size=100)
    fused = net.plan.operators[0]
    assert type(fused).__name__ == "TransmitFusedGather"
    assert fused.pieces is not None and len(fused.pieces) == 2  # the wrap-around, then the rest
    net.simulate(1.0)
    previous = [pop.r.copy() for pop in pops]
    net.simulate(1.0)
    for i, pop in enumerate(pops):  # by hand: sum(exc) = w * pre.r as it was at the end of the last step
        np.testing.assert_array_equal(pop.sum("exc"), (0.5 + 0.25 * ((i - 1) % 10)) * previous[i - 1])


def test_many_stretches_fall_back_to_one_gather():
    from ratenet.plan.operators import TransmitGather

    columns = np.arange(40)[::-1].copy()  # every row its own stretch
    out = np.empty(40)
    op = TransmitGather("g", np.full(40, 2.0), columns, np.arange(40.0), out, (), (), stretches=True)
    assert op.pieces is None
    op()
    np.testing.assert_array_equal(out, 2.0 * np.arange(40.0)[::-1])


def test_a_parameter_set_between_runs_reaches_the_inlined_update():
    (net, pops), (ref, ref_pops) = ring(False), ring(True)
    for network, populations in ((net, pops), (ref, ref_pops)):
        network.simulate(3.0)
        for pop in populations:
            pop.tau = 2.5
        network.simulate(3.0)
    assert bits(pops) == bits(ref_pops)
    # by hand: one more step with tau = 2.5
    before = [pop.r.copy() for pop in pops]
    inputs = [0.5 + 0.25 * ((i - 1) % 4) for i in range(4)]
    net.simulate(1.0)
    for i, pop in enumerate(pops):
        expected = before[i] + (inputs[i] * before[i - 1] + 0.1 - before[i]) / 2.5
        np.testing.assert_array_equal(pop.r, expected)


def test_an_array_set_between_runs_reaches_the_inlined_update():
    (net, pops), (ref, ref_pops) = ring(False), ring(True)
    for network, populations in ((net, pops), (ref, ref_pops)):
        network.simulate(2.0)
        populations[1].r = np.arange(5.0)
        network.simulate(2.0)
    assert bits(pops) == bits(ref_pops)


def test_an_update_reading_the_time_sees_each_step_and_the_time_is_kept_after_a_run():
    net, pops = ring(False, equations="r = t + 0 * sum(exc)")
    net.simulate(4.0)
    assert pops[0].r.tolist() == [3.0] * 5  # written during the last step, t = 3
    assert float(net.registry.clock.t) == 3.0


def test_the_time_is_left_at_the_last_step_when_nothing_reads_it():
    net, _ = ring(False)
    net.simulate(4.0)
    assert float(net.registry.clock.t) == 3.0 and net.get_current_step() == 4
    net.simulate(0.0)
    assert float(net.registry.clock.t) == 3.0


def test_the_inlined_update_of_the_optimised_plan_and_the_call_of_the_reference():
    net, _ = ring(False)
    ref, _ = ring(True)
    assert net.plan.operators[-1].inline() is not None
    assert all(op.inline() is None for op in ref.plan.operators if type(op).__name__ == "UpdateBlock")


def test_weights_set_between_runs_reach_the_ring_when_they_stop_being_equal():
    (net, pops), (ref, ref_pops) = ring(False, n=4, size=5), ring(True, n=4, size=5)
    for network in (net, ref):
        network.simulate(2.0)
        network.get_projection("c1").w = np.linspace(-1.0, 1.0, 5)
        network.simulate(2.0)
        network.get_projection("c1").w = 0.25
        network.simulate(2.0)
    assert bits(pops) == bits(ref_pops)
    fused = net.plan.operators[0]
    assert [np.ndim(factor) for factor in fused.factors.values()] == [0, 1]  # c3 alone, then c0-c2 (c1: 0.25)


def test_an_error_in_the_middle_of_a_run_leaves_the_step_and_the_time_of_the_failing_step():
    net, pops = ring(False, equations="tau * dr/dt + r = sum(exc) / (3.0 - t)")
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        net.simulate(10.0)  # divides by zero at t = 3
    assert net.get_current_step() == 3 and float(net.registry.clock.t) == 3.0


def test_an_error_in_a_step_that_does_not_read_the_time_leaves_the_same_step_and_time():
    net, pops = ring(False)
    net.simulate(3.0)
    for pop in pops:
        pop.tau = 0.0
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        net.simulate(10.0)  # the first step of the run divides by zero
    assert net.get_current_step() == 3 and float(net.registry.clock.t) == 3.0
