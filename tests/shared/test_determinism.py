"""Same seed, same machine -> identical training numbers (op determinism on)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.determinism import (DeterminismParams, op_determinism_enabled, seed_everything,
                                set_op_determinism)


@pytest.fixture
def restore_op_determinism():
    before = op_determinism_enabled()
    yield
    set_op_determinism(before)


def _train(seed: int) -> tuple[list, list]:
    """Seeds, then a short fit of a small conv net with dropout on seeded random data."""
    seed_everything(DeterminismParams(seed=seed))
    x = np.random.normal(size=(64, 16, 8, 2)).astype("float32")     # drawn AFTER seeding
    y = keras.utils.to_categorical(np.random.randint(0, 3, 64), 3)
    model = keras.Sequential([keras.Input((16, 8, 2)), keras.layers.Conv2D(8, 3, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=seed).batch(16)
    hist = model.fit(ds, epochs=3, verbose=0)
    return hist.history["loss"] + hist.history["accuracy"], model.get_weights()


def test_same_seed_gives_identical_metrics_and_weights(restore_op_determinism):
    m1, w1 = _train(3)
    assert op_determinism_enabled()
    m2, w2 = _train(3)
    assert m1 == m2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    m3, _ = _train(4)
    assert m3 != m1, "a different seed must change the run"


def test_switch_and_bad_seed(restore_op_determinism):
    seed_everything(DeterminismParams(seed=0, op_determinism=False))
    assert not op_determinism_enabled()
    seed_everything(5)
    assert op_determinism_enabled()
    with pytest.raises(ValueError, match="seed"):
        DeterminismParams(seed=-1)
