"""Tests for the timeline of the estimators, and the demo that saves it."""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression

from sklearn_histai.compare import Task, compare_estimators, plot_timeline
from sklearn_histai.compare import __main__ as cli
from sklearn_histai.compare._plot import ERA_COLORS, OTHER_COLORS, group_color
from sklearn_histai.compare._records import as_records
from sklearn_histai.utils import ModelHistory, all_estimators, get_history

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.text import Text  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(year, era, peer=None):
    return ModelHistory(era=era, year=year, reference=f"Someone ({year})", peer=peer)


class OldClassifier(DummyClassifier):
    _history = _history(1958, "classical", peer="sklearn.dummy:DummyClassifier")


class NeuralClassifier(DummyClassifier):
    _history = _history(1986, "neural", peer="sklearn.dummy:DummyClassifier")


class RuleClassifier(DummyClassifier):
    _history = _history(1995, "symbolic")


class AttentionClassifier(DummyClassifier):
    _history = _history(2017, "attention")


class FutureRegressor(DummyRegressor):
    _history = _history(2030, "quantum")


ESTIMATORS = [
    AttentionClassifier,
    FutureRegressor,
    NeuralClassifier,
    OldClassifier,
    RuleClassifier,
]

TINY_CLASSIFICATION = Task(
    "tiny_classification",
    loader=lambda: make_classification(n_samples=60, n_features=4, random_state=0),
    kind="classification",
    scoring="accuracy",
)
TINY_REGRESSION = Task(
    "tiny_regression",
    loader=lambda: make_regression(n_samples=60, n_features=3, random_state=0),
    kind="regression",
    scoring="r2",
)


def _results(as_frame=True):
    """Results on two tasks, with peers and a scikit-learn baseline."""
    results = compare_estimators(
        [
            OldClassifier(strategy="stratified"),
            NeuralClassifier(),
            RuleClassifier(strategy="uniform"),
            LogisticRegression(),
            FutureRegressor(),
        ],
        [TINY_REGRESSION, TINY_CLASSIFICATION],
        cv=2,
    )
    return results if as_frame else as_records(results)


def _estimator_labels(ax, names):
    return [text for text in ax.texts if text.get_text() in names]


def _collection(ax, gid):
    (found,) = [c for c in ax.collections if c.get_gid() == gid]
    return found


