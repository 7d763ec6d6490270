"""On-disk feature cache: decode + front end once, then stream per-clip arrays.

An entry is a directory `<root>/<dataset>/<key>/` holding one `.npy` file per clip
(`clips/000123.npy`, readable by memory-mapping, so nothing loads the whole dataset)
and `manifest.json`. The key hashes the dataset name, the ordered example list (path,
label, clip id, and file size + mtime, or a content hash), the FeatureParams, the
stored dtype and CACHE_VERSION; changing any of them gives a new entry.

Atomicity: a build writes into `<root>/<dataset>/.building-<key>-<random>/<key>/`
(shared.config.atomic_directory), writes the manifest last, then renames the directory
to its key. Only directories named by
a key AND holding a manifest count as entries, so a killed build leaves nothing that
looks complete (its `.building-*` leftover is removed by `clean_partial()`, which the
next build runs; a leftover is removed only once its process is gone).

    cache = FeatureCache("cache/")
    entry = cache.get_or_build("esc10", split.examples, params, dtype="float16")
    x = entry.read(3)          # np.memmap [frames, bins, channels]
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from shared.audio import read_audio
from shared.config import atomic_directory, atomic_write_text, to_dict
from shared.datasets.base import Example
from shared.features.multi import compute_features_many
from shared.features.params import FeatureParams
from shared.publish import clean_stale

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
                     expected_channels: int | None = None, workers: int = 1) -> CacheEntry:
        """Returns the entry, building it first if needed.

        Args:
          dataset_name: e.g. "esc10", "dcase2018_task1a:fold1_train".
          examples: the clips, in the order their indices will have.
          params: front end settings; audio must be at params.sample_rate.
          dtype: "float16" (half the disk) or "float32".
          expected_channels: if given, a file with another channel count is an error.
          workers: build processes (see get_or_build_many).
        Raises:
          CacheError / AudioError / FeatureError naming the file that failed.
        """
        return self.get_or_build_many(dataset_name, examples, {params.kind: params}, dtype,
                                      expected_channels, workers)[params.kind]

    def get_or_build_many(self, dataset_name: str, examples: Sequence[Example],
                          params: Mapping[str, FeatureParams], dtype: str = "float16",
                          expected_channels: int | None = None,
                          workers: int = 1) -> dict[str, CacheEntry]:
        """One entry per named representation, the missing ones built in ONE pass.

        Each clip is decoded once and every missing representation computed from it
        (representations with the same framing share the STFT, shared/features/multi.py).
        Every entry is the one `get_or_build` gives for that params alone (same key,
        same arrays). Entries are published when all are complete; a failure leaves none.

        Args:
          params: name -> FeatureParams (names only label the result).
          workers: processes that build clips in parallel; 0 = auto (one per CPU when
            there are enough clips, see effective_workers). The arrays do not depend on
            it (tested).
        """
        if dtype not in DTYPES:
            raise CacheError(f"dtype '{dtype}' unknown (known: {', '.join(DTYPES)})")
        if not examples:
            raise CacheError(f"{dataset_name}: no examples to cache")
        if not params:
            raise CacheError(f"{dataset_name}: no representation to cache")
        finals = {name: self.entry_dir(dataset_name, cache_key(dataset_name, examples, p, dtype,
                                                               self.key_mode))
                  for name, p in params.items()}
        todo = [name for name, final in finals.items() if not (final / MANIFEST).exists()]
        if todo:
            self.clean_partial()        # what killed builds left (their process is gone)
            self._build_and_publish(dataset_name, examples, {n: params[n] for n in todo},
                                    {n: finals[n] for n in todo}, dtype, expected_channels, workers)
        return {name: CacheEntry.open(final) for name, final in finals.items()}

    def _build_and_publish(self, dataset_name: str, examples: Sequence[Example],
                           params: dict[str, FeatureParams], finals: dict[str, Path], dtype: str,
                           expected_channels: int | None, workers: int) -> None:
        """Builds every entry in a staging directory; each is published when all are built
        (shared.config.atomic_directory: an old entry without manifest is replaced, one
        another process completed meanwhile is kept)."""
        names = list(params)
        with contextlib.ExitStack() as stack:
            tmps = {n: stack.enter_context(atomic_directory(
                        finals[n], replace=True, keep=lambda p: (p / MANIFEST).exists(),
                        prefix=f".building-{finals[n].name}-"))
                    for n in names}
            for tmp in tmps.values():
                (tmp / "clips").mkdir()
            shapes = build_clips(examples, [params[n] for n in names], [tmps[n] / "clips" for n in names],
                                 dtype, expected_channels, workers,
                                 progress=(f"caching {dataset_name} ("
                                           f"{', '.join(p.kind for p in params.values())})"
                                           if self.progress else None))
            for k, n in enumerate(names):
                manifest = _manifest(dataset_name, finals[n].name, examples, params[n], dtype,
                                     [s[k] for s in shapes])
                atomic_write_text(tmps[n] / MANIFEST, json.dumps(manifest, indent=1))  # last file

    def clean_partial(self, echo: Callable[[str], None] | None = print) -> list[Path]:
        """Removes leftovers of killed builds (`.building-*` whose process is gone, see
        shared.publish.clean_stale; a live build's folder is kept); returns what was removed."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            removed += clean_stale(folder, [".building-*-"], echo)
        return removed


# ----------------------------------------------------------------------------- building
MIN_CLIPS_PER_WORKER = 500           # auto mode: a worker's start-up (TF import, tracing, ~6 s)
                                     # costs 600 waveform clips; DCASE (8640) / FSDKaggle (9.5k) go parallel
CHUNK_CLIPS = 8                      # clips per task sent to a worker (progress granularity)


def _manifest(dataset_name: str, key: str, examples: Sequence[Example], params: FeatureParams,
              dtype: str, shapes: list) -> dict:
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


def _build_chunk(items: Sequence[tuple[int, str]], params: Sequence[FeatureParams],
                 clip_dirs: Sequence[Path], dtype: str,
                 expected_channels: int | None) -> tuple[list[tuple[int, list[list[int]]]], list[float]]:
    """Decodes each (index, path) once, writes every representation.

    Returns ([(index, shapes per representation)], [seconds spent on each clip]).
    """
    out, seconds = [], []
    for i, path in items:
        start = time.perf_counter()
        audio, rate = read_audio(path, expected_rate=params[0].sample_rate,
                                 expected_channels=expected_channels)          # [time, channels]
        shapes = []
        for feats, clips_dir in zip(compute_features_many(audio, rate, params, where=str(path)),
                                    clip_dirs):
            # largest magnitude without a temporary array (the clips are large)
            peak = max(float(feats.max(initial=0.0)), -float(feats.min(initial=0.0)))
            if dtype == "float16" and peak > _FLOAT16_MAX:
                raise CacheError(f"{path}: feature values up to {peak:.3g} "
                                 f"overflow float16; cache with dtype='float32'")
            np.save(Path(clips_dir) / f"{i:06d}.npy", feats.astype(dtype))
            shapes.append(list(feats.shape))
        out.append((i, shapes))
        seconds.append(time.perf_counter() - start)
    return out, seconds


def effective_workers(workers: int, num_clips: int) -> int:
    """Processes started for `num_clips` clips (1 = build in this process).

    An explicit count is used as given (never more than one per clip); 0 ("auto") means
    one per CPU, but only as many as have MIN_CLIPS_PER_WORKER clips each, since a
    worker's TensorFlow start-up costs seconds.
    """
    if workers < 0:
        raise CacheError(f"workers must be >= 0 (0 = one per CPU), got {workers}")
    if workers:
        return max(1, min(workers, num_clips))
    return max(1, min(os.cpu_count() or 1, num_clips // MIN_CLIPS_PER_WORKER))


def build_clips(examples: Sequence[Example], params: Sequence[FeatureParams],
                clip_dirs: Sequence[Path], dtype: str, expected_channels: int | None,
                workers: int = 1, progress: str | None = None,
                stats: dict | None = None) -> list[list[list[int]]]:
    """Writes clip i's representation k to clip_dirs[k]/<i>.npy; returns shapes[i][k].

    With more than one effective worker the clips go in chunks to spawned processes
    (TensorFlow does not survive fork, so a script calling this needs the usual
    `if __name__ == "__main__":` guard); the first error stops the build and is raised
    here with the file it names.
    stats: if given, filled with "workers" and "clip_seconds" (seconds each clip took
      inside a worker: decode + features + write, without process start-up; the first
      clip of a worker includes tracing the front end).
    """
    rates = {p.sample_rate for p in params}
    if len(rates) != 1:
        raise CacheError(f"one build needs one sample rate, got {sorted(rates)}")
    items = [(i, str(ex.path)) for i, ex in enumerate(examples)]
    n_workers = effective_workers(workers, len(items))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(items), unit="clip", desc=progress)
    shapes: list = [None] * len(items)
    busy: list[float] = []
    try:
        if n_workers == 1:
            for item in items:
                done, seconds = _build_chunk([item], params, clip_dirs, dtype, expected_channels)
                busy += seconds
                for i, s in done:
                    shapes[i] = s
                if bar is not None:
                    bar.update(1)
            return shapes
        import multiprocessing
        from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

        size = max(1, min(CHUNK_CLIPS, -(-len(items) // n_workers)))
        chunks = [items[k:k + size] for k in range(0, len(items), size)]
        with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending = {pool.submit(_build_chunk, c, list(params), [str(d) for d in clip_dirs],
                                   dtype, expected_channels) for c in chunks}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for fut in done:
                        got, seconds = fut.result()        # re-raises a worker's error
                        busy += seconds
                        for i, s in got:
                            shapes[i] = s
                        if bar is not None:
                            bar.update(len(got))
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
        return shapes
    finally:
        if bar is not None:
            bar.close()
        if stats is not None:
            stats.update(workers=n_workers, clip_seconds=busy)
