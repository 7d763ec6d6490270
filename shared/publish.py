"""Publishing a directory as one unit, and cleaning what killed publishers left behind.

    with atomic_directory(root / "seed-0", prefix=".seed-0.record-") as staging:
        (staging / "results.json").write_text(...)      # readers see nothing yet
    # now root/seed-0 exists, complete, or FileExistsError (PublishExistsError) was raised

A staging directory lives in a hidden holder beside its target,
`<parent>/<prefix><pid>-<random>/<target name>/`, so publishing is one rename on one
file system. os.rename of a non-empty directory onto a name that exists (and is not
an empty directory) fails, so of two processes publishing the same target exactly one
wins; the loser gets PublishExistsError naming the target (or keeps the winner's
result when `keep` says it is the same work). Nothing is replaced unless the caller
passes `replace=True` (--overwrite / --force).

The holder's name carries the owner's process id and the holder holds OWNER_FILE
(pid, host, process start time). A process killed with SIGKILL cannot remove its
holder; `clean_stale` removes holders whose owner is gone (not running, or the pid now
belongs to a later process) and keeps those of live processes, of other hosts, and
of unknown owners (folders made before owners were recorded).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

OWNER_FILE = ".owner.json"        # inside a holder: {"pid", "host", "start"}
_ACTIVE: set[str] = set()          # holders of this process whose block is still running


class PublishExistsError(FileExistsError):
    """The target of a publish exists (or appeared meanwhile) and may not be replaced."""

    def __init__(self, target: Path, message: str):
        super().__init__(message)
        self.target = Path(target)


def _start_ticks(pid: int) -> int | None:
    """Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()    # field 3 (state) onwards
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rfind(")") + 2:].startswith("Z")


def owner_record() -> dict:
    """What this process writes into its holders."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "start": _start_ticks(os.getpid())}


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike, *, replace: bool = False,
                     keep: Callable[[Path], bool] | None = None,
                     prefix: str | None = None) -> Iterator[Path]:
    """Yields an empty staging directory beside `target`; on normal exit it becomes `target`.

    The staging directory lives inside a private holder directory
    `<parent>/<prefix><pid>-XXXXXXXX` (default prefix `.<target name>.partial-`), on the
    same file system as `target`, so publishing is one rename: readers see either the
    old target, or nothing, or the complete new one. The holder is removed on every
    exit, normal or not (any BaseException, KeyboardInterrupt included); a process
    killed with SIGKILL leaves only the holder, which `clean_stale` removes once its
    owner is gone. The staging directory itself is made with ordinary permissions
    (umask), not mkdtemp's 0700.

    What happens when `target` exists when the block ends:
      - `keep` given and `keep(target)` is true, and it was not already true when the
        block began: another process finished the same work first; its target is
        kept and the staging directory discarded. This is also checked when the
        final rename loses a race (another process published in between).
      - otherwise, `replace` true: the old target is moved aside (one rename), the new
        one renamed in, and the old one deleted; if the second rename fails the old
        one is put back unless something else took its place.
      - otherwise: PublishExistsError (a FileExistsError) naming `target`; the staging
        directory is discarded. The check is the rename itself, not an earlier
        exists(): a target another process publishes between the check and the
        rename makes the rename fail, and is not replaced.

    Args:
      target: the directory to create (its parent is created if missing).
      replace: replace an existing target (a forced rebuild, or an old broken entry).
      keep: predicate "this existing target is a finished result of the same work".
      prefix: name prefix of the holder directory (`clean_stale` finds holders by it).
    Raises:
      PublishExistsError: `target` exists and neither `keep` nor `replace` allow it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    kept_at_start = keep is not None and os.path.lexists(target) and keep(target)
    holder = Path(tempfile.mkdtemp(prefix=f"{prefix or f'.{target.name}.partial-'}{os.getpid()}-",
                                   dir=target.parent))
    _ACTIVE.add(str(holder))
    try:
        (holder / OWNER_FILE).write_text(json.dumps(owner_record()) + "\n", encoding="utf-8")
        staging = holder / target.name
        staging.mkdir()
        yield staging
        publish(staging, target, holder / ".replaced", replace,
                None if keep is None else (lambda p: not kept_at_start and keep(p)))
    finally:
        shutil.rmtree(holder, ignore_errors=True)
        _ACTIVE.discard(str(holder))


