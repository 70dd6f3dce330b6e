"""Tests of the Transformer encoder estimators and their network."""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sklearn_histai.neural_network import (
    TransformerEncoderClassifier,
    TransformerEncoderRegressor,
)
from sklearn_histai.nn import (
    MultiHeadSelfAttention,
    TransformerEncoderNet,
    sequence_lengths,
    sinusoidal_positions,
)
from sklearn_histai.nn._transformer import _length_groups
from sklearn_histai.text import make_text_classifier


def _order_task(n_samples=600, length=8, seed=0):
    """Token rows whose label is whether id 3 comes before id 4.

    Both ids occur once in every row, so a bag of tokens (no positions)
    cannot tell the classes apart.
    """
    rng = np.random.RandomState(seed)
    X = rng.randint(5, 20, size=(n_samples, length))
    y = np.zeros(n_samples, dtype=int)
    for row in range(n_samples):
        first, second = rng.choice(length, size=2, replace=False)
        X[row, first], X[row, second] = 3, 4
        y[row] = first < second
    return X, y


def _fast(cls, **params):
    defaults = dict(d_model=16, num_heads=2, max_iter=40, random_state=0)
    return cls(**{**defaults, **params})


def test_attention_matches_explicit_softmax():
    """The fused kernel computes softmax(QK^T / sqrt(d)) V with the mask applied."""
    torch.manual_seed(0)
    attention = MultiHeadSelfAttention(8, num_heads=2).double()
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    lengths = torch.tensor([5, 3, 1])
    mask = (torch.arange(5) < lengths[:, None])[:, None, None, :]
    weights = attention.attention_weights(x, mask)
    q, k, v = attention._heads(x)
    expected = attention.out((weights @ v).transpose(1, 2).reshape(x.shape))
    assert_allclose(attention(x, mask).detach(), expected.detach(), rtol=1e-10)
    assert_allclose(weights.sum(-1).detach(), np.ones((3, 2, 5)))
    assert (weights[1, :, :, 3:] == 0).all()
    causal = attention.attention_weights(x, causal=True)
    assert (causal[:, :, 0, 1:] == 0).all()
    assert_allclose(
        attention(x, causal=True).detach(),
        attention.out((causal @ v).transpose(1, 2).reshape(x.shape)).detach(),
        rtol=1e-10,
    )


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_padding_never_changes_the_output(pooling, positions):
    torch.manual_seed(0)
    net = TransformerEncoderNet(
        None,
        2,
        n_positions=6,
        d_model=8,
        num_heads=2,
        vocab_size=20,
        padding_value=0,
        pooling=pooling,
        positions=positions,
    ).eval()
    X = torch.tensor([[4, 7, 9, 0, 0, 0], [5, 6, 7, 8, 9, 10]])
    both = net(X)
    assert torch.allclose(both[0], net(X[:1, :3])[0], atol=1e-6)
    assert torch.allclose(both[1], net(X[1:])[0], atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_length_groups_keep_each_rows_output_and_gradient(pooling):
    """Check that reading a batch in groups of similar length changes nothing.

    A batch of rows of many lengths is read sorted by length, in groups cut
    to their own longest row; each row must get the output, and the
    weights the gradient, that the rows give one at a time.
    """
    torch.manual_seed(0)
    net = TransformerEncoderNet(
        None,
        2,
        n_positions=30,
        d_model=8,
        num_heads=2,
        vocab_size=20,
        padding_value=0,
        dropout=0.0,
        pooling=pooling,
    ).double()
    lengths = torch.randint(1, 31, (40,))
    lengths[:10] = 30
    X = torch.randint(1, 20, (40, 30))
    X[torch.arange(30) >= lengths[:, None]] = 0
    groups = _length_groups(sequence_lengths(X, 0) + (pooling == "cls"))
    assert len(groups) > 1
    assert sorted(torch.cat([rows for rows, _ in groups]).tolist()) == list(range(40))
    for rows, width in groups:
        assert width == int(lengths[rows].max()) + (pooling == "cls")

    net(X).sum().backward()
    batched = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    single = torch.cat([net(X[i : i + 1]) for i in range(len(X))])
    single.sum().backward()
    assert_allclose(net.eval()(X).detach(), single.detach(), rtol=1e-10, atol=1e-12)
    for grad, reference in zip(batched, (p.grad for p in net.parameters())):
        assert_allclose(grad, reference, rtol=1e-8, atol=1e-12)


def test_positions_table_is_learned_or_fixed():
    learned = TransformerEncoderNet(3, 2, n_positions=4, d_model=8, num_heads=2)
    fixed = TransformerEncoderNet(
        3, 2, n_positions=4, d_model=8, num_heads=2, positions="sinusoidal"
    )
    assert any(p is learned.positions for p in learned.parameters())
    assert not any(p is fixed.positions for p in fixed.parameters())
    assert_allclose(fixed.positions, sinusoidal_positions(4, 8))


def test_classifier_learns_word_order():
    """Mean pooling over attention with positions solves an order-only task."""
    X, y = _order_task()
    clf = _fast(TransformerEncoderClassifier, vocab_size=20, max_iter=60)
    clf.fit(X[:500], y[:500])
    assert clf.score(X[500:], y[500:]) > 0.9


def test_cls_pooling_and_attention_weights():
    X, y = _order_task(n_samples=200)
    X[:, -2:] = 0  # padding at the end of every row
    clf = _fast(TransformerEncoderClassifier, vocab_size=20, pooling="cls", max_iter=5)
    clf.fit(X, y)
    weights = clf.attention_weights(X[:3])
    # rows, layers, heads, then [CLS] + the 6 real steps (padding dropped)
    assert weights.shape == (3, 2, 2, 7, 7)
    assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)


