"""Rule lists against RIPPER (wittgenstein) and scikit-learn's trees, side by side.

Usage: ``python benchmarks/bench_rules.py [--quick]``

Every model is fitted on the same stratified splits (75/25, 5 splits; 3 with
``--quick``) of breast cancer (binary), wine (3 classes) and a synthetic
binary task of 20,000 rows x 20 features (``make_classification``: no
census-like table ships offline with the project's packages, and
``fetch_covtype`` needs the network; 5,000 rows with ``--quick``). The table
reports medians over the splits of the test accuracy, the number of rules
and of conditions, and the fit time; and, against RIPPER, the accuracy
difference in points and the fit-time ratio RIPPER / model (above 1: faster
than RIPPER).

* ``RuleList``: :class:`sklearn_histai.rules.RuleListClassifier`, defaults.
* ``RIPPER``: ``wittgenstein.RIPPER`` (defaults: ``k=2`` optimisation runs,
  10 discretisation bins). It is binary: on a binary task it learns the
  minority class (as RIPPER's ordering would) with the other as default; on
  wine one RIPPER per class (``pos_class=c``, one-vs-rest) predicts the class
  of highest positive probability, and its rules and conditions are summed
  over the three rule sets.
* ``Tree``, ``Tree(depth 5)``: ``sklearn.tree.DecisionTreeClassifier``; a
  leaf counts as a rule, with as many conditions as its depth.

Needs the ``rules`` extra: ``pip install "sklearn-histai[rules]"``.
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.tree import DecisionTreeClassifier

from sklearn_histai.rules import RuleListClassifier


def _datasets(quick):
    cancer = load_breast_cancer(as_frame=True)
    wine = load_wine(as_frame=True)
    n_samples = 5_000 if quick else 20_000
    X, y = make_classification(
        n_samples=n_samples,
        n_features=20,
        n_informative=10,
        n_redundant=5,
        random_state=0,
    )
    synthetic = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    return [
        ("breast cancer", cancer.data, cancer.target.to_numpy()),
        ("wine", wine.data, wine.target.to_numpy()),
        (f"synthetic {n_samples // 1000}k", synthetic, y),
    ]


class _OneVsRestRipper:
    """wittgenstein's binary RIPPER, one per class beyond two."""

    def __init__(self, random_state):
        self.random_state = random_state

    def fit(self, X, y):
        import wittgenstein

        self.classes_, counts = np.unique(y, return_counts=True)
        targets = self.classes_ if self.classes_.size > 2 else [np.argmin(counts)]
        self.models_ = []
        for target in targets:
            model = wittgenstein.RIPPER(random_state=self.random_state)
            model.fit(X, y == self.classes_[target], pos_class=True)
            self.models_.append((target, model))
        return self

    def predict(self, X):
        if len(self.models_) == 1:
            target, model = self.models_[0]
            other = 1 - target
            return np.where(model.predict(X), *self.classes_[[target, other]])
        scores = np.column_stack([m.predict_proba(X)[:, 1] for _, m in self.models_])
        return self.classes_[np.argmax(scores, axis=1)]

    def size(self):
        rules = [rule for _, m in self.models_ for rule in m.ruleset_.rules]
        return len(rules), sum(len(rule.conds) for rule in rules)


def _tree_size(model):
    tree = model.tree_
    depth = np.zeros(tree.node_count, dtype=int)
    for node in range(tree.node_count):
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    leaves = tree.children_left == -1
    return int(leaves.sum()), int(depth[leaves].sum())


MODELS = {
    "RuleList": (
        lambda seed: RuleListClassifier(random_state=seed),
        lambda m: (len(m.rules_), m.n_conditions_),
    ),
    "RIPPER": (_OneVsRestRipper, lambda m: m.size()),
    "Tree": (lambda seed: DecisionTreeClassifier(random_state=seed), _tree_size),
    "Tree(depth 5)": (
        lambda seed: DecisionTreeClassifier(max_depth=5, random_state=seed),
        _tree_size,
    ),
}


def _run(X, y, n_splits):
    results = {name: [] for name in MODELS}
    splits = StratifiedShuffleSplit(n_splits, test_size=0.25, random_state=0)
    for seed, (train, test) in enumerate(splits.split(X, y)):
        X_train, X_test = X.iloc[train], X.iloc[test]
        for name, (build, size) in MODELS.items():
            model = build(seed)
            start = time.perf_counter()
            model.fit(X_train, y[train])
            fit_time = time.perf_counter() - start
            accuracy = np.mean(model.predict(X_test) == y[test])
            results[name].append((accuracy, *size(model), fit_time))
    return {name: np.median(rows, axis=0) for name, rows in results.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 splits and 5k synthetic rows"
    )
    args = parser.parse_args()
    try:
        import wittgenstein  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            'This benchmark needs wittgenstein: pip install "sklearn-histai[rules]"'
        ) from exc
    # wittgenstein warns about its discretisation and pandas idioms.
    warnings.filterwarnings("ignore", module="wittgenstein")
    warnings.filterwarnings("ignore", category=FutureWarning)
    n_splits = 3 if args.quick else 5
    print(
        f"Medians over {n_splits} stratified 75/25 splits; "
        "Δacc = accuracy - RIPPER's (points), speed-up = RIPPER fit / fit"
    )
    header = (
        f"{'dataset':<15}{'model':<15}{'accuracy':>9}{'rules':>7}{'conds':>7}"
        f"{'fit s':>9}{'Δacc':>7}{'speed-up':>10}"
    )
    print(header)
    print("-" * len(header))
    for dataset, X, y in _datasets(args.quick):
        medians = _run(X, y, n_splits)
        ripper_accuracy, ripper_time = medians["RIPPER"][[0, 3]]
        for name, (accuracy, rules, conditions, fit_time) in medians.items():
            print(
                f"{dataset:<15}{name:<15}{accuracy:>9.3f}{rules:>7.0f}"
                f"{conditions:>7.0f}{fit_time:>9.3f}"
                f"{100 * (accuracy - ripper_accuracy):>+7.1f}"
                f"{ripper_time / fit_time:>10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
