"""The ring: 10 populations of 100 neurons in a ring of one-to-one projections, simulate(10000):
microseconds per step (this measures the per-step overhead).  A hand-written NumPy step of the
same ring (one array per population) is timed in the same process."""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report


def handwritten(steps: int, batch: int | None = None) -> None:
    """The ring by hand; with ``batch``, every population holds ``batch`` samples."""
    shape = (100,) if batch is None else (batch, 100)
    r = [np.zeros(shape) for _ in range(10)]
    s = [np.empty(shape) for _ in range(10)]
    for _ in range(steps):
        for i in range(10):
            np.multiply(r[i - 1], 0.5, out=s[i])
        for i in range(10):
            np.add(s[i], 0.1, out=s[i])
            np.subtract(s[i], r[i], out=s[i])
            np.multiply(s[i], 0.1, out=s[i])
            np.add(r[i], s[i], out=r[i])


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    steps = 1000 if args.quick else 10000
    from ratenet import Network, Neuron

    net = Network()
    neuron = Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = sum(exc) + 0.1")
    pops = [net.create(100, neuron) for _ in range(10)]
    for i in range(10):
        net.connect(pops[i], pops[(i + 1) % 10], "exc").connect_one_to_one(0.5)
    net.simulate(10.0)
    per_step = best_time(lambda: net.simulate(float(steps)), args.repeats) / steps * 1e6
    handwritten(10)
    by_hand = best_time(lambda: handwritten(steps), args.repeats) / steps * 1e6
    report("small_populations", {"us_per_step": per_step, "ms_per_step": per_step / 1e3,
                                 "handwritten_us_per_step": by_hand}, args,
           f"{per_step:.2f} us/step (hand-written NumPy, one array per population: {by_hand:.2f})")


if __name__ == "__main__":
    main()
