"""Post-training quantisation: int8 layers or half precision, the same estimator API."""

import copy
import warnings

import torch
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_histai._torch._runtime import inference_only
from sklearn_histai._torch._supervised import BaseNeuralClassifier, BaseNeuralRegressor

# The layers torch's dynamic quantisation rewrites to int8; Elman's nn.RNN
# has no dynamically quantised version in torch.
_INT8_LAYERS = {nn.Linear, nn.LSTM, nn.GRU}

_HALF_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}

# What torch says when its eager-mode quantisation runs: that the API will
# move to the torchao package, which this package does not depend on.
_DEPRECATION_MESSAGES = (
    r"torch\.ao\.quantization is deprecated",
    r"torch\.quantize_per_tensor, torch\.quantize_per_channel",
)


def compress_networks(estimator, compress, *, function, X=None):
    """A deep copy of ``estimator`` whose networks ``compress`` rewrote.

    Parameters
    ----------
    estimator : estimator object
        A fitted neural classifier or regressor of this package, or a fitted
        :class:`~sklearn.pipeline.Pipeline` with one or more among its steps
        (pipelines within it are walked too).
    compress : callable
        ``compress(network_estimator, X)`` edits the deep copy of a neural
        step in place; ``X`` is the input of that step (``X`` passed through
        the steps before it), or None.
    function : str
        The public function's name, for the messages.
    X : array-like, default=None
        The input of ``estimator``, when ``compress`` needs data.

    Returns
    -------
    compressed : estimator object
        A copy of ``estimator``, which is left unchanged.
    """
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        if not _holds_network(estimator):
            names = [type(step).__name__ for _, step in estimator.steps]
            raise TypeError(
                f"{function} found no neural estimator of sklearn_histai among the "
                f"steps of the Pipeline ({', '.join(names)})."
            )
        steps = []
        for index, (name, step) in enumerate(estimator.steps):
            if _holds_network(step):
                step = compress_networks(step, compress, function=function, X=X)
            else:
                step = copy.deepcopy(step)
            steps.append((name, step))
            if X is not None and index < len(estimator.steps) - 1:
                if step is not None and step != "passthrough":
                    X = step.transform(X)
        compressed = copy.copy(estimator)
        compressed.steps = steps
        return compressed
    if not _is_network(estimator):
        raise TypeError(
            f"{function} takes a fitted neural classifier or regressor of "
            "sklearn_histai (FeedForwardClassifier, CNNClassifier, LSTMClassifier, "
            "RNNClassifier, TransformerEncoderClassifier, EmbeddingBagClassifier, "
            "TransformerClassifier, or their regressors), or a fitted Pipeline "
            f"holding one, such as make_text_classifier's; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if inference_only(estimator.net_.module_):
        raise ValueError(
            f"The network of this {type(estimator).__name__} is already quantised "
            f"(quantization_={getattr(estimator, 'quantization_', None)!r}); "
            f"{function} takes a full-precision estimator. Prune before you "
            "quantize, and quantize the full-precision estimator once."
        )
    compressed = copy.deepcopy(estimator)
    compress(compressed, X)
    return compressed


def _is_network(estimator):
    """Whether ``estimator`` is a neural classifier or regressor of this package."""
    return isinstance(estimator, BaseNeuralClassifier | BaseNeuralRegressor)


def _holds_network(estimator):
    """Whether ``estimator`` is a network, or a pipeline with one among its steps."""
    if isinstance(estimator, Pipeline):
        return any(_holds_network(step) for _, step in estimator.steps)
    return _is_network(estimator)


def _merge_adapters(module):
    """Fold peft's low-rank updates into the weights they adapt, in place.

    The children of ``module`` that peft wraps, and can merge (LoRA,
    AdaLoRA, IA3), become the plain model of the base checkpoint, whose
    linear layers are plain ``nn.Linear``; others stay as they are.
    """
    for name, child in module.named_children():
        if hasattr(child, "merge_and_unload"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                setattr(module, name, child.merge_and_unload())


def _quantize_network(estimator, dtype):
    """Quantise the network of (a copy of) a fitted estimator in place."""
    net = estimator.net_
    module = net.module_
    _merge_adapters(module)
    if dtype == "int8":
        # Dynamically quantised layers compute on the CPU, in float32.
        module.to(device="cpu", dtype=torch.float32)
        with warnings.catch_warnings():
            for message in _DEPRECATION_MESSAGES:
                warnings.filterwarnings("ignore", message=message)
            torch.ao.quantization.quantize_dynamic(
                module, _INT8_LAYERS, dtype=torch.qint8, inplace=True
            )
        net.device = "cpu"
    else:
        module.to(_HALF_DTYPES[dtype])
    module.eval()
    # The network computes in its own precision, without autocast, and an
    # optimizer over the weights it had would keep them in memory.
    net.precision = None
    net.optimizer_ = None
    estimator.quantization_ = dtype


@validate_params(
    {
        "estimator": "no_validation",
        "dtype": [StrOptions({"int8", "float16", "bfloat16"})],
    },
    prefer_skip_nested_validation=True,
)
def quantize(estimator, dtype="int8"):
    """Quantise a fitted neural estimator for inference; return a copy.

    With ``dtype="int8"``, the linear layers (``nn.Linear``) and the LSTM
    and GRU layers of the network are quantised dynamically with torch's
    own API (``torch.ao.quantization.quantize_dynamic``): their weights
    are stored as int8, and each input is quantised on the fly. The result
    computes on the CPU. With ``"float16"`` or ``"bfloat16"``, the whole
    network is cast to that precision and stays on its device.

    The returned estimator predicts, scores, pickles and clones as the
    original does, and records ``quantization_`` (``dtype``). The original
    is left unchanged.

    Parameters
    ----------
    estimator : estimator object
        A fitted neural classifier or regressor of this package (e.g.
        :class:`~sklearn_histai.neural_network.FeedForwardClassifier`,
        :class:`~sklearn_histai.neural_network.LSTMClassifier`,
        :class:`~sklearn_histai.neural_network.CNNClassifier`,
        :class:`~sklearn_histai.finetune.TransformerClassifier`), or a
        fitted :class:`~sklearn.pipeline.Pipeline` with such steps, e.g.
        one of :func:`~sklearn_histai.text.make_text_classifier`: its neural
        steps are quantised and a new pipeline is returned.
    dtype : {"int8", "float16", "bfloat16"}, default="int8"
        The precision of the quantised network.

    Returns
    -------
    quantized : estimator object
        A deep copy of ``estimator`` whose network (each neural step's, for
        a pipeline) is quantised, with the attribute ``quantization_``.

    Raises
    ------
    NotFittedError
        If ``estimator`` (or a neural step of it) is not fitted.
    TypeError
        If ``estimator`` is neither a neural classifier or regressor of this
        package nor a pipeline holding one.
    ValueError
        If the network is already quantised.

    See Also
    --------
    prune : Set the smallest weights of a fitted network to zero.

    Notes
    -----
    int8 quantisation is post-training and dynamic: the weights are
    quantised once (per tensor, symmetric), the activations at each call.
    It shrinks the linear and recurrent layers about four times and speeds
    up large matrix products on the CPU; torch has no dynamically quantised
    Elman RNN, convolution or embedding, so these stay in float32: an
    :class:`~sklearn_histai.neural_network.RNNClassifier` quantises its
    output layer only, and a
    :class:`~sklearn_histai.neural_network.CNNClassifier` its dense layers
    only (on a GPU, cast it to half precision instead). A network that was
    trained in float64 computes in float32 once quantised. The adapters of a
    fine-tuned :class:`~sklearn_histai.finetune.TransformerClassifier`
    (LoRA, AdaLoRA, IA3) are first merged into the weights they adapt, so
    that its linear layers are plain ``nn.Linear``.

    torch deprecates ``torch.ao.quantization`` in favour of the separate
    torchao package; its deprecation warnings are silenced here, as the API
    still works and torchao is not a dependency.

    A float16 network pickles as numpy arrays, as a full-precision one does,
    so ``skops.io`` saves it with only the estimator's class untrusted. numpy
    holds neither int8 packed weights nor bfloat16, so these networks keep
    torch's pickling: ``pickle`` and ``joblib`` load them, while
    ``skops.io`` lists the network's torch and skorch classes among the
    untrusted types, to be trusted explicitly.
    Unpickling an int8 network, torch warns that ``TypedStorage`` is
    deprecated: its own storage of the packed weights, which loads as it
    should.

    ``"bfloat16"`` keeps float32's range with fewer digits, and works on
    CPUs and recent GPUs. ``"float16"`` suits GPUs: on the CPU torch lacks
    fast float16 kernels for some layers, and values beyond 65504 overflow.
    A quantised fine-tuned transformer pickles its whole network with torch
    (it no longer matches the checkpoint it would otherwise be rebuilt
    from), as large as the checkpoint's weights in the new precision.

    The quantised network only predicts: ``partial_fit`` and ``fit`` with
    ``warm_start=True`` raise a ValueError, while ``fit`` with
    ``warm_start=False`` trains a new, full-precision network, as it
    would for any fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_histai.deploy import quantize
    >>> from sklearn_histai.neural_network import FeedForwardClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = FeedForwardClassifier(hidden_layer_sizes=(32,), max_iter=50,
    ...                             random_state=0).fit(X, y)
    >>> small = quantize(clf)
    >>> small.quantization_
    'int8'
    >>> small.net_.module_.layers[0]
    DynamicQuantizedLinear(in_features=8, out_features=32, dtype=torch.qint8, ...)
    >>> bool(np.mean(small.predict(X) == clf.predict(X)) > 0.95)
    True
    """

    def compress(network, X):
        _quantize_network(network, dtype)

    return compress_networks(estimator, compress, function="quantize")
