"""Adversarial perturbations: the fast gradient method and projected gradient descent.

A perturbation is added either to the input rows (continuous input) or to
the output of the network's input embedding layer (token ids, raw text),
through a forward hook that exists only while a perturbed pass runs.
"""

import contextlib
import numbers

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from sklearn_histai._torch._runtime import module_dtype, to_device

_TINY = 1e-12


def _row_norms(tensors):
    """The L2 norm of each row over a list of tensors of shape (n_rows, ...)."""
    squares = sum(t.float().flatten(1).pow(2).sum(dim=1) for t in tensors)
    return squares.sqrt()


def _per_row(values, tensor):
    return values.reshape((len(tensor),) + (1,) * (tensor.ndim - 1)).to(tensor.dtype)


def normalized(gradients, epsilon):
    """Scale each row of ``gradients`` to the L2 norm ``epsilon`` (zero stays zero).

    Parameters
    ----------
    gradients : list of tensor of shape (n_rows, ...)
        The gradient of the loss with respect to the perturbed tensors; a
        row's norm is taken over all of them together.
    epsilon : float or tensor of shape (n_rows,)
        The norm of each row of the result.

    Returns
    -------
    perturbation : list of tensor
        The fast-gradient-method perturbation, ``epsilon * g / ||g||``.
    """
    gradients = [torch.nan_to_num(g.detach().float(), 0.0, 0.0, 0.0) for g in gradients]
    scale = epsilon / (_row_norms(gradients) + _TINY)
    return [g * _per_row(scale, g) for g in gradients]


def projected(deltas, epsilon):
    """Project each row of ``deltas`` onto the L2 ball of radius ``epsilon``."""
    norms = _row_norms(deltas)
    scale = torch.clamp(epsilon / (norms + _TINY), max=1.0)
    return [d * _per_row(scale, d) for d in deltas]


class _Site:
    """Captures or perturbs the outputs of a layer during one pass."""

    def __init__(self, layer):
        self.layer = layer
        self.outputs = []
        self.deltas = None
        self.radius_scale = None

    @contextlib.contextmanager
    def capturing(self):
        self.outputs, self.deltas, self.radius_scale = [], None, None
        with self._hooked():
            yield

    @contextlib.contextmanager
    def perturbing(self, deltas):
        self.outputs, self.deltas = [], deltas
        with self._hooked():
            yield

    @contextlib.contextmanager
    def _hooked(self):
        handle = self.layer.register_forward_hook(self._hook)
        try:
            yield
        finally:
            handle.remove()

    def _hook(self, module, inputs, output):
        if self.deltas is None and _mean_bag(module, inputs):
            # A mean-pooled bag is perturbed as its tokens would be: for a
            # radius epsilon over the embeddings of a row's n tokens, the
            # strongest perturbation moves their mean by epsilon / sqrt(n)
            # (Miyato et al. perturb the embeddings of every token).
            ids = inputs[0]
            if ids.ndim == 1:
                # One flat array of ids with the offset where each bag starts.
                offsets = inputs[1]
                n_tokens = torch.diff(offsets, append=offsets.new_tensor([len(ids)]))
            else:
                n_tokens = ids.shape[1]
                if module.padding_idx is not None:
                    n_tokens = (ids != module.padding_idx).sum(dim=1)
            self.radius_scale = (
                torch.as_tensor(n_tokens, dtype=torch.float32, device=ids.device)
                .clamp(min=1)
                .rsqrt()
            )
        if self.deltas is None:
            if output.requires_grad:
                output.retain_grad()
            else:  # a frozen embedding: its output becomes a leaf with a gradient
                output = output.detach().requires_grad_(True)
            self.outputs.append(output)
            return output
        delta = self.deltas[len(self.outputs)]
        perturbed = output + delta.to(output.dtype)
        self.outputs.append(perturbed)
        return perturbed


