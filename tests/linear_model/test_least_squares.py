"""Check the least squares regressor against scikit-learn and on hard data."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression, Ridge

from sklearn_histai.linear_model import (
    IllConditionedWarning,
    LeastSquaresRegressor,
    _blocks,
    _least_squares,
)

from estimator_instances import assert_state_unchanged

CONTAINERS = [np.asarray, sp.csr_matrix, sp.csc_matrix]


def _data(n_samples=200, n_features=8, n_targets=None, seed=0, offset=1.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) + offset
    shape = (n_features,) if n_targets is None else (n_features, n_targets)
    y = X @ rng.standard_normal(shape) + 0.1 * rng.standard_normal(
        (n_samples,) if n_targets is None else (n_samples, n_targets)
    )
    weights = rng.uniform(0.1, 3.0, size=n_samples)
    return X, y, weights


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_least_squares_matches_linear_regression(
    container, weighted, n_targets, fit_intercept
):
    """Check that alpha=0 gives LinearRegression's coefficients and intercept."""
    X, y, weights = _data(n_targets=n_targets)
    sample_weight = weights if weighted else None
    ours = LeastSquaresRegressor(fit_intercept=fit_intercept).fit(
        container(X), y, sample_weight=sample_weight
    )
    peer = LinearRegression(fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sample_weight
    )
    assert ours.solver_ == "cholesky"
    assert ours.coef_.shape == peer.coef_.shape
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-6, atol=1e-10)
    assert_allclose(ours.predict(container(X)), peer.predict(X), rtol=1e-6)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_least_squares_matches_ridge(container, weighted, n_targets):
    """Check that alpha>0 gives the coefficients of Ridge (same objective)."""
    X, y, weights = _data(n_targets=n_targets, seed=1)
    sample_weight = weights if weighted else None
    ours = LeastSquaresRegressor(alpha=30.0).fit(
        container(X), y, sample_weight=sample_weight
    )
    peer = Ridge(alpha=30.0, solver="cholesky").fit(X, y, sample_weight=sample_weight)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-6)
    # The penalty shrinks the coefficients towards zero.
    plain = LeastSquaresRegressor().fit(X, y, sample_weight=sample_weight)
    assert np.linalg.norm(ours.coef_) < np.linalg.norm(plain.coef_)


def test_least_squares_output_shapes():
    """Check the shapes of coef_ and intercept_ for 1-D, column and 2-D y."""
    X, y, _ = _data(n_targets=2)
    reg = LeastSquaresRegressor()
    assert reg.fit(X, y[:, 0]).coef_.shape == (8,)
    assert isinstance(reg.intercept_, float)
    assert reg.predict(X).shape == (200,)
    assert reg.fit(X, y[:, :1]).coef_.shape == (1, 8)
    assert reg.intercept_.shape == (1,)
    assert reg.fit(X, y).coef_.shape == (2, 8)
    assert reg.predict(X).shape == (200, 2)
    no_intercept = LeastSquaresRegressor(fit_intercept=False).fit(X, y)
    assert_array_equal(no_intercept.intercept_, [0.0, 0.0])


@pytest.mark.parametrize("container", CONTAINERS)
def test_least_squares_rank_deficient_falls_back_to_minimum_norm(container):
    """Check that collinear columns give a warning and the minimum-norm solution."""
    X, y, _ = _data(n_features=5, seed=2)
    X = np.column_stack([X, X[:, 0], 2.0 * X[:, 1]])
    with pytest.warns(IllConditionedWarning, match="ill-conditioned"):
        ours = LeastSquaresRegressor().fit(container(X), y)
    assert ours.solver_ == ("lstsq" if container is np.asarray else "eigh")
    assert ours.rank_ == 5
    # LinearRegression's SVD solution is the minimum-norm one as well.
    peer = LinearRegression().fit(X, y)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6)
    assert_allclose(ours.coef_[0], ours.coef_[5])
    assert_allclose(ours.predict(container(X)), peer.predict(X), rtol=1e-8)


