"""
=====================================================
Kneser-Ney n-grams and an LSTM language model
=====================================================

A language model gives every sequence of tokens a probability and can
generate text. :class:`~sklearn_histai.text.NGramLanguageModel` counts
n-grams and smooths them with interpolated Kneser-Ney;
:class:`~sklearn_histai.text.LSTMLanguageModel` is a recurrent network that
conditions on the whole past. Both follow scikit-learn's density-estimator
API: ``score_samples`` gives the log-likelihood of each sentence, ``score``
the mean log-likelihood per token, ``perplexity`` its negative exponential,
and ``generate`` samples continuations.

Both learn here from the first 5,000 sentences of the Penn Treebank and are
scored on 500 test sentences. With this little data and a few seconds of
training, the counts win; with the whole treebank and hours of CPU training
(``benchmarks/bench_language_model.py``) the LSTM wins.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from sklearn_histai.datasets import load_penn_treebank
from sklearn_histai.text import LSTMLanguageModel, NGramLanguageModel

train = load_penn_treebank("train")[:5000]
test = load_penn_treebank("test")[:500]
print(" ".join(train[1]))

# %%
# The n-gram models, from unigrams to 5-grams: fitting is a matter of
# counting, a fraction of a second each.
orders = [1, 2, 3, 4, 5]
ngrams = {order: NGramLanguageModel(order=order).fit(train) for order in orders}
perplexities = {order: model.perplexity(test) for order, model in ngrams.items()}
for order, perplexity in perplexities.items():
    print(f"{order}-gram perplexity {perplexity:7.1f}")

# %%
# A small LSTM language model, three epochs. The adaptive softmax keeps the
# output layer cheap on a CPU without changing what is computed: the
# probabilities are exact.
lstm = LSTMLanguageModel(
    embedding_dim=48,
    hidden_size=48,
    num_layers=1,
    softmax="adaptive",
    batch_size=32,
    learning_rate=0.01,
    max_iter=3,
    early_stopping=False,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    lstm.fit(train)
lstm_perplexity = lstm.perplexity(test)
print(f"LSTM perplexity {lstm_perplexity:7.1f}")

# %%
# Text generated from the same prompt by the trigram and the LSTM: a
# temperature below 1 and the 20 most probable tokens keep it readable.
prompt = ["the", "company", "said"]
for name, model in [("3-gram", ngrams[3]), ("LSTM", lstm)]:
    for seed in range(2):
        words = model.generate(
            prompt, max_tokens=15, temperature=0.8, top_k=20, random_state=seed
        )
        print(f"{name:6s}: {' '.join(prompt + words)}")

# %%
# Perplexity falls with the order of the n-grams, then flattens: longer
# contexts are seen too rarely in 5,000 sentences.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(orders, [perplexities[o] for o in orders], "o-", label="Kneser-Ney n-gram")
ax.axhline(lstm_perplexity, color="C1", linestyle="--", label="LSTM (3 epochs)")
ax.set_xlabel("n-gram order")
ax.set_ylabel("test perplexity")
ax.set_xticks(orders)
ax.legend()
ax.set_title("Penn Treebank, 5,000 training sentences")
fig.tight_layout()
plt.show()
