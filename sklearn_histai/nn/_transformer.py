"""Transformer encoders and causal Transformer language models, from scratch."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from sklearn_histai.nn._language_model import TokenSoftmax
from sklearn_histai.nn._recurrent import sequence_lengths

POSITIONS = ("learned", "sinusoidal")
POOLINGS = ("mean", "cls")


def check_num_heads(d_model, num_heads):
    """Raise a ValueError naming both when ``num_heads`` does not divide ``d_model``."""
    if d_model % num_heads:
        raise ValueError(
            f"num_heads={num_heads} must divide d_model={d_model}: each head "
            "attends in d_model / num_heads dimensions."
        )


def sinusoidal_positions(n_positions, d_model):
    """The sinusoidal position encodings of Vaswani et al. (2017).

    Parameters
    ----------
    n_positions : int
        Number of positions.
    d_model : int
        Width of each encoding.

    Returns
    -------
    encodings : tensor of shape (n_positions, d_model)
        ``sin`` at the even and ``cos`` at the odd features, of wavelengths
        from ``2 pi`` to ``10000 * 2 pi``.

    Examples
    --------
    >>> from sklearn_histai.nn import sinusoidal_positions
    >>> encodings = sinusoidal_positions(50, 8)
    >>> encodings.shape
    torch.Size([50, 8])
    >>> encodings[0].tolist()
    [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    """
    positions = torch.arange(n_positions, dtype=torch.float64)[:, None]
    frequencies = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(1e4) / d_model)
    )
    encodings = torch.zeros(n_positions, d_model, dtype=torch.float64)
    encodings[:, 0::2] = torch.sin(positions * frequencies)
    encodings[:, 1::2] = torch.cos(positions * frequencies[: d_model // 2])
    return encodings.float()


class MultiHeadSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention on torch's fused kernel.

    ``torch.nn.functional.scaled_dot_product_attention`` computes the
    attention (flash or memory-efficient kernels where the device has
    them), so the ``(steps, steps)`` score matrix of every head is never
    materialised during training.

    There is no dropout on the attention weights: it makes torch fall back
    to the unfused kernel that forms every score matrix, which trained a
    two-layer encoder over 256 tokens three times slower on the CPU. The
    blocks drop out their residual branches instead.

    Parameters
    ----------
    d_model : int
        Width of the token states.
    num_heads : int
        Number of attention heads; must divide ``d_model``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import MultiHeadSelfAttention
    >>> attention = MultiHeadSelfAttention(8, num_heads=2)
    >>> attention(torch.randn(3, 5, 8)).shape
    torch.Size([3, 5, 8])
    """

    def __init__(self, d_model, num_heads):
        super().__init__()
        check_num_heads(d_model, num_heads)
        self.num_heads = num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x):
        batch, steps, width = x.shape
        qkv = self.qkv(x).view(batch, steps, 3, self.num_heads, -1)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (batch, heads, steps, dh)

    def forward(self, x, mask=None, causal=False):
        """Attend from every step to the steps ``mask`` (and ``causal``) allow.

        Parameters
        ----------
        x : tensor of shape (batch, steps, d_model)
            Token states.
        mask : bool tensor of shape (batch, 1, 1, steps) or None, default=None
            True at the keys that may be attended to (the real steps).
        causal : bool, default=False
            Whether each step only attends to itself and earlier steps.

        Returns
        -------
        y : tensor of shape (batch, steps, d_model)
            The attended states, projected.
        """
        q, k, v = self._heads(x)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            is_causal=causal and mask is None,
        )
        return self.out(y.transpose(1, 2).reshape(x.shape))

    def attention_weights(self, x, mask=None, causal=False):
        """The attention weights of every head, for inspection.

        They are what :meth:`forward` uses, computed
        explicitly: this materialises the score matrices, so it is meant for
        looking at a few rows, not for training.

        Parameters
        ----------
        x : tensor of shape (batch, steps, d_model)
            Token states.
        mask : bool tensor of shape (batch, 1, 1, steps) or None, default=None
            True at the keys that may be attended to.
        causal : bool, default=False
            Whether each step only attends to itself and earlier steps.

        Returns
        -------
        weights : tensor of shape (batch, num_heads, steps, steps)
            Row ``i`` of each head holds the weights of step ``i`` over the
            keys; each row sums to 1.
        """
        q, k, _ = self._heads(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, -torch.inf)
        if causal:
            steps = x.shape[1]
            later = torch.ones(steps, steps, dtype=torch.bool, device=x.device)
            scores = scores.masked_fill(later.triu(1), -torch.inf)
        return scores.softmax(dim=-1)


