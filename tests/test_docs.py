"""The documentation's examples run as written, and its API reference covers every public name.

Building the site itself (``python -m sphinx -W -b html docs docs/_build/html``) is a
step of ``.ci/run``; these checks need no Sphinx.
"""

from __future__ import annotations

import doctest
import importlib.util
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

import ratenet

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATED = {"_build", "api", "auto_examples"}
PAGES = sorted(p for p in DOCS.rglob("*.rst") if not GENERATED & set(p.relative_to(DOCS).parts))


def test_the_pages_are_found():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"index.rst", "guide/equations.rst", "guide/semantics.rst", "guide/migrating.rst"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples(page):
    ratenet.clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # 1/0 is inf, as the page says
            result = doctest.testfile(str(page), module_relative=False, verbose=False, report=True,
                                      optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    finally:
        ratenet.clear()
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {page.name} failed (see above)"


def _apipages():
    spec = importlib.util.spec_from_file_location("apipages", DOCS / "_ext" / "apipages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_lists_every_public_name():
    apipages = _apipages()
    text = apipages.api_index()
    entries = {line.strip() for line in text.splitlines()
               if line.startswith("   ") and not line.strip().startswith(":")}
    for name in ratenet.__all__:
        if name == "np":
            assert getattr(ratenet, name).__name__ == "numpy" and "``np`` is NumPy" in text
        elif isinstance(getattr(ratenet, name), type(ratenet)):
            assert f":mod:`ratenet.{name}`" in text and f".. module:: ratenet.{name}" in text, name
        else:
            assert name in entries, name
    for module_name in apipages.PUBLIC_SUBMODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert name in entries or f"ratenet.{name}" in text, (module_name, name)
