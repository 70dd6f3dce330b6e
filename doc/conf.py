"""Sphinx configuration for the sklearn_histai documentation."""

import importlib
import inspect
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
# Parameters documented and known (PR01, PR02), their colons spaced (PR10),
# a Returns section where a value is returned (RT01), a docstring at all
# (GL08). Not RT02: scikit-learn's named entries (``self : object``) are
# fine. Examples (EX01) are required of public classes and functions only,
# which this setting cannot express: tests/test_docstrings.py checks them.
numpydoc_validation_checks = {"PR01", "PR02", "PR10", "RT01", "GL08"}


def _module_of(member):
    """The module that defines a function, property or other class member."""
    if isinstance(member, property):
        member = member.fget
    member = getattr(member, "__func__", member)
    return getattr(member, "__module__", None) or "sklearn_histai"


def _inherited_from(library):
    """Patterns of the public members our API classes take from ``library``.

    The API pages list every method of a class, inherited ones included;
    those defined in ``library`` carry its docstrings, not ours.
    """
    patterns = set()
    for subpackage in sklearn_histai.__all__:
        module = importlib.import_module(f"sklearn_histai.{subpackage}")
        for name in module.__all__:
            cls = getattr(module, name)
            if not inspect.isclass(cls):
                continue
            for attr in dir(cls):
                member = inspect.getattr_static(cls, attr)
                if attr.startswith("_") or _module_of(member).split(".")[0] != library:
                    continue
                patterns.add(rf"^sklearn_histai\.{subpackage}\.{name}\.{attr}$")
    return patterns


numpydoc_validation_exclude = {
    # torch.nn.Module's methods (to, train, state_dict, register_*_hook, ...)
    # listed on the pages of the networks in sklearn_histai.nn: torch's
    # docstrings, not in numpydoc format.
    *_inherited_from("torch"),
    # scikit-learn's methods (get_params, set_params, score,
    # set_{fit,score}_request, ...) listed on the estimators' pages:
    # scikit-learn writes and validates those docstrings.
    *_inherited_from("sklearn"),
    # Scorer objects built by sklearn.metrics.make_scorer: their docstring is
    # that of scikit-learn's _Scorer class, not one of ours.
    r"^sklearn_histai\.text\.(entity_f1|token_accuracy)_scorer$",
}

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
