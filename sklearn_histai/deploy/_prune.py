"""Magnitude pruning of a fitted network: single weights or whole units."""

import numbers
import warnings
from collections import Counter

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, validate_params
from torch import nn
from torch.nn.utils import prune as torch_prune

from sklearn_histai.deploy._quantize import compress_networks

_CONVOLUTIONS = nn.Conv1d | nn.Conv2d | nn.Conv3d


def _prunable_weights(module):
    """``(name, layer, weight_name)`` of the weights pruning applies to, in order.

    The weights of the linear layers, convolutions and recurrent layers;
    embeddings, normalisations and biases are left out, and so are weights
    that two layers share (a language model's tied embedding and output
    layer), which pruning one of them would untie.
    """
    uses = Counter(id(p) for _, p in module.named_parameters(remove_duplicate=False))
    weights = []
    for layer_name, layer in module.named_modules():
        if isinstance(layer, nn.Linear | _CONVOLUTIONS):
            names = ["weight"]
        elif isinstance(layer, nn.RNNBase):
            names = [
                name
                for name, _ in layer.named_parameters(recurse=False)
                if name.startswith("weight_")
            ]
        else:
            continue
        for name in names:
            if uses[id(getattr(layer, name))] == 1:
                qualified = f"{layer_name}.{name}" if layer_name else name
                weights.append((qualified, layer, name))
    return weights


def _prune_unstructured(weights, amount):
    """Mask the ``amount`` of all ``weights`` with the smallest magnitudes."""
    torch_prune.global_unstructured(
        [(layer, name) for _, layer, name in weights],
        pruning_method=torch_prune.L1Unstructured,
        amount=amount,
    )
    return [(layer, name) for _, layer, name in weights]


def _prune_units(layer, amount):
    """Mask the ``amount`` of a layer's output units with the smallest L2 norms.

    A unit's weights and bias are masked together, so that a pruned neuron
    or channel outputs zero; a recurrent unit's rows in every gate (of its
    input and hidden weights) are, so that its state stays zero. Returns
    the ``(layer, name)`` of the masked tensors.
    """
    masked = []
    if not isinstance(layer, nn.RNNBase):
        torch_prune.ln_structured(layer, "weight", amount, n=2, dim=0)
        masked.append((layer, "weight"))
        if layer.bias is not None:
            units = layer.weight_mask.flatten(1).any(dim=1)
            torch_prune.custom_from_mask(layer, "bias", units.to(layer.bias.dtype))
            masked.append((layer, "bias"))
        return masked
    hidden = layer.hidden_size
    for name, weight_ih in list(layer.named_parameters(recurse=False)):
        if not name.startswith("weight_ih"):
            continue
        suffix = name.removeprefix("weight_ih")
        weight_hh = getattr(layer, "weight_hh" + suffix)
        gates = weight_ih.shape[0] // hidden
        rows = torch.cat(
            [
                weight_ih.detach().reshape(gates, hidden, -1),
                weight_hh.detach().reshape(gates, hidden, -1),
            ],
            dim=2,
        )
        norms = rows.pow(2).sum(dim=(0, 2))
        keep = torch.ones(hidden, dtype=weight_ih.dtype, device=weight_ih.device)
        keep[torch.argsort(norms)[: round(amount * hidden)]] = 0
        keep = keep.repeat(gates)  # the gates are stacked along the rows
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            tensor = getattr(layer, part + suffix, None)
            if tensor is None:
                continue
            mask = keep.reshape(-1, *([1] * (tensor.ndim - 1))).expand_as(tensor)
            torch_prune.custom_from_mask(layer, part + suffix, mask.clone())
            masked.append((layer, part + suffix))
    return masked


