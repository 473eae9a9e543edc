"""End-to-end tests of ratenet's image pipeline: Convolution and Pooling inside networks.

Only the public API is used (``ratenet``, ``ratenet.image``, ``ratenet.projections``,
``ratenet.demo``).  The kernels themselves are unit-tested in ``tests/projections/``;
here every expectation comes from an independent reference written in this file:

* the seed tutorial's pipeline recomputed in plain NumPy (10x10 block means,
  shifted sums of a zero-padded array, a matrix product over channels, clamps);
* brute-force Python loops over windows for pooling and correlation (DESIGN.md
  section 5: centre ``K//2`` for odd K, ``K//2 - 1`` for even K; stride ``pre/post``
  with centre ``int((s-1)/2) + s*i``; virtual pixels of value ``padding`` or the
  replicated border; pooling windows ``[i*e, (i+1)*e)`` clipped to what exists);
* the timing rules of DESIGN.md section 3 (one step of lag per projection; a delay
  of d steps reads ``pre.r`` from the end of step ``n - d``, the initial rate before).
"""

from __future__ import annotations

import itertools
import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest

import ratenet
import ratenet.demo
from ratenet import Network, Neuron, Projection, ValidationError
from ratenet.image import ImagePopulation
from ratenet.projections import Convolution, Pooling

REPO = Path(__file__).resolve().parents[1]
GRACE_HOPPER = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")

INPUT = Neuron(parameters="r = 0.0")          # rates set by the test, never changed by simulate
LINEAR = Neuron(equations="r = sum(exc)")      # r is exactly this step's summed input
# r = base + t: after step n (0-based) r == base + n, so each step's value identifies its step.
RAMP = Neuron(parameters="base = 0.0", equations="r = base + t")


@pytest.fixture(autouse=True)
def _fresh_default_network():
    """Tests that use the module-level API start from (and leave) a clean default network."""
    ratenet.clear()
    yield
    ratenet.clear()


# ================================================================================ references


def centre_offset(k: int) -> int:
    """Index of a kernel's centre tap along one axis (DESIGN.md section 5)."""
    return k // 2 if k % 2 else k // 2 - 1


def window(pre: np.ndarray, centre: tuple[int, ...], kshape: tuple[int, ...], padding) -> np.ndarray:
    """The pre values under a kernel of shape ``kshape`` centred on ``centre``.

    Axes beyond ``len(centre)`` do not slide: the kernel covers them from index 0
    (the channel axis of a collapsing filter).  Outside pre, the value is
    ``padding`` (a float) or the nearest edge value (``'border'``).
    """
    values = np.empty(kshape)
    for k in itertools.product(*(range(n) for n in kshape)):
        index, inside = [], True
        for axis, kk in enumerate(k):
            j = centre[axis] + kk - centre_offset(kshape[axis]) if axis < len(centre) else kk
            if not 0 <= j < pre.shape[axis]:
                if padding == "border":
                    j = min(max(j, 0), pre.shape[axis] - 1)
                else:
                    inside = False
            index.append(j)
        values[k] = pre[tuple(index)] if inside else padding
    return values


COMBINE = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}


def product(p, w):
    return p * w


