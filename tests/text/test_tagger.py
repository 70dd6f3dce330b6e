"""Tests of the sequence tagger, its network and its CRF."""

import importlib.util
import itertools
import pickle
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from torch.testing import assert_close

from sklearn_histai.nn import (
    BiLSTMTagger,
    CRFNegLogLikelihood,
    TokenCrossEntropy,
    crf_log_partition,
    crf_marginals,
    crf_viterbi,
)
from sklearn_histai.text import SequenceTagger, token_accuracy_scorer

from text_estimator_cases import (
    assert_pickle_holds_what_predicts,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _path_scores(potentials):
    """Score of every tag path of every row, by enumeration: (batch, paths), paths."""
    batch, n_steps, n_tags, _ = potentials.shape
    paths = list(itertools.product(range(n_tags), repeat=n_steps))
    scores = torch.zeros(batch, len(paths), dtype=potentials.dtype)
    for p, path in enumerate(paths):
        scores[:, p] = potentials[:, 0, 0, path[0]]
        for t in range(1, n_steps):
            scores[:, p] += potentials[:, t, path[t - 1], path[t]]
    return scores, paths


def test_crf_algorithms_match_enumeration_of_all_paths():
    """Check the forward, forward-backward and Viterbi algorithms by enumeration."""
    torch.manual_seed(0)
    potentials = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    scores, paths = _path_scores(potentials)
    assert_close(crf_log_partition(potentials), torch.logsumexp(scores, dim=1))
    best = scores.argmax(dim=1)
    assert crf_viterbi(potentials).tolist() == [list(paths[i]) for i in best]
    probabilities = torch.softmax(scores, dim=1)
    expected = torch.zeros(2, 4, 3, dtype=torch.float64)
    for p, path in enumerate(paths):
        for t, tag in enumerate(path):
            expected[:, t, tag] += probabilities[:, p]
    assert_close(crf_marginals(potentials), expected)
    # Clamping steps 0 and 2 sums over the paths that agree with them.
    tags = torch.tensor([[1, -1, 0, -1], [2, -1, 2, -1]])
    for row in range(2):
        agree = [
            p
            for p, path in enumerate(paths)
            if path[0] == tags[row, 0] and path[2] == tags[row, 2]
        ]
        assert_close(
            crf_log_partition(potentials, tags)[row],
            torch.logsumexp(scores[row, agree], dim=0),
        )


def test_bilstm_tagger_padding_never_changes_the_scores():
    """Check that right padding leaves the scores of the real tokens unchanged."""
    torch.manual_seed(0)
    for crf in (False, True):
        net = BiLSTMTagger(20, 4, embedding_dim=6, hidden_size=5, crf=crf, n_chars=9)
        net.eval()
        short = torch.tensor([[[3, 2, 4, 0], [7, 5, 0, 0]]])
        padded = torch.cat([short, torch.zeros(1, 3, 4, dtype=torch.long)], dim=1)
        out_short, out_padded = net(short), net(padded)
        assert out_padded.shape[:2] == (1, 5)
        assert_close(out_padded[:, :2], out_short)
        if crf:
            # Padding steps carry the tag on: the partition does not change.
            assert_close(crf_log_partition(out_padded), crf_log_partition(out_short))


def test_tagging_losses_average_over_the_tagged_tokens():
    """Check the per-row mean of the token losses; untagged steps (-1) are ignored."""
    torch.manual_seed(0)
    emissions = torch.randn(2, 3, 4)
    tags = torch.tensor([[1, 2, -1], [0, -1, -1]])
    losses = TokenCrossEntropy()(emissions, tags)
    log_probs = torch.log_softmax(emissions, dim=-1)
    expected = torch.stack(
        [-(log_probs[0, 0, 1] + log_probs[0, 1, 2]) / 2, -log_probs[1, 0, 0]]
    )
    assert_close(losses, expected)
    potentials = torch.randn(2, 3, 4, 4)
    crf = CRFNegLogLikelihood()(potentials, tags)
    assert crf.shape == (2,) and (crf > 0).all()
    untagged = torch.full((2, 3), -1)
    assert_close(CRFNegLogLikelihood()(potentials, untagged), torch.zeros(2))


def _context_task(rng, n_sentences):
    """'run' is a NOUN after 'the' and a VERB after 'they': the tag needs context."""
    X, y = [], []
    for _ in range(n_sentences):
        if rng.rand() < 0.5:
            X.append(["the", "run", "was", "long"])
            y.append(["DET", "NOUN", "VERB", "ADJ"])
        else:
            X.append(["they", "run", "fast"])
            y.append(["PRON", "VERB", "ADV"])
    return X, y


def _small(**params):
    defaults = dict(
        embedding_dim=16,
        hidden_size=16,
        char_filters=16,
        max_iter=40,
        learning_rate=0.02,
        early_stopping=False,
        random_state=0,
    )
    return SequenceTagger(**{**defaults, **params})


@pytest.mark.parametrize("crf", [False, True])
def test_sequence_tagger_uses_the_context(crf):
    """Check that the same word gets the tag its context calls for."""
    rng = np.random.RandomState(0)
    X, y = _context_task(rng, 40)
    tagger = _small(crf=crf).fit(X, y)
    assert tagger.predict([["they", "run", "fast"], ["the", "run", "was", "long"]]) == [
        ["PRON", "VERB", "ADV"],
        ["DET", "NOUN", "VERB", "ADJ"],
    ]
    assert tagger.score(X, y) == 1.0
    assert tagger.classes_.tolist() == ["ADJ", "ADV", "DET", "NOUN", "PRON", "VERB"]


def _suffix_task(rng, stems, n_sentences):
    X, y = [], []
    for _ in range(n_sentences):
        a, b = rng.choice(stems, size=2)
        X.append(["i", "like", a + "ing", "and", b + "ness"])
        y.append(["PRON", "VERB", "VERB", "CONJ", "NOUN"])
    return X, y


def test_sequence_tagger_character_features_tag_unseen_words():
    """Check that spelling lets the tagger tag words never seen in fit."""
    rng = np.random.RandomState(0)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    stems = ["".join(rng.choice(letters, size=4)) for _ in range(60)]
    X, y = _suffix_task(rng, stems[:30], 60)
    # Unseen stems, in an order that breaks the position cue.
    X_test = [
        ["and", s + "ness", "like", t + "ing"] for s, t in zip(stems[30:], stems[45:])
    ]
    y_test = [["CONJ", "NOUN", "VERB", "VERB"]] * len(X_test)
    with_chars = _small(max_iter=60).fit(X, y)
    without = _small(max_iter=60, char_features=False).fit(X, y)
    assert with_chars.score(X_test, y_test) > 0.95
    assert without.score(X_test, y_test) < with_chars.score(X_test, y_test)
    assert with_chars.char_vocabulary_ is not None and without.char_vocabulary_ is None


def test_sequence_tagger_list_form_outputs():
    """Check predict and predict_proba on token lists, empty sentences included."""
    rng = np.random.RandomState(0)
    X, y = _context_task(rng, 20)
    for crf in (False, True):
        tagger = _small(max_iter=5, crf=crf).fit(X, y)
        sentences = [["they", "run"], [], ["zyzzyva", "😀", "电影"]]
        predicted = tagger.predict(sentences)
        assert [len(tags) for tags in predicted] == [2, 0, 3]
        assert all(tag in tagger.classes_ for tags in predicted for tag in tags)
        proba = tagger.predict_proba(sentences)
        assert [p.shape for p in proba] == [(2, 6), (0, 6), (3, 6)]
        assert_allclose(np.concatenate(proba).sum(axis=1), 1.0, rtol=1e-6)
        log_proba = tagger.predict_log_proba(sentences)
        assert_allclose(np.exp(log_proba[0]), proba[0])


def test_sequence_tagger_matrix_form_shapes():
    """Check the matrix form: y of 1 or several columns, tags ignored at padding."""
    rng = np.random.RandomState(0)
    X = rng.randint(1, 6, size=(30, 6))
    X[:10, 4:] = 0
    Y = (X[:, :5] > 2).astype(int)
    tagger = _small(max_iter=3).fit(X, Y)
    assert tagger.predict(X).shape == (30, 5)
    proba = tagger.predict_proba(X)
    assert len(proba) == 5 and proba[0].shape == (30, 2)
    one = _small(max_iter=3).fit(X, Y[:, 0])
    assert one.predict(X).shape == (30,)
    assert one.predict_proba(X).shape == (30, 2)
    with pytest.raises(ValueError, match="tags 7 positions"):
        _small().fit(X, np.zeros((30, 7), dtype=int))


@pytest.mark.parametrize(
    "X, y, message",
    [
        (["a sentence"], [["A"]], "token lists"),
        ([["a", "b"]], [["A"]], "2 tokens but 1 tags"),
        ([["a", 3]], [["A", "B"]], "must be a str"),
        ([["a"], ["b"]], [["A"]], "one per sentence"),
        ([["a"], ["b"]], [["A"], ["A"]], "at least 2 classes"),
    ],
)
def test_sequence_tagger_rejects_bad_token_lists(X, y, message):
    """Check the errors for raw strings, misaligned tags, non-str tokens, one tag."""
    with pytest.raises((TypeError, ValueError), match=message):
        _small().fit(X, y)


def test_sequence_tagger_list_form_estimator_behaviours():
    """Check clone, pickling, idempotent fits, subsets and the mixing of forms."""
    rng = np.random.RandomState(0)
    X, y = _context_task(rng, 20)
    tagger = _small(max_iter=5, crf=True).fit(X, y)
    with pytest.raises(NotFittedError):
        clone(tagger).predict(X)
    restored = pickle.loads(pickle.dumps(tagger))
    assert restored.predict(X) == tagger.predict(X)
    refitted = clone(tagger).fit(X, y)
    assert_allclose(
        np.concatenate(refitted.predict_proba(X)),
        np.concatenate(tagger.predict_proba(X)),
    )
    whole = tagger.predict_proba(X)
    for part in (slice(0, 1), slice(1, 7), slice(7, None)):
        for a, b in zip(tagger.predict_proba(X[part]), whole[part]):
            assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fitted on token lists"):
        tagger.predict(np.ones((2, 3)))


@pytest.mark.parametrize("crf, char_features", [(False, True), (True, False)])
def test_sequence_tagger_empty_sentences_get_empty_tag_lists(crf, char_features):
    """Check that an empty sentence gets no tag, alone or among others."""
    X = [["the", "cat"], ["a", "dog", "ran"]]
    y = [["DET", "NOUN"], ["DET", "NOUN", "VERB"]]
    tagger = _small(max_iter=2, crf=crf, char_features=char_features).fit(X, y)
    assert tagger.predict([[]]) == [[]]
    assert tagger.predict([[], []]) == [[], []]
    assert tagger.predict([["the", "cat"], []]) == [tagger.predict(X[:1])[0], []]
    (proba,) = tagger.predict_proba([[]])
    assert proba.shape == (0, 3)
    by_ids = _small(max_iter=2, crf=crf).fit(np.array([[2, 3], [3, 2]]), [0, 1])
    with pytest.raises(ValueError, match="0 feature"):
        by_ids.predict([[]])


def test_sequence_tagger_pickles_only_what_predicts():
    """Check that a fitted tagger pickles about the weights it reads."""
    X = [["the", "cat", "sat"], ["a", "dog", "ran"]] * 6
    y = [["DET", "NOUN", "VERB"]] * 12
    tagger = SequenceTagger(max_iter=1, random_state=0).fit(X, y)
    assert_pickle_holds_what_predicts(tagger, tagger.net_.module_)


def test_sequence_tagger_grid_search_in_parallel_on_token_lists():
    """Check a 2-process GridSearchCV with the token-accuracy scorer.

    Tag lists of different lengths cannot be stratified (scikit-learn reads
    them as the legacy multi-label format): the folds come from KFold.
    """
    rng = np.random.RandomState(0)
    X, y = _context_task(rng, 24)
    with pytest.raises(ValueError, match="legacy multi-label"):
        GridSearchCV(_small(max_iter=1), {"crf": [False]}, cv=2).fit(X, y)
    search = GridSearchCV(
        _small(max_iter=10),
        {"crf": [False, True], "hidden_size": [8]},
        scoring=token_accuracy_scorer,
        cv=KFold(2),
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:2]) == y[:2]


