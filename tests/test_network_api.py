"""The network-level API of ANNarchy 4.x and 5.x: copies (add/get), subclasses, callbacks, monitors.

References are values computed by hand or by plain NumPy loops written here;
each 4.x/5.x pair is checked to give the same numbers, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import ratenet
from ratenet import (InputArray, Monitor, Network, Neuron, Population, Projection, Synapse, ValidationError,
                     clear, every)
from ratenet.image import ImagePopulation
from ratenet.projections import Convolution, Copy, Pooling, Transpose

LEAKY = Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) - sum(inh)")
LEARN = Synapse(parameters="eta = 0.01", equations="dw/dt = eta * pre.r * post.r")
W_FF = np.array([[0.5, 0.25, 0.0], [1.0, 0.0, -0.5]])  # post x pre
W_LAT = np.array([[0.0, 0.2], [0.3, 0.0]])
RATES = np.array([1.0, 2.0, 3.0])


def numpy_reference(steps: int, dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The two-population network below as a plain loop: rates after each step, and final feed-forward weights."""
    r, w, out = np.zeros(2), W_FF.copy(), []
    for _ in range(steps):
        inputs = w @ RATES - W_LAT @ r          # sums read last step's rates
        r = r + dt * (inputs - r) / 10.0        # explicit Euler of tau*dr/dt + r = sum
        w = w + dt * 0.01 * np.outer(r, RATES) * (W_FF != 0)  # learning sees this step's rates
        out.append(r.copy())
    return np.array(out), w


def build_4x() -> tuple[Population, Population, Projection, Projection, Monitor]:
    """ANNarchy 4.x: objects in the default network."""
    inp = InputArray(3, name="inp")
    inp.r = RATES
    out = Population(2, LEAKY, name="out")
    ff = Projection(inp, out, "exc", LEARN, name="ff").connect_from_matrix(
        [[0.5, 0.25, None], [1.0, None, -0.5]])
    lat = Projection(out, out, "inh", name="lat").connect_from_matrix([[None, 0.2], [0.3, None]])
    return inp, out, ff, lat, Monitor(out, "r", name="m")


def build_5x(net: Network) -> tuple[Population, Projection, Monitor]:
    """ANNarchy 5.x: the same network made through ``net``."""
    inp = net.create(population=InputArray(3, name="inp", network=net))
    inp.r = RATES
    out = net.create(2, LEAKY, name="out")
    ff = net.connect(inp, out, "exc", LEARN, name="ff").from_matrix([[0.5, 0.25, None], [1.0, None, -0.5]])
    net.connect(out, out, "inh", name="lat").from_matrix([[None, 0.2], [0.3, None]])
    return out, ff, net.monitor(out, "r", name="m")


@pytest.fixture(autouse=True)
def fresh_default():
    clear()
    yield
    clear()


# --------------------------------------------------------------- 4.x: add / get
def test_added_copies_simulate_like_a_numpy_loop_and_like_the_5x_network():
    inp, out, ff, lat, m = build_4x()
    net = Network()
    net.add([m, lat, ff, out, inp])  # any order: populations first, then projections, then monitors
    assert net.compile() is net
    net.simulate(20.0)
    expected_r, expected_w = numpy_reference(20)
    np.testing.assert_allclose(net.get(m).get("r"), expected_r, rtol=1e-12)
    np.testing.assert_allclose(net.get(ff).connectivity_matrix(), expected_w, rtol=1e-12)

    five = Network()
    out5, ff5, m5 = build_5x(five)
    five.simulate(20.0)
    recorded = net.get(out).r
    assert np.array_equal(out5.r, recorded)  # bit for bit
    assert np.array_equal(ff5.connectivity_matrix(), net.get(ff).connectivity_matrix())
    # the originals did not move
    assert out.r.tolist() == [0.0, 0.0] and ratenet.get_time() == 0.0


