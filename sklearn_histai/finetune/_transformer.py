"""Fine-tuning a pretrained transformer on raw text, with peft methods as parameters."""

import copy
import json
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_y, check_consistent_length, check_is_fitted
from skorch.history import History

from sklearn_histai._torch._docs import (
    AUGMENTATION_DOC,
    CLASS_WEIGHT_DOC,
    LABEL_SMOOTHING_DOC,
)
from sklearn_histai._torch._estimator import (
    BaseNeuralEstimator,
)
from sklearn_histai._torch._persistence import to_arrays, to_tensors
from sklearn_histai._torch._runtime import resolve_device, seeded
from sklearn_histai._torch._supervised import (
    BaseNeuralClassifier,
    BaseNeuralRegressor,
)
from sklearn_histai.finetune._checkpoint import (
    TRUNCATION_SIDES,
    fingerprint,
    load_encoder,
    load_tokenizer,
    resolve_checkpoint,
)
from sklearn_histai.finetune._docs import ATTRIBUTES_DOC, MODEL_DOC, TRAINING_DOC
from sklearn_histai.finetune._methods import METHODS
from sklearn_histai.nn import EncoderWithHead
from sklearn_histai.nn._encoder import POOLINGS
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc
from sklearn_histai.utils._documents import check_documents

HEAD_FILE = "head.safetensors"
HEAD_CONFIG_FILE = "head.json"


_TRANSFORMER_CONSTRAINTS = {
    "model": [None, str, os.PathLike, HasMethods(["save_pretrained"])],
    "tokenizer": [None, str, os.PathLike, callable],
    "peft_method": [StrOptions(set(METHODS))],
    "max_length": [Interval(numbers.Integral, 2, None, closed="left")],
    "truncation": [StrOptions(set(TRUNCATION_SIDES))],
    "pooling": [StrOptions(set(POOLINGS))],
    "lora_r": [Interval(numbers.Integral, 1, None, closed="left")],
    "lora_alpha": [Interval(numbers.Real, 0, None, closed="neither")],
    "lora_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "target_modules": [None, list, tuple],
    "adalora_init_r": [Interval(numbers.Integral, 1, None, closed="left")],
    "adalora_target_r": [Interval(numbers.Integral, 1, None, closed="left")],
    "adalora_tinit": [Interval(numbers.Real, 0, 1, closed="left")],
    "adalora_tfinal": [Interval(numbers.Real, 0, 1, closed="left")],
    "adalora_delta_t": [Interval(numbers.Integral, 1, None, closed="left")],
    "adalora_orth_reg_weight": [Interval(numbers.Real, 0, None, closed="left")],
    "num_virtual_tokens": [Interval(numbers.Integral, 1, None, closed="left")],
    "prefix_projection_size": [
        None,
        Interval(numbers.Integral, 1, None, closed="left"),
    ],
    "adapter_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "learning_rate": [
        Interval(numbers.Real, 0, None, closed="neither"),
        StrOptions({"auto"}),
    ],
    "head_learning_rate": [
        Interval(numbers.Real, 0, None, closed="neither"),
        StrOptions({"auto"}),
    ],
}


