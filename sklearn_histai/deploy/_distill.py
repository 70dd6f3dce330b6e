"""Knowledge distillation: a neural student trained on a teacher's probabilities."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from sklearn_histai._torch._supervised import BaseNeuralClassifier
from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.utils import ModelHistory


class DistilledClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A neural student trained on a teacher's softened probabilities.

    Knowledge distillation [1]_: the teacher, any fitted classifier with
    ``predict_proba`` (a fine-tuned transformer, a bag-of-words pipeline,
    an ensemble), is fitted on ``(X, y)`` unless ``prefit``; the student,
    one of this package's neural classifiers or a pipeline ending in one,
    then learns from the teacher's probabilities at the temperature ``T``
    together with the hard labels. The loss of a row is ``alpha * T**2 *
    CE(softmax(z / T), p_T) + (1 - alpha) * CE(softmax(z), y)``, where
    ``z`` are the student's logits and ``p_T ∝ p ** (1 / T)`` are the
    teacher's probabilities softened. Unlabelled inputs (a transfer set,
    ``fit``'s ``X_transfer``) add rows that have the soft term only.
    Prediction is the student's alone: the point is a model smaller and
    faster than its teacher.

    Parameters
    ----------
    teacher : estimator, default=None
        A classifier with ``fit`` and ``predict_proba`` (only
        ``predict_proba`` with ``prefit=True``). None:
        :class:`~sklearn_histai.linear_model.LogisticRegression`.
    student : estimator, default=None
        One of this package's neural classifiers (e.g.
        :class:`~sklearn_histai.neural_network.FeedForwardClassifier`), or a
        :class:`~sklearn.pipeline.Pipeline` ending in one (e.g.
        :func:`~sklearn_histai.text.make_text_classifier`). None:
        :class:`~sklearn_histai.neural_network.FeedForwardClassifier`.
    temperature : float, default=2.0
        The temperature ``T`` (positive) at which the student matches the
        teacher; above one, the student also learns the relative
        probabilities of the unlikely classes (Hinton et al.'s "dark
        knowledge").
    alpha : float, default=0.5
        The weight of the teacher's soft targets, in [0, 1]; ``1 - alpha``
        weighs the hard labels. ``alpha=0`` trains the student on the labels
        alone, ``alpha=1`` on the teacher alone.
    prefit : bool, default=False
        Whether ``teacher`` is already fitted: it is then used as it is
        (never refitted, copied or modified) and ``y``'s labels must be
        among its classes. A :class:`~sklearn.frozen.FrozenEstimator`
        teacher does the same with ``prefit=False``.
    random_state : int, RandomState instance or None, default=None
        Seeds every ``random_state`` of the teacher (unless ``prefit``) and
        of the student, in place of theirs; None leaves theirs as they are.

    Attributes
    ----------
    teacher_ : estimator
        The fitted teacher; with ``prefit=True``, ``teacher`` itself.
    student_ : estimator
        The fitted student, a clone of ``student``.
    classes_ : ndarray of shape (n_classes,)
        The teacher's classes, sorted: the student predicts them all, also
        those that ``y`` does not hold.
    n_features_in_ : int
        Number of features seen during ``fit``, where the student reads
        numeric rows (not raw text).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, where ``X`` had string
        column names.

    See Also
    --------
    sklearn_histai.deploy.quantize : Another way to a smaller model: int8 or
        half-precision weights.
    sklearn_histai.deploy.prune : Another: zeroed weights or units.

    Notes
    -----
    The student trains through its own
    :meth:`~sklearn_histai.neural_network.FeedForwardClassifier.fit_soft_targets`
    with all of its settings: early stopping (on the validation loss of the
    distillation objective), class weights, label smoothing, the device.
    The steps of a pipeline student before its network are fitted on ``X``
    and the transfer set (with the teacher's predicted labels for the
    transfer rows), without sample weights. A sample weight of ``fit``
    weighs a row in the teacher's fit (the last step's, for a pipeline) and
    in the student's; a transfer row weighs one.

    References
    ----------
    .. [1] Hinton, G., Vinyals, O. and Dean, J. (2015). "Distilling the
       knowledge in a neural network." NIPS Deep Learning Workshop.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_histai.deploy import DistilledClassifier
    >>> from sklearn_histai.neural_network import FeedForwardClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> student = make_pipeline(
    ...     StandardScaler(),
    ...     FeedForwardClassifier(hidden_layer_sizes=(16,), learning_rate=0.01),
    ... )
    >>> distilled = DistilledClassifier(
    ...     RandomForestClassifier(n_estimators=50), student, random_state=0
    ... ).fit(X, y)
    >>> distilled.predict(X[[0, 50, 100]]).tolist()
    [0, 1, 2]
    >>> bool(distilled.score(X, y) > 0.9)
    True
    """

    _history = ModelHistory(
        era="neural",
        year=2015,
        reference="Hinton, Vinyals & Dean (2015)",
        input="tabular",
    )

    _parameter_constraints = {
        "teacher": [HasMethods(["predict_proba"]), None],
        "student": [HasMethods(["fit", "predict_proba"]), None],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "prefit": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        teacher=None,
        student=None,
        *,
        temperature=2.0,
        alpha=0.5,
        prefit=False,
        random_state=None,
    ):
        self.teacher = teacher
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.prefit = prefit
        self.random_state = random_state

    def _student(self):
        """The student parameter, or its default, checked to be a neural classifier."""
        student = FeedForwardClassifier() if self.student is None else self.student
        network = student.steps[-1][1] if isinstance(student, Pipeline) else student
        if not isinstance(network, BaseNeuralClassifier):
            raise TypeError(
                "student must be one of sklearn_histai's neural classifiers "
                "(e.g. FeedForwardClassifier, EmbeddingBagClassifier, "
                "TransformerClassifier) or a Pipeline ending in one; got "
                f"{type(network).__name__}."
            )
        return student

    def _teacher(self):
        """The teacher parameter, or its default."""
        teacher = LogisticRegression() if self.teacher is None else self.teacher
        if not self.prefit and not hasattr(teacher, "fit"):
            raise TypeError(
                f"teacher {type(teacher).__name__} has no fit method; pass a "
                "fitted teacher with prefit=True."
            )
        return teacher

    # The teacher and the student validate their own parameters.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, X_transfer=None):
        """Fit the teacher (unless ``prefit``), then the student on its probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of str
            Training inputs, in the form the teacher and the student take
            (numeric rows, or raw texts for text pipelines).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the teacher's and the student's fits.
        X_transfer : array-like or list of str, default=None
            Unlabelled inputs in the form of ``X`` (a transfer set): the
            student also matches the teacher's probabilities on them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        student = self._student()
        teacher = self._teacher()
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        seeds = self._seeds()
        if self.prefit:
            check_is_fitted(
                teacher,
                msg=(
                    "prefit=True needs a fitted teacher, but this "
                    f"{type(teacher).__name__} is not fitted yet: fit it, or set "
                    "prefit=False."
                ),
            )
        else:
            teacher = clone(teacher)
            if seeds is not None:
                _set_random_states(teacher, seeds[0])
            _fit_weighted(teacher, X, y, sample_weight)
        classes = np.asarray(teacher.classes_)
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(
                f"y holds labels {unknown.tolist()} that the teacher does not "
                f"predict; its classes are {classes.tolist()}."
            )

        labelled = np.ones(len(y), dtype=bool)
        if X_transfer is not None:
            X = _stack(X, X_transfer)
            labelled = np.r_[labelled, np.zeros(len(X) - len(y), dtype=bool)]
            if sample_weight is not None:
                sample_weight = np.r_[sample_weight, np.ones(len(X) - len(y))]
        proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
        if proba.shape != (len(labelled), len(classes)):
            raise ValueError(
                f"The teacher's predict_proba returned shape {proba.shape}; "
                f"expected {(len(labelled), len(classes))}, one column per class."
            )
        # The teacher's labels stand in for those of the transfer rows where
        # a step of a pipeline student reads labels; the loss does not.
        targets = classes[proba.argmax(axis=1)]
        targets[labelled] = y

        student = clone(student)
        if seeds is not None:
            _set_random_states(student, seeds[1])
        network = student
        if isinstance(student, Pipeline):
            head = student[:-1]
            X = head.fit_transform(X, targets)
            # A pipeline with a memory fits clones of its steps.
            student.steps = head.steps + student.steps[-1:]
            network = student.steps[-1][1]
        network.fit_soft_targets(
            X,
            proba,
            targets,
            classes=classes,
            labelled=labelled,
            temperature=self.temperature,
            alpha=self.alpha,
            sample_weight=sample_weight,
        )
        self.teacher_ = teacher
        self.student_ = student
        # Sorted, as the student's columns are, whatever the teacher's order.
        self.classes_ = network.classes_
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(student, name):
                setattr(self, name, getattr(student, name))
        return self

    def _seeds(self):
        """Seeds of the teacher and of the student, or None to keep theirs."""
        if self.random_state is None:
            return None
        rng = check_random_state(self.random_state)
        return rng.randint(np.iinfo(np.int32).max, size=2).tolist()

    def predict(self, X):
        """Predict the class of each input with the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of str
            Inputs, in the form of ``fit``'s.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self)
        return self.student_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of each input, from the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of str
            Inputs, in the form of ``fit``'s.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        check_is_fitted(self)
        return self.student_.predict_proba(X)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each input, from the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of str
            Inputs, in the form of ``fit``'s.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        return self.student_.predict_log_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            student = self._student()
            teacher = self._teacher()
        except TypeError:
            return tags  # fit says what is wrong
        student_tags, teacher_tags = get_tags(student), get_tags(teacher)
        tags.input_tags = student_tags.input_tags
        # Both read the training inputs.
        tags.input_tags.sparse = student_tags.input_tags.sparse and (
            teacher_tags.input_tags.sparse
        )
        tags.input_tags.allow_nan = student_tags.input_tags.allow_nan and (
            teacher_tags.input_tags.allow_nan
        )
        tags.non_deterministic = student_tags.non_deterministic
        return tags


