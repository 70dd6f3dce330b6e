"""Convolutional networks (LeNet-style) for classification and regression."""

import math
import numbers

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from sklearn_histai.neural_network._base import (
    BaseNeuralClassifier,
    BaseNeuralEstimator,
    BaseNeuralRegressor,
)
from sklearn_histai.nn import LeNet
from sklearn_histai.nn._activations import ACTIVATIONS
from sklearn_histai.utils import ModelHistory

_CNN_DOC = """image_shape : tuple of int (channels, height, width) or None, default=None
        How to read each flat row as an image, e.g. ``(1, 8, 8)`` for 64
        columns; ``channels * height * width`` must equal the number of
        features. None reads each row as a 1-D signal of one channel and
        convolves along the feature axis.
    channels : tuple of int, default=(10, 20)
        Output channels of each convolution (each followed by 2×2 pooling).
    kernel_size : int, default=5
        Side of the convolution kernels; inputs are zero-padded so that any
        size works, down to a single feature.
    dense_size : int, default=50
        Width of the dense layer after the convolutions.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Activation after each convolution and the dense layer.
    dropout : float, default=0.0
        Dropout probability before the output layer."""


class _CNNMixin:
    """The architecture parameters and module of the convolutional estimators."""

    _doc_pieces = {"architecture_parameters": _CNN_DOC}

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "image_shape": [tuple, list, None],
        "channels": [tuple, list],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "dense_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

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
        positions = math.prod(module.input_shape[1:])
        return sum(
            layer.weight.numel() * positions
            if isinstance(layer, nn.Conv1d | nn.Conv2d)
            else sum(p.numel() for p in layer.parameters(recurse=False))
            for layer in module.modules()
        )


class CNNClassifier(_CNNMixin, BaseNeuralClassifier):
    """Convolutional neural network classifier (LeNet-style) in torch.

    The default architecture is the classic LeNet-style network: a 5×5
    convolution with 10 channels, max-pooling, a 5×5 convolution with 20
    channels, max-pooling, a dense layer of 50 units and the output layer.

    Parameters
    ----------
    %(architecture_parameters)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss; "balanced" weighs each class
        inversely to its frequency.
    %(common_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_histai.neural_network import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(image_shape=(1, 8, 8), max_iter=20, random_state=0)
    >>> clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.9
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1998,
        reference="LeCun, Bottou, Bengio & Haffner (1998)",
        peer="sklearn.neural_network:MLPClassifier",
        input="image",
    )

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(10, 20),
        kernel_size=5,
        dense_size=50,
        activation="relu",
        dropout=0.0,
        **common,
    ):
        super().__init__(**common)
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.dense_size = dense_size
        self.activation = activation
        self.dropout = dropout


class CNNRegressor(_CNNMixin, BaseNeuralRegressor):
    """Convolutional neural network regressor (LeNet-style) in torch.

    The architecture of :class:`CNNClassifier` with one output per target.
    Targets are standardised internally, so the defaults work on targets of
    any scale.

    Parameters
    ----------
    %(architecture_parameters)s
    %(common_parameters)s

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of targets.
    y_mean_ : ndarray of shape (n_outputs_,)
        Mean of the training targets.
    y_scale_ : ndarray of shape (n_outputs_,)
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

    def __init__(
        self,
        *,
        image_shape=None,
        channels=(10, 20),
        kernel_size=5,
        dense_size=50,
        activation="relu",
        dropout=0.0,
        **common,
    ):
        super().__init__(**common)
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.dense_size = dense_size
        self.activation = activation
        self.dropout = dropout
