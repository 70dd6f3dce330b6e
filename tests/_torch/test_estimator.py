"""Check the effect of the training parameters every neural estimator shares."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from torch.optim.optimizer import register_optimizer_step_post_hook

from sklearn_histai.neural_network import (
    CNNClassifier,
    CNNRegressor,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)
from sklearn_histai.text import (
    EmbeddingBagClassifier,
    LSTMLanguageModel,
    SequenceTagger,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Each neural estimator of float rows, with a network small enough to train
# in milliseconds.
SMALL = {
    FeedForwardClassifier: dict(hidden_layer_sizes=(8,)),
    FeedForwardRegressor: dict(hidden_layer_sizes=(8,)),
    CNNClassifier: dict(channels=(2,), kernel_size=3, dense_size=8),
    CNNRegressor: dict(channels=(2,), kernel_size=3, dense_size=8),
    RNNClassifier: dict(hidden_size=4),
    RNNRegressor: dict(hidden_size=4),
    LSTMClassifier: dict(hidden_size=4),
    LSTMRegressor: dict(hidden_size=4),
    EmbeddingBagClassifier: dict(embedding_dim=4),
}
ESTIMATORS = list(SMALL)


def _data(n_samples=40):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _make(cls, **params):
    return cls(**{**SMALL[cls], "random_state": 0, "device": "cpu", **params})


def _weight_norm(estimator):
    return torch.sqrt(
        sum(p.detach().square().sum() for p in estimator.net_.module_.parameters())
    ).item()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_neural_estimator_weight_decay_shrinks_the_weights(cls):
    """Check that a larger weight_decay ends with a smaller weight norm."""
    X, y = _data()
    params = dict(max_iter=5, batch_size=10, learning_rate=0.01)
    plain = _make(cls, **params).fit(X, y)
    decayed = _make(cls, weight_decay=1.0, **params).fit(X, y)
    assert _weight_norm(decayed) < 0.75 * _weight_norm(plain)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_neural_estimator_verbose_prints_an_epoch_table(cls, capsys):
    """Check that verbose=1 prints one row per epoch and verbose=0 nothing."""
    X, y = _data()
    _make(cls, max_iter=3, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    _make(cls, max_iter=3, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert "epoch" in lines[0] and "train_loss" in lines[0]
    rows = [line.split()[0] for line in lines if line.split()[:1] != ["epoch"]]
    assert [row for row in rows if row.isdigit()] == ["1", "2", "3"]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_neural_estimator_large_tol_stops_earlier(cls):
    """Check that a tol no epoch can beat stops after n_iter_no_change epochs."""
    X, y = _data()
    params = dict(max_iter=6, batch_size=40, n_iter_no_change=2, early_stopping=False)
    patient = _make(cls, tol=0.0, **params).fit(X, y)
    strict = _make(cls, tol=1e3, **params).fit(X, y)
    assert patient.n_iter_ == 6
    # The first epoch sets the reference; the next two miss it by 1e3.
    assert strict.n_iter_ == 3


def _epochs_by_mlp_rule(losses, tol, n_iter_no_change):
    """The epochs scikit-learn's MLP rule runs over ``losses`` (at most all)."""
    best, misses = np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        misses = misses + 1 if loss > best - tol else 0
        best = min(best, loss)
        if misses == n_iter_no_change:
            return epoch
    return len(losses)


@pytest.mark.parametrize("cls", [FeedForwardClassifier, FeedForwardRegressor])
def test_neural_estimator_stops_by_scikit_learns_rule(cls):
    """Check that training stops once n_iter_no_change epochs each miss the best by tol.

    The same epochs as a fit without stopping, up to the epoch where
    scikit-learn's rule (each epoch against the best loss so far) stops.
    """
    X, y = _data(200)
    params = dict(max_iter=150, early_stopping=False, learning_rate=1e-2)
    full = _make(cls, tol=0.0, n_iter_no_change=150, **params).fit(X, y)
    stopped = _make(cls, tol=1e-3, n_iter_no_change=4, **params).fit(X, y)
    expected = _epochs_by_mlp_rule(full.loss_curve_, 1e-3, 4)
    assert 10 < expected < 150
    assert stopped.n_iter_ == expected
    assert_allclose(stopped.loss_curve_, full.loss_curve_[:expected], rtol=1e-12)


@pytest.mark.parametrize("n_samples, validates", [(999, False), (1000, True)])
def test_neural_estimator_early_stopping_auto_switches_at_1000_samples(
    n_samples, validates
):
    """Check that early_stopping="auto" holds data out from 1,000 samples on."""
    X, y = _data(n_samples)
    clf = _make(FeedForwardClassifier, hidden_layer_sizes=(2,), max_iter=1)
    clf.fit(X, y)
    assert ("valid_loss" in clf.history_[0]) is validates
    assert ("valid_score" in clf.history_[0]) is validates


def _count_optimizer_steps(fit):
    steps = []
    handle = register_optimizer_step_post_hook(lambda *args: steps.append(1))
    try:
        fit()
    finally:
        handle.remove()
    return len(steps)


