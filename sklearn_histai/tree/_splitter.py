"""Histograms of binned features and the vectorised search for the best splits.

A histogram holds, for every (feature, node, bin) *cell*, the number of
samples, their total weight and the sums the criterion needs, its
*statistics*: the weighted counts of every class but the last of each output
(the last is the weight minus the others) for classification, the weighted
sums of each target for regression.

Cells are numbered ``(feature * n_nodes + node) * n_bins + bin``, so that the
cells of one feature are contiguous: each feature's histograms take one
``np.bincount`` per channel, weighted by per-sample values without copying
them once per feature. The split search works on histograms compacted to
their non-empty cells, in that order, so that dense histograms (for few large
nodes) and sparse ones (for many small nodes) share one evaluation.
"""

import numpy as np
from scipy.special import xlogy

# Binned codes handled per ``np.bincount`` call, so that the index arrays
# stay within a few tens of megabytes.
_CHUNK_ENTRIES = 1 << 21


class Targets:
    """The per-sample quantities the histograms sum.

    Parameters
    ----------
    class_codes : list of ndarray or None
        Classification: for each output, the class code of every sample.
    n_classes : list of int or None
        Classification: the number of classes of each output.
    values : ndarray of shape (n_outputs, n_samples) or None
        Regression: the weighted (centred) target of each output.
    weights : ndarray of shape (n_samples,) or None
        The sample weights, or None for unit weights.
    """

    def __init__(self, class_codes, n_classes, values, weights):
        self.class_codes = class_codes
        self.n_classes = n_classes
        self.values = values
        self.weights = weights
        self.is_classification = class_codes is not None
        if self.is_classification:
            self.n_stat = sum(n_classes) - len(n_classes)
            self.n_outputs = len(n_classes)
        else:
            self.n_stat = self.n_outputs = len(values)

    def of_rows(self, rows):
        """Return the targets of the samples ``rows`` (None: all of them)."""
        if rows is None:
            return self

        def pick(values):
            return None if values is None else np.take(values, rows, axis=-1)

        codes = None
        if self.is_classification:
            codes = [np.take(c, rows) for c in self.class_codes]
        return Targets(codes, self.n_classes, pick(self.values), pick(self.weights))


class Histograms:
    """Counts, weights and statistics over a flat index of cells.

    ``weights`` is the ``counts`` array itself for unit sample weights.
    """

    def __init__(self, counts, weights, stats):
        self.counts = counts
        self.weights = counts if weights is None else weights
        self.stats = stats

    @property
    def unit_weights(self):
        return self.weights is self.counts

    @classmethod
    def empty(cls, n_cells, targets):
        """Return uninitialised histograms of ``n_cells`` cells."""
        weights = None if targets.weights is None else np.empty(n_cells)
        stats = np.empty((targets.n_stat, n_cells))
        # Float counts are exact below 2**53 and divide without a cast.
        return cls(np.empty(n_cells), weights, stats)

    def map(self, function, *others):
        """Apply ``function`` to each array (and those of ``others``)."""
        counts = function(self.counts, *(o.counts for o in others))
        weights = None
        if not self.unit_weights:
            weights = function(self.weights, *(o.weights for o in others))
        stats = function(self.stats, *(o.stats for o in others))
        return Histograms(counts, weights, stats)

    def fill(self, start, stop, index, targets):
        """Sum the samples into the cells ``start`` to ``stop``.

        Parameters
        ----------
        start, stop : int
            The range of cells to fill.
        index : ndarray of shape (n_groups, n_rows)
            For each group of cells (a feature) and sample of ``targets``,
            the cell of the sample, counted from ``start``.
        targets : Targets
            The targets of these samples.
        """
        n_cells = stop - start
        n_groups = index.shape[0]
        index = index.ravel()

        def per_entry(values):
            return values if n_groups == 1 else np.tile(values, n_groups)

        weights = None if targets.weights is None else per_entry(targets.weights)
        if not targets.is_classification:
            self.counts[start:stop] = np.bincount(index, minlength=n_cells)
            if weights is not None:
                self.weights[start:stop] = np.bincount(
                    index, weights=weights, minlength=n_cells
                )
            for k, values in enumerate(targets.values):
                self.stats[k, start:stop] = np.bincount(
                    index, weights=per_entry(values), minlength=n_cells
                )
            return
        channel = 0
        for k, n_classes in enumerate(targets.n_classes):
            shifted = (targets.class_codes[k] * n_cells).reshape(1, -1)
            shifted = (index.reshape(n_groups, -1) + shifted).ravel()
            full = np.bincount(shifted, weights=weights, minlength=n_classes * n_cells)
            full = full.reshape(n_classes, n_cells)
            self.stats[channel : channel + n_classes - 1, start:stop] = full[:-1]
            channel += n_classes - 1
            if k == 0:
                total = full.sum(axis=0)
                if weights is None:
                    self.counts[start:stop] = total
                else:
                    self.weights[start:stop] = total
                    self.counts[start:stop] = np.bincount(index, minlength=n_cells)


