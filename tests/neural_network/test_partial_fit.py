"""partial_fit: one epoch per call, continuing the network and its optimizer."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    RNNRegressor,
    TransformerEncoderClassifier,
)
from sklearn_histai.text import EmbeddingBagClassifier

from estimator_instances import assert_state_unchanged


def _tokens(n_samples=240, random_state=0):
    """Token-id rows whose class is whether token 3 occurs."""
    rng = np.random.RandomState(random_state)
    X = rng.randint(4, 30, size=(n_samples, 10))
    y = (rng.rand(n_samples) < 0.5).astype(int)
    X[y == 1, rng.randint(0, 10, size=(y == 1).sum())] = 3
    return X, y


def _tabular(n_samples=240):
    return make_classification(n_samples, 8, n_informative=5, random_state=0)


CLASSIFIERS = {
    "feedforward": (lambda: FeedForwardClassifier(random_state=0), _tabular),
    "cnn": (lambda: CNNClassifier(random_state=0), _tokens),
    "lstm": (lambda: LSTMClassifier(random_state=0), _tokens),
    "transformer": (lambda: TransformerEncoderClassifier(random_state=0), _tokens),
    "embedding_bag": (lambda: EmbeddingBagClassifier(random_state=0), _tokens),
}


def _blocks(X, y, n_blocks):
    return zip(np.array_split(X, n_blocks), np.array_split(y, n_blocks))


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_partial_fit_trains_one_epoch_per_call(name):
    """Check epochs, Adam's step count across calls and that training helps."""
    make, data = CLASSIFIERS[name]
    X, y = data()
    clf = make()
    for _ in range(6):
        for X_block, y_block in _blocks(X, y, 3):
            clf.partial_fit(X_block, y_block, classes=[0, 1])
    assert clf.n_iter_ == len(clf.history_) == len(clf.loss_curve_) == 18
    # Adam's moments carry over: one step per batch of every call.
    state = next(iter(clf.net_.optimizer_.state_dict()["state"].values()))
    assert int(state["step"]) == 18  # each block of 80 rows is one batch
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_partial_fit_calls_train_as_fit_epochs(name):
    """Check that n calls over the data train about as well as n epochs of fit.

    The two differ only in the order of the rows (each call reshuffles
    from its own seed) and in fit's convergence warning.
    """
    make, data = CLASSIFIERS[name]
    X, y = data()
    incremental = make().set_params(batch_size=80)
    for _ in range(12):
        incremental.partial_fit(X, y)
    fitted = make().set_params(
        batch_size=80, max_iter=12, early_stopping=False, n_iter_no_change=100
    )
    with pytest.warns(ConvergenceWarning):
        fitted.fit(X, y)
    np.testing.assert_allclose(
        incremental.loss_curve_[-1], fitted.loss_curve_[-1], rtol=0.15
    )
    assert abs(incremental.score(X, y) - fitted.score(X, y)) <= 0.1


def test_first_call_needs_every_class():
    """Check the classes of the first call, and labels outside them later."""
    X, y = _tabular()
    y3 = np.where(np.arange(len(y)) % 7 == 0, 2, y)
    clf = FeedForwardClassifier(random_state=0)
    clf.partial_fit(X[:50], y3[:50], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2]
    # Later calls may omit classes, or repeat the same ones.
    clf.partial_fit(X[50:100], y[50:100])
    clf.partial_fit(X[100:150], y[100:150], classes=[2, 1, 0])
    with assert_state_unchanged(clf):
        with pytest.raises(ValueError, match="not the same as the classes"):
            clf.partial_fit(X[:50], y[:50], classes=[0, 1])
    fresh = FeedForwardClassifier()
    with pytest.raises(ValueError, match="not among the classes passed"):
        fresh.partial_fit(X[:50], y3[:50], classes=[0, 1])
    assert not hasattr(fresh, "net_")
    # Without classes, the first call learns those of its y.
    first = FeedForwardClassifier(random_state=0).partial_fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="classes seen in the first fit"):
        first.partial_fit(X[:50], y3[:50])


def test_failed_call_leaves_the_model_as_it_was():
    """Check weights, history and optimizer state after a partial_fit that raised."""
    X, y = _tabular()
    clf = FeedForwardClassifier(random_state=0).partial_fit(X, y)
    weights = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    step = clf.net_.optimizer_.state_dict()["state"][0]["step"].clone()
    bad = X.copy()
    bad[5, 0] = np.nan
    with assert_state_unchanged(clf), pytest.raises(ValueError, match="NaN"):
        clf.partial_fit(bad, y)
    with assert_state_unchanged(clf), pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :4], y)
    for key, value in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(value, weights[key], rtol=0, atol=0)
    assert clf.net_.optimizer_.state_dict()["state"][0]["step"] == step
    assert clf.n_iter_ == 1


