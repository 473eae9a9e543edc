"""What there is to say about each object, once, for every output format.

A :class:`Summary` is a title, a list of facts (label, value) and blocks
(tables, equations, notes, an image).  :mod:`ratenet.display.text` writes it
as plain text, :mod:`ratenet.display.html` as HTML and the report as
Markdown, LaTeX or HTML: the same content everywhere.

Objects are read through their public attributes only (duck typing), so this
module imports no population, projection, monitor or network module.
"""

from __future__ import annotations

import ast
import math
import numbers
import re
from typing import Any, Iterable, Sequence

import numpy as np

from ..exceptions import RatenetError
from ..equations import expression_text, strip_flags
from .latex import equation_latex, function_latex, name_latex, psp_latex, value_latex

__all__ = [
    "Math",
    "Table",
    "Note",
    "Image",
    "Summary",
    "Statistics",
    "statistics",
    "format_number",
    "format_value",
    "model_summary",
    "population_summary",
    "view_summary",
    "projection_summary",
    "network_summary",
    "monitor_summary",
    "synapse_count",
    "recorded_name",
    "input_description",
    "HAND_OVER_NOTE",
]

#: What every monitor display says about get().
HAND_OVER_NOTE = ("get() hands the recorded data over, as in ANNarchy: a second get() returns nothing new. "
                  "Pass keep=True to read without dropping.")

#: Above this many synapses, weight statistics are gathered dendrite by dendrite (no full copy).
_COPY_LIMIT = 1 << 22


class Math:
    """A formula: LaTeX, and the text as written for plain outputs."""

    __slots__ = ("latex", "text")

    def __init__(self, latex: str, text: str) -> None:
        self.latex, self.text = latex, text

    def __repr__(self) -> str:
        return f"Math({self.latex!r}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Math) and (self.latex, self.text) == (other.latex, other.text)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.text


class Table:
    """Rows of cells (str or :class:`Math`) under a header."""

    __slots__ = ("columns", "rows", "title")

    def __init__(self, columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
        self.columns, self.rows, self.title = columns, rows, title


class Note:
    """A sentence worth reading."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Image:
    """An inline image: PNG bytes, shown at ``width`` x ``height`` pixels."""

    __slots__ = ("png", "width", "height", "caption")

    def __init__(self, png: bytes, width: int, height: int, caption: str) -> None:
        self.png, self.width, self.height, self.caption = png, width, height, caption


class Summary:
    """Everything a display says about one object: a kind and name, facts, blocks."""

    __slots__ = ("kind", "name", "facts", "blocks")

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.facts: list[tuple[str, Any]] = []
        self.blocks: list[Table | Note | Image] = []

    @property
    def title(self) -> str:
        return f"{self.kind} '{self.name}'" if self.name else self.kind


def format_number(value: Any) -> str:
    """A number in at most 4 significant digits (integers in full).

    Examples
    --------
    >>> format_number(0.123456), format_number(3.0), format_number(12345678), format_number(True)
    ('0.1235', '3', '12345678', 'True')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e12:
            return str(int(number))
        return f"{number:.4g}"
    return str(value)


def format_value(value: Any) -> str:
    """A number, bool, distribution or other value as displays and reports write it.

    Examples
    --------
    >>> from ratenet import Uniform
    >>> format_value(0.5), format_value(2.0), format_value(Uniform(-0.5, 0.5))
    ('0.5', '2', 'Uniform(-0.5, 0.5)')
    """
    if value is None or isinstance(value, (bool, np.bool_, numbers.Real)):
        return format_number(value) if value is not None else "None"
    if hasattr(value, "sample") and hasattr(value, "get_values"):  # a distribution
        # Uniform(low=-0.5, high=0.5) -> Uniform(-0.5, 0.5): its arguments by position, as usually written
        text = repr(value)
        head = text.split("(", 1)[0]
        shown = []
        for item in re.findall(r"=\s*([^,()]+)", text):
            try:
                shown.append(format_number(float(item)))
            except ValueError:
                shown.append(item.strip())
        return f"{head}({', '.join(shown)})"
    return str(value)


class Statistics:
    """min, mean and max of some values (``count`` of them)."""

    __slots__ = ("count", "minimum", "mean", "maximum")

    def __init__(self, count: int, minimum: float = math.nan, mean: float = math.nan,
                 maximum: float = math.nan) -> None:
        self.count, self.minimum, self.mean, self.maximum = count, minimum, mean, maximum

    def __repr__(self) -> str:
        return f"Statistics({self.count}, {self.minimum}, {self.mean}, {self.maximum})"

    @property
    def uniform(self) -> bool:
        return self.count > 0 and self.minimum == self.maximum

    def __str__(self) -> str:
        if self.count == 0:
            return "none"
        if self.uniform:
            return format_number(self.minimum)
        return (f"min {format_number(self.minimum)}, mean {format_number(self.mean)}, "
                f"max {format_number(self.maximum)}")


def statistics(values: Any) -> Statistics:
    """min/mean/max of numbers, arrays or a list of arrays (NaN ignored).

    Examples
    --------
    >>> str(statistics([1.0, 2.0, 6.0])), str(statistics([[1.0], [1.0, 1.0]]))
    ('min 1, mean 3, max 6', '1')
    """
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], (np.ndarray, list, tuple)):
        # one list per dendrite, or (a batch) one such list per sample: rows of different lengths
        parts = [statistics_values(v) for v in values]
        array = np.concatenate(parts) if parts else np.zeros(0)
    else:
        array = np.asarray(values, dtype=np.float64).ravel()
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return Statistics(int(array.size))
    return Statistics(int(array.size), float(finite.min()), float(finite.mean()), float(finite.max()))


