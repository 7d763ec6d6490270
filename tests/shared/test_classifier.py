"""AudioClassifier: a network with its front end survives .keras save/load unchanged."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from shared.classifier import AudioClassifier, load_classifier
from shared.config import to_dict
from shared.features.params import FeatureParams


def _net(bins=8, classes=3):
    keras.utils.set_random_seed(0)
    x = keras.Input((None, bins, 1))
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, padding="same")(x))
    return keras.Model(x, keras.layers.Dense(classes)(h))


def test_round_trip_keeps_front_end_normalisation_and_outputs(tmp_path):
    features = FeatureParams(kind="logmel", sample_rate=16000, n_mels=8)
    mean = np.linspace(-1, 1, 8, dtype=np.float32)[:, None]
    std = np.linspace(0.5, 2, 8, dtype=np.float32)[:, None]
    clf = AudioClassifier(_net(), features=to_dict(features), classes=["a", "b", "c"], crop_frames=10,
                          hop_frames=5, feature_dtype="float16", mean=mean, std=std,
                          about={"branch": 1, "channels": 1})
    x = np.random.default_rng(0).normal(size=(2, 10, 8, 1)).astype(np.float32)
    expected = np.asarray(clf.network((x - mean) / std))          # what the pipeline feeds the net
    np.testing.assert_allclose(np.asarray(clf(x)), expected, rtol=1e-6)
    clf.save(tmp_path / "m.keras")
    back = load_classifier(tmp_path / "m.keras")
    assert back.feature_params == features and back.classes == ["a", "b", "c"]
    assert (back.crop_frames, back.hop, back.feature_dtype, back.about) == (10, 5, "float16",
                                                                             {"branch": 1, "channels": 1})
    np.testing.assert_allclose(np.asarray(back(x)), expected, rtol=1e-6)


def test_files_that_are_not_exported_classifiers_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_classifier(tmp_path / "none.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.keras: not a loadable .keras model"):
        load_classifier(tmp_path / "junk.keras")
    _net().save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="plain.keras: a Functional, not a model exported by the kit"):
        load_classifier(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="both mean and std"):
        AudioClassifier(_net(), features={}, classes=["a"], mean=np.zeros(8))
