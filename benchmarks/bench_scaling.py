"""Scale the IMDB comparison search over Dask workers, against joblib's loky.

One ``GridSearchCV`` of 12 candidate configurations of
``make_text_classifier`` (4 "cnn", 4 "embedding", 4 "bow"; every network
seeded with ``random_state=0``), 3-fold cross-validated: 36 fits. It runs
four times in one invocation, on the same data and candidates:

1. ``dask-1``: a ``distributed.LocalCluster`` of one worker process with one
   thread, the search with ``n_jobs=-1``, the sequential baseline;
2. ``dask-2``: a cluster of two worker processes of one thread each, the
   search with ``n_jobs=-1`` under ``joblib.parallel_config(backend="dask")``;
3. ``loky``: joblib's default backend, ``n_jobs=2``, no cluster;
4. ``dask-2-default`` (unless ``--no-dask-default``): ``dask-2`` with Dask's
   default environment for its workers.

The Dask clusters of the first two runs use the settings that the user
guide recommends for training (``TRAINING_CONFIG``): workers without
``MALLOC_TRIM_THRESHOLD_``, which Dask's nanny sets to 65536 by default
(set at all, it turns off glibc's adaptive mmap threshold, so that every
tensor of more than 128 KiB is a fresh mmap paid for in page faults, which
doubled the time of a CNN fit), and monitors that wake up less often. The
nanny also sets its environment in the client process; it is restored
after each cluster, so that loky's workers do not inherit it.

joblib runs a call of one effective job in the calling process, and its
Dask backend counts the cluster's threads: under ``backend="dask"`` the
search of ``dask-1`` would run in the client, on all its torch threads
(it is not in a Dask worker). ``dask-1`` therefore runs under a subclass of
joblib's Dask backend that counts at least two jobs, so that its fits go to
the worker, which runs them one at a time. The table's client CPU column
shows where the fits ran.

Only ``search.fit`` is timed (``refit=False``: the refit of the best
candidate is sequential, in the client, the same in every run). Before it,
every run's workers are started and warmed up: the cluster is started, or
loky's reusable executor by a first ``joblib.Parallel`` call, and one small
task on each worker imports what the fits use; both times are printed on
their own line, apart from the search. The search then runs on those same
worker processes (checked by their pids). Each Dask worker's nanny sets
``OMP_NUM_THREADS=1``, which bounds ``num_threads="auto"`` to one torch
thread per task; for loky nothing is set here: joblib gives its workers
thread limits of its own (the cores over ``n_jobs``). What a task of each
run's workers sees (``OMP_NUM_THREADS``, torch's threads and
:func:`~sklearn_histai.parallel.thread_budget`) is printed after it.

Data: a stratified sample (seed 0) of ``--n-reviews`` reviews (6,000 by
default) of ``load_imdb("train")``. The candidates, the heaviest kind first
so that the short fits at the end fill the workers' last gaps:

- "cnn", 3 epochs, 64-dimensional embeddings: the last 128 or 256 tokens,
  32 or 64 filters of each width;
- "embedding", 4 epochs: learning rate 0.01 or 0.03, 16 or 32 dimensions;
- "bow": ``C`` of 1 or 10, word unigrams or unigrams and bigrams.

The networks stop early (``early_stopping="auto"``) only from 1,000
training reviews on; the candidates are the same in every run, and so are
the folds, so the three runs should give the same scores, which the table
checks.

CPU time is that of the whole process tree (the client, the nannies, the
workers and their children, loky's workers), user and system, read with
``psutil`` just before and just after ``search.fit``, while every worker is
alive; utilisation is that CPU time over the wall time times the cores the
run is given (1 for ``dask-1``, 2 for the others). The client's own share
(the Dask scheduler runs in it) is printed beside it.

Run ``python benchmarks/bench_scaling.py [--quick] [--n-reviews N]
[--repeats R] [--folds K] [--no-dask-default]``. On two idle cores the full
run takes about 11 minutes: the sequential search 3.7 minutes, ``dask-2``
and loky about 2 each, ``dask-2-default`` 3.6. ``--quick`` (150 reviews,
two candidates of each kind) takes under a minute and a half; its times,
dominated by overheads, say nothing of the goal: a speed-up of at least
1.8 with two workers, and no slower than loky.

Measured (two idle cores, torch 2.13 CPU, Dask 2026.8, one search per run)::

    run             workers  wall s  speed-up  vs loky  CPU s  client CPU s  utilisation
    dask-1          1        221.5   1.00      1.93     231.0  3.1           104%
    dask-2          2        110.8   2.00      0.97     218.1  1.8           98%
    loky            2        114.6   1.93      1.00     225.3  1.1           98%
    dask-2-default  2        216.1   1.02      1.89     427.3  10.2          99%

Every run found the same scores for every candidate (best 0.8827, TF-IDF
with C=10 and bigrams). Runs differ by up to 4% from one invocation to the
next (another: ``dask-2`` 113.3 s, loky 117.2 s). Before the settings:
with Dask's default monitors but the malloc setting unset, ``dask-2`` took
116.4 s against loky's 112.3 s (its client used 5.0 CPU s); with Dask's
defaults, which the client's environment then passed on to loky's workers
too, ``dask-1`` took 374.7 s, ``dask-2`` 210.6 s and loky 191.8 s.
"""

