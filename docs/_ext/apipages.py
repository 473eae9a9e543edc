"""Write the API reference's index from the public names of ratenet.

Every name in ``ratenet.__all__`` and in the ``__all__`` of the public
submodules gets an autosummary entry, so a page is generated for each; names
are grouped by the module that defines them, in the order of ``__all__``.  A
public name added to ratenet therefore appears in the reference without anyone
editing the docs.  Runs at ``builder-inited``, before autosummary reads the
page it writes.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path
from typing import Any

#: Submodules documented in their own sections (the names they add to ratenet's own).
PUBLIC_SUBMODULES = {
    "ratenet.projections": "Image processing projections and weight sharing (``ratenet.projections``)",
    "ratenet.image": "Image and video input (``ratenet.image``)",
    "ratenet.models": "ANNarchy's standard models (``ratenet.models``)",
    "ratenet.tensorboard": "Logging for TensorBoard (``ratenet.tensorboard``, an optional extra)",
}

#: Section titles for the modules that define ratenet's top-level names.  A module missing here
#: is titled by the first line of its docstring.
TITLES = {
    "ratenet.network": "Networks and simulation",
    "ratenet.api": "Networks and simulation",
    "ratenet.neurons": "Models: neurons, synapses, functions and constants",
    "ratenet.population": "Populations",
    "ratenet.projections.projection": "Projections",
    "ratenet.projections.connectors": "Projections",
    "ratenet.monitor": "Monitors",
    "ratenet.io": "Saving and loading",
    "ratenet.parameter_files": "Saving and loading",
    "ratenet.random": "Random distributions",
    "ratenet.exceptions": "Errors",
    "ratenet.parallel": "Many runs: parallel_run and parameter sweeps",
    "ratenet.sweeps": "Many runs: parallel_run and parameter sweeps",
}

HEADER = """\
.. This file is written by docs/_ext/apipages.py at every build: edit that file, not this one.

API reference
=============

Every public name of ratenet, grouped by what it is for.  ``from ratenet import *`` brings in
the names of the first sections; the image-processing projections and the image populations
live in the submodules :mod:`ratenet.projections` and :mod:`ratenet.image`, ANNarchy's standard models
also in :mod:`ratenet.models`; ``np`` is NumPy, as ``from ANNarchy import *`` gives it.  Every page shows
the signature, the parameters and a short example that the test suite runs.

"""


def _title(module_name: str) -> str:
    if module_name in TITLES:
        return TITLES[module_name]
    doc = inspect.getdoc(importlib.import_module(module_name)) or module_name
    return doc.strip().splitlines()[0].rstrip(".")


def _template(obj: Any) -> str | None:
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exception.rst"
    return None


def _block(current: str, names: list[str], objects: dict[str, Any]) -> str:
    lines = [f".. currentmodule:: {current}", ""]
    groups: dict[str | None, list[str]] = {}
    for name in names:
        groups.setdefault(_template(objects[name]), []).append(name)
    for template, members in groups.items():
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:"]
        if template:
            lines.append(f"   :template: {template}")
        lines += [""] + [f"   {name}" for name in members] + [""]
    return "\n".join(lines) + "\n"


def _callable_modules(ratenet: Any, names: list[str]) -> str:
    """``ratenet.projections`` is a submodule that can be called as ANNarchy's function."""
    text = ""
    home = importlib.import_module(ratenet.populations.__module__)
    for name in names:
        function = getattr(home, name, None)
        text += (f"\n``ratenet.{name}`` is the submodule :mod:`ratenet.{name}`; called, "
                 f"``ratenet.{name}(...)`` runs the function below.\n\n")
        if function is not None:
            text += f".. autofunction:: {function.__module__}.{name}\n\n"
    return text


def _underline(title: str, char: str) -> str:
    return f"{title}\n{char * len(title)}\n\n"


def api_index() -> str:
    """The text of ``api/index.rst``."""
    ratenet = importlib.import_module("ratenet")
    sections: dict[str, list[str]] = {}
    objects: dict[str, Any] = {}
    callable_modules: list[str] = []
    for name in ratenet.__all__:
        obj = getattr(ratenet, name)
        if isinstance(obj, types.ModuleType):
            if callable(obj):
                # ratenet.projections is both a submodule and ANNarchy's projections() function.
                callable_modules.append(name)
            continue  # other submodules have their own section; ``np`` is NumPy (given as ANNarchy gives it)
        objects[name] = obj
        sections.setdefault(_title(obj.__module__), []).append(name)
    text = HEADER
    for title, names in sections.items():
        text += _underline(title, "-") + _block("ratenet", names, objects)
        if title == TITLES["ratenet.network"]:
            text += _callable_modules(ratenet, callable_modules)
    for module_name, title in PUBLIC_SUBMODULES.items():
        module = importlib.import_module(module_name)
        own = [n for n in module.__all__ if n not in ratenet.__all__]
        again = [n for n in module.__all__ if n in ratenet.__all__]
        text += _underline(title, "-") + f".. module:: {module_name}\n\n"
        doc = (inspect.getdoc(module) or "").strip().split("\n\n")[0]
        text += doc + "\n\n"
        if again:
            text += ("It also exports " + ", ".join(f":class:`ratenet.{n}`" for n in again) + ".\n\n")
        text += _block(module_name, own, {n: getattr(module, n) for n in own})
    return text


def write_api_index(app: Any, config: Any) -> None:
    path = Path(app.srcdir) / "api" / "index.rst"
    path.parent.mkdir(exist_ok=True)
    text = api_index()
    if not path.exists() or path.read_text() != text:  # unchanged: keep Sphinx's cache valid
        path.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", write_api_index)  # before Sphinx looks for source files
    return {"parallel_read_safe": True, "parallel_write_safe": True}
