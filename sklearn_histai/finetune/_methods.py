"""The fine-tuning methods: what each adds to the pretrained encoder, and what trains.

Each method is one row of :data:`METHODS`: a function that turns the
pretrained encoder into the encoder to train (and sets ``requires_grad`` on
exactly its parameters that train; the output layer put on top of it always
trains), the learning
rate that ``learning_rate="auto"`` resolves to, whether the trained weights
can be merged back into a plain checkpoint, and the training callbacks the
method needs. The peft library supplies LoRA, AdaLoRA, IA3 and prompt
tuning; bottleneck adapters and prefix tuning come from
:mod:`sklearn_histai.nn`.
"""

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_histai.nn import BottleneckAdapter, PrefixTuning, add_bottleneck_adapters

PEFT_EXTRA_HINT = "Install the optional extra with `pip install sklearn-histai[peft]`."


def import_peft():
    """Import peft, or fail with a message naming the extra to install."""
    try:
        import peft
    except ImportError as exc:
        raise ImportError(
            f"This peft_method needs the peft library, which is not installed. "
            f"{PEFT_EXTRA_HINT}"
        ) from exc
    return peft


@dataclass(frozen=True)
class FineTuningMethod:
    """How one fine-tuning method turns a pretrained model into a network to train.

    Parameters
    ----------
    name : str
        The value of ``peft_method``.
    learning_rate : float
        The learning rate that ``learning_rate="auto"`` resolves to.
    apply : callable
        ``apply(encoder, estimator)`` returns the encoder to train, built
        from the pretrained ``encoder`` with the estimator's parameters,
        with ``requires_grad`` set on exactly the parameters that train.
    mergeable : bool
        Whether the trained network folds back into a plain checkpoint of
        the base architecture.
    callbacks : callable, default=lambda estimator: []
        ``callbacks(estimator)`` returns the (name, skorch callback) pairs
        the method needs during training.
    """

    name: str
    learning_rate: float
    apply: Callable
    mergeable: bool
    callbacks: Callable = field(default=lambda estimator: [])


def _attention_projections(model):
    """The BERT names of the attention projections, or None (peft's default)."""
    names = {name.rpartition(".")[2] for name, _ in model.named_modules()}
    found = [name for name in ("query", "key", "value") if name in names]
    return found or None


def _get_peft_model(model, config):
    peft = import_peft()
    with warnings.catch_warnings():
        # peft probes attributes that transformers marks as deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        return peft.get_peft_model(model, config)


def _full(model, estimator):
    return model.requires_grad_(True)


def _head_only(model, estimator):
    return model.requires_grad_(False)


def _lora(model, estimator):
    peft = import_peft()
    config = peft.LoraConfig(
        task_type=peft.TaskType.FEATURE_EXTRACTION,
        r=estimator.lora_r,
        lora_alpha=estimator.lora_alpha,
        lora_dropout=estimator.lora_dropout,
        target_modules=_target_modules(model, estimator, _block_linear_layers),
    )
    return _get_peft_model(model, config)


def _adalora(model, estimator):
    peft = import_peft()
    config = peft.AdaLoraConfig(
        task_type=peft.TaskType.FEATURE_EXTRACTION,
        init_r=estimator.adalora_init_r,
        target_r=estimator.adalora_target_r,
        lora_alpha=estimator.lora_alpha,
        lora_dropout=estimator.lora_dropout,
        target_modules=_target_modules(model, estimator, _attention_projections),
        deltaT=estimator.adalora_delta_t,
        orth_reg_weight=estimator.adalora_orth_reg_weight,
        # The real schedule, in optimizer steps, is set when training starts
        # (see _AdaLoraBudget): only then is the number of steps known.
        total_step=1,
        tinit=0,
        tfinal=0,
    )
    return _get_peft_model(model, config)


def _ia3(model, estimator):
    peft = import_peft()
    config = peft.IA3Config(
        task_type=peft.TaskType.FEATURE_EXTRACTION,
        target_modules=(
            None if estimator.target_modules is None else list(estimator.target_modules)
        ),
        feedforward_modules=None if estimator.target_modules is None else [],
    )
    return _get_peft_model(model, config)


def _prompt_tuning(model, estimator):
    peft = import_peft()
    config = peft.PromptTuningConfig(
        task_type=peft.TaskType.FEATURE_EXTRACTION,
        num_virtual_tokens=estimator.num_virtual_tokens,
        # Soft prompts started from embeddings of random vocabulary words
        # train better than from random vectors (Lester et al., 2021).
        prompt_tuning_init=peft.PromptTuningInit.SAMPLE_VOCAB,
    )
    return _get_peft_model(model, config)


