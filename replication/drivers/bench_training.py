"""Benchmark section "training": how fast the papers' networks train on this machine.

    python -m replication.drivers.bench --section training            # paper + demo sizes
    python -m replication.drivers.bench --section training --quick    # demo sizes only (< 1 min)
    python -m replication.drivers.bench_training --models p2_small_cnn_demo --steps 3   # one child

For every model (paper 1 raw CNN and CNN-GRU, paper 2 VGG19 and ResNet101 at the
paper's input size, and the demo-size variants): training clips/s over a few train
steps after warm-up, analytic FLOPs per clip, achieved GFLOP/s, its ratio to a large
fp32 matmul measured in the same process, peak memory, and XLA on vs off for the
models in XLA_MODELS. Each group of models runs in a child process (a crash of one
kernel cannot take the benchmark down; the peak memory is the child's own).

FLOPs are counted from the built model's layers (`count_flops`): convolutions, dense
layers and GRU/LSTM cells, 2 FLOPs per multiply-add; normalisation, activations,
pooling and the optimizer update are NOT counted. Training is taken as 3x the forward
pass (forward + gradient w.r.t. activations + gradient w.r.t. weights).

Each model is also timed fed by the real cached pipeline (replication/drivers/bench_feed.py):
the input-pipeline overhead. The section ends with the extrapolated build time of the
full DCASE 2018 1A feature cache (replication/drivers/bench_cache.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.cli import command
from shared.paths import checkout_root

CHILD_TIMEOUT = 1800               # seconds for one child process (paper-size models)


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked network: how to build it and at which batch it is trained."""
    name: str
    paper: str                     # "paper1" | "paper2"
    size: str                      # "paper" | "demo"
    input_shape: tuple             # one example, without the batch axis
    batch: int                     # paper sizes: the paper's global batch (fits in 24 GiB RAM)
    optimizer: str                 # "adam" (paper 1, Sec. 4.2) | "sgd" (paper 2, Sec. IV-C)


SPECS = {s.name: s for s in [
    ModelSpec("p1_raw_cnn_paper", "paper1", "paper", (479999, 2), 40, "adam"),   # Sec. 4.2 batch 40
    ModelSpec("p1_cnn_gru_paper", "paper1", "paper", (249, 256, 2), 40, "adam"),
    ModelSpec("p2_vgg19_paper", "paper2", "paper", (150, 64, 3), 64, "sgd"),     # Sec. IV-C batch 64
    ModelSpec("p2_resnet101_paper", "paper2", "paper", (150, 64, 3), 64, "sgd"),
    ModelSpec("p1_raw_cnn_demo", "paper1", "demo", (63999, 2), 16, "adam"),
    ModelSpec("p1_cnn_gru_demo", "paper1", "demo", (99, 64, 2), 16, "adam"),
    ModelSpec("p2_small_cnn_demo", "paper2", "demo", (100, 64, 3), 32, "sgd"),
    ModelSpec("p2_small_resnet_demo", "paper2", "demo", (100, 64, 3), 32, "sgd"),
]}
XLA_MODELS = ("p2_small_cnn_demo", "p1_cnn_gru_demo", "p2_vgg19_paper")
# also timed under Keras' mixed_bfloat16 policy (oneDNN bf16 kernels on CPUs with AVX512-BF16)
BF16_MODELS = tuple(SPECS)
NUM_CLASSES = 10
MAX_STEPS = 200                    # cap of timed steps per measurement (short demo steps)
FEED_ROUNDS = 6                    # alternations of in-memory and fed blocks (overhead) ...
MIN_BLOCK = 2                      # ... of at least this many steps each
ALONE_BATCHES = 20                 # batches drawn with no model (the pipeline's own cost)


