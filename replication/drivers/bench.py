"""Speed benchmark of the kit, in named sections.

    python -m replication.drivers.bench         # all default sections, ESC-10 clips if present
    python -m replication.drivers.bench --quick --json bench.json
    python -m replication.drivers.bench --section features

Sections (registered by name, run in registration order; all but the opt-in ones by default):
- features: clips/s of the kit front end vs librosa on the same clips, same machine
  (STFT, log-mel, MFCC, and the CQT: the kit's fast CQT vs librosa.cqt).
- pipeline: a dummy Keras model fed by shared.pipeline from the feature cache vs the
  same model fed from in-memory arrays holding the same crops (overhead in %).
- training: clips/s, FLOPs, % of the matmul ceiling, peak memory and XLA of the
  papers' models; DCASE 2018 1A feature cache time (replication/drivers/bench_training.py).
- frontend_floor: kit time per clip over its FFT-only bound (same framing + tf.signal.stft
  + |X|), per representation of both papers, with a stage profile
  (replication/drivers/bench_floor.py).
- inference: latency per clip and batched clips/s of one paper-2 branch vs the two-branch
  ensemble through the predict path, with and without features
  (replication/drivers/bench_inference.py).
- peers (only with --section peers): the four paper models against the same models in
  PyTorch, clips/s and ratio (replication/drivers/bench_peers.py; PyTorch is an optional
  extra, requirements-peers.txt).
- batchnorm (only with --section batchnorm): training steps of every model of the
  training section with Keras's BatchNormalization against shared.fused_bn's fused layer
  (the kit's default), same network and weights (replication/drivers/bench_batchnorm.py).
- cache (only with --section cache): the full DCASE 2018 1A feature-cache extrapolation
  of the training section alone, against issue 15's 10-minute target
  (replication/drivers/bench_cache.py).
Another section is added with @register_section("name").
The clips are the ESC-10 fixture (../shared/data/esc10 beside the checkout, or
--esc10 PATH) or, without it, generated noise + tone clips of the same format.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from shared.cli import command
from shared.config import atomic_write_text
from shared.paths import checkout_root

SectionFn = Callable[["BenchContext"], dict]
SECTIONS: dict[str, SectionFn] = {}
OPT_IN: set[str] = set()            # sections run only when named with --section


def register_section(name: str, default: bool = True) -> Callable[[SectionFn], SectionFn]:
    """Registers a benchmark section; a duplicate name is an error. default=False: the
    section runs only when asked for with --section (an optional extra, e.g. "peers")."""
    def wrap(fn: SectionFn) -> SectionFn:
        if name in SECTIONS:
            raise ValueError(f"benchmark section '{name}' is already registered")
        SECTIONS[name] = fn
        if not default:
            OPT_IN.add(name)
        return fn
    return wrap


def default_sections() -> list[str]:
    """The sections a run without --section measures, in registration order."""
    return [name for name in SECTIONS if name not in OPT_IN]


@dataclass
class BenchContext:
    quick: bool
    clips: list                      # [(name, float32 [time, channels], rate)]
    source: str                      # where the clips came from
    workdir: Path
    seed: int = 0
    log: Callable[[str], None] = print
    extra: dict = field(default_factory=dict)


def default_esc10_dir() -> Path:
    return checkout_root().parent / "shared" / "data" / "esc10"


def load_clips(esc10: Path | None, count: int, seed: int) -> tuple[list, str]:
    """ESC-10 clips if the folder exists, else generated 5 s 22.05 kHz mono clips."""
    from shared.audio import read_audio

    if esc10 is not None and (esc10 / "audio").is_dir():
        files = sorted((esc10 / "audio").glob("*.flac"))
        if files:
            step = max(1, len(files) // count)
            picked = files[::step][:count]
            return [(f.name, *read_audio(f)) for f in picked], f"ESC-10 ({esc10})"
    rng = np.random.default_rng(seed)
    rate, n = 22050, 22050 * 5
    t = np.arange(n) / rate
    clips = []
    for i in range(count):
        tone = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 4000) * t)
        audio = (tone + 0.05 * rng.standard_normal(n))[:, None].astype(np.float32)
        clips.append((f"generated{i}", audio, rate))
    return clips, "generated (ESC-10 fixture not found)"


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _timed(fn: Callable[[], None], repeats: int) -> float:
    return _timed_alternating([fn], repeats)[0]


def _timed_alternating(fns: list[Callable[[], None]], repeats: int) -> list[float]:
    """Best seconds of each fn over `repeats` rounds, the fns taking turns within a round,
    so that a slow spell of a shared machine falls on all of them, not on one."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


