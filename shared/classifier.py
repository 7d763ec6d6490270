"""A trained network together with its front end, saved as one `.keras` file.

    clf = AudioClassifier(branch, features=to_dict(feature_params), classes=spec.classes,
                          crop_frames=150, hop_frames=75, feature_dtype="float16",
                          mean=norm[0], std=norm[1])
    clf.save("model.keras")                       # architecture + weights + front end
    clf = load_classifier("model.keras")          # the same object back
    clf.feature_params                            # FeatureParams: the front end to apply

`call` takes feature crops exactly as the training pipeline (shared/pipeline.py) feeds
them to the network: features in the cache's dtype (`feature_dtype`) cast to float32,
normalised per (bin, channel) with the TRAINING split's statistics (`mean`, `std`, or
none), and returns the wrapped network's output (paper 2: logits [B, C]; paper 1: a dict
with "logits" and "embedding"). Everything the front end needs (FeatureParams as a dict,
crop length and hop, class names, the normalisation) is in the model's config, so a
`.keras` file alone classifies audio (shared/inference.py does the audio -> crops part).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

import shared.fused_bn  # noqa: F401  (registers FusedBatchNormalization: stored models hold it)
from shared.config import override
from shared.features.params import FeatureParams


@keras.saving.register_keras_serializable(package="kd_kit")
class AudioClassifier(keras.Model):
    """A network plus the facts of its front end (see the module docstring).

    Args:
      network: the trained keras model (features [B, frames, ...] -> output).
      features: FeatureParams as a dict (shared.config.to_dict).
      classes: class names, in the order of the network's outputs.
      crop_frames: frames per crop (None: whole clips, paper 1).
      hop_frames: hop between evaluation crops (None: crop_frames).
      feature_dtype: dtype the features were stored in while training (float16/float32);
        inference rounds to it, as the cache did.
      mean, std: per-(bin, channel) normalisation of the training split (or None).
      about: JSON-able facts kept with the model (store key, branch, data set, ...).
    """

    def __init__(self, network: keras.Model, features: dict, classes: Sequence[str],
                 crop_frames: int | None = None, hop_frames: int | None = None,
                 feature_dtype: str = "float32", mean: Any = None, std: Any = None,
                 about: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.features = dict(features)
        self.classes = [str(c) for c in classes]
        self.crop_frames = None if crop_frames is None else int(crop_frames)
        self.hop_frames = None if hop_frames is None else int(hop_frames)
        self.feature_dtype = str(feature_dtype)
        if (mean is None) != (std is None):
            raise ValueError("AudioClassifier: give both mean and std, or neither")
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.std = None if std is None else np.asarray(std, np.float32)
        self.about = dict(about or {})
        self.feature_params                          # a bad features dict fails here, not later
        self.built = network.built                   # nothing of its own to build

    @property
    def feature_params(self) -> FeatureParams:
        return override(FeatureParams(), self.features, source="AudioClassifier.features")

    @property
    def hop(self) -> int | None:
        return self.hop_frames or self.crop_frames

    def call(self, x, training=False):
        x = tf.cast(x, tf.float32)                                        # [B, frames, ...]
        if self.mean is not None:
            x = (x - self.mean) / self.std                                # as shared.pipeline
        return self.network(x, training=False)

    def get_config(self) -> dict:
        return {"name": self.name,
                "network": keras.saving.serialize_keras_object(self.network),
                "features": self.features, "classes": self.classes,
                "crop_frames": self.crop_frames, "hop_frames": self.hop_frames,
                "feature_dtype": self.feature_dtype,
                "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist(),
                "about": self.about}

    @classmethod
    def from_config(cls, config: dict) -> "AudioClassifier":
        config = dict(config)
        network = keras.saving.deserialize_keras_object(config.pop("network"))
        return cls(network, **config)


def load_classifier(path: str | os.PathLike) -> AudioClassifier:
    """An AudioClassifier saved with `.save(path)`.

    Raises:
      FileNotFoundError: no such file.
      ValueError: the file is not a `.keras` file of an AudioClassifier (names it).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as err:                     # zip, config or weights errors of many kinds
        raise ValueError(f"{path}: not a loadable .keras model ({' '.join(str(err).split())[:200]})") \
            from None
    if not isinstance(model, AudioClassifier):
        raise ValueError(f"{path}: a {type(model).__name__}, not a model exported by the kit "
                         "(it carries no front end); export one with --export")
    return model


__all__ = ["AudioClassifier", "load_classifier"]
