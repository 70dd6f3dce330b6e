"""The special token ids every text model shares, and the check of id input."""

import numpy as np

# TextTokenizer pads rows with PAD and maps unknown tokens to UNK; the
# language models frame each sequence with BOS and EOS.
PAD = 0
UNK = 1
BOS = 2
EOS = 3


def check_token_ids(X, *, vocab_size=None, input_name="X"):
    """Return numeric ``X`` as int64 token ids, or raise naming the problem.

    Parameters
    ----------
    X : ndarray
        Validated numeric input.
    vocab_size : int or None, default=None
        Ids must be below it, when given.
    input_name : str, default="X"
        The name of the input in error messages.

    Returns
    -------
    ids : ndarray of dtype int64
    """
    X = np.asarray(X)
    if not X.size:
        return X.astype(np.int64)
    if X.dtype.kind == "f" and not np.all(X == np.floor(X)):
        raise ValueError(f"{input_name} must hold integer token ids; got {X.dtype}.")
    low, high = X.min(), X.max()
    if low < 0 or (vocab_size is not None and high >= vocab_size):
        bound = "" if vocab_size is None else f", vocab_size={vocab_size}"
        raise ValueError(
            f"{input_name} must hold token ids in [0{bound}); got values in "
            f"[{low}, {high}]."
        )
    return X.astype(np.int64)
