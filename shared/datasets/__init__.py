"""Datasets of the kit, each read from its own official metadata files.

Modules (command-line names): `dcase2018_task1a`, `fsdkaggle2018`, `esc50`, `demo`.
Each exposes `spec(**opts) -> DatasetSpec` and `load_splits(root, **opts)`;
`shared.datasets.registry.get_dataset(name)` finds them by name.

This file holds the one helper every metadata parser shares: reading a delimited
text table and collecting every bad row (file and line number) into one
`DatasetError`, so a user sees all problems of a metadata file at once.
"""

from __future__ import annotations

import csv
from pathlib import Path

from shared.datasets.base import DatasetError

MAX_LISTED_ROW_ERRORS = 25  # more than this are counted, not printed


class RowErrors:
    """Collects per-row problems of one metadata file; `raise_if_any` reports them all."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.items: list[str] = []

    def add(self, line: int, message: str) -> None:
        self.items.append(f"{self.path}: line {line}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_LISTED_ROW_ERRORS]
        more = len(self.items) - len(shown)
        tail = f"\n... and {more} more bad row(s)" if more > 0 else ""
        raise DatasetError(f"{len(self.items)} bad row(s) in {self.path}:\n"
                           + "\n".join(shown) + tail)


def read_table(path: Path, delimiter: str, header: tuple[str, ...] | None,
               n_fields: int | None = None) -> list[tuple[int, list[str]]]:
    """Reads a delimited metadata file.

    Args:
      path: the metadata file.
      delimiter: "\\t" or ",".
      header: the exact expected first row, or None when the file has no header.
      n_fields: fields per data row (default: len(header)).
    Returns:
      [(line_number, fields)] for every non-empty data row (line numbers 1-based).
    Raises:
      DatasetError: missing/unreadable file, wrong header, or rows with the wrong
        number of fields (all such rows listed).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: metadata file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: not UTF-8 text ({err})") from None
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    expected = n_fields if n_fields is not None else (len(header) if header else None)
    start = 0
    if header is not None:
        if not rows or tuple(f.strip() for f in rows[0]) != header:
            got = delimiter.join(rows[0]) if rows else "<empty file>"
            raise DatasetError(f"{path}: line 1: header is '{got}', "
                               f"expected '{delimiter.join(header)}'")
        start = 1
    errors = RowErrors(path)
    out: list[tuple[int, list[str]]] = []
    for index in range(start, len(rows)):
        fields = [f.strip() for f in rows[index]]
        if not any(fields):
            continue
        if expected is not None and len(fields) != expected:
            errors.add(index + 1, f"{len(fields)} field(s), expected {expected}: "
                                  f"{delimiter.join(fields)!r}")
            continue
        out.append((index + 1, fields))
    errors.raise_if_any()
    if not out:
        raise DatasetError(f"{path}: no data rows")
    return out
