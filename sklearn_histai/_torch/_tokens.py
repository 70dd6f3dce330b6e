"""Token-id input of the networks with an embedding layer: padding, ids, embeddings."""

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from sklearn_histai._torch._skorch import BatchIterator
from sklearn_histai.nn._recurrent import sequence_lengths
from sklearn_histai.utils._token_ids import PAD, check_token_ids

TOKEN_PARAMETER_CONSTRAINTS = {
    "vocab_size": [Interval(numbers.Integral, 2, None, closed="left"), None],
    "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
    "padding_value": [StrOptions({"auto"}), numbers.Real, None],
    "embeddings": ["array-like", None],
    "freeze_embeddings": ["boolean"],
}

TOKEN_PARAMETERS_DOC = """vocab_size : int or None, default=None
        None for float input. An int switches to token-id input: each row is
        a sequence of integer ids in ``[0, vocab_size)``, embedded by a
        trainable embedding layer (``TextTokenizer`` produces such rows;
        give ``vocab_size >= tokenizer.vocab_size_``).
    embedding_dim : int, default=%(embedding_dim_default)s
        Size of the token embeddings (token-id input only).
    padding_value : "auto", int or None, default="auto"
        The padding id of right-padded token rows, masked so that it never
        changes a prediction. "auto" is id 0, as ``TextTokenizer`` pads;
        None means no padding.
    embeddings : array-like of shape (vocab_size, embedding_dim) or None, \
default=None
        Pretrained embeddings (e.g. GloVe) to start from (token-id input);
        they set ``embedding_dim``.
    freeze_embeddings : bool, default=False
        Whether pretrained ``embeddings`` stay fixed during training."""


