"""Check the blocks of rows and the single-threaded BLAS of the linear models."""

import numpy as np
import pytest
import threadpoolctl
from numpy.testing import assert_array_equal

from sklearn_histai.linear_model import LeastSquaresRegressor, LogisticRegression
from sklearn_histai.linear_model._blocks import (
    row_blocks,
    rows_per_block,
    single_threaded_blas,
)


def test_row_blocks_cover_the_rows():
    """Check that the blocks cover every row once, in order, at the given size."""
    for scale in [1, 4]:
        step = rows_per_block(100, scale)
        assert step == scale * 2**16 // 100
        blocks = list(row_blocks(5 * step + 3, 100, scale))
        assert [b.stop - b.start for b in blocks] == [step] * 5 + [3]
        assert_array_equal(
            np.concatenate([np.arange(b.start, b.stop) for b in blocks]),
            np.arange(5 * step + 3),
        )


def test_single_threaded_blas_limits_blas():
    """Check that BLAS runs on one thread inside the context, as before after."""
    before = [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]
    with single_threaded_blas():
        inside = [
            info["num_threads"]
            for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"
        ]
    after = [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]
    assert inside and all(n == 1 for n in inside)
    assert after == before


def test_fits_do_not_scan_the_loaded_libraries(monkeypatch):
    """Check that no fit looks for thread pools again: that costs tens of ms."""

    def fail(*args, **kwargs):
        raise AssertionError("the loaded libraries were scanned during a fit")

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "__init__", fail)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    LogisticRegression().fit(X, X[:, 0] > 0)
    LogisticRegression().fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))
    # Large means take the blocks of rows, in single-threaded BLAS.
    reg = LeastSquaresRegressor().fit(X + 1e6, X[:, 1])
    assert reg.solver_ == "cholesky"
    with pytest.raises(AssertionError, match="scanned"):
        threadpoolctl.ThreadpoolController()
