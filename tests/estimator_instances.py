"""Test helpers: the instances of the shared checks, and a guard on fitted state."""

from contextlib import contextmanager

from sklearn.base import clone

from sklearn_histai.neural_network import FeedForwardClassifier

# Constructor parameters that make the project's own common tests (beyond
# scikit-learn's checks, which run on the defaults) faster. They may change
# speed-related settings (sizes, epochs) and nothing else.
FAST_PARAMS = {
    "LSTMLanguageModel": {"embedding_dim": 16, "hidden_size": 16, "max_iter": 20},
    "TransformerLanguageModel": {"d_model": 16, "max_iter": 20},
}

# Parameters for a single check, each with the reason scikit-learn itself
# gives for the same setting (see ``PER_ESTIMATOR_CHECK_PARAMS`` in
# ``sklearn/utils/_test_common/instance_generator.py``).
# Maps estimator name -> check name -> (params, reason).
FULL_BATCH = (
    {"batch_size": 100_000, "optimizer": "sgd"},
    "Weighted and repeated samples give the same gradient only when each step "
    "sees the whole data set, and Adam's per-parameter normalisation magnifies "
    "the rounding differences of near-zero gradients beyond the check's 1e-7 "
    "tolerance; scikit-learn likewise trains MLPClassifier with full-batch "
    "lbfgs and MLPRegressor with solver='sgd' for this check.",
)
PER_CHECK_PARAMS = {
    name: {"check_sample_weight_equivalence_on_dense_data": FULL_BATCH}
    for name in [
        "AutoencoderTransformer",
        "CNNClassifier",
        "CNNRegressor",
        "EmbeddingBagClassifier",
        "FeedForwardClassifier",
        "FeedForwardRegressor",
        "LSTMClassifier",
        "LSTMRegressor",
        "RNNClassifier",
        "RNNRegressor",
        "SequenceTagger",
        "TransformerEncoderClassifier",
        "TransformerEncoderRegressor",
    ]
}
# DistilledClassifier's default student is a FeedForwardClassifier: the
# same full-batch training, for the same reason, given to its student.
PER_CHECK_PARAMS["DistilledClassifier"] = {
    "check_sample_weight_equivalence_on_dense_data": (
        {"student": FeedForwardClassifier(**FULL_BATCH[0])},
        FULL_BATCH[1],
    )
}
# Word2Vec reads X as token ids and skips ids 0 and 1 (TextTokenizer's
# padding and out-of-vocabulary ids) by default.
_NO_IGNORED_IDS = (
    {"ignored_ids": ()},
    "These checks round small uniform values into token ids, so X holds only "
    "ids 0 and 1, which Word2Vec skips by default as TextTokenizer's padding "
    "and out-of-vocabulary ids; with no id ignored they are words to learn.",
)
PER_CHECK_PARAMS["Word2Vec"] = {
    check: _NO_IGNORED_IDS
    for check in [
        "check_dtype_object",
        "check_estimators_nan_inf",
        "check_estimators_pickle",
        "check_fit_score_takes_y",
        "check_pipeline_consistency",
    ]
}


def make_fast_instance(estimator_class):
    """Build an instance of ``estimator_class`` with the fast test settings."""
    return estimator_class(**FAST_PARAMS.get(estimator_class.__name__, {}))


def check_name(check):
    """Return the name of a check yielded by ``parametrize_with_checks``."""
    return getattr(check, "func", check).__name__


def instance_for_check(estimator, check):
    """Return ``estimator``, or a clone with the per-check parameters of ``check``."""
    params = PER_CHECK_PARAMS.get(type(estimator).__name__, {}).get(check_name(check))
    if params is None:
        return estimator
    return clone(estimator).set_params(**params[0])


@contextmanager
def assert_state_unchanged(estimator):
    """Assert that the code run in the context leaves ``estimator`` as it was.

    Every attribute must still be there and be the very same object, e.g.
    after a ``fit`` that raised; none may be added.

    Parameters
    ----------
    estimator : object
        The estimator whose attributes are watched.

    Yields
    ------
    None
    """
    state = dict(vars(estimator))
    yield
    assert vars(estimator).keys() == state.keys(), (
        f"attributes added or removed: {set(vars(estimator)) ^ set(state)}"
    )
    changed = [name for name in state if vars(estimator)[name] is not state[name]]
    assert not changed, f"attributes replaced: {changed}"
