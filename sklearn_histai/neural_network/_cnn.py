"""Convolutional networks for images (LeNet-style) and text (Kim's), by estimators."""

import math
import numbers

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from sklearn_histai._torch._docs import (
    AUGMENTATION_DOC,
    CLASS_WEIGHT_DOC,
    COMMON_PARAMETERS_DOC,
    LABEL_SMOOTHING_DOC,
)
from sklearn_histai._torch._estimator import (
    check_layer_sizes,
)
from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
    BaseNeuralRegressor,
)
from sklearn_histai._torch._tokens import (
    TOKEN_PARAMETER_CONSTRAINTS,
    TOKEN_PARAMETERS_DOC,
    TokenInputMixin,
)
from sklearn_histai.nn import LeNet, TextCNN
from sklearn_histai.nn._activations import ACTIVATIONS
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc

_IMG_DOC = """image_shape : tuple of int (channels, height, width) or None, default=None
        How to read each flat row as an image, e.g. ``(1, 8, 8)`` for 64
        columns; ``channels * height * width`` must equal the number of
        features. None reads each row as a 1-D signal of one channel and
        convolves along the feature axis. Ignored with token ids.
    channels : tuple of int, default=(10, 20)
        Output channels of each convolution (each followed by 2×2 pooling);
        not used with token ids.
    kernel_size : int, default=5
        Side of the convolution kernels; inputs are zero-padded so that any
        size works, down to a single feature. Not used with token ids.
    dense_size : int, default=50
        Width of the dense layer after the convolutions; not used with
        token ids.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Activation after each convolution and the dense layer.
    dropout : float, default=0.0
        Dropout probability before the output layer.
    """
_TEXT_DOC = """
    filter_sizes : tuple of int, default=(3, 4, 5)
        Token-id input: the widths (in tokens) of the text convolutions.
    num_filters : int, default=100
        Token-id input: the filters of each width."""
_CNN_DOC = _IMG_DOC + TOKEN_PARAMETERS_DOC + _TEXT_DOC
_CNN_CONSTRAINTS = {
    **TOKEN_PARAMETER_CONSTRAINTS,
    "image_shape": [tuple, list, None],
    "channels": [tuple, list],
    "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "dense_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "filter_sizes": [tuple, list],
    "num_filters": [Interval(numbers.Integral, 1, None, closed="left")],
}


class _CNNMixin(TokenInputMixin):
    """The module of the convolutional estimators.

    Float rows go through a LeNet-style network; with ``vocab_size`` set,
    rows of token ids go through Kim's text CNN.
    """

    # Token rows train in batches of similar lengths: the network skips the
    # padding past the longest row of a batch.
    _length_buckets = True

    def _check_params(self):
        check_layer_sizes(self.channels, "channels")
        check_layer_sizes(self.filter_sizes, "filter_sizes", allow_empty=False)
        if self.image_shape is not None:
            check_layer_sizes(self.image_shape, "image_shape", allow_empty=False)

    def _input_kind(self):
        if self.vocab_size is not None:
            return "tokens"
        return "sequence" if self.image_shape is None else "image"

    def _input_shape(self):
        if self.image_shape is None:
            return (1, self.n_features_in_)
        shape = tuple(self.image_shape)
        if len(shape) != 3 or math.prod(shape) != self.n_features_in_:
            raise ValueError(
                f"image_shape={self.image_shape!r} must be (channels, height, width) "
                f"with channels * height * width equal to the {self.n_features_in_} "
                "features of X."
            )
        return shape

    def _build_module(self):
        if self.vocab_size is not None:
            return TextCNN(
                self._n_embeddings_,
                self.n_outputs_,
                embedding_dim=self.embedding_dim,
                filter_sizes=tuple(self.filter_sizes),
                num_filters=self.num_filters,
                activation=self.activation,
                dropout=self.dropout,
                padding_value=self._token_padding(),
                embeddings=self._pretrained_embeddings(),
                freeze_embeddings=self.freeze_embeddings,
            )
        return LeNet(
            self._input_shape(),
            self.n_outputs_,
            channels=tuple(self.channels),
            kernel_size=self.kernel_size,
            dense_size=self.dense_size,
            activation=self.activation,
            dropout=self.dropout,
        )

    def _multiply_adds_per_sample(self, module):
        # A convolution kernel is applied at every position of its input.
        if isinstance(module, TextCNN):
            positions = self.n_features_in_
        else:
            positions = math.prod(module.input_shape[1:])
        return sum(
            layer.weight.numel() * positions
            if isinstance(layer, nn.Conv1d | nn.Conv2d)
            else sum(p.numel() for p in layer.parameters(recurse=False))
            for layer in module.modules()
        )


