"""
===================================================
An autoencoder's map of the digits, next to PCA's
===================================================

:class:`~sklearn_histai.neural_network.AutoencoderTransformer` learns,
without labels, to squeeze each 8 x 8 digit into a code of two numbers and
to rebuild the image from it. PCA does the same with a linear map; the
autoencoder's encoder and decoder are small neural networks, so its
two-dimensional code can bend around the data. Both codes are drawn below,
coloured by the digit they came from (which neither model saw), with the
adjusted Rand index of KMeans on each code, and a few reconstructions.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from sklearn_histai.neural_network import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16

models = {
    "PCA": PCA(n_components=2, random_state=0),
    "autoencoder": AutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(128, 32), random_state=0
    ),
}
codes, errors, scores = {}, {}, {}
for name, model in models.items():
    codes[name] = model.fit_transform(X)
    reconstruction = model.inverse_transform(codes[name])
    errors[name] = float(((reconstruction - X) ** 2).mean())
    clusters = KMeans(10, n_init=10, random_state=0).fit_predict(codes[name])
    scores[name] = adjusted_rand_score(y, clusters)
    print(
        f"{name}: reconstruction MSE {errors[name]:.4f}, KMeans ARI {scores[name]:.3f}"
    )

# %%
# The two maps. Each point is a digit, placed by its code.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, code) in zip(axes, codes.items()):
    points = ax.scatter(code[:, 0], code[:, 1], c=y, cmap="tab10", s=6)
    ax.set_title(
        f"{name}: MSE {errors[name]:.3f}, KMeans ARI {scores[name]:.2f}", fontsize=10
    )
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()

# %%
# Reconstructions from two numbers: the originals on top, then PCA's, then
# the autoencoder's.
rows = [("original", X)] + [
    (name, models[name].inverse_transform(codes[name])) for name in models
]
picks = np.arange(0, 100, 10)
fig, axes = plt.subplots(len(rows), len(picks), figsize=(8, 2.6))
for (name, images), row in zip(rows, axes):
    for ax, index in zip(row, picks):
        ax.imshow(images[index].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
plt.show()
