"""save_parameters / load_parameters: ANNarchy 4.8's JSON format and semantics, atomic and all-or-nothing.

The reference is the JSON text itself (read back with the json module) and
values set by hand.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import ratenet
from ratenet import (Constant, FileError, Hebb, MissingFileError, Network, Neuron, RatenetWarning, Synapse,
                     ValidationError, clear, load_parameters, save_parameters)
import ratenet.io as rio


@pytest.fixture(autouse=True)
def fresh():
    clear()
    yield
    clear()


def build(net=None):
    net = net or Network()
    pop = net.create(3, Neuron(parameters="baseline = 1.0 : population\ngain = 2.0\nn = 3 : int, population",
                               equations="r = baseline + gain * sum(exc)"), name="layer")
    inp = net.create(2, Neuron(parameters="r = 0.5"), name="inp")
    proj = net.connect(inp, pop, "exc", Hebb(eta=0.01), name="ff").connect_all_to_all(0.25)
    syn = Synapse(parameters="tau = 10.0 : projection\nk = 0.5", equations="", psp="k * w * pre.r")
    other = net.connect(inp, pop, "exc", syn, name="tk").connect_all_to_all(1.0)
    return net, pop, proj, other


def test_format_is_annarchys(tmp_path):
    net, pop, proj, other = build()
    Constant("c_speed", 3.5)
    path = tmp_path / "p.json"
    save_parameters(path, net=net)
    text = path.read_text()
    desc = json.loads(text)
    assert desc == {"populations": {"layer": {"baseline": 1.0, "n": 3}, "inp": {}},
                    "projections": {"ff": {"eta": 0.01}, "tk": {"tau": 10.0}},
                    "network": {}, "constants": {"c_speed": 3.5}}
    assert text == json.dumps(desc, indent=4)       # ANNarchy writes indent=4
    assert list(desc) == ["populations", "projections", "network", "constants"]


def test_values_at_compile_time_as_in_annarchy(tmp_path):
    """ANNarchy writes pop.init: set after compile, saved, reset, loaded gives the initial values."""
    net, pop, proj, other = build()
    net.compile()
    pop.baseline, proj.eta, other.tau = 0.5, 0.02, 20.0
    save_parameters(tmp_path / "p.json", net=net)
    net.reset(projections=True, synapses=True)
    load_parameters(tmp_path / "p.json", net=net)
    assert (pop.baseline, proj.eta, other.tau) == (1.0, 0.01, 10.0)
    # before compile the current values are the initial ones
    net2, pop2, proj2, other2 = build(Network())
    pop2.baseline = 7.0
    save_parameters(tmp_path / "q.json", net=net2)
    assert json.loads((tmp_path / "q.json").read_text())["populations"]["layer"]["baseline"] == 7.0


def test_load_sets_matches_by_name_and_returns_network(tmp_path):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({
        "populations": {"layer": {"baseline": 4, "gain": 9.0, "n": 5}},
        "projections": {"ff": {"eta": 0.5}, "tk": {"k": 3.0}},
        "network": {"learning_rate": 2, "epochs": 10.0},
        "constants": {"c_new": 1.5}}))
    result = load_parameters(path, net=net)
    assert result == {"learning_rate": 2.0, "epochs": 10.0}
    assert all(isinstance(v, float) for v in result.values())
    assert pop.baseline == 4.0 and pop.n == 5 and proj.eta == 0.5
    assert pop.gain.tolist() == [2.0, 2.0, 2.0]          # not global: skipped with global_only=True
    assert np.array_equal(other.k, [[0.5, 0.5]] * 3)
    assert ratenet.neurons.defined_constants()["c_new"].value == 1.5
    load_parameters(path, global_only=False, net=net)
    assert pop.gain.tolist() == [9.0, 9.0, 9.0] and np.array_equal(other.k, [[3.0, 3.0]] * 3)


def test_unknown_names_warn_and_are_skipped(tmp_path):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"populations": {"nope": {"x": 1.0}, "layer": {"missing": 1.0, "baseline": 2.0}}}))
    with pytest.warns(RatenetWarning) as record:
        load_parameters(path, net=net)
    messages = [str(w.message) for w in record]
    assert any("population 'nope', which this network does not have (it has: layer, inp)" in m for m in messages)
    assert any("'missing' is not a parameter of population 'layer' (parameters: baseline, gain, n)" in m
               for m in messages)
    assert pop.baseline == 2.0


def test_verbose_prints_changes(tmp_path, capsys):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"populations": {"layer": {"baseline": 2.0, "gain": 1.0}}}))
    load_parameters(path, verbose=True, net=net)
    out = capsys.readouterr().out
    assert "layer.baseline: 1.0 -> 2" in out and "gain is not a global parameter of 'layer', skipping" in out


@pytest.mark.parametrize("content, key, expected, found", [
    ({"populations": {"layer": {"baseline": 2.0, "n": 2.5}}}, "populations.layer.n", "expected a whole number",
     "2.5"),
    ({"populations": {"layer": {"baseline": [1, 2]}}}, "populations.layer.baseline", "expected a single number",
     "[1, 2]"),
    ({"populations": {"layer": {"baseline": "fast"}}}, "populations.layer.baseline", "expected a single number",
     "'fast'"),
    ({"populations": {"layer": {"baseline": 2.0}}, "projections": {"ff": {"eta": 1e999}}},
     "projections.ff.eta", "expected finite numbers", "inf"),
    ({"populations": {"layer": {"baseline": 2.0}}, "constants": {"c": "x"}}, "constants.c",
     "expected a single number", "'x'"),
    ({"populations": {"layer": {"baseline": 2.0}}, "network": {"lr": None}}, "network.lr",
     "expected a single number", "None"),
    ({"populations": {"layer": 3}}, "populations.layer", "expected a JSON object", "3"),
    ({"populations": [1]}, "populations", "expected a JSON object", "[1]"),
])
def test_a_bad_value_changes_nothing(tmp_path, content, key, expected, found):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    path.write_text(json.dumps(content))
    before = (pop.baseline, pop.n, proj.eta, other.tau, sorted(ratenet.neurons.defined_constants()))
    with pytest.raises(ValidationError) as error:
        load_parameters(path, net=net)
    message = str(error.value)
    assert message.startswith("load_parameters") and f".{key}: " in message or f"{key}: " in message, message
    assert expected in message and f"(got {found})" in message, message
    assert (pop.baseline, pop.n, proj.eta, other.tau, sorted(ratenet.neurons.defined_constants())) == before


def test_a_refused_constant_rolls_back(tmp_path):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"populations": {"layer": {"baseline": 2.0}}, "constants": {"c_ok": 1.0, "exp": 2.0}}))
    with pytest.raises(ratenet.RatenetError):
        load_parameters(path, net=net)
    assert pop.baseline == 1.0 and "c_ok" not in ratenet.neurons.defined_constants()


def test_files_that_are_not_parameter_files(tmp_path):
    net = build()[0]
    with pytest.raises(MissingFileError, match=r"^load_parameters: no such file: '.*none\.json'"):
        load_parameters(tmp_path / "none.json", net=net)
    bad = tmp_path / "bad.json"
    bad.write_text('{"populations": {')
    with pytest.raises(ValidationError, match=r"^load_parameters\.filename: expected a JSON file written by "
                                              r"save_parameters\(\) \(got invalid JSON at line 1, column 18"):
        load_parameters(bad, net=net)
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValidationError, match=r"\(got a binary file: '.*bad\.json'\)"):
        load_parameters(bad, net=net)
    bad.write_text("[1, 2]")
    with pytest.raises(ValidationError, match=r"expected a JSON object with the sections .*\(got a JSON list"):
        load_parameters(bad, net=net)
    with pytest.raises(ValidationError, match=r"^load_parameters\.filename: must be a path .*\(got 12\)"):
        load_parameters(12, net=net)
    with pytest.raises(ValidationError, match=r"^save_parameters\.filename: must be a path .*\(got None\)"):
        save_parameters(None, net=net)


def test_save_parameters_is_atomic(tmp_path, monkeypatch):
    net, pop, proj, other = build()
    path = tmp_path / "p.json"
    save_parameters(path, net=net)
    old = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rio.os, "fsync", full)
    with pytest.raises(FileError, match=r"^save_parameters: cannot write '.*p\.json' \(No space left on device\)"):
        save_parameters(path, net=net)
    monkeypatch.undo()
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["p.json"]


def test_default_network_and_top_level_names(tmp_path):
    pop = ratenet.Population(2, Neuron(parameters="tau = 3.0 : population"), name="p")
    save_parameters(str(tmp_path / "d.json"))
    pop.tau = 1.0
    load_parameters(str(tmp_path / "d.json"))
    assert pop.tau == 3.0
    assert "save_parameters" in ratenet.__all__ and "load_parameters" in ratenet.__all__
    assert np.isclose(pop.tau, 3.0)
