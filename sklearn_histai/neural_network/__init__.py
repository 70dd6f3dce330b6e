"""Neural estimators trained through skorch: feed-forward, CNN, RNN and LSTM."""

from sklearn_histai.neural_network._feedforward import (
    FeedForwardClassifier,
    FeedForwardRegressor,
)

__all__ = [
    "FeedForwardClassifier",
    "FeedForwardRegressor",
]
