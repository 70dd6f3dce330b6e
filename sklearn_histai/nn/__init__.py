"""Pure torch architectures (no scikit-learn import) trained by the estimators."""

from sklearn_histai.nn._adapters import (
    BottleneckAdapter,
    LinearWithAdapter,
    PrefixEncoder,
    PrefixSelfAttention,
    PrefixTuning,
    add_bottleneck_adapters,
)
from sklearn_histai.nn._cnn import LeNet
from sklearn_histai.nn._embedding_bag import EmbeddingBagNet
from sklearn_histai.nn._encoder import EncoderWithHead
from sklearn_histai.nn._language_model import LSTMLanguageNet, SequenceNLL
from sklearn_histai.nn._mlp import MLP
from sklearn_histai.nn._recurrent import (
    RecurrentNet,
    StackedRecurrence,
    sequence_lengths,
)
from sklearn_histai.nn._tagger import (
    BiLSTMTagger,
    CharCNN,
    CRFNegLogLikelihood,
    TokenCrossEntropy,
    crf_log_partition,
    crf_marginals,
    crf_viterbi,
)
from sklearn_histai.nn._text_cnn import TextCNN
from sklearn_histai.nn._word2vec import (
    NegativeSamplingLoss,
    Word2VecCorpus,
    Word2VecNet,
)

__all__ = [
    "MLP",
    "BiLSTMTagger",
    "BottleneckAdapter",
    "CRFNegLogLikelihood",
    "CharCNN",
    "EmbeddingBagNet",
    "EncoderWithHead",
    "LSTMLanguageNet",
    "LeNet",
    "LinearWithAdapter",
    "NegativeSamplingLoss",
    "PrefixEncoder",
    "PrefixSelfAttention",
    "PrefixTuning",
    "RecurrentNet",
    "SequenceNLL",
    "StackedRecurrence",
    "TextCNN",
    "TokenCrossEntropy",
    "Word2VecCorpus",
    "Word2VecNet",
    "add_bottleneck_adapters",
    "crf_log_partition",
    "crf_marginals",
    "crf_viterbi",
    "sequence_lengths",
]
