"""Transformer encoders trained from scratch, for classification and regression."""

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_histai._torch._docs import (
    AUGMENTATION_DOC,
    CLASS_WEIGHT_DOC,
    COMMON_PARAMETERS_DOC,
    LABEL_SMOOTHING_DOC,
    SEQUENCE_CLASSIFIER_ATTRIBUTES_DOC,
    SEQUENCE_REGRESSOR_ATTRIBUTES_DOC,
)
from sklearn_histai._torch._runtime import cpu_context, module_dtype, to_device
from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
    BaseNeuralRegressor,
)
from sklearn_histai._torch._tokens import TOKEN_PARAMETER_CONSTRAINTS, TokenInputMixin
from sklearn_histai.nn import TransformerEncoderNet
from sklearn_histai.nn._transformer import check_num_heads
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc

_TRANSFORMER_DOC = """d_model : int, default=64
        Width of the token states.
    num_heads : int, default=4
        Attention heads of each block; must divide ``d_model``.
    num_layers : int, default=2
        Stacked Transformer blocks.
    dim_feedforward : int or None, default=None
        Hidden units of each block's feed-forward layer; None is
        ``4 * d_model``.
    dropout : float, default=0.0
        Dropout on the embeddings, the residual branches and inside the
        feed-forward layer of each block, and before the output layer (0.1 in Vaswani
        et al. and in the ``"transformer"`` text classifier).
    positions : {"learned", "sinusoidal"}, default="learned"
        Learned position embeddings (starting from the sinusoidal table),
        or the fixed sinusoidal encodings of Vaswani et al. (2017).
    pooling : {"mean", "cls"}, default="mean"
        What feeds the output layer: the mean of the final states over the
        real (non-padding) steps, or the final state of a learned ``[CLS]``
        token read before the first step (BERT).
    n_features_per_step : int, default=1
        How to read each row of float input as a sequence: a row of
        ``T * n_features_per_step`` numbers is ``T`` steps of
        ``n_features_per_step`` features, each projected linearly to
        ``d_model``. Ignored with token ids.
    vocab_size : int or None, default=None
        None for float input. An int switches to token-id input: each row is
        a sequence of integer ids in ``[0, vocab_size)``, embedded by a
        trainable embedding layer (``TextTokenizer`` produces such rows).
    embedding_dim : int or None, default=None
        Size of the token embeddings (token-id input only); None is
        ``d_model``. Other sizes are projected linearly to ``d_model``.
    padding_value : "auto", float or None, default="auto"
        Right padding of variable-length sequences, masked out of the
        attention and the pooling so that it never changes a prediction.
        "auto" is id 0 for token ids and no padding for float input; with
        float input, trailing steps whose features all equal
        ``padding_value`` are padding.
    embeddings : array-like of shape (vocab_size, embedding_dim) or None, \
default=None
        Pretrained embeddings (e.g. GloVe) to start from (token-id input);
        they set ``embedding_dim``.
    freeze_embeddings : bool, default=False
        Whether pretrained ``embeddings`` stay fixed during training."""

_TRANSFORMER_CONSTRAINTS = {
    **TOKEN_PARAMETER_CONSTRAINTS,
    "d_model": [Interval(numbers.Integral, 1, None, closed="left")],
    "num_heads": [Interval(numbers.Integral, 1, None, closed="left")],
    "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
    "dim_feedforward": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "positions": [StrOptions({"learned", "sinusoidal"})],
    "pooling": [StrOptions({"mean", "cls"})],
    "n_features_per_step": [Interval(numbers.Integral, 1, None, closed="left")],
    "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left"), None],
}