def test_attention_weights_mask_padding_keys():
    X, y = _order_task(n_samples=100)
    X[0, 5:] = 0
    clf = _fast(TransformerEncoderClassifier, vocab_size=20, max_iter=3).fit(X, y)
    weights = clf.attention_weights(X[:2])
    assert weights.shape == (2, 2, 2, 8, 8)
    assert (weights[0, :, :, :, 5:] == 0).all()
    assert (weights[1] > 0).all()


def test_regressor_on_float_sequences():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 12))
    # The target needs the order of the steps: first half minus second half.
    y = X[:, :6].sum(axis=1) - X[:, 6:].sum(axis=1)
    reg = _fast(TransformerEncoderRegressor, n_features_per_step=2, max_iter=80)
    reg.fit(X[:250], y[:250])
    assert reg.score(X[250:], y[250:]) > 0.8
    assert reg.net_.module_.positions.shape == (6, 16)


def test_float64_input_trains_in_float64():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 6)), rng.randint(0, 2, 40)
    clf = _fast(TransformerEncoderClassifier, max_iter=2).fit(X, y)
    assert next(clf.net_.module_.parameters()).dtype == torch.float64
    clf32 = clone(clf).fit(X.astype(np.float32), y)
    assert next(clf32.net_.module_.parameters()).dtype == torch.float32


def test_pretrained_embeddings_are_projected_and_frozen():
    X, y = _order_task(n_samples=100)
    embeddings = np.random.RandomState(0).normal(size=(20, 6))
    clf = _fast(
        TransformerEncoderClassifier,
        vocab_size=20,
        embeddings=embeddings,
        freeze_embeddings=True,
        max_iter=3,
    ).fit(X, y)
    module = clf.net_.module_
    assert module.input_projection.weight.shape == (16, 6)
    assert_allclose(module.embedding.weight.detach().numpy(), embeddings, rtol=1e-6)


def test_heads_must_divide_d_model():
    X, y = _order_task(n_samples=50)
    clf = TransformerEncoderClassifier(d_model=10, num_heads=4, vocab_size=20)
    with pytest.raises(ValueError, match="num_heads=4 must divide d_model=10"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_steps_must_divide_features():
    X = np.zeros((10, 7))
    with pytest.raises(ValueError, match="n_features_per_step=2"):
        TransformerEncoderRegressor(n_features_per_step=2).fit(X, np.zeros(10))


def test_warm_start_refuses_a_new_architecture():
    X, y = _order_task(n_samples=60)
    clf = _fast(
        TransformerEncoderClassifier, vocab_size=20, max_iter=2, warm_start=True
    )
    clf.fit(X, y)
    clf.set_params(num_layers=3)
    with pytest.raises(ValueError, match="num_layers"):
        clf.fit(X, y)


def test_text_kind_transformer():
    X = ["a good film", "great acting", "a bad plot", "awful, boring"] * 10
    y = [1, 1, 0, 0] * 10
    clf = make_text_classifier(
        "transformer",
        max_vocabulary=50,
        random_state=0,
        classifier__max_iter=30,
    )
    clf.fit(X, y)
    assert clf.predict(["good acting", "boring plot"]).tolist() == [1, 0]
    model = clf.named_steps["classifier"]
    assert isinstance(model, TransformerEncoderClassifier)
    assert model.vocab_size == 52


def test_text_kind_transformer_warms_up_and_decays_its_learning_rate():
    """Check that the text kind's rate rises, then falls to zero within its epochs."""
    X = ["a good film", "great acting", "a bad plot", "awful, boring"] * 10
    y = [1, 1, 0, 0] * 10
    clf = make_text_classifier(
        "transformer",
        max_vocabulary=50,
        random_state=0,
        classifier__d_model=8,
        classifier__num_heads=2,
        classifier__batch_size=8,
    )
    # The schedule ends at max_iter by design: no warning of non-convergence.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    model = clf.named_steps["classifier"]
    rates = [
        row["event_lr"] for epoch in model.net_.history for row in epoch["batches"]
    ]
    assert len(rates) == 6 * 5  # 6 epochs of 5 batches
    peak = int(np.argmax(rates))
    assert 0 < peak < len(rates) // 4
    assert rates[peak] == pytest.approx(3e-3)
    assert np.all(np.diff(rates[: peak + 1]) > 0)
    assert np.all(np.diff(rates[peak:]) <= 0)
    assert rates[-1] < rates[peak] / 20
