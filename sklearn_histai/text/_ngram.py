"""An n-gram language model with interpolated (modified) Kneser-Ney smoothing."""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_histai.text._lm_common import LM_PARAMETER_CONSTRAINTS, LanguageModelMixin
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._token_ids import BOS, EOS, PAD

# Below this discount an unseen continuation of a seen context would get
# almost no probability; Chen & Goodman's estimates can fall there (or be
# undefined) on tiny or degenerate data.
_MIN_DISCOUNT = 0.05


def _stream(ids, lengths, order):
    """The rows read as ``bos^(order-1) x_1 ... x_n eos``, one after the other.

    Returns the stream, the offset of each position within its row, and the
    positions of the predicted tokens (every token and the end of each row).
    """
    framed = lengths + order
    starts = np.cumsum(framed) - framed
    offsets = np.arange(framed.sum()) - np.repeat(starts, framed)
    stream = np.full(len(offsets), BOS, dtype=np.int64)
    ends = starts + framed - 1
    body = offsets >= order - 1
    body[ends] = False
    stream[body] = ids
    stream[ends] = EOS
    return stream, offsets, np.flatnonzero(offsets >= order - 1)


def _windows(ids, lengths, order):
    """The n-gram window of each predicted token, (n_predictions, order)."""
    stream, _, predicted = _stream(ids, lengths, order)
    return sliding_window_view(stream, order)[predicted - order + 1]


def _lookup(keys, values):
    """Positions of ``values`` in the sorted ``keys``; -1 where absent or negative."""
    if len(keys) == 0:
        return np.full(values.shape, -1, dtype=np.int64)
    position = np.searchsorted(keys, values)
    position = np.minimum(position, len(keys) - 1)
    found = (keys[position] == values) & (values >= 0)
    return np.where(found, position, -1)


def _build_grams(stream, offsets, order, n_ids):
    """The sorted keys of every order and the k-gram id at each stream position.

    A k-gram's key is ``prefix_id * n_ids + last_token``, where ``prefix_id``
    is the id (position in the keys of order k - 1) of its first k - 1
    tokens, so every order is one sorted int64 array. ``grams[k - 1][p]`` is
    the id of the k-gram ending at position ``p`` (-1 where it would cross
    the start of its row).
    """
    keys, grams = [], []
    for k in range(1, order + 1):
        ids = np.full(len(stream), -1, dtype=np.int64)
        if k == 1:
            unique = np.flatnonzero(np.bincount(stream))
            table = np.zeros(unique[-1] + 1, dtype=np.int64)
            table[unique] = np.arange(len(unique))
            ids = table[stream]
        else:
            at = np.flatnonzero(offsets >= k - 1)
            values = grams[-1][at - 1] * n_ids + stream[at]
            unique, ids[at] = _factorize(values)
        keys.append(unique)
        grams.append(ids)
    return keys, grams


def _factorize(values):
    """Sorted distinct values and the position of each value among them.

    One unstable argsort and a cumulative sum: several times faster than
    ``np.unique(return_inverse=True)`` on millions of int64 keys.
    """
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _gram_ids(windows, n_ids, keys):
    """Ids of the k-grams ending at each column of ``windows``, for every k.

    ``grams[k - 1]`` has the shape of ``windows``: column ``c`` holds the id
    of the k-gram that ends there, or -1 when ``c < k - 1`` or when the
    gram is not in ``keys``.
    """
    n_rows, order = windows.shape
    grams = []
    for k in range(1, order + 1):
        if k == 1:
            combined = windows
        else:
            prefix = grams[-1][:, k - 2 : order - 1]
            combined = np.where(prefix >= 0, prefix * n_ids + windows[:, k - 1 :], -1)
        ids = np.full((n_rows, order), -1, dtype=np.int64)
        ids[:, k - 1 :] = _lookup(keys[k - 1], combined)
        grams.append(ids)
    return grams


def _discounts(counts, method):
    """The discounts for counts 1, 2 and 3+ of one order (Chen & Goodman, 1998).

    A discount whose estimate needs a count of counts that is zero (tiny or
    degenerate data) falls back to the single discount ``n1 / (n1 + 2 n2)``.
    """
    if not isinstance(method, str):
        return np.full(3, float(method))
    n = np.array([np.sum(counts == i) for i in (1, 2, 3, 4)], dtype=np.float64)
    y = n[0] / (n[0] + 2 * n[1]) if n[0] > 0 else 0.5
    d = np.full(3, y)
    if method == "modified":
        for i in (1, 2, 3):
            if n[i - 1] > 0 and n[i] > 0:
                d[i - 1] = i - (i + 1) * y * n[i] / n[i - 1]
    return np.clip(d, _MIN_DISCOUNT, [1.0, 2.0, 3.0])


