"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package."""

import gzip
from pathlib import Path

import numpy as np

DEFAULT_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _read_idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_fashion_mnist(subset="train", *, directory=None, return_X_y=False):
    """Load Fashion-MNIST: 28×28 grey images of clothes in 10 classes.

    The files come from Debian's ``dataset-fashion-mnist`` package
    (``apt-get install dataset-fashion-mnist``); nothing is downloaded.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.
    directory : str or path-like, default=None
        Folder of the four ``*-idx?-ubyte.gz`` files; None means
        ``/usr/share/datasets/fashion-mnist``.
    return_X_y : bool, default=False
        Whether to return ``(X, y)`` instead of a dict.

    Returns
    -------
    data : dict or tuple
        ``X`` of shape (n_samples, 784) and dtype uint8 (flat rows; read them
        as images with ``image_shape=(1, 28, 28)``), ``y`` of shape
        (n_samples,) with labels 0-9, and ``class_names``.

    Examples
    --------
    >>> from sklearn_histai.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist("test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (10000, 784)
    """
    if subset not in ("train", "test"):
        raise ValueError(f'subset must be "train" or "test", got {subset!r}.')
    directory = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    prefix = "train" if subset == "train" else "t10k"
    images = directory / f"{prefix}-images-idx3-ubyte.gz"
    labels = directory / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.exists() or not labels.exists():
        raise FileNotFoundError(
            f"Fashion-MNIST files not found in {directory}. Install them with "
            "`apt-get install dataset-fashion-mnist` or pass directory=."
        )
    X = _read_idx(images, 16).reshape(-1, 28 * 28)
    y = _read_idx(labels, 8).astype(np.int64)
    if return_X_y:
        return X, y
    return {"X": X, "y": y, "class_names": CLASS_NAMES}
