"""Paper 2's claims on real audio: an ESC-50-layout data set (ESC-10, ESC-50) in the claims driver.

    python -m replication.drivers.claims --paper 2 --dataset esc10 --data-root ../shared/data/esc10 \
        --folds 1 2 --seeds 3 --control --esc-preset esc10 [--set KEY=VALUE ...] --results results/claims_esc10

The ESC command (`python -m paper2_multirep.run --dataset esc10 ...`, paper2_multirep/esc.py)
trains one group per held-out fold, logMel64,ResNet-slot + MFCC,VGG-slot, whose run names
are those of Table VII's first group (paper2_multirep.experiments.run_name). So the Table
VII claims about that group apply unchanged: their arms are read from the ESC records of
every fold (table `<dataset>/fold<k>`), presented to the statistics as Table VII records
with the fold in extra["fold"], and paired by (fold, seed). The published difference beside
each claim stays the paper's Table VII cell (its own data set), as a reference only.

Arms: the ESC command with `--esc-preset` and the `--set` overrides into <results>/runs;
with --control the same plus the P_bar permutation switch (register p2-aggregate-signal)
into <results>/control, its job store linked to the runs' (only distilled models change
key). No budgets or arm variants here: the ESC preset is the budget (the `esc10` preset
already gives the independent branches the distilled branch's passes, register
p2-esc-protocol), and `--set` changes it, the same keys esc_select chose on validation folds.
Records of the validation runs (`<dataset>-val/...`) are never read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from shared.cli import UsageError

ESC_DATASETS = ("esc10", "esc50")
ESC_TABLE = "paper2/tableVII"          # the paper table whose first group the ESC runs are named after
CONTROL_SET = "training_overrides.cyclic.aggregate_signal=permuted"   # register p2-aggregate-signal


DEFAULT_FOLDS, DEFAULT_PRESET = [1], "esc10"


def check_args(args: Any) -> None:
    """UsageError for options that do not apply to an ESC-50-layout data set; fills in the
    defaults of --folds (1) and --esc-preset (esc10)."""
    args.folds = args.folds or list(DEFAULT_FOLDS)
    args.esc_preset = args.esc_preset or DEFAULT_PRESET
    if args.paper != "2":
        raise UsageError(f"--dataset {args.dataset} has paper 2's claims only (give --paper 2)")
    if args.budget != "demo":
        raise UsageError(f"--budget applies to the demo data; on --dataset {args.dataset} the --esc-preset "
                         "and --set overrides are the budget")
    if args.equal_budget or args.as_printed or args.demo_opt:
        raise UsageError(f"--equal-budget, --as-printed and --demo-opt apply to the demo data, not --dataset "
                         f"{args.dataset} (the esc10 preset already trains independent branches for the "
                         "distilled passes)")
    if not args.report_only and not Path(args.data_root).is_dir():
        raise UsageError(f"--data-root {args.data_root}: not a directory (an ESC-50-layout data set)")
    if any(f not in range(1, 6) for f in args.folds) or len(set(args.folds)) != len(args.folds):
        raise UsageError(f"--folds {' '.join(map(str, args.folds))}: ESC-50 folds are 1..5, each once")


def group_runs() -> set[str]:
    """Run names of the ESC command's default group (imported lazily: a driver)."""
    from paper2_multirep.esc import DEFAULT_BRANCHES, esc_table, parse_branches
    from paper2_multirep.experiments import run_name

    group = esc_table("esc10", 1, parse_branches(DEFAULT_BRANCHES)).groups[0]   # the group the command trains
    return {run_name(group, "ensemble")} | {run_name(group, kind, b) for b in group.branches
                                            for kind in ("independent", "distilled")}


def esc_claims(claims: Sequence[Any], runs: set[str]) -> list[Any]:
    """The claims whose arms are all runs of the ESC group in Table VII, without variants."""
    return [c for c in claims
            if all(a.table == ESC_TABLE and not a.variant and set(a.runs) <= runs for a in c.arms)]


def run_arms(args: Any, runs_root: Path, control_root: Path, runner: Callable[[Sequence[str]], int],
             share: Callable[[Path, Path], None], echo: Callable[[str], None] = print) -> list[str]:
    """Runs the ESC command for the arms (and the control); returns the failed steps."""
    base = ["--dataset", args.dataset, "--data-root", args.data_root, "--preset", args.esc_preset,
            "--folds", *map(str, args.folds), "--seeds", str(args.seeds), "--overwrite"]
    sets = [a for kv in args.set for a in ("--set", kv)]
    steps = [(runs_root, sets)]
    if args.control:
        share(runs_root, control_root)
        steps.append((control_root, sets + ["--set", CONTROL_SET]))
    failures = []
    for root, extra in steps:
        echo(f"\n=== {args.dataset} folds {' '.join(map(str, args.folds))} -> {root}")
        code = runner([*base, "--results", str(root), *extra])
        if code != 0:
            failures.append(f"{args.dataset} -> {root} (exit {code})")
    return failures


_FOLD_TABLE = re.compile(r"^(?P<dataset>[a-z0-9]+)/fold(?P<fold>[1-5])$")


def esc_records(root: Path, dataset: str, folds: Sequence[int] | None = None) -> list[tuple[Path, Any]]:
    """(path, record) of the held-out ESC runs under `root`, each as a Table VII record with
    its fold in extra["fold"] (validation records, other data sets and other folds left out)."""
    from replication.records import find_records

    out = []
    for path, rec in (find_records([root]) if root.exists() else []):
        match = _FOLD_TABLE.match(str(rec.table))
        if not match or match["dataset"] != dataset or (folds and int(match["fold"]) not in folds):
            continue
        out.append((path, replace(rec, table=ESC_TABLE, extra={**rec.extra, "fold": int(match["fold"])})))
    return out
