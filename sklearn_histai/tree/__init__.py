"""Decision trees (CART) grown on histograms of binned features."""

from sklearn_histai.tree._classes import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]
