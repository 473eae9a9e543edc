"""Pooling: max, min or mean over non-overlapping windows of ``pre``."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..equations import classify, symbols
from ..exceptions import ValidationError
from ._pooling_kernel import PoolingKernel
from ._shared import KernelProjection, psp_function
from .record import records_connector

if TYPE_CHECKING:  # pragma: no cover
    from ..population import Population

__all__ = ["Pooling"]


class Pooling(KernelProjection):
    """Pool ``pre`` over windows into ``post``'s ``sum(target)``.

    Post neuron ``i`` (per axis) pools over pre indices ``[i*e, (i+1)*e)``,
    where the extent ``e`` is ``pre.geometry / post.geometry`` unless given.

    Parameters
    ----------
    pre, post : Population
    target : str
    psp : str
        What is pooled, over ``pre.<variable>``; ``"pre.r"`` by default.
    operation : {"max", "min", "mean"}
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> inp = net.create((4, 4), Neuron(parameters="r = 0.0"))
    >>> out = net.create((2, 2), Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(Pooling(inp, out, "exc", operation="mean")).connect_pooling()
    >>> inp.r = np.arange(16.0).reshape(4, 4)
    >>> net.simulate(2.0); out.r
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """

    connectors = "connect_pooling()"
    operations = ("max", "min", "mean")

    def __init__(self, pre: "Population", post: "Population", target: str = "exc", psp: str = "pre.r",
                 operation: str = "max", name: str | None = None, copied: bool = False) -> None:
        _, self._psp_tree = self._checked_arguments(pre, post, psp, operation, ("pre.<variable>",), name)
        super().__init__(pre, post, target, name=name)
        self.operation = operation
        self.psp = psp.strip()
        for symbol in symbols(self._psp_tree):
            kind = classify(symbol)
            if kind[0] == "pre" and kind[1] not in pre.attributes:
                raise ValidationError(self._owner(), "psp", f"reads pre.{kind[1]}, which '{pre.name}' does not have "
                                                            f"(it has: {', '.join(pre.attributes)})")

    @records_connector("Pooling", lambda proj: {"operation": proj.operation, "extent": proj.extent})
    def connect_pooling(self, extent: Sequence[int] | None = None, delays: float = 0.0) -> "Pooling":
        """Build the windows; ``extent`` per pre axis (``pre.geometry / post.geometry`` by default)."""
        self._check_unconnected()
        self._kernel = PoolingKernel(self.pre.geometry, self.post.geometry, extent, operation=self.operation,
                                     dtype=self.network.dtype, owner=self._owner())
        self._batch_kernels: dict[int, PoolingKernel] = {}
        self._set_delay(delays)
        self._ready = True  # from now on, an unknown attribute is an error
        self._changed()
        return self

    pooling = connect_pooling

    @property
    def extent(self) -> tuple[int, ...]:
        """Window size per pre axis."""
        return self._require_kernel().extent

    def _batch_kernel(self, batch: int) -> Callable[[np.ndarray, np.ndarray], None]:
        # A pooling kernel has no weights to share: one batched kernel per batch size (its buffers stay bound).
        kernel = self._batch_kernels.get(batch)
        if kernel is None:
            kernel = self._batch_kernels[batch] = PoolingKernel(
                self.pre.geometry, self.post.geometry, self.extent, operation=self.operation,
                dtype=self.network.dtype, owner=self._owner(), batch=batch)
        return kernel.compute

    def _pre_values(self, sources: Any, shape: tuple[int, ...] | None = None) -> Callable[[], np.ndarray]:
        tree = self._psp_tree
        delay = self._delay_steps()
        if isinstance(tree, ast.Name) and tree.id == "_pre_r":
            return sources.array(self.pre, "r", delay)
        names = sorted(s for s in symbols(tree) if classify(s)[0] == "pre")
        evaluate = psp_function(tree, tuple(names), f"psp of {self.name}")
        readers = [sources.array(self.pre, classify(s)[1], delay) for s in names]
        shape = self.pre.geometry if shape is None else shape
        return lambda: np.broadcast_to(evaluate(*[get() for get in readers]), shape)

    def _receptive_field(self, post_rank: int) -> np.ndarray:
        return self._require_kernel().receptive_field(post_rank)

    def _describe(self) -> str:
        return f"{self.operation}-pooling of {self.psp} over {self.extent}"
