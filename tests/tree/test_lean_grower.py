"""Tests of the lean grower of small trees against the histogram grower."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_histai.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    _lean_grower,
)

_TREE_ARRAYS = [
    "children_left",
    "children_right",
    "feature",
    "threshold",
    "value",
    "impurity",
    "n_node_samples",
    "weighted_n_node_samples",
    "depth",
]


def _random_problem(seed):
    """Return a small random problem and tree settings, drawn from ``seed``.

    Features mix few distinct values (ties between thresholds and features),
    duplicated and constant columns and continuous values. Targets, sample
    weights and class weights are integers: the two growers add in different
    orders, and only exact sums tie identically (as between the strategies
    of the histogram grower).
    """
    rng = np.random.RandomState(seed)
    n_samples = rng.randint(2, 400)
    n_features = rng.randint(1, 9)
    columns = []
    for _ in range(n_features):
        kind = rng.randint(4)
        if kind == 0:
            columns.append(rng.randint(0, rng.randint(1, 6), n_samples).astype(float))
        elif kind == 1 and columns:
            columns.append(columns[rng.randint(len(columns))].copy())
        elif kind == 2:
            columns.append(np.full(n_samples, rng.normal()))
        else:
            columns.append(rng.normal(size=n_samples).round(rng.randint(1, 4)))
    X = np.column_stack(columns)
    n_outputs = 1 + (rng.rand() < 0.25)
    params = dict(random_state=seed)
    if rng.rand() < 0.3:
        params["max_depth"] = int(rng.randint(1, 6))
    if rng.rand() < 0.3:
        params["min_samples_leaf"] = int(rng.randint(1, 6))
    if rng.rand() < 0.2:
        params["min_samples_split"] = int(rng.randint(2, 12))
    if rng.rand() < 0.2:
        params["min_weight_fraction_leaf"] = float(rng.uniform(0.0, 0.2))
    if rng.rand() < 0.2:
        params["min_impurity_decrease"] = float(rng.uniform(0.0, 0.02))
    if rng.rand() < 0.4:
        params["max_features"] = int(rng.randint(1, n_features + 1))
    sample_weight = None
    if rng.rand() < 0.4:
        sample_weight = rng.randint(0, 4, n_samples).astype(float)
        sample_weight[0] = 1.0
    if rng.rand() < 0.6:
        n_classes = rng.randint(2, 5)
        y = rng.randint(0, n_classes, size=(n_samples, n_outputs))
        # Labels that depend on the features, as well as noise.
        y[:, 0] = np.where(rng.rand(n_samples) < 0.6, X[:, 0] > X[:, 0].mean(), y[:, 0])
        params["criterion"] = ["gini", "entropy"][rng.randint(2)]
        if rng.rand() < 0.3:
            weights = [
                {int(c): int(rng.randint(1, 4)) for c in np.unique(column)}
                for column in y.T
            ]
            params["class_weight"] = weights[0] if n_outputs == 1 else weights
        Tree = DecisionTreeClassifier
    else:
        y = rng.randint(-20, 20, size=(n_samples, n_outputs)).astype(float)
        y[:, 0] += 10 * X[:, 0].round()
        Tree = DecisionTreeRegressor
    return Tree(**params), X, y[:, 0] if n_outputs == 1 else y, sample_weight


@pytest.mark.parametrize("seed", range(150))
def test_lean_grower_grows_the_histogram_growers_tree(seed, monkeypatch):
    """Check that the lean and histogram growers grow one tree, to the bit."""
    tree, X, y, sample_weight = _random_problem(seed)
    monkeypatch.setattr(_lean_grower, "MAX_ENTRIES", np.inf)
    lean = tree.fit(X, y, sample_weight=sample_weight).tree_
    monkeypatch.setattr(_lean_grower, "MAX_ENTRIES", -1)
    reference = tree.fit(X, y, sample_weight=sample_weight).tree_
    assert lean.node_count == reference.node_count
    for name in _TREE_ARRAYS:
        assert_array_equal(getattr(lean, name), getattr(reference, name), err_msg=name)


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_lean_grower_grows_small_fits(Tree, monkeypatch):
    """Check that small fits take the lean grower, and larger ones do not."""
    grown = []
    original = _lean_grower.LeanTreeGrower.grow

    def grow(self):
        grown.append(self)
        return original(self)

    monkeypatch.setattr(_lean_grower.LeanTreeGrower, "grow", grow)
    rng = np.random.RandomState(0)
    X, y = rng.rand(300, 4), rng.randint(0, 2, 300)
    Tree(max_depth=3).fit(X, y)
    assert len(grown) == 1
    monkeypatch.setattr(_lean_grower, "MAX_ENTRIES", X.size - 1)
    Tree(max_depth=3).fit(X, y)
    assert len(grown) == 1


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_draws_only_for_max_features(Tree):
    """Check that a fit draws from random_state only when it draws features."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(100, 4), rng.randint(0, 3, 100)
    random_state = np.random.RandomState(1)
    before = random_state.get_state()[1].copy()
    Tree(random_state=random_state).fit(X, y)
    assert_array_equal(random_state.get_state()[1], before)
    Tree(max_features=2, random_state=random_state).fit(X, y)
    assert not np.array_equal(random_state.get_state()[1], before)


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("max_entries", [np.inf, -1])
def test_an_output_of_one_class_sways_no_split(criterion, max_entries, monkeypatch):
    """Check that both growers split as if an output of one class were absent."""
    monkeypatch.setattr(_lean_grower, "MAX_ENTRIES", max_entries)
    rng = np.random.RandomState(0)
    X = rng.randint(0, 8, size=(300, 3)).astype(float)
    informative = (X[:, 0] > 3).astype(int) + (X[:, 1] > 5) + (rng.rand(300) < 0.1)
    tree = DecisionTreeClassifier(criterion=criterion, random_state=0)
    alone = tree.fit(X, informative).tree_
    both = tree.fit(X, np.column_stack([np.zeros(300, int), informative])).tree_
    for name in ["children_left", "feature", "threshold", "n_node_samples"]:
        assert_array_equal(getattr(both, name), getattr(alone, name), err_msg=name)
    assert_array_equal(tree.predict(X)[:, 0], 0)
