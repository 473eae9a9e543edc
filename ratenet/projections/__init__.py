"""Projections: ordinary (dense or sparse) ones and image-processing ones.

``Convolution`` and ``Pooling`` are loaded on first use, so that ``import
ratenet`` does not pay for ``scipy.ndimage``.
"""

from __future__ import annotations

from typing import Any

from .connectors import LILConnectivity
from .projection import Dendrite, Projection

__all__ = ["Projection", "Dendrite", "LILConnectivity", "Convolution", "Pooling", "Copy", "Transpose"]

_LAZY = {"Convolution": ".convolution", "Pooling": ".pooling", "Copy": ".copy", "Transpose": ".copy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