def test_plot_timeline_places_every_discovered_estimator():
    """Check that every discovered estimator has one dot and one label, unhidden."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        discovered = all_estimators()
        ax = plot_timeline(milestones=None)
    histories = {name: get_history(cls) for name, cls in discovered}
    names = [name for name, history in histories.items() if history is not None]
    assert len(names) > 10

    labels = _estimator_labels(ax, names)
    assert sorted(text.get_text() for text in labels) == sorted(names)
    assert len(ax.texts) == len(names)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(offsets) == len(names)
    assert sorted(offsets[:, 0]) == sorted(histories[name].year for name in names)

    # One band per era, in the order of history, colored like the bar plot.
    eras = [tick.get_text() for tick in ax.get_yticklabels()]
    known = [era for era in ERA_COLORS if era in eras]
    assert eras[: len(known)] == known
    for tick in ax.get_yticklabels():
        if tick.get_text() in ERA_COLORS:
            assert tick.get_color() == ERA_COLORS[tick.get_text()]

    # Stacked, the labels overlap neither one another nor the Axes' edges.
    ax.figure.canvas.draw()
    # The text alone: an annotation's extent includes its leader.
    boxes = [Text.get_window_extent(label) for label in labels]
    axes_box = ax.get_window_extent()
    for index, box in enumerate(boxes):
        assert axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1 + 1
        for other in boxes[index + 1 :]:
            assert not box.overlaps(other)


def test_plot_timeline_orders_eras_and_colors_unknown_ones():
    """Check that known eras come in historical order, an unknown one last."""
    ax = plot_timeline(estimators=ESTIMATORS, milestones=None)
    eras = [tick.get_text() for tick in ax.get_yticklabels()]
    assert eras == ["symbolic", "classical", "neural", "attention", "quantum"]
    centers = [tick.get_position()[1] for tick in ax.get_yticklabels()]
    assert centers == sorted(centers)  # the oldest era at the bottom
    colors = [to_rgba(c.get_facecolor()[0]) for c in ax.collections]
    expected = [ERA_COLORS[era] for era in eras[:-1]] + [OTHER_COLORS[0]]
    assert colors == [to_rgba(color) for color in expected]
    # Each dot lies on the baseline of its era's band, at its year.
    for collection, year in zip(ax.collections, [1995, 1958, 1986, 2017, 2030]):
        assert collection.get_offsets()[0][0] == year
    assert ax.get_xscale() == "linear"


def test_plot_timeline_accepts_instances_and_named_pairs():
    """Check that instances and (name, estimator) pairs are placed by history."""
    ax = plot_timeline(
        estimators=[OldClassifier(), ("renamed", RuleClassifier), LogisticRegression],
        milestones=None,
    )
    assert sorted(text.get_text() for text in ax.texts) == ["OldClassifier", "renamed"]


def test_plot_timeline_draws_milestones():
    """Check that the milestones are labelled lines, and None draws none."""
    ax = plot_timeline(estimators=ESTIMATORS)
    texts = [text.get_text() for text in ax.texts]
    for milestone in [
        "1956 Dartmouth workshop",
        "1958 perceptron",
        "1986 back-propagation",
        "1997 LSTM",
        "2013 word2vec",
        "2017 Transformer",
        "2018 BERT",
        "2021 LoRA",
    ]:
        assert milestone in texts
    assert len(texts) == len(ESTIMATORS) + 8
    # A milestone's leader is its line, down to the bottom of the timeline.
    (lora,) = [text for text in ax.texts if text.get_text() == "2021 LoRA"]
    assert lora.xy == (2021, 0)

    ax = plot_timeline(estimators=ESTIMATORS, milestones={1969: "moon landing"})
    texts = [text.get_text() for text in ax.texts]
    assert "1969 moon landing" in texts and "1958 perceptron" not in texts

    ax = plot_timeline(estimators=ESTIMATORS, milestones=None)
    assert len(ax.texts) == len(ESTIMATORS)


def test_plot_timeline_compresses_the_distant_past():
    """Check that years before 1940 are drawn narrower, the later ones evenly."""

    class GaussRegressor(DummyRegressor):
        _history = _history(1809, "classical")

    ax = plot_timeline(estimators=[GaussRegressor, RuleClassifier], milestones=None)
    assert ax.get_xscale() == "function"
    to_pixels = ax.transData.transform
    width = {
        span: to_pixels((span[1], 0))[0] - to_pixels((span[0], 0))[0]
        for span in [(1840, 1940), (1950, 1970), (1970, 1990)]
    }
    assert_allclose(width[1950, 1970], width[1970, 1990])
    # A century before 1940 is as wide as twenty years after.
    assert_allclose(width[1840, 1940], width[1950, 1970])
    assert "narrower" in ax.get_xlabel()


@pytest.mark.parametrize("as_frame", [True, False])
def test_plot_timeline_draws_scores_of_one_task(as_frame):
    """Check that the scores panel shows the mean score of each estimator."""
    results = _results(as_frame)
    records = as_records(results)
    axes = plot_timeline(results, task="tiny_classification", estimators=ESTIMATORS)
    assert isinstance(axes, np.ndarray) and axes.shape == (2,)
    timeline_ax, scores_ax = axes
    assert len(_estimator_labels(timeline_ax, [c.__name__ for c in ESTIMATORS])) == 5

    rows = [r for r in records if r["task"] == "tiny_classification"]
    own = [r for r in rows if not r["peer_of"] and r["era"]]
    points = _collection(scores_ax, "estimators").get_offsets()
    assert_allclose(points[:, 0], [r["year"] for r in own])
    assert_allclose(points[:, 1], [r["score_mean"] for r in own])
    assert {text.get_text() for text in scores_ax.texts} >= {
        r["estimator"] for r in own
    }

    # The shared peer stands beside both the estimators it is the peer of.
    (peer,) = [r for r in rows if r["peer_of"]]
    assert peer["peer_of"] == "OldClassifier, NeuralClassifier"
    dashes = _collection(scores_ax, "peers").get_offsets()
    assert_allclose(dashes, [[1958, peer["score_mean"]], [1986, peer["score_mean"]]])
    # The scikit-learn estimator without a year is a line across the panel.
    (baseline,) = [r for r in rows if r["estimator"] == "LogisticRegression"]
    levels = [line.get_ydata()[0] for line in scores_ax.lines]
    assert baseline["score_mean"] in levels
    assert scores_ax.get_ylabel() == "cross-validated accuracy\non tiny_classification"
    legend = [text.get_text() for text in scores_ax.get_legend().get_texts()]
    assert legend == [
        "symbolic",
        "classical",
        "neural",
        "scikit-learn peer",
        "estimator without a year",
    ]


def test_plot_timeline_shows_the_first_task_by_default():
    """Check that without a task the scores are those of the first task."""
    results = _results()
    _, scores_ax = plot_timeline(results, estimators=ESTIMATORS, milestones=None)
    (regressor,) = [
        r for r in as_records(results) if r["estimator"] == "FutureRegressor"
    ]
    points = _collection(scores_ax, "estimators").get_offsets()
    assert_allclose(points, [[2030, regressor["score_mean"]]])
    assert scores_ax.get_ylabel().endswith("on tiny_regression")


def test_plot_timeline_leaves_failures_out_of_the_scores():
    """Check that an estimator that failed on the task has no point."""
    records = _results(as_frame=False)
    failed = [dict(record) for record in records]
    for record in failed:
        if record["estimator"] == "RuleClassifier":
            record["score_mean"], record["error"] = np.nan, "ValueError: no"
    _, scores_ax = plot_timeline(
        failed, task="tiny_classification", estimators=ESTIMATORS
    )
    points = _collection(scores_ax, "estimators").get_offsets()
    assert 1995 not in points[:, 0] and len(points) == 2


def test_plot_timeline_draws_on_given_axes():
    """Check that the plot uses the Axes it is given, one or two."""
    fig, ax = plt.subplots()
    assert plot_timeline(estimators=ESTIMATORS, ax=ax) is ax
    fig, axes = plt.subplots(2)
    returned = plot_timeline(_results(), estimators=ESTIMATORS, ax=axes)
    assert list(returned) == list(axes)
    assert axes[1].collections
    with pytest.raises(ValueError, match="Parameter ax must be two Axes"):
        plot_timeline(_results(), estimators=ESTIMATORS, ax=axes[0])
    with pytest.raises(ValueError, match="Parameter ax must be one Axes"):
        plot_timeline(estimators=ESTIMATORS, ax=axes)


def test_plot_timeline_rejects_bad_arguments():
    """Check that bad results, tasks and milestones are named in the errors."""
    results = _results()
    with pytest.raises(ValueError, match="Parameter task .* got 'no_such_task'"):
        plot_timeline(results, task="no_such_task", estimators=ESTIMATORS)
    with pytest.raises(ValueError, match="Parameter task needs results"):
        plot_timeline(task="tiny_regression", estimators=ESTIMATORS)
    with pytest.raises(TypeError, match="Parameter results must be the output"):
        plot_timeline({"task": ["a"]}, estimators=ESTIMATORS)
    with pytest.raises(TypeError, match="Parameter results must be the output"):
        plot_timeline(["not a row"], estimators=ESTIMATORS)
    with pytest.raises(ValueError, match="lacks the column.s. year, peer_of"):
        plot_timeline(
            [{"task": "t", "estimator": "e", "era": "", "score_mean": 1.0}],
            estimators=ESTIMATORS,
        )
    with pytest.raises(ValueError, match="holds no rows"):
        plot_timeline([], estimators=ESTIMATORS)
    with pytest.raises(ValueError, match="Parameter milestones"):
        plot_timeline(estimators=ESTIMATORS, milestones="all")
    with pytest.raises(ValueError, match="Parameter milestones"):
        plot_timeline(estimators=ESTIMATORS, milestones={"1956": "Dartmouth"})


def test_plot_timeline_names_the_extra(monkeypatch):
    """Check that without matplotlib the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-histai\[plot\]"):
        plot_timeline(estimators=ESTIMATORS)


