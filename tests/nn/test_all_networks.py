"""Check every torch architecture of ``sklearn_histai.nn`` the same way."""

import pytest
import torch
from torch.testing import assert_close

from sklearn_histai.nn import MLP, LeNet, RecurrentNet, sequence_lengths

# (module factory, input factory) for each architecture and mode.
NETWORKS = {
    "mlp": (lambda: MLP(6, 3, (8, 4), dropout=0.1), lambda: torch.randn(5, 6)),
    "lenet-2d": (lambda: LeNet((1, 8, 8), 3), lambda: torch.randn(5, 64)),
    "lenet-1d": (lambda: LeNet((1, 7), 3), lambda: torch.randn(5, 7)),
    "lenet-1-feature": (lambda: LeNet((1, 1), 3), lambda: torch.randn(5, 1)),
    "lenet-even-kernel": (
        lambda: LeNet((2, 3, 5), 3, kernel_size=4),
        lambda: torch.randn(5, 30),
    ),
    "rnn": (
        lambda: RecurrentNet(2, 3, cell="rnn", hidden_size=4),
        lambda: torch.randn(5, 8),
    ),
    "lstm-bi-stacked": (
        lambda: RecurrentNet(2, 3, hidden_size=4, num_layers=2, bidirectional=True),
        lambda: torch.randn(5, 8),
    ),
    "gru-tokens": (
        lambda: RecurrentNet(
            None,
            3,
            cell="gru",
            hidden_size=4,
            vocab_size=11,
            embedding_dim=5,
            padding_value=0,
        ),
        lambda: torch.randint(0, 11, (5, 7)),
    ),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_network_forward_backward_dtype(name, dtype):
    """Check that each network maps (batch, features) to (batch, 3) and trains."""
    torch.manual_seed(0)
    make_module, make_input = NETWORKS[name]
    module = make_module().to(dtype)
    X = make_input()
    if X.is_floating_point():
        X = X.to(dtype)
    out = module(X)
    assert out.shape == (5, 3)
    assert out.dtype == dtype
    out.square().sum().backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_sequence_lengths_tokens_and_float_steps():
    """Check that trailing padding is measured and inner padding is kept."""
    tokens = torch.tensor([[4, 0, 2, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5]])
    assert sequence_lengths(tokens, 0).tolist() == [3, 1, 5]
    steps = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]]])
    assert sequence_lengths(steps, 0.0).tolist() == [1, 2]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_net_padding_never_changes_the_output(cell, bidirectional):
    """Check that right padding gives the output of the unpadded sequence."""
    torch.manual_seed(0)
    module = RecurrentNet(
        None,
        2,
        cell=cell,
        hidden_size=6,
        num_layers=2,
        bidirectional=bidirectional,
        vocab_size=20,
        embedding_dim=4,
        padding_value=0,
    ).eval()
    short = torch.tensor([[3, 7, 5]])
    padded = torch.tensor([[3, 7, 5, 0, 0, 0]])
    assert_close(module(short), module(padded))


def test_recurrent_net_pretrained_embeddings_can_be_frozen():
    """Check that frozen pretrained embeddings are used as given and not trained."""
    weights = torch.randn(10, 3)
    module = RecurrentNet(
        None,
        2,
        vocab_size=10,
        embeddings=weights,
        freeze_embeddings=True,
        padding_value=0,
    )
    assert_close(module.embedding.weight, weights)
    assert not module.embedding.weight.requires_grad
