"""Every public API with a batched network: what shows or returns weights, recordings, reports, files.

A learning projection in ``Network(batch=B)`` keeps one weight set per sample.
Each test compares the batched network with B separate unbatched runs (sample
``b`` of the batch against run ``b``) or with values computed by hand; the
error paths check their messages.
"""

from __future__ import annotations

import json
import re

import matplotlib
import numpy as np
import pytest

from ratenet import (DiscreteUniform, Hebb, Network, Neuron, RatenetError, Synapse, ValidationError, load_parameters,
                     report, save_parameters)
from ratenet.projections import Convolution, Copy, Pooling, Transpose

matplotlib.use("Agg")

B = 3
RATES = np.random.default_rng(7).random((B, 4, 4))
RULE = Synapse(parameters="eta = 0.1 : projection", equations="dw/dt = eta * pre.r * post.r\n"
                                                                "trace = 2 * post.r : postsynaptic")


def _network(batch, fmt, rates, name="p"):
    """pre (4, 4) -> post (2, 2) through a learning projection with a fixed random pattern and per-synapse
    delays (the same drawn whatever the batch: seed 1), after 5 steps of learning on ``rates``."""
    net = Network(batch=batch, seed=1)
    pre = net.create((4, 4), Neuron(parameters="r = 0.0"), name="pre")
    post = net.create((2, 2), Neuron(equations="r = sum(exc)"), name="post")
    proj = net.connect(pre, post, "exc", RULE, name=name).connect_fixed_probability(
        0.6, 0.5, delays=DiscreteUniform(1, 3), storage_format=fmt)
    pre.r = rates
    net.simulate(5.0)
    return net, pre, post, proj


@pytest.fixture(params=["dense", "csr"])
def runs(request):
    """The batched network and the B unbatched runs, one per sample."""
    fmt = request.param
    batched = _network(B, fmt, RATES)
    alone = [_network(None, fmt, RATES[b]) for b in range(B)]
    return batched, alone


def _close():
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------- weights: reads, matrices, fields, plots


def test_the_samples_learned_apart_and_get_sample_reads_like_an_unbatched_projection(runs):
    (_, _, _, proj), alone = runs
    assert proj.batch == B
    for b, (_, _, _, single) in enumerate(alone):
        for name in ("w", "eta", "trace"):
            ours, theirs = proj.get(name, sample=b), single.get(name)
            if isinstance(theirs, list):  # sparse: one array per dendrite, exactly as unbatched
                assert isinstance(ours, list) and len(ours) == len(theirs)
                assert all(np.array_equal(x, y) for x, y in zip(ours, theirs)), name
            else:
                assert np.array_equal(ours, theirs) and type(ours) is type(theirs), name
    w0 = np.concatenate([np.ravel(x) for x in proj.get("w", sample=0)])
    w2 = np.concatenate([np.ravel(x) for x in proj.get("w", sample=2)])
    assert not np.array_equal(w0, w2)  # the samples saw different rates: the test would catch a mix-up


def test_sparse_reads_give_the_batch_axis_first_and_unbatched_ones_are_unchanged():
    proj = _network(B, "csr", RATES)[3]
    alone = [_network(None, "csr", RATES[b]) for b in range(B)]
    every = proj.w  # B lists, one array per dendrite (ANNarchy's list of lists, per sample)
    assert isinstance(every, list) and len(every) == B
    for b, (_, _, _, single) in enumerate(alone):
        theirs = single.w
        assert isinstance(theirs, list) and all(isinstance(x, np.ndarray) and x.ndim == 1 for x in theirs)
        assert all(np.array_equal(x, y) for x, y in zip(every[b], theirs))
        for k, rank in enumerate(single.post_ranks):  # a dendrite reads (B, synapses): its row b is run b's
            assert np.array_equal(proj.dendrite(rank).w[b], theirs[k])


def test_connectivity_matrix_per_sample(runs):
    (_, _, _, proj), alone = runs
    every = proj.connectivity_matrix(fill=np.nan)
    assert every.shape == (B, 4, 16)
    for b, (_, _, _, single) in enumerate(alone):
        expected = single.connectivity_matrix(fill=np.nan)
        np.testing.assert_array_equal(every[b], expected)
        np.testing.assert_array_equal(proj.connectivity_matrix(fill=np.nan, sample=b), expected)


