"""Types every dataset module returns: labelled examples grouped into official splits.

A dataset module (dcase2018_task1a, fsdkaggle2018, esc50, demo) exposes a
`DatasetSpec` built by `spec()` and a `load_splits(root, ...)` that reads the
dataset's own metadata files, never a directory listing, so label order and split
membership are exactly the official ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class DatasetError(ValueError):
    """Metadata or layout problem; the message names the file and the problem."""


@dataclass(frozen=True)
class Example:
    path: Path          # absolute path of the audio file
    label: int          # index into DatasetSpec.classes
    clip_id: str        # stable id (file name without extension)
    group: str = ""     # recording location / source file: examples of one group never straddle splits


@dataclass(frozen=True)
class Split:
    name: str                         # e.g. "fold1_train", "fold1_evaluate", "fold3_test"
    examples: tuple[Example, ...]

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def labels(self) -> list[int]:
        return [e.label for e in self.examples]


@dataclass(frozen=True)
class DatasetSpec:
    name: str                         # command-line name, e.g. "dcase2018_task1a"
    classes: tuple[str, ...]          # sorted; label i is classes[i]
    sample_rate: int                  # Hz, every file must have it
    channels: int                     # every file must have it
    clip_seconds: float | None        # fixed clip length, or None when lengths vary
    min_seconds: float | None = None  # for variable-length datasets
    max_seconds: float | None = None
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def label_of(self, name: str, where: str = "") -> int:
        try:
            return self.classes.index(name)
        except ValueError:
            raise DatasetError(f"{where}: unknown class '{name}' "
                               f"(known: {', '.join(self.classes)})") from None
