"""TensorBoard scalars written from history rows and read back from the event files."""

from __future__ import annotations

import pytest

from shared.tensorboard import ScalarLog, read_scalars, write_history


def test_history_rows_and_final_metrics_round_trip(tmp_path):
    history = [{"branch": b, "pass": p, "loss": 1.0 + p + b, "ce": 0.5 * p, "kl": 0.25, "lr": 0.1 / (p + 1),
                "phase": "single"} for p in range(3) for b in range(2)]
    files = write_history(tmp_path / "entry" / "tensorboard", history, "branch", "pass",
                          final={"accuracy_b0": 0.75, "map_at_3_b0": None})
    assert files and all(f.startswith("tensorboard/events.out.tfevents.") for f in files)
    assert all((tmp_path / "entry" / f).is_file() for f in files)
    got = read_scalars(tmp_path / "entry" / "tensorboard")
    assert got["branch_1/loss"] == [(p, pytest.approx(2.0 + p)) for p in range(3)]
    assert got["branch_0/lr"] == [(p, pytest.approx(0.1 / (p + 1))) for p in range(3)]
    assert [v for _, v in got["branch_0/kl"]] == pytest.approx([0.25] * 3)
    assert got["final/accuracy_b0"] == [(0, pytest.approx(0.75))]
    assert "final/map_at_3_b0" not in got and "branch_0/phase" not in got


def test_rows_without_series_and_a_missing_log(tmp_path):
    with ScalarLog(tmp_path / "tb") as log:
        log.rows([{"epoch": 0, "loss": 2.0}, {"epoch": 1, "loss": 1.5, "lr": 0.001}], None, "epoch")
    got = read_scalars(tmp_path / "tb")
    assert got["loss"] == [(0, 2.0), (1, 1.5)] and got["lr"] == [(1, pytest.approx(0.001))]
    with pytest.raises(FileNotFoundError, match="no TensorBoard event file"):
        read_scalars(tmp_path / "empty")


def test_string_series_and_every_numeric_curve(tmp_path):
    rows = [{"step": "step1", "epoch": 0, "loss": 3.0, "ts_output_loss": 0.5, "note": "x"},
            {"step": "step2", "epoch": 0, "loss": 2.0}]
    write_history(tmp_path / "tb", rows, "step", "epoch", curves=None)
    got = read_scalars(tmp_path / "tb")
    assert got == {"step1/loss": [(0, 3.0)], "step1/ts_output_loss": [(0, 0.5)], "step2/loss": [(0, 2.0)]}
