"""A text encoder (e.g. a pretrained transformer) with a pooled linear output layer."""

import torch
from torch import nn

POOLINGS = ("mean", "cls")


class EncoderWithHead(nn.Module):
    """Pool the token states of an encoder and map them to outputs linearly.

    The encoder takes ``input_ids`` and ``attention_mask`` and returns the
    token states, as ``last_hidden_state`` (Hugging Face models, also when
    wrapped by peft) or as the first element of a tuple. Methods that
    prepend virtual tokens (prompt tuning) return more states than there
    are input tokens; the extra leading states count as tokens.

    Columns that are padding in every row of a batch are dropped before
    the encoder runs: texts padded to the longest of a whole data set then
    cost no more than their own batch needs.

    Parameters
    ----------
    encoder : nn.Module
        The encoder.
    hidden_size : int
        Size of the encoder's token states.
    n_outputs : int
        Number of outputs (classes, or regression targets).
    pooling : {"mean", "cls"}, default="mean"
        "mean" averages the states of the non-padding tokens (what sentence
        encoders are trained for); "cls" takes the state of the first input
        token (BERT's ``[CLS]``).
    dropout : float, default=0.1
        Dropout on the pooled state during training.
    init_std : float, default=0.02
        Standard deviation of the output layer's initial weights.

    Examples
    --------
    A toy encoder that returns its token states as the first element of a
    tuple:

    >>> import torch
    >>> from torch import nn
    >>> from sklearn_histai.nn import EncoderWithHead
    >>> class Encoder(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.embedding = nn.Embedding(10, 8)
    ...     def forward(self, input_ids, attention_mask):
    ...         return (self.embedding(input_ids),)
    >>> net = EncoderWithHead(Encoder(), hidden_size=8, n_outputs=2).eval()
    >>> input_ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    >>> attention_mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    >>> net(input_ids, attention_mask).shape
    torch.Size([2, 2])
    """

    def __init__(
        self,
        encoder,
        hidden_size,
        n_outputs,
        pooling="mean",
        dropout=0.1,
        init_std=0.02,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_outputs)
        nn.init.normal_(self.head.weight, std=init_std)
        nn.init.zeros_(self.head.bias)

    def pool(self, states, attention_mask):
        """Pool the token states of each row into one vector.

        Parameters
        ----------
        states : tensor of shape (batch, n_states, hidden_size)
            Token states of the encoder; ``n_states - steps`` leading states
            of virtual tokens (prompt tuning) count as tokens.
        attention_mask : tensor of shape (batch, steps)
            1 at the input tokens, 0 at padding.

        Returns
        -------
        pooled : tensor of shape (batch, hidden_size)
            The mean of the states of the non-padding tokens, or the state of
            the first input token (``pooling="cls"``).
        """
        extra = states.shape[1] - attention_mask.shape[1]
        if self.pooling == "cls":
            return states[:, extra]
        if extra > 0:
            attention_mask = torch.cat(
                [attention_mask.new_ones(len(attention_mask), extra), attention_mask],
                dim=1,
            )
        weights = attention_mask.to(states.dtype).unsqueeze(-1)
        return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)

    def get_input_embeddings(self):
        """The layer that embeds the input token ids (the encoder's word embeddings).

        Returns
        -------
        embedding : nn.Module
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.encoder.get_input_embeddings()

    def forward(self, input_ids, attention_mask):
        """Encode a batch of token ids and map the pooled states to outputs.

        Parameters
        ----------
        input_ids : tensor of shape (batch, steps)
            Token ids of the encoder's tokenizer, right-padded.
        attention_mask : tensor of shape (batch, steps)
            1 at the input tokens, 0 at padding.

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the linear layer (logits or predictions).
        """
        keep = attention_mask.bool().any(dim=0)
        if not bool(keep.all()):
            input_ids = input_ids[:, keep]
            attention_mask = attention_mask[:, keep]
        output = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        states = getattr(output, "last_hidden_state", None)
        if states is None:
            states = output[0]
        pooled = self.pool(states, attention_mask)
        return self.head(self.dropout(pooled))
