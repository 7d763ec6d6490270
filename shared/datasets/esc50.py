"""ESC-50 / ESC-10 (K. J. Piczak), read from meta/esc50.csv.

Layout under the dataset root (the GitHub archive's ESC-50-master/ folder):
  meta/esc50.csv   header filename,fold,target,category,esc10,src_file,take (2000 rows)
  audio/<filename> as the csv names it; any format soundfile reads (the kit's test
                   fixture is an ESC-10 copy in 22050 Hz FLAC, hence `sample_rate`).

Splits for `test_fold=k` (1..5): "fold{k}_train" (the other four folds) and
"fold{k}_test". With `validation_fold=v` (another fold, for choosing settings without
touching the test fold): "fold{k}_val{v}_train" (the three folds other than k and v) and
"fold{k}_val{v}_validate" (fold v); fold k's clips are then in neither split.
`esc10_only=True` keeps the rows with esc10 == True (10 classes).
Class order: category names sorted alphabetically; label i = classes[i]. ESC-50's
`target` numbers are checked against the category (TARGETS below) but never used
as labels, because for ESC-10 they are not 0..n-1.
`Example.group` = src_file (the Freesound recording); the official folds never split
one recording, and load_splits checks that.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from shared.datasets import RowErrors, read_table
from shared.datasets.base import DatasetError, DatasetSpec, Example, Split

NAME = "esc50"
# ESC-50 target number -> category (the dataset's own numbering, 0..49).
TARGETS = ("dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
           "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops",
           "wind", "pouring_water", "toilet_flush", "thunderstorm", "crying_baby", "sneezing",
           "clapping", "breathing", "coughing", "footsteps", "laughing", "brushing_teeth",
           "snoring", "drinking_sipping", "door_wood_knock", "mouse_click", "keyboard_typing",
           "door_wood_creaks", "can_opening", "washing_machine", "vacuum_cleaner",
           "clock_alarm", "clock_tick", "glass_breaking", "helicopter", "chainsaw", "siren",
           "car_horn", "engine", "train", "church_bells", "airplane", "fireworks", "hand_saw")
ESC10 = ("dog", "rooster", "rain", "sea_waves", "crackling_fire", "crying_baby", "sneezing",
         "clock_tick", "helicopter", "chainsaw")
META_FILE = "meta/esc50.csv"
HEADER = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
AUDIO_DIRS = ("audio",)
FOLDS = (1, 2, 3, 4, 5)
CLIPS_PER_CLASS_PER_FOLD = 8


def spec(esc10_only: bool = False, sample_rate: int = 44100) -> DatasetSpec:
    """ESC-50 (or ESC-10): 5 s mono clips; official WAVs are 44.1 kHz 16-bit."""
    classes = tuple(sorted(ESC10 if esc10_only else TARGETS))
    per_fold = CLIPS_PER_CLASS_PER_FOLD * len(classes)
    return DatasetSpec(
        name=NAME, classes=classes, sample_rate=int(sample_rate), channels=1, clip_seconds=5.0,
        description="ESC-10" if esc10_only else "ESC-50",
        extra={"subtype": "PCM_16", "audio_dirs": AUDIO_DIRS,
               "split_counts": {"train": 4 * per_fold, "test": per_fold}})


def split_names(test_fold: int, validation_fold: int | None = None) -> tuple[str, str]:
    """(training split, scored split) names for a held-out fold (and a validation fold)."""
    if validation_fold is None:
        return f"fold{test_fold}_train", f"fold{test_fold}_test"
    return f"fold{test_fold}_val{validation_fold}_train", f"fold{test_fold}_val{validation_fold}_validate"


def load_splits(root: Path, esc10_only: bool = False, test_fold: int = 1,
                sample_rate: int = 44100, validation_fold: int | None = None) -> dict[str, Split]:
    """{"fold{k}_train": other four folds, "fold{k}_test": fold k}; with validation_fold=v,
    {"fold{k}_val{v}_train": the three folds other than k and v, "fold{k}_val{v}_validate":
    fold v} and fold k left out of both (split_names).

    `sample_rate` does not change the splits; it is accepted so that the same
    options can be passed to `spec` and `load_splits`.
    """
    if test_fold not in FOLDS:
        raise DatasetError(f"test_fold must be one of {FOLDS}, got {test_fold!r}")
    if validation_fold is not None and (validation_fold not in FOLDS or validation_fold == test_fold):
        raise DatasetError(f"validation_fold must be one of {FOLDS} other than the test fold {test_fold}, "
                           f"got {validation_fold!r}")
    scored_fold = test_fold if validation_fold is None else validation_fold
    root = Path(root).resolve()
    path = root / META_FILE
    rows = read_table(path, ",", HEADER)
    data_spec = spec(esc10_only, sample_rate)
    errors = RowErrors(path)
    train: list[Example] = []
    test: list[Example] = []
    seen: set[str] = set()
    for line, fields in rows:
        row = dict(zip(HEADER, fields))
        name, category = row["filename"], row["category"]
        if len(PurePosixPath(name).parts) != 1 or name in ("", ".", ".."):
            errors.add(line, f"filename '{name}' must be a plain file name")
            continue
        if name in seen:
            errors.add(line, f"'{name}' listed twice")
            continue
        seen.add(name)
        if row["esc10"] not in ("True", "False"):
            errors.add(line, f"esc10 is '{row['esc10']}', expected True or False")
            continue
        if not (row["fold"].isdigit() and int(row["fold"]) in FOLDS):
            errors.add(line, f"fold is '{row['fold']}', expected 1..5")
            continue
        if not (row["target"].isdigit() and int(row["target"]) < len(TARGETS)
                and TARGETS[int(row["target"])] == category):
            errors.add(line, f"target '{row['target']}' does not match category '{category}'")
            continue
        if (category in ESC10) != (row["esc10"] == "True"):
            errors.add(line, f"esc10 flag '{row['esc10']}' is wrong for category '{category}'")
            continue
        if not row["src_file"]:
            errors.add(line, "empty src_file")
            continue
        if esc10_only and row["esc10"] != "True":
            continue
        example = Example(path=root / "audio" / name,
                          label=data_spec.label_of(category, f"{path}: line {line}"),
                          clip_id=PurePosixPath(name).stem, group=row["src_file"])
        fold = int(row["fold"])
        if validation_fold is not None and fold == test_fold:
            continue                                   # the held-out fold stays unread
        (test if fold == scored_fold else train).append(example)
    errors.raise_if_any()
    leaked = {e.group for e in train} & {e.group for e in test}
    if leaked:
        raise DatasetError(f"{path}: src_file {sorted(leaked)[0]} (and {len(leaked) - 1} more) "
                           f"appears in fold {scored_fold} and in another fold")
    train_name, test_name = split_names(test_fold, validation_fold)
    return {train_name: Split(train_name, tuple(train)), test_name: Split(test_name, tuple(test))}
