"""A bidirectional LSTM tagger with character features and a linear-chain CRF."""

import torch
import torch.nn.functional as F
from torch import nn

from sklearn_histai.nn._recurrent import StackedRecurrence, sequence_lengths

# A log-potential that forbids a transition; finite, so that no NaN arises
# from -inf - -inf, and within the range of float16.
_FORBIDDEN = -1e4


class CharCNN(nn.Module):
    """Character features of each token: embeddings, a convolution, max-pooling.

    The character-level convolution of Ma & Hovy (2016): it gives unseen
    words a representation from their spelling (prefixes, suffixes, case).

    Parameters
    ----------
    n_chars : int
        Number of character ids (0 is padding).
    embedding_dim : int, default=25
        Size of the character embeddings.
    n_filters : int, default=50
        Number of convolution filters, the size of the output.
    kernel_size : int, default=3
        Characters seen by each filter.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import CharCNN
    >>> chars = torch.randint(1, 30, (2, 5, 7))  # 2 sentences, 5 words, 7 chars
    >>> CharCNN(n_chars=30, n_filters=6)(chars).shape
    torch.Size([2, 5, 6])
    """

    def __init__(self, n_chars, embedding_dim=25, n_filters=50, kernel_size=3):
        super().__init__()
        self.embedding = nn.Embedding(n_chars, embedding_dim, padding_idx=0)
        self.conv = nn.Conv1d(
            embedding_dim, n_filters, kernel_size, padding=kernel_size // 2
        )

    def forward(self, chars):
        """Map the character ids of each token to its character features.

        Parameters
        ----------
        chars : tensor of shape (..., max_chars)
            Character ids of each token, right-padded with 0.

        Returns
        -------
        features : tensor of shape (..., n_filters)
            The maximum of each filter over the token's characters.
        """
        shape = chars.shape
        embedded = self.embedding(chars.reshape(-1, shape[-1]).long())
        features = self.conv(embedded.transpose(1, 2)).amax(dim=2)
        return features.reshape(*shape[:-1], -1)


