"""Benchmark the classical linear models against their scikit-learn peers.

Usage::

    python benchmarks/bench_linear_model.py [--quick] [--repeats N]

Prints, for each data size, the median fit time of each estimator over the
repeats (the two are timed alternately, on the same data, in one process;
predictions, being fast, are timed three times as often),
the ratio ``scikit-learn / ours`` (above 1: ours is faster), the largest
relative difference of the coefficients, and for logistic regression the
final training log-loss and penalised objective of both fits (the
comparison is only fair when ours reaches an objective at least as low).
``--quick`` runs smaller problems and finishes in well under a minute.
"""

import argparse
import os
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.metrics import log_loss

from sklearn_histai.linear_model import LeastSquaresRegressor, LogisticRegression


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
    ours_times, theirs_times = [], []
    for _ in range(repeats):
        t, theirs_result = median_time(theirs, 1)
        theirs_times.append(t)
        t, ours_result = median_time(ours, 1)
        ours_times.append(t)
    return (
        float(np.median(ours_times)),
        float(np.median(theirs_times)),
        ours_result,
        theirs_result,
    )


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
    header = ["n x p", "peer", "ours s", "peer s", "peer/ours", "max coef rel diff"]
    rows, predict_rows = [], []
    for n_samples, n_features in sizes:
        X, y = regression_data(n_samples, n_features, rng)
        pairs = [
            ("LinearRegression", LeastSquaresRegressor(), LinearRegression()),
            (
                'Ridge(alpha=1, "cholesky")',
                LeastSquaresRegressor(alpha=1.0),
                Ridge(alpha=1.0, solver="cholesky"),
            ),
        ]
        for name, ours, theirs in pairs:
            t_ours, t_theirs, ours, theirs = race(
                partial(ours.fit, X, y), partial(theirs.fit, X, y), repeats
            )
            rows.append(
                [
                    f"{n_samples}x{n_features}",
                    name,
                    f"{t_ours:.4f}",
                    f"{t_theirs:.4f}",
                    f"{t_theirs / t_ours:.2f}",
                    f"{relative_difference(ours.coef_, theirs.coef_):.1e}",
                ]
            )
        t_ours, t_theirs, _, _ = race(
            partial(ours.predict, X), partial(theirs.predict, X), 3 * repeats
        )
        predict_rows.append(
            [
                f"{n_samples}x{n_features}",
                f"{t_ours:.4f}",
                f"{t_theirs:.4f}",
                f"{t_theirs / t_ours:.2f}",
            ]
        )
    print_table("Least squares: fit", header, rows)
    print_table(
        "Least squares: predict (vs Ridge)",
        ["n x p", "ours s", "peer s", "peer/ours"],
        predict_rows,
    )


def bench_logistic(cases, repeats):
    """Logistic regression against scikit-learn's lbfgs, both with defaults."""
    header = [
        "data",
        "ours s",
        "lbfgs s",
        "lbfgs/ours",
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
                f"{t_theirs / t_ours:.2f}",
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
            row += [f"{t_ours:.4f}", f"{t_theirs:.4f}", f"{t_theirs / t_ours:.2f}"]
        predict_rows.append(row)
    print_table("Logistic regression: fit (C=1, tol=1e-4)", header, rows)
    print_table(
        "Logistic regression: predict and predict_proba",
        ["data", "predict ours s", "lbfgs s", "lbfgs/ours"]
        + ["proba ours s", "lbfgs s", "lbfgs/ours"],
        predict_rows,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems only")
    parser.add_argument("--repeats", type=int, default=None)
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
        f"scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start, {repeats} repeats"
    )

    bench_least_squares(sizes, repeats, rng)

    cases = []
    for n_samples, n_features in sizes:
        X, y = classification_data(n_samples, n_features, rng)
        cases.append((f"{n_samples}x{n_features}", X, y))
    X, y = multiclass_data(sizes[1][0], 20, 5, rng)
    cases.append((f"{sizes[1][0]}x20, 5 classes", X, y))
    X, y = text_data(*text, rng)
    cases.append((f"sparse {text[0]}x{text[1]}, {X.nnz // text[0]} nnz/row", X, y))
    bench_logistic(cases, repeats)


if __name__ == "__main__":
    main()
