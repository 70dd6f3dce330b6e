"""Check the training craft of the neural estimators: clipping, smoothing, attacks."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch.optim.optimizer import register_optimizer_step_pre_hook

from sklearn_histai._torch._adversarial import Perturbation, normalized, projected
from sklearn_histai.augmentation import (
    AugmentationContext,
    GaussianNoise,
    Mixup,
    RandomShift,
)
from sklearn_histai.augmentation._base import MixedTargets
from sklearn_histai.neural_network import (
    CNNClassifier,
    CNNRegressor,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    RNNRegressor,
    adversarial_examples,
)
from sklearn_histai.text import (
    EmbeddingBagClassifier,
    LSTMLanguageModel,
    SequenceTagger,
)

from estimator_instances import assert_state_unchanged

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n_samples=60, n_features=8, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _token_data(n_samples=60, seed=0):
    rng = np.random.RandomState(seed)
    ids = rng.randint(4, 30, size=(n_samples, 10))
    ids[: n_samples // 2, 7:] = 0  # right padding
    y = (ids[:, 0] > 16).astype(int)
    return ids, y


def _step_gradient_norms(fit):
    """The global gradient norm seen by the optimizer at each of its steps."""
    norms = []

    def record(optimizer, args, kwargs):
        grads = [
            p.grad.float().square().sum()
            for group in optimizer.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        norms.append(torch.sqrt(sum(grads)).item())

    handle = register_optimizer_step_pre_hook(record)
    try:
        fit()
    finally:
        handle.remove()
    return norms


@pytest.mark.parametrize(
    "params",
    [
        dict(batch_size=20),
        dict(batch_size=10, gradient_accumulation_steps=2),
        dict(batch_size=20, mixed_precision="fp16"),
    ],
    ids=["plain", "accumulated", "fp16"],
)
def test_max_grad_norm_bounds_the_gradient_of_each_step(params):
    """Check that each optimizer step sees a gradient of norm at most max_grad_norm."""
    X, y = _data()
    clf = FeedForwardClassifier(
        max_iter=3, learning_rate=0.1, random_state=0, device="cpu", **params
    )
    # Read in float32: fused optimizers unscale fp16 gradients themselves.
    unclipped = _step_gradient_norms(
        lambda: clone(clf).set_params(mixed_precision=False).fit(X, y)
    )
    bound = min(unclipped) / 4
    clipped = _step_gradient_norms(
        lambda: clone(clf).set_params(max_grad_norm=bound).fit(X, y)
    )
    # One norm per optimizer step: accumulated batches are clipped once.
    assert len(clipped) == len(unclipped) == 9
    assert max(clipped) == pytest.approx(bound, rel=1e-3)


def test_max_grad_norm_far_above_the_gradients_changes_nothing():
    """Check that clipping by a bound no gradient reaches is bit-identical to none."""
    X, y = _data()
    clf = FeedForwardClassifier(max_iter=5, random_state=0, device="cpu")
    plain = clone(clf).fit(X, y).predict_proba(X)
    loose = clone(clf).set_params(max_grad_norm=1e9).fit(X, y).predict_proba(X)
    assert_array_equal(plain, loose)


def test_language_model_clips_by_default():
    """Check that the LSTM language model keeps clipping at 5 by default."""
    assert LSTMLanguageModel().max_grad_norm == 5.0
    assert FeedForwardClassifier().max_grad_norm is None


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_label_smoothing_is_torch_loss_with_sample_and_class_weights(smoothing):
    """Check that the first full-batch loss is torch's smoothed cross-entropy."""
    X, y = _data(n_samples=40)
    y = y + (X[:, 2] > 1)  # three classes
    weights = np.linspace(0.5, 2.0, len(y))
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    params = dict(
        max_iter=1,
        batch_size=len(y),
        learning_rate=1e-12,
        class_weight=class_weight,
        label_smoothing=smoothing,
        random_state=0,
        device="cpu",
    )
    clf = FeedForwardClassifier(**params).fit(X, y, sample_weight=weights)
    # The weights hardly moved: the network computes the initial logits.
    logits = clf.net_.module_(torch.from_numpy(X)).detach()
    w = torch.from_numpy(weights * np.array([class_weight[c] for c in y]))
    losses = F.cross_entropy(
        logits.double(),
        torch.from_numpy(y),
        reduction="none",
        label_smoothing=smoothing,
    )
    expected = float((losses * w).sum() / w.sum())
    assert clf.history_[0]["train_loss"] == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_makes_the_network_less_confident():
    """Check that smoothed targets keep the largest probability further from one."""
    X, y = _data(n_samples=200)
    params = dict(
        max_iter=150, learning_rate=0.01, early_stopping=False, random_state=0
    )
    sharp = FeedForwardClassifier(**params).fit(X, y).predict_proba(X).max(axis=1)
    smooth = FeedForwardClassifier(label_smoothing=0.2, **params).fit(X, y)
    smooth = smooth.predict_proba(X).max(axis=1)
    # Smoothed targets of two classes are minimised at p = 0.9.
    assert smooth.mean() == pytest.approx(0.9, abs=0.02)
    assert sharp.mean() > 0.97


