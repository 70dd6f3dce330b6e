"""Augmentations of images: shifts, flips, rotations, each drawn per image."""

import math
import numbers

import torch
import torch.nn.functional as F

from sklearn_histai.augmentation._base import Augmentation


def _check_fraction(value, name):
    if not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}.")


def _images(X, context):
    """The flat rows of ``X`` as a batch of images, (n, channels, height, width)."""
    return X.reshape(len(X), *context.image_shape)


class RandomShift(Augmentation):
    """Shift each image by up to ``max_shift`` pixels in each direction.

    The image is zero-padded by ``max_shift`` on every side and a window of
    its size is cropped at a random offset: the "pad and random crop" of
    the CIFAR and MNIST training recipes.

    Parameters
    ----------
    max_shift : int, default=2
        The largest shift, in pixels, horizontally and vertically.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, RandomShift
    >>> context = AugmentationContext("image", image_shape=(1, 4, 4))
    >>> X = torch.arange(32.0).reshape(2, 16)
    >>> shifted, _ = RandomShift(max_shift=1).augment(X, (None, None), context)
    >>> shifted.shape
    torch.Size([2, 16])
    """

    input_kinds = frozenset({"image"})

    def __init__(self, max_shift=2):
        self.max_shift = max_shift

    def _augment(self, X, y, context):
        if not isinstance(self.max_shift, numbers.Integral) or self.max_shift < 0:
            raise ValueError(
                f"max_shift must be a non-negative integer; got {self.max_shift!r}."
            )
        s = int(self.max_shift)
        if s == 0:
            return X, y
        images = _images(X, context)
        n, _, height, width = images.shape
        padded = F.pad(images, (s, s, s, s))
        offsets = torch.randint(0, 2 * s + 1, (2, n), device=X.device)
        rows = offsets[0][:, None] + torch.arange(height, device=X.device)
        cols = offsets[1][:, None] + torch.arange(width, device=X.device)
        batch = torch.arange(n, device=X.device)[:, None, None]
        # (n, height, width, channels), read at each image's own offset.
        cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return cropped.permute(0, 3, 1, 2).reshape(X.shape), y


class HorizontalFlip(Augmentation):
    """Mirror each image left to right with probability ``p``.

    Not for images whose meaning changes when mirrored (digits, text).

    Parameters
    ----------
    p : float, default=0.5
        The probability of flipping an image.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, HorizontalFlip
    >>> context = AugmentationContext("image", image_shape=(1, 1, 3))
    >>> X = torch.tensor([[1.0, 2.0, 3.0]])
    >>> HorizontalFlip(p=1.0).augment(X, (None, None), context)[0]
    tensor([[3., 2., 1.]])
    """

    input_kinds = frozenset({"image"})

    def __init__(self, p=0.5):
        self.p = p

    def _augment(self, X, y, context):
        _check_fraction(self.p, "p")
        images = _images(X, context)
        flip = torch.rand(len(X), device=X.device) < self.p
        flipped = torch.where(flip[:, None, None, None], images.flip(-1), images)
        return flipped.reshape(X.shape), y


class RandomRotation(Augmentation):
    """Rotate each image by a random angle in ``[-max_degrees, max_degrees]``.

    Bilinear interpolation; the corners that the rotation brings in are
    zero.

    Parameters
    ----------
    max_degrees : float, default=10.0
        The largest rotation, in degrees, either way.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, RandomRotation
    >>> context = AugmentationContext("image", image_shape=(1, 5, 5))
    >>> X = torch.rand(3, 25)
    >>> RandomRotation(max_degrees=0).augment(X, (None, None), context)[0].allclose(X)
    True
    """

    input_kinds = frozenset({"image"})

    def __init__(self, max_degrees=10.0):
        self.max_degrees = max_degrees

    def _augment(self, X, y, context):
        if not isinstance(self.max_degrees, numbers.Real) or not (
            0 <= self.max_degrees <= 180
        ):
            raise ValueError(
                f"max_degrees must be a number in [0, 180]; got {self.max_degrees!r}."
            )
        if self.max_degrees == 0:
            return X, y
        images = _images(X, context)
        n = len(images)
        angles = (torch.rand(n, device=X.device) * 2 - 1) * math.radians(
            self.max_degrees
        )
        cos, sin = torch.cos(angles), torch.sin(angles)
        zero = torch.zeros_like(cos)
        theta = torch.stack(
            [torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1
        ).to(images.dtype)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        rotated = F.grid_sample(images, grid, align_corners=False)
        return rotated.reshape(X.shape), y
