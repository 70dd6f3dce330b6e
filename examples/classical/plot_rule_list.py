"""
=============================================
A learned rule list beside a decision tree
=============================================

The symbolic era wrote knowledge as IF–THEN rules; sequential covering
(CN2, RIPPER) learns them from data. This example fits
:class:`~sklearn_histai.rules.RuleListClassifier` on the breast cancer data,
prints its rules, and compares its held-out accuracy with that of decision
trees against the number of conditions each model asks a reader to follow
(for a tree, the depth of every leaf added up).
"""

# %%
# The rules
# ---------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from sklearn_histai.rules import RuleListClassifier
from sklearn_histai.tree import DecisionTreeClassifier

data = load_breast_cancer(as_frame=True)
X, y = data.data, data.target_names[data.target]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
rules = RuleListClassifier(random_state=0).fit(X_train, y_train)
print(rules.export_text(show_counts=True))
print(f"test accuracy {rules.score(X_test, y_test):.3f}")

# %%
# Accuracy against size
# ---------------------
# Each model is fitted on ten stratified splits; the points are the medians.


def tree_conditions(tree):
    nodes = tree.tree_
    depth = np.zeros(nodes.node_count, dtype=int)
    for node in range(nodes.node_count):
        for child in (nodes.children_left[node], nodes.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    return depth[nodes.children_left == -1].sum()


models = {
    "rule list": [
        (RuleListClassifier(max_rules=n, random_state=0), "n_conditions_")
        for n in [1, 2, 3, None]
    ],
    "decision tree": [
        (DecisionTreeClassifier(max_depth=d, random_state=0), tree_conditions)
        for d in [1, 2, 3, 4, 6, None]
    ],
}
fig, ax = plt.subplots(figsize=(6, 4))
for label, settings in models.items():
    sizes, accuracies = [], []
    for model, size in settings:
        scores, conditions = [], []
        for seed in range(10):
            split = train_test_split(
                X, y, test_size=0.25, stratify=y, random_state=seed
            )
            X_train, X_test, y_train, y_test = split
            model.fit(X_train, y_train)
            scores.append(model.score(X_test, y_test))
            conditions.append(
                getattr(model, size) if isinstance(size, str) else size(model)
            )
        sizes.append(np.median(conditions))
        accuracies.append(np.median(scores))
    ax.plot(sizes, accuracies, "o-", label=label)
ax.set_xscale("log")
ax.set_xlabel("number of conditions")
ax.set_ylabel("median test accuracy")
ax.set_title("Breast cancer: rules are short")
ax.legend()
fig.tight_layout()
plt.show()
