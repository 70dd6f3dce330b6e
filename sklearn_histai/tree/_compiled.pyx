# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""Compiled kernels of the trees: depth-by-depth growth, and traversal.

On small data a tree grown by numpy pays for the dispatch of every call more
than for the arithmetic, and a deep tree makes a few dozen calls per level;
a fitted tree's traversal makes a dozen per level. These loops do the same
work per sample, and decide exactly as :class:`~sklearn_histai.tree._grower.
TreeGrower` does: the same node statistics, summed over the samples in
increasing order (as ``np.bincount`` sums them), the same scores, impurities
and tests, in the same order of operations, ties broken alike (lowest
feature, then lowest bin), and the same random draws of features, made by
the caller's ``feature_mask`` once per level.

The samples of each feature are kept sorted by bin inside the range of
their node: a split partitions each range stably into its two children, so
every level scans each feature's samples once, in bin order, with running
sums of the statistics.
"""

import numpy as np

from libc.float cimport DBL_MIN
from libc.math cimport INFINITY, log
from libc.stdint cimport int32_t, uint8_t
from libc.string cimport memcpy

ctypedef Py_ssize_t intp

# Criteria, as the caller names them.
cdef enum:
    GINI = 0
    ENTROPY = 1
    SQUARED_ERROR = 2

ctypedef fused floating:
    float
    double


cdef inline double _xlogx(double value) noexcept nogil:
    # As scipy's ``xlogy(v, v)`` of ``max(v, 0)``: differences of weighted
    # sums may round below zero where they should be zero.
    if value <= 0.0:
        return 0.0
    return value * log(value)


cdef class _Problem:
    """What the growth reads: targets, criterion and constraints."""

    cdef int criterion
    cdef intp n_samples, n_features, n_outputs, n_stat, n_full
    cdef bint classification, unit_weights
    cdef const uint8_t[:, ::1] binned
    cdef const intp[:, ::1] class_codes
    cdef const double[:, ::1] values
    cdef const double[:, ::1] squares
    cdef const double[::1] weights
    cdef const intp[::1] n_classes, stat_offset, full_offset
    cdef intp min_samples_leaf, min_samples_split, max_depth
    cdef double min_weight_leaf, min_weight_split, min_impurity_decrease
    cdef double epsilon, log2


cdef inline double _side_score(_Problem p, double weight, const double *stats) noexcept nogil:
    """The proxy of one side of a split (``_splitter.proxy_gain``)."""
    cdef double total = 0.0, side, squares, group_sum, last
    cdef intp k, c, start, g
    if p.criterion == ENTROPY:
        for k in range(p.n_outputs):
            start = p.stat_offset[k]
            g = p.n_classes[k] - 1
            if g == 0:
                # A single class: xlogx(weight) - xlogx(weight) = 0.
                continue
            last = weight - stats[start]
            side = _xlogx(stats[start])
            for c in range(1, g):
                last -= stats[start + c]
                side += _xlogx(stats[start + c])
            side += _xlogx(last)
            side -= _xlogx(weight)
            total += side
        return total
    if not p.classification:
        for k in range(p.n_outputs):
            total += stats[k] * stats[k]
        return total / weight
    for k in range(p.n_outputs):
        start = p.stat_offset[k]
        g = p.n_classes[k] - 1
        if g == 0:
            squares = 0.0
        elif g == 1:
            squares = stats[start] * stats[start]
            if p.n_outputs > 1:
                squares *= 2.0
        else:
            squares = stats[start] * stats[start]
            group_sum = stats[start]
            for c in range(1, g):
                squares += stats[start + c] * stats[start + c]
                group_sum += stats[start + c]
            squares += group_sum * group_sum
        total += squares
    return total / weight


cdef inline double _impurity(
    _Problem p, double weight, const double *stats, const double *squares
) noexcept nogil:
    """The impurity of a node (``_splitter.node_impurity``)."""
    cdef double impurity = 0.0, mean, kept, last, share, entropy
    cdef intp k, c, start, g
    if p.criterion == SQUARED_ERROR:
        for k in range(p.n_outputs):
            mean = stats[k] / weight
            impurity += squares[k] / weight - mean * mean
        return impurity / p.n_outputs
    for k in range(p.n_outputs):
        start = p.stat_offset[k]
        g = p.n_classes[k] - 1
        if g == 0:
            # A single class: a pure node.
            continue
        kept = stats[start]
        for c in range(1, g):
            kept += stats[start + c]
        last = weight - kept
        if last < 0.0:
            last = 0.0
        # The sum over the classes but the last, then the last.
        entropy = 0.0
        for c in range(g):
            share = stats[start + c] / weight
            entropy += share * share if p.criterion == GINI else _xlogx(share)
        share = last / weight
        if p.criterion == GINI:
            impurity += 1.0 - entropy - share * share
        else:
            entropy += _xlogx(share)
            impurity -= entropy / p.log2
    return impurity / p.n_outputs


cdef class _Nodes:
    """The nodes grown so far, numbered breadth-first."""

    cdef intp[::1] start, stop, count, depth, left, right, feature
    cdef intp[::1] bin_left, bin_right
    cdef double[::1] weight, impurity
    cdef double[:, ::1] stats, squares

    def __init__(self, intp capacity, intp n_stat, intp n_out):
        self.start = np.zeros(capacity, dtype=np.intp)
        self.stop = np.zeros(capacity, dtype=np.intp)
        self.count = np.zeros(capacity, dtype=np.intp)
        self.depth = np.zeros(capacity, dtype=np.intp)
        self.left = np.full(capacity, -1, dtype=np.intp)
        self.right = np.full(capacity, -1, dtype=np.intp)
        self.feature = np.full(capacity, -2, dtype=np.intp)
        self.bin_left = np.zeros(capacity, dtype=np.intp)
        self.bin_right = np.zeros(capacity, dtype=np.intp)
        self.weight = np.zeros(capacity)
        self.impurity = np.zeros(capacity)
        self.stats = np.zeros((capacity, max(n_stat, 1)))
        self.squares = np.zeros((capacity, max(n_out, 1)))


cdef class _Scratch:
    """The arrays one level works in, held for the whole growth."""

    cdef intp *split_nodes
    cdef intp *found_node
    cdef intp *found_feature
    cdef intp *found_left
    cdef intp *found_right
    cdef intp *bins_left
    cdef intp *bins_right
    cdef intp *child_count
    cdef double *score
    cdef double *child_weight
    cdef double *child_impurity
    cdef double *child_stats
    cdef double *child_full
    cdef double *child_squares
    cdef uint8_t *varies
    cdef uint8_t *accept
    cdef object _buffers

    def __init__(self, intp cap, intp n_features, intp n_stat, intp n_full, intp n_out):
        cdef intp[::1] ints = np.empty(5 * cap + 2 * n_features * cap + 2 * cap, dtype=np.intp)
        cdef double[::1] floats = np.empty(
            n_features * cap + 4 * cap + 2 * cap * (n_stat + n_full + n_out) + 1
        )
        cdef uint8_t[::1] flags = np.empty(n_features * cap + cap, dtype=np.uint8)
        self._buffers = (ints, floats, flags)
        self.split_nodes = &ints[0]
        self.found_node = self.split_nodes + cap
        self.found_feature = self.found_node + cap
        self.found_left = self.found_feature + cap
        self.found_right = self.found_left + cap
        self.bins_left = self.found_right + cap
        self.bins_right = self.bins_left + n_features * cap
        self.child_count = self.bins_right + n_features * cap
        self.score = &floats[0]
        self.child_weight = self.score + n_features * cap
        self.child_impurity = self.child_weight + 2 * cap
        self.child_stats = self.child_impurity + 2 * cap
        self.child_full = self.child_stats + 2 * cap * n_stat
        self.child_squares = self.child_full + 2 * cap * n_full
        self.varies = &flags[0]
        self.accept = self.varies + n_features * cap


cdef void _sum_samples(
    _Problem p,
    const intp *slot,
    intp n_slots,
    intp *count,
    double *weight,
    double *stats,
    double *full,
    double *squares,
) noexcept nogil:
    """Sum the samples of each slot, in increasing order of sample.

    ``slot[i]`` is the slot of sample ``i``, or -1. The per-slot arrays
    (``stats`` ``n_stat`` wide, ``full`` ``n_full`` wide and ``squares``
    ``n_outputs`` wide) are zeroed here. As ``_splitter._sum_into_cells``:
    a classification node weighs the sum of its class weights (of the first
    output); a regression node the sum of its sample weights.
    """
    cdef intp i, s, k, c, n = p.n_samples
    cdef double w
    for s in range(n_slots):
        count[s] = 0
        weight[s] = 0.0
    for s in range(n_slots * p.n_stat):
        stats[s] = 0.0
    if p.classification:
        for s in range(n_slots * p.n_full):
            full[s] = 0.0
    else:
        for s in range(n_slots * p.n_outputs):
            squares[s] = 0.0
    for i in range(n):
        s = slot[i]
        if s < 0:
            continue
        count[s] += 1
        w = 1.0 if p.unit_weights else p.weights[i]
        if p.classification:
            for k in range(p.n_outputs):
                full[s * p.n_full + p.full_offset[k] + p.class_codes[k, i]] += w
        else:
            if not p.unit_weights:
                weight[s] += w
            for k in range(p.n_outputs):
                stats[s * p.n_stat + k] += p.values[k, i]
                squares[s * p.n_outputs + k] += p.squares[k, i]
    for s in range(n_slots):
        if p.classification:
            # The weight: the classes of the first output, added in order.
            weight[s] = full[s * p.n_full]
            for c in range(1, p.n_classes[0]):
                weight[s] += full[s * p.n_full + c]
            for k in range(p.n_outputs):
                for c in range(p.n_classes[k] - 1):
                    stats[s * p.n_stat + p.stat_offset[k] + c] = full[
                        s * p.n_full + p.full_offset[k] + c
                    ]
        elif p.unit_weights:
            weight[s] = count[s]


cdef bint _splittable(_Problem p, _Nodes nodes, intp node) noexcept nogil:
    return (
        nodes.depth[node] < p.max_depth
        and nodes.count[node] >= p.min_samples_split
        and nodes.count[node] >= 2 * p.min_samples_leaf
        and nodes.weight[node] >= p.min_weight_split
        and nodes.impurity[node] > p.epsilon
    )


cdef void _best_split(
    _Problem p,
    _Nodes nodes,
    intp node,
    const int32_t *order,
    intp f,
    double *left,
    double *score,
    intp *bin_left,
    intp *bin_right,
    uint8_t *varies,
) noexcept nogil:
    """Scan the samples of ``node`` along feature ``f``, in bin order."""
    cdef intp start = nodes.start[node], stop = nodes.stop[node]
    cdef intp n_node = stop - start, pos, k, c, code, sample
    cdef intp min_leaf = p.min_samples_leaf if p.min_samples_leaf > 1 else 1
    cdef double min_weight = p.min_weight_leaf
    cdef double total_weight = nodes.weight[node], w_left = 0.0, w_right, value
    cdef double *right = left + p.n_stat
    cdef const double *totals = &nodes.stats[node, 0]
    cdef const uint8_t *codes = &p.binned[f, 0]
    cdef uint8_t here, after
    score[0] = -INFINITY
    bin_left[0] = 0
    bin_right[0] = 0
    varies[0] = codes[order[start]] != codes[order[stop - 1]]
    if not varies[0]:
        return
    if min_weight < DBL_MIN:
        min_weight = DBL_MIN
    for c in range(p.n_stat):
        left[c] = 0.0
    for pos in range(n_node - 1):
        sample = order[start + pos]
        value = 1.0 if p.unit_weights else p.weights[sample]
        if p.classification:
            for k in range(p.n_outputs):
                code = p.class_codes[k, sample]
                if code < p.n_classes[k] - 1:
                    left[p.stat_offset[k] + code] += value
        else:
            for k in range(p.n_outputs):
                left[k] += p.values[k, sample]
        if p.unit_weights:
            w_left = pos + 1.0
        else:
            w_left += value
        here = codes[sample]
        after = codes[order[start + pos + 1]]
        # Only after the last sample of a bin can a split come.
        if here == after or pos + 1 < min_leaf or n_node - pos - 1 < min_leaf:
            continue
        w_right = total_weight - w_left
        if not p.unit_weights and (w_left < min_weight or w_right < min_weight):
            continue
        for c in range(p.n_stat):
            right[c] = totals[c] - left[c]
        value = _side_score(p, w_left, left) + _side_score(p, w_right, right)
        if value > score[0]:
            score[0] = value
            bin_left[0] = here
            bin_right[0] = after


cdef void _partition(
    int32_t *order, intp start, intp stop, const uint8_t *goes_left, int32_t *spare
) noexcept nogil:
    """Stably move the samples of ``order[start:stop]`` going left first."""
    cdef intp i, n_left = start, n_right = 0
    cdef int32_t sample
    for i in range(start, stop):
        sample = order[i]
        if goes_left[sample]:
            order[n_left] = sample
            n_left += 1
        else:
            spare[n_right] = sample
            n_right += 1
    memcpy(&order[n_left], spare, n_right * sizeof(int32_t))


def grow(
    const uint8_t[:, ::1] binned,
    class_codes,
    n_classes,
    values,
    squares,
    weights,
    int criterion,
    intp max_depth,
    intp min_samples_split,
    intp min_samples_leaf,
    double min_weight_leaf,
    double min_impurity_decrease,
    feature_mask=None,
):
    """Grow a tree depth by depth; return its nodes, numbered breadth-first.

    Parameters
    ----------
    binned : ndarray of shape (n_features, n_samples), dtype uint8
        The bin code of each feature and sample.
    class_codes : ndarray of shape (n_outputs, n_samples), dtype intp, or None
        Classification: the class code of each output and sample.
    n_classes : ndarray of shape (n_outputs,), dtype intp, or None
        Classification: the number of classes of each output.
    values, squares : ndarray of shape (n_outputs, n_samples) or None
        Regression: the weighted (centred) targets and their weighted
        squares.
    weights : ndarray of shape (n_samples,) or None
        The sample weights; None for unit weights.
    criterion : {0, 1, 2}
        Gini, entropy or squared error.
    max_depth, min_samples_split, min_samples_leaf : int
        The deepest leaf, the fewest samples of a node to split and of a leaf.
    min_weight_leaf : float
        The least weight of a leaf.
    min_impurity_decrease : float
        The least weighted impurity decrease of a split.
    feature_mask : callable or None
        Called once per level that has nodes to split, with a boolean array
        of shape (n_features, n_nodes) telling which features vary in each;
        returns which features each node may split on. None: all of them.

    Returns
    -------
    nodes : dict of ndarray
        ``count``, ``weight``, ``stats`` (n_nodes, n_stat), ``squares``
        (regression), ``depth``, ``children_left``, ``children_right``,
        ``feature``, ``bin_left`` and ``bin_right`` of each node.
    """
    cdef _Problem p = _Problem()
    cdef intp n_features = binned.shape[0], n = binned.shape[1]
    cdef intp k, f, i, j, s, b, node, n_split, n_found, n_kept, next_id
    cdef intp level_start, level_stop, child
    p.criterion = criterion
    p.n_samples = n
    p.n_features = n_features
    p.binned = binned
    p.classification = class_codes is not None
    p.unit_weights = weights is None
    if not p.unit_weights:
        p.weights = np.ascontiguousarray(weights, dtype=np.float64)
    if p.classification:
        p.class_codes = np.ascontiguousarray(class_codes, dtype=np.intp)
        p.n_classes = np.ascontiguousarray(n_classes, dtype=np.intp)
        p.n_outputs = p.n_classes.shape[0]
        p.stat_offset = np.concatenate([[0], np.cumsum(np.asarray(p.n_classes) - 1)])
        p.full_offset = np.concatenate([[0], np.cumsum(p.n_classes)])
        p.n_stat = p.stat_offset[p.n_outputs]
        p.n_full = p.full_offset[p.n_outputs]
    else:
        p.values = np.ascontiguousarray(values, dtype=np.float64)
        p.squares = np.ascontiguousarray(squares, dtype=np.float64)
        p.n_outputs = p.values.shape[0]
        p.n_stat = p.n_outputs
        p.n_full = 0
        p.n_classes = np.zeros(0, dtype=np.intp)
        p.stat_offset = np.arange(p.n_outputs + 1, dtype=np.intp)
        p.full_offset = np.zeros(1, dtype=np.intp)
    p.max_depth = max_depth
    p.min_samples_split = min_samples_split
    p.min_samples_leaf = min_samples_leaf
    p.min_weight_leaf = min_weight_leaf
    p.min_weight_split = 2 * min_weight_leaf
    p.min_impurity_decrease = min_impurity_decrease
    p.epsilon = np.finfo(np.float64).eps
    p.log2 = log(2.0)

    # Every leaf holds a sample: at most 2 n - 1 nodes.
    cdef _Nodes nodes = _Nodes(2 * n - 1 if n > 0 else 1, p.n_stat, p.n_outputs)
    cdef intp[::1] slot = np.zeros(n, dtype=np.intp)
    cdef uint8_t[::1] goes_left = np.zeros(n, dtype=np.uint8)
    cdef int32_t[:, ::1] order = np.argsort(binned, axis=1, kind="stable").astype(
        np.int32
    )
    cdef int32_t[::1] spare = np.empty(max(n, 1), dtype=np.int32)
    cdef double[::1] full_root = np.zeros(max(p.n_full, 1))
    cdef double[::1] left_right = np.zeros(2 * max(p.n_stat, 1))

    # The root.
    _sum_samples(
        p,
        &slot[0],
        1,
        &nodes.count[0],
        &nodes.weight[0],
        &nodes.stats[0, 0],
        &full_root[0],
        &nodes.squares[0, 0],
    )
    nodes.start[0] = 0
    nodes.stop[0] = n
    nodes.impurity[0] = _impurity(p, nodes.weight[0], &nodes.stats[0, 0], &nodes.squares[0, 0])
    cdef double total_weight = nodes.weight[0], decrease
    level_start, level_stop, next_id = 0, 1, 1

    # Scratch of one level, allocated once: a split node holds two samples
    # or more, so that a level splits at most n / 2 nodes.
    cdef intp cap = max(n // 2, 1)
    cdef _Scratch w = _Scratch(cap, n_features, p.n_stat, p.n_full, p.n_outputs)
    cdef double best
    while True:
        n_split = 0
        for node in range(level_start, level_stop):
            if _splittable(p, nodes, node):
                w.split_nodes[n_split] = node
                n_split += 1
        if n_split == 0:
            break

        # The best split of every (feature, node), at [f * n_split + j].
        with nogil:
            for f in range(n_features):
                for j in range(n_split):
                    k = f * n_split + j
                    _best_split(
                        p,
                        nodes,
                        w.split_nodes[j],
                        &order[f, 0],
                        f,
                        &left_right[0],
                        &w.score[k],
                        &w.bins_left[k],
                        &w.bins_right[k],
                        &w.varies[k],
                    )
        if feature_mask is not None:
            varies = np.asarray(<uint8_t[: n_features * n_split]> w.varies)
            allowed = np.ascontiguousarray(
                feature_mask(varies.view(bool).reshape(n_features, n_split)),
                dtype=np.uint8,
            ).ravel()
            for k in range(n_features * n_split):
                if not allowed[k]:
                    w.score[k] = -INFINITY

        # The best feature of each node (the lowest of the best), if any.
        n_found = 0
        for j in range(n_split):
            best = -INFINITY
            b = -1
            for f in range(n_features):
                if w.score[f * n_split + j] > best:
                    best = w.score[f * n_split + j]
                    b = f
            if b >= 0:
                w.found_node[n_found] = w.split_nodes[j]
                w.found_feature[n_found] = b
                w.found_left[n_found] = w.bins_left[b * n_split + j]
                w.found_right[n_found] = w.bins_right[b * n_split + j]
                n_found += 1
        if n_found == 0:
            break

        # The children of the found splits: slots 2 j (left) and 2 j + 1.
        for i in range(n):
            slot[i] = -1
        for j in range(n_found):
            node = w.found_node[j]
            f = w.found_feature[j]
            b = w.found_left[j]
            for s in range(nodes.start[node], nodes.stop[node]):
                i = order[f, s]
                goes_left[i] = binned[f, i] <= b
                slot[i] = 2 * j + 1 - goes_left[i]
        _sum_samples(
            p,
            &slot[0],
            2 * n_found,
            w.child_count,
            w.child_weight,
            w.child_stats,
            w.child_full,
            w.child_squares,
        )
        # As TreeGrower: the weighted impurity decrease decides.
        for j in range(2 * n_found):
            w.child_impurity[j] = _impurity(
                p,
                w.child_weight[j],
                &w.child_stats[j * p.n_stat],
                &w.child_squares[j * p.n_outputs],
            )
        n_kept = 0
        for j in range(n_found):
            node = w.found_node[j]
            decrease = (
                nodes.weight[node] * nodes.impurity[node]
                - w.child_weight[2 * j] * w.child_impurity[2 * j]
                - w.child_weight[2 * j + 1] * w.child_impurity[2 * j + 1]
            ) / total_weight
            w.accept[j] = decrease + p.epsilon >= p.min_impurity_decrease
            n_kept += w.accept[j]
        if n_kept == 0:
            break

        # The kept children make the next level, in the order of their parents.
        for j in range(n_found):
            if not w.accept[j]:
                continue
            node = w.found_node[j]
            nodes.feature[node] = w.found_feature[j]
            nodes.bin_left[node] = w.found_left[j]
            nodes.bin_right[node] = w.found_right[j]
            nodes.left[node] = next_id
            nodes.right[node] = next_id + 1
            for s in range(2):
                child = next_id + s
                nodes.count[child] = w.child_count[2 * j + s]
                nodes.weight[child] = w.child_weight[2 * j + s]
                nodes.impurity[child] = w.child_impurity[2 * j + s]
                nodes.depth[child] = nodes.depth[node] + 1
                for k in range(p.n_stat):
                    nodes.stats[child, k] = w.child_stats[(2 * j + s) * p.n_stat + k]
                for k in range(p.n_outputs):
                    nodes.squares[child, k] = w.child_squares[
                        (2 * j + s) * p.n_outputs + k
                    ]
            next_id += 2
            nodes.start[nodes.left[node]] = nodes.start[node]
            nodes.stop[nodes.left[node]] = nodes.start[node] + w.child_count[2 * j]
            nodes.start[nodes.right[node]] = nodes.start[node] + w.child_count[2 * j]
            nodes.stop[nodes.right[node]] = nodes.stop[node]
            with nogil:
                for f in range(n_features):
                    _partition(
                        &order[f, 0],
                        nodes.start[node],
                        nodes.stop[node],
                        &goes_left[0],
                        &spare[0],
                    )
        level_start, level_stop = level_stop, next_id

    # The grown nodes, out of the arrays sized for the most nodes possible.
    grown = {
        "count": nodes.count,
        "weight": nodes.weight,
        "stats": nodes.stats[:, : p.n_stat],
        "squares": nodes.squares[:, : p.n_outputs],
        "depth": nodes.depth,
        "children_left": nodes.left,
        "children_right": nodes.right,
        "feature": nodes.feature,
        "bin_left": nodes.bin_left,
        "bin_right": nodes.bin_right,
    }
    grown = {name: np.array(array[:next_id]) for name, array in grown.items()}
    grown["stats"] = np.ascontiguousarray(grown["stats"].T)
    grown["squares"] = np.ascontiguousarray(grown["squares"].T)
    return grown


def apply(
    const floating[:, ::1] X,
    const intp[::1] children_left,
    const intp[::1] children_right,
    const intp[::1] feature,
    const double[::1] threshold,
):
    """Return the leaf each row of ``X`` lands in.

    A row goes right where its value is greater than the threshold (NaN
    goes left), compared in double precision.
    """
    cdef intp n_samples = X.shape[0], i, node
    cdef intp[::1] leaves = np.empty(n_samples, dtype=np.intp)
    with nogil:
        for i in range(n_samples):
            node = 0
            while children_left[node] >= 0:
                if <double>X[i, feature[node]] > threshold[node]:
                    node = children_right[node]
                else:
                    node = children_left[node]
            leaves[i] = node
    return np.asarray(leaves)
