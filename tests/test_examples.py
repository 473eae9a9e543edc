"""The gallery's examples run and compute what their text says.

Each example is run as a script (``runpy``, as ``__main__``) and its namespace is
checked against an independent reference: SciPy for filters and ODEs, NumPy's
``eigh`` for principal components, closed forms for the winner-take-all network,
a plain NumPy loop for the learning rule.
"""

from __future__ import annotations

import runpy
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import ndimage
from scipy.integrate import solve_ivp

import ratenet
import ratenet.image
import ratenet.projections

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def run_example(name: str, monkeypatch, tmp_path, *args: str) -> dict:
    """Run ``examples/<name>`` as a script in ``tmp_path``; return its globals."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / name), *args])
    try:
        with warnings.catch_warnings():
            # plt.show() on the Agg backend only says that it cannot show anything
            warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
            return runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        plt.close("all")
        ratenet.clear()


def test_every_example_has_a_test_and_a_gallery_title():
    tested = {name.removeprefix("test_").replace("_example", "") for name in globals() if name.startswith("test_")}
    for script in EXAMPLES.glob("*.py"):
        assert script.stem in tested, f"{script.name} has no test in {Path(__file__).name}"
        docstring = script.read_text().split('"""')[1].strip().splitlines()
        # sphinx-gallery takes the first line, underlined with '=', as the title
        assert set(docstring[1]) == {"="} and len(docstring[1]) >= len(docstring[0]), script.name


def test_image_filters(monkeypatch, tmp_path, capsys):
    ns = run_example("image_filters.py", monkeypatch, tmp_path)
    output = tmp_path / "ratenet-image-filters.png"  # the README's main job writes this file
    assert output.read_bytes()[:8] == PNG
    assert str(output.resolve()) in capsys.readouterr().out
    image = np.asarray(ns["image"].r, dtype=np.float64)
    assert image.shape == (480, 640, 3) and image.std() > 0.1
    # mean over 10 x 10 blocks, 3 x 3 box filter per channel (zero outside), opponent bank
    pooled = image.reshape(48, 10, 64, 10, 3).mean(axis=(1, 3))
    smoothed = ndimage.correlate(pooled, np.ones((3, 3, 1)) / 9.0, mode="constant", cval=0.0)
    opponent = np.array([[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]])
    filtered = np.maximum(smoothed @ opponent.T, 0.0)
    np.testing.assert_allclose(ns["pooled"].r, pooled, atol=1e-12)
    np.testing.assert_allclose(ns["smoothed"].r, smoothed, atol=1e-12)
    np.testing.assert_allclose(ns["filtered"].r, filtered, atol=1e-12)


def test_batch_images(monkeypatch, tmp_path, capsys):
    """Each sample of the batch equals the tutorial run on that image alone."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(3)
    import cv2

    for k in range(3):  # two of the tutorial's size, one to be resized
        shape = (480, 640, 3) if k < 2 else (240, 320, 3)
        cv2.imwrite(str(folder / f"{k}.png"), rng.integers(0, 256, shape, dtype=np.uint8))
    ns = run_example("batch_images.py", monkeypatch, tmp_path, str(folder))
    assert (tmp_path / "ratenet-batch-images.png").read_bytes()[:8] == PNG
    assert "3 images" in capsys.readouterr().out
    batched = np.array(ns["filtered"].r)
    assert batched.shape == (3, 48, 64, 3)
    for k in range(3):
        ratenet.clear()
        image = ratenet.image.ImagePopulation(geometry=(480, 640, 3))
        neuron = ratenet.Neuron(equations="r=sum(exc): min=0.0")
        pooled, smoothed, filtered = (ratenet.Population((48, 64, 3), neuron) for _ in range(3))
        ratenet.projections.Pooling(image, pooled, "exc", operation="mean").connect_pooling()
        ratenet.projections.Convolution(pooled, smoothed, "exc").connect_filter(np.ones((3, 3, 1)) / 9.0)
        ratenet.projections.Convolution(smoothed, filtered, "exc").connect_filters(ns["filter_bank"])
        ratenet.compile()
        image.set_image(str(folder / f"{k}.png"))
        ratenet.simulate(4.0)
        assert np.array_equal(batched[k], filtered.r)  # bit for bit, sample by sample
    ratenet.clear()


def test_edge_detection(monkeypatch, tmp_path):
    ns = run_example("edge_detection.py", monkeypatch, tmp_path)
    scene, bank = ns["scene"], ns["bank"]
    responses = np.stack([np.abs(ndimage.correlate(scene, kernel, mode="constant", cval=0.0)) for kernel in bank],
                         axis=-1)
    np.testing.assert_allclose(ns["oriented"].r, responses, atol=1e-12)
    np.testing.assert_allclose(ns["edges"].r, responses.max(axis=-1), atol=1e-12)
    # the winning filter on the disk's rim is the one closest to the radius: filters 45 degrees
    # apart leave at most 22.5 degrees, plus a little for pixels whose centre is off the circle
    error, rim = ns["error"], ns["rim"]
    assert rim.sum() > 200
    assert error[rim].max() < 25.0
    assert np.mean(error[rim] <= 22.5) > 0.95
    # the rectangle's long edges run at 30 degrees: their normal (120) is closest to filter 135
    across, along = ns["across"], ns["along"]
    long_edge = (np.abs(np.abs(across) - 8.0) < 0.6) & (np.abs(along) < 12.0)
    assert long_edge.sum() > 20
    assert np.all(ns["preferred"][long_edge] == 135.0)


def wilson_cowan_reference(P: float) -> tuple[float, float]:
    """(period, peak-to-peak E) of the model's last 1000 ms, by SciPy at tight tolerances."""
    c1, c2, c3, c4 = 16.0, 12.0, 15.0, 3.0

    def S(x, a, theta):
        return 1 / (1 + np.exp(-a * (x - theta))) - 1 / (1 + np.exp(a * theta))

    def f(t, z):
        E, I = z
        return [(-E + (1 - E) * S(c1 * E - c2 * I + P, 1.3, 4.0)) / 10.0,
                (-I + (1 - I) * S(c3 * E - c4 * I, 2.0, 3.7)) / 10.0]

    sol = solve_ivp(f, (0.0, 2000.0), [0.0, 0.0], method="DOP853", rtol=1e-9, atol=1e-12, dense_output=True)
    t = np.linspace(1000.0, 2000.0, 200001)
    E = sol.sol(t)[0]
    x = E - E.mean()
    crossings = t[1:][(x[:-1] < 0) & (x[1:] >= 0)]
    return float(np.diff(crossings).mean()) if len(crossings) > 2 else np.nan, float(E.max() - E.min())


