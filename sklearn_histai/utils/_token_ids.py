"""The special token ids every text model shares, and the check of token-id input.

Token ids are non-negative integers. Four of them are reserved:

- ``PAD`` (0) fills the end of a row shorter than the others;
  :class:`~sklearn_histai.text.TextTokenizer` right-pads its rows with it and
  the models mask it.
- ``UNK`` (1) stands for every token outside the vocabulary;
  ``TextTokenizer`` maps unknown tokens to it.
- ``BOS`` (2) and ``EOS`` (3) start and end a sequence in the internal
  encoding of the language models: each row is read from ``BOS`` and its
  ``EOS`` is predicted after its last token. ``TextTokenizer`` has no such
  symbols: its vocabulary ids start at 2.
"""

import numpy as np

PAD = 0
UNK = 1
BOS = 2
EOS = 3

# Ids an int64 can hold; a float or unsigned id beyond it is not an id.
_ID_LIMIT = 2**63


def check_token_ids(X, *, vocab_size=None, input_name="X"):
    """Return numeric token-id input as int64, or raise naming the bad value.

    Parameters
    ----------
    X : ndarray
        Numeric input already validated for shape and finiteness (e.g. by
        ``validate_data``), of any integer, boolean or float dtype; floats
        must hold whole numbers.
    vocab_size : int or None, default=None
        When given, every id must be below it.
    input_name : str, default="X"
        The name of the input in the error messages.

    Returns
    -------
    ids : ndarray of dtype int64
        ``X`` as int64 ids, of the same shape: always a new array, which
        the caller may change in place.

    Raises
    ------
    ValueError
        If ``X`` holds a non-integer value, a negative id, or an id not below
        ``vocab_size``.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{input_name} must hold integer token ids; got an array of dtype "
            f"{X.dtype}."
        )
    if X.size == 0:
        return X.astype(np.int64)
    if X.dtype.kind == "f":
        whole = np.isfinite(X) & (X == np.floor(X))
        if not whole.all():
            value = X[~whole][0].item()
            raise ValueError(
                f"{input_name} must hold non-negative integer token ids; found the "
                f"non-integer value {value}."
            )
    low, high = X.min().item(), X.max().item()
    within = "" if vocab_size is None else f" in [0, vocab_size={vocab_size})"
    if low < 0:
        # The opening words are scikit-learn's for negative input.
        raise ValueError(
            f"Negative values in data passed as {input_name}: it must hold "
            f"non-negative token ids{within}; found the id {low}."
        )
    if vocab_size is not None and high >= vocab_size:
        raise ValueError(
            f"{input_name} must hold token ids{within}; found the id {high}."
        )
    if high >= _ID_LIMIT:
        raise ValueError(
            f"{input_name} must hold token ids that fit in int64; found the id {high}."
        )
    return X.astype(np.int64)