def conv_ref(pre, weights, post_shape, *, bank=False, keep_last=False, padding=0.0, op="sum", psp=product,
             centres=None):
    """Brute-force correlation of ``pre`` with a filter (or a bank) into an array of ``post_shape``."""
    pre = np.asarray(pre, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    filters = list(weights) if bank else [weights]
    grid = tuple(post_shape[:-1]) if bank else tuple(post_shape)
    if keep_last:
        channels, grid = grid[-1], grid[:-1]
    sliding = len(grid)
    if centres is None:
        strides = [pre.shape[a] // grid[a] for a in range(sliding)]
        centres = [tuple(int((s - 1) / 2) + s * i for s, i in zip(strides, pos)) for pos in np.ndindex(*grid)]
    out = np.zeros(post_shape)
    for pos, centre in zip(np.ndindex(*grid), centres):
        for f, w in enumerate(filters):
            tail = (f,) if bank else ()
            if keep_last:
                for c in range(channels):
                    out[pos + (c,) + tail] = COMBINE[op](psp(window(pre[..., c], tuple(centre), w.shape, padding), w))
            else:
                out[pos + tail] = COMBINE[op](psp(window(pre, tuple(centre), w.shape, padding), w))
    return out


def pool_ref(pre, post_shape, extent, op, psp=lambda p: p):
    """Brute-force pooling: post index i covers pre ``[i*e, (i+1)*e)`` per axis, clipped to pre."""
    pre = psp(np.asarray(pre, dtype=np.float64))
    out = np.empty(post_shape)
    for pos in np.ndindex(*post_shape):
        ranges = []
        for axis, e in enumerate(extent):
            i = pos[axis] if axis < len(post_shape) else 0
            ranges.append(range(i * e, min((i + 1) * e, pre.shape[axis])))
        values = [pre[idx] for idx in itertools.product(*ranges)]
        out[pos] = COMBINE[op](values)
    return out


def one_step(pre_rates, post_geometry, make_projection, dtype=np.float64):
    """Network pre (rates given) -> post (r = sum(exc)); connect, simulate one step."""
    net = Network(dtype=dtype)
    pre = net.create(np.shape(pre_rates), INPUT, name="pre")
    pre.r = pre_rates
    post = net.create(post_geometry, LINEAR, name="post")
    proj = make_projection(pre, post)
    net.step()
    return net, pre, post, proj


def assert_step_result(post, expected, tol=1e-12):
    np.testing.assert_allclose(post.sum("exc"), expected, rtol=0, atol=tol)
    np.testing.assert_allclose(post.r, expected, rtol=0, atol=tol)


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


# ====================================================================== 1. the tutorial


# The seed tutorial's network, verbatim from clear() to simulate(4.0); only the three
# import lines changed, and 'test.jpg' became matplotlib's grace_hopper.jpg.
TUTORIAL_IMPORTS = """\
import numpy as np
from ratenet import *
from ratenet.image import *
from ratenet.projections import Convolution, Pooling
"""

TUTORIAL_NETWORK = """\
clear()
image = ImagePopulation(geometry=(480, 640, 3))
# Simple ANN
LinearNeuron = Neuron(equations="r=sum(exc): min=0.0")

# Subsampling population
pooled = Population(geometry=(48, 64, 3), neuron = LinearNeuron)

# Mean-pooling projection
pool_proj = Pooling(pre=image, post=pooled, target='exc', operation='mean')
pool_proj.connect_pooling()
# Smoothing population
smoothed = Population(geometry=(48, 64, 3), neuron = LinearNeuron)

# Box filter projection
box_filter = np.ones((3, 3, 1))/9.
smooth_proj = Convolution(pre=pooled, post=smoothed, target='exc')
smooth_proj.connect_filter(weights=box_filter)
# Convolution population
filtered = Population(geometry=(48, 64, 3), neuron = LinearNeuron)

# Red/Green/Blue filter bank
filter_bank = np.array([
    [[ [2.0, -1.0, -1.0] ]] , # Red filter
    [[ [-1.0, 2.0, -1.0] ]] , # Blue filter
    [[ [-1.0, -1.0, 2.0] ]]   # Green filter
])
filter_proj = Convolution(pre=smoothed, post=filtered, target='exc')
filter_proj.connect_filters(weights=filter_bank)
compile()
image.set_image(GRACE_HOPPER)
"""

TUTORIAL_RUN = "simulate(4.0)\n"


def run_tutorial(run: bool = True) -> dict:
    namespace = {"GRACE_HOPPER": GRACE_HOPPER}
    exec(TUTORIAL_IMPORTS + TUTORIAL_NETWORK + (TUTORIAL_RUN if run else ""), namespace)
    return namespace


def tutorial_reference(image_r: np.ndarray) -> dict[str, np.ndarray]:
    """The tutorial's pipeline in plain NumPy, from the image rates."""
    pooled = image_r.reshape(48, 10, 64, 10, 3).mean(axis=(1, 3))
    pooled = np.maximum(pooled, 0.0)
    padded = np.zeros((50, 66, 3))
    padded[1:-1, 1:-1] = pooled
    smoothed = sum(padded[di:di + 48, dj:dj + 64] for di in range(3) for dj in range(3)) / 9.0
    smoothed = np.maximum(smoothed, 0.0)
    bank = np.array([[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]])  # bank[f, c]
    filtered = np.maximum(smoothed @ bank.T, 0.0)
    return {"pooled": pooled, "smoothed": smoothed, "filtered": filtered}


def opencv_reference_image(interpolation: int) -> np.ndarray:
    bgr = cv2.imread(GRACE_HOPPER)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, (640, 480), interpolation=interpolation).astype(np.float64) / 255.0


def test_tutorial_as_written_matches_numpy_recomputation():
    ns = run_tutorial()
    image = ns["image"]
    assert image.geometry == (480, 640, 3)
    assert ratenet.get_time() == pytest.approx(4.0) and ratenet.get_current_step() == 4
    expected = tutorial_reference(np.asarray(image.r, dtype=np.float64))
    for name in ("pooled", "smoothed", "filtered"):
        rates = ns[name].r
        assert rates.shape == (48, 64, 3) and rates.dtype == np.float64
        np.testing.assert_allclose(rates, expected[name], rtol=0, atol=1e-12, err_msg=name)
    # The colour-opponent bank gives negative sums somewhere; min=0.0 must have clamped them.
    assert (ns["filtered"].sum("exc") < 0).any() and ns["filtered"].r.min() == 0.0
    assert ns["filtered"].r.max() > 0.05


def test_tutorial_one_step_per_layer():
    ns = run_tutorial(run=False)
    pooled, smoothed, filtered = ns["pooled"], ns["smoothed"], ns["filtered"]
    expected = tutorial_reference(np.asarray(ns["image"].r, dtype=np.float64))
    nonzero_after = {"pooled": 1, "smoothed": 2, "filtered": 3}
    for step in range(1, 5):
        ratenet.step()
        for name, pop in (("pooled", pooled), ("smoothed", smoothed), ("filtered", filtered)):
            if step < nonzero_after[name]:
                assert np.all(pop.r == 0.0), f"{name} non-zero after step {step}"
            else:
                assert np.any(pop.r != 0.0), f"{name} still zero after step {step}"
                np.testing.assert_allclose(pop.r, expected[name], rtol=0, atol=1e-12,
                                           err_msg=f"{name} after step {step}")


def test_tutorial_image_equals_an_independent_opencv_load():
    ns = run_tutorial(run=False)
    rates = ns["image"].r
    # grace_hopper.jpg is 600 x 512 (H x W): going to 480 x 640 shrinks the height and
    # enlarges the width, so DESIGN.md section 6 prescribes bilinear, not area.
    assert cv2.imread(GRACE_HOPPER).shape == (600, 512, 3)
    np.testing.assert_array_equal(rates, opencv_reference_image(cv2.INTER_LINEAR))
    # ...and with interpolation="area" asked for, OpenCV's area resize exactly.
    area = ImagePopulation((480, 640, 3), interpolation="area", network=Network())
    area.set_image(GRACE_HOPPER)
    np.testing.assert_array_equal(area.r, opencv_reference_image(cv2.INTER_AREA))


def test_tutorial_image_is_not_changed_by_simulate():
    ns = run_tutorial(run=False)
    before = ns["image"].r.copy()
    ratenet.simulate(4.0)
    np.testing.assert_array_equal(ns["image"].r, before)


def test_tutorial_new_image_after_simulating_reaches_every_layer(rng):
    ns = run_tutorial()
    new = rng.random((480, 640, 3))
    ns["image"].set_image(new)
    ratenet.simulate(4.0)
    expected = tutorial_reference(new)
    for name in ("pooled", "smoothed", "filtered"):
        np.testing.assert_allclose(ns[name].r, expected[name], rtol=0, atol=1e-12, err_msg=name)


def test_tutorial_in_float32(rng):
    ns = {"GRACE_HOPPER": GRACE_HOPPER}
    exec(TUTORIAL_IMPORTS + "setup(dtype=np.float32)\n"
         + TUTORIAL_NETWORK.replace("clear()\n", "", 1) + TUTORIAL_RUN, ns)
    assert ns["filtered"].r.dtype == np.float32
    expected = tutorial_reference(np.asarray(ns["image"].r, dtype=np.float64))
    for name in ("pooled", "smoothed", "filtered"):
        np.testing.assert_allclose(ns[name].r, expected[name], rtol=0, atol=1e-5, err_msg=name)


# ========================================================= 2. pooling inside networks


@pytest.mark.parametrize("operation", ["max", "min", "mean"])
def test_pooling_automatic_extent(rng, operation):
    pre = rng.normal(size=(6, 8, 3))   # negative values too: max of negatives is the true max
    pre[0:2, 0:2, 0] = -rng.random((2, 2)) - 0.5
    _, _, post, proj = one_step(pre, (3, 2, 3), lambda a, b: Pooling(a, b, "exc", operation=operation)
                                .connect_pooling())
    assert tuple(proj.extent) == (2, 4, 1)
    assert_step_result(post, pool_ref(pre, (3, 2, 3), (2, 4, 1), operation))


@pytest.mark.parametrize("operation", ["max", "min", "mean"])
def test_pooling_explicit_extent_across_channels(rng, operation):
    pre = rng.normal(size=(6, 8, 3))
    _, _, post, _ = one_step(pre, (3, 4), lambda a, b: Pooling(a, b, "exc", operation=operation)
                             .connect_pooling(extent=(2, 2, 3)))
    expected = pool_ref(pre, (3, 4), (2, 2, 3), operation)
    # spot check of the reference itself: a window over 2 x 2 pixels and all 3 channels
    assert expected[1, 2] == pytest.approx(COMBINE[operation](pre[2:4, 4:6, :]))
    assert_step_result(post, expected)


@pytest.mark.parametrize("operation", ["max", "min", "mean"])
def test_pooling_overhanging_windows(rng, operation):
    pre = rng.normal(size=(5, 7))
    _, _, post, _ = one_step(pre, (3, 4), lambda a, b: Pooling(a, b, "exc", operation=operation)
                             .connect_pooling(extent=(2, 2)))
    expected = pool_ref(pre, (3, 4), (2, 2), operation)
    assert expected[2, 3] == pre[4, 6]                # the corner window holds one element
    assert expected[2, 0] == pytest.approx(COMBINE[operation](pre[4, 0:2]))
    assert_step_result(post, expected)


@pytest.mark.parametrize("psp, reference", [
    ("pre.r^2", lambda p: p ** 2),
    ("pos(pre.r - 0.5)", lambda p: np.maximum(p - 0.5, 0.0)),
])
@pytest.mark.parametrize("operation", ["max", "mean"])
def test_pooling_psp(rng, psp, reference, operation):
    pre = rng.normal(size=(4, 6))
    _, _, post, _ = one_step(pre, (2, 3), lambda a, b: Pooling(a, b, "exc", psp=psp, operation=operation)
                             .connect_pooling())
    assert_step_result(post, pool_ref(pre, (2, 3), (2, 2), operation, psp=reference))


def test_pooling_psp_reading_another_pre_variable(rng):
    net = Network()
    pre = net.create((4, 4), Neuron(parameters="r = 0.0\ngain = 1.0"))
    post = net.create((2, 2), LINEAR)
    rates, gain = rng.random((4, 4)), rng.random((4, 4))
    pre.r, pre.gain = rates, gain
    net.connect(Pooling(pre, post, "exc", psp="pre.r * pre.gain", operation="mean")).connect_pooling()
    net.step()
    assert_step_result(post, pool_ref(rates * gain, (2, 2), (2, 2), "mean"))


# ===================================================== 2. convolution inside networks


CONVOLUTION_CASES = {
    # name: (pre shape, post shape, weights shape, connect kwargs, reference kwargs)
    "odd 3x3": ((6, 8), (6, 8), (3, 3), {}, {}),
    "odd 5x3": ((6, 8), (6, 8), (5, 3), {}, {}),
    "even 2x4": ((6, 8), (6, 8), (2, 4), {}, {}),
    "even 4x4 subsampled": ((8, 8), (4, 2), (4, 4), {}, {}),
    "3x3 subsampled by 2": ((6, 8), (3, 4), (3, 3), {}, {}),
    "3x3 subsampled by 3": ((6, 9), (2, 3), (3, 3), {}, {}),
    "3-D plain": ((4, 5, 3), (4, 5, 3), (3, 3, 3), {}, {}),
    "per-channel (3,3,1) like the tutorial": ((6, 8, 3), (6, 8, 3), (3, 3, 1), {}, {}),
    "collapse the channel axis": ((6, 8, 3), (6, 8), (3, 3, 3), {}, {}),
    "collapse and subsample": ((6, 8, 3), (3, 4), (2, 2, 3), {}, {}),
    "keep_last_dimension": ((6, 8, 3), (6, 8, 3), (3, 3), {"keep_last_dimension": True}, {"keep_last": True}),
    "bank of 4": ((6, 8), (6, 8, 4), (4, 3, 3), {"bank": True}, {"bank": True}),
    "bank, collapse": ((6, 8, 3), (6, 8, 2), (2, 1, 1, 3), {"bank": True}, {"bank": True}),
    "bank, subsampled": ((6, 8), (3, 4, 2), (2, 3, 2), {"bank": True}, {"bank": True}),
    "1-D": ((10,), (10,), (3,), {}, {}),
}


def connect(pre, post, weights, bank=False, psp="pre.r * w", operation="sum", **kwargs):
    proj = Convolution(pre, post, "exc", psp=psp, operation=operation)
    return proj.connect_filters(weights, **kwargs) if bank else proj.connect_filter(weights, **kwargs)


@pytest.mark.parametrize("case", list(CONVOLUTION_CASES))
@pytest.mark.parametrize("operation", ["sum", "max", "min", "mean"])
def test_convolution_configurations(rng, case, operation):
    pre_shape, post_shape, wshape, kwargs, ref_kwargs = CONVOLUTION_CASES[case]
    pre, weights = rng.normal(size=pre_shape), rng.normal(size=wshape)
    _, _, post, _ = one_step(pre, post_shape, lambda a, b: connect(a, b, weights, operation=operation, **kwargs))
    assert_step_result(post, conv_ref(pre, weights, post_shape, op=operation, **ref_kwargs))


@pytest.mark.parametrize("padding", [0.7, -1.5, "border"])
@pytest.mark.parametrize("case", ["odd 3x3", "even 2x4", "3x3 subsampled by 2", "collapse the channel axis",
                                  "bank of 4", "keep_last_dimension"])
@pytest.mark.parametrize("operation", ["sum", "max", "mean"])
def test_convolution_padding(rng, padding, case, operation):
    pre_shape, post_shape, wshape, kwargs, ref_kwargs = CONVOLUTION_CASES[case]
    pre, weights = rng.normal(size=pre_shape), rng.normal(size=wshape)
    _, _, post, _ = one_step(pre, post_shape, lambda a, b: connect(a, b, weights, operation=operation,
                                                                    padding=padding, **kwargs))
    assert_step_result(post, conv_ref(pre, weights, post_shape, padding=padding, op=operation, **ref_kwargs))


def test_convolution_float_padding_is_a_weighted_virtual_pixel():
    # A closed form: constant pre c, padding p, all-ones 3x3 kernel; the corner sees
    # 4 real pixels and 5 virtual ones, the edge 6 and 3.
    pre = np.full((4, 5), 2.0)
    _, _, post, _ = one_step(pre, (4, 5), lambda a, b: connect(a, b, np.ones((3, 3)), padding=0.5))
    assert post.r[0, 0] == pytest.approx(4 * 2.0 + 5 * 0.5)
    assert post.r[0, 2] == pytest.approx(6 * 2.0 + 3 * 0.5)
    assert post.r[1, 1] == pytest.approx(9 * 2.0)


def test_convolution_explicit_subsampling(rng):
    pre, weights = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    centres = [[0, 0], [0, 7], [5, 0], [2, 3], [5, 7], [3, 3]]
    _, _, post, _ = one_step(pre, (3, 2), lambda a, b: connect(a, b, weights, subsampling=centres))
    assert_step_result(post, conv_ref(pre, weights, (3, 2), centres=[tuple(c) for c in centres]))


def test_convolution_explicit_subsampling_of_a_bank(rng):
    pre, bank = rng.normal(size=(6, 8)), rng.normal(size=(3, 3, 3))
    centres = [[1, 1], [4, 6]]   # one per spatial position, shared by the 3 filters
    _, _, post, _ = one_step(pre, (2, 3), lambda a, b: connect(a, b, bank, bank=True, subsampling=centres))
    assert_step_result(post, conv_ref(pre, bank, (2, 3), bank=True, centres=[tuple(c) for c in centres]))


@pytest.mark.parametrize("psp, reference", [
    ("w * pos(pre.r)", lambda p, w: w * np.maximum(p, 0.0)),
    ("(pre.r - w)^2", lambda p, w: (p - w) ** 2),
])
@pytest.mark.parametrize("case", ["odd 3x3", "even 2x4", "bank of 4", "collapse the channel axis"])
@pytest.mark.parametrize("operation", ["sum", "max"])
def test_convolution_custom_psp(rng, psp, reference, case, operation):
    pre_shape, post_shape, wshape, kwargs, ref_kwargs = CONVOLUTION_CASES[case]
    pre, weights = rng.normal(size=pre_shape), rng.normal(size=wshape)
    _, _, post, _ = one_step(pre, post_shape, lambda a, b: connect(a, b, weights, psp=psp, operation=operation,
                                                                    padding=0.3, **kwargs))
    assert_step_result(post, conv_ref(pre, weights, post_shape, op=operation, psp=reference, padding=0.3,
                                      **ref_kwargs))


def test_convolution_weights_changed_at_runtime(rng):
    pre, w1, w2 = rng.normal(size=(6, 8)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    net, _, post, proj = one_step(pre, (6, 8), lambda a, b: connect(a, b, w1))
    assert_step_result(post, conv_ref(pre, w1, (6, 8)))
    np.testing.assert_array_equal(proj.weights, w1)
    proj.weights = w2
    np.testing.assert_array_equal(proj.weights, w2)
    net.step()
    assert_step_result(post, conv_ref(pre, w2, (6, 8)))


def test_bank_weights_changed_at_runtime(rng):
    pre, b1, b2 = rng.normal(size=(6, 8, 3)), rng.normal(size=(2, 1, 1, 3)), rng.normal(size=(2, 1, 1, 3))
    net, _, post, proj = one_step(pre, (6, 8, 2), lambda a, b: connect(a, b, b1, bank=True))
    proj.weights = b2
    net.step()
    assert_step_result(post, conv_ref(pre, b2, (6, 8, 2), bank=True))


def test_weights_property_is_a_copy(rng):
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    net, _, post, proj = one_step(pre, (6, 8), lambda a, b: connect(a, b, w))
    try:
        proj.weights[0, 0] = 100.0   # either refused (read-only) or without effect
    except ValueError:
        pass
    net.step()
    assert_step_result(post, conv_ref(pre, w, (6, 8)))


def test_convolution_and_ordinary_projection_add_up(rng):
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))

    def both(a, b):
        Projection(a, b, "exc").connect_one_to_one(weights=2.0)
        return connect(a, b, w)

    _, _, post, _ = one_step(pre, (6, 8), both)
    assert_step_result(post, conv_ref(pre, w, (6, 8)) + 2.0 * pre)


