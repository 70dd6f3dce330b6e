"""What the language models share: input encoding, scores, perplexity, sampling."""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_histai.text._sequences import (
    build_vocabulary,
    check_token_lists,
    encode_tokens,
    is_token_lists,
    matrix_lengths,
    matrix_tokens,
    pad_ids,
    reject_documents,
    resolve_padding,
)
from sklearn_histai.utils._token_ids import BOS, EOS, PAD, UNK, check_token_ids

# The ids of the vocabulary start after the special ids. The start symbol is
# context only; the end symbol is predicted after the last token of every
# row, so a row's probability includes its ending.
FIRST_TOKEN = EOS + 1


def framed_rows(ids, lengths, width=None):
    """Rows ``[bos, x_1, ..., x_n, eos, pad, ...]`` of a 2-D int64 array."""
    framed_lengths = lengths + 2
    width = int(framed_lengths.max(initial=2)) if width is None else width
    starts = np.cumsum(framed_lengths) - framed_lengths
    framed = np.empty(framed_lengths.sum(), dtype=np.int64)
    framed[starts] = BOS
    framed[starts + framed_lengths - 1] = EOS
    body = np.ones(len(framed), dtype=bool)
    body[starts] = False
    body[starts + framed_lengths - 1] = False
    framed[body] = ids
    return pad_ids(framed, framed_lengths, width=width)


def adaptive_clusters(counts):
    """Cutoffs of an adaptive softmax at 80% and 95% coverage, and the id ranking."""
    order = np.argsort(-counts, kind="stable")
    coverage = np.cumsum(counts[order]) / max(counts.sum(), 1)
    cutoffs = sorted({int(np.searchsorted(coverage, q)) + 1 for q in (0.8, 0.95)})
    cutoffs = [c for c in cutoffs if 0 < c < len(counts)] or [len(counts) - 1]
    return cutoffs, order


