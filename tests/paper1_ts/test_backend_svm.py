"""Tests for paper1_ts/backend_svm.py: embeddings, SVM scores, score-sum ensemble, metrics."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from paper1_ts import backend_svm as be
from paper1_ts.train_params import SVMParams

C, D = 4, 6


def _clusters(n_per_class, seed, shift=0.0):
    """Gaussian blobs, one per class, far apart in D dimensions; `shift` moves every point."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).normal(scale=4.0, size=(C, D))
    labels = np.repeat(np.arange(C), n_per_class)
    vectors = centres[labels] + rng.normal(size=(labels.size, D)) + shift
    return be.Embeddings(vectors.astype(np.float32), labels, np.arange(labels.size))


@pytest.mark.parametrize("kernel", ["linear_svc", "linear", "rbf"])
def test_svm_separates_blobs(kernel):
    train, test = _clusters(30, 0), _clusters(20, 1)
    scores = be.svm_backend(train, test, SVMParams(kernel=kernel), n_classes=C)
    assert scores.shape == (test.labels.size, C)
    assert be.accuracy(scores, test.labels) > 0.9


def test_scaler_uses_training_statistics_only():
    train, test = _clusters(30, 0), _clusters(20, 1, shift=100.0)
    svm = be.fit_svm(train, SVMParams(), n_classes=C)
    scaler = svm.steps[0][1]
    np.testing.assert_allclose(scaler.mean_, train.vectors.mean(axis=0), rtol=1e-5, atol=1e-5)
    # scoring the shifted split does not refit the scaler
    be.svm_scores(svm, test.vectors, C)
    np.testing.assert_allclose(scaler.mean_, train.vectors.mean(axis=0), rtol=1e-5, atol=1e-5)


def test_score_columns_follow_class_ids():
    train = _clusters(30, 0)
    svm = be.fit_svm(train, SVMParams(kernel="linear"), n_classes=C)
    test = _clusters(10, 2)
    scores = be.svm_scores(svm, test.vectors, C)
    np.testing.assert_array_equal(be.predictions(scores), svm.predict(test.vectors))


def test_binary_case_gives_two_columns():
    full = _clusters(20, 0)
    keep = full.labels < 2
    train = be.Embeddings(full.vectors[keep], full.labels[keep], full.index[keep])
    svm = be.fit_svm(train, SVMParams(), n_classes=2)
    scores = be.svm_scores(svm, train.vectors, 2)
    assert scores.shape == (train.labels.size, 2)
    np.testing.assert_array_equal(be.predictions(scores), svm.predict(train.vectors))


def test_ensemble_is_mean_and_metrics_by_hand():
    a = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    b = np.array([[0.0, 0.0, 1.0], [0.0, 3.0, 0.0], [4.0, 0.0, 0.0]])
    ens = be.ensemble_scores([a, b])
    np.testing.assert_allclose(ens, [[1.0, 0.0, 0.5], [0.0, 2.0, 0.0], [2.0, 0.0, 0.5]])
    labels = np.array([0, 1, 2])
    assert be.accuracy(a, labels) == pytest.approx(1.0)
    assert be.accuracy(b, labels) == pytest.approx(1 / 3)
    assert be.accuracy(ens, labels) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(be.confusion(ens, labels, 3), [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="shape"):
        be.ensemble_scores([a, b[:2]])


def test_missing_class_is_an_error():
    train = _clusters(10, 0)
    keep = train.labels != 3
    with pytest.raises(ValueError, match=r"\[3\]"):
        be.fit_svm(be.Embeddings(train.vectors[keep], train.labels[keep], train.index[keep]),
                   SVMParams(), n_classes=C)


def _embedder():
    inp = keras.Input((5, 3))                                     # [B, T, F]
    emb = keras.layers.GlobalAveragePooling1D()(inp)              # [B, 3]
    logits = keras.layers.Dense(C)(emb)                           # [B, C]
    return keras.Model(inp, {"logits": logits, "embedding": emb})


def test_extract_embeddings_in_index_order():
    rng = np.random.default_rng(0)
    n = 9
    x = rng.normal(size=(n, 5, 3)).astype("float32")
    labels = np.arange(n) % C
    perm = rng.permutation(n)                                     # pipeline order != index order
    ds = tf.data.Dataset.from_tensor_slices(
        {"x": x[perm], "y": np.eye(C, dtype="float32")[labels[perm]], "index": perm}).batch(4)
    emb = be.extract_embeddings(_embedder(), ds)
    np.testing.assert_array_equal(emb.index, np.arange(n))
    np.testing.assert_array_equal(emb.labels, labels)
    np.testing.assert_allclose(emb.vectors, x.mean(axis=1), rtol=1e-5, atol=1e-6)


def test_extract_embeddings_rejects_repeats_and_empty():
    x = np.zeros((4, 5, 3), "float32")
    base = {"x": x, "y": np.eye(C, dtype="float32")[[0, 1, 2, 3]], "index": np.arange(4)}
    ds = tf.data.Dataset.from_tensor_slices(base).repeat(2).batch(4)
    with pytest.raises(ValueError, match="repeated"):
        be.extract_embeddings(_embedder(), ds)
    with pytest.raises(ValueError, match="no batches"):
        be.extract_embeddings(_embedder(), tf.data.Dataset.from_tensor_slices(base).take(0).batch(4))


def test_bad_svm_params():
    with pytest.raises(ValueError, match="kernel"):
        SVMParams(kernel="poly")
