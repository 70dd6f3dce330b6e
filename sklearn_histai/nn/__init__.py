"""Pure torch architectures (no scikit-learn import) trained by the estimators."""

from sklearn_histai.nn._adapters import (
    BottleneckAdapter,
    LinearWithAdapter,
    PrefixEncoder,
    PrefixSelfAttention,
    PrefixTuning,
    add_bottleneck_adapters,
)
from sklearn_histai.nn._autoencoder import Autoencoder
from sklearn_histai.nn._cnn import LeNet
from sklearn_histai.nn._embedding_bag import EmbeddingBagNet
from sklearn_histai.nn._encoder import EncoderWithHead
from sklearn_histai.nn._language_model import (
    LSTMLanguageNet,
    SequenceNLL,
    TokenSoftmax,
)
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
from sklearn_histai.nn._transformer import (
    CausalTransformerNet,
    MultiHeadSelfAttention,
    TransformerBlock,
    TransformerEncoderNet,
    sinusoidal_positions,
)
from sklearn_histai.nn._word2vec import (
    NegativeSamplingLoss,
    Word2VecCorpus,
    Word2VecNet,
)

__all__ = [
    "MLP",
    "Autoencoder",
    "BiLSTMTagger",
    "BottleneckAdapter",
    "CRFNegLogLikelihood",
    "CausalTransformerNet",
    "CharCNN",
    "EmbeddingBagNet",
    "EncoderWithHead",
    "LSTMLanguageNet",
    "LeNet",
    "LinearWithAdapter",
    "MultiHeadSelfAttention",
    "NegativeSamplingLoss",
    "PrefixEncoder",
    "PrefixSelfAttention",
    "PrefixTuning",
    "RecurrentNet",
    "SequenceNLL",
    "StackedRecurrence",
    "TextCNN",
    "TokenCrossEntropy",
    "TokenSoftmax",
    "TransformerBlock",
    "TransformerEncoderNet",
    "Word2VecCorpus",
    "Word2VecNet",
    "add_bottleneck_adapters",
    "crf_log_partition",
    "crf_marginals",
    "crf_viterbi",
    "sequence_lengths",
    "sinusoidal_positions",
]
