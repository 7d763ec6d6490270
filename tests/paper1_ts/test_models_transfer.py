"""Two-step CNN-GRU training support: the step-1 CNN weights transfer exactly into step 2."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from paper1_ts.model_params import demo_params
from paper1_ts.models import build_cnn_gru, build_raw_cnn, copy_cnn_weights


def _scramble(model, seed):
    """Sets every weight (BN moving statistics included) to distinct random values."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, size=tuple(w.shape)).astype("float32"))


def test_cnn_weights_transfer_exactly_and_heads_stay_apart():
    p = demo_params().cnn_gru
    step1, step2 = build_cnn_gru(p, head="pool"), build_cnn_gru(p, head="gru")
    _scramble(step1, seed=0)
    head_before = {l.name: [w.copy() for w in l.get_weights()]
                   for l in step2.layers if l.name in ("gru", "embedding", "logits")}
    trunk_before = [w.numpy().copy() for w in step2.get_layer("cnn").weights]

    copied = copy_cnn_weights(step1, step2)

    src = step1.get_layer("cnn").weights
    dst = step2.get_layer("cnn").weights
    assert copied == len(src) == len(dst) > 0
    for a, b, old in zip(src, dst, trunk_before):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(b.numpy(), old)        # it really was overwritten
    for name, weights in head_before.items():             # step-2 head untouched
        for before, after in zip(weights, step2.get_layer(name).get_weights()):
            np.testing.assert_array_equal(before, after)
    # same CNN function: identical feature maps for the same input (inference mode)
    x = np.random.default_rng(1).random((2, *p.input_shape)).astype("float32")
    np.testing.assert_array_equal(np.asarray(step1.get_layer("cnn")(x, training=False)),
                                  np.asarray(step2.get_layer("cnn")(x, training=False)))


def test_copy_between_different_widths_is_refused_with_the_weight_named():
    p = demo_params().cnn_gru
    small = build_cnn_gru(p, head="pool")
    wide = build_cnn_gru(dataclasses.replace(p, res4_filters=2 * p.res4_filters), head="gru")
    with pytest.raises(ValueError, match="res4"):
        copy_cnn_weights(small, wide)


def test_copy_needs_a_cnn_gru_model():
    p = demo_params()
    with pytest.raises(ValueError, match="no 'cnn' sub-model"):
        copy_cnn_weights(build_raw_cnn(p.raw_cnn), build_cnn_gru(p.cnn_gru, head="gru"))
