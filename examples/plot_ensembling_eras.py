"""
====================
Ensembling the eras
====================

Every model of this package is a scikit-learn estimator, so scikit-learn's
ensembles take them as they are. This example combines three eras of text
classifier -- a bag of words, a fastText-style embedding bag and Kim's
convolutional network -- by soft voting and by stacking, on raw IMDB
reviews; then it trains a *deep ensemble* (Lakshminarayanan et al., 2017:
the same network from several seeds, its probabilities averaged) with
:class:`~sklearn.ensemble.BaggingClassifier` and compares its calibration
with that of one network.

``benchmarks/bench_ensembles.py`` measures the same on 2,000 reviews with an
LSTM and a LoRA-tuned transformer among the members, and on Fashion-MNIST;
the user guide's :ref:`ensembles` section shows its tables.
"""

# %%
# Three eras on the same strings
# ------------------------------
# The reviews come in a fixed random order, so the first 600 training and
# the first 400 test reviews are random samples. The networks start from
# GloVe vectors, read the last 100 tokens of each review and train for
# three epochs, to keep this page quick.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss

from sklearn_histai.datasets import load_imdb
from sklearn_histai.text import make_text_classifier

X_train, y_train = load_imdb("train", return_X_y=True)
X_test, y_test = load_imdb("test", return_X_y=True)
X_train, y_train = list(X_train[:600]), y_train[:600]
X_test, y_test = list(X_test[:400]), y_test[:400]

# The networks stop after three epochs on purpose. Their probabilities are
# a float32 softmax, whose rows sum to 1 within 2e-7: more than log_loss's
# float64 check allows.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", message="The y_prob values do not sum to one")
members = [
    ("bow", make_text_classifier("bow")),
    (
        "embedding",
        make_text_classifier(
            "embedding", pretrained="glove", random_state=0, classifier__max_iter=3
        ),
    ),
    (
        "cnn",
        make_text_classifier(
            "cnn",
            pretrained="glove",
            random_state=0,
            tokenizer__max_length=100,
            classifier__max_iter=3,
            classifier__learning_rate=1e-2,
        ),
    ),
]

# %%
# Stacking and soft voting
# ------------------------
# :class:`~sklearn.ensemble.StackingClassifier` fits each member on all the
# training reviews, and on each of three folds to get out-of-fold
# probabilities, on which a logistic regression learns how much to trust
# each member. With two classes it reads one column per member, the
# probability of a positive review.
stack = StackingClassifier(
    members,
    final_estimator=LogisticRegression(),
    cv=3,
    stack_method="predict_proba",
).fit(X_train, y_train)
weights = stack.final_estimator_.coef_[0]
for name, weight in zip(stack.named_estimators_, weights):
    print(f"weight of {name}: {weight:.2f}")

# %%
# The members the stack fitted on all the reviews are ready to use: soft
# voting over them, :class:`~sklearn.ensemble.VotingClassifier` with every
# member wrapped in :class:`~sklearn.frozen.FrozenEstimator`, costs no
# further training. (``VotingClassifier(members, voting="soft")`` would
# train them again.)
fitted = stack.named_estimators_
vote = VotingClassifier(
    [(name, FrozenEstimator(member)) for name, member in fitted.items()],
    voting="soft",
).fit(X_train, y_train)

models = {**fitted, "soft voting": vote, "stacking": stack}
accuracy, loss = {}, {}
for name, model in models.items():
    proba = model.predict_proba(X_test)
    accuracy[name] = accuracy_score(y_test, model.classes_[proba.argmax(axis=1)])
    loss[name] = log_loss(y_test, proba)
    print(f"{name:12s} accuracy {accuracy[name]:.3f}  log-loss {loss[name]:.3f}")