def _fine_tune(network, fine_tune_iter, X, y):
    """Train ``network`` further for ``fine_tune_iter`` epochs, through its own fit.

    The pruning masks are in place, so the pruned weights stay zero; the
    network's parameters are restored afterwards.
    """
    params = network.get_params(deep=False)
    network.set_params(warm_start=True, max_iter=fine_tune_iter)
    try:
        with warnings.catch_warnings():
            # A fixed number of epochs: reaching it is not a failure.
            warnings.simplefilter("ignore", ConvergenceWarning)
            network.fit(X, y)
    finally:
        network.set_params(warm_start=params["warm_start"], max_iter=params["max_iter"])


def _prune_network(network, amount, structured, fine_tune_iter, X, y):
    """Prune the network of (a copy of) a fitted estimator in place."""
    module = network.net_.module_
    weights = _prunable_weights(module)
    if structured:
        # The last layer's units are the network's outputs, not hidden units.
        weights = weights[:-1]
        if not weights:
            raise ValueError(
                f"structured=True prunes hidden units, but this "
                f"{type(network).__name__} has no hidden layer; use "
                "structured=False."
            )
        masked = []
        # A recurrent layer has several weights, and is pruned once.
        for layer in dict.fromkeys(layer for _, layer, _ in weights):
            masked += _prune_units(layer, amount)
    else:
        masked = _prune_unstructured(weights, amount)
    if fine_tune_iter:
        _fine_tune(network, fine_tune_iter, X, y)
    for layer, name in masked:
        torch_prune.remove(layer, name)
    for layer in module.modules():
        if isinstance(layer, nn.RNNBase):
            layer.flatten_parameters()  # back into cuDNN's buffer on a GPU
    zeros, sizes = {}, {}
    for qualified, layer, name in weights:
        weight = getattr(layer, name)
        zeros[qualified] = int((weight == 0).sum())
        sizes[qualified] = weight.numel()
    network.layer_sparsity_ = {name: zeros[name] / sizes[name] for name in zeros}
    network.sparsity_ = sum(zeros.values()) / sum(sizes.values())


