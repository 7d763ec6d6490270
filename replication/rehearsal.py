"""Rehearsals: a paper preset run end to end at full size on generated data (issue 14).

`--rehearse` (replication/runner_cli.py) on a table or figure command of either paper
keeps the preset's models, features, batch, optimiser and readings, and changes only

  * the number of steps: REHEARSAL_STEPS optimiser steps per epoch / pass, one epoch per
    training step (paper 2: one cycle);
  * the data: generated rehearsal data in the real layout and format
    (shared/datasets/rehearsal.py) under <results>/_data/<dataset> unless --data-root is
    given, read with the loaders' rehearsal mode on;
  * where things go: results under results/rehearsal (default), features under
    <results>/_cache, so nothing mixes with real runs;
  * paper 2: random weights in the exact Keras no-top ImageNet file layout in a temporary
    KERAS_HOME (never the user's ~/.keras), loaded through the path a real file takes.

Records carry extra["rehearsal"] (`is_rehearsal`); the checker compares them with the
published cells, labels every verdict as a rehearsal and never counts one as a regression.
At the end a rehearsal prints the measured time per step at paper scale on this machine
and the cost of the table extrapolated to the paper's data and epoch budget (`cost_lines`).

This module imports no paper package (tests/replication/test_layering.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from shared.paths import checkout_root

REHEARSAL_STEPS = 2                  # optimiser steps per epoch / pass in a rehearsal
PER_CLASS = 2                        # generated clips per class and split
RESULTS_DIR = "results/rehearsal"    # default results root of a rehearsal (in the checkout)
DATA_DIR = "_data"                   # <results>/_data/<dataset>: generated data
CACHE_DIR = "_cache"                 # <results>/_cache: the rehearsal's feature cache
COST_MARK = "rehearsal cost"         # first words of the cost block a rehearsal prints at its end
TITLE_MARK = "REHEARSAL (generated clips, a few steps; says nothing about the paper): "
NOTE = ("REHEARSAL: full-size models on a few generated clips for a few steps; the numbers "
        "below test the path from data to record, they say nothing about the paper")


@dataclass(frozen=True)
class Rehearsal:
    """Where a rehearsal reads and writes, and how many steps it trains."""
    results_root: str
    data_root: str
    cache_root: str
    steps: int = REHEARSAL_STEPS

    def record_extra(self, **more: Any) -> dict:
        """What a rehearsal record carries in extra["rehearsal"]."""
        return {"steps_per_epoch": self.steps, "data_root": self.data_root,
                "note": NOTE, **more}


def marked_title(rehearsal: bool, title: str) -> str:
    """A figure's `title`, led by TITLE_MARK when it was drawn from a rehearsal's models, so
    its PNG is never taken for the paper's figure (both papers' figure commands)."""
    return TITLE_MARK + title if rehearsal else title


def default_results_root(given: str | None) -> str:
    """--results, else results/rehearsal in the checkout."""
    return str(given) if given else str(checkout_root() / RESULTS_DIR)


def setup(dataset: str, results: str | None, data_root: str | None, cache_root: str = "",
          per_class: int = PER_CLASS, generate: bool = True, log=print) -> Rehearsal:
    """Results root, data root (generated unless given; `generate` False: only named, for a
    dry run) and feature cache of a rehearsal.

    Raises:
      shared.cli.UsageError: `dataset` has no rehearsal data (a demo preset).
      shared.datasets.base.DatasetError: the default root holds something else (names it).
    """
    from shared.cli import UsageError
    from shared.datasets import rehearsal as gen

    if dataset not in gen.DATASETS:
        raise UsageError(f"--rehearse runs a paper preset on rehearsal data of its real data set "
                         f"({', '.join(gen.DATASETS)}); this preset uses '{dataset}'")
    root = default_results_root(results)
    if data_root is None:
        data = Path(root) / DATA_DIR / dataset
        params = gen.RehearsalParams(dataset, per_class=per_class)
        if generate:
            if not gen.is_complete(data, params):
                log(f"rehearsal: writing {dataset} rehearsal data ({per_class} clips per class "
                    f"and split) to {data}")
            gen.generate(data, params, progress=False)
        data_root = str(data)
    return Rehearsal(root, str(data_root), cache_root or str(Path(root) / CACHE_DIR))


def is_rehearsal(record: Any) -> bool:
    """True for a run record a rehearsal wrote (extra["rehearsal"])."""
    extra = getattr(record, "extra", None)
    return isinstance(extra, Mapping) and bool(extra.get("rehearsal"))


# ------------------------------------------------------------------------ cost
def hms(seconds: float) -> str:
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600}h{rest // 60 % 60:02d}m{rest % 60:02d}s"
    return f"{days}d {text}" if days else text


@dataclass(frozen=True)
class StepCost:
    """One kind of training step at paper scale: measured seconds and how many the paper runs."""
    name: str                 # "raw", "spec", "resnet_logmel64", ...
    seconds: float            # one optimiser step at the paper's batch, measured here
    steps_per_epoch: int      # ceil(official training clips / batch)


def cost_lines(costs: list[StepCost], table_seconds: float | None, what: str) -> list[str]:
    """The end-of-rehearsal lines: seconds per step and per epoch at paper scale on this
    CPU, the whole table's training time at the paper's budget, and where the N-device
    estimate comes from (--estimate, replication/cost.py)."""
    lines = [f"{COST_MARK} at paper scale on this CPU ({what}):"]
    for c in costs:
        lines.append(f"  {c.name:<20} {c.seconds:8.2f} s/step x {c.steps_per_epoch} steps/epoch = "
                     f"{hms(c.seconds * c.steps_per_epoch)} per epoch")
    if table_seconds is not None and math.isfinite(table_seconds):
        lines.append(f"  whole table at the paper's epoch budget: {hms(table_seconds)} of training "
                     "(extrapolated from the measured steps; feature extraction and scoring not included)")
    lines.append("  N-device estimate: the same command with --estimate [--throughput FILE] [--devices N] "
                 "instead of --rehearse prices the whole table (inference and features where known) from a "
                 "benchmark JSON (replication/cost.py); no GPU was measured here, so a GPU figure needs "
                 "that machine's benchmark")
    return lines


def cost_block(out: str) -> str:
    """A command's printed cost block: `out` from the first COST_MARK on ("" when it printed
    none; the paper commands print "rehearsal cost: ..." when no step was measured)."""
    at = out.find(COST_MARK)
    return out[at:] if at >= 0 else ""


__all__ = ["CACHE_DIR", "COST_MARK", "DATA_DIR", "NOTE", "PER_CLASS", "REHEARSAL_STEPS", "RESULTS_DIR", "Rehearsal",
           "StepCost", "cost_block", "cost_lines", "default_results_root", "is_rehearsal", "setup"]
