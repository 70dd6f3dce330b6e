"""ONNX converters of the neural estimators: their trained network, exported by torch.

Each converter exports a copy of the fitted network with
``torch.onnx.export`` (the ``torch.export``-based exporter, with a dynamic
batch axis), inlines its graph into the graph ``skl2onnx`` builds, and adds
what ``predict`` does around the network: the cast of the input to the
network's precision, the clipping of token ids into the embedding table, the
softmax and the decoding of the labels of a classifier, and the scaling back
of a regressor's standardised targets.

A classifier gives labels (int64 or strings) and probabilities, as
``skl2onnx``'s classifiers do; a regressor its predictions with the shape
``predict`` gives, ``(n_samples,)`` for a single target where ``skl2onnx``'s
regressors give ``(n_samples, 1)``; the autoencoder its codes. They are
float64 for a float64 input, float32 otherwise. The network computes in
the precision of the fitted one (float64 after a fit on float64 rows on the
CPU), but in float32 where it holds convolutions, LSTM or GRU layers or GELU
activations, for which onnxruntime has no float64 kernels; the softmax and
the scaling of the targets compute in float64.
"""

import contextlib
import copy
import logging
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_histai._torch._runtime import module_dtype
from sklearn_histai.deploy._onnx_common import (
    check_input_width,
    label_classes,
    output_tensor_type,
)
from sklearn_histai.finetune import TransformerClassifier, TransformerRegressor
from sklearn_histai.finetune._methods import METHODS
from sklearn_histai.neural_network import (
    AutoencoderTransformer,
    CNNClassifier,
    CNNRegressor,
    FeedForwardClassifier,
    FeedForwardRegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerEncoderClassifier,
    TransformerEncoderRegressor,
)
from sklearn_histai.nn import (
    EmbeddingBagNet,
    RecurrentNet,
    TransformerEncoderNet,
    sequence_lengths,
)
from sklearn_histai.text import EmbeddingBagClassifier

CLASSIFIERS = (
    CNNClassifier,
    EmbeddingBagClassifier,
    FeedForwardClassifier,
    LSTMClassifier,
    RNNClassifier,
    TransformerClassifier,
    TransformerEncoderClassifier,
)
REGRESSORS = (
    CNNRegressor,
    FeedForwardRegressor,
    LSTMRegressor,
    RNNRegressor,
    TransformerEncoderRegressor,
    TransformerRegressor,
)
TRANSFORMERS = (AutoencoderTransformer,)
_TEXT_ESTIMATORS = (TransformerClassifier, TransformerRegressor)

# Layers and operators that onnxruntime's CPU provider runs in float32 only
# (it has no float64 kernel for Conv, ConvTranspose, RNN and Erf, and its
# LSTM and GRU refuse float64 when they run): a float64 network holding one
# is exported in float32.
_FLOAT32_ONLY_LAYERS = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.GELU,
    nn.GRU,
    nn.LSTM,
)
_FLOAT32_ONLY_OPS = frozenset(
    {"Conv", "ConvTranspose", "Erf", "Gelu", "GRU", "LSTM", "RNN"}
)
_STANDARD_DOMAINS = frozenset({"", "ai.onnx.ml"})


def register():
    """Register the converters of the neural estimators with ``skl2onnx``.

    Calling it again registers the same converters again, which is harmless.
    """
    from skl2onnx import update_registered_converter

    classifier_options = {"zipmap": [True, False, "columns"], "nocl": [False, True]}
    for estimator_class in CLASSIFIERS:
        update_registered_converter(
            estimator_class,
            _alias(estimator_class),
            _classifier_shapes,
            _convert_classifier,
            options=classifier_options,
        )
    for estimator_class in REGRESSORS:
        update_registered_converter(
            estimator_class,
            _alias(estimator_class),
            _regressor_shapes,
            _convert_regressor,
        )
    for estimator_class in TRANSFORMERS:
        update_registered_converter(
            estimator_class,
            _alias(estimator_class),
            _transformer_shapes,
            _convert_transformer,
        )