def test_wilson_cowan(monkeypatch, tmp_path):
    ns = run_example("wilson_cowan.py", monkeypatch, tmp_path)
    P_values, period, amplitude = ns["P_values"], ns["period"], ns["amplitude"]
    for P in (1.2, 1.5, 1.8):
        k = int(np.argmin(np.abs(P_values - P)))
        reference_period, reference_amplitude = wilson_cowan_reference(P)
        assert period[k] == pytest.approx(reference_period, rel=0.01), P
        assert amplitude[k] == pytest.approx(reference_amplitude, rel=0.01), P
    # a limit cycle between P of about 1.1 and 1.9, a steady state outside
    assert np.all(amplitude[(P_values >= 1.1) & (P_values <= 1.85)] > 0.05)
    assert np.all(amplitude[P_values <= 1.05] < 1e-6)
    assert np.all(amplitude[P_values >= 2.1] < 0.01)
    # the frequency rises with the drive
    oscillating = np.isfinite(period)
    assert np.all(np.diff(period[oscillating]) < 0)


def test_wilson_cowan_fixed_point_is_an_unstable_focus_at_the_chosen_drive():
    """The text's claim, checked without ratenet: the fixed point at P = 1.25 repels, spiralling."""
    c1, c2, c3, c4 = 16.0, 12.0, 15.0, 3.0

    def S(x, a, theta):
        return 1 / (1 + np.exp(-a * (x - theta))) - 1 / (1 + np.exp(a * theta))

    def f(z):
        E, I = z
        return np.array([-E + (1 - E) * S(c1 * E - c2 * I + 1.25, 1.3, 4.0),
                         -I + (1 - I) * S(c3 * E - c4 * I, 2.0, 3.7)])

    from scipy.optimize import fsolve

    fixed = fsolve(f, [0.2, 0.1])
    assert np.allclose(f(fixed), 0.0, atol=1e-12)
    jacobian = np.column_stack([(f(fixed + h) - f(fixed - h)) / 2e-7 for h in np.eye(2) * 1e-7])
    eigenvalues = np.linalg.eigvals(jacobian)
    assert np.all(eigenvalues.real > 0) and np.all(np.abs(eigenvalues.imag) > 1.0)


def test_winner_take_all(monkeypatch, tmp_path):
    ns = run_example("winner_take_all.py", monkeypatch, tmp_path)
    assert ns["winner"] == int(np.argmax(ns["inputs"]))
    net, choices = ns["net"], ns["choices"]
    rng = np.random.default_rng(11)
    for _ in range(10):
        inputs = rng.uniform(0.2, 1.0, 8)
        net.reset()
        choices.I = inputs
        net.simulate(300.0)
        rates = choices.r
        best = int(np.argmax(inputs))
        # the winner settles at I / (1 - alpha), every other neuron is silent
        assert rates[best] == pytest.approx(inputs[best] / (1 - 0.5), rel=1e-4)
        assert np.all(np.delete(rates, best) == 0.0)
    # closer calls take longer
    decision_time = ns["decision_time"]
    assert np.all(np.isfinite(decision_time)) and np.all(np.diff(decision_time) > 0)