def test_receptive_fields_per_sample(runs):
    (_, _, _, proj), alone = runs
    every = proj.receptive_fields()
    assert every.shape == (B, 8, 8)
    for b, (_, _, _, single) in enumerate(alone):
        expected = single.receptive_fields()
        assert expected.shape == (8, 8)
        np.testing.assert_array_equal(every[b], expected)
        np.testing.assert_array_equal(proj.receptive_fields(in_post_geometry=False, sample=b),
                                      single.receptive_fields(in_post_geometry=False))
        # by hand: post neuron (1, 0) (rank 2) is the tile at rows 4-7, columns 0-3
        dendrite = single.dendrite(2)
        tile = np.zeros(16)
        tile[dendrite.pre_ranks] = dendrite.w
        np.testing.assert_array_equal(every[b][4:8, 0:4], tile.reshape(4, 4))
        np.testing.assert_array_equal(proj.dendrite(2).receptive_field()[b], tile.reshape(4, 4))
        np.testing.assert_array_equal(proj.dendrite(2).receptive_field(fill=-1.0, sample=b),
                                      dendrite.receptive_field(fill=-1.0))


@pytest.mark.parametrize("kind", ["fields", "matrix"])
def test_plot_weights_draws_the_chosen_sample(runs, kind):
    (_, _, _, proj), alone = runs
    try:
        for b, (_, _, _, single) in enumerate(alone):
            ax = proj.plot_weights(kind=kind, sample=b)
            expected = single.plot_weights(kind=kind).images[0].get_array()
            drawn = ax.images[0].get_array()
            np.testing.assert_array_equal(np.ma.getdata(drawn), np.ma.getdata(expected))
            np.testing.assert_array_equal(np.ma.getmaskarray(drawn), np.ma.getmaskarray(expected))
            assert ax.get_title() == f"w of p (pre -> post), sample {b}"
        assert proj.plot_weights().get_title().endswith(", sample 0")
    finally:
        _close()


def test_static_weights_are_shared_and_say_no_sample():
    net = Network(batch=B)
    pre = net.create((2, 2), Neuron(parameters="r = 0.0"))
    post = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(pre, post, name="static").connect_from_matrix(np.arange(8.0).reshape(2, 4))
    assert proj.batch is None
    assert proj.connectivity_matrix().tolist() == np.arange(8.0).reshape(2, 4).tolist()
    assert np.array_equal(proj.connectivity_matrix(sample=2), proj.connectivity_matrix())
    assert proj.receptive_fields(sample=1).tolist() == [[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]]
    try:
        assert proj.plot_weights(sample=2).get_title() == "w of static (pop0 -> pop1)"
    finally:
        _close()
    with pytest.raises(ValidationError, match=r"Projection 'static'\.sample: must be an integer in \[0, 3\) "
                                              r"\(got 3\)"):
        proj.connectivity_matrix(sample=3)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_individual_synapses_read_and_write_every_sample(fmt):
    """Before: a batched synapse read crashed, and ``syn.w = x`` wrote ``w[row, column, :]`` (dense: a whole row of
    sample ``row``) instead of this synapse in every sample."""
    net, pre, post, proj = _network(B, fmt, RATES)
    before = proj.connectivity_matrix()
    syn = proj.dendrite(1)[proj.dendrite(1).pre_ranks[0]]
    column = syn.rank
    assert syn.w.tolist() == before[:, 1, column].tolist()
    assert syn.trace.tolist() == proj.trace[:, 1].tolist() and syn.eta.tolist() == [0.1] * B
    syn.w = 9.0
    expected = before.copy()
    expected[:, 1, column] = 9.0
    assert np.array_equal(proj.connectivity_matrix(), expected)  # nothing else changed
    syn.w = [1.0, 2.0, 3.0]
    expected[:, 1, column] = [1.0, 2.0, 3.0]
    assert np.array_equal(proj.connectivity_matrix(), expected)
    with pytest.raises(ValidationError, match=r"Projection 'p'\.w: expected a number \(every "
                                              r"sample\) or 3 values \(one per sample of the batch\) \(got shape "
                                              r"\(2,\)\)"):
        syn.w = [1.0, 2.0]
    assert np.array_equal(proj.connectivity_matrix(), expected)


