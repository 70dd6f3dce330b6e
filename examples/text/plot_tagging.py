"""
==================================================
Part-of-speech tagging of Turkish with a BiLSTM
==================================================

:class:`~sklearn_histai.text.SequenceTagger` gives every token of a sentence
a tag. It takes token lists and tag lists, the convention of
sklearn-crfsuite. Here it learns the universal part-of-speech tags of the
Turkish treebanks from 1,000 sentences and tags 500 others, beside the
classic baseline that gives each word its most frequent training tag.

Turkish builds words from many suffixes, so many test words never occur in
training: the baseline can only guess the most frequent tag for them,
whereas the tagger reads their characters (a convolution over each word's
spelling) and their context (a bidirectional LSTM over the sentence). To
keep the example fast the network is small and trains for 4 epochs; the full
run (``benchmarks/bench_tagger.py``) reaches higher accuracy.
"""

import warnings
from collections import Counter, defaultdict

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_histai.datasets import load_ud_turkish
from sklearn_histai.text import SequenceTagger, token_accuracy_score

X, y = load_ud_turkish(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
X_train, y_train = X_train[:1000], y_train[:1000]
X_test, y_test = X_test[:500], y_test[:500]
print(list(zip(X_train[0], y_train[0])))

# %%
# The baseline: each word's most frequent tag in training, and the most
# frequent tag overall for unseen words.
by_word, overall = defaultdict(Counter), Counter()
for words, tags in zip(X_train, y_train):
    for word, tag in zip(words, tags):
        by_word[word][tag] += 1
        overall[tag] += 1
most_frequent = overall.most_common(1)[0][0]
baseline = [
    [by_word[w].most_common(1)[0][0] if w in by_word else most_frequent for w in s]
    for s in X_test
]

# %%
# The tagger: word embeddings, character features, a bidirectional LSTM
# and a softmax per token.
tagger = SequenceTagger(
    embedding_dim=32,
    hidden_size=32,
    char_filters=32,
    max_iter=4,
    batch_size=32,
    learning_rate=0.01,
    early_stopping=False,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tagger.fit(X_train, y_train)
predicted = tagger.predict(X_test)
print(f"baseline accuracy {token_accuracy_score(y_test, baseline):.3f}")
print(f"tagger accuracy   {token_accuracy_score(y_test, predicted):.3f}")
print(list(zip(X_test[1], predicted[1])))

# %%
# Accuracy on the words seen in training and on the unseen ones.
seen = {w for s in X_train for w in s}
groups = {"seen words": [], "unseen words": []}
for words, truth, base, pred in zip(X_test, y_test, baseline, predicted):
    for w, t, b, p in zip(words, truth, base, pred):
        groups["seen words" if w in seen else "unseen words"].append((t == b, t == p))

fig, ax = plt.subplots(figsize=(6, 3.5))
positions = np.arange(len(groups))
for offset, (label, column) in zip((-0.2, 0.2), (("baseline", 0), ("tagger", 1))):
    values = [np.mean([pair[column] for pair in pairs]) for pairs in groups.values()]
    ax.bar(positions + offset, values, width=0.4, label=label)
ax.set_xticks(positions, [f"{k}\n({len(v)} tokens)" for k, v in groups.items()])
ax.set_ylabel("token accuracy")
ax.set_ylim(0, 1)
ax.legend(loc="lower left")
ax.set_title("UPOS tagging, Turkish treebanks")
fig.tight_layout()
plt.show()
