"""Check that every public estimator passes scikit-learn's estimator checks."""

import importlib
import inspect
import os

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_histai
from sklearn_histai.utils import all_estimators, get_history
from sklearn_histai.utils._docstrings import fill_doc

from estimator_instances import (
    FAST_PARAMS,
    PER_CHECK_PARAMS,
    instance_for_check,
    make_fast_instance,
)

ESTIMATORS = all_estimators()

# Each named estimator of the issues must be found by discovery.
EXPECTED = {
    "LeastSquaresRegressor",
    "LogisticRegression",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "Word2Vec",
}


# The defaults must pass the checks too. Estimators without FAST_PARAMS run
# with their defaults on every test run; the others are also checked with
# their defaults by `make test-defaults` (too slow for every CI run on two
# cores: the default LSTM is 2 x 128 bidirectional units, 200 epochs).
CHECK_DEFAULTS = os.environ.get("SKLEARN_HISTAI_CHECK_DEFAULTS") == "1"


def _instances():
    for name, cls in ESTIMATORS:
        yield make_fast_instance(cls)
        if CHECK_DEFAULTS and name in FAST_PARAMS:
            yield cls()


@parametrize_with_checks(list(_instances()))
def test_estimators(estimator, check):
    """Check that the estimator passes scikit-learn's check ``check``."""
    check(instance_for_check(estimator, check))


def test_all_estimators_discovers_the_named_estimators():
    """Check that discovery finds every named estimator and no abstract base."""
    names = {name for name, _ in ESTIMATORS}
    assert EXPECTED <= names
    assert not [name for name in names if name.startswith("Base")]
    assert all(not getattr(cls, "__abstractmethods__", None) for _, cls in ESTIMATORS)


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_declares_its_history(name, cls):
    """Check that every estimator declares the history the comparison reads."""
    history = get_history(cls)
    assert history is not None, f"{name} has no _history"
    assert history.era in {"classical", "neural", "text", "pretrained"}
    assert 1700 < history.year < 2100


def test_per_check_params_carry_reasons():
    """Check that every per-check parameter names a known estimator and a reason."""
    for checks in PER_CHECK_PARAMS.values():
        for check, (params, reason) in checks.items():
            assert check.startswith("check_") and params
            assert len(reason) > 20


def _documented_parameters(cls):
    from numpydoc.docscrape import ClassDoc

    return [param.name for param in ClassDoc(cls)["Parameters"]]


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_signature_is_written_out(name, cls):
    """Check that ``__init__`` lists exactly the parameters get_params reports."""
    signature = inspect.signature(cls.__init__)
    kinds = {param.kind for name, param in signature.parameters.items()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert inspect.Parameter.VAR_POSITIONAL not in kinds
    parameters = [p for p in signature.parameters if p != "self"]
    assert sorted(parameters) == sorted(cls().get_params(deep=False))
    assert "__signature__" not in vars(cls.__init__)


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_documents_every_parameter(name, cls):
    """Check that the docstring documents each parameter of the signature, in order."""
    parameters = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert _documented_parameters(cls) == parameters


def _public_objects():
    for module_name in sklearn_histai.__all__:
        module = importlib.import_module(f"sklearn_histai.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            yield f"{module_name}.{name}", obj
            for attribute, member in vars(obj).items() if inspect.isclass(obj) else []:
                if callable(member) and not attribute.startswith("_"):
                    yield f"{module_name}.{name}.{attribute}", member


def test_no_docstring_keeps_a_placeholder():
    """Check that every public docstring had its ``%(name)s`` pieces substituted."""
    unsubstituted = [
        name for name, obj in _public_objects() if "%(" in (obj.__doc__ or "")
    ]
    assert not unsubstituted


def test_fill_doc_rejects_a_placeholder_without_text():
    """Check that a placeholder with no piece fails at decoration, not silently."""
    with pytest.raises(KeyError, match="missing"):

        @fill_doc(known="text")
        class _Documented:
            """Uses %(known)s and %(missing)s."""
