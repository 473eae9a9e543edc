"""Weight storage for projections: dense matrices or compressed sparse rows.

Rows are post-synaptic neurons (in the order of ``post.ranks``), columns are
pre-synaptic neurons (in the order of ``pre.ranks``).  Every synaptic array
(``w``, learning variables, delays) has the layout of the storage: a
``(n_post, n_pre)`` matrix for dense storage, a ``(nnz,)`` vector aligned with
``indices`` for sparse storage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Dense", "Sparse", "matvec_function"]

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
                    transposed: bool = False) -> Any:
    """A function ``f(x, y)`` setting ``y = A @ x`` (or ``A.T @ x``), bound once for speed.

    ``A`` is the CSR matrix ``(data, indices, indptr)`` with ``n_cols`` columns.

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


class Dense:
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

    def row_values(self, array: np.ndarray, row: int) -> np.ndarray:
        return array[row] if self.mask is None else array[row][self.mask[row]]

    def set_row_values(self, array: np.ndarray, row: int, values: Any) -> None:
        if self.mask is None:
            array[row] = values
        else:
            array[row, self.mask[row]] = values

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

    def rows_of_synapses(self) -> np.ndarray:
        return np.nonzero(self.mask)[0] if self.mask is not None else np.repeat(np.arange(self.n_post), self.n_pre)


class Sparse:
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

    def row_sizes(self) -> np.ndarray:
        return np.diff(self.indptr)

    def pre_ranks_of(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row]:self.indptr[row + 1]].astype(np.int64)

    def row_values(self, array: np.ndarray, row: int) -> np.ndarray:
        return array[self.indptr[row]:self.indptr[row + 1]]

    def set_row_values(self, array: np.ndarray, row: int, values: Any) -> None:
        array[self.indptr[row]:self.indptr[row + 1]] = values

    def to_matrix(self, array: np.ndarray, fill: float = 0.0) -> np.ndarray:
        out = np.full((self.n_post, self.n_pre), fill, dtype=np.result_type(array.dtype, np.float64)
                      if np.isnan(fill) else array.dtype)
        out[self.rows, self.indices] = array
        return out

    def from_matrix(self, matrix: np.ndarray, dtype: Any) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(matrix)[self.rows, self.indices], dtype=dtype)

    def empty(self, dtype: Any, fill: float = 0.0) -> np.ndarray:
        return np.full(self.shape, fill, dtype=dtype)

    def is_identity(self) -> bool:
        """One synapse per row, from the pre neuron of the same index."""
        n = self.n_post
        return (n == self.n_pre and len(self.indices) == n and bool(np.array_equal(self.indptr, np.arange(n + 1)))
                and bool(np.array_equal(self.indices, np.arange(n))))