def test_copy_and_transpose_of_a_learning_projection():
    net = Network(batch=B)
    a = net.create(3, Neuron(parameters="r = 0.0"), name="a")
    b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    c = net.create(2, Neuron(equations="r = sum(exc)"), name="c")
    proj = net.connect(a, b, "exc", Hebb(eta=0.1), name="h").connect_all_to_all(0.5)
    copy = Copy(a, c, "exc", name="cp").connect_copy(proj)
    transposed = Transpose(proj, "back", name="tr").connect()
    a.r = RATES.reshape(B, -1)[:, :3]
    net.simulate(2.0)
    assert copy.batch == B and transposed.batch == B
    matrix = proj.connectivity_matrix()
    assert np.array_equal(copy.connectivity_matrix(), matrix)
    assert np.array_equal(transposed.connectivity_matrix(), np.swapaxes(matrix, 1, 2))
    assert np.array_equal(transposed.connectivity_matrix(sample=1), matrix[1].T)
    # 1-D geometries: one row, a tile of 2 weights (from b) for each of a's 3 neurons
    assert np.array_equal(transposed.receptive_fields(sample=2), matrix[2].T.reshape(1, 6))
    assert np.array_equal(transposed.receptive_fields()[1], matrix[1].T.reshape(1, 6))
    try:
        assert copy.plot_weights(sample=1).images[0].get_array().shape == (1, 6)
    finally:
        _close()
    with pytest.raises(ValidationError, match=r"Transpose 'tr'\.sample: must be an integer in \[0, 3\) \(got -1\)"):
        transposed.connectivity_matrix(sample=-1)


# ----------------------------------------------------------------- the sample argument


def test_sample_errors():
    net, pre, post, proj = _network(B, "csr", RATES)
    with pytest.raises(ValidationError, match=r"Projection 'p'\.sample: must be an integer in "
                                              r"\[0, 3\) \(got 3\)"):
        proj.receptive_fields(sample=3)
    with pytest.raises(ValidationError, match=r"Projection 'p'\.sample: must be an integer in "
                                              r"\[0, 3\) \(got True\)"):
        proj.get("w", sample=True)
    with pytest.raises(ValidationError, match=r"Projection 'p'\.sample: must be an integer in "
                                              r"\[0, 3\) \(got 1.0\)"):
        proj.connectivity_matrix(sample=1.0)
    with pytest.raises(ValidationError, match=r"Projection 'p'\.sample: must be an integer in "
                                              r"\[0, 3\) \(got None\)"):
        proj.plot_weights(sample=None)
    with pytest.raises(ValidationError, match=r"Dendrite of Projection 'p' onto post rank 0\."
                                              r"sample: must be an integer in \[0, 3\) \(got 5\)"):
        proj.dendrite(0).receptive_field(sample=5)
    single = _network(None, "csr", RATES[0])[3]
    with pytest.raises(ValidationError, match=r"Projection 'p'\.sample: the network has no "
                                              r"batch axis: leave it out \(or 0\) \(got 1\)"):
        single.get("w", sample=1)
    assert all(np.array_equal(x, y) for x, y in zip(single.get("w", sample=0), single.w))
    pop = Network().create(3, Neuron(parameters="r = 0.0"), name="flat")
    with pytest.raises(ValidationError, match=r"Population 'flat'\.sample: the network has no batch axis: leave it "
                                              r"out \(or 0\) \(got 2\)"):
        pop.plot(sample=2)
    _close()


# ----------------------------------------------------------------- texts, reports, parameter files, state files


