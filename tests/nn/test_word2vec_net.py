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
    steps = []
    for step, X in corpus.batches(batch_size=3):
        steps.append(step)
        assert set(X) == {"inputs", "targets", "negatives"}
        assert X["negatives"].shape == (len(X["targets"]), 3)
        # Word 5 never occurs, so it is never drawn as a negative.
        assert (X["negatives"] < 5).all()
        pairs.update(zip(X["inputs"].tolist(), X["targets"].tolist()))
    assert steps == list(range(corpus.steps(batch_size=3))) == [0, 1, 2]
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
    """Check CBOW bags given by offsets, and passes repeated under a seed."""

    def one_pass(seed):
        corpus = _corpus(skipgram=False, seed=seed)
        return [X for _, X in corpus.batches(batch_size=100)]

    (batch,) = one_pass(0)
    assert_close(batch["targets"], torch.tensor([0, 1, 2, 3, 4, 0, 1, 2]))
    offsets = batch["offsets"].tolist()
    assert offsets[0] == 0 and len(offsets) == 8
    sizes = np.diff(offsets + [len(batch["inputs"])])
    # Windows of 1 or 2 words on each side, cut at the ends of the documents.
    assert (sizes >= 1).all() and (sizes <= [2, 3, 4, 3, 2, 2, 2, 2]).all()
    bags = np.split(batch["inputs"].numpy(), offsets[1:])
    tokens = [0, 1, 2, 3, 4, 0, 1, 2]
    documents = [0, 0, 0, 0, 0, 1, 1, 1]
    for centre, bag in enumerate(bags):
        near = [
            tokens[j]
            for j in range(8)
            if 0 < abs(j - centre) <= 2 and documents[j] == documents[centre]
        ]
        assert set(bag) <= set(near)
    assert_close(one_pass(0)[0]["negatives"], batch["negatives"])
    assert not torch.equal(one_pass(1)[0]["negatives"], batch["negatives"])


def test_word2vec_corpus_steps_read_stretches_side_by_side():
    """Check that step t holds position t of each of batch_size stretches."""
    corpus = Word2VecCorpus(
        tokens=torch.arange(12),
        documents=torch.zeros(12, dtype=torch.int64),
        counts=np.ones(12),
        n_words=12,
        sample=0.0,
        window=1,
        negative=1,
        skipgram=False,
        device="cpu",
        seed=0,
    )
    assert corpus.steps(batch_size=3) == 4
    targets = {step: X["targets"].tolist() for step, X in corpus.batches(3)}
    assert targets == {0: [0, 4, 8], 1: [1, 5, 9], 2: [2, 6, 10], 3: [3, 7, 11]}
    # A last stretch shorter than the others.
    targets = {step: X["targets"].tolist() for step, X in corpus.batches(5)}
    assert targets == {0: [0, 3, 6, 9], 1: [1, 4, 7, 10], 2: [2, 5, 8, 11]}


def test_word2vec_corpus_negatives_follow_the_noise_distribution():
    """Check that negatives are drawn in proportion to count**0.75, never unseen."""
    counts = np.array([0, 50, 5, 0, 500, 1, 20])
    corpus = Word2VecCorpus(
        tokens=torch.tensor([1, 2, 4, 5, 6]),
        documents=torch.zeros(5, dtype=torch.int64),
        counts=counts,
        n_words=7,
        sample=0.0,
        window=1,
        negative=1,
        skipgram=True,
        device="cpu",
        seed=0,
    )
    expected = counts**0.75 / (counts**0.75).sum()
    # The alias table holds exactly the noise distribution.
    n_columns = len(corpus.noise_words)
    exact = np.zeros(7)
    np.add.at(exact, corpus.noise_words.numpy(), corpus.noise_probability.numpy())
    np.add.at(exact, corpus.noise_alias.numpy(), 1 - corpus.noise_probability.numpy())
    assert_close(exact / n_columns, expected, rtol=1e-6, atol=1e-7)
    draws = corpus.draw_negatives((200_000,))
    frequency = np.bincount(draws.numpy(), minlength=7) / 200_000
    assert frequency[0] == frequency[3] == 0
    assert_close(frequency, expected, rtol=0, atol=0.005)


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
    kept = sum(int((X["targets"] == 0).sum()) for _, X in corpus.batches(1000))
    assert abs(kept / 900 - expected) < 0.05


def _samples(kind, n_words, generator):
    """Inputs (and offsets) of 7 samples: single words, padded bags or offsets."""
    if kind == "single":
        return torch.randint(0, n_words, (7,), generator=generator), None
    if kind == "padded":
        inputs = torch.randint(0, n_words, (7, 4), generator=generator)
        inputs[:, 2:][torch.rand(7, 2, generator=generator) < 0.5] = n_words
        return inputs, None
    inputs = torch.randint(0, n_words, (15,), generator=generator)
    return inputs, torch.tensor([0, 2, 3, 6, 8, 12, 13])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["single", "padded", "offsets"])
