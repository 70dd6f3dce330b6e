"""Check fine-tuning on CUDA; skipped on machines without a GPU (such as CI)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_histai.finetune import TransformerClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
]
pytest.importorskip("peft", reason="needs the [peft] extra")

TEXTS = [
    "a wonderful, moving film with superb acting",
    "dull, predictable and far too long",
    "great plot and a clever, funny script",
    "boring from start to end, I fell asleep",
] * 8
LABELS = np.array([1, 0, 1, 0] * 8)


@pytest.mark.parametrize(
    "method", ["lora", "adalora", "ia3", "prompt_tuning", "prefix_tuning", "adapter"]
)
def test_transformer_classifier_trains_in_bf16_on_cuda(method):
    """Check that each method fine-tunes on the GPU with bfloat16 autocast."""
    clf = TransformerClassifier(
        peft_method=method,
        device="cuda",
        mixed_precision="bf16",
        max_length=32,
        max_iter=5,
        batch_size=8,
        random_state=0,
    ).fit(TEXTS, LABELS)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.net_.precision == "bf16"
    assert np.isfinite(clf.history_[-1]["train_loss"])
    assert clf.predict_proba(TEXTS).shape == (32, 2)


def test_transformer_classifier_cuda_fit_is_deterministic_under_a_seed():
    """Check that two CUDA fits with one seed give about the same probabilities."""
    make = lambda: TransformerClassifier(  # noqa: E731
        device="cuda", max_length=32, max_iter=2, batch_size=8, random_state=0
    ).fit(TEXTS, LABELS)
    assert_allclose(make().predict_proba(TEXTS), make().predict_proba(TEXTS), atol=1e-4)


def test_gpu_fine_tuned_pickle_loads_on_cpu_only_machine(tmp_path):
    """Check that a LoRA model fine-tuned on CUDA unpickles and predicts on CPU."""
    clf = TransformerClassifier(
        device="auto", max_length=32, max_iter=3, batch_size=8, random_state=0
    ).fit(TEXTS, LABELS)
    path = tmp_path / "model.pkl"
    data = pickle.dumps(clf)
    assert len(data) < 1_000_000
    path.write_bytes(data)
    np.save(tmp_path / "expected.npy", clf.predict_proba(TEXTS))
    script = (
        "import pickle, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        f"clf = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"texts = {TEXTS!r}\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "assert str(clf.net_.device) == 'cpu'\n"
        "np.testing.assert_allclose(clf.predict_proba(texts), expected, atol=1e-3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": "", "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
