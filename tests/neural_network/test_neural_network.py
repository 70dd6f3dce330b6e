"""Check the behaviour the neural estimators share through their base class."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import compute_sample_weight

from sklearn_histai._torch import _runtime, _skorch, _supervised
from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    RNNClassifier,
    RNNRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def blobs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def test_cnn_classifier_digits_accuracy():
    """Check that the LeNet-style CNN reaches 0.95 test accuracy on digits."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16).astype(np.float32), y, test_size=0.25, random_state=0, stratify=y
    )
    clf = CNNClassifier(
        image_shape=(1, 8, 8), batch_size=32, max_iter=30, random_state=0
    )
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.95


def test_feedforward_classifier_breast_cancer_accuracy():
    """Check that a feed-forward net reaches 0.95 CV accuracy on breast cancer."""
    X, y = load_breast_cancer(return_X_y=True)
    clf = make_pipeline(StandardScaler(), FeedForwardClassifier(random_state=0))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    assert cross_val_score(clf, X.astype(np.float32), y, cv=cv).mean() >= 0.95


def test_feedforward_regressor_diabetes_defaults():
    """Check that the regressor with its defaults reaches R² 0.35 on diabetes."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    reg = FeedForwardRegressor(random_state=0).fit(X_train, y_train)
    assert reg.score(X_test, y_test) >= 0.35


@pytest.mark.parametrize("Estimator", [FeedForwardClassifier, RNNClassifier])
def test_neural_estimator_same_seed_same_model(Estimator, blobs):
    """Check that the same random_state gives identical predictions."""
    X, y = blobs
    first = Estimator(max_iter=5, random_state=3).fit(X, y)
    second = Estimator(max_iter=5, random_state=3).fit(X, y)
    other = Estimator(max_iter=5, random_state=4).fit(X, y)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_neural_estimator_leaves_global_random_state_alone(blobs):
    """Check that fitting neither reads nor moves torch's or numpy's global RNG."""
    X, y = blobs
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    FeedForwardClassifier(max_iter=3, random_state=0, dropout=0.2).fit(X, y)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert_array_equal(numpy_state, np.random.get_state()[1])


def test_neural_estimator_does_not_modify_input(blobs):
    """Check that fit and predict leave the caller's arrays unchanged."""
    X, y = blobs
    X_copy, y_copy = X.copy(), y.copy()
    weights = np.ones(len(y))
    FeedForwardClassifier(max_iter=3, random_state=0).fit(X, y, weights).predict(X)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert_array_equal(weights, 1)


def test_neural_estimator_restores_thread_count(blobs):
    """Check that the thread count chosen for a fit is restored afterwards."""
    X, y = blobs
    before = torch.get_num_threads()
    FeedForwardClassifier(max_iter=2, num_threads=2, random_state=0).fit(X, y)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("flushing_before", [False, True])
def test_neural_estimator_flushes_denormals_while_it_runs(
    blobs, monkeypatch, flushing_before
):
    """Check that subnormal floats are flushed in fit and predict, then restored.

    Vanishing gradients of long recurrences underflow into subnormal floats,
    which make x86 arithmetic many times slower.
    """
    X, y = blobs
    seen = []
    build = FeedForwardClassifier._build_module

    def recording_build(self):
        module = build(self)
        module.register_forward_pre_hook(
            lambda *_: seen.append(_runtime.flushes_denormals())
        )
        return module

    monkeypatch.setattr(FeedForwardClassifier, "_build_module", recording_build)
    if not torch.set_flush_denormal(flushing_before):
        pytest.skip("this CPU cannot flush subnormal floats")
    try:
        est = FeedForwardClassifier(max_iter=2, random_state=0).fit(X, y)
        n_fit = len(seen)
        est.predict(X)
        assert n_fit > 0 and len(seen) > n_fit
        assert all(seen)
        assert _runtime.flushes_denormals() is flushing_before
    finally:
        torch.set_flush_denormal(False)


