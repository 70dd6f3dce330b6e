"""Per-row choice among augmentations, and the EDA recipe built on it."""

import numbers

import torch

from sklearn_histai.augmentation._base import Augmentation
from sklearn_histai.augmentation._tokens import (
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SynonymReplacement,
)


def _select(choice, variants):
    """Row ``i`` of ``variants[choice[i]]``, for tensors or dicts of tensors."""
    first = variants[0]
    if isinstance(first, dict):
        return {key: _select(choice, [v[key] for v in variants]) for key in first}
    stacked = torch.stack(variants)
    index = choice.reshape(1, -1, *([1] * (first.ndim - 1))).expand(1, *first.shape)
    return stacked.gather(0, index.to(stacked.device)).squeeze(0)


class RandomChoice(Augmentation):
    """Each row goes through one of ``augmentations``, with probability ``p``.

    The augmentation of each row is drawn uniformly among
    ``augmentations``; with probability ``1 - p`` the row stays as it is.
    Every augmentation must keep the targets (not :class:`Mixup`).

    Parameters
    ----------
    augmentations : list of Augmentation
        The augmentations to choose among.
    p : float, default=1.0
        The probability that a row is augmented at all.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import (
    ...     AugmentationContext, RandomChoice, RandomDeletion, RandomSwap)
    >>> context = AugmentationContext("tokens", padding=0)
    >>> ids = torch.tensor([[5, 6, 7, 8, 0]] * 4)
    >>> choice = RandomChoice([RandomDeletion(), RandomSwap()], p=0.0)
    >>> torch.equal(choice.augment(ids, (None, None), context)[0], ids)
    True
    """

    def __init__(self, augmentations, p=1.0):
        self.augmentations = augmentations
        self.p = p

    @property
    def input_kinds(self):
        """The input kinds every one of the augmentations applies to."""
        kinds = None
        for augmentation in self._checked():
            kinds = (
                set(augmentation.input_kinds)
                if kinds is None
                else kinds & augmentation.input_kinds
            )
        return frozenset(kinds or ())

    def _checked(self):
        if not self.augmentations or not all(
            isinstance(a, Augmentation) for a in self.augmentations
        ):
            raise ValueError(
                "augmentations must be a non-empty list of Augmentation "
                f"instances; got {self.augmentations!r}."
            )
        return self.augmentations

    def __hash__(self):
        return hash((type(self), tuple(self.augmentations), self.p))

    def _augment(self, X, y, context):
        if not isinstance(self.p, numbers.Real) or not 0 <= self.p <= 1:
            raise ValueError(f"p must be a number in [0, 1]; got {self.p!r}.")
        augmentations = self._checked()
        variants = [X]
        for augmentation in augmentations:
            augmented, kept = augmentation.augment(X, y, context)
            if kept is not y:
                raise ValueError(
                    f"RandomChoice cannot use {augmentation!r}, which changes the "
                    "targets; apply it outside the choice."
                )
            variants.append(augmented)
        first = next(iter(X.values())) if isinstance(X, dict) else X
        rows, device = len(first), first.device
        chosen = torch.randint(1, len(variants), (rows,), device=device)
        chosen = torch.where(torch.rand(rows, device=device) < self.p, chosen, 0)
        return _select(chosen, variants), y


class EDA(RandomChoice):
    """Easy data augmentation: one of the four token operations per text, or none.

    Each row is left as it is with probability ``1 - p``, as Wei & Zou
    train on the original texts beside the augmented ones; otherwise one
    of synonym replacement, random insertion, random swap and random
    deletion, drawn uniformly, edits a share ``alpha`` of its tokens.

    Parameters
    ----------
    alpha : float, default=0.1
        The share of the tokens each operation edits (the paper's
        ``alpha``).
    p : float, default=0.5
        The probability that a row is augmented.
    n_neighbors : int, default=5
        The synonyms to draw among (see :class:`SynonymReplacement`).

    References
    ----------
    .. [1] Wei, J. and Zou, K. (2019). "EDA: Easy Data Augmentation Techniques
       for Boosting Performance on Text Classification Tasks." EMNLP.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import EDA, AugmentationContext
    >>> table = torch.eye(9)
    >>> context = AugmentationContext(
    ...     "tokens", padding=0, embedding_table=lambda: table,
    ...     candidate_ids=torch.arange(4, 9))
    >>> ids = torch.tensor([[4, 5, 6, 7, 8, 0, 0]] * 3)
    >>> EDA(p=1.0).augment(ids, (None, None), context)[0].shape
    torch.Size([3, 7])
    """

    def __init__(self, alpha=0.1, p=0.5, n_neighbors=5):
        self.alpha = alpha
        self.p = p
        self.n_neighbors = n_neighbors

    @property
    def augmentations(self):
        """The four operations, each editing a share ``alpha`` of the tokens."""
        return [
            SynonymReplacement(p=self.alpha, n_neighbors=self.n_neighbors),
            RandomInsertion(p=self.alpha, n_neighbors=self.n_neighbors),
            RandomSwap(p=self.alpha),
            RandomDeletion(p=self.alpha),
        ]
