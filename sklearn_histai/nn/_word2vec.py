"""Word2vec: skip-gram and CBOW word embeddings trained with negative sampling."""

import math
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# Positions read per round of sampling: the samples of that many positions
# (a few million integers) are drawn at once, then served step by step.
_POSITIONS_PER_ROUND = 2**14
# Samples per slice of the CPU update of the output vectors.
_SLICE = 1024


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
    negatives low (Mikolov et al., 2013). :meth:`sgd_step` applies
    word2vec's update to a batch of samples directly, without autograd.

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
        Whether the tables produce sparse gradients under autograd (only the
        rows of a batch are updated, which is what makes large vocabularies
        cheap; plain SGD supports them).

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
    >>> loss = net.sgd_step(inputs, targets, negatives, learning_rate=0.025)
    >>> round(loss.item(), 4)  # 2 samples of 3 scores of zero: 6 log(2)
    4.1589
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

    def _bags(self, inputs, offsets):
        """The words of all bags one after the other, and the size of each bag."""
        if offsets is None:
            present = inputs != self.n_words
            return inputs[present], present.sum(dim=1)
        return inputs, torch.diff(offsets, append=offsets.new_tensor([len(inputs)]))

    def forward(self, inputs, targets, negatives, offsets=None):
        """Score the target and the negatives of each sample.

        Parameters
        ----------
        inputs : tensor of shape (batch,), (batch, bag) or (n_bag_words,)
            Input word of each sample; or bags of them, right-padded with
            ``n_words``; or the words of all bags one after the other, with
            ``offsets`` (as for :class:`torch.nn.EmbeddingBag`).
        targets : tensor of shape (batch,)
            Target word of each sample.
        negatives : tensor of shape (batch, K)
            Negative words of each sample.
        offsets : tensor of shape (batch,) or None, default=None
            Where each bag starts in a one-dimensional ``inputs``; None
            makes each input word a sample of its own.

        Returns
        -------
        scores : tensor of shape (batch, 1 + K)
            Logits of the target (column 0) and of the negatives.
        """
        if offsets is None and inputs.ndim == 1:
            inputs = inputs.unsqueeze(1)
        hidden = self.input_vectors(inputs, offsets)
        is_bag = offsets is not None or inputs.shape[1] > 1
        if is_bag and self.cbow_mean_grad == "unscaled":
            sizes = self._bags(inputs, offsets)[1].clamp(min=1)
            hidden = _UnscaledMeanGrad.apply(hidden, sizes.to(hidden.dtype))
        words = torch.cat([targets.unsqueeze(1), negatives], dim=1)
        # A broadcast product beats bmm on many tiny (1 x d) @ (d x k) products.
        return (hidden.unsqueeze(1) * self.output_vectors(words)).sum(dim=2)

    @torch.no_grad()
    def sgd_step(
        self, inputs, targets, negatives, learning_rate, offsets=None, kernel="auto"
    ):
        """Apply one step of word2vec's SGD to a batch of samples, in place.

        The step is plain SGD on the summed :class:`NegativeSamplingLoss` of
        the samples, with a negative equal to its target left out, as
        word2vec.c and gensim update: every gradient is taken at the vectors
        before the step, and only the rows of the words of the batch change.
        It runs without autograd: scores of the gathered rows, then one
        ``index_add_`` per table.

        Parameters
        ----------
        inputs, targets, negatives, offsets : tensor
            The samples, as for :meth:`forward`.
        learning_rate : float
            The SGD step size.
        kernel : {"auto", "sampled", "gathered"}, default="auto"
            How the scores are computed: "sampled" by a sparse sampled
            matrix product (:func:`torch.sparse.sampled_addmm`), which
            never copies the output vectors of the batch (2 to 8 times
            faster on a CPU, the more so for large batches); "gathered"
            from a copy of those rows, the common path of accelerators;
            "auto" takes "sampled" on the CPU and "gathered" elsewhere.
            Fewer words than ``1 + K`` always take "gathered".

        Returns
        -------
        loss : tensor of shape ()
            The summed loss of the samples before the step.
        """
        input_weight = self.input_vectors.weight
        output_weight = self.output_vectors.weight
        if offsets is None and inputs.ndim == 1:
            hidden = F.embedding(inputs, input_weight)
        else:
            hidden = F.embedding_bag(
                inputs, input_weight, offsets, mode="mean", padding_idx=self.n_words
            )
        words = torch.cat([targets.unsqueeze(1), negatives], dim=1)
        if kernel == "auto":
            kernel = "sampled" if output_weight.device.type == "cpu" else "gathered"
        # torch's sparse product cannot hold more scores per row than words.
        if kernel == "sampled" and len(output_weight) >= words.shape[1]:
            scores = _sampled_scores(hidden, output_weight, words)
        else:
            gathered = output_weight.index_select(0, words.view(-1))
            scores = (gathered.view(*words.shape, -1) * hidden.unsqueeze(1)).sum(2)
        # The target's score negated: the loss of each score is then its
        # softplus, and its error (label - sigmoid) minus its sigmoid.
        signed = scores
        signed[:, 0].neg_()
        counted = F.pad(
            (negatives != targets.unsqueeze(1)).to(scores.dtype), (1, 0), value=1.0
        )
        loss = F.softplus(signed).mul_(counted).sum()
        step = torch.sigmoid(signed).mul_(counted).mul_(-learning_rate)
        step[:, 0].neg_()

        hidden_step = F.embedding_bag(
            words, output_weight, mode="sum", per_sample_weights=step
        )
        # Each output vector moves by the hidden vectors of its samples
        # times their errors; on the CPU in slices of samples whose products
        # stay in cache: one product of 45,000 rows took twice as long as
        # the same rows in slices of 1,024 samples.
        n_samples = len(words)
        width = n_samples if output_weight.device.type != "cpu" else _SLICE
        for start in range(0, n_samples, width):
            rows = slice(start, start + width)
            output_weight.index_add_(
                0,
                words[rows].reshape(-1),
                (step[rows].unsqueeze(2) * hidden[rows].unsqueeze(1)).flatten(0, 1),
            )
        if not input_weight.requires_grad:
            return loss
        if offsets is None and inputs.ndim == 1:
            input_weight.index_add_(0, inputs, hidden_step)
        else:
            bag_words, sizes = self._bags(inputs, offsets)
            if self.cbow_mean_grad == "mean":
                hidden_step /= sizes.clamp(min=1).unsqueeze(1)
            input_weight.index_add_(
                0, bag_words, hidden_step.repeat_interleave(sizes, dim=0)
            )
        return loss


