"""Check TextAnalyzer and TextTokenizer: tokens, CJK text, vocabulary, lengths."""

import pickle
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from sklearn_histai.text import TextAnalyzer, TextTokenizer
from sklearn_histai.text._tokenizer import _ASCII_WORDS
from sklearn_histai.utils._token_ids import PAD, UNK


def test_text_analyzer_words_punctuation_and_symbols():
    """Check that words keep inner apostrophes, punctuation goes, emoji stay."""
    tokens = TextAnalyzer()("Didn't LIKE it... 5/10 👎 — <br />café don’t")
    assert tokens == ["didn't", "like", "it", "5", "10", "👎", "br", "café", "don't"]
    assert TextAnalyzer(lowercase=False)("Good Film") == ["Good", "Film"]


def test_text_analyzer_chinese_per_character_and_mixed():
    """Check that Chinese splits per character and Latin words stay whole."""
    assert TextAnalyzer()("我喜欢这部电影") == list("我喜欢这部电影")
    tokens = TextAnalyzer()("我爱Python编程, and 東京タワー!")
    assert tokens == ["我", "爱", "python", "编", "程", "and", *"東京タワー"]


def test_text_analyzer_segmenter_is_applied_to_cjk_runs():
    """Check that a segmenter receives each Han/kana run and its words are kept."""
    runs = []

    def segmenter(text):
        runs.append(text)
        return [text[:2], text[2:]]

    tokens = TextAnalyzer(segmenter=segmenter)("我爱北京 love 天安门广场")
    assert runs == ["我爱北京", "天安门广场"]
    assert tokens == ["我爱", "北京", "love", "天安", "门广场"]


def test_text_analyzer_ngrams_and_characters():
    """Check word n-grams (shortest first) and the two character analyzers."""
    assert TextAnalyzer(ngram_range=(1, 3))("a b c") == [
        "a",
        "b",
        "c",
        "a b",
        "b c",
        "a b c",
    ]
    assert TextAnalyzer(ngram_range=(2, 2))("a b c") == ["a b", "b c"]
    assert TextAnalyzer("char", ngram_range=(2, 2))("ab  c") == ["ab", "b ", " c"]
    assert TextAnalyzer("char_wb", ngram_range=(2, 2))("ab c") == [
        " a",
        "ab",
        "b ",
        " c",
        "c ",
    ]
    assert TextAnalyzer(lambda doc: doc.split("-"))("x-Y") == ["x", "Y"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"analyzer": "sentence"}, "analyzer"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
        ({"ngram_range": (0, 1)}, "ngram_range"),
        ({"segmenter": "jieba"}, "segmenter"),
    ],
)
def test_text_analyzer_invalid_parameters(params, match):
    """Check that invalid analyzer parameters are named in the error."""
    with pytest.raises(ValueError, match=match):
        TextAnalyzer(**params)("a document")


def test_text_analyzer_in_scikit_learn_vectorizers():
    """Check that the analyzer plugs into CountVectorizer, clones and pickles."""
    documents = ["我爱北京", "I love Beijing 😀", "I love 北京"]
    vectorizer = CountVectorizer(analyzer=TextAnalyzer())
    counts = vectorizer.fit_transform(documents)
    names = list(vectorizer.get_feature_names_out())
    assert names == sorted(["beijing", "i", "love", "😀", "京", "北", "我", "爱"])
    assert counts.sum() == 4 + 4 + 4
    restored = pickle.loads(pickle.dumps(vectorizer))
    assert (restored.transform(documents) != counts).nnz == 0
    cloned = clone(TfidfVectorizer(analyzer=TextAnalyzer(ngram_range=(1, 2))))
    assert cloned.get_params()["analyzer__ngram_range"] == (1, 2)


