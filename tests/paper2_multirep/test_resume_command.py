"""Resume inside a job, at command level: `python -m paper2_multirep.run --table IV` killed
with SIGKILL in the middle of its cyclic job, then the same command again, ends with the
records and store entries of an uninterrupted run, bit for bit.

Table IV is the smallest table with a distilled job (3 jobs: two independent baselines,
then one 2-branch cyclic group); the data are cut to 20 training / 10 test clips of the
demo set and the budget to 2 cycles (each: 1 single-branch pass, fusion, 1 distillation
pass per branch; 78 s under load 3.8 on 2 cores). The job checkpoints after every phase into its work folder
<results>/paper2/_store/.work-<key>/ (ckpt-1 single, ckpt-2 fusion, ckpt-3 distillation of
cycle 1, ckpt-4..6 of cycle 2). The kill comes as soon as ckpt-5 (fusion of cycle 2) exists:
the process is then distilling cycle 2, so the rerun restores P_bar, the branches, the
optimizers, the mixup generators, the pass counters and the history of cycle 1, and
trains the rest. The uninterrupted run goes into another results root (at the same time,
to save wall time); metrics of every record and every array of every outputs.npz must be
equal, the history rows too (the logged total loss of a pass to 1e-6: register
shared-resume-tolerance).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.command_resume import (REPO, _env, kill_when, run_command, same_results, store_entries,
                                  work_folders)

DEMO = REPO / "data" / "datasets" / "demo"
STORE = "paper2/_store"
KILL_AFTER = "ckpt-5.index"          # fusion of cycle 2 saved: the kill lands in its distillation


def _command(results: Path, cache: Path) -> list[str]:
    return ["-m", "paper2_multirep.run", "--table", "IV", "--preset", "demo", "--seeds", "1",
            "--no-estimate", "--data-root", str(DEMO), "--results", str(results),
            "--set", "data.max_train_clips=20", "--set", "data.max_eval_clips=10",
            "--set", "training_overrides.optim.epochs=2", "--set", f"data.cache_root={cache}"]


def _cyclic_checkpoint(store: Path):
    """The cyclic job's work folder once KILL_AFTER is in it (and its entry is not stored)."""
    for work in work_folders(store):
        try:
            kind = json.loads((work / "job.json").read_text())["description"]["kind"]
        except (OSError, ValueError, KeyError):
            continue
        key = work.name[len(".work-"):]
        if kind == "cyclic" and (work / KILL_AFTER).exists() and not (store / key).exists():
            return work
    return None


def _history(payload: dict) -> list[dict]:
    return payload["info"]["history"]


def test_kill9_mid_cycle_then_the_same_command_gives_the_uninterrupted_records(tmp_path):
    if not DEMO.is_dir():
        subprocess.run([sys.executable, "-m", "replication.data", "prepare", "demo", "--root", str(DEMO)],
                       cwd=REPO, env=_env(), check=True)
    cache = tmp_path / "cache"
    resumed_root, reference_root = tmp_path / "resumed", tmp_path / "reference"
    with open(tmp_path / "reference.log", "w") as out:
        reference = subprocess.Popen([sys.executable, *_command(reference_root, cache)], cwd=REPO,
                                     env=_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            work = kill_when(_command(resumed_root, cache), tmp_path / "killed.log",
                             lambda: _cyclic_checkpoint(resumed_root / STORE))
            key = work.name[len(".work-"):]
            assert not (resumed_root / STORE / key).exists()          # killed inside the job
            assert not (work / "ckpt-6.index").exists()                 # before its last phase
            assert not list(resumed_root.rglob("results.json"))

            log = run_command(_command(resumed_root, cache), tmp_path / "rerun.log")
            assert f"resuming {key}" in log and "resumed from" in log, log[-3000:]
            assert "[1/1] training cyclic" in log                       # the baselines were reused
        finally:
            code = reference.wait(timeout=900)
    assert code in (0, 1), (tmp_path / "reference.log").read_text()[-3000:]

    assert work_folders(resumed_root / STORE) == []                    # removed on publishing
    entries = same_results(resumed_root, reference_root, STORE)
    got, want = _history(entries[key][1]), _history(store_entries(reference_root / STORE)[key][1])
    assert len(got) == len(want) == 8                                   # 2 cycles x 2 phases x 2 branches
    for mine, theirs in zip(got, want):
        assert {k: v for k, v in mine.items() if k != "loss"} == {k: v for k, v in theirs.items() if k != "loss"}
        np.testing.assert_allclose(mine["loss"], theirs["loss"], rtol=1e-6)
