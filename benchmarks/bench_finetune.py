"""Fine-tuning methods on IMDB: accuracy, trainable parameters, fit time, pickle size.

Every ``peft_method`` of :class:`~sklearn_histai.finetune.TransformerClassifier`
(on the bundled all-MiniLM-L6-v2 encoder) is trained on the same slice of
IMDB reviews (:func:`~sklearn_histai.datasets.load_imdb`: the first
``--n-train`` reviews of its fixed training split, the first ``--n-test`` of
its test split; both are shuffled, balanced samples), beside this package's
bag-of-words classifier (TF-IDF and logistic regression) and bidirectional
LSTM (:func:`~sklearn_histai.text.make_text_classifier`). Each row is the
median over ``--repeats`` seeds; "vs full" compares with full fine-tuning.

With ``--json PATH`` each run is appended to a file as it ends, so that a
long CPU run can be stopped and resumed (``--resume``) and the table printed
from it (``--table-only``)::

    python benchmarks/bench_finetune.py                     # CPU: 2000/1000 reviews
    python benchmarks/bench_finetune.py --quick             # CI: 200/200, 1 epoch
    python benchmarks/bench_finetune.py --device cuda --mixed-precision bf16 \\
        --n-train 5000 --n-test 2000 --max-length 256

Measured on a shared 2-core CPU with no GPU, 1 torch thread per run, with
two or three other jobs on the cores; the default slice: the first 2,000
reviews of ``load_imdb("train")`` and the first 1,000 of
``load_imdb("test")`` (its fixed 20,000/5,000 split of the 25,000 IMDB
reviews; 1,003 and 496 of them positive), the last 256 tokens of each
review (``--truncation pre``), 3 epochs of batches of 16 (375 optimizer
steps), one seed (0), every other setting the estimator's default::

    method         accuracy vs full   trainable % trained fit (s) pred (s)    pickle
    --------------------------------------------------------------------------------
    full              0.873  +0.000  22,566,146   100.00%    2325     87.2   90.3 MB
    lora              0.882  +0.009     166,658     0.73%    2670     86.3  717.8 KB
    lora (r=8, qkv)   0.845  -0.028     111,362     0.49%    2410    112.6  483.0 KB
    bow               0.859  -0.014      57,766   100.00%       4      1.3    1.8 MB
    lstm              0.766  -0.107   1,346,946   100.00%     311      2.9   22.5 MB

"lora" is the estimator's default: rank 4 on every linear layer of the
transformer blocks; the "r=8, qkv" row is its former default (``--set
lora_r=8 --set 'target_modules=["query", "key", "value"]'``). Against the
targets: LoRA trains 0.73% of the network (under 1%), scores 0.882 (>=
0.85) and is within one point of full fine-tuning (+0.9). One seed and
1,000 test reviews: the standard error of each accuracy is about 0.011.

On a shorter budget (``--max-length 128 --epochs 2``, 250 steps; "lora"
was then rank 8 on query, key and value), under heavier contention::

    method         accuracy vs full   trainable % trained fit (s) pred (s)    pickle
    --------------------------------------------------------------------------------
    full              0.848  +0.000  22,566,146   100.00%     702     48.5   90.3 MB
    lora              0.828  -0.020     111,362     0.49%    1095    104.4  475.7 KB
    adalora           0.829  -0.019     166,874     0.73%    1513     94.9  704.2 KB
    ia3               0.830  -0.018      16,898     0.07%     671     82.9   93.1 KB
    adapter           0.844  -0.004     605,954     2.62%    1386     84.8    2.5 MB
    prefix_tuning     0.829  -0.019      92,930     0.41%    1116     63.3  388.0 KB
    prompt_tuning     0.815  -0.033       8,450     0.04%    1100     73.0   50.1 KB
    head_only         0.758  -0.090         770     0.00%     646     86.5   19.0 KB
    bow               0.859  +0.011      57,766   100.00%       8      2.3    1.8 MB

Seconds are wall-clock under contention and say little about the methods.
The other methods were not rerun on the 256-token budget (about 40 minutes
a method on this CPU).
"""

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_histai.datasets import load_imdb
from sklearn_histai.finetune import TransformerClassifier
from sklearn_histai.finetune._checkpoint import import_transformers
from sklearn_histai.finetune._methods import METHODS, import_peft

