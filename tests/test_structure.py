"""The package's shape: imports flow one way, and objects keep their underscore attributes to themselves.

Uses the scripts in ``tools/`` (``import_graph.py``, ``count_private_access.py``), which read the
source with ``ast``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ratenet"


def tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph():
    return tool("import_graph").graph(PACKAGE)


def test_no_ratenet_module_is_imported_inside_a_function(graph):
    _, inner = graph
    assert {module: found for module, found in inner.items() if found} == {}


def test_module_imports_have_no_cycle(graph):
    edges, _ = graph
    _, cyclic = tool("import_graph").layers(edges)
    assert cyclic == set()


# (module, what it must not import, directly or not): the layers of DESIGN.md section 2
LOWER_THAN = [
    ("ratenet.registry", {"ratenet.population", "ratenet.projections", "ratenet.plan", "ratenet.network"}),
    ("ratenet.state", {"ratenet.population", "ratenet.projections", "ratenet.plan", "ratenet.network"}),
    ("ratenet.equations", {"ratenet.neurons", "ratenet.population", "ratenet.network"}),
    ("ratenet.neurons", {"ratenet.population", "ratenet.projections", "ratenet.network"}),
    ("ratenet.population", {"ratenet.projections", "ratenet.plan", "ratenet.network", "ratenet.monitor",
                            "ratenet.api"}),
    ("ratenet.projections", {"ratenet.plan", "ratenet.network", "ratenet.monitor", "ratenet.api"}),
    ("ratenet.plan", {"ratenet.network", "ratenet.monitor", "ratenet.api"}),
    ("ratenet.network", {"ratenet.api"}),
]


@pytest.mark.parametrize("module, above", LOWER_THAN)
def test_imports_flow_one_way(graph, module, above):
    edges, _ = graph
    reached, todo = set(), [m for m in edges if m == module or m.startswith(module + ".")]
    while todo:
        current = todo.pop()
        for dep in edges.get(current, ()):
            if dep not in reached:
                reached.add(dep)
                todo.append(dep)
    bad = {dep for dep in reached for top in above if dep == top or dep.startswith(top + ".")}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_few_reads_of_other_modules_underscore_attributes():
    counter = tool("count_private_access")
    cross = [(path.name, line, what) for path in sorted(PACKAGE.rglob("*.py"))
             for line, what, other_module, _ in counter.accesses(path) if other_module]
    assert len(cross) < 20, cross
