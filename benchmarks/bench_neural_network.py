"""Benchmark the neural estimators against a hand-written loop, skorch and sklearn.

Prints, in one run on the same data:

1. training time per epoch of a feed-forward net (20k x 50, one hidden layer
   of 100, batch 200, Adam): this package, a hand-written torch loop, skorch's
   default ``NeuralNetClassifier`` and scikit-learn's ``MLPClassifier``;
2. ``predict`` time on 5k rows against a single plain forward pass and skorch;
3. the thread-count trap: training with ``num_threads="auto"`` against torch's
   default thread count while another process keeps one core busy;
4. the CNN and LSTM on digits and (when installed) the CNN on Fashion-MNIST,
   with test accuracy;
5. an epoch of a bidirectional LSTM over token ids (the text "lstm" kind's
   network, rows of up to 256 tokens): a hand-written loop over the
   textbook module (``nn.LSTM`` on packed sequences) as torch runs it by
   default and with subnormal floats flushed to zero, the same loop over
   this package's module (padding masked without packing, flushed), and
   ``LSTMClassifier``;
6. ``small``: the demo's comparison (``python -m sklearn_histai.compare
   --tasks breast_cancer wine diabetes digits --estimators
   FeedForwardClassifier FeedForwardRegressor``): each feed-forward
   estimator with its defaults and scikit-learn's ``MLPClassifier`` /
   ``MLPRegressor`` with theirs, in a ``StandardScaler`` pipeline on the
   same 5 folds, one thread. Printed: fit + predict ms per fold (medians of
   interleaved repeats), their ratio, the scores and the epochs each ran,
   and the "torch floor": the shortest correct torch loop (the same network
   in the same precision, fused Adam, batches of 200) over the same folds
   for the epochs ours ran, as a ratio to the peer: what any torch
   implementation of the network pays per epoch.

Run ``python benchmarks/bench_neural_network.py [--quick] [--sections ...]``.
"""

import argparse
import functools
import multiprocessing
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
)
from sklearn_histai.nn import RecurrentNet

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_median_times(fns, repeats):
    """Median time of each of ``fns``, run in turn ``repeats`` times.

    Running the contenders round-robin spreads any drift of a shared
    machine (other jobs, CPU frequency) over all of them alike.
    """
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, measured in zip(fns, times):
            start = time.perf_counter()
            fn()
            measured.append(time.perf_counter() - start)
    return [statistics.median(measured) for measured in times]


def hand_written_loop(
    X, y, epochs, batch_size=200, seed=0, fused=None, make_module=None, loss_fn=None
):
    """The reference: the shortest correct torch training loop.

    ``fused=True`` takes torch's fused Adam, as this package does.
    ``make_module`` builds the network (default: one hidden layer of 100);
    ``loss_fn`` is the loss (default: cross-entropy).
    """
    torch.manual_seed(seed)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    if make_module is None:
        model = nn.Sequential(nn.Linear(X.shape[1], 100), nn.ReLU(), nn.Linear(100, 2))
    else:
        model = make_module()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    if loss_fn is None:
        loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for start in range(0, len(X), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(X[index]), y[index])
            loss.backward()
            optimizer.step()
            loss.item()
    return model


def table(title, rows, columns):
    print(f"\n{title}")
    widths = [
        max(len(str(c)), *(len(f"{r[i]}") for r in rows)) for i, c in enumerate(columns)
    ]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(f"{v}".ljust(w) for v, w in zip(row, widths)))