def statistics_values(values: Any) -> np.ndarray:
    """Numbers, arrays or nested lists of arrays of different lengths, as one flat float64 array.

    Examples
    --------
    >>> statistics_values([[np.ones(2), np.zeros(1)], [np.ones(2), np.zeros(1)]]).tolist()
    [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    """
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], (np.ndarray, list, tuple)):
        return np.concatenate([statistics_values(v) for v in values])
    return np.asarray(values, dtype=np.float64).ravel()


def _merge(stats: Iterable[Statistics]) -> Statistics:
    stats = [s for s in stats if s.count]
    if not stats:
        return Statistics(0)
    count = sum(s.count for s in stats)
    return Statistics(count, min(s.minimum for s in stats), sum(s.mean * s.count for s in stats) / count,
                      max(s.maximum for s in stats))


# ---------------------------------------------------------------------------
# models


def _locality(kind: str, locality: str) -> str:
    if locality == "local":
        return "per neuron" if kind == "neuron" else "per synapse"
    return {"population": "per population", "postsynaptic": "per post-synaptic neuron",
            "projection": "per projection"}.get(locality, locality)


def _flags(eq: Any, kind: str) -> str:
    flags = []
    if eq.kind == "ode" and eq.method != "explicit":
        flags.append(f"{eq.method} method")
    for label in ("init", "min", "max"):
        value = getattr(eq, label)
        if value is not None:
            shown = value if isinstance(value, str) else expression_text(value) if isinstance(value, ast.AST) \
                else format_value(value)
            flags.append(f"{label}={shown}")
    if eq.locality != "local":
        flags.append(_locality(kind, eq.locality))
    if eq.dtype != "float":
        flags.append(eq.dtype)
    return ", ".join(flags)


def equation_rows(model: Any) -> list[list[Any]]:
    """One row per equation: the formula, its flags, the text as written."""
    kind = "synapse" if hasattr(model, "psp_text") else "neuron"
    rows = []
    for eq in model.equations:
        written = strip_flags(eq.source.text) if eq.source is not None else eq.text
        rows.append([Math(equation_latex(eq), written), _flags(eq, kind), written])
    return rows


def parameter_rows(model: Any) -> list[list[Any]]:
    kind = "synapse" if hasattr(model, "psp_text") else "neuron"
    return [[p.name, Math(name_latex(p.name), p.name), Math(value_latex(p.value), format_value(p.value)),
             _locality(kind, p.locality), p.dtype] for p in model.parameters]


