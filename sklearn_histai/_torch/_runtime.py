"""Where and how torch runs: devices, precision, threads, subnormal floats, seeding."""

import numbers
import os
import sys
import threading
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

# The device types a network can be placed on by name.
DEVICE_TYPES = ("cpu", "cuda")

# Below this many multiply-adds per training batch, a second intra-op
# thread costs more in synchronisation than it gains, and when other
# processes compete for the cores it was measured up to 30x slower.
SMALL_WORK = 1_000_000_000

# The numpy dtype of the float rows fed to a network of each dtype. numpy
# has no bfloat16: a network cast to it (``sklearn_histai.deploy.quantize``)
# takes float32 rows, which the estimator casts to bfloat16 tensors.
NUMPY_DTYPES = {
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.float16: np.float16,
    torch.bfloat16: np.float32,
}

# The float dtypes a network trains in; one in half precision, or holding
# int8 layers, only predicts.
TRAINING_DTYPES = frozenset({torch.float32, torch.float64})

# The parameter constraints of ``device`` and ``num_threads``, shared by
# every estimator that trains a network; ``resolve_device`` checks the rest.
DEVICE_CONSTRAINT = [str, torch.device]
NUM_THREADS_CONSTRAINT = [
    Interval(numbers.Integral, 1, None, closed="left"),
    StrOptions({"auto"}),
]


def resolve_device(device):
    """Return the torch device string for the ``device`` parameter.

    Parameters
    ----------
    device : str or torch.device
        "auto" (CUDA when available), "cpu", "cuda", "cuda:N" or a
        ``torch.device`` of those types.

    Returns
    -------
    device : str
        A device string torch accepts, e.g. "cpu" or "cuda:0".
    """
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a device: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type not in DEVICE_TYPES:
        raise ValueError(
            f"device={device!r} is not supported: this package trains on "
            "'cpu' or 'cuda' ('cuda:N'), or 'auto' to pick CUDA when available."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available; "
                'use device="cpu" or device="auto".'
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} names CUDA device {resolved.index}, but only "
                f"{torch.cuda.device_count()} are available."
            )
    return str(resolved)


def resolve_precision(mixed_precision, device):
    """Return the autocast dtype name ("bf16", "fp16") or None for full precision.

    Parameters
    ----------
    mixed_precision : bool or {"bf16", "fp16"}
        The estimator's parameter; True picks bfloat16 where the device
        supports it, else float16.
    device : str
        The resolved device.

    Returns
    -------
    precision : {"bf16", "fp16"} or None
    """
    if mixed_precision is False:
        return None
    if mixed_precision is True:
        if torch.device(device).type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16"
    return mixed_precision


def autocast_context(device, precision):
    """Autocast context for ``precision`` (None, "bf16" or "fp16") on ``device``."""
    if precision is None:
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def threads_for(num_threads, work):
    """Intra-op threads for a call that does ``work`` multiply-adds per batch.

    Parameters
    ----------
    num_threads : int or "auto"
        The estimator's parameter.
    work : float
        Multiply-adds of one forward pass over a batch.

    Returns
    -------
    n_threads : int
        ``num_threads`` itself, or for "auto" one thread for small work and
        :func:`thread_budget` otherwise.
    """
    if num_threads != "auto":
        return num_threads
    if work < SMALL_WORK:
        return 1
    return thread_budget()


def thread_budget():
    """The intra-op threads a task of this process may use.

    Torch's setting, except in a task of a Dask worker: the worker runs
    several tasks at once, one per worker thread, and torch's thread pool
    is shared by the whole process, so each task gets the threads the
    worker's environment gives native code: ``OMP_NUM_THREADS``, which
    Dask's nanny sets to 1 (raise it in the configuration key
    ``distributed.nanny.pre-spawn-environ`` for fewer, larger tasks), and
    one where it says nothing.

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> import torch
    >>> from sklearn_histai.parallel import thread_budget
    >>> thread_budget() == torch.get_num_threads()  # not in a Dask worker
    True
    """
    n_threads = torch.get_num_threads()
    if _in_dask_worker():
        try:
            per_task = int(os.environ.get("OMP_NUM_THREADS", "1"))
        except ValueError:
            per_task = 1
        n_threads = min(n_threads, max(per_task, 1))
    return n_threads


