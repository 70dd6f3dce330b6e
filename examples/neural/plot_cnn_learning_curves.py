"""
==============================================
Learning curves of a CNN on handwritten digits
==============================================

:class:`~sklearn_histai.neural_network.CNNClassifier` reads each 64-column
row of scikit-learn's digits as a 1×8×8 image. With ``early_stopping=True`` a
stratified tenth of the training data is held out; ``history_`` records the
training loss, the validation loss and the validation accuracy of every
epoch, and the weights of the best epoch are restored at the end.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_histai.neural_network import CNNClassifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
cnn = CNNClassifier(
    image_shape=(1, 8, 8),
    batch_size=32,
    max_iter=40,
    early_stopping=True,
    n_iter_no_change=5,
    random_state=0,
).fit(X_train, y_train)
print(f"epochs: {cnn.n_iter_}, test accuracy: {cnn.score(X_test, y_test):.3f}")

# %%
# The curves come straight from ``history_``.
epochs = [row["epoch"] for row in cnn.history_]
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_loss.plot(epochs, [row["train_loss"] for row in cnn.history_], label="training")
ax_loss.plot(epochs, [row["valid_loss"] for row in cnn.history_], label="validation")
ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
ax_loss.legend()
ax_acc.plot(epochs, [row["valid_score"] for row in cnn.history_], color="C2")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Validation accuracy")
fig.tight_layout()
plt.show()