def export_transformer(estimator, path=None, *, target_opset=None):
    """Export a fine-tuned transformer to ONNX, over token ids.

    The graph takes the token ids and the attention mask that the
    estimator's tokenizer makes of the texts, runs the fine-tuned encoder
    (LoRA, AdaLoRA and IA3 updates merged into its weights) and the output
    layer, and gives what ``predict`` and ``predict_proba`` give: for a
    classifier the outputs ``label`` and ``probabilities``, for a regressor
    ``variable``, the predictions on the scale of the training targets.
    Tokenisation stays in Python, as no standard ONNX operator implements it.
    The estimator is left unchanged: a copy of its network is merged.

    Parameters
    ----------
    estimator : TransformerClassifier or TransformerRegressor
        The fitted estimator, trained with a ``peft_method`` whose updates
        merge into the encoder ("lora", "adalora", "ia3", "full" or
        "head_only").
    path : str or path-like, default=None
        Where to write the ONNX model; None writes nothing.
    target_opset : int or None, default=None
        The ONNX opset of the model (at least 18); None is the default of
        :func:`to_onnx`.

    Returns
    -------
    model : onnx.ModelProto
        The model, with the inputs ``input_ids`` and ``attention_mask``
        (int64, of shape ``(n_texts, n_tokens)``, any numbers of texts and
        tokens).

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not a fine-tuned transformer of this package.
    ValueError
        If its ``peft_method`` adds modules or inputs that do not merge into
        the encoder.

    See Also
    --------
    to_onnx : Convert the numeric estimators, alone or in a pipeline.
    sklearn_histai.finetune.TransformerClassifier.merge_and_save : Save the
        merged checkpoint for ``transformers`` instead.

    Notes
    -----
    Make the inputs with the estimator's own tokenizer, as ``predict``
    does: ``estimator.tokenizer_(texts, truncation=True,
    max_length=estimator.max_length, padding=True, return_tensors="np")``
    (``max_length`` is capped at the tokenizer's ``model_max_length``).
    The encoder and the output layer compute in float32, as the estimator
    does; the softmax and the scaling of regression targets in float64, cast
    to float32 at the output.

    Examples
    --------
    >>> from sklearn_histai.deploy import export_transformer
    >>> from sklearn_histai.finetune import TransformerClassifier
    >>> texts = ["a wonderful, moving film", "dull and far too long"] * 4
    >>> clf = TransformerClassifier(max_length=16, max_iter=1, random_state=0)
    >>> clf = clf.fit(texts, ["pos", "neg"] * 4)
    >>> model = export_transformer(clf)
    >>> [value.name for value in model.graph.output]
    ['label', 'probabilities']
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> tokens = clf.tokenizer_(["a moving film"], truncation=True,
    ...                         max_length=clf.max_length, padding=True,
    ...                         return_tensors="np")
    >>> label, proba = session.run(None, {"input_ids": tokens["input_ids"],
    ...                                   "attention_mask": tokens["attention_mask"]})
    >>> label.tolist() == clf.predict(["a moving film"]).tolist()
    True
    """
    if not isinstance(estimator, _TEXT_ESTIMATORS):
        raise TypeError(
            "export_transformer exports TransformerClassifier and "
            f"TransformerRegressor; got {type(estimator).__name__}. Convert the "
            "other estimators with sklearn_histai.deploy.to_onnx."
        )
    check_is_fitted(estimator)
    import onnx
    from skl2onnx.common.data_types import Int64TensorType

    from sklearn_histai.deploy._onnx import to_onnx

    options = None
    if isinstance(estimator, TransformerClassifier):
        options = {id(estimator): {"zipmap": False}}
    model = to_onnx(
        estimator,
        initial_types=[
            ("input_ids", Int64TensorType([None, None])),
            ("attention_mask", Int64TensorType([None, None])),
        ],
        options=options,
        **({} if target_opset is None else {"target_opset": target_opset}),
    )
    if path is not None:
        onnx.save_model(model, path)
    return model


