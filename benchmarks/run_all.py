"""Run every benchmark in its own fresh process and print one table against the targets.

    python benchmarks/run_all.py            # full sizes, BLAS limited to 1 thread
    python benchmarks/run_all.py --quick    # small sizes: a smoke test (CI runs this)
    python benchmarks/run_all.py --all-cores
    python benchmarks/run_all.py --only dense   # the rows whose label contains "dense"

Targets are those of the speed issues (a 2-core machine, BLAS on 1 thread).  The
hand-written column is plain NumPy/SciPy written for each network and, wherever
possible, timed in the same process as ratenet; ``ratio`` is ratenet's figure
divided by it (below 1: ratenet is faster).  On a shared machine absolute times
drift from run to run; the ratios are the figures to compare.  For memory rows
the ratio is ratenet's memory beyond the hand-written process, counted in weight
matrices (1.00: one matrix, as the hand-written network needs).  Nothing is
asserted about time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

HERE = Path(__file__).resolve().parent

Figures = dict[str, Any]


@dataclass
class Row:
    label: str
    script: str
    args: tuple[str, ...]
    key: str
    unit: str
    #: the figure must be at most this much
    target: float | None = None
    #: the hand-written figure: a key of the same run, or (script, args, key) of another run
    reference: str | tuple[str, tuple[str, ...], str] | None = None
    #: the ratio must be at most this much
    ratio_target: float | None = None
    #: ratio from (ratenet's figures, the reference run's figures); default value / reference
    ratio: Callable[[Figures, Figures], float] | None = None


def memory_ratio(ours: Figures, reference: Figures) -> float:
    """Peak memory beyond the hand-written process's, in weight matrices, plus the one it holds."""
    return 1.0 + (ours["peak_mb"] - reference["peak_mb"]) / ours["weights_mb"]


def own_memory(ours: Figures, _: Figures) -> float:
    """Memory ratenet added while building, in weight matrices (beyond what the user already held)."""
    return ours["overhead_in_matrices"]


def dense_rows() -> list[Row]:
    rows = []
    for n in (1000, 2000, 4000, 8000):
        for float32 in (False, True):
            args = ("--n", str(n)) + (("--float32",) if float32 else ())
            name = f"dense N={n}" + (" float32" if float32 else "")
            target = {(2000, False): 1.4, (4000, False): 6.5, (4000, True): 3.5}.get((n, float32))
            rows.append(Row(name, "bench_dense.py", args, "ms_per_step", "ms/step", target,
                            "handwritten_ms_per_step"))
            if n >= 4000:
                by_hand = ("bench_dense.py", args + ("--handwritten",), "peak_mb")
                rows.append(Row(f"{name}, peak memory", "bench_dense.py", args, "peak_mb", "MB",
                                250.0 if (n, float32) == (4000, False) else None, by_hand,
                                ratio_target=1.3, ratio=memory_ratio))
            if n == 8000:
                by_hand = ("bench_dense.py", args + ("--handwritten",), "build_s")
                rows.append(Row(f"{name}, build", "bench_dense.py", args, "build_s", "s", 1.5, by_hand))
    return rows


