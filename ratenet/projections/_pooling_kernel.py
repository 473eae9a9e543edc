"""Pooling kernel: the max, min or mean of every window of an N-D array.

This module is pure NumPy and knows nothing about populations: the ``Pooling``
projection builds one :class:`PoolingKernel` when it is connected and calls
:meth:`PoolingKernel.compute` once per step with the (already ``psp``-applied)
presynaptic array.

Semantics (DESIGN.md section 5, "Pooling")
------------------------------------------
* Pre axis ``k`` is cut into windows of ``extent[k]`` elements; post index ``i``
  along that axis pools ``[i * extent[k], (i + 1) * extent[k])``.  Windows are not
  centred and never overlap.
* Post axis ``k`` corresponds to pre axis ``k``.  When post has fewer axes than
  pre, the missing (trailing) axes behave as post axes of size 1: their single
  window starts at 0, so ``extent=(2, 2, 3)`` pools (6, 8, 3) onto (3, 4) across
  the 3 channels.
* Automatic extent (``extent=None``) is ``pre / post`` per axis.  It requires the
  same number of axes and exact division; otherwise :class:`ValidationError`
  names both geometries and suggests an explicit extent that works, if one does
  (ANNarchy silently makes overlapping windows instead).
* An explicit extent has exactly one positive integer per pre axis.  A shorter
  tuple is an error, not padded: padding with 1 would silently pool only the
  first element of each axis post lacks, while padding with the axis size would
  pool all of it, and guessing wrong gives plausible but wrong numbers.  The
  message suggests a full extent.
* Windows sit at ``i * extent`` even when the windows do not reach the end of pre
  (the uncovered tail is ignored, as in ANNarchy) or pass it (the last window is
  partial and pools the elements that exist; ``mean`` divides by their count).
  A post axis asking for a window that starts wholly outside pre is an error.
* ``max`` and ``min`` are the true extremes of the window (no implicit 0).
  NaN propagates, as with :func:`numpy.maximum`.
* Any number of axes is accepted (the tests cover 1-D to 4-D).

Speed
-----
The windows are reduced one pre axis at a time, outermost first, because the
first reduction then runs over long contiguous rows and shrinks the data by
``extent[0]`` before the strided work starts.  Each reduction sees its input as
a contiguous ``(A, e, B)`` array (``A`` windows before, ``e`` the extent, ``B``
contiguous elements after) and gets the cheapest of a few methods, chosen once
when the kernel is built (:func:`_plan_stage`):

* ``batched``: a stacked ``(1, e) @ (A, e, B)`` matrix product (sums, long B);
* ``gemv``: ``(A, e) @ w`` (sums, B == 1, windows long enough for BLAS to pay);
* ``reduce``: ``ufunc.reduce(axis=1)`` (max/min with long inner rows);
* ``double``: contiguous "shift and combine" passes over the flat array (window
  spans 2, 4, 8, ...), then a few strided picks at the window starts; with no
  pass (``slices``) it is ``e - 1`` binary ufunc calls on ``(A, B)`` slices.  For
  small B this keeps the ufunc inner loops long where a direct reduction would
  restart a 3-element inner loop thousands of times.

The choice comes from a rough cost model, not from timing, so a given geometry
always gets the same plan and the same rounding.  :meth:`PoolingKernel.describe`
prints it.  On the tutorial's (480, 640, 3) -> (48, 64, 3) a mean is a batched
product over rows of 1920 then ``double`` over the (3072, 10, 3) remainder,
about 25 times faster than one ``np.mean`` over the 5-D view.

No matrix contains zeros, so an ``inf`` in one element cannot turn into ``NaN``
in a neighbouring window (``0 * inf``).  A gap that leaves a contiguous prefix of
pre is read in place.  Other gaps, overhanging windows and inputs of another
dtype or layout are first copied into a staging buffer padded with the
operation's identity (0, -inf, +inf); a ``mean`` with partial windows then
divides by the per-window count of existing elements.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from ratenet.exceptions import ValidationError, closest

__all__ = ["PoolingKernel"]

_UFUNCS: dict[str, np.ufunc] = {"max": np.maximum, "min": np.minimum, "mean": np.add}
# Padding value of the staging buffer: it must never win (max/min) nor count (mean).
_IDENTITY: dict[str, float] = {"max": -np.inf, "min": np.inf, "mean": 0.0}
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Rough costs in nanoseconds, measured on the project's 2-core x86 machines and
# used only to rank the candidate methods of one reduction (see _plan_stage).
_NS_CALL = 1500.0  # one Python-level ufunc or matmul call
_NS_PASS = 0.3  # one element of a contiguous 1-D binary ufunc
_NS_ROW = 0.6  # one element of a 2-D binary ufunc over rows of B elements
_NS_LOOP = 25.0  # one inner-loop restart of a 2-D binary ufunc
_NS_REDUCE_LOOP = 40.0  # one inner loop of ufunc.reduce over the middle axis
_NS_FAR = 2.0  # one element read with a stride of a cache line or more
_NS_BLAS = 0.2  # one element read by a BLAS product
_NS_GEMV_ROW = 0.5  # one output of a matrix-vector product (short rows are slow)
_NS_BATCH = 80.0  # one small product inside a stacked matmul

Step = Callable[[], object]

# A batch is pooled in passes of as many samples as keep a pass's intermediate
# buffers within this many bytes (about what stays in the caches of one core).
_CHUNK_BYTES = 4 << 20


class PoolingKernel:
    """Pool an N-D array over non-overlapping windows into a preallocated output.

    Parameters
    ----------
    pre_shape : tuple of int
        Geometry of the presynaptic array.
    post_shape : tuple of int
        Geometry of the output; at most as many axes as ``pre_shape``.
    extent : sequence of int, optional
        Window size along every pre axis.  ``None`` (default) derives it as
        ``pre_shape / post_shape``, which must divide exactly.
    operation : {'max', 'min', 'mean'}, optional
        Reduction applied to each window.
    dtype : dtype, optional
        ``float64`` (default) or ``float32``; the dtype of ``out``.
    owner : str, optional
        Name used in error messages, e.g. ``"Pooling 'pool1'"``.
    batch : int, optional
        With ``batch=B``, :meth:`compute` pools ``(B, *pre_shape)`` into
        ``(B, *post_shape)`` in one pass over the whole batch, each sample with
        exactly the plan (and so the bits) of the kernel without ``batch``.

    Raises
    ------
    ValidationError
        For an empty or non-positive geometry, post having more axes than pre,
        an unknown operation or dtype, an extent of the wrong length or with
        non-positive entries, an automatic extent that does not divide, or a
        post axis asking for more windows than start inside pre.

    Examples
    --------
    >>> import numpy as np
    >>> kernel = PoolingKernel((4, 6), (2, 3), operation="max")
    >>> kernel.extent
    (2, 2)
    >>> pre = np.arange(24.0).reshape(4, 6)
    >>> out = np.empty((2, 3))
    >>> kernel.compute(pre, out)
    >>> out
    array([[ 7.,  9., 11.],
           [19., 21., 23.]])
    >>> kernel.receptive_field(1)
    array([2, 3, 8, 9])

    An extent that overhangs the border: the last window holds one element.

    >>> mean = PoolingKernel((5,), (3,), extent=(2,), operation="mean")
    >>> res = np.empty(3)
    >>> mean.compute(np.array([1.0, 3.0, 5.0, 7.0, 9.0]), res)
    >>> res
    array([2., 6., 9.])

    A batch of two samples, pooled in one call:

    >>> both = PoolingKernel((4, 6), (2, 3), operation="max", batch=2)
    >>> out2 = np.empty((2, 2, 3))
    >>> both.compute(np.stack([pre, -pre]), out2)
    >>> out2[1]
    array([[ -0.,  -2.,  -4.],
           [-12., -14., -16.]])
    """

    def __init__(
        self,
        pre_shape: tuple[int, ...],
        post_shape: tuple[int, ...],
        extent: Sequence[int] | None = None,
        *,
        operation: str = "max",
        dtype: npt.DTypeLike = np.float64,
        owner: str = "Pooling",
        batch: int | None = None,
    ) -> None:
        self._owner = owner
        self._pre_shape = _as_shape(pre_shape, owner, "pre_shape")
        self._post_shape = _as_shape(post_shape, owner, "post_shape")
        self._operation = _as_operation(operation, owner)
        self._dtype = _as_dtype(dtype, owner)
        pre, post = self._pre_shape, self._post_shape
        if len(post) > len(pre):
            raise ValidationError(
                owner,
                "post_shape",
                f"post geometry {post} has more axes ({len(post)}) than pre geometry "
                f"{pre} ({len(pre)}); pooling can keep or remove axes, not add them",
            )
        if extent is None:
            self._extent = _automatic_extent(pre, post, owner)
        else:
            self._extent = _explicit_extent(extent, pre, post, owner)
        if batch is not None and (isinstance(batch, (bool, np.bool_)) or not isinstance(batch, (int, np.integer))
                                  or batch < 1):
            raise ValidationError(owner, "batch", "must be None or a positive integer", got=batch)
        self._batch = None if batch is None else int(batch)
        # A batch runs in passes of `chunk` samples whose intermediate buffers stay
        # in the cache (passes over the whole batch at once would send every
        # intermediate through RAM); the plan is built for one pass.
        self._chunk: int | None = None if self._batch is None else 1
        self._build_plan()
        if self._batch is not None:
            fit = max(1, _CHUNK_BYTES // max(self._work_bytes(), 1))
            self._chunk = max(d for d in range(1, min(fit, self._batch) + 1) if self._batch % d == 0)
            if self._chunk > 1:
                self._build_plan()
        self._chunk_key: tuple[Any, ...] | None = None
        self._chunk_steps: list[Step] = []
        # per pass, what _bind_out bound for its rows of out (kept while out stays: see _compute_in_passes)
        self._chunk_outs: list[tuple[Any, ...]] = []
        # Bound calls, rebuilt only when compute() receives other array objects:
        # the tail (stages fed by kernel buffers, writing into out) per out, the
        # head (what reads pre) per pre.  See _bind_out and _bind_pre.
        self._out: np.ndarray | None = None
        self._out_address = 0
        self._pre: np.ndarray | None = None
        self._tails: dict[bool, list[Step]] = {}
        self._steps: list[Step] = []

    # ------------------------------------------------------------------ API
    @property
    def extent(self) -> tuple[int, ...]:
        """Window size along every pre axis (the effective extent)."""
        return self._extent

    def synapse_count(self) -> int:
        """How many pre elements all post neurons pool: the sum of their windows' sizes.

        Windows are products of one interval per axis, so the sum is the
        product over axes of the summed interval lengths.

        Examples
        --------
        >>> PoolingKernel((5, 4), (2, 2), extent=(3, 2)).synapse_count()  # (3 + 2) * (2 + 2)
        20
        """
        total = 1
        for axis, (p, e) in enumerate(zip(self._pre_shape, self._extent)):
            starts = np.arange(self._post_shape[axis]) * e if axis < len(self._post_shape) else np.zeros(1, int)
            total *= int(np.sum(np.minimum(starts + e, p) - np.minimum(starts, p)))
        return total

    @property
    def batch(self) -> int | None:
        """Number of samples pooled per call, or ``None`` for one unbatched array."""
        return self._batch

    @property
    def chunk(self) -> int | None:
        """Samples of a batch pooled per pass (a divisor of ``batch``), or ``None`` without batch.

        Examples
        --------
        >>> PoolingKernel((4, 6), (2, 3), batch=8).chunk  # tiny buffers: the whole batch in one pass
        8
        """
        return self._chunk

    @property
    def pre_shape(self) -> tuple[int, ...]:
        """Geometry of the input array."""
        return self._pre_shape

    @property
    def post_shape(self) -> tuple[int, ...]:
        """Geometry of the output array."""
        return self._post_shape

    @property
    def operation(self) -> str:
        """``'max'``, ``'min'`` or ``'mean'``."""
        return self._operation

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the output (and of the fast path's input)."""
        return self._dtype

    def compute(self, pre: np.ndarray, out: np.ndarray) -> None:
        """Write the pooled values of ``pre`` into ``out``.

        Parameters
        ----------
        pre : ndarray
            Array of shape ``pre_shape``.  A C-contiguous array of the kernel's
            dtype is read in place; any other real array is first copied (and
            cast) into a staging buffer.
        out : ndarray
            Writable array of shape ``post_shape`` and the kernel's dtype.  It is
            overwritten, not added to.

        Notes
        -----
        The views and bound calls are built when an array is first seen and
        reused while the same arrays come back, so a step allocates nothing.  A
        new ``out`` object that is a view of the same memory as the bound one
        (a fresh ``reshape`` each step, say) keeps the bound calls; other memory
        rebuilds everything (about 20 us on the tutorial).  A new ``pre`` object
        each call (a view into a delay ring, a freshly computed psp) only
        rebuilds the calls that read pre, about 2 us.

        Examples
        --------
        >>> import numpy as np
        >>> kernel = PoolingKernel((2, 4), (1, 2), operation="min")
        >>> out = np.empty((1, 2))
        >>> kernel.compute(-np.arange(8.0).reshape(2, 4), out)
        >>> out
        array([[-5., -7.]])
        """
        if self._chunk != self._batch:
            self._compute_in_passes(pre, out)
            return
        if out is not self._out and not self._same_memory(out):
            self._bind_out(out)
        if pre is not self._pre:
            self._bind_pre(pre)
        for step in self._steps:
            step()

    def _compute_in_passes(self, pre: np.ndarray, out: np.ndarray) -> None:
        """A batch, ``chunk`` samples per pass through the (cache-resident) buffers."""
        assert self._batch is not None and self._chunk is not None
        shapes = ((self._batch, *self._pre_shape), (self._batch, *self._post_shape))
        for name, array, shape in (("pre", pre, shapes[0]), ("out", out, shapes[1])):
            if not isinstance(array, np.ndarray) or array.shape != shape:
                raise ValidationError(self._owner, name, f"must be an array of shape {shape}",
                                      got=getattr(array, "shape", array))
        # The bound calls hold views of both arrays, which keeps their memory
        # alive: an equal address and layout is the same memory.
        key = tuple((a.__array_interface__["data"][0], a.strides, a.dtype, a.flags.writeable) for a in (pre, out))
        if key != self._chunk_key:
            steps: list[Step] = []
            starts = range(0, self._batch, self._chunk)
            if self._chunk_key is not None and key[1] == self._chunk_key[1] and self._chunk_outs:
                # Only pre moved (a new batch of frames each step, read without a copy): each pass keeps
                # what was bound to its rows of out and binds its head to the new pre (~1 us per pass,
                # where binding out again rebuilds every stage, ~20 us per pass).
                for start, bound in zip(starts, self._chunk_outs):
                    self._target, self._finish, self._tails, self._out, self._out_address = bound
                    self._pre = None
                    self._bind_pre(pre[start : start + self._chunk])
                    steps += self._steps
            else:
                outs = []
                for start in starts:
                    self._bind_out(out[start : start + self._chunk])
                    self._bind_pre(pre[start : start + self._chunk])
                    steps += self._steps
                    outs.append((self._target, self._finish, self._tails, self._out, self._out_address))
                self._chunk_outs = outs
            self._chunk_steps, self._chunk_key = steps, key
        for step in self._chunk_steps:
            step()

    def _work_bytes(self) -> int:
        """Bytes of the buffers one pass writes and reads back (what must stay in the cache)."""
        arrays = [*self._buffers, self._final, *(a for s in self._stages for a in getattr(s, "scratch", []))]
        if self._staging is not None:
            arrays.append(self._staging)
        return sum(a.nbytes for a in arrays)

    def receptive_field(self, post_rank: int) -> np.ndarray:
        """Flat (C-order) pre ranks pooled by one post neuron.

        Parameters
        ----------
        post_rank : int
            Flat C-order rank of the post neuron, ``0 <= post_rank < prod(post_shape)``.

        Returns
        -------
        ndarray of int64
            Ascending ranks of the pre elements that exist in the window (an
            overhanging window lists only those inside pre).

        Examples
        --------
        >>> kernel = PoolingKernel((6, 8, 3), (3, 4), extent=(2, 2, 3))
        >>> kernel.receptive_field(0)
        array([ 0,  1,  2,  3,  4,  5, 24, 25, 26, 27, 28, 29])
        """
        size = math.prod(self._post_shape)
        if isinstance(post_rank, (bool, np.bool_)):
            rank = None
        else:
            try:
                rank = operator.index(post_rank)
            except TypeError:
                rank = None
        if rank is None or not 0 <= rank < size:
            raise ValidationError(
                self._owner,
                "post_rank",
                f"must be an integer in [0, {size}) for post geometry {self._post_shape}",
                got=post_rank,
            )
        index = np.unravel_index(rank, self._post_shape)
        ranges = []
        for axis, (p, e) in enumerate(zip(self._pre_shape, self._extent)):
            start = int(index[axis]) * e if axis < len(index) else 0
            ranges.append(np.arange(start, min(start + e, p)))
        grids = np.meshgrid(*ranges, indexing="ij")
        return np.ravel_multi_index(grids, self._pre_shape).ravel().astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"PoolingKernel(pre_shape={self._pre_shape}, post_shape={self._post_shape}, "
            f"extent={self._extent}, operation={self._operation!r}, "
            f"dtype={self._dtype.name}"
            + ("" if self._batch is None else f", batch={self._batch}") + ")"
        )

    def describe(self) -> str:
        """One line per reduction stage: its ``(A, e, B)`` view and method.

        Examples
        --------
        >>> print(PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean").describe())
        read pre in place
        axis 0: (48, 10, 1920) batched
        axis 1: (3072, 10, 3) double(span=2)
        scale by 1/count
        """
        lines = ["copy pre into a padded staging buffer" if self._staged else "read pre in place"]
        lines += [f"axis {s.axis}: {(s.A, s.e, s.B)} {s.label}" for s in self._stages]
        if not self._stages:
            lines.append("copy (every extent is 1)")
        if self._scale is not None and not self._scale_folded:
            lines.append("scale by 1/count")
        return "\n".join(lines)

    # ------------------------------------------------------------ planning
    def _build_plan(self) -> None:
        # A batch (one pass of it) is one more leading axis, of extent 1: it is never reduced.
        copies = 1 if self._chunk is None else self._chunk
        leading = () if self._chunk is None else (self._chunk,)
        self._in_shape = leading + self._pre_shape
        self._out_shape = leading + self._post_shape
        lead = len(leading)
        pre, ext = self._in_shape, (1,) * lead + self._extent
        post = self._out_shape
        op = self._operation
        # Post padded with 1s to the pre rank: missing axes have one window at 0.
        windows = post + (1,) * (len(pre) - len(post))
        tiled = tuple(n * e for n, e in zip(windows, ext))
        covered = tuple(min(p, t) for p, t in zip(pre, tiled))
        self._tiled = tiled
        self._covered_index = tuple(slice(0, c) for c in covered)
        self._partial = any(t > p for p, t in zip(pre, tiled))
        # The tiled region can be read straight from pre when it is exactly pre,
        # or a contiguous slice of it (gaps only along the first non-trivial axis).
        self._staged = self._partial or not _slice_is_contiguous(pre, covered)
        self._staging: np.ndarray | None = None
        self._staging_view: np.ndarray | None = None
        if self._staged:
            self._staging = np.full(tiled, _IDENTITY[op], dtype=self._dtype)
            self._staging_view = self._staging[self._covered_index]

        # Mean: one scalar 1/count, or a per-window array when windows are partial.
        self._scale: float | np.ndarray | None = None
        if op == "mean":
            if self._partial:
                counts = np.ones(post, dtype=np.float64)
                for axis, (p, n, e) in enumerate(zip(pre, windows, ext)):
                    per_axis = np.minimum(np.arange(1, n + 1) * e, p) - np.arange(n) * e
                    if axis < len(post):
                        shape = [1] * len(post)
                        shape[axis] = n
                        counts = counts * per_axis.reshape(shape)
                    else:
                        counts = counts * per_axis[0]
                self._scale = (1.0 / counts).astype(self._dtype).reshape(-1)
            elif math.prod(ext) > 1:
                self._scale = 1.0 / math.prod(ext)

        self._stages: list[_Stage] = []
        a_before = 1
        for axis, (n, e) in enumerate(zip(windows, ext)):
            a_before *= n
            if e == 1:
                continue
            inner = math.prod(tiled[axis + 1 :])
            # Planned for one sample (a_before / copies windows), so that every
            # sample gets the method, and the rounding, of the unbatched kernel.
            self._stages.append(_plan_stage(axis - lead, a_before, e, inner, op, self._dtype, copies))
        # Stage outputs other than the last go to buffers owned by the kernel.
        self._buffers = [
            np.empty((s.A, s.B), dtype=self._dtype) for s in self._stages[:-1]
        ]
        self._scale_folded = False
        if self._stages and isinstance(self._scale, float) and self._stages[-1].can_scale:
            self._stages[-1].set_weight(self._scale, self._dtype)
            self._scale_folded = True
        self._final = np.empty(math.prod(post), dtype=self._dtype)

    def _same_memory(self, out: object) -> bool:
        """Whether ``out`` is laid out over exactly the memory the calls are bound to.

        The bound calls write through the earlier view, which keeps that memory
        alive, so an equal address, shape, strides and dtype mean the same elements.
        """
        bound = self._out
        return (
            bound is not None
            and isinstance(out, np.ndarray)
            and out.base is bound.base  # cheap tests first: the address costs about 1 us
            and out.shape == bound.shape
            and out.strides == bound.strides
            and out.dtype == bound.dtype
            and out.flags.writeable
            and out.__array_interface__["data"][0] == self._out_address
        )

    def _bind_out(self, out: np.ndarray) -> None:
        """Check ``out`` and bind every call that does not read pre to it."""
        if (
            not isinstance(out, np.ndarray)
            or out.shape != self._out_shape
            or out.dtype != self._dtype
            or not out.flags.writeable
        ):
            raise ValidationError(
                self._owner, "out",
                f"must be a writable array of shape {self._out_shape} and dtype "
                f"{self._dtype.name}",
                got=f"{type(out).__name__} of shape {getattr(out, 'shape', None)} and "
                f"dtype {getattr(out, 'dtype', None)}",
                got_repr=False,
            )
        # Write straight into out when its memory is C-ordered, else via a buffer.
        direct = out.flags.c_contiguous
        self._target = out.reshape(-1) if direct else self._final
        finish: list[Step] = []
        if self._scale is not None and not self._scale_folded:
            finish.append(partial(np.multiply, self._target, self._scale, out=self._target))
        if not direct:
            finish.append(partial(np.copyto, out, self._final.reshape(self._out_shape)))
        self._finish = finish
        self._tails = {}  # built by _tail() when a pre needs one
        self._out = out
        self._out_address = out.__array_interface__["data"][0]
        self._pre = None  # the head may write into the old out: rebind it

    def _bind_pre(self, pre: np.ndarray) -> None:
        """Check ``pre`` and bind the calls that read it (the head)."""
        if not isinstance(pre, np.ndarray) or pre.shape != self._in_shape:
            raise ValidationError(
                self._owner, "pre", f"must be an array of shape {self._in_shape}",
                got=getattr(pre, "shape", pre),
            )
        if pre.dtype.kind not in "biuf":
            raise ValidationError(self._owner, "pre", "must hold real numbers", got=pre.dtype)
        staged = self._staged or pre.dtype != self._dtype or not pre.flags.c_contiguous
        tail = self._tail(staged)  # first: it may allocate the staging buffer
        if staged:
            assert self._staging_view is not None  # allocated by _tail
            head: list[Step] = [
                partial(np.copyto, self._staging_view, pre[self._covered_index],
                        casting="unsafe")
            ]
        else:
            # The covered region is a C-contiguous prefix of pre (checked when
            # planning), so this is a view, never a silent copy.
            head = self._bind_stages(pre.reshape(-1)[: math.prod(self._tiled)], 0, stop=1)
        self._steps = head + tail
        self._pre = pre

    def _tail(self, staged: bool) -> list[Step]:
        """Calls after the head: after a staging copy every stage reads kernel
        buffers; when pre is read in place the head has run the first stage."""
        tail = self._tails.get(staged)
        if tail is None:
            if staged and self._staging is None:
                # Exact tiling, but this pre has another dtype or layout.
                self._staging = np.empty(self._tiled, dtype=self._dtype)
                self._staging_view = self._staging[self._covered_index]
            if staged:
                assert self._staging is not None
                tail = self._bind_stages(self._staging.reshape(-1), 0)
            else:
                tail = self._bind_stages(None, 1)
            tail += self._finish
            self._tails[staged] = tail
        return tail

    def _bind_stages(self, source: np.ndarray | None, start: int, stop: int | None = None
                     ) -> list[Step]:
        """Calls of stages ``start:stop``; ``source`` feeds stage ``start``.

        ``None`` means the output buffer of stage ``start - 1``.  The last stage
        writes into the bound target; with no stage at all (every extent 1) the
        first "stage" is a copy.
        """
        stages = self._stages
        stop = len(stages) if stop is None else stop
        if not stages:
            if start:
                return []
            assert source is not None, "the copy that stands for no stage reads pre"
            return [partial(np.copyto, self._target, source)]
        steps: list[Step] = []
        for index in range(start, min(stop, len(stages))):
            stage = stages[index]
            if source is None:
                source = self._buffers[index - 1].reshape(-1)
            last = index == len(stages) - 1
            dst = self._target.reshape(stage.A, stage.B) if last else self._buffers[index]
            steps.extend(stage.bind(source, dst))
            source = dst.reshape(-1)
        return steps