def bench_feedforward(repeats, epochs):
    X, y = make_classification(20_000, 50, n_informative=20, random_state=0)
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    torch.set_num_threads(1)

    # Every contender trains on the same 15k rows with no held-out scoring
    # (the loop has none; early_stopping="auto" would hold out a tenth).
    ours = FeedForwardClassifier(
        max_iter=epochs,
        tol=0,
        n_iter_no_change=epochs,
        batch_size=200,
        early_stopping=False,
        random_state=0,
    )
    sk = MLPClassifier(
        max_iter=epochs, tol=0, n_iter_no_change=epochs, batch_size=200, random_state=0
    )
    from skorch import NeuralNetClassifier

    class Module(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(50, 100), nn.ReLU(), nn.Linear(100, 2))

        def forward(self, X):
            return self.net(X)

    skorch_net = NeuralNetClassifier(
        Module,
        max_epochs=epochs,
        batch_size=200,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        criterion=nn.CrossEntropyLoss,
        train_split=None,
        verbose=0,
    )
    hand_written_loop(X_train[:400], y_train[:400], 1)  # warm-up: torch's lazy imports
    t_hand, t_fused, t_ours, t_skorch, t_sk = interleaved_median_times(
        [
            lambda: hand_written_loop(X_train, y_train, epochs),
            lambda: hand_written_loop(X_train, y_train, epochs, fused=True),
            lambda: ours.fit(X_train, y_train),
            lambda: skorch_net.fit(X_train, y_train),
            lambda: sk.fit(X_train, y_train),
        ],
        repeats,
    )
    acc_ours = ours.score(X_test, y_test)
    acc_sk = sk.score(X_test, y_test)
    acc_skorch = (skorch_net.predict(X_test) == y_test).mean()
    rows = [
        ("hand-written torch loop", f"{1e3 * t_hand / epochs:.1f}", "1.00", "-"),
        (
            "hand-written loop, fused Adam",
            f"{1e3 * t_fused / epochs:.1f}",
            f"{t_fused / t_hand:.2f}",
            "-",
        ),
        (
            "sklearn_histai FeedForwardClassifier",
            f"{1e3 * t_ours / epochs:.1f}",
            f"{t_ours / t_hand:.2f}",
            f"{acc_ours:.4f}",
        ),
        (
            "skorch NeuralNetClassifier (defaults)",
            f"{1e3 * t_skorch / epochs:.1f}",
            f"{t_skorch / t_hand:.2f}",
            f"{acc_skorch:.4f}",
        ),
        (
            "scikit-learn MLPClassifier",
            f"{1e3 * t_sk / epochs:.1f}",
            f"{t_sk / t_hand:.2f}",
            f"{acc_sk:.4f}",
        ),
    ]
    table(
        f"Feed-forward training, 15k x 50 float32, {epochs} epochs, batch 200, "
        f"median of {repeats} (ms per epoch; ratio to the hand-written loop)",
        rows,
        ["implementation", "ms/epoch", "ratio", "test accuracy"],
    )

    # Equal accuracy: the epochs (and time, at the medians above) this
    # package needs to reach the test accuracy of MLPClassifier's run.
    for n_epochs in range(1, epochs + 1):
        early = FeedForwardClassifier(
            **{**ours.get_params(), "max_iter": n_epochs, "n_iter_no_change": n_epochs}
        ).fit(X_train, y_train)
        if early.score(X_test, y_test) >= acc_sk:
            break
    table(
        f"Time to scikit-learn MLPClassifier's test accuracy ({acc_sk:.4f})",
        [
            ("scikit-learn MLPClassifier", epochs, f"{1e3 * t_sk:.0f}", "1.00"),
            (
                "sklearn_histai FeedForwardClassifier",
                n_epochs,
                f"{1e3 * t_ours * n_epochs / epochs:.0f}",
                f"{t_ours * n_epochs / epochs / t_sk:.2f}",
            ),
        ],
        ["implementation", "epochs", "ms", "ratio"],
    )

    X_pred = X[:5000]
    module = ours.net_.module_.eval()

    def plain_forward():
        with torch.inference_mode():
            module(torch.from_numpy(X_pred)).softmax(1).numpy()

    t_plain, t_pred, t_skorch_pred, t_sk_pred = interleaved_median_times(
        [
            plain_forward,
            lambda: ours.predict_proba(X_pred),
            lambda: skorch_net.predict_proba(X_pred),
            lambda: sk.predict_proba(X_pred),
        ],
        20,
    )
    rows = [
        ("plain forward pass", f"{1e3 * t_plain:.2f}", "1.00"),
        (
            "sklearn_histai predict_proba",
            f"{1e3 * t_pred:.2f}",
            f"{t_pred / t_plain:.2f}",
        ),
        (
            "skorch predict_proba",
            f"{1e3 * t_skorch_pred:.2f}",
            f"{t_skorch_pred / t_plain:.2f}",
        ),
        (
            "scikit-learn MLPClassifier",
            f"{1e3 * t_sk_pred:.2f}",
            f"{t_sk_pred / t_plain:.2f}",
        ),
    ]
    table(
        "Prediction on 5,000 rows (ms; ratio to a plain forward pass)",
        rows,
        ["implementation", "ms", "ratio"],
    )


