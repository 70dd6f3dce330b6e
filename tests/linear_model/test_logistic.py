"""Check maximum-likelihood logistic regression against scikit-learn's optimum."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

from sklearn_histai.linear_model import LogisticRegression, _blocks, _lbfgs, _logistic

from estimator_instances import assert_state_unchanged


def _data(n_samples=300, n_features=6, n_classes=2, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) + 0.5
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
    logits = X @ rng.standard_normal((n_features, n_classes))
    cumulative = np.exp(log_softmax(logits, axis=1)).cumsum(axis=1)
    y = (rng.random((n_samples, 1)) > cumulative).sum(axis=1)
    weights = rng.uniform(0.2, 3.0, size=n_samples)
    return X, np.minimum(y, n_classes - 1), weights


def _reference(**params):
    """scikit-learn's most accurate solver for the same objective."""
    return SklearnLogisticRegression(
        solver="newton-cholesky", tol=1e-12, max_iter=1000, **params
    )


def _objective(clf, X, y, sample_weight, C):
    """C * sum_i w_i log-loss_i + ||coef||^2 / 2, computed from scratch."""
    log_proba = clf.predict_log_proba(X)
    rows = np.arange(len(y))
    loss = -log_proba[rows, np.searchsorted(clf.classes_, y)]
    return C * sample_weight @ loss + 0.5 * np.sum(clf.coef_**2)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_weight", [None, "balanced", "dict"])
def test_logistic_regression_matches_sklearn(
    n_classes, container, weighted, class_weight
):
    """Check that the optimum is scikit-learn's, to 1e-6 relative."""
    X, y, weights = _data(n_classes=n_classes, sparse=container is not np.asarray)
    sample_weight = weights if weighted else None
    if class_weight == "dict":
        class_weight = {k: 1.0 + k for k in range(n_classes)}
    params = dict(C=0.5, class_weight=class_weight)
    ours = LogisticRegression(tol=1e-10, **params).fit(
        container(X), y, sample_weight=sample_weight
    )
    peer = _reference(**params).fit(X, y, sample_weight=sample_weight)
    assert ours.coef_.shape == peer.coef_.shape
    assert ours.intercept_.shape == peer.intercept_.shape
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.predict_proba(container(X)), peer.predict_proba(X), rtol=1e-6)
    # The default tolerance is already within 1e-4 of the optimum.
    default = LogisticRegression(**params).fit(
        container(X), y, sample_weight=sample_weight
    )
    scale = np.abs(peer.coef_).max()
    assert_allclose(default.coef_, peer.coef_, rtol=0, atol=1e-4 * scale)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", ["newton-cholesky", "newton-cg", "lbfgs"])
def test_logistic_regression_solvers_and_subsampled_hessian(
    n_classes, solver, monkeypatch
):
    """Check that every solver, the Newton ones with a subsampled Hessian, agree."""
    # Force the solver, several blocks of rows, and a Hessian estimated on
    # every k-th sample.
    monkeypatch.setattr(_logistic, "_choose_solver", lambda X, n_params: solver)
    monkeypatch.setattr(_blocks, "BLOCK_SIZE", 500)
    monkeypatch.setattr(_logistic, "_HESSIAN_MIN_SAMPLES", 200)
    monkeypatch.setattr(_logistic, "_HESSIAN_SAMPLES_PER_PARAM", 10)
    X, y, weights = _data(n_samples=2000, n_features=12, n_classes=n_classes, seed=1)
    X[:, 3] += 50.0
    ours = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=weights)
    assert ours.solver_ == solver
    peer = _reference().fit(X, y, sample_weight=weights)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("solver", [None, "lbfgs"])
def test_logistic_regression_without_intercept(container, solver, monkeypatch):
    """Check fit_intercept=False against scikit-learn, intercepts zero."""
    if solver is not None:
        monkeypatch.setattr(_logistic, "_choose_solver", lambda X, n_params: solver)
    X, y, _ = _data(n_classes=3, seed=2, sparse=container is not np.asarray)
    ours = LogisticRegression(fit_intercept=False, tol=1e-10).fit(container(X), y)
    peer = _reference(fit_intercept=False).fit(X, y)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6, atol=1e-8)
    assert_array_equal(ours.intercept_, np.zeros(3))


def test_logistic_regression_unpenalised():
    """Check that C=inf gives the maximum likelihood estimate."""
    X, y, _ = _data(n_samples=500, seed=3)
    ours = LogisticRegression(C=np.inf, tol=1e-10).fit(X, y)
    peer = _reference(C=np.inf).fit(X, y)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_regression_minimises_the_documented_objective(n_classes):
    """Check that moving any coefficient increases the objective."""
    X, y, weights = _data(n_classes=n_classes, seed=4)
    C = 0.3
    clf = LogisticRegression(C=C, tol=1e-10).fit(X, y, sample_weight=weights)
    best = _objective(clf, X, y, weights, C)
    rng = np.random.default_rng(0)
    for _ in range(5):
        moved = LogisticRegression(C=C).fit(X, y, sample_weight=weights)
        moved.coef_ = clf.coef_ + 1e-3 * rng.standard_normal(clf.coef_.shape)
        moved.intercept_ = clf.intercept_ + 1e-3 * rng.standard_normal(
            clf.intercept_.shape
        )
        assert _objective(moved, X, y, weights, C) > best


