"""Projections: ordinary (dense or sparse) ones and image-processing ones.

``Convolution`` and ``Pooling`` (and their kernels) are imported on first use
(see ratenet/_lazy.py), and import ``scipy.ndimage`` only when their kernels
first need it, so ``import ratenet`` does not pay for them.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import attach
from ..registry import default_network
from .connectors import LILConnectivity
from .copy import Copy, Transpose
from .projection import Dendrite, Projection, select

if TYPE_CHECKING:  # pragma: no cover
    from . import convolution, pooling  # noqa: F401 (for mypy)
    from .convolution import Convolution
    from .pooling import Pooling

__all__ = ["Projection", "Dendrite", "LILConnectivity", "Convolution", "Pooling", "Copy", "Transpose"]


class _CallableModule(types.ModuleType):
    """This package, callable as ANNarchy's ``projections()`` function.

    ``from ratenet import *`` and ``ratenet.projections`` give this package
    (Python binds a subpackage to the parent's attribute of the same name), so
    calling it returns the default network's projections, as the module-level
    function of the same name does in ANNarchy.
    """

    def __call__(self, net_id: int = 0, post: Any = None, pre: Any = None, target: str | None = None,
                 suppress_error: bool = False) -> list[Any]:
        return select(default_network().projections, post=post, pre=pre, target=target)


__getattr__, __dir__ = attach(__name__, ["convolution", "pooling"],
                              {"Convolution": "convolution", "Pooling": "pooling"}, globals())

sys.modules[__name__].__class__ = _CallableModule
