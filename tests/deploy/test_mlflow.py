"""Serving with MLflow: the package's estimators save, load and serve as MLflow models.

``mlflow.sklearn.save_model`` stores a fitted estimator or pipeline with
``skops`` (MLflow's default format outside Databricks) or ``cloudpickle``;
``mlflow.pyfunc.load_model`` loads it back behind MLflow's generic
``predict``, which is what ``mlflow models serve`` calls for each request.
A raw-text pipeline is saved with a one-dimensional string input example,
so that its signature is a 1-D string tensor and every request format hands
the pipeline a 1-D array of documents.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_histai.linear_model import LogisticRegression
from sklearn_histai.neural_network import FeedForwardClassifier
from sklearn_histai.text import make_text_classifier

from text_estimator_cases import text_corpus

mlflow = pytest.importorskip("mlflow", reason="needs the [serve] extra")
sio = pytest.importorskip("skops.io", reason="needs the [deploy] extra")
pd = pytest.importorskip("pandas")

# Explicit requirements: inferring them runs the model in a subprocess, which
# takes seconds and does not change what is saved or served.
REQUIREMENTS = ["sklearn-histai"]
# How long the model server may take to answer its health check.
SERVER_START_TIMEOUT = 120
REQUEST_TIMEOUT = 30


@pytest.fixture(autouse=True)
def _mlflow_environment(monkeypatch, tmp_path):
    """Keep any tracking data MLflow might write out of the working directory."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())


@pytest.fixture(scope="module")
def numeric_data():
    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X, y