class NGramLanguageModel(LanguageModelMixin, DensityMixin, BaseEstimator):
    """N-gram language model with interpolated Kneser-Ney smoothing.

    The probability of each token given the ``order - 1`` tokens before it
    interpolates the discounted counts of every order down to a uniform
    distribution. The lower orders count how many distinct contexts a word
    continues (Kneser & Ney, 1995) rather than how often it occurs, and the
    discounts are the three per order (for counts 1, 2 and 3+) of Chen &
    Goodman (1998). Each row is a sequence with its own start, and its end is
    predicted too, so the model is a distribution over sequences (a density
    estimator in scikit-learn's sense): ``score_samples`` gives the
    log-likelihood of each sequence, ``score`` the mean log-likelihood per
    token, ``perplexity`` its negative exponential, ``generate`` samples.

    Counting is vectorised over all n-grams (sorted int64 keys, one array
    per order), so fitting the Penn Treebank takes seconds.

    Parameters
    ----------
    order : int, default=3
        The n of the n-grams: each token is predicted from ``order - 1``
        tokens before it.
    discount : {"modified", "single"} or float, default="modified"
        "modified" estimates three discounts per order from the counts of
        counts (Chen & Goodman, 1998), "single" one per order (the original
        interpolated Kneser-Ney), a float in (0, 1] fixes one discount for
        all orders.
    padding_value : "auto", int, float or None, default="auto"
        Right padding of matrix rows. "auto" is 0 for integer matrices (the
        padding id of ``TextTokenizer``) and no padding for float matrices
        (of whole numbers). Ignored for token lists.

    Attributes
    ----------
    vocabulary_ : ndarray
        The distinct tokens seen in ``fit``, sorted (str for token lists).
    discounts_ : ndarray of shape (order, 3)
        The discounts of counts 1, 2 and 3+ of each order (unigrams first).
    n_grams_ : ndarray of shape (order,)
        Number of distinct k-grams seen, for k = 1 to ``order``.
    n_features_in_ : int
        Number of positions of the matrix seen in ``fit`` (matrix input only).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the positions seen during ``fit``, when they are all strings.

    See Also
    --------
    LSTMLanguageModel : A neural language model.
    TextTokenizer : Turns raw text into rows of token ids.

    Notes
    -----
    Each distinct id of a matrix (or str of a token list) is a token;
    tokens not seen in ``fit`` share one unknown token, whose probability
    comes from the uniform distribution at the bottom of the interpolation.
    n-grams that begin at the start of a sequence keep their raw counts at
    the lower orders (nothing precedes the start, so there is no
    continuation to count), as in KenLM. Rows are independent sequences; to
    use context across sentences, pass long rows (e.g. documents).

    References
    ----------
    .. [1] Kneser, R. and Ney, H. (1995). "Improved backing-off for m-gram
       language modeling." ICASSP.
    .. [2] Chen, S. F. and Goodman, J. (1998). "An empirical study of
       smoothing techniques for language modeling." Technical report
       TR-10-98, Harvard University.

    Examples
    --------
    >>> from sklearn_histai.text import NGramLanguageModel
    >>> X = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]]
    >>> lm = NGramLanguageModel(order=2).fit(X)
    >>> lm.perplexity([["the", "cat", "sat"]]) < lm.perplexity([["sat", "the", "a"]])
    True
    >>> lm.generate(["the", "dog"], temperature=0)
    ['sat']
    """

    _history = ModelHistory(
        era="text",
        year=1995,
        reference="Kneser & Ney (1995); Chen & Goodman (1998)",
        peer=None,
        input="tokens",
    )
    _parameter_constraints = {
        **LM_PARAMETER_CONSTRAINTS,
        "order": [Interval(numbers.Integral, 1, None, closed="left")],
        "discount": [
            StrOptions({"modified", "single"}),
            Interval(numbers.Real, 0, 1, closed="right"),
        ],
    }

    def __init__(self, *, order=3, discount="modified", padding_value="auto"):
        self.order = order
        self.discount = discount
        self.padding_value = padding_value

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count the n-grams of ``X`` and smooth them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_positions) or list of token lists
            Token sequences: rows of a matrix of token ids (non-negative
            integers, each distinct id a token; trailing ``padding_value`` is
            padding) or a list of sequences of str.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted model.
        """
        ids, lengths, _ = self._encode(X, reset=True)
        n_ids = self._n_ids
        stream, offsets, at = _stream(ids, lengths, self.order)
        keys, grams = _build_grams(stream, offsets, self.order, n_ids)
        predicted = [g[at] for g in grams]
        del grams
        # The uniform distribution at the bottom covers every token that can
        # be predicted: the vocabulary, the unknown token and the end.
        n_outcomes = n_ids - 2
        log_probs, log_backoffs, discounts = [], [], []
        lower = None
        for k in range(1, self.order + 1):
            n_keys = len(keys[k - 1])
            raw = np.bincount(predicted[k - 1], minlength=n_keys)
            if k == self.order:
                counts = raw
            else:
                # Continuation counts: the distinct (k+1)-grams each k-gram
                # ends; one occurrence of each (any) gives its suffix.
                occurrence = np.full(len(keys[k]), -1, dtype=np.int64)
                occurrence[predicted[k]] = np.arange(len(predicted[k]))
                occurrence = occurrence[occurrence >= 0]
                counts = np.bincount(predicted[k - 1][occurrence], minlength=n_keys)
                starts = self._first_tokens(keys, k, n_ids) == BOS
                counts = np.where(starts, raw, counts)
            d = _discounts(counts[counts > 0], self.discount)
            discounts.append(d)
            context = keys[k - 1] // n_ids if k > 1 else np.zeros(n_keys, np.int64)
            n_contexts = len(keys[k - 2]) if k > 1 else 1
            seen = counts > 0
            discount = np.where(seen, d[np.minimum(counts, 3) - 1], 0.0)
            totals = np.bincount(context, weights=counts, minlength=n_contexts)
            mass = np.bincount(context, weights=discount, minlength=n_contexts)
            with np.errstate(divide="ignore", invalid="ignore"):
                gamma = np.where(totals > 0, mass / totals, 1.0)
                prob = np.where(seen, (counts - discount) / totals[context], 0.0)
            if k == 1:
                prob = prob + gamma[0] / n_outcomes
            else:
                suffix = np.zeros(n_keys, dtype=np.int64)
                suffix[predicted[k - 1]] = predicted[k - 2]
                prob = prob + gamma[context] * np.exp(lower)[suffix]
            with np.errstate(divide="ignore"):
                lower = np.where(seen, np.log(prob), -np.inf)
            log_probs.append(lower)
            log_backoffs.append(np.log(gamma))
        self._keys_ = keys
        self._log_probs_ = log_probs
        # The backoff weight of a context of length m is stored with the
        # m-grams (index m - 1); the empty context's with the unigrams' level.
        self._log_backoffs_ = log_backoffs
        self._log_uniform_ = -np.log(n_outcomes)
        self.discounts_ = np.array(discounts)
        self.n_grams_ = np.array([np.sum(np.isfinite(p)) for p in log_probs])
        return self

    @staticmethod
    def _first_tokens(keys, k, n_ids):
        """The first token of each k-gram key."""
        index = np.arange(len(keys[k - 1]))
        for level in range(k, 1, -1):
            index = keys[level - 1][index] // n_ids
        return keys[0][index]

    def _window_log_probs(self, windows):
        """Log-probability of the last token of each window given the others."""
        n_ids = self._n_ids
        grams = _gram_ids(windows, n_ids, self._keys_)
        order = windows.shape[1]
        result = np.zeros(len(windows))
        done = np.zeros(len(windows), dtype=bool)
        for m in range(order - 1, -1, -1):
            # The (m+1)-gram: a context of length m and the predicted token.
            gram = grams[m][:, -1]
            log_prob = np.where(
                gram >= 0, self._log_probs_[m][np.maximum(gram, 0)], -np.inf
            )
            hit = ~done & np.isfinite(log_prob)
            result[hit] += log_prob[hit]
            done |= hit
            if m == 0:
                backoff = np.full(len(windows), self._log_backoffs_[0][0])
            else:
                context = grams[m - 1][:, -2]
                backoff = np.where(
                    context >= 0, self._log_backoffs_[m][np.maximum(context, 0)], 0.0
                )
            result[~done] += backoff[~done]
        result[~done] += self._log_uniform_
        return result

    def _sequence_log_likelihoods(self, ids, lengths):
        windows = _windows(ids, lengths, self.order)
        log_probs = self._window_log_probs(windows)
        rows = np.repeat(np.arange(len(lengths)), lengths + 1)
        return np.bincount(rows, weights=log_probs, minlength=len(lengths))

    def _next_log_probs(self, context, state):
        check_is_fitted(self)
        n_ids = self._n_ids
        width = self.order - 1
        padded = [BOS] * width + list(context)
        windows = np.empty((n_ids, self.order), dtype=np.int64)
        windows[:, :width] = padded[len(padded) - width :]
        windows[:, -1] = np.arange(n_ids)
        log_probs = self._window_log_probs(windows)
        log_probs[[PAD, BOS]] = -np.inf
        return log_probs, None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        # Matrix values are token ids (non-negative integers).
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags
