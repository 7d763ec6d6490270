"""Training benchmark section: the quick run reports every figure (pipeline feed included);
the FLOP counter is exact; the pipeline timing logic is driven by a fake step and a fake
clock (FakeHost), so no verdict here depends on how fast or busy this machine is."""

from __future__ import annotations

import itertools

import numpy as np

import keras
import pytest

from replication.drivers import bench_cache, bench_training


@pytest.fixture(scope="module")
def quick_report(quick_bench):
    """The training section of the shared quick run (tests/replication/conftest.py)."""
    return quick_bench[0]["sections"]["training"]


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
        assert fed["alone_batch_seconds"] > 0 and m["build_seconds"] > 0
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


class FakeHost:
    """A clock that moves only when the fake step or feed spends time, and a log of what ran.

    The pipeline timing logic runs on it instead of this machine: the test sets every
    duration, so its verdict cannot move with the machine's speed or load.
    """

    def __init__(self):
        self.now, self.events = 0.0, []

    def clock(self) -> float:
        return self.now

    def spend(self, seconds: float, event) -> None:
        self.now += seconds
        self.events.append(event)


def _fake_step(host: FakeHost, seconds_of):
    """A step that takes `seconds_of(i)` fake seconds at its i-th call (i = 0, 1, ...)."""
    calls = itertools.count()

    def run_step(xb, yb):
        host.spend(seconds_of(next(calls)), ("step", xb))

    return run_step


class FakeFeed:
    """Batches {"x": "fed", "y": None}: each iterator's first one takes `startup` s, the k-th
    after it `wait(k)` s (k = 0, 1, ...). Counts the iterators opened."""

    def __init__(self, host: FakeHost, startup: float, wait):
        self.host, self.startup, self.wait, self.opened = host, startup, wait, 0

    def __iter__(self):
        self.opened += 1
        self.host.spend(0.0, "open")
        self.host.spend(self.startup, "batch")
        yield {"x": "fed", "y": None}
        k = 0
        while True:
            self.host.spend(self.wait(k), "batch")
            yield {"x": "fed", "y": None}
            k += 1


def test_rounds_alternate_in_memory_and_fed_blocks_and_skip_the_start_up():
    """12 steps -> 6 rounds of 2 in-memory steps, then a fresh iterator whose first batch and
    step (start-up) are not timed, then 2 fed steps; the 10 s start-up never shows."""
    host = FakeHost()
    feed = FakeFeed(host, startup=10.0, wait=lambda k: 0.3)
    step = _fake_step(host, lambda i: 0.1)
    timing = bench_training.alternating_rounds(step, lambda: ("mem", None), feed, 12, host.clock)
    one_round = [("step", "mem")] * 2 + ["open", "batch", ("step", "fed")] + ["batch", ("step", "fed")] * 2
    assert host.events == one_round * 6
    assert timing["rounds"] == feed.opened == 6
    assert timing["in_memory"] == pytest.approx([0.1] * 12)
    assert timing["fed"] == pytest.approx([0.4] * 12)               # 0.3 s waiting + the 0.1 s step
    assert timing["ratios"] == pytest.approx([4.0] * 6)


def test_overhead_is_the_median_over_rounds_of_each_rounds_ratio():
    """The host turns 10x slower for the last 3 of 6 rounds (5 steps a round: 2 in memory,
    1 start-up, 2 fed); the feed always waits 0.1 s. Paired per round the overhead is
    1.0 (fast rounds) and 0.1 (slow rounds), median 0.55; pooling every step instead
    (median fed 0.65 s over median in-memory 0.55 s) would give 0.18."""
    host = FakeHost()
    feed = FakeFeed(host, startup=0.0, wait=lambda k: 0.1)
    step = _fake_step(host, lambda i: 0.1 if i < 15 else 1.0)
    timing = bench_training.alternating_rounds(step, lambda: ("mem", None), feed, 12, host.clock)
    got = bench_training.pipeline_summary(timing, alone_seconds=0.05, batch=32, step_seconds=0.5)
    assert got["round_overheads"] == pytest.approx([1.0] * 3 + [0.1] * 3)
    assert got["overhead"] == pytest.approx(0.55)
    assert got["rounds"] == 6 and got["steps"] == 12
    assert got["step_seconds"] == pytest.approx(0.65)               # median of 0.2 s and 1.1 s steps
    assert got["clips_per_s"] == pytest.approx(32 / 0.65)
    assert got["alone_batch_seconds"] == 0.05 and got["alone_share"] == pytest.approx(0.1)


def test_few_steps_make_fewer_rounds_of_at_least_min_block_steps():
    host = FakeHost()
    feed = FakeFeed(host, startup=0.0, wait=lambda k: 0.0)
    step = _fake_step(host, lambda i: 0.1)
    for n, rounds, steps in ((1, 1, 1), (2, 1, 2), (5, 2, 6), (12, 6, 12), (40, 6, 42)):
        timing = bench_training.alternating_rounds(step, lambda: ("mem", None), feed, n, host.clock)
        assert timing["rounds"] == rounds and len(timing["ratios"]) == rounds
        assert len(timing["in_memory"]) == len(timing["fed"]) == steps     # equal blocks, >= n steps


def test_pipeline_alone_is_the_median_batch_of_a_fresh_iterator_after_its_start_up():
    """Batches after a 10 s start-up take 0.1, 0.2 s: the median of those two, 0.15 s
    (timing the start-up would give 5.05 s)."""
    host = FakeHost()
    feed = FakeFeed(host, startup=10.0, wait=lambda k: 0.1 * (k + 1))
    assert bench_training.pipeline_alone(feed, 2, host.clock) == pytest.approx(0.15)
    assert feed.opened == 1