def test_least_squares_more_features_than_samples():
    """Check that p > n interpolates with the minimum-norm coefficients."""
    X, y, _ = _data(n_samples=10, n_features=30, seed=3)
    with pytest.warns(IllConditionedWarning):
        ours = LeastSquaresRegressor().fit(X, y)
    assert ours.rank_ == 9
    assert_allclose(ours.predict(X), y, atol=1e-8)
    assert_allclose(ours.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-6)


def test_least_squares_ill_conditioned_falls_back_accurately():
    """Check that nearly collinear data fall back and stay accurate."""
    rng = np.random.default_rng(4)
    base = rng.standard_normal((500, 3))
    # Condition number of X about 1e7, of X^T X about 1e14.
    X = np.column_stack([base, base[:, 0] + 1e-7 * rng.standard_normal(500)])
    coef = np.array([1.0, -2.0, 0.5, 3.0])
    y = X @ coef + 1.0
    with pytest.warns(IllConditionedWarning):
        ours = LeastSquaresRegressor().fit(X, y)
    assert ours.solver_ == "lstsq"
    assert ours.rcond_ < _least_squares._RCOND_THRESHOLD
    # Noise-free data: the exact coefficients are recoverable from X itself,
    # but not from X^T X, whose condition number is about 1 / eps.
    assert_allclose(ours.coef_, coef, rtol=1e-6)
    assert_allclose(ours.intercept_, 1.0, rtol=1e-8)


def test_least_squares_badly_scaled_features_stay_on_the_fast_path():
    """Check that features on scales from 1e-6 to 1e6 are not ill-conditioned."""
    X, y, _ = _data(n_features=4, seed=5)
    scales = np.array([1e-6, 1.0, 1e3, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        ours = LeastSquaresRegressor().fit(X * scales, y)
    assert ours.solver_ == "cholesky"
    # Rescaling a column rescales its coefficient inversely. (The SVD of
    # LinearRegression is not scale-invariant: it loses the smallest column.)
    expected = LinearRegression().fit(X, y).coef_ / scales
    assert_allclose(ours.coef_, expected, rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_least_squares_large_means_centred_exactly(weighted, monkeypatch):
    """Check accuracy when the means dwarf the spread (blocks of rows)."""
    # Small blocks so that several of them, and a partial one, are used.
    monkeypatch.setattr(_blocks, "BLOCK_SIZE", 64)
    X, y, weights = _data(n_samples=301, n_features=5, seed=6, offset=0.0)
    X = X + 1e6
    y = y + 1e7
    sample_weight = weights if weighted else None
    ours = LeastSquaresRegressor().fit(X, y, sample_weight=sample_weight)
    peer = LinearRegression().fit(X, y, sample_weight=sample_weight)
    assert ours.solver_ == "cholesky"
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-6)
    assert_allclose(ours.predict(X), peer.predict(X), rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_least_squares_products_over_blocks(fit_intercept, n_targets, monkeypatch):
    """Check the one-pass products of X^T X, X^T y and the sums over many blocks."""
    # Blocks of 4 * 16 values: 8 rows of 8 features, the last one partial.
    monkeypatch.setattr(_blocks, "BLOCK_SIZE", 16)
    X, y, _ = _data(n_samples=203, n_targets=n_targets, seed=12)
    Y = y.reshape(len(y), -1)
    gram, xty, sums = _least_squares._products(X, Y)
    assert_allclose(gram, X.T @ X, rtol=1e-12)
    assert_allclose(xty, X.T @ Y, rtol=1e-12)
    assert_allclose(sums, X.sum(axis=0), rtol=1e-12)
    ours = LeastSquaresRegressor(fit_intercept=fit_intercept).fit(X, y)
    peer = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    assert_allclose(ours.coef_, peer.coef_, rtol=1e-8)
    assert_allclose(ours.intercept_, peer.intercept_, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "value, match",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
    ],
)
def test_least_squares_non_finite_dense_x(weighted, fit_intercept, value, match):
    """Check that NaN or infinite entries of dense X raise scikit-learn's error."""
    X, y, weights = _data(seed=13)
    X[17, 3] = value
    reg = LeastSquaresRegressor(fit_intercept=fit_intercept)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y, sample_weight=weights if weighted else None)
    # A zero weight does not hide the entry.
    weights[17] = 0.0
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y, sample_weight=weights)
    assert not hasattr(reg, "coef_")


