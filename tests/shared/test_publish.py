"""shared.publish: one winner among concurrent publishers, and clean-up of staging
folders whose process is gone (live ones kept)."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
from pathlib import Path

import pytest

from shared import publish as publish_mod
from shared.publish import OWNER_FILE, PublishExistsError, atomic_directory, clean_stale
from tests import publish_children as children

SPAWN = multiprocessing.get_context("spawn")


def _drain(results, n: int) -> list:
    return [results.get(timeout=children.WAIT_S) for _ in range(n)]


def _join(*procs) -> None:
    for p in procs:
        p.join(children.WAIT_S)
        assert not p.is_alive(), "child process hung"


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_two_processes_publishing_one_target_one_wins_the_other_is_told(tmp_path):
    target = tmp_path / "out"
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=children.race_directory, args=(str(target), text, barrier, results))
             for text in ("alpha", "beta")]
    for p in procs:
        p.start()
    outcome = _drain(results, 2)
    _join(*procs)
    won = [text for text, status, _ in outcome if status == "won"]
    lost = [(text, status, msg) for text, status, msg in outcome if status != "won"]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0][1] == "PublishExistsError"
    assert lost[0][2].startswith(f"{target}: ") and "not replacing it" in lost[0][2]
    assert (target / "data.txt").read_text() == won[0]          # the winner's, complete
    assert sorted(p.name for p in target.iterdir()) == ["data.txt", "done"]
    assert _hidden(tmp_path) == []                              # the loser's staging removed


def test_an_existing_target_is_refused_by_the_rename_not_an_earlier_check(tmp_path, monkeypatch):
    target = tmp_path / "out"
    real = os.rename

    def rename(src, dst):           # the target appears after publish's exists() check
        if Path(dst) == target and not target.exists():
            target.mkdir()
            (target / "theirs.txt").write_text("theirs")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(PublishExistsError, match="appeared while it was being built") as info:
        with atomic_directory(target) as staging:
            (staging / "ours.txt").write_text("ours")
    assert info.value.target == target
    assert sorted(p.name for p in target.iterdir()) == ["theirs.txt"]


def test_the_holder_names_its_owner(tmp_path):
    with atomic_directory(tmp_path / "out", prefix=".out.building-") as staging:
        holder = staging.parent
        assert holder.name.startswith(f".out.building-{os.getpid()}-")
        owner = json.loads((holder / OWNER_FILE).read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()


def test_a_killed_process_leaves_staging_that_the_next_command_removes(tmp_path):
    target = tmp_path / "root"
    child = SPAWN.Process(target=children.killed_inside_block, args=(str(target), ".root.partial-"))
    child.start()
    _join(child)
    assert child.exitcode == -9
    leftovers = [tmp_path / n for n in _hidden(tmp_path)]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(f".root.partial-{child.pid}-")
    assert not target.exists()
    lines: list[str] = []
    assert clean_stale(tmp_path, [".root.partial-"], lines.append) == leftovers
    assert lines == [f"removed stale staging folder {leftovers[0]} (its process is gone)"]
    assert _hidden(tmp_path) == []


def test_a_live_process_staging_is_kept(tmp_path):
    target = tmp_path / "root"
    entered, release = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=children.held_inside_block,
                          args=(str(target), ".root.partial-", entered, release))
    child.start()
    try:
        assert entered.wait(children.WAIT_S)
        lines: list[str] = []
        assert clean_stale(tmp_path, [".root.partial-"], lines.append) == []
        assert lines == [] and len(_hidden(tmp_path)) == 1
    finally:
        release.set()
        _join(child)
    assert child.exitcode == 0
    assert (target / "data.txt").read_text() == "live" and _hidden(tmp_path) == []


def _fake_holder(parent: Path, name: str, owner: dict | None) -> Path:
    holder = parent / name
    (holder / "root").mkdir(parents=True)
    if owner is not None:
        (holder / OWNER_FILE).write_text(json.dumps(owner))
    return holder


def test_owner_rules_reused_pid_other_host_unknown_and_own_holders(tmp_path):
    live = os.getppid()          # a process that runs for the whole test
    reused = _fake_holder(tmp_path, f".root.partial-{live}-aaaaaaaa",
                          {"pid": live, "host": socket.gethostname(), "start": -1})
    elsewhere = _fake_holder(tmp_path, ".root.partial-1-bbbbbbbb",
                             {"pid": 1, "host": socket.gethostname() + "-other", "start": None})
    legacy = _fake_holder(tmp_path, ".root.partial-cccccccc", None)      # made before owners were recorded
    leaked = _fake_holder(tmp_path, f".root.partial-{os.getpid()}-dddddddd",
                          {"pid": os.getpid(), "host": socket.gethostname()})
    lines: list[str] = []
    with atomic_directory(tmp_path / "root") as staging:                  # our own, in use
        removed = clean_stale(tmp_path, [".root.partial-"], lines.append)
        assert staging.parent.exists()
    assert sorted(removed) == sorted([reused, leaked])
    assert elsewhere.exists() and legacy.exists()
    assert f"kept staging folder {legacy}: its owner process is not recorded" in lines[-1]


def test_a_killed_replacement_gets_the_old_target_back(tmp_path):
    # killed between "old target moved aside" and "new one renamed in"
    holder = _fake_holder(tmp_path, ".root.partial-999999999-eeeeeeee", None)
    (holder / ".replaced").mkdir()
    (holder / ".replaced" / "old.txt").write_text("old")
    lines: list[str] = []
    assert clean_stale(tmp_path, [".root.partial-"], lines.append) == [holder]
    assert (tmp_path / "root" / "old.txt").read_text() == "old"
    assert lines[0].startswith(f"restored {tmp_path / 'root'}")


def test_pid_is_read_from_the_name_when_the_owner_file_is_missing(tmp_path):
    # killed between making the holder and writing its owner file
    dead = SPAWN.Process(target=os.getpid)
    dead.start()
    _join(dead)
    holder = tmp_path / f".entry.building-{dead.pid}-ffffffff"
    holder.mkdir()
    assert clean_stale(tmp_path, [".entry.building-"], None) == [holder]
    assert publish_mod.stale_holders(tmp_path, [".entry.building-"]) == ([], [])
