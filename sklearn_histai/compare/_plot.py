"""Bar plot of the results of a comparison."""

from sklearn_histai.compare._records import as_records, is_missing

# Colors of the eras (matplotlib's default cycle), in historical order;
# scikit-learn peers in grey. The plots share them.
ERA_COLORS = {
    "symbolic": "C5",
    "classical": "C0",
    "neural": "C1",
    "text": "C2",
    "attention": "C4",
    "pretrained": "C3",
}
# Estimators without an era (e.g. scikit-learn's own, passed explicitly) are
# colored by their library, and unknown eras alike; not C7, the grey of peers.
OTHER_COLORS = ["C6", "C8", "C9"]
PEER_COLOR = "0.65"


def group_color(colors, group):
    """Return the color of ``group`` (an era or a library), adding it to ``colors``.

    ``colors`` starts as a copy of the era colors; a group it does not hold
    yet takes the next of the other colors.
    """
    if group not in colors:
        n_others = len(set(colors) - set(ERA_COLORS))
        colors[group] = OTHER_COLORS[n_others % len(OTHER_COLORS)]
    return colors[group]


def in_history_order(eras):
    """Return the distinct ``eras``: the known ones in historical order first."""
    order = list(ERA_COLORS)
    seen = list(dict.fromkeys(eras))
    return sorted(
        seen,
        key=lambda era: (
            order.index(era) if era in order else len(order),
            seen.index(era),
        ),
    )


def plot_comparison(results, ax=None):
    """Plot the scores of a comparison as horizontal bars, task by task.

    Each task is a block of bars, one per estimator, its length the mean
    cross-validated score and its error bar the standard deviation over the
    folds. The estimators of sklearn_histai are colored by era, their
    scikit-learn peers in grey right below them; a failed estimator has no
    bar.

    Parameters
    ----------
    results : pandas.DataFrame or list of dict
        The output of :func:`compare_estimators`.
    ax : matplotlib Axes, default=None
        Axes to draw on. None creates a figure sized to the number of rows.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with the plot.

    See Also
    --------
    compare_estimators : Cross-validate estimators and their peers on tasks.

    Notes
    -----
    This function needs matplotlib, which the ``plot`` extra installs:
    ``pip install sklearn-histai[plot]``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn_histai.compare import compare_estimators, plot_comparison
    >>> results = compare_estimators([LinearRegression()], tasks=["diabetes"], cv=3)
    >>> ax = plot_comparison(results)
    >>> ax.get_xlabel()
    'cross-validated score (r2)'
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as exc:
        raise ImportError(
            "plot_comparison needs matplotlib; install it with "
            "`pip install sklearn-histai[plot]`."
        ) from exc

    records = as_records(results)
    tasks = list(dict.fromkeys(record["task"] for record in records))
    if ax is None:
        n_lines = len(records) + len(tasks)
        _, ax = plt.subplots(figsize=(9, 0.8 + 0.32 * max(n_lines, 2)))

    labels, positions, headers = [], [], []
    scorings = []
    colors = dict(ERA_COLORS)
    groups_seen = []
    position = 0
    for task in tasks:
        rows = [record for record in records if record["task"] == task]
        scoring = rows[0].get("scoring", "")
        scorings.append(scoring)
        headers.append(len(labels))
        labels.append(f"{task} ({scoring})" if scoring else task)
        positions.append(position)
        position += 1
        for row in rows:
            is_peer = bool(row["peer_of"])
            era = row["era"] or ""
            if is_peer:
                color, label = PEER_COLOR, f"{row['estimator']} ({row['library']})"
            else:
                group = era or row["library"]
                if group not in groups_seen:
                    groups_seen.append(group)
                color, label = group_color(colors, group), row["estimator"]
            labels.append(label)
            positions.append(position)
            if row["error"] or is_missing(row["score_mean"]):
                ax.text(0, position, " failed", va="center", fontsize="small")
            else:
                ax.barh(
                    position,
                    row["score_mean"],
                    xerr=row["score_std"],
                    color=color,
                    edgecolor="0.3" if is_peer else color,
                    hatch="//" if is_peer else None,
                    capsize=2,
                )
            position += 1
        position += 0.5

    ax.set_yticks(positions, labels)
    for index in headers:
        ax.get_yticklabels()[index].set_fontweight("bold")
    ax.invert_yaxis()
    ax.axvline(0, color="0.2", linewidth=0.8)
    ax.tick_params(axis="y", length=0)
    unique_scorings = list(dict.fromkeys(s for s in scorings if s))
    ax.set_xlabel(
        f"cross-validated score ({', '.join(unique_scorings)})"
        if unique_scorings
        else "cross-validated score"
    )

    handles = [Patch(color=colors[group], label=group) for group in groups_seen]
    if any(record["peer_of"] for record in records):
        handles.append(
            Patch(
                facecolor=PEER_COLOR,
                edgecolor="0.3",
                hatch="//",
                label="scikit-learn peer",
            )
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            fontsize="small",
            frameon=False,
        )
    ax.figure.tight_layout()
    return ax
