"""Builders of paper 1's networks: every printed shape at full size, dict outputs, demo forward."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from paper1_ts import architecture as arch
from paper1_ts.model_params import CNNGRUParams, RawCNNParams, demo_params
from paper1_ts.models import build_cnn_gru, build_raw_cnn
from paper1_ts.shapes import find_layer


def _built(model, row):
    return tuple(find_layer(model, row.layer).output.shape[1:])


@pytest.mark.parametrize("order", ["pre", "post"])
def test_raw_cnn_full_size_reproduces_every_table2_shape(order):
    model = build_raw_cnn(RawCNNParams(block_order=order))
    assert tuple(model.input_shape[1:]) == (479999, 2)
    for row in arch.TABLE2:
        assert _built(model, row) == row.shape, row.name


@pytest.mark.parametrize("order", ["pre", "post"])
def test_cnn_gru_full_size_reproduces_every_table3_shape(order):
    model = build_cnn_gru(CNNGRUParams(block_order=order), head="gru")
    assert tuple(model.input_shape[1:]) == (249, 256, 2)
    for row in arch.TABLE3:
        expected = row.read_shape or row.shape       # Res4 read as 240 wide (register)
        assert _built(model, row) == expected, row.name


def test_res4_as_printed_breaks_the_pool_and_concat_shapes():
    model = build_cnn_gru(CNNGRUParams(res4_filters=120), head="gru")
    assert _built(model, arch.row(arch.TABLE3, "Res4")) == (21, 22, 120)
    for name in ("AvgPool", "MaxPool", "Concat"):
        row = arch.row(arch.TABLE3, name)
        assert _built(model, row) != row.shape


def test_block_orders_differ_in_structure():
    pre = build_raw_cnn(RawCNNParams(block_order="pre"))
    post = build_raw_cnn(RawCNNParams(block_order="post"))
    names_pre = {layer.name for layer in pre.layers}
    names_post = {layer.name for layer in post.layers}
    assert "res2_pre_bn" in names_pre and "res2_pre_bn" not in names_post
    assert "res2_post_bn" in names_post and "res2_post_bn" not in names_pre


def test_embedding_and_logits_layers_are_named():
    for model in (build_raw_cnn(demo_params().raw_cnn),
                  build_cnn_gru(demo_params().cnn_gru, head="gru"),
                  build_cnn_gru(demo_params().cnn_gru, head="pool")):
        assert model.get_layer("embedding").units == 64
        assert model.get_layer("logits").units == 10
        assert set(model.output) == {"logits", "embedding"}


def _check_dict_output(model, x, batch):
    out = model(x, training=False)
    assert set(out) == {"logits", "embedding"}
    logits, embedding = np.asarray(out["logits"]), np.asarray(out["embedding"])
    assert logits.shape == (batch, 10) and embedding.shape == (batch, 64)
    assert np.all(np.isfinite(logits)) and np.all(np.isfinite(embedding))
    # logits are the pre-softmax Output layer applied to the embedding (linear default)
    kernel, bias = model.get_layer("logits").get_weights()
    np.testing.assert_allclose(logits, embedding @ kernel + bias, rtol=1e-4, atol=1e-4)
    return out


def test_raw_cnn_demo_forward_pass():
    p = demo_params().raw_cnn
    x = np.random.default_rng(0).standard_normal((3, *p.input_shape)).astype("float32")
    _check_dict_output(build_raw_cnn(p), x, 3)


@pytest.mark.parametrize("head", ["pool", "gru"])
def test_cnn_gru_demo_forward_pass(head):
    p = demo_params().cnn_gru
    x = np.random.default_rng(1).random((2, *p.input_shape)).astype("float32")
    _check_dict_output(build_cnn_gru(p, head=head), x, 2)


def test_leaky_relu_embedding_option_feeds_the_activated_embedding():
    p = dataclasses.replace(demo_params().raw_cnn, embedding_activation="leaky_relu")
    model = build_raw_cnn(p)
    x = np.random.default_rng(2).standard_normal((2, *p.input_shape)).astype("float32")
    _check_dict_output(model, x, 2)
    assert model.get_layer("embedding_lrelu") is not None


def test_length_agnostic_models_accept_joined_teacher_inputs():
    demo = demo_params()
    raw = build_raw_cnn(dataclasses.replace(demo.raw_cnn, input_length=None))
    x = np.zeros((1, 2 * demo.raw_cnn.input_length, 2), "float32")   # two clips joined
    assert raw(x)["logits"].shape == (1, 10)
    gru = build_cnn_gru(dataclasses.replace(demo.cnn_gru, input_frames=None), head="gru")
    spec = np.zeros((1, 2 * demo.cnn_gru.input_frames, *demo.cnn_gru.input_shape[1:]), "float32")
    assert gru(spec)["embedding"].shape == (1, 64)


def test_one_training_step_changes_the_weights_and_gives_a_finite_loss():
    import keras
    import tensorflow as tf

    p = demo_params().cnn_gru
    model = build_cnn_gru(p, head="gru")
    x = np.random.default_rng(3).random((4, *p.input_shape)).astype("float32")
    y = keras.utils.to_categorical([0, 1, 2, 3], 10)
    opt = keras.optimizers.Adam(1e-3)
    before = [w.numpy().copy() for w in model.trainable_weights]
    with tf.GradientTape() as tape:
        loss = keras.losses.categorical_crossentropy(
            y, model(x, training=True)["logits"], from_logits=True)
        loss = tf.reduce_mean(loss)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    assert np.isfinite(float(loss))
    moved = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights)]
    assert all(moved)


def test_unknown_head_is_an_error():
    with pytest.raises(ValueError, match="head 'lstm'"):
        build_cnn_gru(demo_params().cnn_gru, head="lstm")