def _sampled_scores(hidden, output_weight, words):
    """``(hidden[i] * output_weight[words[i, j]]).sum()`` for each ``i, j``."""
    n_samples, width = words.shape
    rows = torch.arange(
        0, n_samples * width + 1, width, device=words.device, dtype=words.dtype
    )
    with warnings.catch_warnings():
        # torch warns that its sparse CSR support is in beta.
        warnings.simplefilter("ignore", UserWarning)
        pattern = torch.sparse_csr_tensor(
            rows,
            words.reshape(-1),
            torch.zeros(n_samples * width, dtype=hidden.dtype, device=hidden.device),
            size=(n_samples, len(output_weight)),
            check_invariants=False,
        )
        scores = torch.sparse.sampled_addmm(
            pattern, hidden, output_weight.t(), beta=0.0
        )
    return scores.values().view(n_samples, width)


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


def _alias_table(weights):
    """Walker's alias table of the distribution ``weights / weights.sum()``.

    Returns ``(probability, alias)``: draw a column ``i`` uniformly, keep it
    with ``probability[i]``, else take ``alias[i]`` (Vose, 1991). Exact and
    O(1) per draw, where a search of the cumulative weights takes
    ``log2(n)`` steps.
    """
    n = len(weights)
    scaled = (np.asarray(weights, dtype=np.float64) * (n / np.sum(weights))).tolist()
    probability, alias = [1.0] * n, list(range(n))
    small = [i for i, value in enumerate(scaled) if value < 1.0]
    large = [i for i, value in enumerate(scaled) if value >= 1.0]
    while small and large:
        less, more = small.pop(), large[-1]
        probability[less], alias[less] = scaled[less], more
        scaled[more] -= 1.0 - scaled[less]
        if scaled[more] < 1.0:
            small.append(large.pop())
    return np.asarray(probability), np.asarray(alias)


