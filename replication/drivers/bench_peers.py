"""Benchmark section "peers": the kit's paper models against the same models in PyTorch.

    python -m replication.drivers.bench --section peers --json peers.json   # paper shapes
    python -m replication.drivers.bench --section peers --quick             # tiny shapes, 1 round
    python -m replication.drivers.bench --section peers --peers-dir DIR     # keep / reuse children
    python -m replication.drivers.bench_peers --framework torch --arch vgg19 \
        --shape 150 64 3 --batch 64 --optimizer sgd                            # one child

For each of the four paper models (paper 1's Table 2 raw-waveform CNN and Table 3
CNN-GRU, paper 2's VGG19 and ResNet101 branches at 150 x 64 x 3 crops) the kit's Keras
model and its PyTorch peer (replication/drivers/peers_torch.py: the same layers, shapes
and number of weights) are trained one step at a time at the paper's batch, with the same
optimiser (Adam 1e-3 for paper 1, SGD 1e-3 momentum 0.9 for paper 2), the same softmax
cross-entropy, the same input batch (numpy, seed 0; channels-first for PyTorch) and the
same intra-op threads (THREADS). Every measurement runs in a fresh child process, as in
the "training" section; kit and peer take turns within a round (the order alternates
between rounds), so a slow spell of a shared host falls on both. Per model: clips/s of
both over the rounds, the ratio kit / peer of each round and their median, and both
against the largest fp32 matmul rate measured in any child (the ceiling).

PyTorch is an optional extra (requirements-peers.txt); without it the section returns
{"skipped": SKIP_MESSAGE} and says how to install it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.cli import command
from shared.paths import checkout_root

THREADS = 2                        # intra- and inter-op threads of both frameworks
TARGET_RATIO = 1.5                 # kit clips/s over the peer's ...
TARGET_CEILING = 0.90              # ... or this share of the matmul ceiling
NUM_CLASSES = 10
CHILD_TIMEOUT = 1800               # seconds for one child (paper shapes, busy host)
MAX_STEPS = 200
INSTALL = ("pip install -r requirements-peers.txt "
           "--index-url https://download.pytorch.org/whl/cpu")
# PyTorch's OpenMP threads spin while they wait by default; on a shared, oversubscribed host
# that made the peer's steps several times slower (the kit's TensorFlow thread pool does not
# suffer so), so the peer's children run with passive waiting unless the caller sets it.
PEER_OMP_WAIT_POLICY = "PASSIVE"
SKIP_MESSAGE = ("PyTorch is not installed, so the peers section is skipped; it is an optional "
                f"benchmark extra: .venv/bin/{INSTALL}")


@dataclass(frozen=True)
class PeerCase:
    """One model timed on both sides: architecture, one example's shape (channels last), batch."""
    name: str
    arch: str                      # peers_torch.ARCHS
    input_shape: tuple
    batch: int
    optimizer: str                 # "adam" (paper 1, Sec. 4.2) | "sgd" (paper 2, Sec. IV-C)


def _paper_cases() -> dict[str, PeerCase]:
    from replication.drivers.bench_training import SPECS

    arch_of = {"p1_raw_cnn_paper": "raw_cnn", "p1_cnn_gru_paper": "cnn_gru",
               "p2_vgg19_paper": "vgg19", "p2_resnet101_paper": "resnet101"}
    return {name: PeerCase(name, arch, SPECS[name].input_shape, SPECS[name].batch,
                           SPECS[name].optimizer) for name, arch in arch_of.items()}


PAPER_CASES = _paper_cases()
# the smallest inputs the paper networks take (raw CNN: 12 x 3^7 samples), batch 2: a check
# that the section runs, not a speed figure
TINY_CASES = {c.name: c for c in [
    PeerCase("p1_raw_cnn_tiny", "raw_cnn", (26244, 2), 2, "adam"),
    PeerCase("p1_cnn_gru_tiny", "cnn_gru", (24, 32, 2), 2, "adam"),
    PeerCase("p2_vgg19_tiny", "vgg19", (32, 32, 3), 2, "sgd"),
    PeerCase("p2_resnet101_tiny", "resnet101", (32, 32, 3), 2, "sgd"),
]}


def torch_missing() -> str | None:
    """None when PyTorch imports, else SKIP_MESSAGE with the import error."""
    try:
        import torch  # noqa: F401
    except ImportError as err:
        return f"{SKIP_MESSAGE} ({err})"
    return None


