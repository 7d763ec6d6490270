"""Rehearse every table and figure command of both papers in turn and tabulate what each cost.

    python -m replication.drivers.rehearsals                                  # all, resumable
    python -m replication.drivers.rehearsals --only "paper1 --table 5" "paper2 --figure 3"
    python -m replication.drivers.rehearsals --report-only --into docs/scale.md --section rehearsal_times

Each target is the command a user types with `--rehearse` (replication/rehearsal.py),
`python -m paper1_ts.run --table 6 --rehearse --results <results>`, run as a child process
so its wall time and peak resident memory are its own (os.wait4's rusage of that child).
The child's output goes to `<results>/_logs/<target>.log`; its "rehearsal cost" lines are
kept. After every target the measurements are written (atomically) to `--out`, so an
interrupted run resumes where it stopped: a target already measured with exit 0 is not run
again (`--redo` runs it anyway). A target that exits non-zero is recorded with its exit
code and the last lines of its log, and the driver goes on and exits 1 at the end.

All targets share one results root, hence one job store: a later command reuses the
models an earlier one trained (Table 5 reuses Table 4's teachers, Figure 1 Table 6's), so
a row is the cost of a command after the rows above it, in this order, and the total is
what rehearsing everything costs. The table says so. Load average is recorded beside each
row: on a shared host every figure is slower than on an idle one.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from replication.check import kit_commit
from replication.rehearsal import cost_block
from shared.cli import EXIT_FAILED, EXIT_OK, UsageError, command
from shared.config import atomic_write_text

PROG = "python -m replication.drivers.rehearsals"
DEFAULT_RESULTS = "results/rehearsal_all"
DEFAULT_OUT = "docs/results/rehearsal/times.json"
TAIL_LINES = 8                      # log lines kept for a target that failed
MODULES = {"paper1": "paper1_ts.run", "paper2": "paper2_multirep.run"}


@dataclass(frozen=True)
class Target:
    """One command to rehearse: `label` ("paper1 --table 6") and the argv after `python`."""
    label: str
    argv: tuple[str, ...]


def paper_target(label: str, results: str) -> Target:
    """The Target of "paper1 --table 6" / "paper2 --figure 3": that paper's run command with
    --rehearse into `results`. Raises UsageError for a label of another form."""
    m = re.fullmatch(r"(paper[12]) (--table|--figure) ([0-9A-Za-z]+)", label.strip())
    if not m:
        raise UsageError(f"target {label!r}: expected 'paper1|paper2 --table N' or '... --figure N'")
    paper, option, which = m.groups()
    return Target(label.strip(), ("-m", MODULES[paper], option, which, "--rehearse", "--results", results))


def default_labels() -> list[str]:
    """Every table and figure command of both papers, in the papers' order: the tables the
    registry holds and the figure commands' choices (tests/replication/test_rehearsals.py
    checks this list against them)."""
    return ([f"paper1 --table {n}" for n in ("1", "4", "5", "6")]
            + [f"paper1 --figure {n}" for n in ("1", "2")]
            + [f"paper2 --table {n}" for n in ("I", "II", "III", "IV", "V", "VI", "VII")]
            + [f"paper2 --figure {n}" for n in ("3", "4", "5")])


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")


def run_target(target: Target, log_path: Path, python: str = sys.executable) -> dict:
    """Runs one target as a child (output to `log_path`) and returns its measurement."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([python, *target.argv], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:            # Ctrl-C: stop the child too, record nothing
            proc.kill()
            proc.wait()
            raise
        proc.returncode = code = os.waitstatus_to_exitcode(status)
    seconds = time.time() - t0
    text = log_path.read_text(encoding="utf-8", errors="replace")
    entry = {"label": target.label, "command": "python " + " ".join(target.argv), "exit": code,
             "wall_s": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),   # Linux: KB
             "load_start": round(load_start, 2), "load_end": round(os.getloadavg()[0], 2),
             "started": started, "commit": kit_commit()[:7], "cpus": os.cpu_count(),
             "log": str(log_path), "cost": [ln for ln in cost_block(text).splitlines() if ln.strip()]}
    if code != 0:
        entry["tail"] = text.splitlines()[-TAIL_LINES:]
    return entry


