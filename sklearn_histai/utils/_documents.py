"""The check of raw-text input, shared by every estimator that reads documents."""


def check_documents(X, *, name="X"):
    """Return ``X`` as a list of str, with a clear error for anything else.

    Parameters
    ----------
    X : iterable of str
        The documents: a list, a 1-D array or a pandas Series of strings.
    name : str, default="X"
        The name of the argument in the error messages.

    Returns
    -------
    documents : list of str
    """
    if isinstance(X, str | bytes):
        raise ValueError(
            f"{name} must be an iterable of str documents; got a single "
            f"{type(X).__name__}. Wrap one document in a list: [{name}]."
        )
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of str documents (one document per "
            f"element); got an array of shape {getattr(X, 'shape', None)}. "
            "Select the text column, e.g. X['text'] or X[:, 0]."
        )
    try:
        documents = list(X)
    except TypeError:
        raise TypeError(
            f"{name} must be an iterable of str documents; got {type(X).__name__}."
        ) from None
    for index, document in enumerate(documents):
        if not isinstance(document, str):
            raise TypeError(
                f"{name} must contain only str documents; element {index} is "
                f"{type(document).__name__}: {document!r:.60}. Convert it with "
                "str() or drop it; missing values (None, NaN) must be removed "
                "or replaced by ''."
            )
    if not documents:
        raise ValueError(f"{name} contains no documents.")
    return documents
