"""Text to token ids: the analyzer (words, n-grams, CJK) and TextTokenizer."""

import math
import numbers
import re
import unicodedata
from functools import lru_cache
from itertools import chain, repeat

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_histai.text._compiled import TokenTable
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._documents import check_documents
from sklearn_histai.utils._token_ids import PAD, UNK

# How inverse_transform shows the out-of-vocabulary id.
OOV_TOKEN = "<unk>"
# The vocabulary's ids follow padding and the out-of-vocabulary id.
_FIRST_ID = UNK + 1

# Scripts written without spaces between words: Han ideographs (Chinese,
# Japanese kanji) and the Japanese kana. Hangul is written with spaces.
_CJK = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002ffff\U00030000-\U0003134f"
)
# A word is a run of word characters outside those scripts, with inner
# apostrophes ("don't"); every other non-ASCII, non-space character is a
# candidate one-character token, kept when it is a symbol such as an emoji.
# ASCII punctuation and symbols are dropped (e.g. the "<br />" of web text).
_WORD = rf"[^\W{_CJK}]+(?:'[^\W{_CJK}]+)*"
_PER_CHARACTER = re.compile(rf"[{_CJK}]|{_WORD}|[^\w\s\x00-\x7f]")
_CJK_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|{_WORD}|[^\w\s\x00-\x7f]")
# The same on ASCII text, which has no such scripts or symbols, faster: the
# ASCII classes and a repetition that keeps no backtracking points (nothing
# follows it to backtrack for) find the same words in about three quarters
# of the time.
_ASCII_WORDS = re.compile(r"\w+(?:'\w+)*+", re.ASCII)

# The longest sequences "auto" chooses, whatever the length distribution.
_AUTO_MAX_LENGTH_CAP = 512
_AUTO_MAX_LENGTH_QUANTILE = 95


@lru_cache(maxsize=4096)
def _is_kept_character(char):
    """Whether a one-character token is kept: letters, digits and symbols.

    Punctuation, marks and control characters are dropped; non-ASCII symbols
    (the Unicode categories S*, which hold the emoji, currency and maths
    signs) carry meaning, e.g. sentiment, and are kept.
    """
    return char.isalnum() or unicodedata.category(char).startswith("S")


def _one_byte_tables():
    """What each one-byte (Latin-1) character is to the analyzer, for ``_compiled``.

    Read off the patterns above (after lowercasing): part of a word (1), a
    one-character token of its own (2), and kept as a one-character token
    (4, see :func:`_is_kept_character`); with the lowercase of each
    character, and the character itself.
    """
    word = re.compile(rf"[^\W{_CJK}]")
    single = re.compile(r"[^\w\s\x00-\x7f]")
    classes = np.zeros(256, dtype=np.uint8)
    lowered = np.arange(256, dtype=np.uint8)
    for code in range(256):
        char = chr(code)
        low = char.lower()
        # Lowercasing keeps every one-byte character one byte.
        if len(low) != 1 or ord(low) > 255:
            raise AssertionError(f"{char!r} lowercases to {low!r}")
        lowered[code] = ord(low)
        kept = 4 if _is_kept_character(char) else 0
        if word.fullmatch(char):
            classes[code] = 1 | kept
        elif single.fullmatch(char):
            classes[code] = 2 | kept
    return classes, lowered, np.arange(256, dtype=np.uint8)


_ONE_BYTE_CLASSES, _ONE_BYTE_LOWER, _ONE_BYTE_SAME = _one_byte_tables()


