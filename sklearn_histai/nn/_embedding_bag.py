"""The mean of token embeddings and a linear layer: the fastText classifier."""

import torch
from torch import nn

# The multiplier of the rolling hash of word n-grams: a prime near 2**27,
# so that a hash below 2**31 times it stays within int64.
_NGRAM_HASH_PRIME = 116_049_371


class EmbeddingBagNet(nn.Module):
    """Average the embeddings of a row's tokens, then a linear output layer.

    With token ids, a row's document vector is the mean of the embeddings of
    its non-padding tokens (zero for a row of padding only), so padding
    never changes the output. With ``word_ngrams > 1``, the n-grams of 2 to
    ``word_ngrams`` consecutive non-padding ids are hashed into
    ``ngram_buckets`` further embeddings, which join the mean (fastText's
    "bag of tricks"). With float rows (``vocab_size=None``), each row is a
    bag of feature values (e.g. counts or TF-IDF weights) and the document
    vector is their weighted sum of per-feature embeddings, ``X @ E``.
    Either way it is a linear classifier with a rank constraint (Joulin et
    al., 2016).

    Parameters
    ----------
    n_features : int or None
        Size of float rows; None with token ids.
    n_outputs : int
        Size of the output.
    vocab_size : int or None, default=None
        With token ids, the number of ids.
    embedding_dim : int, default=100
        Size of the embeddings (the rank of the classifier).
    dropout : float, default=0.0
        Dropout probability on the document vector.
    padding_value : int or None, default=0
        The padding id; None means no padding.
    embeddings : array-like of shape (vocab_size, embedding_dim) or None, \
default=None
        Pretrained embeddings to start from.
    freeze_embeddings : bool, default=False
        Whether pretrained embeddings stay fixed during training (the n-gram
        embeddings always train).
    word_ngrams : int, default=1
        Length of the longest word n-gram embedded (token ids only); 1 reads
        single tokens only.
    ngram_buckets : int, default=65536
        Number of embeddings the hashed n-grams share (with
        ``word_ngrams > 1``).

    Attributes
    ----------
    embedding : nn.EmbeddingBag or nn.Linear
        The embeddings of the token ids (or of the float features).
    ngram_embedding : nn.EmbeddingBag or None
        The embeddings of the hashed n-grams; None with ``word_ngrams=1``.
    head : nn.Linear
        The output layer.

    References
    ----------
    .. [1] Joulin, A., Grave, E., Bojanowski, P. and Mikolov, T. (2017).
       "Bag of tricks for efficient text classification." EACL.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.nn import EmbeddingBagNet
    >>> net = EmbeddingBagNet(None, 2, vocab_size=10, embedding_dim=4)
    >>> X = torch.tensor([[3, 5, 0, 0], [7, 1, 2, 0]])
    >>> net(X).shape
    torch.Size([2, 2])

    Padding does not change the output:

    >>> torch.allclose(net(X[:1]), net(X[:1, :2]))
    True

    With word bigrams, each row's mean also holds its hashed bigrams:

    >>> net = EmbeddingBagNet(None, 2, vocab_size=10, embedding_dim=4,
    ...                       word_ngrams=2, ngram_buckets=16)
    >>> net.ngram_ids(X)
    [tensor([ 6, 14, 13])]
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        vocab_size=None,
        embedding_dim=100,
        dropout=0.0,
        padding_value=0,
        embeddings=None,
        freeze_embeddings=False,
        word_ngrams=1,
        ngram_buckets=65536,
    ):
        super().__init__()
        self.padding_value = None if padding_value is None else int(padding_value)
        self.word_ngrams = int(word_ngrams)
        self.ngram_buckets = int(ngram_buckets)
        self.ngram_embedding = None
        if vocab_size is None:
            self.embedding = nn.Linear(n_features, embedding_dim, bias=False)
        else:
            if embeddings is not None:
                self.embedding = nn.EmbeddingBag.from_pretrained(
                    torch.as_tensor(embeddings, dtype=torch.float32),
                    freeze=freeze_embeddings,
                    mode="mean",
                    padding_idx=self.padding_value,
                )
            else:
                self.embedding = nn.EmbeddingBag(
                    vocab_size,
                    embedding_dim,
                    mode="mean",
                    padding_idx=self.padding_value,
                )
            embedding_dim = self.embedding.embedding_dim
            if self.word_ngrams > 1:
                self.ngram_embedding = nn.EmbeddingBag(
                    self.ngram_buckets, embedding_dim, mode="sum"
                )
                # Most buckets hold n-grams seen once or never: at zero, an
                # untrained one adds nothing to a mean that the trained
                # embeddings make (random vectors drowned them on small data).
                nn.init.zeros_(self.ngram_embedding.weight)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embedding_dim, n_outputs)

    def get_input_embeddings(self):
        """The layer that embeds the input token ids (None for float rows).

        Returns
        -------
        embedding : nn.Module or None
            The embedding layer, whose output adversarial training perturbs.
        """
        return self.embedding if isinstance(self.embedding, nn.EmbeddingBag) else None

    def _bags(self, X):
        """The non-padding ids of a batch, one bag after the other, and the counts."""
        if self.padding_value is None:
            counts = torch.full((len(X),), X.shape[1], device=X.device)
            return X.reshape(-1), counts
        real = X != self.padding_value
        # masked_select: the same as X[real], in a third of the time.
        return torch.masked_select(X, real), real.sum(dim=1)

    def _ngrams(self, ids, counts):
        """The bucket of each n-gram within a bag, and the n-grams per bag.

        One entry per n-gram length, 2 to ``word_ngrams``; each in the order
        of the bags, as their tokens are.
        """
        ends = torch.repeat_interleave(counts.cumsum(0), counts)
        ngrams = []
        for length in range(2, self.word_ngrams + 1):
            starts = len(ids) - length + 1
            if starts <= 0:
                ngrams.append((ids[:0], torch.zeros_like(counts)))
                continue
            position = torch.arange(starts, device=ids.device)
            buckets = ids[:starts] % self.ngram_buckets
            for offset in range(1, length):
                buckets = self.extend_ngrams(buckets, ids[offset : offset + starts])
            within = ends[:starts] - position >= length
            ngrams.append(
                (
                    torch.masked_select(buckets, within),
                    (counts - length + 1).clamp(min=0),
                )
            )
        return ngrams

    def extend_ngrams(self, buckets, ids):
        """The buckets of n-grams extended by one more token each.

        Parameters
        ----------
        buckets : tensor of int64
            The buckets of n-grams (for unigrams, the ids modulo
            ``ngram_buckets``).
        ids : tensor of int64, of the same shape
            The token that follows each n-gram.

        Returns
        -------
        buckets : tensor of int64
            The buckets of the (n+1)-grams, a polynomial hash of their ids.
        """
        return (buckets * _NGRAM_HASH_PRIME + ids) % self.ngram_buckets

    def ngram_ids(self, X):
        """The hashed word n-grams of each row of token ids, as bucket indices.

        Parameters
        ----------
        X : tensor of shape (batch, steps)
            Right-padded token ids.

        Returns
        -------
        buckets : list of tensor
            One flat tensor per n-gram length (2 to ``word_ngrams``): the
            bucket of each n-gram of consecutive non-padding ids, row after
            row, in text order.
        """
        ids, counts = self._bags(X.long())
        return [buckets for buckets, _ in self._ngrams(ids, counts)]

    def forward(self, X):
        """Map the bags of a batch to the outputs of the network.

        Parameters
        ----------
        X : tensor of shape (batch, steps) or (batch, n_features)
            Right-padded token ids (with ``vocab_size``) or float rows of
            feature values (``vocab_size=None``).

        Returns
        -------
        outputs : tensor of shape (batch, n_outputs)
            The outputs of the linear layer (logits or predictions).
        """
        if not isinstance(self.embedding, nn.EmbeddingBag):
            return self.head(self.dropout(self.embedding(X)))
        # The bags go to EmbeddingBag as one flat array of their ids and the
        # offsets where each starts: no step of padding is read or trained.
        ids, counts = self._bags(X.long())
        offsets = counts.cumsum(0) - counts
        document = self.embedding(ids, offsets)
        if self.ngram_embedding is not None:
            total = document * counts.unsqueeze(1).to(document.dtype)
            n_items = counts
            for buckets, ngram_counts in self._ngrams(ids, counts):
                starts = ngram_counts.cumsum(0) - ngram_counts
                total = total + self.ngram_embedding(buckets, starts)
                n_items = n_items + ngram_counts
            document = total / n_items.clamp(min=1).unsqueeze(1).to(total.dtype)
        return self.head(self.dropout(document))
