"""Docstring text of the parameters every network-training estimator shares."""

CLASS_WEIGHT_DOC = """class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss; "balanced" weighs each class
        inversely to its frequency. A dict maps class labels (all of them
        classes of ``y``) to weights; classes it leaves out weigh 1."""

LABEL_SMOOTHING_DOC = """label_smoothing : float, default=0.0
        The cross-entropy's target puts ``1 - label_smoothing`` on the true
        class and spreads ``label_smoothing`` evenly over all classes
        (Szegedy et al., 2016), which keeps the network from growing
        over-confident; sample and class weights apply as without it."""

AUGMENTATION_DOC = """augmentation : str, Augmentation, callable, list or None, \
default=None
        Transformations of each training mini-batch, never of the
        validation rows of early stopping or of the rows of ``predict``
        and ``score``: a name, an instance of
        :mod:`sklearn_histai.augmentation` (other settings), a callable, or
        a list of them, applied in order. Names: "shift", "flip", "rotate"
        (images: ``image_shape`` set), "noise", "mixup" (numeric rows,
        sequences and images), "deletion", "swap", "insertion", "synonym"
        (token ids and texts: the operations of Wei & Zou, 2019, each on
        every row) and "eda" (one of the four per row, or none, as Wei &
        Zou train). A
        callable maps the batch tensor to one of the same shape; for
        raw-text estimators it maps a list of texts to a list of texts
        (e.g. back-translation): the texts as the tokenizer reads them,
        decoded from their tokens (truncated to ``max_length``, in lower
        case for an uncased checkpoint), then tokenised again."""

COMMON_PARAMETERS_DOC = """\
max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" means ``min(200, n_samples)``.
    learning_rate : float, default=1e-3
        Initial learning rate of the optimizer.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        The optimizer; "sgd" uses Nesterov momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty (decoupled weight decay with "adamw").
    lr_schedule : {"constant", "linear", "cosine"}, default="constant"
        Learning-rate decay over all training steps, after the warm-up.
        A decaying schedule reaches zero at ``max_iter`` epochs, so a fit
        that runs them all warns of non-convergence only with "constant".
    warmup_fraction : float, default=0.0
        Fraction of the training steps over which the learning rate rises
        linearly from 0 to ``learning_rate``.
    early_stopping : bool or "auto", default="auto"
        Whether to hold out ``validation_fraction`` of the training data
        (stratified for classifiers) and stop when the validation loss stops
        improving, restoring the weights of the best epoch. When False,
        training stops when the training loss stops improving. "auto" enables
        it from 1,000 training samples on.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs in a row whose monitored loss does not beat the best so far
        by at least ``tol`` (scikit-learn's MLP rule) before stopping.
    tol : float, default=1e-4
        Minimum improvement of the monitored loss.
    gradient_accumulation_steps : int, default=1
        Mini-batches whose gradients are averaged into each optimizer step
        (as one batch of their combined size would be; an epoch's last,
        shorter group is averaged over its own batches).
    max_grad_norm : float or None, default=None
        Clip the global L2 norm of the gradient of each optimizer step to
        this value: the gradient averaged over accumulated batches, once,
        after undoing fp16 loss scaling. None does not clip.
    adversarial : {"fgm", "pgd"} or None, default=None
        Adversarial training: each training batch is also perturbed, within
        an L2 ball of radius ``adversarial_epsilon`` per row, in the
        direction that increases the loss most, and training minimises the
        clean plus the adversarial loss (``train_loss`` records their sum).
        "fgm" takes one step along the normalised gradient (Goodfellow et
        al., 2015; Miyato et al., 2017), "pgd" takes ``adversarial_steps``
        projected steps of ``2.5 * adversarial_epsilon / adversarial_steps``
        (Madry et al., 2018). Continuous input is perturbed itself; token
        ids and texts at the output of the input embedding layer. An epoch
        costs about twice (fgm) or ``adversarial_steps + 1`` times (pgd) as
        much; prediction is unchanged.
    adversarial_epsilon : float, default=1.0
        The L2 norm of each row's adversarial perturbation ("fgm"), or its
        largest norm ("pgd"), on the scale of the input (or embeddings).
    adversarial_steps : int, default=3
        The gradient steps of "pgd".
    mixed_precision : bool or {"bf16", "fp16"}, default=False
        Autocast the forward pass to 16-bit floats. True chooses bfloat16
        where the device supports it, else float16 with loss scaling.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    num_threads : int or "auto", default="auto"
        Intra-op threads torch may use during ``fit`` and ``predict``. "auto"
        uses one thread for small networks (where more threads only add
        synchronisation, and oversubscribe cores shared with other
        processes) and torch's setting otherwise; in a task of a Dask
        worker, at most the worker's ``OMP_NUM_THREADS`` (one by default),
        since the worker runs one task per thread. Restored afterwards.
    warm_start : bool, default=False
        Whether ``fit`` continues from the weights of the previous fit. It
        builds a new optimizer (as scikit-learn's MLP does): Adam's moment
        estimates and the learning-rate schedule start afresh, so one
        ``fit`` with more ``max_iter`` trains better than several warm
        starts.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, shuffling, dropout and the
        validation split. torch's global random state is left untouched.
    verbose : int, default=0
        0 is silent, 1 prints a table per epoch, 2 adds a progress bar."""

# The fitted attributes of the networks over sequences (recurrent, Transformer).
SEQUENCE_CLASSIFIER_ATTRIBUTES_DOC = """classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features (steps × features per step, or tokens) seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of network outputs (the number of classes).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch.
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module."""

SEQUENCE_REGRESSOR_ATTRIBUTES_DOC = """n_features_in_ : int
        Number of features (steps × features per step, or tokens) seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.
    n_outputs_ : int
        Number of targets.
    y_mean_ : ndarray of shape (`n_outputs_`,)
        Mean of the training targets.
    y_scale_ : ndarray of shape (`n_outputs_`,)
        Standard deviation of the training targets (1 where constant).
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (R², with early stopping) and ``dur`` (seconds).
    loss_curve_ : list of float
        The training loss of each epoch (on standardised targets).
    net_ : skorch.NeuralNet
        The trained skorch network; ``net_.module_`` is the torch module."""
