"""``report()``: a description of a network in Markdown, LaTeX or HTML.

The report follows the usual description of a network model (Nordlie,
Gewaltig & Plesser, 2009, as ANNarchy's does): a summary, the populations,
the projections with a sentence describing each connection pattern, the
neuron and synapse models with their equations typeset in LaTeX, the
parameters' current values, the inputs and the monitors.

``report("model.md")``, ``report("model.tex")`` and ``report("model.html")``
write a file; ``report()`` with no file name shows the Markdown in a notebook
and returns it elsewhere.  ANNarchy 4's arguments and ANNarchy 5's form
``report(net, "model.md")`` are both accepted.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

import numpy as np

from .display.html import STYLE, escape as html_escape, image as html_image
from .display.images import activity_image
from .display.latex import escape_text as tex_escape, function_latex
from .display.summary import (Image, Math, Note, Table, format_number, input_description, model_summary,
                              monitor_period, recorded_name, statistics, synapse_count)
from .exceptions import RatenetError, ValidationError
from .network import Network
from .registry import default_network
from .neurons import _CONSTANTS, _GLOBAL_FUNCTIONS

__all__ = ["report", "MATHJAX"]

#: MathJax, loaded by standalone HTML reports to typeset the equations.
MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"


# ---------------------------------------------------------------------------
# writers: one per format, the same calls


class _Writer:
    """Collects a document; subclasses decide the markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self) -> str:
        return "".join(self.parts)


class _Markdown(_Writer):
    def heading(self, level: int, text: str) -> None:
        self.parts.append(f"\n{'#' * level} {text}\n\n")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"{self._inline(text)}\n\n")

    def facts(self, facts: Sequence[tuple[str, Any]]) -> None:
        self.parts.append("".join(f"- **{label}**: {self._cell(value)}\n" for label, value in facts) + "\n")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(self._cell(c) for c in row) + " |" for row in rows]
        self.parts.append("\n".join(lines) + "\n\n")

    def equation(self, math: Math, note: str = "") -> None:
        self.parts.append(f"$$\n{math.latex}\n$$\n\n" + (f"{self._inline(note)}\n\n" if note else ""))

    def image(self, image: Image) -> None:
        pass  # Markdown files stay text

    @staticmethod
    def _inline(text: str) -> str:
        return str(text).replace("*", r"\*").replace("_", r"\_")

    def _cell(self, value: Any) -> str:
        if isinstance(value, Math):
            return f"${value.latex}$".replace("|", r"\vert ")
        return self._inline(str(value)).replace("|", r"\|").replace("\n", " ")


class _Latex(_Writer):
    _LEVELS = {1: "section", 2: "section", 3: "subsection", 4: "subsubsection"}

    def heading(self, level: int, text: str) -> None:
        self.parts.append(f"\n\\{self._LEVELS.get(level, 'paragraph')}{{{tex_escape(text)}}}\n\n")

    def paragraph(self, text: str) -> None:
        self.parts.append(tex_escape(text) + "\n\n")

    def facts(self, facts: Sequence[tuple[str, Any]]) -> None:
        items = "".join(f"  \\item[{tex_escape(label)}] {self._cell(value)}\n" for label, value in facts)
        self.parts.append(f"\\begin{{description}}\n{items}\\end{{description}}\n\n")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        spec = "|" + "|".join(f">{{\\raggedright\\arraybackslash}}p{{\\rnwidth{{{len(columns)}}}}}"
                              for _ in columns) + "|"
        head = " & ".join(f"\\textbf{{{tex_escape(c)}}}" for c in columns) + " \\\\"
        body = "".join(" & ".join(self._cell(c) for c in row) + " \\\\ \\hline\n" for row in rows)
        self.parts.append(f"\\begin{{longtable}}{{{spec}}}\n\\hline\n{head}\n\\hline\n\\endhead\n{body}"
                          f"\\end{{longtable}}\n\n")

    def equation(self, math: Math, note: str = "") -> None:
        self.parts.append(f"\\begin{{equation*}}\n\\fiteq{{{math.latex}}}\n\\end{{equation*}}\n"
                          + (f"\\begin{{center}}\\small {tex_escape(note)}\\end{{center}}\n" if note else "") + "\n")

    def image(self, image: Image) -> None:
        pass

    def _cell(self, value: Any) -> str:
        if isinstance(value, Math):
            return f"${value.latex}$"
        return tex_escape(str(value))


