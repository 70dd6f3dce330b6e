"""Data-parallel training of one model: 2 torchrun processes against one process.

Each model is fitted three ways on the same data, in one run:

- one process, one torch thread, ``batch_size`` 2b (the reference);
- one process, two torch threads, ``batch_size`` 2b (the peer on two cores:
  torch's own intra-op parallelism);
- ``torchrun --nproc-per-node 2``, one thread per process, each fit inside
  :func:`~sklearn_histai.parallel.data_parallel` with ``batch_size`` b, so
  that every optimizer step sees the same 2b rows.

Models (``--models``): ``feedforward``, a feed-forward net (two hidden
layers of 512) on 40,000 x 100 synthetic rows, 5 epochs, and ``lora``, the
default LoRA ``TransformerClassifier`` on the first ``--reviews`` IMDB
reviews (``max_length=128``: the first 128 tokens of each), one epoch. The
table gives the median fit time over ``--repeats`` runs (the processes'
start-up, imports and data loading are not timed), the speed-up over the
reference and over the two-thread peer, and the largest difference between
the per-epoch training losses of the data-parallel fit and of the
reference: the data-parallel fit is the same computation, cut in two.

Run ``python benchmarks/bench_data_parallel.py [--quick]``. It starts its
own processes; ``--worker`` is the internal mode they run in. The full run
takes about 8 minutes with ``--repeats 2``.

Measured (two idle cores, torch 2.13 CPU, ``--repeats 2``)::

    model        run                       fit s  vs 1 thr.  vs 2 thr.  loss diff
    feedforward  1 process, 1 thread       11.6   1.00x      0.61x      0
    feedforward  1 process, 2 threads      7.1    1.63x      1.00x      0
    feedforward  2 processes (data_par.)   12.0   0.97x      0.59x      3.6e-09
    lora         1 process, 1 thread       59.4   1.00x      0.67x      0
    lora         1 process, 2 threads      39.6   1.50x      1.00x      0
    lora         2 processes (data_par.)   37.0   1.61x      1.07x      1.7e-03

The LoRA losses differ by the dropout of the encoder and of LoRA (each
process draws its own shard's masks). The feed-forward net sends its whole
gradient (316,420 float64 numbers) at each of its 705 steps: 1.9 s of
all-reduces over gloo, 0.5 s of the scalar ones, and each process repeats
the optimizer's step over every weight; on one machine's CPUs, torch's
threads serve such a network better.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import warnings


def _data(model, args):
    import numpy as np

    if model == "feedforward":
        from sklearn.datasets import make_classification

        n_samples = 4_000 if args.quick else 40_000
        return make_classification(
            n_samples, 100, n_informative=40, n_classes=4, random_state=0
        )
    from sklearn_histai.datasets import load_imdb

    texts, labels = load_imdb(return_X_y=True)
    n_reviews = 64 if args.quick else args.reviews
    return list(texts[:n_reviews]), np.asarray(labels[:n_reviews])


def _estimator(model, batch_size, threads, args):
    common = {
        "batch_size": batch_size,
        "early_stopping": False,
        "random_state": 0,
        "num_threads": threads,
    }
    if model == "feedforward":
        from sklearn_histai.neural_network import FeedForwardClassifier

        return FeedForwardClassifier(
            hidden_layer_sizes=(512, 512), max_iter=2 if args.quick else 5, **common
        )
    from sklearn_histai.finetune import TransformerClassifier

    return TransformerClassifier(max_length=128, max_iter=1, **common)


def worker(args):
    """Fit one model (in one process, or in each process of a torchrun job)."""
    warnings.simplefilter("ignore")
    X, y = _data(args.model, args)
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    estimator = _estimator(args.model, args.batch_size, threads, args)
    if "WORLD_SIZE" in os.environ:
        from sklearn_histai.parallel import data_parallel

        with data_parallel() as group:
            start = time.perf_counter()
            estimator.fit(X, y)
            seconds = time.perf_counter() - start
            rank = group.rank
    else:
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
        rank = 0
    if rank == 0:
        print(json.dumps({"seconds": seconds, "losses": estimator.loss_curve_}))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(model, processes, threads, batch_size, args):
    command = [
        __file__,
        "--worker",
        "--model",
        model,
        "--batch-size",
        str(batch_size),
        "--reviews",
        str(args.reviews),
    ] + (["--quick"] if args.quick else [])
    if processes > 1:
        command = [
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            str(processes),
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(_free_port()),
        ] + command
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(
        [sys.executable, *command], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def _print_table(title, columns, rows):
    print(f"\n{title}")
    widths = [
        max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)
    ]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["feedforward", "lora"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reviews", type=int, default=512)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    repeats = 1 if args.quick else args.repeats
    half = {"feedforward": 128, "lora": 8}
    runs = {
        "1 process, 1 thread": (1, 1, 2),
        "1 process, 2 threads": (1, 2, 2),
        "2 processes (data_parallel)": (2, 1, 1),
    }
    rows = []
    for model in args.models:
        results = {label: [] for label in runs}
        # Round robin over the repeats: drift in the machine's load falls on
        # every run alike.
        for _ in range(repeats):
            for label, (processes, threads, factor) in runs.items():
                batch_size = half[model] * factor
                result = _run(model, processes, threads, batch_size, args)
                results[label].append(result)
                print(f"  {model} {label}: {result['seconds']:.1f} s", flush=True)
        medians = {
            label: statistics.median(r["seconds"] for r in runs_)
            for label, runs_ in results.items()
        }
        reference = results["1 process, 1 thread"][0]["losses"]
        for label in runs:
            losses = results[label][0]["losses"]
            difference = max(abs(a - b) for a, b in zip(losses, reference))
            rows.append(
                (
                    model,
                    label,
                    f"{medians[label]:.1f}",
                    f"{medians['1 process, 1 thread'] / medians[label]:.2f}x",
                    f"{medians['1 process, 2 threads'] / medians[label]:.2f}x",
                    f"{difference:.1e}",
                )
            )
    _print_table(
        f"Data-parallel fits (median of {repeats}; global batch 2b alike)",
        [
            "model",
            "run",
            "fit s",
            "speed-up vs 1 thread",
            "vs 2 threads",
            "max |loss - reference|",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