def test_tagger_label_smoothing_needs_the_softmax():
    """Check that label smoothing with the CRF raises naming both parameters."""
    sentences, tags = [["a", "b"]] * 4, [["X", "Y"]] * 4
    tagger = SequenceTagger(crf=True, label_smoothing=0.1, max_iter=1)
    with pytest.raises(ValueError, match=r"label_smoothing=0.1 .*\(crf=True\)"):
        tagger.fit(sentences, tags)
    assert not hasattr(tagger, "classes_")


def test_normalized_rows_have_norm_epsilon_and_projection_stays_in_the_ball():
    """Check the FGM step's row norms, joint over tensors, and the L2 projection."""
    rng = torch.Generator().manual_seed(0)
    gradients = [torch.randn(5, 3, 4, generator=rng), torch.randn(5, 2, generator=rng)]
    gradients[0][2] = 0
    gradients[1][2] = 0
    deltas = normalized(gradients, 0.7)
    norms = torch.sqrt(sum(d.flatten(1).square().sum(1) for d in deltas))
    assert_allclose(norms.numpy(), [0.7, 0.7, 0.0, 0.7, 0.7], rtol=1e-5)
    large = [torch.randn(6, 4, generator=rng) * 10, torch.randn(6, 1, generator=rng)]
    large[0][0], large[1][0] = 0.01, 0.0
    inside = projected(large, 2.0)
    norms = torch.sqrt(sum(d.flatten(1).square().sum(1) for d in inside))
    assert torch.all(norms <= 2.0 + 1e-5)
    assert_allclose(inside[0][0].numpy(), large[0][0].numpy())  # already inside


@pytest.mark.parametrize("method", ["fgm", "pgd"])
@pytest.mark.parametrize("cls", [FeedForwardClassifier, CNNRegressor])
def test_adversarial_examples_stay_within_epsilon_and_raise_the_loss(cls, method):
    """Check that attacks move each row by epsilon (FGM) or at most it (PGD)."""
    X, y = _data(n_samples=80)
    target = y if cls is FeedForwardClassifier else X[:, 0] - X[:, 1]
    est = cls(max_iter=30, random_state=0, device="cpu").fit(X, target)
    X_adv = adversarial_examples(est, X, target, method=method, epsilon=0.5, steps=4)
    norms = np.linalg.norm(X_adv - X, axis=1)
    if method == "fgm":
        assert_allclose(norms, 0.5, rtol=1e-4)
    else:
        assert norms.max() <= 0.5 * (1 + 1e-4) and norms.mean() > 0.25
    assert est.score(X_adv, target) < est.score(X, target)


def test_pgd_attack_is_at_least_as_strong_as_fgm():
    """Check that several projected steps find a loss no smaller than one step."""
    X, y = _data(n_samples=200)
    clf = FeedForwardClassifier(max_iter=50, random_state=0, device="cpu").fit(X, y)
    fgm = adversarial_examples(clf, X, y, method="fgm", epsilon=0.8)
    pgd = adversarial_examples(clf, X, y, method="pgd", epsilon=0.8, steps=10)
    log_loss = lambda Z: -np.log(clf.predict_proba(Z)[np.arange(len(y)), y]).mean()  # noqa: E731
    assert log_loss(pgd) >= log_loss(fgm) - 1e-6