def test_text_html_and_report_of_a_batched_learning_projection():
    net, pre, post, proj = _network(B, "csr", RATES)
    proj.w = [[[1.0] * len(row) for row in proj.w[0]], [[2.0] * len(row) for row in proj.w[0]],
              [[6.0] * len(row) for row in proj.w[0]]]  # samples 1, 2 and 6 everywhere: min 1, mean 3, max 6
    n = proj.nb_synapses
    text = str(proj)
    assert "batch: one set of synaptic values per sample (3 sets; the values below cover every sample)" in text
    row = next(line.split() for line in text.splitlines() if line.strip().startswith("w "))
    assert row == ["w", str(3 * n), "1", "3", "6"]
    assert repr(proj).endswith(f"{n} synapses, one weight set per sample (3)>")
    assert "one set of synaptic values per sample" in proj._repr_html_()
    markdown = report(net)
    assert ("- **batch**: 3 samples run at once (every population array has a leading axis of 3); one set of "
            "synaptic values per sample in p") in markdown
    html = post._repr_html_()
    assert "r of post, sample 0 of 3" in html
    try:
        assert net.plot().get_title() == "2 populations, 1 projection, a batch of 3 samples"
    finally:
        _close()
    assert "batch" not in report(_network(None, "csr", RATES[0])[0])


def test_parameter_files_hold_one_value_per_sample(tmp_path):
    net = Network(batch=B)
    pop = net.create(2, Neuron(parameters="tau = 10.0 : population\nk = 1 : population, int"), name="pop")
    other = net.create(2, Neuron(equations="r = sum(exc)"), name="other")
    proj = net.connect(pop, other, "exc", Hebb(eta=0.1), name="learn").connect_all_to_all(0.5)
    static = net.connect(pop, other, "inh", Synapse(parameters="g = 2.0 : projection"),
                         name="static").connect_all_to_all(0.5)
    pop.tau = [5.0, 10.0, 20.0]
    proj.eta = [0.1, 0.2, 0.3]
    path = str(tmp_path / "params.json")
    save_parameters(path, net=net)
    saved = json.load(open(path))
    assert saved["populations"]["pop"] == {"tau": [5.0, 10.0, 20.0], "k": 1}  # samples that agree: one number
    assert saved["projections"]["learn"] == {"eta": [0.1, 0.2, 0.3]} and saved["projections"]["static"] == {"g": 2.0}
    pop.tau = 1.0
    proj.eta = 0.0
    load_parameters(path, net=net)
    assert pop.tau.tolist() == [5.0, 10.0, 20.0] and proj.eta.tolist() == [0.1, 0.2, 0.3] and pop.k.tolist() == [1] * 3
    assert pop.initial_value("tau").shape == (B,)

    def refused(section, name, attr, value, message):
        bad = str(tmp_path / "bad.json")
        json.dump({section: {name: {attr: value}}}, open(bad, "w"))
        before = (pop.tau.tolist(), proj.eta.tolist(), static.g)
        with pytest.raises(ValidationError, match=re.escape(f"load_parameters('{bad}').{section}.{name}.{attr}: "
                                                            f"{message}")):
            load_parameters(bad, net=net)
        assert (pop.tau.tolist(), proj.eta.tolist(), static.g) == before

    refused("populations", "pop", "tau", [1.0, 2.0], "expected a number or 3 numbers (one per sample of the batch) "
                                                     "(got [1.0, 2.0])")
    refused("projections", "static", "g", [1.0, 2.0, 3.0], "expected a single number (a list gives one value per "
                                                           "sample of a batch; this object holds one value for every "
                                                           "sample) (got [1.0, 2.0, 3.0])")
    refused("populations", "pop", "k", [1, 2.5, 3], "is an int attribute: expected a whole number (got [1, 2.5, 3])")
    refused("populations", "pop", "tau", [1.0, "x", 3.0], "expected a single number (parameter files hold no arrays "
                                                          "or text) (got 'x')")
    flat = Network()
    flat.create(2, Neuron(parameters="tau = 10.0 : population"), name="pop")
    bad = str(tmp_path / "flat.json")
    json.dump({"populations": {"pop": {"tau": [1.0, 2.0, 3.0]}}}, open(bad, "w"))
    with pytest.raises(ValidationError, match=re.escape(f"load_parameters('{bad}').populations.pop.tau: expected a "
                                                        f"single number (parameter files hold no arrays or text) "
                                                        f"(got [1.0, 2.0, 3.0])")):
        load_parameters(bad, net=flat)


