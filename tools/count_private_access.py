"""Count reads and writes of another object's underscore attributes in the ratenet package.

An access is ``obj._name`` where the name starts with one underscore (not a
dunder) and ``obj`` is not ``self``, ``cls`` or ``super()``: ``pop._ns``,
``proj._storage.indptr``, ``neurons._CONSTANTS``.  It is *cross-module* when
the module doing it defines no attribute, method or class attribute of that
name itself (so the owner lives elsewhere): ``pop._ns`` in ``monitor.py``
counts, ``pop._ns`` in ``population.py`` (PopulationView reading its
Population) does not.  Accesses on a line carrying a ``private-ok:`` comment
are kept on purpose; the comment gives the reason.  Documented names of the
standard library that start with an underscore (``ast.AST._fields``,
``ast.AST._attributes``, ``sys._getframe``, ``os._exit``) are public API and not counted.

    python tools/count_private_access.py        # the totals, per file
    python tools/count_private_access.py -v     # every cross-module access
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path


#: The standard library's public names that start with an underscore.
STDLIB_PUBLIC = {"_fields", "_attributes", "_getframe", "_exit"}


def defined_names(tree: ast.AST) -> set[str]:
    """Underscore names a module defines: methods, functions, attributes set on self, class attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "__setattr__" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            names.add(str(node.args[1].value))
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.slice.value, str) and isinstance(node.value, ast.Attribute) and \
                node.value.attr == "__dict__":
            names.add(node.slice.value)
    return {name for name in names if name.startswith("_")}


def accesses(path: Path) -> list[tuple[int, str, bool, bool]]:
    """(line, text, cross-module, kept on purpose) for every access to another object's underscore name."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    own = defined_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or name in STDLIB_PUBLIC:
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            continue
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
            continue
        kept = "private-ok:" in lines[node.lineno - 1]
        found.append((node.lineno, f"{ast.unparse(value)}.{name}", name not in own, kept))
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parent.parent / "ratenet"))
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    every: Counter[str] = Counter()
    cross: Counter[str] = Counter()
    kept = 0
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(root.parent))
        for lineno, what, other_module, on_purpose in accesses(path):
            every[rel] += 1
            if other_module:
                cross[rel] += 1
                kept += on_purpose
                if args.verbose:
                    print(f"{rel}:{lineno}: {what}{'   (kept on purpose)' if on_purpose else ''}")
    print(f"{'all':>5} {'cross':>5}  file")
    for rel in sorted(every, key=lambda r: (-cross[r], -every[r], r)):
        print(f"{every[rel]:5d} {cross[rel]:5d}  {rel}")
    print(f"{sum(every.values()):5d} {sum(cross.values()):5d}  total: another object's underscore attributes; "
          f"cross-module ({kept} of them kept on purpose, with a reason)")


if __name__ == "__main__":
    sys.exit(main())
