"""Sphinx configuration: MyST pages, API reference from the numpydoc docstrings."""

import pymc_ais

project = "pymc_ais"
author = "pymc_ais developers"
release = pymc_ais.__version__
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
autosummary_generate = True
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath"]
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
exclude_patterns = ["_build"]
autodoc_default_options = {"members": False}
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["myst.header"]
