"""Check EmbeddingBagClassifier: token ids, float bags, padding, pretrained vectors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_histai.text import EmbeddingBagClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _token_data(n_samples=300, length=10, vocab_size=40, seed=0):
    """Right-padded id rows; the class is the majority of ids 2-5 against 6-9."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, size=n_samples)
    X = rng.randint(10, vocab_size, size=(n_samples, length))
    signal = np.where(
        y[:, None] == 1, rng.randint(2, 6, X.shape), rng.randint(6, 10, X.shape)
    )
    X = np.where(rng.rand(*X.shape) < 0.3, signal, X)
    lengths = rng.randint(1, length + 1, size=n_samples)
    X[np.arange(length) >= lengths[:, None]] = 0
    X[np.arange(n_samples), 0] = signal[:, 0]
    return X, y


def test_embedding_bag_classifier_learns_token_bags():
    """Check that the averaged embeddings separate the two bags of ids."""
    X, y = _token_data()
    clf = EmbeddingBagClassifier(
        vocab_size=40, embedding_dim=8, learning_rate=0.01, random_state=0
    ).fit(X[:200], y[:200])
    assert clf.score(X[200:], y[200:]) > 0.9


def test_embedding_bag_classifier_padding_and_order_do_not_matter():
    """Check that padding columns and token order leave the prediction unchanged."""
    X, y = _token_data()
    clf = EmbeddingBagClassifier(
        vocab_size=40, embedding_dim=8, max_iter=5, random_state=0
    ).fit(X, y)
    rows = np.array([[5, 12, 7, 0, 0, 0, 0, 0, 0, 0], [7, 12, 5, 0, 0, 0, 0, 0, 0, 0]])
    proba = clf.predict_proba(rows)
    assert_allclose(proba[0], proba[1])
    # The mean over the non-padding tokens: padding adds nothing.
    module = clf.net_.module_
    embedded = module.embedding.weight.detach().cpu().numpy()[[5, 12, 7]].mean(axis=0)
    logits = (
        embedded @ module.head.weight.detach().cpu().numpy().T
        + module.head.bias.detach().cpu().numpy()
    )
    expected = np.exp(logits - logits.max())
    assert_allclose(proba[0], expected / expected.sum(), rtol=1e-5)


def test_embedding_bag_classifier_float_bags():
    """Check that float rows (e.g. counts) are read as weighted bags of features."""
    rng = np.random.RandomState(0)
    X = rng.poisson(1.0, size=(300, 20)).astype(float)
    y = (X[:, :5].sum(axis=1) > X[:, 5:10].sum(axis=1)).astype(int)
    clf = EmbeddingBagClassifier(
        embedding_dim=4, learning_rate=0.01, random_state=0
    ).fit(X[:200], y[:200])
    assert clf.score(X[200:], y[200:]) > 0.9


def test_embedding_bag_classifier_pretrained_embeddings():
    """Check that pretrained embeddings start the layer and may stay frozen."""
    X, y = _token_data()
    embeddings = np.random.RandomState(0).normal(size=(40, 6)).astype(np.float32)
    clf = EmbeddingBagClassifier(
        vocab_size=40,
        embeddings=embeddings,
        freeze_embeddings=True,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    weight = clf.net_.module_.embedding.weight
    assert_array_equal(weight.detach().cpu().numpy()[1:], embeddings[1:])
    assert not weight.requires_grad
    with pytest.raises(ValueError, match="embeddings must have shape"):
        EmbeddingBagClassifier(vocab_size=40, embeddings=embeddings[:5]).fit(X, y)


def test_embedding_bag_classifier_rejects_bad_ids():
    """Check that ids outside [0, vocab_size) are refused with the range."""
    X, y = _token_data()
    with pytest.raises(ValueError, match=r"\[0, vocab_size=20\)"):
        EmbeddingBagClassifier(vocab_size=20).fit(X, y)
