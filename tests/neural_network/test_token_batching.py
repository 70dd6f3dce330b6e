"""Check the batching of token rows by length and the network paths it takes."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from torch import nn
from torch.testing import assert_close

from sklearn_histai._torch._skorch import BatchIterator, TensorDataset
from sklearn_histai._torch._tokens import LengthBuckets
from sklearn_histai.neural_network import (
    CNNClassifier,
    LSTMClassifier,
    RNNRegressor,
)
from sklearn_histai.nn import RecurrentNet, StackedRecurrence, TextCNN

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _rows(n_rows=230, width=30, seed=0):
    """Right-padded id rows of lengths 1 to ``width``; the target is the row index."""
    rng = np.random.RandomState(seed)
    X = rng.randint(1, 50, size=(n_rows, width))
    lengths = rng.randint(1, width + 1, size=n_rows)
    X[np.arange(width) >= lengths[:, None]] = 0
    return X, lengths


def _dataset(X):
    return TensorDataset(torch.from_numpy(X), torch.arange(len(X)))


def test_length_buckets_lengths_ignore_inner_padding():
    """Check that a row's length ends at its last non-padding id (at least 1)."""
    ids = torch.tensor([[5, 0, 3, 0], [0, 0, 0, 0], [1, 2, 3, 4]])
    assert LengthBuckets(_dataset(ids.numpy()), 2).lengths.tolist() == [3, 1, 4]


@pytest.mark.parametrize("shuffle", [True, False])
def test_length_buckets_yield_every_row_once_cut_to_its_batch(shuffle):
    """Check that each row comes once, whole, in a batch cut to its longest row."""
    X, lengths = _rows()
    iterator = LengthBuckets(
        _dataset(X), batch_size=16, shuffle=shuffle, seed=0, pool_batches=4
    )
    seen = []
    for batch_X, (index, weight) in iterator:
        assert weight is None
        assert len(index) <= 16
        assert batch_X.shape[1] == lengths[index.numpy()].max()
        assert_array_equal(batch_X.numpy(), X[index.numpy(), : batch_X.shape[1]])
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(len(X)))
    assert len(iterator) == len(list(iterator))


def test_length_buckets_pad_less_than_random_batches():
    """Check that batches of similar lengths read far fewer padding columns."""
    X, lengths = _rows()
    dataset = _dataset(X)

    def columns(iterator):
        return sum(batch_X.numel() for batch_X, _ in iterator)

    random_columns = sum(
        16 * X.shape[1] if len(y[0]) == 16 else len(y[0]) * X.shape[1]
        for _, y in BatchIterator(dataset, 16, shuffle=True)
    )
    bucketed = columns(LengthBuckets(dataset, 16, shuffle=True, pool_batches=100))
    assert bucketed < 0.7 * random_columns
    assert bucketed >= lengths.sum()


def test_length_buckets_padding_noise_mixes_neighbouring_lengths():
    """Check that noisy sort keys let batches of one pool overlap in length."""
    X, lengths = _rows()

    def ranges(noise):
        iterator = LengthBuckets(
            _dataset(X), 16, shuffle=True, pool_batches=100, padding_noise=noise
        )
        spans = [
            (lengths[index.numpy()].min(), lengths[index.numpy()].max())
            for _, (index, _) in iterator
        ]
        return sorted(spans)

    exact = ranges(0.0)
    # Sorted exactly, consecutive batches share at most one boundary length.
    assert all(low >= high for (_, high), (low, _) in zip(exact, exact[1:]))
    noisy = ranges(0.5)
    assert any(low < high for (_, high), (low, _) in zip(noisy, noisy[1:]))


def test_length_buckets_shuffle_by_seed_and_epoch():
    """Check that the order repeats under a seed and changes between epochs."""
    X, _ = _rows()

    def orders(seed):
        iterator = LengthBuckets(_dataset(X), 16, shuffle=True, seed=seed)
        return [
            torch.cat([index for _, (index, _) in iterator]).tolist() for _ in range(2)
        ]

    first, second = orders(0)
    assert first != second
    assert orders(0) == [first, second]
    assert orders(1)[0] != first


def test_length_buckets_without_shuffle_sort_by_length():
    """Check that validation batches come sorted by length, targets alongside."""
    X, lengths = _rows()
    iterator = LengthBuckets(_dataset(X), 16)
    order = torch.cat([index for _, (index, _) in iterator]).numpy()
    assert (np.diff(lengths[order]) >= 0).all()