@register_section("features")
def bench_features(ctx: BenchContext) -> dict:
    """Clips/s: kit front end (tf, eager per clip as in the cache build) vs librosa."""
    import librosa

    from shared.features import FeatureParams, compute_features, paper2_params

    rate = ctx.clips[0][2]
    reps = 1 if ctx.quick else 7      # best of 7: the noise of a shared host only adds time
    cases = {
        "power_stft": FeatureParams(kind="linear_spectrogram", sample_rate=rate),
        "logMel64": paper2_params("logMel64", sample_rate=rate, deltas=False),
        "logMel128+deltas": paper2_params("logMel128", sample_rate=rate),
        "MFCC": paper2_params("MFCC", sample_rate=rate, deltas=False),
        # the kit's CQT (cqt_impl "fast", shared/features/cqt_fast.py) vs librosa.cqt
        "CQT": paper2_params("CQT", sample_rate=rate, deltas=False),
    }

    def lib(p, y):
        if p.kind == "cqt":
            from shared.features.cqt import cqt_fmin
            c = librosa.cqt(y, sr=rate, hop_length=p.hop_length, fmin=cqt_fmin(p),
                            n_bins=p.cqt_bins, bins_per_octave=p.cqt_bins_per_octave)
            return librosa.power_to_db(np.abs(c) ** 2, top_db=None)
        kw = dict(n_fft=p.fft_size, hop_length=p.hop_length, win_length=p.frame_length,
                  window=p.window)
        if p.kind == "linear_spectrogram":
            return np.abs(librosa.stft(y, **kw)) ** 2
        mel = librosa.feature.melspectrogram(y=y, sr=rate, n_mels=p.n_mels, **kw)
        db = librosa.power_to_db(mel, top_db=None)
        if p.kind == "mfcc":
            return librosa.feature.mfcc(S=db, n_mfcc=p.n_mfcc)
        if p.deltas:
            return np.stack([db, librosa.feature.delta(db, width=9),
                             librosa.feature.delta(db, width=9, order=2)])
        return db

    results = {}
    # paper 2's three mel kinds of a clip, as the cache builds them: the kit in one call
    # sharing the STFT (shared/features/multi.py); librosa sharing it too (power
    # spectrogram once, then the filterbanks), the fair counterpart.
    mel_kinds = [cases["logMel64"].replace(deltas=True), cases["logMel128+deltas"],
                 cases["MFCC"].replace(deltas=True)]

    def lib_shared(y):
        p = mel_kinds[0]
        power = np.abs(librosa.stft(y, n_fft=p.fft_size, hop_length=p.hop_length,
                                    win_length=p.frame_length, window=p.window)) ** 2
        out = []
        for q in mel_kinds:
            db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=rate, n_mels=q.n_mels),
                                     top_db=None)
            if q.kind == "mfcc":
                db = librosa.feature.mfcc(S=db, n_mfcc=q.n_mfcc)
            out.append(np.stack([db, librosa.feature.delta(db, width=9),
                                 librosa.feature.delta(db, width=9, order=2)]))
        return out

    from shared.features.multi import compute_features_many

    for name, p in cases.items():
        compute_features(ctx.clips[0][1], rate, p)            # warm-up (tf kernels)
        lib(p, ctx.clips[0][1][:, 0])
        kit_s, lib_s = _timed_alternating(
            [lambda: [compute_features(a, r, p) for _, a, r in ctx.clips],
             lambda: [lib(p, a[:, 0]) for _, a, _ in ctx.clips]], reps)
        results[name] = {"kit_clips_per_s": _rate(len(ctx.clips), kit_s),
                         "librosa_clips_per_s": _rate(len(ctx.clips), lib_s)}
        ctx.log(f"  {name:18s} kit {results[name]['kit_clips_per_s']:8.1f} clips/s   "
                f"librosa {results[name]['librosa_clips_per_s']:8.1f} clips/s")
    compute_features_many(ctx.clips[0][1], rate, mel_kinds)
    lib_shared(ctx.clips[0][1][:, 0])
    kit_s, lib_s = _timed_alternating(
        [lambda: [compute_features_many(a, r, mel_kinds) for _, a, r in ctx.clips],
         lambda: [lib_shared(a[:, 0]) for _, a, _ in ctx.clips]], reps)
    name = "p2 mel kinds, one pass"
    results[name] = {"kit_clips_per_s": _rate(len(ctx.clips), kit_s),
                     "librosa_clips_per_s": _rate(len(ctx.clips), lib_s)}
    ctx.log(f"  {name:18s} kit {results[name]['kit_clips_per_s']:8.1f} clips/s   "
            f"librosa {results[name]['librosa_clips_per_s']:8.1f} clips/s  (logMel64, logMel128, "
            f"MFCC with deltas; both share one STFT)")
    for r in results.values():
        r["ratio"] = r["kit_clips_per_s"] / r["librosa_clips_per_s"]
    stages = logmel_stages(ctx, cases["logMel64"], reps)
    floor = logmel_floor(ctx, cases["logMel64"], stages["rfft"],
                         results["logMel64"]["librosa_clips_per_s"])
    ctx.log("  logMel64 stages, ms per clip: "
            + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
            + f"; the FFT alone caps kit / librosa at {floor['fft_only_ratio_bound']:.1f}x, the FFT "
            f"plus the filterbank's nonzero weights at the fp32 matmul ceiling "
            f"({floor['matmul_gflops_per_s']:.0f} GFLOP/s) at {floor['fft_filterbank_ratio_bound']:.1f}x")
    return {"clips": len(ctx.clips), "clip_seconds": ctx.clips[0][1].shape[0] / rate,
            "target_ratio": 5.0, "cases": results, "logmel64_stage_ms": stages, **floor}


