"""Benchmark section "batchnorm" (only with --section batchnorm): Keras's BatchNormalization
against shared.fused_bn's fused layer, one training step of the same network.

    python -m replication.drivers.bench --section batchnorm --json batchnorm.json

Keras 3 computes batch normalisation unfused on TensorFlow; FusedBatchNormalization runs
TensorFlow's fused kernel in training mode with the same results (tests/shared/test_fused_bn.py).
The network is built once, copied with its BatchNormalization layers swapped
(`swap_batch_norm`, same weights), and both copies take a plain SGD step on the same batch
(tf.function, cross-entropy), taking turns inside every round; the median seconds per step
over the rounds and the per-round ratio (Keras / fused) are reported with the host load.

    paper  ResNet101 (keras.applications, random weights) at paper 2's 150 x 64 x 3 crop,
           batch 64 (the paper preset's), 41 classes
    quick  (--quick) a 4-block Conv-BN-ReLU network at the same crop, batch 16
"""

from __future__ import annotations

from replication.drivers.bench_rounds import host_load, ratios, saved_section, spread, timed_rounds

CROP = (150, 64, 3)        # paper 2's crop: frames x mel bins x (static, delta, delta-delta)
CLASSES = 41


def _network(quick: bool):
    import keras
    keras.utils.set_random_seed(0)
    if not quick:
        base = keras.applications.ResNet101(include_top=False, weights=None, input_shape=CROP, pooling="avg")
        return keras.Sequential([base, keras.layers.Dense(CLASSES)]), "ResNet101", 64
    inputs = keras.Input(CROP)
    h = inputs
    for i, filters in enumerate((16, 32, 64, 64)):
        h = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(h)
        h = keras.layers.BatchNormalization(name=f"bn{i}")(h)
        h = keras.layers.MaxPooling2D(2)(keras.layers.ReLU()(h))
    outputs = keras.layers.Dense(CLASSES)(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inputs, outputs), "4-block Conv-BN", 16


def _train_step(model, x, y):
    import keras
    import tensorflow as tf
    optimizer = keras.optimizers.SGD(0.01)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = model(x, training=True)                                   # [B, classes]
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return lambda: step().numpy()


def bench_batchnorm(ctx) -> dict:
    import tensorflow as tf
    from shared.fused_bn import FusedBatchNormalization, batch_norm_layers, swap_batch_norm

    model, name, batch = _network(ctx.quick)
    fused = swap_batch_norm(model)
    swapped = sum(isinstance(layer, FusedBatchNormalization) for layer in batch_norm_layers(fused))
    total = len(batch_norm_layers(model))
    if swapped == 0 or swapped != total:
        raise RuntimeError(f"{name}: {swapped} of {total} BatchNormalization layers swapped")
    x = tf.random.stateless_normal((batch, *CROP), seed=(ctx.seed, 0))          # [B, 150, 64, 3]
    y = tf.random.stateless_uniform((batch,), seed=(ctx.seed, 1), maxval=CLASSES, dtype=tf.int32)
    steps = {"keras": _train_step(model, x, y), "fused": _train_step(fused, x, y)}
    for step in steps.values():                                                  # trace and warm up
        step(), step()
    rounds = 2 if ctx.quick else 3
    times = timed_rounds(steps, rounds=rounds)
    out = {"model": name, "batch": batch, "input": list(CROP), "rounds": rounds, "fused_layers": swapped,
           "seconds_per_step": {arm: spread([ms / 1e3 for ms in t["wall_ms"]]) for arm, t in times.items()},
           "keras_over_fused": spread(ratios(times, "keras", "fused")), **host_load()}
    per = out["seconds_per_step"]
    ctx.log(f"  {name}  batch {batch}: Keras BN {per['keras']['median']:.3f} s/step, fused "
            f"{per['fused']['median']:.3f} s/step, Keras / fused x{out['keras_over_fused']['median']:.2f} "
            f"(rounds {out['keras_over_fused']['min']:.2f}-{out['keras_over_fused']['max']:.2f}; "
            f"load {out['loadavg'][0]:.2f})")
    return out


def render_batchnorm(report: dict, name: str) -> str:
    """Markdown of the batchnorm section of a benchmark JSON (docs/scale.md, marker
    `bench_batchnorm`); every number from the JSON."""
    sec = saved_section(report, "batchnorm", name)
    per, ratio = sec["seconds_per_step"], sec["keras_over_fused"]
    return (f"Measured by `python -m replication.drivers.bench --section batchnorm --json {name}` "
            f"(load average {' / '.join(map(str, sec['loadavg']))} at the end, niceness {sec['nice']}): "
            f"{sec['model']} ({sec['fused_layers']} BatchNormalization layers) at "
            f"{' x '.join(map(str, sec['input']))}, batch {sec['batch']}, one SGD "
            f"training step, {sec['rounds']} rounds taking turns. Keras's BatchNormalization "
            f"{per['keras']['median']:.2f} s per step ({per['keras']['min']:.2f}-{per['keras']['max']:.2f}), "
            f"`shared.fused_bn.FusedBatchNormalization` {per['fused']['median']:.2f} s "
            f"({per['fused']['min']:.2f}-{per['fused']['max']:.2f}): Keras / fused "
            f"x{ratio['median']:.2f} (rounds {ratio['min']:.2f}-{ratio['max']:.2f}).\n")