def model_summary(model: Any) -> Summary:
    """A Neuron or Synapse: parameters, equations, functions.

    Examples
    --------
    >>> from ratenet import Neuron
    >>> s = model_summary(Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)"))
    >>> s.title, [b.title for b in s.blocks]
    ("Neuron 'Neuron'", ['Parameters', 'Equations'])
    """
    synapse = hasattr(model, "psp_text")
    kind = "Synapse" if synapse else "Neuron"
    summary = Summary(kind, model.name)
    if model.description:
        summary.facts.append(("description", model.description))
    if synapse:
        summary.facts.append(("psp", Math(psp_latex(model.psp_text), model.psp_text)))
        summary.facts.append(("operation", model.operation))
        summary.facts.append(("learning", "yes" if model.equations else "no"))
    else:
        sums = [f"sum({t})" for t in model.targets] + (["sum()"] if model.uses_sum_all else [])
        summary.facts.append(("inputs", ", ".join(sums) or "none"))
    summary.facts.append(("variables", ", ".join(model.variable_names) or "none"))
    if model.parameters:
        summary.blocks.append(Table(["name", "symbol", "value", "locality", "type"], parameter_rows(model),
                                    "Parameters"))
    if model.equations:
        summary.blocks.append(Table(["equation", "flags", "as written"], equation_rows(model), "Equations"))
    elif not synapse:
        summary.blocks.append(Note("No equations: the rates are set from Python (an input)."))
    own = getattr(model, "own_functions", {})
    if own:
        summary.blocks.append(Table(["function", "as written"],
                                    [[Math(function_latex(f), f.source.text if f.source else f.name),
                                      f.source.text if f.source else f.name] for f in own.values()],
                                    "Functions"))
    constants = getattr(model, "constants", {})
    if constants:
        summary.blocks.append(Table(["constant", "value"],
                                    [[name, format_number(c.value)] for name, c in constants.items()],
                                    "Constants"))
    return summary


# ---------------------------------------------------------------------------
# populations


def _attribute_rows(obj: Any, names: Sequence[str], kinds: dict[str, str]) -> list[list[Any]]:
    rows = []
    batch = getattr(getattr(obj, "population", None), "batch", None)
    for name in names:
        value = getattr(obj, name)
        shared = np.ndim(value) == 0 or (batch is not None and
                                         obj.network.registry.state(obj).locality.get(name) != "local")
        stats = statistics(value)
        level = ("per sample" if batch is not None else "per population") if shared else "per neuron"
        if (shared and batch is None) or stats.uniform:
            rows.append([name, kinds[name], level,
                         format_number(stats.minimum) if stats.count else "", "", ""])
        else:
            rows.append([name, kinds[name], level, format_number(stats.minimum), format_number(stats.mean),
                         format_number(stats.maximum)])
    return rows


def _population_rows(obj: Any) -> list[list[Any]]:
    kinds = {name: "parameter" for name in obj.parameters}
    kinds.update({name: "variable" for name in obj.variables})
    rows = _attribute_rows(obj, list(obj.variables) + list(obj.parameters), kinds)
    for target in getattr(obj, "targets", []):
        stats = statistics(obj.sum(target))
        rows.append([f"sum({target})", "input (last step)", "per neuron"]
                    + ([format_number(stats.minimum), "", ""] if stats.uniform else
                       [format_number(stats.minimum), format_number(stats.mean), format_number(stats.maximum)]))
    return rows


def input_description(pop: Any) -> str | None:
    """What sets the rates of a population without equations, in a phrase (None if it has equations).

    A subclass (InputArray, TimedArray, ImagePopulation...) is described by
    the first sentence of its own docstring.

    Examples
    --------
    >>> from ratenet import InputArray, Network, Neuron
    >>> net = Network()
    >>> input_description(InputArray(2, network=net))
    'a population whose rates are set from Python: inp.r = values'
    >>> input_description(net.create(2, Neuron(parameters="r = 0.0")))
    'no equations: its rates are set from Python'
    """
    if pop.neuron_type.equations:
        return None
    doc = (type(pop).__doc__ or "").strip().splitlines() if type(pop).__name__ != "Population" else []
    first = doc[0].replace("``", "").rstrip(".") if doc else ""
    return first[0].lower() + first[1:] if first else "no equations: its rates are set from Python"


def population_summary(pop: Any, image: Any = None) -> Summary:
    """A population: geometry, model, values of every attribute, an image of ``r``.

    ``image`` is an :class:`Image` (made by the caller, who may skip it).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create((2, 3), Neuron(parameters="tau = 10.0", equations="r = 1.0"), name="grid")
    >>> s = population_summary(pop)
    >>> s.title, dict(s.facts)["geometry"], s.blocks[0].rows[0][:4]
    ("Population 'grid'", '(2, 3)', ['r', 'variable', 'per neuron', '0'])
    """
    summary = Summary(type(pop).__name__, pop.name)
    summary.facts += [("geometry", str(tuple(pop.geometry))), ("size", str(pop.size)),
                      ("neuron", pop.neuron_type.name)]
    if pop.batch is not None:
        summary.facts.insert(2, ("batch", f"{pop.batch} samples (arrays {(pop.batch,) + tuple(pop.geometry)})"))
    summary.blocks.append(Table(["attribute", "kind", "locality", "min", "mean", "max"], _population_rows(pop),
                                "Values"))
    note = input_description(pop)
    if note:
        summary.blocks.append(Note(f"An input: {note}."))
    if image is not None:
        summary.blocks.append(image)
    return summary


