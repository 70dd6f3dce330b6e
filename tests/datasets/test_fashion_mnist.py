"""Check the Fashion-MNIST loader on files written in the IDX format."""

import gzip

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_histai.datasets import load_fashion_mnist
from sklearn_histai.datasets._fashion_mnist import DEFAULT_DIRECTORY


def _write_idx(path, header, data):
    with gzip.open(path, "wb") as f:
        f.write(header + data.tobytes())


def test_load_fashion_mnist_reads_idx_files(tmp_path):
    """Check that images and labels are read at the IDX offsets."""
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(3, 784)).astype(np.uint8)
    labels = np.array([4, 0, 9], dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", b"\0" * 16, images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", b"\0" * 8, labels)
    X, y = load_fashion_mnist("test", directory=tmp_path, return_X_y=True)
    assert_array_equal(X, images)
    assert_array_equal(y, labels)
    bunch = load_fashion_mnist("test", directory=tmp_path)
    assert len(bunch["class_names"]) == 10


def test_load_fashion_mnist_errors(tmp_path):
    """Check the errors for a bad subset and missing files."""
    with pytest.raises(ValueError, match="subset"):
        load_fashion_mnist("valid")
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist(directory=tmp_path)


@pytest.mark.skipif(
    not DEFAULT_DIRECTORY.exists(),
    reason="Debian package dataset-fashion-mnist is not installed",
)
def test_load_fashion_mnist_installed_package():
    """Check the real files: 10,000 test images of 784 pixels, 10 balanced classes."""
    X, y = load_fashion_mnist("test", return_X_y=True)
    assert X.shape == (10_000, 784)
    assert_array_equal(np.bincount(y), np.full(10, 1000))
