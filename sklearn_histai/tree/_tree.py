"""The fitted tree as flat node arrays, and its compiled traversal."""

import numpy as np

from sklearn_histai.tree import _compiled

TREE_LEAF = -1
TREE_UNDEFINED = -2


class Tree:
    """A fitted binary decision tree, stored as flat arrays over its nodes.

    The nodes are numbered breadth-first from the root ``0``. Internal node
    ``i`` sends a sample ``x`` to ``children_left[i]`` when
    ``x[feature[i]] <= threshold[i]`` and to ``children_right[i]`` otherwise;
    a leaf has ``children_left[i] == children_right[i] == -1`` and
    ``feature[i] == threshold[i] == -2``, as in :mod:`sklearn.tree`.

    Parameters
    ----------
    children_left, children_right, feature : ndarray of shape (node_count,)
        The children and the split feature of each node.
    threshold, impurity : ndarray of shape (node_count,)
        The split threshold and the impurity of each node.
    value : ndarray of shape (node_count, n_outputs, max_n_classes)
        Class proportions (classification) or mean targets (regression).
    n_node_samples : ndarray of shape (node_count,)
        The number of training samples of each node.
    weighted_n_node_samples : ndarray of shape (node_count,)
        Their total weight.
    depth : ndarray of shape (node_count,)
        The depth of each node, the root at depth 0.

    Attributes
    ----------
    node_count : int
        The number of nodes.
    n_leaves : int
        The number of leaves.
    max_depth : int
        The depth of the deepest leaf.
    """

    def __init__(
        self,
        children_left,
        children_right,
        feature,
        threshold,
        value,
        impurity,
        n_node_samples,
        weighted_n_node_samples,
        depth,
    ):
        self.children_left = children_left
        self.children_right = children_right
        self.feature = feature
        self.threshold = threshold
        self.value = value
        self.impurity = impurity
        self.n_node_samples = n_node_samples
        self.weighted_n_node_samples = weighted_n_node_samples
        self.depth = depth
        self.node_count = children_left.size
        self.n_leaves = int(np.count_nonzero(children_left == TREE_LEAF))
        self.max_depth = int(depth.max())

    def apply(self, X):
        """Return the index of the leaf each sample of ``X`` lands in.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The samples, validated and C-contiguous, float32 or float64.

        Returns
        -------
        leaves : ndarray of shape (n_samples,)
            The leaf of each sample.
        """
        return _compiled.apply(
            X,
            self.children_left,
            self.children_right,
            self.feature,
            self.threshold,
        )

    def predict(self, X):
        """Return the value of the leaf of each sample of ``X``."""
        return self.value[self.apply(X)]

    def compute_feature_importances(self, n_features):
        """Return the normalised total impurity decrease brought by each feature.

        Parameters
        ----------
        n_features : int
            The number of features of the training data.

        Returns
        -------
        importances : ndarray of shape (n_features,)
            Sums to one, unless the tree is a single leaf (all zeros).
        """
        internal = np.flatnonzero(self.children_left != TREE_LEAF)
        left = self.children_left[internal]
        right = self.children_right[internal]
        w, imp = self.weighted_n_node_samples, self.impurity
        decrease = w[internal] * imp[internal] - w[left] * imp[left]
        decrease -= w[right] * imp[right]
        importances = np.bincount(
            self.feature[internal], weights=decrease, minlength=n_features
        ).astype(np.float64)
        importances /= w[0]
        total = importances.sum()
        if total > 0.0:
            importances /= total
        return importances
