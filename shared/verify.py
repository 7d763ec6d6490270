"""Verify a dataset root file by file; report every problem, not just the first.

Errors (the data cannot be used as the paper's):
  metadata file missing or unparseable (all bad rows listed), split sizes that differ
  from the official counts, a listed audio file that is missing, empty (0 bytes),
  not decodable (non-audio bytes, broken header), header-only (no samples), at
  another sample rate or channel count, of the wrong length (fixed-length sets: exact
  frame count, which also catches truncated files; variable-length sets: within
  min/max seconds), with NaN/inf samples, or digital silence over the whole file.
Warnings (reported; errors only with strict=True, register shared-verify-strictness):
  PCM subtype other than the official one (e.g. 16-bit where DCASE ships 24-bit),
  files under the audio folders that no metadata lists, a recording group (location,
  source file) present in two splits.
Rehearsal data (a root with shared.datasets.rehearsal_marker.MARKER_FILE, written by
`replication.data rehearsal-data`): an error unless rehearsal=True; in rehearsal mode
its split sizes are not compared with the official counts, and the report says so in
a note. Every other check is the same. Real roots are checked the same in both modes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from shared.audio import AudioError, audio_info, read_audio
from shared.datasets.base import DatasetError, DatasetSpec, Example, Split
from shared.datasets.rehearsal_marker import MARKER_FILE, MODE_HINT, read_marker


@dataclass(frozen=True)
class Problem:
    path: str      # the file concerned (audio or metadata, or the root)
    reason: str


@dataclass
class VerifyReport:
    dataset: str
    root: str
    files_checked: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # facts that are not problems (rehearsal data)

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def summary(self, limit: int = 50) -> str:
        """Human-readable report: every problem by file name (up to `limit` per kind)."""
        lines = [f"{self.dataset} at {self.root}: {self.files_checked} audio file(s) checked, "
                 f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines.extend(f"  NOTE: {note}" for note in self.notes)
        for kind, items in (("ERROR", self.errors), ("WARNING", self.warnings)):
            for p in items[:limit]:
                lines.append(f"  {kind}: {p.path}: {p.reason}")
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit} more {kind.lower()}(s)")
        return "\n".join(lines)


def _seconds(frames: int, rate: int) -> str:
    return f"{frames / rate:.3f} s" if rate else f"{frames} frames"


def check_audio_file(path: Path, spec: DatasetSpec, decode: bool = True) -> tuple[list[str], list[str]]:
    """All problems of one listed audio file as (errors, warnings) reasons."""
    errors: list[str] = []
    warnings: list[str] = []
    if not path.is_file():
        return ["missing (listed in the metadata, not on disk)"], warnings
    if path.stat().st_size == 0:
        return ["zero-length file (0 bytes)"], warnings
    try:
        info = audio_info(path)
    except AudioError as err:
        return [f"not a decodable audio file: {err.reason}"], warnings
    if info.frames == 0:
        return ["header only: the file holds no samples"], warnings
    if info.sample_rate != spec.sample_rate:
        errors.append(f"sample rate {info.sample_rate} Hz, expected {spec.sample_rate} Hz")
    if info.channels != spec.channels:
        names = {1: "mono", 2: "stereo"}
        errors.append(f"{names.get(info.channels, f'{info.channels} channels')}, expected "
                      f"{names.get(spec.channels, f'{spec.channels} channels')}")
    subtype = spec.extra.get("subtype")
    if subtype and info.subtype != subtype:
        warnings.append(f"sample format {info.subtype}, the official files are {subtype}")
    rate = info.sample_rate
    if spec.clip_seconds is not None:
        want = int(round(spec.clip_seconds * spec.sample_rate))
        if info.frames != want and rate == spec.sample_rate:
            hint = " (truncated?)" if info.frames < want else ""
            errors.append(f"{info.frames} frames ({_seconds(info.frames, rate)}), expected "
                          f"{want} ({spec.clip_seconds:g} s){hint}")
    else:
        if spec.min_seconds is not None and info.frames / rate < spec.min_seconds - 1e-3:
            errors.append(f"{_seconds(info.frames, rate)} long, shorter than {spec.min_seconds:g} s")
        if spec.max_seconds is not None and info.frames / rate > spec.max_seconds + 1e-3:
            errors.append(f"{_seconds(info.frames, rate)} long, longer than {spec.max_seconds:g} s")
    if decode:
        try:
            samples, _ = read_audio(path)                     # [time, channels]
        except AudioError as err:
            errors.append(f"decoding failed: {err.reason}")
            return errors, warnings
        if samples.shape[0] != info.frames:
            errors.append(f"header says {info.frames} frames but {samples.shape[0]} decode (truncated)")
        if not np.any(samples):
            errors.append("digital silence: every sample is zero")
    return errors, warnings


def _expected_count(split_name: str, counts: dict[str, int]) -> int | None:
    for key, value in counts.items():
        if split_name == key or split_name.endswith("_" + key):
            return value
    return None


def _check_counts(report: VerifyReport, root: Path, spec: DatasetSpec, splits: dict[str, Split],
                  rehearsal: bool) -> None:
    """Split sizes against the official counts; rehearsal data: a note, or one error outside
    rehearsal mode."""
    counts = spec.extra.get("split_counts", {})
    differ = []
    for name, split in splits.items():
        want = _expected_count(name, counts)
        if want is not None and len(split) != want:
            differ.append((name, len(split), want))
    try:
        marker = read_marker(root)
    except DatasetError as err:
        report.errors.append(Problem(str(root / MARKER_FILE), str(err)))
        return
    if marker is None:
        report.errors.extend(Problem(str(root), f"split {name} has {n} examples, the official "
                                                f"count is {want}") for name, n, want in differ)
        return
    where = str(root / MARKER_FILE)
    if marker.get("dataset") != spec.name:
        report.errors.append(Problem(where, f"rehearsal data written for '{marker.get('dataset')}', "
                                            f"verified as '{spec.name}'"))
    if not rehearsal:
        first = f": split {differ[0][0]} has {differ[0][1]} examples, the official count is " \
                f"{differ[0][2]}" if differ else ""
        report.errors.append(Problem(where, f"rehearsal data, not the official {spec.name} set"
                                            f"{first}; {MODE_HINT}"))
        return
    sizes = ", ".join(f"{name} {n} (official {want})" for name, n, want in differ)
    report.notes.append("rehearsal data: split sizes differ from the official counts"
                        + (f" ({sizes})" if sizes else ""))


def verify_splits(root: Path, spec: DatasetSpec, splits: dict[str, Split], decode: bool = True,
                  workers: int = 2, progress: bool = True, rehearsal: bool = False) -> VerifyReport:
    """Checks loaded splits and their audio against `spec` (see module doc).

    rehearsal: accept a rehearsal root (its split sizes differ from the official counts).
    """
    from tqdm import tqdm

    root = Path(root)
    report = VerifyReport(spec.name, str(root))
    _check_counts(report, root, spec, splits, rehearsal)
    owner: dict[str, str] = {}
    for name, split in splits.items():
        for group in sorted({e.group for e in split.examples if e.group}):
            if group in owner and owner[group] != name:
                report.warnings.append(Problem(str(root), f"group '{group}' is in both "
                                                          f"{owner[group]} and {name}"))
            owner.setdefault(group, name)
    unique: dict[Path, Example] = {}
    for split in splits.values():
        for e in split.examples:
            unique.setdefault(Path(e.path), e)
    paths = sorted(unique)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda p: check_audio_file(p, spec, decode), paths)
        for path, (errs, warns) in tqdm(zip(paths, results), total=len(paths), unit="file",
                                        desc=f"verify {spec.name}", disable=not progress):
            report.errors.extend(Problem(str(path), r) for r in errs)
            report.warnings.extend(Problem(str(path), r) for r in warns)
    report.files_checked = len(paths)
    listed = {os.path.normpath(p) for p in paths}
    for audio_dir in spec.extra.get("audio_dirs", ()):
        base = root / audio_dir
        if not base.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(base):
            for fname in sorted(files):
                full = os.path.normpath(os.path.join(dirpath, fname))
                if full not in listed:
                    report.warnings.append(Problem(full, "not listed in any metadata file"))
    return report


def verify_dataset(root: str | os.PathLike, spec: DatasetSpec,
                   load: Callable[[], dict[str, Split]], decode: bool = True,
                   workers: int = 2, progress: bool = True, rehearsal: bool = False) -> VerifyReport:
    """Loads the splits with `load()` (metadata errors are reported, not raised).

    rehearsal: accept a rehearsal root; `load` must then read it in rehearsal mode too.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        return VerifyReport(spec.name, str(root), errors=[Problem(str(root), "dataset root does not exist")])
    try:
        splits = load()
    except DatasetError as err:
        return VerifyReport(spec.name, str(root), errors=[Problem(str(root), f"metadata: {err}")])
    return verify_splits(root, spec, splits, decode=decode, workers=workers, progress=progress,
                         rehearsal=rehearsal)
