"""Benchmark the classical linear models against their scikit-learn peers.

Usage::

    python benchmarks/bench_linear_model.py [--quick] [--repeats N]
                                            [--sections small least-squares logistic]

Everything runs on one BLAS thread, each estimator and its peer timed
alternately (ours, peer, ours, peer, ...) on the same data in one process;
the tables show medians over the repeats and ``ours / peer`` ratios (at most
1: ours is no slower). Three sections:

* ``small``: the demo's tabular tasks (``python -m sklearn_histai.compare
  --tasks breast_cancer wine diabetes digits --estimators LogisticRegression
  LeastSquaresRegressor``): each estimator and its peer cross-validated on the
  same 5 folds inside a ``StandardScaler`` pipeline. Printed: the mean fit
  and predict time per fold, the ratio of fit + predict, and both scores.
* ``least-squares``: the fit time of ``LeastSquaresRegressor`` against
  ``LinearRegression`` (same objective) and of ``LeastSquaresRegressor(
  alpha=1)`` against ``Ridge(alpha=1, solver="cholesky")``, with the largest
  absolute and relative differences of the coefficients; then predictions.
* ``logistic``: the fit time of logistic regression against scikit-learn's
  lbfgs, both with defaults, with the final training log-loss and penalised
  objective of both fits (the comparison is only fair when ours reaches an
  objective about as low), the largest relative difference of the
  coefficients and the iterations; then predictions (timed three times as
  often, being fast).

``--quick`` runs smaller large-data problems and finishes in about a minute.
"""

import argparse
import os
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import is_classifier
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from sklearn_histai.linear_model import LeastSquaresRegressor, LogisticRegression
from sklearn_histai.utils import get_history

try:
    from _report import cv_times
except ImportError:  # run from elsewhere
    from benchmarks._report import cv_times

SECTIONS = ["small", "least-squares", "logistic"]

# The demo's tabular tasks and the linear model that runs on each.
DEMO_TASKS = {
    "breast_cancer": (load_breast_cancer, LogisticRegression),
    "wine": (load_wine, LogisticRegression),
    "diabetes": (load_diabetes, LeastSquaresRegressor),
    "digits": (load_digits, LogisticRegression),
}


def median_time(func, repeats):
    """Return the median wall-clock time of ``func()`` and its last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def race(ours, theirs, repeats):
    """Time two callables alternately; return (ours_time, theirs_time, results)."""
    (theirs_time, ours_time), (theirs_result, ours_result) = race_all(
        [theirs, ours], repeats
    )
    return ours_time, theirs_time, ours_result, theirs_result


def race_all(funcs, repeats):
    """Time callables in turn, ``repeats`` rounds; return medians and last results."""
    times = [[] for _ in funcs]
    results = [None] * len(funcs)
    for _ in range(repeats):
        for i, func in enumerate(funcs):
            elapsed, results[i] = median_time(func, 1)
            times[i].append(elapsed)
    return [float(np.median(t)) for t in times], results


def relative_difference(a, b):
    """Return max |a - b| / max |b|."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def objective(classifier, X, y):
    """Return the penalised objective of logistic regression divided by C n.

    ``mean log-loss + ||coef||^2 / (2 C n)``: the quantity both solvers
    minimise. Compare fits on it, not on the log-loss alone: an
    unconverged fit can have a lower log-loss and a larger penalty.
    """
    penalty = 0.5 * np.sum(classifier.coef_**2) / (classifier.C * X.shape[0])
    return log_loss(y, classifier.predict_proba(X)) + penalty


def regression_data(n_samples, n_features, rng):
    """Correlated Gaussian features with non-zero means, a noisy linear target."""
    mixing = np.eye(n_features) + 0.3 * rng.standard_normal((n_features, n_features))
    X = rng.standard_normal((n_samples, n_features)) @ mixing + 2.0
    y = X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)
    return X, y


def classification_data(n_samples, n_features, rng):
    """Gaussian features and labels drawn from a logistic model."""
    X = rng.standard_normal((n_samples, n_features)) + 0.5
    coef = 2.0 * rng.standard_normal(n_features) / np.sqrt(n_features)
    logits = (X - 0.5) @ coef + 0.5
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-logits))).astype(int)
    return X, y


