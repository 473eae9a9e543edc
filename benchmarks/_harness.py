"""Shared plumbing of the benchmark scripts: argument parsing, timing, output.

Every benchmark is a script that prints one line of figures (or one JSON
object with ``--json``, which ``run_all.py`` reads).  Timings are the best of
a few repeats of the same measurement, in a process that has already done
one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

# Benchmarks measure the checkout they live in, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes and few steps (a smoke test)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a line of text")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats; the best is reported")
    return p


def best_time(run: Callable[[], Any], repeats: int) -> float:
    """Best wall time in seconds of ``run()`` over ``repeats`` calls."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 2**20


def threads() -> str:
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "all"


def report(name: str, figures: dict[str, Any], args: argparse.Namespace, line: str) -> None:
    figures = {"benchmark": name, "blas_threads": threads(), "quick": bool(args.quick), **figures}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{name}: {line}")
