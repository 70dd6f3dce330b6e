"""Level-wise growth of a tree over binned features."""

import numpy as np

from sklearn_histai.tree._splitter import (
    class_proportions,
    dense_histograms,
    find_best_splits,
    find_best_splits_dense,
    node_histograms,
    node_impurity,
    sparse_histograms,
)
from sklearn_histai.tree._tree import TREE_LEAF, TREE_UNDEFINED, Tree

EPSILON = np.finfo(np.float64).eps

# A level builds dense histograms (with the subtraction trick) while they
# hold at most this many cells (times channels) per binned code of its
# samples; past that most cells are empty and sorting the codes is cheaper.
_DENSE_CELLS_PER_CODE = 4.0
# Dense histograms are searched as they are while at least this fraction of
# their cells is non-empty, and compacted to the non-empty cells otherwise.
_DENSE_SEARCH_FILL = 0.35


class TreeGrower:
    """Grow a tree one level at a time, all nodes of a level at once.

    Every level builds the histograms of its nodes, finds the best split of
    each from them, and partitions the samples. While the histograms are
    dense, only the smaller child of each split is counted: its sibling's
    histograms are the parent's minus its own.

    Parameters
    ----------
    binned : ndarray of shape (n_features, n_samples), dtype uint8
        The bin code of each feature and sample.
    bin_mapper : BinMapper
        The fitted mapper, for the number of bins and the thresholds.
    targets : Targets
        The statistics the histograms sum.
    squares : ndarray of shape (n_outputs, n_samples) or None
        Regression: the weighted squared (centred) targets, for impurities.
    criterion : {"gini", "entropy", "squared_error"}
        The impurity to minimise.
    max_depth : int
        The largest depth of a leaf.
    min_samples_split, min_samples_leaf : int
        The fewest samples of a node to split, and of a leaf.
    min_weight_leaf : float
        The least total sample weight of a leaf.
    max_features : int
        How many features each split considers.
    min_impurity_decrease : float
        The smallest weighted impurity decrease of a split.
    rng : numpy.random.RandomState
        Draws the features of each split when ``max_features`` is smaller
        than the number of features.
    """

    def __init__(
        self,
        binned,
        bin_mapper,
        targets,
        squares,
        criterion,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        min_weight_leaf,
        max_features,
        min_impurity_decrease,
        rng,
    ):
        self.bin_mapper = bin_mapper
        self.targets = targets
        self.squares = squares
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_leaf = min_weight_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.rng = rng
        self.binned = binned
        self.n_features, self.n_samples = binned.shape
        # Cells hold a power of two of bins, so that shifts find their node.
        self.bin_shift = max(int(bin_mapper.n_bins_.max()) - 1, 1).bit_length()
        self.n_bins = 1 << self.bin_shift

    def grow(self):
        """Grow the tree and return it as a :class:`Tree`."""
        rows = np.arange(self.n_samples)
        slots = np.zeros(self.n_samples, dtype=np.intp)
        stats, squares = self._node_stats(rows, slots, 1)
        level = self._new_level(stats, squares, np.array([0]), 0)
        levels, parent_hist, next_id = [level], None, 1
        self.total_weight = stats.weights[0]
        while True:
            splittable = self._splittable(level)
            if not splittable.any():
                break
            keep = np.take(splittable, slots)
            rows, slots = rows[keep], slots[keep]
            split = self._split_level(level, splittable, rows, slots, parent_hist)
            if split is None:
                break
            rows, slots, children, parent_hist = split
            stats, squares = children
            n_children = stats.counts.size
            ids = next_id + np.arange(n_children)
            next_id += n_children
            parents = level["split_nodes"]
            level["children_left"][parents] = ids[0::2]
            level["children_right"][parents] = ids[1::2]
            level = self._new_level(stats, squares, ids, level["depth"] + 1)
            levels.append(level)
        return self._to_tree(levels)

    def _node_stats(self, rows, slots, n_nodes):
        stats = node_histograms(slots, n_nodes, self.targets.of_rows(rows))
        squares = None
        if self.squares is not None:
            squares = np.stack(
                [
                    np.bincount(slots, weights=np.take(s, rows), minlength=n_nodes)
                    for s in self.squares
                ]
            )
        return stats, squares

    def _new_level(self, stats, squares, ids, depth):
        impurity = node_impurity(
            self.criterion, stats.weights, stats.stats, squares, self.targets.n_classes
        )
        n = ids.size
        return {
            "ids": ids,
            "depth": depth,
            "stats": stats,
            "impurity": impurity,
            "children_left": np.full(n, TREE_LEAF, dtype=np.intp),
            "children_right": np.full(n, TREE_LEAF, dtype=np.intp),
            "feature": np.full(n, TREE_UNDEFINED, dtype=np.intp),
            "threshold": np.full(n, TREE_UNDEFINED, dtype=np.float64),
            "split_nodes": np.empty(0, dtype=np.intp),
        }

    def _splittable(self, level):
        if level["depth"] >= self.max_depth:
            return np.zeros(level["ids"].size, dtype=bool)
        stats = level["stats"]
        return (
            (stats.counts >= self.min_samples_split)
            & (stats.counts >= 2 * self.min_samples_leaf)
            & (stats.weights >= 2 * self.min_weight_leaf)
            & (level["impurity"] > EPSILON)
        )

    def _split_level(self, level, splittable, rows, slots, parent_hist):
        nodes = np.flatnonzero(splittable)
        n_nodes = nodes.size
        local_of = np.full(splittable.size, -1, dtype=np.intp)
        local_of[nodes] = np.arange(n_nodes)
        local = np.take(local_of, slots)
        dense = self._is_dense(n_nodes, rows.size)
        problem = {
            "n_features": self.n_features,
            "n_nodes": n_nodes,
            "bin_shift": self.bin_shift,
            "criterion": self.criterion,
            "n_classes": self.targets.n_classes,
            "min_samples_leaf": self.min_samples_leaf,
            "min_weight_leaf": self.min_weight_leaf,
            "feature_mask": None,
        }
        stats = level["stats"]
        hist = None
        if dense:
            hist = self._dense_level(level, nodes, rows, local, parent_hist)
            n_cells = hist.counts.size
            if np.count_nonzero(hist.counts) >= _DENSE_SEARCH_FILL * n_cells:
                if self.max_features < self.n_features:
                    shape = (self.n_features, n_nodes, self.n_bins)
                    nonempty = np.count_nonzero(hist.counts.reshape(shape), axis=-1)
                    problem["feature_mask"] = self._feature_mask(nonempty > 1)
                split = find_best_splits_dense(hist, problem)
            else:
                positions = np.flatnonzero(hist.counts > 0)
                compact = hist.map(lambda a: np.take(a, positions, axis=-1))
                dense = False
        else:
            positions, compact = sparse_histograms(
                self.binned, rows, local, n_nodes, self.n_bins, self.targets
            )
        if not dense:
            if self.max_features < self.n_features:
                segment = positions >> self.bin_shift
                starts = np.flatnonzero(np.diff(segment, prepend=-1))
                lengths = np.diff(starts, append=segment.size)
                varies = (lengths > 1).reshape(self.n_features, n_nodes)
                problem["feature_mask"] = self._feature_mask(varies)
            totals = stats.map(lambda a: np.take(a, nodes, axis=-1))
            split = find_best_splits(positions, compact, totals, problem)
        best, feature, bin_left, bin_right = split
        if best.size == 0:
            return None

        # Partition the samples of the split nodes with their binned codes.
        rank = np.full(n_nodes, -1, dtype=np.intp)
        rank[best] = np.arange(best.size)
        row_rank = np.take(rank, local)
        inside = row_rank >= 0
        rows, row_rank = rows[inside], row_rank[inside]
        cell = np.take(feature * self.n_samples, row_rank) + rows
        code = np.take(self.binned.ravel(), cell)
        child = 2 * row_rank + (code > np.take(bin_left.astype(np.uint8), row_rank))
        children = self._node_stats(rows, child, 2 * best.size)

        # The weighted impurity decrease decides (min_impurity_decrease) and
        # is what the feature importances add up.
        child_impurity = node_impurity(
            self.criterion,
            children[0].weights,
            children[0].stats,
            children[1],
            self.targets.n_classes,
        )
        parent = nodes[best]
        weights = children[0].weights
        decrease = (
            stats.weights[parent] * level["impurity"][parent]
            - weights[0::2] * child_impurity[0::2]
            - weights[1::2] * child_impurity[1::2]
        ) / self.total_weight
        accept = decrease + EPSILON >= self.min_impurity_decrease
        if not accept.all():
            if not accept.any():
                return None
            best, feature = best[accept], feature[accept]
            bin_left, bin_right = bin_left[accept], bin_right[accept]
            parent = parent[accept]
            kept_children = np.repeat(accept, 2)
            new_index = np.cumsum(kept_children) - 1
            keep_rows = np.take(kept_children, child)
            rows, child = rows[keep_rows], np.take(new_index, child[keep_rows])
            kept_index = np.flatnonzero(kept_children)
            children = (
                children[0].map(lambda a: np.take(a, kept_index, axis=-1)),
                None if children[1] is None else children[1][:, kept_index],
            )

        level["split_nodes"] = parent
        level["feature"][parent] = feature
        level["threshold"][parent] = self.bin_mapper.thresholds(
            feature, bin_left, bin_right
        )
        next_hist = None
        if hist is not None and self._is_dense(2 * best.size, rows.size):
            next_hist = (hist, best)
        return rows, child, children, next_hist

    def _is_dense(self, n_nodes, n_rows):
        cells = n_nodes * self.n_features * self.n_bins * (1 + self.targets.n_stat)
        return cells <= _DENSE_CELLS_PER_CODE * n_rows * self.n_features

    def _dense_level(self, level, nodes, rows, local, parent):
        n_nodes = nodes.size
        if parent is None:
            return dense_histograms(
                self.binned,
                None if rows.size == self.n_samples else rows,
                local,
                n_nodes,
                self.n_bins,
                self.targets,
            )
        # Siblings are stored side by side, (2 p, 2 p + 1) for the p-th
        # split of the level above: count the smaller, subtract for the other.
        parent_hist, parent_local = parent
        counts = level["stats"].counts
        local_of = np.full(counts.size, -1, dtype=np.intp)
        local_of[nodes] = np.arange(n_nodes)
        sibling = local_of[nodes ^ 1]
        smaller = counts[nodes] < counts[nodes ^ 1]
        smaller |= (counts[nodes] == counts[nodes ^ 1]) & (nodes % 2 == 0)
        direct = (sibling < 0) | smaller
        inside = np.take(direct, local)
        hist = dense_histograms(
            self.binned,
            rows[inside],
            local[inside],
            n_nodes,
            self.n_bins,
            self.targets,
        )
        derived = np.flatnonzero(~direct)
        if derived.size:
            from_parent = parent_local[nodes[derived] >> 1]
            from_sibling = sibling[derived]

            def subtract(array, parent_array):
                by_node = _by_node(array, self.n_features, self.n_bins)
                parents = _by_node(parent_array, self.n_features, self.n_bins)
                by_node[..., derived, :] = (
                    parents[..., from_parent, :] - by_node[..., from_sibling, :]
                )
                return array

            hist = hist.map(subtract, parent_hist)
        return hist

    def _feature_mask(self, varies):
        """Draw the features each node searches, shape (n_features, n_nodes).

        ``varies`` tells which features are not constant in which node. Like
        scikit-learn, the draw goes on past ``max_features`` until one of the
        drawn features is not constant.
        """
        n_nodes = varies.shape[1]
        varies = varies.T
        priority = self.rng.random_sample((n_nodes, self.n_features))
        rank = priority.argsort(axis=1).argsort(axis=1)
        chosen = rank < self.max_features
        missing = ~(chosen & varies).any(axis=1) & varies.any(axis=1)
        if missing.any():
            first = np.where(varies, rank, self.n_features).argmin(axis=1)
            chosen[np.flatnonzero(missing), first[missing]] = True
        return chosen.T

    def _to_tree(self, levels):
        def gather(key):
            return np.concatenate([level[key] for level in levels])

        stats = [level["stats"] for level in levels]
        counts = np.concatenate([s.counts for s in stats])
        weights = np.concatenate([s.weights for s in stats]).astype(np.float64)
        sums = np.concatenate([s.stats for s in stats], axis=1)
        depth = np.concatenate([np.full(lv["ids"].size, lv["depth"]) for lv in levels])
        return Tree(
            children_left=gather("children_left"),
            children_right=gather("children_right"),
            feature=gather("feature"),
            threshold=gather("threshold"),
            value=self._values(sums, weights),
            impurity=gather("impurity"),
            n_node_samples=counts,
            weighted_n_node_samples=weights,
            depth=depth,
        )

    def _values(self, sums, weights):
        if not self.targets.is_classification:
            return (sums / weights).T[:, :, None]
        return class_proportions(weights, sums, self.targets.n_classes)


def _by_node(array, n_features, n_bins):
    return array.reshape(array.shape[:-1] + (n_features, -1, n_bins))