@pytest.mark.parametrize("kernel", ["sampled", "gathered"])
@pytest.mark.parametrize("mode", ["unscaled", "mean"])
def test_word2vec_net_sgd_step_is_sgd_on_the_summed_loss(dtype, kind, kernel, mode):
    """Check that sgd_step is one SGD step on the summed loss, as autograd gives it."""
    generator = torch.Generator().manual_seed(0)
    n_words = 12
    reference = Word2VecNet(n_words, 5, cbow_mean_grad=mode, sparse=False).to(dtype)
    with torch.no_grad():
        reference.output_vectors.weight.normal_(generator=generator)
    module = Word2VecNet(n_words, 5, cbow_mean_grad=mode).to(dtype)
    module.load_state_dict(reference.state_dict())
    inputs, offsets = _samples(kind, n_words, generator)
    targets = torch.randint(0, n_words, (7,), generator=generator)
    negatives = torch.randint(0, n_words, (7, 3), generator=generator)
    negatives[0, 1] = targets[0]  # skipped, as in word2vec
    negatives[1] = negatives[1, 0]  # the same word three times
    scores = reference(inputs, targets, negatives, offsets)
    loss = NegativeSamplingLoss("sum")(scores, negatives != targets.unsqueeze(1))
    loss.backward()

    step_loss = module.sgd_step(
        inputs, targets, negatives, learning_rate=0.1, offsets=offsets, kernel=kernel
    )
    assert_close(step_loss, loss.detach())
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter -= 0.1 * parameter.grad
    assert_close(module.word_vectors, reference.word_vectors)
    assert_close(module.output_vectors.weight, reference.output_vectors.weight)
    # The padding row stays zero.
    assert_close(module.input_vectors.weight[n_words], torch.zeros(5, dtype=dtype))


def test_word2vec_net_sgd_step_leaves_frozen_vectors():
    """Check that frozen input vectors stay fixed while output vectors learn."""
    given = torch.randn(6, 3)
    module = Word2VecNet(6, 3, embeddings=given, freeze_embeddings=True)
    module.sgd_step(
        torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5], [0]]), 0.5
    )
    assert_close(module.word_vectors, given)
    assert module.output_vectors.weight.abs().sum() > 0


@pytest.mark.parametrize("skipgram", [True, False])
def test_word2vec_corpus_samples_every_position_once_over_many_rounds(skipgram):
    """Check a long pass: each position once, in its step, with its whole window."""
    n, window, batch_size = 40_000, 3, 64
    documents = np.sort(np.random.RandomState(0).randint(0, 2_000, n))
    # Each position holds its own word, so that words tell positions.
    corpus = Word2VecCorpus(
        tokens=torch.arange(n),
        documents=torch.from_numpy(documents),
        counts=np.ones(n),
        n_words=n,
        sample=0.0,
        window=window,
        negative=1,
        skipgram=skipgram,
        device="cpu",
        seed=0,
    )
    n_steps = corpus.steps(batch_size)
    centres, steps = [], []
    for step, X in corpus.batches(batch_size):
        steps.append(step)
        targets, inputs = X["targets"].numpy(), X["inputs"].numpy()
        assert (targets % n_steps == step).all()
        if skipgram:
            distance = np.abs(inputs - targets)
            assert ((distance >= 1) & (distance <= window)).all()
            assert (documents[inputs] == documents[targets]).all()
            centres.extend(np.unique(targets))
            continue
        for centre, bag in zip(targets, np.split(inputs, X["offsets"].numpy()[1:])):
            reach = np.abs(bag - centre).max()
            expected = [
                j
                for j in range(centre - reach, centre + reach + 1)
                if j != centre and 0 <= j < n and documents[j] == documents[centre]
            ]
            assert reach <= window and sorted(bag) == expected
        centres.extend(targets)
    assert steps == sorted(set(steps)) and len(steps) == n_steps
    # Positions alone in their document have no context, hence no sample.
    alone = np.flatnonzero(np.bincount(documents) == 1)
    assert sorted(centres) == sorted(
        set(range(n)) - set(np.flatnonzero(np.isin(documents, alone)))
    )


@pytest.mark.parametrize("kernel", ["sampled", "gathered"])
def test_word2vec_net_sgd_step_with_fewer_words_than_scores(kernel):
    """Check a step whose samples hold more scores (1 + K) than there are words."""
    reference = Word2VecNet(2, 3, sparse=False)
    with torch.no_grad():
        reference.output_vectors.weight.normal_(
            generator=torch.Generator().manual_seed(0)
        )
    module = Word2VecNet(2, 3)
    module.load_state_dict(reference.state_dict())
    inputs, targets = torch.tensor([0, 1]), torch.tensor([1, 0])
    negatives = torch.tensor([[0, 0, 1, 0, 0], [1, 1, 0, 0, 1]])
    scores = reference(inputs, targets, negatives)
    NegativeSamplingLoss("sum")(scores, negatives != targets.unsqueeze(1)).backward()
    module.sgd_step(inputs, targets, negatives, learning_rate=0.1, kernel=kernel)
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter -= 0.1 * parameter.grad
    assert_close(module.word_vectors, reference.word_vectors)
    assert_close(module.output_vectors.weight, reference.output_vectors.weight)
