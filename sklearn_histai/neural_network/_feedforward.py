"""Feed-forward networks (multi-layer perceptrons) for classification and regression."""

import numbers

from sklearn.utils._param_validation import Interval, StrOptions

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
from sklearn_histai.nn import MLP
from sklearn_histai.nn._activations import ACTIVATIONS
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc

_FEEDFORWARD_CONSTRAINTS = {
    "hidden_layer_sizes": [tuple, list],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
}


_FEEDFORWARD_DOC = """hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer (positive integers).
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout probability after each hidden layer."""


class _FeedForwardMixin:
    """The module of the feed-forward estimators."""

    def _check_params(self):
        check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _build_module(self):
        return MLP(
            self.n_features_in_,
            self.n_outputs_,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            activation=self.activation,
            dropout=self.dropout,
        )


@fill_doc(
    architecture_parameters=_FEEDFORWARD_DOC,
    class_weight=CLASS_WEIGHT_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class FeedForwardClassifier(_FeedForwardMixin, BaseNeuralClassifier):
    """Feed-forward neural network classifier (multi-layer perceptron) in torch.

    Trained with mini-batch gradient descent through skorch, on CPU or GPU.
    Probabilities come from a softmax over one output per class.

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
    FeedForwardRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's numpy implementation.

    References
    ----------
    .. [1] Rumelhart, D. E., Hinton, G. E. and Williams, R. J. (1986).
       "Learning representations by back-propagating errors." Nature 323.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_histai.neural_network import FeedForwardClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), FeedForwardClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1986,
        reference="Rumelhart, Hinton & Williams (1986)",
        peer="sklearn.neural_network:MLPClassifier",
        input="tabular",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_FEEDFORWARD_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
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
    architecture_parameters=_FEEDFORWARD_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=COMMON_PARAMETERS_DOC,
)
class FeedForwardRegressor(_FeedForwardMixin, BaseNeuralRegressor):
    """Feed-forward neural network regressor (multi-layer perceptron) in torch.

    Trained with mini-batch gradient descent through skorch, on CPU or GPU.
    Targets are standardised internally, so the defaults work on targets of
    any scale.

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
    FeedForwardClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's numpy implementation.

    References
    ----------
    .. [1] Rumelhart, D. E., Hinton, G. E. and Williams, R. J. (1986).
       "Learning representations by back-propagating errors." Nature 323.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_histai.neural_network import FeedForwardRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = FeedForwardRegressor(random_state=0).fit(X[:300], y[:300])
    >>> reg.score(X[300:], y[300:]) > 0.3
    True
    """

    _history = ModelHistory(
        era="neural",
        year=1986,
        reference="Rumelhart, Hinton & Williams (1986)",
        peer="sklearn.neural_network:MLPRegressor",
        input="tabular",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_FEEDFORWARD_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
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
