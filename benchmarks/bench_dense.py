"""A dense recurrent network: ms per step, build time and peak memory.

N neurons ``tau*dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0``, tau = 10,
baseline Uniform(0, 1), one all-to-all excitatory projection (no self-connections)
with weights Uniform(0, 1/N).  ``--n`` sets N, ``--float32`` the dtype.

Build time runs from an empty network to a compiled one, drawing the weights
included.  Peak memory is this fresh process's peak resident size (so run one
configuration per process); ``weights_mb`` is the size of the weight matrix and
``baseline_mb`` the process's size before anything was built (Python, NumPy and
the imports).  The hand-written reference draws its matrix block by block into
an array of the working dtype, as a careful NumPy programmer would.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from _harness import best_time, parser, peak_mb, report


def steps_for(n: int, quick: bool) -> int:
    """Steps per timing: 1000 up to N = 2000, fewer above (a step costs N^2)."""
    if quick:
        return 100
    return max(50, min(1000, int(1000 * (2000 / n) ** 2)))


def handwritten(n: int, dtype: type, steps: int) -> Callable[[], None]:
    """The hand-written network: its matrix drawn block by block into the working dtype."""
    rng = np.random.default_rng(0)
    w = np.empty((n, n), dtype)
    rows = max(1, (1 << 22) // n)
    for i in range(0, n, rows):
        w[i:i + rows] = rng.uniform(0, 1.0 / n, (min(rows, n - i), n))
    np.fill_diagonal(w, 0.0)
    baseline = rng.uniform(0, 1, n).astype(dtype)
    r, s, tmp = np.zeros(n, dtype), np.empty(n, dtype), np.empty(n, dtype)

    def run() -> None:
        for _ in range(steps):
            np.dot(w, r, out=s)
            np.add(s, baseline, out=tmp)
            np.subtract(tmp, r, out=tmp)
            np.multiply(tmp, 0.1, out=tmp)
            np.add(r, tmp, out=r)
            np.maximum(r, 0.0, out=r)

    return run


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--float32", action="store_true")
    p.add_argument("--handwritten", action="store_true",
                   help="build and time only the hand-written network (for its build time and memory)")
    args = p.parse_args()
    n = 400 if args.quick else args.n
    steps = steps_for(n, args.quick)
    dtype = np.float32 if args.float32 else np.float64
    name = f"dense_{n}" + ("_float32" if args.float32 else "") + ("_handwritten" if args.handwritten else "")
    if args.handwritten:
        baseline_mb = peak_mb()
        start = time.perf_counter()
        run = handwritten(n, dtype, steps)
        build_s = time.perf_counter() - start
        run()
        per_step = best_time(run, args.repeats) / steps * 1e3
        memory = peak_mb()
        by_hand = per_step
    else:
        from ratenet import Network, Neuron, Uniform

        neuron = Neuron(parameters="tau = 10.0 : population\nbaseline = Uniform(0, 1)",
                        equations="tau*dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0")
        baseline_mb = peak_mb()
        start = time.perf_counter()
        net = Network(seed=0, dtype=dtype)
        pop = net.create(n, neuron)
        net.connect(pop, pop, "exc").connect_all_to_all(Uniform(0.0, 1.0 / n))
        net.compile()
        build_s = time.perf_counter() - start
        net.simulate(10.0)
        per_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e3
        memory = peak_mb()
        # The hand-written step in the same process, once ratenet's peak is recorded.
        del net, pop
        run = handwritten(n, dtype, steps)
        run()
        by_hand = best_time(run, args.repeats) / steps * 1e3
    weights_mb = n * n * np.dtype(dtype).itemsize / 2**20
    report(name, {"n": n, "dtype": np.dtype(dtype).name, "ms_per_step": per_step, "peak_mb": memory,
                  "baseline_mb": baseline_mb, "weights_mb": weights_mb, "build_s": build_s,
                  "handwritten_ms_per_step": by_hand}, args,
           f"N={n} {np.dtype(dtype).name}: {per_step:.3f} ms/step (hand-written {by_hand:.3f}), built in "
           f"{build_s:.2f} s, peak {memory:.0f} MB (weights {weights_mb:.0f} MB, {baseline_mb:.0f} MB before "
           "building)")


if __name__ == "__main__":
    main()
