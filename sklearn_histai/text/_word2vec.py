"""Word2Vec: skip-gram and CBOW word embeddings learned in torch, as a transformer."""

import math
import numbers
import time
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_histai._torch._runtime import (
    DEVICE_CONSTRAINT,
    NUM_THREADS_CONSTRAINT,
    cpu_context,
    draw_seed,
    resolve_device,
    seeded,
    threads_for,
)
from sklearn_histai.nn import Word2VecCorpus, Word2VecNet
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._token_ids import check_token_ids

# Without init_embeddings, ids must be below this: embeddings_ holds a row per
# id up to the largest, so a larger id (e.g. a hash) would ask for a table of
# that many rows. 2**24 ids exceed any word vocabulary (the largest fastText
# and GloVe vocabularies hold about 2 million words).
_MAX_IDS = 2**24


class Word2Vec(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Word embeddings learned by skip-gram or CBOW with negative sampling.

    ``fit`` learns a vector per token from rows of token ids (e.g. from
    :class:`~sklearn_histai.text.TextTokenizer`, so that
    ``make_pipeline(TextTokenizer(), Word2Vec())`` learns from raw text):
    skip-gram predicts each word from the words around it, CBOW predicts it
    from their mean, each against ``negative`` words drawn from the unigram
    distribution raised to the power 3/4 (Mikolov et al., 2013). Training
    follows word2vec.c and gensim: frequent words are subsampled, windows
    shrink at random, and plain SGD decays its learning rate linearly to
    zero over the passes. ``transform`` gives document vectors: the mean,
    or the TF-IDF-weighted mean, of the vectors of a row's words.

    ``X`` holds token ids, non-negative integers below 2**24: row ``i`` of
    ``embeddings_`` is the vector of id ``i``, so the matrix can initialise
    the embedding layer of another model. Sparse or larger ids (e.g. hashes)
    must first be numbered densely, e.g. by ``np.unique(X,
    return_inverse=True)``. Documents are the rows of ``X``: windows never
    cross them.

    Parameters
    ----------
    vector_size : int, default=100
        Size of the word vectors.
    architecture : {"skipgram", "cbow"}, default="skipgram"
        Skip-gram (gensim's ``sg=1``) or continuous bag of words (``sg=0``,
        with the mean of the context vectors).
    window : int, default=5
        Largest distance between a word and a context word; each position
        draws its window uniformly from ``1..window``.
    negative : int, default=5
        Negative words drawn for each (input, target) sample.
    min_count : int, default=1
        Ignore tokens that occur fewer times in the training data. The
        vocabulary is usually pruned by the tokenizer already
        (``TextTokenizer(min_df=...)``); gensim's default is 5.
    sample : float, default=1e-3
        Subsampling of frequent words: a word of frequency ``f`` is kept with
        probability ``(sqrt(f / sample) + 1) * sample / f`` in each pass.
        0 disables it.
    epochs : int, default=5
        Passes over the training data.
    learning_rate : float, default=0.025
        Initial SGD step size (gensim's ``alpha``), decayed linearly to zero
        with the steps of the passes.
    batch_size : int, default=2048
        Positions of the training data (before subsampling) whose samples
        make up one SGD step, one from each of ``batch_size`` equal stretches
        of the data (as that many Hogwild workers of word2vec.c would take
        them); all their samples are scored at once.
    pooling : {"mean", "tfidf"}, default="mean"
        How ``transform`` pools the word vectors of a row: their mean, or
        their mean weighted by inverse document frequency (each occurrence
        counts, so the weight of a word is its TF-IDF).
    ignored_ids : array-like of int, default=(0, 1)
        Token values that are not words: neither trained nor pooled. The
        default skips the padding (0) and out-of-vocabulary (1) ids of
        :class:`~sklearn_histai.text.TextTokenizer`.
    init_embeddings : array-like of shape (n_ids, vector_size) or None, \
default=None
        Word vectors to start from, row ``i`` for token id ``i`` (e.g.
        :func:`~sklearn_histai.datasets.glove_embeddings`); ``X`` must then
        hold ids below ``n_ids``. Ids absent from the training data keep
        their given vectors. None starts from small random vectors.
    freeze_embeddings : bool, default=False
        Whether ``init_embeddings`` stay fixed: ``fit`` then only learns the
        vocabulary and the IDF weights of ``transform`` (no training).
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    num_threads : int or "auto", default="auto"
        Intra-op threads torch may use in ``fit``; "auto" uses one for
        small steps. Restored afterwards.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial vectors, the subsampling, the windows and the
        negative words. torch's global random state is left untouched.
    verbose : int, default=0
        0 is silent, 1 prints the mean loss and the duration of each pass.

    Attributes
    ----------
    embeddings_ : ndarray of shape (n_tokens, vector_size), dtype float32
        The word vectors (word2vec's input vectors). Rows of tokens that have
        no vector (ignored, or rarer than ``min_count``) are zero, unless
        given by ``init_embeddings``.
    tokens_ : ndarray of shape (n_tokens,)
        The token id of each row of ``embeddings_``: ``arange(n_tokens)``,
        up to the largest id seen in ``fit`` (or the last row of
        ``init_embeddings``).
    counts_ : ndarray of shape (n_tokens,)
        Occurrences of each token in the training data (0 for ignored ones).
    idf_ : ndarray of shape (n_tokens,)
        Smoothed inverse document frequency of each token,
        ``ln((1 + n) / (1 + df)) + 1``, used by ``pooling="tfidf"``.
    has_vector_ : ndarray of shape (n_tokens,), dtype bool
        Which rows are word vectors: trained, or given by
        ``init_embeddings``. Only these are pooled and searched.
    n_features_in_ : int
        Number of columns (token positions) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    n_iter_ : int
        Number of passes run (0 when ``freeze_embeddings=True``).
    loss_curve_ : list of float
        Mean negative-sampling loss per sample of each pass.

    See Also
    --------
    sklearn_histai.text.TextTokenizer : Documents to rows of token ids.
    sklearn_histai.datasets.glove_embeddings : Pretrained GloVe vectors for a
        vocabulary, for ``init_embeddings``.

    Notes
    -----
    The reference implementation is gensim's ``Word2Vec``, whose updates
    this follows: skip-gram scores each context word against the centre
    word, CBOW passes the error of the context mean unscaled to every
    context word, and a negative word equal to the target is skipped. Where
    gensim updates one pair at a time on a few threads, this sums the
    updates of ``batch_size`` positions spread over the data into one sparse
    SGD step, which is what makes it practical in torch (and on GPUs).

    ``fit`` applies that step by hand rather than through skorch's training
    loop, autograd and a ``torch.optim.SGD``:
    :meth:`~sklearn_histai.nn.Word2VecNet.sgd_step` computes the scores of
    the gathered rows (on the CPU by a sampled sparse product that copies no
    row), the errors in closed form, and adds the steps to the two tables
    with ``index_add_``, under ``torch.no_grad``; the samples of many steps
    are drawn at once, vectorised. The arithmetic is the same (a test
    checks it against autograd), but on the Penn Treebank, one CPU thread,
    autograd and the optimizer's sparse updates took 2.6 (skip-gram) and
    2.2 (CBOW) times as long on the same samples, and the previous fit
    through skorch's loop, with a sampler that drew each step apart, 3.6
    and 4.2 times as long. A fit now takes about 1.3 (skip-gram) and 1.0
    to 1.7 (CBOW) times gensim's time, with word-similarity scores within
    the spread of gensim's over seeds (``benchmarks/bench_word2vec.py``,
    whose ``--device`` trains on a GPU). As there is no optimizer or network
    to keep, ``fit`` always starts afresh, and the fitted estimator pickles
    only its vectors and vocabulary statistics. On a GPU, ``index_add_``
    sums in no fixed order: a seed fixes the samples, but the vectors may
    differ in the last bits from one fit to the next.

    References
    ----------
    .. [1] Mikolov, T., Chen, K., Corrado, G. and Dean, J. (2013).
       "Efficient estimation of word representations in vector space."
       ICLR workshop. arXiv:1301.3781.
    .. [2] Mikolov, T., Sutskever, I., Chen, K., Corrado, G. and Dean, J.
       (2013). "Distributed representations of words and phrases and their
       compositionality." NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_histai.text import TextTokenizer, Word2Vec
    >>> rng = np.random.RandomState(0)
    >>> animals, finance = ["cat", "dog", "mouse", "pet"], ["stocks", "bonds", "fund"]
    >>> docs = [" ".join(rng.choice(animals if i % 2 else finance, size=8))
    ...         for i in range(100)]
    >>> model = make_pipeline(
    ...     TextTokenizer(),
    ...     Word2Vec(vector_size=16, window=3, sample=0, epochs=5, batch_size=64,
    ...              random_state=0),
    ... )
    >>> model.fit_transform(docs).shape
    (100, 16)
    >>> tokenizer, word2vec = model[0], model[-1]
    >>> similar = word2vec.most_similar("cat", topn=3, vocabulary=tokenizer.vocabulary_)
    >>> sorted(word for word, _ in similar)
    ['dog', 'mouse', 'pet']
    """

    _history = ModelHistory(
        era="text",
        year=2013,
        reference="Mikolov et al. (2013)",
        peer=None,
        input="tokens",
    )

    _parameter_constraints = {
        "vector_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "architecture": [StrOptions({"skipgram", "cbow"})],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "negative": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_count": [Interval(numbers.Integral, 1, None, closed="left")],
        "sample": [Interval(numbers.Real, 0, None, closed="left")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"mean", "tfidf"})],
        "ignored_ids": ["array-like"],
        "init_embeddings": ["array-like", None],
        "freeze_embeddings": ["boolean"],
        "device": DEVICE_CONSTRAINT,
        "num_threads": NUM_THREADS_CONSTRAINT,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        vector_size=100,
        architecture="skipgram",
        window=5,
        negative=5,
        min_count=1,
        sample=1e-3,
        epochs=5,
        learning_rate=0.025,
        batch_size=2048,
        pooling="mean",
        ignored_ids=(0, 1),
        init_embeddings=None,
        freeze_embeddings=False,
        device="auto",
        num_threads="auto",
        random_state=None,
        verbose=0,
    ):
        self.vector_size = vector_size
        self.architecture = architecture
        self.window = window
        self.negative = negative
        self.min_count = min_count
        self.sample = sample
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.pooling = pooling
        self.ignored_ids = ignored_ids
        self.init_embeddings = init_embeddings
        self.freeze_embeddings = freeze_embeddings
        self.device = device
        self.num_threads = num_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- input ------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        """Validate ``X``; return it as int64 token ids."""
        if _holds_text(X):
            raise TypeError(
                "Word2Vec expects rows of token ids, not text; tokenise the "
                "documents first, e.g. make_pipeline(TextTokenizer(), Word2Vec())."
            )
        return check_token_ids(validate_data(self, X, dtype="numeric", reset=reset))

    def _learn_tokens(self, X, init):
        """Set ``tokens_``: the id of each row of the embeddings."""
        largest = int(X.max())
        if init is not None:
            if largest >= len(init):
                raise ValueError(
                    f"X holds token id {largest}, but init_embeddings has "
                    f"only {len(init)} rows."
                )
            self.tokens_ = np.arange(len(init))
        elif largest >= _MAX_IDS:
            raise ValueError(
                f"X holds token id {largest}; Word2Vec takes ids below 2**24 "
                f"({_MAX_IDS}), as it keeps a vector row per id up to the largest. "
                "Number sparse ids densely first, e.g. with "
                "np.unique(X, return_inverse=True)."
            )
        else:
            self.tokens_ = np.arange(largest + 1)

    def _encode(self, X):
        """Rows of ``embeddings_`` for the token ids ``X``; -1 for non-words."""
        n_tokens = len(self.tokens_)
        is_word = np.ones(n_tokens, dtype=bool)
        ignored = np.asarray(self.ignored_ids, dtype=np.int64).ravel()
        is_word[ignored[(ignored >= 0) & (ignored < n_tokens)]] = False
        known = X < n_tokens
        known[known] = is_word[X[known]]
        return np.where(known, X, -1)

    def _check_init(self):
        if self.init_embeddings is None:
            if self.freeze_embeddings:
                raise ValueError("freeze_embeddings=True needs init_embeddings.")
            return None
        init = np.asarray(self.init_embeddings, dtype=np.float32)
        if init.ndim != 2 or init.shape[1] != self.vector_size:
            raise ValueError(
                "init_embeddings must have shape (n_ids, vector_size="
                f"{self.vector_size}); got {init.shape}."
            )
        if not np.isfinite(init).all():
            raise ValueError("init_embeddings holds NaN or infinite values.")
        return init

    # -- fit --------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the word vectors from rows of token ids.

        Parameters
        ----------
        X : array-like of shape (n_documents, n_positions)
            Token ids, one document per row (e.g. from ``TextTokenizer``):
            non-negative integers below 2**24, or below the rows of
            ``init_embeddings``. Padding and out-of-vocabulary ids
            (``ignored_ids``) are skipped.
        y : None
            Ignored.

        Returns
        -------
        self : Word2Vec
            The fitted estimator.
        """
        # On any error the estimator is left as it was before the call.
        state = dict(vars(self))
        try:
            return self._fit(X)
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            raise

    def _fit(self, X):
        X = self._validate_X(X, reset=True)
        init = self._check_init()
        self._learn_tokens(X, init)
        rows = self._encode(X)
        n_tokens = len(self.tokens_)
        present = rows >= 0
        self.counts_ = np.bincount(rows[present], minlength=n_tokens)
        # A word counts once per row: at its first place in the sorted row.
        ordered = np.sort(rows, axis=1)
        first = ordered >= 0
        first[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
        document_frequency = np.bincount(ordered[first], minlength=n_tokens)
        self.idf_ = np.log((1 + len(X)) / (1 + document_frequency)) + 1
        trained = self.counts_ >= self.min_count
        if not trained.any():
            raise ValueError(
                "X holds no token that occurs at least min_count="
                f"{self.min_count} times (ignoring ignored_ids="
                f"{tuple(self.ignored_ids)})."
            )
        if init is None:
            self.has_vector_ = trained
        else:
            self.has_vector_ = ~np.isin(self.tokens_, np.asarray(self.ignored_ids))

        self.loss_curve_ = []
        self.n_iter_ = 0
        if self.freeze_embeddings:
            self.embeddings_ = init.copy()
            return self
        self.embeddings_ = self._train(rows, trained, init)
        if init is None:
            self.embeddings_[~self.has_vector_] = 0.0
        return self

    def _train(self, rows, trained, init):
        """Run the passes; return the word vectors as float32 numpy."""
        words = np.where(rows >= 0, rows, 0)
        keep = (rows >= 0) & trained[words]
        if (keep.sum(axis=1) < 2).all():
            warnings.warn(
                "No row of X holds two words (tokens seen at least min_count "
                "times); Word2Vec needs words in context: the vectors keep "
                "their initial values.",
                UserWarning,
                stacklevel=3,
            )
        documents, _ = np.nonzero(keep)
        device = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        corpus = Word2VecCorpus(
            tokens=torch.from_numpy(rows[keep].astype(np.int64)),
            documents=torch.from_numpy(documents.astype(np.int64)),
            counts=self.counts_ * trained,
            n_words=len(self.tokens_),
            sample=self.sample,
            window=self.window,
            negative=self.negative,
            skipgram=self.architecture == "skipgram",
            device=device,
            seed=seed,
        )
        with seeded(seed, device):
            module = Word2VecNet(len(self.tokens_), self.vector_size, embeddings=init)
        module.to(device)
        work = self.batch_size * self._multiply_adds_per_sample()
        with cpu_context(threads_for(self.num_threads, work)):
            self._run_passes(module, corpus)
        return module.word_vectors.detach().float().cpu().numpy().copy()

    def _run_passes(self, module, corpus):
        """Train ``module`` by word2vec's SGD; fill ``loss_curve_`` and ``n_iter_``."""
        n_steps = corpus.steps(self.batch_size)
        total_steps = self.epochs * n_steps
        # The loss starts at (1 + K) log 2 (zero output vectors); a step far
        # above it means that the summed updates of a step overshoot.
        start_loss = (1 + self.negative) * math.log(2)
        if self.verbose:
            print(f"{'epoch':>5}  {'train_loss':>10}  {'dur':>7}")
        for epoch in range(self.epochs):
            tic = time.perf_counter()
            loss_sum, n_samples = 0.0, 0
            for step, batch in corpus.batches(self.batch_size):
                progress = (epoch * n_steps + step) / total_steps
                loss = module.sgd_step(
                    **batch, learning_rate=self.learning_rate * (1.0 - progress)
                ).item()
                n_batch = len(batch["targets"])
                if not loss <= 10 * start_loss * n_batch:
                    raise FloatingPointError(
                        f"Word2Vec diverged in pass {epoch + 1}: the loss per "
                        f"sample is {loss / n_batch:.4g}, far above its starting "
                        f"value {start_loss:.3g}. Lower learning_rate or "
                        "batch_size: with few distinct words (and sample=0), "
                        "each step sums many updates of the same words."
                    )
                loss_sum += loss
                n_samples += n_batch
            self.loss_curve_.append(loss_sum / n_samples if n_samples else np.nan)
            self.n_iter_ = epoch + 1
            if self.verbose:
                print(
                    f"{epoch + 1:>5}  {self.loss_curve_[-1]:>10.4f}  "
                    f"{time.perf_counter() - tic:>7.4f}",
                    flush=True,
                )

    def _multiply_adds_per_sample(self):
        # One position yields up to 2 * window samples of 1 + negative dot
        # products, forward and backward.
        return 2 * self.window * (1 + self.negative) * self.vector_size * 3

    # -- transform and queries ----------------------------------------------------

    def transform(self, X):
        """Pool the word vectors of each row into a document vector.

        Parameters
        ----------
        X : array-like of shape (n_documents, n_positions)
            Token ids, one document per row. Tokens without a vector (padding,
            out-of-vocabulary, unseen in ``fit``) are skipped; a row without
            any word gives a zero vector.

        Returns
        -------
        X_new : ndarray of shape (n_documents, vector_size), dtype float64
            The mean (``pooling="mean"``) or TF-IDF-weighted mean
            (``pooling="tfidf"``) of the word vectors of each row.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        rows = self._encode(X)
        documents, positions = np.nonzero(rows >= 0)
        words = rows[documents, positions]
        is_word = self.has_vector_[words]
        documents, words = documents[is_word], words[is_word]
        weights = self.idf_[words] if self.pooling == "tfidf" else np.ones(len(words))
        # Only the rows of the words present are read (and cast to float64).
        used, columns = np.unique(words, return_inverse=True)
        pooling = sparse.csr_matrix(
            (weights, (documents, columns)), shape=(len(X), len(used))
        )
        totals = np.asarray(pooling.sum(axis=1)).ravel()
        vectors = np.asarray(pooling @ self.embeddings_[used].astype(np.float64))
        np.divide(vectors, totals[:, None], out=vectors, where=totals[:, None] > 0)
        return vectors

    def most_similar(self, query, topn=10, *, vocabulary=None):
        """The words whose vectors have the highest cosine similarity to ``query``.

        Parameters
        ----------
        query : str, int, float or array-like of shape (vector_size,)
            A word (looked up in ``vocabulary``), a token id, or a vector.
        topn : int, default=10
            Number of words returned.
        vocabulary : mapping of str to int or None, default=None
            Word to token id, e.g. ``TextTokenizer().fit(docs).vocabulary_``;
            needed to query by word and to return words instead of ids.

        Returns
        -------
        similar : list of (token, float)
            The ``topn`` most similar words (or token ids when no
            ``vocabulary`` is given) with their cosine similarity, most
            similar first; the query word itself is left out.
        """
        check_is_fitted(self)
        if vocabulary is not None and not isinstance(vocabulary, Mapping):
            raise TypeError(
                "vocabulary must map words to token ids (e.g. the tokenizer's "
                f"vocabulary_); got {type(vocabulary).__name__}."
            )
        if not isinstance(topn, numbers.Integral) or topn < 1:
            raise ValueError(f"topn must be a positive int; got {topn!r}.")
        query_row = None
        if isinstance(query, str):
            if vocabulary is None:
                raise ValueError(
                    "Querying by word needs vocabulary= (word to token id), "
                    "e.g. the vocabulary_ of the TextTokenizer before Word2Vec."
                )
            if query not in vocabulary:
                raise KeyError(f"{query!r} is not in the vocabulary.")
            query = vocabulary[query]
        if np.ndim(query) == 0:
            query_id = check_token_ids(np.asarray([query]), input_name="query")
            query_row = int(self._encode(query_id)[0])
            if query_row < 0 or not self.has_vector_[query_row]:
                raise KeyError(f"Token {query!r} has no vector.")
            vector = self.embeddings_[query_row].astype(np.float64)
        else:
            vector = np.asarray(query, dtype=np.float64)
            if vector.shape != (self.embeddings_.shape[1],):
                raise ValueError(
                    f"A query vector must have shape ({self.embeddings_.shape[1]},);"
                    f" got {vector.shape}."
                )
        candidates = np.flatnonzero(self.has_vector_)
        if query_row is not None:
            candidates = candidates[candidates != query_row]
        matrix = self.embeddings_[candidates].astype(np.float64)
        norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector)
        similarity = np.divide(
            matrix @ vector, norms, out=np.zeros(len(candidates)), where=norms > 0
        )
        top = np.argsort(-similarity, kind="stable")[:topn]
        tokens = self.tokens_[candidates[top]].tolist()
        if vocabulary is not None:
            words = {int(index): word for word, index in vocabulary.items()}
            tokens = [words.get(token, token) for token in tokens]
        return [(token, float(s)) for token, s in zip(tokens, similarity[top])]

    @property
    def _n_features_out(self):
        return self.embeddings_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X holds token ids (non-negative integers).
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        return tags


def _holds_text(X):
    """Whether ``X`` is a string or a collection of strings (raw text)."""
    if isinstance(X, str | bytes):
        return True
    dtype = getattr(X, "dtype", None)
    if dtype is not None:
        return dtype.kind in "USO" and any(
            isinstance(value, str | bytes) for value in np.ravel(X)[:100]
        )
    if isinstance(X, list | tuple) and X:
        first = X[0]
        if isinstance(first, str | bytes):
            return True
        if isinstance(first, list | tuple) and first:
            return isinstance(first[0], str | bytes)
    return False