def test_population_initial_value_reads_like_the_attribute():
    net = Network(batch=B)
    pop = net.create(2, Neuron(parameters="tau = 10.0 : population\nb = 0.5"))
    pop.tau = [1.0, 2.0, 3.0]
    net.compile()
    pop.tau = 7.0
    assert pop.initial_value("tau").tolist() == [1.0, 2.0, 3.0] and pop.tau.tolist() == [7.0] * 3
    assert pop.initial_value("b").shape == (B, 2)
    pop.reset()
    assert pop.tau.tolist() == pop.initial_value("tau").tolist()


def test_save_load_and_reset_round_trip_per_sample_weights(tmp_path, runs):
    (net, _, _, proj), alone = runs
    path = str(tmp_path / "state.npz")
    net.save(path)
    saved = proj.connectivity_matrix()
    proj.save(str(tmp_path / "proj.npz"))
    net.simulate(2.0)
    assert not np.array_equal(proj.connectivity_matrix(), saved)
    net.load(path)
    assert np.array_equal(proj.connectivity_matrix(), saved)
    net.simulate(2.0)
    proj.load(str(tmp_path / "proj.npz"))
    assert np.array_equal(proj.connectivity_matrix(), saved)
    for b, (_, _, _, single) in enumerate(alone):
        assert np.array_equal(proj.connectivity_matrix(sample=b), single.connectivity_matrix())
    proj.reset(["w"])  # back to the weights at compile time: 0.5 on every synapse of every sample
    matrix = proj.connectivity_matrix(fill=np.nan)
    pattern = np.isnan(alone[0][3].connectivity_matrix(fill=np.nan))
    assert all(np.array_equal(np.isnan(one), pattern) for one in matrix)
    assert np.unique(matrix[~np.isnan(matrix)]).tolist() == [0.5]


# ----------------------------------------------------------------- monitors


def test_monitor_plot_and_animate_draw_one_sample():
    net = Network(batch=B)
    pop = net.create(4, Neuron(parameters="k = 1.0", equations="r = k * t"), name="line")
    grid = net.create((2, 3), Neuron(parameters="k = 1.0", equations="r = k * t"), name="grid")
    pop.k = [[1.0] * 4, [2.0] * 4, [3.0] * 4]
    grid.k = np.arange(1.0, 4.0)[:, None, None] * np.ones((B, 2, 3))
    m_line, m_grid, m_neuron = net.monitor(pop, "r"), net.monitor(grid, "r"), net.monitor(pop.neuron(2), "r")
    net.simulate(4.0)
    recorded = m_line.get("r", keep=True)
    try:
        for b in range(B):
            ax = m_line.plot(sample=b)
            assert len(ax.lines) == 4 and ax.get_title() == f"r of line, sample {b}"
            for k, line in enumerate(ax.lines):
                assert np.array_equal(line.get_ydata(), recorded[:, b, k])
            assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"neuron {k}" for k in range(4)]
            one = m_neuron.plot(sample=b)
            assert np.array_equal(one.lines[0].get_ydata(), (b + 1.0) * np.arange(4.0))
            heat = m_grid.plot(sample=b, kind="heatmap").images[0].get_array()
            assert np.array_equal(heat, (b + 1.0) * np.tile(np.arange(4.0), (6, 1)))
            movie = m_grid.animate(sample=b)
            assert len(movie) == 4
            assert np.array_equal(movie.draw_frame(3)[0].get_array(), np.full((2, 3), 3.0 * (b + 1)))
        with pytest.raises(ValidationError, match=r"Monitor 'monitor of line'\.sample: must be an integer in "
                                                  r"\[0, 3\) \(got 3\)"):
            m_line.plot(sample=3)
        with pytest.raises(ValidationError, match=r"Monitor 'monitor of grid'\.sample: must be an integer in "
                                                  r"\[0, 3\) \(got -1\)"):
            m_grid.animate(sample=-1)
    finally:
        _close()


def test_monitor_of_projection_variables_plots_one_sample(runs):
    (net, _, _, proj), alone = runs
    m = net.monitor(proj, ["w", "trace", "eta"])
    references = []
    for _, _, _, single in alone:
        references.append(single.network.monitor(single, ["w", "trace"]))
        single.network.simulate(2.0)
    net.simulate(2.0)
    try:
        for b, reference in enumerate(references):
            expected = reference.get("trace", keep=True)
            ax = m.plot("trace", sample=b)
            assert [list(line.get_ydata()) for line in ax.lines] == expected.T.tolist()
            w = m.plot("w", sample=b, kind="heatmap").images[0].get_array()
            assert np.array_equal(w, reference.get("w", keep=True).reshape(2, -1).T)
            assert np.array_equal(m.plot("eta", sample=b).lines[0].get_ydata(), [0.1, 0.1])
    finally:
        _close()


# ----------------------------------------------------------------- kernel projections


def _kernels(batch, images):
    net = Network(batch=batch)
    image = net.create((6, 6), Neuron(parameters="r = 0.0"), name="image")
    features = net.create((6, 6, 2), Neuron(equations="r = sum(exc)"), name="features")
    pooled = net.create((3, 3, 2), Neuron(equations="r = sum(exc)"), name="pooled")
    bank = np.stack([np.arange(9.0).reshape(3, 3), -np.eye(3)])
    conv = net.connect(Convolution(image, features, "exc", name="conv")).connect_filters(bank)
    pool = net.connect(Pooling(features, pooled, "exc", operation="max", name="pool")).connect_pooling((2, 2, 1))
    image.r = images
    net.simulate(3.0)
    return net, pooled, conv, pool


def test_kernel_projections_over_per_sample_inputs(tmp_path):
    images = np.random.default_rng(3).random((B, 6, 6))
    net, pooled, conv, pool = _kernels(B, images)
    for b in range(B):
        np.testing.assert_array_equal(pooled.r[b], _kernels(None, images[b])[1].r)
    assert conv.batch is None and np.array_equal(conv.get("w", sample=2), conv.weights)
    try:
        assert conv.plot_weights(sample=2).get_title() == "w of conv (image -> features)"
    finally:
        _close()
    with pytest.raises(ValidationError, match=r"Convolution 'conv'\.sample: must be an integer in \[0, 3\) "
                                              r"\(got 4\)"):
        conv.get("w", sample=4)
    # a kernel projection saves and loads its own file (before: "inspection is not available")
    path = str(tmp_path / "conv.npz")
    conv.save(path)
    pool.save(str(tmp_path / "pool.npz"))
    kept = conv.weights
    conv.weights = np.zeros_like(kept)
    conv.load(path)
    assert np.array_equal(conv.weights, kept)
    pool.load(str(tmp_path / "pool.npz"))


def test_sparse_weights_are_assigned_in_the_form_they_read():
    """B lists of dendrites (arrays or lists of numbers): before, NumPy refused the ragged nested list."""
    net, pre, post, proj = _network(B, "csr", RATES)
    sizes = [len(row) for row in proj.w[0]]
    proj.w = [[[b + 1.0] * size for size in sizes] for b in range(B)]
    for b in range(B):
        assert [row.tolist() for row in proj.get("w", sample=b)] == [[b + 1.0] * size for size in sizes]
    read = proj.w
    proj.w = [[row * 2.0 for row in rows] for rows in read]  # the read form: lists of arrays
    assert all(np.array_equal(x, 2.0 * y) for rows, old in zip(proj.w, read) for x, y in zip(rows, old))
    proj.w = [[7.0] * size for size in sizes]  # one sample's lists: every sample
    assert all(row.tolist() == [7.0] * len(row) for rows in proj.w for row in rows)


