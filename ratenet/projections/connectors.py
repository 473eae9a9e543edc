"""Connection patterns, built with vectorized NumPy.

Each builder returns a :class:`Connectivity`: a storage layout, the weights
in that layout and the delays (a number of ms, or an array in that layout).
Large patterns are built a block of rows at a time so that temporary arrays
stay small (a 4000 x 4000 all-to-all never holds more than one copy of its
weights).
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from ..exceptions import ValidationError
from ..random import Distribution
from .storage import Dense, Sparse

__all__ = ["Connectivity", "LILConnectivity"]

#: Elements per block when patterns are drawn in blocks of rows.
_BLOCK = 1 << 20
#: Above this fraction of existing synapses, dense storage is faster than CSR.
DENSE_ABOVE = 0.25
#: fixed_probability keeps a boolean matrix rather than indices above this probability
#: (one byte per possible synapse against eight per synapse).
_MASK_ABOVE = 0.125


class Connectivity:
    """What a connector builds: the storage, the weights and the delays."""

    __slots__ = ("storage", "w", "delays")

    def __init__(self, storage: Dense | Sparse, w: np.ndarray, delays: float | np.ndarray) -> None:
        self.storage, self.w, self.delays = storage, w, delays


def _rows_per_block(n_pre: int) -> int:
    return max(1, _BLOCK // max(n_pre, 1))


def check_value(owner: str, name: str, value: Any, allow_distribution: bool = True) -> float | Distribution:
    """``value`` as a float, or the distribution itself when allowed."""
    if isinstance(value, Distribution) and allow_distribution:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        kind = "a finite number" + (" or a distribution" if allow_distribution else "")
        raise ValidationError(owner, name, f"must be {kind}", got=value)
    return float(value)


def check_number(owner: str, name: str, value: Any) -> float:
    """``value`` as a float (a finite number, not a distribution)."""
    number = check_value(owner, name, value, allow_distribution=False)
    assert not isinstance(number, Distribution)
    return number


def fill(spec: float | Distribution, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """An array of ``shape`` holding ``spec`` (a number, or draws from a distribution).

    Draws are made block by block (whole rows of a matrix, or ``_BLOCK`` values of
    a vector) straight into the result: the values are those of one call drawing
    everything, without a temporary as large as the result.
    """
    if not isinstance(spec, Distribution):
        return np.full(shape, spec, dtype=dtype)
    out = np.empty(shape, dtype=dtype)
    if len(shape) == 2:
        step = _rows_per_block(shape[1])
        blocks = [out[start:start + step] for start in range(0, shape[0], step)]
    else:
        flat = out.reshape(-1)
        blocks = [flat[start:start + _BLOCK] for start in range(0, flat.size, _BLOCK)]
    direct = out.dtype == np.float64
    scratch = None if direct or not blocks else np.empty(max(b.size for b in blocks), dtype=np.float64)
    for block in blocks:
        if scratch is None:
            spec.sample_into(block, rng)
        else:
            drawn = scratch[:block.size].reshape(block.shape)
            spec.sample_into(drawn, rng)
            block[...] = drawn
    return out


class _Draws:
    """The values of ``fill(spec, (count,), rng, dtype)``, handed out a piece at a time.

    Lets a connector place the weights of a large pattern block by block while
    drawing exactly what one call would have drawn.
    """

    def __init__(self, spec: float | Distribution, count: int, rng: np.random.Generator, dtype: Any) -> None:
        self.spec, self.left, self.rng, self.dtype = spec, count, rng, dtype
        self.buffer = np.empty(0, dtype=dtype)

    def take(self, k: int) -> np.ndarray:
        if not isinstance(self.spec, Distribution):
            return np.full(k, self.spec, dtype=self.dtype)
        pieces = [np.empty(0, dtype=self.dtype)]
        while k:
            if not len(self.buffer):
                size = min(_BLOCK, self.left)
                self.buffer = fill(self.spec, (size,), self.rng, self.dtype)
                self.left -= size
            piece, self.buffer = self.buffer[:k], self.buffer[k:]
            pieces.append(piece)
            k -= len(piece)
        return pieces[-1] if len(pieces) <= 2 else np.concatenate(pieces)


def _delays(spec: Any, owner: str, storage: Dense | Sparse, rng: np.random.Generator) -> float | np.ndarray:
    spec = check_value(owner, "delays", spec)
    if isinstance(spec, Distribution):
        values = fill(spec, storage.shape, rng, np.float64)
        if (values < 0).any():
            raise ValidationError(owner, "delays", "must be >= 0; the distribution drew negative delays", got=spec)
        return values
    if spec < 0:
        raise ValidationError(owner, "delays", "must be >= 0", got=spec)
    return spec


def _same_population(pre: Any, post: Any) -> bool:
    return pre.population is post.population


def _self_columns(pre: Any, post: Any, rows: np.ndarray) -> np.ndarray:
    """For each post row, the pre column of the same neuron (-1 if none)."""
    post_ranks = post.ranks[rows]
    order = np.argsort(pre.ranks)
    pos = np.searchsorted(pre.ranks, post_ranks, sorter=order)
    pos = np.minimum(pos, len(order) - 1)
    cols = order[pos]
    return np.where(pre.ranks[cols] == post_ranks, cols, -1)


#: ANNarchy's sparse formats (its CPU and GPU kernels): ratenet stores them all as compressed sparse rows.
SPARSE_FORMATS = ("csr", "sparse", "lil", "csr_vector", "csr_scalar", "ell", "ellr", "sell", "coo", "bsr", "hyb")


def _choose_storage(storage_format: str | None, density: float, owner: str) -> str:
    """``"dense"`` or ``"csr"``: the format asked for (ANNarchy's names are hints), or chosen from the density.

    Examples
    --------
    >>> _choose_storage("ellr", 1.0, "Projection"), _choose_storage("auto", 1.0, "Projection")
    ('csr', 'dense')
    """
    fmt = None if storage_format is None else str(storage_format).lower()
    if fmt is None or fmt == "auto":
        return "dense" if density >= DENSE_ABOVE else "csr"
    if fmt == "dense":
        return "dense"
    if fmt in SPARSE_FORMATS:
        return "csr"
    raise ValidationError(owner, "storage_format", f"must be 'dense', 'auto' (or None) or a sparse format "
                                                   f"({', '.join(repr(f) for f in SPARSE_FORMATS)}: stored as csr)",
                          got=storage_format)


def _from_rows(pre: Any, post: Any, rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray] | None,
               weights: Any, delays: Any, rng: np.random.Generator, dtype: Any, storage_format: str | None,
               owner: str, extra: np.ndarray | None = None, ordered: bool = False) -> Connectivity:
    """Assemble (row, col[, w]) blocks into storage, in (row, col) order.

    Blocks that arrive already in order are not sorted again; ``ordered=True``
    (a connector that emits them row by row, ascending, each once) skips even
    the check.  ``extra``, when given, holds per-synapse delays in the order of
    the blocks.
    """
    n_post, n_pre = post.size, pre.size
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    val = np.concatenate(vals) if vals else None
    if not ordered and len(row) > 1:
        key = row.astype(np.int64) * n_pre + col
        if not bool(np.all(key[1:] > key[:-1])):
            order = np.argsort(key, kind="stable")
            key, row, col = key[order], row[order], col[order]
            val = val[order] if val is not None else None
            extra = extra[order] if extra is not None else None
            if bool(np.any(key[1:] == key[:-1])):
                raise ValidationError(owner, "connect", "creates the same synapse twice")
        del key
    nnz = len(row)
    fmt = _choose_storage(storage_format, nnz / max(n_post * n_pre, 1), owner)
    if fmt == "dense":
        mask = np.zeros((n_post, n_pre), dtype=bool)
        mask[row, col] = True
        storage: Dense | Sparse = Dense(n_post, n_pre, mask)
        w = np.zeros((n_post, n_pre), dtype=dtype)
        w[row, col] = val if val is not None else fill(weights, (nnz,), rng, dtype)
        if extra is not None:
            full = np.zeros((n_post, n_pre))
            full[row, col] = extra
            extra = full
    else:
        indptr = np.zeros(n_post + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_post), out=indptr[1:])
        storage = Sparse(n_post, n_pre, indptr, col)
        w = np.ascontiguousarray(val, dtype=dtype) if val is not None else fill(weights, (nnz,), rng, dtype)
    if extra is not None:
        return Connectivity(storage, w, _uniform_or(extra, storage))
    return Connectivity(storage, w, _delays(delays, owner, storage, rng))


def _uniform_or(delays: np.ndarray, storage: Dense | Sparse) -> float | np.ndarray:
    """One number when every existing synapse has the same delay, else the array."""
    existing = storage.synapse_values(delays)
    if existing.size == 0:
        return 0.0
    if bool(np.all(existing == existing.flat[0])):
        return float(existing.flat[0])
    return delays


def all_to_all(pre, post, weights, delays, allow_self_connections, storage_format, rng, dtype, owner) -> Connectivity:
    weights = check_value(owner, "weights", weights)
    n_post, n_pre = post.size, pre.size
    fmt = _choose_storage(storage_format, 1.0, owner)
    missing = None
    if _same_population(pre, post) and not allow_self_connections:
        cols = _self_columns(pre, post, np.arange(n_post))
        hit = cols >= 0
        if hit.any():
            missing = (np.flatnonzero(hit), cols[hit])
    # The same draws whatever the storage: the full matrix, then the existing synapses.
    w = fill(weights, (n_post, n_pre), rng, dtype)
    if fmt == "csr":
        full = np.ones((n_post, n_pre), dtype=bool)
        if missing is not None:
            full[missing] = False
        row, col = np.nonzero(full)
        return _from_rows(pre, post, [row], [col], [w[row, col]], None, delays, rng, dtype, "csr", owner,
                          ordered=True)
    # The few absent synapses are listed, not masked: no boolean matrix as large as the weights.
    storage = Dense(n_post, n_pre, missing=missing)
    if missing is not None:
        w[missing] = 0
    return Connectivity(storage, w, _delays(delays, owner, storage, rng))


def one_to_one(pre, post, weights, delays, storage_format, rng, dtype, owner) -> Connectivity:
    weights = check_value(owner, "weights", weights)
    if pre.size != post.size:
        raise ValidationError(owner, "pre", f"one_to_one needs pre and post of the same size (pre has {pre.size} "
                                            f"neurons, post {post.size})")
    n = post.size
    idx = np.arange(n)
    return _from_rows(pre, post, [idx], [idx], None, weights, delays, rng, dtype, storage_format or "csr", owner,
                      ordered=True)


def fixed_probability(pre, post, probability, weights, delays, allow_self_connections, storage_format, rng, dtype,
                      owner) -> Connectivity:
    weights = check_value(owner, "weights", weights)
    if isinstance(probability, bool) or not isinstance(probability, numbers.Real) or not 0 <= float(probability) <= 1:
        raise ValidationError(owner, "probability", "must be a number in [0, 1]", got=probability)
    probability = float(probability)
    n_post, n_pre = post.size, pre.size
    exclude = _same_population(pre, post) and not allow_self_connections
    step = _rows_per_block(n_pre)
    # What is kept of each block of draws: a boolean matrix (one byte per possible
    # synapse) when the pattern may well be stored dense, the kept indices (eight
    # bytes per synapse) when it is sparse.  Either way the draws are the same.
    forced = None if storage_format is None else _choose_storage(storage_format, 1.0, owner)
    as_mask = forced == "dense" or (forced is None and probability >= _MASK_ABOVE)
    mask = np.empty((n_post, n_pre), dtype=bool) if as_mask else None
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for start in range(0, n_post, step):
        stop = min(n_post, start + step)
        draws = rng.random((stop - start, n_pre))
        keep = np.less(draws, probability, out=None if mask is None else mask[start:stop])
        del draws
        if exclude:
            self_cols = _self_columns(pre, post, np.arange(start, stop))
            hit = self_cols >= 0
            keep[np.flatnonzero(hit), self_cols[hit]] = False
        if mask is None:
            r, c = np.nonzero(keep)
            rows.append((r + start).astype(_index_type(n_post)))
            cols.append(c.astype(_index_type(n_pre)))
    if mask is None:
        return _from_rows(pre, post, rows, cols, None, weights, delays, rng, dtype, storage_format, owner,
                          ordered=True)
    nnz = int(np.count_nonzero(mask))
    if _choose_storage(storage_format, nnz / max(n_post * n_pre, 1), owner) == "csr":
        for start in range(0, n_post, step):
            r, c = np.nonzero(mask[start:start + step])
            rows.append((r + start).astype(_index_type(n_post)))
            cols.append(c.astype(_index_type(n_pre)))
        del mask
        return _from_rows(pre, post, rows, cols, None, weights, delays, rng, dtype, "csr", owner, ordered=True)
    # Weights in row-major order of the synapses, as _from_rows places them.
    w = np.zeros((n_post, n_pre), dtype=dtype)
    values = _Draws(weights, nnz, rng, dtype)
    for start in range(0, n_post, step):
        block = mask[start:start + step]
        w[start:start + step][block] = values.take(int(np.count_nonzero(block)))
    storage = Dense(n_post, n_pre, mask)
    return Connectivity(storage, w, _delays(delays, owner, storage, rng))


def _index_type(n: int) -> type:
    return np.int32 if n < 2**31 else np.int64


def _check_number(owner: str, number: Any, limit: int, what: str) -> int:
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or int(number) < 0:
        raise ValidationError(owner, "number", "must be a non-negative integer", got=number)
    if int(number) > limit:
        raise ValidationError(owner, "number", f"cannot exceed the {limit} {what} available", got=number)
    return int(number)


def _pick(rng: np.random.Generator, n_rows: int, n_cols: int, number: int,
          forbidden: Callable[[np.ndarray], np.ndarray] | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each row, ``number`` distinct columns chosen uniformly (avoiding a forbidden one)."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    if number == 0:
        return rows, cols
    step = _rows_per_block(n_cols)
    for start in range(0, n_rows, step):
        stop = min(n_rows, start + step)
        keys = rng.random((stop - start, n_cols))
        if forbidden is not None:
            bad = forbidden(np.arange(start, stop))
            hit = bad >= 0
            keys[np.flatnonzero(hit), bad[hit]] = 2.0  # never among the smallest
        chosen = np.argpartition(keys, number - 1, axis=1)[:, :number] if number < n_cols else \
            np.broadcast_to(np.arange(n_cols), (stop - start, n_cols))
        rows.append(np.repeat(np.arange(start, stop), number))
        cols.append(np.asarray(chosen).reshape(-1))
    return rows, cols


def _fixed_number(choosers: Any, chosen: Any, number: Any, exclude: bool, rng: np.random.Generator, owner: str,
                  what: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each neuron of ``choosers``, ``number`` distinct neurons of ``chosen`` (self excluded if asked)."""
    available = chosen.size - (1 if exclude and np.isin(choosers.ranks, chosen.ranks).any() else 0)
    number = _check_number(owner, number, available, what)
    forbidden = (lambda rows: _self_columns(chosen, choosers, rows)) if exclude else None
    return _pick(rng, choosers.size, chosen.size, number, forbidden)


def fixed_number_pre(pre, post, number, weights, delays, allow_self_connections, storage_format, rng, dtype,
                     owner) -> Connectivity:
    weights = check_value(owner, "weights", weights)
    exclude = _same_population(pre, post) and not allow_self_connections
    rows, cols = _fixed_number(post, pre, number, exclude, rng, owner, "pre-synaptic neurons")
    return _from_rows(pre, post, rows, cols, None, weights, delays, rng, dtype, storage_format, owner)


def fixed_number_post(pre, post, number, weights, delays, allow_self_connections, storage_format, rng, dtype,
                      owner) -> Connectivity:
    weights = check_value(owner, "weights", weights)
    exclude = _same_population(pre, post) and not allow_self_connections
    pre_rows, post_cols = _fixed_number(pre, post, number, exclude, rng, owner, "post-synaptic neurons")
    return _from_rows(pre, post, post_cols, pre_rows, None, weights, delays, rng, dtype, storage_format, owner)


def _normalized(view: Any) -> np.ndarray:
    """Normalized coordinates (n, dims) of the neurons of a population or view."""
    pop = view.population
    coords = np.array(np.unravel_index(view.ranks, pop.geometry), dtype=np.float64).T
    scale = np.array([g - 1 if g > 1 else 1 for g in pop.geometry], dtype=np.float64)
    coords /= scale
    coords[:, [i for i, g in enumerate(pop.geometry) if g == 1]] = 0.0
    return coords


def _distance_based(pre, post, profile: Callable[[np.ndarray], np.ndarray], threshold: float, delays,
                    allow_self_connections, storage_format, rng, dtype, owner) -> Connectivity:
    if pre.population.dimension != post.population.dimension:
        raise ValidationError(owner, "pre", "distance-based connectors need pre and post populations with the "
                                            f"same number of dimensions (pre {pre.population.geometry}, "
                                            f"post {post.population.geometry})")
    pre_c, post_c = _normalized(pre), _normalized(post)
    exclude = _same_population(pre, post) and not allow_self_connections
    rows, cols, vals = [], [], []
    step = _rows_per_block(pre.size)
    for start in range(0, post.size, step):
        stop = min(post.size, start + step)
        d2 = ((post_c[start:stop, None, :] - pre_c[None, :, :]) ** 2).sum(axis=2)
        w = profile(d2)
        keep = np.abs(w) > threshold
        if exclude:
            self_cols = _self_columns(pre, post, np.arange(start, stop))
            hit = self_cols >= 0
            keep[np.flatnonzero(hit), self_cols[hit]] = False
        r, c = np.nonzero(keep)
        rows.append(r + start)
        cols.append(c)
        vals.append(w[r, c])
    return _from_rows(pre, post, rows, cols, vals, None, delays, rng, dtype, storage_format, owner, ordered=True)


def gaussian(pre, post, amp, sigma, delays, limit, allow_self_connections, storage_format, rng, dtype,
             owner) -> Connectivity:
    amp = check_number(owner, "amp", amp)
    sigma = check_number(owner, "sigma", sigma)
    limit = check_number(owner, "limit", limit)
    if sigma <= 0:
        raise ValidationError(owner, "sigma", "must be > 0", got=sigma)
    return _distance_based(pre, post, lambda d2: amp * np.exp(-d2 / (2 * sigma ** 2)), limit * abs(amp), delays,
                           allow_self_connections, storage_format, rng, dtype, owner)


def dog(pre, post, amp_pos, sigma_pos, amp_neg, sigma_neg, delays, limit, allow_self_connections, storage_format,
        rng, dtype, owner) -> Connectivity:
    values: dict[str, float] = {}
    for name, value in (("amp_pos", amp_pos), ("sigma_pos", sigma_pos), ("amp_neg", amp_neg),
                        ("sigma_neg", sigma_neg), ("limit", limit)):
        values[name] = check_number(owner, name, value)
    for name in ("sigma_pos", "sigma_neg"):
        if values[name] <= 0:
            raise ValidationError(owner, name, "must be > 0", got=values[name])
    ap, sp, an, sn = values["amp_pos"], values["sigma_pos"], values["amp_neg"], values["sigma_neg"]

    def profile(d2: np.ndarray) -> np.ndarray:
        return ap * np.exp(-d2 / (2 * sp ** 2)) - an * np.exp(-d2 / (2 * sn ** 2))

    return _distance_based(pre, post, profile, values["limit"] * abs(ap - an), delays, allow_self_connections,
                           storage_format, rng, dtype, owner)


def _check_finite(owner: str, name: str, matrix: np.ndarray, shown: Any,
                  message: str = "must be finite (use None for a missing synapse)") -> None:
    """Refuse NaN and infinities, a block of rows at a time (no mask as large as the matrix)."""
    if matrix.dtype.kind not in "fc":
        return
    rows = _rows_per_block(matrix.shape[1] if matrix.ndim == 2 else 1)
    for start in range(0, len(matrix), rows):
        if not np.isfinite(matrix[start:start + rows]).all():
            raise ValidationError(owner, name, message, got=shown)


def _check_narrowed(owner: str, values: np.ndarray, w: np.ndarray, shown: Any) -> None:
    """After a cast to a narrower float (float64 to float32), refuse values that overflowed."""
    if values.dtype.kind == "f" and values.dtype.itemsize > w.dtype.itemsize:
        _check_finite(owner, "weights", w, shown, f"must hold values that fit in {w.dtype.name}, the network's "
                                                  "precision")


def _matrix(owner: str, name: str, value: Any, shape: tuple[int, int],
            finite: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, exists) from a matrix whose None entries mean 'no synapse'.

    A matrix of numbers comes back as it is, without a copy, and ``exists`` is
    None (every synapse exists): the caller copies what it keeps, once.
    """
    raw: np.ndarray | None = value if isinstance(value, np.ndarray) else None
    if raw is None:
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError):
            raw = None
        if raw is None or raw.dtype == object:
            try:
                raw = np.asarray(value, dtype=object)
            except (TypeError, ValueError):
                raise ValidationError(owner, name, f"must be a matrix of shape {shape}", got=value) from None
    if raw.shape != shape:
        raise ValidationError(owner, name, f"must have shape {shape} (post x pre, or pre x post with pre_post=True)",
                              got=f"shape {raw.shape}", got_repr=False)
    if raw.dtype != object:
        if raw.dtype.kind not in "biuf":
            raise ValidationError(owner, name, "must hold numbers (or None for no synapse)", got=value)
        if finite:
            _check_finite(owner, name, raw, value)
        return raw, None
    exists = np.array([[v is not None for v in row] for row in raw], dtype=bool).reshape(shape)
    filled = np.where(exists, raw, 0.0)
    try:
        values = filled.astype(np.float64)
    except (TypeError, ValueError):
        raise ValidationError(owner, name, "must hold numbers (or None for no synapse)", got=value) from None
    if finite:
        _check_finite(owner, name, values, value)
    return values, exists


def from_matrix(pre, post, weights, delays, pre_post, storage_format, rng, dtype, owner) -> Connectivity:
    n_post, n_pre = post.size, pre.size
    shape = (n_pre, n_post) if pre_post else (n_post, n_pre)
    values, exists = _matrix(owner, "weights", weights, shape)
    if pre_post:
        values, exists = values.T, (None if exists is None else exists.T)
    density = 1.0 if exists is None else (float(exists.mean()) if exists.size else 0.0)
    fmt = _choose_storage(storage_format, density, owner)
    if fmt == "dense":
        # One copy, cast on the way: ratenet keeps its own weights (learning and
        # assignments change them; the user's matrix stays as it was).
        with np.errstate(over="ignore"):  # overflow to float32 is reported just below
            w = np.array(values, dtype=dtype, order="C")
        if exists is not None:
            w[~exists] = 0.0
        _check_narrowed(owner, values, w, weights)
        storage: Dense | Sparse = Dense(n_post, n_pre, None if exists is None else np.ascontiguousarray(exists))
    else:
        if exists is None:
            exists = np.ones((n_post, n_pre), dtype=bool)
        row, col = np.nonzero(exists)  # row-major: already in order
        indptr = np.zeros(n_post + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_post), out=indptr[1:])
        storage = Sparse(n_post, n_pre, indptr, col)
        with np.errstate(over="ignore"):
            w = np.ascontiguousarray(values[row, col], dtype=dtype)
        _check_narrowed(owner, values, w, weights)
    if isinstance(delays, (numbers.Real, Distribution)) and not isinstance(delays, bool):
        return Connectivity(storage, w, _delays(delays, owner, storage, rng))
    d_values, d_exists = _matrix(owner, "delays", delays, shape, finite=False)
    if pre_post:
        d_values, d_exists = d_values.T, (None if d_exists is None else d_exists.T)
    # as in ANNarchy, delays are read where weights has a synapse only: other entries are never looked at
    if d_exists is not None and not bool(d_exists[exists].all() if exists is not None else d_exists.all()):
        raise ValidationError(owner, "delays", "must have a value wherever weights has one (None only where there "
                                               "is no synapse)")
    used = d_values if exists is None else d_values[exists]
    if not np.isfinite(used).all():
        raise ValidationError(owner, "delays", "must be finite where weights has a synapse", got=delays)
    if (used < 0).any():
        raise ValidationError(owner, "delays", "must be >= 0")
    return Connectivity(storage, w, _uniform_or(storage.from_matrix(d_values, np.float64), storage))


def _same_synapses(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Whether two ``exists`` masks (None: every synapse) mark the same synapses."""
    if a is None or b is None:
        return (a is None or bool(a.all())) and (b is None or bool(b.all()))
    return bool(np.array_equal(a, b))


def from_sparse(pre, post, weights, delays, storage_format, rng, dtype, owner) -> Connectivity:
    import scipy.sparse as sp

    if not sp.issparse(weights):
        raise ValidationError(owner, "weights", "must be a scipy.sparse matrix of shape (pre.size, post.size)",
                              got=weights)
    if weights.shape != (pre.size, post.size):
        raise ValidationError(owner, "weights", f"must have shape (pre.size, post.size) = {(pre.size, post.size)}",
                              got=f"shape {weights.shape}", got_repr=False)
    matrix = sp.csr_matrix(weights.T)
    matrix.sum_duplicates()
    matrix.sort_indices()
    if not np.isfinite(matrix.data).all():
        raise ValidationError(owner, "weights", "must be finite")
    row = np.repeat(np.arange(post.size), np.diff(matrix.indptr))
    return _from_rows(pre, post, [row], [matrix.indices.astype(np.int64)], [matrix.data.astype(np.float64)], None,
                      delays, rng, dtype, storage_format, owner, ordered=True)


class LILConnectivity:
    """Connectivity built row by row, returned by a ``from_function`` method.

    Examples
    --------
    >>> lil = LILConnectivity()
    >>> lil.add(0, [1, 2], [0.5, 0.25])
    >>> lil.add(1, [0], 1.0, delays=2.0)
    >>> lil.post_rank, lil.pre_rank, lil.w
    ([0, 1], [[1, 2], [0]], [[0.5, 0.25], [1.0]])
    """

    def __init__(self, dt: float | None = None) -> None:
        self.post_rank: list[int] = []
        self._seen: set[int] = set()
        self.pre_rank: list[list[int]] = []
        self.w: list[list[float]] = []
        self.d: list[list[float]] = []

    def add(self, post_rank: int, pre_ranks: Any, weights: Any = 1.0, delays: Any = 0.0) -> None:
        """Add the synapses of one post-synaptic neuron."""
        owner = "LILConnectivity"
        if isinstance(post_rank, bool) or not isinstance(post_rank, numbers.Integral):
            raise ValidationError(owner, "post_rank", "must be an integer", got=post_rank)
        if int(post_rank) in self._seen:
            raise ValidationError(owner, "post_rank", "was already added", got=post_rank)
        ranks = [int(r) for r in np.atleast_1d(np.asarray(pre_ranks, dtype=np.int64))]
        if len(set(ranks)) != len(ranks):
            raise ValidationError(owner, "pre_ranks", "must not repeat a neuron", got=pre_ranks)
        w = self._per_synapse("weights", weights, len(ranks))
        d = self._per_synapse("delays", delays, len(ranks))
        self.post_rank.append(int(post_rank))
        self._seen.add(int(post_rank))
        self.pre_rank.append(ranks)
        self.w.append(w)
        self.d.append(d)

    @staticmethod
    def _per_synapse(name: str, value: Any, count: int) -> list[float]:
        array = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if array.size == 1:
            array = np.full(count, array[0])
        if array.shape != (count,):
            raise ValidationError("LILConnectivity", name, f"must be one number or {count} numbers",
                                  got=value)
        return array.tolist()

    @property
    def nb_synapses(self) -> int:
        return sum(len(r) for r in self.pre_rank)


def _positions(view: Any) -> np.ndarray:
    """Population rank -> position in the view (-1 outside it)."""
    lookup = np.full(view.population.size, -1, dtype=np.int64)
    lookup[view.ranks] = np.arange(view.size)
    return lookup


def from_lil(pre, post, lil: LILConnectivity, storage_format, rng, dtype, owner) -> Connectivity:
    """Connectivity from a LIL whose ranks are population ranks (as ANNarchy's)."""
    if not isinstance(lil, LILConnectivity):
        raise ValidationError(owner, "method", "must return a LILConnectivity", got=lil)
    post_at, pre_at = _positions(post), _positions(pre)
    rows, cols, vals, dels = [], [], [], []
    for post_rank, pre_ranks, w, d in zip(lil.post_rank, lil.pre_rank, lil.w, lil.d):
        if not 0 <= post_rank < len(post_at) or post_at[post_rank] < 0:
            raise ValidationError(owner, "method", f"returned post rank {post_rank}, which is not a neuron of "
                                                   f"'{post.name}'")
        ranks = np.asarray(pre_ranks, dtype=np.int64)
        bad = ranks[(ranks < 0) | (ranks >= len(pre_at))]
        if len(bad) == 0:
            bad = ranks[pre_at[ranks] < 0]
        if len(bad):
            raise ValidationError(owner, "method", f"returned pre rank {int(bad[0])}, which is not a neuron of "
                                                   f"'{pre.name}'")
        rows.append(np.full(len(ranks), post_at[post_rank]))
        cols.append(pre_at[ranks])
        vals.append(np.asarray(w, dtype=np.float64))
        dels.append(np.asarray(d, dtype=np.float64))
    if vals and not all(np.isfinite(v).all() for v in vals):
        raise ValidationError(owner, "method", "returned weights that are not finite")
    if any((d < 0).any() or not np.isfinite(d).all() for d in dels):
        raise ValidationError(owner, "method", "returned negative or non-finite delays")
    delays = np.concatenate(dels) if dels else None
    return _from_rows(pre, post, rows, cols, vals, None, 0.0, rng, dtype, storage_format, owner, extra=delays)
