"""replication/rehearsal.py and the checker's handling of rehearsal records (no TensorFlow)."""

from __future__ import annotations

import pytest

from replication import rehearsal as rh
from replication.check import check_records
from replication.records import RunRecord
from replication.report import check_text
from shared.cli import UsageError


def _record(rehearsal: bool, accuracy: float = 0.10) -> RunRecord:
    extra = {"rehearsal": {"steps_per_epoch": 2}} if rehearsal else {}
    return RunRecord(table="paper1/table6", run="spec_wo_ts", preset="paper", seed=0,
                     metrics={"accuracy": accuracy, "map_at_3": None},
                     dataset="dcase2018_task1a", extra=extra)


def test_rehearsal_rows_are_shown_labelled_and_never_a_regression():
    report = check_records([_record(True)])
    row = next(r for r in report.rows if r.run == "spec_wo_ts")
    assert row.verdict == "regressed" and row.rehearsal         # 10 % is far below the paper
    assert report.exit_code == 0 and report.regressed == []
    text = check_text(report)
    assert "regressed [rehearsal]" in text and "REHEARSAL" in text


def test_the_same_record_outside_a_rehearsal_is_a_regression():
    report = check_records([_record(False)])
    assert report.exit_code == 1
    assert "[rehearsal]" not in check_text(report)


def test_is_rehearsal_reads_the_record_marker():
    assert rh.is_rehearsal(_record(True)) and not rh.is_rehearsal(_record(False))


def test_setup_refuses_a_data_set_without_rehearsal_data(tmp_path):
    with pytest.raises(UsageError, match="demo"):
        rh.setup("demo", str(tmp_path), None)


def test_setup_names_roots_without_writing_in_a_dry_run(tmp_path):
    setup = rh.setup("dcase2018_task1a", str(tmp_path / "r"), None, generate=False)
    assert setup.data_root == str(tmp_path / "r" / rh.DATA_DIR / "dcase2018_task1a")
    assert setup.cache_root == str(tmp_path / "r" / rh.CACHE_DIR)
    assert setup.steps == rh.REHEARSAL_STEPS
    assert not (tmp_path / "r").exists()


def test_default_results_root_is_separate_from_real_runs():
    assert rh.default_results_root(None).endswith("results/rehearsal")
    assert rh.default_results_root("/x/y") == "/x/y"


def test_cost_lines_extrapolate_per_epoch_and_say_why_no_gpu_figure():
    lines = rh.cost_lines([rh.StepCost("spec", 2.0, 154)], 3 * 3600 + 5.0, "paper1/table6")
    text = "\n".join(lines)
    assert "2.00 s/step x 154 steps/epoch = 0h05m08s per epoch" in text
    assert "3h00m05s" in text and "N-device estimate: the same command with --estimate" in text
    assert rh.hms(2 * 86400 + 61) == "2d 0h01m01s"
