"""Benchmark section "frontend_floor": the kit's front end against its own FFT-only bound.

    python -m replication.drivers.bench --section frontend_floor --json floor.json

For each representation of both papers, as their presets define it (paper 1: the Table 3
spectrogram, paper1_spectrogram_params; paper 2: logMel64, logMel128, MFCC with deltas and
CQT, paper2_params), on the benchmark's clips:

- kit: `compute_features(audio, rate, params)`, numpy in and out, as the cache calls it;
- bound: the same framing (padding, frame length, hop, FFT length) then tf.signal.stft
  (its default Hann window over the FFT length: the same cost as the kit's window) and
  |X|, nothing else, traced once and called with the same numpy audio (so both sides
  pay the same conversion). No front end built on tf.signal's STFT can be faster, so
  kit / bound is how far the front end is from its own floor (target <= 1.5 for the mel
  and MFCC kinds). The fast CQT (shared/features/cqt_fast.py) takes no framed STFT: its
  row compares it with an STFT at its hop, a reference, not a floor.

Kit and bound take turns inside each round (shared host: the spread over rounds is
reported). For the mel / MFCC kinds a cumulative stage profile says where the time
above the bound goes: the spectrum (framing, window, rfft, |X|^2), then the filterbank
and log (and DCT), then the deltas, then the layout (the kit's whole front end); each
stage is a traced function timed like the rest, in CPU time (steadier on a busy host).
"""

from __future__ import annotations

import numpy as np

from replication.drivers.bench_rounds import host_load, ratios, saved_section, spread, timed_rounds

TARGET_RATIO = 1.5
TARGET_KINDS = ("logmel", "mfcc")        # the kinds the 1.5x target is about


def representations(rate: int) -> dict:
    """Every representation the section measures, as the papers' presets define it."""
    from shared.features import paper1_spectrogram_params, paper2_params

    return {"p1 spectrogram": paper1_spectrogram_params(sample_rate=rate),
            "p2 logMel64": paper2_params("logMel64", sample_rate=rate),
            "p2 logMel128": paper2_params("logMel128", sample_rate=rate),
            "p2 MFCC": paper2_params("MFCC", sample_rate=rate),
            "p2 CQT": paper2_params("CQT", sample_rate=rate)}


def fft_bound_fn(params, channels: int):
    """numpy float32 [time, channels] -> numpy |STFT| [channels, frames, fft_size//2 + 1]:
    the preset's framing, tf.signal.stft and the magnitude, nothing else (traced once)."""
    import tensorflow as tf

    from shared.features.stft import pad_for_framing
    from shared.features.waveform import to_channels_first

    def bound(audio):
        if params.downmix:
            audio = tf.reduce_mean(audio, axis=1, keepdims=True)                 # [time, 1]
        signal = pad_for_framing(to_channels_first(audio), params)             # [channels, time']
        stft = tf.signal.stft(signal, frame_length=params.fft_size, frame_step=params.hop_length,
                              fft_length=params.fft_size)                      # [channels, frames, bins]
        return tf.abs(stft)                                                     # [channels, frames, bins]

    fn = tf.function(bound, input_signature=[tf.TensorSpec([None, channels], tf.float32)])
    return lambda audio: fn(np.asarray(audio, np.float32)).numpy()


def stage_fns(params, channels: int) -> dict:
    """Cumulative stages of the kit's tf front end, each numpy in / numpy out (traced once)."""
    import tensorflow as tf

    from shared.features.deltas import stack_deltas
    from shared.features.frontend import features_from_spectrum, features_tf
    from shared.features.stft import spectrum
    from shared.features.waveform import to_channels_first

    head = {"logmel": "filterbank + dB", "mfcc": "filterbank + dB + DCT"}[params.kind]

    def spec(audio):
        return spectrum(to_channels_first(audio), params)                       # [channels, frames, fft_bins]

    stages = {"spectrum (framing, window, rfft, |X|^2)": spec,
              f"+ {head}": lambda a: features_from_spectrum(spec(a), params)}
    if params.deltas:
        stages["+ deltas"] = lambda a: stack_deltas(features_from_spectrum(spec(a), params),
                                                    params.delta_width)
    stages["+ layout (the kit's front end)"] = lambda a: features_tf(a, params)
    sig = [tf.TensorSpec([None, channels], tf.float32)]
    out = {}
    for name, f in stages.items():
        traced = tf.function(f, input_signature=sig)
        out[name] = (lambda t: lambda audio: t(np.asarray(audio, np.float32)).numpy())(traced)
    return out


def _over_clips(fn, clips):
    return lambda: [fn(audio) for _, audio, _ in clips]


