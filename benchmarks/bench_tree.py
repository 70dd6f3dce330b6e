"""Histogram decision trees against scikit-learn's exact trees, side by side.

Usage: ``python benchmarks/bench_tree.py [--quick]``

Both libraries fit a depth-10 tree on the same synthetic data
(``make_classification`` / ``make_regression``, 80/20 train/test split) and
the table reports, for each, the median fit and predict times over repeated
runs (fewer for scikit-learn on the largest problems), the ratio
scikit-learn / sklearn_histai (above 1: we are faster) and the test accuracy
(R² for regression). ``--quick`` runs 10k x 20 and 100k x 20 only, to finish
in under a minute.
"""

import argparse
import os
import time

import numpy as np
from sklearn import tree as sk_tree
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split

from sklearn_histai import tree

MAX_DEPTH = 10
SIZES = [(10_000, 20), (100_000, 50), (1_000_000, 20)]
QUICK_SIZES = [(10_000, 20), (100_000, 20)]


def _median_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _available_memory():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _data(task, n_samples, n_features):
    if task == "classification":
        X, y = make_classification(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=10,
            n_redundant=5,
            random_state=0,
        )
    else:
        X, y = make_regression(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=10,
            noise=10.0,
            random_state=0,
        )
    return train_test_split(X, y, test_size=0.2, random_state=0)


def _run(task, n_samples, n_features, repeats):
    X_train, X_test, y_train, y_test = _data(task, n_samples, n_features)
    name = "Classifier" if task == "classification" else "Regressor"
    row = {"task": task, "size": f"{n_samples // 1000}k x {n_features}"}
    # The peer takes minutes at a million samples: fewer repeats there.
    peer_repeats = max(1, repeats // 2) if n_samples >= 100_000 else repeats
    if n_samples >= 1_000_000:
        peer_repeats = 1
    for label, module, n_repeats in [
        ("sklearn", sk_tree, peer_repeats),
        ("histai", tree, repeats),
    ]:
        model = getattr(module, f"DecisionTree{name}")(
            max_depth=MAX_DEPTH, random_state=0
        )
        fit_time, _ = _median_time(lambda m=model: m.fit(X_train, y_train), n_repeats)
        # Predicting a small test set takes a millisecond: more repeats.
        predict_repeats = 25 if len(X_test) <= 50_000 else 5
        predict_time, _ = _median_time(
            lambda m=model: m.predict(X_test), predict_repeats
        )
        row[label] = (fit_time, predict_time, model.score(X_test, y_test))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small problems only, in under a minute"
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    sizes = QUICK_SIZES if args.quick else SIZES
    header = (
        f"{'task':<15}{'size':<11}{'fit sk':>9}{'fit ours':>10}{'ratio':>7}"
        f"{'pred sk':>10}{'pred ours':>10}{'ratio':>7}{'score sk':>10}{'ours':>8}"
    )
    print(f"DecisionTree*(max_depth={MAX_DEPTH}), median seconds; ratio = sk / ours")
    print(header)
    print("-" * len(header))
    for task in ["classification", "regression"]:
        for n_samples, n_features in sizes:
            # Float64 data, one copy per library, plus the binned codes.
            if n_samples * n_features * 8 * 6 > _available_memory():
                print(f"{task:<15}{n_samples}x{n_features}: skipped, not enough memory")
                continue
            row = _run(task, n_samples, n_features, repeats)
            (fs, ps, ss), (fo, po, so) = row["sklearn"], row["histai"]
            print(
                f"{row['task']:<15}{row['size']:<11}{fs:>9.3f}{fo:>10.3f}"
                f"{fs / fo:>7.1f}{ps:>10.4f}{po:>10.4f}{ps / po:>7.1f}"
                f"{ss:>10.4f}{so:>8.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
