"""A neural sequence tagger: one tag per token, by a BiLSTM with an optional CRF."""

import numbers

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_histai._torch._docs import (
    COMMON_PARAMETERS_DOC,
    LABEL_SMOOTHING_DOC,
)
from sklearn_histai._torch._estimator import (
    BaseNeuralEstimator,
)
from sklearn_histai._torch._supervised import (
    LABEL_SMOOTHING_CONSTRAINT,
    encode_labels,
    label_smoothing_params,
)
from sklearn_histai.nn import (
    BiLSTMTagger,
    CRFNegLogLikelihood,
    TokenCrossEntropy,
    crf_marginals,
    crf_viterbi,
)
from sklearn_histai.text._metrics import token_accuracy_score
from sklearn_histai.text._sequences import (
    build_vocabulary,
    check_token_lists,
    drop_zero_weight_rows,
    encode_tokens,
    is_token_lists,
    matrix_lengths,
    matrix_tokens,
    pad_ids,
    reject_documents,
    resolve_padding,
    split_rows,
)
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc
from sklearn_histai.utils._token_ids import PAD, UNK

# Token ids start after padding and the unknown token.
_FIRST_TOKEN = UNK + 1


class _Tags:
    """Validated tags and the (row, position) of each, for ``_encode_targets``."""

    def __init__(self, tags, rows, positions, shape):
        self.tags = tags
        self.rows = rows
        self.positions = positions
        self.shape = shape


def _token_rows(ids):
    """Length of each row of right-padded token ids (real ids are never 0)."""
    return matrix_lengths(ids, PAD)


