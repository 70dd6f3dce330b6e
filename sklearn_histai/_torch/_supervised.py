"""The bases of the neural classifiers and regressors: targets, losses, outputs."""

import math
import numbers

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_scalar, compute_sample_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
)
from torch import nn

from sklearn_histai._torch._distillation import (
    DistillationLoss,
    SoftTargets,
    distillation_targets,
    soft_target_classes,
    soften,
    target_labels,
)
from sklearn_histai._torch._estimator import BaseNeuralEstimator
from sklearn_histai.augmentation import AUGMENTATIONS, Augmentation
from sklearn_histai.augmentation._base import resolve_augmentation

AUGMENTATION_CONSTRAINT = {
    "augmentation": [None, str, list, tuple, callable, Augmentation]
}
LABEL_SMOOTHING_CONSTRAINT = {
    "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")]
}


def resolve_augmentations(estimator):
    """The augmentations that ``estimator.augmentation`` names, checked for its input.

    Parameters
    ----------
    estimator : BaseNeuralEstimator
        An estimator with an ``augmentation`` parameter.

    Returns
    -------
    augmentations : list of Augmentation
    """
    return resolve_augmentation(
        estimator.augmentation, AUGMENTATIONS, estimator._input_kind()
    )


def label_smoothing_params(estimator):
    """The criterion's ``label_smoothing``, left out when it is zero.

    Parameters
    ----------
    estimator : BaseNeuralEstimator
        An estimator with a ``label_smoothing`` parameter.

    Returns
    -------
    params : dict
    """
    if estimator.label_smoothing == 0:
        return {}
    return {"label_smoothing": float(estimator.label_smoothing)}


def encode_labels(estimator, labels, classes=None):
    """Return class ``labels`` as int64 indices into ``estimator.classes_``.

    The first fit learns ``classes_`` (at least two) and ``n_outputs_``,
    from ``labels`` or from ``classes`` where given (the first
    ``partial_fit``); a warm start or a further ``partial_fit`` accepts only
    the classes it learnt.

    Parameters
    ----------
    estimator : BaseNeuralEstimator
        The classifier being fitted.
    labels : array-like of shape (n_labels,)
        The class labels.
    classes : array-like of shape (n_classes,), default=None
        Every class of the data, of which ``labels`` may hold some.

    Returns
    -------
    encoded : ndarray of shape (n_labels,) and dtype int64
    """
    check_classification_targets(labels)
    continuing = estimator._continuing()
    if classes is not None:
        classes = np.unique(np.asarray(classes))
        if continuing and not np.array_equal(classes, estimator.classes_):
            raise ValueError(
                f"classes={classes.tolist()} is not the same as the classes of the "
                f"first partial_fit: {estimator.classes_.tolist()}."
            )
    if continuing or classes is not None:
        known = estimator.classes_ if continuing else classes
        unknown = np.setdiff1d(labels, known)
        if len(unknown):
            source = (
                "the classes seen in the first fit"
                if continuing
                else "the classes passed as `classes`"
            )
            raise ValueError(
                f"y holds labels {unknown.tolist()} that are not among {source}: "
                f"{known.tolist()}."
            )
        if continuing:
            return np.searchsorted(known, labels).astype(np.int64)
    encoder = LabelEncoder().fit(labels if classes is None else classes)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in "
            f"the data, but the data contains only one class: "
            f"{encoder.classes_[0]!r}."
        )
    estimator.classes_ = encoder.classes_
    estimator.n_outputs_ = len(encoder.classes_)
    return encoder.transform(labels).astype(np.int64)


def mean_and_scale(values, sample_weight):
    """Weighted mean and standard deviation of each column (1 where constant).

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_columns)
        The values, e.g. regression targets or features to standardise.
    sample_weight : ndarray of shape (n_samples,)
        The weight of each row.

    Returns
    -------
    mean : ndarray of shape (n_columns,)
    scale : ndarray of shape (n_columns,)
    """
    mean = np.average(values, axis=0, weights=sample_weight)
    scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=sample_weight))
    return mean, np.where(scale > 0, scale, 1.0)


