"""Sequence-labelling metrics: token accuracy and entity-level precision, recall, F1."""

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import StrOptions, validate_params

_SCHEMES = {"BIO": set("BIO"), "BIOES": set("BIOES")}


def _rows_of(y, name):
    """Tag sequences as a list of lists (a 1-D array is one tag per sample)."""
    if isinstance(y, np.ndarray):
        return [[tag] for tag in y] if y.ndim == 1 else [list(row) for row in y]
    if isinstance(y, str) or not hasattr(y, "__len__"):
        raise ValueError(f"{name} must be a list of tag sequences, got {y!r}.")
    rows = []
    for row in y:
        if isinstance(row, str) or not hasattr(row, "__len__"):
            rows.append([row])
        else:
            rows.append(list(row))
    return rows


def _check_pair(y_true, y_pred):
    true, pred = _rows_of(y_true, "y_true"), _rows_of(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(
            f"y_true has {len(true)} sequences but y_pred has {len(pred)}."
        )
    for i, (a, b) in enumerate(zip(true, pred)):
        if len(a) != len(b):
            raise ValueError(
                f"Sequence {i} has {len(a)} true tags but {len(b)} predicted tags."
            )
    return true, pred


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def token_accuracy_score(y_true, y_pred, *, sample_weight=None):
    """Fraction of tokens whose predicted tag equals the true tag.

    Parameters
    ----------
    y_true : list of tag lists or array-like
        True tags: one list per sentence, or an array (each row a sentence,
        or one tag per sample when 1-D).
    y_pred : list of tag lists or array-like
        Predicted tags, aligned with ``y_true``.
    sample_weight : array-like of shape (n_sentences,), default=None
        Weight of each sentence, given to each of its tokens.

    Returns
    -------
    accuracy : float
        Correct tokens over all tokens (weighted).

    Examples
    --------
    >>> from sklearn_histai.text import token_accuracy_score
    >>> token_accuracy_score([["DET", "NOUN"], ["VERB"]], [["DET", "VERB"], ["VERB"]])
    0.666...
    """
    true, pred = _check_pair(y_true, y_pred)
    weights = np.ones(len(true)) if sample_weight is None else np.asarray(sample_weight)
    if weights.shape != (len(true),):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, expected ({len(true)},)."
        )
    correct = np.array([sum(a == b for a, b in zip(t, p)) for t, p in zip(true, pred)])
    counts = np.array([len(t) for t in true])
    total = np.sum(counts * weights)
    if total == 0:
        raise ValueError("token_accuracy_score needs at least one token.")
    return float(np.sum(correct * weights) / total)


def _split_tag(tag):
    """(prefix, type) of a tag such as "B-PER"; "O" and other tags are outside."""
    if isinstance(tag, str) and len(tag) > 1 and tag[1] in "-_" and tag[0] in "BIES":
        return tag[0], tag[2:]
    if isinstance(tag, str) and tag in ("B", "I", "E", "S"):
        return tag, ""
    return "O", ""


def _chunk_ends(previous, current, previous_type, current_type):
    # conlleval's rules, as seqeval's default mode applies them.
    if previous in ("E", "S"):
        return True
    if previous in ("B", "I") and current in ("B", "S", "O"):
        return True
    return previous != "O" and previous_type != current_type


def _chunk_starts(previous, current, previous_type, current_type):
    if current in ("B", "S"):
        return True
    if previous in ("E", "S", "O") and current in ("E", "I"):
        return True
    return current != "O" and previous_type != current_type


def _entities_default(tags):
    entities, start, kind = [], None, ""
    previous, previous_type = "O", ""
    for position, tag in enumerate([*tags, "O"]):
        prefix, tag_type = _split_tag(tag)
        if start is not None and _chunk_ends(previous, prefix, previous_type, tag_type):
            entities.append((kind, start, position - 1))
            start = None
        if _chunk_starts(previous, prefix, previous_type, tag_type):
            start, kind = position, tag_type
        previous, previous_type = prefix, tag_type
    return entities


