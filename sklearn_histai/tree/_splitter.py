"""Histograms of binned features and the vectorised search for the best splits.

A histogram holds, for every (feature, node, bin) *cell*, the number of
samples, their total weight and the sums the criterion needs, its
*statistics*: the weighted counts of every class but the last of each output
(the last is the weight minus the others) for classification, the weighted
sums of each target for regression.

Cells are numbered ``(feature * n_nodes + node) * n_bins + bin``: each
(feature, node) *segment* of bins is contiguous, and so are the cells of a
group of features, which take one ``np.bincount`` per channel. Every
segment's best split comes from cumulative sums along its bins, searched in
one of three ways, which find the same splits:

* dense histograms as they are, for nodes that fill most of their bins;
* dense histograms compacted to their non-empty cells, for smaller nodes;
* the samples sorted by cell, for many small nodes, where counting every
  cell of a dense histogram would cost more than sorting the samples.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

# Work on groups of features whose temporary arrays hold about this many
# entries: small arrays stay in cache and are recycled by the allocator,
# where large ones cost a page fault per 4 kB on every allocation.
_CHUNK_ENTRIES = 1 << 16


@dataclass(frozen=True, slots=True)
class SplitProblem:
    """What the search for the best splits of a level needs to know.

    Parameters
    ----------
    bin_shift : int
        Segments hold ``2 ** bin_shift`` bins.
    criterion : {"gini", "entropy", "squared_error"}
        The impurity to minimise.
    n_classes : list of int or None
        The number of classes of each output; None for regression.
    min_samples_leaf : int
        The fewest samples of a leaf.
    min_weight_leaf : float
        The least total sample weight of a leaf.
    need_varies : bool
        Whether to tell which segments have two non-empty bins or more.
    """

    bin_shift: int
    criterion: str
    n_classes: list | None
    min_samples_leaf: int
    min_weight_leaf: float
    need_varies: bool


@dataclass(slots=True)
class _Segments:
    """Where the cumulative sums along the bins restart, and the totals.

    Dense histograms give ``shape``, ``(n_segments, n_bins)``, and restart at
    every row of that reshape. Compacted ones give the ``starts`` of their
    segments, the ``segment`` of each row, and each segment's total count,
    weight and statistics, from which the right sides are found.
    """

    shape: tuple | None = None
    starts: np.ndarray | None = None
    segment: np.ndarray | None = None
    n_totals: np.ndarray | None = None
    w_totals: np.ndarray | None = None
    s_totals: np.ndarray | None = None


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
    center : ndarray of shape (n_outputs,) or None
        Regression: what was subtracted from the targets, added back to the
        values of the nodes.
    """

    def __init__(self, class_codes, n_classes, values, weights, center=None):
        self.class_codes = class_codes
        self.n_classes = n_classes
        self.values = values
        self.weights = weights
        self.center = center
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
        return Targets(
            codes, self.n_classes, pick(self.values), pick(self.weights), self.center
        )


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

    def map(self, function, *others):
        """Apply ``function`` to each array (and those of ``others``)."""
        counts = function(self.counts, *(o.counts for o in others))
        weights = None
        if not self.unit_weights:
            weights = function(self.weights, *(o.weights for o in others))
        stats = function(self.stats, *(o.stats for o in others))
        return Histograms(counts, weights, stats)


def _sum_into_cells(index, n_cells, targets):
    """Return the histograms of samples over ``n_cells`` cells.

    Parameters
    ----------
    index : ndarray of shape (n_groups, n_rows)
        For each group of cells (a feature) and sample of ``targets``, the
        cell of the sample.
    n_cells : int
        The number of cells.
    targets : Targets
        The targets of the samples.

    Returns
    -------
    histograms : Histograms
        Integer counts (and statistics, for unit weights) stay integers:
        their sums are exact, and faster.
    """
    n_groups = index.shape[0]
    flat = index.ravel()

    def per_entry(values):
        return values if n_groups == 1 else np.tile(values, n_groups)

    weights = None if targets.weights is None else per_entry(targets.weights)
    if not targets.is_classification:
        counts = np.bincount(flat, minlength=n_cells)
        if weights is not None:
            weights = np.bincount(flat, weights=weights, minlength=n_cells)
        stats = [
            np.bincount(flat, weights=per_entry(values), minlength=n_cells)
            for values in targets.values
        ]
        return Histograms(counts, weights, _stack(stats))
    stats = []
    for k, n_classes in enumerate(targets.n_classes):
        shifted = index + (targets.class_codes[k] * n_cells)
        full = np.bincount(
            shifted.ravel(), weights=weights, minlength=n_classes * n_cells
        ).reshape(n_classes, n_cells)
        stats.append(full[:-1])
        if k == 0:
            total = full[0] + full[1] if n_classes == 2 else full.sum(axis=0)
    if weights is None:
        return Histograms(total, None, _stack(stats))
    return Histograms(np.bincount(flat, minlength=n_cells), total, _stack(stats))


