"""Data-parallel training of one network across processes, on ``torch.distributed``.

Every process of a job (launched by ``torchrun`` or ``accelerate launch``)
runs the same script on the same data. Inside :func:`data_parallel`, a
``fit`` cuts each mini-batch into one shard per process; the gradients are
summed across processes before every optimizer step, so all processes keep
the same weights, and the losses the history records are those of the
whole batch. The effective batch is ``batch_size`` times the number of
processes.
"""

import contextvars
import os
from contextlib import contextmanager

import torch
import torch.distributed as dist

from sklearn_histai._torch._skorch import take

# The process group of the data-parallel block being run, or None.
_CURRENT = contextvars.ContextVar("sklearn_histai_data_parallel", default=None)


class DataParallelGroup:
    """The processes that train one network together, and their collectives.

    :func:`data_parallel` yields it; a fit reads it to cut its batches.

    Parameters
    ----------
    group : ProcessGroup or None
        The ``torch.distributed`` group; None is the default group.

    Attributes
    ----------
    rank : int
        This process's rank in the group.
    world_size : int
        The number of processes.
    backend : str
        The group's backend, "gloo" or "nccl".

    Examples
    --------
    >>> import torch.distributed as dist
    >>> from sklearn_histai.parallel import DataParallelGroup
    >>> dist.init_process_group(
    ...     "gloo", init_method="tcp://127.0.0.1:29513", rank=0, world_size=1
    ... )
    >>> group = DataParallelGroup()
    >>> group.rank, group.world_size, group.shard(10)
    (0, 1, slice(0, 10, None))
    >>> dist.destroy_process_group()
    """

    def __init__(self, group=None):
        self.group = group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        # NCCL reduces CUDA tensors only; gloo takes CPU tensors.
        self.backend = dist.get_backend(group)

    def _comm_device(self):
        if self.backend == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    def all_reduce(self, tensor):
        """Return the sum of ``tensor`` over the processes, on its own device.

        Parameters
        ----------
        tensor : torch.Tensor
            This process's tensor; it is not modified.

        Returns
        -------
        total : torch.Tensor
            The element-wise sum over the processes, the same on every one.
        """
        copied = tensor.detach().to(self._comm_device(), copy=True)
        return self._sum_owned(copied).to(tensor.device)

    def _sum_owned(self, tensor):
        """Sum a tensor nobody else holds over the processes (in place if possible)."""
        device = tensor.device
        reduced = tensor.to(self._comm_device())  # no copy when already there
        dist.all_reduce(reduced, group=self.group)
        return reduced.to(device)

    def shard_batch(self, X, y):
        """This process's rows of a batch: its inputs, and its targets and weights.

        Parameters
        ----------
        X : torch.Tensor or dict of torch.Tensor
            The inputs of the batch every process iterates over.
        y : tuple
            Its targets and weights (None when all samples weigh the same).

        Returns
        -------
        X, y : the rows of :meth:`shard`, in the same forms.
        """
        rows = self.shard(len(y[0]))
        return take(X, rows), tuple(None if part is None else part[rows] for part in y)

    def batch_weight(self, y):
        """The weight of the whole batch, from this process's targets and weights.

        Parameters
        ----------
        y : tuple
            This process's targets and weights (None: each row weighs one).

        Returns
        -------
        total : torch.Tensor
            The sum of the weights over every process's shard, a float64
            scalar on the CPU, the same on every process.
        """
        targets, weight = y
        if weight is None:
            local = torch.tensor([float(len(targets))], dtype=torch.float64)
        else:
            local = weight.detach().double().sum().reshape(1).cpu()
        return self._sum_owned(local)[0]

    def broadcast_int(self, value):
        """Return rank 0's ``value`` on every process.

        Parameters
        ----------
        value : int
            This process's value; only rank 0's counts.

        Returns
        -------
        value : int
            Rank 0's value.
        """
        device = self._comm_device()
        tensor = torch.tensor([value], dtype=torch.int64, device=device)
        dist.broadcast(tensor, src=self._global_rank(0), group=self.group)
        return int(tensor.item())

    def check_same(self, value, what):
        """Raise a ValueError unless every process passes the same ``value``.

        Parameters
        ----------
        value : int
            This process's value, e.g. its number of samples.
        what : str
            What the value is, for the message.
        """
        tensor = torch.tensor(
            [value, -value], dtype=torch.int64, device=self._comm_device()
        )
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX, group=self.group)
        high, low = int(tensor[0]), -int(tensor[1])
        if high != low:
            raise ValueError(
                f"Data-parallel training needs the same data on every process, but "
                f"{what} ranges from {low} to {high} across the "
                f"{self.world_size} processes."
            )

    def broadcast_module(self, module):
        """Copy rank 0's parameters and buffers to the module of every process.

        Parameters
        ----------
        module : torch.nn.Module
            This process's copy of the network, changed in place.
        """
        source = self._global_rank(0)
        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                sent = tensor.data.to(self._comm_device())
                dist.broadcast(sent, src=source, group=self.group)
                if sent is not tensor.data:
                    tensor.data.copy_(sent)

    def sum_gradients(self, parameters):
        """Sum the gradients of ``parameters`` over the processes, in place.

        One collective per device and dtype, over the gradients flattened into
        one buffer. A parameter without a gradient on this process (an empty
        shard, an unused layer) contributes zeros, and receives the sum.

        Parameters
        ----------
        parameters : list of torch.nn.Parameter
            The trained parameters, in the same order on every process.
        """
        groups = {}
        for parameter in parameters:
            groups.setdefault((parameter.device, parameter.dtype), []).append(parameter)
        for members in groups.values():
            flat = torch.cat(
                [
                    (
                        torch.zeros_like(p).reshape(-1)
                        if p.grad is None
                        else p.grad.to_dense().reshape(-1)
                    )
                    for p in members
                ]
            )
            flat = self._sum_owned(flat)
            offset = 0
            for p in members:
                size = p.numel()
                p.grad = flat[offset : offset + size].view_as(p)
                offset += size

    def shard(self, n_rows):
        """The rows of a batch that this process trains on.

        Parameters
        ----------
        n_rows : int
            The rows of the batch every process iterates over.

        Returns
        -------
        rows : slice
            Contiguous shards, in rank order, of sizes that differ by at
            most one; a shard is empty when the batch has fewer rows than
            there are processes.
        """
        return slice(
            self.rank * n_rows // self.world_size,
            (self.rank + 1) * n_rows // self.world_size,
        )

    def device(self, device):
        """This process's device for a resolved ``device``.

        Parameters
        ----------
        device : str
            The estimator's resolved device.

        Returns
        -------
        device : str
            ``device`` itself, except "cuda" (no index): the GPU of the
            process's ``LOCAL_RANK``.
        """
        if device != "cuda":
            return device
        local_rank = int(os.environ.get("LOCAL_RANK", self.rank))
        return f"cuda:{local_rank % torch.cuda.device_count()}"

    def _global_rank(self, group_rank):
        if self.group is None:
            return group_rank
        return dist.get_global_rank(self.group, group_rank)


