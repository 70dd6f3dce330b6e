"""Classical linear models: least squares and logistic regression."""

from sklearn_histai.linear_model._least_squares import (
    IllConditionedWarning,
    LeastSquaresRegressor,
)
from sklearn_histai.linear_model._logistic import LogisticRegression

__all__ = ["IllConditionedWarning", "LeastSquaresRegressor", "LogisticRegression"]
