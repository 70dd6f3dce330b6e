"""Tests of the histogram decision trees against scikit-learn's exact trees."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import tree as sk_tree
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from sklearn_histai.tree import DecisionTreeClassifier, DecisionTreeRegressor, _grower
from sklearn_histai.utils import get_history

from estimator_instances import assert_state_unchanged


def _sklearn_depths(tree):
    depth = np.zeros(tree.node_count, dtype=int)
    for node in range(tree.node_count):
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    return depth


def _structure(tree, depth):
    """Return the nodes as sorted (depth, n_samples, feature, threshold) tuples."""
    return sorted(
        zip(
            depth.tolist(),
            tree.n_node_samples.tolist(),
            tree.feature.tolist(),
            np.round(tree.threshold, 10).tolist(),
        )
    )


def _few_values_data(seed, n_samples=400, n_features=4, n_values=12):
    rng = np.random.RandomState(seed)
    X = rng.randint(0, n_values, size=(n_samples, n_features)).astype(np.float64)
    y = X[:, 0] * 1.3 - 0.1 * X[:, 1] ** 2 + X[:, 2] + rng.normal(size=n_samples)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_depth, min_samples_leaf", [(4, 1), (5, 10), (None, 20)])
def test_decision_tree_regressor_equals_exact_search_on_few_values(
    seed, max_depth, min_samples_leaf
):
    """Check that on few distinct values the tree is scikit-learn's exact tree."""
    X, y = _few_values_data(seed)
    params = dict(max_depth=max_depth, min_samples_leaf=min_samples_leaf)
    ours = DecisionTreeRegressor(**params).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(random_state=0, **params).fit(X, y)

    # Test points between and beyond the training values also follow the
    # same thresholds (midpoints between distinct values).
    X_test = np.random.RandomState(seed).uniform(-1, 13, size=(500, X.shape[1]))
    assert_allclose(ours.predict(X_test), theirs.predict(X_test))
    assert ours.get_n_leaves() == theirs.get_n_leaves()
    assert ours.get_depth() == theirs.get_depth()
    assert _structure(ours.tree_, ours.tree_.depth) == _structure(
        theirs.tree_, _sklearn_depths(theirs.tree_)
    )
    assert_allclose(ours.feature_importances_, theirs.feature_importances_)
    assert_allclose(
        np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity), atol=1e-10
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("max_depth", [5, None])
def test_decision_tree_classifier_equals_exact_search(seed, criterion, max_depth):
    """Check that with at most max_bins distinct values the classifier is exact."""
    rng = np.random.RandomState(seed)
    # 200 float32 values per feature: one bin each, as exact as scikit-learn
    # (which works in float32).
    X = rng.rand(200, 3).astype(np.float32).astype(np.float64)
    y = (X[:, 0] + X[:, 1] ** 2 + 0.3 * rng.rand(200) > 0.9).astype(int)
    y += X[:, 2] > 0.7
    # Integer class counts often tie between features, which scikit-learn
    # breaks at random: random weights make ties unlikely.
    sample_weight = rng.rand(200) + 0.2
    params = dict(criterion=criterion, max_depth=max_depth, min_samples_leaf=5)
    ours = DecisionTreeClassifier(**params).fit(X, y, sample_weight=sample_weight)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0, **params)
    theirs.fit(X, y, sample_weight=sample_weight)

    X_test = rng.rand(1000, 3)
    assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test))
    assert_array_equal(ours.predict(X_test), theirs.predict(X_test))
    # scikit-learn may split a pure node whose weighted impurity rounds above
    # zero, with no decrease: the leaf counts can differ, not the predictions.
    assert_allclose(ours.feature_importances_, theirs.feature_importances_, atol=1e-12)


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_histogram_strategies_grow_the_same_tree(Tree, monkeypatch):
    """Check that dense, compacted, sorted and presorted searches give one tree."""
    rng = np.random.RandomState(0)
    X = rng.rand(3000, 6)
    # Integer counts and targets keep every sum exact: the strategies add in
    # different orders, and only exact sums tie identically.
    y = (4 * X[:, 0] + 3 * np.sin(3 * X[:, 1]) + 2 * rng.rand(3000)).astype(int)
    sample_weight = rng.randint(1, 4, size=y.size)
    reference = Tree(max_depth=9).fit(X, y, sample_weight=sample_weight).tree_
    settings = [
        (0.0, 0.0, 0),  # every level from codes kept sorted across levels
        (0.0, 0.0, 1 << 62),  # every level from codes sorted afresh
        (1e9, 0.0, 0),  # dense histograms (and subtraction), always compacted
        (1e9, 2.0, 0),  # dense histograms, never compacted
    ]
    for dense_cells, fill, presort_min in settings:
        monkeypatch.setattr(_grower, "_DENSE_CELLS_PER_CODE", dense_cells)
        monkeypatch.setattr(_grower, "_DENSE_SEARCH_FILL", fill)
        monkeypatch.setattr(_grower, "_PRESORT_MIN_ENTRIES", presort_min)
        tree = Tree(max_depth=9).fit(X, y, sample_weight=sample_weight).tree_
        assert tree.node_count == reference.node_count
        assert_array_equal(tree.feature, reference.feature)
        assert_allclose(tree.threshold, reference.threshold)
        assert_allclose(tree.value, reference.value)


