"""Extrapolated build time of the full DCASE 2018 1A feature cache (benchmark "training").

8640 clips of 10 s, 48 kHz stereo, every representation of both papers, measured on
generated clips of that format: once one representation at a time in one process (the
old build), once the kit's way (one decode per clip, shared STFTs, one process per CPU).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

DCASE_CLIPS = 8640                 # DCASE 2018 1A development set (fold 1 train + test)
DCASE_RATE, DCASE_SECONDS = 48000, 10.0


def tone_clips(folder: Path, count: int, rate: int, seconds: float, channels: int, seed: int,
               subtype: str, num_classes: int = 10) -> list:
    """`count` generated clips (a random tone 100-4000 Hz + noise) as WAV files -> Examples."""
    from shared.audio import write_audio
    from shared.datasets.base import Example

    rng = np.random.default_rng(seed)
    n = int(round(rate * seconds))
    t = np.arange(n) / rate
    examples = []
    for i in range(count):
        tone = 0.2 * np.sin(2 * np.pi * rng.uniform(100, 4000) * t)[:, None]
        audio = (tone + 0.05 * rng.standard_normal((n, channels))).astype(np.float32)  # [time, channels]
        path = folder / f"clip{i:03d}.wav"
        write_audio(path, audio, rate, subtype=subtype)
        examples.append(Example(path, i % num_classes, f"clip{i:03d}"))
    return examples


def _dcase_shaped_clips(workdir: Path, count: int, seed: int) -> list:
    """`count` generated 10 s 48 kHz stereo 24-bit WAV clips (the DCASE 2018 1A format)."""
    return tone_clips(workdir / "dcase_like", count, DCASE_RATE, DCASE_SECONDS, 2, seed, "PCM_24")


def representations() -> dict:
    """Every representation either paper computes on DCASE 2018 1A, at 48 kHz."""
    from shared.features import paper2_params
    from shared.features.presets import P2_KINDS, paper1_spectrogram_params, paper1_waveform_params

    reps = {"p1_waveform": paper1_waveform_params(DCASE_RATE),
            "p1_spectrogram": paper1_spectrogram_params(sample_rate=DCASE_RATE)}
    reps.update({f"p2_{k}": paper2_params(k, sample_rate=DCASE_RATE, downmix=True)     # the paper preset's reading,
                 for k in P2_KINDS})                                                  # register p2-mono-downmix
    return reps


def _parallel_build(workdir: Path, examples, reps: dict, workers: int, folder: str = "cache-parallel") -> dict:
    """One-pass build with `workers` processes into workdir/folder; wall seconds and seconds
    per clip in a worker."""
    from shared.cache import build_clips

    dirs = []
    for name in reps:
        d = workdir / folder / name
        d.mkdir(parents=True, exist_ok=True)
        dirs.append(d)
    stats: dict = {}
    start = time.perf_counter()
    build_clips(examples, list(reps.values()), dirs, "float16", None, workers, stats=stats)
    return {"wall_seconds": time.perf_counter() - start, **stats}


def one_pass(workdir: Path, examples, reps: dict, folder: str = "cache-parallel") -> dict:
    """The kit's build of `examples` (one process per CPU): its steady-state seconds per
    clip, workers / median seconds per clip inside a worker (a worker's first clip traces)."""
    par = _parallel_build(workdir, examples, reps, os.cpu_count() or 1, folder)
    in_worker = float(np.median(par.pop("clip_seconds")))
    return {**par, "median_clip_seconds": in_worker, "seconds_per_clip": in_worker / par["workers"]}


def one_pass_rounds(workdir: Path, examples, reps: dict, rounds: int, log) -> list[dict]:
    """`rounds` builds of the same clips by the kit's way (one_pass), each into a fresh cache."""
    out = []
    for r in range(rounds):
        out.append(one_pass(workdir, examples, reps, "cache-parallel" if r == 0 else f"cache-parallel-{r}"))
        if r:
            log(f"  one pass, round {r + 1}: {out[-1]['seconds_per_clip'] * DCASE_CLIPS / 60.0:.1f} min")
    return out


def cache_extrapolation(workdir: Path, quick: bool, seed: int, log, clips: int | None = None,
                        rounds: int = 1) -> dict:
    """Minutes to cache all 8640 DCASE clips in every representation, two ways.

    "one_at_a_time": one representation per pass, one process (each pass decodes every
    clip again), measured per representation on a few clips after a traced warm-up.
    "one_pass_parallel": every representation from one decode (shared STFTs), one
    process per CPU (the kit's build, shared.cache.build_clips). Its rate is the
    steady state, workers / (median seconds per clip inside a worker, all workers busy
    at once): a real build's one-off worker start-up (TensorFlow import, tracing; the
    wall time of the small build here) is negligible against 8640 clips. With `rounds` > 1
    the one-pass build is repeated on fresh caches and its minutes are the median round's
    ("one_pass_rounds": every round's; "one_pass_parallel": the first round's details).
    """
    from shared.cache import FeatureCache

    clips = clips or (2 if quick else 16)
    examples = _dcase_shaped_clips(workdir, clips, seed)
    reps = representations()
    per_rep = {}
    few = examples[: (1 if quick else 3)]
    for name, params in reps.items():
        cache = FeatureCache(workdir / "cache-single", progress=False)
        cache.get_or_build(f"warm-{name}", examples[-1:], params)       # tf kernels traced
        start = time.perf_counter()
        cache.get_or_build(f"bench-{name}", few, params)
        per_rep[name] = (time.perf_counter() - start) / len(few)
        log(f"  cache {name:18s} {per_rep[name]:6.3f} s/clip alone (10 s 48 kHz stereo)")
    # the CQT through librosa (cqt_impl "librosa", the reference) on the same clips, for
    # comparison only: the kit's build uses the fast CQT (p2_CQT above), so it is not summed
    reference = {}
    lib_cqt = reps["p2_CQT"].replace(cqt_impl="librosa")
    cache = FeatureCache(workdir / "cache-single", progress=False)
    cache.get_or_build("warm-p2_CQT_librosa", examples[-1:], lib_cqt)
    start = time.perf_counter()
    cache.get_or_build("bench-p2_CQT_librosa", few, lib_cqt)
    reference["p2_CQT_librosa"] = (time.perf_counter() - start) / len(few)
    log(f"  cache {'p2_CQT_librosa':18s} {reference['p2_CQT_librosa']:6.3f} s/clip alone (librosa.cqt, "
        f"the reference; the kit's fast CQT is p2_CQT, "
        f"{reference['p2_CQT_librosa'] / per_rep['p2_CQT']:.1f}x faster)")
    serial_clip = sum(per_rep.values())
    if quick:        # too few clips per worker for a steady state: the one-pass figure needs the full run
        log(f"  DCASE 2018 1A full cache ({DCASE_CLIPS} clips, {len(reps)} representations): one "
            f"representation at a time {serial_clip * DCASE_CLIPS / 60.0:.1f} min ({serial_clip:.3f} "
            "s/clip); the one-pass parallel build is measured without --quick")
        return {"clips_measured": {"one_at_a_time": len(few)}, "seconds_per_clip": per_rep,
                "reference_seconds_per_clip": reference, "seconds_per_clip_all": serial_clip,
                "dcase_clips": DCASE_CLIPS,
                "extrapolated_minutes": {"one_at_a_time": serial_clip * DCASE_CLIPS / 60.0,
                                         "one_pass_parallel": None},
                "target_minutes": 15.0}
    builds = one_pass_rounds(workdir, examples, reps, rounds, log)
    par, in_worker = builds[0], builds[0]["median_clip_seconds"]
    round_minutes = [b["seconds_per_clip"] * DCASE_CLIPS / 60.0 for b in builds]
    minutes = {"one_at_a_time": serial_clip * DCASE_CLIPS / 60.0,
               "one_pass_parallel": float(np.median(round_minutes))}
    log(f"  DCASE 2018 1A full cache ({DCASE_CLIPS} clips, {len(reps)} representations): "
        f"one representation at a time {minutes['one_at_a_time']:.1f} min "
        f"({serial_clip:.3f} s/clip); one pass, {par['workers']} workers "
        f"{minutes['one_pass_parallel']:.1f} min (median of {len(builds)} round(s); first round: median "
        f"{in_worker:.3f} s per clip in a worker, {clips} clips took {par['wall_seconds']:.1f} s with start-up)")
    return {"clips_measured": {"one_at_a_time": len(few), "one_pass_parallel": clips},
            "seconds_per_clip": per_rep, "reference_seconds_per_clip": reference,
            "seconds_per_clip_all": serial_clip,
            "one_pass_parallel": par, "one_pass_rounds": round_minutes,
            "dcase_clips": DCASE_CLIPS, "extrapolated_minutes": minutes,
            "target_minutes": 15.0}


# ------------------------------------------------------------- section "cache" (opt-in)
CACHE_TARGET_MINUTES = 10.0        # issue 15: the full cache, one-pass parallel build, 2 cores


def bench_cache(ctx) -> dict:
    """Benchmark section "cache" (only with --section cache): the full-cache extrapolation
    alone, without the training section's models (`--quick`: one representation at a time
    only). The kit's build is timed in `--rounds` rounds (default 3), each on a fresh cache
    of the same clips; the verdict is on the median round. Target: CACHE_TARGET_MINUTES."""
    from replication.drivers.bench_rounds import host_load
    out = cache_extrapolation(ctx.workdir, ctx.quick, ctx.seed, ctx.log,
                              rounds=ctx.extra.get("cache_rounds") or 3)
    return {**out, "target_minutes": CACHE_TARGET_MINUTES, "cpus": os.cpu_count(), **host_load()}


def render_cache(report: dict, name: str) -> str:
    """Markdown of the cache section of a benchmark JSON (docs/scale.md, marker
    `bench_cache`); every number from the JSON."""
    from replication.drivers.bench_rounds import saved_section
    sec = saved_section(report, "cache", name)
    minutes = sec["extrapolated_minutes"]
    if minutes["one_pass_parallel"] is None:
        raise ValueError(f"{name}: a --quick cache section has no one-pass build; run "
                         "--section cache without --quick")
    par, rounds = sec["one_pass_parallel"], sec["one_pass_rounds"]
    met = "met" if minutes["one_pass_parallel"] <= sec["target_minutes"] else "NOT met"
    per = ", ".join(f"{rep} {s:.3f}" for rep, s in sec["seconds_per_clip"].items())
    ref = sec["reference_seconds_per_clip"]["p2_CQT_librosa"]
    return (f"Measured by `python -m replication.drivers.bench --section cache --json {name}` "
            f"(load average {' / '.join(map(str, sec['loadavg']))} at the end, niceness {sec['nice']}, "
            f"{sec['cpus']} CPUs): the full DCASE 2018 1A feature cache ({sec['dcase_clips']} clips of 10 s "
            f"48 kHz stereo, {len(sec['seconds_per_clip'])} representations), extrapolated from generated "
            f"clips of that format. The kit's build (one decode per clip, shared STFTs, {par['workers']} "
            f"worker processes; {sec['clips_measured']['one_pass_parallel']} clips, {len(rounds)} rounds "
            f"on fresh caches, the first with a median {par['median_clip_seconds']:.3f} s per clip in a "
            f"worker): **{minutes['one_pass_parallel']:.1f} min**, the median round "
            f"({', '.join(f'{m:.1f}' for m in rounds)}; target <= {sec['target_minutes']:.0f} min: {met}); "
            f"one representation at a time in one process: {minutes['one_at_a_time']:.1f} min. "
            f"Seconds per clip, each representation alone (decode included): {per}; librosa's CQT "
            f"on the same clips {ref:.3f} (the kit's fast CQT {ref / sec['seconds_per_clip']['p2_CQT']:.1f}x "
            f"faster).\n")
