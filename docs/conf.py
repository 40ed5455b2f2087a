"""Sphinx configuration of lloyd's documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` (offline: nothing is
fetched). ``tests/test_docs.py`` builds it the same way into a temporary folder.
"""

import sys
from pathlib import Path

import lloyd

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "lloyd"
author = "The lloyd developers"
copyright = "The lloyd developers"
release = version = lloyd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_nb",  # Markdown pages (MyST) and the tutorial notebook
    "lloyd_cli",  # the CLI reference, from lloyd.cli's argparse parser
]

root_doc = "index"
exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# Markdown: $math$, ::: fences, tables; heading anchors for links like page.md#section
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# The tutorial is committed without outputs. A plain build runs it once (in a temporary
# folder); the test suite hands the build an executed copy, so it is never run twice there.
nb_execution_mode = "auto"
nb_execution_in_temp = True
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_merge_streams = True

# API reference: numpydoc docstrings; members in source order
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "furo"
html_title = f"lloyd {release}"
html_static_path = []
# No intersphinx, no fonts or scripts fetched at build time: the build works offline.


def _quote_fitted_names_in_shapes(app, what, name, obj, options, lines):
    """``of shape (n_features_in_,)``: reStructuredText reads a trailing underscore as a link
    to a target; quote fitted-attribute names inside shapes as literals (scikit-learn's
    docstrings quote them in the source)."""
    import re

    def quote(match):
        return re.sub(r"(?<![`\w])(\w+_)(?=[,)\s])", r"``\1``", match.group(0))

    lines[:] = [re.sub(r"of shape \([^)]*\)", quote, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _quote_fitted_names_in_shapes)