def _numeric_model(name, X, y):
    if name == "feedforward":
        model = FeedForwardClassifier(
            hidden_layer_sizes=(8,), max_iter=5, random_state=0
        )
    else:
        model = make_pipeline(StandardScaler(), LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.fixture(scope="module")
def text_data():
    X, y = text_corpus()
    return X, np.where(y == 1, "positive", "negative")


@pytest.fixture(scope="module")
def text_pipeline(text_data):
    X, y = text_data
    return make_text_classifier("bow", random_state=0).fit(X, y)


def _trusted_types(model):
    """The types skops must trust to load ``model``: only this package's."""
    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    assert all(name.startswith("sklearn_histai.") for name in untrusted), untrusted
    return untrusted


def _save(model, path, serialization_format="skops", **kwargs):
    trusted = _trusted_types(model) if serialization_format == "skops" else None
    mlflow.sklearn.save_model(
        model,
        path,
        serialization_format=serialization_format,
        skops_trusted_types=trusted,
        pip_requirements=REQUIREMENTS,
        **kwargs,
    )
    return path


@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle"])
@pytest.mark.parametrize("name", ["feedforward", "scaled_logistic"])
def test_numeric_model_pyfunc_predicts_as_the_estimator(
    name, serialization_format, numeric_data, tmp_path
):
    """Check that a saved numeric model predicts through pyfunc as in process."""
    X, y = numeric_data
    model = _numeric_model(name, X, y)
    signature = mlflow.models.infer_signature(X, model.predict(X))
    path = _save(
        model,
        tmp_path / "model",
        serialization_format,
        signature=signature,
        input_example=X[:3],
    )
    saved = mlflow.models.Model.load(path)
    assert saved.flavors["sklearn"]["serialization_format"] == serialization_format
    assert saved.signature.inputs.to_dict() == signature.inputs.to_dict()

    pyfunc_model = mlflow.pyfunc.load_model(str(path))
    assert_array_equal(pyfunc_model.predict(X), model.predict(X))
    # The server turns JSON into a DataFrame; the signature maps it back.
    columns = [f"x{i}" for i in range(X.shape[1])]
    assert_array_equal(
        pyfunc_model.predict(pd.DataFrame(X, columns=columns)), model.predict(X)
    )
    example = saved.load_input_example(str(path))
    assert_array_equal(pyfunc_model.predict(example), model.predict(X[:3]))

    loaded = mlflow.sklearn.load_model(str(path))
    assert type(loaded) is type(model)
    assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_skops_format_needs_the_package_types_trusted(numeric_data, tmp_path):
    """Check that MLflow's default skops format refuses our types unless trusted."""
    X, y = numeric_data
    model = _numeric_model("feedforward", X, y)
    with pytest.raises(mlflow.exceptions.MlflowException, match="FeedForward"):
        mlflow.sklearn.save_model(
            model,
            tmp_path / "model",
            serialization_format="skops",
            pip_requirements=REQUIREMENTS,
        )
    path = _save(model, tmp_path / "trusted")
    trusted = mlflow.models.Model.load(path).flavors["sklearn"]["skops_trusted_types"]
    assert trusted == [
        "sklearn_histai.neural_network._feedforward.FeedForwardClassifier"
    ]


@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle"])
def test_text_pipeline_pyfunc_takes_raw_strings(
    serialization_format, text_pipeline, text_data, tmp_path
):
    """Check that a raw-text pipeline predicts through pyfunc from any strings."""
    X, _ = text_data
    expected = text_pipeline.predict(X)
    # A 1-D string example gives a 1-D string tensor signature, inferred
    # from the pipeline's predictions on the example.
    path = _save(
        text_pipeline,
        tmp_path / "model",
        serialization_format,
        input_example=np.array(X[:2]),
    )
    saved = mlflow.models.Model.load(path)
    string_vector = [{"type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}}]
    signature = saved.signature.to_dict()
    assert json.loads(signature["inputs"]) == string_vector
    assert json.loads(signature["outputs"]) == string_vector

    pyfunc_model = mlflow.pyfunc.load_model(str(path))
    for documents in (
        np.array(X),
        pd.Series(X),
        pd.DataFrame({"text": X}),
    ):
        assert_array_equal(pyfunc_model.predict(documents), expected)
    example = saved.load_input_example(str(path))
    assert_array_equal(pyfunc_model.predict(example), expected[:2])
    loaded = mlflow.sklearn.load_model(str(path))
    assert_allclose(loaded.predict_proba(X), text_pipeline.predict_proba(X))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log_path, n_characters=3000):
    try:
        text = log_path.read_text(errors="replace")
    except OSError as error:
        return f"<no server log: {error}>"
    return text[-n_characters:]


def _wait_until_ready(url, process, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"mlflow models serve exited with code {process.returncode} before "
                f"answering {url}/ping. Server log:\n{_log_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"mlflow models serve did not answer {url}/ping within {timeout} s. "
        f"Server log:\n{_log_tail(log_path)}"
    )


def _stop(process):
    """Stop the server's whole process group (mlflow, bash, uvicorn)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def _model_server(model_path, work_dir):
    """Serve ``model_path`` with ``mlflow models serve`` on a free local port."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work_dir / "server.log"
    environment = {
        **os.environ,
        # The server runs `uvicorn` from PATH: the interpreter's own.
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
    }
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        str(model_path),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--env-manager",
        "local",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=work_dir,
            start_new_session=True,
        )
        try:
            _wait_until_ready(url, process, log_path, SERVER_START_TIMEOUT)
            yield url, log_path
        finally:
            _stop(process)


def _post(url, payload, log_path):
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        pytest.fail(
            f"POST {url}/invocations answered {error.code}: "
            f"{error.read().decode(errors='replace')[:2000]}\n"
            f"Server log:\n{_log_tail(log_path)}"
        )


@pytest.mark.slow
def test_text_pipeline_served_by_mlflow_answers_as_in_process(
    text_pipeline, text_data, tmp_path
):
    """Check that MLflow's model server predicts raw text over HTTP as in process."""
    X, _ = text_data
    expected = text_pipeline.predict(X).tolist()
    path = _save(text_pipeline, tmp_path / "model", input_example=np.array(X[:2]))
    serving_example = json.loads((path / "serving_input_example.json").read_text())
    with _model_server(path, tmp_path) as (url, log_path):
        payloads = [
            {"inputs": X},
            {"dataframe_split": {"columns": ["text"], "data": [[d] for d in X]}},
            {"dataframe_records": [{"text": d} for d in X]},
        ]
        for payload in payloads:
            answer = _post(url, payload, log_path)
            assert answer == {"predictions": expected}, next(iter(payload))
        assert _post(url, serving_example, log_path) == {"predictions": expected[:2]}