def _busy(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def bench_threads(repeats):
    X, y = make_classification(4000, 20, random_state=0)
    X = X.astype(np.float32)
    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
    rows = []
    for label, contention in [("idle machine", False), ("one core kept busy", True)]:
        if contention:
            busy.start()
        torch.set_num_threads(multiprocessing.cpu_count())
        t_auto = median_time(
            lambda: FeedForwardClassifier(
                max_iter=5, n_iter_no_change=5, tol=0, random_state=0
            ).fit(X, y),
            repeats,
        )
        t_all = median_time(
            lambda: FeedForwardClassifier(
                max_iter=5,
                n_iter_no_change=5,
                tol=0,
                random_state=0,
                num_threads=multiprocessing.cpu_count(),
            ).fit(X, y),
            repeats,
        )
        rows.append((label, f"{t_auto:.3f}", f"{t_all:.3f}", f"{t_all / t_auto:.2f}"))
    stop.set()
    busy.join()
    table(
        f"Thread-count trap: 5 epochs on 4k x 20 (s, median of {repeats})",
        rows,
        [
            "condition",
            'num_threads="auto"',
            f"{multiprocessing.cpu_count()} threads",
            "slowdown avoided",
        ],
    )


def bench_images(quick):
    # Digits: every model with its defaults (early stopping on a held-out
    # tenth for ours, 200 epochs at most for all).
    torch.set_num_threads(1)
    rows = []
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    for name, est in [
        (
            "CNNClassifier digits (1, 8, 8)",
            CNNClassifier(image_shape=(1, 8, 8), random_state=0),
        ),
        (
            "LSTMClassifier digits 8 steps x 8",
            LSTMClassifier(n_features_per_step=8, random_state=0),
        ),
        (
            "FeedForwardClassifier digits",
            FeedForwardClassifier(random_state=0),
        ),
        ("sklearn MLPClassifier digits", MLPClassifier(random_state=0)),
    ]:
        start = time.perf_counter()
        est.fit(X_train, y_train)
        rows.append(
            (
                name,
                f"{time.perf_counter() - start:.1f}",
                f"{est.score(X_test, y_test):.4f}",
            )
        )
    try:
        from sklearn_histai.datasets import load_fashion_mnist

        X_train, y_train = load_fashion_mnist("train", return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", return_X_y=True)
    except FileNotFoundError as exc:
        print(f"\n(Fashion-MNIST skipped: {exc})")
    else:
        if quick:
            X_train, y_train = X_train[:6000], y_train[:6000]
        X_train = (X_train / 255).astype(np.float32)
        X_test = (X_test / 255).astype(np.float32)
        for name, est in [
            (
                "CNNClassifier Fashion-MNIST",
                CNNClassifier(
                    image_shape=(1, 28, 28),
                    max_iter=3 if quick else 15,
                    batch_size=64,
                    random_state=0,
                    verbose=0,
                ),
            ),
            (
                "sklearn MLPClassifier Fashion-MNIST",
                MLPClassifier(max_iter=3 if quick else 15, random_state=0),
            ),
        ]:
            start = time.perf_counter()
            est.fit(X_train, y_train)
            rows.append(
                (
                    name,
                    f"{time.perf_counter() - start:.1f}",
                    f"{est.score(X_test, y_test):.4f}",
                )
            )
    table(
        "Images and sequences (fit seconds, test accuracy)",
        rows,
        ["model", "fit s", "test accuracy"],
    )


def token_sequences(n_rows, vocab_size, max_length, seed=0):
    """Right-padded rows of token ids whose label is carried by early tokens.

    Lengths are spread like those of IMDB reviews cut at ``max_length``;
    the label depends on the first tokens of each row, so that the gradient
    must travel back through the whole sequence.
    """
    rng = np.random.RandomState(seed)
    lengths = np.clip(rng.lognormal(np.log(180), 0.6, n_rows), 10, max_length)
    X = np.zeros((n_rows, max_length), dtype=np.int64)
    y = rng.randint(2, size=n_rows)
    for i, length in enumerate(lengths.astype(int)):
        X[i, :length] = rng.randint(3, vocab_size, size=length)
        X[i, :3] = 1 + y[i]
    return X, y


class PackedLSTMNet(nn.Module):
    """The textbook recipe: embeddings, ``nn.LSTM`` on packed sequences, a head."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 64, padding_idx=0)
        self.lstm = nn.LSTM(64, 64, bidirectional=True, batch_first=True)
        self.head = nn.Linear(128, 2)

    def forward(self, X):
        lengths = (X != 0).sum(dim=1).clamp(min=1)
        packed = pack_padded_sequence(
            self.embedding(X), lengths, batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)
        return self.head(torch.cat([hidden[-2], hidden[-1]], dim=1))


def ours_lstm_net(vocab_size):
    return RecurrentNet(
        None,
        2,
        cell="lstm",
        hidden_size=64,
        bidirectional=True,
        vocab_size=vocab_size,
        embedding_dim=64,
        padding_value=0,
    )


def recurrent_loop(X, y, make_module, flush):
    """One epoch of the hand-written loop; ``flush`` flushes subnormal floats."""
    torch.set_flush_denormal(flush)
    try:
        return hand_written_loop(X, y, 1, batch_size=64, make_module=make_module)
    finally:
        torch.set_flush_denormal(False)


def bench_recurrent(repeats, n_rows):
    vocab_size, max_length = 5000, 256
    X, y = token_sequences(n_rows, vocab_size, max_length)
    torch.set_num_threads(1)
    ours = LSTMClassifier(
        vocab_size=vocab_size,
        embedding_dim=64,
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        max_iter=1,
        batch_size=64,
        early_stopping=False,
        random_state=0,
    )

    def packed():
        return PackedLSTMNet(vocab_size)

    def unpacked():
        return ours_lstm_net(vocab_size)

    names = [
        "nn.LSTM, packed sequences",
        "nn.LSTM, packed, subnormals flushed",
        "this package's module, flushed",
        "LSTMClassifier (the same, with skorch)",
    ]
    times = interleaved_median_times(
        [
            lambda: recurrent_loop(X, y, packed, flush=False),
            lambda: recurrent_loop(X, y, packed, flush=True),
            lambda: recurrent_loop(X, y, unpacked, flush=True),
            lambda: ours.fit(X, y),
        ],
        repeats,
    )
    rows = [(name, f"{t:.2f}", f"{t / times[0]:.3f}") for name, t in zip(names, times)]
    table(
        f"Bidirectional LSTM over token ids: one epoch of {n_rows} rows x "
        f"{max_length} (64 units, batch 64, 1 thread; s, median of {repeats}, "
        "round-robin)",
        rows,
        ["training", "epoch s", "ratio to the first row"],
    )


SMALL_TASKS = {
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "diabetes": load_diabetes,
    "digits": load_digits,
}


def demo_fold_run(estimator, X, y, cv, regression):
    """Fit and predict a fresh ``StandardScaler`` pipeline on each fold, as the demo.

    Returns the mean fit + predict seconds per fold, the mean test score
    (accuracy or R²) and the epochs run on each fold.
    """
    seconds, scores, epochs = [], [], []
    for train, test in cv.split(X, y):
        model = make_pipeline(StandardScaler(), clone(estimator))
        start = time.perf_counter()
        model.fit(X[train], y[train])
        predicted = model.predict(X[test])
        seconds.append(time.perf_counter() - start)
        score = r2_score if regression else accuracy_score
        scores.append(score(y[test], predicted))
        epochs.append(model[-1].n_iter_)
    return statistics.mean(seconds), statistics.mean(scores), epochs


def float64_mlp(n_features, n_outputs):
    """The network of the feed-forward estimators' defaults, in float64."""
    return nn.Sequential(
        nn.Linear(n_features, 100), nn.ReLU(), nn.Linear(100, n_outputs)
    ).double()


def torch_floor_run(X, y, cv, regression, epochs):
    """The shortest correct torch loop over the folds, ``epochs[i]`` on fold ``i``.

    The network of the feed-forward estimators (one hidden layer of 100,
    float64 like the scaled rows), fused Adam, batches of 200, the same
    standardisation (of the targets too, for regression) and a prediction
    of the test rows. Returns the mean seconds per fold.
    """
    seconds = []
    for (train, test), n_epochs in zip(cv.split(X, y), epochs):
        start = time.perf_counter()
        scaler = StandardScaler().fit(X[train])
        X_train = scaler.transform(X[train])
        if regression:
            targets = (y[train] - y[train].mean()) / y[train].std()
            targets, n_outputs, loss_fn = targets[:, None], 1, nn.MSELoss()
        else:
            targets, n_outputs, loss_fn = y[train], len(np.unique(y)), None
        model = hand_written_loop(
            X_train,
            targets,
            n_epochs,
            fused=True,
            loss_fn=loss_fn,
            make_module=functools.partial(float64_mlp, X.shape[1], n_outputs),
        )
        with torch.inference_mode():
            model(torch.from_numpy(scaler.transform(X[test])))
        seconds.append(time.perf_counter() - start)
    return statistics.mean(seconds)


def bench_small(repeats):
    """The demo's feed-forward rows against scikit-learn's MLPs, one thread."""
    torch.set_num_threads(1)
    rows = []
    with threadpool_limits(1):
        for task, loader in SMALL_TASKS.items():
            X, y = loader(return_X_y=True)
            regression = task == "diabetes"
            splitter = KFold if regression else StratifiedKFold
            cv = splitter(n_splits=5, shuffle=True, random_state=0)
            ours = (FeedForwardRegressor if regression else FeedForwardClassifier)(
                random_state=0
            )
            peer = (MLPRegressor if regression else MLPClassifier)(random_state=0)
            times = {"ours": [], "peer": [], "floor": []}
            for _ in range(repeats):
                t_ours, s_ours, e_ours = demo_fold_run(ours, X, y, cv, regression)
                t_peer, s_peer, e_peer = demo_fold_run(peer, X, y, cv, regression)
                t_floor = torch_floor_run(X, y, cv, regression, e_ours)
                times["ours"].append(t_ours)
                times["peer"].append(t_peer)
                times["floor"].append(t_floor)
            t_ours, t_peer, t_floor = (
                statistics.median(times[name]) for name in ("ours", "peer", "floor")
            )
            rows.append(
                (
                    task,
                    type(ours).__name__,
                    f"{1e3 * t_ours:.1f}",
                    f"{1e3 * t_peer:.1f}",
                    f"{t_ours / t_peer:.2f}",
                    f"{t_floor / t_peer:.2f}",
                    f"{s_ours:.4f}",
                    f"{s_peer:.4f}",
                    f"{statistics.mean(e_ours):.1f}",
                    f"{statistics.mean(e_peer):.1f}",
                )
            )
    table(
        f"The demo's feed-forward rows: fit + predict ms per fold (5 folds, "
        f"StandardScaler pipeline, defaults, 1 thread, median of {repeats} "
        "interleaved runs); ratio = ours / MLP (<= 1: no slower); torch floor = "
        "the shortest torch loop for our epochs / MLP",
        rows,
        [
            "task",
            "estimator",
            "ours ms",
            "MLP ms",
            "ratio",
            "torch floor",
            "score",
            "MLP score",
            "epochs",
            "MLP epochs",
        ],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and epochs")
    parser.add_argument("--repeats", type=int, default=5, help="runs per median")
    parser.add_argument(
        "--sections",
        nargs="*",
        choices=["feedforward", "threads", "images", "recurrent", "small"],
        default=["feedforward", "threads", "images", "recurrent", "small"],
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    if "feedforward" in args.sections:
        bench_feedforward(repeats, epochs=3 if args.quick else 10)
    if "threads" in args.sections:
        bench_threads(repeats)
    if "images" in args.sections:
        bench_images(args.quick)
    if "recurrent" in args.sections:
        bench_recurrent(repeats, n_rows=512 if args.quick else 2048)
    if "small" in args.sections:
        bench_small(repeats)


if __name__ == "__main__":
    main()
