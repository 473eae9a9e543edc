"""HTML displays (``_repr_html_``) for notebooks.

The output is a well-formed XHTML fragment: one ``<div class="ratenet">``
holding a title, a table of facts, then the tables, notes and image of the
summary.  Formulas are written for MathJax (Jupyter's renderer) between
``$$ ... $$``, next to the text as written for renderers without MathJax.
"""

from __future__ import annotations

import base64
from typing import Any

from .images import activity_image
from .summary import (Image, Math, Note, Summary, Table, model_summary, monitor_summary, network_summary,
                      population_summary, projection_summary, view_summary)

__all__ = [
    "escape",
    "render",
    "math",
    "model_html",
    "population_html",
    "view_html",
    "projection_html",
    "network_html",
    "monitor_html",
    "STYLE",
]

#: Styles scoped to ``.ratenet`` (dropped by untrusted notebooks, which is fine: the markup reads without them).
STYLE = (".ratenet{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;line-height:1.35}"
         ".ratenet .rn-title{font-weight:bold;font-size:14px;margin:2px 0 4px 0}"
         ".ratenet table{border-collapse:collapse;margin:2px 0 6px 0}"
         ".ratenet th,.ratenet td{padding:1px 8px;text-align:left;vertical-align:middle;"
         "border-bottom:1px solid rgba(128,128,128,0.25)}"
         ".ratenet table.rn-facts th{font-weight:normal;opacity:0.7}"
         ".ratenet summary{cursor:pointer;font-weight:bold;margin-top:4px}"
         ".ratenet .rn-note{margin:4px 0;font-style:italic}"
         ".ratenet code{font-size:12px}"
         ".ratenet img{image-rendering:pixelated;border:1px solid rgba(128,128,128,0.4)}")

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape(text: Any) -> str:
    """Escape text for HTML and XML (``&``, ``<``, ``>``, ``"``).

    Examples
    --------
    >>> escape('a < b & "c"')
    'a &lt; b &amp; &quot;c&quot;'
    """
    return "".join(_ESCAPES.get(ch, ch) for ch in str(text))


def math(value: Math, display: bool = True) -> str:
    """A formula for MathJax: ``$$...$$`` (display) or ``\\(...\\)`` (inline)."""
    if display:
        return f'<span class="rn-math">$${escape(value.latex)}$$</span>'
    return f'<span class="rn-math">\\({escape(value.latex)}\\)</span>'


def _cell(value: Any, column: str = "") -> str:
    if isinstance(value, Math):
        return math(value, display=column == "equation" or column == "function")
    if column == "as written":
        return f"<code>{escape(value)}</code>"
    return escape(value)


def table(block: Table) -> str:
    """A :class:`~ratenet.display.summary.Table` as an HTML table."""
    head = "".join(f"<th>{escape(c)}</th>" for c in block.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v, c)}</td>" for v, c in zip(row, block.columns)) + "</tr>"
                   for row in block.rows)
    return f'<table class="rn-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def image(block: Image) -> str:
    """An :class:`~ratenet.display.summary.Image` inlined as a base64 PNG."""
    data = base64.b64encode(block.png).decode("ascii")
    return (f'<figure class="rn-image"><img src="data:image/png;base64,{data}" width="{block.width}" '
            f'height="{block.height}" alt="{escape(block.caption)}"/>'
            f'<figcaption>{escape(block.caption)}</figcaption></figure>')


def render(summary: Summary, style: bool = True, level: int = 0) -> str:
    """A summary as an XHTML fragment (``style``: include the ``<style>`` element)."""
    parts = ['<div class="ratenet">']
    if style:
        parts.append(f"<style>{STYLE}</style>")
    parts.append(f'<div class="rn-title">{escape(summary.kind)}'
                 + (f" '{escape(summary.name)}'" if summary.name else "") + "</div>")
    if summary.facts:
        rows = "".join(f"<tr><th>{escape(label)}</th><td>{_cell(value)}</td></tr>" for label, value in summary.facts)
        parts.append(f'<table class="rn-facts"><tbody>{rows}</tbody></table>')
    for block in summary.blocks:
        if isinstance(block, Table):
            if not block.rows:
                continue
            opened = ' open="open"' if len(block.rows) <= 12 else ""
            parts.append(f"<details{opened}><summary>{escape(block.title or '')} ({len(block.rows)})</summary>"
                         f"{table(block)}</details>")
        elif isinstance(block, Note):
            parts.append(f'<p class="rn-note">{escape(block.text)}</p>')
        elif isinstance(block, Image):
            parts.append(image(block))
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# one function per kind of object (called by their _repr_html_)


def model_html(model: Any) -> str:
    """HTML of a Neuron or Synapse."""
    return render(model_summary(model))


def _activity(obj: Any, variable: str = "r") -> Image | None:
    values = getattr(obj, variable)
    if len(getattr(obj, "geometry", ())) < 2:
        return None
    batch = getattr(getattr(obj, "population", None), "batch", None)
    if batch is not None:  # the first sample's image (a batch axis would be read as rows or colour channels)
        return activity_image(values[0], f"{variable} of {obj.name}, sample 0 of {batch}")
    return activity_image(values, f"{variable} of {obj.name}")


def population_html(pop: Any) -> str:
    """HTML of a population, with an image of ``r`` for 2-D and 3-D geometries."""
    return render(population_summary(pop, _activity(pop)))


def view_html(view: Any) -> str:
    """HTML of a PopulationView."""
    return render(view_summary(view, _activity(view)))


def projection_html(proj: Any) -> str:
    """HTML of a projection."""
    return render(projection_summary(proj))


def network_html(net: Any) -> str:
    """HTML of a network."""
    return render(network_summary(net))


def monitor_html(monitor: Any) -> str:
    """HTML of a monitor."""
    return render(monitor_summary(monitor))