def current_group():
    """The :class:`DataParallelGroup` of the enclosing ``data_parallel``, or None."""
    return _CURRENT.get()


@contextmanager
def data_parallel(*, backend=None, group=None):
    """Fit the networks of the block with data parallelism across processes.

    Run the same script, on the same data, in every process of a
    ``torch.distributed`` job (``torchrun --nproc-per-node N script.py`` or
    ``accelerate launch``). Inside the block, each ``fit`` of a neural
    estimator of this package splits every mini-batch of ``batch_size *
    N`` rows into one shard per process and sums the gradients across the
    processes before each optimizer step (the data parallelism of
    :class:`torch.nn.parallel.DistributedDataParallel`). Every process
    ends with the same fitted estimator; save it from rank 0.

    The training is that of one process with an N times larger
    ``batch_size``: the losses in ``history_`` are those of the whole
    batch, early stopping decides alike everywhere, and sample weights and
    gradient accumulation keep their meaning. Batch-normalisation layers
    see their own shard's statistics, as under ``DistributedDataParallel``.

    Parameters
    ----------
    backend : {"gloo", "nccl"} or None, default=None
        The backend of the process group this block creates when none is
        initialised (from the ``torchrun`` environment): None picks "nccl"
        with CUDA and "gloo" without. Ignored when a group already exists.
    group : ProcessGroup or None, default=None
        The group of processes to train with; None is the default group.

    Yields
    ------
    group : DataParallelGroup
        The processes' ``rank`` and ``world_size``.

    Raises
    ------
    RuntimeError
        If no process group is initialised and the process was not started
        by a launcher (no ``WORLD_SIZE`` in the environment).

    Examples
    --------
    >>> import torch.distributed as dist
    >>> from sklearn_histai.parallel import data_parallel
    >>> dist.init_process_group(
    ...     "gloo", init_method="tcp://127.0.0.1:29512", rank=0, world_size=1
    ... )
    >>> with data_parallel() as group:
    ...     print(group.rank, group.world_size)
    0 1
    >>> dist.destroy_process_group()
    """
    if not dist.is_available():
        raise RuntimeError("This build of torch has no torch.distributed.")
    created = False
    if not dist.is_initialized():
        if "WORLD_SIZE" not in os.environ:
            raise RuntimeError(
                "data_parallel() needs a torch.distributed process group: launch "
                "the script with `torchrun --nproc-per-node N script.py` (or "
                "`accelerate launch`), or call torch.distributed.init_process_group "
                "first."
            )
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            local_rank = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local_rank % torch.cuda.device_count())
        dist.init_process_group(backend)
        created = True
    token = _CURRENT.set(DataParallelGroup(group))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)
        if created:
            dist.destroy_process_group()