class _Html(_Writer):
    def heading(self, level: int, text: str) -> None:
        self.parts.append(f"<h{level}>{html_escape(text)}</h{level}>\n")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"<p>{html_escape(text)}</p>\n")

    def facts(self, facts: Sequence[tuple[str, Any]]) -> None:
        rows = "".join(f"<tr><th>{html_escape(label)}</th><td>{self._cell(value)}</td></tr>" for label, value in facts)
        self.parts.append(f'<table class="rn-facts"><tbody>{rows}</tbody></table>\n')

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        head = "".join(f"<th>{html_escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{self._cell(c)}</td>" for c in row) + "</tr>\n" for row in rows)
        self.parts.append(f'<table class="rn-table"><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n')

    def equation(self, math: Math, note: str = "") -> None:
        self.parts.append(f'<div class="rn-equation">$${html_escape(math.latex)}$$'
                          f'<code>{html_escape(math.text)}</code>'
                          + (f'<span class="rn-flags">{html_escape(note)}</span>' if note else "") + "</div>\n")

    def image(self, image: Image) -> None:
        self.parts.append(html_image(image) + "\n")

    def _cell(self, value: Any) -> str:
        if isinstance(value, Math):
            return f"\\({html_escape(value.latex)}\\)"
        return html_escape(value)


_WRITERS = {".md": _Markdown, ".tex": _Latex, ".html": _Html, ".htm": _Html}


# ---------------------------------------------------------------------------
# content


def _model_labels(models: list[Any]) -> dict[int, str]:
    """A unique label per model: its name, numbered when several models share one."""
    counts: dict[str, int] = {}
    for model in models:
        counts[model.name] = counts.get(model.name, 0) + 1
    seen: dict[str, int] = {}
    labels = {}
    for model in models:
        if counts[model.name] > 1:
            seen[model.name] = seen.get(model.name, 0) + 1
            labels[id(model)] = f"{model.name} {seen[model.name]}"
        else:
            labels[id(model)] = model.name
    return labels


def _unique(objects: Sequence[Any]) -> list[Any]:
    found: dict[int, Any] = {}
    for obj in objects:
        found.setdefault(id(obj), obj)
    return list(found.values())


def _delays(proj: Any) -> str:
    try:
        delays = proj.delays
    except RatenetError:
        return ""
    if isinstance(delays, list) or np.ndim(delays):
        return f"{statistics(delays)} ms"
    return f"{format_number(delays)} ms" if delays else "none"




def _pattern(proj: Any) -> str:
    record = getattr(proj, "connector", None)
    return record.description if record is not None else "not connected"


def _groups(projections: list[Any], gather: bool) -> list[tuple[Any, list[Any]]]:
    """Projections, or with ``gather`` those between views of the same two populations as one row."""
    if not gather:
        return [(proj, [proj]) for proj in projections]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for proj in projections:
        key = (id(proj.pre.population), id(proj.post.population), proj.target, id(proj.synapse_type),
               _pattern(proj))
        groups.setdefault(key, []).append(proj)
    return [(members[0], members) for members in groups.values()]


def _inputs(net: Any) -> list[tuple[str, str]]:
    fed = {id(proj.post.population) for proj in net.projections}
    rows = []
    for pop in net.populations:
        description = input_description(pop)
        if description is not None:
            rows.append((pop.name, f"{type(pop).__name__}: {description}; r now {statistics(pop.r)}"))
        elif id(pop) not in fed:
            rows.append((pop.name, "receives no projection: its rates follow its own equations"))
    return rows


