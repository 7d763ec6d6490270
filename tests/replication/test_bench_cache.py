"""Benchmark section "cache" (opt-in): the full DCASE cache extrapolation alone, rendered
from its JSON against issue 15's 10-minute target; a --quick section (no one-pass build)
cannot be rendered."""

from __future__ import annotations

import pytest

from replication.drivers import bench, bench_cache


def _section(one_pass_minutes):
    return {"extrapolated_minutes": {"one_at_a_time": 40.0, "one_pass_parallel": one_pass_minutes},
            "one_pass_parallel": {"workers": 2, "median_clip_seconds": 0.15, "seconds_per_clip": 0.075},
            "clips_measured": {"one_at_a_time": 3, "one_pass_parallel": 16}, "dcase_clips": 8640,
            "seconds_per_clip": {"p2_CQT": 0.05, "p2_MFCC": 0.04},
            "reference_seconds_per_clip": {"p2_CQT_librosa": 0.15},
            "one_pass_rounds": [one_pass_minutes, 7.0, 13.0],         # median: the first
            "target_minutes": 10.0, "cpus": 2, "loadavg": [0.5, 0.4, 0.3], "nice": 0}


def test_section_wraps_the_extrapolation_with_the_target_and_the_load(monkeypatch, tmp_path):
    calls = []

    def fake(workdir, quick, seed, log):
        calls.append((workdir, quick, seed))
        return {"extrapolated_minutes": {"one_at_a_time": 1.0, "one_pass_parallel": None}}
    monkeypatch.setattr(bench_cache, "cache_extrapolation", fake)
    ctx = bench.BenchContext(quick=True, clips=[], source="generated", workdir=tmp_path, seed=3)
    out = bench_cache.bench_cache(ctx)
    assert calls == [(tmp_path, True, 3)]
    assert out["target_minutes"] == bench_cache.CACHE_TARGET_MINUTES == 10.0 and "loadavg" in out
    assert "cache" in bench.SECTIONS and "cache" not in bench.default_sections()
    assert "one_pass_rounds" not in out                    # --quick: no one-pass build, no rounds


def test_the_kits_build_is_timed_in_rounds_and_judged_on_the_median(monkeypatch, tmp_path):
    first = {"workers": 2, "median_clip_seconds": 0.2, "seconds_per_clip": 0.1}
    monkeypatch.setattr(bench_cache, "cache_extrapolation", lambda *a: {
        "extrapolated_minutes": {"one_at_a_time": 40.0, "one_pass_parallel": 0.1 * 8640 / 60},
        "one_pass_parallel": first, "clips_measured": {"one_pass_parallel": 16}})
    monkeypatch.setattr(bench_cache, "_dcase_shaped_clips", lambda workdir, count, seed: ["clip"] * count)
    folders, per_clip = [], iter([0.05, 0.08])
    monkeypatch.setattr(bench_cache, "one_pass", lambda workdir, examples, reps, folder: (
        folders.append(folder) or {"seconds_per_clip": next(per_clip)}))
    ctx = bench.BenchContext(quick=False, clips=[], source="generated", workdir=tmp_path, extra={"cache_rounds": 3})
    out = bench_cache.bench_cache(ctx)
    assert folders == ["cache-parallel-1", "cache-parallel-2"]            # a fresh cache each round
    assert out["one_pass_rounds"] == pytest.approx([14.4, 7.2, 11.52])
    assert out["extrapolated_minutes"]["one_pass_parallel"] == pytest.approx(11.52)   # the median round
    assert out["one_pass_spread"]["min"] == pytest.approx(7.2)


def test_render_states_the_minutes_and_the_verdict():
    text = bench_cache.render_cache({"sections": {"cache": _section(8.4)}}, "c.json")
    assert "**8.4 min**, the median round (8.4, 7.0, 13.0; target <= 10 min: met)" in text and "one representation at a time in one process: 40.0 min" in text
    assert "librosa's CQT on the same clips 0.150 (the kit's fast CQT 3.0x faster)" in text
    assert "target <= 10 min: NOT met)" in bench_cache.render_cache({"sections": {"cache": _section(12.0)}}, "c.json")
    with pytest.raises(ValueError, match=r"c\.json: a --quick cache section has no one-pass build"):
        bench_cache.render_cache({"sections": {"cache": _section(None)}}, "c.json")
