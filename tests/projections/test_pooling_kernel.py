"""Tests of ratenet.projections._pooling_kernel against a brute-force reference.

The reference below walks every post position with plain Python loops, collects
the pre elements of its window that exist (windows start at ``i * extent``, axes
post lacks have one window at 0) and takes ``max``/``min``/``sum / len`` of that
list.  It shares no code with the kernel, which reshapes, reduces and multiplies.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from ratenet.exceptions import ValidationError
from ratenet.projections import _pooling_kernel as pk
from ratenet.projections._pooling_kernel import PoolingKernel

OPERATIONS = ("mean", "max", "min")


# ---------------------------------------------------------------- reference
def window_ranges(pre_shape, post_index, extent):
    """Per pre axis, the indices of the window of ``post_index`` that exist."""
    ranges = []
    for axis, (p, e) in enumerate(zip(pre_shape, extent)):
        start = post_index[axis] * e if axis < len(post_index) else 0
        ranges.append([k for k in range(start, start + e) if k < p])
    return ranges


def brute_force(pre, post_shape, extent, operation):
    out = np.empty(post_shape)
    for post_index in itertools.product(*(range(n) for n in post_shape)):
        values = [
            float(pre[pre_index])
            for pre_index in itertools.product(*window_ranges(pre.shape, post_index, extent))
        ]
        assert values, "the reference found an empty window"
        if operation == "max":
            out[post_index] = max(values)
        elif operation == "min":
            out[post_index] = min(values)
        else:
            out[post_index] = sum(values) / len(values)
    return out


def brute_force_field(pre_shape, post_shape, extent, post_rank):
    post_index = np.unravel_index(post_rank, post_shape)
    ranks = [
        int(np.ravel_multi_index(pre_index, pre_shape))
        for pre_index in itertools.product(*window_ranges(pre_shape, post_index, extent))
    ]
    return sorted(ranks)


def run(kernel, pre):
    # Garbage in out proves compute writes every element rather than adding.
    out = np.full(kernel.post_shape, np.nan, dtype=kernel.dtype)
    kernel.compute(pre, out)
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(20240531)


# (pre shape, post shape, extent or None): 1-D to 4-D, automatic and explicit,
# missing post axes, gaps, overhang, and shapes that exercise every stage method.
CASES = [
    ((12,), (4,), None),
    ((12,), (1,), None),
    ((7,), (7,), None),
    ((10,), (3,), (2,)),  # gap: elements 6..9 unused
    ((5,), (3,), (2,)),  # overhang: last window holds element 4 only
    ((5,), (1,), (8,)),  # one window larger than pre
    ((600,), (6,), None),  # long contiguous rows (reduce / gemv)
    ((8, 6), (4, 3), None),
    ((9, 4), (3, 2), (3, 2)),
    ((9, 7), (3, 2), (3, 3)),  # gap on the last axis (staged)
    ((9, 7), (2, 4), (5, 2)),  # overhang on both axes
    ((4, 10), (4, 5), None),  # pooling only the last axis
    ((10, 4), (5, 4), None),  # pooling only the first axis
    ((1, 6), (1, 3), None),
    ((60, 80, 3), (6, 8, 3), (10, 10, 1)),  # the tutorial's structure, smaller
    ((6, 8, 3), (3, 4), (2, 2, 3)),  # pool across the channels post lacks
    ((6, 8, 3), (3, 4), (2, 2, 1)),  # ... or only over channel 0 (a gap)
    ((7, 9, 5), (2, 3), (4, 4, 2)),  # missing axis, gaps and overhang at once
    ((6, 8, 5), (3, 2, 5), (2, 4, 1)),
    ((8, 6, 4, 4), (4, 3, 2, 2), None),
    ((5, 4, 3, 6), (3, 2, 1, 2), (2, 2, 3, 4)),  # 4-D with overhang
    ((4, 6, 2, 3), (2, 3), (2, 2, 2, 3)),  # 4-D onto 2-D
    ((40, 12, 20), (8, 3, 5), None),  # extent (5, 4, 4): wide rows, several methods
    ((30, 2, 7), (10, 1, 7), None),
]


# The three operations share one test each (rather than a parameter) to keep
# the file well under its 5 s budget; err_msg names the failing operation.
@pytest.mark.parametrize("pre_shape, post_shape, extent", CASES)
def test_matches_brute_force(rng, pre_shape, post_shape, extent):
    pre = rng.standard_normal(pre_shape)
    for operation in OPERATIONS:
        kernel = PoolingKernel(pre_shape, post_shape, extent, operation=operation)
        expected = brute_force(pre, post_shape, kernel.extent, operation)
        np.testing.assert_allclose(run(kernel, pre), expected, rtol=1e-12, atol=1e-12,
                                   err_msg=operation)


@pytest.mark.parametrize("pre_shape, post_shape, extent", CASES)
def test_float32(rng, pre_shape, post_shape, extent):
    pre = rng.standard_normal(pre_shape).astype(np.float32)
    for operation in OPERATIONS:
        kernel = PoolingKernel(pre_shape, post_shape, extent, operation=operation,
                               dtype=np.float32)
        out = run(kernel, pre)
        assert out.dtype == np.float32
        expected = brute_force(pre, post_shape, kernel.extent, operation)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6, err_msg=operation)


@pytest.mark.parametrize("pre_shape, post_shape, extent", CASES)
def test_max_of_negative_values_is_the_true_max(rng, pre_shape, post_shape, extent):
    kernel = PoolingKernel(pre_shape, post_shape, extent, operation="max")
    pre = -1.0 - rng.random(pre_shape)  # all in (-2, -1]: a max starting at 0 fails
    out = run(kernel, pre)
    assert np.all(out < -1.0 + 1e-12)
    np.testing.assert_allclose(out, brute_force(pre, post_shape, kernel.extent, "max"),
                               rtol=1e-12, atol=0)


def test_min_of_positive_values_is_the_true_min(rng):
    kernel = PoolingKernel((9, 7), (2, 4), extent=(5, 2), operation="min")
    pre = 1.0 + rng.random((9, 7))
    out = run(kernel, pre)
    assert np.all(out > 1.0)
    np.testing.assert_array_equal(out, brute_force(pre, (2, 4), (5, 2), "min"))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_tutorial_full_size(rng, operation):
    kernel = PoolingKernel((480, 640, 3), (48, 64, 3), operation=operation)
    assert kernel.extent == (10, 10, 1)
    pre = rng.random((480, 640, 3))
    # Independent of the kernel: every 10x10 block of one channel, reduced at once.
    blocks = pre.reshape(48, 10, 64, 10, 3).transpose(0, 2, 4, 1, 3).reshape(48, 64, 3, 100)
    expected = {"mean": blocks.mean, "max": blocks.max, "min": blocks.min}[operation](-1)
    np.testing.assert_allclose(run(kernel, pre), expected, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ semantics by hand
def test_windows_are_not_centred():
    kernel = PoolingKernel((6,), (3,), operation="max")
    out = run(kernel, np.array([5.0, 0.0, 0.0, 9.0, 0.0, 1.0]))
    np.testing.assert_array_equal(out, [5.0, 9.0, 1.0])


def test_overhanging_mean_divides_by_existing_count():
    kernel = PoolingKernel((5,), (3,), extent=(2,), operation="mean")
    out = run(kernel, np.array([1.0, 3.0, 5.0, 7.0, 9.0]))
    np.testing.assert_array_equal(out, [2.0, 6.0, 9.0])  # not 4.5 for the last window


def test_overhang_in_two_axes_counts_each_window():
    kernel = PoolingKernel((3, 3), (2, 2), extent=(2, 2), operation="mean")
    out = run(kernel, np.ones((3, 3)))
    np.testing.assert_array_equal(out, np.ones((2, 2)))  # counts 4, 2, 2 and 1


def test_gap_ignores_the_tail():
    kernel = PoolingKernel((10,), (3,), extent=(2,), operation="max")
    pre = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0, 100.0, 100.0, 100.0])
    np.testing.assert_array_equal(run(kernel, pre), [2.0, 4.0, 6.0])


def test_pooling_across_a_missing_channel_axis():
    pre = np.arange(6 * 8 * 3, dtype=float).reshape(6, 8, 3)
    kernel = PoolingKernel((6, 8, 3), (3, 4), extent=(2, 2, 3), operation="mean")
    out = run(kernel, pre)
    assert out.shape == (3, 4)
    assert out[0, 0] == pytest.approx(pre[0:2, 0:2, :].mean(), rel=1e-12)
    assert out[2, 3] == pytest.approx(pre[4:6, 6:8, :].mean(), rel=1e-12)


def test_identity_extent_copies():
    pre = np.arange(12.0).reshape(3, 4)
    for operation in OPERATIONS:
        kernel = PoolingKernel((3, 4), (3, 4), operation=operation)
        np.testing.assert_array_equal(run(kernel, pre), pre)


def test_inf_stays_in_its_own_window():
    # No zero weights anywhere: inf * 0 would spread NaN to the other channels.
    kernel = PoolingKernel((20, 20, 3), (2, 2, 3), operation="mean")
    pre = np.ones((20, 20, 3))
    pre[3, 4, 1] = np.inf
    out = run(kernel, pre)
    expected = np.ones((2, 2, 3))
    expected[0, 0, 1] = np.inf
    np.testing.assert_array_equal(out, expected)


def test_nan_propagates_for_max():
    kernel = PoolingKernel((4, 4), (2, 2), operation="max")
    pre = np.zeros((4, 4))
    pre[1, 1] = np.nan
    out = run(kernel, pre)
    assert np.isnan(out[0, 0]) and not np.isnan(out[1:, :]).any()


# ------------------------------------------------------------- compute()
def test_compute_follows_in_place_changes_and_new_arrays(rng):
    kernel = PoolingKernel((12, 9), (4, 3), operation="mean")
    pre = rng.standard_normal((12, 9))
    out = np.empty((4, 3))
    kernel.compute(pre, out)
    pre[...] = rng.standard_normal((12, 9))  # same object, new values
    kernel.compute(pre, out)
    np.testing.assert_allclose(out, brute_force(pre, (4, 3), (3, 3), "mean"), rtol=1e-12)
    other, other_out = pre * 2.0, np.empty((4, 3))  # new objects
    kernel.compute(other, other_out)
    np.testing.assert_allclose(other_out, 2.0 * out, rtol=1e-12)
    kernel.compute(pre, out)  # and back
    np.testing.assert_allclose(out, other_out / 2.0, rtol=1e-12)


@pytest.mark.parametrize("pre_shape, post_shape", [((12, 9), (4, 3)), ((12,), (4,))])
def test_compute_with_new_views_each_call(rng, pre_shape, post_shape):
    # As a delay ring hands out ring[k]: a new view object of other memory each step.
    ring = rng.standard_normal((3,) + pre_shape)
    outs = [np.empty(post_shape), np.empty(post_shape)]
    for operation in OPERATIONS:
        kernel = PoolingKernel(pre_shape, post_shape, operation=operation)
        for step in range(7):
            pre, out = ring[step % 3], outs[step % 2]  # out alternates too
            kernel.compute(pre, out)
            expected = brute_force(pre, post_shape, kernel.extent, operation)
            np.testing.assert_allclose(out, expected, rtol=1e-12, err_msg=operation)


def test_compute_alternating_in_place_and_staged_inputs(rng):
    kernel = PoolingKernel((8, 6), (4, 3), operation="max")
    out = np.empty((4, 3))
    base = rng.standard_normal((8, 6))
    for pre in (base, np.asfortranarray(base), base.astype(np.float32), base, base[:, ::-1]):
        kernel.compute(pre, out)
        np.testing.assert_allclose(out, brute_force(np.asarray(pre, float), (4, 3), (2, 2), "max"),
                                   rtol=1e-6)


def test_compute_with_a_contiguous_gap_reads_pre_in_place(rng):
    kernel = PoolingKernel((11, 4), (3, 2), extent=(3, 2), operation="max")
    assert "in place" in kernel.describe()
    pre = rng.standard_normal((11, 4))
    out = run(kernel, pre)
    pre[:9] += 10.0
    kernel.compute(pre, out)
    np.testing.assert_array_equal(out, brute_force(pre, (3, 2), (3, 2), "max"))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_compute_accepts_other_layouts_and_dtypes(rng, operation):
    kernel = PoolingKernel((6, 8, 3), (3, 4, 3), operation=operation)
    base = rng.standard_normal((3, 8, 6))
    fortran = np.asfortranarray(base.transpose(2, 1, 0))  # not C-contiguous
    integers = rng.integers(-50, 50, size=(6, 8, 3))
    single = base.transpose(2, 1, 0).astype(np.float32)
    for pre in (fortran, integers, single, base.transpose(2, 1, 0)):
        expected = brute_force(np.asarray(pre, dtype=float), (3, 4, 3), (2, 2, 1), operation)
        np.testing.assert_allclose(run(kernel, pre), expected, rtol=1e-6)


def test_compute_into_a_non_contiguous_out(rng):
    kernel = PoolingKernel((8, 6), (4, 3), operation="mean")
    pre = rng.standard_normal((8, 6))
    holder = np.zeros((4, 6))
    out = holder[:, ::2]
    kernel.compute(pre, out)
    np.testing.assert_allclose(out, brute_force(pre, (4, 3), (2, 2), "mean"), rtol=1e-12)
    assert np.all(holder[:, 1::2] == 0.0)


def test_fresh_views_of_the_same_out_keep_the_bound_calls(rng):
    # The planner hands the kernel a new reshape of the same sum array every step.
    kernel = PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean")
    flat = np.zeros(48 * 64 * 3 + 10)
    pre = rng.standard_normal((480, 640, 3))
    kernel.compute(pre, flat[5:-5].reshape(48, 64, 3))
    for _ in range(3):
        pre = pre + 1.0
        kernel.compute(pre, flat[5:-5].reshape(48, 64, 3))
        np.testing.assert_allclose(flat[5:-5].reshape(48, 64, 3),
                                   pre.reshape(48, 10, 64, 10, 3).mean(axis=(1, 3)), rtol=1e-12)
    same_pre = pre
    steps = kernel._steps
    kernel.compute(same_pre, flat[5:-5].reshape(48, 64, 3))
    assert kernel._steps is steps  # nothing was rebuilt
    assert flat[:5].tolist() == [0.0] * 5 and flat[-5:].tolist() == [0.0] * 5
    # Other memory, even of the same shape, is bound anew: no write goes to the old array.
    before = flat.copy()
    shifted = flat[4:-6].reshape(48, 64, 3)
    kernel.compute(same_pre - 1.0, shifted)
    np.testing.assert_allclose(shifted, (same_pre - 1.0).reshape(48, 10, 64, 10, 3).mean(axis=(1, 3)),
                               rtol=1e-12)
    assert flat[-5] == before[-5]
    other = np.empty((48, 64, 3))
    kernel.compute(same_pre, other)
    np.testing.assert_allclose(other, same_pre.reshape(48, 10, 64, 10, 3).mean(axis=(1, 3)), rtol=1e-12)


def test_compute_rejects_wrong_arrays():
    kernel = PoolingKernel((4, 4), (2, 2), owner="Pooling 'p'")
    with error(re.escape("Pooling 'p'.pre: must be an array of shape (4, 4) (got (4, 5))")):
        kernel.compute(np.zeros((4, 5)), np.empty((2, 2)))
    with pytest.raises(ValidationError, match=r"\.pre: must hold real numbers"):
        kernel.compute(np.zeros((4, 4), dtype=complex), np.empty((2, 2)))
    with error(re.escape(
        "Pooling 'p'.out: must be a writable array of shape (2, 2) and dtype float64 "
        "(got ndarray of shape (2, 2) and dtype float32)"
    )):
        kernel.compute(np.zeros((4, 4)), np.empty((2, 2), dtype=np.float32))
    with pytest.raises(ValidationError, match=r"\.out: .*got ndarray of shape \(4,\)"):
        kernel.compute(np.zeros((4, 4)), np.empty(4))
    frozen = np.empty((2, 2))
    frozen.flags.writeable = False
    with pytest.raises(ValidationError, match=r"\.out: must be a writable array"):
        kernel.compute(np.zeros((4, 4)), frozen)


# -------------------------------------------------------- receptive_field()
@pytest.mark.parametrize(
    "pre_shape, post_shape, extent",
    [((12,), (4,), None), ((5,), (3,), (2,)), ((9, 7), (2, 4), (5, 2)),
     ((6, 8, 3), (3, 4), (2, 2, 3)), ((7, 9, 5), (2, 3), (4, 4, 2)),
     ((5, 4, 3, 6), (3, 2, 1, 2), (2, 2, 3, 4))],
)
def test_receptive_field_matches_brute_force(pre_shape, post_shape, extent):
    kernel = PoolingKernel(pre_shape, post_shape, extent)
    for rank in range(int(np.prod(post_shape))):
        field = kernel.receptive_field(rank)
        assert field.dtype == np.int64
        assert field.tolist() == brute_force_field(pre_shape, post_shape, kernel.extent, rank)


def test_receptive_field_agrees_with_compute(rng):
    kernel = PoolingKernel((7, 9, 5), (2, 3), extent=(4, 4, 2), operation="mean")
    pre = rng.standard_normal((7, 9, 5))
    out = run(kernel, pre).ravel()
    for rank in range(out.size):
        assert out[rank] == pytest.approx(pre.ravel()[kernel.receptive_field(rank)].mean(),
                                          rel=1e-12)


@pytest.mark.parametrize("rank", [-1, 4, 2.0, True, "1", None])
def test_receptive_field_rejects_bad_ranks(rank):
    kernel = PoolingKernel((4,), (4,))
    with pytest.raises(ValidationError,
                       match=r"^Pooling\.post_rank: must be an integer in \[0, 4\) for post "
                             r"geometry \(4,\) \(got "):
        kernel.receptive_field(rank)


def test_receptive_field_accepts_numpy_integers():
    kernel = PoolingKernel((4,), (2,))
    assert kernel.receptive_field(np.int32(1)).tolist() == [2, 3]


# -------------------------------------------------------------- attributes
def test_attributes_and_repr():
    kernel = PoolingKernel([6, 8, 3], np.array([3, 4]), extent=np.array([2, 2, 3]),
                           operation="min", dtype="float32")
    assert kernel.extent == (2, 2, 3) and type(kernel.extent[0]) is int
    assert kernel.pre_shape == (6, 8, 3) and kernel.post_shape == (3, 4)
    assert kernel.operation == "min" and kernel.dtype == np.float32
    assert repr(kernel) == (
        "PoolingKernel(pre_shape=(6, 8, 3), post_shape=(3, 4), extent=(2, 2, 3), "
        "operation='min', dtype=float32)"
    )
    with pytest.raises(AttributeError):
        kernel.extent = (1, 1, 1)  # type: ignore[misc]


def test_describe_names_the_staging_copy():
    assert "staging" in PoolingKernel((5,), (3,), extent=(2,)).describe()
    assert "every extent is 1" in PoolingKernel((3,), (3,)).describe()


# ------------------------------------------------------------------ errors
def error(match):
    return pytest.raises(ValidationError, match=match)


def test_error_extent_too_short_suggests_a_full_one():
    with error(re.escape(
        "Pooling.extent: must have one entry per pre axis: pre geometry (6, 8, 3) has 3 "
        "axes, the extent has 2; give the full extent such as extent=(2, 2, 3) "
        "(got (2, 2))"
    )):
        PoolingKernel((6, 8, 3), (3, 4), extent=(2, 2))


def test_error_extent_too_long():
    with error(r"^Pooling\.extent: must have one entry per pre axis: pre geometry \(8,\) has "
               r"1 axes, the extent has 2; give the full extent such as extent=\(2,\) "
               r"\(got \[2, 2\]\)$"):
        PoolingKernel((8,), (4,), extent=[2, 2])


@pytest.mark.parametrize("extent", [(0, 2), (2, -1)])
def test_error_extent_not_positive(extent):
    with error(r"^Pooling\.extent: must be positive integers \(a window needs at least one "
               r"element\) \(got \("):
        PoolingKernel((4, 4), (2, 2), extent=extent)


@pytest.mark.parametrize("extent", [2, (2.0, 2.0), "22", (True, 2), ((2,), 2)])
def test_error_extent_not_integers(extent):
    with error(r"^Pooling\.extent: must be None or a tuple of positive integers, one per pre "
               r"axis \(2 for pre geometry \(4, 4\)\)"):
        PoolingKernel((4, 4), (2, 2), extent=extent)


def test_error_post_has_more_axes_than_pre():
    with error(re.escape(
        "Pooling.post_shape: post geometry (2, 2, 1) has more axes (3) than pre geometry "
        "(4, 4) (2); pooling can keep or remove axes, not add them"
    )):
        PoolingKernel((4, 4), (2, 2, 1))


def test_error_window_starting_outside_pre():
    with error(re.escape(
        "Pooling.extent: post geometry (4,) needs 4 windows along axis 0, but only 3 "
        "window(s) of extent 4 start inside pre geometry (10,) (window 3 would start at 12); "
        "use an extent of at most 3 along axis 0 or a smaller post geometry (got (4,))"
    )):
        PoolingKernel((10,), (4,), extent=(4,))


def test_error_window_starting_outside_pre_on_a_later_axis():
    with error(re.escape(
        "Pooling.extent: post geometry (2, 6) needs 6 windows along axis 1, but only 3 "
        "window(s) of extent 2 start inside pre geometry (4, 5) (window 5 would start at "
        "10); use a smaller post geometry (got (2, 2))"
    )):
        PoolingKernel((4, 5), (2, 6), extent=(2, 2))


def test_error_automatic_extent_not_divisible_suggests_overhang():
    with error(re.escape(
        "Pooling.extent: cannot be inferred: pre geometry (10, 8) is not a whole multiple "
        "of post geometry (3, 4) (axis 0: 10 / 3); give an explicit extent such as "
        "extent=(4, 2) (axis 0: the last window overhangs and pools 2 of 4), or choose a "
        "post geometry that divides the pre geometry (got None)"
    )):
        PoolingKernel((10, 8), (3, 4))


def test_error_automatic_extent_not_divisible_suggests_gap():
    # Extent 2 would need a 6th window starting at 10: only extent 1 works (with a gap).
    with error(re.escape(
        "such as extent=(1,) (axis 0: the last 4 element(s) are not pooled)"
    )):
        PoolingKernel((10,), (6,))


def test_the_suggested_extents_work():
    for pre, post in [((10, 8), (3, 4)), ((10,), (6,)), ((6, 8, 3), (3, 4)), ((97, 5), (13, 2))]:
        with pytest.raises(ValidationError) as info:
            PoolingKernel(pre, post)
        suggested = re.search(r"extent=(\([\d, ]+\))", str(info.value)).group(1)
        PoolingKernel(pre, post, extent=eval(suggested))  # noqa: S307 - digits only


def test_error_automatic_extent_with_fewer_post_axes():
    with error(re.escape(
        "Pooling.extent: cannot be inferred: pre geometry (6, 8, 3) has 3 axes but post "
        "geometry (3, 4) has 2; give one extent per pre axis such as extent=(2, 2, 3) "
        "(got None)"
    )):
        PoolingKernel((6, 8, 3), (3, 4))


def test_error_automatic_extent_post_larger_than_pre():
    with error(re.escape(
        "Pooling.post_shape: post geometry (4, 5) is larger than pre geometry (4, 4) along "
        "axis 1 (5 > 4); pooling cannot make more windows than elements"
    )):
        PoolingKernel((4, 4), (4, 5))


@pytest.mark.parametrize("operation, hint", [
    ("sum", ""), ("Mean", "; did you mean 'mean'?"), ("avg", "; did you mean 'mean'?"),
    ("maxx", "; did you mean 'max'?"), (None, ""),
])
def test_error_unknown_operation(operation, hint):
    with error(r"^Pooling\.operation: must be one of 'max', 'mean', 'min'"
               + re.escape(hint) + r" \(got "):
        PoolingKernel((4,), (2,), operation=operation)


@pytest.mark.parametrize("argument, pre, post", [
    ("pre_shape", (0, 4), (1, 2)), ("post_shape", (4, 4), (2, 0)), ("pre_shape", (4, -4), (1, 2)),
])
def test_error_shapes_with_zeros(argument, pre, post):
    with error(rf"^Pooling\.{argument}: must be positive integers: every axis needs at least "
               r"one element \(a shape with zeros has nothing to pool\) \(got \("):
        PoolingKernel(pre, post)


@pytest.mark.parametrize("shape", [(), 4, (2.5, 2), "ab", None, np.int64])
def test_error_shapes_not_integers(shape):
    with error(r"^Pooling\.pre_shape: must be a non-empty tuple of positive integers"):
        PoolingKernel(shape, (1,))


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "nonsense", complex, ">f8"])
def test_error_dtype(dtype):
    with error(r"^Pooling\.dtype: must be float32 or float64 \(got "):
        PoolingKernel((4,), (2,), dtype=dtype)


def test_dtype_none_means_float64_as_in_numpy():
    assert PoolingKernel((4,), (2,), dtype=None).dtype == np.float64


def test_error_names_the_owner():
    with error(r"^Pooling 'pool1'\.extent: "):
        PoolingKernel((4,), (3,), owner="Pooling 'pool1'")


# ------------------------------------------------------ each method, directly
@pytest.mark.parametrize("e", [2, 3, 5, 8, 10, 11])
@pytest.mark.parametrize("B", [1, 3, 6])
def test_every_stage_method(rng, e, B):
    """Each method the planner may choose gives the reduction it stands for."""
    A = 7
    src = rng.standard_normal(A * e * B)
    dtype = np.dtype(np.float64)
    for operation in OPERATIONS:
        ufunc = pk._UFUNCS[operation]
        expected = {"mean": np.sum, "max": np.max, "min": np.min}[operation](
            src.reshape(A, e, B), axis=1)
        stages = [
            pk._Double(0, A, e, B, ufunc, levels=levels, dtype=dtype,
                       idempotent=operation != "mean")
            for levels in range(e.bit_length())
        ]
        if operation == "mean":
            stages.append(pk._Batched(0, A, e, B, ufunc, dtype=dtype))
            if B == 1:
                stages.append(pk._Gemv(0, A, e, B, ufunc, dtype=dtype))
        else:
            stages.append(pk._Reduce(0, A, e, B, ufunc))
        for stage in stages:
            dst = np.full((A, B), np.nan)
            for step in stage.bind(src, dst):
                step()
            np.testing.assert_allclose(dst, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{operation} {stage.label}")


def test_planner_choices_for_the_tutorial():
    # Not a contract, but a regression guard for the measured fast paths.
    mean = PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean").describe()
    assert "read pre in place" in mean and "(48, 10, 1920) batched" in mean
    top = PoolingKernel((480, 640, 3), (48, 64, 3), operation="max").describe()
    assert "(48, 10, 1920) reduce" in top and "(3072, 10, 3) double" in top