def test_decision_tree_classifier_accuracy_close_to_sklearn():
    """Check that on continuous data the binned tree is as accurate as the exact one."""
    X, y = make_classification(
        n_samples=6000, n_features=10, n_informative=6, random_state=0
    )
    X_train, X_test, y_train, y_test = X[:4000], X[4000:], y[:4000], y[4000:]
    ours = DecisionTreeClassifier(max_depth=8, random_state=0).fit(X_train, y_train)
    theirs = sk_tree.DecisionTreeClassifier(max_depth=8, random_state=0)
    theirs.fit(X_train, y_train)
    assert ours.score(X_test, y_test) > theirs.score(X_test, y_test) - 0.02


def test_decision_tree_regressor_r2_close_to_sklearn():
    """Check that on continuous data the binned regressor is as good as sklearn's."""
    X, y = make_regression(n_samples=6000, n_features=8, noise=5.0, random_state=0)
    X_train, X_test, y_train, y_test = X[:4000], X[4000:], y[:4000], y[4000:]
    ours = DecisionTreeRegressor(max_depth=8).fit(X_train, y_train)
    theirs = sk_tree.DecisionTreeRegressor(max_depth=8, random_state=0)
    theirs.fit(X_train, y_train)
    assert ours.score(X_test, y_test) > theirs.score(X_test, y_test) - 0.02


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_size_controls(Tree):
    """Check that max_depth, min_samples_split and min_samples_leaf are respected."""
    X, y = make_classification(n_samples=1500, n_features=5, random_state=0)
    tree = Tree(max_depth=3).fit(X, y)
    assert tree.get_depth() == 3
    assert tree.get_n_leaves() <= 8
    assert tree.tree_.depth.max() == 3

    tree = Tree(min_samples_leaf=40).fit(X, y).tree_
    leaves = tree.children_left == -1
    assert tree.n_node_samples[leaves].min() >= 40

    tree = Tree(min_samples_split=200).fit(X, y).tree_
    internal = tree.children_left != -1
    assert tree.n_node_samples[internal].min() >= 200

    tree = Tree(min_samples_leaf=0.05).fit(X, y).tree_
    assert tree.n_node_samples[tree.children_left == -1].min() >= 75

    full = Tree().fit(X, y)
    pruned = Tree(min_impurity_decrease=0.01).fit(X, y)
    assert pruned.get_n_leaves() < full.get_n_leaves()


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
@pytest.mark.parametrize("fraction", [0.02, 0.1])
def test_decision_tree_min_weight_fraction_leaf_bounds_the_leaf_weights(Tree, fraction):
    """Check that each leaf holds at least that fraction of the sample weight."""
    X, y = make_classification(n_samples=600, n_features=5, random_state=0)
    sample_weight = np.random.RandomState(0).exponential(size=len(y))
    bound = fraction * sample_weight.sum()
    tree = Tree(min_weight_fraction_leaf=fraction).fit(X, y, sample_weight)
    leaves = tree.tree_.children_left == -1
    leaf_weights = np.bincount(
        tree.apply(X), weights=sample_weight, minlength=tree.tree_.node_count
    )
    assert_allclose(tree.tree_.weighted_n_node_samples[leaves], leaf_weights[leaves])
    assert leaf_weights[leaves].min() >= bound * (1 - 1e-12)
    # The bound binds: without it leaves are lighter, and there are more.
    free = Tree().fit(X, y, sample_weight)
    free_weights = free.tree_.weighted_n_node_samples[free.tree_.children_left == -1]
    assert free_weights.min() < bound
    assert tree.get_n_leaves() < free.get_n_leaves()


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_min_weight_fraction_leaf_without_sample_weight(Tree):
    """Check that without sample weights each leaf holds that many samples."""
    X, y = make_classification(n_samples=600, n_features=5, random_state=0)
    params = dict(min_weight_fraction_leaf=0.1)
    tree = Tree(**params).fit(X, y).tree_
    theirs = getattr(sk_tree, Tree.__name__)(random_state=0, **params).fit(X, y)
    leaves = tree.children_left == -1
    assert tree.n_node_samples[leaves].min() >= 60
    assert (
        tree.n_node_samples[leaves].min()
        == theirs.tree_.n_node_samples[theirs.tree_.children_left == -1].min()
    )


