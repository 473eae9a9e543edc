"""Time to the first result: a fresh Python process imports ratenet, builds the tutorial network,
loads the image and runs 4 steps (whole-process wall time, and `import ratenet` alone).

``own_import_ms`` is ratenet's own share: the CPU time of ``import ratenet`` in a
process that has already imported NumPy and SciPy (median of the repeats; the
whole-process figures are dominated by those two and by Python's start).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import parser, report

ROOT = Path(__file__).resolve().parents[1]

FIRST_RESULT = """
import sys; sys.path.insert(0, {root!r})
from ratenet import compile, simulate
from ratenet.demo import build_network, default_image
stages = build_network()
compile()
stages["image"].set_image(default_image())
simulate(4.0)
assert stages["filtered"].r.max() > 0
"""

IMPORT_ONLY = "import sys; sys.path.insert(0, {root!r}); import ratenet"
OWN_IMPORT = ("import sys, time, numpy, scipy; sys.path.insert(0, {root!r}); start = time.process_time()\n"
              "import ratenet\nprint(time.process_time() - start)")
BARE = "pass"


def wall(code: str, repeats: int) -> float:
    # As after a normal install, Python may cache compiled modules (the first run writes them).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code.format(root=str(ROOT))], check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def own_import(repeats: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = [float(subprocess.run([sys.executable, "-c", OWN_IMPORT.format(root=str(ROOT))], check=True, env=env,
                                  capture_output=True, text=True).stdout) for _ in range(repeats)]
    return statistics.median(times)


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    repeats = max(args.repeats, 5)
    wall(FIRST_RESULT, 1)  # warm the file cache
    first = wall(FIRST_RESULT, repeats)
    imported = wall(IMPORT_ONLY, repeats)
    bare = wall(BARE, repeats)
    own = own_import(2 * repeats) * 1e3
    report("first_result", {"first_result_s": first, "import_s": imported, "python_startup_s": bare,
                            "own_import_ms": own}, args,
           f"{first:.3f} s to the first result (import ratenet {imported:.3f} s; bare python {bare:.3f} s; "
           f"ratenet's own import {own:.1f} ms of CPU)")


if __name__ == "__main__":
    main()
