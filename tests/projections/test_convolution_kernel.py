"""Tests of ratenet.projections._convolution_kernel against a brute-force reference.

The reference below is written from DESIGN.md section 5 alone: plain Python loops
over post positions, filters and kernel taps computing
``out[i] = op_k psp(pre_or_virtual[centre(i) + k - c], w[k])``.  Every fast path
of ConvolutionKernel is run on the same configurations and must agree with it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ratenet.exceptions import ValidationError
from ratenet.projections import _convolution_kernel
from ratenet.projections._convolution_kernel import STRATEGIES, ConvolutionKernel

ATOL = 1e-12


# --------------------------------------------------------------------------- reference


def reference(pre, weights, post_shape, *, operation="sum", **kwargs):
    """Brute-force convolution, one post neuron and one tap at a time."""
    return reference_all_operations(pre, weights, post_shape, **kwargs)[operation]


def reference_all_operations(
    pre,
    weights,
    post_shape,
    *,
    bank=False,
    keep_last_dimension=False,
    padding=0.0,
    subsampling=None,
    psp=None,
):
    """``{operation: result}`` for the four operations, from one pass over the windows."""
    pre = np.asarray(pre, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n = pre.ndim
    filters = [weights[f] for f in range(weights.shape[0])] if bank else [weights]
    spatial = tuple(post_shape[:-1]) if bank else tuple(post_shape)
    if keep_last_dimension and filters[0].ndim == n - 1:
        filters = [f[..., np.newaxis] for f in filters]  # one tap along the kept axis
    fshape = filters[0].shape
    centre = [k // 2 if k % 2 == 1 else k // 2 - 1 for k in fshape]

    if subsampling is None:
        ranges = []
        for d in range(n):
            if d >= len(spatial):  # the collapsed axis: the window covers it exactly
                ranges.append([centre[d]])
            else:
                s = pre.shape[d] // spatial[d]
                ranges.append([int((s - 1) / 2) + s * i for i in range(spatial[d])])
        centres = list(itertools.product(*ranges))
    else:
        centres = [tuple(int(v) for v in np.atleast_1d(c)) for c in subsampling]

    # Plain Python numbers keep the loops below fast enough for many configurations.
    values_of_pre = pre.reshape(-1).tolist()
    strides = [math.prod(pre.shape[d + 1:]) for d in range(n)]

    def pixel(coord):
        if padding != "border" and not all(0 <= coord[d] < pre.shape[d] for d in range(n)):
            return padding
        # 'border' repeats the nearest edge pixel; inside pre the clamp changes nothing.
        return values_of_pre[sum(min(max(coord[d], 0), pre.shape[d] - 1) * strides[d]
                                 for d in range(n))]

    taps = list(itertools.product(*(range(size) for size in fshape)))
    kernels = [kernel.reshape(-1).tolist() for kernel in filters]  # taps in C order
    results = {op: np.empty((len(centres), len(filters))) for op in ("sum", "mean", "max", "min")}
    for p, q in enumerate(centres):
        window = [pixel([q[d] + k[d] - centre[d] for d in range(n)]) for k in taps]
        for f, kernel in enumerate(kernels):
            values = []
            for x, w in zip(window, kernel):
                values.append(x * w if psp is None else float(psp(np.float64(x), np.float64(w))))
            results["sum"][p, f] = math.fsum(values)
            results["mean"][p, f] = math.fsum(values) / len(values)
            results["max"][p, f] = max(values)
            results["min"][p, f] = min(values)
    return {op: result.reshape(post_shape) for op, result in results.items()}


def kernels_for_every_strategy(pre_shape, post_shape, weights, **kwargs):
    """One ConvolutionKernel per applicable strategy (the automatic one included)."""
    auto = ConvolutionKernel(pre_shape, post_shape, weights, **kwargs)
    kernels = {auto.strategy: auto}
    for name in STRATEGIES:
        if name == auto.strategy:
            continue
        try:
            kernels[name] = ConvolutionKernel(pre_shape, post_shape, weights, strategy=name, **kwargs)
        except ValidationError as err:
            assert "does not apply" in str(err)
    assert "direct" in kernels
    return kernels


def run(kernel, pre, dtype=np.float64):
    out = np.full(kernel.post_shape, np.nan, dtype=dtype)  # compute must write every element
    kernel.compute(np.ascontiguousarray(pre, dtype=dtype), out)
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(20240531)


# --------------------------------------------------------------------------- configurations

# (name, pre_shape, post_shape, weights shape, extra keyword arguments)
CONFIGS = [
    ("1d odd", (11,), (11,), (3,), {}),
    ("1d even", (11,), (11,), (4,), {}),
    ("1d stride 3", (12,), (4,), (5,), {}),
    ("1d stride 2", (12,), (6,), (2,), {}),
    ("2d odd/even", (7, 9), (7, 9), (3, 4), {}),
    ("2d even/odd", (7, 9), (7, 9), (2, 5), {}),
    ("2d 1x1", (4, 5), (4, 5), (1, 1), {}),
    ("2d single row", (6, 8), (6, 8), (1, 4), {}),
    ("2d larger than input", (3, 4), (3, 4), (5, 7), {}),
    ("2d strides 2x4", (8, 12), (4, 3), (3, 3), {}),
    ("2d strides 3x1 even kernel", (9, 5), (3, 5), (4, 2), {}),
    ("3d", (5, 6, 4), (5, 6, 4), (3, 2, 3), {}),
    ("3d per channel (tutorial)", (6, 8, 3), (6, 8, 3), (3, 3, 1), {}),
    ("3d collapse", (6, 8, 3), (6, 8), (3, 3, 3), {}),
    ("3d collapse even", (6, 8, 2), (6, 8), (2, 3, 2), {}),
    ("3d collapse stride 2", (6, 8, 3), (3, 4), (2, 2, 3), {}),
    ("3d collapse 1x1", (6, 8, 3), (6, 8), (1, 1, 3), {}),
    ("3d collapse 1x1 stride 2", (6, 8, 3), (3, 4), (1, 1, 3), {}),
    ("keep last", (6, 8, 3), (6, 8, 3), (3, 3), {"keep_last_dimension": True}),
    ("keep last stride 2", (6, 8, 3), (3, 4, 3), (2, 3), {"keep_last_dimension": True}),
    ("keep last 1x1", (4, 5, 2), (4, 5, 2), (1, 1), {"keep_last_dimension": True}),
    ("bank tutorial", (6, 8, 3), (6, 8, 3), (3, 1, 1, 3), {"bank": True}),
    ("bank 8 filters 5x5", (7, 8), (7, 8, 8), (8, 5, 5), {"bank": True}),
    ("bank collapse 3x3", (6, 8, 3), (6, 8, 4), (4, 3, 3, 3), {"bank": True}),
    ("bank stride 2", (8, 8), (4, 4, 2), (2, 3, 3), {"bank": True}),
    ("bank 3d no collapse", (4, 5, 3), (4, 5, 3, 2), (2, 3, 2, 1), {"bank": True}),
    ("bank keep last", (6, 8, 3), (6, 8, 3, 2), (2, 3, 3), {"bank": True, "keep_last_dimension": True}),
    ("bank of one", (5, 6), (5, 6, 1), (1, 3, 3), {"bank": True}),
    ("bank dense layer", (7,), (5,), (5, 7), {"bank": True}),
    ("explicit 2d", (7, 9), (2, 3), (3, 4),
     {"subsampling": [[0, 0], [0, 8], [3, 4], [6, 0], [6, 8], [2, 7]]}),
    ("explicit 1d flat list", (10,), (4,), (3,), {"subsampling": [0, 3, 9, 9]}),
    ("explicit collapse", (6, 8, 3), (2, 2), (3, 3, 3),
     {"subsampling": [[0, 0, 1], [5, 7, 1], [2, 3, 0], [3, 3, 2]]}),
    ("explicit bank", (8, 8), (3, 2), (2, 3, 3),
     {"bank": True, "subsampling": [[0, 0], [4, 5], [7, 7]]}),
    ("explicit post rank free", (6, 8, 3), (5,), (3, 3, 1),
     {"subsampling": [[0, 0, 0], [5, 7, 2], [2, 3, 1], [3, 3, 2], [1, 6, 0]]}),
    ("explicit keep last", (5, 6, 2), (2, 2), (3, 3),
     {"keep_last_dimension": True, "subsampling": [[0, 0, 0], [4, 5, 1], [2, 2, 1], [1, 4, 0]]}),
]
CONFIG_IDS = [c[0] for c in CONFIGS]
PADDINGS = [0.0, 0.5, "border"]


def kwargs_for(extra, **more):
    kwargs = dict(extra)
    kwargs.update(more)
    return kwargs


@pytest.mark.parametrize("name, pre_shape, post_shape, wshape, extra", CONFIGS, ids=CONFIG_IDS)
def test_every_strategy_matches_reference(rng, name, pre_shape, post_shape, wshape, extra):
    pre = rng.uniform(-1, 1, pre_shape)
    weights = rng.uniform(-1, 1, wshape)
    for padding in PADDINGS:
        expected = reference_all_operations(pre, weights, post_shape, padding=padding, **extra)
        for operation in ("sum", "mean", "max", "min"):
            kwargs = kwargs_for(extra, padding=padding, operation=operation)
            kernels = kernels_for_every_strategy(pre_shape, post_shape, weights, **kwargs)
            for strategy, kernel in kernels.items():
                np.testing.assert_allclose(run(kernel, pre), expected[operation], rtol=0, atol=ATOL,
                                           err_msg=f"{strategy}, {operation}, padding {padding!r}")


SEPARABLE = [
    ("2d gaussian-like", (9, 11), (9, 11), lambda: np.outer([1, 4, 6, 4, 1], [1, 2, 1]) / 48.0, {}),
    ("2d even separable", (8, 7), (8, 7), lambda: np.outer([1.0, -2.0], [0.5, 1.0, 2.0, 0.25]), {}),
    ("3d box per channel", (6, 8, 3), (6, 8, 3), lambda: np.ones((3, 3, 1)) / 9.0, {}),
    ("keep last box", (6, 8, 2), (6, 8, 2), lambda: np.ones((2, 3)) / 6.0, {"keep_last_dimension": True}),
    ("1d along middle axis", (5, 6, 3), (5, 6, 3), lambda: np.arange(1.0, 5.0).reshape(1, 4, 1), {}),
]


@pytest.mark.parametrize("name, pre_shape, post_shape, make, extra", SEPARABLE,
                         ids=[s[0] for s in SEPARABLE])
def test_separable_kernels(rng, name, pre_shape, post_shape, make, extra):
    pre = rng.uniform(-1, 1, pre_shape)
    weights = make()
    for padding in PADDINGS:
        expected = reference_all_operations(pre, weights, post_shape, padding=padding, **extra)
        for operation in ("sum", "mean"):
            kwargs = kwargs_for(extra, padding=padding, operation=operation)
            kernels = kernels_for_every_strategy(pre_shape, post_shape, weights, **kwargs)
            assert "separable" in kernels
            for strategy, kernel in kernels.items():
                np.testing.assert_allclose(run(kernel, pre), expected[operation], rtol=0, atol=ATOL,
                                           err_msg=f"{strategy}, {operation}, padding {padding!r}")


@pytest.mark.parametrize("padding", PADDINGS)
def test_zero_kernel_gives_zero(rng, padding):
    pre = rng.uniform(-1, 1, (6, 7))
    kernels = kernels_for_every_strategy((6, 7), (6, 7), np.zeros((3, 3)), padding=padding)
    assert "separable" in kernels
    for strategy, kernel in kernels.items():
        np.testing.assert_array_equal(run(kernel, pre), 0.0, err_msg=strategy)


def test_the_configurations_exercise_every_strategy():
    seen = set()
    for _, pre_shape, post_shape, wshape, extra in CONFIGS:
        seen.update(kernels_for_every_strategy(pre_shape, post_shape, np.ones(wshape), **extra))
    for _, pre_shape, post_shape, make, extra in SEPARABLE:
        seen.update(kernels_for_every_strategy(pre_shape, post_shape, make(), **extra))
    assert seen == set(STRATEGIES)


def test_non_separable_kernel_is_not_split():
    weights = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    weights[0, 0] += 1e-9
    with pytest.raises(ValidationError, match="does not apply"):
        ConvolutionKernel((6, 6), (6, 6), weights, strategy="separable")


PSPS = {
    "abs difference": lambda x, w: np.abs(x - w),
    "squared input": lambda x, w: w * x * x,
    "constant": lambda x, w: 1.0,
}


@pytest.mark.parametrize("psp_name", list(PSPS))
@pytest.mark.parametrize(
    "name, pre_shape, post_shape, wshape, extra",
    [c for c in CONFIGS if c[0] in ("2d odd/even", "3d collapse stride 2", "bank stride 2",
                                    "explicit bank", "keep last")],
    ids=["2d", "collapse stride", "bank stride", "explicit bank", "keep last"],
)
def test_custom_psp(rng, name, pre_shape, post_shape, wshape, extra, psp_name):
    psp = PSPS[psp_name]
    pre = rng.uniform(-1, 1, pre_shape)
    weights = rng.uniform(-1, 1, wshape)
    for padding in (0.5, "border"):
        expected = reference_all_operations(pre, weights, post_shape, padding=padding, psp=psp, **extra)
        for operation in ("sum", "mean", "max", "min"):
            kwargs = kwargs_for(extra, padding=padding, operation=operation, psp=psp)
            kernel = ConvolutionKernel(pre_shape, post_shape, weights, **kwargs)
            assert kernel.strategy == "direct"
            np.testing.assert_allclose(run(kernel, pre), expected[operation], rtol=0, atol=ATOL,
                                       err_msg=f"{operation}, padding {padding!r}")


@pytest.mark.parametrize(
    "name, pre_shape, post_shape, wshape, extra",
    [c for c in CONFIGS if c[0] in ("2d strides 2x4", "3d per channel (tutorial)", "3d collapse",
                                    "bank tutorial", "bank 8 filters 5x5", "explicit 2d")]
    + [("separable", (9, 11), (9, 11), (5, 3), {})],
    ids=["strides", "tutorial", "collapse", "bank tutorial", "bank 8", "explicit", "separable"],
)
def test_float32(rng, name, pre_shape, post_shape, wshape, extra):
    pre = rng.uniform(-1, 1, pre_shape).astype(np.float32)
    weights = rng.uniform(-1, 1, wshape).astype(np.float32)
    if name == "separable":
        weights = np.outer(weights[:, 0], weights[0, :]).astype(np.float32)
    for padding in (0.5, "border"):
        results = reference_all_operations(pre, weights, post_shape, padding=padding, **extra)
        for operation in ("sum", "mean", "max"):
            expected = results[operation]
            scale = 1e-5 * (1.0 + np.abs(expected).max())
            kwargs = kwargs_for(extra, padding=padding, operation=operation)
            kernels = kernels_for_every_strategy(pre_shape, post_shape, weights, dtype=np.float32,
                                                 **kwargs)
            if name == "separable" and operation != "max":
                assert "separable" in kernels
            for strategy, kernel in kernels.items():
                out = run(kernel, pre, dtype=np.float32)
                assert out.dtype == np.float32
                np.testing.assert_allclose(out, expected, rtol=1e-5, atol=scale,
                                           err_msg=f"{strategy}, {operation}, padding {padding!r}")


def test_large_kernel_uses_fft_and_is_exact(rng):
    pre = rng.uniform(-1, 1, (40, 50))
    weights = rng.uniform(-1, 1, (15, 16))
    kernel = ConvolutionKernel((40, 50), (40, 50), weights, padding=0.25)
    assert kernel.strategy == "fft"
    direct = ConvolutionKernel((40, 50), (40, 50), weights, padding=0.25, strategy="direct")
    np.testing.assert_allclose(run(kernel, pre), run(direct, pre), rtol=0, atol=ATOL)


def test_automatic_choices_for_clear_cut_configurations():
    # Close calls (a random 5x5 on 1000x1000) are left to the cost model; these are not close.
    # The tutorial's box filter: five shifted sums and one scaling beat a copy of every window.
    assert ConvolutionKernel((48, 64, 3), (48, 64, 3), np.ones((3, 3, 1)) / 9.0).strategy == "shifted"
    bank = np.array([[[[2.0, -1.0, -1.0]]], [[[-1.0, 2.0, -1.0]]], [[[-1.0, -1.0, 2.0]]]])
    assert ConvolutionKernel((48, 64, 3), (48, 64, 3), bank, bank=True).strategy == "matmul"
    gauss5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
    assert ConvolutionKernel((1000, 1000), (1000, 1000), gauss5).strategy == "separable"
    filters = np.random.default_rng(0).uniform(size=(8, 5, 5))
    assert ConvolutionKernel((500, 500), (500, 500, 8), filters, bank=True).strategy == "im2col"
    big = np.random.default_rng(0).uniform(size=(15, 15))
    assert ConvolutionKernel((200, 200), (200, 200), big).strategy == "fft"
    assert ConvolutionKernel((200, 200), (200, 200), big, operation="max").strategy == "direct"


# --------------------------------------------------------------------------- semantics by hand


def test_float_padding_is_weighted_like_a_pixel():
    # ANNarchy adds the padding value once, unweighted; here it is a pixel like any other.
    kernel = ConvolutionKernel((3,), (3,), [1.0, 2.0, 3.0], padding=0.5)
    np.testing.assert_allclose(run(kernel, np.array([1.0, 2.0, 3.0])),
                               [1 * 0.5 + 2 * 1 + 3 * 2, 1 * 1 + 2 * 2 + 3 * 3, 1 * 2 + 2 * 3 + 3 * 0.5])


def test_max_of_negative_products_is_negative():
    # ANNarchy starts max at 0; the true max of all-negative products is negative.
    kernel = ConvolutionKernel((4,), (4,), [1.0, 1.0, 1.0], operation="max", padding=-5.0)
    np.testing.assert_allclose(run(kernel, np.array([-1.0, -2.0, -3.0, -4.0])), [-1.0, -1.0, -2.0, -3.0])
    kernel = ConvolutionKernel((3,), (3,), [1.0, 1.0, 1.0], operation="min", padding="border")
    np.testing.assert_allclose(run(kernel, np.array([5.0, 6.0, 7.0])), [5.0, 5.0, 6.0])


def test_max_with_zero_padding_sees_the_zero_products():
    kernel = ConvolutionKernel((3,), (3,), [1.0, 1.0, 1.0], operation="max")
    np.testing.assert_allclose(run(kernel, np.array([-1.0, -2.0, -3.0])), [0.0, -1.0, 0.0])


def test_bank_mean_divides_by_one_filter():
    # ANNarchy divides by the size of the whole bank (here 2 * 3 taps).
    bank = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])
    kernel = ConvolutionKernel((3,), (2,), bank, bank=True, operation="mean",
                               subsampling=[[1]])
    np.testing.assert_allclose(run(kernel, np.array([1.0, 2.0, 3.0])), [2.0, 6.0])


def test_even_kernel_has_the_extra_tap_on_the_plus_side():
    kernel = ConvolutionKernel((5,), (5,), [1.0, 10.0])  # centre tap 0: out[i] = x[i] + 10 x[i+1]
    np.testing.assert_allclose(run(kernel, np.array([1.0, 2.0, 3.0, 4.0, 5.0])), [21, 32, 43, 54, 5])


def test_tutorial_box_filter_smooths_each_channel_separately(rng):
    pre = rng.uniform(0, 1, (6, 8, 3))
    kernel = ConvolutionKernel((6, 8, 3), (6, 8, 3), np.ones((3, 3, 1)) / 9.0)
    out = run(kernel, pre)
    for c in range(3):
        single = ConvolutionKernel((6, 8), (6, 8), np.ones((3, 3)) / 9.0)
        np.testing.assert_allclose(out[..., c], run(single, pre[..., c].copy()), atol=ATOL)


def test_compute_overwrites_and_repeats(rng):
    kernel = ConvolutionKernel((10, 12), (10, 12, 8), rng.uniform(size=(8, 5, 5)), bank=True)
    pre = rng.uniform(size=(10, 12))
    first = run(kernel, pre)
    out = np.full((10, 12, 8), 123.0)
    kernel.compute(pre, out)
    kernel.compute(pre, out)
    np.testing.assert_array_equal(out, first)


# --------------------------------------------------------------------------- weights at run time


def test_setting_weights_replans_and_recomputes(rng):
    # A separable kernel takes one of the per-axis paths; a new, non-separable
    # kernel must switch to a path that handles every tap (a random 5x5 on this
    # size: im2col), and the direct path (checked against the reference above)
    # gives the expected values.
    pre = rng.uniform(-1, 1, (200, 200))
    gauss = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
    kernel = ConvolutionKernel((200, 200), (200, 200), gauss, padding=0.5)
    first = kernel.strategy
    assert first in ("separable", "shifted")
    new = rng.uniform(-1, 1, (5, 5))
    kernel.weights = new
    assert kernel.strategy == "im2col"
    np.testing.assert_array_equal(kernel.weights, new)
    direct = ConvolutionKernel((200, 200), (200, 200), new, padding=0.5, strategy="direct")
    np.testing.assert_allclose(run(kernel, pre), run(direct, pre), rtol=0, atol=ATOL)
    kernel.weights = gauss
    assert kernel.strategy == first
    direct = ConvolutionKernel((200, 200), (200, 200), gauss, padding=0.5, strategy="direct")
    np.testing.assert_allclose(run(kernel, pre), run(direct, pre), rtol=0, atol=ATOL)


def test_setting_weights_small(rng):
    pre = rng.uniform(-1, 1, (9, 10))
    kernel = ConvolutionKernel((9, 10), (9, 10), np.ones((3, 3)), padding=0.5)
    new = rng.uniform(-1, 1, (3, 3))
    kernel.weights = new
    np.testing.assert_allclose(run(kernel, pre), reference(pre, new, (9, 10), padding=0.5), atol=ATOL)


def test_weights_that_a_forced_strategy_cannot_handle_are_refused(rng):
    pre = rng.uniform(-1, 1, (6, 7))
    box = np.ones((3, 3)) / 9.0
    kernel = ConvolutionKernel((6, 7), (6, 7), box, strategy="separable")
    with pytest.raises(ValidationError, match=r"strategy: does not apply"):
        kernel.weights = rng.uniform(size=(3, 3))
    np.testing.assert_array_equal(kernel.weights, box)
    np.testing.assert_allclose(run(kernel, pre), reference(pre, box, (6, 7)), atol=ATOL)


def test_setting_weights_on_a_bank(rng):
    pre = rng.uniform(-1, 1, (8, 8))
    kernel = ConvolutionKernel((8, 8), (4, 4, 2), rng.uniform(size=(2, 3, 3)), bank=True,
                               operation="max", padding="border")
    new = rng.uniform(-1, 1, (2, 3, 3))
    kernel.weights = new.tolist()
    expected = reference(pre, new, (4, 4, 2), bank=True, operation="max", padding="border")
    np.testing.assert_allclose(run(kernel, pre), expected, atol=ATOL)


def test_weights_are_read_only_and_copied():
    given = np.ones((3, 3))
    kernel = ConvolutionKernel((5, 5), (5, 5), given)
    given[0, 0] = 100.0  # the kernel keeps its own copy
    assert kernel.weights[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        kernel.weights[0, 0] = 2.0


def test_setting_weights_of_another_shape_fails():
    kernel = ConvolutionKernel((5, 5), (5, 5), np.ones((3, 3)))
    with pytest.raises(ValidationError,
                       match=r"Convolution\.weights: must keep the shape \(3, 3\).*got \(3, 4\)"):
        kernel.weights = np.ones((3, 4))


def test_setting_non_finite_weights_fails_and_keeps_the_old_ones():
    kernel = ConvolutionKernel((5, 5), (5, 5), np.ones((3, 3)))
    bad = np.ones((3, 3))
    bad[1, 1] = np.nan
    with pytest.raises(ValidationError, match="must be finite"):
        kernel.weights = bad
    np.testing.assert_array_equal(kernel.weights, np.ones((3, 3)))


# --------------------------------------------------------------------------- centres, receptive fields


def test_centres_with_even_and_odd_strides():
    kernel = ConvolutionKernel((8, 9), (2, 3), np.ones((3, 3)))  # strides 4 and 3
    expected = [[r, c] for r in (1, 5) for c in (1, 4, 7)]
    np.testing.assert_array_equal(kernel.centres(), expected)
    assert kernel.centres().dtype.kind == "i"


def test_centres_collapse_keep_last_bank_and_explicit():
    collapse = ConvolutionKernel((4, 6, 3), (2, 3), np.ones((3, 3, 3)))
    np.testing.assert_array_equal(collapse.centres()[:2], [[0, 0, 1], [0, 2, 1]])
    assert collapse.centres().shape == (6, 3)
    keep = ConvolutionKernel((2, 2, 3), (2, 2, 3), np.ones((3, 3)), keep_last_dimension=True)
    np.testing.assert_array_equal(keep.centres()[:4], [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0]])
    bank = ConvolutionKernel((4, 4), (2, 2, 5), np.ones((5, 2, 2)), bank=True)
    np.testing.assert_array_equal(bank.centres(), [[0, 0], [0, 2], [2, 0], [2, 2]])
    assert bank.bank and bank.n_filters == 5 and not collapse.bank and collapse.n_filters == 1
    explicit = ConvolutionKernel((4, 4), (3,), np.ones((3, 3)), subsampling=[(3, 0), (1, 1), (0, 3)])
    np.testing.assert_array_equal(explicit.centres(), [[3, 0], [1, 1], [0, 3]])


@pytest.mark.parametrize(
    "name, pre_shape, post_shape, wshape, extra",
    [c for c in CONFIGS if c[0] in ("2d odd/even", "2d strides 2x4", "3d collapse", "keep last",
                                    "bank 8 filters 5x5", "explicit bank", "2d larger than input")],
)
def test_receptive_fields_reproduce_the_output(rng, name, pre_shape, post_shape, wshape, extra):
    pre = rng.uniform(-1, 1, pre_shape)
    weights = rng.uniform(-1, 1, wshape)
    kernel = ConvolutionKernel(pre_shape, post_shape, weights, **extra)
    out = run(kernel, pre).reshape(-1)
    for rank in range(out.size):
        pre_ranks, w = kernel.receptive_field(rank)
        assert pre_ranks.shape == w.shape
        assert len(set(pre_ranks.tolist())) == pre_ranks.size
        assert np.all((0 <= pre_ranks) & (pre_ranks < pre.size))
        # with zero padding the virtual pixels contribute nothing
        assert abs(np.dot(w, pre.reshape(-1)[pre_ranks]) - out[rank]) < ATOL


def test_receptive_field_of_a_corner_and_of_a_bank_filter():
    weights = np.arange(1.0, 10.0).reshape(3, 3)
    kernel = ConvolutionKernel((4, 4), (4, 4), weights, padding="border")
    ranks, w = kernel.receptive_field(15)  # bottom-right corner: taps (0..1, 0..1) are real
    np.testing.assert_array_equal(ranks, [10, 11, 14, 15])
    np.testing.assert_array_equal(w, [1.0, 2.0, 4.0, 5.0])
    bank = ConvolutionKernel((4, 4), (4, 4, 2), np.stack([weights, -weights]), bank=True)
    ranks, w = bank.receptive_field(5 * 2 + 1)  # position (1, 1), filter 1
    np.testing.assert_array_equal(ranks, [0, 1, 2, 4, 5, 6, 8, 9, 10])
    np.testing.assert_array_equal(w, -weights.reshape(-1))


@pytest.mark.parametrize("rank", [-1, 16, 2.0, True, "0"])
def test_receptive_field_rejects_bad_ranks(rank):
    kernel = ConvolutionKernel((4, 4), (4, 4), np.ones((3, 3)))
    with pytest.raises(ValidationError, match=r"Convolution\.post_rank: must be an integer in \[0, 16\)"):
        kernel.receptive_field(rank)


# --------------------------------------------------------------------------- validation


def make(pre_shape=(6, 8, 3), post_shape=(6, 8, 3), weights=None, **kwargs):
    if weights is None:
        weights = np.ones((3, 3, 1))
    return ConvolutionKernel(pre_shape, post_shape, weights, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        # kernel rank
        (dict(weights=np.ones(3)),
         r"Convolution\.weights: the kernel has 1 dimensions \(\(3,\)\) but pre has 3 "
         r"\(pre \(6, 8, 3\), post \(6, 8, 3\)\): it needs 3, or 2 with keep_last_dimension=True"),
        (dict(pre_shape=(6, 8), post_shape=(6, 8), weights=np.ones((2, 3, 3))),
         r"a bank of filters needs bank=True"),
        (dict(weights=np.ones((3, 3))),
         r"Convolution\.keep_last_dimension: the kernel has 2 dimensions \(\(3, 3\)\), one less "
         r"than pre \(pre \(6, 8, 3\), post \(6, 8, 3\)\): set keep_last_dimension=True"),
        (dict(weights=np.ones((3, 3)), post_shape=(6, 8), keep_last_dimension=True),
         r"Convolution\.keep_last_dimension: keeps pre's last dimension, so the result cannot "
         r"have one dimension less than pre \(pre \(6, 8, 3\), post \(6, 8\)\) \(got True\)"),
        (dict(weights=np.ones((3, 3)), post_shape=(6, 8, 2), keep_last_dimension=True),
         r"keeps pre's last dimension, so the result's last dimension must be 3 "
         r"\(pre \(6, 8, 3\), post \(6, 8, 2\)\)"),
        (dict(weights=np.ones((3, 3, 3)), post_shape=(6, 8), keep_last_dimension=True),
         r"cannot keep pre's last dimension when the result has one dimension less than pre "
         r"\(pre \(6, 8, 3\), post \(6, 8\)\)"),
        # channel collapse
        (dict(weights=np.ones((3, 3, 2)), post_shape=(6, 8)),
         r"the last dimension of the kernel \(\(3, 3, 2\)\) must equal pre's last dimension 3 "
         r"\(pre \(6, 8, 3\), post \(6, 8\)\)"),
        (dict(post_shape=(6,)),
         r"Convolution\.post_shape: the result must have pre's rank 3 or one less "
         r"\(pre \(6, 8, 3\), post \(6,\)\)"),
        # banks
        (dict(weights=np.ones((2, 1, 1, 3)), bank=True),
         r"a bank of 2 filters \(weights \(2, 1, 1, 3\)\) needs post's last dimension to be 2 "
         r"\(pre \(6, 8, 3\), post \(6, 8, 3\)\)"),
        (dict(weights=np.ones((3, 3, 3)), bank=True),
         r"each filter of the bank has 2 dimensions .*keep_last_dimension=True"),
        (dict(weights=np.ones(3), bank=True),
         r"must have at least 2 dimensions for a bank \(filters first\)"),
        (dict(weights=np.ones((3, 1, 1, 3)), bank=True, post_shape=(6, 3)),
         r"the result per filter must have pre's rank 3 or one less \(pre \(6, 8, 3\), post \(6, 3\)\)"),
        # automatic subsampling
        (dict(pre_shape=(7, 9), post_shape=(3, 9), weights=np.ones((3, 3))),
         r"Convolution\.post_shape: automatic subsampling needs every dimension of pre to be a "
         r"multiple of the result's, but dimension 0 has 7 vs 3 \(pre \(7, 9\), post \(3, 9\)\)"),
        (dict(pre_shape=(4, 4), post_shape=(8, 4), weights=np.ones((3, 3))),
         r"dimension 0 has 4 vs 8"),
        # explicit subsampling
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)), subsampling=[[0, 0]]),
         r"Convolution\.subsampling: must hold one centre of 2 pre coordinates per post neuron, "
         r"i\.e\. shape \(2, 2\) \(pre \(4, 4\), post \(2,\)\) \(got \(1, 2\)\)"),
        (dict(pre_shape=(4, 4), post_shape=(4, 2), weights=np.ones((2, 3, 3)), bank=True,
              subsampling=[[0, 0], [1, 1], [2, 2]]),
         r"per spatial position \(post size / number of filters\), i\.e\. shape \(4, 2\) "
         r"\(pre \(4, 4\), post \(4, 2\)\) \(got \(3, 2\)\)"),
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)), subsampling=[[0, 0], [1]]),
         r"Convolution\.subsampling: must hold one centre"),
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)),
              subsampling=[[0, 0], [4, 1]]),
         r"Convolution\.subsampling: centre 1 lies outside pre \(pre \(4, 4\), post \(2,\)\) "
         r"\(got \(4, 1\)\)"),
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)),
              subsampling=[[0, 0], [-1, 1]]),
         r"centre 1 lies outside pre"),
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)),
              subsampling=[[0, 0], [1.5, 1]]),
         r"must hold integer coordinates"),
        (dict(pre_shape=(4, 4), post_shape=(2,), weights=np.ones((3, 3)),
              subsampling=[["a", "b"], ["c", "d"]]),
         r"must hold one centre"),
        # weights values
        (dict(weights=np.full((3, 3, 1), np.nan)), r"Convolution\.weights: must be finite"),
        (dict(weights=[[[1.0]], [[np.inf]], [[0.0]]]), r"must be finite"),
        (dict(weights=[[["a"]]]), r"Convolution\.weights: must be real numbers"),
        (dict(weights=np.ones((3, 3, 1), dtype=complex)), r"must be real numbers"),
        (dict(weights=[[1.0, 2.0], [3.0]]), r"must be a rectangular array of numbers"),
        (dict(weights=np.ones((0, 3, 1))), r"Convolution\.weights: must not be empty"),
        (dict(weights=1.0), r"must have at least 1 dimension"),
        (dict(weights=np.ones((3, 3, 1)), dtype=np.float32, pre_shape=(6, 8, 3)), None),
        # shapes
        (dict(pre_shape=(6, 0, 3)),
         r"Convolution\.pre_shape: must be a non-empty tuple of positive integers \(got \(6, 0, 3\)\)"),
        (dict(post_shape=()), r"Convolution\.post_shape: must be a non-empty tuple"),
        (dict(post_shape=(6, -8, 3)), r"post_shape: must be a non-empty tuple of positive integers"),
        (dict(pre_shape=(6.0, 8, 3)), r"pre_shape: must be"),
        (dict(pre_shape=None), r"pre_shape: must be"),
        # other arguments
        (dict(padding="edge"), r"Convolution\.padding: must be a number or 'border' \(got 'edge'\)"),
        (dict(padding=None), r"padding: must be a number or 'border'"),
        (dict(padding=True), r"padding: must be a number or 'border'"),
        (dict(padding=float("nan")), r"padding: must be finite"),
        (dict(operation="prod"),
         r"Convolution\.operation: must be one of 'sum', 'mean', 'max', 'min' \(got 'prod'\)"),
        (dict(psp="pre.r * w"), r"Convolution\.psp: must be a callable or None"),
        (dict(dtype=np.int32), r"Convolution\.dtype: must be float32 or float64 \(got int32\)"),
        (dict(dtype="not a dtype"), r"dtype: must be float32 or float64 \(got 'not a dtype'\)"),
        (dict(strategy="gpu"), r"Convolution\.strategy: must be None or one of"),
        (dict(strategy="matmul"),
         r"strategy: does not apply to this configuration \(possible: .*\) \(got 'matmul'\)"),
        (dict(strategy="ndimage", psp=lambda x, w: x * w), r"strategy: does not apply"),
    ],
)
def test_validation_messages(kwargs, message):
    if message is None:  # a valid call, kept in the table as a control
        make(**kwargs)
        return
    with pytest.raises(ValidationError, match=message):
        make(**kwargs)


def test_compute_checks_its_arrays():
    kernel = ConvolutionKernel((4, 6), (4, 6), np.ones((3, 3)))
    with pytest.raises(ValidationError, match=r"Convolution\.pre: must be a float64 array of shape "
                       r"\(4, 6\) \(got float64 array of shape \(6, 4\)\)"):
        kernel.compute(np.zeros((6, 4)), np.empty((4, 6)))
    with pytest.raises(ValidationError, match=r"pre: .*\(got float32 array of shape \(4, 6\)\)"):
        kernel.compute(np.zeros((4, 6), np.float32), np.empty((4, 6)))
    with pytest.raises(ValidationError, match=r"Convolution\.out: must be a C-contiguous float64 "
                       r"array of shape \(4, 6\) \(got non-contiguous float64 array of shape \(4, 6\)\)"):
        kernel.compute(np.zeros((4, 6)), np.empty((4, 12))[:, ::2])
    with pytest.raises(ValidationError, match=r"out: .*\(got C-contiguous float64 array of shape \(24,\)\)"):
        kernel.compute(np.zeros((4, 6)), np.empty(24))


@pytest.mark.parametrize(
    "name, pre_shape, post_shape, wshape, extra",
    [c for c in CONFIGS if c[0] in ("1d stride 3", "2d strides 2x4", "3d collapse", "keep last stride 2",
                                    "bank 8 filters 5x5", "bank 3d no collapse", "explicit 2d",
                                    "explicit bank")],
)
def test_im2col_with_many_small_blocks(monkeypatch, rng, name, pre_shape, post_shape, wshape, extra):
    # Blocks of a few positions exercise partial blocks and blocks nested in outer axes.
    monkeypatch.setattr(_convolution_kernel, "_BLOCK_ELEMENTS", 40)
    pre = rng.uniform(-1, 1, pre_shape)
    weights = rng.uniform(-1, 1, wshape)
    kernel = ConvolutionKernel(pre_shape, post_shape, weights, padding=0.5, strategy="im2col", **extra)
    expected = reference(pre, weights, post_shape, padding=0.5, **extra)
    np.testing.assert_allclose(run(kernel, pre), expected, rtol=0, atol=ATOL)


def test_owner_names_the_projection():
    with pytest.raises(ValidationError, match=r"^Convolution 'smooth'\.operation: "):
        ConvolutionKernel((4,), (4,), [1.0], operation="avg", owner="Convolution 'smooth'")


def test_kernel_larger_than_input_is_accepted_with_padding(rng):
    pre = rng.uniform(-1, 1, (2, 3))
    weights = rng.uniform(-1, 1, (7, 7))
    kernel = ConvolutionKernel((2, 3), (2, 3), weights, padding=0.5)
    np.testing.assert_allclose(run(kernel, pre), reference(pre, weights, (2, 3), padding=0.5),
                               atol=ATOL)