def _parameter_rows(obj: Any, names: Sequence[str]) -> list[list[str]]:
    rows = []
    for name in names:
        try:
            value = obj.get(name)
        except (RatenetError, AttributeError, KeyError):
            continue
        stats = statistics(value)
        rows.append([obj.name, name, str(stats)])
    return rows


def _batch_fact(net: Any, projections: Sequence[Any]) -> str:
    """The batch size in a phrase, and which projections keep one set of synaptic values per sample."""
    text = f"{net.batch} samples run at once (every population array has a leading axis of {net.batch})"
    own = [proj.name for proj in projections if getattr(proj, "batch", None) is not None]
    if own:
        text += f"; one set of synaptic values per sample in {', '.join(own)}"
    return text


def _write(writer: Any, net: Any, title: str | None, author: str | None, date: str | None, gather: bool) -> None:
    """The whole report; ``title=None`` leaves the head to the document (LaTeX's \\maketitle)."""
    pops = list(net.populations)
    projections = list(net.projections)
    if title is not None:
        writer.heading(1, title)
        if author or date:
            writer.paragraph(", ".join(p for p in (author, date) if p))
    neurons = sum(p.size for p in pops)
    counts = {id(proj): synapse_count(proj) for proj in projections}
    synapses = sum(c for c in counts.values() if c is not None)
    writer.heading(2, "Summary")
    writer.facts([("populations", f"{len(pops)} ({neurons} neurons)"),
                  ("projections", f"{len(projections)} ({synapses} synapses)"),
                  ("monitors", str(len(net.monitors))),
                  ("step size", f"{format_number(net.dt)} ms"),
                  ("time", f"{format_number(net.t)} ms ({net.get_current_step()} steps)"),
                  ("seed", "none" if net.seed is None else str(net.seed)),
                  ("precision", str(np.dtype(net.dtype)))]
                 + ([] if net.batch is None else [("batch", _batch_fact(net, projections))]))

    neuron_models = _unique([p.neuron_type for p in pops])
    users: dict[int, list[str]] = {}
    for p in pops:
        users.setdefault(id(p.neuron_type), []).append(p.name)
    neuron_labels = _model_labels(neuron_models)
    writer.heading(2, "Populations")
    writer.table(["population", "size", "geometry", "neuron model", "class"],
                 [[p.name, str(p.size), str(tuple(p.geometry)), neuron_labels[id(p.neuron_type)], type(p).__name__]
                  for p in pops])
    for p in pops:
        if len(tuple(p.geometry)) >= 2 and isinstance(writer, _Html):
            which = "" if net.batch is None else f", sample 0 of {net.batch}"
            image = activity_image(p.r if net.batch is None else p.r[0],
                                   f"r of {p.name}{which} at t = {format_number(net.t)} ms")
            if image is not None:
                writer.image(image)

    synapse_models = _unique([proj.synapse_type for proj in projections])
    proj_users: dict[int, list[str]] = {}
    for proj in projections:
        proj_users.setdefault(id(proj.synapse_type), []).append(proj.name)
    synapse_labels = _model_labels(synapse_models)
    writer.heading(2, "Projections")
    rows = []
    for proj, members in _groups(projections, gather):
        pre = proj.pre.population.name if len(members) > 1 else proj.pre.name
        post = proj.post.population.name if len(members) > 1 else proj.post.name
        count = sum(counts[id(m)] or 0 for m in members)
        name = proj.name if len(members) == 1 else f"{len(members)} sub-projections"
        rows.append([name, f"{pre} -> {post}", proj.target, synapse_labels[id(proj.synapse_type)], _pattern(proj),
                     "" if counts[id(proj)] is None else str(count), _delays(proj)])
    writer.table(["projection", "pre -> post", "target", "synapse", "connection pattern", "synapses", "delays"], rows)
    if projections:
        writer.paragraph("Each projection adds into sum(target) of its post-synaptic neurons what its synapse model "
                         "transmits (psp), read from the pre-synaptic population as it was at the end of the "
                         "previous step (or d steps earlier with a delay of d steps).")

    writer.heading(2, "Neuron models")
    for model in neuron_models:
        _model(writer, model, neuron_labels[id(model)], users[id(model)])
    if synapse_models:
        writer.heading(2, "Synapse models")
        for model in synapse_models:
            _model(writer, model, synapse_labels[id(model)], proj_users[id(model)])

    writer.heading(2, "Parameters")
    writer.paragraph("Current values (a single value when all neurons or synapses share it).")
    rows = []
    for p in pops:
        rows += _parameter_rows(p, p.parameters)
    for proj in projections:
        rows += _parameter_rows(proj, proj.synapse_type.parameter_names)
    if rows:
        writer.table(["object", "parameter", "value"], rows)
    else:
        writer.paragraph("No parameters.")
    if _CONSTANTS:
        writer.table(["constant", "value"], [[name, format_number(c.value)] for name, c in _CONSTANTS.items()])

    writer.heading(2, "Inputs")
    inputs = _inputs(net)
    if inputs:
        writer.table(["population", "input"], [list(row) for row in inputs])
    else:
        writer.paragraph("Every population receives projections.")

    if net.monitors:
        writer.heading(2, "Monitors")
        writer.table(["monitor", "records", "variables", "period"],
                     [[m.name, recorded_name(m.object), ", ".join(m.variables),
                       monitor_period(m)] for m in net.monitors])

    if _GLOBAL_FUNCTIONS:
        writer.heading(2, "Functions")
        writer.paragraph("Declared with add_function(), usable in every model:")
        for function in _GLOBAL_FUNCTIONS.values():
            writer.equation(Math(function_latex(function), function.source.text if function.source else
                                 function.name))


