"""The results of a comparison and the table of estimators as plain text."""

from sklearn_histai.compare._records import TABLE_COLUMNS, as_records, is_missing
from sklearn_histai.compare._tasks import TASKS

_MAX_ERROR_LENGTH = 200


def _format_table(columns, rows):
    """Lay out ``rows`` under ``columns``, (header, "<" or ">") pairs."""
    headers = [header for header, _ in columns]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for row in [headers, *rows]:
        cells = [
            f"{str(cell):{align}{width}}"
            for cell, (_, align), width in zip(row, columns, widths)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _format_seconds(seconds):
    if is_missing(seconds):
        return ""
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def format_results(results, n_folds=None):
    """Return the results of :func:`compare_estimators` as text, one table per task.

    Parameters
    ----------
    results : pandas.DataFrame or list of dict
        The output of :func:`compare_estimators`.
    n_folds : int, default=None
        The number of folds, named in each task's heading where the results
        do not say it (those of :func:`compare_estimators` do, in their
        ``n_splits`` column).

    Returns
    -------
    text : str
        The tables, peers indented below the estimators they are the peer of.
    """
    records = as_records(results)
    blocks = []
    for task in dict.fromkeys(record["task"] for record in records):
        rows = [record for record in records if record["task"] == task]
        scoring = rows[0]["scoring"]
        heading = f"== {task}"
        if task in TASKS and TASKS[task].description:
            heading += f" - {TASKS[task].description}"
        counts = {
            int(row["n_splits"])
            for row in rows
            if not is_missing(row.get("n_splits", None))
        }
        n_splits = counts.pop() if len(counts) == 1 else n_folds
        folds = f", {n_splits}-fold cross-validation" if n_splits else ""
        heading += f"\n   {scoring} (mean ± std over the folds){folds}"
        table, errors = [], []
        for row in rows:
            if row["error"]:
                score = "failed (see below)"
                # The first line says what went wrong; the results keep it all.
                error = row["error"].strip().splitlines()[0]
                if len(error) > _MAX_ERROR_LENGTH:
                    error = error[: _MAX_ERROR_LENGTH - 3] + "..."
                errors.append(f"   ! {row['estimator']}: {error}")
            else:
                score = f"{row['score_mean']:.3f} ± {row['score_std']:.3f}"
            name = row["estimator"]
            table.append(
                [
                    f"  {name}" if row["peer_of"] else name,
                    row["library"],
                    row["era"] or "",
                    "" if is_missing(row["year"]) else int(row["year"]),
                    score,
                    _format_seconds(row["fit_time"]),
                    _format_seconds(row["score_time"]),
                ]
            )
        columns = [
            ("estimator", "<"),
            ("library", "<"),
            ("era", "<"),
            ("year", ">"),
            (scoring, ">"),
            ("fit", ">"),
            ("predict", ">"),
        ]
        text = _format_table(columns, table)
        text = "\n".join("   " + line for line in text.splitlines())
        blocks.append("\n".join([heading, "", text, *errors]))
    return "\n\n".join(blocks)


def format_estimator_table(table):
    """Return the output of :func:`estimator_table` as text.

    Parameters
    ----------
    table : pandas.DataFrame or list of dict
        The output of :func:`estimator_table`.

    Returns
    -------
    text : str
        One line per estimator under a line of headers, the years aligned
        right.
    """
    columns = [(name, ">" if name == "year" else "<") for name in TABLE_COLUMNS]
    rows = [
        ["" if is_missing(record[name]) else record[name] for name in TABLE_COLUMNS]
        for record in as_records(table)
    ]
    return _format_table(columns, rows)
