"""Word2vec: skip-gram and CBOW word embeddings trained with negative sampling."""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset


class _UnscaledMeanGrad(torch.autograd.Function):
    """Identity forward; multiplies the gradient by the bag sizes backward.

    word2vec.c and gensim pass the error of the CBOW context mean to every
    context word unscaled (not divided by the number of words); applied after
    the mean of an ``EmbeddingBag``, this reproduces that update.
    """

    @staticmethod
    def forward(ctx, mean, sizes):
        ctx.save_for_backward(sizes)
        return mean.view_as(mean)

    @staticmethod
    def backward(ctx, grad):
        (sizes,) = ctx.saved_tensors
        return grad * sizes.unsqueeze(1), None


class Word2VecNet(nn.Module):
    """Word vectors and context vectors scored by negative sampling.

    Each sample is a bag of input words (one context word for skip-gram,
    the words around a position for CBOW), its target word and ``K``
    negative words. The mean of the input vectors is dotted with the output
    vectors of the target and the negatives; trained with
    :class:`NegativeSamplingLoss`, the target scores high and the
    negatives low (Mikolov et al., 2013).

    Parameters
    ----------
    n_words : int
        Number of words; row ``n_words`` of the input table is a padding row
        (never trained, excluded from the mean) for bags of unequal size.
    vector_size : int
        Size of the word vectors.
    embeddings : tensor of shape (n_words, vector_size) or None, default=None
        Input vectors to start from (e.g. GloVe); by default they are drawn
        uniformly from ``[-0.5, 0.5) / vector_size`` as in word2vec.c. The
        output vectors start at zero.
    freeze_embeddings : bool, default=False
        Whether the input vectors stay fixed during training.
    cbow_mean_grad : {"unscaled", "mean"}, default="unscaled"
        How the gradient of a bag's mean reaches its words: "unscaled" as in
        word2vec.c and gensim, "mean" as autograd would (divided by the bag
        size). Irrelevant for bags of one word (skip-gram).
    sparse : bool, default=True
        Whether the tables produce sparse gradients (only the rows of a
        batch are updated, which is what makes large vocabularies cheap;
        plain SGD supports them).

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import Word2VecNet
    >>> net = Word2VecNet(n_words=10, vector_size=4)
    >>> inputs, targets = torch.tensor([1, 2]), torch.tensor([3, 4])
    >>> negatives = torch.tensor([[5, 6], [7, 8]])
    >>> net(inputs, targets, negatives)  # the output vectors start at zero
    tensor([[0., 0., 0.],
            [0., 0., 0.]], grad_fn=<SumBackward1>)
    >>> net.word_vectors.shape
    torch.Size([10, 4])
    """

    def __init__(
        self,
        n_words,
        vector_size,
        embeddings=None,
        freeze_embeddings=False,
        cbow_mean_grad="unscaled",
        sparse=True,
    ):
        super().__init__()
        self.n_words = n_words
        self.cbow_mean_grad = cbow_mean_grad
        self.input_vectors = nn.EmbeddingBag(
            n_words + 1, vector_size, mode="mean", padding_idx=n_words, sparse=sparse
        )
        self.output_vectors = nn.Embedding(n_words, vector_size, sparse=sparse)
        with torch.no_grad():
            if embeddings is None:
                self.input_vectors.weight.uniform_(-0.5, 0.5).div_(vector_size)
            else:
                self.input_vectors.weight[:n_words] = torch.as_tensor(embeddings)
            self.input_vectors.weight[n_words] = 0.0
            self.output_vectors.weight.zero_()
        self.input_vectors.weight.requires_grad_(not freeze_embeddings)

    @property
    def word_vectors(self):
        """The input vectors, one row per word: the embeddings."""
        return self.input_vectors.weight[: self.n_words]

    def forward(self, inputs, targets, negatives):
        """Score the target and the negatives of each sample.

        Parameters
        ----------
        inputs : tensor of shape (batch,) or (batch, bag)
            Input word of each sample, or bags of them right-padded with
            ``n_words``.
        targets : tensor of shape (batch,)
            Target word of each sample.
        negatives : tensor of shape (batch, K)
            Negative words of each sample.

        Returns
        -------
        scores : tensor of shape (batch, 1 + K)
            Logits of the target (column 0) and of the negatives.
        """
        if inputs.ndim == 1:
            inputs = inputs.unsqueeze(1)
        hidden = self.input_vectors(inputs)
        if inputs.shape[1] > 1 and self.cbow_mean_grad == "unscaled":
            sizes = (inputs != self.n_words).sum(dim=1).clamp(min=1)
            hidden = _UnscaledMeanGrad.apply(hidden, sizes.to(hidden.dtype))
        words = torch.cat([targets.unsqueeze(1), negatives], dim=1)
        # A broadcast product beats bmm on many tiny (1 x d) @ (d x k) products.
        return (hidden.unsqueeze(1) * self.output_vectors(words)).sum(dim=2)