def logmel_floor(ctx: BenchContext, params, rfft_ms: float, librosa_rate: float) -> dict:
    """Upper bounds on kit / librosa for logMel64 from two costs no front end avoids: the
    measured rfft, and one multiply-add per nonzero filterbank weight per frame (the kit and
    librosa multiply by the dense [bins, n_mels] matrix, ~30x more; a sparse product would
    need only these) run at the fp32 matmul ceiling measured here. Everything else (framing,
    window, |X|^2, log) counted as free."""
    from replication.drivers.bench_training import matmul_ceiling
    from shared.features.mel import mel_matrix

    frames = [params.num_frames(a.shape[0]) * a.shape[1] for _, a, _ in ctx.clips]
    nonzero = int(np.count_nonzero(mel_matrix(params)))
    flops = 2.0 * float(np.mean(frames)) * nonzero
    ceiling = matmul_ceiling(1024 if ctx.quick else 2048, 3 if ctx.quick else 5)["gflops_per_s"]
    filterbank_ms = flops / (ceiling * 1e9) * 1e3
    return {"fft_only_ratio_bound": 1e3 / rfft_ms / librosa_rate,
            "filterbank_nonzero_weights": nonzero,
            "filterbank_flops_per_clip": flops, "matmul_gflops_per_s": ceiling,
            "filterbank_ms_at_ceiling": filterbank_ms,
            "fft_filterbank_ratio_bound": 1e3 / (rfft_ms + filterbank_ms) / librosa_rate}


