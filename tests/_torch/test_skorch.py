"""Check the training step of the shared skorch net."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from skorch.callbacks import Callback, PassthroughScoring

from sklearn_histai._torch._skorch import (
    BatchIterator,
    EarlyStop,
    StopTraining,
    TensorDataset,
    WeightedNet,
    WeightSnapshot,
)


class _GradientNorms(Callback):
    """Record the gradient norm each ``on_grad_computed`` sees."""

    def initialize(self):
        self.norms_ = []
        return self

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        self.norms_.append(torch.sqrt(sum(g.square().sum() for g in grads)).item())


def _fit_weighted_net(precision, accumulation, batch_size):
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.normal(size=(50, 3)).astype(np.float32))
    # Small targets: fp16 gradients scaled by the GradScaler's 2**16 stay
    # finite, so that it skips no step.
    y = X @ torch.tensor([[0.01], [-0.02], [0.005]])
    torch.manual_seed(0)
    recorder = _GradientNorms()
    net = WeightedNet(
        module=torch.nn.Linear(3, 1),
        criterion=torch.nn.MSELoss,
        criterion__reduction="none",
        optimizer=torch.optim.SGD,
        lr=0.1,
        max_epochs=1,
        batch_size=batch_size,
        iterator_train=BatchIterator,
        iterator_train__shuffle=True,
        dataset=TensorDataset,
        train_split=None,
        callbacks=[("gradient_norms", recorder)],
        gradient_accumulation_steps=accumulation,
        precision=precision,
        device="cpu",
        verbose=0,
    )
    net.batches_per_epoch_ = int(np.ceil(50 / batch_size))
    net.initialize().partial_fit(TensorDataset(X, y), None)
    return recorder.norms_


@pytest.mark.parametrize("precision", [None, "fp16"])
def test_weighted_net_passes_each_steps_unscaled_gradient_to_callbacks(precision):
    """Check that on_grad_computed runs once per step, on unscaled mean gradients.

    Five batches of 10 accumulated by 2 take three steps, on the mean
    gradients of the batches of 20 (the last of 10) that a plain net takes;
    under fp16 the callbacks see them without the GradScaler's factor.
    """
    accumulated = _fit_weighted_net(precision, accumulation=2, batch_size=10)
    plain = _fit_weighted_net(None, accumulation=1, batch_size=20)
    assert len(accumulated) == len(plain) == 3
    assert_allclose(accumulated, plain, rtol=1e-6 if precision is None else 1e-2)


class _SharedBuffer(torch.nn.Module):
    """Two weights that view one flat buffer, as cuDNN keeps an LSTM's."""

    def __init__(self):
        super().__init__()
        flat = torch.randn(2 * 64 * 64 + 64, generator=torch.Generator().manual_seed(0))
        self.weight = torch.nn.Parameter(flat[: 64 * 64].view(64, 64))
        self.other = torch.nn.Parameter(flat[64 * 64 : 2 * 64 * 64].view(64, 64))
        self.bias = torch.nn.Parameter(flat[2 * 64 * 64 :])

    def forward(self, X):
        return X @ self.weight @ self.other + self.bias


def test_weighted_net_pickles_viewed_weights_once():
    """Check that weights viewing one buffer pickle at their size, and predict alike."""
    import pickle

    module = _SharedBuffer()
    assert module.weight.untyped_storage().nbytes() > module.weight.nbytes
    net = WeightedNet(
        module=module,
        criterion=torch.nn.MSELoss,
        criterion__reduction="none",
        optimizer=torch.optim.Adam,
        max_epochs=1,
        batch_size=8,
        train_split=None,
        verbose=0,
    ).initialize()
    net.batches_per_epoch_ = 1
    weights = sum(p.nbytes for p in module.parameters())
    data = pickle.dumps(net)
    assert len(data) < 1.3 * weights + 50_000
    restored = pickle.loads(data)
    X = torch.randn(5, 64)
    with torch.no_grad():
        assert_allclose(restored.module_(X).numpy(), module(X).numpy())
    # The live network is untouched: still views, still its optimizer.
    assert module.weight.untyped_storage().nbytes() > module.weight.nbytes
    assert net.optimizer_ is not None and restored.optimizer_ is None


