"""Renders check reports, run records and published tables as text, Markdown and JSON.

Everything here works on plain data (a check report's `to_dict()` or its saved JSON, run
records, published cells), so a documentation table can be regenerated from saved files:

    python -m replication.report --check-json check.json --into docs/paper1.md --section paper1-results
    python -m replication.report --check-json check.json --into docs/paper2.md --section paper2-results
    python -m replication.report --published paper2/tableVII      # print a published table

`replace_between_markers` swaps the text between `<!-- BEGIN name -->` and
`<!-- END name -->` in a Markdown file (atomically), so the tables of the README and of
docs/ are generated, never typed (docs/checker.md lists every section and its command).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from replication.published import PublishedError
from shared.cli import command
from shared.config import atomic_write_text

_METRIC_LABEL = {"accuracy": "accuracy", "map_at_3": "mAP@3"}


class ReportError(ValueError):
    """Bad input to a renderer or a Markdown file without the expected markers."""


def _as_dict(report: Any) -> Mapping[str, Any]:
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    if not isinstance(report, Mapping) or "rows" not in report:
        raise ReportError("expected a check report (CheckReport or its to_dict()/JSON form)")
    return report


def _num(x: float | None, digits: int = 2, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _achieved(row: Mapping[str, Any]) -> str:
    if row.get("mean") is None:
        return "-"
    return f"{row['mean']:.2f} ± {row['std']:.2f}"


def _reference(row: Mapping[str, Any]) -> str:
    if row.get("reference") is None:
        return "-"
    kind = "kit demo" if row["reference_kind"] == "demo" else row["reference_kind"]
    return f"{row['reference']:.2f} ({kind})"


def _verdict(row: Mapping[str, Any]) -> str:
    return (row["verdict"] + ("" if row.get("faithful", True) else " [not faithful]")
            + (" [rehearsal]" if row.get("rehearsal") else ""))


CHECK_HEADERS = ("table", "run", "metric", "reference", "achieved mean ± std", "n", "delta", "band ±", "verdict")


def check_rows(report: Any) -> list[list[str]]:
    """The check report as rows of strings (CHECK_HEADERS order)."""
    return [[r["table"], r["run"], _METRIC_LABEL.get(r["metric"], r["metric"]), _reference(r),
             _achieved(r), str(r["n"]), _num(r.get("delta"), signed=True), _num(r.get("half_width")),
             _verdict(r)]
            for r in _as_dict(report)["rows"]]


def _deviation_lines(report: Mapping[str, Any]) -> list[str]:
    """One line per distinct deviation list, naming every run that shares it.

    A demo table typically has a dozen runs with the same deviations (the demo data
    and sizes); listing them once keeps the verdicts readable.
    """
    groups: dict[str, list[str]] = {}
    seen = set()
    for r in report["rows"]:
        ident = (r["table"], r["run"], r["preset"])
        if r.get("faithful", True) or ident in seen:
            continue
        seen.add(ident)
        devs = "; ".join(r.get("deviations") or ["(no deviation listed)"])
        groups.setdefault(devs, []).append(f"{r['table']} {r['run']} ({r['preset']})")
    out = []
    for devs, runs in groups.items():
        who = runs[0] if len(runs) == 1 else f"{len(runs)} runs ({', '.join(runs)})"
        out.append(f"{who}: {devs}")
    return out


REFERENCE_STATEMENTS = {
    "paper": "Reference (paper): the numbers published in the papers (data/published/).",
    "demo": ("Reference (kit demo): the kit's OWN recorded demo-preset results (data/reference/demo/); "
             "these are NOT the papers' numbers and say nothing about replicating them."),
}


def _reference_lines(report: Mapping[str, Any]) -> list[str]:
    return [REFERENCE_STATEMENTS[k] for k in report.get("reference_kinds", []) if k in REFERENCE_STATEMENTS]


def _summary(report: Mapping[str, Any]) -> str:
    counts = report.get("counts") or {}
    parts = [f"{k}: {v}" for k, v in counts.items() if v]
    return ", ".join(parts) if parts else "no cells"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table for the terminal."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def check_text(report: Any) -> str:
    """Terminal rendering: the side-by-side table, then flagged deviations and notes."""
    data = _as_dict(report)
    out = [*_reference_lines(data), "", text_table(CHECK_HEADERS, check_rows(data)), "",
           f"Summary: {_summary(data)}"]
    devs = _deviation_lines(data)
    if devs:
        out += ["", "Runs flagged not faithful to the paper (deviations):", *[f"  - {d}" for d in devs]]
    if data.get("notes"):
        out += ["", "Notes:", *[f"  - {n}" for n in data["notes"]]]
    return "\n".join(out)


def _md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; '|' in cells is escaped."""
    if any(len(r) != len(headers) for r in rows):
        raise ReportError(f"every row needs {len(headers)} cells")
    lines = ["| " + " | ".join(map(_md_escape, headers)) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(map(_md_escape, r)) + " |" for r in rows]
    return "\n".join(lines)


