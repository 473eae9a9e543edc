"""Convolution (cross-correlation) of ``pre`` with a filter or a bank of filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..equations import classify, is_product_of, symbols
from ..exceptions import ValidationError
from ._convolution_kernel import ConvolutionKernel
from ._shared import KernelProjection, psp_function
from .record import records_connector

if TYPE_CHECKING:  # pragma: no cover
    from ..population import Population

__all__ = ["Convolution"]


class Convolution(KernelProjection):
    """Cross-correlate ``pre`` with a kernel into ``post``'s ``sum(target)``.

    ``out[i] = sum_k w[k] * pre[i + k - c]`` with no kernel flip; the centre
    ``c`` is ``K // 2`` for an odd size and ``K // 2 - 1`` for an even one.
    See :meth:`connect_filter` and :meth:`connect_filters` for the shapes.

    Parameters
    ----------
    pre, post : Population
    target : str
    psp : str
        The product of one pre value and one weight; ``"pre.r * w"`` by default.
    operation : {"sum", "max", "min", "mean"}
        How the products of a window combine.
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> inp = net.create((3, 3), Neuron(parameters="r = 0.0"))
    >>> out = net.create((3, 3), Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(Convolution(inp, out, "exc")).connect_filter(np.ones((3, 3)) / 9)
    >>> inp.r = np.ones((3, 3))
    >>> net.simulate(2.0); out.r.round(3)
    array([[0.444, 0.667, 0.444],
           [0.667, 1.   , 0.667],
           [0.444, 0.667, 0.444]])
    """

    connectors = "connect_filter() or connect_filters()"
    operations = ("sum", "max", "min", "mean")

    def __init__(self, pre: "Population", post: "Population", target: str = "exc", psp: str = "pre.r * w",
                 operation: str = "sum", name: str | None = None, copied: bool = False) -> None:
        owner, tree = self._checked_arguments(pre, post, psp, operation, ("w", "pre.r"), name)
        for symbol in symbols(tree):
            if classify(symbol)[0] == "pre" and symbol != "_pre_r":
                raise ValidationError(owner, "psp", "may only read pre.r and w", got=psp)
        super().__init__(pre, post, target, name=name)
        self.operation = operation
        self.psp = psp.strip()
        self._psp_tree = tree

    def _connect_kernel(self, weights: Any, bank: bool, delays: float, keep_last_dimension: bool,
                        padding: float | str, subsampling: Sequence[Sequence[int]] | None) -> "Convolution":
        self._check_unconnected()
        tree = self._psp_tree
        default = is_product_of(tree, "w", "_pre_r")
        psp = None if default else psp_function(tree, ("_pre_r", "w"), f"psp of {self.name}")
        self._kernel = ConvolutionKernel(self.pre.geometry, self.post.geometry, weights, bank=bank,
                                         keep_last_dimension=keep_last_dimension, padding=padding,
                                         subsampling=subsampling, operation=self.operation, psp=psp,
                                         dtype=self.network.dtype, owner=self._owner())
        self._set_delay(delays)
        self._state.track("weights")
        self._ready = True  # from now on, an unknown attribute is an error
        self._changed()
        return self

    @records_connector("Convolution", lambda proj: {"operation": proj.operation})
    def connect_filter(self, weights: Any, delays: float = 0.0, keep_last_dimension: bool = False,
                       padding: float | str = 0.0, subsampling: Sequence[Sequence[int]] | None = None) -> "Convolution":
        """Apply one filter.

        Parameters
        ----------
        weights : array_like
            The kernel.  Same rank as pre: plain N-D correlation (a
            ``(3, 3, 1)`` kernel smooths each channel separately).  When post
            has one dimension less than pre, the kernel's last axis spans pre's
            last axis and is summed away.  A kernel of rank ``pre - 1`` needs
            ``keep_last_dimension=True`` and is applied to each last-axis
            slice.
        delays : float
            Uniform delay in ms.
        keep_last_dimension : bool
        padding : float or "border"
            Value of the pixels outside pre, or ``"border"`` to repeat the edge.
        subsampling : list of coordinates, optional
            Pre coordinates of the kernel centre for each post neuron; by
            default the stride ``pre/post`` per axis (exact division required),
            centre ``int((s - 1) / 2) + s * i``.
        """
        return self._connect_kernel(weights, False, delays, keep_last_dimension, padding, subsampling)

    @records_connector("Convolution (bank of filters)", lambda proj: {"operation": proj.operation})
    def connect_filters(self, weights: Any, delays: float = 0.0, keep_last_dimension: bool = False,
                        padding: float | str = 0.0, subsampling: Sequence[Sequence[int]] | None = None
                        ) -> "Convolution":
        """Apply a bank of filters: ``weights[f]`` is filter f and fills ``post[..., f]``."""
        return self._connect_kernel(weights, True, delays, keep_last_dimension, padding, subsampling)

    filter = connect_filter
    filters = connect_filters

    @property
    def weights(self) -> np.ndarray:
        """The filter (or bank); assign to change it during a simulation."""
        return self._require_kernel().weights.copy()

    @weights.setter
    def weights(self, value: Any) -> None:
        self._require_kernel().weights = value
        self._changed("weights")

    w = weights

    def _weight_reads(self) -> list[Any]:
        return [(self._state, "weights")]

    def _batch_kernel(self, batch: int) -> Callable[[np.ndarray, np.ndarray], None]:
        kernel = self._require_kernel()
        return lambda pre, out: kernel.compute_batch(pre, out)

    def _pre_values(self, sources: Any, shape: tuple[int, ...] | None = None) -> Callable[[], np.ndarray]:
        return sources.array(self.pre, "r", self._delay_steps())

    def _receptive_field(self, post_rank: int) -> np.ndarray:
        return self._require_kernel().receptive_field(post_rank)[0]

    def _describe(self) -> str:
        kernel = self._require_kernel()
        return f"correlation of pre.r with a {'bank ' if getattr(kernel, 'bank', False) else ''}" \
               f"{tuple(np.shape(kernel.weights))} kernel ({self.operation})"
