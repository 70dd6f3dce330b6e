"""An LSTM language model trained with truncated back-propagation through time."""

import torch
import torch.nn.functional as F
from torch import nn


class TokenSoftmax(nn.Module):
    """The output layer of a language model: a full or adaptive softmax over ids.

    Parameters
    ----------
    input_size : int
        Size of the features it reads.
    vocab_size : int
        Number of ids, padding and specials included.
    padding_idx : int, default=0
        The padding id: its targets score zero.
    excluded_ids : sequence of int, default=(0,)
        Ids that are never predicted (padding, the start symbol): the full
        softmax gives them probability zero.
    adaptive_cutoffs : sequence of int or None, default=None
        None for a full softmax (a linear layer, which may share the
        embedding matrix); else the cluster boundaries of an adaptive
        softmax (Grave et al., 2017) over the ids ranked by ``token_order``.
        It is exact (normalised) but much cheaper for large vocabularies.
    token_order : sequence of int or None, default=None
        The ids from the most to the least frequent (adaptive softmax only);
        None keeps the id order.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import TokenSoftmax
    >>> softmax = TokenSoftmax(8, vocab_size=10, adaptive_cutoffs=[4])
    >>> log_probs = softmax.log_probs(torch.randn(2, 3, 8))
    >>> log_probs.shape
    torch.Size([2, 3, 10])
    >>> torch.allclose(log_probs.exp().sum(dim=-1), torch.ones(2, 3))
    True
    """

    def __init__(
        self,
        input_size,
        vocab_size,
        padding_idx=0,
        excluded_ids=(0,),
        adaptive_cutoffs=None,
        token_order=None,
    ):
        super().__init__()
        self.padding_idx = padding_idx
        self.decoder = None
        self.adaptive = None
        if adaptive_cutoffs is None:
            self.decoder = nn.Linear(input_size, vocab_size)
        else:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                input_size, vocab_size, list(adaptive_cutoffs), div_value=4.0
            )
        # Adding -inf to the bias of excluded ids costs a vector, not a
        # pass over the (steps, vocabulary) logits.
        excluded = torch.zeros(vocab_size)
        excluded[list(excluded_ids)] = float("-inf")
        self.register_buffer("excluded", excluded, persistent=False)
        order = torch.arange(vocab_size) if token_order is None else token_order
        order = torch.as_tensor(order, dtype=torch.long)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(vocab_size)
        self.register_buffer("order", order, persistent=False)
        self.register_buffer("rank", rank, persistent=False)

    def _logits(self, features):
        logits = F.linear(
            features, self.decoder.weight, self.decoder.bias + self.excluded
        )
        if logits.dtype in (torch.float16, torch.bfloat16):
            # Autocast: the softmax over the vocabulary needs float32's range.
            logits = logits.float()
        return logits

    def log_probs(self, features):
        """Log-probabilities of every id.

        Parameters
        ----------
        features : tensor of shape (..., input_size)
            What the network computed before the output layer.

        Returns
        -------
        log_probs : tensor of shape (..., vocab_size)
            The log-probability of each id being the next token; ``-inf`` at
            the ``excluded_ids`` (full softmax).
        """
        if self.adaptive is None:
            return torch.log_softmax(self._logits(features), dim=-1)
        flat = features.reshape(-1, features.shape[-1])
        if flat.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        ranked = self.adaptive.log_prob(flat)
        return ranked[:, self.rank].reshape(*features.shape[:-1], -1)

    def target_log_probs(self, features, targets):
        """Log-probability of each target id, zero at padding.

        Parameters
        ----------
        features : tensor of shape (batch, steps, input_size)
            What the network computed before the output layer.
        targets : tensor of shape (batch, steps)
            The ids to score.

        Returns
        -------
        log_probs : tensor of shape (batch, steps)
            Zero where the target is padding.
        """
        flat_targets = targets.reshape(-1)
        if self.adaptive is None:
            logits = self._logits(features)
            scores = -F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                flat_targets,
                reduction="none",
                ignore_index=self.padding_idx,
            )
        else:
            flat = features.reshape(-1, features.shape[-1])
            if flat.dtype in (torch.float16, torch.bfloat16):
                flat = flat.float()
            scores = self.adaptive(flat, self.rank[flat_targets]).output
            scores = scores.masked_fill(flat_targets == self.padding_idx, 0)
        return scores.reshape(targets.shape)


