"""The autoencoder against PCA at the same code size: reconstruction and clusters.

For each data set and code size (``n_components``), scikit-learn's
:class:`~sklearn.decomposition.PCA` and
:class:`~sklearn_histai.neural_network.AutoencoderTransformer` (dense, with
its defaults; and convolutional, ``image_shape`` set with
``hidden_layer_sizes=(16, 32)``) learn from the training rows; the table gives
the mean squared reconstruction error of the test rows in the original pixel
scale ([0, 1]), the fit time, and the adjusted Rand index and normalised
mutual information of :class:`~sklearn.cluster.KMeans` (as many clusters as
classes) on the test codes against the classes. Data: ``load_digits``
(1,347 training and 450 test images of 8 x 8) and Fashion-MNIST (the first
``--fashion-train`` training and ``--fashion-test`` test images of 28 x 28;
skipped when the data set is absent). The networks train on one thread
with early stopping on a held-out tenth, for at most their default 200
epochs on digits and ``--max-iter`` (50) on Fashion-MNIST.

Run ``python benchmarks/bench_autoencoder.py [--quick]``; the user guide's
"Beyond one supervised model" page shows its figures.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _report import table
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import train_test_split

from sklearn_histai.neural_network import AutoencoderTransformer

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def _data_sets(args):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=450, random_state=0, stratify=y
    )
    yield "digits", (8, 8), X_train, X_test, y_test
    try:
        from sklearn_histai.datasets import load_fashion_mnist

        X_train, _ = load_fashion_mnist("train", return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", return_X_y=True)
    except (FileNotFoundError, ImportError) as exc:
        print(f"(Fashion-MNIST skipped: {exc})")
        return
    X_train = (X_train[: args.fashion_train] / 255).astype(np.float32)
    X_test = (X_test[: args.fashion_test] / 255).astype(np.float32)
    yield "Fashion-MNIST", (28, 28), X_train, X_test, y_test[: args.fashion_test]


def _models(n_components, image_shape, max_iter):
    common = dict(n_components=n_components, max_iter=max_iter, random_state=0)
    yield "PCA", PCA(n_components, random_state=0)
    yield "autoencoder", AutoencoderTransformer(**common)
    yield (
        "conv. autoencoder",
        AutoencoderTransformer(
            image_shape=image_shape, hidden_layer_sizes=(16, 32), **common
        ),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, a smoke run")
    parser.add_argument("--components", type=int, nargs="+", default=[2, 16, 32])
    parser.add_argument("--fashion-train", type=int, default=10_000)
    parser.add_argument("--fashion-test", type=int, default=2_000)
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.components, args.max_iter = [2], 3
        args.fashion_train, args.fashion_test = 500, 200
    torch.set_num_threads(args.threads)
    rows = []
    for name, shape, X_train, X_test, y_test in _data_sets(args):
        n_classes = len(np.unique(y_test))
        for n_components in args.components:
            pca_error = None
            # The default 200 epochs on digits; fewer on the larger set, whose
            # epochs hold more steps.
            max_iter = 200 if name == "digits" else args.max_iter
            for model_name, model in _models(n_components, shape, max_iter):
                start = time.perf_counter()
                model.fit(X_train)
                seconds = time.perf_counter() - start
                codes = model.transform(X_test)
                error = float(((model.inverse_transform(codes) - X_test) ** 2).mean())
                pca_error = error if pca_error is None else pca_error
                labels = KMeans(n_classes, n_init=10, random_state=0).fit_predict(codes)
                rows.append(
                    (
                        name,
                        n_components,
                        model_name,
                        f"{error:.4f}",
                        f"{error / pca_error:.2f}",
                        f"{seconds:.1f}",
                        f"{adjusted_rand_score(y_test, labels):.3f}",
                        f"{normalized_mutual_info_score(y_test, labels):.3f}",
                    )
                )
                print(rows[-1], flush=True)
    table(
        "Reconstruction of the test images and KMeans on their codes (one seed)",
        rows,
        ["data", "code", "model", "test MSE", "vs PCA", "fit s", "ARI", "NMI"],
    )


if __name__ == "__main__":
    main()
