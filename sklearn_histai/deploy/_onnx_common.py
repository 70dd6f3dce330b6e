"""What the ONNX converters of the classical and neural estimators share."""

import numbers

import numpy as np


def output_tensor_type(operator):
    """The tensor type of the outputs: double for double input, else float.

    Parameters
    ----------
    operator : skl2onnx operator
        The operator being converted.

    Returns
    -------
    tensor_type : type
        ``DoubleTensorType`` or ``FloatTensorType``, as skl2onnx chooses.
    """
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def label_classes(scope, model):
    """The class labels as int64 or as strings, as skl2onnx decodes them.

    Integer, boolean and integral float labels become int64 labels, strings
    string labels (an object array); with the ``nocl`` option the labels
    are the class indices.

    Parameters
    ----------
    scope : skl2onnx scope
        The conversion's scope, which holds the options.
    model : estimator object
        The fitted classifier.

    Returns
    -------
    labels : ndarray of shape (n_classes,)
        int64, or object holding str.
    """
    from skl2onnx.common.utils_classifier import get_label_classes

    classes = np.asarray(get_label_classes(scope, model))
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    labels = classes.tolist()
    if all(isinstance(label, str) for label in labels):
        return np.array(labels, dtype=object)
    if all(
        isinstance(label, numbers.Real) and float(label).is_integer()
        for label in labels
    ):
        return np.array([int(label) for label in labels], dtype=np.int64)
    raise ValueError(
        f"The classes of {type(model).__name__} must be all integers or all "
        f"strings to be converted to ONNX labels, got {classes!r}."
    )


def check_input_width(operator):
    """Raise unless the operator's first input has ``n_features_in_`` columns.

    Parameters
    ----------
    operator : skl2onnx operator
        The operator being converted; its raw operator is the estimator.
    """
    model = operator.raw_operator
    shape = operator.inputs[0].type.shape
    width = shape[1] if len(shape) == 2 else None
    if len(shape) != 2 or (
        isinstance(width, numbers.Integral)
        and width > 0
        and width != model.n_features_in_
    ):
        raise ValueError(
            f"The input of {type(model).__name__} must have shape (n_samples, "
            f"{model.n_features_in_}), the features seen in fit; got {list(shape)}."
        )
