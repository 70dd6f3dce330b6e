"""Compression for deployment, measured: quantisation, pruning and distillation.

One table per model, each row a version of it: the original, int8 dynamic
quantisation (:func:`~sklearn_histai.deploy.quantize`), bfloat16 casting,
magnitude pruning (:func:`~sklearn_histai.deploy.prune`) at several
amounts, unstructured and structured, with and without a brief fine-tuning,
and, for the transformer, distillation into a small student
(:class:`~sklearn_histai.deploy.DistilledClassifier`). Columns:

- accuracy on the test rows;
- size on disk: the ``skops.io`` file (its zip compression on, so that the
  zeros of a pruned model cost little) where the model is skops-safe, else
  the gzip-compressed pickle (quantised models; marked ``*``);
- single-row latency: the median of ``--latency-calls`` calls of
  ``predict`` on one row (one review), in milliseconds;
- batch throughput: rows (reviews) predicted per second over the whole
  test set, the median of three passes.

Sections (``--sections``; all by default):

- ``tabular``: :class:`~sklearn_histai.neural_network.FeedForwardClassifier`
  with its defaults on Fashion-MNIST (the first ``--fashion-train`` training
  and ``--fashion-test`` test images, flattened, pixels scaled to [0, 1],
  float32); ``--plot PATH`` saves accuracy against sparsity.
- ``lstm``: the ``"lstm"`` kind of
  :func:`~sklearn_histai.text.make_text_classifier` with its defaults on
  the first ``--n-train`` reviews of ``load_imdb("train")``, tested on the
  first ``--n-test`` of ``load_imdb("test")``.
- ``transformer``: the LoRA :class:`~sklearn_histai.finetune.TransformerClassifier`
  (its defaults, the last ``--max-length`` tokens, ``--epochs`` epochs) on
  the same reviews, merged and quantised, pruned; then distilled into the
  ``"embedding"`` kind, on the training reviews and on a transfer set of the
  next ``--n-transfer`` training reviews without their labels, against the
  same student trained on the hard labels.

Every model runs on ``--threads`` torch threads (1 by default: timings that
do not depend on the other jobs of a shared machine). ``--quick`` runs tiny
versions of each section in about a minute.
"""

import argparse
import gzip
import io
import pickle
import statistics
import time
import warnings

import numpy as np
import torch
from _report import table
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from threadpoolctl import threadpool_limits

from sklearn_histai.deploy import DistilledClassifier, prune, quantize

COLUMNS = ["model", "accuracy", "size MB", "latency ms", "rows/s", "vs original"]


def _size_mb(model):
    """Bytes on disk: the compressed skops file, or the gzipped pickle (``*``)."""
    import zipfile

    import skops.io as sio

    try:
        buffer = io.BytesIO()
        sio.dump(model, buffer, compression=zipfile.ZIP_DEFLATED)
        return f"{buffer.tell() / 1e6:.2f}"
    except Exception:  # noqa: BLE001 - a model skops cannot store as data
        data = gzip.compress(pickle.dumps(model), compresslevel=6)
        return f"{len(data) / 1e6:.2f}*"


def _row(name, model, X_test, y_test, calls, reference=None):
    """Accuracy, size, latency and throughput of one version of a model."""
    one = X_test[:1]
    model.predict(one)  # warm-up: lazy initialisation, caches
    latencies = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict(one)
        latencies.append(time.perf_counter() - start)
    passes, predictions = [], None
    for _ in range(3):
        start = time.perf_counter()
        predictions = model.predict(X_test)
        passes.append(time.perf_counter() - start)
    throughput = len(y_test) / statistics.median(passes)
    ratio = "1.00x" if reference is None else f"{throughput / reference:.2f}x"
    return (
        name,
        f"{accuracy_score(y_test, predictions):.4f}",
        _size_mb(model),
        f"{1e3 * statistics.median(latencies):.2f}",
        f"{throughput:,.0f}",
        ratio,
    ), throughput


def _versions(model, X_train, y_train, amounts, fine_tune_iter, dtypes):
    """The original, quantised and pruned versions of a fitted model."""
    yield "original", model
    for dtype in dtypes:
        yield f"quantize({dtype})", quantize(model, dtype=dtype)
    for structured in (False, True):
        kind = "structured" if structured else "unstructured"
        for amount in amounts:
            pruned = prune(model, amount, structured=structured)
            yield (
                f"prune {kind} {amount:.0%} (sparsity {pruned_sparsity(pruned):.2f})",
                pruned,
            )
            if fine_tune_iter:
                tuned = prune(
                    model,
                    amount,
                    structured=structured,
                    fine_tune_iter=fine_tune_iter,
                    X=X_train,
                    y=y_train,
                )
                yield f"  + fine-tuned {fine_tune_iter} epoch(s)", tuned


def pruned_sparsity(model):
    """The ``sparsity_`` of a pruned estimator or of a pipeline's last step."""
    return getattr(model, "sparsity_", None) or model[-1].sparsity_


def _measure(title, versions, X_test, y_test, calls, curve=None):
    rows, reference = [], None
    for name, model in versions:
        row, throughput = _row(name, model, X_test, y_test, calls, reference)
        reference = reference or throughput
        rows.append(row)
        if curve is not None and name.startswith("prune"):
            curve.append((name.split()[1], pruned_sparsity(model), float(row[1])))
        print("  ", *row, flush=True)
    table(title, rows, COLUMNS)
    return rows