def test_convolution_and_pooling_add_up_in_either_order(rng):
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    expected = conv_ref(pre, w, (3, 4)) + pool_ref(pre, (3, 4), (2, 2), "max")
    for first in ("conv", "pool"):
        def build(a, b, first=first):
            projs = [lambda: connect(a, b, w), lambda: Pooling(a, b, "exc").connect_pooling()]
            for make in (projs if first == "conv" else projs[::-1]):
                make()
        _, _, post, _ = one_step(pre, (3, 4), build)
        assert_step_result(post, expected)


def test_two_targets_stay_separate(rng):
    net = Network()
    pre = net.create((6, 8), INPUT)
    post = net.create((6, 8), Neuron(equations="r = sum(exc) - sum(inh)"))
    rates, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    pre.r = rates
    net.connect(Convolution(pre, post, "exc")).connect_filter(w)
    net.connect(Convolution(pre, post, "inh", operation="max")).connect_filter(np.ones((1, 1)))
    net.step()
    np.testing.assert_allclose(post.sum("exc"), conv_ref(rates, w, (6, 8)), atol=1e-12)
    np.testing.assert_allclose(post.sum("inh"), rates, atol=1e-12)
    np.testing.assert_allclose(post.r, conv_ref(rates, w, (6, 8)) - rates, atol=1e-12)


