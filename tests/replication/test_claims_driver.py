"""The claims driver (replication/claims.py) without training: the control overlays
resolve to the demo presets plus the permuted switch, and --report-only pairs records
found under <results>/runs and <results>/control."""

from __future__ import annotations

import json

import pytest

from replication import claims as driver
from replication.records import RunRecord, write_record


def test_control_overlays_are_the_demo_presets_with_the_switch(tmp_path):
    from paper1_ts.params import resolve_params as p1_params
    from paper2_multirep import table_backend
    from paper2_multirep.tables import resolve_params as p2_params
    from shared.config import to_dict

    p1 = p1_params(str(driver.write_overlay("paper1", tmp_path)))
    assert p1.ts.teacher_signal == "permuted"
    assert {**to_dict(p1), "ts": None} == {**to_dict(p1_params("demo")), "ts": None}
    p2 = p2_params(str(driver.write_overlay("paper2", tmp_path)))
    assert table_backend.training_params(p2).cyclic.aggregate_signal == "permuted"
    assert table_backend.training_params(p2_params("demo")).cyclic.aggregate_signal == "matched"
    assert p2.preset == "demo" and p2.data == p2_params("demo").data


def _record(root, run, seed, accuracy):
    rec = RunRecord(table="paper1/table6", run=run, preset="demo", seed=seed,
                    metrics={"accuracy": accuracy, "map_at_3": None}, dataset="demo")
    write_record(rec, root)


def test_report_only_pairs_runs_and_controls(tmp_path, capsys):
    for seed, (ts, base) in enumerate([(0.62, 0.60), (0.63, 0.60), (0.64, 0.60)]):
        _record(tmp_path / "runs", "spec_w_ts", seed, ts)
        _record(tmp_path / "runs", "spec_wo_ts", seed, base)
        _record(tmp_path / "control", "spec_w_ts", seed, base + (0.01, -0.01, 0.005)[seed])
        _record(tmp_path / "control", "spec_wo_ts", seed, base)
    argv = ["--paper", "1", "--claims", "p1-ts-beats-onehot-spec", "--report-only", "--control",
            "--seeds", "3", "--results", str(tmp_path)]
    assert driver.main(argv) == 0
    data = json.loads((tmp_path / "claims.json").read_text())
    main, control = data["results"]
    assert (main["verdict"], main["n"], control["control_passes"]) == ("reproduced", 3, True)
    assert main["mean"] == pytest.approx(3.0)
    assert (tmp_path / "claims.png").exists() and "p1-ts-beats-onehot-spec" in capsys.readouterr().out
    # --strict fails when a claim does not reproduce (here: no records for the raw claim)
    argv[3] = "p1-ts-beats-onehot-raw"
    assert driver.main(argv + ["--strict"]) == 1


def test_unknown_claim_id_is_refused(capsys):
    assert driver.main(["--claims", "p1-no-such-claim", "--report-only"]) == 2
    assert "unknown claim id(s) p1-no-such-claim" in capsys.readouterr().err


def test_table_arguments():
    assert driver.table_argument("paper1/table6") == ("paper1", "6")
    assert driver.table_argument("paper2/tableVII") == ("paper2", "VII")
    with pytest.raises(ValueError, match="paper3/table1"):
        driver.table_argument("paper3/table1")


def test_control_runs_share_the_job_stores_of_the_matched_runs(tmp_path):
    from replication.claims import STORE_DIRS, share_stores
    runs, control = tmp_path / "runs", tmp_path / "control"
    share_stores(runs, control)
    share_stores(runs, control)                                   # idempotent
    for store in STORE_DIRS:
        assert (control / store).is_symlink() and (control / store).resolve() == (runs / store).resolve()
        (runs / store / "marker").write_text("x")
        assert (control / store / "marker").read_text() == "x"
    other = tmp_path / "c2"
    (other / STORE_DIRS[0]).mkdir(parents=True)                     # a real folder is never replaced
    with pytest.raises(FileExistsError, match="not a link"):
        share_stores(runs, other)
