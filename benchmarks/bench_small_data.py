"""Benchmark fixed costs: each estimator beside its scikit-learn peer, small to large.

Usage::

    python benchmarks/bench_small_data.py [--quick] [--sections demo sweep]
                                          [--repeats N] [--plot FILE]

Two sections, one thread everywhere (torch and BLAS):

* ``demo``: the tabular tasks of ``make demo`` (breast cancer, wine,
  diabetes, digits), each estimator and its peer cross-validated on the same
  5 folds inside a ``StandardScaler`` pipeline, as the demo does. Printed:
  the median over the repeats (estimator and peer timed alternately) of the
  mean fit and predict time per fold, their ratio ``ours / peer`` (at most 1:
  ours is no slower) and both scores.
* ``sweep``: synthetic data (``make_classification`` / ``make_regression``,
  20 features) from 100 to 100,000 rows: fit plus predict time of each
  estimator and its peer on the same standardised rows, their ratio and the
  scores on a held-out quarter, so that the crossover is visible.
  ``--plot FILE`` draws the times against the number of rows.

``--quick`` stops the sweep at 10,000 rows and repeats less.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_histai.linear_model import LeastSquaresRegressor, LogisticRegression
from sklearn_histai.neural_network import FeedForwardClassifier, FeedForwardRegressor
from sklearn_histai.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn_histai.utils import get_history

try:
    from _report import cv_times, table
except ImportError:  # run from elsewhere
    from benchmarks._report import cv_times, table

CLASSIFIERS = [LogisticRegression, DecisionTreeClassifier, FeedForwardClassifier]
REGRESSORS = [LeastSquaresRegressor, DecisionTreeRegressor, FeedForwardRegressor]
DEMO_TASKS = {
    "breast_cancer": (load_breast_cancer, CLASSIFIERS),
    "wine": (load_wine, CLASSIFIERS),
    "diabetes": (load_diabetes, REGRESSORS),
    "digits": (load_digits, CLASSIFIERS),
}


def with_seed(estimator):
    """Seed ``estimator`` when it takes a seed, as the demo does."""
    if "random_state" in estimator.get_params(deep=False):
        estimator.set_params(random_state=0)
    return estimator


def pair(cls):
    """Return our estimator of class ``cls`` and its scikit-learn peer, seeded."""
    return with_seed(cls()), with_seed(get_history(cls).make_peer())


def demo_section(repeats):
    """Print the demo's per-fold times of each estimator beside its peer."""
    rows = []
    for task, (loader, classes) in DEMO_TASKS.items():
        X, y = loader(return_X_y=True)
        for cls in classes:
            ours, peer = pair(cls)
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
                (
                    task,
                    cls.__name__,
                    type(peer).__name__,
                    f"{ours_fit * 1e3:.1f}",
                    f"{peer_fit * 1e3:.1f}",
                    f"{ours_predict * 1e3:.2f}",
                    f"{peer_predict * 1e3:.2f}",
                    f"{(ours_fit + ours_predict) / (peer_fit + peer_predict):.2f}",
                    f"{ours_score:.3f}",
                    f"{peer_score:.3f}",
                )
            )
    table(
        f"The demo's tabular tasks: ms per fold, 5 folds, median of {repeats} "
        "alternate runs; ratio = ours / peer for fit + predict (<= 1: no slower)",
        rows,
        [
            "task",
            "estimator",
            "peer",
            "fit",
            "peer fit",
            "predict",
            "peer predict",
            "ratio",
            "score",
            "peer score",
        ],
    )


def sweep_data(cls, n_samples):
    """Return standardised training and test rows of ``n_samples`` in all."""
    make = make_classification if is_classifier(cls()) else make_regression
    params = {"n_informative": 10} if make is make_classification else {"noise": 10.0}
    X, y = make(n_samples=n_samples, n_features=20, random_state=0, **params)
    n_train = n_samples * 3 // 4
    scaler = StandardScaler().fit(X[:n_train])
    return (
        scaler.transform(X[:n_train]),
        y[:n_train],
        scaler.transform(X[n_train:]),
        y[n_train:],
    )


def fit_predict_time(estimator, X, y, X_test, y_test):
    """Return the time to fit and predict ``estimator`` and its test score."""
    estimator = clone(estimator)
    start = time.perf_counter()
    estimator.fit(X, y)
    estimator.predict(X_test)
    elapsed = time.perf_counter() - start
    return elapsed, estimator.score(X_test, y_test)


def sweep_section(sizes, repeats):
    """Print and return the fit + predict times of each pair over ``sizes``."""
    rows, curves = [], {}
    for cls in CLASSIFIERS + REGRESSORS:
        ours, peer = pair(cls)
        for n_samples in sizes:
            data = sweep_data(cls, n_samples)
            # Large problems are timed fewer times: their noise is small.
            n_repeats = repeats if n_samples <= 10_000 else max(1, repeats // 3)
            times = {"ours": [], "peer": []}
            for _ in range(n_repeats):
                times["peer"].append(fit_predict_time(peer, *data))
                times["ours"].append(fit_predict_time(ours, *data))
            ours_time, ours_score = np.median(times["ours"], axis=0)
            peer_time, peer_score = np.median(times["peer"], axis=0)
            curves.setdefault(cls.__name__, []).append(
                (n_samples, ours_time, peer_time)
            )
            rows.append(
                (
                    cls.__name__,
                    n_samples,
                    f"{ours_time * 1e3:.1f}",
                    f"{peer_time * 1e3:.1f}",
                    f"{ours_time / peer_time:.2f}",
                    f"{ours_score:.3f}",
                    f"{peer_score:.3f}",
                )
            )
    table(
        "Fit + predict on synthetic data (20 features; a quarter held out): "
        "ms, ratio = ours / peer",
        rows,
        ["estimator", "rows", "ours", "peer", "ratio", "score", "peer score"],
    )
    return curves


def plot_sweep(curves, path):
    """Draw fit + predict time against the number of rows, one panel each."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
    for ax, (name, points) in zip(axes.ravel(), curves.items()):
        n, ours, peer = np.array(points).T
        peer_name = type(get_history(globals()[name]).make_peer()).__name__
        ax.loglog(n, ours, "o-", label="sklearn_histai")
        ax.loglog(n, peer, "s--", label=f"scikit-learn {peer_name}")
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("rows (3/4 for training)")
    for ax in axes[:, 0]:
        ax.set_ylabel("fit + predict (s)")
    fig.suptitle("Fixed costs and scaling, one thread: each estimator beside its peer")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nPlot saved to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--sections", nargs="+", choices=["demo", "sweep"], default=["demo", "sweep"]
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--plot", metavar="FILE")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    sizes = [100, 300, 1_000, 3_000, 10_000]
    if not args.quick:
        sizes += [30_000, 100_000]

    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        if "demo" in args.sections:
            demo_section(repeats)
        if "sweep" in args.sections:
            curves = sweep_section(sizes, repeats)
            if args.plot:
                plot_sweep(curves, args.plot)


if __name__ == "__main__":
    main()
