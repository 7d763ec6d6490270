"""Data set roots (demo generation, archive extraction) published as one unit (issue
13): a root another process publishes first is not replaced without --force, and
staging left by killed runs is removed by the next run, with a line saying so."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import zipfile
from pathlib import Path

import pytest

from shared import publish as publish_mod
from shared.datasets import demo
from shared.datasets.base import DatasetError
from shared.download import ArchiveEntry, DownloadError, Manifest, extract_archive, install_archives
from shared.publish import OWNER_FILE
from tests import publish_children as children

SPAWN = multiprocessing.get_context("spawn")
TINY = {"train_per_class": 1, "evaluate_per_class": 1, "clip_seconds": 1.0}


def _other_process_publishes_first(monkeypatch, publish_root) -> None:
    """Our final publish first runs `publish_root()` (another process's whole run)."""
    real = publish_mod.publish
    done = []

    def publish(*args, **kwargs):
        if not done:
            done.append(True)
            publish_root()
        return real(*args, **kwargs)

    monkeypatch.setattr(publish_mod, "publish", publish)


def _generate_in_child(root: Path, changes: dict) -> None:
    child = SPAWN.Process(target=children.generate_demo, args=(str(root), changes))
    child.start()
    child.join(children.WAIT_S)
    assert child.exitcode == 0


def _dead_pid() -> int:
    child = SPAWN.Process(target=os.getpid)
    child.start()
    child.join(children.WAIT_S)
    return child.pid


def test_demo_root_published_first_by_another_process_is_not_replaced(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    theirs = {**TINY, "seed": 1}
    _other_process_publishes_first(monkeypatch, lambda: _generate_in_child(root, theirs))
    with pytest.raises(DatasetError, match="another process published it while this one generated"):
        demo.generate(root, demo.with_params(**TINY), progress=False)
    assert demo.is_complete(root, demo.with_params(**theirs))          # theirs, intact
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_demo_root_with_the_same_params_published_first_is_kept(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    _other_process_publishes_first(monkeypatch, lambda: _generate_in_child(root, TINY))
    assert demo.generate(root, demo.with_params(**TINY), progress=False) == root
    assert demo.is_complete(root, demo.with_params(**TINY))


def test_force_replaces_a_root_published_first(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    _other_process_publishes_first(monkeypatch, lambda: _generate_in_child(root, {**TINY, "seed": 1}))
    demo.generate(root, demo.with_params(**TINY), progress=False, force=True)
    assert demo.is_complete(root, demo.with_params(**TINY))
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_demo_generation_removes_a_killed_generation_leftover(tmp_path, capsys):
    leftover = tmp_path / f".demo.partial-{_dead_pid()}-abcdefgh"
    (leftover / "demo" / "audio").mkdir(parents=True)
    demo.generate(tmp_path / "demo", demo.with_params(**TINY), progress=False)
    assert f"removed stale staging folder {leftover}" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def _archive(tmp_path: Path) -> tuple[Manifest, dict[str, Path]]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/meta.csv", "a\tb\n")
    path = tmp_path / "good.zip"
    path.write_bytes(buf.getvalue())
    entry = ArchiveEntry(name="good.zip", url="http://example.invalid/good.zip", size=None, md5=None,
                         strip_prefix="pkg")
    return Manifest("toy", "", None, (entry,)), {"good.zip": path}


def _publish_other_root(root: Path) -> None:
    root.mkdir()
    (root / "theirs.txt").write_text("published by another process")


def test_extraction_does_not_replace_a_root_published_first(tmp_path, monkeypatch):
    manifest, archives = _archive(tmp_path)
    root = tmp_path / "root"
    _other_process_publishes_first(monkeypatch, lambda: _publish_other_root(root))
    with pytest.raises(DownloadError, match="another process published it while this one extracted"):
        install_archives(manifest, archives, root)
    assert sorted(p.name for p in root.iterdir()) == ["theirs.txt"]
    monkeypatch.undo()
    install_archives(manifest, archives, root, force=True)                # --force replaces it
    assert (root / "meta.csv").read_text() == "a\tb\n" and not (root / "theirs.txt").exists()


def test_single_archive_extraction_refuses_a_root_published_first(tmp_path, monkeypatch):
    _, archives = _archive(tmp_path)
    dest = tmp_path / "dest"
    _other_process_publishes_first(monkeypatch, lambda: _publish_other_root(dest))
    with pytest.raises(DownloadError, match="another process created it"):
        extract_archive(archives["good.zip"], dest, strip_prefix="pkg")
    assert sorted(p.name for p in dest.iterdir()) == ["theirs.txt"]


def test_extraction_removes_a_killed_extraction_leftover_and_keeps_a_live_one(tmp_path, capsys):
    manifest, archives = _archive(tmp_path)
    dead = tmp_path / f".root.partial-{_dead_pid()}-abcdefgh"
    live = tmp_path / f".root.partial-{os.getppid()}-ijklmnop"
    for holder in (dead, live):
        (holder / "root").mkdir(parents=True)
        (holder / OWNER_FILE).write_text(json.dumps({"pid": int(holder.name.split("-")[1])}))
    install_archives(manifest, archives, tmp_path / "root")
    out = capsys.readouterr().out
    assert f"removed stale staging folder {dead}" in out and str(live) not in out
    assert not dead.exists() and live.exists()
