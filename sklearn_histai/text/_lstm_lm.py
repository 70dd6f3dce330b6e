"""A neural language model: a stacked LSTM trained with truncated BPTT."""

import numbers

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_histai._torch._docs import COMMON_PARAMETERS_DOC
from sklearn_histai.nn import LSTMLanguageNet
from sklearn_histai.text._lm_common import LM_PARAMETER_CONSTRAINTS, adaptive_clusters
from sklearn_histai.text._neural_lm import BaseNeuralLanguageModel
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc, replace_entries
from sklearn_histai.utils._token_ids import BOS, PAD


@fill_doc(
    common_parameters=replace_entries(
        COMMON_PARAMETERS_DOC,
        {
            "max_grad_norm": """max_grad_norm : float or None, default=5.0
        Gradients are rescaled so that their global norm is at most this
        (exploding gradients are the classic failure of recurrent language
        models), once per optimizer step; None leaves them as they are."""
        },
    )
)
class LSTMLanguageModel(BaseNeuralLanguageModel):
    """LSTM language model: the probability of token sequences, learnt by torch.

    A stacked LSTM reads each sequence from a start symbol and predicts
    every next token and the end of the sequence, so the model is a
    distribution over sequences (a density estimator in scikit-learn's
    sense): ``score_samples`` gives the log-likelihood of each sequence,
    ``score`` the mean log-likelihood per token, ``perplexity`` its negative
    exponential and ``generate`` samples continuations.

    Training minimises the mean negative log-likelihood per token of each
    sequence with truncated back-propagation through time: the hidden state
    runs through the whole sequence, gradients flow back ``bptt`` steps.
    Each distinct id of a matrix (or str of a token list) is a token;
    tokens not seen in ``fit`` are read as one unknown token.

    Parameters
    ----------
    embedding_dim : int, default=200
        Size of the token embeddings.
    hidden_size : int, default=200
        Units of each LSTM layer.
    num_layers : int, default=2
        Stacked LSTM layers.
    dropout : float, default=0.0
        Dropout on the embeddings, between the layers and before the output
        layer (the regularisation of Zaremba et al., 2014).
    tie_weights : bool, default=False
        Whether the output layer shares the embedding matrix (Press & Wolf,
        2017; Inan et al., 2017), with a projection when
        ``hidden_size != embedding_dim``. It saves parameters and usually
        lowers the perplexity.
    bptt : int, default=35
        Steps of truncated back-propagation through time.
    softmax : {"full", "adaptive"}, default="full"
        The output layer. "adaptive" is the adaptive softmax of Grave et al.
        (2017): the tokens covering 80% of the training text form the head,
        the next 15% and the rest two tail clusters of smaller dimension.
        It gives exact (normalised) probabilities at a fraction of the cost
        of the full softmax for large vocabularies; it cannot tie weights.
    padding_value : "auto", int, float or None, default="auto"
        Right padding of matrix rows. "auto" is 0 for integer matrices (the
        padding id of ``TextTokenizer``) and no padding for float matrices
        (of whole numbers). Ignored for token lists.
    %(common_parameters)s

    Attributes
    ----------
    vocabulary_ : ndarray
        The distinct tokens seen in ``fit``, sorted (str for token lists).
    n_features_in_ : int
        Number of positions of the matrix seen in ``fit`` (matrix input only).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the positions seen during ``fit``, when they are all strings.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss`` (mean negative log-likelihood per
        token), ``valid_loss`` and ``valid_score`` (mean log-likelihood per
        token, with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module.

    See Also
    --------
    NGramLanguageModel : Counts with interpolated Kneser-Ney smoothing.
    TextTokenizer : Turns raw text into rows of token ids.

    Notes
    -----
    Rows are independent sequences: the state starts afresh at each row. To
    let the model use context across sentences (as in the classic Penn
    Treebank set-up), pass long rows, e.g. a document per row; the state then
    carries over sentence boundaries and gradients are truncated every
    ``bptt`` steps. ``sample_weight`` weighs sequences; rows of weight zero
    are dropped before the vocabulary is built.

    References
    ----------
    .. [1] Zaremba, W., Sutskever, I. and Vinyals, O. (2014). "Recurrent neural
       network regularization." arXiv:1409.2329.
    .. [2] Mikolov, T., Karafiát, M., Burget, L., Černocký, J. and Khudanpur,
       S. (2010). "Recurrent neural network based language model."
       Interspeech.
    .. [3] Press, O. and Wolf, L. (2017). "Using the output embedding to
       improve language models." EACL.

    Examples
    --------
    >>> from sklearn_histai.text import LSTMLanguageModel
    >>> X = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 10
    >>> lm = LSTMLanguageModel(embedding_dim=16, hidden_size=16, num_layers=1,
    ...                        max_iter=60, learning_rate=0.02, random_state=0)
    >>> lm = lm.fit(X)
    >>> lm.perplexity([["the", "cat", "sat"]]) < lm.perplexity([["sat", "the", "a"]])
    True
    >>> lm.generate(["a"], max_tokens=5, temperature=0)
    ['cat', 'ran']
    """

    _history = ModelHistory(
        era="text",
        year=2014,
        reference="Zaremba, Sutskever & Vinyals (2014)",
        peer=None,
        input="tokens",
    )
    _parameter_constraints = {
        **BaseNeuralLanguageModel._parameter_constraints,
        **LM_PARAMETER_CONSTRAINTS,
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "tie_weights": ["boolean"],
        "bptt": [Interval(numbers.Integral, 1, None, closed="left")],
        "softmax": [StrOptions({"full", "adaptive"})],
    }

    def __init__(
        self,
        *,
        embedding_dim=200,
        hidden_size=200,
        num_layers=2,
        dropout=0.0,
        tie_weights=False,
        bptt=35,
        softmax="full",
        padding_value="auto",
        max_iter=200,
        batch_size="auto",
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="constant",
        warmup_fraction=0.0,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        gradient_accumulation_steps=1,
        max_grad_norm=5.0,
        adversarial=None,
        adversarial_epsilon=1.0,
        adversarial_steps=3,
        mixed_precision=False,
        device="auto",
        num_threads="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.tie_weights = tie_weights
        self.bptt = bptt
        self.softmax = softmax
        self.padding_value = padding_value
        super().__init__(
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            gradient_accumulation_steps=gradient_accumulation_steps,
            max_grad_norm=max_grad_norm,
            adversarial=adversarial,
            adversarial_epsilon=adversarial_epsilon,
            adversarial_steps=adversarial_steps,
            mixed_precision=mixed_precision,
            device=device,
            num_threads=num_threads,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )

    def _build_module(self):
        cutoffs, order = None, None
        if self.softmax == "adaptive":
            cutoffs, order = adaptive_clusters(self._token_counts_)
        return LSTMLanguageNet(
            self._n_ids,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            tie_weights=self.tie_weights,
            bptt=self.bptt,
            padding_idx=PAD,
            excluded_ids=(PAD, BOS),
            adaptive_cutoffs=cutoffs,
            token_order=order,
        )

    def _multiply_adds_per_sample(self, module):
        per_step = sum(p.numel() for p in module.lstm.parameters())
        per_step += sum(p.numel() for p in module.output.parameters())
        return self._mean_steps_ * per_step

    def _next_log_probs(self, context, state):
        check_is_fitted(self)
        module = self.net_.module_
        module.eval()
        new = context if state is None else context[-1:]
        ids = torch.tensor([new], device=self.net_.device)
        with torch.inference_mode():
            log_probs, state = module.step(ids, state)
        return log_probs[0, -1].double().cpu().numpy(), state
