"""Weight storage for projections: dense matrices or compressed sparse rows, behind one interface.

Rows are post-synaptic neurons (in the order of ``post.ranks``), columns are
pre-synaptic neurons (in the order of ``pre.ranks``).  Every synaptic array
(``w``, learning variables, delays) has the layout of the storage: a
``(n_post, n_pre)`` matrix for dense storage, a ``(nnz,)`` vector aligned with
``indices`` for sparse storage.  :class:`Storage` lists what projections ask
of a layout; :class:`Dense` and :class:`Sparse` answer it, so no caller
branches on the kind.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["Storage", "Dense", "Sparse", "matvec_function", "matvecs_function", "from_arrays"]

_KERNELS: dict[str, Any] = {}


def sparsetools(name: str) -> Any:
    """scipy's in-place sparse kernel ``name`` (None if scipy does not provide it).

    Imported on first use: ``import ratenet`` does not pay for scipy.sparse.
    """
    if name not in _KERNELS:
        try:  # these kernels add A @ x into y in place, with no allocation per call
            from scipy.sparse import _sparsetools

            _KERNELS[name] = getattr(_sparsetools, name)
        except (ImportError, AttributeError):  # pragma: no cover - older or future scipy layouts
            _KERNELS[name] = None
    return _KERNELS[name]


def matvec_function(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int,
                    transposed: bool = False) -> Callable[[np.ndarray, np.ndarray], None]:
    """A function ``f(x, y)`` setting ``y = A @ x`` (or ``A.T @ x``), bound once for speed.

    ``A`` is the CSR matrix ``(data, indices, indptr)`` with ``n_cols`` columns.
    Each row sums its products in storage order, starting from 0.

    Examples
    --------
    >>> import numpy as np
    >>> f = matvec_function(np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1., 2., 3.]), 2)
    >>> y = np.empty(2); f(np.ones(2), y); y.tolist()
    [3.0, 3.0]
    """
    n_rows = len(indptr) - 1
    kernel = sparsetools("csc_matvec" if transposed else "csr_matvec")
    if kernel is None:  # pragma: no cover - without scipy's kernels
        import scipy.sparse as sp

        matrix = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
        if transposed:
            matrix = matrix.T

        def slow(x: np.ndarray, y: np.ndarray) -> None:
            y[...] = matrix @ x

        return slow
    rows, cols = (n_cols, n_rows) if transposed else (n_rows, n_cols)

    def product(x: np.ndarray, y: np.ndarray) -> None:
        y.fill(0)
        kernel(rows, cols, indptr, indices, data, x, y)

    return product


def matvecs_function(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int, batch: int,
                     dtype: Any, transposed: bool = False) -> Callable[[np.ndarray, np.ndarray], None]:
    """A function ``f(x, y)`` setting ``y = x @ A.T`` (or ``x @ A``) for a batch ``x`` of shape ``(batch, n)``.

    One call of SciPy's multi-vector kernel: each row of the result is summed
    in storage order from 0 with the same operations as :func:`matvec_function`
    on that sample alone (the same bits).

    Examples
    --------
    >>> import numpy as np
    >>> f = matvecs_function(np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1., 2., 3.]), 2, 2, np.float64)
    >>> y = np.empty((2, 2)); f(np.array([[1.0, 1.0], [1.0, 10.0]]), y); y.tolist()
    [[3.0, 3.0], [21.0, 30.0]]
    """
    n_rows = len(indptr) - 1
    rows, cols = (n_cols, n_rows) if transposed else (n_rows, n_cols)
    kernel = sparsetools("csc_matvecs" if transposed else "csr_matvecs")
    columns = np.empty((cols, batch), dtype=dtype)  # the batch, one row per input neuron
    result = np.empty((rows, batch), dtype=dtype)
    if kernel is None:  # pragma: no cover - without scipy's kernels
        import scipy.sparse as sp

        matrix = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
        if transposed:
            matrix = matrix.T

        def slow(x: np.ndarray, y: np.ndarray) -> None:
            y[...] = (matrix @ x.T).T

        return slow

    def product(x: np.ndarray, y: np.ndarray) -> None:
        np.copyto(columns, x.T)
        result.fill(0)
        kernel(rows, cols, batch, indptr, indices, data, columns, result)
        np.copyto(y, result.T)

    return product


_NEUTRAL = {"sum": 0.0, "mean": 0.0, "max": -np.inf, "min": np.inf}
_UFUNC: dict[str, np.ufunc] = {"sum": np.add, "mean": np.add, "max": np.maximum, "min": np.minimum}


class Storage:
    """What a projection asks of its synapse layout (implemented by :class:`Dense` and :class:`Sparse`).

    Attributes
    ----------
    kind : str
        ``"dense"`` or ``"csr"`` (what ``proj.storage_format`` reports).
    n_post, n_pre : int
    shape : tuple
        The layout of a per-synapse array.
    full : bool
        Every (post, pre) pair is a synapse and arrays are ``(n_post, n_pre)``
        matrices (``proj.w`` is then one matrix rather than one list per dendrite).
    spreads_by_view : bool
        :meth:`spread_pre` returns a view of its argument (so it can be made
        once for an array that never moves) rather than a gathered copy.

    Examples
    --------
    The same three synapses, stored both ways, answer the same questions:

    >>> import numpy as np
    >>> dense = Dense(2, 2, mask=np.array([[True, False], [True, True]]))
    >>> sparse = Sparse(2, 2, np.array([0, 1, 3]), np.array([0, 0, 1]))
    >>> for storage, w in ((dense, np.array([[1.0, 0.0], [2.0, 3.0]])), (sparse, np.array([1.0, 2.0, 3.0]))):
    ...     out = np.empty(2)
    ...     storage.reducer("sum")(w * storage.spread_pre(np.array([10.0, 100.0])), out)
    ...     print(storage.nnz, storage.row_sizes().tolist(), storage.synapse_values(w).tolist(), out.tolist())
    3 [1, 2] [1.0, 2.0, 3.0] [10.0, 320.0]
    3 [1, 2] [1.0, 2.0, 3.0] [10.0, 320.0]
    """

    kind = ""
    n_post: int
    n_pre: int
    shape: tuple[int, ...]
    full = False
    spreads_by_view = False

    @property
    def nnz(self) -> int:
        raise NotImplementedError

    def row_sizes(self) -> np.ndarray:
        """Number of synapses of every row."""
        raise NotImplementedError

    def pre_ranks_of(self, row: int) -> np.ndarray:
        """Columns (pre indices) of the synapses of ``row``, in storage order."""
        raise NotImplementedError

    def has(self, row: int, col: int) -> bool:
        raise NotImplementedError

    def row_values(self, array: np.ndarray, row: int) -> np.ndarray:
        """The values of ``row``'s synapses (a view)."""
        raise NotImplementedError

    def set_row_values(self, array: np.ndarray, row: int, values: Any) -> None:
        raise NotImplementedError

    def synapse_values(self, array: np.ndarray) -> np.ndarray:
        """One value per existing synapse, row by row."""
        raise NotImplementedError

    def set_synapse_values(self, array: np.ndarray, values: Any) -> None:
        """Write one value per existing synapse (row by row), or one value for all."""
        raise NotImplementedError

    def clear_absent(self, array: np.ndarray) -> None:
        """Zero the entries that are not synapses (dense layouts with holes)."""

    def absent_stage(self, array: np.ndarray) -> Callable[[], Any] | None:
        """A function keeping ``array`` at 0 where there is no synapse (None if there is no such place)."""
        return None

    def to_matrix(self, array: np.ndarray, fill: float = 0.0) -> np.ndarray:
        raise NotImplementedError

    def from_matrix(self, matrix: np.ndarray, dtype: Any) -> np.ndarray:
        raise NotImplementedError

    def empty(self, dtype: Any, fill: float = 0.0) -> np.ndarray:
        """A per-synapse array filled with ``fill`` (0 where there is no synapse)."""
        raise NotImplementedError

    def columns(self) -> np.ndarray:
        """The column of every entry of a per-synapse array (in its layout)."""
        raise NotImplementedError

    def rows_of_synapses(self) -> np.ndarray:
        """The row of every synapse, in the order of :meth:`synapse_values`."""
        raise NotImplementedError

    def columns_of_synapses(self) -> np.ndarray:
        """The column of every synapse, in the order of :meth:`synapse_values`."""
        raise NotImplementedError

    def existing(self) -> np.ndarray:
        """A new boolean ``(n_post, n_pre)`` matrix, True where a synapse exists."""
        raise NotImplementedError

    def spread_pre(self, values: np.ndarray) -> np.ndarray:
        """Pre-synaptic values (one per column) broadcast to the layout."""
        raise NotImplementedError

    def spread_post(self, values: np.ndarray) -> np.ndarray:
        """Post-synaptic values (one per row) broadcast to the layout."""
        raise NotImplementedError

    def reducer(self, operation: str) -> Callable[[np.ndarray, np.ndarray], None]:
        """A function ``f(values, out)`` combining per-synapse ``values`` row by row (0 for empty rows)."""
        raise NotImplementedError

    def one_per_row(self) -> np.ndarray | None:
        """When every row has exactly one synapse, the column of each (else None)."""
        return None

    def with_synapses(self, row: int, cols: np.ndarray) -> tuple["Storage", Callable[[np.ndarray, Any], np.ndarray]]:
        """A storage with synapses added in ``row`` at ``cols`` (absent before), and a function
        ``grow(array, values)`` returning a per-synapse array in the new layout with ``values`` there."""
        raise NotImplementedError

    def without_synapses(self, row: int, cols: np.ndarray) -> tuple["Storage", Callable[[np.ndarray], np.ndarray]]:
        """A storage with the synapses of ``row`` at ``cols`` removed, and a function ``shrink(array)``
        returning a per-synapse array in the new layout."""
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """What a state file keeps of the layout (see :func:`from_arrays`)."""
        raise NotImplementedError


