"""Projections: ordinary (dense or sparse) ones and image-processing ones.

``Convolution`` and ``Pooling`` are loaded on first use, so that ``import
ratenet`` does not pay for ``scipy.ndimage``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .connectors import LILConnectivity
from .projection import Dendrite, Projection

__all__ = ["Projection", "Dendrite", "LILConnectivity", "Convolution", "Pooling", "Copy", "Transpose"]

_LAZY = {"Convolution": ".convolution", "Pooling": ".pooling", "Copy": ".copy", "Transpose": ".copy"}


class _CallableModule(types.ModuleType):
    """This package, callable as ANNarchy's ``projections()`` function.

    ``from ratenet import *`` and ``ratenet.projections`` give this package
    (Python binds a subpackage to the parent's attribute of the same name), so
    calling it returns the default network's projections, as the module-level
    function of the same name does in ANNarchy.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        from ..network import projections

        return projections(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
