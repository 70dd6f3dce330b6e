"""What an augmentation is, what it may know of the data, how a parameter names one."""

import numbers

import torch

# The forms of input a network reads, which decide what an augmentation may do.
INPUT_KINDS = ("image", "tabular", "sequence", "tokens", "text")


class Augmentation:
    """Base of the mini-batch augmentations.

    An augmentation transforms a training mini-batch, on the device the
    network trains on, and never the rows of a validation split or of a
    prediction. Subclasses set ``input_kinds`` (the inputs they apply to,
    among "image", "tabular", "sequence", "tokens" and "text") and
    implement ``_augment(X, y, context)``, which :meth:`augment` calls
    (the template of imbalanced-learn's samplers). They hold settings only:
    whatever they learn of the data lives in the
    :class:`AugmentationContext` of one ``fit``.

    Examples
    --------
    An augmentation that zeroes one random feature of each row:

    >>> import torch
    >>> from sklearn_histai.augmentation import Augmentation, AugmentationContext
    >>> class FeatureDropout(Augmentation):
    ...     input_kinds = frozenset({"tabular"})
    ...     def _augment(self, X, y, context):
    ...         column = torch.randint(0, X.shape[1], (len(X),))
    ...         return X.scatter(1, column[:, None], 0.0), y
    >>> X = torch.ones(2, 3)
    >>> dropped, _ = FeatureDropout().augment(X, (None, None), None)
    >>> dropped.sum(dim=1)
    tensor([2., 2.])

    An instance goes wherever a name does:
    ``FeedForwardClassifier(augmentation=[FeatureDropout(), "mixup"])``.
    """

    input_kinds = frozenset()

    def __init__(self):
        # Settings only, in subclasses; nothing learnt of the data.
        pass

    def augment(self, X, y, context):
        """Return the augmented mini-batch ``(X, y)``.

        Parameters
        ----------
        X : tensor or dict of tensors
            The mini-batch as the network reads it.
        y : tuple of (tensor, tensor or None)
            The targets and the sample weights of the rows.
        context : AugmentationContext
            What the estimator knows of its input.

        Returns
        -------
        X : tensor or dict of tensors
            The augmented input, in the same form.
        y : tuple of (tensor, tensor or None)
            The targets and sample weights of the augmented rows.
        """
        return self._augment(X, y, context)

    def _augment(self, X, y, context):
        raise NotImplementedError(
            f"{type(self).__name__} must implement _augment(X, y, context)."
        )

    def __repr__(self):
        settings = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({settings})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self), tuple(sorted(vars(self).items()))))


class MixedTargets:
    """Targets of rows that mix two samples: ``lam * first + (1 - lam) * second``.

    The loss of such a row mixes the losses of the two targets with the same
    coefficients, which for the cross-entropy equals the loss of the mixed
    one-hot target (mixup, Zhang et al., 2018).

    Parameters
    ----------
    first, second : tensor of shape (n_rows, ...)
        The targets of the two samples of each row.
    lam : tensor of shape (n_rows,)
        The share of ``first``.
    """

    def __init__(self, first, second, lam):
        self.first = first
        self.second = second
        self.lam = lam

    def __len__(self):
        return len(self.first)

    def to(self, device):
        """The same targets on ``device``."""
        return MixedTargets(
            self.first.to(device), self.second.to(device), self.lam.to(device)
        )


class AugmentationContext:
    """What one ``fit`` knows of its input, for the augmentations to read.

    Parameters
    ----------
    kind : {"image", "tabular", "sequence", "tokens", "text"}
        The form of the input.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of each flat row of an image.
    feature_scale : tensor of shape (n_features,) or None, default=None
        The standard deviation of each feature in the training data.
    padding : int, float or None, default=None
        The padding id (tokens) or value (float sequences); None if none.
    protected_ids : sequence of int, default=()
        Token ids that no token operation moves or replaces (special tokens).
    embedding_table : callable or None, default=None
        Returns the current embedding matrix of the network (token input).
    table_is_fixed : bool, default=False
        Whether that matrix stays the same during training (pretrained and
        frozen), so its nearest neighbours are computed once.
    candidate_ids : tensor or None, default=None
        The token ids the synonyms are drawn among (the estimators pass the
        10,000 most frequent ids of their training data); other ids are
        their own synonyms.
    decode, encode : callable or None, default=None
        For raw-text estimators: token ids to texts, and texts to the
        network's input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.augmentation import AugmentationContext
    >>> context = AugmentationContext("tokens", padding=0, protected_ids=(2, 3))
    >>> context.protected(torch.tensor([[2, 7, 9, 3, 0]]))
    tensor([[ True, False, False,  True,  True]])
    """

    def __init__(
        self,
        kind,
        *,
        image_shape=None,
        feature_scale=None,
        padding=None,
        protected_ids=(),
        embedding_table=None,
        table_is_fixed=False,
        candidate_ids=None,
        decode=None,
        encode=None,
    ):
        if kind not in INPUT_KINDS:
            raise ValueError(f"kind must be one of {INPUT_KINDS}; got {kind!r}.")
        self.kind = kind
        self.image_shape = image_shape
        self.feature_scale = feature_scale
        self.padding = padding
        self.protected_ids = tuple(protected_ids)
        self.embedding_table = embedding_table
        self.table_is_fixed = table_is_fixed
        self.candidate_ids = candidate_ids
        self.decode = decode
        self.encode = encode
        self._neighbours = {}

    def new_epoch(self):
        """Forget the nearest neighbours of a table that training changes.

        Returns
        -------
        None
        """
        if not self.table_is_fixed:
            self._neighbours = {}

    def neighbours(self, n_neighbors, device):
        """The ``n_neighbors`` nearest ids of every id, by cosine similarity.

        Only the candidate ids have neighbours (among the candidates); any
        other id is its own neighbour. Computed once per epoch (once per fit
        for a fixed table).

        Parameters
        ----------
        n_neighbors : int
            The neighbours of each id.
        device : str or torch.device
            Where the table of neighbours is computed and kept.

        Returns
        -------
        neighbours : tensor of shape (n_ids, n_neighbors)
            The neighbour ids of each id, nearest first.
        """
        key = (n_neighbors, str(device))
        if key not in self._neighbours:
            self._neighbours[key] = _nearest(
                self.embedding_table(), self.candidate_ids, n_neighbors, device
            )
        return self._neighbours[key]

    def protected(self, ids):
        """The positions of ``ids`` that token operations leave alone.

        Parameters
        ----------
        ids : tensor of shape (n_rows, n_positions)
            Token ids.

        Returns
        -------
        mask : tensor of bool, of the shape of ``ids``
            True at padding and at the special ids.
        """
        protected = list(self.protected_ids)
        if self.padding is not None:
            protected.append(self.padding)
        return torch.isin(ids, torch.tensor(protected, dtype=ids.dtype).to(ids.device))


