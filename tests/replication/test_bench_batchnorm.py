"""Benchmark section "batchnorm": both arms step the same network, the report has both
times, their per-round ratio and the host load, and the section is opt-in."""

from __future__ import annotations

from replication.drivers import bench, bench_batchnorm


def test_quick_section_times_both_arms(tmp_path):
    lines = []
    ctx = bench.BenchContext(quick=True, clips=[], source="generated", workdir=tmp_path, log=lines.append)
    out = bench_batchnorm.bench_batchnorm(ctx)
    assert out["model"] == "4-block Conv-BN" and out["batch"] == 16 and out["input"] == [150, 64, 3]
    assert out["fused_layers"] == 4                       # every BatchNormalization layer swapped
    for arm in ("keras", "fused"):
        assert 0 < out["seconds_per_step"][arm]["min"] <= out["seconds_per_step"][arm]["median"]
    ratio = out["keras_over_fused"]
    assert 0 < ratio["min"] <= ratio["median"] <= ratio["max"]
    assert "loadavg" in out and len(lines) == 1 and "Keras / fused x" in lines[0]


def test_section_is_opt_in():
    assert "batchnorm" in bench.SECTIONS and "batchnorm" not in bench.default_sections()


def test_render_needs_the_section():
    import pytest
    with pytest.raises(ValueError, match=r"old\.json: no batchnorm section \(run the benchmark with --section batchnorm\)"):
        bench_batchnorm.render_batchnorm({"sections": {"features": {}}}, "old.json")
