"""Tests of the step plan's operators, the state records they read, and the reference mode.

The reference plan (``Network(reference=True)``: one update per population, one product per
projection, nothing stacked, fused, skipped or threaded) is the independent reading each
optimisation is compared with, bit for bit (``tobytes``, so even the sign of a zero counts).
Sums are also checked against values computed by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import ratenet
from ratenet import Hebb, Monitor, Network, Neuron, Synapse, TimedArray, Uniform, ValidationError
from ratenet.plan.operators import (
    AddInputs,
    CheckFinite,
    InParallel,
    Learn,
    PushHistory,
    Record,
    Replay,
    SkipUnchanged,
    SumInputs,
    TransmitDense,
    TransmitFusedGather,
    TransmitGather,
    TransmitKernel,
    TransmitPsp,
    TransmitSparse,
    UpdateBlock,
)
from ratenet.projections import Convolution, Copy, Pooling, Transpose


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


INPUT = Neuron(parameters="r = 0.0")


def kinds(net: Network) -> list[str]:
    """The class of every operator, looking through the skipping wrapper."""
    out = []
    for op in net.plan.operators:
        inner = op.operator if isinstance(op, SkipUnchanged) else op
        out.extend(type(o).__name__ for o in (inner.operators if isinstance(inner, InParallel) else [inner]))
    return out


def unwrapped(net: Network, cls: type) -> list:
    ops = [op.operator if isinstance(op, SkipUnchanged) else op for op in net.plan.operators]
    return [op for op in ops if isinstance(op, cls)]


# =========================================================================== operators
def test_step_order_names_one_operator_class_per_kind_of_work():
    net = Network(seed=1)
    net.setup(check_finite=True)
    a = net.create(6, INPUT, name="a")
    leaky = Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = sum(exc) + sum(inh)")
    b, c = net.create(6, leaky, name="b"), net.create(6, leaky, name="c")
    img = net.create((4, 4), INPUT, name="img")
    d = net.create((4, 4), Neuron(equations="r = sum(exc)"), name="d")
    net.connect(a, b, "exc", name="dense").connect_all_to_all(0.1, storage_format="dense")
    net.connect(a, b, "inh", name="one_b").connect_one_to_one(0.5)
    net.connect(a, c, "inh", name="one_c").connect_one_to_one(0.5)
    net.connect(a, c, "exc", name="sparse").connect_fixed_probability(0.5, 0.2, storage_format="csr")
    net.connect(Convolution(img, d, "exc", name="conv")).connect_filter(np.ones((3, 3)))
    net.connect(a, b, "psp", Synapse(psp="w * pre.r * pre.r"), name="square").connect_one_to_one(1.0, delays=2.0)
    net.connect(a, c, "learn", Hebb(eta=0.01), name="hebb").connect_all_to_all(0.1)
    TimedArray(np.ones((3, 2)), network=net, name="timed")
    net.monitor(b, "r", name="watch")
    found = set(kinds(net))
    assert {"TransmitDense", "TransmitSparse", "TransmitFusedGather", "TransmitKernel", "TransmitPsp", "UpdateBlock",
            "Replay", "PushHistory", "Learn", "Record", "CheckFinite"} <= found
    lines = net.step_order
    assert any(line.startswith("one_b+one_c:") and "one sparse product" in line for line in lines)
    assert any(line.startswith("b+c: tau * dr/dt") for line in lines)  # b and c stacked
    assert any(line.startswith("a: keep r for delayed projections (2 steps)") for line in lines)
    assert any(line.startswith("hebb: learning") for line in lines)
    assert any(line.startswith("watch: record r") for line in lines)


def test_operators_declare_what_they_read_and_write():
    net = Network()
    a = net.create(3, INPUT, name="a")
    b = net.create(3, Neuron(equations="r = sum(exc) : min=0.0"), name="b")
    net.connect(a, b, "exc", name="ab").connect_all_to_all(1.0, storage_format="dense")
    dense, = unwrapped(net, TransmitDense)
    assert [s.label(k) for s, k in dense.reads] == ["ab.w", "a.r"]
    assert [s.label(k) for s, k in dense.sets] == ["b.sum(exc)"]
    update, = unwrapped(net, UpdateBlock)
    assert [s.label(k) for s, k in update.reads] == ["b.sum(exc)"]
    assert [s.label(k) for s, k in update.sets] == ["b.r"]
    text = dense.describe()
    assert "reads: ab.w, a.r" in text and "sets: b.sum(exc)" in text


def test_stateful_updates_increment_and_are_never_skipped():
    net = Network()
    pop = net.create(2, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"), name="leaky")
    update, = net.plan.operators
    assert isinstance(update, UpdateBlock) and update.always
    assert [s.label(k) for s, k in update.incs] == ["leaky.r"] and not update.sets
    net.simulate(3.0)
    assert pop.r[0] == pytest.approx(1 - 0.9 ** 3)


def test_operators_downstream_of_changing_values_are_not_wrapped():
    """A pure population reading an ODE population changes at every step: checking versions there would
    cost time for nothing, so neither its input nor its update is wrapped."""
    net = Network()
    leaky = net.create(2, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"), name="leaky")
    pure = net.create(2, Neuron(equations="r = sum(exc)"), name="pure")
    static = net.create(2, INPUT, name="static")
    other = net.create(2, Neuron(equations="r = 2 * sum(exc)"), name="other")
    net.connect(leaky, pure, name="moving").connect_one_to_one(1.0)
    net.connect(static, other, name="still").connect_one_to_one(1.0)
    lines = {line.split(":")[0]: line for line in net.step_order}
    assert "skipped" not in lines["moving"] and "skipped" not in lines["pure"]
    assert "skipped" in lines["still"] and "skipped" in lines["other"]
    assert leaky.size == pure.size


def test_a_skipped_transmission_is_not_called_until_its_input_changes():
    net = Network()
    a = net.create(4, INPUT, name="a")
    b = net.create(4, Neuron(equations="r = sum(exc)"), name="b")
    net.connect(a, b, name="ab").connect_all_to_all(0.5, storage_format="dense")
    wrapper = next(op for op in net.plan.operators if isinstance(op, SkipUnchanged)
                   and isinstance(op.operator, TransmitDense))
    calls = []
    work = wrapper.work
    wrapper.work = lambda: (calls.append(1), work())
    net.simulate(5.0)
    assert len(calls) == 1                       # the first step, then nothing changed
    a.r = [1.0, 2.0, 3.0, 4.0]
    net.simulate(5.0)
    assert len(calls) == 2 and b.r.tolist() == [5.0] * 4


def test_a_stacked_pure_block_marks_only_members_whose_inputs_changed():
    """One member of a stacked pure block is driven by an ODE population, the other by a static input:
    the block runs every step, but the static member's readers are still skipped."""
    net = Network()
    drive = net.create(3, Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = 1.0"), name="drive")
    still = net.create(3, INPUT, name="still")
    still.r = 2.0
    model = Neuron(equations="r = sum(exc)")
    moved, calm = net.create(3, model, name="moved"), net.create(3, model, name="calm")
    out = net.create(3, Neuron(equations="r = 10 * sum(exc)"), name="out")
    net.connect(drive, moved).connect_one_to_one(1.0)
    net.connect(still, calm).connect_one_to_one(1.0)
    net.connect(calm, out, name="calm_out").connect_all_to_all(1.0, storage_format="dense")
    line = next(line for line in net.step_order if line.startswith("moved+calm:"))
    assert "only where what they read changed" in line
    wrapper = next(op for op in net.plan.operators if op.label.startswith("calm_out:"))
    calls = []
    work = wrapper.work
    wrapper.work = lambda: (calls.append(1), work())
    net.simulate(10.0)
    assert len(calls) == 2  # calm's rate reaches it at step 1 and is final from then on
    assert out.r.tolist() == [60.0] * 3


# ===================================================================== state records
def test_every_write_from_python_bumps_the_version_of_what_it_wrote():
    net = Network()
    pop = net.create((2, 2), Neuron(parameters="tau = 1.0 : population\ng = 1.0", equations="r = g * sum(exc)"))
    src = net.create(4, INPUT)
    proj = net.connect(src, pop).connect_all_to_all(0.5)
    state, pstate = net.registry.state(pop), net.registry.state(proj)

    def bumped(record, key, action):
        before = record.version(key)
        action()
        return record.version(key) > before

    assert bumped(state, "r", lambda: setattr(pop, "r", 1.0))
    assert bumped(state, "r", lambda: setattr(pop[0, :], "r", 2.0))
    assert bumped(state, "r", lambda: setattr(pop.neuron(1), "r", 3.0))
    assert bumped(state, "tau", lambda: setattr(pop, "tau", 2.0))
    assert bumped(state, "g", lambda: pop.set({"g": 3.0}))
    assert bumped(pstate, "w", lambda: setattr(proj, "w", 0.1))
    assert bumped(pstate, "w", lambda: setattr(proj.dendrite(0), "w", [1.0] * 4))
    net.compile()
    assert bumped(state, "r", pop.reset)
    assert bumped(state, "_sum_exc", pop.reset)
    assert not bumped(state, "g", lambda: pop.r)  # reading is not writing


def test_convolution_weights_set_from_python_are_noticed_by_a_settled_network():
    net = Network()
    inp = net.create((3, 3), INPUT)
    out = net.create((3, 3), Neuron(equations="r = sum(exc)"))
    conv = net.connect(Convolution(inp, out, "exc")).connect_filter(np.ones((3, 3)))
    inp.r = 1.0
    net.simulate(5.0)
    assert out.r[1, 1] == 9.0
    conv.weights = 2 * np.ones((3, 3))
    net.simulate(2.0)
    assert out.r[1, 1] == 18.0


def test_population_state_is_what_the_population_holds():
    net = Network()
    pop = net.create(3, Neuron(parameters="b = 2.0 : population", equations="r = b + sum(exc)"), name="p")
    state = net.registry.state(pop)
    assert state.name == "p" and state.geometry == (3,) and state.role == "model" and state.pure
    assert state.locality == {"b": "population", "r": "local"} and state.variables == ["r"]
    assert state.targets == ["exc"] and state.update_reads() == ["_sum_exc", "b"]
    assert state.values["r"] is not pop.r  # reads from Python get copies


# =========================================================================== reference
def test_reference_plan_has_one_update_per_population_and_one_product_per_projection():
    net = Network(reference=True, num_threads=2)
    a = net.create(5, INPUT, name="a")
    model = Neuron(equations="r = sum(exc)")
    posts = [net.create(5, model, name=f"p{i}") for i in range(3)]
    for post in posts:
        net.connect(a, post).connect_one_to_one(1.0)
    lines = net.step_order
    assert not any("skipped" in line or "one sparse product" in line or "parallel" in line for line in lines)
    assert kinds(net).count("UpdateBlock") == 3 and kinds(net).count("TransmitGather") == 3
    assert kinds(net).count("AddInputs") == 3
    assert all(len(block.members) == 1 for block in net.plan.blocks)


def test_reference_mode_from_setup_and_back():
    ratenet.setup(reference=True)
    assert ratenet.default_network().reference
    pop = ratenet.Population(2, Neuron(equations="r = t"))
    ratenet.simulate(3.0)
    assert pop.r.tolist() == [2.0, 2.0]
    ratenet.clear()
    assert not ratenet.default_network().reference
    with pytest.raises(ValidationError, match=r"setup\.colour: unknown option .*reference"):
        ratenet.setup(colour=True)


def state_of(net: Network) -> dict[str, bytes]:
    """Every array of every population (attributes and sums) and projection, as bytes."""
    out = {}
    for pop in net.populations:
        state = net.registry.state(pop)
        for key in list(state.locality) + [f"_sum_{t}" for t in state.targets]:
            out[f"{pop.name}.{key}"] = np.asarray(state.values[key]).tobytes()
    for proj in net.projections:
        state = net.registry.state(proj)
        for key, value in state.values.items():
            out[f"{proj.name}.{key}"] = np.asarray(value).tobytes()
    return out


def rich(net: Network) -> list[dict[str, bytes]]:
    """A network with one of everything the plan optimises, run with changes between runs."""
    rng = np.random.default_rng(7)
    inp = net.create((6, 6), INPUT, name="inp")
    inp.r = rng.random((6, 6))
    timed = TimedArray(rng.random((4, 6, 6)), schedule=2.0, network=net, name="timed")
    linear = Neuron(parameters="g = 1.0 : population", equations="r = g * (sum(exc) - sum(inh)) : min=0.0")
    leaky = Neuron(parameters="tau = 4.0 : population\nb = 0.05", equations="tau * dr/dt + r = sum(exc) + b")
    noisy = Neuron(equations="r = sum(exc) + Uniform(0, 0.01)")
    pooled = net.create((3, 3), linear, name="pooled")
    smooth = net.create((6, 6), linear, name="smooth")
    ring = [net.create(9, leaky, name=f"ring{i}") for i in range(3)]
    quiet = [net.create(9, linear, name=f"quiet{i}") for i in range(3)]
    noise = [net.create(4, noisy, name=f"noise{i}") for i in range(2)]
    net.connect(Pooling(inp, pooled, "exc", operation="mean")).connect_pooling()
    net.connect(Convolution(timed, smooth, "exc")).connect_filter(rng.normal(size=(3, 3)))
    net.connect(Convolution(inp, smooth, "inh")).connect_filter(np.full((3, 3), 0.05), delays=2.0)
    for i in range(3):
        net.connect(ring[i], ring[(i + 1) % 3], "exc").connect_one_to_one(0.5)
        net.connect(pooled, quiet[i], "exc").connect_fixed_probability(0.6, Uniform(0.0, 1.0), storage_format="csr")
        net.connect(pooled, quiet[i], "inh").connect_one_to_one(-0.3)
        net.connect(smooth[0:9], ring[i], "exc").connect_all_to_all(0.02, delays=Uniform(0.0, 4.0))
    net.connect(smooth[3:9], quiet[0][0:6], "exc").connect_one_to_one(1.0)        # a view onto a view
    net.connect(smooth[6:12], quiet[0][3:9], "exc").connect_one_to_one(2.0)       # overlapping the last one
    custom = Synapse(psp="w * pos(pre.r - 0.1)", operation="max")
    net.connect(inp[0:9], quiet[1], "exc", custom).connect_fixed_probability(0.5, 1.0, delays=3.0)
    hebb = net.connect(quiet[2], ring[0], "inh", Hebb(eta=0.001)).connect_all_to_all(0.01)
    hebb.enable_learning(period=2.0)
    original = net.connect(ring[1], noise[0], "exc").connect_fixed_number_pre(3, 0.2)
    net.connect(Copy(ring[2], noise[1], "exc")).connect_copy(original)
    net.connect(Transpose(original, "back")).connect()
    monitors = [Monitor(pop, "r") for pop in net.populations]
    states = []
    net.simulate(6.0)
    states.append(state_of(net))
    inp.r = rng.random((6, 6))
    quiet[1].g = 2.0
    original.w = 0.25
    for _ in range(3):
        net.step()
    states.append(state_of(net))
    net.set_time(net.get_time() + 2.0)
    net.simulate(5.0)
    states.append(state_of(net))
    net.reset(projections=True)
    net.simulate(4.0)
    states.append(state_of(net))
    states.append({f"monitor{i}": m.get("r").tobytes() for i, m in enumerate(monitors)})
    return states


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
def test_optimized_plan_equals_the_reference_bit_for_bit(dtype, threads):
    optimized = Network(seed=11, dtype=dtype, num_threads=threads)
    reference = Network(seed=11, dtype=dtype, reference=True)
    got, expected = rich(optimized), rich(reference)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.keys() == b.keys()
        bad = [key for key in a if a[key] != b[key]]
        assert not bad, f"differ: {bad}"
    lines = optimized.step_order
    assert any("one sparse product" in line for line in lines)
    assert any("skipped" in line for line in lines)
    assert any("+" in line.split(":")[0] and "UpdateBlock" in line for line in lines)
    assert (threads == 2) == any("in parallel" in line for line in lines)


def test_models_drawing_random_numbers_are_not_stacked():
    """Stacking would change the order in which the network's generator is used."""
    net = Network(seed=1)
    model = Neuron(equations="r = Uniform(0, 1)")
    a, b = net.create(3, model, name="a"), net.create(3, model, name="b")
    assert kinds(net).count("UpdateBlock") == 2
    net.simulate(1.0)
    expected = np.random.default_rng(1).uniform(0, 1, 6)
    np.testing.assert_array_equal(np.concatenate([a.r, b.r]), expected)


# ====================================================================== summed inputs
def test_inputs_onto_overlapping_views_add_where_they_overlap():
    for reference in (False, True):
        net = Network(reference=reference)
        a = net.create(6, INPUT)
        a.r = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        b = net.create(6, Neuron(equations="r = sum(exc)"))
        net.connect(a[0:4], b[0:4]).connect_one_to_one(1.0)
        net.connect(a[2:6], b[2:6]).connect_one_to_one(10.0)
        net.connect(a[5:6], b[5:6]).connect_one_to_one(100.0)
        net.step()
        assert b.sum("exc").tolist() == [1.0, 2.0, 33.0, 44.0, 50.0, 660.0]
        assert any(isinstance(op, SumInputs if not reference else AddInputs) for op in unwrapped(net, object))


@pytest.mark.parametrize("reference", [False, True])
def test_a_neuron_s_first_input_is_taken_as_is(reference):
    """-0.0 (a negative weight times a zero rate) stays -0.0: the sum of the inputs a neuron receives
    starts from its first input, not from 0.0 (0.0 + -0.0 is +0.0)."""
    net = Network(reference=reference)
    a = net.create(2, INPUT)
    one = net.create(2, Neuron(equations="r = 1 / sum(exc)"))
    two = net.create(2, Neuron(equations="r = 1 / sum(exc)"))
    net.connect(a, one).connect_one_to_one(-1.0)
    net.connect(a, two).connect_one_to_one(-1.0)
    net.connect(a, two).connect_one_to_one(-2.0)
    with np.errstate(divide="ignore"):
        net.step()
    assert np.signbit(one.sum("exc")).all() and np.signbit(two.sum("exc")).all()
    assert one.r.tolist() == [-np.inf, -np.inf] and two.r.tolist() == [-np.inf, -np.inf]


# ============================================================================= delays
def test_a_delayed_reader_is_skipped_until_the_change_reaches_it():
    net = Network()
    a = net.create(2, INPUT, name="a")
    b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    net.connect(a, b, name="late").connect_one_to_one(1.0, delays=3.0)
    wrapper = next(op for op in net.plan.operators if op.label.startswith("late:"))
    calls = []
    work = wrapper.work
    wrapper.work = lambda: (calls.append(net.get_current_step()), work())
    net.simulate(5.0)
    a.r = 1.0   # replaces the value at the end of step 4: read at step 4 + 3 = 7
    net.simulate(6.0)
    assert calls == [0, 7]
    assert b.sum("exc").tolist() == [1.0, 1.0]


def test_per_synapse_delays_read_a_changing_window():
    """Delays of 1 to 3 steps: the reader must run while the change moves through its window."""
    results = []
    for reference in (False, True):
        net = Network(reference=reference)
        a = net.create(3, INPUT)
        b = net.create(3, Neuron(equations="r = sum(exc)"))
        net.connect(a, b).connect_from_matrix(np.ones((3, 3)), delays=np.array([[1.0, 2.0, 3.0]] * 3))
        m = Monitor(b, "sum(exc)")
        net.simulate(3.0)
        a.r = [1.0, 10.0, 100.0]
        net.simulate(5.0)
        results.append(m.get("sum(exc)"))
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0][:, 0], [0, 0, 0, 1, 11, 111, 111, 111])


