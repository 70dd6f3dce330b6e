"""Blocks of rows and single-threaded BLAS for the passes of the linear models."""

# Imported for their side effect: numpy's and SciPy's BLAS are loaded before
# the thread pools are looked for, below.
import numpy  # noqa: F401
import scipy.linalg  # noqa: F401
from threadpoolctl import ThreadpoolController

# Number of float64 values in a block of rows of X: the passes over dense
# data work block by block, so that X is never copied and the temporaries
# stay in cache.
BLOCK_SIZE = 2**16


def rows_per_block(n_columns, scale=1):
    """Return the number of rows of ``n_columns`` values that make a block.

    A block holds ``scale * BLOCK_SIZE`` values.
    """
    return max(1, scale * BLOCK_SIZE // max(1, n_columns))


def row_blocks(n_samples, n_columns, scale=1):
    """Yield slices of rows whose blocks hold about ``scale * BLOCK_SIZE`` values."""
    step = rows_per_block(n_columns, scale)
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


# Finding the thread pools scans every loaded shared library: tens of
# milliseconds in a process that has loaded torch, more than a whole fit on a
# small data set. It is done once, on import, like the other set-up of the
# libraries, not in the first fit (the first fold of a cross-validation).
_BLAS_CONTROLLER = ThreadpoolController()


def single_threaded_blas():
    """Context in which BLAS runs on one thread.

    The loops over blocks of rows make many small BLAS calls. OpenBLAS
    splits some of them between threads, and on a loaded machine waiting for
    a descheduled thread costs a hundred times the product itself.
    """
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")
