"""Check the shared pieces of the neural classifiers and regressors."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, r2_score

from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
    BaseNeuralRegressor,
    weighted_r2,
)


@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_r2_is_r2_score(n_targets, weighted):
    """Check that the validation R² is scikit-learn's, constant targets included."""
    rng = np.random.RandomState(0)
    targets = rng.normal(size=(30, n_targets))
    outputs = targets + rng.normal(scale=0.5, size=targets.shape)
    if n_targets == 3:
        targets[:, 1] = 2.0  # constant, predicted wrongly: 0
        outputs[:, 2] = targets[:, 2]  # predicted exactly: 1
    weights = rng.uniform(0.5, 2, size=30) if weighted else np.ones(30)
    expected = r2_score(targets, outputs, sample_weight=weights)
    assert weighted_r2(targets, outputs, weights) == pytest.approx(expected)
    assert BaseNeuralRegressor._validation_score(
        outputs, targets, weights
    ) == pytest.approx(expected)


def test_weighted_r2_of_one_row_is_nan():
    """Check that one validation row has no R², as r2_score says."""
    assert np.isnan(weighted_r2(np.ones(1), np.zeros(1), np.ones(1)))


@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_validation_score_is_accuracy_score(weighted):
    """Check that the validation accuracy is scikit-learn's, weighted or not."""
    rng = np.random.RandomState(0)
    outputs = rng.normal(size=(50, 4))
    targets = rng.randint(4, size=50)
    weights = rng.uniform(0.5, 2, size=50) if weighted else np.ones(50)
    expected = accuracy_score(targets, outputs.argmax(axis=1), sample_weight=weights)
    score = BaseNeuralClassifier._validation_score(outputs, targets, weights)
    assert score == pytest.approx(expected)
