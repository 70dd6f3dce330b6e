"""Growth of small trees by the compiled kernel of :mod:`._compiled`.

On a few thousand samples every numpy call of a level costs more to
dispatch than to compute, and the histogram strategies of
:class:`~sklearn_histai.tree._grower.TreeGrower` make a few hundred of them
per level. The compiled kernel keeps the samples of each feature sorted by
bin inside their node, scans them once per level with running sums, and
makes no call per level but the random draw of features (only where
``max_features`` draws).

The tree is the one :class:`TreeGrower` grows: the same node statistics
(summed in the same order), the same scores and impurities, ties broken
alike (lowest feature, then lowest bin) and the same random draws of
features. The sums left of a threshold are added in another order, so that
with non-integer weights or targets two thresholds whose scores tie to the
last bit in one grower may not in the other (as between the strategies of
:class:`TreeGrower`).
"""

import numpy as np

from sklearn_histai.tree import _compiled
from sklearn_histai.tree._grower import TreeGrower
from sklearn_histai.tree._splitter import node_impurity
from sklearn_histai.tree._tree import TREE_LEAF, TREE_UNDEFINED, Tree

_CRITERIA = {"gini": 0, "entropy": 1, "squared_error": 2}

# Fits of at most this many (feature, sample) entries grow compiled. Every
# level scans and partitions all the entries of its nodes, where the
# histograms of TreeGrower count only the smaller child of each split and
# subtract: on one thread (make_classification / make_regression, 2 to 10
# classes) the compiled growth takes 0.3x to 0.4x the histograms' time at
# 4 * 10^4 entries, 0.3x to 0.7x at 2 * 10^5, 0.85x at 9 * 10^5, and 1.3x
# to 1.8x from 2 * 10^6 (benchmarks/bench_tree.py, section "crossover").
MAX_ENTRIES = 1 << 20


class LeanTreeGrower(TreeGrower):
    """Grow a small tree with the compiled kernel, as :class:`TreeGrower` would.

    Takes the parameters of :class:`TreeGrower` and grows the same tree.
    """

    def grow(self):
        """Grow the tree and return it as a :class:`Tree`."""
        targets = self.targets
        class_codes = n_classes = values = None
        if targets.is_classification:
            class_codes = np.array(targets.class_codes, dtype=np.intp, ndmin=2)
            n_classes = np.asarray(targets.n_classes, dtype=np.intp)
        else:
            values = targets.values
        draw = None
        if self.max_features < self.n_features:
            draw = self._feature_mask
        nodes = _compiled.grow(
            self.binned,
            class_codes,
            n_classes,
            values,
            self.squares,
            targets.weights,
            _CRITERIA[self.criterion],
            self.max_depth,
            self.min_samples_split,
            self.min_samples_leaf,
            self.min_weight_leaf,
            self.min_impurity_decrease,
            draw,
        )
        counts, weights, stats = nodes["count"], nodes["weight"], nodes["stats"]
        split = np.flatnonzero(nodes["children_left"] != TREE_LEAF)
        feature = nodes["feature"]
        threshold = np.full(counts.size, TREE_UNDEFINED, dtype=np.float64)
        if split.size:
            threshold[split] = self.bin_mapper.thresholds(
                feature[split], nodes["bin_left"][split], nodes["bin_right"][split]
            )
        squares = None if targets.is_classification else nodes["squares"]
        return Tree(
            children_left=nodes["children_left"],
            children_right=nodes["children_right"],
            feature=feature,
            threshold=threshold,
            value=self._values(stats, weights),
            impurity=node_impurity(
                self.criterion, weights, stats, squares, targets.n_classes
            ),
            n_node_samples=counts,
            weighted_n_node_samples=weights,
            depth=nodes["depth"],
        )
