"""The fitted tree as flat node arrays, and its vectorised traversal."""

import numpy as np

TREE_LEAF = -1
TREE_UNDEFINED = -2

# Samples traversed together: their rows of X stay in cache across levels.
_ROWS_PER_BLOCK_BYTES = 1 << 20
_MIN_ROWS_PER_BLOCK = 8192


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
        self._tables = self._traversal_tables()

    def _traversal_tables(self):
        # Node ids are doubled so that "go right" is an addition: the child
        # of doubled node ``2 i`` is found at ``2 i`` (left) or ``2 i + 1``.
        leaf = self.children_left == TREE_LEAF
        ids = np.arange(self.node_count)
        left = np.where(leaf, ids, self.children_left)
        right = np.where(leaf, ids, self.children_right)
        children = np.empty(2 * self.node_count, dtype=np.intp)
        children[0::2] = 2 * left
        children[1::2] = 2 * right
        feature = np.repeat(np.where(leaf, 0, self.feature), 2).astype(np.intp)
        threshold = np.repeat(np.where(leaf, np.inf, self.threshold), 2)
        return children, feature, threshold

    def apply(self, X):
        """Return the index of the leaf each sample of ``X`` lands in.

        All samples descend together, one level per step, with vectorised
        gathers over the flat node arrays; samples that reach a leaf stay
        there (a leaf is its own child with an infinite threshold).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The samples, validated and C-contiguous.

        Returns
        -------
        leaves : ndarray of shape (n_samples,)
            The leaf of each sample.
        """
        n_samples, n_features = X.shape
        leaves = np.zeros(n_samples, dtype=np.intp)
        if self.max_depth == 0 or n_samples == 0:
            return leaves
        children, feature, threshold = self._tables
        # Blocks of rows small enough for cache, large enough that the
        # per-call overhead of numpy is amortised.
        block = max(_MIN_ROWS_PER_BLOCK, _ROWS_PER_BLOCK_BYTES // X[:1].nbytes)
        size = min(block, n_samples)
        offsets = np.arange(size, dtype=np.intp) * n_features
        # Preallocated buffers, and ``take`` in "clip" mode (the indices are
        # valid by construction), spare an allocation and a copy per step.
        node, after = np.empty(size, dtype=np.intp), np.empty(size, dtype=np.intp)
        index, value = np.empty(size, dtype=np.intp), np.empty(size, dtype=X.dtype)
        limit, right = np.empty(size), np.empty(size, dtype=bool)
        for start in range(0, n_samples, block):
            n = min(start + block, n_samples) - start
            values = X[start : start + n].ravel()
            node_, after_ = node[:n], after[:n]
            node_[:] = 0
            for _ in range(self.max_depth):
                np.take(feature, node_, out=index[:n], mode="clip")
                index[:n] += offsets[:n]
                np.take(values, index[:n], out=value[:n], mode="clip")
                np.take(threshold, node_, out=limit[:n], mode="clip")
                np.greater(value[:n], limit[:n], out=right[:n])
                node_ += right[:n]
                np.take(children, node_, out=after_, mode="clip")
                node_, after_ = after_, node_
            np.right_shift(node_, 1, out=leaves[start : start + n])
        return leaves

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