def _char_ids(word, index, width):
    if len(word) > width:
        # Long words keep both ends: prefixes and suffixes carry the tag.
        word = word[: width // 2] + word[len(word) - (width - width // 2) :]
    return [index.get(char, UNK) for char in word]


@fill_doc(
    label_smoothing=LABEL_SMOOTHING_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class SequenceTagger(ClassifierMixin, BaseNeuralEstimator):
    """Neural sequence tagger: a bidirectional LSTM, character features, a CRF.

    Predicts one tag per token, e.g. part-of-speech or named-entity (BIO)
    tags. Each token is represented by a trainable embedding and, for token
    lists, by a convolution over its characters (so unseen words get a
    representation from their spelling); a bidirectional LSTM reads the
    sentence, and either an independent softmax per token or a linear-chain
    CRF (``crf=True``, decoded by the Viterbi algorithm) gives the tags.

    Two input forms:

    - token lists, the convention of sklearn-crfsuite: ``X`` a list of token
      lists (str), ``y`` a list of tag lists of the same lengths; ``predict``
      returns a list of tag lists, ``predict_proba`` a list of ``(n_tokens,
      n_classes)`` arrays of per-token marginal probabilities.
    - a matrix: ``X`` of shape (n_samples, n_positions), each distinct value a
      token (e.g. the ids of ``TextTokenizer``, right-padded with
      ``padding_value``), and ``y`` of shape (n_samples, n_tagged) with the
      tags of the first ``n_tagged <= n_positions`` positions (the rest are
      context), or of shape (n_samples,) for the first position only. It is
      then a multi-output classifier: ``predict`` returns the shape of ``y``,
      ``predict_proba`` an ``(n_samples, n_classes)`` array per tagged
      position (one array for 1-D ``y``).

    Tokens not seen in ``fit`` (or seen fewer than ``min_frequency`` times)
    share one unknown token. Each sentence counts as one sample: its loss is
    the mean over its tagged tokens, and ``sample_weight`` weighs sentences.

    Parameters
    ----------
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=100
        Hidden units per direction and layer of the LSTM.
    num_layers : int, default=1
        Stacked bidirectional LSTM layers.
    dropout : float, default=0.0
        Dropout on the token features and before the output layer.
    crf : bool, default=False
        Whether a linear-chain CRF scores tag transitions (trained by its
        likelihood, decoded by Viterbi); else each token's tag has its own
        softmax.
    char_features : bool, default=True
        Whether tokens also get character features (token lists only).
    char_embedding_dim : int, default=25
        Size of the character embeddings.
    char_filters : int, default=50
        Size of the character features of each token.
    max_word_length : int, default=20
        Characters read per token; longer words keep their first and last
        characters.
    min_frequency : int, default=1
        Tokens seen fewer times in ``fit`` are read as the unknown token, so
        that its embedding is trained.
    padding_value : "auto", int, float or None, default="auto"
        Right padding of matrix rows. "auto" is 0 for integer matrices (the
        padding id of ``TextTokenizer``) and no padding for float matrices.
        Padding is masked: it never changes a prediction, and tags at
        padding positions are ignored in ``fit``.
    %(label_smoothing)s
        It applies to the per-token softmax (``crf=False``).
    %(common_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The tags, sorted; the columns of ``predict_proba``.
    vocabulary_ : ndarray
        The tokens with their own embedding, sorted (str for token lists).
    char_vocabulary_ : ndarray of str or None
        The characters with their own embedding (token lists with
        ``char_features=True``), else None.
    n_features_in_ : int
        Number of positions of the matrix seen in ``fit`` (matrix input only).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the positions seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of network outputs per token (the number of tags).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (token accuracy, with early stopping) and ``dur``.
    loss_curve_ : list of float
        The training loss of each epoch.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module.

    See Also
    --------
    token_accuracy_score : The fraction of tokens tagged right.
    entity_f1_score : Entity-level F1 for BIO/BIOES tags.

    Notes
    -----
    With ``crf=True``, ``predict`` returns the most probable tag sequence
    (Viterbi) and ``predict_proba`` the per-token marginals (forward-
    backward); the per-token most probable tags can differ from the Viterbi
    path.

    References
    ----------
    .. [1] Huang, Z., Xu, W. and Yu, K. (2015). "Bidirectional LSTM-CRF
       models for sequence tagging." arXiv:1508.01991.
    .. [2] Lample, G., Ballesteros, M., Subramanian, S., Kawakami, K. and
       Dyer, C. (2016). "Neural architectures for named entity recognition."
       NAACL.
    .. [3] Ma, X. and Hovy, E. (2016). "End-to-end sequence labeling via
       bi-directional LSTM-CNNs-CRF." ACL.
    .. [4] Lafferty, J., McCallum, A. and Pereira, F. (2001). "Conditional
       random fields." ICML.

    Examples
    --------
    >>> from sklearn_histai.text import SequenceTagger
    >>> X = [["the", "cat", "sat"], ["a", "dog", "ran"], ["the", "dog", "sat"]]
    >>> y = [["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"]]
    >>> tagger = SequenceTagger(hidden_size=16, embedding_dim=16, max_iter=50,
    ...                         learning_rate=0.01, random_state=0).fit(X, y)
    >>> tagger.predict([["a", "cat", "ran"]])
    [['DET', 'NOUN', 'VERB']]
    """

    _history = ModelHistory(
        era="text",
        year=2015,
        reference="Huang, Xu & Yu (2015); Lample et al. (2016)",
        peer=None,
        input="tokens",
    )
    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "crf": ["boolean"],
        "char_features": ["boolean"],
        "char_embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "char_filters": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_word_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_frequency": [Interval(numbers.Integral, 1, None, closed="left")],
        "padding_value": [StrOptions({"auto"}), numbers.Real, None],
        **LABEL_SMOOTHING_CONSTRAINT,
    }
    # Rows per forward pass at prediction: a CRF returns (steps, tags, tags)
    # potentials per row.
    _predict_chunk_size = 256

    def __init__(
        self,
        *,
        embedding_dim=100,
        hidden_size=100,
        num_layers=1,
        dropout=0.0,
        crf=False,
        char_features=True,
        char_embedding_dim=25,
        char_filters=50,
        max_word_length=20,
        min_frequency=1,
        padding_value="auto",
        label_smoothing=0.0,
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
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.crf = crf
        self.char_features = char_features
        self.char_embedding_dim = char_embedding_dim
        self.char_filters = char_filters
        self.max_word_length = max_word_length
        self.min_frequency = min_frequency
        self.padding_value = padding_value
        self.label_smoothing = label_smoothing
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the tagger on sentences ``X`` and their tags ``y``.

        Parameters
        ----------
        X : list of token lists or array-like of shape (n_samples, n_positions)
            Sentences: token lists (str), or matrix rows of tokens.
        y : list of tag lists or array-like of shape (n_samples,) or \
(n_samples, n_tagged)
            The tag of each token (token lists), or of the first positions of
            each row (matrix).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sentences; rows of weight zero are dropped before
            the vocabulary and the tags are learnt.

        Returns
        -------
        self : object
            The fitted tagger.
        """
        X, y, sample_weight = drop_zero_weight_rows(X, y, sample_weight)
        return self._fit(X, y, sample_weight)

    # -- input ------------------------------------------------------------------

    def _validate_input(self, X, *, reset, y="no_validation"):
        with_y = not (isinstance(y, str) and y == "no_validation")
        fitted_on_lists = not reset and self.vocabulary_.dtype.kind == "U"
        if is_token_lists(X, if_empty=fitted_on_lists):
            ids, tags = self._validate_lists(X, y, reset, with_y)
        else:
            ids, tags = self._validate_matrix(X, y, reset, with_y)
        return (ids, tags) if with_y else ids

    def _validate_lists(self, X, y, reset, with_y):
        if not reset and self.vocabulary_.dtype.kind != "U":
            raise ValueError(
                "The tagger was fitted on a numeric matrix but X is token lists; "
                "pass the same kind of input as in fit."
            )
        tokens, lengths = check_token_lists(X)
        tags = _check_tag_lists(y, lengths) if with_y else None
        if reset:
            for attribute in ("n_features_in_", "feature_names_in_"):
                if hasattr(self, attribute):
                    delattr(self, attribute)
            self.vocabulary_ = build_vocabulary(tokens, self.min_frequency)
            self.char_vocabulary_ = None
            if self.char_features:
                self.char_vocabulary_ = np.array(
                    sorted(set("".join(tokens))), dtype=str
                )
            self._target_columns_ = None
            self._mean_length_ = float(lengths.mean())
        # At least one position, all padding when every sentence is empty:
        # the network reads no row of zero steps.
        width = max(1, int(lengths.max(initial=0)))
        ids = pad_ids(
            encode_tokens(tokens, self.vocabulary_, _FIRST_TOKEN), lengths, width
        )
        if self.char_vocabulary_ is not None:
            chars = self._chars(tokens, lengths, width)
            ids = np.concatenate([ids[..., None], chars], axis=2)
        return ids, tags

    def _chars(self, tokens, lengths, n_positions):
        width = self.max_word_length
        index = {
            char: i
            for i, char in enumerate(self.char_vocabulary_.tolist(), _FIRST_TOKEN)
        }
        types = {}
        type_ids = np.fromiter(
            (types.setdefault(token, len(types)) for token in tokens),
            dtype=np.int64,
            count=len(tokens),
        )
        table = np.zeros((len(types) + 1, width), dtype=np.int64)
        for word, i in types.items():
            chars = _char_ids(word, index, width)
            table[i, : len(chars)] = chars
        positions = pad_ids(type_ids, lengths, n_positions, fill=len(types))
        return table[positions]

    def _validate_matrix(self, X, y, reset, with_y):
        reject_documents(X)
        if not reset and self.vocabulary_.dtype.kind == "U":
            raise ValueError(
                "The tagger was fitted on token lists but X is a numeric matrix; "
                "pass the same kind of input as in fit."
            )
        if not with_y:
            X = validate_data(self, X, reset=reset, dtype="numeric")
        else:
            X, y = validate_data(
                self, X, y, reset=reset, dtype="numeric", multi_output=True
            )
        if reset:
            self._padding_ = resolve_padding(self.padding_value, X)
        lengths = matrix_lengths(X, self._padding_)
        tokens = matrix_tokens(X, lengths)
        if reset:
            self.vocabulary_ = build_vocabulary(tokens, self.min_frequency)
            self.char_vocabulary_ = None
            self._mean_length_ = float(X.shape[1])
        ids = pad_ids(
            encode_tokens(tokens, self.vocabulary_, _FIRST_TOKEN),
            lengths,
            width=X.shape[1],
        )
        if X.dtype == np.float64:
            # Float64 matrices train in float64 on the CPU, like the other
            # neural estimators: the base reads the precision from the dtype.
            ids = ids.astype(np.float64)
        tags = None
        if with_y:
            y2d = np.asarray(y).reshape(len(X), -1)
            n_columns = y2d.shape[1]
            if n_columns > X.shape[1]:
                raise ValueError(
                    f"y tags {n_columns} positions per row, but X has only "
                    f"{X.shape[1]}."
                )
            if reset:
                self._target_columns_ = 0 if np.ndim(y) == 1 else n_columns
            # Tags at padding positions are ignored, like the padding itself.
            mask = np.arange(n_columns) < lengths[:, None]
            rows, positions = np.nonzero(mask)
            tags = _Tags(y2d[mask], rows, positions, ids.shape[:2])
        return ids, tags

    # -- hooks of the neural base ---------------------------------------------------

    def _encode_targets(self, y, sample_weight):
        targets = np.full(y.shape, -1, dtype=np.int64)
        targets[y.rows, y.positions] = encode_labels(self, y.tags)
        return targets

    def _criterion(self):
        return CRFNegLogLikelihood if self.crf else TokenCrossEntropy

    def _check_params(self):
        if self.crf and self.label_smoothing > 0:
            raise ValueError(
                f"label_smoothing={self.label_smoothing} applies to the per-token "
                "softmax; the CRF (crf=True) is trained by its likelihood. Set "
                "crf=False or label_smoothing=0."
            )

    def _criterion_params(self):
        return label_smoothing_params(self)

    def _input_kind(self):
        return "tokens"

    def _input_padding(self):
        return PAD

    @staticmethod
    def _validation_score(outputs, targets, weights):
        predicted = _decode(torch.from_numpy(outputs)).numpy()
        tagged = targets >= 0
        correct = ((predicted == targets) & tagged).sum(axis=1)
        return float(np.sum(correct * weights) / np.sum(tagged.sum(axis=1) * weights))

    def _build_module(self):
        return BiLSTMTagger(
            len(self.vocabulary_) + _FIRST_TOKEN,
            self.n_outputs_,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            crf=self.crf,
            n_chars=(
                None
                if self.char_vocabulary_ is None
                else len(self.char_vocabulary_) + _FIRST_TOKEN
            ),
            char_embedding_dim=self.char_embedding_dim,
            char_filters=self.char_filters,
        )

    def _multiply_adds_per_sample(self, module):
        return self._mean_length_ * sum(p.numel() for p in module.lstm.parameters())

    # -- prediction ------------------------------------------------------------

    def _tag_scores(self, X):
        """Predicted tag indices and probabilities, (n, steps) and (n, steps, K)."""
        check_is_fitted(self)
        ids = self._validate_input(X, reset=False)
        tags, probas = [], []
        for start in range(0, len(ids), self._predict_chunk_size):
            outputs = torch.from_numpy(
                self._forward(ids[start : start + self._predict_chunk_size])
            )
            tags.append(_decode(outputs).numpy())
            if outputs.ndim == 4:
                probas.append(crf_marginals(outputs).numpy())
            else:
                probas.append(torch.softmax(outputs, dim=-1).numpy())
        lengths = _token_rows(ids[..., 0] if ids.ndim == 3 else ids)
        return np.concatenate(tags), np.concatenate(probas), lengths

    def predict(self, X):
        """The tag of each token.

        Parameters
        ----------
        X : list of token lists or array-like of shape (n_samples, n_positions)
            Sentences, in the form given to ``fit``.

        Returns
        -------
        y : list of tag lists or ndarray of shape (n_samples,) or \
(n_samples, n_tagged)
            A tag list per sentence (token lists), else the shape of ``y`` in
            ``fit``.
        """
        tags, _, lengths = self._tag_scores(X)
        if self._target_columns_ is None:
            mask = np.arange(tags.shape[1]) < lengths[:, None]
            flat = self.classes_[tags[mask]]
            return [row.tolist() for row in split_rows(flat, lengths)]
        if self._target_columns_ == 0:
            return self.classes_[tags[:, 0]]
        return self.classes_[tags[:, : self._target_columns_]]

    def predict_proba(self, X):
        """Per-token probabilities of the tags (marginals with a CRF).

        Parameters
        ----------
        X : list of token lists or array-like of shape (n_samples, n_positions)
            Sentences, in the form given to ``fit``.

        Returns
        -------
        proba : list of ndarray or ndarray
            Token lists: one ``(n_tokens, n_classes)`` array per sentence.
            Matrix: an ``(n_samples, n_classes)`` array for 1-D ``y``, else a
            list with one such array per tagged position. Columns follow
            ``classes_``.
        """
        _, probas, lengths = self._tag_scores(X)
        if self._target_columns_ is None:
            return [p[:n] for p, n in zip(probas, lengths)]
        if self._target_columns_ == 0:
            return probas[:, 0]
        return [probas[:, i] for i in range(self._target_columns_)]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : list of token lists or array-like of shape (n_samples, n_positions)
            Sentences, in the form given to ``fit``.

        Returns
        -------
        log_proba : list of ndarray or ndarray
            The logarithm of each array of :meth:`predict_proba`.
        """
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [np.log(p) for p in proba]
        return np.log(proba)

    def score(self, X, y, sample_weight=None):
        """Token accuracy: the fraction of tokens whose predicted tag is right.

        Parameters
        ----------
        X : list of token lists or array-like of shape (n_samples, n_positions)
            Sentences, in the form given to ``fit``.
        y : list of tag lists or array-like
            The true tags, in the form given to ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sentences (each token of a sentence gets its
            weight).

        Returns
        -------
        score : float
            The token accuracy.
        """
        return token_accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _decode(outputs):
    """Tag indices from emission scores (argmax) or CRF potentials (Viterbi)."""
    if outputs.ndim == 4:
        return crf_viterbi(outputs)
    return outputs.argmax(dim=-1)


def _check_tag_lists(y, lengths):
    if y is None:
        raise ValueError(
            "This SequenceTagger estimator requires y to be passed, but the "
            "target y is None."
        )
    if isinstance(y, str) or not hasattr(y, "__len__") or len(y) != len(lengths):
        raise ValueError(
            f"y must be a list of tag lists, one per sentence of X ({len(lengths)})."
        )
    rows = []
    for i, (tags, n_tokens) in enumerate(zip(y, lengths)):
        if isinstance(tags, str) or not hasattr(tags, "__len__"):
            raise ValueError(f"y[{i}] must be a list of tags, got {tags!r}.")
        if len(tags) != n_tokens:
            raise ValueError(
                f"Sentence {i} has {n_tokens} tokens but {len(tags)} tags; every "
                "token needs one tag."
            )
        rows.append(np.asarray(tags))
    flat = np.concatenate(rows) if rows else np.empty(0)
    row_index = np.repeat(np.arange(len(lengths)), lengths)
    positions = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return _Tags(
        flat, row_index, positions, (len(lengths), int(lengths.max(initial=0)))
    )
