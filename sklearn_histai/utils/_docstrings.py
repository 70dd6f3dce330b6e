"""The one mechanism for docstring text that several estimators share."""

import re

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def fill_doc(**pieces):
    """Return a decorator that substitutes ``%(name)s`` in a docstring.

    Each placeholder is replaced by ``pieces[name]``; pieces may hold
    placeholders of their own (a shared entry with a per-class default),
    filled from the same ``pieces``. A placeholder without a piece raises
    at import, so no docstring ships with an unsubstituted ``%(``.

    Parameters
    ----------
    **pieces : str
        The text of each placeholder; parameter entries after the first are
        indented by four spaces, as in a class docstring.

    Returns
    -------
    decorate : callable
        Substitutes the docstring of the class or function it decorates
        and returns it.
    """

    def decorate(obj):
        obj.__doc__ = substitute(obj.__doc__, pieces)
        return obj

    return decorate


def substitute(doc, pieces):
    """Return ``doc`` with every ``%(name)s`` replaced from ``pieces``.

    Parameters
    ----------
    doc : str
        The text with placeholders.
    pieces : dict of str
        The text of each placeholder.

    Returns
    -------
    doc : str
        The text without placeholders.
    """

    def replace(match):
        name = match.group(1)
        if name not in pieces:
            raise KeyError(f"The docstring placeholder %({name})s has no text.")
        return substitute(pieces[name], pieces)

    return _PLACEHOLDER.sub(replace, doc)


def replace_entries(doc, replacements):
    """Replace the numpydoc parameter entries of ``doc`` named in ``replacements``.

    Parameters
    ----------
    doc : str
        Parameter entries as in :func:`fill_doc` pieces.
    replacements : dict of str
        The whole new entry (``"name : type, default=..."`` and its
        description) of each replaced parameter.

    Returns
    -------
    doc : str
        The entries, the named ones replaced.
    """
    entries = []
    for line in doc.split("\n"):
        name = line.strip().split(" : ")[0]
        if " : " in line and not line.startswith("        "):
            entries.append([name, line.strip()])
        else:
            entries[-1].append(line.strip())
    unknown = set(replacements) - {name for name, *_ in entries}
    if unknown:
        raise KeyError(f"No parameter entries to replace for {sorted(unknown)}.")
    lines = []
    for name, *body in entries:
        text = replacements.get(name)
        lines.append(text if text is not None else _indent(body))
    return "\n    ".join(lines)


def _indent(body):
    return "\n".join([body[0]] + ["        " + line for line in body[1:]])
