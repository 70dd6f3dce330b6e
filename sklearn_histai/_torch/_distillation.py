"""Soft targets for knowledge distillation: softened probabilities and their loss."""

from typing import NamedTuple

import numpy as np
import torch
from torch import nn


def soften(proba, temperature):
    """Class probabilities raised to ``1 / temperature`` and normalised.

    ``p_T ∝ p ** (1 / T)``, computed as ``softmax(log(p) / T)``: the
    probabilities a softmax at temperature ``T`` gives over the logits that
    produce ``p`` at temperature one. Zero probabilities stay zero.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Rows of non-negative probabilities summing to one.
    temperature : float
        Above one flattens the rows, below one sharpens them.

    Returns
    -------
    softened : ndarray of shape (n_samples, n_classes)
    """
    with np.errstate(divide="ignore"):
        scaled = np.log(proba) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    softened = np.exp(scaled)
    return softened / softened.sum(axis=1, keepdims=True)


def distillation_targets(indices, labelled, softened):
    """The targets :class:`DistillationLoss` reads: hard one-hot rows, then soft.

    Parameters
    ----------
    indices : ndarray of shape (n_samples,)
        The class index of each row (read only where ``labelled``).
    labelled : ndarray of shape (n_samples,) and dtype bool
        Whether a row has a hard label; the one-hot part of the others is
        zero, so that only the soft term of the loss applies to them.
    softened : ndarray of shape (n_samples, n_classes)
        The softened teacher probabilities.

    Returns
    -------
    targets : ndarray of shape (n_samples, 2 * n_classes)
    """
    n_classes = softened.shape[1]
    hard = np.eye(n_classes)[indices] * labelled[:, None]
    return np.hstack([hard, softened])


def target_labels(targets):
    """The class index of each row of distillation targets.

    The hard label where a row has one, the teacher's most probable class
    elsewhere: what validation accuracy, stratified splits and class
    weights read.

    Parameters
    ----------
    targets : ndarray of shape (n_samples, 2 * n_classes)
        Targets made by :func:`distillation_targets`.

    Returns
    -------
    labels : ndarray of shape (n_samples,) and dtype int64
    """
    n_classes = targets.shape[1] // 2
    hard, soft = targets[:, :n_classes], targets[:, n_classes:]
    labelled = hard.sum(axis=1) > 0
    return np.where(labelled, hard.argmax(axis=1), soft.argmax(axis=1)).astype(np.int64)


class SoftTargets(NamedTuple):
    """What :meth:`BaseNeuralClassifier.fit_soft_targets` passes to its fit."""

    softened: np.ndarray
    labelled: np.ndarray
    temperature: float
    alpha: float


def soft_target_classes(classes, labels, soft_targets):
    """The sorted classes of the columns of ``soft_targets``; the columns so sorted.

    Parameters
    ----------
    classes : array-like of shape (n_classes,) or None
        The class of each column; None: the labels of ``labels``, or
        ``0, ..., n_classes - 1`` where there are none.
    labels : ndarray of shape (n_labelled,) or None
        The hard labels of the labelled rows.
    soft_targets : ndarray of shape (n_samples, n_classes)
        The class probabilities.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    soft_targets : ndarray of shape (n_samples, n_classes)
    """
    n_classes = soft_targets.shape[1]
    if classes is None:
        if labels is None or not len(labels):
            return np.arange(n_classes), soft_targets
        classes = np.unique(labels)
        if len(classes) != n_classes:
            raise ValueError(
                f"soft_targets has {n_classes} columns but y holds "
                f"{len(classes)} classes; pass classes, the class of each column."
            )
        return classes, soft_targets
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
        raise ValueError("classes must be a 1-D array of distinct labels.")
    if len(classes) != n_classes:
        raise ValueError(
            f"classes holds {len(classes)} labels but soft_targets has "
            f"{n_classes} columns; it needs one label per column."
        )
    order = np.argsort(classes, kind="stable")
    return classes[order], soft_targets[:, order]


class DistillationLoss(nn.Module):
    """Hinton et al.'s loss: soft targets at a temperature plus hard labels.

    Per row: ``alpha * T**2 * CE(softmax(z / T), p_T) + (1 - alpha) *
    CE(softmax(z), y)``, where ``z`` are the logits, ``p_T`` the teacher's
    softened probabilities and ``y`` the hard label. The factor ``T**2``
    keeps the soft term's gradients on the scale of the hard term's as
    ``T`` changes. Rows without a hard label (a zero one-hot part) have the
    soft term only. The loss is linear in the targets, so mixup, which
    mixes float targets, mixes the losses of the rows it mixes.

    Parameters
    ----------
    temperature : float, default=1.0
        The temperature ``T`` of the soft term.
    alpha : float, default=0.5
        The weight of the soft term, in [0, 1].
    label_smoothing : float, default=0.0
        Label smoothing of the hard term, as in ``nn.CrossEntropyLoss``.
    reduction : {"none", "mean", "sum"}, default="none"
        As in ``nn.CrossEntropyLoss``.
    """

    def __init__(
        self, temperature=1.0, alpha=0.5, label_smoothing=0.0, reduction="none"
    ):
        super().__init__()
        self.temperature = temperature
        self.alpha = alpha
        self.label_smoothing = label_smoothing
        self.reduction = reduction

    def forward(self, logits, targets):
        """The loss of ``logits`` against targets of :func:`distillation_targets`.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            The network's outputs.
        targets : torch.Tensor of shape (n_samples, 2 * n_classes)
            The one-hot hard labels (zero rows where there is none), then the
            softened teacher probabilities.

        Returns
        -------
        loss : torch.Tensor
            Per row with ``reduction="none"``, else their mean or sum.
        """
        n_classes = logits.shape[1]
        hard, soft = targets[:, :n_classes], targets[:, n_classes:]
        if self.label_smoothing:
            smoothing = self.label_smoothing
            hard = (1 - smoothing) * hard + smoothing * hard.sum(
                dim=1, keepdim=True
            ) / n_classes
        temperature = self.temperature
        hard_loss = -(hard * torch.log_softmax(logits, dim=1)).sum(dim=1)
        soft_loss = -(soft * torch.log_softmax(logits / temperature, dim=1)).sum(dim=1)
        losses = self.alpha * temperature**2 * soft_loss + (1 - self.alpha) * hard_loss
        if self.reduction == "mean":
            return losses.mean()
        if self.reduction == "sum":
            return losses.sum()
        return losses