# ---------------------------------------------------------------- stages
class _Stage:
    """One reduction over a contiguous ``(A, e, B)`` view, bound to arrays later."""

    label = "?"
    can_scale = False
    copies = 1  # samples of a batch, one after the other along A

    def __init__(self, axis: int, A: int, e: int, B: int, ufunc: np.ufunc) -> None:
        self.axis, self.A, self.e, self.B, self.ufunc = axis, A, e, B, ufunc

    def set_weight(self, weight: float, dtype: np.dtype) -> None:  # pragma: no cover
        raise NotImplementedError

    def bind(self, src: np.ndarray, dst: np.ndarray) -> list[Step]:  # pragma: no cover
        raise NotImplementedError


class _Batched(_Stage):
    """Sum as ``(1, e) @ (A, e, B)``: one BLAS gemv per window row."""

    label = "batched"
    can_scale = True

    def __init__(self, *args, dtype: np.dtype) -> None:
        super().__init__(*args)
        self.weights = np.ones((1, self.e), dtype=dtype)

    def set_weight(self, weight: float, dtype: np.dtype) -> None:
        self.weights = np.full((1, self.e), weight, dtype=dtype)

    def bind(self, src: np.ndarray, dst: np.ndarray) -> list[Step]:
        view = src.reshape(self.A, self.e, self.B)
        return [partial(np.matmul, self.weights, view, out=dst.reshape(self.A, 1, self.B))]


