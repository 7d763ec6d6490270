"""Result checker: run records against the papers' numbers or the kit's demo reference.

    python -m replication.check results/ [--reference auto|paper|demo] [--tolerance 1.5]
                                [--markdown check.md] [--json check.json]
    python -m replication.check --record-reference results/     # (re)write the demo reference

Records are grouped by (table, run, preset); each metric gets mean +- std over seeds
(sample std, n-1; 0 with one seed). Records store fractions in [0, 1]; references are
percent, so achieved values are multiplied by 100 here and nowhere else.

Reference: records of preset "demo" are compared with the kit's OWN recorded demo results
(data/reference/demo/<table with / as _>.json), never with the papers; every other preset
is compared with data/published/*.yaml. Verdict per cell (REPLICATION_NOTES.md "How close
is close enough"): with half = max(2 * std, abs_tol),
  "within"     reference inside [mean - half, mean + half]
  "better"     the achieved band lies above the reference
  "regressed"  the achieved band lies below the reference
  "no reference", "published-only" (a paper cell the kit does not rerun).
A demo reference stores, per run, the config fingerprint (replication/fingerprint.py) of
the runs it was recorded from; records whose own fingerprint (extra["config"]) differs
get "no reference" with the reason "config differs: <keys>" (row.reason and a note):
a reference says nothing about another configuration.
The exit status is 1 iff any cell regressed (2 for bad input).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from replication.fingerprint import common_config, config_mismatch
from replication.published import METRICS, Published, PublishedError, load_published, repo_root
from replication.records import RunRecord, find_records, now_iso
from shared.config import atomic_write_text

VERDICTS = ("within", "better", "regressed", "no reference", "published-only")
DEMO_NOTE = ("The kit's own demo-preset results, recorded to catch regressions of the kit. "
             "These are NOT the papers' numbers.")
_EPS = 1e-9


class CheckError(ValueError):
    """Bad input to the checker (malformed record, wrong reference for a preset, ...)."""


@dataclass(frozen=True)
class CheckRow:
    """One (table, run, metric) line of a check report; numbers in percent."""
    table: str
    run: str
    metric: str
    preset: str
    verdict: str
    reference_kind: str | None          # "paper" | "demo" | None
    reference: float | None
    reference_source: str
    mean: float | None
    std: float | None
    n: int
    values: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    abs_tol: float | None = None
    half_width: float | None = None     # max(2 std, abs_tol)
    delta: float | None = None          # mean - reference
    faithful: bool = True
    deviations: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    reason: str = ""                    # why there is no reference ("config differs: ...")


@dataclass
class CheckReport:
    """All rows plus notes; `exit_code` is 1 iff a row regressed."""
    rows: list[CheckRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> list[CheckRow]:
        return [r for r in self.rows if r.verdict == "regressed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0

    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}

    def to_dict(self) -> dict[str, Any]:
        kinds = sorted({r.reference_kind for r in self.rows if r.reference_kind} |
                       {"demo" for r in self.rows if r.preset == "demo"})
        return {"rows": [asdict(r) for r in self.rows], "notes": list(self.notes),
                "reference_kinds": kinds, "counts": self.counts(), "exit_code": self.exit_code}


def demo_reference_value(stats: Mapping[str, Any], seeds: Sequence[int]) -> tuple[float, str]:
    """The demo reference for a group of records: its mean over the SAME seeds.

    A demo run with seed k on the same machine should reproduce the reference's seed k
    (op determinism is on), so a one-seed run is compared with the reference's value for
    that seed, not with the mean over the seeds the reference was recorded with. When the
    reference lacks one of the seeds, its overall mean is the reference.

    Returns:
      (value in percent, a short description of which seeds it covers).
    """
    per_seed = stats.get("per_seed") or {}
    if seeds and all(str(k) in per_seed for k in seeds):
        chosen = sorted(set(seeds))
        value = sum(float(per_seed[str(k)]) for k in chosen) / len(chosen)
        return round(value, 6), f"seeds {', '.join(map(str, chosen))}"
    return float(stats["mean"]), f"mean of {stats.get('n', '?')} recorded seed(s)"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0.0 for a single value)."""
    if not values:
        raise ValueError("mean_std of no values")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def verdict(reference: float, mean: float, std: float, abs_tol: float) -> tuple[str, float]:
    """('within' | 'better' | 'regressed', half width) of the band mean +- max(2 std, abs_tol)."""
    half = max(2.0 * std, abs_tol)
    if reference > mean + half + _EPS:
        return "regressed", half
    if reference < mean - half - _EPS:
        return "better", half
    return "within", half


