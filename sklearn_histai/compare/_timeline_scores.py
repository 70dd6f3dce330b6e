"""The lower panel of the timeline: the scores of one task against the years."""

import numpy as np

from sklearn_histai.compare._plot import PEER_COLOR, group_color, in_history_order
from sklearn_histai.compare._records import is_missing, text_cell

# The font size of the labels of the timeline, in points.
FONT_SIZE = 7


def draw_scores(ax, rows, colors, milestones):
    """Draw the mean score of each estimator on one task against its year.

    ``rows`` are the result records of the task, ``colors`` maps eras (and
    libraries) to colors and grows with the new ones, and ``milestones``
    maps years to labels: their lines continue those of the timeline.
    """
    scored = [
        row
        for row in rows
        if not text_cell(row.get("error")) and not is_missing(row["score_mean"])
    ]
    own = [row for row in scored if not text_cell(row["peer_of"])]
    peers = [row for row in scored if text_cell(row["peer_of"])]
    # Estimators without a year, such as scikit-learn's own given to the
    # comparison, are the level to reach across the panel.
    baselines = [row for row in own if is_missing(row["year"])]
    own = [row for row in own if not is_missing(row["year"])]
    for year in milestones:
        ax.axvline(year, color="0.55", linestyle=":", linewidth=0.8, zorder=0.2)

    eras = [text_cell(row["era"]) or text_cell(row.get("library")) for row in own]
    point_colors = [group_color(colors, era) for era in eras]
    points = [(row["year"], row["score_mean"]) for row in own]
    stds = [
        0.0 if is_missing(row.get("score_std")) else row["score_std"] for row in own
    ]
    if own:
        years, scores = np.transpose(points)
        ax.vlines(
            years,
            scores - stds,
            scores + stds,
            colors=point_colors,
            linewidth=1,
            zorder=3,
        )
        ax.scatter(
            years,
            scores,
            s=30,
            color=point_colors,
            edgecolor="white",
            linewidth=0.5,
            zorder=4,
            gid="estimators",
        )
    peer_points = _draw_peers(ax, peers, own)
    for row in baselines:
        ax.axhline(
            row["score_mean"], color=PEER_COLOR, linestyle="--", linewidth=1, zorder=1
        )
        ax.annotate(
            row["estimator"],
            xy=(0, row["score_mean"]),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=FONT_SIZE,
            color="0.4",
        )

    levels = [score for _, score in peer_points]
    levels += [row["score_mean"] for row in baselines]
    levels += [
        score + sign * std for (_, score), std in zip(points, stds) for sign in (-1, 1)
    ]
    if levels:
        low, high = min(levels), max(levels)
        margin = 0.08 * (high - low) or 0.05
        ax.set_ylim(low - margin, high + 2 * margin)
    _label_points(
        ax, [row["estimator"] for row in own], points, point_colors, peer_points
    )

    scoring = rows[0].get("scoring") or "score"
    ax.set_ylabel(f"cross-validated {scoring}\non {rows[0]['task']}")
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    for spine in ("right", "top"):
        ax.spines[spine].set_visible(False)
    _scores_legend(ax, eras, colors, peers=bool(peer_points), baselines=bool(baselines))


def _draw_peers(ax, peers, own):
    """Draw each peer as a dash at the years of the estimators it stands beside.

    Returns the ``(year, score)`` points of the dashes.
    """
    own_point = {row["estimator"]: (row["year"], row["score_mean"]) for row in own}
    points = []
    for row in peers:
        for name in text_cell(row["peer_of"]).split(", "):
            if name in own_point:
                year, score = own_point[name]
                points.append((year, row["score_mean"]))
                ax.plot(
                    [year, year],
                    [row["score_mean"], score],
                    color=PEER_COLOR,
                    linestyle=":",
                    linewidth=1,
                    zorder=2,
                )
    if points:
        ax.scatter(
            *zip(*points),
            marker="_",
            s=90,
            linewidth=2,
            color=PEER_COLOR,
            zorder=3,
            gid="peers",
        )
    return points


def _scores_legend(ax, eras, colors, *, peers, baselines):
    """Add the legend of the scores: the eras, the peers and the baselines."""
    from matplotlib.lines import Line2D

    names = in_history_order(eras)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=group_color(colors, era))
        for era in names
    ]
    if peers:
        handles.append(
            Line2D([], [], marker="_", markersize=9, linestyle="", color=PEER_COLOR)
        )
        names.append("scikit-learn peer")
    if baselines:
        handles.append(Line2D([], [], linestyle="--", color=PEER_COLOR))
        names.append("estimator without a year")
    if handles:
        ax.legend(handles, names, loc="best", fontsize="small", framealpha=0.9)


# Where a point's label may go, in order of preference: offset in points and
# alignment.
_POINT_LABEL_PLACES = [
    (4, 3, "left", "bottom"),
    (4, -3, "left", "top"),
    (0, -6, "center", "top"),
    (0, 6, "center", "bottom"),
    (-4, 3, "right", "bottom"),
    (-4, -3, "right", "top"),
    (-4, -12, "right", "top"),
    (4, -12, "left", "top"),
    (-4, 12, "right", "bottom"),
    (4, 12, "left", "bottom"),
    (-4, -21, "right", "top"),
    (-4, 21, "right", "bottom"),
]


def _label_points(ax, names, points, colors, other_points):
    """Name each point beside it, at the first place that overlaps nothing.

    Nothing is another label, a point or one of ``other_points``; where every
    place inside the Axes overlaps something, the label takes the first place
    inside the Axes.
    """
    axes_box = ax.get_window_extent()
    radius = 4 * ax.figure.dpi / 72
    pad = 3 * ax.figure.dpi / 72  # pixels between two labels side by side
    dots = [
        (x - radius, y - radius, x + radius, y + radius)
        for x, y in ax.transData.transform(list(points) + list(other_points))
    ]
    labels = []

    def move(label, place):
        dx, dy, ha, va = place
        label.set_position((dx, dy))
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        return label.get_window_extent()

    def is_inside(box):
        return axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1

    def overlaps(box, others, pad=0):
        return any(
            box.x0 < x1 + pad and x0 < box.x1 + pad and box.y0 < y1 and y0 < box.y1
            for x0, y0, x1, y1 in others
        )

    def is_free(box):
        return (
            is_inside(box)
            and not overlaps(box, dots)
            and not overlaps(box, labels, pad)
        )

    for name, point, color in zip(names, points, colors):
        label = ax.annotate(
            name,
            xy=point,
            xytext=(0, 0),
            textcoords="offset points",
            fontsize=FONT_SIZE,
            color=color,
            zorder=5,
        )
        for accept in (is_free, is_inside, lambda box: True):
            boxes = (move(label, place) for place in _POINT_LABEL_PLACES)
            box = next(filter(accept, boxes), None)
            if box is not None:
                break
        labels.append((box.x0, box.y0, box.x1, box.y1))