def test_scheduled_learning_rate_is_refused():
    """Check the error for a schedule partial_fit cannot follow."""
    X, y = _tabular()
    for params in ({"lr_schedule": "cosine"}, {"warmup_fraction": 0.1}):
        clf = FeedForwardClassifier(**params)
        with pytest.raises(ValueError, match="constant learning rate"):
            clf.partial_fit(X, y)
        assert not hasattr(clf, "net_")


def test_partial_fit_continues_a_fit():
    """Check that partial_fit trains the fitted network further."""
    X, y = _tabular()
    clf = FeedForwardClassifier(max_iter=5, random_state=0).fit(X, y)
    module = clf.net_.module_
    before = clf.predict_proba(X)
    clf.partial_fit(X, y)
    assert clf.net_.module_ is module  # the same network, trained further
    assert clf.n_iter_ == 6
    assert not np.allclose(clf.predict_proba(X), before)


def test_pickled_model_continues_where_it_stopped():
    """Check that a pickle between calls changes nothing (Incremental's case).

    dask-ml moves a model between workers from one block to the next: the
    optimizer's state must travel with it.
    """
    X, y = _tabular()
    clf = FeedForwardClassifier(random_state=0).partial_fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    state = restored.net_.optimizer_.state_dict()["state"][0]
    assert int(state["step"]) == 2  # 240 rows: batches of 200 and 40
    clf.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # A model trained by fit pickles without the optimizer's moments: it
    # loads as it was after fit, with an optimizer that holds none.
    fitted = FeedForwardClassifier(max_iter=2, random_state=0).fit(X, y)
    assert fitted.__getstate__()["_network_state"]["optimizer_states"] is None
    assert not pickle.loads(pickle.dumps(fitted)).net_.optimizer_.state


def test_fit_after_partial_fit_starts_afresh():
    """Check that fit (without warm_start) trains a new network."""
    X, y = _tabular()
    clf = FeedForwardClassifier(max_iter=3, random_state=0)
    clf.partial_fit(X, y).partial_fit(X, y)
    clf.fit(X, y)
    fresh = FeedForwardClassifier(max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))
    assert clf.n_iter_ == fresh.n_iter_
    # fit releases the optimizer's moments, which only partial_fit keeps.
    assert not clf.net_.optimizer_.state


def test_regressor_partial_fit_standardises_with_the_first_block():
    """Check the regressors' target scaling and blockwise training."""
    X, y = make_regression(300, 6, noise=1.0, random_state=0)
    y = 1000 + 50 * y
    reg = FeedForwardRegressor(random_state=0)
    for _ in range(30):
        for X_block, y_block in _blocks(X, y, 3):
            reg.partial_fit(X_block, y_block)
    np.testing.assert_allclose(reg.y_mean_, [y[:100].mean()])
    assert reg.n_iter_ == 90
    assert reg.score(X, y) > 0.9
    Xs = np.random.RandomState(0).rand(60, 5, 2)
    ys = Xs.sum(axis=(1, 2))
    rnn = RNNRegressor(n_features_per_step=2, random_state=0)
    rnn.partial_fit(Xs.reshape(60, -1), ys).partial_fit(Xs.reshape(60, -1), ys)
    assert rnn.n_iter_ == 2


def test_same_seed_same_model():
    """Check that partial_fit is reproducible and shuffles each call afresh."""
    X, y = _tabular()

    def train():
        clf = FeedForwardClassifier(batch_size=16, random_state=0)
        for _ in range(3):
            clf.partial_fit(X, y)
        return clf

    first, second = train(), train()
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert (
        first.net_.iterator_train__seed
        != FeedForwardClassifier(batch_size=16, random_state=0)
        .partial_fit(X, y)
        .net_.iterator_train__seed
    )


def test_changed_training_parameter_takes_a_fresh_optimizer():
    """Check that set_params between calls is honoured, not a stale optimizer kept."""
    X, y = _tabular()
    clf = FeedForwardClassifier(random_state=0).partial_fit(X, y).partial_fit(X, y)
    assert int(clf.net_.optimizer_.state_dict()["state"][0]["step"]) == 4
    clf.set_params(learning_rate=1e-2, weight_decay=1e-3)
    clf.partial_fit(X, y)
    optimizer = clf.net_.optimizer_
    assert optimizer.param_groups[0]["lr"] == 1e-2
    assert optimizer.param_groups[0]["weight_decay"] == 1e-3
    assert int(optimizer.state_dict()["state"][0]["step"]) == 2
    assert clf.n_iter_ == 3  # the network and its history carry on
    # Settings that each call sets itself keep the optimizer.
    clf.set_params(batch_size=50, random_state=1)
    clf.partial_fit(X, y)
    assert int(clf.net_.optimizer_.state_dict()["state"][0]["step"]) == 7
