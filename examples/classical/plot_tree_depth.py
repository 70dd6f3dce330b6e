"""
==========================================
Depth of a decision tree and overfitting
==========================================

A decision tree grown without limit fits its training data perfectly and
then predicts new data worse than a shallower one. This example fits
:class:`~sklearn_histai.tree.DecisionTreeClassifier` at increasing depths on
a noisy two-class problem and plots the training and test accuracy against
the depth, next to scikit-learn's exact tree: the histogram tree follows the
same curve, and the best test accuracy is reached at a moderate depth.
"""

# %%
# Accuracy against depth
# ----------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier as SklearnTree

from sklearn_histai.tree import DecisionTreeClassifier

X, y = make_classification(
    n_samples=4000, n_features=10, n_informative=5, flip_y=0.1, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

depths = np.arange(1, 16)
scores = {"train": [], "test": [], "sklearn test": [], "leaves": []}
for depth in depths:
    tree = DecisionTreeClassifier(max_depth=depth).fit(X_train, y_train)
    exact = SklearnTree(max_depth=depth, random_state=0).fit(X_train, y_train)
    scores["train"].append(tree.score(X_train, y_train))
    scores["test"].append(tree.score(X_test, y_test))
    scores["sklearn test"].append(exact.score(X_test, y_test))
    scores["leaves"].append(tree.get_n_leaves())

best = depths[np.argmax(scores["test"])]
print(f"best test accuracy {max(scores['test']):.3f} at depth {best}")

fig, (ax, ax_leaves) = plt.subplots(1, 2, figsize=(10, 4))
ax.plot(depths, scores["train"], "o-", label="train (sklearn_histai)")
ax.plot(depths, scores["test"], "o-", label="test (sklearn_histai)")
ax.plot(depths, scores["sklearn test"], "x--", label="test (scikit-learn)")
ax.axvline(best, color="gray", linestyle=":")
ax.set_xlabel("max_depth")
ax.set_ylabel("accuracy")
ax.set_title("Deeper trees overfit")
ax.legend()
ax_leaves.semilogy(depths, scores["leaves"], "o-")
ax_leaves.set_xlabel("max_depth")
ax_leaves.set_ylabel("number of leaves")
ax_leaves.set_title("Size of the tree")
fig.tight_layout()
plt.show()
