"""
==============================================
Adversarial training against an evasion attack
==============================================

A network that classifies handwritten digits well can be fooled by small,
deliberate changes to its input. The fast gradient method (FGM; Goodfellow
et al., 2015) moves each image by a fixed L2 distance ``epsilon`` in the
direction that increases the network's loss most;
:func:`~sklearn_histai.neural_network.adversarial_examples` computes these
perturbed images for any fitted network on continuous input.

Adversarial training fits the network on the clean and the perturbed
version of every mini-batch. Here three
:class:`~sklearn_histai.neural_network.CNNClassifier` models read
scikit-learn's 8x8 digits: one trained normally, one against FGM
(``adversarial="fgm"``) and one against projected gradient descent
(``adversarial="pgd"``, three projected steps; Madry et al., 2018), both
with a radius of 1.0 per image. Each is then scored on test images
attacked by FGM at growing radii.

To keep the example fast, each model trains for 60 epochs
(``max_iter=60``), where the default ``max_iter=200`` with early stopping
runs 90 to 180 epochs and takes more than twice as long.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_histai.neural_network import CNNClassifier, adversarial_examples

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

# %%
# The three models differ only in ``adversarial``. Early stopping (on from
# 1,000 training rows) holds out a tenth of the training images and
# monitors their clean loss. An epoch of FGM training costs about two of
# standard training, one of PGD ``adversarial_steps + 1``.
settings = {
    "standard": {},
    "FGM training": {"adversarial": "fgm", "adversarial_epsilon": 1.0},
    "PGD training": {
        "adversarial": "pgd",
        "adversarial_epsilon": 1.0,
        "adversarial_steps": 3,
    },
}
# The networks stop after ``max_iter`` epochs on purpose here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
models = {}
for name, params in settings.items():
    start = time.perf_counter()
    models[name] = CNNClassifier(
        image_shape=(1, 8, 8), max_iter=60, random_state=0, **params
    ).fit(X_train, y_train)
    print(
        f"{name:13s} {models[name].n_iter_:3d} epochs, "
        f"{time.perf_counter() - start:.1f} s"
    )

# %%
# Each test image moves by exactly ``epsilon`` (the L2 norm over its 64
# pixels; a digit's own norm is about 3.9) against the gradient of the
# model under attack: a white-box attack. The attacked pixels are not
# clipped to [0, 1]. An epsilon of 0 is the clean test set.
epsilons = np.linspace(0, 2, 9)
accuracy = {}
for name, model in models.items():
    accuracy[name] = [
        model.score(
            X_test
            if epsilon == 0
            else adversarial_examples(
                model, X_test, y_test, method="fgm", epsilon=epsilon
            ),
            y_test,
        )
        for epsilon in epsilons
    ]

at_one = list(epsilons).index(1.0)
print(f"{'model':13s} {'clean':>6s} {'FGM, eps=1':>11s}")
for name, scores in accuracy.items():
    print(f"{name:13s} {scores[0]:6.3f} {scores[at_one]:11.3f}")

# %%
# Adversarial training gives up a little clean accuracy for much more
# accuracy under attack, up to the radius it trained at (dotted line);
# far beyond it, the attack defeats all three models.
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, scores in accuracy.items():
    ax.plot(epsilons, scores, marker="o", label=name)
ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
ax.set(
    xlabel="epsilon (L2 norm of the perturbation per image)",
    ylabel="test accuracy under FGM",
    ylim=(0, 1.02),
    title="A CNN on attacked digits",
)
ax.legend()
fig.tight_layout()
plt.show()
