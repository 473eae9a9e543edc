"""The progress bar of ``simulate(..., progress_bar=True)``, drawn by tqdm.

``tqdm.auto`` picks a widget in Jupyter and a text bar on stderr elsewhere.
The bar counts steps and shows the simulated time, steps per second and the
time left.  tqdm is imported only when a bar is asked for.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import RatenetError

__all__ = ["ProgressBar"]

#: Updates per run at most: a bar never costs more than this many calls, however many steps.
_UPDATES = 1000


class ProgressBar:
    """A tqdm bar over ``total`` steps of ``dt`` ms, starting at ``t0`` ms.

    Parameters
    ----------
    total : int
        Steps to run (the most, for ``simulate_until``).
    dt : float
        Step size in ms, to show the simulated time.
    t0 : float
        Time at the start, in ms.
    description : str
        Shown left of the bar.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(10, 0.5, 0.0, file=out)
    >>> for step in range(1, 11):
    ...     bar.update(step)
    >>> bar.close(10)
    >>> "10/10" in out.getvalue() and "t=5 ms" in out.getvalue()
    True
    """

    def __init__(self, total: int, dt: float, t0: float, description: str = "simulate", **options: Any) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency of ratenet
            raise RatenetError("progress_bar=True needs tqdm, which is not installed: pip install tqdm") from None
        self.dt, self.t0 = dt, t0
        self.every = max(1, total // _UPDATES)
        self.bar = tqdm(total=total, unit="step", desc=description, dynamic_ncols=True, **options)
        self.bar.set_postfix_str(f"t={t0:g} ms", refresh=False)

    def update(self, done: int) -> None:
        """``done`` steps are finished (cheap: the bar is touched every ``every`` steps)."""
        if done % self.every == 0:
            self._show(done)

    def _show(self, done: int) -> None:
        self.bar.set_postfix_str(f"t={self.t0 + done * self.dt:g} ms", refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self, done: int) -> None:
        """Show the final count (a run stopped early ends below the total) and close the bar."""
        self._show(done)
        self.bar.close()
