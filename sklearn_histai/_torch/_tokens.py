"""Token-id input of the networks with an embedding layer: padding, ids, embeddings."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

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


class TokenInputMixin:
    """Token-id input for estimators with ``vocab_size``, ``padding_value``, ...

    With ``vocab_size`` None the estimator reads float rows as before.
    """

    def _check_input(self, X, *, reset):
        if self.vocab_size is None:
            return X
        return self._check_token_ids(X, reset=reset)

    def _input_kind(self):
        return "tabular" if self.vocab_size is None else "tokens"

    def _input_padding(self):
        return None if self.vocab_size is None else self._token_padding()

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
        ids = check_token_ids(X, vocab_size=self.vocab_size)
        if reset:
            if self.embeddings is not None:
                self._n_embeddings_ = self.vocab_size
            else:
                largest = int(ids.max(initial=PAD))
                self._n_embeddings_ = min(self.vocab_size, largest + 2)
        return np.minimum(ids, self._n_embeddings_ - 1)

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