# ----------------------------------------------------------------------------- one child
def batch_of(case: PeerCase) -> tuple[np.ndarray, np.ndarray]:
    """The batch both frameworks train on: x [B, *input_shape] float32, labels [B] int."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case.batch, *case.input_shape), dtype=np.float32)
    return x, rng.integers(0, NUM_CLASSES, case.batch)


def time_steps(step, warmup: int, steps: int, min_seconds: float, clock=time.perf_counter) -> dict:
    """Times `step()` (one train step, returns when done) the same way for both frameworks:
    `warmup` untimed steps, one step to gauge, then n = max(steps, about min_seconds of
    steps, at most MAX_STEPS) timed steps; step_seconds is their median."""
    start = clock()
    for _ in range(warmup):
        step()
    warm = clock() - start
    start = clock()
    step()
    one = clock() - start
    n = max(steps, min(MAX_STEPS, math.ceil(min_seconds / max(one, 1e-6))))
    times = []
    for _ in range(n):
        start = clock()
        step()
        times.append(clock() - start)
    return {"warmup_steps": warmup, "warmup_seconds": warm, "steps": n,
            "step_times": times, "step_seconds": float(np.median(times))}


def _host_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _kit_child(case: PeerCase, warmup: int, steps: int, min_seconds: float, matmul_n: int) -> dict:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    import keras

    from replication.drivers.bench_training import count_flops, matmul_ceiling

    keras.utils.set_random_seed(0)
    model = build_kit_model(case)
    optimizer = (keras.optimizers.Adam(1e-3) if case.optimizer == "adam"
                 else keras.optimizers.SGD(1e-3, momentum=0.9))
    optimizer.build(model.trainable_variables)
    x_np, labels = batch_of(case)
    x = tf.constant(x_np)                                                     # [B, ...]
    y = tf.one_hot(labels, NUM_CLASSES)                                       # [B, C]
    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            out = model(xb, training=True)
            logits = out["logits"] if isinstance(out, dict) else out          # [B, C]
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(yb, logits))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    timing = time_steps(lambda: step(x, y).numpy(), warmup, steps, min_seconds)
    return {"framework": "kit", "version": f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
            "params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
            "train_flops": count_flops(model)["train_flops"],
            "matmul_gflops_per_s": matmul_ceiling(matmul_n, 5)["gflops_per_s"], **timing}


def build_kit_model(case: PeerCase):
    """The kit's Keras model of `case` (outputs: dict with "logits" for paper 1, logits for paper 2)."""
    from replication.drivers.peers_torch import kit_params

    p = kit_params(case.arch, case.input_shape, NUM_CLASSES)
    if case.arch == "raw_cnn":
        from paper1_ts.models import build_raw_cnn
        return build_raw_cnn(p)
    if case.arch == "cnn_gru":
        from paper1_ts.models import build_cnn_gru
        return build_cnn_gru(p, head="gru")
    from paper2_multirep.branches import build_branch
    return build_branch(p, case.input_shape, NUM_CLASSES, quiet=True).model


def torch_matmul(n: int, repeats: int) -> float:
    """GFLOP/s of an fp32 n x n matmul in PyTorch (best of `repeats`, after a warm-up)."""
    import torch

    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    (a @ b).sum().item()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ b).sum().item()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def _torch_child(case: PeerCase, warmup: int, steps: int, min_seconds: float, matmul_n: int) -> dict:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(THREADS)
    from replication.drivers.peers_torch import build_peer, to_channels_first

    torch.manual_seed(0)
    model = build_peer(case.arch, case.input_shape, NUM_CLASSES).train()
    optimizer = (torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)   # Keras' epsilon
                 if case.optimizer == "adam"
                 else torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
    x_np, labels = batch_of(case)
    x = to_channels_first(torch.from_numpy(x_np))                             # [B, C, ...]
    y = torch.from_numpy(labels).long()                                       # [B]

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    timing = time_steps(step, warmup, steps, min_seconds)
    return {"framework": "torch", "version": f"PyTorch {torch.__version__}",
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
            "params": int(sum(p.numel() for p in model.parameters())),
            "matmul_gflops_per_s": torch_matmul(matmul_n, 5), **timing}


def run_child(framework: str, case: PeerCase, warmup: int, steps: int, min_seconds: float,
              matmul_n: int) -> dict:
    """Measures one framework's model of `case` in this process."""
    fn = _kit_child if framework == "kit" else _torch_child
    out = fn(case, warmup, steps, min_seconds, matmul_n)
    out["clips_per_s"] = case.batch / out["step_seconds"]
    out["host_peak_mb"] = _host_peak_mb()
    return out


