"""A Convolution over a batch: does the sample-by-sample loop of ``im2col`` and ``fft`` cost anything?

Run from the repository root (one BLAS thread gives single-core figures):

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_batch_convolution.py [--batch 64] [--repeats 9]

``ConvolutionKernel.compute_batch`` runs ``im2col`` and ``fft`` as one
unbatched call per sample, so that sample ``b`` gets the bits an unbatched
network computes (a larger BLAS product or FFT rounds differently; the other
strategies span the batch in one call).  For configurations where the
automatic choice is ``im2col`` or ``fft``, this prints the time per sample of

- ``each``: B calls of the unbatched ``compute`` in a Python loop (the hand-written reference),
- ``batch``: ``compute_batch`` (ratenet's path),
- ``one call``: the same strategy over the whole batch in one call (the kernel
  over ``(B, *pre)`` with an extent of 1 along the batch axis: what "one call
  over the batch" would do), and whether it gives the same bits.

``batch / each`` near 1 says the loop costs nothing; ``batch / one call``
below 1 says one call would not be faster.
"""

from __future__ import annotations

import time

import numpy as np
from _harness import parser, report

from ratenet.projections._convolution_kernel import ConvolutionKernel

RNG = np.random.default_rng(0)

#: (pre shape, post shape, weights, keyword arguments): sizes where im2col or fft is the automatic choice
CONFIGS = {
    "bank 16 x 3x3x3 on (32,32,3)": ((32, 32, 3), (32, 32, 16), RNG.uniform(size=(16, 3, 3, 3)), {"bank": True}),
    "bank 32 x 3x3x16 on (24,24,16)": ((24, 24, 16), (24, 24, 32), RNG.uniform(size=(32, 3, 3, 16)),
                                      {"bank": True}),
    "15x15 on (64,64)": ((64, 64), (64, 64), RNG.uniform(size=(15, 15)), {}),
    "15x15 on (200,200)": ((200, 200), (200, 200), RNG.uniform(size=(15, 15)), {}),
}
QUICK = {"bank 16 x 3x3x3 on (32,32,3)", "15x15 on (64,64)"}


def median_time(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(max(3, repeats)):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(name: str, pre_shape, post_shape, weights: np.ndarray, kwargs: dict, batch: int, args) -> None:
    kernel = ConvolutionKernel(pre_shape, post_shape, weights, **kwargs)
    x = RNG.random((batch, *pre_shape))
    out = np.empty((batch, *post_shape))
    each = median_time(lambda: [kernel.compute(x[b], out[b]) for b in range(batch)], args.repeats) / batch
    ours = median_time(lambda: kernel.compute_batch(x, out), args.repeats) / batch
    stacked = weights.reshape((weights.shape[0], 1, *weights.shape[1:]) if kwargs.get("bank")
                              else (1, *weights.shape))
    whole = ConvolutionKernel((batch, *pre_shape), (batch, *post_shape), stacked, strategy=kernel.strategy,
                              **kwargs)
    joined = np.empty_like(out)
    one = median_time(lambda: whole.compute(x, joined), args.repeats) / batch
    same = bool(np.array_equal(out, joined))
    report(f"batch convolution: {name}", {
        "strategy": kernel.strategy, "batch": batch, "each_us_per_sample": each * 1e6,
        "batch_us_per_sample": ours * 1e6, "one_call_us_per_sample": one * 1e6, "one_call_same_bits": same},
        args, f"{kernel.strategy}, B={batch}: each {each * 1e6:.1f} us/sample, batch {ours * 1e6:.1f} "
              f"(batch/each {ours / each:.2f}), one call {one * 1e6:.1f} (batch/one call {ours / one:.2f}, "
              f"same bits: {same})")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    batch = 4 if args.quick else args.batch
    for name, (pre_shape, post_shape, weights, kwargs) in CONFIGS.items():
        if not args.quick or name in QUICK:
            measure(name, pre_shape, post_shape, weights, kwargs, batch, args)


if __name__ == "__main__":
    main()