def _feature_chunks(n_features, n_rows):
    """Yield ranges of features whose codes fit in one chunk."""
    step = max(1, min(n_features, _CHUNK_ENTRIES // max(n_rows, 1)))
    for start in range(0, n_features, step):
        yield start, min(start + step, n_features)


def node_histograms(slots, n_nodes, targets):
    """Return the counts, weights and statistics of each node."""
    hist = Histograms.empty(n_nodes, targets)
    hist.fill(0, n_nodes, slots.reshape(1, -1), targets)
    return hist


def dense_histograms(binned, rows, slots, n_nodes, n_bins, targets):
    """Return the histograms of ``n_nodes`` nodes over every feature and bin.

    Parameters
    ----------
    binned : ndarray of shape (n_features, n_samples)
        The bin codes.
    rows : ndarray of shape (n_rows,) or None
        The samples to count, None for all of them.
    slots : ndarray of shape (n_rows,)
        The node (0 to ``n_nodes - 1``) of each of these samples.
    n_nodes, n_bins : int
        The number of nodes and the largest number of bins of a feature.
    targets : Targets
        The statistics to sum.

    Returns
    -------
    histograms : Histograms
        Over all cells ``(feature * n_nodes + node) * n_bins + bin``.
    """
    n_features = binned.shape[0]
    width = n_nodes * n_bins
    targets = targets.of_rows(rows)
    hist = Histograms.empty(n_features * width, targets)
    base = slots * n_bins
    for start, stop in _feature_chunks(n_features, slots.size):
        codes = binned[start:stop]
        if rows is not None:
            codes = np.take(codes, rows, axis=1)
        index = codes + base
        if stop - start > 1:
            index += (np.arange(stop - start) * width)[:, None]
        hist.fill(start * width, stop * width, index, targets)
    return hist


def sparse_histograms(binned, rows, slots, n_nodes, n_bins, targets):
    """Return the non-empty cells of the histograms of many small nodes.

    Same parameters as :func:`dense_histograms`; returns ``(cells,
    histograms)`` where ``cells`` are the sorted indices of the non-empty
    cells. Sorting the samples' cells costs no pass over all the cells, most
    of them empty when nodes hold fewer samples than there are bins.
    """
    n_features = binned.shape[0]
    width = n_nodes * n_bins
    n_cells = n_features * width
    index = np.take(binned, rows, axis=1) + (slots * n_bins)
    index += (np.arange(n_features) * width)[:, None]
    cells, index = _sorted_unique(index.ravel(), n_cells)
    index = index.reshape(n_features, -1)
    # The cells of feature f are the ranks from bounds[f] to bounds[f + 1].
    bounds = np.searchsorted(cells, np.arange(n_features + 1) * width)
    targets = targets.of_rows(rows)
    hist = Histograms.empty(cells.size, targets)
    for start, stop in _feature_chunks(n_features, rows.size):
        local = index[start:stop]
        if bounds[start]:
            local = local - bounds[start]
        hist.fill(bounds[start], bounds[stop], local, targets)
    return cells, hist


def _sorted_unique(index, n_cells):
    """Return the sorted distinct values of ``index`` and the rank of each.

    Sorting the values with their positions packed in the low bits is much
    faster than an argsort.
    """
    n = index.size
    shift = max(n - 1, 1).bit_length()
    if max(n_cells - 1, 1).bit_length() + shift > 62:
        return np.unique(index, return_inverse=True)
    packed = np.sort((index << shift) | np.arange(n))
    values = packed >> shift
    is_new = np.empty(n, dtype=bool)
    is_new[0] = True
    np.not_equal(values[1:], values[:-1], out=is_new[1:])
    rank = np.empty(n, dtype=np.intp)
    rank[packed & ((1 << shift) - 1)] = np.cumsum(is_new) - 1
    return values[is_new], rank


def _complete(weights, stats, n_classes):
    """Yield the counts of each output: all classes but the last, and the last."""
    start = 0
    for n in n_classes:
        kept = stats[start : start + n - 1]
        start += n - 1
        # Rounding leaves an absent last class slightly negative.
        yield kept, np.maximum(weights - kept.sum(axis=0), 0.0)


def proxy_gain(criterion, left, right, n_classes):
    """Return a score whose argmax is the split of least child impurity.

    ``left`` and ``right`` are (weights, stats) pairs of candidate children,
    the stats as a list of 1-D arrays; ``n_classes`` is None for regression.
    With ``Lc`` the weighted count of class ``c`` on a side of weight ``W``,
    ``sum_c Lc ** 2 / W`` (the Gini proxy, and the squared error one for
    sums of targets) is, once the last class is written ``W - sum Lc``,
    ``(sum_c Lc ** 2 + (sum_c Lc) ** 2) / W`` over the other classes, up to
    terms that are the same for every split of a node.
    """
    score = None
    for weights, stats in (left, right):
        if criterion == "entropy":
            side = _entropy_proxy(weights, stats, n_classes)
        else:
            side = _square_sums(stats, n_classes)
            side /= weights
        score = side if score is None else np.add(score, side, out=score)
    return score


def _square_sums(stats, n_classes):
    total = None
    for group in _groups(stats, n_classes):
        squares = np.square(group[0])
        for channel in group[1:]:
            squares += np.square(channel)
        if n_classes is not None:
            if len(group) == 1:
                squares *= 2.0
            else:
                squares += np.square(np.sum(group, axis=0))
        total = squares if total is None else np.add(total, squares, out=total)
    return total


def _entropy_proxy(weights, stats, n_classes):
    total = None
    for group in _groups(stats, n_classes):
        last = weights - group[0]
        side = _xlogx(group[0])
        for channel in group[1:]:
            last -= channel
            side += _xlogx(channel)
        side += _xlogx(last)
        side -= _xlogx(weights)
        total = side if total is None else np.add(total, side, out=total)
    return total


def _xlogx(values):
    # Weighted sums obtained by differences may be a rounding error below
    # zero where they should be zero.
    values = np.maximum(values, 0.0)
    return xlogy(values, values)


def _groups(stats, n_classes):
    """Split the channels by output (one channel per group for regression)."""
    if n_classes is None:
        return [[channel] for channel in stats]
    groups, start = [], 0
    for n in n_classes:
        groups.append(stats[start : start + n - 1])
        start += n - 1
    return groups


def node_impurity(criterion, weights, stats, squares, n_classes):
    """Return the impurity of nodes from their weights and statistics."""
    if criterion == "squared_error":
        return (squares / weights - np.square(stats / weights)).mean(axis=0)
    impurity = np.zeros(np.shape(weights))
    for kept, last in _complete(weights, stats, n_classes):
        p, p_last = kept / weights, last / weights
        if criterion == "gini":
            impurity += 1.0 - np.square(p).sum(axis=0) - np.square(p_last)
        else:
            entropy = xlogy(p, p).sum(axis=0) + xlogy(p_last, p_last)
            impurity -= entropy / np.log(2)
    return impurity / len(n_classes)


def class_proportions(weights, stats, n_classes):
    """Return the class proportions of nodes, shape (n_nodes, n_outputs, max)."""
    value = np.zeros((np.size(weights), len(n_classes), max(n_classes)))
    for k, (kept, last) in enumerate(_complete(weights, stats, n_classes)):
        n = n_classes[k]
        value[:, k, : n - 1] = (kept / weights).T
        value[:, k, n - 1] = last / weights
    return value


def find_best_splits(cells, hist, totals, problem):
    """Return the best split of every node from its compacted histograms.

    Parameters
    ----------
    cells : ndarray of shape (n_rows,)
        The sorted (feature, node, bin) cells of the non-empty bins. Every
        node has at least one non-empty bin per feature.
    hist : Histograms
        Their counts, weights and statistics.
    totals : Histograms
        The counts, weights and statistics of each node.
    problem : dict
        ``n_features``, ``n_nodes``, ``bin_shift`` (cells hold
        ``2 ** bin_shift`` bins per node and feature), ``criterion``,
        ``n_classes`` (None for regression), ``min_samples_leaf``,
        ``min_weight_leaf`` and ``feature_mask`` (bool array of shape
        (n_features, n_nodes) or None).

    Returns
    -------
    nodes, features, bins_left, bins_right : ndarray
        For each node with a valid split: the node, the feature, and the last
        bin sent left and the first bin sent right.
    """
    n_features, n_nodes = problem["n_features"], problem["n_nodes"]
    n_rows = cells.size
    segment = cells >> problem["bin_shift"]
    is_start = np.empty(n_rows, dtype=bool)
    is_start[0] = True
    np.not_equal(segment[1:], segment[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    lengths = np.diff(starts, append=n_rows)
    segment_node = np.tile(np.arange(n_nodes), n_features)

    def sides(values, per_node):
        # Sums of the bins up to each row (sent left by a split after it)
        # and of the others, restarted at every (feature, node) segment.
        left = np.cumsum(values)
        before = left[starts - 1]
        before[0] = 0.0
        left -= np.repeat(before, lengths)
        right = np.repeat(np.take(per_node, segment_node), lengths)
        right -= left
        return left, right

    # The last row of a segment leaves nothing on the right: never valid.
    n_left, n_right = sides(hist.counts, totals.counts)
    min_leaf = problem["min_samples_leaf"]
    valid = n_right >= min_leaf
    if min_leaf > 1:
        valid &= n_left >= min_leaf
    if problem["feature_mask"] is not None:
        valid &= np.repeat(problem["feature_mask"].ravel(), lengths)
    if hist.unit_weights:
        w_left, w_right = n_left, n_right
    else:
        w_left, w_right = sides(hist.weights, totals.weights)
        min_weight = max(problem["min_weight_leaf"], np.finfo(np.float64).tiny)
        valid &= (w_left >= min_weight) & (w_right >= min_weight)
    s_left, s_right = zip(
        *(sides(hist.stats[k], totals.stats[k]) for k in range(len(hist.stats)))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        score = proxy_gain(
            problem["criterion"],
            (w_left, list(s_left)),
            (w_right, list(s_right)),
            problem["n_classes"],
        )
    score[~valid] = -np.inf

    # Best row of each segment, then best feature of each node: ties go to
    # the lowest feature, then the lowest bin.
    segment_best = np.maximum.reduceat(score, starts)
    by_feature = segment_best.reshape(n_features, n_nodes)
    best_feature = by_feature.argmax(axis=0)
    nodes = np.flatnonzero(by_feature[best_feature, np.arange(n_nodes)] > -np.inf)
    hits = np.flatnonzero(score == np.repeat(segment_best, lengths))
    hit_segment = np.searchsorted(starts, hits, side="right") - 1
    first = np.flatnonzero(np.diff(hit_segment, prepend=-1))
    first_hit = np.empty(starts.size, dtype=np.intp)
    first_hit[hit_segment[first]] = hits[first]
    rows = first_hit[best_feature[nodes] * n_nodes + nodes]
    bins = cells[rows] - (segment[rows] << problem["bin_shift"])
    next_bins = cells[rows + 1] - (segment[rows + 1] << problem["bin_shift"])
    return nodes, best_feature[nodes], bins, next_bins


def find_best_splits_dense(hist, problem):
    """Return the best split of every node from its full histograms.

    Same as :func:`find_best_splits` on histograms over all the cells, empty
    ones included, which every (feature, node) segment has ``2 **
    bin_shift`` of: sums restart along the last axis of a reshape. A split
    after an empty bin sends the same samples left as one after the last
    non-empty bin before it, and ties go to the lowest bin: to that one.

    Parameters
    ----------
    hist : Histograms
        Over all the cells of the level.
    problem : dict
        As for :func:`find_best_splits`.

    Returns
    -------
    nodes, features, bins_left, bins_right : ndarray
        As for :func:`find_best_splits`.
    """
    n_features, n_nodes = problem["n_features"], problem["n_nodes"]
    shape = (n_features, n_nodes, 1 << problem["bin_shift"])

    def sides(values):
        left = np.cumsum(values.reshape(shape), axis=-1)
        right = left[..., -1:] - left
        return left, right

    n_left, n_right = sides(hist.counts)
    min_leaf = max(problem["min_samples_leaf"], 1)
    valid = (n_left >= min_leaf) & (n_right >= min_leaf)
    if problem["feature_mask"] is not None:
        valid &= problem["feature_mask"][:, :, None]
    if hist.unit_weights:
        w_left, w_right = n_left, n_right
    else:
        w_left, w_right = sides(hist.weights)
        min_weight = max(problem["min_weight_leaf"], np.finfo(np.float64).tiny)
        valid &= (w_left >= min_weight) & (w_right >= min_weight)
    s_left, s_right = zip(*(sides(stats) for stats in hist.stats))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = proxy_gain(
            problem["criterion"],
            (w_left, list(s_left)),
            (w_right, list(s_right)),
            problem["n_classes"],
        )
    score[~valid] = -np.inf

    segment_bin = score.argmax(axis=-1)
    segment_best = np.take_along_axis(score, segment_bin[..., None], -1)[..., 0]
    best_feature = segment_best.argmax(axis=0)
    node_index = np.arange(n_nodes)
    nodes = np.flatnonzero(segment_best[best_feature, node_index] > -np.inf)
    features = best_feature[nodes]
    bins = segment_bin[features, nodes]
    counts = hist.counts.reshape(shape)[features, nodes]
    after = (counts > 0) & (np.arange(shape[2]) > bins[:, None])
    return nodes, features, bins, after.argmax(axis=1)
