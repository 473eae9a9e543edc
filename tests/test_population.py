"""Tests of ratenet.population: Population, PopulationView, IndividualNeuron, InputArray,
TimedArray, and their error messages."""

from __future__ import annotations

import numpy as np
import pytest

import ratenet
from ratenet import (
    IndividualNeuron,
    InputArray,
    Network,
    Neuron,
    Population,
    PopulationView,
    TimedArray,
    Uniform,
    ValidationError,
)


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


MODEL = Neuron(parameters="tau = 10.0\ng = 2.0 : population\nk = 1.0",
               equations="tau * dr/dt + r = k * sum(exc)\nm = mean(r) : population")
LINEAR = Neuron(equations="r = sum(exc)")
INPUT = Neuron(parameters="r = 0.0")


def make(geometry=(3, 4), neuron=MODEL, net=None, **kwargs):
    return (net or Network()).create(geometry, neuron, **kwargs)


# ---------------------------------------------------------------------------
# geometry and arrays


@pytest.mark.parametrize("geometry, shape", [
    (5, (5,)),
    ((5,), (5,)),
    ((3, 4), (3, 4)),
    ([3, 4], (3, 4)),
    ((2, 3, 4), (2, 3, 4)),
    ((1, 1), (1, 1)),
    (np.int64(6), (6,)),
    ((2, 1, 3, 2), (2, 1, 3, 2)),
])
def test_geometry_and_shapes(geometry, shape):
    pop = make(geometry)
    assert pop.geometry == shape
    assert isinstance(pop.geometry, tuple)
    assert pop.size == int(np.prod(shape)) == len(pop)
    assert pop.dimension == len(shape)
    assert pop.r.shape == shape and pop.tau.shape == shape and pop.k.shape == shape
    assert pop.r.flags.c_contiguous
    np.testing.assert_array_equal(pop.ranks, np.arange(pop.size))


@pytest.mark.parametrize("geometry", [0, -1, (3, 0), (0,), (-2, 3), "a", 2.5, (2.5, 3), (), [], None, True,
                                      (2, True), ("3",)])
def test_bad_geometry_is_rejected_with_a_clear_message(geometry):
    with pytest.raises(ValidationError) as info:
        make(geometry)
    message = str(info.value)
    assert message.startswith("Population.geometry: must be a positive int or a non-empty tuple of positive ints")
    assert "(got " in message


def test_bad_geometry_message_shows_what_the_user_gave():
    with pytest.raises(ValidationError, match=r"\(got 'a'\)"):
        make("a")
    with pytest.raises(ValidationError, match=r"\(got \(3, 0\)\)"):
        make((3, 0))
    with pytest.raises(ValidationError, match=r"\(got 2\.5\)"):
        make(2.5)


@pytest.mark.parametrize("geometry, shown", [(0, "0"), (-1, "-1")])
def test_bad_int_geometry_message_shows_the_int_given(geometry, shown):
    # the user wrote 0, not (0,)
    with pytest.raises(ValidationError, match=rf"\(got {shown}\)$"):
        make(geometry)


def test_bad_geometry_does_not_register_a_population():
    net = Network()
    with pytest.raises(ValidationError):
        net.create((3, 0), MODEL)
    assert net.populations == []


def test_wrong_neuron_is_rejected():
    with pytest.raises(ValidationError, match=r"Population\.neuron: must be a Neuron \(got 'LIF'\)"):
        make(3, "LIF")
    with pytest.raises(ValidationError, match=r"Population 'exc'\.neuron: must be a Neuron"):
        make(3, 42, name="exc")


def test_neuron_class_is_accepted():
    pop = make(3, ratenet.LeakyIntegrator)
    assert pop.r.shape == (3,)


def test_bad_name_is_rejected():
    with pytest.raises(ValidationError, match=r"Population\.name: must be a non-empty string"):
        make(3, name="")
    with pytest.raises(ValidationError, match=r"Population\.name"):
        make(3, name=5)


def test_attribute_lists_and_dtypes():
    pop = make()
    assert pop.parameters == ["tau", "g", "k"]
    assert pop.variables == ["r", "m"]
    assert pop.attributes == ["tau", "g", "k", "r", "m"]
    assert pop.r.dtype == np.float64 and pop.tau.dtype == np.float64
    assert isinstance(pop.g, float) and pop.g == 2.0
    assert isinstance(pop.m, float) and pop.m == 0.0
    np.testing.assert_array_equal(pop.tau, np.full((3, 4), 10.0))