def test_least_squares_single_sample():
    """Check that one sample gives zero coefficients and the target as intercept."""
    with pytest.warns(IllConditionedWarning):
        reg = LeastSquaresRegressor().fit([[1.0, 2.0]], [3.0])
    assert_array_equal(reg.coef_, [0.0, 0.0])
    assert reg.intercept_ == 3.0


@pytest.mark.parametrize("container", CONTAINERS)
def test_least_squares_does_not_modify_inputs(container):
    """Check that X, y and sample_weight are left as they were."""
    X, y, weights = _data(n_targets=2, seed=7)
    X = container(X)
    copies = [X.copy(), y.copy(), weights.copy()]
    LeastSquaresRegressor(alpha=1.0).fit(X, y, sample_weight=weights).predict(X)
    for original, copy in zip([X, y, weights], copies):
        assert_array_equal(
            original.toarray() if sp.issparse(original) else original,
            copy.toarray() if sp.issparse(copy) else copy,
        )


def test_least_squares_pandas_input():
    """Check that a DataFrame is accepted and its column names recorded."""
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n_features=3, seed=8)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = LeastSquaresRegressor().fit(frame, pd.Series(y))
    assert_array_equal(reg.feature_names_in_, ["a", "b", "c"])
    assert_allclose(reg.predict(frame), X @ reg.coef_ + reg.intercept_)


def test_least_squares_rejects_negative_weights():
    """Check that negative sample weights are rejected with a clear error."""
    X, y, weights = _data(seed=9)
    weights[3] = -1.0
    with pytest.raises(ValueError, match="[Nn]egative"):
        LeastSquaresRegressor().fit(X, y, sample_weight=weights)


def test_least_squares_history():
    """Check the historical metadata read by the comparison tools."""
    history = LeastSquaresRegressor._history
    assert (history.era, history.year) == ("classical", 1805)
    assert "Legendre" in history.reference and "Gauss" in history.reference
    assert history.peer == "sklearn.linear_model:LinearRegression"
    assert isinstance(history.make_peer(), LinearRegression)


@pytest.mark.parametrize(
    "X_bad, y_bad, fit_params, match",
    [
        (np.ones((4, 2)), np.ones(4), {"sample_weight": [1, -1, 1, 1]}, "[Nn]egative"),
        (np.full((4, 2), np.inf), np.ones(4), {}, "infinity"),
        (np.ones((4, 2)), np.ones(3), {}, "inconsistent numbers of samples"),
    ],
)
def test_least_squares_failed_fit_leaves_estimator_unchanged(
    X_bad, y_bad, fit_params, match
):
    """Check that a fit that raises leaves the fitted attributes as they were."""
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n_features=3, seed=10)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    reg = LeastSquaresRegressor().fit(frame, y)
    predictions = reg.predict(frame)
    with assert_state_unchanged(reg), pytest.raises(ValueError, match=match):
        reg.fit(pd.DataFrame(X_bad, columns=["x", "y"]), y_bad, **fit_params)
    assert_array_equal(reg.predict(frame), predictions)


def test_least_squares_fit_that_warns_as_error_leaves_estimator_unchanged():
    """Check that an ill-conditioning warning raised as an error changes nothing."""
    X, y, _ = _data(n_features=3, seed=11)
    reg = LeastSquaresRegressor().fit(X, y)
    collinear = np.column_stack([X[:, 0], X[:, 0]])
    with warnings.catch_warnings(), assert_state_unchanged(reg):
        warnings.simplefilter("error", IllConditionedWarning)
        with pytest.raises(IllConditionedWarning):
            reg.fit(collinear, y)
