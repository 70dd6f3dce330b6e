"""The base of every estimator that trains a torch network through skorch."""

import copy
import hashlib
import math
import numbers
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import LRScheduler, ProgressBar
from skorch.helper import predefined_split
from skorch.history import History
from torch.optim.lr_scheduler import LambdaLR

from sklearn_histai._torch._craft import augmentation_context, make_perturbation
from sklearn_histai._torch._distributed import current_group
from sklearn_histai._torch._persistence import portable_module, to_arrays, to_tensors
from sklearn_histai._torch._runtime import (
    DEVICE_CONSTRAINT,
    NUM_THREADS_CONSTRAINT,
    NUMPY_DTYPES,
    autocast_context,
    cpu_context,
    draw_seed,
    inference_only,
    module_dtype,
    resolve_device,
    resolve_precision,
    seeded,
    threads_for,
    to_device,
)
from sklearn_histai._torch._skorch import (
    BatchIterator,
    EarlyStop,
    TensorDataset,
    TrainingGuard,
    ValidScore,
    WarmupDecay,
    WeightedNet,
    state_copy,
    take,
)
from sklearn_histai.augmentation._base import BatchAugmenter
from sklearn_histai.utils._token_ids import BOS, EOS

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}

_AUTO_EARLY_STOPPING_SAMPLES = 1000