BASELINES = ("bow", "lstm")
ORDER = ["full", "lora", "adalora", "ia3", "adapter", "prefix_tuning"]
ORDER += ["prompt_tuning", "head_only"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--truncation", default="pre", choices=["pre", "post"])
    parser.add_argument(
        "--methods", default=",".join(ORDER), help="comma-separated peft methods"
    )
    parser.add_argument(
        "--baselines", default=",".join(BASELINES), help='"bow,lstm" or ""'
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mixed-precision", default="none")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: torch's; use 1 on a busy machine)",
    )
    parser.add_argument(
        "--json", default=None, help="file to append each run to (and resume from)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=JSON",
        help="an estimator parameter of the fine-tuning rows, e.g. lora_r=4 or "
        'target_modules=\'["query", "value"]\' (repeatable)',
    )
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="200/200 reviews, 64 tokens, 1 epoch"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.max_length, args.epochs = 200, 200, 64, 1
    args.params = {}
    for item in args.set:
        key, _, value = item.partition("=")
        args.params[key] = json.loads(value)
    return args


def _precision(value):
    return {"none": False, "true": True}.get(value.lower(), value)


def make_estimator(name, args, seed):
    """The estimator of one row: a peft method or a baseline pipeline."""
    if name in METHODS:
        return TransformerClassifier(
            peft_method=name,
            max_length=args.max_length,
            truncation=args.truncation,
            max_iter=args.epochs,
            batch_size=args.batch_size,
            device=args.device,
            mixed_precision=_precision(args.mixed_precision),
            num_threads="auto" if args.threads is None else args.threads,
            random_state=seed,
            **args.params,
        )
    from sklearn_histai.text import make_text_classifier

    if name == "bow":
        return make_text_classifier("bow")
    return make_text_classifier(
        "lstm",
        random_state=seed,
        classifier__device=args.device,
        classifier__num_threads="auto" if args.threads is None else args.threads,
    )


def _parameters(name, estimator):
    """Trainable and total parameters of a fitted row."""
    if name in METHODS:
        trainable = estimator.n_trainable_parameters_
        return trainable, round(trainable / estimator.trainable_fraction_)
    model = estimator[-1]
    if name == "bow":
        n = model.coef_.size + np.size(model.intercept_)
        return n, n
    n = sum(p.numel() for p in model.net_.module_.parameters())
    return n, n


def run_one(name, args, seed, X, y, X_test, y_test):
    estimator = make_estimator(name, args, seed)
    start = time.perf_counter()
    estimator.fit(X, y)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = float(np.mean(estimator.predict(X_test) == y_test))
    predict_time = time.perf_counter() - start
    trainable, total = _parameters(name, estimator)
    return {
        "name": name,
        "seed": seed,
        "accuracy": accuracy,
        "trainable": int(trainable),
        "total": int(total),
        "fit_s": fit_time,
        "predict_s": predict_time,
        "pickle_bytes": len(pickle.dumps(estimator)),
    }


def _setting(args):
    keys = ("n_train", "n_test", "max_length", "epochs", "batch_size", "truncation")
    keys += ("device", "mixed_precision")
    setting = {key: getattr(args, key) for key in keys}
    if args.params:
        setting["params"] = args.params
    return setting


def load_results(path, setting):
    if path is None or not Path(path).exists():
        return []
    data = json.loads(Path(path).read_text())
    if data.get("setting") != setting:
        sys.exit(f"{path} holds results of another setting: {data.get('setting')}")
    return data["runs"]


def save_results(path, setting, runs):
    if path is None:
        return
    Path(path).write_text(json.dumps({"setting": setting, "runs": runs}, indent=1))


def _size(n_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000


def table(runs):
    """The table of medians, one row per method or baseline."""
    names = [
        name for name in ORDER + list(BASELINES) if any(r["name"] == name for r in runs)
    ]
    rows = {}
    for name in names:
        mine = [r for r in runs if r["name"] == name]
        rows[name] = {
            key: statistics.median(r[key] for r in mine)
            for key in ("accuracy", "trainable", "total", "fit_s", "predict_s")
        } | {"pickle_bytes": statistics.median(r["pickle_bytes"] for r in mine)}
        rows[name]["n"] = len(mine)
    full = rows.get("full")
    header = (
        f"{'method':<14}{'runs':>5}{'accuracy':>10}{'vs full':>9}{'trainable':>12}"
        f"{'% trained':>10}{'fit (s)':>9}{'fit/full':>9}{'pred (s)':>9}"
        f"{'pickle':>10}"
    )
    lines = [header, "-" * len(header)]
    for name, row in rows.items():
        versus = f"{row['accuracy'] - full['accuracy']:+.3f}" if full else "-"
        speed = f"{row['fit_s'] / full['fit_s']:.2f}" if full else "-"
        lines.append(
            f"{name:<14}{row['n']:>5}{row['accuracy']:>10.3f}{versus:>9}"
            f"{row['trainable']:>12,}{100 * row['trainable'] / row['total']:>9.2f}%"
            f"{row['fit_s']:>9.0f}{speed:>9}{row['predict_s']:>9.1f}"
            f"{_size(row['pickle_bytes']):>10}"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    setting = _setting(args)
    # Imported once here, so that no fit time includes the import.
    import_transformers()
    import_peft()
    runs = load_results(args.json, setting) if args.resume or args.table_only else []
    if not args.table_only:
        X, y = load_imdb("train", return_X_y=True)
        X_test, y_test = load_imdb("test", return_X_y=True)
        X, y = X[: args.n_train], y[: args.n_train]
        X_test, y_test = X_test[: args.n_test], y_test[: args.n_test]
        names = [m for m in args.methods.split(",") if m]
        names += [b for b in args.baselines.split(",") if b]
        print(f"IMDB slice: {setting}", flush=True)
        for repeat in range(args.repeats):
            for name in names:
                if any(r["name"] == name and r["seed"] == repeat for r in runs):
                    continue
                run = run_one(name, args, repeat, X, y, X_test, y_test)
                runs.append(run)
                save_results(args.json, setting, runs)
                print(json.dumps(run), flush=True)
    print(f"\nIMDB slice: {setting}")
    print(table(runs))


if __name__ == "__main__":
    main()