class TextAnalyzer(BaseEstimator):
    """A picklable callable that turns one document into a list of tokens.

    The analyzer of :class:`TextTokenizer`, usable on its own as the
    ``analyzer`` of scikit-learn's ``CountVectorizer`` or
    ``TfidfVectorizer``. Words are runs of letters and digits (with inner
    apostrophes, straight or curly); text in scripts written without spaces
    (Chinese, Japanese) is split per character, or by ``segmenter``, so
    mixed text keeps its Latin words whole. Emoji and other non-ASCII
    symbols are tokens; punctuation and ASCII symbols are dropped.

    Its parameters, like those of an estimator (``get_params``,
    ``set_params``, ``clone``), can be grid-searched through the vectorizer,
    e.g. ``tfidf__analyzer__ngram_range``. It has no ``fit``: it learns
    nothing.

    Parameters
    ----------
    analyzer : {"word", "char", "char_wb"} or callable, default="word"
        Word tokens, character n-grams, or character n-grams inside word
        boundaries (each word padded with a space). A callable maps a
        document to its tokens; ``ngram_range`` and ``segmenter`` are then
        not used.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        The lengths of the n-grams (of words or characters) produced; word
        n-grams are joined with a space.
    lowercase : bool, default=True
        Whether to lowercase the text first.
    segmenter : callable or None, default=None
        Word segmentation for text in scripts without spaces: called on each
        run of Han/kana characters, it returns that run's words (e.g.
        ``jieba.lcut``). None splits such runs into single characters.

    See Also
    --------
    TextTokenizer : Documents to padded rows of token ids.

    Examples
    --------
    >>> from sklearn_histai.text import TextAnalyzer
    >>> TextAnalyzer()("I didn't like it 👎 — 我不喜欢 Python")
    ['i', "didn't", 'like', 'it', '👎', '我', '不', '喜', '欢', 'python']
    >>> TextAnalyzer(ngram_range=(1, 2))("very good film")
    ['very', 'good', 'film', 'very good', 'good film']
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> vectorizer = CountVectorizer(analyzer=TextAnalyzer())
    >>> vectorizer.fit(["我爱北京", "I love Beijing"]).get_feature_names_out()
    array(['beijing', 'i', 'love', '京', '北', '我', '爱'], dtype=object)
    """

    def __init__(
        self, analyzer="word", *, ngram_range=(1, 1), lowercase=True, segmenter=None
    ):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.segmenter = segmenter

    def _checked_ngram_range(self):
        ngram_range = self.ngram_range
        if not (
            isinstance(ngram_range, tuple | list)
            and len(ngram_range) == 2
            and all(
                isinstance(n, numbers.Integral) and not isinstance(n, bool)
                for n in ngram_range
            )
            and 1 <= ngram_range[0] <= ngram_range[1]
        ):
            raise ValueError(
                "ngram_range must be a pair of integers (min_n, max_n) with "
                f"1 <= min_n <= max_n; got {ngram_range!r}."
            )
        return tuple(int(n) for n in ngram_range)

    def _check(self):
        """Validate the parameters; return the n-gram range."""
        if not callable(self.analyzer) and self.analyzer not in (
            "word",
            "char",
            "char_wb",
        ):
            raise ValueError(
                'analyzer must be "word", "char", "char_wb" or a callable; got '
                f"{self.analyzer!r}."
            )
        if self.segmenter is not None and not callable(self.segmenter):
            raise ValueError(
                f"segmenter must be a callable or None; got {self.segmenter!r}."
            )
        return self._checked_ngram_range()

    def __call__(self, document):
        """Return the tokens of ``document``.

        Parameters
        ----------
        document : str
            One document.

        Returns
        -------
        tokens : list of str
            Its tokens (n-grams), in order.
        """
        if not isinstance(document, str):
            raise TypeError(
                "TextAnalyzer expects one str document; got "
                f"{type(document).__name__}: {document!r:.60}."
            )
        min_n, max_n = self._check()
        if callable(self.analyzer):
            return list(self.analyzer(document))
        if self.lowercase:
            document = document.lower()
        if self.analyzer == "word":
            return _ngrams(self._words(document), min_n, max_n)
        if self.analyzer == "char":
            return _char_ngrams(" ".join(document.split()), min_n, max_n)
        return [
            gram
            for word in document.split()
            for gram in _char_ngrams(f" {word} ", min_n, max_n)
        ]

    def _splits_words(self):
        """Whether documents split into single words (see :mod:`._compiled`)."""
        return (
            not callable(self.analyzer)
            and self.analyzer == "word"
            and self._check() == (1, 1)
        )

    def _positions(self, table, documents, intern, missing):
        """``table.positions`` of the documents' words, split as ``self`` does."""
        lower = _ONE_BYTE_LOWER if self.lowercase else _ONE_BYTE_SAME
        return table.positions(
            documents, _ONE_BYTE_CLASSES, lower, self, intern, missing
        )

    def _analyze_all(self, documents):
        """``[self(document) for document in documents]``, parameters checked once.

        Parameters
        ----------
        documents : list of str
            Documents, as :func:`check_documents` returns them.

        Returns
        -------
        token_lists : list of list of str
            The tokens of each document.
        """
        min_n, max_n = self._check()
        if callable(self.analyzer) or self.analyzer != "word":
            return [self(document) for document in documents]
        words, lowercase = self._words, self.lowercase
        token_lists = []
        for document in documents:
            if lowercase:
                document = document.lower()
            token_lists.append(_ngrams(words(document), min_n, max_n))
        return token_lists

    def _words(self, document):
        if document.isascii():
            return _ASCII_WORDS.findall(document)
        document = document.replace("\u2019", "'")
        if self.segmenter is None:
            tokens = _PER_CHARACTER.findall(document)
            return [t for t in tokens if len(t) > 1 or _is_kept_character(t)]
        tokens = []
        for match in _CJK_RUNS.finditer(document):
            token = match.group()
            if match.lastgroup == "cjk":
                tokens.extend(str(word) for word in self.segmenter(token) if word)
            elif len(token) > 1 or _is_kept_character(token):
                tokens.append(token)
        return tokens