def _silent(*args, **kwargs):
    """A sink for EarlyStop's message."""


def _net(module, **params):
    """A WeightedNet over ``module`` with the settings of the estimators."""
    settings = dict(
        criterion=torch.nn.MSELoss,
        criterion__reduction="none",
        optimizer=torch.optim.SGD,
        lr=0.1,
        max_epochs=1,
        batch_size=20,
        iterator_train=BatchIterator,
        iterator_train__shuffle=True,
        iterator_valid=BatchIterator,
        dataset=TensorDataset,
        train_split=None,
        device="cpu",
        verbose=0,
    )
    return WeightedNet(module=module, **{**settings, **params})


def test_early_stop_counts_epochs_that_miss_the_best_by_tol():
    """Check that losses creeping down by less than tol stop, as scikit-learn's MLP.

    Each epoch beats the best by 0.05 < tol=0.1: three misses in a row stop
    training at the fourth epoch (skorch's rule compares with the last epoch
    that beat the threshold, and would count the fourth as an improvement).
    The best epoch, and its weights, follow every improvement.
    """
    torch.manual_seed(0)
    net = _net(torch.nn.Linear(2, 1)).initialize()
    stop = EarlyStop(
        monitor="train_loss",
        patience=3,
        threshold=0.1,
        threshold_mode="abs",
        load_best=True,
        sink=_silent,
    )
    stop.on_train_begin(net)
    weights = {}
    with pytest.raises(StopTraining):
        for epoch, loss in enumerate([1.0, 0.95, 0.9, 0.85, 0.8], start=1):
            with torch.no_grad():
                net.module_.weight.fill_(epoch)
            weights[epoch] = net.module_.weight.detach().clone()
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("train_loss", loss)
            stop.on_epoch_end(net)
    assert epoch == 4
    assert stop.best_epoch_ == 4
    assert_allclose(stop.best_model_weights_["weight"], weights[4])


def test_early_stop_restores_the_best_weights_and_lets_go_of_them():
    """Check that the weights of the lowest loss come back at the end, then go."""
    net = _net(torch.nn.Linear(2, 1)).initialize()
    stop = EarlyStop(
        monitor="valid_loss", patience=5, threshold=0.0, load_best=True, sink=_silent
    )
    stop.on_train_begin(net)
    for epoch, loss in enumerate([1.0, 0.5, 0.7], start=1):
        with torch.no_grad():
            net.module_.weight.fill_(epoch)
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        stop.on_epoch_end(net)
    stop.on_train_end(net)
    assert_allclose(net.module_.weight.detach(), 2.0)
    assert stop.best_model_weights_ is None and stop.snapshot_ is None


class _EpochCounter(Callback):
    """Count the ``on_epoch_end`` notifications."""

    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_weighted_net_records_each_epochs_mean_losses():
    """Check the losses the net records itself, as skorch's PassthroughScoring would.

    ``train_loss`` is the mean of the batch losses weighted by the batch
    sizes (20, 20 and 10 rows), with ``train_loss_best`` set where it is the
    lowest so far; the validation loss likewise.
    """
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.normal(size=(60, 3)))
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    valid = TensorDataset(X[50:], y[50:])
    from skorch.helper import predefined_split

    torch.manual_seed(0)
    net = _net(
        torch.nn.Linear(3, 1).double(),
        max_epochs=4,
        train_split=predefined_split(valid),
        callbacks=[("counter", _EpochCounter())],
    )
    net.batches_per_epoch_ = 3
    net.initialize().partial_fit(TensorDataset(X[:50], y[:50]), None)
    assert not any(isinstance(cb, PassthroughScoring) for _, cb in net.callbacks_)
    assert dict(net.callbacks_)["counter"].epochs_ == 4
    best = np.inf
    for row in net.history:
        losses = [batch["train_loss"] for batch in row["batches"][:3]]
        sizes = [batch["train_batch_size"] for batch in row["batches"][:3]]
        assert sizes == [20, 20, 10]
        assert row["train_loss"] == pytest.approx(np.average(losses, weights=sizes))
        assert row["train_loss_best"] == (row["train_loss"] < best)
        best = min(best, row["train_loss"])
        assert row["valid_loss"] == pytest.approx(row["batches"][3]["valid_loss"])
    assert net.history[0, "valid_loss_best"]


