"""Check Word2Vec: what it learns, pooling, pretrained vectors, text pipelines."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from sklearn_histai.text import TextTokenizer, Word2Vec

from text_estimator_cases import assert_pickle_holds_what_predicts


def _topic_corpus(n_documents=200, length=12, seed=0):
    """Rows drawing their words from one of two topics: ids 2-7 or ids 8-13."""
    rng = np.random.RandomState(seed)
    topics = [np.arange(2, 8), np.arange(8, 14)]
    return np.array(
        [rng.choice(topics[i % 2], size=length) for i in range(n_documents)]
    )


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_word2vec_cooccurring_words_are_most_similar(architecture):
    """Check that the nearest words of each word are the words it occurs with."""
    X = _topic_corpus()
    model = Word2Vec(
        vector_size=16,
        architecture=architecture,
        window=3,
        epochs=10,
        batch_size=64,
        random_state=0,
    ).fit(X)
    assert model.n_iter_ == 10
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    for word, topic in [(2, set(range(2, 8))), (9, set(range(8, 14)))]:
        neighbours = [token for token, _ in model.most_similar(word, topn=5)]
        assert set(neighbours) == topic - {word}


def test_word2vec_is_deterministic_under_random_state():
    """Check that a seed fixes the vectors and another seed changes them."""
    X = _topic_corpus(n_documents=40)
    first = Word2Vec(vector_size=8, epochs=2, random_state=0).fit(X).embeddings_
    again = Word2Vec(vector_size=8, epochs=2, random_state=0).fit(X).embeddings_
    other = Word2Vec(vector_size=8, epochs=2, random_state=1).fit(X).embeddings_
    assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_word2vec_fitted_attributes_for_token_ids():
    """Check that rows are token ids and non-words (0, 1, rare) have zero rows."""
    X = np.array([[2, 3, 2, 5, 1, 0, 0], [3, 2, 2, 3, 5, 2, 1]])
    model = Word2Vec(vector_size=4, min_count=2, epochs=1, random_state=0).fit(X)
    assert model.embeddings_.shape == (6, 4)
    assert model.embeddings_.dtype == np.float32
    assert_array_equal(model.tokens_, np.arange(6))
    assert_array_equal(model.counts_, [0, 0, 5, 3, 0, 2])
    assert_array_equal(model.has_vector_, [False, False, True, True, False, True])
    assert_array_equal(model.embeddings_[[0, 1, 4]], 0.0)
    assert np.abs(model.embeddings_[[2, 3, 5]]).min(axis=1).all()
    assert model.get_feature_names_out().tolist() == [f"word2vec{i}" for i in range(4)]


def test_word2vec_transform_pools_mean_and_tfidf():
    """Check mean and IDF-weighted mean pooling against a direct computation."""
    X = np.array([[2, 3, 3, 0], [4, 2, 0, 0], [3, 5, 4, 2]])
    model = Word2Vec(vector_size=5, epochs=1, random_state=0).fit(X)
    E = model.embeddings_.astype(np.float64)
    new = np.array([[3, 3, 4, 0], [0, 0, 0, 0], [1, 9, 1, 2]])
    expected_mean = [(2 * E[3] + E[4]) / 3, np.zeros(5), E[2]]
    assert_allclose(model.transform(new), expected_mean, rtol=1e-6)
    # The IDF matches scikit-learn's smoothed IDF on the same documents.
    tfidf = TfidfVectorizer(analyzer=lambda row: [t for t in row if t > 1]).fit(X)
    idf = dict(zip(tfidf.get_feature_names_out(), tfidf.idf_))
    assert_allclose(model.idf_[[2, 3, 4, 5]], [idf[2], idf[3], idf[4], idf[5]])
    model.set_params(pooling="tfidf")
    w = model.idf_
    expected_tfidf = (2 * w[3] * E[3] + w[4] * E[4]) / (2 * w[3] + w[4])
    Z = model.transform(new)
    assert Z.dtype == np.float64 and Z.shape == (3, 5)
    assert_allclose(Z[0], expected_tfidf, rtol=1e-6)
    assert_allclose(Z[1:], np.array(expected_mean[1:]), rtol=1e-6)


def test_word2vec_rejects_ids_that_are_not_token_ids():
    """Check that non-integer, negative and huge ids are refused before any work."""
    model = Word2Vec(vector_size=3, epochs=1, random_state=0)
    for X, match in [
        ([[0.5, 2.5, 0.5, 2.5]], "non-integer value 0.5"),
        ([[2, -1, 3, -1]], "Negative values in data.*found the id -1"),
    ]:
        with pytest.raises(ValueError, match=match):
            clone(model).fit(X)
        with pytest.raises(ValueError, match=match):
            clone(model).fit([[2, 3, 2, 3]]).transform(X)
    # One id of 2**40 would ask for a table of 2**40 rows (8 TiB of int64 ids).
    with pytest.raises(ValueError, match=r"1099511627776; Word2Vec takes ids below"):
        clone(model).fit([[2, 3, 2**40, 3]])
    with pytest.raises(ValueError, match="query"):
        clone(model).fit([[2, 3, 2, 3]]).most_similar(2.5)


def test_word2vec_pickles_only_its_vectors():
    """Check that a fitted Word2Vec pickles about its table of word vectors."""
    rng = np.random.RandomState(0)
    X = rng.randint(2, 3000, size=(200, 20))
    model = Word2Vec(vector_size=32, epochs=1, random_state=0).fit(X)
    assert_pickle_holds_what_predicts(model, [model.embeddings_])


def test_word2vec_starts_from_pretrained_vectors():
    """Check init_embeddings: frozen as given, or trained from them."""
    rng = np.random.RandomState(0)
    init = rng.normal(size=(20, 6)).astype(np.float32)
    X = _topic_corpus(n_documents=30)
    frozen = Word2Vec(
        vector_size=6, init_embeddings=init, freeze_embeddings=True, random_state=0
    ).fit(X)
    assert_array_equal(frozen.embeddings_, init)
    assert frozen.n_iter_ == 0
    # Ids unseen in training still have their pretrained vector.
    row = [[15, 16] + [0] * 10]
    assert_allclose(frozen.transform(row), [(init[15] + init[16]) / 2], rtol=1e-6)
    assert not frozen.has_vector_[[0, 1]].any() and frozen.has_vector_[2:].all()

    trained = Word2Vec(
        vector_size=6,
        init_embeddings=init,
        sample=0.0,
        epochs=2,
        batch_size=64,
        random_state=0,
    ).fit(X)
    moved = np.abs(trained.embeddings_ - init).max(axis=1)
    assert (moved[2:14] > 0).all()
    assert_array_equal(trained.embeddings_[14:], init[14:])
    assert (
        np.corrcoef(trained.embeddings_[2:14].ravel(), init[2:14].ravel())[0, 1] > 0.5
    )


def test_word2vec_bad_parameters_and_input():
    """Check the errors for inconsistent pretrained vectors and bad input."""
    X = _topic_corpus(n_documents=10)
    init = np.zeros((20, 6), dtype=np.float32)
    with pytest.raises(ValueError, match="vector_size=5"):
        Word2Vec(vector_size=5, init_embeddings=init).fit(X)
    with pytest.raises(ValueError, match="only 10 rows"):
        Word2Vec(vector_size=6, init_embeddings=init[:10]).fit(X)
    with pytest.raises(ValueError, match="non-negative integer"):
        Word2Vec(vector_size=6, init_embeddings=init).fit(X + 0.5)
    with pytest.raises(ValueError, match="needs init_embeddings"):
        Word2Vec(freeze_embeddings=True).fit(X)
    with pytest.raises(ValueError, match="min_count=500"):
        Word2Vec(min_count=500).fit(X)
    with pytest.raises(ValueError, match="architecture"):
        Word2Vec(architecture="glove").fit(X)
    with pytest.raises(TypeError, match="TextTokenizer"):
        Word2Vec().fit(["a text", "another text"])
    with pytest.raises(NotFittedError):
        Word2Vec().transform(X)


def test_word2vec_divergence_raises_and_leaves_the_estimator_unfitted():
    """Check that a diverging fit raises a clear error and keeps the old state."""
    X = _topic_corpus(n_documents=200)
    model = Word2Vec(sample=0.0, learning_rate=5.0, epochs=3, random_state=0)
    with pytest.raises(FloatingPointError, match="learning_rate or batch_size"):
        model.fit(X)
    assert not hasattr(model, "embeddings_")


def test_word2vec_warns_without_words_in_context():
    """Check the warning when no row holds two words, and that fit still works."""
    X = np.array([[2, 0], [3, 1], [4, 0]])
    with pytest.warns(UserWarning, match="words in context"):
        model = Word2Vec(vector_size=3, random_state=0).fit(X)
    assert model.transform(X).shape == (3, 3)


def test_word2vec_most_similar_queries():
    """Check queries by id, by word and by vector, and their errors."""
    X = _topic_corpus(n_documents=60)
    model = Word2Vec(vector_size=8, epochs=1, random_state=0).fit(X)
    by_id = model.most_similar(4, topn=3)
    assert len(by_id) == 3 and 4 not in [token for token, _ in by_id]
    similarities = [s for _, s in by_id]
    assert similarities == sorted(similarities, reverse=True)
    vocabulary = {f"w{i}": i for i in range(2, 14)}
    by_word = model.most_similar("w4", topn=3, vocabulary=vocabulary)
    assert by_word == [(f"w{token}", s) for token, s in by_id]
    by_vector = model.most_similar(model.embeddings_[4], topn=1)
    assert by_vector[0][0] == 4 and by_vector[0][1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="vocabulary="):
        model.most_similar("w4")
    with pytest.raises(KeyError, match="not in the vocabulary"):
        model.most_similar("zz", vocabulary=vocabulary)
    with pytest.raises(KeyError, match="has no vector"):
        model.most_similar(0)
    with pytest.raises(ValueError, match="shape"):
        model.most_similar(np.zeros(3))


def test_word2vec_learns_from_text_in_a_pipeline():
    """Check TextTokenizer + Word2Vec on raw text, with word queries and pickling."""
    rng = np.random.RandomState(0)
    animals = ["cat", "dog", "mouse", "pet", "fur", "paw"]
    finance = ["stocks", "bonds", "market", "price", "trade", "fund"]
    documents = [
        " ".join(rng.choice(animals if i % 2 else finance, size=8)) for i in range(120)
    ]
    pipeline = make_pipeline(
        TextTokenizer(),
        Word2Vec(
            vector_size=16,
            window=3,
            sample=0.0,
            epochs=5,
            batch_size=64,
            random_state=0,
        ),
    )
    Z = pipeline.fit_transform(documents)
    assert Z.shape == (120, 16)
    tokenizer, word2vec = pipeline[0], pipeline[-1]
    nearest = word2vec.most_similar("cat", topn=5, vocabulary=tokenizer.vocabulary_)
    assert {word for word, _ in nearest} == set(animals) - {"cat"}
    # Unseen words are out-of-vocabulary: a text of them only gives zeros.
    assert_array_equal(pipeline.transform(["zebra giraffe"]), np.zeros((1, 16)))
    restored = pickle.loads(pickle.dumps(pipeline))
    assert_allclose(restored.transform(documents[:4]), Z[:4])
    assert_allclose(clone(pipeline).fit(documents).transform(documents[:4]), Z[:4])


def test_word2vec_ignored_ids_are_neither_trained_nor_context():
    """Check that ignored ids get no vector and train as if absent from the rows."""
    clean = _topic_corpus(n_documents=60, length=10) + 1  # ids 3-14
    noisy = np.insert(clean, [1, 4, 4, 8], 2, axis=1)  # id 2 between the words
    padded = np.pad(clean, ((0, 0), (0, 4)))  # the same words, padding after
    params = dict(vector_size=8, window=2, epochs=2, batch_size=64, random_state=0)
    ignoring = Word2Vec(ignored_ids=(0, 1, 2), **params).fit(noisy)
    assert ignoring.counts_[2] == 0
    assert not ignoring.has_vector_[2]
    assert_array_equal(ignoring.embeddings_[2], 0.0)
    reference = Word2Vec(**params).fit(padded)
    assert_allclose(ignoring.embeddings_, reference.embeddings_, rtol=1e-6)
    assert_allclose(ignoring.transform(noisy), reference.transform(padded), rtol=1e-6)

    reading = Word2Vec(**params).fit(noisy)
    assert reading.has_vector_[2]
    assert not np.allclose(reading.embeddings_[3:], reference.embeddings_[3:])


def test_word2vec_ignored_ids_may_lie_outside_the_table():
    """Check that ignored ids above every id of X are accepted and change nothing."""
    X = _topic_corpus(n_documents=40)
    params = dict(vector_size=8, epochs=2, batch_size=64, random_state=0)
    reference = Word2Vec(**params).fit(X)
    wide = Word2Vec(ignored_ids=(0, 1, 10**9), **params).fit(X)
    assert_array_equal(wide.embeddings_, reference.embeddings_)
    assert_array_equal(wide.has_vector_, reference.has_vector_)


def test_word2vec_verbose_prints_one_row_per_pass(capsys):
    """Check that verbose=1 prints a header and the mean loss of each pass."""
    X = _topic_corpus(n_documents=40)
    model = Word2Vec(vector_size=8, epochs=3, verbose=1, random_state=0).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "dur"]
    assert len(lines) == 4
    for epoch, (line, loss) in enumerate(zip(lines[1:], model.loss_curve_), 1):
        number, printed, _ = line.split()
        assert int(number) == epoch
        assert float(printed) == pytest.approx(loss, abs=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_word2vec_learns_on_cuda(architecture):
    """Check that a fit on a GPU learns what a fit on the CPU learns."""
    X = _topic_corpus()
    params = dict(
        vector_size=16,
        architecture=architecture,
        window=3,
        epochs=10,
        batch_size=64,
        random_state=0,
    )
    model = Word2Vec(device="cuda", **params).fit(X)
    assert model.embeddings_.dtype == np.float32
    for word, topic in [(2, set(range(2, 8))), (9, set(range(8, 14)))]:
        neighbours = [token for token, _ in model.most_similar(word, topn=5)]
        assert set(neighbours) == topic - {word}
