"""Markdown report of `python -m replication.drivers.bench --json` results, before vs after.

    python -m replication.drivers.bench --json docs/results/bench/after.json
    python -m replication.drivers.bench_report --after docs/results/bench/after.json \
        --before docs/results/bench/before.json --into docs/scale.md --section bench

Every number in the speed section of docs/scale.md comes from these JSON files (committed under
docs/results/bench/), so the section can be regenerated and checked. Each of the
issue's four targets is judged from the data: pipeline overhead <= 5 % for every model,
feature extraction >= 5x librosa, training >= 40 % of the matmul ceiling for the
paper-size convolutional models, the full DCASE feature cache in <= 15 min.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from replication.report import ReportError, replace_between_markers
from shared.cli import UsageError, command

TARGETS = {"pipeline_overhead": 0.05, "feature_ratio": 5.0, "matmul_ratio": 0.40, "cache_minutes": 15.0}


def _load(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: benchmark JSON not found (write it with "
                         f"`python -m replication.drivers.bench --json {path}`)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not valid JSON ({err})") from None


def _section(report: dict | None, name: str) -> dict:
    return (report or {}).get("sections", {}).get(name, {})


def _cache_minutes(cache: dict) -> dict:
    """{"one_at_a_time": min, "one_pass_parallel": min or None} for old and new JSON layouts."""
    got = cache.get("extrapolated_minutes")
    if isinstance(got, dict):
        return got
    return {"one_at_a_time": got, "one_pass_parallel": None}


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:+.1f} %" if signed else f"{100 * x:.0f} %"


def training_table(after: dict, before: dict | None) -> list[str]:
    models = _section(after, "training").get("models", {})
    old = _section(before, "training").get("models", {})
    rows = ["| model | input | batch | clips/s | GFLOP/clip (train) | GFLOP/s | % of matmul | "
            "pipeline overhead | peak RSS MB | XLA | mixed bf16 | before: batch, clips/s, % of matmul |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in models.items():
        if "error" in m:
            rows.append(f"| {name} | | | FAILED: {m['error'][:120]} | | | | | | | | |")
            continue
        o = old.get(name)
        prev = (f"{o['batch']}, {o['clips_per_s']:.1f}, {_pct(o['ratio_to_matmul'])}"
                if o and "error" not in o else "-")
        xla = f"x{m['xla_speedup']:.2f}" if "xla_speedup" in m else "-"
        pipe = m.get("pipeline", {})
        fed = _pct(pipe.get("overhead"), signed=True)
        if "alone_share" in pipe:
            fed += f" ({100 * pipe['alone_share']:.1f} %)"
        bf16 = m.get("bf16", {})
        bf16 = f"x{bf16['speedup']:.2f}" if "speedup" in bf16 else ("failed" if bf16 else "-")
        rows.append(f"| {name} | {' x '.join(map(str, m['input_shape']))} | {m['batch']} | "
                    f"{m['clips_per_s']:.1f} | {m['train_flops'] / 1e9:.2f} | "
                    f"{m['achieved_gflops_per_s']:.0f} | {_pct(m['ratio_to_matmul'])} | "
                    f"{fed} | {m['peak_memory']['host_peak_mb']:.0f} | {xla} | {bf16} | {prev} |")
    return rows


def features_table(after: dict, before: dict | None) -> list[str]:
    cases = _section(after, "features").get("cases", {})
    old = _section(before, "features").get("cases", {})
    rows = ["| features of one clip | kit clips/s | librosa clips/s | kit / librosa | before |",
            "|---|---|---|---|---|"]
    for name, c in cases.items():
        o = old.get(name)
        prev = f"{o['kit_clips_per_s'] / o['librosa_clips_per_s']:.2f}x" if o else "-"
        rows.append(f"| {name} | {c['kit_clips_per_s']:.0f} | {c['librosa_clips_per_s']:.0f} | "
                    f"{c['kit_clips_per_s'] / c['librosa_clips_per_s']:.2f}x | {prev} |")
    return rows


def fft_floor_lines(after: dict) -> list[str]:
    """Where the kit's log-mel time goes, stage by stage, and the bound the FFT sets."""
    feats = _section(after, "features")
    stages = feats.get("logmel64_stage_ms")
    if not stages:
        return []
    parts = ", ".join(f"{name} {ms:.2f}" for name, ms in stages.items())
    lines = ["", f"Where the kit's logMel64 time goes, ms per clip, each stage timed alone on the "
             f"previous stage's output: {parts} (sum {sum(stages.values()):.2f}). The FFT alone "
             f"(tf.signal.rfft of the framed, windowed clip) caps kit / librosa at "
             f"{feats['fft_only_ratio_bound']:.1f}x for logMel64, even if every other stage cost "
             "nothing"]
    if "fft_filterbank_ratio_bound" in feats:
        weights = (f"one multiply-add per nonzero weight of the mel filterbank "
                   f"({feats['filterbank_nonzero_weights']} weights) per frame, "
                   if "filterbank_nonzero_weights" in feats else "the mel filterbank's ")
        lines[-1] += (f"; the FFT plus {weights}"
                      f"{feats['filterbank_flops_per_clip'] / 1e6:.1f} MFLOP per clip run at the fp32 "
                      f"matmul ceiling ({feats['matmul_gflops_per_s']:.0f} GFLOP/s, "
                      f"{feats['filterbank_ms_at_ceiling']:.2f} ms) cap it at "
                      f"{feats['fft_filterbank_ratio_bound']:.1f}x, with framing, window, |X|^2 and "
                      "the log still free")
    lines[-1] += "."
    return lines


