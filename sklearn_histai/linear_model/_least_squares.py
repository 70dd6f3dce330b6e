"""Least squares by the normal equations, with a stable fallback when they fail."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import lapack
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from sklearn_histai.linear_model._blocks import (
    row_blocks,
    rows_per_block,
    single_threaded_blas,
)
from sklearn_histai.utils import ModelHistory

# Forming X^T X squares the condition number of X. The Cholesky solution is
# accepted while the estimated reciprocal condition number of the
# (equilibrated) normal matrix is at least sqrt(eps): then at least half of
# the digits survive, a relative error of about 1e-8 at worst.
_RCOND_THRESHOLD = np.sqrt(np.finfo(np.float64).eps)

# Without weights, X^T X is formed from the raw X and centred afterwards,
# ``X^T X - n m m^T``, unless the means carry more than this share of the
# diagonal: the subtraction then amplifies the rounding of X^T X by at most
# 1 / (1 - share) = 16, comparable to the Cholesky factorisation's own.
_MAX_MEAN_SHARE = 15 / 16


class IllConditionedWarning(UserWarning):
    """Warning that the normal equations were too ill-conditioned to be trusted.

    :class:`LeastSquaresRegressor` issues it when it abandons the Cholesky
    solution of the normal equations for a rank-revealing solver.
    """


# The products X^T X and [Y, 1]^T X are accumulated over blocks of this many
# times BLOCK_SIZE values (2 MB): each block is read from memory once for
# both, and is large enough for matrix-matrix products at full speed.
_PRODUCT_BLOCK_SCALE = 4


def _weighted_mean(X, weights):
    """Return the weighted mean of the rows of X (dense or sparse)."""
    if weights is None:
        return np.asarray(X.mean(axis=0)).ravel()
    return np.asarray(safe_sparse_dot(weights, X)).ravel() / weights.sum()


def _check_finite_means(means, X, estimator_name):
    """Raise scikit-learn's error for non-finite X when its means are not finite.

    A NaN or infinite entry of X makes the (weighted) mean of its column NaN
    or infinite, even with a zero weight: the means, computed anyway,
    replace a separate pass over X. Finite values whose sum overflows pass
    the full check.
    """
    if not np.isfinite(means).all():
        assert_all_finite(X, input_name="X", estimator_name=estimator_name)


def _products(X, Y):
    """Return ``X^T X``, ``X^T Y`` and the column sums of dense X in one pass.

    X is read block of rows by block of rows, and each block serves both
    products while it is in cache. numpy computes ``block.T @ block`` by
    BLAS's symmetric rank-k update (syrk).
    """
    n_samples, n_features = X.shape
    # [Y, 1]^T, so that the sums of X come with X^T Y from one product.
    targets = np.empty((Y.shape[1] + 1, n_samples))
    targets[:-1] = Y.T
    targets[-1] = 1.0
    gram = np.zeros((n_features, n_features))
    products = np.zeros((targets.shape[0], n_features))
    for rows in row_blocks(n_samples, n_features, _PRODUCT_BLOCK_SCALE):
        block = X[rows]
        gram += block.T @ block
        products += targets[:, rows] @ block
    return gram, products[:-1].T, products[-1]


def _normal_equations(X, Y, weights, fit_intercept, estimator_name):
    """Return ``Xc^T W Xc``, ``Xc^T W Yc`` and the means of X and Y.

    Xc and Yc are X and Y centred by their weighted means (not centred
    without an intercept). Sparse X is centred implicitly, through ``X^T W X
    - sum(w) m m^T``; dense X too when the means are small enough for the
    subtraction to be accurate, otherwise block of rows by block of rows, so
    that X is never copied. Dense X, which was not checked for non-finite
    values, is checked through its means here.
    """
    n_samples, n_features = X.shape
    sparse = sp.issparse(X)
    # Non-finite values of X raise an error below, not a RuntimeWarning here.
    with np.errstate(invalid="ignore", over="ignore"):
        if weights is None and not sparse:
            gram, xty, x_sum = _products(X, Y)
            x_mean = x_sum / n_samples
        else:
            x_mean = _weighted_mean(X, weights)
    if not sparse:
        _check_finite_means(x_mean, X, estimator_name)
    y_mean = _weighted_mean(Y, weights)
    if not fit_intercept:
        x_mean, y_mean = np.zeros(n_features), np.zeros(Y.shape[1])
    if weights is None and not sparse and not fit_intercept:
        return gram, xty, x_mean, y_mean

    if sparse:
        WY = Y - y_mean if weights is None else (Y - y_mean) * weights[:, None]
        WX = X if weights is None else X.multiply(weights[:, None]).tocsr()
        gram = np.asarray((X.T @ WX).todense())
        xty = np.asarray(safe_sparse_dot(X.T, WY))
        total = n_samples if weights is None else weights.sum()
        gram -= total * np.outer(x_mean, x_mean)
        xty -= np.outer(x_mean, WY.sum(axis=0))
        return gram, xty, x_mean, y_mean

    if weights is None:
        tiny = np.finfo(float).tiny
        x_share = n_samples * x_mean**2 / np.maximum(np.diag(gram), tiny)
        y_share = n_samples * y_mean**2 / np.maximum((Y * Y).sum(axis=0), tiny)
        if max(x_share.max(initial=0.0), y_share.max()) <= _MAX_MEAN_SHARE:
            gram -= n_samples * np.outer(x_mean, x_mean)
            xty -= n_samples * np.outer(x_mean, y_mean)
            return gram, xty, x_mean, y_mean

    gram = np.zeros((n_features, n_features))
    xty = np.zeros((n_features, Y.shape[1]))
    buffer = np.empty((min(rows_per_block(n_features), n_samples), n_features))
    with single_threaded_blas():
        for rows in row_blocks(n_samples, n_features):
            block = buffer[: rows.stop - rows.start]
            np.subtract(X[rows], x_mean, out=block)
            # In exact arithmetic Xc^T 1 = 0 and Y need not be centred, but
            # the rounding of the means would be multiplied by that of Y.
            Y_block = Y[rows] - y_mean
            if weights is not None:
                root = np.sqrt(weights[rows])[:, None]
                block *= root
                Y_block *= root
            gram += block.T @ block
            xty += block.T @ Y_block
    return gram, xty, x_mean, y_mean


def _cholesky(gram, xty, alpha):
    """Solve ``(gram + alpha I) theta = xty`` by Cholesky, or return None.

    The matrix is scaled to a unit diagonal first, so that features on very
    different scales do not look ill-conditioned. Returns the solution and
    the estimated reciprocal condition number (0 when the factorisation
    fails).
    """
    A = gram.copy()
    A[np.diag_indices_from(A)] += alpha
    diag = np.diag(A).copy()
    if not np.all(diag > 0.0):
        return None, 0.0
    scale = 1.0 / np.sqrt(diag)
    A *= scale[:, None]
    A *= scale[None, :]
    anorm = np.abs(A).sum(axis=0).max()
    try:
        factor = linalg.cho_factor(A, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None, 0.0
    rcond, info = lapack.dpocon(factor[0], anorm)
    if info != 0 or not rcond >= _RCOND_THRESHOLD:
        return None, rcond
    theta = linalg.cho_solve(factor, xty * scale[:, None], check_finite=False)
    return theta * scale[:, None], rcond


def _lstsq_dense(X, Y, weights, x_mean, y_mean, alpha):
    """Minimum-norm solution by an SVD of the centred, weighted X (``gelsd``)."""
    A = X - x_mean
    B = Y - y_mean
    if weights is not None:
        root = np.sqrt(weights)[:, None]
        A *= root
        B *= root
    if alpha > 0.0:
        # Ridge as an ordinary least squares problem on augmented data.
        n_features = X.shape[1]
        A = np.vstack([A, np.sqrt(alpha) * np.eye(n_features)])
        B = np.vstack([B, np.zeros((n_features, Y.shape[1]))])
    # Singular values below max(n, p) * eps of the largest are rounding noise
    # (numpy's default cutoff; LAPACK's own, eps alone, keeps them).
    cond = max(A.shape) * np.finfo(np.float64).eps
    theta, _, rank, _ = linalg.lstsq(
        A, B, cond=cond, lapack_driver="gelsd", check_finite=False
    )
    return theta, int(rank)


def _pinv_normal_equations(gram, xty, alpha, n_samples):
    """Minimum-norm solution from an eigendecomposition of the normal matrix."""
    A = gram.copy()
    A[np.diag_indices_from(A)] += alpha
    eigvals, eigvecs = linalg.eigh(A, check_finite=False)
    cutoff = max(A.shape[0], n_samples) * np.finfo(np.float64).eps
    keep = eigvals > cutoff * max(eigvals.max(), 0.0)
    V = eigvecs[:, keep]
    theta = V @ ((V.T @ xty) / eigvals[keep][:, None])
    return theta, int(keep.sum())


class LeastSquaresRegressor(RegressorMixin, BaseEstimator):
    """Linear least squares, solved in closed form by the normal equations.

    The coefficients minimise the (weighted) residual sum of squares, with
    an optional L2 penalty on the coefficients (not on the intercept):

    .. math::

        \\min_{\\theta, b} \\; \\sum_i w_i \\|y_i - x_i^T \\theta - b\\|^2
        + \\alpha \\|\\theta\\|^2.

    With ``alpha=0`` this is :class:`sklearn.linear_model.LinearRegression`,
    with ``alpha>0`` :class:`sklearn.linear_model.Ridge` (same objective).
    Single- and multi-output targets, dense and sparse ``X`` are supported.

    Parameters
    ----------
    alpha : float, default=0.0
        Strength of the L2 penalty; must be non-negative. Zero gives ordinary
        least squares.

    fit_intercept : bool, default=True
        Whether to fit an intercept. X and y are then centred (implicitly for
        sparse X, which is never densified) and the intercept is not
        penalised.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The coefficients; 2-D when y is 2-D.

    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s); zero when ``fit_intercept=False``.

    solver_ : {"cholesky", "lstsq", "eigh"}
        The solver that produced the solution: ``"cholesky"`` on the normal
        equations, or one of the rank-revealing fallbacks, ``"lstsq"`` (SVD of
        dense X) or ``"eigh"`` (eigendecomposition of the normal matrix of
        sparse X).

    rank_ : int
        Numerical rank of the (penalised, centred and weighted) system that
        was solved: ``n_features`` on the Cholesky path.

    rcond_ : float
        Estimated reciprocal condition number of the normal matrix after
        scaling it to a unit diagonal (0 when the Cholesky factorisation
        failed).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.LinearRegression : Ordinary least squares by an SVD.
    sklearn.linear_model.Ridge : Least squares with an L2 penalty.
    LogisticRegression : The maximum-likelihood linear classifier.

    Notes
    -----
    The fast path forms the normal equations
    :math:`(X_c^T W X_c + \\alpha I)\\,\\theta = X_c^T W y` with matrix-matrix
    products (X is centred after the product when its means are moderate,
    block of rows by block of rows otherwise, and never copied; sparse X is
    centred implicitly) and solves them by a Cholesky factorisation, scaled
    to a unit diagonal. This costs one pass over the data, against the SVD of
    the whole of X that ``LinearRegression`` computes: without weights, each
    block of rows of dense X gives its part of :math:`X^T X`, of
    :math:`X^T y` and of the column sums (the means, and the check for NaN
    or infinite values) while it is in cache. The normal matrix is dense,
    n_features by n_features, also for sparse X.

    Forming :math:`X^T X` squares the condition number of X. When the
    Cholesky factorisation fails (X rank-deficient, e.g. collinear or
    constant features, or fewer samples than features) or LAPACK's estimate
    of its reciprocal condition number falls below ``sqrt(eps)`` (about
    1.5e-8), the estimator issues an :class:`IllConditionedWarning` and
    falls back to the minimum-norm least squares solution: ``scipy.linalg.lstsq``
    (an SVD, LAPACK ``gelsd``) of the centred X for dense input, a truncated
    eigendecomposition of the normal matrix for sparse input. ``solver_``
    and ``rank_`` record what happened.

    References
    ----------
    .. [1] A.-M. Legendre, "Nouvelles méthodes pour la détermination des
       orbites des comètes", Paris, 1805 (appendix "Sur la méthode des
       moindres quarrés").
    .. [2] C. F. Gauss, "Theoria motus corporum coelestium in sectionibus
       conicis solem ambientium", Hamburg, 1809.
    .. [3] G. H. Golub and C. F. Van Loan, "Matrix Computations", 4th ed.,
       Johns Hopkins University Press, 2013, section 5.3.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.linear_model import LeastSquaresRegressor
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]])
    >>> y = X @ np.array([1.0, 2.0]) + 3.0
    >>> reg = LeastSquaresRegressor().fit(X, y)
    >>> reg.coef_
    array([1., 2.])
    >>> reg.intercept_
    3.0...
    >>> reg.solver_
    'cholesky'
    >>> reg.predict(np.array([[3.0, 5.0]]))
    array([16.])
    """

    _history = ModelHistory(
        era="classical",
        year=1805,
        reference="Legendre (1805); Gauss (1809)",
        peer="sklearn.linear_model:LinearRegression",
        input="tabular",
    )

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, *, alpha=0.0, fit_intercept=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the least squares model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives every sample
            weight one.

        Returns
        -------
        self : LeastSquaresRegressor
            The fitted estimator.
        """
        # The estimator is only written to once the fit has succeeded, so
        # that a failed fit leaves it as it was: X is checked here, and the
        # features it has are recorded at the end.
        # Dense X is checked for non-finite values by the sums of its
        # columns, which the normal equations compute anyway.
        X_checked, y = check_X_y(
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=np.float64,
            ensure_all_finite=sp.issparse(X),
            y_numeric=True,
            multi_output=True,
            estimator=self,
        )
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, X_checked, dtype=np.float64, ensure_non_negative=True
            )
        Y = y.reshape(X_checked.shape[0], -1)
        n_features = X_checked.shape[1]
        gram, xty, x_mean, y_mean = _normal_equations(
            X_checked, Y, weights, self.fit_intercept, type(self).__name__
        )
        theta, rcond = _cholesky(gram, xty, self.alpha)
        if theta is not None:
            solver, rank = "cholesky", n_features
        else:
            if sp.issparse(X_checked):
                solver = "eigh"
                theta, rank = _pinv_normal_equations(
                    gram, xty, self.alpha, X_checked.shape[0]
                )
            else:
                solver = "lstsq"
                theta, rank = _lstsq_dense(
                    X_checked, Y, weights, x_mean, y_mean, self.alpha
                )
            warnings.warn(
                "The normal equations are singular or ill-conditioned "
                f"(reciprocal condition number {rcond:.2e} < "
                f"{_RCOND_THRESHOLD:.1e}): the minimum-norm least squares "
                f"solution was computed by {solver!r} instead, with rank "
                f"{rank} out of {n_features} features.",
                IllConditionedWarning,
                stacklevel=3,
            )

        coef = theta.T
        intercept = y_mean - coef @ x_mean
        # Records n_features_in_ and feature_names_in_.
        validate_data(self, X, skip_check_array=True)
        self.rcond_, self.solver_, self.rank_ = rcond, solver, rank
        if y.ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            ``X @ coef_.T + intercept_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        return np.asarray(safe_sparse_dot(X, self.coef_.T)) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