def _spawn(framework: str, case: PeerCase, workdir: Path, warmup: int, steps: int,
           min_seconds: float, matmul_n: int, tag: str) -> dict:
    """run_child in a fresh interpreter; a crash or time-out comes back as {"error"}."""
    out_file = workdir / child_file(case, framework, tag)
    cmd = [sys.executable, "-m", "replication.drivers.bench_peers", "--framework", framework,
           "--name", case.name, "--arch", case.arch,
           "--shape", *map(str, case.input_shape), "--batch", str(case.batch),
           "--optimizer", case.optimizer, "--warmup", str(warmup), "--steps", str(steps),
           "--min-seconds", str(min_seconds), "--matmul-n", str(matmul_n), "--out", str(out_file)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if framework == "torch":
        env.setdefault("OMP_WAIT_POLICY", PEER_OMP_WAIT_POLICY)
    root = str(checkout_root())
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT)
        if proc.returncode == 0 and out_file.exists():
            return json.loads(out_file.read_text())
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-800:]}"}
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT} s"}


# ----------------------------------------------------------------------------- summary
def summarise(case: PeerCase, rounds: list[dict], ceiling: float | None) -> dict:
    """Per model, from its rounds ([{"kit": child, "torch": child}]): clips/s of both
    (median, min, max), the per-round ratio kit / peer and its median, the shares of
    `ceiling` (GFLOP/s; both sides do the kit's FLOPs per clip), and the verdict."""
    ok = [r for r in rounds if "error" not in r["kit"] and "error" not in r["torch"]]
    out = {"arch": case.arch, "input_shape": list(case.input_shape), "batch": case.batch,
           "optimizer": case.optimizer, "rounds": rounds,
           "errors": [r[k]["error"] for r in rounds for k in ("kit", "torch") if "error" in r[k]]}
    if not ok:
        return out
    kit = [r["kit"]["clips_per_s"] for r in ok]
    peer = [r["torch"]["clips_per_s"] for r in ok]
    ratios = [k / p for k, p in zip(kit, peer)]
    flops = ok[0]["kit"]["train_flops"]
    out.update({
        "params": {"kit": ok[0]["kit"]["params"], "torch": ok[0]["torch"]["params"]},
        "train_flops": flops,
        "kit_clips_per_s": _spread(kit), "torch_clips_per_s": _spread(peer),
        "ratios": ratios, "ratio": float(np.median(ratios)),
        "ratio_min": min(ratios), "ratio_max": max(ratios)})
    if ceiling:
        kit_share = out["kit_clips_per_s"]["median"] * flops / 1e9 / ceiling
        peer_share = out["torch_clips_per_s"]["median"] * flops / 1e9 / ceiling
        out.update({"kit_share_of_ceiling": kit_share, "torch_share_of_ceiling": peer_share,
                    # the largest ratio possible if the kit ran at the ceiling itself
                    "ratio_bound_at_ceiling": 1.0 / peer_share if peer_share > 0 else float("inf")})
    out["verdict"] = verdict(out)
    return out


def _spread(values: list[float]) -> dict:
    """bench_rounds.spread (median, min, max) with the per-round values kept."""
    from replication.drivers.bench_rounds import spread
    return {**spread(values), "values": values}


def verdict(m: dict) -> str:
    """"ratio" (kit >= 1.5x the peer), "ceiling" (kit >= 90 % of the matmul ceiling),
    or "not met"."""
    if m["ratio"] >= TARGET_RATIO:
        return "ratio"
    if m.get("kit_share_of_ceiling", 0.0) >= TARGET_CEILING:
        return "ceiling"
    return "not met"


