"""Check that the skorch API the shared runtime relies on is the one installed.

``WeightedNet`` and the word2vec net override skorch's training step for
speed (gradient accumulation, no per-batch bookkeeping) and call a few of
its private methods; an upgrade of skorch that renames them must fail here,
loudly, rather than train wrongly.
"""

import inspect

import numpy as np
import pytest
import skorch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping

from sklearn_histai._torch._skorch import EarlyStop, InterruptibleNet, WeightedNet


@pytest.mark.parametrize(
    "name, parameters",
    [
        ("_set_training", ["self", "training"]),
        ("_step_optimizer", ["self", "step_fn"]),
        ("_zero_grad_optimizer", ["self", "set_to_none"]),
        ("run_single_epoch", ["self", "iterator", "training", "prefix", "step_fn"]),
        ("fit_loop", ["self", "X", "y", "epochs"]),
        ("partial_fit", ["self", "X", "y", "classes"]),
        ("train_step", ["self", "batch"]),
        ("infer", ["self", "x"]),
        ("get_loss", ["self", "y_pred", "y_true", "X", "training"]),
    ],
)
def test_skorch_methods_the_runtime_overrides_exist(name, parameters):
    """Check that skorch's NeuralNet has each method we override or call, as used."""
    method = getattr(NeuralNet, name)
    signature = inspect.signature(method)
    named = [
        p.name
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    assert named[: len(parameters)] == parameters


def test_skorch_net_keeps_its_optimizers_list():
    """Check that an initialised net lists its optimizers in ``_optimizers``."""
    import torch

    net = NeuralNet(torch.nn.Linear(2, 1), torch.nn.MSELoss).initialize()
    assert net._optimizers == ["optimizer"]
    assert isinstance(net.optimizer_, torch.optim.Optimizer)


def test_skorch_early_stopping_counts_misses_and_raises_keyboard_interrupt():
    """Check the two facts EarlyStop relies on: ``misses_`` and KeyboardInterrupt."""
    source = inspect.getsource(EarlyStopping.on_epoch_end)
    assert "misses_" in source and "KeyboardInterrupt" in source
    assert issubclass(EarlyStop, EarlyStopping)


def test_skorch_partial_fit_swallows_keyboard_interrupt():
    """Check that plain skorch still swallows Ctrl-C, which InterruptibleNet undoes."""
    import torch

    class Interrupting(NeuralNet):
        def train_step(self, batch, **fit_params):
            raise KeyboardInterrupt

    X = np.zeros((4, 2), dtype=np.float32)
    y = np.zeros((4, 1), dtype=np.float32)
    params = dict(
        module=torch.nn.Linear(2, 1),
        criterion=torch.nn.MSELoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    Interrupting(**params).fit(X, y)  # skorch ends training and returns

    class InterruptingOurs(InterruptibleNet):
        def train_step(self, batch, **fit_params):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        InterruptingOurs(**params).fit(X, y)
    assert issubclass(WeightedNet, InterruptibleNet)


def test_skorch_version_is_within_the_pinned_range():
    """Check that the installed skorch is one pyproject's bounds allow."""
    major, minor = (int(part) for part in skorch.__version__.split(".")[:2])
    assert (1, 0) <= (major, minor) < (1, 5)
