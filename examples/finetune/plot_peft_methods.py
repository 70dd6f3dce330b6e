"""
=====================================================
Fine-tuning methods: accuracy against trained weights
=====================================================

:class:`~sklearn_histai.finetune.TransformerClassifier` fine-tunes a
pretrained transformer (here the bundled 6-layer MiniLM sentence encoder,
22.7M parameters) on raw text, with the method as a parameter,
``peft_method``. Each method trains a different share of the network: from
the output layer alone ("head_only", 770 weights) through prompt tuning, IA3,
prefix tuning, LoRA, AdaLoRA and bottleneck adapters, to every weight
("full").

Here each method learns the sentiment of 160 short Rotten Tomatoes review
sentences in two passes over them (40 steps of 8 sentences), and is scored
on 160 others. So little training keeps the example fast on a CPU, and
makes the ranking noisy: the benchmark ``benchmarks/bench_finetune.py``
compares the methods on 2,000 IMDB reviews (see the user guide).
"""

import time

import matplotlib.pyplot as plt

from sklearn_histai.datasets import load_imdb
from sklearn_histai.finetune import TransformerClassifier

X_train, y_train = load_imdb("train", source="rotten_tomatoes", return_X_y=True)
X_test, y_test = load_imdb("test", source="rotten_tomatoes", return_X_y=True)
# The rows come in a fixed random order: a prefix is a random sample.
X_train, y_train = X_train[:160], y_train[:160]
X_test, y_test = X_test[:160], y_test[:160]
print(X_train[0], "->", "positive" if y_train[0] else "negative")

# %%
# One estimator per method; everything else is the default (learning rate
# chosen per method, warm-up then linear decay, AdamW), but for the short
# texts (``max_length``), the small batches and the two epochs.
methods = [
    "head_only",
    "prompt_tuning",
    "ia3",
    "prefix_tuning",
    "lora",
    "adalora",
    "adapter",
    "full",
]
results = {}
for method in methods:
    clf = TransformerClassifier(
        peft_method=method, max_length=32, batch_size=8, max_iter=2, random_state=0
    )
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    results[method] = (clf.n_trainable_parameters_, clf.score(X_test, y_test))
    print(
        f"{method:14s} {clf.n_trainable_parameters_:>10,} trained "
        f"({100 * clf.trainable_fraction_:6.3f}%), accuracy "
        f"{results[method][1]:.3f}, fit {seconds:4.1f} s"
    )

# %%
# Accuracy against the number of trained parameters, on a log scale: four
# orders of magnitude separate the output layer from the whole network.
fig, ax = plt.subplots(figsize=(7, 4))
for method, (n_trained, accuracy) in results.items():
    ax.scatter(n_trained, accuracy, color="tab:blue")
    ax.annotate(
        method,
        (n_trained, accuracy),
        textcoords="offset points",
        xytext=(5, 5),
        fontsize=9,
    )
ax.axhline(0.5, color="black", linewidth=0.8, linestyle=":")
ax.set_xscale("log")
ax.set_xlabel("trained parameters")
ax.set_ylabel("test accuracy")
ax.set_title("Rotten Tomatoes sentiment, 160 training sentences, 2 epochs")
fig.tight_layout()
plt.show()

# %%
# The method is a parameter like any other, so a grid search can choose it
# (and its rank) by cross-validation::
#
#     from sklearn.model_selection import GridSearchCV
#     search = GridSearchCV(
#         TransformerClassifier(max_length=32),
#         [{"peft_method": ["lora"], "lora_r": [4, 8]}, {"peft_method": ["ia3"]}],
#     )