ROWS = [
    Row("tutorial", "bench_tutorial.py", (), "ms_per_step", "ms/step", 0.10, "handwritten_ms_per_step"),
    Row("tutorial, recomputing every step", "bench_tutorial.py", (), "ms_per_step_recomputing", "ms/step",
        None, "handwritten_ms_per_step", ratio_target=1.0),
    Row("video, a new frame every step", "bench_video.py", (), "ms_per_frame", "ms/frame", None,
        "handwritten_ms_per_frame", ratio_target=1 / 0.9),
    Row("first result", "bench_first_result.py", (), "first_result_s", "s", 0.5),
    Row("import ratenet", "bench_first_result.py", (), "import_s", "s", 0.25),
    # issue 14: no slower than before it (23.7 ms at 8f5bee6 on a quiet machine, same measure)
    Row("import ratenet, own CPU after NumPy/SciPy", "bench_first_result.py", (), "own_import_ms", "ms"),
    Row("big convolution", "bench_big_convolution.py", (), "ms_per_step", "ms/step", 20.0,
        "handwritten_ms_per_step"),
    Row("big convolution, recomputing", "bench_big_convolution.py", (), "ms_per_step_recomputing", "ms/step",
        None, "handwritten_ms_per_step", ratio_target=1.0),
    Row("big convolution, peak memory", "bench_big_convolution.py", (), "peak_mb", "MB"),
    Row("Miconi, per trial", "bench_miconi.py", (), "s_per_trial", "s", None, "handwritten_s_per_trial"),
    Row("Miconi vs ANNarchy (calibrated)", "bench_miconi.py", (), "s_per_trial", "s", None,
        "annarchy_equivalent_s", ratio_target=1.0),
    Row("many small populations (ring)", "bench_small_populations.py", (), "us_per_step", "us/step", 2.5,
        "handwritten_us_per_step"),
    *dense_rows(),
    Row("batch: dense N=2000 B=64 vs unbatched", "bench_batch.py", ("--case", "dense"),
        "batched_ms_per_sample_step", "ms/smp", None, "unbatched_ms_per_sample_step", ratio_target=1 / 3),
    Row("batch: dense N=2000 B=64 vs bare W @ R", "bench_batch.py", ("--case", "dense"),
        "batched_ms_per_sample_step", "ms/smp", None, "bare_blas_ms_per_sample_step", ratio_target=1.3),
    Row("batch: ring B=64 vs hand-written batched", "bench_batch.py", ("--case", "ring"),
        "batched_us_per_sample_step", "us/smp", None, "handwritten_batched_us_per_sample_step", ratio_target=1.5),
    Row("batch: video B=8 vs unbatched", "bench_batch.py", ("--case", "video"), "batch_8_ms_per_frame",
        "ms/frame", None, "unbatched_ms_per_frame"),
    Row("batch: video B=64 vs unbatched", "bench_batch.py", ("--case", "video"), "batch_large_ms_per_frame",
        "ms/frame", None, "unbatched_ms_per_frame", ratio_target=1.0),
    Row("batch: video, uint8 frames, B=64 vs unbatched", "bench_batch.py", ("--case", "video"),
        "u8_batch_large_ms_per_frame", "ms/frame", None, "u8_unbatched_ms_per_frame", ratio_target=1.0),
    # issue 15's figure: frames given with set_images(frames, copy=False), against the same unbatched and the default
    Row("batch: video, no copy, B=8 vs no-copy unbatched", "bench_batch.py", ("--case", "video"),
        "nocopy_batch_8_ms_per_frame", "ms/frame", None, "nocopy_unbatched_ms_per_frame"),
    Row("batch: video, no copy, B=64 vs no-copy unbatched", "bench_batch.py", ("--case", "video"),
        "nocopy_batch_large_ms_per_frame", "ms/frame", None, "nocopy_unbatched_ms_per_frame", ratio_target=1.0),
    Row("batch: video, no copy, B=64 vs default unbatched", "bench_batch.py", ("--case", "video"),
        "nocopy_batch_large_ms_per_frame", "ms/frame", None, "unbatched_ms_per_frame", ratio_target=1.0),
    # B weight sets (one per sample) leave the cache as B grows: per sample, a batch of learning projections
    # cannot beat one sample (the hand-written batch is as slow); the target is the hand-written batch
    Row("batch: learning (Oja) N=200 B=8 vs unbatched", "bench_batch.py", ("--case", "learning"),
        "batch_8_us_per_sample_step", "us/smp", None, "unbatched_us_per_sample_step"),
    Row("batch: learning (Oja) N=200 B=64 vs unbatched", "bench_batch.py", ("--case", "learning"),
        "batch_64_us_per_sample_step", "us/smp", None, "unbatched_us_per_sample_step"),
    Row("batch: learning (Oja) N=200 B=64 vs hand-written B=64", "bench_batch.py", ("--case", "learning"),
        "batch_64_us_per_sample_step", "us/smp", None, "handwritten_batch_64_us_per_sample_step", ratio_target=1.3),
    Row("from_matrix N=8000, build", "bench_build.py", ("--case", "from_matrix"), "build_s", "s", 1.5),
    Row("from_matrix N=8000, memory", "bench_build.py", ("--case", "from_matrix"), "peak_mb", "MB",
        ratio_target=1.3, ratio=own_memory),
    Row("fixed_probability 0.5 N=8000, build", "bench_build.py", ("--case", "fixed_probability"), "build_s",
        "s"),
    Row("fixed_probability 0.5 N=8000, memory", "bench_build.py", ("--case", "fixed_probability"), "peak_mb",
        "MB", ratio_target=1.3, ratio=own_memory),
    Row("fixed_probability 0.1 N=8000, build", "bench_build.py", ("--case", "fixed_probability", "--p", "0.1"),
        "build_s", "s"),
    Row("sweep of 256 points, 1 worker", "bench_sweep.py", (), "s_1_worker", "s"),
    # the ratio is the time on 2 workers over the time on 1: at most 1 / 1.7 (2 workers >= 1.7x faster)
    Row("sweep of 256 points, 2 workers", "bench_sweep.py", (), "s_2_workers", "s", None, "s_1_worker",
        ratio_target=1 / 1.7),
    Row("sweep, speed-up 2 free cores would give", "bench_sweep.py", (), "speedup_on_free_cores", "x"),
]