def test_history_windows_change_only_when_what_they_cover_changes():
    from ratenet.plan.delays import History
    from ratenet.registry import Clock
    from ratenet.state import State

    state = State("p", {"r": np.zeros(1)})
    state.track("r")
    clock = Clock()
    history = History(state, "r", 4, clock)
    versions, slot = history.window(2, 3)
    seen = []
    for step in range(8):
        clock.step = step
        if step == 2:
            state.values["r"][...] = 1.0
            state.bump("r")
        history.push()
        seen.append(versions[slot])
    # the change at the end of step 2 is read with delay 2 at step 4 and delay 3 at step 5;
    # the window version for step n is set by the push at the end of step n - 1
    changes = [i + 1 for i in range(1, 8) if seen[i] != seen[i - 1]]
    assert changes == [4, 5]


# ============================================================================ learning
def test_learning_every_other_step_lets_its_projection_skip_in_between():
    net = Network()
    a = net.create(2, INPUT, name="a")
    a.r = 1.0
    b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    proj = net.connect(a, b, "exc", Synapse(parameters="eta = 0.5", equations="dw/dt = eta", name="grow"),
                       name="ab").connect_all_to_all(1.0)
    proj.enable_learning(period=2.0)
    learn, = unwrapped(net, Learn)
    assert not learn.always
    m = Monitor(b, "sum(exc)")
    net.simulate(6.0)
    # w grows by 0.5 at steps 0, 2, 4; the sum of step n reads the weights after step n - 1
    np.testing.assert_array_equal(m.get("sum(exc)")[:, 0], [2.0, 3.0, 3.0, 4.0, 4.0, 5.0])


