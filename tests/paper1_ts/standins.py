"""Tiny stand-in models and data for the teacher-student tests (not a test module).

Imported as `tests.paper1_ts.standins`: `python -m pytest` from the repo root and the
fresh child processes of `run_script_json` (PYTHONPATH = repo root) both have the repo
root on sys.path, and `tests/` is a namespace package (no __init__.py), so the same
import line works in the pytest process and in a `python -c` child. Importing it
imports keras: a child that configures devices must do that first.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

CLASSES, FEAT, FRAMES, EMB = 10, 4, 6, 8     # classes, features per frame, frames, embedding


def standin(name: str, seed: int, bn: bool = True) -> keras.Model:
    """A small Conv1D model with the paper models' outputs {"logits", "embedding"}."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, FEAT))                                      # [B, T, F], any T
    h = keras.layers.BatchNormalization()(inp) if bn else inp
    h = keras.layers.Conv1D(EMB, 3, padding="same", activation="relu")(h)   # [B, T, 8]
    h = keras.layers.GlobalAveragePooling1D()(h)                         # [B, 8]
    emb = keras.layers.Dense(EMB, name="embedding")(h)                   # [B, 8]
    logits = keras.layers.Dense(CLASSES, name="logits")(emb)             # [B, 10]
    return keras.Model(inp, {"logits": logits, "embedding": emb}, name=name)


def tiny_batches(n: int = 12, batch: int = 4, seed: int = 0) -> tf.data.Dataset:
    """Batches of {x [B, T, F], x_teacher [B, 2T, F] (x joined to a same-class partner),
    y [B, 10] one-hot, index [B]}."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FRAMES, FEAT)).astype("float32")             # [N, T, F]
    labels = np.arange(n) % CLASSES
    partner = np.array([(i + CLASSES) % n if labels[(i + CLASSES) % n] == labels[i] else i
                        for i in range(n)])
    x_teacher = np.concatenate([x, x[partner]], axis=1)                  # [N, 2T, F]
    y = np.eye(CLASSES, dtype="float32")[labels]                         # [N, 10]
    data = {"x": x, "x_teacher": x_teacher, "y": y, "index": np.arange(n)}
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)
