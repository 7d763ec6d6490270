"""Front end vs its FFT-only bound (benchmark section frontend_floor) and the timing rounds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replication.drivers import bench, bench_floor, bench_report
from replication.drivers.bench_rounds import ratios, spread, timed_rounds
from shared.features import compute_features, paper2_params


def _clips(rate=16000, seconds=1.0, count=2):
    rng = np.random.default_rng(0)
    n = int(rate * seconds)
    t = np.arange(n) / rate
    return [(f"c{i}", (0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t)
                       + 0.05 * rng.standard_normal(n))[:, None].astype(np.float32), rate)
            for i in range(count)]


def test_rounds_spread_and_ratios():
    calls = []
    times = timed_rounds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=3, calls=2)
    assert calls == ["a", "b"] * 3                                   # in turn inside every round
    assert all(len(times[k][c]) == 3 for k in "ab" for c in ("wall_ms", "cpu_ms"))
    fake = {"k": {"wall_ms": [2.0, 6.0, 3.0]}, "b": {"wall_ms": [1.0, 2.0, 3.0]}}
    assert ratios(fake, "k", "b") == [2.0, 3.0, 1.0]                 # round by round, not medians
    assert spread([2.0, 3.0, 1.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    with pytest.raises(ValueError, match="rounds >= 1"):
        timed_rounds({"a": lambda: None}, rounds=0)
    with pytest.raises(ValueError, match="no values"):
        spread([])


def test_bound_is_the_stft_magnitude_with_the_kits_framing():
    audio = _clips(count=1)[0][1]
    for name, p in bench_floor.representations(16000).items():
        got = bench_floor.fft_bound_fn(p, 1)(audio)                   # [channels, frames, bins]
        kit = compute_features(audio, 16000, p)                       # [frames, bins, channels']
        assert got.shape[0] == 1 and got.shape[2] == p.fft_size // 2 + 1, name
        if p.kind != "cqt":
            assert got.shape[1] == kit.shape[0], name                 # the same frames as the kit
    # nothing but framing + window + rfft + |X|: numpy by hand on the centre-padded clip
    p = paper2_params("logMel64", sample_rate=16000)
    fft, hop = p.fft_size, p.hop_length
    padded = np.pad(audio[:, 0], fft // 2)
    frames = np.stack([padded[s:s + fft] for s in range(0, len(padded) - fft + 1, hop)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft) / fft)       # tf.signal's periodic Hann
    expect = np.abs(np.fft.rfft(frames * window, axis=1))
    np.testing.assert_allclose(bench_floor.fft_bound_fn(p, 1)(audio)[0], expect, rtol=1e-3, atol=1e-3)


def test_last_stage_is_the_kits_front_end():
    audio = _clips(count=1)[0][1]
    for kind in ("logMel64", "MFCC"):
        p = paper2_params(kind, sample_rate=16000)
        stages = bench_floor.stage_fns(p, 1)
        assert list(stages)[0].startswith("spectrum") and "+ deltas" in stages
        np.testing.assert_array_equal(list(stages.values())[-1](audio), compute_features(audio, 16000, p))


def test_section_on_tiny_clips(tmp_path):
    ctx = bench.BenchContext(quick=True, clips=_clips(), source="generated", workdir=tmp_path,
                             log=lambda s: None, extra={"floor_rounds": 2})
    out = bench_floor.bench_frontend_floor(ctx)
    assert list(out["cases"]) == ["p1 spectrogram", "p2 logMel64", "p2 logMel128", "p2 MFCC", "p2 CQT"]
    assert out["rounds"] == 2 and out["target_ratio"] == 1.5
    for name, c in out["cases"].items():
        assert c["targeted"] == (c["kind"] in ("logmel", "mfcc")), name
        for key in ("kit_ms", "bound_ms", "ratio", "cpu_ratio"):
            assert 0 < c[key]["min"] <= c[key]["median"] <= c[key]["max"], (name, key)
        assert c["deltas"] == name.startswith("p2") and c["kind"] != "waveform"
    assert set(out["stages_cpu"]) == {"p2 logMel64", "p2 logMel128", "p2 MFCC"}
    worst = max(c["ratio"]["median"] for c in out["cases"].values() if c["targeted"])
    assert out["target_met"] == (worst <= 1.5)
    worst_cpu = max(c["cpu_ratio"]["median"] for c in out["cases"].values() if c["targeted"])
    assert out["target_met_cpu"] == (worst_cpu <= 1.5)
    assert "loadavg" in out["host_before"] and "nice" in out["host_after"]


def _floor_json(ratio_med, cpu_met=None):
    s = {"median": 2.0, "min": 1.0, "max": 3.0}
    case = lambda kind, r, deltas=True: {"kind": kind, "deltas": deltas, "targeted": kind in ("logmel", "mfcc"),
                                         "kit_ms": s, "bound_ms": s, "kit_cpu_ms": s, "bound_cpu_ms": s,
                                         "ratio": {"median": r, "min": r - 0.1, "max": r + 0.2},
                                         "cpu_ratio": {"median": r - 0.05, "min": 1.0, "max": 2.0}}
    host = {"loadavg": [4.5, 3.0, 2.0], "nice": 15, "cpus": 2}
    return {"sections": {"frontend_floor": {
        "clips": 16, "clip_seconds": 5.0, "sample_rate": 22050, "source": "ESC-10", "rounds": 9,
        "target_ratio": 1.5, "target_met": ratio_med <= 1.5,
        "target_met_cpu": ratio_med - 0.05 <= 1.5 if cpu_met is None else cpu_met, "host_before": host, "host_after": host,
        "cases": {"p1 spectrogram": case("linear_spectrogram", 1.1, False), "p2 logMel128": case("logmel", ratio_med),
                  "p2 CQT": case("cqt", 0.9)},
        "stages_cpu": {"p2 logMel128": {"spectrum (framing, window, rfft, |X|^2)": {"over_bound": {"median": 1.02}},
                                        "+ deltas": {"over_bound": {"median": 1.4}}}}}}}


def test_render_and_report_command(tmp_path, capsys):
    text = bench_floor.render_floor(_floor_json(1.7), "floor.json")
    assert "under niceness 15" in text and "load average 4.5 / 3.0 / 2.0 before" in text
    assert ("**not met** in wall time, largest median 1.70x (p2 logMel128; its rounds 1.60x-1.90x); "
            "**not met** in CPU time, largest median 1.65x (p2 logMel128; its rounds 1.00x-2.00x)") in text
    assert "| p2 logMel128 (+ deltas) | 2.00 (1.00-3.00) | 2.00 (1.00-3.00) | 1.70 (1.60-1.90)x |" in text
    assert "| p2 CQT (+ deltas) * |" in text and "| p1 spectrogram * |" in text
    assert "- p2 logMel128: spectrum (framing, window, rfft, |X|^2) 1.02x, + deltas 1.40x" in text
    mixed = bench_floor.render_floor(_floor_json(1.45, cpu_met=False), "f.json")
    assert "**met** in wall time, largest median 1.45x" in mixed and "**not met** in CPU time" in mixed
    with pytest.raises(ValueError, match="no frontend_floor section"):
        bench_floor.render_floor({"sections": {}}, "x.json")
    path, doc = tmp_path / "floor.json", tmp_path / "scale.md"
    path.write_text(json.dumps(_floor_json(1.7)))
    doc.write_text("a\n<!-- BEGIN bench_floor -->\nold\n<!-- END bench_floor -->\nb\n")
    assert bench_report.main(["--after", str(path), "--into", str(doc), "--section", "bench_floor"]) == 0
    assert "largest median 1.70x" in doc.read_text() and "old" not in doc.read_text()
    path.write_text(json.dumps({"sections": {}}))
    assert bench_report.main(["--after", str(path), "--section", "bench_floor"]) == 2
    assert "no frontend_floor section" in capsys.readouterr().err