def _most_frequent_tags(X_train, y_train, X_test):
    by_word, overall = defaultdict(Counter), Counter()
    for words, tags in zip(X_train, y_train):
        for word, tag in zip(words, tags):
            by_word[word][tag] += 1
            overall[tag] += 1
    top = overall.most_common(1)[0][0]
    return [
        [by_word[w].most_common(1)[0][0] if w in by_word else top for w in words]
        for words in X_test
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("turkish_treebanks") is None,
    reason="needs `turkish-treebanks` (pip install --no-deps turkish-treebanks==1.0.0)",
)
def test_sequence_tagger_ud_turkish_slice():
    """Check that UPOS tagging on a Turkish treebank slice beats the tag lookup.

    1,000 training and 300 test sentences of the benchmark's split
    (``train_test_split(test_size=0.2, random_state=0)``), 8 epochs; the full
    run is benchmarks/bench_tagger.py.
    """
    from sklearn.model_selection import train_test_split

    from sklearn_histai.datasets import load_ud_turkish
    from sklearn_histai.text import token_accuracy_score

    X, y = load_ud_turkish(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    X_train, y_train, X_test, y_test = (
        X_train[:1000],
        y_train[:1000],
        X_test[:300],
        y_test[:300],
    )
    tagger = SequenceTagger(
        embedding_dim=32,
        hidden_size=32,
        char_filters=32,
        max_iter=8,
        batch_size=32,
        learning_rate=0.01,
        early_stopping=False,
        random_state=0,
    ).fit(X_train, y_train)
    # Each word's most frequent training tag (the overall one for unseen
    # words) measured 0.862 on these test tokens; the tagger measured 0.891
    # (0.876 after 4 epochs, 0.891 after 12 too).
    baseline = token_accuracy_score(
        y_test, _most_frequent_tags(X_train, y_train, X_test)
    )
    assert tagger.score(X_test, y_test) >= baseline + 0.02


@pytest.mark.parametrize("char_embedding_dim", [3, 7])
def test_sequence_tagger_char_embedding_dim_sizes_the_character_table(
    char_embedding_dim,
):
    """Check that each character gets a vector of char_embedding_dim numbers."""
    X, y = _context_task(np.random.RandomState(0), 10)
    tagger = _small(max_iter=1, char_embedding_dim=char_embedding_dim).fit(X, y)
    chars = tagger.net_.module_.chars
    # One row per character seen, after the padding and unknown rows.
    n_chars = len(tagger.char_vocabulary_) + 2
    assert chars.embedding.weight.shape == (n_chars, char_embedding_dim)
    assert chars.conv.in_channels == char_embedding_dim


@pytest.mark.parametrize("max_word_length, same", [(4, True), (20, False)])
def test_sequence_tagger_max_word_length_bounds_the_characters_read(
    max_word_length, same
):
    """Check that words sharing their first and last characters read alike.

    Two unseen words (one unknown token) of 10 characters that differ only
    in their middle: at most 4 characters, both read as "th" + "ng".
    """
    X, y = _context_task(np.random.RandomState(0), 10)
    tagger = _small(max_iter=2, max_word_length=max_word_length).fit(X, y)
    first, second = (
        tagger.predict_proba([["they", word, "fast"]])[0]
        for word in ("therunlong", "thewaslong")
    )
    assert np.allclose(first, second, rtol=1e-6) is same


def test_sequence_tagger_min_frequency_reads_rare_tokens_as_unknown():
    """Check that tokens seen fewer than min_frequency times share the unknown token."""
    X, y = _context_task(np.random.RandomState(0), 10)
    X, y = X + [["the", "rare", "was", "long"]], y + [["DET", "NOUN", "VERB", "ADJ"]]
    params = dict(max_iter=2, char_features=False)
    pruned = _small(min_frequency=2, **params).fit(X, y)
    assert "rare" not in pruned.vocabulary_
    assert "the" in pruned.vocabulary_
    rare, unseen = (
        pruned.predict_proba([["the", word, "was"]])[0] for word in ("rare", "zzz")
    )
    assert_allclose(rare, unseen, rtol=1e-6)

    kept = _small(min_frequency=1, **params).fit(X, y)
    assert "rare" in kept.vocabulary_
    rare, unseen = (
        kept.predict_proba([["the", word, "was"]])[0] for word in ("rare", "zzz")
    )
    assert not np.allclose(rare, unseen, rtol=1e-6)
