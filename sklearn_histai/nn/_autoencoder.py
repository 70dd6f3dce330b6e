"""Autoencoders: a dense or convolutional encoder to a small code, and back."""

import math

import torch
from torch import nn

from sklearn_histai.nn._activations import make_activation
from sklearn_histai.nn._mlp import MLP


class _Standardize(nn.Module):
    """``(x - mean) / scale`` with fixed statistics, plus noise while training."""

    def __init__(self, mean, scale, noise=0.0):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean).reshape(1, -1).float())
        self.register_buffer("scale", torch.as_tensor(scale).reshape(1, -1).float())
        self.noise = noise

    def forward(self, X):
        X = (X - self.mean.to(X.dtype)) / self.scale.to(X.dtype)
        if self.training and self.noise > 0:
            X = X + self.noise * torch.randn_like(X)
        return X


class _ConvEncoder(nn.Module):
    """Stride-2 convolutions over flat image rows, then a linear code."""

    def __init__(self, image_shape, channels, n_components, activation):
        super().__init__()
        self.image_shape = tuple(image_shape)
        layers, width = [], self.image_shape[0]
        height, breadth = self.image_shape[1:]
        for size in channels:
            layers += [
                nn.Conv2d(width, size, 3, stride=2, padding=1),
                make_activation(activation),
            ]
            width = size
            height, breadth = math.ceil(height / 2), math.ceil(breadth / 2)
        self.convolutions = nn.Sequential(*layers)
        self.code = nn.Linear(width * height * breadth, n_components)

    def forward(self, X):
        X = self.convolutions(X.reshape(len(X), *self.image_shape))
        return self.code(X.flatten(1))


class _ConvDecoder(nn.Module):
    """A linear map to the smallest feature maps, then upsampling convolutions."""

    def __init__(self, image_shape, channels, n_components, activation):
        super().__init__()
        image_shape = tuple(image_shape)
        sizes = [image_shape[1:]]
        for _ in channels:
            height, breadth = sizes[-1]
            sizes.append((math.ceil(height / 2), math.ceil(breadth / 2)))
        self.start_shape = (channels[-1], *sizes[-1])
        self.expand = nn.Sequential(
            nn.Linear(n_components, math.prod(self.start_shape)),
            make_activation(activation),
        )
        layers = []
        widths = [*reversed(channels), image_shape[0]]
        for index, size in enumerate(reversed(sizes[:-1])):
            layers += [
                nn.Upsample(size=tuple(size), mode="nearest"),
                nn.Conv2d(widths[index], widths[index + 1], 3, padding=1),
            ]
            if index < len(channels) - 1:
                layers.append(make_activation(activation))
        self.convolutions = nn.Sequential(*layers)

    def forward(self, codes):
        X = self.expand(codes).reshape(len(codes), *self.start_shape)
        return self.convolutions(X).flatten(1)


class Autoencoder(nn.Module):
    """An autoencoder: standardised rows to a code of ``n_components``, and back.

    The encoder standardises each row with fixed statistics (adding
    Gaussian noise while training, for a denoising autoencoder), then maps
    it through hidden layers to a linear code; the decoder mirrors it. With
    ``image_shape``, rows are flattened images and the hidden layers are
    stride-2 convolutions (each halves the height and width), mirrored by
    nearest-neighbour upsampling and convolutions.

    Parameters
    ----------
    n_features : int
        Size of the input rows.
    n_components : int
        Size of the code.
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the encoder's hidden layers (channels of its convolutions
        with ``image_shape``); the decoder has them in reverse order.
    activation : str, default="relu"
        One of "relu", "tanh", "logistic", "gelu", "identity".
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of the images the rows hold, for
        convolutional layers; None for dense ones.
    mean : array-like of shape (n_features,) or None, default=None
        The mean the encoder subtracts; None is zero.
    scale : array-like of shape (n_features,) or None, default=None
        The scale the encoder divides by; None is one.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the standardised
        rows while training (Vincent et al., 2008).

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import Autoencoder
    >>> net = Autoencoder(n_features=64, n_components=2, image_shape=(1, 8, 8))
    >>> codes = net.encoder(torch.randn(5, 64))
    >>> codes.shape, net.decoder(codes).shape
    (torch.Size([5, 2]), torch.Size([5, 64]))
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(64,),
        activation="relu",
        image_shape=None,
        mean=None,
        scale=None,
        noise=0.0,
    ):
        super().__init__()
        mean = torch.zeros(n_features) if mean is None else mean
        scale = torch.ones(n_features) if scale is None else scale
        hidden = tuple(hidden_layer_sizes)
        if image_shape is None:
            body = MLP(n_features, n_components, hidden, activation)
            self.decoder = MLP(n_components, n_features, hidden[::-1], activation)
        else:
            if math.prod(image_shape) != n_features or not hidden:
                raise ValueError(
                    f"image_shape {tuple(image_shape)} must hold the {n_features} "
                    "features, and a convolutional autoencoder needs at least "
                    "one hidden layer."
                )
            body = _ConvEncoder(image_shape, hidden, n_components, activation)
            self.decoder = _ConvDecoder(image_shape, hidden, n_components, activation)
        self.encoder = nn.Sequential(_Standardize(mean, scale, noise), body)

    def forward(self, X):
        """Reconstruct rows, in standardised units.

        Parameters
        ----------
        X : tensor of shape (batch, n_features)
            Input rows, as given.

        Returns
        -------
        reconstruction : tensor of shape (batch, n_features)
            The decoded code of each row, standardised like the encoder's
            input.
        """
        return self.decoder(self.encoder(X))