def build_model(spec: ModelSpec):
    """The Keras model of `spec`; returns (model, fn mapping model output -> logits [B, C])."""
    if spec.paper == "paper1":
        from paper1_ts.model_params import CNNGRUParams, RawCNNParams, demo_params
        from paper1_ts.models import build_cnn_gru, build_raw_cnn

        demo = demo_params() if spec.size == "demo" else None
        if "raw_cnn" in spec.name:
            model = build_raw_cnn(demo.raw_cnn if demo else RawCNNParams())
        else:
            model = build_cnn_gru(demo.cnn_gru if demo else CNNGRUParams(), head="gru")
        return model, lambda out: out["logits"]
    from paper2_multirep.branches import build_branch
    from paper2_multirep.params import BranchParams

    arch = spec.name.split("_", 1)[1].rsplit("_", 1)[0]          # p2_<arch>_<size>
    params = BranchParams(arch=arch, weights="none", small_filters=(16, 32, 64))
    model = build_branch(params, spec.input_shape, NUM_CLASSES, quiet=True).model
    return model, lambda out: out


# ----------------------------------------------------------------------------- FLOPs
def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:               # nested Model / Sequential
            yield from _leaf_layers(layer)
        else:
            yield layer


def _shape(tensor) -> tuple:
    return tuple(int(d) if d is not None else -1 for d in tensor.shape)


