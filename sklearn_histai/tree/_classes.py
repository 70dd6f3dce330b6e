"""Decision trees (CART) grown on histograms of binned features."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from sklearn_histai.tree._base import BaseDecisionTree
from sklearn_histai.tree._splitter import Targets
from sklearn_histai.utils import ModelHistory


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """A decision tree classifier (CART) grown on histograms of binned features.

    Each feature is cut into at most ``max_bins`` bins: one per distinct value
    when it has that few, at quantiles otherwise. The best threshold of every
    node is then searched over bin boundaries with per-node histograms of
    class counts, all nodes of a depth at once. On features with at most
    ``max_bins`` distinct values this search is exact: the tree is the one an
    exhaustive search over sorted values would grow.

    Read more in the :ref:`User Guide <tree>`.

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        The impurity a split minimises: Gini impurity, or Shannon entropy
        (``"log_loss"`` is the same as ``"entropy"``).
    max_depth : int, default=None
        The largest depth of a leaf. If None, nodes are expanded until they
        are pure or hold fewer than ``min_samples_split`` samples.
    min_samples_split : int or float, default=2
        The fewest samples a node needs to be split; a float is a fraction of
        the number of samples, rounded up.
    min_samples_leaf : int or float, default=1
        The fewest samples of a leaf: a split is only considered if it leaves
        at least this many samples on each side. A float is a fraction.
    min_weight_fraction_leaf : float, default=0.0
        The least fraction of the total sample weight a leaf must hold.
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        How many features each split draws at random and searches: an int,
        a fraction of ``n_features``, ``sqrt(n_features)``,
        ``log2(n_features)``, or all of them (None). As in scikit-learn, the
        search goes on past ``max_features`` until one of the drawn features
        is not constant in the node.
    max_bins : int, default=255
        The largest number of bins of a feature, from 2 to 256.
    min_impurity_decrease : float, default=0.0
        A node is split only if the split decreases the weighted impurity
        ``N_t / N * (impurity - N_t_R / N_t * right_impurity - N_t_L / N_t *
        left_impurity)`` by at least this much.
    class_weight : dict, list of dict or "balanced", default=None
        Weights of the classes, as ``{class_label: weight}`` (one dict per
        output for multi-output targets). ``"balanced"`` weighs classes
        inversely to their frequency. They multiply ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Draws the features of each split when ``max_features`` is set, and
        the subsample that places the bin edges of more than 200,000 samples.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        The class labels (one array per output for multi-output targets).
    n_classes_ : int or list of int
        The number of classes (one per output).
    n_outputs_ : int
        The number of outputs.
    max_features_ : int
        The number of features searched at each split.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.
    tree_ : Tree
        The fitted tree as flat node arrays (``children_left``,
        ``children_right``, ``feature``, ``threshold``, ``value``, ...),
        numbered breadth-first.
    feature_importances_ : ndarray of shape (n_features,)
        The normalised total impurity decrease brought by each feature.

    See Also
    --------
    DecisionTreeRegressor : The same tree for regression.
    sklearn.tree.DecisionTreeClassifier : The exact-search tree of scikit-learn.

    Notes
    -----
    Ties between thresholds of equal impurity go to the lowest feature index,
    then the lowest threshold; scikit-learn breaks ties between features in a
    random order. Samples of zero weight are ignored. Sparse input is not
    supported.

    References
    ----------
    .. [1] L. Breiman, J. Friedman, R. Olshen and C. Stone, "Classification
       and Regression Trees", Wadsworth, 1984.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_histai.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    >>> clf.get_depth(), clf.get_n_leaves()
    (3, 5)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> round(clf.score(X, y), 3)  # as scikit-learn's tree with these settings
    0.973
    """

    _history = ModelHistory(
        era="classical",
        year=1984,
        reference=(
            "Breiman, Friedman, Olshen & Stone (1984), "
            "Classification and Regression Trees"
        ),
        peer="sklearn.tree:DecisionTreeClassifier",
    )

    _parameter_constraints: dict = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [StrOptions({"gini", "entropy", "log_loss"})],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        criterion="gini",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features=None,
        max_bins=255,
        min_impurity_decrease=0.0,
        class_weight=None,
        random_state=None,
    ):
        super().__init__(
            criterion=criterion,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf,
            max_features=max_features,
            max_bins=max_bins,
            min_impurity_decrease=min_impurity_decrease,
            random_state=random_state,
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Grow the tree on the training set ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples. NaN and infinite values are rejected.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives all the weight 1.

        Returns
        -------
        self : DecisionTreeClassifier
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight, y_numeric=False)

    def _encode_targets(self, y, sample_weight):
        check_classification_targets(y)
        encoded = [np.unique(column, return_inverse=True) for column in y.T]
        classes = [labels for labels, _ in encoded]
        codes = np.stack([c.reshape(-1) for _, c in encoded], axis=1).astype(np.intp)
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, y)
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
        return codes, sample_weight, classes

    def _targets(self, y, sample_weight, classes):
        n_classes = [labels.size for labels in classes]
        codes = [np.ascontiguousarray(column) for column in y.T]
        return Targets(codes, n_classes, None, sample_weight), None

    def _set_classes(self, classes):
        self.classes_ = classes
        self.n_classes_ = [labels.size for labels in classes]
        if len(classes) == 1:
            self.n_classes_, self.classes_ = self.n_classes_[0], self.classes_[0]

    def predict_proba(self, X):
        """Return the class probabilities of the samples of ``X``.

        The probability of a class is its weighted fraction of the training
        samples of the leaf.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of ndarray
            The probabilities, columns in the order of ``classes_``; a list
            with one such array per output for multi-output targets.
        """
        proba = self._leaf_values(X)
        n_classes = np.atleast_1d(self.n_classes_)
        per_output = [proba[:, k, :n] for k, n in enumerate(n_classes)]
        return per_output[0] if self.n_outputs_ == 1 else per_output

    def predict_log_proba(self, X):
        """Return the logarithm of the class probabilities of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes) or list of ndarray
            The log-probabilities, in the layout of :meth:`predict_proba`.
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if self.n_outputs_ == 1:
                return np.log(proba)
            return [np.log(p) for p in proba]

    def predict(self, X):
        """Return the most probable class of each sample of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted classes.
        """
        leaves = self.apply(X)
        # The class of each node first, then of each sample: a gather of
        # one integer per sample rather than of its probability vector.
        value = self.tree_.value
        if self.n_outputs_ == 1:
            node_class = value[:, 0, : self.n_classes_].argmax(axis=1)
            return self.classes_.take(node_class.take(leaves))
        columns = [
            classes.take(value[:, k, : classes.size].argmax(axis=1).take(leaves))
            for k, classes in enumerate(self.classes_)
        ]
        return np.stack(columns, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """A decision tree regressor (CART) grown on histograms of binned features.

    Each feature is cut into at most ``max_bins`` bins: one per distinct value
    when it has that few, at quantiles otherwise. The best threshold of every
    node is then searched over bin boundaries with per-node histograms of
    target sums, all nodes of a depth at once. On features with at most
    ``max_bins`` distinct values this search is exact: the tree is the one an
    exhaustive search over sorted values would grow.

    Read more in the :ref:`User Guide <tree>`.

    Parameters
    ----------
    criterion : {"squared_error"}, default="squared_error"
        The impurity a split minimises: the (weighted) variance of the
        targets, averaged over the outputs.
    max_depth : int, default=None
        The largest depth of a leaf. If None, nodes are expanded until they
        are pure or hold fewer than ``min_samples_split`` samples.
    min_samples_split : int or float, default=2
        The fewest samples a node needs to be split; a float is a fraction of
        the number of samples, rounded up.
    min_samples_leaf : int or float, default=1
        The fewest samples of a leaf: a split is only considered if it leaves
        at least this many samples on each side. A float is a fraction.
    min_weight_fraction_leaf : float, default=0.0
        The least fraction of the total sample weight a leaf must hold.
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        How many features each split draws at random and searches: an int,
        a fraction of ``n_features``, ``sqrt(n_features)``,
        ``log2(n_features)``, or all of them (None).
    max_bins : int, default=255
        The largest number of bins of a feature, from 2 to 256.
    min_impurity_decrease : float, default=0.0
        A node is split only if the split decreases the weighted impurity by
        at least this much (see :class:`DecisionTreeClassifier`).
    random_state : int, RandomState instance or None, default=None
        Draws the features of each split when ``max_features`` is set, and
        the subsample that places the bin edges of more than 200,000 samples.

    Attributes
    ----------
    n_outputs_ : int
        The number of outputs.
    max_features_ : int
        The number of features searched at each split.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.
    tree_ : Tree
        The fitted tree as flat node arrays, numbered breadth-first; its
        ``value`` holds the mean target of each node.
    feature_importances_ : ndarray of shape (n_features,)
        The normalised total impurity decrease brought by each feature.

    See Also
    --------
    DecisionTreeClassifier : The same tree for classification.
    sklearn.tree.DecisionTreeRegressor : The exact-search tree of scikit-learn.

    Notes
    -----
    Ties between thresholds of equal impurity go to the lowest feature index,
    then the lowest threshold. Samples of zero weight are ignored. Sparse
    input is not supported.

    References
    ----------
    .. [1] L. Breiman, J. Friedman, R. Olshen and C. Stone, "Classification
       and Regression Trees", Wadsworth, 1984.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.tree import DecisionTreeRegressor
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> y = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 7.0, 7.0])
    >>> reg = DecisionTreeRegressor(max_depth=2).fit(X, y)
    >>> reg.predict([[2.0], [4.5], [6.0]])
    array([1., 5., 7.])
    >>> float(reg.tree_.threshold[0])
    3.5
    """

    _history = ModelHistory(
        era="classical",
        year=1984,
        reference=(
            "Breiman, Friedman, Olshen & Stone (1984), "
            "Classification and Regression Trees"
        ),
        peer="sklearn.tree:DecisionTreeRegressor",
    )

    _parameter_constraints: dict = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [StrOptions({"squared_error"})],
    }

    def __init__(
        self,
        *,
        criterion="squared_error",
        max_depth=None,
        min_samples_split=2,
        min_samples_leaf=1,
        min_weight_fraction_leaf=0.0,
        max_features=None,
        max_bins=255,
        min_impurity_decrease=0.0,
        random_state=None,
    ):
        super().__init__(
            criterion=criterion,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf,
            max_features=max_features,
            max_bins=max_bins,
            min_impurity_decrease=min_impurity_decrease,
            random_state=random_state,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Grow the tree on the training set ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples. NaN and infinite values are rejected.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives all the weight 1.

        Returns
        -------
        self : DecisionTreeRegressor
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight, y_numeric=True)

    def _encode_targets(self, y, sample_weight):
        return y.astype(np.float64, copy=False), sample_weight, None

    def _targets(self, y, sample_weight, classes):
        y = y.T
        # Centred targets keep the running sums of the histograms small, so
        # that their differences stay accurate. The centre is the mean to 8
        # bits below the leading bit of the targets' spread (of the mean,
        # for constant targets): within 1/256 of the spread of the mean,
        # however far from zero the targets lie, and on targets with few
        # significant bits (integers) the centred values and their sums stay
        # exact, and so do ties between splits.
        mean = np.average(y, axis=1, weights=sample_weight)
        spread = np.abs(y - mean[:, None]).max(axis=1)
        _, exponent = np.frexp(np.where(spread > 0.0, spread, np.abs(mean)))
        quantum = np.ldexp(1.0, exponent - 8)
        center = np.round(mean / quantum) * quantum
        centred = y - center[:, None]
        weighted = centred if sample_weight is None else centred * sample_weight
        targets = Targets(None, None, weighted, sample_weight, center=center)
        return targets, weighted * centred

    def predict(self, X):
        """Return the mean training target of the leaf of each sample of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        value = self._leaf_values(X)[:, :, 0]
        return value[:, 0] if self.n_outputs_ == 1 else value