@validate_params(
    {
        "estimator": "no_validation",
        "amount": [Interval(numbers.Real, 0, 1, closed="left")],
        "structured": ["boolean"],
        "fine_tune_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "X": ["array-like", None],
        "y": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def prune(estimator, amount, *, structured=False, fine_tune_iter=0, X=None, y=None):
    """Set the smallest weights of a fitted network to zero; return a copy.

    Unstructured pruning (the default) zeroes the fraction ``amount`` of
    the network's weights with the smallest magnitudes, compared across all
    layers at once (global magnitude pruning). Structured pruning zeroes,
    in each hidden layer, the fraction ``amount`` of its units with the
    smallest L2 norms: output neurons of linear layers, output channels of
    convolutions and hidden units of recurrent layers. The shapes stay; the
    pruning is permanent (no masks are left), and the network can be
    briefly trained further, with the pruned weights held at zero, before
    it is made so.

    The returned estimator predicts, scores, pickles and clones as the
    original does, and records ``sparsity_`` and ``layer_sparsity_``. The
    original is left unchanged.

    Parameters
    ----------
    estimator : estimator object
        A fitted neural classifier or regressor of this package (e.g.
        :class:`~sklearn_histai.neural_network.FeedForwardClassifier`,
        :class:`~sklearn_histai.neural_network.LSTMClassifier`,
        :class:`~sklearn_histai.neural_network.CNNClassifier`), or a fitted
        :class:`~sklearn.pipeline.Pipeline` with such steps, e.g. one of
        :func:`~sklearn_histai.text.make_text_classifier`: its neural steps
        are pruned and a new pipeline is returned.
    amount : float
        The fraction of the weights (unstructured) or of each hidden layer's
        units (structured) to prune, in ``[0, 1)``.
    structured : bool, default=False
        Whether to prune whole units rather than single weights.
    fine_tune_iter : int, default=0
        Epochs of training after pruning, through the estimator's own
        ``fit`` (a warm start with its training parameters), during which
        the pruned weights stay zero. 0 trains nothing.
    X : array-like, default=None
        The training input of the fine-tuning (raw texts for a text
        pipeline); only with ``fine_tune_iter > 0``.
    y : array-like, default=None
        The training targets of the fine-tuning; only with
        ``fine_tune_iter > 0``.

    Returns
    -------
    pruned : estimator object
        A deep copy of ``estimator`` whose network (each neural step's, for
        a pipeline) is pruned, with the attributes ``sparsity_``, the
        fraction of zero weights among the weights pruning applied to, and
        ``layer_sparsity_``, that fraction for each of those weights by its
        name in the network (e.g. ``"layers.0.weight"``).

    Raises
    ------
    NotFittedError
        If ``estimator`` (or a neural step of it) is not fitted.
    TypeError
        If ``estimator`` is neither a neural classifier or regressor of this
        package nor a pipeline holding one, or is a fine-tuned transformer.
    ValueError
        If ``amount`` is not in ``[0, 1)``, if ``X`` and ``y`` are missing
        for ``fine_tune_iter > 0`` (or given without it), if the network is
        quantised, or for ``structured=True`` of a network without hidden
        layers.

    See Also
    --------
    quantize : Store a fitted network in int8 or half precision.

    Notes
    -----
    Pruning applies to the weights of linear layers, convolutions and
    recurrent layers (LSTM, GRU, Elman RNN). Embeddings are left dense:
    their rows are words, whose scale differs from the layers' weights, so
    one global threshold would prune them all or none. Biases, normalisation
    layers and weights shared by two layers (tied weights) are left too. In
    structured pruning the output layer keeps all its units, which are the
    predictions, and a pruned unit's bias is zeroed with its weights so
    that it outputs zero: a linear neuron then outputs zero, and a recurrent
    unit keeps a zero state. The number pruned is rounded per layer
    (structured) or over all the weights (unstructured), so ``sparsity_``
    is ``amount`` up to that rounding, and up to weights that were zero
    already.

    Zeroed weights take the same memory and time as others in dense
    tensors; pruning pays off once a sparse format or a smaller network
    built from the surviving units uses them. Fine-tuning after pruning
    recovers most of the accuracy lost to a large ``amount``; with
    ``fine_tune_iter``, ``history_`` holds the extra epochs.

    The pruned network trains further like any other (``warm_start=True``,
    ``partial_fit``), but then its pruned weights change again. It pickles
    as any other network does, its weights as numpy arrays, so that
    ``skops.io`` saves it too.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_histai.deploy import prune
    >>> from sklearn_histai.neural_network import FeedForwardClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = FeedForwardClassifier(hidden_layer_sizes=(32,), learning_rate=0.01,
    ...                             max_iter=50, random_state=0).fit(X, y)
    >>> sparse = prune(clf, 0.7, fine_tune_iter=5, X=X, y=y)
    >>> round(sparse.sparsity_, 2)
    0.7
    >>> sorted(sparse.layer_sparsity_)
    ['layers.0.weight', 'layers.2.weight']
    >>> bool(sparse.score(X, y) > 0.9)
    True

    Half of the hidden neurons, those of the smallest norms:

    >>> narrow = prune(clf, 0.5, structured=True)
    >>> int((narrow.net_.module_.layers[0].weight == 0).all(dim=1).sum())
    16
    """
    if fine_tune_iter and (X is None or y is None):
        raise ValueError(
            f"fine_tune_iter={fine_tune_iter} trains the pruned network further "
            "and needs its training data: pass X and y."
        )
    if not fine_tune_iter and (X is not None or y is not None):
        raise ValueError(
            "X and y are the data of the fine-tuning after pruning; pass "
            "fine_tune_iter > 0 to use them, or leave them out."
        )

    def compress(network, X_network):
        _prune_network(network, amount, structured, fine_tune_iter, X_network, y)

    return compress_networks(estimator, compress, function="prune", X=X)
