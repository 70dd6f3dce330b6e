"""From a fitted estimator to production: compression, export and persistence.

The functions here take a fitted estimator of this package and return a
fitted estimator with the same API (:func:`quantize`, :func:`prune`), train
a smaller student on a teacher's knowledge (:class:`DistilledClassifier`),
and register converters so that ``skl2onnx.to_onnx`` exports the package's
numeric estimators (:func:`register_onnx_converters`). Safe persistence with
``skops.io`` and serving with MLflow need no function of their own; the
user guide's "Deployment" page shows both.
"""

from sklearn_histai.deploy._distill import DistilledClassifier
from sklearn_histai.deploy._onnx import register_onnx_converters, to_onnx
from sklearn_histai.deploy._onnx_networks import export_transformer
from sklearn_histai.deploy._prune import prune
from sklearn_histai.deploy._quantize import quantize

__all__ = [
    "DistilledClassifier",
    "export_transformer",
    "prune",
    "quantize",
    "register_onnx_converters",
    "to_onnx",
]
