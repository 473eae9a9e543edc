"""A sweep of 256 grid points (16 time constants x 16 input levels) of a small recurrent network,
on 1 and on 2 local worker processes: seconds per sweep (the median of the repeats; the machine is
shared) and the speed-up.  Each grid point is a network of 200 leaky units with dense recurrent
weights, simulated 300 ms, its rates recorded every 10 ms."""

from __future__ import annotations

import statistics
import time

import numpy as np

from _harness import parser, report

N = 200
WEIGHTS = np.random.default_rng(0).normal(0.0, 0.5 / np.sqrt(N), (N, N))


def build(net, tau, drive):
    from ratenet import Neuron

    unit = Neuron(parameters="tau = 10.0 : population\ndrive = 1.0 : population",
                  equations="tau * dr/dt + r = drive + sum(exc) + Uniform(-0.1, 0.1) : min=0.0")
    pop = net.create(N, unit)
    pop.tau, pop.drive = tau, drive
    net.connect(pop, pop, "exc").connect_from_matrix(WEIGHTS)
    return {"r": pop}


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    args = p.parse_args()
    from ratenet import sweep

    side = 4 if args.quick else 16
    duration = 50.0 if args.quick else 300.0
    grid = {"tau": list(np.linspace(5.0, 50.0, side)), "drive": list(np.linspace(0.1, 2.0, side))}
    sweep(build, grid, duration=10.0, seed=1, period=10.0, max_processes=1)  # warm-up
    times: dict[int, list[float]] = {1: [], 2: []}
    results = {}
    for _ in range(max(1, args.repeats)):
        for workers in (1, 2):  # alternate, so that the load of the machine hits both alike
            start = time.perf_counter()
            results[workers] = sweep(build, grid, duration=duration, seed=1, period=10.0, max_processes=workers)
            times[workers].append(time.perf_counter() - start)
    assert results[1].identical(results[2])
    one, two = statistics.median(times[1]), statistics.median(times[2])
    points = side * side
    report("sweep", {"points": points, "s_1_worker": one, "s_2_workers": two, "speedup": one / two}, args,
           f"{points} points: {one:.2f} s on 1 worker, {two:.2f} s on 2 ({one / two:.2f}x)")


if __name__ == "__main__":
    main()
