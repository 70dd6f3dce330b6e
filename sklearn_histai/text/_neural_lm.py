"""What the neural language models share: input rows, loss, scores, tags."""

from abc import abstractmethod

import numpy as np
import torch
from sklearn.base import DensityMixin, _fit_context

from sklearn_histai._torch._estimator import BaseNeuralEstimator
from sklearn_histai.nn import SequenceNLL
from sklearn_histai.text._lm_common import LanguageModelMixin, framed_rows
from sklearn_histai.text._sequences import drop_zero_weight_rows
from sklearn_histai.utils._token_ids import BOS, PAD


class BaseNeuralLanguageModel(LanguageModelMixin, DensityMixin, BaseNeuralEstimator):
    """A network that scores each next token of rows ``[bos, x..., eos, pad...]``.

    Subclasses have the parameters ``tie_weights`` and ``softmax`` and
    build the network (its ``forward`` returns the
    log-probability of each target token, zero at padding, as
    :class:`~sklearn_histai.nn.LSTMLanguageNet` does) and implement
    ``_next_log_probs(context, state)`` for generation.
    """

    # Rows per forward pass at prediction: each holds a window of
    # (steps, vocabulary) log-probabilities.
    _predict_chunk_size = 64

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the network on the sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_positions) or list of token lists
            Token sequences: rows of a matrix of token ids (non-negative
            integers, each distinct id a token; trailing ``padding_value`` is
            padding) or a list of sequences of str.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sequences in the loss.

        Returns
        -------
        self : object
            The fitted model.
        """
        X, _, sample_weight = drop_zero_weight_rows(X, None, sample_weight)
        return self._fit(X, None, sample_weight)

    def _check_params(self):
        if self.tie_weights and self.softmax == "adaptive":
            raise ValueError(
                'tie_weights=True needs softmax="full": the adaptive softmax '
                "has no single output matrix to share."
            )

    def _validate_input(self, X, *, reset, y="no_validation"):
        ids, lengths, dtype = self._encode(X, reset=reset)
        width = None if dtype is None else self.n_features_in_ + 2
        rows = framed_rows(ids, lengths, width)
        if reset:
            self._mean_steps_ = float(lengths.mean()) + 1
            counts = np.bincount(rows.ravel(), minlength=self._n_ids)
            counts[[PAD, BOS]] = 0
            self._token_counts_ = counts
        if dtype == np.float64:
            # Float64 matrices train in float64 on the CPU, like the other
            # neural estimators: the base reads the precision from the dtype.
            rows = rows.astype(np.float64)
        if isinstance(y, str) and y == "no_validation":
            return rows
        return rows, rows

    def _input_kind(self):
        return "tokens"

    def _input_padding(self):
        return PAD

    def _encode_targets(self, y, sample_weight):
        return y.astype(np.int64)

    def _criterion(self):
        return SequenceNLL

    @staticmethod
    def _validation_score(outputs, targets, weights):
        n_tokens = (targets[:, 1:] != PAD).sum(axis=1)
        return float(np.sum(outputs.sum(axis=1) * weights) / np.sum(n_tokens * weights))

    def _sequence_log_likelihoods(self, ids, lengths):
        width = None if not hasattr(self, "n_features_in_") else self.n_features_in_ + 2
        # In float64: a sequence's log-likelihood sums those of its tokens,
        # and it must not depend on the other sequences scored with it.
        rows = framed_rows(ids, lengths, width)
        return self._forward(rows, dtype=torch.float64).sum(axis=1)

    @abstractmethod
    def _next_log_probs(self, context, state):
        """Log-probabilities (float64 array) of the id after ``context``, new state."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Matrix values are token ids (non-negative integers).
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags
