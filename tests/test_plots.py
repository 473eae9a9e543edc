"""Plots: populations, recordings, weights, network diagrams and animations (artists, not pixels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from ratenet import Monitor, Network, Neuron, ValidationError


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_traces_follow_the_recorded_values():
    net = Network()
    pop = net.create(4, Neuron(parameters="g = 1.0", equations="r = g * t"))
    pop.g = [1.0, 2.0, 3.0, 4.0]
    m = Monitor(pop, "r")
    net.simulate(5.0)
    ax = m.plot(neurons=[1, 3])
    assert len(ax.lines) == 2
    x, y = ax.lines[1].get_data()
    np.testing.assert_array_equal(x, np.arange(5.0))
    np.testing.assert_array_equal(y, 4.0 * np.arange(5.0))
    assert m.get("r").shape == (5, 4), "plot must not drop the recording"


def test_many_neurons_give_an_image():
    net = Network()
    pop = net.create((10, 10), Neuron(equations="r = t"))
    m = Monitor(pop, "r")
    net.simulate(3.0)
    ax = m.plot()
    image = ax.images[0].get_array()
    assert image.shape == (100, 3)
    np.testing.assert_array_equal(image[0], [0.0, 1.0, 2.0])


def test_samples_of_changing_size_are_refused():
    net = Network()
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b).connect_from_matrix([[1.0, None, None], [None, 1.0, None]], storage_format="csr")
    m = Monitor(proj, "w")
    net.simulate(2.0)
    proj.dendrite(0).create_synapse(2, 0.5)
    net.simulate(2.0)
    with pytest.raises(ValidationError, match="cannot plot samples of changing sizes"):
        m.plot()


def test_nothing_recorded_is_a_clear_error():
    net = Network()
    pop = net.create(2, Neuron(equations="r = t"))
    m = Monitor(pop, "r")
    with pytest.raises(ValidationError, match="nothing recorded for 'r'"):
        m.plot()
    net.simulate(2.0)
    m.get("r")
    with pytest.raises(ValidationError, match="nothing recorded"):
        m.plot()


# ---------------------------------------------------------------------------
# populations


def test_population_image_is_its_values():
    net = Network()
    pop = net.create((3, 5), Neuron(parameters="r = 0.0"), name="grid")
    values = np.arange(15.0).reshape(3, 5)
    pop.r = values
    ax = pop.plot()
    np.testing.assert_array_equal(ax.images[0].get_array(), values)
    assert ax.get_title() == "r of grid, t = 0 ms"
    assert ax.figure.axes[1].get_ylabel() == "r"  # the colour bar


def test_one_dimensional_population_is_a_line():
    net = Network()
    pop = net.create(4, Neuron(parameters="g = 1.0", equations="r = g"))
    pop.g = [1.0, 3.0, 2.0, 0.5]
    net.simulate(1.0)
    ax = pop.plot()
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(4))
    np.testing.assert_array_equal(y, [1.0, 3.0, 2.0, 0.5])
    assert ax.get_xlabel() == "rank"


def test_three_channels_are_rgb_and_other_counts_are_panels():
    net = Network()
    rgb = net.create((2, 2, 3), Neuron(parameters="r = 0.0"), name="rgb")
    values = np.random.default_rng(0).random((2, 2, 3))
    rgb.r = values
    np.testing.assert_array_equal(rgb.plot().images[0].get_array(), values)
    rgb.r = 2 * values - 0.5  # outside [0, 1]: scaled into it
    ax = rgb.plot()
    shown = np.asarray(ax.images[0].get_array())
    expected = (2 * values - 0.5 - (2 * values - 0.5).min()) / np.ptp(2 * values - 0.5)
    np.testing.assert_allclose(shown, expected)
    assert ax.get_title().endswith("(RGB, scaled into [0, 1])")
    panels = rgb.plot(rgb=False)
    assert len(panels) == 3
    np.testing.assert_array_equal(panels[2].images[0].get_array(), (2 * values - 0.5)[:, :, 2])
    bank = net.create((2, 3, 4), Neuron(parameters="r = 0.0"))
    bank.r = np.arange(24.0).reshape(2, 3, 4)
    axes = bank.plot()
    assert [a.get_title() for a in axes] == [f"r[..., {c}]" for c in range(4)]
    assert all(a.images[0].get_clim() == (0.0, 23.0) for a in axes)  # one colour scale for all panels


def test_panels_into_given_axes_and_errors():
    import matplotlib.pyplot as plt

    net = Network()
    bank = net.create((2, 2, 2), Neuron(parameters="r = 0.0"), name="bank")
    figure, axes = plt.subplots(1, 2)
    assert bank.plot(ax=axes) == list(axes)
    with pytest.raises(ValidationError, match=r"Population 'bank'\.ax: needs one Axes per channel \(2\) "
                                              r"\(got 1 Axes\)"):
        bank.plot(ax=axes[0])
    shared = net.create((2, 2), Neuron(parameters="tau = 1.0 : population\nr = 0.0"), name="shared")
    with pytest.raises(ValidationError, match="has one value for the whole population"):
        shared.plot("tau")
    with pytest.raises(ValidationError, match=r"Population 'shared'\.variable: .*no attribute 'v'"):
        shared.plot("v")
    deep = net.create((2, 2, 2, 2), Neuron(parameters="r = 0.0"), name="deep")
    with pytest.raises(ValidationError, match=r"draws 1-D, 2-D and 3-D geometries \(got 4-D"):
        deep.plot()


def test_view_plot_uses_the_view_geometry():
    net = Network()
    pop = net.create((4, 4), Neuron(parameters="r = 0.0"))
    pop.r = np.arange(16.0).reshape(4, 4)
    ax = pop[1:3, 1:4].plot()
    np.testing.assert_array_equal(ax.images[0].get_array(), np.arange(16.0).reshape(4, 4)[1:3, 1:4])


# ---------------------------------------------------------------------------
# recordings


def test_traces_have_a_legend_with_coordinates():
    net = Network()
    pop = net.create((2, 2), Neuron(parameters="g = 1.0", equations="r = g * t"))
    m = Monitor(pop, "r")
    net.simulate(3.0)
    ax = m.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "r")
    view = Monitor(pop[[1, 3]], "r")
    net.simulate(2.0)
    assert [t.get_text() for t in view.plot().get_legend().get_texts()] == ["(0, 1)", "(1, 1)"]
    line = Monitor(net.create(5, Neuron(equations="r = t")), "r")
    net.simulate(2.0)
    assert [t.get_text() for t in line.plot(neurons=[4, 2]).get_legend().get_texts()] == ["neuron 4", "neuron 2"]


def test_heatmap_extent_and_kinds():
    net = Network(dt=0.5)
    pop = net.create(30, Neuron(parameters="g = 1.0", equations="r = g * t"))
    pop.g = np.arange(30.0)
    m = Monitor(pop, "r", period=1.0)
    net.simulate(4.0)
    ax = m.plot()
    image = ax.images[0]
    times = m.sample_times("r")
    np.testing.assert_array_equal(image.get_array(), np.outer(np.arange(30.0), times))
    assert image.get_extent() == [times[0] - 0.5, times[-1] + 0.5, -0.5, 29.5]
    assert ax.figure.axes[-1].get_ylabel() == "r"
    assert len(m.plot(kind="traces", legend=False).lines) == 30
    assert len(m.plot(kind="heatmap", neurons=[0, 1]).images) == 1
    with pytest.raises(ValidationError, match=r"kind: must be 'auto', 'traces' or 'heatmap' \(got 'bars'\)"):
        m.plot(kind="bars")
    with pytest.raises(ValidationError, match=r"neurons: must be indices of recorded neurons \(0 to 29\)"):
        m.plot(neurons=[40])


# ---------------------------------------------------------------------------
# weights


def test_receptive_fields_grid():
    net = Network()
    pre = net.create((2, 3), Neuron(parameters="r = 0.0"))
    post = net.create((2, 2), Neuron(equations="r = sum(exc)"))
    weights = np.arange(24.0).reshape(4, 6)
    proj = net.connect(pre, post).connect_from_matrix(weights)
    ax = proj.plot_weights()
    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(shown, proj.receptive_fields())
    # tile of post neuron (1, 0) (rank 2) holds its weights in the pre geometry
    np.testing.assert_array_equal(shown[2:4, 0:3], weights[2].reshape(2, 3))
    vertical, horizontal = ax.lines  # one line between the two columns of tiles, one between the two rows
    assert (vertical.get_xdata()[0], horizontal.get_ydata()[0]) == (2.5, 1.5)


def test_weight_matrix_and_diverging_colours():
    net = Network()
    pre = net.create((2, 2, 2), Neuron(parameters="r = 0.0"))  # 3-D pre: no receptive-field tiles
    post = net.create(3, Neuron(equations="r = sum(exc)"))
    weights = np.array([[1.0, -2.0, None, 0.5, 0.0, 1.0, 2.0, -1.0]] * 3, dtype=object)
    proj = net.connect(pre, post).connect_from_matrix(weights)
    ax = proj.plot_weights()
    shown = ax.images[0].get_array()
    assert shown.mask[:, 2].all() and not shown.mask[:, 3].any()  # no synapse: blank
    np.testing.assert_array_equal(shown.data[:, 1], -2.0)
    assert ax.images[0].get_cmap().name == "RdBu_r" and ax.images[0].get_clim() == (-2.0, 2.0)
    assert ax.get_xlabel() == "pre-synaptic neuron"
    with pytest.raises(ValidationError, match="kind: must be 'auto', 'fields' or 'matrix'"):
        proj.plot_weights(kind="grid")


def test_convolution_filters_and_pooling():
    from ratenet.projections import Convolution, Pooling

    net = Network()
    pre = net.create((4, 4, 3), Neuron(parameters="r = 0.0"))
    post = net.create((4, 4, 2), Neuron(equations="r = sum(exc)"))
    bank = np.arange(2 * 3 * 3 * 3, dtype=float).reshape(2, 3, 3, 3)
    conv = net.connect(Convolution(pre, post)).connect_filters(bank)
    shown = np.asarray(conv.plot_weights().images[0].get_array())
    # each filter (3, 3, 3) shows its 3 channels side by side (3 x 11), the 2 filters side by side again
    assert shown.shape == (3, 23)
    np.testing.assert_array_equal(shown[:, 0:3], bank[0][:, :, 0])
    np.testing.assert_array_equal(shown[:, 12:15], bank[1][:, :, 0])
    small = net.create((4, 4), Neuron(equations="r = sum(exc)"))
    single = net.connect(Convolution(net.create((4, 4), Neuron(parameters="r = 0.0")), small))
    single.connect_filter(np.eye(3))
    np.testing.assert_array_equal(single.plot_weights().images[0].get_array(), np.eye(3))
    pooled = net.create((2, 2, 3), Neuron(equations="r = sum(exc)"))
    pool = net.connect(Pooling(pre, pooled, operation="mean")).connect_pooling()
    with pytest.raises(ValidationError, match="plot_weights: has no weights to draw"):
        pool.plot_weights()


# ---------------------------------------------------------------------------
# network diagrams


def test_layers_follow_the_projections():
    from ratenet.display.plots import layers

    # input -> a -> b -> out, b -> a (feedback), a -> a (recurrent), input -> out (skip)
    assert layers(range(4), [(0, 1), (1, 2), (2, 3), (2, 1), (1, 1), (0, 3)]) == [0, 1, 2, 3]
    # created in another order: columns do not depend on it
    assert layers(range(4), [(3, 2), (2, 1), (1, 0)]) == [3, 2, 1, 0]
    assert layers(range(3), []) == [0, 0, 0]


def test_network_diagram_has_boxes_arrows_and_labels():
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    net = Network()
    inp = net.create((4, 4), Neuron(parameters="r = 0.0"), name="input")
    exc = net.create((4, 4), Neuron(equations="r = sum(exc) - sum(inh)"), name="excit")
    inh = net.create(4, Neuron(equations="r = sum(exc)"), name="inhib")
    net.connect(inp, exc, "exc").connect_one_to_one(1.0)
    net.connect(exc, inh, "exc").connect_all_to_all(0.1)
    net.connect(inh, exc, "inh").connect_all_to_all(0.2)
    net.connect(exc, exc, "exc").connect_gaussian(0.1, 0.2)
    ax = net.plot()
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == 3 and len(arrows) == 4
    texts = [t.get_text() for t in ax.texts]
    for label in ("input", "excit", "inhib", "exc: One-to-One", "exc: All-to-All", "inh: All-to-All",
                  "exc: Gaussian", "(4,) Neuron"):
        assert label in texts
    # columns: input, then excit, then inhib (feedback inhib -> excit does not move excit right)
    x = {t.get_text(): t.get_position()[0] for t in ax.texts if t.get_text() in ("input", "excit", "inhib")}
    assert x["input"] < x["excit"] < x["inhib"]
    assert not ax.axison
    assert ax.get_title() == "3 populations, 4 projections"
    single = Network()
    single.connect(single.create(2, Neuron(parameters="r = 0.0")), single.create(2, Neuron(equations="r = sum(exc)")),
                   "exc").connect_one_to_one(1.0)
    assert single.plot().get_title() == "2 populations, 1 projection"


# ---------------------------------------------------------------------------
# animations


def test_animation_frames_are_the_recording(tmp_path):
    net = Network()
    pop = net.create((3, 4), Neuron(parameters="g = 1.0", equations="r = g * t"))
    pop.g = np.arange(12.0).reshape(3, 4)
    m = Monitor(pop, "r")
    net.simulate(5.0)
    movie = m.animate()
    recorded = m.get("r", keep=True, reshape=True)
    assert len(movie) == 5
    for k in (0, 3):
        movie.draw_frame(k)
        np.testing.assert_array_equal(movie.image.get_array(), recorded[k])
        assert movie.image.axes.get_title() == f"r of {pop.name}, t = {k} ms"
    assert movie.image.get_clim() == (0.0, float(recorded.max()))
    html = movie._repr_html_()
    assert "<script" in html and "Animation" in html
    path = movie.save(tmp_path / "movie.gif")
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == 5
    page = movie.save(tmp_path / "movie.html")
    assert open(page, encoding="utf-8").read().count("data:image/png;base64") == 5
    assert m.get("r").shape == (5, 12), "animate must not drop the recording"


def test_animation_rgb_line_and_errors(tmp_path, monkeypatch):
    from matplotlib import animation as mpl_animation

    net = Network()
    rgb = net.create((2, 2, 3), Neuron(equations="r = t / 10"))
    line = net.create(5, Neuron(parameters="g = 1.0", equations="r = g * t"))
    m_rgb, m_line = Monitor(rgb, "r"), Monitor(line, "r")
    net.simulate(3.0)
    movie = m_rgb.animate()
    movie.draw_frame(2)
    np.testing.assert_allclose(movie.image.get_array(), np.full((2, 2, 3), 0.2))
    lines = m_line.animate()
    lines.draw_frame(2)
    np.testing.assert_array_equal(lines.image.get_ydata(), np.full(5, 2.0))
    monkeypatch.setattr(mpl_animation.writers, "is_available", lambda name: False)
    with pytest.raises(ValidationError, match=r"writing \.mp4 needs ffmpeg, which was not found on the PATH"):
        movie.save(tmp_path / "movie.mp4")
    with pytest.raises(ValidationError, match=r"filename: must end with \.gif, \.mp4 or \.html"):
        movie.save(tmp_path / "movie.avi")
    proj = net.connect(line, line).connect_all_to_all(0.1)
    with pytest.raises(ValidationError, match="animate: needs a recorded population or view"):
        Monitor(proj, "w").animate()
    empty = Monitor(rgb, "r")
    with pytest.raises(ValidationError, match="nothing recorded for 'r'"):
        empty.animate()


def test_mp4_with_ffmpeg(tmp_path):
    from matplotlib import animation as mpl_animation

    if not mpl_animation.writers.is_available("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    net = Network()
    pop = net.create((8, 8), Neuron(equations="r = t"))
    m = Monitor(pop, "r")
    net.simulate(4.0)
    path = m.animate(filename=tmp_path / "movie.mp4", fps=5)
    assert (tmp_path / "movie.mp4").stat().st_size > 0 and len(path) == 4
