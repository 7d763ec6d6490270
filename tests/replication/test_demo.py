"""The main job's orchestration: order of steps, failure propagation, argument errors.

The heavy steps (data generation, training) are replaced by recorders here; the real
commands are exercised by their own tests and by `python -m replication`.
"""

from __future__ import annotations

import pytest

import replication.data
import replication.drivers.demo as demo


@pytest.fixture
def calls(monkeypatch):
    seen: list[tuple[str, tuple]] = []

    def runner_for(paper):
        def run(argv):
            seen.append((paper, tuple(argv)))
            return 1 if ("--table" in argv and argv[argv.index("--table") + 1] == "BAD") else 0
        return run

    monkeypatch.setattr(demo, "_runner", runner_for)
    monkeypatch.setattr(replication.data, "main", lambda argv: seen.append(("data", tuple(argv))) or 0)
    return seen


def test_runs_data_shapes_then_tables_in_order(calls, tmp_path):
    code = demo.main(["--tables", "paper1:6", "paper2:VII", "--results", str(tmp_path / "r")])
    assert code == 0
    kinds = [(c[0], c[1][1] if c[0] != "data" else c[1][0]) for c in calls]
    assert kinds == [("data", "prepare"), ("paper1", "2"), ("paper1", "3"),
                     ("paper1", "6"), ("paper2", "VII")]
    assert all("--preset" in c[1] and "demo" in c[1] for c in calls[3:])


def test_a_failing_table_fails_the_job(calls, tmp_path):
    assert demo.main(["--tables", "paper1:BAD", "--results", str(tmp_path / "r")]) == 1


def test_bad_table_spec_is_a_clear_error(calls, tmp_path, capsys):
    for bad in ("paper1", "paper3:4"):
        assert demo.main(["--tables", "paper2:VII", bad, "--results", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"python -m replication: error: " in err and bad in err, err
    assert calls == []                        # refused before any step ran (no data generated)


def test_missing_data_stops_early(monkeypatch, tmp_path):
    monkeypatch.setattr(replication.data, "main", lambda argv: 3)
    monkeypatch.setattr(demo, "_runner", lambda paper: pytest.fail("must not train without data"))
    assert demo.main(["--results", str(tmp_path / "r")]) == 1


def test_plan_and_estimate_come_first_from_the_recorded_timing(calls, tmp_path, capsys, monkeypatch):
    timing = {"steps": {"data": 20.0, "shapes": 15.0, "paper1:6": 140.0, "paper2:VII": 250.0, "check": 5.0},
              "host": {"cpu_count": 2, "cpu_model": "Test CPU"}, "recorded": "2026-11-30"}
    monkeypatch.setattr(demo, "load_timing", lambda: timing)
    assert demo.main(["--results", str(tmp_path / "r"), "--data-root", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert out.index("Plan of the main job") < out.index("=== demo dataset")
    assert "generate + verify  (~0.3 min)" in out and "Estimate: ~7 min" in out and "Test CPU" in out
    # a table without a recorded time gives no made-up estimate
    demo.main(["--tables", "paper1:4", "--results", str(tmp_path / "r"), "--data-root", str(tmp_path / "none")])
    assert "Estimate: none recorded" in capsys.readouterr().out


def test_record_timing_writes_every_step(calls, tmp_path, monkeypatch):
    target = tmp_path / "timing.json"
    monkeypatch.setattr(demo, "TIMING_FILE", target)
    monkeypatch.setattr(demo, "_record_timing", lambda t, path=target: target.write_text(__import__("json").dumps(t)))
    assert demo.main(["--results", str(tmp_path / "r"), "--record-timing"]) == 0
    steps = __import__("json").loads(target.read_text())
    assert set(steps) == {"data", "shapes", "paper1:6", "paper2:VII"}      # no results: no check step


def test_headline_claims_show_this_run_beside_the_recorded_report(tmp_path):
    import json
    from replication.records import RunRecord, write_record
    for seed, (w, wo) in enumerate([(0.62, 0.60), (0.65, 0.61)]):
        for run, acc in (("spec_w_ts", w), ("spec_wo_ts", wo)):
            write_record(RunRecord(table="paper1/table6", run=run, preset="demo", seed=seed,
                                   metrics={"accuracy": acc}, dataset="demo", host={"t": 1}), tmp_path / "r")
    recorded = tmp_path / "docs" / "results" / "claims" / "claims.json"
    recorded.parent.mkdir(parents=True)
    recorded.write_text(json.dumps({"results": [
        {"claim_id": "p1-ts-beats-onehot-spec", "control": False, "mean": 1.5, "low": 0.2, "high": 2.8,
         "n": 5, "verdict": "reproduced", "levelled": True},
        {"claim_id": "p1-ts-beats-onehot-spec", "control": True, "mean": -0.5, "low": -2.0, "high": 1.0,
         "n": 5, "verdict": "inconclusive", "control_passes": True},
        {"claim_id": "p1-ts-beats-onehot-spec", "control": True, "signal": True, "mean": 2.0, "low": 0.5,
         "high": 3.5, "n": 5, "verdict": "reproduced", "control_passes": None}]}))
    text = demo.headline_claims(tmp_path / "r", ["paper1:6"], recorded, designed=())
    assert "premises design" not in text                                 # no premises report given
    line = next(l for l in text.splitlines() if "p1-ts-beats-onehot-spec" in l)
    assert "+3.0 [" in line and "(n=2)" in line                   # this run: mean of +2 and +4 points
    assert "+1.5 [+0.2, +2.8] (n=5) reproduced" in line and "inconclusive (passes)" in line
    assert line.rstrip().endswith("+2.0 [+0.5, +3.5] (n=5) reproduced")      # the teacher-signal row, kept apart
    assert "p1-ts-beats-onehot-raw" in text and "not recorded" in text   # arms without records: no number
    assert "FAILING negative control" not in text                       # every recorded control passes
    data = json.loads(recorded.read_text())
    data["results"][1].update(verdict="reproduced", control_passes=False)
    recorded.write_text(json.dumps(data))
    text = demo.headline_claims(tmp_path / "r", ["paper1:6"], recorded, designed=())
    assert "reproduced (FAILS)" in text and "FAILING negative control means" in text
    # the premises-design reports: their rows of the same claims, after this run's table
    designed = tmp_path / "premises.json"
    designed.write_text(json.dumps({"results": [
        {"claim_id": "p1-ts-beats-onehot-ensemble", "control": False, "mean": 5.3, "low": 3.5, "high": 7.2,
         "n": 5, "verdict": "reproduced", "levelled": False},
        {"claim_id": "p1-ts-beats-onehot-ensemble", "control": True, "signal": True, "mean": 50.5, "low": 46.2,
         "high": 54.8, "n": 5, "verdict": "reproduced", "control_passes": None},
        {"claim_id": "p2-not-in-these-tables", "control": False, "mean": 1.0, "low": None, "high": None,
         "n": 1, "verdict": "too few seeds"}]}))
    text = demo.headline_claims(tmp_path / "r", ["paper1:6"], recorded, designed=[designed, tmp_path / "absent.json"])
    head, _, premises = text.partition("premises design")
    assert premises and "p1-ts-beats-onehot-ensemble" in head             # the run's table comes first
    (row,) = [l for l in premises.splitlines() if "p1-ts-beats-onehot-ensemble" in l]
    assert "+5.3 [+3.5, +7.2] (n=5) reproduced, arms NOT levelled off" in row
    assert row.rstrip().endswith("+50.5 [+46.2, +54.8] (n=5) reproduced")
    assert "p1-ts-beats-onehot-spec" not in premises and "p2-not-in-these-tables" not in premises
