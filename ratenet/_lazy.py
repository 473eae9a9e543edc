"""Modules imported on first use, so that ``import ratenet`` stays quick.

Most of the time of ``import ratenet`` goes into reading compiled code.  The
parts a first network does not need (the kernels of ``Convolution`` and
``Pooling``, the displays, reports, parallel runs, sweeps, the shortcuts of
learning rules) are therefore imported the first time they are used, the way
Scientific Python's SPEC 1 does it (a package ``__getattr__``, PEP 562):

- :func:`attach` gives a package the ``__getattr__`` and ``__dir__`` that
  import a submodule, or the submodule holding a public name, when the name is
  first looked up.  ``from package import name``, ``package.name``,
  ``from package import *`` (through ``__all__``) and ``dir(package)`` all work.
- :class:`LazyModule` stands for a module inside another module: its first
  attribute lookup imports the module.  A module writes
  ``_plots = LazyModule("ratenet.display.plots")`` where it would write
  ``from .display import plots as _plots``, and imports the module under
  ``if TYPE_CHECKING:`` for mypy.

``tools/import_graph.py`` lists these edges apart, as lazy ones.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


class LazyModule:
    """A module imported the first time one of its attributes is looked up.

    Parameters
    ----------
    name : str
        The module's absolute name.

    Examples
    --------
    >>> textwrap = LazyModule("textwrap")
    >>> textwrap.dedent("  a")
    'a'
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.name), attribute)

    def __repr__(self) -> str:
        return f"<module {self.name!r}, imported on first use>"


def attach(package: str, submodules: list[str], names: dict[str, str],
           namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose submodules are imported on first use.

    Parameters
    ----------
    package : str
        The package's name (its ``__name__``).
    submodules : list of str
        Submodules the package gives as attributes, imported on first use.
    names : dict
        Public name -> the submodule (relative to the package) that defines it.
    namespace : dict
        The package's ``globals()``: the names it defines itself, for ``__dir__``.

    Returns
    -------
    (__getattr__, __dir__)

    Examples
    --------
    >>> getattr_, dir_ = attach("json", ["decoder"], {"JSONDecoder": "decoder"}, {})
    >>> getattr_("JSONDecoder").__name__
    'JSONDecoder'
    """

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(submodules) | set(names))

    return __getattr__, __dir__