class NegativeSamplingLoss(nn.Module):
    """Negative-sampling loss of each sample: ``-log σ(s₀) - Σₖ log σ(-sₖ)``.

    Parameters
    ----------
    reduction : {"none", "mean", "sum"}, default="none"
        Whether to return the loss of each sample, or their mean or sum.

    Examples
    --------
    Scores of zero cost log(2) for the target and for each negative:

    >>> import torch
    >>> from sklearn_histai.nn import NegativeSamplingLoss
    >>> NegativeSamplingLoss()(torch.zeros(2, 3))
    tensor([2.0794, 2.0794])
    """

    def __init__(self, reduction="none"):
        super().__init__()
        self.reduction = reduction

    def forward(self, scores, mask=None):
        """Return the loss of the scores of :class:`Word2VecNet`.

        Parameters
        ----------
        scores : tensor of shape (batch, 1 + K)
            Logits of the target (column 0) and of the negatives.
        mask : tensor of shape (batch, K) or None, default=None
            Which negatives count; word2vec skips a negative that happens to
            be the target.

        Returns
        -------
        loss : tensor of shape (batch,) or scalar
            The loss of each sample, or their mean or sum.
        """
        positive = -F.logsigmoid(scores[:, 0])
        negative = -F.logsigmoid(-scores[:, 1:])
        if mask is not None:
            negative = negative * mask
        loss = positive + negative.sum(dim=1)
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


