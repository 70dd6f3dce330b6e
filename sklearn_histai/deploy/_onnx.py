"""ONNX export: this package's converters, registered with skl2onnx."""

from sklearn.utils.validation import check_is_fitted

# Opset 18 of the main domain and 3 of ONNX-ML (double tree thresholds),
# the pair that skl2onnx associates (its OPSET_ML_TO_OPSET maps 3 to 18).
DEFAULT_TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}


def _import_skl2onnx():
    """Import skl2onnx, or raise an ImportError naming the extra to install."""
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            "Exporting to ONNX needs skl2onnx, onnx and onnxruntime, which the "
            "deploy extra installs: pip install sklearn-histai[deploy]"
        ) from exc
    return skl2onnx


def register_onnx_converters():
    """Register the ONNX converters of this package's estimators with skl2onnx.

    After this call, ``skl2onnx.to_onnx`` and ``skl2onnx.convert_sklearn``
    convert the numeric estimators of :mod:`sklearn_histai`, alone or as
    steps of a scikit-learn :class:`~sklearn.pipeline.Pipeline`. Calling it
    again registers the same converters again, which changes nothing.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (it comes with the ``deploy`` extra).

    See Also
    --------
    to_onnx : Register the converters and convert an estimator.

    Notes
    -----
    The classical estimators convert to ONNX graphs that compute in double
    precision whatever the input type:
    :class:`~sklearn_histai.linear_model.LeastSquaresRegressor` and
    :class:`~sklearn_histai.linear_model.LogisticRegression` as a matrix
    product followed by a sigmoid or a softmax,
    :class:`~sklearn_histai.tree.DecisionTreeClassifier` and
    :class:`~sklearn_histai.tree.DecisionTreeRegressor` as an ONNX-ML
    ``TreeEnsembleRegressor`` with double thresholds that finds the leaf,
    whose values are then gathered in double, and
    :class:`~sklearn_histai.rules.RuleListClassifier` as comparisons of the
    input with the thresholds of all its conditions and the first rule that
    fires. The neural estimators convert through ``torch.onnx.export`` of
    their fitted network.

    Classifiers have two outputs, as skl2onnx's own: the labels (int64 for
    integer, boolean or integral float classes, strings for string classes)
    and the probabilities. They accept skl2onnx's ``zipmap`` and ``nocl``
    options; ONNX's ZipMap takes only float probabilities, so with double
    input pass ``options={"zipmap": False}``.
    Regressors have one output, of the shape ``predict`` returns: 1-D for
    one target, one column a target otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> import skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_histai.deploy import register_onnx_converters
    >>> from sklearn_histai.tree import DecisionTreeClassifier
    >>> register_onnx_converters()
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    >>> onx = skl2onnx.to_onnx(
    ...     clf,
    ...     X[:1],
    ...     target_opset={"": 18, "ai.onnx.ml": 3},
    ...     options={"zipmap": False},
    ... )
    >>> session = onnxruntime.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool(np.array_equal(labels, clf.predict(X)))
    True
    >>> bool(np.array_equal(proba, clf.predict_proba(X)))
    True
    """
    _import_skl2onnx()
    from sklearn_histai.deploy import _onnx_classical, _onnx_networks

    _onnx_classical.register()
    _onnx_networks.register()


def _convertible_estimators():
    """Return the names of this package's estimators that skl2onnx can convert."""
    from skl2onnx import get_model_alias

    from sklearn_histai.utils import all_estimators

    names = []
    for name, cls in all_estimators():
        try:
            get_model_alias(cls)
        except RuntimeError:
            continue
        names.append(name)
    return names


def to_onnx(estimator, X=None, **kwargs):
    """Convert a fitted estimator or pipeline to an ONNX model.

    Registers this package's converters (:func:`register_onnx_converters`)
    and calls ``skl2onnx.to_onnx``, with ``target_opset`` defaulting to
    ``{"": 18, "ai.onnx.ml": 3}``.

    Parameters
    ----------
    estimator : estimator object
        A fitted estimator of this package, or a scikit-learn pipeline or
        meta-estimator whose steps skl2onnx or this package convert.

    X : array-like of shape (n_samples, n_features), default=None
        Samples whose type and number of features give the model's input
        type (float64 gives a double input, float32 a float input); None
        when ``initial_types`` is passed.

    **kwargs : dict
        Further keyword arguments of ``skl2onnx.to_onnx``, e.g. ``options``
        (``{"zipmap": False}`` for classifiers), ``initial_types`` or
        ``target_opset``.

    Returns
    -------
    onx : onnx.ModelProto
        The ONNX model.

    Raises
    ------
    NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If a step of ``estimator`` has no ONNX converter; the message lists
        the estimators of this package that convert.

    See Also
    --------
    register_onnx_converters : Register the converters, for skl2onnx's own
        functions.

    Notes
    -----
    Computing in double with a double input, the ONNX model reproduces
    ``predict`` and ``predict_proba`` of the classical estimators to the
    rounding of the last digit (the trees and rule lists exactly). A float32
    input is cast to double inside the graph, as the estimators cast it,
    and the outputs are float32.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_histai.deploy import to_onnx
    >>> from sklearn_histai.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> onx = to_onnx(pipe, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(
    ...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool(np.array_equal(labels, pipe.predict(X)))
    True
    >>> bool(np.allclose(proba, pipe.predict_proba(X), rtol=0, atol=1e-12))
    True
    """
    check_is_fitted(estimator)
    skl2onnx = _import_skl2onnx()
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator

    register_onnx_converters()
    kwargs.setdefault("target_opset", dict(DEFAULT_TARGET_OPSET))
    try:
        return skl2onnx.to_onnx(estimator, X, **kwargs)
    except (MissingShapeCalculator, MissingConverter) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise TypeError(
            f"{first_line} No ONNX converter is registered for that type. "
            "The estimators of sklearn_histai that convert are: "
            f"{', '.join(_convertible_estimators())}."
        ) from exc
