"""Learned rules, the symbolic era: ordered IF–THEN lists by sequential covering."""

from sklearn_histai.rules._rule_list import RuleListClassifier
from sklearn_histai.rules._rules import Condition, Rule

__all__ = ["Condition", "Rule", "RuleListClassifier"]
