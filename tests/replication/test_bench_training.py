"""Training benchmark section: the quick run reports every figure (pipeline feed included);
the FLOP counter is exact."""

from __future__ import annotations

import json

import numpy as np

import keras
import pytest

from replication import bench, bench_cache, bench_training


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench_training")
    out = tmp / "bench.json"
    rc = bench.main(["--quick", "--section", "training", "--esc10", str(tmp / "absent"),
                     "--json", str(out)])
    assert rc == 0
    return json.loads(out.read_text())["sections"]["training"]


def test_quick_training_section_measures_every_demo_model(quick_report, capsys):
    demo = {n for n, s in bench_training.SPECS.items() if s.size == "demo"}
    assert set(quick_report["models"]) == demo             # --quick: demo sizes only
    for name, m in quick_report["models"].items():
        assert "error" not in m, (name, m.get("error"))
        assert m["clips_per_s"] > 0 and m["steps"] >= 1
        assert m["train_flops"] == 3 * m["forward_flops"] > 0
        assert m["achieved_gflops_per_s"] == pytest.approx(m["clips_per_s"] * m["train_flops"] / 1e9)
        assert 0 < m["ratio_to_matmul"]
        assert m["peak_memory"]["host_peak_mb"] > 100      # a TF process is never this small
        assert "bf16" not in m                             # --quick skips mixed_bfloat16
        fed = m["pipeline"]                                # same step fed by the cached pipeline
        assert fed["step_seconds"] > 0
        assert fed["overhead"] == pytest.approx(float(np.median(fed["round_overheads"])))
        assert len(fed["round_overheads"]) == fed["rounds"] >= 1
        assert fed["alone_share"] == pytest.approx(fed["alone_batch_seconds"] / m["step_seconds"])
        assert 0 < fed["alone_batch_seconds"] < fed["step_seconds"]   # a demo batch is ms of work
    assert not any("xla" in m for m in quick_report["models"].values())   # --quick: no XLA / bf16
    assert quick_report["matmul_gflops_per_s"] and min(quick_report["matmul_gflops_per_s"]) > 0
    cache = quick_report["dcase_feature_cache"]
    assert set(cache["seconds_per_clip"]) == set(bench_cache.representations())
    minutes = cache["extrapolated_minutes"]
    assert minutes["one_at_a_time"] == pytest.approx(sum(cache["seconds_per_clip"].values()) * 8640 / 60)
    assert minutes["one_pass_parallel"] is None           # --quick: too few clips for a steady state
    assert len(quick_report["loadavg"]) == 3


def test_one_pass_parallel_cache_extrapolation(tmp_path):
    cache = bench_cache.cache_extrapolation(tmp_path, False, 0, lambda line: None, clips=4)
    one_pass = cache["one_pass_parallel"]
    assert cache["extrapolated_minutes"]["one_pass_parallel"] == pytest.approx(
        one_pass["seconds_per_clip"] * 8640 / 60)
    assert one_pass["workers"] >= 1 and one_pass["wall_seconds"] > one_pass["median_clip_seconds"] > 0
    assert one_pass["seconds_per_clip"] == pytest.approx(one_pass["median_clip_seconds"] / one_pass["workers"])


def test_flops_match_a_hand_count_of_dense_conv_and_gru():
    conv2d = keras.Sequential([keras.Input((10, 8, 3)),
                               keras.layers.Conv2D(4, (3, 3), strides=2, padding="same"),  # [5, 4, 4]
                               keras.layers.BatchNormalization(),
                               keras.layers.Flatten(),                                      # [80]
                               keras.layers.Dense(7)])
    got = bench_training.count_flops(conv2d)
    assert got["macs_by_kind"] == {"conv": 5 * 4 * 4 * (3 * 3 * 3), "dense": 80 * 7}
    assert got["forward_flops"] == 2 * (5 * 4 * 4 * 27 + 560)
    assert got["train_flops"] == 3 * got["forward_flops"]

    inner = keras.Sequential([keras.Input((20, 2)), keras.layers.Conv1D(6, 5, padding="valid")])  # [16, 6]
    inp = keras.Input((20, 2))
    x = inner(inp)                                           # nested model is walked into
    x = keras.layers.GRU(3)(x)                               # 16 steps, D=6, H=3
    x = keras.layers.Dense(2)(x)
    got = bench_training.count_flops(keras.Model(inp, x))
    assert got["macs_by_kind"] == {"conv": 16 * 6 * 5 * 2, "recurrent": 16 * 3 * (6 * 3 + 3 * 3),
                                   "dense": 3 * 2}


def test_flops_of_the_paper_cnn_gru_first_conv():
    """Table 3 Conv1: 7x7, 2 -> 30 channels over 249 x 256 ('same') in the paper-size model."""
    model, _ = bench_training.build_model(bench_training.SPECS["p1_cnn_gru_paper"])
    convs = [lay for lay in bench_training._leaf_layers(model) if lay.name == "conv1"]
    assert bench_training.layer_macs(convs[0]) == ("conv", 249 * 256 * 30 * 7 * 7 * 2)


def test_xla_and_bf16_timings_run_on_a_demo_model():
    """The full run's extra timings (jit_compile, mixed_bfloat16) on the smallest model."""
    spec = bench_training.SPECS["p2_small_cnn_demo"]
    for kwargs in ({"jit_compile": True}, {"jit_compile": False, "precision": "mixed_bfloat16"}):
        got = bench_training.measure_training(spec, 1, warmup=1, min_seconds=0.0, **kwargs)
        assert got["steps"] == 1 and got["clips_per_s"] > 0
    assert keras.mixed_precision.global_policy().name == "float32"          # reset afterwards


def _feed(spec, delay_s: float):
    """An endless feed of zero batches of the spec's shape, sleeping `delay_s` per batch."""
    import time

    import tensorflow as tf

    def sleep(i):
        time.sleep(delay_s)
        return i

    def batch(_):
        i = tf.numpy_function(sleep, [tf.constant(0.0)], tf.float32)
        return {"x": tf.zeros((spec.batch, *spec.input_shape)) + i,                # [B, ...]
                "y": tf.one_hot(tf.zeros([spec.batch], tf.int32), bench_training.NUM_CLASSES)}

    return tf.data.Dataset.range(1).repeat().map(batch).prefetch(1)


def test_pipeline_overhead_is_measured_in_alternating_blocks():
    """A feed that sleeps 0.3 s per batch cannot keep up with the demo model's ~0.1 s steps:
    its fed steps take the sleep, so the overhead is large, and so is its time alone (no
    model); a feed with no work is close to in-memory."""
    spec = bench_training.SPECS["p2_small_cnn_demo"]
    slow = bench_training.measure_training(spec, 12, False, warmup=1, min_seconds=0.0,
                                           feed=_feed(spec, 0.3))
    pipe = slow["pipeline"]
    assert pipe["rounds"] == 6 and pipe["steps"] == slow["steps"] == 12     # 6 rounds of 2 steps
    assert all(r > 0.5 for r in pipe["round_overheads"])                     # every round waits
    assert pipe["step_seconds"] >= 0.25 and pipe["overhead"] > 0.5
    assert pipe["alone_batch_seconds"] >= 0.25 and pipe["alone_share"] > 1.0   # the sleep, no model
    free = bench_training.measure_training(spec, 12, False, warmup=1, min_seconds=0.0,
                                           feed=_feed(spec, 0.0))
    assert abs(free["pipeline"]["overhead"]) < 0.5 and free["pipeline"]["alone_share"] < 0.5