def demo_reference_path(table: str, reference_dir: str | os.PathLike | None = None) -> Path:
    directory = Path(reference_dir) if reference_dir is not None else repo_root() / "data" / "reference" / "demo"
    return directory / (table.replace("/", "_") + ".json")


def load_demo_reference(table: str, reference_dir: str | os.PathLike | None = None
                        ) -> dict[str, Any] | None:
    """The recorded demo reference of `table`, validated; None when none was recorded."""
    path = demo_reference_path(table, reference_dir)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckError(f"{path}: not valid JSON ({err})") from None
    for key in ("table", "preset", "abs_tol", "runs"):
        if key not in data:
            raise CheckError(f"{path}: demo reference lacks the key '{key}'")
    if data["table"] != table or data["preset"] != "demo":
        raise CheckError(f"{path}: holds table {data['table']!r} preset {data['preset']!r}, "
                         f"expected {table!r} preset 'demo'")
    for run, entry in data["runs"].items():
        for metric, stats in entry.get("metrics", {}).items():
            if not isinstance(stats, Mapping) or not isinstance(stats.get("mean"), (int, float)):
                raise CheckError(f"{path}: runs.{run}.metrics.{metric}.mean must be a number")
        config = entry.get("config")
        if config is not None and not (isinstance(config, Mapping) and isinstance(config.get("hash"), str)):
            raise CheckError(f"{path}: runs.{run}.config must be a mapping with a string 'hash'")
    return data


def _as_records(records: Iterable[RunRecord | tuple[Any, RunRecord]]) -> list[tuple[str, RunRecord]]:
    out = []
    for item in records:
        if isinstance(item, RunRecord):
            out.append((f"<{item.table}/{item.run}/seed-{item.seed}>", item))
        else:
            path, rec = item
            out.append((str(path), rec))
    return out


def _percent_values(group: list[tuple[str, RunRecord]], metric: str) -> tuple[list[float], list[int]]:
    values, seeds = [], []
    for path, rec in group:
        v = rec.metrics.get(metric)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise CheckError(f"{path}: metrics.{metric} = {v!r}; records store fractions in [0, 1]")
        values.append(round(100.0 * v, 6))   # fraction -> percent, the one conversion
        seeds.append(rec.seed)
    return values, seeds


def _group(records: list[tuple[str, RunRecord]]) -> dict[tuple[str, str, str], list[tuple[str, RunRecord]]]:
    groups: dict[tuple[str, str, str], list[tuple[str, RunRecord]]] = defaultdict(list)
    seen: dict[tuple[str, str, str, int], str] = {}
    for path, rec in records:
        key = (rec.table, rec.run, rec.preset)
        seed_key = (*key, rec.seed)
        if seed_key in seen:
            raise CheckError(f"{path}: duplicate record of {rec.table} {rec.run} preset "
                             f"{rec.preset} seed {rec.seed} (also {seen[seed_key]})")
        seen[seed_key] = path
        groups[key].append((path, rec))
    return dict(sorted(groups.items()))


