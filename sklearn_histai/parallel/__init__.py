"""Training beyond one process: data-parallel fits and Dask workers.

Searches and cross-validation run on a Dask cluster through joblib's
``dask`` backend with nothing from this module: every estimator pickles,
and ``num_threads="auto"`` keeps each task of a Dask worker to the
worker's thread budget (see :func:`thread_budget`). One network trained by
several processes at once (``torchrun``) needs :func:`data_parallel`.
"""

from sklearn_histai._torch._distributed import DataParallelGroup, data_parallel
from sklearn_histai._torch._runtime import thread_budget

__all__ = ["DataParallelGroup", "data_parallel", "thread_budget"]
