"""MirroredStrategy over 2 logical CPU devices gives the same training as one device.

Each case runs in a fresh Python process: logical devices must be configured before
TensorFlow initialises, which pytest's process may already have done.
"""

from __future__ import annotations

import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from shared.distribute import DistributeParams, make_strategy
    kind, cpus = sys.argv[1], int(sys.argv[2])
    strategy = make_strategy(DistributeParams(kind=kind, logical_cpus=cpus))
    import keras, tensorflow as tf
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)  # global batch 16
    hist = model.fit(ds, epochs=3, verbose=0, shuffle=False)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "loss": [float(v) for v in hist.history["loss"]]}))
""")


def test_mirrored_on_two_logical_cpus_matches_one_device(run_script_json):
    single = run_script_json(SCRIPT, "default", "0")
    mirrored = run_script_json(SCRIPT, "mirrored", "2")
    assert single["replicas"] == 1
    assert mirrored["replicas"] == 2
    # Same global batch, same initial weights: per-epoch losses agree up to float
    # reduction order. Measured max difference here: 3.0e-8; bound set at 1e-5.
    for a, b in zip(single["loss"], mirrored["loss"]):
        assert abs(a - b) < 1e-5, (single, mirrored)


def test_unknown_kind_and_missing_tf_config_are_clear_errors(monkeypatch):
    from shared.distribute import DistributeParams, make_strategy
    with pytest.raises(ValueError, match="unknown"):
        make_strategy(DistributeParams(kind="horovod"))
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy(DistributeParams(kind="multi_worker"))
