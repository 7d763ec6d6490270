"""The papers' published numbers, read from data/published/*.yaml.

Each file holds one paper's result tables as data (layout documented at the top of
data/published/paper1.yaml). A cell is keyed by (table registry name, run name, metric),
e.g. ("paper1/table4", "T5_teacher20s", "accuracy"), and carries its value in percent
exactly as printed plus where it was printed (paper, table, line, row, column).

    published = load_published()
    cell = published.lookup("paper2/tableVII", "resnet_logmel64", "map_at_3")
    cell.value          # 80.67 (percent)
    cell.provenance()   # {"paper": "paper2", "table": "VII", "line": 1, ...}

Loading validates everything: an unknown or missing key, a duplicate YAML key, a value
outside [0, 100] or a column that is not one of the table's printed columns is a
PublishedError naming the file and the dotted key.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

METRICS = ("accuracy", "map_at_3")          # metric names shared with run records
DEFAULT_ABS_TOL = 1.5                       # points; REPLICATION_NOTES.md "How close is close enough"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_TOP_KEYS = {"schema", "paper", "source", "units", "abs_tol", "tables", "figures"}
_TABLE_KEYS = {"printed", "about", "dataset", "columns", "abs_tol", "notes", "not_reported", "runs"}
_RUN_KEYS = {"rerun", "note", *METRICS}
_CELL_KEYS = {"value", "line", "row", "group", "column", "also_printed", "note"}
_POSITION_KEYS = {"line", "row", "group", "column", "printed"}


class PublishedError(ValueError):
    """A published-results file is malformed, or a lookup names no published cell."""


def repo_root() -> Path:
    """The checkout this package lives in."""
    return Path(__file__).resolve().parents[1]


def default_published_dir() -> Path:
    return repo_root() / "data" / "published"


@dataclass(frozen=True)
class PublishedCell:
    """One printed number of a paper's table."""
    paper: str                 # "paper1" | "paper2"
    table: str                 # registry name, e.g. "paper2/tableVII"
    table_printed: str         # the table label as printed, e.g. "VII"
    run: str                   # run name inside the table
    metric: str                # one of METRICS
    value: float               # percent, as printed
    line: int                  # printed data line of the table, 1-based
    row: str                   # row label as printed
    column: str                # column label as printed
    group: str | None = None   # group label printed in the first column, if any
    rerun: bool = True         # False: published-only, the kit has no run for it
    also_printed: tuple[Mapping[str, Any], ...] = ()
    source: str = ""           # the YAML file it came from

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.run, self.metric)

    def provenance(self) -> dict[str, Any]:
        """Where the number is printed; suitable for RunRecord.published_cell."""
        out: dict[str, Any] = {"paper": self.paper, "table": self.table_printed,
                               "line": self.line, "row": self.row, "column": self.column}
        if self.group is not None:
            out["group"] = self.group
        return out


