"""Check the bottleneck adapters and prefix tuning on a tiny BERT encoder."""

import copy

import pytest
import torch
from torch.testing import assert_close

from sklearn_histai.nn import (
    BottleneckAdapter,
    PrefixEncoder,
    PrefixSelfAttention,
    PrefixTuning,
    add_bottleneck_adapters,
)


def tiny_bert(attn_implementation="sdpa"):
    """A randomly initialised 2-layer BERT classifier with 3 labels.

    Only the tests that build it need transformers; they skip without it.
    """
    transformers = pytest.importorskip("transformers", reason="needs the [peft] extra")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=3,
    )
    config._attn_implementation = attn_implementation
    return transformers.BertForSequenceClassification(config).eval()


def last_hidden(model, input_ids, attention_mask):
    out = model(
        input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
    )
    return out.hidden_states[-1]


def padded_batch():
    torch.manual_seed(1)
    input_ids = torch.randint(1, 50, (3, 7))
    attention_mask = torch.ones_like(input_ids)
    input_ids[0, 4:] = 0
    attention_mask[0, 4:] = 0
    return input_ids, attention_mask


def test_bottleneck_adapter_starts_as_the_identity_and_trains():
    """Check that a new adapter is the identity and gets gradients at once."""
    torch.manual_seed(0)
    adapter = BottleneckAdapter(8, 2)
    x = torch.randn(4, 5, 8)
    assert_close(adapter(x), x)
    adapter(x).square().sum().backward()
    assert adapter.up.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_add_bottleneck_adapters_keeps_outputs_then_changes_them(attn_implementation):
    """Check that adapters sit after both sublayers and start without effect."""
    model = tiny_bert(attn_implementation)
    input_ids, attention_mask = padded_batch()
    expected = last_hidden(model, input_ids, attention_mask)
    adapted = copy.deepcopy(model)
    names = add_bottleneck_adapters(adapted, adapter_size=4)
    assert names == [
        f"bert.encoder.layer.{i}.{block}.dense"
        for i in range(2)
        for block in ("attention.output", "output")
    ]
    got = last_hidden(adapted, input_ids, attention_mask)
    assert_close(got, expected)
    with torch.no_grad():
        for module in adapted.modules():
            if isinstance(module, BottleneckAdapter):
                module.down.weight.normal_()
                module.up.weight.normal_()
    got = last_hidden(adapted, input_ids, attention_mask)
    assert (got - expected).abs().max() > 1e-2


def test_add_bottleneck_adapters_rejects_a_model_without_sublayer_blocks():
    """Check that a model without BERT-style output blocks gets a clear error."""
    with pytest.raises(ValueError, match="sublayer output block"):
        add_bottleneck_adapters(torch.nn.Sequential(torch.nn.Linear(3, 3)), 2)


@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_prefix_self_attention_attends_to_the_prefix_as_to_extra_tokens(
    attn_implementation,
):
    """Check that prefixes act as the keys and values of extra hidden states."""
    model = tiny_bert(attn_implementation)
    attention = model.bert.encoder.layer[0].attention.self
    wrapped = PrefixSelfAttention(copy.deepcopy(attention)).eval()
    torch.manual_seed(2)
    x = torch.randn(2, 5, 16)
    extra = torch.randn(3, 16)
    with torch.no_grad():
        wrapped.prefix = torch.stack([attention.key(extra), attention.value(extra)])
        got, _ = wrapped(x)
        both = torch.cat([extra.expand(2, -1, -1), x], dim=1)
        expected, _ = attention(both)
    assert_close(got, expected[:, 3:])


@pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
def test_prefix_tuning_changes_outputs_keeps_padding_masked_and_trains(
    attn_implementation,
):
    """Check prefix tuning: no prefix is the base, padding stays masked, it trains."""
    model = tiny_bert(attn_implementation)
    input_ids, attention_mask = padded_batch()
    expected = last_hidden(model, input_ids, attention_mask)
    tuned = PrefixTuning(copy.deepcopy(model), n_prefix=4).eval()
    assert len(tuned.attentions) == 2
    # Without prefixes the replaced attention computes what the original did.
    base = last_hidden(tuned.model, input_ids, attention_mask)
    assert_close(base, expected, atol=1e-5, rtol=1e-5)
    got = last_hidden(tuned, input_ids, attention_mask)
    assert (got - expected).abs().max() > 1e-2
    # The padded row has the hidden states of its unpadded text.
    alone = last_hidden(tuned, input_ids[:1, :4], attention_mask[:1, :4])
    assert_close(alone, got[:1, :4], atol=1e-5, rtol=1e-5)
    got.square().sum().backward()
    assert tuned.prefix_encoder.prefixes.grad.abs().sum() > 0
    assert all(attention.prefix is None for attention in tuned.attentions)


def test_prefix_encoder_reparametrised_through_an_mlp():
    """Check that the MLP prefixes have the layer-wise shape and train the MLP."""
    torch.manual_seed(0)
    encoder = PrefixEncoder(n_layers=3, n_prefix=5, hidden_size=8, projection_size=7)
    prefixes = encoder()
    assert prefixes.shape == (3, 2, 5, 8)
    assert encoder.prefixes is None
    prefixes.square().sum().backward()
    assert encoder.embedding.grad.abs().sum() > 0
    assert encoder.mlp[0].weight.grad.abs().sum() > 0
    assert PrefixEncoder(3, 5, 8)().shape == (3, 2, 5, 8)


def test_prefix_tuning_rejects_a_model_without_self_attention():
    """Check that a model without query/key/value projections gets a clear error."""
    with pytest.raises(ValueError, match="self-attention"):
        PrefixTuning(torch.nn.Linear(3, 3), n_prefix=2)
