"""ONNX converters of the classical estimators: linear models, trees, rule lists.

Every graph computes in double precision whatever its input type: a float32
or int64 input is cast to double first (exactly), so that the thresholds of
trees and rule lists, which are float64, are compared as NumPy compares
them, and the linear models compute in float64 as the estimators do. The
outputs have the input's type (float for anything but double), as those of
skl2onnx's own converters.
"""

import numpy as np

from sklearn_histai.deploy._onnx_common import (
    check_input_width,
    label_classes,
    output_tensor_type,
)
from sklearn_histai.linear_model import LeastSquaresRegressor, LogisticRegression
from sklearn_histai.rules import RuleListClassifier
from sklearn_histai.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn_histai.tree._tree import TREE_LEAF

# Opset 13 fixes the semantics of Softmax on an axis; the ONNX-ML opset 3
# gives the tree ensembles double thresholds (``nodes_values_as_tensor``).
MIN_OPSET = 13
MIN_ML_OPSET = 3

# The trees return the ordinal of the leaf as a float32 target weight:
# integers are exact in float32 up to 2**24.
_MAX_LEAVES = 2**24

CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False]}


class _Graph:
    """Add constants and nodes to a skl2onnx container, under unique names."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def constant(self, hint, value):
        """Add ``value`` as an initializer and return its name."""
        from onnx import TensorProto, helper

        value = np.asarray(value)
        name = self.scope.get_unique_variable_name(hint)
        if value.dtype.kind in "OUS":
            content = [str(item).encode("utf-8") for item in value.ravel()]
            self.container.add_initializer(
                name, TensorProto.STRING, list(value.shape), content
            )
        else:
            onnx_type = helper.np_dtype_to_tensor_dtype(value.dtype)
            self.container.add_initializer(
                name, onnx_type, list(value.shape), value.ravel().tolist()
            )
        return name

    def op(self, op_type, inputs, output=None, *, domain="", version=None, **attrs):
        """Add a node with one output and return the output's name."""
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            [output],
            op_domain=domain,
            op_version=version,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output


def _check_opsets(container, *, ml=False):
    """Raise a ValueError when the targeted opsets lack what the graph uses."""
    needed = [("", MIN_OPSET)] + ([("ai.onnx.ml", MIN_ML_OPSET)] if ml else [])
    for domain, least in needed:
        opset = container.target_opset_any_domain(domain)
        if opset is not None and opset < least:
            name = domain or "the main domain"
            raise ValueError(
                f"The sklearn_histai ONNX converters need opset {least} or later "
                f"for {name}, got target_opset={container.target_opset_all!r}; "
                f'pass e.g. target_opset={{"": 18, "ai.onnx.ml": 3}}.'
            )


def _input_as_double(graph, operator):
    """Return the name of the operator's input cast to double (if it is not)."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    variable = operator.inputs[0]
    if isinstance(variable.type, DoubleTensorType):
        return variable.full_name
    return graph.op("Cast", [variable.full_name], to=TensorProto.DOUBLE)


def _write_output(graph, name, variable):
    """Write the double ``name`` into ``variable``, cast to its type."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    if isinstance(variable.type, DoubleTensorType):
        graph.op("Identity", [name], variable.full_name)
    else:
        graph.op("Cast", [name], variable.full_name, to=TensorProto.FLOAT)


def _check_single_input(operator, n_outputs):
    """Raise unless the operator has one numeric input of ``n_features_in_`` columns."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator,
        good_input_types=[DoubleTensorType, FloatTensorType, Int64TensorType],
    )
    check_input_width(operator)


def _label_classes(scope, model):
    """The class labels of a single-output classifier (see ``label_classes``)."""
    if getattr(model, "n_outputs_", 1) != 1:
        raise ValueError(
            f"Converting a {type(model).__name__} fitted on several outputs "
            f"(n_outputs_={model.n_outputs_}) to ONNX is not supported; fit one "
            "classifier per output."
        )
    return label_classes(scope, model)


def _classifier_shape(operator):
    """Declare a classifier's outputs: the label and the probabilities."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    _check_single_input(operator, 2)
    classes = _label_classes(operator.scope_inst, operator.raw_operator)
    n_samples = operator.inputs[0].get_first_dimension()
    label_type = StringTensorType if classes.dtype == object else Int64TensorType
    operator.outputs[0].set_type(label_type([n_samples]))
    operator.outputs[1].set_type(
        output_tensor_type(operator)([n_samples, classes.size])
    )


