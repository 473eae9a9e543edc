"""Building large projections: seconds and peak memory, one configuration per process.

``--case from_matrix``: the user holds an N x N float64 matrix (drawn before the
clock starts) and connects it with ``connect_from_matrix``; the hand-written
equivalent uses that matrix as it is, so whatever ratenet needs beyond it is its
overhead.  ``--case fixed_probability``: ``connect_fixed_probability(p, Uniform)``
(p = 0.5 is stored dense, p = 0.1 sparse).  ``--case all_to_all``: recurrent,
no self-connections, Uniform weights.  Every case times an empty network up to a
compiled one; peak memory is the process's peak resident size, ``baseline_mb``
its size just before building (after the imports and the user's matrix).
"""

from __future__ import annotations

import time

import numpy as np

from _harness import parser, peak_mb, report


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=("from_matrix", "fixed_probability", "all_to_all"), default="from_matrix")
    p.add_argument("--n", type=int, default=8000)
    p.add_argument("--p", type=float, default=0.5, help="probability of fixed_probability")
    p.add_argument("--float32", action="store_true")
    args = p.parse_args()
    from ratenet import Network, Neuron, Uniform

    n = 500 if args.quick else args.n
    dtype = np.float32 if args.float32 else np.float64
    neuron = Neuron(equations="r = sum(exc)")
    user_mb = 0.0
    draw_s = 0.0
    matrix = None
    if args.case == "from_matrix":
        start = time.perf_counter()
        matrix = np.random.default_rng(0).random((n, n))
        draw_s = time.perf_counter() - start
        user_mb = matrix.nbytes / 2**20
    baseline_mb = peak_mb()
    start = time.perf_counter()
    net = Network(seed=0, dtype=dtype)
    if args.case == "all_to_all":
        pop = net.create(n, neuron)
        proj = net.connect(pop, pop, "exc").connect_all_to_all(Uniform(0.0, 1.0))
    else:
        pre, post = net.create(n, neuron), net.create(n, neuron)
        proj = net.connect(pre, post, "exc")
        if args.case == "from_matrix":
            proj.connect_from_matrix(matrix)
        else:
            proj.connect_fixed_probability(args.p, Uniform(0.0, 1.0))
    net.compile()
    build_s = time.perf_counter() - start
    memory = peak_mb()
    weights_mb = n * n * np.dtype(dtype).itemsize / 2**20
    overhead = (memory - baseline_mb) / weights_mb
    label = args.case + (f" p={args.p}" if args.case == "fixed_probability" else "")
    report(f"build_{args.case}", {"n": n, "dtype": np.dtype(dtype).name, "build_s": build_s, "draw_s": draw_s,
                                  "peak_mb": memory, "baseline_mb": baseline_mb, "user_mb": user_mb,
                                  "weights_mb": weights_mb, "storage": proj.storage_format,
                                  "overhead_in_matrices": overhead}, args,
           f"{label} N={n} {np.dtype(dtype).name}: {build_s:.2f} s, peak {memory:.0f} MB, "
           f"{memory - baseline_mb:.0f} MB above the {baseline_mb:.0f} MB before building "
           f"({overhead:.2f} x the {weights_mb:.0f} MB weight matrix; storage {proj.storage_format})")


if __name__ == "__main__":
    main()
