"""Download dataset archives with MD5 checks and resume; extract them safely.

* Manifests (data/manifests/<dataset>.yaml) list each archive's name, URL, size and
  MD5. A null MD5 or size means "not known": the download still works, but the
  caller is told that integrity could not be checked (never an invented value).
* `download_archive` goes through `pooch.retrieve` (hash check, temp file + move).
  pooch 1.x cannot resume, so the kit passes pooch its own `ResumingDownloader`: it
  keeps `<name>.part` next to the archive and continues it with an HTTP Range
  request; a server that ignores Range gets a fresh download. An interrupted or
  short transfer raises and keeps the .part for the next attempt; a complete
  transfer whose MD5 is wrong is deleted (pooch removes the temp file).
* `extract_archive` / `install_archives` reject absolute paths, `..`, links and
  special files in zip and tar archives, extract into a hidden temporary folder
  beside the target and rename it into place at the end, so a killed extraction
  never leaves a folder that looks complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from shared.config import atomic_write_text, read_yaml
from shared.publish import PublishExistsError, atomic_directory, clean_stale

MARKER = ".kit_extracted.json"   # written last inside an installed dataset root


class DownloadError(ValueError):
    """A download, hash check or extraction failed; the message names the archive."""


@dataclass(frozen=True)
class ArchiveEntry:
    name: str                  # file name of the archive
    url: str
    size: int | None           # bytes; None = not known
    md5: str | None            # 32 hex digits; None = not known
    strip_prefix: str | None   # top folder inside the archive to drop, or None
    into: str = "."            # sub-folder of the dataset root that receives the files


@dataclass(frozen=True)
class Manifest:
    dataset: str
    record: str
    hash_source: str | None
    archives: tuple[ArchiveEntry, ...]

    @property
    def fully_hashed(self) -> bool:
        return all(a.md5 for a in self.archives)


def load_manifest(path: str | os.PathLike) -> Manifest:
    """Reads and checks a manifest; DownloadError names the file and the bad entry."""
    path = Path(path)
    data = read_yaml(path)
    known = {"dataset", "record", "hash_source", "archives"}
    if set(data) - known or "archives" not in data:
        raise DownloadError(f"{path}: keys must be {sorted(known)}, got {sorted(data)}")
    fields = set(ArchiveEntry.__dataclass_fields__)
    archives = []
    for i, item in enumerate(data["archives"] or []):
        where = f"{path}: archives[{i}]"
        if not isinstance(item, dict) or set(item) - fields or not {"name", "url"} <= set(item):
            raise DownloadError(f"{where}: needs name and url, may have {sorted(fields)}")
        entry = ArchiveEntry(**{"size": None, "md5": None, "strip_prefix": None, **item})
        if len(PurePosixPath(entry.name).parts) != 1 or entry.name in (".", ".."):
            raise DownloadError(f"{where}: name '{entry.name}' must be a plain file name")
        if entry.md5 is not None and not re.fullmatch(r"[0-9a-f]{32}", str(entry.md5)):
            raise DownloadError(f"{where}: md5 '{entry.md5}' is not 32 lowercase hex digits")
        if entry.size is not None and (not isinstance(entry.size, int) or entry.size <= 0):
            raise DownloadError(f"{where}: size must be a positive integer or null")
        _safe_relative(entry.into, where)
        archives.append(entry)
    if not archives:
        raise DownloadError(f"{path}: no archives listed")
    return Manifest(str(data["dataset"]), str(data.get("record", "")),
                    data.get("hash_source"), tuple(archives))


class ResumingDownloader:
    """A pooch downloader that resumes `<name>.part` files with HTTP Range requests."""

    def __init__(self, part_path: Path, expected_size: int | None = None,
                 progressbar: bool = True, chunk_size: int = 1 << 20, timeout: float = 60.0):
        self.part_path = Path(part_path)
        self.expected_size = expected_size
        self.progressbar = progressbar
        self.chunk_size = chunk_size
        self.timeout = timeout

    def __call__(self, url: str, output_file, pooch=None, check_only: bool = False):
        import requests
        from tqdm import tqdm

        part = self.part_path
        offset = part.stat().st_size if part.exists() else 0
        if self.expected_size is not None and offset > self.expected_size:
            part.unlink()
            offset = 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as resp:
                if offset and resp.status_code == 416:
                    total = offset                        # nothing left to fetch
                    if self.expected_size is not None and offset != self.expected_size:
                        part.unlink()
                        raise DownloadError(f"{part.name}: server refused the resume range; "
                                            f"partial file removed, run again")
                else:
                    if resp.status_code == 206 and offset:
                        mode = "ab"
                        if not resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                            raise DownloadError(f"{part.name}: server answered the resume request "
                                                f"with a wrong Content-Range")
                    elif resp.status_code == 200:
                        mode, offset = "wb", 0             # no Range support: start again
                    else:
                        raise DownloadError(f"{url}: HTTP {resp.status_code}")
                    length = resp.headers.get("Content-Length")
                    total = offset + int(length) if length is not None else self.expected_size
                    part.parent.mkdir(parents=True, exist_ok=True)
                    with open(part, mode) as out, tqdm(
                            total=total, initial=offset, unit="B", unit_scale=True,
                            desc=part.name.removesuffix(".part"), disable=not self.progressbar) as bar:
                        for chunk in resp.iter_content(self.chunk_size):
                            out.write(chunk)
                            bar.update(len(chunk))
        except requests.exceptions.RequestException as err:
            got = part.stat().st_size if part.exists() else 0
            raise DownloadError(f"{url}: transfer interrupted after {got} bytes ({err}); "
                                f"partial file kept at {part} to resume") from None
        got = part.stat().st_size
        for wanted, what in ((total, "announced by the server"), (self.expected_size, "in the manifest")):
            if wanted is not None and got < wanted:
                raise DownloadError(f"{url}: truncated, {got} of {wanted} bytes ({what}); "
                                    f"partial file kept at {part} to resume")
            if wanted is not None and got > wanted:
                part.unlink()
                raise DownloadError(f"{url}: {got} bytes, more than the {wanted} {what}; removed")
        os.replace(part, output_file)


def download_archive(entry: ArchiveEntry, downloads_dir: str | os.PathLike,
                     progress: bool = True) -> Path:
    """Downloads (or reuses) one archive; returns its path.

    Raises DownloadError when the transfer fails, is short, or the MD5 differs (the
    bad file is not kept). With no MD5 in the manifest the file is accepted unchecked:
    callers must say so (see `Manifest.fully_hashed`).
    """
    import pooch

    downloads_dir = Path(downloads_dir)
    downloads_dir.mkdir(parents=True, exist_ok=True)
    known_hash = f"md5:{entry.md5}" if entry.md5 else None
    downloader = ResumingDownloader(downloads_dir / f"{entry.name}.part", entry.size, progress)
    try:
        path = pooch.retrieve(entry.url, known_hash=known_hash, fname=entry.name,
                              path=downloads_dir, downloader=downloader)
    except DownloadError:
        raise
    except ValueError as err:   # pooch: hash mismatch (its temp file is already deleted)
        raise DownloadError(f"{entry.name}: refused, {err}") from None
    if entry.size is not None and Path(path).stat().st_size != entry.size:
        Path(path).unlink()
        raise DownloadError(f"{entry.name}: size differs from the manifest's {entry.size}; removed")
    return Path(path)


def _safe_relative(name: str, where: str) -> PurePosixPath:
    """A member/target path that stays inside its root, or DownloadError."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
        raise DownloadError(f"{where}: unsafe path '{name}' (absolute or with '..')")
    return pure


