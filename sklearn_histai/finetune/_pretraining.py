"""Domain-adaptive pretraining: masked-language-model training on in-domain text."""

import math
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklearn_histai._torch._runtime import (
    DEVICE_CONSTRAINT,
    NUM_THREADS_CONSTRAINT,
    cpu_context,
    draw_seed,
    resolve_device,
    seeded,
    thread_budget,
)
from sklearn_histai.finetune._checkpoint import (
    import_transformers,
    load_tokenizer,
    not_local_error,
    quiet_transformers,
    resolve_checkpoint,
)
from sklearn_histai.utils._documents import check_documents


@validate_params(
    {
        "X": ["array-like"],
        "output_dir": [str, os.PathLike],
        # A name, a folder, or a loaded model or tokenizer: load_* check them.
        "model": "no_validation",
        "tokenizer": "no_validation",
        "max_length": [Interval(numbers.Integral, 8, None, closed="left")],
        "truncation": [StrOptions({"post", "pre"})],
        "mlm_probability": [Interval(numbers.Real, 0, 1, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "warmup_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
        "head_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
        "head_learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "device": DEVICE_CONSTRAINT,
        "num_threads": NUM_THREADS_CONSTRAINT,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def continue_pretraining(
    X,
    output_dir,
    *,
    model=None,
    tokenizer=None,
    max_length=128,
    truncation="post",
    mlm_probability=0.15,
    max_iter=1,
    batch_size=16,
    learning_rate=5e-5,
    weight_decay=0.01,
    warmup_fraction=0.06,
    head_fraction=0.2,
    head_learning_rate=1e-3,
    device="auto",
    num_threads="auto",
    random_state=None,
    verbose=0,
):
    """Continue the masked-language-model pretraining of a checkpoint on raw text.

    Domain-adaptive pretraining (Gururangan et al., 2020): before a
    :class:`TransformerClassifier` is fine-tuned on few labels, the encoder
    reads unlabelled text of the task's domain with BERT's objective: 15% of
    the tokens are chosen, 80% of those masked, 10% replaced by a random
    token, 10% kept, and the encoder learns to predict them. The adapted
    encoder and its tokenizer are saved as a checkpoint folder, which the
    estimators take as ``model=``; the checkpoint given is never changed.

    Parameters
    ----------
    X : iterable of str
        Unlabelled documents (a list, 1-D array or pandas Series).
    output_dir : str or path-like
        The folder to write the adapted checkpoint to (created if needed;
        files of the same names are replaced).
    model : None, str, path or transformers model, default=None
        The checkpoint to continue: None is the bundled all-MiniLM-L6-v2
        encoder; a local checkpoint folder; or a loaded model (copied, not
        changed). Its masked-language-model head is loaded when the
        checkpoint has one; else (as for the bundled sentence encoder) a
        new head is trained, whose decoder is the input embedding matrix
        (BERT ties them), so only a 384 x 384 transform and a bias are new.
    tokenizer : None, str, path or tokenizer, default=None
        None loads the tokenizer of ``model``.
    max_length : int, default=128
        Tokens read per document (longer ones are truncated).
    truncation : {"post", "pre"}, default="post"
        Whether long documents lose their end or their start.
    mlm_probability : float, default=0.15
        Share of the tokens to predict.
    max_iter : int, default=1
        Passes over ``X``.
    batch_size : int, default=16
        Documents per optimizer step.
    learning_rate : float, default=5e-5
        Peak learning rate of AdamW (BERT's fine-tuning range), reached after
        the warm-up and decayed linearly to zero.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (not applied to biases and layer
        norms).
    warmup_fraction : float, default=0.06
        Share of the steps over which the learning rate rises from zero
        (RoBERTa's 6%).
    head_fraction : float, default=0.2
        When the checkpoint has no masked-language-model head: the share of
        the steps, at the start, that train the new head alone, the encoder
        frozen (gradual unfreezing, Howard & Ruder, 2018), so that the
        gradients of a random head do not disturb the pretrained encoder.
        Ignored when the checkpoint has its head.
    head_learning_rate : float, default=1e-3
        Peak learning rate of a new head's own weights: they start at random
        and need larger steps than the pretrained ones.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    num_threads : int or "auto", default="auto"
        Intra-op threads torch may use on the CPU; "auto" is the thread
        budget of this process. Restored afterwards.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the documents, the choice of the masked tokens and
        the new head. torch's global random state is left untouched.
    verbose : int, default=0
        0 is silent; 1 prints the mean loss of each pass.

    Returns
    -------
    output_dir : str
        The folder of the adapted checkpoint, for ``model=``.

    See Also
    --------
    TransformerClassifier : Fine-tunes the adapted checkpoint on labels.

    Notes
    -----
    On a CPU, a pass over 2,000 reviews of 128 tokens takes minutes for the
    bundled 22M-parameter encoder: adapt on a slice of the unlabelled text,
    or on a GPU. ``benchmarks/bench_semi_supervised.py`` measures what it
    brings to LoRA fine-tuning with few labels.

    References
    ----------
    .. [1] Gururangan, S. et al. (2020). "Don't stop pretraining: adapt
       language models to domains and tasks." ACL.
    .. [2] Devlin, J., Chang, M.-W., Lee, K. and Toutanova, K. (2019).
       "BERT: pre-training of deep bidirectional transformers for language
       understanding." NAACL.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_histai.finetune import TransformerClassifier, continue_pretraining
    >>> unlabelled = ["a dull, slow film", "the acting was superb", "a gripping plot"]
    >>> folder = continue_pretraining(
    ...     unlabelled * 4, tempfile.mkdtemp(), max_length=16, random_state=0
    ... )  # doctest: +SKIP
    >>> clf = TransformerClassifier(model=folder, max_length=16)  # doctest: +SKIP
    """
    documents = [str(document) for document in check_documents(X)]
    if not documents:
        raise ValueError("X holds no documents to pretrain on.")
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"output_dir {str(output_dir)!r} is a file, not a folder.")
    transformers = import_transformers()
    tokenizer = load_tokenizer(tokenizer, model, truncation)
    if tokenizer.mask_token is None:
        raise ValueError(
            "The tokenizer has no mask token: masked-language-model pretraining "
            "needs one (BERT-style checkpoints have it)."
        )
    device = resolve_device(device)
    rng = check_random_state(random_state)
    seed = draw_seed(rng)
    ids = tokenizer(documents, truncation=True, max_length=max_length)["input_ids"]
    collator = transformers.DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=mlm_probability
    )
    n_batches = math.ceil(len(ids) / batch_size)
    n_threads = thread_budget() if num_threads == "auto" else num_threads
    with seeded(seed, device), cpu_context(n_threads):
        network, new = _load_masked_lm(transformers, model)
        network.to(device)
        head_steps = round(head_fraction * max_iter * n_batches) if new else 0
        encoder = list(network.base_model.parameters())
        optimizer, schedule = _optimizer(
            transformers,
            network,
            new,
            (learning_rate, head_learning_rate),
            weight_decay,
            warmup_fraction,
            max_iter * n_batches,
        )
        network.train()
        for epoch in range(max_iter):
            order = rng.permutation(len(ids))
            losses = []
            for start in range(0, len(ids), batch_size):
                step = epoch * n_batches + start // batch_size
                for parameter in encoder:
                    parameter.requires_grad_(step >= head_steps)
                batch = collator(
                    [{"input_ids": ids[i]} for i in order[start : start + batch_size]]
                )
                batch = {key: value.to(device) for key, value in batch.items()}
                loss = network(**batch).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                losses.append(loss.item())
            if verbose:
                print(
                    f"epoch {epoch + 1}/{max_iter}: masked-token loss "
                    f"{np.mean(losses):.4f}"
                )
    output_dir.mkdir(parents=True, exist_ok=True)
    network.cpu().save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return str(output_dir)


def _load_masked_lm(transformers, model):
    """The checkpoint as a masked language model, and whether its head is new."""
    source = resolve_checkpoint(model)
    with quiet_transformers(transformers), tempfile.TemporaryDirectory() as folder:
        if not isinstance(source, str):
            source.save_pretrained(folder)
            source = folder
        try:
            network, info = transformers.AutoModelForMaskedLM.from_pretrained(
                source, local_files_only=True, output_loading_info=True
            )
        except (OSError, ValueError) as exc:
            raise not_local_error("model", source, exc) from exc
    network = network.float()
    # A weight tied to the encoder (BERT's decoder is its input embedding
    # matrix) is pretrained, even where the file has no copy of it.
    pretrained = {id(parameter) for parameter in network.base_model.parameters()}
    new = {
        id(parameter)
        for name, parameter in network.named_parameters()
        if name in info["missing_keys"] and id(parameter) not in pretrained
    }
    return network, new


def _optimizer(transformers, network, new, learning_rates, weight_decay, warmup, steps):
    """AdamW (no decay on biases and norms, a new head's own rate), warm-up, decay."""
    groups = {}
    for parameter in network.parameters():
        key = (id(parameter) in new, parameter.ndim < 2)
        groups.setdefault(key, []).append(parameter)
    optimizer = torch.optim.AdamW(
        [
            {
                "params": parameters,
                "lr": learning_rates[is_new],
                "weight_decay": 0.0 if is_norm else weight_decay,
            }
            for (is_new, is_norm), parameters in groups.items()
        ]
    )
    schedule = transformers.get_linear_schedule_with_warmup(
        optimizer, int(round(warmup * steps)), steps
    )
    return optimizer, schedule
