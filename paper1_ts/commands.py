"""Command-line handlers of paper 1's result tables (1, 4, 5, 6) and figures (1, 2).

paper1_ts/run.py owns the parser; `add_arguments` adds the options these handlers read:

    python -m paper1_ts.run --table 4 --preset demo [--seeds N] [--data-root DIR]
                            [--results DIR] [--overwrite] [--dry-run]
    python -m paper1_ts.run --figure 2 --preset demo
"""

from __future__ import annotations

import argparse
from typing import Any

from paper1_ts.params import PRESETS
from replication.records import RecordExistsError
from shared.cli import UsageError, fail
from shared.datasets.base import DatasetError

PROG = "python -m paper1_ts.run"                  # prefix of error lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the result tables and figures."""
    parser.add_argument("--figure", choices=("1", "2"), default=None,
                        help="figure of paper 1 to draw (PNG under <results>/paper1/figures)")
    parser.add_argument("--preset", default="paper",
                        help=f"parameter preset: {' | '.join(PRESETS)} or a YAML path (default paper)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="number of seeds (default: preset)")
    parser.add_argument("--data-root", default=None, metavar="DIR", help="data set root (default data/datasets/<name>)")
    parser.add_argument("--results", default=None, metavar="DIR", help="results root (default: preset, 'results')")
    parser.add_argument("--overwrite", action="store_true", help="replace existing run records")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved plan and exit")
    parser.add_argument("--no-estimate", action="store_true",
                        help="skip the measured time estimate (tables: no timed training step first)")


def params_from_args(args: argparse.Namespace, extra: dict[str, Any] | None = None):
    """Paper1Params of the preset with the command-line overrides (and `extra`, for tests)."""
    from paper1_ts.params import resolve_params
    from shared.config import override

    changes: dict[str, Any] = {}
    if args.seeds is not None:
        if args.seeds < 1:
            raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
        changes["seeds"] = args.seeds
    if args.data_root is not None:
        changes["data"] = {"root": args.data_root}
    if args.results is not None:
        changes["results_root"] = args.results
    params = resolve_params(args.preset, changes)
    if extra:
        params = override(params, extra, source="overrides")
    return params


def preset_name(args: argparse.Namespace) -> str:
    """The preset label written into records ("paper", "demo" or the YAML file's stem)."""
    from pathlib import Path
    return args.preset if args.preset in PRESETS else Path(args.preset).stem


def run_result_table(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> int:
    """--table 1|4|5|6: plan, estimate, train what is missing, write records, check."""
    from paper1_ts import data as p1data
    from paper1_ts import jobs, tables
    from paper1_ts.experiments import table_by_number

    params = params_from_args(args, extra)
    table = table_by_number(args.table)
    clips = p1data.split_sizes(params)
    plan = tables.make_plan(table, params, preset_name(args), clips, preset_file=args.preset)
    if args.dry_run:
        print(tables.plan_text(plan))
        print("dry run: nothing trained")
        return 0
    root = p1data.dataset_root(params)
    if not root.is_dir() and not (params.data.dataset == "demo" and params.data.auto_prepare_demo):
        raise DatasetError(f"{root}: data root not found (get it with `python -m replication.data "
                           f"prepare {params.data.dataset} --root {root}`, or pass --data-root)")
    try:
        tables.refuse_existing(plan, args.overwrite)   # before the step measurement trains anything
    except RecordExistsError as err:
        return fail(PROG, err)                         # one line, exit 2 (shared/cli.py)
    step = {}
    families = sorted({r.job.family for r in plan.pending()})
    if families and not getattr(args, "no_estimate", False):
        step = jobs.measure_step_seconds(params, families)
    print(tables.plan_text(plan, tables.estimate_seconds(plan, step), step))
    ctx = p1data.DataContext(params)
    try:
        outcome = tables.run_table(plan, jobs.JobRunner(ctx), overwrite=args.overwrite,
                                   n_classes=len(ctx.classes))
    except RecordExistsError as err:
        # Trained models are in the store, so --overwrite only rewrites the records.
        return fail(PROG, err)
    print(f"{table.name}: {len(outcome.records)} record(s) in {params.results_root}, "
          f"{outcome.seconds:.1f} s")
    return outcome.report.exit_code if outcome.report is not None else 0


def run_figure(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> int:
    """--figure 1|2: trains (or reuses) the models the figure needs and writes the PNG."""
    from paper1_ts import figures

    params = params_from_args(args, extra)
    path = figures.FIGURES[args.figure](params, preset_name(args), dry_run=args.dry_run)
    if path is not None:
        print(f"figure {args.figure}: {path}")
    return 0