def targets(after: dict) -> list[tuple[str, bool | None, str]]:
    """(target, met?, measured) for the issue's four targets (None: not measured)."""
    out = []
    models = {n: m for n, m in _section(after, "training").get("models", {}).items() if "error" not in m}
    fed = {n: m["pipeline"]["overhead"] for n, m in models.items() if "pipeline" in m}
    if fed:
        worst = max(fed, key=fed.get)
        measured = f"largest {_pct(fed[worst], True)} ({worst})"
        spread = models[worst]["pipeline"].get("round_overheads")
        if spread:
            measured += (f"; its {len(spread)} rounds scatter from {_pct(min(spread), True)} to "
                         f"{_pct(max(spread), True)}")
        alone = {n: m["pipeline"]["alone_share"] for n, m in models.items()
                 if "alone_share" in m.get("pipeline", {})}
        if alone:
            top = max(alone, key=alone.get)
            measured += (f"; the pipeline alone (no model) costs at most "
                         f"{100 * alone[top]:.1f} % of a step ({top})")
        out.append(("input-pipeline overhead <= 5 % (every model)",
                    fed[worst] <= TARGETS["pipeline_overhead"], measured))
    else:
        out.append(("input-pipeline overhead <= 5 % (every model)", None, "no per-model figure in this JSON"))
    cases = _section(after, "features").get("cases", {})
    if cases:
        ratios = {n: c["kit_clips_per_s"] / c["librosa_clips_per_s"] for n, c in cases.items()}
        low, high = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
        out.append(("feature extraction >= 5x librosa", ratios[low] >= TARGETS["feature_ratio"],
                    f"{ratios[low]:.2f}x ({low}) to {ratios[high]:.2f}x ({high})"))
    conv = {n: m["ratio_to_matmul"] for n, m in models.items() if m.get("size") == "paper"}
    if conv:
        low = min(conv, key=conv.get)
        out.append(("training >= 40 % of the matmul ceiling (paper-size models)",
                    conv[low] >= TARGETS["matmul_ratio"],
                    f"lowest {_pct(conv[low])} ({low}); "
                    + ", ".join(f"{n} {_pct(r)}" for n, r in conv.items())))
    cache = _section(after, "training").get("dcase_feature_cache")
    if cache:
        minutes = _cache_minutes(cache)
        best = minutes.get("one_pass_parallel") or minutes["one_at_a_time"]
        out.append(("full DCASE 2018 1A feature cache <= 15 min", best <= TARGETS["cache_minutes"],
                    f"{best:.1f} min extrapolated"))
    return out