class LSTMLanguageNet(nn.Module):
    """A stacked LSTM that scores each token of a sequence given the tokens before it.

    Rows are right-padded id sequences ``[bos, x_1, ..., x_n, eos, pad, ...]``.
    The network reads ``bos, x_1, ..., x_n`` and returns the log-probability
    of each next token ``x_1, ..., x_n, eos`` (zero at padding), so the full
    ``(batch, steps, vocab_size)`` distribution is never returned: it is
    computed a window of ``bptt`` steps at a time.

    Training uses truncated back-propagation through time: the hidden state
    flows through the whole row, gradients stop every ``bptt`` steps.

    Parameters
    ----------
    vocab_size : int
        Number of ids, padding and specials included.
    embedding_dim : int, default=200
        Size of the token embeddings.
    hidden_size : int, default=200
        Units of each LSTM layer.
    num_layers : int, default=2
        Stacked LSTM layers.
    dropout : float, default=0.0
        Dropout on the embeddings, between layers and before the output layer
        (Zaremba et al., 2014).
    tie_weights : bool, default=False
        Whether the output layer shares the embedding matrix (Press & Wolf,
        2017); a projection maps the hidden state to the embedding size when
        they differ. Full softmax only.
    bptt : int, default=35
        Steps through which gradients flow back.
    padding_idx : int, default=0
        The padding id.
    excluded_ids : sequence of int, default=(0,)
        Ids that are never predicted (padding, the start symbol): the full
        softmax gives them probability zero.
    adaptive_cutoffs : sequence of int or None, default=None
        None for a full softmax; else the cluster boundaries of an adaptive
        softmax (Grave et al., 2017) over the ids ranked by ``token_order``.
        It is exact (normalised) but much cheaper for large vocabularies.
    token_order : sequence of int or None, default=None
        The ids from the most to the least frequent (adaptive softmax only);
        None keeps the id order.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import LSTMLanguageNet
    >>> net = LSTMLanguageNet(vocab_size=10, embedding_dim=8, hidden_size=8,
    ...                       num_layers=1).eval()
    >>> X = torch.tensor([[1, 4, 5, 2, 0]])  # bos, two words, eos, padding
    >>> net(X).shape
    torch.Size([1, 4])

    Generation reads one id at a time, carrying the state on:

    >>> log_probs, state = net.step(torch.tensor([[1]]))
    >>> log_probs.shape
    torch.Size([1, 1, 10])
    >>> round(log_probs.exp().sum().item(), 4)
    1.0
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim=200,
        hidden_size=200,
        num_layers=2,
        dropout=0.0,
        tie_weights=False,
        bptt=35,
        padding_idx=0,
        excluded_ids=(0,),
        adaptive_cutoffs=None,
        token_order=None,
    ):
        super().__init__()
        if tie_weights and adaptive_cutoffs is not None:
            raise ValueError(
                "Tied weights need the full softmax (no adaptive_cutoffs)."
            )
        self.padding_idx = padding_idx
        self.bptt = bptt
        self.embedding = nn.Embedding(
            vocab_size, embedding_dim, padding_idx=padding_idx
        )
        self.lstm = nn.LSTM(
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(dropout)
        output_size = hidden_size
        self.projection = None
        if tie_weights and hidden_size != embedding_dim:
            self.projection = nn.Linear(hidden_size, embedding_dim, bias=False)
            output_size = embedding_dim
        self.output = TokenSoftmax(
            output_size,
            vocab_size,
            padding_idx=padding_idx,
            excluded_ids=excluded_ids,
            adaptive_cutoffs=adaptive_cutoffs,
            token_order=token_order,
        )
        if tie_weights:
            self.output.decoder.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self):
        # The uniform initialisation of Zaremba et al. (2014): small weights
        # start the softmax near uniform.
        for name, parameter in self.named_parameters():
            if "bias" in name:
                nn.init.zeros_(parameter)
            else:
                nn.init.uniform_(parameter, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[self.padding_idx].zero_()

    def _features(self, hidden):
        if self.projection is not None:
            hidden = self.projection(hidden)
        return self.dropout(hidden)

    def log_probs(self, hidden):
        """Log-probabilities of every id given the hidden states of the LSTM.

        Parameters
        ----------
        hidden : tensor of shape (..., hidden_size)
            Outputs of the last LSTM layer.

        Returns
        -------
        log_probs : tensor of shape (..., vocab_size)
            The log-probability of each id being the next token; ``-inf`` at
            the ``excluded_ids`` (full softmax).
        """
        return self.output.log_probs(self._features(hidden))

    def step(self, ids, state=None):
        """Run the network over ``ids`` from ``state``.

        Parameters
        ----------
        ids : tensor of shape (batch, steps)
            The ids to read.
        state : tuple of two tensors of shape (num_layers, batch, hidden_size) \