def _members(archive: Path) -> Iterator[tuple[str, bool, object]]:
    """(name, is_dir, opener) for each member; links and special files are refused."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise DownloadError(f"{archive.name}: member '{info.filename}' is a symbolic link")
                yield info.filename, info.is_dir(), (lambda i=info: zf.open(i))
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf:
                if not (member.isfile() or member.isdir()):
                    raise DownloadError(f"{archive.name}: member '{member.name}' is a link or "
                                        f"special file")
                yield member.name, member.isdir(), (lambda m=member: tf.extractfile(m))
    else:
        raise DownloadError(f"{archive}: not a zip or tar archive")


def _extract_into(archive: Path, target: Path, strip_prefix: str | None) -> int:
    """Extracts every member below `target` (which exists); returns the file count."""
    count = 0
    for name, is_dir, opener in _members(archive):
        rel = _safe_relative(name, f"{archive.name}")
        if strip_prefix is not None:
            if not rel.parts or rel.parts[0] != strip_prefix:
                raise DownloadError(f"{archive.name}: member '{name}' is not under "
                                    f"'{strip_prefix}/' as the manifest says")
            rel = PurePosixPath(*rel.parts[1:]) if len(rel.parts) > 1 else PurePosixPath()
        if not rel.parts:
            continue
        out = target.joinpath(*rel.parts)
        if is_dir:
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        with opener() as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        count += 1
    return count


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike,
                    strip_prefix: str | None = None) -> Path:
    """Safely extracts one archive into `dest`, which must not exist yet (nor appear
    while extracting: the final rename refuses it). Removes stale staging first."""
    archive, dest = Path(archive), Path(dest)
    clean_stale(dest.parent, [f".{dest.name}.partial-"])
    if os.path.lexists(dest):
        raise DownloadError(f"{dest}: already exists; not extracting {archive.name} over it")
    try:
        with atomic_directory(dest) as staging:
            _extract_into(archive, staging, strip_prefix)
    except PublishExistsError as err:
        if err.target != dest:
            raise
        raise DownloadError(f"{dest}: another process created it while {archive.name} was being "
                            f"extracted; not replacing it") from None
    return dest


def is_installed(root: str | os.PathLike, manifest: Manifest) -> bool:
    """True when `root` was completed by install_archives from these archives."""
    marker = Path(root) / MARKER
    if not marker.is_file():
        return False
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return done.get("archives") == [a.name for a in manifest.archives]


def install_archives(manifest: Manifest, archives: dict[str, Path], root: str | os.PathLike,
                     force: bool = False) -> Path:
    """Extracts all of a dataset's archives into `root` in one final rename.

    Args:
      manifest: the dataset's manifest (strip_prefix / into per archive).
      archives: archive name -> downloaded path, one per manifest entry.
      root: the dataset root; must not exist unless `force` (then replaced).

    Staging folders of killed extractions (`.<root name>.partial-*` whose process is
    gone) are removed first, with a line naming each (a killed DCASE extraction leaves
    gigabytes).

    Raises:
      DownloadError: `root` exists, or another process published a root that is not
        this install while this one extracted, and `force` is not given.
    """
    root = Path(root)
    clean_stale(root.parent, [f".{root.name}.partial-"])
    if is_installed(root, manifest) and not force:
        return root
    if os.path.lexists(root) and not force:
        raise DownloadError(f"{root}: exists but was not completed by the kit's extraction; "
                            f"remove it or use --force")
    # Another process that completes the same install meanwhile is kept; anything else it
    # publishes meanwhile is refused by the final rename itself unless `force`.
    try:
        with atomic_directory(root, replace=force, keep=lambda r: is_installed(r, manifest)) as tree:
            for entry in manifest.archives:
                if entry.name not in archives:
                    raise DownloadError(f"{entry.name}: not downloaded")
                target = tree.joinpath(*_safe_relative(entry.into, entry.name).parts)
                target.mkdir(parents=True, exist_ok=True)
                _extract_into(Path(archives[entry.name]), target, entry.strip_prefix)
            atomic_write_text(tree / MARKER, json.dumps(
                {"dataset": manifest.dataset, "archives": [a.name for a in manifest.archives]}, indent=1))
    except PublishExistsError as err:
        if err.target != root:
            raise
        raise DownloadError(f"{root}: another process published it while this one extracted, and "
                            f"it is not this install; not replacing it (remove it or use --force)"
                            ) from None
    return root
