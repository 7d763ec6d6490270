"""Resume inside a job, at command level: `python -m paper1_ts.run --table N` killed with
SIGKILL in the middle of a job, then the same command again, ends with the records and
store entries (the SVM back-end's embeddings, logits) of an uninterrupted run, bit for bit.

The preset is the demo preset written to tmp_path with 2 training / 1 evaluation clip
per class (20 / 10), slim models and a budget of 2 epochs (raw CNN) and 1 + 1 (CNN-GRU
pooling head + GRU), features cached under tmp_path; --no-estimate skips the timed
training step (68 s for the default case under load 3.3 on 2 cores). Every job checkpoints each epoch
into its work folder <results>/paper1/_store/.work-<key>/ (two-step jobs: step1/, step2/).
  - Table 1 (default): 2 jobs, raw CNN then CNN-GRU; the kill comes as soon as the first
    job's epoch-1 checkpoint exists, so the process is in its epoch 2.
  - Table 5 (slow): a 20 s teacher and three TS students; the kill comes in the first
    student (teacher reloaded from the store, TS trainer restored) once its step 1 is
    checkpointed.
The uninterrupted run goes into another results root at the same time (wall time);
record metrics, every array of every outputs.npz and the training histories must be equal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.command_resume import (REPO, _env, kill_when, run_command, same_results, store_entries,
                                  work_folders)

DEMO = REPO / "data" / "datasets" / "demo"
STORE = "paper1/_store"


def _preset(tmp_path: Path) -> Path:
    preset = yaml.safe_load((REPO / "paper1_ts" / "presets" / "demo.yaml").read_text())
    preset["data"].update(train_per_class=2, eval_per_class=1, cache_root=str(tmp_path / "cache"))
    preset["train"].update(epochs=2, pool_epochs=1, gru_epochs=1)
    preset["models"]["raw_cnn"].update(conv1_filters=4, res_filters=[4] * 7)
    preset["models"]["cnn_gru"].update(conv1_filters=4, res_filters=[4, 4, 8], res4_filters=8, gru_units=8)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(preset))
    return path


def _command(table: str, preset: Path, results: Path) -> list[str]:
    return ["-m", "paper1_ts.run", "--table", table, "--preset", str(preset), "--no-estimate",
            "--data-root", str(DEMO), "--results", str(results)]


def _kill_point(store: Path, student: bool):
    """The work folder of the job being trained once it holds an epoch-1 checkpoint (of the
    first job; with `student`, of the first TS student), while its entry is not stored."""
    for work in work_folders(store):
        try:
            description = json.loads((work / "job.json").read_text())["description"]
        except (OSError, ValueError, KeyError):
            continue
        key = work.name[len(".work-"):]
        if (student and description.get("ts") is None) or (store / key).exists():
            continue
        if (work / "ckpt-1.index").exists() or (work / "step1" / "ckpt-1.index").exists():
            return work
    return None


@pytest.mark.parametrize("table, student", [
    ("1", False),
    pytest.param("5", True, marks=pytest.mark.slow)])
def test_kill9_mid_job_then_the_same_command_gives_the_uninterrupted_records(tmp_path, table, student):
    if not DEMO.is_dir():
        subprocess.run([sys.executable, "-m", "replication.data", "prepare", "demo", "--root", str(DEMO)],
                       cwd=REPO, env=_env(), check=True)
    preset = _preset(tmp_path)
    resumed_root, reference_root = tmp_path / "resumed", tmp_path / "reference"
    with open(tmp_path / "reference.log", "w") as out:
        reference = subprocess.Popen([sys.executable, *_command(table, preset, reference_root)],
                                     cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            work = kill_when(_command(table, preset, resumed_root), tmp_path / "killed.log",
                             lambda: _kill_point(resumed_root / STORE, student))
            key = work.name[len(".work-"):]
            assert not (resumed_root / STORE / key).exists()           # killed inside the job
            assert not list(resumed_root.rglob("results.json"))

            log = run_command(_command(table, preset, resumed_root), tmp_path / "rerun.log")
            assert f"resuming {key}" in log, log[-3000:]
        finally:
            code = reference.wait(timeout=900)
    assert code in (0, 1), (tmp_path / "reference.log").read_text()[-3000:]

    assert work_folders(resumed_root / STORE) == []                   # removed on publishing
    entries = same_results(resumed_root, reference_root, STORE)
    reference_entries = store_entries(reference_root / STORE)
    for name, (_, payload) in entries.items():                        # per-epoch histories too
        assert payload["info"]["history"] == reference_entries[name][1]["info"]["history"], name
