"""Time :class:`ratenet.projections._pooling_kernel.PoolingKernel` per call.

Run from the repository root::

    python benchmarks/bench_pooling_kernel.py            # all cases
    python benchmarks/bench_pooling_kernel.py --quick    # fewer repeats

Each figure is the best of several repeats of the mean time per ``compute``
call, in milliseconds, with the plan the kernel chose.  The first rows compare
with a naive ``np.mean``/``np.max`` over a strided 5-D view of the same data.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ratenet.projections._pooling_kernel import PoolingKernel  # noqa: E402

CASES = [
    # (label, pre shape, post shape, extent)
    ("tutorial", (480, 640, 3), (48, 64, 3), None),
    ("2x2 on 1000x1000", (1000, 1000), (500, 500), None),
    ("tutorial, overhang", (485, 645, 3), (49, 65, 3), (10, 10, 1)),
    ("tutorial, gap", (489, 649, 3), (48, 64, 3), (10, 10, 1)),
    ("channels pooled", (480, 640, 3), (48, 64), (10, 10, 3)),
    ("1-D, extent 100", (100_000,), (1000,), None),
    ("4-D 2x2x2x2", (64, 64, 8, 4), (32, 32, 4, 2), None),
]


def best_ms(func, repeat: int) -> float:
    func()
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    number = max(1, number // 2)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 9")
    parser.add_argument("--float32", action="store_true", help="use float32 arrays")
    args = parser.parse_args()
    repeat = 3 if args.quick else 9
    dtype = np.float32 if args.float32 else np.float64
    rng = np.random.default_rng(0)

    pre = rng.standard_normal((480, 640, 3)).astype(dtype)
    view = pre.reshape(48, 10, 64, 10, 3)
    out = np.empty((48, 64, 3), dtype=dtype)
    naive = best_ms(lambda: np.mean(view, axis=(1, 3), out=out), repeat)
    print(f"naive np.mean over the 5-D view (tutorial): {naive:8.3f} ms")
    naive = best_ms(lambda: np.max(view, axis=(1, 3), out=out), repeat)
    print(f"naive np.max over the 5-D view (tutorial):  {naive:8.3f} ms")
    print()
    print(f"{'case':22s} {'op':5s} {'ms/call':>8s}  plan")
    for label, pre_shape, post_shape, extent in CASES:
        pre = rng.standard_normal(pre_shape).astype(dtype)
        out = np.empty(post_shape, dtype=dtype)
        for operation in ("mean", "max", "min"):
            kernel = PoolingKernel(pre_shape, post_shape, extent, operation=operation,
                                   dtype=dtype)
            ms = best_ms(partial(kernel.compute, pre, out), repeat)
            plan = kernel.describe().replace("\n", " | ")
            print(f"{label:22s} {operation:5s} {ms:8.3f}  {plan}")


if __name__ == "__main__":
    main()