class TransformerBlock(nn.Module):
    """A pre-layer-norm Transformer block: attention, then a feed-forward layer.

    ``x + attention(norm(x))``, then ``x + feed_forward(norm(x))`` (Xiong
    et al., 2020): the residual path carries the input unchanged, which
    trains stably without the learning-rate warm-up that the post-norm
    block of Vaswani et al. (2017) needs.

    Parameters
    ----------
    d_model : int
        Width of the token states.
    num_heads : int
        Attention heads.
    dim_feedforward : int
        Hidden units of the feed-forward layer (GELU).
    dropout : float, default=0.0
        Dropout on both residual branches and inside the feed-forward layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import TransformerBlock
    >>> block = TransformerBlock(8, num_heads=2, dim_feedforward=16)
    >>> block(torch.randn(3, 5, 8)).shape
    torch.Size([3, 5, 8])
    """

    def __init__(self, d_model, num_heads, dim_feedforward, dropout=0.0):
        super().__init__()
        self.attention_norm = nn.LayerNorm(d_model)
        self.attention = MultiHeadSelfAttention(d_model, num_heads)
        self.feedforward_norm = nn.LayerNorm(d_model)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, dim_feedforward),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None, causal=False):
        """Apply the block (see :meth:`MultiHeadSelfAttention.forward`).

        Parameters
        ----------
        x : tensor of shape (batch, steps, d_model)
            Token states.
        mask : bool tensor of shape (batch, 1, 1, steps) or None, default=None
            True at the keys that may be attended to.
        causal : bool, default=False
            Whether each step only attends to itself and earlier steps.

        Returns
        -------
        x : tensor of shape (batch, steps, d_model)
            The new token states.
        """
        x = x + self.dropout(self.attention(self.attention_norm(x), mask, causal))
        return x + self.dropout(self.feedforward(self.feedforward_norm(x)))


def _real_steps_mask(lengths, n_steps):
    """Bool mask (batch, 1, 1, n_steps): True at each row's real steps."""
    steps = torch.arange(n_steps, device=lengths.device)
    return (steps < lengths[:, None])[:, None, None, :]


# Rows are read in groups of similar length: at least this many rows per
# group (smaller matrix products lose more to overheads than they save),
# and at most this many groups per batch (so large evaluation batches
# stay few calls).
_MIN_GROUP_ROWS = 8
_MAX_GROUPS = 16