@pytest.mark.parametrize(
    "estimator",
    [
        CNNClassifier(vocab_size=50, filter_sizes=(2,), num_filters=4, max_iter=2),
        LSTMClassifier(vocab_size=50, hidden_size=4, max_iter=2),
        RNNRegressor(vocab_size=50, hidden_size=4, max_iter=2),
    ],
)
def test_token_estimators_train_on_length_buckets(estimator):
    """Check that token rows train and validate in batches of similar lengths.

    The batching is set by the estimator's ``_batch_iterators`` hook on the
    skorch net of the base; this pins that hook.
    """
    X, lengths = _rows(n_rows=1200)
    y = lengths > 15
    estimator.set_params(random_state=0, early_stopping=True).fit(X, y)
    net = estimator.net_
    assert net.iterator_train is LengthBuckets
    assert net.iterator_valid is LengthBuckets
    assert net.iterator_valid__batch_size == net.batch_size
    assert net.iterator_train__padding_value == 0
    assert estimator.predict(X).shape == (len(X),)


def test_float_input_keeps_random_batches():
    """Check that the float input of the same estimators is not bucketed."""
    X, lengths = _rows(n_rows=60)
    clf = LSTMClassifier(hidden_size=4, max_iter=1, random_state=0)
    clf.fit(X.astype(float), lengths > 15)
    assert clf.net_.iterator_train is BatchIterator


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_text_cnn_equals_kims_convolutions(activation):
    """Check the text CNN against convolutions, activation and pooling written out.

    Non-decreasing activations are applied after the pooling; the
    channels-last convolutions are those of ``nn.Conv1d``.
    """
    torch.manual_seed(0)
    net = TextCNN(
        20,
        3,
        embedding_dim=6,
        filter_sizes=(2, 3),
        num_filters=5,
        activation=activation,
    ).eval()
    X = torch.tensor([[4, 7, 9, 2, 0, 0], [5, 3, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    act = {"relu": torch.relu, "tanh": torch.tanh, "gelu": nn.functional.gelu}
    expected = []
    for row in X:
        tokens = row[row != 0]
        embedded = net.embedding(tokens)[None].transpose(1, 2)
        pooled = []
        for width, conv in zip(net.filter_sizes, net.convs):
            features = nn.functional.conv1d(
                embedded, conv.weight, conv.bias, padding=width - 1
            )
            pooled.append(act[activation](features).amax(dim=2))
        expected.append(net.head(torch.cat(pooled, dim=1)))
    with torch.no_grad():
        assert_close(net(X), torch.cat(expected), rtol=1e-5, atol=1e-6)
    assert net.pools_first == (activation != "gelu")


@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
def test_recurrent_net_full_batch_equals_padded_batch(pooling):
    """Check that a batch without padding (flipped, unmasked) equals a padded one."""
    torch.manual_seed(0)
    net = RecurrentNet(
        None,
        2,
        vocab_size=20,
        embedding_dim=4,
        hidden_size=3,
        bidirectional=True,
        padding_value=0,
        pooling=pooling,
    ).eval()
    full = torch.randint(1, 20, (4, 7))
    padded = torch.cat([full, torch.randint(1, 20, (1, 7))])
    padded = torch.cat([padded, torch.zeros(5, 2, dtype=torch.long)], dim=1)
    padded[-1, 3:] = 0
    with torch.no_grad():
        assert_close(net(full), net(padded)[:4], rtol=1e-5, atol=1e-6)


def test_stacked_recurrence_unmasked_outputs_keep_the_real_steps():
    """Check that ``mask=False`` leaves the real steps and the final states alone."""
    torch.manual_seed(0)
    rnn = StackedRecurrence("lstm", 3, 4, bidirectional=True)
    inputs = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    masked, final = rnn(inputs, lengths)
    unmasked, final_unmasked = rnn(inputs, lengths, mask=False)
    real = torch.arange(6) < lengths[:, None]
    assert_close(unmasked[real], masked[real])
    assert_close(final_unmasked, final)
    assert (masked[~real] == 0).all()
    assert (unmasked[~real] != 0).any()


def test_length_buckets_batch_few_rows_at_random():
    """Check that rows of a few batches meet other rows each epoch, cut alike."""
    X, lengths = _rows(n_rows=64)
    iterator = LengthBuckets(_dataset(X), 16, shuffle=True, seed=0)
    companies = []
    for _ in range(2):
        batches = []
        for batch_X, (index, _) in iterator:
            assert batch_X.shape[1] == lengths[index.numpy()].max()
            batches.append(sorted(index.tolist()))
        companies.append(sorted(batches))
    assert companies[0] != companies[1]
    sorted_iterator = LengthBuckets(_dataset(X), 16, shuffle=True, min_batches=1)
    first = next(iter(sorted_iterator))[1][0].numpy()
    assert lengths[first].max() - lengths[first].min() < X.shape[1] // 2
