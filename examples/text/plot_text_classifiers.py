"""
=========================================
Five kinds of text classifier on IMDB
=========================================

:func:`~sklearn_histai.text.make_text_classifier` builds a pipeline that
takes raw strings, in five kinds: a TF-IDF bag of words with logistic
regression ("bow"), the mean of word embeddings (fastText, "embedding"), an
Elman RNN, a bidirectional LSTM and Kim's convolutional network. Here all
five, and scikit-learn's own TF-IDF with logistic regression, learn the
sentiment of 600 IMDB movie reviews and are scored on 300 others.

600 reviews are far too few to learn word embeddings from scratch, so the
four networks start from pretrained GloVe vectors (``pretrained="glove"``).
Even so, the bag of words wins on so little data; on the full 20,000
training reviews (``benchmarks/bench_text.py``, and the user guide) the
networks catch up. To keep the example fast, the networks read only the
last 100 tokens of each review and train for 3 epochs.
"""

import time
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_histai.datasets import load_imdb
from sklearn_histai.text import make_text_classifier

X_train, y_train = load_imdb("train", return_X_y=True)
X_test, y_test = load_imdb("test", return_X_y=True)
# The rows come in a fixed random order: a prefix is a random sample.
X_train, y_train = X_train[:600], y_train[:600]
X_test, y_test = X_test[:300], y_test[:300]
print(X_train[0][:200], "...", "positive" if y_train[0] else "negative")

# %%
# One pipeline per kind. The ``step__parameter`` keywords set the
# tokenizer and the network; everything else is the kind's default. With
# ``pretrained="glove"`` and no vocabulary, the tokenizer's vocabulary is
# GloVe's 20,000 most frequent words (50,000 for the embedding bag).
fast = {
    "pretrained": "glove",
    "random_state": 0,
    "tokenizer__max_length": 100,
    "classifier__max_iter": 3,
    "classifier__learning_rate": 1e-2,
}
models = {
    "scikit-learn\nTF-IDF + LR": make_pipeline(
        TfidfVectorizer(), LogisticRegression(max_iter=1000)
    ),
    "bow": make_text_classifier("bow"),
    "embedding": make_text_classifier(
        "embedding", pretrained="glove", random_state=0, classifier__max_iter=3
    ),
    "rnn": make_text_classifier("rnn", **fast),
    "lstm": make_text_classifier("lstm", **fast),
    "cnn": make_text_classifier("cnn", **fast),
}

# The networks stop after ``max_iter`` epochs on purpose here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
scores, times = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    times[name] = time.perf_counter() - start
    scores[name] = model.score(X_test, y_test)
    print(
        f"{name.replace(chr(10), ' '):28s} accuracy {scores[name]:.3f}, "
        f"fit {times[name]:.1f} s"
    )

# %%
# Accuracy on the 300 test reviews, with the training time on each bar.
fig, ax = plt.subplots(figsize=(8, 3.8))
names = list(scores)
bars = ax.bar(names, [scores[name] for name in names], color="tab:blue")
bars[0].set_color("tab:gray")
for bar, name in zip(bars, names):
    ax.text(
        bar.get_x() + bar.get_width() / 2,
        bar.get_height() + 0.01,
        f"{times[name]:.1f} s",
        ha="center",
        fontsize=9,
    )
ax.axhline(0.5, color="black", linewidth=0.8, linestyle=":")
ax.set_ylim(0.4, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title("Sentiment of IMDB reviews, 600 training reviews")
fig.tight_layout()
plt.show()

# %%
# Every pipeline is an ordinary scikit-learn estimator: it predicts raw
# strings, including words it never saw, emoji and other scripts.
print(models["bow"].predict(["A wonderful, moving film.", "Dull and far too long 👎"]))