def test_adversarial_examples_rejects_bad_input():
    """Check the errors of an unfitted estimator, token input and bad settings."""
    X, y = _data()
    with pytest.raises(Exception, match="not fitted"):
        adversarial_examples(FeedForwardClassifier(), X, y)
    clf = FeedForwardClassifier(max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        adversarial_examples(clf, X, y, method="fgsm")
    with pytest.raises(ValueError, match="epsilon"):
        adversarial_examples(clf, X, y, epsilon=0)
    with pytest.raises(ValueError, match="classes_"):
        adversarial_examples(clf, X, y + 5)
    ids, labels = _token_data()
    bag = EmbeddingBagClassifier(vocab_size=30, max_iter=1).fit(ids, labels)
    with pytest.raises(ValueError, match="continuous input"):
        adversarial_examples(bag, ids, labels)


def test_perturbation_of_embeddings_has_row_norm_epsilon():
    """Check that the training perturbation of an embedding output has norm epsilon."""
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 2)

    def forward(ids):
        output = head(embedding(ids).mean(dim=1))
        return output, F.cross_entropy(output, torch.tensor([0, 1, 1]))

    ids = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    for method, steps in [("fgm", 1), ("pgd", 5)]:
        perturbation = Perturbation(method, 0.3, steps, layer=embedding)
        _, loss, gradients = perturbation.clean_pass(forward, ids)
        loss.backward()
        deltas = perturbation.attack(forward, ids, gradients())
        assert deltas[0].shape == (3, 3, 4)
        norms = deltas[0].flatten(1).norm(dim=1)
        if method == "fgm":
            assert_allclose(norms.numpy(), 0.3, rtol=1e-5)
        else:
            assert torch.all(norms <= 0.3 + 1e-6)
        # The perturbed pass adds exactly the deltas to the embeddings.
        perturbation.perturbed_pass(forward, ids, deltas)
        assert_allclose(
            perturbation.site.outputs[0].detach().numpy(),
            (embedding.weight[ids] + deltas[0]).detach().numpy(),
            rtol=1e-6,
        )
        assert not embedding._forward_hooks  # the hook lives for one pass


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("method", ["fgm", "pgd"])
def test_perturbation_of_a_mean_bag_is_that_of_its_tokens(method, flat):
    """Check that a bag's mean moves by epsilon / sqrt(its number of tokens).

    Bags come as padded rows of ids, or as flat ids with offsets.
    """
    torch.manual_seed(0)
    bag = torch.nn.EmbeddingBag(10, 4, mode="mean", padding_idx=0)
    head = torch.nn.Linear(4, 2)

    def forward(ids):
        pooled = bag(ids, torch.tensor([0, 4])) if flat else bag(ids)
        output = head(pooled)
        return output, F.cross_entropy(output, torch.tensor([0, 1]))

    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])  # 4 and 2 tokens
    if flat:
        ids = torch.tensor([1, 2, 3, 4, 5, 6])
    perturbation = Perturbation(method, 0.6, 4, layer=bag)
    _, loss, gradients = perturbation.clean_pass(forward, ids)
    loss.backward()
    (delta,) = perturbation.attack(forward, ids, gradients())
    norms = delta.norm(dim=1).numpy()
    if method == "fgm":
        assert_allclose(norms, [0.6 / 2, 0.6 / np.sqrt(2)], rtol=1e-5)
    else:
        assert np.all(norms <= np.array([0.3, 0.6 / np.sqrt(2)]) + 1e-6)