def multiclass_data(n_samples, n_features, n_classes, rng):
    """Gaussian features and labels drawn from a multinomial logistic model."""
    X = rng.standard_normal((n_samples, n_features))
    logits = X @ rng.standard_normal((n_features, n_classes)) / np.sqrt(n_features)
    proba = np.exp(2.0 * logits)
    proba /= proba.sum(axis=1, keepdims=True)
    cumulative = proba.cumsum(axis=1)
    y = (rng.random((n_samples, 1)) > cumulative).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def text_data(n_samples, n_features, n_words, rng):
    """TF-IDF-like sparse rows: Zipf-distributed words, l2-normalised rows.

    Each row draws ``n_words`` words; repeated words merge, so a row has
    about 0.7 * ``n_words`` distinct non-zeros.
    """
    popularity = 1.0 / np.arange(1, n_features + 1)
    popularity /= popularity.sum()
    cols = rng.choice(n_features, size=n_samples * n_words, p=popularity)
    rows = np.repeat(np.arange(n_samples), n_words)
    X = sp.csr_matrix(
        (rng.random(n_samples * n_words) + 0.1, (rows, cols)),
        shape=(n_samples, n_features),
    )
    X.sum_duplicates()
    # Inverse document frequency, then unit rows, as TfidfVectorizer does.
    df = np.bincount(X.indices, minlength=n_features)
    X = X @ sp.diags(np.log((1 + n_samples) / (1 + df)) + 1.0)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1.0 / norms) @ X)
    logits = X @ (3.0 * rng.standard_normal(n_features))
    y = rng.random(n_samples) < 1.0 / (1.0 + np.exp(-(logits - np.median(logits))))
    return X, y.astype(int)


def print_table(title, header, rows):
    """Print a fixed-width table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))


def bench_least_squares(sizes, repeats, rng):
    """Least squares against LinearRegression and Ridge(solver="cholesky")."""
    rows, predict_rows = [], []
    for n_samples, n_features in sizes:
        X, y = regression_data(n_samples, n_features, rng)
        estimators = [
            LeastSquaresRegressor(),
            LinearRegression(),
            LeastSquaresRegressor(alpha=1.0),
            Ridge(alpha=1.0, solver="cholesky"),
        ]
        times, fitted = race_all([partial(e.fit, X, y) for e in estimators], repeats)
        ours, linear, ours_ridge, ridge = fitted
        rows.append(
            [
                f"{n_samples}x{n_features}",
                f"{times[0]:.4f}",
                f"{times[1]:.4f}",
                f"{times[0] / times[1]:.3f}",
                f"{np.max(np.abs(ours.coef_ - linear.coef_)):.1e}",
                f"{relative_difference(ours.coef_, linear.coef_):.1e}",
                f"{times[2]:.4f}",
                f"{times[3]:.4f}",
                f"{times[2] / times[3]:.2f}",
                f"{times[0] / times[3]:.2f}",
                f"{relative_difference(ours_ridge.coef_, ridge.coef_):.1e}",
            ]
        )
        t_ours, t_theirs, _, _ = race(
            partial(ours_ridge.predict, X), partial(ridge.predict, X), 3 * repeats
        )
        predict_rows.append(
            [
                f"{n_samples}x{n_features}",
                f"{t_ours:.4f}",
                f"{t_theirs:.4f}",
                f"{t_ours / t_theirs:.2f}",
            ]
        )
    print_table(
        "Least squares: fit, s; ours = LeastSquaresRegressor(), ours(a=1) = "
        "LeastSquaresRegressor(alpha=1), Ridge = Ridge(alpha=1, solver='cholesky')",
        [
            "n x p",
            "ours",
            "LinearRegression",
            "ours/LinearRegression",
            "max |coef diff|",
            "rel",
            "ours(a=1)",
            "Ridge",
            "ours(a=1)/Ridge",
            "ours/Ridge",
            "rel coef diff",
        ],
        rows,
    )
    print_table(
        "Least squares: predict (vs Ridge)",
        ["n x p", "ours s", "peer s", "ours/peer"],
        predict_rows,
    )


def bench_logistic(cases, repeats):
    """Logistic regression against scikit-learn's lbfgs, both with defaults."""
    header = [
        "data",
        "ours s",
        "lbfgs s",
        "ours/lbfgs",
        "ours log-loss",
        "lbfgs log-loss",
        "ours objective",
        "lbfgs objective",
        "coef rel diff",
        "ours it",
        "lbfgs it",
    ]
    rows, predict_rows = [], []
    for name, X, y in cases:
        t_ours, t_theirs, ours, theirs = race(
            partial(LogisticRegression().fit, X, y),
            partial(SklearnLogisticRegression().fit, X, y),
            repeats,
        )
        rows.append(
            [
                name,
                f"{t_ours:.3f}",
                f"{t_theirs:.3f}",
                f"{t_ours / t_theirs:.2f}",
                f"{log_loss(y, ours.predict_proba(X)):.10f}",
                f"{log_loss(y, theirs.predict_proba(X)):.10f}",
                f"{objective(ours, X, y):.10f}",
                f"{objective(theirs, X, y):.10f}",
                f"{relative_difference(ours.coef_, theirs.coef_):.1e}",
                int(ours.n_iter_[0]),
                int(theirs.n_iter_[0]),
            ]
        )
        row = [name]
        for method in ["predict", "predict_proba"]:
            t_ours, t_theirs, _, _ = race(
                partial(getattr(ours, method), X),
                partial(getattr(theirs, method), X),
                3 * repeats,
            )
            row += [f"{t_ours:.4f}", f"{t_theirs:.4f}", f"{t_ours / t_theirs:.2f}"]
        predict_rows.append(row)
    print_table("Logistic regression: fit (C=1, tol=1e-4)", header, rows)
    print_table(
        "Logistic regression: predict and predict_proba",
        ["data", "predict ours s", "lbfgs s", "ours/lbfgs"]
        + ["proba ours s", "lbfgs s", "ours/lbfgs"],
        predict_rows,
    )