class Word2VecCorpus:
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
    the power 3/4. Windows shrink at random and never cross documents. All
    of this is drawn in vectorised rounds of many steps, from a generator
    seeded once, so that the passes repeat under the same seed.

    Parameters
    ----------
    tokens : tensor of shape (n_positions,)
        Word index (a row of the tables, below ``n_words``) of each position
        of the corpus, documents one after the other.
    documents : tensor of shape (n_positions,)
        Document of each position, non-decreasing; windows stay within one.
    counts : array-like of shape (n_words,)
        Occurrences of each word, for subsampling and the noise distribution
        (0 for words never drawn as negatives).
    n_words : int
        Number of words.
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
    >>> corpus.steps(batch_size=6)
    1
    >>> step, batch = next(corpus.batches(batch_size=6))
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
        counts = np.asarray(counts, dtype=np.float64)
        if sample > 0:
            threshold = sample * counts.sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
            keep = np.clip(np.nan_to_num(keep, nan=0.0, posinf=0.0), None, 1.0)
        else:
            keep = np.ones_like(counts)
        self.keep_probability = torch.as_tensor(keep, dtype=torch.float32).to(device)
        # The noise distribution, as an alias table over the words drawn.
        self.noise_words = torch.as_tensor(np.flatnonzero(counts > 0)).to(device)
        probability, alias = _alias_table(counts[counts > 0] ** 0.75)
        self.noise_probability = torch.as_tensor(probability, dtype=torch.float32)
        self.noise_probability = self.noise_probability.to(device)
        self.noise_alias = self.noise_words[torch.as_tensor(alias).to(device)]
        self.n_words = n_words
        self.window = window
        self.negative = negative
        self.skipgram = skipgram
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __len__(self):
        return len(self.tokens)

    def steps(self, batch_size):
        """The number of steps of a pass: positions per stretch.

        Parameters
        ----------
        batch_size : int
            Positions (before subsampling) per step.

        Returns
        -------
        n_steps : int
        """
        return math.ceil(len(self.tokens) / batch_size)

    def draw_negatives(self, shape):
        """Words drawn from the noise distribution (unigram to the power 3/4).

        Parameters
        ----------
        shape : tuple of int
            Shape of the draws.

        Returns
        -------
        negatives : int64 tensor of shape ``shape``
        """
        device = self.tokens.device
        n_draws = math.prod(shape)
        # int32 columns and index_select: 2.5 times faster than int64 indexing.
        column = torch.randint(
            0,
            len(self.noise_words),
            (n_draws,),
            generator=self.generator,
            device=device,
            dtype=torch.int32,
        )
        coin = torch.rand(n_draws, generator=self.generator, device=device)
        negatives = torch.where(
            coin < self.noise_probability.index_select(0, column),
            self.noise_words.index_select(0, column),
            self.noise_alias.index_select(0, column),
        )
        return negatives.view(shape)

    def batches(self, batch_size):
        """Yield the samples of one pass, step by step.

        Parameters
        ----------
        batch_size : int
            Positions (before subsampling) per step.

        Yields
        ------
        step : int
            The index of the step in the pass, below :meth:`steps`; steps
            without any sample are skipped.
        samples : dict
            ``{"inputs", "targets", "negatives"}`` for
            :meth:`Word2VecNet.forward` and :meth:`Word2VecNet.sgd_step`,
            plus the ``"offsets"`` of the CBOW bags in ``"inputs"``.
        """
        n = len(self.tokens)
        device = self.tokens.device
        draws = torch.rand(n, generator=self.generator, device=device)
        keep = draws < self.keep_probability.index_select(0, self.tokens)
        tokens = self.tokens[keep]
        # Position of each word in the subsampled sequence, and the first
        # and last positions of its document there.
        kept_index = torch.cumsum(keep, 0) - 1
        _, sizes = torch.unique_consecutive(self.documents[keep], return_counts=True)
        ends = torch.cumsum(sizes, 0)
        first = torch.repeat_interleave(ends - sizes, sizes)
        last = torch.repeat_interleave(ends - 1, sizes)
        # Step t takes position t of each of batch_size equal stretches of the
        # corpus, as that many Hogwild workers would. Consecutive positions
        # share most of their context words, and their updates summed at the
        # same parameters overshoot: with blocks of consecutive positions,
        # CBOW on the Penn Treebank reached a mean WordSim correlation of
        # 0.149 over 5 seeds, against 0.163 this way and 0.169 for gensim.
        length = self.steps(batch_size)
        starts = torch.arange(0, n, length, device=device)
        per_round = max(1, _POSITIONS_PER_ROUND // len(starts))
        for begin in range(0, length, per_round):
            steps = torch.arange(begin, min(begin + per_round, length), device=device)
            positions = steps.unsqueeze(1) + starts
            inside = positions < n
            positions = positions.clamp(max=n - 1)
            taken = inside & keep[positions]
            centres = kept_index.index_select(0, positions[taken])
            per_step = taken.sum(dim=1)
            yield from self._round(begin, tokens, first, last, centres, per_step)

    def _round(self, begin, tokens, first, last, centres, per_step):
        """Yield the samples of the steps from ``begin`` on, of ``centres``."""
        device = tokens.device
        reach = self.window - torch.randint(
            0, self.window, centres.shape, generator=self.generator, device=device
        )
        low = torch.maximum(centres - reach, first.index_select(0, centres))
        high = torch.minimum(centres + reach, last.index_select(0, centres))
        n_context = high - low
        # The context positions of each centre in turn: low..high but itself.
        owner = torch.repeat_interleave(n_context)
        start = torch.cumsum(n_context, 0) - n_context
        context = torch.arange(len(owner), device=device)
        context += (low - start).index_select(0, owner)
        context += context >= centres.index_select(0, owner)
        context = tokens.index_select(0, context)
        centre_end = torch.cumsum(per_step, 0)
        context_end = _running_total(n_context)[centre_end]
        if self.skipgram:
            inputs = context
            targets = tokens.index_select(0, centres).index_select(0, owner)
            sample_end = context_end
        else:
            has_context = n_context > 0
            targets = tokens.index_select(0, centres[has_context])
            inputs, offsets = context, start[has_context]
            sample_end = _running_total(has_context)[centre_end]
        negatives = self.draw_negatives((len(targets), self.negative))
        sample_end, context_end = sample_end.tolist(), context_end.tolist()
        sample_start = context_start = 0
        for step, (samples, contexts) in enumerate(zip(sample_end, context_end)):
            if samples > sample_start:
                batch = {
                    "inputs": inputs[context_start:contexts],
                    "targets": targets[sample_start:samples],
                    "negatives": negatives[sample_start:samples],
                }
                if not self.skipgram:
                    batch["offsets"] = offsets[sample_start:samples] - context_start
                yield begin + step, batch
            sample_start, context_start = samples, contexts


def _running_total(counts):
    """``[0, counts[0], counts[0] + counts[1], ...]``: where each run ends."""
    return F.pad(torch.cumsum(counts, 0), (1, 0))