def logmel_stages(ctx: BenchContext, params, reps: int) -> dict[str, float]:
    """Milliseconds per clip of each stage of the kit's log-mel, each stage a tf.function
    run on the previous stage's output held in memory (so the sum is close to, not equal
    to, the whole front end). "rfft" alone bounds what any tf.signal front end can reach:
    kit / librosa <= (1 / rfft time) / librosa's clips/s."""
    import tensorflow as tf

    from shared.features.mel import log_mel
    from shared.features.stft import frames_of, magnitude_of, rfft_of
    from shared.features.waveform import to_channels_first

    def signal(audio):
        return to_channels_first(tf.constant(audio, tf.float32))          # [channels, time]

    fns = {"framing + window": tf.function(lambda s: frames_of(s, params)),
           "rfft": tf.function(lambda f: rfft_of(f, params)),
           "power |X|^2": tf.function(lambda x: magnitude_of(x, params)),
           "mel + dB": tf.function(lambda p: log_mel(p, params))}
    inputs = [signal(a) for _, a, _ in ctx.clips]                          # [channels, time] each
    out = {}
    for name, fn in fns.items():
        fn(inputs[0])                                                       # trace + warm-up
        seconds = _timed(lambda: [fn(x) for x in inputs], reps)
        out[name] = seconds / len(inputs) * 1e3
        inputs = [fn(x) for x in inputs]                                    # the next stage's input
    return out


def _dummy_model(input_shape, num_classes: int):
    import keras

    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
        keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


@register_section("pipeline")
def bench_pipeline(ctx: BenchContext) -> dict:
    """Cache build rate, then steps/s of a dummy model: cache pipeline vs in-memory tensors.

    Both feed the same model through tf.data with the same batch and number of steps;
    the in-memory side holds already-cropped features, so the difference is the cost of
    reading, cropping and converting in the pipeline (negative = pipeline was faster).
    """
    import tensorflow as tf

    from shared.audio import write_audio
    from shared.cache import FeatureCache
    from shared.datasets.base import Example
    from shared.features import paper2_params
    from shared.pipeline import make_dataset

    rate = ctx.clips[0][2]
    params = paper2_params("logMel64", sample_rate=rate)
    examples = []
    for i, (name, audio, r) in enumerate(ctx.clips):
        path = ctx.workdir / "audio" / f"{i:04d}.wav"
        write_audio(path, audio, r, subtype="FLOAT")
        examples.append(Example(path, i % 10, Path(name).stem))
    start = time.perf_counter()
    entry = FeatureCache(ctx.workdir / "cache", progress=False).get_or_build(
        "bench", examples, params, dtype="float16")
    build_s = time.perf_counter() - start
    ctx.log(f"  cache build        {_rate(len(examples), build_s):8.1f} clips/s (decode + logMel64 + deltas)")

    crop, batch = 150, min(16, len(examples))
    steps, epochs = (10, 2) if ctx.quick else (25, 3)
    steps = ctx.extra.get("steps") or steps
    ds = make_dataset(entry, 10, batch_size=batch, crop_frames=crop, seed=ctx.seed,
                      drop_remainder=True).map(lambda d: (d["x"], d["y"])).repeat()
    # the same number of crops, materialised in memory and served by tf.data from tensors
    xs, ys = [], []
    for x, y in ds.unbatch().take(steps * batch):
        xs.append(x.numpy())
        ys.append(y.numpy())
    x_mem, y_mem = np.stack(xs), np.stack(ys)
    mem = (tf.data.Dataset.from_tensor_slices((x_mem, y_mem)).shuffle(len(x_mem), seed=ctx.seed)
           .batch(batch, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE))

    def fit_time(data) -> float:
        model = _dummy_model(x_mem.shape[1:], 10)
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)     # warm-up (tracing)
        start = time.perf_counter()
        model.fit(data, epochs=epochs, steps_per_epoch=steps, verbose=0)
        return time.perf_counter() - start

    pipe_s = fit_time(ds)
    mem_s = fit_time(mem)
    overhead = 100.0 * (pipe_s - mem_s) / mem_s
    out = {"cache_build_clips_per_s": _rate(len(examples), build_s),
           "batch": batch, "crop_frames": crop, "steps_per_epoch": steps, "epochs": epochs,
           "pipeline_steps_per_s": _rate(steps * epochs, pipe_s),
           "in_memory_steps_per_s": _rate(steps * epochs, mem_s),
           "pipeline_overhead_percent": overhead}
    ctx.log(f"  dummy model        pipeline {out['pipeline_steps_per_s']:7.1f} steps/s   "
            f"in-memory {out['in_memory_steps_per_s']:7.1f} steps/s   overhead {overhead:+.1f} %")
    return out