def test_perturbation_leaves_the_padding_of_float_sequences():
    """Check that perturbations of padded float sequences are zero at the padding."""
    X = torch.tensor([[1.0, 2.0, -9.0, -9.0], [3.0, 1.0, 2.0, -9.0]])
    perturbation = Perturbation("fgm", 1.0, 1, padding=-9.0)
    deltas = perturbation.attack(None, X, [torch.ones_like(X)])
    assert torch.all(deltas[0][X == -9.0] == 0)
    assert_allclose(deltas[0].norm(dim=1).numpy(), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (FeedForwardClassifier(hidden_layer_sizes=(8,)), *_data()),
        lambda: (LSTMClassifier(vocab_size=30, hidden_size=4), *_token_data()),
        lambda: (
            EmbeddingBagClassifier(vocab_size=30, embedding_dim=4),
            *_token_data(),
        ),
        lambda: (
            SequenceTagger(hidden_size=4, embedding_dim=4),
            [["a", "b", "c"], ["b", "a"]] * 10,
            [["X", "Y", "X"], ["Y", "X"]] * 10,
        ),
    ],
    ids=["feedforward", "lstm-tokens", "embedding-bag", "tagger"],
)
@pytest.mark.parametrize("method", ["fgm", "pgd"])
def test_adversarial_training_adds_the_adversarial_loss(make, method):
    """Check that adversarial training records clean plus adversarial loss."""
    est, X, y = make()
    params = dict(max_iter=1, random_state=0, device="cpu", learning_rate=1e-12)
    clean = clone(est).set_params(**params).fit(X, y)
    attacked = clone(est).set_params(adversarial=method, **params).fit(X, y)
    ratio = attacked.history_[0]["train_loss"] / clean.history_[0]["train_loss"]
    # Clean plus a loss at least as large (the perturbation raises it).
    assert ratio >= 2.0 - 1e-3
    # The learning rate kept the weights: prediction is not perturbed.
    assert np.array_equal(
        np.asarray(attacked.predict(X), dtype=object),
        np.asarray(clean.predict(X), dtype=object),
    )


def test_adversarial_needs_an_embedding_layer_for_token_ids():
    """Check that token ids without an embedding layer cannot be perturbed."""
    est = EmbeddingBagClassifier(vocab_size=10, adversarial="fgm")
    with pytest.raises(ValueError, match="adversarial='fgm' .* without an input"):
        est._perturbation(torch.nn.Linear(2, 2))


class _Recorder:
    """An augmentation callable that remembers the first feature of every row seen."""

    def __init__(self):
        self.seen = []
        self.calls = 0

    def __call__(self, X):
        self.calls += 1
        self.seen.extend(X[:, 0].tolist())
        return X


def test_augmentation_never_sees_validation_prediction_or_score_rows():
    """Check that only the training split goes through the augmentation."""
    X, y = _data(n_samples=1000)
    X[:, 0] = np.arange(len(X))  # the row's id
    recorder = _Recorder()
    clf = FeedForwardClassifier(
        max_iter=2, augmentation=recorder, early_stopping=True, random_state=0
    )
    clf.fit(X, y)
    # The 900 training rows, each epoch; never the 100 held out.
    assert len(set(recorder.seen)) == 900
    assert len(recorder.seen) == 2 * 900
    calls = recorder.calls
    clf.predict(X)
    clf.score(X, y)
    clf.predict_proba(X)
    assert recorder.calls == calls


def test_augmentation_that_destroys_the_signal_never_reaches_predict():
    """Check that prediction reads the clean rows even after noise-only training."""
    X, y = _data()
    clf = FeedForwardClassifier(
        max_iter=3, augmentation=lambda X: torch.randn_like(X), random_state=0
    ).fit(X, y)
    with torch.no_grad():
        logits = clf.net_.module_(torch.from_numpy(X)).double()
    assert_allclose(clf.predict_proba(X), torch.softmax(logits, 1).numpy(), rtol=1e-6)


def test_identity_augmentation_is_bit_identical_to_none():
    """Check that an augmentation that changes nothing gives the same network."""
    X, y = _data()
    clf = FeedForwardClassifier(max_iter=5, random_state=0, device="cpu")
    plain = clone(clf).fit(X, y).predict_proba(X)
    for augmentation in [GaussianNoise(std=0.0), lambda X: X]:
        same = clone(clf).set_params(augmentation=augmentation).fit(X, y)
        assert_array_equal(same.predict_proba(X), plain)


def test_mixup_loss_mixes_the_cross_entropies_of_both_targets():
    """Check that the loss of mixed class targets mixes their weighted losses."""
    X, y = _data(n_samples=200)
    clf = FeedForwardClassifier(
        max_iter=60, augmentation="mixup", random_state=0, device="cpu"
    ).fit(X, y)
    assert clf.score(X, y) > 0.9
    logits = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    first, second = torch.tensor([0, 1, 1, 0, 1]), torch.tensor([1, 1, 0, 0, 0])
    lam = torch.tensor([0.1, 0.5, 0.9, 1.0, 0.3])
    weight = torch.tensor([1.0, 2.0, 1.0, 0.5, 1.0])
    loss = clf.net_.get_loss(logits, (MixedTargets(first, second, lam), weight))
    per_row = lam * F.cross_entropy(logits, first, reduction="none") + (
        1 - lam
    ) * F.cross_entropy(logits, second, reduction="none")
    assert loss.item() == pytest.approx(float((per_row * weight).sum() / 5.5))