class LengthBuckets(BatchIterator):
    """Mini-batches of token rows of similar lengths, cut to their longest row.

    A batch of rows drawn at random is as wide as its longest row: on IMDB
    cut at 400 tokens, nearly every batch of 64 reviews holds a review of
    400 tokens, while the average review has 211, so half of what a
    convolution or a recurrence reads is padding. Here the shuffled rows
    are taken ``pool_batches`` batches at a time, sorted by length within
    that pool and cut into batches, whose order is shuffled (torchtext's
    ``BucketIterator``); without shuffling (validation), the rows are sorted
    by length once. Each batch drops the padding columns past its longest
    row, which a network that masks its padding reads as it would the full
    row.

    Parameters
    ----------
    dataset : TensorDataset
        Rows of token ids (a 2-D tensor), targets and weights.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Whether to draw the rows in a random order, different every epoch.
    seed : int, default=0
        Seed of the private generator of the shuffling.
    padding_value : int, default=0
        The padding id.
    pool_batches : int, default=100
        Batches of shuffled rows sorted together. The larger, the less
        padding; the smaller, the more random a batch's company of lengths.
    padding_noise : float, default=0.1
        Relative noise on the lengths that the shuffled rows are sorted by
        (each multiplied by a factor drawn uniformly from ``1 +- noise``,
        as AllenNLP's bucket sampler does): rows of nearly equal lengths
        meet different company every epoch, for a little more padding.
    min_batches : int, default=10
        Shuffled rows that fill fewer batches are batched at random, as
        :class:`BatchIterator` does (each batch still cut to its longest
        row): sorted, each row would meet the same company every epoch.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        seed=0,
        padding_value=PAD,
        pool_batches=100,
        padding_noise=0.1,
        min_batches=10,
    ):
        super().__init__(dataset, batch_size, shuffle=shuffle, seed=seed)
        self.padding_value = padding_value
        self.pool_batches = pool_batches
        self.padding_noise = padding_noise
        self.min_batches = min_batches
        self.lengths = sequence_lengths(dataset.X, padding_value)
        self.sorted_rows = None

    def __iter__(self):
        n = len(self.dataset)
        if not self.shuffle:
            if self.sorted_rows is None:
                order = torch.argsort(self.lengths, stable=True)
                self.sorted_rows = self._subset(order)
            yield from self._batches(self.sorted_rows)
            return
        if n < self.batch_size * self.min_batches:
            # Sorted, the rows of a few batches would meet the same company
            # every epoch, and the steps alternate between short and long
            # rows: a small corpus of a few batches trained unstably.
            for X, y in super().__iter__():
                width = int(sequence_lengths(X, self.padding_value).max())
                yield self._cut((X, y), width)
            return
        order = torch.randperm(n, generator=self.generator)
        noise = torch.rand(n, generator=self.generator, dtype=torch.float64)
        keys = self.lengths * (1 + self.padding_noise * (2 * noise - 1))
        pool = self.batch_size * self.pool_batches
        for pool_start in range(0, n, pool):
            index = order[pool_start : pool_start + pool]
            index = index[torch.argsort(keys[index], stable=True)]
            rows = self._subset(index)
            batches = list(self._batches(rows))
            for position in torch.randperm(len(batches), generator=self.generator):
                yield batches[position]

    def _subset(self, index):
        """The dataset of the rows at ``index``, with their lengths."""
        return self.dataset.subset(index), self.lengths[index]

    def _batches(self, rows):
        """The batches of ``batch_size`` consecutive rows, each cut to its widest."""
        dataset, lengths = rows
        for start in range(0, len(dataset), self.batch_size):
            stop = start + self.batch_size
            width = int(lengths[start:stop].max())
            yield self._cut(dataset[start:stop], width)

    def _cut(self, batch, width):
        """The batch without the padding columns past ``width``."""
        X, y = batch
        return X[:, :width], y


class TokenInputMixin:
    """Token-id input for estimators with ``vocab_size``, ``padding_value``, ...

    With ``vocab_size`` None the estimator reads float rows as before.
    Estimators whose networks skip the padding past the longest row of a
    batch set ``_length_buckets`` to train on batches of rows of similar
    lengths (see :class:`LengthBuckets`).
    """

    _length_buckets = False

    def _check_input(self, X, *, reset):
        if self.vocab_size is None:
            return X
        return self._check_token_ids(X, reset=reset)

    def _input_kind(self):
        return "tabular" if self.vocab_size is None else "tokens"

    def _input_padding(self):
        return None if self.vocab_size is None else self._token_padding()

    def _batch_iterators(self, batch_size):
        """The base's batching, or batches of token rows of similar lengths.

        Validation batches are sorted by length too, and as small as the
        training ones: a batch's cost grows with its longest row.
        """
        padding = self._input_padding()
        if not (self._length_buckets and padding is not None):
            return super()._batch_iterators(batch_size)
        return {
            "iterator_train": LengthBuckets,
            "iterator_train__padding_value": padding,
            "iterator_valid": LengthBuckets,
            "iterator_valid__padding_value": padding,
            "iterator_valid__batch_size": batch_size,
        }

    def _token_padding(self):
        """The padding id of token rows, or None."""
        if self.padding_value == "auto":
            return PAD
        return self.padding_value

    def _check_token_ids(self, X, *, reset):
        """Return validated numeric rows as int64 rows of the embedding table.

        A fit sizes the table: a row per id up to the largest one seen, and
        one more that every larger id shares. Ids never seen in training
        have no trained vector either way, and a text pipeline's
        ``vocab_size`` (its tokenizer's bound) can be a thousand times the
        ids a small corpus uses: a table of ``vocab_size`` rows would hold
        (and pickle) mostly untrained rows. Pretrained ``embeddings`` keep
        all of their rows.
        """
        # A new array (check_token_ids copies), so clipped in place.
        ids = check_token_ids(X, vocab_size=self.vocab_size)
        if reset:
            if self.embeddings is not None:
                self._n_embeddings_ = self.vocab_size
            else:
                largest = int(ids.max(initial=PAD))
                self._n_embeddings_ = min(self.vocab_size, largest + 2)
            # The table has a row for every id seen: nothing to clip.
            return ids
        return np.minimum(ids, self._n_embeddings_ - 1, out=ids)

    def _pretrained_embeddings(self):
        """The pretrained embedding matrix as float32, or None."""
        if self.embeddings is None:
            return None
        embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[0] != self.vocab_size:
            raise ValueError(
                f"embeddings must have shape (vocab_size={self.vocab_size}, "
                f"embedding_dim); got {embeddings.shape}."
            )
        if not np.isfinite(embeddings).all():
            raise ValueError("embeddings must not contain NaN or infinity.")
        return embeddings
