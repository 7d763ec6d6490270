"""FSDKaggle2018 (Freesound General-Purpose Audio Tagging, Zenodo record 2552860).

Layout under the dataset root:
  FSDKaggle2018.meta/train_post_competition.csv
      header fname,label,manually_verified,freesound_id,license  (9473 rows, 3710 verified)
  FSDKaggle2018.meta/test_post_competition_scoring_clips.csv
      header fname,label,usage,freesound_id,license  (1600 scored test clips)
  audio_train/<fname>, audio_test/<fname>   44.1 kHz, mono, 16-bit PCM WAV, 0.3-30 s
      (as `replication.data prepare` installs them); a root extracted by hand from the
      Zenodo zips has FSDKaggle2018.audio_train/ and FSDKaggle2018.audio_test/ instead,
      which are read when audio_train/ (audio_test/) is absent.

Splits: "train" (all 9473 clips, or the 3710 manually verified ones with
verified_only=True, register p2-fsdkaggle-train-set) and "test" (the 1600 scored clips).
Class order: the 41 labels sorted by Python string order (codepoints), label i =
CLASSES[i]; the metadata may not use any other label.
`Example.group` is the freesound_id (one Freesound upload per clip).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from shared.datasets import RowErrors, read_table
from shared.datasets.base import DatasetError, DatasetSpec, Example, Split
from shared.datasets.rehearsal_marker import check_mode

NAME = "fsdkaggle2018"
CLASSES = tuple(sorted((
    "Acoustic_guitar", "Applause", "Bark", "Bass_drum", "Burping_or_eructation", "Bus",
    "Cello", "Chime", "Clarinet", "Computer_keyboard", "Cough", "Cowbell", "Double_bass",
    "Drawer_open_or_close", "Electric_piano", "Fart", "Finger_snapping", "Fireworks",
    "Flute", "Glockenspiel", "Gong", "Gunshot_or_gunfire", "Harmonica", "Hi-hat",
    "Keys_jangling", "Knock", "Laughter", "Meow", "Microwave_oven", "Oboe", "Saxophone",
    "Scissors", "Shatter", "Snare_drum", "Squeak", "Tambourine", "Tearing", "Telephone",
    "Trumpet", "Violin_or_fiddle", "Writing")))
META_DIR = "FSDKaggle2018.meta"
TRAIN_CSV = f"{META_DIR}/train_post_competition.csv"
TEST_CSV = f"{META_DIR}/test_post_competition_scoring_clips.csv"
TRAIN_HEADER = ("fname", "label", "manually_verified", "freesound_id", "license")
TEST_HEADER = ("fname", "label", "usage", "freesound_id", "license")
AUDIO_DIRS = ("audio_train", "audio_test")
ZENODO_AUDIO_DIRS = {"audio_train": "FSDKaggle2018.audio_train",   # folders of the Zenodo zips
                     "audio_test": "FSDKaggle2018.audio_test"}
OFFICIAL_COUNTS = {"train": 9473, "test": 1600}
VERIFIED_TRAIN_COUNT = 3710


def spec(verified_only: bool = False) -> DatasetSpec:
    """Facts of FSDKaggle2018 (variable-length clips, 0.3-30 s)."""
    counts = dict(OFFICIAL_COUNTS)
    if verified_only:
        counts["train"] = VERIFIED_TRAIN_COUNT
    return DatasetSpec(
        name=NAME, classes=CLASSES, sample_rate=44100, channels=1, clip_seconds=None,
        min_seconds=0.3, max_seconds=30.0,
        description="FSDKaggle2018, 41 classes" + (" (verified training clips)" if verified_only else ""),
        extra={"subtype": "PCM_16", "split_counts": counts,
               "audio_dirs": AUDIO_DIRS + tuple(ZENODO_AUDIO_DIRS.values())})


def audio_dir(root: Path, name: str) -> Path:
    """root/audio_train (or audio_test), else the Zenodo zip's folder when only that exists."""
    kit = Path(root) / name
    zenodo = Path(root) / ZENODO_AUDIO_DIRS[name]
    return zenodo if not kit.is_dir() and zenodo.is_dir() else kit


def _read(root: Path, relpath: str, header: tuple[str, ...], audio_dir_name: str,
          split_name: str, verified_only: bool) -> Split:
    path = root / relpath
    rows = read_table(path, ",", header)
    errors = RowErrors(path)
    data_spec = spec()
    folder = audio_dir(root, audio_dir_name)
    examples: list[Example] = []
    seen: set[str] = set()
    for line, fields in rows:
        row = dict(zip(header, fields))
        fname = row["fname"]
        pure = PurePosixPath(fname)
        if len(pure.parts) != 1 or fname in ("", ".", ".."):
            errors.add(line, f"fname '{fname}' must be a plain file name")
            continue
        if fname in seen:
            errors.add(line, f"'{fname}' listed twice")
            continue
        seen.add(fname)
        if row["label"] not in CLASSES:
            errors.add(line, f"unknown label '{row['label']}'")
            continue
        if "manually_verified" in row:
            if row["manually_verified"] not in ("0", "1"):
                errors.add(line, f"manually_verified is '{row['manually_verified']}', expected 0 or 1")
                continue
            if verified_only and row["manually_verified"] != "1":
                continue
        examples.append(Example(path=folder / fname,
                                label=data_spec.label_of(row["label"], f"{path}: line {line}"),
                                clip_id=pure.stem, group=row["freesound_id"]))
    errors.raise_if_any()
    return Split(split_name, tuple(examples))


def load_splits(root: Path, verified_only: bool = False, rehearsal: bool = False) -> dict[str, Split]:
    """{"train": ..., "test": ...} from the post-competition metadata.

    A root written by `replication.data rehearsal-data` is read only with
    rehearsal=True (shared.datasets.rehearsal_marker).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset root does not exist")
    splits = {"train": _read(root, TRAIN_CSV, TRAIN_HEADER, "audio_train", "train", verified_only),
              "test": _read(root, TEST_CSV, TEST_HEADER, "audio_test", "test", False)}
    check_mode(root, NAME, splits, spec(verified_only).extra["split_counts"], rehearsal)
    return splits
