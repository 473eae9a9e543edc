"""A dense recurrent network: ms per step and peak memory.

N neurons ``tau*dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0``, tau = 10,
baseline Uniform(0, 1), one all-to-all excitatory projection with weights
Uniform(0, 1/N), simulate(1000).  ``--n`` sets N, ``--float32`` the dtype.
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, peak_mb, report


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--float32", action="store_true")
    p.add_argument("--handwritten", action="store_true", help="time the hand-written NumPy step instead")
    args = p.parse_args()
    n = 400 if args.quick else args.n
    steps = 100 if args.quick else 1000
    dtype = np.float32 if args.float32 else np.float64
    name = f"dense_{n}" + ("_float32" if args.float32 else "") + ("_handwritten" if args.handwritten else "")
    if args.handwritten:
        rng = np.random.default_rng(0)
        w = rng.uniform(0, 1.0 / n, (n, n)).astype(dtype, copy=False)
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

        run()
        per_step = best_time(run, args.repeats) / steps * 1e3
    else:
        from ratenet import Network, Neuron, Uniform

        net = Network(seed=0, dtype=dtype)
        neuron = Neuron(parameters="tau = 10.0 : population\nbaseline = Uniform(0, 1)",
                        equations="tau*dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0")
        pop = net.create(n, neuron)
        net.connect(pop, pop, "exc").connect_all_to_all(Uniform(0.0, 1.0 / n))
        net.simulate(10.0)
        per_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e3
    memory = peak_mb()
    report(name, {"n": n, "dtype": np.dtype(dtype).name, "ms_per_step": per_step, "peak_mb": memory}, args,
           f"N={n} {np.dtype(dtype).name}: {per_step:.3f} ms/step, peak {memory:.0f} MB")


if __name__ == "__main__":
    main()
