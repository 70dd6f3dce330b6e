"""Cross-validate the estimators of sklearn_histai beside their scikit-learn peers."""

import warnings
from functools import partial

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_histai.compare._records import RESULT_COLUMNS, TABLE_COLUMNS
from sklearn_histai.compare._tasks import resolve_tasks
from sklearn_histai.utils import all_estimators, get_history

_DEFAULT_N_SPLITS = 5


def _import_pandas():
    """Return the pandas module, or None when it is not installed."""
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def _to_frame(records, columns):
    """Return ``records`` as a DataFrame when pandas is installed, else as is."""
    pd = _import_pandas()
    if pd is None:
        return records
    frame = pd.DataFrame.from_records(records, columns=columns)
    # Peers and foreign estimators have no year: keep the column integral.
    frame["year"] = frame["year"].astype("Int64")
    if "n_splits" in frame:
        frame["n_splits"] = frame["n_splits"].astype("Int64")
    return frame


def _library_of(module_name):
    """Return the name of the library that module ``module_name`` belongs to."""
    package = module_name.split(".")[0]
    return {"sklearn": "scikit-learn"}.get(package, package)


def _final_step(estimator):
    """Return the last step of a pipeline, or ``estimator`` itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _input_of(estimator):
    """Return the input kind ``estimator`` is designed for."""
    history = get_history(estimator)
    return "tabular" if history is None else history.input


def _suits(task, estimator):
    """Tell whether ``estimator`` can be compared on ``task``."""
    if task.kind == "classification" and not is_classifier(estimator):
        return False
    if task.kind == "regression" and not is_regressor(estimator):
        return False
    input_kind = _input_of(estimator)
    if input_kind == "text":
        return task.input == "text"
    if input_kind == "tokens" or task.input == "text":
        # Token-id models read text through a tokenizer: a text task's own
        # estimators (its pipelines) compare them.
        return False
    if input_kind == "tabular":
        return task.input in ("tabular", "image")
    # Images and sequences: only where the task says how to read its rows.
    return input_kind in task.input_params


def _prepare(estimator, task, input_kind, random_state):
    """Return an unfitted copy of ``estimator`` set up to read ``task``'s rows."""
    estimator = clone(estimator)
    own_params = estimator.get_params(deep=False)
    params = {
        key: value
        for key, value in task.input_params.get(input_kind, {}).items()
        if key in own_params
    }
    # Reproducible results without overriding a seed the caller chose.
    if own_params.get("random_state", False) is None:
        params["random_state"] = random_state
    estimator.set_params(**params)
    if task.standardize:
        # Every estimator and every peer gets the same scaling: a fair race.
        estimator = make_pipeline(StandardScaler(), estimator)
    return estimator


def _prepare_peer(history, task, input_kind, random_state):
    """Return the peer of ``history``, set up like the estimator it stands beside."""
    return _prepare(history.make_peer(), task, input_kind, random_state)


def _make_cv(cv, task, random_state):
    """Return the cross-validation splitter for ``task``."""
    if cv is None or isinstance(cv, int | np.integer):
        if cv is not None:
            n_splits = int(cv)
        else:
            n_splits = task.n_splits or _DEFAULT_N_SPLITS
        splitter = StratifiedKFold if task.kind == "classification" else KFold
        return splitter(n_splits=n_splits, shuffle=True, random_state=random_state)
    # An iterable of splits becomes a splitter that yields them to every
    # estimator and can count them.
    return check_cv(cv)


def _failure(exc):
    """Return the outcome recorded for an estimator that raised ``exc``."""
    return {
        "score_mean": np.nan,
        "score_std": np.nan,
        "n_splits": np.nan,
        "fit_time": np.nan,
        "score_time": np.nan,
        "error": f"{type(exc).__name__}: {exc}",
    }


class _CountingScorer:
    """A scorer that advances a progress bar each time a fold is scored.

    :func:`~sklearn.model_selection.cross_validate` scores each fold on its
    test rows right after fitting it, so every call marks a fold done.
    """

    def __init__(self, scoring, bar):
        self.scorer = get_scorer(scoring)
        self.bar = bar

    def __call__(self, estimator, X, y):
        score = self.scorer(estimator, X, y)
        self.bar.update(1)
        return score