or None, default=None
            The LSTM's hidden and cell states after the ids read before;
            None starts from zero states.

        Returns
        -------
        log_probs : tensor of shape (batch, steps, vocab_size)
            The log-probabilities of the next id after each step.
        state : tuple of two tensors of shape (num_layers, batch, hidden_size)
            The hidden and cell states after the last step.
        """
        inputs = self.dropout(self.embedding(ids.long()))
        output, state = self.lstm(inputs, state)
        return self.log_probs(output), state

    def get_input_embeddings(self):
        """The layer that embeds the input token ids.

        Returns
        -------
        embedding : nn.Module
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding

    def forward(self, X):
        """Score each next token of a batch of rows.

        Parameters
        ----------
        X : tensor of shape (batch, steps)
            Rows ``[bos, x_1, ..., x_n, eos, pad, ...]`` of ids, right-padded
            with ``padding_idx``.

        Returns
        -------
        log_probs : tensor of shape (batch, steps - 1)
            The log-probability of each token ``x_1, ..., x_n, eos`` given
            the tokens before it; zero at padding.
        """
        X = X.long()
        n_steps = X.shape[1]
        # Rows are padded to the longest of the whole data set: the steps
        # past the longest row of this batch are skipped.
        width = max(int((X != self.padding_idx).sum(dim=1).max()), 2)
        inputs, targets = X[:, : width - 1], X[:, 1:width]
        state = None
        scores = []
        for start in range(0, inputs.shape[1], self.bptt):
            window = slice(start, start + self.bptt)
            embedded = self.dropout(self.embedding(inputs[:, window]))
            output, state = self.lstm(embedded, state)
            scores.append(
                self.output.target_log_probs(self._features(output), targets[:, window])
            )
            if self.training:
                # Truncated back-propagation: the state's values carry on,
                # its gradient stops here.
                state = tuple(s.detach() for s in state)
        return F.pad(torch.cat(scores, dim=1), (0, n_steps - width))


class SequenceNLL(nn.Module):
    """Mean negative log-likelihood per token of each row.

    The input holds the log-probability of each target token (zero at
    padding); ``targets`` holds the rows ``[bos, x_1, ..., x_n, eos, pad...]``
    and only serves to count the tokens.

    Parameters
    ----------
    reduction : {"none", "mean", "sum"}, default="none"
        "none" returns one loss per row.
    padding_idx : int, default=0
        The padding id.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import SequenceNLL
    >>> targets = torch.tensor([[1, 4, 5, 2, 0]])  # bos, two words, eos, padding
    >>> log_probs = torch.tensor([[-1.0, -2.0, -3.0, 0.0]])
    >>> SequenceNLL()(log_probs, targets)
    tensor([2.])
    """

    def __init__(self, reduction="none", padding_idx=0):
        super().__init__()
        self.reduction = reduction
        self.padding_idx = padding_idx

    def forward(self, log_probs, targets):
        """Return the mean negative log-likelihood per token of each row.

        Parameters
        ----------
        log_probs : tensor of shape (batch, steps - 1)
            Log-probability of each target token, zero at padding, as
            :meth:`LSTMLanguageNet.forward` returns them.
        targets : tensor of shape (batch, steps)
            The rows ``[bos, x_1, ..., x_n, eos, pad, ...]``; only their
            non-padding tokens after ``bos`` are counted.

        Returns
        -------
        loss : tensor of shape (batch,) or scalar
            The loss of each row, or their mean or sum (``reduction``).
        """
        n_tokens = (targets[:, 1:] != self.padding_idx).sum(dim=1).clamp(min=1)
        losses = -log_probs.sum(dim=1) / n_tokens.to(log_probs.dtype)
        if self.reduction == "mean":
            return losses.mean()
        if self.reduction == "sum":
            return losses.sum()
        return losses
