"""The shared fitting and traversal of the histogram decision trees."""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from sklearn_histai.tree import _lean_grower
from sklearn_histai.tree._binning import BinMapper
from sklearn_histai.tree._grower import TreeGrower
from sklearn_histai.tree._lean_grower import LeanTreeGrower

_DTYPES = [np.float64, np.float32]


class BaseDecisionTree(MultiOutputMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared fitting and traversal of the decision trees.

    Subclasses prepare the targets (:meth:`_targets`) and read the leaves.
    """

    _parameter_constraints: dict = {
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_split": [
            Interval(Integral, 2, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="right"),
        ],
        "min_samples_leaf": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="neither"),
        ],
        "min_weight_fraction_leaf": [Interval(Real, 0.0, 0.5, closed="both")],
        "max_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0.0, 1.0, closed="right"),
            StrOptions({"sqrt", "log2"}),
            None,
        ],
        "max_bins": [Interval(Integral, 2, 256, closed="both")],
        "min_impurity_decrease": [Interval(Real, 0.0, None, closed="left")],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        criterion,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        min_weight_fraction_leaf,
        max_features,
        max_bins,
        min_impurity_decrease,
        random_state,
    ):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.max_bins = max_bins
        self.min_impurity_decrease = min_impurity_decrease
        self.random_state = random_state

    @abstractmethod
    def _encode_targets(self, y, sample_weight):
        """Return the encoded targets, the sample weights they imply, the classes.

        The classes are a list of the labels of each output, None for
        regression.
        """

    @abstractmethod
    def _targets(self, y, sample_weight, classes):
        """Return the :class:`Targets` and, for regression, the squares."""

    def _set_classes(self, classes):
        """Store the classes of a successful fit (classification only)."""

    def _fit(self, X, y, sample_weight, y_numeric):
        # The estimator is only written to once the tree has grown, so that a
        # failed fit leaves it as it was: X is checked here, and the features
        # it has are recorded at the end.
        X_checked, y = check_X_y(
            X,
            y,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=y_numeric,
            estimator=self,
        )
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        n_samples, n_features = X_checked.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X_checked, dtype=np.float64, ensure_non_negative=True
            )
        y, sample_weight, classes = self._encode_targets(y, sample_weight)
        total_weight = n_samples if sample_weight is None else sample_weight.sum()
        X_kept, y, sample_weight = _drop_zero_weights(X_checked, y, sample_weight)
        max_features = self._resolve_max_features(n_features)
        min_samples_split, min_samples_leaf = self._resolve_min_samples(n_samples)

        bin_mapper = BinMapper(self.max_bins)
        rng = None
        if max_features < n_features or X_kept.shape[0] > bin_mapper.subsample:
            # Seeding a generator costs as much as a small fit's level: only
            # where something is drawn.
            rng = check_random_state(self.random_state)
            bin_mapper.random_state = rng.randint(np.iinfo(np.int32).max)
        binned = bin_mapper.fit_transform(X_kept)
        targets, squares = self._targets(y, sample_weight, classes)
        min_weight_leaf = self.min_weight_fraction_leaf * total_weight
        if sample_weight is None:
            # Unit weights: the searches count samples, and a leaf weighs as
            # many as it holds.
            min_samples_leaf = max(min_samples_leaf, int(np.ceil(min_weight_leaf)))
        # Small fits pay for numpy calls more than for arithmetic: the
        # compiled lean grower makes none per level and grows the same tree.
        lean = binned.size <= _lean_grower.MAX_ENTRIES
        grower = (LeanTreeGrower if lean else TreeGrower)(
            binned,
            bin_mapper,
            targets,
            squares,
            criterion="entropy" if self.criterion == "log_loss" else self.criterion,
            max_depth=np.iinfo(np.int32).max
            if self.max_depth is None
            else self.max_depth,
            min_weight_leaf=min_weight_leaf,
            max_features=max_features,
            min_impurity_decrease=self.min_impurity_decrease,
            rng=rng,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
        )
        tree = grower.grow()

        # Records n_features_in_ and feature_names_in_.
        validate_data(self, X, skip_check_array=True)
        self.n_outputs_ = y.shape[1]
        self.max_features_ = max_features
        self._set_classes(classes)
        self.tree_ = tree
        return self

    def _resolve_min_samples(self, n_samples):
        """Return ``(min_samples_split, min_samples_leaf)`` as numbers of samples."""
        leaf, split = self.min_samples_leaf, self.min_samples_split
        if not isinstance(leaf, Integral):
            leaf = int(np.ceil(leaf * n_samples))
        if not isinstance(split, Integral):
            split = max(2, int(np.ceil(split * n_samples)))
        return max(split, 2 * leaf), leaf

    def _resolve_max_features(self, n_features):
        max_features = self.max_features
        if max_features is None:
            return n_features
        if max_features == "sqrt":
            return max(1, int(np.sqrt(n_features)))
        if max_features == "log2":
            return max(1, int(np.log2(n_features)))
        if isinstance(max_features, Integral):
            if max_features > n_features:
                raise ValueError(
                    f"max_features must be at most n_features={n_features}, "
                    f"got {max_features}."
                )
            return max_features
        return max(1, int(max_features * n_features))

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=_DTYPES, order="C")

    def apply(self, X):
        """Return the index of the leaf that each sample is predicted as.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        X_leaves : ndarray of shape (n_samples,)
            For each sample, the index of its leaf in ``tree_``, nodes being
            numbered breadth-first from the root ``0``.
        """
        X = self._validate_X_predict(X)
        return self.tree_.apply(X)

    def _leaf_values(self, X):
        X = self._validate_X_predict(X)
        return self.tree_.predict(X)

    def get_depth(self):
        """Return the depth of the tree, the longest path from the root to a leaf.

        Returns
        -------
        depth : int
            The depth of the tree; 0 for a single leaf.
        """
        check_is_fitted(self)
        return self.tree_.max_depth

    def get_n_leaves(self):
        """Return the number of leaves of the tree.

        Returns
        -------
        n_leaves : int
            The number of leaves.
        """
        check_is_fitted(self)
        return self.tree_.n_leaves

    @property
    def feature_importances_(self):
        """The impurity-based importance of each feature, summing to one.

        The (normalised) total weighted impurity decrease brought by the
        splits on each feature, also known as the Gini importance.
        """
        check_is_fitted(self)
        return self.tree_.compute_feature_importances(self.n_features_in_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


def _drop_zero_weights(X, y, sample_weight):
    """Remove the samples of zero weight; unit weights become None.

    A zero weight removes a sample, as in the repeated-samples reading of
    weights: it must not even place a bin edge.
    """
    if sample_weight is None:
        return X, y, None
    positive = sample_weight > 0
    if not positive.any():
        raise ValueError("Sample weights must have a positive sum; got all zeros.")
    if not positive.all():
        X, y, sample_weight = X[positive], y[positive], sample_weight[positive]
    if np.all(sample_weight == 1.0):
        sample_weight = None
    return X, y, sample_weight
