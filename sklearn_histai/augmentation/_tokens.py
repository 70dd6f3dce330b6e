"""The easy data augmentation operations on token ids (Wei & Zou, 2019)."""

import numbers

import torch

from sklearn_histai.augmentation._base import Augmentation


def _check_p(p):
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p must be a number in [0, 1]; got {p!r}.")


def _check_n_neighbors(n_neighbors):
    if not isinstance(n_neighbors, numbers.Integral) or n_neighbors < 1:
        raise ValueError(
            f"n_neighbors must be a positive integer; got {n_neighbors!r}."
        )


class _TokenOperation(Augmentation):
    """An operation on the id rows of token input, or of a raw-text estimator."""

    input_kinds = frozenset({"tokens", "text"})

    def _augment(self, X, y, context):
        if isinstance(X, dict):  # a tokenizer's encoding: ids and attention mask
            ids = self._edit(X["input_ids"], context)
            edited = dict(X)
            edited["input_ids"] = ids
            if "attention_mask" in X:
                mask = (ids != context.padding).to(X["attention_mask"].dtype)
                edited["attention_mask"] = mask
            return edited, y
        return self._edit(X.long(), context).to(X.dtype), y

    def _edit(self, ids, context):
        """Return the edited copy of right-padded id rows (n_rows, n_positions)."""
        raise NotImplementedError

    @staticmethod
    def _needs_padding(context, name):
        if context.padding is None:
            raise ValueError(
                f"{name} changes the length of a row and needs a padding id; the "
                "estimator's padding_value is None."
            )


def _random_editable(editable):
    """One random editable position per row (0 in rows without one)."""
    weights = editable.float()
    empty = weights.sum(dim=1) == 0
    weights[empty, 0] = 1.0
    return torch.multinomial(weights, 1).squeeze(1)


def _random_order(editable):
    """The positions of each row in random order, the editable ones first."""
    keys = torch.rand(editable.shape, device=editable.device)
    keys = keys.masked_fill(~editable, 2.0)
    return torch.argsort(keys, dim=1)


def _operations(p, editable):
    """How many times to apply an operation to each row: ``p`` of its tokens, ≥ 1."""
    count = editable.sum(dim=1)
    return torch.where(
        count > 0, torch.clamp((p * count.float()).round().long(), min=1), 0
    )


class RandomDeletion(_TokenOperation):
    """Delete each token with probability ``p``; a row keeps at least one token.

    Special tokens and padding are never deleted; the row closes up and is
    padded at the end.

    Parameters
    ----------
    p : float, default=0.1
        The probability of deleting a token.

    References
    ----------
    .. [1] Wei, J. and Zou, K. (2019). "EDA: Easy Data Augmentation Techniques
       for Boosting Performance on Text Classification Tasks." EMNLP.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, RandomDeletion
    >>> context = AugmentationContext("tokens", padding=0)
    >>> ids = torch.tensor([[5, 6, 7, 8, 0, 0]])
    >>> RandomDeletion(p=1.0).augment(ids, (None, None), context)[0].count_nonzero()
    tensor(1)
    """

    def __init__(self, p=0.1):
        self.p = p

    def _edit(self, ids, context):
        _check_p(self.p)
        self._needs_padding(context, "RandomDeletion")
        editable = ~context.protected(ids)
        delete = editable & (torch.rand(ids.shape, device=ids.device) < self.p)
        # A row that would lose all its tokens keeps one of them.
        emptied = (editable & ~delete).sum(dim=1) == 0
        if bool(emptied.any()):
            keep = _random_editable(editable[emptied])
            delete[emptied] = delete[emptied].scatter(1, keep[:, None], False)
        order = torch.sort(delete.to(torch.int8), dim=1, stable=True).indices
        edited = ids.gather(1, order)
        n_kept = ids.shape[1] - delete.sum(dim=1)
        tail = torch.arange(ids.shape[1], device=ids.device) >= n_kept[:, None]
        return edited.masked_fill(tail, context.padding)


