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


def test_embedding_bag_net_ngrams_join_the_mean():
    """Check that hashed bigrams of consecutive ids join each row's mean."""
    torch = pytest.importorskip("torch")
    from sklearn_histai.nn import EmbeddingBagNet

    torch.manual_seed(0)
    net = EmbeddingBagNet(
        None, 2, vocab_size=10, embedding_dim=4, word_ngrams=3, ngram_buckets=7
    )
    X = torch.tensor([[3, 5, 4, 0, 0], [7, 0, 0, 0, 0], [2, 8, 0, 0, 0]])
    torch.nn.init.normal_(net.ngram_embedding.weight)  # they start at zero
    bigrams, trigrams = net.ngram_ids(X)
    # Rows of 3, 1 and 2 tokens: 2 + 0 + 1 bigrams, 1 + 0 + 0 trigrams.
    assert bigrams.shape == (3,) and trigrams.shape == (1,)
    assert bigrams.tolist() == [
        (3 * 116_049_371 + 5) % 7,
        (5 * 116_049_371 + 4) % 7,
        (2 * 116_049_371 + 8) % 7,
    ]
    words = net.embedding.weight.detach()
    grams = net.ngram_embedding.weight.detach()
    means = [
        torch.cat([words[[3, 5, 4]], grams[bigrams[:2]], grams[trigrams]]).mean(0),
        words[7],
        torch.cat([words[[2, 8]], grams[bigrams[2:]]]).mean(0),
    ]
    expected = net.head(torch.stack(means))
    assert_allclose(net(X).detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    # Padding, wherever it ends, changes nothing.
    assert_allclose(net(X[:, :3]).detach().numpy(), net(X).detach().numpy(), rtol=1e-6)


def test_embedding_bag_classifier_word_ngrams_learn_word_order():
    """Check that bigrams separate classes that only word order tells apart."""
    rng = np.random.RandomState(0)
    n_samples, length = 400, 8
    y = rng.randint(0, 2, size=n_samples)
    # Both classes hold ids 2 and 3 once; class 1 has "2 3", class 0 "3 2".
    X = rng.randint(4, 30, size=(n_samples, length))
    start = rng.randint(0, length - 1, size=n_samples)
    rows = np.arange(n_samples)
    X[rows, start] = np.where(y == 1, 2, 3)
    X[rows, start + 1] = np.where(y == 1, 3, 2)
    params = dict(vocab_size=30, embedding_dim=8, learning_rate=0.02, random_state=0)
    words = EmbeddingBagClassifier(**params).fit(X[:300], y[:300])
    bigrams = EmbeddingBagClassifier(word_ngrams=2, **params).fit(X[:300], y[:300])
    assert words.score(X[300:], y[300:]) < 0.7
    assert bigrams.score(X[300:], y[300:]) > 0.9
    assert bigrams.net_.module_.ngram_embedding.num_embeddings == 65536


def test_embedding_bag_classifier_word_ngrams_need_token_ids():
    """Check that word n-grams of float rows are refused."""
    X = np.random.RandomState(0).poisson(1.0, size=(20, 5)).astype(float)
    with pytest.raises(ValueError, match="word_ngrams=2 reads n-grams of token ids"):
        EmbeddingBagClassifier(word_ngrams=2).fit(X, [0, 1] * 10)


def test_embedding_bag_classifier_ids_of_any_numeric_dtype_agree():
    """Check that int64, int32 and float ids (validated without a float copy) agree."""
    X, y = _token_data()
    params = dict(vocab_size=40, embedding_dim=4, max_iter=3, random_state=0)
    expected = EmbeddingBagClassifier(**params).fit(X, y).predict_proba(X)
    for dtype in (np.int32, np.float64, np.uint8):
        clf = EmbeddingBagClassifier(**params).fit(X.astype(dtype), y)
        assert_allclose(clf.predict_proba(X.astype(dtype)), expected, rtol=1e-6)
    assert clf._validate_input(X, reset=False).dtype == np.int64
