"""Tests of the sequence-labelling metrics and scorers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from sklearn_histai.text import (
    SequenceTagger,
    entity_f1_score,
    entity_f1_scorer,
    entity_precision_recall_fscore_support,
    entity_precision_score,
    entity_recall_score,
    extract_entities,
    token_accuracy_score,
    token_accuracy_scorer,
)

# The example of seqeval's README: one MISC entity has a wrong start.
SEQEVAL_TRUE = [
    ["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"],
    ["B-PER", "I-PER", "O"],
]
SEQEVAL_PRED = [
    ["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"],
    ["B-PER", "I-PER", "O"],
]


def test_token_accuracy_score_counts_tokens_and_weighs_sentences():
    """Check that token accuracy pools tokens, each with its sentence's weight."""
    y_true = [["A", "B", "C"], ["A"]]
    y_pred = [["A", "B", "A"], ["B"]]
    assert_allclose(token_accuracy_score(y_true, y_pred), 2 / 4)
    assert_allclose(token_accuracy_score(y_true, y_pred, sample_weight=[1, 3]), 2 / 6)
    assert_allclose(
        token_accuracy_score(np.array([1, 2, 3]), np.array([1, 2, 0])), 2 / 3
    )
    assert_allclose(token_accuracy_score(np.eye(3), np.ones((3, 3))), 3 / 9)


@pytest.mark.parametrize(
    "y_pred, message",
    [([["A"]], "2 sequences|has 1"), ([["A", "B"], ["A", "B"]], "1 true tags")],
)
def test_token_accuracy_score_rejects_misaligned_sequences(y_pred, message):
    """Check that sequences of different counts or lengths are an error."""
    with pytest.raises(ValueError, match=message):
        token_accuracy_score([["A", "B"], ["A"]], y_pred)


def test_entity_scores_follow_seqeval_on_its_readme_example():
    """Check the figures of seqeval's README example (precision = recall = F1 = 0.5)."""
    assert_allclose(entity_precision_score(SEQEVAL_TRUE, SEQEVAL_PRED), 0.5)
    assert_allclose(entity_recall_score(SEQEVAL_TRUE, SEQEVAL_PRED), 0.5)
    assert_allclose(entity_f1_score(SEQEVAL_TRUE, SEQEVAL_PRED), 0.5)
    p, r, f, support, types = entity_precision_recall_fscore_support(
        SEQEVAL_TRUE, SEQEVAL_PRED, average=None
    )
    assert types.tolist() == ["MISC", "PER"]
    assert_allclose(p, [0.0, 1.0])
    assert_allclose(r, [0.0, 1.0])
    assert_allclose(f, [0.0, 1.0])
    assert support.tolist() == [1, 1]
    macro = entity_precision_recall_fscore_support(
        SEQEVAL_TRUE, SEQEVAL_PRED, average="macro"
    )
    assert_allclose(macro[:3], [0.5, 0.5, 0.5])


@pytest.mark.parametrize(
    "tags, expected",
    [
        (["B-PER", "I-PER", "O", "I-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),
        (["I-PER", "I-PER", "B-PER"], [("PER", 0, 1), ("PER", 2, 2)]),
        (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 2)]),
        (
            ["S-PER", "B-LOC", "I-LOC", "E-LOC", "E-LOC"],
            [("PER", 0, 0), ("LOC", 1, 3), ("LOC", 4, 4)],
        ),
        (["O", "O"], []),
    ],
)
def test_extract_entities_follows_conlleval_chunking(tags, expected):
    """Check the lenient chunking of conlleval (seqeval's default mode)."""
    assert extract_entities(tags) == expected


@pytest.mark.parametrize(
    "tags, scheme, expected",
    [
        (["B-PER", "I-PER", "O", "I-LOC"], "BIO", [("PER", 0, 1)]),
        (["B-PER", "I-LOC"], "BIO", [("PER", 0, 0)]),
        (["S-PER", "B-LOC", "I-LOC", "E-LOC"], "BIOES", [("PER", 0, 0), ("LOC", 1, 3)]),
        (["B-LOC", "I-LOC", "O"], "BIOES", []),
        (["I-LOC", "E-LOC"], "BIOES", []),
    ],
)
def test_extract_entities_strict_keeps_only_well_formed_entities(
    tags, scheme, expected
):
    """Check seqeval's strict mode: ill-formed chunks are no entities."""
    assert extract_entities(tags, scheme=scheme, strict=True) == expected


def test_extract_entities_strict_rejects_tags_outside_the_scheme():
    """Check that E- or S- tags are an error in the strict BIO scheme."""
    with pytest.raises(ValueError, match="BIO scheme"):
        extract_entities(["S-PER"], scheme="BIO", strict=True)
    with pytest.raises(ValueError, match="scheme must be"):
        extract_entities(["B-PER"], scheme="IOB2")


def test_entity_scores_without_entities_are_zero():
    """Check that precision and recall are 0 (not NaN) when nothing is predicted."""
    p, r, f, support, _ = entity_precision_recall_fscore_support([["B-X"]], [["O"]])
    assert (p, r, f, support) == (0.0, 0.0, 0.0, 1)
    assert entity_f1_score([["O"]], [["O"]], average="macro") == 0.0


def test_scorers_drive_a_grid_search_of_the_tagger():
    """Check that the scorers rank tagger settings in GridSearchCV."""
    rng = np.random.RandomState(0)
    names = ["ann", "bob", "eve"]
    X, y = [], []
    for _ in range(24):
        words = ["hello", str(rng.choice(names)), "and", str(rng.choice(names))]
        X.append(words)
        y.append(["O", "B-PER", "O", "B-PER"])
    search = GridSearchCV(
        SequenceTagger(
            embedding_dim=8,
            hidden_size=8,
            max_iter=20,
            learning_rate=0.02,
            char_features=False,
            random_state=0,
        ),
        {"crf": [False, True]},
        scoring={"f1": entity_f1_scorer, "accuracy": token_accuracy_scorer},
        refit="f1",
        cv=2,
    )
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_f1"]))
    assert search.best_score_ > 0.9
