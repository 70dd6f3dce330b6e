"""The LeNet-style convolutional network, for images or 1-D signals of any size."""

import math

from torch import nn

from sklearn_histai.nn._activations import make_activation


class LeNet(nn.Module):
    """LeNet-style CNN: (conv → activation → max-pool) × k → dense → dropout → linear.

    The classic configuration (LeCun et al., 1998, as popularised by the
    PyTorch MNIST example) is two 5×5 convolutions with 10 and 20 channels,
    each followed by 2×2 max-pooling, then a dense layer of 50 units.
    Convolutions are zero-padded to keep the spatial size and a pooling
    step is skipped along an axis of size 1, so that the network accepts
    any input size, down to a single feature.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` for images (2-D convolutions) or
        ``(channels, length)`` for signals (1-D convolutions).
    n_outputs : int
        Size of the output.
    channels : tuple of int, default=(10, 20)
        Output channels of each convolution block.
    kernel_size : int, default=5
        Side of the square (or length of the 1-D) convolution kernels.
    dense_size : int, default=50
        Width of the dense layer before the output.
    activation : str, default="relu"
        Activation after each convolution and the dense layer.
    dropout : float, default=0.0
        Dropout probability before the output layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import LeNet
    >>> net = LeNet(input_shape=(1, 8, 8), n_outputs=10)
    >>> net(torch.randn(2, 64)).shape
    torch.Size([2, 10])

    A 1-D signal of five steps:

    >>> LeNet(input_shape=(1, 5), n_outputs=2)(torch.randn(3, 5)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        input_shape,
        n_outputs,
        channels=(10, 20),
        kernel_size=5,
        dense_size=50,
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        in_channels, *spatial = input_shape
        conv, pool = (
            (nn.Conv2d, nn.MaxPool2d)
            if len(spatial) == 2
            else (
                nn.Conv1d,
                nn.MaxPool1d,
            )
        )
        blocks = []
        for out_channels in channels:
            blocks += [
                conv(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
                make_activation(activation),
            ]
            # Even kernels grow the size by one with this padding.
            spatial = [
                size + 2 * (kernel_size // 2) - kernel_size + 1 for size in spatial
            ]
            window = tuple(2 if size > 1 else 1 for size in spatial)
            if any(w > 1 for w in window):
                blocks.append(pool(window, ceil_mode=True))
            spatial = [math.ceil(size / w) for size, w in zip(spatial, window)]
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.input_shape = tuple(input_shape)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * math.prod(spatial), dense_size),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(dense_size, n_outputs),
        )

    def forward(self, X):
        """Map a batch of images or signals to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, prod(input_shape)) or (batch,) + input_shape
            Flat rows or shaped input; either is reshaped to ``input_shape``.

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the last linear layer (logits or predictions).
        """
        X = X.reshape(X.shape[0], *self.input_shape)
        return self.head(self.features(X))