import argparse
import importlib
import math
import os
import statistics
import time
import warnings

import joblib
import numpy as np
import psutil
import torch
from _report import table
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_histai.datasets import load_imdb
from sklearn_histai.parallel import thread_budget
from sklearn_histai.text import make_text_classifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SPEED_UP_GOAL = 1.8

# Fixed settings of each kind, then the grid over which its candidates vary.
KINDS = {
    "cnn": (
        {"classifier__max_iter": 3, "classifier__embedding_dim": 64},
        {
            "tokenizer__max_length": [128, 256],
            "classifier__num_filters": [32, 64],
        },
    ),
    "embedding": (
        {"classifier__max_iter": 4},
        {
            "classifier__learning_rate": [1e-2, 3e-2],
            "classifier__embedding_dim": [16, 32],
        },
    ),
    "bow": (
        {},
        {
            "classifier__C": [1.0, 10.0],
            "tfidf__analyzer__ngram_range": [(1, 1), (1, 2)],
        },
    ),
}


def param_grids(quick):
    """One grid per kind over a one-step pipeline whose ``model`` is swapped.

    ``quick`` keeps the first value of each kind's first varied parameter:
    two candidates per kind.
    """
    grids = []
    for kind, (fixed, grid) in KINDS.items():
        model = make_text_classifier(kind, random_state=0, **fixed)
        grid = dict(grid)
        if quick:
            first = next(iter(grid))
            grid[first] = grid[first][:1]
        grids.append({"model": [model], **{f"model__{k}": v for k, v in grid.items()}})
    return grids


def candidate_labels(grids, params):
    """The kind and the varied values of each candidate of ``cv_results_``."""
    labels = []
    for candidate in params:
        kind = next(
            kind
            for kind, grid in zip(KINDS, grids)
            if grid["model"][0] is candidate["model"]
        )
        values = [
            f"{key.rsplit('__', 1)[-1]}={_short(value)}"
            for key, value in sorted(candidate.items())
            if key != "model"
        ]
        labels.append(f"{kind} " + ", ".join(values))
    return labels


def _short(value):
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def make_search(grids, n_jobs, folds):
    return GridSearchCV(
        Pipeline([("model", make_text_classifier("bow"))]),
        grids,
        cv=folds,
        n_jobs=n_jobs,
        refit=False,
        error_score="raise",
    )


def tree_cpu_seconds():
    """User and system CPU seconds of this process, and of its whole tree.

    Live processes count their own time and that of the children they have
    reaped, so a worker that ends is still counted through its parent.
    Returns ``(client, total)``: the client's own time (the Dask scheduler
    runs in it), and that of every process of the tree.
    """
    root = psutil.Process()
    times = root.cpu_times()
    client = times.user + times.system
    total = client + times.children_user + times.children_system
    for process in root.children(recursive=True):
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system + times.children_user
        total += times.children_system
    return client, total


def probe(pause=0.0):
    """What a task of this process sees: pid, OMP_NUM_THREADS, torch threads.

    It also imports what the fits run, so that a fresh worker pays for the
    imports here, before the timed search.
    """
    importlib.import_module("sklearn_histai.text")
    importlib.import_module("sklearn.model_selection")
    time.sleep(pause)
    return (
        os.getpid(),
        os.environ.get("OMP_NUM_THREADS", "unset"),
        torch.get_num_threads(),
        thread_budget(),
    )


def describe_probes(probes):
    seen = sorted(set(probes))
    return "; ".join(
        f"pid {pid}: OMP_NUM_THREADS={omp}, torch threads {n}, task budget {budget}"
        for pid, omp, n, budget in seen
    )