def bench_frontend_floor(ctx) -> dict:
    """The section (registered in replication/drivers/bench.py)."""
    from shared.features import compute_features

    clips = ctx.clips
    rate, channels = clips[0][2], clips[0][1].shape[1]
    rounds = ctx.extra.get("floor_rounds") or (2 if ctx.quick else 9)
    load_before = host_load()
    cases, stages = {}, {}
    for name, params in representations(rate).items():
        bound = fft_bound_fn(params, channels)
        kit = (lambda p: lambda audio: compute_features(audio, rate, p))(params)
        kit(clips[0][1])                                                        # trace + warm-up
        bound(clips[0][1])
        times = timed_rounds({"kit": _over_clips(kit, clips), "bound": _over_clips(bound, clips)},
                             rounds, calls=len(clips))
        case = {"kind": params.kind, "deltas": params.deltas,
                "targeted": params.kind in TARGET_KINDS,
                "kit_ms": spread(times["kit"]["wall_ms"]), "bound_ms": spread(times["bound"]["wall_ms"]),
                "kit_cpu_ms": spread(times["kit"]["cpu_ms"]),
                "bound_cpu_ms": spread(times["bound"]["cpu_ms"]),
                "ratio": spread(ratios(times, "kit", "bound")),
                "cpu_ratio": spread(ratios(times, "kit", "bound", "cpu_ms"))}
        cases[name] = case
        ctx.log(f"  {name:15s} kit {case['kit_ms']['median']:6.2f} ms/clip   bound "
                f"{case['bound_ms']['median']:6.2f} ms/clip   kit/bound {case['ratio']['median']:.2f} "
                f"(rounds {case['ratio']['min']:.2f}-{case['ratio']['max']:.2f}; CPU time "
                f"{case['cpu_ratio']['median']:.2f})")
        if case["targeted"]:
            fns = {"bound": bound, **stage_fns(params, channels)}
            for fn in fns.values():
                fn(clips[0][1])
            st = timed_rounds({k: _over_clips(f, clips) for k, f in fns.items()}, rounds, calls=len(clips))
            stages[name] = {k: {"cpu_ms": spread(st[k]["cpu_ms"]),
                                "over_bound": spread(ratios(st, k, "bound", "cpu_ms"))}
                            for k in fns if k != "bound"}
            ctx.log("    stages, CPU time over the bound: " + ", ".join(
                f"{k} {v['over_bound']['median']:.2f}" for k, v in stages[name].items()))
    targeted = {n: c["ratio"]["median"] for n, c in cases.items() if c["targeted"]}
    targeted_cpu = {n: c["cpu_ratio"]["median"] for n, c in cases.items() if c["targeted"]}
    return {"clips": len(clips), "clip_seconds": clips[0][1].shape[0] / rate, "sample_rate": rate,
            "channels": channels, "source": ctx.source, "rounds": rounds,
            "target_ratio": TARGET_RATIO, "cases": cases, "stages_cpu": stages,
            "target_met": bool(targeted) and max(targeted.values()) <= TARGET_RATIO,
            "target_met_cpu": bool(targeted_cpu) and max(targeted_cpu.values()) <= TARGET_RATIO,
            "host_before": load_before, "host_after": host_load()}


def _cell(s: dict, fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


def render_floor(report: dict, name: str) -> str:
    """Markdown of the frontend_floor section of a benchmark JSON (docs/scale.md, marker
    `bench_floor`); every number from the JSON. ValueError if the JSON has no such section."""
    sec = saved_section(report, "frontend_floor", name)
    before, after = sec["host_before"], sec["host_after"]
    lines = [f"Measured by `python -m replication.drivers.bench --section frontend_floor --json {name}` "
             f"under niceness {before['nice']} on {before['cpus']} CPU cores shared with other jobs "
             f"(load average {' / '.join(map(str, before['loadavg']))} before, "
             f"{' / '.join(map(str, after['loadavg']))} after): {sec['clips']} clips of "
             f"{sec['clip_seconds']:g} s at {sec['sample_rate']} Hz ({sec['source']}), "
             f"{sec['rounds']} rounds, kit and bound in turn in each round; each cell is the median "
             "over the rounds (smallest-largest round in brackets). Kit: `compute_features` as the "
             "cache calls it (deltas as the presets define them); bound: the same framing, "
             "tf.signal.stft and |X|, nothing else.", ""]
    targeted = {n: c for n, c in sec["cases"].items() if c["targeted"]}
    if targeted:
        verdict = {True: "**met**", False: "**not met**"}
        worst = max(targeted, key=lambda n: targeted[n]["ratio"]["median"])
        worst_cpu = max(targeted, key=lambda n: targeted[n]["cpu_ratio"]["median"])
        line = (f"Target kit / bound <= {sec['target_ratio']:g}x for the mel and MFCC kinds: "
                f"{verdict[sec['target_met']]} in wall time, largest median "
                f"{targeted[worst]['ratio']['median']:.2f}x ({worst}; its rounds "
                f"{targeted[worst]['ratio']['min']:.2f}x-{targeted[worst]['ratio']['max']:.2f}x)")
        if "target_met_cpu" in sec:
            line += (f"; {verdict[sec['target_met_cpu']]} in CPU time, largest median "
                     f"{targeted[worst_cpu]['cpu_ratio']['median']:.2f}x ({worst_cpu}; its rounds "
                     f"{targeted[worst_cpu]['cpu_ratio']['min']:.2f}x-"
                     f"{targeted[worst_cpu]['cpu_ratio']['max']:.2f}x)")
        lines += [line + ".", ""]
    lines += ["| representation | kit ms/clip | FFT-only bound ms/clip | kit / bound | kit / bound, CPU time |",
              "|---|---|---|---|---|"]
    for n, c in sec["cases"].items():
        label = n + (" (+ deltas)" if c["deltas"] else "") + ("" if c["targeted"] else " *")
        lines.append(f"| {label} | {_cell(c['kit_ms'])} | {_cell(c['bound_ms'])} | "
                     f"{_cell(c['ratio'])}x | {_cell(c['cpu_ratio'])}x |")
    lines += ["", "\\* not under the target: the paper 1 spectrogram is the STFT itself (its bound "
              "differs by the window and the kept bins); the fast CQT takes one FFT of the whole clip, "
              "not a framed STFT, so its row compares it with an STFT at its hop, not with its floor."]
    if sec.get("stages_cpu"):
        lines += ["", "Where the time above the bound goes (cumulative stages of the kit's front end, "
                  "each traced and timed like the rest, CPU time over the bound's, median over rounds):", ""]
        for n, st in sec["stages_cpu"].items():
            lines.append(f"- {n}: " + ", ".join(f"{k} {v['over_bound']['median']:.2f}x" for k, v in st.items()))
    return "\n".join(lines) + "\n"
