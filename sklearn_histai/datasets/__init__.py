"""Loaders for the real data sets that packages ship for offline use."""

from sklearn_histai.datasets._fashion_mnist import load_fashion_mnist
from sklearn_histai.datasets._treebanks import (
    load_penn_treebank,
    load_ud_treebank,
    load_ud_turkish,
)

__all__ = [
    "load_fashion_mnist",
    "load_penn_treebank",
    "load_ud_treebank",
    "load_ud_turkish",
]