def test_mixup_mixes_regression_targets_and_weights():
    """Check that mixup mixes numeric targets and weights with the rows' shares."""
    torch.manual_seed(0)
    X = torch.arange(12.0).reshape(6, 2)
    y = X[:, 0] * 10
    weight = torch.arange(1.0, 7.0)
    context = AugmentationContext("tabular")
    mixed, (targets, weights) = Mixup(alpha=1.0).augment(X, (y, weight), context)
    # Every mixed row is a convex combination; targets follow the same shares.
    assert_allclose(targets.numpy(), mixed[:, 0].numpy() * 10, rtol=1e-5)
    share = (mixed[:, 0] - X[:, 0]) / 1.0
    assert torch.all(weights >= 1.0) and torch.all(weights <= 6.0)
    assert share.shape == (6,)
    reg = FeedForwardRegressor(max_iter=60, augmentation="mixup", random_state=0)
    X2, y2 = _data(n_samples=200)
    assert reg.fit(X2, X2[:, 0] + X2[:, 1]).score(X2, X2[:, 0] + X2[:, 1]) > 0.8


@pytest.mark.parametrize(
    "est, match",
    [
        (FeedForwardClassifier(augmentation="shift"), "image_shape"),
        (CNNClassifier(augmentation="rotate"), "image_shape"),
        (FeedForwardClassifier(augmentation="synonym"), "does not apply to tabular"),
        (FeedForwardClassifier(augmentation="blur"), "augmentation='blur'"),
        (FeedForwardClassifier(augmentation=[3]), "augmentation must be"),
        (RNNRegressor(augmentation="deletion"), "does not apply to sequence"),
    ],
)
def test_mismatched_augmentation_raises_before_fitting(est, match):
    """Check that an augmentation the input cannot take raises a clear ValueError."""
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert not hasattr(est, "net_")


def test_failed_refit_with_bad_augmentation_keeps_the_fitted_model():
    """Check that a refit rejected for its augmentation leaves the model as it was."""
    X, y = _data()
    clf = FeedForwardClassifier(max_iter=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(augmentation="flip")
    with assert_state_unchanged(clf):
        with pytest.raises(ValueError, match="image_shape"):
            clf.fit(X, y)
    assert_array_equal(clf.predict_proba(X), proba)


def test_image_augmentation_on_the_cnn_and_clone():
    """Check that image augmentations train a CNN and survive clone and set_params."""
    X, y = _data(n_samples=60, n_features=16)
    clf = CNNClassifier(
        image_shape=(1, 4, 4),
        channels=(2,),
        dense_size=8,
        max_iter=2,
        augmentation=[RandomShift(max_shift=1), "flip", "rotate", "noise"],
        random_state=0,
    )
    copy = clone(clf)
    assert copy.get_params()["augmentation"] == clf.augmentation
    copy.fit(X, y)
    assert copy.predict(X).shape == y.shape
    copy.set_params(augmentation=None, adversarial="pgd", adversarial_steps=2)
    assert copy.fit(X, y).n_iter_ == 2


def test_grid_search_over_augmentation_and_adversarial():
    """Check that a grid search tries the craft parameters like any other."""
    X, y = _data(n_samples=80)
    grid = GridSearchCV(
        FeedForwardClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
        {
            "augmentation": [None, "noise", ["noise", "mixup"]],
            "adversarial": [None, "fgm"],
            "label_smoothing": [0.0, 0.1],
        },
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 12
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


def test_token_augmentations_train_the_token_networks():
    """Check that the EDA operations run on every token network's training batches."""
    ids, y = _token_data()
    eda = ["deletion", "swap", "insertion", "synonym"]
    for est in [
        EmbeddingBagClassifier(vocab_size=30, embedding_dim=4),
        CNNClassifier(vocab_size=30, embedding_dim=4, num_filters=2),
        LSTMClassifier(vocab_size=30, embedding_dim=4, hidden_size=4),
    ]:
        fitted = est.set_params(augmentation=eda, max_iter=2, random_state=0)
        assert fitted.fit(ids, y).predict(ids).shape == y.shape
