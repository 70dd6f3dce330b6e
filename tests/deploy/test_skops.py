"""Safe persistence: every estimator saves and loads with ``skops.io``.

A saved model must name no untrusted type but this package's own: networks
are stored as numpy arrays and plain containers, not as pickled torch or
skorch objects, so a user can audit a model shared by someone else and load
it without running arbitrary code.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    _enforce_estimator_tags_X,
    _enforce_estimator_tags_y,
)

from sklearn_histai.neural_network import FeedForwardClassifier, LSTMClassifier
from sklearn_histai.utils import all_estimators

from estimator_instances import PER_CHECK_PARAMS, make_fast_instance
from text_estimator_cases import TEXT_ESTIMATORS, text_corpus

sio = pytest.importorskip("skops.io")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

METHODS = (
    "predict",
    "predict_proba",
    "decision_function",
    "transform",
    "score_samples",
)


def _fitted(estimator_class):
    """A fitted instance on the data of scikit-learn's pickling check."""
    estimator = make_fast_instance(estimator_class)
    # The data is that of scikit-learn's pickling check, and so are the
    # parameters it needs (each with its reason in estimator_instances).
    per_check = PER_CHECK_PARAMS.get(estimator_class.__name__, {})
    estimator.set_params(**per_check.get("check_estimators_pickle", ({},))[0])
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=0)
    X, y = make_blobs(
        n_samples=30,
        centers=[[0, 0, 0], [1, 1, 1]],
        random_state=0,
        n_features=2,
        cluster_std=0.1,
    )
    X = _enforce_estimator_tags_X(estimator, X)
    y = _enforce_estimator_tags_y(estimator, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y if get_tags(estimator).target_tags.required else None)
    return estimator, X


def _outputs(estimator, X):
    return {
        name: getattr(estimator, name)(X)
        for name in METHODS
        if hasattr(estimator, name)
    }


def _round_trip(estimator):
    """Save with skops, check the untrusted types, and load."""
    data = sio.dumps(estimator)
    untrusted = sio.get_untrusted_types(data=data)
    foreign = [name for name in untrusted if not name.startswith("sklearn_histai.")]
    assert not foreign, f"untrusted types not of this package: {foreign}"
    return sio.loads(data, trusted=untrusted)


def _takes_strings(estimator_class):
    return get_tags(estimator_class()).input_tags.string


# The estimators on numbers; those on raw text are saved below, as the common
# text test builds them (each of them is one of the text cases, or a step of one).
NUMERIC = [cls for _, cls in all_estimators() if not _takes_strings(cls)]


@pytest.mark.parametrize("estimator_class", NUMERIC, ids=lambda c: c.__name__)
def test_every_estimator_round_trips_through_skops(estimator_class):
    """Check that a fitted estimator saves with only the package's types untrusted."""
    estimator, X = _fitted(estimator_class)
    expected = _outputs(estimator, X)
    loaded = _round_trip(estimator)
    assert type(loaded) is estimator_class
    assert loaded.get_params() == estimator.get_params()
    for name, values in _outputs(loaded, X).items():
        assert_allclose(values, expected[name], err_msg=name)


def test_the_string_input_estimators_are_all_text_cases():
    """Check that every estimator left out above is saved by the text test below."""
    string_input = {name for name, cls in all_estimators() if _takes_strings(cls)}
    cases = {name.split("(")[0] for name in TEXT_ESTIMATORS}
    assert string_input <= cases


@pytest.mark.parametrize("name", sorted(TEXT_ESTIMATORS))
def test_every_text_estimator_round_trips_through_skops(name):
    """Check that each raw-text estimator or pipeline saves with trusted types only."""
    case = TEXT_ESTIMATORS[name]
    X, y = text_corpus()
    estimator = case.make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y if case.supervised else None)
    loaded = _round_trip(estimator)
    expected = _outputs(estimator, X)
    assert expected
    for method, values in _outputs(loaded, X).items():
        values, reference = np.asarray(values), np.asarray(expected[method])
        if values.dtype.kind in "fc":
            assert_allclose(values, reference, err_msg=method)
        else:
            assert_array_equal(values, reference, err_msg=method)


def test_an_unfitted_estimator_round_trips_through_skops():
    """Check that an unfitted network saves, loads and then fits."""
    loaded = _round_trip(FeedForwardClassifier(hidden_layer_sizes=(4,)))
    assert not hasattr(loaded, "net_")
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    assert loaded.set_params(max_iter=2).fit(X, y).predict(X).shape == (20,)


def test_a_loaded_network_trains_on_as_the_original():
    """Check that a warm start of the loaded model repeats the original's."""
    X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    model = FeedForwardClassifier(
        hidden_layer_sizes=(8,), max_iter=3, random_state=0
    ).fit(X, y)
    loaded = _round_trip(model)
    for estimator in (model, loaded):
        estimator.set_params(warm_start=True).fit(X, y)
    assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.n_iter_ == model.n_iter_ == 6


def test_partial_fit_continues_from_a_loaded_model_with_its_optimizer_state():
    """Check that Adam's moments travel as arrays and continue alike."""
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    model = FeedForwardClassifier(hidden_layer_sizes=(8,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    loaded = _round_trip(model)
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_a_network_trained_on_a_gpu_loads_on_the_cpu(monkeypatch):
    """Check that the device of the saving machine is not needed to load."""
    X, y = make_blobs(n_samples=40, centers=2, random_state=0)
    model = FeedForwardClassifier(
        hidden_layer_sizes=(8,), max_iter=2, random_state=0
    ).fit(X, y)
    data = sio.dumps(model)
    # As saved on a CUDA machine: the stored device names it.
    state = model.__getstate__()
    state["_network_state"]["device"] = "cuda:0"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    gpu_model = FeedForwardClassifier.__new__(FeedForwardClassifier)
    with pytest.warns(UserWarning, match="cuda:0.*loaded on the CPU"):
        gpu_model.__setstate__(state)
    assert gpu_model.net_.device == "cpu"
    assert_allclose(gpu_model.predict_proba(X), model.predict_proba(X))
    assert sio.loads(data, trusted=sio.get_untrusted_types(data=data)).net_.device


def test_pickling_stores_the_weights_as_arrays_and_keeps_the_model_intact():
    """Check pickle's state holds no torch object and leaves the model usable."""
    X, y = make_blobs(n_samples=40, centers=2, random_state=0)
    model = LSTMClassifier(hidden_size=4, max_iter=2, random_state=0).fit(
        np.abs(X[:, :1]).repeat(3, axis=1), y
    )
    state = model.__getstate__()
    assert "net_" not in state

    def torch_objects(value):
        if isinstance(value, dict):
            return [v for item in value.values() for v in torch_objects(item)]
        if isinstance(value, list | tuple):
            return [v for item in value for v in torch_objects(item)]
        module = type(value).__module__
        return [value] if module.startswith(("torch", "skorch")) else []

    assert not torch_objects(state["_network_state"])
    assert "net_" in vars(model)
    copied = pickle.loads(pickle.dumps(model))
    rows = np.abs(X[:, :1]).repeat(3, axis=1)
    assert_allclose(copied.predict_proba(rows), model.predict_proba(rows))
    assert clone(copied).get_params() == model.get_params()
