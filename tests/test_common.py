"""Check that every public estimator passes scikit-learn's estimator checks."""

import os

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_histai.utils import all_estimators, get_history
from sklearn_histai.utils._testing import (
    EXPECTED_FAILED_CHECKS,
    FAST_PARAMS,
    PER_CHECK_PARAMS,
    expected_failed_checks,
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


@parametrize_with_checks(
    list(_instances()), expected_failed_checks=expected_failed_checks
)
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
    names = {name for name, _ in ESTIMATORS}
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        assert name in names
        for check, reason in checks.items():
            assert check.startswith("check_") and len(reason) > 20
