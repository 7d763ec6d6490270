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


def test_section_wraps_the_extrapolation_with_rounds_the_target_and_the_load(monkeypatch, tmp_path):
    calls = []

    def fake(workdir, quick, seed, log, rounds):
        calls.append((workdir, quick, seed, rounds))
        return {"extrapolated_minutes": {"one_at_a_time": 1.0, "one_pass_parallel": None}}
    monkeypatch.setattr(bench_cache, "cache_extrapolation", fake)
    ctx = bench.BenchContext(quick=True, clips=[], source="generated", workdir=tmp_path, seed=3)
    out = bench_cache.bench_cache(ctx)
    assert calls == [(tmp_path, True, 3, 3)]                  # three rounds unless --rounds says
    assert out["target_minutes"] == bench_cache.CACHE_TARGET_MINUTES == 10.0 and "loadavg" in out
    assert "cache" in bench.SECTIONS and "cache" not in bench.default_sections()


def test_each_round_builds_a_fresh_cache(monkeypatch, tmp_path):
    folders, lines = [], []
    monkeypatch.setattr(bench_cache, "one_pass", lambda workdir, examples, reps, folder: (
        folders.append(folder) or {"seconds_per_clip": 0.05 * len(folders)}))
    builds = bench_cache.one_pass_rounds(tmp_path, ["clip"], {}, 3, lines.append)
    assert folders == ["cache-parallel", "cache-parallel-1", "cache-parallel-2"]
    assert [b["seconds_per_clip"] for b in builds] == pytest.approx([0.05, 0.1, 0.15])
    assert lines == ["  one pass, round 2: 14.4 min", "  one pass, round 3: 21.6 min"]


def test_render_states_the_minutes_and_the_verdict():
    text = bench_cache.render_cache({"sections": {"cache": _section(8.4)}}, "c.json")
    assert "**8.4 min**, the median round (8.4, 7.0, 13.0; target <= 10 min: met)" in text and "one representation at a time in one process: 40.0 min" in text
    assert "librosa's CQT on the same clips 0.150 (the kit's fast CQT 3.0x faster)" in text
    assert "target <= 10 min: NOT met)" in bench_cache.render_cache({"sections": {"cache": _section(12.0)}}, "c.json")
    with pytest.raises(ValueError, match=r"c\.json: a --quick cache section has no one-pass build"):
        bench_cache.render_cache({"sections": {"cache": _section(None)}}, "c.json")
