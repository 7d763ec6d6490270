"""Paper 2's side of `--rehearse` (replication/rehearsal.py): the preset's params with the
rehearsal's steps, data and roots, ImageNet weight files in a temporary KERAS_HOME, and
the cost of a table at paper scale.

    params = rehearsal_params(resolve_params("paper"), "dcase2018_task1a", None, None)
    with imagenet_home(("vgg19", "resnet101")):      # random weights, Keras's file layout
        tables.run_table(table, params, ...)
    print(cost_text(table, params, paper_params, step_seconds))
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator


from paper2_multirep.experiments import ExperimentParams, TableSpec
from replication import rehearsal as rh
from shared.config import override

OFFICIAL_TRAIN = {"dcase2018_task1a": 6122, "fsdkaggle2018": 9473}   # training clips (Sec. IV-A)


def rehearsal_params(params: ExperimentParams, dataset: str, results: str | None,
                     data_root: str | None, generate: bool = True) -> ExperimentParams:
    """`params` with one cycle (Q = 1) of at most REHEARSAL_STEPS steps per pass, ImageNet
    weights required from file, the generated data of `dataset` in rehearsal mode and the
    rehearsal's results root and feature cache; models, features, batch and optimiser
    unchanged."""
    setup = rh.setup(dataset, results, data_root, params.data.cache_root, generate=generate)
    training = dict(params.training_overrides)
    for part, values in (("optim", {"epochs": 1, "steps_per_pass": setup.steps}),
                         ("branch", {"require_weights": True})):
        training[part] = {**dict(training.get(part) or {}), **values}
    params = replace(params, training_overrides=training)
    return override(params, {"results_root": setup.results_root,
                             "data": {"root": setup.data_root, "rehearsal": True,
                                      "cache_root": setup.cache_root}}, source="--rehearse")


def archs_of(table: TableSpec, params: ExperimentParams) -> tuple[str, ...]:
    """The pretrained architectures a table's branches build (their weight files)."""
    from paper2_multirep.params import PRETRAINED_ARCHS
    return tuple(sorted({params.arch_of(b.network) for b in table.branches} & set(PRETRAINED_ARCHS)))


@contextmanager
def imagenet_home(archs: tuple[str, ...], log=print) -> Iterator[str]:
    """A temporary KERAS_HOME holding random weights in the exact file layout of Keras's
    no-top ImageNet files (paper2_multirep.imagenet_files), set for the duration; the
    user's ~/.keras is never touched. The folder is removed afterwards."""
    from paper2_multirep.imagenet_files import write_imagenet_weights

    home = tempfile.mkdtemp(prefix="kit-rehearsal-keras-")
    before = os.environ.get("KERAS_HOME")
    try:
        if archs:
            paths = write_imagenet_weights(home, archs)
            log("rehearsal: random ImageNet-layout weights (NOT ImageNet) in "
                + ", ".join(str(p) for p in paths.values()))
        os.environ["KERAS_HOME"] = home
        yield home
    finally:
        if before is None:
            os.environ.pop("KERAS_HOME", None)
        else:
            os.environ["KERAS_HOME"] = before
        shutil.rmtree(home, ignore_errors=True)


def measure_step_seconds(table: TableSpec, params: ExperimentParams, data, steps: int = 2,
                         train=None, log=print) -> dict[str, float]:
    """Seconds of one SGD step at the preset's batch (not capped by the rehearsal's clip
    count) for each branch of `table`, on random crops of its shape, after a warm-up step
    (`train`: the training params read when the plan was made; None reads the preset now).

    A step's cost depends on the network, the crop shape and the batch, not on which
    representation filled the crop, so branches that share all three (Table VII's logMel64
    and MFCC crops are both 64 bins wide) are timed once and share the figure: a full-size
    table times each distinct network once instead of once per branch."""
    from paper2_multirep import table_backend as backend
    seconds: dict[str, float] = {}
    timed: dict[tuple, float] = {}
    for branch in table.branches:
        branch_train = backend.branch_training_params(params, branch, train)
        batch = branch_train.optim.batch_size
        key = (branch_train.branch, backend.crop_shape(branch.representation, params, data), batch)
        if key not in timed:
            timed[key] = backend.step_seconds(branch, params, data, batch, steps, clear=True, train=train)
            log(f"rehearsal: timed {branch.key}: {timed[key]:.2f} s/step at batch {batch}, crop {key[1]}")
        else:
            log(f"rehearsal: {branch.key} shares the network, crop and batch timed above")
        seconds[branch.key] = timed[key]
    return seconds


def cost_text(plan, preset: ExperimentParams, step_seconds: dict[str, float], train=None) -> str:
    """Seconds per step (measured here), per pass over the official training split, and
    the table's training time at the preset's budget: every job of the plan, each branch
    making its passes (independent / cyclic) of ceil(train clips / batch) steps. Soft-label
    scoring and evaluation are not included. `train`: the preset's training params read
    before the run (run.py reads them first: a preset file edited during the rehearsal then
    cannot end it); None reads them now."""
    from paper2_multirep import table_backend as backend

    n_train = OFFICIAL_TRAIN[plan.data.name]
    train = backend.training_params(preset) if train is None else train
    passes = train.passes_per_branch()
    costs, per_pass = [], {}
    for branch in plan.table.branches:
        batch = backend.branch_training_params(preset, branch, train).optim.batch_size
        per_pass[branch.key] = math.ceil(n_train / batch)
        if branch.key in step_seconds:
            costs.append(rh.StepCost(branch.key, step_seconds[branch.key], per_pass[branch.key]))
    total = 0.0
    for job in plan.jobs:
        for branch in job.branches:
            if branch.key not in step_seconds:
                total = math.nan
                break
            total += passes[job.kind] * per_pass[branch.key] * step_seconds[branch.key]
    what = (f"{plan.table.name}, {len(plan.jobs)} job(s), {n_train} training clips, "
            f"{passes['independent']} passes per independent branch, {passes['cyclic']} per cyclic branch")
    return "\n".join(rh.cost_lines(costs, total, what))
