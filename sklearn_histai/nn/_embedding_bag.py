"""The mean of token embeddings and a linear layer: the fastText classifier."""

import torch
from torch import nn


class EmbeddingBagNet(nn.Module):
    """Average the embeddings of a row's tokens, then a linear output layer.

    With token ids, a row's document vector is the mean of the embeddings of
    its non-padding tokens (zero for a row of padding only), so padding
    never changes the output. With float rows (``vocab_size=None``), each
    row is a bag of feature values (e.g. counts or TF-IDF weights) and the
    document vector is their weighted sum of per-feature embeddings,
    ``X @ E``. Either way it is a linear classifier with a rank constraint
    (Joulin et al., 2016).

    Parameters
    ----------
    n_features : int or None
        Size of float rows; None with token ids.
    n_outputs : int
        Size of the output.
    vocab_size : int or None, default=None
        With token ids, the number of ids.
    embedding_dim : int, default=100
        Size of the embeddings (the rank of the classifier).
    dropout : float, default=0.0
        Dropout probability on the document vector.
    padding_value : int or None, default=0
        The padding id; None means no padding.
    embeddings : array-like of shape (vocab_size, embedding_dim) or None, \
default=None
        Pretrained embeddings to start from.
    freeze_embeddings : bool, default=False
        Whether pretrained embeddings stay fixed during training.

    References
    ----------
    .. [1] Joulin, A., Grave, E., Bojanowski, P. and Mikolov, T. (2017).
       "Bag of tricks for efficient text classification." EACL.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import EmbeddingBagNet
    >>> net = EmbeddingBagNet(None, 2, vocab_size=10, embedding_dim=4)
    >>> X = torch.tensor([[3, 5, 0, 0], [7, 1, 2, 0]])
    >>> net(X).shape
    torch.Size([2, 2])

    Padding does not change the output:

    >>> torch.allclose(net(X[:1]), net(X[:1, :2]))
    True
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        vocab_size=None,
        embedding_dim=100,
        dropout=0.0,
        padding_value=0,
        embeddings=None,
        freeze_embeddings=False,
    ):
        super().__init__()
        if vocab_size is None:
            self.embedding = nn.Linear(n_features, embedding_dim, bias=False)
        else:
            padding_idx = None if padding_value is None else int(padding_value)
            if embeddings is not None:
                self.embedding = nn.EmbeddingBag.from_pretrained(
                    torch.as_tensor(embeddings, dtype=torch.float32),
                    freeze=freeze_embeddings,
                    mode="mean",
                    padding_idx=padding_idx,
                )
            else:
                self.embedding = nn.EmbeddingBag(
                    vocab_size, embedding_dim, mode="mean", padding_idx=padding_idx
                )
            embedding_dim = self.embedding.embedding_dim
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embedding_dim, n_outputs)

    def get_input_embeddings(self):
        """The layer that embeds the input token ids (None for float rows).

        Returns
        -------
        embedding : nn.Module or None
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding if isinstance(self.embedding, nn.EmbeddingBag) else None

    def forward(self, X):
        """Map the bags of a batch to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, steps) or (batch, n_features)
            Right-padded token ids (with ``vocab_size``) or float rows of
            feature values (``vocab_size=None``).

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the linear layer (logits or predictions).
        """
        if isinstance(self.embedding, nn.EmbeddingBag):
            X = X.long()
        return self.head(self.dropout(self.embedding(X)))