def _in_dask_worker():
    """Whether the calling thread runs a task of a Dask worker."""
    distributed = sys.modules.get("distributed")
    if distributed is None:  # never imported: no worker in this process
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def flushes_denormals():
    """Whether this thread's CPU flushes subnormal floats to zero."""
    return torch.tensor(1e-39, dtype=torch.float32).mul(1.0).item() == 0.0


@contextmanager
def cpu_context(n_threads):
    """Torch's CPU threads, with subnormal floats flushed to zero, for one call.

    Gradients that vanish through long recurrences (an LSTM read over
    hundreds of steps) underflow into subnormal floats, on which x86
    arithmetic is many times slower: the backward pass of a 64-unit LSTM
    over 256 steps ran 15x faster with them flushed. Flushing only rounds
    values below 1.2e-38 (float32) to zero. Both settings are restored
    afterwards; the flush applies to the calling thread, which runs small
    networks and autograd's CPU work.
    """
    before = torch.get_num_threads()
    flushing = flushes_denormals()
    if n_threads != before:
        torch.set_num_threads(n_threads)
    if not flushing:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
        if not flushing:
            torch.set_flush_denormal(False)


# torch has one global random generator per device, and the layers draw
# from it (weight initialisation, dropout). A fit seeds it for its own use,
# so fits in concurrent threads of one process take turns: otherwise their
# draws interleave and the same random_state gives different models.
_GLOBAL_GENERATOR = threading.RLock()


@contextmanager
def seeded(seed, device):
    """Seed torch's global generators for the block, then restore them.

    The block holds a process-wide lock: what it draws from torch's global
    generators (weight initialisation, dropout) depends on ``seed`` alone,
    whatever other threads do. The user's generator state is restored
    afterwards.

    Parameters
    ----------
    seed : int
        The seed of the block.
    device : str
        The resolved device; its CUDA generator is seeded and restored too.
    """
    devices = [torch.device(device)] if device.startswith("cuda") else []
    with _GLOBAL_GENERATOR, torch.random.fork_rng(devices=devices):
        if devices:
            torch.manual_seed(seed)
        else:
            # The CPU generator alone: torch.manual_seed also queues the
            # seeding of every accelerator's generators, recording a stack
            # trace for each, which cost a small fit a sixth of a millisecond.
            torch.default_generator.manual_seed(seed)
        yield


def draw_seed(random_state):
    """Draw a torch seed from a scikit-learn ``random_state``."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def module_dtype(module):
    """The float dtype of a module's first parameter.

    A module without parameters (every layer quantised to int8, whose
    packed weights are not parameters) computes in float32.
    """
    parameter = next(module.parameters(), None)
    return torch.float32 if parameter is None else parameter.dtype


def inference_only(module):
    """Whether a network can only predict: it holds int8 or half-precision layers.

    Parameters
    ----------
    module : torch.nn.Module
        A trained network, e.g. one of ``sklearn_histai.deploy.quantize``.

    Returns
    -------
    inference_only : bool
        True where an entry of its state dict is not a plain tensor (the
        packed weights of a dynamically quantised layer), is quantised, or
        is a float tensor in a dtype that training does not use.
    """
    for value in module.state_dict().values():
        if not isinstance(value, torch.Tensor) or value.is_quantized:
            return True
        if value.is_floating_point() and value.dtype not in TRAINING_DTYPES:
            return True
    return False


def to_device(inputs, device):
    """Move a tensor, or a dict of tensors, to ``device``; None stays None."""
    if inputs is None:
        return None
    if isinstance(inputs, dict):
        return {key: value.to(device) for key, value in inputs.items()}
    return inputs.to(device)
