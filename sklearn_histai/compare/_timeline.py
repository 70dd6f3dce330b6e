"""The history as a picture: every estimator at its year, in its era."""

from numbers import Real

import numpy as np

from sklearn_histai.compare._plot import ERA_COLORS, group_color, in_history_order
from sklearn_histai.compare._records import as_records, is_missing
from sklearn_histai.compare._timeline_scores import FONT_SIZE, draw_scores
from sklearn_histai.utils import all_estimators, get_history

# The milestones of the survey the package follows.
_MILESTONES = {
    1956: "Dartmouth workshop",
    1958: "perceptron",
    1986: "back-propagation",
    1997: "LSTM",
    2013: "word2vec",
    2017: "Transformer",
    2018: "BERT",
    2021: "LoRA",
}
# The result columns the scores panel reads.
_NEEDED_COLUMNS = ("task", "estimator", "era", "year", "peer_of", "score_mean")

# Layout, in inches and points. Before 1940 there are only a few estimators
# (least squares, 1805): those years are drawn five times narrower.
_WIDTH = 11.0
_LEFT, _RIGHT, _TOP, _BOTTOM, _GAP = 1.0, 0.25, 0.1, 0.55, 0.3
_SCORES_HEIGHT = 3.2
_COMPRESS_BEFORE = 1940
_COMPRESSION = 5
_LEVEL = 9  # points between two stacked labels
_LABEL_OFFSET = 5  # points from a marker to its lowest label
_ROW_BELOW = 7  # points below the markers of a row
_ROW_ABOVE = 4  # points above its highest label
_MILESTONE_PAD = 6  # points between the newest era and the milestones


