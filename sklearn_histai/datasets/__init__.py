"""Loaders for the real data sets that packages ship for offline use."""

from sklearn_histai.datasets._fashion_mnist import load_fashion_mnist
from sklearn_histai.datasets._glove import glove_embeddings, load_glove
from sklearn_histai.datasets._imdb import load_imdb
from sklearn_histai.datasets._treebanks import (
    load_penn_treebank,
    load_ud_treebank,
    load_ud_turkish,
)

__all__ = [
    "glove_embeddings",
    "load_fashion_mnist",
    "load_glove",
    "load_imdb",
    "load_penn_treebank",
    "load_ud_treebank",
    "load_ud_turkish",
]
