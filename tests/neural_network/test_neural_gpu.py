"""Check training on CUDA; skipped on machines without a GPU (such as CI)."""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits

from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    LSTMClassifier,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def test_cnn_trains_on_cuda(digits):
    """Check that device="cuda" trains on the GPU to a good accuracy."""
    X, y = digits
    clf = CNNClassifier(
        image_shape=(1, 8, 8), device="cuda", max_iter=20, batch_size=32, random_state=0
    ).fit(X[:1400], y[:1400])
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X[1400:], y[1400:]) > 0.9


def test_cuda_training_is_deterministic_under_a_seed(digits):
    """Check that two CUDA fits with one seed give the same predictions."""
    X, y = digits
    make = lambda: LSTMClassifier(  # noqa: E731
        n_features_per_step=8, hidden_size=32, max_iter=3, device="cuda", random_state=0
    ).fit(X, y)
    assert_allclose(make().predict_proba(X), make().predict_proba(X), atol=1e-5)


def test_gpu_trained_pickle_loads_on_cpu_only_machine(digits, tmp_path):
    """Check that a GPU-trained model unpickles and predicts without CUDA."""
    X, y = digits
    clf = CNNClassifier(
        image_shape=(1, 8, 8), device="cuda", max_iter=3, random_state=0
    ).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X[:50])
    np.save(tmp_path / "expected.npy", clf.predict(X[:50]))
    script = (
        "import pickle, sys, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        f"clf = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "assert (clf.predict(X) == expected).mean() > 0.98\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        # No GPU in the child, and the import path of this process.
        env={
            "CUDA_VISIBLE_DEVICES": "",
            "PATH": "",
            "PYTHONPATH": os.pathsep.join(
                [os.environ.get("PYTHONPATH", ""), *sys.path]
            ),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_mixed_precision_on_cuda(digits):
    """Check that bf16/fp16 autocast on CUDA trains a usable model.

    Its predictions must match a float32 forward pass of the same weights on
    the CPU, computed here without the estimator.
    """
    X, y = digits
    clf = CNNClassifier(
        image_shape=(1, 8, 8),
        device="cuda",
        mixed_precision=True,
        max_iter=20,
        batch_size=32,
        random_state=0,
    ).fit(X[:1400], y[:1400])
    assert clf.net_.precision in {"bf16", "fp16"}
    X_test = X[1400:]
    assert clf.score(X_test, y[1400:]) > 0.9
    module = copy.deepcopy(clf.net_.module_).float().cpu().eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(X_test))
    full_precision = torch.softmax(logits, dim=1).numpy()
    # bf16 keeps about 3 significant digits: measured 0.015 at most with CPU
    # autocast, on a model trained as here.
    assert_allclose(clf.predict_proba(X_test), full_precision, atol=0.05)
    agree = clf.predict(X_test) == clf.classes_[full_precision.argmax(axis=1)]
    assert agree.mean() > 0.97


@pytest.mark.parametrize("device", ["cuda:0", torch.device("cuda", 0)])
def test_neural_estimator_trains_on_the_numbered_cuda_device(device, digits):
    """Check that device="cuda:N" trains on that GPU, as the CPU would."""
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    clf = FeedForwardClassifier(device=device, **params).fit(X[:300], y[:300])
    assert clf.net_.device == "cuda:0"
    assert {p.device for p in clf.net_.module_.parameters()} == {
        torch.device("cuda", 0)
    }
    on_cpu = FeedForwardClassifier(device="cpu", **params).fit(X[:300], y[:300])
    assert_allclose(clf.predict_proba(X), on_cpu.predict_proba(X), atol=1e-4)


def test_neural_estimator_rejects_a_cuda_device_that_is_not_there(digits):
    """Check that cuda:N past the last GPU names the device count."""
    X, y = digits
    device = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match="names CUDA device"):
        FeedForwardClassifier(device=device, max_iter=1).fit(X[:50], y[:50])


def test_training_craft_runs_on_cuda(digits):
    """Check augmentation, adversarial training and fp16 clipping on the GPU."""
    X, y = digits
    clf = CNNClassifier(
        image_shape=(1, 8, 8),
        device="cuda",
        max_iter=3,
        augmentation=["shift", "rotate", "noise", "mixup"],
        adversarial="pgd",
        max_grad_norm=1.0,
        mixed_precision="fp16",
        random_state=0,
    ).fit(X, y)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert np.isfinite(clf.predict_proba(X)).all()
    ids = np.random.RandomState(0).randint(4, 40, size=(200, 12))
    lstm = LSTMClassifier(
        vocab_size=40,
        device="cuda",
        max_iter=2,
        augmentation=["deletion", "swap", "insertion", "synonym"],
        adversarial="fgm",
        random_state=0,
    ).fit(ids, ids[:, 0] % 2)
    assert lstm.predict(ids).shape == (200,)


@pytest.mark.parametrize("precision", [False, "bf16"])
def test_transformers_train_on_cuda(digits, precision):
    """Check that the encoder and the causal LM train on the GPU's fused attention."""
    from sklearn_histai.neural_network import TransformerEncoderClassifier
    from sklearn_histai.text import TransformerLanguageModel

    X, y = digits
    clf = TransformerEncoderClassifier(
        n_features_per_step=8,
        device="cuda",
        mixed_precision=precision,
        max_iter=20,
        random_state=0,
    ).fit(X[:1400], y[:1400])
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X[1400:], y[1400:]) > 0.85
    assert clf.attention_weights(X[:2]).shape == (2, 2, 4, 8, 8)
    rows = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 10
    lm = TransformerLanguageModel(
        d_model=16,
        num_heads=2,
        device="cuda",
        mixed_precision=precision,
        max_iter=60,
        learning_rate=0.01,
        random_state=0,
    ).fit(rows)
    assert lm.generate(["a"], max_tokens=5, temperature=0) == ["cat", "ran"]
