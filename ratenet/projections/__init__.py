"""Projections: ordinary (dense or sparse) and image-processing ones."""

from __future__ import annotations

from .connectors import LILConnectivity
from .projection import Dendrite, Projection

__all__ = ["Projection", "Dendrite", "LILConnectivity"]