class Word2VecCorpus(Dataset):
    """The training words of one fit, drawn into word2vec samples pass by pass.

    Each pass (:meth:`batches`) subsamples the frequent words, then reads
    the corpus as ``batch_size`` equal stretches side by side: step ``t``
    takes position ``t`` of every stretch, as that many Hogwild workers of
    word2vec.c would, so that a step holds ``batch_size`` positions (counted
    before subsampling: every pass has the same number of steps, and the
    learning rate decays with the words seen) from all over the corpus
    rather than neighbours sharing their context words. Each kept position
    yields its samples for :class:`Word2VecNet`: (context word, centre word)
    pairs for skip-gram, a (context bag, centre word) sample for CBOW, each
    with ``negative`` words drawn from the unigram distribution raised to
    the power 3/4. Windows shrink at random and never cross documents. The
    draws come from a generator seeded once, so that the passes repeat
    under the same seed.

    Parameters
    ----------
    tokens : tensor of shape (n_positions,)
        Word index (a row of the tables, below ``n_words``) of each position
        of the corpus, documents one after the other.
    documents : tensor of shape (n_positions,)
        Document of each position; windows stay within one.
    counts : array-like of shape (n_words,)
        Occurrences of each word, for subsampling and the noise distribution
        (0 for words never drawn as negatives).
    n_words : int
        Number of words; CBOW bags are right-padded with ``n_words``.
    sample : float
        Subsampling threshold; 0 keeps every word.
    window : int
        Largest distance between a centre and a context word.
    negative : int
        Negative words per sample.
    skipgram : bool
        Whether to yield skip-gram pairs rather than CBOW bags.
    device : str or torch.device
        Where the corpus and the samples live.
    seed : int
        Seed of the generator of all the random draws.

    Examples
    --------
    Two documents of four and two words; with a window of one, a pass
    yields the eight skip-gram pairs of neighbours:

    >>> import torch
    >>> from sklearn_histai.nn import Word2VecCorpus
    >>> corpus = Word2VecCorpus(
    ...     tokens=torch.tensor([0, 1, 2, 3, 1, 2]),
    ...     documents=torch.tensor([0, 0, 0, 0, 1, 1]),
    ...     counts=[1, 2, 2, 1], n_words=4, sample=0.0, window=1,
    ...     negative=2, skipgram=True, device="cpu", seed=0)
    >>> batch, _ = next(corpus.batches(batch_size=6))
    >>> batch["inputs"]
    tensor([1, 0, 2, 1, 3, 2, 2, 1])
    >>> batch["targets"]
    tensor([0, 1, 1, 2, 2, 3, 1, 2])
    >>> batch["negatives"].shape
    torch.Size([8, 2])
    """

    def __init__(
        self,
        *,
        tokens,
        documents,
        counts,
        n_words,
        sample,
        window,
        negative,
        skipgram,
        device,
        seed,
    ):
        self.tokens = tokens.to(device)
        self.documents = documents.to(device)
        counts = torch.as_tensor(counts, dtype=torch.float64)
        if sample > 0:
            threshold = sample * counts.sum()
            keep = ((counts / threshold).sqrt() + 1) * threshold / counts
            keep = torch.nan_to_num(keep, nan=0.0, posinf=0.0).clamp(max=1.0)
        else:
            keep = torch.ones_like(counts)
        self.keep_probability = keep.float().to(device)
        noise = counts**0.75
        self.noise_cdf = (noise.cumsum(0) / noise.sum()).float().to(device)
        self.n_words = n_words
        self.window = window
        self.negative = negative
        self.skipgram = skipgram
        self.offsets = torch.cat(
            [torch.arange(-window, 0), torch.arange(1, window + 1)]
        ).to(device)
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __len__(self):
        return len(self.tokens)

    def __getitem__(self, index):
        raise NotImplementedError("A Word2VecCorpus is read through batches() only.")

    def batches(self, batch_size):
        """Yield the samples of one pass, ``batch_size`` positions at a time.

        Parameters
        ----------
        batch_size : int
            Positions (before subsampling) per batch.

        Yields
        ------
        batch : tuple of (dict, None)
            ``{"inputs", "targets", "negatives"}`` for
            :meth:`Word2VecNet.forward`, and no target (skorch's batch
            layout); steps without any sample are skipped.
        """
        n = len(self.tokens)
        device = self.tokens.device
        draws = torch.rand(n, generator=self.generator, device=device)
        keep = draws < self.keep_probability[self.tokens]
        kept = torch.nonzero(keep).squeeze(1)
        tokens, documents = self.tokens[kept], self.documents[kept]
        # Position of each kept word in the subsampled sequence.
        kept_index = torch.cumsum(keep, 0) - 1
        # Step t takes position t of each of batch_size equal stretches of the
        # corpus, as that many Hogwild workers would. Consecutive positions
        # share most of their context words, and their updates summed at the
        # same parameters overshoot: with blocks of consecutive positions,
        # CBOW on the Penn Treebank reached a mean WordSim correlation of
        # 0.149 over 5 seeds, against 0.163 this way and 0.169 for gensim.
        length = math.ceil(n / batch_size)
        starts = torch.arange(batch_size, device=device) * length
        starts = starts[starts < n]
        for step in range(length):
            positions = starts + step
            positions = positions[positions < n]
            positions = positions[keep[positions]]
            if len(positions):
                batch = self._samples(tokens, documents, kept_index[positions])
                if batch is not None:
                    yield batch, None

    def _samples(self, tokens, documents, centres):
        """The samples around ``centres``, positions in the kept sequence."""
        device = tokens.device
        shrink = torch.randint(
            0, self.window, (len(centres),), generator=self.generator, device=device
        )
        positions = centres.unsqueeze(1) + self.offsets
        inside = (positions >= 0) & (positions < len(tokens))
        positions = positions.clamp(0, len(tokens) - 1)
        valid = (
            inside
            & (self.offsets.abs() <= (self.window - shrink).unsqueeze(1))
            & (documents[positions] == documents[centres].unsqueeze(1))
        )
        context = tokens[positions]
        if self.skipgram:
            row, column = torch.nonzero(valid, as_tuple=True)
            inputs, targets = context[row, column], tokens[centres][row]
        else:
            has_context = valid.any(dim=1)
            inputs = torch.where(valid, context, self.n_words)[has_context]
            targets = tokens[centres][has_context]
        if len(targets) == 0:
            return None
        draws = torch.rand(
            (len(targets), self.negative), generator=self.generator, device=device
        )
        # right=True never lands on a word of zero weight (e.g. padding).
        negatives = torch.searchsorted(self.noise_cdf, draws, right=True)
        negatives.clamp_(max=self.n_words - 1)
        return {"inputs": inputs, "targets": targets, "negatives": negatives}