# the model training section lives in its own file (imported here so `python -m replication.drivers.bench` has it)
from replication.drivers.bench_training import bench_training as _bench_training  # noqa: E402

register_section("training")(_bench_training)
from replication.drivers.bench_floor import bench_frontend_floor as _bench_frontend_floor  # noqa: E402
from replication.drivers.bench_inference import bench_inference as _bench_inference  # noqa: E402

register_section("frontend_floor")(_bench_frontend_floor)
register_section("inference")(_bench_inference)

# PyTorch peers of the paper models (optional extra; skipped with an install hint without torch)
from replication.drivers.bench_peers import bench_peers as _bench_peers  # noqa: E402

register_section("peers", default=False)(_bench_peers)

# Keras's BatchNormalization vs the fused layer of shared/fused_bn.py (issue 15; opt-in, minutes at paper size)
from replication.drivers.bench_batchnorm import bench_batchnorm as _bench_batchnorm  # noqa: E402

register_section("batchnorm", default=False)(_bench_batchnorm)

# the full DCASE cache extrapolation alone (issue 15; opt-in; the training section also runs it)
from replication.drivers.bench_cache import bench_cache as _bench_cache  # noqa: E402

register_section("cache", default=False)(_bench_cache)


def host_info() -> dict:
    import os

    import librosa
    import tensorflow as tf

    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "tensorflow": tf.__version__, "librosa": librosa.__version__,
            "gpus": gpu_names(tf)}


def gpu_names(tf) -> list[str]:
    """Names of the visible GPUs (empty on a CPU host): the throughput file says which device
    its clips/s come from (replication/cost.py prints it). The training section's children
    run on the first one, TensorFlow's default device."""
    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device) or {}
        names.append(str(details.get("device_name") or device.name))
    return names


@command("python -m replication.drivers.bench")
def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 ok, 2 bad input (one line on stderr, docs/errors.md)."""
    parser = argparse.ArgumentParser(prog="python -m replication.drivers.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer clips and repeats")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--section", action="append", choices=list(SECTIONS),
                        help="run only this section (repeatable)")
    parser.add_argument("--esc10", type=Path, default=None,
                        help="ESC-10 fixture folder (default ../shared/data/esc10 beside the checkout)")
    parser.add_argument("--clips", type=int, default=None, help="number of clips (default 16 quick / 64)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per epoch in the pipeline section (default 10 quick / 25)")
    parser.add_argument("--paper-batch", type=int, default=None,
                        help="training section: batch of the paper-size models (default the "
                             "papers' 40 / 64; lower it if memory is short)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="frontend_floor / inference / peers / batchnorm / cache sections: rounds "
                             "(default 2 quick / 9 and 5; peers 1 quick / 3; batchnorm 2 quick / 3; cache 3)")
    parser.add_argument("--peers-dir", type=Path, default=None,
                        help="peers section: keep each child's result in this folder and reuse "
                             "the ones already there (a stopped run resumes)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    count = args.clips or (16 if args.quick else 64)
    clips, source = load_clips(args.esc10 or default_esc10_dir(), count, args.seed)
    print(f"benchmark: {len(clips)} clips from {source}")
    report = {"quick": args.quick, "source": source, "host": host_info(),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sections": {}}
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        for name in args.section or default_sections():
            print(f"[{name}]")
            workdir = Path(tmp) / name
            workdir.mkdir()
            ctx = BenchContext(quick=args.quick, clips=clips, source=source, workdir=workdir,
                               seed=args.seed, extra={"steps": args.steps, "batch": args.paper_batch,
                                      "peer_rounds": args.rounds, "peers_dir": args.peers_dir,
                                      "floor_rounds": args.rounds, "inference_rounds": args.rounds,
                                      "batchnorm_rounds": args.rounds, "cache_rounds": args.rounds})
            start = time.perf_counter()
            report["sections"][name] = SECTIONS[name](ctx)
            report["sections"][name]["section_seconds"] = time.perf_counter() - start
            print(f"  ({name}: {time.perf_counter() - start:.1f} s)")
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
