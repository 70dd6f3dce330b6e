"""Few labels, much text: self-training and pretraining on unlabelled IMDB reviews.

Sections (``--sections``; all by default):

- ``curves``: IMDB sentiment with few labels. The first ``--labels``
  reviews of ``load_imdb("train")`` keep their labels (200, 1,000 and 5,000
  by default); the next ``--unlabelled`` reviews are unlabelled text; the
  score is the accuracy on the first ``--n-test`` reviews of
  ``load_imdb("test")``. Per kind of
  :func:`~sklearn_histai.text.make_text_classifier`, each of:

  - ``supervised``: the kind trained on the labelled reviews alone;
  - ``self-training``: scikit-learn's
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier` around the
    kind's classifier, inside the pipeline (its tokenizer or TF-IDF learns
    from all the text; the wrapper adds the unlabelled reviews it predicts
    with a probability of at least ``--threshold``, for at most
    ``--self-training-iter`` rounds);
  - ``word2vec``: a :class:`~sklearn_histai.text.Word2Vec` learnt on all
    the text (labelled and unlabelled reviews, no labels) starts the
    embedding layer (``pretrained=``);
  - ``language model``: an
    :class:`~sklearn_histai.text.LSTMLanguageModel` learnt on all the text
    starts the embedding and LSTM layers of the ``"lstm"`` kind (ULMFiT);
  - ``LM embeddings``: its embeddings only (``classifier__recurrent_weights
    =None``).

  The pretrained models are learnt once and serve every label count. A
  plot of accuracy against the number of labels is written to ``--plot``.
- ``dapt``: the LoRA transformer
  (:class:`~sklearn_histai.finetune.TransformerClassifier`, defaults but
  ``--dapt-max-length`` tokens) fine-tuned on ``--dapt-labels`` labelled
  reviews, from the bundled checkpoint and from that checkpoint after
  domain-adaptive pretraining
  (:func:`~sklearn_histai.finetune.continue_pretraining`, one pass over
  ``--dapt-reviews`` unlabelled reviews), tested on ``--dapt-test``
  reviews.
- ``clustering``: document clustering without labels:
  :class:`~sklearn.cluster.KMeans` with two clusters on Word2Vec document
  vectors (the TF-IDF-weighted mean of the word vectors) and on TF-IDF
  reduced by truncated SVD, scored against the sentiment labels (adjusted
  Rand index, normalised mutual information) of ``--n-test`` test reviews,
  and on IMDB reviews against Rotten Tomatoes sentences (the source).

Run ``python benchmarks/bench_semi_supervised.py [--quick]``. The figures in
the user guide's "Beyond one supervised model" page come from it.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _report import table
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer
from sklearn.semi_supervised import SelfTrainingClassifier

from sklearn_histai.datasets import load_imdb
from sklearn_histai.text import (
    LSTMLanguageModel,
    TextAnalyzer,
    TextTokenizer,
    Word2Vec,
    make_text_classifier,
)

warnings.filterwarnings("ignore", category=ConvergenceWarning)

METHODS = {
    "bow": ("supervised", "self-training"),
    "embedding": ("supervised", "self-training", "word2vec"),
    "cnn": ("supervised", "self-training", "word2vec"),
    # Self-training refits the LSTM on up to ``--unlabelled`` more reviews
    # per round: an hour on two cores. Add it with --lstm-self-training.
    "lstm": ("supervised", "language model", "LM embeddings"),
}


def _settings(kind, max_length):
    """The kind's defaults, but shorter rows for the recurrent and CNN kinds."""
    if kind in ("bow", "embedding"):
        return {}
    return {"tokenizer__max_length": max_length}


def _pretrain(text, kind, args):
    """The model learnt on unlabelled text for a kind, and its fit seconds."""
    start = time.perf_counter()
    if kind == "lstm":
        model = make_pipeline(
            TextTokenizer(
                max_vocabulary=20_000, max_length=args.max_length, truncation="pre"
            ),
            LSTMLanguageModel(
                embedding_dim=64,
                hidden_size=64,
                num_layers=1,
                softmax="adaptive",
                batch_size=64,
                max_iter=args.lm_epochs,
                early_stopping=False,
                random_state=0,
            ),
        )
    else:
        dim = 32 if kind == "embedding" else 128
        model = make_pipeline(
            TextTokenizer(max_vocabulary=20_000, max_length=None),
            Word2Vec(vector_size=dim, epochs=args.w2v_epochs, random_state=0),
        )
    model.fit(text)
    return model, time.perf_counter() - start