class _Gemv(_Stage):
    """Sum of contiguous runs of ``e`` as ``(A, e) @ w``."""

    label = "gemv"
    can_scale = True

    def __init__(self, *args, dtype: np.dtype) -> None:
        super().__init__(*args)
        self.weights = np.ones(self.e, dtype=dtype)

    def set_weight(self, weight: float, dtype: np.dtype) -> None:
        self.weights = np.full(self.e, weight, dtype=dtype)

    def bind(self, src: np.ndarray, dst: np.ndarray) -> list[Step]:
        # One product per sample: BLAS rounds an output row differently depending
        # on how many rows the call has, so a batch in one call would not give
        # each sample the bits of the unbatched kernel.
        rows = self.A // self.copies
        matrices = src.reshape(self.copies, rows, self.e)
        outs = dst.reshape(self.copies, rows)
        return [
            partial(np.matmul, matrix, self.weights, out=target)
            for matrix, target in zip(matrices, outs)
        ]


class _Reduce(_Stage):
    """``ufunc.reduce`` over the middle axis; good when its inner rows are long."""

    label = "reduce"

    def bind(self, src: np.ndarray, dst: np.ndarray) -> list[Step]:
        view = src.reshape(self.A, self.e, self.B)
        return [partial(self.ufunc.reduce, view, axis=1, out=dst)]


