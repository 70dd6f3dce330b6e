"""
============================================
The history of machine learning as a picture
============================================

Every estimator of sklearn_histai declares the era it belongs to and the year
its method was introduced. :func:`~sklearn_histai.compare.plot_timeline` puts
them all on one timeline, beside the milestones of the field; given the
results of a comparison, it adds what each era scores on the same task.
"""

# %%
# The timeline
# ------------
# Each estimator is a dot at its year, in the band of its era, the oldest era
# at the bottom. The dotted lines are the milestones: the Dartmouth workshop
# that named the field, the perceptron, back-propagation, the LSTM, word2vec,
# the Transformer, BERT and LoRA. The two centuries before 1940 hold little
# more than least squares: they are drawn five times narrower.
from sklearn_histai.compare import plot_timeline

ax = plot_timeline()

# %%
# How far has each era come on the same task?
# -------------------------------------------
# Handwritten digits are the one built-in task that every era can read:
# classical models see a row of 64 pixels, convolutional networks an image of
# 8 by 8 pixels, recurrent networks a sequence of 8 rows. To keep this page
# quick, the race runs on the first 400 images, with 3 folds, and the networks
# train for 60 epochs at most (their loss may not settle: those warnings are
# silenced).
import warnings

from sklearn.exceptions import ConvergenceWarning

from sklearn_histai.compare import TASKS, Task, compare_estimators
from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import (
    CNNClassifier,
    FeedForwardClassifier,
    LSTMClassifier,
    RNNClassifier,
)
from sklearn_histai.tree import DecisionTreeClassifier

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
estimators = [
    LogisticRegression(),
    DecisionTreeClassifier(),
    FeedForwardClassifier(max_iter=60),
    RNNClassifier(max_iter=60),
    LSTMClassifier(max_iter=60),
    CNNClassifier(max_iter=60),
]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    results = compare_estimators(estimators, tasks=[small_digits], cv=3)
results[["estimator", "peer_of", "era", "year", "score_mean", "score_std"]]

# %%
# With the results, a second panel shows the mean accuracy of each estimator
# against its year, colored by era, the standard deviation over the folds as
# an error bar. Its scikit-learn peer is the grey dash at the same year:
# scikit-learn's multilayer perceptron stands beside every network.
timeline_ax, scores_ax = plot_timeline(results)

# %%
# Run ``python -m sklearn_histai.compare`` (``make demo``) to race every
# estimator on every task: it ends by saving this picture for the task that
# the most eras ran on.
#
# sphinx_gallery_thumbnail_number = 2
