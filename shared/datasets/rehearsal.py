"""Small synthetic data sets in the exact layout and format of the real ones (rehearsals).

    generate(root, RehearsalParams("dcase2018_task1a", per_class=2, seed=0))
    python -m replication.data rehearsal-data dcase2018_task1a --root /tmp/r --per-class 2

A rehearsal runs a paper preset unchanged on a few clips per class, so everything
between a data set in its real format and the run record is exercised before hours of
GPU time are spent. The clips are noise plus a class tone (no acoustic realism); what is
exact is the format and the layout:

  dcase2018_task1a (the Zenodo release, its top folder removed as `prepare` does):
    meta.csv                              tab-separated, header
                                          filename scene_label identifier source_label
    evaluation_setup/fold1_train.txt      no header, audio/<name>.wav<TAB><scene_label>
    evaluation_setup/fold1_evaluate.txt   same format
    evaluation_setup/fold1_test.txt       no header, audio/<name>.wav (the evaluate clips)
    audio/<scene>-<city>-<location>-<segment>-a.wav  48 kHz, PCM_24, stereo, 480000 frames
    Two segments per location; train and evaluate locations are disjoint.
  fsdkaggle2018 (the folders the Zenodo zips extract to):
    FSDKaggle2018.meta/train_post_competition.csv
        fname,label,manually_verified,freesound_id,license   (rows sorted by fname)
    FSDKaggle2018.meta/test_post_competition_scoring_clips.csv
        fname,label,usage,freesound_id,license
    FSDKaggle2018.audio_train/<8 hex digits>.wav, FSDKaggle2018.audio_test/...
        44.1 kHz, PCM_16, mono; lengths log-uniform in 0.3-30 s, and the first training
        clip of the first class is 30 s long, of the second class 0.3 s (the extremes)
    Every other training clip of a class is manually_verified=1 (the first one always).

`per_class` clips per class in every split. Everything is drawn from numpy Generators
seeded by (seed, split, class, clip), so the same params give byte-identical files. The
root also holds rehearsal_marker.MARKER_FILE, without which nothing marks the data as
synthetic: the real loaders refuse such a root unless rehearsal=True.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from shared.audio import write_audio
from shared.datasets import dcase2018_task1a as dcase
from shared.datasets import fsdkaggle2018 as fsd
from shared.datasets.base import DatasetError
from shared.datasets.rehearsal_marker import KIND, MARKER_FILE, read_marker
from shared.publish import PublishExistsError, atomic_directory, clean_stale

GENERATOR_VERSION = 1      # bump when the same params would give other bytes
DATASETS = (dcase.NAME, fsd.NAME)
DCASE_CITIES = ("barcelona", "helsinki", "london", "paris", "stockholm", "vienna")  # the 2018 cities
FSD_LICENSES = ("Attribution", "Creative Commons 0", "Attribution-NonCommercial")
FSD_USAGES = ("Public", "Private")
FSD_SECONDS = (0.3, 30.0)  # shortest and longest FSDKaggle2018 clip
MAX_PER_CLASS = 50         # a rehearsal is small; more is a mistake


@dataclass(frozen=True)
class RehearsalParams:
    dataset: str            # "dcase2018_task1a" or "fsdkaggle2018"
    per_class: int = 2      # clips per class in every split
    seed: int = 0           # same params -> identical files

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise DatasetError(f"no rehearsal data for dataset '{self.dataset}' "
                               f"(available: {', '.join(DATASETS)})")
        if not 1 <= self.per_class <= MAX_PER_CLASS:
            raise DatasetError(f"rehearsal per_class must be 1..{MAX_PER_CLASS}, got {self.per_class}")
        if self.seed < 0:
            raise DatasetError(f"rehearsal seed must be >= 0, got {self.seed}")


@dataclass(frozen=True)
class Clip:
    """One planned file: where it goes, what it is labelled, how it is rendered."""
    split: str              # "train" / "evaluate" (DCASE) or "train" / "test" (FSD)
    relpath: str            # path under the root, "/"-separated
    label: str              # class name
    group: str              # DCASE identifier (city-location) or FSD freesound_id
    frames: int
    seed: tuple[int, ...]   # numpy Generator seed of the samples
    extra: str = ""         # FSD: manually_verified (train) or usage (test)


# ------------------------------------------------------------------------------ plans
def dcase_plan(params: RehearsalParams) -> list[Clip]:
    """Every DCASE clip in a fixed order (classes, then train before evaluate)."""
    frames = int(round(dcase.spec().sample_rate * dcase.spec().clip_seconds))   # 480000
    clips, location = [], 0
    for k, scene in enumerate(dcase.CLASSES):
        for s, split in enumerate(("train", "evaluate")):
            for i in range(params.per_class):
                if i % 2 == 0 and i:
                    location += 1                       # two segments per location
                identifier = f"{DCASE_CITIES[location % len(DCASE_CITIES)]}-{location}"
                relpath = f"audio/{scene}-{identifier}-{i % 2}-a.wav"
                clips.append(Clip(split, relpath, scene, identifier, frames, (params.seed, 1, s, k, i)))
            location += 1                               # splits never share a location
    return clips


def _fsd_seconds(rng: np.random.Generator, k: int, i: int, split: str) -> float:
    if split == "train" and i == 0 and k < 2:
        return FSD_SECONDS[1 - k]                       # 30 s, then 0.3 s
    low, high = np.log(FSD_SECONDS[0]), np.log(FSD_SECONDS[1])
    return float(np.exp(rng.uniform(low, high)))


def fsd_plan(params: RehearsalParams) -> list[Clip]:
    """Every FSDKaggle2018 clip; file names and freesound ids unique 8-hex / integers."""
    rate = fsd.spec().sample_rate
    names = np.random.default_rng((params.seed, 2, 0))
    used_names: set[str] = set()
    used_ids: set[int] = set()
    clips = []
    for s, split in enumerate(("train", "test")):
        folder = fsd.ZENODO_AUDIO_DIRS[f"audio_{split}"]
        for k, label in enumerate(fsd.CLASSES):
            for i in range(params.per_class):
                fname = f"{int(names.integers(0, 2 ** 32)):08x}.wav"
                while fname in used_names:
                    fname = f"{int(names.integers(0, 2 ** 32)):08x}.wav"
                used_names.add(fname)
                freesound_id = int(names.integers(1000, 450000))
                while freesound_id in used_ids:
                    freesound_id = int(names.integers(1000, 450000))
                used_ids.add(freesound_id)
                seed = (params.seed, 2, 1 + s, k, i)
                seconds = _fsd_seconds(np.random.default_rng(seed + (0,)), k, i, split)
                extra = ("1" if i % 2 == 0 else "0") if split == "train" else FSD_USAGES[i % 2]
                clips.append(Clip(split, f"{folder}/{fname}", label, str(freesound_id),
                                  max(1, int(round(seconds * rate))), seed, extra))
    return clips


def plan(params: RehearsalParams) -> list[Clip]:
    return dcase_plan(params) if params.dataset == dcase.NAME else fsd_plan(params)


# ------------------------------------------------------------------------------ audio
def render(clip: Clip, rate: int, channels: int, class_index: int) -> np.ndarray:
    """Noise plus a class tone, [frames, channels] float32 in [-1, 1], never all zero."""
    rng = np.random.default_rng(clip.seed + (1,))
    t = np.arange(clip.frames) / rate                                          # [frames]
    freq = 110.0 * 2 ** (class_index / 6)                                      # a class's pitch
    out = np.empty((clip.frames, channels), dtype=np.float32)
    for c in range(channels):
        tone = 0.2 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
        out[:, c] = tone + 0.05 * rng.standard_normal(clip.frames)
    return np.clip(out, -0.99, 0.99)


# ------------------------------------------------------------------------------ files
def _marker(params: RehearsalParams, clips: list[Clip]) -> dict:
    counts: dict[str, int] = {}
    if params.dataset == dcase.NAME:
        for split in ("train", "evaluate"):
            counts[f"fold1_{split}"] = sum(c.split == split for c in clips)
    else:
        counts["train"] = sum(c.split == "train" for c in clips)
        counts["train_verified"] = sum(c.split == "train" and c.extra == "1" for c in clips)
        counts["test"] = sum(c.split == "test" for c in clips)
    return {"kind": KIND, **asdict(params), "generator_version": GENERATOR_VERSION,
            "split_counts": counts,
            "note": "synthetic clips in the real layout and format, for rehearsals only; "
                    "not the official data"}


def _metadata(params: RehearsalParams, clips: list[Clip]) -> dict[str, str]:
    """{relative path: text} of every metadata file."""
    if params.dataset == dcase.NAME:                       # every file sorted by name, as released
        clips = sorted(clips, key=lambda c: c.relpath)
        meta = ["\t".join(dcase.META_HEADER)] + [
            f"{c.relpath}\t{c.label}\t{c.group}\ta" for c in clips]
        train = [f"{c.relpath}\t{c.label}" for c in clips if c.split == "train"]
        evaluate = [c for c in clips if c.split == "evaluate"]
        return {dcase.META_FILE: meta,
                dcase.SPLIT_FILES["fold1_train"]: train,
                dcase.SPLIT_FILES["fold1_evaluate"]: [f"{c.relpath}\t{c.label}" for c in evaluate],
                "evaluation_setup/fold1_test.txt": [c.relpath for c in evaluate]}
    license_rng = np.random.default_rng((params.seed, 2, 9))
    out = {}
    for split, relpath, header in (("train", fsd.TRAIN_CSV, fsd.TRAIN_HEADER),
                                   ("test", fsd.TEST_CSV, fsd.TEST_HEADER)):
        rows = sorted((c for c in clips if c.split == split), key=lambda c: c.relpath)
        out[relpath] = [",".join(header)] + [
            f"{Path(c.relpath).name},{c.label},{c.extra},{c.group},"
            f"{FSD_LICENSES[int(license_rng.integers(len(FSD_LICENSES)))]}" for c in rows]
    return out


def _write(staging: Path, params: RehearsalParams, progress: bool) -> None:
    from tqdm import tqdm

    module = dcase if params.dataset == dcase.NAME else fsd
    data_spec = module.spec()
    subtype = data_spec.extra["subtype"]
    clips = plan(params)
    for clip in tqdm(clips, desc=f"rehearsal {params.dataset}", unit="clip", disable=not progress):
        samples = render(clip, data_spec.sample_rate, data_spec.channels,
                         data_spec.classes.index(clip.label))
        write_audio(staging / clip.relpath, samples, data_spec.sample_rate, subtype=subtype)
    for relpath, lines in _metadata(params, clips).items():
        path = staging / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (staging / MARKER_FILE).write_text(yaml.safe_dump(_marker(params, clips), sort_keys=False),
                                       encoding="utf-8")


def is_complete(root: Path, params: RehearsalParams) -> bool:
    """True when `root` is rehearsal data of exactly these params (roots appear whole)."""
    try:
        marker = read_marker(Path(root))
    except DatasetError:
        return False
    return marker is not None and marker.get("generator_version") == GENERATOR_VERSION \
        and {k: marker.get(k) for k in asdict(params)} == asdict(params)


def generate(root: Path, params: RehearsalParams, progress: bool = True, force: bool = False) -> Path:
    """Writes the rehearsal data set to `root` atomically (staged beside it, then renamed).

    An existing root of the same params is kept. `force` replaces an existing rehearsal
    root of other params, never a root without the marker (real data).

    Raises:
      DatasetError: `root` exists and is not rehearsal data of these params (without
        `force`), or is not rehearsal data at all (even with `force`).
    """
    root = Path(root)
    clean_stale(root.parent, [f".{root.name}.partial-"])
    if is_complete(root, params):
        return root
    if os.path.lexists(root) and not (root.is_dir() and not any(root.iterdir())):   # empty: fine
        try:
            ours = read_marker(root) is not None
        except DatasetError:
            ours = False
        if not ours:
            raise DatasetError(f"{root}: exists and is not rehearsal data (no valid {MARKER_FILE}); "
                               f"not replacing it, even with --force")
        if not force:
            raise DatasetError(f"{root}: holds rehearsal data of other params; pass --force "
                               f"(force=True) to replace it")
    try:
        with atomic_directory(root, replace=os.path.lexists(root),
                              keep=lambda r: is_complete(r, params)) as staging:
            _write(staging, params, progress)
    except PublishExistsError as err:
        raise DatasetError(f"{err.target}: another process published it meanwhile; not replacing it") from None
    return root


def expected_counts(params: RehearsalParams) -> dict[str, int]:
    """Split sizes a root of these params has (the marker's split_counts)."""
    return _marker(params, plan(params))["split_counts"]


__all__ = ["Clip", "DATASETS", "RehearsalParams", "dcase_plan", "expected_counts", "fsd_plan",
           "generate", "is_complete", "plan", "render"]
