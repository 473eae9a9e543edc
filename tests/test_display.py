"""Rich and plain displays: _repr_html_, __repr__, __str__, _repr_pretty_.

The HTML is parsed (it is well-formed XHTML) and its structure and values are
compared with what NumPy computes from the objects, never with stored strings.
"""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import numpy as np
import pytest

from ratenet import IBCM, InputArray, Monitor, Network, Neuron, Population, Projection, Synapse, Uniform, clear
from ratenet.display.summary import HAND_OVER_NOTE, format_number
from ratenet.projections import Convolution, Pooling


def parse(html: str) -> ET.Element:
    root = ET.fromstring(html)
    assert root.tag == "div" and root.get("class") == "ratenet"
    return root


def title(root: ET.Element) -> str:
    return "".join(root.find("div[@class='rn-title']").itertext())


def facts(root: ET.Element) -> dict[str, str]:
    table = root.find("table[@class='rn-facts']")
    return {"".join(tr.find("th").itertext()): "".join(tr.find("td").itertext()) for tr in table.iter("tr")}


def tables(root: ET.Element) -> dict[str, list[dict[str, str]]]:
    """Each collapsible table, by its title (without the row count), as a list of {column: text}."""
    found = {}
    for details in root.iter("details"):
        name = "".join(details.find("summary").itertext()).rsplit(" (", 1)[0]
        table = details.find("table")
        columns = ["".join(th.itertext()) for th in table.find("thead").iter("th")]
        rows = [["".join(td.itertext()) for td in tr.iter("td")] for tr in table.find("tbody").iter("tr")]
        found[name] = [dict(zip(columns, row)) for row in rows]
    return found


def notes(root: ET.Element) -> list[str]:
    return ["".join(p.itertext()) for p in root.iter("p") if p.get("class") == "rn-note"]


