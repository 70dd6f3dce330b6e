"""The skorch pieces every trained network composes: net, data and callbacks."""

import copy
import itertools
import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, PassthroughScoring
from torch.utils.data import Dataset

from sklearn_histai._torch._runtime import autocast_context, to_device
from sklearn_histai.augmentation._base import MixedTargets


def take(X, index):
    """Rows ``index`` of a tensor, or of each tensor of a dict.

    ``index`` is a slice or a tensor of row indices; the latter are taken
    with ``index_select``, several times faster than indexing with the
    tensor on the CPU (a mini-batch of 256 rows of 1,024 token ids: 0.06
    against 0.3 ms).
    """

    def rows(value):
        if isinstance(index, torch.Tensor):
            return value.index_select(0, index)
        return value[index]

    if isinstance(X, dict):
        return {key: rows(value) for key, value in X.items()}
    return rows(X)


class TensorDataset(Dataset):
    """Rows of in-memory tensors: inputs (a tensor or a dict of them), targets, weights.

    Batches are sliced from the tensors as a whole (see :class:`BatchIterator`)
    instead of being collated sample by sample, which is what makes skorch's
    default ``DataLoader`` cost about 2.5 times a hand-written loop.
    ``sample_weight`` is None when all samples weigh the same: the loss is
    then a plain mean, which saves a gather and three tensor operations per
    batch.
    """

    def __init__(self, X, y, sample_weight=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        weight = None if self.sample_weight is None else self.sample_weight[index]
        return take(self.X, index), (self.y[index], weight)

    def subset(self, index):
        """Return the dataset of the rows at ``index`` (positions or a slice)."""
        weight = None if self.sample_weight is None else self.sample_weight[index]
        return TensorDataset(take(self.X, index), self.y[index], weight)


# Rows gathered at once when shuffling: large enough to amortise the call,
# small enough to stay in cache-friendly, bounded memory.
_CHUNK_ROWS = 8192


class BatchIterator:
    """Iterate over mini-batches of a :class:`TensorDataset`, optionally shuffled.

    Shuffling uses a private generator seeded once per fit, so it never
    touches torch's global random state and repeats under the same seed.
    """

    def __init__(self, dataset, batch_size, shuffle=False, seed=0):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if not self.shuffle:
            for start in range(0, n, self.batch_size):
                yield self.dataset[start : start + self.batch_size]
            return
        if n <= self.batch_size:
            # One batch of every row: its mean loss, and so the step, does
            # not depend on the order of the rows.
            yield self.dataset[0:n]
            return
        order = torch.randperm(n, generator=self.generator)
        # One gather per chunk of batches, then batches are views of it:
        # gathering row by row per batch costs a call per tensor per batch.
        chunk = self.batch_size * max(1, _CHUNK_ROWS // self.batch_size)
        for chunk_start in range(0, n, chunk):
            rows = self.dataset.subset(order[chunk_start : chunk_start + chunk])
            for start in range(0, len(rows), self.batch_size):
                yield rows[start : start + self.batch_size]


class StopTraining(KeyboardInterrupt):
    """A callback's request to end training, which is not the user's Ctrl-C.

    skorch ends training on any ``KeyboardInterrupt``, and its early stopping
    raises one to stop; this subclass tells the two apart.
    """


class EarlyStop(EarlyStopping):
    """skorch's ``EarlyStopping`` by scikit-learn's rule, raising ``StopTraining``.

    An epoch misses when its score does not beat the best score so far by
    ``threshold`` (scikit-learn's ``tol``), and training stops after
    ``patience`` misses in a row. The best score, and with ``load_best`` its
    weights, follow every improvement, however small: as in scikit-learn's
    MLP. (skorch compares with the score of the last epoch that beat the
    threshold, so that improvements smaller than it add up, and a loss that
    keeps creeping down never stops.) The best weights are copied in place
    into one snapshot, and the snapshot is let go once training ends, so
    that a fitted estimator does not pickle it.
    """

    def on_train_begin(self, net, **kwargs):
        """Reset the count of misses and the best score, as skorch does."""
        super().on_train_begin(net, **kwargs)
        self.best_score_ = math.inf if self.lower_is_better else -math.inf
        self.snapshot_ = WeightSnapshot(net.module_) if self.load_best else None

    def on_epoch_end(self, net, **kwargs):
        """Count a miss unless the best score is beaten by ``threshold``."""
        row = net.history[-1]
        score = row[self.monitor]
        if self._is_score_improved(score):
            self.misses_ = 0
        else:
            self.misses_ += 1
        best = self.best_score_
        if score < best if self.lower_is_better else score > best:
            self.best_score_ = score
            self.best_epoch_ = row["epoch"]
            if self.snapshot_ is not None:
                self.best_model_weights_ = self.snapshot_.take()
        self.dynamic_threshold_ = self._calc_new_threshold(self.best_score_)
        if self.misses_ == self.patience:
            if net.verbose:
                self._sink(
                    f"Stopping since {self.monitor} has not improved in the last "
                    f"{self.patience} epochs.",
                    verbose=net.verbose,
                )
            raise StopTraining

    def on_train_end(self, net, **kwargs):
        """Restore the best weights as skorch does, then drop the copy."""
        super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None
        self.snapshot_ = None


class InterruptibleNet(NeuralNet):
    """skorch's ``NeuralNet``, but Ctrl-C still ends the caller's ``fit``.

    skorch ends training on a ``KeyboardInterrupt`` and returns normally,
    so a script, or every candidate of a grid search, would go on with a
    half-trained model. Here the interrupt is raised again once skorch's
    ``on_train_end`` callbacks have run.
    """

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Run skorch's training loop, noting an interrupt before skorch ends it."""
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except StopTraining:
            raise
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train as skorch does; raise ``KeyboardInterrupt`` if it was interrupted."""
        self.interrupted_ = False
        super().partial_fit(X, y, classes=classes, **fit_params)
        if self.interrupted_:
            raise KeyboardInterrupt
        return self


class EpochProgress:
    """The count of one epoch: its batches, those since the last step, its losses.

    A plain object, whose counters cost nothing to update: skorch's net
    checks every attribute set on it for torch components.
    """

    __slots__ = ("accumulated", "batches", "losses")

    def __init__(self):
        self.accumulated = 0
        self.batches = 0
        self.losses = {}


class WeightedNet(InterruptibleNet):
    """skorch's ``NeuralNet`` with sample weights, gradient accumulation and autocast.

    The criterion is built with ``reduction="none"``; the loss of a batch is
    the weighted mean of the per-sample losses, so that integer weights are
    equivalent to repeated samples. Training batches may be augmented
    (``augmenter``) and perturbed adversarially (``perturbation``), and the
    gradient of each optimizer step clipped (``max_grad_norm``). This class
    is private: the public estimators compose it (``self.net_``) rather
    than inherit from it.
    """

    def __init__(
        self,
        *args,
        gradient_accumulation_steps=1,
        precision=None,
        max_grad_norm=None,
        augmenter=None,
        perturbation=None,
        group=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.precision = precision
        self.max_grad_norm = max_grad_norm
        self.augmenter = augmenter
        self.perturbation = perturbation
        # The DataParallelGroup of a data-parallel fit, or None.
        self.group = group

    def __getstate__(self):
        # What prediction needs, once: cuDNN keeps a recurrent layer's
        # weights as views of one flat buffer, and pickle stores the whole
        # buffer once per view (an LSTM trained on CUDA pickled at four to
        # eight times its weights), so views are pickled as compact copies;
        # the optimizers, whose moments release_training_state dropped,
        # would pickle the original views again and are left out.
        kept = {}
        # A network left by partial_fit travels with its optimizer's state
        # (Adam's moments), so that training continues where it stopped in
        # another process: dask-ml's Incremental moves the model between
        # workers. It is stored as state dicts on the CPU, which refer to
        # the parameters by position, not as optimizers.
        optimizer_states = None
        if self.keeps_optimizer():
            optimizer_states = _to_cpu(self.optimizer_states())
        module = self.__dict__.get("module_")
        if module is not None and _holds_views(module):
            kept["module_"] = module
            self.__dict__["module_"] = _compact_copy(module)
        for name in self._optimizers:
            if name + "_" in self.__dict__:
                kept[name + "_"] = self.__dict__[name + "_"]
                self.__dict__[name + "_"] = None
        # The cache of listeners holds bound methods; it is rebuilt.
        if "listeners_" in self.__dict__:
            kept["listeners_"] = self.__dict__.pop("listeners_")
        try:
            state = super().__getstate__()
        finally:
            self.__dict__.update(kept)
        # skorch keeps the module it was given as ``module`` besides the
        # trained ``module_`` (the same object), and would pickle it twice;
        # its class is what a re-initialisation would need.
        if isinstance(state.get("module"), torch.nn.Module):
            state["module"] = type(state["module"])
        state["optimizer_states_"] = optimizer_states
        return state

    def __setstate__(self, state):
        optimizer_states = state.pop("optimizer_states_", None)
        super().__setstate__(state)
        module = self.__dict__.get("module_")
        if module is not None:
            # Back into cuDNN's flat buffer on CUDA (a no-op elsewhere).
            for layer in module.modules():
                if isinstance(layer, torch.nn.RNNBase):
                    layer.flatten_parameters()
        if optimizer_states is not None:
            # New optimizers over the unpickled parameters, in the state
            # they were left in (moved to the parameters' device).
            self.initialize_optimizer()
            self.load_optimizer_states(optimizer_states)

    def keeps_optimizer(self):
        """Whether partial_fit left this net with its optimizers to continue from."""
        return getattr(self, "incremental_", False) and all(
            getattr(self, name + "_", None) is not None for name in self._optimizers
        )

    def optimizer_states(self):
        """The state dicts of the optimizers, by name (tensors not copied)."""
        return {
            name: getattr(self, name + "_").state_dict() for name in self._optimizers
        }

    def load_optimizer_states(self, states):
        """Load state dicts returned by :meth:`optimizer_states` into the optimizers.

        Parameters
        ----------
        states : dict
            State dicts by optimizer name.
        """
        for name, state in states.items():
            getattr(self, name + "_").load_state_dict(state)

    def release_training_state(self, keep_optimizer=False):
        """Drop what only training reads: the optimizer's moment estimates.

        A warm start builds a new optimizer, so nothing reads them after
        ``fit``; they would double the memory an Adam-trained model holds
        (pickles leave the optimizers out altogether). ``keep_optimizer``
        keeps them for the next ``partial_fit``.
        """
        if not keep_optimizer:
            for name in self._optimizers:
                getattr(self, name + "_").state.clear()
        # Their contexts read the network being trained (and hold closures);
        # the process group of a data-parallel fit cannot be pickled.
        self.augmenter = None
        self.perturbation = None
        self.group = None

    def get_default_callbacks(self):
        """skorch's default callbacks but its loss scoring: the net records the losses.

        skorch's ``PassthroughScoring`` reads each epoch's batch losses back
        out of the history to average them; :meth:`run_single_epoch` sums
        them as it goes, and :meth:`on_epoch_end` records ``train_loss``
        and ``valid_loss`` (with their ``_best`` flags) as it would.
        """
        return [
            (name, callback)
            for name, callback in super().get_default_callbacks()
            if not isinstance(callback, PassthroughScoring)
        ]

    def initialize_callbacks(self):
        """Initialise the callbacks as skorch does; forget the best losses."""
        super().initialize_callbacks()
        self.best_losses_ = {}
        return self

    def initialize_criterion(self):
        """Build the criterion, and its mean-reduced twin for unweighted batches.

        The criterion returns per-sample losses (``reduction="none"``) for
        weighted means; a batch without weights takes the plain mean in the
        criterion's own kernel, which saves an operation forwards and one
        backwards per batch (a tenth of a small network's step).
        """
        super().initialize_criterion()
        params = self.get_params_for("criterion")
        self.mean_criterion_ = None
        if (
            isinstance(self.criterion, type)
            and params.get("reduction") == "none"
            and "weight" not in params
        ):
            self.mean_criterion_ = self.criterion(**{**params, "reduction": "mean"})
        return self

    def listeners(self, name):
        """The bound ``name`` methods of the net and of the callbacks that implement it.

        Found once per list of callbacks (skorch replaces the list, never
        edits it); skorch calls every callback's method, most of them
        no-ops, at every notification.

        Parameters
        ----------
        name : str
            A callback method, e.g. "on_epoch_end".

        Returns
        -------
        listeners : list of callable
            The net's own method first.
        """
        callbacks, found = vars(self).get("listeners_", (None, None))
        if callbacks is not self.callbacks_:
            found = {}
            self.listeners_ = (self.callbacks_, found)
        listeners = found.get(name)
        if listeners is None:
            listeners = found[name] = _batch_listeners(self, name)
        return listeners

    def notify(self, method_name, **cb_kwargs):
        """Call ``method_name`` on the net and on the callbacks that implement it."""
        for method in self.listeners(method_name):
            method(self, **cb_kwargs)

    def initialize(self):
        super().initialize()
        # fp16 underflows without loss scaling; bf16 has float32's range.
        enabled = self.precision == "fp16"
        self.grad_scaler_ = torch.amp.GradScaler(
            torch.device(self.device).type, enabled=enabled
        )
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted mean loss of a batch (of a data-parallel batch: see below).

        In a data-parallel fit, a training shard's loss is its weighted sum
        over the weights of the whole batch (``loss_denominator_``, summed
        across the processes), so that the gradients summed across the
        processes are those of the whole batch's mean loss.
        """
        y, weight = y_true
        y_pred = y_pred.float()
        y = y.to(y_pred.device)
        if isinstance(y, MixedTargets):  # mixup of class targets
            lam = y.lam.to(y_pred.dtype)
            losses = lam * self.criterion_(y_pred, y.first) + (
                1 - lam
            ) * self.criterion_(y_pred, y.second)
        else:
            if y.is_floating_point():
                # The type promotion of float64 targets made explicit: torch
                # 2.11, for one, cannot differentiate a loss of float32
                # outputs against float64 targets (those of a network
                # trained in float64).
                y_pred = y_pred.to(torch.promote_types(y_pred.dtype, y.dtype))
            if weight is None and self.mean_criterion_:
                loss = self.mean_criterion_(y_pred, y)
                if training and self.group is not None:
                    # This process's share of the mean over every process's
                    # rows: with one process, exactly the plain fit's loss.
                    loss = loss * (len(y) / self.loss_denominator_.to(loss.device))
                return loss
            losses = self.criterion_(y_pred, y)
        if training and self.group is not None:
            if losses.ndim > 1:
                losses = losses.mean(dim=tuple(range(1, losses.ndim)))
            if weight is not None:
                losses = losses * weight.to(y_pred.device)
            return losses.sum() / self.loss_denominator_.to(losses.device)
        if weight is None:
            return losses.mean()
        if losses.ndim > 1:  # one loss per target of a multi-output regressor
            losses = losses.mean(dim=tuple(range(1, losses.ndim)))
        weight = weight.to(y_pred.device)
        return (losses * weight).sum() / weight.sum()

    def validation_step(self, batch, **fit_params):
        """The loss of a validation batch; in a data-parallel fit, the same everywhere.

        Every process scores the whole validation set with the same weights;
        the mean of their losses makes early stopping decide alike on all of
        them even where kernels differ in the last bit.
        """
        step = super().validation_step(batch, **fit_params)
        if self.group is not None:
            loss = step["loss"].detach().float().reshape(1)
            step["loss"] = self.group.all_reduce(loss)[0] / self.group.world_size
        return step

    def infer(self, x, **fit_params):
        if self.precision is None:
            return super().infer(x, **fit_params)
        with autocast_context(self.device, self.precision):
            return super().infer(x, **fit_params)

    def _set_training(self, training=True):
        # skorch switches modes on every batch, which walks every submodule;
        # only a change of mode needs that.
        if self.module_.training != training:
            super()._set_training(training)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch as skorch does, with less bookkeeping per batch.

        The same history (loss and size of every batch) and the same
        ``on_batch_begin``/``on_batch_end`` notifications, but only to the
        callbacks that implement them: skorch calls every callback's no-op
        and measures each batch with ``get_len``, which costs several percent
        of an epoch for a small network. The epoch's mean loss is summed on
        the way, for :meth:`on_epoch_end`.
        """
        if iterator is None:
            return
        begin = self.listeners("on_batch_begin")
        end = self.listeners("on_batch_end")
        if type(self).on_batch_end is NeuralNet.on_batch_end:
            end = end[1:]  # the net's own, a no-op
        # The net's own on_batch_begin only opens the batch's row.
        opens_row = len(begin) == 1 and (
            type(self).on_batch_begin is NeuralNet.on_batch_begin
        )
        epoch = self.history[-1]
        rows = epoch["batches"]
        batch_count = 0
        total = size = 0
        for batch in iterator:
            if opens_row:
                rows.append({})
            else:
                for method in begin:
                    method(self, batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].item()
            batch_size = len(batch[1][0])
            row = rows[-1]
            row[prefix + "_loss"] = loss
            row[prefix + "_batch_size"] = batch_size
            total += loss * batch_size
            size += batch_size
            for method in end:
                method(self, batch=batch, training=training, **step)
            batch_count += 1
        epoch[prefix + "_batch_count"] = batch_count
        if batch_count:
            self.epoch_.losses[prefix + "_loss"] = total / size

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.optimized_parameters_ = [
            parameter
            for name in self._optimizers
            for group in getattr(self, name + "_").param_groups
            for parameter in group["params"]
        ]

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        # What only a running fit reads; a fitted estimator pickles the net.
        self.optimized_parameters_ = None
        self.epoch_ = None

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self.epoch_ = EpochProgress()
        # The first listener is the net's own, a no-op.
        self.grad_listeners_ = self.listeners("on_grad_computed")[1:]
        if self.group is not None:
            # What a data-parallel step sums across the processes.
            self.trained_parameters_ = [
                p for _, p in self.get_all_learnable_params() if p.requires_grad
            ]
        if self.augmenter is not None:
            self.augmenter.context.new_epoch()

    def on_epoch_end(self, net, **kwargs):
        """Record the epoch's mean losses, as skorch's ``PassthroughScoring`` does.

        ``train_loss`` and ``valid_loss`` (where there is validation) with
        their ``_best`` flags, before the callbacks that read them run.
        """
        super().on_epoch_end(net, **kwargs)
        epoch = self.history[-1]
        for name, loss in self.epoch_.losses.items():
            best = loss < self.best_losses_.get(name, math.inf)
            if best:
                self.best_losses_[name] = loss
            epoch[name] = loss
            epoch[name + "_best"] = best

    def train_step(self, batch, **fit_params):
        """Run one batch; step the optimizer every ``gradient_accumulation_steps``.

        The optimizer also steps after the last batch of an epoch so that no
        gradient is carried over between epochs. Each step takes the mean
        gradient of the batches of its group, also of a last group shorter
        than ``gradient_accumulation_steps``. The batch is augmented first,
        and with a perturbation the loss is the clean loss plus the loss of
        the adversarially perturbed batch.
        """
        self._set_training(True)
        Xi, yi = batch
        if self.group is not None:
            Xi, yi = self.group.shard_batch(Xi, yi)
        empty = len(yi[0]) == 0
        if self.augmenter is not None and not empty:
            y, weight = yi
            Xi, yi = self.augmenter(
                to_device(Xi, self.device),
                (to_device(y, self.device), to_device(weight, self.device)),
            )
        if self.group is not None:
            self.loss_denominator_ = self.group.batch_weight(yi)
        progress = self.epoch_
        group_start = progress.batches - progress.accumulated
        group_size = min(
            self.gradient_accumulation_steps, self.batches_per_epoch_ - group_start
        )

        def scaled(loss):
            if group_size > 1:
                loss = loss / group_size
            return self.grad_scaler_.scale(loss)

        if empty:  # a shard of a data-parallel batch smaller than the group
            y_pred, loss = None, torch.zeros((), device=self.device)
        elif self.perturbation is None:
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            scaled(loss).backward()
        else:
            y_pred, loss = self._adversarial_step(Xi, yi, scaled, fit_params)
        if self.group is not None:
            # The loss of the whole batch, the same on every process.
            loss = self.group.all_reduce(loss.detach().float().reshape(1))[0]
        progress.accumulated += 1
        progress.batches += 1
        if (
            progress.accumulated == self.gradient_accumulation_steps
            or progress.batches == self.batches_per_epoch_
        ):
            if self.group is not None:
                self.group.sum_gradients(self.trained_parameters_)
            self._prepare_step(batch)
            if self.grad_scaler_.is_enabled():
                for name in self._optimizers:
                    self.grad_scaler_.step(getattr(self, name + "_"))
                self.grad_scaler_.update()
            else:
                self._step_optimizer(None)
            # optimizer.zero_grad(set_to_none=True), without its profiler
            # record and hooks: a sixth of a small network's step.
            for parameter in self.optimized_parameters_:
                parameter.grad = None
            progress.accumulated = 0
        return {"loss": loss.detach(), "y_pred": y_pred}

    def _adversarial_step(self, Xi, yi, scaled, fit_params):
        """Back-propagate the clean and the adversarial loss of one batch.

        Returns the clean outputs and the sum of the two losses.
        """
        perturbation = self.perturbation
        Xi = to_device(Xi, self.device)

        def forward(X):
            output = self.infer(X, **fit_params)
            return output, self.get_loss(output, yi, X=X, training=True)

        y_pred, clean, gradients = perturbation.clean_pass(forward, Xi)
        scaled(clean).backward()
        deltas = perturbation.attack(
            forward, Xi, gradients(), scale=self.grad_scaler_.scale
        )
        _, adversarial = perturbation.perturbed_pass(forward, Xi, deltas)
        scaled(adversarial).backward()
        return y_pred, clean.detach() + adversarial.detach()

    def _prepare_step(self, batch):
        """Unscale, pass to the callbacks and clip the gradient of an optimizer step.

        skorch's ``on_grad_computed`` (the penalties of fine-tuning
        methods) runs once per optimizer step: on the mean gradient of the
        accumulated batches, unscaled from fp16 loss scaling. The global
        norm of that gradient is then clipped to ``max_grad_norm``. Nothing
        is gathered when no callback listens and nothing is clipped.
        """
        listeners = self.grad_listeners_
        if not listeners and self.max_grad_norm is None:
            return
        if self.grad_scaler_.is_enabled():
            for name in self._optimizers:
                self.grad_scaler_.unscale_(getattr(self, name + "_"))
        named_parameters = list(self.get_all_learnable_params())
        for method in listeners:
            method(self, named_parameters=named_parameters, batch=batch, training=True)
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(
                [parameter for _, parameter in named_parameters], self.max_grad_norm
            )


class WarmupDecay:
    """Learning-rate multiplier: linear warm-up, then constant, linear or cosine decay.

    A picklable callable for :class:`torch.optim.lr_scheduler.LambdaLR`.
    """

    def __init__(self, schedule, warmup_steps, total_steps):
        self.schedule = schedule
        self.warmup_steps = warmup_steps
        self.total_steps = max(total_steps, 1)

    def __call__(self, step):
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.schedule == "constant":
            return 1.0
        progress = (step - self.warmup_steps) / max(
            self.total_steps - self.warmup_steps, 1
        )
        progress = min(progress, 1.0)
        if self.schedule == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))


class ValidScore(Callback):
    """Record ``valid_score`` (accuracy or R²) each epoch from the validation outputs.

    It reuses the outputs of skorch's validation step instead of running the
    network over the validation set a second time.
    """

    def __init__(self, score):
        self.score = score

    def on_epoch_begin(self, net, **kwargs):
        self.outputs_, self.targets_, self.weights_ = [], [], []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training:
            y, weight = batch[1]
            self.outputs_.append(y_pred.detach().float().cpu())
            self.targets_.append(y)
            self.weights_.append(weight)

    def on_epoch_end(self, net, **kwargs):
        if self.outputs_:
            targets = torch.cat(self.targets_).numpy()
            if any(weight is None for weight in self.weights_):
                weights = np.ones(len(targets))
            else:
                weights = torch.cat(self.weights_).numpy()
            net.history.record(
                "valid_score",
                self.score(torch.cat(self.outputs_).numpy(), targets, weights),
            )


class TrainingGuard(Callback):
    """Keep the weights of the last completed epoch; stop on a non-finite loss.

    After a ``KeyboardInterrupt`` in the middle of an epoch, skorch ends the
    fit; this callback then restores the weights of the last completed epoch
    and drops the unfinished epoch from the history (the interrupt is raised
    again by :class:`InterruptibleNet`; with no completed epoch at all, it is
    raised here, before callbacks that read the last epoch run). A
    non-finite training loss raises :class:`FloatingPointError`.
    """

    def on_train_begin(self, net, **kwargs):
        self.snapshot_ = WeightSnapshot(net.module_)

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1]["train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"Training diverged at epoch {len(net.history)}: the training "
                f"loss is {loss}. Lower `learning_rate`, or scale the input "
                "features (e.g. with StandardScaler)."
            )
        self.snapshot_.take()

    def on_train_end(self, net, **kwargs):
        snapshot, self.snapshot_ = self.snapshot_, None
        if net.history and "train_loss" not in net.history[-1]:
            net.module_.load_state_dict(snapshot.state)
            del net.history[-1]
            if not net.history:
                raise KeyboardInterrupt


class WeightSnapshot:
    """A copy of a module's state, taken again and again in place.

    The tensors of the state dict are looked up once: a parameter or buffer
    is updated in place by training (the optimizer, BatchNorm's running
    statistics), so each :meth:`take` copies into the same buffers, without
    walking the module or allocating, which per epoch cost a small network
    as much as a training step.

    Parameters
    ----------
    module : torch.nn.Module
        The module whose weights are copied.
    """

    def __init__(self, module):
        self.live = module.state_dict(keep_vars=True)
        with torch.no_grad():
            self.state = {key: value.clone() for key, value in self.live.items()}

    def take(self):
        """Copy the module's current state into :attr:`state`, and return it."""
        with torch.no_grad():
            for key, value in self.live.items():
                self.state[key].copy_(value)
        return self.state


def _batch_listeners(net, name):
    """The bound ``name`` methods of the net and of the callbacks that define one."""
    listeners = [getattr(net, name)]
    for _, callback in net.callbacks_:
        if getattr(type(callback), name) is not getattr(Callback, name):
            listeners.append(getattr(callback, name))
    return listeners


def _holds_views(module):
    """Whether a parameter or buffer of ``module`` views a larger storage."""
    return any(
        tensor.untyped_storage().nbytes() > tensor.numel() * tensor.element_size()
        for tensor in itertools.chain(module.parameters(), module.buffers())
    )


def _compact_copy(module):
    """A copy of ``module`` whose parameters and buffers own their storage."""
    copied = copy.deepcopy(module)
    for tensor in itertools.chain(copied.parameters(), copied.buffers()):
        tensor.data = tensor.data.clone()
    return copied


def _to_cpu(value):
    """``value`` with every tensor in it (nested in dicts and lists) on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(item) for item in value)
    return value


def state_copy(module):
    """A detached copy of a module's state dict."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}
