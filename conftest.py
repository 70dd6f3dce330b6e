"""Test-session configuration shared by the test suite and the doctests."""

import os

# Headless plotting for the doctests and the gallery scripts.
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

# Several test workers share two cores: one intra-op thread each avoids
# oversubscription (the estimators also do this on their own for small nets).
torch.set_num_threads(1)
