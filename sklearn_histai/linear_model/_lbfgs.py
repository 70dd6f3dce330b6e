"""Limited-memory BFGS whose line search works on the raw predictions."""

import numpy as np
from scipy.linalg import lapack

# Number of (step, gradient change) pairs kept: SciPy's and so scikit-learn's
# default for L-BFGS-B.
MEMORY = 10

# Wolfe conditions: sufficient decrease, and a slope reduced in magnitude by
# at least this factor (the usual constants for quasi-Newton methods).
_ARMIJO = 1e-4
_CURVATURE = 0.9

_EPS = np.finfo(np.float64).eps


def _quasi_newton_direction(g, steps, changes):
    """Return ``-H g`` for the L-BFGS inverse Hessian ``H`` of the pairs.

    ``steps`` and ``changes`` are the (flat) steps and gradient changes,
    oldest first. The compact representation of Byrd, Nocedal and Schnabel
    [1]_ gives the product with a few matrix-vector products, in
    place of the two loops of scalar products of the textbook recursion:

        H = gamma I + [S  gamma Y] [[R^-T (D + gamma Y^T Y) R^-1, -R^-T],
                                    [-R^-1, 0]] [S  gamma Y]^T

    with ``R`` the upper triangle of ``S^T Y``, ``D`` its diagonal and
    ``gamma = s^T y / y^T y`` of the newest pair.

    .. [1] R. H. Byrd, J. Nocedal and R. B. Schnabel, "Representations of
       quasi-Newton matrices and their use in limited memory methods",
       Mathematical Programming, 63, 129-156, 1994.
    """
    if not steps:
        return -g
    S, Y = np.array(steps), np.array(changes)
    SY = S @ Y.T
    gamma = SY[-1, -1] / (Y[-1] @ Y[-1])
    # dtrtri reads and writes the upper triangle only.
    R_inv = np.triu(lapack.dtrtri(SY, lower=0)[0])
    u = R_inv @ (S @ g)
    v = (np.diagonal(SY) * u + gamma * (Y @ (Y.T @ u - g))) @ R_inv
    return gamma * (Y.T @ u - g) - S.T @ v


def _line_search(objective, W, Z, f, direction, raw_direction, slope):
    """Return a step length and ``(W, Z, f, R)`` there, or None.

    The objective along the line, and its derivative, need only the raw
    predictions ``Z + t * raw_direction``: each trial step is an element-wise
    pass over (n_outputs, n_samples) values, never a product with X. Steps
    are doubled while too short and bisected while too long, until both Wolfe
    conditions hold.
    """
    p = objective.n_features
    t, shortest, longest = 1.0, 0.0, np.inf
    for _ in range(60):
        Z_t = Z + t * raw_direction
        loss, R, _ = objective.pointwise(Z_t)
        W_t = W + t * direction
        f_t = loss + objective.penalty(W_t)
        derivative = np.vdot(R, raw_direction) + objective.lam * np.vdot(
            W_t[:, :p], direction[:, :p]
        )
        if f_t > f + _ARMIJO * t * slope:
            # Close to the optimum the decrease falls below the rounding of
            # f: the unit step is then accepted.
            if t == 1.0 and f_t <= f + 64 * _EPS * abs(f):
                return t, W_t, Z_t, f_t, R
            longest = t
        elif derivative < _CURVATURE * slope:
            shortest = t
        else:
            return t, W_t, Z_t, f_t, R
        t = 2.0 * t if np.isinf(longest) else 0.5 * (shortest + longest)
    return None


def minimize_lbfgs(objective, W, tol, max_iter):
    """Minimise the logistic objective by L-BFGS.

    ``objective`` gives the raw predictions ``raw(W)`` (linear in ``W``), the
    pointwise loss and its gradient ``pointwise(Z)``, the penalty, the
    gradient from the pointwise gradient, the maps to and from centred
    coordinates and the Hessian diagonal there, as ``_LogisticObjective``
    does. The quasi-Newton matrix is built in centred coordinates scaled by
    the square root of the Hessian diagonal at the start (averaged over the
    classes, relative to its median): the intercept is
    decoupled from the coefficients of features with large means, and
    features on different scales look alike, so that neither slows the
    iterations down. An iteration makes two passes over X: one for the raw
    predictions of the direction, one for the gradient at the new point; the
    line search makes none.

    It stops when the largest entry of the gradient is at most ``tol``, the
    criterion of scikit-learn's L-BFGS solver. Returns the parameters, the
    number of iterations, and "converged", "max_iter" or "line_search".
    """
    Z = objective.raw(W)
    loss, R, proba = objective.pointwise(Z)
    f = loss + objective.penalty(W)
    G = objective.gradient(W, R)
    # Scaled centred coordinates, V = (centred coordinates) / scale: a
    # gradient is multiplied by scale there, a step divided.
    diagonal = objective.hessian_diagonal_centred(proba).mean(axis=0)
    scale = np.sqrt(np.median(diagonal) / diagonal)
    G_scaled = objective.to_centred_gradient(G) * scale
    steps, changes = [], []
    n_iter = 0
    while True:
        if np.max(np.abs(G)) <= tol:
            return W, n_iter, "converged"
        if n_iter == max_iter:
            return W, n_iter, "max_iter"
        n_iter += 1
        direction = _quasi_newton_direction(G_scaled.ravel(), steps, changes)
        slope = direction @ G_scaled.ravel()
        if not slope < 0.0:
            # Rounding has made the quasi-Newton matrix indefinite: restart
            # from (scaled) steepest descent.
            steps.clear()
            changes.clear()
            direction = -G_scaled.ravel()
            slope = -(direction @ direction)
        direction = direction.reshape(G.shape)
        # The slope along a direction does not depend on the coordinates.
        model_direction = objective.to_uncentred(direction * scale)
        found = _line_search(
            objective,
            W,
            Z,
            f,
            model_direction,
            objective.raw(model_direction),
            slope,
        )
        if found is None:
            return W, n_iter, "line_search"
        t, W, Z, f, R = found
        G = objective.gradient(W, R)
        G_scaled_new = objective.to_centred_gradient(G) * scale
        step = (t * direction).ravel()
        change = (G_scaled_new - G_scaled).ravel()
        curvature = step @ change
        # The penalised objective is strictly convex, so the curvature is
        # positive unless rounding (or C=inf on separable data) hides it.
        if curvature > _EPS * (change @ change):
            if len(steps) == MEMORY:
                del steps[0], changes[0]
            steps.append(step)
            changes.append(change)
        G_scaled = G_scaled_new
