"""AutoencoderTransformer: codes, reconstructions, denoising, images, bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline

from sklearn_histai.neural_network import AutoencoderTransformer
from sklearn_histai.nn import Autoencoder

from estimator_instances import assert_state_unchanged


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


def _mse(model, X):
    return float(((model.inverse_transform(model.transform(X)) - X) ** 2).mean())


def test_low_rank_data_is_reconstructed_like_pca():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 3) @ rng.randn(3, 10) + 5 + 0.01 * rng.randn(400, 10)
    linear = AutoencoderTransformer(
        n_components=3,
        activation="identity",
        hidden_layer_sizes=(),
        learning_rate=1e-2,
        random_state=0,
    ).fit(X)
    pca = PCA(3).fit(X)
    pca_mse = float(((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean())
    # Three components hold all but the noise: both rebuild the rows far
    # better than their mean does, the autoencoder nearly as well as PCA.
    assert _mse(linear, X) < 0.01 * X.var(axis=0).mean()
    assert _mse(linear, X) < 10 * pca_mse + 1e-3
    assert linear.transform(X).shape == (400, 3)
    assert linear.get_feature_names_out().tolist() == [
        f"autoencodertransformer{i}" for i in range(3)
    ]


def test_non_linear_code_beats_pca_on_digits(digits):
    X, _ = digits
    model = AutoencoderTransformer(n_components=4, random_state=0).fit(X)
    pca = PCA(4).fit(X)
    pca_mse = float(((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean())
    assert _mse(model, X) < pca_mse
    # inverse_transform gives rows in the original scale.
    reconstruction = model.inverse_transform(model.transform(X))
    assert abs(reconstruction.mean() - X.mean()) < 0.5


def test_noise_only_while_training(digits):
    X, _ = digits
    model = AutoencoderTransformer(noise=1.0, max_iter=5, random_state=0).fit(X)
    np.testing.assert_array_equal(model.transform(X), model.transform(X))
    assert model.net_.module_.encoder[0].noise == 1.0
    plain = AutoencoderTransformer(max_iter=5, random_state=0).fit(X)
    assert not np.allclose(plain.transform(X), model.transform(X))


def test_convolutional_on_digit_images(digits):
    X, y = digits
    model = AutoencoderTransformer(
        n_components=8,
        image_shape=(8, 8),
        hidden_layer_sizes=(8,),
        max_iter=30,
        random_state=0,
    ).fit(X)
    convolutions = [
        layer
        for layer in model.net_.module_.modules()
        if isinstance(layer, torch.nn.Conv2d)
    ]
    assert len(convolutions) == 2  # one down in the encoder, one up
    assert model.transform(X).shape == (600, 8)
    assert _mse(model, X) < X.var(axis=0).mean()


def test_codes_feed_kmeans_in_a_pipeline(digits):
    X, y = digits
    pipeline = make_pipeline(
        AutoencoderTransformer(n_components=8, random_state=0),
        KMeans(10, n_init=5, random_state=0),
    )
    labels = pipeline.fit_predict(X)
    assert adjusted_rand_score(y, labels) > 0.3


def test_pickle_clone_and_seed(digits):
    X, _ = digits
    model = AutoencoderTransformer(max_iter=10, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    again = clone(model).fit(X)
    np.testing.assert_array_equal(again.transform(X), model.transform(X))


def test_zero_weights_equal_dropped_rows(digits):
    X, _ = digits
    weights = np.ones(len(X))
    weights[::3] = 0
    params = dict(max_iter=5, batch_size=len(X), optimizer="sgd", random_state=0)
    weighted = AutoencoderTransformer(**params).fit(X, sample_weight=weights)
    dropped = AutoencoderTransformer(**params).fit(X[weights > 0])
    np.testing.assert_allclose(weighted.mean_, dropped.mean_)
    np.testing.assert_allclose(
        weighted.transform(X), dropped.transform(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"image_shape": (7, 7)}, "image_shape=\\(7, 7\\) holds 49 pixels"),
        ({"image_shape": (8, 0)}, "positive integers"),
        ({"image_shape": (8, 8), "hidden_layer_sizes": ()}, "at least one hidden"),
        ({"hidden_layer_sizes": (4, -1)}, "hidden_layer_sizes"),
        ({"n_components": 0}, "n_components"),
    ],
)
def test_bad_parameters(digits, params, match):
    X, _ = digits
    model = AutoencoderTransformer(max_iter=1, **params)
    with assert_state_unchanged(model), pytest.raises(ValueError, match=match):
        model.fit(X)


def test_inverse_transform_checks_the_code_size(digits):
    X, _ = digits
    model = AutoencoderTransformer(n_components=3, max_iter=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_components=3"):
        model.inverse_transform(np.zeros((2, 4)))


def test_input_is_not_modified(digits):
    X, _ = digits
    X = X.copy()
    before = X.copy()
    AutoencoderTransformer(max_iter=2, noise=0.5, random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)


def test_module_shapes():
    net = Autoencoder(12, 3, hidden_layer_sizes=(4, 2), image_shape=(3, 2, 2))
    codes = net.encoder(torch.randn(5, 12))
    assert codes.shape == (5, 3)
    assert net(torch.randn(5, 12)).shape == (5, 12)
    with pytest.raises(ValueError, match="must hold the 12 features"):
        Autoencoder(12, 3, image_shape=(1, 3, 3))
