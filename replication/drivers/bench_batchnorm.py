"""Benchmark section "batchnorm" (only with --section batchnorm): Keras's BatchNormalization
against shared.fused_bn's fused layer, training steps of every model of both papers.

    python -m replication.drivers.bench --section batchnorm --json batchnorm.json

Keras 3 computes batch normalisation unfused on TensorFlow; FusedBatchNormalization runs
TensorFlow's fused kernel in training mode with the same results (tests/shared/test_fused_bn.py),
and the kit's builders make it by default (DistributeParams.batch_norm, register
shared-fused-bn). Each model of the training section (bench_training.SPECS: the paper sizes
and the demo sizes) is built with Keras's layer, copied with its layers swapped
(`swap_batch_norm`, same weights), and both copies take training steps of the model's
optimizer on the same batch (tf.function, cross-entropy), taking turns inside every round;
the median seconds per step over the rounds and the per-round ratio (Keras / fused) are
reported per model with the host load. `--quick`: the demo sizes only, 2 rounds.
"""

from __future__ import annotations

import time

from replication.drivers.bench_rounds import host_load, ratios, saved_section, spread, timed_rounds

TIMED_SECONDS = 1.0        # one timed call runs about this long (several steps of a small model) ...
QUICK_TIMED_SECONDS = 0.25  # ... with --quick
MAX_CALLS = 20


def _train_step(model, logits_of, optimizer: str, x, y):
    import keras
    import tensorflow as tf
    opt = keras.optimizers.Adam(1e-4) if optimizer == "adam" else keras.optimizers.SGD(0.01)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = logits_of(model(x, training=True))                          # [B, classes]
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return lambda: step().numpy()


def measure(spec, seed: int, rounds: int, timed_seconds: float = TIMED_SECONDS) -> dict:
    """Keras / fused training steps of one bench_training.ModelSpec."""
    import keras
    import tensorflow as tf
    from replication.drivers.bench_training import NUM_CLASSES, build_model
    from shared.fused_bn import (FusedBatchNormalization, batch_norm_layers, current_batch_norm,
                                 set_batch_norm, swap_batch_norm)

    keras.utils.set_random_seed(seed)
    setting = current_batch_norm()
    set_batch_norm("keras")                         # the Keras copy; the fused one is swapped from it
    try:
        model, logits_of = build_model(spec)
    finally:
        set_batch_norm(setting)
    total = len(batch_norm_layers(model))
    if total == 0:                                  # VGG19: nothing to swap, nothing to time
        return {"input": list(spec.input_shape), "batch": spec.batch, "optimizer": spec.optimizer,
                "size": spec.size, "bn_layers": 0}
    fused = swap_batch_norm(model)
    swapped = sum(isinstance(layer, FusedBatchNormalization) for layer in batch_norm_layers(fused))
    if swapped == 0 or swapped != total:
        raise RuntimeError(f"{spec.name}: {swapped} of {total} BatchNormalization layers swapped")
    x = tf.random.stateless_normal((spec.batch, *spec.input_shape), seed=(seed, 0))
    y = tf.random.stateless_uniform((spec.batch,), seed=(seed, 1), maxval=NUM_CLASSES, dtype=tf.int32)
    steps = {"keras": _train_step(model, logits_of, spec.optimizer, x, y),
             "fused": _train_step(fused, logits_of, spec.optimizer, x, y)}
    for step in steps.values():                                                  # trace and warm up
        step()
    t0 = time.perf_counter()
    steps["keras"]()
    calls = max(1, min(MAX_CALLS, int(timed_seconds / max(time.perf_counter() - t0, 1e-6))))
    times = timed_rounds({arm: (lambda s=s: [s() for _ in range(calls)]) for arm, s in steps.items()},
                         rounds=rounds, calls=calls)
    return {"input": list(spec.input_shape), "batch": spec.batch, "optimizer": spec.optimizer,
            "size": spec.size, "bn_layers": total, "steps_per_call": calls,
            "seconds_per_step": {arm: spread([ms / 1e3 for ms in t["wall_ms"]]) for arm, t in times.items()},
            "keras_over_fused": spread(ratios(times, "keras", "fused"))}


def bench_batchnorm(ctx) -> dict:
    from replication.drivers.bench_training import SPECS
    names = ctx.extra.get("batchnorm_models") or [n for n, s in SPECS.items() if not ctx.quick or s.size == "demo"]
    rounds = ctx.extra.get("batchnorm_rounds") or (2 if ctx.quick else 3)
    timed = QUICK_TIMED_SECONDS if ctx.quick else TIMED_SECONDS
    out = {"rounds": rounds, "models": {}}
    for name in names:
        m = out["models"][name] = measure(SPECS[name], ctx.seed, rounds, timed)
        if not m["bn_layers"]:
            ctx.log(f"  {name:22s} no BatchNormalization layer: not timed")
            continue
        per, ratio = m["seconds_per_step"], m["keras_over_fused"]
        ctx.log(f"  {name:22s} batch {m['batch']:3d}  {m['bn_layers']:3d} BN layers  Keras "
                f"{per['keras']['median']:.3f} s/step  fused {per['fused']['median']:.3f} s/step  "
                f"Keras / fused x{ratio['median']:.2f} (rounds {ratio['min']:.2f}-{ratio['max']:.2f})")
    out.update(host_load())
    return out


def render_batchnorm(report: dict, name: str) -> str:
    """Markdown of the batchnorm section of a benchmark JSON (docs/scale.md, marker
    `bench_batchnorm`); every number from the JSON."""
    sec = saved_section(report, "batchnorm", name)
    if "models" not in sec:
        raise ValueError(f"{name}: a batchnorm section of one network (before issue 15's per-model "
                         f"form); run the benchmark with --section batchnorm again")
    lines = [f"Measured by `python -m replication.drivers.bench --section batchnorm --json {name}` "
             f"(load average {' / '.join(map(str, sec['loadavg']))} at the end, niceness {sec['nice']}; "
             f"{sec['rounds']} rounds, the two copies taking turns inside each): seconds per training "
             f"step of the same network and weights with Keras's BatchNormalization and with "
             f"`shared.fused_bn.FusedBatchNormalization` (median over the rounds; range in brackets).",
             "", "| model | input | batch | BN layers | Keras s/step | fused s/step | Keras / fused |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for model, m in sec["models"].items():
        if not m["bn_layers"]:
            lines.append(f"| {model} | {' x '.join(map(str, m['input']))} | {m['batch']} | 0 | - | - | "
                         f"no BatchNormalization layer |")
            continue
        per, ratio = m["seconds_per_step"], m["keras_over_fused"]
        lines.append(f"| {model} | {' x '.join(map(str, m['input']))} | {m['batch']} | {m['bn_layers']} | "
                     f"{per['keras']['median']:.3f} | {per['fused']['median']:.3f} | "
                     f"x{ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f}) |")
    return "\n".join(lines) + "\n"
