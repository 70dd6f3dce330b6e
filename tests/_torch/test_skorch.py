"""Check the training step of the shared skorch net."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from skorch.callbacks import Callback

from sklearn_histai._torch._skorch import BatchIterator, TensorDataset, WeightedNet


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
