"""Text classifiers started from word vectors, Word2Vec or a language model."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_histai.neural_network import LSTMClassifier
from sklearn_histai.nn import RecurrentNet
from sklearn_histai.text import (
    LSTMLanguageModel,
    TextTokenizer,
    Word2Vec,
    make_text_classifier,
)

DOCS = [
    "a good film with great acting",
    "great fun and a good story",
    "a bad plot and awful acting",
    "boring and bad from start to end",
] * 6
LABELS = [1, 1, 0, 0] * 6


@pytest.fixture(scope="module")
def word2vec():
    model = make_pipeline(
        TextTokenizer(max_vocabulary=12),
        Word2Vec(vector_size=6, epochs=2, sample=0, random_state=0),
    )
    return model.fit(DOCS)


@pytest.fixture(scope="module")
def language_model():
    # The tokenizer keeps 10 words: the others become its unknown id 1, a
    # token of the language model like any other.
    model = make_pipeline(
        TextTokenizer(max_vocabulary=10, max_length=None),
        LSTMLanguageModel(
            embedding_dim=6, hidden_size=5, num_layers=1, max_iter=2, random_state=0
        ),
    )
    return model.fit(DOCS)


def _lm_row(lm, token):
    """The embedding row of ``token`` (a tokenizer id) in a fitted LSTM LM."""
    table = lm.net_.module_.embedding.weight.detach().numpy()
    position = np.searchsorted(lm.vocabulary_, token)
    if position < len(lm.vocabulary_) and lm.vocabulary_[position] == token:
        return table[4 + position]  # after PAD, UNK, BOS and EOS
    return table[1]


@pytest.mark.parametrize("kind", ["embedding", "cnn", "lstm", "rnn", "transformer"])
def test_word2vec_pipeline_starts_embeddings(word2vec, kind):
    tokenizer, w2v = word2vec[0], word2vec[-1]
    clf = make_text_classifier(kind, pretrained=word2vec, random_state=0)
    embeddings = clf[-1].embeddings
    assert clf[0].vocabulary == sorted(
        tokenizer.vocabulary_, key=tokenizer.vocabulary_.get
    )
    assert clf[0].ngram_range == tokenizer.ngram_range  # not the kind's bigrams
    assert embeddings.shape == (len(tokenizer.vocabulary_) + 2, 6)
    for word, index in tokenizer.vocabulary_.items():
        np.testing.assert_array_equal(embeddings[index], w2v.embeddings_[index], word)
    # Padding and out-of-vocabulary ids have no Word2Vec vector: zero rows.
    assert not embeddings[:2].any()
    clf.set_params(classifier__max_iter=1).fit(DOCS, LABELS)
    assert clf.predict(DOCS[:4]).shape == (4,)


def test_word2vec_with_a_given_vocabulary(word2vec):
    tokenizer, w2v = word2vec[0], word2vec[-1]
    known = next(iter(tokenizer.vocabulary_))
    clf = make_text_classifier(
        "cnn", vocabulary=["qwxzv", known], pretrained=word2vec, random_state=0
    )
    embeddings = clf[-1].embeddings
    np.testing.assert_array_equal(
        embeddings[3], w2v.embeddings_[tokenizer.vocabulary_[known]]
    )
    # An unknown word starts from a random vector of the vectors' scale.
    assert 0 < np.abs(embeddings[2]).max() < 10 * np.abs(w2v.embeddings_).max()


def test_language_model_pipeline_starts_the_lstm(language_model):
    tokenizer, lm = language_model[0], language_model[-1]
    clf = make_text_classifier("lstm", pretrained=language_model, random_state=0)
    model = clf[-1]
    assert (model.hidden_size, model.num_layers, model.bidirectional) == (5, 1, True)
    assert clf[0].vocabulary_ if hasattr(clf[0], "vocabulary_") else True
    for word, index in tokenizer.vocabulary_.items():
        np.testing.assert_array_equal(model.embeddings[index], _lm_row(lm, index), word)
    # The out-of-vocabulary id takes the row the model learnt for it.
    np.testing.assert_array_equal(model.embeddings[1], _lm_row(lm, 1))
    (layer,) = model.recurrent_weights
    np.testing.assert_array_equal(
        layer["weight_hh"], lm.net_.module_.lstm.weight_hh_l0.detach().numpy()
    )
    # Before training, the classifier's forward LSTM is the language model's.
    clf.set_params(classifier__max_iter=1, classifier__learning_rate=1e-12)
    clf.fit(DOCS, LABELS)
    forward = clf[-1].net_.module_.rnn.layers[0][0]
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(
            getattr(forward, f"{name}_l0").detach().numpy(), layer[name], atol=1e-6
        )


def test_words_the_language_model_never_saw_take_its_unknown_vector(language_model):
    lm = language_model[-1]
    clf = make_text_classifier(
        "cnn", vocabulary=["good", "qwxzv"], pretrained=language_model, random_state=0
    )
    embeddings = clf[-1].embeddings
    good = language_model[0].vocabulary_["good"]
    np.testing.assert_array_equal(embeddings[2], _lm_row(lm, good))
    np.testing.assert_array_equal(embeddings[3], _lm_row(lm, 1))
    # No recurrent layers for a kind without an LSTM.
    assert "recurrent_weights" not in clf[-1].get_params()


def test_language_model_on_token_lists():
    lm = LSTMLanguageModel(
        embedding_dim=4, hidden_size=3, num_layers=2, max_iter=2, random_state=0
    ).fit([doc.split() for doc in DOCS])
    clf = make_text_classifier("lstm", pretrained=lm, max_vocabulary=5, random_state=0)
    model = clf[-1]
    # The five most frequent words, in order of frequency.
    assert clf[0].vocabulary == ["a", "and", "acting", "bad", "good"]
    table = lm.net_.module_.embedding.weight.detach().numpy()
    words = lm.vocabulary_.tolist()
    for index, word in enumerate(clf[0].vocabulary, 2):
        np.testing.assert_array_equal(
            model.embeddings[index], table[4 + words.index(word)]
        )
    np.testing.assert_array_equal(model.embeddings[1], table[1])
    # A stacked language model: a one-directional classifier of its depth.
    assert (model.num_layers, model.bidirectional) == (2, False)
    assert len(model.recurrent_weights) == 2
    clf.set_params(classifier__max_iter=1).fit(DOCS, LABELS)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(DOCS), clf.predict(DOCS))


def test_mapping_of_vectors():
    vectors = {
        "good": np.ones(3),
        "bad": -np.ones(3),
        "don't": np.zeros(3),
        "great": 2 * np.ones(3),
    }
    clf = make_text_classifier(
        "embedding", pretrained=vectors, max_vocabulary=2, random_state=0
    )
    # Words the analyzer keeps whole, in the mapping's order.
    assert clf[0].vocabulary == ["good", "bad"]
    assert clf[0].ngram_range == (1, 1)
    np.testing.assert_array_equal(clf[-1].embeddings[2:], [np.ones(3), -np.ones(3)])
    clone(clf).fit(DOCS, LABELS)


@pytest.mark.parametrize(
    ("pretrained", "error", "match"),
    [
        ({}, ValueError, "empty mapping"),
        ({"a": [1.0, 2.0], "b": [1.0]}, ValueError, "same length"),
        ({"a": [np.nan]}, ValueError, "NaN"),
        (Word2Vec(), ValueError, "make_pipeline\\(TextTokenizer"),
        (make_pipeline(TextTokenizer(), Word2Vec()), Exception, "not fitted"),
        (LSTMClassifier(), TypeError, "pretrained must be"),
    ],
)
def test_bad_pretrained(pretrained, error, match):
    with pytest.raises(error, match=match):
        make_text_classifier("cnn", pretrained=pretrained)


def test_language_model_fitted_on_ids_needs_its_tokenizer(language_model):
    with pytest.raises(ValueError, match="rows of token ids"):
        make_text_classifier("cnn", pretrained=language_model[-1])


def test_bow_takes_no_pretrained(word2vec):
    with pytest.raises(ValueError, match='not "bow"'):
        make_text_classifier("bow", pretrained=word2vec)


def test_changed_sizes_are_refused_at_fit(language_model):
    clf = make_text_classifier(
        "lstm", pretrained=language_model, classifier__hidden_size=7, random_state=0
    )
    with pytest.raises(ValueError, match="of layer 0 has shape"):
        clf.fit(DOCS, LABELS)
    assert not hasattr(clf[-1], "net_")


def test_recurrent_net_loads_forward_weights():
    source = torch.nn.LSTM(4, 3)
    weights = [
        {
            name: getattr(source, f"{name}_l0").detach().numpy()
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
    ]
    net = RecurrentNet(
        None,
        2,
        vocab_size=10,
        embedding_dim=4,
        hidden_size=3,
        num_layers=2,
        bidirectional=True,
        recurrent_weights=weights,
    )
    forward, backward = net.rnn.layers[0]
    assert torch.equal(forward.weight_ih_l0, source.weight_ih_l0)
    assert not torch.equal(backward.weight_ih_l0, source.weight_ih_l0)
    with pytest.raises(ValueError, match="keys"):
        RecurrentNet(
            None,
            2,
            vocab_size=10,
            embedding_dim=4,
            hidden_size=3,
            recurrent_weights=[{"weight_ih": 0}],
        )
    with pytest.raises(ValueError, match="2 layers of weights"):
        RecurrentNet(
            None,
            2,
            vocab_size=10,
            embedding_dim=4,
            hidden_size=3,
            recurrent_weights=weights * 2,
        )
