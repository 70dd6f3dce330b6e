"""Recurrent networks (Elman RNN and LSTM) for classification and regression."""

import numbers

from sklearn.utils._param_validation import Interval, StrOptions

from sklearn_histai._torch._docs import (
    AUGMENTATION_DOC,
    CLASS_WEIGHT_DOC,
    COMMON_PARAMETERS_DOC,
    LABEL_SMOOTHING_DOC,
    SEQUENCE_CLASSIFIER_ATTRIBUTES_DOC,
    SEQUENCE_REGRESSOR_ATTRIBUTES_DOC,
)
from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
    BaseNeuralRegressor,
)
from sklearn_histai._torch._tokens import TOKEN_PARAMETER_CONSTRAINTS, TokenInputMixin
from sklearn_histai.nn import RecurrentNet
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc

_RECURRENT_DOC = """hidden_size : int, default=%(hidden_size_default)s
        Hidden units per direction and layer.
    num_layers : int, default=%(num_layers_default)s
        Number of stacked recurrent layers.
    bidirectional : bool, default=%(bidirectional_default)s
        Whether each layer also reads the sequence backwards.
    dropout : float, default=0.0
        Dropout between stacked layers and before the output layer.
    n_features_per_step : int, default=1
        How to read each row of float input as a sequence: a row of
        ``T * n_features_per_step`` numbers is ``T`` steps of
        ``n_features_per_step`` features. Ignored with token ids.
    vocab_size : int or None, default=None
        None for float input. An int switches to token-id input: each row is
        a sequence of integer ids in ``[0, vocab_size)``, embedded by a
        trainable embedding layer (``TextTokenizer`` produces such rows).
    embedding_dim : int, default=100
        Size of the token embeddings (token-id input only).
    padding_value : "auto", float or None, default="auto"
        Right padding of variable-length sequences, masked so that it never
        changes a prediction. "auto" is id 0 for token ids and no padding for
        float input; with float input, trailing steps whose features all
        equal ``padding_value`` are padding.
    embeddings : array-like of shape (vocab_size, embedding_dim) or None, \
default=None
        Pretrained embeddings (e.g. GloVe) to start from (token-id input).
    freeze_embeddings : bool, default=False
        Whether pretrained ``embeddings`` stay fixed during training.
    pooling : {"last", "max", "mean"}, default="last"
        What feeds the output layer: the final hidden states ("last", both
        directions), or the element-wise maximum or mean of the last layer's
        outputs over the steps of the sequence (padding excluded). Pooling
        trains much faster on long token sequences such as reviews.
    recurrent_weights : list of dict or None, default=None
        Weights to start the forward direction of the first recurrent layers
        from, one dict per layer with the arrays ``weight_ih``,
        ``weight_hh``, ``bias_ih`` and ``bias_hh`` in torch's layout (gates
        stacked along the first axis): e.g. the layers of a language model
        trained on unlabelled text, which
        :func:`~sklearn_histai.text.make_text_classifier` passes with
        ``pretrained=``. The shapes must match ``hidden_size`` and the
        input size (``embedding_dim``); the other layers and the backward
        directions start at random."""


_RECURRENT_CONSTRAINTS = {
    **TOKEN_PARAMETER_CONSTRAINTS,
    "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
    "bidirectional": ["boolean"],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "n_features_per_step": [Interval(numbers.Integral, 1, None, closed="left")],
    "pooling": [StrOptions({"last", "max", "mean"})],
    "recurrent_weights": [list, tuple, None],
}


class _RecurrentMixin(TokenInputMixin):
    """The module of the recurrent estimators; ``_cell`` names the cell."""

    _cell = None
    # Token rows train in batches of similar lengths: the network skips the
    # padding past the longest row of a batch.
    _length_buckets = True

    def _padding(self):
        # Float sequences have no padding unless one is given.
        if self.vocab_size is None and self.padding_value == "auto":
            return None
        return self._token_padding()

    def _input_kind(self):
        return "sequence" if self.vocab_size is None else "tokens"

    def _input_padding(self):
        return self._padding()

    def _check_input(self, X, *, reset):
        if self.vocab_size is None and X.shape[1] % self.n_features_per_step:
            raise ValueError(
                f"X has {X.shape[1]} features, which is not a multiple of "
                f"n_features_per_step={self.n_features_per_step}."
            )
        return super()._check_input(X, reset=reset)

    def _build_module(self):
        return RecurrentNet(
            None if self.vocab_size is not None else self.n_features_per_step,
            self.n_outputs_,
            cell=self._cell,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            vocab_size=None if self.vocab_size is None else self._n_embeddings_,
            embedding_dim=self.embedding_dim,
            padding_value=self._padding(),
            embeddings=self._pretrained_embeddings(),
            freeze_embeddings=self.freeze_embeddings,
            pooling=self.pooling,
            recurrent_weights=self.recurrent_weights,
        )

    def _multiply_adds_per_sample(self, module):
        # The recurrent weights are applied once per step.
        steps = self.n_features_in_ // (module.n_features_per_step or 1)
        return steps * sum(p.numel() for p in module.rnn.parameters())


class _RNNMixin(_RecurrentMixin):
    _cell = "rnn"


class _LSTMMixin(_RecurrentMixin):
    _cell = "lstm"


