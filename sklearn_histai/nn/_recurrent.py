"""Recurrent networks (Elman RNN, LSTM, GRU) over float sequences or token ids."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def sequence_lengths(X, padding_value):
    """Length of each right-padded sequence of a batch.

    Parameters
    ----------
    X : tensor of shape (batch, steps) or (batch, steps, features)
        Token ids, or float steps; a step is padding when it equals
        ``padding_value`` (all its features, for float steps) and no
        non-padding step follows it.
    padding_value : int or float
        The padding id or value.

    Returns
    -------
    lengths : tensor of shape (batch,)
        At least 1, so that an all-padding row still has one (padding) step.
    """
    is_step = X != padding_value
    if is_step.ndim == 3:
        is_step = is_step.any(dim=-1)
    steps = torch.arange(1, is_step.shape[1] + 1, device=X.device)
    return (is_step * steps).amax(dim=1).clamp(min=1)


class RecurrentNet(nn.Module):
    """A (stacked, optionally bidirectional) recurrent network with a linear head.

    Each row is a sequence; its final hidden state (both directions
    concatenated when bidirectional) feeds a linear output layer. Right
    padding is masked by packing the sequences, so it never changes a
    prediction.

    Parameters
    ----------
    n_features_per_step : int or None
        Features of each step of a float sequence; None for token ids.
    n_outputs : int
        Size of the output.
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        The recurrent cell ("rnn" is Elman's, with tanh).
    hidden_size : int, default=128
        Hidden units per direction and layer.
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=False
        Whether to also read each sequence backwards.
    dropout : float, default=0.0
        Dropout between stacked layers and before the head.
    vocab_size : int or None, default=None
        With token ids, the number of ids (an embedding layer is added).
    embedding_dim : int, default=100
        Size of the token embeddings.
    padding_value : int or float or None, default=None
        Padding id (tokens) or value (float steps); None means no padding.
    embeddings : tensor of shape (vocab_size, embedding_dim) or None, default=None
        Pretrained embeddings to start from.
    freeze_embeddings : bool, default=False
        Whether pretrained embeddings stay fixed during training.
    """

    def __init__(
        self,
        n_features_per_step,
        n_outputs,
        cell="lstm",
        hidden_size=128,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        vocab_size=None,
        embedding_dim=100,
        padding_value=None,
        embeddings=None,
        freeze_embeddings=False,
    ):
        super().__init__()
        self.padding_value = padding_value
        self.n_features_per_step = n_features_per_step
        if vocab_size is None:
            self.embedding = None
            input_size = n_features_per_step
        else:
            padding_idx = None if padding_value is None else int(padding_value)
            if embeddings is not None:
                self.embedding = nn.Embedding.from_pretrained(
                    torch.as_tensor(embeddings, dtype=torch.float32),
                    freeze=freeze_embeddings,
                    padding_idx=padding_idx,
                )
            else:
                self.embedding = nn.Embedding(
                    vocab_size, embedding_dim, padding_idx=padding_idx
                )
            input_size = self.embedding.embedding_dim
        self.rnn = _CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_outputs)

    def forward(self, X):
        """Map sequences (batch, steps[, features]) or flat rows to outputs."""
        if self.embedding is None:
            X = X.reshape(X.shape[0], -1, self.n_features_per_step)
            inputs = X
        else:
            inputs = self.embedding(X.long())
        if self.padding_value is None:
            _, hidden = self.rnn(inputs)
        else:
            lengths = sequence_lengths(X, self.padding_value)
            packed = pack_padded_sequence(
                inputs, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            _, hidden = self.rnn(packed)
        if isinstance(hidden, tuple):  # LSTM: (h_n, c_n)
            hidden = hidden[0]
        # h_n is (layers * directions, batch, hidden): keep the last layer.
        directions = 2 if self.rnn.bidirectional else 1
        last = hidden[-directions:].transpose(0, 1).reshape(X.shape[0], -1)
        return self.head(self.dropout(last))
