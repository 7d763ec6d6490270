"""Command-line handlers of paper 1's result tables (1, 4, 5, 6) and figures (1, 2).

paper1_ts/run.py owns the parser (replication/runner_cli.py: the options both papers share):

    python -m paper1_ts.run --table 4 --preset demo [--seeds N] [--data-root DIR]
                            [--results DIR] [--overwrite] [--dry-run] [--set KEY=VALUE ...]
    python -m paper1_ts.run --table 6 --estimate [--throughput FILE] [--devices N]
    python -m paper1_ts.run --figure 2 --preset demo
"""

from __future__ import annotations

import argparse
from typing import Any

from paper1_ts.params import PRESETS
from replication.records import RecordExistsError
from replication.runner_cli import explicit_keys, parse_overrides
from shared.cli import UsageError, fail
from shared.datasets.base import DatasetError

PROG = "python -m paper1_ts.run"                  # prefix of error lines
PRESET_HELP = f"parameter preset: {' | '.join(PRESETS)} or a YAML path (default paper)"


def params_from_args(args: argparse.Namespace, extra: dict[str, Any] | None = None):
    """Paper1Params of the preset with the command-line options, the --set overrides
    (and `extra`, for tests)."""
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
    if getattr(args, "rehearse", False):      # replication/rehearsal.py; --set still applies on top
        from paper1_ts.rehearsal import rehearsal_params
        params = rehearsal_params(params, args.results, args.data_root,
                                  generate=not getattr(args, "dry_run", False))
    overrides = parse_overrides(getattr(args, "set", None) or [])
    if overrides:
        params = override(params, overrides, source="--set")
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
    plan = tables.make_plan(table, params, preset_name(args), clips, preset_file=args.preset,
                            explicit=explicit_keys(parse_overrides(getattr(args, "set", None) or [])))
    if getattr(args, "estimate", False):             # replication/cost.py: nothing trained, no data read
        from paper1_ts.cost import table_cost
        from replication.cost import cost_lines, from_args
        rates, devices = from_args(args)
        print(tables.plan_text(plan))
        print("\n".join(cost_lines(table_cost(plan), rates, devices)))
        print("estimate: nothing trained")
        return 0
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
    print(tables.plan_text(plan, step))
    ctx = p1data.DataContext(params)
    try:
        outcome = tables.run_table(plan, jobs.JobRunner(ctx), overwrite=args.overwrite,
                                   n_classes=len(ctx.classes))
    except RecordExistsError as err:
        # Trained models are in the store, so --overwrite only rewrites the records.
        return fail(PROG, err)
    print(f"{table.name}: {len(outcome.records)} record(s) in {params.results_root}, "
          f"{outcome.seconds:.1f} s")
    if getattr(args, "rehearse", False):
        _rehearsal_cost(args, table, params, step)
    return outcome.exit_code


def _rehearsal_cost(args: argparse.Namespace, table, params, step: dict[str, float]) -> None:
    """The end of a rehearsal: the table's cost at paper scale from the measured steps."""
    from paper1_ts.params import resolve_params
    from paper1_ts.rehearsal import cost_text
    if not step:
        print("rehearsal cost: no step measured (--no-estimate, or every model already in the store)")
        return
    print(cost_text(table, params, resolve_params(args.preset), preset_name(args), step))


def run_figure(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> int:
    """--figure 1|2: trains (or reuses) the models the figure needs and writes the PNG."""
    from paper1_ts import figures

    params = params_from_args(args, extra)
    path = figures.FIGURES[args.figure](params, preset_name(args), dry_run=args.dry_run)
    if path is not None:
        print(f"figure {args.figure}: {path}")
    return 0
