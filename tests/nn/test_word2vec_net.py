"""Check the word2vec network, its loss and its sampler."""

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from sklearn_histai.nn import NegativeSamplingLoss, Word2VecCorpus, Word2VecNet


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bag", [None, 3])
def test_word2vec_net_scores_targets_and_negatives(dtype, bag):
    """Check that the scores are dot products of the input mean and output vectors."""
    torch.manual_seed(0)
    module = Word2VecNet(10, 4).to(dtype)
    with torch.no_grad():
        module.output_vectors.weight.normal_()
    shape = (5,) if bag is None else (5, bag)
    inputs = torch.randint(0, 10, shape)
    targets = torch.randint(0, 10, (5,))
    negatives = torch.randint(0, 10, (5, 2))
    scores = module(inputs, targets, negatives)
    assert scores.shape == (5, 3) and scores.dtype == dtype
    hidden = module.word_vectors[inputs]
    hidden = hidden if bag is None else hidden.mean(dim=1)
    outputs = module.output_vectors.weight[torch.cat([targets[:, None], negatives], 1)]
    assert_close(scores, torch.einsum("bd,bkd->bk", hidden, outputs))
    NegativeSamplingLoss("sum")(scores).backward()
    assert module.input_vectors.weight.grad is not None


def test_word2vec_net_initialisation():
    """Check word2vec.c's start: small uniform inputs, zero outputs, zero padding."""
    torch.manual_seed(0)
    module = Word2VecNet(50, 8)
    weight = module.input_vectors.weight
    assert weight.shape == (51, 8)
    assert weight[:50].abs().max() <= 0.5 / 8 and weight[:50].abs().max() > 0.01
    assert_close(weight[50], torch.zeros(8))
    assert_close(module.output_vectors.weight, torch.zeros(50, 8))
    given = torch.randn(50, 8)
    frozen = Word2VecNet(50, 8, embeddings=given, freeze_embeddings=True)
    assert_close(frozen.word_vectors, given)
    assert not frozen.input_vectors.weight.requires_grad


def test_word2vec_net_padding_is_left_out_of_the_mean():
    """Check that padding positions of a CBOW bag change neither score nor mean."""
    torch.manual_seed(0)
    module = Word2VecNet(6, 3)
    with torch.no_grad():
        module.output_vectors.weight.normal_()
    targets, negatives = torch.tensor([1]), torch.tensor([[2, 3]])
    short = module(torch.tensor([[4, 5]]), targets, negatives)
    padded = module(torch.tensor([[4, 6, 5, 6]]), targets, negatives)
    assert_close(short, padded)


@pytest.mark.parametrize("mode, factor", [("unscaled", 1.0), ("mean", 0.5)])
def test_word2vec_net_cbow_gradient_reaches_each_context_word(mode, factor):
    """Check that each context word gets the error of the mean, as in gensim."""
    torch.manual_seed(0)
    module = Word2VecNet(6, 3, cbow_mean_grad=mode, sparse=False)
    with torch.no_grad():
        module.output_vectors.weight.normal_()
    scores = module(torch.tensor([[4, 5]]), torch.tensor([1]), torch.tensor([[2]]))
    NegativeSamplingLoss("sum")(scores).backward()
    hidden_grad = (torch.sigmoid(scores) - torch.tensor([[1.0, 0.0]])) @ (
        module.output_vectors.weight[[1, 2]]
    )
    grad = module.input_vectors.weight.grad
    assert_close(grad[4], factor * hidden_grad[0])
    assert_close(grad[5], factor * hidden_grad[0])
    assert_close(grad[[0, 1, 2, 3, 6]], torch.zeros(5, 3))


def test_negative_sampling_loss_formula_and_mask():
    """Check -log σ(s₀) - Σ log σ(-sₖ), with masked negatives left out."""
    scores = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    mask = torch.tensor([[True, False], [True, True]])
    log_sigmoid = torch.nn.functional.logsigmoid
    expected = torch.stack(
        [
            -log_sigmoid(torch.tensor(2.0)) - log_sigmoid(torch.tensor(1.0)),
            -log_sigmoid(torch.tensor(0.0))
            - log_sigmoid(torch.tensor(-3.0))
            - log_sigmoid(torch.tensor(2.0)),
        ]
    )
    assert_close(NegativeSamplingLoss()(scores, mask), expected)
    assert_close(NegativeSamplingLoss("mean")(scores, mask), expected.mean())
    assert_close(NegativeSamplingLoss("sum")(scores, mask), expected.sum())


def _corpus(skipgram, sample=0.0, window=2, seed=0):
    tokens = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    documents = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1])
    return Word2VecCorpus(
        tokens=tokens,
        documents=documents,
        counts=np.bincount(tokens.numpy(), minlength=6),
        n_words=6,
        sample=sample,
        window=window,
        negative=3,
        skipgram=skipgram,
        device="cpu",
        seed=seed,
    )


def test_word2vec_corpus_skipgram_pairs_stay_in_windows_and_documents():
    """Check that skip-gram pairs are within the window and never cross documents."""
    corpus = _corpus(skipgram=True)
    tokens, documents = corpus.tokens.tolist(), corpus.documents.tolist()
    pairs = set()
    for X, y in corpus.batches(batch_size=3):
        assert y is None
        assert X["negatives"].shape == (len(X["targets"]), 3)
        # Word 5 never occurs, so it is never drawn as a negative.
        assert (X["negatives"] < 5).all()
        pairs.update(zip(X["inputs"].tolist(), X["targets"].tolist()))
    allowed = {
        (tokens[j], tokens[i])
        for i in range(8)
        for j in range(8)
        if 0 < abs(i - j) <= 2 and documents[i] == documents[j]
    }
    assert pairs and pairs <= allowed
    # Word 4 (end of document 0) and word 0 (start of document 1) are 3 apart
    # in the corpus but in different documents.
    assert (4, 0) not in pairs and (0, 4) not in pairs


def test_word2vec_corpus_cbow_bags_and_repeatable_passes():
    """Check CBOW bags padded with n_words, and passes repeated under a seed."""

    def one_pass(seed):
        corpus = _corpus(skipgram=False, seed=seed)
        return [X for X, _ in corpus.batches(batch_size=100)]

    (batch,) = one_pass(0)
    assert batch["inputs"].shape == (8, 4)
    assert ((batch["inputs"] < 5) | (batch["inputs"] == 6)).all()
    assert_close(batch["targets"], torch.tensor([0, 1, 2, 3, 4, 0, 1, 2]))
    assert_close(one_pass(0)[0]["negatives"], batch["negatives"])
    assert not torch.equal(one_pass(1)[0]["negatives"], batch["negatives"])


def test_word2vec_corpus_subsamples_frequent_words():
    """Check that a frequent word is kept with word2vec's probability."""
    tokens = torch.tensor([0] * 900 + list(range(1, 101)))
    counts = np.bincount(tokens.numpy())
    corpus = Word2VecCorpus(
        tokens=tokens,
        documents=torch.zeros(1000, dtype=torch.int64),
        counts=counts,
        n_words=101,
        sample=0.01,
        window=1,
        negative=1,
        skipgram=False,
        device="cpu",
        seed=0,
    )
    threshold = 0.01 * 1000
    expected = (np.sqrt(900 / threshold) + 1) * threshold / 900
    assert_close(corpus.keep_probability[0].item(), expected, rtol=1e-6, atol=0)
    assert corpus.keep_probability[1:].min() == 1.0
    kept = sum(int((X["targets"] == 0).sum()) for X, _ in corpus.batches(1000))
    assert abs(kept / 900 - expected) < 0.05