def test_text_analyzer_grid_search_through_vectorizer():
    """Check that the analyzer's parameters are grid-searched via the vectorizer."""
    from sklearn_histai.linear_model import LogisticRegression

    X = ["good film", "great film", "bad film", "awful film"] * 5
    y = [1, 1, 0, 0] * 5
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer=TextAnalyzer())),
            ("classifier", LogisticRegression()),
        ]
    )
    grid = {"tfidf__analyzer__ngram_range": [(1, 1), (1, 2)]}
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert search.cv_results_["params"] == [
        {"tfidf__analyzer__ngram_range": (1, 1)},
        {"tfidf__analyzer__ngram_range": (1, 2)},
    ]
    bigrams = clone(pipeline).set_params(**search.cv_results_["params"][1]).fit(X, y)
    assert "good film" in bigrams["tfidf"].vocabulary_
    assert TextAnalyzer().set_params(lowercase=False).lowercase is False
    with pytest.raises(ValueError, match="Invalid parameter"):
        TextAnalyzer().set_params(stop_words="english")


def test_text_tokenizer_ids_padding_and_vocabulary_order():
    """Check ids by decreasing frequency from 2, padding 0 and OOV 1."""
    tokenizer = TextTokenizer(max_length=None).fit(
        ["b a a", "c a b", "d"]
    )  # counts: a 3, b 2, c 1, d 1
    assert tokenizer.vocabulary_ == {"a": 2, "b": 3, "c": 4, "d": 5}
    assert tokenizer.vocab_size_ == 6
    assert tokenizer.max_length_ == 3
    ids = tokenizer.transform(["a z", "", "d c b a"])
    assert ids.dtype == np.int64
    assert_array_equal(ids, [[2, UNK, 0], [0, 0, 0], [5, 4, 3]])
    assert PAD == 0
    assert tokenizer.inverse_transform(ids) == [
        ["a", "<unk>"],
        [],
        ["d", "c", "b"],
    ]


def test_text_tokenizer_max_vocabulary_and_min_df():
    """Check that the vocabulary keeps the most frequent and frequent-enough tokens."""
    documents = ["a a a b", "a b c", "c d"]
    assert list(TextTokenizer(max_vocabulary=2).fit(documents).vocabulary_) == [
        "a",
        "b",
    ]
    assert set(TextTokenizer(min_df=2).fit(documents).vocabulary_) == {"a", "b", "c"}
    assert set(TextTokenizer(min_df=0.9).fit(documents).vocabulary_) == set()
    tokenizer = TextTokenizer(vocabulary=["c", "zz"]).fit(documents)
    assert tokenizer.vocabulary_ == {"c": 2, "zz": 3}
    assert_array_equal(tokenizer.transform(["zz a c"])[0, :3], [3, 1, 2])


def test_text_tokenizer_max_length_auto_and_truncation():
    """Check the automatic length (95th percentile) and both truncation sides."""
    documents = [" ".join(["w"] * n) for n in range(1, 101)]
    assert TextTokenizer().fit(documents).max_length_ == 96
    long_documents = ["w " * 2000]
    assert TextTokenizer().fit(long_documents).max_length_ == 512
    assert TextTokenizer(max_length=None).fit(long_documents).max_length_ == 2000
    tokenizer = TextTokenizer(max_length=2).fit(["a b c d"])
    first = tokenizer.transform(["a b c"])
    last = tokenizer.set_params(truncation="pre").transform(["a b c"])
    assert tokenizer.inverse_transform(first) == [["a", "b"]]
    assert tokenizer.inverse_transform(last) == [["b", "c"]]


def test_ascii_words_match_the_unicode_word_pattern():
    """Check the fast ASCII pattern against the plain one on random ASCII text.

    Apostrophes at word edges, doubled or alone, digits and underscores.
    """
    plain = re.compile(r"\w+(?:'\w+)*")
    rng = np.random.RandomState(0)
    alphabet = list("ab_1'' .,-!\t\n")
    for _ in range(2000):
        document = "".join(rng.choice(alphabet, size=rng.randint(0, 30)))
        assert _ASCII_WORDS.findall(document) == plain.findall(document)