class _Double(_Stage):
    """Shift-and-combine passes, then strided picks (see :func:`_double_terms`).

    Level ``t`` holds, at flat position ``k``, the reduction of the input at
    ``k, k + B, ..., k + (2**t - 1) * B``: one contiguous ufunc call over nearly
    the whole array builds it from level ``t - 1``.  The output is then the
    combination of a few levels read at window starts (a strided ``(A, B)`` view
    each).  Levels alternate between two scratch buffers.
    """

    def __init__(self, *args, levels: int, dtype: np.dtype, idempotent: bool) -> None:
        super().__init__(*args)
        self.levels = levels
        self.terms = _double_terms(self.e, levels, idempotent)
        size = self.A * self.e * self.B
        self.scratch = [np.empty(size, dtype=dtype) for _ in range(min(levels, 2))]
        self.per_column = self.B <= 4
        self.label = f"double(span={1 << levels})" if levels else "slices"

    def bind(self, src: np.ndarray, dst: np.ndarray) -> list[Step]:
        A, e, B, ufunc = self.A, self.e, self.B, self.ufunc
        size = A * e * B
        steps: list[Step] = []
        level_arrays = [src]
        for t in range(1, self.levels + 1):
            prev = level_arrays[-1]
            shift = (1 << (t - 1)) * B
            length = size - ((1 << t) - 1) * B
            buf = self.scratch[(t - 1) % 2]
            steps.append(
                partial(ufunc, prev[:length], prev[shift : shift + length], out=buf[:length])
            )
            level_arrays.append(buf)
        # Term (level, j): level array read at the window starts shifted by j rows.
        views = [
            level_arrays[level].reshape(A, e * B)[:, j * B : (j + 1) * B]
            for level, j in self.terms
        ]
        targets = [(dst[:, b], [v[:, b] for v in views]) for b in range(B)] if (
            self.per_column and B > 1
        ) else [(dst, views)]
        for target, terms in targets:
            if len(terms) == 1:
                steps.append(partial(np.copyto, target, terms[0]))
                continue
            steps.append(partial(ufunc, terms[0], terms[1], out=target))
            steps.extend(partial(ufunc, target, term, out=target) for term in terms[2:])
        return steps


