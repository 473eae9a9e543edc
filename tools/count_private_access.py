"""Count reads and writes of another object's underscore attributes in the ratenet package.

An access counts when the attribute name starts with one underscore (not a
dunder) and the object is anything but ``self`` or ``cls``: ``pop._ns``,
``proj._storage.indptr``, ``neurons._CONSTANTS``.  ``object.__setattr__`` and
``__dict__`` lookups are ignored (dunders).  A line ending in a comment that
contains ``private-ok`` is listed separately, as an access kept on purpose
(the comment gives the reason).

    python tools/count_private_access.py            # the total, per file
    python tools/count_private_access.py -v         # every access
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path


def accesses(path: Path) -> list[tuple[int, str, bool]]:
    text = path.read_text()
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        line = lines[node.lineno - 1]
        kept = "private-ok" in line
        found.append((node.lineno, f"{ast.unparse(node.value)}.{name}", kept))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parent.parent / "ratenet"))
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    per_file: Counter[str] = Counter()
    kept_total = 0
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(root.parent))
        for lineno, what, kept in accesses(path):
            if kept:
                kept_total += 1
            per_file[rel] += 1
            if args.verbose:
                print(f"{rel}:{lineno}: {what}{'   (kept, with a reason)' if kept else ''}")
    for rel, count in per_file.most_common():
        print(f"{count:5d}  {rel}")
    print(f"{sum(per_file.values()):5d}  total ({kept_total} marked private-ok)")


if __name__ == "__main__":
    sys.exit(main())