def test_logistic_regression_class_weight_equals_sample_weight():
    """Check that class weights act as the corresponding sample weights."""
    X, y, weights = _data(n_classes=3, seed=5)
    class_weight = {0: 0.5, 1: 2.0, 2: 4.0}
    by_class = LogisticRegression(class_weight=class_weight, tol=1e-10).fit(
        X, y, sample_weight=weights
    )
    per_sample = np.array([class_weight[k] for k in y]) * weights
    by_sample = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=per_sample)
    assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-8)
    balanced = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y)
    counts = np.bincount(y)
    per_sample = (len(y) / (3 * counts))[y]
    manual = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=per_sample)
    assert_allclose(balanced.coef_, manual.coef_, rtol=1e-8)


def test_logistic_regression_sparse_text_never_forms_dense_hessian():
    """Check that 200,000 sparse columns fit quickly with the Hessian-free solver."""
    rng = np.random.default_rng(6)
    n_features = 200_000
    rows = np.repeat(np.arange(1000), 200)
    cols = rng.integers(n_features, size=rows.size)
    X = sp.csr_matrix((rng.random(rows.size), (rows, cols)), shape=(1000, n_features))
    y = (X @ rng.standard_normal(n_features) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    # A dense Hessian would take 320 GB.
    assert clf.solver_ == "newton-cg"
    assert clf.coef_.shape == (1, n_features)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    "n_features, n_classes, sparse, expected",
    [
        (20, 3, False, "newton-cholesky"),
        (40, 8, False, "lbfgs"),
        (400, 2, False, "lbfgs"),
        (40, 8, True, "newton-cg"),
    ],
)
def test_logistic_regression_solver_choice(n_features, n_classes, sparse, expected):
    """Check the solver of each shape, and that each reaches the optimum."""
    X, y, weights = _data(
        n_samples=900, n_features=n_features, n_classes=n_classes, seed=12
    )
    container = sp.csr_matrix if sparse else np.asarray
    ours = LogisticRegression(tol=1e-10, max_iter=1000).fit(
        container(X), y, sample_weight=weights
    )
    assert ours.solver_ == expected
    peer = _reference().fit(X, y, sample_weight=weights)
    # A gradient of 1e-10 leaves an error of about 1e-10 / lam = 1e-7 / C in
    # the directions of least curvature.
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-6, atol=1e-7)


def test_logistic_regression_lbfgs_stops_on_the_gradient():
    """Check that L-BFGS stops as soon as the gradient is below tol, not later."""
    X, y, _ = _data(n_samples=900, n_features=40, n_classes=8, seed=13)
    for tol in [1e-3, 1e-5]:
        clf = LogisticRegression(tol=tol).fit(X, y)
        assert clf.solver_ == "lbfgs"
        W = np.column_stack([clf.coef_, clf.intercept_])
        objective = _logistic._LogisticObjective(
            X, y, np.ones(len(y)), 1.0 / len(y), n_classes=8, fit_intercept=True
        )
        assert np.abs(objective.evaluate(W)[2]).max() <= tol
        # One iteration fewer would have stopped too early.
        with pytest.warns(ConvergenceWarning):
            LogisticRegression(tol=tol, max_iter=clf.n_iter_[0] - 1).fit(X, y)


def test_logistic_regression_lbfgs_badly_scaled_features():
    """Check that L-BFGS converges on features of large means and scales."""
    X, y, _ = _data(n_samples=1500, n_features=80, n_classes=4, seed=14)
    scales = np.logspace(-2, 3, 80)
    X_bad = X * scales + 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = LogisticRegression().fit(X_bad, y)
    assert clf.solver_ == "lbfgs"
    peer = _reference().fit(X_bad, y)
    assert_allclose(clf.predict_proba(X_bad), peer.predict_proba(X_bad), atol=1e-3)


def test_logistic_regression_lbfgs_compact_direction():
    """Check the compact L-BFGS product against the two-loop recursion."""
    rng = np.random.default_rng(15)
    A = rng.standard_normal((30, 30))
    hessian = A @ A.T + np.eye(30)
    steps = list(rng.standard_normal((6, 30)))
    changes = [hessian @ s for s in steps]
    g = rng.standard_normal(30)
    # Nocedal and Wright, Numerical Optimization, algorithm 7.4.
    q = g.copy()
    alphas = []
    for s, y in zip(reversed(steps), reversed(changes)):
        alphas.append((s @ q) / (s @ y))
        q -= alphas[-1] * y
    q *= (steps[-1] @ changes[-1]) / (changes[-1] @ changes[-1])
    for s, y, alpha in zip(steps, changes, reversed(alphas)):
        q += (alpha - (y @ q) / (s @ y)) * s
    direction = _lbfgs._quasi_newton_direction(g, steps, changes)
    assert_allclose(direction, -q, rtol=1e-10)
    # The secant equation of the newest pair holds exactly.
    assert_allclose(
        _lbfgs._quasi_newton_direction(changes[-1], steps, changes),
        -steps[-1],
        rtol=1e-10,
    )
    assert_array_equal(_lbfgs._quasi_newton_direction(g, [], []), -g)


