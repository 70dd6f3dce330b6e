"""Loaders for the real data sets that packages ship for offline use."""

from sklearn_histai.datasets._fashion_mnist import load_fashion_mnist

__all__ = ["load_fashion_mnist"]