class _TransformerEncoderMixin(TokenInputMixin):
    """The module of the Transformer encoder estimators."""

    def _padding(self):
        # Float sequences have no padding unless one is given.
        if self.vocab_size is None and self.padding_value == "auto":
            return None
        return self._token_padding()

    def _input_kind(self):
        return "sequence" if self.vocab_size is None else "tokens"

    def _input_padding(self):
        return self._padding()

    def _check_params(self):
        check_num_heads(self.d_model, self.num_heads)

    def _check_input(self, X, *, reset):
        if self.vocab_size is None and X.shape[1] % self.n_features_per_step:
            raise ValueError(
                f"X has {X.shape[1]} features, which is not a multiple of "
                f"n_features_per_step={self.n_features_per_step}."
            )
        return super()._check_input(X, reset=reset)

    def _n_steps(self):
        if self.vocab_size is None:
            return self.n_features_in_ // self.n_features_per_step
        return self.n_features_in_

    def _build_module(self):
        return TransformerEncoderNet(
            None if self.vocab_size is not None else self.n_features_per_step,
            self.n_outputs_,
            n_positions=self._n_steps(),
            d_model=self.d_model,
            num_heads=self.num_heads,
            num_layers=self.num_layers,
            dim_feedforward=self.dim_feedforward,
            dropout=self.dropout,
            vocab_size=None if self.vocab_size is None else self._n_embeddings_,
            embedding_dim=self.embedding_dim,
            padding_value=self._padding(),
            embeddings=self._pretrained_embeddings(),
            freeze_embeddings=self.freeze_embeddings,
            positions=self.positions,
            pooling=self.pooling,
        )

    def _multiply_adds_per_sample(self, module):
        # The blocks run once per step; attention adds steps x steps x
        # d_model per layer (scores and weighted sum).
        steps = self._n_steps()
        per_step = sum(p.numel() for p in module.blocks.parameters())
        attention = 2 * steps * steps * self.d_model * self.num_layers
        return steps * per_step + attention

    def attention_weights(self, X):
        """Where each step attends, per layer and head, for the rows of ``X``.

        The weights are those of the fitted network in evaluation mode,
        computed explicitly (the training uses torch's fused attention,
        which never forms them); they are meant for looking at a few rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows as given to ``predict``.

        Returns
        -------
        weights : ndarray of shape (n_samples, num_layers, num_heads, width, \
width)
            Row ``i`` of a head's matrix holds the weights with which step
            ``i`` attends to every step (summing to 1). ``width`` is the
            number of steps of the longest row of ``X`` after its padding is
            dropped, plus one for the ``[CLS]`` token (first) with
            ``pooling="cls"``; padding keys get weight zero.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        module = self.net_.module_
        module.eval()
        inputs = to_device(self._to_tensors(X, module_dtype(module)), self.net_.device)
        with cpu_context(self._threads_for(module, len(X))), torch.inference_mode():
            weights = module.attention_weights(inputs)
        return weights.cpu().numpy().astype(np.float64, copy=False)


_DOC = {
    "architecture_parameters": _TRANSFORMER_DOC,
    "classifier_attributes": SEQUENCE_CLASSIFIER_ATTRIBUTES_DOC,
    "regressor_attributes": SEQUENCE_REGRESSOR_ATTRIBUTES_DOC,
    "class_weight": CLASS_WEIGHT_DOC,
    "label_smoothing": LABEL_SMOOTHING_DOC,
    "augmentation": AUGMENTATION_DOC,
    "common_parameters": COMMON_PARAMETERS_DOC,
}

_REFERENCES = """.. [1] Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L.,
       Gomez, A. N., Kaiser, L. and Polosukhin, I. (2017). "Attention is all
       you need." NeurIPS.
    .. [2] Xiong, R. et al. (2020). "On layer normalization in the
       Transformer architecture." ICML.
    .. [3] Devlin, J., Chang, M.-W., Lee, K. and Toutanova, K. (2019). "BERT:
       Pre-training of deep bidirectional transformers for language
       understanding." NAACL."""
_DOC["references"] = _REFERENCES


@fill_doc(**_DOC)
class TransformerEncoderClassifier(_TransformerEncoderMixin, BaseNeuralClassifier):
    """Transformer encoder classifier in torch, trained from scratch.

    Each row is a sequence (of float steps, or of token ids). Its steps
    are embedded, positions are added, pre-layer-norm blocks of multi-head
    self-attention (torch's fused ``scaled_dot_product_attention``, with
    the padding masked) and feed-forward layers transform them, and their
    mean (or a ``[CLS]`` token's state) feeds a linear output layer with a
    softmax. For a pretrained transformer, fine-tuned, see
    :class:`~sklearn_histai.finetune.TransformerClassifier`.

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
    TransformerEncoderRegressor : The same network for regression.
    LSTMClassifier : The recurrent network the Transformer replaced.
    sklearn_histai.finetune.TransformerClassifier : A pretrained
        transformer, fine-tuned.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_histai.neural_network import TransformerEncoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = TransformerEncoderClassifier(n_features_per_step=8, max_iter=20,
    ...                                    random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.8
    True
    >>> clf.attention_weights(X[:2] / 16).shape  # rows, layers, heads, steps, steps
    (2, 2, 4, 8, 8)
    """

    _history = ModelHistory(
        era="attention",
        year=2017,
        reference="Vaswani et al. (2017)",
        peer="sklearn.neural_network:MLPClassifier",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_TRANSFORMER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        d_model=64,
        num_heads=4,
        num_layers=2,
        dim_feedforward=None,
        dropout=0.0,
        positions="learned",
        pooling="mean",
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=None,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
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
        self.d_model = d_model
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.positions = positions
        self.pooling = pooling
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
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


@fill_doc(**_DOC)
class TransformerEncoderRegressor(_TransformerEncoderMixin, BaseNeuralRegressor):
    """Transformer encoder regressor in torch, trained from scratch.

    Each row is a sequence (of float steps, or of token ids). Its steps
    are embedded, positions are added, pre-layer-norm blocks of multi-head
    self-attention (torch's fused ``scaled_dot_product_attention``, with
    the padding masked) and feed-forward layers transform them, and their
    mean (or a ``[CLS]`` token's state) feeds a linear output layer.
    Targets are standardised internally.

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
    TransformerEncoderClassifier : The same network for classification.
    LSTMRegressor : The recurrent network the Transformer replaced.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.neural_network import TransformerEncoderRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))
    >>> y = X.sum(axis=1)
    >>> reg = TransformerEncoderRegressor(max_iter=30, random_state=0)
    >>> reg.fit(X[:200], y[:200]).score(X[200:], y[200:]) > 0.8
    True
    """

    _history = ModelHistory(
        era="attention",
        year=2017,
        reference="Vaswani et al. (2017)",
        peer="sklearn.neural_network:MLPRegressor",
        input="sequence",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_TRANSFORMER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        d_model=64,
        num_heads=4,
        num_layers=2,
        dim_feedforward=None,
        dropout=0.0,
        positions="learned",
        pooling="mean",
        n_features_per_step=1,
        vocab_size=None,
        embedding_dim=None,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
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
        self.d_model = d_model
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.positions = positions
        self.pooling = pooling
        self.n_features_per_step = n_features_per_step
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
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
