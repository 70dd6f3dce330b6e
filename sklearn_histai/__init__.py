"""The arc of machine learning, least squares to LoRA, behind one scikit-learn API."""

__version__ = "0.1.0.dev0"

__all__ = [
    "augmentation",
    "compare",
    "datasets",
    "deploy",
    "finetune",
    "linear_model",
    "neural_network",
    "nn",
    "parallel",
    "rules",
    "text",
    "tree",
    "utils",
]