def check_markdown(report: Any) -> str:
    """Markdown rendering of a check report."""
    data = _as_dict(report)
    out = [*[f"> {line}" for line in _reference_lines(data)], "",
           markdown_table(CHECK_HEADERS, check_rows(data)), "", f"Summary: {_summary(data)}."]
    devs = _deviation_lines(data)
    if devs:
        out += ["", "Runs flagged **not faithful** to the paper:", "", *[f"- {d}" for d in devs]]
    if data.get("notes"):
        out += ["", "Notes:", "", *[f"- {n}" for n in data["notes"]]]
    return "\n".join(out) + "\n"


def _record_of(item: Any) -> Any:
    return item[1] if isinstance(item, tuple) else item


RECORD_HEADERS = ("table", "run", "preset", "seed", "accuracy (%)", "mAP@3 (%)", "faithful")


def records_markdown(records: Iterable[Any]) -> str:
    """One Markdown row per run record (metrics converted from fractions to percent)."""
    rows = []
    for rec in sorted(map(_record_of, records), key=lambda r: (r.table, r.run, r.preset, r.seed)):
        pct = [_num(100.0 * rec.metrics[m]) if rec.metrics.get(m) is not None else "-"
               for m in ("accuracy", "map_at_3")]
        rows.append([rec.table, rec.run, rec.preset, rec.seed, *pct, "yes" if rec.faithful else "no"])
    return markdown_table(RECORD_HEADERS, rows) + "\n"


def records_json(records: Iterable[Any]) -> str:
    """The records as a JSON list (as stored, metrics in fractions)."""
    return json.dumps([dict(_record_of(r).__dict__) for r in records], indent=2, default=str) + "\n"


def published_markdown(published: Any, table: str) -> str:
    """A published table as Markdown, one line per run: run, printed row, metrics (percent)."""
    t = published.table(table)
    by_run: dict[str, dict[str, Any]] = {}
    for cell in published.cells_of(table):
        by_run.setdefault(cell.run, {"row": (f"{cell.group} / " if cell.group else "") + cell.row,
                                     "rerun": cell.rerun})[cell.metric] = cell
    metrics = [m for m in _METRIC_LABEL if any(m in v for v in by_run.values())]
    headers = ["run", "printed row", *[_METRIC_LABEL[m] + " (%)" for m in metrics], "kit run"]
    rows = [[run, v["row"], *[_num(v[m].value) if m in v else "-" for m in metrics],
             "yes" if v["rerun"] else "published only"] for run, v in by_run.items()]
    title = f"{t.paper} Table {t.printed}: {t.about}".rstrip()
    return f"**{_md_escape(title)}**\n\n" + markdown_table(headers, rows) + "\n"


def replace_between_markers(path: str | os.PathLike, name: str, content: str) -> bool:
    """Replaces the text between `<!-- BEGIN name -->` and `<!-- END name -->` in `path`.

    Returns True when the file changed. Raises ReportError naming the file and marker when
    the pair is missing, repeated or out of order.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", name):
        raise ReportError(f"marker name {name!r} may only hold letters, digits and _ . : / -")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: file not found") from None
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    nb, ne = text.count(begin), text.count(end)
    if nb != 1 or ne != 1:
        raise ReportError(f"{path}: expected exactly one '{begin}' and one '{end}', "
                          f"found {nb} and {ne}")
    i, j = text.index(begin), text.index(end)
    if j < i:
        raise ReportError(f"{path}: '{end}' comes before '{begin}'")
    body = "\n" + content.strip("\n") + "\n"
    new = text[: i + len(begin)] + body + text[j:]
    if new == text:
        return False
    atomic_write_text(path, new)
    return True


@command("python -m replication.report", ReportError, PublishedError)
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 ok, 2 bad input (one line on stderr, docs/errors.md)."""
    p = argparse.ArgumentParser(prog="python -m replication.report",
                                description="Render a saved check report or a published table as Markdown.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--check-json", type=Path, help="a JSON written by python -m replication.check --json")
    src.add_argument("--published", metavar="TABLE", help="a published table, e.g. paper1/table4")
    p.add_argument("--into", type=Path, help="Markdown file whose marked section is replaced")
    p.add_argument("--section", help="marker name (<!-- BEGIN name --> ... <!-- END name -->)")
    args = p.parse_args(argv)
    if args.check_json:
        try:
            md = check_markdown(json.loads(args.check_json.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ReportError(f"{args.check_json}: {err}") from None
    else:
        from replication.published import load_published
        md = published_markdown(load_published(), args.published)
    if args.into:
        if not args.section:
            raise ReportError("--into needs --section")
        changed = replace_between_markers(args.into, args.section, md)
        print(f"{args.into}: section '{args.section}' {'updated' if changed else 'unchanged'}")
    else:
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