def layer_macs(layer) -> tuple[str, int]:
    """(kind, multiply-adds for ONE example) of a layer; kind "" = not counted."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        k1, m1 = layer_macs(layer.forward_layer)
        return k1, 2 * m1
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError(f"{layer.name}: only channels_last convolutions are counted")
        out, inp = _shape(layer.output), _shape(layer.input)
        groups = getattr(layer, "groups", 1)
        per_position = layer.filters * math.prod(layer.kernel_size) * inp[-1] // groups
        return "conv", math.prod(out[1:-1]) * per_position
    if isinstance(layer, keras.layers.Dense):
        inp = _shape(layer.input)
        return "dense", math.prod(inp[1:-1]) * inp[-1] * layer.units
    if isinstance(layer, (keras.layers.GRU, keras.layers.LSTM)):
        inp = _shape(layer.input)                                   # [B, T, D]
        gates = 3 if isinstance(layer, keras.layers.GRU) else 4
        units = layer.units
        if inp[1] < 0:
            raise ValueError(f"{layer.name}: recurrent layer with unknown time length")
        return "recurrent", inp[1] * gates * (inp[-1] * units + units * units)
    return "", 0


def count_flops(model) -> dict:
    """Analytic FLOPs per example: 2 x multiply-adds of conv, dense and GRU/LSTM layers.

    Returns {"macs_by_kind": {...}, "forward_flops", "train_flops" (= 3 x forward)}.
    """
    by_kind: dict[str, int] = {}
    for layer in _leaf_layers(model):
        kind, macs = layer_macs(layer)
        if kind:
            by_kind[kind] = by_kind.get(kind, 0) + macs
    forward = 2 * sum(by_kind.values())
    return {"macs_by_kind": by_kind, "forward_flops": forward, "train_flops": 3 * forward}


# ----------------------------------------------------------------------------- memory
def reset_peak_memory() -> bool:
    """Resets this process's peak RSS (Linux /proc/self/clear_refs); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> dict:
    """Peak host RSS (VmHWM since the last reset, else ru_maxrss) and, on GPU, device peak."""
    out = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["host_peak_mb"] = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    out.setdefault("host_peak_mb", out["ru_maxrss_mb"])
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        out["gpu_peak_mb"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    return out


def _reset_gpu_peak() -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.reset_memory_stats("GPU:0")


# ----------------------------------------------------------------------------- timing
def matmul_ceiling(n: int, repeats: int) -> dict:
    """GFLOP/s of an fp32 n x n matmul (best of `repeats`, after one warm-up)."""
    import tensorflow as tf

    a = tf.random.stateless_normal([n, n], seed=[1, 2])
    b = tf.random.stateless_normal([n, n], seed=[3, 4])
    mm = tf.function(lambda x, y: tf.reduce_sum(tf.linalg.matmul(x, y)))
    mm(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        mm(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return {"n": n, "repeats": repeats, "seconds": best, "gflops_per_s": 2 * n ** 3 / best / 1e9}


def measure_training(spec: ModelSpec, steps: int, jit_compile: bool, warmup: int = 2,
                     feed=None, precision: str = "float32", min_seconds: float = 3.0) -> dict:
    """Clips/s of training steps on one in-memory random batch, after `warmup` steps.

    At least `steps` steps are timed, more when they are short (about `min_seconds`,
    at most MAX_STEPS). out["build_seconds"]: how long building the Keras model took.

    With `feed` (a tf.data.Dataset of {"x", "y"} batches, replication.drivers.bench_feed) the same
    step function is also timed on batches from it, in blocks alternating with the in-memory
    ones: out["pipeline"]["overhead"] is the median over rounds of the fed median step time
    over the in-memory one, minus 1. `precision`: Keras dtype policy the model
    is built under (shared.distribute.set_precision); reset to float32 afterwards.
    """
    import keras
    import tensorflow as tf

    from shared.distribute import set_precision

    keras.utils.set_random_seed(0)
    _reset_gpu_peak()
    set_precision(precision)
    try:
        start = time.perf_counter()
        model, logits_of = build_model(spec)
        build_s = time.perf_counter() - start
    finally:
        set_precision("float32")
    flops = count_flops(model)
    optimizer = (keras.optimizers.Adam(1e-3) if spec.optimizer == "adam"
                 else keras.optimizers.SGD(1e-3, momentum=0.9))
    optimizer.build(model.trainable_variables)
    x = tf.random.stateless_normal((spec.batch, *spec.input_shape), seed=[0, 1])   # [B, ...]
    labels = tf.random.stateless_uniform([spec.batch], [0, 2], maxval=NUM_CLASSES, dtype=tf.int32)
    y = tf.one_hot(labels, NUM_CLASSES)                                             # [B, C]

    @tf.function(jit_compile=jit_compile)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            logits = tf.cast(logits_of(model(xb, training=True)), tf.float32)      # [B, C]
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(yb, logits))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    start = time.perf_counter()
    for _ in range(warmup):
        step(x, y).numpy()
    warm_s = time.perf_counter() - start
    start = time.perf_counter()
    step(x, y).numpy()
    one = time.perf_counter() - start
    # at least `steps` steps and about `min_seconds` of them (short demo steps are noisy)
    n = max(steps, min(MAX_STEPS, math.ceil(min_seconds / max(one, 1e-6))))

    def run_step(xb, yb) -> None:
        step(xb, yb).numpy()                  # .numpy(): waits until the step is done

    def in_memory():
        return x, y

    if feed is None:
        seconds = float(np.median(timed_steps(run_step, in_memory, n))) * n
    else:
        timing = alternating_rounds(run_step, in_memory, feed, n)
        n = len(timing["in_memory"])
        seconds = float(np.median(timing["in_memory"])) * n
        alone = pipeline_alone(feed, ALONE_BATCHES)
    clips_per_s = spec.batch * n / seconds
    out = {"batch": spec.batch, "build_seconds": build_s, "steps": n, "warmup_steps": warmup,
           "warmup_seconds": warm_s, "step_seconds": seconds / n, "clips_per_s": clips_per_s,
           "achieved_gflops_per_s": clips_per_s * flops["train_flops"] / 1e9,
           "params": int(model.count_params()), **flops}
    if feed is not None:
        out["pipeline"] = pipeline_summary(timing, alone, spec.batch, out["step_seconds"])
    return out


# The timing of the pipeline measurement: `run_step(xb, yb)` runs one train step and returns
# when it is done; `clock` is time.perf_counter in the benchmark. Both are arguments so that
# tests can drive this logic with a fake step and a fake clock (no test times this machine).
def timed_steps(run_step, next_batch, count: int, clock=time.perf_counter) -> list[float]:
    """Seconds of each of `count` steps, from asking for its batch to the step being done
    (so a pipeline that cannot keep up shows as waiting, not only as stolen CPU)."""
    out = []
    for _ in range(count):
        start = clock()
        run_step(*next_batch())
        out.append(clock() - start)
    return out


def fed_block(run_step, feed, count: int, clock=time.perf_counter) -> list[float]:
    """`count` timed steps on batches ({"x", "y"}) of a fresh iterator of `feed`.

    The iterator's first step (pipeline start-up, an epoch-start cost) is run but not
    timed, and the iterator is dropped on return, so no batches are prefetched while the
    next in-memory block is timed.
    """
    it = iter(feed)

    def fed_batch():
        b = next(it)
        return b["x"], b["y"]

    run_step(*fed_batch())                                  # start-up: buffers fill
    return timed_steps(run_step, fed_batch, count, clock)


def alternating_rounds(run_step, in_memory, feed, n: int, clock=time.perf_counter) -> dict:
    """About `n` steps in memory and `n` fed, in rounds of (in-memory block, fed block).

    Each round's ratio is its fed median step over its in-memory median step: a noisy
    shared host (other tenants, clock) then weighs on both sides of every ratio, and one
    disturbed step or round does not count once the median over rounds is taken.
    Returns {"rounds", "ratios" (one per round), "in_memory", "fed" (every step's seconds)}.
    """
    rounds = max(1, min(FEED_ROUNDS, n // MIN_BLOCK))
    block = math.ceil(n / rounds)
    mem, fed, ratios = [], [], []
    for _ in range(rounds):
        mem_r = timed_steps(run_step, in_memory, block, clock)
        fed_r = fed_block(run_step, feed, block, clock)
        ratios.append(float(np.median(fed_r) / np.median(mem_r)))
        mem += mem_r
        fed += fed_r
    return {"rounds": rounds, "ratios": ratios, "in_memory": mem, "fed": fed}


def pipeline_summary(timing: dict, alone_seconds: float, batch: int, step_seconds: float) -> dict:
    """out["pipeline"] of measure_training from `alternating_rounds`' timing: overhead =
    median over rounds of the round's ratio, minus 1; the pipeline alone (seconds per
    batch with no model) as a share of the in-memory step (`step_seconds`)."""
    fed = float(np.median(timing["fed"]))
    return {"step_seconds": fed, "clips_per_s": batch / fed,
            "steps": len(timing["fed"]), "rounds": timing["rounds"],
            "round_overheads": [r - 1.0 for r in timing["ratios"]],
            "alone_batch_seconds": alone_seconds, "alone_share": alone_seconds / step_seconds,
            "overhead": float(np.median(timing["ratios"])) - 1.0}


def pipeline_alone(feed, count: int, clock=time.perf_counter) -> float:
    """Median seconds per batch of the feed drawn with no model running: the pipeline's own
    cost with both cores to itself (a fresh iterator; its first batch, start-up, not timed).
    Over the in-memory step time it is what the overhead could be at most if the pipeline
    overlapped nothing; unlike the overhead, it hardly moves with a noisy host."""
    it = iter(feed)
    next(it)
    times = []
    for _ in range(count):
        start = clock()
        next(it)
        times.append(clock() - start)
    return float(np.median(times))


def run_child(names: list[str], steps: int, matmul_n: int, matmul_repeats: int,
              workdir: Path | None = None, batch: int | None = None, bf16: bool = True,
              min_seconds: float = 3.0, xla: bool = True) -> dict:
    """Measures the named models in this process (one after another, peak reset in between).

    workdir: where the pipeline feed caches its clips (None: no pipeline measurement).
    batch: overrides every model's batch (e.g. when the paper batch does not fit in memory).
    bf16: also time the models in BF16_MODELS under mixed_bfloat16 ("bf16" in the result).
    xla: also time the models in XLA_MODELS with jit_compile ("xla" in the result).
    """
    from dataclasses import replace

    from replication.drivers.bench_feed import feed_dataset

    ceiling = matmul_ceiling(matmul_n, matmul_repeats)
    out = {"matmul": ceiling, "models": {}}
    for name in names:
        spec = SPECS[name] if batch is None else replace(SPECS[name], batch=batch)
        feed = (feed_dataset(name, spec.input_shape, spec.batch, NUM_CLASSES, workdir)
                if workdir is not None else None)
        runs = {}
        for jit in ((False, True) if xla and name in XLA_MODELS else (False,)):
            reset_ok = reset_peak_memory()
            r = measure_training(spec, steps, jit, feed=None if jit else feed,
                                 min_seconds=min_seconds)
            r["peak_memory"] = {**peak_memory_mb(), "reset_between_models": reset_ok}
            r["ratio_to_matmul"] = r["achieved_gflops_per_s"] / ceiling["gflops_per_s"]
            runs["xla" if jit else "no_xla"] = r
        entry = {"paper": spec.paper, "size": spec.size, "input_shape": list(spec.input_shape),
                 **runs["no_xla"]}
        if "xla" in runs:
            entry["xla"] = {k: runs["xla"][k] for k in ("clips_per_s", "achieved_gflops_per_s",
                                                        "ratio_to_matmul", "warmup_seconds")}
            entry["xla_speedup"] = runs["xla"]["clips_per_s"] / runs["no_xla"]["clips_per_s"]
        if bf16 and name in BF16_MODELS:
            try:
                r = measure_training(spec, steps, False, precision="mixed_bfloat16",
                                     min_seconds=min_seconds)
                entry["bf16"] = {"clips_per_s": r["clips_per_s"],
                                 "speedup": r["clips_per_s"] / entry["clips_per_s"]}
            except Exception as err:                  # e.g. no bf16 kernels on this CPU
                entry["bf16"] = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
        out["models"][name] = entry
    return out


def _spawn(names: list[str], steps: int, matmul_n: int, matmul_repeats: int, workdir: Path,
           batch: int | None = None, quick: bool = False) -> dict:
    """Runs `run_child` in a fresh interpreter; a crash is reported per model, not raised."""
    out_file = workdir / f"train-{names[0]}.json"
    cmd = [sys.executable, "-m", "replication.drivers.bench_training", "--models", *names,
           "--steps", str(steps), "--matmul-n", str(matmul_n),
           "--matmul-repeats", str(matmul_repeats), "--out", str(out_file),
           "--feed-dir", str(workdir / f"feed-{names[0]}")]
    if batch is not None:
        cmd += ["--batch", str(batch)]
    if quick:
        cmd += ["--no-bf16", "--no-xla", "--min-seconds", "1"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    root = str(checkout_root())
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT)
        failed = proc.returncode != 0 or not out_file.exists()
        reason = f"exit {proc.returncode}: {proc.stderr.strip()[-800:]}"
    except subprocess.TimeoutExpired:
        failed, reason = True, f"timed out after {CHILD_TIMEOUT} s"
    if failed:
        return {"matmul": None, "models": {n: {"error": reason} for n in names}}
    return json.loads(out_file.read_text())


# ----------------------------------------------------------------------------- section
def _log_model(log, name: str, m: dict) -> None:
    if "error" in m:
        log(f"  {name:22s} FAILED {m['error'][:300]}")
        return
    mem = m["peak_memory"]["host_peak_mb"]
    line = (f"  {name:22s} b{m['batch']:<3d} {m['clips_per_s']:8.2f} clips/s  "
            f"{m['train_flops'] / 1e9:8.3f} GFLOP/clip (train)  {m['achieved_gflops_per_s']:7.1f} GFLOP/s  "
            f"{100 * m['ratio_to_matmul']:5.1f} % of matmul  peak {mem:7.0f} MB")
    if "xla" in m:
        line += f"  XLA x{m['xla_speedup']:.2f} ({100 * m['xla']['ratio_to_matmul']:.1f} %)"
    if "pipeline" in m:
        line += (f"  pipeline {100 * m['pipeline']['overhead']:+.1f} % "
                 f"(alone {100 * m['pipeline']['alone_share']:.1f} % of a step)")
    if "speedup" in m.get("bf16", {}):
        line += f"  bf16 x{m['bf16']['speedup']:.2f}"
    log(line)


def bench_training(ctx) -> dict:
    """The "training" section (ctx: replication.drivers.bench.BenchContext)."""
    steps = ctx.extra.get("steps") or (2 if ctx.quick else 6)
    steps = min(steps, 3) if ctx.quick else steps
    mm_n, mm_reps = (1024, 5) if ctx.quick else (2048, 5)
    demo = [n for n, s in SPECS.items() if s.size == "demo"]
    groups = [demo] if ctx.quick else [demo] + [[n] for n, s in SPECS.items() if s.size == "paper"]
    models, ceilings = {}, []
    for names in groups:
        got = _spawn(names, steps, mm_n, mm_reps, ctx.workdir,
                     ctx.extra.get("batch") if names != demo else None, quick=ctx.quick)
        if got["matmul"]:
            ceilings.append(got["matmul"]["gflops_per_s"])
        for name, m in got["models"].items():
            models[name] = m
            _log_model(ctx.log, name, m)
    if ceilings:
        best = max(ceilings)
        for m in models.values():               # one ceiling for all: the child ceilings vary with load
            if "error" not in m:
                m["ratio_to_best_matmul"] = m["achieved_gflops_per_s"] / best
        ctx.log(f"  fp32 matmul {mm_n}x{mm_n}: best {best:.1f} GFLOP/s, children "
                + " ".join(f"{c:.0f}" for c in ceilings) + " (each model's '% of matmul' above uses "
                "its own child's; ratio_to_best_matmul in the JSON uses the best)")
    from replication.drivers.bench_cache import cache_extrapolation

    cache = cache_extrapolation(ctx.workdir, ctx.quick, ctx.seed, ctx.log)
    load = os.getloadavg()
    ctx.log(f"  load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return {"flops_note": "2 FLOPs per multiply-add of conv/dense/GRU layers; train = 3 x forward",
            "matmul_gflops_per_s": ceilings, "models": models, "dcase_feature_cache": cache,
            "loadavg": list(load)}


@command("python -m replication.drivers.bench_training")
def main(argv: list[str] | None = None) -> int:
    """Child entry point: measures --models and writes the JSON to --out (exit 2: bad input)."""
    parser = argparse.ArgumentParser(prog="python -m replication.drivers.bench_training")
    parser.add_argument("--models", nargs="+", choices=list(SPECS), required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--matmul-repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--feed-dir", type=Path, default=None,
                        help="also time each model fed by the cached pipeline (clips go here)")
    parser.add_argument("--batch", type=int, default=None, help="override every model's batch")
    parser.add_argument("--no-bf16", action="store_true", help="skip the mixed_bfloat16 timing")
    parser.add_argument("--no-xla", action="store_true", help="skip the jit_compile timing")
    parser.add_argument("--min-seconds", type=float, default=3.0,
                        help="time at least this long per measurement (short steps)")
    args = parser.parse_args(argv)
    result = run_child(args.models, args.steps, args.matmul_n, args.matmul_repeats,
                       args.feed_dir, args.batch, bf16=not args.no_bf16,
                       min_seconds=args.min_seconds, xla=not args.no_xla)
    text = json.dumps(result, indent=2)
    if args.out:
        from shared.config import atomic_write_text
        atomic_write_text(args.out, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