@fill_doc(
    architecture_parameters=_CNN_DOC,
    embedding_dim_default="100",
    class_weight=CLASS_WEIGHT_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class CNNClassifier(_CNNMixin, BaseNeuralClassifier):
    """Convolutional neural network classifier (LeNet-style) in torch.

    The default architecture is the classic LeNet-style network: a 5×5
    convolution with 10 channels, max-pooling, a 5×5 convolution with 20
    channels, max-pooling, a dense layer of 50 units and the output layer.

    With ``vocab_size`` set, each row is a sequence of token ids (e.g. from
    :class:`~sklearn_histai.text.TextTokenizer`) and the network is Kim's
    text CNN: embeddings, convolutions of widths ``filter_sizes`` with
    ``num_filters`` filters each, max-over-time pooling that ignores the
    padding, dropout and the output layer.

    Parameters
    ----------
    %(architecture_parameters)s
    %(class_weight)s
    %(label_smoothing)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
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
    CNNRegressor : The same network for regression.
    FeedForwardClassifier : A network without convolutions.

    References
    ----------
    .. [1] LeCun, Y., Bottou, L., Bengio, Y. and Haffner, P. (1998).
       "Gradient-based learning applied to document recognition." Proc. IEEE.
    .. [2] Kim, Y. (2014). "Convolutional neural networks for sentence
       classification." EMNLP.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_histai.neural_network import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(image_shape=(1, 8, 8), batch_size=32, max_iter=20,
    ...                     random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.85
    True

    Token ids, right-padded with 0, through the text CNN:

    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(1, 50, size=(200, 12))
    >>> y = (X == 7).any(axis=1).astype(int)
    >>> clf = CNNClassifier(vocab_size=50, filter_sizes=(2, 3), num_filters=8,
    ...                     batch_size=16, max_iter=30, random_state=0)
    >>> clf = clf.fit(X[:150], y[:150])
    >>> clf.score(X[150:], y[150:]) > 0.9
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1998,
        reference="LeCun, Bottou, Bengio & Haffner (1998)",
        peer="sklearn.neural_network:MLPClassifier",
        input="image",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_CNN_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(10, 20),
        kernel_size=5,
        dense_size=50,
        activation="relu",
        dropout=0.0,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        filter_sizes=(3, 4, 5),
        num_filters=100,
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
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.dense_size = dense_size
        self.activation = activation
        self.dropout = dropout
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.filter_sizes = filter_sizes
        self.num_filters = num_filters
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


@fill_doc(
    architecture_parameters=_CNN_DOC,
    embedding_dim_default="100",
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class CNNRegressor(_CNNMixin, BaseNeuralRegressor):
    """Convolutional neural network regressor (LeNet-style) in torch.

    The architecture of :class:`CNNClassifier` with one output per target:
    LeNet-style for float rows, Kim's text CNN for token ids (with
    ``vocab_size`` set). Targets are standardised internally, so the
    defaults work on targets of any scale.

    Parameters
    ----------
    %(architecture_parameters)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of targets.
    y_mean_ : ndarray of shape (`n_outputs_`,)
        Mean of the training targets.
    y_scale_ : ndarray of shape (`n_outputs_`,)
        Standard deviation of the training targets (1 where constant).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (R², with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch (on standardised targets).
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module.

    See Also
    --------
    CNNClassifier : The same network for classification.

    References
    ----------
    .. [1] LeCun, Y., Bottou, L., Bengio, Y. and Haffner, P. (1998).
       "Gradient-based learning applied to document recognition." Proc. IEEE.
    .. [2] Kim, Y. (2014). "Convolutional neural networks for sentence
       classification." EMNLP.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.neural_network import CNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 16))
    >>> y = X[:, :4].sum(axis=1)
    >>> reg = CNNRegressor(image_shape=(1, 4, 4), max_iter=50, random_state=0)
    >>> reg.fit(X[:200], y[:200]).score(X[200:], y[200:]) > 0.5
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1998,
        reference="LeCun, Bottou, Bengio & Haffner (1998)",
        peer="sklearn.neural_network:MLPRegressor",
        input="image",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_CNN_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(10, 20),
        kernel_size=5,
        dense_size=50,
        activation="relu",
        dropout=0.0,
        vocab_size=None,
        embedding_dim=100,
        padding_value="auto",
        embeddings=None,
        freeze_embeddings=False,
        filter_sizes=(3, 4, 5),
        num_filters=100,
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
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.dense_size = dense_size
        self.activation = activation
        self.dropout = dropout
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.padding_value = padding_value
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.filter_sizes = filter_sizes
        self.num_filters = num_filters
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
