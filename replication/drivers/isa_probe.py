"""Do demo training runs give the same bits under another instruction set? Measured.

    python -m replication.drivers.isa_probe         # every setting below, ~2-4 min on 2 cores
    python -m replication.drivers.isa_probe --steps 5 --json isa.json

Trains paper 1's demo CNN-GRU (Conv2D, BatchNorm, GRU, Dense: the op mix of the demo
tables) for a few Adam steps on fixed random batches, once per setting, each in a fresh
child process, and prints a hash of the final weights and the time per step. oneDNN picks
its kernels by the CPU's vector ISA at run time; `ONEDNN_MAX_CPU_ISA` caps that choice,
so one machine can stand in for CPUs with fewer vector units (an AVX2 CPU for an AVX-512
one, an AVX CPU for an AVX2 one). Settings:

  default             TF as installed (oneDNN on, best ISA of this CPU)
  isa=AVX             oneDNN capped at AVX (as on an older CPU)
  isa=SSE41           oneDNN capped at SSE4.1
  onednn_off          TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels, compiled for the wheel's ISA)
  onednn_off+isa=SSE41   the same with the cap, which must not matter then
  threads=1           one intra-op thread (another partition of every reduction)

Equal hashes mean bit-identical training under those settings on this machine. The finding
is written in the register (shared-cross-cpu-determinism).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from typing import Sequence

from shared.cli import command

SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "isa=AVX": {"ONEDNN_MAX_CPU_ISA": "AVX"},
    "isa=SSE41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn_off+isa=SSE41": {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "threads=1": {"KD_INTRA_OP_THREADS": "1"},
}


def train_and_hash(steps: int, batch: int = 8) -> dict:
    """In this process: seeded demo CNN-GRU, `steps` Adam steps -> {"hash", "step_seconds", "loss"}."""
    threads = os.environ.get("KD_INTRA_OP_THREADS")
    import tensorflow as tf
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
    import keras
    import numpy as np

    from paper1_ts.model_params import demo_params
    from paper1_ts.models.cnn_gru import build_cnn_gru
    from shared.determinism import seed_everything

    seed_everything(0)
    p = demo_params().cnn_gru
    model = build_cnn_gru(p, head="gru")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, *p.input_shape)).astype(np.float32)   # [S, B, 99, 64, 2]
    y = keras.utils.to_categorical(rng.integers(0, p.num_classes, (steps, batch)), p.num_classes)
    opt = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)["logits"]                            # [B, 10]
            loss = tf.reduce_mean(keras.losses.categorical_crossentropy(yb, logits, from_logits=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    step(x[0], y[0])                       # trace + first step (not timed)
    start = time.perf_counter()
    for i in range(1, steps):
        loss = step(x[i], y[i])
    seconds = (time.perf_counter() - start) / max(1, steps - 1)
    digest = hashlib.sha256()
    for w in model.weights:
        digest.update(np.ascontiguousarray(w.numpy()).tobytes())
    return {"hash": digest.hexdigest()[:16], "step_seconds": round(seconds, 4), "loss": float(loss)}


def run_setting(name: str, steps: int) -> dict:
    """One setting in a fresh child process (env vars act at TF start-up)."""
    env = {**os.environ, **SETTINGS[name], "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-m", "replication.drivers.isa_probe", "--child", "--steps", str(steps)],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


@command("python -m replication.drivers.isa_probe")
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m replication.drivers.isa_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=6, help="Adam steps per setting (default 6)")
    p.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS))
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(train_and_hash(args.steps)))
        return 0
    from replication.records import host_facts
    results = {}
    for name in args.settings:
        results[name] = run_setting(name, args.steps)
        r = results[name]
        line = r.get("error") or f"weights {r['hash']}  {r['step_seconds'] * 1000:.0f} ms/step"
        print(f"{name:24s} {line}", flush=True)
    base = results.get("default", {}).get("hash")
    same = [n for n, r in results.items() if r.get("hash") == base]
    print(f"bit-identical to default: {', '.join(same)}")
    if args.json:
        from shared.config import atomic_write_text
        atomic_write_text(args.json, json.dumps({"host": host_facts(), "steps": args.steps,
                                                 "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