def check_records(records: Iterable[RunRecord | tuple[Any, RunRecord]], reference: str = "auto", *,
                  published: Published | None = None,
                  reference_dir: str | os.PathLike | None = None,
                  tolerance: float | None = None) -> CheckReport:
    """Compares run records with their reference and returns a CheckReport.

    Args:
      records: RunRecords or (path, RunRecord) pairs (as returned by find_records).
      reference: "auto" (demo preset -> demo reference, others -> paper), "paper" or "demo";
        an explicit choice that does not fit a record's preset is a CheckError.
      published: published numbers (default: load_published()).
      reference_dir: directory of demo references (default data/reference/demo).
      tolerance: absolute tolerance in points overriding the per-table value.
    """
    if reference not in ("auto", "paper", "demo"):
        raise CheckError(f"reference must be auto, paper or demo, got {reference!r}")
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise CheckError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    groups = _group(_as_records(records))
    report = CheckReport()
    demo_cache: dict[str, dict[str, Any] | None] = {}
    paper_tables: set[str] = set()
    checked_paper_runs: set[tuple[str, str]] = set()
    for (table, run, preset), group in groups.items():
        kind = "demo" if preset == "demo" else "paper"
        if reference != "auto" and reference != kind:
            raise CheckError(f"{group[0][0]}: preset '{preset}' is checked against the "
                             f"{kind} reference; --reference {reference} does not apply "
                             "(demo runs are never compared with the papers' numbers)")
        faithful = all(rec.faithful for _, rec in group)
        deviations = tuple(sorted({d for _, rec in group for d in rec.deviations}))
        paths = tuple(p for p, _ in group)
        refs: dict[str, tuple[float, float, str]] = {}     # metric -> (value, abs_tol, source)
        reason = ""
        if kind == "paper":
            if published is None:
                published = load_published()
            paper_tables.add(table)
            checked_paper_runs.add((table, run))
            for metric in METRICS:
                cell = published.get(table, run, metric)
                if cell is not None:
                    refs[metric] = (cell.value, published.abs_tol(table),
                                    f"{cell.paper} Table {cell.table_printed}, line {cell.line}, "
                                    f"{cell.row} / {cell.column}")
        else:
            if table not in demo_cache:
                demo_cache[table] = load_demo_reference(table, reference_dir)
            demo = demo_cache[table]
            mismatch = config_mismatch(demo["runs"].get(run, {}).get("config"), group) if demo else None
            if mismatch:
                reason = mismatch
                report.notes.append(f"{table} {run} ({preset}): no reference ({mismatch})")
            elif demo is not None:
                for metric, stats in demo["runs"].get(run, {}).get("metrics", {}).items():
                    seeds = [rec.seed for _, rec in group]
                    value, which = demo_reference_value(stats, seeds)
                    refs[metric] = (value, float(demo["abs_tol"]),
                                    f"kit demo reference {demo_reference_path(table, reference_dir).name} "
                                    f"({which}; commit {demo['runs'][run].get('kit_commit', '?')}, "
                                    f"{demo['runs'][run].get('recorded', '?')})")
            else:
                report.notes.append(f"{table}: no demo reference recorded at "
                                    f"{demo_reference_path(table, reference_dir)}; record one with "
                                    "python -m replication.check --record-reference RESULTS")
        for metric in [m for m in METRICS if m in refs or any(r.metrics.get(m) is not None for _, r in group)]:
            values, seeds = _percent_values(group, metric)
            if not values:
                report.notes.append(f"{table} {run} ({preset}): no {metric} in its records, "
                                    "although the reference has one")
                continue
            mean, std = mean_std(values)
            base = dict(table=table, run=run, metric=metric, preset=preset, mean=round(mean, 6),
                        std=round(std, 6), n=len(values), values=tuple(values), seeds=tuple(seeds),
                        faithful=faithful, deviations=deviations, records=paths)
            if metric not in refs:
                report.rows.append(CheckRow(verdict="no reference", reference_kind=None, reference=None,
                                            reference_source="", reason=reason, **base))
                continue
            ref, abs_tol, source = refs[metric]
            abs_tol = tolerance if tolerance is not None else abs_tol
            v, half = verdict(ref, mean, std, abs_tol)
            report.rows.append(CheckRow(verdict=v, reference_kind=kind, reference=ref, reference_source=source,
                                        abs_tol=abs_tol, half_width=round(half, 6),
                                        delta=round(mean - ref, 6), **base))
    if published is not None:
        for table in sorted(paper_tables):
            if table not in published.tables:
                report.notes.append(f"{table}: no published table of that name "
                                    f"(published: {', '.join(published.table_names())})")
                continue
            missing = []
            for cell in published.cells_of(table):
                if not cell.rerun:
                    report.rows.append(CheckRow(
                        table=table, run=cell.run, metric=cell.metric, preset="-", verdict="published-only",
                        reference_kind="paper", reference=cell.value, mean=None, std=None, n=0,
                        reference_source=f"{cell.paper} Table {cell.table_printed}, line {cell.line}, "
                                         f"{cell.row} / {cell.column}"))
                elif (table, cell.run) not in checked_paper_runs and cell.run not in missing:
                    missing.append(cell.run)
            if missing:
                report.notes.append(f"{table}: {len(missing)} published run(s) without records: {', '.join(missing)}")
    report.notes.extend(_decision_notes([rec for group in groups.values() for _, rec in group]))
    if any(r.reference_kind == "demo" for r in report.rows) or any(p == "demo" for (_, _, p) in groups):
        report.notes.insert(0, "Demo-preset runs are compared with the kit's own recorded demo results "
                               "(data/reference/demo), NOT with the papers' published numbers.")
    return report