def _model(writer: Any, model: Any, label: str, users: list[str]) -> None:
    summary = model_summary(model)
    writer.heading(3, label)
    facts = [("used by", ", ".join(users))]
    facts += [(k, v) for k, v in summary.facts if k not in ("variables",)]
    writer.facts(facts)
    for block in summary.blocks:
        if isinstance(block, Table) and block.title == "Equations":
            writer.paragraph("Equations, in the order they run each step:")
            for row in block.rows:
                writer.equation(row[0], row[1])
        elif isinstance(block, Table) and block.title == "Functions":
            writer.paragraph("Functions:")
            for row in block.rows:
                writer.equation(row[0])
        elif isinstance(block, Table) and block.title == "Parameters":
            writer.table(["parameter", "symbol", "initial value", "locality", "type"], block.rows)
        elif isinstance(block, Table):
            writer.table(block.columns, block.rows)
        elif isinstance(block, Note):
            writer.paragraph(block.text)


# ---------------------------------------------------------------------------
# documents


_LATEX_HEAD = r"""\documentclass[a4paper,10pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{array,longtable}
\usepackage{graphicx}
\usepackage[margin=2cm]{geometry}
"""

_FITEQ = r"""% an equation wider than the text is scaled down to fit; n equal columns fill the text width
\providecommand{\fiteq}[1]{\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle #1$}}
\providecommand{\rnwidth}[1]{\dimexpr(\linewidth-#1\tabcolsep*2-#1\arrayrulewidth-\arrayrulewidth)/#1\relax}
"""


def _document(extension: str, body: str, title: str, author: str | None, date: str | None,
              standalone: bool) -> str:
    if extension == ".tex":
        if not standalone:
            return _FITEQ + body
        return (_LATEX_HEAD + _FITEQ + f"\\title{{{tex_escape(title)}}}\n\\author{{{tex_escape(author or '')}}}\n"
                f"\\date{{{tex_escape(date or '')}}}\n\\begin{{document}}\n\\maketitle\n" + body
                + "\n\\end{document}\n")
    if extension in (".html", ".htm"):
        style = (STYLE + ".ratenet{max-width:60em;margin:auto}.ratenet .rn-equation{margin:6px 0}"
                 ".ratenet .rn-equation code{display:block;opacity:0.7}.ratenet .rn-flags{display:block;"
                 "font-style:italic;opacity:0.7}.ratenet h1,.ratenet h2,.ratenet h3{font-weight:600}")
        fragment = f'<div class="ratenet"><style>{style}</style>\n{body}</div>\n'
        if not standalone:
            return fragment
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/>\n"
                f"<title>{html_escape(title)}</title>\n"
                "<script>window.MathJax = {tex: {inlineMath: [['\\\\(', '\\\\)']], "
                "displayMath: [['$$', '$$']]}};</script>\n"
                f'<script id="MathJax-script" async="async" src="{MATHJAX}"></script>\n'
                f"</head><body>\n{fragment}</body></html>\n")
    return body.lstrip("\n")