def _mean_bag(module, inputs):
    """Whether ``module`` averages bags of token embeddings.

    The bags come as rows of ids, or as one flat array of ids with offsets.
    """
    if not isinstance(module, torch.nn.EmbeddingBag) or module.mode != "mean":
        return False
    if len(inputs) == 1:
        return inputs[0].ndim == 2
    return inputs[0].ndim == 1 and inputs[1] is not None


class Perturbation:
    """How a training batch is perturbed: method, radius, steps and where.

    Parameters
    ----------
    method : {"fgm", "pgd"}
        One step along the normalised gradient (Goodfellow et al., 2015;
        Miyato et al., 2017), or ``steps`` steps of size
        ``2.5 * epsilon / steps``, each projected back onto the ball
        (Madry et al., 2018). PGD starts from the clean gradient.
    epsilon : float
        The L2 radius of each row's perturbation.
    steps : int
        PGD's steps.
    layer : nn.Module or None
        The layer whose output is perturbed; None perturbs the input. The
        mean of a bag of ``n`` token embeddings (``nn.EmbeddingBag``) is
        perturbed by at most ``epsilon / sqrt(n)``: the most that a
        perturbation of radius ``epsilon`` of the ``n`` embeddings moves
        their mean.
    padding : float or None
        A padding value of float input, whose positions are not perturbed.
    """

    def __init__(self, method, epsilon, steps, layer=None, padding=None):
        self.method = method
        self.epsilon = epsilon
        self.steps = steps
        self.site = None if layer is None else _Site(layer)
        self.padding = padding

    def _mask(self, gradients, X):
        """Zero the gradients at the padding of float input: it stays padding."""
        if self.site is not None or self.padding is None:
            return gradients
        return [g.masked_fill(X == self.padding, 0) for g in gradients]

    def clean_pass(self, forward, X):
        """Run ``forward(X) -> (output, loss)`` so that the gradient can be read.

        Returns
        -------
        output, loss, read : the output, the loss, and a function that
            returns the gradients at the perturbed site after ``backward``.
        """
        if self.site is None:
            X = X.detach().requires_grad_(True)
            output, loss = forward(X)
            return output, loss, lambda: [X.grad]
        with self.site.capturing():
            output, loss = forward(X)
        outputs = self.site.outputs
        return output, loss, lambda: [o.grad for o in outputs]

    def perturbed_pass(self, forward, X, deltas):
        """Run ``forward`` on ``X`` with ``deltas`` added at the site."""
        if self.site is None:
            return forward(X.detach() + deltas[0].to(X.dtype))
        with self.site.perturbing(deltas):
            return forward(X)

    def attack(self, forward, X, gradients, scale=None):
        """Return the perturbation of ``X``, from the clean pass's ``gradients``.

        ``scale`` scales the losses whose gradient PGD takes (fp16 loss
        scaling); the direction of a gradient does not depend on it.
        """
        if any(g is None for g in gradients):
            raise RuntimeError(
                "No gradient reached the perturbed input: the network's input "
                "does not take part in the loss."
            )
        gradients = self._mask(gradients, X)
        epsilon = self.epsilon
        if self.site is not None and self.site.radius_scale is not None:
            epsilon = epsilon * self.site.radius_scale
        if self.method == "fgm":
            return normalized(gradients, epsilon)
        step = 2.5 * epsilon / self.steps
        deltas = projected(normalized(gradients, step), epsilon)
        for _ in range(self.steps - 1):
            deltas = [d.detach().requires_grad_(True) for d in deltas]
            _, loss = self.perturbed_pass(forward, X, deltas)
            if scale is not None:
                loss = scale(loss)
            gradients = torch.autograd.grad(loss, deltas, allow_unused=True)
            gradients = [
                torch.zeros_like(d) if g is None else g
                for d, g in zip(deltas, gradients)
            ]
            moves = normalized(self._mask(gradients, X), step)
            deltas = projected([d.detach() + m for d, m in zip(deltas, moves)], epsilon)
        return [d.detach() for d in deltas]


_CONTINUOUS = ("image", "tabular", "sequence")


