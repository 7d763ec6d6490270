"""The common start of the kill -9 resume tests' child processes (run by the
`script_runs` fixture in tests/conftest.py): arguments, strategy, seed.

    args, strategy = start_child(argv, data=True)   # --data, --ckpt, --out, --batch-sleep, --strategy
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    parser.add_argument("--batch-sleep", type=float, default=0.0)
    parser.add_argument("--strategy", choices=sorted(STRATEGIES), default="default")
    args = parser.parse_args(argv)

    from shared.distribute import DistributeParams, make_strategy
    strategy = make_strategy(DistributeParams(**STRATEGIES[args.strategy]))
    from shared.determinism import seed_everything
    seed_everything(7)
    return args, strategy