def test_convolution_then_pooling_chain_one_step_per_layer(rng):
    net = Network()
    inp = net.create((6, 8), INPUT)
    a = net.create((6, 8), LINEAR)
    b = net.create((3, 4), LINEAR)
    rates, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    inp.r = rates
    # created in reverse order: the result must not depend on it
    net.connect(Pooling(a, b, "exc", operation="max")).connect_pooling()
    net.connect(Convolution(inp, a, "exc")).connect_filter(w)
    net.step()
    np.testing.assert_allclose(a.r, conv_ref(rates, w, (6, 8)), atol=1e-12)
    assert np.all(b.r == 0.0)
    net.step()
    np.testing.assert_allclose(b.r, pool_ref(conv_ref(rates, w, (6, 8)), (3, 4), (2, 2), "max"), atol=1e-12)


def test_pooling_then_convolution_chain_one_step_per_layer(rng):
    net = Network()
    inp = net.create((6, 8), INPUT)
    a = net.create((3, 4), LINEAR)
    b = net.create((3, 4, 2), LINEAR)
    rates, bank = rng.normal(size=(6, 8)), rng.normal(size=(2, 3, 3))
    inp.r = rates
    net.connect(Pooling(inp, a, "exc", operation="mean")).connect_pooling()
    net.connect(Convolution(a, b, "exc")).connect_filters(bank)
    net.step()
    pooled = pool_ref(rates, (3, 4), (2, 2), "mean")
    np.testing.assert_allclose(a.r, pooled, atol=1e-12)
    assert np.all(b.r == 0.0)
    net.step()
    np.testing.assert_allclose(b.r, conv_ref(pooled, bank, (3, 4, 2), bank=True), atol=1e-12)