def _single_output(model):
    """Tell whether ``predict`` returns a 1-D array (one target, fitted 1-D)."""
    if isinstance(model, DecisionTreeRegressor):
        return model.n_outputs_ == 1
    return np.ndim(model.coef_) == 1


def _regressor_shape(operator):
    """Declare a regressor's output, of the shape ``predict`` returns."""
    _check_single_input(operator, 1)
    model = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    if _single_output(model):
        shape = [n_samples]
    elif isinstance(model, DecisionTreeRegressor):
        shape = [n_samples, model.n_outputs_]
    else:
        shape = [n_samples, model.coef_.shape[0]]
    operator.outputs[0].set_type(output_tensor_type(operator)(shape))


def _write_classifier_outputs(graph, operator, index, proba_table, label_table):
    """Write the labels and probabilities, gathered by the int64 ``index``.

    ``index`` selects, for each sample, a row of ``proba_table`` and an
    entry of ``label_table`` (a leaf of a tree, a rule of a list).
    """
    proba = graph.op("Gather", [graph.constant("proba_table", proba_table), index])
    graph.op(
        "Gather",
        [graph.constant("label_table", label_table), index],
        operator.outputs[0].full_name,
    )
    _write_output(graph, proba, operator.outputs[1])


def _convert_least_squares(scope, operator, container):
    """Convert a LeastSquaresRegressor: ``X @ coef_.T + intercept_``."""
    _check_opsets(container)
    graph = _Graph(scope, container)
    model = operator.raw_operator
    X = _input_as_double(graph, operator)
    # A 1-D coef_ gives 1-D predictions, as predict does.
    coef = graph.constant("coef", np.asarray(model.coef_, dtype=np.float64).T)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    prediction = graph.op(
        "Add", [graph.op("MatMul", [X, coef]), graph.constant("intercept", intercept)]
    )
    _write_output(graph, prediction, operator.outputs[0])


def _convert_logistic(scope, operator, container):
    """Convert a LogisticRegression: sigmoid (binary) or softmax of the scores."""
    from onnx import TensorProto

    _check_opsets(container)
    graph = _Graph(scope, container)
    model = operator.raw_operator
    classes = _label_classes(scope, model)
    X = _input_as_double(graph, operator)
    scores = graph.op(
        "Gemm",
        [
            X,
            graph.constant("coef", model.coef_.astype(np.float64)),
            graph.constant("intercept", model.intercept_.astype(np.float64)),
        ],
        transB=1,
    )
    if model.coef_.shape[0] == 1:
        # predict_proba: [1 - expit(s), expit(s)]; predict: classes_[s > 0].
        positive = graph.op("Sigmoid", [scores])
        negative = graph.op("Sub", [graph.constant("one", np.ones(1)), positive])
        proba = graph.op("Concat", [negative, positive], axis=1)
        above = graph.op("Greater", [scores, graph.constant("zero", np.zeros(1))])
        index = graph.op(
            "Reshape",
            [
                graph.op("Cast", [above], to=TensorProto.INT64),
                graph.constant("flat", np.array([-1], dtype=np.int64)),
            ],
        )
    else:
        proba = graph.op("Softmax", [scores], axis=1)
        # ArgMax keeps the first of tied maxima, as numpy's argmax.
        index = graph.op("ArgMax", [scores], axis=1, keepdims=0)
    graph.op(
        "Gather",
        [graph.constant("classes", classes), index],
        operator.outputs[0].full_name,
    )
    _write_output(graph, proba, operator.outputs[1])