def test_decision_tree_classifier_grows_pure_leaves_by_default():
    """Check that an unbounded tree fits distinct training points exactly."""
    X, y = make_classification(n_samples=500, n_features=5, flip_y=0.2, random_state=1)
    clf = DecisionTreeClassifier().fit(X, y)
    assert clf.score(X, y) == 1.0
    assert_allclose(clf.tree_.impurity[clf.tree_.children_left == -1], 0.0)


def test_decision_tree_tree_arrays_are_consistent():
    """Check the flat node arrays: children, samples, weights and apply."""
    X, y = make_classification(n_samples=800, n_features=5, random_state=0)
    clf = DecisionTreeClassifier(max_depth=6).fit(X, y)
    tree = clf.tree_
    internal = np.flatnonzero(tree.children_left != -1)
    left, right = tree.children_left[internal], tree.children_right[internal]
    assert_array_equal(
        tree.n_node_samples[internal],
        tree.n_node_samples[left] + tree.n_node_samples[right],
    )
    assert np.all(left > internal) and np.all(right > internal)
    assert_array_equal(tree.depth[left], tree.depth[internal] + 1)
    leaves = clf.apply(X)
    assert np.all(tree.children_left[leaves] == -1)
    assert_array_equal(
        np.bincount(leaves, minlength=tree.node_count)[leaves],
        tree.n_node_samples[leaves],
    )
    assert_allclose(clf.predict_proba(X), tree.value[leaves, 0, :])
    assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "max_features, expected", [("sqrt", 3), ("log2", 3), (0.5, 5), (2, 2), (None, 10)]
)
def test_decision_tree_max_features_resolution(max_features, expected):
    """Check how max_features is turned into a number of features."""
    X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    clf = DecisionTreeClassifier(max_features=max_features, random_state=0).fit(X, y)
    assert clf.max_features_ == expected


def test_decision_tree_max_features_draws_features_at_random():
    """Check that max_features=1 draws features with random_state, reproducibly."""
    X, y = make_classification(
        n_samples=1000, n_features=8, n_informative=8, n_redundant=0, random_state=0
    )
    trees = [
        DecisionTreeClassifier(max_features=1, max_depth=6, random_state=seed).fit(X, y)
        for seed in (0, 0, 1)
    ]
    assert_array_equal(trees[0].tree_.feature, trees[1].tree_.feature)
    assert not np.array_equal(trees[0].predict_proba(X), trees[2].predict_proba(X))
    used = np.concatenate([t.tree_.feature[t.tree_.feature >= 0] for t in trees])
    assert np.unique(used).size == 8
    # All features: no randomness at all.
    a = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    b = DecisionTreeClassifier(max_depth=6, random_state=1).fit(X, y)
    assert_array_equal(a.tree_.threshold, b.tree_.threshold)


