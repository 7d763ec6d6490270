"""shared.fused_bn: the fused layer gives Keras's BatchNormalization results (outputs and
moving statistics), falls back to Keras's code where the fused kernel does not apply, and
survives a swap and a .keras round trip."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.fused_bn import FusedBatchNormalization, batch_norm_layers, swap_batch_norm


def _pair(shape, **config):
    plain = keras.layers.BatchNormalization(**config)
    plain.build(shape)
    fused = FusedBatchNormalization.from_config(plain.get_config())
    fused.build(shape)
    rng = np.random.default_rng(0)
    weights = [w + rng.normal(0.0, 0.1, w.shape).astype("float32") for w in plain.get_weights()]
    weights[-1] = np.abs(weights[-1]) + 0.5                        # moving variance > 0
    plain.set_weights(weights)
    fused.set_weights(weights)
    return plain, fused


@pytest.mark.parametrize("config", [{}, {"momentum": 0.9, "epsilon": 1.001e-5}, {"center": False, "scale": False}])
def test_training_steps_match_keras(config):
    plain, fused = _pair((8, 6, 5, 4), **config)
    for step in range(3):
        x = tf.random.stateless_normal((8, 6, 5, 4), seed=(step, 1)) * 3.0 + 1.0     # [B, H, W, C]
        np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=2e-5)
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, rtol=1e-5)
    x = tf.random.stateless_normal((8, 6, 5, 4), seed=(9, 9))
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-6)


def test_fused_kernel_runs_only_where_it_applies():
    _, fused = _pair((8, 6, 5, 4))
    x4 = tf.zeros((8, 6, 5, 4))
    assert fused._fusable(x4, True, None)
    assert not fused._fusable(x4, False, None)                      # inference: Keras's code
    assert not fused._fusable(tf.zeros((8, 6, 4)), True, None)      # [B, T, C] (paper 1's 1-D convs)
    assert not fused._fusable(tf.zeros((8, 6, 5, 4), tf.float16), True, None)
    fused.trainable = False                                          # frozen (a teacher): inference mode
    assert not fused._fusable(x4, True, None)
    _, first_axis = _pair((8, 4, 6, 5), axis=1)
    assert not first_axis._fusable(tf.zeros((8, 4, 6, 5)), True, None)


def test_three_d_inputs_still_match_keras():
    plain, fused = _pair((8, 7, 4))
    x = tf.random.stateless_normal((8, 7, 4), seed=(3, 4))
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-6)


def test_swap_keeps_weights_and_outputs_and_the_model_saves(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 10, 3))
    h = keras.layers.Conv2D(8, 3, name="conv")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    out = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs, out)
    swapped = swap_batch_norm(model)
    assert isinstance(swapped.get_layer("bn"), FusedBatchNormalization)
    assert not isinstance(model.get_layer("bn"), FusedBatchNormalization)
    x = tf.random.stateless_normal((4, 12, 10, 3), seed=(5, 6))
    for training in (True, False):
        np.testing.assert_allclose(swapped(x, training=training), model(x, training=training), atol=1e-5)
    path = tmp_path / "m.keras"
    swapped.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("bn"), FusedBatchNormalization)
    np.testing.assert_allclose(loaded(x, training=False), swapped(x, training=False), atol=1e-6)


def test_swap_reaches_nested_models():
    """A keras.applications backbone sits inside the kit's models as a nested model."""
    inputs = keras.Input((12, 10, 3))
    h = keras.layers.BatchNormalization(name="inner_bn")(keras.layers.Conv2D(4, 3)(inputs))
    outer = keras.Sequential([keras.Model(inputs, h), keras.layers.BatchNormalization(name="outer_bn"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    swapped = swap_batch_norm(outer)
    layers = batch_norm_layers(swapped)
    assert [l.name for l in layers] == ["inner_bn", "outer_bn"]
    assert all(isinstance(l, FusedBatchNormalization) for l in layers)
    assert not any(isinstance(l, FusedBatchNormalization) for l in batch_norm_layers(outer))
    x = tf.random.stateless_normal((4, 12, 10, 3), seed=(7, 8))
    np.testing.assert_allclose(swapped(x, training=True), outer(x, training=True), atol=1e-5)
