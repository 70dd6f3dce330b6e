"""Check the behaviours every text-facing estimator shares, on each of them.

The estimators come from ``TEXT_ESTIMATORS`` in
``tests/text_estimator_cases.py``; adding an entry there runs every
check below on it.
"""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from text_estimator_cases import (
    TEXT_ESTIMATORS,
    text_corpus,
    transform_score,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NAMES = sorted(TEXT_ESTIMATORS)
_METHODS = (
    "predict",
    "predict_proba",
    "decision_function",
    "transform",
    "score_samples",
)


def _final_step(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def _fit(name, X=None, y=None):
    case = TEXT_ESTIMATORS[name]
    if X is None:
        X, y = text_corpus()
    estimator = case.make()
    return estimator.fit(X, y) if case.supervised else estimator.fit(X)


def _outputs(estimator, X):
    """The outputs of every prediction method the estimator has."""
    outputs = {}
    for method in _METHODS:
        if hasattr(estimator, method):
            outputs[method] = np.asarray(getattr(estimator, method)(X))
    assert outputs, "a text estimator must predict or transform"
    return outputs


def _assert_outputs_equal(first, second):
    assert first.keys() == second.keys()
    for method in first:
        if first[method].dtype.kind == "f":
            assert_allclose(first[method], second[method], rtol=1e-6, atol=1e-7)
        else:
            assert_array_equal(first[method], second[method])


def _assert_outputs_finite(outputs, n_documents):
    for method, values in outputs.items():
        assert len(values) == n_documents, method
        if values.dtype.kind in "fiu":
            assert np.isfinite(values).all(), method


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_clone(name):
    """Check that a clone has the same parameters and is not fitted."""
    estimator = _fit(name)
    cloned = clone(estimator)
    assert cloned is not estimator
    assert repr(cloned) == repr(estimator)
    assert repr(cloned.get_params(deep=True)) == repr(estimator.get_params(deep=True))
    with pytest.raises(NotFittedError):
        _outputs(cloned, ["a film"])


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_get_set_params(name):
    """Check that set_params(**get_params()) round-trips, nested parameters too."""
    estimator = TEXT_ESTIMATORS[name].make()
    params = estimator.get_params(deep=True)
    assert estimator.set_params(**params) is estimator
    assert repr(estimator.get_params(deep=True)) == repr(params)
    for key, values in TEXT_ESTIMATORS[name].param_grid.items():
        estimator.set_params(**{key: values[-1]})
        assert estimator.get_params(deep=True)[key] == values[-1]


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_pickle_round_trip(name):
    """Check that a fitted estimator gives the same outputs after pickling."""
    X, _ = text_corpus()
    estimator = _fit(name)
    restored = pickle.loads(pickle.dumps(estimator))
    _assert_outputs_equal(_outputs(estimator, X), _outputs(restored, X))


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_fit_is_idempotent(name):
    """Check that fitting twice (a clone, or the same object) gives the same model."""
    X, y = text_corpus()
    estimator = _fit(name)
    first = _outputs(estimator, X)
    _assert_outputs_equal(first, _outputs(_fit(name), X))
    refitted = (
        estimator.fit(X, y) if TEXT_ESTIMATORS[name].supervised else (estimator.fit(X))
    )
    _assert_outputs_equal(first, _outputs(refitted, X))


def _sample_weight_fit_params(estimator, sample_weight):
    """``fit`` keywords passing ``sample_weight`` to the estimator that learns."""
    if isinstance(estimator, Pipeline):
        return {f"{estimator.steps[-1][0]}__sample_weight": sample_weight}
    return {"sample_weight": sample_weight}


WEIGHTED = [
    name
    for name in NAMES
    if TEXT_ESTIMATORS[name].supervised
    and has_fit_parameter(_final_step(TEXT_ESTIMATORS[name].make()), "sample_weight")
]


@pytest.mark.parametrize("name", WEIGHTED)
def test_text_estimator_sample_weight(name):
    """Check that unit weights change nothing and uneven weights change the model."""
    X, y = text_corpus()
    estimator = TEXT_ESTIMATORS[name].make()
    unweighted = _outputs(clone(estimator).fit(X, y), X)
    ones = _sample_weight_fit_params(estimator, np.ones(len(y)))
    _assert_outputs_equal(unweighted, _outputs(clone(estimator).fit(X, y, **ones), X))
    uneven = np.where(np.arange(len(y)) % 3 == 0, 0.0, 4.0)
    uneven_params = _sample_weight_fit_params(estimator, uneven)
    weighted = _outputs(clone(estimator).fit(X, y, **uneven_params), X)
    assert any(
        not np.allclose(weighted[method], unweighted[method]) for method in weighted
    )


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_subsets_predict_as_the_whole(name):
    """Check that outputs on parts of the data equal those on the whole."""
    X, _ = text_corpus()
    estimator = _fit(name)
    whole = _outputs(estimator, X)
    for part in (slice(0, 1), slice(1, 20), slice(20, None)):
        expected = {method: values[part] for method, values in whole.items()}
        _assert_outputs_equal(expected, _outputs(estimator, X[part]))


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_grid_search_in_parallel(name):
    """Check that a 2-process GridSearchCV scores and refits like sequential fits."""
    case = TEXT_ESTIMATORS[name]
    X, y = text_corpus()
    estimator = case.make()
    scorer = check_scoring(estimator, None if case.supervised else transform_score)
    folds = list(check_cv(2, y, classifier=is_classifier(estimator)).split(X, y))
    search = GridSearchCV(
        estimator,
        case.param_grid,
        cv=folds,
        scoring=scorer,
        n_jobs=2,
        error_score="raise",
    )
    search.fit(X, y)
    # Each score the workers sent back is that of a fit made here, alone: a
    # clone that keeps fitted state, a parameter lost on its way to a worker
    # or a fit that depends on the process would each change one.
    for i, params in enumerate(search.cv_results_["params"]):
        for k, (train, test) in enumerate(folds):
            fitted = clone(estimator).set_params(**params)
            fitted.fit(*_rows(X, y, train, case.supervised))
            expected = scorer(fitted, *_rows(X, y, test, True))
            assert_allclose(search.cv_results_[f"split{k}_test_score"][i], expected)
    refitted = clone(estimator).set_params(**search.best_params_)
    refitted.fit(*_rows(X, y, np.arange(len(X)), case.supervised))
    _assert_outputs_equal(_outputs(search.best_estimator_, X), _outputs(refitted, X))


def _rows(X, y, indices, with_labels):
    documents = [X[i] for i in indices]
    return (documents, y[indices]) if with_labels else (documents,)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "bad",
    [
        [1, 2, 3, 4],
        ["a good film", None, "a bad film", "fine"],
        ["a good film", np.nan, "a bad film", "fine"],
        np.array([["a good", "film"], ["a bad", "film"]] * 2),
        "a single string",
    ],
    ids=["numbers", "none", "nan", "2d-array", "single-string"],
)
def test_text_estimator_rejects_non_text(name, bad):
    """Check that non-string input gives a clear error at fit and prediction."""
    y = np.array([1, 0, 1, 0])
    supervised = TEXT_ESTIMATORS[name].supervised
    estimator = TEXT_ESTIMATORS[name].make()
    match = r"str|string|document"
    with pytest.raises((TypeError, ValueError), match=match):
        estimator.fit(bad, y) if supervised else estimator.fit(bad)
    fitted = _fit(name)
    for method in _outputs(fitted, ["a film"]):
        with pytest.raises((TypeError, ValueError), match=match):
            getattr(fitted, method)(bad)


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_empty_strings(name):
    """Check that empty documents are fitted on and predicted like any other."""
    X, y = text_corpus()
    assert "" in X
    estimator = _fit(name, X, y)
    _assert_outputs_finite(_outputs(estimator, ["", "", "good film"]), 3)


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_emoji_and_chinese(name):
    """Check that emoji, Chinese and mixed documents are fitted on and predicted."""
    X, y = text_corpus()
    assert any("😀" in document for document in X)
    assert any("喜欢" in document for document in X)
    estimator = _fit(name, X, y)
    documents = ["我喜欢这部电影 😀", "🎬🍿👎", "好看 great film", "電影很難看"]
    _assert_outputs_finite(_outputs(estimator, documents), len(documents))


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_one_document(name):
    """Check the smallest fits: one document, or one document per class."""
    estimator = TEXT_ESTIMATORS[name].make()
    if not TEXT_ESTIMATORS[name].supervised:
        estimator.fit(["一部 good film 😀"])
        _assert_outputs_finite(_outputs(estimator, ["good", ""]), 2)
        return
    if is_classifier(estimator):
        # One document has one class: no classifier can be fitted on it.
        with pytest.raises(ValueError, match="class|document"):
            estimator.fit(["a good film"], [1])
    else:
        # A regressor fits one document (its target scale is then 1).
        estimator.fit(["a good film"], [1.0])
        _assert_outputs_finite(_outputs(estimator, ["a good film"]), 1)
    estimator.fit(["a good film", "a bad film"], [1, 0])
    outputs = _outputs(estimator, ["good", "", "电影"])
    _assert_outputs_finite(outputs, 3)
    if is_classifier(estimator):
        assert set(outputs["predict"]) <= {0, 1}


@pytest.mark.parametrize("name", NAMES)
def test_text_estimator_unseen_words(name):
    """Check that documents of words never seen in fit are predicted."""
    estimator = _fit(name)
    documents = ["zyzzyva quixotic", "完全陌生的词", "🦄🦄", "zyzzyva film"]
    outputs = _outputs(estimator, documents)
    _assert_outputs_finite(outputs, len(documents))
    if "predict" in outputs and is_classifier(estimator):
        assert set(outputs["predict"]) <= {0, 1}
