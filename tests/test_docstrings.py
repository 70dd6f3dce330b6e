"""Numpydoc validation of the docstrings of the public API."""

import importlib
import inspect
import runpy
from pathlib import Path

import pytest
from numpydoc.validate import validate

import sklearn_histai

# The checks the docs build enables (doc/conf.py). Not RT02: scikit-learn's
# named Returns entries (``self : object``) are fine.
CHECKS = {"PR01", "PR02", "PR10", "RT01", "GL08"}


# Objects that lack an Examples section, each with the reason it is allowed
# for now; strict, so that the entry must go once the example is written.
def _is_ours(obj):
    """Whether ``obj`` (a function, property or other object) comes from here.

    Scikit-learn and torch write the docstrings of what our classes inherit
    from them, and of the scorer objects that ``make_scorer`` builds.
    """
    if isinstance(obj, property):
        obj = obj.fget
    obj = getattr(obj, "__func__", obj)
    return getattr(obj, "__module__", "sklearn_histai").startswith("sklearn_histai")


def _public_objects():
    """The qualified name and value of each name in a subpackage's ``__all__``."""
    for subpackage in sklearn_histai.__all__:
        module = importlib.import_module(f"sklearn_histai.{subpackage}")
        for name in module.__all__:
            yield f"sklearn_histai.{subpackage}.{name}", getattr(module, name)


def _public_members(cls):
    """Names of the public methods and properties of ``cls`` written here."""
    for name in sorted(dir(cls)):
        member = inspect.getattr_static(cls, name)
        is_routine = inspect.isfunction(member) or isinstance(
            member, classmethod | staticmethod | property
        )
        if not name.startswith("_") and is_routine and _is_ours(member):
            yield name


def _documented_names():
    names = []
    for qualname, obj in _public_objects():
        if not _is_ours(obj):
            continue
        names.append(qualname)
        if inspect.isclass(obj):
            names += [f"{qualname}.{name}" for name in _public_members(obj)]
    return names


def _example_names():
    """Public classes and functions: not methods, constants or warnings."""
    names = []
    for qualname, obj in _public_objects():
        is_api = inspect.isfunction(obj) or (
            inspect.isclass(obj) and not issubclass(obj, Warning)
        )
        if is_api and _is_ours(obj):
            names.append(pytest.param(qualname, id=qualname))
    return names


DOCUMENTED_NAMES = _documented_names()


def _errors(name, checks):
    return [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code in checks
    ]


@pytest.mark.parametrize("name", DOCUMENTED_NAMES)
def test_docstring_passes_numpydoc_checks(name):
    """Check that a public object's docstring passes the docs build's checks."""
    assert _errors(name, CHECKS) == []


@pytest.mark.parametrize("name", _example_names())
def test_docstring_has_examples(name):
    """Check that a public class or function has an Examples section."""
    assert _errors(name, {"EX01"}) == []


def test_documented_names_are_our_own_members():
    """Check that methods written here are validated, inherited ones are not."""
    names = set(DOCUMENTED_NAMES)
    assert {
        "sklearn_histai.nn.MLP.forward",
        "sklearn_histai.nn.Word2VecNet.word_vectors",
        "sklearn_histai.neural_network.FeedForwardClassifier.fit",
        "sklearn_histai.text.SequenceTagger.score",
    } <= names
    not_ours = {
        "sklearn_histai.nn.MLP.to",
        "sklearn_histai.neural_network.FeedForwardClassifier.set_params",
        "sklearn_histai.neural_network.FeedForwardClassifier.set_fit_request",
        "sklearn_histai.text.entity_f1_scorer",
    }
    assert not not_ours & names


def test_docs_build_enables_the_same_checks():
    """Check that doc/conf.py turns on the numpydoc checks this test runs."""
    conf = runpy.run_path(str(Path(__file__).parents[1] / "doc" / "conf.py"))
    assert conf["numpydoc_validation_checks"] == CHECKS