class BiLSTMTagger(nn.Module):
    """A bidirectional LSTM that scores the tags of every token of a sentence.

    Rows are right-padded token ids, ``(batch, steps)``, or, with character
    features, ``(batch, steps, 1 + max_chars)``: the token id followed by
    its character ids. Padding (id 0) is masked, so it never
    changes the scores of real tokens.

    Without a CRF, the output is the emission scores ``(batch, steps,
    n_tags)`` (logits of independent softmaxes). With ``crf=True`` it is the
    log-potentials of a linear-chain CRF, ``(batch, steps, n_tags, n_tags)``:
    entry ``[b, t, i, j]`` scores tag ``j`` at step ``t`` after tag ``i``
    (emission plus transition; step 0 holds the start scores in every row
    ``i``, the last token adds the end scores, and padding steps carry the
    previous tag on unchanged), which :func:`crf_log_partition`,
    :func:`crf_marginals` and :func:`crf_viterbi` read.

    Parameters
    ----------
    vocab_size : int
        Number of token ids (0 is padding).
    n_tags : int
        Number of tags.
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=100
        Hidden units per direction and layer.
    num_layers : int, default=1
        Stacked bidirectional layers.
    dropout : float, default=0.0
        Dropout on the token features and before the output layer.
    crf : bool, default=False
        Whether to return CRF log-potentials instead of emission scores.
    n_chars : int or None, default=None
        Number of character ids for character features; None disables them.
    char_embedding_dim : int, default=25
        Size of the character embeddings.
    char_filters : int, default=50
        Size of the character features of each token.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import BiLSTMTagger, crf_viterbi
    >>> X = torch.tensor([[4, 7, 9, 0], [5, 2, 0, 0]])
    >>> tagger = BiLSTMTagger(vocab_size=20, n_tags=3, embedding_dim=8,
    ...                       hidden_size=8).eval()
    >>> tagger(X).shape
    torch.Size([2, 4, 3])
    >>> tagger = BiLSTMTagger(vocab_size=20, n_tags=3, embedding_dim=8,
    ...                       hidden_size=8, crf=True).eval()
    >>> potentials = tagger(X)
    >>> potentials.shape
    torch.Size([2, 4, 3, 3])
    >>> crf_viterbi(potentials).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        vocab_size,
        n_tags,
        embedding_dim=100,
        hidden_size=100,
        num_layers=1,
        dropout=0.0,
        crf=False,
        n_chars=None,
        char_embedding_dim=25,
        char_filters=50,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.chars = None
        input_size = embedding_dim
        if n_chars is not None:
            self.chars = CharCNN(n_chars, char_embedding_dim, char_filters)
            input_size += char_filters
        self.lstm = StackedRecurrence(
            "lstm",
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=True,
            dropout=dropout,
        )
        self.dropout = nn.Dropout(dropout)
        self.emissions = nn.Linear(2 * hidden_size, n_tags)
        self.crf = crf
        if crf:
            self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))
            self.start = nn.Parameter(torch.zeros(n_tags))
            self.end = nn.Parameter(torch.zeros(n_tags))

    def get_input_embeddings(self):
        """The layer that embeds the input word ids (characters have their own).

        Returns
        -------
        embedding : nn.Module
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding

    def forward(self, X):
        """Score the tags of every token of a batch of sentences.

        Parameters
        ----------
        X : tensor of shape (batch, steps) or (batch, steps, 1 + max_chars)
            Token ids right-padded with 0, or, with character features, each
            token id followed by its character ids.

        Returns
        -------
        scores : tensor of shape (batch, steps, n_tags) or \
(batch, steps, n_tags, n_tags)
            The emission scores, or with ``crf=True`` the log-potentials of
            the linear-chain CRF (see the class description).
        """
        if X.ndim == 3:
            tokens, chars = X[..., 0].long(), X[..., 1:]
        else:
            tokens, chars = X.long(), None
        n_steps = tokens.shape[1]
        lengths = sequence_lengths(tokens, 0)
        # Rows are padded to the longest of the whole data set: the steps
        # past the longest row of this batch are skipped.
        width = int(lengths.max())
        tokens = tokens[:, :width]
        features = self.embedding(tokens)
        if self.chars is not None and chars is not None:
            features = torch.cat([features, self.chars(chars[:, :width])], dim=-1)
        output, _ = self.lstm(self.dropout(features), lengths)
        emissions = self.emissions(self.dropout(output))
        emissions = F.pad(emissions, (0, 0, 0, n_steps - width))
        if not self.crf:
            return emissions
        return self._potentials(emissions, lengths)

    def _potentials(self, emissions, lengths):
        batch, n_steps, n_tags = emissions.shape
        potentials = emissions[:, :, None, :] + self.transitions
        first = (emissions[:, 0] + self.start)[:, None, :].expand(batch, n_tags, n_tags)
        last = F.one_hot(lengths - 1, n_steps).to(emissions.dtype)
        potentials = torch.cat([first[:, None], potentials[:, 1:]], dim=1)
        potentials = potentials + last[:, :, None, None] * self.end
        steps = torch.arange(n_steps, device=emissions.device)
        padding = (steps[None, :] >= lengths[:, None])[:, :, None, None]
        carry = torch.full((n_tags, n_tags), _FORBIDDEN, device=emissions.device)
        carry = carry.fill_diagonal_(0.0).to(emissions.dtype)
        return torch.where(padding, carry, potentials)


def _used_steps(potentials):
    """Number of steps before the trailing ones where every row carries its tag on.

    Rows are padded to the longest of the whole data set; the steps past
    the longest row of a batch change nothing and are skipped.
    """
    n_tags = potentials.shape[-1]
    carry = torch.full(
        (n_tags, n_tags), _FORBIDDEN, dtype=potentials.dtype, device=potentials.device
    ).fill_diagonal_(0.0)
    used = (potentials != carry).flatten(2).any(dim=2).any(dim=0)
    used[0] = True
    return int(torch.nonzero(used).max()) + 1