def test_everything_copies_the_default_network_and_leaves_it_alone():
    inp, out, ff, lat, m = build_4x()
    full = Network(everything=True)
    empty = Network(everything=False)
    assert [p.name for p in full.populations] == ["inp", "out"]
    assert [p.name for p in full.projections] == ["ff", "lat"] and len(full.monitors) == 1
    assert empty.populations == [] and empty.projections == []
    full.simulate(5.0)
    ratenet.simulate(5.0)  # the default network runs its own objects: the same numbers
    assert np.array_equal(full.get(out).r, out.r)
    assert np.array_equal(full.get(m).get("r"), m.get("r"))
    assert Network(True).get(inp).r.tolist() == RATES.tolist()


def test_values_assigned_before_add_are_carried_over_and_copies_are_independent():
    pop = Population(3, LEAKY, name="p")
    pop.tau = [1.0, 2.0, 4.0]
    pop.r = [1.0, 1.0, 1.0]
    a, b = Network(), Network()
    a.add(pop)
    b.add([pop])
    assert a.get(pop).tau.tolist() == [1.0, 2.0, 4.0]
    a.simulate(1.0)  # dr = (0 - r) / tau
    assert a.get(pop).r.tolist() == [0.0, 0.5, 0.75]
    assert b.get(pop).r.tolist() == [1.0, 1.0, 1.0] and pop.r.tolist() == [1.0, 1.0, 1.0]
    a.reset()
    assert a.get(pop).r.tolist() == [1.0, 1.0, 1.0]  # reset returns to the copied values


def test_objects_survive_clear_and_can_be_added_after_it():
    # ANNarchy's own tests build at import time, clear() in one class and add the objects in the next
    inp, out, ff, lat, m = build_4x()
    clear()
    net = Network()
    net.add([inp, out, ff, lat, m])
    net.simulate(3.0)
    np.testing.assert_allclose(net.get(m).get("r"), numpy_reference(3)[0], rtol=1e-12)


def test_get_of_lists_views_neurons_and_own_objects():
    pop = Population((2, 3), Neuron(parameters="r = 0.0"), name="grid")
    net = Network()
    net.add(pop)
    copy = net.get(pop)
    assert net.get([pop, pop]) == [copy, copy]
    view = net.get(pop[:, 1])
    assert view.population is copy and view.ranks.tolist() == [1, 4]
    neuron = net.get(pop.neuron(1, 2))
    neuron.r = 5.0
    assert copy.r[1, 2] == 5.0 and pop.r[1, 2] == 0.0
    own = net.create(2, Neuron(parameters="r = 0.0"))
    assert net.get(own) is own


