"""Check the augmentation operations on images, numeric rows and token ids."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_histai.augmentation import (
    AUGMENTATIONS,
    EDA,
    INPUT_KINDS,
    Augmentation,
    AugmentationContext,
    GaussianNoise,
    HorizontalFlip,
    Mixup,
    RandomChoice,
    RandomDeletion,
    RandomInsertion,
    RandomRotation,
    RandomShift,
    RandomSwap,
    SynonymReplacement,
)
from sklearn_histai.augmentation._base import resolve_augmentation

NO_TARGETS = (None, None)


def _edit(operation, ids, context):
    return operation.augment(ids, NO_TARGETS, context)[0]


def _image_context(shape=(1, 5, 5)):
    return AugmentationContext("image", image_shape=shape)


def _token_context(**kwargs):
    return AugmentationContext("tokens", padding=0, protected_ids=(2, 3), **kwargs)


def test_random_shift_moves_each_image_by_its_own_offset():
    """Check that shifts translate a one-pixel image and differ between images."""
    torch.manual_seed(0)
    images = torch.zeros(200, 1, 5, 5)
    images[:, 0, 2, 2] = 1.0
    shifted, _ = RandomShift(max_shift=2).augment(
        images.reshape(200, 25), NO_TARGETS, _image_context()
    )
    shifted = shifted.reshape(200, 5, 5)
    # The pixel is still there, once, within two pixels of the centre.
    assert_allclose(shifted.sum(dim=(1, 2)).numpy(), 1.0)
    where = shifted.reshape(200, 25).argmax(dim=1)
    rows, cols = where // 5, where % 5
    assert rows.min() == 0 and rows.max() == 4 and cols.min() == 0 and cols.max() == 4
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 25


def test_random_shift_pads_with_zeros_and_keeps_channels_apart():
    """Check that a shift brings in zeros and moves every channel alike."""
    torch.manual_seed(1)
    images = torch.arange(1.0, 1 + 2 * 9).reshape(1, 2, 3, 3).repeat(50, 1, 1, 1)
    shifted, _ = RandomShift(max_shift=1).augment(
        images.reshape(50, 18), NO_TARGETS, _image_context((2, 3, 3))
    )
    shifted = shifted.reshape(50, 2, 3, 3)
    # Channel 1 is channel 0 plus 9 wherever the image was, zero elsewhere.
    inside = shifted[:, 0] > 0
    assert_allclose(shifted[:, 1][inside].numpy(), shifted[:, 0][inside].numpy() + 9)
    assert torch.all(shifted[:, 1][~inside] == 0)


def test_horizontal_flip_mirrors_about_half_the_images():
    """Check that p=1 mirrors every image, p=0 none, p=0.5 about half."""
    torch.manual_seed(0)
    X = torch.arange(6.0).reshape(1, 6).repeat(400, 1)
    context = _image_context((1, 2, 3))
    flipped, _ = HorizontalFlip(p=1.0).augment(X, NO_TARGETS, context)
    assert_array_equal(flipped[0].numpy(), [2, 1, 0, 5, 4, 3])
    assert torch.equal(HorizontalFlip(p=0.0).augment(X, NO_TARGETS, context)[0], X)
    half, _ = HorizontalFlip().augment(X, NO_TARGETS, context)
    assert 150 < int((half[:, 0] == 2).sum()) < 250


def test_random_rotation_rotates_within_the_angle():
    """Check that a rotation moves an off-centre pixel by at most its angle."""
    torch.manual_seed(0)
    images = torch.zeros(100, 1, 21, 21)
    images[:, 0, 10, 18] = 1.0  # 8 pixels right of the centre
    rotated, _ = RandomRotation(max_degrees=30).augment(
        images.reshape(100, -1), NO_TARGETS, _image_context((1, 21, 21))
    )
    rotated = rotated.reshape(100, 21, 21)
    ys, xs = torch.meshgrid(torch.arange(21.0), torch.arange(21.0), indexing="ij")
    mass = rotated.sum(dim=(1, 2))
    cy = (rotated * ys).sum(dim=(1, 2)) / mass - 10
    cx = (rotated * xs).sum(dim=(1, 2)) / mass - 10
    angles = torch.rad2deg(torch.atan2(cy, cx)).abs()
    assert angles.max() <= 31 and angles.max() > 20


def test_gaussian_noise_is_relative_to_each_feature_and_spares_padding():
    """Check the noise scale per feature and that padding values stay padding."""
    torch.manual_seed(0)
    X = torch.zeros(20000, 2)
    context = AugmentationContext("tabular", feature_scale=torch.tensor([1.0, 10.0]))
    noisy, _ = GaussianNoise(std=0.2).augment(X, NO_TARGETS, context)
    assert_allclose(noisy.std(dim=0).numpy(), [0.2, 2.0], rtol=0.05)
    padded = torch.tensor([[1.0, 2.0, -1.0, -1.0]] * 10)
    context = AugmentationContext("sequence", padding=-1.0)
    noisy, _ = GaussianNoise(std=1.0).augment(padded, NO_TARGETS, context)
    assert torch.all(noisy[:, 2:] == -1.0) and not torch.equal(noisy, padded)


def test_random_deletion_closes_up_and_keeps_special_tokens():
    """Check that deletion keeps order, special ids, padding width and a token."""
    torch.manual_seed(0)
    ids = torch.tensor([[2, 5, 6, 7, 8, 3, 0, 0]] * 300)
    out = _edit(RandomDeletion(p=0.5), ids, _token_context())
    assert out.shape == ids.shape
    for row in out.tolist():
        real = [i for i in row if i != 0]
        assert real[0] == 2 and real[-1] == 3  # special tokens stay, in place
        words = real[1:-1]
        assert 1 <= len(words) <= 4 and words == sorted(words)
        assert row[len(real) :] == [0] * (8 - len(real))  # padded at the end
    lengths = (out != 0).sum(dim=1).float() - 2
    assert lengths.mean().item() == pytest.approx(2.0, abs=0.2)
    everything = _edit(RandomDeletion(p=1.0), ids[:5], _token_context())
    assert torch.all((everything != 0).sum(dim=1) == 3)


def test_random_swap_permutes_the_words_only():
    """Check that swaps keep each row's multiset of ids and the special positions."""
    torch.manual_seed(0)
    ids = torch.tensor([[2, 5, 6, 7, 8, 9, 3, 0]] * 100)
    out = _edit(RandomSwap(p=0.2), ids, _token_context())
    assert torch.all(out[:, 0] == 2) and torch.all(out[:, 6] == 3)
    assert torch.all(out[:, 7] == 0)
    assert_array_equal(out.sort(dim=1).values.numpy(), ids.sort(dim=1).values.numpy())
    assert (out != ids).any(dim=1).float().mean() > 0.5