# -- shape calculators -----------------------------------------------------------------


def _alias(estimator_class):
    return f"SklearnHistai{estimator_class.__name__}"


def _check_inputs(operator):
    """Raise unless the operator's inputs are what its estimator's network takes."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int32TensorType,
        Int64TensorType,
    )

    estimator = operator.raw_operator
    check_is_fitted(estimator)
    name = type(estimator).__name__
    types = [type(variable.type) for variable in operator.inputs]
    if isinstance(estimator, _TEXT_ESTIMATORS):
        if len(types) != 2 or not all(t is Int64TensorType for t in types):
            raise TypeError(
                f"{name} reads raw text, which ONNX cannot tokenise: convert it "
                "over token ids with sklearn_histai.deploy.export_transformer, or "
                "with initial_types=[('input_ids', Int64TensorType([None, None])), "
                "('attention_mask', Int64TensorType([None, None]))]."
            )
        return
    numeric = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType)
    if len(types) != 1 or types[0] not in numeric:
        raise TypeError(
            f"{name} converts from one numeric tensor (float, double or integer "
            f"rows); got inputs of types {[t.__name__ for t in types]}."
        )
    check_input_width(operator)


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    _check_inputs(operator)
    estimator = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    labels = label_classes(operator.scope_inst, estimator)
    label_type = StringTensorType if labels.dtype == object else Int64TensorType
    operator.outputs[0].type = label_type([n_rows])
    operator.outputs[1].type = output_tensor_type(operator)([n_rows, len(labels)])


def _regressor_shapes(operator):
    _check_inputs(operator)
    estimator = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    shape = [n_rows] if estimator.y_ndim_ == 1 else [n_rows, estimator.n_outputs_]
    operator.outputs[0].type = output_tensor_type(operator)(shape)


def _transformer_shapes(operator):
    _check_inputs(operator)
    estimator = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = output_tensor_type(operator)(
        [n_rows, estimator.n_components]
    )


# -- converters ------------------------------------------------------------------------


def _convert_classifier(scope, operator, container):
    from onnx import TensorProto
    from skl2onnx.common.data_types import guess_proto_type

    estimator = operator.raw_operator
    logits = _add_network(scope, operator, container)
    # As predict_proba: the softmax in float64, and the label of the largest
    # float64 probability (the first, on ties).
    logits64 = _add(scope, container, "Cast", [logits], to=TensorProto.DOUBLE)
    probabilities = _add(scope, container, "Softmax", [logits64], axis=1)
    index = _add(scope, container, "ArgMax", [probabilities], axis=1, keepdims=0)
    labels = label_classes(scope, estimator)
    classes = scope.get_unique_variable_name("classes")
    if labels.dtype == object:
        container.add_initializer(
            classes,
            TensorProto.STRING,
            [len(labels)],
            [label.encode("utf-8") for label in labels],
        )
    else:
        container.add_initializer(
            classes, TensorProto.INT64, [len(labels)], labels.tolist()
        )
    container.add_node(
        "Gather",
        [classes, index],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Gather"),
        axis=0,
    )
    container.add_node(
        "Cast",
        [probabilities],
        [operator.outputs[1].full_name],
        name=scope.get_unique_operator_name("Cast"),
        to=guess_proto_type(operator.outputs[1].type),
    )


def _convert_regressor(scope, operator, container):
    from onnx import TensorProto
    from skl2onnx.common.data_types import guess_proto_type

    estimator = operator.raw_operator
    outputs = _add_network(scope, operator, container)
    # As predict: the standardised predictions scaled back in float64.
    outputs64 = _add(scope, container, "Cast", [outputs], to=TensorProto.DOUBLE)
    scale = _add_constant(scope, container, "y_scale", estimator.y_scale_)
    mean = _add_constant(scope, container, "y_mean", estimator.y_mean_)
    scaled = _add(scope, container, "Mul", [outputs64, scale])
    predictions = _add(scope, container, "Add", [scaled, mean])
    if estimator.y_ndim_ == 1:
        flat = _add_constant(scope, container, "flat", np.array([-1], np.int64))
        predictions = _add(scope, container, "Reshape", [predictions, flat])
    container.add_node(
        "Cast",
        [predictions],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Cast"),
        to=guess_proto_type(operator.outputs[0].type),
    )


def _convert_transformer(scope, operator, container):
    from skl2onnx.common.data_types import guess_proto_type

    codes = _add_network(scope, operator, container)
    container.add_node(
        "Cast",
        [codes],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Cast"),
        to=guess_proto_type(operator.outputs[0].type),
    )


def _add(scope, container, op_type, inputs, **attributes):
    """Add one node with a new output; return the output's name."""
    output = scope.get_unique_variable_name(op_type.lower())
    container.add_node(
        op_type,
        inputs,
        [output],
        name=scope.get_unique_operator_name(op_type),
        **attributes,
    )
    return output