def render(after: dict, before: dict | None, after_name: str, before_name: str | None) -> str:
    host = after.get("host", {})
    train = _section(after, "training")
    lines = [f"Measured by `python -m replication.drivers.bench --json {after_name}` on {host.get('cpus')} CPU "
             f"cores, TensorFlow {host.get('tensorflow')}, load average "
             + " / ".join(f"{x:.2f}" for x in train.get("loadavg", [])) + " at the end of the run"
             + (f"; \"before\" is `{before_name}`, the same command on the code before this "
                "round of speed work, same machine, idle." if before_name else "."), ""]
    lines += ["Targets (issue 5), judged from the JSON:", ""]
    for name, met, measured in targets(after):
        verdict = {True: "**met**", False: "**not met**", None: "not measured"}[met]
        lines.append(f"- {name}: {verdict}, {measured}")
    mm = train.get("matmul_gflops_per_s") or []
    lines += ["", "Training, one train step (forward + backward + optimizer) on one in-memory batch, "
              "then the same step fed by the cached tf.data pipeline (overhead = fed step time / "
              "in-memory step time - 1; in-memory and fed blocks taken in turn, the median over the "
              "rounds. In brackets the pipeline alone, no model running: its time per batch over "
              "the in-memory step, what the overhead would be if the pipeline overlapped nothing). "
              "% of matmul: achieved GFLOP/s over an fp32 2048 x 2048 "
              "matmul timed in the same child process (" + ", ".join(f"{x:.0f}" for x in mm)
              + " GFLOP/s). FLOPs: 2 per multiply-add of conv / dense / GRU layers, training = "
              "3 x forward. XLA and mixed bf16: clips/s with jit_compile / under Keras' "
              "mixed_bfloat16 policy over plain float32 (both off by default).", ""]
    lines += training_table(after, before)
    over = [n for n, m in train.get("models", {}).items() if m.get("ratio_to_matmul", 0) > 1.0]
    if over:
        lines += ["", f"Above 100 % ({', '.join(over)}): the ceiling is what TensorFlow's fp32 "
                  "matmul reaches in the same process, not the CPU's peak; oneDNN's convolution "
                  "kernels can run closer to the peak than that matmul does."]
    dummy = _section(after, "pipeline")
    if dummy:
        old_dummy = _section(before, "pipeline")
        lines += ["", "The worst case, a 2-layer dummy model with almost no compute per step "
                  f"(section `pipeline`): fed by the pipeline {dummy['pipeline_overhead_percent']:+.0f} % "
                  "step time over in-memory"
                  + (f" (before {old_dummy['pipeline_overhead_percent']:+.0f} %)" if old_dummy else "")
                  + "; the papers' models hide the pipeline behind their compute (column above)."]
    lines += ["", "Feature extraction, per clip (5 s 22.05 kHz ESC-10 clips), kit front end vs "
              "librosa with the same settings:", ""]
    lines += features_table(after, before)
    lines += fft_floor_lines(after)
    cache = train.get("dcase_feature_cache")
    if cache:
        now = _cache_minutes(cache)
        old = _cache_minutes(_section(before, "training").get("dcase_feature_cache", {})) if before else {}
        par = cache.get("one_pass_parallel", {})
        lines += ["", f"Full DCASE 2018 1A feature cache ({cache['dcase_clips']} clips of 10 s 48 kHz "
                  f"stereo, {len(cache['seconds_per_clip'])} representations), extrapolated from "
                  "generated clips of that format:", "",
                  "| build | minutes |", "|---|---|"]
        if old.get("one_at_a_time") is not None:
            lines.append(f"| before: one representation at a time, one process | {old['one_at_a_time']:.1f} |")
        lines.append(f"| one representation at a time, one process | {now['one_at_a_time']:.1f} |")
        if now.get("one_pass_parallel") is not None:
            lines.append(f"| one decode per clip, shared STFTs, {par.get('workers')} worker processes "
                         f"(the kit's build) | {now['one_pass_parallel']:.1f} |")
        parts = ", ".join(f"{k} {v:.3f}" for k, v in cache["seconds_per_clip"].items())
        lines += ["", f"Seconds per clip, each representation alone: {parts}."]
        ref = cache.get("reference_seconds_per_clip", {}).get("p2_CQT_librosa")
        if ref and cache["seconds_per_clip"].get("p2_CQT"):
            lines[-1] += (f" The CQT through librosa.cqt (cqt_impl librosa, the reference; not part "
                          f"of the build): {ref:.3f}, {ref / cache['seconds_per_clip']['p2_CQT']:.1f}x "
                          "the kit's fast CQT.")
    return "\n".join(lines) + "\n"


def _render_part(render_fn, path: Path) -> str:
    """One section's own Markdown (bench_floor / bench_inference); a JSON without it is bad input."""
    try:
        return render_fn(_load(path), str(path))
    except ValueError as err:
        raise UsageError(str(err)) from None


@command("python -m replication.drivers.bench_report", ReportError)
def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 ok, 2 bad input (one line on stderr, docs/errors.md)."""
    p = argparse.ArgumentParser(prog="python -m replication.drivers.bench_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--after", type=Path, required=True, help="benchmark JSON of the current code")
    p.add_argument("--before", type=Path, help="benchmark JSON to compare with")
    p.add_argument("--into", type=Path,
                   help="Markdown file whose marked section is replaced (the kit's: docs/scale.md)")
    p.add_argument("--section", default="bench",
                   help="marker name for --into (default: bench; \"peers\": the PyTorch peers table; "
                        "\"bench_floor\" / \"bench_inference\" / \"bench_batchnorm\" / \"bench_cache\": those sections "
                        "of the JSON)")
    args = p.parse_args(argv)
    if args.section == "bench_floor":             # kit vs its FFT-only bound (bench_floor.py)
        from replication.drivers.bench_floor import render_floor
        text = _render_part(render_floor, args.after)
    elif args.section == "bench_inference":       # one branch vs the ensemble (bench_inference.py)
        from replication.drivers.bench_inference import render_inference
        text = _render_part(render_inference, args.after)
    elif args.section == "bench_batchnorm":       # Keras's BN vs the fused layer (bench_batchnorm.py)
        from replication.drivers.bench_batchnorm import render_batchnorm
        text = _render_part(render_batchnorm, args.after)
    elif args.section == "bench_cache":           # the full DCASE cache alone (bench_cache.py)
        from replication.drivers.bench_cache import render_cache
        text = _render_part(render_cache, args.after)
    elif args.section == "peers":                   # the PyTorch peers (bench_peers.py)
        from replication.drivers.bench_peers import render_peers
        text = render_peers(_load(args.after), str(args.after))
    else:
        text = render(_load(args.after), _load(args.before), str(args.after),
                      str(args.before) if args.before else None)
    if args.into:
        changed = replace_between_markers(args.into, args.section, text)
        print(f"{args.into}: section '{args.section}' {'updated' if changed else 'unchanged'}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
