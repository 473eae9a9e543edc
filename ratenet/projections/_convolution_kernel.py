"""The numerical core of :class:`~ratenet.projections.Convolution`.

This module knows nothing about populations or networks: it maps a pre-synaptic
array of shape ``pre_shape`` to a post-synaptic array of shape ``post_shape``
through one shared kernel (or a bank of kernels), following DESIGN.md section 5:

* cross-correlation without flipping the kernel,
  ``out[i] = op_k psp(pre[centre(i) + k - c], w[k])``, where the centre tap of
  an axis of length ``K`` is ``c = K // 2`` for odd ``K`` and ``K // 2 - 1``
  for even ``K`` (the extra tap lies on the ``+`` side);
* pixels outside ``pre`` are *virtual*: they hold the padding value (a float)
  or repeat the nearest edge pixel (``padding='border'``);
* ``sum``, ``max``, ``min`` and ``mean`` reduce over every tap of the window,
  virtual pixels included; ``mean`` divides by the number of taps of one
  filter.

How the kernel's dimensions relate to ``pre`` and ``post``
(``n = len(pre_shape)``; for a bank, "post" below means ``post_shape[:-1]``,
the shape of one filter's result, and ``post_shape[-1]`` is the number of
filters):

==========================  ========================  ==============================
filter rank                 post rank                 meaning
==========================  ========================  ==============================
``n``                       ``n``                     N-D correlation
``n``                       ``n - 1``                 the filter's last axis spans
                                                      pre's last axis, which the
                                                      sum collapses
``n - 1`` with              ``n``, same last axis     the filter is applied to every
``keep_last_dimension``     as pre                    last-axis slice separately
==========================  ========================  ==============================

Choices where ANNarchy is silent or inconsistent (documented here, tested in
``tests/projections/test_convolution_kernel.py``):

* A bank of filters of rank ``n - 1`` with ``keep_last_dimension=True`` applies
  every filter to every last-axis slice, so ``post`` is ``pre_shape + (F,)``
  (e.g. pre (H, W, C), bank (F, 3, 3) -> post (H, W, C, F)).  ANNarchy accepts
  the flags but builds an inconsistent connectivity.
* ``keep_last_dimension=True`` with a filter of the same rank as ``pre`` is
  accepted and changes nothing when ``post`` has the rank of ``pre`` (what
  ANNarchy does); it is an error when ``post`` would collapse the last axis.
* A kernel larger than ``pre`` along some axis is accepted: its outer taps read
  virtual pixels only.
* The last axis kept by ``keep_last_dimension`` is never subsampled: post's last
  axis must equal pre's.
* With explicit ``subsampling`` the centres are full pre coordinates, so the
  table above does not apply to post: its shape (without the filter axis of a
  bank) only has to hold one neuron per centre.  ANNarchy still checks ranks.
* Explicit centres may lie anywhere inside ``pre`` (not outside), so a filter
  spanning the channel axis may also read virtual channels.

Speed.  The plan is chosen once, when the kernel is built or its weights change,
by comparing rough cost estimates measured on the project's 2-core machines.
The choice depends only on shapes and weights, never on a timing taken at run
time, so a given configuration always runs the same arithmetic.  Every path
agrees with the others to ~1e-14 for values of order 1 (summation order and, for
``fft``, roundoff differ).  Buffers are allocated when planning; per call, only
``fft`` and a custom ``psp`` allocate.

``matmul``
    1x1 filters (only the collapsed channel axis is longer than 1): one matrix
    product ``pre.reshape(-1, C) @ W.T``.
``shifted``
    one filter, no subsampling, no collapse: sums of shifted views of the
    padded input, one pass per separable factor (or one pass over every tap).
    Taps of equal weight are summed before one multiplication (a box filter is
    additions and one scaling) and zero taps are skipped, as
    :mod:`scipy.ndimage` does (so an infinite input next to a zero tap does not
    turn into NaN).  No SciPy, no copy of the windows: a few NumPy calls, which
    wins for small inputs and for cheap separable kernels.
``ndimage``
    the same configurations: :func:`scipy.ndimage.correlate` straight into
    ``out``.
``separable``
    the same configurations with a rank-1 kernel over two axes: two
    :func:`scipy.ndimage.correlate1d` passes.
``im2col``
    anything else with ``psp=None`` and ``sum``/``mean``: the windows of a block
    of positions are copied into a (taps x positions) matrix and multiplied by
    all filters at once with BLAS; only the requested centres are gathered,
    so subsampling costs in proportion to the post size.
``fft``
    large kernels: the correlation of the padded input through
    :mod:`scipy.fft`, read at the centres.
``direct``
    the general path (custom ``psp``, ``max``, ``min``): one pass per tap over
    all positions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ratenet.exceptions import ValidationError

__all__ = ["ConvolutionKernel", "OPERATIONS", "STRATEGIES"]

#: Reductions over the window.  ``mean`` accumulates like ``sum`` and is divided
#: by the number of taps at the end.
OPERATIONS: dict[str, np.ufunc] = {
    "sum": np.add,
    "mean": np.add,
    "max": np.maximum,
    "min": np.minimum,
}

#: Every way ``compute`` can be carried out (see the module docstring).
def _scipy(name: str) -> Any:
    """``scipy.fft`` or ``scipy.ndimage``, imported on first use (they take a while to load)."""
    import importlib

    return importlib.import_module(f"scipy.{name}")


def _fast_length(n: int) -> int:
    """The smallest 5-smooth integer >= n: a length FFTs handle quickly."""
    best = 1
    while best < n:
        best *= 2
    f5 = 1
    while f5 < best:
        f3 = f5
        while f3 < best:
            f2 = f3
            while f2 < n:
                f2 *= 2
            best = min(best, f2)
            f3 *= 3
        f5 *= 5
    return best


STRATEGIES: tuple[str, ...] = ("matmul", "shifted", "ndimage", "separable", "im2col", "fft", "direct")

# Rough costs in nanoseconds, measured with benchmarks/bench_convolution_kernel.py
# on the reference machine (AMD EPYC, one core, float64).  Only their ratios
# matter: they decide between paths that all give the same result.
_NS_NDIMAGE_TAP = 0.75  # ndimage.correlate, per output point and non-zero tap
_NS_PASS_TAP = 0.85  # ndimage.correlate1d, per point and tap of one pass
_NS_PASS_POINT = 0.1  # ndimage.correlate1d, per point of one pass
_NS_GATHER = 0.35  # im2col, copying one window element
_NS_MAC = 0.13  # im2col, one multiply-add inside BLAS (at least 2 per element)
_NS_FFT = 0.56  # one real FFT, per element and log2(element count)
_NS_CALL = 3_000.0  # fixed cost of a Python-level call into NumPy/SciPy
_SCIPY_MARGIN = 1.25  # how much faster a SciPy strategy must be than a NumPy one to be chosen
_NS_COPY_CALL = 500.0  # fixed cost of one np.copyto between prepared views
_NS_UFUNC_CALL = 1_500.0  # shifted: fixed cost of one ufunc call on prepared views
_NS_UFUNC_ELEMENT = 0.45  # shifted: one element of a binary ufunc, arrays within the L2 cache
_NS_UFUNC_ELEMENT_FAR = 0.8  # the same for arrays larger than _CACHE_BYTES
_CACHE_BYTES = 512 * 1024

# im2col fills about this many window elements per block: large enough for
# efficient BLAS calls, small enough for the block to stay in cache.
_BLOCK_ELEMENTS = 1 << 18

# A kernel counts as rank 1 when its best rank-1 approximation differs from it
# by at most this many units of roundoff (of the working dtype) relative to its
# largest weight: for float64 the separable result then stays within ~1e-14 of
# the exact correlation for inputs of order 1.
_SEPARABLE_ULPS = 4


def _shifted_view(source: np.ndarray, axis: int | None, offset: int | tuple[int, ...],
                  shape: Sequence[int]) -> np.ndarray:
    """The block of ``source`` of size ``shape`` starting at ``offset`` along ``axis``
    (a tap index along every axis when ``axis`` is None)."""
    if axis is None:
        assert isinstance(offset, tuple)
        return source[tuple(slice(o, o + n) for o, n in zip(offset, shape))]
    assert isinstance(offset, int)
    return source[(slice(None),) * axis + (slice(offset, offset + shape[axis]),)]


def _centre_tap(size: int) -> int:
    """Index of the centre tap of an axis with ``size`` taps (DESIGN.md section 5)."""
    return size // 2 if size % 2 == 1 else size // 2 - 1


class ConvolutionKernel:
    """One shared kernel (or a bank of kernels) applied to a pre-synaptic array.

    Parameters
    ----------
    pre_shape, post_shape : tuple of int
        Shapes of the pre-synaptic input and of the post-synaptic result.
    weights : array_like
        The kernel; for a bank, ``weights[f]`` is filter ``f``.
    bank : bool, optional
        ``weights`` is a bank of filters whose results go to ``post[..., f]``.
    keep_last_dimension : bool, optional
        Apply a filter with one dimension less than ``pre`` to every slice of
        pre's last axis separately (post keeps that axis).
    padding : float or 'border', optional
        Value of the virtual pixels outside ``pre``, or ``'border'`` to repeat
        the nearest edge pixel.
    subsampling : sequence of sequences of int, optional
        Explicit kernel centres (pre coordinates) in post rank order: one per
        post neuron, or for a bank one per spatial position.  By default the
        stride along each axis is ``pre_shape[d] // post_shape[d]`` and the
        centre of post index ``i`` is ``(s - 1) // 2 + s * i``.
    operation : {'sum', 'max', 'min', 'mean'}, optional
        Reduction over the window.
    psp : callable, optional
        ``psp(pre_values, w_values)`` for arrays of equal shape, elementwise;
        ``None`` means ``pre_values * w_values``.
    dtype : numpy dtype, optional
        float32 or float64, the dtype of ``pre`` and ``out``.
    owner : str, optional
        Name used in error messages.
    strategy : str, optional
        Force one of :data:`STRATEGIES` instead of the automatic choice (for
        tests and benchmarks).

    Notes
    -----
    The object keeps scratch buffers, so one instance must not run
    :meth:`compute` from two threads at once.

    Examples
    --------
    A 3-tap moving sum on 1-D data with zero padding:

    >>> import numpy as np
    >>> k = ConvolutionKernel((5,), (5,), [1.0, 1.0, 1.0])
    >>> out = np.empty(5)
    >>> k.compute(np.arange(5.0), out)
    >>> out
    array([1., 3., 6., 9., 7.])

    The tutorial's colour-opponent bank: three 1x1x3 filters, each collapsing
    the colour axis of a (48, 64, 3) image into one feature map:

    >>> bank = np.array([[[[2., -1., -1.]]], [[[-1., 2., -1.]]], [[[-1., -1., 2.]]]])
    >>> k = ConvolutionKernel((48, 64, 3), (48, 64, 3), bank, bank=True)
    >>> k.strategy
    'matmul'
    >>> pre = np.zeros((48, 64, 3)); pre[..., 0] = 1.0   # pure red
    >>> out = np.empty((48, 64, 3))
    >>> k.compute(pre, out)
    >>> out[0, 0]
    array([ 2., -1., -1.])
    """

    def __init__(
        self,
        pre_shape: Sequence[int],
        post_shape: Sequence[int],
        weights: ArrayLike,
        *,
        bank: bool = False,
        keep_last_dimension: bool = False,
        padding: float | str = 0.0,
        subsampling: Sequence[Sequence[int]] | None = None,
        operation: str = "sum",
        psp: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
        dtype: DTypeLike = np.float64,
        owner: str = "Convolution",
        strategy: str | None = None,
    ) -> None:
        self._owner = owner
        self._dtype = self._check_dtype(dtype)
        self._pre_shape = self._check_shape(pre_shape, "pre_shape")
        self._post_shape = self._check_shape(post_shape, "post_shape")
        self._bank = bool(bank)
        self._padding = self._check_padding(padding)
        if operation not in OPERATIONS:
            raise ValidationError(
                owner, "operation", f"must be one of {', '.join(map(repr, OPERATIONS))}",
                got=operation,
            )
        self._operation = operation
        if psp is not None and not callable(psp):
            raise ValidationError(owner, "psp", "must be a callable or None", got=psp)
        self._psp = psp
        if strategy is not None and strategy not in STRATEGIES:
            raise ValidationError(
                owner, "strategy", f"must be None or one of {', '.join(STRATEGIES)}",
                got=strategy,
            )
        self._forced_strategy = strategy
        self._keep_last = bool(keep_last_dimension)
        self._explicit_centres = subsampling is not None

        w = self._check_weights(weights)
        self._weights_shape = w.shape
        self._setup_geometry(w.shape, bool(keep_last_dimension), subsampling)
        self._install_weights(w)

    # ------------------------------------------------------------------ public API

    @property
    def weights(self) -> np.ndarray:
        """The kernel as given (read-only view); assign a new array to change it.

        Assigning validates the new weights (same shape, finite numbers) and
        re-plans the computation, since the fastest path can depend on the
        values (e.g. whether the kernel is separable).
        """
        return self._weights_view

    @weights.setter
    def weights(self, value: ArrayLike) -> None:
        w = self._check_weights(value)
        if w.shape != self._weights_shape:
            raise ValidationError(
                self._owner, "weights",
                f"must keep the shape {self._weights_shape} of the connected kernel",
                got=w.shape,
            )
        previous = self._weights_view
        try:
            self._install_weights(w)
        except ValidationError:
            # A forced strategy may not apply to the new values: keep the old kernel.
            self._install_weights(previous)
            raise

    @property
    def strategy(self) -> str:
        """Name of the path :meth:`compute` uses (one of :data:`STRATEGIES`)."""
        return self._strategy

    @property
    def pre_shape(self) -> tuple[int, ...]:
        """Shape of the pre-synaptic array."""
        return self._pre_shape

    @property
    def post_shape(self) -> tuple[int, ...]:
        """Shape of the post-synaptic array."""
        return self._post_shape

    @property
    def bank(self) -> bool:
        """Whether ``weights`` is a bank of filters (``weights[f]`` fills ``post[..., f]``)."""
        return self._bank

    @property
    def n_filters(self) -> int:
        """Number of filters (1 unless ``bank``)."""
        return self._n_filters

    def compute(self, pre: np.ndarray, out: np.ndarray) -> None:
        """Write the projection's contribution for ``pre`` into ``out``.

        Parameters
        ----------
        pre : numpy.ndarray
            C-contiguous array of shape ``pre_shape`` and the kernel's dtype.
        out : numpy.ndarray
            C-contiguous array of shape ``post_shape`` and the kernel's dtype;
            overwritten (not added to).

        Raises
        ------
        ValidationError
            If an array has the wrong shape or dtype, or ``out`` is not
            C-contiguous (the result would be written to a temporary copy).

        Examples
        --------
        Stride 2, so the centres are pre[0] and pre[2]; the first window reads
        one virtual pixel of value 0.5:

        >>> import numpy as np
        >>> k = ConvolutionKernel((4,), (2,), [1.0, 1.0, 1.0], padding=0.5)
        >>> out = np.empty(2)
        >>> k.compute(np.array([1.0, 2.0, 3.0, 4.0]), out)
        >>> out
        array([3.5, 9. ])
        """
        # Cheap checks (well under a microsecond) that turn silent errors into
        # clear ones: reshaping a non-contiguous `out` would write to a copy.
        if pre.shape != self._pre_shape or pre.dtype != self._dtype:
            self._fail("pre", f"must be a {self._dtype} array of shape {self._pre_shape}",
                       f"{pre.dtype} array of shape {pre.shape}", got_repr=False)
        if out.shape != self._post_shape or out.dtype != self._dtype or not out.flags.c_contiguous:
            layout = "C-contiguous" if out.flags.c_contiguous else "non-contiguous"
            self._fail("out", f"must be a C-contiguous {self._dtype} array of shape "
                       f"{self._post_shape}", f"{layout} {out.dtype} array of shape {out.shape}",
                       got_repr=False)
        self._run(pre, out)

    def compute_batch(self, pre: np.ndarray, out: np.ndarray) -> None:
        """:meth:`compute` for a batch: ``pre[b]`` into ``out[b]`` for every sample ``b``.

        Sample ``b`` gets exactly the bits :meth:`compute` gives for ``pre[b]``.
        ``shifted``, ``ndimage``, ``separable`` and ``direct`` run the whole
        batch in one pass (the batch is one more leading axis that the kernel
        does not span); ``matmul`` is one stacked product (one BLAS call of the
        unbatched shape per sample); ``im2col`` and ``fft`` run sample by sample,
        because BLAS and FFT round an element differently in a larger call.

        Parameters
        ----------
        pre : numpy.ndarray
            C-contiguous array of shape ``(B, *pre_shape)`` and the kernel's dtype.
        out : numpy.ndarray
            C-contiguous array of shape ``(B, *post_shape)`` and the kernel's dtype.

        Examples
        --------
        >>> import numpy as np
        >>> k = ConvolutionKernel((4,), (2,), [1.0, 1.0, 1.0], padding=0.5)
        >>> out = np.empty((2, 2))
        >>> k.compute_batch(np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]]), out)
        >>> out
        array([[3.5, 9. ],
               [0.5, 0. ]])
        """
        batch = pre.shape[0] if pre.ndim else 0
        if pre.shape != (batch, *self._pre_shape) or batch < 1 or pre.dtype != self._dtype:
            self._fail("pre", f"must be a {self._dtype} array of shape (batch, *{self._pre_shape})",
                       f"{pre.dtype} array of shape {pre.shape}", got_repr=False)
        if out.shape != (batch, *self._post_shape) or out.dtype != self._dtype or not out.flags.c_contiguous:
            layout = "C-contiguous" if out.flags.c_contiguous else "non-contiguous"
            self._fail("out", f"must be a C-contiguous {self._dtype} array of shape "
                       f"{(batch, *self._post_shape)}", f"{layout} {out.dtype} array of shape {out.shape}",
                       got_repr=False)
        run = self._batch_runs.get(batch)
        if run is None:
            run = self._batch_runs[batch] = self._batch_run(batch)
        run(pre, out)

    def _batch_run(self, batch: int) -> Callable[[np.ndarray, np.ndarray], None]:
        """``run(pre, out)`` over a batch: the plan of this kernel over one more leading axis.

        That is the same kernel over ``(batch, *pre_shape)`` with a filter of
        extent 1 along the batch axis, held to this kernel's strategy: every
        strategy but ``fft`` then does, per sample, the same arithmetic in the
        same order.  (An FFT over the batch axis would round differently.)
        """
        single = self._run
        if self._strategy == "matmul" and self._grid is not None and all(t == 1 for _, t, _ in self._grid):
            positions, n_filters, wmat_t = self._n_positions, self._n_filters, self._wmat_t
            channels = self._pre_shape[-1] if self._collapse else 1
            scale = 1.0 / self._n_taps if self._operation == "mean" else None

            def stacked(pre: np.ndarray, out: np.ndarray) -> None:
                target = out.reshape(batch, positions, n_filters)
                np.matmul(pre.reshape(batch, positions, channels), wmat_t, out=target)
                if scale is not None:
                    np.multiply(target, scale, out=target)

            return stacked
        if self._strategy in ("fft", "im2col", "matmul") or batch == 1:
            def one_by_one(pre: np.ndarray, out: np.ndarray) -> None:
                for b in range(batch):
                    single(pre[b], out[b])

            return one_by_one
        weights = np.asarray(self._weights_view)
        weights = weights.reshape((weights.shape[0], 1, *weights.shape[1:]) if self._bank else (1, *weights.shape))
        subsampling: list[list[int]] | None = None
        if self._explicit_centres:  # every sample's centres, with its index in front
            centres = self._centres
            subsampling = np.concatenate(
                [np.repeat(np.arange(batch), len(centres))[:, None], np.tile(centres, (batch, 1))], axis=1).tolist()
        shadow = ConvolutionKernel(
            (batch, *self._pre_shape), (batch, *self._post_shape), weights, bank=self._bank,
            keep_last_dimension=self._keep_last, padding=self._padding, subsampling=subsampling,
            operation=self._operation, psp=self._psp, dtype=self._dtype, owner=self._owner,
            strategy=self._strategy)
        return shadow._run

    def centres(self) -> np.ndarray:
        """Pre coordinates of the kernel centre for each post position.

        Returns
        -------
        numpy.ndarray
            Integer array of shape ``(n_positions, len(pre_shape))`` in post
            rank order; for a bank, one row per spatial position (shared by
            all filters).

        Examples
        --------
        >>> ConvolutionKernel((4, 6), (2, 2), [[1.0]]).centres()
        array([[0, 1],
               [0, 4],
               [2, 1],
               [2, 4]])
        """
        return self._centres.copy()

    def receptive_field(self, post_rank: int) -> tuple[np.ndarray, np.ndarray]:
        """The real pre pixels read by one post neuron, with their weights.

        Virtual pixels (outside ``pre``) are left out.  With
        ``padding='border'`` they repeat an edge pixel, whose total influence
        on the neuron is then larger than the single tap listed for it.

        Parameters
        ----------
        post_rank : int
            Flat C-order rank of the post neuron.

        Returns
        -------
        pre_ranks : numpy.ndarray
            Flat C-order ranks into ``pre_shape``, in kernel tap order.
        weights : numpy.ndarray
            The kernel taps that read them.

        Examples
        --------
        >>> k = ConvolutionKernel((3, 3), (3, 3), [[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]])
        >>> ranks, w = k.receptive_field(0)     # the top-left corner
        >>> ranks
        array([0, 1, 3, 4])
        >>> w
        array([5., 6., 8., 9.])
        """
        rank = self._check_post_rank(post_rank)
        position, f = divmod(rank, self._n_filters)
        coords = self._centres[position] + self._tap_offsets  # (taps, n)
        inside = np.all((coords >= 0) & (coords < np.array(self._pre_shape)), axis=1)
        pre_ranks = np.ravel_multi_index(tuple(coords[inside].T), self._pre_shape)
        return pre_ranks.astype(np.intp), self._filters[f].reshape(-1)[inside].copy()

    def synapse_count(self) -> int:
        """How many real pre pixels all post neurons read: the sum of their receptive fields' sizes.

        Counted per position in blocks, without listing any receptive field.

        Examples
        --------
        >>> ConvolutionKernel((3, 3), (3, 3), np.ones((3, 3))).synapse_count()  # (2 + 3 + 2) ** 2
        49
        """
        upper = np.array(self._pre_shape)
        total = 0
        block = max(1, (1 << 20) // max(1, len(self._tap_offsets) * len(upper)))
        for start in range(0, len(self._centres), block):
            coords = self._centres[start:start + block, None, :] + self._tap_offsets[None, :, :]
            total += int(np.count_nonzero(np.all((coords >= 0) & (coords < upper), axis=2)))
        return total * self._n_filters

    def __repr__(self) -> str:
        return (
            f"ConvolutionKernel(pre_shape={self._pre_shape}, post_shape={self._post_shape}, "
            f"weights shape {self._weights_shape}, operation={self._operation!r}, "
            f"padding={self._padding!r}, strategy={self._strategy!r})"
        )

    # ------------------------------------------------------------------ validation

    def _fail(self, argument: str, message: str, got: Any = ValidationError.NOTHING,
              *, got_repr: bool = True) -> NoReturn:
        raise ValidationError(self._owner, argument, message, got, got_repr=got_repr)

    def _check_dtype(self, dtype: DTypeLike) -> np.dtype:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            # str(): a dtype given as a class such as np.int32 has no useful repr here.
            shown = str(dt) if dt is not None else repr(dtype)
            raise ValidationError(self._owner, "dtype", "must be float32 or float64",
                                  got=shown, got_repr=False)
        return dt

    def _check_shape(self, shape: Any, argument: str) -> tuple[int, ...]:
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            dims = tuple(shape)
        except TypeError:
            dims = None
        if (
            not dims
            or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims)
            or min(dims) < 1
        ):
            self._fail(argument, "must be a non-empty tuple of positive integers", shape)
        return tuple(int(d) for d in dims)

    def _check_padding(self, padding: Any) -> float | str:
        if isinstance(padding, str):
            if padding != "border":
                self._fail("padding", "must be a number or 'border'", padding)
            return padding
        if isinstance(padding, (bool, np.bool_)) or not isinstance(
            padding, (int, float, np.integer, np.floating)
        ):
            self._fail("padding", "must be a number or 'border'", padding)
        if not math.isfinite(float(padding)):
            self._fail("padding", "must be finite", padding)
        return float(padding)

    def _check_weights(self, weights: ArrayLike) -> np.ndarray:
        try:
            raw = np.asarray(weights)
        except (ValueError, TypeError) as exc:  # ragged nested lists
            raise ValidationError(
                self._owner, "weights", f"must be a rectangular array of numbers ({exc})"
            ) from None
        if raw.dtype.kind not in "biuf":
            self._fail("weights", "must be real numbers", raw)
        if raw.ndim < (2 if self._bank else 1):
            need = "2 dimensions for a bank (filters first)" if self._bank else "1 dimension"
            self._fail("weights", f"must have at least {need}", raw.shape)
        if raw.size == 0:
            self._fail("weights", "must not be empty", raw.shape)
        w = raw.astype(self._dtype)  # a private copy: later edits by the caller do not leak in
        if not np.all(np.isfinite(w)):  # also catches integers too large for the dtype
            self._fail("weights", f"must be finite (no NaN or inf in {self._dtype})", raw)
        return w

    def _check_post_rank(self, post_rank: Any) -> int:
        size = math.prod(self._post_shape)
        if (
            isinstance(post_rank, (bool, np.bool_))
            or not isinstance(post_rank, (int, np.integer))
            or not 0 <= post_rank < size
        ):
            self._fail("post_rank", f"must be an integer in [0, {size})", post_rank)
        return int(post_rank)

    # ------------------------------------------------------------------ geometry

    def _setup_geometry(
        self,
        kshape: tuple[int, ...],
        keep_last: bool,
        subsampling: Sequence[Sequence[int]] | None,
    ) -> None:
        """Relate kernel, pre and post; compute the centre of every position.

        The kernel's rank is checked against pre's.  Post's rank matters only
        for automatic subsampling, where it decides whether pre's last axis is
        collapsed; explicit centres are full pre coordinates, so post's shape
        then only has to hold one neuron per centre (and filter).
        """
        pre, post = self._pre_shape, self._post_shape
        n = len(pre)
        shapes = f"pre {pre}, post {post}"
        if self._bank:
            n_filters, fshape = kshape[0], kshape[1:]
            if n_filters != post[-1]:
                self._fail(
                    "weights",
                    f"a bank of {n_filters} filters (weights {kshape}) needs post's last "
                    f"dimension to be {n_filters} ({shapes})",
                    kshape,
                )
            spatial = post[:-1]
            what = "each filter of the bank"
        else:
            n_filters, fshape, spatial = 1, kshape, post
            what = "the kernel"

        kept = len(fshape) == n - 1
        if kept and not keep_last:
            self._fail(
                "keep_last_dimension",
                f"{what} has {len(fshape)} dimensions ({fshape}), one less than pre "
                f"({shapes}): set keep_last_dimension=True to filter every slice of "
                "pre's last axis separately",
                keep_last,
            )
        if not kept and len(fshape) != n:
            hint = (
                "; a bank of filters needs bank=True (connect_filters)"
                if not self._bank and len(fshape) == n + 1 else ""
            )
            self._fail(
                "weights",
                f"{what} has {len(fshape)} dimensions ({fshape}) but pre has {n} "
                f"({shapes}): it needs {n}, or {n - 1} with keep_last_dimension=True{hint}",
                kshape,
            )
        if kept:
            fshape = fshape + (1,)  # one tap along the kept axis
        centre = tuple(_centre_tap(k) for k in fshape)

        self._n_filters = n_filters
        self._fshape = tuple(fshape)
        self._centre = centre
        self._n_taps = math.prod(fshape)
        taps = np.indices(fshape).reshape(n, -1).T  # (taps, n), C order of the kernel
        self._tap_indices = [tuple(int(v) for v in t) for t in taps]
        self._tap_offsets = taps - np.array(centre)
        self._n_positions = math.prod(spatial)
        self._collapse = False

        if subsampling is not None:
            self._grid: tuple[tuple[int, int, int], ...] | None = None
            self._centres = self._check_subsampling(subsampling, self._n_positions, shapes)
            return

        if len(spatial) == n - 1:
            if keep_last:
                reason = ("keeps pre's last dimension, so the result cannot have"
                          if kept else "cannot keep pre's last dimension when the result has")
                self._fail(
                    "keep_last_dimension",
                    f"{reason} one dimension less than pre ({shapes})",
                    keep_last,
                )
            if fshape[-1] != pre[-1]:
                self._fail(
                    "weights",
                    f"the result has one dimension less than pre, so the last dimension of "
                    f"{what} ({fshape}) must equal pre's last dimension {pre[-1]} ({shapes})",
                    kshape,
                )
            self._collapse = True
        elif len(spatial) != n:
            per = "per filter " if self._bank else ""
            self._fail(
                "post_shape",
                f"the result {per}must have pre's rank {n} or one less ({shapes})",
                post,
            )
        elif kept and spatial[-1] != pre[-1]:
            self._fail(
                "keep_last_dimension",
                f"keeps pre's last dimension, so the result's last dimension must be "
                f"{pre[-1]} ({shapes})",
                keep_last,
            )

        # Per pre axis: (start, stride, count) of the centres.
        grid = []
        for d in range(n):
            if d == n - 1 and self._collapse:
                grid.append((centre[d], 1, 1))
                continue
            if pre[d] % spatial[d] != 0:
                self._fail(
                    "post_shape",
                    f"automatic subsampling needs every dimension of pre to be a multiple "
                    f"of the result's, but dimension {d} has {pre[d]} vs {spatial[d]} "
                    f"({shapes}); choose a post shape that divides pre or pass subsampling",
                    post,
                )
            stride = pre[d] // spatial[d]
            grid.append(((stride - 1) // 2, stride, spatial[d]))
        self._grid = tuple(grid)
        axes = [start + stride * np.arange(count) for start, stride, count in grid]
        self._centres = np.stack(
            [a.reshape(-1) for a in np.meshgrid(*axes, indexing="ij")], axis=1
        ).astype(np.intp)

    def _check_subsampling(self, subsampling: Any, positions: int, shapes: str) -> np.ndarray:
        n = len(self._pre_shape)
        per = "spatial position (post size / number of filters)" if self._bank else "post neuron"
        expect = f"one centre of {n} pre coordinates per {per}, i.e. shape ({positions}, {n})"
        try:
            coords = np.asarray(subsampling)
        except (ValueError, TypeError):
            coords = None
        if coords is not None and n == 1 and coords.ndim == 1:
            coords = coords.reshape(-1, 1)
        if coords is None or coords.dtype.kind not in "iuf" or coords.shape != (positions, n):
            got = coords.shape if coords is not None and coords.dtype != object else subsampling
            self._fail("subsampling", f"must hold {expect} ({shapes})", got)
        if coords.dtype.kind == "f":
            if not np.all(np.isfinite(coords)) or np.any(coords != np.round(coords)):
                self._fail("subsampling", "must hold integer coordinates", coords)
        coords = coords.astype(np.intp)
        bad = np.nonzero(np.any((coords < 0) | (coords >= np.array(self._pre_shape)), axis=1))[0]
        if bad.size:
            self._fail(
                "subsampling",
                f"centre {bad[0]} lies outside pre ({shapes})",
                tuple(int(c) for c in coords[bad[0]]),
            )
        return coords

    # ------------------------------------------------------------------ planning

    def _install_weights(self, w: np.ndarray) -> None:
        view = w.view()
        view.flags.writeable = False
        self._weights_view = view
        n_filters = self._n_filters
        # (filters, *filter shape with kept axis) in the working dtype.
        self._filters = w.reshape((n_filters,) + self._fshape)
        self._filters64 = self._filters.astype(np.float64)
        # (taps, filters): column f holds filter f in C order of its taps.
        self._wmat_t = np.ascontiguousarray(self._filters.reshape(n_filters, -1).T)
        self._plan()
        # Batched runs follow the weights: built again on first use after a change.
        self._batch_runs: dict[int, Callable[[np.ndarray, np.ndarray], None]] = {}

    def _plan(self) -> None:
        candidates = self._candidate_costs()
        if self._forced_strategy is not None:
            if self._forced_strategy not in candidates:
                self._fail(
                    "strategy",
                    f"does not apply to this configuration (possible: {', '.join(candidates)})",
                    self._forced_strategy,
                )
            name = self._forced_strategy
        else:
            name = min(candidates, key=candidates.__getitem__)
        self._strategy = name
        builder = getattr(self, f"_build_{name}")
        self._run = builder()
        if self._operation == "mean" and name not in ("direct", "shifted"):
            inner, scale = self._run, 1.0 / self._n_taps

            def run_mean(pre: np.ndarray, out: np.ndarray) -> None:
                inner(pre, out)
                np.multiply(out, scale, out=out)

            self._run = run_mean

    def _candidate_costs(self) -> dict[str, float]:
        """Estimated time (ns) of every strategy that applies."""
        taps, n_filters, positions = self._n_taps, self._n_filters, self._n_positions
        full = math.prod(self._pre_shape)
        costs = {"direct": taps * (positions * n_filters * 3.0 + 3 * _NS_CALL)}
        if self._psp is not None or self._operation in ("max", "min"):
            return costs

        grid = self._grid
        axes_free = [d for d, k in enumerate(self._fshape) if k > 1]
        if self._collapse:
            axes_free = [d for d in axes_free if d != len(self._fshape) - 1]
        if grid is not None and not axes_free:
            costs["matmul"] = positions * taps * n_filters * _NS_MAC + _NS_CALL
        unit_stride = grid is not None and all(stride == 1 for _, stride, _ in grid)
        if unit_stride and not self._collapse and n_filters == 1:
            costs["shifted"] = self._shifted_cost()
            nonzero = int(np.count_nonzero(self._filters64))
            costs["ndimage"] = _NS_NDIMAGE_TAP * full * max(nonzero, 1) + 2 * _NS_CALL
            factors = self._separable_factors()
            if factors is not None:
                costs["separable"] = sum(
                    (_NS_PASS_TAP * len(v) + _NS_PASS_POINT) * full + 2 * _NS_CALL
                    for _, v in factors
                )
        blocks = max(1, positions * taps // _BLOCK_ELEMENTS)
        costs["im2col"] = (
            positions * taps * (_NS_GATHER + _NS_MAC * max(n_filters, 2))
            + blocks * (taps * _NS_COPY_CALL + _NS_CALL)
            + _NS_GATHER * full
            + 2 * _NS_CALL
        )
        fft_size = math.prod(self._fft_shape())
        costs["fft"] = (
            _NS_FFT * fft_size * math.log2(max(fft_size, 2)) * (1 + n_filters)
            + 4.0 * fft_size * n_filters
            + (2 + 3 * n_filters) * _NS_CALL
        )
        # Loading scipy.ndimage or scipy.fft takes ~0.3 s the first time: a SciPy
        # strategy is chosen only when it is clearly faster than a NumPy one.
        for name in ("ndimage", "separable", "fft"):
            if name in costs:
                costs[name] *= _SCIPY_MARGIN
        return costs

    def _shifted_cost(self) -> float:
        """Estimated time (ns) of the ``shifted`` strategy: its ufunc calls, counted exactly."""
        def per_element(size: int) -> float:
            near = size * self._dtype.itemsize <= _CACHE_BYTES
            return _NS_UFUNC_ELEMENT if near else _NS_UFUNC_ELEMENT_FAR

        shape = [p + k - 1 for p, k in zip(self._pre_shape, self._fshape)]
        border = 2 * sum(k > 1 for k in self._fshape) if self._padding == "border" else 0
        cost = (1 + border) * _NS_UFUNC_CALL + math.prod(shape) * per_element(math.prod(shape))
        for axis, groups in self._shifted_passes():
            if axis is None:
                shape = list(self._pre_shape)
            else:
                shape[axis] = self._pre_shape[axis]
            size = math.prod(shape)
            calls = sum(max(len(offsets) - 1, 1) + (len(offsets) > 1 and weight != 1.0) + (g > 0)
                        for g, (weight, offsets) in enumerate(groups))
            cost += calls * (_NS_UFUNC_CALL + size * per_element(size))
        return cost

    def _separable_factors(self) -> list[tuple[int, np.ndarray]] | None:
        """``[(axis, taps), ...]`` whose successive 1-D correlations equal the kernel.

        Only kernels with one or two axes longer than 1 are considered, and only
        when a rank-1 factorisation reproduces every weight to ~1e-15 relative.
        """
        kernel = self._filters64[0]
        axes = [d for d, k in enumerate(kernel.shape) if k > 1]
        if len(axes) == 1:
            return [(axes[0], kernel.reshape(-1))]
        if len(axes) != 2:
            return None
        matrix = kernel.reshape(kernel.shape[axes[0]], kernel.shape[axes[1]])
        # A rank-1 matrix is the outer product of the column and the row through
        # its largest entry; unlike an SVD this is exact for kernels such as boxes.
        i, j = np.unravel_index(np.argmax(np.abs(matrix)), matrix.shape)
        first = matrix[:, j].copy()
        second = matrix[i, :] / matrix[i, j] if matrix[i, j] else np.zeros(matrix.shape[1])
        tolerance = _SEPARABLE_ULPS * np.finfo(self._dtype).eps * abs(matrix[i, j])
        if np.max(np.abs(np.outer(first, second) - matrix)) > tolerance:
            return None
        # Correlate along the last axis first: its lines are contiguous.
        return [(axes[1], second), (axes[0], first)]

    def _fft_shape(self) -> tuple[int, ...]:
        padded = [p + k - 1 for p, k in zip(self._pre_shape, self._fshape)]
        # 5-smooth lengths: scipy's FFT is fast for them (and this needs no import of scipy.fft)
        shape = [_fast_length(m) for m in padded[:-1]]
        return tuple(shape) + (_fast_length(padded[-1] + padded[-1] % 2),)

    # ------------------------------------------------------------------ padding

    def _make_padded(self) -> Callable[[np.ndarray], None]:
        """Allocate the padded copy of pre and return the function that refreshes it.

        Axis ``d`` gets ``c`` virtual pixels before and ``K - 1 - c`` after, so the
        window of a centre ``q`` starts at padded index ``q`` along every axis.
        """
        pre = self._pre_shape
        self._pads = [(c, k - 1 - c) for c, k in zip(self._centre, self._fshape)]
        padded_shape = tuple(p + lo + hi for p, (lo, hi) in zip(pre, self._pads))
        fill = 0.0 if self._padding == "border" else self._padding
        self._padded = np.full(padded_shape, fill, dtype=self._dtype)
        interior = self._padded[tuple(slice(lo, lo + p) for p, (lo, _) in zip(pre, self._pads))]
        if self._padding != "border":
            # Virtual pixels never change: only the interior is refreshed.
            return lambda x: np.copyto(interior, x)

        # Replicating axis by axis, each over the full extent of the axes already
        # padded, fills the corners too.
        copies = []
        for d, (lo, hi) in enumerate(self._pads):
            def axis_slice(s: slice, d: int = d) -> tuple[slice, ...]:
                return (slice(None),) * d + (s,)

            if lo:
                copies.append((self._padded[axis_slice(slice(0, lo))],
                               self._padded[axis_slice(slice(lo, lo + 1))]))
            if hi:
                end = lo + pre[d]
                copies.append((self._padded[axis_slice(slice(end, end + hi))],
                               self._padded[axis_slice(slice(end - 1, end))]))

        def refresh(x: np.ndarray) -> None:
            np.copyto(interior, x)
            for dst, src in copies:
                np.copyto(dst, src)

        return refresh

    def _tap_view(self, array: np.ndarray, tap: Sequence[int], offset: Sequence[int] = ()) -> np.ndarray:
        """View of ``array`` at the grid centres shifted by ``tap`` (+ ``offset``)."""
        assert self._grid is not None
        offset = tuple(offset) or (0,) * len(tap)
        return array[tuple(
            slice(start + k + o, start + k + o + stride * (count - 1) + 1, stride)
            for (start, stride, count), k, o in zip(self._grid, tap, offset)
        )]

    def _flat_centres(self, strides: Sequence[int]) -> np.ndarray:
        """Flat index of every centre in an array with these element strides."""
        return (self._centres @ np.asarray(strides, dtype=np.intp)).astype(np.intp)

    def _padded_gather(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For explicit centres: the flat padded buffer, the flat index of each
        window's first element (centre minus c, padded by c) and each tap's shift."""
        strides = [s // self._padded.itemsize for s in self._padded.strides]
        shifts = np.array(self._tap_indices) @ np.asarray(strides, dtype=np.intp)
        return self._padded.reshape(-1), self._flat_centres(strides), shifts.astype(np.intp)

    # ------------------------------------------------------------------ strategies
    # Each _build_<name> allocates what its path needs and returns run(pre, out).

    def _build_matmul(self) -> Callable[[np.ndarray, np.ndarray], None]:
        """1x1 filters: out[p, f] = sum_c pre[centre(p), c] * w[f, c]."""
        assert self._grid is not None
        positions, n_filters = self._n_positions, self._n_filters
        channels = self._pre_shape[-1] if self._collapse else 1
        wmat_t = self._wmat_t  # (channels, filters)
        grid = self._grid[:-1] if self._collapse else self._grid
        index = tuple(slice(s, s + t * (c - 1) + 1, t) for s, t, c in grid)
        strided = any(t != 1 for _, t, _ in grid)
        rows = np.empty((positions, channels), dtype=self._dtype) if strided else None

        def run(pre: np.ndarray, out: np.ndarray) -> None:
            if rows is None:
                matrix = pre.reshape(positions, channels)
            else:
                picked = pre[index]
                np.copyto(rows.reshape(picked.shape), picked)
                matrix = rows
            np.matmul(matrix, wmat_t, out=out.reshape(positions, n_filters))

        return run

    def _ndimage_mode(self) -> dict[str, Any]:
        if self._padding == "border":
            return {"mode": "nearest"}
        return {"mode": "constant", "cval": self._padding}

    def _build_ndimage(self) -> Callable[[np.ndarray, np.ndarray], None]:
        kernel = self._filters64[0]
        origin = [c - k // 2 for c, k in zip(self._centre, self._fshape)]
        mode = self._ndimage_mode()
        shape = self._pre_shape

        def run(pre: np.ndarray, out: np.ndarray) -> None:
            _scipy("ndimage").correlate(pre, kernel, output=out.reshape(shape), origin=origin, **mode)

        return run

    def _build_separable(self) -> Callable[[np.ndarray, np.ndarray], None]:
        factors = self._separable_factors()
        assert factors is not None
        shape = self._pre_shape
        passes = []
        cval = 0.0 if self._padding == "border" else float(self._padding)
        for axis, taps in factors:
            mode = self._ndimage_mode()
            if "cval" in mode:
                # A virtual pixel seen by a later pass stands for a whole line of
                # virtual pixels already weighted by the earlier passes.
                mode["cval"] = cval
                cval = cval * float(np.sum(taps))
            origin = self._centre[axis] - len(taps) // 2
            passes.append((axis, taps, origin, mode))
        scratch = np.empty(shape, dtype=self._dtype) if len(passes) > 1 else None
        correlate1d = _scipy("ndimage").correlate1d

        def run(pre: np.ndarray, out: np.ndarray) -> None:
            target = out.reshape(shape)
            source: Any = pre
            for i, (axis, taps, origin, mode) in enumerate(passes):
                # The last pass writes into out; the one before it into scratch (there are several passes then).
                dest: Any = target if i == len(passes) - 1 else scratch
                correlate1d(source, taps, axis=axis, output=dest, origin=origin, **mode)
                source = dest

        return run

    def _shifted_passes(self) -> list[tuple[int | None, list[tuple[float, list[int | tuple[int, ...]]]]]]:
        """The passes of the ``shifted`` strategy: ``[(axis, groups), ...]``.

        One pass per separable factor (``axis`` is the axis it runs along), or a
        single pass over every tap (``axis`` None, offsets are tap indices).  A
        group is ``(weight, offsets)``: taps of equal weight are summed first and
        multiplied once.  Zero taps are left out; the largest group comes first.
        With ``mean`` the last pass's weights carry the division by the tap count.
        """
        factors = self._separable_factors()
        kernel = self._filters64[0]
        if factors is None:
            passes: list[tuple[int | None, list[tuple[int | tuple[int, ...], float]]]] = [
                (None, [(tap, float(kernel[tap])) for tap in self._tap_indices])]
        else:
            passes = [(axis, [(k, float(v)) for k, v in enumerate(taps)]) for axis, taps in factors]
        scale = 1.0 / self._n_taps if self._operation == "mean" else 1.0
        planned = []
        for index, (axis, taps) in enumerate(passes):
            groups: dict[float, list[int | tuple[int, ...]]] = {}
            for offset, value in taps:
                if value != 0.0:
                    groups.setdefault(value * scale if index == len(passes) - 1 else value, []).append(offset)
            planned.append((axis, sorted(groups.items(), key=lambda item: -len(item[1]))))
        return planned

    def _build_shifted(self) -> Callable[[np.ndarray, np.ndarray], None]:
        """Sums of shifted views of the padded input, one pass per separable factor.

        No SciPy and no copies of windows: every call is one NumPy ufunc over a
        whole (shifted) array, so for small inputs the cost is a handful of calls.
        """
        refresh = self._make_padded()
        pre, dtype = self._pre_shape, self._dtype
        passes = self._shifted_passes()
        if not any(groups for _, groups in passes):
            def zero(pre_values: np.ndarray, out: np.ndarray) -> None:
                out.fill(0.0)

            return zero
        shape = list(self._padded.shape)
        source: np.ndarray = self._padded
        plan = []  # (dst or None for out, [(weight, [source views])], scratch)
        for index, (axis, groups) in enumerate(passes):
            if axis is None:
                shape = list(pre)
            else:
                shape[axis] = pre[axis]
            last = index == len(passes) - 1
            dst = None if last else np.empty(shape, dtype=dtype)
            bound = [(dtype.type(weight), [_shifted_view(source, axis, o, shape) for o in offsets])
                     for weight, offsets in groups]
            scratch = np.empty(shape, dtype=dtype) if len(bound) > 1 else None
            plan.append((dst, bound, scratch))
            if dst is not None:  # None only after the last pass
                source = dst
        one = dtype.type(1.0)

        def accumulate(dst: np.ndarray, bound: list, scratch: Any) -> None:
            for g, (weight, views) in enumerate(bound):
                into: Any = dst if g == 0 else scratch  # a group after the first has its scratch array
                if len(views) == 1:
                    np.multiply(views[0], weight, out=into)
                else:
                    np.add(views[0], views[1], out=into)
                    for v in views[2:]:
                        np.add(into, v, out=into)
                    if weight != one:
                        np.multiply(into, weight, out=into)
                if g:
                    np.add(dst, scratch, out=dst)

        def run(pre_values: np.ndarray, out: np.ndarray) -> None:
            refresh(pre_values)
            target = out.reshape(pre)
            for dst, bound, scratch in plan:
                accumulate(target if dst is None else dst, bound, scratch)

        return run

    def _build_im2col(self) -> Callable[[np.ndarray, np.ndarray], None]:
        refresh = self._make_padded()
        taps, n_filters, positions = self._n_taps, self._n_filters, self._n_positions
        wmat_t = self._wmat_t
        block = max(1, _BLOCK_ELEMENTS // taps)
        columns = np.empty(taps * min(block, positions), dtype=self._dtype)

        if self._grid is None:
            padded_flat, base, shifts = self._padded_gather()
            index = np.empty(columns.size, dtype=np.intp)
            bounds = [(p, min(p + block, positions)) for p in range(0, positions, block)]

            def run(pre: np.ndarray, out: np.ndarray) -> None:
                refresh(pre)
                result = out.reshape(positions, n_filters)
                for p0, p1 in bounds:
                    m = p1 - p0
                    idx = index[: taps * m].reshape(taps, m)
                    np.add(shifts[:, None], base[None, p0:p1], out=idx)
                    cols = columns[: taps * m].reshape(taps, m)
                    np.take(padded_flat, idx, out=cols, mode="wrap")
                    np.matmul(cols.T, wmat_t, out=result[p0:p1])

            return run

        # Grid: a block is a run of consecutive positions made of whole slices
        # along the axes after `axis`.  Every copy source is a strided view of
        # the persistent padded buffer, so all views are built here, once.
        counts = [count for _, _, count in self._grid]
        axis = len(counts) - 1
        while axis > 0 and math.prod(counts[axis:]) <= block:
            axis -= 1
        inner = math.prod(counts[axis + 1:])
        per_block = max(1, min(counts[axis], block // max(inner, 1)))
        plan = []
        for outer in np.ndindex(*counts[:axis]):
            for i0 in range(0, counts[axis], per_block):
                i1 = min(i0 + per_block, counts[axis])
                m = (i1 - i0) * inner
                first = int(np.ravel_multi_index(outer + (i0,) + (0,) * (len(counts) - axis - 1),
                                                 counts))
                cols = columns[: taps * m].reshape(taps, m)
                shape = (1,) * axis + (i1 - i0,) + tuple(counts[axis + 1:])
                # Offset of the block's first centre from the grid's first centre.
                shift = [stride * o for (_, stride, _), o in zip(self._grid, outer + (i0,))]
                shift += [0] * (len(counts) - len(shift))
                trim = tuple(slice(0, size) for size in shape)
                pieces = [
                    (cols[k].reshape(shape), self._tap_view(self._padded, tap, shift)[trim])
                    for k, tap in enumerate(self._tap_indices)
                ]
                plan.append((first, first + m, cols, pieces))

        def run_grid(pre: np.ndarray, out: np.ndarray) -> None:
            refresh(pre)
            result = out.reshape(positions, n_filters)
            for p0, p1, cols, pieces in plan:
                for dst, src in pieces:
                    np.copyto(dst, src)
                np.matmul(cols.T, wmat_t, out=result[p0:p1])

        return run_grid

    def _build_fft(self) -> Callable[[np.ndarray, np.ndarray], None]:
        refresh = self._make_padded()
        n_filters, positions = self._n_filters, self._n_positions
        shape = self._fft_shape()
        axes = tuple(range(len(shape)))
        flipped = self._filters64[(slice(None),) + (slice(None, None, -1),) * len(shape)]
        complex_type = np.complex64 if self._dtype == np.float32 else np.complex128
        spectra = _scipy("fft").rfftn(flipped, s=shape, axes=tuple(a + 1 for a in axes))
        spectra = spectra.astype(complex_type)
        product = np.empty(spectra.shape[1:], dtype=complex_type)
        # The valid correlation at centre q sits at index q + K - 1 of the
        # circular convolution with the flipped kernel.
        lag = [k - 1 for k in self._fshape]
        if self._grid is not None:
            layout = tuple(count for _, _, count in self._grid) + (n_filters,)
            centre = tuple(lag)

            def read(full: np.ndarray, out: np.ndarray, f: int) -> None:
                np.copyto(out.reshape(layout)[..., f], self._tap_view(full, centre))
        else:
            layout = (positions, n_filters)
            flat = self._flat_centres([math.prod(shape[d + 1:]) for d in axes])
            flat += int(np.ravel_multi_index(tuple(lag), shape))

            def read(full: np.ndarray, out: np.ndarray, f: int) -> None:
                out.reshape(layout)[:, f] = full.reshape(-1)[flat]

        def run(pre: np.ndarray, out: np.ndarray) -> None:
            refresh(pre)
            spectrum = _scipy("fft").rfftn(self._padded, s=shape, axes=axes)
            for f in range(n_filters):
                np.multiply(spectrum, spectra[f], out=product)
                read(_scipy("fft").irfftn(product, s=shape, axes=axes, overwrite_x=True), out, f)

        return run

    def _build_direct(self) -> Callable[[np.ndarray, np.ndarray], None]:
        """One pass per tap: values at the shifted centres, psp, reduce."""
        refresh = self._make_padded()
        taps, n_filters, positions = self._n_taps, self._n_filters, self._n_positions
        reduce = OPERATIONS[self._operation]
        psp = self._psp
        weights = self._wmat_t  # (taps, filters)
        values = np.empty(positions, dtype=self._dtype)
        scratch = np.empty((positions, n_filters), dtype=self._dtype)
        if self._grid is not None:
            counts = tuple(count for _, _, count in self._grid)
            sources = [self._tap_view(self._padded, t) for t in self._tap_indices]
            target = values.reshape(counts)

            def gather(k: int) -> None:
                np.copyto(target, sources[k])
        else:
            padded_flat, base, shifts = self._padded_gather()
            index = np.empty(positions, dtype=np.intp)

            def gather(k: int) -> None:
                np.add(base, shifts[k], out=index)
                np.take(padded_flat, index, out=values, mode="wrap")

        column = values[:, None]
        shape = (positions, n_filters)
        scale = 1.0 / taps if self._operation == "mean" else None

        def run(pre: np.ndarray, out: np.ndarray) -> None:
            refresh(pre)
            result = out.reshape(shape)
            for k in range(taps):
                gather(k)
                dest = result if k == 0 else scratch
                if psp is None:
                    np.multiply(column, weights[k], out=dest)
                else:
                    value = psp(np.broadcast_to(column, shape), np.broadcast_to(weights[k], shape))
                    np.copyto(dest, np.broadcast_to(value, shape), casting="same_kind")
                if k:
                    reduce(result, scratch, out=result)
            if scale is not None:
                np.multiply(result, scale, out=result)

        return run