def _evaluate(build, X, y, *, task, cv, n_jobs, bar=None):
    """Cross-validate the estimator ``build()`` returns: its scores or its error.

    ``bar``, a progress bar, advances by one per fold.
    """
    n_splits = cv.get_n_splits(X, y)
    # Folds scored in other processes cannot reach the bar: it then advances
    # once the estimator is done.
    per_fold = bar is not None and n_jobs in (None, 1)
    scoring = _CountingScorer(task.scoring, bar) if per_fold else task.scoring
    done_before = bar.n if per_fold else 0
    try:
        scores = cross_validate(
            build(),
            X,
            y,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            return_train_score=False,
            error_score="raise",
        )
    except Exception as exc:  # a failing estimator must not end the comparison
        outcome = _failure(exc)
    else:
        outcome = {
            "score_mean": float(np.mean(scores["test_score"])),
            "score_std": float(np.std(scores["test_score"])),
            # Medians: the first fit of a process pays one-off costs (torch
            # imports its compiler stack on its first optimizer, some 0.8 s)
            # that a mean would charge to the folds of one estimator.
            "fit_time": float(np.median(scores["fit_time"])),
            "score_time": float(np.median(scores["score_time"])),
            "error": "",
        }
    if bar is not None:
        # The folds that did not tick: all of them in other processes, the
        # rest of them after a failure.
        bar.update(n_splits - (bar.n - done_before if per_fold else 0))
    return {**outcome, "n_splits": n_splits}


def _named_estimators(estimators):
    """Return ``(name, estimator)`` pairs for the estimators to compare."""
    if estimators is None:
        discovered = all_estimators(type_filter=["classifier", "regressor"])
        return [(name, cls()) for name, cls in discovered]
    named = []
    for item in estimators:
        name, estimator = item if isinstance(item, tuple) else (None, item)
        if isinstance(estimator, type) or not hasattr(estimator, "fit"):
            raise TypeError(
                "Parameter estimators must be a list of estimator instances or "
                f"(name, estimator) pairs, got {item!r}."
            )
        named.append((name or type(estimator).__name__, estimator))
    return named


def _year_key(pair):
    history = get_history(pair[1])
    return (history is None, history.year if history else 0, pair[0])


def _peer_key(history):
    return (history.peer, tuple(history.peer_params))