def test_logistic_regression_probabilities():
    """Check predict, predict_proba, predict_log_proba and decision_function."""
    X, y, _ = _data(n_classes=3, seed=9)
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = LogisticRegression().fit(X, labels)
    assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    scores = clf.decision_function(X)
    assert scores.shape == (300, 3)
    assert_array_equal(clf.predict(X), clf.classes_[scores.argmax(axis=1)])
    assert_allclose(clf.intercept_.sum(), 0.0, atol=1e-10)

    binary = LogisticRegression().fit(X, labels == "dog")
    scores = binary.decision_function(X)
    assert scores.shape == (300,)
    assert_allclose(binary.predict_proba(X)[:, 1], expit(scores))
    # No underflow: log-probabilities stay finite far from the boundary.
    far = 1e4 * np.sign(binary.coef_) * np.ones((1, 6))
    assert np.all(np.isfinite(binary.predict_log_proba(far)))


def test_logistic_regression_warns_at_max_iter():
    """Check the ConvergenceWarning and n_iter_ when max_iter is reached."""
    X, y, _ = _data(seed=10)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        clf = LogisticRegression(max_iter=1).fit(X, y)
    assert_array_equal(clf.n_iter_, [1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = LogisticRegression().fit(X, y)
    assert 1 < clf.n_iter_[0] < 20


def test_logistic_regression_errors():
    """Check the errors for a single class and a class without weight."""
    X, y, weights = _data(seed=11)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, np.zeros(len(y)))
    no_weight_for_0 = np.where(y == 0, 0.0, weights)
    for class_weight in [None, "balanced"]:
        with pytest.raises(ValueError, match=r"classes \[0\] have a total sample"):
            LogisticRegression(class_weight=class_weight).fit(
                X, y, sample_weight=no_weight_for_0
            )
    with pytest.raises(ValueError, match=r"classes \[1\] have a total sample"):
        LogisticRegression(class_weight={0: 1.0, 1: 0.0}).fit(X, y)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_logistic_regression_does_not_modify_inputs(container):
    """Check that X, y and sample_weight are left as they were."""
    X, y, weights = _data(n_classes=3, seed=12)
    X = container(X)
    copies = [X.copy(), y.copy(), weights.copy()]
    LogisticRegression(class_weight="balanced").fit(X, y, sample_weight=weights)
    for original, copy in zip([X, y, weights], copies):
        assert_array_equal(
            original.toarray() if sp.issparse(original) else original,
            copy.toarray() if sp.issparse(copy) else copy,
        )


def test_logistic_regression_pandas_input():
    """Check that a DataFrame is accepted and its column names recorded."""
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n_features=3, seed=13)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = LogisticRegression().fit(frame, pd.Series(y))
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c"])
    assert_allclose(clf.decision_function(frame), X @ clf.coef_[0] + clf.intercept_)


def test_logistic_regression_history():
    """Check the historical metadata read by the comparison tools."""
    history = LogisticRegression._history
    assert (history.era, history.year) == ("classical", 1958)
    assert "Cox" in history.reference
    assert history.peer == "sklearn.linear_model:LogisticRegression"
    assert isinstance(history.make_peer(), SklearnLogisticRegression)


@pytest.mark.parametrize(
    "X_bad, y_bad, fit_params, error, match",
    [
        (np.ones((4, 2)), [1, 1, 1, 1], {}, ValueError, "only one class"),
        (
            np.ones((4, 2)),
            [0, 1, 0, 1],
            {"sample_weight": [1.0, -1.0, 1.0, 1.0]},
            ValueError,
            "[Nn]egative",
        ),
        (
            np.ones((4, 2)),
            [0, 1, 0, 1],
            {"sample_weight": [0.0, 1.0, 0.0, 1.0]},
            ValueError,
            "total sample weight of zero",
        ),
        (np.full((4, 2), np.nan), [0, 1, 0, 1], {}, ValueError, "NaN"),
    ],
)
def test_logistic_regression_failed_fit_leaves_estimator_unchanged(
    X_bad, y_bad, fit_params, error, match
):
    """Check that a fit that raises leaves the fitted attributes as they were."""
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n_features=3, seed=14)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = LogisticRegression().fit(frame, y)
    predictions = clf.predict_proba(frame)
    bad_frame = pd.DataFrame(X_bad, columns=["x", "y"])
    with assert_state_unchanged(clf), pytest.raises(error, match=match):
        clf.fit(bad_frame, y_bad, **fit_params)
    assert_array_equal(clf.predict_proba(frame), predictions)