def plot_timeline(
    results=None, *, task=None, estimators=None, milestones="default", ax=None
):
    """Plot the estimators on a timeline of machine learning, with their scores.

    Each estimator is a dot at the year its method was introduced, in the
    band of its era, labelled with its name; the eras run from the oldest
    (at the bottom) to the newest. The milestones of the history of machine
    learning are vertical lines. Given the results of a comparison, a second
    panel below shows the mean cross-validated score of each estimator on one
    task against the same years: how far each era has come on the same data.
    There each estimator is a dot colored by era, with the standard deviation
    over the folds as an error bar, and its scikit-learn peer a grey dash at
    the same year, joined to it by a dotted line; an estimator without a
    year (such as a scikit-learn baseline given to the comparison) is a grey
    dashed line across the panel.

    Parameters
    ----------
    results : pandas.DataFrame or list of dict, default=None
        The output of :func:`compare_estimators`. None draws the timeline
        alone.
    task : str, default=None
        The task of ``results`` whose scores are shown. None means the first
        task in ``results``.
    estimators : list of estimator classes or instances, or (name, estimator) \
            pairs, default=None
        The estimators on the timeline. None means every public estimator of
        sklearn_histai, as found by
        :func:`~sklearn_histai.utils.all_estimators`. Estimators without
        history metadata have no year and are left out.
    milestones : "default", dict of int to str or None, default="default"
        The milestones drawn as vertical lines, by year. "default" means the
        Dartmouth workshop (1956), the perceptron (1958), back-propagation
        (1986), the LSTM (1997), word2vec (2013), the Transformer (2017),
        BERT (2018) and LoRA (2021); None draws none.
    ax : matplotlib Axes or array-like of two Axes, default=None
        Where to draw: one Axes for the timeline alone, two (the timeline,
        then the scores) with ``results``. None creates a figure sized to
        fit the labels.

    Returns
    -------
    ax : matplotlib Axes or ndarray of shape (2,) of Axes
        The timeline's Axes, or with ``results`` an array of the timeline's
        Axes and the scores' Axes.

    See Also
    --------
    compare_estimators : Cross-validate estimators and their peers on tasks.
    plot_comparison : Plot the results as bars of scores.

    Notes
    -----
    This function needs matplotlib, which the ``plot`` extra installs:
    ``pip install sklearn-histai[plot]``. The years before 1940 are drawn
    five times narrower than the later ones.

    Examples
    --------
    >>> from sklearn_histai.compare import plot_timeline
    >>> from sklearn_histai.linear_model import LeastSquaresRegressor
    >>> from sklearn_histai.tree import DecisionTreeClassifier
    >>> ax = plot_timeline(
    ...     estimators=[LeastSquaresRegressor, DecisionTreeClassifier],
    ...     milestones={1958: "perceptron"},
    ... )
    >>> [text.get_text() for text in ax.texts]
    ['LeastSquaresRegressor', 'DecisionTreeClassifier', '1958 perceptron']
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_timeline needs matplotlib; install it with "
            "`pip install sklearn-histai[plot]`."
        ) from exc

    if results is None and task is not None:
        raise ValueError("Parameter task needs results to take the scores from.")
    entries = _timeline_entries(estimators)
    milestones = _check_milestones(milestones)
    rows = None if results is None else _task_rows(results, task)
    timeline_ax, scores_ax = _make_axes(plt, ax, with_scores=rows is not None)

    years = [year for _, _, year in entries] + list(milestones)
    if rows is not None:
        years += [row["year"] for row in rows if not is_missing(row["year"])]
    for axes in filter(None, (timeline_ax, scores_ax)):
        _set_year_axis(axes, years)

    colors = dict(ERA_COLORS)
    height = _draw_timeline(timeline_ax, entries, milestones, colors)
    if ax is None:
        _position(timeline_ax, scores_ax, height)
    if scores_ax is None:
        timeline_ax.set_xlabel(_year_label(timeline_ax))
        return timeline_ax
    if ax is None:
        # The Axes share the years: one set of tick labels, below the scores.
        timeline_ax.tick_params(labelbottom=False)
    draw_scores(scores_ax, rows, colors, milestones)
    scores_ax.set_xlabel(_year_label(scores_ax))
    return np.array([timeline_ax, scores_ax], dtype=object)


def _timeline_entries(estimators):
    """Return the ``(name, era, year)`` of the estimators, oldest first."""
    if estimators is None:
        estimators = all_estimators()
    entries = []
    for item in estimators:
        name, estimator = item if isinstance(item, tuple) else (None, item)
        history = get_history(estimator)
        if history is None:
            continue
        if name is None:
            cls = estimator if isinstance(estimator, type) else type(estimator)
            name = cls.__name__
        entries.append((name, history.era, history.year))
    return sorted(entries, key=lambda entry: (entry[2], entry[0]))


def _check_milestones(milestones):
    """Return the milestones to draw as a dict of year to label, oldest first."""
    if isinstance(milestones, str) and milestones == "default":
        milestones = _MILESTONES
    elif milestones is None:
        milestones = {}
    elif not isinstance(milestones, dict) or not all(
        isinstance(year, Real) and isinstance(label, str)
        for year, label in milestones.items()
    ):
        raise ValueError(
            'Parameter milestones must be "default", None or a dict of years '
            f"to labels, got {milestones!r}."
        )
    return dict(sorted(milestones.items()))


def _task_rows(results, task):
    """Return the rows of ``results`` on ``task`` (None: the first task)."""
    records = as_records(results)
    if not isinstance(records, list | tuple) or not all(
        isinstance(record, dict) for record in records
    ):
        raise TypeError(
            "Parameter results must be the output of compare_estimators, a "
            f"pandas DataFrame or a list of dict, got {type(results).__name__}."
        )
    if not records:
        raise ValueError("Parameter results holds no rows: nothing to plot.")
    missing = [
        column
        for column in _NEEDED_COLUMNS
        if any(column not in record for record in records)
    ]
    if missing:
        raise ValueError(
            "Parameter results must be the output of compare_estimators; it "
            f"lacks the column(s) {', '.join(missing)}."
        )
    tasks = list(dict.fromkeys(record["task"] for record in records))
    if task is None:
        task = tasks[0]
    elif task not in tasks:
        raise ValueError(
            f"Parameter task must be one of the tasks in results {tasks}, got {task!r}."
        )
    return [record for record in records if record["task"] == task]


def _make_axes(plt, ax, *, with_scores):
    """Return the Axes of the timeline and of the scores (None without scores)."""
    from matplotlib.axes import Axes

    if ax is None:
        fig = plt.figure()
        timeline_ax = fig.add_axes([0, 0.5, 1, 0.5])
        scores_ax = None
        if with_scores:
            scores_ax = fig.add_axes([0, 0, 1, 0.5], sharex=timeline_ax)
        # A provisional height: the figure grows to fit the labels once they
        # are placed, its width stays.
        _position(timeline_ax, scores_ax, 4 * 72)
        return timeline_ax, scores_ax
    n_axes = 2 if with_scores else 1
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n_axes or not all(isinstance(a, Axes) for a in axes):
        expected = (
            "two Axes (the timeline, then the scores) when results are given"
            if with_scores
            else "one Axes when results is None"
        )
        raise ValueError(f"Parameter ax must be {expected}, got {ax!r}.")
    return axes[0], (axes[1] if with_scores else None)


def _position(timeline_ax, scores_ax, timeline_points):
    """Set the size of the figure and the places of the Axes in it."""
    fig = timeline_ax.figure
    timeline_height = timeline_points / 72
    scores_height = 0 if scores_ax is None else _SCORES_HEIGHT + _GAP
    height = _TOP + timeline_height + scores_height + _BOTTOM
    fig.set_size_inches(_WIDTH, height)
    left, width = _LEFT / _WIDTH, (_WIDTH - _LEFT - _RIGHT) / _WIDTH
    timeline_ax.set_position(
        [left, 1 - (_TOP + timeline_height) / height, width, timeline_height / height]
    )
    if scores_ax is not None:
        scores_ax.set_position([left, _BOTTOM / height, width, _SCORES_HEIGHT / height])


def _compress(years):
    """Map years to the axis: those before 1940 five times closer together."""
    years = np.asarray(years, dtype=float)
    early = _COMPRESS_BEFORE + (years - _COMPRESS_BEFORE) / _COMPRESSION
    return np.where(years < _COMPRESS_BEFORE, early, years)


def _expand(values):
    """Map the axis back to years: the inverse of :func:`_compress`."""
    values = np.asarray(values, dtype=float)
    early = _COMPRESS_BEFORE + (values - _COMPRESS_BEFORE) * _COMPRESSION
    return np.where(values < _COMPRESS_BEFORE, early, values)


def _set_year_axis(ax, years):
    """Set the scale, limits and ticks of the years on ``ax``."""
    years = years or [1950, 2020]
    first, last = min(years), max(years)
    if first < _COMPRESS_BEFORE:
        ax.set_xscale("function", functions=(_compress, _expand))
        low = float(_expand(_compress(first) - 3))
    else:
        low = first - 3
    high = last + 3
    ax.set_xlim(low, high)
    if first < _COMPRESS_BEFORE:
        ticks = [year for year in range(1700, _COMPRESS_BEFORE, 50) if year >= low]
        ticks += list(range(_COMPRESS_BEFORE, int(high) + 1, 10))
        ax.set_xticks(ticks)
        ax.axvspan(
            low, _COMPRESS_BEFORE, color="0.5", alpha=0.08, zorder=0.15, linewidth=0
        )


def _year_label(ax):
    if ax.get_xscale() == "function":
        return (
            f"year (the years before {_COMPRESS_BEFORE} are drawn "
            f"{_COMPRESSION} times narrower)"
        )
    return "year"


def _draw_timeline(ax, entries, milestones, colors):
    """Draw the eras, the estimators and the milestones; return the height.

    The y axis counts points from the bottom of the Axes, so that each band
    fits the labels stacked in it. Returns the height, in points, that the
    timeline needs.
    """
    eras = in_history_order(era for _, era, _ in entries)
    # Labels are measured at y=0: it must lie inside the Axes to be drawn.
    ax.set_ylim(-1, 1)
    bottom, ticks = 0.0, []
    for era in eras:
        color = group_color(colors, era)
        entries_of_era = [entry for entry in entries if entry[1] == era]
        labels = _stacked_labels(
            ax,
            [(name, year) for name, _, year in entries_of_era],
            color=color,
            background=_band_color(color),
        )
        n_levels = 1 + max(level for _, level in labels)
        height = _ROW_BELOW + _LABEL_OFFSET + _LEVEL * n_levels + _ROW_ABOVE
        ax.axhspan(bottom, bottom + height, color=_band_color(color), zorder=0.1)
        baseline = bottom + _ROW_BELOW
        ticks.append(baseline + (height - _ROW_BELOW) / 2)
        years = [year for _, _, year in entries_of_era]
        ax.scatter(
            years,
            [baseline] * len(years),
            s=18,
            color=color,
            edgecolor="white",
            linewidth=0.5,
            zorder=5,
            label=era,
        )
        for (label, level), year in zip(labels, years):
            label.xy = (year, baseline)
            label.xyann = (year, baseline + _LABEL_OFFSET + _LEVEL * level)
            # Higher labels first: a lower label hides the leaders behind it.
            label.set_zorder(4 - 0.01 * level)
        bottom += height

    labels = _stacked_labels(
        ax,
        [(f"{year:g} {text}", year) for year, text in milestones.items()],
        color="0.55",
        background="white",
        linestyle=":",
    )
    for (label, level), year in zip(labels, milestones):
        # The leader of a milestone is its line across the eras.
        label.xy = (year, 0)
        label.xyann = (year, bottom + _MILESTONE_PAD + _LEVEL * level)
        label.set_zorder(3 - 0.01 * level)
    if labels:
        bottom += _MILESTONE_PAD + _LEVEL * (1 + max(lv for _, lv in labels))
    top = bottom + _ROW_ABOVE
    ax.set_ylim(0, top)
    ax.set_yticks(ticks, eras)
    for tick, era in zip(ax.get_yticklabels(), eras):
        tick.set_color(group_color(colors, era))
        tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    return top


def _stacked_labels(ax, items, *, color, background, linestyle="-"):
    """Write the ``(text, year)`` items, each on the lowest free level.

    A label starts at its year, or ends there where it would overflow the
    Axes, and goes on the lowest level where it overlaps no label before it;
    a leader joins it to its point, set later with the final heights.
    Returns the ``(label, level)`` pairs.
    """
    axes_right = ax.get_window_extent().x1
    pad = 3 * ax.figure.dpi / 72  # pixels between two labels on a level
    placed, taken = [], []
    for text, year in items:
        for align, corner in (("left", (0, 0)), ("right", (1, 0))):
            label = ax.annotate(
                text,
                xy=(year, 0),
                xytext=(year, 0),
                ha=align,
                va="bottom",
                fontsize=FONT_SIZE,
                color="0.3" if linestyle == ":" else "black",
                bbox={
                    "boxstyle": "square,pad=0.15",
                    "facecolor": background,
                    "edgecolor": "none",
                },
                arrowprops={
                    "arrowstyle": "-",
                    "color": color,
                    "linewidth": 0.7,
                    "linestyle": linestyle,
                    "shrinkA": 0,
                    "shrinkB": 2 if linestyle == "-" else 0,
                    "relpos": corner,
                },
            )
            extent = label.get_window_extent()
            if extent.x1 <= axes_right or align == "right":
                break
            label.remove()
        level = 0
        while any(
            taken_level == level and start < extent.x1 + pad and extent.x0 - pad < end
            for taken_level, start, end in taken
        ):
            level += 1
        taken.append((level, extent.x0, extent.x1))
        placed.append((label, level))
    return placed


def _band_color(color):
    """The color of an era's band: ``color`` faded over white."""
    from matplotlib.colors import to_rgb

    return tuple(1 - 0.1 * (1 - channel) for channel in to_rgb(color))
