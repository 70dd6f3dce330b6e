"""Augmentations of numeric rows: Gaussian noise and mixup."""

import numbers

import torch

from sklearn_histai.augmentation._base import Augmentation, MixedTargets


class GaussianNoise(Augmentation):
    """Add Gaussian noise to each feature, scaled to the feature's spread.

    The noise of a feature has standard deviation ``std`` times that of the
    feature in the training data, so one setting suits features of any
    scale. The padding steps of padded sequences stay padding.

    Parameters
    ----------
    std : float, default=0.1
        The noise's standard deviation, relative to each feature's.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, GaussianNoise
    >>> context = AugmentationContext("tabular", feature_scale=torch.ones(3))
    >>> X = torch.zeros(1000, 3)
    >>> noisy, _ = GaussianNoise(std=0.5).augment(X, (None, None), context)
    >>> round(float(noisy.std()), 1)
    0.5
    """

    input_kinds = frozenset({"image", "tabular", "sequence"})

    def __init__(self, std=0.1):
        self.std = std

    def _augment(self, X, y, context):
        if not isinstance(self.std, numbers.Real) or self.std < 0:
            raise ValueError(f"std must be a non-negative number; got {self.std!r}.")
        scale = context.feature_scale
        scale = 1.0 if scale is None else scale.to(device=X.device, dtype=X.dtype)
        noise = torch.randn_like(X) * (self.std * scale)
        if context.padding is not None:
            noise = noise.masked_fill(X == context.padding, 0)
        return X + noise, y


class Mixup(Augmentation):
    """Train on convex combinations of pairs of rows and of their targets.

    Each row is mixed with another row of the batch, drawn at random, with a
    share ``lam ~ Beta(alpha, alpha)`` drawn per row; class targets mix
    their losses (equivalent to mixing one-hot targets), numeric targets
    mix their values, and sample weights mix like the targets (Zhang et
    al., 2018).

    Parameters
    ----------
    alpha : float, default=0.2
        The parameter of the Beta distribution; small values mix little.

    References
    ----------
    .. [1] Zhang, H., Cisse, M., Dauphin, Y. N. and Lopez-Paz, D. (2018).
       "mixup: Beyond Empirical Risk Minimization." ICLR.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, Mixup
    >>> context = AugmentationContext("tabular")
    >>> X, y = torch.eye(4), torch.arange(4.0)
    >>> mixed, (targets, _) = Mixup().augment(X, (y, None), context)
    >>> torch.allclose(mixed.sum(dim=1), torch.ones(4))
    True
    """

    input_kinds = frozenset({"image", "tabular", "sequence"})

    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def _augment(self, X, y, context):
        if not isinstance(self.alpha, numbers.Real) or self.alpha <= 0:
            raise ValueError(f"alpha must be a positive number; got {self.alpha!r}.")
        if context.padding is not None:
            raise ValueError(
                "mixup cannot mix padded sequences of different lengths; set "
                "padding_value=None or choose another augmentation."
            )
        targets, weight = y
        n = len(X)
        partner = torch.randperm(n, device=X.device)
        beta = torch.distributions.Beta(float(self.alpha), float(self.alpha))
        lam = beta.sample((n,)).to(X.device)
        shape = (n,) + (1,) * (X.ndim - 1)
        mixed = X * lam.to(X.dtype).reshape(shape) + X[partner] * (
            1 - lam.to(X.dtype).reshape(shape)
        )
        if weight is not None:
            weight = (
                lam.to(weight.dtype) * weight
                + (1 - lam.to(weight.dtype)) * (weight[partner])
            )
        if targets.is_floating_point():
            t_lam = lam.to(targets.dtype).reshape((n,) + (1,) * (targets.ndim - 1))
            targets = t_lam * targets + (1 - t_lam) * targets[partner]
        else:
            targets = MixedTargets(targets, targets[partner], lam)
        return mixed, (targets, weight)
