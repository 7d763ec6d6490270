"""On-disk feature cache: decode + front end once, then stream per-clip arrays.

An entry is a directory `<root>/<dataset>/<key>/` holding one `.npy` file per clip
(`clips/000123.npy`, readable by memory-mapping, so nothing loads the whole dataset)
and `manifest.json`. The key hashes the dataset name, the ordered example list (path,
label, clip id, and file size + mtime, or a content hash), the FeatureParams, the
stored dtype and CACHE_VERSION; changing any of them gives a new entry.

Atomicity: a build writes into `<root>/<dataset>/.building-<key>-<random>/`, writes
the manifest last, then renames the directory to its key. Only directories named by
a key AND holding a manifest count as entries, so a killed build leaves nothing that
looks complete (its `.building-*` leftover is removed by `clean_partial()`).

    cache = FeatureCache("cache/")
    entry = cache.get_or_build("esc10", split.examples, params, dtype="float16")
    x = entry.read(3)          # np.memmap [frames, bins, channels]
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from shared.audio import read_audio
from shared.config import atomic_write_text, to_dict
from shared.datasets.base import Example
from shared.features.frontend import compute_features
from shared.features.params import FeatureParams

CACHE_VERSION = 1                     # bump when the stored layout or feature code changes meaning
DTYPES = ("float16", "float32")
KEY_MODES = ("stat", "content")
MANIFEST = "manifest.json"
_FLOAT16_MAX = float(np.finfo(np.float16).max)


_OPEN_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8192)
def _memmap(path: str) -> np.ndarray:
    """Open read-only memory maps are kept (opening costs ~4x a 150-frame read).

    Opening is serialised: numpy parses the .npy header with ast.literal_eval, and
    CPython 3.11 can fail with "SystemError: AST constructor recursion depth
    mismatch" when several tf.data threads parse headers at once (seen in a long
    ESC-10 run). Each clip is opened once per process, so the lock costs nothing
    measurable; reads of the maps stay parallel.
    """
    with _OPEN_LOCK:
        return np.load(path, mmap_mode="r")


class CacheError(RuntimeError):
    """A cache entry is unusable or a clip cannot be cached; the message names the file."""


def _file_fingerprint(path: Path, mode: str) -> list:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise CacheError(f"{path}: audio file does not exist") from None
    if mode == "stat":
        return [st.st_size, st.st_mtime_ns]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return [st.st_size, digest.hexdigest()]


def cache_key(dataset_name: str, examples: Sequence[Example], params: FeatureParams,
              dtype: str, key_mode: str = "stat") -> str:
    """Hex key of an entry (24 characters of a SHA-256)."""
    if key_mode not in KEY_MODES:
        raise CacheError(f"key_mode '{key_mode}' unknown (known: {', '.join(KEY_MODES)})")
    files = [[str(e.path), e.label, e.clip_id, *_file_fingerprint(Path(e.path), key_mode)]
             for e in examples]
    blob = json.dumps({"version": CACHE_VERSION, "dataset": dataset_name, "dtype": dtype,
                       "params": to_dict(params), "files": files}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class CacheEntry:
    """A complete cache entry; arrays are read lazily by memory-mapping."""

    path: Path
    manifest: dict

    @classmethod
    def open(cls, path: str | os.PathLike) -> "CacheEntry":
        path = Path(path)
        manifest_path = path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CacheError(f"{manifest_path}: missing, the entry is incomplete") from None
        except json.JSONDecodeError as err:
            raise CacheError(f"{manifest_path}: not valid JSON ({err})") from None
        if manifest.get("cache_version") != CACHE_VERSION:
            raise CacheError(f"{manifest_path}: cache version {manifest.get('cache_version')}, "
                             f"this code reads {CACHE_VERSION}")
        return cls(path, manifest)

    @property
    def num_examples(self) -> int:
        return int(self.manifest["num_examples"])

    @property
    def labels(self) -> np.ndarray:
        """int64 [num_examples]."""
        return np.asarray(self.manifest["labels"], dtype=np.int64)

    @property
    def clip_ids(self) -> tuple[str, ...]:
        return tuple(self.manifest["clip_ids"])

    @property
    def dtype(self) -> str:
        return self.manifest["dtype"]

    @property
    def params(self) -> dict:
        return self.manifest["params"]

    def shape(self, i: int) -> tuple[int, ...]:
        """Stored shape of clip i: [frames, bins, channels] or [time, channels]."""
        return tuple(self.manifest["shapes"][i])

    def clip_path(self, i: int) -> Path:
        if not 0 <= i < self.num_examples:
            raise IndexError(f"{self.path}: clip index {i} out of range [0, {self.num_examples})")
        return self.path / "clips" / f"{i:06d}.npy"

    def read(self, i: int) -> np.ndarray:
        """Read-only memory map of clip i (no copy until sliced into a new array)."""
        path = self.clip_path(i)
        try:
            arr = _memmap(str(path))
        except (OSError, ValueError) as err:
            raise CacheError(f"{path}: cannot read cached clip ({err})") from None
        if tuple(arr.shape) != self.shape(i):
            raise CacheError(f"{path}: shape {arr.shape}, manifest says {self.shape(i)}")
        return arr

    def read_frames(self, i: int, start: int, stop: int) -> np.ndarray:
        """float32 copy of frames [start, stop) of clip i; reads only those bytes."""
        return np.array(self.read(i)[start:stop], dtype=np.float32)


class FeatureCache:
    """Directory of feature cache entries.

    Args:
      root: cache directory (created when needed).
      key_mode: "stat" (size + mtime, fast) or "content" (SHA-256 of each file).
      progress: show a tqdm progress bar while building.
    """

    def __init__(self, root: str | os.PathLike, key_mode: str = "stat", progress: bool = True):
        if key_mode not in KEY_MODES:
            raise CacheError(f"key_mode '{key_mode}' unknown (known: {', '.join(KEY_MODES)})")
        self.root = Path(root)
        self.key_mode = key_mode
        self.progress = progress

    def entry_dir(self, dataset_name: str, key: str) -> Path:
        return self.root / dataset_name / key

    def find(self, dataset_name: str, examples: Sequence[Example], params: FeatureParams,
             dtype: str = "float16") -> CacheEntry | None:
        """The complete entry for these inputs, or None."""
        key = cache_key(dataset_name, examples, params, dtype, self.key_mode)
        path = self.entry_dir(dataset_name, key)
        if not (path / MANIFEST).exists():
            return None
        return CacheEntry.open(path)

    def get_or_build(self, dataset_name: str, examples: Sequence[Example],
                     params: FeatureParams, dtype: str = "float16",
                     expected_channels: int | None = None) -> CacheEntry:
        """Returns the entry, building it first if needed.

        Args:
          dataset_name: e.g. "esc10", "dcase2018_task1a:fold1_train".
          examples: the clips, in the order their indices will have.
          params: front end settings; audio must be at params.sample_rate.
          dtype: "float16" (half the disk) or "float32".
          expected_channels: if given, a file with another channel count is an error.
        Raises:
          CacheError / AudioError / FeatureError naming the file that failed.
        """
        if dtype not in DTYPES:
            raise CacheError(f"dtype '{dtype}' unknown (known: {', '.join(DTYPES)})")
        if not examples:
            raise CacheError(f"{dataset_name}: no examples to cache")
        key = cache_key(dataset_name, examples, params, dtype, self.key_mode)
        final = self.entry_dir(dataset_name, key)
        if (final / MANIFEST).exists():
            return CacheEntry.open(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".building-{key}-", dir=final.parent))
        try:
            manifest = self._build(tmp, dataset_name, key, examples, params, dtype,
                                   expected_channels)
            atomic_write_text(tmp / MANIFEST, json.dumps(manifest, indent=1))  # last file written
            if final.exists():              # a directory without manifest: an old broken entry
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / MANIFEST).exists():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return CacheEntry.open(final)

    def _build(self, tmp: Path, dataset_name: str, key: str, examples: Sequence[Example],
               params: FeatureParams, dtype: str, expected_channels: int | None) -> dict:
        clips_dir = tmp / "clips"
        clips_dir.mkdir()
        shapes = []
        iterator = enumerate(examples)
        if self.progress:
            from tqdm import tqdm
            iterator = tqdm(iterator, total=len(examples), unit="clip",
                            desc=f"caching {dataset_name} ({params.kind})")
        for i, ex in iterator:
            audio, rate = read_audio(ex.path, expected_rate=params.sample_rate,
                                     expected_channels=expected_channels)   # [time, channels]
            feats = compute_features(audio, rate, params, where=str(ex.path))
            if dtype == "float16" and np.max(np.abs(feats)) > _FLOAT16_MAX:
                raise CacheError(f"{ex.path}: feature values up to {np.max(np.abs(feats)):.3g} "
                                 f"overflow float16; cache with dtype='float32'")
            np.save(clips_dir / f"{i:06d}.npy", feats.astype(dtype))
            shapes.append(list(feats.shape))
        return {
            "cache_version": CACHE_VERSION,
            "dataset": dataset_name,
            "key": key,
            "dtype": dtype,
            "params": to_dict(params),
            "num_examples": len(examples),
            "clip_ids": [e.clip_id for e in examples],
            "labels": [int(e.label) for e in examples],
            "groups": [e.group for e in examples],
            "paths": [str(e.path) for e in examples],
            "shapes": shapes,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def clean_partial(self) -> list[Path]:
        """Removes leftovers of killed builds (`.building-*`); returns what was removed."""
        removed = []
        if not self.root.exists():
            return removed
        for leftover in self.root.glob("*/.building-*"):
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
        return removed