def _add_constant(scope, container, name, values):
    """Add an initializer holding the array ``values``; return its name."""
    from onnx import numpy_helper

    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values.astype(np.float64)
    name = scope.get_unique_variable_name(name)
    container.add_initializer(
        name, None, None, numpy_helper.from_array(values, name=name)
    )
    return name


# -- the network -----------------------------------------------------------------------


def _add_network(scope, operator, container):
    """Add the estimator's trained network to ``container``; return its output."""
    from onnx import TensorProto

    estimator = operator.raw_operator
    network, inputs, dynamic_shapes = _network(estimator)
    model = _exported(network, inputs, dynamic_shapes, container.target_opset)
    embedding = _input_embeddings(network)
    names = []
    for variable, example in zip(operator.inputs, inputs):
        to = {
            torch.float32: TensorProto.FLOAT,
            torch.float64: TensorProto.DOUBLE,
            torch.int64: TensorProto.INT64,
        }[example.dtype]
        name = _add(scope, container, "Cast", [variable.full_name], to=to)
        if embedding is not None and not isinstance(estimator, _TEXT_ESTIMATORS):
            # As predict: ids past the embedding table share its last row. An
            # ONNX graph cannot refuse the ids that predict refuses
            # (negative, or not below vocab_size): they are clipped too.
            low = _add_constant(scope, container, "low", np.array(0, np.int64))
            high = _add_constant(
                scope,
                container,
                "high",
                np.array(embedding.num_embeddings - 1, np.int64),
            )
            name = _add(scope, container, "Clip", [name, low, high])
        names.append(name)
    output = scope.get_unique_variable_name("network_output")
    _inline_graph(scope, container, model, names, [output])
    return output


def _network(estimator):
    """The module to export, example inputs, and their dynamic axes.

    The module is an evaluation-mode copy of the trained network in the
    precision the estimator computes in, float32 where onnxruntime runs a
    layer in float32 only, on the CPU.
    """
    check_is_fitted(estimator)
    precision = getattr(estimator.net_, "precision", None)
    if precision is not None:
        warnings.warn(
            f"{type(estimator).__name__} predicts under {precision} autocast "
            f"(mixed_precision={estimator.mixed_precision!r}); its ONNX graph "
            "computes in full precision, so its outputs differ from predict's by "
            f"the rounding of {precision}.",
            UserWarning,
            stacklevel=2,
        )
    if isinstance(estimator, _TEXT_ESTIMATORS):
        return _text_network(estimator)
    module = estimator.net_.module_
    if isinstance(estimator, AutoencoderTransformer):
        # transform gives the codes: the encoder's output.
        module = module.encoder
    module = _export_form(_cpu_copy(module, type(estimator).__name__))
    batch = torch.export.Dim("batch")
    if _input_embeddings(module) is not None:
        example = torch.ones(2, estimator.n_features_in_, dtype=torch.int64)
    else:
        example = torch.zeros(2, estimator.n_features_in_, dtype=module_dtype(module))
    return module, (example,), ({0: batch},)


