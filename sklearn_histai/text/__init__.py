"""Text: tokenising, bag-of-words and embedding pipelines, text classifiers."""

from sklearn_histai.text._embedding_bag import EmbeddingBagClassifier
from sklearn_histai.text._lstm_lm import LSTMLanguageModel
from sklearn_histai.text._metrics import (
    entity_f1_score,
    entity_f1_scorer,
    entity_precision_recall_fscore_support,
    entity_precision_score,
    entity_recall_score,
    extract_entities,
    token_accuracy_score,
    token_accuracy_scorer,
)
from sklearn_histai.text._ngram import NGramLanguageModel
from sklearn_histai.text._pipelines import make_text_classifier
from sklearn_histai.text._tagger import SequenceTagger
from sklearn_histai.text._tokenizer import TextAnalyzer, TextTokenizer
from sklearn_histai.text._transformer_lm import TransformerLanguageModel
from sklearn_histai.text._word2vec import Word2Vec

__all__ = [
    "EmbeddingBagClassifier",
    "LSTMLanguageModel",
    "NGramLanguageModel",
    "SequenceTagger",
    "TextAnalyzer",
    "TextTokenizer",
    "TransformerLanguageModel",
    "Word2Vec",
    "entity_f1_score",
    "entity_f1_scorer",
    "entity_precision_recall_fscore_support",
    "entity_precision_score",
    "entity_recall_score",
    "extract_entities",
    "make_text_classifier",
    "token_accuracy_score",
    "token_accuracy_scorer",
]
