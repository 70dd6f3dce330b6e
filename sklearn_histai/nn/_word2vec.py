"""Word2vec: skip-gram and CBOW word embeddings trained with negative sampling."""

import torch
from torch import nn
from torch.nn import functional as F


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
        loss : tensor of shape (batch,), or a scalar when reduced
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
