"""Recurrent networks (Elman RNN, LSTM, GRU) over float sequences or token ids."""

import torch
from torch import nn
from torch.nn import functional as F

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "max", "mean")


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

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import sequence_lengths
    >>> X = torch.tensor([[5, 3, 0, 0], [2, 0, 4, 0], [0, 0, 0, 0]])
    >>> sequence_lengths(X, padding_value=0)
    tensor([2, 3, 1])
    """
    is_step = X != padding_value
    if is_step.ndim == 3:
        is_step = is_step.any(dim=-1)
    steps = torch.arange(1, is_step.shape[1] + 1, device=X.device)
    return (is_step * steps).amax(dim=1).clamp(min=1)


def _real_steps(lengths, n_steps):
    """Boolean mask ``(batch, n_steps)``: True at the real (non-padding) steps."""
    return torch.arange(n_steps, device=lengths.device) < lengths[:, None]


def _reversal_index(lengths, n_steps):
    """Per row, the step order that reverses its first ``length`` steps only.

    Padding steps keep their place, so a network reading the reordered row
    still reads all real steps before any padding. The order is its own
    inverse. Returned as positions in the ``(batch * n_steps)`` steps of the
    batch, for :func:`_reorder`.
    """
    steps = torch.arange(n_steps, device=lengths.device)
    reversed_steps = lengths[:, None] - 1 - steps
    index = torch.where(_real_steps(lengths, n_steps), reversed_steps, steps)
    return (
        index + n_steps * torch.arange(len(lengths), device=index.device)[:, None]
    ).reshape(-1)


def _reorder(x, index):
    # A selection of whole steps: forwards and backwards about half the
    # cost of a gather of every feature.
    return x.reshape(-1, x.shape[2]).index_select(0, index).view(x.shape)


def padding_penalty(padding, dtype):
    """0, and -inf where ``padding`` is True: added to values before a maximum.

    Added rather than filled in: the gradient of a sum passes through as it
    is, that of a fill is filled in again.
    """
    penalty = torch.zeros(padding.shape, dtype=dtype, device=padding.device)
    return penalty.masked_fill_(padding, -torch.inf)


class StackedRecurrence(nn.Module):
    """Stacked, optionally bidirectional recurrent layers over right-padded rows.

    The outputs equal those of ``nn.LSTM`` (``nn.RNN``, ``nn.GRU``) reading
    packed sequences, so padding never changes them, computed without
    packing: the forward direction reads each padded row as it is (its
    outputs at real steps come before any padding); the backward direction
    reads each row with its real steps reversed and the padding left at the
    end, and its outputs are put back in order. On the CPU, torch's
    recurrent layers run packed sequences step by step, and the backward
    pass of each step fills a gradient buffer of the whole packed batch: a
    bidirectional LSTM over rows of 256 tokens trained about 18 times
    slower packed than unpacked. Steps past the longest row of a batch are
    skipped.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        The recurrent cell ("rnn" is Elman's, with tanh).
    input_size : int
        Features of each step.
    hidden_size : int
        Hidden units per direction and layer.
    num_layers : int, default=1
        Stacked layers.
    bidirectional : bool, default=False
        Whether each layer also reads the rows backwards.
    dropout : float, default=0.0
        Dropout on the outputs of every layer but the last.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import StackedRecurrence
    >>> rnn = StackedRecurrence("lstm", input_size=3, hidden_size=4,
    ...                         bidirectional=True)
    >>> outputs, final = rnn(torch.randn(2, 5, 3), lengths=torch.tensor([5, 2]))
    >>> outputs.shape, final.shape
    (torch.Size([2, 5, 8]), torch.Size([2, 8]))
    >>> bool((outputs[1, 2:] == 0).all())
    True
    """

    def __init__(
        self,
        cell,
        input_size,
        hidden_size,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
    ):
        super().__init__()
        directions = 2 if bidirectional else 1
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.layers = nn.ModuleList(
            nn.ModuleList(
                _CELLS[cell](
                    input_size if layer == 0 else hidden_size * directions,
                    hidden_size,
                    batch_first=True,
                )
                for _ in range(directions)
            )
            for layer in range(num_layers)
        )

    def load_forward_weights(self, weights):
        """Start the forward direction of the first layers from given weights.

        Parameters
        ----------
        weights : sequence of dict
            One dict per layer, from the first: the arrays or tensors
            ``weight_ih``, ``weight_hh``, ``bias_ih`` and ``bias_hh`` of the
            layer's forward direction, in the layout of torch's recurrent
            layers (gates stacked along the first axis), e.g. those of a
            trained language model. Layers past the given ones, and the
            backward directions, keep their weights.

        Raises
        ------
        ValueError
            If there are more dicts than layers, a key is missing or extra,
            or an array's shape differs from the layer's.
        """
        if len(weights) > len(self.layers):
            raise ValueError(
                f"{len(weights)} layers of weights given for a network of "
                f"{len(self.layers)} layers."
            )
        names = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
        with torch.no_grad():
            for index, (given, directions) in enumerate(zip(weights, self.layers)):
                if set(given) != names:
                    raise ValueError(
                        f"The weights of layer {index} must have the keys "
                        f"{sorted(names)}; got {sorted(given)}."
                    )
                for name in sorted(names):
                    target = getattr(directions[0], f"{name}_l0")
                    value = torch.as_tensor(given[name], dtype=target.dtype)
                    if value.shape != target.shape:
                        raise ValueError(
                            f"The {name} of layer {index} has shape "
                            f"{tuple(value.shape)}; this network needs "
                            f"{tuple(target.shape)} (hidden_size, input size "
                            "and cell must match those the weights come from)."
                        )
                    target.copy_(value)

    def forward(self, inputs, lengths, mask=True):
        """Outputs of the last layer at every step, and its final states.

        Parameters
        ----------
        inputs : tensor of shape (batch, steps, input_size)
            Right-padded rows.
        lengths : tensor of shape (batch,)
            Number of real steps of each row, at least 1.
        mask : bool, default=True
            Whether to zero the outputs at padding steps; a caller that
            reads the real steps only saves a pass over the outputs.

        Returns
        -------
        outputs : tensor of shape (batch, width, hidden_size * directions)
            Outputs at the first ``width = lengths.max()`` steps (both
            directions concatenated); zero at padding steps with ``mask``.
        final : tensor of shape (batch, hidden_size * directions)
            The state after the last real step of the forward direction and
            after the first step of the backward one.
        """
        width = int(lengths.max())
        x = inputs[:, :width]
        # A batch without padding (float sequences, or token rows batched by
        # length) needs no masks: the backward direction reads each row
        # flipped, which is cheaper forwards and backwards than a gather.
        full = bool((lengths == width).all())
        reverse = None
        if self.bidirectional and not full:
            reverse = _reversal_index(lengths, width)
        for index, directions in enumerate(self.layers):
            if index > 0 and self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
            outputs = [directions[0](x)[0]]
            if self.bidirectional and full:
                outputs.append(directions[1](x.flip(1))[0].flip(1))
            elif self.bidirectional:
                backward = directions[1](_reorder(x, reverse))[0]
                outputs.append(_reorder(backward, reverse))
            x = torch.cat(outputs, dim=2) if self.bidirectional else outputs[0]
        if full:
            final = x[:, -1, : self.hidden_size]
        else:
            rows = torch.arange(len(x), device=x.device)
            final = x[rows, lengths - 1, : self.hidden_size]
        if self.bidirectional:
            final = torch.cat([final, x[:, 0, self.hidden_size :]], dim=1)
        if full or not mask:
            return x, final
        return x * _real_steps(lengths, width)[:, :, None], final


class RecurrentNet(nn.Module):
    """A (stacked, optionally bidirectional) recurrent network with a linear head.

    Each row is a sequence; its final hidden state (both directions
    concatenated when bidirectional), or the maximum or mean of the outputs
    over its steps, feeds a linear output layer. Right padding is masked
    (see :class:`StackedRecurrence`), so it never changes a prediction.

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
    pooling : {"last", "max", "mean"}, default="last"
        What summarises a sequence: the final states ("last"), or the
        element-wise maximum or mean of the last layer's outputs over the
        real steps. Pooling gives every step a short gradient path to the
        output, which trains far faster than the final state on long texts
        (the max-pooled BiLSTM of Conneau et al., 2017).
    recurrent_weights : sequence of dict or None, default=None
        Weights to start the forward direction of the first layers from
        (see :meth:`StackedRecurrence.load_forward_weights`), e.g. those of
        a language model trained on unlabelled text.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import RecurrentNet
    >>> net = RecurrentNet(3, 1, cell="gru", hidden_size=8)
    >>> net(torch.randn(4, 6, 3)).shape
    torch.Size([4, 1])

    Token ids, right-padded with 0; the padding does not change the output:

    >>> net = RecurrentNet(None, 2, vocab_size=20, embedding_dim=8,
    ...                    hidden_size=8, padding_value=0).eval()
    >>> X = torch.tensor([[4, 7, 9, 0, 0]])
    >>> torch.allclose(net(X), net(X[:, :3]))
    True
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
        pooling="last",
        recurrent_weights=None,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        self.pooling = pooling
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
        self.rnn = StackedRecurrence(
            cell,
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
        )
        if recurrent_weights is not None:
            self.rnn.load_forward_weights(recurrent_weights)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_outputs)

    def get_input_embeddings(self):
        """The layer that embeds the input token ids (None for float sequences).

        Returns
        -------
        embedding : nn.Module or None
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding

    def forward(self, X):
        """Map a batch of sequences to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, steps), (batch, steps, n_features_per_step) \
or (batch, steps * n_features_per_step)
            Token ids (with ``vocab_size``), or float sequences, shaped or
            as flat rows; right-padded with ``padding_value``.

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the linear head (logits or predictions).
        """
        if self.embedding is None:
            X = X.reshape(X.shape[0], -1, self.n_features_per_step)
        if self.padding_value is None:
            lengths = torch.full((len(X),), X.shape[1], device=X.device)
        else:
            lengths = sequence_lengths(X, self.padding_value)
            # Steps past the longest row are not read: nor embedded.
            X = X[:, : int(lengths.max())]
        inputs = X if self.embedding is None else self.embedding(X.long())
        outputs, final = self.rnn(inputs, lengths, mask=self.pooling == "mean")
        if self.pooling == "max":
            if self.padding_value is not None:
                padding = ~_real_steps(lengths, outputs.shape[1])
                outputs = outputs + padding_penalty(padding, outputs.dtype)[:, :, None]
            final = outputs.max(dim=1).values
        elif self.pooling == "mean":
            # Outputs are zero at padding steps.
            final = outputs.sum(dim=1) / lengths[:, None].to(outputs.dtype)
        return self.head(self.dropout(final))
