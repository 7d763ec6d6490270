"""Command line of paper 1: one command per table (and, later, per figure).

    python -m paper1_ts.run --table 2                    # Table 2 shape check, full size
    python -m paper1_ts.run --table 3                    # Table 3 shape check (Res4 = 240)
    python -m paper1_ts.run --table 3 --res4-filters 120 # Table 3 as printed: reports the mismatch
    python -m paper1_ts.run --table 4 --preset demo      # a result table (1, 4, 5, 6), see commands.py
    python -m paper1_ts.run --figure 2 --preset demo     # a figure (1, 2)

Options shared with paper 2 (--preset, --seeds, --data-root, --results, --overwrite,
--dry-run, --no-estimate, --set KEY=VALUE) come from replication/runner_cli.py, and so
does the table lookup (`--table 4`, `IV`, `table4`; an unknown table: one error line).

Several machines (distribute.kind multi_worker): only the chief (shared.distribute.is_chief)
writes under the results root; the other workers write to a private temporary
directory they print (`route_worker_outputs`).

Each table number maps to a handler in TABLE_HANDLERS (a handler takes the parsed
arguments and returns the exit code); the result tables are added there as further
entries. Exit codes: 0 = everything matches / succeeded, 1 = a mismatch or failure,
2 = bad input (command line, preset, data root, ...: one line on stderr, shared/cli.py,
docs/errors.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from replication.registry import RegistryError
from shared.cli import command

PROG = "python -m paper1_ts.run"
Handler = Callable[[argparse.Namespace], int]


def _shape_check(args: argparse.Namespace) -> int:
    """Tables 2 and 3: build the full-size model, print paper vs built shapes."""
    from paper1_ts import shapes    # imported here: keeps `--help` free of TensorFlow start-up

    report = shapes.table_report(args.table, res4_filters=args.res4_filters)
    print(report.text())
    return 0 if report.ok else 1


def _result_table(args: argparse.Namespace) -> int:
    """Tables 1, 4, 5, 6: train/evaluate and check (paper1_ts/commands.py)."""
    from paper1_ts import commands
    return commands.run_result_table(args)


TABLE_HANDLERS: dict[str, Handler] = {
    "1": _result_table,
    "2": _shape_check,
    "3": _shape_check,
    "4": _result_table,
    "5": _result_table,
    "6": _result_table,
}


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser: the options both papers share (replication/runner_cli.py) and
    --res4-filters; --table is resolved against TABLE_HANDLERS in `main`."""
    from paper1_ts.commands import PRESET_HELP     # no TensorFlow
    from replication.runner_cli import table_parser

    parser, _ = table_parser(
        PROG, "Paper 1 (Heo et al. 2019): reproduce a table.", figures=("1", "2"),
        preset_help=PRESET_HELP, default_preset="paper",
        table_help=f"table number of paper 1: {', '.join(sorted(TABLE_HANDLERS))} (2, 3: architectures)",
        figure_help="figure of paper 1 to draw (PNG under <results>/paper1/figures)")
    parser.add_argument("--res4-filters", type=int, default=None, metavar="N",
                        help="Table 3 only: width of Res4 (default 240, register "
                             "p1-res4-filters; 120 = as printed)")
    return parser


def route_worker_outputs(args: argparse.Namespace) -> None:
    """Multi-worker runs: a worker that is not the chief writes its job store, records and
    figures under a private temporary results root (printed; it starts with a copy of the
    store, so every worker plans the same jobs); the chief writes the real one."""
    if args.dry_run or args.estimate or args.table in ("2", "3"):
        return
    from paper1_ts.commands import params_from_args

    params = params_from_args(args)      # a bad preset or option fails here, before TensorFlow starts
    if params.distribute.kind != "multi_worker":
        return                           # one process: it writes the real results root
    from paper1_ts.tables import STORE_DIR
    from shared.distribute import worker_results_root

    root = worker_results_root(params.results_root, params.distribute.kind, copy=(STORE_DIR,))
    if str(root) != str(params.results_root):
        args.results = str(root)


@command(PROG, RegistryError)
def main(argv: Sequence[str] | None = None) -> int:
    """Parses `argv`, runs the table's handler and returns its exit code."""
    from replication.runner_cli import check_estimate_args, lookup_table

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table is not None:               # "4", "IV", "table4": the lookup both papers share
        args.table = lookup_table(args.table, sorted(TABLE_HANDLERS), "paper 1")
    check_estimate_args(args)
    if args.estimate and args.figure is not None:
        parser.error("--estimate prices a result table (1, 4, 5, 6); the figures reuse Table 6's models "
                     "(python -m paper1_ts.run --table 6 --estimate)")
    if args.estimate and args.table in ("2", "3"):
        parser.error("--estimate prices a result table (1, 4, 5, 6); tables 2 and 3 train nothing")
    route_worker_outputs(args)
    if args.figure is not None:
        from paper1_ts import commands
        return commands.run_figure(args)
    if args.res4_filters is not None and args.table != "3":
        parser.error("--res4-filters applies to --table 3 only")
    if args.res4_filters is not None and args.res4_filters < 1:
        parser.error(f"--res4-filters must be >= 1, got {args.res4_filters}")
    return TABLE_HANDLERS[args.table](args)


if __name__ == "__main__":
    sys.exit(main())