def view_summary(view: Any, image: Any = None) -> Summary:
    """A PopulationView: which neurons, and their values."""
    summary = Summary("PopulationView", view.name)
    summary.facts += [("population", view.population.name), ("geometry", str(tuple(view.geometry))),
                      ("size", str(view.size)), ("neuron", view.neuron_type.name)]
    kinds = {name: "parameter" for name in view.parameters}
    kinds.update({name: "variable" for name in view.variables})
    rows = _attribute_rows(view, list(view.variables) + list(view.parameters), kinds)
    summary.blocks.append(Table(["attribute", "kind", "locality", "min", "mean", "max"], rows, "Values"))
    if image is not None:
        summary.blocks.append(image)
    return summary


# ---------------------------------------------------------------------------
# projections


def _synaptic_statistics(proj: Any, name: str, count: int) -> Statistics | None:
    """min/mean/max of a synaptic attribute, without copying a huge weight matrix at once."""
    try:
        if count > _COPY_LIMIT and name in getattr(proj, "attributes", []):
            return _merge(statistics(getattr(dendrite, name)) for dendrite in proj)
        return statistics(proj.get(name))
    except (RatenetError, AttributeError, KeyError, TypeError):
        return None


def _kernel_kind(proj: Any) -> bool:
    try:
        _ = proj.storage_format  # Convolution and Pooling have none: they raise
    except RatenetError:
        return True
    return False


def projection_summary(proj: Any) -> Summary:
    """A projection: pre -> post, target, connector, synapse, storage, delays, weights.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create(3, Neuron(parameters="r = 1.0"), name="a")
    >>> b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
    >>> s = projection_summary(net.connect(a, b, "exc").connect_all_to_all(0.5))
    >>> facts = dict(s.facts); facts["pre -> post"], facts["connector"], facts["synapses"]
    ('a -> b', 'all-to-all with weights 0.5', '6')
    """
    summary = Summary(type(proj).__name__, proj.name)
    synapse = proj.synapse_type
    summary.facts.append(("pre -> post", f"{proj.pre.name} -> {proj.post.name}"))
    summary.facts.append(("target", proj.target))
    count = synapse_count(proj)
    connected = proj.connector is not None or count is not None
    record = proj.connector
    summary.facts.append(("connector", record.description if record is not None
                          else ("connected" if connected else "not connected yet")))
    summary.facts.append(("synapse", synapse.name))
    operation = getattr(proj, "operation", None) or synapse.operation
    psp = getattr(proj, "psp", None)
    psp_text = psp if isinstance(psp, str) else synapse.psp_text
    summary.facts.append(("psp", Math(psp_latex(psp_text), psp_text)))
    if operation != "sum":
        summary.facts.append(("operation", operation))
    if not connected:
        return summary
    kernel = _kernel_kind(proj)
    if count is not None:
        summary.facts.append(("synapses", str(count)))
    summary.facts.append(("storage", "one shared kernel" if kernel else proj.storage_format))
    try:
        delays = proj.delays
        # (a list first: np.ndim of one list of delays per dendrite, of different lengths, is an error in NumPy)
        summary.facts.append(("delays", f"{format_number(delays)} ms" if not isinstance(delays, list) and
                              np.ndim(delays) == 0 else f"{statistics(delays)} ms (per synapse)"))
    except RatenetError:
        pass
    if synapse.equations:
        summary.facts.append(("learning", "on" if proj.learning else "off"))
    batch = getattr(proj, "batch", None)
    if batch is not None:
        summary.facts.append(("batch", f"one set of synaptic values per sample ({batch} sets; the values below "
                                       f"cover every sample)"))
    names = ["w"] + [n for n in synapse.parameter_names + synapse.variable_names if n != "w"]
    rows = []
    for name in names:
        stats = _synaptic_statistics(proj, name, count or 0)
        if stats is None or stats.count == 0:
            continue
        rows.append([name, str(stats.count), format_number(stats.minimum), format_number(stats.mean),
                     format_number(stats.maximum)])
    if rows:
        summary.blocks.append(Table(["attribute", "values", "min", "mean", "max"], rows, "Synaptic values"))
    if synapse.equations:
        summary.blocks.append(Table(["equation", "flags", "as written"], equation_rows(synapse),
                                    f"Learning rule ({synapse.name})"))
    return summary


def synapse_count(proj: Any) -> int | None:
    """``proj.nb_synapses``, or None for a projection not connected yet."""
    try:
        return int(proj.nb_synapses)
    except RatenetError:
        return None


