"""Check that LoRA fine-tuning learns sentiment from a small slice of IMDB reviews."""

import numpy as np
import pytest

from sklearn_histai.datasets import load_imdb
from sklearn_histai.finetune import TransformerClassifier
from sklearn_histai.finetune._checkpoint import default_checkpoint

pytest.importorskip("peft", reason="needs the [peft] extra")


@pytest.fixture(scope="module")
def imdb_slice():
    try:
        default_checkpoint()
        X, y = load_imdb("train", return_X_y=True)
        X_test, y_test = load_imdb("test", return_X_y=True)
    except ImportError as exc:
        pytest.skip(str(exc))
    # The loader's rows come in a fixed random order: prefixes are samples.
    return X[:256], y[:256], X_test[:256], y_test[:256]


@pytest.mark.slow
def test_transformer_classifier_lora_learns_imdb_sentiment(imdb_slice):
    """Check a loose floor: LoRA, 256 reviews, 64 tokens, one epoch."""
    X, y, X_test, y_test = imdb_slice
    clf = TransformerClassifier(
        max_length=64, truncation="pre", max_iter=1, random_state=0
    ).fit(X, y)
    assert clf.history_[0]["train_loss"] < np.log(2)
    # Measured 0.648 (chance is 0.5, one standard error 0.03).
    assert clf.score(X_test, y_test) > 0.6
