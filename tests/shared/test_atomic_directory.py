"""Tests for shared.config.atomic_directory (staging directory + one rename)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared import config
from shared.config import atomic_directory


def _finished(path: Path) -> bool:
    return (path / "done").is_file()


def _fill(staging: Path, text: str, done: bool = True) -> None:
    (staging / "data.txt").write_text(text)
    if done:
        (staging / "done").write_text("")


def _listing(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_normal_exit_publishes_the_staging_dir_with_ordinary_permissions(tmp_path):
    target = tmp_path / "sub" / "out"
    with atomic_directory(target) as staging:
        assert staging.is_dir() and list(staging.iterdir()) == []
        assert staging.parent.parent == target.parent          # same file system as target
        assert not target.exists()
        _fill(staging, "new")
    assert (target / "data.txt").read_text() == "new"
    assert _listing(target.parent) == ["out"]                   # holder removed
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask      # not mkdtemp's 0700


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_exception_in_the_block_leaves_neither_staging_nor_target(tmp_path, error):
    target = tmp_path / "out"
    with pytest.raises(type(error)):
        with atomic_directory(target) as staging:
            _fill(staging, "half", done=False)
            raise error
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_exception_keeps_an_existing_target_untouched(tmp_path, error):
    target = tmp_path / "out"
    target.mkdir()
    _fill(target, "old")
    with pytest.raises(type(error)):
        with atomic_directory(target, replace=True) as staging:
            _fill(staging, "new")
            raise error
    assert (target / "data.txt").read_text() == "old"
    assert _listing(tmp_path) == ["out"]


def test_existing_target_without_replace_is_an_error_naming_it(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _fill(target, "old")
    with pytest.raises(FileExistsError, match=str(target)):
        with atomic_directory(target) as staging:
            _fill(staging, "new")
    assert (target / "data.txt").read_text() == "old"
    assert _listing(tmp_path) == ["out"]


def test_existing_target_with_replace_is_replaced(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _fill(target, "old")
    (target / "stale.txt").write_text("only in the old one")
    with atomic_directory(target, replace=True) as staging:
        _fill(staging, "new")
    assert (target / "data.txt").read_text() == "new"
    assert not (target / "stale.txt").exists()
    assert _listing(tmp_path) == ["out"]


def test_replace_also_replaces_a_finished_target_present_from_the_start(tmp_path):
    # keep() only protects work finished by someone else while this block ran.
    target = tmp_path / "out"
    target.mkdir()
    _fill(target, "old")
    with atomic_directory(target, replace=True, keep=_finished) as staging:
        _fill(staging, "new")
    assert (target / "data.txt").read_text() == "new"


@pytest.mark.parametrize("replace", [False, True])
def test_a_concurrent_finisher_is_kept(tmp_path, replace):
    target = tmp_path / "out"
    with atomic_directory(target, replace=replace, keep=_finished) as staging:
        _fill(staging, "ours")
        target.mkdir()                       # another process publishes first
        _fill(target, "theirs")
    assert (target / "data.txt").read_text() == "theirs"
    assert _listing(tmp_path) == ["out"]


def test_an_unfinished_target_that_appeared_is_replaced_or_refused(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target, replace=True, keep=_finished) as staging:
        _fill(staging, "ours")
        target.mkdir()
        _fill(target, "broken", done=False)
    assert (target / "data.txt").read_text() == "ours"
    assert _listing(tmp_path) == ["out"]

    other = tmp_path / "other"
    with pytest.raises(FileExistsError, match=str(other)):
        with atomic_directory(other, keep=_finished) as staging:
            _fill(staging, "ours")
            other.mkdir()
            _fill(other, "broken", done=False)
    assert (other / "data.txt").read_text() == "broken"
    assert _listing(tmp_path) == ["other", "out"]


def _rename_racing(monkeypatch, target: Path, theirs_done: bool) -> None:
    """os.rename that lets another process publish `target` just before our final rename."""
    real = os.rename

    def rename(src, dst):
        if Path(dst) == target and Path(src).name == target.name and not target.exists():
            target.mkdir()
            _fill(target, "theirs", done=theirs_done)
        return real(src, dst)

    monkeypatch.setattr(config.os, "rename", rename)


@pytest.mark.parametrize("replace", [False, True])
def test_losing_the_final_rename_to_a_finisher_keeps_theirs(tmp_path, monkeypatch, replace):
    target = tmp_path / "out"
    _rename_racing(monkeypatch, target, theirs_done=True)
    with atomic_directory(target, replace=replace, keep=_finished) as staging:
        _fill(staging, "ours")
    assert (target / "data.txt").read_text() == "theirs"
    assert _listing(tmp_path) == ["out"]


def test_losing_the_final_rename_to_unfinished_work_is_an_error(tmp_path, monkeypatch):
    target = tmp_path / "out"
    _rename_racing(monkeypatch, target, theirs_done=False)
    with pytest.raises(FileExistsError, match="appeared while it was being built"):
        with atomic_directory(target, keep=_finished) as staging:
            _fill(staging, "ours")
    assert _listing(tmp_path) == ["out"]


def test_a_failed_final_rename_puts_the_old_target_back(tmp_path, monkeypatch):
    target = tmp_path / "out"
    target.mkdir()
    _fill(target, "old")
    real = os.rename

    def rename(src, dst):
        if Path(dst) == target and Path(src).name == target.name:
            raise OSError(28, "No space left on device (simulated)")
        return real(src, dst)

    monkeypatch.setattr(config.os, "rename", rename)
    with pytest.raises(OSError, match="simulated"):
        with atomic_directory(target, replace=True) as staging:
            _fill(staging, "new")
    assert (target / "data.txt").read_text() == "old"
    assert _listing(tmp_path) == ["out"]


def test_the_holder_carries_the_prefix_while_the_block_runs(tmp_path):
    target = tmp_path / "entry"
    with atomic_directory(target, prefix=".building-entry-") as staging:
        holders = [p for p in tmp_path.iterdir()]
        assert len(holders) == 1 and holders[0].name.startswith(".building-entry-")
        assert staging.parent == holders[0]
    with atomic_directory(tmp_path / "x") as staging:
        assert staging.parent.name.startswith(".x.partial-")