# ---------------------------------------------------------------------------
# monitors and networks


def recorded_name(obj: Any) -> str:
    """What a monitor records, by name: a population, a view, a projection, or "neuron 4 of pop".

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create(5, Neuron(equations="r = t"), name="pop")
    >>> recorded_name(pop), recorded_name(pop[1:3]), recorded_name(pop.neuron(4))
    ('pop', 'pop[1:3]', 'neuron 4 of pop')
    """
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return f"neuron {obj.rank} of {obj.population.name}"


def recorded_batch(obj: Any) -> int | None:
    """The batch axis of what a monitor records from ``obj`` (None: its values have none).

    A population, view or neuron has the network's; a projection has one when
    it keeps a set of synaptic values per sample (``proj.batch``).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> pop = Network(batch=4).create(2, Neuron(parameters="r = 0.0"))
    >>> recorded_batch(pop), recorded_batch(pop.neuron(1)), recorded_batch(Network().create(2, pop.neuron_type))
    (4, 4, None)
    """
    population = getattr(obj, "population", None)
    return getattr(population if population is not None else obj, "batch", None)


def monitor_period(monitor: Any) -> str:
    """``"2 ms"``, or ``"1 ms (every step)"`` when the period is dt."""
    period = monitor.period
    return f"{format_number(period)} ms" + (" (every step)" if period == monitor.network.dt else "")


def monitor_summary(monitor: Any) -> Summary:
    """A monitor: what it records, how often, what it holds, and that get() hands data over.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(equations="r = t"), name="clock")
    >>> m = net.monitor(pop, "r"); net.simulate(3.0)
    >>> s = monitor_summary(m)
    >>> dict(s.facts)["records"], s.blocks[0].rows
    ('clock', [['r', '3', '0 to 2 ms']])
    """
    summary = Summary("Monitor", monitor.name)
    summary.facts += [("records", recorded_name(monitor.object)),
                      ("variables", ", ".join(monitor.variables)), ("period", monitor_period(monitor))]
    batch = recorded_batch(monitor.object)
    if batch is not None:
        summary.facts.append(("batch", f"each recorded step holds the {batch} samples of the batch (get() gives "
                                       f"(steps, {batch}, ...); plot(sample=k) draws one)"))
    rows = []
    for var in monitor.variables:
        times = monitor.sample_times(var)
        span = f"{format_number(times[0])} to {format_number(times[-1])} ms" if len(times) else ""
        rows.append([var, str(len(times)), span])
    summary.blocks.append(Table(["variable", "samples held", "times"], rows, "Recorded"))
    summary.blocks.append(Note(HAND_OVER_NOTE))
    return summary


def network_summary(net: Any) -> Summary:
    """A network: dt, time, and tables of its populations, projections and monitors.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network(dt=0.5)
    >>> a = net.create(4, Neuron(parameters="r = 1.0"), name="a")
    >>> s = network_summary(net)
    >>> dict(s.facts)["dt"], s.blocks[0].rows
    ('0.5 ms', [['a', 'Population', '(4,)', '4', 'Neuron']])
    """
    summary = Summary("Network", net.name or "")
    summary.facts += [("dt", f"{format_number(net.dt)} ms"), ("time", f"{format_number(net.t)} ms"),
                      ("steps", str(net.get_current_step())),
                      ("seed", "none" if net.seed is None else str(net.seed)), ("dtype", str(np.dtype(net.dtype)))]
    if net.batch is not None:
        summary.facts.append(("batch", f"{net.batch} samples"))
    summary.blocks.append(Table(["population", "class", "geometry", "size", "neuron"],
                                [[p.name, type(p).__name__, str(tuple(p.geometry)), str(p.size), p.neuron_type.name]
                                 for p in net.populations], "Populations"))
    rows = []
    for proj in net.projections:
        record = proj.connector
        count = synapse_count(proj)
        rows.append([proj.name, proj.pre.name, proj.post.name, proj.target, proj.synapse_type.name,
                     record.description if record is not None else "", "" if count is None else str(count)])
    summary.blocks.append(Table(["projection", "pre", "post", "target", "synapse", "connector", "synapses"], rows,
                                "Projections"))
    summary.blocks.append(Table(["monitor", "records", "variables", "period", "samples held"],
                                [[m.name, recorded_name(m.object), ", ".join(m.variables),
                                  monitor_period(m), ", ".join(str(len(m.sample_times(v))) for v in m.variables)]
                                 for m in net.monitors], "Monitors"))
    return summary