def _set_random_states(estimator, seed):
    """Set every ``random_state`` parameter of ``estimator`` (nested ones too)."""
    names = [
        name
        for name in estimator.get_params(deep=True)
        if name == "random_state" or name.endswith("__random_state")
    ]
    estimator.set_params(**dict.fromkeys(names, seed))


def _fit_weighted(estimator, X, y, sample_weight):
    """Fit ``estimator``, passing ``sample_weight`` to it, or a pipeline's last step."""
    if sample_weight is None:
        return estimator.fit(X, y)
    if isinstance(estimator, Pipeline):
        name = estimator.steps[-1][0]
        return estimator.fit(X, y, **{f"{name}__sample_weight": sample_weight})
    if not has_fit_parameter(estimator, "sample_weight"):
        raise TypeError(
            f"The teacher {type(estimator).__name__} does not take sample_weight "
            "in its fit; fit it without sample_weight, or fit it yourself and "
            "pass it with prefit=True."
        )
    return estimator.fit(X, y, sample_weight=sample_weight)


def _stack(X, X_transfer):
    """The rows of ``X`` followed by those of ``X_transfer``, in the form of ``X``."""
    if hasattr(X, "iloc"):  # a pandas DataFrame or Series
        import pandas as pd

        if not hasattr(X_transfer, "iloc"):
            columns = {"columns": X.columns} if hasattr(X, "columns") else {}
            X_transfer = type(X)(X_transfer, **columns)
        return pd.concat([X, X_transfer], ignore_index=True)
    if sp.issparse(X):
        return sp.vstack([X, X_transfer], format=X.format)
    if isinstance(X, list | tuple):
        return list(X) + list(X_transfer)
    X, X_transfer = np.asarray(X), np.asarray(X_transfer)
    if X.shape[1:] != X_transfer.shape[1:]:
        raise ValueError(
            f"X_transfer must have the form of X: rows of shape {X.shape[1:]}; "
            f"got rows of shape {X_transfer.shape[1:]}."
        )
    return np.concatenate([X, X_transfer])
