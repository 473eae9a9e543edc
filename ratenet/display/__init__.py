"""Showing models and networks: LaTeX, HTML, text, images, plots and progress bars.

Every renderer here reads the objects it shows through their public
attributes only (``pop.geometry``, ``pop.neuron_type``, ``proj.connector``...),
so these modules sit low in the import order: populations, projections,
monitors and networks call them from thin ``_repr_html_``/``__repr__``/
``plot`` methods, which import them on first use (see ratenet/_lazy.py:
a first network needs none of them, and ``import ratenet`` does not pay for
them).  Heavy third-party packages (matplotlib, tqdm, IPython) are
imported only when a function needs them, so ``import ratenet`` does not pay
for them.

Modules
-------
latex
    Equations, parameters and functions typeset in LaTeX from their syntax
    trees.
text, html
    Plain-text and HTML summaries of every object (``__repr__``, ``__str__``,
    ``_repr_html_``).
images
    Small inline PNG images of population activity.
plots
    matplotlib figures: populations, recordings, weights, network diagrams
    and animations.
progress
    The progress bar of ``simulate(..., progress_bar=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:  # pragma: no cover
    from . import html, images, latex, plots, progress, summary, text  # noqa: F401 (for mypy)

__getattr__, __dir__ = attach(__name__, ["html", "images", "latex", "plots", "progress", "summary", "text"], {},
                              globals())
