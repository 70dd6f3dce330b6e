"""Fits run by the data-parallel tests, in one process or in each of a torchrun job.

``python data_parallel_job.py OUT`` fits every case in one process with a
batch twice as large; ``torchrun --nproc-per-node 2 data_parallel_job.py
OUT`` fits each case in both processes inside ``data_parallel()``. Every
process saves its fitted estimators' histories and predictions to
``OUT/<case>-<rank>.npz``, for the tests to compare.
"""

import os
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification, make_regression


def _tokens(n_samples, random_state):
    """Token-id rows whose class is whether token 3 occurs."""
    rng = np.random.RandomState(random_state)
    X = rng.randint(4, 20, size=(n_samples, 12))
    y = rng.rand(n_samples) < 0.5
    X[y, rng.randint(0, 12, size=y.sum())] = 3
    return X, y.astype(int)


def cases(batch_size):
    """Each case's estimator, its fit arguments and the rows it predicts."""
    from sklearn_histai.neural_network import (
        FeedForwardClassifier,
        FeedForwardRegressor,
        LSTMClassifier,
    )

    X, y = make_classification(300, 10, random_state=0)
    weight = np.random.RandomState(1).rand(300)
    Xr, yr = make_regression(289, 6, n_targets=2, random_state=0)
    Xt, yt = _tokens(200, 0)
    common = {"random_state": 0, "num_threads": 1}
    yield (
        # Sample weights; early stopping on a held-out tenth; clipping.
        "weighted",
        FeedForwardClassifier(
            hidden_layer_sizes=(16,),
            batch_size=batch_size,
            max_iter=6,
            early_stopping=True,
            n_iter_no_change=2,
            max_grad_norm=0.5,
            **common,
        ),
        (X, y),
        {"sample_weight": weight},
        X[:20],
    )
    yield (
        # 289 rows: the last batch has one row, so one process's shard is
        # empty; gradient accumulation over two batches; two targets.
        "uneven",
        FeedForwardRegressor(
            hidden_layer_sizes=(8,),
            batch_size=batch_size,
            max_iter=4,
            early_stopping=False,
            gradient_accumulation_steps=2,
            learning_rate=1e-2,
            **common,
        ),
        (Xr, yr),
        {},
        Xr[:20],
    )
    yield (
        "lstm",
        LSTMClassifier(
            embedding_dim=8,
            hidden_size=8,
            batch_size=batch_size,
            max_iter=3,
            early_stopping=False,
            **common,
        ),
        (Xt, yt),
        {},
        Xt[:20],
    )
    from sklearn_histai.text import LSTMLanguageModel, SequenceTagger

    sentences, tags = [], []
    for index in range(60):
        if index % 3:
            sentences.append(["the", "run", "was", "long"])
            tags.append(["DET", "NOUN", "VERB", "ADJ"])
        else:
            sentences.append(["they", "run", "fast"])
            tags.append(["PRON", "VERB", "ADV"])
    yield (
        "tagger",
        SequenceTagger(
            embedding_dim=8,
            hidden_size=8,
            char_filters=8,
            batch_size=batch_size,
            max_iter=3,
            early_stopping=False,
            **common,
        ),
        (sentences, tags),
        {},
        sentences[:6],
    )
    yield (
        # Rows of different lengths: the loss of a row is over its tokens.
        "language_model",
        LSTMLanguageModel(
            embedding_dim=8,
            hidden_size=8,
            batch_size=batch_size,
            max_iter=3,
            early_stopping=False,
            **common,
        ),
        (sentences + [["birds", "fly"]] * 9,),
        {},
        sentences[:6],
    )
    model = os.environ.get("DATA_PARALLEL_MODEL")
    if model:  # the pretrained encoder, without dropout
        from sklearn_histai.datasets import load_imdb
        from sklearn_histai.finetune import TransformerClassifier

        texts, labels = load_imdb(return_X_y=True)
        texts, labels = list(texts[:48]), np.asarray(labels[:48])
        yield (
            "finetune",
            TransformerClassifier(
                model=model,
                peft_method="lora",
                lora_r=2,
                lora_dropout=0.0,
                max_length=16,
                max_iter=2,
                batch_size=batch_size,
                early_stopping=False,
                **common,
            ),
            (texts, labels),
            {},
            texts[:8],
        )


def _save(path, estimator, rows):
    history = estimator.history_
    if hasattr(estimator, "score_samples"):  # a language model
        outputs = estimator.score_samples(rows)
    elif hasattr(estimator, "predict_proba"):
        outputs = estimator.predict_proba(rows)
        if not isinstance(outputs, np.ndarray):  # a tagger's, one per sentence
            outputs = np.concatenate(outputs)
    else:
        outputs = estimator.predict(rows)
    np.savez(
        path,
        train_loss=[row["train_loss"] for row in history],
        valid_loss=[row.get("valid_loss", np.nan) for row in history],
        outputs=outputs,
    )


def main(out):
    warnings.simplefilter("ignore")
    out = Path(out)
    if "WORLD_SIZE" not in os.environ:
        for name, estimator, data, kwargs, rows in cases(batch_size=32):
            _save(out / f"{name}-single.npz", estimator.fit(*data, **kwargs), rows)
        return
    from sklearn_histai.parallel import data_parallel

    with data_parallel() as group:
        for name, estimator, data, kwargs, rows in cases(batch_size=16):
            _save(
                out / f"{name}-{group.rank}.npz", estimator.fit(*data, **kwargs), rows
            )
        # Different data on the processes: every process refuses to train.
        X, y = make_classification(60 + group.rank, 4, random_state=0)
        from sklearn_histai.neural_network import FeedForwardClassifier

        try:
            FeedForwardClassifier(max_iter=1).fit(X, y)
        except ValueError as exc:
            (out / f"mismatch-{group.rank}.txt").write_text(str(exc))


if __name__ == "__main__":
    main(sys.argv[1])