def test_group_color_keeps_eras_and_numbers_others():
    """Check that eras keep their color and other groups take the next one."""
    assert list(ERA_COLORS) == [
        "symbolic",
        "classical",
        "neural",
        "text",
        "attention",
        "pretrained",
    ]
    assert len(set(ERA_COLORS.values())) == len(ERA_COLORS)
    colors = dict(ERA_COLORS)
    assert group_color(colors, "attention") == ERA_COLORS["attention"]
    assert group_color(colors, "scikit-learn") == OTHER_COLORS[0]
    assert group_color(colors, "torch") == OTHER_COLORS[1]
    assert group_color(colors, "scikit-learn") == OTHER_COLORS[0]


def _demo_args(*extra):
    return ["--tasks", "wine", "--cv", "2", "--no-peers", *extra]


@pytest.fixture
def tiny_demo(monkeypatch):
    """The demo over two dummy estimators."""
    found = [("NeuralClassifier", NeuralClassifier), ("OldClassifier", OldClassifier)]
    monkeypatch.setattr(cli, "all_estimators", lambda type_filter=None: found)


def test_main_ends_by_saving_the_timeline(tiny_demo, capsys, tmp_path):
    """Check that the demo writes its timeline as a PNG file and says where."""
    path = tmp_path / "history.png"
    assert cli.main(_demo_args("--timeline", str(path))) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"Timeline written to {path.resolve()}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_saves_no_timeline_when_told_or_without_matplotlib(
    tiny_demo, monkeypatch, capsys, tmp_path
):
    """Check that --no-timeline and a missing matplotlib save no timeline."""
    monkeypatch.chdir(tmp_path)
    cli.main(_demo_args("--no-timeline"))
    assert "Timeline" not in capsys.readouterr().out
    monkeypatch.setattr(cli, "find_spec", lambda name: None)
    cli.main(_demo_args())
    assert "No timeline saved: it needs matplotlib" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_timeline_task_is_the_one_most_eras_ran_on():
    """Check that the demo's timeline shows the task with the most eras."""
    rows = [
        ("wine", "classical", ""),
        ("digits", "classical", ""),
        ("digits", "neural", ""),
        ("digits", "text", "ValueError: failed"),
        ("imdb", "neural", ""),
        ("imdb", "text", ""),
    ]
    records = [
        {"task": task, "era": era, "peer_of": "", "error": error}
        for task, era, error in rows
    ]
    assert cli._timeline_task(records) == "digits"
    assert cli._timeline_task([]) is None


def test_plot_timeline_keeps_score_labels_inside_the_panel():
    """Check that crowded labels at the newest year stay inside the panel."""
    records = [
        {
            "task": "crowded",
            "estimator": f"LongEstimatorName{index}",
            "era": "attention",
            "year": 2017,
            "peer_of": "",
            "score_mean": 0.9,
        }
        for index in range(4)
    ]
    # The newest year of the plot, decades after the first: no room right of
    # the points, and one free place left of them.
    _, scores_ax = plot_timeline(
        records, estimators=[OldClassifier, AttentionClassifier], milestones=None
    )
    scores_ax.figure.canvas.draw()
    axes_box = scores_ax.get_window_extent()
    labels = [t for t in scores_ax.texts if t.get_text().startswith("LongEstimator")]
    assert len(labels) == 4
    for label in labels:
        box = label.get_window_extent()
        assert axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1