def _text_network(estimator):
    """The merged encoder and output layer of a fine-tuned transformer."""
    if not METHODS[estimator.peft_method].mergeable:
        mergeable = sorted(name for name, method in METHODS.items() if method.mergeable)
        raise ValueError(
            f"peft_method={estimator.peft_method!r} adds modules or inputs that "
            "do not merge into the encoder's weights, which the ONNX export "
            f"needs; it supports {mergeable}."
        )
    network = _cpu_copy(estimator.net_.module_, type(estimator).__name__)
    if hasattr(network.encoder, "merge_and_unload"):
        with warnings.catch_warnings():
            # peft probes attributes that transformers marks as deprecated.
            warnings.simplefilter("ignore", FutureWarning)
            network.encoder = network.encoder.merge_and_unload()
    batch, steps = torch.export.Dim("batch"), torch.export.Dim("steps")
    ids = torch.ones(2, 4, dtype=torch.int64)
    return (
        _EncoderWithHeadExport(network).eval(),
        (ids, torch.ones_like(ids)),
        ({0: batch, 1: steps}, {0: batch, 1: steps}),
    )


def _cpu_copy(module, name):
    """An evaluation-mode copy of ``module`` on the CPU, in float32 or float64."""
    dtypes = {p.dtype for p in module.parameters()} | {
        b.dtype for b in module.buffers() if b.is_floating_point()
    }
    if not dtypes <= {torch.float32, torch.float64} or any(
        type(layer).__module__.startswith("torch.ao.") for layer in module.modules()
    ):
        raise TypeError(
            f"The network of {name} holds {sorted(map(str, dtypes))} weights or "
            "quantised layers; the ONNX export takes float32 or float64 networks. "
            "Convert the estimator before quantising it."
        )
    module = copy.deepcopy(module).cpu().eval()
    if module_dtype(module) == torch.float64 and any(
        isinstance(layer, _FLOAT32_ONLY_LAYERS) for layer in module.modules()
    ):
        module = module.float()
    return module


def _input_embeddings(module):
    """The token embedding layer the network's input goes through, or None."""
    get = getattr(module, "get_input_embeddings", None)
    return None if get is None else get()


def _exported(module, inputs, dynamic_shapes, opset):
    """The ONNX model of ``module`` at ``opset``, in float32 where it must be."""
    model = _torch_export(module, inputs, dynamic_shapes, opset)
    float64 = any(
        tensor.data_type == tensor.DOUBLE for tensor in model.graph.initializer
    )
    if float64 and any(node.op_type in _FLOAT32_ONLY_OPS for node in model.graph.node):
        module = copy.deepcopy(module).float()
        inputs = tuple(x.float() if x.is_floating_point() else x for x in inputs)
        model = _torch_export(module, inputs, dynamic_shapes, opset)
    return model


def _torch_export(module, inputs, dynamic_shapes, opset):
    from onnx import inliner

    with _quiet_export():
        program = torch.onnx.export(
            module,
            inputs,
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            verbose=False,
        )
        if not _keeps_dynamic_axes(program.model_proto, dynamic_shapes):
            # torch.onnx.export's first trace, torch.export's non-strict
            # one, fixes an axis whose size the network reads as a Python
            # int (len(X)); TorchDynamo's strict trace keeps it symbolic.
            try:
                exported = torch.export.export(
                    module, inputs, dynamic_shapes=dynamic_shapes, strict=True
                )
            except Exception as exc:
                raise ValueError(
                    "torch.onnx.export fixed the number of rows (or tokens) of "
                    "the network's input to that of its example input, and "
                    "torch.export cannot keep it free; the ONNX graph would take "
                    "no other."
                ) from exc
            program = torch.onnx.export(
                exported, dynamo=True, opset_version=opset, verbose=False
            )
    model = program.model_proto
    if model.functions:
        model = inliner.inline_local_functions(model)
    exported = {entry.domain: entry.version for entry in model.opset_import}
    if exported.get("", opset) != opset:
        raise ValueError(
            f"torch.onnx.export cannot write this network at target_opset={opset} "
            f"(it wrote opset {exported['']}); ask for target_opset >= 18."
        )
    unknown = {node.domain for node in model.graph.node} - _STANDARD_DOMAINS
    if unknown:
        raise ValueError(
            f"torch.onnx.export wrote operators of the domains {sorted(unknown)}, "
            "which skl2onnx models cannot hold."
        )
    _name_omitted_values(model.graph)
    return model


