"""shared.fused_bn: the fused layer gives Keras's BatchNormalization results (outputs and
moving statistics) on 2-D, 3-D and 4-D inputs, falls back to Keras's code where the fused kernel does not apply, and
survives a swap and a .keras round trip."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.fused_bn import (FusedBatchNormalization, batch_norm, batch_norm_layers, current_batch_norm,
                             set_batch_norm, swap_batch_norm, with_batch_norm)


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


# [B, H, W, C] (2-D convs), [B, T, C] (paper 1's 1-D convs; run as [B*T, 1, 1, C]), [B, C]
SHAPES = [(8, 6, 5, 4), (8, 7, 4), (8, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=["4d", "3d", "2d"])
@pytest.mark.parametrize("config", [{}, {"momentum": 0.9, "epsilon": 1.001e-5}, {"center": False, "scale": False}])
def test_training_steps_match_keras(config, shape):
    plain, fused = _pair(shape, **config)
    assert fused._fusable(tf.zeros(shape), True, None)
    for step in range(3):
        x = tf.random.stateless_normal(shape, seed=(step, 1)) * 3.0 + 1.0
        np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=2e-5)
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, rtol=1e-5)
    x = tf.random.stateless_normal(shape, seed=(9, 9))
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-6)


def test_fused_kernel_runs_only_where_it_applies():
    _, fused = _pair((8, 6, 5, 4))
    x4 = tf.zeros((8, 6, 5, 4))
    assert fused._fusable(x4, True, None)
    assert not fused._fusable(x4, False, None)                      # inference: Keras's code
    assert fused._fusable(tf.zeros((8, 6, 4)), True, None)          # [B, T, C] (paper 1's 1-D convs)
    assert not fused._fusable(tf.zeros((8, 6, 5, 4), tf.float16), True, None)
    fused.trainable = False                                          # frozen (a teacher): inference mode
    assert not fused._fusable(x4, True, None)
    _, first_axis = _pair((8, 4, 6, 5), axis=1)
    assert not first_axis._fusable(tf.zeros((8, 4, 6, 5)), True, None)


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


def test_the_setting_chooses_the_builders_layer_and_a_typo_is_a_clear_error():
    from shared.config import ConfigError
    assert current_batch_norm() == "fused"                           # DistributeParams' default
    model = keras.Sequential([keras.Input((6, 5, 4)), keras.layers.BatchNormalization()])
    try:
        set_batch_norm("keras")
        assert type(batch_norm(momentum=0.9)) is keras.layers.BatchNormalization
        assert with_batch_norm(model) is model                        # Keras's layer: nothing copied
        set_batch_norm("fused")
        layer = batch_norm(momentum=0.9, name="bn")
        assert isinstance(layer, FusedBatchNormalization) and layer.momentum == 0.9
        assert isinstance(batch_norm_layers(with_batch_norm(model))[0], FusedBatchNormalization)
        with pytest.raises(ConfigError, match="distribute.batch_norm 'fast' unknown"):
            set_batch_norm("fast")
    finally:
        set_batch_norm("fused")


def test_a_saved_fused_model_loads_in_a_process_that_imported_only_the_loader(tmp_path):
    """The kit's .keras files hold FusedBatchNormalization; shared.classifier (the loader of
    the predict commands) registers it, so a fresh process loads them."""
    import subprocess
    import sys
    model = keras.Sequential([keras.Input((6, 5, 4)), FusedBatchNormalization(name="bn")])
    model.save(tmp_path / "m.keras")
    code = ("import keras, shared.classifier; "
            f"m = keras.saving.load_model({str(tmp_path / 'm.keras')!r}, compile=False); "
            "print(type(m.layers[0]).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0 and out.stdout.strip().endswith("FusedBatchNormalization"), out.stderr[-800:]