def _random_documents(n_documents, seed):
    """ASCII, Latin-1 and wider text: apostrophes, underscores, symbols."""
    rng = np.random.RandomState(seed)
    one_byte = [chr(c) for c in range(32, 256)] + list("\t\n\x85\xa0_''")
    wide = ["中", "\u2019", "Ω", "İ", "\U0001f600", "\udc80"]
    documents = ["_", "a _ b", "é _ b", "ÀÉ'ÖÜ", "£ 5 ½ ´", "\x85x\x85", "ßµ"]
    for _ in range(n_documents):
        kind = rng.rand()
        pool = one_byte[:95] if kind < 0.3 else one_byte
        if kind > 0.9:
            pool = pool + wide
        documents.append("".join(rng.choice(pool, size=rng.randint(0, 30))))
    return documents


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lowercase": False},
        {"min_df": 3},
        {"min_df": 0.002, "max_vocabulary": 50},
    ],
)
def test_compiled_splitting_matches_the_analyzer(params, monkeypatch):
    """Check the compiled word splitting against the analyzer's, on random text.

    One-byte documents are split by the compiled scan (ASCII with the ASCII
    pattern, Latin-1 with the Unicode one and its filter of one-character
    tokens), the others by the analyzer; ids and vocabularies must not tell,
    from ``fit_transform`` or ``fit``, whatever ``min_df``.
    """
    documents = _random_documents(3000, seed=0)
    test = _random_documents(1000, seed=1)
    tokenizer = TextTokenizer(max_length=None, **params)
    ids = tokenizer.fit_transform(documents)
    test_ids = tokenizer.transform(test)
    fitted = TextTokenizer(max_length=None, **params).fit(documents)
    monkeypatch.setattr(TextAnalyzer, "_splits_words", lambda self: False)
    reference = TextTokenizer(max_length=None, **params)
    assert_array_equal(ids, reference.fit_transform(documents))
    assert tokenizer.vocabulary_ == reference.vocabulary_
    assert fitted.vocabulary_ == reference.vocabulary_
    assert_array_equal(test_ids, reference.transform(test))


def test_text_tokenizer_compiled_table_follows_the_vocabulary():
    """Check transform after pickling, and after vocabulary_ is replaced."""
    documents = ["a good film", "a bad film", "café crème"]
    tokenizer = TextTokenizer().fit(documents)
    expected = tokenizer.transform(documents)
    restored = pickle.loads(pickle.dumps(tokenizer))
    assert_array_equal(restored.transform(documents), expected)
    assert "_lookup" not in tokenizer.__getstate__()
    restored.vocabulary_ = {"film": 2, "café": 3}
    assert_array_equal(
        restored.transform(["a film café"]),
        [[UNK, 2, 3] + [PAD] * (restored.max_length_ - 3)],
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"min_df": 2, "max_vocabulary": 3, "max_length": 4},
        {"truncation": "pre", "max_length": 3},
        {"max_length": 2, "max_vocabulary": 2},
        {"ngram_range": (1, 2), "max_length": None},
        {"analyzer": "char_wb", "ngram_range": (2, 3)},
        {"min_df": 0.5},
    ],
)
def test_text_tokenizer_fit_transform_equals_fit_then_transform(params):
    """Check that fit_transform, which splits each document once, is fit + transform."""
    documents = [
        "A good film, a GOOD one",
        "bad film",
        "我爱电影 😀 film",
        "",
        "a b c d e",
    ]
    fitted = TextTokenizer(**params).fit(documents)
    tokenizer = TextTokenizer(**params)
    assert_array_equal(tokenizer.fit_transform(documents), fitted.transform(documents))
    assert tokenizer.vocabulary_ == fitted.vocabulary_
    assert tokenizer.max_length_ == fitted.max_length_