def _neighbour_table():
    # Ids 4 and 5 point the same way, 6 and 7 the same way.
    table = torch.zeros(10, 2)
    table[4], table[5] = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.1])
    table[6], table[7] = torch.tensor([0.0, 1.0]), torch.tensor([0.1, 1.0])
    return table


def test_synonym_replacement_picks_nearest_neighbours_seen_in_training():
    """Check that replacements are the nearest candidate ids by cosine."""
    torch.manual_seed(0)
    table = _neighbour_table()
    context = _token_context(
        embedding_table=lambda: table, candidate_ids=torch.tensor([4, 5, 6, 7])
    )
    ids = torch.tensor([[4, 6, 9, 0]])
    out = _edit(SynonymReplacement(p=1.0, n_neighbors=1), ids, context)
    # 9 was never seen: it is its own neighbour; padding stays.
    assert_array_equal(out.numpy(), [[5, 7, 9, 0]])
    assert _edit(SynonymReplacement(p=0.0), ids, context).equal(ids)


def test_neighbours_follow_a_trained_table_and_not_a_fixed_one():
    """Check that neighbours are recomputed per epoch only for a trainable table."""
    table = _neighbour_table()
    for fixed, expected in [(True, 5), (False, 7)]:
        state = {"table": table.clone()}
        context = _token_context(
            embedding_table=lambda state=state: state["table"],
            candidate_ids=torch.tensor([4, 5, 6, 7]),
            table_is_fixed=fixed,
        )
        assert context.neighbours(1, "cpu")[4, 0] == 5
        state["table"][7] = torch.tensor([1.0, 0.0])  # 7 becomes 4's twin
        context.new_epoch()
        assert context.neighbours(1, "cpu")[4, 0] == expected