def test_decision_tree_max_features_raises_above_n_features():
    """Check that an int max_features above n_features is a clear error."""
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="max_features must be at most"):
        DecisionTreeClassifier(max_features=5).fit(X, y)


def test_decision_tree_sample_weight_as_repetition():
    """Check that integer weights repeat samples and zero weights remove them."""
    rng = np.random.RandomState(0)
    X = rng.rand(120, 4)
    y = rng.randint(0, 3, size=120)
    weights = rng.randint(0, 4, size=120)
    weighted = DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=weights)
    repeated = DecisionTreeClassifier(random_state=0).fit(
        X.repeat(weights, axis=0), y.repeat(weights)
    )
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X))

    # Integer targets: weighted and repeated sums are then exactly equal.
    yr = np.round(10 * X @ rng.rand(4))
    weighted = DecisionTreeRegressor().fit(X, yr, sample_weight=weights)
    repeated = DecisionTreeRegressor().fit(
        X.repeat(weights, axis=0), yr.repeat(weights)
    )
    assert_allclose(weighted.predict(X), repeated.predict(X))


def test_decision_tree_class_weight_balanced():
    """Check that class_weight="balanced" matches scikit-learn's weighting."""
    X, y = make_classification(
        n_samples=240, n_features=4, weights=[0.85], random_state=0
    )
    X = X.astype(np.float32).astype(np.float64)
    ours = DecisionTreeClassifier(max_depth=4, class_weight="balanced").fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(
        max_depth=4, class_weight="balanced", random_state=0
    ).fit(X, y)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    assert ours.tree_.weighted_n_node_samples[0] == pytest.approx(240)


def test_decision_tree_log_loss_is_entropy():
    """Check that criterion="log_loss" grows the entropy tree."""
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    a = DecisionTreeClassifier(criterion="log_loss", max_depth=5).fit(X, y)
    b = DecisionTreeClassifier(criterion="entropy", max_depth=5).fit(X, y)
    assert_allclose(a.tree_.threshold, b.tree_.threshold)
    assert_allclose(a.tree_.impurity, b.tree_.impurity)


def test_decision_tree_classifier_multi_output():
    """Check multi-output classification: shapes, classes and probabilities."""
    rng = np.random.RandomState(0)
    X = rng.rand(300, 4)
    Y = np.c_[X[:, 0] > 0.5, np.digitize(X[:, 1], [0.3, 0.6])].astype(int)
    Y = np.where(Y == 0, -1, Y)
    clf = DecisionTreeClassifier(max_depth=6).fit(X, Y)
    assert clf.n_outputs_ == 2
    assert clf.n_classes_ == [2, 3]
    assert_array_equal(clf.classes_[1], [-1, 1, 2])
    proba = clf.predict_proba(X[:10])
    assert [p.shape for p in proba] == [(10, 2), (10, 3)]
    assert clf.predict(X).shape == (300, 2)
    assert np.mean(clf.predict(X) == Y) > 0.95
    for k in range(2):
        single = DecisionTreeClassifier(max_depth=6).fit(X, Y[:, k])
        # Each output is learnt, though splits serve both at once.
        assert np.mean(single.predict(X) == clf.predict(X)[:, k]) > 0.9


def test_decision_tree_regressor_multi_output():
    """Check that multi-output regression equals scikit-learn's exact tree."""
    rng = np.random.RandomState(0)
    X = rng.rand(200, 3)
    Y = np.c_[X[:, 0] + rng.rand(200), X[:, 1] * X[:, 2] + rng.rand(200)]
    ours = DecisionTreeRegressor(max_depth=4).fit(X, Y)
    theirs = sk_tree.DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, Y)
    assert ours.predict(X).shape == (200, 2)
    X_test = rng.rand(500, 3)
    assert_allclose(ours.predict(X_test), theirs.predict(X_test))