def test_projections_on_views_and_convolutions_are_copied():
    inp = Population((3, 3), Neuron(parameters="r = 0.0"), name="img")
    inp.r = np.arange(9.0).reshape(3, 3)
    out = Population((3, 3), Neuron(equations="r = sum(exc)"), name="blur")
    Convolution(inp, out, "exc", name="conv").connect_filter(np.ones((3, 3)) / 9.0)
    col = Population(3, Neuron(equations="r = sum(exc)"), name="col")
    Projection(inp[:, 1], col, "exc", name="pick").connect_one_to_one(2.0)
    net = Network(everything=True)
    net.simulate(2.0)
    padded = np.pad(np.arange(9.0).reshape(3, 3), 1)
    blurred = np.array([[padded[i:i + 3, j:j + 3].sum() / 9.0 for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(net.get(out).r, blurred, rtol=1e-12)
    assert net.get(col).r.tolist() == [2.0, 8.0, 14.0]


def test_module_level_functions_of_the_4x_api():
    ratenet.setup(dt=0.5, seed=3)
    pop = Population(2, Neuron(equations="r = Uniform(0, 1)"), name="noise")
    assert ratenet.get_population("noise") is pop
    ratenet.compile()
    ratenet.set_seed(11)
    ratenet.simulate(1.0)
    first = pop.r
    ratenet.set_seed(11)
    ratenet.simulate(1.0)
    assert np.array_equal(pop.r, first)
    expected = np.random.default_rng(11)
    expected.uniform(0, 1, 2)
    assert np.array_equal(first, expected.uniform(0, 1, 2))  # two steps of dt 0.5: the second draw
    net = Network()  # a 4.x network takes the default network's dt and seed
    assert (net.dt, net.seed) == (0.5, 11)
    net.add(pop)
    net.set_seed(11)
    net.simulate(1.0)
    assert np.array_equal(net.get(pop).r, first)
    assert net.get_population("noise") is net.get(pop)
    assert net.get_current_step() == 2 and net.get_time() == 1.0
    net.set_time(3.0)
    assert net.get_current_step() == 6
    clear()
    assert (Network().dt, Network().seed) == (1.0, None)  # clear() forgets setup()


def test_add_and_get_refuse_what_they_cannot_do():
    pop = Population(2, Neuron(parameters="r = 0.0"), name="a")
    post = Population(2, Neuron(equations="r = sum(exc)"), name="b")
    proj = Projection(pop, post, "exc", name="ab").connect_all_to_all(1.0)
    net = Network()
    with pytest.raises(ValidationError, match=r"^Network.get.obj: was never added to this network \(call "
                                              r"net.add\(obj\) first\) \(got 'a'\)$"):
        net.get(pop)
    with pytest.raises(ValidationError, match="^Network.add.objects: projection 'ab' uses 'a', which is not in this "
                                              "network: add it first$"):
        net.add(proj)
    net.add(pop)
    with pytest.raises(ValidationError, match="^Network.add.objects: 'a' was already added to this network$"):
        net.add(pop)
    with pytest.raises(ValidationError, match="^Network.add.objects: 'a' was already added to this network$"):
        net.add(net.get(pop))
    own = net.create(2, Neuron(parameters="r = 0.0"), name="own")
    with pytest.raises(ValidationError, match="^Network.add.objects: 'own' was created in this network"):
        net.add(own)
    with pytest.raises(ValidationError, match=r"^Network.add.objects: must be populations, projections or monitors "
                                              r"\(or a list of them\) \(got 3\)$"):
        net.add([3])
    with pytest.raises(ValidationError, match="^Network.add.objects: lists an object twice$"):
        Network().add([post, post])
    with pytest.raises(ValidationError, match=r"^Network.everything: must be True or False \(pass dt= and seed= as "
                                              r"keywords\) \(got 0.1\)$"):
        Network(0.1)  # type: ignore[arg-type]


# ------------------------------------------------------------ 5.x surface
def test_time_current_step_and_config():
    net = Network(dt=0.25, seed=1)
    net.create(1, Neuron(equations="r = t"))
    net.simulate(1.0)
    assert (net.time, net.current_step, net.get_time()) == (1.0, 4, 1.0)
    net.time = 2.0
    assert net.current_step == 8
    net.current_step = 2
    assert net.time == 0.5
    net.config(dt=0.5, seed=9, num_threads=1)
    assert (net.dt, net.seed) == (0.5, 9)
    with pytest.raises(ValidationError, match=r"^setup.colour: unknown option"):
        net.config(colour=1)


def test_connect_with_a_projection_keyword():
    net = Network()
    a = net.create(2, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = Projection(a, b, "exc")
    assert net.connect(projection=proj) is proj
    with pytest.raises(ValidationError, match="^Network.connect.projection: is given with pre or post"):
        net.connect(a, projection=proj)


def test_monitor_get_default_follows_the_api_that_made_the_monitor():
    net = Network()
    pop = net.create((2, 3), Neuron(equations="r = t + 1"))
    five = net.monitor(pop, "r")             # 5.x: reshaped
    four = Monitor(pop, "r")                 # 4.x: flat
    view = net.monitor(pop[:, 1], "r")       # 5.x does not reshape views
    net.simulate(2.0)
    expected = np.array([np.full((2, 3), 1.0), np.full((2, 3), 2.0)])
    assert np.array_equal(five.get("r", keep=True), expected)
    assert np.array_equal(five.get("r", reshape=False), expected.reshape(2, 6))
    assert np.array_equal(four.get("r", keep=True), expected.reshape(2, 6))
    assert four.get("r", reshape=True).shape == (2, 2, 3)
    assert view.get("r").shape == (2, 2)
    # a copy made by add keeps the default of the monitor it copies
    copied = Network()
    copied.add(four.object)
    copied.add(four)
    copied.simulate(1.0)
    assert copied.get(four).get("r").shape == (1, 6)


def test_report_accepts_the_4x_and_5x_signatures(tmp_path):
    build_4x()
    ratenet.report(str(tmp_path / "four.md"))
    net = Network()
    build_5x(net)
    ratenet.report(net, str(tmp_path / "five.md"))
    assert (tmp_path / "four.md").read_text() == (tmp_path / "five.md").read_text()


# ------------------------------------------------------------ subclassing, copy
class Chain(Network):
    """The 5.x pattern: the constructor builds the network, without super().__init__()."""

    def __init__(self, size, weight=1.0):
        self.inp = self.create(size, Neuron(parameters="r = 1.0"), name="inp")
        self.out = self.create(size, Neuron(equations="r = sum(exc)"), name="out")
        self.proj = self.connect(self.inp, self.out, "exc").one_to_one(weight)


class ChainWithSuper(Network):
    def __init__(self, size, dt=0.5):
        super().__init__(dt=dt)
        self.size_seen, self.dt_seen = size, dt
        self.pop = self.create(size, Neuron(equations="r = t"))


def test_subclass_without_super_init_builds_and_keeps_its_arguments():
    net = Chain(3, weight=2.0, dt=0.5, seed=4)
    assert (net.dt, net.seed) == (0.5, 4)
    assert net.init_args == ((3,), {"dt": 0.5, "seed": 4, "weight": 2.0})
    net.simulate(1.0)
    assert net.out.r.tolist() == [2.0, 2.0, 2.0]
    again = type(net)(*net.init_args[0], **net.init_args[1])
    again.simulate(1.0)
    assert np.array_equal(again.out.r, net.out.r)


class Float32Reference(Network):
    def __init__(self, size):
        super().__init__(dtype=np.float32, reference=True, num_threads=2, name="mine")
        self.pop = self.create(size, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))


def test_super_init_applies_every_network_option_the_caller_did_not_give():
    net = Float32Reference(3)
    assert (net.dtype, net.reference, net.num_threads, net.name) == (np.float32, True, 2, "mine")
    assert net.pop.r.dtype == np.float32
    net.simulate(2.0)
    by_hand = np.float32(0.0)
    for _ in range(2):  # explicit Euler in float32, dt = 1
        by_hand = np.float32(by_hand + np.float32(1.0) * (np.float32(1.0) - by_hand) / np.float32(10.0))
    assert net.pop.r.tolist() == [float(by_hand)] * 3
    given = Float32Reference(3, reference=False, dtype=np.float64)  # the caller's keywords win
    assert (given.dtype, given.reference, given.num_threads) == (np.float64, False, 2)


class LateDtype(Network):
    def __init__(self):
        self.pop = self.create(2, Neuron(equations="r = 1.0"))
        super().__init__(dtype=np.float32)  # after a population: too late to change every array


def test_super_init_changing_the_dtype_after_populations_is_refused():
    with pytest.raises(ValidationError, match=r"Network\.dtype: cannot change once populations exist; call it first"):
        LateDtype()


def test_subclass_calling_super_init():
    net = ChainWithSuper(2)
    assert (net.dt, net.dt_seen, net.size_seen) == (0.5, 0.5, 2)
    net = ChainWithSuper(2, dt=0.25)  # the caller's dt reaches both Network and the subclass
    assert (net.dt, net.dt_seen) == (0.25, 0.25)
    net.simulate(1.0)
    assert net.pop.r.tolist() == [0.75, 0.75]  # r = t during the fourth step


def test_copy_of_a_subclass_and_of_a_plain_network():
    net = Chain(2, weight=3.0, dt=0.5, seed=8)
    twin = net.copy()
    assert type(twin) is Chain and (twin.dt, twin.seed) == (0.5, 8)
    assert twin.init_args == ((2,), {"dt": 0.5, "seed": 8, "weight": 3.0})
    bigger = net.copy(4, weight=1.0)
    assert bigger.out.size == 4 and bigger.dt == 0.5

    plain = Network(dt=0.5, seed=2)
    out, ff, m = build_5x(plain)
    plain.simulate(3.0)
    copy = plain.copy()
    assert (copy.dt, copy.seed, copy.get_time()) == (0.5, 2, 0.0)
    assert np.array_equal(copy.get_population("out").r, out.r)
    assert np.array_equal(copy.get_projection("ff").connectivity_matrix(), ff.connectivity_matrix())
    copy.simulate(1.0)
    plain.simulate(1.0)
    assert np.array_equal(copy.get_population("out").r, out.r)
    with pytest.raises(ValidationError, match="^Network.copy.arguments: are only for a subclass of Network"):
        plain.copy(3)


# ----------------------------------------------------------------- callbacks
def test_callbacks_run_before_the_steps_they_fall_on():
    net = Network(dt=0.5)
    pop = net.create(1, Neuron(parameters="r = 0.0"))
    calls = []

    @every(network=net, period=2.0, offset=0.5, wait=1.0)
    def first(n):
        calls.append(("first", n, net.current_step))
        pop.r = float(n + 1)

    @every(network=net, period=1.0)
    def second(n):
        calls.append(("second", n, net.current_step))

    net.simulate(5.0)  # 10 steps
    # first: steps 2 (wait) + 1 (offset), every 4 -> 3, 7; second: every 2 steps from 0
    expected = [("second", 0, 0), ("second", 1, 2), ("first", 0, 3), ("second", 2, 4), ("second", 3, 6),
                ("first", 1, 7), ("second", 4, 8)]
    assert calls == expected and net.current_step == 10 and pop.r.tolist() == [2.0]
    calls.clear()
    net.simulate(2.0)  # n counts again from 0, times from the start of this call
    assert calls == [("second", 0, 10), ("second", 1, 12), ("first", 0, 13)]


def test_callbacks_in_the_4x_form_negative_offsets_and_switches():
    ratenet.setup(dt=1.0)
    Population(1, Neuron(parameters="r = 0.0"))
    seen = []

    @every(10.0, offset=-2.0)  # 4.x: period first, on the default network
    def late(n):
        seen.append(ratenet.get_current_step())

    ratenet.simulate(30.0)
    assert seen == [8, 18, 28]
    ratenet.disable_callbacks()
    assert not ratenet.callbacks_enabled()
    ratenet.simulate(10.0)
    ratenet.enable_callbacks()
    ratenet.simulate(10.0, callbacks=False)
    assert seen == [8, 18, 28]
    ratenet.simulate(10.0)
    assert seen == [8, 18, 28, 58]
    ratenet.clear_all_callbacks()
    ratenet.simulate(10.0)
    assert len(seen) == 4


def test_a_period_below_dt_means_every_step():
    net = Network(dt=1.0)
    count = []
    every(network=net, period=0.1)(count.append)
    net.simulate(3.0)
    assert count == [0, 1, 2]


def test_callback_timing_errors():
    net = Network(dt=0.5)
    with pytest.raises(ValidationError, match=r"^every.period: must be a multiple of dt = 0.5 ms \(got 1.2\)$"):
        every(network=net, period=1.2)
    with pytest.raises(ValidationError, match=r"^every.offset: must be a multiple of dt = 0.5 ms \(got 0.3\)$"):
        every(network=net, period=1.0, offset=0.3)
    with pytest.raises(ValidationError, match=r"^every.wait: must be >= 0 \(got -1.0\)$"):
        every(network=net, period=1.0, wait=-1.0)
    with pytest.raises(ValidationError, match=r"^every.network: must be a Network \(got 'net'\)$"):
        every(network="net", period=1.0)
    with pytest.raises(ValidationError, match=r"^every.function: must be callable \(got 3\)$"):
        every(network=net, period=1.0)(3)
    with pytest.raises(ValidationError, match=r"^every.period: is given twice"):
        every(1.0, period=2.0)
    # a valid callback whose period stops fitting after a change of dt is refused when simulating
    every(network=net, period=1.0)(lambda n: None)
    net.setup(dt=0.3)
    net.create(1, Neuron(parameters="r = 0.0"))
    with pytest.raises(ValidationError, match=r"^every.period: must be a multiple of dt = 0.3 ms \(got 1.0\)$"):
        net.simulate(3.0)


def test_init_args_of_a_plain_network():
    net = Network(dt=0.5, seed=1)
    assert net.init_args == ((), {"dt": 0.5, "seed": 1})


def test_create_takes_its_arguments_in_annarchy_5_order():
    net = Network()
    pop = net.create(2, Neuron(equations="r = t"), "r > 1.5 : any", "clock")
    assert (pop.name, pop.stop_condition) == ("clock", "r > 1.5 : any")
    assert net.simulate_until(10.0, pop) == 3.0  # r = t: 0, 1, 2 at the ends of steps 1..3


def test_reset_with_reseed_rng_repeats_the_random_draws():
    net = Network(seed=5)
    pop = net.create(3, Neuron(parameters="b = Uniform(0, 1)", equations="r = b + Normal(0, 1)"))
    drawn = np.random.default_rng(5)
    b = drawn.uniform(0, 1, 3)  # drawn when the population is created, before compile
    net.simulate(2.0)
    first = pop.r
    drawn.normal(0, 1, 3)
    np.testing.assert_array_equal(first, b + drawn.normal(0, 1, 3))  # the second step's draw
    net.reset()
    net.simulate(2.0)
    assert not np.array_equal(pop.r, first)  # 4.x: the generator goes on
    net.reset(reseed_rng=True)
    net.simulate(2.0)
    assert np.array_equal(pop.r, first)
    ratenet.setup(seed=5)
    ratenet.reset(reseed_rng=True)  # the module-level form passes it on


def test_callbacks_4x_and_5x_forms_give_the_same_run_as_a_numpy_loop():
    def run(net_or_none):
        if net_or_none is None:
            inp = InputArray(1)
            out = Population(1, LEAKY)
            Projection(inp, out, "exc").connect_one_to_one(1.0)
            decorate = every(4.0, offset=1.0)
            m, simulate = Monitor(out, "r"), ratenet.simulate
        else:
            net = net_or_none
            inp = net.create(population=InputArray(1, network=net))
            out = net.create(1, LEAKY)
            net.connect(inp, out, "exc").one_to_one(1.0)
            decorate = every(network=net, period=4.0, offset=1.0)
            m, simulate = Monitor(out, "r"), net.simulate

        @decorate
        def step_input(n):
            inp.r = float(n + 1)

        simulate(12.0)
        return m.get("r")[:, 0]

    four, five = run(None), run(Network())
    r, x, expected = 0.0, 0.0, []
    for step in range(12):
        if step % 4 == 1:
            x = float(step // 4 + 1)  # set before this step: it replaces the end of the last step, read now
        r = r + (x - r) / 10.0
        expected.append(r)
    np.testing.assert_allclose(four, expected, rtol=1e-12)
    assert np.array_equal(four, five)


def test_getters_by_name_and_their_errors():
    net = Network()
    pop = net.create(2, Neuron(equations="r = t"), name="p")
    proj = net.connect(pop, pop, "exc", name="loop").all_to_all(0.1)
    m = net.monitor(pop, "r", name="watch")
    assert (net.get_population("p"), net.get_projection("loop"), net.get_monitor("watch")) == (pop, proj, m)
    assert net.get_populations() == [pop] and net.get_monitors(pop) == [m] and net.get_monitors(proj) == []
    assert net.get_projections(suppress_error=True) == [proj]
    for getter, kind in ((net.get_population, "population"), (net.get_projection, "projection"),
                         (net.get_monitor, "monitor")):
        with pytest.raises(ValidationError, match=rf"^Network.get_{kind}: no {kind} of that name \(got 'x'\)$"):
            getter("x")


def test_specific_populations_and_shared_weight_projections_are_copied():
    ta = ratenet.TimedArray(np.arange(6.0).reshape(3, 2), schedule=2.0, name="ta")
    img = ImagePopulation((2, 2, 3), name="img")
    img.set_image(np.full((2, 2, 3), 255, np.uint8))
    lin = Neuron(equations="r = sum(exc)")
    pooled = Population((1, 1, 3), lin, name="pooled")
    Pooling(img, pooled, "exc", operation="mean").connect_pooling()
    a, b = Population(2, lin, name="a"), Population(2, lin, name="b")
    ab = Projection(ta, a, "exc").connect_all_to_all(0.5)
    Copy(ta, b, "exc").connect_copy(ab)
    back = Transpose(ab, "exc").connect()
    net = Network(everything=True)
    assert [type(p).__name__ for p in net.projections] == ["Pooling", "Projection", "Copy", "Transpose"]
    assert type(net.get(ta)).__name__ == "TimedArray" and type(net.get(img)).__name__ == "ImagePopulation"
    assert (net.get(back).pre, net.get(back).post) == (net.get(a), net.get(ta))
    net.simulate(6.0)
    # step k replays rates[k // 2]; after 6 steps ta.r = rates[2]; a and b read ta.r of step 5: 0.5 * (4 + 5)
    assert net.get(ta).r.tolist() == [4.0, 5.0]
    assert net.get(a).r.tolist() == [4.5, 4.5] and net.get(b).r.tolist() == [4.5, 4.5]
    assert net.get(pooled).r.ravel().tolist() == [1.0, 1.0, 1.0]
    assert a.r.tolist() == [0.0, 0.0]  # the original never ran


def test_from_function_in_the_4x_and_5x_forms():
    def four(pre, post, weight, offset=0):  # ANNarchy 4: method(pre, post, **args)
        lil = ratenet.LILConnectivity()
        for rank in range(post.size):
            lil.add(rank, [(rank + offset) % pre.size], [weight], [0.0])
        return lil

    seen = []

    def five(pre, post, dt, weight):  # ANNarchy 5: method(pre, post, dt, **args)
        seen.append(dt)
        return four(pre, post, weight, offset=1)

    net = Network(dt=0.25)
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(3, Neuron(equations="r = sum(exc)"))
    m4 = net.connect(a, b, "exc").connect_with_func(four, weight=2.0).connectivity_matrix()
    m5 = net.connect(a, b, "inh").from_function(five, weight=2.0).connectivity_matrix()
    assert m4.tolist() == [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
    assert m5.tolist() == [[0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [2.0, 0.0, 0.0]] and seen == [0.25]


def test_monitor_get_of_a_list_of_one_name_gives_the_array():
    net = Network()
    pop = net.create(2, Neuron(equations="r = t"))
    m = Monitor(pop, ["r"])
    net.simulate(2.0)
    expected = [[0.0, 0.0], [1.0, 1.0]]
    assert m.get(["r"], keep=True).tolist() == expected           # ANNarchy 4 and 5 return the array
    assert m.get(["r"], keep=True, force_dict=True)["r"].tolist() == expected
    assert m.get()["r"].tolist() == expected                       # no names: always a dict
