"""Order and command-line arguments of the gallery's examples (sphinx-gallery hooks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The gallery's order: the seed tutorial first, then image processing, dynamics, learning.
ORDER = [
    "image_filters.py",
    "edge_detection.py",
    "wilson_cowan.py",
    "winner_take_all.py",
    "neural_field.py",
    "oja_pca.py",
    "bar_learning.py",
    "echo_state_network.py",
]

#: Examples that write their figure to a PNG when run from a terminal: in the gallery the file
#: goes next to the generated page instead of into examples/.
WRITES_PNG = {"image_filters.py", "bar_learning.py", "neural_field.py"}


class ExampleOrder:
    """Sort key: the position in :data:`ORDER` (unlisted examples last, by name)."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:  # sphinx-gallery keys its cache on this
        return f"ExampleOrder({ORDER})"


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    name = Path(script_vars["src_file"]).name
    if name not in WRITES_PNG:
        return []
    target = Path(script_vars["target_file"])
    return ["-o", str(target.with_name(target.stem + "_cli.png"))]
