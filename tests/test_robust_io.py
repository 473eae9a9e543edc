"""Nothing is lost: atomic saves and transactional loads (issue 13, items 1-3, 10, 14).

The references are the files and arrays themselves: a save interrupted in the
middle must leave the previous file loadable with its old values, and a load
refused for any corrupted entry must leave every array of the network equal,
bit for bit, to what it was.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import ratenet
import ratenet.io as rio
from ratenet.projections import Convolution
from ratenet import DiscreteUniform, FileError, Hebb, Network, Neuron, Synapse, Uniform, ValidationError, load, save


def build(seed=1):
    """Two populations (one named with ':'), a dense learned projection with a pruned synapse (a mask),
    a sparse one with per-synapse delays (delay histories)."""
    net = Network(seed=seed)
    p = net.create(3, Neuron(parameters="r = 0.0"), name="P")
    p.r = [0.5, 1.0, 1.5]
    q = net.create(4, Neuron(parameters="k = 2 : int\ntau = 5.0 : population",
                             equations="tau * dv/dt + v = sum(exc)\nr = v + k"), name="layer:1")
    dense = net.connect(p, q, "exc", Hebb(eta=0.01), name="dense:ff").connect_all_to_all(
        Uniform(0.0, 1.0), storage_format="dense")
    dense.dendrite(0).prune_synapse(1)
    net.connect(p, q, "exc", name="sp").connect_all_to_all(Uniform(0.0, 1.0), delays=DiscreteUniform(1, 3),
                                                           storage_format="csr")
    net.simulate(5)
    return net


def snapshot(net):
    """Every array the network holds (state records, storage layouts, delays, clock), as bytes."""
    out = {"step": net.get_current_step()}
    for obj in list(net.populations) + list(net.projections):
        st = net.registry.state(obj)
        for key, value in st.values.items():
            if isinstance(value, (np.ndarray, np.generic)):
                out[f"{st.name}.{key}"] = (np.asarray(value).dtype.str, np.shape(value), np.asarray(value).tobytes())
        if hasattr(st, "storage") and st.storage is not None:
            for key, value in st.storage.arrays().items():
                out[f"{st.name}.{key}"] = (value.dtype.str, value.shape, value.tobytes())
            out[f"{st.name}.delays"] = np.asarray(st.delays).tobytes()
    for history in net.plan.histories.values():
        out[f"hist.{history.name}.{history.var}"] = history.ring.tobytes()
    return out


def rewrite(src, dst, change):
    with np.load(src) as data:
        arrays = {key: data[key] for key in data.files}
    change(arrays)
    np.savez(dst, **arrays)


def setter(key, value):
    def change(arrays):
        assert key in arrays, sorted(arrays)
        arrays[key] = np.asarray(value)
    return change


def dropper(key):
    def change(arrays):
        del arrays[key]
    return change


# (key changed, how, expected text, found text)
CORRUPTIONS = [
    ("pop:P:r", setter("pop:P:r", ["a", "b", "c"]), "expected numbers of shape (3,)", "string values"),
    ("pop:P:r", setter("pop:P:r", np.zeros(4)), "expected numbers of shape (3,)", "shape (4,)"),
    ("pop:P:r", setter("pop:P:r", [0.0, np.nan, 1.0]), "expected finite numbers", "non-finite"),
    ("pop:P:r", setter("pop:P:r", np.zeros((3, 1))), "of shape (3,)", "shape (3, 1)"),
    ("pop:layer:1:v", setter("pop:layer:1:v", [1.0, 2.0, np.inf, 0.0]), "expected finite", "such as inf"),
    ("pop:layer:1:k", setter("pop:layer:1:k", [2.5, 2.0, 2.0, 2.0]), "expected integers", "floating-point"),
    ("pop:layer:1:tau", setter("pop:layer:1:tau", [5.0, 5.0]), "(a single value)", "shape (2,)"),
    ("pop:layer:1:tau", setter("pop:layer:1:tau", "five"), "expected numbers", "string values"),
    (".step", setter(".step", 2.5), "expected a non-negative integer", "floating-point"),
    (".step", setter(".step", -3), "expected a non-negative integer", "-3"),
    (".step", setter(".step", [1, 2]), "expected a non-negative integer", "shape (2,)"),
    ("proj:dense:ff:w", setter("proj:dense:ff:w", np.zeros((3, 4))), "of shape (4, 3)", "shape (3, 4)"),
    ("proj:dense:ff:w", setter("proj:dense:ff:w", np.full((4, 3), np.inf)), "expected finite", "12 non-finite"),
    ("proj:dense:ff:w", setter("proj:dense:ff:w", np.full((4, 3), "x")), "expected numbers", "string"),
    ("proj:dense:ff:eta", setter("proj:dense:ff:eta", [0.1, 0.2]), "(a single value)", "shape (2,)"),
    ("proj:dense:ff:.mask", setter("proj:dense:ff:.mask", np.ones((3, 4), bool)), "booleans of shape (4, 3)",
     "shape (3, 4)"),
    ("proj:dense:ff:.mask", setter("proj:dense:ff:.mask", np.ones((4, 3))), "expected booleans", "floating-point"),
    ("proj:dense:ff:.kind", setter("proj:dense:ff:.kind", "coo"), "expected 'dense' or 'csr'", "'coo'"),
    ("proj:dense:ff:.shape", setter("proj:dense:ff:.shape", [4.0, 3.0]), "expected the two sizes",
     "floating-point"),
    ("proj:dense:ff:.delays", setter("proj:dense:ff:.delays", -1.0), "expected delays >= 0", "-1.0"),
    ("proj:dense:ff:.delays", setter("proj:dense:ff:.delays", np.nan), "expected finite a delay", "nan"),
    ("proj:sp:.delays", setter("proj:sp:.delays", -np.ones(12)), "expected delays >= 0", "-1.0"),
    ("proj:sp:.delays", setter("proj:sp:.delays", np.ones(5)), "delays in ms of shape (12,)", "shape (5,)"),
    ("proj:sp:.indices", setter("proj:sp:.indices", np.full(12, 7)), "indices in [0, 3)", "7"),
    ("proj:sp:.indices", setter("proj:sp:.indices", np.full(12, -1)), "indices in [0, 3)", "-1"),
    ("proj:sp:.indices", setter("proj:sp:.indices", np.tile([2, 1, 0], 4)), "sorted and without repeats",
     "out of order or repeated"),
    ("proj:sp:.indices", setter("proj:sp:.indices", np.tile([0.0, 1.0, 2.0], 4)), "expected integers",
     "floating-point"),
    ("proj:sp:.indptr", setter("proj:sp:.indptr", [0, 6, 3, 9, 12]), "rising from 0", "[0, 6, 3, 9, 12]"),
    ("proj:sp:.indptr", setter("proj:sp:.indptr", [0, 3, 6, 12]), "integers of shape (5,)", "shape (4,)"),
    ("proj:sp:.indptr", setter("proj:sp:.indptr", [1, 3, 6, 9, 12]), "rising from 0", "[1, 3, 6, 9, 12]"),
    ("proj:sp:w", setter("proj:sp:w", np.ones(11)), "numbers of shape (12,)", "shape (11,)"),
    ("proj:sp:.indptr", dropper("proj:sp:.indptr"), "is missing", None),
    ("proj:sp:.delays", dropper("proj:sp:.delays"), "is missing", None),
    ("hist:P:r", setter("hist:P:r", np.zeros((2, 2))), "history of arrays of shape (3,)", "shape (2, 2)"),
    ("hist:P:r", setter("hist:P:r", np.full((3, 3), np.nan)), "expected finite", "non-finite"),
    ("hist:P:r", setter("hist:P:r", 1.0), "one array per step", "a single value"),
]


@pytest.mark.parametrize("key, change, expected, found", CORRUPTIONS,
                         ids=[f"{i}-{row[0]}" for i, row in enumerate(CORRUPTIONS)])
def test_a_corrupted_entry_changes_nothing(tmp_path, key, change, expected, found):
    net = build()
    good = tmp_path / "good.npz"
    save(good, net=net)
    net.simulate(3)                     # the network moves on: a load would change everything
    net.get_projection("sp").w = 0.25
    bad = tmp_path / "bad.npz"
    rewrite(good, bad, change)
    before = snapshot(net)
    with pytest.raises(ValidationError) as error:
        load(bad, net=net)
    message = str(error.value)
    assert key in message, message
    assert expected in message, message
    if found is not None:
        assert f"(got {found}" in message or found in message.split("(got", 1)[-1], message
    assert str(bad) in message
    assert snapshot(net) == before
    load(good, net=net)                 # and the good file still loads


def test_a_pickled_entry_is_refused_without_change(tmp_path):
    net = build()
    bad = tmp_path / "bad.npz"
    save(tmp_path / "good.npz", net=net)
    rewrite(tmp_path / "good.npz", bad, setter("pop:P:r", np.array([{"a": 1}, 2, 3], dtype=object)))
    before = snapshot(net)
    with pytest.raises(ValidationError, match=r"pop:P:r: expected an array of numbers or text \(got Python objects "
                                              r"\(pickled data"):
        load(bad, net=net)
    assert snapshot(net) == before


def test_a_good_file_restores_every_array_bit_for_bit(tmp_path):
    net = build()
    saved = snapshot(net)
    save(tmp_path / "s.npz", net=net)
    net.simulate(4)
    net.get_population("layer:1").tau = 2.0
    assert snapshot(net) != saved
    load(tmp_path / "s.npz", net=net)
    kept = {key: value for key, value in snapshot(net).items() if not key.endswith((".t", "._sum_exc"))}
    # the clock's t and the sums are recomputed at the start of the next step
    assert kept == {key: value for key, value in saved.items() if not key.endswith((".t", "._sum_exc"))}


def test_names_holding_colons_round_trip(tmp_path):
    """Keys split at the first and the last ':' (attributes never hold one), so any name works."""
    net = Network()
    a = net.create(2, Neuron(parameters="r = 0.0"), name="a:b")
    b = net.create(2, Neuron(parameters="r = 0.0"), name="a")
    c = net.create(2, Neuron(parameters="r = 0.0"), name="b:r")
    proj = net.connect(a, c, "exc", name="x:y:z").connect_one_to_one(2.0)
    a.r, b.r, c.r = [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]
    save(tmp_path / "c.npz", net=net)
    with np.load(tmp_path / "c.npz") as data:
        assert {"pop:a:b:r", "pop:a:r", "pop:b:r:r", "proj:x:y:z:w"} <= set(data.files)
    a.r = b.r = c.r = 0.0
    proj.w = 0.0
    load(tmp_path / "c.npz", net=net)
    assert (a.r.tolist(), b.r.tolist(), c.r.tolist()) == ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0])
    assert proj.w == [[2.0], [2.0]]


# -- atomic save

def test_a_save_interrupted_in_the_middle_leaves_the_previous_file(tmp_path, monkeypatch):
    net = build()
    path = tmp_path / "state.npz"
    save(path, net=net)
    with np.load(path) as data:
        old = {key: data[key].copy() for key in data.files}
    net.simulate(3)
    real = np.savez

    def half_then_interrupt(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(rio.np, "savez", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save(path, net=net)

    def disk_full(handle, **arrays):
        real(handle, **{k: v for k, v in list(arrays.items())[:2]})
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rio.np, "savez", disk_full)
    with pytest.raises(FileError) as error:
        save(path, net=net)
    assert str(error.value).startswith("save: cannot write ") and str(path) in str(error.value)
    assert "No space left on device" in str(error.value)
    assert isinstance(error.value.__cause__, OSError) and isinstance(error.value, OSError)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["state.npz"]           # no temporary file left behind
    with np.load(path) as data:
        assert sorted(data.files) == sorted(old)
        for key in old:
            assert data[key].tobytes() == old[key].tobytes(), key
    fresh = build()
    load(path, net=fresh)                                   # the previous file still loads, old values
    assert fresh.get_current_step() == 5


def test_save_keeps_permissions(tmp_path):
    net = build()
    path = tmp_path / "state.npz"
    save(path, net=net)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask   # as open(path, "w") would
    os.chmod(path, 0o640)
    save(path, net=net)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_save_failures_name_save_and_the_path(tmp_path):
    net = build()
    missing = tmp_path / "no" / "such" / "folder" / "s.npz"
    with pytest.raises(FileError, match=r"^save: cannot write '.*/no/such/folder/s\.npz' \(No such file"):
        save(missing, net=net)
    with pytest.raises(FileError, match=r"^save: cannot write '.*' : it is a folder|^save: cannot write '.*': it is "
                                        r"a folder"):
        save(tmp_path, net=net)
    with pytest.raises(ValidationError, match=r"^save\.filename: must be a path \(a str or os\.PathLike\) "
                                              r"\(got None\)"):
        save(None, net=net)
    with pytest.raises(ValidationError, match=r"^save\.filename: must be a path .*\(got 3\)"):
        net.get_population("P").save(3)
    with pytest.raises(ValidationError, match=r"^load\.filename: must be a path .*\(got None\)"):
        load(None, net=net)


@pytest.mark.parametrize("content, found", [
    (b"", "an empty file"),
    (b"hello, world\n", "a text file"),
    (b"\x00\x01\x02\xff\xfe", "a binary file that is not an .npz archive"),
])
def test_files_that_are_not_archives(tmp_path, content, found):
    net = build()
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    before = snapshot(net)
    with pytest.raises(ValidationError) as error:
        load(path, net=net)
    assert str(error.value) == (f"load.filename: expected a ratenet state file written by save() (an .npz archive) "
                                f"(got {found}: '{path}')")
    assert snapshot(net) == before


def test_npy_and_truncated_archives(tmp_path):
    net = build()
    npy = tmp_path / "r.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValidationError, match=r"expected a ratenet state file .*\(got a single NumPy array \(\.npy"):
        load(npy, net=net)
    good = tmp_path / "good.npz"
    save(good, net=net)
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        truncated = tmp_path / f"cut{cut}.npz"
        truncated.write_bytes(data[:cut])
        before = snapshot(net)
        with pytest.raises(ValidationError, match=r"^load\.filename: expected a ratenet state file .*\(got a "
                                                  r"truncated or damaged \.npz archive"):
            load(truncated, net=net)
        assert snapshot(net) == before
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, **{".format": np.array("something-else")})
    with pytest.raises(ValidationError, match=r"got an \.npz archive with '\.format' = array\('something-else'"):
        load(foreign, net=net)


def test_missing_file_names_load_and_path(tmp_path):
    net = build()
    with pytest.raises(ratenet.MissingFileError, match=r"^load: no such file: '.*nope\.npz'") as error:
        load(tmp_path / "nope.npz", net=net)
    assert isinstance(error.value, FileNotFoundError)


@pytest.mark.parametrize("key, value, expected, found", [
    ("kern:conv:weights", np.zeros((2, 2)), "numbers of shape (3, 3)", "shape (2, 2)"),
    ("kern:conv:weights", np.full((3, 3), np.nan), "expected finite numbers", "9 non-finite"),
    ("kern:conv:.delays", -1.0, "expected a delay >= 0", "-1.0"),
    ("kern:conv:.delays", np.ones(3), "a delay in ms (a single value)", "shape (3,)"),
])
def test_kernel_projections_are_checked_too(tmp_path, key, value, expected, found):
    net = Network()
    inp = net.create((5, 5), Neuron(parameters="r = 1.0"), name="inp")
    out = net.create((5, 5), Neuron(equations="r = sum(exc)"), name="out")
    conv = net.connect(Convolution(inp, out, "exc", name="conv")).connect_filter(np.arange(9.0).reshape(3, 3))
    net.simulate(2)
    save(tmp_path / "k.npz", net=net)
    rewrite(tmp_path / "k.npz", tmp_path / "bad.npz", setter(key, value))
    conv.weights = np.ones((3, 3))
    before = snapshot(net)
    with pytest.raises(ValidationError) as error:
        load(tmp_path / "bad.npz", net=net)
    assert key in str(error.value) and expected in str(error.value) and found in str(error.value)
    assert snapshot(net) == before and np.array_equal(conv.weights, np.ones((3, 3)))
    load(tmp_path / "k.npz", net=net)
    assert np.array_equal(conv.weights, np.arange(9.0).reshape(3, 3))


def _rewired_network():
    net = Network(dt=1.0, seed=325)
    model = Neuron(parameters="g = Uniform(0.5, 1.5)", equations="x = g * sum(exc)\nr = x")
    pop = net.create(18, model, name="p0")
    pop.r = np.random.default_rng(0).uniform(0.0, 1.0, 18)
    syn = Synapse(parameters="T = 2 : int, projection",
                  equations="age = if pre.r * post.r > 0.2 : 0 else : age + 1 : init=0, int",
                  pruning="age > T : proba=0.5", creating="pre.r * post.r > 0.2 : proba=0.3, w=0.1")
    # the target is read by nobody: the rates stay, the rules keep rewiring
    proj = net.connect(pop, pop, "extra", syn, name="proj0").connect_dog(
        amp_pos=1.0, sigma_pos=0.2, amp_neg=0.5, sigma_neg=0.4, delays=Uniform(0.0, 3.0))
    net.setup(structural_plasticity=True)
    proj.start_creating(period=2.0)
    proj.start_pruning(period=2.0)
    return net, pop, proj


def test_load_restores_a_delay_history_whose_depth_rewiring_changed_since_the_save(tmp_path):
    """Regression (found by the differential tests): pruning the longest delays shrank the history, and load()
    refused the saved one as of the wrong shape. With the projections, the file's delays decide the depth."""
    path = str(tmp_path / "state.npz")
    net, pop, proj = _rewired_network()
    net.simulate(3.0)
    net.save(path)
    proj.stop_creating()
    proj.stop_pruning()
    net.simulate(2.0)
    expected = pop.r.copy(), pop.sum("extra").copy()

    net, pop, proj = _rewired_network()
    net.simulate(3.0)
    net.save(path)
    depth = {k: v.shape for k, v in np.load(path).items() if k.startswith("hist:")}
    net.simulate(4.0)
    net.reset(projections=False)
    net.simulate(4.0)
    net.load(path)
    proj.stop_creating()
    proj.stop_pruning()
    net.simulate(2.0)
    assert depth == {"hist:p0:r": (3, 18)}
    assert np.array_equal(pop.r, expected[0])
    assert np.array_equal(pop.sum("extra"), expected[1])  # the delayed rates come from the loaded history


def test_load_without_projections_still_refuses_a_history_of_another_depth(tmp_path):
    path = str(tmp_path / "state.npz")
    net, pop, proj = _rewired_network()
    net.simulate(3.0)
    net.save(path)
    with np.load(path) as saved:
        arrays = dict(saved)
    arrays["hist:p0:r"] = np.zeros((5, 18))
    np.savez(path, **arrays)
    before = pop.r.copy()
    with pytest.raises(ValidationError, match=r"load\('.*state\.npz'\)\.hist:p0:r: expected numbers of shape "
                                              r"\(3, 18\) \(got .*shape \(5, 18\)"):
        net.load(path, projections=False)
    assert np.array_equal(pop.r, before)
    arrays["hist:p0:r"] = np.zeros((5, 17))
    np.savez(path, **arrays)
    with pytest.raises(ValidationError, match=r"hist:p0:r: expected a history of arrays of shape \(18,\), one per "
                                              r"step \(got .*shape \(5, 17\)"):
        net.load(path)
