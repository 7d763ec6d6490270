"""The command line both papers' `run.py` share: one parser builder for the common
options and one table lookup (replication.registry.table_number).

    parser, targets = table_parser("python -m paper1_ts.run", "...", figures=("1", "2"),
                                   preset_help="paper | demo | a YAML path", default_preset="paper")
    targets.add_argument("--dataset", ...)       # a paper's further targets (exclusive with --table)
    parser.add_argument("--res4-filters", ...)   # a paper's own options

Common options: exactly one target (--table N, --figure N, or a target the paper adds),
--preset, --seeds N, --data-root DIR, --results DIR, --overwrite, --dry-run, --no-estimate,
--rehearse (replication/rehearsal.py), --estimate [--throughput FILE] [--devices N]
[--scaling-efficiency E] (replication/cost.py), --set KEY=VALUE (alias --opt; repeatable; dotted keys, values read as YAML scalars).
Nothing here imports TensorFlow or a paper package, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
from typing import Any, Mapping, Sequence

from replication.registry import table_number
from replication.rehearsal import REHEARSAL_STEPS
from shared.cli import UsageError

__all__ = ["check_estimate_args", "explicit_keys", "lookup_table", "parse_overrides", "table_parser"]

lookup_table = table_number        # the one table lookup: ("vii", known, "paper 2") -> "VII"


def table_parser(prog: str, description: str, *, figures: Sequence[str], preset_help: str,
                 default_preset: str | None, table_help: str = "table number of the paper",
                 figure_help: str = "figure of the paper to draw",
                 raw_description: bool = False) -> tuple[argparse.ArgumentParser, Any]:
    """(parser, the group of mutually exclusive targets) with every common option.

    --table is free text, resolved by the command with `lookup_table`, so "7", "VII" and
    "vii" all work and an unknown table gives the same one-line error in both papers.
    """
    parser = argparse.ArgumentParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter if raw_description else argparse.HelpFormatter)
    targets = parser.add_mutually_exclusive_group(required=True)
    targets.add_argument("--table", metavar="N", help=table_help)
    targets.add_argument("--figure", choices=tuple(figures), default=None, help=figure_help)
    parser.add_argument("--preset", default=default_preset, help=preset_help)
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="number of seeds, 0..N-1 (default: the preset's)")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="data set root (default data/datasets/<name> in the checkout)")
    parser.add_argument("--results", default=None, metavar="DIR",
                        help="results root (default: the preset's, 'results')")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing run records (trained models in the store are reused)")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved plan, train nothing")
    parser.add_argument("--no-estimate", action="store_true",
                        help="skip the measured time estimate (no timed training step first)")
    parser.add_argument("--rehearse", action="store_true",
                        help="rehearsal: the preset at full size on generated data in the real format, "
                             f"{REHEARSAL_STEPS} steps per epoch, 1 epoch (paper 2: 1 cycle); results "
                             "under results/rehearsal, verdicts labelled and never a regression "
                             "(replication/rehearsal.py)")
    parser.add_argument("--estimate", action="store_true",
                        help="print the plan and the faithful cost of the table (hours on 1 and N devices, "
                             "from the benchmark's training throughput; replication/cost.py), train nothing")
    parser.add_argument("--throughput", default=None, metavar="FILE",
                        help="--estimate: a JSON of `python -m replication.drivers.bench` (default: this "
                             "machine's, docs/results/bench/after.json)")
    parser.add_argument("--devices", type=int, default=1, metavar="N",
                        help="--estimate: also the hours on N devices (tf.distribute mirrored)")
    parser.add_argument("--scaling-efficiency", type=float, default=None, metavar="E",
                        help="--estimate with --devices: speed-up = N x E (default 1.0, ideal: no "
                             "multi-device speed-up is measured in the kit, so N-device hours are a lower bound)")
    parser.add_argument("--set", "--opt", dest="set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset field (repeatable; dotted keys, YAML values), "
                             "e.g. --set data.cache_root=/tmp/cache")
    return parser, targets


def check_estimate_args(args: argparse.Namespace) -> None:
    """--throughput / --devices / --scaling-efficiency belong to --estimate, which is a plan
    of the preset as given (not of a rehearsal) and needs no measured step.

    Raises:
      UsageError: naming the option that does not fit.
    """
    if not getattr(args, "estimate", False):
        for option, value, default in (("--throughput", args.throughput, None), ("--devices", args.devices, 1),
                                       ("--scaling-efficiency", args.scaling_efficiency, None)):
            if value != default:
                raise UsageError(f"{option} applies to --estimate only")
        return
    for option in ("rehearse", "no_estimate"):
        if getattr(args, option, False):
            raise UsageError(f"--estimate and --{option.replace('_', '-')} do not go together (--estimate "
                             "trains nothing and prices the preset as given)")


def parse_overrides(pairs: Sequence[str], option: str = "--set") -> dict:
    """["a.b=1", ...] -> {"a": {"b": 1}} (values parsed as YAML scalars).

    Raises:
      UsageError: an item without "=" or with an empty key (names the item).
    """
    import yaml
    result: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(part.strip() for part in parts):
            raise UsageError(f"{option} expects KEY=VALUE, got '{pair}'")
        node = result
        for part in parts[:-1]:
            child = node.setdefault(part.strip(), {})
            if not isinstance(child, dict):
                raise UsageError(f"{option} {pair}: '{part}' was given a value before")
            node = child
        node[parts[-1].strip()] = yaml.safe_load(value)
    return result


def explicit_keys(overrides: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of a nested override mapping ({"ts": {"loss": "x"}} -> ["ts.loss"])."""
    keys = []
    for key, value in overrides.items():
        if isinstance(value, Mapping) and value:
            keys += explicit_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys
