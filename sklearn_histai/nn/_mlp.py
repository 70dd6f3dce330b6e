"""The multi-layer perceptron (feed-forward network)."""

from torch import nn

from sklearn_histai.nn._activations import make_activation


class MLP(nn.Module):
    """A feed-forward network: (linear → activation → dropout) × k → linear.

    Parameters
    ----------
    n_features : int
        Size of the input rows.
    n_outputs : int
        Size of the output (classes or targets).
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : str, default="relu"
        One of "relu", "tanh", "logistic", "gelu", "identity".
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import MLP
    >>> net = MLP(n_features=4, n_outputs=3, hidden_layer_sizes=(8, 8))
    >>> net(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), make_activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Map a batch of rows to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, n_features)
            Float rows.

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the last linear layer (logits or predictions).
        """
        return self.layers(X)
