"""The strided 1x1 shortcut is a strided conv in disguise, and it trains with oneDNN on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np

from paper1_ts.models.blocks import projection

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 30 * 60      # a hang guard only, not a speed check: far above this child's time on a busy machine


def test_projection_equals_strided_one_by_one_conv():
    x = np.random.default_rng(0).normal(size=(2, 249, 256, 3)).astype("float32")
    for stride in (2, 3):
        inp = keras.Input((None, None, 3))
        ours = keras.Model(inp, projection(inp, rank=2, filters=5, kernel=1, stride=stride,
                                           name="sc"))
        ref_layer = keras.layers.Conv2D(5, 1, strides=stride, padding="same")
        ref = keras.Sequential([keras.Input((None, None, 3)), ref_layer])
        ref_layer.set_weights(ours.get_layer("sc").get_weights())
        a, b = ours(x).numpy(), ref(x).numpy()
        assert a.shape == b.shape == (2, -(-249 // stride), -(-256 // stride), 5)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_strided_block_trains_with_onednn_in_a_fresh_process():
    # A crash (the TF 2.21 oneDNN strided-1x1 filter gradient) would kill pytest itself,
    # so the gradient step runs in a child process with oneDNN explicitly on.
    script = textwrap.dedent("""
        import numpy as np, keras, tensorflow as tf
        from paper1_ts.models.blocks import residual_block
        # 2 input channels, 3 steps: with a plain Conv2D(8, 1, strides=2) shortcut this
        # exact set-up aborted ("munmap_chunk(): invalid pointer", exit 134/139) here.
        inp = keras.Input((24, 16, 2))
        out = residual_block(inp, rank=2, filters=8, kernel=3, stride=2, order="pre",
                             first=False, slope=0.3, shortcut_kernel=1, name="res")
        m = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(out))
        x = tf.constant(np.random.default_rng(0).normal(size=(5, 24, 16, 2)), tf.float32)
        for _ in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(m(x, training=True)))
            grads = tape.gradient(loss, m.trainable_variables)
        assert all(g is not None and bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)
        print("ok")
    """)
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