def _keeps_dynamic_axes(model, dynamic_shapes):
    """Whether every axis declared dynamic has a symbolic size in ``model``."""
    for value, axes in zip(model.graph.input, dynamic_shapes):
        dims = value.type.tensor_type.shape.dim
        if any(dims[axis].HasField("dim_value") for axis in axes):
            return False
    return True


def _name_omitted_values(graph):
    """Name the optional inputs and outputs that nodes of ``graph`` omit with "".

    skl2onnx sorts the nodes of a model by the names they read and write,
    and reads "" as a name that no node writes. Omitted outputs get names
    of their own, omitted inputs at the end of a node's list are dropped,
    and the omitted sequence lengths of a recurrent layer (whose initial
    states follow) are given as the full length of every sequence, which
    is what their omission means.
    """
    from onnx import TensorProto, helper

    nodes = []
    for index, node in enumerate(graph.node):
        for position, name in enumerate(node.output):
            if not name:
                node.output[position] = f"omitted_output_{index}_{position}"
        while node.input and not node.input[-1]:
            node.input.pop()
        omitted = [position for position, name in enumerate(node.input) if not name]
        if omitted == [4] and node.op_type in ("GRU", "LSTM", "RNN"):
            layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
            steps, batch, lengths = (f"sequence_{k}_{index}" for k in "sbl")
            nodes += [
                # X is (steps, batch, features), or (batch, steps, features)
                # with layout=1.
                helper.make_node(
                    "Shape", [node.input[0]], [steps], start=layout, end=layout + 1
                ),
                helper.make_node(
                    "Shape", [node.input[0]], [batch], start=1 - layout, end=2 - layout
                ),
                helper.make_node("Expand", [steps, batch], [lengths + "64"]),
                helper.make_node(
                    "Cast", [lengths + "64"], [lengths], to=TensorProto.INT32
                ),
            ]
            node.input[4] = lengths
        elif omitted:
            raise ValueError(
                f"torch.onnx.export wrote a {node.op_type} node that omits its "
                f"optional inputs {omitted}, which skl2onnx models cannot hold."
            )
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)