def _length_groups(lengths):
    """Split a batch into groups of rows of similar length, shortest first.

    The blocks of a Transformer encoder cost each row its batch's longest
    length in steps, and attention that length squared: 32% of 2,000 IMDB
    reviews reach the 256 tokens that the text classifier keeps, so nearly
    every batch of 64 is 256 steps wide while its rows average 182 tokens.
    Sorted by length and read in groups cut to their own longest row, the
    same batch costs about 0.75 of the steps and 0.6 of the attention.

    Returns a list of ``(rows, width)``: the indices of each group's rows
    and their longest length; every row is in one group, and neighbouring
    groups of the same width are merged.
    """
    n_rows = len(lengths)
    size = max(_MIN_GROUP_ROWS, -(-n_rows // _MAX_GROUPS))
    ordered, order = torch.sort(lengths, stable=True)
    ordered = ordered.tolist()
    groups = []
    start = 0
    for end in [*range(size, n_rows, size), n_rows]:
        width = ordered[end - 1]
        if groups and groups[-1][1] == width:
            groups[-1][0] = order[groups[-1][2] : end]
        else:
            groups.append([order[start:end], width, start])
        start = end
    return [(rows, width) for rows, width, _ in groups]


class TransformerEncoderNet(nn.Module):
    """A Transformer encoder with a pooled linear head, for token ids or sequences.

    Token ids are embedded (float sequences projected) to ``d_model``
    features per step, positions are added, pre-layer-norm blocks of
    multi-head self-attention attend over the real steps only (right
    padding is masked, so it never changes an output) and the mean of the
    final states over the real steps, or the state of a learned ``[CLS]``
    token read before the first step, feeds a linear output layer. The
    rows of a padded batch are read sorted by length, in groups each cut to
    its own longest row: padding costs neither steps nor attention beyond
    its group.

    Parameters
    ----------
    n_features_per_step : int or None
        Features of each step of a float sequence; None for token ids.
    n_outputs : int
        Size of the output.
    n_positions : int
        Most steps a row may have (the size of the position table).
    d_model : int, default=64
        Width of the token states.
    num_heads : int, default=4
        Attention heads; must divide ``d_model``.
    num_layers : int, default=2
        Stacked blocks.
    dim_feedforward : int or None, default=None
        Hidden units of each block's feed-forward layer; None is
        ``4 * d_model``.
    dropout : float, default=0.1
        Dropout on the embeddings, in the blocks and before the head.
    vocab_size : int or None, default=None
        With token ids, the number of ids (an embedding layer is added).
    embedding_dim : int or None, default=None
        Size of the token embeddings; None is ``d_model``. Embeddings of
        another size are projected linearly to ``d_model``.
    padding_value : int or float or None, default=None
        Padding id (tokens) or value (float steps); None means no padding.
    embeddings : tensor of shape (vocab_size, embedding_dim) or None, default=None
        Pretrained embeddings to start from.
    freeze_embeddings : bool, default=False
        Whether pretrained embeddings stay fixed during training.
    positions : {"learned", "sinusoidal"}, default="learned"
        Learned position embeddings (they start from the sinusoidal table),
        or the fixed sinusoidal encodings of Vaswani et al. (2017).
    pooling : {"mean", "cls"}, default="mean"
        What summarises a row: the mean of the final states over its real
        steps, or the final state of a learned ``[CLS]`` token (BERT).

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import TransformerEncoderNet
    >>> net = TransformerEncoderNet(None, 2, n_positions=5, d_model=8, num_heads=2,
    ...                             vocab_size=20, padding_value=0).eval()
    >>> X = torch.tensor([[4, 7, 9, 0, 0]])
    >>> net(X).shape
    torch.Size([1, 2])

    Padding does not change the output:

    >>> torch.allclose(net(X), net(X[:, :3]))
    True
    """

    def __init__(
        self,
        n_features_per_step,
        n_outputs,
        n_positions,
        d_model=64,
        num_heads=4,
        num_layers=2,
        dim_feedforward=None,
        dropout=0.1,
        vocab_size=None,
        embedding_dim=None,
        padding_value=None,
        embeddings=None,
        freeze_embeddings=False,
        positions="learned",
        pooling="mean",
    ):
        super().__init__()
        if positions not in POSITIONS:
            raise ValueError(
                f"positions must be one of {POSITIONS}; got {positions!r}."
            )
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        self.n_features_per_step = n_features_per_step
        self.padding_value = padding_value
        self.pooling = pooling
        if vocab_size is None:
            self.embedding = None
            self.input_projection = nn.Linear(n_features_per_step, d_model)
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
                    vocab_size, embedding_dim or d_model, padding_idx=padding_idx
                )
            width = self.embedding.embedding_dim
            self.input_projection = (
                None if width == d_model else nn.Linear(width, d_model, bias=False)
            )
        n_positions += pooling == "cls"
        table = sinusoidal_positions(n_positions, d_model)
        if positions == "learned":
            self.positions = nn.Parameter(table)
        else:
            self.register_buffer("positions", table, persistent=False)
        self.cls = (
            nn.Parameter(torch.zeros(1, 1, d_model)) if pooling == "cls" else None
        )
        self.embedding_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d_model, num_heads, dim_feedforward or 4 * d_model, dropout
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, n_outputs)

    def get_input_embeddings(self):
        """The layer that embeds the input token ids (None for float sequences).

        Returns
        -------
        embedding : nn.Module or None
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding

    def _embed(self, X):
        """The input states, their real-step mask (or None) and lengths."""
        if self.embedding is None:
            X = X.reshape(X.shape[0], -1, self.n_features_per_step)
        if self.padding_value is None:
            lengths = None
        else:
            lengths = sequence_lengths(X, self.padding_value)
            X = X[:, : int(lengths.max())]
        if self.embedding is None:
            x = self.input_projection(X)
        else:
            x = self.embedding(X.long())
            if self.input_projection is not None:
                x = self.input_projection(x)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(len(x), -1, -1).to(x.dtype), x], dim=1)
            lengths = None if lengths is None else lengths + 1
        x = self.embedding_dropout(x + self.positions[: x.shape[1]].to(x.dtype))
        mask = None if lengths is None else _real_steps_mask(lengths, x.shape[1])
        return x, mask, lengths

    def _pool(self, x, mask, lengths):
        if self.pooling == "cls":
            return x[:, 0]
        if mask is None:
            return x.mean(dim=1)
        real = mask[:, 0, 0, :, None].to(x.dtype)
        return (x * real).sum(dim=1) / lengths[:, None].to(x.dtype)

    def forward(self, X):
        """Map a batch of sequences to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, steps) or (batch, steps * n_features_per_step)
            Token ids (with ``vocab_size``), or float sequences as flat
            rows; right-padded with ``padding_value``.

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the linear head (logits or predictions).
        """
        x, mask, lengths = self._embed(X)
        groups = None if lengths is None else _length_groups(lengths)
        if groups is None or len(groups) == 1:
            return self.head(self.dropout(self._encode(x, mask, lengths)))
        pooled, order = [], []
        for rows, width in groups:
            group_lengths = lengths[rows]
            # A group of rows of one length has no padding to mask.
            group_mask = None
            if bool((group_lengths < width).any()):
                group_mask = _real_steps_mask(group_lengths, width)
            pooled.append(self._encode(x[rows, :width], group_mask, group_lengths))
            order.append(rows)
        pooled = torch.cat(pooled)[torch.argsort(torch.cat(order))]
        return self.head(self.dropout(pooled))

    def _encode(self, x, mask, lengths):
        """The blocks, the final norm and the pooling of a batch of states."""
        for block in self.blocks:
            x = block(x, mask)
        return self._pool(self.norm(x), mask, lengths)

    def attention_weights(self, X):
        """The attention weights of every layer and head, for inspection.

        Parameters
        ----------
        X : tensor of shape (batch, steps) or (batch, steps * n_features_per_step)
            Input rows, as for :meth:`forward`.

        Returns
        -------
        weights : tensor of shape (batch, num_layers, num_heads, width, width)
            Where each step attends, per layer and head; ``width`` is the
            number of steps of the longest row of the batch (plus the
            ``[CLS]`` token first, with ``pooling="cls"``). Padding keys get
            weight zero.
        """
        x, mask, _ = self._embed(X)
        weights = []
        for block in self.blocks:
            weights.append(
                block.attention.attention_weights(block.attention_norm(x), mask)
            )
            x = block(x, mask)
        return torch.stack(weights, dim=1)


def _windows(n_steps, context_length, stride):
    """Windows ``(start, end, score_from)`` that score each of ``n_steps`` once.

    The first window scores its every step; each later one ends ``stride``
    steps further and scores only those steps, with up to
    ``context_length - stride`` steps of context before them.
    """
    end = min(n_steps, context_length)
    windows = [(0, end, 0)]
    while end < n_steps:
        new_end = min(end + stride, n_steps)
        windows.append((max(0, new_end - context_length), new_end, end))
        end = new_end
    return windows


class CausalTransformerNet(nn.Module):
    """A GPT-style causal Transformer that scores each token given those before it.

    Rows are right-padded id sequences ``[bos, x_1, ..., x_n, eos, pad, ...]``.
    The network reads ``bos, x_1, ..., x_n`` through pre-layer-norm blocks
    of causal self-attention and returns the log-probability of each next
    token ``x_1, ..., x_n, eos`` (zero at padding); the full
    ``(batch, steps, vocab_size)`` distribution is never returned. Rows
    longer than ``context_length`` are read in windows: in training, windows
    that follow each other; in evaluation, windows that overlap by half, so
    that each token is scored with at least ``context_length / 2`` tokens
    of context (when it has them).

    Parameters
    ----------
    vocab_size : int
        Number of ids, padding and specials included.
    d_model : int, default=128
        Width of the token states.
    num_heads : int, default=4
        Attention heads; must divide ``d_model``.
    num_layers : int, default=2
        Stacked blocks.
    dim_feedforward : int or None, default=None
        Hidden units of each block's feed-forward layer; None is
        ``4 * d_model``.
    dropout : float, default=0.1
        Dropout on the embeddings and in the blocks.
    context_length : int, default=128
        Most tokens one step attends to (the size of the position table).
    positions : {"learned", "sinusoidal"}, default="learned"
        Learned position embeddings or fixed sinusoidal encodings.
    tie_weights : bool, default=True
        Whether the output layer shares the embedding matrix (Press & Wolf,
        2017; GPT). Full softmax only.
    padding_idx : int, default=0
        The padding id.
    excluded_ids : sequence of int, default=(0,)
        Ids that are never predicted (padding, the start symbol): the full
        softmax gives them probability zero.
    adaptive_cutoffs : sequence of int or None, default=None
        None for a full softmax; else the cluster boundaries of an adaptive
        softmax (Grave et al., 2017) over the ids ranked by ``token_order``
        (see :class:`TokenSoftmax`).
    token_order : sequence of int or None, default=None
        The ids from the most to the least frequent (adaptive softmax only).

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import CausalTransformerNet
    >>> net = CausalTransformerNet(vocab_size=10, d_model=8, num_heads=2).eval()
    >>> X = torch.tensor([[1, 4, 5, 2, 0]])  # bos, two words, eos, padding
    >>> net(X).shape
    torch.Size([1, 4])

    The distribution of the next id after a context:

    >>> log_probs = net.next_log_probs(torch.tensor([[1, 4]]))
    >>> log_probs.shape
    torch.Size([1, 10])
    >>> round(log_probs.exp().sum().item(), 4)
    1.0
    """

    def __init__(
        self,
        vocab_size,
        d_model=128,
        num_heads=4,
        num_layers=2,
        dim_feedforward=None,
        dropout=0.1,
        context_length=128,
        positions="learned",
        tie_weights=True,
        padding_idx=0,
        excluded_ids=(0,),
        adaptive_cutoffs=None,
        token_order=None,
    ):
        super().__init__()
        if positions not in POSITIONS:
            raise ValueError(
                f"positions must be one of {POSITIONS}; got {positions!r}."
            )
        if tie_weights and adaptive_cutoffs is not None:
            raise ValueError(
                "Tied weights need the full softmax (no adaptive_cutoffs)."
            )
        self.padding_idx = padding_idx
        self.context_length = context_length
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        table = sinusoidal_positions(context_length, d_model)
        if positions == "learned":
            self.positions = nn.Parameter(table * 0.02)
        else:
            self.register_buffer("positions", table, persistent=False)
        self.embedding_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d_model, num_heads, dim_feedforward or 4 * d_model, dropout
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.output = TokenSoftmax(
            d_model,
            vocab_size,
            padding_idx=padding_idx,
            excluded_ids=excluded_ids,
            adaptive_cutoffs=adaptive_cutoffs,
            token_order=token_order,
        )
        self._init_weights(num_layers)
        if tie_weights:
            self.output.decoder.weight = self.embedding.weight

    def _init_weights(self, num_layers):
        # GPT-2's initialisation: small normal weights, and the projections
        # into the residual path scaled down by the depth.
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            for layer in (block.attention.out, block.feedforward[-1]):
                nn.init.normal_(layer.weight, std=0.02 / math.sqrt(2 * num_layers))
        with torch.no_grad():
            self.embedding.weight[self.padding_idx].zero_()

    def get_input_embeddings(self):
        """The layer that embeds the input token ids.

        Returns
        -------
        embedding : nn.Module
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding

    def _states(self, ids):
        x = self.embedding(ids.long())
        x = self.embedding_dropout(x + self.positions[: ids.shape[1]].to(x.dtype))
        for block in self.blocks:
            x = block(x, causal=True)
        return self.norm(x)

    def next_log_probs(self, ids):
        """Log-probabilities of the id that follows each row of ``ids``.

        Parameters
        ----------
        ids : tensor of shape (batch, steps)
            Contexts without padding; only their last ``context_length``
            ids are read.

        Returns
        -------
        log_probs : tensor of shape (batch, vocab_size)
            ``-inf`` at the ``excluded_ids`` (full softmax).
        """
        states = self._states(ids[:, -self.context_length :])
        return self.output.log_probs(states[:, -1])

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
        # past the longest row of this batch are skipped. Causal attention
        # never reads the padding after a row's real steps.
        width = max(int((X != self.padding_idx).sum(dim=1).max()), 2)
        inputs, targets = X[:, : width - 1], X[:, 1:width]
        stride = self.context_length
        if not self.training:
            stride = max(self.context_length // 2, 1)
        scores = []
        for start, end, score_from in _windows(
            inputs.shape[1], self.context_length, stride
        ):
            states = self._states(inputs[:, start:end])[:, score_from - start :]
            scores.append(
                self.output.target_log_probs(states, targets[:, score_from:end])
            )
        return F.pad(torch.cat(scores, dim=1), (0, n_steps - width))
