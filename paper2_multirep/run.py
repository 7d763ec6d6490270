"""Command line of paper 2: one command per table, figure, or ESC-50-layout experiment.

    python -m paper2_multirep.run --table VII --preset demo --seeds 3
    python -m paper2_multirep.run --table 7 --preset paper --dry-run
    python -m paper2_multirep.run --table 7 --estimate [--throughput FILE] [--devices N]
    python -m paper2_multirep.run --figure 3 --preset demo
    python -m paper2_multirep.run --dataset esc10 --data-root ../shared/data/esc10 --folds 1 2 --seeds 3
    python -m paper2_multirep.run --dataset esc10 --data-root ../shared/data/esc10 --folds 1 2 --validate

Options shared with paper 1 (--preset, --seeds, --data-root, --results, --overwrite,
--dry-run, --no-estimate, --set KEY=VALUE) and the table lookup come from
replication/runner_cli.py.

Exit status: 0 on success, 1 when the checker finds a regressed cell, 2 on bad input (one
line on stderr: `python -m paper2_multirep.run: error: ...`, docs/errors.md).
Several machines (distribute.kind multi_worker): only the chief writes under the results
root; the other workers write to a private temporary directory they print.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paper2_multirep.experiments import NETWORKS, REPRESENTATIONS, TABLES, table_by_number
from replication.registry import RegistryError
from replication.runner_cli import check_estimate_args, parse_overrides
from shared.cli import UsageError, command
from shared.config import ConfigError

PROG = "python -m paper2_multirep.run"

PRESET_DIR = Path(__file__).resolve().parent / "presets"     # the same folder tables.resolve_params reads
ESC_FOLDS = (1, 2, 3, 4, 5)                                  # ESC-50's five folds (paper2_multirep/esc.py)


def build_parser() -> argparse.ArgumentParser:
    """The options both papers share (replication/runner_cli.py) plus paper 2's own: the
    ESC-50-layout experiment (--dataset, --folds, --branches), --list and --out."""
    from replication.runner_cli import table_parser

    parser, targets = table_parser(
        PROG, __doc__, figures=("3", "4", "5"), default_preset=None, raw_description=True,
        preset_help="paper | demo | path to an experiment YAML (default: paper for tables, demo for --dataset)",
        table_help="table I..VII (Arabic 1..7 and lower case accepted)",
        figure_help="figure 3 (DN/DR/D-RN bars), 4/5 (t-SNE)")
    targets.add_argument("--dataset", choices=["esc50", "esc10"],
                         help="ESC-50-layout data set with its fold protocol (esc10 = ESC-10 subset)")
    targets.add_argument("--list", action="store_true", help="list the tables and exit")
    parser.add_argument("--folds", type=int, nargs="+", default=None,
                        help="--dataset only: held-out test folds (default 1 2 3 4 5)")
    parser.add_argument("--branches", nargs="+", default=None, metavar="REP:NET",
                        help="--dataset only: the group's branches, e.g. logmel64:resnet mfcc:vgg")
    parser.add_argument("--validate", action="store_true",
                        help="--dataset only: score each held-out fold's runs on a validation fold carved from its "
                             "training folds (the next fold), the held-out fold unread; for choosing settings "
                             "(records under <results>/<dataset>-val)")
    parser.add_argument("--out", default=None, help="--figure: PNG path; --dataset: table directory")
    return parser


def route_worker_outputs(args: argparse.Namespace, params) -> None:
    """Multi-worker runs: a worker that is not the chief writes its job store, records,
    figures and --out files under a private temporary results root (printed; it starts
    with a copy of the store, so every worker plans the same jobs); the chief writes the
    real ones."""
    if args.dry_run:
        return
    from paper2_multirep.tables import STORE_DIR
    from shared.distribute import worker_results_root

    configured = args.results or params.results_root
    root = worker_results_root(configured, params.distribute.kind, copy=(STORE_DIR,))
    if str(root) != str(configured):
        args.results = str(root)
        if args.out:
            args.out = str(root / "out" / Path(args.out).name)


def _check_args(args: argparse.Namespace) -> None:
    """Command-line values argparse cannot check, refused before anything heavy is imported.

    Raises:
      UsageError: naming the option and the bad value.
    """
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    if args.dataset and args.rehearse:
        raise UsageError("--rehearse applies to --table and --figure (the paper presets), not --dataset")
    if not args.dataset:
        for option, value in (("--folds", args.folds), ("--branches", args.branches),
                              ("--validate", args.validate or None)):
            if value is not None:
                raise UsageError(f"{option} applies to --dataset only")
        return
    if not args.data_root:
        raise UsageError(f"--dataset {args.dataset} needs --data-root (an ESC-50-layout directory)")
    if not Path(args.data_root).is_dir():
        raise UsageError(f"--data-root {args.data_root}: data root not found")
    bad = [f for f in args.folds or () if f not in ESC_FOLDS]
    if bad:
        raise UsageError(f"--folds {' '.join(map(str, bad))}: ESC-50 folds are 1..5")
    for item in args.branches or ():
        rep, sep, net = item.partition(":")
        if not sep or rep.strip().lower() not in REPRESENTATIONS or net.strip().lower() not in NETWORKS:
            raise UsageError(f"--branches item '{item}' must be REPRESENTATION:NETWORK with a representation "
                             f"of {', '.join(REPRESENTATIONS)} and a network of {', '.join(NETWORKS)}")


def _check_preset(preset: str) -> None:
    """A preset name must have its presets/experiment_<name>.yaml (a path is read as given)."""
    if Path(preset).suffix:
        return
    known = sorted(p.stem[len("experiment_"):] for p in PRESET_DIR.glob("experiment_*.yaml"))
    if preset not in known:
        raise ConfigError(f"unknown preset '{preset}' (choose from {', '.join(known)} or give a .yaml path)")


@command(PROG, RegistryError)
def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 ok, 1 a regressed cell, 2 bad input (one line on stderr, docs/errors.md)."""
    args = build_parser().parse_args(argv)
    if args.list:
        for table in TABLES:
            print(f"{table.numeral:>4}  {table.name:<16} {table.dataset:<17} {table.caption}")
        return 0
    _check_args(args)
    check_estimate_args(args)
    table = table_by_number(args.table) if args.table else None
    overrides = parse_overrides(args.set)
    preset = args.preset or ("demo" if args.dataset else "paper")
    _check_preset(preset)
    from paper2_multirep import tables  # heavy imports (TensorFlow) only when needed
    params = tables.resolve_params(preset, overrides)
    if args.estimate:
        return _estimate(args, table, params)
    if args.rehearse and (table is not None or args.figure):
        return _rehearse(args, table, params)
    route_worker_outputs(args, params)
    if table is not None:
        outcome = tables.run_table(table, params, seeds=args.seeds, data_root=args.data_root,
                                   results_root=args.results, overwrite=args.overwrite,
                                   dry_run=args.dry_run, estimate=not args.no_estimate)
        return outcome.exit_code
    if args.figure:
        from paper2_multirep import figures
        path = figures.make_figure(int(args.figure), params, seeds=args.seeds,
                                   data_root=args.data_root, results_root=args.results,
                                   out=args.out, dry_run=args.dry_run)
        if path is not None:
            print(f"figure {args.figure}: {path}")
        return 0
    from paper2_multirep import esc
    esc.run_esc(params, dataset=args.dataset, data_root=args.data_root, folds=args.folds,
                branches=args.branches, seeds=args.seeds, results_root=args.results,
                out_dir=args.out, overwrite=args.overwrite, dry_run=args.dry_run,
                estimate=not args.no_estimate, validate=args.validate, sets=args.set or ())
    return 0