def bench_peers(ctx) -> dict:
    """The "peers" section (ctx: replication.drivers.bench.BenchContext)."""
    missing = torch_missing()
    if missing:
        ctx.log(f"  {missing}")
        return {"skipped": missing}
    tiny = ctx.quick or bool(ctx.extra.get("peers_tiny"))
    cases = TINY_CASES if tiny else PAPER_CASES
    wanted = ctx.extra.get("peers_models")
    if wanted:
        unknown = sorted(set(wanted) - set(cases))
        if unknown:
            raise ValueError(f"peers section: unknown model(s) {unknown} (choose from {sorted(cases)})")
        cases = {n: c for n, c in cases.items() if n in wanted}
    n_rounds = ctx.extra.get("peer_rounds") or (1 if tiny else 3)
    steps = ctx.extra.get("steps") or (2 if tiny else 3)
    # one warm-up step, then the untimed gauge step of time_steps: two steps before timing
    warmup, min_seconds, mm_n = (1, 0.5, 512) if tiny else (1, 3.0, 2048)
    ctx.log(f"  {len(cases)} models x {n_rounds} rounds, kit and PyTorch peer in turn, "
            f"{THREADS} threads each, one child process per measurement")
    keep = ctx.extra.get("peers_dir")
    workdir = Path(keep) if keep else ctx.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    rounds = {name: [] for name in cases}
    reused = 0
    for r in range(n_rounds):
        for name, case in cases.items():
            order = ("kit", "torch") if r % 2 == 0 else ("torch", "kit")
            got = {}
            for fw in order:
                kept = reuse_child(workdir / child_file(case, fw, f"r{r}"), warmup, steps) if keep else None
                reused += kept is not None
                got[fw] = kept or _spawn(fw, case, workdir, warmup, steps, min_seconds, mm_n, f"r{r}")
            rounds[name].append(got)
            ctx.log(f"  round {r + 1} {name:20s} " + "  ".join(
                f"{fw} " + (f"{got[fw]['clips_per_s']:8.2f} clips/s" if "error" not in got[fw]
                            else f"FAILED {got[fw]['error'][:200]}") for fw in ("kit", "torch")))
    matmuls = [child["matmul_gflops_per_s"] for rs in rounds.values() for r in rs
               for child in r.values() if "error" not in child]
    ceiling = max(matmuls) if matmuls else None
    models = {name: summarise(case, rounds[name], ceiling) for name, case in cases.items()}
    for name, m in models.items():
        if "ratio" in m:
            ctx.log(f"  {name:20s} kit/peer {m['ratio']:.2f}x (rounds {m['ratio_min']:.2f}-"
                    f"{m['ratio_max']:.2f})  kit {100 * m.get('kit_share_of_ceiling', 0):.0f} % / "
                    f"peer {100 * m.get('torch_share_of_ceiling', 0):.0f} % of the matmul ceiling  "
                    f"target: {m['verdict']}")
    load = os.getloadavg()
    versions = {}
    for rs in rounds.values():
        for r in rs:
            versions.update({fw: c["version"] for fw, c in r.items() if "version" in c})
    return {"tiny": tiny, "threads": THREADS, "rounds": n_rounds, "steps": steps,
            "warmup": warmup, "min_seconds": min_seconds, "matmul_n": mm_n,
            "matmul_gflops_per_s": matmuls, "ceiling_gflops_per_s": ceiling,
            "targets": {"ratio": TARGET_RATIO, "share_of_ceiling": TARGET_CEILING},
            "versions": versions, "models": models, "loadavg": list(load),
            "reused_children": reused}


def child_file(case: PeerCase, framework: str, tag: str) -> str:
    """File name of one child's result in the section's work folder."""
    return f"peer-{case.name}-{framework}-{tag}.json"


def reuse_child(path: Path, warmup: int, steps: int) -> dict | None:
    """A child result kept by an earlier run with --peers-dir (a stopped run resumes), or None
    when there is none or it was measured with other warm-up / step settings."""
    try:
        got = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if got.get("warmup_steps") != warmup or got.get("steps", 0) < steps or "clips_per_s" not in got:
        return None
    return got


