"""Projections: ordinary (dense or sparse) ones and image-processing ones.

``Convolution`` and ``Pooling`` import ``scipy.ndimage`` only when their
kernels first need it, so importing them costs little.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..registry import default_network
from .connectors import LILConnectivity
from .convolution import Convolution
from .copy import Copy, Transpose
from .pooling import Pooling
from .projection import Dendrite, Projection, select

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


sys.modules[__name__].__class__ = _CallableModule