def _entities_strict(tags, scheme):
    """Only well-formed entities: B-X I-X* (BIO) or S-X | B-X I-X* E-X (BIOES)."""
    entities, start, kind = [], None, ""
    for position, tag in enumerate(tags):
        prefix, tag_type = _split_tag(tag)
        if prefix not in _SCHEMES[scheme]:
            raise ValueError(f"Tag {tag!r} does not belong to the {scheme} scheme.")
        inside = start is not None and tag_type == kind
        if scheme == "BIO":
            if start is not None and not (prefix == "I" and inside):
                entities.append((kind, start, position - 1))
                start = None
            if prefix == "B":
                start, kind = position, tag_type
        else:
            if prefix == "S":
                start = None
                entities.append((tag_type, position, position))
            elif prefix == "B":
                start, kind = position, tag_type
            elif prefix == "E" and inside:
                entities.append((kind, start, position))
                start = None
            elif not (prefix == "I" and inside):
                start = None
    if scheme == "BIO" and start is not None:
        entities.append((kind, start, len(tags) - 1))
    return entities


def extract_entities(tags, *, scheme="BIO", strict=False):
    """The entities (type, first, last) of one tag sequence.

    Parameters
    ----------
    tags : sequence of str
        Tags such as ``"B-PER"``, ``"I-PER"``, ``"O"`` (``"E-"`` and ``"S-"``
        too with BIOES).
    scheme : {"BIO", "BIOES"}, default="BIO"
        The tagging scheme; only read with ``strict=True``.
    strict : bool, default=False
        False follows conlleval (seqeval's default mode): an ``I-X`` after
        ``O`` or another type starts an entity. True keeps only entities
        that are well formed in ``scheme`` (seqeval's strict mode).

    Returns
    -------
    entities : list of tuple
        ``(type, first position, last position)`` of each entity.

    Examples
    --------
    >>> from sklearn_histai.text import extract_entities
    >>> extract_entities(["B-PER", "I-PER", "O", "I-LOC"])
    [('PER', 0, 1), ('LOC', 3, 3)]
    >>> extract_entities(["B-PER", "I-PER", "O", "I-LOC"], strict=True)
    [('PER', 0, 1)]
    """
    if scheme not in _SCHEMES:
        raise ValueError(f'scheme must be "BIO" or "BIOES", got {scheme!r}.')
    tags = list(tags)
    return _entities_strict(tags, scheme) if strict else _entities_default(tags)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "scheme": [StrOptions(set(_SCHEMES))],
        "strict": ["boolean"],
        "average": [StrOptions({"micro", "macro", "weighted"}), None],
    },
    prefer_skip_nested_validation=True,
)
def entity_precision_recall_fscore_support(
    y_true, y_pred, *, scheme="BIO", strict=False, average="micro"
):
    """Entity-level precision, recall, F1 and support (seqeval's conventions).

    An entity counts as found only when its type and both boundaries match.
    Precision is found / predicted entities, recall found / true entities
    (both 0 when their denominator is 0), F1 their harmonic mean.

    Parameters
    ----------
    y_true : list of tag lists
        True tags of each sentence (BIO or BIOES, e.g. ``"B-PER"``).
    y_pred : list of tag lists
        Predicted tags, aligned with ``y_true``.
    scheme : {"BIO", "BIOES"}, default="BIO"
        The tagging scheme, read with ``strict=True``.
    strict : bool, default=False
        Whether only well-formed entities count (seqeval's strict mode);
        else conlleval's lenient reading (seqeval's default).
    average : {"micro", "macro", "weighted"} or None, default="micro"
        Pool all entities ("micro"), average the scores of the types
        ("macro", or "weighted" by support), or None for one score per type.

    Returns
    -------
    precision, recall, f1 : float or ndarray
        Per type (sorted) when ``average`` is None.
    support : int or ndarray
        Number of true entities (per type when ``average`` is None).
    types : ndarray of str
        The entity types, sorted (those of both the true and the predicted
        tags).

    Examples
    --------
    >>> from sklearn_histai.text import entity_precision_recall_fscore_support
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    >>> p, r, f, support, types = entity_precision_recall_fscore_support(y_true, y_pred)
    >>> float(p), float(r), int(support)
    (0.5, 0.5, 2)
    """
    true, pred = _check_pair(y_true, y_pred)
    true_entities = {
        (i, *e)
        for i, row in enumerate(true)
        for e in extract_entities(row, scheme=scheme, strict=strict)
    }
    pred_entities = {
        (i, *e)
        for i, row in enumerate(pred)
        for e in extract_entities(row, scheme=scheme, strict=strict)
    }
    found = true_entities & pred_entities
    types = np.array(sorted({e[1] for e in true_entities | pred_entities}), dtype=str)

    def count(entities):
        return np.array([sum(e[1] == t for e in entities) for t in types], dtype=float)

    if average == "micro":
        n_found, n_true, n_pred = len(found), len(true_entities), len(pred_entities)
        precision = n_found / n_pred if n_pred else 0.0
        recall = n_found / n_true if n_true else 0.0
        return precision, recall, _f1(precision, recall), n_true, types
    n_found, n_true, n_pred = count(found), count(true_entities), count(pred_entities)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_pred > 0, n_found / n_pred, 0.0)
        recall = np.where(n_true > 0, n_found / n_true, 0.0)
        f1 = np.where(
            precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0
        )
    support = n_true.astype(int)
    if average is None:
        return precision, recall, f1, support, types
    if len(types) == 0:
        return 0.0, 0.0, 0.0, 0, types
    weights = None if average == "macro" else n_true
    if weights is not None and weights.sum() == 0:
        return 0.0, 0.0, 0.0, 0, types
    return (
        float(np.average(precision, weights=weights)),
        float(np.average(recall, weights=weights)),
        float(np.average(f1, weights=weights)),
        int(support.sum()),
        types,
    )