def test_random_insertion_inserts_synonyms_and_shifts_right():
    """Check that insertion adds synonyms of the row's words before the padding."""
    torch.manual_seed(0)
    table = _neighbour_table()
    context = _token_context(
        embedding_table=lambda: table, candidate_ids=torch.tensor([4, 5, 6, 7])
    )
    ids = torch.tensor([[4, 6, 0, 0, 0]] * 50)
    out = _edit(RandomInsertion(p=0.5), ids, context)
    assert torch.all((out != 0).sum(dim=1) == 3)
    assert set(out.flatten().tolist()) <= {0, 4, 5, 6, 7}
    assert torch.all(out[:, 3:] == 0)


def test_token_operations_update_the_attention_mask_of_an_encoding():
    """Check that a tokenizer's encoding keeps its mask in step with its ids."""
    torch.manual_seed(0)
    encoding = {
        "input_ids": torch.tensor([[101, 7, 8, 9, 102, 0]] * 20),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 0]] * 20),
    }
    context = AugmentationContext("text", padding=0, protected_ids=(101, 102, 0))
    out, _ = RandomDeletion(p=0.5).augment(encoding, NO_TARGETS, context)
    assert_array_equal(out["attention_mask"].numpy(), (out["input_ids"] != 0).numpy())
    assert torch.equal(encoding["input_ids"][0], torch.tensor([101, 7, 8, 9, 102, 0]))


def test_length_changing_operations_need_padding():
    """Check that deletion and insertion without a padding id raise clearly."""
    context = AugmentationContext("tokens", padding=None)
    with pytest.raises(ValueError, match="needs a padding id"):
        _edit(RandomDeletion(), torch.tensor([[4, 5]]), context)


def test_settings_out_of_range_raise_naming_the_setting():
    """Check that invalid settings raise at the first batch, naming the setting."""
    X = torch.zeros(2, 4)
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(max_shift=-1).augment(X, NO_TARGETS, _image_context((1, 2, 2)))
    with pytest.raises(ValueError, match="p must"):
        HorizontalFlip(p=2).augment(X, NO_TARGETS, _image_context((1, 2, 2)))
    with pytest.raises(ValueError, match="std"):
        GaussianNoise(std=-1).augment(X, NO_TARGETS, AugmentationContext("tabular"))


def test_resolve_names_instances_and_callables():
    """Check that names, instances, callables and lists resolve and are checked."""
    assert resolve_augmentation(None, AUGMENTATIONS, "tabular") == []
    resolved = resolve_augmentation(
        ["noise", GaussianNoise(std=0.3), abs], AUGMENTATIONS, "tabular"
    )
    assert resolved[0] == GaussianNoise() and resolved[1].std == 0.3
    assert resolved[2].function is abs
    for name, cls in AUGMENTATIONS.items():
        kinds = cls().input_kinds
        assert issubclass(cls, Augmentation) and kinds <= set(INPUT_KINDS)
        for kind in INPUT_KINDS:
            if kind in kinds:
                assert resolve_augmentation(name, AUGMENTATIONS, kind) == [cls()]
            else:
                with pytest.raises(ValueError, match=f"does not apply to {kind}"):
                    resolve_augmentation(name, AUGMENTATIONS, kind)