# ------------------------------------------------------------------------------- delays


def ramp_network(shape, rng, dt=1.0):
    """pre: r = base + t with a distinct initial rate; after step n, pre.r == base + n*dt."""
    net = Network(dt=dt)
    pre = net.create(shape, RAMP, name="ramp")
    base, initial = rng.normal(size=shape), rng.normal(size=shape) + 10.0
    pre.base = base
    pre.r = initial
    return net, pre, base, initial


def delayed_pre(n, delay_steps, base, initial, dt=1.0):
    """pre.r as the projection sees it during step n (0-based)."""
    m = n - delay_steps
    return initial if m < 0 else base + m * dt


@pytest.mark.parametrize("delays, steps", [(0.0, 1), (1.0, 1), (3.0, 3)])
def test_convolution_uniform_delay(rng, delays, steps):
    net, pre, base, initial = ramp_network((6, 8), rng)
    post = net.create((3, 4), LINEAR)
    w = rng.normal(size=(3, 3))
    net.connect(Convolution(pre, post, "exc")).connect_filter(w, delays=delays)
    for n in range(7):
        net.step()
        expected = conv_ref(delayed_pre(n, steps, base, initial), w, (3, 4))
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-12, err_msg=f"step {n}")


def test_pooling_uniform_delay(rng):
    net, pre, base, initial = ramp_network((6, 8, 3), rng)
    post = net.create((3, 4, 3), LINEAR)
    net.connect(Pooling(pre, post, "exc", operation="mean")).connect_pooling(delays=2.0)
    for n in range(6):
        net.step()
        expected = pool_ref(delayed_pre(n, 2, base, initial), (3, 4, 3), (2, 2, 1), "mean")
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-12, err_msg=f"step {n}")


def test_pooling_delay_with_a_psp(rng):
    net, pre, base, initial = ramp_network((4, 4), rng)
    post = net.create((2, 2), LINEAR)
    net.connect(Pooling(pre, post, "exc", psp="pre.r^2", operation="max")).connect_pooling(delays=3.0)
    for n in range(6):
        net.step()
        expected = pool_ref(delayed_pre(n, 3, base, initial), (2, 2), (2, 2), "max", psp=lambda p: p ** 2)
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-9, err_msg=f"step {n}")


def test_delay_in_ms_with_a_small_dt(rng):
    net, pre, base, initial = ramp_network((6, 8), rng, dt=0.5)
    post = net.create((6, 8), LINEAR)
    w = rng.normal(size=(3, 3))
    net.connect(Convolution(pre, post, "exc")).connect_filter(w, delays=1.5)   # 3 steps
    for n in range(6):
        net.step()
        expected = conv_ref(delayed_pre(n, 3, base, initial, dt=0.5), w, (6, 8))
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-12, err_msg=f"step {n}")


def test_delayed_and_undelayed_projections_from_one_population(rng):
    net, pre, base, initial = ramp_network((6, 8), rng)
    post = net.create((3, 4), LINEAR)
    w = rng.normal(size=(3, 3))
    net.connect(Convolution(pre, post, "exc")).connect_filter(w, delays=3.0)
    net.connect(Pooling(pre, post, "exc", operation="min")).connect_pooling(delays=2.0)
    for n in range(6):
        net.step()
        expected = conv_ref(delayed_pre(n, 3, base, initial), w, (3, 4)) + \
            pool_ref(delayed_pre(n, 2, base, initial), (3, 4), (2, 2), "min")
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-12, err_msg=f"step {n}")


