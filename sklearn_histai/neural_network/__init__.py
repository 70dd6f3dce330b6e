"""Neural estimators trained through skorch: MLP, CNN, RNN, LSTM, Transformer."""

from sklearn_histai._torch._adversarial import adversarial_examples
from sklearn_histai.neural_network._autoencoder import AutoencoderTransformer
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
from sklearn_histai.neural_network._transformer import (
    TransformerEncoderClassifier,
    TransformerEncoderRegressor,
)

__all__ = [
    "AutoencoderTransformer",
    "CNNClassifier",
    "CNNRegressor",
    "FeedForwardClassifier",
    "FeedForwardRegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "TransformerEncoderClassifier",
    "TransformerEncoderRegressor",
    "adversarial_examples",
]