def compare_estimators(
    estimators=None,
    tasks=None,
    *,
    cv=None,
    include_peers=True,
    n_jobs=None,
    random_state=0,
    progress=False,
):
    """Cross-validate estimators beside their scikit-learn peers on tasks.

    For every task, every estimator suited to it is cross-validated: a
    classifier on a classification task, a regressor on a regression task,
    and only where the input kind it is designed for fits the task (see
    :class:`Task`). Beside each estimator runs its scikit-learn peer, read
    from the estimator's history metadata; a peer shared by several
    estimators runs once per task. Transformers and density estimators are
    not compared.

    An estimator that raises while it is fitted or scored does not end the
    comparison: a :class:`~sklearn.exceptions.FitFailedWarning` is issued
    and the error is recorded in its row.

    Parameters
    ----------
    estimators : list of estimator instances or (name, estimator) pairs, \
            default=None
        The estimators to compare; any scikit-learn estimator is accepted.
        None means every classifier and regressor of sklearn_histai, built
        with its default parameters.
    tasks : list of str or Task, default=None
        Names of built-in tasks (``"breast_cancer"``, ``"wine"``,
        ``"diabetes"``, ``"digits"``, ``"imdb"``) or :class:`Task` objects. None means
        every built-in task.
    cv : int, cross-validation generator or iterable, default=None
        Passed to :func:`~sklearn.model_selection.cross_validate`. None or
        an int means that many shuffled folds (for None, the task's
        ``n_splits``, 5 unless it says fewer), stratified on
        classification tasks and seeded by ``random_state``.
    include_peers : bool, default=True
        Whether to run the scikit-learn peer of each estimator beside it.
    n_jobs : int, default=None
        Number of jobs to cross-validate each estimator with, passed to
        :func:`~sklearn.model_selection.cross_validate`.
    random_state : int, RandomState instance or None, default=0
        Seeds the default folds, and is given to every estimator and peer
        whose ``random_state`` parameter is None, so that the comparison
        is reproducible.
    progress : bool or None, default=False
        Whether to show a progress bar per task (with :mod:`tqdm`) over its
        estimators times folds, with the time elapsed and an estimate of
        the time left. None shows it only when the output is a terminal.

    Returns
    -------
    results : pandas.DataFrame or list of dict
        One row per estimator and task, a DataFrame when pandas is
        installed. Columns: ``task``, ``scoring``, ``estimator``, ``era``,
        ``year``, ``peer_of`` (empty for a compared estimator; for a peer,
        the names of the estimators it is the peer of), ``library``,
        ``score_mean``, ``score_std`` (over the folds), ``n_splits`` (the
        number of folds), ``fit_time``,
        ``score_time`` (median seconds per fold) and ``error`` (empty unless
        the estimator failed). Rows follow the order of the tasks, then the
        year of the estimators, each peer right after the first estimator
        it is the peer of.

    See Also
    --------
    estimator_table : The history metadata of the estimators.
    plot_comparison : Plot the results as bars of scores.

    Notes
    -----
    On tasks whose ``standardize`` is True (all the built-in ones), each
    estimator and each peer alike is preceded by a
    :class:`~sklearn.preprocessing.StandardScaler` in a pipeline.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, Ridge
    >>> from sklearn_histai.compare import compare_estimators
    >>> results = compare_estimators(
    ...     [LinearRegression(), Ridge()], tasks=["diabetes"], cv=3
    ... )
    >>> results[["estimator", "library", "score_mean"]].round(2)
              estimator       library  score_mean
    0  LinearRegression  scikit-learn        0.49
    1             Ridge  scikit-learn        0.49
    """
    if not any(progress is allowed for allowed in (True, False, None)):
        raise ValueError(
            f"Parameter progress must be True, False or None, got {progress!r}."
        )
    named = sorted(_named_estimators(estimators), key=_year_key)
    records = []
    for task in resolve_tasks(tasks):
        suited = [(name, est) for name, est in named if _suits(task, est)]
        if suited or task.estimators is not None:
            records.extend(
                _compare_on_task(
                    task,
                    suited,
                    cv=cv,
                    include_peers=include_peers,
                    n_jobs=n_jobs,
                    random_state=random_state,
                    progress=progress,
                )
            )
    return _to_frame(records, RESULT_COLUMNS)


def _load(task):
    """Return the data of ``task``, or None when its data package is missing."""
    try:
        return task.loader()
    except (ImportError, FileNotFoundError) as exc:
        warnings.warn(
            f"Task {task.name!r} is skipped: its data are not available ({exc}).",
            UserWarning,
            stacklevel=4,
        )
        return None


def _row(task, name, estimator):
    """The identifying cells of the result row of ``estimator``."""
    history = get_history(estimator)
    return {
        "task": task.name,
        "scoring": task.scoring,
        "estimator": name,
        "era": history.era if history else "",
        "year": history.year if history else None,
        "peer_of": "",
        "library": _library_of(type(estimator).__module__),
    }


def _task_jobs(task, random_state):
    """Return the ``(row, build)`` pairs of the estimators ``task`` builds itself."""
    jobs = []
    for name, est in task.estimators():
        # A pipeline is described by its last step.
        row = _row(task, name, _final_step(est))
        jobs.append((row, partial(_prepare, est, task, "text", random_state)))
    return jobs


def _suited_jobs(task, suited, *, include_peers, random_state):
    """Return the ``(row, build)`` pairs of the ``suited`` estimators and peers."""
    peers_of = {}
    if include_peers:
        for index, (_, est) in enumerate(suited):
            history = get_history(est)
            if history is not None and history.peer is not None:
                peers_of.setdefault(_peer_key(history), []).append(index)

    jobs = []
    for index, (name, est) in enumerate(suited):
        history = get_history(est)
        input_kind = _input_of(est)
        row = _row(task, name, est)
        jobs.append((row, partial(_prepare, est, task, input_kind, random_state)))

        key = None if history is None else _peer_key(history)
        if key not in peers_of or peers_of[key][0] != index:
            continue
        peer_module, peer_name = history.peer.split(":")
        row = {
            **row,
            "estimator": peer_name,
            "era": "",
            "year": None,
            "peer_of": ", ".join(suited[i][0] for i in peers_of[key]),
            "library": _library_of(peer_module),
        }
        # A peer that cannot be built (e.g. missing from this scikit-learn)
        # fails like any estimator.
        jobs.append(
            (row, partial(_prepare_peer, history, task, input_kind, random_state))
        )
    return jobs