def test_the_receptive_fields_of_a_transpose_are_its_own_by_hand():
    """Unbatched too: before, a Transpose tiled its original's (post, pre) matrix as if it were its own."""
    net = Network()
    a = net.create(3, Neuron(parameters="r = 0.0"))
    b = net.create(2, Neuron(parameters="r = 0.0"))
    forward = net.connect(a, b).connect_from_matrix([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    back = Transpose(forward, "back").connect()
    # back's post is a (3 neurons), its pre b (2): neuron j of a receives w[0, j] and w[1, j]
    assert back.receptive_fields().tolist() == [[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]]
    assert back.receptive_fields(in_post_geometry=False).tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]


def test_a_batched_network_copies_with_its_batch_and_per_sample_values():
    net = Network(batch=B, seed=2)
    a = net.create(3, Neuron(parameters="r = 1.0\ntau = 1.0 : population"), name="a")
    b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    proj = net.connect(a, b, "exc", Hebb(eta=0.1), name="h").connect_fixed_probability(0.7, 0.5,
                                                                                       storage_format="csr")
    a.tau = [1.0, 2.0, 3.0]
    a.r = RATES.reshape(B, -1)[:, :3]
    net.simulate(2.0)
    twin = net.copy()  # before: the copy had no batch axis and refused the values
    assert twin.batch == B and twin.get_population("a").tau.tolist() == [1.0, 2.0, 3.0]
    assert np.array_equal(twin.get_projection("h").connectivity_matrix(), proj.connectivity_matrix())
    twin.simulate(2.0)
    net.simulate(2.0)
    assert np.array_equal(twin.get_population("b").r, b.r)
    assert np.array_equal(twin.get_projection("h").connectivity_matrix(), proj.connectivity_matrix())
    with pytest.raises(ValidationError, match=r"Population 'a'\.copy_to: has a batch of 3 samples, the network no "
                                              r"batch axis \(got <Network"):
        Network().add(a)


def test_the_text_of_a_sparse_projection_with_per_synapse_delays():
    """Unbatched too: the summary asked NumPy for the dimensions of one list of delays per dendrite (ragged)."""
    net = Network()
    a, b = net.create(3, Neuron(parameters="r = 0.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b, name="late").connect_from_matrix([[1.0, None, 1.0], [1.0, 1.0, 1.0]],
                                                              delays=[[1.0, None, 3.0], [2.0, 2.0, 4.0]],
                                                              storage_format="csr")
    assert "delays: min 1, mean 2.4, max 4 ms (per synapse)" in str(proj)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_check_finite_names_the_sample_of_postsynaptic_and_projection_values(fmt):
    net = Network(batch=B)
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    syn = Synapse(parameters="eta = 0.1 : projection", equations="dw/dt = eta * pre.r * post.r\n"
                                                                  "tr = 1.0 / (eta - 0.5) : postsynaptic\n"
                                                                  "g = 1.0 / (eta - 0.7) : projection")
    proj = net.connect(a, b, "exc", syn, name="h").connect_all_to_all(0.5, storage_format=fmt)
    net.simulate(1.0)
    net.check_finite = True
    proj.eta = [0.1, 0.5, 0.2]  # sample 1 divides by zero in tr
    with np.errstate(divide="ignore"), pytest.raises(
            RatenetError, match=r"Projection 'h' \(synapse 'Synapse'\)\.tr: sample 1, post neuron 0 is inf after "
                                r"step 1 \(t = 1\.0 ms\)"):
        net.step()
    proj.eta = [0.1, 0.2, 0.7]  # sample 2 in g
    with np.errstate(divide="ignore"), pytest.raises(
            RatenetError, match=r"Projection 'h' \(synapse 'Synapse'\)\.g: sample 2, the value is inf after "
                                r"step"):
        net.step()


class _Layer(Network):
    def __init__(self, size, rate=1.0):
        self.pop = self.create(size, Neuron(parameters=f"r = {rate}\ntau = 1.0 : population"))


class _Declared(Network):
    def __init__(self, size):
        super().__init__(batch=2)  # before the populations: the batch applies
        self.pop = self.create(size, Neuron(parameters="r = 0.0"))


def test_a_network_subclass_takes_the_batch_and_copies_keep_it():
    """Before: ``MyNet(..., batch=B)`` passed ``batch`` to the subclass's ``__init__`` (a TypeError), and a
    ``super().__init__(batch=B)`` inside it was ignored."""
    net = _Layer(3, rate=2.0, batch=B)
    assert net.batch == B and net.pop.r.shape == (B, 3) and net.init_args == ((3,), {"rate": 2.0, "batch": B})
    net.pop.tau = [1.0, 2.0, 3.0]
    twin = net.copy()  # built again from its arguments: the batch included
    assert twin.batch == B and twin.pop.r.tolist() == [[2.0] * 3] * B
    assert net.copy(4).pop.r.shape == (B, 4)
    assert _Declared(5).pop.r.shape == (2, 5) and _Declared(5).batch == 2
    assert _Layer(2).batch is None


_GAUSS = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, 4.0, 6.0, 4.0, 1.0]) / 256.0
_KERNEL_CASES = {  # named after the strategy ConvolutionKernel chooses for it today: pre, post, weights, a bank
    "im2col": ((32, 32, 3), (32, 32, 16), np.random.default_rng(1).random((16, 3, 3, 3)), True),
    "fft": ((64, 64), (64, 64), np.random.default_rng(2).random((15, 15)), False),
    "matmul": ((12, 16, 3), (12, 16, 3), np.array([[[[2.0, -1.0, -1.0]]], [[[-1.0, 2.0, -1.0]]],
                                                   [[[-1.0, -1.0, 2.0]]]]), True),
    "ndimage": ((28, 28), (28, 28), np.random.default_rng(3).random((5, 5)), False),
    "shifted": ((60, 60), (60, 60), _GAUSS, False),
    "im2col, subsampled": ((10, 10), (5, 5), np.random.default_rng(4).random((3, 3)), False),
}