def test_neural_estimator_auto_threads_is_one_for_small_nets():
    """Check that "auto" gives small nets one thread and big ones torch's setting."""
    small = torch.nn.Linear(10, 10)
    big = torch.nn.Linear(4000, 4000)
    before = torch.get_num_threads()
    # conftest.py pins torch to one thread, where both answers would be 1.
    torch.set_num_threads(3)
    try:
        auto = FeedForwardClassifier()
        assert auto._threads_for(small, 200) == 1
        assert auto._threads_for(big, 200) == 3
        assert FeedForwardClassifier(num_threads=2)._threads_for(big, 200) == 2
    finally:
        torch.set_num_threads(before)


def test_neural_estimator_pickle_roundtrip(blobs):
    """Check that a pickled model predicts exactly like the original."""
    X, y = blobs
    clf = LSTMClassifier(hidden_size=8, max_iter=3, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(clf.predict_proba(X), restored.predict_proba(X))


def test_neural_estimator_in_model_selection_tools(blobs):
    """Check that clone, grid search, cross_validate and calibration get it right."""
    X, y = blobs
    clf = FeedForwardClassifier(
        hidden_layer_sizes=(8,), learning_rate=0.03, max_iter=20, random_state=0
    )
    assert_array_equal(
        clone(clf).fit(X, y).predict_proba(X), clone(clf).fit(X, y).predict_proba(X)
    )
    # A learning rate of 1e-6 cannot learn in 20 epochs: the search must see it.
    search = GridSearchCV(
        clf,
        {"hidden_layer_sizes": [(4,), (8,)], "learning_rate": [1e-6, 0.03]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert search.best_params_["learning_rate"] == 0.03
    scores = search.cv_results_["mean_test_score"]
    stalled = search.cv_results_["param_learning_rate"] == 1e-6
    assert scores[~stalled].min() > scores[stalled].max() + 0.2
    refit = clone(clf).set_params(**search.best_params_).fit(X, y)
    assert_array_equal(search.predict_proba(X), refit.predict_proba(X))

    cv = StratifiedKFold(3)
    scores = cross_validate(clf, X, y, cv=cv)["test_score"]
    for (train, test), score in zip(cv.split(X, y), scores):
        fold = clone(clf).fit(X[train], y[train])
        assert score == fold.score(X[test], y[test])
    majority = cross_validate(DummyClassifier(), X, y, cv=cv)["test_score"]
    # Measured 0.975 per fold against 0.53 for the majority class.
    assert scores.mean() > majority.mean() + 0.3

    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    calibrated = CalibratedClassifierCV(clf, cv=2).fit(X_train, y_train)
    assert roc_auc_score(y_test, calibrated.predict_proba(X_test)[:, 1]) > 0.9


def test_neural_classifier_binary_proba_is_two_columns(blobs):
    """Check that binary predict_proba is (n, 2), sums to one, matches predict."""
    X, y = blobs
    clf = FeedForwardClassifier(max_iter=5, random_state=0).fit(
        X, np.array(["a", "b"])[y]
    )
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1)
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_neural_estimator_early_stopping_restores_best(blobs):
    """Check that early stopping stops, records validation and keeps the best epoch."""
    X, y = blobs
    clf = FeedForwardClassifier(
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=500,
        learning_rate=0.05,
        random_state=0,
        device="cpu",  # the loss is recomputed below on CPU tensors
    ).fit(X, y)
    assert clf.n_iter_ < 500
    valid_losses = [row["valid_loss"] for row in clf.history_]
    assert all("valid_score" in row for row in clf.history_)
    best = int(np.argmin(valid_losses))
    assert clf.n_iter_ - 1 - best >= 3
    # The restored weights give the best epoch's validation loss.
    net = clf.net_
    valid = net.train_split.keywords["valid_ds"]
    with torch.no_grad():
        loss = net.get_loss(net.module_(valid.X), (valid.y, valid.sample_weight))
    assert loss.item() == pytest.approx(valid_losses[best], rel=1e-5)


def test_neural_estimator_too_few_samples_for_validation():
    """Check that an impossible validation split names validation_fraction."""
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([0, 1, 1])
    clf = FeedForwardClassifier(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="validation_fraction"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_neural_estimator_rejects_nan_and_wrong_feature_count(blobs):
    """Check the errors for non-finite input and a wrong number of features."""
    X, y = blobs
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        FeedForwardClassifier().fit(X_nan, y)
    clf = FeedForwardClassifier(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_neural_estimator_diverging_loss_raises_and_leaves_unfitted(blobs):
    """Check that a non-finite loss raises a clear error and fits nothing."""
    X, y = blobs
    reg = FeedForwardRegressor(learning_rate=1e12, optimizer="sgd", max_iter=20)
    with pytest.raises(FloatingPointError, match="learning_rate"):
        reg.fit(X * 1e3, y)
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_neural_estimator_warm_start_failure_restores_model(blobs):
    """Check that a failing warm-start fit leaves the previous model intact."""
    X, y = blobs
    reg = FeedForwardRegressor(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    before = reg.predict(X)
    reg.set_params(learning_rate=1e12, optimizer="sgd")
    with pytest.raises(FloatingPointError):
        reg.fit(X * 1e3, y)
    assert_array_equal(reg.predict(X), before)
    assert reg.n_iter_ == 3


def test_neural_estimator_keyboard_interrupt_keeps_last_epoch(blobs, monkeypatch):
    """Check that an interrupt mid-epoch is raised, keeping the last full epoch."""
    X, y = blobs
    calls = {"n": 0}
    train_step = _skorch.WeightedNet.train_step

    def interrupted(self, batch, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8:  # the 2nd batch of the 4th epoch
            raise KeyboardInterrupt
        return train_step(self, batch, **kwargs)

    monkeypatch.setattr(_skorch.WeightedNet, "train_step", interrupted)
    clf = FeedForwardClassifier(batch_size=60, max_iter=10, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    monkeypatch.setattr(_skorch.WeightedNet, "train_step", train_step)
    reference = FeedForwardClassifier(batch_size=60, max_iter=3, random_state=0)
    assert_allclose(clf.predict_proba(X), reference.fit(X, y).predict_proba(X))


def test_neural_estimator_warm_start_continues(blobs):
    """Check that warm_start continues training and accumulates the history."""
    X, y = blobs
    clf = FeedForwardClassifier(max_iter=3, warm_start=True, random_state=0)
    clf.fit(X, y)
    first = clf.loss_curve_[-1]
    clf.fit(X, y)
    assert clf.n_iter_ == 6
    assert clf.loss_curve_[-1] < first


def test_neural_estimator_gradient_accumulation_equals_larger_batch():
    """Check that 2 accumulated batches of 10 equal one batch of 20."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5]
    # float64 on the CPU: the comparison is to 1e-10.
    common = dict(
        optimizer="sgd", learning_rate=0.01, max_iter=4, random_state=0, device="cpu"
    )
    accumulated = FeedForwardRegressor(
        batch_size=10, gradient_accumulation_steps=2, **common
    ).fit(X, y)
    large = FeedForwardRegressor(batch_size=20, **common).fit(X, y)
    assert_allclose(accumulated.predict(X), large.predict(X), rtol=1e-10)


def test_neural_estimator_sample_weight_and_class_weight(blobs):
    """Check that zero weights drop rows and class_weight acts as sample weights."""
    X, y = blobs
    rare = np.flatnonzero(y == 1)
    keep = np.r_[np.flatnonzero(y == 0), rare[:10]]
    # Rows weighted zero must count as absent (one full batch, so batching
    # cannot differ): the other positives are passed with weight 0.
    X_all = np.r_[X[keep], X[rare[10:]]]
    y_all = np.r_[y[keep], y[rare[10:]]]
    zero_for_dropped = np.r_[np.ones(keep.size), np.zeros(rare.size - 10)]
    X, y = X[keep], y[keep]
    common = dict(max_iter=30, batch_size=200, random_state=0)
    plain = FeedForwardClassifier(**common).fit(X, y)
    masked = FeedForwardClassifier(**common).fit(
        X_all, y_all, sample_weight=zero_for_dropped
    )
    assert_allclose(masked.predict_proba(X), plain.predict_proba(X), rtol=1e-5)

    balanced = FeedForwardClassifier(class_weight="balanced", **common).fit(X, y)
    assert balanced.predict(X).sum() > plain.predict(X).sum()
    by_sample = FeedForwardClassifier(**common).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    assert_allclose(by_sample.predict_proba(X), balanced.predict_proba(X), rtol=1e-5)


def test_neural_estimator_lr_schedule_warmup_then_decay():
    """Check the warm-up/decay multiplier and that scheduled training runs."""
    cosine = _skorch.WarmupDecay("cosine", warmup_steps=4, total_steps=12)
    assert [cosine(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert cosine(8) == pytest.approx(0.5)
    assert cosine(12) == pytest.approx(0.0)
    linear = _skorch.WarmupDecay("linear", warmup_steps=0, total_steps=10)
    assert linear(5) == pytest.approx(0.5)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    clf = FeedForwardClassifier(
        lr_schedule="cosine",
        warmup_fraction=0.2,
        optimizer="adamw",
        max_iter=5,
        random_state=0,
    ).fit(X, X[:, 0] > 0)
    lrs = [
        batch["event_lr"]
        for row in clf.net_.history
        for batch in row["batches"]
        if "event_lr" in batch
    ]
    assert max(lrs) == pytest.approx(1e-3, rel=1e-6)
    assert lrs[-1] < 0.2 * max(lrs)


def test_neural_estimator_mixed_precision_bf16_on_cpu(blobs):
    """Check that bf16 autocast trains a usable model on the CPU."""
    X, y = blobs
    clf = FeedForwardClassifier(mixed_precision=True, max_iter=50, random_state=0)
    assert clf.fit(X.astype(np.float32), y).score(X, y) > 0.9
    assert clf.net_.precision == "bf16"


def test_neural_estimator_predicts_in_chunks(blobs, monkeypatch):
    """Check that chunked prediction gives the same outputs as one chunk."""
    X, y = blobs
    reg = RNNRegressor(max_iter=2, random_state=0, device="cpu").fit(X, y)
    whole = reg.predict(X)
    monkeypatch.setattr(RNNRegressor, "_predict_chunk_size", 7)
    assert_allclose(reg.predict(X), whole, rtol=1e-12)


def test_neural_estimator_float32_input_trains_in_float32(blobs):
    """Check that float32 rows keep float32 and float64 rows train in float64."""
    X, y = blobs
    clf32 = FeedForwardClassifier(max_iter=2, device="cpu")
    clf32.fit(X.astype(np.float32), y)
    clf64 = FeedForwardClassifier(max_iter=2, device="cpu").fit(X, y)
    assert next(clf32.net_.module_.parameters()).dtype == torch.float32
    assert next(clf64.net_.module_.parameters()).dtype == torch.float64


def test_neural_estimator_cuda_without_cuda_is_a_clear_error(blobs):
    """Check that asking for CUDA on a machine without it names the parameter."""
    if torch.cuda.is_available():
        pytest.skip("CUDA is available on this machine")
    X, y = blobs
    with pytest.raises(ValueError, match="device"):
        FeedForwardClassifier(device="cuda").fit(X, y)


def test_neural_estimator_convergence_warning(blobs):
    """Check that reaching max_iter while still improving warns."""
    X, y = blobs
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        FeedForwardClassifier(max_iter=2, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in record)


@pytest.mark.parametrize("lr_schedule", ["linear", "cosine"])
def test_decaying_schedule_reaching_max_iter_does_not_warn(blobs, lr_schedule):
    """Check that a schedule decayed to zero at max_iter ends without a warning."""
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = FeedForwardClassifier(
            max_iter=2, lr_schedule=lr_schedule, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ == 2


def test_cnn_image_shape_must_match_features(blobs):
    """Check that an image_shape inconsistent with X names the parameter."""
    X, y = blobs
    with pytest.raises(ValueError, match="image_shape"):
        CNNClassifier(image_shape=(1, 3, 3)).fit(X, y)


def test_recurrent_token_ids_validated_and_padding_masked():
    """Check token-id input: range errors, and padding that changes nothing."""
    rng = np.random.RandomState(0)
    X = rng.randint(1, 20, size=(60, 6))
    X[:30, 4:] = 0  # right padding
    y = (X[:, 0] > 10).astype(int)
    clf = LSTMClassifier(
        vocab_size=20,
        embedding_dim=8,
        hidden_size=8,
        max_iter=5,
        random_state=0,
        device="cpu",  # the module is called below on CPU tensors
    ).fit(X, y)
    with pytest.raises(ValueError, match="vocab_size"):
        clf.predict(X + 20)
    module = clf.net_.module_.eval()
    with torch.no_grad():
        short = module(torch.as_tensor(X[:1, :4]))
    assert_allclose(
        clf.predict_proba(X[:1]), torch.softmax(short, 1).numpy(), rtol=1e-6
    )


def test_recurrent_n_features_per_step_must_divide(blobs):
    """Check that a row that is not whole steps names n_features_per_step."""
    X, y = blobs
    with pytest.raises(ValueError, match="n_features_per_step"):
        RNNClassifier(n_features_per_step=3).fit(X, y)


def test_base_is_not_discovered():
    """Check that the abstract bases stay out of discovery and are abstract."""
    from sklearn_histai.utils import all_estimators

    names = {name for name, _ in all_estimators()}
    assert not names & {"BaseNeuralEstimator", "BaseNeuralClassifier"}
    with pytest.raises(TypeError):
        _supervised.BaseNeuralClassifier()


@pytest.mark.parametrize(
    "cls, params",
    [
        (FeedForwardClassifier, {"hidden_layer_sizes": (8,)}),
        (CNNClassifier, {"channels": (2,), "kernel_size": 3, "dense_size": 8}),
    ],
)
def test_neural_estimator_activation_changes_the_network(cls, params, blobs):
    """Check that each activation gives its own module and its own predictions."""
    X, y = blobs
    layers = {
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "logistic": torch.nn.Sigmoid,
        "gelu": torch.nn.GELU,
        "identity": torch.nn.Identity,
    }
    probas = {}
    for activation, layer in layers.items():
        clf = cls(activation=activation, max_iter=3, random_state=0, **params)
        clf.set_params(device="cpu").fit(X, y)
        kinds = {type(m) for m in clf.net_.module_.modules()}
        assert kinds & set(layers.values()) == {layer}
        probas[activation] = clf.predict_proba(X)
    for first, second in [(a, b) for a in probas for b in probas if a < b]:
        assert not np.allclose(probas[first], probas[second]), (first, second)


def test_feedforward_regressor_identity_activation_is_linear_in_x():
    """Check that activation="identity" makes the network an affine map of X."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    a, b = rng.normal(size=(2, 5, 3))
    origin = np.zeros((1, 3))
    params = dict(
        hidden_layer_sizes=(16, 16), max_iter=20, device="cpu", random_state=0
    )
    linear = FeedForwardRegressor(activation="identity", **params).fit(X, y)
    # An affine map f satisfies f(a + b) + f(0) = f(a) + f(b).
    assert_allclose(
        linear.predict(a + b) + linear.predict(origin),
        linear.predict(a) + linear.predict(b),
        rtol=1e-10,
    )
    relu = FeedForwardRegressor(activation="relu", **params).fit(X, y)
    gap = relu.predict(a + b) + relu.predict(origin) - relu.predict(a) - relu.predict(b)
    assert np.abs(gap).max() > 1e-2


@pytest.mark.parametrize("cls", [RNNClassifier, LSTMClassifier])
def test_recurrent_classifier_pooling_reaches_the_module(cls):
    """Check that pooling is the module's and that each gives other predictions."""
    rng = np.random.RandomState(0)
    X = rng.randint(1, 12, size=(40, 6))
    y = (X.max(axis=1) > 10).astype(int)
    probas = {}
    for pooling in ["last", "max", "mean"]:
        clf = cls(
            vocab_size=12,
            embedding_dim=4,
            hidden_size=4,
            pooling=pooling,
            max_iter=3,
            device="cpu",
            random_state=0,
        ).fit(X, y)
        assert clf.net_.module_.pooling == pooling
        probas[pooling] = clf.predict_proba(X)
    assert not np.allclose(probas["last"], probas["max"])
    assert not np.allclose(probas["last"], probas["mean"])
    assert not np.allclose(probas["max"], probas["mean"])
