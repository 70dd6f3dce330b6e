"""Check the discovery of public estimators."""

import pytest
from sklearn.base import is_classifier, is_regressor

from sklearn_histai.utils import all_estimators


def test_all_estimators_type_filter():
    """Check that the type filter keeps only estimators of that kind."""
    classifiers = all_estimators(type_filter="classifier")
    regressors = all_estimators(type_filter="regressor")
    assert classifiers and regressors
    assert all(is_classifier(cls()) for _, cls in classifiers)
    assert all(is_regressor(cls()) for _, cls in regressors)
    both = all_estimators(type_filter=["classifier", "regressor"])
    assert {name for name, _ in both} == {name for name, _ in classifiers + regressors}


def test_all_estimators_sorted_and_unique():
    """Check that discovery returns sorted, unique names."""
    names = [name for name, _ in all_estimators()]
    assert names == sorted(set(names))


def test_all_estimators_bad_filter():
    """Check that an unknown type filter is rejected with the parameter's name."""
    with pytest.raises(ValueError, match="type_filter"):
        all_estimators(type_filter="clusterer")


def test_all_estimators_leaves_out_base_estimators_without_fit():
    """Check that TextAnalyzer, a BaseEstimator without fit, is not discovered."""
    from sklearn.base import BaseEstimator

    from sklearn_histai.text import TextAnalyzer

    assert issubclass(TextAnalyzer, BaseEstimator)
    names = {name for name, _ in all_estimators()}
    assert "TextAnalyzer" not in names and "TextTokenizer" in names
