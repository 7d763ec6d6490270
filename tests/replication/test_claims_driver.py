"""The claims driver (replication/drivers/claims.py) without training: the control overlays
resolve to the demo presets plus the permuted switch, and --report-only pairs records
found under <results>/runs, <results>/control and <results>/equal_budget, with each
arm's levelling read from the job stores the records name."""

from __future__ import annotations

import json

import pytest

from replication.drivers import claims as driver
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
    main, control, signal = data["results"]
    assert (main["verdict"], main["n"], control["control_passes"]) == ("reproduced", 3, True)
    assert signal["signal"] and signal["differences"] == pytest.approx([1.0, 4.0, 3.5])   # claim minus control
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
    from replication.drivers.claims import STORE_DIRS, share_stores
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


EB_CLAIM = "p2-vii-g1-resnet-logmel64-distilled-beats-independent"


def _p2_record(root, run, seed, accuracy, job):
    rec = RunRecord(table="paper2/tableVII", run=run, preset="demo", seed=seed,
                    metrics={"accuracy": accuracy, "map_at_3": None}, dataset="demo",
                    extra={"kind": "distilled" if "_distilled_with_" in run else "independent",
                           "job": job, "branches": [0]})
    write_record(rec, root)


def test_report_only_pairs_equal_budget_arms_from_their_own_root(tmp_path, capsys):
    """The faithful claim pairs runs/ with runs/; its equal-budget twin pairs the distilled
    branch of runs/ with the independent branch of equal_budget/ (same seeds). The loss
    curves are read through equal_budget/'s store link to runs/' store."""
    from replication.drivers.claims import share_stores
    from replication.store import JobStore
    distilled = "resnet_logmel64_distilled_with_vgg_mfcc"
    share_stores(tmp_path / "runs", tmp_path / "equal_budget")
    store = JobStore(tmp_path / "runs" / "paper2" / "_store")
    flat = [{"cycle": q, "phase": "distill", "branch": 0, "pass": q, "lr": 0.1, "loss": 1.0, "ce": 1.0, "kl": 0.0}
            for q in range(16)]
    falling = [{**r, "phase": "independent", "ce": 2.0 - 0.05 * r["cycle"]} for r in flat]
    store.save("cyc", {}, {"x": [0]}, {"history": flat})
    store.save("ind16", {}, {"x": [0]}, {"history": falling})
    for seed in range(3):
        _p2_record(tmp_path / "runs", distilled, seed, 0.70 + 0.01 * seed, "cyc")
        _p2_record(tmp_path / "runs", "resnet_logmel64", seed, 0.60, "ind8")
        _p2_record(tmp_path / "equal_budget", "resnet_logmel64", seed, 0.72, "ind16")
    base = ["--paper", "2", "--report-only", "--seeds", "3", "--results", str(tmp_path),
            "--claims", EB_CLAIM, EB_CLAIM + "-equal-budget"]
    # without --equal-budget the twin is left out (said so), the faithful claim reported
    assert driver.main(base) == 0
    assert "1 claim(s) with an equal-budget arm left out" in capsys.readouterr().out
    assert [r["claim_id"] for r in json.loads((tmp_path / "claims.json").read_text())["results"]] == [EB_CLAIM]
    assert driver.main(base + ["--equal-budget"]) == 0
    faithful, twin = json.loads((tmp_path / "claims.json").read_text())["results"]
    assert (faithful["claim_id"], faithful["verdict"]) == (EB_CLAIM, "reproduced")
    assert faithful["mean"] == pytest.approx(11.0)
    assert twin["claim_id"] == EB_CLAIM + "-equal-budget" and twin["n"] == 3
    assert twin["verdict"] == "inconclusive" and twin["mean"] == pytest.approx(-1.0)
    assert twin["published"] == faithful["published"]
    assert "[equal budget]" in twin["arms"]
    # levelling: the distilled branch levelled off; the faithful baseline's job is not in the
    # store (unknown); the equal-budget baseline (read via the link) still falls
    assert [a["levelled"] for a in faithful["levelling"]] == [True, None]
    assert [a["levelled"] for a in twin["levelling"]] == [True, False]
    assert "not evidence either way" in (tmp_path / "claims.md").read_text()



def test_the_as_printed_overlay_flips_eq3_only(tmp_path):
    from paper1_ts.params import resolve_params as p1_params
    from shared.config import to_dict
    p1 = p1_params(str(driver.write_overlay("paper1", tmp_path, "as_printed")))
    demo = p1_params("demo")
    assert (p1.ts.teacher_mode, demo.ts.teacher_mode) == ("as_printed", "hinton")
    assert {**to_dict(p1.ts), "teacher_mode": None} == {**to_dict(demo.ts), "teacher_mode": None}
    assert {**to_dict(p1), "ts": None} == {**to_dict(demo), "ts": None}


AP_CLAIM = "p1-output-ts-beats-onehot-spec"