def adversarial_examples(estimator, X, y, *, method="fgm", epsilon=1.0, steps=3):
    """Perturb rows so as to increase a fitted network's loss: an evasion attack.

    Each row moves by at most ``epsilon`` (L2 norm) in the direction that
    increases the estimator's loss on its true target most, by the fast
    gradient method (one step along the normalised gradient; Goodfellow et
    al., 2015) or by projected gradient descent (``steps`` steps of size
    ``2.5 * epsilon / steps``, each projected back onto the ball; Madry et
    al., 2018). The score of the estimator on the result measures its
    robustness; ``adversarial="fgm"`` or ``"pgd"`` in ``fit`` trains
    against the same attack. The network is evaluated in inference mode
    (no dropout) and is not changed.

    Parameters
    ----------
    estimator : fitted neural estimator
        A classifier or regressor of this package on continuous input
        (tabular rows, images, numeric sequences).
    X : array-like of shape (n_samples, n_features)
        The rows to perturb.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Their true targets.
    method : {"fgm", "pgd"}, default="fgm"
        The attack.
    epsilon : float, default=1.0
        The L2 radius of each row's perturbation, on the scale of ``X``.
    steps : int, default=3
        The steps of "pgd".

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
        The perturbed rows, in the dtype the network computes in.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_histai.neural_network import (
    ...     FeedForwardClassifier, adversarial_examples)
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> clf = FeedForwardClassifier(max_iter=30, random_state=0).fit(X, y)
    >>> X_adv = adversarial_examples(clf, X, y, epsilon=1.0)
    >>> bool(np.allclose(np.linalg.norm(X_adv - X, axis=1), 1.0, atol=1e-4))
    True
    >>> bool(clf.score(X_adv, y) < clf.score(X, y))
    True
    """
    check_is_fitted(estimator)
    if method not in ("fgm", "pgd"):
        raise ValueError(f'method must be "fgm" or "pgd"; got {method!r}.')
    if not (isinstance(epsilon, numbers.Real) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive number; got {epsilon!r}.")
    if not (isinstance(steps, numbers.Integral) and steps >= 1):
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    kind = estimator._input_kind()
    if kind not in _CONTINUOUS:
        raise ValueError(
            f"adversarial_examples perturbs continuous input rows; "
            f"{type(estimator).__name__} reads {kind}. Use adversarial= in fit "
            "to train against perturbations of the embeddings."
        )
    X = estimator._validate_input(X, reset=False)
    y = np.asarray(y)
    check_consistent_length(X, y)
    if is_classifier(estimator):
        if not np.isin(y, estimator.classes_).all():
            raise ValueError(
                f"y has labels that are not in classes_: {estimator.classes_.tolist()}."
            )
        targets = torch.from_numpy(np.searchsorted(estimator.classes_, y))
    else:
        y2d = y.reshape(len(y), -1).astype(np.float64)
        targets = torch.from_numpy((y2d - estimator.y_mean_) / estimator.y_scale_)
    net = estimator.net_
    module = net.module_
    dtype = module_dtype(module)
    inputs = estimator._to_tensors(X, dtype)
    if targets.is_floating_point():
        targets = targets.to(dtype)
    perturbation = Perturbation(
        method, epsilon, steps, padding=estimator._input_padding()
    )
    training = module.training
    module.eval()
    chunks = []
    try:
        for start in range(0, len(inputs), estimator._predict_chunk_size):
            rows = slice(start, start + estimator._predict_chunk_size)
            batch = to_device(inputs[rows], net.device)
            batch_targets = (to_device(targets[rows], net.device), None)

            def forward(values, batch_targets=batch_targets):
                output = module(values)
                return output, net.get_loss(output, batch_targets)

            leaf = batch.detach().requires_grad_(True)
            _, loss = forward(leaf)
            gradient = torch.autograd.grad(loss, leaf)[0]
            deltas = perturbation.attack(forward, batch, [gradient])
            chunks.append((batch + deltas[0].to(batch.dtype)).detach().cpu())
    finally:
        module.train(training)
    return torch.cat(chunks).numpy()
