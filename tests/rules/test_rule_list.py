"""Tests of the rule list learned by sequential covering."""

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_histai.rules import Condition, Rule, RuleListClassifier
from sklearn_histai.rules._covering import GT, LE, simplify
from sklearn_histai.utils import get_history

from estimator_instances import assert_state_unchanged


def _conjunction_data(n_samples=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n_samples, 4))
    y = (X[:, 0] > 0.5) & (X[:, 2] <= 0.3)
    return X, y


def _categorical_data(n_samples=400, seed=0):
    rng = np.random.RandomState(seed)
    X = np.column_stack([rng.randint(0, 5, n_samples), rng.uniform(size=n_samples)])
    return X, np.where(X[:, 0] == 2, "two", "other")


def test_rule_list_learns_a_known_conjunction():
    """Check that y = (x0 > 0.5) & (x2 <= 0.3) is learned as that one rule."""
    X, y = _conjunction_data()
    clf = RuleListClassifier(random_state=0).fit(X, y)
    assert len(clf.rules_) == 2 and clf.n_conditions_ == 2
    rule, default = clf.rules_
    assert rule.prediction and not default.prediction and not default.conditions
    tests = {(c.feature, c.operator): c.value for c in rule.conditions}
    assert set(tests) == {(0, ">"), (2, "<=")}
    assert_allclose([tests[0, ">"], tests[2, "<="]], [0.5, 0.3], atol=0.02)
    X_test, y_test = _conjunction_data(seed=1)
    # Quantile bins put the thresholds near, not at, the separating values.
    assert clf.score(X, y) > 0.99
    assert clf.score(X_test, y_test) > 0.98


def test_rule_list_prints_feature_names_from_a_dataframe():
    """Check that the rules name the DataFrame's columns, else ``x[i]``."""
    X, y = _conjunction_data()
    labels = np.where(y, "yes", "no")
    frame = pd.DataFrame(X, columns=["age", "height", "weight", "income"])
    clf = RuleListClassifier(random_state=0).fit(frame, labels)
    assert_array_equal(clf.feature_names_in_, frame.columns)
    text = str(clf.rules_[0])
    assert text.startswith("IF ") and text.endswith(" THEN yes")
    assert "age > 0.5" in text and "weight <= 0.3" in text and " AND " in text
    lines = clf.export_text().splitlines()
    assert lines == [text, "ELSE no"]
    counted = clf.export_text(show_counts=True).splitlines()
    assert counted[-1].startswith("ELSE no  [no: ")

    clf_array = RuleListClassifier(random_state=0).fit(X, labels)
    text = str(clf_array.rules_[0])
    assert "x[0] > 0.5" in text and "x[2] <= 0.3" in text
    assert not hasattr(clf_array, "feature_names_in_")


def test_rule_list_predict_proba_is_the_laplace_estimate_of_coverage():
    """Check that probabilities are (n_c + 1) / (n + K) of what each rule covers."""
    X, y = load_wine(return_X_y=True)
    clf = RuleListClassifier(random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    rule_index = clf.apply(X)
    undecided = np.ones(len(X), dtype=bool)
    for index, rule in enumerate(clf.rules_):
        fires = undecided & rule.covers(X)
        undecided &= ~fires
        assert_array_equal(rule_index == index, fires)
        counts = np.bincount(y[fires], minlength=3)
        assert_array_equal(rule.class_counts, counts)
        assert_allclose(
            proba[fires], np.tile((counts + 1) / (counts.sum() + 3), (fires.sum(), 1))
        )
    assert_array_equal(clf.predict(X), np.argmax(proba, axis=1))


def test_rule_list_predicts_held_out_wine():
    """Check that the multiclass rule list reaches 85% accuracy on held-out wine."""
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    clf = RuleListClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.85
    # The most frequent class (1) is the default; the others have rules.
    assert clf.rules_[-1].prediction == 1
    assert {rule.prediction for rule in clf.rules_[:-1]} == {0, 2}


def test_rule_list_tests_categorical_features_for_equality():
    """Check that a categorical feature gives the single condition ``x == v``."""
    X, y = _categorical_data()
    clf = RuleListClassifier(categorical_features=[0], random_state=0).fit(X, y)
    assert clf.export_text() == "IF x[0] == 2 THEN two\nELSE other"
    # Thresholds need two conditions to isolate the same value.
    numeric = RuleListClassifier(random_state=0).fit(X, y)
    assert numeric.n_conditions_ == 2 and numeric.score(X, y) == 1.0
    frame = pd.DataFrame(X, columns=["colour", "size"])
    for categorical in ([True, False], ["colour"]):
        by_other = RuleListClassifier(categorical_features=categorical, random_state=0)
        assert by_other.fit(frame, y).export_text() == (
            "IF colour == 2 THEN two\nELSE other"
        )
    # A category unseen in training satisfies no equality.
    assert_array_equal(clf.predict([[7.0, 0.5], [2.0, 0.5]]), ["other", "two"])


@pytest.mark.parametrize(
    "params",
    [
        {"max_bins": 1},
        {"max_bins": 300},
        {"prune_size": 1.0},
        {"prune_size": -0.1},
        {"max_conditions": 0},
        {"max_rules": -1},
        {"min_coverage": 0.0},
        {"dl_allowance": -1.0},
        {"class_order": "random"},
    ],
)
def test_rule_list_rejects_bad_parameters_by_name(params):
    """Check that an invalid parameter raises an error that names it."""
    X, y = _conjunction_data(n_samples=50)
    (name,) = params
    with pytest.raises(InvalidParameterError, match=name):
        RuleListClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "categorical, message",
    [
        ([4], r"indices in \[0, 4\)"),
        ([True, False], "length n_features=4"),
        (["age"], "not feature names"),
        ([0.5], "dtype float64"),
        ([[0, 1]], "1-D"),
    ],
)
def test_rule_list_rejects_bad_categorical_features_and_keeps_its_state(
    categorical, message
):
    """Check that bad categorical_features raise and leave a fitted model as it was."""
    X, y = _conjunction_data(n_samples=80)
    clf = RuleListClassifier(random_state=0).fit(X, y)
    clf.set_params(categorical_features=categorical)
    with assert_state_unchanged(clf):
        with pytest.raises(ValueError, match=f"categorical_features.*{message}"):
            clf.fit(X, y)