def _tree_leaf_ordinal(graph, X, tree):
    """Return the int64 ordinal of the leaf each sample reaches, shape (n,).

    One ONNX-ML TreeEnsembleRegressor whose thresholds are doubles
    (``nodes_values_as_tensor``) and whose leaves output their own ordinal
    among the leaves: the double leaf values are then gathered in double,
    where the operator's float outputs would round them.
    """
    from onnx import TensorProto, numpy_helper

    leaf = tree.children_left == TREE_LEAF
    n_leaves = int(np.count_nonzero(leaf))
    if n_leaves > _MAX_LEAVES:
        raise ValueError(
            f"A tree of {n_leaves} leaves cannot be converted to ONNX: its leaf "
            f"ordinals are exact float32 numbers only up to {_MAX_LEAVES}."
        )
    nodes = np.arange(tree.node_count)
    zeros = np.zeros(tree.node_count, dtype=np.int64)
    leaf_ids = np.flatnonzero(leaf)
    leaves = graph.op(
        "TreeEnsembleRegressor",
        [X],
        domain="ai.onnx.ml",
        version=MIN_ML_OPSET,
        n_targets=1,
        aggregate_function="SUM",
        post_transform="NONE",
        nodes_treeids=zeros.tolist(),
        nodes_nodeids=nodes.tolist(),
        nodes_featureids=np.where(leaf, 0, tree.feature).tolist(),
        nodes_modes=["LEAF" if is_leaf else "BRANCH_LEQ" for is_leaf in leaf],
        nodes_values_as_tensor=numpy_helper.from_array(
            np.where(leaf, 0.0, tree.threshold).astype(np.float64)
        ),
        nodes_truenodeids=np.where(leaf, 0, tree.children_left).tolist(),
        nodes_falsenodeids=np.where(leaf, 0, tree.children_right).tolist(),
        # A NaN goes left, as ``not x > threshold`` sends it in Tree.apply.
        nodes_missing_value_tracks_true=np.where(leaf, 0, 1).tolist(),
        target_treeids=[0] * n_leaves,
        target_nodeids=leaf_ids.tolist(),
        target_ids=[0] * n_leaves,
        target_weights=np.arange(n_leaves, dtype=np.float32).tolist(),
    )
    return graph.op(
        "Reshape",
        [
            graph.op("Cast", [leaves], to=TensorProto.INT64),
            graph.constant("flat", np.array([-1], dtype=np.int64)),
        ],
    )


def _convert_tree_classifier(scope, operator, container):
    """Convert a DecisionTreeClassifier: the leaf, then its proportions and class."""
    _check_opsets(container, ml=True)
    graph = _Graph(scope, container)
    model = operator.raw_operator
    classes = _label_classes(scope, model)
    tree = model.tree_
    leaf = tree.children_left == TREE_LEAF
    proba_table = tree.value[leaf, 0, : classes.size].astype(np.float64)
    index = _tree_leaf_ordinal(graph, _input_as_double(graph, operator), tree)
    _write_classifier_outputs(
        graph, operator, index, proba_table, classes[proba_table.argmax(axis=1)]
    )


def _convert_tree_regressor(scope, operator, container):
    """Convert a DecisionTreeRegressor: the leaf, then its mean targets."""
    _check_opsets(container, ml=True)
    graph = _Graph(scope, container)
    tree = operator.raw_operator.tree_
    leaf = tree.children_left == TREE_LEAF
    index = _tree_leaf_ordinal(graph, _input_as_double(graph, operator), tree)
    values = tree.value[leaf, :, 0].astype(np.float64)
    if _single_output(operator.raw_operator):
        values = values[:, 0]
    values = graph.constant("leaf_values", values)
    _write_output(graph, graph.op("Gather", [values, index]), operator.outputs[0])


_COMPARISONS = {"<=": "LessOrEqual", ">": "Greater", "==": "Equal"}