def test_delay_after_reset_starts_from_the_initial_rates_again(rng):
    net, pre, base, initial = ramp_network((4, 4), rng)
    post = net.create((2, 2), LINEAR)
    net.connect(Pooling(pre, post, "exc", operation="mean")).connect_pooling(delays=2.0)
    net.simulate(5.0)
    net.reset()
    for n in range(4):
        net.step()
        expected = pool_ref(delayed_pre(n, 2, base, initial), (2, 2), (2, 2), "mean")
        np.testing.assert_allclose(post.sum("exc"), expected, atol=1e-12, err_msg=f"step {n} after reset")


@pytest.mark.parametrize("delays", [2.0, 3.0])
def test_new_image_reaches_a_delayed_projection_delays_minus_one_steps_after_an_undelayed_one(rng, delays):
    # DESIGN.md 3 and 5: the ordinary projection reads pre.r "as it was at the end of the
    # previous step" (that includes a set_image made between steps); a delay of d steps
    # reads the end of step n - d, i.e. d - 1 steps further back.  So whatever changes
    # pre.r, the delayed projection must show it exactly d - 1 steps after the undelayed one.
    d = int(delays)
    net = Network()
    image = ImagePopulation((4, 6), network=net)
    now = net.create((2, 3), LINEAR)
    late = net.create((2, 3), LINEAR)
    net.connect(Pooling(image, now, "exc", operation="mean")).connect_pooling()
    net.connect(Pooling(image, late, "exc", operation="mean")).connect_pooling(delays=delays)
    first, second = rng.random((4, 6)), rng.random((4, 6))
    image.set_image(first)
    net.simulate(4.0)
    image.set_image(second)
    expected = [pool_ref(x, (2, 3), (2, 2), "mean") for x in (first, second)]
    for k in range(d + 2):
        net.step()
        np.testing.assert_allclose(now.r, expected[1], atol=1e-12, err_msg=f"undelayed, {k} steps after")
        np.testing.assert_allclose(late.r, expected[1 if k >= d - 1 else 0], atol=1e-12,
                                   err_msg=f"delays={delays}, {k} steps after the undelayed one saw it")


def test_same_rule_for_a_population_driven_by_its_equations(rng):
    # The control experiment for the test above: with pre.r changed by its own equation,
    # the delayed projection is exactly d - 1 steps behind the undelayed one.
    net, pre, base, initial = ramp_network((4, 4), rng)
    now, late = net.create((2, 2), LINEAR), net.create((2, 2), LINEAR)
    net.connect(Pooling(pre, now, "exc", operation="mean")).connect_pooling()
    net.connect(Pooling(pre, late, "exc", operation="mean")).connect_pooling(delays=3.0)
    history = []
    for n in range(8):
        net.step()
        history.append(now.r.copy())
        if n >= 2:
            np.testing.assert_allclose(late.r, history[n - 2], atol=1e-12, err_msg=f"step {n}")


def test_monitor_records_the_delayed_convolution(rng):
    net, pre, base, initial = ramp_network((4, 4), rng)
    post = net.create((4, 4), LINEAR)
    w = rng.normal(size=(3, 3))
    net.connect(Convolution(pre, post, "exc")).connect_filter(w, delays=2.0)
    monitor = net.monitor(post, ["r", "sum(exc)"])
    net.simulate(5.0)
    recorded = monitor.get("sum(exc)", reshape=True)
    assert recorded.shape == (5, 4, 4)
    for n in range(5):
        expected = conv_ref(delayed_pre(n, 2, base, initial), w, (4, 4))
        np.testing.assert_allclose(recorded[n], expected, atol=1e-12, err_msg=f"step {n}")
    np.testing.assert_allclose(monitor.get("r", reshape=True), recorded, atol=1e-12)


def test_recurrent_convolution(rng):
    # pre is post: r(n) = correlate(r(n - 1)), from the initial rates.
    net = Network()
    field = net.create((5, 7), LINEAR)
    initial, w = rng.normal(size=(5, 7)), rng.normal(size=(3, 3)) / 4
    field.r = initial
    net.connect(Convolution(field, field, "exc")).connect_filter(w, padding="border")
    expected = initial
    for n in range(4):
        net.step()
        expected = conv_ref(expected, w, (5, 7), padding="border")
        np.testing.assert_allclose(field.r, expected, atol=1e-12, err_msg=f"step {n}")


# ------------------------------------------------------------------------------- float32


@pytest.mark.parametrize("case", ["odd 3x3", "even 2x4", "bank, collapse", "3x3 subsampled by 2",
                                  "keep_last_dimension"])
@pytest.mark.parametrize("operation", ["sum", "mean", "max"])
def test_convolution_float32(rng, case, operation):
    pre_shape, post_shape, wshape, kwargs, ref_kwargs = CONVOLUTION_CASES[case]
    pre, weights = rng.normal(size=pre_shape), rng.normal(size=wshape)
    _, pre_pop, post, _ = one_step(pre, post_shape, lambda a, b: connect(a, b, weights, operation=operation,
                                                                          padding="border", **kwargs),
                                   dtype=np.float32)
    assert post.r.dtype == np.float32 and post.sum("exc").dtype == np.float32
    expected = conv_ref(pre_pop.r.astype(np.float64), weights, post_shape, op=operation, padding="border",
                        **ref_kwargs)
    assert_step_result(post, expected, tol=1e-5)


@pytest.mark.parametrize("operation", ["max", "min", "mean"])
def test_pooling_float32(rng, operation):
    pre = rng.normal(size=(6, 8, 3))
    _, pre_pop, post, _ = one_step(pre, (3, 4), lambda a, b: Pooling(a, b, "exc", psp="pre.r^2",
                                                                     operation=operation)
                                   .connect_pooling(extent=(2, 2, 3)), dtype=np.float32)
    assert post.r.dtype == np.float32
    expected = pool_ref(pre_pop.r.astype(np.float64), (3, 4), (2, 2, 3), operation, psp=lambda p: p ** 2)
    assert_step_result(post, expected, tol=1e-5)


