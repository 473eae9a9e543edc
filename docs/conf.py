"""Sphinx configuration of ratenet's documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root.  The API pages are generated from ``ratenet.__all__`` and the
``__all__`` of the public submodules (see ``_ext/apipages.py``); the gallery is
built by running every script in ``examples/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The docs document this checkout, installed or not.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "agg")

import ratenet  # noqa: E402 - importable only once the checkout is on sys.path (above)

project = "ratenet"
author = "the ratenet authors"
copyright = "the ratenet authors"
release = ratenet.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "apipages",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "sg_execution_times.rst", "**/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
html_theme = "furo"
html_title = f"ratenet {release}"
html_static_path = []

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types; signatures stay readable
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False  # the class template lists members with autodoc
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False

# -- gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # run every example, not only plot_*.py
    "ignore_pattern": r"__init__\.py|^_",
    "within_subsection_order": "gallery_config.ExampleOrder",
    "reset_argv": "gallery_config.reset_argv",
    "abort_on_example_error": True,
    "download_all_examples": True,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "matplotlib_animations": True,
    "reference_url": {"ratenet": None},
    "doc_module": ("ratenet",),
    "backreferences_dir": None,
    "image_srcset": [],
    "thumbnail_size": (320, 240),
}
