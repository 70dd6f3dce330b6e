"""Tests of the binning of features for the histogram trees."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_histai.tree._binning import BinMapper


def _columns(rng, n_samples):
    return {
        "normal": rng.normal(size=n_samples),
        "heavy tail": rng.lognormal(0.0, 3.0, size=n_samples),
        "few values": rng.randint(0, 10, size=n_samples).astype(np.float64),
        "extremes": np.r_[
            rng.normal(size=n_samples - 5), [1e300, -1e300, 1e-300, 0.0, 5e-324]
        ],
        "clustered": np.r_[
            rng.normal(size=n_samples // 2) * 1e-6, rng.normal(size=n_samples // 2)
        ],
    }


@pytest.mark.parametrize(
    "name", ["normal", "heavy tail", "few values", "extremes", "clustered"]
)
def test_bin_mapper_codes_follow_the_edges(name):
    """Check that the lookup-table binning equals a binary search of the edges."""
    column = _columns(np.random.RandomState(0), 5000)[name]
    mapper = BinMapper(max_bins=255).fit(column[:, None])
    codes = mapper.transform(column[:, None])[0]
    assert_array_equal(codes, np.searchsorted(mapper.edges_[0], column))
    assert codes.max() < mapper.n_bins_[0] <= 255


def test_bin_mapper_one_bin_per_value_when_few():
    """Check that few distinct values get one bin each, with exact thresholds."""
    rng = np.random.RandomState(0)
    X = np.c_[rng.randint(0, 7, 500) * 1.5, rng.choice([-2.0, 0.25, 9.0], 500)]
    mapper = BinMapper(max_bins=255).fit(X)
    assert_array_equal(mapper.n_bins_, [7, 3])
    codes = mapper.transform(X)
    for f in range(2):
        values = np.unique(X[:, f])
        assert_array_equal(values[codes[f]], X[:, f])
    # The threshold between bins 0 and 2 of the second feature lies half-way
    # between their values, as an exact search would put it.
    assert_allclose(mapper.thresholds(np.array([1]), [0], [2]), [3.5])


def test_bin_mapper_quantile_bins_are_balanced():
    """Check that continuous features are cut into bins of similar sizes."""
    X = np.random.RandomState(0).normal(size=(25500, 1))
    mapper = BinMapper(max_bins=255).fit(X)
    counts = np.bincount(mapper.transform(X)[0], minlength=255)
    assert mapper.n_bins_[0] == 255
    assert counts.min() > 80 and counts.max() < 120


def test_bin_mapper_subsample_keeps_rare_values_exact():
    """Check that values missed by the subsample still get bins of their own."""
    rng = np.random.RandomState(0)
    column = rng.randint(0, 5, size=4000).astype(np.float64)
    column[[17, 3000]] = [7.5, -1.0]
    mapper = BinMapper(max_bins=255, subsample=200, random_state=0)
    mapper.fit(column[:, None])
    assert_array_equal(mapper.edges_[0], [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    codes = mapper.transform(column[:, None])[0]
    assert_array_equal(np.unique(column)[codes], column)


def test_bin_mapper_float32_edges_match_float64():
    """Check that float32 data gets the edges of its float64 copy."""
    X = np.random.RandomState(0).normal(size=(3000, 2)).astype(np.float32)
    edges32 = BinMapper(max_bins=64).fit(X).edges_
    edges64 = BinMapper(max_bins=64).fit(X.astype(np.float64)).edges_
    for a, b in zip(edges32, edges64):
        assert_array_equal(a, b)


@pytest.mark.parametrize("n_samples", [300, 1000, 5000])
@pytest.mark.parametrize("subsample", [200_000, 200])
def test_bin_mapper_fit_transform_equals_fit_then_transform(n_samples, subsample):
    """Check that binning from the sort gives the codes and edges of two passes."""
    columns = _columns(np.random.RandomState(0), n_samples)
    X = np.column_stack(list(columns.values()))
    # Mostly distinct values with a few repeats, and few values with one
    # rare value.
    X[: n_samples // 10, 0] = X[0, 0]
    X[:, 2][n_samples // 2] = 11.5
    two_passes = BinMapper(max_bins=255, subsample=subsample, random_state=0)
    codes = two_passes.fit(X).transform(X)
    one_pass = BinMapper(max_bins=255, subsample=subsample, random_state=0)
    assert_array_equal(one_pass.fit_transform(X), codes)
    for a, b in zip(one_pass.edges_, two_passes.edges_):
        assert_array_equal(a, b)
    assert_array_equal(one_pass.left_values_, two_passes.left_values_)
    assert_array_equal(one_pass.right_values_, two_passes.right_values_)
    for f, edges in enumerate(one_pass.edges_):
        assert_array_equal(codes[f], np.searchsorted(edges, X[:, f]))