@dataclass(frozen=True)
class PublishedTable:
    """Table-level facts of one published table."""
    name: str
    paper: str
    printed: str
    columns: tuple[str, ...]
    abs_tol: float                         # points, resolved (table value or file default)
    about: str = ""
    dataset: str = ""
    notes: tuple[str, ...] = ()
    not_reported: tuple[Mapping[str, Any], ...] = ()
    runs: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Published:
    """All published tables and cells, with lookups."""
    tables: Mapping[str, PublishedTable]
    cells: Mapping[tuple[str, str, str], PublishedCell]
    figures: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def table_names(self) -> list[str]:
        return sorted(self.tables)

    def table(self, name: str) -> PublishedTable:
        if name not in self.tables:
            raise PublishedError(f"no published table '{name}'; known tables: "
                                 f"{', '.join(self.table_names())}")
        return self.tables[name]

    def get(self, table: str, run: str, metric: str) -> PublishedCell | None:
        return self.cells.get((table, run, metric))

    def lookup(self, table: str, run: str, metric: str) -> PublishedCell:
        """The cell, or a PublishedError saying what the table does hold."""
        cell = self.get(table, run, metric)
        if cell is None:
            runs = self.table(table).runs
            if run not in runs:
                raise PublishedError(f"table '{table}' has no published run '{run}'; "
                                     f"its runs: {', '.join(runs)}")
            raise PublishedError(f"'{table}' run '{run}' has no published '{metric}'")
        return cell

    def cells_of(self, table: str) -> list[PublishedCell]:
        """Cells of one table in printed order (line, then column)."""
        t = self.table(table)
        cells = [c for c in self.cells.values() if c.table == table]
        return sorted(cells, key=lambda c: (c.line, t.columns.index(c.column)))

    def abs_tol(self, table: str) -> float:
        return self.tables[table].abs_tol if table in self.tables else DEFAULT_ABS_TOL


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last silently)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode,
                              deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def load_yaml_strict(path: str | os.PathLike) -> Any:
    """YAML with duplicate keys rejected; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PublishedError(f"{path}: file not found") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as err:
        raise PublishedError(f"{path}: not valid YAML: {err}") from None


def _check_keys(where: str, data: Any, allowed: set[str], required: Iterable[str]) -> None:
    if not isinstance(data, Mapping):
        raise PublishedError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise PublishedError(f"{where}: unknown key(s) {', '.join(unknown)} "
                             f"(allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in required if k not in data]
    if missing:
        raise PublishedError(f"{where}: missing key(s) {', '.join(missing)}")


def _number(where: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PublishedError(f"{where}: expected a number, got {value!r}")
    if not lo <= value <= hi:
        raise PublishedError(f"{where}: {value} is outside [{lo}, {hi}]")
    return float(value)


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise PublishedError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _position(where: str, pos: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    _check_keys(where, pos, _POSITION_KEYS | {"value", "also_printed", "note"},
                ("line", "row", "column"))
    line = pos["line"]
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise PublishedError(f"{where}.line: expected a printed line number >= 1, got {line!r}")
    _text(f"{where}.row", pos["row"])
    if pos["column"] not in columns:
        raise PublishedError(f"{where}.column: '{pos['column']}' is not one of the table's "
                             f"columns {list(columns)}")
    if "group" in pos:
        _text(f"{where}.group", pos["group"])
    return dict(pos)


def _parse_table(path: Path, paper: str, name: str, data: Any, default_tol: float
                 ) -> tuple[PublishedTable, list[PublishedCell]]:
    where = f"{path}: tables.{name}"
    _check_keys(where, data, _TABLE_KEYS, ("printed", "columns", "runs"))
    if not name.startswith(f"{paper}/") or not _NAME.match(name.split("/", 1)[1]):
        raise PublishedError(f"{where}: table name must look like '{paper}/table<N>'")
    columns = data["columns"]
    if (not isinstance(columns, list) or not columns
            or not all(isinstance(c, str) and c for c in columns) or len(set(columns)) != len(columns)):
        raise PublishedError(f"{where}.columns: expected a list of distinct column labels")
    columns = tuple(columns)
    tol = _number(f"{where}.abs_tol", data.get("abs_tol", default_tol), 0.0, 100.0)
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise PublishedError(f"{where}.notes: expected a list of strings")
    not_reported = data.get("not_reported", [])
    if not isinstance(not_reported, list):
        raise PublishedError(f"{where}.not_reported: expected a list")
    for k, pos in enumerate(not_reported):
        _position(f"{where}.not_reported[{k}]", pos, columns)
    runs = data["runs"]
    if not isinstance(runs, Mapping) or not runs:
        raise PublishedError(f"{where}.runs: expected a non-empty mapping of run names")
    cells: list[PublishedCell] = []
    for run, run_data in runs.items():
        rwhere = f"{where}.runs.{run}"
        if not isinstance(run, str) or not _NAME.match(run):
            raise PublishedError(f"{rwhere}: run names are snake_case letters, digits and '_'")
        _check_keys(rwhere, run_data, _RUN_KEYS, ())
        rerun = run_data.get("rerun", True)
        if not isinstance(rerun, bool):
            raise PublishedError(f"{rwhere}.rerun: expected true or false, got {rerun!r}")
        metrics = [m for m in METRICS if m in run_data]
        if not metrics:
            raise PublishedError(f"{rwhere}: no metric ({' or '.join(METRICS)})")
        for metric in metrics:
            cwhere = f"{rwhere}.{metric}"
            cell = run_data[metric]
            _check_keys(cwhere, cell, _CELL_KEYS, ("value", "line", "row", "column"))
            _position(cwhere, cell, columns)
            also = cell.get("also_printed", [])
            if not isinstance(also, list):
                raise PublishedError(f"{cwhere}.also_printed: expected a list of positions")
            for k, pos in enumerate(also):
                _position(f"{cwhere}.also_printed[{k}]", pos, columns)
            cells.append(PublishedCell(
                paper=paper, table=name, table_printed=str(data["printed"]), run=run,
                metric=metric, value=_number(f"{cwhere}.value", cell["value"], 0.0, 100.0),
                line=cell["line"], row=cell["row"], column=cell["column"],
                group=cell.get("group"), rerun=rerun, also_printed=tuple(also), source=str(path)))
    table = PublishedTable(
        name=name, paper=paper, printed=str(data["printed"]), columns=columns, abs_tol=tol,
        about=str(data.get("about", "")), dataset=str(data.get("dataset", "")),
        notes=tuple(notes), not_reported=tuple(not_reported), runs=tuple(runs), source=str(path))
    return table, cells


def load_published_file(path: str | os.PathLike
                        ) -> tuple[list[PublishedTable], list[PublishedCell], dict[str, Any]]:
    """Parses and validates one published-results file."""
    path = Path(path)
    data = load_yaml_strict(path)
    _check_keys(str(path), data, _TOP_KEYS, ("paper", "tables"))
    paper = _text(f"{path}: paper", data["paper"])
    if data.get("units", "percent") != "percent":
        raise PublishedError(f"{path}: units: only 'percent' is supported, got {data['units']!r}")
    default_tol = _number(f"{path}: abs_tol", data.get("abs_tol", DEFAULT_ABS_TOL), 0.0, 100.0)
    tables_data = data["tables"]
    if not isinstance(tables_data, Mapping) or not tables_data:
        raise PublishedError(f"{path}: tables: expected a non-empty mapping")
    tables, cells = [], []
    for name, tdata in tables_data.items():
        table, tcells = _parse_table(path, paper, str(name), tdata, default_tol)
        tables.append(table)
        cells.extend(tcells)
    figures = data.get("figures", {}) or {}
    if not isinstance(figures, Mapping):
        raise PublishedError(f"{path}: figures: expected a mapping")
    for fname, fig in figures.items():
        _check_keys(f"{path}: figures.{fname}", fig,
                    {"available", "about", "reason", "candidates", "values"}, ("available",))
    return tables, cells, dict(figures)


def load_published(paths: Iterable[str | os.PathLike] | None = None) -> Published:
    """Loads the given files (default: every data/published/*.yaml) into one Published."""
    if paths is None:
        directory = default_published_dir()
        paths = sorted(directory.glob("*.yaml"))
        if not paths:
            raise PublishedError(f"{directory}: no published-results files (*.yaml)")
    tables: dict[str, PublishedTable] = {}
    cells: dict[tuple[str, str, str], PublishedCell] = {}
    figures: dict[str, Mapping[str, Any]] = {}
    for path in paths:
        ftables, fcells, ffigures = load_published_file(path)
        for t in ftables:
            if t.name in tables:
                raise PublishedError(f"{path}: table '{t.name}' is also defined in {tables[t.name].source}")
            tables[t.name] = t
        for c in fcells:
            cells[c.key] = c
        figures.update(ffigures)
    return Published(tables=tables, cells=cells, figures=figures)
