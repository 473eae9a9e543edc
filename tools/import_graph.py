"""Print the import graph between ratenet's modules, and the imports made inside functions.

    python tools/import_graph.py [path/to/ratenet]

Module-level imports give the graph (imports under ``if TYPE_CHECKING:`` are
left out: they never run); imports inside functions are listed apart.  The
graph's layers are printed bottom up; a cycle is reported.  Lazy imports (a
module imported on first use through ``LazyModule("ratenet.x")`` or a package's
``attach(...)``: see ratenet/_lazy.py) are listed apart too: they run when a
name is first used, not at import time, so they are not edges of the graph.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = current if is_package else current.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if node.module is None:  # from . import x: x may be a module
        return [f"{prefix}.{alias.name}" for alias in node.names]
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def imports(path: Path, root: Path, modules: set[str]) -> tuple[set[str], list[tuple[int, str]]]:
    """(modules imported at module level, [(line, module) imported inside a function])."""
    name = module_name(path, root)
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found = [m for m in resolve(name, path.name == "__init__.py", child) if m in modules and m != name]
                if in_function:
                    inner.extend((child.lineno, m) for m in found)
                elif not type_checking:
                    top.update(found)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
            else:
                visit(child, in_function, type_checking)

    visit(tree, False, False)
    return top, inner


def lazy_imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """Modules imported on first use: ``LazyModule("ratenet.x")``, a package's ``attach(__name__, subs, ...)``."""
    name = module_name(path, root)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        if node.func.id == "LazyModule" and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
        elif node.func.id == "attach" and len(node.args) >= 3:
            subs = node.args[1].elts if isinstance(node.args[1], ast.List) else []
            held = node.args[2].values if isinstance(node.args[2], ast.Dict) else []
            found.update(f"{name}.{c.value}" for c in [*subs, *held] if isinstance(c, ast.Constant))
    return {m for m in found if m in modules}


def graph(root: Path) -> tuple[dict[str, set[str]], dict[str, list[tuple[int, str]]]]:
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(paths)
    edges, inner = {}, {}
    for name, path in paths.items():
        edges[name], inner[name] = imports(path, root, modules)
    # importing ratenet.a.b runs ratenet/a/__init__.py first (unless the importer is inside ratenet.a)
    for name in list(edges):
        for dep in list(edges[name]):
            parts = dep.split(".")
            for k in range(2, len(parts)):
                package = ".".join(parts[:k])
                if package in modules and not name.startswith(package + ".") and package != name:
                    edges[name].add(package)
    return edges, inner


def layers(edges: dict[str, set[str]]) -> tuple[list[list[str]], set[str]]:
    """Modules by layer (a module's layer is above everything it imports); modules on cycles apart."""
    level: dict[str, int] = {}
    remaining = dict(edges)
    while True:
        ready = [m for m, deps in remaining.items() if all(d in level for d in deps)]
        if not ready:
            break
        for m in ready:
            level[m] = 1 + max((level[d] for d in edges[m]), default=-1)
            del remaining[m]
    out: list[list[str]] = []
    for m, k in level.items():
        while len(out) <= k:
            out.append([])
        out[k].append(m)
    return [sorted(layer) for layer in out], set(remaining)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "ratenet")
    edges, inner = graph(root)
    found, cyclic = layers(edges)
    short = lambda m: m.removeprefix("ratenet.") or "ratenet"  # noqa: E731
    print("layers, bottom up (each module imports only modules of lower layers):")
    for k, layer in enumerate(found):
        print(f"  {k}: {', '.join(short(m) for m in layer)}")
    if cyclic:
        print("on import cycles (module level):", ", ".join(short(m) for m in sorted(cyclic)))
    print("module-level imports:")
    for m in sorted(edges):
        if edges[m]:
            print(f"  {short(m)} <- {', '.join(sorted(short(d) for d in edges[m]))}")
    count = sum(len(v) for v in inner.values())
    print(f"imports of ratenet modules inside functions: {count}")
    for m in sorted(inner):
        for line, dep in inner[m]:
            print(f"  {short(m)}:{line} imports {short(dep)}")
    print("lazy imports (on first use, see ratenet/_lazy.py):")
    for path in sorted(root.rglob("*.py")):
        lazy = lazy_imports(path, root, set(edges))
        if lazy:
            print(f"  {short(module_name(path, root))} <- {', '.join(sorted(short(d) for d in lazy))}")


if __name__ == "__main__":
    main()
