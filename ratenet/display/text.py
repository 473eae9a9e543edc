"""Plain-text displays: one-line reprs and multi-line summaries.

``repr(obj)`` stays on one line (it appears in lists and error messages);
``str(obj)``, ``print(obj)`` and IPython's plain-text display show the
multi-line summary.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..exceptions import RatenetError
from .summary import (Image, Math, Note, Summary, Table, format_number, model_summary, monitor_summary,
                      network_summary, population_summary, projection_summary, recorded_batch, recorded_name,
                      statistics, view_summary)

__all__ = [
    "render",
    "table",
    "pretty",
    "model_text",
    "population_text",
    "view_text",
    "projection_text",
    "network_text",
    "monitor_text",
    "model_repr",
    "population_repr",
    "view_repr",
    "projection_repr",
    "network_repr",
    "monitor_repr",
]


def _cell(value: Any) -> str:
    return str(value.text) if isinstance(value, Math) else str(value)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> list[str]:
    """Rows aligned under their column names.

    Examples
    --------
    >>> print("\\n".join(table(["name", "value"], [["tau", "10"], ["baseline", "0.5"]])))
    name      value
    tau       10
    baseline  0.5
    """
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max([len(col)] + [len(row[i]) for row in cells if i < len(row)]) for i, col in enumerate(columns)]
    lines = [indent + "  ".join(col.ljust(w) for col, w in zip(columns, widths)).rstrip()]
    for row in cells:
        lines.append(indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return lines


#: Columns that repeat, in text, what another column already says (a formula as written).
_HTML_ONLY = ("symbol", "as written")


def render(summary: Summary) -> str:
    """A summary as indented text (formulas as written)."""
    lines = [summary.title]
    for label, value in summary.facts:
        lines.append(f"  {label}: {_cell(value)}")
    for block in summary.blocks:
        if isinstance(block, Table):
            if not block.rows:
                lines.append(f"  {block.title}: none")
                continue
            keep = [i for i, c in enumerate(block.columns) if c not in _HTML_ONLY]
            lines.append(f"  {block.title}:")
            lines.extend(table([block.columns[i] for i in keep], [[row[i] for i in keep] for row in block.rows],
                               indent="    "))
        elif isinstance(block, Note):
            lines.append(f"  {block.text}")
        elif isinstance(block, Image):
            lines.append(f"  (an image of {block.caption} in HTML displays)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# one-line reprs


def model_repr(model: Any) -> str:
    """``Neuron(name=..., parameters=[...], equations=[...])`` with the equations as written.

    Examples
    --------
    >>> from ratenet import Neuron
    >>> Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc) : min=0.0", name="Leaky")
    Neuron(name='Leaky', parameters=['tau = 10.0'], equations=['tau * dr/dt + r = sum(exc) : min=0.0'])
    """
    kind = "Synapse" if hasattr(model, "psp_text") else "Neuron"
    params = [p.source.text if p.source is not None else f"{p.name} = {p.value!r}" for p in model.parameters]
    equations = [eq.text for eq in model.equations]
    text = f"{kind}(name={model.name!r}, parameters={params!r}, equations={equations!r}"
    if kind == "Synapse":
        text += f", psp={model.psp_text!r}"
        if model.operation != "sum":
            text += f", operation={model.operation!r}"
    return text + ")"


def _values(obj: Any, name: str = "r") -> str:
    try:
        stats = statistics(getattr(obj, name))
    except (AttributeError, RatenetError):
        return ""
    if stats.uniform:
        return f"; {name} = {format_number(stats.minimum)}"
    return f"; {name} {stats}"


def population_repr(pop: Any) -> str:
    """``<Population 'exc': 100 neurons (10, 10), LeakyNeuron; r min 0, mean 0.2, max 0.9>``."""
    count = "neuron" if pop.size == 1 else "neurons"
    batch = "" if pop.batch is None else f" x {pop.batch} samples"
    return (f"<{type(pop).__name__} '{pop.name}': {pop.size} {count} {tuple(pop.geometry)}{batch}, "
            f"{pop.neuron_type.name}{_values(pop)}>")


def view_repr(view: Any) -> str:
    """``<PopulationView 'exc[0:10]': 10 of the 100 neurons of 'exc'; r ...>``."""
    return (f"<PopulationView '{view.name}': {view.size} of the {view.population.size} neurons of "
            f"'{view.population.name}'{_values(view)}>")


def projection_repr(proj: Any) -> str:
    """``<Projection 'proj0': a -> b, target 'exc', all-to-all with weights 0.5, 6 synapses>``."""
    record = proj.connector
    text = f"<{type(proj).__name__} '{proj.name}': {proj.pre.name} -> {proj.post.name}, target '{proj.target}'"
    if proj.synapse_type.name not in ("Default", "Copy"):
        text += f", synapse {proj.synapse_type.name}"
    if record is not None:
        text += f", {record.description}"
        try:
            text += f", {proj.nb_synapses} synapses"
        except RatenetError:
            pass
        batch = getattr(proj, "batch", None)
        if batch is not None:
            text += f", one weight set per sample ({batch})"
    else:
        text += ", not connected yet"
    return text + ">"


def network_repr(net: Any) -> str:
    """``<Network: dt=1 ms, t=100 ms, 3 populations, 2 projections, 1 monitor>``."""

    def count(items: Sequence[Any], word: str) -> str:
        return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"

    name = f" '{net.name}'" if net.name else ""
    seed = "" if net.seed is None else f", seed={net.seed}"
    seed += "" if net.batch is None else f", batch={net.batch}"
    return (f"<Network{name}: dt={format_number(net.dt)} ms, t={format_number(net.t)} ms{seed}, "
            f"{count(net.populations, 'population')}, {count(net.projections, 'projection')}, "
            f"{count(net.monitors, 'monitor')}>")


def monitor_repr(monitor: Any) -> str:
    """``<Monitor 'm': r of 'exc' every step, 100 samples held; get() hands them over>``."""
    held = [len(monitor.sample_times(v)) for v in monitor.variables]
    samples = str(held[0]) if len(set(held)) == 1 else "/".join(str(h) for h in held)
    target = recorded_name(monitor.object)
    every = "every step" if monitor.period == monitor.network.dt else f"every {format_number(monitor.period)} ms"
    batch = recorded_batch(monitor.object)
    each = "" if batch is None else f" (each with the {batch} samples of the batch)"
    return (f"<Monitor '{monitor.name}': {', '.join(monitor.variables)} of {target} {every}, {samples} samples "
            f"held{each}; get() hands them over (keep=True keeps them)>")


# ---------------------------------------------------------------------------
# multi-line summaries (str() and IPython's plain-text display)


def model_text(model: Any) -> str:
    """Parameters, equations and functions of a Neuron or Synapse, as text."""
    return render(model_summary(model))


def population_text(pop: Any) -> str:
    """A population's geometry, model and values, as text."""
    return render(population_summary(pop))


def view_text(view: Any) -> str:
    """A view's neurons and values, as text."""
    return render(view_summary(view))


def projection_text(proj: Any) -> str:
    """A projection's ends, connector, storage and synaptic values, as text."""
    return render(projection_summary(proj))


def network_text(net: Any) -> str:
    """A network's settings and tables of objects, as text."""
    return render(network_summary(net))


def monitor_text(monitor: Any) -> str:
    """A monitor's recordings, as text."""
    return render(monitor_summary(monitor))


def pretty(obj: Any, printer: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_``: the multi-line ``str()`` on its own, the one-line repr inside a container.

    IPython's printer keeps the objects being printed on its ``stack``: more
    than one means this object sits in a list, dict or tuple.
    """
    nested = len(getattr(printer, "stack", ())) > 1
    printer.text(repr(obj) if cycle or nested else str(obj))
