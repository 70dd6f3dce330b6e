"""Mini-batch augmentations for the neural estimators' ``augmentation`` parameter.

Each augmentation transforms training mini-batches only: never a validation
split of early stopping, never the rows of ``predict`` or ``score``. An
estimator takes a name (its default settings), an instance (other
settings), a callable, or a list of them, applied in order.
"""

from sklearn_histai.augmentation._base import (
    INPUT_KINDS,
    Augmentation,
    AugmentationContext,
)
from sklearn_histai.augmentation._choice import EDA, RandomChoice
from sklearn_histai.augmentation._image import (
    HorizontalFlip,
    RandomRotation,
    RandomShift,
)
from sklearn_histai.augmentation._numeric import GaussianNoise, Mixup
from sklearn_histai.augmentation._tokens import (
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SynonymReplacement,
)

AUGMENTATIONS = {
    "shift": RandomShift,
    "flip": HorizontalFlip,
    "rotate": RandomRotation,
    "noise": GaussianNoise,
    "mixup": Mixup,
    "deletion": RandomDeletion,
    "swap": RandomSwap,
    "insertion": RandomInsertion,
    "synonym": SynonymReplacement,
    "eda": EDA,
}

__all__ = [
    "AUGMENTATIONS",
    "INPUT_KINDS",
    "Augmentation",
    "AugmentationContext",
    "EDA",
    "GaussianNoise",
    "HorizontalFlip",
    "Mixup",
    "RandomChoice",
    "RandomDeletion",
    "RandomInsertion",
    "RandomRotation",
    "RandomShift",
    "RandomSwap",
    "SynonymReplacement",
]
