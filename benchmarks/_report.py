"""What the benchmark scripts share: printing a table of results."""


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
