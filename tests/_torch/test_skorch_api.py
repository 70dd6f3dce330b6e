"""Check that the skorch API the shared runtime relies on is the one installed.

``WeightedNet`` and the word2vec net override skorch's training step for
speed (gradient accumulation, no per-batch bookkeeping), ``WeightedNet``
also its notifications and loss scoring, and ``EarlyStop`` skorch's
stopping rule; they call a few private methods and rely on a few facts of
skorch's behaviour. An upgrade of skorch that changes them must fail here,
loudly, rather than train wrongly.
"""

import inspect

import numpy as np
import pytest
import skorch
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, PassthroughScoring

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
        ("notify", ["self", "method_name"]),
        ("get_default_callbacks", ["self"]),
        ("initialize_callbacks", ["self"]),
        ("initialize_criterion", ["self"]),
        ("get_params_for", ["self", "prefix"]),
        ("on_train_begin", ["self", "net"]),
        ("on_train_end", ["self", "net"]),
        ("on_epoch_begin", ["self", "net"]),
        ("on_epoch_end", ["self", "net"]),
        ("on_batch_begin", ["self", "net", "batch", "training"]),
        ("on_batch_end", ["self", "net", "batch", "training"]),
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
    net = NeuralNet(torch.nn.Linear(2, 1), torch.nn.MSELoss).initialize()
    assert net._optimizers == ["optimizer"]
    assert isinstance(net.optimizer_, torch.optim.Optimizer)


def test_skorch_default_callbacks_score_the_losses_by_passthrough():
    """Check the two PassthroughScoring callbacks whose work WeightedNet does."""
    net = NeuralNet(torch.nn.Linear(2, 1), torch.nn.MSELoss)
    scorers = {
        name: callback
        for name, callback in net.get_default_callbacks()
        if isinstance(callback, PassthroughScoring)
    }
    assert sorted(scorers) == ["train_loss", "valid_loss"]
    ours = WeightedNet(torch.nn.Linear(2, 1), torch.nn.MSELoss).initialize()
    assert "train_loss" not in dict(ours.callbacks_)


def test_skorch_replaces_the_list_of_callbacks_rather_than_editing_it():
    """Check that skorch assigns a new ``callbacks_``, the key of our listener cache."""
    net = NeuralNet(
        torch.nn.Linear(2, 1), torch.nn.MSELoss, callbacks=[("cb", Callback())]
    ).initialize()
    before = net.callbacks_
    net.set_params(callbacks__cb=Callback())
    assert net.callbacks_ is not before
    before = net.callbacks_
    net.initialize_callbacks()
    assert net.callbacks_ is not before


def test_skorch_net_opens_each_batch_row_in_on_batch_begin():
    """Check that the net's own on_batch_begin appends an empty batch row, all it does.

    WeightedNet appends the row itself where no callback listens.
    """
    net = NeuralNet(torch.nn.Linear(2, 1), torch.nn.MSELoss).initialize()
    net.history.new_epoch()
    net.on_batch_begin(net, batch=None, training=True)
    assert net.history[-1]["batches"] == [{}]
    assert NeuralNet.on_batch_end is not Callback.on_batch_end
    source = inspect.getsource(NeuralNet.on_batch_end)
    assert source.rstrip().endswith("pass")


def test_skorch_early_stopping_state_and_helpers():
    """Check what EarlyStop takes from skorch's EarlyStopping.

    ``on_train_begin`` resets the count of misses, the threshold, the best
    epoch and weights; the threshold helpers compare as documented; and
    ``on_train_end`` restores ``best_model_weights_`` unless the best epoch
    is the last.
    """
    stopping = EarlyStopping(
        monitor="valid_loss", threshold=0.1, threshold_mode="abs", load_best=True
    )
    net = NeuralNet(torch.nn.Linear(2, 1), torch.nn.MSELoss).initialize()
    stopping.on_train_begin(net)
    assert stopping.misses_ == 0
    assert stopping.dynamic_threshold_ == np.inf
    assert stopping.best_epoch_ == 0 and stopping.best_model_weights_ is None
    assert stopping._calc_new_threshold(1.0) == pytest.approx(0.9)
    stopping.dynamic_threshold_ = 0.9
    assert stopping._is_score_improved(0.85) and not stopping._is_score_improved(0.9)
    assert "verbose" in inspect.signature(EarlyStopping._sink).parameters
    weights = {k: torch.zeros_like(v) for k, v in net.module_.state_dict().items()}
    stopping.best_model_weights_, stopping.best_epoch_ = weights, 1
    for epoch in (1, 2):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
    stopping.on_train_end(net)
    assert not net.module_.weight.detach().any()
    assert issubclass(EarlyStop, EarlyStopping)


def test_skorch_partial_fit_swallows_keyboard_interrupt():
    """Check that plain skorch still swallows Ctrl-C, which InterruptibleNet undoes."""

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
