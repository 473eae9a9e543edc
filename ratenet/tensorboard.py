"""Logging a simulation for TensorBoard: ANNarchy's ``Logger`` extension (an optional extra).

``pip install "ratenet[tensorboard]"`` installs `tensorboardX
<https://tensorboardx.readthedocs.io/>`_, which writes the event files
TensorBoard reads; PyTorch's ``torch.utils.tensorboard`` is used instead when
tensorboardX is missing and PyTorch is there.  Neither is imported before a
:class:`Logger` is created.  Then ``tensorboard --logdir runs`` shows the logs.

Examples
--------
>>> import tempfile
>>> from ratenet.tensorboard import Logger
>>> with tempfile.TemporaryDirectory() as folder:
...     with Logger(logdir=folder, experiment="trial1") as logger:  # doctest: +SKIP
...         logger.add_scalar("Accuracy", 0.75, 1)
"""

from __future__ import annotations

import datetime
import os
import socket
from typing import Any

import numpy as np

from .exceptions import RatenetError, ValidationError

__all__ = ["Logger", "summary_writer"]


def summary_writer() -> Any:
    """The ``SummaryWriter`` class of tensorboardX (or of ``torch.utils.tensorboard``), imported now.

    Raises
    ------
    RatenetError
        When neither is installed, saying how to install the extra.

    Examples
    --------
    >>> summary_writer().__name__  # doctest: +SKIP
    'SummaryWriter'
    """
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise RatenetError('Logger needs tensorboardX (or PyTorch) to write TensorBoard logs: '
                               'pip install "ratenet[tensorboard]"') from None
    return SummaryWriter


class Logger:
    """Write scalars, images, histograms and figures of a simulation for TensorBoard (as ANNarchy's Logger).

    Parameters
    ----------
    logdir : str
        Folder of the logs; each run writes into a subfolder.
    experiment : str, optional
        Name of the subfolder; by default the date, time and host name
        (``May06_12-11-22_machine``).  Reusing a name appends to its logs.

    Use it as a context manager (``with Logger() as logger:``), or call
    :meth:`close` at the end: logs are queued in memory and written at
    :meth:`flush` or :meth:`close`.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from ratenet.tensorboard import Logger
    >>> folder = tempfile.mkdtemp()
    >>> with Logger(logdir=folder, experiment="run") as logger:  # doctest: +SKIP
    ...     logger.add_scalar("Reward", 1.0, 0)
    ...     logger.add_image("Activity", np.random.random((4, 5)), 0, equalize=True)
    """

    def __init__(self, logdir: str = "runs/", experiment: str | None = None) -> None:
        if not isinstance(logdir, (str, os.PathLike)):
            raise ValidationError("Logger", "logdir", "must be a path", got=logdir)
        if experiment is not None and not isinstance(experiment, str):
            raise ValidationError("Logger", "experiment", "must be a string", got=experiment)
        writer = summary_writer()
        self.logdir = os.fspath(logdir)
        if experiment is None:
            experiment = datetime.datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
        self.experiment = experiment
        #: The folder this run writes into.
        self.currentlogdir = os.path.join(self.logdir, experiment)
        self._writer = writer(self.currentlogdir, max_queue=10, flush_secs=10)

    # ---------------------------------------------------------------- values
    def add_scalar(self, tag: str, value: float, step: int | None = None) -> None:
        """Log one value under ``tag`` (``"Group/Name"`` groups plots) at ``step``."""
        self._writer.add_scalar(tag, float(value), step)

    def add_scalars(self, tag: str, value: dict[str, float], step: int | None = None) -> None:
        """Log several values in one plot: ``{"left": 0.1, "right": 0.3}``."""
        if not isinstance(value, dict):
            raise ValidationError("Logger.add_scalars", "value", "must be a dict {name: number}", got=value)
        self._writer.add_scalars(tag, {k: float(v) for k, v in value.items()}, step)

    def add_histogram(self, tag: str, hist: Any, step: int | None = None) -> None:
        """Log the distribution of the values of ``hist`` (a list or an array)."""
        self._writer.add_histogram(tag, np.asarray(hist, dtype=np.float64).reshape(-1), step)

    def add_parameters(self, params: dict[str, Any], metrics: dict[str, float]) -> None:
        """Log the hyperparameters of a run and the metrics it reached."""
        self._writer.add_hparams(params, metrics)

    # ---------------------------------------------------------------- images
    @staticmethod
    def _equalized(img: np.ndarray) -> np.ndarray:
        low, high = float(img.min()), float(img.max())
        return (img - low) / (high - low) if high > low else np.zeros_like(img)

    def add_image(self, tag: str, img: Any, step: int | None = None, equalize: bool = False) -> None:
        """Log an image: ``(height, width)`` grey or ``(height, width, 3)`` colour, values in [0, 1] (floats)
        or 0-255 (integers); ``equalize`` rescales min..max to 0..1."""
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[2] != 3 or img.ndim not in (2, 3):
            raise ValidationError("Logger.add_image", "img", "must have shape (H, W) or (H, W, 3)",
                                  got=f"shape {img.shape}", got_repr=False)
        if equalize:
            img = self._equalized(img.astype(np.float64))
        self._writer.add_image(tag, img, step, dataformats="HW" if img.ndim == 2 else "HWC")

    def add_images(self, tag: str, img: Any, step: int | None = None, equalize: bool = False,
                   equalize_per_image: bool = False) -> None:
        """Log several images: ``(n, height, width)`` or ``(n, height, width, 3)``; ``equalize`` over all of
        them, or each on its own with ``equalize_per_image``."""
        img = np.asarray(img)
        if img.ndim == 3:
            img = img[..., np.newaxis]
        if img.ndim != 4 or img.shape[3] not in (1, 3):
            raise ValidationError("Logger.add_images", "img", "must have shape (N, H, W) or (N, H, W, 3)",
                                  got=f"shape {img.shape}", got_repr=False)
        if equalize:
            img = img.astype(np.float64)
            img = np.stack([self._equalized(i) for i in img]) if equalize_per_image else self._equalized(img)
        self._writer.add_images(tag, img, step, dataformats="NHWC")

    def add_figure(self, tag: str, figure: Any, step: int | None = None, close: bool = True) -> None:
        """Log a Matplotlib figure as an image (closed afterwards unless ``close=False``)."""
        self._writer.add_figure(tag, figure, step, close=close)

    # ----------------------------------------------------------------- files
    def flush(self) -> None:
        """Write what is queued to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Write what is queued and close the log files."""
        self._writer.close()

    def __enter__(self) -> "Logger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
