"""The common start of the kill -9 resume tests' child processes (run by the
`script_runs` fixture in tests/conftest.py): arguments, strategy, seed, hold point.

    args, strategy = start_child(argv, data=True)   # --data, --ckpt, --out, --strategy, hold
    hold = batch_hold(args)                         # None, or call it at every batch

The hold point is where the parent kills the child: with `--hold-after FILE --held
MARKER`, the `--hold-batches`-th batch seen once FILE (a checkpoint) exists writes MARKER
and waits there until the parent's SIGKILL. The kill thus lands at a chosen batch on any
machine; a child merely slowed down (sleeps per batch) could finish, or pass the chosen
phase, before a parent on a busy host got round to killing it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

# --strategy names -> shared.distribute.DistributeParams fields
STRATEGIES = {"default": {"kind": "default"},
              "mirrored1": {"kind": "mirrored", "devices": ("/cpu:0",)},
              "mirrored2": {"kind": "mirrored", "logical_cpus": 2}}


def start_child(argv: list[str], data: bool = False):
    """Parses the child's arguments, builds the strategy (before TensorFlow sets up its
    devices) and seeds everything with 7; returns (args, strategy)."""
    parser = argparse.ArgumentParser()
    if data:
        parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--ckpt", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--strategy", choices=sorted(STRATEGIES), default="default")
    parser.add_argument("--hold-after", type=Path, default=None,
                        help="hold (see --held) once this file exists; default: never hold")
    parser.add_argument("--hold-batches", type=int, default=1,
                        help="hold at this batch counted from the one that first sees --hold-after")
    parser.add_argument("--held", type=Path, default=None, help="marker written when holding")
    args = parser.parse_args(argv)
    if (args.hold_after is None) != (args.held is None):
        parser.error("--hold-after and --held go together")

    from shared.distribute import DistributeParams, make_strategy
    strategy = make_strategy(DistributeParams(**STRATEGIES[args.strategy]))
    from shared.determinism import seed_everything
    seed_everything(7)
    return args, strategy


def batch_hold(args) -> Callable[[], None] | None:
    """The child's hold point as a function to call at every batch (None without
    --hold-after): it returns at once until the hold batch, where it writes --held and
    then never returns (the parent kills the process there)."""
    if args.hold_after is None:
        return None
    seen = 0

    def hold() -> None:
        nonlocal seen
        if not args.hold_after.exists():
            return
        seen += 1
        if seen < args.hold_batches:
            return
        args.held.write_text("holding for kill -9\n")
        while True:                                  # until SIGKILL
            time.sleep(60)

    return hold