def _clamp(potentials, tags):
    """Forbid every tag but the given one where ``tags >= 0``."""
    n_tags = potentials.shape[-1]
    allowed = (tags[..., None] < 0) | F.one_hot(tags.clamp(min=0), n_tags).bool()
    penalty = torch.where(allowed, 0.0, _FORBIDDEN).to(potentials.dtype)
    return potentials + penalty[:, :, None, :]


def crf_log_partition(potentials, tags=None):
    """Log of the sum of the scores of all tag sequences (forward algorithm).

    Parameters
    ----------
    potentials : tensor of shape (batch, steps, n_tags, n_tags)
        Log-potentials from :class:`BiLSTMTagger` with ``crf=True``.
    tags : tensor of shape (batch, steps) or None, default=None
        With tags, only the sequences that agree with every tag ``>= 0``
        are summed (-1 leaves a step free).

    Returns
    -------
    log_partition : tensor of shape (batch,)
        The log-partition function of each row.

    Examples
    --------
    With all potentials zero, each of the 3 ** 2 sequences of two tags
    scores 1, and 3 of them start with tag 0:

    >>> import torch
    >>> from sklearn_histai.nn import crf_log_partition
    >>> potentials = torch.zeros(1, 2, 3, 3)
    >>> crf_log_partition(potentials).exp()
    tensor([9.0000])
    >>> crf_log_partition(potentials, tags=torch.tensor([[0, -1]])).exp()
    tensor([3.0000])
    """
    n_steps = _used_steps(potentials)
    potentials = potentials[:, :n_steps]
    if tags is not None:
        potentials = _clamp(potentials, tags[:, :n_steps])
    alpha = potentials[:, 0, 0, :]
    for step in range(1, potentials.shape[1]):
        alpha = torch.logsumexp(alpha[:, :, None] + potentials[:, step], dim=1)
    return torch.logsumexp(alpha, dim=1)


def crf_marginals(potentials):
    """Probability of each tag at each step (forward-backward algorithm).

    Parameters
    ----------
    potentials : tensor of shape (batch, steps, n_tags, n_tags)
        Log-potentials from :class:`BiLSTMTagger` with ``crf=True``.

    Returns
    -------
    marginals : tensor of shape (batch, steps, n_tags)
        The marginal probability of each tag at each step.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import crf_marginals
    >>> potentials = torch.zeros(1, 2, 3, 3)
    >>> potentials[:, 1, :, 2] = 1.0  # tag 2 scores higher at step 1
    >>> crf_marginals(potentials)
    tensor([[[0.3333, 0.3333, 0.3333],
             [0.2119, 0.2119, 0.5761]]])
    """
    total_steps = potentials.shape[1]
    n_steps = _used_steps(potentials)
    potentials = potentials[:, :n_steps]
    alphas = [potentials[:, 0, 0, :]]
    for step in range(1, n_steps):
        alphas.append(
            torch.logsumexp(alphas[-1][:, :, None] + potentials[:, step], dim=1)
        )
    betas = [torch.zeros_like(alphas[0])]
    for step in range(n_steps - 1, 0, -1):
        betas.append(
            torch.logsumexp(potentials[:, step] + betas[-1][:, None, :], dim=2)
        )
    scores = torch.stack(alphas, dim=1) + torch.stack(betas[::-1], dim=1)
    marginals = torch.softmax(scores, dim=-1)
    # Skipped steps carry the last tag on.
    carried = marginals[:, -1:].expand(-1, total_steps - n_steps, -1)
    return torch.cat([marginals, carried], dim=1)