def _well_formed(text):
    """``text`` with each lone surrogate replaced by U+FFFD, for the tokenizer.

    Python's str may hold surrogate code points (e.g. from JSON with a cut
    emoji), which UTF-8 cannot encode and Hugging Face's tokenizers refuse;
    a pair of them becomes the character it encodes.
    """
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class _TransformerMixin:
    """Raw-text input, the pretrained checkpoint and the fine-tuning method."""

    _training_parameters = BaseNeuralEstimator._training_parameters | {
        "head_learning_rate"
    }
    # Texts per forward pass at prediction.
    _predict_chunk_size = 64

    # -- input ------------------------------------------------------------------

    def _validate_input(self, X, *, reset, y="no_validation"):
        texts = check_documents(X)
        if reset:
            self.tokenizer_ = load_tokenizer(
                self.tokenizer, self.model, self.truncation
            )
        if isinstance(y, str) and y == "no_validation":
            return texts
        y = _check_y(y, **self._target_validation(), estimator=self)
        check_consistent_length(texts, y)
        return texts, y

    def _check_params(self):
        if self.adalora_target_r > self.adalora_init_r:
            raise ValueError(
                f"adalora_target_r={self.adalora_target_r} must not exceed "
                f"adalora_init_r={self.adalora_init_r}: AdaLoRA prunes ranks."
            )
        if self.adalora_tinit + self.adalora_tfinal >= 1:
            raise ValueError(
                f"adalora_tinit + adalora_tfinal = "
                f"{self.adalora_tinit + self.adalora_tfinal} must be below 1, so "
                "that some steps are left for AdaLoRA to allocate the ranks."
            )

    def _token_limit(self):
        limit = self.max_length
        model_max = getattr(self.tokenizer_, "model_max_length", None)
        if model_max is not None and model_max < 1_000_000:
            if self.peft_method == "prompt_tuning":
                # The virtual tokens take positions too.
                model_max -= self.num_virtual_tokens
            limit = min(limit, model_max)
        return limit

    def _to_tensors(self, X, float_dtype):
        encoded = self.tokenizer_(
            [_well_formed(text) for text in X],
            truncation=True,
            max_length=self._token_limit(),
            padding="longest",
            return_tensors="pt",
        )
        return {
            "input_ids": encoded["input_ids"].long(),
            "attention_mask": encoded["attention_mask"].long(),
        }

    def _compute_dtype(self, X, device):
        return torch.float32

    def _input_kind(self):
        return "text"

    def _input_padding(self):
        return self.tokenizer_.pad_token_id

    def _protected_ids(self):
        return tuple(self.tokenizer_.all_special_ids)

    def _augmentation_context(self, inputs, module):
        # A callable on raw text reads the batch decoded and is encoded
        # again: the training texts are tokenised once, before the batches.
        context = super()._augmentation_context(inputs, module)
        context.decode = self._decode_batch
        context.encode = self._encode_batch
        return context

    def _decode_batch(self, X):
        return self.tokenizer_.batch_decode(X["input_ids"], skip_special_tokens=True)

    def _encode_batch(self, texts, like):
        encoded = self._to_tensors(texts, torch.float32)
        return {key: value.to(like[key].device) for key, value in encoded.items()}

    def _multiply_adds_per_sample(self, module):
        return self.max_length * sum(p.numel() for p in module.parameters())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw documents, as scikit-learn's text vectorizers take.
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags

    # -- the public methods, documented for text ---------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fine-tune the pretrained encoder and a new output layer on ``(X, y)``.

        Parameters
        ----------
        X : list, array or pandas Series of str
            The training texts, one per sample.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels (classifier) or targets of any scale (regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; the loss is their weighted mean.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight)

    def predict(self, X):
        """Predict the class (classifier) or the targets (regressor) of each text.

        Parameters
        ----------
        X : list, array or pandas Series of str
            The texts.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The predictions.
        """
        return super().predict(X)

    # -- the network ---------------------------------------------------------------

    def _build_module(self):
        # The build is seeded by the caller; the seed is kept so that a
        # pickled estimator rebuilds the same untrained weights.
        self._module_seed_ = torch.initial_seed()
        encoder = load_encoder(self.model)
        self._base_fingerprint_ = fingerprint(encoder)
        config = encoder.config
        return EncoderWithHead(
            METHODS[self.peft_method].apply(encoder, self),
            config.hidden_size,
            self.n_outputs_,
            pooling=self.pooling,
            dropout=getattr(config, "hidden_dropout_prob", 0.1),
            init_std=getattr(config, "initializer_range", 0.02),
        )

    def _initial_learning_rate(self):
        if self.learning_rate == "auto":
            return METHODS[self.peft_method].learning_rate
        return self.learning_rate

    def _head_learning_rate(self):
        if self.head_learning_rate == "auto":
            return max(
                self._initial_learning_rate(), METHODS["head_only"].learning_rate
            )
        return self.head_learning_rate

    def _optimizer_params(self):
        # The new output layer starts from random weights and needs larger
        # steps than the pretrained ones ("discriminative" rates, Howard &
        # Ruder, 2018).
        params = super()._optimizer_params()
        params["param_groups"] = [("head.*", {"lr": self._head_learning_rate()})]
        return params

    def _extra_callbacks(self):
        return METHODS[self.peft_method].callbacks(self)

    def _record_training(self, net, epochs_before, warn=True):
        with warnings.catch_warnings():
            # Fine-tuning runs a fixed budget of epochs, over which the
            # learning rate decays to zero: reaching it is not a failure to
            # converge.
            warnings.simplefilter("ignore", ConvergenceWarning)
            super()._record_training(net, epochs_before, warn=warn)
        parameters = list(net.module_.parameters())
        self.n_trainable_parameters_ = sum(
            p.numel() for p in parameters if p.requires_grad
        )
        self.trainable_fraction_ = self.n_trainable_parameters_ / sum(
            p.numel() for p in parameters
        )

    # -- persistence ---------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        # The tokenizer is loaded again from the checkpoint.
        state.pop("tokenizer_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in vars(self):
            self.tokenizer_ = load_tokenizer(
                self.tokenizer, self.model, self.truncation
            )

    def _portable_network(self, net):
        # Only the trained weights are stored, and the frozen ones rebuilt
        # from the checkpoint: a network whose frozen weights were changed
        # after training (deploy.prune, deploy.quantize, which merge the
        # adapters) keeps torch's pickling of the whole network.
        changed = hasattr(self, "sparsity_") or hasattr(self, "quantization_")
        return not changed and super()._portable_network(net)

    def _network_state(self, net):
        # Only what training changed is stored: the frozen weights are
        # rebuilt from the checkpoint (and the seeded initialisation).
        return {
            "weights": to_arrays(
                {
                    name: param
                    for name, param in net.module_.named_parameters()
                    if param.requires_grad
                }
            ),
            "history": to_arrays(list(net.history)),
        }

    def _restore_network(self, network):
        return self._rebuild_network(network)

    def _rebuild_network(self, trained):
        expected = self._base_fingerprint_
        with seeded(self._module_seed_, "cpu"):
            module = self._build_module()
        if not np.isclose(self._base_fingerprint_, expected, rtol=1e-9, atol=0):
            raise ValueError(
                f"The pretrained checkpoint {resolve_checkpoint(self.model)!r} is "
                "not the one this estimator was fine-tuned from; unpickle it where "
                "that checkpoint is installed."
            )
        weights = to_tensors(trained["weights"])
        _, unexpected = module.load_state_dict(weights, strict=False)
        trainable = {n for n, p in module.named_parameters() if p.requires_grad}
        if unexpected or trainable - set(weights):
            raise ValueError(
                "The stored weights do not fit the rebuilt network (unexpected: "
                f"{unexpected[:3]}, absent: {sorted(trainable - set(weights))[:3]})."
            )
        try:
            device = resolve_device(self.device)
        except ValueError:
            warnings.warn(
                f"device={self.device!r} is not available here; the model is "
                "loaded on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            device = "cpu"
        net = self._make_net(module, device, self._module_seed_, 1, 1, None)
        net.history = History(trained["history"])
        return net

    # -- deployment ------------------------------------------------------------------

    def merge_and_save(self, path):
        """Merge the trained weights into the encoder and save it as a plain checkpoint.

        The low-rank updates of "lora" and "adalora" and the rescalings of
        "ia3" are folded into the weights they adapt, so that the encoder
        written has the architecture of the base checkpoint: it loads with
        ``transformers.AutoModel.from_pretrained(path)``, and its tokenizer
        with ``AutoTokenizer``, without peft or this package. The output
        layer is written beside it, as ``head.safetensors`` (``weight`` and
        ``bias``) and ``head.json`` (the pooling, the class labels; for
        regression the target scaling is folded into the weights). The
        fitted estimator is left unchanged.

        Parameters
        ----------
        path : str or path
            The folder to write.

        Returns
        -------
        path : str
            The folder written.
        """
        check_is_fitted(self)
        if not METHODS[self.peft_method].mergeable:
            mergeable = sorted(name for name, m in METHODS.items() if m.mergeable)
            raise ValueError(
                f"peft_method={self.peft_method!r} adds modules or inputs that "
                "cannot be folded into the base weights; merge_and_save supports "
                f"{mergeable}. Pickle the estimator instead."
            )
        from safetensors.torch import save_file

        module = self.net_.module_
        encoder = copy.deepcopy(module.encoder).cpu()
        if hasattr(encoder, "merge_and_unload"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                encoder = encoder.merge_and_unload()
        path = os.fspath(path)
        encoder.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)
        weight, bias = self._output_layer(module.head)
        save_file(
            {"weight": weight.contiguous(), "bias": bias.contiguous()},
            str(Path(path) / HEAD_FILE),
        )
        head = {"pooling": self.pooling, "max_length": self._token_limit()}
        head["truncation"] = self.truncation
        if hasattr(self, "classes_"):
            head["labels"] = self.classes_.tolist()
        (Path(path) / HEAD_CONFIG_FILE).write_text(json.dumps(head, indent=1))
        return path

    def _output_layer(self, head):
        """The output layer's weights, on the scale of the predictions."""
        return head.weight.detach().cpu().clone(), head.bias.detach().cpu().clone()


@fill_doc(
    model_parameters=MODEL_DOC,
    class_weight=CLASS_WEIGHT_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=TRAINING_DOC,
    attributes=ATTRIBUTES_DOC,
)
class TransformerClassifier(_TransformerMixin, BaseNeuralClassifier):
    """Text classifier fine-tuning a pretrained transformer, with peft methods.

    Raw strings in, labels out. Each text is tokenised with the
    checkpoint's own tokenizer (truncated to ``max_length`` tokens); the
    pretrained encoder with a new output layer is trained with the method
    chosen by ``peft_method`` -- LoRA, AdaLoRA, IA3, prompt tuning, prefix
    tuning, bottleneck adapters, full fine-tuning or the output layer alone
    -- whose settings are plain parameters, so that
    :class:`~sklearn.model_selection.GridSearchCV` can search over methods
    and ranks.

    Read more in the :ref:`User Guide <finetune>`.

    Parameters
    ----------
    %(model_parameters)s
    %(class_weight)s
    %(label_smoothing)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    %(attributes)s

    See Also
    --------
    TransformerRegressor : The same fine-tuning for regression.

    Notes
    -----
    Pickling stores the trained weights only (for every method but "full")
    and a reference to the base checkpoint, which is loaded again when the
    estimator is unpickled, on the CPU when no GPU is available.
    :meth:`merge_and_save` writes a plain checkpoint for deployment.

    References
    ----------
    .. [1] Houlsby, N. et al. (2019). "Parameter-efficient transfer learning
       for NLP." ICML.
    .. [2] Hu, E. J. et al. (2021). "LoRA: Low-rank adaptation of large
       language models." ICLR 2022.
    .. [3] Li, X. L. and Liang, P. (2021). "Prefix-tuning: Optimizing
       continuous prompts for generation." ACL.
    .. [4] Lester, B., Al-Rfou, R. and Constant, N. (2021). "The power of
       scale for parameter-efficient prompt tuning." EMNLP.
    .. [5] Liu, H. et al. (2022). "Few-shot parameter-efficient fine-tuning
       is better and cheaper than in-context learning." NeurIPS.
    .. [6] Zhang, Q. et al. (2023). "Adaptive budget allocation for
       parameter-efficient fine-tuning." ICLR.

    Examples
    --------
    >>> from sklearn_histai.finetune import TransformerClassifier
    >>> texts = ["a wonderful, moving film", "dull and far too long"] * 8
    >>> labels = ["pos", "neg"] * 8
    >>> clf = TransformerClassifier(max_length=16, max_iter=2, random_state=0)
    >>> clf.fit(texts, labels).predict(["a wonderful film"]).tolist()
    ['pos']
    >>> clf.n_trainable_parameters_
    166658
    """

    _history = ModelHistory(
        era="pretrained",
        year=2021,
        reference="Devlin et al. (2019) BERT; Hu et al. (2021) LoRA",
        input="text",
    )

    _parameter_constraints = {
        **BaseNeuralClassifier._parameter_constraints,
        **_TRANSFORMER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        model=None,
        tokenizer=None,
        peft_method="lora",
        max_length=128,
        truncation="post",
        pooling="mean",
        lora_r=4,
        lora_alpha=16,
        lora_dropout=0.1,
        target_modules=None,
        adalora_init_r=12,
        adalora_target_r=8,
        adalora_tinit=0.1,
        adalora_tfinal=0.3,
        adalora_delta_t=10,
        adalora_orth_reg_weight=0.1,
        num_virtual_tokens=20,
        prefix_projection_size=None,
        adapter_size=64,
        head_learning_rate="auto",
        class_weight=None,
        label_smoothing=0.0,
        augmentation=None,
        max_iter=3,
        batch_size=16,
        learning_rate="auto",
        optimizer="adamw",
        weight_decay=0.0,
        lr_schedule="linear",
        warmup_fraction=0.1,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_accumulation_steps=1,
        max_grad_norm=None,
        adversarial=None,
        adversarial_epsilon=0.2,
        adversarial_steps=3,
        mixed_precision=False,
        device="auto",
        num_threads="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.peft_method = peft_method
        self.max_length = max_length
        self.truncation = truncation
        self.pooling = pooling
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.target_modules = target_modules
        self.adalora_init_r = adalora_init_r
        self.adalora_target_r = adalora_target_r
        self.adalora_tinit = adalora_tinit
        self.adalora_tfinal = adalora_tfinal
        self.adalora_delta_t = adalora_delta_t
        self.adalora_orth_reg_weight = adalora_orth_reg_weight
        self.num_virtual_tokens = num_virtual_tokens
        self.prefix_projection_size = prefix_projection_size
        self.adapter_size = adapter_size
        self.head_learning_rate = head_learning_rate
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.augmentation = augmentation
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            gradient_accumulation_steps=gradient_accumulation_steps,
            max_grad_norm=max_grad_norm,
            adversarial=adversarial,
            adversarial_epsilon=adversarial_epsilon,
            adversarial_steps=adversarial_steps,
            mixed_precision=mixed_precision,
            device=device,
            num_threads=num_threads,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )

    def predict_proba(self, X):
        """Class probabilities of each text.

        Parameters
        ----------
        X : list, array or pandas Series of str
            The texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        return super().predict_proba(X)


@fill_doc(
    model_parameters=MODEL_DOC,
    label_smoothing=LABEL_SMOOTHING_DOC,
    augmentation=AUGMENTATION_DOC,
    common_parameters=TRAINING_DOC,
    attributes=ATTRIBUTES_DOC,
)
class TransformerRegressor(_TransformerMixin, BaseNeuralRegressor):
    """Text regressor fine-tuning a pretrained transformer, with peft methods.

    Raw strings in, numbers out (one or several targets, standardised
    internally). Each text is tokenised with the checkpoint's own
    tokenizer; the pretrained encoder with a new linear output layer is
    trained with the method chosen by ``peft_method``, whose settings are
    plain parameters.

    Read more in the :ref:`User Guide <finetune>`.

    Parameters
    ----------
    %(model_parameters)s
    %(augmentation)s
    %(common_parameters)s

    Attributes
    ----------
    y_mean_ : ndarray of shape (n_targets,)
        Mean of the training targets, added back to the predictions.
    y_scale_ : ndarray of shape (n_targets,)
        Standard deviation of the training targets.
    %(attributes)s

    See Also
    --------
    TransformerClassifier : The same fine-tuning for classification.

    Notes
    -----
    Pickling stores the trained weights only (for every method but "full")
    and a reference to the base checkpoint. :meth:`merge_and_save` folds
    the target scaling into the output layer of the saved checkpoint.

    References
    ----------
    .. [1] Hu, E. J. et al. (2021). "LoRA: Low-rank adaptation of large
       language models." ICLR 2022.

    Examples
    --------
    >>> from sklearn_histai.finetune import TransformerRegressor
    >>> texts = ["one star, awful", "five stars, superb"] * 8
    >>> stars = [1.0, 5.0] * 8
    >>> reg = TransformerRegressor(max_length=16, max_iter=2, random_state=0)
    >>> reg.fit(texts, stars).predict(["superb"]).shape
    (1,)
    """

    _history = ModelHistory(
        era="pretrained",
        year=2021,
        reference="Devlin et al. (2019) BERT; Hu et al. (2021) LoRA",
        input="text",
    )

    _parameter_constraints = {
        **BaseNeuralRegressor._parameter_constraints,
        **_TRANSFORMER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        model=None,
        tokenizer=None,
        peft_method="lora",
        max_length=128,
        truncation="post",
        pooling="mean",
        lora_r=4,
        lora_alpha=16,
        lora_dropout=0.1,
        target_modules=None,
        adalora_init_r=12,
        adalora_target_r=8,
        adalora_tinit=0.1,
        adalora_tfinal=0.3,
        adalora_delta_t=10,
        adalora_orth_reg_weight=0.1,
        num_virtual_tokens=20,
        prefix_projection_size=None,
        adapter_size=64,
        head_learning_rate="auto",
        augmentation=None,
        max_iter=3,
        batch_size=16,
        learning_rate="auto",
        optimizer="adamw",
        weight_decay=0.0,
        lr_schedule="linear",
        warmup_fraction=0.1,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_accumulation_steps=1,
        max_grad_norm=None,
        adversarial=None,
        adversarial_epsilon=0.2,
        adversarial_steps=3,
        mixed_precision=False,
        device="auto",
        num_threads="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.peft_method = peft_method
        self.max_length = max_length
        self.truncation = truncation
        self.pooling = pooling
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.target_modules = target_modules
        self.adalora_init_r = adalora_init_r
        self.adalora_target_r = adalora_target_r
        self.adalora_tinit = adalora_tinit
        self.adalora_tfinal = adalora_tfinal
        self.adalora_delta_t = adalora_delta_t
        self.adalora_orth_reg_weight = adalora_orth_reg_weight
        self.num_virtual_tokens = num_virtual_tokens
        self.prefix_projection_size = prefix_projection_size
        self.adapter_size = adapter_size
        self.head_learning_rate = head_learning_rate
        self.augmentation = augmentation
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            gradient_accumulation_steps=gradient_accumulation_steps,
            max_grad_norm=max_grad_norm,
            adversarial=adversarial,
            adversarial_epsilon=adversarial_epsilon,
            adversarial_steps=adversarial_steps,
            mixed_precision=mixed_precision,
            device=device,
            num_threads=num_threads,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )

    def _output_layer(self, head):
        weight, bias = super()._output_layer(head)
        scale = torch.as_tensor(self.y_scale_, dtype=weight.dtype)
        mean = torch.as_tensor(self.y_mean_, dtype=weight.dtype)
        return weight * scale[:, None], bias * scale + mean
