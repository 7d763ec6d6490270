"""The marker of rehearsal data, and the rule that only a rehearsal may read it.

`python -m replication.data rehearsal-data NAME --root DIR` (shared.datasets.rehearsal)
writes a few synthetic clips per class in the exact layout and format of a real data
set, plus MARKER_FILE at the root. Such a root looks like the real set to every parser,
so the loaders of the real sets (`dcase2018_task1a`, `fsdkaggle2018`) refuse it unless
they are called with `rehearsal=True`, and `shared.verify` only accepts it in rehearsal
mode, saying that its split sizes differ from the official counts. Real roots (no
marker) are read the same in both modes.

MARKER_FILE (YAML): {kind: rehearsal, dataset, per_class, seed, split_counts}.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.datasets.base import DatasetError, Split

MARKER_FILE = "REHEARSAL_DATA.yaml"
KIND = "rehearsal"
MODE_HINT = "use it only in rehearsal mode (rehearsal=True; `replication.data verify --rehearsal`)"


def read_marker(root: Path) -> dict | None:
    """The marker of a rehearsal root, or None for any other root.

    Raises:
      DatasetError: the marker exists but is not a mapping with kind: rehearsal.
    """
    path = Path(root) / MARKER_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not readable YAML ({err})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise DatasetError(f"{path}: expected a mapping with 'kind: {KIND}'")
    return data


def count_differences(splits: dict[str, Split], official: dict[str, int]) -> list[str]:
    """["split fold1_train has 20 clips, the official count is 6122", ...] (sizes that differ)."""
    return [f"split {name} has {len(splits[name])} clips, the official count is {official[name]}"
            for name in splits if name in official and len(splits[name]) != official[name]]


def check_mode(root: Path, dataset: str, splits: dict[str, Split], official: dict[str, int],
               rehearsal: bool) -> None:
    """Refuses a rehearsal root outside rehearsal mode; one line naming the marker and a count.

    Raises:
      DatasetError: `root` holds MARKER_FILE and `rehearsal` is False.
    """
    if rehearsal or read_marker(root) is None:
        return
    sizes = count_differences(splits, official)
    detail = f" ({sizes[0]})" if sizes else ""
    raise DatasetError(f"{Path(root) / MARKER_FILE}: rehearsal data, not the official {dataset} "
                       f"set{detail}; {MODE_HINT}")