def _stack(arrays):
    if len(arrays) == 1:
        return arrays[0] if arrays[0].ndim == 2 else arrays[0][None, :]
    return np.concatenate([np.atleast_2d(a) for a in arrays])


def feature_chunks(n_features, entries_per_feature, max_step=None):
    """Return ranges of features whose temporary arrays fit in one chunk.

    Chunks hold all the features or a power of two of them; with
    ``max_step`` the step of the level above, a level's chunks nest in those
    whose histograms they subtract from.
    """
    fit = max(1, _CHUNK_ENTRIES // max(entries_per_feature, 1))
    step = n_features if fit >= n_features else 1 << (fit.bit_length() - 1)
    if max_step is not None:
        step = min(step, max_step)
    step = min(step, n_features)
    return [
        (start, min(start + step, n_features)) for start in range(0, n_features, step)
    ]


def node_histograms(slots, n_nodes, targets):
    """Return the counts, weights and statistics of each node."""
    return _sum_into_cells(slots.reshape(1, -1), n_nodes, targets)


def _cell_index(codes, slots, n_nodes, n_bins):
    index = codes + slots * n_bins
    if codes.shape[0] > 1:
        index += (np.arange(codes.shape[0]) * (n_nodes * n_bins))[:, None]
    return index


def dense_histograms(codes, slots, n_nodes, n_bins, targets):
    """Return the histograms of nodes over some features and all their bins.

    Parameters
    ----------
    codes : ndarray of shape (n_features, n_rows)
        The bin codes of the samples, for the features at hand.
    slots : ndarray of shape (n_rows,)
        The node (0 to ``n_nodes - 1``) of each sample.
    n_nodes, n_bins : int
        The number of nodes and of bins per (feature, node) segment.
    targets : Targets
        The targets of these samples.

    Returns
    -------
    histograms : Histograms
        Over all cells ``(feature * n_nodes + node) * n_bins + bin``.
    """
    n_cells = codes.shape[0] * n_nodes * n_bins
    return _sum_into_cells(_cell_index(codes, slots, n_nodes, n_bins), n_cells, targets)


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
        if len(group) == 1:
            squares = np.square(group[0])
        else:
            squares = np.einsum("i...,i...->...", group, group)
        if n_classes is not None:
            if len(group) == 1:
                # Two classes: twice the proxy of the first one alone; the
                # factor only matters against the other outputs.
                if len(n_classes) > 1:
                    squares *= 2.0
            else:
                squares += np.square(np.sum(group, axis=0))
        total = squares if total is None else np.add(total, squares, out=total)
    return total


def _entropy_proxy(weights, stats, n_classes):
    total = None
    for group in _groups(stats, n_classes):
        if not len(group):
            # An output of a single class: xlogx(weights) - xlogx(weights).
            continue
        last = weights - group[0]
        side = _xlogx(group[0])
        for channel in group[1:]:
            last -= channel
            side += _xlogx(channel)
        side += _xlogx(last)
        side -= _xlogx(weights)
        total = side if total is None else np.add(total, side, out=total)
    return np.zeros(np.shape(weights)) if total is None else total


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


def _sides(values, segments, totals=None):
    """Return the sums left and right of a split after each bin, as floats.

    The sums restart at every segment of ``segments``; for compacted
    histograms the right side is the segment's total, from ``totals``, minus
    the left. With ``values`` None, every row is one sample of unit weight.
    ``values`` may have leading axes (the channels of the statistics), as
    ``totals`` then has.
    """
    if segments.shape is not None:
        shape = np.shape(values)[:-1] + segments.shape
        left = np.cumsum(values.reshape(shape), axis=-1, dtype=np.float64)
        right = np.subtract(left[..., -1:], left)
        return left, right
    starts, segment = segments.starts, segments.segment
    # Spreading per-segment values over the rows with ``take`` is several
    # times faster than with ``repeat``.
    if values is None:
        left = np.arange(1.0, segment.size + 1.0)
        left -= np.take(starts, segment)
    else:
        left = np.cumsum(values, axis=-1, dtype=np.float64)
        before = left[..., starts - 1]
        before[..., 0] = 0.0
        left -= np.take(before, segment, axis=-1)
    right = np.take(np.asarray(totals, dtype=np.float64), segment, axis=-1)
    right -= left
    return left, right


def _scores(hist, problem, segments, last=None):
    """Return the split scores, -inf where invalid, and the left counts.

    ``last``, when given, tells the rows after which no split is possible
    (the last sample of a cell). Rows of compacted histograms (no
    ``shape``) are never empty, so that their left counts are positive.
    """
    n_left, n_right = _sides(hist.counts, segments, segments.n_totals)
    min_leaf = max(problem.min_samples_leaf, 1)
    invalid = n_right < min_leaf
    if min_leaf > 1 or segments.shape is not None:
        invalid |= n_left < min_leaf
    if last is not None:
        invalid |= last
    if hist.unit_weights:
        w_left, w_right = n_left, n_right
    else:
        w_left, w_right = _sides(hist.weights, segments, segments.w_totals)
        min_weight = max(problem.min_weight_leaf, np.finfo(np.float64).tiny)
        invalid |= w_left < min_weight
        invalid |= w_right < min_weight
    # All the channels at once: one call per operation, not per channel.
    s_left, s_right = _sides(np.asarray(hist.stats), segments, segments.s_totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = proxy_gain(
            problem.criterion,
            (w_left, s_left),
            (w_right, s_right),
            problem.n_classes,
        )
    score[invalid] = -np.inf
    return score, n_left


def best_dense_splits(hist, n_segments, problem):
    """Return the best split of every (feature, node) segment of dense histograms.

    A split after an empty bin sends the same samples left as one after the
    last non-empty bin before it, and ties go to the lowest bin: to that one.

    Parameters
    ----------
    hist : Histograms
        Over all the cells of ``n_segments`` segments of ``2 ** bin_shift``
        bins each.
    n_segments : int
        The number of (feature, node) segments.
    problem : SplitProblem
        The criterion, the constraints on the leaves, and the bins per
        segment.

    Returns
    -------
    score, bin_left : ndarray of shape (n_segments,)
        The score of the best split (-inf if none) and the last bin it sends
        left.
    bin_right : None
        The first bin sent right: the next non-empty one, see
        :func:`next_nonempty_bins`.
    varies : ndarray of shape (n_segments,) or None
        Whether the segment has two non-empty bins or more, if
        ``problem.need_varies``.
    """
    segments = _Segments(shape=(n_segments, 1 << problem.bin_shift))
    score, n_left = _scores(hist, problem, segments)
    bin_left = score.argmax(axis=1)
    rows = np.arange(n_segments)
    varies = None
    if problem.need_varies:
        first = n_left[rows, np.argmax(n_left > 0, axis=1)]
        varies = n_left[:, -1] > first
    # The first bin sent right is only looked for in the chosen segments.
    return score[rows, bin_left], bin_left, None, varies


def best_sparse_splits(cells, hist, totals, n_nodes, n_segments, problem):
    """Return the best split of every segment of compacted histograms.

    Parameters
    ----------
    cells : ndarray of shape (n_rows,)
        The sorted (feature, node, bin) cells of the non-empty bins; every
        one of the ``n_segments`` (feature, node) segments has at least one.
    hist : Histograms
        Their counts, weights and statistics.
    totals : Histograms
        The counts, weights and statistics of each of the ``n_nodes`` nodes.
    n_nodes, n_segments : int
        The number of nodes and of segments.
    problem : SplitProblem
        As for :func:`best_dense_splits`.

    Returns
    -------
    score, bin_left, bin_right, varies : ndarray of shape (n_segments,)
        As for :func:`best_dense_splits`, ``bin_right`` and ``varies``
        always given.
    """
    return _best_in_segments(cells, hist, totals, n_nodes, n_segments, problem)


def best_sorted_splits(codes, slots, n_nodes, targets, totals, problem):
    """Return the best split of every segment, from the sorted samples.

    For many small nodes, most cells of a dense histogram are empty: sorting
    the samples by cell is cheaper. When most cells hold a single sample,
    the sorted samples are searched as they are, a split being possible
    after the last sample of a cell; otherwise they are first summed by cell.

    Parameters
    ----------
    codes : ndarray of shape (n_features, n_rows)
        The bin codes of the samples, for the features at hand.
    slots : ndarray of shape (n_rows,)
        The node of each sample.
    n_nodes : int
        The number of nodes.
    targets : Targets
        The targets of these samples.
    totals : Histograms
        The counts, weights and statistics of each node.
    problem : SplitProblem
        As for :func:`best_dense_splits`.

    Returns
    -------
    score, bin_left, bin_right, varies : ndarray of shape (n_segments,)
        As for :func:`best_sparse_splits`.
    """
    n_features, n_rows = codes.shape
    n_segments = n_features * n_nodes
    index = _cell_index(codes, slots, n_nodes, 1 << problem.bin_shift)
    row_bits = max(n_rows - 1, 1).bit_length()
    n_cells = n_segments << problem.bin_shift
    if max(n_cells - 1, 1).bit_length() + row_bits > 62:
        cells, rank = np.unique(index, return_inverse=True)
        hist = _sum_into_cells(rank.reshape(index.shape), cells.size, targets)
        return best_sparse_splits(cells, hist, totals, n_nodes, n_segments, problem)
    index <<= row_bits
    index |= np.arange(n_rows)
    packed = np.sort(index, axis=None)
    cells = packed >> row_bits
    packed &= (1 << row_bits) - 1
    return best_presorted_splits(cells, packed, n_nodes, targets, totals, problem)


def best_presorted_splits(cells, rows, n_nodes, targets, totals, problem):
    """Return the best split of every segment, from samples sorted by cell.

    Parameters
    ----------
    cells : ndarray of shape (n_entries,)
        The (feature, node, bin) cell of each entry, a (feature, sample)
        pair, in increasing order; every (feature, node) segment has
        entries.
    rows : ndarray of shape (n_entries,)
        The sample of ``targets`` of each entry.
    n_nodes : int
        The number of nodes.
    targets : Targets
        The targets of the samples.
    totals : Histograms
        The counts, weights and statistics of each node.
    problem : SplitProblem
        As for :func:`best_dense_splits`.

    Returns
    -------
    score, bin_left, bin_right, varies : ndarray of shape (n_segments,)
        As for :func:`best_sparse_splits`.
    """
    n_segments = int(cells[-1] >> problem.bin_shift) + 1
    new_cell = np.empty(cells.size, dtype=bool)
    new_cell[0] = True
    np.not_equal(cells[1:], cells[:-1], out=new_cell[1:])
    if 2 * np.count_nonzero(new_cell) < cells.size:
        # Many samples per cell: sum them first.
        rank = np.cumsum(new_cell) - 1
        hist = _sum_into_cells(rank.reshape(1, -1), rank[-1] + 1, targets.of_rows(rows))
        return best_sparse_splits(
            cells[new_cell], hist, totals, n_nodes, n_segments, problem
        )
    # Only after the last sample of a cell can a split come.
    last = np.empty(cells.size, dtype=bool)
    last[-1] = False
    np.logical_not(new_cell[1:], out=last[:-1])
    entries = targets.of_rows(rows)
    hist = Histograms(None, entries.weights, entry_stats(entries))
    return _best_in_segments(cells, hist, totals, n_nodes, n_segments, problem, last)


def entry_stats(targets):
    """Return the statistics of single samples, one row per channel."""
    if not targets.is_classification:
        return targets.values
    channels = np.concatenate(
        [
            codes == np.arange(n_classes - 1)[:, None]
            for codes, n_classes in zip(targets.class_codes, targets.n_classes)
        ]
    )
    return channels if targets.weights is None else channels * targets.weights


def _best_in_segments(cells, hist, totals, n_nodes, n_segments, problem, last=None):
    shift = problem.bin_shift
    n_rows = cells.size
    # Every segment has rows: the segments of the rows are their ranks.
    segment = cells >> shift
    is_start = np.empty(n_rows, dtype=bool)
    is_start[0] = True
    np.not_equal(segment[1:], segment[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    segment_node = np.arange(n_segments) % n_nodes
    segments = _Segments(
        starts=starts,
        segment=segment,
        n_totals=totals.counts[segment_node],
        w_totals=totals.weights[segment_node],
        s_totals=totals.stats[:, segment_node],
    )
    score, _ = _scores(hist, problem, segments, last)
    best = np.maximum.reduceat(score, starts)
    hits = np.flatnonzero(score == np.take(best, segment))
    first = np.flatnonzero(np.diff(np.take(segment, hits), prepend=-1))
    rows = hits[first]
    mask = (1 << shift) - 1
    # The next row: the next non-empty bin, or the first sample of the next
    # cell.
    after = np.minimum(rows + 1, n_rows - 1)
    lengths = np.diff(starts, append=n_rows)
    if last is None:
        varies = lengths > 1
    else:
        cells_in_segment = lengths - np.add.reduceat(last, starts, dtype=np.intp)
        varies = cells_in_segment > 1
    return best, cells[rows] & mask, cells[after] & mask, varies


def next_nonempty_bins(counts, bins):
    """Return the first non-empty bin after ``bins`` in each row of ``counts``."""
    after = np.arange(counts.shape[1]) > bins[:, None]
    after &= counts > 0
    return after.argmax(axis=1)
