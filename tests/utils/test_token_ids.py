"""Check the shared special token ids and the token-id input check."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_histai.text import TextTokenizer
from sklearn_histai.utils._token_ids import BOS, EOS, PAD, UNK, check_token_ids


@pytest.mark.parametrize(
    "X",
    [
        np.array([[0, 3], [7, 2]], dtype=np.int32),
        np.array([[0.0, 3.0], [7.0, 2.0]]),
        np.array([[0, 3], [7, 2]], dtype=np.uint8),
    ],
)
def test_check_token_ids_returns_int64_ids(X):
    """Check that integer and whole-float ids come back as the same int64 ids."""
    ids = check_token_ids(X, vocab_size=8)
    assert ids.dtype == np.int64
    assert_array_equal(ids, [[0, 3], [7, 2]])
    assert check_token_ids(np.empty((2, 0))).dtype == np.int64


@pytest.mark.parametrize(
    "X, vocab_size, match",
    [
        ([[1.4, 2.3, 3.2]], None, "non-integer value 1.4"),
        ([[2.0, np.nan]], None, "non-integer value nan"),
        ([[-1, -2, -3]], None, "Negative values in data.*found the id -3"),
        ([[2, 30]], 30, r"token ids in \[0, vocab_size=30\); found the id 30"),
        ([[2, -1]], 30, r"non-negative token ids in \[0, vocab_size=30\)"),
        ([[2.0**70]], None, "fit in int64"),
        ([["a", "b"]], None, "integer token ids; got an array of dtype <U1"),
    ],
)
def test_check_token_ids_names_the_bad_value(X, vocab_size, match):
    """Check that non-integer, negative and too large ids raise, naming the value."""
    with pytest.raises(ValueError, match=match):
        check_token_ids(np.asarray(X), vocab_size=vocab_size)
    with pytest.raises(ValueError, match="^prompt "):
        check_token_ids(np.asarray([[0.5]]), input_name="prompt")


def test_token_ids_are_those_of_text_tokenizer():
    """Check that TextTokenizer pads with PAD and maps unknown tokens to UNK."""
    ids = TextTokenizer(max_length=3).fit(["a b"]).transform(["a zzz"])
    assert_array_equal(ids, [[2, UNK, PAD]])
    assert sorted({PAD, UNK, BOS, EOS}) == [0, 1, 2, 3]


def test_token_ids_module_imports_no_model_family():
    """Check that the shared module imports neither torch nor a model family."""
    code = (
        "import sys; import sklearn_histai.utils._token_ids; "
        "loaded = [m for m in sys.modules if m == 'torch' or m.startswith("
        "('sklearn_histai.text', 'sklearn_histai.neural_network', "
        "'sklearn_histai.nn', 'sklearn_histai.finetune'))]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
