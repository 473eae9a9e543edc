"""What a notebook user meets: every object displays, reports are written for every example network,
and re-running the cell that builds a network is noticed."""

from __future__ import annotations

import os
import runpy
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

import ratenet
from ratenet import (Monitor, Network, Neuron, Population, Projection, RatenetWarning, ValidationError, clear,
                     default_network, report, simulate)
from ratenet.image import ImagePopulation

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def _well_formed(html: str) -> ET.Element:
    root = ET.fromstring(html)
    assert root.get("class") == "ratenet"
    return root


def _write_reports(net: Network, folder: Path, stem: str) -> None:
    for extension in ("md", "tex", "html"):
        path = folder / f"{stem}.{extension}"
        report(net, path)
        assert path.stat().st_size > 0
    markdown = (folder / f"{stem}.md").read_text()
    for pop in net.populations:
        assert f"| {pop.name.replace('_', chr(92) + '_')} |" in markdown
    for proj in net.projections:
        if proj.connector is not None:
            assert proj.connector.description.replace("_", "\\_") in markdown
    ET.fromstring((folder / f"{stem}.html").read_text().split("\n", 1)[1])


def test_the_tutorial_displays_every_object(tmp_path):
    from ratenet.demo import build_network, default_image

    stages = build_network()
    monitors = [Monitor(pop, "r") for pop in stages.values()]
    stages["image"].set_image(default_image())
    simulate(4.0)
    net = default_network()
    objects = list(net.populations) + list(net.projections) + monitors + [net]
    objects += list({id(p.neuron_type): p.neuron_type for p in net.populations}.values())
    objects += list({id(p.synapse_type): p.synapse_type for p in net.projections}.values())
    for obj in objects:
        root = _well_formed(obj._repr_html_())
        assert root.find("div[@class='rn-title']") is not None
        assert "\n" not in repr(obj) or isinstance(obj, Neuron)
        assert str(obj).splitlines()[0] in "".join(root.find("div[@class='rn-title']").itertext())
    # the 3-D populations show an RGB image of their rates
    for pop in net.populations:
        assert _well_formed(pop._repr_html_()).find(".//img") is not None
    _write_reports(net, tmp_path, "tutorial")
    assert "mean-pooling over windows of (10, 10, 1)" in (tmp_path / "tutorial.md").read_text()
    clear()


class _Built(Exception):
    """Raised by the first simulation of an example: its network is built, the rest is not needed."""


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_every_example_network_gets_its_reports(script, tmp_path, monkeypatch):
    """Run the example as a script until it first simulates, then write the three reports of its network.

    Stopping at the first simulation keeps this fast and gives the network as the example built it;
    an example that never simulates runs to its end and its networks are found among its variables.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    found: list[Network] = []

    def stop(self, *args, **kwargs):
        found.append(self)
        raise _Built

    for method in ("simulate", "simulate_until", "step"):
        monkeypatch.setattr(Network, method, stop)
    clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # plt.show() on the Agg backend
            namespace = runpy.run_path(str(script), run_name="__main__")
        found += [value for value in namespace.values() if isinstance(value, Network)]
    except _Built:
        pass
    finally:
        plt.close("all")
    found.append(default_network())
    networks = list({id(n): n for n in found if n.populations}.values())
    assert networks, f"{script.name} builds no network"
    for k, net in enumerate(networks):
        _write_reports(net, tmp_path, f"{script.stem}_{k}")
    clear()


# ---------------------------------------------------------------------------
# running the building cell twice


def test_a_named_population_created_again_suggests_clear():
    clear()
    Population(3, Neuron(equations="r = t"), name="exc")
    with pytest.raises(ValidationError, match=r"Population\.name: is already used in this network; if you ran the "
                                              r"cell that builds the network again, call clear\(\) at its top to "
                                              r"start a fresh default network \(got 'exc'\)"):
        Population(3, Neuron(equations="r = t"), name="exc")
    clear()
    Population(3, Neuron(equations="r = t"), name="exc")  # after clear() the name is free
    net = Network()
    net.create(2, Neuron(equations="r = t"), name="a")
    with pytest.raises(ValidationError, match=r"^Population\.name: is already used in this network \(got 'a'\)$"):
        net.create(2, Neuron(equations="r = t"), name="a")  # an explicit network: no notebook advice
    clear()


def test_building_again_after_a_run_warns_once():
    clear()
    model = Neuron(equations="r = t")

    def cell():
        a = Population(2, model)
        b = Population(2, Neuron(equations="r = sum(exc)"))
        Projection(a, b, "exc").connect_one_to_one(1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RatenetWarning)
        cell()
        cell()  # built twice before running: nothing to tell apart from a bigger network
    simulate(5.0)
    with pytest.warns(RatenetWarning, match=r"population 'pop\d+' is added to the default network after it was "
                                            r"compiled or simulated \(t = 5 ms\); .* call clear\(\) at the top"):
        cell()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RatenetWarning)
        cell()  # once per network
        Monitor(ratenet.populations()[-1], "r")  # recording more after a run is ordinary
        clear()
        cell()
        simulate(1.0)
        net = Network()
        net.create(2, model)
        net.simulate(1.0)
        net.create(2, model)  # an explicit network never warns
    clear()


def test_the_warning_points_at_the_user_code():
    clear()
    Population(2, Neuron(equations="r = t"))
    simulate(1.0)
    with pytest.warns(RatenetWarning) as record:
        Population(2, Neuron(equations="r = t"))
    assert os.path.basename(record[0].filename) == os.path.basename(__file__)
    clear()
    Population(2, Neuron(equations="r = t"))
    simulate(1.0)
    with pytest.warns(RatenetWarning) as record:
        ImagePopulation((4, 4))  # a subclass: one constructor more between the user and the network
    assert os.path.basename(record[0].filename) == os.path.basename(__file__)
    clear()


def test_ipython_shows_html_and_the_multi_line_text():
    formatters = pytest.importorskip("IPython.core.formatters")
    formatter = formatters.DisplayFormatter()
    net = Network()
    pop = net.create((3, 3), Neuron(parameters="tau = 5.0", equations="tau * dr/dt + r = 1.0"), name="grid")
    monitor = net.monitor(pop, "r")
    net.simulate(3.0)
    for obj in (pop, pop.neuron_type, net, monitor, pop[0:2]):
        bundle, _ = formatter.format(obj)
        ET.fromstring(bundle["text/html"])
        assert bundle["text/plain"] == str(obj) and "\n" in bundle["text/plain"]
    bundle, _ = formatter.format(monitor.animate())
    assert "<script" in bundle["text/html"]
    bundle, _ = formatter.format([pop])  # inside a list: the one-line repr
    assert bundle["text/plain"] == f"[{pop!r}]"
