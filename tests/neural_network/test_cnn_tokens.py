"""Check the token-id input of CNNClassifier and CNNRegressor (Kim's text CNN)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_histai.neural_network import CNNClassifier, CNNRegressor
from sklearn_histai.nn import LeNet, TextCNN

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _token_data(n_samples=200, length=12, vocab_size=30, seed=0):
    """Right-padded id rows; the class says whether id 7 occurs."""
    rng = np.random.RandomState(seed)
    X = rng.randint(2, vocab_size, size=(n_samples, length))
    lengths = rng.randint(1, length + 1, size=n_samples)
    X[np.arange(length) >= lengths[:, None]] = 0
    y = (X == 7).any(axis=1).astype(int)
    return X, y


def _small(cls, **params):
    settings = dict(
        vocab_size=30,
        embedding_dim=8,
        filter_sizes=(2, 3),
        num_filters=8,
        max_iter=40,
        learning_rate=0.01,
        random_state=0,
    )
    return cls(**{**settings, **params})


def test_cnn_classifier_tokens_learns_and_uses_text_cnn():
    """Check that token ids train Kim's CNN, which finds a keyword anywhere."""
    X, y = _token_data()
    clf = _small(CNNClassifier).fit(X[:150], y[:150])
    assert isinstance(clf.net_.module_, TextCNN)
    assert clf.score(X[150:], y[150:]) > 0.9


def test_cnn_classifier_without_vocab_size_is_lenet():
    """Check that float input still builds the LeNet-style network."""
    X, y = _token_data()
    clf = CNNClassifier(max_iter=2, random_state=0).fit(X.astype(float), y)
    assert isinstance(clf.net_.module_, LeNet)


def test_cnn_classifier_tokens_padding_never_changes_predictions():
    """Check that extra padding columns leave the probabilities unchanged."""
    X, y = _token_data()
    clf = _small(CNNClassifier, device="cpu").fit(X, y)
    wider = np.hstack([X, np.zeros((len(X), 5), dtype=X.dtype)])
    # A model fitted on 12 columns needs 12 columns; compare within the
    # module, which takes rows of any length.
    import torch

    module = clf.net_.module_.eval()
    with torch.no_grad():
        narrow_out = module(torch.from_numpy(X))
        wide_out = module(torch.from_numpy(wider))
    assert_allclose(narrow_out.numpy(), wide_out.numpy(), rtol=1e-5, atol=1e-6)


def test_cnn_regressor_tokens():
    """Check that the regressor reads token ids too."""
    X, y = _token_data()
    target = (X == 7).any(axis=1) + 2.0 * (X == 9).any(axis=1)
    reg = _small(CNNRegressor).fit(X[:150], target[:150])
    assert isinstance(reg.net_.module_, TextCNN)
    assert reg.score(X[150:], target[150:]) > 0.7


def test_cnn_classifier_tokens_pretrained_frozen_embeddings():
    """Check that frozen pretrained embeddings are used as given and stay fixed."""
    X, y = _token_data()
    embeddings = np.random.RandomState(0).normal(size=(30, 6)).astype(np.float32)
    clf = _small(CNNClassifier, embeddings=embeddings, freeze_embeddings=True)
    clf.fit(X, y)
    weight = clf.net_.module_.embedding.weight
    assert weight.shape == (30, 6)
    assert_array_equal(weight.detach().cpu().numpy()[1:], embeddings[1:])
    assert not weight.requires_grad


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({}, np.array([[1, 30]] * 4), r"token ids in \[0, vocab_size=30\)"),
        ({}, np.array([[1, -1]] * 4), "token ids"),
        ({}, np.array([[1.5, 2]] * 4), "token ids"),
        ({"embeddings": np.zeros((5, 3))}, np.array([[1, 2]] * 4), "embeddings"),
        ({"filter_sizes": ()}, np.array([[1, 2]] * 4), "filter_sizes"),
        ({"filter_sizes": (0, 2)}, np.array([[1, 2]] * 4), "filter_sizes"),
    ],
)
def test_cnn_classifier_tokens_errors(params, X, match):
    """Check the errors for bad ids, embeddings and filter sizes."""
    with pytest.raises(ValueError, match=match):
        _small(CNNClassifier, **params).fit(X, [0, 1, 0, 1])
