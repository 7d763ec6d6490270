"""The kit's main job on its embedded default: the generated demo data.

    python -m replication                 # headline tables of both papers, demo preset
    python -m replication --all           # every result table of both papers
    python -m replication --tables paper1:4 paper2:VII

(`python -m replication.drivers.demo` is the same command; replication/__main__.py runs it.)

Steps: generate + verify the demo dataset (once), check paper 1's architectures against
Tables 2 and 3 at full size, run the demo preset of the chosen tables through the same
commands a user types (`python -m paper1_ts.run ...`, `python -m paper2_multirep.run ...`),
then check every record under the results root against the kit's recorded demo reference
(never against the papers' numbers: the demo data are not the papers' data).
Exit status: 0 when every step passed; 1 if any step fails or any checked cell regressed;
2 on bad input (one line on stderr, `python -m replication: error: ...`, docs/errors.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from shared.cli import UsageError, command
from shared.paths import checkout_root

# Wall time of each step of an uninterrupted first run (the host named in the file), written by
# `python -m replication --record-timing` (with the host it was measured on); the
# plan printed first turns it into an estimate.
TIMING_FILE = checkout_root() / "data" / "reference" / "main_job_timing.json"
# The claims report the kit measured over >= 5 seeds with negative controls
# (python -m replication.drivers.claims ..., see README "Does distillation work here?").
RECORDED_CLAIMS = checkout_root() / "docs" / "results" / "claims" / "claims.json"
# the kit's reports on the demo generator's premises design (docs/claims.md), shown under the headline:
# paper 1 at the paper's constant rate with every arm trained until its loss levels off
# (levelled_long_gru), paper 2 with T^2
PREMISES_CLAIMS = tuple(checkout_root() / "docs" / "results" / name / "claims.json"
                        for name in ("claims_premises_p1_long_gru", "claims_premises_t2"))
HEADLINE = ("paper1:6", "paper2:VII")       # paper 1's headline (77.36 %), paper 2's TUT table
ALL = ("paper1:1", "paper1:4", "paper1:5", "paper1:6",
       "paper2:I", "paper2:II", "paper2:III", "paper2:IV", "paper2:V", "paper2:VI", "paper2:VII")


def _runner(paper: str) -> Callable[[Sequence[str]], int]:
    # Imported here, not at module load: `--help` stays instant and no TF start-up cost.
    if paper == "paper1":
        from paper1_ts.run import main
    elif paper == "paper2":
        from paper2_multirep.run import main
    else:
        raise UsageError(f"unknown paper '{paper}' in --tables (use paper1:N or paper2:ROMAN)")
    return main


def check_tables(specs: Sequence[str]) -> None:
    """Refuses a malformed --tables entry before any step runs (UsageError naming it)."""
    for spec in specs:
        paper, _, table = spec.partition(":")
        if not table or paper not in ("paper1", "paper2"):
            raise UsageError(f"--tables entries look like paper1:6 or paper2:VII, got '{spec}'")


def _step(title: str, fn: Callable[[], int], key: str = "", timings: dict | None = None) -> int:
    print(f"\n=== {title}", flush=True)
    start = time.monotonic()
    code = fn()
    seconds = time.monotonic() - start
    if timings is not None and key:
        timings[key] = round(seconds, 1)
    print(f"=== {title}: {'ok' if code == 0 else f'FAILED (exit {code})'} "
          f"in {seconds:.0f} s", flush=True)
    return code


def load_timing(path: Path = TIMING_FILE) -> dict:
    """The recorded step timings ({"steps": {key: seconds}, "host": ..., "recorded": ...}), or {}."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def plan_text(tables: Sequence[str], seeds: int | None, data_ready: bool, timing: dict) -> str:
    """The main job's plan and a time estimate from the recorded idle run."""
    steps = timing.get("steps", {})
    rows = [("data", "demo dataset: " + ("present, verify only" if data_ready else "generate + verify")),
            ("shapes", "paper 1 Tables 2 and 3: built shapes vs the paper (full size)")]
    how_many = seeds or "the preset's"
    rows += [(spec, f"{spec.replace(':', ' Table ')}: demo preset, "
                    f"{how_many} seed(s); trained models are reused from the job store")
             for spec in tables]
    rows.append(("check", "result checker against the kit's demo reference (a band from its seed spread)"))
    known = all(k in steps for k, _ in rows if k != "data" or not data_ready)
    lines = ["Plan of the main job:"]
    total = 0.0
    for i, (key, text) in enumerate(rows, 1):
        secs = 5.0 if key == "data" and data_ready else steps.get(key)
        total += secs or 0.0
        lines.append(f"  {i}. {text}" + (f"  (~{secs / 60:.1f} min)" if secs is not None else ""))
    if known and steps:
        host = timing.get("host", {})
        lines.append(f"Estimate: ~{total / 60:.0f} min, as measured in a first run on "
                     f"{host.get('cpu_count', '?')} cores ({host.get('cpu_model', 'unknown CPU')}, "
                     f"{timing.get('recorded', '?')}; that host's speed varies about 2x, docs/scale.md); "
                     "longer on a busy or slower machine, seconds when rerun (models come from the store).")
    else:
        lines.append("Estimate: none recorded for these tables (python -m replication --record-timing).")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m replication", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", default=list(HEADLINE), metavar="PAPER:TABLE",
                   help=f"tables to run (default: {' '.join(HEADLINE)})")
    p.add_argument("--all", action="store_true", help="run every result table of both papers")
    p.add_argument("--results", default="results", help="results root (default: results)")
    p.add_argument("--data-root", default="data/datasets/demo", help="demo data root")
    p.add_argument("--seeds", type=int, default=None, help="seeds per run (default: the demo preset's)")
    p.add_argument("--record-timing", action="store_true",
                   help=f"write this run's step times as the estimate's basis ({TIMING_FILE.name}); "
                        "use on an idle machine, first run, fresh results root")
    return p


