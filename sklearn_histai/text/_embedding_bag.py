"""The embedding-bag (fastText-style) classifier: averaged embeddings, linear layer."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval

from sklearn_histai._torch._docs import (
    AUGMENTATION_DOC,
    CLASS_WEIGHT_DOC,
    COMMON_PARAMETERS_DOC,
    LABEL_SMOOTHING_DOC,
)
from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
)
from sklearn_histai._torch._tokens import (
    TOKEN_PARAMETER_CONSTRAINTS,
    TOKEN_PARAMETERS_DOC,
    TokenInputMixin,
)
from sklearn_histai.nn import EmbeddingBagNet
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc


@fill_doc(
    token_parameters=TOKEN_PARAMETERS_DOC,
    embedding_dim_default="100",
    class_weight=CLASS_WEIGHT_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class EmbeddingBagClassifier(TokenInputMixin, BaseNeuralClassifier):
    """Classify documents by the mean of their token embeddings (fastText).

    Each row of token ids (e.g. from
    :class:`~sklearn_histai.text.TextTokenizer`, with word n-grams for
    fastText's "bag of tricks") becomes the mean of the embeddings of its
    non-padding tokens, followed by dropout and a linear output layer with a
    softmax: a linear model of rank ``embedding_dim`` over the bag of
    tokens, fast to train (Joulin et al., 2016). Padding never changes a
    prediction. With ``word_ngrams=2``, the bag also holds the row's word
    bigrams, hashed from consecutive ids as fastText does, so the tokenizer
    only needs to produce words.

    With ``vocab_size=None``, the rows are read as bags of feature values
    (e.g. counts or TF-IDF weights, as dense arrays) and the document vector
    is the sum of per-feature embeddings weighted by the values.

    Parameters
    ----------
    %(token_parameters)s
    dropout : float, default=0.0
        Dropout probability on the document vector.
    word_ngrams : int, default=1
        Length of the longest word n-gram in the bag (token ids only): the
        n-grams of 2 to ``word_ngrams`` consecutive non-padding ids are
        hashed into ``ngram_buckets`` shared embeddings, which join the
        mean (fastText's ``wordNgrams``). 1 reads single tokens only.
    ngram_buckets : int, default=65536
        Number of embeddings the hashed n-grams share (with
        ``word_ngrams > 1``). More buckets mean fewer n-grams sharing one
        vector, and a larger model.
    %(class_weight)s
    %(label_smoothing)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features (token positions) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of network outputs (the number of classes).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module.

    See Also
    --------
    sklearn_histai.text.make_text_classifier : Ready text pipelines, this
        classifier among them (``kind="embedding"``).
    sklearn_histai.neural_network.LSTMClassifier : Reads the tokens in order.

    References
    ----------
    .. [1] Joulin, A., Grave, E., Bojanowski, P. and Mikolov, T. (2017).
       "Bag of tricks for efficient text classification." EACL. (arXiv
       1607.01759, 2016.)

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_histai.text import EmbeddingBagClassifier, TextTokenizer
    >>> X = ["good film", "great acting", "bad plot", "awful film"] * 10
    >>> y = [1, 1, 0, 0] * 10
    >>> clf = make_pipeline(
    ...     TextTokenizer(max_vocabulary=100),
    ...     EmbeddingBagClassifier(vocab_size=102, embedding_dim=8,
    ...                            learning_rate=0.05, random_state=0),
    ... ).fit(X, y)
    >>> clf.predict(["a great film", "an awful plot"]).tolist()
    [1, 0]
    """

    _history = ModelHistory(
        era="text",
        year=2016,
        reference="Joulin, Grave, Bojanowski & Mikolov (2016)",
        peer="sklearn.linear_model:LogisticRegression",
        input="tokens",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **TOKEN_PARAMETER_CONSTRAINTS,
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "word_ngrams": [Interval(numbers.Integral, 1, None, closed="left")],
        "ngram_buckets": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        dropout=0.0,
        word_ngrams=1,
        ngram_buckets=65536,
        class_weight=None,
        label_smoothing=0.0,
        augmentation=None,
        max_iter=200,
        batch_size="auto",
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="constant",
        warmup_fraction=0.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_accumulation_steps=1,
        max_grad_norm=None,
        adversarial=None,
        adversarial_epsilon=1.0,
        adversarial_steps=3,
        mixed_precision=False,
        device="auto",
        num_threads="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.dropout = dropout
        self.word_ngrams = word_ngrams
        self.ngram_buckets = ngram_buckets
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.augmentation = augmentation
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            gradient_accumulation_steps=gradient_accumulation_steps,
            max_grad_norm=max_grad_norm,
            adversarial=adversarial,
            adversarial_epsilon=adversarial_epsilon,
            adversarial_steps=adversarial_steps,
            mixed_precision=mixed_precision,
            device=device,
            num_threads=num_threads,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )

    @property
    def _input_dtype(self):
        # Token ids stay integers: validate_data would copy them to float64
        # (and check_token_ids back to int64), a second of every fit on IMDB.
        if self.vocab_size is None:
            return super()._input_dtype
        return (np.int64, np.int32, np.float64, np.float32)

    def _build_module(self):
        tokens = self.vocab_size is not None
        return EmbeddingBagNet(
            None if tokens else self.n_features_in_,
            self.n_outputs_,
            vocab_size=self._n_embeddings_ if tokens else None,
            embedding_dim=self.embedding_dim,
            dropout=self.dropout,
            padding_value=self._token_padding() if tokens else None,
            embeddings=self._pretrained_embeddings() if tokens else None,
            freeze_embeddings=self.freeze_embeddings,
            word_ngrams=self.word_ngrams,
            ngram_buckets=self.ngram_buckets,
        )

    def _check_params(self):
        if self.word_ngrams > 1 and self.vocab_size is None:
            raise ValueError(
                f"word_ngrams={self.word_ngrams} reads n-grams of token ids, but "
                "vocab_size=None reads float rows. Set vocab_size, or "
                "word_ngrams=1."
            )

    def _multiply_adds_per_sample(self, module):
        # Each token adds one embedding row; the output layer is tiny.
        return self.n_features_in_ * self.embedding_dim + sum(
            p.numel() for p in module.head.parameters()
        )
