"""Sequential covering on binned features: grow, prune, stop by description length.

Every function here works on integer codes: the bins of the numeric features
and the category indices of the categorical ones, one row per feature. A
condition is a triple ``(operator, feature, slot)``: ``code <= slot``,
``code > slot`` or ``code == slot``.
"""

from dataclasses import dataclass
from math import lgamma, log, log2

import numpy as np

LE, GT, EQ = 0, 1, 2
OPERATOR_NAMES = ("<=", ">", "==")


@dataclass(frozen=True)
class CoveringParams:
    """The settings of the covering, resolved: no None left."""

    max_rules: float
    max_conditions: float
    prune_size: float
    dl_allowance: float
    min_coverage: float


@dataclass
class CodedData:
    """The training samples as codes, and the conditions that may test them.

    Parameters
    ----------
    codes : ndarray of shape (n_features, n_samples)
        The bin of each numeric feature, the category index of each
        categorical one.
    n_values : ndarray of shape (n_features,)
        The number of bins or categories of each feature.
    is_categorical : ndarray of shape (n_features,)
        Which features are tested for equality rather than thresholded.
    """

    codes: np.ndarray
    n_values: np.ndarray
    is_categorical: np.ndarray

    def __post_init__(self):
        n_features = self.codes.shape[0]
        self.width = int(max(self.n_values.max(initial=1), 1))
        self.offsets = (np.arange(n_features) * self.width)[:, None]
        slots = np.arange(self.width)[None, :]
        numeric = ~self.is_categorical[:, None]
        # A threshold lies between two bins; equality names a category.
        threshold = numeric & (slots < self.n_values[:, None] - 1)
        equality = ~numeric & (slots < self.n_values[:, None])
        self.valid = np.stack([threshold, threshold, equality])
        self.n_candidates = int(self.valid.sum())

    def holds(self, condition, rows):
        """Tell which of the samples ``rows`` satisfy ``condition``."""
        operator, feature, slot = condition
        codes = self.codes[feature, rows]
        if operator == LE:
            return codes <= slot
        if operator == GT:
            return codes > slot
        return codes == slot

    def covered(self, conditions, rows):
        """Return the samples of ``rows`` that satisfy all of ``conditions``."""
        return rows[self.fires(conditions, rows)]

    def fires(self, conditions, rows):
        """Tell which of the samples ``rows`` satisfy all of ``conditions``."""
        fires = np.ones(rows.size, dtype=bool)
        for condition in conditions:
            fires &= self.holds(condition, rows)
        return fires

    def counts(self, rows, w_pos, w_neg):
        """Return the positive and negative weights each candidate keeps of ``rows``.

        Each has shape (3, n_features, width): the operators ``<=``, ``>``
        and ``==`` for each feature and slot.
        """
        n_features = self.codes.shape[0]
        flat = (self.codes[:, rows] + self.offsets).ravel()
        result = []
        for weight in (w_pos, w_neg):
            histogram = np.bincount(
                flat,
                weights=np.tile(weight[rows], n_features),
                minlength=n_features * self.width,
            ).reshape(n_features, self.width)
            below = np.cumsum(histogram, axis=1)
            total = histogram.sum(axis=1, keepdims=True)
            result.append(np.stack([below, total - below, histogram]))
        return result


def grow_rule(data, rows, w_pos, w_neg, max_conditions, min_coverage):
    """Grow a rule on ``rows`` by adding the condition of best FOIL gain.

    Conditions are added until the rule covers no negative sample, no
    condition has a positive gain, or the rule has ``max_conditions``.
    """
    conditions = []
    p0, n0 = w_pos[rows].sum(), w_neg[rows].sum()
    while n0 > 0 and len(conditions) < max_conditions:
        p, n = data.counts(rows, w_pos, w_neg)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = p * (np.log2(p / (p + n)) - log2(p0 / (p0 + n0)))
        gain[~data.valid | (p < min_coverage) | (p <= 0)] = -np.inf
        best = np.unravel_index(np.argmax(gain), gain.shape)
        # Rounding of the cumulated weights must not pass for a gain.
        if not gain[best] > 1e-9 * max(p0, 1.0):
            break
        condition = tuple(int(i) for i in best)
        conditions.append(condition)
        rows = rows[data.holds(condition, rows)]
        p0, n0 = w_pos[rows].sum(), w_neg[rows].sum()
    return conditions


def prune_rule(data, conditions, rows, w_pos, w_neg):
    """Delete the final conditions of a rule that do not help on ``rows``.

    The kept prefix maximises RIPPER's ``(p - n) / (p + n)`` on the pruning
    samples ``rows``, the shortest one among ties; a rule keeps at least one
    condition, and all of them when the pruning samples tell nothing.
    """
    values = np.full(len(conditions), -np.inf)
    for k, condition in enumerate(conditions):
        rows = rows[data.holds(condition, rows)]
        p, n = w_pos[rows].sum(), w_neg[rows].sum()
        if p + n > 0:
            values[k] = (p - n) / (p + n)
    if np.isneginf(values).all():
        return conditions
    return conditions[: int(np.argmax(values)) + 1]