def _prefix_tuning(model, estimator):
    model.requires_grad_(False)
    return PrefixTuning(
        model, estimator.num_virtual_tokens, estimator.prefix_projection_size
    )


def _adapter(model, estimator):
    model.requires_grad_(False)
    add_bottleneck_adapters(model, estimator.adapter_size)
    # Houlsby et al. (2019) also train the layer normalisations.
    for module in model.modules():
        if isinstance(module, (nn.LayerNorm, BottleneckAdapter)):
            module.requires_grad_(True)
    return model


def _block_linear_layers(model):
    """Full names of the linear layers of the transformer blocks, or None.

    Every ``nn.Linear`` of the encoder but its pooler (which mean pooling
    never uses): the attention projections and output, and both
    feed-forward layers.
    """
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and "pooler" not in name.split(".")
    ]
    return names or None


def _target_modules(model, estimator, default):
    """The estimator's ``target_modules``, or ``default(model)`` when None."""
    if estimator.target_modules is not None:
        return list(estimator.target_modules)
    return default(model)


class _AdaLoraBudget(Callback):
    """Run AdaLoRA's rank allocation after each optimizer step.

    AdaLoRA (Zhang et al., 2023) keeps all ranks for the first ``tinit``
    fraction of the optimizer steps, then prunes the singular values of
    least importance until ``target_r`` ranks per matrix remain on average,
    and keeps that budget for the last ``tfinal`` fraction. peft's
    ``update_and_allocate`` does the allocation; it must run after the
    optimizer step and before the gradients are cleared, which an optimizer
    step hook guarantees, also with gradient accumulation. The
    orthogonality penalty on the singular vectors is added to the
    gradients before each step.
    """

    def __init__(self, tinit, tfinal, orth_reg_weight):
        self.tinit = tinit
        self.tfinal = tfinal
        self.orth_reg_weight = orth_reg_weight

    def on_train_begin(self, net, **kwargs):
        self.model_ = net.module_.encoder
        steps_per_epoch = math.ceil(
            net.batches_per_epoch_ / net.gradient_accumulation_steps
        )
        total = net.max_epochs * steps_per_epoch
        config = self.model_.peft_config["default"]
        config.total_step = total
        config.tinit = int(self.tinit * total)
        config.tfinal = int(self.tfinal * total)
        self.model_.base_model.rankallocator.set_total_step(total)
        self.step_ = 0
        self.hook_ = net.optimizer_.register_step_post_hook(self._allocate)

    def _allocate(self, optimizer, args, kwargs):
        self.model_.base_model.update_and_allocate(self.step_)
        self.step_ += 1

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if not training or self.orth_reg_weight == 0:
            return
        penalty = orthogonality_penalty(self.model_)
        if penalty is not None:
            (self.orth_reg_weight * penalty).backward()

    def on_train_end(self, net, **kwargs):
        self.hook_.remove()
        self.hook_ = self.model_ = None


def orthogonality_penalty(model):
    """Mean of ``||P^T P - I||_F^2`` over AdaLoRA's singular-vector matrices.

    The regulariser of Zhang et al. (2023) that keeps the left (``lora_B``)
    and right (``lora_A``) singular vectors of each adapted matrix close to
    orthonormal; None when the model has no such matrices.
    """
    terms = []
    for name, param in model.named_parameters():
        if not param.requires_grad or param.numel() == 0:
            continue
        if ".lora_A." in name:
            gram = param @ param.T
        elif ".lora_B." in name:
            gram = param.T @ param
        else:
            continue
        eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        terms.append((gram - eye).square().sum())
    return torch.stack(terms).mean() if terms else None


METHODS = {
    method.name: method
    for method in [
        FineTuningMethod("lora", 1e-3, _lora, mergeable=True),
        FineTuningMethod(
            "adalora",
            1e-3,
            _adalora,
            mergeable=True,
            callbacks=lambda estimator: [
                (
                    "adalora_budget",
                    _AdaLoraBudget(
                        estimator.adalora_tinit,
                        estimator.adalora_tfinal,
                        estimator.adalora_orth_reg_weight,
                    ),
                )
            ],
        ),
        FineTuningMethod("ia3", 5e-3, _ia3, mergeable=True),
        FineTuningMethod("prompt_tuning", 3e-2, _prompt_tuning, mergeable=False),
        FineTuningMethod("prefix_tuning", 1e-2, _prefix_tuning, mergeable=False),
        FineTuningMethod("adapter", 1e-3, _adapter, mergeable=False),
        FineTuningMethod("full", 5e-5, _full, mergeable=True),
        FineTuningMethod("head_only", 1e-2, _head_only, mergeable=True),
    ]
}
