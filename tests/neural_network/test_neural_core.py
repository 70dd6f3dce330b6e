"""Check the shared neural base on the defects a bad-input probe found."""

import threading
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from skorch.history import History

from sklearn_histai._torch import _runtime, _skorch
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
from sklearn_histai.text import EmbeddingBagClassifier, SequenceTagger

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def blobs():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-1, 1, size=(60, 4)), rng.normal(1, 1, size=(60, 4))])
    y = np.repeat([0, 1], 60)
    return X, y


@pytest.mark.parametrize(
    "cls",
    [
        FeedForwardRegressor,
        CNNRegressor,
        RNNRegressor,
        LSTMRegressor,
        SequenceTagger,
    ],
)
def test_neural_estimator_without_class_weight_rejects_it(cls):
    """Check that estimators that cannot honour class_weight refuse it."""
    with pytest.raises(TypeError, match="class_weight"):
        cls(class_weight="balanced")
    assert "class_weight" not in cls().get_params()


def test_neural_estimator_unknown_keyword_raises_type_error():
    """Check that a misspelt parameter is a TypeError, not silently swallowed."""
    with pytest.raises(TypeError, match="hidden_layer_size"):
        FeedForwardClassifier(hidden_layer_size=(5,))


@pytest.mark.parametrize("cls", [FeedForwardClassifier, CNNClassifier, RNNClassifier])
def test_neural_classifier_class_weight_unknown_class_raises(cls, blobs):
    """Check that class_weight naming a class absent from y is refused."""
    X, y = blobs
    clf = cls(class_weight={5: 1.0}, max_iter=1)
    with pytest.raises(ValueError, match=r"class_weight names classes .*\[5\]"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_neural_classifier_class_weight_dict_weighs_classes(blobs):
    """Check that a class_weight dict shifts the predictions toward that class."""
    X, y = blobs
    params = dict(max_iter=30, random_state=0)
    plain = FeedForwardClassifier(**params).fit(X, y).predict_proba(X)[:, 1]
    heavy = FeedForwardClassifier(class_weight={1: 20.0}, **params).fit(X, y)
    assert heavy.predict_proba(X)[:, 1].mean() > plain.mean() + 0.05


@pytest.mark.parametrize("cls", [RNNClassifier, CNNClassifier, EmbeddingBagClassifier])
def test_token_estimator_nan_embeddings_get_one_message(cls):
    """Check that every token-id network rejects NaN embeddings the same way."""
    X = np.tile(np.arange(1, 7), (10, 1))
    y = np.repeat([0, 1], 5)
    embeddings = np.ones((8, 4))
    embeddings[3, 1] = np.nan
    est = cls(vocab_size=8, embeddings=embeddings, max_iter=1)
    with pytest.raises(ValueError, match="embeddings must not contain NaN"):
        est.fit(X, y)


def test_training_guard_names_the_epoch_that_diverged():
    """Check that divergence in the first epoch is reported as epoch 1."""
    history = History()
    history.new_epoch()
    history.record("epoch", 1)
    history.record("train_loss", float("nan"))

    class Net:
        pass

    net = Net()
    net.history = history
    with pytest.raises(FloatingPointError, match="diverged at epoch 1:"):
        _skorch.TrainingGuard().on_epoch_end(net)


def _interrupt_at(monkeypatch, n_call):
    calls = {"n": 0}
    train_step = _skorch.WeightedNet.train_step

    def interrupted(self, batch, **kwargs):
        calls["n"] += 1
        if calls["n"] == n_call:
            raise KeyboardInterrupt
        return train_step(self, batch, **kwargs)

    monkeypatch.setattr(_skorch.WeightedNet, "train_step", interrupted)


def test_neural_estimator_interrupt_in_first_epoch_leaves_it_unfitted(
    blobs, monkeypatch
):
    """Check that Ctrl-C before any completed epoch raises and fits nothing."""
    X, y = blobs
    _interrupt_at(monkeypatch, 1)
    clf = FeedForwardClassifier(max_iter=5, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_neural_estimator_interrupt_with_early_stopping_is_raised(monkeypatch):
    """Check that Ctrl-C with early stopping raises KeyboardInterrupt, not skorch's."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int)
    for n_call in (1, 5):  # in the first epoch, and in a later one
        _interrupt_at(monkeypatch, n_call)
        clf = FeedForwardClassifier(
            early_stopping=True, batch_size=60, max_iter=5, random_state=0
        )
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)


def test_neural_estimator_early_stopping_still_ends_fit_normally(blobs):
    """Check that early stopping's own stop is not mistaken for Ctrl-C."""
    X, y = blobs
    clf = FeedForwardClassifier(
        n_iter_no_change=2, tol=0.01, max_iter=500, random_state=0
    )
    clf.fit(X, y)
    assert clf.n_iter_ < 500


@pytest.mark.parametrize(
    "make",
    [
        lambda: FeedForwardClassifier(dropout=0.1, max_iter=5, random_state=0),
        lambda: LSTMClassifier(
            hidden_size=8, num_layers=2, dropout=0.3, max_iter=3, random_state=0
        ),
    ],
)
def test_neural_estimator_fits_in_threads_are_reproducible(make):
    """Check that fits in concurrent threads equal the same fit run alone."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 8)).astype(np.float32)
    y = (X[:, :2].sum(axis=1) > 0).astype(int)
    alone = make().fit(X, y).predict_proba(X)
    results = [None] * 4
    barrier = threading.Barrier(len(results))

    def fit(i):
        barrier.wait()
        results[i] = make().fit(X, y).predict_proba(X)

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert_array_equal(result, alone)


def test_neural_estimator_leaves_torch_generator_alone(blobs):
    """Check that fitting neither reseeds nor advances torch's global generator."""
    X, y = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    FeedForwardClassifier(dropout=0.2, max_iter=2, random_state=0).fit(X, y)
    assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_neural_estimator_warm_start_refuses_a_new_architecture(blobs):
    """Check that warm_start refuses changed layer sizes instead of ignoring them."""
    X, y = blobs
    clf = FeedForwardClassifier(
        hidden_layer_sizes=(8,), warm_start=True, max_iter=2, random_state=0
    ).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
        clf.fit(X, y)
    assert_array_equal(clf.predict_proba(X), before)
    # Training parameters may change between warm starts.
    clf.set_params(hidden_layer_sizes=(8,), learning_rate=1e-2, max_iter=1)
    assert clf.fit(X, y).n_iter_ == 3


@pytest.mark.parametrize(
    "cls, params, name",
    [
        (FeedForwardClassifier, {"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        (FeedForwardClassifier, {"hidden_layer_sizes": (-3,)}, "hidden_layer_sizes"),
        (FeedForwardRegressor, {"hidden_layer_sizes": (2.5,)}, "hidden_layer_sizes"),
        (CNNClassifier, {"channels": (0,)}, "channels"),
        (CNNRegressor, {"channels": (-2,)}, "channels"),
        (CNNClassifier, {"filter_sizes": ()}, "filter_sizes"),
        (CNNClassifier, {"image_shape": (1, 2, -2)}, "image_shape"),
    ],
)
def test_neural_estimator_rejects_bad_layer_sizes(cls, params, name, blobs):
    """Check that non-positive or fractional layer sizes name the parameter."""
    X, y = blobs
    with pytest.raises(ValueError, match=f"{name} must be .*positive integers"):
        cls(max_iter=1, **params).fit(X, y)


@pytest.mark.parametrize("device", ["tpu", "meta", "not a device", "cuda:x"])
def test_neural_estimator_rejects_unsupported_devices(device, blobs):
    """Check that devices torch cannot train on here give a clear error at fit."""
    X, y = blobs
    clf = FeedForwardClassifier(device=device, max_iter=1)
    with pytest.raises(ValueError, match="device="):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_neural_estimator_accepts_cpu_device_forms(device, blobs):
    """Check that "cpu" and torch.device("cpu") train on the CPU alike."""
    X, y = blobs
    clf = FeedForwardClassifier(device=device, max_iter=2, random_state=0).fit(X, y)
    assert clf.net_.device == "cpu"
    reference = FeedForwardClassifier(max_iter=2, random_state=0, device="cpu")
    assert_allclose(clf.predict_proba(X), reference.fit(X, y).predict_proba(X))


def test_resolve_device_rejects_cuda_without_cuda():
    """Check that a CUDA device is refused with a clear message where none exists."""
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        _runtime.resolve_device("cuda:0")


def test_neural_regressor_warns_when_unscaled_features_defeat_training():
    """Check that features of scale 1e30 warn instead of silently predicting 1e28."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 4))
    y = rng.uniform(size=100)
    with pytest.warns(UserWarning, match="StandardScaler"):
        FeedForwardRegressor(max_iter=20, random_state=0, device="cpu").fit(X * 1e30, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        FeedForwardRegressor(max_iter=20, random_state=0, device="cpu").fit(X, y)


def test_neural_estimator_clone_keeps_explicit_parameters():
    """Check that clone round-trips every explicitly written parameter."""
    clf = LSTMClassifier(hidden_size=7, class_weight="balanced", num_threads=1)
    params = clone(clf).get_params()
    assert params["hidden_size"] == 7
    assert params["class_weight"] == "balanced"
    assert params["num_threads"] == 1


@pytest.mark.parametrize("cls", [CNNClassifier, RNNClassifier, EmbeddingBagClassifier])
def test_token_estimator_sizes_its_table_to_the_ids_seen(cls):
    """Check that ids above those seen in fit share one row, not vocab_size rows."""
    rng = np.random.RandomState(0)
    X = rng.randint(1, 10, size=(40, 6))
    y = (X[:, 0] > 5).astype(int)
    est = cls(vocab_size=100_000, max_iter=2, random_state=0).fit(X, y)
    tables = [
        layer.num_embeddings
        for layer in est.net_.module_.modules()
        if isinstance(layer, torch.nn.Embedding | torch.nn.EmbeddingBag)
    ]
    assert tables == [11]  # ids 0..9 and one row that larger ids share
    unseen = X.copy()
    unseen[:, 2] = 500
    shared = X.copy()
    shared[:, 2] = 99_999
    assert_allclose(est.predict_proba(unseen), est.predict_proba(shared))
    assert not np.allclose(est.predict_proba(unseen), est.predict_proba(X))
