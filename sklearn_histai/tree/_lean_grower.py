"""Level-wise growth of small trees, each level in a fixed number of numpy calls.

On a few hundred samples every numpy call of a level costs more to dispatch
than to compute, and the histogram strategies of
:class:`~sklearn_histai.tree._grower.TreeGrower` make a few hundred of them.
Here the samples of each feature stay sorted by node, then bin, in one
``(n_features, n_active)`` array. Every node then occupies the same columns
in every feature, so that one cumulative sum along the rows gives the sums
left of every candidate threshold of every (feature, node) at once, and the
search, the partition and the re-sort of a level take about a hundred calls
whatever the number of nodes and features. Samples of leaves drop out.

The tree is the one :class:`TreeGrower` grows: the same node statistics
(summed in the same order), the same scores (:func:`proxy_gain`), ties
broken alike (lowest feature, then lowest bin) and the same random draws of
features. The sums left of a threshold are added in another order, so that
with non-integer weights or targets two thresholds whose scores tie to the
last bit in one grower may not in the other (as between the strategies of
:class:`TreeGrower`).
"""

import numpy as np

from sklearn_histai.tree._grower import TreeGrower
from sklearn_histai.tree._splitter import (
    entry_stats,
    node_histograms,
    node_impurity,
    proxy_gain,
)

# Fits whose (feature, sample) entries times statistics channels are at most
# this many grow lean. Its arrays hold that many values per level where the
# histograms of TreeGrower hold one per (feature, bin): past about this size
# (measured on make_classification / make_regression, 2 to 10 classes, 10 to
# 30 features, 500 to 8000 samples) the histograms are faster.
MAX_ENTRIES = 1 << 16


