"""The autoencoder as a scikit-learn transformer: codes, reconstructions."""

import numbers

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_histai._torch._docs import COMMON_PARAMETERS_DOC
from sklearn_histai._torch._estimator import BaseNeuralEstimator, check_layer_sizes
from sklearn_histai._torch._supervised import mean_and_scale
from sklearn_histai.nn import Autoencoder
from sklearn_histai.nn._activations import ACTIVATIONS
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc


@fill_doc(common_parameters=COMMON_PARAMETERS_DOC)
class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNeuralEstimator
):
    """Autoencoder in torch: a non-linear code of each row, and its reconstruction.

    An encoder network maps each row to a code of ``n_components`` numbers
    and a decoder maps the code back; both are trained together to
    reconstruct the rows (mean squared error on standardised features), so
    the code keeps what the rows need to be rebuilt. It is unsupervised, a
    non-linear counterpart of :class:`~sklearn.decomposition.PCA` (with
    ``activation="identity"`` it learns the same subspace): ``transform``
    gives the codes, e.g. for :class:`~sklearn.cluster.KMeans`,
    :class:`~sklearn.manifold.TSNE` or a classifier in a ``Pipeline``, and
    ``inverse_transform`` the reconstructions. Features are standardised
    internally with their (weighted) training mean and standard deviation.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the encoder's hidden layers; the decoder mirrors them. With
        ``image_shape``, the channels of its stride-2 convolutions (each
        halves the height and width of the image).
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Activation of the hidden layers. The code itself is linear.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the standardised
        features while training: a denoising autoencoder (Vincent et al.,
        2008), which must rebuild each row from a corrupted copy. ``transform``
        never adds noise.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(channels, height, width)`` of the images
        whose flattened pixels the rows hold (channels first): the encoder
        and decoder are then convolutional. None means dense layers.
    %(common_parameters)s

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    mean_ : ndarray of shape (`n_features_in_`,)
        Weighted mean of each training feature.
    scale_ : ndarray of shape (`n_features_in_`,)
        Weighted standard deviation of each training feature (1 where
        constant).
    n_outputs_ : int
        Size of the reconstruction (``n_features_in_``).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (R² of the reconstruction, with early stopping) and
        ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch (mean squared error per standardised
        feature).
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the
        :class:`~sklearn_histai.nn.Autoencoder`.

    See Also
    --------
    sklearn.decomposition.PCA : The linear code of the same size.
    sklearn_histai.nn.Autoencoder : The torch module.

    References
    ----------
    .. [1] Hinton, G. E. and Salakhutdinov, R. R. (2006). "Reducing the
       dimensionality of data with neural networks." Science 313.
    .. [2] Vincent, P., Larochelle, H., Bengio, Y. and Manzagol, P.-A. (2008).
       "Extracting and composing robust features with denoising
       autoencoders." ICML.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.metrics import adjusted_rand_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_histai.neural_network import AutoencoderTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> autoencoder = AutoencoderTransformer(n_components=8, random_state=0)
    >>> codes = autoencoder.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> autoencoder.inverse_transform(codes).shape
    (1797, 64)
    >>> clusters = make_pipeline(
    ...     AutoencoderTransformer(n_components=8, random_state=0),
    ...     KMeans(10, n_init=10, random_state=0),
    ... ).fit_predict(X)
    >>> adjusted_rand_score(y, clusters) > 0.3  # chance is 0
    True
    """

    _history = ModelHistory(
        era="neural",
        year=2006,
        reference="Hinton & Salakhutdinov (2006)",
        peer="sklearn.decomposition:PCA",
        input="tabular",
    )

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "noise": [Interval(numbers.Real, 0, None, closed="left")],
        "image_shape": [tuple, list, None],
    }

    def __init__(
        self,
        *,
        n_components=2,
        hidden_layer_sizes=(64,),
        activation="relu",
        noise=0.0,
        image_shape=None,
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
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.noise = noise
        self.image_shape = image_shape
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

    # -- the hooks of the neural base ---------------------------------------------

    def _check_params(self):
        check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        if self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) not in (2, 3) or not all(
                isinstance(n, numbers.Integral) and n > 0 for n in shape
            ):
                raise ValueError(
                    "image_shape must be (height, width) or (channels, height, "
                    f"width) of positive integers; got {self.image_shape!r}."
                )
            if not self.hidden_layer_sizes:
                raise ValueError(
                    "A convolutional autoencoder (image_shape set) needs at least "
                    "one hidden layer: hidden_layer_sizes is empty."
                )

    def _image_shape(self):
        shape = tuple(self.image_shape)
        return shape if len(shape) == 3 else (1, *shape)

    def _check_input(self, X, *, reset):
        if self.image_shape is not None:
            shape = self._image_shape()
            if np.prod(shape) != X.shape[1]:
                raise ValueError(
                    f"X has {X.shape[1]} features, but image_shape="
                    f"{tuple(self.image_shape)} holds {int(np.prod(shape))} pixels."
                )
        return X

    def _validate_input(self, X, *, reset, y="no_validation"):
        X = super()._validate_input(X, reset=reset)
        if isinstance(y, str) and y == "no_validation":
            return X
        # The network learns to give back its input.
        return X, X

    def _encode_targets(self, y, sample_weight):
        if not self._continuing():
            self.mean_, self.scale_ = mean_and_scale(y, sample_weight)
            self.n_outputs_ = y.shape[1]
        return (y - self.mean_) / self.scale_

    def _build_module(self):
        image_shape = None if self.image_shape is None else self._image_shape()
        return Autoencoder(
            self.n_features_in_,
            self.n_components,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            activation=self.activation,
            image_shape=image_shape,
            mean=self.mean_,
            scale=self.scale_,
            noise=self.noise,
        )

    def _criterion(self):
        return nn.MSELoss

    def _baseline_loss(self):
        # Reconstructing every row as the mean: one per standardised feature.
        return 1.0

    @staticmethod
    def _validation_score(outputs, targets, weights):
        return r2_score(targets, outputs, sample_weight=weights)

    def _multiply_adds_per_sample(self, module):
        if self.image_shape is None:
            return super()._multiply_adds_per_sample(module)
        # Each convolution weight is applied at every position of its output.
        height, width = self._image_shape()[1:]
        return sum(p.numel() for p in module.parameters()) * height * width // 4

    # -- the public API -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the encoder and decoder to reconstruct the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows (flattened images with ``image_shape``).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the reconstruction loss and of the feature
            statistics.

        Returns
        -------
        self : object
            The fitted autoencoder.
        """
        return self._fit(X, None, sample_weight)

    def transform(self, X):
        """Encode rows: the code of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            The codes.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._forward(X, module=self.net_.module_.encoder)

    def inverse_transform(self, X):
        """Decode codes back to rows in the scale of the training features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstructions.
        """
        check_is_fitted(self)
        codes = self._validate_codes(X)
        decoded = self._forward(codes, module=self.net_.module_.decoder)
        return decoded * self.scale_ + self.mean_

    def _validate_codes(self, X):
        codes = check_array(X, dtype=list(self._input_dtype))
        if codes.shape[1] != self.n_components:
            raise ValueError(
                f"X has {codes.shape[1]} columns, but the autoencoder's codes have "
                f"n_components={self.n_components}."
            )
        return codes

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
