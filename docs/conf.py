"""Sphinx configuration: PyData theme, MyST pages, numpydoc API pages, an executed gallery.

The build needs no network: the cross-reference inventories of Python, NumPy, SciPy,
xarray, pandas, PyMC and arviz-stats are small hand-kept lists in ``_intersphinx/``
(plain text, turned into ``objects.inv`` files at build time).
"""

import os
import sys
import zlib
from pathlib import Path

import pymc_ais

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # gallery_helpers, make_figures

project = "pymc_ais"
author = "pymc_ais developers"
copyright = "pymc_ais developers"
release = pymc_ais.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = [
    "_build",
    "_intersphinx",
    "_recorded.md",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "**.codeobj.json",
]
suppress_warnings = ["myst.header"]

# MyST: $...$ maths, ::: fences for cards and admonitions, anchors on headings
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API pages: one page per public name, numpydoc sections, the signature on top
autosummary_generate = True
autodoc_typehints = "none"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# copy buttons skip prompts and outputs
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# Cross-references into the libraries a user works with, from inventories kept here.
INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "xarray": "https://docs.xarray.dev/en/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "pymc": "https://www.pymc.io/projects/docs/en/stable/",
    "arviz_stats": "https://python.arviz.org/projects/stats/en/latest/",
}


def _write_inventory(name: str, out: Path) -> Path:
    """``objects.inv`` from ``_intersphinx/<name>.txt`` (lines: name domain:role uri, ``$`` = the name)."""
    entries = []
    for line in (HERE / "_intersphinx" / f"{name}.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            obj, role, uri = line.split()
            entries.append(f"{obj} {role} 1 {uri.replace('$', obj)} -\n")
    header = f"# Sphinx inventory version 2\n# Project: {name}\n# Version: \n"
    header += "# The remainder of this file is compressed using zlib.\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(header.encode() + zlib.compress("".join(entries).encode()))
    return out


_inv_dir = HERE / "_build" / "intersphinx"
intersphinx_mapping = {
    name: (url, str(_write_inventory(name, _inv_dir / f"{name}.inv"))) for name, url in INVENTORIES.items()
}
intersphinx_disabled_reftypes = ["std:doc"]

# The gallery: every script of examples/ runs at build time, in its quick mode.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "gallery_helpers.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
    "plot_gallery": os.environ.get("PYMC_AIS_DOCS_GALLERY", "True"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"pymc_ais {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "benchmarks": [], "changelog": []}
html_context = {"default_mode": "light"}


def _recorded_table() -> None:
    """``_recorded.md``: the figures of ``benchmarks/recorded.json``, as recorded (no rounding but 3 digits)."""
    import json

    recorded = json.loads((HERE.parent / "benchmarks" / "recorded.json").read_text())
    on = recorded["recorded_on"]
    lines = [
        f"Recorded on: {on.get('machine', '?')}, numpy {on.get('numpy', '?')}, "
        f"{on.get('blas_threads', '?')} BLAS thread(s), pymc_ais {on.get('pymc_ais', '?')}.",
        "",
        "| check | setting | figure | value | command |",
        "|---|---|---|---|---|",
    ]
    for f in recorded["figures"]:
        setting = ", ".join(f"{k} {v}" for k, v in f["quick"].items() if k != "laws")
        value = f["value"]
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        command = f["command"].replace("|", "\\|")
        lines.append(f"| {f['check']} | {setting} | {f['figure']} | {text} | `{command}` |")
    out = HERE / "_recorded.md"
    content = "\n".join(lines) + "\n"
    if not out.exists() or out.read_text() != content:
        out.write_text(content)


_recorded_table()