def _double_terms(e: int, levels: int, idempotent: bool) -> list[tuple[int, int]]:
    """Which (level, row shift) pairs combine into a window of ``e`` rows.

    A level-``t`` term covers ``2**t`` rows.  ``max``/``min`` may cover a row twice,
    so the last term is pulled back to end exactly at ``e``; a sum must not, so the
    rows left over after the full spans come from level 0 one by one.
    """
    span = 1 << levels
    if idempotent:
        count = -(-e // span)
        return [(levels, min(i * span, e - span)) for i in range(count)]
    full = e // span
    return [(levels, i * span) for i in range(full)] + [
        (0, j) for j in range(full * span, e)
    ]


def _double_cost(A: int, e: int, B: int, levels: int, idempotent: bool, itemsize: int) -> float:
    """Estimated nanoseconds of a :class:`_Double` stage (see the ``_NS_`` constants)."""
    size = A * e * B
    passes = sum(size - ((1 << t) - 1) * B for t in range(1, levels + 1))
    cost = passes * _NS_PASS + levels * _NS_CALL
    ops = max(len(_double_terms(e, levels, idempotent)) - 1, 1)
    if B <= 4:
        # 1-D picks, one per column: cheap while the stride stays within a cache line.
        far = min(1.0, e * B * itemsize / 64)
        per_op = B * (A * (_NS_PASS + far * (_NS_FAR - _NS_PASS)) + _NS_CALL)
    else:
        per_op = A * B * _NS_ROW + A * _NS_LOOP + _NS_CALL
    return cost + ops * per_op


def _plan_stage(axis: int, A: int, e: int, B: int, operation: str, dtype: np.dtype, copies: int = 1) -> _Stage:
    """Choose the cheapest way to reduce a contiguous ``(A, e, B)`` array over axis 1.

    The candidates are ranked by a rough cost model rather than timed, so the
    choice (and with it the rounding of a mean) is the same on every run.
    ``copies`` samples of a batch lie one after the other (``A`` counts all of
    them); the choice is made for one sample, so it does not depend on the batch.
    """
    ufunc = _UFUNCS[operation]
    args = (axis, A, e, B, ufunc)
    A //= copies
    size = A * e * B
    idempotent = operation != "mean"
    candidates: dict[Callable[[], _Stage], float] = {}
    for levels in range(e.bit_length()):  # spans 1, 2, 4, ... up to e
        cost = _double_cost(A, e, B, levels, idempotent, dtype.itemsize)
        candidates[partial(_Double, *args, levels=levels, dtype=dtype,
                           idempotent=idempotent)] = cost
    if operation == "mean":
        if B == 1:
            candidates[partial(_Gemv, *args, dtype=dtype)] = (
                A * _NS_GEMV_ROW + size * _NS_BLAS + _NS_CALL
            )
        candidates[partial(_Batched, *args, dtype=dtype)] = (
            A * _NS_BATCH + size * _NS_BLAS + _NS_CALL
        )
    else:
        loops = A if B == 1 else A * e
        candidates[partial(_Reduce, *args)] = (
            loops * _NS_REDUCE_LOOP + size * _NS_PASS + _NS_CALL
        )
    stage = min(candidates, key=candidates.__getitem__)()
    stage.copies = copies
    return stage


# ------------------------------------------------------------ validation
def _slice_is_contiguous(shape: tuple[int, ...], covered: tuple[int, ...]) -> bool:
    """Whether ``a[:covered[0], :covered[1], ...]`` of a C-ordered ``a`` is contiguous."""
    short = [k for k, (p, c) in enumerate(zip(shape, covered)) if c < p]
    if not short:
        return True
    # Every axis before the last shortened one must have a single index left.
    return all(c == 1 for c in covered[: short[-1]])


def _as_shape(value: Any, owner: str, argument: str) -> tuple[int, ...]:
    try:
        items = tuple(value)
        if not items or any(isinstance(v, (bool, np.bool_)) for v in items):
            raise TypeError
        shape = tuple(operator.index(v) for v in items)
    except TypeError:
        raise ValidationError(
            owner, argument, "must be a non-empty tuple of positive integers", got=value
        ) from None
    if any(n <= 0 for n in shape):
        raise ValidationError(
            owner, argument, "must be positive integers: every axis needs at least one "
            "element (a shape with zeros has nothing to pool)", got=value,
        )
    return shape


def _as_operation(operation: object, owner: str) -> str:
    if isinstance(operation, str) and operation in _UFUNCS:
        return operation
    message = "must be one of 'max', 'mean', 'min'"
    if isinstance(operation, str):
        close = closest(operation.lower(), sorted(_UFUNCS), cutoff=0.5)
        if operation.lower() in ("avg", "average"):
            close = "mean"
        if close:
            message += f"; did you mean {close!r}?"
    raise ValidationError(owner, "operation", message, got=operation)


def _as_dtype(dtype: Any, owner: str) -> np.dtype:
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    # ``None in _DTYPES`` is True (numpy reads None as float64), hence the check.
    if result is None or result not in _DTYPES:
        raise ValidationError(owner, "dtype", "must be float32 or float64", got=dtype)
    return result


def _fitting_extent(p: int, n: int) -> int | None:
    """An extent giving ``n`` non-empty windows along an axis of ``p``, or None.

    Prefer the smallest extent covering the whole axis (the last window may
    overhang); otherwise the largest extent whose windows all fit (a tail is left).
    """
    if n > p:
        return None
    if p % n == 0:
        return p // n
    cover = -(-p // n)
    if (n - 1) * cover < p:
        return cover
    return p // n


def _describe_fit(axis: int, p: int, n: int, e: int) -> str:
    if n * e > p:
        return f"axis {axis}: the last window overhangs and pools {p - (n - 1) * e} of {e}"
    if n * e < p:
        return f"axis {axis}: the last {p - n * e} element(s) are not pooled"
    return ""


def _suggest(
    pre: tuple[int, ...], post: tuple[int, ...], given: tuple[int, ...] = ()
) -> str:
    """``" such as (4, 2) (...)"`` for an extent that works, or ``""`` if none does."""
    extent: list[int] = []
    notes: list[str] = []
    for axis, p in enumerate(pre):
        n = post[axis] if axis < len(post) else 1
        if axis < len(given) and given[axis] > 0 and (n - 1) * given[axis] < p:
            e: int | None = given[axis]
        elif axis < len(post):
            e = _fitting_extent(p, n)
        else:
            e = p  # an axis post lacks: pool all of it
        if e is None:
            return ""
        extent.append(e)
        note = _describe_fit(axis, p, n, e)
        if note:
            notes.append(note)
    text = f" such as extent={tuple(extent)}"
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def _automatic_extent(
    pre: tuple[int, ...], post: tuple[int, ...], owner: str
) -> tuple[int, ...]:
    if len(pre) != len(post):
        raise ValidationError(
            owner,
            "extent",
            f"cannot be inferred: pre geometry {pre} has {len(pre)} axes but post geometry "
            f"{post} has {len(post)}; give one extent per pre axis{_suggest(pre, post)}",
            got=None,
        )
    for axis, (p, n) in enumerate(zip(pre, post)):
        if n > p:
            raise ValidationError(
                owner,
                "post_shape",
                f"post geometry {post} is larger than pre geometry {pre} along axis "
                f"{axis} ({n} > {p}); pooling cannot make more windows than elements",
            )
    bad = [axis for axis, (p, n) in enumerate(zip(pre, post)) if p % n]
    if bad:
        ratios = ", ".join(f"axis {k}: {pre[k]} / {post[k]}" for k in bad)
        raise ValidationError(
            owner,
            "extent",
            f"cannot be inferred: pre geometry {pre} is not a whole multiple of post "
            f"geometry {post} ({ratios}); give an explicit extent{_suggest(pre, post)}, "
            "or choose a post geometry that divides the pre geometry",
            got=None,
        )
    return tuple(p // n for p, n in zip(pre, post))


def _explicit_extent(
    extent: Any, pre: tuple[int, ...], post: tuple[int, ...], owner: str
) -> tuple[int, ...]:
    try:
        if isinstance(extent, (str, bytes)):
            raise TypeError
        items = tuple(extent)
        if any(isinstance(v, (bool, np.bool_)) for v in items):
            raise TypeError
        values = tuple(operator.index(v) for v in items)
    except TypeError:
        raise ValidationError(
            owner, "extent", "must be None or a tuple of positive integers, one per pre "
            f"axis ({len(pre)} for pre geometry {pre})", got=extent,
        ) from None
    if len(values) != len(pre):
        raise ValidationError(
            owner,
            "extent",
            f"must have one entry per pre axis: pre geometry {pre} has {len(pre)} axes, "
            f"the extent has {len(values)}; give the full extent{_suggest(pre, post, values)}",
            got=extent,
        )
    if any(e <= 0 for e in values):
        raise ValidationError(
            owner, "extent", "must be positive integers (a window needs at least one "
            "element)", got=extent,
        )
    for axis, (p, n, e) in enumerate(zip(pre, post, values)):
        if (n - 1) * e >= p:
            fits = -(-p // e)
            largest = (p - 1) // (n - 1) if n <= p else 0
            remedy = (
                f"use an extent of at most {largest} along axis {axis} or a smaller post "
                "geometry" if largest else "use a smaller post geometry"
            )
            raise ValidationError(
                owner,
                "extent",
                f"post geometry {post} needs {n} windows along axis {axis}, but only "
                f"{fits} window(s) of extent {e} start inside pre geometry {pre} (window "
                f"{n - 1} would start at {(n - 1) * e}); {remedy}",
                got=extent,
            )
    return values