def _ngrams(tokens, min_n, max_n):
    """Word n-grams, shortest first, each in text order (as scikit-learn does)."""
    if max_n == 1:
        return tokens
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), max_n + 1):
        grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
    return grams


def _char_ngrams(text, min_n, max_n):
    return [
        text[i : i + n]
        for n in range(min_n, max_n + 1)
        for i in range(len(text) - n + 1)
    ]


class TextTokenizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Turn documents into fixed-length rows of integer token ids.

    ``fit`` learns a vocabulary (the most frequent tokens) and a sequence
    length; ``transform`` maps each document to a row of ids, right-padded
    with the padding id 0; tokens outside the vocabulary get the
    out-of-vocabulary id 1. The rows feed the token-id input of the
    recurrent, convolutional and embedding-bag estimators, whose
    ``vocab_size`` must be at least ``vocab_size_`` (``max_vocabulary + 2``
    when ``max_vocabulary`` is set).

    Text in scripts written without spaces (Chinese, Japanese) is split per
    character by default, or into words by ``segmenter``; mixed text keeps
    its Latin words whole. See :class:`TextAnalyzer`, which does the
    splitting and also plugs into scikit-learn's vectorizers.

    Parameters
    ----------
    analyzer : {"word", "char", "char_wb"} or callable, default="word"
        What a token is: a word, a character n-gram, or a character n-gram
        inside word boundaries; a callable maps a document to its tokens.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        Lengths of the n-grams used as tokens (all unigrams come first, then
        the longer n-grams).
    lowercase : bool, default=True
        Whether to lowercase the text first.
    segmenter : callable or None, default=None
        Word segmentation for runs of Han/kana characters (e.g.
        ``jieba.lcut``); None splits them per character.
    vocabulary : iterable of str or None, default=None
        A fixed vocabulary, e.g. the words of pretrained vectors: its tokens
        get the ids 2, 3, ... in order, and ``max_vocabulary`` and ``min_df``
        are not used. None learns the vocabulary from the training documents.
    max_vocabulary : int or None, default=None
        Keep only the most frequent tokens (by count in the training
        documents; ties in alphabetical order). None keeps them all.
    min_df : int or float, default=1
        Ignore tokens found in fewer documents than this (a count, or a
        proportion of the documents when a float in (0, 1]).
    max_length : int, "auto" or None, default="auto"
        Length of the output rows. "auto" is the 95th percentile of the
        training documents' lengths in tokens, at most 512; None is the
        longest training document. Longer documents are truncated.
    truncation : {"post", "pre"}, default="post"
        Whether truncation drops the end ("post") or the beginning ("pre")
        of a long document.

    Attributes
    ----------
    vocabulary_ : dict
        Token to id; ids start at 2 (0 is padding, 1 out-of-vocabulary).
    vocab_size_ : int
        Number of ids, ``len(vocabulary_) + 2``: the ``vocab_size`` a model
        needs for these rows.
    max_length_ : int
        Length of the rows ``transform`` returns.

    See Also
    --------
    TextAnalyzer : The document-to-tokens callable, for scikit-learn's
        vectorizers.
    sklearn.feature_extraction.text.CountVectorizer : Bags of tokens instead
        of sequences.

    Notes
    -----
    Id 0 (``PAD``) marks padding and id 1 (``UNK``) tokens outside the
    vocabulary, as in every text model of this package;
    :meth:`inverse_transform` shows the latter as ``"<unk>"``.

    Examples
    --------
    >>> from sklearn_histai.text import TextTokenizer
    >>> tokenizer = TextTokenizer(max_length=None)
    >>> tokenizer.fit_transform(["a good film", "a bad film 😡", "好电影"])
    array([[2, 5, 3, 0],
           [2, 4, 3, 9],
           [6, 8, 7, 0]])
    >>> tokenizer.inverse_transform(tokenizer.transform(["a great film"]))
    [['a', '<unk>', 'film']]
    """

    _history = ModelHistory(
        era="text",
        year=1975,
        reference="Salton, Wong & Yang (1975)",
        peer="sklearn.feature_extraction.text:CountVectorizer",
        input="text",
    )

    _parameter_constraints = {
        "analyzer": [StrOptions({"word", "char", "char_wb"}), callable],
        "ngram_range": [tuple, list],
        "lowercase": ["boolean"],
        "segmenter": [callable, None],
        "vocabulary": ["array-like", dict, None],
        "max_vocabulary": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "min_df": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="right"),
        ],
        "max_length": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "truncation": [StrOptions({"post", "pre"})],
    }

    def __init__(
        self,
        *,
        analyzer="word",
        ngram_range=(1, 1),
        lowercase=True,
        segmenter=None,
        vocabulary=None,
        max_vocabulary=None,
        min_df=1,
        max_length="auto",
        truncation="post",
    ):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.segmenter = segmenter
        self.vocabulary = vocabulary
        self.max_vocabulary = max_vocabulary
        self.min_df = min_df
        self.max_length = max_length
        self.truncation = truncation

    def build_analyzer(self):
        """Return the callable that splits one document into tokens.

        Returns
        -------
        analyzer : TextAnalyzer
            Picklable; usable as ``CountVectorizer(analyzer=...)``.
        """
        return TextAnalyzer(
            self.analyzer,
            ngram_range=self.ngram_range,
            lowercase=self.lowercase,
            segmenter=self.segmenter,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the vocabulary and the row length from documents.

        Parameters
        ----------
        X : iterable of str
            Training documents (a list, 1-D array or pandas Series).
        y : None
            Ignored.

        Returns
        -------
        self : TextTokenizer
            The fitted tokenizer.
        """
        self._fit_positions(*self._token_positions(check_documents(X)))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Learn the vocabulary and the row length, and map ``X`` to ids.

        The same as ``fit(X).transform(X)``, with each document split once.

        Parameters
        ----------
        X : iterable of str
            Training documents (a list, 1-D array or pandas Series).
        y : None
            Ignored.

        Returns
        -------
        ids : ndarray of shape (n_documents, `max_length_`), dtype int64
            Token ids, right-padded with 0; 1 marks tokens outside the
            vocabulary.
        """
        distinct, positions, lengths = self._token_positions(check_documents(X))
        ids = self._fit_positions(distinct, positions, lengths)
        return self._layout(ids[positions], lengths)

    def _token_positions(self, documents):
        """The documents' tokens as positions among the distinct ones.

        Returns the distinct tokens in order of first appearance, the
        position of every token, end to end, and the number of tokens of
        each document. Each token is looked up once; the words of one-byte
        documents are split and looked up compiled, with no Python string
        per word.
        """
        analyzer = self.build_analyzer()
        if analyzer._splits_words():
            table = TokenTable()
            positions, lengths = analyzer._positions(table, documents, True, UNK)
            return table.tokens(), positions, lengths
        token_lists = analyzer._analyze_all(documents)
        distinct = list(dict.fromkeys(chain.from_iterable(token_lists)))
        index = {token: position for position, token in enumerate(distinct)}
        lengths = np.fromiter(map(len, token_lists), dtype=np.intp)
        positions = np.fromiter(
            map(index.__getitem__, chain.from_iterable(token_lists)),
            dtype=np.intp,
            count=int(lengths.sum()),
        )
        return distinct, positions, lengths

    def _fit_positions(self, distinct, positions, lengths):
        """Learn from the documents' tokens as positions among ``distinct``.

        The given ``vocabulary``, or the tokens of at least ``min_df``
        documents, most frequent first. Returns the id of each distinct
        token.
        """
        n_distinct = len(distinct)
        if self.vocabulary is not None:
            vocabulary = self._given_vocabulary()
            ids = np.fromiter(
                map(vocabulary.get, distinct, repeat(UNK)),
                dtype=np.int64,
                count=n_distinct,
            )
            self._set_vocabulary(vocabulary, lengths.tolist())
            return ids
        counts = np.bincount(positions, minlength=n_distinct).tolist()
        candidates = range(n_distinct)
        min_df = self._min_documents(len(lengths))
        if min_df > 1:
            document = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
            pairs = np.unique(document * n_distinct + positions)
            df = np.bincount(pairs % n_distinct, minlength=n_distinct)
            candidates = np.flatnonzero(df >= min_df).tolist()
        kept = self._most_frequent(
            candidates, lambda key: (-counts[key], distinct[key])
        )
        vocabulary = {
            distinct[key]: token_id for token_id, key in enumerate(kept, _FIRST_ID)
        }
        self._set_vocabulary(vocabulary, lengths.tolist())
        ids = np.full(n_distinct, UNK, dtype=np.int64)
        ids[kept] = np.arange(_FIRST_ID, _FIRST_ID + len(kept))
        return ids

    def _set_vocabulary(self, vocabulary, lengths):
        """Store the vocabulary, and the row length for documents of ``lengths``."""
        self.vocabulary_ = vocabulary
        self.vocab_size_ = len(vocabulary) + _FIRST_ID
        self.max_length_ = self._learn_max_length(lengths)
        self._cache_token_table()

    def _cache_token_table(self):
        self._lookup = (self.vocabulary_, TokenTable(self.vocabulary_))

    def _token_table(self):
        """The compiled table of ``vocabulary_``, built at fit or now."""
        vocabulary, table = getattr(self, "_lookup", (None, None))
        if vocabulary is not self.vocabulary_:
            table = TokenTable(self.vocabulary_)
        return table

    def __getstate__(self):
        # The compiled table is rebuilt from the vocabulary on loading.
        state = super().__getstate__()
        state.pop("_lookup", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "vocabulary_" in state:
            self._cache_token_table()

    def _given_vocabulary(self):
        """``vocabulary`` as a dict of token ids, checked."""
        tokens = list(self.vocabulary)
        if not all(isinstance(token, str) for token in tokens):
            raise TypeError("vocabulary must hold str tokens only.")
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary must not repeat a token.")
        return {token: index + _FIRST_ID for index, token in enumerate(tokens)}

    def _min_documents(self, n_documents):
        """``min_df`` as a number of documents."""
        if isinstance(self.min_df, numbers.Integral):
            return self.min_df
        return math.ceil(self.min_df * n_documents)

    def _most_frequent(self, keys, order):
        """The first ``max_vocabulary`` (or all) of ``keys``, sorted by ``order``.

        ``order(key)`` is ``(-count, token)``: the most frequent tokens
        first, ties in alphabetical order.
        """
        keys = sorted(keys, key=order)
        return keys if self.max_vocabulary is None else keys[: self.max_vocabulary]

    def _learn_max_length(self, lengths):
        if isinstance(self.max_length, numbers.Integral):
            return int(self.max_length)
        if self.max_length is None:
            return max(1, max(lengths))
        quantile = np.percentile(lengths, _AUTO_MAX_LENGTH_QUANTILE)
        return int(min(max(1, math.ceil(quantile)), _AUTO_MAX_LENGTH_CAP))

    def transform(self, X):
        """Map documents to rows of token ids.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        ids : ndarray of shape (n_documents, `max_length_`), dtype int64
            Token ids, right-padded with 0; 1 marks tokens outside the
            vocabulary.
        """
        check_is_fitted(self)
        documents = check_documents(X)
        analyzer = self.build_analyzer()
        if analyzer._splits_words():
            # Compiled: no Python string per token of one-byte documents.
            flat, lengths = analyzer._positions(
                self._token_table(), documents, False, UNK
            )
            return self._layout(flat, lengths)
        return self._ids(analyzer._analyze_all(documents))

    def _ids(self, token_lists):
        """Rows of ids of the documents' tokens, truncated and right-padded."""
        lengths = np.fromiter(map(len, token_lists), dtype=np.intp)
        flat = np.fromiter(
            map(self.vocabulary_.get, chain.from_iterable(token_lists), repeat(UNK)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        return self._layout(flat, lengths)

    def _layout(self, flat, lengths):
        """Rows of ``max_length_`` ids from the documents' ids end to end.

        Documents longer than ``max_length_`` are truncated (``truncation``);
        the rest of each row is padding.
        """
        length = self.max_length_
        if (lengths > length).any():
            starts = np.cumsum(lengths) - lengths
            within = np.arange(len(flat)) - np.repeat(starts, lengths)
            if self.truncation == "post":
                flat = flat[within < length]
            else:
                flat = flat[within >= np.repeat(lengths - length, lengths)]
            lengths = np.minimum(lengths, length)
        ids = np.zeros((len(lengths), length), dtype=np.int64)
        # Written row by row through the mask of the real positions (a
        # boolean mask assigns in row-major order).
        ids[np.arange(length) < lengths[:, None]] = flat
        return ids

    def inverse_transform(self, X):
        """Map rows of token ids back to tokens.

        Parameters
        ----------
        X : array-like of shape (n_documents, n_positions)
            Token ids, as from :meth:`transform`.

        Returns
        -------
        tokens : list of list of str
            The tokens of each row, padding dropped, out-of-vocabulary ids
            shown as ``"<unk>"``.
        """
        check_is_fitted(self)
        X = np.asarray(X)
        if X.ndim != 2 or X.dtype.kind not in "iu":
            raise ValueError(
                "X must be a 2-D array of integer token ids; got an array of "
                f"shape {X.shape} and dtype {X.dtype}."
            )
        if X.size and (X.min() < 0 or X.max() >= self.vocab_size_):
            raise ValueError(
                f"X holds ids outside [0, vocab_size_={self.vocab_size_})."
            )
        tokens = np.empty(self.vocab_size_, dtype=object)
        tokens[UNK] = OOV_TOKEN
        tokens[list(self.vocabulary_.values())] = list(self.vocabulary_)
        return [[str(t) for t in tokens[row[row != PAD]]] for row in X]

    @property
    def _n_features_out(self):
        return self.max_length_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
