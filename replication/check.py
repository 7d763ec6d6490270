"""Result checker: run records against the papers' numbers or the kit's demo reference.

    python -m replication.check results/ [--reference auto|paper|demo] [--tolerance 1.5]
                                [--markdown check.md] [--json check.json]
    python -m replication.check --record-reference results/     # (re)write the demo reference

Records are grouped by (table, run, preset); each metric gets mean +- std over seeds
(sample std, n-1; 0 with one seed). Records store fractions in [0, 1]; references are
percent, so achieved values are multiplied by 100 here and nowhere else.

Reference: chosen by what was run, never by the preset's name. Records of runs on the
generated demo data set (record.dataset "demo") are compared with the kit's OWN recorded
demo results (data/reference/demo/<table with / as _>.json), never with the papers; runs
on a real data set are compared with data/published/*.yaml, and a run whose resolved
config departs from the paper preset (record extra["paper_diff"], written by the table
runners) is still compared, flagged with the keys and register ids it changed.
Verdict per cell against the papers (REPLICATION_NOTES.md "How close is close enough"):
with half = max(2 * std, abs_tol),
  "within"     reference inside [mean - half, mean + half]
  "better"     the achieved band lies above the reference
  "regressed"  the achieved band lies below the reference
  "no reference", "published-only" (a paper cell the kit does not rerun).
Against the demo reference the band comes from the reference's seed spread and the run's
number of seeds (replication/band.py, register check-demo-band), so an unchanged kit on
another CPU passes and a wiring break is still flagged.
A demo reference stores, per run, the config fingerprint (replication/fingerprint.py) of
the runs it was recorded from; records whose own fingerprint (extra["config"]) differs
get "no reference" with the reason "config differs: <keys>" (row.reason and a note):
a reference says nothing about another configuration.
Records of a rehearsal (replication/rehearsal.py) are compared too; their rows are
labelled and never count as a regression.
The exit status is 1 iff any cell regressed (2 for bad input: one line on stderr,
`python -m replication.check: error: ...`, docs/errors.md).
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

from replication.band import ALPHA, MIN_SEEDS, Pooled, demo_band, pooled_sd
from replication.fingerprint import common_config, config_mismatch, record_config
from replication.published import METRICS, Published, PublishedError, load_published, repo_root
from replication.records import RecordError, RunRecord, find_records, host_summary, now_iso
from replication.rehearsal import NOTE, is_rehearsal
from shared.cli import command
from shared.config import atomic_write_text

VERDICTS = ("within", "better", "regressed", "no reference", "published-only")
DEMO_NOTE = ("The kit's own demo-preset results, recorded to catch regressions of the kit. "
             "These are NOT the papers' numbers.")
_EPS = 1e-9
# Host facts a demo reference keeps per run, printed beside the run's own on a regression.
HOST_KEYS = ("cpu_model", "cpu_count", "vector_flags", "tensorflow", "keras", "onednn", "intra_op_threads", "env")


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
    band: str = ""                      # demo cells: how the band was derived (replication/band.py)
    rehearsal: bool = False             # records of a rehearsal (replication/rehearsal.py): shown, never a regression


@dataclass
class CheckReport:
    """All rows plus notes; `exit_code` is 1 iff a row regressed."""
    rows: list[CheckRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> list[CheckRow]:
        """Regressed rows, rehearsal rows excepted (their verdicts are shown, not counted)."""
        return [r for r in self.rows if r.verdict == "regressed" and not r.rehearsal]

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


def same_seed_values(stats: Mapping[str, Any], seeds: Sequence[int]) -> str:
    """The reference's own values at the run's seeds, for the report ("seed 0: 60.83"):
    on the reference's machine a run reproduces them bit for bit; elsewhere they only say
    how far this machine moved the same seeds. Never used for the verdict."""
    per_seed = stats.get("per_seed") or {}
    known = [f"seed {k}: {float(per_seed[str(k)]):.2f}" for k in sorted(set(seeds)) if str(k) in per_seed]
    return ", ".join(known)


def reference_kind(records: Sequence[tuple[str, RunRecord]]) -> str:
    """"demo" for runs on the generated demo data set, "paper" for every other data set.

    Decided by what was run (the record's data set), never by the preset's name: a copied
    or renamed demo preset still runs on the demo data.

    Raises:
      CheckError: the records of one run name different data sets.
    """
    datasets = {rec.dataset or _config_dataset(rec) for _, rec in records}
    if len(datasets) > 1:
        raise CheckError(f"{records[0][0]}: records of one run were made on different data sets "
                         f"({', '.join(sorted(map(str, datasets)))})")
    dataset = datasets.pop() if datasets else ""
    if not dataset:       # records written before the data set was stored: the preset decides
        return "demo" if records[0][1].preset == "demo" else "paper"
    return "demo" if dataset == "demo" else "paper"


def _config_dataset(rec: RunRecord) -> str:
    fields = (record_config(rec.extra) or {}).get("fields", {})
    return str(fields.get("data.dataset") or "")


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


def _pooled(demo: Mapping[str, Any], metric: str) -> Pooled:
    """Pooled seed std of `metric` over every run of a demo reference (replication/band.py)."""
    return pooled_sd(entry["metrics"][metric] for entry in demo["runs"].values()
                     if metric in entry.get("metrics", {}))


def _few_seeds(demo: Mapping[str, Any], run: str) -> int:
    """The seed count of a reference run recorded over fewer than MIN_SEEDS seeds, else 0."""
    ns = [int(stats.get("n") or 0) for stats in demo["runs"].get(run, {}).get("metrics", {}).values()]
    n = min(ns) if ns else MIN_SEEDS
    return n if n < MIN_SEEDS else 0


def _paper_diff_reason(group: Sequence[tuple[str, RunRecord]]) -> str:
    """"config departs from the paper preset in ... (register ...)" from the records'
    extra["paper_diff"] (written by the table runners), or "" when they ran the paper's settings."""
    keys: set[str] = set()
    ids: set[str] = set()
    for _, rec in group:
        diff = rec.extra.get("paper_diff") if isinstance(rec.extra, Mapping) else None
        if isinstance(diff, Mapping):
            keys.update(diff.get("keys") or [])
            ids.update(diff.get("decisions") or [])
    if not keys:
        return ""
    shown = sorted(keys)
    text = "; ".join(shown[:6]) + (f"; ... {len(shown) - 6} more" if len(shown) > 6 else "")
    return (f"config departs from the paper preset: {text}"
            + (f" (register {', '.join(sorted(ids))})" if ids else ""))


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
    hosts: dict[str, tuple[Any, Any]] = {}     # table -> (run's host, reference's host) of a regression
    for (table, run, preset), group in groups.items():
        kind = reference_kind(group)
        if reference != "auto" and reference != kind:
            raise CheckError(f"{group[0][0]}: a run on the {'demo' if kind == 'demo' else 'real'} data "
                             f"set is checked against the {kind} reference; --reference {reference} does "
                             "not apply (demo runs are never compared with the papers' numbers)")
        faithful = all(rec.faithful for _, rec in group)
        rehearsal = any(is_rehearsal(rec) for _, rec in group)
        deviations = tuple(sorted({d for _, rec in group for d in rec.deviations}))
        paths = tuple(p for p, _ in group)
        refs: dict[str, dict[str, Any]] = {}     # metric -> {value, abs_tol, source[, stats, pooled]}
        reason = ""
        if kind == "paper":
            if published is None:
                published = load_published()
            paper_tables.add(table)
            checked_paper_runs.add((table, run))
            reason = _paper_diff_reason(group)
            if reason:
                report.notes.append(f"{table} {run} ({preset}): compared with the paper, but {reason}")
            for metric in METRICS:
                cell = published.get(table, run, metric)
                if cell is not None:
                    refs[metric] = {"value": cell.value, "abs_tol": published.abs_tol(table),
                                    "source": f"{cell.paper} Table {cell.table_printed}, line {cell.line}, "
                                              f"{cell.row} / {cell.column}"}
        else:
            if table not in demo_cache:
                demo_cache[table] = load_demo_reference(table, reference_dir)
            demo = demo_cache[table]
            mismatch = config_mismatch(demo["runs"].get(run, {}).get("config"), group) if demo else None
            if mismatch:
                reason = mismatch
                report.notes.append(f"{table} {run} ({preset}): no reference ({mismatch})")
            elif demo is not None and _few_seeds(demo, run):
                reason = (f"reference recorded over {_few_seeds(demo, run)} seed(s); a band needs >= "
                          f"{MIN_SEEDS} (re-record: python -m replication.check --record-reference RESULTS)")
                report.notes.append(f"{table} {run} ({preset}): no reference ({reason})")
            elif demo is not None:
                entry = demo["runs"].get(run, {})
                for metric, stats in entry.get("metrics", {}).items():
                    refs[metric] = {"value": float(stats["mean"]), "abs_tol": float(demo["abs_tol"]),
                                    "stats": stats, "pooled": _pooled(demo, metric),
                                    "alpha": float(demo.get("alpha", ALPHA)),
                                    "source": f"kit demo reference {demo_reference_path(table, reference_dir).name} "
                                              f"(mean of {stats.get('n', '?')} seed(s); commit "
                                              f"{entry.get('kit_commit', '?')}, {entry.get('recorded', '?')})"}
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
                        faithful=faithful, deviations=deviations, records=paths, reason=reason,
                        rehearsal=rehearsal)
            if metric not in refs:
                report.rows.append(CheckRow(verdict="no reference", reference_kind=None, reference=None,
                                            reference_source="", **base))
                continue
            ref = refs[metric]
            abs_tol = tolerance if tolerance is not None else ref["abs_tol"]
            band_text = ""
            if kind == "demo":
                band = demo_band(ref["stats"], ref["pooled"], len(values), abs_tol, ref["alpha"])
                v, half = band.verdict(mean), band.half
                same = same_seed_values(ref["stats"], seeds)
                band_text = band.describe() + (f"; reference at the same seed(s): {same}" if same else "")
            else:
                v, half = verdict(ref["value"], mean, std, abs_tol)
            report.rows.append(CheckRow(verdict=v, reference_kind=kind, reference=ref["value"],
                                        reference_source=ref["source"], abs_tol=abs_tol,
                                        half_width=round(half, 6), delta=round(mean - ref["value"], 6),
                                        band=band_text, **base))
            if v == "regressed" and kind == "demo":
                hosts[table] = (group[0][1].host, demo["runs"].get(run, {}).get("host"))
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
    for table, (own, ref_host) in sorted(hosts.items()):
        report.notes.append(f"{table} regressed against the demo reference. This machine: "
                            f"{host_summary(own)}. Reference recorded on: {host_summary(ref_host)}.")
    if any(r.rehearsal for r in report.rows):
        report.notes.insert(0, f"{NOTE}. Their verdicts are labelled [rehearsal] and never count as a "
                               "regression (exit status 0).")
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
                          abs_tol: float | None = None, commit: str | None = None,
                          min_seeds: int = MIN_SEEDS) -> list[Path]:
    """(Re)writes the demo reference of every table in `records` (preset 'demo' only).

    Runs already in a table's reference file and absent from `records` are kept. Returns
    the files written (atomically).
    """
    groups = _group(_as_records(records))
    if not groups:
        raise CheckError("no records given; nothing to record")
    few = sorted(f"{t} {r} ({len(g)} seed(s))" for (t, r, _), g in groups.items() if len(g) < min_seeds)
    if few:
        raise CheckError(f"a demo reference needs >= {min_seeds} seeds per run to know its seed spread "
                         f"(replication/band.py); too few: {', '.join(few[:4])}"
                         + (f" and {len(few) - 4} more" if len(few) > 4 else ""))
    for (table, run, preset), group in groups.items():
        if reference_kind(group) != "demo":
            raise CheckError(f"{group[0][0]}: not a run on the demo data set; only demo-data records "
                             "make the demo reference")
    commit = commit or kit_commit()
    stamp = now_iso()
    written = []
    for table in sorted({t for t, _, _ in groups}):
        path = demo_reference_path(table, reference_dir)
        data = load_demo_reference(table, reference_dir) or {
            "format": "kd-replication demo reference", "version": 1, "table": table, "preset": "demo",
            "units": "percent", "note": DEMO_NOTE, "abs_tol": 1.5, "runs": {}}
        data["version"], data["alpha"] = 2, data.get("alpha", ALPHA)
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
                                 "faithful": all(r.faithful for _, r in group), "metrics": metrics,
                                 "host": {k: group[0][1].host.get(k) for k in HOST_KEYS
                                          if isinstance(group[0][1].host, dict)}}
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
    p.add_argument("--min-seeds", type=int, default=MIN_SEEDS,
                   help=f"with --record-reference: seeds each run needs (default {MIN_SEEDS})")
    p.add_argument("--record-reference", action="store_true",
                   help="(re)write the demo reference from the given demo records instead of checking")
    return p


@command("python -m replication.check", CheckError, PublishedError, RecordError)
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 no cell regressed, 1 a cell regressed, 2 bad input (one line on stderr)."""
    from replication import report as report_mod   # rendering lives in report.py
    args = _parser().parse_args(argv)
    records = find_records(args.results)
    if not records:
        raise CheckError(f"no results.json under {', '.join(map(str, args.results))}")
    if args.record_reference:
        for path in record_demo_reference(records, args.reference_dir, abs_tol=args.tolerance,
                                          min_seeds=args.min_seeds):
            print(f"wrote {path}")
        return 0
    published = load_published(args.published) if args.published else None
    result = check_records(records, args.reference, published=published,
                           reference_dir=args.reference_dir, tolerance=args.tolerance)
    data = result.to_dict()
    print(report_mod.check_text(data))
    if args.markdown:
        atomic_write_text(args.markdown, report_mod.check_markdown(data))
    if args.json:
        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