def run(script: str, extra: tuple[str, ...], quick: bool, env: dict[str, str], cache: dict) -> Figures:
    key = (script, extra)
    if key not in cache:
        command = [sys.executable, str(HERE / script), "--json", *extra] + (["--quick"] if quick else [])
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"{script} {' '.join(extra)} failed:\n{done.stderr}")
        cache[key] = json.loads(done.stdout.strip().splitlines()[-1])
    return cache[key]


def number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "MB":
        return f"{value:.0f}"
    return f"{value:.4f}" if value < 10 else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test; figures meaningless)")
    parser.add_argument("--all-cores", action="store_true", help="let BLAS use every core")
    parser.add_argument("--only", default="", help="only the rows whose label contains this text")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.all_cores:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
    cache: dict = {}
    print(f"ratenet benchmarks ({'quick' if args.quick else 'full'} sizes, BLAS threads: "
          f"{'all' if args.all_cores else 1})")
    header = (f"{'benchmark':40} {'ratenet':>10} {'unit':<8} {'hand-written':>12} {'ratio':>7} "
              f"{'target':>16}  met")
    print(header)
    print("-" * len(header))
    for row in ROWS:
        if args.only not in row.label:
            continue
        ours = run(row.script, row.args, args.quick, env, cache)
        value = ours[row.key]
        reference: Figures = {}
        ref_value = None
        if isinstance(row.reference, tuple):
            reference = run(row.reference[0], row.reference[1], args.quick, env, cache)
            ref_value = reference[row.reference[2]]
        elif isinstance(row.reference, str):
            reference = ours
            ref_value = ours[row.reference]
        if row.ratio is not None:
            ratio = row.ratio(ours, reference)
        else:
            ratio = value / ref_value if ref_value else None
        targets, met = [], []
        if row.target is not None:
            targets.append(f"<= {number(row.target, row.unit)}")
            met.append(value <= row.target)
        if row.ratio_target is not None:
            targets.append(f"ratio <= {row.ratio_target:.2f}")
            met.append(ratio is not None and ratio <= row.ratio_target)
        verdict = "" if not met or args.quick else ("yes" if all(met) else "NO")
        ratio_text = f"{ratio:.2f}" if ratio is not None else ""
        print(f"{row.label:40} {number(value, row.unit):>10} {row.unit:<8} {number(ref_value, row.unit):>12} "
              f"{ratio_text:>7} {', '.join(targets):>16}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