def _in_notebook() -> bool:
    """Whether we run in a Jupyter kernel (IPython is looked up, never imported, to find out)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def report(network: Any = None, filename: str | os.PathLike[str] | None = None, standalone: bool = True,
           gather_subprojections: bool = False, title: str | None = None, author: str | None = None,
           date: str | None = None, net_id: int = 0) -> str | None:
    """Describe a network: populations, projections, models and their equations, parameters, inputs.

    Parameters
    ----------
    network : Network, optional
        The network to describe; the default network when omitted.  As in
        ANNarchy 4, a file name may come first instead: ``report("model.md")``.
    filename : str or path, optional
        ``.md`` (Markdown, equations between ``$$``), ``.tex`` (LaTeX, compiles
        with pdflatex) or ``.html`` (a page that typesets the equations with
        MathJax).  Without one, the Markdown is shown in a notebook and
        returned elsewhere.
    standalone : bool
        A complete document (LaTeX preamble, HTML page); otherwise a body
        to include in another document.
    gather_subprojections : bool
        Describe projections between views of the same two populations (same
        target, synapse and pattern) in one row.
    title, author, date : str, optional
        For the document's head.
    net_id : int
        ANNarchy 4's network id; accepted for compatibility (0 is the default
        network).

    Returns
    -------
    str or None
        The Markdown when there is no file name and no notebook to show it
        in; otherwise None.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> inp = net.create(10, Neuron(parameters="r = 0.0"), name="input")
    >>> out = net.create(10, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = sum(exc)"),
    ...                  name="output")
    >>> proj = net.connect(inp, out, "exc").connect_one_to_one(weights=0.5)
    >>> text = report(net)
    >>> print(text.splitlines()[0])
    # Network report
    >>> "one-to-one with weights 0.5" in text and r"\\tau \\, \\frac{dr}{dt} + r = \\Sigma_{\\mathrm{exc}}" in text
    True
    """
    if isinstance(network, (str, os.PathLike)):  # ANNarchy 4's order: report(filename, standalone, ...)
        if filename is not None and not isinstance(filename, bool):
            raise ValidationError("report", "filename", "is given twice (first argument and filename=)",
                                  got=filename)
        if isinstance(filename, bool):
            standalone = filename
        network, filename = None, network
    if network is None:
        if net_id not in (0, None):
            raise ValidationError("report", "net_id", "only the default network (0) has an id; pass the Network "
                                                      "itself as the first argument", got=net_id)
        network = default_network()
    if not isinstance(network, Network):
        raise ValidationError("report", "network", "must be a Network (or a file name, as in ANNarchy 4)",
                              got=network)
    path = os.fspath(filename) if filename is not None else None
    extension = os.path.splitext(path)[1].lower() if path is not None else ".md"
    if extension not in _WRITERS:
        raise ValidationError("report", "filename", "must end with .md, .tex or .html", got=path)
    title = title or (f"Network {network.name}" if network.name else "Network report")
    writer = _WRITERS[extension]()
    own_head = extension == ".tex" and standalone  # \\maketitle writes title, author and date
    _write(writer, network, None if own_head else title, author, date, gather_subprojections)
    document = _document(extension, writer.text(), title, author, date, standalone)
    if path is not None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(document)
        return None
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(document))
        return None
    return document
