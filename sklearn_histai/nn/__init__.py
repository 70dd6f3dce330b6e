"""Pure torch architectures (no scikit-learn import) trained by the estimators."""

from sklearn_histai.nn._cnn import LeNet
from sklearn_histai.nn._mlp import MLP
from sklearn_histai.nn._recurrent import RecurrentNet, sequence_lengths
from sklearn_histai.nn._text_cnn import TextCNN

__all__ = ["MLP", "LeNet", "RecurrentNet", "TextCNN", "sequence_lengths"]