def _first_firing_rule(graph, X, rules):
    """Return the int64 index of the first rule whose conditions all hold.

    The conditions of all rules are tested at once on the gathered columns
    of X; a product with the (condition, rule) membership matrix counts the
    failed conditions of each rule, and ArgMax picks the first rule with
    none. The last, default rule has no condition and always fires.
    """
    from onnx import TensorProto, numpy_helper

    conditions = [
        (rule_index, condition)
        for rule_index, rule in enumerate(rules)
        for condition in rule.conditions
    ]
    if not conditions:
        # Only the default rule: its index, 0, for every sample.
        n_samples = graph.op(
            "Slice",
            [
                graph.op("Shape", [X]),
                graph.constant("start", np.array([0], dtype=np.int64)),
                graph.constant("stop", np.array([1], dtype=np.int64)),
            ],
        )
        zero = numpy_helper.from_array(np.zeros(1, dtype=np.int64))
        return graph.op("ConstantOfShape", [n_samples], value=zero)
    features = np.array([c.feature for _, c in conditions], dtype=np.int64)
    values = np.array([c.value for _, c in conditions], dtype=np.float64)
    operators = np.array([c.operator for _, c in conditions])
    columns = graph.op("Gather", [X, graph.constant("features", features)], axis=1)
    values = graph.constant("values", values)
    # Each condition keeps the comparison of its own operator: the OR over
    # the operators of (comparison AND is-this-operator). onnxruntime has no
    # boolean Where.
    present = np.unique(operators)
    holds = None
    for operator_name in present:
        op_type = _COMPARISONS[operator_name]
        tested = graph.op(op_type, [columns, values])
        if present.size > 1:
            mask = graph.constant("is_" + op_type.lower(), operators == operator_name)
            tested = graph.op("And", [tested, mask])
        holds = tested if holds is None else graph.op("Or", [holds, tested])
    membership = np.zeros((len(conditions), len(rules)))
    membership[np.arange(len(conditions)), [r for r, _ in conditions]] = 1.0
    failed = graph.op(
        "MatMul",
        [
            graph.op("Cast", [graph.op("Not", [holds])], to=TensorProto.DOUBLE),
            graph.constant("membership", membership),
        ],
    )
    fires = graph.op(
        "Cast",
        [graph.op("Equal", [failed, graph.constant("zero", np.zeros(1))])],
        to=TensorProto.DOUBLE,
    )
    return graph.op("ArgMax", [fires], axis=1, keepdims=0)


def _convert_rule_list(scope, operator, container):
    """Convert a RuleListClassifier: the first rule that fires gives the class."""
    _check_opsets(container)
    graph = _Graph(scope, container)
    model = operator.raw_operator
    classes = _label_classes(scope, model)
    rules = model.rules_
    index = _first_firing_rule(graph, _input_as_double(graph, operator), rules)
    counts = np.array([rule.class_counts for rule in rules], dtype=np.float64)
    proba_table = (counts + 1) / (counts.sum(axis=1, keepdims=True) + counts.shape[1])
    label_table = classes[counts.argmax(axis=1)]
    _write_classifier_outputs(graph, operator, index, proba_table, label_table)


def converters():
    """Return the converter of each classical estimator.

    Returns
    -------
    converters : dict
        Maps each estimator class to ``(shape_calculator, converter,
        options)``, the arguments of ``skl2onnx.update_registered_converter``.
    """
    return {
        LeastSquaresRegressor: (_regressor_shape, _convert_least_squares, None),
        LogisticRegression: (_classifier_shape, _convert_logistic, CLASSIFIER_OPTIONS),
        DecisionTreeClassifier: (
            _classifier_shape,
            _convert_tree_classifier,
            CLASSIFIER_OPTIONS,
        ),
        DecisionTreeRegressor: (_regressor_shape, _convert_tree_regressor, None),
        RuleListClassifier: (_classifier_shape, _convert_rule_list, CLASSIFIER_OPTIONS),
    }


def register():
    """Register the converters of the classical estimators with skl2onnx.

    Calling it again registers the same converters again, which changes
    nothing.
    """
    from skl2onnx import update_registered_converter

    for estimator, (shape, convert, options) in converters().items():
        update_registered_converter(
            estimator,
            f"SklearnHistai{estimator.__name__}",
            shape,
            convert,
            options=options,
        )
