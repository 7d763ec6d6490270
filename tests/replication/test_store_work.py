"""Work folders of the job store (replication/store.py): where a job's checkpoints live
until its entry is published, found again by a rerun of the same job."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from replication.store import JobStore, WorkInUseError
from shared.publish import OWNER_FILE


def test_open_work_creates_finds_and_save_removes_it(tmp_path):
    store = JobStore(tmp_path)
    work, resumed = store.open_work("k1", {"x": 1})
    assert work == tmp_path / ".work-k1" and work.is_dir() and not resumed
    assert json.loads((work / "job.json").read_text()) == {"key": "k1", "description": {"x": 1}}
    assert not store.has("k1")                         # a work folder is not an entry

    again, resumed = store.open_work("k1", {"x": 1})   # nothing saved yet: not a resume
    assert again == work and not resumed
    (work / "tensorboard").mkdir()                     # live curves of a killed run's first pass
    assert store.open_work("k1", {"x": 1}) == (work, False)
    (work / "step1").mkdir()
    (work / "step1" / "ckpt-1.index").write_bytes(b"")
    assert store.open_work("k1", {"x": 1}) == (work, True)

    other, _ = store.open_work("k2", {"x": 2})
    store.save("k1", {"x": 1}, {"y": np.zeros(1)}, {})
    assert store.has("k1") and not work.exists()       # published: its checkpoints go
    assert other.is_dir()                               # another job's folder is not touched


def test_a_work_folder_of_another_description_is_refused(tmp_path):
    store = JobStore(tmp_path)
    store.open_work("k", {"x": 1})
    with pytest.raises(ValueError, match=r"\.work-k.*describes another job"):
        store.open_work("k", {"x": 2})


def test_a_live_other_process_owning_the_folder_is_refused_a_dead_one_is_not(tmp_path):
    store = JobStore(tmp_path)
    work, _ = store.open_work("k", {})
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = json.loads((work / OWNER_FILE).read_text())
        (work / OWNER_FILE).write_text(json.dumps({**owner, "pid": sleeper.pid, "start": None}))
        with pytest.raises(WorkInUseError, match=rf"\.work-k: process {sleeper.pid} is training") as err:
            store.open_work("k", {})
        assert isinstance(err.value, FileExistsError)   # the commands' one-line errors (shared/cli.py)
        # the same claim copied with the store to another path (a multi-worker's private copy)
        (work / OWNER_FILE).write_text(json.dumps({**owner, "pid": sleeper.pid, "start": None,
                                                   "path": str(tmp_path / "elsewhere")}))
        assert store.open_work("k", {})[0] == work
        (work / OWNER_FILE).write_text(json.dumps({**owner, "pid": sleeper.pid, "start": None}))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert store.open_work("k", {})[0] == work          # its process is gone: taken over
    assert json.loads((work / OWNER_FILE).read_text())["pid"] == os.getpid()
