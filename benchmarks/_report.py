"""What the benchmark scripts share: printing a table, timing the demo's folds."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def table(title, rows, columns):
    """Print ``rows`` under ``columns`` as aligned text, after a title line.

    Parameters
    ----------
    title : str
        The line printed first.
    rows : list of tuple
        The cells of each row, in the order of ``columns``.
    columns : list of str
        The column headers.
    """
    print(f"\n{title}")
    widths = [
        max(len(str(c)), *(len(f"{r[i]}") for r in rows)) for i, c in enumerate(columns)
    ]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(f"{v}".ljust(w) for v, w in zip(row, widths)), flush=True)


def cv_times(estimator, X, y, cv, scoring):
    """Cross-validate ``estimator`` after a StandardScaler, as the demo does.

    Returns the mean fit and predict time per fold and the mean score.
    """
    scores = cross_validate(
        make_pipeline(StandardScaler(), clone(estimator)), X, y, cv=cv, scoring=scoring
    )
    return (
        float(np.mean(scores["fit_time"])),
        float(np.mean(scores["score_time"])),
        float(np.mean(scores["test_score"])),
    )