class RandomSwap(_TokenOperation):
    """Swap two random tokens of a row, ``p`` times its length (at least once).

    Parameters
    ----------
    p : float, default=0.1
        Swaps per token of the row.

    References
    ----------
    .. [1] Wei, J. and Zou, K. (2019). "EDA: Easy Data Augmentation Techniques
       for Boosting Performance on Text Classification Tasks." EMNLP.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, RandomSwap
    >>> context = AugmentationContext("tokens", padding=0)
    >>> ids = torch.tensor([[5, 6, 7, 8, 0, 0]])
    >>> swapped, _ = RandomSwap().augment(ids, (None, None), context)
    >>> sorted(swapped[0].tolist())
    [0, 0, 5, 6, 7, 8]
    """

    def __init__(self, p=0.1):
        self.p = p

    def _edit(self, ids, context):
        _check_p(self.p)
        editable = ~context.protected(ids)
        # Disjoint pairs of positions, drawn at random, swapped at once.
        pairs = torch.minimum(_operations(self.p, editable), editable.sum(1) // 2)
        n_pairs = int(pairs.max()) if len(ids) else 0
        if n_pairs == 0:
            return ids.clone()
        order = _random_order(editable)[:, : 2 * n_pairs]
        first, second = order[:, 0::2], order[:, 1::2]
        used = torch.arange(n_pairs, device=ids.device) < pairs[:, None]
        second = torch.where(used, second, first)  # an unused pair swaps in place
        swapped = ids.clone()
        swapped.scatter_(1, first, ids.gather(1, second))
        swapped.scatter_(1, second, ids.gather(1, first))
        return swapped


class _SynonymOperation(_TokenOperation):
    def _synonyms(self, ids, context):
        _check_n_neighbors(self.n_neighbors)
        if context.embedding_table is None:
            raise ValueError(
                f"{type(self).__name__} needs an embedding table to find synonyms "
                "in; this estimator has none."
            )
        neighbours = context.neighbours(self.n_neighbors, ids.device)
        pick = torch.randint(0, self.n_neighbors, ids.shape, device=ids.device)
        return neighbours[ids.clamp(max=len(neighbours) - 1), pick]


class SynonymReplacement(_SynonymOperation):
    """Replace each token, with probability ``p``, by one of its nearest neighbours.

    The synonyms of an id are its ``n_neighbors`` nearest ids by the cosine
    similarity of their rows in the network's input embedding table, among
    the 10,000 most frequent ids of the training data (rarer ids stay as
    they are): pretrained vectors (GloVe, with
    ``make_text_classifier(pretrained="glove")`` or ``embeddings=``) give
    synonyms from the first epoch on. The neighbours are recomputed at each
    epoch while the table trains, and computed once when it stays fixed
    (frozen embeddings, or a transformer's under a parameter-efficient
    method).

    Parameters
    ----------
    p : float, default=0.1
        The probability of replacing a token.
    n_neighbors : int, default=5
        The synonyms to draw among.

    References
    ----------
    .. [1] Wei, J. and Zou, K. (2019). "EDA: Easy Data Augmentation Techniques
       for Boosting Performance on Text Classification Tasks." EMNLP.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import (
    ...     AugmentationContext, SynonymReplacement)
    >>> table = torch.tensor([[1.0, 0], [0, 1], [1, 0.1], [0.1, 1], [1, 0.05]])
    >>> context = AugmentationContext(
    ...     "tokens", padding=None, embedding_table=lambda: table,
    ...     candidate_ids=torch.arange(5))
    >>> ids = torch.tensor([[1, 1, 1]])
    >>> op = SynonymReplacement(p=1.0, n_neighbors=1)
    >>> op.augment(ids, (None, None), context)[0]
    tensor([[3, 3, 3]])
    """

    def __init__(self, p=0.1, n_neighbors=5):
        self.p = p
        self.n_neighbors = n_neighbors

    def _edit(self, ids, context):
        _check_p(self.p)
        editable = ~context.protected(ids)
        replace = editable & (torch.rand(ids.shape, device=ids.device) < self.p)
        return torch.where(replace, self._synonyms(ids, context), ids)


class RandomInsertion(_SynonymOperation):
    """Insert a synonym of a random token at a random position, ``p`` times the length.

    Insertions shift the rest of the row to the right; a full row loses its
    last token. Synonyms are found as :class:`SynonymReplacement` finds them.

    Parameters
    ----------
    p : float, default=0.1
        Insertions per token of the row.
    n_neighbors : int, default=5
        The synonyms to draw among.

    References
    ----------
    .. [1] Wei, J. and Zou, K. (2019). "EDA: Easy Data Augmentation Techniques
       for Boosting Performance on Text Classification Tasks." EMNLP.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext, RandomInsertion
    >>> _ = torch.manual_seed(0)
    >>> table = torch.eye(6)
    >>> context = AugmentationContext(
    ...     "tokens", padding=0, embedding_table=lambda: table,
    ...     candidate_ids=torch.arange(1, 6))
    >>> ids = torch.tensor([[4, 5, 0, 0]])
    >>> inserted, _ = RandomInsertion(p=0.5).augment(ids, (None, None), context)
    >>> int(inserted.count_nonzero())
    3
    """

    def __init__(self, p=0.1, n_neighbors=5):
        self.p = p
        self.n_neighbors = n_neighbors

    def _edit(self, ids, context):
        _check_p(self.p)
        self._needs_padding(context, "RandomInsertion")
        editable = ~context.protected(ids)
        inserts = _operations(self.p, editable)
        n_inserts = int(inserts.max()) if len(ids) else 0
        if n_inserts == 0:
            return ids.clone()
        n_rows, width = ids.shape
        used = torch.arange(n_inserts, device=ids.device) < inserts[:, None]
        # Each insertion goes before a random editable position (at most one
        # per position), and is a synonym of a random editable token.
        before = _random_order(editable)[:, :n_inserts]
        weights = editable.float()
        weights[editable.sum(dim=1) == 0, 0] = 1.0
        sources = torch.multinomial(weights, n_inserts, replacement=True)
        synonyms = self._synonyms(ids.gather(1, sources), context)
        # Every token gets a key (its position; an insertion just before the
        # position it precedes); sorting the keys merges both in order.
        keys = torch.cat(
            [
                torch.arange(width, device=ids.device).float().expand(n_rows, -1),
                torch.where(used, before.float() - 0.5, float("inf")),
            ],
            dim=1,
        )
        tokens = torch.cat(
            [
                ids,
                torch.where(used, synonyms, torch.full_like(synonyms, context.padding)),
            ],
            dim=1,
        )
        order = torch.argsort(keys, dim=1, stable=True)[:, :width]
        return tokens.gather(1, order)
