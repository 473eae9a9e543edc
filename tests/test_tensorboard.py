"""The tensorboard Logger: real event files when tensorboardX is installed, a recording writer otherwise."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from ratenet import RatenetError, ValidationError
from ratenet import tensorboard


class _Recorder:
    """Stands for SummaryWriter: keeps every call."""

    calls: list[tuple[str, tuple, dict]] = []

    def __init__(self, logdir, **options):
        self.logdir = logdir
        _Recorder.calls.append(("init", (logdir,), options))

    def __getattr__(self, name):
        def record(*args, **kwargs):
            _Recorder.calls.append((name, args, kwargs))
        return record


@pytest.fixture
def recorded(monkeypatch):
    _Recorder.calls = []
    monkeypatch.setattr(tensorboard, "summary_writer", lambda: _Recorder)
    return _Recorder.calls


def test_without_tensorboardx_or_torch_the_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(RatenetError, match=r"^Logger needs tensorboardX \(or PyTorch\) to write TensorBoard logs: "
                                           r"pip install \"ratenet\[tensorboard\]\"$"):
        tensorboard.Logger(logdir=str(tmp_path))


def test_importing_ratenet_does_not_import_tensorboardx():
    import subprocess

    code = "import ratenet, ratenet.tensorboard, sys; print('tensorboardX' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_calls_reach_the_writer(recorded, tmp_path):
    with tensorboard.Logger(logdir=str(tmp_path), experiment="trial") as logger:
        logger.add_scalar("Reward", np.float32(0.5), 3)
        logger.add_scalars("GPi", {"left": 1, "right": np.float64(2.0)}, 3)
        logger.add_image("Striatum", np.array([[1.0, 3.0], [2.0, 5.0]]), 3, equalize=True)
        logger.add_images("Fields", np.array([[[0.0, 2.0]], [[4.0, 8.0]]]), 4, equalize=True,
                          equalize_per_image=True)
        logger.add_histogram("Weights", [[0.1, 0.2], [0.3, 0.4]], 5)
    names = [name for name, _, _ in recorded]
    assert names == ["init", "add_scalar", "add_scalars", "add_image", "add_images", "add_histogram", "close"]
    assert recorded[0][1] == (str(tmp_path / "trial"),)
    assert recorded[1][1] == ("Reward", 0.5, 3)
    assert recorded[2][1] == ("GPi", {"left": 1.0, "right": 2.0}, 3)
    # equalized by hand: (x - 1) / (5 - 1)
    np.testing.assert_allclose(recorded[3][1][1], [[0.0, 0.5], [0.25, 1.0]])
    assert recorded[3][2] == {"dataformats": "HW"}
    np.testing.assert_allclose(recorded[4][1][1][..., 0], [[[0.0, 1.0]], [[0.0, 1.0]]])
    assert recorded[4][2] == {"dataformats": "NHWC"}
    np.testing.assert_allclose(recorded[5][1][1], [0.1, 0.2, 0.3, 0.4])


def test_bad_images_are_refused(recorded, tmp_path):
    logger = tensorboard.Logger(logdir=str(tmp_path))
    with pytest.raises(ValidationError, match=r"^Logger.add_image.img: must have shape \(H, W\) or \(H, W, 3\) "
                                              r"\(got shape \(2, 2, 2\)\)$"):
        logger.add_image("x", np.zeros((2, 2, 2)))
    with pytest.raises(ValidationError, match=r"add_scalars.value: must be a dict"):
        logger.add_scalars("x", [1.0])
    logger.close()


def _events(folder: Path) -> list:
    """Read the records of the event files in ``folder`` (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2

    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        position = 0
        while position < len(data):
            (length,) = struct.unpack("<Q", data[position:position + 8])
            record = data[position + 12:position + 12 + length]
            position += 12 + length + 4
            event = event_pb2.Event()
            event.ParseFromString(record)
            events.append(event)
    return events


def test_real_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tensorboard.Logger(logdir=str(tmp_path), experiment="run") as logger:
        for step in range(3):
            logger.add_scalar("Reward", 0.5 * step, step)
        logger.add_histogram("Weights", np.arange(10.0), 2)
        logger.add_image("Activity", np.random.default_rng(0).random((4, 5)), 2)
        figure = plt.figure()
        plt.plot([0, 1], [1, 0])
        logger.add_figure("Figure", figure, 2)
    assert not plt.fignum_exists(figure.number)  # closed by default
    values = [(e.step, v.tag, v.simple_value) for e in _events(tmp_path / "run") for v in e.summary.value
              if v.tag == "Reward"]
    assert values == [(0, "Reward", 0.0), (1, "Reward", 0.5), (2, "Reward", 1.0)]
    tags = {v.tag for e in _events(tmp_path / "run") for v in e.summary.value}
    assert {"Weights", "Activity", "Figure"} <= tags
    histogram = next(v.histo for e in _events(tmp_path / "run") for v in e.summary.value if v.tag == "Weights")
    assert (histogram.min, histogram.max, histogram.num, histogram.sum) == (0.0, 9.0, 10, 45.0)