def load_times(path: Path) -> dict:
    """The measurements file ({"entries": {label: entry}}); empty when absent. A file that
    is not such a JSON is an error naming it (never overwritten silently)."""
    if not path.exists():
        return {"entries": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: not a JSON file of rehearsal times ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise UsageError(f"{path}: not a JSON file of rehearsal times (no 'entries' mapping)")
    return data


def run_all(targets: Sequence[Target], out: Path, logs: Path, redo: bool = False,
            run: Callable[[Target, Path], dict] = run_target, say: Callable[[str], None] = print) -> dict:
    """Runs the targets not yet measured with exit 0 (all with `redo`), saving after each."""
    data = load_times(out)
    for i, target in enumerate(targets, 1):
        old = data["entries"].get(target.label)
        if old is not None and old.get("exit") == 0 and not redo:
            say(f"[{i}/{len(targets)}] {target.label}: measured {old['started']} ({_minutes(old['wall_s'])}), kept")
            continue
        log = logs / f"{_slug(target.label)}.log"
        say(f"[{i}/{len(targets)}] {target.label}: running (log {log})")
        entry = run(target, log)
        data["entries"][target.label] = entry
        atomic_write_text(out, json.dumps(data, indent=1) + "\n")
        say(f"    exit {entry['exit']}, {_minutes(entry['wall_s'])}, peak RSS {entry['peak_rss_mb'] / 1024:.1f} GB")
    return data


def _minutes(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"


def render(data: dict, order: Sequence[str]) -> str:
    """The Markdown table of the measurements, in `order` (then any other label)."""
    entries = data["entries"]
    labels = [lb for lb in order if lb in entries] + sorted(set(entries) - set(order))
    lines = [f"Every table and figure command rehearsed in turn into one results root, by `{PROG}` "
             "(times in `docs/results/rehearsal/times.json`), each with `--results` set to that root. They share "
             "one job store, so a row is "
             "the cost of that command after the rows above it; commands not yet measured are listed "
             "as such. Load average: 1-minute, at start and end (2 cores; above 2 the host was shared).",
             "", "| command | wall time | peak RSS | exit | load avg | measured |", "|---|---|---|---|---|---|"]
    for lb in labels:
        e = entries[lb]
        shown = re.sub(r" --results \S+", "", e["command"])      # the root is the same for all
        lines.append(f"| `{shown}` | {_minutes(e['wall_s'])} | "
                     f"{e['peak_rss_mb'] / 1024:.1f} GB | {e['exit']} | {e['load_start']:.1f} - {e['load_end']:.1f} | "
                     f"{e['started']}, {e['commit']} |")
    for lb in order:
        if lb not in entries:
            lines.append(f"| `{lb}` | not measured yet | | | | |")
    done = [entries[lb] for lb in labels if entries[lb]["exit"] == 0]
    if done:
        lines += ["", f"Measured with exit 0: {len(done)} of {len(order)} commands, "
                  f"{_minutes(sum(e['wall_s'] for e in done))} in all, largest peak RSS "
                  f"{max(e['peak_rss_mb'] for e in done) / 1024:.1f} GB."]
    return "\n".join(lines)


@command(PROG, UsageError)
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 every target ran with exit 0, 1 one did not, 2 bad input."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="TARGET", default=None,
                   help="targets to run, e.g. 'paper1 --table 5' (default: every table and figure)")
    p.add_argument("--results", default=DEFAULT_RESULTS, help=f"shared results root (default {DEFAULT_RESULTS})")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"measurements JSON (default {DEFAULT_OUT})")
    p.add_argument("--redo", action="store_true", help="run targets already measured with exit 0 again")
    p.add_argument("--report-only", action="store_true", help="run nothing; render the measurements")
    p.add_argument("--into", default=None, metavar="FILE", help="Markdown file whose marked section is replaced")
    p.add_argument("--section", default="rehearsal_times", help="marker name (default rehearsal_times)")
    args = p.parse_args(argv)
    order = default_labels()
    targets = [paper_target(lb, args.results) for lb in (args.only or order)]
    out = Path(args.out)
    if args.report_only:
        data = load_times(out)
    else:
        data = run_all(targets, out, Path(args.results) / "_logs")
    text = render(data, order)
    print(text)
    if args.into:
        from replication.report import replace_between_markers
        replace_between_markers(args.into, args.section, text)
        print(f"written into {args.into} (section {args.section})")
    failed = [t.label for t in targets if data["entries"].get(t.label, {}).get("exit") not in (0, None)]
    return EXIT_FAILED if failed and not args.report_only else EXIT_OK


__all__ = ["Target", "paper_target", "default_labels", "run_target", "run_all", "render", "main"]


if __name__ == "__main__":
    sys.exit(main())