def test_population_without_r_gets_one():
    pop = make(4, Neuron(parameters="a = 1.0", equations="v = a"))
    assert "r" in pop.variables
    np.testing.assert_array_equal(pop.r, np.zeros(4))


def test_init_flag_sets_initial_values():
    pop = make(3, Neuron(parameters="v0 = 2.0", equations="r = r + 1 : init = 0.5\nv = v + 1 : init = v0"))
    np.testing.assert_array_equal(pop.r, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(pop.v, [2.0, 2.0, 2.0])


def test_reading_returns_read_only_copies():
    pop = make()
    r = pop.r
    with pytest.raises(ValueError, match="read-only"):
        r[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        pop.tau[1, 1] = 3.0
    pop.r = 1.0
    assert r[0, 0] == 0.0  # a copy: the earlier read does not change
    np.testing.assert_array_equal(pop.r, 1.0)
    copy = np.array(pop.r)
    copy[0, 0] = 7.0
    assert pop.r[0, 0] == 1.0


def test_set_scalar_flat_shaped_and_list():
    pop = make((2, 3))
    pop.r = 2.5
    np.testing.assert_array_equal(pop.r, np.full((2, 3), 2.5))
    pop.r = np.arange(6.0)
    np.testing.assert_array_equal(pop.r, np.arange(6.0).reshape(2, 3))
    pop.r = np.arange(6.0).reshape(2, 3) * 2
    np.testing.assert_array_equal(pop.r, np.arange(6.0).reshape(2, 3) * 2)
    pop.tau = [[1, 2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pop.tau, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert pop.tau.dtype == np.float64
    pop.r = np.int64(3)
    np.testing.assert_array_equal(pop.r, 3.0)


def test_set_with_distribution():
    net = Network(seed=3)
    pop = net.create((20, 10), MODEL)
    pop.tau = Uniform(5.0, 6.0)
    tau = pop.tau
    assert tau.shape == (20, 10)
    assert np.all((tau >= 5.0) & (tau <= 6.0))
    assert len(np.unique(tau)) == 200
    pop.g = Uniform(1.0, 2.0)
    assert isinstance(pop.g, float) and 1.0 <= pop.g <= 2.0
    # same seed, same values
    net2 = Network(seed=3)
    pop2 = net2.create((20, 10), MODEL)
    pop2.tau = Uniform(5.0, 6.0)
    np.testing.assert_array_equal(pop2.tau, tau)


def test_random_parameter_values_at_creation():
    net = Network(seed=1)
    pop = net.create(1000, Neuron(parameters="b = Uniform(-1, 1)\nc = Normal(5, 0.1) : population"))
    assert pop.b.shape == (1000,)
    assert -1.0 <= pop.b.min() < -0.9 and 0.9 < pop.b.max() <= 1.0
    assert isinstance(pop.c, float) and 4.0 < pop.c < 6.0


def test_population_level_parameters_are_floats_and_settable():
    pop = make()
    pop.g = 3
    assert pop.g == 3.0 and isinstance(pop.g, float)
    pop.g = np.float64(4.5)
    assert pop.g == 4.5
    pop.g = np.array(5.5)  # a 0-d array is one number
    assert pop.g == 5.5


def test_population_level_parameter_change_is_seen_by_the_next_step():
    net = Network()
    pop = net.create(2, Neuron(parameters="g = 1.0 : population", equations="r = g"))
    net.step()
    pop.g = 3.0
    net.step()
    np.testing.assert_array_equal(pop.r, [3.0, 3.0])


def test_setting_a_local_parameter_after_compile_is_seen():
    net = Network()
    pop = net.create(2, Neuron(parameters="k = 1.0", equations="r = k"))
    net.step()
    pop.k = [5.0, 6.0]
    net.step()
    np.testing.assert_array_equal(pop.r, [5.0, 6.0])


def test_wrong_shape_message_names_population_attribute_and_shapes():
    pop = make((2, 3), name="exc")
    with pytest.raises(ValidationError) as info:
        pop.r = np.ones(4)
    assert str(info.value) == ("Population 'exc'.r: expected a number or an array of shape (2, 3) or (6,) "
                               "(got shape (4,))")
    with pytest.raises(ValidationError, match=r"Population 'exc'\.tau: .*\(2, 3\) or \(6,\) \(got shape \(3, 2\)\)"):
        pop.tau = np.ones((3, 2))
    one_d = make(4, name="inp")
    with pytest.raises(ValidationError, match=r"Population 'inp'\.r: expected a number or an array of shape "
                                              r"\(4,\) \(got shape \(2, 2\)\)"):
        one_d.r = np.ones((2, 2))
    np.testing.assert_array_equal(pop.r, 0.0)  # nothing was written


def test_non_numeric_values_are_rejected():
    pop = make(3, name="p")
    with pytest.raises(ValidationError, match=r"Population 'p'\.r: expected numbers \(got 'abc'\)"):
        pop.r = "abc"
    with pytest.raises(ValidationError, match=r"Population 'p'\.g: expected a number"):
        pop.g = "x"


def test_setting_an_array_on_a_population_level_parameter():
    pop = make(3, name="p")
    with pytest.raises(ValidationError) as info:
        pop.g = np.ones(3)
    assert str(info.value).startswith("Population 'p'.g: is one value for the whole population: expected a "
                                      "single number")
    with pytest.raises(ValidationError, match="one value for the whole population"):
        pop.set({"g": [1.0, 2.0, 3.0]})
    assert pop.g == 2.0


def test_unknown_attribute_with_suggestion():
    pop = make(3, name="p")
    with pytest.raises(AttributeError) as info:
        pop.tua
    assert str(info.value) == "Population 'p' has no attribute 'tua'; did you mean 'tau'? (attributes: tau, g, k, r, m)"
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        pop.tua = 3.0
    with pytest.raises(AttributeError, match="has no attribute 'zzz' \\(attributes"):
        pop.zzz
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        pop.set({"tua": 1.0})
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        pop.get("taus")


def test_structural_attributes_cannot_change():
    pop = make(3, name="p")
    for name in ("geometry", "size", "neuron_type", "network"):
        with pytest.raises(AttributeError, match=f"Population 'p'.{name} cannot be changed after creation"):
            setattr(pop, name, 5)


def test_get_and_set():
    pop = make((2, 2))
    tau = pop.get("tau")
    np.testing.assert_array_equal(tau, np.full((2, 2), 10.0))
    assert pop.get("g") == 2.0
    pop.set({"tau": [1.0, 2.0, 3.0, 4.0], "g": 7.0, "r": 0.5})
    np.testing.assert_array_equal(pop.tau, [[1.0, 2.0], [3.0, 4.0]])
    assert pop.g == 7.0
    np.testing.assert_array_equal(pop.r, np.full((2, 2), 0.5))
    with pytest.raises(ValidationError, match=r"set: expects a dict"):
        pop.set([("tau", 1.0)])


def test_population_reset_restores_compile_time_values():
    net = Network()
    pop = net.create(3, Neuron(parameters="k = 1.0\ng = 1.0 : population",
                               equations="r = r + k\nm = max(r) : population"))
    pop.k = [1.0, 2.0, 3.0]
    net.compile()
    net.simulate(3.0)
    assert pop.m > 0.0
    pop.k = 10.0
    pop.g = 5.0
    pop.reset(["r"])  # only r
    np.testing.assert_array_equal(pop.r, 0.0)
    np.testing.assert_array_equal(pop.k, 10.0)
    pop.reset()
    np.testing.assert_array_equal(pop.k, [1.0, 2.0, 3.0])
    assert pop.g == 1.0 and pop.m == 0.0
    net.simulate(1.0)
    # the global operation was reset too: m reads it one step late, 0 after a reset
    assert pop.m == 0.0
    net.simulate(1.0)
    assert pop.m == 3.0  # max of r after the first step
    with pytest.raises(AttributeError, match="did you mean 'k'"):
        pop.reset(["kk"])


def test_population_reset_clears_sums():
    net = Network()
    inp = InputArray(2, network=net)
    post = net.create(2, LINEAR)
    net.connect(inp, post, "exc").one_to_one(1.0)
    inp.r = 1.0
    net.compile()
    net.step()
    np.testing.assert_array_equal(post.sum("exc"), [1.0, 1.0])
    post.reset()
    np.testing.assert_array_equal(post.sum("exc"), [0.0, 0.0])


def test_sum_accessor():
    pop = make(2, LINEAR, name="p")
    np.testing.assert_array_equal(pop.sum("exc"), [0.0, 0.0])
    assert pop.targets == ["exc"]
    with pytest.raises(ValidationError, match=r"Population 'p'\.target: no projection or equation uses this "
                                              r"target \(known: exc\) \(got 'inh'\)"):
        pop.sum("inh")


# ---------------------------------------------------------------------------
# coordinates


@pytest.mark.parametrize("geometry", [(7,), (3, 4), (2, 3, 4), (1, 5), (2, 2, 2, 3)])
def test_rank_coordinates_round_trip(geometry):
    pop = make(geometry, INPUT)
    for rank in range(pop.size):
        coord = np.unravel_index(rank, geometry)
        expected = tuple(int(c) for c in coord)
        assert pop.coordinates_from_rank(rank) == expected
        assert pop.rank_from_coordinates(expected) == rank
        normalized = pop.normalized_coordinates_from_rank(rank)
        ref = tuple(c / (g - 1) if g > 1 else 0.0 for c, g in zip(expected, geometry))
        assert normalized == pytest.approx(ref, abs=1e-15)
        assert pop.normalized_coordinates_from_rank(rank, norm=4.0) == pytest.approx(
            tuple(4.0 * x for x in ref), abs=1e-15)


def test_coordinates_examples_by_hand():
    pop = make((4, 5), INPUT)
    assert pop.rank_from_coordinates((2, 3)) == 13
    assert pop.coordinates_from_rank(13) == (2, 3)
    assert pop.normalized_coordinates_from_rank(13) == pytest.approx((2 / 3, 3 / 4))
    assert pop.normalized_coordinates_from_rank(19) == (1.0, 1.0)
    line = make(5, INPUT)
    assert line.rank_from_coordinates(3) == 3
    assert line.normalized_coordinates_from_rank(2) == (0.5,)


def test_coordinate_errors():
    pop = make((4, 5), INPUT, name="p")
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord: must be 2 integers within \(4, 5\) "
                                              r"\(got \(4, 0\)\)"):
        pop.rank_from_coordinates((4, 0))
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord"):
        pop.rank_from_coordinates((1, 2, 3))
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord"):
        pop.rank_from_coordinates((-1, 2))
    with pytest.raises(ValidationError, match=r"Population 'p'\.rank: must be an integer in \[0, 20\) \(got 20\)"):
        pop.coordinates_from_rank(20)
    with pytest.raises(ValidationError, match=r"Population 'p'\.rank"):
        pop.coordinates_from_rank(-1)
    with pytest.raises(ValidationError, match=r"Population 'p'\.rank"):
        pop.normalized_coordinates_from_rank(2.0)


# ---------------------------------------------------------------------------
# single neurons


def test_neuron_by_rank_and_coordinates():
    pop = make((4, 5), INPUT)
    pop.r = np.arange(20.0)
    n = pop.neuron(7)
    assert isinstance(n, IndividualNeuron)
    assert n.rank == 7 and n.coordinates == (1, 2) and n.r == 7.0
    assert pop.neuron(1, 2).rank == 7
    assert pop.neuron((3, 4)).rank == 19
    n.r = -1.0
    assert pop.r[1, 2] == -1.0
    np.testing.assert_array_equal(n.ranks, [7])
    line = make(6, INPUT)
    assert line.neuron(4).rank == 4


def test_neuron_reads_population_level_attributes():
    pop = make(3)
    n = pop.neuron(1)
    assert n.g == 2.0 and n.tau == 10.0
    assert isinstance(n.tau, float)
    assert "neuron 1" in repr(n)


def test_wrong_neuron_errors():
    pop = make((4, 5), MODEL, name="p")
    with pytest.raises(ValidationError, match=r"Population 'p'\.rank: must be an integer in \[0, 20\) \(got 20\)"):
        pop.neuron(20)
    with pytest.raises(ValidationError, match=r"Population 'p'\.rank"):
        pop.neuron(-1)
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord: must be 2 integers within \(4, 5\)"):
        pop.neuron(1, 5)
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord"):
        pop.neuron(1, 2, 3)
    with pytest.raises(ValidationError, match=r"Population 'p'\.coord"):
        pop.neuron("a")
    n = pop.neuron(3)
    with pytest.raises(AttributeError, match=r"neuron 3 of Population 'p' has no attribute 'zz'"):
        n.zz
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        n.tua = 1.0
    with pytest.raises(ValidationError, match="is shared by the whole population: set it on the population"):
        n.g = 1.0
    with pytest.raises(ValidationError, match="expected a single number"):
        n.tau = [1.0, 2.0]


def test_iterating_yields_every_neuron():
    pop = make((2, 2), INPUT)
    assert [n.rank for n in pop] == [0, 1, 2, 3]


# ---------------------------------------------------------------------------
# views


def test_integer_index_is_a_rank():
    pop = make((4, 5), INPUT)
    assert isinstance(pop[7], IndividualNeuron) and pop[7].rank == 7
    assert pop[-1].rank == 19
    assert pop[1, 2].rank == 7
    with pytest.raises(IndexError, match="out of range for 20 neurons"):
        pop[20]


def test_slice_of_a_one_dimensional_population():
    pop = make(8, INPUT)
    view = pop[2:5]
    assert isinstance(view, PopulationView)
    np.testing.assert_array_equal(view.ranks, [2, 3, 4])
    assert view.size == 3 == len(view) and view.geometry == (3,)
    np.testing.assert_array_equal(pop[::3].ranks, [0, 3, 6])
    np.testing.assert_array_equal(pop[[0, 4]].ranks, [0, 4])
    np.testing.assert_array_equal(pop[np.array([5, 1])].ranks, [5, 1])


def test_single_slice_on_a_2d_population_selects_ranks_as_in_annarchy():
    """ANNarchy 4.x: ``pop[a:b]`` is the ranks a..b-1 whatever the geometry (as an int is a rank)."""
    pop = make((4, 5), INPUT)
    np.testing.assert_array_equal(pop[2:5].ranks, [2, 3, 4])


def test_column_view_and_block_view():
    pop = make((4, 5), INPUT)
    values = np.arange(20.0).reshape(4, 5)
    pop.r = values
    column = pop[:, 3]
    np.testing.assert_array_equal(column.ranks, [3, 8, 13, 18])
    assert column.geometry == (4,)
    np.testing.assert_array_equal(column.r, values[:, 3])
    block = pop[1:3, 2:4]
    assert block.geometry == (2, 2)
    np.testing.assert_array_equal(block.ranks, [7, 8, 12, 13])
    # as in ANNarchy, a view's values are flat, in the order of its ranks
    np.testing.assert_array_equal(block.r, values[1:3, 2:4].reshape(-1))
    np.testing.assert_array_equal(block.get("r"), [7.0, 8.0, 12.0, 13.0])
    with pytest.raises(ValueError, match="read-only"):
        block.r[0] = 1.0
    sub = block[0:1, :]  # a view of a view
    np.testing.assert_array_equal(sub.ranks, [7, 8])
    np.testing.assert_array_equal(pop[[0, 4]].r, [0.0, 4.0])


def test_view_set_scalar_flat_and_distribution():
    net = Network(seed=0)
    pop = net.create((4, 5), MODEL)
    ref = np.full((4, 5), 10.0)
    pop[:, 3].tau = 1.0
    ref[:, 3] = 1.0
    np.testing.assert_array_equal(pop.tau, ref)
    pop[1:3, 0:2].tau = [5.0, 6.0, 7.0, 8.0]
    ref[1:3, 0:2] = [[5.0, 6.0], [7.0, 8.0]]
    np.testing.assert_array_equal(pop.tau, ref)
    pop[[0, 19]].set({"r": [1.0, 2.0]})
    expected_r = np.zeros(20)
    expected_r[[0, 19]] = [1.0, 2.0]
    np.testing.assert_array_equal(pop.r.ravel(), expected_r)
    pop[0:2, :].k = Uniform(3.0, 4.0)
    k = pop.k
    assert np.all((k[:2] >= 3.0) & (k[:2] <= 4.0)) and np.all(k[2:] == 1.0)
    assert len(np.unique(k[:2])) == 10


def test_view_set_with_an_array_shaped_like_the_view():
    pop = make((4, 5), INPUT)
    view = pop[1:3, 2:4]
    view.r = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.zeros((4, 5))
    expected[1:3, 2:4] = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(pop.r, expected)


def test_view_errors():
    pop = make((4, 5), MODEL, name="p")
    view = pop[:, 1]
    with pytest.raises(ValidationError, match=r"\(got shape \(3,\)\)"):
        view.r = np.ones(3)
    with pytest.raises(ValidationError, match="is shared by the whole population: set it on the population itself"):
        view.g = 1.0
    assert view.g == 2.0  # reading works
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        view.tua
    with pytest.raises(AttributeError, match="did you mean 'tau'"):
        view.tua = 1.0
    with pytest.raises(ValidationError, match="must not repeat a neuron"):
        pop[[0, 0]]
    with pytest.raises(IndexError, match="selects no neuron"):
        pop[3:3]
    with pytest.raises(IndexError, match="cannot index"):
        pop[4, 0]
    with pytest.raises(ValidationError, match=r"must lie in \[0, 20\)"):
        PopulationView(pop, [3, 25])


def test_views_of_views_and_addition():
    pop = make(10, INPUT)
    view = pop[2:8][1:3]
    np.testing.assert_array_equal(view.ranks, [3, 4])
    joined = pop[0:2] + pop[[5]]
    np.testing.assert_array_equal(joined.ranks, [0, 1, 5])
    other = make(10, INPUT)
    with pytest.raises(ValidationError, match="same population"):
        pop[0:2] + other[0:2]


def test_views_as_projection_pre_and_post():
    net = Network()
    pre = InputArray((3, 4), network=net)
    post = net.create(6, LINEAR)
    values = np.arange(12.0).reshape(3, 4) / 10.0
    pre.r = values
    w = np.arange(9.0).reshape(3, 3) - 4.0
    net.connect(pre[:, 1], post[[0, 2, 5]], "exc").from_matrix(w)
    net.connect(pre[0:2, 2:4], post[1:5], "exc").one_to_one(2.0)
    net.simulate(2.0)
    expected = np.zeros(6)
    expected[[0, 2, 5]] += w @ values[:, 1]
    expected[1:5] += 2.0 * values[0:2, 2:4].ravel()
    np.testing.assert_allclose(post.r, expected, rtol=1e-14)
    np.testing.assert_allclose(post[[0, 2, 5]].sum("exc"), expected[[0, 2, 5]], rtol=1e-14)


def test_view_reads_current_values_after_simulation():
    net = Network()
    pop = net.create((2, 3), Neuron(parameters="k = 1.0", equations="r = r + k"))
    pop.k = np.arange(6.0)
    view = pop[:, 2]
    net.simulate(3.0)
    np.testing.assert_array_equal(view.r, [6.0, 15.0])


# ---------------------------------------------------------------------------
# InputArray and TimedArray


def test_input_array_keeps_its_values_and_feeds_projections():
    net = Network()
    inp = InputArray((2, 2), network=net, name="in")
    assert inp.name == "in" and inp.geometry == (2, 2)
    post = net.create(4, LINEAR)
    net.connect(inp, post, "exc").all_to_all(1.0)
    inp.r = [[0.1, 0.2], [0.3, 0.4]]
    net.simulate(5.0)
    np.testing.assert_array_equal(inp.r, [[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(post.r, np.full(4, 1.0))
    inp.r = 0.0
    net.step()
    np.testing.assert_array_equal(post.r, 0.0)


def test_input_array_module_level_and_errors():
    inp = InputArray(3)
    assert inp.network is ratenet.default_network()
    with pytest.raises(ValidationError, match=r"InputArray\.geometry: is required"):
        InputArray()
    with pytest.raises(ValidationError, match="geometry"):
        InputArray(0)


def _replay(rates, steps, schedule_steps=1, period_steps=0):
    """Reference: the value of r after each step, from the TimedArray docstring."""
    out, current = [], np.zeros(rates.shape[1:])
    for n in range(steps):
        k = n % period_steps if period_steps else n
        if k % schedule_steps == 0 and k // schedule_steps < len(rates):
            current = rates[k // schedule_steps]
        out.append(current)
    return np.array(out)


@pytest.mark.parametrize("dt, schedule, period", [
    (1.0, 0.0, -1.0),
    (1.0, 2.0, -1.0),
    (1.0, 0.0, 5.0),
    (1.0, 2.0, 8.0),
    (0.5, 1.5, -1.0),
    (0.1, 0.3, 1.5),
])
def test_timed_array_schedule_and_period(dt, schedule, period):
    net = Network(dt=dt)
    rates = np.arange(1.0, 5.0)[:, None] * np.array([1.0, -1.0])
    ta = TimedArray(rates, schedule=schedule, period=period, network=net)
    assert ta.geometry == (2,)
    mon = net.monitor(ta, "r")
    n = 30
    net.simulate(n * dt)
    every = round(schedule / dt) if schedule > 0 else 1
    per = round(period / dt) if period > 0 else 0
    np.testing.assert_array_equal(mon.get("r"), _replay(rates, n, every, per))


def test_timed_array_by_hand_and_last_value_kept():
    net = Network()
    ta = TimedArray(np.array([[1.0], [2.0], [3.0]]), network=net)
    net.step()
    assert ta.r.tolist() == [1.0]  # rates[0] during step 0
    net.simulate(1.0)
    assert ta.r.tolist() == [2.0]
    net.simulate(10.0)
    assert ta.r.tolist() == [3.0]  # kept


def test_timed_array_geometry_reset_and_update():
    net = Network()
    rates = np.arange(12.0).reshape(2, 2, 3)
    ta = TimedArray(rates, network=net)
    assert ta.geometry == (2, 3)
    net.simulate(2.0)
    np.testing.assert_array_equal(ta.r, rates[1])
    net.reset()
    np.testing.assert_array_equal(ta.r, 0.0)
    net.step()
    np.testing.assert_array_equal(ta.r, rates[0])
    explicit = TimedArray(np.ones((3, 6)), geometry=(2, 3), network=net)
    assert explicit.geometry == (2, 3)
    ta.update(-rates, schedule=1.0)
    net.reset()
    net.step()
    np.testing.assert_array_equal(ta.r, -rates[0])


def test_timed_array_errors():
    net = Network()
    with pytest.raises(ValidationError, match=r"TimedArray\.rates: must have shape \(steps, \*geometry\) "
                                              r"\(got shape \(3,\)\)"):
        TimedArray([1.0, 2.0, 3.0], network=net)
    with pytest.raises(ValidationError, match=r"TimedArray\.rates: must be an array of numbers"):
        TimedArray("abc", network=net)
    with pytest.raises(ValidationError, match=r"TimedArray\.rates"):
        TimedArray(np.ones((3, 2)), geometry=3, network=net)
    with pytest.raises(ValidationError, match=r"schedule: must be >= 0"):
        TimedArray(np.ones((3, 2)), schedule=-1.0, network=net)
    with pytest.raises(ValidationError, match=r"period: must be a finite number"):
        TimedArray(np.ones((3, 2)), period=float("nan"), network=net)


def test_failed_timed_array_leaves_no_population_behind():
    net = Network()
    with pytest.raises(ValidationError):
        TimedArray(np.ones((3, 2)), schedule=-1.0, network=net, name="ta")
    assert net.populations == []
    TimedArray(np.ones((3, 2)), network=net, name="ta")  # the name is still free


def test_timed_array_error_names_the_timed_array():
    net = Network()
    with pytest.raises(ValidationError, match=r"^TimedArray"):
        TimedArray(np.ones((3, 2)), schedule=-1.0, network=net)


# ---------------------------------------------------------------------------
# default network


def test_population_joins_the_default_network():
    pop = Population(3, MODEL, name="exc")
    assert pop.network is ratenet.default_network()
    assert ratenet.get_population("exc") is pop
    assert repr(pop) == "<Population 'exc': 3 neurons (3,), Neuron; r = 0>"


def test_automatic_names_are_unique():
    net = Network()
    names = {net.create(1, INPUT).name for _ in range(5)}
    assert len(names) == 5