def weighted_r2(targets, outputs, weights):
    """R² of ``outputs``, averaged over the targets, as ``r2_score`` computes it.

    The formula of :func:`sklearn.metrics.r2_score` (uniform average, a
    target of zero variance scoring 1 when predicted exactly and 0
    otherwise, NaN for fewer than two rows) without its checks of the
    input, which cost 30 times the computation at every epoch of early
    stopping.

    Parameters
    ----------
    targets : ndarray of shape (n_samples,) or (n_samples, n_targets)
        True values.
    outputs : ndarray of the shape of ``targets``
        Predictions; (n_samples, 1) for one target is accepted too.
    weights : ndarray of shape (n_samples,)
        Sample weights.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai._torch._supervised import weighted_r2
    >>> weighted_r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]), np.ones(3))
    0.5
    """
    if len(targets) < 2:
        return float("nan")
    targets = targets.reshape(len(targets), -1)
    outputs = outputs.reshape(len(outputs), -1)
    column = weights[:, None]
    numerator = (column * (targets - outputs) ** 2).sum(axis=0)
    mean = np.average(targets, axis=0, weights=weights)
    denominator = (column * (targets - mean) ** 2).sum(axis=0)
    scores = np.where(numerator == 0, 1.0, 0.0)
    varies = denominator != 0
    scores[varies] = 1 - numerator[varies] / denominator[varies]
    return float(scores.mean())


def _softmax(logits):
    # In float64: float32 probabilities sum to one only within ~1e-7, less
    # closely than scikit-learn's log_loss checks (its float64 eps).
    return torch.softmax(logits.to(torch.float64), dim=1)