class LeanTreeGrower(TreeGrower):
    """Grow a small tree from samples kept sorted by node and bin.

    Takes the parameters of :class:`TreeGrower` and grows the same tree.
    """

    def grow(self):
        """Grow the tree and return it as a :class:`Tree`."""
        n_features, n = self.binned.shape
        # Statistics of single samples, one row per channel.
        # Counts (classes of unit weight) add up faster as integers.
        entries = np.asarray(entry_stats(self.targets))
        self._sum_type = np.int32 if entries.dtype == bool else np.float64
        self._entries = entries
        self._flat_codes = self.binned.ravel()
        self._feature_offsets = (np.arange(n_features) * n)[:, None]
        # The node of each sample; ``n_nodes`` for samples in no node.
        slots = np.zeros(n, dtype=np.intp)
        stats, squares = self._children_stats(slots, 1)
        level = self._new_level(stats, squares, np.array([0]), 0)
        levels, next_id = [level], 1
        self.total_weight = stats.weights[0]
        # Stable: within a bin, samples keep their order.
        order = np.argsort(self.binned, axis=1, kind="stable")
        self._split_bins = []
        while True:
            splittable = self._splittable(level)
            nodes = np.flatnonzero(splittable)
            if nodes.size == 0:
                break
            order = self._keep_sorted(order, slots, level, nodes)
            split = self._lean_split(level, nodes, order, slots)
            if split is None:
                break
            slots, stats, impurity = split
            n_children = stats.counts.size
            ids = next_id + np.arange(n_children)
            next_id += n_children
            parents = level.split_nodes
            level.children_left[parents] = ids[0::2]
            level.children_right[parents] = ids[1::2]
            level = self._new_level(stats, None, ids, level.depth + 1, impurity)
            levels.append(level)
        self._set_thresholds(levels)
        return self._to_tree(levels)

    def _set_thresholds(self, levels):
        """Set the thresholds of all the splits, in one call."""
        if not self._split_bins:
            return
        split = [level for level in levels if level.split_nodes.size]
        feature = np.concatenate([level.feature[level.split_nodes] for level in split])
        bin_left, bin_right = (np.concatenate(b) for b in zip(*self._split_bins))
        thresholds = self.bin_mapper.thresholds(feature, bin_left, bin_right)
        start = 0
        for level in split:
            stop = start + level.split_nodes.size
            level.threshold[level.split_nodes] = thresholds[start:stop]
            start = stop

    def _children_stats(self, slots, n_nodes):
        """Return the statistics of nodes ``0..n_nodes-1`` of ``slots``.

        Samples outside them have slot ``n_nodes``. Every node sums its
        samples in increasing order, as :class:`TreeGrower` does, so that
        the sums are the same to the last bit.
        """
        stats = node_histograms(slots, n_nodes + 1, self.targets)
        stats = stats.map(lambda a: a[..., :n_nodes])
        squares = None
        if self.squares is not None:
            squares = np.stack(
                [
                    np.bincount(slots, weights=s, minlength=n_nodes + 1)[:n_nodes]
                    for s in self.squares
                ]
            )
        return stats, squares

    def _keep_sorted(self, order, slots, level, nodes):
        """Keep the samples of the ``nodes`` to split, sorted by node and bin.

        ``order`` holds the samples of each feature sorted by node, then bin;
        nodes only split and lose samples, so a stable sort of it by node (a
        radix sort on small integers) sorts them by node and bin.
        """
        n_nodes = level.ids.size
        n_active = int(level.stats.counts[nodes].sum())
        if n_nodes == 1 and n_active == order.shape[1]:
            return order
        small = n_nodes < np.iinfo(np.uint16).max
        key = np.full(n_nodes + 1, n_nodes, dtype=np.uint16 if small else np.intp)
        key[nodes] = nodes
        by_node = np.argsort(key[slots][order], axis=1, kind="stable")
        by_node = by_node[:, :n_active]
        by_node += (np.arange(order.shape[0]) * order.shape[1])[:, None]
        return order.ravel()[by_node]

    def _lean_split(self, level, nodes, order, slots):
        """Split the ``nodes`` of ``level``.

        Returns the children's slots, statistics and impurities, or None.
        """
        n_features, n_active = order.shape
        n_nodes = nodes.size
        counts = level.stats.counts[nodes]
        stops = np.cumsum(counts)
        starts = stops - counts
        node_of = np.repeat(np.arange(n_nodes), counts)
        codes = self._flat_codes[order + self._feature_offsets]

        # Sums left of a threshold after each column, restarting at nodes.
        n_left = np.arange(1.0, n_active + 1.0)
        n_left -= starts[node_of]
        n_right = counts[node_of] - n_left
        s_left = _running_sums(
            np.take(self._entries, order, axis=1), starts, node_of, self._sum_type
        )
        totals = np.take(np.asarray(level.stats.stats, dtype=np.float64), nodes, axis=1)
        s_right = np.take(totals, node_of, axis=1)[:, None, :] - s_left
        min_leaf = max(self.min_samples_leaf, 1)
        # Only after the last sample of a bin can a split come.
        invalid = np.empty(codes.shape, dtype=bool)
        np.equal(codes[:, 1:], codes[:, :-1], out=invalid[:, :-1])
        invalid[:, -1] = True
        invalid |= (n_left < min_leaf) | (n_right < min_leaf)
        if level.stats.unit_weights:
            w_left, w_right = n_left, n_right
        else:
            w_left = _running_sums(
                self.targets.weights[order], starts, node_of, np.float64
            )
            w_right = level.stats.weights[nodes][node_of] - w_left
            min_weight = max(self.min_weight_leaf, np.finfo(np.float64).tiny)
            invalid |= w_left < min_weight
            invalid |= w_right < min_weight
        with np.errstate(divide="ignore", invalid="ignore"):
            score = proxy_gain(
                self.criterion,
                (w_left, s_left),
                (w_right, s_right),
                self.targets.n_classes,
            )
        np.putmask(score, invalid, -np.inf)

        best = np.maximum.reduceat(score, starts, axis=1)
        if self.max_features < self.n_features:
            varies = codes[:, starts] != codes[:, stops - 1]
            best = np.where(self._feature_mask(varies), best, -np.inf)
        feature = best.argmax(axis=0)
        node_best = best[feature, np.arange(n_nodes)]
        # The first column of each node where its feature reaches the best.
        columns = np.arange(n_active)
        row = score.ravel()[feature[node_of] * n_active + columns]
        hit = np.where(row == node_best[node_of], columns, n_active)
        position = np.minimum.reduceat(hit, starts)
        best = np.flatnonzero(node_best > -np.inf)
        if best.size == 0:
            return None
        feature = feature[best]
        cell = feature * n_active + position[best]
        flat_codes = codes.ravel()
        bin_left, bin_right = flat_codes[cell], flat_codes[cell + 1]
        return self._partition(level, nodes, slots, best, feature, bin_left, bin_right)

    def _partition(self, level, nodes, slots, best, feature, bin_left, bin_right):
        """Send the samples of the split nodes to their children."""
        n_split = best.size
        parent = nodes[best]
        # One more entry for the samples outside the split nodes, sent to
        # the last child slot: feature 0, and bin 255 keeps them left.
        rank = np.full(level.ids.size + 1, n_split, dtype=np.intp)
        rank[parent] = np.arange(n_split)
        split_feature = np.zeros(n_split + 1, dtype=np.intp)
        split_feature[:n_split] = feature
        split_bin = np.full(n_split + 1, np.iinfo(np.uint8).max, dtype=np.uint8)
        split_bin[:n_split] = bin_left
        sample_rank = rank[slots]
        cell = split_feature[sample_rank] * self.n_samples
        cell += np.arange(self.n_samples)
        child = 2 * sample_rank
        child += self._flat_codes[cell] > split_bin[sample_rank]
        stats, squares = self._children_stats(child, 2 * n_split)

        # As in TreeGrower: the weighted impurity decrease decides.
        child_impurity = node_impurity(
            self.criterion, stats.weights, stats.stats, squares, self.targets.n_classes
        )
        accept = self._accepted(level, parent, stats.weights, child_impurity)
        if not accept.all():
            if not accept.any():
                return None
            feature, parent = feature[accept], parent[accept]
            bin_left, bin_right = bin_left[accept], bin_right[accept]
            kept = np.repeat(accept, 2)
            n_kept = int(np.count_nonzero(kept))
            new_index = np.full(kept.size + 1, n_kept, dtype=np.intp)
            new_index[kept.nonzero()] = np.arange(n_kept)
            child = new_index[child]
            kept_index = np.flatnonzero(kept)
            stats = stats.map(lambda a: np.take(a, kept_index, axis=-1))
            child_impurity = child_impurity[kept_index]

        level.split_nodes = parent
        level.feature[parent] = feature
        self._split_bins.append((bin_left, bin_right))
        return child, stats, child_impurity


def _running_sums(values, starts, node_of, dtype):
    """Return the sums of ``values`` up to each column, restarting at nodes.

    Sums of integers (counts) are exact in ``dtype`` and returned as floats.
    """
    sums = np.cumsum(values, axis=-1, dtype=dtype)
    if starts.size > 1:
        before = np.take(sums, starts - 1, axis=-1)
        before[..., 0] = 0
        sums -= np.take(before, node_of, axis=-1)
    return sums.astype(np.float64, copy=False)
