"""shared.distribute.sync_replica_copies under MirroredStrategy on 2 logical CPUs.

Fresh process (logical devices must be configured before TensorFlow initialises).
Checks the finding it fixes: after fit, BatchNorm's moving statistics have one copy per
replica and the copies differ; after the sync every copy equals the mean of the copies,
integer variables are untouched, and a second sync changes nothing.
"""

from __future__ import annotations

import textwrap

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from shared.distribute import DistributeParams, make_strategy, sync_replica_copies
    strategy = make_strategy(DistributeParams(kind="mirrored", logical_cpus=2))
    import keras, tensorflow as tf
    keras.utils.set_random_seed(0)
    with strategy.scope():
        inp = keras.Input((4,))
        h = keras.layers.BatchNormalization()(keras.layers.Dense(3)(inp))
        model = keras.Model(inp, keras.layers.Dense(2)(h))
        model.compile(optimizer="sgd", loss="mse")
        counter = keras.Variable(np.array([7, 7]), dtype="int64", trainable=False)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    x[8:] += 3.0                                       # replica 1 sees other statistics
    model.fit(x, np.zeros((16, 2), "float32"), batch_size=16, epochs=2, shuffle=False, verbose=0)
    def copies(v):
        return [np.asarray(c.read_value()) for c in strategy.experimental_local_results(v.value)]
    moving = [v for v in model.non_trainable_variables if "moving" in v.path]
    before = [copies(v) for v in moving]
    changed = sync_replica_copies(model.non_trainable_variables + [counter], strategy)
    after = [copies(v) for v in moving]
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync, "changed": changed,
        "differed": [bool(not np.array_equal(*b)) for b in before],
        "equal_after": [bool(np.array_equal(*a)) for a in after],
        "is_mean": [bool(np.allclose(a[0], (b[0] + b[1]) / 2, rtol=0, atol=1e-7)) for a, b in zip(after, before)],
        "again": sync_replica_copies(model.non_trainable_variables, strategy),
        "counter": [int(v) for v in copies(counter)[0]]}))
""")


def test_sync_makes_the_replica_copies_of_moving_statistics_equal(run_script_json):
    out = run_script_json(SCRIPT)
    assert out["replicas"] == 2
    assert len(out["differed"]) == 2 and all(out["differed"]), "copies should differ after fit (the finding)"
    assert out["changed"] == 2 and all(out["equal_after"]) and all(out["is_mean"])
    assert out["again"] == 0 and out["counter"] == [7, 7]