_RNN_DOC = {
    "architecture_parameters": _RECURRENT_DOC,
    "hidden_size_default": "64",
    "num_layers_default": "1",
    "bidirectional_default": "False",
    "classifier_attributes": SEQUENCE_CLASSIFIER_ATTRIBUTES_DOC,
    "regressor_attributes": SEQUENCE_REGRESSOR_ATTRIBUTES_DOC,
    "class_weight": CLASS_WEIGHT_DOC,
    "label_smoothing": LABEL_SMOOTHING_DOC,
    "augmentation": AUGMENTATION_DOC,
    "common_parameters": COMMON_PARAMETERS_DOC,
}
_LSTM_DOC = {
    **_RNN_DOC,
    "hidden_size_default": "64",
    "num_layers_default": "1",
    "bidirectional_default": "True",
}


@fill_doc(**_RNN_DOC)
class RNNClassifier(_RNNMixin, BaseNeuralClassifier):
    """Recurrent neural network classifier (Elman RNN, tanh) in torch.

    Each row is a sequence (of float steps, or of token ids); the final
    hidden state (or, with ``pooling``, the maximum or mean of the outputs
    over the steps) feeds a linear output layer with a softmax.

    Parameters
    ----------
    %(architecture_parameters)s
    %(class_weight)s
    %(label_smoothing)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    LSTMClassifier : Long short-term memory cells, better at long sequences.
    RNNRegressor : The same network for regression.

    References
    ----------
    .. [1] Elman, J. L. (1990). "Finding structure in time." Cognitive
       Science 14(2).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.neural_network import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))
    >>> y = (X.sum(axis=1) > 0).astype(int)
    >>> clf = RNNClassifier(max_iter=50, random_state=0).fit(X[:200], y[:200])
    >>> clf.score(X[200:], y[200:]) > 0.8
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1990,
        reference="Elman (1990)",
        peer="sklearn.neural_network:MLPClassifier",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_RECURRENT_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        pooling="last",
        recurrent_weights=None,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.pooling = pooling
        self.recurrent_weights = recurrent_weights
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


@fill_doc(**_RNN_DOC)
class RNNRegressor(_RNNMixin, BaseNeuralRegressor):
    """Recurrent neural network regressor (Elman RNN, tanh) in torch.

    Each row is a sequence (of float steps, or of token ids); the final
    hidden state (or, with ``pooling``, the maximum or mean of the outputs
    over the steps) feeds a linear output layer. Targets are standardised
    internally.

    Parameters
    ----------
    %(architecture_parameters)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    LSTMRegressor : Long short-term memory cells, better at long sequences.
    RNNClassifier : The same network for classification.

    References
    ----------
    .. [1] Elman, J. L. (1990). "Finding structure in time." Cognitive
       Science 14(2).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.neural_network import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))
    >>> y = X.sum(axis=1)
    >>> reg = RNNRegressor(max_iter=50, random_state=0).fit(X[:200], y[:200])
    >>> reg.score(X[200:], y[200:]) > 0.8
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1990,
        reference="Elman (1990)",
        peer="sklearn.neural_network:MLPRegressor",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_RECURRENT_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        pooling="last",
        recurrent_weights=None,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.pooling = pooling
        self.recurrent_weights = recurrent_weights
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


@fill_doc(**_LSTM_DOC)
class LSTMClassifier(_LSTMMixin, BaseNeuralClassifier):
    """Long short-term memory (LSTM) classifier in torch, stacked and bidirectional.

    Each row is a sequence (of float steps, or of token ids); the final
    hidden states of both directions of the last layer (or, with
    ``pooling``, the maximum or mean of its outputs over the steps) feed a
    linear output layer with a softmax.

    Parameters
    ----------
    %(architecture_parameters)s
    %(class_weight)s
    %(label_smoothing)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    RNNClassifier : The simpler Elman recurrent network.
    LSTMRegressor : The same network for regression.

    References
    ----------
    .. [1] Hochreiter, S. and Schmidhuber, J. (1997). "Long short-term
       memory." Neural Computation 9(8).
    .. [2] Schuster, M. and Paliwal, K. K. (1997). "Bidirectional recurrent
       neural networks." IEEE Trans. Signal Processing 45(11).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_histai.neural_network import LSTMClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LSTMClassifier(n_features_per_step=8, hidden_size=32, batch_size=32,
    ...                      max_iter=20, random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.8
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1997,
        reference="Hochreiter & Schmidhuber (1997)",
        peer="sklearn.neural_network:MLPClassifier",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_RECURRENT_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        pooling="last",
        recurrent_weights=None,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.pooling = pooling
        self.recurrent_weights = recurrent_weights
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


@fill_doc(**_LSTM_DOC)
class LSTMRegressor(_LSTMMixin, BaseNeuralRegressor):
    """Long short-term memory (LSTM) regressor in torch, stacked and bidirectional.

    Each row is a sequence (of float steps, or of token ids); the final
    hidden states of both directions of the last layer (or, with
    ``pooling``, the maximum or mean of its outputs over the steps) feed a
    linear output layer. Targets are standardised internally.

    Parameters
    ----------
    %(architecture_parameters)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    RNNRegressor : The simpler Elman recurrent network.
    LSTMClassifier : The same network for classification.

    References
    ----------
    .. [1] Hochreiter, S. and Schmidhuber, J. (1997). "Long short-term
       memory." Neural Computation 9(8).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.neural_network import LSTMRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))
    >>> y = X.sum(axis=1)
    >>> reg = LSTMRegressor(hidden_size=16, batch_size=32, max_iter=30, random_state=0)
    >>> reg.fit(X[:200], y[:200]).score(X[200:], y[200:]) > 0.8
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1997,
        reference="Hochreiter & Schmidhuber (1997)",
        peer="sklearn.neural_network:MLPRegressor",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_RECURRENT_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        pooling="last",
        recurrent_weights=None,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.pooling = pooling
        self.recurrent_weights = recurrent_weights
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
