"""The benchmark command runs every section and writes a well-formed JSON report."""

from __future__ import annotations

import pytest

from replication.drivers import bench


def test_quick_bench_on_generated_clips_writes_json(quick_bench):
    report, printed = quick_bench
    assert report["source"].startswith("generated")
    assert list(report["sections"]) == bench.default_sections()     # opt-in ones (peers) left out
    cases = report["sections"]["features"]["cases"]
    assert set(cases) >= {"logMel64", "MFCC", "CQT", "p2 mel kinds, one pass"}
    for case in cases.values():
        assert case["kit_clips_per_s"] > 0 and case["librosa_clips_per_s"] > 0
        assert case["ratio"] == pytest.approx(case["kit_clips_per_s"] / case["librosa_clips_per_s"])
    feats = report["sections"]["features"]
    stages = feats["logmel64_stage_ms"]
    assert list(stages) == ["framing + window", "rfft", "power |X|^2", "mel + dB"]
    assert all(ms > 0 for ms in stages.values())
    assert feats["fft_only_ratio_bound"] == pytest.approx(
        1e3 / stages["rfft"] / cases["logMel64"]["librosa_clips_per_s"])
    # 5 s 22.05 kHz clips: 502 centred frames; a triangle filterbank puts each of the 1025
    # bins in at most 2 of the 64 bands, so ~2 nonzero weights per bin; 2 FLOPs a multiply-add
    assert 1025 < feats["filterbank_nonzero_weights"] <= 2 * 1025
    assert feats["filterbank_flops_per_clip"] == pytest.approx(
        2 * 502 * feats["filterbank_nonzero_weights"])
    assert feats["matmul_gflops_per_s"] > 0
    assert feats["fft_only_ratio_bound"] > feats["fft_filterbank_ratio_bound"] > 0
    cache = report["sections"]["training"]["dcase_feature_cache"]
    assert cache["reference_seconds_per_clip"]["p2_CQT_librosa"] > 0     # librosa's CQT, beside the kit's
    assert "p2_CQT_librosa" not in cache["seconds_per_clip"]               # not part of the build's sum
    pipe = report["sections"]["pipeline"]
    assert pipe["pipeline_steps_per_s"] > 0 and pipe["in_memory_steps_per_s"] > 0
    assert "overhead" in printed


def test_sections_are_a_registry():
    assert list(bench.SECTIONS)[:2] == ["features", "pipeline"]
    with pytest.raises(ValueError, match="already registered"):
        bench.register_section("features")(lambda ctx: {})
    with pytest.raises(SystemExit):
        bench.main(["--section", "nope"])


def test_uses_esc10_when_present(esc10_root):
    clips, source = bench.load_clips(esc10_root, 2, seed=0)
    assert source.startswith("ESC-10") and len(clips) == 2
    assert clips[0][2] == 22050 and clips[0][1].shape[1] == 1