@pytest.mark.parametrize("mixed_precision", [False, "fp16"])
def test_neural_estimator_gradient_accumulation_steps_on_a_partial_last_group(
    mixed_precision,
):
    """Check that a last group shorter than the accumulation steps takes a full step.

    Five batches of 10 accumulated by 2 are the groups (1, 2), (3, 4), (5):
    three optimizer steps, each on the mean gradient of its batches, as
    batches of 20 (the last of 10) take them.
    """
    X, y = _data(50)
    X = X.astype(np.float32)
    params = dict(
        optimizer="sgd",
        learning_rate=0.1,
        max_iter=1,
        mixed_precision=mixed_precision,
    )
    accumulated = _make(
        FeedForwardRegressor, batch_size=10, gradient_accumulation_steps=2, **params
    )
    large = _make(FeedForwardRegressor, batch_size=20, **params)
    assert _count_optimizer_steps(lambda: accumulated.fit(X, y)) == 3
    assert _count_optimizer_steps(lambda: large.fit(X, y)) == 3
    # fp16 runs under a GradScaler, which skips no step here (no overflow).
    assert accumulated.net_.grad_scaler_.is_enabled() is (mixed_precision == "fp16")
    tolerance = 1e-6 if mixed_precision is False else 1e-3
    assert_allclose(accumulated.predict(X), large.predict(X), rtol=tolerance)
    halved = _make(FeedForwardRegressor, batch_size=10, **params).fit(X, y)
    assert not np.allclose(accumulated.predict(X), halved.predict(X), rtol=1e-3)


@pytest.mark.parametrize(
    "mixed_precision, dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)]
)
def test_neural_estimator_mixed_precision_autocasts_on_cpu(mixed_precision, dtype):
    """Check that fit runs under autocast and predicts float64 probabilities."""
    X, y = _data(60)
    X = X.astype(np.float32)
    seen = []

    def record(module, args, output):
        if isinstance(module, torch.nn.Linear) and module.training:
            seen.append(output.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        mixed = _make(
            FeedForwardClassifier, max_iter=20, mixed_precision=mixed_precision
        ).fit(X, y)
    finally:
        handle.remove()
    assert seen and set(seen) == {dtype}
    full = _make(FeedForwardClassifier, max_iter=20).fit(X, y)
    proba = mixed.predict_proba(X)
    assert proba.dtype == np.float64
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert_allclose(proba, full.predict_proba(X), atol=0.05)
    assert next(mixed.net_.module_.parameters()).dtype == torch.float32


def _token_rows(n_samples=24):
    rng = np.random.RandomState(0)
    X = rng.randint(1, 10, size=(n_samples, 5))
    return X, (X[:, 0] > 5).astype(int)


def _tagged_sentences():
    X = [["the", "cat", "sat"], ["a", "dog", "ran", "far"]] * 6
    y = [["D", "N", "V"], ["D", "N", "V", "A"]] * 6
    return X, y


WARM_START_CASES = {
    "cnn": (
        lambda: CNNClassifier(
            vocab_size=10, embedding_dim=4, filter_sizes=(2,), num_filters=4
        ),
        _token_rows,
    ),
    "rnn": (lambda: RNNClassifier(vocab_size=10, embedding_dim=4), _token_rows),
    "lstm": (lambda: LSTMClassifier(vocab_size=10, embedding_dim=4), _token_rows),
    "embedding_bag": (
        lambda: EmbeddingBagClassifier(vocab_size=10, embedding_dim=4),
        _token_rows,
    ),
    "tagger": (
        lambda: SequenceTagger(embedding_dim=4, hidden_size=4, char_filters=4),
        _tagged_sentences,
    ),
    "language_model": (
        lambda: LSTMLanguageModel(embedding_dim=4, hidden_size=4, num_layers=1),
        lambda: (_tagged_sentences()[0], None),
    ),
}


@pytest.mark.parametrize("case", sorted(WARM_START_CASES))
def test_neural_estimator_warm_start_continues_training(case):
    """Check that warm_start keeps the weights, accumulates epochs and history."""
    make, data = WARM_START_CASES[case]
    X, y = data()
    params = dict(max_iter=3, learning_rate=0.01, random_state=0, device="cpu")
    warm = make().set_params(warm_start=True, **params)
    warm.fit(X, y)
    first_fit = list(warm.loss_curve_)
    weights = {k: v.clone() for k, v in warm.net_.module_.state_dict().items()}
    warm.fit(X, y)
    assert warm.n_iter_ == 6
    assert_array_equal(warm.loss_curve_[:3], first_fit)
    assert [row["epoch"] for row in warm.history_] == [1, 2, 3, 4, 5, 6]
    # The second fit goes on from the loss the first one reached: a restart
    # would go back up to about the first epoch's loss.
    assert np.all(np.diff(warm.loss_curve_) < 0)
    changed = [
        not torch.equal(value, weights[key])
        for key, value in warm.net_.module_.state_dict().items()
        if value.is_floating_point()
    ]
    assert any(changed)

    cold = make().set_params(**params).fit(X, y)
    assert cold.fit(X, y).n_iter_ == 3
    assert cold.loss_curve_ == first_fit
