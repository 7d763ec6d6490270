"""Runs a paper-2 table: plan -> (shared) training jobs -> run records -> checker.

    outcome = run_table(table_by_number("VII"), resolve_params("demo"), seeds=3)

A table's rows need two kinds of training job per seed (experiments.py):
  * "independent": one branch trained alone with cross-entropy (un-starred rows);
  * "cyclic": a group's branches trained together by Algorithm 1 (starred rows and
    Ensemble*).
Jobs are keyed by their resolved configuration in a JobStore under the results root,
so a job shared by several tables (the independent ResNet logMel64 branch on
FSDKaggle2018 appears in Tables I, II, V, VI) is trained once, and an interrupted run
resumes at job granularity. Evaluation is always on the data set's test split
(FSDKaggle2018 test, DCASE fold1_evaluate, ESC-50 held-out fold) with the last
checkpoint: nothing is selected on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from paper2_multirep import table_backend as backend
from paper2_multirep.experiments import (BranchSpec, ExperimentParams, RunSpec,
                                         TableSpec, table_runs)
from replication.store import JobStore, describe_key
from replication.records import RunRecord, now_iso, refuse_existing_records, write_record
from shared.config import load_config, override

PRESET_DIR = Path(__file__).resolve().parent / "presets"
STORE_DIR = "paper2/_store"       # under the results root

# Register ids every paper-2 table run depends on (replication/decisions/paper2.yaml).
DECISIONS = ("p2-train-crops", "p2-eval-crops", "p2-demo-dataset", "p2-fsdkaggle-train-set")


def resolve_params(preset: str = "paper", overrides: dict | None = None) -> ExperimentParams:
    """Experiment params from presets/experiment_<preset>.yaml (or a YAML path) + overrides."""
    path = Path(preset)
    if not path.suffix:
        path = PRESET_DIR / f"experiment_{preset}.yaml"
    params = load_config(ExperimentParams, path)
    if overrides:
        params = override(params, overrides, source="overrides")
    return params


@dataclass(frozen=True)
class Job:
    """One training job: an independent branch, or a group trained by cyclic distillation."""
    kind: str                            # "independent" | "cyclic"
    branches: tuple[BranchSpec, ...]
    seed: int
    key: str
    description: dict = field(compare=False, hash=False)

    @property
    def label(self) -> str:
        names = " + ".join(f"{b.network}/{b.representation}" for b in self.branches)
        return f"{self.kind:<11} seed {self.seed}  {names}"


@dataclass
class Plan:
    """Everything a table run will do, printed before it starts."""
    table: TableSpec
    params: ExperimentParams
    data: backend.DataContext
    runs: list[RunSpec]
    seeds: tuple[int, ...]
    jobs: list[Job]                      # distinct jobs in execution order
    job_of: dict[tuple[str, int], Job]   # (run name, seed) -> job that produces it
    store: JobStore

    def pending(self) -> list[Job]:
        return [j for j in self.jobs if not self.store.has(j.key)]


# Fields of CyclicParams that only distillation reads (soft labels, P_bar, the KL term):
# an independent job leaves them out of its key, so switching one of them (a negative
# control, the KL direction, T) retrains the distilled branches and reuses the baselines.
DISTILLATION_ONLY = ("temperature", "kl_direction", "kl_weight", "t_squared", "soft_label_crops",
                     "soft_label_average", "aggregate_signal")
# Fields of CyclicParams that only the independent baseline reads, with the value a cyclic
# job's key always carries: switching the baseline's budget (the claims' equal-budget arm,
# register p2-epoch-accounting) retrains the baselines and reuses the distilled groups. The
# faithful value is kept rather than the field dropped, so keys of existing faithful stores hold.
INDEPENDENT_ONLY = {"independent_budget": "epochs"}


def _job(kind: str, branches: tuple[BranchSpec, ...], seed: int, params: ExperimentParams,
         data: backend.DataContext) -> Job:
    training = backend.describe_training(params)
    if kind == "independent":
        training = {**training, "cyclic": {k: v for k, v in training["cyclic"].items()
                                           if k not in DISTILLATION_ONLY}}
    else:
        training = {**training, "cyclic": {**training["cyclic"], **INDEPENDENT_ONLY}}
    description = {
        "kind": kind,
        "seed": seed,
        "data": data.describe(),
        "branches": [backend.describe_branch(b, params, data) for b in branches],
        "training": training,
    }
    if params.distribute.precision != "float32":   # register shared-precision; float32 keys unchanged
        description["precision"] = params.distribute.precision
    return Job(kind, branches, seed, describe_key(description), description)


def plan_table(table: TableSpec, params: ExperimentParams, seeds: int | None = None,
               data_root: str | None = None, results_root: str | None = None,
               test_fold: int | None = None, require_data: bool = True) -> Plan:
    """Resolves data, runs and the distinct jobs of a table without training anything."""
    if results_root:
        params = replace(params, results_root=str(results_root))
    data = backend.data_context(table.dataset, params, data_root=data_root, test_fold=test_fold,
                                require_data=require_data)
    n_seeds = seeds if seeds is not None else params.seeds
    if n_seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {n_seeds}")
    runs = table_runs(table)
    jobs: dict[str, Job] = {}
    job_of: dict[tuple[str, int], Job] = {}
    for seed in range(n_seeds):
        for run in runs:
            if run.kind == "independent":
                job = _job("independent", (run.branch,), seed, params, data)
            else:
                job = _job("cyclic", run.group.branches, seed, params, data)
            job = jobs.setdefault(job.key, job)
            job_of[(run.run, seed)] = job
    store = JobStore(Path(params.results_root) / STORE_DIR)
    return Plan(table, params, data, runs, tuple(range(n_seeds)), list(jobs.values()), job_of, store)


def describe_plan(plan: Plan, seconds_per_epoch: dict[str, float] | None = None) -> str:
    """Human-readable plan: data, runs, jobs (done / to train), epochs and a time estimate."""
    p, d = plan.params, plan.data
    lines = [f"{plan.table.name}: {plan.table.caption}",
             f"  preset {p.preset}, data set {d.name} ({d.num_train} train / {d.num_test} test clips, "
             f"split {d.test_split}), root {d.root}"]
    if d.substituted:
        lines.append(f"  NOTE: the paper ran this table on {plan.table.dataset}; this preset runs it on "
                     f"{d.name} instead (results are NOT comparable with the paper)")
    lines.append(f"  {len(plan.runs)} runs x {len(plan.seeds)} seed(s); {len(plan.jobs)} distinct training "
                 f"jobs, {len(plan.pending())} to train, {len(plan.jobs) - len(plan.pending())} in the store")
    epochs = backend.epochs_per_branch(p)
    total = 0.0
    for job in plan.jobs:
        status = "done" if plan.store.has(job.key) else "todo"
        est = ""
        if seconds_per_epoch and status == "todo":
            secs = sum(seconds_per_epoch.get(b.key, 0.0) for b in job.branches) * epochs[job.kind]
            total += secs
            est = f"  ~{secs / 60:.1f} min"
        lines.append(f"   [{status}] {job.label}  ({epochs[job.kind]} passes/branch){est}")
    if seconds_per_epoch:
        lines.append(f"  estimated training time: ~{total / 60:.1f} min (from a measured step on this machine)")
    return "\n".join(lines)


def execute_job(plan: Plan, job: Job, log: Callable[[str], None] = print) -> None:
    """Trains one job and stores its test outputs (skips a job already in the store)."""
    if plan.store.has(job.key):
        return
    start = time.time()
    # Checkpoints go to the job's work folder; a killed run of this job left one there to
    # resume from. Publishing the entry (store.save) removes it.
    work, resumed = plan.store.open_work(job.key, job.description)
    if resumed:
        log(f"  resuming {job.key} from its checkpoints in {work}")
    outputs, info = backend.train_job(job.kind, job.branches, job.seed, plan.params, plan.data,
                                      log=log, checkpoint_dir=work)
    info = {**info, "seconds": round(time.time() - start, 1), "finished": now_iso()}
    plan.store.save(job.key, job.description, outputs, info)


def reported_branches(run: RunSpec) -> list[int]:
    """Indices, in the run's job, of the branches whose outputs the run reports (record
    extra["branches"]; replication/claims_curves.py reads their loss curves)."""
    if run.kind == "independent":
        return [0]
    if run.kind == "distilled":
        return [run.group.branches.index(run.branch)]
    return list(range(len(run.group.branches)))


def _branch_probs(plan: Plan, run: RunSpec, seed: int) -> tuple[list[np.ndarray], dict, np.ndarray]:
    """Test probabilities of the branches a run reports, the job info and the labels."""
    job = plan.job_of[(run.run, seed)]
    outputs, payload = plan.store.load(job.key)
    return [outputs[f"probs_{i}"] for i in reported_branches(run)], payload["info"], outputs["labels"]


# ExperimentParams fields that cannot change a run's numbers (names, paths, seed counts,
# device placement), left out of the paper diff; the training preset's name and overrides
# are compared through the training params they resolve to.
PAPER_DIFF_IGNORE = ("preset", "training_preset", "training_overrides.", "seeds", "results_root",
                     "data.root", "data.cache_root", "data.cache_workers", "distribute.")


def run_fingerprint(job: Job) -> dict:
    """{"hash", "fields"} of what determines a run's numbers: its job's description without
    the seed, the clip lists as a hash (record extra["config"]; the checker compares it with
    the demo reference's, so a copied preset with one switch changed is not judged by it)."""
    from replication.fingerprint import config_hash, fingerprint
    description = {k: v for k, v in job.description.items() if k != "seed"}
    data = dict(description["data"])
    data["clips"] = config_hash({"train": data.pop("train"), "test": data.pop("test")})
    return fingerprint({**description, "data": data})


def paper_diff(params: ExperimentParams) -> dict:
    """{"keys": ["key: value (paper: value)", ...], "decisions": [register ids]}: where the
    resolved experiment and training settings depart from the paper preset's."""
    from replication.decisions import paper_diff as register_diff
    from replication.fingerprint import differing_fields, flatten, is_ignored
    paper = resolve_params("paper")
    own, ref = ({**{k: v for k, v in flatten(p).items() if not is_ignored(k, PAPER_DIFF_IGNORE)},
                 **flatten(backend.describe_training(p), "training.")} for p in (params, paper))
    return register_diff(differing_fields(own, ref, limit=10 ** 6, label="paper"), "paper2")


def records_for(plan: Plan) -> list[RunRecord]:
    """One RunRecord per (run, seed) from the stored job outputs (all jobs must be done)."""
    records = []
    diff = paper_diff(plan.params)
    for seed in plan.seeds:
        for run in plan.runs:
            probs, info, labels = _branch_probs(plan, run, seed)
            mean_probs = np.mean(np.stack(probs), axis=0)           # [clips, C]
            metrics = backend.metrics(mean_probs, labels)
            deviations = list(plan.data.deviations) + list(info.get("deviations", []))
            faithful = bool(info.get("faithful", True)) and not plan.data.deviations
            records.append(RunRecord(
                table=plan.table.name, run=run.run, preset=plan.params.preset, seed=seed,
                metrics=metrics, published_cell=dict(run.published_cell), faithful=faithful,
                deviations=sorted(set(deviations)),
                decisions=sorted(set(DECISIONS) | set(info.get("decisions", []))),
                dataset=plan.data.name,
                extra={"kind": run.kind, "group": run.group.label,
                       "job": plan.job_of[(run.run, seed)].key, "branches": reported_branches(run),
                       "test_clips": int(len(labels)),
                       "job_seconds": info.get("seconds"), "test_split": plan.data.test_split,
                       "config": run_fingerprint(plan.job_of[(run.run, seed)]), "paper_diff": diff},
                started=info.get("started", ""), finished=info.get("finished", "")))
    return records


@dataclass
class TableOutcome:
    plan: Plan
    records: list[RunRecord]
    paths: list[Path]
    check: Any = None                    # replication.check report (None on a dry run)


def record_keys(table: TableSpec, n_seeds: int) -> list[tuple[str, str, int]]:
    """(table, run, seed) of every record a table run writes (seeds 0..n_seeds-1)."""
    return [(table.name, run.run, seed) for seed in range(n_seeds) for run in table_runs(table)]


def run_table(table: TableSpec, params: ExperimentParams, *, seeds: int | None = None,
              data_root: str | None = None, results_root: str | None = None,
              overwrite: bool = False, dry_run: bool = False, estimate: bool = True,
              check: bool = True, test_fold: int | None = None,
              log: Callable[[str], None] = print) -> TableOutcome:
    """Plans, trains (shared jobs once), writes run records and checks them.

    Args:
      overwrite: replace existing run records (the model store is kept: delete
        <results>/paper2/_store to retrain). Without it, existing records are refused
        (RecordExistsError naming them) before anything is measured or trained.
      dry_run: print the plan (and no estimate) and stop.
    """
    plan = plan_table(table, params, seeds, data_root, results_root, test_fold,
                      require_data=not dry_run)
    if dry_run:
        log(describe_plan(plan))
        log("dry run: nothing trained")
        return TableOutcome(plan, [], [])
    # Before the speed measurement and any training (paper 1 refuses the same way).
    refuse_existing_records(plan.params.results_root, record_keys(plan.table, len(plan.seeds)),
                            overwrite, log)
    speeds = backend.measure_epoch_seconds(plan.table.branches, plan.params, plan.data) \
        if estimate and plan.pending() else None
    log(describe_plan(plan, speeds))
    pending = plan.pending()
    for i, job in enumerate(pending, 1):
        log(f"[{i}/{len(pending)}] training {job.label}")
        execute_job(plan, job, log=log)
    records = records_for(plan)
    # Each record is published as one unit; one another run published meanwhile is not
    # replaced (RecordExistsError), so the checker only ever judges records on disk.
    paths = [write_record(record, plan.params.results_root, config=plan.params, overwrite=overwrite)
             for record in records]
    outcome = TableOutcome(plan, records, paths)
    if check:
        outcome.check = backend.check(records, log=log)
    return outcome