def _classifier(kind, method, pretrained, args):
    settings = _settings(kind, args.max_length)
    if method in ("word2vec", "language model", "LM embeddings"):
        model = make_text_classifier(
            kind, pretrained=pretrained, random_state=0, **settings
        )
        if method == "LM embeddings":
            model.set_params(classifier__recurrent_weights=None)
        return model
    model = make_text_classifier(kind, random_state=0, **settings)
    if method == "self-training":
        model.set_params(
            classifier=SelfTrainingClassifier(
                model[-1], threshold=args.threshold, max_iter=args.self_training_iter
            )
        )
    return model


def bench_curves(args):
    torch.set_num_threads(args.threads)
    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    X_test, y_test = X_test[: args.n_test], y_test[: args.n_test]
    n_labels = max(args.labels)
    pool = X_train[: n_labels + args.unlabelled]
    pretrained, rows, curves = {}, [], {}
    for kind in args.kinds:
        for method in METHODS[kind]:
            if method not in args.methods:
                continue
            source = None
            if method in ("word2vec", "language model", "LM embeddings"):
                key = "lstm" if method != "word2vec" else kind
                if key not in pretrained:
                    pretrained[key] = _pretrain(pool, key, args)
                    print(
                        f"({method} for {kind}: {pretrained[key][1]:.0f} s on "
                        f"{len(pool)} reviews)",
                        flush=True,
                    )
                source = pretrained[key][0]
            for n in args.labels:
                model = _classifier(kind, method, source, args)
                if method == "self-training":
                    X = pool[: n + args.unlabelled]
                    y = np.concatenate(
                        [y_train[:n], np.full(len(X) - n, -1, dtype=np.int64)]
                    )
                else:
                    X, y = X_train[:n], y_train[:n]
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                accuracy = model.score(X_test, y_test)
                curves.setdefault((kind, method), []).append((n, accuracy))
                extra = ""
                if method == "self-training":
                    added = int((model[-1].labeled_iter_ > 0).sum())
                    extra = f"{added} added in {model[-1].n_iter_} rounds"
                rows.append(
                    (kind, method, n, f"{accuracy:.3f}", f"{seconds:.0f}", extra)
                )
                print(rows[-1], flush=True)
    table(
        f"IMDB with few labels: accuracy on {len(X_test)} test reviews "
        f"({args.unlabelled} unlabelled reviews; one seed)",
        rows,
        ["kind", "method", "labels", "accuracy", "fit s", "self-training"],
    )
    if args.plot:
        _plot(curves, args.plot, args.unlabelled)


def _plot(curves, path, n_unlabelled):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(kind for kind, _ in curves))
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(3.4 * len(kinds), 3.2), sharey=True, squeeze=False
    )
    for ax, kind in zip(axes[0], kinds):
        for (curve_kind, method), points in curves.items():
            if curve_kind == kind:
                n, accuracy = zip(*points)
                ax.plot(n, accuracy, marker="o", label=method)
        ax.set_xscale("log")
        ax.set_xticks(sorted({n for points in curves.values() for n, _ in points}))
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.minorticks_off()
        ax.set_title(f'"{kind}"')
        ax.set_xlabel("labelled reviews")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("test accuracy")
    fig.suptitle(f"IMDB with few labels and {n_unlabelled:,} unlabelled reviews")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"(plot written to {path})")


def bench_dapt(args):
    import tempfile

    from sklearn_histai.finetune import TransformerClassifier, continue_pretraining

    torch.set_num_threads(args.threads)
    X_train, y_train = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    X_test, y_test = X_test[: args.dapt_test], y_test[: args.dapt_test]
    n_labels = max(args.dapt_labels)
    unlabelled = X_train[n_labels : n_labels + args.dapt_reviews]
    folder = tempfile.mkdtemp()
    start = time.perf_counter()
    continue_pretraining(
        unlabelled,
        folder,
        max_length=args.dapt_max_length,
        random_state=0,
        verbose=1,
    )
    print(
        f"(continue_pretraining: {time.perf_counter() - start:.0f} s on "
        f"{len(unlabelled)} reviews)",
        flush=True,
    )
    rows = []
    for n in args.dapt_labels:
        for name, model in (("bundled", None), ("adapted", folder)):
            clf = TransformerClassifier(
                model=model, max_length=args.dapt_max_length, random_state=0
            )
            start = time.perf_counter()
            clf.fit(X_train[:n], y_train[:n])
            seconds = time.perf_counter() - start
            rows.append((name, n, f"{clf.score(X_test, y_test):.3f}", f"{seconds:.0f}"))
            print(rows[-1], flush=True)
    table(
        f"LoRA fine-tuning with few labels, with and without domain-adaptive "
        f"pretraining on {len(unlabelled)} unlabelled reviews (first "
        f"{args.dapt_max_length} tokens; accuracy on {len(X_test)} test reviews)",
        rows,
        ["checkpoint", "labels", "accuracy", "fit s"],
    )