def test_decision_tree_regressor_large_target_offset():
    """Check that a large constant in the targets does not spoil the splits.

    Centred on their mean to 8 bits of its own magnitude, targets near 1e12
    stayed about 2e9 off-centre and grew a single leaf. The leaves group the
    samples alike; two features may split a node into the same two sets of
    samples (either way round), whose scores then tie exactly but are summed
    in another order along each feature: which one the tree takes is left
    to rounding, so features and leaf ids may differ.
    """
    X, y = _few_values_data(0)
    plain = DecisionTreeRegressor(max_depth=5).fit(X, y)
    plain_leaves = plain.apply(X)
    for offset in (1e3, 1e6, 1e9, 1e12):
        shifted = DecisionTreeRegressor(max_depth=5).fit(X, y + offset)
        # The same partition: each leaf of one tree is one leaf of the other.
        pairs = set(zip(shifted.apply(X), plain_leaves))
        assert len(pairs) == len(set(plain_leaves)) == shifted.get_n_leaves()
        # y + offset itself is rounded to the spacing of floats near offset.
        atol = max(1e-5, 8 * np.spacing(offset))
        assert_allclose(shifted.predict(X) - offset, plain.predict(X), atol=atol)


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_rejects_bad_input(Tree):
    """Check the errors on NaN, inf, sparse input and wrong feature counts."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    for bad in (np.nan, np.inf):
        X_bad = X.copy()
        X_bad[3, 1] = bad
        with pytest.raises(ValueError, match="Input X contains"):
            Tree().fit(X_bad, y)
    with pytest.raises(TypeError, match="[Ss]parse"):
        Tree().fit(sp.csr_matrix(X), y)
    fitted = Tree().fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="non-zero"):
        Tree().fit(X, y, sample_weight=np.zeros(60))
    with pytest.raises(ValueError, match="max_bins"):
        Tree(max_bins=300).fit(X, y)


@pytest.mark.parametrize("Tree", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_decision_tree_does_not_modify_inputs(Tree):
    """Check that fit and predict leave X, y and sample_weight untouched."""
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    sample_weight = np.random.RandomState(0).rand(100)
    copies = X.copy(), y.copy(), sample_weight.copy()
    Tree(max_depth=4).fit(X, y, sample_weight=sample_weight).predict(X)
    for original, copy in zip((X, y, sample_weight), copies):
        assert_array_equal(original, copy)


def test_decision_tree_pandas_input_feature_names():
    """Check that pandas input records feature_names_in_ and predicts the same."""
    pd = pytest.importorskip("pandas")
    X, y = make_classification(
        n_samples=100, n_features=3, n_redundant=0, random_state=0
    )
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = DecisionTreeClassifier(max_depth=3).fit(frame, pd.Series(y))
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])
    plain = DecisionTreeClassifier(max_depth=3).fit(X, y)
    assert_array_equal(clf.predict(frame), plain.predict(X))


def test_decision_tree_float32_input_matches_float64():
    """Check that float32 data grows the same tree as its float64 copy."""
    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    X32 = X.astype(np.float32)
    a = DecisionTreeClassifier(max_depth=5).fit(X32, y)
    b = DecisionTreeClassifier(max_depth=5).fit(X32.astype(np.float64), y)
    assert_allclose(a.tree_.threshold, b.tree_.threshold)
    assert_array_equal(a.predict(X32), b.predict(X32))


def test_decision_tree_classifier_string_labels_and_log_proba():
    """Check string labels and that log-probabilities are the log of probabilities."""
    rng = np.random.RandomState(0)
    X = rng.rand(150, 3)
    y = np.array(["cat", "dog", "eel"])[np.digitize(X[:, 0], [0.3, 0.7])]
    clf = DecisionTreeClassifier(max_depth=2).fit(X, y)
    assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    assert set(clf.predict(X)) <= {"cat", "dog", "eel"}
    with np.errstate(divide="ignore"):
        assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))


def test_decision_tree_constant_target_and_features_give_one_leaf():
    """Check that nothing to split on gives a single leaf, and that it predicts."""
    rng = np.random.RandomState(0)
    X = rng.rand(30, 3)
    reg = DecisionTreeRegressor().fit(X, np.full(30, 2.5))
    assert reg.get_n_leaves() == 1 and reg.get_depth() == 0
    assert_allclose(reg.predict(X[:3]), 2.5)
    assert_allclose(reg.feature_importances_, 0.0)
    reg = DecisionTreeRegressor().fit(np.ones((30, 3)), rng.rand(30))
    assert reg.get_n_leaves() == 1


def test_decision_tree_classifier_single_class():
    """Check that a single class gives one leaf predicting it with certainty."""
    X = np.random.RandomState(0).rand(20, 3)
    clf = DecisionTreeClassifier().fit(X, ["only"] * 20)
    assert clf.get_n_leaves() == 1
    assert_array_equal(clf.predict(X[:2]), ["only", "only"])
    assert_allclose(clf.predict_proba(X[:2]), [[1.0], [1.0]])


def test_decision_tree_clone_refits_identically():
    """Check that a clone refit on the same data grows the same tree."""
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    reg = DecisionTreeRegressor(max_features=2, random_state=3).fit(X, y)
    again = clone(reg).fit(X, y)
    assert_allclose(reg.tree_.threshold, again.tree_.threshold)


@pytest.mark.parametrize(
    "Tree, peer",
    [
        (DecisionTreeClassifier, "sklearn.tree:DecisionTreeClassifier"),
        (DecisionTreeRegressor, "sklearn.tree:DecisionTreeRegressor"),
    ],
)
def test_decision_tree_history(Tree, peer):
    """Check the history the comparison tools read."""
    history = get_history(Tree)
    assert (history.era, history.year, history.peer) == ("classical", 1984, peer)
    assert "Breiman" in history.reference
    assert type(history.make_peer()).__name__ == Tree.__name__


@pytest.mark.parametrize(
    "Tree, X_bad, y_bad, fit_params, match",
    [
        (DecisionTreeClassifier, np.ones((4, 2)), [0.5, 1.5, 2.5, 3.5], {}, "Unknown"),
        (
            DecisionTreeClassifier,
            np.ones((4, 2)),
            [0, 1, 0, 1],
            {"sample_weight": np.zeros(4)},
            "non-zero",
        ),
        (
            DecisionTreeRegressor,
            np.ones((4, 2)),
            np.ones(4),
            {"sample_weight": [1, -1, 1, 1]},
            "[Nn]egative",
        ),
        (DecisionTreeRegressor, np.full((4, 2), np.nan), np.ones(4), {}, "NaN"),
    ],
)
def test_decision_tree_failed_fit_leaves_estimator_unchanged(
    Tree, X_bad, y_bad, fit_params, match
):
    """Check that a fit that raises leaves the fitted attributes as they were."""
    pd = pytest.importorskip("pandas")
    X, y = make_classification(
        n_samples=100,
        n_features=3,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = Tree(max_depth=3, random_state=0).fit(frame, y)
    predictions = est.predict(frame)
    with assert_state_unchanged(est), pytest.raises(ValueError, match=match):
        est.fit(pd.DataFrame(X_bad, columns=["x", "y"]), y_bad, **fit_params)
    assert_array_equal(est.predict(frame), predictions)


def test_decision_tree_failed_fit_with_too_many_features_leaves_it_unchanged():
    """Check that max_features above n_features fails without changing the tree."""
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    clf = DecisionTreeClassifier(max_features=4, random_state=0).fit(X, y)
    with (
        assert_state_unchanged(clf),
        pytest.raises(ValueError, match="max_features must be at most"),
    ):
        clf.fit(X[:, :3], y)
