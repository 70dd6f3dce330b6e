"""
========================================
Comparing the eras on handwritten digits
========================================

Every estimator of sklearn_histai declares its era, the year its method was
introduced and its nearest scikit-learn estimator, its *peer*. This example
reads that history, then races each classifier against its peer on
handwritten digits, the one built-in task that every era can read: classical
models see a row of 64 pixels, convolutional networks an image of 8 by 8
pixels, recurrent networks a sequence of 8 rows of 8 pixels.
"""

# %%
# The estimators and their history
# --------------------------------
# :func:`~sklearn_histai.compare.estimator_table` lists every estimator the
# package discovers, oldest first, with the scikit-learn peer it is compared
# with.
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from sklearn_histai.compare import (
    TASKS,
    Task,
    compare_estimators,
    estimator_table,
    plot_comparison,
)

pd.set_option("display.width", 120)
pd.set_option("display.max_colwidth", 45)
estimator_table()

# %%
# A smaller digits task
# ---------------------
# The built-in ``digits`` task has 1797 images. To keep this example quick we
# define a :class:`~sklearn_histai.compare.Task` on the first 400 of them; it
# keeps the ``input_params`` of the built-in task, which tell image and
# sequence models how to read a row of pixels.
digits = TASKS["digits"]


def load_some_digits():
    X, y = digits.loader()
    return X[:400], y[:400]


small_digits = Task(
    "digits_400",
    loader=load_some_digits,
    kind="classification",
    scoring="accuracy",
    input="image",
    input_params=digits.input_params,
    description="The first 400 images of the digits data set",
)

# %%
# The race
# --------
# One model per step of the arc, from logistic regression (1958) to the
# convolutional network (1998). The task sets ``image_shape`` on the CNN and
# ``n_features_per_step`` on the recurrent network, so they are built here
# without them. The networks train for 30 epochs only, to keep this page
# quick; their shared peer, scikit-learn's multilayer perceptron, runs once
# with its defaults.
from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    RNNClassifier,
)
from sklearn_histai.tree import DecisionTreeClassifier

estimators = [
    LogisticRegression(),
    DecisionTreeClassifier(),
    FeedForwardClassifier(max_iter=30),
    RNNClassifier(max_iter=30),
    CNNClassifier(max_iter=30),
]

# %%
# Every model is cross-validated on the same three folds as its peer, both
# behind the same standard scaling. Trained this briefly, the networks warn
# that their loss has not settled; those warnings are silenced here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    results = compare_estimators(estimators, tasks=[small_digits], cv=3)
results[["estimator", "peer_of", "era", "year", "score_mean", "score_std"]]

# %%
# Fit and predict times per fold, in seconds, measured on the machine that
# built this page:
results[["estimator", "library", "fit_time", "score_time"]]

# %%
# The plot shows each estimator colored by its era, its scikit-learn peer in
# grey below it, and the standard deviation over the folds as error bars.
ax = plot_comparison(results)
ax.set_xlim(0, 1.05)