def simplify(conditions):
    """Merge the conditions of a rule that test the same feature the same way.

    ``x > a AND x > b`` is ``x > max(a, b)``; the rule covers the same samples.
    """
    tightest = {}
    for operator, feature, slot in conditions:
        key = (operator, feature)
        if key not in tightest:
            tightest[key] = slot
        elif operator == LE:
            tightest[key] = min(tightest[key], slot)
        elif operator == GT:
            tightest[key] = max(tightest[key], slot)
    return [(operator, feature, slot) for (operator, feature), slot in tightest.items()]


def _log2_binomial(n, k):
    return (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / log(2)


def theory_bits(n_conditions, n_candidates):
    """Return the description length of a rule, as RIPPER counts it.

    The bits that say which ``k`` of the ``n`` possible conditions the rule
    holds, halved for the redundancy of the attributes (Quinlan, Cohen).
    """
    k, n = max(n_conditions, 1), max(n_candidates, 1)
    if k >= n:
        return 1.0
    share = k / n
    subset = -k * log2(share) - (n - k) * log2(1 - share)
    return max(0.5 * (log2(k) + subset), 1.0)


def exception_bits(covered_pos, covered_neg, total_pos, total_neg):
    """Return the bits that name the false positives and false negatives."""
    covered = covered_pos + covered_neg
    uncovered = total_pos + total_neg - covered
    false_negatives = total_pos - covered_pos
    return _log2_binomial(covered, covered_neg) + _log2_binomial(
        uncovered, false_negatives
    )


def split_grow_prune(rows, is_pos, weight, rng, prune_size):
    """Split ``rows`` at random into growing and pruning samples, per class.

    Each sample goes wholly to one side, so that weighting a sample is
    the same as repeating it; the pruning side gets about ``prune_size`` of
    the weight of the positive and of the negative samples.
    """
    if prune_size == 0:
        return rows, rows[:0]
    rows = rows[rng.permutation(rows.size)]
    grow = np.zeros(rows.size, dtype=bool)
    for side in (is_pos[rows], ~is_pos[rows]):
        w = np.where(side, weight[rows], 0.0)
        before = np.cumsum(w) - w
        grow |= side & (before < (1 - prune_size) * w.sum())
    return rows[grow], rows[~grow]


def learn_class_rules(data, rows, is_pos, weight, rng, params, max_rules):
    """Learn an ordered rule set that separates the positives in ``rows``.

    Rules are grown, pruned and added while positives remain uncovered, a
    rule is right on most of the pruning samples it covers, and the total
    description length stays within ``dl_allowance`` bits of the smallest
    seen; the rule set is then cut back to its prefix of smallest
    description length.
    """
    w_pos = np.where(is_pos, weight, 0.0)
    w_neg = np.where(is_pos, 0.0, weight)
    total_pos, total_neg = w_pos[rows].sum(), w_neg[rows].sum()
    description_lengths = [exception_bits(0.0, 0.0, total_pos, total_neg)]
    rules, theory, covered_pos, covered_neg = [], 0.0, 0.0, 0.0
    while len(rules) < max_rules and w_pos[rows].sum() > 0:
        grow, prune = split_grow_prune(rows, is_pos, weight, rng, params.prune_size)
        conditions = grow_rule(
            data, grow, w_pos, w_neg, params.max_conditions, params.min_coverage
        )
        if not conditions:
            break
        if prune.size:
            conditions = prune_rule(data, conditions, prune, w_pos, w_neg)
            pruned = data.covered(conditions, prune)
            if w_neg[pruned].sum() > w_pos[pruned].sum():
                break
        conditions = simplify(conditions)
        fires = data.fires(conditions, rows)
        covered_pos += w_pos[rows[fires]].sum()
        covered_neg += w_neg[rows[fires]].sum()
        theory += theory_bits(len(conditions), data.n_candidates)
        description_lengths.append(
            theory + exception_bits(covered_pos, covered_neg, total_pos, total_neg)
        )
        rules.append(conditions)
        rows = rows[~fires]
        if description_lengths[-1] > min(description_lengths) + params.dl_allowance:
            break
    return rules[: int(np.argmin(description_lengths))]


def learn_rule_list(data, y, weight, class_order, rng, params):
    """Learn a decision list, one rule set per class but the last of ``class_order``.

    Each class is separated from the classes after it in the order among
    the samples that no earlier rule covers.

    Returns
    -------
    rules : list of (int, list of tuple)
        The class code and the conditions of each rule, in order.
    """
    rows = np.flatnonzero(weight > 0)
    rule_list = []
    max_rules = params.max_rules
    for target in class_order[:-1]:
        is_pos = y == target
        if max_rules <= len(rule_list) or not weight[rows[is_pos[rows]]].sum() > 0:
            continue
        rules = learn_class_rules(
            data, rows, is_pos, weight, rng, params, max_rules - len(rule_list)
        )
        for conditions in rules:
            rule_list.append((target, conditions))
            rows = rows[~data.fires(conditions, rows)]
    return rule_list
