"""One paper-2 branch vs the two-branch ensemble through the predict path (section inference)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replication.drivers import bench, bench_inference, bench_report
from shared.pipeline import eval_crop_starts

TINY = bench_inference.InferenceSize(8000, 1.0, 20, 10, (("small_cnn", "logMel64"), ("small_resnet", "MFCC")),
                                     clips=2, small_filters=(4, 8))


def test_sizes_are_the_presets():
    paper = bench_inference.SIZES["paper"]
    assert [a for a, _ in paper.branches] == ["vgg19", "resnet101"] and paper.crop_frames == 150
    demo = bench_inference.SIZES["demo"]
    assert (demo.sample_rate, demo.crop_frames, demo.hop_frames) == (16000, 100, 50)


def test_classifiers_take_the_crops_of_their_representation():
    models = bench_inference.classifiers(TINY)
    assert [m.about["representation"] for m in models] == ["logMel64", "MFCC"]
    assert [tuple(m.network.input_shape[1:]) for m in models] == [(20, 64, 3), (20, 64, 3)]
    assert all(m.feature_dtype == "float16" and m.hop == 10 for m in models)
    # predict's traced clip_scores scores a clip as the eager call does
    from shared.inference import clip_scores, softmax
    crops = np.random.default_rng(0).standard_normal((3, 20, 64, 3)).astype(np.float16)
    for m in models:
        eager = softmax(np.asarray(m(crops, training=False), np.float64)).mean(axis=0)
        np.testing.assert_allclose(clip_scores(m, crops)[0], eager, rtol=1e-5, atol=1e-6)


def test_section_on_a_tiny_size(tmp_path):
    ctx = bench.BenchContext(quick=False, clips=[], source="generated", workdir=tmp_path, log=lambda s: None,
                             extra={"inference_sizes": ["tiny"], "inference_size_table": {"tiny": TINY},
                                    "inference_rounds": 2})
    out = bench_inference.bench_inference(ctx)
    s = out["sizes"]["tiny"]
    frames = 1 + 8000 // paper2_hop()                                 # 1 s at 8 kHz, centre padding
    assert s["crops_per_clip"] == len(eval_crop_starts(frames, 20, 10))
    assert s["clips"] == 2 and s["rounds"] == 2 and s["hop_frames"] == 10
    assert list(s["rows"]) == ["branch 0 (small_cnn on logMel64)", "branch 1 (small_resnet on MFCC)",
                               "ensemble (2 branches)"]
    for row in s["rows"].values():
        assert set(row) == {"latency_with_features_ms", "latency_network_only_ms", "latency_network_traced_ms",
                            "batched_with_features_clips_per_s", "batched_network_only_clips_per_s",
                            "batched_network_traced_clips_per_s"}
        assert all(0 < v["min"] <= v["median"] <= v["max"] for v in row.values())


def paper2_hop():
    from shared.features import paper2_params
    return paper2_params("logMel64", sample_rate=8000).hop_length


def _inference_json(ens_ms):
    cell = lambda m: {"median": m, "min": m * 0.9, "max": m * 1.2}
    row = lambda m: {"latency_with_features_ms": cell(m), "latency_network_only_ms": cell(m / 2),
                     "latency_network_traced_ms": cell(m / 4),
                     "batched_with_features_clips_per_s": cell(1000 / m), "batched_network_only_clips_per_s": cell(2000 / m),
                     "batched_network_traced_clips_per_s": cell(4000 / m)}
    host = {"loadavg": [3.0, 2.0, 1.0], "nice": 15, "cpus": 2}
    size = {"clip": {"sample_rate": 44100, "seconds": 5.0, "channels": 1}, "crop_frames": 150, "hop_frames": 150,
            "crops_per_clip": 4, "clips": 4, "rounds": 5,
            "branches": [{"network": "vgg19", "representation": "logMel64"},
                         {"network": "resnet101", "representation": "MFCC"}],
            "rows": {"branch 0 (vgg19 on logMel64)": row(400.0), "branch 1 (resnet101 on MFCC)": row(100.0),
                     "ensemble (2 branches)": row(ens_ms)}}
    return {"sections": {"inference": {"sizes": {"paper": size}, "weights": "random (cost only)",
                                       "host_before": host, "host_after": host}}}


def test_render_and_report_command(tmp_path, capsys):
    text = bench_inference.render_inference(_inference_json(500.0), "inf.json")
    assert "**paper** (vgg19 on logMel64 + resnet101 on MFCC; 4 clips of 5 s at 44100 Hz, 4 crops" in text
    assert ("| ensemble (2 branches) | 500.0 (450.0-600.0) | 250.0 (225.0-300.0) | 125.0 (112.5-150.0) | "
            "2.0 (1.8-2.4) | 4.0 (3.6-4.8) | 8.0 (7.2-9.6) |") in text
    assert "with features is 1.25x / 5.00x that of branch 0 (vgg19 on logMel64) / branch 1" in text
    assert "under niceness 15" in text
    with pytest.raises(ValueError, match="no inference section"):
        bench_inference.render_inference({"sections": {}}, "x.json")
    path, doc = tmp_path / "inf.json", tmp_path / "scale.md"
    path.write_text(json.dumps(_inference_json(500.0)))
    doc.write_text("<!-- BEGIN bench_inference -->\n<!-- END bench_inference -->\n")
    assert bench_report.main(["--after", str(path), "--into", str(doc), "--section", "bench_inference"]) == 0
    assert "5.00x" in doc.read_text()
    path.write_text(json.dumps({"sections": {"features": {}}}))
    assert bench_report.main(["--after", str(path), "--section", "bench_inference"]) == 2
    assert "no inference section" in capsys.readouterr().err