def test_callable_must_keep_the_batch_shape():
    """Check that a callable returning another shape raises a clear error."""
    (callable_,) = resolve_augmentation(lambda X: X[:, :1], AUGMENTATIONS, "tabular")
    with pytest.raises(ValueError, match="same shape|shape of the batch"):
        callable_.augment(torch.zeros(3, 4), NO_TARGETS, AugmentationContext("tabular"))


def test_augmentations_do_not_modify_the_batch_in_place():
    """Check that every operation returns new tensors and leaves its input alone."""
    torch.manual_seed(0)
    table = _neighbour_table()
    tokens = torch.tensor([[4, 5, 6, 7, 0]] * 4)
    context = _token_context(
        embedding_table=lambda: table, candidate_ids=torch.tensor([4, 5, 6, 7])
    )
    for op in [
        RandomDeletion(p=0.5),
        RandomSwap(),
        RandomInsertion(),
        SynonymReplacement(p=0.5),
    ]:
        before = tokens.clone()
        op.augment(tokens, NO_TARGETS, context)
        assert torch.equal(tokens, before)
    images = torch.rand(4, 9)
    for op in [RandomShift(1), HorizontalFlip(), RandomRotation(), GaussianNoise()]:
        before = images.clone()
        ctx = AugmentationContext(
            "image", image_shape=(1, 3, 3), feature_scale=torch.ones(9)
        )
        op.augment(images, NO_TARGETS, ctx)
        assert torch.equal(images, before)
    assert np.isfinite(images.numpy()).all()


def test_random_choice_edits_each_row_with_one_operation_or_none():
    """Check that each row is one operation's output, or untouched with 1 - p."""
    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7, 8, 9, 0]] * 2000)
    context = _token_context()
    flipped_order = RandomSwap(p=1.0)
    choice = RandomChoice([RandomDeletion(p=1.0), flipped_order], p=0.5)
    out, _ = choice.augment(ids, NO_TARGETS, context)
    untouched = (out == ids).all(dim=1)
    deleted = (out != 0).sum(dim=1) == 1
    swapped = ~untouched & ~deleted
    assert 0.45 < untouched.float().mean() < 0.55
    assert 0.2 < deleted.float().mean() < 0.3 and 0.2 < swapped.float().mean() < 0.3
    # A swapped row keeps its tokens.
    assert_array_equal(
        out[swapped].sort(dim=1).values.numpy(), ids[swapped].sort(dim=1).values.numpy()
    )


def test_random_choice_rejects_augmentations_that_change_the_targets():
    """Check that mixup inside a choice raises, and so does an empty choice."""
    X, y = torch.rand(4, 3), torch.arange(4.0)
    with pytest.raises(ValueError, match="changes the targets"):
        RandomChoice([Mixup()]).augment(X, (y, None), AugmentationContext("tabular"))
    with pytest.raises(ValueError, match="non-empty list"):
        resolve_augmentation(RandomChoice([]), AUGMENTATIONS, "tokens")


def test_eda_keeps_about_half_the_rows_and_the_encoding_in_step():
    """Check EDA's share of untouched rows, on ids and on a tokenizer encoding."""
    torch.manual_seed(0)
    table = _neighbour_table()
    context = AugmentationContext(
        "text",
        padding=0,
        protected_ids=(101, 102),
        embedding_table=lambda: table,
        candidate_ids=torch.tensor([4, 5, 6, 7]),
    )
    encoding = {
        "input_ids": torch.tensor([[101, 4, 5, 6, 7, 4, 5, 6, 7, 102, 0, 0]] * 1000),
        "attention_mask": torch.tensor([[1] * 10 + [0, 0]] * 1000),
    }
    out, _ = EDA(alpha=0.2).augment(encoding, NO_TARGETS, context)
    same = (out["input_ids"] == encoding["input_ids"]).all(dim=1).float().mean()
    assert 0.45 < same < 0.6  # untouched, or swapped into the same order
    assert_array_equal(out["attention_mask"].numpy(), (out["input_ids"] != 0).numpy())
    assert EDA() == EDA() and EDA(alpha=0.2) != EDA()
