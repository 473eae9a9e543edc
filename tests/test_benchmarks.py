"""The benchmark suite runs (small sizes): a smoke test, nothing is asserted about time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_all_quick_prints_every_benchmark():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in ("tutorial", "tutorial, recomputing every step", "video", "first result", "import ratenet",
                  "big convolution", "Miconi, per trial", "Miconi vs ANNarchy", "many small populations",
                  "dense N=1000", "dense N=2000", "dense N=4000", "dense N=8000 float32, peak memory",
                  "dense N=8000, build", "from_matrix N=8000", "fixed_probability 0.1", "batch: dense",
                  "batch: ring", "batch: video B=8", "batch: video B=64", "batch: video, no copy, B=64",
                  "sweep of 256 points, 1 worker",
                  "sweep of 256 points, 2 workers"):
        assert any(line.startswith(label) for line in lines), f"no line for {label}:\n{done.stdout}"
