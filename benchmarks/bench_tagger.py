"""UPOS tagging of the Turkish treebanks: SequenceTagger against the baseline.

Data: the 4,851 sentences of ``turkish-treebanks`` (web and Wikipedia),
``sklearn_histai.datasets.load_ud_turkish``; there is no official split, so
the sentences are split with ``train_test_split(test_size=0.2,
random_state=0)`` (3,880 training and 971 test sentences). The baseline
tags each word with its most frequent training tag (unseen words get the
most frequent tag overall). The taggers hold out 10% of the training
sentences for early stopping.

Usage::

    python benchmarks/bench_tagger.py            # the table (minutes on 2 cores)
    python benchmarks/bench_tagger.py --quick    # a slice, seconds
"""

import argparse
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_histai.datasets import load_ud_turkish
from sklearn_histai.text import SequenceTagger, token_accuracy_score

CONFIGS = {
    "BiLSTM": {"char_features": False},
    "BiLSTM + chars": {},
    "BiLSTM + chars + CRF": {"crf": True},
}


def most_frequent_tags(X_train, y_train, X_test):
    by_word, overall = defaultdict(Counter), Counter()
    for words, tags in zip(X_train, y_train):
        for word, tag in zip(words, tags):
            by_word[word][tag] += 1
            overall[tag] += 1
    top = overall.most_common(1)[0][0]
    return [
        [by_word[w].most_common(1)[0][0] if w in by_word else top for w in words]
        for words in X_test
    ]


def unseen_accuracy(X_train, X_test, y_test, y_pred):
    seen = {w for words in X_train for w in words}
    pairs = [
        (t, p)
        for words, tags, predicted in zip(X_test, y_test, y_pred)
        for w, t, p in zip(words, tags, predicted)
        if w not in seen
    ]
    return np.mean([t == p for t, p in pairs]), len(pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small slice")
    parser.add_argument("--repeats", type=int, default=1, help="seeds per tagger")
    parser.add_argument("--max-iter", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only", action="append", choices=list(CONFIGS), help="run these taggers"
    )
    args = parser.parse_args()

    X, y = load_ud_turkish(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    params = dict(
        embedding_dim=100,
        hidden_size=100,
        dropout=0.3,
        batch_size=32,
        learning_rate=2e-3,
        max_iter=args.max_iter,
        early_stopping=True,
        n_iter_no_change=4,
        num_threads=args.threads,
    )
    if args.quick:
        X_train, y_train = X_train[:1000], y_train[:1000]
        X_test, y_test = X_test[:300], y_test[:300]
        params.update(
            embedding_dim=32,
            hidden_size=32,
            char_filters=32,
            max_iter=4,
            learning_rate=0.01,
            early_stopping=False,
        )
    n_tokens = sum(map(len, X_test))
    print(
        f"UD Turkish UPOS: {len(X_train)} training / {len(X_test)} test sentences "
        f"({n_tokens} test tokens), {len(set(t for r in y for t in r))} tags"
    )

    rows = []
    start = time.perf_counter()
    baseline = most_frequent_tags(X_train, y_train, X_test)
    baseline_time = time.perf_counter() - start
    baseline_accuracy = token_accuracy_score(y_test, baseline)
    rows.append(
        (
            "most frequent tag",
            baseline_accuracy,
            unseen_accuracy(X_train, X_test, y_test, baseline)[0],
            baseline_time,
            0,
        )
    )
    for name, config in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        accuracies, unseen, times, epochs = [], [], [], []
        for seed in range(args.repeats):
            tagger = SequenceTagger(**params, **config, random_state=seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tagger.fit(X_train, y_train)
            times.append(time.perf_counter() - start)
            predicted = tagger.predict(X_test)
            accuracies.append(token_accuracy_score(y_test, predicted))
            unseen.append(unseen_accuracy(X_train, X_test, y_test, predicted)[0])
            epochs.append(tagger.n_iter_)
            print(
                f"  {name}, seed {seed}: accuracy {accuracies[-1]:.4f}, "
                f"{tagger.n_iter_} epochs, {times[-1]:.0f} s",
                flush=True,
            )
        rows.append(
            (
                name,
                np.median(accuracies),
                np.median(unseen),
                np.median(times),
                int(np.median(epochs)),
            )
        )

    _, n_unseen = unseen_accuracy(X_train, X_test, y_test, baseline)
    print()
    print(
        f"{'tagger':24s} {'token acc':>9s} {'unseen acc':>10s} {'vs base':>8s} "
        f"{'fit s':>8s} {'epochs':>6s}"
    )
    for name, accuracy, unseen, seconds, n_epochs in rows:
        print(
            f"{name:24s} {accuracy:9.4f} {unseen:10.4f} "
            f"{accuracy / baseline_accuracy:8.3f} {seconds:8.1f} {n_epochs:6d}"
        )
    print(
        f"(unseen: the {n_unseen} test tokens never seen in training; medians of "
        f"{args.repeats} seed(s))"
    )


if __name__ == "__main__":
    main()