def timed_searches(grids, X, y, n_jobs, folds, repeats):
    """Fit the search ``repeats`` times: wall, CPU and client CPU s, scores."""
    walls, cpus, client_cpus, scores = [], [], [], []
    for _ in range(repeats):
        search = make_search(grids, n_jobs, folds)
        client_before, total_before = tree_cpu_seconds()
        start = time.perf_counter()
        search.fit(X, y)
        walls.append(time.perf_counter() - start)
        client_after, total_after = tree_cpu_seconds()
        cpus.append(total_after - total_before)
        client_cpus.append(client_after - client_before)
        scores.append(search.cv_results_["mean_test_score"])
    return walls, cpus, client_cpus, scores, search


def register_queued_dask_backend():
    """Register "dask-queued": joblib's Dask backend that runs one worker thread.

    joblib runs a ``Parallel`` call of one effective job in the calling
    process, and its Dask backend counts the cluster's threads, so a search
    on a cluster of one single-threaded worker would run in the client, on
    all of its torch threads. This backend counts at least two jobs: the
    fits go to the cluster, which queues them for its one thread.
    """
    from joblib._dask import DaskDistributedBackend

    class QueuedDaskBackend(DaskDistributedBackend):
        def effective_n_jobs(self, n_jobs):
            return max(super().effective_n_jobs(n_jobs), 2)

    joblib.register_parallel_backend("dask-queued", QueuedDaskBackend)


# The Dask settings the user guide recommends for training (``dask-2-default``
# keeps Dask's defaults to show their cost). Dask's nanny starts every worker
# with MALLOC_TRIM_THRESHOLD_=65536, which also turns off glibc's adaptive
# mmap threshold: every tensor of more than 128 KiB is then a fresh mmap,
# paid for in page faults (one CNN fit of the search: 11.1 s of wall time
# without it, 23.1 s with it, system time 1.2 s against 12.9 s). The
# scheduler's and the workers' monitors, every 20 to 500 ms by default, cost
# the client 5.0 CPU seconds of a 116 s search on two cores that the fits
# keep busy, and 1.9 s at these intervals.
TRAINING_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.tick.interval": "200ms",
}


def run_dask(n_workers, grids, X, y, folds, repeats, config=TRAINING_CONFIG):
    """The searches on a fresh ``LocalCluster``; start-up and warm-up apart."""
    import dask
    from distributed import Client, LocalCluster

    # The nanny sets its pre-spawn environment in this process too, where
    # later runs (loky's workers) would inherit it: it is restored after.
    environ = dict(os.environ)
    start = time.perf_counter()
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    startup = time.perf_counter() - start

    def probe_each_worker():
        futures = [
            client.submit(probe, pure=False, workers=[w], allow_other_workers=False)
            for w in client.scheduler_info()["workers"]
        ]
        return client.gather(futures)

    try:
        start = time.perf_counter()
        before = probe_each_worker()
        warm_up = time.perf_counter() - start
        backend = "dask-queued" if n_workers == 1 else "dask"
        with joblib.parallel_config(backend=backend):
            result = timed_searches(grids, X, y, -1, folds, repeats)
        after = probe_each_worker()
    finally:
        client.close()
        cluster.close()
        os.environ.clear()
        os.environ.update(environ)
    return (*result, startup, warm_up, before, after)


def run_loky(grids, X, y, folds, repeats):
    """The searches on loky's reusable executor, started and warmed first."""
    # The pause spreads the probes over both workers; the search then reuses
    # the executor (the same worker processes, checked by their pids).
    probes = joblib.delayed(probe)(0.5)
    start = time.perf_counter()
    before = joblib.Parallel(n_jobs=2)(probes for _ in range(4))
    warm_up = time.perf_counter() - start
    result = timed_searches(grids, X, y, 2, folds, repeats)
    after = joblib.Parallel(n_jobs=2)(probes for _ in range(4))
    return (*result, None, warm_up, before, after)