@contextlib.contextmanager
def _quiet_export():
    """Silence the exporter's internal deprecation warnings and its log lines."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            # torch.export's notes on nn.LSTM's cached weights, and on the
            # batch axis that inputs share.
            warnings.filterwarnings("ignore", "The tensor attributes", UserWarning)
            warnings.filterwarnings("ignore", "# The axis name", UserWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _inline_graph(scope, container, model, inputs, outputs):
    """Add the graph of ``model`` to ``container``, reading ``inputs``.

    The graph's outputs are written to the variables ``outputs``; every other
    name of it (nested graphs included) gets a prefix unique in ``scope``.
    """
    from onnx import TensorProto

    graph = model.graph
    prefix = scope.get_unique_variable_name("torch_network") + "_"
    names = {value.name: name for value, name in zip(graph.input, inputs)}
    names.update({value.name: name for value, name in zip(graph.output, outputs)})

    def rename(name):
        return names.get(name, prefix + name) if name else name

    for tensor in graph.initializer:
        renamed = TensorProto()
        renamed.CopyFrom(tensor)
        renamed.name = rename(tensor.name)
        container.initializers.append(renamed)
    for index, node in enumerate(graph.node):
        renamed = _renamed_node(node, rename)
        renamed.name = f"{prefix}{node.name or index}"
        container.nodes.append(renamed)
    versions = {entry.domain: entry.version for entry in model.opset_import}
    for domain in {node.domain for node in graph.node}:
        container.node_domain_version_pair_sets.add((domain, versions[domain]))


def _renamed_node(node, rename):
    """A copy of ``node`` whose names (and those of its subgraphs) ``rename`` maps."""
    renamed = type(node)()
    renamed.CopyFrom(node)
    renamed.input[:] = [rename(name) for name in node.input]
    renamed.output[:] = [rename(name) for name in node.output]
    for attribute in renamed.attribute:
        for graph in [attribute.g, *attribute.graphs]:
            for value in [*graph.input, *graph.output, *graph.value_info]:
                value.name = rename(value.name)
            for tensor in graph.initializer:
                tensor.name = rename(tensor.name)
            for inner in graph.node:
                inner.CopyFrom(_renamed_node(inner, rename))
    return renamed


# -- export forms: the networks without data-dependent shapes --------------------------
#
# For speed, RecurrentNet and TransformerEncoderNet drop the padding steps
# past the longest row of a batch, and EncoderWithHead the columns that are
# padding in every row: shapes read from the data, which torch.export
# cannot trace. Each form computes the same outputs over every step: the
# padding steps it keeps are masked out of attention and pooling, and come
# after every real step in both directions of a recurrence. EmbeddingBagNet
# averages token embeddings with nn.EmbeddingBag, which ONNX lacks.


def _export_form(module):
    """A module computing what ``module`` computes, with shapes torch.export traces."""
    if isinstance(module, RecurrentNet):
        return _RecurrentExport(module).eval()
    if isinstance(module, TransformerEncoderNet):
        return _TransformerEncoderExport(module).eval()
    if isinstance(module, EmbeddingBagNet) and isinstance(
        module.embedding, nn.EmbeddingBag
    ):
        return _EmbeddingBagExport(module).eval()
    return module


class _RecurrentExport(nn.Module):
    """:class:`~sklearn_histai.nn.RecurrentNet` over every step of the input."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def get_input_embeddings(self):
        return self.network.get_input_embeddings()

    def forward(self, X):
        network = self.network
        if network.embedding is None:
            X = X.reshape(X.shape[0], -1, network.n_features_per_step)
            inputs = X
        else:
            inputs = network.embedding(X)
        steps = torch.arange(inputs.shape[1])
        if network.padding_value is None:
            lengths = torch.full_like(
                inputs[:, 0, 0], inputs.shape[1], dtype=torch.int64
            )
        else:
            lengths = sequence_lengths(X, network.padding_value)
        real = steps < lengths[:, None]
        outputs, final = self._recurrence(inputs, lengths, steps, real)
        if network.pooling == "max":
            final = outputs.masked_fill(~real[:, :, None], -torch.inf).amax(dim=1)
        elif network.pooling == "mean":
            final = outputs.sum(dim=1) / lengths[:, None].to(outputs.dtype)
        return network.head(final)

    def _recurrence(self, x, lengths, steps, real):
        rnn = self.network.rnn
        # The backward direction reads each row's real steps reversed, its
        # padding left at the end; the order is its own inverse.
        reverse = torch.where(real, lengths[:, None] - 1 - steps, steps)
        for directions in rnn.layers:
            outputs = [directions[0](x)[0]]
            if rnn.bidirectional:
                backward = directions[1](_reorder(x, reverse))[0]
                outputs.append(_reorder(backward, reverse))
            x = torch.cat(outputs, dim=2)
        size = rnn.hidden_size
        last = (lengths - 1)[:, None, None].expand(-1, 1, size)
        final = x[:, :, :size].gather(1, last)[:, 0]
        if rnn.bidirectional:
            final = torch.cat([final, x[:, 0, size:]], dim=1)
        return x * real[:, :, None].to(x.dtype), final


