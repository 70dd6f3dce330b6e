"""Level-wise growth of a tree over binned features."""

from dataclasses import dataclass, field

import numpy as np

from sklearn_histai.tree._splitter import (
    Histograms,
    SplitProblem,
    best_dense_splits,
    best_presorted_splits,
    best_sorted_splits,
    best_sparse_splits,
    class_proportions,
    dense_histograms,
    feature_chunks,
    next_nonempty_bins,
    node_histograms,
    node_impurity,
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
# Levels with fewer (feature, sample) entries sort them; larger ones keep
# the samples of each feature sorted from level to level.
_PRESORT_MIN_ENTRIES = 1 << 14


@dataclass(slots=True)
class _Level:
    """The nodes of one depth: their statistics, and their splits once found.

    Parameters
    ----------
    ids : ndarray of shape (n_nodes,)
        The ids of the nodes, numbered breadth-first.
    depth : int
        Their depth.
    stats : Histograms
        Their counts, weights and statistics.
    impurity : ndarray of shape (n_nodes,)
        Their impurity.

    Attributes
    ----------
    children_left, children_right, feature, threshold : ndarray of shape \
(n_nodes,)
        The splits of the nodes, as in :class:`Tree`; leaves until split.
    split_nodes : ndarray
        The positions in the level of the nodes that were split.
    """

    ids: np.ndarray
    depth: int
    stats: Histograms
    impurity: np.ndarray
    children_left: np.ndarray = field(init=False)
    children_right: np.ndarray = field(init=False)
    feature: np.ndarray = field(init=False)
    threshold: np.ndarray = field(init=False)
    split_nodes: np.ndarray = field(init=False)

    def __post_init__(self):
        n = self.ids.size
        self.children_left = np.full(n, TREE_LEAF, dtype=np.intp)
        self.children_right = np.full(n, TREE_LEAF, dtype=np.intp)
        self.feature = np.full(n, TREE_UNDEFINED, dtype=np.intp)
        self.threshold = np.full(n, TREE_UNDEFINED, dtype=np.float64)
        self.split_nodes = np.empty(0, dtype=np.intp)


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
        # The samples of each feature in order of node and bin, once needed.
        self._order = None
        self._order_slots = None
        small = self.n_samples < np.iinfo(np.int32).max
        self._index_type = np.int32 if small else np.intp

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
            parents = level.split_nodes
            level.children_left[parents] = ids[0::2]
            level.children_right[parents] = ids[1::2]
            level = self._new_level(stats, squares, ids, level.depth + 1)
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

    def _new_level(self, stats, squares, ids, depth, impurity=None):
        if impurity is None:
            impurity = node_impurity(
                self.criterion,
                stats.weights,
                stats.stats,
                squares,
                self.targets.n_classes,
            )
        return _Level(ids, depth, stats, impurity)

    def _splittable(self, level):
        if level.depth >= self.max_depth:
            return np.zeros(level.ids.size, dtype=bool)
        stats = level.stats
        return (
            (stats.counts >= self.min_samples_split)
            & (stats.counts >= 2 * self.min_samples_leaf)
            & (stats.weights >= 2 * self.min_weight_leaf)
            & (level.impurity > EPSILON)
        )

    def _split_level(self, level, splittable, rows, slots, parent):
        nodes = np.flatnonzero(splittable)
        n_nodes = nodes.size
        local_of = np.full(splittable.size, -1, dtype=np.intp)
        local_of[nodes] = np.arange(n_nodes)
        local = np.take(local_of, slots)
        totals = level.stats.map(lambda a: np.take(a, nodes, axis=-1))
        search = _LevelSearch(self, n_nodes, totals)
        if self._is_dense(n_nodes, rows.size):
            chunks = self._dense_search(search, level, nodes, rows, local, parent)
        else:
            self._sparse_search(search, rows, local)
            chunks = None
        best, feature, bin_left, bin_right = search.best_splits()
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
        accept = self._accepted(level, parent, children[0].weights, child_impurity)
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

        level.split_nodes = parent
        level.feature[parent] = feature
        level.threshold[parent] = self.bin_mapper.thresholds(
            feature, bin_left, bin_right
        )
        next_hist = None
        if chunks is not None and self._is_dense(2 * best.size, rows.size):
            next_hist = (chunks, best)
        return rows, child, children, next_hist

    def _accepted(self, level, parent, weights, child_impurity):
        """Which splits decrease the impurity by at least min_impurity_decrease.

        ``weights`` and ``child_impurity`` hold the left and right child of
        each split in turn; ``parent`` is each split's node in ``level``.
        """
        decrease = (
            level.stats.weights[parent] * level.impurity[parent]
            - weights[0::2] * child_impurity[0::2]
            - weights[1::2] * child_impurity[1::2]
        ) / self.total_weight
        return decrease + EPSILON >= self.min_impurity_decrease

    def _is_dense(self, n_nodes, n_rows):
        cells = n_nodes * self.n_features * self.n_bins * (1 + self.targets.n_stat)
        return cells <= _DENSE_CELLS_PER_CODE * n_rows * self.n_features

    def _sparse_search(self, search, rows, local):
        if rows.size * self.n_features < _PRESORT_MIN_ENTRIES:
            # Sorting few entries costs less than keeping them sorted.
            targets = self.targets.of_rows(rows)
            for start, stop in feature_chunks(self.n_features, rows.size):
                codes = np.take(self.binned[start:stop], rows, axis=1)
                search.add_sorted(start, stop, codes, local, targets)
            return
        n_nodes = search.n_nodes
        self._sort_by_node(rows, local, n_nodes)
        for start, stop in feature_chunks(self.n_features, rows.size):
            samples = self._order[start:stop]
            nodes = np.take(self._order_slots, samples)
            cells = nodes.astype(np.intp)
            cells += (np.arange(stop - start) * n_nodes)[:, None]
            cells <<= self.bin_shift
            codes = self.binned[start:stop]
            cells |= np.take_along_axis(codes, samples, axis=1)
            search.add_presorted(start, stop, cells.ravel(), samples.ravel())

    def _sort_by_node(self, rows, local, n_nodes):
        """Order the samples ``rows`` of each feature by node, then by bin.

        The samples of each feature are kept sorted by bin. Nodes only split,
        and samples only leave: a stable sort by node of the previous order
        (a radix sort, on 16-bit nodes) sorts them by node and bin.
        """
        if self._order is None:
            order = np.argsort(self.binned, axis=1, kind="stable")
            self._order = order.astype(self._index_type, copy=False)
        small = n_nodes < np.iinfo(np.uint16).max
        slots = np.full(
            self.n_samples, n_nodes, dtype=np.uint16 if small else self._index_type
        )
        slots[rows] = local
        keys = np.take(slots, self._order)
        if self._order.shape[1] > rows.size or n_nodes > 1:
            by_node = np.argsort(keys, axis=1, kind="stable")[:, : rows.size]
            self._order = np.take_along_axis(self._order, by_node, axis=1)
        self._order_slots = slots

    def _dense_search(self, search, level, nodes, rows, local, parent):
        """Search dense histograms; return them, by chunk of features."""
        n_nodes = nodes.size
        derived = None
        if parent is not None:
            # Siblings are stored side by side, (2 p, 2 p + 1) for the p-th
            # split of the level above: count the smaller one, and subtract
            # it from the parent for the other.
            counts = level.stats.counts
            local_of = np.full(counts.size, -1, dtype=np.intp)
            local_of[nodes] = np.arange(n_nodes)
            sibling = local_of[nodes ^ 1]
            smaller = counts[nodes] < counts[nodes ^ 1]
            smaller |= (counts[nodes] == counts[nodes ^ 1]) & (nodes % 2 == 0)
            direct = (sibling < 0) | smaller
            derived = np.flatnonzero(~direct)
            parent_chunks, parent_split = parent
            from_parent = parent_split[nodes[derived] >> 1]
            from_sibling = sibling[derived]
            inside = np.take(direct, local)
            rows, local = rows[inside], local[inside]
        all_rows = rows.size == self.n_samples
        targets = self.targets.of_rows(None if all_rows else rows)
        width = n_nodes * self.n_bins
        per_feature = max(rows.size, width * (1 + self.targets.n_stat))
        max_step = None
        if derived is not None:
            max_step = max(stop - start for start, stop, _ in parent_chunks)
        chunks = []
        for start, stop in feature_chunks(self.n_features, per_feature, max_step):
            codes = self.binned[start:stop]
            if not all_rows:
                codes = np.take(codes, rows, axis=1)
            hist = dense_histograms(codes, local, n_nodes, self.n_bins, targets)
            if derived is not None and derived.size:
                hist = _subtract_nodes(
                    hist,
                    _feature_slice(parent_chunks, start, stop),
                    (stop - start, -1, self.n_bins),
                    derived,
                    from_parent,
                    from_sibling,
                )
            chunks.append((start, stop, hist))
            search.add_dense(start, stop, hist)
        return chunks

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
        def gather(arrays):
            return np.concatenate(list(arrays))

        stats = [level.stats for level in levels]
        weights = gather(s.weights for s in stats).astype(np.float64)
        sums = np.concatenate([s.stats for s in stats], axis=1)
        return Tree(
            children_left=gather(level.children_left for level in levels),
            children_right=gather(level.children_right for level in levels),
            feature=gather(level.feature for level in levels),
            threshold=gather(level.threshold for level in levels),
            value=self._values(sums, weights),
            impurity=gather(level.impurity for level in levels),
            n_node_samples=gather(s.counts for s in stats),
            weighted_n_node_samples=weights,
            depth=gather(np.full(level.ids.size, level.depth) for level in levels),
        )

    def _values(self, sums, weights):
        if not self.targets.is_classification:
            return (sums / weights + self.targets.center[:, None]).T[:, :, None]
        return class_proportions(weights, sums, self.targets.n_classes)


def _subtract_nodes(hist, parent_hist, shape, derived, from_parent, from_sibling):
    """Fill the ``derived`` nodes with their parent minus their sibling."""

    def subtract(array, parent_array):
        by_node = array.reshape(array.shape[:-1] + shape)
        parents = parent_array.reshape(parent_array.shape[:-1] + shape)
        by_node[..., derived, :] = (
            parents[..., from_parent, :] - by_node[..., from_sibling, :]
        )
        return array

    return hist.map(subtract, parent_hist)


def _feature_slice(chunks, start, stop):
    """Return the histograms of features ``start`` to ``stop`` of chunks."""
    pieces = []
    for first, last, hist in chunks:
        if first < stop and start < last:
            width = hist.counts.size // (last - first)
            lo = (max(start, first) - first) * width
            hi = (min(stop, last) - first) * width
            pieces.append(hist.map(lambda a, lo=lo, hi=hi: a[..., lo:hi]))
    if len(pieces) == 1:
        return pieces[0]
    return pieces[0].map(lambda *a: np.concatenate(a, axis=-1), *pieces[1:])


class _LevelSearch:
    """Collect the best split of every (feature, node) segment of a level."""

    def __init__(self, grower, n_nodes, totals):
        self.grower = grower
        self.n_nodes = n_nodes
        self.totals = totals
        shape = (grower.n_features, n_nodes)
        self.score = np.empty(shape)
        self.bin_left = np.empty(shape, dtype=np.intp)
        # -1: to find from the dense histograms kept in ``dense_chunks``.
        self.bin_right = np.empty(shape, dtype=np.intp)
        self.need_varies = grower.max_features < grower.n_features
        self.varies = np.empty(shape, dtype=bool) if self.need_varies else None
        self.dense_chunks = []
        self.problem = SplitProblem(
            bin_shift=grower.bin_shift,
            criterion=grower.criterion,
            n_classes=grower.targets.n_classes,
            min_samples_leaf=grower.min_samples_leaf,
            min_weight_leaf=grower.min_weight_leaf,
            need_varies=self.need_varies,
        )

    def _store(self, start, stop, found):
        score, bin_left, bin_right, varies = found
        self.score[start:stop] = score.reshape(stop - start, -1)
        self.bin_left[start:stop] = bin_left.reshape(stop - start, -1)
        if bin_right is None:
            self.bin_right[start:stop] = -1
        else:
            self.bin_right[start:stop] = bin_right.reshape(stop - start, -1)
        if self.need_varies:
            self.varies[start:stop] = varies.reshape(stop - start, -1)

    def add_dense(self, start, stop, hist):
        n_segments = (stop - start) * self.n_nodes
        filled = np.count_nonzero(hist.counts) / hist.counts.size
        if filled >= _DENSE_SEARCH_FILL:
            self.dense_chunks.append((start, stop, hist.counts))
            found = best_dense_splits(hist, n_segments, self.problem)
        else:
            cells = np.flatnonzero(hist.counts)
            compact = hist.map(lambda a: np.take(a, cells, axis=-1))
            found = best_sparse_splits(
                cells, compact, self.totals, self.n_nodes, n_segments, self.problem
            )
        self._store(start, stop, found)

    def add_sorted(self, start, stop, codes, slots, targets):
        found = best_sorted_splits(
            codes, slots, self.n_nodes, targets, self.totals, self.problem
        )
        self._store(start, stop, found)

    def add_presorted(self, start, stop, cells, samples):
        found = best_presorted_splits(
            cells, samples, self.n_nodes, self.grower.targets, self.totals, self.problem
        )
        self._store(start, stop, found)

    def best_splits(self):
        """Return the nodes with a split, their features and bins."""
        score = self.score
        grower = self.grower
        if self.need_varies:
            score = np.where(grower._feature_mask(self.varies), score, -np.inf)
        feature = score.argmax(axis=0)
        nodes = np.flatnonzero(score[feature, np.arange(self.n_nodes)] > -np.inf)
        feature = feature[nodes]
        bin_left = self.bin_left[feature, nodes]
        bin_right = self.bin_right[feature, nodes]
        for start, stop, counts in self.dense_chunks:
            inside = np.flatnonzero((feature >= start) & (feature < stop))
            if inside.size:
                counts = counts.reshape(stop - start, self.n_nodes, -1)
                rows = counts[feature[inside] - start, nodes[inside]]
                bin_right[inside] = next_nonempty_bins(rows, bin_left[inside])
        return nodes, feature, bin_left, bin_right
