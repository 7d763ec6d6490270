"""Beyond the paper: the same framework on an ESC-50-layout data set, ESC-50's fold protocol.

For each held-out fold k the branches train on the four other folds and are scored on
fold k only (no validation split, fixed epoch budget, last checkpoint: nothing is
selected on the test fold). One group (default logMel64/ResNet-slot + MFCC/VGG-slot,
i.e. different representations AND networks, the paper's D-RN mode) is trained
independently and by cyclic distillation, per fold and seed. Records go to
<results>/<dataset>/fold<k>/<run>/seed-<s>/results.json; the summary table (mean +- std
over seeds of the fold-averaged metric, as ESC-50 results are usually reported) is
written as Markdown and JSON (every per-seed, per-fold number) to
<results>/<dataset>/table.{md,json}.

Choosing settings (`validate=True`, `--validate`): for each held-out fold k the same runs
train on the three folds other than k and v = VALIDATION_FOLD[k] (the next fold) and are
scored on fold v; fold k is never read. Records, store keys and the table are those of a
separate data set name, "<dataset>-val" (<results>/<dataset>-val/...), so a setting is
chosen on validation numbers only, then run once on the held-out folds.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np

from paper2_multirep import tables
from paper2_multirep.experiments import BranchSpec, ExperimentParams, GroupSpec, TableSpec, run_name
from replication.records import refuse_existing_records
from shared.config import atomic_write_text

DEFAULT_BRANCHES = ("logmel64:resnet", "mfcc:vgg")
ESC_FOLDS = (1, 2, 3, 4, 5)
VALIDATION_FOLD = {k: k % 5 + 1 for k in ESC_FOLDS}     # held-out fold -> the training fold that validates it
VALIDATE_SUFFIX = "-val"


def parse_branches(texts) -> tuple[BranchSpec, ...]:
    """["logmel64:resnet", "mfcc:vgg"] -> BranchSpecs (error names the bad item)."""
    branches = []
    for text in texts:
        if ":" not in text:
            raise ValueError(f"--branches item '{text}' must be REPRESENTATION:NETWORK, e.g. mfcc:vgg")
        rep, net = text.split(":", 1)
        branches.append(BranchSpec(rep.strip().lower(), net.strip().lower()))
    return tuple(branches)


def esc_table(dataset: str, fold: int, branches: tuple[BranchSpec, ...], validate: bool = False) -> TableSpec:
    label = " + ".join(b.printed for b in branches)
    name = f"{dataset}{VALIDATE_SUFFIX if validate else ''}/fold{fold}"
    scored = f", scored on its validation fold {VALIDATION_FOLD[fold]}" if validate else ""
    return TableSpec(name, f"fold{fold}", dataset,
                     f"{dataset} held-out fold {fold}{scored}: independent vs distilled vs Ensemble*",
                     (GroupSpec("g1", label, branches),))


def _row_values(plan: tables.Plan, group: GroupSpec) -> dict[str, dict[str, list[float]]]:
    """row label -> metric -> per-seed values for one fold."""
    rows: dict[str, dict[str, list[float]]] = {}
    for seed in plan.seeds:
        indep, dist = [], []
        for branch in group.branches:
            for kind, bucket in (("independent", indep), ("distilled", dist)):
                job = plan.job_of[(run_name(group, kind, branch), seed)]
                outputs, _ = plan.store.load(job.key)
                i = 0 if kind == "independent" else group.branches.index(branch)
                bucket.append((branch, outputs[f"probs_{i}"], outputs["labels"]))
        entries = [(f"{b.printed} independent", p, y) for b, p, y in indep]
        entries += [(f"{b.printed} distilled*", p, y) for b, p, y in dist]
        entries.append(("Ensemble of independent (not in the paper)",
                        np.mean([p for _, p, _ in indep], axis=0), indep[0][2]))
        entries.append(("Ensemble* (distilled)", np.mean([p for _, p, _ in dist], axis=0), dist[0][2]))
        for label, probs, labels in entries:
            for metric, value in tables.backend.metrics(probs, labels).items():
                rows.setdefault(label, {}).setdefault(metric, []).append(float(value))
    return rows


def render_markdown(summary: dict) -> str:
    """The measured table (percent, mean +- std over seeds of the fold-averaged metric)."""
    lines = [f"ESC table: {summary['dataset']}, folds {summary['folds']}, {summary['seeds']} seeds, "
             f"preset {summary['preset']}, branches {summary['branches']}",
             *([f"Scored on VALIDATION folds {summary['validation_folds']} (a training fold of each held-out "
                "fold; the held-out folds unread): for choosing settings, not a result."]
               if summary.get("validation_folds") else []),
             "",
             "| Row | Accuracy (%) | mAP@3 (%) |",
             "| --- | --- | --- |"]
    for label, metrics in summary["rows"].items():
        cells = [f"{100 * metrics[m]['mean']:.2f} +- {100 * metrics[m]['std']:.2f}"
                 for m in ("accuracy", "map_at_3")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    lines.append("")
    lines.append(f"Command: `{summary['command']}`")
    return "\n".join(lines) + "\n"


def run_esc(params: ExperimentParams, *, dataset: str = "esc50", data_root: str | None = None,
            folds=None, branches=None, seeds: int | None = None, results_root: str | None = None,
            out_dir: str | None = None, overwrite: bool = False, dry_run: bool = False,
            estimate: bool = True, command: str = "", validate: bool = False, sets=(),
            log=print) -> dict | None:
    """Runs every fold, writes records and the summary table; returns the summary.
    `sets`: the --set items `params` were resolved with, so that the table's command
    (when `command` is not given) reruns the same setting.
    validate=True: each held-out fold's runs are scored on its validation fold instead
    (module doc), under the data set name <dataset>-val."""
    if not data_root:
        raise ValueError(f"--dataset {dataset} needs --data-root (an ESC-50-layout directory)")
    folds = tuple(folds or ESC_FOLDS)
    bad = [f for f in folds if f not in ESC_FOLDS]
    if bad:
        raise ValueError(f"--folds {bad}: ESC-50 folds are 1..5")
    group_branches = parse_branches(branches or DEFAULT_BRANCHES)
    if results_root:
        params = replace(params, results_root=str(results_root))
    per_fold: dict[int, dict] = {}
    n_seeds = seeds or params.seeds
    if not dry_run:      # every fold's records, before the first fold trains
        refuse_existing_records(
            params.results_root, [key for fold in folds for key in tables.record_keys(
                esc_table(dataset, fold, group_branches, validate), n_seeds)], overwrite, log)
    for fold in folds:
        table = esc_table(dataset, fold, group_branches, validate)
        outcome = tables.run_table(table, params, seeds=n_seeds, data_root=data_root,
                                   overwrite=overwrite, dry_run=dry_run, estimate=estimate,
                                   check=False, test_fold=fold,
                                   validation_fold=VALIDATION_FOLD[fold] if validate else None, log=log)
        if dry_run:
            continue
        per_fold[fold] = _row_values(outcome.plan, table.groups[0])
    if dry_run:
        return None
    rows: dict[str, dict] = {}
    for label in per_fold[folds[0]]:
        rows[label] = {}
        for metric in ("accuracy", "map_at_3"):
            by_seed = np.mean([per_fold[f][label][metric] for f in folds], axis=0)   # [seeds]
            rows[label][metric] = {"mean": float(np.mean(by_seed)), "std": float(np.std(by_seed)),
                                   "per_seed_fold_mean": [float(v) for v in by_seed]}
    name = dataset + (VALIDATE_SUFFIX if validate else "")
    summary = {"dataset": name, "folds": list(folds), "seeds": n_seeds, "preset": params.preset,
               **({"validation_folds": [VALIDATION_FOLD[f] for f in folds]} if validate else {}),
               "branches": [f"{b.printed} (arch {params.arch_of(b.network)})" for b in group_branches],
               "rows": rows,
               "per_fold": {str(f): v for f, v in per_fold.items()},
               "command": command or f"python -m paper2_multirep.run --dataset {dataset} "
                                     f"--preset {params.preset} --data-root {data_root} "
                                     f"--folds {' '.join(map(str, folds))} --seeds {n_seeds}"
                                     + "".join(f" --set {shlex.quote(item)}" for item in sets)
                                     + (" --validate" if validate else ""),
               "std": "population std (ddof=0) over seeds"}
    out = Path(out_dir) if out_dir else Path(params.results_root) / name
    atomic_write_text(out / "table.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out / "table.md", render_markdown(summary))
    log(render_markdown(summary))
    log(f"wrote {out / 'table.md'} and {out / 'table.json'}")
    return summary
