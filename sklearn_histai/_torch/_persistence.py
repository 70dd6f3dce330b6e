"""A trained network as plain data: numpy arrays, numbers, strings, lists, dicts.

The neural estimators pickle their network this way rather than as torch
objects, so that ``skops.io`` can save and audit them: a saved model then
holds no type but the package's own estimators and the containers numpy and
Python provide, and loading it runs no code of torch's unpickler. A network
whose weights numpy cannot hold (bfloat16, the packed weights of a quantised
layer) keeps the torch pickling.
"""

import numbers

import numpy as np
import torch

# The weight dtypes numpy holds exactly.
_PORTABLE_DTYPES = frozenset(
    {
        torch.float64,
        torch.float32,
        torch.float16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    }
)


def portable_module(module):
    """Whether every entry of the module's state dict is a tensor numpy holds.

    Parameters
    ----------
    module : torch.nn.Module
        A trained network.

    Returns
    -------
    portable : bool
        False where a value is not a plain tensor (the packed parameters of
        a dynamically quantised layer), is quantised, or has a dtype numpy
        lacks (bfloat16).
    """
    return all(
        isinstance(value, torch.Tensor)
        and not value.is_quantized
        and value.dtype in _PORTABLE_DTYPES
        for value in module.state_dict().values()
    )


def to_arrays(value):
    """A copy of ``value`` with its tensors as numpy arrays on the CPU.

    Dicts, lists and tuples are walked; numpy scalars become Python numbers,
    so that what remains is data that ``skops.io`` trusts.

    Parameters
    ----------
    value : object
        Tensors, numbers, strings and containers of them.

    Returns
    -------
    plain : object
        The same structure, without torch objects.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {key: to_arrays(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(to_arrays(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | numbers.Number | np.ndarray):
        return value
    raise TypeError(
        f"Cannot store a {type(value).__qualname__} of a network's state as plain data."
    )


def to_tensors(value):
    """The inverse of :func:`to_arrays`: numpy arrays back into tensors.

    Parameters
    ----------
    value : object
        What :func:`to_arrays` returned.

    Returns
    -------
    restored : object
        The same structure, with tensors where arrays were.
    """
    if isinstance(value, np.ndarray):
        # np.array: a writable copy even of an array loaded read-only.
        return torch.from_numpy(np.array(value))
    if isinstance(value, dict):
        return {key: to_tensors(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(to_tensors(item) for item in value)
    return value
