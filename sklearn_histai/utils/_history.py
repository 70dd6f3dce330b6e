"""Where each estimator stands in the history of machine learning."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelHistory:
    """Historical metadata attached to every public estimator of the package.

    The model-comparison tools (:mod:`sklearn_histai.compare`) and the README
    table read this metadata, so a new estimator only has to declare it as the
    class attribute ``_history``.

    Parameters
    ----------
    era : {"symbolic", "classical", "neural", "text", "attention", "pretrained"}
        The era of machine learning the model belongs to.
    year : int
        The year the method was introduced.
    reference : str
        Short citation of the work that introduced the method.
    peer : str or None, default=None
        Dotted path ``"module:Class"`` of the nearest scikit-learn estimator,
        used as the baseline in comparisons, or None when there is none.
    peer_params : tuple of (str, object) pairs, default=()
        Parameters passed to the peer so that both solve the same problem.
    input : {"tabular", "image", "sequence", "text", "tokens"}, default="tabular"
        The kind of input the estimator is designed for.

    Examples
    --------
    >>> from sklearn_histai.utils import ModelHistory, get_history
    >>> from sklearn_histai.tree import DecisionTreeClassifier
    >>> history = get_history(DecisionTreeClassifier)
    >>> history.era, history.year
    ('classical', 1984)
    >>> ModelHistory(
    ...     era="neural", year=1986, reference="Rumelhart et al. (1986)",
    ...     peer="sklearn.neural_network:MLPClassifier",
    ... ).make_peer()
    MLPClassifier()
    """

    era: str
    year: int
    reference: str
    peer: str | None = None
    peer_params: tuple = ()
    input: str = "tabular"

    def make_peer(self):
        """Build the scikit-learn peer estimator, or return None.

        Returns
        -------
        peer : estimator or None
            A new unfitted instance of the peer estimator.
        """
        if self.peer is None:
            return None
        from importlib import import_module

        module_name, class_name = self.peer.split(":")
        peer_class = getattr(import_module(module_name), class_name)
        return peer_class(**dict(self.peer_params))


def get_history(estimator):
    """Return the :class:`ModelHistory` of an estimator or estimator class.

    Parameters
    ----------
    estimator : estimator instance or class
        A public estimator of sklearn_histai.

    Returns
    -------
    history : ModelHistory or None
        The metadata, or None when the estimator declares none.

    Examples
    --------
    >>> from sklearn_histai.utils import ModelHistory, get_history
    >>> class Legendre:
    ...     _history = ModelHistory(era="classical", year=1805, reference="Legendre")
    >>> get_history(Legendre).year
    1805
    """
    return getattr(estimator, "_history", None)
