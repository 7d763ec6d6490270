"""Benchmark section "inference": one distilled branch vs paper 2's two-branch ensemble.

    python -m replication.drivers.bench --section inference --json inference.json

Paper 2's point is that one distilled branch classifies about as well as the ensemble
of all branches at the cost of one network. This section measures that cost through
the predict path (paper2_multirep/predict.py: a paper-2 `AudioClassifier` per branch,
shared/inference.py's crops and audio-level score), with random weights (the cost does
not depend on them), at two sizes:

    demo   small_cnn on logMel64 + small_resnet on MFCC, 4 s 16 kHz mono clips,
           crops of 100 frames every 50 (the demo presets)
    paper  VGG19 on logMel64 + ResNet101 on MFCC, 150 x 64 x 3 crops (every 150 frames,
           the paper preset's evaluation crops) of 5 s 44.1 kHz mono clips

For each branch alone and for the ensemble (both branches, probabilities averaged, as
`predict` runs a record of an ensemble row):
- latency per clip, one clip at a time (batch 1 clip: its crops in one network call),
  with features (decode of the WAV file + front end + crops + network, `clip_probs`)
  and network only (the clip's crops precomputed, the classifier called eagerly);
- clips/s batched: all clips' crops in one network call, with features (decode + front
  end per clip) and network only;
- network only once more with the classifier's call traced once (tf.function), as
  `clip_scores` (so predict) does since commit 5d65031: what eager per-layer dispatch costs.
Calls take turns inside each round; the median over rounds and the spread are reported.
`--quick` measures the demo size only, on 2 clips, 2 rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replication.drivers.bench_rounds import host_load, saved_section, spread, timed_rounds

NUM_CLASSES = 10


@dataclass(frozen=True)
class InferenceSize:
    """Clip format, crops and the two branches (arch, paper-2 representation) of one size."""
    sample_rate: int
    seconds: float
    crop_frames: int
    hop_frames: int | None             # None: crop_frames
    branches: tuple                    # ((arch, representation), ...)
    clips: int                         # clips measured (one batch of all of them)
    small_filters: tuple = (16, 32, 64)


SIZES = {
    "demo": InferenceSize(16000, 4.0, 100, 50, (("small_cnn", "logMel64"), ("small_resnet", "MFCC")), 8),
    "paper": InferenceSize(44100, 5.0, 150, None, (("vgg19", "logMel64"), ("resnet101", "MFCC")), 4),
}


def classifiers(size: InferenceSize) -> list:
    """One random-weight AudioClassifier per branch, front end as the presets define it."""
    from paper2_multirep.branches import build_branch
    from paper2_multirep.params import BranchParams
    from shared.classifier import AudioClassifier
    from shared.config import to_dict
    from shared.features import paper2_params

    out = []
    for i, (arch, rep) in enumerate(size.branches):
        params = paper2_params(rep, sample_rate=size.sample_rate)
        bins = params.n_mfcc if params.kind == "mfcc" else params.n_mels
        shape = (size.crop_frames, bins, 3)
        net = build_branch(BranchParams(arch=arch, weights="none", small_filters=size.small_filters),
                           shape, NUM_CLASSES, name=f"branch{i}", quiet=True).model
        out.append(AudioClassifier(net, features=to_dict(params), classes=[f"c{k}" for k in range(NUM_CLASSES)],
                                   crop_frames=size.crop_frames, hop_frames=size.hop_frames,
                                   feature_dtype="float16",
                                   about={"branch": i, "network": arch, "representation": rep}))
    return out


def _network(models, crops_per_model) -> None:
    """The audio-level score of one clip (or a batch of crops) through every model, the
    classifier called eagerly (layer by layer from Python; `clip_scores` traces its call
    since commit 5d65031, so this column keeps the eager cost to compare with)."""
    from shared.inference import softmax

    for clf, crops in zip(models, crops_per_model):
        softmax(np.asarray(clf(crops, training=False), np.float64)).mean(axis=0)


def _network_traced(models, crops_per_model) -> None:
    """As _network, through `clip_scores` (predict's path: the classifier's call traced once
    per classifier, shared.inference.traced_call)."""
    from shared.inference import clip_scores

    for clf, crops in zip(models, crops_per_model):
        clip_scores(clf, crops, batch_size=len(crops))


def measure(size: InferenceSize, workdir: Path, rounds: int, seed: int = 0, log=print,
            clips: int | None = None) -> dict:
    """Latency and batched clips/s of each branch and of the ensemble at one size
    (`clips`: how many clips, default the size's own)."""
    from paper2_multirep.predict import clip_probs
    from replication.drivers.bench_cache import tone_clips
    from shared.inference import clip_crops, load_clip

    examples = tone_clips(workdir, clips or size.clips, size.sample_rate, size.seconds, 1, seed, "PCM_16")
    paths = [e.path for e in examples]
    models = classifiers(size)
    rows = {f"branch {i} ({m.about['network']} on {m.about['representation']})": [m]
            for i, m in enumerate(models)}
    rows[f"ensemble ({len(models)} branches)"] = list(models)

    def crops_of(clf, path):
        return clip_crops(clf, load_clip(path, clf.feature_params, 1), where=str(path))

    pre = {id(m): [crops_of(m, p) for p in paths] for m in models}               # [clips] of [n, crop, bins, 3]
    batched = {id(m): np.concatenate(pre[id(m)]) for m in models}               # [clips * n, crop, bins, 3]
    n_crops = len(pre[id(models[0])][0])

    def fns_of(group):
        return {
            "latency_with_features": lambda: [clip_probs(group, p) for p in paths],
            "latency_network_only": lambda: [_network(group, [pre[id(m)][k] for m in group])
                                             for k in range(len(paths))],
            "batched_with_features": lambda: _network_traced(group, [np.concatenate([crops_of(m, p) for p in paths])
                                                                     for m in group]),
            "batched_network_only": lambda: _network(group, [batched[id(m)] for m in group]),
            "latency_network_traced": lambda: [_network_traced(group, [pre[id(m)][k] for m in group])
                                               for k in range(len(paths))],
            "batched_network_traced": lambda: _network_traced(group, [batched[id(m)] for m in group]),
        }

    fns = {}
    for row, group in rows.items():
        for what, fn in fns_of(group).items():
            fns[(row, what)] = fn
    for fn in fns.values():
        fn()                                                                    # trace every shape
    times = timed_rounds({f"{r}|{w}": f for (r, w), f in fns.items()}, rounds)
    out = {}
    for row in rows:
        res = {}
        for what in ("latency_with_features", "latency_network_only", "latency_network_traced"):
            res[f"{what}_ms"] = spread([t / len(paths) for t in times[f"{row}|{what}"]["wall_ms"]])
        for what in ("batched_with_features", "batched_network_only", "batched_network_traced"):
            res[f"{what}_clips_per_s"] = spread([len(paths) / (t / 1e3) for t in times[f"{row}|{what}"]["wall_ms"]])
        out[row] = res
        log(f"  {row:40s} latency {res['latency_with_features_ms']['median']:8.1f} ms/clip with features, "
            f"{res['latency_network_only_ms']['median']:8.1f} network only "
            f"({res['latency_network_traced_ms']['median']:.1f} traced); batched "
            f"{res['batched_with_features_clips_per_s']['median']:7.1f} / "
            f"{res['batched_network_only_clips_per_s']['median']:7.1f} "
            f"({res['batched_network_traced_clips_per_s']['median']:.1f} traced) clips/s")
    return {"clip": {"sample_rate": size.sample_rate, "seconds": size.seconds, "channels": 1},
            "crop_frames": size.crop_frames, "hop_frames": size.hop_frames or size.crop_frames,
            "crops_per_clip": n_crops, "clips": len(paths), "rounds": rounds,
            "branches": [{"network": a, "representation": r} for a, r in size.branches],
            "rows": out}


def bench_inference(ctx) -> dict:
    """The section (registered in replication/drivers/bench.py)."""
    names = ctx.extra.get("inference_sizes") or (["demo"] if ctx.quick else list(SIZES))
    rounds = ctx.extra.get("inference_rounds") or (2 if ctx.quick else 5)
    sizes = ctx.extra.get("inference_size_table") or SIZES
    load_before = host_load()
    out = {}
    for name in names:
        ctx.log(f"  [{name}]")
        folder = ctx.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        out[name] = measure(sizes[name], folder, rounds, ctx.seed, ctx.log, clips=2 if ctx.quick else None)
    return {"sizes": out, "weights": "random (cost only)", "predict_call": "traced", "host_before": load_before,
            "host_after": host_load()}


def _cell(s: dict, fmt: str) -> str:
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


_PREDICT_CALL = {"eager": "which called the classifier eagerly when this was measured, before commit 5d65031",
                 "traced": "the classifier's call traced once"}


def render_inference(report: dict, name: str) -> str:
    """Markdown of the inference section of a benchmark JSON (docs/scale.md, marker
    `bench_inference`); every number from the JSON."""
    sec = saved_section(report, "inference", name)
    before, after = sec["host_before"], sec["host_after"]
    lines = [f"Measured by `python -m replication.drivers.bench --section inference --json {name}` "
             f"under niceness {before['nice']} on {before['cpus']} CPU cores shared with other jobs "
             f"(load average {' / '.join(map(str, before['loadavg']))} before, "
             f"{' / '.join(map(str, after['loadavg']))} after), {sec['weights']} weights. "
             "Latency: one clip at a time, its evaluation crops in one network call, averaged over "
             "the clips. Batched: every clip's crops in one network call. \"With features\": decode of "
             "the WAV file + the branch's front end + crops + network (`predict`'s `clip_probs`, "
             f"{_PREDICT_CALL[sec.get('predict_call', 'eager')]}); "
             "\"network only\": the crops precomputed, the classifier called eagerly (layer by layer); "
             "\"traced\": the same with the classifier's call traced once (tf.function). Median over "
             "rounds (smallest-largest round).", ""]
    for size, s in sec["sizes"].items():
        nets = " + ".join(f"{b['network']} on {b['representation']}" for b in s["branches"])
        clip = s["clip"]
        lines += [f"**{size}** ({nets}; {s['clips']} clips of {clip['seconds']:g} s at "
                  f"{clip['sample_rate']} Hz, {s['crops_per_clip']} crops of {s['crop_frames']} frames "
                  f"every {s['hop_frames']} per clip, {s['rounds']} rounds):", "",
                  "| | latency ms/clip, with features | latency ms/clip, network only | "
                  "latency ms/clip, network only, traced | batched clips/s, with features | "
                  "batched clips/s, network only | batched clips/s, network only, traced |",
                  "|---|---|---|---|---|---|---|"]
        for row, r in s["rows"].items():
            lines.append(f"| {row} | {_cell(r['latency_with_features_ms'], '{:.1f}')} | "
                         f"{_cell(r['latency_network_only_ms'], '{:.1f}')} | "
                         f"{_cell(r['latency_network_traced_ms'], '{:.1f}')} | "
                         f"{_cell(r['batched_with_features_clips_per_s'], '{:.1f}')} | "
                         f"{_cell(r['batched_network_only_clips_per_s'], '{:.1f}')} | "
                         f"{_cell(r['batched_network_traced_clips_per_s'], '{:.1f}')} |")
        rows = list(s["rows"].values())
        ens, singles = rows[-1], rows[:-1]
        parts = [f"{ens['latency_with_features_ms']['median'] / r['latency_with_features_ms']['median']:.2f}x"
                 for r in singles]
        lines += ["", f"The ensemble's latency with features is {' / '.join(parts)} that of "
                  f"{' / '.join(list(s['rows'])[:-1])} alone (medians): the cost one distilled branch avoids.", ""]
    return "\n".join(lines)
