"""Bottleneck adapters and key/value prefixes injected into a BERT-style encoder."""

import torch
from torch import nn
from torch.nn import functional as F


class BottleneckAdapter(nn.Module):
    """A residual bottleneck: ``x + up(gelu(down(x)))``, the identity at first.

    The adapter of Houlsby et al. (2019): a projection down to
    ``adapter_size`` features, a non-linearity, a projection back up, and a
    skip connection. The up-projection starts at zero, so a freshly
    injected adapter leaves the network's outputs exactly unchanged.

    Parameters
    ----------
    hidden_size : int
        Features of the input and output.
    adapter_size : int
        Features of the bottleneck.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import BottleneckAdapter
    >>> adapter = BottleneckAdapter(hidden_size=8, adapter_size=2)
    >>> x = torch.randn(3, 8)
    >>> torch.equal(adapter(x), x)  # the identity until trained
    True
    """

    def __init__(self, hidden_size, adapter_size):
        super().__init__()
        self.down = nn.Linear(hidden_size, adapter_size)
        self.up = nn.Linear(adapter_size, hidden_size)
        nn.init.normal_(self.down.weight, std=1e-2)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x):
        """Add the bottleneck's output to its input.

        Parameters
        ----------
        x : tensor of shape (..., hidden_size)
            Features, e.g. the token states of a sublayer.

        Returns
        -------
        output : tensor of shape (..., hidden_size)
            ``x + up(gelu(down(x)))``.
        """
        return x + self.up(F.gelu(self.down(x)))


class LinearWithAdapter(nn.Module):
    """A linear projection followed by a :class:`BottleneckAdapter`.

    Parameters
    ----------
    linear : nn.Linear
        The (usually frozen) projection whose output the adapter refines.
    adapter_size : int
        Features of the adapter's bottleneck.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_histai.nn import LinearWithAdapter
    >>> linear = nn.Linear(4, 8)
    >>> layer = LinearWithAdapter(linear, adapter_size=2)
    >>> x = torch.randn(3, 4)
    >>> torch.equal(layer(x), linear(x))  # the adapter starts as the identity
    True
    """

    def __init__(self, linear, adapter_size):
        super().__init__()
        self.linear = linear
        self.adapter = BottleneckAdapter(linear.out_features, adapter_size)

    def forward(self, x):
        """Project the input, then refine the projection with the adapter.

        Parameters
        ----------
        x : tensor of shape (..., linear.in_features)
            Input features.

        Returns
        -------
        output : tensor of shape (..., linear.out_features)
            The adapter's output on the projection.
        """
        return self.adapter(self.linear(x))


def add_bottleneck_adapters(model, adapter_size):
    """Insert a bottleneck adapter after each attention and feed-forward sublayer.

    In a BERT-style encoder each sublayer ends in an output block holding a
    ``dense`` projection back to the hidden size and a residual
    ``LayerNorm`` (``BertSelfOutput`` after attention, ``BertOutput`` after
    the feed-forward network). The adapter goes after that projection and
    before the residual sum, as in Houlsby et al. (2019). The model is
    changed in place.

    Parameters
    ----------
    model : nn.Module
        A BERT-style encoder (or a model containing one).
    adapter_size : int
        Features of each adapter's bottleneck.

    Returns
    -------
    names : list of str
        The qualified names of the adapted projections.

    Examples
    --------
    A toy encoder with one sublayer output block:

    >>> from torch import nn
    >>> from sklearn_histai.nn import add_bottleneck_adapters
    >>> block = nn.Module()
    >>> block.dense, block.LayerNorm = nn.Linear(32, 8), nn.LayerNorm(8)
    >>> model = nn.ModuleDict({"output": block})
    >>> add_bottleneck_adapters(model, adapter_size=2)
    ['output.dense']
    >>> type(model["output"].dense).__name__
    'LinearWithAdapter'
    """
    blocks = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(getattr(module, "dense", None), nn.Linear)
        and isinstance(getattr(module, "LayerNorm", None), nn.LayerNorm)
        and module.dense.out_features == module.LayerNorm.normalized_shape[0]
    ]
    if not blocks:
        raise ValueError(
            "Found no sublayer output block (a `dense` projection followed by a "
            "residual `LayerNorm`, as in BERT) to place adapters after."
        )
    for _, block in blocks:
        block.dense = LinearWithAdapter(block.dense, adapter_size)
    return [f"{name}.dense" if name else "dense" for name, _ in blocks]