def _reorder(x, index):
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


class _TransformerEncoderExport(nn.Module):
    """:class:`~sklearn_histai.nn.TransformerEncoderNet` over every input step."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def get_input_embeddings(self):
        return self.network.get_input_embeddings()

    def forward(self, X):
        network = self.network
        if network.embedding is None:
            X = X.reshape(X.shape[0], -1, network.n_features_per_step)
            x = network.input_projection(X)
        else:
            x = network.embedding(X)
            if network.input_projection is not None:
                x = network.input_projection(x)
        lengths = None
        if network.padding_value is not None:
            lengths = sequence_lengths(X, network.padding_value)
        if network.cls is not None:
            cls = network.cls.expand(x.shape[0], -1, -1).to(x.dtype)
            x = torch.cat([cls, x], dim=1)
            lengths = None if lengths is None else lengths + 1
        x = x + network.positions[: x.shape[1]].to(x.dtype)
        mask = None
        if lengths is not None:
            mask = (torch.arange(x.shape[1]) < lengths[:, None])[:, None, None, :]
        for block in network.blocks:
            x = block(x, mask)
        x = network.norm(x)
        if network.pooling == "cls":
            pooled = x[:, 0]
        elif mask is None:
            pooled = x.mean(dim=1)
        else:
            real = mask[:, 0, 0, :, None].to(x.dtype)
            pooled = (x * real).sum(dim=1) / lengths[:, None].to(x.dtype)
        return network.head(pooled)


class _EmbeddingBagExport(nn.Module):
    """:class:`~sklearn_histai.nn.EmbeddingBagNet` on token ids, without EmbeddingBag.

    The mean of the embeddings of each row's non-padding tokens and of its
    hashed word n-grams (zero for a row of padding only), written with
    lookups and sums: ONNX has no embedding-bag operator. An n-gram of
    length n starts at every column whose n columns are all tokens, as in
    the network, whose rows are right-padded.
    """

    def __init__(self, network):
        super().__init__()
        self.network = network

    def get_input_embeddings(self):
        return self.network.get_input_embeddings()

    def forward(self, X):
        network = self.network
        bag = network.embedding
        embedded = nn.functional.embedding(X, bag.weight)
        if bag.padding_idx is None:
            is_token = torch.ones_like(X, dtype=torch.bool)
        else:
            is_token = X != bag.padding_idx
        weights = is_token.to(embedded.dtype)
        total = (embedded * weights[:, :, None]).sum(dim=1)
        n_items = weights.sum(dim=1)
        if network.ngram_embedding is not None:
            width = X.shape[1]
            for length in range(2, network.word_ngrams + 1):
                n_starts = width - length + 1
                buckets = X[:, :n_starts] % network.ngram_buckets
                complete = is_token[:, :n_starts]
                for offset in range(1, length):
                    following = X[:, offset : offset + n_starts]
                    buckets = network.extend_ngrams(buckets, following)
                    complete = complete & is_token[:, offset : offset + n_starts]
                vectors = nn.functional.embedding(
                    buckets, network.ngram_embedding.weight
                )
                complete = complete.to(embedded.dtype)
                total = total + (vectors * complete[:, :, None]).sum(dim=1)
                n_items = n_items + complete.sum(dim=1)
        return network.head(total / n_items.clamp(min=1)[:, None])


class _EncoderWithHeadExport(nn.Module):
    """:class:`~sklearn_histai.nn.EncoderWithHead` over every column of the input."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, input_ids, attention_mask):
        network = self.network
        output = network.encoder(input_ids=input_ids, attention_mask=attention_mask)
        states = getattr(output, "last_hidden_state", None)
        if states is None:
            states = output[0]
        return network.head(network.pool(states, attention_mask))
