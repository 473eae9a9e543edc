"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ratenet

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_network_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    ratenet.clear()
    namespace: dict = {}
    # The example is the user's own code (not equation text): running it is the point of the test.
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102
    assert namespace["rates"].shape == (100, 100)
    assert namespace["rates"].min() >= 0.0
    ratenet.clear()