def test_oja_pca(monkeypatch, tmp_path):
    ns = run_example("oja_pca.py", monkeypatch, tmp_path)
    w, samples = ns["w"], ns["samples"]
    assert ns["angle"] < 5.0
    # against the eigenvector of the covariance the samples were drawn from
    first = np.linalg.eigh(ns["covariance"])[1][:, -1]
    assert np.degrees(np.arccos(abs(w @ first) / np.linalg.norm(w))) < 5.0
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.05)
    # the same rule in a plain NumPy loop (explicit Euler, dt = 1) gives the same weights
    reference = np.array([0.1, -0.5])
    for x in samples:
        y = reference @ x
        reference = reference + 0.005 * y * (x - y * reference)
    np.testing.assert_allclose(w, reference, rtol=1e-9)


def test_echo_state_network(monkeypatch, tmp_path):
    ns = run_example("echo_state_network.py", monkeypatch, tmp_path)
    assert ns["states"].shape == (4000, 300)
    assert np.abs(ns["states"]).max() < 1.0  # tanh neurons
    # the reservoir predicts unseen data 20 steps ahead far better than the current value does
    assert ns["nrmse"] < 0.02
    assert ns["baseline"] > 0.3
    errors = np.array(ns["errors"])
    assert np.all(errors < np.array(ns["baselines"]) / 5)


def test_neural_field(monkeypatch, tmp_path, capsys):
    output = tmp_path / "field.png"
    ns = run_example("neural_field.py", monkeypatch, tmp_path, "-o", str(output))
    assert output.read_bytes()[:8] == PNG
    assert "figure written" in capsys.readouterr().out
    # once settled, the field's single bump stays within two neurons of the stimulus
    assert np.nanmedian(ns["settled"]) < 2.0
    assert np.mean(np.isfinite(ns["settled"])) > 0.95


def test_neural_field_sweep(monkeypatch, tmp_path, capsys):
    pytest.importorskip("xarray", reason="the sweep example needs the distributed extra")
    output = tmp_path / "sweep.png"
    ns = run_example("neural_field_sweep.py", monkeypatch, tmp_path, "-o", str(output), "--duration", "300")
    assert output.read_bytes()[:8] == PNG
    assert "figure written" in capsys.readouterr().out
    res, grid, n = ns["res"], ns["grid"], ns["N"]
    assert res["field"].dims == ("speed", "inhibition", "time", "neuron_0", "neuron_1")
    # a grid point run alone here, in a plain network with the seed of its place in the grid (C order)
    i, j = 2, 1
    net = ratenet.Network(seed=ratenet.parallel.derive_seed(3, i * len(grid["inhibition"]) + j))
    field = ns["build"](net, grid["speed"][i], grid["inhibition"][j])["field"]
    monitor = net.monitor(field, "r", period=10.0)
    net.simulate(300.0)
    frames = monitor.get("r", reshape=True)
    np.testing.assert_array_equal(res["field"].sel(speed=grid["speed"][i], inhibition=grid["inhibition"][j]), frames)
    # its tracking error, by a loop over the frames
    distances = []
    for k, frame in enumerate(frames):
        t = 10.0 * k
        if t < 200.0:
            continue
        mask = frame > 0.5 * frame.max()
        ys, xs = np.nonzero(mask)
        weights = frame[mask]
        angle = 2 * np.pi * grid["speed"][i] / 1000.0 * (t - 20.0)
        stim = (n / 2 + n / 4 * np.cos(angle), n / 2 + n / 4 * np.sin(angle))
        distances.append(np.hypot((xs * weights).sum() / weights.sum() - stim[0],
                                  (ys * weights).sum() / weights.sum() - stim[1]))
    assert ns["error"][i, j] == pytest.approx(np.median(distances), abs=1e-12)
    # slow stimuli are tracked within a neuron; the fastest one with the weakest inhibition worst of all
    assert (ns["error"][0] < 1.0).all()
    assert np.unravel_index(ns["error"].argmax(), ns["error"].shape) == (len(grid["speed"]) - 1, 0)


def test_bar_learning(monkeypatch, tmp_path):
    """A short training already makes the receptive fields prefer one bar (the full run takes ~30 s)."""

    def best_bar_share(ns: dict) -> float:
        fields = np.maximum(np.asarray(ns["ff"].w), 0.0).reshape(-1, 8, 8)
        bars = np.concatenate([fields.mean(axis=2), fields.mean(axis=1)], axis=1)
        return float(np.median(bars.max(axis=1) / bars.sum(axis=1)))

    output = tmp_path / "bars.png"
    untrained = run_example("bar_learning.py", monkeypatch, tmp_path, "-o", str(output), "--trials", "0")
    trained = run_example("bar_learning.py", monkeypatch, tmp_path, "-o", str(output),
                          "--trials", "1000", "--tau", "100")
    assert output.read_bytes()[:8] == PNG
    assert untrained["single"] == 0 and best_bar_share(untrained) < 0.13  # 1/16 = 0.0625 for flat fields
    assert trained["single"] >= 4 and best_bar_share(trained) > 0.18
