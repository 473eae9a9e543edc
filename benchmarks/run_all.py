"""Run every benchmark in its own fresh process and print a table against the targets.

    python benchmarks/run_all.py            # full sizes, BLAS limited to 1 thread
    python benchmarks/run_all.py --quick    # small sizes: a smoke test (CI runs this)
    python benchmarks/run_all.py --all-cores

Targets are those of the speed issue (a 2-core machine, BLAS on 1 thread); the
hand-written column is plain NumPy/SciPy written for each network, measured
here, in the same conditions.  Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (label, script, extra arguments, figure key, unit, target, hand-written run or key)
ROWS = [
    ("tutorial", "bench_tutorial.py", [], "ms_per_step", "ms/step", 0.10, "handwritten_ms_per_step"),
    ("tutorial, recomputing every step", "bench_tutorial.py", [], "ms_per_step_recomputing", "ms/step", None,
     None),
    ("first result", "bench_first_result.py", [], "first_result_s", "s", 0.5, None),
    ("import ratenet", "bench_first_result.py", [], "import_s", "s", 0.25, None),
    ("big convolution", "bench_big_convolution.py", [], "ms_per_step", "ms/step", 20.0, "handwritten_ms_per_step"),
    ("big convolution, recomputing", "bench_big_convolution.py", [], "ms_per_step_recomputing", "ms/step", None,
     None),
    ("big convolution, peak memory", "bench_big_convolution.py", [], "peak_mb", "MB", None, None),
    ("dense N=2000", "bench_dense.py", ["--n", "2000"], "ms_per_step", "ms/step", 1.4,
     ("bench_dense.py", ["--n", "2000", "--handwritten"], "ms_per_step")),
    ("dense N=4000", "bench_dense.py", ["--n", "4000"], "ms_per_step", "ms/step", 6.5,
     ("bench_dense.py", ["--n", "4000", "--handwritten"], "ms_per_step")),
    ("dense N=4000, peak memory", "bench_dense.py", ["--n", "4000"], "peak_mb", "MB", 250.0,
     ("bench_dense.py", ["--n", "4000", "--handwritten"], "peak_mb")),
    ("dense N=4000 float32", "bench_dense.py", ["--n", "4000", "--float32"], "ms_per_step", "ms/step", 3.5,
     ("bench_dense.py", ["--n", "4000", "--float32", "--handwritten"], "ms_per_step")),
    ("many small populations", "bench_small_populations.py", [], "ms_per_step", "ms/step", 0.02,
     ("bench_small_populations.py", ["--handwritten"], "ms_per_step")),
]


def run(script: str, extra: list[str], quick: bool, env: dict[str, str], cache: dict) -> dict:
    key = (script, tuple(extra))
    if key not in cache:
        command = [sys.executable, str(HERE / script), "--json"] + extra + (["--quick"] if quick else [])
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"{script} {' '.join(extra)} failed:\n{done.stderr}")
        cache[key] = json.loads(done.stdout.strip().splitlines()[-1])
    return cache[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test; figures meaningless)")
    parser.add_argument("--all-cores", action="store_true", help="let BLAS use every core")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.all_cores:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
    cache: dict = {}
    print(f"ratenet benchmarks ({'quick' if args.quick else 'full'} sizes, BLAS threads: "
          f"{'all' if args.all_cores else 1})")
    header = f"{'benchmark':34} {'ratenet':>12} {'target':>10} {'hand-written':>13}  met"
    print(header)
    print("-" * len(header))
    for label, script, extra, key, unit, target, reference in ROWS:
        value = run(script, extra, args.quick, env, cache)[key]
        if isinstance(reference, tuple):
            ref_value = run(reference[0], reference[1], args.quick, env, cache)[reference[2]]
        elif isinstance(reference, str):
            ref_value = run(script, extra, args.quick, env, cache)[reference]
        else:
            ref_value = None
        met = "" if target is None or args.quick else ("yes" if value <= target else "NO")
        fmt = (lambda v: f"{v:.4f}") if unit in ("ms/step", "s") else (lambda v: f"{v:.0f}")
        target_text = f"<= {fmt(target)}" if target is not None else ""
        ref_text = fmt(ref_value) if ref_value is not None else ""
        print(f"{label:34} {fmt(value):>8} {unit:<3} {target_text:>10} {ref_text:>13}  {met}")


if __name__ == "__main__":
    main()
