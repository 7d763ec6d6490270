"""Run records published as one unit (issue 13): one winner among concurrent writers,
matched results.json/config.yaml pairs, no replacement without overwrite, existing
records refused before training by both papers, stale record staging removed."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest
import yaml

from replication.records import (RecordExistsError, RunRecord, find_records, read_record,
                                 refuse_existing_records, run_dir, staging_prefix, write_record)
from shared.publish import OWNER_FILE
from tests import publish_children as children

SPAWN = multiprocessing.get_context("spawn")
ROUNDS = 5


def _record(run: str = "T5_teacher20s", seed: int = 0, writer: str = "me") -> RunRecord:
    return RunRecord(table="paper1/table4", run=run, preset="demo", seed=seed,
                     metrics={"accuracy": 0.5}, extra={"writer": writer}, host={"test": True})


def _pair(directory: Path) -> tuple[str, str]:
    """(writer in results.json, writer in config.yaml) of a record directory."""
    results = json.loads((directory / "results.json").read_text())
    config = yaml.safe_load((directory / "config.yaml").read_text())
    return results["extra"]["writer"], config["writer"]


def test_two_processes_writing_the_same_records_one_wins_each_and_pairs_match(tmp_path):
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=children.race_records, args=(str(tmp_path), w, ROUNDS, barrier, results))
             for w in ("A", "B")]
    for p in procs:
        p.start()
    outcome = [results.get(timeout=children.WAIT_S) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(children.WAIT_S)
        assert p.exitcode == 0
    for r in range(ROUNDS):
        directory = run_dir(tmp_path, "paper1/table4", f"race{r}", 0)
        this = [o for o in outcome if o[1] == r]
        winners = [w for w, _, status, _ in this if status == "won"]
        losers = [(status, msg) for _, _, status, msg in this if status != "won"]
        assert len(winners) == 1 and len(losers) == 1, this
        assert losers[0][0] == "RecordExistsError"
        assert str(directory / "results.json") in losers[0][1] and "--overwrite" in losers[0][1]
        assert _pair(directory) == (winners[0], winners[0])            # a matched pair
        assert sorted(p.name for p in directory.parent.iterdir()) == ["seed-0"]   # no staging left


def test_an_existing_record_is_not_replaced_without_overwrite(tmp_path):
    path = write_record(_record(writer="first"), tmp_path, config={"writer": "first"})
    with pytest.raises(RecordExistsError, match=str(path)):
        write_record(_record(writer="second"), tmp_path, config={"writer": "second"})
    assert _pair(path.parent) == ("first", "first")
    write_record(_record(writer="second"), tmp_path, config={"writer": "second"}, overwrite=True)
    assert _pair(path.parent) == ("second", "second")
    assert sorted(p.name for p in path.parent.parent.iterdir()) == ["seed-0"]


def test_a_record_published_while_writing_is_kept_and_reported(tmp_path, monkeypatch):
    directory = run_dir(tmp_path, "paper1/table4", "T5_teacher20s", 0)
    real = os.rename
    raced = []

    def rename(src, dst):        # another run publishes between our checks and our rename
        if Path(dst) == directory and not raced:
            raced.append(dst)
            write_record(_record(writer="other"), tmp_path, config={"writer": "other"})
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(RecordExistsError, match="another run published this record") as info:
        write_record(_record(writer="me"), tmp_path, config={"writer": "me"})
    assert str(directory / "results.json") in str(info.value)
    assert _pair(directory) == ("other", "other")


def test_refusal_names_every_existing_record_in_one_message(tmp_path):
    keys = [("paper1/table4", run, seed) for run in ("a", "b") for seed in (0, 1)]
    for run, seed in (("a", 1), ("b", 0)):
        write_record(_record(run, seed), tmp_path)
    with pytest.raises(RecordExistsError) as info:
        refuse_existing_records(tmp_path, keys, echo=None)
    message = str(info.value)
    assert message.startswith("2 of the 4 run record(s) this command writes already exist")
    for run, seed in (("a", 1), ("b", 0)):
        assert str(run_dir(tmp_path, "paper1/table4", run, seed) / "results.json") in message
    assert "--overwrite" in message
    assert len(refuse_existing_records(tmp_path, keys, overwrite=True, echo=None)) == 2
    assert refuse_existing_records(tmp_path / "empty", keys, echo=None) == []


def test_stale_record_staging_is_removed_live_kept_and_never_read(tmp_path):
    dead = SPAWN.Process(target=os.getpid)
    dead.start()
    dead.join(children.WAIT_S)
    run_folder = run_dir(tmp_path, "paper1/table4", "a", 0).parent
    holders = {}
    for name, pid in (("dead", dead.pid), ("live", os.getppid())):
        holder = run_folder / f"{staging_prefix('seed-0')}{pid}-{name}xxxx"
        (holder / "seed-0").mkdir(parents=True)
        (holder / "seed-0" / "results.json").write_text(_record("a").to_json())
        (holder / OWNER_FILE).write_text(json.dumps({"pid": pid}))
        holders[name] = holder
    assert find_records([tmp_path]) == []              # staging is never read as a record
    lines: list[str] = []
    assert refuse_existing_records(tmp_path, [("paper1/table4", "a", 0)], echo=lines.append) == []
    assert lines == [f"removed stale staging folder {holders['dead']} (its process is gone)"]
    assert not holders["dead"].exists() and holders["live"].exists()


# ----------------------------------------------------------------------------- paper 2
def _fail_if_called(*args, **kwargs):
    raise AssertionError("training started although a record exists")


@pytest.fixture()
def tiny_demo(tmp_path):
    from shared.datasets import demo
    root = tmp_path / "demo"
    demo.generate(root, demo.with_params(train_per_class=1, evaluate_per_class=1, clip_seconds=1.0),
                  progress=False)
    return root


def test_paper2_refuses_an_existing_record_before_training(tmp_path, tiny_demo, monkeypatch, capsys):
    from paper2_multirep import run as p2run
    from paper2_multirep import table_backend as backend
    from paper2_multirep import tables
    from paper2_multirep.experiments import table_by_number

    results = tmp_path / "results"
    table = table_by_number("VII")
    name, run, seed = tables.record_keys(table, 1)[-1]
    existing = write_record(RunRecord(table=name, run=run, preset="demo", seed=seed,
                                      metrics={"accuracy": 0.30}, host={"test": True}), results)
    before = existing.read_text()
    for module, attr in ((backend, "train_job"), (backend, "measure_epoch_seconds"),
                         (tables, "execute_job")):
        monkeypatch.setattr(module, attr, _fail_if_called)
    code = p2run.main(["--table", "VII", "--preset", "demo", "--data-root", str(tiny_demo),
                       "--results", str(results), "--seeds", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(existing) in err and "--overwrite" in err and "Nothing was trained" in err
    assert existing.read_text() == before                    # the 0.30 record is untouched
    assert [p for p, _ in find_records([results])] == [existing]


def test_paper2_esc_refuses_every_fold_before_the_first_trains(tmp_path, monkeypatch):
    from paper2_multirep import esc, tables

    params = tables.resolve_params("demo", {"results_root": str(tmp_path)})
    fold2 = esc.esc_table("esc10", 2, esc.parse_branches(esc.DEFAULT_BRANCHES))
    name, run, seed = tables.record_keys(fold2, 1)[0]
    existing = write_record(RunRecord(table=name, run=run, preset="demo", seed=seed,
                                      metrics={"accuracy": 0.3}, host={"test": True}), tmp_path)
    monkeypatch.setattr(tables, "run_table", _fail_if_called)
    with pytest.raises(RecordExistsError, match=str(existing)):
        esc.run_esc(params, dataset="esc10", data_root=str(tmp_path / "esc"), folds=[1, 2], seeds=1,
                    log=lambda s: None)
