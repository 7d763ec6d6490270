from __future__ import annotations

import json

import numpy as np
import pytest

from replication.store import JOB, WEIGHTS, JobStore, describe_key


def test_key_is_stable_and_order_free():
    assert describe_key({"a": 1, "b": [1, 2]}) == describe_key({"b": [1, 2], "a": 1})
    assert describe_key({"a": 1}) != describe_key({"a": 2})


def test_save_load_round_trip_with_and_without_weights(tmp_path):
    store = JobStore(tmp_path)
    store.save("k1", {"x": 1}, {"emb": np.arange(6.0).reshape(2, 3)}, {"secs": 1.5})
    assert store.has("k1") and not store.has("k1", weights=True)
    with pytest.raises(FileNotFoundError):
        store.weights_path("k1")
    outputs, payload = store.load("k1")
    np.testing.assert_array_equal(outputs["emb"], np.arange(6.0).reshape(2, 3))
    assert payload["description"] == {"x": 1} and payload["info"] == {"secs": 1.5}

    store.save("k2", {"x": 2}, {"y": np.zeros(1)}, {},
               save_weights=lambda p: p.write_bytes(b"weights"))
    assert store.has("k2", weights=True)
    assert store.weights_path("k2").read_bytes() == b"weights"


def test_a_crash_mid_save_leaves_no_entry(tmp_path):
    store = JobStore(tmp_path)

    def boom(path):
        raise KeyboardInterrupt  # e.g. the user hits Ctrl-C while weights are written

    with pytest.raises(KeyboardInterrupt):
        store.save("k", {}, {"y": np.zeros(1)}, {}, save_weights=boom)
    assert not store.has("k")
    assert list(tmp_path.iterdir()) == []


def test_missing_file_means_unfinished(tmp_path):
    store = JobStore(tmp_path)
    store.save("k", {}, {"y": np.zeros(1)}, {}, save_weights=lambda p: p.write_bytes(b"w"))
    (tmp_path / "k" / WEIGHTS).unlink()
    assert not store.has("k")
    with pytest.raises(FileNotFoundError):
        store.load("k")


def test_unreadable_entry_names_the_directory(tmp_path):
    store = JobStore(tmp_path)
    store.save("k", {}, {"y": np.zeros(1)}, {})
    (tmp_path / "k" / "outputs.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match=str(tmp_path / "k")):
        store.load("k")
    assert json.loads((tmp_path / "k" / JOB).read_text())["files"] == ["outputs.npz"]


def test_entries_without_a_file_list_are_read_from_disk(tmp_path):
    # Entries written before job.json listed its files stay usable.
    store = JobStore(tmp_path)
    store.save("k", {}, {"y": np.zeros(1)}, {}, save_weights=lambda p: p.write_bytes(b"w"))
    job = tmp_path / "k" / JOB
    payload = json.loads(job.read_text())
    del payload["files"]
    job.write_text(json.dumps(payload))
    assert store.has("k", weights=True)
    (tmp_path / "k" / WEIGHTS).unlink()
    assert store.has("k") and not store.has("k", weights=True)


def test_a_killed_save_leftover_is_removed_by_the_next_save_of_that_job(tmp_path, capsys):
    import multiprocessing
    import os
    dead = multiprocessing.get_context("spawn").Process(target=os.getpid)
    dead.start()
    dead.join(300)
    leftover = tmp_path / f".k.{dead.pid}-abcdefgh"             # a SIGKILLed save's staging
    (leftover / "k").mkdir(parents=True)
    live = tmp_path / f".k.{os.getppid()}-ijklmnop"             # a save still running elsewhere
    (live / "k").mkdir(parents=True)
    JobStore(tmp_path).save("k", {}, {"y": np.zeros(1)}, {})
    assert f"removed stale staging folder {leftover}" in capsys.readouterr().out
    assert not leftover.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "k"]


def test_extra_files_are_listed_and_required(tmp_path):
    store = JobStore(tmp_path)

    def extra(tmp):
        (tmp / "branch_0.keras").write_bytes(b"m")
        (tmp / "tb").mkdir()
        (tmp / "tb" / "events.x").write_bytes(b"e")
        return ["branch_0.keras", "tb/events.x"]

    store.save("k", {}, {"y": np.zeros(1)}, {}, save_files=extra)
    assert store.files("k") == ["outputs.npz", "branch_0.keras", "tb/events.x"]
    (tmp_path / "k" / "tb" / "events.x").unlink()
    assert not store.has("k") and store.files("k") == []
    with pytest.raises(RuntimeError, match="ghost.keras"):
        store.save("k2", {}, {"y": np.zeros(1)}, {}, save_files=lambda tmp: ["ghost.keras"])
    assert not store.has("k2")
