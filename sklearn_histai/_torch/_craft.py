"""What one fit builds of the craft parameters: the augmenter's context, the attack."""

import torch

from sklearn_histai._torch._adversarial import Perturbation
from sklearn_histai.augmentation import AugmentationContext

# Synonyms are searched among the most frequent ids of the training data: a
# token drawn from a text is one of them nine times out of ten or more
# (Zipf), and the search costs the square of their number at every epoch.
SYNONYM_IDS = 10_000


def augmentation_context(estimator, inputs, module):
    """What the augmentations of one fit may know of its training input.

    Parameters
    ----------
    estimator : BaseNeuralEstimator
        The estimator being fitted (its input kind, padding, image shape).
    inputs : tensor or dict of tensors
        The training rows, as the network reads them.
    module : nn.Module
        The network being trained.

    Returns
    -------
    context : AugmentationContext
    """
    kind = estimator._input_kind()
    padding = estimator._input_padding()
    context = {"padding": padding}
    if kind == "image":
        context["image_shape"] = tuple(estimator.image_shape)
    if kind in ("image", "tabular", "sequence"):
        context["feature_scale"] = _feature_scale(inputs, padding)
    if kind in ("tokens", "text"):
        ids = inputs["input_ids"] if isinstance(inputs, dict) else inputs
        context["protected_ids"] = estimator._protected_ids()
        candidates, counts = torch.unique(ids.long(), return_counts=True)
        protected = torch.tensor(
            [*context["protected_ids"], -1 if padding is None else padding]
        )
        kept = ~torch.isin(candidates, protected)
        candidates, counts = candidates[kept], counts[kept]
        frequent = torch.argsort(counts, descending=True, stable=True)[:SYNONYM_IDS]
        context["candidate_ids"] = candidates[frequent]
        layer = getattr(module, "get_input_embeddings", lambda: None)()
        if layer is not None:
            context["embedding_table"] = lambda: layer.weight
            context["table_is_fixed"] = not layer.weight.requires_grad
    return AugmentationContext(kind, **context)


def _feature_scale(inputs, padding):
    """The standard deviation of each column of the training rows, padding left out."""
    if padding is None:
        variance, _ = torch.var_mean(inputs, dim=0, correction=0)
        return variance.sqrt()
    values = inputs.masked_fill(inputs == padding, float("nan"))
    mean = values.nanmean(dim=0, keepdim=True)
    return torch.nan_to_num(((values - mean) ** 2).nanmean(dim=0).sqrt())


def make_perturbation(estimator, module):
    """The adversarial perturbation of one fit's training batches, or None.

    Parameters
    ----------
    estimator : BaseNeuralEstimator
        The estimator being fitted (``adversarial`` and its settings).
    module : nn.Module
        The network being trained.

    Returns
    -------
    perturbation : Perturbation or None
    """
    if estimator.adversarial is None:
        return None
    layer = None
    if estimator._input_kind() in ("tokens", "text"):
        layer = getattr(module, "get_input_embeddings", lambda: None)()
        if layer is None:
            raise ValueError(
                f"adversarial={estimator.adversarial!r} perturbs the input or its "
                f"embeddings, but the network of {type(estimator).__name__} reads "
                "token ids without an input embedding layer to perturb."
            )
    return Perturbation(
        estimator.adversarial,
        estimator.adversarial_epsilon,
        estimator.adversarial_steps,
        layer=layer,
        padding=estimator._input_padding() if layer is None else None,
    )
