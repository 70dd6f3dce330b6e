"""Quantile binning of the features, exact for features with few distinct values."""

import numpy as np

# Above this many edges per grid cell the lookup-table binning is no faster
# than a binary search, and the column falls back to ``np.searchsorted``.
_MAX_EDGES_PER_CELL = 4
_MAX_GRID_CELLS = 1 << 16
# Up to this many samples all the features are binned from one sort, in a
# number of calls that does not grow with the number of features; past it
# the argsort costs more than binary searches (measured: 1437 x 64 digits,
# 2x slower).
_RANK_MAX_SAMPLES = 1000


class BinMapper:
    """Map each feature onto at most ``max_bins`` ordered integer bins.

    A feature with at most ``max_bins`` distinct values gets one bin per
    value, so that a split search over the bins visits exactly the thresholds
    an exact search over the sorted values would visit. Other features are cut
    at quantiles. A value ``x`` falls in bin ``b`` when
    ``edges[b - 1] < x <= edges[b]``, the rule ``x <= threshold`` of the tree.

    Parameters
    ----------
    max_bins : int
        The largest number of bins of a feature, at most 256.

    Attributes
    ----------
    edges_ : list of ndarray
        The increasing bin edges of each feature; feature ``f`` has
        ``len(edges_[f]) + 1`` bins.
    n_bins_ : ndarray of shape (n_features,)
        The number of bins of each feature.
    left_values_ : ndarray of shape (n_features, max(n_bins_))
        For each bin, the value a split just above it uses as the largest
        value on the left; the distinct value itself for exact features.
    right_values_ : ndarray of shape (n_features, max(n_bins_))
        For each bin, the value a split just below it uses as the smallest
        value on the right.
    """

    def __init__(self, max_bins, subsample=200_000, random_state=None):
        self.max_bins = max_bins
        self.subsample = subsample
        self.random_state = random_state

    def fit(self, X):
        """Find the bin edges of every feature of ``X``."""
        n_samples = X.shape[0]
        sample = X
        if n_samples > self.subsample:
            # The quantiles of a subsample are as good as exact ones and
            # sorting each full column would dominate the binning time.
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(n_samples, self.subsample, replace=False))
            sample = X[rows]
        # One sort for all the features; quantiles sit at the same positions.
        columns = np.sort(np.ascontiguousarray(sample.T), axis=1)
        self._fit_sorted(X, columns)
        return self

    def fit_transform(self, X):
        """Find the bin edges of ``X`` and return its codes.

        On up to a thousand samples every feature is binned from one sort of
        all of them (:meth:`_fit_transform_by_rank`), in a number of numpy
        calls that does not grow with the features.

        Returns
        -------
        binned : ndarray of shape (n_features, n_samples), dtype uint8
            The codes, as :meth:`transform` returns them.
        """
        n_samples, n_features = X.shape
        if n_samples > self.subsample:
            return self.fit(X).transform(X)
        columns = np.ascontiguousarray(X.T)
        if n_samples <= _RANK_MAX_SAMPLES:
            return self._fit_transform_by_rank(X, columns)
        in_order = np.sort(columns, axis=1)
        self._fit_sorted(X, in_order)
        binned = np.empty((n_features, n_samples), dtype=np.uint8)
        for f, edges in enumerate(self.edges_):
            binned[f] = _bin_column(columns[f], edges)
        return binned

    def _fit_transform_by_rank(self, X, columns):
        """Bin few samples from one sort of every feature, in a few calls.

        The code of a value of a feature with few distinct values is its rank
        among them, read from the sort; only features cut at quantiles search
        their edges, in sorted order.
        """
        n_features, n_samples = columns.shape
        order = np.argsort(columns, axis=1)
        order += (np.arange(n_features) * n_samples)[:, None]
        in_order = columns.ravel()[order]
        rank = np.zeros(columns.shape, dtype=np.intp)
        np.cumsum(in_order[:, 1:] != in_order[:, :-1], axis=1, out=rank[:, 1:])
        exact, _ = self._fit_sorted(X, in_order, rank)
        quantile = np.flatnonzero(~exact)
        if quantile.size:
            rank[quantile] = self._codes_in_order(in_order[quantile], quantile)
        binned = np.empty(columns.shape, dtype=np.uint8)
        binned.ravel()[order] = rank
        return binned

    def _codes_in_order(self, in_order, features):
        """Return the codes of the sorted rows ``in_order`` of ``features``.

        The code of a sorted value is the number of edges below it: a running
        count of the edges passed.
        """
        n_rows, n_samples = in_order.shape
        starts = [
            # The first sorted position above each edge starts its bin.
            f * (n_samples + 1)
            + np.searchsorted(in_order[f], self.edges_[feature], side="right")
            for f, feature in enumerate(features)
        ]
        marks = np.bincount(
            np.concatenate(starts), minlength=n_rows * (n_samples + 1)
        ).reshape(n_rows, n_samples + 1)
        return np.cumsum(marks[:, :-1], axis=1)

    def _fit_sorted(self, X, columns, rank=None):
        """Find the edges from the sorted columns of ``X`` (or of a subsample).

        ``rank``, given for all the samples, holds the rank of each sorted
        value among the distinct values of its feature.

        Returns which features got one bin per distinct value, and the number
        of distinct values of each feature in ``columns``.
        """
        n_samples, n_features = X.shape
        if rank is None:
            is_new = columns[:, 1:] != columns[:, :-1]
            n_distinct = 1 + np.count_nonzero(is_new, axis=1)
        else:
            n_distinct = rank[:, -1] + 1
        exact = n_distinct <= self.max_bins
        low, high = columns[:, 0].copy(), columns[:, -1].copy()
        self.edges_ = [None] * n_features
        lefts, full_columns = [None] * n_features, {}
        for f in np.flatnonzero(exact) if rank is None else []:
            values = columns[f][np.concatenate(([True], is_new[f]))]
            if columns.shape[1] < n_samples:
                # A value the subsample missed would break the exactness.
                values, column = _distinct_full(X[:, f], values)
                if values.size > self.max_bins:
                    exact[f] = False
                    full_columns[f] = column
                    low[f], high[f] = column[0], column[-1]
                    continue
            self.edges_[f], lefts[f] = values[:-1], values
        quantile = np.flatnonzero(~exact)
        if quantile.size:
            edges = _quantiles(columns[quantile], self.max_bins)
            for i, f in enumerate(quantile):
                if f in full_columns:
                    edges[i] = _quantiles(full_columns[f][None, :], self.max_bins)[0]
            # Quantiles of sorted values are sorted: keep the first of equal
            # ones. An edge at the maximum would leave the last bin empty.
            keep = edges < high[quantile, None]
            keep[:, 1:] &= edges[:, 1:] != edges[:, :-1]
            for i, f in enumerate(quantile):
                self.edges_[f] = edges[i][keep[i]]
        if rank is not None:
            lefts = self._exact_values(columns, rank, exact, n_distinct)
        self.n_bins_ = np.array([e.size + 1 for e in self.edges_], dtype=np.intp)
        width = int(self.n_bins_.max())
        self.left_values_ = np.empty((n_features, width))
        self.right_values_ = np.empty((n_features, width))
        if rank is not None:
            return self._fill_values(lefts, exact, low, high), n_distinct
        for f, edges in enumerate(self.edges_):
            n = edges.size
            left, right = self.left_values_[f], self.right_values_[f]
            if exact[f]:
                left[: n + 1] = right[: n + 1] = lefts[f]
            else:
                # Only bins strictly inside the range are ever split between,
                # so the outer representative values are never used.
                left[:n], left[n] = edges, high[f]
                right[0], right[1 : n + 1] = low[f], edges
            left[n + 1 :] = left[n]
            right[n + 1 :] = right[n]
        return exact, n_distinct

    def _exact_values(self, columns, rank, exact, n_distinct):
        """Set the edges of the ``exact`` features; return their values.

        The distinct values of each exact feature are scattered to their
        ranks at once, and padded with the largest one.
        """
        features = np.flatnonzero(exact)
        width = int(n_distinct[features].max()) if features.size else 1
        values = np.empty((features.size, width))
        values[np.arange(features.size)[:, None], rank[features]] = columns[features]
        last = n_distinct[features, None] - 1
        values = np.take_along_axis(values, np.minimum(np.arange(width), last), axis=1)
        for i, f in enumerate(features):
            self.edges_[f] = values[i, : n_distinct[f] - 1]
        return values

    def _fill_values(self, values, exact, low, high):
        """Fill the tables of bin values from the exact ``values`` and edges."""
        width = self.left_values_.shape[1]
        features = np.flatnonzero(exact)
        if features.size:
            # Padded, past its last bin, with its largest value.
            pad = np.minimum(np.arange(width), values.shape[1] - 1)
            self.left_values_[features] = self.right_values_[features] = values[:, pad]
        for f in np.flatnonzero(~exact):
            edges = self.edges_[f]
            n = edges.size
            left, right = self.left_values_[f], self.right_values_[f]
            left[:n], left[n] = edges, high[f]
            right[0], right[1 : n + 1] = low[f], edges
            left[n + 1 :] = left[n]
            right[n + 1 :] = right[n]
        return exact

    def transform(self, X):
        """Return the bin codes of ``X``, one uint8 row per feature.

        The result has shape (n_features, n_samples): each feature's codes
        are contiguous, as the per-feature histograms read them.
        """
        n_samples, n_features = X.shape
        binned = np.empty((n_features, n_samples), dtype=np.uint8)
        # Blocks of rows, transposed once, keep each column contiguous and
        # in cache while it is binned.
        block = max(1, (1 << 19) // max(n_features, 1))
        for start in range(0, n_samples, block):
            stop = min(start + block, n_samples)
            columns = np.ascontiguousarray(X[start:stop].T)
            for f, edges in enumerate(self.edges_):
                binned[f, start:stop] = _bin_column(columns[f], edges)
        return binned

    def thresholds(self, feature, bin_left, bin_right):
        """Return the split thresholds between two bins of the same features.

        Samples of the bins up to ``bin_left`` go left and those of the bins
        from ``bin_right`` on go right; the threshold lies half-way, as in an
        exact search.
        """
        left = self.left_values_[feature, bin_left]
        right = self.right_values_[feature, bin_right]
        threshold = left / 2.0 + right / 2.0
        # Rounding may put the midpoint of two neighbouring floats on the
        # right value, which would then go left: fall back to the left value.
        bad = (threshold == right) | np.isinf(threshold)
        return np.where(bad, left, threshold)


def _distinct_full(column, values):
    """Return the distinct values and sorted values of a full column.

    ``values`` are those of a subsample; the sorted column is None when they
    are all the column has.
    """
    codes = _bin_column(np.ascontiguousarray(column), values[:-1])
    if np.array_equal(values[codes], column):
        return values, None
    column = np.sort(column)
    is_new = np.concatenate(([True], column[1:] != column[:-1]))
    return column[is_new], column


def _quantiles(sorted_columns, max_bins):
    """Return the ``max_bins`` quantiles of each sorted row, midpoint method."""
    n = sorted_columns.shape[1]
    position = np.linspace(0, 1, max_bins + 1)[1:-1] * (n - 1)
    low = sorted_columns[:, np.floor(position).astype(np.intp)]
    high = sorted_columns[:, np.ceil(position).astype(np.intp)]
    return low.astype(np.float64) / 2.0 + high.astype(np.float64) / 2.0


def _scatter(values, order):
    """Return ``out`` with ``out[i, order[i, j]] = values[i, j]``."""
    out = np.empty_like(values)
    np.put_along_axis(out, order, values, axis=1)
    return out


def _grid_cells(x, low, scale, n_cells):
    # Any monotone map onto the cells works: it is applied to the edges and
    # to the values alike, so equal or ordered inputs stay ordered.
    cells = np.subtract(x, low)
    cells *= scale
    np.clip(cells, 0, n_cells, out=cells)
    return cells.astype(np.intp)


def _bin_column(x, edges):
    """Return ``np.searchsorted(edges, x)`` as uint8, through a lookup table.

    A binary search costs a branch misprediction per step. Cutting the range
    of the edges into a uniform grid with at most a few edges per cell turns
    it into a handful of vectorised passes: the number of edges in the cells
    below, plus a comparison with each edge of the value's own cell.
    """
    n_edges = edges.size
    if n_edges <= _MAX_EDGES_PER_CELL:
        codes = np.zeros(x.shape, dtype=np.uint8)
        for edge in edges:
            codes += x > edge
        return codes
    low, span = edges[0], edges[-1] - edges[0]
    n_cells = 4 * n_edges
    while n_cells <= _MAX_GRID_CELLS and 0 < n_cells / span < np.inf:
        scale = n_cells / span
        edge_cells = _grid_cells(edges, low, scale, n_cells)
        per_cell = np.bincount(edge_cells, minlength=n_cells + 1)
        if per_cell.max() <= _MAX_EDGES_PER_CELL:
            break
        n_cells *= 8
    else:
        return np.searchsorted(edges, x, side="left").astype(np.uint8)

    below = np.zeros(n_cells + 1, dtype=np.uint8)
    below[1:] = np.cumsum(per_cell[:-1])
    rank_in_cell = np.arange(n_edges) - below[edge_cells]
    table = np.full((per_cell.max(), n_cells + 1), np.inf)
    table[rank_in_cell, edge_cells] = edges

    cells = _grid_cells(x, low, scale, n_cells)
    codes = below[cells]
    for row in table:
        codes += row[cells] < x
    return codes
