"""The demo, ``python -m sklearn_histai.compare``: every estimator beside its peer."""

import argparse
import sys
import warnings
from importlib.util import find_spec
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning, FitFailedWarning

from sklearn_histai.compare._compare import compare_estimators, estimator_table
from sklearn_histai.compare._format import format_estimator_table, format_results
from sklearn_histai.compare._records import as_records
from sklearn_histai.compare._tasks import TASKS
from sklearn_histai.utils import all_estimators, get_history

_QUICK_FOLDS = 3
_DEFAULT_FOLDS = 5
_DEFAULT_TIMELINE = "sklearn_histai_timeline.png"


def _replay_warnings(caught):
    """Show ``caught`` warnings but failures and non-convergence; count the latter.

    Failures are listed under each table, and the estimators run with their
    defaults, so that a note on non-convergence beats a wall of warnings.
    """
    n_unconverged = 0
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            n_unconverged += 1
        elif not issubclass(warning.category, FitFailedWarning):
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return n_unconverged


def _folds_text(n_folds):
    """Say how many folds the demo runs on its tasks."""
    if n_folds is not None:
        return f"{n_folds}-fold cross-validation"
    others = [
        f"{task.n_splits} on {name}"
        for name, task in TASKS.items()
        if task.n_splits not in (None, _DEFAULT_FOLDS)
    ]
    return ", ".join([f"{_DEFAULT_FOLDS}-fold cross-validation", *others])


def _has_cuda():
    import torch

    return torch.cuda.is_available()


def _era(cls):
    history = get_history(cls)
    return history.era if history else ""


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_histai.compare",
        description=(
            "Cross-validate every estimator of sklearn_histai beside its "
            "scikit-learn peer on small bundled data sets and an IMDB slice."
        ),
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        choices=list(TASKS),
        metavar="TASK",
        help=f"tasks to run (default: all of {', '.join(TASKS)})",
    )
    parser.add_argument(
        "--estimators",
        nargs="+",
        metavar="NAME",
        help="class names of the estimators to compare (default: all)",
    )
    parser.add_argument(
        "--cv",
        type=int,
        metavar="N",
        help=(
            f"number of folds of every task (default {_DEFAULT_FOLDS}, fewer "
            f"where a task says so; {_QUICK_FOLDS} if --quick)"
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{_QUICK_FOLDS} folds instead of 5"
    )
    parser.add_argument(
        "--plot", metavar="FILE", help="also save a bar plot of the scores to FILE"
    )
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        default=_DEFAULT_TIMELINE,
        help=(
            "where to save, at the end, the timeline of the estimators with "
            "their scores on the task that most eras ran on (default: "
            "%(default)s in the current directory)"
        ),
    )
    parser.add_argument(
        "--no-timeline", action="store_true", help="do not save the timeline"
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="leave the scikit-learn peers out"
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print the estimators with their era, year, reference and peer, and exit",
    )
    return parser


def main(argv=None):
    """Run the comparison demo with command-line arguments ``argv``.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads them from :data:`sys.argv`.

    Returns
    -------
    status : int
        0 on success.
    """
    parser = _parser()
    args = parser.parse_args(argv)

    if args.list:
        print(format_estimator_table(estimator_table()))
        return 0

    discovered = dict(all_estimators(type_filter=["classifier", "regressor"]))
    names = args.estimators or list(discovered)
    unknown = sorted(set(names) - set(discovered))
    if unknown:
        parser.error(
            f"unknown estimator(s) {', '.join(unknown)}; choose among "
            f"{', '.join(discovered)}"
        )
    if args.cv is not None and args.cv < 2:
        parser.error(f"--cv must be at least 2, got {args.cv}")
    # None: each task's own number of folds (fewer on the slow text task).
    n_folds = args.cv or (_QUICK_FOLDS if args.quick else None)
    if args.estimators is None and not _has_cuda():
        slow = [name for name in names if _era(discovered[name]) == "pretrained"]
        if slow:
            names = [name for name in names if name not in slow]
            print(
                f"Left out without a GPU: {', '.join(slow)} (fine-tuning a "
                "transformer takes hours on a CPU); name them with --estimators "
                "to run them anyway.\n"
            )

    print(
        f"Comparing {len(names)} estimator(s) of sklearn_histai with their "
        f"scikit-learn peers ({_folds_text(n_folds)}; median times per fold).\n"
    )
    estimators = [(name, discovered[name]()) for name in names]
    all_records, n_unconverged = [], 0
    # Task by task, so that each table shows as soon as it is ready.
    for task in args.tasks or list(TASKS):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            results = compare_estimators(
                estimators,
                [task],
                cv=n_folds,
                include_peers=not args.no_peers,
                # A bar on a terminal only: logs and pipes stay clean.
                progress=None,
            )
        n_unconverged += _replay_warnings(caught)
        records = as_records(results)
        if records:
            print(format_results(records) + "\n", flush=True)
        all_records.extend(records)

    if not all_records:
        print("No estimator suits the chosen tasks.")
    if n_unconverged:
        print(
            f"{n_unconverged} convergence warning(s) hidden: every estimator "
            "and peer runs with its default settings."
        )

    if args.plot:
        from sklearn_histai.compare._plot import plot_comparison

        ax = plot_comparison(all_records)
        ax.figure.savefig(args.plot, dpi=120)
        print(f"\nPlot saved to {args.plot}")
    if not args.no_timeline:
        _save_timeline(all_records, args.timeline)
    return 0


def _timeline_task(records):
    """Return the task that the most eras ran on, or None without results.

    It is the fairest race across history; the first such task wins a tie.
    """
    eras_of = {}
    for record in records:
        if not record["peer_of"] and record["era"] and not record["error"]:
            eras_of.setdefault(record["task"], set()).add(record["era"])
    return max(eras_of, key=lambda task: len(eras_of[task]), default=None)


def _save_timeline(records, path):
    """Save the timeline, with the scores of one task, to ``path``."""
    if find_spec("matplotlib") is None:
        print(
            "\nNo timeline saved: it needs matplotlib "
            "(pip install sklearn-histai[plot])."
        )
        return
    import matplotlib.pyplot as plt

    from sklearn_histai.compare._timeline import plot_timeline

    task = _timeline_task(records)
    with warnings.catch_warnings():
        # Discovery warns of the modules whose optional extra is missing;
        # the demo has already run without them.
        warnings.simplefilter("ignore", UserWarning)
        axes = plot_timeline(records if task else None, task=task)
    figure = (axes[0] if task else axes).figure
    figure.savefig(path, dpi=150)
    plt.close(figure)
    print(f"\nTimeline written to {Path(path).resolve()}")


if __name__ == "__main__":
    sys.exit(main())