class PrefixEncoder(nn.Module):
    """The trained key/value prefixes of every attention layer.

    Without ``projection_size`` the prefixes are parameters trained
    directly. With it, they are computed from a smaller prefix embedding by
    a two-layer MLP shared across the layers, the reparametrisation of
    Li & Liang (2021) that makes their optimisation more stable.

    Parameters
    ----------
    n_layers : int
        Number of attention layers.
    n_prefix : int
        Prefix positions (virtual tokens) per layer.
    hidden_size : int
        Size of each key and value vector (all heads together).
    projection_size : int or None, default=None
        Hidden size of the reparametrising MLP; None trains the prefixes
        directly.

    Examples
    --------
    >>> from sklearn_histai.nn import PrefixEncoder
    >>> PrefixEncoder(n_layers=2, n_prefix=3, hidden_size=8)().shape
    torch.Size([2, 2, 3, 8])
    >>> PrefixEncoder(2, 3, 8, projection_size=16)().shape
    torch.Size([2, 2, 3, 8])
    """

    def __init__(self, n_layers, n_prefix, hidden_size, projection_size=None):
        super().__init__()
        self.n_layers = n_layers
        self.n_prefix = n_prefix
        self.hidden_size = hidden_size
        shape = (n_layers, 2, n_prefix, hidden_size)
        if projection_size is None:
            # About the scale of the keys and values of a trained BERT layer.
            self.prefixes = nn.Parameter(torch.randn(shape))
            self.embedding = self.mlp = None
        else:
            self.prefixes = None
            self.embedding = nn.Parameter(torch.randn(n_prefix, hidden_size))
            self.mlp = nn.Sequential(
                nn.Linear(hidden_size, projection_size),
                nn.Tanh(),
                nn.Linear(projection_size, n_layers * 2 * hidden_size),
            )

    def forward(self):
        """Return the key and value prefixes of every layer.

        Returns
        -------
        prefixes : tensor of shape (n_layers, 2, n_prefix, hidden_size)
            For each layer, the prefix of the keys (index 0) and of the
            values (index 1).
        """
        if self.mlp is None:
            return self.prefixes
        out = self.mlp(self.embedding)
        out = out.view(self.n_prefix, self.n_layers, 2, self.hidden_size)
        return out.permute(1, 2, 0, 3)


class PrefixSelfAttention(nn.Module):
    """A BERT-style self-attention whose keys and values start with trained prefixes.

    It takes over the ``query``, ``key``, ``value`` projections and the
    attention dropout of the module it replaces (so their names in the
    state dict stay the same) and computes scaled dot-product attention
    over ``[prefix; sequence]``. The prefix, a tensor of shape
    ``(2, n_prefix, hidden_size)``, is set in :attr:`prefix` for each
    forward pass by :class:`PrefixTuning`; every query may attend to it,
    whatever the padding mask of the sequence.

    Parameters
    ----------
    attention : nn.Module
        The self-attention to replace: it has ``query``, ``key`` and
        ``value`` linear projections, ``num_attention_heads`` and a
        ``dropout`` on the attention probabilities.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_histai.nn import PrefixSelfAttention
    >>> attention = nn.Module()
    >>> attention.query, attention.key, attention.value = (
    ...     nn.Linear(8, 8) for _ in range(3))
    >>> attention.num_attention_heads, attention.dropout = 2, nn.Dropout(0.0)
    >>> layer = PrefixSelfAttention(attention)
    >>> layer.prefix = torch.randn(2, 3, 8)  # keys and values of 3 positions
    >>> output, _ = layer(torch.randn(1, 5, 8))
    >>> output.shape
    torch.Size([1, 5, 8])
    """

    def __init__(self, attention):
        super().__init__()
        self.query = attention.query
        self.key = attention.key
        self.value = attention.value
        self.dropout = attention.dropout
        self.num_attention_heads = attention.num_attention_heads
        self.head_size = attention.query.out_features // self.num_attention_heads
        self.prefix = None

    def _heads(self, x):
        batch, steps, _ = x.shape
        return x.view(batch, steps, self.num_attention_heads, -1).transpose(1, 2)

    def forward(self, hidden_states, attention_mask=None, **kwargs):
        """Attend from each token to the prefix and to the tokens.

        Parameters
        ----------
        hidden_states : tensor of shape (batch, steps, hidden_size)
            Token states entering the attention layer.
        attention_mask : tensor or None, default=None
            None (every key visible), a padding mask of shape
            ``(batch, steps)`` (1 at tokens, 0 at padding), or a boolean
            (True is visible) or additive float (0 is visible) mask
            broadcastable to ``(batch, heads, steps, steps)``. The prefix
            stays visible to every query.
        **kwargs : dict
            Further arguments the encoder passes to its attention layers
            (e.g. ``head_mask``, ``output_attentions``); ignored.

        Returns
        -------
        output : tensor of shape (batch, steps, hidden_size)
            The attention's output, all heads concatenated.
        attention_probs : None
            No attention probabilities are returned; the slot keeps the
            layout of the replaced layer's outputs.
        """
        batch, steps, _ = hidden_states.shape
        query = self._heads(self.query(hidden_states))
        key = self._heads(self.key(hidden_states))
        value = self._heads(self.value(hidden_states))
        if self.prefix is not None:
            prefix = self.prefix.to(query.dtype)
            n_prefix = prefix.shape[1]
            prefix_key, prefix_value = (
                self._heads(p.unsqueeze(0)).expand(batch, -1, -1, -1) for p in prefix
            )
            key = torch.cat([prefix_key, key], dim=2)
            value = torch.cat([prefix_value, value], dim=2)
            attention_mask = _prepend_visible(attention_mask, n_prefix)
        elif attention_mask is not None and attention_mask.ndim == 2:
            attention_mask = _prepend_visible(attention_mask, 0)
        output = F.scaled_dot_product_attention(
            query,
            key,
            value,
            attn_mask=attention_mask,
            dropout_p=self.dropout.p if self.training else 0.0,
        )
        return output.transpose(1, 2).reshape(batch, steps, -1), None