class LanguageModelMixin:
    """Encoding, scoring and generation shared by the language models.

    A subclass implements ``_sequence_log_likelihoods(ids, lengths)`` (one
    log-likelihood per row, natural logarithm, ``eos`` included) and
    ``_next_log_probs(context)`` (the log-probabilities of every id after a
    context of ids).
    """

    def _encode(self, X, *, reset):
        """Validate ``X``; return the flat token ids, the row lengths and the dtype.

        With ``reset``, the vocabulary is learnt first. The dtype is that of
        the validated matrix, or None for token lists. The values of a matrix
        are token ids: non-negative integers (other non-negative numbers are
        read as categories, with a warning).
        """
        fitted_on_lists = not reset and self.vocabulary_.dtype.kind == "U"
        if is_token_lists(X, if_empty=fitted_on_lists):
            tokens, lengths = check_token_lists(X)
            dtype = None
            if reset:
                for attribute in ("n_features_in_", "feature_names_in_"):
                    if hasattr(self, attribute):
                        delattr(self, attribute)
        else:
            reject_documents(X)
            if fitted_on_lists:
                raise ValueError(
                    "The estimator was fitted on token lists but X is a numeric "
                    "matrix; pass the same kind of input as in fit."
                )
            X = validate_data(self, X, reset=reset, dtype="numeric")
            if reset:
                self._padding_ = resolve_padding(self.padding_value, X)
            lengths = matrix_lengths(X, self._padding_)
            tokens = _matrix_token_ids(matrix_tokens(X, lengths))
            dtype = X.dtype
        if reset:
            self.vocabulary_ = build_vocabulary(tokens)
        return encode_tokens(tokens, self.vocabulary_, FIRST_TOKEN), lengths, dtype

    @property
    def _n_ids(self):
        return len(self.vocabulary_) + FIRST_TOKEN

    def score_samples(self, X):
        """Log-likelihood of each sequence (natural logarithm).

        The probability of a sequence includes that of its end, so it is a
        proper distribution over sequences of any length.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_positions) or list of token lists
            Token sequences, in the form given to ``fit``.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            ``log p(x_1, ..., x_n, end)`` of each row.
        """
        check_is_fitted(self)
        ids, lengths, _ = self._encode(X, reset=False)
        return self._sequence_log_likelihoods(ids, lengths)

    def score(self, X, y=None):
        """Mean log-likelihood per token (the end of each sequence counts as one).

        Higher is better, so ``GridSearchCV`` can tune the model with it; its
        negative exponential is the perplexity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_positions) or list of token lists
            Token sequences, in the form given to ``fit``.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Total log-likelihood divided by the number of predicted tokens.
        """
        check_is_fitted(self)
        ids, lengths, _ = self._encode(X, reset=False)
        total = self._sequence_log_likelihoods(ids, lengths).sum()
        return float(total / (lengths.sum() + len(lengths)))

    def perplexity(self, X):
        """Perplexity per token, ``exp(-score(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_positions) or list of token lists
            Token sequences, in the form given to ``fit``.

        Returns
        -------
        perplexity : float
            The exponential of the mean negative log-likelihood per token.
        """
        return float(np.exp(-self.score(X)))

    def _decode(self, ids):
        values = self.vocabulary_[np.asarray(ids, dtype=np.int64) - FIRST_TOKEN]
        return values.tolist() if self.vocabulary_.dtype.kind == "U" else values

    def _prompt_ids(self, prompt):
        if prompt is None:
            return np.empty(0, dtype=np.int64)
        if isinstance(prompt, str):
            raise TypeError(
                "prompt must be a sequence of tokens like a row of X, not a str; "
                "split it into tokens first."
            )
        if self.vocabulary_.dtype.kind == "U":
            tokens, _ = check_token_lists([list(prompt)], name="prompt")
        else:
            tokens = check_token_ids(np.ravel(prompt), input_name="prompt")
        return encode_tokens(tokens, self.vocabulary_, FIRST_TOKEN)

    @validate_params(
        {
            "prompt": ["array-like", None],
            "max_tokens": [Interval(numbers.Integral, 1, None, closed="left")],
            "temperature": [Interval(numbers.Real, 0, None, closed="left")],
            "top_k": [Interval(numbers.Integral, 1, None, closed="left"), None],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def generate(
        self, prompt=None, max_tokens=20, temperature=1.0, top_k=None, random_state=None
    ):
        """Sample a continuation of ``prompt``, one token at a time.

        Parameters
        ----------
        prompt : sequence of tokens or None, default=None
            The start, like a row of ``X`` (without padding); None starts a
            new sequence. Unseen tokens are read as the unknown token.
        max_tokens : int, default=20
            Most tokens to generate; generation also stops at the end of
            a sequence.
        temperature : float, default=1.0
            Divides the log-probabilities before sampling: below 1 sharpens
            the distribution, above 1 flattens it; 0 always takes the most
            probable token (greedy decoding).
        top_k : int or None, default=None
            Sample among the ``top_k`` most probable tokens only.
        random_state : int, RandomState instance or None, default=None
            Seeds the sampling.

        Returns
        -------
        tokens : list of str or ndarray
            The generated tokens (not the prompt): a list of str for a model
            fitted on token lists, else an array of the matrix's values.
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        context = [BOS, *self._prompt_ids(prompt).tolist()]
        generated = []
        state = None
        for _ in range(max_tokens):
            log_probs, state = self._next_log_probs(context, state)
            # Unknown, padding and start have no token to return.
            log_probs = np.array(log_probs, dtype=np.float64)
            log_probs[[PAD, UNK, BOS]] = -np.inf
            token = _sample(log_probs, temperature, top_k, rng)
            if token == EOS:
                break
            generated.append(token)
            context.append(token)
        return self._decode(generated)


def _sample(log_probs, temperature, top_k, rng):
    if temperature == 0:
        return int(np.argmax(log_probs))
    scores = log_probs / temperature
    if top_k is not None and top_k < np.isfinite(scores).sum():
        threshold = np.partition(scores, -top_k)[-top_k]
        scores = np.where(scores >= threshold, scores, -np.inf)
    scores = scores - scores.max()
    probs = np.exp(scores)
    probs /= probs.sum()
    return int(rng.choice(len(probs), p=probs))


LM_PARAMETER_CONSTRAINTS = {
    "padding_value": [StrOptions({"auto"}), numbers.Real, None],
}


def _matrix_token_ids(values):
    """The token values of a matrix, checked: negative ids are refused.

    Non-integer values (say 1.4) are not ids; each distinct one is read as
    a token of its own, as categorical codes are, with a warning that names
    the value, since they usually mean that another kind of matrix was
    passed by mistake.
    """
    whole = np.floor(values) if values.dtype.kind == "f" else values
    ids = check_token_ids(whole)
    if whole is values or np.array_equal(whole, values):
        return ids
    value = values[whole != values][0].item()
    warnings.warn(
        f"X holds the non-integer value {value}, which is not a token id; each "
        "distinct value is read as a token. Pass integer token ids (e.g. from "
        "TextTokenizer) or token lists.",
        UserWarning,
        stacklevel=4,
    )
    return values
