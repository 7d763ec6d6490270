"""Demo references carry the config fingerprint of their runs; other configs get no reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replication.check import CheckError, check_records, main, record_demo_reference
from replication.fingerprint import differing_fields, fingerprint, flatten
from replication.records import RunRecord, find_records, write_record


def _config(epochs=10, per_class=0, results="results"):
    return {"train": {"epochs": epochs, "verbose": 0}, "data": {"train_per_class": per_class},
            "results_root": results}


def _write(root: Path, config, seed=0, accuracy=0.4, run="raw_improved"):
    extra = {} if config is None else {"config": fingerprint(config, ignore=("results_root", "train.verbose"))}
    rec = RunRecord(table="paper1/table1", run=run, preset="demo", seed=seed,
                    metrics={"accuracy": accuracy, "map_at_3": None}, extra=extra, host={"test": True})
    return write_record(rec, root)


def test_fingerprint_ignores_listed_keys_and_names_differences():
    a = fingerprint(_config(), ignore=("results_root", "train.verbose"))
    b = fingerprint(_config(results="elsewhere"), ignore=("results_root", "train.verbose"))
    c = fingerprint(_config(epochs=1), ignore=("results_root", "train.verbose"))
    assert a == b and a["hash"] != c["hash"]
    assert "results_root" not in a["fields"] and a["fields"]["train.epochs"] == 10
    assert differing_fields(c["fields"], a["fields"]) == ["train.epochs: 1 (reference: 10)"]
    assert flatten({"x": (1, 2)}) == {"x": [1, 2]}


def test_reference_stores_config_and_other_configs_get_no_reference(tmp_path, capsys):
    ref = tmp_path / "ref"
    for seed, acc in enumerate((0.40, 0.42, 0.41, 0.43, 0.39)):
        _write(tmp_path / "full", _config(), seed=seed, accuracy=acc)
    record_demo_reference(find_records([tmp_path / "full"]), ref, commit="abc")
    entry = json.loads((ref / "paper1_table1.json").read_text())["runs"]["raw_improved"]
    assert entry["config"]["hash"] and entry["config"]["fields"]["train.epochs"] == 10
    assert entry["metrics"]["accuracy"]["per_seed"] == {"0": 40.0, "1": 42.0, "2": 41.0, "3": 43.0, "4": 39.0}
    # Same config (other results root): compared as before.
    _write(tmp_path / "same", _config(results="x"), accuracy=0.41)
    row = check_records(find_records([tmp_path / "same"]), reference_dir=ref).rows[0]
    assert row.verdict == "within" and row.reason == ""
    # A much worse run under ANOTHER config is not a regression: it has no reference.
    _write(tmp_path / "tiny", _config(epochs=1, per_class=2), accuracy=0.10)
    report = check_records(find_records([tmp_path / "tiny"]), reference_dir=ref)
    row = report.rows[0]
    assert row.verdict == "no reference" and row.reference is None and report.exit_code == 0
    assert row.reason.startswith("config differs:") and "train.epochs: 1 (reference: 10)" in row.reason
    assert any("no reference (config differs" in n for n in report.notes)
    assert main([str(tmp_path / "tiny"), "--reference-dir", str(ref)]) == 0
    assert "config differs" in capsys.readouterr().out
    # The same worse run under the reference's config does regress.
    _write(tmp_path / "worse", _config(), accuracy=0.10)
    assert check_records(find_records([tmp_path / "worse"]), reference_dir=ref).exit_code == 1


def test_record_without_config_against_a_fingerprinted_reference(tmp_path):
    ref = tmp_path / "ref"
    _write(tmp_path / "full", _config())
    record_demo_reference(find_records([tmp_path / "full"]), ref, commit="abc", min_seeds=1)
    _write(tmp_path / "old", None, accuracy=0.1)
    row = check_records(find_records([tmp_path / "old"]), reference_dir=ref).rows[0]
    assert row.verdict == "no reference" and row.reason.startswith("config unknown")


def test_reference_refuses_seeds_of_different_configs(tmp_path):
    _write(tmp_path / "mix", _config(), seed=0)
    _write(tmp_path / "mix", _config(epochs=3), seed=1)
    with pytest.raises(CheckError, match="different configs"):
        record_demo_reference(find_records([tmp_path / "mix"]), tmp_path / "ref", commit="abc", min_seeds=1)


def test_malformed_reference_config_names_the_file(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "paper1_table1.json").write_text(json.dumps({
        "table": "paper1/table1", "preset": "demo", "abs_tol": 1.5,
        "runs": {"raw_improved": {"config": "abc", "metrics": {"accuracy": {"mean": 40.0}}}}}))
    _write(tmp_path / "d", _config())
    with pytest.raises(CheckError, match="paper1_table1.json.*config"):
        check_records(find_records([tmp_path / "d"]), reference_dir=ref)
