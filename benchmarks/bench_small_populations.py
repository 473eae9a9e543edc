"""Many small populations: 10 populations of 100 neurons in a ring of one-to-one projections,
simulate(10000): ms per step (this measures the per-step overhead)."""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--handwritten", action="store_true", help="time the hand-written NumPy step instead")
    args = p.parse_args()
    steps = 1000 if args.quick else 10000
    if args.handwritten:
        r = [np.zeros(100) for _ in range(10)]
        s = [np.empty(100) for _ in range(10)]

        def run() -> None:
            for _ in range(steps):
                for i in range(10):
                    np.multiply(r[i - 1], 0.5, out=s[i])
                for i in range(10):
                    np.add(s[i], 0.1, out=s[i])
                    np.subtract(s[i], r[i], out=s[i])
                    np.multiply(s[i], 0.1, out=s[i])
                    np.add(r[i], s[i], out=r[i])

        per_step = best_time(run, args.repeats) / steps * 1e3
        report("small_populations_handwritten", {"ms_per_step": per_step}, args,
               f"{per_step:.4f} ms/step (hand-written, one array per population)")
        return
    from ratenet import Network, Neuron

    net = Network()
    neuron = Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = sum(exc) + 0.1")
    pops = [net.create(100, neuron) for _ in range(10)]
    for i in range(10):
        net.connect(pops[i], pops[(i + 1) % 10], "exc").connect_one_to_one(0.5)
    net.simulate(10.0)
    per_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e3
    report("small_populations", {"ms_per_step": per_step}, args, f"{per_step:.4f} ms/step")


if __name__ == "__main__":
    main()
