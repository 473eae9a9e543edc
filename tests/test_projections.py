"""Tests of ratenet's ordinary projections: connectors, storage, transmission, inspection, errors.

Every expectation is computed here, independently of ratenet's code paths:

* connectivity patterns from brute-force Python loops over (post, pre) pairs
  (Gaussian / DoG weights from normalised coordinates ``c / (g - 1)``, 0 when
  ``g == 1``, as DESIGN.md section 5 and ANNarchy's ``Connector.pyx`` define
  them);
* the summed input of one step from a loop over the synapses
  (``sum_j psp(w_ij, pre.r_j, post.r_i)``, then ``sum``/``max``/``min``/``mean``
  per post neuron, 0 for a post neuron without synapses);
* statistics of random connectors from the binomial mean and standard deviation.

Storage is inspected through the projection's private ``_storage.kind`` only
where the storage choice itself is under test.  Speed is measured in
``benchmarks/bench_connectors.py``, never asserted here.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp

from ratenet import (
    DiscreteUniform,
    LILConnectivity,
    Network,
    Neuron,
    Normal,
    Population,
    Projection,
    Synapse,
    Uniform,
    ValidationError,
    clear,
    simulate,
)

# Input-like neurons: ``r`` is a parameter the test sets, never changed by simulate.
INPUT = Neuron(parameters="r = 0.0")
# A neuron with extra attributes, for synapses reading pre.x / post.x.
RICH = Neuron(parameters="r = 0.0\nx = 0.0")


# =============================================================================== helpers


def make(pre_geometry=5, post_geometry=4, seed=0, dtype=np.float64, same=False):
    """A network with a ``pre`` and a ``post`` population of INPUT neurons (or one population when ``same``)."""
    net = Network(seed=seed, dtype=dtype)
    pre = net.create(pre_geometry, INPUT, name="pre")
    post = pre if same else net.create(post_geometry, INPUT, name="post")
    return net, pre, post


def rows_of(proj):
    """(post_rank, pre_ranks, weights) for each dendrite, through the public API."""
    w = proj.w
    if isinstance(w, np.ndarray):
        assert w.ndim == 2
        w = list(w)
    post_ranks, pre_ranks = proj.post_ranks, proj.pre_ranks
    assert len(post_ranks) == len(pre_ranks) == len(w) == proj.size
    return list(zip(post_ranks, pre_ranks, w))


def table(proj):
    """{(post population rank, pre population rank): weight} of every synapse."""
    out = {}
    for post, pres, ws in rows_of(proj):
        ws = np.asarray(ws, dtype=np.float64)
        assert len(pres) == len(ws)
        assert len(set(pres)) == len(pres), "a dendrite lists a pre neuron twice"
        for pre, w in zip(pres, ws):
            out[(int(post), int(pre))] = float(w)
    assert len(out) == proj.nb_synapses
    return out


def matrix_table(matrix):
    """{(post, pre): w} of a post x pre list-of-lists / array with None meaning no synapse."""
    out = {}
    for i, row in enumerate(matrix):
        for j, w in enumerate(row):
            if w is not None:
                out[(i, j)] = float(w)
    return out


def brute_input(tab, pre_r, post_size, psp=None, operation="sum", post_r=None):
    """The summed input of every post neuron (population ranks), one synapse at a time."""
    pre_r = np.asarray(pre_r, dtype=np.float64).reshape(-1)
    post_r = None if post_r is None else np.asarray(post_r, dtype=np.float64).reshape(-1)
    psp = psp or (lambda w, pre, post: w * pre)
    values = defaultdict(list)
    for (i, j), w in tab.items():
        values[i].append(psp(w, pre_r[j], None if post_r is None else post_r[i]))
    out = np.zeros(post_size)
    for i, v in values.items():
        if operation == "sum":
            out[i] = math.fsum(v)
        elif operation == "max":
            out[i] = max(v)
        elif operation == "min":
            out[i] = min(v)
        elif operation == "mean":
            out[i] = math.fsum(v) / len(v)
        else:  # pragma: no cover
            raise AssertionError(operation)
    return out


def normalized(geometry, rank):
    """Normalised coordinates c / (g - 1) of a rank; 0 along an axis of size 1."""
    coords = np.unravel_index(rank, geometry)
    return [c / (g - 1) if g > 1 else 0.0 for c, g in zip(coords, geometry)]


def brute_distance(pre_geometry, post_geometry, profile, threshold, same):
    """{(post, pre): w} kept by a distance-based connector, by a double loop."""
    out = {}
    pre_size, post_size = math.prod(pre_geometry), math.prod(post_geometry)
    for i in range(post_size):
        ci = normalized(post_geometry, i)
        for j in range(pre_size):
            if same and i == j:
                continue
            cj = normalized(pre_geometry, j)
            d2 = sum((a - b) ** 2 for a, b in zip(ci, cj))
            w = profile(d2)
            if abs(w) > threshold:
                out[(i, j)] = w
    return out


def assert_tables_close(got, expected, rtol=1e-12, atol=0.0):
    assert set(got) == set(expected), (
        f"missing {sorted(set(expected) - set(got))[:10]}, extra {sorted(set(got) - set(expected))[:10]}")
    keys = sorted(expected)
    np.testing.assert_allclose([got[k] for k in keys], [expected[k] for k in keys], rtol=rtol, atol=atol)


def set_rates(pop, rng, low=-1.0, high=1.0):
    values = rng.uniform(low, high, size=pop.geometry)
    pop.r = values
    return values.reshape(-1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# =============================================================================== connectors


class TestAllToAll:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_distinct_populations(self, fmt):
        net, pre, post = make((3, 4), 5)
        proj = net.connect(pre, post, "exc")
        assert proj.connect_all_to_all(0.5, storage_format=fmt) is proj
        expected = {(i, j): 0.5 for i in range(5) for j in range(12)}
        assert table(proj) == expected
        assert proj.nb_synapses == 60
        assert proj.size == len(proj) == 5
        assert proj.post_ranks == list(range(5))

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("allow", [False, True])
    def test_same_population(self, fmt, allow):
        net, pop, _ = make(6, same=True)
        proj = net.connect(pop, pop, "exc").connect_all_to_all(1.5, allow_self_connections=allow,
                                                               storage_format=fmt)
        expected = {(i, j): 1.5 for i in range(6) for j in range(6) if allow or i != j}
        assert table(proj) == expected
        assert proj.nb_synapses == (36 if allow else 30)
        for d in proj.dendrites:
            assert (d.post_rank in d.pre_ranks) == allow

    def test_self_connections_allowed_by_default_between_different_populations(self):
        # Only pre *is* post excludes the diagonal; two populations of equal size keep it.
        net, pre, post = make(4, 4)
        proj = net.connect(pre, post).connect_all_to_all(1.0)
        assert proj.nb_synapses == 16

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("allow", [False, True])
    @pytest.mark.parametrize("views", [
        (slice(0, 6), slice(4, 10)),   # overlapping 1-D slices
        (slice(2, 5), slice(0, 10)),   # a view into the whole population
        (slice(0, 10), slice(7, 9)),   # the whole population into a view
        (slice(0, 3), slice(5, 8)),    # disjoint slices: nothing to exclude
    ])
    def test_views_of_one_population(self, fmt, allow, views):
        net, pop, _ = make(10, same=True)
        pre = pop if views[0] == slice(0, 10) else pop[views[0]]
        post = pop if views[1] == slice(0, 10) else pop[views[1]]
        proj = net.connect(pre, post).connect_all_to_all(2.0, allow_self_connections=allow, storage_format=fmt)
        pre_ranks = range(10)[views[0]]
        post_ranks = range(10)[views[1]]
        expected = {(i, j): 2.0 for i in post_ranks for j in pre_ranks if allow or i != j}
        assert table(proj) == expected

    @pytest.mark.parametrize("allow", [False, True])
    def test_2d_views_column_and_row(self, allow):
        net, pop, _ = make((4, 5), same=True)
        column, row = pop[:, 1], pop[2, :]          # they share the neuron (2, 1) = rank 11
        proj = net.connect(column, row).connect_all_to_all(1.0, allow_self_connections=allow)
        col_ranks = [r * 5 + 1 for r in range(4)]
        row_ranks = [2 * 5 + c for c in range(5)]
        expected = {(i, j): 1.0 for i in row_ranks for j in col_ranks if allow or i != j}
        assert table(proj) == expected
        assert ((11, 11) in table(proj)) == allow

    def test_uniform_weights_range_and_reproducibility(self):
        def build(seed, fmt=None):
            net, pre, post = make(30, 20, seed=seed)
            return net.connect(pre, post).connect_all_to_all(Uniform(0.2, 0.7), storage_format=fmt)

        a, b, c = build(3), build(3), build(4)
        wa = a.connectivity_matrix()
        assert wa.shape == (20, 30)
        assert ((wa >= 0.2) & (wa <= 0.7)).all()
        assert np.unique(wa).size > 500                 # really drawn per synapse
        np.testing.assert_array_equal(wa, b.connectivity_matrix())
        assert not np.array_equal(wa, c.connectivity_matrix())
        # A full all-to-all draws the same stream in both layouts.
        np.testing.assert_array_equal(wa, build(3, "csr").connectivity_matrix())

    def test_two_projections_of_one_network_draw_different_weights(self):
        net, pre, post = make(10, 10, seed=1)
        p1 = net.connect(pre, post, "exc").connect_all_to_all(Uniform(0, 1))
        p2 = net.connect(pre, post, "inh").connect_all_to_all(Uniform(0, 1))
        assert not np.array_equal(p1.connectivity_matrix(), p2.connectivity_matrix())

    def test_normal_weights_with_bounds(self):
        net, pre, post = make(50, 40, seed=2)
        proj = net.connect(pre, post).connect_all_to_all(Normal(0.0, 1.0, min=-0.5, max=0.5))
        w = proj.connectivity_matrix()
        assert w.min() >= -0.5 and w.max() <= 0.5
        assert abs(w.mean()) < 0.05
        assert (w == 0.5).any() and (w == -0.5).any()   # the bounds clip


class TestOneToOne:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_pairs(self, fmt):
        net, pre, post = make((2, 3), 6)
        proj = net.connect(pre, post).connect_one_to_one(0.25, storage_format=fmt)
        assert table(proj) == {(i, i): 0.25 for i in range(6)}
        assert proj.pre_ranks == [[i] for i in range(6)]

    def test_default_weight_is_one(self):
        net, pre, post = make(3, 3)
        proj = net.connect(pre, post).connect_one_to_one()
        assert table(proj) == {(i, i): 1.0 for i in range(3)}

    def test_same_population_connects_each_neuron_to_itself(self):
        net, pop, _ = make(4, same=True)
        proj = net.connect(pop, pop).connect_one_to_one(1.0)
        assert table(proj) == {(i, i): 1.0 for i in range(4)}

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_views_pair_in_view_order(self, fmt):
        net, pre, post = make(10, (3, 4))
        proj = net.connect(pre[2:5], post[:, 1]).connect_one_to_one(1.0, storage_format=fmt)
        assert table(proj) == {(1, 2): 1.0, (5, 3): 1.0, (9, 4): 1.0}

    def test_distribution_weights(self):
        net, pre, post = make(200, 200, seed=5)
        proj = net.connect(pre, post).connect_one_to_one(DiscreteUniform(1, 3))
        w = np.array(list(table(proj).values()))
        assert set(np.unique(w)) == {1.0, 2.0, 3.0}


def _statistics(n, p):
    mean = n * p
    sd = math.sqrt(n * p * (1 - p))
    return mean, sd


class TestFixedProbability:
    @pytest.mark.parametrize("p", [0.1, 0.5])
    def test_count_statistics(self, p):
        net, pre, post = make(200, 150, seed=11)
        proj = net.connect(pre, post).connect_fixed_probability(p, 1.0)
        mean, sd = _statistics(200 * 150, p)
        assert abs(proj.nb_synapses - mean) < 5 * sd
        # Each dendrite: distinct pre neurons, sizes binomial(200, p) on average.
        sizes = np.array(proj.nb_synapses_per_dendrite())
        assert abs(sizes.mean() - 200 * p) < 5 * math.sqrt(200 * p * (1 - p) / len(sizes))
        for pres in proj.pre_ranks:
            assert len(set(pres)) == len(pres)
            assert all(0 <= r < 200 for r in pres)
        # Every pre neuron about equally likely.
        out_degree = np.bincount(np.concatenate([np.asarray(r) for r in proj.pre_ranks]), minlength=200)
        m, s = _statistics(150, p)
        assert abs(out_degree.mean() - m) < 5 * s / math.sqrt(200)

    @pytest.mark.parametrize("p", [0.1, 0.5])
    def test_no_self_connections(self, p):
        net, pop, _ = make(150, same=True, seed=12)
        proj = net.connect(pop, pop).connect_fixed_probability(p, 1.0)
        tab = table(proj)
        assert not any(i == j for i, j in tab)
        mean, sd = _statistics(150 * 149, p)
        assert abs(len(tab) - mean) < 5 * sd

    def test_self_connections_allowed(self):
        net, pop, _ = make(60, same=True, seed=3)
        proj = net.connect(pop, pop).connect_fixed_probability(1.0, 1.0, allow_self_connections=True)
        assert proj.nb_synapses == 3600
        net, pop, _ = make(60, same=True, seed=3)
        proj = net.connect(pop, pop).connect_fixed_probability(0.5, 1.0, allow_self_connections=True)
        assert any(i == j for i, j in table(proj))

    def test_extremes(self):
        net, pre, post = make(20, 10)
        empty = net.connect(pre, post, "a").connect_fixed_probability(0.0, 1.0)
        full = net.connect(pre, post, "b").connect_fixed_probability(1.0, 1.0)
        assert empty.nb_synapses == 0 and empty.size == 0 and empty.post_ranks == []
        assert full.nb_synapses == 200

    def test_views_of_one_population_exclude_self(self):
        net, pop, _ = make(30, same=True, seed=8)
        proj = net.connect(pop[0:20], pop[10:30]).connect_fixed_probability(1.0, 1.0)
        expected = {(i, j): 1.0 for i in range(10, 30) for j in range(20) if i != j}
        assert table(proj) == expected

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_reproducible_with_seed(self, fmt):
        def build(seed):
            net, pre, post = make(40, 30, seed=seed)
            return table(net.connect(pre, post).connect_fixed_probability(0.3, Uniform(-1, 1), storage_format=fmt))

        a, b, c = build(21), build(21), build(22)
        assert a == b
        assert a != c
        w = np.array(list(a.values()))
        assert (w >= -1).all() and (w <= 1).all() and np.unique(w).size == w.size


class TestFixedNumber:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_pre_exact_counts(self, fmt):
        net, pre, post = make(20, 15, seed=4)
        proj = net.connect(pre, post).connect_fixed_number_pre(5, 0.5, storage_format=fmt)
        assert proj.post_ranks == list(range(15))
        for pres in proj.pre_ranks:
            assert len(pres) == 5 == len(set(pres))
            assert all(0 <= r < 20 for r in pres)
        assert proj.nb_synapses == 75
        assert set(table(proj).values()) == {0.5}

    def test_pre_self_excluded(self):
        net, pop, _ = make(10, same=True, seed=5)
        proj = net.connect(pop, pop).connect_fixed_number_pre(9, 1.0)
        # 9 of the 9 others: the pattern is forced.
        assert table(proj) == {(i, j): 1.0 for i in range(10) for j in range(10) if i != j}
        net, pop, _ = make(10, same=True, seed=5)
        proj = net.connect(pop, pop).connect_fixed_number_pre(4, 1.0)
        for d in proj.dendrites:
            assert d.size == 4 and d.post_rank not in d.pre_ranks

    def test_pre_self_allowed(self):
        net, pop, _ = make(8, same=True, seed=6)
        proj = net.connect(pop, pop).connect_fixed_number_pre(8, 1.0, allow_self_connections=True)
        assert proj.nb_synapses == 64

    def test_pre_views_of_one_population(self):
        net, pop, _ = make(12, same=True, seed=7)
        pre, post = pop[0:6], pop[3:9]
        proj = net.connect(pre, post).connect_fixed_number_pre(5, 1.0)
        for d in proj.dendrites:
            assert d.size == 5 and len(set(d.pre_ranks)) == 5
            assert set(d.pre_ranks) <= set(range(6))
            assert d.post_rank not in d.pre_ranks
        # post neurons 6..8 are not in pre: any 5 of the 6 pre neurons.
        assert proj.post_ranks == list(range(3, 9))

    def test_pre_uniform_choice(self):
        net, pre, post = make(10, 1000, seed=8)
        proj = net.connect(pre, post).connect_fixed_number_pre(3, 1.0)
        counts = np.bincount(np.concatenate([np.asarray(r) for r in proj.pre_ranks]), minlength=10)
        mean, sd = _statistics(1000, 0.3)
        assert counts.sum() == 3000
        assert (np.abs(counts - mean) < 5 * sd).all()

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_post_exact_counts(self, fmt):
        net, pre, post = make(15, 20, seed=9)
        proj = net.connect(pre, post).connect_fixed_number_post(6, 2.0, storage_format=fmt)
        per_pre = defaultdict(list)
        for (i, j) in table(proj):
            per_pre[j].append(i)
        assert sorted(per_pre) == list(range(15))
        for posts in per_pre.values():
            assert len(posts) == 6 == len(set(posts))
            assert all(0 <= r < 20 for r in posts)
        assert proj.nb_synapses == 90

    def test_post_self_excluded(self):
        net, pop, _ = make(10, same=True, seed=10)
        proj = net.connect(pop, pop).connect_fixed_number_post(9, 1.0)
        assert table(proj) == {(i, j): 1.0 for i in range(10) for j in range(10) if i != j}
        net, pop, _ = make(10, same=True, seed=10)
        tab = table(net.connect(pop, pop).connect_fixed_number_post(3, 1.0))
        assert not any(i == j for i, j in tab)
        assert all(c == 3 for c in np.bincount([j for _, j in tab], minlength=10))

    def test_post_views_of_one_population(self):
        net, pop, _ = make(12, same=True, seed=11)
        proj = net.connect(pop[0:8], pop[4:12]).connect_fixed_number_post(7, 1.0)
        tab = table(proj)
        per_pre = defaultdict(set)
        for (i, j) in tab:
            assert i != j and 4 <= i < 12 and 0 <= j < 8
            per_pre[j].add(i)
        assert all(len(v) == 7 for v in per_pre.values()) and len(per_pre) == 8

    def test_number_zero(self):
        net, pre, post = make(5, 4)
        p1 = net.connect(pre, post, "a").connect_fixed_number_pre(0, 1.0)
        p2 = net.connect(pre, post, "b").connect_fixed_number_post(0, 1.0)
        for p in (p1, p2):
            assert p.nb_synapses == 0 and p.size == 0 and p.w == [] and p.pre_ranks == []
        pre.r = 1.0
        net.step()
        np.testing.assert_array_equal(post.sum("a"), 0.0)
        np.testing.assert_array_equal(post.sum("b"), 0.0)

    @pytest.mark.parametrize("method", ["connect_fixed_number_pre", "connect_fixed_number_post"])
    def test_distribution_weights_reproducible(self, method):
        def build(seed):
            net, pre, post = make(30, 25, seed=seed)
            return table(getattr(net.connect(pre, post), method)(4, Uniform(0.1, 0.3)))

        a, b, c = build(1), build(1), build(2)
        assert a == b and a != c
        w = np.array(list(a.values()))
        assert ((w >= 0.1) & (w <= 0.3)).all()


GAUSSIAN_CASES = [
    # pre geometry, post geometry, amp, sigma, limit
    ((10,), (7,), 1.0, 0.3, 0.01),
    ((10,), (7,), -2.0, 0.2, 0.1),          # negative amplitude: kept when |w| > limit * |amp|
    ((5, 6), (4, 3), 1.5, 0.25, 0.01),
    ((5, 6), (4, 3), 1.0, 0.1, 0.5),        # strong limit: few synapses
    ((1,), (5,), 1.0, 0.5, 0.01),           # g == 1: coordinate 0
    ((5, 1), (1, 4), 1.0, 0.4, 0.05),       # an axis of size 1 on each side
    ((3, 4, 2), (2, 2, 2), 1.0, 0.4, 0.05),  # 3-D
]


class TestGaussian:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("case", GAUSSIAN_CASES, ids=lambda c: f"{c[0]}->{c[1]} amp={c[2]} s={c[3]} l={c[4]}")
    def test_against_loop(self, case, fmt):
        pre_g, post_g, amp, sigma, limit = case
        net, pre, post = make(pre_g, post_g)
        proj = net.connect(pre, post).connect_gaussian(amp, sigma, limit=limit, storage_format=fmt)
        expected = brute_distance(pre_g, post_g, lambda d2: amp * math.exp(-d2 / (2 * sigma ** 2)),
                                  limit * abs(amp), same=False)
        assert len(expected) > 0
        assert_tables_close(table(proj), expected)

    @pytest.mark.parametrize("geometry", [(9,), (4, 5)])
    @pytest.mark.parametrize("allow", [False, True])
    def test_same_population(self, geometry, allow):
        net, pop, _ = make(geometry, same=True)
        proj = net.connect(pop, pop).connect_gaussian(1.0, 0.3, allow_self_connections=allow)
        expected = brute_distance(geometry, geometry, lambda d2: math.exp(-d2 / 0.18), 0.01, same=not allow)
        assert_tables_close(table(proj), expected)

    def test_dimension_mismatch(self):
        net, pre, post = make((4, 4), 16)
        with pytest.raises(ValidationError, match="same number of dimensions"):
            net.connect(pre, post).connect_gaussian(1.0, 0.3)

    def test_delays_number(self):
        net, pre, post = make(6, 6)
        proj = net.connect(pre, post).connect_gaussian(1.0, 0.3, delays=3.0)
        assert proj.delays == 3.0


DOG_CASES = [
    # pre geometry, post geometry, amp_pos, sigma_pos, amp_neg, sigma_neg, limit
    ((12,), (9,), 1.0, 0.15, 0.5, 0.4, 0.01),
    ((6, 7), (5, 4), 2.0, 0.2, 1.0, 0.5, 0.02),
    ((6, 7), (5, 4), 0.5, 0.2, 1.0, 0.5, 0.05),   # negative-dominated: |w| kept
    ((1, 6), (1, 4), 1.0, 0.2, 0.8, 0.6, 0.01),
    ((8,), (8,), 1.0, 0.2, 1.0, 0.5, 0.0),        # amp_pos == amp_neg: threshold 0
]


class TestDoG:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("case", DOG_CASES, ids=lambda c: f"{c[0]}->{c[1]} {c[2:]}")
    def test_against_loop(self, case, fmt):
        pre_g, post_g, ap, sp_, an, sn, limit = case
        net, pre, post = make(pre_g, post_g)
        proj = net.connect(pre, post).connect_dog(ap, sp_, an, sn, limit=limit, storage_format=fmt)

        def profile(d2):
            return ap * math.exp(-d2 / (2 * sp_ ** 2)) - an * math.exp(-d2 / (2 * sn ** 2))

        expected = brute_distance(pre_g, post_g, profile, limit * abs(ap - an), same=False)
        assert len(expected) > 0
        assert_tables_close(table(proj), expected, atol=1e-14)
        if an > ap:
            assert min(expected.values()) < 0

    @pytest.mark.parametrize("allow", [False, True])
    def test_same_population(self, allow):
        g = (5, 5)
        net, pop, _ = make(g, same=True)
        proj = net.connect(pop, pop).connect_dog(1.0, 0.2, 0.5, 0.5, allow_self_connections=allow)

        def profile(d2):
            return math.exp(-d2 / 0.08) - 0.5 * math.exp(-d2 / 0.5)

        assert_tables_close(table(proj), brute_distance(g, g, profile, 0.01 * 0.5, same=not allow), atol=1e-14)


class TestFromMatrix:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_numeric_array(self, fmt, rng):
        net, pre, post = make(5, 3)
        m = rng.normal(size=(3, 5))
        m[1, 2] = 0.0                            # a zero is a synapse of weight 0
        proj = net.connect(pre, post).connect_from_matrix(m, storage_format=fmt)
        assert proj.nb_synapses == 15
        assert_tables_close(table(proj), matrix_table(m.tolist()))
        np.testing.assert_array_equal(proj.connectivity_matrix(), m)

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_none_means_no_synapse(self, fmt):
        net, pre, post = make(4, 4)
        m = [[1.0, None, 2.0, None],
             [None, None, None, None],           # a post neuron without synapses
             [0.5, 0.25, None, -1.0],
             [None, 3, None, None]]
        proj = net.connect(pre, post).connect_from_matrix(m, storage_format=fmt)
        assert table(proj) == matrix_table(m)
        assert proj.post_ranks == [0, 2, 3]
        assert proj.pre_ranks == [[0, 2], [0, 1, 3], [1]]
        assert proj.nb_synapses == 6 and proj.size == 3
        with pytest.raises(ValidationError, match="the neuron of rank 1 has no dendrite in this projection"):
            proj.dendrite(1)                     # a neuron of post without synapses has no dendrite, as in ANNarchy

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_pre_post(self, fmt):
        net, pre, post = make(3, 2)
        m_pre_post = [[1.0, None], [2.0, 3.0], [None, 4.0]]   # (pre, post)
        proj = net.connect(pre, post).connect_from_matrix(m_pre_post, pre_post=True, storage_format=fmt)
        assert table(proj) == {(0, 0): 1.0, (0, 1): 2.0, (1, 1): 3.0, (1, 2): 4.0}

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_delays_matrix(self, fmt):
        net, pre, post = make(3, 2)
        w = [[1.0, None, 2.0], [3.0, 4.0, None]]
        d = [[1.0, None, 3.0], [2.0, 5.0, None]]
        proj = net.connect(pre, post).connect_from_matrix(w, delays=d, storage_format=fmt)
        delays = proj.delays
        assert isinstance(delays, list) and len(delays) == 2
        np.testing.assert_array_equal(delays[0], [1.0, 3.0])
        np.testing.assert_array_equal(delays[1], [2.0, 5.0])

    def test_delays_matrix_pre_post(self):
        net, pre, post = make(2, 2)
        w = np.array([[1.0, 2.0], [3.0, 4.0]])          # (pre, post)
        d = np.array([[1.0, 2.0], [3.0, 4.0]])
        proj = net.connect(pre, post).connect_from_matrix(w, delays=d, pre_post=True)
        assert [list(x) for x in proj.delays] == [[1.0, 3.0], [2.0, 4.0]]

    def test_delays_number(self):
        net, pre, post = make(2, 2)
        proj = net.connect(pre, post).connect_from_matrix(np.ones((2, 2)), delays=2.0)
        assert proj.delays == 2.0

    def test_views(self):
        net, pre, post = make(10, (3, 3))
        m = np.arange(6.0).reshape(3, 2) + 1          # post view (3) x pre view (2)
        proj = net.connect(pre[[7, 2]], post[:, 0]).connect_from_matrix(m)
        expected = {(pi, pj): m[a, b] for a, pi in enumerate([0, 3, 6]) for b, pj in enumerate([7, 2])}
        assert table(proj) == expected
        np.testing.assert_array_equal(proj.connectivity_matrix(), m)


class TestFromSparse:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("kind", ["csr", "csc", "coo", "lil"])
    def test_matches_transposed_matrix(self, kind, fmt):
        net, pre, post = make(12, 9)
        m = sp.random(12, 9, density=0.3, format=kind, random_state=np.random.RandomState(1))
        proj = net.connect(pre, post).connect_from_sparse(m, storage_format=fmt)
        dense = m.toarray()
        expected = {(i, j): dense[j, i] for j, i in zip(*np.nonzero(dense))}
        assert_tables_close(table(proj), expected)
        assert proj.nb_synapses == m.nnz

    def test_delays(self):
        net, pre, post = make(3, 3)
        proj = net.connect(pre, post).connect_from_sparse(sp.eye(3, format="csr") * 2.0, delays=4.0)
        assert table(proj) == {(i, i): 2.0 for i in range(3)}
        assert proj.delays == 4.0

    def test_wrong_shape_and_type(self):
        net, pre, post = make(4, 3)
        with pytest.raises(ValidationError, match=r"must have shape \(pre.size, post.size\) = \(4, 3\)"):
            net.connect(pre, post, "a").connect_from_sparse(sp.random(3, 4, density=0.5, format="csr"))
        with pytest.raises(ValidationError, match="must be a scipy.sparse matrix"):
            net.connect(pre, post, "b").connect_from_sparse(np.ones((4, 3)))

    def test_nan(self):
        net, pre, post = make(2, 2)
        m = sp.csr_matrix(np.array([[np.nan, 1.0], [0.0, 1.0]]))
        with pytest.raises(ValidationError, match="finite"):
            net.connect(pre, post).connect_from_sparse(m)


def band(pre, post, width=1, weight=0.5, delay=1.0):
    """A user connector: post neuron i receives from pre neurons i-width..i+width."""
    lil = LILConnectivity()
    for i in range(post.size):
        ranks = [j for j in range(i - width, i + width + 1) if 0 <= j < pre.size]
        lil.add(i, ranks, [weight * (1 + k) for k in range(len(ranks))], delay)
    return lil


class TestFromFunction:
    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_band(self, fmt):
        net, pre, post = make(8, 6)
        proj = net.connect(pre, post).connect_from_function(band, width=2, weight=0.25, storage_format=fmt)
        expected = {}
        for i in range(6):
            ranks = [j for j in range(i - 2, i + 3) if 0 <= j < 8]
            for k, j in enumerate(ranks):
                expected[(i, j)] = 0.25 * (1 + k)
        assert table(proj) == expected
        assert proj.delays == 1.0

    def test_rows_added_out_of_order_and_unsorted_ranks(self):
        def method(pre, post):
            lil = LILConnectivity()
            lil.add(2, [3, 0], [1.0, 2.0], [2.0, 1.0])
            lil.add(0, [1], 5.0, 3.0)
            return lil

        net, pre, post = make(4, 3)
        proj = net.connect(pre, post).connect_from_function(method)
        assert table(proj) == {(2, 3): 1.0, (2, 0): 2.0, (0, 1): 5.0}
        assert proj.post_ranks == [0, 2]
        # per dendrite, the delays follow the pre ranks they were given with
        by_pre = [dict(zip(r, d)) for r, d in zip(proj.pre_ranks, proj.delays)]
        assert by_pre == [{1: 3.0}, {0: 1.0, 3: 2.0}]

    @pytest.mark.parametrize("fmt", ["dense", "csr", None])
    def test_non_uniform_delays_every_synapse(self, fmt):
        # Every (post, pre) pair exists, so the dense layout has no mask.
        def method(pre, post):
            lil = LILConnectivity()
            for i in range(post.size):
                lil.add(i, list(range(pre.size)), 1.0, delays=[1.0 + i, 2.0, 3.0])
            return lil

        net, pre, post = make(3, 2)
        proj = net.connect(pre, post).connect_from_function(method, storage_format=fmt)
        assert [list(d) for d in proj.delays] == [[1.0, 2.0, 3.0], [2.0, 2.0, 3.0]]

    def test_views_use_population_ranks(self):
        # As in ANNarchy, a LILConnectivity holds population ranks, the ranks
        # proj.post_ranks / proj.pre_ranks report back.
        def method(pre, post):
            lil = LILConnectivity()
            for k, rank in enumerate(post.ranks):
                lil.add(int(rank), [int(pre.ranks[k])], 1.0 + k)
            return lil

        net, pop, _ = make(10, same=True)
        proj = net.connect(pop[0:3], pop[6:9]).connect_from_function(method)
        assert table(proj) == {(6, 0): 1.0, (7, 1): 2.0, (8, 2): 3.0}

    def test_alias_with_func(self):
        net, pre, post = make(4, 4)
        proj = net.connect(pre, post)
        assert proj.connect_with_func(band) is proj
        assert proj.nb_synapses == 10

    def test_errors(self):
        net, pre, post = make(4, 3)
        with pytest.raises(ValidationError, match="must return a LILConnectivity"):
            net.connect(pre, post, "a").connect_from_function(lambda pre, post: [[0, 1]])
        with pytest.raises(ValidationError, match="must be callable"):
            net.connect(pre, post, "b").connect_from_function(42)

        def bad_post(pre, post):
            lil = LILConnectivity()
            lil.add(3, [0])
            return lil

        def bad_pre(pre, post):
            lil = LILConnectivity()
            lil.add(0, [0, 4])
            return lil

        def negative_pre(pre, post):
            lil = LILConnectivity()
            lil.add(0, [-1])
            return lil

        with pytest.raises(ValidationError, match=r"returned post rank 3, which is not a neuron of 'post'"):
            net.connect(pre, post, "c").connect_from_function(bad_post)
        with pytest.raises(ValidationError, match=r"returned pre rank 4, which is not a neuron of 'pre'"):
            net.connect(pre, post, "d").connect_from_function(bad_pre)
        with pytest.raises(ValidationError, match=r"returned pre rank -1"):
            net.connect(pre, post, "e").connect_from_function(negative_pre)

    def test_nan_weights_rejected(self):
        def method(pre, post):
            lil = LILConnectivity()
            lil.add(0, [0, 1], [np.nan, 1.0])
            return lil

        net, pre, post = make(2, 2)
        with pytest.raises(ValidationError, match="finite"):
            net.connect(pre, post).connect_from_function(method)

    def test_lil_errors(self):
        lil = LILConnectivity()
        lil.add(0, [1, 2], [0.5, 0.25])
        assert lil.nb_synapses == 2
        with pytest.raises(ValidationError, match="was already added"):
            lil.add(0, [3])
        with pytest.raises(ValidationError, match="must not repeat a neuron"):
            lil.add(1, [2, 2])
        with pytest.raises(ValidationError, match="must be one number or 2 numbers"):
            lil.add(2, [0, 1], [1.0, 2.0, 3.0])
        with pytest.raises(ValidationError, match="must be an integer"):
            lil.add(1.5, [0])


# ---------------------------------------------------------------------- aliases / return

CONNECTORS = [
    ("all_to_all", (1.0,), {}),
    ("one_to_one", (1.0,), {}),
    ("fixed_probability", (0.5, 1.0), {}),
    ("fixed_number_pre", (2, 1.0), {}),
    ("fixed_number_post", (2, 1.0), {}),
    ("gaussian", (1.0, 0.3), {}),
    ("dog", (1.0, 0.2, 0.5, 0.5), {}),
    ("from_matrix", (np.ones((4, 4)),), {}),
    ("from_sparse", (sp.eye(4, format="csr"),), {}),
    ("from_function", (band,), {"width": 1}),
]


@pytest.mark.parametrize("name,args,kwargs", CONNECTORS, ids=[c[0] for c in CONNECTORS])
def test_alias_and_prefixed_name_build_the_same_and_return_the_projection(name, args, kwargs):
    tables = []
    for method in (name, "connect_" + name):
        net, pre, post = make(4, 4, seed=3)
        proj = net.connect(pre, post)
        assert getattr(proj, method)(*args, **kwargs) is proj
        tables.append(table(proj))
    assert tables[0] == tables[1]
    assert len(tables[0]) > 0


def test_module_level_api():
    clear()
    try:
        pre = Population(3, INPUT)
        post = Population(2, Neuron(equations="r = sum(exc)"))
        proj = Projection(pre, post, "exc").connect_all_to_all(weights=0.5)
        assert isinstance(proj, Projection)
        pre.r = [1.0, 2.0, 3.0]
        simulate(1.0)
        np.testing.assert_allclose(post.sum("exc"), [3.0, 3.0])
        np.testing.assert_allclose(post.r, [3.0, 3.0])
    finally:
        clear()


# =============================================================================== storage


class TestStorageChoice:
    @pytest.mark.parametrize("build,kind", [
        (lambda p: p.connect_all_to_all(1.0), "dense"),
        (lambda p: p.connect_one_to_one(1.0), "csr"),
        (lambda p: p.connect_fixed_probability(0.5, 1.0), "dense"),
        (lambda p: p.connect_fixed_probability(0.1, 1.0), "csr"),
        (lambda p: p.connect_fixed_number_pre(40, 1.0), "dense"),
        (lambda p: p.connect_fixed_number_pre(2, 1.0), "csr"),
        (lambda p: p.connect_gaussian(1.0, 0.01), "csr"),
        (lambda p: p.connect_from_matrix(np.ones((100, 100))), "dense"),
        (lambda p: p.connect_from_sparse(sp.eye(100, format="csr")), "csr"),
    ], ids=["a2a", "o2o", "p0.5", "p0.1", "n40", "n2", "gauss_narrow", "matrix", "sparse_eye"])
    def test_chosen_by_density(self, build, kind):
        net, pre, post = make(100, 100, seed=1)
        proj = build(net.connect(pre, post))
        assert proj._storage.kind == kind

    @pytest.mark.parametrize("fmt,kind", [("dense", "dense"), ("csr", "csr"), ("CSR", "csr"), ("sparse", "csr"),
                                          ("lil", "csr")])
    @pytest.mark.parametrize("connector", ["all_to_all", "one_to_one", "fixed_probability"])
    def test_forced(self, fmt, kind, connector):
        net, pre, post = make(20, 20, seed=1)
        proj = net.connect(pre, post)
        args = {"all_to_all": (1.0,), "one_to_one": (1.0,), "fixed_probability": (0.3, 1.0)}[connector]
        getattr(proj, connector)(*args, storage_format=fmt)
        assert proj._storage.kind == kind

    @pytest.mark.parametrize("name,args,kwargs", [
        ("all_to_all", (0.75,), {}),
        ("all_to_all", (0.75,), {"same": True}),
        ("all_to_all", (Uniform(0, 1),), {}),
        ("all_to_all", (Uniform(0, 1),), {"same": True}),   # self excluded: the same draws either way
        ("one_to_one", (Uniform(0, 1),), {}),
        ("fixed_probability", (0.3, Uniform(0, 1)), {}),
        ("fixed_probability", (0.3, 2.0), {"same": True}),
        ("fixed_number_pre", (7, Uniform(0, 1)), {}),
        ("fixed_number_post", (7, Normal(0, 1)), {"same": True}),
        ("gaussian", (1.0, 0.2), {}),
        ("dog", (1.0, 0.1, 0.5, 0.3), {"same": True}),
        ("from_matrix", (np.arange(400.0).reshape(20, 20),), {}),
        ("from_sparse", (sp.random(20, 20, density=0.2, random_state=np.random.RandomState(0)),), {}),
        ("from_function", (band,), {}),
    ], ids=["a2a", "a2a_recurrent", "a2a_uniform", "a2a_uniform_recurrent", "o2o_uniform", "p0.3_uniform",
            "p0.3_recurrent", "npre_uniform", "npost_normal_recurrent", "gaussian", "dog_recurrent", "matrix",
            "sparse", "function"])
    def test_same_result_both_ways(self, name, args, kwargs, rng):
        kwargs = dict(kwargs)
        same = kwargs.pop("same", False)
        results = []
        for fmt in ("dense", "csr"):
            net, pre, post = make(20, 20, seed=7, same=same)
            proj = getattr(net.connect(pre, post), name)(*args, storage_format=fmt, **kwargs)
            assert proj._storage.kind == fmt
            rates = np.random.default_rng(1).uniform(-1, 1, 20)
            pre.r = rates
            net.step()
            results.append((table(proj), proj.connectivity_matrix(), post.sum("exc"),
                            proj.post_ranks, proj.pre_ranks))
        (t1, m1, s1, pr1, pp1), (t2, m2, s2, pr2, pp2) = results
        assert t1 == t2
        np.testing.assert_array_equal(m1, m2)
        assert pr1 == pr2 and pp1 == pp2
        np.testing.assert_allclose(s1, s2, rtol=1e-12, atol=1e-12)


# =============================================================================== transmission


def check_sums(net, post_pop, expected_by_target, rtol=1e-12, atol=1e-12):
    net.step()
    for target, expected in expected_by_target.items():
        np.testing.assert_allclose(post_pop.sum(target).reshape(-1), expected, rtol=rtol, atol=atol)


class TestTransmission:
    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("connector", [
        lambda p, fmt: p.connect_all_to_all(Uniform(-1, 1), storage_format=fmt),
        lambda p, fmt: p.connect_fixed_probability(0.2, Normal(0, 1), storage_format=fmt),
        lambda p, fmt: p.connect_fixed_probability(0.7, Normal(0, 1), storage_format=fmt),
        lambda p, fmt: p.connect_fixed_number_post(3, Uniform(0, 2), storage_format=fmt),
        lambda p, fmt: p.connect_gaussian(1.0, 0.2, storage_format=fmt),
    ], ids=["a2a", "p0.2", "p0.7", "npost", "gauss"])
    def test_matches_brute_force(self, connector, fmt, rng):
        net, pre, post = make((6, 5), (4, 6), seed=3)
        proj = connector(net.connect(pre, post, "exc"), fmt)
        tab = table(proj)
        for _ in range(2):    # twice: new rates, no accumulation across steps
            r = set_rates(pre, rng)
            check_sums(net, post, {"exc": brute_input(tab, r, post.size)})

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    def test_one_to_one_identity(self, fmt, rng):
        net, pre, post = make(7, 7)
        proj = net.connect(pre, post).connect_one_to_one(Uniform(0, 1), storage_format=fmt)
        w = np.array([proj.dendrite(i).w[0] for i in range(7)])
        r = set_rates(pre, rng)
        check_sums(net, post, {"exc": w * r})

    @pytest.mark.parametrize("fmt", [None, "dense", "csr"])
    @pytest.mark.parametrize("pre_index,post_index", [
        (slice(2, 5), None),
        (None, slice(2, 5)),
        (slice(0, 4), list(range(3, 9))),       # a rank list of a 2-D population
        ((slice(None), 1), None),
        (None, (slice(None), 1)),
        ((slice(None), 1), (1, slice(None))),
        ([5, 0, 3], [8, 1]),                    # unordered rank lists
    ])
    def test_population_views(self, pre_index, post_index, fmt, rng):
        net, pre_pop, post_pop = make((3, 4), (3, 3), seed=4)
        pre = pre_pop if pre_index is None else pre_pop[pre_index]
        post = post_pop if post_index is None else post_pop[post_index]
        proj = net.connect(pre, post).connect_all_to_all(Uniform(-1, 1), storage_format=fmt)
        tab = table(proj)
        assert {j for _, j in tab} == set(pre.ranks.tolist())
        assert {i for i, _ in tab} == set(post.ranks.tolist())
        for _ in range(2):
            r = set_rates(pre_pop, rng)
            check_sums(net, post_pop, {"exc": brute_input(tab, r, post_pop.size)})
        # The view's own sum is the slice of the population's.
        np.testing.assert_allclose(post.sum("exc").reshape(-1),
                                   brute_input(tab, r, post_pop.size)[post.ranks], atol=1e-12)

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_views_of_one_population_recurrent(self, fmt, rng):
        net, pop, _ = make(12, same=True, seed=9)
        proj = net.connect(pop[0:8], pop[4:12]).connect_fixed_probability(0.5, Uniform(-1, 1), storage_format=fmt)
        tab = table(proj)
        r = set_rates(pop, rng)
        check_sums(net, pop, {"exc": brute_input(tab, r, 12)})

    @pytest.mark.parametrize("order", ["full_first", "view_first", "views_only", "two_full"])
    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_several_projections_into_one_target(self, order, fmt, rng):
        net = Network(seed=5)
        a = net.create(6, INPUT, name="a")
        b = net.create((2, 3), INPUT, name="b")
        post = net.create(8, INPUT, name="post")
        specs = {
            "full_first": [(a, post), (b, post[2:6])],
            "view_first": [(b, post[2:6]), (a, post)],
            "views_only": [(a, post[0:3]), (b[0, :], post[5:8]), (a[1:3], post[[1, 6]])],
            "two_full": [(a, post), (b, post)],
        }[order]
        tabs = []
        for pre, target_post in specs:
            proj = net.connect(pre, target_post, "exc").connect_all_to_all(Uniform(-1, 1), storage_format=fmt)
            tabs.append((pre.population, table(proj)))
        for _ in range(3):
            ra, rb = set_rates(a, rng), set_rates(b, rng)
            rates = {id(a): ra, id(b): rb}
            expected = np.zeros(8)
            for pre, tab in tabs:
                expected += brute_input(tab, rates[id(pre)], 8)
            check_sums(net, post, {"exc": expected})
            if order == "views_only":
                assert post.sum("exc")[4] == 0.0   # no projection reaches neuron 4

    def test_targets_are_separate(self, rng):
        net, pre, post = make(5, 4, seed=6)
        pe = net.connect(pre, post, "exc").connect_all_to_all(Uniform(0, 1))
        pi = net.connect(pre, post, "inh").connect_fixed_probability(0.5, Uniform(0, 1), storage_format="csr")
        r = set_rates(pre, rng)
        check_sums(net, post, {"exc": brute_input(table(pe), r, 4), "inh": brute_input(table(pi), r, 4)})

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("connector", ["all_to_all", "one_to_one", "fixed_probability", "views"])
    def test_float32(self, connector, fmt, rng):
        net, pre, post = make(30, 30, seed=8, dtype=np.float32)
        if connector == "all_to_all":
            proj = net.connect(pre, post).connect_all_to_all(Uniform(-1, 1), storage_format=fmt)
        elif connector == "one_to_one":
            proj = net.connect(pre, post).connect_one_to_one(Uniform(-1, 1), storage_format=fmt)
        elif connector == "fixed_probability":
            proj = net.connect(pre, post).connect_fixed_probability(0.3, Uniform(-1, 1), storage_format=fmt)
        else:
            proj = net.connect(pre[5:20], post[10:25]).connect_all_to_all(Uniform(-1, 1), storage_format=fmt)
        tab = table(proj)
        r = set_rates(pre, rng).astype(np.float32).astype(np.float64)
        net.step()
        got = post.sum("exc")
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, brute_input(tab, r, 30), rtol=1e-5, atol=1e-5)

    def test_reads_rates_of_previous_step(self):
        # A chain inp -> A -> B of r = sum(exc): B's input at step n is A's rate after step n-1.
        net = Network()
        inp = net.create(2, INPUT)
        relay = Neuron(equations="r = sum(exc)")
        a = net.create(2, relay)
        b = net.create(2, relay)
        net.connect(inp, a).connect_one_to_one(2.0)
        net.connect(a, b).connect_all_to_all(1.0)
        inp.r = [1.0, 3.0]
        net.step()
        np.testing.assert_array_equal(a.r, [2.0, 6.0])
        np.testing.assert_array_equal(b.sum("exc"), [0.0, 0.0])
        net.step()
        np.testing.assert_array_equal(b.sum("exc"), [8.0, 8.0])

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_new_weights_used_at_next_step(self, fmt, rng):
        net, pre, post = make(6, 5, seed=2)
        proj = net.connect(pre, post).connect_all_to_all(1.0, storage_format=fmt)
        r = set_rates(pre, rng)
        net.step()
        m = rng.normal(size=(5, 6))
        proj.w = m
        check_sums(net, post, {"exc": m @ r})
        proj.dendrite(3).w = np.arange(6.0)
        m[3] = np.arange(6.0)
        check_sums(net, post, {"exc": m @ r})
        proj.w = 0.5
        check_sums(net, post, {"exc": np.full(5, 0.5 * r.sum())})

    def test_unconnected_post_neurons_receive_zero(self, rng):
        net, pre, post = make(4, 4)
        net.connect(pre, post).connect_from_matrix([[1, None, None, None], [None] * 4, [None] * 4, [2, 2, 2, 2]])
        r = set_rates(pre, rng)
        check_sums(net, post, {"exc": [r[0], 0.0, 0.0, 2 * r.sum()]})


# =============================================================================== psp and operation

PSPS = {
    "w * pre.r": lambda w, pre, post: w * pre,
    "w * pos(pre.r)": lambda w, pre, post: w * max(pre, 0.0),
    "pre.r - w": lambda w, pre, post: pre - w,
    "w * post.r": lambda w, pre, post: w * post,
    "w * pre.r * post.r + 1.0": lambda w, pre, post: w * pre * post + 1.0,
    "pre.r": lambda w, pre, post: pre,
    "w": lambda w, pre, post: w,
}

# post x pre with None: rows with several, one and no synapses.
PSP_MATRIX = [
    [0.5, None, -1.0, 2.0, None],
    [None, None, None, None, None],
    [None, 1.5, None, None, None],
    [1.0, -0.5, 0.25, 2.0, -3.0],
]


class TestPspAndOperation:
    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("operation", ["sum", "max", "min", "mean"])
    @pytest.mark.parametrize("psp", list(PSPS))
    def test_against_loop(self, psp, operation, fmt, rng):
        net = Network(seed=1)
        pre = net.create(5, INPUT)
        post = net.create(4, INPUT)
        syn = Synapse(psp=psp, operation=operation)
        net.connect(pre, post, "exc", syn).connect_from_matrix(PSP_MATRIX, storage_format=fmt)
        tab = matrix_table(PSP_MATRIX)
        post_r = set_rates(post, rng)
        for _ in range(2):
            r = set_rates(pre, rng)
            expected = brute_input(tab, r, 4, PSPS[psp], operation, post_r)
            check_sums(net, post, {"exc": expected})
        assert post.sum("exc")[1] == 0.0

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("operation", ["sum", "max", "min", "mean"])
    def test_full_all_to_all(self, operation, fmt, rng):
        net, pre, post = make(7, 5, seed=2)
        proj = net.connect(pre, post, "exc", Synapse(psp="w * pos(pre.r)", operation=operation))
        proj.connect_all_to_all(Uniform(-1, 1), storage_format=fmt)
        tab = table(proj)
        r = set_rates(pre, rng)
        check_sums(net, post, {"exc": brute_input(tab, r, 5, PSPS["w * pos(pre.r)"], operation)})

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("operation", ["max", "min", "mean"])
    def test_self_excluded_recurrent(self, operation, fmt, rng):
        net, pop, _ = make(6, same=True, seed=3)
        proj = net.connect(pop, pop, "exc", Synapse(psp="pre.r - w", operation=operation))
        proj.connect_all_to_all(Uniform(0, 1), storage_format=fmt)
        tab = table(proj)
        r = set_rates(pop, rng)
        check_sums(net, pop, {"exc": brute_input(tab, r, 6, PSPS["pre.r - w"], operation)})

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_max_of_all_negative_values_is_negative(self, fmt):
        net, pre, post = make(4, 3)
        net.connect(pre, post, "exc", Synapse(operation="max")).connect_from_matrix(
            [[1.0, 1.0, None, 1.0], [2.0, None, None, None], [None, None, None, None]], storage_format=fmt)
        pre.r = [-3.0, -1.0, -2.0, -5.0]
        net.step()
        np.testing.assert_array_equal(post.sum("exc"), [-1.0, -6.0, 0.0])

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_min_of_all_positive_values_is_positive(self, fmt):
        net, pre, post = make(3, 2)
        net.connect(pre, post, "exc", Synapse(operation="min")).connect_all_to_all(1.0, storage_format=fmt)
        pre.r = [3.0, 1.5, 2.0]
        net.step()
        np.testing.assert_array_equal(post.sum("exc"), [1.5, 1.5])

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    @pytest.mark.parametrize("operation", ["sum", "max", "mean"])
    def test_views(self, operation, fmt, rng):
        net, pre_pop, post_pop = make((3, 4), 9, seed=4)
        pre, post = pre_pop[:, 2], post_pop[3:7]
        proj = net.connect(pre, post, "exc", Synapse(psp="w * post.r - pre.r", operation=operation))
        proj.connect_fixed_probability(0.6, Uniform(0, 1), storage_format=fmt)
        tab = table(proj)
        post_r = set_rates(post_pop, rng)
        r = set_rates(pre_pop, rng)
        expected = brute_input(tab, r, 9, lambda w, p, q: w * q - p, operation, post_r)
        check_sums(net, post_pop, {"exc": expected})

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_psp_with_changing_post_rate(self, fmt):
        # post.r changes every step: the psp must read the current array, not a copy made once.
        net = Network()
        pre = net.create(3, INPUT)
        post = net.create(2, Neuron(equations="r = 1.0 + 0.5 * sum(exc)"))
        proj = net.connect(pre, post, "exc", Synapse(psp="w * pre.r * post.r"))
        proj.connect_all_to_all(1.0, storage_format=fmt)
        pre.r = [1.0, 2.0, 3.0]
        post_r = np.zeros(2)
        for _ in range(4):
            expected = 6.0 * post_r
            net.step()
            np.testing.assert_allclose(post.sum("exc"), expected)
            post_r = 1.0 + 0.5 * expected
            np.testing.assert_allclose(post.r, post_r)

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_psp_reading_other_pre_attribute(self, fmt):
        net = Network()
        pre = net.create(3, RICH)
        post = net.create(2, INPUT)
        net.connect(pre, post, "exc", Synapse(psp="w * pre.x")).connect_all_to_all(2.0, storage_format=fmt)
        pre.x = [1.0, 2.0, 4.0]
        pre.r = [100.0, 100.0, 100.0]
        net.step()
        np.testing.assert_array_equal(post.sum("exc"), [14.0, 14.0])

    @pytest.mark.parametrize("operation", ["sum", "max", "min", "mean"])
    def test_float32(self, operation, rng):
        net, pre, post = make(10, 6, dtype=np.float32, seed=5)
        proj = net.connect(pre, post, "exc", Synapse(psp="pre.r - w", operation=operation))
        proj.connect_fixed_probability(0.4, Uniform(0, 1), storage_format="csr")
        tab = table(proj)
        r = set_rates(pre, rng).astype(np.float32).astype(np.float64)
        net.step()
        np.testing.assert_allclose(post.sum("exc"), brute_input(tab, r, 6, PSPS["pre.r - w"], operation),
                                   rtol=1e-5, atol=1e-6)


# =============================================================================== inspection


class TestInspection:
    def test_w_shape_depends_on_layout(self):
        net, pre, post = make(4, 3)
        full = net.connect(pre, post, "a").connect_all_to_all(1.0)
        assert isinstance(full.w, np.ndarray) and full.w.shape == (3, 4)
        masked_net, pop, _ = make(4, same=True)
        masked = masked_net.connect(pop, pop).connect_all_to_all(1.0, storage_format="dense")
        assert isinstance(masked.w, list) and [len(x) for x in masked.w] == [3, 3, 3, 3]
        sparse = net.connect(pre, post, "b").connect_all_to_all(1.0, storage_format="csr")
        assert isinstance(sparse.w, list) and [len(x) for x in sparse.w] == [4, 4, 4]

    def test_w_is_a_copy(self):
        net, pre, post = make(3, 2)
        proj = net.connect(pre, post).connect_all_to_all(1.0)
        w = proj.w
        w[...] = 7.0
        np.testing.assert_array_equal(proj.w, 1.0)
        rows = net.connect(pre, post, "b").connect_all_to_all(1.0, storage_format="csr").w
        rows[0][...] = 7.0
        assert net.projections[-1].w[0].tolist() == [1.0, 1.0, 1.0]

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_scalar_keeps_the_pattern(self, fmt):
        net, pop, _ = make(5, same=True)
        proj = net.connect(pop, pop).connect_all_to_all(1.0, storage_format=fmt)
        proj.w = 0.3
        assert table(proj) == {(i, j): 0.3 for i in range(5) for j in range(5) if i != j}
        np.testing.assert_array_equal(np.diag(proj.connectivity_matrix()), 0.0)
        assert proj.nb_synapses == 20

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_matrix(self, fmt, rng):
        net, pop, _ = make(5, same=True)
        proj = net.connect(pop, pop).connect_all_to_all(1.0, storage_format=fmt)
        m = rng.normal(size=(5, 5))
        proj.w = m
        assert_tables_close(table(proj), {(i, j): m[i, j] for i in range(5) for j in range(5) if i != j})
        assert proj.nb_synapses == 20

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_full_dense_matrix(self, fmt, rng):
        net, pre, post = make(4, 3)
        proj = net.connect(pre, post).connect_all_to_all(0.0, storage_format=fmt)
        m = rng.normal(size=(3, 4))
        proj.w = m
        np.testing.assert_array_equal(proj.connectivity_matrix(), m)
        proj.w = m.tolist()                        # nested lists of the full shape
        np.testing.assert_array_equal(proj.connectivity_matrix(), m)

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_per_dendrite(self, fmt):
        net, pre, post = make(4, 4)
        proj = net.connect(pre, post).connect_from_matrix(
            [[1, None, 1, None], [None] * 4, [1, 1, 1, None], [None, None, None, 1]], storage_format=fmt)
        proj.w = [[0.1, 0.2], [0.3, 0.4, 0.5], [0.6]]
        assert table(proj) == {(0, 0): 0.1, (0, 2): 0.2, (2, 0): 0.3, (2, 1): 0.4, (2, 2): 0.5, (3, 3): 0.6}
        proj.w = [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]), np.array([6.0])]
        assert [list(x) for x in proj.w] == [[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_flat_synapse_vector(self, fmt):
        net, pre, post = make(3, 2)
        proj = net.connect(pre, post).connect_from_matrix([[1, None, 1], [1, 1, None]], storage_format=fmt)
        proj.w = [1.0, 2.0, 3.0, 4.0]              # nnz values in (post, pre) order
        assert table(proj) == {(0, 0): 1.0, (0, 2): 2.0, (1, 0): 3.0, (1, 1): 4.0}

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_distribution(self, fmt):
        net, pop, _ = make(30, same=True, seed=4)
        proj = net.connect(pop, pop).connect_all_to_all(0.0, storage_format=fmt)
        proj.w = Uniform(1.0, 2.0)
        tab = table(proj)
        assert len(tab) == 870 and not any(i == j for i, j in tab)
        w = np.array(list(tab.values()))
        assert (w >= 1.0).all() and (w <= 2.0).all() and np.unique(w).size > 800
        np.testing.assert_array_equal(np.diag(proj.connectivity_matrix()), 0.0)

    def test_set_w_distribution_reproducible(self):
        def build(seed):
            net, pre, post = make(10, 10, seed=seed)
            proj = net.connect(pre, post).connect_all_to_all(0.0)
            proj.w = Normal(0, 1)
            return proj.w

        np.testing.assert_array_equal(build(5), build(5))
        assert not np.array_equal(build(5), build(6))

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_wrong_shapes(self, fmt):
        net, pre, post = make(4, 3)
        proj = net.connect(pre, post).connect_all_to_all(1.0, storage_format=fmt)
        with pytest.raises(ValidationError, match=r"expected a number, a \(3, 4\) matrix \(post x pre\), 12 values"):
            proj.w = np.ones((4, 3))
        with pytest.raises(ValidationError, match=r"got shape \(5,\)"):
            proj.w = np.ones(5)
        with pytest.raises(ValidationError, match="expected numbers"):
            proj.w = "heavy"
        masked = net.connect(pre, post, "b").connect_fixed_number_pre(2, 1.0, storage_format=fmt)
        with pytest.raises(ValidationError, match="dendrite of post rank 0 has 2 synapses"):
            masked.w = [[1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0]]
        np.testing.assert_array_equal(proj.connectivity_matrix(), 1.0)

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_set_w_per_dendrite_error_names_the_population_rank(self, fmt):
        net, pre, post = make(6, 10, seed=1)
        proj = net.connect(pre, post[5:8]).connect_fixed_number_pre(2, 1.0, storage_format=fmt)
        with pytest.raises(ValidationError, match="dendrite of post rank 5 has 2 synapses"):
            proj.w = [[1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0]]

    def test_set_w_nan_rejected(self):
        net, pre, post = make(3, 2)
        proj = net.connect(pre, post).connect_all_to_all(1.0)
        with pytest.raises(ValidationError, match="finite"):
            proj.w = np.nan
        with pytest.raises(ValidationError, match="finite"):
            proj.w = np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]])
        with pytest.raises(ValidationError, match="finite"):
            proj.dendrite(0).w = [1.0, np.inf, 1.0]

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_ranks_and_counts(self, fmt):
        net, pre, post = make(10, (2, 4))
        proj = net.connect(pre[[9, 1, 4]], post[1, :]).connect_from_matrix(
            [[1, None, 1], [None, None, None], [None, 1, None], [1, 1, 1]], storage_format=fmt)
        assert proj.post_ranks == [4, 6, 7]
        assert proj.pre_ranks == [[9, 4], [1], [9, 1, 4]]
        assert proj.nb_synapses == 6
        assert proj.size == len(proj) == 3
        assert proj.nb_synapses_per_dendrite() == [2, 1, 3]
        assert [d.post_rank for d in proj] == [4, 6, 7]
        cm = proj.connectivity_matrix()                # view order: post[1, :] x [9, 1, 4]
        np.testing.assert_array_equal(cm, [[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]])

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_dendrite(self, fmt):
        net, pre, post = make((2, 3), (2, 2))
        m = np.arange(24.0).reshape(4, 6)
        proj = net.connect(pre, post).connect_from_matrix(np.where(m % 4 == 1, None, m).tolist(),
                                                          storage_format=fmt)
        d = proj.dendrite(2)
        assert d.post_rank == 2
        expected_pre = [j for j in range(6) if m[2, j] % 4 != 1]
        assert d.pre_ranks == expected_pre
        assert d.size == len(d) == len(expected_pre)
        np.testing.assert_array_equal(d.w, m[2, expected_pre])
        # by coordinates, and by indexing the projection
        assert proj.dendrite((1, 0)).pre_ranks == expected_pre
        assert proj[2].pre_ranks == expected_pre
        rf = d.receptive_field()
        assert rf.shape == (2, 3)
        expected_rf = np.zeros(6)
        expected_rf[expected_pre] = m[2, expected_pre]
        np.testing.assert_array_equal(rf.reshape(-1), expected_rf)
        assert np.isnan(d.receptive_field(fill=np.nan).reshape(-1)[[j for j in range(6) if j not in expected_pre]]
                        ).all()
        # setting a dendrite's weights
        d.w = 9.0
        np.testing.assert_array_equal(proj.dendrite(2).w, 9.0)
        d.w = np.arange(len(expected_pre), dtype=float)
        np.testing.assert_array_equal(proj.dendrite(2).w, np.arange(len(expected_pre)))
        assert table(proj)[(2, expected_pre[-1])] == len(expected_pre) - 1
        # other dendrites untouched
        np.testing.assert_array_equal(proj.dendrite(0).w, [m[0, j] for j in range(6) if m[0, j] % 4 != 1])
        with pytest.raises(ValidationError, match=f"expected a number or {len(expected_pre)} values"):
            d.w = [1.0] * (len(expected_pre) + 1)
        with pytest.raises(AttributeError, match="has no attribute 'nope'"):
            d.nope

    def test_dendrite_of_view_uses_population_rank(self):
        net, pre, post = make(3, 10)
        proj = net.connect(pre, post[5:8]).connect_all_to_all(1.0)
        assert proj.dendrite(6).post_rank == 6
        with pytest.raises(ValidationError, match=r"post: is not a neuron of the post-synaptic side 'post\[5:8\]'"):
            proj.dendrite(1)

    def test_receptive_field_of_pre_view(self):
        net, pre, post = make((3, 3), 2)
        proj = net.connect(pre[:, 1], post).connect_all_to_all(2.0)
        rf = proj.dendrite(0).receptive_field()
        expected = np.zeros((3, 3))
        expected[:, 1] = 2.0
        np.testing.assert_array_equal(rf, expected)

    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_connectivity_matrix_fill(self, fmt):
        net, pop, _ = make(3, same=True)
        proj = net.connect(pop, pop).connect_all_to_all(2.0, storage_format=fmt)
        cm = proj.connectivity_matrix(fill=np.nan)
        assert np.isnan(np.diag(cm)).all()
        assert (cm[~np.eye(3, dtype=bool)] == 2.0).all()
        np.testing.assert_array_equal(proj.connectivity_matrix(), 2.0 * (1 - np.eye(3)))

    def test_delays(self):
        net, pre, post = make(20, 10, seed=3)
        assert net.connect(pre, post, "a").connect_all_to_all(1.0).delays == 0.0
        assert net.connect(pre, post, "b").connect_all_to_all(1.0, delays=2.0).delays == 2.0
        assert net.connect(pre, post, "c").connect_fixed_number_pre(2, 1.0, delays=3.0).delays == 3.0
        for fmt in ("dense", "csr"):
            proj = net.connect(pre, post, "d" + fmt).connect_all_to_all(1.0, delays=Uniform(1.0, 5.0),
                                                                        storage_format=fmt)
            delays = proj.delays
            assert isinstance(delays, list) and len(delays) == 10
            assert all(len(d) == 20 for d in delays)
            values = np.concatenate(delays)
            assert (values >= 1.0).all() and (values <= 5.0).all() and np.unique(values).size > 100
        proj = net.connect(pre, post, "e").connect_fixed_probability(0.2, 1.0, delays=Uniform(1.0, 2.0))
        assert [len(d) for d in proj.delays] == proj.nb_synapses_per_dendrite()

    def test_negative_delays(self):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match="delays: must be >= 0"):
            net.connect(pre, post, "a").connect_all_to_all(1.0, delays=-1.0)
        with pytest.raises(ValidationError, match="negative delays"):
            net.connect(pre, post, "b").connect_all_to_all(1.0, delays=Uniform(-2.0, -1.0))
        with pytest.raises(ValidationError, match="delays: must be >= 0"):
            net.connect(pre, post, "c").connect_from_matrix(np.ones((3, 3)), delays=-np.ones((3, 3)))
        with pytest.raises(ValidationError, match=r"delays: must have a value wherever weights has one \(None only "
                                                  r"where there is no synapse\)"):
            net.connect(pre, post, "d").connect_from_matrix(np.ones((3, 3)), delays=[[1, None, 1]] * 3)

    def test_matrix_delays_are_read_where_weights_has_a_synapse_only(self):
        """ANNarchy reads the delay matrix at the weights' entries: values elsewhere do not matter."""
        net, pre, post = make(3, 3)
        weights = [[1.0, None, 2.0], [None, None, 3.0], [4.0, 5.0, None]]
        delays = [[2.0, 99.0, 3.0], [-7.0, None, 1.0], [2.0, 4.0, np.inf]]
        proj = net.connect(pre, post, "d").connect_from_matrix(weights, delays=np.array(delays, dtype=object))
        assert [d.tolist() for d in proj.delays] == [[2.0, 3.0], [1.0], [2.0, 4.0]]
        assert proj.pre_ranks == [[0, 2], [2], [0, 1]]


