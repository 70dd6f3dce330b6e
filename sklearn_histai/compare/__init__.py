"""Compare the estimators of sklearn_histai with their scikit-learn peers."""

from sklearn_histai.compare._compare import compare_estimators, estimator_table
from sklearn_histai.compare._plot import plot_comparison
from sklearn_histai.compare._tasks import TASKS, Task
from sklearn_histai.compare._timeline import plot_timeline

__all__ = [
    "TASKS",
    "Task",
    "compare_estimators",
    "estimator_table",
    "plot_comparison",
    "plot_timeline",
]
