"""Histogram decision trees against scikit-learn's exact trees, side by side.

Usage::

    python benchmarks/bench_tree.py [--quick] [--repeats N]
        [--sections demo synthetic scale crossover]

One thread everywhere; every time is the median over repeats in which the
libraries take turns (ours, scikit-learn, ours, ...), so that a load on the
machine weighs on both alike. Four sections:

* ``demo``: the tabular tasks of ``python -m sklearn_histai.compare`` (breast
  cancer, wine, diabetes, digits), each tree and scikit-learn's
  cross-validated on the same 5 folds inside a ``StandardScaler`` pipeline,
  as the demo does. Printed: the mean fit and predict time per fold, their
  ratio ``ours / sklearn`` (at most 1: ours is no slower) and both mean
  scores (accuracy, R² for diabetes).
* ``synthetic``: a depth-10 tree on ``make_classification`` /
  ``make_regression`` data, 80/20 train/test split: fit and predict times,
  the ratio ``ours / sklearn`` and the test scores.
* ``scale``: ``DecisionTreeClassifier(max_depth=10)`` at 100k x 50 (the
  ``synthetic`` data) and 1M x 20, beside scikit-learn's tree and one
  depth-10 tree of ``HistGradientBoostingClassifier(max_iter=1)``, whose
  binning and histograms in compiled code show what a histogram tree can
  cost. Printed: fit time, its ratio to scikit-learn's tree, test accuracy
  and the peak memory of one fit above the memory in use before it (the
  data already loaded), measured in a fresh process (the high-water mark of the
  resident set, reset before the fit where Linux allows, else the growth of
  ``ru_maxrss``).

* ``crossover``: where :mod:`sklearn_histai.tree` switches from its
  compiled growth to the histogram grower (``_lean_grower.MAX_ENTRIES``
  (feature, sample) entries): both grow the same tree (checked) on
  ``make_classification`` / ``make_regression`` data (targets rounded to
  integers, whose sums are exact in any order), unlimited depth below
  10^5 entries and depth 10 above; printed: both fit times and their ratio
  ``compiled / histograms``.

``--quick`` runs the demo section with fewer repeats and the synthetic
section at 10k x 20 and 100k x 20 only, in about a minute.

Measured with ``--sections scale --repeats 3`` on an otherwise idle
two-core machine::

    size        model            fit     ratio  accuracy  peak MiB
    100k x 50   ours             0.394   0.094  0.9101    112
    100k x 50   sklearn          4.191   1.000  0.9069    14
    100k x 50   HGB(max_iter=1)  0.769   0.183  0.9111    57
    1000k x 20  ours             0.762   0.033  0.8975    167
    1000k x 20  sklearn          22.806  1.000  0.8967    92
    1000k x 20  HGB(max_iter=1)  1.562   0.068  0.8967    73
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from functools import partial

import numpy as np
from sklearn import tree as sk_tree
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
    make_regression,
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_histai import tree
from sklearn_histai.tree import _lean_grower

try:
    from _report import table
except ImportError:  # run from elsewhere
    from benchmarks._report import table

MAX_DEPTH = 10
DEMO_TASKS = {
    "breast_cancer": (load_breast_cancer, "Classifier"),
    "wine": (load_wine, "Classifier"),
    "diabetes": (load_diabetes, "Regressor"),
    "digits": (load_digits, "Classifier"),
}
SIZES = [(10_000, 20), (100_000, 50), (1_000_000, 20)]
QUICK_SIZES = [(10_000, 20), (100_000, 20)]
SCALE_SIZES = [(100_000, 50), (1_000_000, 20)]


def _interleaved(functions, repeats):
    """Run each of ``functions`` in turn, ``repeats`` times; median seconds."""
    times = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(repeats):
        for k, function in enumerate(functions):
            start = time.perf_counter()
            results[k] = function()
            times[k].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times], results


def _demo_folds(load, kind):
    X, y = load(return_X_y=True)
    splitter = StratifiedKFold if kind == "Classifier" else KFold
    folds = splitter(n_splits=5, shuffle=True, random_state=0).split(X, y)
    return [(X[train], y[train], X[test], y[test]) for train, test in folds]


def _cross_validate(module, kind, folds):
    """Fit and score a tree on each fold; return per-fold times and the score."""
    fit_time = predict_time = 0.0
    scores = []
    for X_train, y_train, X_test, y_test in folds:
        model = make_pipeline(
            StandardScaler(),
            getattr(module, f"DecisionTree{kind}")(random_state=0),
        )
        start = time.perf_counter()
        model.fit(X_train, y_train)
        middle = time.perf_counter()
        scores.append(model.score(X_test, y_test))
        predict_time += time.perf_counter() - middle
        fit_time += middle - start
    return fit_time / len(folds), predict_time / len(folds), np.mean(scores)


def demo(repeats):
    rows = []
    for name, (load, kind) in DEMO_TASKS.items():
        folds = _demo_folds(load, kind)
        runs = {"ours": [], "sk": []}
        for _ in range(repeats):
            runs["ours"].append(_cross_validate(tree, kind, folds))
            runs["sk"].append(_cross_validate(sk_tree, kind, folds))
        (fo, po, so), (fs, ps, ss) = (
            np.median(np.array(runs[k]), axis=0) for k in ("ours", "sk")
        )
        rows.append(
            (
                name,
                f"{fs * 1e3:.2f}",
                f"{fo * 1e3:.2f}",
                f"{fo / fs:.2f}",
                f"{ps * 1e3:.2f}",
                f"{po * 1e3:.2f}",
                f"{po / ps:.2f}",
                f"{ss:.4f}",
                f"{so:.4f}",
            )
        )
    table(
        "Demo tasks: StandardScaler + DecisionTree*, 5-fold CV, ms per fold; "
        "ratio = ours / sklearn",
        rows,
        [
            "task",
            "fit sk",
            "fit ours",
            "ratio",
            "pred sk",
            "pred ours",
            "ratio",
            "score sk",
            "ours",
        ],
    )


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


def _fits_in_memory(n_samples, n_features):
    # Float64 data, one copy per library, plus the binned codes.
    return n_samples * n_features * 8 * 6 <= _available_memory()


def synthetic(sizes, repeats):
    rows = []
    for task in ["classification", "regression"]:
        name = "Classifier" if task == "classification" else "Regressor"
        for n_samples, n_features in sizes:
            size = f"{n_samples // 1000}k x {n_features}"
            if not _fits_in_memory(n_samples, n_features):
                rows.append((task, size, "skipped: not enough memory", *[""] * 7))
                continue
            X_train, X_test, y_train, y_test = _data(task, n_samples, n_features)
            models = [
                getattr(module, f"DecisionTree{name}")(
                    max_depth=MAX_DEPTH, random_state=0
                )
                for module in (tree, sk_tree)
            ]
            # The peer takes minutes at a million samples: one turn there.
            n_repeats = 1 if n_samples >= 1_000_000 else repeats
            (fo, fs), _ = _interleaved(
                [partial(m.fit, X_train, y_train) for m in models], n_repeats
            )
            # Predicting a small test set takes a millisecond: more turns.
            predict_repeats = 15 if len(X_test) <= 50_000 else 3
            (po, ps), _ = _interleaved(
                [partial(m.predict, X_test) for m in models], predict_repeats
            )
            so, ss = (m.score(X_test, y_test) for m in models)
            rows.append(
                (
                    task,
                    size,
                    f"{fs:.3f}",
                    f"{fo:.3f}",
                    f"{fo / fs:.3f}",
                    f"{ps:.4f}",
                    f"{po:.4f}",
                    f"{po / ps:.2f}",
                    f"{ss:.4f}",
                    f"{so:.4f}",
                )
            )
            print(".", end="", flush=True)
    table(
        f"DecisionTree*(max_depth={MAX_DEPTH}), median seconds; ratio = ours / sklearn",
        rows,
        [
            "task",
            "size",
            "fit sk",
            "fit ours",
            "ratio",
            "pred sk",
            "pred ours",
            "ratio",
            "score sk",
            "ours",
        ],
    )


CROSSOVER_CASES = [
    # (task, n_samples, n_features, n_classes)
    ("classification", 2_000, 20, 2),
    ("classification", 10_000, 20, 2),
    ("classification", 10_000, 20, 10),
    ("regression", 10_000, 20, None),
    ("classification", 30_000, 30, 3),
    ("regression", 100_000, 20, None),
    ("classification", 100_000, 50, 2),
]


def _grown_with(max_entries, model, X, y):
    """Fit ``model`` with the compiled growth up to ``max_entries`` entries."""
    saved = _lean_grower.MAX_ENTRIES
    _lean_grower.MAX_ENTRIES = max_entries
    try:
        return model.fit(X, y)
    finally:
        _lean_grower.MAX_ENTRIES = saved


def crossover(repeats):
    rows = []
    for task, n_samples, n_features, n_classes in CROSSOVER_CASES:
        if task == "classification":
            X, y = make_classification(
                n_samples=n_samples,
                n_features=n_features,
                n_informative=10,
                n_classes=n_classes,
                random_state=0,
            )
        else:
            X, y = make_regression(
                n_samples=n_samples, n_features=n_features, noise=1.0, random_state=0
            )
            # Integer targets: sums in any order are exact, so that the two
            # growers must tie alike (real-valued sums may break near-ties
            # either way).
            y = np.round(y)
        name = "Classifier" if task == "classification" else "Regressor"
        max_depth = None if X.size < 100_000 else MAX_DEPTH
        models = [
            getattr(tree, f"DecisionTree{name}")(max_depth=max_depth, random_state=0)
            for _ in range(2)
        ]
        n_repeats = 1 if X.size >= 2_000_000 else repeats
        (compiled, histograms), (a, b) = _interleaved(
            [
                partial(_grown_with, np.inf, models[0], X, y),
                partial(_grown_with, -1, models[1], X, y),
            ],
            n_repeats,
        )
        same = a.tree_.node_count == b.tree_.node_count and all(
            np.array_equal(getattr(a.tree_, k), getattr(b.tree_, k))
            for k in ("children_left", "feature", "threshold", "value")
        )
        classes = f" ({n_classes} classes)" if n_classes else ""
        rows.append(
            (
                f"{task}{classes}",
                f"{n_samples // 1000}k x {n_features}",
                f"{X.size:.0e}",
                f"{compiled * 1e3:.1f}",
                f"{histograms * 1e3:.1f}",
                f"{compiled / histograms:.2f}",
                "yes" if same else "NO",
            )
        )
        print(".", end="", flush=True)
    table(
        "Compiled growth against the histogram grower (same tree): median fit ms; "
        f"ratio = compiled / histograms; compiled up to {_lean_grower.MAX_ENTRIES:.0e}"
        " entries",
        rows,
        ["task", "size", "entries", "compiled", "histograms", "ratio", "same tree"],
    )


def _memory_kib(key):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_memory(function):
    """Return ``function()`` and the peak memory it added, in MiB."""
    try:
        # Linux: writing 5 resets the high-water mark of the resident set.
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        before = _memory_kib("VmRSS:")
        result = function()
        return result, (_memory_kib("VmHWM:") - before) / 1024
    except (OSError, TypeError):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = function()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return result, (after - before) / 1024


def _peak_memory_in_child(label, n_samples, n_features):
    """Return the peak MiB of one fit of model ``label``, in a fresh process.

    Memory freed by an earlier fit stays in the resident set of a process:
    each measurement needs a process of its own.
    """
    command = [sys.executable, __file__, "--memory-of", label]
    command += [str(n_samples), str(n_features)]
    output = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(output.stdout.split()[-1])


def _report_peak_memory(label, n_samples, n_features):
    X_train, _, y_train, _ = _data("classification", n_samples, n_features)
    model = _scale_models()[label]
    with threadpool_limits(1):
        model.fit(X_train[:1000], y_train[:1000])
        _, peak = _peak_memory(lambda: model.fit(X_train, y_train))
    print(f"{peak:.1f}")


def _scale_models():
    return {
        "ours": tree.DecisionTreeClassifier(max_depth=MAX_DEPTH, random_state=0),
        "sklearn": sk_tree.DecisionTreeClassifier(max_depth=MAX_DEPTH, random_state=0),
        "HGB(max_iter=1)": HistGradientBoostingClassifier(
            max_iter=1,
            max_depth=MAX_DEPTH,
            max_leaf_nodes=None,
            learning_rate=1.0,
            min_samples_leaf=1,
            l2_regularization=0.0,
            early_stopping=False,
            random_state=0,
        ),
    }


def scale(sizes, repeats):
    rows = []
    for n_samples, n_features in sizes:
        size = f"{n_samples // 1000}k x {n_features}"
        if not _fits_in_memory(n_samples, n_features):
            rows.append((size, "skipped: not enough memory", "", "", "", ""))
            continue
        X_train, X_test, y_train, y_test = _data(
            "classification", n_samples, n_features
        )
        models = _scale_models()
        # A first fit of each outside the timings: imports, thread pools.
        for model in models.values():
            model.fit(X_train[:1000], y_train[:1000])
        n_repeats = 1 if n_samples >= 1_000_000 else repeats
        times, _ = _interleaved(
            [partial(model.fit, X_train, y_train) for model in models.values()],
            n_repeats,
        )
        times = dict(zip(models, times))
        for label, model in models.items():
            rows.append(
                (
                    size,
                    label,
                    f"{times[label]:.3f}",
                    f"{times[label] / times['sklearn']:.3f}",
                    f"{model.score(X_test, y_test):.4f}",
                    f"{_peak_memory_in_child(label, n_samples, n_features):.0f}",
                )
            )
        print(".", end="", flush=True)
    table(
        f"DecisionTreeClassifier(max_depth={MAX_DEPTH}) at scale: median fit "
        "seconds, ratio = time / sklearn's tree, peak MiB above the data",
        rows,
        ["size", "model", "fit", "ratio", "accuracy", "peak MiB"],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and sizes, about a minute"
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=["demo", "synthetic", "scale", "crossover"],
        default=None,
        help="the sections to run (default: all; demo and synthetic with --quick)",
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--memory-of", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        label, n_samples, n_features = args.memory_of
        _report_peak_memory(label, int(n_samples), int(n_features))
        return
    sections = args.sections or (
        ["demo", "synthetic"]
        if args.quick
        else ["demo", "synthetic", "scale", "crossover"]
    )
    repeats = args.repeats or (3 if args.quick else 5)
    with threadpool_limits(1):
        if "demo" in sections:
            demo(repeats * 2 + 1)
        if "synthetic" in sections:
            synthetic(QUICK_SIZES if args.quick else SIZES, repeats)
        if "scale" in sections:
            scale(SCALE_SIZES, repeats)
        if "crossover" in sections:
            crossover(repeats)


if __name__ == "__main__":
    main()