LEARNING = Synapse(parameters="""
eta = 0.01 : projection
tau = 5.0 : postsynaptic
alpha = 2.0
""")


class TestSynapseAttributes:
    @pytest.mark.parametrize("fmt", ["dense", "csr"])
    def test_read_and_set(self, fmt):
        net, pre, post = make(4, 3)
        proj = net.connect(pre, post, "exc", LEARNING).connect_all_to_all(1.0, storage_format=fmt)
        assert proj.eta == 0.01
        proj.eta = 0.5
        assert proj.eta == 0.5 and proj.get("eta") == 0.5
        np.testing.assert_array_equal(proj.tau, [5.0, 5.0, 5.0])
        proj.tau = [1.0, 2.0, 3.0]
        np.testing.assert_array_equal(proj.tau, [1.0, 2.0, 3.0])
        assert proj.dendrite(1).tau == 2.0
        alpha = proj.alpha
        alpha = list(alpha) if isinstance(alpha, np.ndarray) else alpha
        assert all((np.asarray(a) == 2.0).all() and len(a) == 4 for a in alpha)
        proj.dendrite(2).alpha = [1.0, 2.0, 3.0, 4.0]
        np.testing.assert_array_equal(list(proj.alpha)[2], [1.0, 2.0, 3.0, 4.0])
        proj.set({"eta": 0.25, "w": 3.0, "tau": 7.0})
        assert proj.get("eta") == 0.25
        np.testing.assert_array_equal(proj.get("tau"), 7.0)
        assert set(table(proj).values()) == {3.0}
        assert set(proj.attributes) == {"w", "eta", "tau", "alpha"}
        assert proj.parameters == ["eta", "tau", "alpha"]

    def test_errors(self):
        net, pre, post = make(4, 3)
        proj = net.connect(pre, post, "exc", LEARNING).connect_all_to_all(1.0)
        with pytest.raises(ValidationError, match="is one value for the whole projection"):
            proj.eta = [1.0, 2.0]
        with pytest.raises(ValidationError, match=r"expected a number or 3 values"):
            proj.tau = [1.0, 2.0]
        with pytest.raises(ValidationError, match="unknown attribute"):
            proj.get("zeta")
        with pytest.raises(ValidationError, match="unknown attribute"):
            proj.set({"zeta": 1.0})
        with pytest.raises(AttributeError, match="has no attribute 'zeta'"):
            proj.zeta
        with pytest.raises(ValidationError, match="shared by the whole projection"):
            proj.dendrite(0).eta = 1.0

    def test_attributes_before_connecting(self):
        net, pre, post = make(4, 3)
        proj = net.connect(pre, post, "exc", LEARNING)
        for name in ("w", "eta", "tau"):
            with pytest.raises(ValidationError, match="is not connected yet"):
                getattr(proj, name)
        with pytest.raises(ValidationError, match="is not connected yet"):
            proj.nb_synapses
        with pytest.raises(ValidationError, match="is not connected yet"):
            proj.connectivity_matrix()

    def test_setting_weights_before_connecting(self):
        # Setting w before a connector must not leave a stale Python attribute
        # that hides the real weights afterwards.
        net, pre, post = make(2, 2)
        proj = net.connect(pre, post)
        with pytest.raises(ValidationError, match="is not connected yet"):
            proj.w = 0.5
        proj.connect_all_to_all(2.0)
        np.testing.assert_array_equal(proj.w, 2.0)


