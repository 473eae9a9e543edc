"""A sweep of 256 grid points (16 time constants x 16 input levels) of a small recurrent network,
on 1 and on 2 local worker processes: seconds per sweep (the median of the repeats; the machine is
shared) and the speed-up.  Each grid point is a network of 200 leaky units with dense recurrent
weights, simulated 300 ms, its rates recorded every 10 ms.  The CPU time of this process and of
the workers is measured too: on a loaded machine it tells what 2 free cores would give (the
workers' CPU time halved, plus this process's, which is serial)."""

from __future__ import annotations

import resource
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
    own_cpu: dict[int, list[float]] = {1: [], 2: []}
    worker_cpu: dict[int, list[float]] = {1: [], 2: []}
    results = {}
    for _ in range(max(1, args.repeats)):
        for workers in (1, 2):  # alternate, so that the load of the machine hits both alike
            before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            results[workers] = sweep(build, grid, duration=duration, seed=1, period=10.0, max_processes=workers)
            times[workers].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            own_cpu[workers].append(sum(getattr(after[0], f) - getattr(before[0], f) for f in ("ru_utime", "ru_stime")))
            worker_cpu[workers].append(sum(getattr(after[1], f) - getattr(before[1], f)
                                           for f in ("ru_utime", "ru_stime")))
    assert results[1].identical(results[2])
    one, two = statistics.median(times[1]), statistics.median(times[2])
    serial1, serial2 = statistics.median(own_cpu[1]), statistics.median(own_cpu[2])
    work1, work2 = statistics.median(worker_cpu[1]), statistics.median(worker_cpu[2])
    free_cores = (serial1 + work1) / (serial2 + work2 / 2)
    points = side * side
    report("sweep", {"points": points, "s_1_worker": one, "s_2_workers": two, "speedup": one / two,
                     "cpu_s_main": serial2, "cpu_s_workers_1": work1, "cpu_s_workers_2": work2,
                     "speedup_on_free_cores": free_cores}, args,
           f"{points} points: {one:.2f} s on 1 worker, {two:.2f} s on 2 ({one / two:.2f}x); CPU s: workers "
           f"{work1:.2f} (1) and {work2:.2f} (2), this process {serial2:.2f}: {free_cores:.2f}x on 2 free cores")


if __name__ == "__main__":
    main()
