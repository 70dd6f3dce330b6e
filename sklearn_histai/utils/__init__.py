"""Utilities shared across sklearn_histai: discovery and model metadata."""

from sklearn_histai.utils._history import ModelHistory, get_history
from sklearn_histai.utils.discovery import all_estimators

__all__ = ["ModelHistory", "all_estimators", "get_history"]
