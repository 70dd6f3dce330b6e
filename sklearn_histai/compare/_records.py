"""The columns and records of the comparison results, shared by the outputs."""

RESULT_COLUMNS = [
    "task",
    "scoring",
    "estimator",
    "era",
    "year",
    "peer_of",
    "library",
    "score_mean",
    "score_std",
    "n_splits",
    "fit_time",
    "score_time",
    "error",
]
TABLE_COLUMNS = ["name", "era", "year", "input", "reference", "peer"]


def is_missing(value):
    """Tell whether a cell of the results is missing (None, NaN or pandas' NA)."""
    try:
        return bool(value is None or value != value)
    except TypeError:  # pandas.NA refuses to be a bool
        return True


def text_cell(value):
    """Return a text cell of the results, "" where it is missing."""
    return "" if is_missing(value) else str(value)


def as_records(results):
    """Return the rows of ``results``, a DataFrame or a list of dict, as dicts."""
    return results.to_dict("records") if hasattr(results, "to_dict") else results
