"""Benchmark section "batchnorm": both arms step the same network, the report has both
times per model, their per-round ratio and the host load, the rendering is the JSON's, and
the section is opt-in."""

from __future__ import annotations

import pytest

from replication.drivers import bench, bench_batchnorm


def test_quick_section_times_both_arms(tmp_path):
    lines = []
    ctx = bench.BenchContext(quick=True, clips=[], source="generated", workdir=tmp_path, log=lines.append,
                             extra={"batchnorm_models": ["p1_cnn_gru_demo"]})
    out = bench_batchnorm.bench_batchnorm(ctx)
    m = out["models"]["p1_cnn_gru_demo"]
    assert m["batch"] == 16 and m["input"] == [99, 64, 2] and m["optimizer"] == "adam"
    assert m["bn_layers"] == 9                                # every BatchNormalization layer swapped
    assert 1 <= m["steps_per_call"] <= bench_batchnorm.MAX_CALLS
    for arm in ("keras", "fused"):
        assert 0 < m["seconds_per_step"][arm]["min"] <= m["seconds_per_step"][arm]["median"]
    ratio = m["keras_over_fused"]
    assert 0 < ratio["min"] <= ratio["median"] <= ratio["max"]
    assert out["rounds"] == 2 and "loadavg" in out and len(lines) == 1 and "Keras / fused x" in lines[0]
    rendered = bench_batchnorm.render_batchnorm({"sections": {"batchnorm": out}}, "b.json")
    assert f"| p1_cnn_gru_demo | 99 x 64 x 2 | 16 | 9 | {m['seconds_per_step']['keras']['median']:.3f} |" in rendered


def test_section_is_opt_in():
    assert "batchnorm" in bench.SECTIONS and "batchnorm" not in bench.default_sections()


def test_render_needs_the_section_in_its_per_model_form():
    with pytest.raises(ValueError, match=r"old\.json: no batchnorm section \(run the benchmark with --section batchnorm\)"):
        bench_batchnorm.render_batchnorm({"sections": {"features": {}}}, "old.json")
    with pytest.raises(ValueError, match=r"old\.json: a batchnorm section of one network"):
        bench_batchnorm.render_batchnorm({"sections": {"batchnorm": {"model": "ResNet101"}}}, "old.json")


def test_a_model_without_batch_norm_is_listed_untimed():
    sec = {"rounds": 3, "loadavg": [1.0, 1.0, 1.0], "nice": 0,
           "models": {"p2_vgg19_paper": {"input": [150, 64, 3], "batch": 64, "bn_layers": 0}}}
    assert "| p2_vgg19_paper | 150 x 64 x 3 | 64 | 0 | - | - | no BatchNormalization layer |" in \
        bench_batchnorm.render_batchnorm({"sections": {"batchnorm": sec}}, "b.json")
