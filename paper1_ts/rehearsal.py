"""Paper 1's side of `--rehearse` (replication/rehearsal.py): the preset's params with
the rehearsal's steps, data and roots, and the cost of the table at paper scale.

    params = rehearsal_params(resolve_params("paper"), results=None, data_root=None)
    lines = cost_text(plan, step_seconds)      # printed at the end of a rehearsal
"""

from __future__ import annotations

import math
from dataclasses import replace

from paper1_ts.params import Paper1Params
from replication import rehearsal as rh
from shared.config import override


def rehearsal_params(params: Paper1Params, results: str | None, data_root: str | None,
                     generate: bool = True) -> Paper1Params:
    """`params` with REHEARSAL_STEPS steps per epoch, one epoch per training step (raw CNN;
    CNN-GRU pool head and GRU), the generated data in rehearsal mode and the rehearsal's
    results root and feature cache; models, features, batch and optimiser unchanged."""
    setup = rh.setup(params.data.dataset, results, data_root, params.data.cache_root,
                     generate=generate)
    return override(params, {
        "results_root": setup.results_root,
        "data": {"root": setup.data_root, "rehearsal": True, "cache_root": setup.cache_root},
        "train": {"steps_per_epoch": setup.steps, "epochs": 1, "pool_epochs": 1, "gru_epochs": 1}},
        source="--rehearse")


def paper_budget(params: Paper1Params, preset: Paper1Params) -> Paper1Params:
    """The rehearsal's params with the preset's epoch budget and one pass per epoch again."""
    t = preset.train
    return replace(params, train=replace(params.train, steps_per_epoch=t.steps_per_epoch, epochs=t.epochs,
                                         pool_epochs=t.pool_epochs, gru_epochs=t.gru_epochs))


def cost_text(table, params: Paper1Params, preset: Paper1Params, preset_name: str,
              step_seconds: dict[str, float]) -> str:
    """Seconds per step (measured here at the preset's batch and input size), per epoch
    over the official fold-1 training split, and the table's training time at the
    preset's epoch budget (paper1_ts.tables.estimate_seconds on a plan of every job)."""
    from paper1_ts import tables
    from paper1_ts.data import dataset_module

    official = dict(dataset_module(params.data.dataset).spec().extra["split_counts"])
    full = paper_budget(params, preset)
    plan = tables.make_plan(table, full, preset_name, official, warn=lambda line: None)
    n_train = official[params.data.train_split]
    per_epoch = math.ceil(n_train / params.train.batch_size)
    costs = [rh.StepCost(family, secs, per_epoch) for family, secs in sorted(step_seconds.items())]
    total = tables.estimate_seconds(plan, step_seconds)
    what = (f"{table.name}, {len(plan.jobs)} model(s), {n_train} training clips, batch "
            f"{params.train.batch_size}, {full.train.epochs} epochs raw / {full.train.pool_epochs}"
            f"+{full.train.gru_epochs} CNN-GRU")
    return "\n".join(rh.cost_lines(costs, total, what))
