"""Tests of the causal Transformer language model and its network."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_histai.nn import CausalTransformerNet
from sklearn_histai.nn._transformer import _windows
from sklearn_histai.text import TransformerLanguageModel

SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 10


def _model(**params):
    defaults = dict(d_model=16, num_heads=2, max_iter=60, learning_rate=0.01)
    return TransformerLanguageModel(**{**defaults, "random_state": 0, **params})


@pytest.mark.parametrize("n_steps, context, stride", [(5, 8, 4), (20, 8, 4), (9, 4, 1)])
def test_windows_score_every_step_once(n_steps, context, stride):
    scored = []
    for start, end, score_from in _windows(n_steps, context, stride):
        assert 0 <= start <= score_from < end <= n_steps
        assert end - start <= context
        scored.extend(range(score_from, end))
    assert scored == list(range(n_steps))


def test_scores_are_causal():
    """Each token's score is that of the network reading its prefix only."""
    torch.manual_seed(0)
    net = CausalTransformerNet(12, d_model=8, num_heads=2, context_length=16)
    net = net.double().eval()
    X = torch.tensor([[1, 5, 7, 3, 9, 2, 0, 0]])
    scores = net(X)[0]
    for t in range(1, 6):
        expected = net.next_log_probs(X[:, :t])[0, X[0, t]]
        assert torch.allclose(scores[t - 1], expected)
    assert (scores[5:] == 0).all()


def test_long_rows_are_scored_with_context():
    """Past the context, tokens are scored from a window of half the context."""
    torch.manual_seed(0)
    net = CausalTransformerNet(12, d_model=8, num_heads=2, context_length=4)
    net = net.double().eval()
    X = torch.randint(3, 12, (1, 10))
    scores = net(X)[0]
    # Token 6 (predicted from ids 0..5) is in the window [2, 6) of stride 2.
    expected = net.next_log_probs(X[:, 2:6])[0, X[0, 6]]
    assert torch.allclose(scores[5], expected)


def test_learns_and_generates():
    lm = _model().fit(SENTENCES)
    assert lm.perplexity([["the", "cat", "sat"]]) < lm.perplexity([["sat", "the", "a"]])
    assert lm.generate(["a"], max_tokens=5, temperature=0) == ["cat", "ran"]
    tokens = lm.generate(max_tokens=4, top_k=2, random_state=0)
    assert 1 <= len(tokens) <= 4


def test_score_is_mean_log_likelihood_per_token():
    lm = _model(max_iter=5).fit(SENTENCES)
    X = [["the", "cat", "sat"], ["a", "dog"]]
    total = lm.score_samples(X).sum()
    assert lm.score(X) == pytest.approx(total / (3 + 2 + 2))
    assert lm.perplexity(X) == pytest.approx(np.exp(-lm.score(X)))


def test_tied_and_adaptive_output_layers():
    tied = _model(max_iter=2).fit(SENTENCES)
    module = tied.net_.module_
    assert module.output.decoder.weight is module.embedding.weight
    adaptive = _model(max_iter=2, softmax="adaptive", tie_weights=False).fit(SENTENCES)
    assert adaptive.net_.module_.output.adaptive is not None
    restored = pickle.loads(pickle.dumps(adaptive))
    assert_allclose(
        restored.score_samples(SENTENCES), adaptive.score_samples(SENTENCES)
    )
    with pytest.raises(ValueError, match="tie_weights"):
        _model(softmax="adaptive").fit(SENTENCES)


def test_rows_longer_than_the_context():
    rows = [sum(SENTENCES[:6], [])] * 4  # rows of 18 tokens
    lm = _model(context_length=6, max_iter=30).fit(rows)
    assert lm.net_.module_.positions.shape == (6, 16)
    assert np.isfinite(lm.score_samples(rows)).all()
    assert lm.perplexity(rows) < 3


def test_heads_must_divide_d_model():
    lm = TransformerLanguageModel(d_model=10, num_heads=4)
    with pytest.raises(ValueError, match="num_heads=4 must divide d_model=10"):
        lm.fit(SENTENCES)
    assert not hasattr(lm, "vocabulary_")
