"""Text: tokenising, bag-of-words and embedding pipelines, text classifiers."""

from sklearn_histai.text._embedding_bag import EmbeddingBagClassifier
from sklearn_histai.text._tokenizer import TextAnalyzer, TextTokenizer
from sklearn_histai.text._word2vec import Word2Vec

__all__ = [
    "EmbeddingBagClassifier",
    "TextAnalyzer",
    "TextTokenizer",
    "Word2Vec",
]