def test_weighted_net_notifies_callbacks_set_after_initialisation():
    """Check that a callback replaced through set_params is the one notified."""
    X = torch.randn(10, 2)
    y = torch.randn(10, 1)
    net = _net(torch.nn.Linear(2, 1), callbacks=[("counter", _EpochCounter())])
    net.batches_per_epoch_ = 1
    net.initialize().partial_fit(TensorDataset(X, y), None)
    replacement = _EpochCounter().initialize()
    net.set_params(callbacks__counter=replacement)
    net.partial_fit(TensorDataset(X, y), None)
    assert dict(net.callbacks_)["counter"] is replacement
    assert replacement.epochs_ == 1


@pytest.mark.parametrize(
    "criterion, params, y",
    [
        (torch.nn.MSELoss, {}, torch.randn(8, 2, generator=torch.Generator())),
        (
            torch.nn.CrossEntropyLoss,
            {"label_smoothing": 0.1},
            torch.arange(8) % 2,
        ),
    ],
)
def test_weighted_net_unweighted_loss_is_the_mean_of_unit_weights(criterion, params, y):
    """Check that a batch without weights has the loss of unit weights."""
    torch.manual_seed(0)
    net = _net(
        torch.nn.Linear(3, 2),
        criterion=criterion,
        **{f"criterion__{key}": value for key, value in params.items()},
    ).initialize()
    assert net.mean_criterion_ is not None
    y_pred = torch.randn(8, 2)
    unweighted = net.get_loss(y_pred, (y, None), training=True)
    weighted = net.get_loss(y_pred, (y, torch.ones(8)), training=True)
    assert unweighted.item() == pytest.approx(weighted.item(), rel=1e-6)


def test_weighted_net_drops_the_gradients_after_each_step():
    """Check that a step leaves no gradient behind, as zero_grad(set_to_none) does."""
    X = torch.randn(30, 2)
    y = torch.randn(30, 1)
    net = _net(torch.nn.Linear(2, 1), batch_size=10)
    net.batches_per_epoch_ = 3
    net.initialize().partial_fit(TensorDataset(X, y), None)
    assert all(p.grad is None for p in net.module_.parameters())
    assert net.optimized_parameters_ is None  # not kept after training


def test_weight_snapshot_copies_in_place():
    """Check that a snapshot holds the state of its last take, in the same tensors."""
    module = torch.nn.Linear(2, 1)
    snapshot = WeightSnapshot(module)
    state = snapshot.state
    with torch.no_grad():
        module.weight.fill_(3.0)
    assert not torch.equal(state["weight"], module.weight.detach())
    assert snapshot.take() is state
    assert_allclose(state["weight"], 3.0)
    with torch.no_grad():
        module.weight.fill_(4.0)
    assert_allclose(state["weight"], 3.0)


def test_batch_iterator_shuffles_only_across_batches():
    """Check that one batch of every row keeps their order; several cover each once."""
    X = torch.arange(10.0)[:, None]
    dataset = TensorDataset(X, torch.arange(10))
    (whole,) = list(BatchIterator(dataset, batch_size=10, shuffle=True))
    assert torch.equal(whole[1][0], torch.arange(10))
    batches = list(BatchIterator(dataset, batch_size=4, shuffle=True, seed=0))
    assert [len(batch[1][0]) for batch in batches] == [4, 4, 2]
    seen = torch.cat([batch[1][0] for batch in batches])
    assert not torch.equal(seen, torch.arange(10))
    assert torch.equal(seen.sort().values, torch.arange(10))
