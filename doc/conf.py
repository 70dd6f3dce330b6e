"""Sphinx configuration for the sklearn_histai documentation."""

import os
import re
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_histai

project = "sklearn_histai"
author = "The sklearn_histai developers"
release = sklearn_histai.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_title = "sklearn_histai"

# No network on the build machines: intersphinx inventories are not fetched.
intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
}


def sklearn_histai_reset(gallery_conf, fname):
    """Pin torch to one thread between gallery examples, as the tests do."""
    import torch

    torch.set_num_threads(1)


sphinx_gallery_conf["reset_modules"] = ("matplotlib", sklearn_histai_reset)
# A function in the gallery configuration cannot be cached between builds;
# the docs are always built from scratch, so the cache is not needed.
suppress_warnings = ["config.cache"]

warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib")

# Methods inherited from scikit-learn (``score``, ``set_*_request``) link to
# labels of scikit-learn's own documentation, which this build cannot reach
# (no network, so no intersphinx): keep their text, drop the links.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^>`]*)>)?`")


def _unlink_sklearn_roles(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "").startswith("sklearn."):
        lines[:] = [
            _SKLEARN_ROLE.sub(lambda m: m.group(1) or m.group(2), line)
            for line in lines
        ]


def setup(app):
    """Register the docstring clean-up for inherited scikit-learn methods."""
    app.connect("autodoc-process-docstring", _unlink_sklearn_roles)