def crf_viterbi(potentials):
    """The most probable tag sequence of each row (Viterbi algorithm).

    Parameters
    ----------
    potentials : tensor of shape (batch, steps, n_tags, n_tags)
        Log-potentials from :class:`BiLSTMTagger` with ``crf=True``.

    Returns
    -------
    tags : tensor of shape (batch, steps)
        Tag indices; padding steps repeat the last tag.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import crf_viterbi
    >>> potentials = torch.zeros(1, 3, 2, 2)
    >>> potentials[:, :, :, 1] = 1.0  # tag 1 scores higher at every step
    >>> crf_viterbi(potentials)
    tensor([[1, 1, 1]])
    """
    total_steps = potentials.shape[1]
    potentials = potentials[:, : _used_steps(potentials)]
    delta = potentials[:, 0, 0, :]
    pointers = []
    for step in range(1, potentials.shape[1]):
        delta, best = (delta[:, :, None] + potentials[:, step]).max(dim=1)
        pointers.append(best)
    tag = delta.argmax(dim=1)
    path = [tag]
    for best in reversed(pointers):
        tag = best.gather(1, tag[:, None]).squeeze(1)
        path.append(tag)
    path = torch.stack(path[::-1], dim=1)
    carried = path[:, -1:].expand(-1, total_steps - path.shape[1])
    return torch.cat([path, carried], dim=1)


class TokenCrossEntropy(nn.Module):
    """Mean cross-entropy over the tagged tokens of each row.

    Parameters
    ----------
    reduction : {"none", "mean", "sum"}, default="none"
        "none" returns one loss per row.
    label_smoothing : float, default=0.0
        The share of each token's target spread evenly over all tags.

    Examples
    --------
    With uniform scores over 4 tags, each tagged token costs log(4):

    >>> import torch
    >>> from sklearn_histai.nn import TokenCrossEntropy
    >>> emissions = torch.zeros(1, 3, 4)
    >>> TokenCrossEntropy()(emissions, torch.tensor([[0, 2, -1]]))
    tensor([1.3863])
    """

    def __init__(self, reduction="none", label_smoothing=0.0):
        super().__init__()
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, emissions, tags):
        """Return the mean cross-entropy over the tagged tokens of each row.

        Parameters
        ----------
        emissions : tensor of shape (batch, steps, n_tags)
            Emission scores (logits) from :class:`BiLSTMTagger`.
        tags : tensor of shape (batch, steps)
            The true tag of each token; -1 at steps that are not scored
            (padding, untagged tokens).

        Returns
        -------
        loss : tensor of shape (batch,) or scalar
            The loss of each row, or their mean or sum (``reduction``).
        """
        tags = tags.long()
        losses = F.cross_entropy(
            emissions.transpose(1, 2),
            tags,
            ignore_index=-1,
            reduction="none",
            label_smoothing=self.label_smoothing,
        )
        n_tagged = (tags >= 0).sum(dim=1).clamp(min=1).to(losses.dtype)
        return _reduce(losses.sum(dim=1) / n_tagged, self.reduction)


class CRFNegLogLikelihood(nn.Module):
    """Negative log-likelihood of a linear-chain CRF per tagged token of each row.

    Untagged steps (-1) are summed out, so partly tagged rows train too.

    Parameters
    ----------
    reduction : {"none", "mean", "sum"}, default="none"
        "none" returns one loss per row.

    Examples
    --------
    With all potentials zero, the 2 tagged steps of a row are one of
    3 ** 2 equally likely sequences: the loss per token is log(3):

    >>> import torch
    >>> from sklearn_histai.nn import CRFNegLogLikelihood
    >>> potentials = torch.zeros(1, 2, 3, 3)
    >>> CRFNegLogLikelihood()(potentials, torch.tensor([[0, 1]]))
    tensor([1.0986])
    """

    def __init__(self, reduction="none"):
        super().__init__()
        self.reduction = reduction

    def forward(self, potentials, tags):
        """Return the negative log-likelihood per tagged token of each row.

        Parameters
        ----------
        potentials : tensor of shape (batch, steps, n_tags, n_tags)
            Log-potentials from :class:`BiLSTMTagger` with ``crf=True``.
        tags : tensor of shape (batch, steps)
            The true tag of each token; -1 leaves a step free (its tag is
            summed out).

        Returns
        -------
        loss : tensor of shape (batch,) or scalar
            The loss of each row, or their mean or sum (``reduction``).
        """
        tags = tags.long()
        losses = crf_log_partition(potentials) - crf_log_partition(potentials, tags)
        n_tagged = (tags >= 0).sum(dim=1).clamp(min=1).to(losses.dtype)
        return _reduce(losses / n_tagged, self.reduction)


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses
