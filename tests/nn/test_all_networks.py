"""Check every torch architecture of ``sklearn_histai.nn`` the same way."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close

from sklearn_histai.nn import (
    MLP,
    EmbeddingBagNet,
    LeNet,
    RecurrentNet,
    StackedRecurrence,
    TextCNN,
    sequence_lengths,
)

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
    "text-cnn": (
        lambda: TextCNN(11, 3, embedding_dim=5, filter_sizes=(1, 2, 4), num_filters=4),
        lambda: torch.randint(0, 11, (5, 3)),
    ),
    "text-cnn-pretrained-unpadded": (
        lambda: TextCNN(
            11, 3, filter_sizes=(2,), padding_value=None, embeddings=torch.randn(11, 6)
        ),
        lambda: torch.randint(0, 11, (5, 7)),
    ),
    "embedding-bag-tokens": (
        lambda: EmbeddingBagNet(None, 3, vocab_size=11, embedding_dim=5, dropout=0.1),
        lambda: torch.randint(0, 11, (5, 7)),
    ),
    "embedding-bag-float": (
        lambda: EmbeddingBagNet(6, 3, embedding_dim=4),
        lambda: torch.randn(5, 6),
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
@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
def test_recurrent_net_padding_never_changes_the_output(cell, bidirectional, pooling):
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
        pooling=pooling,
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


@pytest.mark.parametrize(
    "make_module",
    [
        lambda: TextCNN(20, 2, embedding_dim=4, filter_sizes=(2, 5), num_filters=3),
        lambda: TextCNN(
            20, 2, filter_sizes=(3,), num_filters=3, embeddings=torch.randn(20, 4)
        ),
        lambda: EmbeddingBagNet(None, 2, vocab_size=20, embedding_dim=4),
    ],
    ids=["text-cnn", "text-cnn-pretrained", "embedding-bag"],
)
def test_token_networks_padding_never_changes_the_output(make_module):
    """Check that right padding gives the output of the unpadded row."""
    torch.manual_seed(0)
    module = make_module().eval()
    short = torch.tensor([[3, 7, 5]])
    padded = torch.tensor([[3, 7, 5, 0, 0, 0, 0, 0]])
    assert_close(module(short), module(padded))
    assert_close(module(torch.tensor([[9]])), module(torch.tensor([[9, 0, 0]])))
    assert not torch.equal(module(short), module(torch.tensor([[3, 7, 6]])))


def test_text_cnn_pools_over_every_window():
    """Check max-over-time pooling: moving a token changes nothing, removing it does."""
    torch.manual_seed(0)
    module = TextCNN(10, 2, embedding_dim=3, filter_sizes=(1,), num_filters=2).eval()
    # With width-1 filters, the pooled features are a maximum over tokens.
    assert_close(
        module(torch.tensor([[4, 2, 8, 0]])), module(torch.tensor([[8, 4, 2, 0]]))
    )
    features = torch.relu(module.convs[0](module.embedding.weight[[4, 2]].T[None]))
    pooled = features.amax(dim=2)
    assert_close(module(torch.tensor([[4, 2]])), module.head(pooled))


def _packed_reference(stacked, cell, inputs, lengths):
    """Outputs and final states of torch's own layer, on packed sequences."""
    layers = stacked.layers
    reference = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        inputs.shape[2],
        stacked.hidden_size,
        num_layers=len(layers),
        bidirectional=stacked.bidirectional,
        batch_first=True,
    )
    with torch.no_grad():
        for index, directions in enumerate(layers):
            for direction, module in enumerate(directions):
                suffix = f"_l{index}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(reference, name + suffix).copy_(
                        getattr(module, name + "_l0")
                    )
    packed = pack_padded_sequence(
        inputs, lengths, batch_first=True, enforce_sorted=False
    )
    output, hidden = reference(packed)
    output, _ = pad_packed_sequence(output, batch_first=True)
    if isinstance(hidden, tuple):
        hidden = hidden[0]
    directions = 2 if stacked.bidirectional else 1
    final = hidden[-directions:].transpose(0, 1).reshape(len(inputs), -1)
    return output, final


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_stacked_recurrence_equals_torch_on_packed_sequences(cell, bidirectional):
    """Check that the unpacked masking computes what packed sequences do."""
    torch.manual_seed(0)
    stacked = StackedRecurrence(
        cell, 3, 5, num_layers=2, bidirectional=bidirectional
    ).eval()
    lengths = torch.tensor([4, 7, 1, 7, 2])
    inputs = torch.randn(5, 9, 3)
    output, final = stacked(inputs, lengths)
    expected_output, expected_final = _packed_reference(stacked, cell, inputs, lengths)
    assert output.shape == expected_output.shape == (5, 7, 5 * (1 + bidirectional))
    assert_close(output, expected_output)
    assert_close(final, expected_final)
    # The gradients flow back to the real steps only.
    inputs.requires_grad_(True)
    stacked(inputs, lengths)[1].sum().backward()
    padding = torch.arange(9)[None, :] >= lengths[:, None]
    assert torch.all(inputs.grad[padding] == 0)
    assert torch.any(inputs.grad[~padding] != 0)


def test_recurrent_net_pooling_summarises_the_outputs():
    """Check max and mean pooling against the outputs of the recurrence."""
    torch.manual_seed(0)
    X = torch.tensor([[3, 7, 5, 0], [2, 0, 0, 0]])
    lengths = torch.tensor([3, 1])
    module = RecurrentNet(
        None, 2, hidden_size=4, bidirectional=True, vocab_size=10, padding_value=0
    ).eval()
    outputs, _ = module.rnn(module.embedding(X), lengths)
    expected = {
        "max": torch.stack([outputs[0, :3].amax(dim=0), outputs[1, 0]]),
        "mean": torch.stack([outputs[0, :3].mean(dim=0), outputs[1, 0]]),
    }
    for pooling, summary in expected.items():
        module.pooling = pooling
        assert_close(module(X), module.head(summary))
    with pytest.raises(ValueError, match="pooling must be one of"):
        RecurrentNet(None, 2, vocab_size=10, pooling="sum")
