"""DCASE 2018 task 1A development set (TUT Urban Acoustic Scenes 2018, Zenodo 1228142).

Layout under the dataset root (as the official archives extract):
  meta.csv                           tab-separated, header
                                     `filename scene_label identifier source_label`
  evaluation_setup/fold1_train.txt   no header, `audio/<name>.wav<TAB><scene_label>` (6122 rows)
  evaluation_setup/fold1_evaluate.txt  same format (2518 rows); this IS the test set of
                                     both papers: never select anything on it.
  evaluation_setup/fold1_test.txt    the fold1_evaluate files without labels (not read)
  audio/*.wav                        48 kHz, 24-bit, stereo, 10 s

Class order: the 10 scene labels sorted alphabetically (label i = CLASSES[i]):
airport, bus, metro, metro_station, park, public_square, shopping_mall,
street_pedestrian, street_traffic, tram.
`Example.group` is the recording-location identifier from meta.csv (e.g.
"barcelona-0"); the official fold 1 never puts one location in both splits.

The parser (`load_dcase_layout`) is shared with the generated `demo` dataset, which
uses the same layout with other parameters.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from shared.datasets import RowErrors, read_table
from shared.datasets.base import DatasetError, DatasetSpec, Example, Split
from shared.datasets.rehearsal_marker import check_mode

NAME = "dcase2018_task1a"
CLASSES = ("airport", "bus", "metro", "metro_station", "park", "public_square",
           "shopping_mall", "street_pedestrian", "street_traffic", "tram")  # sorted
META_FILE = "meta.csv"
META_HEADER = ("filename", "scene_label", "identifier", "source_label")
SPLIT_FILES = {"fold1_train": "evaluation_setup/fold1_train.txt",
               "fold1_evaluate": "evaluation_setup/fold1_evaluate.txt"}
OFFICIAL_COUNTS = {"fold1_train": 6122, "fold1_evaluate": 2518}  # task brief / dataset doc
AUDIO_DIRS = ("audio",)


def spec() -> DatasetSpec:
    """Facts of the official development set (Zenodo record 1228142)."""
    return DatasetSpec(
        name=NAME, classes=CLASSES, sample_rate=48000, channels=2, clip_seconds=10.0,
        description="TUT Urban Acoustic Scenes 2018 development set, fold 1",
        extra={"subtype": "PCM_24", "split_counts": dict(OFFICIAL_COUNTS),
               "audio_dirs": AUDIO_DIRS})


def _relative_audio_path(name: str, root: Path, where: str) -> Path:
    """Checks a metadata path is `audio/...` inside the root, returns it absolute."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not name:
        raise DatasetError(f"{where}: path '{name}' must be relative and stay inside the root")
    if pure.parts[0] not in AUDIO_DIRS:
        raise DatasetError(f"{where}: path '{name}' is not under audio/")
    return root.joinpath(*pure.parts)


def read_meta(root: Path, classes: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """meta.csv -> {filename: (scene_label, identifier)}; every bad row reported."""
    path = root / META_FILE
    rows = read_table(path, "\t", META_HEADER)
    errors = RowErrors(path)
    meta: dict[str, tuple[str, str]] = {}
    for line, (filename, scene, identifier, _source) in rows:
        if scene not in classes:
            errors.add(line, f"unknown scene_label '{scene}' (known: {', '.join(classes)})")
        elif not identifier:
            errors.add(line, "empty identifier")
        elif filename in meta:
            errors.add(line, f"'{filename}' listed twice")
        else:
            try:
                _relative_audio_path(filename, root, f"{path}: line {line}")
            except DatasetError as err:
                errors.items.append(str(err))
                continue
            meta[filename] = (scene, identifier)
    errors.raise_if_any()
    return meta


def read_split(root: Path, relpath: str, split_name: str, data_spec: DatasetSpec,
               meta: dict[str, tuple[str, str]]) -> Split:
    """One evaluation_setup file -> Split; its rows must agree with meta.csv."""
    path = root / relpath
    rows = read_table(path, "\t", None, n_fields=2)
    errors = RowErrors(path)
    examples: list[Example] = []
    seen: set[str] = set()
    for line, (filename, scene) in rows:
        where = f"{path}: line {line}"
        if filename in seen:
            errors.add(line, f"'{filename}' listed twice")
            continue
        seen.add(filename)
        if filename not in meta:
            errors.add(line, f"'{filename}' is not in {META_FILE}")
            continue
        if scene not in data_spec.classes:
            errors.add(line, f"unknown label '{scene}' (known: {', '.join(data_spec.classes)})")
            continue
        if meta[filename][0] != scene:
            errors.add(line, f"label '{scene}' disagrees with {META_FILE} ('{meta[filename][0]}')")
            continue
        abspath = _relative_audio_path(filename, root, where)
        examples.append(Example(path=abspath, label=data_spec.label_of(scene, where),
                                clip_id=PurePosixPath(filename).stem, group=meta[filename][1]))
    errors.raise_if_any()
    return Split(split_name, tuple(examples))


def load_dcase_layout(root: Path, data_spec: DatasetSpec,
                      split_files: dict[str, str]) -> dict[str, Split]:
    """Reads meta.csv and the evaluation_setup files of a DCASE-layout root."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset root does not exist")
    meta = read_meta(root, data_spec.classes)
    splits = {name: read_split(root, rel, name, data_spec, meta)
              for name, rel in split_files.items()}
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared_files = {e.clip_id for e in splits[a].examples} & {e.clip_id for e in splits[b].examples}
            if shared_files:
                raise DatasetError(f"{root}: {len(shared_files)} file(s) in both {a} and {b}, "
                                   f"e.g. {sorted(shared_files)[0]}")
    return splits


def load_splits(root: Path, rehearsal: bool = False) -> dict[str, Split]:
    """Official fold 1: {"fold1_train": ..., "fold1_evaluate": ...}.

    A root written by `replication.data rehearsal-data` is read only with
    rehearsal=True (shared.datasets.rehearsal_marker).
    """
    splits = load_dcase_layout(root, spec(), SPLIT_FILES)
    check_mode(root, NAME, splits, OFFICIAL_COUNTS, rehearsal)
    return splits
