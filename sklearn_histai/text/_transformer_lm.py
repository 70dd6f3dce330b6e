"""A GPT-style causal Transformer language model, trained from scratch."""

import numbers

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklearn_histai._torch._docs import COMMON_PARAMETERS_DOC
from sklearn_histai.nn import CausalTransformerNet
from sklearn_histai.nn._transformer import check_num_heads
from sklearn_histai.text._lm_common import LM_PARAMETER_CONSTRAINTS, adaptive_clusters
from sklearn_histai.text._neural_lm import BaseNeuralLanguageModel
from sklearn_histai.utils import ModelHistory
from sklearn_histai.utils._docstrings import fill_doc, replace_entries
from sklearn_histai.utils._token_ids import BOS, PAD


@fill_doc(
    common_parameters=replace_entries(
        COMMON_PARAMETERS_DOC,
        {
            "max_grad_norm": """max_grad_norm : float or None, default=1.0
        Gradients are rescaled so that their global norm is at most this,
        once per optimizer step (GPT's setting); None leaves them as they
        are."""
        },
    )
)
class TransformerLanguageModel(BaseNeuralLanguageModel):
    """Causal Transformer language model (GPT-style), trained from scratch in torch.

    Pre-layer-norm blocks of causal multi-head self-attention (torch's
    fused ``scaled_dot_product_attention``) read each sequence from a start
    symbol and predict every next token and the end of the sequence, with
    the output layer tied to the token embeddings. Like
    :class:`LSTMLanguageModel`, it is a distribution over sequences:
    ``score_samples`` gives the log-likelihood of each sequence, ``score``
    the mean log-likelihood per token, ``perplexity`` its negative
    exponential and ``generate`` samples continuations (temperature,
    top-k). Each distinct id of a matrix (or str of a token list) is a
    token; tokens not seen in ``fit`` are read as one unknown token.

    Parameters
    ----------
    d_model : int, default=128
        Width of the token states (and of the tied embeddings).
    num_heads : int, default=4
        Attention heads of each block; must divide ``d_model``.
    num_layers : int, default=2
        Stacked Transformer blocks.
    dim_feedforward : int or None, default=None
        Hidden units of each block's feed-forward layer; None is
        ``4 * d_model``.
    dropout : float, default=0.0
        Dropout on the embeddings, the residual branches and inside the
        feed-forward layers (0.1 to 0.3 for a corpus the size of the Penn
        Treebank).
    context_length : int, default=128
        Most tokens a prediction attends to. Longer rows are read in
        windows: consecutive ones in training; overlapping by half when
        scoring, so that every token but the first ``context_length`` is
        predicted from at least ``context_length / 2`` tokens before it.
    positions : {"learned", "sinusoidal"}, default="learned"
        Learned position embeddings or the fixed sinusoidal encodings of
        Vaswani et al. (2017).
    tie_weights : bool, default=True
        Whether the output layer shares the embedding matrix (Press & Wolf,
        2017), as GPT does.
    softmax : {"full", "adaptive"}, default="full"
        The output layer. "adaptive" is the adaptive softmax of Grave et al.
        (2017), as in :class:`LSTMLanguageModel`: exact probabilities at a
        fraction of the cost of the full softmax for large vocabularies
        (three times fewer operations per token for the Penn Treebank's
        10,000 words at ``d_model=200``); it cannot tie weights.
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
    LSTMLanguageModel : The recurrent language model.
    NGramLanguageModel : Counts with interpolated Kneser-Ney smoothing.
    TextTokenizer : Turns raw text into rows of token ids.

    Notes
    -----
    Rows are independent sequences. To let the model use context across
    sentences (as in the Penn Treebank set-up of the benchmarks), pass long
    rows, e.g. sentences joined into rows of ``context_length`` tokens.
    ``sample_weight`` weighs sequences; rows of weight zero are dropped
    before the vocabulary is built. Generation recomputes the attention over
    the last ``context_length`` tokens for each new token (no key-value
    cache).

    References
    ----------
    .. [1] Vaswani, A. et al. (2017). "Attention is all you need." NeurIPS.
    .. [2] Radford, A., Narasimhan, K., Salimans, T. and Sutskever, I.
       (2018). "Improving language understanding by generative
       pre-training." OpenAI.
    .. [3] Radford, A., Wu, J., Child, R., Luan, D., Amodei, D. and
       Sutskever, I. (2019). "Language models are unsupervised multitask
       learners." OpenAI.

    Examples
    --------
    >>> from sklearn_histai.text import TransformerLanguageModel
    >>> X = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 10
    >>> lm = TransformerLanguageModel(d_model=16, num_heads=2, max_iter=60,
    ...                               learning_rate=0.01, random_state=0)
    >>> lm = lm.fit(X)
    >>> lm.perplexity([["the", "cat", "sat"]]) < lm.perplexity([["sat", "the", "a"]])
    True
    >>> lm.generate(["a"], max_tokens=5, temperature=0)
    ['cat', 'ran']
    """

    _history = ModelHistory(
        era="attention",
        year=2018,
        reference="Radford et al. (2018)",
        peer=None,
        input="tokens",
    )
    _parameter_constraints = {
        **BaseNeuralLanguageModel._parameter_constraints,
        **LM_PARAMETER_CONSTRAINTS,
        "d_model": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "context_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "positions": [StrOptions({"learned", "sinusoidal"})],
        "tie_weights": ["boolean"],
        "softmax": [StrOptions({"full", "adaptive"})],
    }

    def __init__(
        self,
        *,
        d_model=128,
        num_heads=4,
        num_layers=2,
        dim_feedforward=None,
        dropout=0.0,
        context_length=128,
        positions="learned",
        tie_weights=True,
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
        max_grad_norm=1.0,
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
        self.d_model = d_model
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.context_length = context_length
        self.positions = positions
        self.tie_weights = tie_weights
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

    def _check_params(self):
        super()._check_params()
        check_num_heads(self.d_model, self.num_heads)

    def _build_module(self):
        cutoffs, order = None, None
        if self.softmax == "adaptive":
            cutoffs, order = adaptive_clusters(self._token_counts_)
        return CausalTransformerNet(
            self._n_ids,
            d_model=self.d_model,
            num_heads=self.num_heads,
            num_layers=self.num_layers,
            dim_feedforward=self.dim_feedforward,
            dropout=self.dropout,
            context_length=self.context_length,
            positions=self.positions,
            tie_weights=self.tie_weights,
            padding_idx=PAD,
            excluded_ids=(PAD, BOS),
            adaptive_cutoffs=cutoffs,
            token_order=order,
        )

    def _multiply_adds_per_sample(self, module):
        # Per token: the blocks and the output layer; attention adds
        # context x d_model per layer (scores and weighted sum).
        per_step = sum(p.numel() for p in module.blocks.parameters())
        per_step += sum(p.numel() for p in module.output.parameters())
        context = min(self._mean_steps_, self.context_length)
        per_step += 2 * context * self.d_model * self.num_layers
        return self._mean_steps_ * per_step

    def _next_log_probs(self, context, state):
        check_is_fitted(self)
        module = self.net_.module_
        module.eval()
        ids = torch.tensor([context], device=self.net_.device)
        with torch.inference_mode():
            log_probs = module.next_log_probs(ids)
        return log_probs[0].double().cpu().numpy(), None