def _estimate(args: argparse.Namespace, table, params) -> int:
    """--estimate (replication/cost.py): the plan and the faithful cost of a table (or of the
    jobs behind a figure) from the benchmark's throughput; nothing trained, no data needed."""
    from paper2_multirep import figures, tables
    from paper2_multirep.cost import table_cost
    from replication.cost import cost_lines, from_args
    if args.dataset:
        raise UsageError("--estimate applies to --table and --figure (the paper presets), not --dataset")
    rates, devices = from_args(args)
    if table is None:
        table = figures.figure3_spec() if args.figure == "3" else figures.figure45_spec()
    plan = tables.plan_table(table, params, args.seeds, args.data_root, args.results, require_data=False)
    print(tables.describe_plan(plan))
    print("\n".join(cost_lines(table_cost(plan), rates, devices)))
    print("estimate: nothing trained")
    return 0


def _rehearse(args: argparse.Namespace, table, params) -> int:
    """--rehearse (replication/rehearsal.py): the preset at full size on generated data,
    one cycle of a few steps, ImageNet-layout weight files in a temporary KERAS_HOME; then
    the table's cost at paper scale from steps measured here."""
    from paper2_multirep import figures, rehearsal, table_backend, tables
    spec = table if table is not None else (figures.figure3_spec() if args.figure == "3"
                                            else figures.figure45_spec())
    dataset = params.data.dataset or spec.dataset
    preset_params = params
    preset_train = table_backend.training_params(preset_params)   # read now, not after the run
    params = rehearsal.rehearsal_params(params, dataset, args.results, args.data_root,
                                        generate=not args.dry_run)
    route_worker_outputs(args, params)
    results = args.results or params.results_root
    with rehearsal.imagenet_home(() if args.dry_run else rehearsal.archs_of(spec, params)):
        if table is None:
            path = figures.make_figure(int(args.figure), params, seeds=args.seeds, results_root=results,
                                       out=args.out, dry_run=args.dry_run)
            if path is not None:
                print(f"figure {args.figure} (rehearsal): {path}")
            return 0
        outcome = tables.run_table(table, params, seeds=args.seeds, results_root=results,
                                   overwrite=args.overwrite, dry_run=args.dry_run, estimate=False)
        if args.dry_run:
            return 0
        if args.no_estimate:
            print("rehearsal cost: not measured (--no-estimate)")
        else:
            steps = rehearsal.measure_step_seconds(table, params, outcome.plan.data,
                                                   train=outcome.plan.backend.training)
            print(rehearsal.cost_text(outcome.plan, preset_params, steps, train=preset_train))
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
