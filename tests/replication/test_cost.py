"""replication/cost.py: the faithful-cost arithmetic on a tiny fake throughput file, and the
errors a bad file gives (the table commands' --estimate: tests/*/test_estimate.py)."""

from __future__ import annotations

import json

import pytest

from replication.cost import (CostError, Devices, FeatureCost, JobCost, TableCost, cost_lines, estimate,
                              hours, load_throughput, total_seconds)


def write_rates(path, models, features=None, host=None):
    """A benchmark-shaped JSON: {name: (clips_per_s, input_shape, batch)}."""
    training = {"models": {name: {"clips_per_s": rate, "input_shape": list(shape), "batch": batch}
                           for name, (rate, shape, batch) in models.items()}}
    if features is not None:
        training["dcase_feature_cache"] = {"seconds_per_clip": features}
    path.write_text(json.dumps({"host": host or {"machine": "toy", "cpus": 3, "gpus": []},
                                "created": "2026-01-01", "sections": {"training": training}}))
    return path


def toy_cost(score_b=300.0, features=(FeatureCost("f", 100),)):
    """Two jobs: a (model m, 3600 clips, factor 2, 90 inference passes), b (model m at twice
    the benchmarked input, 1800 clips); rows: r1 reads a, r2 reads a and b, r3 reads b."""
    jobs = [JobCost("a", "job a", "m", 3600, factor=2.0, score_clips=90, batch=8),
            JobCost("b", "job b", "m", 1800, score_clips=score_b, input_shape=(8, 2), batch=8)]
    return TableCost("toy/table", "a toy", jobs, [("r1", ("a",)), ("r2", ("a", "b")), ("r3", ("b",))],
                     list(features), "", "toy work", ["toy assumption"])


def test_arithmetic_per_job_row_and_total(tmp_path):
    rates = load_throughput(write_rates(tmp_path / "t.json", {"m": (10.0, (4, 2), 8)}, {"f": 0.5}))
    e = estimate(toy_cost(), rates)
    (_, train_a, score_a), (_, train_b, score_b) = e.jobs
    assert train_a == pytest.approx(3600 * 2 / 10)          # clips x factor / clips per s
    assert score_a == pytest.approx(90 / 3 / 10)             # inference = 1/3 of a training clip
    assert train_b == pytest.approx(1800 / 5)                # input twice the size: half the rate
    assert score_b == pytest.approx(300 / 3 / 5)
    assert [(r, n) for r, _, _, n in e.rows] == [("r1", 1), ("r2", 1), ("r3", 0)]   # b counted once, in r2
    assert e.rows[1][1] == pytest.approx(train_b) and e.rows[2][1] == 0
    assert e.train == pytest.approx(720 + 360) and e.score == pytest.approx(3 + 20)
    assert e.features == pytest.approx(100 * 0.5)
    assert total_seconds(e, Devices(1)) == pytest.approx(1080 + 23 + 50)
    # 4 devices at efficiency 0.5: training and inference / 2, feature extraction (CPU) not divided
    assert total_seconds(e, Devices(4, 0.5)) == pytest.approx((1080 + 23) / 2 + 50)


def test_unknown_parts_are_na_not_zero(tmp_path):
    rates = load_throughput(write_rates(tmp_path / "t.json", {"m": (10.0, (4, 2), 8)}))   # no feature timings
    e = estimate(toy_cost(score_b=None), rates)
    assert e.score is None and e.features is None and total_seconds(e, Devices(1)) is None
    text = "\n".join(cost_lines(toy_cost(score_b=None), rates))
    assert "TOTAL (known parts)" in text and "n/a" in text


def test_text_names_the_file_the_machine_and_both_device_counts(tmp_path):
    path = write_rates(tmp_path / "t.json", {"m": (10.0, (4, 2), 8)}, {"f": 0.5})
    lines = cost_lines(toy_cost(), load_throughput(path), Devices(4))
    text = "\n".join(lines)
    assert str(path) in text and "toy with 3 CPU cores, no GPU" in text
    assert "1 device | 4 devices" in text and "efficiency 1:" in text      # the default and why
    total = next(line for line in lines if "TOTAL" in line)
    assert total.split()[1:4] == [hours(1153), "|", hours(1103 / 4 + 50)] == ["0.32", "|", "0.09"]
    assert "scaled to 8x2 by input size" in text


def test_missing_model_names_the_file_and_the_model(tmp_path):
    path = write_rates(tmp_path / "t.json", {"other": (10.0, (4, 2), 8)})
    with pytest.raises(CostError, match=r"t\.json: no model 'm' in sections\.training\.models \(it has other\)"):
        estimate(toy_cost(), load_throughput(path))


@pytest.mark.parametrize("content, message", [
    (None, "throughput file not found"),
    ("{not json", "not a benchmark JSON"),
    ('{"sections": {}}', "no sections.training.models"),
    ('{"sections": {"training": {"models": {"m": {"clips_per_s": 1}}}}}', "models.m lacks"),
    ('{"sections": {"training": {"models": {"m": {"clips_per_s": 0, "input_shape": [1], "batch": 1}}}}}',
     "clips_per_s must be > 0"),
])
def test_bad_throughput_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CostError, match="bad.json") as err:
        load_throughput(path)
    assert message in str(err.value)


def test_device_settings_are_checked(tmp_path):
    with pytest.raises(CostError, match="--devices must be >= 1"):
        Devices(0)
    with pytest.raises(CostError, match="--scaling-efficiency must be in"):
        Devices(2, 1.5)
    rates = load_throughput(write_rates(tmp_path / "t.json", {"m": (10.0, (4, 2), 8)}))
    with pytest.raises(CostError, match="more devices than clips in the global batch"):
        cost_lines(toy_cost(), rates, Devices(16))


def test_benchmark_records_the_gpus_it_saw_and_the_estimate_names_them(tmp_path):
    from types import SimpleNamespace

    from replication.drivers.bench import gpu_names

    def fake_tf(devices):
        config = SimpleNamespace(
            list_physical_devices=lambda kind: devices if kind == "GPU" else [],
            experimental=SimpleNamespace(get_device_details=lambda d: {"device_name": f"Card {d.name[-1]}"}))
        return SimpleNamespace(config=config)

    assert gpu_names(fake_tf([])) == []
    assert gpu_names(fake_tf([SimpleNamespace(name="/physical_device:GPU:0")])) == ["Card 0"]
    path = write_rates(tmp_path / "gpu.json", {"m": (10.0, (4, 2), 8)},
                       host={"machine": "x86_64", "cpus": 32, "gpus": ["Card 0", "Card 1"]})
    text = "\n".join(cost_lines(toy_cost(), load_throughput(path)))
    assert "GPU Card 0, Card 1" in text and "names no GPU" not in text