@command("python -m replication")
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 every step passed, 1 a step failed or a cell regressed, 2 bad input."""
    args = build_parser().parse_args(argv)
    tables = list(ALL) if args.all else list(args.tables)
    check_tables(tables)
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    failures: list[str] = []
    timings: dict[str, float] = {}
    data_ready = (Path(args.data_root) / "meta.csv").exists()
    print(plan_text(tables, args.seeds, data_ready, load_timing()), flush=True)
    started = time.monotonic()

    from replication.data import main as data_main
    if _step("demo dataset (generate once, verify)",
             lambda: data_main(["prepare", "demo", "--root", args.data_root]), "data", timings) != 0:
        return 1  # nothing else can run without the data

    p1 = _runner("paper1")
    shapes_start = time.monotonic()
    for table in ("2", "3"):
        if _step(f"paper 1 Table {table}: built shapes vs the paper (full size)",
                 lambda t=table: p1(["--table", t])) != 0:
            failures.append(f"paper1 table {table} shapes")
    timings["shapes"] = round(time.monotonic() - shapes_start, 1)

    # The main job owns its results root: rerunning it rewrites its own records, while
    # every trained model is reused from the job store (nothing is retrained).
    common = ["--preset", "demo", "--results", args.results, "--data-root", args.data_root,
              "--overwrite"]
    if args.seeds is not None:
        common += ["--seeds", str(args.seeds)]
    for spec in tables:
        paper, _, table = spec.partition(":")
        run = _runner(paper)
        if _step(f"{paper} Table {table} (demo preset)",
                 lambda r=run, t=table: r(["--table", t, *common]), spec, timings) != 0:
            failures.append(f"{paper} table {table}")

    from replication.check import main as check_main
    results = Path(args.results)
    if results.exists():
        if _step("result checker (demo reference)",
                 lambda: check_main([str(results), "--reference", "demo",
                                     "--markdown", str(results / "check.md"),
                                     "--json", str(results / "check.json")]), "check", timings) != 0:
            failures.append("checker")
    if results.exists():
        try:
            text = headline_claims(results, tables)
        except Exception as err:          # the claims summary must never hide the job's verdict
            text = f"headline claims: not available ({type(err).__name__}: {err})"
        if text:
            print("\n" + text)
    print(f"\nmain job: {(time.monotonic() - started) / 60:.1f} min")
    if args.record_timing:
        _record_timing(timings)
    print()
    if failures:
        print("demo: FAILED: " + "; ".join(failures))
        return 1
    print(f"demo: all steps passed; check report in {results / 'check.md'}")
    return 0


def table_name(spec: str) -> str:
    """"paper1:6" -> "paper1/table6" (registry name)."""
    paper, _, table = spec.partition(":")
    return f"{paper}/table{table}"


def _saved_rows(path: Path) -> dict[tuple[str, str], dict]:
    """(claim id, "claim" | "control" | "signal") -> row of a saved claims report ({} if unreadable)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, json.JSONDecodeError, KeyError):
        return {}
    def row_kind(r: dict) -> str:
        return "signal" if r.get("signal") else "control" if r["control"] else "claim"
    return {(r["claim_id"], row_kind(r)): r for r in saved}