# ----------------------------------------------------------------------------- report
def render_peers(report: dict, json_name: str) -> str:
    """The Markdown of the peers section of docs/scale.md from a benchmark JSON."""
    sec = report.get("sections", {}).get("peers")
    if not sec:
        return f"No peers section in `{json_name}`.\n"
    if "skipped" in sec:
        return f"Not measured: {sec['skipped']}\n"
    v = sec.get("versions", {})
    load = " / ".join(f"{x:.2f}" for x in sec.get("loadavg", []))
    lines = [f"Measured by `python -m replication.drivers.bench --section peers --rounds {sec['rounds']} "
             f"--steps {sec['steps']} --json {json_name}` "
             f"({v.get('kit', 'kit')} vs {v.get('torch', 'PyTorch')}; {sec['threads']} threads each; "
             f"{sec['rounds']} rounds, kit and peer in turn in fresh child processes, each timing at "
             f"least {sec['steps']} steps after {sec['warmup']} warm-up step(s) and one untimed "
             f"gauge step; load average "
             f"{load} at the end of the run). Ceiling: the largest fp32 {sec['matmul_n']} x "
             f"{sec['matmul_n']} matmul rate of any child, {sec['ceiling_gflops_per_s']:.0f} GFLOP/s "
             "(each side's FLOPs per clip are the kit's count, 2 per multiply-add of conv / dense / "
             "GRU, training = 3 x forward).", "",
             "| model | input x batch | weights (kit = peer) | kit clips/s | PyTorch clips/s | "
             "kit / PyTorch (rounds) | kit, PyTorch % of ceiling | best ratio at the ceiling | "
             f"target (>= {sec['targets']['ratio']:g}x, or >= "
             f"{100 * sec['targets']['share_of_ceiling']:.0f} % of ceiling) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, m in sec["models"].items():
        shape = " x ".join(map(str, m["input_shape"])) + f" x {m['batch']}"
        if "ratio" not in m:
            lines.append(f"| {name} | {shape} | | FAILED: {'; '.join(m['errors'])[:160]} | | | | | |")
            continue
        same = "=" if m["params"]["kit"] == m["params"]["torch"] else "!="
        k, t = m["kit_clips_per_s"], m["torch_clips_per_s"]
        shares = (f"{100 * m['kit_share_of_ceiling']:.0f} %, {100 * m['torch_share_of_ceiling']:.0f} %"
                  if "kit_share_of_ceiling" in m else "-")
        bound = f"{m['ratio_bound_at_ceiling']:.2f}x" if "ratio_bound_at_ceiling" in m else "-"
        verdict_text = {"ratio": "**met** (ratio)", "ceiling": "**met** (ceiling)",
                        "not met": "**not met**"}[m["verdict"]]
        lines.append(
            f"| {name} | {shape} | {m['params']['kit']:,} {same} {m['params']['torch']:,} | "
            f"{k['median']:.2f} ({k['min']:.2f}-{k['max']:.2f}) | "
            f"{t['median']:.2f} ({t['min']:.2f}-{t['max']:.2f}) | "
            f"{m['ratio']:.2f}x ({', '.join(f'{r:.2f}' for r in m['ratios'])}) | {shares} | "
            f"{bound} | {verdict_text} |")
    lines += ["", "clips/s: median of the rounds (lowest-highest); kit / PyTorch: median of the "
              "per-round ratios (each round's). \"Best ratio at the ceiling\": kit / PyTorch if the "
              "kit ran at the matmul ceiling itself; below the ratio target it means the target can "
              "be met only by the ceiling clause."]
    lines += why_not(sec)
    return "\n".join(lines) + "\n"


def why_not(sec: dict) -> list[str]:
    """One generated line per model: which clause of the target it meets, or what meeting
    it would take (the ratio target as a share of the ceiling)."""
    ratio_target = sec["targets"]["ratio"]
    share_target = sec["targets"]["share_of_ceiling"]
    out = []
    for name, m in sec["models"].items():
        if "ratio" not in m or "kit_share_of_ceiling" not in m:
            continue
        kit, peer = 100 * m["kit_share_of_ceiling"], 100 * m["torch_share_of_ceiling"]
        need = ratio_target * peer
        if m["verdict"] == "ratio":
            text = f"meets the ratio target ({m['ratio']:.2f}x; the kit at {kit:.1f} % of the ceiling)"
        elif m["verdict"] == "ceiling":
            text = f"meets the ceiling clause (the kit at {kit:.1f} % of the ceiling, {m['ratio']:.2f}x the peer)"
        elif need > 100:
            text = (f"not met: the peer already runs at {peer:.1f} % of the ceiling, so "
                    f"{ratio_target:g}x it would need the kit at {need:.1f} % of the ceiling, above "
                    f"the ceiling; the kit reaches {kit:.1f} %, short of the "
                    f"{100 * share_target:.0f} % clause")
        else:
            text = (f"not met: {ratio_target:g}x the peer (median of the clips/s) would need the kit "
                    f"at {need:.1f} % of the ceiling and it reaches {kit:.1f} % "
                    f"({m['ratio']:.2f}x the peer, median of the rounds' ratios)")
        out.append(f"- {name}: {text}.")
    return [""] + out if out else []


@command("python -m replication.drivers.bench_peers")
def main(argv: list[str] | None = None) -> int:
    """Child entry point: one framework's model, JSON to --out (exit 2: bad input)."""
    from replication.drivers.peers_torch import ARCHS

    parser = argparse.ArgumentParser(prog="python -m replication.drivers.bench_peers")
    parser.add_argument("--framework", choices=("kit", "torch"), required=True)
    parser.add_argument("--arch", choices=ARCHS, required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--shape", type=int, nargs="+", required=True,
                        help="one example's shape, channels last (e.g. 150 64 3)")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--optimizer", choices=("adam", "sgd"), required=True)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.framework == "torch" and torch_missing():
        print(torch_missing(), file=sys.stderr)
        return 2
    case = PeerCase(args.name or args.arch, args.arch, tuple(args.shape), args.batch, args.optimizer)
    result = run_child(args.framework, case, args.warmup, args.steps, args.min_seconds,
                       args.matmul_n)
    text = json.dumps(result, indent=2)
    if args.out:
        from shared.config import atomic_write_text
        atomic_write_text(args.out, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