def bench_small(repeats):
    """The demo's tabular tasks: 5-fold CV in a StandardScaler pipeline."""
    rows = []
    for task, (loader, cls) in DEMO_TASKS.items():
        X, y = loader(return_X_y=True)
        ours, peer = cls(), get_history(cls).make_peer()
        classifier = is_classifier(ours)
        splitter = StratifiedKFold if classifier else KFold
        cv = splitter(n_splits=5, shuffle=True, random_state=0)
        scoring = "accuracy" if classifier else "r2"
        runs = {"ours": [], "peer": []}
        for _ in range(repeats):
            runs["peer"].append(cv_times(peer, X, y, cv, scoring))
            runs["ours"].append(cv_times(ours, X, y, cv, scoring))
        ours_fit, ours_predict, ours_score = np.median(runs["ours"], axis=0)
        peer_fit, peer_predict, peer_score = np.median(runs["peer"], axis=0)
        rows.append(
            [
                task,
                cls.__name__,
                type(peer).__name__,
                f"{ours_fit * 1e3:.2f}",
                f"{peer_fit * 1e3:.2f}",
                f"{ours_predict * 1e3:.2f}",
                f"{peer_predict * 1e3:.2f}",
                f"{(ours_fit + ours_predict) / (peer_fit + peer_predict):.2f}",
                f"{ours_score:.4f}",
                f"{peer_score:.4f}",
            ]
        )
    print_table(
        "The demo's tabular tasks: ms per fold, 5-fold CV after StandardScaler; "
        "ratio = ours / peer for fit + predict",
        [
            "task",
            "ours",
            "peer",
            "fit",
            "peer fit",
            "predict",
            "peer predict",
            "ratio",
            "score",
            "peer score",
        ],
        rows,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems only")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=SECTIONS,
        help="the sections to run (default: all)",
    )
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    rng = np.random.default_rng(0)
    if args.quick:
        sizes = [(10_000, 20), (50_000, 50), (200_000, 20)]
        text = (5_000, 20_000, 130)
    else:
        sizes = [(10_000, 20), (100_000, 50), (1_000_000, 20)]
        text = (25_000, 100_000, 280)
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Timings on a shared machine depend on what else runs: say so.
    print(
        f"scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs, one BLAS "
        f"thread, load average {os.getloadavg()[0]:.1f} at start, {repeats} repeats"
    )
    with threadpool_limits(1):
        if "small" in args.sections:
            # Small problems: more repeats cost little and steady the medians.
            bench_small(2 * repeats)
        if "least-squares" in args.sections:
            bench_least_squares(sizes, repeats, rng)
        if "logistic" in args.sections:
            cases = []
            for n_samples, n_features in sizes:
                X, y = classification_data(n_samples, n_features, rng)
                cases.append((f"{n_samples}x{n_features}", X, y))
            X, y = multiclass_data(sizes[1][0], 20, 5, rng)
            cases.append((f"{sizes[1][0]}x20, 5 classes", X, y))
            # 650 parameters: too many for the explicit Hessian.
            X, y = multiclass_data(sizes[1][0] // 2, 64, 10, rng)
            cases.append((f"{sizes[1][0] // 2}x64, 10 classes", X, y))
            X, y = text_data(*text, rng)
            cases.append(
                (f"sparse {text[0]}x{text[1]}, {X.nnz // text[0]} nnz/row", X, y)
            )
            bench_logistic(cases, repeats)


if __name__ == "__main__":
    main()
