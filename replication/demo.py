"""The kit's main job on its embedded default: the generated demo data.

    python -m replication.demo                 # headline tables of both papers, demo preset
    python -m replication.demo --all           # every result table of both papers
    python -m replication.demo --tables paper1:4 paper2:VII

Steps: generate + verify the demo dataset (once), check paper 1's architectures against
Tables 2 and 3 at full size, run the demo preset of the chosen tables through the same
commands a user types (`python -m paper1_ts.run ...`, `python -m paper2_multirep.run ...`),
then check every record under the results root against the kit's recorded demo reference
(never against the papers' numbers: the demo data are not the papers' data).
Exit status: non-zero if any step fails or any checked cell regressed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

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
        raise SystemExit(f"unknown paper '{paper}' in --tables (use paper1:N or paper2:ROMAN)")
    return main


def _step(title: str, fn: Callable[[], int]) -> int:
    print(f"\n=== {title}", flush=True)
    start = time.monotonic()
    code = fn()
    print(f"=== {title}: {'ok' if code == 0 else f'FAILED (exit {code})'} "
          f"in {time.monotonic() - start:.0f} s", flush=True)
    return code


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m replication.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", default=list(HEADLINE), metavar="PAPER:TABLE",
                   help=f"tables to run (default: {' '.join(HEADLINE)})")
    p.add_argument("--all", action="store_true", help="run every result table of both papers")
    p.add_argument("--results", default="results", help="results root (default: results)")
    p.add_argument("--data-root", default="data/datasets/demo", help="demo data root")
    p.add_argument("--seeds", type=int, default=None, help="seeds per run (default: the demo preset's)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tables = list(ALL) if args.all else list(args.tables)
    failures: list[str] = []

    from replication.data import main as data_main
    if _step("demo dataset (generate once, verify)",
             lambda: data_main(["prepare", "demo", "--root", args.data_root])) != 0:
        return 1  # nothing else can run without the data

    p1 = _runner("paper1")
    for table in ("2", "3"):
        if _step(f"paper 1 Table {table}: built shapes vs the paper (full size)",
                 lambda t=table: p1(["--table", t])) != 0:
            failures.append(f"paper1 table {table} shapes")

    # The main job owns its results root: rerunning it rewrites its own records, while
    # every trained model is reused from the job store (nothing is retrained).
    common = ["--preset", "demo", "--results", args.results, "--data-root", args.data_root,
              "--overwrite"]
    if args.seeds is not None:
        common += ["--seeds", str(args.seeds)]
    for spec in tables:
        paper, _, table = spec.partition(":")
        if not table:
            raise SystemExit(f"--tables entries look like paper1:6 or paper2:VII, got '{spec}'")
        run = _runner(paper)
        if _step(f"{paper} Table {table} (demo preset)",
                 lambda r=run, t=table: r(["--table", t, *common])) != 0:
            failures.append(f"{paper} table {table}")

    from replication.check import main as check_main
    results = Path(args.results)
    if results.exists():
        if _step("result checker (demo reference)",
                 lambda: check_main([str(results), "--reference", "demo",
                                     "--markdown", str(results / "check.md"),
                                     "--json", str(results / "check.json")])) != 0:
            failures.append("checker")
    print()
    if failures:
        print("demo: FAILED: " + "; ".join(failures))
        return 1
    print(f"demo: all steps passed; check report in {results / 'check.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
