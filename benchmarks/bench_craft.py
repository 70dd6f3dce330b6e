"""The training craft, measured: augmentation, adversarial training, their cost.

Sections (``--sections``; all by default), each printing a table of medians
over ``--seeds`` seeds:

- ``cost``: the time of a training epoch with each option, as a ratio to the
  same estimator without it (round-robin medians of ``--repeats`` fits of
  two epochs): a feed-forward net (15,000 x 50 rows), the CNN (5,000
  Fashion-MNIST images, or digits without the data set) and a bidirectional
  LSTM over token ids (1,024 rows of up to 128 ids).
- ``fashion``: the default CNN on Fashion-MNIST (60,000/10,000, batches of
  64, at most 15 epochs as ``bench_neural_network.py`` runs it, or
  ``--fashion-max-iter``; early stopping on a held-out tenth) with and
  without image augmentation (``--fashion-augmentations``): test accuracy,
  epochs run, seconds per epoch.
- ``robustness``: test accuracy under the fast gradient method's attack
  (:func:`~sklearn_histai.neural_network.adversarial_examples`) of growing
  L2 radius, for a CNN trained as usual, with ``adversarial="fgm"`` and
  with ``adversarial="pgd"``: on digits (8x8) and on Fashion-MNIST
  (the first ``--fashion-train`` training images, the 10,000 test images).
- ``imdb``: small-data text classification on IMDB (the first ``--n-train``
  reviews of ``load_imdb("train")``, tested on the 5,000 reviews of
  ``load_imdb("test")``) for the "embedding" and "cnn" kinds of
  :func:`~sklearn_histai.text.make_text_classifier`: as is, with
  ``augmentation="eda"`` (Wei & Zou, 2019: one of the four operations per
  review, or none) and with FGM training on the embeddings.
- ``transformer``: the LoRA transformer (the default ``TransformerClassifier``)
  with and without FGM on its word embeddings, on a slice of IMDB
  (``--transformer-slice``, the last ``--max-length`` tokens of each review).

Run ``python benchmarks/bench_craft.py [--quick] [--sections cost imdb ...]``.
Results measured on a two-core CPU shared with other jobs are in the user
guide's "Training craft" page.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from _report import table
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    LSTMClassifier,
    adversarial_examples,
)

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", message=".*did not fit the data.*")

EDA = "eda"


def _median(values):
    return statistics.median(values)


def _fashion(n_train=None, n_test=None):
    """Fashion-MNIST scaled to [0, 1], or None when the data set is absent."""
    try:
        from sklearn_histai.datasets import load_fashion_mnist

        X_train, y_train = load_fashion_mnist("train", return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", return_X_y=True)
    except (FileNotFoundError, ImportError) as exc:
        print(f"(Fashion-MNIST skipped: {exc})")
        return None
    X_train = (X_train[:n_train] / 255).astype(np.float32)
    X_test = (X_test[:n_test] / 255).astype(np.float32)
    return X_train, y_train[:n_train], X_test, y_test[:n_test]


def _digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return train_test_split(X, y, random_state=0, stratify=y)


# -- cost ---------------------------------------------------------------------


def _epoch_seconds(estimator, X, y):
    estimator.fit(X, y)
    # The first epoch pays for warm-up; the second is the steady state.
    return estimator.history_[-1]["dur"]


def bench_cost(repeats, quick):
    torch.set_num_threads(1)
    X_tab, y_tab = make_classification(
        3000 if quick else 15_000, 50, n_informative=20, random_state=0
    )
    X_tab = X_tab.astype(np.float32)
    fashion = _fashion(n_train=1000 if quick else 5000)
    if fashion is None:
        X_img, _, y_img, _ = _digits()
        shape = (1, 8, 8)
    else:
        X_img, y_img = fashion[0], fashion[1]
        shape = (1, 28, 28)
    rng = np.random.RandomState(0)
    n_rows = 256 if quick else 1024
    lengths = rng.randint(32, 129, size=n_rows)
    X_tok = np.zeros((n_rows, 128), dtype=np.int64)
    for i, length in enumerate(lengths):
        X_tok[i, :length] = rng.randint(4, 5000, size=length)
    y_tok = (X_tok[:, 0] % 2).astype(int)
    common = dict(
        max_iter=2,
        early_stopping=False,
        n_iter_no_change=10,
        tol=0,
        random_state=0,
        device="cpu",
    )
    cases = [
        (
            "FeedForwardClassifier",
            FeedForwardClassifier(**common),
            X_tab,
            y_tab,
            [
                ("max_grad_norm=1", dict(max_grad_norm=1.0)),
                ("label_smoothing=0.1", dict(label_smoothing=0.1)),
                ('augmentation="noise"', dict(augmentation="noise")),
                ('augmentation="mixup"', dict(augmentation="mixup")),
                ('adversarial="fgm"', dict(adversarial="fgm")),
                ('adversarial="pgd" (3 steps)', dict(adversarial="pgd")),
            ],
        ),
        (
            "CNNClassifier (images)",
            CNNClassifier(image_shape=shape, batch_size=64, **common),
            X_img,
            y_img,
            [
                ("max_grad_norm=1", dict(max_grad_norm=1.0)),
                ('augmentation="shift"', dict(augmentation="shift")),
                (
                    'augmentation=["shift", "rotate"]',
                    dict(augmentation=["shift", "rotate"]),
                ),
                ('adversarial="fgm"', dict(adversarial="fgm")),
                ('adversarial="pgd" (3 steps)', dict(adversarial="pgd")),
            ],
        ),
        (
            "LSTMClassifier (token ids)",
            LSTMClassifier(vocab_size=5000, batch_size=64, **common),
            X_tok,
            y_tok,
            [
                ("max_grad_norm=1", dict(max_grad_norm=1.0)),
                ('augmentation="eda"', dict(augmentation=EDA)),
                ('adversarial="fgm"', dict(adversarial="fgm")),
                ('adversarial="pgd" (3 steps)', dict(adversarial="pgd")),
            ],
        ),
    ]
    rows = []
    for name, base, X, y, options in cases:
        contenders = [("none", base)] + [
            (label, clone(base).set_params(**params)) for label, params in options
        ]
        times = [[] for _ in contenders]
        for _ in range(repeats):
            for (_, estimator), measured in zip(contenders, times):
                measured.append(_epoch_seconds(clone(estimator), X, y))
        reference = _median(times[0])
        for (label, _), measured in zip(contenders, times):
            seconds = _median(measured)
            rows.append((name, label, f"{seconds:.3f}", f"{seconds / reference:.2f}"))
    table(
        f"Cost of an epoch (median of {repeats}, one thread)",
        rows,
        ["estimator", "option", "epoch s", "ratio"],
    )


# -- Fashion-MNIST ---------------------------------------------------------------


def bench_fashion(seeds, quick, augmentations, max_iter):
    torch.set_num_threads(1)
    data = _fashion(n_train=6000 if quick else None)
    if data is None:
        return
    X_train, y_train, X_test, y_test = data
    rows = []
    for label in augmentations:
        augmentation = None if label == "none" else label.split("+")
        scores, epochs, per_epoch = [], [], []
        for seed in seeds:
            clf = CNNClassifier(
                image_shape=(1, 28, 28),
                batch_size=64,
                max_iter=3 if quick else max_iter,
                augmentation=augmentation,
                random_state=seed,
            ).fit(X_train, y_train)
            scores.append(clf.score(X_test, y_test))
            epochs.append(clf.n_iter_)
            per_epoch.append(_median([row["dur"] for row in clf.history_]))
            print(f"  fashion {label} seed {seed}: {scores[-1]:.4f}", flush=True)
        rows.append(
            (
                label,
                f"{_median(scores):.4f}",
                f"{min(scores):.4f}-{max(scores):.4f}",
                f"{_median(epochs):g}",
                f"{_median(per_epoch):.1f}",
            )
        )
    table(
        f"Fashion-MNIST, default CNN, batches of 64, at most {max_iter} epochs "
        f"({len(X_train)} train / {len(X_test)} test, seeds {list(seeds)})",
        rows,
        ["augmentation", "test acc", "range", "epochs", "s/epoch"],
    )


# -- robustness --------------------------------------------------------------------


def _robustness(name, X_train, y_train, X_test, y_test, shape, epsilons, train_eps):
    rows = []
    variants = [
        ("standard", {}),
        (f"fgm, eps={train_eps:g}", dict(adversarial="fgm")),
        (f"pgd, eps={train_eps:g}, 3 steps", dict(adversarial="pgd")),
    ]
    for label, params in variants:
        clf = CNNClassifier(
            image_shape=shape,
            adversarial_epsilon=train_eps,
            random_state=0,
            **params,
        )
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        accuracies = [
            clf.score(
                adversarial_examples(clf, X_test, y_test, epsilon=eps)
                if eps > 0
                else X_test,
                y_test,
            )
            for eps in epsilons
        ]
        rows.append(
            (
                label,
                f"{fit_seconds:.0f}",
                *(f"{accuracy:.3f}" for accuracy in accuracies),
            )
        )
    table(
        f"{name}: test accuracy under an FGM attack of L2 radius eps",
        rows,
        ["training", "fit s", *(f"eps={eps:g}" for eps in epsilons)],
    )


def bench_robustness(quick, fashion_train):
    torch.set_num_threads(1)
    X_train, X_test, y_train, y_test = _digits()
    _robustness(
        "Digits (8x8, pixels in [0, 1])",
        X_train,
        y_train,
        X_test,
        y_test,
        (1, 8, 8),
        [0, 0.5, 1.0, 1.5, 2.0],
        1.0,
    )
    data = _fashion(n_train=500 if quick else fashion_train)
    if data is not None:
        X_train, y_train, X_test, y_test = data
        _robustness(
            f"Fashion-MNIST ({len(X_train)} train / {len(X_test)} test images)",
            X_train,
            y_train,
            X_test,
            y_test,
            (1, 28, 28),
            [0, 0.5, 1.0, 2.0, 3.0],
            2.0,
        )


# -- IMDB --------------------------------------------------------------------------


def bench_imdb(seeds, sizes, kinds, quick, chosen):
    from sklearn_histai.datasets import load_imdb
    from sklearn_histai.text import make_text_classifier

    torch.set_num_threads(1)
    X_all, y_all = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    if quick:
        X_test, y_test = X_test[:500], y_test[:500]
    settings = [
        ("none", {}),
        ("EDA", {"classifier__augmentation": EDA}),
        ("fgm", {"classifier__adversarial": "fgm"}),
    ]
    settings = [setting for setting in settings if setting[0] in chosen]
    rows = []
    for n_train in sizes:
        X, y = X_all[:n_train], y_all[:n_train]
        for kind in kinds:
            for label, params in settings:
                scores, seconds = [], []
                for seed in seeds:
                    clf = make_text_classifier(kind, random_state=seed, **params)
                    start = time.perf_counter()
                    clf.fit(X, y)
                    seconds.append(time.perf_counter() - start)
                    scores.append(clf.score(X_test, y_test))
                    print(
                        f"  imdb {n_train} {kind} {label} seed {seed}: "
                        f"{scores[-1]:.4f} in {seconds[-1]:.0f} s",
                        flush=True,
                    )
                rows.append(
                    (
                        n_train,
                        kind,
                        label,
                        f"{_median(scores):.4f}",
                        f"{min(scores):.4f}-{max(scores):.4f}",
                        f"{_median(seconds):.0f}",
                    )
                )
    table(
        f"IMDB with few labels (tested on {len(X_test)} reviews, seeds {list(seeds)})",
        rows,
        ["n_train", "kind", "craft", "test acc", "range", "fit s"],
    )


def bench_transformer(
    seeds, n_train, n_test, max_length, epochs, epsilons, baseline=True
):
    from sklearn_histai.datasets import load_imdb
    from sklearn_histai.finetune import TransformerClassifier

    torch.set_num_threads(1)
    X, y = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    X, y = X[:n_train], y[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    rows = []
    settings = ([("none", {})] if baseline else []) + [
        (f"fgm, eps={eps:g}", dict(adversarial="fgm", adversarial_epsilon=eps))
        for eps in epsilons
    ]
    for label, params in settings:
        scores, seconds = [], []
        for seed in seeds:
            clf = TransformerClassifier(
                max_length=max_length,
                truncation="pre",
                max_iter=epochs,
                random_state=seed,
                **params,
            )
            start = time.perf_counter()
            clf.fit(X, y)
            seconds.append(time.perf_counter() - start)
            scores.append(clf.score(X_test, y_test))
            print(f"  lora {label} seed {seed}: {scores[-1]:.4f}", flush=True)
        rows.append(
            (
                label,
                f"{_median(scores):.4f}",
                f"{min(scores):.4f}-{max(scores):.4f}",
                f"{_median(seconds):.0f}",
            )
        )
    table(
        f"LoRA transformer on IMDB ({n_train} train / {n_test} test reviews, "
        f"last {max_length} tokens, {epochs} epochs, seeds {list(seeds)})",
        rows,
        ["adversarial", "test acc", "range", "fit s"],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, for CI")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["cost", "robustness", "imdb", "fashion", "transformer"],
        choices=["cost", "robustness", "imdb", "fashion", "transformer"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--kinds", nargs="+", default=["embedding", "cnn"])
    parser.add_argument(
        "--imdb-settings",
        nargs="+",
        default=["none", "EDA", "fgm"],
        choices=["none", "EDA", "fgm"],
    )
    parser.add_argument(
        "--transformer-slice", type=int, nargs=2, default=[400, 300], metavar="N"
    )
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--fashion-train", type=int, default=2000)
    parser.add_argument("--fashion-max-iter", type=int, default=15)
    parser.add_argument(
        "--fashion-augmentations",
        nargs="+",
        default=["none", "shift", "shift+rotate"],
        help="augmentations of the Fashion-MNIST section; + joins names",
    )
    parser.add_argument("--transformer-epochs", type=int, default=3)
    parser.add_argument(
        "--transformer-epsilons", type=float, nargs="+", default=[0.2, 1.0]
    )
    parser.add_argument(
        "--transformer-baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fit the transformer without adversarial training",
    )
    args = parser.parse_args()
    quick = args.quick
    seeds = args.seeds[:1] if quick else args.seeds
    if "cost" in args.sections:
        bench_cost(1 if quick else args.repeats, quick)
    if "robustness" in args.sections:
        bench_robustness(quick, args.fashion_train)
    if "imdb" in args.sections:
        sizes = [200] if quick else args.sizes
        bench_imdb(seeds, sizes, args.kinds, quick, args.imdb_settings)
    if "fashion" in args.sections:
        bench_fashion(seeds, quick, args.fashion_augmentations, args.fashion_max_iter)
    if "transformer" in args.sections:
        n_train, n_test = (40, 40) if quick else args.transformer_slice
        bench_transformer(
            seeds,
            n_train,
            n_test,
            args.max_length,
            1 if quick else args.transformer_epochs,
            args.transformer_epsilons,
            args.transformer_baseline,
        )


if __name__ == "__main__":
    main()
