"""Neural estimators trained through skorch: feed-forward, CNN, RNN and LSTM."""

from sklearn_histai._torch._adversarial import adversarial_examples
from sklearn_histai.neural_network._cnn import CNNClassifier, CNNRegressor
from sklearn_histai.neural_network._feedforward import (
    FeedForwardClassifier,
    FeedForwardRegressor,
)
from sklearn_histai.neural_network._recurrent import (
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)

__all__ = [
    "CNNClassifier",
    "CNNRegressor",
    "FeedForwardClassifier",
    "FeedForwardRegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "adversarial_examples",
]
