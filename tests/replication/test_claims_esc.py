"""Paper 2's claims on an ESC-50-layout data set (replication/drivers/claims_esc.py), without
training: the ESC records of each held-out fold become Table VII records paired by (fold,
seed), validation records are never read, the ESC command gets the arms' and the control's
arguments, and options that do not apply are refused."""

from __future__ import annotations

import json

import pytest

from replication.drivers import claims as driver
from replication.drivers import claims_esc
from replication.records import RunRecord, write_record

DISTILLED, INDEPENDENT = "resnet_logmel64_distilled_with_vgg_mfcc", "resnet_logmel64"
CLAIM = "p2-vii-g1-resnet-logmel64-distilled-beats-independent"


def _record(root, table, run, seed, accuracy):
    write_record(RunRecord(table=table, run=run, preset="esc10", seed=seed, dataset="esc10",
                           metrics={"accuracy": accuracy, "map_at_3": None}), root)


def test_the_esc_group_has_exactly_the_table_vii_group_1_claims():
    from replication.claims_data import claims_of, load_claims
    runs = claims_esc.group_runs()
    assert {DISTILLED, INDEPENDENT, "vgg_mfcc", "vgg_mfcc_distilled_with_resnet_logmel64",
            "ensemble_resnet_logmel64_and_vgg_mfcc"} == runs
    ids = {c.id for c in claims_esc.esc_claims(claims_of(load_claims(), "paper2"), runs)}
    assert ids == {CLAIM, "p2-vii-g1-vgg-mfcc-distilled-beats-independent"}


def test_records_of_each_held_out_fold_are_paired_by_fold_and_seed(tmp_path, capsys):
    runs, control = tmp_path / "runs", tmp_path / "control"
    for fold, gain in ((1, 0.02), (2, 0.04)):
        for seed in range(2):
            _record(runs, f"esc10/fold{fold}", DISTILLED, seed, 0.70 + gain + 0.01 * seed)
            _record(runs, f"esc10/fold{fold}", INDEPENDENT, seed, 0.70)
            _record(control, f"esc10/fold{fold}", DISTILLED, seed, 0.70 + 0.005 * (-1) ** seed)
            _record(control, f"esc10/fold{fold}", INDEPENDENT, seed, 0.70)
    _record(runs, "esc10-val/fold1", DISTILLED, 0, 0.10)       # a validation score: never a claim's
    _record(runs, "esc10/fold3", DISTILLED, 0, 0.10)           # a fold not asked for
    found = claims_esc.esc_records(runs, "esc10", [1, 2])
    assert len(found) == 8 and {r.table for _, r in found} == {claims_esc.ESC_TABLE}
    assert {(r.extra["fold"], r.seed) for _, r in found} == {(f, s) for f in (1, 2) for s in (0, 1)}
    argv = ["--paper", "2", "--dataset", "esc10", "--folds", "1", "2", "--claims", CLAIM, "--report-only",
            "--control", "--seeds", "2", "--results", str(tmp_path)]
    assert driver.main(argv) == 0
    main, ctrl, signal = json.loads((tmp_path / "claims.json").read_text())["results"]
    assert main["n"] == 4 and main["differences"] == pytest.approx([2.0, 3.0, 4.0, 5.0])
    assert ctrl["control_passes"] and signal["n"] == 4
    out = capsys.readouterr().out
    assert "esc10 data, held-out folds 1, 2, preset esc10" in out


def test_the_esc_command_gets_the_arms_and_the_control(tmp_path):
    args = driver.build_parser().parse_args(
        ["--paper", "2", "--dataset", "esc10", "--data-root", str(tmp_path), "--folds", "1", "2",
         "--seeds", "3", "--control", "--set", "training_overrides.optim.epochs=15"])
    claims_esc.check_args(args)                                 # fills in --esc-preset esc10
    calls, shared = [], []
    failures = claims_esc.run_arms(args, tmp_path / "runs", tmp_path / "control",
                                   lambda argv: calls.append(list(argv)) or 0,
                                   lambda a, b: shared.append((a, b)), echo=lambda _: None)
    assert failures == [] and shared == [(tmp_path / "runs", tmp_path / "control")]
    runs, control = calls
    assert runs[:2] == ["--dataset", "esc10"] and "--validate" not in runs
    assert runs[runs.index("--preset") + 1] == "esc10"
    assert runs[runs.index("--folds") + 1:runs.index("--folds") + 3] == ["1", "2"]
    assert runs[runs.index("--results") + 1] == str(tmp_path / "runs")
    assert "training_overrides.optim.epochs=15" in runs and claims_esc.CONTROL_SET not in runs
    assert control[control.index("--results") + 1] == str(tmp_path / "control")
    assert claims_esc.CONTROL_SET in control and "training_overrides.optim.epochs=15" in control


@pytest.mark.parametrize("extra, message", [
    (["--paper", "1"], "paper 2's claims only"),
    (["--paper", "2", "--budget", "levelled"], "--budget applies to the demo data"),
    (["--paper", "2", "--equal-budget"], "esc10 preset already trains"),
    (["--paper", "2", "--folds", "6"], "ESC-50 folds are 1..5"),
    (["--paper", "2", "--folds", "1", "1"], "each once"),
    (["--paper", "2", "--data-root", "/no/such/dir"], "not a directory"),
])
def test_options_that_do_not_apply_are_one_error(tmp_path, capsys, extra, message):
    argv = ["--dataset", "esc10", "--data-root", str(tmp_path), *extra]
    assert driver.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--folds", "2"], ["--esc-preset", "esc10"], ["--set", "seeds=2"]])
def test_esc_options_on_the_demo_are_one_error(capsys, extra):
    assert driver.main(["--paper", "2", "--report-only", *extra]) == 2
    assert "apply to --dataset esc10 / esc50 only" in capsys.readouterr().err
