"""Token sequences as token lists or matrix rows, and their integer encoding."""

import itertools
from collections import Counter

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_sample_weight, _num_samples

from sklearn_histai.utils._token_ids import PAD, UNK


def is_token_lists(X, *, if_empty=False):
    """Whether ``X`` holds token lists (sequences of str) rather than a matrix.

    Only a list, a tuple or a 1-D object array whose rows are lists, tuples or
    arrays of str count as token lists; anything else (numeric arrays, data
    frames, nested lists of numbers) is read as a matrix.

    Parameters
    ----------
    X : object
        The input.
    if_empty : bool, default=False
        The answer when ``X`` is such a list whose rows hold no token at all
        (e.g. ``[[]]``), which nothing tells from a matrix without columns:
        a fitted estimator passes whether it was fitted on token lists.
    """
    if isinstance(X, np.ndarray):
        if X.ndim != 1 or X.dtype != object:
            return False
    elif not isinstance(X, (list, tuple)):
        return False
    for row in X:
        if not isinstance(row, (list, tuple, np.ndarray)):
            return False
        if len(row):
            return isinstance(row[0], str)
    return if_empty


def reject_documents(X):
    """Raise a clear error for raw strings: they need a tokenizer first."""
    if isinstance(X, str):
        first = X
    elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim == 1):
        first = X[0] if len(X) else None
    else:
        return
    if isinstance(first, str):
        raise TypeError(
            "X must be token lists (a list of sequences of str) or a numeric "
            "matrix, not raw strings; split them into tokens first, e.g. with "
            "TextTokenizer."
        )


def check_token_lists(X, name="X"):
    """Validate token lists; return the flat tokens and the row lengths.

    Parameters
    ----------
    X : list of sequences of str
        The token lists.
    name : str, default="X"
        The name used in error messages.

    Returns
    -------
    tokens : list of str
        The tokens of all rows, one after the other (a list: Python's dicts
        encode str tokens several times faster than numpy's str sorting).
    lengths : ndarray of int, shape (n_rows,)
        The number of tokens of each row.
    """
    if len(X) == 0:
        raise ValueError(f"{name} holds 0 sequences; at least one is required.")
    for i, row in enumerate(X):
        if isinstance(row, str) or not isinstance(row, (list, tuple, np.ndarray)):
            raise TypeError(
                f"{name} must be a list of token lists (sequences of str); row {i} "
                f"is a {type(row).__name__}. Split raw text into tokens first, "
                "e.g. with TextTokenizer."
            )
    lengths = np.fromiter((len(row) for row in X), dtype=np.int64, count=len(X))
    tokens = list(itertools.chain.from_iterable(X))
    if set(map(type, tokens)) - {str}:
        bad = next(token for token in tokens if not isinstance(token, str))
        if not isinstance(bad, str):
            raise TypeError(
                f"Every token of {name} must be a str; found {bad!r} of type "
                f"{type(bad).__name__}."
            )
        tokens = [str(token) for token in tokens]
    return tokens, lengths


def resolve_padding(padding_value, X):
    """The padding value for a validated matrix: "auto" is 0 for integers only."""
    if isinstance(padding_value, str) and padding_value == "auto":
        return 0 if X.dtype.kind in "iub" else None
    return padding_value


def matrix_lengths(X, padding_value):
    """Length of each row of a 2-D array once trailing ``padding_value`` is cut."""
    n_rows, n_columns = X.shape
    if padding_value is None:
        return np.full(n_rows, n_columns, dtype=np.int64)
    is_token = X != padding_value
    last = n_columns - np.argmax(is_token[:, ::-1], axis=1)
    return np.where(is_token.any(axis=1), last, 0).astype(np.int64)


def matrix_tokens(X, lengths):
    """The tokens of the rows of a 2-D array, row after row, without padding."""
    mask = np.arange(X.shape[1]) < lengths[:, None]
    return X[mask]


def build_vocabulary(tokens, min_frequency=1):
    """Sorted distinct tokens seen at least ``min_frequency`` times.

    ``tokens`` is a list of str (token lists) or a numeric array (matrix
    rows); the vocabulary is an array of str or of numbers accordingly.
    """
    if isinstance(tokens, list):
        counts = Counter(tokens)
        values = sorted(t for t, c in counts.items() if c >= min_frequency)
        return np.array(values, dtype=str) if values else np.empty(0, dtype="<U1")
    values, counts = np.unique(tokens, return_counts=True)
    return values[counts >= min_frequency]


def encode_tokens(tokens, vocabulary, offset):
    """Ids of ``tokens``: ``offset + position`` in ``vocabulary``, else UNK."""
    is_text = isinstance(tokens, list)
    if len(vocabulary) and (vocabulary.dtype.kind == "U") != is_text:
        fitted = "token lists" if vocabulary.dtype.kind == "U" else "a numeric matrix"
        given = "token lists" if is_text else "a numeric matrix"
        raise ValueError(
            f"The estimator was fitted on {fitted} but X is {given}; pass the "
            "same kind of input as in fit."
        )
    if is_text:
        index = {token: i for i, token in enumerate(vocabulary.tolist(), offset)}
        return np.fromiter(
            map(index.get, tokens, itertools.repeat(UNK)),
            dtype=np.int64,
            count=len(tokens),
        )
    ids = np.full(len(tokens), UNK, dtype=np.int64)
    if len(vocabulary) == 0 or len(tokens) == 0:
        return ids
    position = np.searchsorted(vocabulary, tokens)
    position = np.minimum(position, len(vocabulary) - 1)
    known = vocabulary[position] == tokens
    ids[known] = position[known] + offset
    return ids


def pad_ids(ids, lengths, width=None, fill=PAD):
    """Lay flat ids out as right-padded rows of a 2-D int64 array."""
    width = int(lengths.max(initial=0)) if width is None else width
    out = np.full((len(lengths), width), fill, dtype=np.int64)
    mask = np.arange(width) < lengths[:, None]
    out[mask] = ids
    return out


def split_rows(flat, lengths):
    """Split a flat array into the list of its rows."""
    return np.split(flat, np.cumsum(lengths)[:-1])


def drop_zero_weight_rows(X, y, sample_weight):
    """Drop the rows of zero weight before anything is learnt from the data.

    A weight of zero means the row is absent, so its tokens must not enter
    the vocabulary (nor its tags the tag set); integer weights then match
    repeated rows exactly.
    """
    if sample_weight is None:
        return X, y, None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    keep = sample_weight > 0
    if keep.all() or not keep.any():
        return X, y, sample_weight
    keep = np.flatnonzero(keep)
    X = [X[i] for i in keep] if is_token_lists(X) else _safe_indexing(X, keep)
    if y is not None:
        y = [y[i] for i in keep] if _is_ragged(y) else _safe_indexing(y, keep)
    return X, y, sample_weight[keep]


def _is_ragged(y):
    return isinstance(y, (list, tuple)) and any(
        isinstance(row, (list, tuple, np.ndarray)) for row in y
    )


def n_rows(X):
    """Number of rows of token lists or of a matrix."""
    return len(X) if is_token_lists(X) else _num_samples(X)
