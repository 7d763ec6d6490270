"""`python -m paper1_ts.run --table 2|3`: the shape check CLI and its report."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paper1_ts import architecture as arch
from paper1_ts import run, shapes
from paper1_ts.model_params import RawCNNParams
from paper1_ts.models import build_raw_cnn

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 30 * 60      # a hang guard only, not a speed check: far above this child's time on a busy machine


def _row_line(output: str, row: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [row])


def test_table2_all_rows_ok(capsys):
    assert run.main(["--table", "2"]) == 0
    out = capsys.readouterr().out
    for row in arch.TABLE2:
        assert _row_line(out, row.name).endswith("OK")
    assert "raw_cnn:" in out and "result: all rows match" in out


def test_table3_passes_with_res4_read_as_240(capsys):
    assert run.main(["--table", "3"]) == 0
    out = capsys.readouterr().out
    assert _row_line(out, "Res4").endswith("OK*")
    assert "p1-res4-filters" in out
    assert "cnn_gru_gru:" in out and "cnn_gru_pool:" in out


def test_table3_as_printed_reports_the_mismatch(capsys):
    assert run.main(["--table", "3", "--res4-filters", "120"]) == 1
    out = capsys.readouterr().out
    assert _row_line(out, "Res4").endswith("OK")
    for row in ("AvgPool", "MaxPool", "Concat"):
        assert _row_line(out, row).endswith("MISMATCH")
    assert "result: 3 row(s) MISMATCH" in out


def test_checker_catches_a_wrong_model():
    model = build_raw_cnn(dataclasses.replace(RawCNNParams(), res_pool=2))
    checks = {c.row: c for c in shapes.check_rows(model, arch.TABLE2)}
    assert checks["Conv1"].ok
    assert not checks["Res1"].ok and "differs" in checks["Res1"].note
    assert not shapes.ShapeReport("t", tuple(checks.values()), ()).ok


def test_checker_reports_a_missing_layer():
    model = build_raw_cnn(RawCNNParams(res_filters=(64, 128)))   # only two blocks
    checks = {c.row: c for c in shapes.check_rows(model, arch.TABLE2)}
    assert checks["Res2"].ok and checks["Res3"].status == shapes.MISMATCH
    assert "no layer 'res3'" in checks["Res3"].note


@pytest.mark.parametrize("argv", [["--table", "2", "--res4-filters", "120"],
                                  [], ["--table", "3", "--res4-filters", "0"]])
def test_bad_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2


def test_unknown_table_exits_2_with_the_shared_lookup_error(capsys):
    # The table lookup both papers share (replication.registry.table_number): one line, exit 2.
    assert run.main(["--table", "9"]) == 2
    assert "paper 1 has no table '9'" in capsys.readouterr().err


def test_module_entry_point_exit_code():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "paper1_ts.run", "--table", "2"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Res7" in proc.stdout and "18x128" in proc.stdout
