"""One GPU per Dask worker, and data-parallel fits on GPUs; skipped without CUDA."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from sklearn_histai.neural_network import FeedForwardClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def _worker_devices():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), torch.cuda.device_count()


def _fit_on_worker(X, y):
    return FeedForwardClassifier(max_iter=3, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def gpu_cluster():
    """One single-threaded worker per GPU, each seeing only its own device."""
    distributed = pytest.importorskip("distributed")
    workers = {
        f"gpu-{index}": {
            "cls": distributed.Nanny,
            "options": {
                "nthreads": 1,
                "env": {"CUDA_VISIBLE_DEVICES": str(index)},
            },
        }
        for index in range(torch.cuda.device_count())
    }
    scheduler = {
        "cls": distributed.Scheduler,
        "options": {"dashboard_address": None, "host": "127.0.0.1"},
    }
    with (
        distributed.SpecCluster(workers=workers, scheduler=scheduler) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, client


def test_each_worker_trains_on_its_own_gpu(gpu_cluster):
    """Check that device="auto" uses each worker's GPU, with no other setting."""
    _, client = gpu_cluster
    devices = client.run(_worker_devices)
    assert sorted(visible for visible, _ in devices.values()) == [
        str(index) for index in range(torch.cuda.device_count())
    ]
    assert all(count == 1 for _, count in devices.values())
    X, y = make_classification(200, 6, random_state=0)
    futures = [
        client.submit(_fit_on_worker, X, y, workers=[address], pure=False)
        for address in devices
    ]
    for model in client.gather(futures):
        assert model.net_.device == "cuda"
        assert model.score(X, y) > 0.7


def test_cpu_only_client_predicts_with_a_model_from_a_gpu_worker(gpu_cluster):
    """Check that a client without CUDA gathers a GPU-trained model and predicts."""
    cluster, _ = gpu_cluster
    script = textwrap.dedent(
        f"""
        import torch
        from distributed import Client
        from sklearn.datasets import make_classification
        from sklearn_histai.neural_network import FeedForwardClassifier

        assert not torch.cuda.is_available()

        def fit(X, y):
            return FeedForwardClassifier(max_iter=3, random_state=0).fit(X, y)

        X, y = make_classification(200, 6, random_state=0)
        with Client({cluster.scheduler_address!r}) as client:
            model = client.submit(fit, X, y, pure=False).result()
        assert model.net_.device == "cpu"
        print(model.score(X, y))
        """
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split()[-1]) > 0.7


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_data_parallel_on_two_gpus(tmp_path):
    """Check a 2-GPU torchrun job (NCCL) against one GPU with twice the batch."""
    job = os.path.join(os.path.dirname(__file__), "data_parallel_job.py")
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["CUDA_VISIBLE_DEVICES"] = "0,1"
    for command in (
        [sys.executable, job, str(tmp_path)],
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            "29561",
            job,
            str(tmp_path),
        ],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    for case in ("weighted", "uneven", "lstm"):
        with np.load(tmp_path / f"{case}-single.npz") as single:
            for rank in (0, 1):
                with np.load(tmp_path / f"{case}-{rank}.npz") as parallel:
                    np.testing.assert_allclose(
                        parallel["train_loss"], single["train_loss"], rtol=1e-4
                    )
