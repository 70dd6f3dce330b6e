"""
===============================================
Least squares on ill-conditioned data
===============================================

Legendre's normal equations :math:`X^T X \\theta = X^T y` are the fastest way
to solve a least squares problem, but forming :math:`X^T X` squares the
condition number :math:`\\kappa` of X: a Cholesky solution loses about
:math:`\\kappa^2 \\epsilon` of relative accuracy, where an SVD of X itself
(``scipy.linalg.lstsq``, what :class:`sklearn.linear_model.LinearRegression`
does) loses only :math:`\\kappa \\epsilon`.

This example builds data of growing condition number, with an exactly known
answer, and compares the relative error of the coefficients of the plain
normal equations, of ``lstsq``, and of
:class:`~sklearn_histai.linear_model.LeastSquaresRegressor`, which solves the
normal equations while LAPACK's estimate of their condition allows it and
switches to ``lstsq`` (with an
:class:`~sklearn_histai.linear_model.IllConditionedWarning`) when it does
not.
"""

# %%
# Data of a chosen condition number
# ---------------------------------
# X is built from its singular value decomposition, with singular values
# spread evenly (in log scale) from 1 to 1 / kappa. The targets are exactly
# linear in X, so any error in the coefficients is rounding error.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import linalg

from sklearn_histai.linear_model import IllConditionedWarning, LeastSquaresRegressor

rng = np.random.default_rng(0)
n_samples, n_features = 500, 8
U = linalg.qr(rng.standard_normal((n_samples, n_features)), mode="economic")[0]
V = linalg.qr(rng.standard_normal((n_features, n_features)))[0]
coef = rng.standard_normal(n_features)


def make_data(kappa):
    singular_values = np.logspace(0, -np.log10(kappa), n_features)
    X = (U * singular_values) @ V.T
    return X, X @ coef


def relative_error(estimate):
    # Floored so that exact results still show on a log scale.
    return max(np.linalg.norm(estimate - coef) / np.linalg.norm(coef), 1e-17)


# %%
# Three solvers, from well- to ill-conditioned
# --------------------------------------------
kappas = np.logspace(0, 12, 49)
errors = {"normal equations (Cholesky)": [], "lstsq (SVD)": [], "ours": []}
solvers = []
for kappa in kappas:
    X, y = make_data(kappa)
    with warnings.catch_warnings():
        # Both scipy and the estimator warn that the data are ill-conditioned:
        # that is the point of this example.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        warnings.simplefilter("ignore", IllConditionedWarning)
        try:
            theta = linalg.cho_solve(linalg.cho_factor(X.T @ X), X.T @ y)
        except linalg.LinAlgError:
            theta = np.full(n_features, np.nan)
        errors["normal equations (Cholesky)"].append(relative_error(theta))
        errors["lstsq (SVD)"].append(relative_error(linalg.lstsq(X, y)[0]))
        reg = LeastSquaresRegressor(fit_intercept=False).fit(X, y)
    errors["ours"].append(relative_error(reg.coef_))
    solvers.append(reg.solver_)

switch = kappas[solvers.index("lstsq")]
print(f"LeastSquaresRegressor switches to lstsq from kappa = {switch:.1e}")

# %%
# The normal equations lose twice as many digits as the SVD. The estimator
# keeps their speed while at least half the digits survive, and hands over
# to the SVD before the error grows past about 1e-8.
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(kappas, errors["normal equations (Cholesky)"], "o-", label="X^T X (Cholesky)")
ax.loglog(kappas, errors["lstsq (SVD)"], "s-", label="lstsq (SVD of X)")
ours = np.array(errors["ours"])
on_cholesky = np.array(solvers) == "cholesky"
ax.loglog(kappas[on_cholesky], ours[on_cholesky], "k.", ms=9, label="ours: Cholesky")
ax.loglog(kappas[~on_cholesky], ours[~on_cholesky], "kx", ms=8, label="ours: lstsq")
ax.loglog(kappas, kappas**2 * np.finfo(float).eps, ":", color="gray")
ax.loglog(kappas, kappas * np.finfo(float).eps, ":", color="gray")
ax.axvline(switch, color="gray", linestyle="--")
ax.set_ylim(1e-17, 10)
ax.set_xlabel("condition number of X")
ax.set_ylabel("relative error of the coefficients")
ax.set_title("Normal equations square the condition number")
ax.legend(loc="upper left")
fig.tight_layout()
plt.show()
