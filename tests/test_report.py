"""report(): Markdown, LaTeX and HTML descriptions of a network."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import ratenet
from ratenet import (Constant, Hebb, InputArray, Network, Neuron, Population, Projection, Uniform,
                     ValidationError, add_function, clear, report)


@pytest.fixture()
def network():
    """A network with an input, learning, a constant, a global function and names LaTeX must escape."""
    clear()
    add_function("sigmoid(x) = 1.0 / (1.0 + exp(-x))")
    gain = Constant("gain_total", 2.0)
    net = Network(dt=0.5, seed=3, name="demo_net")
    inp = InputArray((5, 5), name="input_layer", network=net)
    leaky = Neuron(parameters="tau_m = 10.0 : population\nbaseline = Uniform(0.0, 0.5)",
                   equations="tau_m * dr/dt + r = gain_total * sigmoid(sum(exc)) - sum(inh) + baseline : min=0.0",
                   name="Leaky_100%")
    feature = net.create((5, 5), leaky, name="feature")
    net.connect(inp, feature, "exc").connect_one_to_one(weights=1.0, delays=2.0)
    net.connect(feature, feature, "inh").connect_gaussian(amp=0.2, sigma=0.1)
    out = net.create(3, Neuron(equations="r = sum(exc)"), name="out")
    net.connect(feature, out, "exc", Hebb(eta=0.05)).connect_all_to_all(Uniform(0.0, 0.1))
    net.monitor(feature, "r", period=2.0)
    feature.tau_m = 20.0
    yield net
    del gain
    clear()


def table(markdown: str, heading: str) -> list[dict[str, str]]:
    """The first pipe table after a heading, as {column: cell} rows."""
    lines = []
    for line in markdown.split(heading + "\n", 1)[1].splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break
    split = lambda line: [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]  # noqa: E731
    columns = split(lines[0])
    return [dict(zip(columns, split(line))) for line in lines[2:]]


def test_markdown_sections_and_content(network, tmp_path):
    report(network, tmp_path / "model.md", title="Demo", author="A. Author", date="2025")
    text = (tmp_path / "model.md").read_text()
    assert text.startswith("# Demo\n\nA. Author, 2025\n")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings == ["Summary", "Populations", "Projections", "Neuron models", "Synapse models", "Parameters",
                        "Inputs", "Monitors", "Functions"]
    assert "- **populations**: 3 (53 neurons)" in text and "- **step size**: 0.5 ms" in text
    pops = table(text, "## Populations")
    assert [(p["population"], p["geometry"], p["class"]) for p in pops] == [
        (r"input\_layer", "(5, 5)", "InputArray"), ("feature", "(5, 5)", "Population"), ("out", "(3,)", "Population")]
    projections = table(text, "## Projections")
    assert [p["connection pattern"] for p in projections] == [
        "one-to-one with weights 1, delays 2 ms", "Gaussian with amp 0.2, sigma 0.1",
        "all-to-all with weights Uniform(0, 0.1)"]
    assert [p["delays"] for p in projections] == ["2 ms", "none", "none"]
    assert projections[2]["synapse"] == "Hebb" and projections[2]["synapses"] == "75"
    # the equation, as written, in LaTeX between $$
    assert ("$$\n\\tau_{m} \\, \\frac{dr}{dt} + r = \\mathit{gain}_{\\mathrm{total}} \\, "
            "\\operatorname{sigmoid}\\left(\\Sigma_{\\mathrm{exc}}\\right) - \\Sigma_{\\mathrm{inh}} + "
            "\\mathit{baseline}\n$$") in text
    assert "$$\n\\frac{dw}{dt} = \\eta \\, r^{\\mathrm{pre}} \\, r^{\\mathrm{post}}\n$$" in text
    assert "$$\n\\operatorname{sigmoid}\\left(x\\right) = \\frac{1.0}{1.0 + e^{-x}}\n$$" in text
    # current values: tau_m was changed to 20 after creation; baseline varies per neuron
    params = {(row["object"], row["parameter"]): row["value"] for row in table(text, "## Parameters")}
    assert params[("feature", r"tau\_m")] == "20"
    baseline = network.get_population("feature").baseline
    assert params[("feature", "baseline")] == (f"min {baseline.min():.4g}, mean {baseline.mean():.4g}, "
                                               f"max {baseline.max():.4g}")
    assert params[(network.projections[2].name, "eta")] == "0.05"
    assert "| gain\\_total | 2 |" in text
    inputs = table(text, "## Inputs")
    assert inputs[0]["population"] == r"input\_layer"
    assert inputs[0]["input"].startswith("InputArray: a population whose rates are set from Python")
    assert len(inputs) == 1  # feature and out receive projections
    assert table(text, "## Monitors")[0]["period"] == "2 ms"


def test_latex_document(network, tmp_path):
    report(network, tmp_path / "model.tex", title="Demo & co", author="A_B")
    text = (tmp_path / "model.tex").read_text()
    assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    assert "\\title{Demo \\& co}" in text and "\\author{A\\_B}" in text and "\\maketitle" in text
    assert "\\section{Populations}" in text and "\\subsection{Leaky\\_100\\%}" in text
    assert "\\fiteq{\\tau_{m} \\, \\frac{dr}{dt}" in text
    report(network, tmp_path / "body.tex", standalone=False)
    body = (tmp_path / "body.tex").read_text()
    assert "\\documentclass" not in body and "\\begin{document}" not in body
    assert "\\section{Network demo\\_net}" in body and "\\providecommand{\\fiteq}" in body


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(network, tmp_path):
    report(network, tmp_path / "model.tex")
    report(network, tmp_path / "body.tex", standalone=False)
    (tmp_path / "wrapper.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath,amssymb,array,longtable,"
                                          "graphicx}\n\\begin{document}\n\\input{body}\n\\end{document}\n")
    for name in ("model.tex", "wrapper.tex"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-3000:]
        assert (tmp_path / name.replace(".tex", ".pdf")).stat().st_size > 0
        if name == "model.tex":  # the standalone layout fits its tables and equations in the page
            assert "Overfull" not in run.stdout


def test_html_page_and_fragment(network, tmp_path):
    report(network, tmp_path / "model.html", title="Demo")
    page = (tmp_path / "model.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and ratenet.reporting.MATHJAX in page
    root = ET.fromstring(page.split("\n", 1)[1])  # well-formed after the doctype
    body = root.find("body/div")
    assert body.get("class") == "ratenet"
    assert [h.text for h in body.iter("h2")] == ["Summary", "Populations", "Projections", "Neuron models",
                                                 "Synapse models", "Parameters", "Inputs", "Monitors", "Functions"]
    equations = [div for div in body.iter("div") if div.get("class") == "rn-equation"]
    assert equations[0].text.startswith("$$\\tau_{m} \\, \\frac{dr}{dt}")
    assert equations[0].find("code").text.startswith("tau_m * dr/dt + r = gain_total * sigmoid(sum(exc))")
    images = [img.get("alt") for img in body.iter("img")]
    assert images == ["r of input_layer at t = 0 ms", "r of feature at t = 0 ms"]
    report(network, tmp_path / "fragment.html", standalone=False)
    fragment = ET.fromstring((tmp_path / "fragment.html").read_text())
    assert fragment.tag == "div" and fragment.find("h1").text == "Network demo_net"


def test_call_forms(network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report(network, "a.md")                             # ANNarchy 5
    report(network=network, filename="b.md")            # ANNarchy 5, by keyword
    assert (tmp_path / "a.md").read_text() == (tmp_path / "b.md").read_text()
    clear()
    Population(2, Neuron(equations="r = 1.0"), name="solo")
    report("c.tex", False)                              # ANNarchy 4: filename, standalone
    assert "\\section{Network report}" in (tmp_path / "c.tex").read_text()
    report(filename="d.md", net_id=0)                   # ANNarchy 4, by keyword
    assert "| solo |" in (tmp_path / "d.md").read_text()
    text = report()
    assert text == (tmp_path / "d.md").read_text()
    with pytest.raises(ValidationError,
                       match=r"report\.filename: must end with \.md, \.tex or \.html \(got 'e\.pdf'\)"):
        report("e.pdf")
    with pytest.raises(ValidationError, match=r"report\.filename: is given twice"):
        report("f.md", filename="g.md")
    with pytest.raises(ValidationError, match=r"report\.net_id: only the default network \(0\) has an id"):
        report(net_id=2)
    with pytest.raises(ValidationError, match=r"report\.network: must be a Network"):
        report(42)


def test_in_a_notebook_the_markdown_is_displayed(network, monkeypatch):
    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    display = types.ModuleType("IPython.display")
    display.Markdown = lambda text: ("markdown", text)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert report(network) is None
    assert shown[0][0] == "markdown" and shown[0][1].startswith("# Network demo_net")
    ipython.get_ipython = lambda: None  # IPython loaded, but not a kernel (a terminal): return the text
    assert report(network).startswith("# Network demo_net")


def test_inputs_section():
    net = Network()
    net.create(2, Neuron(parameters="r = 0.5"), name="plain")
    net.create(2, Neuron(equations="r = t"), name="clock")
    rows = table(report(net), "## Inputs")
    assert rows == [{"population": "plain", "input": "Population: no equations: its rates are set from Python; "
                                                     "r now 0.5"},
                    {"population": "clock", "input": "receives no projection: its rates follow its own equations"}]


def test_gather_subprojections(tmp_path):
    net = Network()
    a = net.create(10, Neuron(parameters="r = 0.0"), name="a")
    b = net.create(10, Neuron(equations="r = sum(exc)"), name="b")
    net.connect(a[0:5], b[0:5], "exc").connect_one_to_one(1.0)
    net.connect(a[5:10], b[5:10], "exc").connect_one_to_one(1.0)
    separate = table(report(net), "## Projections")
    assert [row["pre -> post"] for row in separate] == ["a[0:5] -> b[0:5]", "a[5:10] -> b[5:10]"]
    (gathered,) = table(report(net, gather_subprojections=True), "## Projections")
    assert (gathered["projection"], gathered["pre -> post"], gathered["synapses"]) == ("2 sub-projections",
                                                                                       "a -> b", "10")


def test_unconnected_and_kernel_projections_are_reported():
    from ratenet.projections import Convolution, Pooling

    net = Network()
    a = net.create((4, 4), Neuron(parameters="r = 0.0"), name="a")
    b = net.create((4, 4), Neuron(equations="r = sum(exc)"), name="b")
    c = net.create((2, 2), Neuron(equations="r = sum(exc)"), name="c")
    Projection(a, b, "exc")
    net.connect(Convolution(a, b, "inh")).connect_filter(np.ones((3, 3)))
    net.connect(Pooling(a, c, "exc", operation="max")).connect_pooling()
    rows = table(report(net), "## Projections")
    assert [row["connection pattern"] for row in rows] == ["not connected", "convolution with a (3, 3) filter",
                                                          "max-pooling over windows of (2, 2)"]
    # a 3 x 3 kernel on 4 x 4: (2 + 3 + 3 + 2) pre neurons per axis inside the image, 100 in all
    assert [row["synapses"] for row in rows] == ["", "100", "16"]
