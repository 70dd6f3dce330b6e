"""Check the training craft on raw-text pipelines and the text estimators."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from sklearn_histai.text import LSTMLanguageModel, SequenceTagger, make_text_classifier

from text_estimator_cases import text_corpus

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

EDA = ["synonym", "insertion", "swap", "deletion"]


@pytest.mark.parametrize("kind", ["embedding", "cnn", "lstm", "rnn"])
def test_text_kinds_train_with_eda_and_adversarial_embeddings(kind):
    """Check that each neural kind takes EDA and FGM through its pipeline."""
    X, y = text_corpus()
    clf = make_text_classifier(
        kind,
        random_state=0,
        classifier__max_iter=3,
        classifier__augmentation=EDA,
        classifier__adversarial="fgm",
        classifier__label_smoothing=0.1,
        classifier__max_grad_norm=1.0,
    ).fit(X, y)
    assert clf.predict(X).shape == y.shape
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_grid_search_over_the_craft_of_a_text_pipeline():
    """Check that a grid search tries augmentations of a raw-text pipeline."""
    X, y = text_corpus()
    search = GridSearchCV(
        make_text_classifier("embedding", random_state=0, classifier__max_iter=2),
        {
            "classifier__augmentation": [None, EDA, ["swap"]],
            "classifier__adversarial": [None, "pgd"],
        },
        cv=2,
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert len(search.cv_results_["params"]) == 6


def test_glove_synonyms_come_from_the_pretrained_vectors():
    """Check that synonym replacement with GloVe vectors uses their neighbours."""
    pytest.importorskip("pyarrow", reason="GloVe needs the [datasets] extra")
    try:
        clf = make_text_classifier(
            "cnn",
            pretrained="glove",
            random_state=0,
            classifier__max_iter=1,
            classifier__augmentation="synonym",
        )
    except (FileNotFoundError, ImportError) as exc:
        pytest.skip(f"GloVe vectors not installed: {exc}")
    X, y = text_corpus()
    assert clf.fit(X, y).predict(X).shape == y.shape


def test_tagger_and_language_model_train_adversarially():
    """Check adversarial training of the tagger and the LSTM language model."""
    sentences = [["the", "cat", "sat"], ["a", "dog", "ran"]] * 10
    tags = [["D", "N", "V"]] * 20
    tagger = SequenceTagger(adversarial="fgm", max_iter=2, random_state=0)
    assert tagger.fit(sentences, tags).score(sentences, tags) >= 0
    lm = LSTMLanguageModel(
        embedding_dim=8, hidden_size=8, adversarial="pgd", max_iter=2, random_state=0
    )
    assert np.isfinite(lm.fit(sentences).perplexity(sentences))