class BaseNeuralClassifier(ClassifierMixin, BaseNeuralEstimator):
    """Base of the neural classifiers: label encoding, cross-entropy, probabilities.

    A subclass's ``__init__`` takes ``class_weight``, ``label_smoothing``
    and ``augmentation`` besides the parameters of
    :class:`BaseNeuralEstimator`.
    """

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        **LABEL_SMOOTHING_CONSTRAINT,
        **AUGMENTATION_CONSTRAINT,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def _augmentations(self):
        return resolve_augmentations(self)

    def _criterion_params(self):
        params = label_smoothing_params(self)
        soft = self._running_soft_targets()
        if soft is not None:
            params.update(temperature=soft.temperature, alpha=soft.alpha)
        return params

    def _running_soft_targets(self):
        """The soft targets of the running :meth:`fit_soft_targets`, or None."""
        return vars(self).get("_soft_targets")

    def _encode_targets(self, y, sample_weight, classes=None):
        indices = encode_labels(self, y, classes)
        soft = self._running_soft_targets()
        if soft is None:
            return indices
        return distillation_targets(indices, soft.labelled, soft.softened)

    def _class_sample_weight(self, targets):
        if self.class_weight is None:
            return 1.0
        if targets.ndim == 2:  # soft targets: the labels they stand for
            targets = target_labels(targets)
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            unknown = [label for label in class_weight if label not in self.classes_]
            if unknown:
                raise ValueError(
                    f"class_weight names classes that are not in y: {unknown}; "
                    f"the classes are {self.classes_.tolist()}."
                )
            class_weight = {
                int(np.searchsorted(self.classes_, label)): weight
                for label, weight in class_weight.items()
            }
        return compute_sample_weight(class_weight, targets)

    def _stratification(self, targets):
        return target_labels(targets) if targets.ndim == 2 else targets

    def _baseline_loss(self):
        # The cross-entropy of predicting every class alike; with soft
        # targets, that of both terms of the distillation loss.
        baseline = math.log(len(self.classes_))
        soft = self._running_soft_targets()
        if soft is None:
            return baseline
        return baseline * (soft.alpha * soft.temperature**2 + 1 - soft.alpha)

    def _criterion(self):
        if self._running_soft_targets() is not None:
            return DistillationLoss
        return nn.CrossEntropyLoss

    @staticmethod
    def _validation_score(outputs, targets, weights):
        # accuracy_score's, without its checks of the input, which cost 50
        # times the computation, at every epoch.
        if targets.ndim == 2:
            targets = target_labels(targets)
        return float(np.average(outputs.argmax(axis=1) == targets, weights=weights))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train the network for one epoch over ``(X, y)``, continuing it.

        The first call builds the network, and needs ``classes`` unless
        ``y`` holds every class; later calls continue the network and its
        optimizer's state (Adam's moments), as scikit-learn's
        ``MLPClassifier.partial_fit`` does. Each call is one epoch at a
        constant learning rate, without early stopping. This is the
        method ``dask_ml.wrappers.Incremental`` calls on each block of a
        larger-than-memory data set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the data. Needed at the first call when ``y``
            does not hold them all; later calls may repeat it.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The estimator, trained one epoch further.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_soft_targets(
        self,
        X,
        soft_targets,
        y=None,
        *,
        classes=None,
        labelled=None,
        temperature=1.0,
        alpha=0.5,
        sample_weight=None,
    ):
        """Train the network on class probabilities (soft targets), as a student.

        Knowledge distillation [1]_: the loss of a row is ``alpha * T**2 *
        CE(softmax(z / T), p_T) + (1 - alpha) * CE(softmax(z), y)``, where
        ``z`` are the network's logits, ``p_T`` the row's soft targets
        softened at the temperature ``T`` (``p_T ∝ p ** (1 / T)``) and ``y``
        its hard label. Rows without a hard label (a transfer set of
        unlabelled inputs) have the soft term only. Everything else is as
        in :meth:`fit`: early stopping (on the validation loss of the same
        objective), sample and class weights (of the hard label, or of the
        most probable soft class where there is none), seeding, warm
        starts, and a failed fit leaving the estimator as it was.
        :class:`~sklearn_histai.deploy.DistilledClassifier` calls this
        method with a teacher's probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, as :meth:`fit` takes them.
        soft_targets : array-like of shape (n_samples, n_classes)
            Class probabilities of each row (e.g. a teacher's
            ``predict_proba``), at temperature one: non-negative rows that
            sum to one, whose columns follow ``classes``.
        y : array-like of shape (n_samples,), default=None
            Hard labels. None: no row has one (the soft term only).
        classes : array-like of shape (n_classes,), default=None
            The class of each column of ``soft_targets``. By default, the
            sorted labels of ``y`` (which must then hold every class), or
            ``0, ..., n_classes - 1`` without ``y``.
        labelled : array-like of shape (n_samples,) and dtype bool, default=None
            Which rows have a hard label in ``y``; the others are read as
            unlabelled, whatever ``y`` holds there. By default every row
            when ``y`` is given.
        temperature : float, default=1.0
            The temperature ``T`` (positive) of the soft term; above one it
            exposes the relative probabilities of the unlikely classes.
        alpha : float, default=0.5
            The weight of the soft term, in [0, 1]; ``1 - alpha`` weighs the
            hard labels. ``alpha=0`` trains on the hard labels alone.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The fitted estimator; ``classes_`` is ``classes``.

        References
        ----------
        .. [1] Hinton, G., Vinyals, O. and Dean, J. (2015). "Distilling the
           knowledge in a neural network." NIPS Deep Learning Workshop.
        """
        check_scalar(
            temperature,
            "temperature",
            numbers.Real,
            min_val=0,
            include_boundaries="neither",
        )
        check_scalar(alpha, "alpha", numbers.Real, min_val=0, max_val=1)
        soft_targets = check_array(
            soft_targets, dtype=np.float64, input_name="soft_targets"
        )
        n_samples, n_classes = soft_targets.shape
        if (soft_targets < 0).any() or not np.allclose(
            soft_targets.sum(axis=1), 1, atol=1e-4
        ):
            raise ValueError(
                "soft_targets must hold class probabilities: non-negative rows "
                "that sum to one."
            )
        if labelled is None:
            labelled = np.full(n_samples, y is not None)
        labelled = check_array(
            labelled, ensure_2d=False, dtype=None, input_name="labelled"
        )
        if labelled.dtype != bool or labelled.ndim != 1:
            raise ValueError(
                f"labelled must be a 1-D array of bool; got dtype "
                f"{labelled.dtype} and shape {labelled.shape}."
            )
        if labelled.any() and y is None:
            raise ValueError("labelled marks rows with hard labels, but y is None.")
        labels = None
        if y is not None:
            y = np.asarray(y)
            check_consistent_length(soft_targets, y)
            labels = y[labelled]
            check_classification_targets(labels)
        check_consistent_length(X, soft_targets, labelled)
        classes, soft_targets = soft_target_classes(classes, labels, soft_targets)
        # The label of each row as fit reads it: the hard label, or the most
        # probable soft class of an unlabelled row (for the stratified split
        # and the class weights), which the loss does not read.
        indices = soft_targets.argmax(axis=1)
        if labels is not None:
            known = np.isin(labels, classes)
            if not known.all():
                raise ValueError(
                    f"y holds labels {np.unique(labels[~known]).tolist()} that are "
                    f"not among the classes of soft_targets: {classes.tolist()}."
                )
            indices[labelled] = np.searchsorted(classes, labels)
        self._soft_targets = SoftTargets(
            soften(soft_targets, temperature), labelled, temperature, alpha
        )
        try:
            return self._fit(X, classes[indices], sample_weight, classes=classes)
        finally:
            vars(self).pop("_soft_targets", None)

    def predict_proba(self, X):
        """Class probabilities of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        # The softmax runs in torch, chunk by chunk: in numpy, its row-wise
        # reductions over a few columns cost as much as the network itself.
        return self._forward(X, activation=_softmax)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class BaseNeuralRegressor(RegressorMixin, BaseNeuralEstimator):
    """Base of the neural regressors: standardised targets, squared error.

    A subclass's ``__init__`` takes ``augmentation`` besides the parameters
    of :class:`BaseNeuralEstimator`.
    """

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        **AUGMENTATION_CONSTRAINT,
    }

    def _augmentations(self):
        return resolve_augmentations(self)

    def _target_validation(self):
        return {"multi_output": True, "y_numeric": True}

    def _encode_targets(self, y, sample_weight):
        y = np.asarray(y, dtype=np.float64)
        y2d = y.reshape(len(y), -1)
        if not self._continuing():
            # The targets are standardised so that the defaults work on
            # targets of any scale (the loss and learning rate see unit scale).
            self.y_mean_, self.y_scale_ = mean_and_scale(y2d, sample_weight)
            self.n_outputs_ = y2d.shape[1]
            self.y_ndim_ = y.ndim
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} targets, but the network was fitted with "
                f"{self.n_outputs_}."
            )
        return (y2d - self.y_mean_) / self.y_scale_

    def _criterion(self):
        return nn.MSELoss

    def _baseline_loss(self):
        # Predicting the mean of the standardised targets: a squared error
        # of one per target.
        return 1.0

    @staticmethod
    def _validation_score(outputs, targets, weights):
        return weighted_r2(targets, outputs, weights)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, of any scale: they are standardised internally.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train the network for one epoch over ``(X, y)``, continuing it.

        The first call builds the network and standardises the targets
        with the mean and scale of its ``y``; later calls continue the
        network and its optimizer's state (Adam's moments), as
        scikit-learn's ``MLPRegressor.partial_fit`` does. Each call is one
        epoch at a constant learning rate, without early stopping. This is
        the method ``dask_ml.wrappers.Incremental`` calls on each block of
        a larger-than-memory data set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The estimator, trained one epoch further.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions on the scale of the training targets.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        y = self._forward(X) * self.y_scale_ + self.y_mean_
        return y.ravel() if self.y_ndim_ == 1 else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