def _progress_bar(task, total, progress):
    """Return a tqdm bar over the ``total`` folds of ``task``, or None."""
    if progress is False:
        return None
    from tqdm.auto import tqdm

    # disable=None lets tqdm stay quiet when the output is not a terminal.
    return tqdm(
        total=total,
        desc=task.name,
        unit="fold",
        disable=None if progress is None else not progress,
        leave=True,
        dynamic_ncols=True,
        # Folds of a tree and of an LSTM differ a thousandfold: the average
        # rate over the whole task estimates the time left better than a
        # moving one.
        smoothing=0,
    )


def _compare_on_task(
    task, suited, *, cv, include_peers, n_jobs, random_state, progress
):
    """Return the result rows of the ``suited`` estimators and their peers."""
    loaded = _load(task)
    if loaded is None:
        return []
    X, y = loaded
    cv = _make_cv(cv, task, random_state)
    jobs = [] if task.estimators is None else _task_jobs(task, random_state)
    jobs += _suited_jobs(
        task, suited, include_peers=include_peers, random_state=random_state
    )
    bar = _progress_bar(task, len(jobs) * cv.get_n_splits(X, y), progress)
    records = []
    try:
        for row, build in jobs:
            if bar is not None:
                bar.set_postfix_str(row["estimator"], refresh=True)
            outcome = _evaluate(build, X, y, task=task, cv=cv, n_jobs=n_jobs, bar=bar)
            records.append(_warn_if_failed({**row, **outcome}))
    finally:
        if bar is not None:
            bar.set_postfix_str("", refresh=False)
            bar.close()
    return records


def _warn_if_failed(record):
    """Warn that the estimator of ``record`` failed, if it did; return ``record``."""
    if record["error"]:
        warnings.warn(
            f"{record['estimator']} failed on task {record['task']!r} and is "
            f"left out of the comparison: {record['error']}",
            FitFailedWarning,
            stacklevel=4,
        )
    return record


def estimator_table(estimators=None):
    """Return the place in history of each estimator and its scikit-learn peer.

    Parameters
    ----------
    estimators : list of estimator classes or instances, default=None
        The estimators to describe. None means every public estimator of
        sklearn_histai, as found by
        :func:`~sklearn_histai.utils.all_estimators`.

    Returns
    -------
    table : pandas.DataFrame or list of dict
        One row per estimator, sorted by year then name, a DataFrame when
        pandas is installed. Columns: ``name``, ``era``, ``year``,
        ``input`` (the kind of input it is designed for), ``reference``
        and ``peer`` (the dotted path of its scikit-learn peer, empty when
        there is none). Estimators without history metadata have empty
        fields.

    See Also
    --------
    compare_estimators : Cross-validate estimators and their peers on tasks.

    Examples
    --------
    >>> from sklearn_histai.compare import estimator_table
    >>> from sklearn_histai.utils import ModelHistory
    >>> from sklearn.linear_model import LinearRegression
    >>> class Legendre(LinearRegression):
    ...     _history = ModelHistory(
    ...         era="classical",
    ...         year=1805,
    ...         reference="Legendre (1805)",
    ...         peer="sklearn.linear_model:LinearRegression",
    ...     )
    >>> estimator_table([Legendre])[["name", "year", "peer"]]
           name  year                                  peer
    0  Legendre  1805  sklearn.linear_model.LinearRegression
    """
    if estimators is None:
        classes = [cls for _, cls in all_estimators()]
    else:
        classes = [est if isinstance(est, type) else type(est) for est in estimators]
    records = []
    for cls in classes:
        history = get_history(cls)
        records.append(
            {
                "name": cls.__name__,
                "era": history.era if history else "",
                "year": history.year if history else None,
                "input": history.input if history else "",
                "reference": history.reference if history else "",
                "peer": (history.peer or "").replace(":", ".") if history else "",
            }
        )
    records.sort(key=lambda rec: (rec["year"] is None, rec["year"] or 0, rec["name"]))
    return _to_frame(records, TABLE_COLUMNS)