def _nearest(table, candidates, n_neighbors, device, chunk=2048):
    """Nearest candidate rows of ``table`` (cosine) for every row, itself excluded."""
    with torch.no_grad():
        table = table.detach().to(device=device, dtype=torch.float32)
        n_ids = len(table)
        neighbours = torch.arange(n_ids, device=device)[:, None].repeat(1, n_neighbors)
        candidates = candidates.to(device)
        if len(candidates) < 2:
            return neighbours
        k = min(n_neighbors, len(candidates) - 1)
        unit = torch.nn.functional.normalize(table[candidates], dim=1)
        for start in range(0, len(candidates), chunk):
            rows = candidates[start : start + chunk]
            similarity = unit[start : start + chunk] @ unit.T
            # An id is not its own synonym.
            similarity[
                torch.arange(len(rows)), start + torch.arange(len(rows))
            ] = -torch.inf
            best = similarity.topk(k, dim=1).indices
            found = candidates[best]
            if k < n_neighbors:
                found = torch.cat([found, found[:, :1].repeat(1, n_neighbors - k)], 1)
            neighbours[rows] = found
        return neighbours


class _Callable(Augmentation):
    """A user's function of the mini-batch's input, applied to every training batch.

    For raw-text estimators the function maps a list of texts to a list of
    texts (the batch is decoded, transformed and encoded again); for the
    others it maps the batch tensor to a tensor of the same shape.
    """

    input_kinds = frozenset(INPUT_KINDS)

    def __init__(self, function):
        self.function = function

    def _augment(self, X, y, context):
        if context.kind == "text":
            texts = context.decode(X)
            augmented = self.function(list(texts))
            if not isinstance(augmented, list | tuple) or len(augmented) != len(texts):
                raise ValueError(
                    "An augmentation callable of a raw-text estimator must return "
                    f"a list of {len(texts)} texts, one per text it was given; got "
                    f"{type(augmented).__name__}."
                )
            return context.encode(augmented, like=X), y
        augmented = self.function(X)
        if not isinstance(augmented, torch.Tensor) or augmented.shape != X.shape:
            raise ValueError(
                "An augmentation callable must return a tensor of the shape of the "
                f"batch it was given, {tuple(X.shape)}; got "
                f"{getattr(augmented, 'shape', type(augmented).__name__)}."
            )
        return augmented, y


class BatchAugmenter:
    """The augmentations of one ``fit``, applied in order to each training batch."""

    def __init__(self, augmentations, context):
        self.augmentations = augmentations
        self.context = context

    def __call__(self, X, y):
        for augmentation in self.augmentations:
            X, y = augmentation.augment(X, y, self.context)
        return X, y


def resolve_augmentation(augmentation, names, kind):
    """Return the list of augmentations a parameter value names, checked for ``kind``.

    Parameters
    ----------
    augmentation : None, str, Augmentation, callable or list of them
        The ``augmentation`` parameter of an estimator.
    names : dict
        Maps each name to its augmentation class.
    kind : str
        The form of the estimator's input.

    Returns
    -------
    augmentations : list of Augmentation
    """
    if augmentation is None:
        return []
    items = augmentation if isinstance(augmentation, list | tuple) else [augmentation]
    if not items:
        return []
    resolved = []
    for item in items:
        if isinstance(item, str):
            if item not in names:
                raise ValueError(
                    f"augmentation={item!r} is not a known augmentation; the names "
                    f"are {sorted(names)}, or pass an Augmentation or a callable."
                )
            item = names[item]()
        elif not isinstance(item, Augmentation):
            if not callable(item) or isinstance(item, numbers.Number):
                raise ValueError(
                    "augmentation must be None, a name, an Augmentation, a "
                    f"callable or a list of them; got {item!r}."
                )
            item = _Callable(item)
        if kind not in item.input_kinds:
            raise ValueError(
                f"augmentation {item!r} does not apply to {kind} input; it applies "
                f"to {sorted(item.input_kinds)} input."
                + (
                    " Image augmentations need image_shape."
                    if "image" in item.input_kinds and kind in ("tabular", "sequence")
                    else ""
                )
            )
        resolved.append(item)
    return resolved
