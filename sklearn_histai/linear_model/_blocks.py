"""Blocks of rows and single-threaded BLAS for the passes of the linear models."""

from functools import cache

from threadpoolctl import ThreadpoolController

# Number of float64 values in a block of rows of X: the passes over dense
# data work block by block, so that X is never copied and the temporaries
# stay in cache.
BLOCK_SIZE = 2**16


def rows_per_block(n_columns):
    """Return the number of rows of ``n_columns`` values that make a block."""
    return max(1, BLOCK_SIZE // max(1, n_columns))


def row_blocks(n_samples, n_columns):
    """Yield slices of rows whose blocks hold about ``BLOCK_SIZE`` values."""
    step = rows_per_block(n_columns)
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


@cache
def _blas_controller():
    return ThreadpoolController()


def single_threaded_blas():
    """Context in which BLAS runs on one thread.

    The loops over blocks of rows make many small BLAS calls. OpenBLAS
    splits some of them between threads, and on a loaded machine waiting for
    a descheduled thread costs a hundred times the product itself.
    """
    return _blas_controller().limit(limits=1, user_api="blas")
