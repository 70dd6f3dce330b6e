"""The conditions and rules of a learned decision list."""

from dataclasses import dataclass, field

import numpy as np

_OPERATORS = {
    "<=": np.less_equal,
    ">": np.greater,
    "==": np.equal,
}


def _format_value(value):
    # Four significant digits, never an exponent: thresholds read as numbers.
    return np.format_float_positional(value, precision=4, fractional=False, trim="-")


@dataclass(frozen=True)
class Condition:
    """A test of one feature against a value: ``x[feature] <operator> value``.

    Parameters
    ----------
    feature : int
        The index of the tested feature.
    operator : {"<=", ">", "=="}
        The comparison: a threshold on a numeric feature, or equality with a
        category of a categorical one.
    value : float
        The threshold or the category.
    feature_name : str
        The name the condition prints for the feature.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.rules import Condition
    >>> condition = Condition(1, ">", 2.5, "petal length (cm)")
    >>> print(condition)
    petal length (cm) > 2.5
    >>> condition.holds(np.array([[0.0, 1.0], [0.0, 3.0]]))
    array([False,  True])
    """

    feature: int
    operator: str
    value: float
    feature_name: str

    def holds(self, X):
        """Tell for each row of ``X`` whether the condition holds.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        holds : ndarray of shape (n_samples,)
            True where the condition holds.
        """
        return _OPERATORS[self.operator](X[:, self.feature], self.value)

    def __str__(self):
        return f"{self.feature_name} {self.operator} {_format_value(self.value)}"


@dataclass(frozen=True, eq=False)
class Rule:
    """An IF–THEN rule: a conjunction of conditions and the class it predicts.

    A rule with no conditions fires on every sample: it is the default rule
    that ends a decision list.

    Parameters
    ----------
    conditions : tuple of Condition
        The conditions, all of which must hold for the rule to fire.
    prediction : object
        The class label the rule predicts.
    class_counts : ndarray of shape (n_classes,)
        The (weighted) number of training samples of each class that reach
        the rule in its decision list and that it covers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_histai.rules import Condition, Rule
    >>> rule = Rule(
    ...     (Condition(0, ">", 0.5, "x[0]"), Condition(2, "<=", 0.3, "x[2]")),
    ...     prediction="yes",
    ...     class_counts=np.array([1.0, 40.0]),
    ... )
    >>> print(rule)
    IF x[0] > 0.5 AND x[2] <= 0.3 THEN yes
    >>> rule.covers(np.array([[0.9, 0.0, 0.1], [0.9, 0.0, 0.8]]))
    array([ True, False])
    """

    conditions: tuple
    prediction: object
    class_counts: np.ndarray = field(repr=False)

    def covers(self, X):
        """Tell for each row of ``X`` whether all the rule's conditions hold.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        covers : ndarray of shape (n_samples,)
            True where the rule fires.
        """
        covered = np.ones(X.shape[0], dtype=bool)
        for condition in self.conditions:
            covered &= condition.holds(X)
        return covered

    def __str__(self):
        if not self.conditions:
            return f"IF TRUE THEN {self.prediction}"
        body = " AND ".join(str(condition) for condition in self.conditions)
        return f"IF {body} THEN {self.prediction}"