def _effect(mean, low, high, n) -> str:
    if mean is None:
        return "-"
    return f"{mean:+.1f}" + (f" [{low:+.1f}, {high:+.1f}]" if low is not None else "") + f" (n={n})"


def _saved_cells(rows: dict, claim_id: str) -> tuple[str, str, str]:
    """The claim's saved row, negative control and teacher-signal row as headline cells."""
    rec, ctrl, sig = (rows.get((claim_id, k)) for k in ("claim", "control", "signal"))
    rec_text = (f"{_effect(rec['mean'], rec['low'], rec['high'], rec['n'])} {rec['verdict']}"
                + {False: ", arms NOT levelled off", None: ", levelling unknown"}.get(rec.get("levelled"), "")
                if rec else "not recorded")
    ctrl_text = (f"{ctrl['verdict']} ({'passes' if ctrl.get('control_passes') else 'FAILS'})"
                 if ctrl and ctrl.get("control_passes") is not None else "-")
    sig_text = f"{_effect(sig['mean'], sig['low'], sig['high'], sig['n'])} {sig['verdict']}" if sig else "-"
    return rec_text, ctrl_text, sig_text


def headline_claims(results: Path, tables: Sequence[str], recorded: Path = RECORDED_CLAIMS,
                    designed: Sequence[Path] = PREMISES_CLAIMS) -> str:
    """The papers' claims whose arms the main job ran: this run's paired effect (an
    interval needs >= 2 seeds) beside the kit's recorded multi-seed report and its
    negative control, so a new user sees first whether distillation works here; then the
    same claims as the kit's reports on the premises design (`designed`) measured them."""
    from replication.drivers.claims import select_claims
    from replication.claims_data import load_claims
    from replication.claims_stats import evaluate
    from replication.records import find_records
    names = [table_name(spec) for spec in tables]
    claims = select_claims(load_claims(), names, None)
    if not claims:
        return ""
    records = [(p, r) for p, r in find_records([results]) if r.table in names]
    mine = {r.claim_id: r for r in evaluate(claims, records, None)}
    before = _saved_rows(recorded)

    lines = ["Headline claims (paired differences in accuracy points; interval = 95 % t):",
             f"  {'claim':50s} {'this run':22s} {'kit report, >= 5 seeds':58s} {'negative control':26s} "
             "teacher signal vs permuted"]
    for claim in claims:
        r = mine[claim.id]
        rec_text, ctrl_text, sig_text = _saved_cells(before, claim.id)
        lines.append(f"  {claim.id:50s} {_effect(r.mean, r.low, r.high, r.n):22s} {rec_text:58s} {ctrl_text:26s} "
                     f"{sig_text}")
    lines.append("  A claim whose arms' training loss has not levelled off is not evidence either way.")
    if any(c.get("control_passes") is False for (cid, kind), c in before.items()
           if kind == "control" and cid in {claim.id for claim in claims}):
        lines.append("  A FAILING negative control means the gain appears with the teacher signal permuted too:"
                     " it is not a distillation effect.")
    if any(kind == "signal" for _, kind in before):
        lines.append("  Teacher signal vs permuted = the claim's effect minus its control's, per seed (same budget):"
                     " above 0 only where the real teacher signal itself helps.")
    lines.append(f"  (statements, published effects and the forest plot: {recorded.with_suffix('.md').name} "
                 f"in {recorded.parent.relative_to(recorded.parents[3]) if len(recorded.parents) > 3 else recorded.parent})")
    premises = {}
    for path in designed:
        premises.update(_saved_rows(path))
    shown = [claim for claim in claims if (claim.id, "claim") in premises]
    if shown:
        lines += ["", "The same claims on the demo generator's premises design (data built so that each paper's "
                      "premise holds; the kit's reports in docs/claims.md, not this run):",
                  f"  {'claim':50s} {'kit report':58s} {'negative control':26s} teacher signal vs permuted"]
        for claim in shown:
            rec_text, ctrl_text, sig_text = _saved_cells(premises, claim.id)
            lines.append(f"  {claim.id:50s} {rec_text:58s} {ctrl_text:26s} {sig_text}")
    return "\n".join(lines)


def _record_timing(timings: dict[str, float], path: Path = TIMING_FILE) -> None:
    from replication.check import HOST_KEYS, kit_commit
    from replication.records import host_facts, now_iso
    from shared.config import atomic_write_text
    data = {"note": "Wall time of each main-job step, first run, written by python -m replication "
                    "--record-timing; the main job's plan turns it into its estimate.",
            "steps": timings, "recorded": now_iso(), "kit_commit": kit_commit(),
            "host": {k: v for k, v in host_facts().items() if k in HOST_KEYS}}
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