def test_rule_list_rejects_weights_summing_to_zero():
    """Check that all-zero sample weights are refused with a clear message."""
    X, y = _conjunction_data(n_samples=40)
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        RuleListClassifier().fit(X, y, sample_weight=np.zeros(len(X)))


def test_rule_list_fit_leaves_its_input_unchanged():
    """Check that fitting modifies neither X, y nor the sample weights."""
    X, y = _categorical_data()
    weights = np.arange(len(X), dtype=float) % 3
    copies = X.copy(), y.copy(), weights.copy()
    RuleListClassifier(categorical_features=[0], random_state=0).fit(X, y, weights)
    for original, copy in zip((X, y, weights), copies):
        assert_array_equal(original, copy)


def test_rule_list_pickle_round_trip():
    """Check that a pickled rule list predicts and prints as the original."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    clf = RuleListClassifier(random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.export_text(show_counts=True) == clf.export_text(show_counts=True)
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_rule_list_is_deterministic_given_random_state():
    """Check that a seed fixes the rules, and that the seed matters."""
    X, y = load_wine(return_X_y=True)
    texts = [
        RuleListClassifier(random_state=seed).fit(X, y).export_text()
        for seed in [0, 0, 1, 2, 3]
    ]
    assert texts[0] == texts[1]
    assert len(set(texts[1:])) > 1


def test_rule_list_integer_weights_equal_repeated_rows():
    """Check that a weight of 2 learns the rules of the row given twice."""
    X, y = load_wine(return_X_y=True)
    weights = np.ones(len(X), dtype=int)
    weights[::3] = 2
    weights[1::7] = 0
    weighted = RuleListClassifier(random_state=0).fit(X, y, sample_weight=weights)
    repeated = RuleListClassifier(random_state=0).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    assert weighted.export_text(show_counts=True) == repeated.export_text(
        show_counts=True
    )


def test_rule_list_respects_its_size_limits():
    """Check that max_rules and max_conditions bound the rule list."""
    X, y = load_wine(return_X_y=True)
    free = RuleListClassifier(prune_size=0.0, random_state=0).fit(X, y)
    assert len(free.rules_) > 3 and max(len(r.conditions) for r in free.rules_) > 1
    clf = RuleListClassifier(
        max_rules=2, max_conditions=1, prune_size=0.0, random_state=0
    ).fit(X, y)
    assert len(clf.rules_) == 3
    assert all(len(rule.conditions) == 1 for rule in clf.rules_[:-1])
    assert len(RuleListClassifier(max_rules=0).fit(X, y).rules_) == 1


def test_rule_list_orders_classes_as_asked():
    """Check that class_order="sorted" gives the last label the default rule."""
    X, y = load_wine(return_X_y=True)
    assert RuleListClassifier(random_state=0).fit(X, y).rules_[-1].prediction == 1
    clf = RuleListClassifier(class_order="sorted", random_state=0).fit(X, y)
    assert clf.rules_[-1].prediction == 2
    assert clf.rules_[0].prediction == 0


def test_simplify_keeps_the_tightest_threshold():
    """Check that repeated tests of a feature merge into the tightest one."""
    conditions = [(GT, 0, 3), (LE, 1, 9), (GT, 0, 5), (LE, 1, 4)]
    assert simplify(conditions) == [(GT, 0, 5), (LE, 1, 4)]


def test_rule_and_condition_print_and_apply():
    """Check that a hand-made rule prints its conditions and fires on its rows."""
    rule = Rule(
        (Condition(0, ">", 16.795, "worst radius"), Condition(1, "==", 3.0, "kind")),
        prediction="malignant",
        class_counts=np.array([2.0, 5.0]),
    )
    assert str(rule) == "IF worst radius > 16.8 AND kind == 3 THEN malignant"
    assert_array_equal(
        rule.covers(np.array([[17.0, 3.0], [17.0, 2.0], [16.0, 3.0]])),
        [True, False, False],
    )
    assert str(Rule((), "benign", np.ones(2))) == "IF TRUE THEN benign"


def test_rule_list_declares_the_symbolic_era():
    """Check the historical metadata that the comparison tools read."""
    history = get_history(RuleListClassifier)
    assert (history.era, history.year) == ("symbolic", 1995)
    assert type(history.make_peer()).__name__ == "DecisionTreeClassifier"