def tabular(args):
    from sklearn_histai.datasets import load_fashion_mnist
    from sklearn_histai.neural_network import FeedForwardClassifier

    X_train, y_train = load_fashion_mnist("train", return_X_y=True)
    X_test, y_test = load_fashion_mnist("test", return_X_y=True)
    X_train = (X_train[: args.fashion_train].reshape(-1, 784) / 255).astype(np.float32)
    X_test = (X_test[: args.fashion_test].reshape(-1, 784) / 255).astype(np.float32)
    y_train, y_test = y_train[: args.fashion_train], y_test[: args.fashion_test]
    start = time.perf_counter()
    model = FeedForwardClassifier(random_state=0).fit(X_train, y_train)
    print(f"feed-forward fitted in {time.perf_counter() - start:.1f} s")
    curve = []
    _measure(
        f"Feed-forward net on Fashion-MNIST ({len(y_train):,} training, "
        f"{len(y_test):,} test images)",
        _versions(
            model,
            X_train,
            y_train,
            args.amounts,
            args.fine_tune_iter,
            ("int8", "bfloat16"),
        ),
        X_test,
        y_test,
        args.latency_calls,
        curve,
    )
    if args.plot:
        _plot(curve, model.score(X_test, y_test), args.plot)


def _plot(curve, original, path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, marker in (("unstructured", "o"), ("structured", "s")):
        points = [(s, a) for k, s, a in curve if k == kind]
        if points:
            ax.plot(*zip(*points), marker=marker, label=f"{kind} pruning")
    ax.axhline(original, color="grey", linestyle="--", label="original")
    ax.set_xlabel("sparsity of the pruned weights")
    ax.set_ylabel("test accuracy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")


def _imdb(args):
    from sklearn_histai.datasets import load_imdb

    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    n, m = args.n_train, args.n_transfer
    return (
        list(X_train[:n]),
        np.asarray(y_train[:n]),
        list(X_test[: args.n_test]),
        np.asarray(y_test[: args.n_test]),
        list(X_train[n : n + m]),
    )


def lstm(args):
    from sklearn_histai.text import make_text_classifier

    X_train, y_train, X_test, y_test, _ = _imdb(args)
    start = time.perf_counter()
    model = make_text_classifier("lstm", random_state=0).fit(X_train, y_train)
    print(f"lstm kind fitted in {time.perf_counter() - start:.1f} s")
    _measure(
        f'The "lstm" kind on IMDB ({len(y_train):,} training, {len(y_test):,} '
        "test reviews)",
        _versions(
            model,
            X_train,
            y_train,
            [0.5],
            args.fine_tune_iter,
            ("int8", "bfloat16"),
        ),
        X_test,
        y_test,
        args.latency_calls,
    )


def transformer(args):
    from sklearn_histai.finetune import TransformerClassifier
    from sklearn_histai.text import make_text_classifier

    X_train, y_train, X_test, y_test, X_transfer = _imdb(args)
    teacher = TransformerClassifier(
        max_length=args.max_length,
        truncation="pre",
        max_iter=args.epochs,
        random_state=0,
    )
    start = time.perf_counter()
    teacher.fit(X_train, y_train)
    print(f"LoRA transformer fitted in {time.perf_counter() - start:.1f} s")
    _measure(
        f"LoRA transformer on IMDB ({len(y_train):,} training, {len(y_test):,} "
        f"test reviews, last {args.max_length} tokens)",
        _versions(teacher, X_train, y_train, [0.3, 0.5], 0, ("int8",)),
        X_test,
        y_test,
        args.latency_calls,
    )
    student = make_text_classifier("embedding", random_state=0)
    rows = []
    start = time.perf_counter()
    hard = clone(student).fit(X_train, y_train)
    rows.append(("embedding kind, hard labels", hard, time.perf_counter() - start))
    for name, transfer in (
        ("distilled", None),
        (f"distilled + {len(X_transfer):,} unlabelled", X_transfer),
    ):
        distilled = DistilledClassifier(
            teacher, clone(student), prefit=True, random_state=0
        )
        start = time.perf_counter()
        distilled.fit(X_train, y_train, X_transfer=transfer)
        rows.append((name, distilled, time.perf_counter() - start))
    measured = []
    _, base_throughput = _row("teacher", teacher, X_test, y_test, args.latency_calls)
    for name, model, seconds in rows:
        row, _ = _row(name, model, X_test, y_test, args.latency_calls)
        measured.append(
            (
                *row[:-1],
                f"{float(row[4].replace(',', '')) / base_throughput:.1f}x",
                f"{seconds:.0f}",
            )
        )
    table(
        "Distilling the LoRA transformer into the embedding kind (throughput "
        "against the teacher's)",
        measured,
        [*COLUMNS[:-1], "vs teacher", "fit s"],
    )


SECTIONS = {"tabular": tabular, "lstm": lstm, "transformer": transformer}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS))
    parser.add_argument("--fashion-train", type=int, default=20000)
    parser.add_argument("--fashion-test", type=int, default=10000)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-transfer", type=int, default=4000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--amounts", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9]
    )
    parser.add_argument("--fine-tune-iter", type=int, default=2)
    parser.add_argument("--latency-calls", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.fashion_train, args.fashion_test = 2000, 1000
        args.n_train, args.n_test, args.n_transfer = 200, 200, 200
        args.max_length, args.epochs, args.latency_calls = 32, 1, 5
        args.amounts, args.fine_tune_iter = [0.5, 0.9], 1
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    with threadpool_limits(args.threads):
        for section in args.sections:
            SECTIONS[section](args)


if __name__ == "__main__":
    main()