def _prepend_visible(mask, n_prefix):
    """Extend an attention mask so that ``n_prefix`` leading keys are visible.

    The mask is None (everything visible), a 2-D padding mask of 1/0 per
    key, a boolean mask (True is visible) or an additive float mask (0 is
    visible) broadcastable to (batch, heads, queries, keys).
    """
    if mask is None:
        return None
    if mask.ndim == 2:
        mask = mask[:, None, None, :].bool()
    shape = (*mask.shape[:-1], n_prefix)
    if mask.dtype == torch.bool:
        visible = torch.ones(shape, dtype=torch.bool, device=mask.device)
    else:
        visible = torch.zeros(shape, dtype=mask.dtype, device=mask.device)
    return torch.cat([visible, mask], dim=-1)


class PrefixTuning(nn.Module):
    """A model whose self-attention layers attend to trained key/value prefixes.

    Prefix tuning (Li & Liang, 2021) for encoders: every self-attention
    layer of ``model`` (a module with ``query``, ``key`` and ``value``
    projections) is replaced by a :class:`PrefixSelfAttention`, and the
    prefixes of all layers come from one :class:`PrefixEncoder`. Unlike
    passing the prefixes as a key/value cache, this needs no support for
    past key values from the model and leaves the position ids alone.

    Parameters
    ----------
    model : nn.Module
        The model to tune, changed in place.
    n_prefix : int
        Prefix positions per layer.
    projection_size : int or None, default=None
        Hidden size of the MLP reparametrising the prefixes; None trains
        them directly.

    Attributes
    ----------
    model : nn.Module
        The model with its self-attention layers replaced.
    prefix_encoder : PrefixEncoder
        The trained prefixes.

    Examples
    --------
    A toy encoder of one self-attention layer:

    >>> import torch
    >>> from torch import nn
    >>> from sklearn_histai.nn import PrefixTuning
    >>> class Encoder(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.attention = nn.Module()
    ...         for name in ("query", "key", "value"):
    ...             setattr(self.attention, name, nn.Linear(8, 8))
    ...         self.attention.num_attention_heads = 2
    ...         self.attention.dropout = nn.Dropout(0.0)
    ...     def forward(self, hidden_states):
    ...         return self.attention(hidden_states)[0]
    >>> model = PrefixTuning(Encoder(), n_prefix=4)
    >>> type(model.model.attention).__name__
    'PrefixSelfAttention'
    >>> model(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    >>> model.prefix_encoder().shape
    torch.Size([1, 2, 4, 8])
    """

    def __init__(self, model, n_prefix, projection_size=None):
        super().__init__()
        targets = [
            (name, module)
            for name, module in model.named_modules()
            if all(
                isinstance(getattr(module, part, None), nn.Linear)
                for part in ("query", "key", "value")
            )
            and hasattr(module, "num_attention_heads")
        ]
        if not targets:
            raise ValueError(
                "Found no self-attention layer (a module with `query`, `key` and "
                "`value` projections and `num_attention_heads`) to add prefixes to."
            )
        attentions = []
        for name, module in targets:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            attention = PrefixSelfAttention(module)
            setattr(parent, child, attention)
            attentions.append(attention)
        self.model = model
        # A plain list: the layers are registered (once) inside ``model``.
        self.attentions = attentions
        self.prefix_encoder = PrefixEncoder(
            len(attentions),
            n_prefix,
            attentions[0].query.out_features,
            projection_size,
        )

    def get_input_embeddings(self):
        """The input embedding layer of the wrapped model.

        Returns
        -------
        embedding : nn.Module
            The layer that embeds the input token ids.
        """
        return self.model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        """Run the model with the current prefixes in its attention layers.

        Parameters
        ----------
        *args : tuple
            Positional arguments of the model (e.g. ``input_ids``).
        **kwargs : dict
            Keyword arguments of the model (e.g. ``attention_mask``).

        Returns
        -------
        output : object
            What the model returns.
        """
        prefixes = self.prefix_encoder()
        for attention, prefix in zip(self.attentions, prefixes):
            attention.prefix = prefix
        try:
            return self.model(*args, **kwargs)
        finally:
            for attention in self.attentions:
                attention.prefix = None