@pytest.mark.parametrize("case", sorted(_KERNEL_CASES))
def test_a_batched_convolution_gives_each_sample_the_bits_of_its_own_run(case):
    pre_shape, post_shape, weights, bank = _KERNEL_CASES[case]
    images = np.random.default_rng(5).random((B, *pre_shape))

    def run(batch, rates):
        net = Network(batch=batch)
        pre = net.create(pre_shape, Neuron(parameters="r = 0.0"))
        post = net.create(post_shape, Neuron(equations="r = sum(exc)"))
        conv = net.connect(Convolution(pre, post, "exc"))
        (conv.connect_filters if bank else conv.connect_filter)(weights)
        pre.r = rates
        net.simulate(2.0)
        return post.r

    batched = run(B, images)
    for b in range(B):
        assert np.array_equal(batched[b], run(None, images[b])), b


def test_a_state_file_of_another_batch_size_is_refused_naming_the_batch(tmp_path):
    def build(batch):
        net = Network(batch=batch, seed=1)
        a = net.create(3, Neuron(parameters="r = 1.0"), name="a")
        b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
        return net, net.connect(a, b, "exc", Hebb(eta=0.1), name="h").connect_all_to_all(0.5)

    (single, _), (three, learning), (two, other) = build(None), build(3), build(2)
    single.save(str(tmp_path / "one.npz"))
    three.save(str(tmp_path / "three.npz"))
    learning.save(str(tmp_path / "h.npz"))
    with pytest.raises(ValidationError, match=r"\.pop:a:r: expected numbers \(one set per sample of the network's "
                                              r"batch of 3\) of shape \(3, 3\) \(got floating-point values "
                                              r"\(float64\), shape \(3,\)\)"):
        three.load(str(tmp_path / "one.npz"))
    with pytest.raises(ValidationError, match=r"\.pop:a:r: expected numbers \(one set per sample of the network's "
                                              r"batch of 2\) of shape \(2, 3\)"):
        two.load(str(tmp_path / "three.npz"))
    with pytest.raises(ValidationError, match=r"\.proj:h:eta: expected numbers \(one set per sample of the "
                                              r"network's batch of 2\) of shape \(2,\) \(got floating-point values "
                                              r"\(float64\), shape \(3,\)\)"):
        other.load(str(tmp_path / "h.npz"))
