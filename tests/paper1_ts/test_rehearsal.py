"""`python -m paper1_ts.run --rehearse` (issue 14): the paper preset at full size on
generated DCASE 2018 1A data, records marked as a rehearsal, verdicts labelled, exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paper1_ts import experiments
from paper1_ts.params import resolve_params
from paper1_ts.rehearsal import paper_budget, rehearsal_params
from replication.rehearsal import CACHE_DIR, DATA_DIR, REHEARSAL_STEPS
from shared.config import to_dict
from shared.datasets.rehearsal_marker import MARKER_FILE
from tests.rehearsal_cost import run_rehearsal


def test_rehearsal_params_change_only_steps_data_and_roots(tmp_path):
    paper = resolve_params("paper")
    params = rehearsal_params(paper, str(tmp_path), None, generate=False)
    assert params.train.steps_per_epoch == REHEARSAL_STEPS
    assert (params.train.epochs, params.train.pool_epochs, params.train.gru_epochs) == (1, 1, 1)
    assert params.data.rehearsal and params.data.root == str(tmp_path / DATA_DIR / "dcase2018_task1a")
    assert params.data.cache_root == str(tmp_path / CACHE_DIR) and params.results_root == str(tmp_path)
    for part in ("models", "raw_features", "spec_features", "ts", "svm"):
        assert getattr(params, part) == getattr(paper, part), part
    assert (params.train.batch_size, params.train.learning_rate) == (paper.train.batch_size, paper.train.learning_rate)
    assert "rehearsal" in to_dict(params.data) and "rehearsal" not in to_dict(paper.data)
    assert paper_budget(params, paper).train == paper.train


def _records(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("paper1/*/*/seed-*/results.json"))]


def _smallest_table() -> experiments.TableSpec:
    """Table 1 narrowed to its raw-waveform row: one full-size raw CNN ((479999, 2) input),
    the cheapest full-size job measured here at batch 4 (54 s against 88 s for the CNN-GRU,
    which trains two steps: pool head, then GRU)."""
    table = experiments.TABLES["1"]
    return experiments.TableSpec(table.name, table.number, table.caption,
                                 tuple(r for r in table.runs if r.name == "raw_improved"),
                                 decisions=table.decisions)


def test_rehearse_smallest_full_size_job_through_the_command(tmp_path, monkeypatch, capsys):
    """One full-size raw CNN on generated data in the real format through `run.main`:
    batch 4 instead of 40 (--set) keeps it under a minute; everything else is the preset."""
    from paper1_ts import run

    monkeypatch.setitem(experiments.TABLES, "1", _smallest_table())
    code = run.main(["--table", "1", "--rehearse", "--results", str(tmp_path), "--no-estimate",
                     "--set", "train.batch_size=4", "--set", "svm.batch_size=4"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / DATA_DIR / "dcase2018_task1a" / MARKER_FILE).is_file()
    assert any((tmp_path / CACHE_DIR).iterdir())                     # features cached beside, not in data/cache
    records = _records(tmp_path)
    assert [r["run"] for r in records] == ["raw_improved"]
    record = records[0]
    assert record["preset"] == "paper" and record["dataset"] == "dcase2018_task1a"
    assert record["extra"]["rehearsal"]["steps_per_epoch"] == REHEARSAL_STEPS
    assert record["extra"]["evaluated_clips"] == 20                  # 2 clips x 10 scenes
    jobs = [json.loads(p.read_text()) for p in (tmp_path / "paper1" / "_store").glob("*/job.json")]
    assert len(jobs) == 1 and jobs[0]["description"]["data"]["rehearsal"] is True
    model = jobs[0]["description"]["model"]
    assert (model["input_length"], model["channels"]) == (479999, 2)          # full size
    assert "[rehearsal]" in out and "REHEARSAL" in out
    assert "rehearsal cost: no step measured" in out


@pytest.mark.slow
def test_rehearse_table6_through_the_command(tmp_path, capsys):
    """Paper 1's headline table, preset unchanged but for the steps: six full-size models
    (raw and spectrogram baselines, 20 s teachers, TS students) at batch 40."""
    from paper1_ts import run

    code, out = run_rehearsal("paper 1 Table 6", run.main,
                              ["--table", "6", "--rehearse", "--results", str(tmp_path)], capsys)
    assert code == 0, out
    runs = sorted(r["run"] for r in _records(tmp_path))
    assert runs == sorted(r.name for r in experiments.TABLES["6"].runs)
    assert all(r["extra"]["rehearsal"] for r in _records(tmp_path))
    assert "[rehearsal]" in out and "whole table at the paper's epoch budget" in out