def _f1(precision, recall):
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def entity_precision_score(
    y_true, y_pred, *, scheme="BIO", strict=False, average="micro"
):
    """Entity-level precision: the share of predicted entities that are right.

    Parameters
    ----------
    y_true : list of tag lists
        True tags of each sentence.
    y_pred : list of tag lists
        Predicted tags, aligned with ``y_true``.
    scheme : {"BIO", "BIOES"}, default="BIO"
        The tagging scheme, read with ``strict=True``.
    strict : bool, default=False
        Whether only well-formed entities count.
    average : {"micro", "macro", "weighted"}, default="micro"
        How the entity types are pooled.

    Returns
    -------
    precision : float

    Examples
    --------
    >>> from sklearn_histai.text import entity_precision_score
    >>> entity_precision_score([["B-PER", "O"]], [["B-PER", "B-LOC"]])
    0.5
    """
    return entity_precision_recall_fscore_support(
        y_true, y_pred, scheme=scheme, strict=strict, average=average
    )[0]


def entity_recall_score(y_true, y_pred, *, scheme="BIO", strict=False, average="micro"):
    """Entity-level recall: the share of true entities that are found.

    Parameters
    ----------
    y_true : list of tag lists
        True tags of each sentence.
    y_pred : list of tag lists
        Predicted tags, aligned with ``y_true``.
    scheme : {"BIO", "BIOES"}, default="BIO"
        The tagging scheme, read with ``strict=True``.
    strict : bool, default=False
        Whether only well-formed entities count.
    average : {"micro", "macro", "weighted"}, default="micro"
        How the entity types are pooled.

    Returns
    -------
    recall : float

    Examples
    --------
    >>> from sklearn_histai.text import entity_recall_score
    >>> entity_recall_score([["B-PER", "B-LOC"]], [["B-PER", "O"]])
    0.5
    """
    return entity_precision_recall_fscore_support(
        y_true, y_pred, scheme=scheme, strict=strict, average=average
    )[1]


def entity_f1_score(y_true, y_pred, *, scheme="BIO", strict=False, average="micro"):
    """Entity-level F1, the harmonic mean of entity precision and recall.

    The standard score of named-entity recognition (CoNLL); the default
    follows seqeval's default mode (conlleval's lenient chunking).

    Parameters
    ----------
    y_true : list of tag lists
        True tags of each sentence.
    y_pred : list of tag lists
        Predicted tags, aligned with ``y_true``.
    scheme : {"BIO", "BIOES"}, default="BIO"
        The tagging scheme, read with ``strict=True``.
    strict : bool, default=False
        Whether only well-formed entities count.
    average : {"micro", "macro", "weighted"}, default="micro"
        How the entity types are pooled.

    Returns
    -------
    f1 : float

    Examples
    --------
    >>> from sklearn_histai.text import entity_f1_score
    >>> entity_f1_score([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])
    1.0
    """
    return entity_precision_recall_fscore_support(
        y_true, y_pred, scheme=scheme, strict=strict, average=average
    )[2]


token_accuracy_scorer = make_scorer(token_accuracy_score)
token_accuracy_scorer.__doc__ = (
    "Scorer of :func:`token_accuracy_score` for GridSearchCV."
)
entity_f1_scorer = make_scorer(entity_f1_score)
entity_f1_scorer.__doc__ = "Scorer of :func:`entity_f1_score` for GridSearchCV."
