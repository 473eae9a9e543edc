"""Time every applicable path of ConvolutionKernel on the reference configurations.

Run from the repository root (one BLAS thread gives single-core figures):

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_convolution_kernel.py

Prints, per configuration, the best and median time per ``compute`` call of each
strategy, and marks the one chosen automatically with ``*``.  The machine is
shared and noisy: the best of many runs is the figure to compare.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ratenet.exceptions import ValidationError
from ratenet.projections._convolution_kernel import STRATEGIES, ConvolutionKernel

RNG = np.random.default_rng(0)
GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
TUTORIAL_BANK = np.array([[[[2.0, -1.0, -1.0]]], [[[-1.0, 2.0, -1.0]]], [[[-1.0, -1.0, 2.0]]]])

CONFIGS = {
    "(a) tutorial box (48,64,3) * (3,3,1)": ((48, 64, 3), (48, 64, 3), np.ones((3, 3, 1)) / 9, {}),
    "(b) tutorial bank (48,64,3) * (3,1,1,3)": ((48, 64, 3), (48, 64, 3), TUTORIAL_BANK, {"bank": True}),
    "(c) (1000,1000) * random 5x5": ((1000, 1000), (1000, 1000), RNG.uniform(size=(5, 5)), {}),
    "(c') (1000,1000) * gaussian 5x5": ((1000, 1000), (1000, 1000), GAUSS5, {}),
    "(d) (500,500) * bank 8 x 5x5": ((500, 500), (500, 500, 8), RNG.uniform(size=(8, 5, 5)), {"bank": True}),
    "(e) (1000,1000) -> (500,500) * 5x5 stride 2": ((1000, 1000), (500, 500), RNG.uniform(size=(5, 5)), {}),
    "(f) (48,64,3) -> (48,64) * (3,3,3) collapse": ((48, 64, 3), (48, 64), RNG.uniform(size=(3, 3, 3)), {}),
    "(g) (200,200) * random 15x15": ((200, 200), (200, 200), RNG.uniform(size=(15, 15)), {}),
    "(h) (480,640,3) * (5,5,1)": ((480, 640, 3), (480, 640, 3), RNG.uniform(size=(5, 5, 1)), {}),
    "(i) (100,100,16) -> (100,100,32) bank 3x3x16": (
        (100, 100, 16), (100, 100, 32), RNG.uniform(size=(32, 3, 3, 16)), {"bank": True}),
}


def best_time(kernel: ConvolutionKernel, pre: np.ndarray, out: np.ndarray, seconds: float):
    kernel.compute(pre, out)
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 500):
        start = time.perf_counter()
        kernel.compute(pre, out)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, float(np.median(times)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time budget per strategy")
    parser.add_argument("--only", default="", help="run configurations whose name contains this")
    parser.add_argument("--auto", action="store_true", help="time the automatic choice only")
    args = parser.parse_args()
    for name, (pre_shape, post_shape, weights, kwargs) in CONFIGS.items():
        if args.only not in name:
            continue
        pre = RNG.uniform(size=pre_shape)
        out = np.empty(post_shape)
        auto = ConvolutionKernel(pre_shape, post_shape, weights, **kwargs).strategy
        print(name)
        for strategy in STRATEGIES:
            if args.auto and strategy != auto:
                continue
            try:
                kernel = ConvolutionKernel(pre_shape, post_shape, weights, strategy=strategy, **kwargs)
            except ValidationError:
                continue
            if strategy == "direct" and pre.size * kernel.n_filters * weights.size > 3e7:
                continue  # the general path is far too slow to be a contender here
            best, median = best_time(kernel, pre, out, args.seconds)
            mark = "*" if strategy == auto else " "
            print(f"  {mark} {strategy:<10} best {best:9.3f} ms   median {median:9.3f} ms")


if __name__ == "__main__":
    main()