def test_report_only_pairs_as_printed_arms_from_their_own_root(tmp_path, capsys):
    """The faithful claim pairs Table 4's TS student of runs/ with Table 6's one-hot model of
    runs/; its as-printed twin takes the TS student from as_printed/ and the one-hot model
    (which does not read Eq. (3)) from runs/."""
    def rec(root, table, run, seed, accuracy):
        write_record(RunRecord(table=table, run=run, preset="demo", seed=seed,
                               metrics={"accuracy": accuracy, "map_at_3": None}, dataset="demo"), root)
    for seed in range(3):
        rec(tmp_path / "runs", "paper1/table4", "T5_teacher20s", seed, 0.66 + 0.01 * seed)
        rec(tmp_path / "runs", "paper1/table6", "spec_wo_ts", seed, 0.60)
        rec(tmp_path / "as_printed", "paper1/table4", "T5_teacher20s", seed, 0.56 + 0.01 * seed)
    base = ["--paper", "1", "--report-only", "--seeds", "3", "--results", str(tmp_path),
            "--claims", AP_CLAIM, AP_CLAIM + "-as-printed"]
    assert driver.main(base) == 0
    assert "1 claim(s) with an as-printed arm left out (pass --as-printed)" in capsys.readouterr().out
    assert driver.main(base + ["--as-printed"]) == 0
    faithful, twin = json.loads((tmp_path / "claims.json").read_text())["results"]
    assert (faithful["verdict"], faithful["mean"]) == ("reproduced", pytest.approx(7.0))
    assert twin["claim_id"] == AP_CLAIM + "-as-printed" and twin["n"] == 3
    assert (twin["verdict"], twin["mean"]) == ("contradicted", pytest.approx(-3.0))
    assert "[as printed]" in twin["arms"] and twin["published"] == faithful["published"]


def test_claims_with_a_variant_arm_are_selected_only_when_asked():
    from replication.claims_data import load_claims
    claims = load_claims()
    plain = driver.select_claims(claims, ["paper2/tableVII"], None)       # as the main job's headline calls it
    assert plain and not any(a.variant for c in plain for a in c.arms)
    both = driver.select_claims(claims, ["paper2/tableVII"], None, ["equal_budget"])
    assert len(both) - len(plain) == 4 and all(c.printed == ("VII",) for c in both)


def test_publish_puts_the_report_into_a_marked_section_with_a_relative_plot_link(tmp_path):
    from replication.drivers.claims import publish
    out = tmp_path / "docs" / "claims"
    out.mkdir(parents=True)
    md = out / "claims.md"
    md.write_text("## Claims (demo)\n\n| a |\n\n![forest plot](claims.png)\n")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- BEGIN claims -->\nold\n<!-- END claims -->\nrest\n")
    publish({"markdown": md, "plot": out / "claims.png"}, readme, "claims")
    text = readme.read_text()
    assert "old" not in text and "#### Claims (demo)" in text
    assert "![forest plot](docs/claims/claims.png)" in text and text.endswith("rest\n")


def test_a_budget_overlays_every_arm_and_the_control_switch_stays_on_top(tmp_path):
    from paper1_ts.params import resolve_params as p1_params
    budgets = tmp_path / "budgets"
    budgets.mkdir()
    (budgets / "longer.yaml").write_text("note: test\npaper1:\n  train: {epochs: 9, gru_epochs: 3}\n")
    overlay = driver.load_budget("longer", budgets)
    assert overlay == {"paper1": {"train": {"epochs": 9, "gru_epochs": 3}}, "paper2": {}}
    arms = p1_params(str(driver.write_overlay("paper1", tmp_path, None, "longer", overlay["paper1"])))
    control = p1_params(str(driver.write_overlay("paper1", tmp_path, "permuted", "longer", overlay["paper1"])))
    demo = p1_params("demo")
    assert (arms.train.epochs, arms.train.gru_epochs, arms.train.pool_epochs) == (9, 3, demo.train.pool_epochs)
    assert arms.ts.teacher_signal == demo.ts.teacher_signal != "permuted"
    assert (control.train, control.ts.teacher_signal) == (arms.train, "permuted")
    assert driver.load_budget("demo", budgets) == {"paper1": {}, "paper2": {}}


def test_unknown_budget_and_bad_budget_files_are_refused(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("paper3: {}\n")
    with pytest.raises(ValueError, match=r"unknown budget 'nope' \(known: demo, bad\)"):
        driver.load_budget("nope", tmp_path)
    with pytest.raises(ValueError, match=r"bad.yaml: unknown key\(s\) paper3"):
        driver.load_budget("bad", tmp_path)
    (tmp_path / "bad.yaml").write_text("paper1: [1, 2]\n")
    with pytest.raises(ValueError, match="'paper1' must be a mapping"):
        driver.load_budget("bad", tmp_path)
    assert driver.main(["--budget", "no-such-budget", "--report-only"]) == 2
    assert "unknown budget 'no-such-budget'" in capsys.readouterr().err


def test_demo_options_reach_the_data_step(tmp_path, monkeypatch):
    """--demo-opt fields go to `replication.data prepare demo --opt`; a failing data step stops the driver."""
    import replication.data
    seen = []
    monkeypatch.setattr(replication.data, "main", lambda argv: seen.append(list(argv)) or 1)
    argv = ["--paper", "2", "--tables", "paper2/tableVII", "--seeds", "2", "--results", str(tmp_path / "r"),
            "--data-root", str(tmp_path / "d"), "--demo-opt", "design=premises", "--demo-opt", "seed=3"]
    assert driver.main(argv) == 1
    assert seen == [["prepare", "demo", "--root", str(tmp_path / "d"),
                     "--opt", "design=premises", "--opt", "seed=3"]]
    assert not (tmp_path / "r" / "runs").exists()          # nothing trained after the data step failed
