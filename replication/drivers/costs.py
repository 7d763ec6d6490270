"""The faithful cost of every paper table (and paper 2's figures) in one Markdown table:
each row is what `--estimate` of that table prints as its total (replication/cost.py),
from the paper presets, the official clip counts and a benchmark's training throughput.

    python -m replication.drivers.costs                                  # this machine's benchmark
    python -m replication.drivers.costs --throughput gpu.json --devices 8
    python -m replication.drivers.costs --into docs/scale.md --section costs

Nothing is trained and no data is read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from replication.cost import (DEFAULT_EFFICIENCY, CostError, Devices, TableCost, Throughput, estimate,
                              hours, load_throughput, total_seconds, default_throughput_path)
from shared.cli import command

PROG = "python -m replication.drivers.costs"


def paper1_costs() -> list[tuple[str, TableCost]]:
    """(command, cost) of paper 1's result tables at the paper preset, official clip counts."""
    from paper1_ts import tables
    from paper1_ts.cost import table_cost
    from paper1_ts.data import dataset_module
    from paper1_ts.experiments import TABLES
    from paper1_ts.params import resolve_params

    params = resolve_params("paper")
    official = dict(dataset_module(params.data.dataset).spec().extra["split_counts"])
    out = []
    for number, table in TABLES.items():
        plan = tables.make_plan(table, params, "paper", official, warn=lambda line: None)
        out.append((f"python -m paper1_ts.run --table {number} --estimate", table_cost(plan)))
    return out


def paper2_costs() -> list[tuple[str, TableCost]]:
    """(command, cost) of paper 2's tables and figures 3, 4-5 at the paper preset."""
    from paper2_multirep import figures, tables
    from paper2_multirep.cost import table_cost
    from paper2_multirep.experiments import TABLES

    params = tables.resolve_params("paper")
    targets = [(f"--table {t.numeral}", t) for t in TABLES]
    targets += [("--figure 3", figures.figure3_spec()), ("--figure 4", figures.figure45_spec())]
    out = []
    for option, spec in targets:
        plan = tables.plan_table(spec, params, require_data=False)
        out.append((f"python -m paper2_multirep.run {option} --estimate", table_cost(plan, official=True)))
    return out


def render(costs: Sequence[tuple[str, TableCost]], rates: Throughput, devices: Devices = Devices()) -> str:
    """The Markdown table: one row per target, hours on one device (and on N)."""
    n = devices.count
    on_n = f" | total h, {n} devices" if n > 1 else ""
    lines = [f"Hours of a faithful run at the paper presets (their one seed, official clip counts), from the training "
             f"throughput in `{rates.path}` ({rates.machine}); written by `{PROG}"
             + (f" --devices {n}" if n > 1 else "") + "`. Inference = soft labels, embeddings and test "
             "predictions; feature extraction runs once per data set on the host's CPU. n/a: not estimated "
             "(FSDKaggle2018 clips have no fixed length, so their crop count is unknown without the data, and "
             "the benchmark timed the front ends on DCASE clips only); the total then covers the known parts. "
             "Each row prices its target from an empty job store; targets share jobs (a run reuses what "
             "the store holds), so the rows do not add up to the cost of running them all.",
             "",
             f"| target | distinct jobs | training clip-passes | training h | inference h | features h | total h{on_n} |",
             "|---|---|---|---|---|---|---|" + ("---|" if n > 1 else "")]
    for cmd, cost in costs:
        e = estimate(cost, rates)
        passes = sum(j.train_clips for j in cost.jobs)
        total = total_seconds(e, Devices(1))
        known = e.train + (e.score or 0.0) + (e.features or 0.0)
        cell = hours(total) if total is not None else f"{hours(known)} (known parts)"
        cell_n = ""
        if n > 1:
            t = total_seconds(e, devices)
            cell_n = " | " + (hours(t) if t is not None else
                              f"{hours(devices.seconds(e.train + (e.score or 0.0)) + (e.features or 0.0))} (known parts)")
        jobs = len({j.key.split('/')[0] for j in cost.jobs})
        lines.append(f"| `{cmd}` | {jobs} | {passes:,.0f} | {hours(e.train)} | {hours(e.score)} | "
                     f"{hours(e.features)} | {cell}{cell_n} |")
    return "\n".join(lines)


@command(PROG, CostError)
def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 ok, 2 bad input (one line on stderr, docs/errors.md)."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--throughput", default=None, metavar="FILE",
                        help="benchmark JSON (default docs/results/bench/after.json, this machine)")
    parser.add_argument("--devices", type=int, default=1, metavar="N")
    parser.add_argument("--scaling-efficiency", type=float, default=DEFAULT_EFFICIENCY, metavar="E")
    parser.add_argument("--into", default=None, metavar="FILE", help="Markdown file whose marked section is replaced")
    parser.add_argument("--section", default="costs", help="marker name (default costs)")
    args = parser.parse_args(argv)
    rates = load_throughput(args.throughput or default_throughput_path())
    text = render(paper1_costs() + paper2_costs(), rates, Devices(args.devices, args.scaling_efficiency))
    print(text)
    if args.into:
        from replication.report import replace_between_markers
        replace_between_markers(args.into, args.section, text)
        print(f"written into {args.into} (section {args.section})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