def publish(staging: Path, target: Path, aside: Path, replace: bool,
            kept: Callable[[Path], bool] | None) -> None:
    """Renames `staging` to `target` by the rules of atomic_directory."""
    moved = False
    if os.path.lexists(target):
        if kept is not None and kept(target):
            return                                  # another process finished first
        if not replace:
            raise PublishExistsError(target, f"{target}: already exists; not replacing it")
        os.rename(target, aside)
        moved = True
    try:
        os.rename(staging, target)                  # fails if a non-empty target appeared
    except BaseException as err:
        raced = os.path.lexists(target)             # someone published in between
        if moved and not raced:
            os.rename(aside, target)                # our rename failed: put the old one back
        if not (raced and isinstance(err, OSError)):
            raise
        if kept is not None and kept(target):
            return                                  # lost the race to a finished target
        raise PublishExistsError(target, f"{target}: appeared while it was being built "
                                         f"(another process published it first); "
                                         f"not replacing it") from err


# ----------------------------------------------------------------------------- clean-up
def _owner(holder: Path, name_pattern: str) -> dict | None:
    """The holder's owner: OWNER_FILE, else the pid in its name, else None (unknown)."""
    try:
        owner = json.loads((holder / OWNER_FILE).read_text(encoding="utf-8"))
        if isinstance(owner, dict) and isinstance(owner.get("pid"), int):
            return owner
    except (OSError, ValueError):
        pass
    match = re.match(name_pattern + r"(\d+)-", holder.name)
    return {"pid": int(match.group(1))} if match else None


def owner_gone(owner: dict) -> bool:
    """True when the process that made a holder no longer runs (on this host).

    A pid that runs again but started at another time (pid reuse) counts as gone; an
    owner on another host cannot be checked and counts as alive.
    """
    if owner.get("host") not in (None, socket.gethostname()):
        return False
    pid = owner["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass                                        # runs, as another user
    if _zombie(pid):
        return True
    start = owner.get("start")
    now = _start_ticks(pid)
    return start is not None and now is not None and start != now


def stale_holders(parent: str | os.PathLike, prefixes: Iterable[str]) -> tuple[list[Path], list[Path]]:
    """(stale, unknown): holders under `parent` named `<prefix>*` whose owner is gone, and
    those whose owner is not recorded (kept). `prefixes` may contain glob characters
    (`.seed-*.record-`); the pid is read after the prefix's literal part."""
    parent = Path(parent)
    stale, unknown = [], []
    if not parent.is_dir():
        return stale, unknown
    seen: set[Path] = set()
    for prefix in prefixes:
        name_pattern = re.escape(prefix).replace(r"\*", ".*")
        for holder in sorted(parent.glob(prefix + "*")):
            if holder in seen or not holder.is_dir() or str(holder) in _ACTIVE:
                continue
            seen.add(holder)
            owner = _owner(holder, name_pattern)
            if owner is None:
                unknown.append(holder)
            elif owner["pid"] == os.getpid() and owner.get("host") in (None, socket.gethostname()):
                stale.append(holder)                # ours, but no block of ours uses it: leaked
            elif owner_gone(owner):
                stale.append(holder)
    return stale, unknown


def _restore_aside(holder: Path, echo: Callable[[str], None] | None) -> None:
    """A publisher killed between its two renames of a replace (old target moved aside
    into the holder, new one not yet renamed in) leaves the old target in the holder:
    it is put back where it was, unless something has taken its place since."""
    aside = holder / ".replaced"
    if not aside.is_dir():
        return
    staged = [p for p in holder.iterdir() if p.name not in (OWNER_FILE, aside.name)]
    if len(staged) != 1:
        return                                      # the new target was published: aside is old
    target = holder.parent / staged[0].name
    if os.path.lexists(target):
        return
    try:
        os.rename(aside, target)
    except OSError:
        return
    if echo:
        echo(f"restored {target} from the killed replacement in {holder}")


def clean_stale(parent: str | os.PathLike, prefixes: Iterable[str],
                echo: Callable[[str], None] | None = print) -> list[Path]:
    """Removes holders under `parent` (named `<prefix>*`) whose owner process is gone.

    Prints one line per removed holder (and one per holder of unknown owner, kept);
    returns the removed paths.
    """
    stale, unknown = stale_holders(parent, prefixes)
    removed = []
    for holder in stale:
        _restore_aside(holder, echo)
        shutil.rmtree(holder, ignore_errors=True)
        if not holder.exists():
            removed.append(holder)
            if echo:
                echo(f"removed stale staging folder {holder} (its process is gone)")
    for holder in unknown:
        if echo:
            echo(f"kept staging folder {holder}: its owner process is not recorded "
                 f"(made by an older version); remove it by hand if no run is using it")
    return removed