# =============================================================================== errors


class TestErrors:
    def test_pre_post_not_populations(self):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match=r"Projection.pre: must be a Population or a PopulationView"):
            Projection("pre", post, "exc")
        with pytest.raises(ValidationError, match=r"Projection.post: must be a Population or a PopulationView"):
            Projection(pre, [1, 2, 3], "exc")
        with pytest.raises(ValidationError, match=r"post: must be a Population or a PopulationView"):
            net.connect(pre, 42)

    def test_network_connect_with_a_non_population_pre(self):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match=r"pre: must be a Population or a PopulationView"):
            net.connect("pre", post)

    def test_different_networks(self):
        _, pre, _ = make(3, 3)
        net2, _, post2 = make(3, 3)
        with pytest.raises(ValidationError, match="must belong to the same network as pre"):
            Projection(pre, post2, "exc")
        with pytest.raises(ValidationError, match="belongs to another network"):
            net2.connect(pre, post2)

    @pytest.mark.parametrize("target", ["", "1exc", "exc-1", "sum(exc)", 3, None])
    def test_bad_target(self, target):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match="target: must be a name"):
            Projection(pre, post, target)

    @pytest.mark.parametrize("synapse", ["w*pre.r", INPUT, 1.0])
    def test_bad_synapse(self, synapse):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match="synapse: must be a Synapse"):
            Projection(pre, post, "exc", synapse)

    def test_synapse_class_accepted(self):
        net, pre, post = make(3, 3)
        Projection(pre, post, "exc", Synapse).connect_all_to_all(1.0)
        pre.r = 1.0
        net.step()
        np.testing.assert_array_equal(post.sum("exc"), 3.0)

    @pytest.mark.parametrize("psp,side,var", [("w * pre.x", "pre", "x"), ("w * post.y", "post", "y")])
    def test_synapse_reads_missing_attribute(self, psp, side, var):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match=rf"reads {side}\.{var}, but the {side}-synaptic population "
                                                  rf"'{side}' has no attribute '{var}' \(it has: r\)"):
            net.connect(pre, post, "exc", Synapse(psp=psp))

    def test_synapse_reads_existing_attribute_of_view(self):
        net = Network()
        pre = net.create(6, RICH)
        post = net.create(2, INPUT)
        net.connect(pre[1:4], post, "exc", Synapse(psp="w * pre.x")).connect_all_to_all(1.0)

    def test_connect_twice(self):
        net, pre, post = make(3, 3)
        proj = net.connect(pre, post).connect_all_to_all(1.0)
        with pytest.raises(ValidationError, match="is already connected"):
            proj.connect_one_to_one(1.0)
        with pytest.raises(ValidationError, match="is already connected"):
            proj.connect_from_function(band)
        assert proj.nb_synapses == 9

    def test_simulate_unconnected(self):
        net, pre, post = make(3, 3)
        net.connect(pre, post, "exc", name="lonely")
        with pytest.raises(ValidationError, match=r"Projection 'lonely'.connect: is not connected"):
            net.step()
        with pytest.raises(ValidationError, match="is not connected"):
            net.simulate(2.0)

    def test_from_matrix_errors(self):
        net, pre, post = make(4, 3)
        with pytest.raises(ValidationError, match=r"must have shape \(3, 4\) \(post x pre.*\(got shape \(4, 3\)\)"):
            net.connect(pre, post, "a").connect_from_matrix(np.ones((4, 3)))
        with pytest.raises(ValidationError, match=r"must have shape \(4, 3\)"):
            net.connect(pre, post, "b").connect_from_matrix(np.ones((3, 4)), pre_post=True)
        with pytest.raises(ValidationError, match="must hold numbers"):
            net.connect(pre, post, "c").connect_from_matrix([["a"] * 4] * 3)
        with pytest.raises(ValidationError, match="must hold numbers"):
            net.connect(pre, post, "d").connect_from_matrix([[1.0, "x", None, 1.0]] * 3)
        with pytest.raises(ValidationError, match="must be finite"):
            net.connect(pre, post, "e").connect_from_matrix([[1.0, np.nan, None, 1.0]] * 3)
        with pytest.raises(ValidationError, match="must be finite"):
            net.connect(pre, post, "f").connect_from_matrix(np.full((3, 4), np.inf))

    @pytest.mark.parametrize("weights", [np.nan, np.inf, "1.0", None, True])
    def test_bad_weights(self, weights):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match="weights: must be a finite number or a distribution"):
            net.connect(pre, post).connect_all_to_all(weights)

    @pytest.mark.parametrize("p", [-0.1, 1.5, np.nan, "0.5", True])
    def test_probability_outside_range(self, p):
        net, pre, post = make(3, 3)
        with pytest.raises(ValidationError, match=r"probability: must be a number in \[0, 1\]"):
            net.connect(pre, post).connect_fixed_probability(p, 1.0)

    def test_number_too_large_or_invalid(self):
        net, pre, post = make(5, 4)
        with pytest.raises(ValidationError, match="cannot exceed the 5 pre-synaptic neurons available"):
            net.connect(pre, post, "a").connect_fixed_number_pre(6, 1.0)
        with pytest.raises(ValidationError, match="cannot exceed the 4 post-synaptic neurons available"):
            net.connect(pre, post, "b").connect_fixed_number_post(5, 1.0)
        with pytest.raises(ValidationError, match="number: must be a non-negative integer"):
            net.connect(pre, post, "c").connect_fixed_number_pre(-1, 1.0)
        with pytest.raises(ValidationError, match="number: must be a non-negative integer"):
            net.connect(pre, post, "d").connect_fixed_number_post(2.5, 1.0)
        net2, pop, _ = make(5, same=True)
        with pytest.raises(ValidationError, match="cannot exceed the 4 pre-synaptic neurons available"):
            net2.connect(pop, pop, "a").connect_fixed_number_pre(5, 1.0)
        with pytest.raises(ValidationError, match="cannot exceed the 4 post-synaptic neurons available"):
            net2.connect(pop, pop, "b").connect_fixed_number_post(5, 1.0)
        # with self connections allowed, all 5 are available
        assert net2.connect(pop, pop, "c").connect_fixed_number_pre(5, 1.0, allow_self_connections=True
                                                                    ).nb_synapses == 25

    @pytest.mark.parametrize("sigma", [0.0, -0.5])
    def test_non_positive_sigma(self, sigma):
        net, pre, post = make(5, 5)
        with pytest.raises(ValidationError, match="sigma: must be > 0"):
            net.connect(pre, post, "a").connect_gaussian(1.0, sigma)
        with pytest.raises(ValidationError, match="sigma_pos: must be > 0"):
            net.connect(pre, post, "b").connect_dog(1.0, sigma, 0.5, 0.3)
        with pytest.raises(ValidationError, match="sigma_neg: must be > 0"):
            net.connect(pre, post, "c").connect_dog(1.0, 0.3, 0.5, sigma)

    def test_distance_parameters_must_be_numbers(self):
        net, pre, post = make(5, 5)
        with pytest.raises(ValidationError, match="amp: must be a finite number"):
            net.connect(pre, post, "a").connect_gaussian(Uniform(0, 1), 0.3)
        with pytest.raises(ValidationError, match="limit: must be a finite number"):
            net.connect(pre, post, "b").connect_gaussian(1.0, 0.3, limit=np.nan)

    def test_one_to_one_sizes_differ(self):
        net, pre, post = make(5, 4)
        with pytest.raises(ValidationError, match=r"one_to_one needs pre and post of the same size "
                                                  r"\(pre has 5 neurons, post 4\)"):
            net.connect(pre, post).connect_one_to_one(1.0)

    @pytest.mark.parametrize("connector", [
        lambda p: p.connect_gaussian(1.0, 0.3, storage_format="dia"),
        lambda p: p.connect_from_matrix(np.ones((5, 5)), storage_format=1),
    ])
    def test_bad_storage_format(self, connector):
        net, pre, post = make(5, 5)
        with pytest.raises(ValidationError, match=r"storage_format: must be 'dense', 'auto' \(or None\) or a sparse "
                                                  r"format \('csr', 'sparse', 'lil', .*'hyb': stored as csr\)"):
            connector(net.connect(pre, post))

    @pytest.mark.parametrize("name, kind", [("lil", "csr"), ("csr", "csr"), ("ell", "csr"), ("ellr", "csr"),
                                            ("sell", "csr"), ("coo", "csr"), ("bsr", "csr"), ("hyb", "csr"),
                                            ("csr_vector", "csr"), ("CSR_Scalar", "csr"), ("dense", "dense"),
                                            ("auto", "dense")])
    def test_annarchy_storage_formats_are_hints(self, name, kind):
        net, pre, post = make(4, 3)
        pre.r = [1.0, 2.0, 3.0, 4.0]
        proj = net.connect(pre, post, "e").connect_all_to_all(0.5, storage_format=name)
        assert proj.storage_format == kind
        net.step()
        np.testing.assert_allclose(post.sum("e"), [5.0, 5.0, 5.0])

    def test_failed_connector_leaves_projection_unconnected(self):
        net, pre, post = make(5, 4)
        proj = net.connect(pre, post)
        with pytest.raises(ValidationError):
            proj.connect_one_to_one(1.0)
        proj.connect_all_to_all(1.0)          # a second, valid attempt works
        assert proj.nb_synapses == 20
