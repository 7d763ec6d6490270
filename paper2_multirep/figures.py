"""Paper 2's figures as PNG: Fig. 3 (DN / DR / D-RN bars) and Figs. 4-5 (t-SNE of logits).

Both reuse the table machinery: the jobs a figure needs are planned like a table's,
and any job already trained for a table (same resolved configuration) is read from
the model store instead of being trained again.

Fig. 3 compares, for the logMel64/ResNet branch on FSDKaggle2018, the independent
baseline with the branch distilled with a different network (DN, Table V logMel
group), a different representation (DR, Table II) and both (D-RN, Table VI). The
caption does not say which partner DR and D-RN used; the kit's default is MFCC
(Table II line 1 and Table VI line 1), switchable with `partner="cqt"` (register
p2-fig-partners).

Figs. 4-5: t-SNE of the test clips' audio-level logits of the ResNet/CQT branch trained
independently (Fig. 4) and distilled (Fig. 5). The paper does not say with which
partner; the kit uses Table II's logMel64/ResNet + CQT/ResNet group (register
p2-fig-partners).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from paper2_multirep import tables
from paper2_multirep.experiments import BranchSpec, ExperimentParams, GroupSpec, TableSpec
from replication.rehearsal import marked_title
from shared.config import atomic_write_text

LOGMEL_RESNET = BranchSpec("logmel64", "resnet")
MODES = ("baseline", "DN", "DR", "D-RN")


def figure3_spec(partner: str = "mfcc") -> TableSpec:
    """The three distillation groups behind Fig. 3 (all on FSDKaggle2018)."""
    if partner not in ("mfcc", "cqt"):
        raise ValueError(f"figure 3 partner '{partner}' unknown (mfcc, cqt)")
    return TableSpec("paper2/figure3", "F3", "fsdkaggle2018", "distillation modes DN / DR / D-RN",
                     (GroupSpec("DN", "DN", (BranchSpec("logmel64", "vgg"), LOGMEL_RESNET)),
                      GroupSpec("DR", "DR", (LOGMEL_RESNET, BranchSpec(partner, "resnet"))),
                      GroupSpec("D-RN", "D-RN", (LOGMEL_RESNET, BranchSpec(partner, "vgg")))))


def figure45_spec() -> TableSpec:
    """Table II's logMel64/ResNet + CQT/ResNet group (Figs. 4-5 show its CQT branch)."""
    return TableSpec("paper2/figure4-5", "F4", "fsdkaggle2018", "t-SNE of CQT/ResNet logits",
                     (GroupSpec("g", "logMel + CQT", (LOGMEL_RESNET, BranchSpec("cqt", "resnet"))),))


def figure_title(params: ExperimentParams, title: str) -> str:
    """`title`, marked as a rehearsal's when the params read rehearsal data (--rehearse,
    replication/rehearsal.py), so its PNG is never taken for the paper's figure."""
    return marked_title(params.data.rehearsal, title)


def narrow(plan: tables.Plan, target: BranchSpec) -> tables.Plan:
    """Keeps the jobs a figure shows: the target's independent job and the cyclic groups."""
    keep = [j for j in plan.jobs if j.kind == "cyclic" or j.branches == (target,)]
    plan.jobs = keep
    plan.job_of = {k: j for k, j in plan.job_of.items() if j in keep}
    return plan


def _train_all(plan: tables.Plan, log) -> None:
    pending = plan.pending()
    for i, job in enumerate(pending, 1):
        log(f"[{i}/{len(pending)}] training {job.label}")
        tables.execute_job(plan, job, log=log)


def _branch_output(plan: tables.Plan, run_name: str, seed: int, branch: BranchSpec,
                   group: GroupSpec | None, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(`what` = "probs"|"logits" of one branch, labels) from the store."""
    job = plan.job_of[(run_name, seed)]
    outputs, _ = plan.store.load(job.key)
    index = 0 if job.kind == "independent" else group.branches.index(branch)
    return outputs[f"{what}_{index}"], outputs["labels"]


def figure3_values(plan: tables.Plan) -> dict[str, dict[str, list[float]]]:
    """mode -> metric -> per-seed values (fractions) for the logMel64/ResNet branch."""
    from paper2_multirep.experiments import run_name
    values: dict[str, dict[str, list[float]]] = {m: {"accuracy": [], "map_at_3": []} for m in MODES}
    groups = {g.name: g for g in plan.table.groups}
    for seed in plan.seeds:
        sources = {"baseline": (LOGMEL_RESNET.key, None)}
        for mode in ("DN", "DR", "D-RN"):
            sources[mode] = (run_name(groups[mode], "distilled", LOGMEL_RESNET), groups[mode])
        for mode, (name, group) in sources.items():
            probs, labels = _branch_output(plan, name, seed, LOGMEL_RESNET, group, "probs")
            for metric, value in tables.backend.metrics(probs, labels).items():
                values[mode][metric].append(float(value))
    return values


def make_figure(number: int, params: ExperimentParams, *, seeds: int | None = None,
                data_root: str | None = None, results_root: str | None = None,
                out: str | None = None, dry_run: bool = False, partner: str = "mfcc",
                log=print) -> Path | None:
    """Trains what is missing and writes the figure's PNG (+ a JSON of its numbers)."""
    if number not in (3, 4, 5):
        raise ValueError(f"paper 2 has no figure {number} to reproduce (3, 4, 5)")
    spec = figure3_spec(partner) if number == 3 else figure45_spec()
    plan = tables.plan_table(spec, params, seeds if number == 3 else 1, data_root, results_root,
                             require_data=not dry_run)
    target = LOGMEL_RESNET if number == 3 else spec.groups[0].branches[1]
    plan = narrow(plan, target)
    log(tables.describe_plan(plan))
    if dry_run:
        log("dry run: nothing trained")
        return None
    _train_all(plan, log)
    out_path = Path(out) if out else (Path(plan.params.results_root) / "paper2" / "figures"
                                      / f"figure{number}_{plan.params.preset}.png")
    note = f"{plan.params.preset} preset, data set {plan.data.name}"
    from replication import plots
    if number == 3:
        values = figure3_values(plan)
        series = {label: [100 * float(np.mean(values[m][k])) for m in MODES]
                  for label, k in (("Accuracy", "accuracy"), ("mAP@3", "map_at_3"))}
        errors = {label: [100 * float(np.std(values[m][k])) for m in MODES]
                  for label, k in (("Accuracy", "accuracy"), ("mAP@3", "map_at_3"))}
        plots.plot_grouped_bars(list(MODES), series, out_path, errors=errors, ylabel="%",
                                title=figure_title(plan.params, "Fig. 3: logMel64/ResNet branch by "
                                                             f"distillation mode\n({note})"))
        atomic_write_text(out_path.with_suffix(".json"),
                          json.dumps({"per_seed": values, "partner": partner, "note": note}, indent=2))
        return out_path
    group = spec.groups[0]
    cqt = group.branches[1]
    from paper2_multirep.experiments import run_name
    name = cqt.key if number == 4 else run_name(group, "distilled", cqt)
    logits, labels = _branch_output(plan, name, 0, cqt, group, "logits")
    title = figure_title(plan.params, f"Fig. {number}: t-SNE of CQT/ResNet logits, "
                                      f"{'independent' if number == 4 else 'distilled'} ({note})")
    plots.plot_tsne(logits, labels, out_path, class_names=list(plan.data.classes), title=title, seed=0)
    return out_path