class Printer:
    """IPython's pretty printer, reduced to what _repr_pretty_ uses."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, text: str) -> None:
        self.out += text


LEAKY = Neuron(parameters="tau = 10.0 : population\nbaseline = Uniform(0.0, 0.5)",
               equations="tau * dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0",
               functions="sq(x) = x^2", name="Leaky", description="A leaky rate neuron.")


# ---------------------------------------------------------------------------
# models


def test_neuron_html_has_parameters_equations_and_functions():
    root = parse(LEAKY._repr_html_())
    assert title(root) == "Neuron 'Leaky'"
    assert facts(root)["description"] == "A leaky rate neuron."
    assert facts(root)["inputs"] == "sum(exc), sum(inh)"
    found = tables(root)
    assert [row["name"] for row in found["Parameters"]] == ["tau", "baseline"]
    assert found["Parameters"][0]["locality"] == "per population"
    assert found["Parameters"][1]["locality"] == "per neuron"
    (equation,) = found["Equations"]
    assert equation["equation"] == r"$$\tau \, \frac{dr}{dt} + r = \Sigma_{\mathrm{exc}} - \Sigma_{\mathrm{inh}} + " \
                                   r"\mathit{baseline}$$"
    assert equation["as written"] == "tau * dr/dt + r = sum(exc) - sum(inh) + baseline"
    assert equation["flags"] == "min=0"
    assert found["Functions"][0]["as written"] == "sq(x) = x^2"
    assert found["Functions"][0]["function"] == r"$$\mathit{sq}\left(x\right) = x^{2}$$" or \
        found["Functions"][0]["function"] == r"$$\operatorname{sq}\left(x\right) = x^{2}$$"


def test_synapse_html_shows_psp_and_flags():
    root = parse(IBCM(eta=0.5)._repr_html_())
    fact = facts(root)
    assert fact["psp"] == r"\(w \, r^{\mathrm{pre}}\)" and fact["operation"] == "sum" and fact["learning"] == "yes"
    rows = tables(root)["Equations"]
    assert rows[0]["flags"] == "exponential method, per post-synaptic neuron"
    assert rows[1]["flags"] == "min=0"
    assert tables(root)["Parameters"][0]["value"] == r"\(0.5\)"


def test_html_escapes_comparisons():
    model = Neuron(parameters="v = 0.0", equations="r = if v < 1 and v > 0: v else: 0")
    html = model._repr_html_()
    assert "&lt;" in html and " < " not in html.replace("&lt;", "")  # would break the XML otherwise
    assert tables(parse(html))["Equations"][0]["as written"] == "r = if v < 1 and v > 0: v else: 0"


def test_model_plain_displays():
    text = repr(LEAKY)
    assert "\n" not in text
    assert text == ("Neuron(name='Leaky', parameters=['tau = 10.0 : population', 'baseline = Uniform(0.0, 0.5)'], "
                    "equations=['tau * dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0'])")
    lines = str(LEAKY).splitlines()
    assert lines[0] == "Neuron 'Leaky'"
    assert any(line.split() == ["tau", "10", "per", "population", "float"] for line in lines)
    assert any("tau * dr/dt + r = sum(exc) - sum(inh) + baseline" in line and "min=0" in line for line in lines)
    printer = Printer()
    LEAKY._repr_pretty_(printer, cycle=False)
    assert printer.out == str(LEAKY)
    printer = Printer()
    LEAKY._repr_pretty_(printer, cycle=True)
    assert printer.out == repr(LEAKY)
    synapse = Synapse(psp="w * pre.r^2", operation="max")
    assert repr(synapse).endswith("psp='w * pre.r^2', operation='max')")


# ---------------------------------------------------------------------------
# populations and views


@pytest.fixture()
def small_net():
    net = Network(seed=4)
    inp = net.create((4, 6), Neuron(parameters="r = 0.0"), name="input")
    pop = net.create((4, 6), LEAKY, name="layer")
    net.connect(inp, pop, "exc").connect_one_to_one(weights=1.0)
    lateral = net.connect(pop, pop, "inh").connect_gaussian(amp=0.2, sigma=0.3)
    monitor = net.monitor(pop, "r")
    inp.r = np.linspace(0.0, 1.0, 24).reshape(4, 6)
    net.simulate(12.0)
    return net, inp, pop, lateral, monitor


def _number(text: str) -> float:
    return float(text)


def test_population_html_values_match_numpy(small_net):
    net, inp, pop, lateral, monitor = small_net
    root = parse(pop._repr_html_())
    assert title(root) == "Population 'layer'"
    assert facts(root) == {"geometry": "(4, 6)", "size": "24", "neuron": "Leaky"}
    rows = {row["attribute"]: row for row in tables(root)["Values"]}
    assert set(rows) == {"r", "tau", "baseline", "sum(exc)", "sum(inh)"}
    for name, values in (("r", pop.r), ("baseline", pop.baseline), ("sum(inh)", pop.sum("inh"))):
        assert rows[name]["min"] == format_number(values.min())
        assert rows[name]["mean"] == format_number(values.mean())
        assert rows[name]["max"] == format_number(values.max())
    assert rows["tau"]["locality"] == "per population" and rows["tau"]["min"] == "10"
    assert rows["tau"]["mean"] == "" and rows["r"]["kind"] == "variable" and rows["tau"]["kind"] == "parameter"


def test_population_html_embeds_an_image_of_r(small_net):
    net, inp, pop, lateral, monitor = small_net
    root = parse(pop._repr_html_())
    img = root.find(".//img")
    header, data = img.get("src").split(",", 1)
    assert header == "data:image/png;base64"
    picture = mpimg.imread(io.BytesIO(base64.b64decode(data)))
    # 4 x 6 neurons enlarged by 26 (160 // 6) in both directions
    assert picture.shape[:2] == (4 * 26, 6 * 26) == (int(img.get("height")), int(img.get("width")))
    # brightest pixel where r is largest (viridis is brightest at the top of the range)
    brightness = picture[..., :3].sum(axis=2)[::26, ::26]
    assert np.unravel_index(brightness.argmax(), (4, 6)) == np.unravel_index(pop.r.argmax(), (4, 6))
    assert root.find(".//figcaption").text == "r of layer"


def test_rgb_and_channel_images():
    net = Network()
    rgb = net.create((3, 4, 3), Neuron(parameters="r = 0.0"), name="rgb")
    values = np.zeros((3, 4, 3))
    values[0, 0] = (1.0, 0.0, 0.0)
    values[2, 3] = (0.0, 0.0, 1.0)
    rgb.r = values
    img = parse(rgb._repr_html_()).find(".//img")
    picture = mpimg.imread(io.BytesIO(base64.b64decode(img.get("src").split(",", 1)[1])))
    k = 160 // 4
    np.testing.assert_allclose(picture[::k, ::k, :3], values, atol=1 / 255)
    channels = net.create((2, 2, 5), Neuron(parameters="r = 0.0"), name="bank")
    img = parse(channels._repr_html_()).find(".//img")
    # five 2 x 2 panels side by side with a one-pixel gap: 2 x 14, enlarged by 160 // 14 = 11
    assert (int(img.get("height")), int(img.get("width"))) == (2 * 11, 14 * 11)


def test_one_dimensional_population_has_no_image():
    net = Network()
    pop = net.create(5, Neuron(parameters="r = 0.0"))
    assert parse(pop._repr_html_()).find(".//img") is None


def test_input_population_says_it_is_an_input():
    net = Network()
    inp = InputArray((2, 2), network=net)
    assert notes(parse(inp._repr_html_())) == [
        "An input: a population whose rates are set from Python: inp.r = values."]
    plain = net.create(2, Neuron(parameters="r = 0.0"))
    assert notes(parse(plain._repr_html_())) == ["An input: no equations: its rates are set from Python."]
    assert notes(parse(net.create(2, Neuron(equations="r = t"))._repr_html_())) == []


def test_population_plain_displays(small_net):
    net, inp, pop, lateral, monitor = small_net
    stats = (pop.r.min(), pop.r.mean(), pop.r.max())
    assert repr(pop) == (f"<Population 'layer': 24 neurons (4, 6), Leaky; r min {format_number(stats[0])}, "
                         f"mean {format_number(stats[1])}, max {format_number(stats[2])}>")
    text = str(pop)
    assert text.splitlines()[:4] == ["Population 'layer'", "  geometry: (4, 6)", "  size: 24", "  neuron: Leaky"]
    assert "(an image of r of layer in HTML displays)" not in text  # str() gets no image block
    view = pop[1:3, 2:5]
    assert repr(view).startswith("<PopulationView 'layer[") and "6 of the 24 neurons of 'layer'" in repr(view)
    rows = {row["attribute"]: row for row in tables(parse(view._repr_html_()))["Values"]}
    assert rows["r"]["max"] == format_number(pop.r[1:3, 2:5].max())
    assert facts(parse(view._repr_html_()))["geometry"] == "(2, 3)"


# ---------------------------------------------------------------------------
# projections


def test_projection_html(small_net):
    net, inp, pop, lateral, monitor = small_net
    root = parse(lateral._repr_html_())
    fact = facts(root)
    assert fact["pre -> post"] == "layer -> layer" and fact["target"] == "inh"
    assert fact["connector"] == "Gaussian with amp 0.2, sigma 0.3"
    assert fact["synapses"] == str(lateral.nb_synapses)
    assert fact["storage"] == lateral.storage_format
    assert fact["delays"] == "0 ms"
    (row,) = tables(root)["Synaptic values"]
    w = np.concatenate([np.atleast_1d(d) for d in lateral.w]) if isinstance(lateral.w, list) else \
        lateral.connectivity_matrix(fill=np.nan)[~np.isnan(lateral.connectivity_matrix(fill=np.nan))]
    assert (row["attribute"], row["values"]) == ("w", str(w.size))
    assert (row["min"], row["mean"], row["max"]) == tuple(format_number(v) for v in (w.min(), w.mean(), w.max()))


def test_learning_projection_shows_rule_and_delays():
    net = Network(seed=1)
    a = net.create(3, Neuron(parameters="r = 1.0"), name="a")
    b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    proj = net.connect(a, b, "exc", IBCM()).connect_all_to_all(Uniform(0.0, 1.0), delays=Uniform(1.0, 3.0))
    root = parse(proj._repr_html_())
    fact = facts(root)
    assert fact["connector"] == "all-to-all with weights Uniform(0, 1), delays Uniform(1, 3)"
    assert fact["learning"] == "on" and fact["synapse"] == "IBCM"
    delays = np.concatenate(proj.delays)
    assert fact["delays"] == (f"min {format_number(delays.min())}, mean {format_number(delays.mean())}, "
                              f"max {format_number(delays.max())} ms (per synapse)")
    found = tables(root)
    assert [row["attribute"] for row in found["Synaptic values"]] == ["w", "eta", "tau", "theta"]
    assert len(found["Learning rule (IBCM)"]) == 2


def test_kernel_projections_and_unconnected():
    net = Network()
    a = net.create((4, 4), Neuron(parameters="r = 0.0"), name="a")
    b = net.create((4, 4), Neuron(equations="r = sum(exc)"), name="b")
    c = net.create((2, 2), Neuron(equations="r = sum(exc)"), name="c")
    conv = Convolution(a, b, "exc")
    assert facts(parse(conv._repr_html_()))["connector"] == "not connected yet"
    assert repr(conv).endswith("not connected yet>")
    conv.connect_filter(np.arange(9.0).reshape(3, 3))
    fact = facts(parse(conv._repr_html_()))
    assert fact["storage"] == "one shared kernel" and fact["connector"] == "convolution with a (3, 3) filter"
    rows = tables(parse(conv._repr_html_()))["Synaptic values"]
    assert (rows[0]["values"], rows[0]["min"], rows[0]["mean"], rows[0]["max"]) == ("9", "0", "4", "8")
    pool = Pooling(a, c, "exc", operation="max").connect_pooling()
    root = parse(pool._repr_html_())
    assert facts(root)["connector"] == "max-pooling over windows of (2, 2)"
    assert "Synaptic values" not in tables(root)
    plain = Projection(a, b, "exc")
    assert facts(parse(plain._repr_html_()))["connector"] == "not connected yet"


# ---------------------------------------------------------------------------
# monitors and networks


def test_monitor_displays_say_get_hands_data_over(small_net):
    net, inp, pop, lateral, monitor = small_net
    root = parse(monitor._repr_html_())
    assert facts(root) == {"records": "layer", "variables": "r", "period": "1 ms (every step)"}
    assert tables(root)["Recorded"] == [{"variable": "r", "samples held": "12", "times": "0 to 11 ms"}]
    assert notes(root) == [HAND_OVER_NOTE]
    assert "second get() returns nothing" in HAND_OVER_NOTE
    assert "12 samples held; get() hands them over" in repr(monitor)
    monitor.get("r")
    assert tables(parse(monitor._repr_html_()))["Recorded"][0]["samples held"] == "0"
    assert "0 samples held" in repr(monitor)
    every = Monitor(pop, ["r", "sum(exc)"], period=2.0)
    net.simulate(4.0)
    assert facts(parse(every._repr_html_()))["period"] == "2 ms" and every.period == 2.0
    assert [row["samples held"] for row in tables(parse(every._repr_html_()))["Recorded"]] == ["2", "2"]


def test_network_html_tables(small_net):
    net, inp, pop, lateral, monitor = small_net
    root = parse(net._repr_html_())
    fact = facts(root)
    assert (fact["dt"], fact["time"], fact["steps"], fact["seed"]) == ("1 ms", "12 ms", "12", "4")
    found = tables(root)
    assert [(r["population"], r["geometry"], r["neuron"]) for r in found["Populations"]] == \
        [("input", "(4, 6)", "Neuron"), ("layer", "(4, 6)", "Leaky")]
    assert [(r["pre"], r["post"], r["target"], r["connector"]) for r in found["Projections"]] == \
        [("input", "layer", "exc", "one-to-one with weights 1"),
         ("layer", "layer", "inh", "Gaussian with amp 0.2, sigma 0.3")]
    assert found["Projections"][1]["synapses"] == str(lateral.nb_synapses)
    assert found["Monitors"] == [{"monitor": monitor.name, "records": "layer", "variables": "r",
                                  "period": "1 ms (every step)", "samples held": "12"}]
    assert repr(net) == "<Network: dt=1 ms, t=12 ms, seed=4, 2 populations, 2 projections, 1 monitor>"
    assert "  Populations:" in str(net).splitlines()


def test_html_is_cheap_for_huge_projections(monkeypatch):
    # Above the copy limit, statistics are gathered dendrite by dendrite: the result is the same.
    from ratenet.display import summary

    net = Network(seed=2)
    a = net.create(30, Neuron(parameters="r = 0.0"))
    b = net.create(20, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b).connect_fixed_probability(0.5, Uniform(0.0, 1.0), storage_format="csr")
    full = tables(parse(proj._repr_html_()))["Synaptic values"]
    monkeypatch.setattr(summary, "_COPY_LIMIT", 10)
    chunked = tables(parse(proj._repr_html_()))["Synaptic values"]
    assert full == chunked


def test_default_network_objects_display_after_clear():
    clear()
    pop = Population(3, LEAKY, name="exc")
    assert facts(parse(pop._repr_html_()))["size"] == "3"
    clear()


def test_monitors_of_a_neuron_view_and_projection_name_what_they_record():
    net = Network()
    pop = net.create(5, Neuron(equations="r = t"), name="b")
    proj = net.connect(pop, pop, "exc").connect_one_to_one(0.5)
    neuron, view, weights = Monitor(pop.neuron(3), "r"), Monitor(pop[1:3], "r"), Monitor(proj, "w")
    net.simulate(2.0)
    assert facts(parse(neuron._repr_html_()))["records"] == "neuron 3 of b"
    assert repr(neuron).startswith("<Monitor 'monitor of neuron': r of neuron 3 of b every step, 2 samples held")
    assert facts(parse(view._repr_html_()))["records"] == "b[1:3]"
    assert facts(parse(weights._repr_html_()))["records"] == proj.name
    assert neuron.plot().get_title() == "r of neuron 3 of b"
    import matplotlib.pyplot as plt

    plt.close("all")