def test_text_tokenizer_chinese_and_emoji():
    """Check that Chinese characters and emoji get ids of their own."""
    tokenizer = TextTokenizer(max_length=None).fit(["我爱电影 😀", "电影 good"])
    assert {"我", "爱", "电", "影", "😀", "good"} == set(tokenizer.vocabulary_)
    ids = tokenizer.transform(["电影😀"])
    assert tokenizer.inverse_transform(ids) == [["电", "影", "😀"]]


def test_text_tokenizer_accepts_array_and_series():
    """Check that a 1-D object array and a pandas Series give the same ids."""
    pd = pytest.importorskip("pandas")
    documents = ["a good film", "a bad one", "😀"]
    expected = TextTokenizer().fit_transform(documents)
    assert_array_equal(
        TextTokenizer().fit_transform(np.array(documents, dtype=object)), expected
    )
    assert_array_equal(TextTokenizer().fit_transform(pd.Series(documents)), expected)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("one document", ValueError, "single str"),
        (["a", 3], TypeError, "element 1 is int"),
        (["a", None], TypeError, "element 1 is NoneType"),
        (np.array([["a", "b"]]), ValueError, "1-D"),
        ([], ValueError, "no documents"),
        ([b"bytes"], TypeError, "bytes"),
    ],
)
def test_text_tokenizer_rejects_non_text(X, error, match):
    """Check that anything but an iterable of str is refused with a clear error."""
    with pytest.raises(error, match=match):
        TextTokenizer().fit(X)
    tokenizer = TextTokenizer().fit(["a b"])
    with pytest.raises(error, match=match):
        tokenizer.transform(X)


def test_text_tokenizer_invalid_parameters():
    """Check that invalid parameters are named at fit."""
    with pytest.raises(ValueError, match="max_length"):
        TextTokenizer(max_length=0).fit(["a"])
    with pytest.raises(ValueError, match="truncation"):
        TextTokenizer(truncation="middle").fit(["a"])
    with pytest.raises(ValueError, match="ngram_range"):
        TextTokenizer(ngram_range=(3, 1)).fit(["a"])
    with pytest.raises(ValueError, match="repeat"):
        TextTokenizer(vocabulary=["a", "a"]).fit(["a"])


def test_text_tokenizer_inverse_transform_checks_ids():
    """Check that inverse_transform refuses floats and ids outside the vocabulary."""
    tokenizer = TextTokenizer().fit(["a b"])
    with pytest.raises(ValueError, match="integer"):
        tokenizer.inverse_transform([[0.5, 1.0]])
    with pytest.raises(ValueError, match="vocab_size_"):
        tokenizer.inverse_transform([[2, 9]])


def test_text_tokenizer_tags_and_feature_names():
    """Check the string-input tags and the output feature names."""
    tokenizer = TextTokenizer(max_length=3).fit(["a b"])
    tags = get_tags(tokenizer)
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert list(tokenizer.get_feature_names_out()) == [
        "texttokenizer0",
        "texttokenizer1",
        "texttokenizer2",
    ]
    analyzer = tokenizer.build_analyzer()
    assert isinstance(analyzer, TextAnalyzer)
    assert analyzer("A b") == ["a", "b"]


def test_text_analyzer_is_a_scikit_learn_base_estimator():
    """Check that the analyzer's parameters and repr are BaseEstimator's."""
    analyzer = TextAnalyzer("char_wb", ngram_range=(2, 3))
    assert isinstance(analyzer, BaseEstimator)
    assert repr(analyzer) == "TextAnalyzer(analyzer='char_wb', ngram_range=(2, 3))"
    assert repr(TextAnalyzer()) == "TextAnalyzer()"
    assert analyzer.get_params() == {
        "analyzer": "char_wb",
        "lowercase": True,
        "ngram_range": (2, 3),
        "segmenter": None,
    }
    cloned = clone(analyzer)
    assert cloned is not analyzer and cloned("ab") == analyzer("ab")
