"""Convolution and Pooling over a batch in one call give, sample by sample, the bits of the unbatched kernel.

The reference is the unbatched kernel called once per sample (the path a
batched network took before the kernels learned the batch axis).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratenet import Network, Neuron
from ratenet.exceptions import ValidationError
from ratenet.projections import Convolution, Pooling
from ratenet.projections._convolution_kernel import STRATEGIES, ConvolutionKernel
from ratenet.projections import _pooling_kernel
from ratenet.projections._pooling_kernel import PoolingKernel

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def per_sample(compute, x: np.ndarray, post: tuple[int, ...], dtype) -> np.ndarray:
    out = np.empty((len(x), *post), dtype=dtype)
    for b in range(len(x)):
        compute(x[b], out[b])
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@st.composite
def pooling_cases(draw):
    rank = draw(st.integers(1, 3))
    pre = tuple(draw(st.lists(st.integers(1, 11), min_size=rank, max_size=rank)))
    extent = tuple(draw(st.integers(1, p)) for p in pre)
    post = tuple(draw(st.integers(1, -(-p // e))) for p, e in zip(pre, extent))
    post = post[: draw(st.integers(1, rank))]
    operation = draw(st.sampled_from(["max", "min", "mean"]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    batch = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    return pre, post, extent, operation, dtype, batch, seed


@SETTINGS
@given(pooling_cases())
def test_pooling_batch_equals_sample_by_sample(case):
    pre, post, extent, operation, dtype, batch, seed = case
    single = PoolingKernel(pre, post, extent, operation=operation, dtype=dtype)
    x = np.random.default_rng(seed).standard_normal((batch, *pre)).astype(dtype)
    budget = _pooling_kernel._CHUNK_BYTES
    try:  # passes of one sample, of a few, of the whole batch
        for _pooling_kernel._CHUNK_BYTES in (1, 3 * x[0].nbytes, budget):
            batched = PoolingKernel(pre, post, extent, operation=operation, dtype=dtype, batch=batch)
            out = np.empty((batch, *post), dtype=dtype)
            batched.compute(x, out)
            assert same_bits(out, per_sample(single.compute, x, post, dtype))
            batched.compute(x[::-1].copy(), out)  # other arrays: bound again
            assert same_bits(out, per_sample(single.compute, x[::-1], post, dtype))
            # a new pre into the same out (frames lent without a copy) binds only the heads again: staged
            # (another dtype) or read in place, back and forth
            other = x.astype(np.float32 if dtype == np.float64 else np.float64)
            for source in (other, x * 2, x, other):
                batched.compute(source, out)
                assert same_bits(out, per_sample(single.compute, source, post, dtype))
            again = np.empty_like(out)  # then another out
            batched.compute(x, again)
            assert same_bits(again, per_sample(single.compute, x, post, dtype))
    finally:
        _pooling_kernel._CHUNK_BYTES = budget
    # Another dtype and a non-contiguous out go through the staging and final buffers.
    other = x.astype(np.float32 if dtype == np.float64 else np.float64)
    strided = np.empty((batch, *post, 2), dtype=dtype)[..., 0]
    batched.compute(other, strided)
    assert same_bits(np.ascontiguousarray(strided), per_sample(single.compute, other, post, dtype))


def test_pooling_batch_of_the_tutorial_keeps_the_plan():
    single = PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean")
    batched = PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean", batch=4)
    assert [line.split(")")[-1] for line in single.describe().splitlines()] == \
        [line.split(")")[-1] for line in batched.describe().splitlines()]
    x = np.random.default_rng(0).random((4, 480, 640, 3))
    out = np.empty((4, 48, 64, 3))
    batched.compute(x, out)
    assert same_bits(out, per_sample(single.compute, x, (48, 64, 3), np.float64))
    assert batched.batch == 4 and single.batch is None and "batch=4" in repr(batched)


@pytest.mark.parametrize("batch", [0, -1, 2.0, True])
def test_pooling_batch_must_be_a_positive_integer(batch):
    with pytest.raises(ValidationError, match=r"Pooling\.batch: must be None or a positive integer"):
        PoolingKernel((4,), (2,), batch=batch)


@pytest.mark.parametrize("budget", [1, 4 << 20])
def test_pooling_batch_checks_shapes(budget, monkeypatch):
    monkeypatch.setattr(_pooling_kernel, "_CHUNK_BYTES", budget)  # in passes of one sample, or all at once
    kernel = PoolingKernel((4,), (2,), batch=3)
    with pytest.raises(ValidationError, match=r"Pooling\.pre: must be an array of shape \(3, 4\)"):
        kernel.compute(np.zeros(4), np.empty((3, 2)))
    with pytest.raises(ValidationError, match=r"Pooling\.out: must be a.* array of shape \(3, 2\)"):
        kernel.compute(np.zeros((3, 4)), np.empty(2))


def test_pooling_batch_of_the_tutorial_runs_in_cache_sized_passes():
    kernel = PoolingKernel((480, 640, 3), (48, 64, 3), operation="mean", batch=64)
    assert 64 % kernel.chunk == 0 and kernel.chunk < 8


@st.composite
def convolution_cases(draw):
    rank = draw(st.integers(1, 3))
    pre = tuple(draw(st.lists(st.integers(2, 8), min_size=rank, max_size=rank)))
    mode = draw(st.sampled_from(["nd", "collapse", "keep"])) if rank > 1 else "nd"
    keep = mode == "keep"
    if mode == "nd":
        fshape = tuple(draw(st.integers(1, 4)) for _ in pre)
        post = tuple(p // 2 if draw(st.booleans()) and p % 2 == 0 else p for p in pre)
    elif mode == "collapse":
        fshape = tuple(draw(st.integers(1, 4)) for _ in pre[:-1]) + (pre[-1],)
        post = pre[:-1]
    else:
        fshape = tuple(draw(st.integers(1, 4)) for _ in pre[:-1])
        post = pre
    bank = draw(st.booleans())
    filters = draw(st.integers(1, 3))
    post_full = post + ((filters,) if bank else ())
    explicit = draw(st.integers(0, 4)) == 0
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    subsampling = [tuple(int(rng.integers(0, p)) for p in pre) for _ in range(int(np.prod(post)))] \
        if explicit else None
    weights = rng.standard_normal(((filters,) if bank else ()) + fshape)
    kind = draw(st.sampled_from(["random", "rounded", "ones"]))  # zero taps, equal taps, a box
    if kind == "rounded":
        weights = np.round(weights)
    elif kind == "ones":
        weights = np.ones_like(weights)
    padding = draw(st.sampled_from(["border", 0.0, 1.0, -0.5]))
    operation = draw(st.sampled_from(["sum", "mean", "max", "min"]))
    psp = draw(st.sampled_from([None, lambda x, w: x * w + 0.5 * x]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    batch = draw(st.integers(1, 5))
    kwargs = dict(bank=bank, keep_last_dimension=keep, padding=padding, subsampling=subsampling,
                  operation=operation, psp=psp, dtype=dtype)
    x = rng.standard_normal((batch, *pre)).astype(dtype)
    return pre, post_full, weights, kwargs, x


@SETTINGS
@given(convolution_cases())
def test_convolution_batch_equals_sample_by_sample_for_every_strategy(case):
    pre, post, weights, kwargs, x = case
    for strategy in STRATEGIES:
        try:
            kernel = ConvolutionKernel(pre, post, weights, strategy=strategy, **kwargs)
        except ValidationError:
            continue  # this strategy does not apply here
        out = np.empty((len(x), *post), dtype=kwargs["dtype"])
        kernel.compute_batch(x, out)
        assert same_bits(out, per_sample(kernel.compute, x, post, kwargs["dtype"])), strategy


@pytest.mark.parametrize("strategy", ["matmul", "im2col", "shifted", "ndimage", "separable", "direct"])
def test_convolution_batch_on_tutorial_sizes(strategy):
    rng = np.random.default_rng(1)
    if strategy == "matmul":
        pre, post, weights, bank = (48, 64, 3), (48, 64, 4), rng.standard_normal((4, 1, 1, 3)), True
    elif strategy == "im2col":
        pre, post, weights, bank = (48, 64, 3), (48, 64, 4), rng.standard_normal((4, 3, 3, 3)), True
    else:
        pre, post, weights, bank = (48, 64, 3), (48, 64, 3), np.ones((3, 3, 1)) / 9, False
    kernel = ConvolutionKernel(pre, post, weights, bank=bank, strategy=strategy)
    x = rng.random((64, *pre))
    out = np.empty((64, *post))
    kernel.compute_batch(x, out)
    assert same_bits(out, per_sample(kernel.compute, x, post, np.float64))


def test_convolution_batch_sees_new_weights():
    kernel = ConvolutionKernel((6, 6), (6, 6), np.ones((3, 3)))
    x = np.random.default_rng(2).random((3, 6, 6))
    out = np.empty((3, 6, 6))
    kernel.compute_batch(x, out)
    kernel.weights = np.arange(9.0).reshape(3, 3)
    kernel.compute_batch(x, out)
    assert same_bits(out, per_sample(kernel.compute, x, (6, 6), np.float64))
    assert not np.allclose(out, per_sample(ConvolutionKernel((6, 6), (6, 6), np.ones((3, 3))).compute, x,
                                           (6, 6), np.float64))


def test_convolution_batch_checks_shapes():
    kernel = ConvolutionKernel((4,), (4,), [1.0, 1.0])
    with pytest.raises(ValidationError, match=r"Convolution\.pre: must be a float64 array of shape "
                                              r"\(batch, \*\(4,\)\) \(got float64 array of shape \(4,\)\)"):
        kernel.compute_batch(np.zeros(4), np.empty((1, 4)))
    with pytest.raises(ValidationError, match=r"Convolution\.out: must be a C-contiguous float64 array of shape "
                                              r"\(2, 4\) \(got non-contiguous float64 array of shape \(2, 4\)\)"):
        kernel.compute_batch(np.zeros((2, 4)), np.empty((2, 8))[:, ::2])


def tutorial_like(batch):
    net = Network(batch=batch, seed=0)
    image = net.create((12, 16, 3), Neuron(parameters="r = 0.0"))
    pooled = net.create((6, 8, 3), Neuron(equations="r = sum(exc)"))
    smoothed = net.create((6, 8, 3), Neuron(equations="r = sum(exc)"))
    filtered = net.create((6, 8, 2), Neuron(equations="r = sum(exc)"))
    maxed = net.create((3, 4), Neuron(equations="r = sum(exc)"))
    net.connect(Pooling(image, pooled, "exc", operation="mean")).connect_pooling()
    smooth = net.connect(Convolution(pooled, smoothed, "exc")).connect_filter(np.ones((3, 3, 1)) / 9.0)
    bank = np.random.default_rng(3).standard_normal((2, 3, 3, 3))
    net.connect(Convolution(smoothed, filtered, "exc")).connect_filters(bank, delays=2.0)
    net.connect(Pooling(filtered, maxed, "exc", psp="pre.r * 2.0", operation="max")).connect_pooling(
        extent=(2, 2, 2))
    return net, image, [pooled, smoothed, filtered, maxed], smooth


def test_batched_network_equals_separate_runs_and_sees_weight_changes():
    frames = np.random.default_rng(4).random((5, 3, 12, 16, 3))
    net, image, pops, smooth = tutorial_like(3)
    alone = [tutorial_like(None) for _ in range(3)]
    for step, frame in enumerate(frames):
        if step == 3:  # a new filter from Python, shared by every sample
            for _, _, _, proj in [*alone, (net, image, pops, smooth)]:
                proj.weights = np.arange(9.0).reshape(3, 3, 1) / 45.0
        image.r = frame
        net.step()
        for b, (n, i, _, _) in enumerate(alone):
            i.r = frame[b]
            n.step()
        for k, pop in enumerate(pops):
            for b, (_, _, others, _) in enumerate(alone):
                assert same_bits(pop.r[b], others[k].r), (step, pop.name, b)
