"""Discovery of the public estimators of sklearn_histai, in scikit-learn's pattern."""

import inspect
import pkgutil
import warnings
from importlib import import_module
from operator import itemgetter
from pathlib import Path

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    DensityMixin,
    RegressorMixin,
    TransformerMixin,
)

_MODULES_TO_IGNORE = {"tests"}
_TYPE_FILTERS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
    "density": DensityMixin,
}


def _is_abstract(cls):
    return bool(getattr(cls, "__abstractmethods__", None))


def _public_modules():
    root = str(Path(__file__).parent.parent)
    for _, module_name, _ in pkgutil.walk_packages(
        path=[root], prefix="sklearn_histai."
    ):
        parts = module_name.split(".")
        if any(part in _MODULES_TO_IGNORE for part in parts) or "._" in module_name:
            continue
        try:
            yield import_module(module_name)
        except ImportError as exc:
            # An optional extra (peft, transformers, ...) is missing: its
            # estimators are simply not available in this environment.
            warnings.warn(
                f"Skipping {module_name} during discovery: {exc}", stacklevel=3
            )


def all_estimators(type_filter=None):
    """Get a list of all public estimators of sklearn_histai.

    This function crawls the package and collects every class that inherits
    from :class:`~sklearn.base.BaseEstimator`, has a ``fit`` method, is not
    abstract, and whose name does not start with ``_`` or ``Base``. Classes
    defined in test modules are not included.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "cluster", "transformer", \
            "density"} or list of such str, default=None
        Which kind of estimators should be returned. If None, no filter is
        applied and all estimators are returned. With a list, the estimators
        of at least one of the kinds are returned.

    Returns
    -------
    estimators : list of (str, type) tuples
        The class names and the classes, sorted by name.

    Examples
    --------
    >>> from sklearn_histai.utils import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="regressor")]
    >>> "LeastSquaresRegressor" in names
    True
    """
    found = set()
    for module in _public_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                not name.startswith(("_", "Base"))
                and cls.__module__.startswith("sklearn_histai.")
                and issubclass(cls, BaseEstimator)
                # Parameterised helpers such as TextAnalyzer borrow
                # BaseEstimator's get_params/set_params but learn nothing.
                and callable(getattr(cls, "fit", None))
                and not _is_abstract(cls)
            ):
                found.add((name, cls))

    if type_filter is not None:
        kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = [kind for kind in kinds if kind not in _TYPE_FILTERS]
        if unknown:
            raise ValueError(
                f"Parameter type_filter must be one of {sorted(_TYPE_FILTERS)} or "
                f"None, got {unknown!r}."
            )
        found = {
            (name, cls)
            for name, cls in found
            if any(issubclass(cls, _TYPE_FILTERS[kind]) for kind in kinds)
        }
    return sorted(found, key=itemgetter(0))