class Dense(Storage):
    """A full ``(n_post, n_pre)`` layout; ``mask`` marks existing synapses (None: all exist).

    A pattern that lacks only a few synapses (all-to-all without self-connections)
    can list them as ``missing=(rows, cols)`` instead: the boolean mask, one byte
    per possible synapse, is then built only when something asks for it
    (inspection, learning rules, saving), not for transmission.

    Examples
    --------
    >>> import numpy as np
    >>> s = Dense(2, 3, mask=np.array([[True, False, True], [True, True, True]]))
    >>> s.nnz, s.pre_ranks_of(0).tolist()
    (5, [0, 2])
    >>> s = Dense(3, 3, missing=(np.arange(3), np.arange(3)))   # no self-connections
    >>> s.nnz, s.row_sizes().tolist(), s.mask[1].tolist()
    (6, [2, 2, 2], [True, False, True])
    """

    kind = "dense"
    spreads_by_view = True

    def __init__(self, n_post: int, n_pre: int, mask: np.ndarray | None = None,
                 missing: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.n_post, self.n_pre = n_post, n_pre
        if mask is not None and mask.all():
            mask = None
        if missing is not None and len(missing[0]) == 0:
            missing = None
        self._mask = mask
        # (rows, cols) of absent synapses, each pair once; only when no mask was given
        self._missing = None if mask is not None or missing is None else (
            np.asarray(missing[0], dtype=np.intp), np.asarray(missing[1], dtype=np.intp))
        self.shape = (n_post, n_pre)
        self.full = mask is None and self._missing is None

    @property
    def mask(self) -> np.ndarray | None:
        """Boolean ``(n_post, n_pre)`` matrix of existing synapses, or None when all exist."""
        if self._mask is None and self._missing is not None:
            mask = np.ones(self.shape, dtype=bool)
            mask[self._missing] = False
            self._mask = mask
        return self._mask

    @property
    def nnz(self) -> int:
        if self._mask is None and self._missing is not None:
            return self.n_post * self.n_pre - len(self._missing[0])
        return self.n_post * self.n_pre if self.mask is None else int(np.count_nonzero(self.mask))

    def row_sizes(self) -> np.ndarray:
        if self._mask is None and self._missing is not None:
            return self.n_pre - np.bincount(self._missing[0], minlength=self.n_post)
        if self.mask is None:
            return np.full(self.n_post, self.n_pre)
        return self.mask.sum(axis=1)

    def pre_ranks_of(self, row: int) -> np.ndarray:
        if self.mask is None:
            return np.arange(self.n_pre)
        return np.flatnonzero(self.mask[row])

    def has(self, row: int, col: int) -> bool:
        return self.mask is None or bool(self.mask[row, col])

    def row_values(self, array: np.ndarray, row: int) -> np.ndarray:
        return array[row] if self.mask is None else array[row][self.mask[row]]

    def set_row_values(self, array: np.ndarray, row: int, values: Any) -> None:
        if self.mask is None:
            array[row] = values
        else:
            array[row, self.mask[row]] = values

    def synapse_values(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(-1) if self.mask is None else array[self.mask]

    def set_synapse_values(self, array: np.ndarray, values: Any) -> None:
        if self.mask is None:
            array[...] = np.reshape(values, self.shape) if np.ndim(values) else values
        else:
            array[self.mask] = values

    def clear_absent(self, array: np.ndarray) -> None:
        if self.mask is not None:
            array[~self.mask] = 0

    def absent_stage(self, array: np.ndarray) -> Callable[[], Any] | None:
        if self._mask is None and self._missing is not None:
            # a few listed places (no self-connections): zero them, not a pass over the whole matrix
            missing = self._missing

            def zero_missing() -> None:
                array[missing] = 0.0

            return zero_missing
        mask = self.mask
        if mask is None:
            return None

        def keep_absent_zero() -> None:
            np.multiply(array, mask, out=array)

        return keep_absent_zero

    def to_matrix(self, array: np.ndarray, fill: float = 0.0) -> np.ndarray:
        if self.mask is None:
            return array.copy()
        return np.where(self.mask, array, fill)

    def from_matrix(self, matrix: np.ndarray, dtype: Any) -> np.ndarray:
        out = np.array(matrix, dtype=dtype)
        if self.mask is not None:
            out[~self.mask] = 0
        return out

    def empty(self, dtype: Any, fill: float = 0.0) -> np.ndarray:
        out = np.full(self.shape, fill, dtype=dtype)
        if self.mask is not None and fill != 0:
            out[~self.mask] = 0
        return out

    def columns(self) -> np.ndarray:
        return np.broadcast_to(np.arange(self.n_pre), self.shape)

    def rows_of_synapses(self) -> np.ndarray:
        return np.nonzero(self.mask)[0] if self.mask is not None else np.repeat(np.arange(self.n_post), self.n_pre)

    def columns_of_synapses(self) -> np.ndarray:
        return np.nonzero(self.mask)[1] if self.mask is not None else np.tile(np.arange(self.n_pre), self.n_post)

    def existing(self) -> np.ndarray:
        return np.ones(self.shape, dtype=bool) if self.mask is None else self.mask.copy()

    def spread_pre(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(1, -1)

    def spread_post(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(-1, 1)

    def reducer(self, operation: str) -> Callable[[np.ndarray, np.ndarray], None]:
        mask, shape = self.mask, self.shape
        sizes = self.row_sizes()
        nonempty = sizes > 0
        neutral = _NEUTRAL[operation]
        reduce: Any = {"sum": np.sum, "mean": np.sum, "max": np.max, "min": np.min}[operation]
        mean = operation == "mean"

        def combine(values: np.ndarray, out: np.ndarray) -> None:
            values = np.broadcast_to(values, shape)
            if mask is not None:
                values = np.where(mask, values, neutral)
            result = reduce(values, axis=1)
            if mean:
                result = np.divide(result, sizes, out=np.zeros_like(result, dtype=np.float64), where=nonempty)
            out[...] = np.where(nonempty, result, 0.0)

        return combine

    def with_synapses(self, row: int, cols: np.ndarray) -> tuple[Storage, Callable[[np.ndarray, Any], np.ndarray]]:
        # a new storage object: the compile-time snapshot keeps the old one
        mask = np.ones(self.shape, dtype=bool) if self.mask is None else self.mask.copy()
        mask[row, cols] = True

        def grow(array: np.ndarray, values: Any) -> np.ndarray:
            array[row, cols] = values
            return array

        return Dense(self.n_post, self.n_pre, mask), grow

    def without_synapses(self, row: int, cols: np.ndarray) -> tuple[Storage, Callable[[np.ndarray], np.ndarray]]:
        mask = np.ones(self.shape, dtype=bool) if self.mask is None else self.mask.copy()
        mask[row, cols] = False

        def shrink(array: np.ndarray) -> np.ndarray:
            array[row, cols] = 0  # the layout stays: removed synapses read 0
            return array

        return Dense(self.n_post, self.n_pre, mask), shrink

    def arrays(self) -> dict[str, np.ndarray]:
        return {} if self.mask is None else {".mask": self.mask}


class Sparse(Storage):
    """Compressed sparse rows: ``indptr`` (n_post + 1) and ``indices`` (nnz, sorted per row).

    Examples
    --------
    >>> import numpy as np
    >>> s = Sparse(2, 3, np.array([0, 1, 3]), np.array([2, 0, 1]))
    >>> s.nnz, s.pre_ranks_of(1).tolist(), s.rows.tolist()
    (3, [0, 1], [0, 1, 1])
    """

    kind = "csr"

    def __init__(self, n_post: int, n_pre: int, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.n_post, self.n_pre = n_post, n_pre
        index_type = np.int32 if max(n_pre, len(indices)) < 2**31 - 1 else np.int64
        self.indptr = np.ascontiguousarray(indptr, dtype=index_type)
        self.indices = np.ascontiguousarray(indices, dtype=index_type)
        self.shape = (len(self.indices),)
        self._rows: np.ndarray | None = None

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @property
    def rows(self) -> np.ndarray:
        """Row (post index) of every synapse."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.n_post, dtype=self.indices.dtype), np.diff(self.indptr))
        return self._rows

    def rows_of_synapses(self) -> np.ndarray:
        return self.rows

    def columns_of_synapses(self) -> np.ndarray:
        return self.indices

    def existing(self) -> np.ndarray:
        out = np.zeros((self.n_post, self.n_pre), dtype=bool)
        out[self.rows, self.indices] = True
        return out

    def row_sizes(self) -> np.ndarray:
        return np.diff(self.indptr)

    def pre_ranks_of(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row]:self.indptr[row + 1]].astype(np.int64)

    def has(self, row: int, col: int) -> bool:
        return bool(np.any(self.indices[self.indptr[row]:self.indptr[row + 1]] == col))

    def row_values(self, array: np.ndarray, row: int) -> np.ndarray:
        return array[self.indptr[row]:self.indptr[row + 1]]

    def set_row_values(self, array: np.ndarray, row: int, values: Any) -> None:
        array[self.indptr[row]:self.indptr[row + 1]] = values

    def synapse_values(self, array: np.ndarray) -> np.ndarray:
        return array

    def set_synapse_values(self, array: np.ndarray, values: Any) -> None:
        array[...] = values

    def to_matrix(self, array: np.ndarray, fill: float = 0.0) -> np.ndarray:
        out = np.full((self.n_post, self.n_pre), fill, dtype=np.result_type(array.dtype, np.float64)
                      if np.isnan(fill) else array.dtype)
        out[self.rows, self.indices] = array
        return out

    def from_matrix(self, matrix: np.ndarray, dtype: Any) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(matrix)[self.rows, self.indices], dtype=dtype)

    def empty(self, dtype: Any, fill: float = 0.0) -> np.ndarray:
        return np.full(self.shape, fill, dtype=dtype)

    def columns(self) -> np.ndarray:
        return self.indices

    def spread_pre(self, values: np.ndarray) -> np.ndarray:
        return values[self.indices]

    def spread_post(self, values: np.ndarray) -> np.ndarray:
        return values[self.rows]

    def reducer(self, operation: str) -> Callable[[np.ndarray, np.ndarray], None]:
        sizes = self.row_sizes()
        nonempty = sizes > 0
        starts = self.indptr[:-1][nonempty]
        counts = sizes[nonempty]
        ufunc = _UFUNC[operation]
        mean = operation == "mean"
        shape = self.shape

        def combine(values: np.ndarray, out: np.ndarray) -> None:
            values = np.broadcast_to(values, shape)
            out[...] = 0.0
            if len(starts):
                reduced = ufunc.reduceat(values, starts)
                if mean:
                    reduced = reduced / counts
                out[nonempty] = reduced

        return combine

    def is_identity(self) -> bool:
        """One synapse per row, from the pre neuron of the same index."""
        n = self.n_post
        return (n == self.n_pre and len(self.indices) == n and bool(np.array_equal(self.indptr, np.arange(n + 1)))
                and bool(np.array_equal(self.indices, np.arange(n))))

    def one_per_row(self) -> np.ndarray | None:
        if len(self.indices) != self.n_post or not bool(np.array_equal(self.indptr, np.arange(self.n_post + 1))):
            return None
        return self.indices

    def _positions(self, row: int, cols: np.ndarray) -> np.ndarray:
        start, stop = self.indptr[row], self.indptr[row + 1]
        return start + np.searchsorted(self.indices[start:stop], cols)

    def with_synapses(self, row: int, cols: np.ndarray) -> tuple[Storage, Callable[[np.ndarray, Any], np.ndarray]]:
        positions = self._positions(row, cols)
        order = np.lexsort((cols, positions))  # several new synapses between two old ones stay sorted
        positions = positions[order]
        indptr = self.indptr.copy()
        indptr[row + 1:] += len(cols)
        storage = Sparse(self.n_post, self.n_pre, indptr, np.insert(self.indices, positions, cols[order]))

        def grow(array: np.ndarray, values: Any) -> np.ndarray:
            return np.insert(array, positions, np.broadcast_to(np.asarray(values), (len(cols),))[order])

        return storage, grow

    def without_synapses(self, row: int, cols: np.ndarray) -> tuple[Storage, Callable[[np.ndarray], np.ndarray]]:
        positions = self._positions(row, cols)
        indptr = self.indptr.copy()
        indptr[row + 1:] -= len(cols)
        storage = Sparse(self.n_post, self.n_pre, indptr, np.delete(self.indices, positions))
        return storage, lambda array: np.delete(array, positions)

    def arrays(self) -> dict[str, np.ndarray]:
        return {".indptr": self.indptr, ".indices": self.indices}


def from_arrays(kind: str, n_post: int, n_pre: int, arrays: dict[str, np.ndarray]) -> Storage:
    """The storage :meth:`Storage.arrays` described (``kind`` as :attr:`Storage.kind`).

    Examples
    --------
    >>> import numpy as np
    >>> sparse = Sparse(2, 3, np.array([0, 1, 3]), np.array([2, 0, 1]))
    >>> again = from_arrays(sparse.kind, 2, 3, sparse.arrays())
    >>> again.kind, again.indices.tolist()
    ('csr', [2, 0, 1])
    """
    if kind == "dense":
        return Dense(n_post, n_pre, arrays.get(".mask"))
    return Sparse(n_post, n_pre, arrays[".indptr"], arrays[".indices"])