def _decision_notes(records: list[RunRecord]) -> list[str]:
    """Notes for register ids named by records but absent from replication/decisions/."""
    ids = {i for rec in records for i in rec.decisions}
    if not ids:
        return []
    from replication.decisions import DecisionsError, load_decisions, unknown_ids
    try:
        missing = unknown_ids(ids, load_decisions())
    except DecisionsError as err:
        return [f"register of decisions not readable: {err}"]
    return [f"records name decision id(s) missing from the register: {', '.join(missing)}"] if missing else []


def kit_commit() -> str:
    """The checkout's git commit, or 'unknown' outside a git checkout."""
    try:
        out = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def record_demo_reference(records: Iterable[RunRecord | tuple[Any, RunRecord]],
                          reference_dir: str | os.PathLike | None = None,
                          abs_tol: float | None = None, commit: str | None = None) -> list[Path]:
    """(Re)writes the demo reference of every table in `records` (preset 'demo' only).

    Runs already in a table's reference file and absent from `records` are kept. Returns
    the files written (atomically).
    """
    groups = _group(_as_records(records))
    if not groups:
        raise CheckError("no records given; nothing to record")
    for (table, run, preset), group in groups.items():
        if preset != "demo":
            raise CheckError(f"{group[0][0]}: preset '{preset}'; only demo-preset records make the demo reference")
    commit = commit or kit_commit()
    stamp = now_iso()
    written = []
    for table in sorted({t for t, _, _ in groups}):
        path = demo_reference_path(table, reference_dir)
        data = load_demo_reference(table, reference_dir) or {
            "format": "kd-replication demo reference", "version": 1, "table": table, "preset": "demo",
            "units": "percent", "note": DEMO_NOTE, "abs_tol": 1.5, "runs": {}}
        if abs_tol is not None:
            data["abs_tol"] = abs_tol
        for (t, run, _), group in groups.items():
            if t != table:
                continue
            metrics = {}
            for metric in METRICS:
                values, seeds = _percent_values(group, metric)
                if values:
                    mean, std = mean_std(values)
                    metrics[metric] = {"mean": round(mean, 6), "std": round(std, 6), "n": len(values),
                                       "per_seed": {str(s): v for s, v in zip(seeds, values)}}
            data["runs"][run] = {"kit_commit": commit, "recorded": stamp,
                                 "faithful": all(r.faithful for _, r in group), "metrics": metrics}
            try:
                config = common_config(group)
            except ValueError as err:
                raise CheckError(f"{table} {run}: {err}") from None
            if config is not None:
                data["runs"][run]["config"] = config
        data["runs"] = dict(sorted(data["runs"].items()))
        data["kit_commit"], data["recorded"] = commit, stamp
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")
        written.append(path)
    return written


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m replication.check", description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="results directories or results.json files")
    p.add_argument("--reference", choices=("auto", "paper", "demo"), default="auto",
                   help="auto: demo preset -> kit demo reference, other presets -> papers (default)")
    p.add_argument("--tolerance", type=float, default=None,
                   help="absolute tolerance in points (default: per table, 1.5)")
    p.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    p.add_argument("--json", type=Path, help="write the report as JSON here")
    p.add_argument("--reference-dir", type=Path, default=None, help="demo reference directory")
    p.add_argument("--published", type=Path, action="append", default=None,
                   help="a published-results YAML file (repeatable; default data/published/*.yaml)")
    p.add_argument("--record-reference", action="store_true",
                   help="(re)write the demo reference from the given demo records instead of checking")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from replication import report as report_mod   # rendering lives in report.py
    args = _parser().parse_args(argv)
    try:
        records = find_records(args.results)
        if not records:
            raise CheckError(f"no results.json under {', '.join(map(str, args.results))}")
        if args.record_reference:
            for path in record_demo_reference(records, args.reference_dir, abs_tol=args.tolerance):
                print(f"wrote {path}")
            return 0
        published = load_published(args.published) if args.published else None
        result = check_records(records, args.reference, published=published,
                               reference_dir=args.reference_dir, tolerance=args.tolerance)
    except (CheckError, PublishedError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    data = result.to_dict()
    print(report_mod.check_text(data))
    if args.markdown:
        atomic_write_text(args.markdown, report_mod.check_markdown(data))
    if args.json:
        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