def test_custom_psp_float32(rng):
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    _, pre_pop, post, _ = one_step(pre, (6, 8), lambda a, b: connect(a, b, w, psp="(pre.r - w)^2"),
                                   dtype=np.float32)
    expected = conv_ref(pre_pop.r.astype(np.float64), w, (6, 8), psp=lambda p, q: (p - q) ** 2)
    assert_step_result(post, expected, tol=1e-5)


# ================================================================ 3. errors at construction


@pytest.fixture
def net():
    return Network()


def pops(net, pre_geometry, post_geometry):
    return net.create(pre_geometry, INPUT), net.create(post_geometry, LINEAR)


def assert_names_both(error, *shapes):
    text = str(error.value)
    for shape in shapes:
        assert str(tuple(shape)) in text, f"{shape} not named in: {text}"


def test_error_kernel_rank(net):
    pre, post = pops(net, (6, 8), (3, 4))
    proj = Convolution(pre, post, "exc")
    with pytest.raises(ValidationError) as error:
        proj.connect_filter(np.ones((3, 3, 3)))
    assert_names_both(error, (6, 8), (3, 4), (3, 3, 3))


def test_error_kernel_rank_too_low_without_keep_last_dimension(net):
    pre, post = pops(net, (6, 8, 3), (6, 8, 3))
    with pytest.raises(ValidationError, match="keep_last_dimension") as error:
        Convolution(pre, post, "exc").connect_filter(np.ones((3, 3)))
    assert_names_both(error, (6, 8, 3))


def test_error_bank_size_does_not_match_post(net):
    pre, post = pops(net, (6, 8), (6, 8, 3))
    with pytest.raises(ValidationError) as error:
        Convolution(pre, post, "exc").connect_filters(np.ones((2, 3, 3)))
    assert_names_both(error, (6, 8), (6, 8, 3), (2, 3, 3))


def test_error_convolution_subsampling_not_divisible(net):
    pre, post = pops(net, (6, 8), (4, 5))
    with pytest.raises(ValidationError) as error:
        Convolution(pre, post, "exc").connect_filter(np.ones((3, 3)))
    assert_names_both(error, (6, 8), (4, 5))


def test_error_pooling_extent_not_divisible(net):
    pre, post = pops(net, (6, 8), (4, 5))
    with pytest.raises(ValidationError, match="extent") as error:
        Pooling(pre, post, "exc").connect_pooling()
    assert_names_both(error, (6, 8), (4, 5))


def test_error_pooling_post_with_more_axes(net):
    pre, post = pops(net, (6, 8), (3, 4, 2))
    with pytest.raises(ValidationError) as error:
        Pooling(pre, post, "exc").connect_pooling()
    assert_names_both(error, (6, 8), (3, 4, 2))


def test_error_pooling_extent_of_the_wrong_length(net):
    pre, post = pops(net, (6, 8, 3), (3, 4))
    with pytest.raises(ValidationError, match="extent") as error:
        Pooling(pre, post, "exc").connect_pooling(extent=(2, 2))
    assert_names_both(error, (6, 8, 3))


@pytest.mark.parametrize("cls", [Convolution, Pooling])
@pytest.mark.parametrize("side", ["pre", "post"])
def test_error_views_are_refused(net, cls, side):
    pre, post = pops(net, (6, 8), (6, 8))
    args = {"pre": pre[0:4] if side == "pre" else pre, "post": post[0:4] if side == "post" else post}
    with pytest.raises(ValidationError, match=rf"{cls.__name__}\.{side}: .*view"):
        cls(args["pre"], args["post"], "exc")


@pytest.mark.parametrize("cls, operation", [(Convolution, "prod"), (Convolution, "median"), (Pooling, "sum"),
                                            (Pooling, "avg")])
def test_error_bad_operation(net, cls, operation):
    pre, post = pops(net, (6, 8), (3, 4))
    with pytest.raises(ValidationError, match=rf"{cls.__name__}\.operation: .*'{operation}'"):
        cls(pre, post, "exc", operation=operation)


@pytest.mark.parametrize("cls, psp, named", [
    (Convolution, "post.r * w", "post"),
    (Convolution, "pre.r * w * foo", "foo"),
    (Convolution, "pre.sum(exc) * w", "sum"),
    (Pooling, "post.r", "post"),
    (Pooling, "pre.r * foo", "foo"),
    (Pooling, "pre.foo", "foo"),
])
def test_error_bad_psp(net, cls, psp, named):
    pre, post = pops(net, (6, 8), (3, 4))
    with pytest.raises(ValueError) as error:
        cls(pre, post, "exc", psp=psp)
    assert isinstance(error.value, ratenet.RatenetError)
    assert named in str(error.value)


def test_error_malicious_psp_is_not_run(net, tmp_path):
    pre, post = pops(net, (6, 8), (3, 4))
    marker = tmp_path / "ran"
    with pytest.raises(ValueError):
        Convolution(pre, post, "exc", psp=f"__import__('os').mkdir('{marker}') * w")
    assert not marker.exists()


def test_error_weights_of_the_wrong_shape_keep_the_old_ones(rng):
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    net, _, post, proj = one_step(pre, (6, 8), lambda a, b: connect(a, b, w))
    with pytest.raises(ValidationError) as error:
        proj.weights = np.ones((3, 4))
    assert_names_both(error, (3, 3), (3, 4))
    net.step()
    assert_step_result(post, conv_ref(pre, w, (6, 8)))


def test_error_weights_before_connecting(net):
    pre, post = pops(net, (6, 8), (6, 8))
    proj = Convolution(pre, post, "exc")
    with pytest.raises(ValidationError, match="not connected"):
        proj.weights = np.ones((3, 3))


def test_error_simulating_an_unconnected_convolution(net):
    pre, post = pops(net, (6, 8), (6, 8))
    Convolution(pre, post, "exc", name="smooth")
    with pytest.raises(ValidationError, match=r"Convolution 'smooth'.*not connected"):
        net.simulate(1.0)


