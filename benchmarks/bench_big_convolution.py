"""A large convolution pipeline: ms per step and peak memory.

(1000, 1000) input -> 5x5 convolution -> (1000, 1000) -> 2x2 mean pooling ->
(500, 500) -> bank of 8 5x5 filters -> (500, 500, 8), every layer
``r = sum(exc) : min=0.0``, simulate(100).  Also times ratenet recomputing every
projection every step, and a hand-written NumPy/SciPy step.
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, peak_mb, report


def build(size: int):
    from ratenet import Network, Neuron
    from ratenet.projections import Convolution, Pooling

    net = Network(seed=0)
    rng = np.random.default_rng(0)
    layer = Neuron(equations="r = sum(exc) : min=0.0")
    inp = net.create((size, size), Neuron(parameters="r = 0.0"))
    inp.r = rng.random((size, size))
    conv = net.create((size, size), layer)
    pooled = net.create((size // 2, size // 2), layer)
    bank = net.create((size // 2, size // 2, 8), layer)
    net.connect(Convolution(inp, conv, "exc")).connect_filter(rng.normal(0, 0.2, (5, 5)))
    net.connect(Pooling(conv, pooled, "exc", operation="mean")).connect_pooling()
    net.connect(Convolution(pooled, bank, "exc")).connect_filters(rng.normal(0, 0.2, (8, 5, 5)))
    return net, inp


def handwritten(image: np.ndarray, kernel: np.ndarray, bank_kernels: np.ndarray, steps: int) -> None:
    from scipy.ndimage import correlate

    n = image.shape[0]
    conv, s1 = np.zeros((n, n)), np.empty((n, n))
    pooled, s2 = np.zeros((n // 2, n // 2)), np.empty((n // 2, n // 2))
    bank, s3 = np.zeros((n // 2, n // 2, 8)), np.empty((n // 2, n // 2, 8))
    padded = np.zeros((n // 2 + 4, n // 2 + 4))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5))
    for _ in range(steps):
        correlate(image, kernel, output=s1, mode="constant")
        s2[...] = conv.reshape(n // 2, 2, n // 2, 2).mean(axis=(1, 3))
        # the bank as one matrix product over the 5x5 windows (im2col)
        padded[2:-2, 2:-2] = pooled
        np.matmul(windows.reshape(-1, 25), bank_kernels.reshape(8, 25).T, out=s3.reshape(-1, 8))
        np.maximum(s1, 0.0, out=conv)
        np.maximum(s2, 0.0, out=pooled)
        np.maximum(s3, 0.0, out=bank)


def main() -> None:
    args = parser(__doc__.split("\n\n")[0]).parse_args()
    size, steps = (200, 10) if args.quick else (1000, 100)
    net, inp = build(size)
    net.simulate(3.0)
    per_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e3
    memory = peak_mb()
    net.skip_unchanged = False
    net.simulate(3.0)
    every_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e3
    rng = np.random.default_rng(0)
    by_hand = best_time(lambda: handwritten(inp.r.copy(), rng.normal(0, 0.2, (5, 5)),
                                            rng.normal(0, 0.2, (8, 5, 5)), steps), 1) / steps * 1e3
    report("big_convolution", {"ms_per_step": per_step, "ms_per_step_recomputing": every_step,
                               "peak_mb": memory, "handwritten_ms_per_step": by_hand, "size": size}, args,
           f"{per_step:.3f} ms/step ({every_step:.2f} recomputing every projection; hand-written "
           f"NumPy {by_hand:.2f}), peak {memory:.0f} MB")


if __name__ == "__main__":
    main()