# %%
# Each member alone, then the two ensembles: accuracy (higher is better) and
# log-loss (lower is better) on the 400 test reviews.
names = list(models)
colors = ["tab:blue"] * len(fitted) + ["tab:orange", "tab:red"]
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_acc.bar(names, [accuracy[n] for n in names], color=colors)
ax_acc.set_ylim(0.5, 1.0)
ax_acc.set_ylabel("test accuracy")
ax_loss.bar(names, [loss[n] for n in names], color=colors)
ax_loss.set_ylabel("test log-loss")
for ax in (ax_acc, ax_loss):
    ax.tick_params(axis="x", labelrotation=30)
fig.suptitle("IMDB sentiment, 600 training reviews")
fig.tight_layout()
plt.show()

# %%
# A deep ensemble
# ---------------
# :class:`~sklearn.ensemble.BaggingClassifier` with ``bootstrap=False`` and
# every row (``max_samples=1.0``) is a deep ensemble: each member is a clone
# of the network with its own ``random_state`` (its initial weights, the
# order of its mini-batches and its early-stopping split), trained on all
# the rows, and ``predict_proba`` averages the members' probabilities. Five
# feed-forward networks learn the digits; each member is exactly the network
# one would train alone with its seed, so the members also show what one
# network does.
from sklearn.calibration import CalibrationDisplay, calibration_curve
from sklearn.datasets import load_digits
from sklearn.ensemble import BaggingClassifier
from sklearn.model_selection import train_test_split

from sklearn_histai.neural_network import FeedForwardClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    (X / 16).astype(np.float32), y, random_state=0, stratify=y
)
deep = BaggingClassifier(
    FeedForwardClassifier(hidden_layer_sizes=(64,), learning_rate=1e-2),
    n_estimators=5,
    bootstrap=False,
    max_samples=1.0,
    random_state=0,
).fit(X_train, y_train)
print("members' seeds:", [member.random_state for member in deep.estimators_])

# %%
# Calibration
# -----------
# A classifier is calibrated when, of the rows it predicts with confidence
# 0.8, 80% are right. The reliability diagram bins the test rows by the
# probability of the predicted class (15 bins of equal width) and plots the
# share of right predictions in each bin against the mean confidence; the
# expected calibration error (ECE) is the mean gap, each bin weighted by its
# share of the rows.
n_bins = 15


def reliability(model):
    """The reliability curve, ECE and log-loss of ``model`` on the test rows."""
    proba = model.predict_proba(X_test)
    confidence = proba.max(axis=1)
    correct = (model.classes_[proba.argmax(axis=1)] == y_test).astype(int)
    prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=n_bins)
    # The rows in each non-empty bin, binned as calibration_curve bins them.
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    counts = np.bincount(bins, minlength=n_bins)
    counts = counts[counts > 0]
    ece = np.sum(counts * np.abs(prob_true - prob_pred)) / len(y_test)
    curve = CalibrationDisplay(prob_true, prob_pred, confidence)
    return curve, ece, log_loss(y_test, proba), correct.mean()


fig, ax = plt.subplots(figsize=(5, 5))
for i, member in enumerate(deep.estimators_):
    curve, ece, loss, acc = reliability(member)
    print(
        f"network {i + 1}        ECE {ece:.4f}  log-loss {loss:.4f}  accuracy {acc:.3f}"
    )
    if i == 0:
        curve.plot(ax=ax, name=f"network 1 (ECE {ece:.3f})")
curve, ece, loss, acc = reliability(deep)
print(f"deep ensemble    ECE {ece:.4f}  log-loss {loss:.4f}  accuracy {acc:.3f}")
curve.plot(ax=ax, name=f"deep ensemble of 5 (ECE {ece:.3f})")
ax.set_xlabel("confidence of the predicted class")
ax.set_ylabel("share of right predictions")
ax.set_title("Digits: one network and five")
fig.tight_layout()
plt.show()

# %%
# The ensemble's log-loss is never above the mean of its members' (the
# log-loss is convex in the probabilities). Its ECE can move either way:
# averaging pulls each probability towards the members' disagreement, which
# tames over-confident members but can leave well-calibrated ones
# under-confident; networks that stop early on a held-out loss, as this
# package's do by default from 1,000 rows on, start close to calibrated.
# The benchmark measures both over several seeds, on Fashion-MNIST too.