def test_check_finite_and_record_are_plain_operators():
    net = Network()
    net.setup(check_finite=True)
    pop = net.create(1, Neuron(equations="r = 1 / (t - 2)"), name="p")
    net.monitor(pop, "r", name="m")
    assert kinds(net) == ["UpdateBlock", "CheckFinite", "Record"]
    with pytest.raises(ratenet.RatenetError, match=r"Population 'p'\.r: neuron 0 is inf after step 2"):
        with np.errstate(divide="ignore"):
            net.simulate(5.0)
    assert isinstance(unwrapped(net, CheckFinite)[0], CheckFinite)
    assert len(unwrapped(net, Record)) == 1
    assert not unwrapped(net, Replay) and not unwrapped(net, PushHistory)


def test_kernel_and_psp_operators_compute_what_a_loop_computes():
    net = Network()
    inp = net.create((4, 4), INPUT)
    inp.r = np.arange(16.0).reshape(4, 4)
    pooled = net.create((2, 2), Neuron(equations="r = sum(exc)"))
    picked = net.create(2, Neuron(equations="r = sum(exc)"))
    net.connect(Pooling(inp, pooled, "exc", operation="max")).connect_pooling()
    net.connect(inp[0:4], picked, "exc", Synapse(psp="w * pre.r * pre.r", operation="min")).connect_all_to_all(2.0)
    net.step()
    assert pooled.sum("exc").tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert picked.sum("exc").tolist() == [0.0, 0.0]
    assert len(unwrapped(net, TransmitKernel)) == 2  # TransmitPsp is a kind of TransmitKernel
    assert len(unwrapped(net, TransmitPsp)) == 1
    assert not unwrapped(net, TransmitSparse) and not unwrapped(net, TransmitGather)
    assert not unwrapped(net, TransmitFusedGather)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stacked_populations_use_their_own_population_level_values_as_numbers(dtype):
    """exp(-dt/tau) over an array of equal values does not always give the bits of exp over one value:
    populations are stacked only while their population-level parameters agree."""
    results = []
    for reference in (False, True):
        net = Network(dtype=dtype, reference=reference)
        model = Neuron(parameters="tau = 3.0 : population", equations="tau * dr/dt + r = 1.0 : exponential")
        pops = [net.create(5, model) for _ in range(3)]
        net.simulate(2.0)
        stacked = [len(b.members) for b in net.plan.blocks]
        pops[1].tau = 7.3
        net.simulate(3.0)
        after = [len(b.members) for b in net.plan.blocks]
        pops[1].tau = 3.0   # agreeing again: they may be stacked again or not, the numbers are the same
        net.simulate(2.0)
        results.append(b"".join(p.r.tobytes() for p in pops))
        if not reference:
            assert stacked == [3] and sorted(after) == [1, 2]
    assert results[0] == results[1]