def main():
    register_queued_dask_backend()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="150 reviews, 2 candidates per kind"
    )
    parser.add_argument("--n-reviews", type=int, default=None, help="default 6,000")
    parser.add_argument("--repeats", type=int, default=1, help="searches per run")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--dask-default",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run dask-2 with Dask's default MALLOC_TRIM_THRESHOLD_",
    )
    args = parser.parse_args()
    n_reviews = args.n_reviews or (150 if args.quick else 6_000)

    X_all, y_all = load_imdb("train", return_X_y=True)
    X, _, y, _ = train_test_split(
        X_all, y_all, train_size=n_reviews, stratify=y_all, random_state=0
    )
    grids = param_grids(args.quick)
    n_candidates = sum(
        math.prod([len(v) for k, v in grid.items() if k != "model"]) for grid in grids
    )
    n_fits = n_candidates * args.folds
    print(
        f"IMDB: {len(X)} training reviews (stratified sample, seed 0), "
        f"{n_candidates} candidates x {args.folds} folds = {n_fits} fits per "
        f"search, {args.repeats} search(es) per run; {psutil.cpu_count()} CPUs "
        f"({psutil.cpu_count(logical=False)} physical), load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )

    runs = {}
    dask_default = {}  # Dask's own pre-spawn environment
    for name, workers, launch in [
        ("dask-1", 1, lambda: run_dask(1, grids, X, y, args.folds, args.repeats)),
        ("dask-2", 2, lambda: run_dask(2, grids, X, y, args.folds, args.repeats)),
        ("loky", 2, lambda: run_loky(grids, X, y, args.folds, args.repeats)),
        (
            "dask-2-default",
            2,
            lambda: run_dask(
                2, grids, X, y, args.folds, args.repeats, config=dask_default
            ),
        ),
    ]:
        if name == "dask-2-default" and not args.dask_default:
            continue
        walls, cpus, client_cpus, scores, search, *setup = launch()
        startup, warm_up, before, after = setup
        runs[name] = {
            "workers": workers,
            "wall": statistics.median(walls),
            "cpu": statistics.median(cpus),
            "client_cpu": statistics.median(client_cpus),
            "scores": scores,
            "search": search,
        }
        if startup is None:
            setup = f"worker start-up and warm-up {warm_up:.1f} s"
        else:
            setup = f"cluster start-up {startup:.1f} s, worker warm-up {warm_up:.1f} s"
        same = {p[0] for p in before} == {p[0] for p in after}
        print(
            f"{name}: {setup} (not timed); "
            f"search {', '.join(f'{w:.1f}' for w in walls)} s; "
            f"load average after {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        print(
            f"  worker tasks after the search "
            f"({'the same' if same else 'NOT the same'} processes as before): "
            f"{describe_probes(after)}",
            flush=True,
        )

    sequential = runs["dask-1"]
    labels = candidate_labels(grids, sequential["search"].cv_results_["params"])
    reference_scores = sequential["scores"][0]
    rows = []
    for name, run in runs.items():
        differences = [np.max(np.abs(s - reference_scores)) for s in run["scores"]]
        difference = max(differences)
        search = run["search"]
        rows.append(
            [
                name,
                run["workers"],
                f"{run['wall']:.1f}",
                f"{sequential['wall'] / run['wall']:.2f}",
                f"{run['wall'] / runs['loky']['wall']:.2f}",
                f"{run['cpu']:.1f}",
                f"{run['client_cpu']:.1f}",
                f"{run['cpu'] / (run['wall'] * run['workers']):.0%}",
                f"{search.best_score_:.4f} ({labels[search.best_index_]})",
                f"{'yes' if difference == 0 else 'no'} ({difference:.2g})",
            ]
        )
    table(
        f"Search times, medians of {args.repeats} search(es) per run",
        rows,
        [
            "run",
            "workers",
            "wall s",
            "speed-up",
            "vs loky",
            "CPU s",
            "client CPU s",
            "utilisation",
            "best score",
            "same scores as sequential (max diff)",
        ],
    )

    results = sequential["search"].cv_results_
    candidate_rows = [
        [
            label,
            f"{results['mean_test_score'][i]:.4f}",
            f"{results['mean_fit_time'][i]:.2f}",
            f"{results['mean_fit_time'][i] * args.folds / sequential['wall']:.0%}",
        ]
        for i, label in enumerate(labels)
    ]
    table(
        "Candidates, in the order of the search (dask-1 run)",
        candidate_rows,
        ["candidate", "mean score", "fit s/fold", "share of dask-1 wall"],
    )

    speed_up = sequential["wall"] / runs["dask-2"]["wall"]
    vs_loky = runs["dask-2"]["wall"] / runs["loky"]["wall"]
    print(
        f"\nGoals: speed-up with 2 workers {speed_up:.2f} (goal >= {SPEED_UP_GOAL}): "
        f"{'met' if speed_up >= SPEED_UP_GOAL else 'NOT met'}; dask-2 time over "
        f"loky's {vs_loky:.2f} (goal <= 1.00): "
        f"{'met' if vs_loky <= 1.0 else 'NOT met'}."
    )
    print(
        "speed-up: dask-1 wall over the run's; vs loky: the run's wall over "
        "loky's; CPU s: the whole process tree's, client CPU s: the client's "
        "own (with the Dask scheduler); utilisation: CPU s over wall s times "
        "the workers (cores) of the run; start-up is not in wall s."
    )


if __name__ == "__main__":
    main()