class BaseNeuralEstimator(BaseEstimator, metaclass=ABCMeta):
    """Base of the neural estimators: one skorch net composed as ``net_``.

    Subclasses declare their architecture parameters and implement
    :meth:`_build_module`; validation, target encoding, seeding, device and
    thread selection, the training loop (skorch's, with its callbacks),
    early stopping and batched prediction live here once.
    """

    _parameter_constraints = {
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"constant", "linear", "cosine"})],
        "warmup_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "gradient_accumulation_steps": [
            Interval(numbers.Integral, 1, None, closed="left")
        ],
        "max_grad_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "adversarial": [StrOptions({"fgm", "pgd"}), None],
        "adversarial_epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "adversarial_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "mixed_precision": ["boolean", StrOptions({"bf16", "fp16"})],
        "device": DEVICE_CONSTRAINT,
        "num_threads": NUM_THREADS_CONSTRAINT,
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # float32 rows stay float32; everything else becomes float64, as in
    # scikit-learn (whose MLP also computes in the input's precision).
    _input_dtype = (np.float64, np.float32)
    # Rows per forward pass at prediction: bounds the memory used.
    _predict_chunk_size = 4096
    # Parameters of the training rather than of the network: a warm start
    # may change these, and any other parameter builds a different network.
    _training_parameters = frozenset(
        {
            "max_iter",
            "batch_size",
            "learning_rate",
            "optimizer",
            "weight_decay",
            "lr_schedule",
            "warmup_fraction",
            "early_stopping",
            "validation_fraction",
            "n_iter_no_change",
            "tol",
            "class_weight",
            "gradient_accumulation_steps",
            "max_grad_norm",
            "adversarial",
            "adversarial_epsilon",
            "adversarial_steps",
            "label_smoothing",
            "augmentation",
            "mixed_precision",
            "device",
            "num_threads",
            "warm_start",
            "random_state",
            "verbose",
        }
    )

    def __init__(
        self,
        *,
        max_iter=200,
        batch_size="auto",
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="constant",
        warmup_fraction=0.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_accumulation_steps=1,
        max_grad_norm=None,
        adversarial=None,
        adversarial_epsilon=1.0,
        adversarial_steps=3,
        mixed_precision=False,
        device="auto",
        num_threads="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.adversarial = adversarial
        self.adversarial_epsilon = adversarial_epsilon
        self.adversarial_steps = adversarial_steps
        self.mixed_precision = mixed_precision
        self.device = device
        self.num_threads = num_threads
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- hooks for subclasses -------------------------------------------------

    @abstractmethod
    def _build_module(self):
        """Return a new ``nn.Module`` for the data seen by ``fit``.

        ``n_features_in_`` and ``n_outputs_`` are set when it is called.
        """

    @abstractmethod
    def _encode_targets(self, y, sample_weight):
        """Return the validated ``y`` as the training targets of the network.

        At the first fit it also sets ``n_outputs_`` (and what prediction
        needs to decode the outputs, e.g. ``classes_``).
        """

    @abstractmethod
    def _criterion(self):
        """Return the loss class (built by skorch with ``reduction="none"``)."""

    def _target_validation(self):
        """Keyword arguments of ``validate_data`` for ``y``."""
        return {}

    def _class_sample_weight(self, targets):
        """Per-sample weights from ``class_weight``; 1 where there is none."""
        return 1.0

    def _input_kind(self):
        """The form of the network's input: "tabular" unless a subclass says.

        One of "image", "tabular", "sequence", "tokens" and "text"; it
        decides which augmentations apply and where an adversarial
        perturbation goes (the input rows, or the embeddings of tokens).
        """
        return "tabular"

    def _input_padding(self):
        """The padding id or value of the network's input, or None."""
        return None

    def _augmentations(self):
        """The resolved ``augmentation`` parameter; none where it does not exist."""
        return []

    def _criterion_params(self):
        """Keyword arguments of the criterion (skorch's ``criterion__*``)."""
        return {}

    def _check_input(self, X, *, reset):
        """Check the validated input further; the identity by default.

        ``reset`` is True in a fit that learns from ``X`` (not a warm start).
        """
        return X

    # -- the shared machinery ---------------------------------------------------

    def _validate_input(self, X, *, reset, y="no_validation"):
        kwargs = dict(dtype=list(self._input_dtype), reset=reset)
        if isinstance(y, str) and y == "no_validation":
            return self._check_input(validate_data(self, X, **kwargs), reset=reset)
        X, y = validate_data(self, X, y, **kwargs, **self._target_validation())
        return self._check_input(X, reset=reset), y

    def _check_params(self):
        """Check the parameters further than their constraints do, before any work.

        The default checks nothing; estimators whose parameters depend on
        each other, or hold sequences (layer sizes), check them here.
        """

    def _multiply_adds_per_sample(self, module):
        """Rough cost of one sample's forward pass; convolutions refine it."""
        return sum(p.numel() for p in module.parameters())

    def _threads_for(self, module, batch_size):
        """Intra-op threads for batches of ``batch_size`` rows through ``module``."""
        return threads_for(
            self.num_threads, batch_size * self._multiply_adds_per_sample(module)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _compute_dtype(self, X, device):
        """The float dtype the network trains in, chosen at the first fit.

        On the CPU, float32 and float64 rows keep their precision (as in
        scikit-learn's MLP); token ids train in float32, and so does every
        input on GPUs, which are built for float32.
        """
        if device == "cpu" and X.dtype == np.float64:
            return torch.float64
        return torch.float32

    def _to_tensors(self, X, float_dtype):
        """The validated input as a tensor (or a dict of tensors) for the module.

        Float rows are cast to ``float_dtype``; integer rows (token ids) are
        kept. Estimators with other input (e.g. raw text) override this.
        """
        if X.dtype.kind == "f":
            X = X.astype(NUMPY_DTYPES[float_dtype], copy=False)
        X = np.ascontiguousarray(X)
        # torch cannot wrap read-only memory (e.g. a read-only memmap).
        tensor = torch.from_numpy(X if X.flags.writeable else X.copy())
        if tensor.is_floating_point() and tensor.dtype != float_dtype:
            # numpy has no bfloat16: the rows of such a network (one cast
            # by deploy.quantize) come as float32 and are cast here.
            tensor = tensor.to(float_dtype)
        return tensor

    def _make_callbacks(self, early_stopping, total_steps, incremental=False):
        callbacks = [("training_guard", TrainingGuard())]
        if early_stopping:
            callbacks += [
                ("valid_score", ValidScore(self._validation_score)),
                (
                    "early_stopping",
                    EarlyStop(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="abs",
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                ),
            ]
        elif not incremental:  # partial_fit trains one epoch per call
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStop(
                        monitor="train_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="abs",
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        if self.lr_schedule != "constant" or self.warmup_fraction > 0:
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        policy=LambdaLR,
                        lr_lambda=WarmupDecay(
                            self.lr_schedule,
                            math.ceil(self.warmup_fraction * total_steps),
                            total_steps,
                        ),
                        step_every="batch",
                    ),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks + self._extra_callbacks()

    def _extra_callbacks(self):
        """Further ``(name, callback)`` pairs of skorch callbacks; none by default."""
        return []

    def _stratification(self, targets):
        """The labels the validation split keeps the proportions of, or None."""
        return None

    def _resolve_early_stopping(self, n_samples):
        if self.early_stopping == "auto":
            # As HistGradientBoosting does: below this, a held-out tenth is
            # too small to judge an epoch by.
            return n_samples >= _AUTO_EARLY_STOPPING_SAMPLES
        return self.early_stopping

    def _split(self, dataset, y, seed):
        if not self._resolve_early_stopping(len(y)):
            return dataset, None
        indices = np.arange(len(y))
        stratify = self._stratification(y)
        try:
            train, valid = train_test_split(
                indices,
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=seed,
            )
        except ValueError as exc:
            raise ValueError(
                f"Cannot hold out validation_fraction={self.validation_fraction} of "
                f"{len(y)} samples for early stopping: {exc} Use more samples, a "
                "larger validation_fraction, or early_stopping=False."
            ) from exc
        to_tensor = torch.from_numpy
        return dataset.subset(to_tensor(train)), dataset.subset(to_tensor(valid))

    def _fit(self, X, y, sample_weight, *, incremental=False, classes=None):
        # On any error the estimator is left exactly as it was before the
        # call: no half-fitted attributes, and the weights (and, between
        # partial_fit calls, the optimizer and the history) of a continued
        # network are restored. An interrupt (Ctrl-C) after a completed
        # epoch keeps the model of the last completed epoch and is raised
        # again.
        state = dict(vars(self))
        self._incremental = incremental
        saved = None
        if self._continuing():
            net = self.net_
            saved = (
                state_copy(net.module_),
                _optimizer_state(net),
                len(net.history),
            )
        try:
            return self._fit_network(X, y, sample_weight, incremental, classes)
        except _InterruptedAfterEpochs:
            raise
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            if saved is not None:
                weights, optimizer_state, epochs = saved
                net.module_.load_state_dict(weights)
                if optimizer_state is not None:
                    net.load_optimizer_states(optimizer_state)
                del net.history[epochs:]
            raise
        finally:
            vars(self).pop("_incremental", None)

    def _fit_network(self, X, y, sample_weight, incremental=False, classes=None):
        self._check_params()
        # What deploy.quantize and deploy.prune recorded describes the network
        # this fit replaces (a failed fit restores them with the rest).
        for name in ("quantization_", "sparsity_", "layer_sparsity_"):
            vars(self).pop(name, None)
        group = current_group()
        if incremental:
            self._check_incremental(group)
        augmentations = self._augmentations()
        if (
            (self.warm_start or incremental)
            and hasattr(self, "net_")
            and inference_only(self.net_.module_)
        ):
            method = "partial_fit" if incremental else "fit with warm_start=True"
            raise ValueError(
                f"{type(self).__name__}.{method} would train its network further, "
                "but the network was quantised (sklearn_histai.deploy.quantize) to "
                "int8 or half precision and can only predict. Train the "
                "full-precision estimator and quantize it again, or set "
                "warm_start=False to train a new full-precision network."
            )
        continuing = self._continuing()
        if continuing:
            self._check_same_architecture()
        device = resolve_device(self.device)
        if group is not None:
            device = group.device(device)
        X, y = self._validate_input(X, reset=not continuing, y=y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if not sample_weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum.")
        if classes is None:
            targets = self._encode_targets(y, sample_weight)
        else:
            targets = self._encode_targets(y, sample_weight, classes=classes)
        sample_weight = sample_weight * self._class_sample_weight(targets)
        if continuing:
            float_dtype = module_dtype(self.net_.module_)
        else:
            float_dtype = self._compute_dtype(X, device)
        if targets.dtype.kind == "f":
            targets = targets.astype(NUMPY_DTYPES[float_dtype], copy=False)
        seed = draw_seed(self.random_state)
        world_size = 1
        if group is not None:
            # Every process must split, shuffle and initialise alike.
            group.check_same(len(targets), "the number of samples")
            seed = group.broadcast_int(seed)
            world_size = group.world_size
        uniform = np.all(sample_weight == sample_weight[0])
        dataset = TensorDataset(
            self._to_tensors(X, float_dtype),
            torch.from_numpy(targets),
            None if uniform else torch.from_numpy(sample_weight).to(float_dtype),
        )
        if incremental:
            train, valid = dataset, None
        else:
            train, valid = self._split(dataset, targets, seed)
        batch_size = (
            min(200, len(train)) if self.batch_size == "auto" else self.batch_size
        )
        batch_size = min(batch_size, len(train))
        # In a data-parallel fit, every process trains on its shard of each
        # batch of batch_size rows per process.
        global_batch = min(batch_size * world_size, len(train))
        batches = math.ceil(len(train) / global_batch)

        interrupted = False
        settings = self._training_settings()
        reuse = (
            incremental
            and continuing
            and self.net_.keeps_optimizer()
            and self.net_.training_settings_ == settings
        )
        with seeded(seed, device):
            if continuing:
                # A warm start keeps the weights and the history but trains
                # with the current parameters (a fresh optimizer); further
                # partial_fit calls also keep the optimizer's state.
                module = self.net_.module_
            else:
                module = self._build_module().to(float_dtype)
            if group is not None:
                group.broadcast_module(module)
                # Dropout masks differ between the processes' shards.
                torch.manual_seed(seed + group.rank)
            if reuse:
                net = self.net_
                net.batch_size = global_batch
                net.batches_per_epoch_ = batches
                # Each call shuffles its rows differently, reproducibly.
                net.iterator_train__seed = seed + len(net.history)
            else:
                net = self._make_net(
                    module, device, seed, global_batch, batches, valid, incremental
                )
            net.group = group
            if augmentations:
                net.augmenter = BatchAugmenter(
                    augmentations, self._augmentation_context(train.X, module)
                )
            net.perturbation = self._perturbation(module)
            if continuing and not reuse:
                net.history = History(self.net_.history)
            epochs_before = len(net.history)
            with cpu_context(self._threads_for(module, batch_size)):
                try:
                    net.partial_fit(train, None)
                except KeyboardInterrupt:
                    if len(net.history) == epochs_before:
                        raise
                    interrupted = True
        net.release_training_state(keep_optimizer=incremental)
        net.incremental_ = incremental
        net.training_settings_ = settings
        self.net_ = net
        self._architecture_ = self._architecture()
        self._record_training(net, epochs_before, warn=not incremental)
        if interrupted:
            raise _InterruptedAfterEpochs(
                f"{type(self).__name__}.fit was interrupted; the model of the last "
                f"completed epoch ({len(net.history)}) is kept."
            )
        return self

    def _training_settings(self):
        """The training parameters a partial_fit's net and optimizer were made with.

        A further call continues them only while these are unchanged; any
        change (a learning rate, an optimizer, clipping) takes a fresh net
        and optimizer, as a warm start does. Seeds, epochs and batch sizes
        are set per call.
        """
        per_call = {
            "max_iter",
            "batch_size",
            "early_stopping",
            "validation_fraction",
            "n_iter_no_change",
            "tol",
            "warm_start",
            "random_state",
        }
        params = self.get_params(deep=False)
        return {
            name: _fingerprint(params[name])
            for name in sorted(self._training_parameters - per_call)
            if name in params
        }

    def _check_incremental(self, group):
        """Raise a ValueError for the parameters partial_fit cannot honour."""
        if group is not None:
            raise ValueError(
                "partial_fit does not train data-parallel; call fit inside "
                "data_parallel(), or partial_fit outside it."
            )
        if self.lr_schedule != "constant" or self.warmup_fraction > 0:
            raise ValueError(
                f"partial_fit trains at a constant learning rate, but "
                f"lr_schedule={self.lr_schedule!r} and "
                f"warmup_fraction={self.warmup_fraction} schedule it over the "
                "epochs of a fit, which partial_fit does not know. Use "
                'lr_schedule="constant" and warmup_fraction=0.'
            )

    def _augmentation_context(self, inputs, module):
        """What the augmentations of this fit may know of its training input."""
        return augmentation_context(self, inputs, module)

    def _protected_ids(self):
        """Token ids that augmentations never edit, besides the padding."""
        return (BOS, EOS)

    def _perturbation(self, module):
        """The adversarial perturbation of the training batches, or None."""
        return make_perturbation(self, module)

    def _architecture(self):
        """A fingerprint of every parameter that shapes the network."""
        return {
            name: _fingerprint(value)
            for name, value in self.get_params(deep=False).items()
            if name not in self._training_parameters
        }

    def _check_same_architecture(self):
        changed = [
            name
            for name, value in self._architecture().items()
            if self._architecture_.get(name) != value
        ]
        if changed:
            raise ValueError(
                f"warm_start=True continues the network of the previous fit, but "
                f"{', '.join(changed)} changed since that fit, which would build "
                "another network. Set warm_start=False to train a new network, or "
                "restore the parameters."
            )

    def _initial_learning_rate(self):
        """The learning rate the optimizer starts from; subclasses may resolve it."""
        return self.learning_rate

    def _continuing(self):
        """Whether this fit trains the network of the previous one further.

        True for a warm start, and for a ``partial_fit`` after a first call,
        of a network that can train: one quantised by
        ``sklearn_histai.deploy.quantize`` only predicts, and
        :meth:`_fit_network` refuses to continue it.
        """
        incremental = vars(self).get("_incremental", False)
        return (
            (self.warm_start or incremental)
            and hasattr(self, "net_")
            and not inference_only(self.net_.module_)
        )

    def _optimizer_params(self):
        """Keyword arguments of the optimizer (skorch's ``optimizer__*``).

        Subclasses may add, e.g., ``param_groups`` with their own rates.
        """
        optimizer_params = {"weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_params.update(momentum=0.9, nesterov=True)
        else:
            # One fused kernel per step instead of several tensor operations
            # per parameter: about 20% of a small network's epoch on a CPU.
            optimizer_params["fused"] = True
        return optimizer_params

    def _batch_iterators(self, batch_size):
        """skorch's ``iterator_train``/``iterator_valid`` settings of the net.

        Shuffled mini-batches of ``batch_size`` rows to train on; validation
        in chunks as large as prediction's. Subclasses whose rows batch
        better otherwise (token rows by length) return their own iterators
        and ``iterator_*__`` parameters.
        """
        return {
            "iterator_train": BatchIterator,
            "iterator_valid": BatchIterator,
            "iterator_valid__batch_size": max(batch_size, self._predict_chunk_size),
        }

    def _make_net(
        self, module, device, seed, batch_size, batches, valid, incremental=False
    ):
        optimizer_params = self._optimizer_params()
        epochs = 1 if incremental else self.max_iter
        total_steps = epochs * batches
        net = WeightedNet(
            module=module,
            criterion=self._criterion(),
            criterion__reduction="none",
            **{f"criterion__{key}": v for key, v in self._criterion_params().items()},
            optimizer=_OPTIMIZERS[self.optimizer],
            lr=self._initial_learning_rate(),
            max_epochs=epochs,
            batch_size=batch_size,
            iterator_train__shuffle=True,
            iterator_train__seed=seed,
            **self._batch_iterators(batch_size),
            dataset=TensorDataset,
            train_split=None if valid is None else predefined_split(valid),
            callbacks=self._make_callbacks(valid is not None, total_steps, incremental),
            predict_nonlinearity=None,
            device=device,
            verbose=self.verbose,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            max_grad_norm=self.max_grad_norm,
            precision=resolve_precision(self.mixed_precision, device),
            **{f"optimizer__{key}": value for key, value in optimizer_params.items()},
            # skorch formats its epoch table even when it prints nothing.
            **({} if self.verbose else {"callbacks__print_log": None}),
        )
        net.batches_per_epoch_ = batches
        return net.initialize()

    def _record_training(self, net, epochs_before, warn=True):
        keys = ("epoch", "train_loss", "valid_loss", "valid_score", "dur")
        self.history_ = [
            {key: row[key] for key in keys if key in row} for row in net.history
        ]
        self.loss_curve_ = [row["train_loss"] for row in self.history_]
        self.n_iter_ = len(self.history_)
        if not warn:
            return
        # A decaying schedule brings the learning rate to zero at max_iter:
        # ending there is its planned course, not a want of epochs.
        if (
            self.n_iter_ - epochs_before == self.max_iter
            and self.lr_schedule == "constant"
        ):
            warnings.warn(
                f"{type(self).__name__} reached max_iter={self.max_iter} epochs "
                "before the monitored loss stopped improving; consider a larger "
                "max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        baseline = self._baseline_loss()
        final = self.loss_curve_[-1] if self.loss_curve_ else None
        if baseline is not None and final is not None and final > 10 * baseline:
            warnings.warn(
                f"{type(self).__name__} ended training at a loss of {final:.3g}, "
                f"far above {baseline:.3g}, the loss of a constant prediction: the "
                "network did not fit the data. Unscaled input features are the "
                "usual cause: scale them (e.g. with StandardScaler), or lower "
                "learning_rate.",
                UserWarning,
                stacklevel=3,
            )

    def _baseline_loss(self):
        """The training loss of a constant prediction, or None where unknown."""
        return None

    def _forward(self, X, activation=None, dtype=None, module=None):
        """Network outputs for validated input, in bounded memory, as float64.

        ``activation``, when given, is applied to each chunk of outputs.
        ``dtype``, when given, is the precision of the computation: a copy
        of the network in it computes the outputs (float64 makes them
        independent of the other rows of the batch to the last float32 bit,
        which float32 matrix products are not). ``module``, when given, is
        the part of the trained network to run (e.g. an autoencoder's
        encoder); by default the whole.
        """
        check_is_fitted(self)
        module = self.net_.module_ if module is None else module
        if dtype is not None and module_dtype(module) != dtype:
            module = copy.deepcopy(module).to(dtype)
        device = self.net_.device
        precision = self.net_.precision
        inputs = self._to_tensors(X, module_dtype(module))
        n_rows = len(
            next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        )
        chunk = self._predict_chunk_size
        module.eval()
        outputs = []
        n_threads = self._threads_for(module, min(n_rows, chunk))
        with cpu_context(n_threads), torch.inference_mode():
            for start in range(0, n_rows, chunk):
                batch = to_device(take(inputs, slice(start, start + chunk)), device)
                with autocast_context(device, precision):
                    if isinstance(batch, dict):
                        output = module(**batch)
                    else:
                        output = module(batch)
                if output.dtype in (torch.float16, torch.bfloat16):
                    output = output.float()  # autocast outputs
                if activation is not None:
                    output = activation(output)
                outputs.append(output.cpu())
        return torch.cat(outputs).numpy().astype(np.float64, copy=False)

    # -- persistence ----------------------------------------------------------------

    def __getstate__(self):
        # The network is stored as plain data (its weights as numpy arrays,
        # its history as lists and dicts) rather than as pickled torch and
        # skorch objects: skops.io can then save it, and list nothing but
        # this package's types as untrusted. A network numpy cannot hold
        # (quantised, bfloat16) keeps skorch's pickling.
        state = dict(super().__getstate__())
        net = state.get("net_")
        if net is not None and self._portable_network(net):
            del state["net_"]
            state["_network_state"] = self._network_state(net)
        return state

    def __setstate__(self, state):
        state = dict(state)
        network = state.pop("_network_state", None)
        super().__setstate__(state)
        if network is not None:
            self.net_ = self._restore_network(network)

    def _portable_network(self, net):
        """Whether ``net`` pickles as plain data (:meth:`_network_state`)."""
        return portable_module(net.module_)

    def _network_state(self, net):
        """The trained network ``net`` as plain data, for :meth:`_restore_network`."""
        module = net.module_
        optimizer_states = None
        if net.keeps_optimizer():
            optimizer_states = to_arrays(net.optimizer_states())
        return {
            "weights": to_arrays(module.state_dict()),
            "dtype": str(module_dtype(module)).removeprefix("torch."),
            "device": str(net.device),
            "batch_size": net.batch_size,
            "batches_per_epoch": net.batches_per_epoch_,
            "history": to_arrays(list(net.history)),
            "incremental": net.incremental_,
            "training_settings": net.training_settings_,
            "optimizer_states": optimizer_states,
        }

    def _restore_network(self, network):
        """The trained skorch net that :meth:`_network_state` stored."""
        device = network["device"]
        if device.startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"{type(self).__name__} was trained on {device!r}, which is not "
                "available here; its network is loaded on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            device = "cpu"
        # The build draws initial weights, which the stored ones replace; it
        # is seeded so that loading leaves the user's generators as they were.
        with seeded(0, "cpu"):
            module = self._build_module().to(getattr(torch, network["dtype"]))
        module.load_state_dict(to_tensors(network["weights"]))
        incremental = network["incremental"]
        net = self._make_net(
            module,
            device,
            0,
            network["batch_size"],
            network["batches_per_epoch"],
            None,
            incremental,
        )
        net.history = History(network["history"])
        net.incremental_ = incremental
        net.training_settings_ = network["training_settings"]
        if network["optimizer_states"] is not None:
            net.load_optimizer_states(to_tensors(network["optimizer_states"]))
        else:
            net.release_training_state()
        return net


def _optimizer_state(net):
    """A copy of the optimizers' state a partial_fit continues from, or None."""
    if not net.keeps_optimizer():
        return None
    return copy.deepcopy(net.optimizer_states())


def _silent(*args, **kwargs):
    """A sink that discards skorch's messages when ``verbose=0``."""


def check_layer_sizes(sizes, name, *, allow_empty=True):
    """Raise a ValueError naming ``name`` unless ``sizes`` are positive integers.

    Parameters
    ----------
    sizes : tuple or list
        The layer sizes (widths, channels, kernel widths) of a parameter.
    name : str
        The parameter's name, for the message.
    allow_empty : bool, default=True
        Whether no layer at all is valid.
    """
    valid = isinstance(sizes, tuple | list) and all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    )
    if not valid or (not sizes and not allow_empty):
        kind = "a tuple" if allow_empty else "a non-empty tuple"
        raise ValueError(f"{name} must be {kind} of positive integers; got {sizes!r}.")


class _InterruptedAfterEpochs(KeyboardInterrupt):
    """Ctrl-C during ``fit``, raised again once the completed epochs are kept."""


def _fingerprint(value):
    """A comparable stand-in for a parameter value (arrays by their digest)."""
    if value is None or isinstance(value, str | numbers.Number):
        return value
    if isinstance(value, list | tuple):
        return tuple(_fingerprint(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _fingerprint(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray | torch.Tensor):
        array = np.ascontiguousarray(np.asarray(value))
        digest = hashlib.sha1(array.tobytes()).hexdigest()
        return ("array", array.shape, str(array.dtype), digest)
    # Objects such as a loaded transformers model: the type is all that is
    # comparable across pickling.
    return ("object", type(value).__qualname__)
