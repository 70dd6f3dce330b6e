"""What a text classifier starts from: GloVe, vectors, Word2Vec, a language model."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sklearn_histai.text._lm_common import FIRST_TOKEN
from sklearn_histai.text._lstm_lm import LSTMLanguageModel
from sklearn_histai.text._sequences import encode_tokens
from sklearn_histai.text._tokenizer import TextAnalyzer, TextTokenizer
from sklearn_histai.text._word2vec import Word2Vec
from sklearn_histai.utils._token_ids import PAD, UNK

# The tokenizer settings a classifier takes over from the tokenizer its
# pretrained vectors were learnt through, so that it splits text alike.
_ANALYZER_PARAMETERS = ("analyzer", "ngram_range", "lowercase", "segmenter")


@dataclass
class PretrainedStart:
    """The fixed vocabulary and the initial weights of a text classifier.

    ``vocabulary`` lists the words in id order (ids 2, 3, ...);
    ``embeddings`` has a row per id, the padding and out-of-vocabulary ids
    0 and 1 included; ``tokenizer_params`` and ``model_params`` set the
    pipeline's steps.
    """

    vocabulary: list
    embeddings: np.ndarray
    tokenizer_params: dict = field(default_factory=dict)
    model_params: dict = field(default_factory=dict)


def resolve_pretrained(pretrained, kind, vocabulary, max_vocabulary, random_state):
    """The :class:`PretrainedStart` of ``make_text_classifier(pretrained=...)``."""
    if isinstance(pretrained, str):  # "glove", checked by validate_params
        return _from_glove(vocabulary, max_vocabulary, random_state)
    if isinstance(pretrained, Mapping):
        return _from_mapping(pretrained, vocabulary, max_vocabulary, random_state)
    if isinstance(pretrained, Pipeline):
        return _from_pipeline(pretrained, kind, vocabulary, random_state)
    if isinstance(pretrained, LSTMLanguageModel):
        return _from_language_model(
            pretrained, kind, vocabulary, max_vocabulary, random_state
        )
    if isinstance(pretrained, Word2Vec):
        raise ValueError(
            "A Word2Vec fitted on token ids cannot tell which word each of its "
            "vectors belongs to: pass the fitted pipeline "
            "make_pipeline(TextTokenizer(...), Word2Vec(...)) as pretrained."
        )
    raise TypeError(
        'pretrained must be "glove", a mapping of words to vectors, a fitted '
        "LSTMLanguageModel or a fitted pipeline of a TextTokenizer and a "
        f"Word2Vec or LSTMLanguageModel; got {type(pretrained).__name__}."
    )


def _whole_words(words, n_words):
    """The first ``n_words`` of ``words`` that the default analyzer keeps whole."""
    analyze = TextAnalyzer()
    kept = []
    for word in words:
        if isinstance(word, str) and analyze(word) == [word]:
            kept.append(word)
            if len(kept) == n_words:
                break
    return kept


def _matrix(vocabulary, lookup, dim, scale, random_state, unknown=None):
    """Embedding rows for ids 0, 1 and the ``vocabulary`` words.

    ``lookup(word)`` returns a vector or None; words without one start from
    a normal draw of standard deviation ``scale``, like the other rows
    (GloVe's missing words likewise). The padding row is zero, the
    out-of-vocabulary row ``unknown`` or zero.
    """
    embeddings = np.zeros((len(vocabulary) + 2, dim), dtype=np.float32)
    if unknown is not None:
        embeddings[UNK] = unknown
    missing = []
    for index, word in enumerate(vocabulary, 2):
        vector = lookup(word)
        if vector is None:
            missing.append(index)
        else:
            embeddings[index] = vector
    if missing:
        rng = check_random_state(random_state)
        embeddings[missing] = rng.normal(0.0, scale, size=(len(missing), dim))
    return embeddings


def _from_glove(vocabulary, max_vocabulary, random_state):
    from sklearn_histai.datasets import glove_embeddings, load_glove

    tokenizer_params = {}
    if vocabulary is None:
        vocabulary = _whole_words(load_glove()["words"], max_vocabulary)
        # GloVe's vocabulary has words only: bigrams would all be unknown.
        tokenizer_params["ngram_range"] = (1, 1)
    ids = {word: index for index, word in enumerate(vocabulary, 2)}
    embeddings = glove_embeddings(ids, random_state=random_state)
    padded = np.zeros((len(vocabulary) + 2, embeddings.shape[1]), np.float32)
    padded[: len(embeddings)] = embeddings
    return PretrainedStart(vocabulary, padded, tokenizer_params)


def _from_mapping(vectors, vocabulary, max_vocabulary, random_state):
    if not vectors:
        raise ValueError("pretrained is an empty mapping of words to vectors.")
    rows = [np.ravel(np.asarray(value, dtype=np.float32)) for value in vectors.values()]
    if len({len(row) for row in rows}) != 1:
        raise ValueError(
            "pretrained must map each word to a vector of the same length; got "
            f"lengths {sorted({len(row) for row in rows})}."
        )
    array = np.stack(rows)
    if not np.isfinite(array).all():
        raise ValueError("pretrained holds NaN or infinite vectors.")
    tokenizer_params = {}
    if vocabulary is None:
        # In the mapping's order: word-vector files list the most frequent
        # words first.
        vocabulary = _whole_words(vectors, max_vocabulary)
        tokenizer_params["ngram_range"] = (1, 1)
    row_of = dict(zip(vectors, rows))
    embeddings = _matrix(
        vocabulary, row_of.get, array.shape[1], float(array.std()), random_state
    )
    return PretrainedStart(vocabulary, embeddings, tokenizer_params)


def _pretraining_tokenizer(pipeline):
    """The fitted TextTokenizer and the final model of a pretraining pipeline."""
    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    model = steps[-1] if steps else None
    if len(steps) != 2 or not isinstance(steps[0], TextTokenizer):
        raise ValueError(
            "A pretrained pipeline must have two steps, a TextTokenizer and a "
            "Word2Vec or LSTMLanguageModel; got "
            f"{[type(step).__name__ for step in steps]}."
        )
    if not isinstance(model, Word2Vec | LSTMLanguageModel):
        raise TypeError(
            "The last step of a pretrained pipeline must be a Word2Vec or an "
            f"LSTMLanguageModel; got {type(model).__name__}."
        )
    for step in steps:
        check_is_fitted(step)
    tokenizer = steps[0]
    params = tokenizer.get_params(deep=False)
    tokenizer_params = {name: params[name] for name in _ANALYZER_PARAMETERS}
    return tokenizer, model, tokenizer_params


def _from_pipeline(pipeline, kind, vocabulary, random_state):
    tokenizer, model, tokenizer_params = _pretraining_tokenizer(pipeline)
    token_ids = tokenizer.vocabulary_
    if vocabulary is None:
        vocabulary = sorted(token_ids, key=token_ids.get)
    if isinstance(model, Word2Vec):
        vectors, has_vector = model.embeddings_, model.has_vector_

        def lookup(word):
            row = token_ids.get(word)
            if row is None or row >= len(vectors) or not has_vector[row]:
                return None
            return vectors[row]

        scale = float(vectors[has_vector].std()) if has_vector.any() else 0.1
        embeddings = _matrix(vocabulary, lookup, vectors.shape[1], scale, random_state)
        return PretrainedStart(vocabulary, embeddings, tokenizer_params)
    if model.vocabulary_.dtype.kind == "U":
        raise ValueError(
            "The pipeline's LSTMLanguageModel was fitted on token lists, not on "
            "the rows of its TextTokenizer; pass the language model itself."
        )
    # The model's tokens are the tokenizer's ids, UNK included when the
    # training text had unknown words.
    ids = np.array([token_ids.get(word, UNK) for word in vocabulary], dtype=np.int64)
    model_ids = encode_tokens(ids, model.vocabulary_, FIRST_TOKEN)
    unknown_id = encode_tokens(np.array([UNK]), model.vocabulary_, FIRST_TOKEN)[0]
    return _language_model_start(
        model, kind, vocabulary, model_ids, unknown_id, tokenizer_params
    )


def _from_language_model(model, kind, vocabulary, max_vocabulary, random_state):
    check_is_fitted(model)
    words = model.vocabulary_
    if words.dtype.kind != "U":
        raise ValueError(
            "This LSTMLanguageModel was fitted on rows of token ids, so its "
            "tokens have no words: pass the fitted pipeline "
            "make_pipeline(TextTokenizer(...), LSTMLanguageModel(...)) instead."
        )
    if vocabulary is None:
        counts = model._token_counts_[FIRST_TOKEN:]
        by_frequency = words[np.argsort(-counts, kind="stable")].tolist()
        vocabulary = _whole_words(by_frequency, max_vocabulary)
    model_ids = encode_tokens(list(vocabulary), words, FIRST_TOKEN)
    return _language_model_start(model, kind, vocabulary, model_ids, UNK, {})


def _language_model_start(model, kind, vocabulary, model_ids, unknown_id, params):
    """Embeddings (and, for the LSTM kind, recurrent layers) of a language model.

    A word the model never saw takes its unknown-token vector, as the model
    would read it; so does the classifier's out-of-vocabulary id.
    """
    module = model.net_.module_
    table = module.embedding.weight.detach().cpu().float().numpy()
    embeddings = np.zeros((len(vocabulary) + 2, table.shape[1]), dtype=np.float32)
    embeddings[UNK] = table[unknown_id]
    embeddings[2:] = table[model_ids]
    embeddings[PAD] = 0.0
    model_params = {}
    if kind == "lstm":
        model_params = {
            "hidden_size": model.hidden_size,
            "num_layers": model.num_layers,
            # A stacked bidirectional layer reads both directions of the one
            # below, which a left-to-right model's layers never saw.
            "bidirectional": model.num_layers == 1,
            "recurrent_weights": language_model_layers(model),
        }
    return PretrainedStart(list(vocabulary), embeddings, params, model_params)


def language_model_layers(model):
    """The LSTM layers of a fitted language model, as ``recurrent_weights``."""
    lstm = model.net_.module_.lstm
    return [
        {
            name: getattr(lstm, f"{name}_l{layer}").detach().cpu().float().numpy()
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
        for layer in range(lstm.num_layers)
    ]
