"""Maximum-likelihood logistic regression by Newton's method or L-BFGS."""

import warnings
from functools import cached_property
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import lapack
from scipy.special import expit, log_expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from sklearn_histai.linear_model._blocks import row_blocks, single_threaded_blas
from sklearn_histai.linear_model._lbfgs import minimize_lbfgs
from sklearn_histai.utils import ModelHistory

# The Newton system is solved by a Cholesky factorisation of the explicit
# Hessian when X is dense and the model has at most this many parameters;
# otherwise by conjugate gradients on Hessian-vector products, which never
# form a matrix of size n_parameters x n_parameters.
_CHOLESKY_MAX_PARAMS = 300

# The explicit Hessian of tall data is estimated on a regular subsample of
# the rows, of at least this many samples, and this many per parameter.
_HESSIAN_MIN_SAMPLES = 2_000
_HESSIAN_SAMPLES_PER_PARAM = 50

_EPS = np.finfo(np.float64).eps


class _LogisticObjective:
    """Penalised, weighted mean log-loss of a linear model and its derivatives.

    The parameters are an array ``W`` of shape (n_outputs, n_features +
    fit_intercept): one row for the binary model, one row per class for the
    multinomial model, the intercepts in the last column. The objective is

        f(W) = sum_i s_i loss_i(W [x_i, 1]) + lam / 2 * ||coef||^2

    with ``s`` the sample weights normalised to sum one and ``lam = 1 / (C *
    sum of weights)``: the objective of scikit-learn's LogisticRegression,
    ``C * sum_i w_i loss_i + ||coef||^2 / 2``, divided by ``C * sum_i w_i``.
    Raw predictions, probabilities and pointwise gradients are stored as
    (n_outputs, n_samples) arrays, so that sums over the classes are
    vectorised over the samples.

    For the conjugate gradient solver the Newton system is written in centred
    coordinates, ``(coef, intercept + mean @ coef)``. The intercept is not
    penalised, so this change of variables leaves the problem unchanged, but
    it decouples the intercept from the coefficients and so makes the system
    far better conditioned when the features have non-zero means.
    """

    def __init__(self, X, y, sample_weight, lam, n_classes, fit_intercept):
        self.X = X
        self.y = y
        self.s = sample_weight / sample_weight.sum()
        self.lam = lam
        self.binary = n_classes == 2
        self.n_outputs = 1 if self.binary else n_classes
        self.fit_intercept = fit_intercept
        self.n_features = X.shape[1]
        self.sparse = sp.issparse(X)
        if self.binary:
            self.sy = self.s * y
        self._X_squared = None
        n_params = self.n_outputs * (self.n_features + fit_intercept)
        n_kept = max(_HESSIAN_MIN_SAMPLES, _HESSIAN_SAMPLES_PER_PARAM * n_params)
        self.hessian_stride = max(1, X.shape[0] // n_kept)

    @cached_property
    def mean(self):
        """The weighted mean of the features, for the centred coordinates."""
        return np.asarray(safe_sparse_dot(self.s, self.X)).ravel()

    # -- the linear predictor and its transpose ------------------------------
    def raw(self, W):
        """Return the raw predictions ``W [X, 1]^T``, shape (n_outputs, n)."""
        p = self.n_features
        if self.sparse:
            Z = np.ascontiguousarray(safe_sparse_dot(self.X, W[:, :p].T).T)
        else:
            Z = W[:, :p] @ self.X.T
        if self.fit_intercept:
            Z += W[:, p : p + 1]
        return Z

    def _rmatvec(self, R, out):
        """Write ``R @ [X, 1]`` into ``out``, shape (n_outputs, n_features + fi)."""
        p = self.n_features
        if self.sparse:
            out[:, :p] = safe_sparse_dot(self.X.T, R.T).T
        else:
            out[:, :p] = R @ self.X
        if self.fit_intercept:
            out[:, p] = R.sum(axis=1)
        return out

    def _X_squared_rmatvec(self, H):
        """Return ``H @ (X * X)`` without keeping a dense copy of ``X * X``."""
        if self.sparse:
            if self._X_squared is None:
                self._X_squared = self.X.multiply(self.X).tocsr()
            return np.asarray(safe_sparse_dot(self._X_squared.T, H.T)).T
        out = np.zeros((H.shape[0], self.n_features))
        for rows in row_blocks(*self.X.shape):
            block = self.X[rows]
            out += H[:, rows] @ (block * block)
        return out

    def to_uncentred(self, V):
        """Map a direction from centred to model coordinates."""
        if not self.fit_intercept:
            return V
        U = V.copy()
        U[:, -1] -= V[:, :-1] @ self.mean
        return U

    def to_centred_gradient(self, G):
        """Map a gradient from model to centred coordinates (the transpose map)."""
        if not self.fit_intercept:
            return G
        Gc = G.copy()
        Gc[:, :-1] -= np.outer(G[:, -1], self.mean)
        return Gc

    # -- the loss and its derivatives ------------------------------------------
    def pointwise(self, Z, rows=slice(None), derivatives=True):
        """Return the weighted loss of the samples ``rows`` from their ``Z``.

        With ``derivatives``, also return the gradient ``R`` with respect to
        the raw predictions, already multiplied by the normalised sample
        weights, and the probabilities; both of shape (n_outputs, n_rows).
        """
        s = self.s[rows]
        if self.binary:
            z = Z[0]
            # log(1 + exp(z)) and the sigmoid from a single exponential;
            # log(1 + e) instead of log1p(e) is vectorised, and its absolute
            # error (< eps per sample) does not matter in a sum of losses.
            e = np.abs(z)
            np.negative(e, out=e)
            np.exp(e, out=e)
            loss = s @ np.log(1.0 + e) + s @ np.maximum(z, 0.0) - self.sy[rows] @ z
            if not derivatives:
                return loss
            proba = 1.0 / (1.0 + e)
            np.multiply(proba, e, out=proba, where=z < 0.0)
            R = s * proba
            R -= self.sy[rows]
            return loss, R[None, :], proba[None, :]
        # The entries of the true classes, (y_i, i), picked by index.
        true = (self.y[rows], np.arange(Z.shape[1]))
        z_max = Z.max(axis=0)
        proba = Z - z_max
        np.exp(proba, out=proba)
        total = proba.sum(axis=0)
        loss = s @ (np.log(total) + z_max - Z[true])
        if not derivatives:
            return loss
        proba /= total
        R = proba * s
        R[true] -= s
        return loss, R, proba

    def penalty(self, W):
        """Return the L2 penalty of the coefficients (not of the intercepts)."""
        coef = W[:, : self.n_features]
        return 0.5 * self.lam * np.vdot(coef, coef)

    def evaluate(self, W):
        """Return ``(Z, f, G, proba)`` at ``W``.

        ``Z`` are the raw predictions, ``f`` the objective, ``G`` its
        gradient and ``proba`` the probabilities. Dense X is read once, block
        of rows by block of rows: each block gives its predictions and its
        part of the gradient while it is in cache.
        """
        p, K = self.n_features, self.n_outputs
        G = np.zeros_like(W)
        if self.sparse:
            Z = self.raw(W)
            loss, R, proba = self.pointwise(Z)
            self._rmatvec(R, G)
        else:
            n_samples = self.X.shape[0]
            Z = np.empty((K, n_samples))
            proba = np.empty((K, n_samples))
            loss = 0.0
            for rows in row_blocks(n_samples, p):
                block = self.X[rows]
                Z_rows = W[:, :p] @ block.T
                if self.fit_intercept:
                    Z_rows += W[:, p : p + 1]
                Z[:, rows] = Z_rows
                loss_rows, R, proba[:, rows] = self.pointwise(Z_rows, rows)
                loss += loss_rows
                G[:, :p] += R @ block
                if self.fit_intercept:
                    G[:, p] += R.sum(axis=1)
        G[:, :p] += self.lam * W[:, :p]
        return Z, loss + self.penalty(W), G, proba

    def gradient(self, W, R):
        """Return the gradient of the objective from the pointwise gradient."""
        G = self._rmatvec(R, np.empty_like(W))
        G[:, : self.n_features] += self.lam * W[:, : self.n_features]
        return G

    def hessian(self, proba):
        """Return the explicit Hessian in model coordinates (dense X only).

        The rows and columns follow ``W.ravel()``. On tall data the loss
        part is estimated on every ``hessian_stride``-th sample only: the
        Hessian then costs a fraction of a pass over X. The Newton direction
        is slightly less exact, the gradient (and so the optimum) is exact,
        and each iteration still divides the error by a large factor.
        """
        p, K = self.n_features, self.n_outputs
        q = p + self.fit_intercept
        X, s = self.X, self.s
        stride = self.hessian_stride
        if stride > 1:
            X, proba, s = X[::stride], proba[:, ::stride], s[::stride]
            s = s / s.sum()
        H = np.zeros((K * q, K * q))
        for rows in row_blocks(X.shape[0], K * q):
            self._add_hessian(H, X[rows], proba[:, rows], s[rows])
        self._finish_hessian(H)
        return H

    def _add_hessian(self, H, block, proba, s):
        """Add the loss Hessian of one block of samples to ``H``.

        ``proba`` has shape (n_outputs, n_rows). The multinomial pointwise
        Hessian ``diag(p) - p p^T`` gives a block diagonal part, one weighted
        Gram matrix per class (one batched product), minus a Gram matrix of
        all the parameters.
        """
        p, K = self.n_features, self.n_outputs
        q = p + self.fit_intercept
        m = block.shape[0]
        if self.fit_intercept:
            A = np.empty((m, q))
            A[:, :p] = block
            A[:, p] = 1.0
        else:
            A = block
        if self.binary:
            # B^T B, a symmetric rank-k update (BLAS syrk).
            B = A * np.sqrt(s * proba[0] * (1.0 - proba[0]))[:, None]
            H += B.T @ B
            return
        per_class = (A.T * (s * proba)[:, None, :]) @ A
        C = (np.sqrt(s) * proba).T[:, :, None] * A[:, None, :]
        C = C.reshape(m, K * q)
        H -= C.T @ C
        classes = np.arange(K)
        H.reshape(K, q, K, q)[classes, :, classes, :] += per_class

    def _finish_hessian(self, H):
        """Add the penalty to the loss Hessian, and fix the softmax gauge."""
        p, K = self.n_features, self.n_outputs
        q = p + self.fit_intercept
        # H[(k, j), (l, i)] as H4[k, j, l, i]; a view.
        H4 = H.reshape(K, q, K, q)
        classes, features = np.arange(K)[:, None], np.arange(p)
        H4[classes, features, classes, features] += self.lam
        if not self.binary:
            # The multinomial loss does not change when the same vector is
            # added to the parameters of every class: the Hessian is singular
            # along those directions (for the intercepts always, for the
            # coefficients when C is infinite). The gradient is orthogonal to
            # them, so adding curvature there leaves the Newton step as it is
            # and makes the Cholesky factorisation possible.
            scale = np.trace(H) / (K * K * q)
            columns = np.arange(q)
            H4[:, columns, :, columns] += scale

    def _curvature(self, proba):
        """Return the diagonal of the pointwise Hessian, s * p * (1 - p)."""
        return self.s * proba * (1.0 - proba)

    def hessian_diagonal_centred(self, proba):
        """Return the diagonal of the Hessian in centred coordinates."""
        h = self._curvature(proba)
        diag = np.empty((self.n_outputs, self.n_features + self.fit_intercept))
        diag[:, : self.n_features] = self._X_squared_rmatvec(h)
        if self.fit_intercept:
            hx = self._rmatvec(h, np.empty_like(diag))[:, : self.n_features]
            h_sum = h.sum(axis=1)
            # sum_i h_i (x_ij - m_j)^2, expanded so that X is never centred.
            diag[:, : self.n_features] += (
                np.outer(h_sum, self.mean**2) - 2.0 * hx * self.mean
            )
            diag[:, -1] = h_sum
        diag[:, : self.n_features] += self.lam
        return np.maximum(diag, _EPS * max(1.0, diag.max()))

    def hessp_centred(self, V, proba):
        """Return the Hessian times ``V`` in centred coordinates, and ``raw(V)``.

        The raw predictions of the direction are returned too: the conjugate
        gradient solver accumulates them, so that the line search needs no
        further pass over X.
        """
        U_dir = self.to_uncentred(V)
        U = self.raw(U_dir)
        if self.binary:
            Q = self._curvature(proba) * U
        else:
            Q = proba * U
            Q -= proba * Q.sum(axis=0)
            Q *= self.s
        HV = self._rmatvec(Q, np.empty_like(V))
        HV[:, : self.n_features] += self.lam * U_dir[:, : self.n_features]
        return self.to_centred_gradient(HV), U


def _conjugate_gradient(objective, gradient, proba, max_iter):
    """Solve the Newton system inexactly by preconditioned conjugate gradients.

    The system is solved in centred coordinates, to the relative residual
    ``min(0.5, sqrt(||g||))``: loosely far from the optimum, tightly close
    to it, which keeps the convergence of Newton's method superlinear.
    Returns the direction in model coordinates and its raw predictions.
    """
    g = objective.to_centred_gradient(gradient)
    g_norm = np.linalg.norm(g)
    tol = min(0.5, np.sqrt(g_norm)) * g_norm
    diag = objective.hessian_diagonal_centred(proba)
    x = np.zeros_like(g)
    raw_x = np.zeros_like(proba)
    r = -g
    z = r / diag
    d = z.copy()
    rz = np.vdot(r, z)
    for _ in range(max_iter):
        if np.linalg.norm(r) <= tol:
            break
        Hd, raw_d = objective.hessp_centred(d, proba)
        curvature = np.vdot(d, Hd)
        if curvature <= 0.0:
            # Only rounding makes the penalised Hessian look indefinite; stop
            # with the last direction that is known to be a descent direction.
            if not x.any():
                x, raw_x = d, raw_d
            break
        alpha = rz / curvature
        x += alpha * d
        raw_x += alpha * raw_d
        r -= alpha * Hd
        z = r / diag
        rz_new = np.vdot(r, z)
        d *= rz_new / rz
        d += z
        rz = rz_new
    return objective.to_uncentred(x), raw_x


def _cholesky_solve(H, gradient):
    """Return the Newton step ``-H^{-1} g`` from the explicit Hessian."""
    g = gradient.ravel()
    # LAPACK directly: the symmetric H serves as its own (Fortran) transpose,
    # and scipy.linalg's wrappers cost more than the factorisation of the
    # small Hessians of the tabular tasks.
    factor, info = lapack.dpotrf(H.T, lower=0, clean=0)
    if info == 0:
        step, info = lapack.dpotrs(factor, g, lower=0)
    if info != 0:
        # Singular Hessian (C=inf on separable or collinear data): take the
        # minimum-norm Newton step instead.
        step = linalg.lstsq(H, g, check_finite=False)[0]
    return -step.reshape(gradient.shape)


def _sufficient_decrease(f, f_t, t, slope):
    """Armijo's condition, with the rounding of f allowed for the full step."""
    return f_t <= f + 1e-4 * t * slope or (t == 1.0 and f_t <= f + 64 * _EPS * abs(f))


def _backtrack(objective, W, Z, f, step, raw_step, slope, t=1.0):
    """Return the first step length of t, t/2, t/4, ... with enough decrease.

    Armijo's condition is tested on the raw predictions ``Z + t * raw_step``:
    no pass over X is needed. Close to the optimum the decrease falls below
    the rounding of f; the full Newton step is then accepted. Returns None
    when no step length decreases the objective.
    """
    for _ in range(40):
        f_t = objective.pointwise(Z + t * raw_step, derivatives=False)
        f_t += objective.penalty(W + t * step)
        if _sufficient_decrease(f, f_t, t, slope):
            return t
        t *= 0.5
    return None


def _newton(objective, W, solver, tol, max_iter):
    """Minimise the objective by a line-search Newton method.

    It stops when the largest entry of the gradient is at most ``tol`` and
    the last Newton step predicted a decrease of the objective of at most
    ``tol**2`` (the Newton decrement: what remains after it is far smaller)
    or below the rounding of the objective. Returns the parameters, the
    number of iterations, and "converged", "max_iter" or "line_search".
    """
    Z, f, G, proba = objective.evaluate(W)
    predicted_decrease = np.inf
    n_iter = 0
    while True:
        if np.max(np.abs(G)) <= tol and predicted_decrease <= max(
            tol**2, 16 * _EPS * abs(f)
        ):
            return W, n_iter, "converged"
        if n_iter == max_iter:
            return W, n_iter, "max_iter"
        n_iter += 1
        if solver == "newton-cholesky":
            step = _cholesky_solve(objective.hessian(proba), G)
            # The raw predictions of the step are not known: try the full
            # step with a complete pass, which is also the first pass of the
            # next iteration when the step is accepted, as it nearly always is.
            trial = objective.evaluate(W + step)
            raw_step = trial[0] - Z
        else:
            step, raw_step = _conjugate_gradient(objective, G, proba, max_iter=200)
            trial = None
        slope = np.vdot(G, step)
        if not slope < 0.0:
            return W, n_iter, "line_search"
        predicted_decrease = -0.5 * slope
        if trial is not None and _sufficient_decrease(f, trial[1], 1.0, slope):
            if np.linalg.norm(trial[2]) > 0.25 * np.linalg.norm(G):
                # A full step that divides the gradient by less than 4: the
                # subsampled Hessian is too rough, take four times more rows.
                objective.hessian_stride = max(1, objective.hessian_stride // 4)
            W = W + step
            Z, f, G, proba = trial
            continue
        t = _backtrack(
            objective, W, Z, f, step, raw_step, slope, t=1.0 if trial is None else 0.5
        )
        if t is None:
            return W, n_iter, "line_search"
        W = W + t * step
        Z = Z + t * raw_step
        loss, R, proba = objective.pointwise(Z)
        f = loss + objective.penalty(W)
        G = objective.gradient(W, R)


def _choose_solver(X, n_params):
    """Return the solver for data X and a model of ``n_params`` parameters."""
    if sp.issparse(X):
        return "newton-cg"
    if n_params <= _CHOLESKY_MAX_PARAMS:
        return "newton-cholesky"
    return "lbfgs"


def _check_positive_class_totals(classes, totals):
    """Raise an error unless every class has a positive total weight."""
    if not np.all(totals > 0.0):
        empty = classes[~(totals > 0.0)].tolist()
        raise ValueError(
            f"The classes {empty} have a total sample weight of zero (from "
            "sample_weight and class_weight): their intercepts would be "
            "infinite. Every class in y needs a positive weight."
        )


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Maximum-likelihood logistic regression with an L2 penalty.

    The binary model is ``P(y = 1 | x) = 1 / (1 + exp(-(x @ coef + b)))``;
    with more than two classes the multinomial (softmax) model, with one
    coefficient vector per class, is fitted. The coefficients minimise the
    objective of scikit-learn's :class:`sklearn.linear_model.LogisticRegression`

    .. math::

        C \\sum_i w_i \\, \\ell(y_i, x_i^T W + b) + \\tfrac{1}{2} \\|W\\|_F^2,

    where :math:`\\ell` is the log-loss, :math:`w_i` the sample weights times
    the class weights, and the intercepts :math:`b` are not penalised. Dense
    and sparse ``X`` are supported; sparse input is never densified.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength, a positive float; smaller
        values penalise more. ``C=np.inf`` fits the unpenalised maximum
        likelihood model (which does not exist for separable data).

    fit_intercept : bool, default=True
        Whether to fit intercepts. They are not penalised.

    class_weight : dict or "balanced", default=None
        Weights of the classes, ``{class_label: weight}``, multiplied into
        the sample weights. ``"balanced"`` weighs class ``k`` by
        ``sum(w) / (n_classes * sum of the weights of class k)``. None gives
        every class weight one.

    tol : float, default=1e-4
        Stop when the largest absolute entry of the gradient of the
        objective, divided by ``C * sum(w)``, is at most ``tol`` (the
        criterion of scikit-learn's solvers). The Newton solvers also wait
        until the last Newton step predicted a decrease of that objective of
        at most ``tol**2``; L-BFGS, like scikit-learn's, does not.

    max_iter : int, default=100
        Maximum number of iterations of the solver (Newton or L-BFGS).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The coefficients. One row for binary problems (the coefficients of
        ``classes_[1]``), one row per class for multinomial problems.

    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts, zero when ``fit_intercept=False``. The multinomial
        intercepts are centred to sum to zero.

    n_iter_ : ndarray of shape (1,)
        The number of iterations of the solver.

    solver_ : {"newton-cholesky", "newton-cg", "lbfgs"}
        The solver: Newton's method with the Newton systems solved by
        Cholesky or by conjugate gradients, or L-BFGS.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The scikit-learn estimator
        with the same objective and several solvers.
    LeastSquaresRegressor : Linear regression by least squares.

    Notes
    -----
    Every solver starts from the intercept-only model. The log-loss is
    smooth and, with the penalty, strongly convex. Sparse X and small dense
    models are fitted by Newton's method with a backtracking line search,
    which converges quadratically: a handful of iterations reach an optimum
    more precise than the tolerance asks for. It stops when the gradient is
    below ``tol`` and the predicted decrease of the objective below
    ``tol**2``. Each iteration solves the Newton system ``H d = -g`` in one
    of two ways:

    - ``"newton-cholesky"``, for dense X with at most 300 parameters: the
      Hessian is built with matrix-matrix products (BLAS-3) and factorised
      by Cholesky. On tall data it is estimated on every k-th row, at least
      50 rows per parameter (sub-sampled Newton, [3]_), with more rows when
      the iterations contract slowly; the gradient, read from X block of
      rows by block of rows in one pass, stays exact, and so does the
      optimum.
    - ``"newton-cg"`` for sparse X, in particular bag-of-words input with
      many columns: a truncated conjugate gradient on Hessian-vector
      products [2]_, preconditioned by the Hessian diagonal, in coordinates
      where the features are centred. It needs only products with ``X`` and
      ``X.T``, never a matrix of size n_features squared.

    Dense X with more than 300 parameters (``n_classes * (n_features + 1)``
    for multinomial models, e.g. 650 for the ten classes and 64 pixels of
    the digits) is fitted by ``"lbfgs"``, a limited-memory BFGS method
    [4]_ with the Wolfe line search, which stops on the gradient alone, as
    scikit-learn's does. Its Hessian would be too large to form, and the
    conjugate gradients of a Newton step need many Hessian-vector products
    (two passes over X each) on such models: an L-BFGS iteration costs two
    passes over X, and the line search none, since it works on the raw
    predictions, which are linear in the step. Its quasi-Newton matrix is
    built in centred coordinates scaled by the initial Hessian diagonal, so
    that features with large means or on different scales do not slow it
    down as they slow scikit-learn's. Sparse X stays with Newton's method:
    on bag-of-words data it reaches a lower objective in a handful of
    iterations, and multinomial models in less time than L-BFGS.

    References
    ----------
    .. [1] D. R. Cox, "The regression analysis of binary sequences", Journal
       of the Royal Statistical Society B, 20(2), 215-242, 1958.
    .. [2] S. G. Nash, "A survey of truncated-Newton methods", Journal of
       Computational and Applied Mathematics, 124, 45-59, 2000.
    .. [3] F. Roosta-Khorasani and M. W. Mahoney, "Sub-sampled Newton
       methods", Mathematical Programming, 174, 293-326, 2019.
    .. [4] D. C. Liu and J. Nocedal, "On the limited memory BFGS method for
       large scale optimization", Mathematical Programming, 45, 503-528,
       1989.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_histai.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression().fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> clf.predict(X[:2])
    array([0, 0])
    >>> round(clf.score(X, y), 2)  # as scikit-learn's LogisticRegression()
    0.97
    """

    _history = ModelHistory(
        era="classical",
        year=1958,
        reference='Cox (1958), "The regression analysis of binary sequences"',
        peer="sklearn.linear_model:LogisticRegression",
        input="tabular",
    )

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self, *, C=1.0, fit_intercept=True, class_weight=None, tol=1e-4, max_iter=100
    ):
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by maximum penalised likelihood.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target class labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives every sample
            weight one.

        Returns
        -------
        self : LogisticRegression
            The fitted estimator.
        """
        # The estimator is only written to once the fit has succeeded, so
        # that a failed fit leaves it as it was: X is checked here, and the
        # features it has are recorded at the end.
        X_checked, y = check_X_y(
            X, y, accept_sparse="csr", dtype=np.float64, order="C", estimator=self
        )
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        n_classes = len(classes)
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}."
            )
        weights = _check_sample_weight(
            sample_weight, X_checked, dtype=np.float64, ensure_non_negative=True
        )
        # Every class needs a positive weight: from the sample weights, which
        # the "balanced" class weights divide by, and then with the class
        # weights.
        totals = np.bincount(y_encoded, weights=weights, minlength=n_classes)
        _check_positive_class_totals(classes, totals)
        class_totals = totals
        if self.class_weight is not None:
            weights = weights * self._class_weights(classes, y, totals)[y_encoded]
            class_totals = np.bincount(y_encoded, weights=weights, minlength=n_classes)
            _check_positive_class_totals(classes, class_totals)

        objective = _LogisticObjective(
            X_checked,
            y_encoded,
            weights,
            lam=1.0 / (self.C * weights.sum()),
            n_classes=n_classes,
            fit_intercept=self.fit_intercept,
        )
        n_features = X_checked.shape[1]
        n_params = objective.n_outputs * (n_features + self.fit_intercept)
        solver = _choose_solver(X_checked, n_params)
        W = np.zeros((objective.n_outputs, n_features + self.fit_intercept))
        if self.fit_intercept:
            # Start from the intercept-only model: the (log-)odds of the
            # weighted class frequencies.
            log_prior = np.log(class_totals / class_totals.sum())
            if objective.binary:
                W[0, -1] = log_prior[1] - log_prior[0]
            else:
                W[:, -1] = log_prior - log_prior.mean()

        # The solver makes many small BLAS calls (products with blocks of
        # rows, vector operations on the coefficients); none gains from
        # threads, and on a busy machine thread synchronisation dominates.
        with single_threaded_blas():
            if solver == "lbfgs":
                W, n_iter, status = minimize_lbfgs(
                    objective, W, tol=self.tol, max_iter=self.max_iter
                )
            else:
                W, n_iter, status = _newton(
                    objective, W, solver, tol=self.tol, max_iter=self.max_iter
                )
        if status != "converged":
            reason = (
                f"the maximum number of iterations (max_iter={self.max_iter}) was "
                "reached"
                if status == "max_iter"
                else "the line search could not decrease the objective any more"
            )
            warnings.warn(
                f"LogisticRegression did not converge: {reason} before the "
                f"gradient fell below tol={self.tol}. Increase max_iter, scale "
                "the data, or loosen tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        intercept = np.zeros(objective.n_outputs)
        if self.fit_intercept:
            intercept = W[:, -1].copy()
            if not objective.binary:
                intercept -= intercept.mean()

        # Records n_features_in_ and feature_names_in_.
        validate_data(self, X, skip_check_array=True)
        self.classes_ = classes
        self.solver_ = solver
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        self.coef_ = W[:, :n_features].copy()
        self.intercept_ = intercept
        return self

    def _class_weights(self, classes, y, totals):
        """Return the weight of each class, in the order of ``classes``.

        ``totals`` holds the total sample weight of each class.
        """
        if isinstance(self.class_weight, str):
            return totals.sum() / (len(classes) * totals)
        return compute_class_weight(self.class_weight, classes=classes, y=y)

    def decision_function(self, X):
        """Return the raw scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The log-odds of ``classes_[1]`` for binary problems, the
            unnormalised log-probabilities of each class otherwise.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = np.asarray(safe_sparse_dot(X, self.coef_.T)) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Return the most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted class labels.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]

    def predict_proba(self, X):
        """Return the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The class probabilities, in the order of ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            proba = np.empty((2, scores.shape[0]))
            expit(scores, out=proba[1])
            np.subtract(1.0, proba[1], out=proba[0])
            return proba.T
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict_log_proba(self, X):
        """Return the logarithm of the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probabilities, computed without underflow to ``-inf``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
