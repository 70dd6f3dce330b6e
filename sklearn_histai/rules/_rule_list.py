"""Ordered IF–THEN rule lists learned by sequential covering (CN2, RIPPER)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from sklearn_histai.rules._covering import (
    OPERATOR_NAMES,
    CodedData,
    CoveringParams,
    learn_rule_list,
)
from sklearn_histai.rules._rules import Condition, Rule
from sklearn_histai.tree._binning import BinMapper
from sklearn_histai.utils import ModelHistory


class RuleListClassifier(ClassifierMixin, BaseEstimator):
    """An ordered list of IF–THEN rules learned by sequential covering.

    The rule list of the symbolic era of machine learning, in the tradition
    of CN2 [1]_ and RIPPER [2]_. The classes are taken in order of increasing
    frequency; for each but the last, rules separating it from the classes
    after it are learned one at a time on the samples no earlier rule
    covers. Each rule is grown greedily on two thirds of the remaining
    samples, adding the condition of best FOIL information gain until it
    covers no negative sample, then pruned on the other third by deleting
    the final conditions that do not raise RIPPER's ``(p - n) / (p + n)``.
    The last class is predicted by a final default rule.

    Numeric features are cut into at most ``max_bins`` quantile bins (those
    of :class:`~sklearn_histai.tree.DecisionTreeClassifier`), and conditions
    are thresholds ``x <= t`` or ``x > t`` between bins, all searched at
    once from cumulated histograms of the positive and negative weights.
    Categorical features are tested for equality, ``x == v``.

    Read more in the :ref:`User Guide <rules>`.

    Parameters
    ----------
    max_rules : int, default=None
        The largest number of rules, the default rule not counted. If None,
        rules are added until the stopping criterion halts.
    max_conditions : int, default=None
        The largest number of conditions of a rule. If None, conditions are
        added while they bring a positive FOIL gain.
    prune_size : float, default=1/3
        The share of the samples held out to prune each rule, in [0, 1).
        With 0, rules are not pruned and are grown on all the samples.
    dl_allowance : float, default=64.0
        RIPPER's stopping criterion: no more rules are added to a class once
        the description length of its rules and their exceptions exceeds the
        smallest one seen by this many bits.
    min_coverage : float, default=1.0
        The least weight of positive growing samples a condition must keep
        covered (a number of samples, without ``sample_weight``); raise it
        for fewer, more general rules.
    max_bins : int, default=255
        The largest number of bins of a numeric feature, from 2 to 256.
    categorical_features : array-like of int, bool or str, default=None
        The features tested for equality with each of their values instead
        of thresholded: indices, a boolean mask of length ``n_features``, or
        names when ``X`` is a DataFrame. Their values must be numbers.
    class_order : {"frequency", "sorted"}, default="frequency"
        The order in which the classes get their rules: of increasing
        frequency in the training set, or that of ``classes_``. The last
        class is the one of the default rule.
    random_state : int, RandomState instance or None, default=None
        Draws the split of the samples into growing and pruning sets before
        each rule, and the subsample that places the bin edges of more than
        200,000 samples.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    rules_ : list of Rule
        The decision list: the learned rules in order, and last the default
        rule, which has no conditions. Printing a rule gives e.g.
        ``IF worst radius > 16.8 AND mean concavity > 0.07341 THEN malignant``.
    n_conditions_ : int
        The total number of conditions of the rules.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn_histai.tree.DecisionTreeClassifier : A tree, whose leaves are
        unordered rules.

    Notes
    -----
    Implemented from RIPPER: one-vs-rest covering in order of class
    frequency, FOIL gain to grow, pruning on a held-out third with
    ``(p - n) / (p + n)``, a rule kept only when it is right on at least half
    of the pruning samples it covers, and the description-length stopping
    rule (64 bits) followed by cutting each class's rules back to the prefix
    of smallest description length. Not implemented: RIPPER's optimisation
    passes (replacement and revision of each rule, ``k=2`` in Cohen's
    paper), and CN2's beam search and unordered rule sets.

    Each rule predicts the class most frequent among the training samples
    it is the first to cover (that is the class it was learned for, but for
    rare rules that cover mostly others); :meth:`predict_proba` gives the
    Laplace-corrected frequencies ``(n_c + 1) / (n + n_classes)`` of these
    samples. A default rule that no training sample reaches uses the counts
    of the whole training set.

    Repeated samples are merged and their weights added before anything
    else, so that a weight of 2 is exactly the sample given twice; a
    repeated sample never lies in both the growing and the pruning set.
    Samples of zero weight are ignored. NaN and sparse input are not
    supported.

    References
    ----------
    .. [1] P. Clark and T. Niblett, "The CN2 induction algorithm", Machine
       Learning 3(4), 261-283, 1989.
    .. [2] W. W. Cohen, "Fast effective rule induction", Proceedings of the
       Twelfth International Conference on Machine Learning, 115-123, 1995.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn_histai.rules import RuleListClassifier
    >>> data = load_breast_cancer(as_frame=True)
    >>> X, y = data.data, data.target_names[data.target]
    >>> clf = RuleListClassifier(random_state=0).fit(X, y)
    >>> print(clf.rules_[0])
    IF worst radius > 16.8 AND mean concavity > 0.07341 THEN malignant
    >>> len(clf.rules_), clf.n_conditions_, round(clf.score(X, y), 3)
    (5, 10, 0.979)
    >>> short = RuleListClassifier(max_rules=2, random_state=0).fit(X, y)
    >>> print(short.export_text())
    IF worst radius > 16.8 AND mean concavity > 0.07341 THEN malignant
    ELSE IF worst concave points > 0.1308 AND worst texture > 27.27 THEN malignant
    ELSE benign
    """

    _history = ModelHistory(
        era="symbolic",
        year=1995,
        reference="Clark & Niblett (1989); Cohen (1995)",
        peer="sklearn.tree:DecisionTreeClassifier",
        input="tabular",
    )

    _parameter_constraints: dict = {
        "max_rules": [Interval(Integral, 0, None, closed="left"), None],
        "max_conditions": [Interval(Integral, 1, None, closed="left"), None],
        "prune_size": [Interval(Real, 0.0, 1.0, closed="left")],
        "dl_allowance": [Interval(Real, 0.0, None, closed="left")],
        "min_coverage": [Interval(Real, 0.0, None, closed="neither")],
        "max_bins": [Interval(Integral, 2, 256, closed="both")],
        "categorical_features": ["array-like", None],
        "class_order": [StrOptions({"frequency", "sorted"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        max_rules=None,
        max_conditions=None,
        prune_size=1 / 3,
        dl_allowance=64.0,
        min_coverage=1.0,
        max_bins=255,
        categorical_features=None,
        class_order="frequency",
        random_state=None,
    ):
        self.max_rules = max_rules
        self.max_conditions = max_conditions
        self.prune_size = prune_size
        self.dl_allowance = dl_allowance
        self.min_coverage = min_coverage
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.class_order = class_order
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the rule list from the training set ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training samples. NaN and infinite values are rejected.
        y : array-like of shape (n_samples,)
            The class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives all the weight 1.

        Returns
        -------
        self : RuleListClassifier
            The fitted classifier.
        """
        # Nothing is written to the estimator before the rules are learned,
        # so that a failed fit leaves it as it was.
        X_checked, y = check_X_y(X, y, dtype=np.float64, estimator=self)
        check_classification_targets(y)
        classes, y_codes = np.unique(y, return_inverse=True)
        weight = _check_sample_weight(
            sample_weight, X_checked, dtype=np.float64, ensure_non_negative=True
        )
        if not weight.sum() > 0:
            raise ValueError(
                "The sample weights sum to zero: there is nothing to learn."
            )
        is_categorical = self._categorical_mask(X, X_checked.shape[1])
        X_rows, y_rows, w_rows = _distinct_rows(X_checked, y_codes, weight)

        rng = check_random_state(self.random_state)
        data, values = self._code(X_rows, is_categorical, rng)
        class_weight = np.bincount(y_rows, weights=w_rows, minlength=classes.size)
        if self.class_order == "frequency":
            order = np.argsort(class_weight, kind="stable")
        else:
            order = np.arange(classes.size)
        params = CoveringParams(
            max_rules=np.inf if self.max_rules is None else self.max_rules,
            max_conditions=np.inf
            if self.max_conditions is None
            else self.max_conditions,
            prune_size=float(self.prune_size),
            dl_allowance=float(self.dl_allowance),
            min_coverage=float(self.min_coverage),
        )
        learned = learn_rule_list(data, y_rows, w_rows, order, rng, params)

        # Records n_features_in_ and feature_names_in_.
        validate_data(self, X, skip_check_array=True)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x[{f}]" for f in range(X_checked.shape[1])]
        conditions = [
            tuple(
                Condition(f, OPERATOR_NAMES[op], float(values[f][slot]), str(names[f]))
                for op, f, slot in rule
            )
            for _, rule in learned
        ]
        self.classes_ = classes
        self.rules_ = _rules_with_counts(conditions, classes, X_rows, y_rows, w_rows)
        self.n_conditions_ = sum(len(rule.conditions) for rule in self.rules_)
        return self

    def _categorical_mask(self, X, n_features):
        """Return the boolean mask of the categorical features."""
        mask = np.zeros(n_features, dtype=bool)
        if self.categorical_features is None:
            return mask
        features = np.asarray(self.categorical_features)
        if features.ndim != 1:
            raise ValueError(
                "categorical_features must be a 1-D array-like, got shape "
                f"{features.shape}."
            )
        if features.dtype.kind == "b":
            if features.size != n_features:
                raise ValueError(
                    f"categorical_features as a boolean mask must have length "
                    f"n_features={n_features}, got {features.size}."
                )
            return features.copy()
        if features.dtype.kind in "UO":
            columns = getattr(X, "columns", None)
            names = [] if columns is None else [str(name) for name in columns]
            unknown = [name for name in features if name not in names]
            if unknown:
                raise ValueError(
                    f"categorical_features names {unknown} that are not feature "
                    "names of X; names need X as a DataFrame."
                )
            mask[[names.index(name) for name in features]] = True
            return mask
        if features.size and features.dtype.kind not in "iu":
            raise ValueError(
                "categorical_features must hold feature indices, a boolean "
                f"mask or feature names, got dtype {features.dtype}."
            )
        features = features.astype(np.intp)
        if features.size and not (0 <= features.min() and features.max() < n_features):
            raise ValueError(
                f"categorical_features must be indices in [0, {n_features}), got "
                f"{features.tolist()}."
            )
        mask[features] = True
        return mask

    def _code(self, X, is_categorical, rng):
        """Return the coded samples and the value each condition slot tests."""
        n_samples, n_features = X.shape
        codes = np.empty((n_features, n_samples), dtype=np.intp)
        n_values = np.empty(n_features, dtype=np.intp)
        values = [None] * n_features
        numeric = np.flatnonzero(~is_categorical)
        if numeric.size:
            mapper = BinMapper(
                self.max_bins, random_state=rng.randint(np.iinfo(np.int32).max)
            ).fit(X[:, numeric])
            codes[numeric] = mapper.transform(X[:, numeric])
            n_values[numeric] = mapper.n_bins_
            for j, f in enumerate(numeric):
                slots = np.arange(mapper.n_bins_[j] - 1)
                values[f] = mapper.thresholds(j, slots, slots + 1)
        for f in np.flatnonzero(is_categorical):
            values[f], codes[f] = np.unique(X[:, f], return_inverse=True)
            n_values[f] = values[f].size
        return CodedData(codes, n_values, is_categorical), values

    def apply(self, X):
        """Return the index in ``rules_`` of the rule that fires on each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        rule_index : ndarray of shape (n_samples,)
            The index of the first rule whose conditions all hold, the last
            index (the default rule) when none does.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        rule_index = np.full(X.shape[0], len(self.rules_) - 1, dtype=np.intp)
        undecided = np.ones(X.shape[0], dtype=bool)
        for index, rule in enumerate(self.rules_[:-1]):
            fires = undecided & rule.covers(X)
            rule_index[fires] = index
            undecided &= ~fires
        return rule_index

    def predict_proba(self, X):
        """Return the class probabilities of the rule that fires on each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The Laplace-corrected class frequencies ``(n_c + 1) / (n +
            n_classes)`` of the training samples the rule covers, classes in
            the order of ``classes_``.
        """
        rule_index = self.apply(X)
        counts = np.array([rule.class_counts for rule in self.rules_])
        proba = (counts + 1) / (counts.sum(axis=1, keepdims=True) + counts.shape[1])
        return proba[rule_index]

    def predict(self, X):
        """Return the class of the first rule that fires on each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted class labels.
        """
        rule_index = self.apply(X)
        # The class of a rule is the most frequent among the samples it covers.
        labels = np.array([np.argmax(rule.class_counts) for rule in self.rules_])
        return self.classes_[labels[rule_index]]

    def export_text(self, *, show_counts=False):
        """Return the decision list as text, one rule a line.

        Parameters
        ----------
        show_counts : bool, default=False
            Whether to follow each rule with the (weighted) number of
            training samples of each class it is the first to cover.

        Returns
        -------
        text : str
            The rules as ``IF ... THEN ...``, ``ELSE IF ... THEN ...``, and
            last ``ELSE <default class>``.
        """
        check_is_fitted(self)
        lines = []
        for index, rule in enumerate(self.rules_):
            if not rule.conditions:
                line = f"ELSE {rule.prediction}" if index else str(rule)
            else:
                line = ("ELSE " if index else "") + str(rule)
            if show_counts:
                counts = ", ".join(
                    f"{label}: {count:g}"
                    for label, count in zip(self.classes_, rule.class_counts)
                )
                line += f"  [{counts}]"
            lines.append(line)
        return "\n".join(lines)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


def _distinct_rows(X, y, weight):
    """Merge the identical samples of positive weight, adding their weights."""
    keep = weight > 0
    rows, inverse = np.unique(
        np.column_stack([X[keep], y[keep]]), axis=0, return_inverse=True
    )
    merged = np.bincount(inverse.ravel(), weights=weight[keep], minlength=len(rows))
    return rows[:, :-1], rows[:, -1].astype(np.intp), merged


def _rules_with_counts(conditions, classes, X, y, weight):
    """Build the rules, each predicting the majority of what it first covers."""
    rules, undecided = [], np.ones(X.shape[0], dtype=bool)
    for rule_conditions in [*conditions, ()]:
        fires = undecided & Rule(rule_conditions, None, None).covers(X)
        undecided &= ~fires
        counts = np.bincount(y[fires], weights=weight[fires], minlength=classes.size)
        if not rule_conditions and not counts.sum() > 0:
            counts = np.bincount(y, weights=weight, minlength=classes.size)
        rules.append(Rule(rule_conditions, classes[np.argmax(counts)], counts))
    return rules