def bench_clustering(args):
    torch.set_num_threads(args.threads)
    X_train, _ = load_imdb("train", return_X_y=True)
    X_test, y_test = load_imdb("test", return_X_y=True)
    X_rt, _ = load_imdb("all", source="rotten_tomatoes", return_X_y=True)
    n = args.n_test
    corpora = {
        "IMDB sentiment": (X_test[:n], y_test[:n]),
        "IMDB or Rotten Tomatoes": (
            np.concatenate([X_test[: n // 2], X_rt[: n // 2]]),
            np.repeat([0, 1], [min(n // 2, len(X_test)), min(n // 2, len(X_rt))]),
        ),
    }
    start = time.perf_counter()
    text = np.concatenate([X_train[: args.unlabelled], X_rt[n // 2 :]])
    word2vec = make_pipeline(
        TextTokenizer(max_vocabulary=20_000, max_length=None),
        Word2Vec(vector_size=100, epochs=args.w2v_epochs, random_state=0),
    ).fit(text)
    print(f"(Word2Vec: {time.perf_counter() - start:.0f} s on {len(text)} documents)")
    lsa = make_pipeline(
        TfidfVectorizer(analyzer=TextAnalyzer(), min_df=2, sublinear_tf=True),
        TruncatedSVD(100, random_state=0),
        Normalizer(),
    )
    word2vec[-1].set_params(pooling="tfidf")
    rows = []
    for corpus, (X, y) in corpora.items():
        representations = {
            # The vectors learnt above, pooled with TF-IDF weights.
            "Word2Vec, TF-IDF-weighted mean": Normalizer().fit_transform(
                word2vec.transform(X)
            ),
            # LSA learns from the same unlabelled text plus the documents.
            "TF-IDF + SVD (LSA, 100 dims)": lsa.fit_transform(
                np.concatenate([text, X])
            )[len(text) :],
        }
        for name, codes in representations.items():
            ari, nmi = [], []
            for seed in range(3):
                labels = KMeans(2, n_init=10, random_state=seed).fit_predict(codes)
                ari.append(adjusted_rand_score(y, labels))
                nmi.append(normalized_mutual_info_score(y, labels))
            rows.append(
                (corpus, name, f"{np.median(ari):.3f}", f"{np.median(nmi):.3f}")
            )
            print(rows[-1], flush=True)
    table(
        f"KMeans(2) on document vectors, {n} documents (medians of 3 seeds)",
        rows,
        ["corpus", "representation", "ARI", "NMI"],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, a smoke run")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["curves", "dapt", "clustering"],
        choices=["curves", "dapt", "clustering"],
    )
    parser.add_argument("--kinds", nargs="+", default=["bow", "embedding", "lstm"])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=[
            "supervised",
            "self-training",
            "word2vec",
            "language model",
            "LM embeddings",
        ],
    )
    parser.add_argument("--labels", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--unlabelled", type=int, default=10_000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--self-training-iter", type=int, default=3)
    parser.add_argument("--w2v-epochs", type=int, default=5)
    parser.add_argument("--lm-epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lstm-self-training", action="store_true")
    parser.add_argument("--dapt-labels", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--dapt-reviews", type=int, default=2000)
    parser.add_argument("--dapt-max-length", type=int, default=64)
    parser.add_argument("--dapt-test", type=int, default=1000)
    parser.add_argument(
        "--plot",
        default="doc/user_guide/images/semi_supervised_imdb.png",
        help="where the learning curves go ('' for none)",
    )
    args = parser.parse_args()
    if args.lstm_self_training:
        METHODS["lstm"] = ("supervised", "self-training", *METHODS["lstm"][1:])
    if args.quick:
        args.labels, args.unlabelled, args.n_test = [50, 100], 200, 200
        args.w2v_epochs, args.lm_epochs, args.self_training_iter = 1, 1, 1
        args.max_length, args.plot = 64, ""
        args.dapt_labels, args.dapt_reviews, args.dapt_test = [16], 32, 32
        args.dapt_max_length = 16
    if "curves" in args.sections:
        bench_curves(args)
    if "dapt" in args.sections:
        bench_dapt(args)
    if "clustering" in args.sections:
        bench_clustering(args)


if __name__ == "__main__":
    main()