def test_unconnected_convolution_hint_names_its_own_connector(net):
    pre, post = pops(net, (6, 8), (6, 8))
    Convolution(pre, post, "exc", name="smooth")
    with pytest.raises(ValidationError) as error:
        net.simulate(1.0)
    assert "connect_filter" in str(error.value), str(error.value)


def test_ordinary_connector_on_a_convolution_is_refused(net):
    # Convolution inherits Projection's connectors; calling one must not pass silently
    # (it would leave the projection "not connected" and ask for connect_all_to_all()).
    pre, post = pops(net, (4, 4), (4, 4))
    proj = Convolution(pre, post, "exc")
    with pytest.raises((ValidationError, AttributeError, NotImplementedError, TypeError)):
        proj.connect_all_to_all(weights=1.0)


def test_error_connecting_twice(rng, net):
    pre, post = pops(net, (6, 8), (6, 8))
    proj = Convolution(pre, post, "exc").connect_filter(np.ones((3, 3)))
    with pytest.raises(ValidationError, match="already connected"):
        proj.connect_filter(np.ones((3, 3)))


# ======================================================================= inspection


def test_pooling_receptive_fields_are_the_windows(net):
    pre, post = pops(net, (4, 6), (2, 3))
    proj = Pooling(pre, post, "exc").connect_pooling()
    expected = []
    for i, j in np.ndindex(2, 3):
        expected.append(sorted(r * 6 + c for r in range(2 * i, 2 * i + 2) for c in range(2 * j, 2 * j + 2)))
    assert [sorted(ranks) for ranks in proj.pre_ranks] == expected
    assert proj.post_ranks == list(range(6)) and proj.size == 6 and proj.nb_synapses == 24


def test_convolution_receptive_fields_exclude_virtual_pixels(net):
    pre, post = pops(net, (4, 6), (4, 6))
    proj = Convolution(pre, post, "exc").connect_filter(np.ones((3, 3)))
    expected = []
    for i, j in np.ndindex(4, 6):
        expected.append(sorted(r * 6 + c for r in range(i - 1, i + 2) for c in range(j - 1, j + 2)
                               if 0 <= r < 4 and 0 <= c < 6))
    assert [sorted(ranks) for ranks in proj.pre_ranks] == expected
    assert proj.nb_synapses == sum(map(len, expected))


@pytest.mark.parametrize("kind", ["convolution", "pooling"])
@pytest.mark.parametrize("inspect", ["get('w')", "receptive_fields()", "delays"])
def test_inherited_inspection_never_claims_a_connected_projection_is_unconnected(net, kind, inspect):
    pre, post = pops(net, (4, 6), (2, 3))
    if kind == "convolution":
        proj = Convolution(pre, post, "exc").connect_filter(np.ones((3, 3)), delays=2.0)
    else:
        proj = Pooling(pre, post, "exc").connect_pooling(delays=2.0)
    try:
        {"get('w')": lambda: proj.get("w"), "receptive_fields()": proj.receptive_fields,
         "delays": lambda: proj.delays}[inspect]()
    except ratenet.RatenetError as error:   # refusing is fine; saying "not connected" is not
        assert "not connected" not in str(error), str(error)


def test_save_and_load_round_trip_convolution_weights(tmp_path, rng):
    # DESIGN.md section 7: save/load round-trip every population and projection array.
    pre, w = rng.normal(size=(6, 8)), rng.normal(size=(3, 3))
    net, _, post, proj = one_step(pre, (6, 8), lambda a, b: connect(a, b, w))
    ratenet.save(tmp_path / "state.npz", net=net)
    proj.weights = np.zeros((3, 3))
    ratenet.load(tmp_path / "state.npz", net=net)
    np.testing.assert_array_equal(proj.weights, w)


# ============================================================================ 5. the main job


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_figure(path: Path):
    assert path.is_file()
    width, height = png_size(path)
    # the 5x3 figure of 20 x 20 inches; a few hundred pixels at least, not absurdly large
    assert 300 <= width <= 4000 and 300 <= height <= 4000, (width, height)
    pixels = cv2.imread(str(path))
    assert pixels is not None and pixels.shape[:2] == (height, width)
    assert pixels.std() > 5   # something was drawn


def test_demo_main_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "fig.png"
    written = ratenet.demo.main(["-o", str(out)])
    assert Path(written).resolve() == out.resolve()
    assert_figure(out)
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed and "grace_hopper.jpg" in printed


def test_demo_main_with_an_image_argument(tmp_path, capsys, rng):
    source = tmp_path / "small input.png"
    assert cv2.imwrite(str(source), rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    out = tmp_path / "out.png"
    written = ratenet.demo.main([str(source), "-o", str(out)])
    assert Path(written).resolve() == out.resolve()
    assert_figure(out)
    printed = capsys.readouterr().out
    assert "small input.png" in printed and str(out.resolve()) in printed


def test_demo_main_with_a_missing_image(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        ratenet.demo.main([str(missing), "-o", str(tmp_path / "out.png")])
    assert not (tmp_path / "out.png").exists()


def test_demo_network_is_the_tutorial():
    stages = ratenet.demo.build_network()
    assert set(stages) == {"image", "pooled", "smoothed", "filtered"}
    assert stages["image"].geometry == (480, 640, 3)
    assert all(stages[name].geometry == (48, 64, 3) for name in ("pooled", "smoothed", "filtered"))
    stages["image"].set_image(GRACE_HOPPER)
    ratenet.simulate(4.0)
    expected = tutorial_reference(np.asarray(stages["image"].r, dtype=np.float64))
    for name in ("pooled", "smoothed", "filtered"):
        np.testing.assert_allclose(stages[name].r, expected[name], atol=1e-12, err_msg=name)


def test_example_script_runs(tmp_path):
    out = tmp_path / "example.png"
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(REPO / "examples" / "image_filters.py"), "-o", str(out)],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_figure(out)
    assert str(out.resolve()) in result.stdout
