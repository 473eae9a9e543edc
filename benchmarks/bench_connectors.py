"""Time ratenet's connectors: how long building each pattern takes, and one step through it.

Run from the repository root::

    python benchmarks/bench_connectors.py            # all cases, best of 3
    python benchmarks/bench_connectors.py --quick    # best of 1
    python benchmarks/bench_connectors.py --only all_to_all

Each row is the best wall-clock time over the repeats of building the pattern
in a fresh network (``net.connect(pre, post).connect_...``), in milliseconds,
then the storage chosen, the number of synapses and the time of one
``net.step()`` through the projection (the first step, which builds the plan,
is excluded).  DESIGN.md section 5 asks for a 4000 x 4000 all-to-all "well
under a second".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ratenet import LILConnectivity, Network, Neuron, Uniform  # noqa: E402

INPUT = Neuron(parameters="r = 0.0")


def band_function(pre, post, width=5):
    lil = LILConnectivity()
    for i in range(post.size):
        ranks = np.arange(max(0, i - width), min(pre.size, i + width + 1))
        lil.add(i, ranks, 0.5)
    return lil


_MATRIX = {}


def dense_matrix(n):
    if n not in _MATRIX:
        _MATRIX[n] = np.random.default_rng(0).uniform(size=(n, n))
    return _MATRIX[n]


_SPARSE = {}


def sparse_matrix(n, density):
    key = (n, density)
    if key not in _SPARSE:
        _SPARSE[key] = sp.random(n, n, density=density, format="csr", random_state=np.random.RandomState(0))
    return _SPARSE[key]


# (label, pre geometry, post geometry (None: pre is post), build(proj))
CASES = [
    ("all_to_all 4000x4000 Uniform", 4000, 4000, lambda p: p.connect_all_to_all(Uniform(0, 1))),
    ("all_to_all 4000x4000 weight 1.0", 4000, 4000, lambda p: p.connect_all_to_all(1.0)),
    ("all_to_all 4000 recurrent (no self)", 4000, None, lambda p: p.connect_all_to_all(Uniform(0, 1))),
    ("all_to_all 2000x2000 forced csr", 2000, 2000,
     lambda p: p.connect_all_to_all(Uniform(0, 1), storage_format="csr")),
    ("one_to_one 100000", 100_000, 100_000, lambda p: p.connect_one_to_one(Uniform(0, 1))),
    ("fixed_probability 0.1 4000x4000", 4000, 4000, lambda p: p.connect_fixed_probability(0.1, Uniform(0, 1))),
    ("fixed_probability 0.5 4000x4000", 4000, 4000, lambda p: p.connect_fixed_probability(0.5, Uniform(0, 1))),
    ("fixed_number_pre 400 of 4000", 4000, 4000, lambda p: p.connect_fixed_number_pre(400, Uniform(0, 1))),
    ("fixed_number_post 400 of 4000", 4000, 4000, lambda p: p.connect_fixed_number_post(400, Uniform(0, 1))),
    ("gaussian 64x64 -> 64x64", (64, 64), (64, 64), lambda p: p.connect_gaussian(1.0, 0.1)),
    ("dog 64x64 recurrent", (64, 64), None, lambda p: p.connect_dog(1.0, 0.1, 0.5, 0.3)),
    ("from_matrix 4000x4000", 4000, 4000, lambda p: p.connect_from_matrix(dense_matrix(4000))),
    ("from_sparse 4000x4000 density 0.05", 4000, 4000,
     lambda p: p.connect_from_sparse(sparse_matrix(4000, 0.05))),
    ("from_function band 10000", 10_000, 10_000, lambda p: p.connect_from_function(band_function)),
]


def run_case(pre_geometry, post_geometry, build, repeat):
    best = np.inf
    for _ in range(repeat):
        net = Network(seed=1)
        pre = net.create(pre_geometry, INPUT)
        post = pre if post_geometry is None else net.create(post_geometry, INPUT)
        pre.r = Uniform(0, 1)
        proj = net.connect(pre, post)
        start = time.perf_counter()
        build(proj)
        best = min(best, time.perf_counter() - start)
    net.step()                                   # builds the plan
    start = time.perf_counter()
    steps = 5
    for _ in range(steps):
        net.step()
    step_ms = (time.perf_counter() - start) / steps * 1e3
    return best * 1e3, proj._storage.kind, proj.nb_synapses, step_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one repeat per case")
    parser.add_argument("--only", default=None, help="run the cases whose label contains this text")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    print(f"numpy {np.__version__}; best of {repeat}; times in ms")
    print(f"{'case':40s} {'build':>10s} {'storage':>8s} {'synapses':>12s} {'step':>9s}")
    for label, pre_g, post_g, build in CASES:
        if args.only and args.only not in label:
            continue
        build_ms, kind, nnz, step_ms = run_case(pre_g, post_g, build, repeat)
        print(f"{label:40s} {build_ms:10.1f} {kind:>8s} {nnz:12d} {step_ms:9.2f}", flush=True)


if __name__ == "__main__":
    main()
