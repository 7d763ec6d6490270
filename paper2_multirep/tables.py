"""Runs a paper-2 table on the kit's one table runner (replication/runner.py):
plan -> (shared) training jobs -> run records -> checker.

    outcome = run_table(table_by_number("VII"), resolve_params("demo"), seeds=3)

This module is paper 2's backend for that runner (`Paper2Backend`): the table's runs as
rows, `describe` (a job's store description), `train` (table_backend.train_job) and
`score` (one run record from the stored test probabilities).

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
from replication import runner
from replication.records import RunRecord, now_iso
from replication.store import JobStore
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


def job_description(kind: str, branches: tuple[BranchSpec, ...], seed: int, params: ExperimentParams,
                    data: backend.DataContext, train=None) -> dict:
    """What determines a training job: its store key is the hash of this dict (`train`: the
    training params read when the plan was made; None reads the training preset now)."""
    training = backend.describe_training(params, train)
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
    return description


def job_item(run: RunSpec) -> tuple[str, tuple[BranchSpec, ...]]:
    """The (kind, branches) of the one job a run reads."""
    if run.kind == "independent":
        return ("independent", (run.branch,))
    return ("cyclic", run.group.branches)


@dataclass(frozen=True)
class Paper2Backend:
    """Paper 2's side of replication.runner: rows, describe, train, score.

    diff: where the settings depart from the paper preset (every record carries it),
      computed when the plan is made (plan_table), before any training. It reads the
      paper preset's file; read only at scoring, an edit of that file during an hour-long
      run (a key the running code's dataclasses lack) ends the run with a ConfigError
      (exit 2) after every model has trained, with no record written.
    training: the training params (paper2_multirep.params.TrainParams: the training preset's
      file + overrides), read once when the plan is made; job descriptions, training, the
      plan text and the records take them from here, never from the file again.
    """
    table: TableSpec
    params: ExperimentParams
    data: backend.DataContext
    runs: dict[str, RunSpec]
    diff: dict
    training: Any

    def rows(self) -> list[runner.Row]:
        return [runner.Row(run.run, (job_item(run),)) for run in self.runs.values()]

    def describe(self, item, seed: int, key_of=None) -> dict:
        kind, branches = item
        return job_description(kind, branches, seed, self.params, self.data, self.training)

    def make_job(self, item, seed: int, key: str, description: dict) -> Job:
        return Job(item[0], item[1], seed, key, description)

    def train(self, job: Job, work_dir: Path, log: Callable[[str], None]) -> runner.Trained:
        start = time.time()
        outputs, info, save_files = backend.train_job(job.kind, job.branches, job.seed, self.params,
                                                      self.data, log=log, checkpoint_dir=work_dir,
                                                      train=self.training)
        info = {**info, "seconds": round(time.time() - start, 1), "finished": now_iso()}
        return runner.Trained(outputs, info, save_files=save_files)

    def score(self, plan: "Plan", run: str, seed: int) -> RunRecord:
        return run_record(plan, self.runs[run], seed, self.diff)


@dataclass(kw_only=True)
class Plan(runner.Plan):
    """Everything a table run will do, printed before it starts (replication.runner.Plan
    with paper 2's table, params, data and runs)."""
    table: TableSpec
    params: ExperimentParams
    data: backend.DataContext
    runs: list[RunSpec]
    backend: Paper2Backend

    @property
    def job_of(self) -> dict[tuple[str, int], Job]:
        """(run name, seed) -> the job that produces it."""
        return {k: jobs[0] for k, jobs in self.systems.items()}

    @job_of.setter
    def job_of(self, mapping: dict[tuple[str, int], Job]) -> None:
        self.systems = {k: (job,) for k, job in mapping.items()}


def plan_table(table: TableSpec, params: ExperimentParams, seeds: int | None = None,
               data_root: str | None = None, results_root: str | None = None,
               test_fold: int | None = None, require_data: bool = True,
               validation_fold: int | None = None) -> Plan:
    """Resolves data, runs and the distinct jobs of a table without training anything
    (ESC-50 layout: `test_fold` held out; with `validation_fold`, scored on that training
    fold and the test fold left unread)."""
    if results_root:
        params = replace(params, results_root=str(results_root))
    data = backend.data_context(table.dataset, params, data_root=data_root, test_fold=test_fold,
                                require_data=require_data, validation_fold=validation_fold)
    n_seeds = seeds if seeds is not None else params.seeds
    if n_seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {n_seeds}")
    runs = table_runs(table)
    table_backend = Paper2Backend(table, params, data, {run.run: run for run in runs}, paper_diff(params),
                                  backend.training_params(params))
    jobs, systems, order = runner.resolve_jobs(table_backend.rows(), range(n_seeds), table_backend)
    store = JobStore(Path(params.results_root) / STORE_DIR)
    return Plan(name=table.name, seeds=tuple(range(n_seeds)), jobs=jobs, systems=systems, store=store,
                results_root=params.results_root, order=order, table=table, params=params, data=data,
                runs=runs, backend=table_backend)


def describe_plan(plan: Plan, seconds_per_epoch: dict[str, float] | None = None) -> str:
    """Human-readable plan: data, runs, jobs (done / to train), epochs and a time estimate."""
    p, d = plan.params, plan.data
    lines = [f"{plan.table.name}: {plan.table.caption}",
             f"  preset {p.preset}, data set {d.name} ({d.num_train} train / {d.num_test} test clips, "
             f"split {d.test_split}), root {d.root}"]
    if d.substituted:
        lines.append(f"  NOTE: the paper ran this table on {plan.table.dataset}; this preset runs it on "
                     f"{d.name} instead (results are NOT comparable with the paper)")
    lines.append(f"  {len(plan.runs)} runs x {len(plan.seeds)} seed(s), results {p.results_root}")
    epochs = plan.backend.training.passes_per_branch()

    def seconds(job: Job) -> float | None:
        return sum(seconds_per_epoch.get(b.key, 0.0) for b in job.branches) * epochs[job.kind]

    lines += runner.jobs_text(plan, note=lambda job: f"({epochs[job.kind]} passes/branch)",
                              seconds_of=seconds if seconds_per_epoch else None)
    return "\n".join(lines)


def execute_job(plan: Plan, job: Job, log: Callable[[str], None] = print) -> None:
    """Trains one job in its work folder and stores its test outputs (skips a job already
    in the store; replication.runner.train_job). A killed run of this job left its
    checkpoints in the work folder: they are resumed."""
    runner.train_job(plan, plan.backend, job, log)


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


def run_record(plan: Plan, run: RunSpec, seed: int, diff: dict) -> RunRecord:
    """The record of one (run, seed) from the stored job outputs (its job must be done)."""
    probs, info, labels = _branch_probs(plan, run, seed)
    mean_probs = np.mean(np.stack(probs), axis=0)           # [clips, C]
    metrics = backend.metrics(mean_probs, labels)
    deviations = list(plan.data.deviations) + list(info.get("deviations", []))
    faithful = bool(info.get("faithful", True)) and not plan.data.deviations
    job = plan.job_of[(run.run, seed)]
    return RunRecord(
        table=plan.table.name, run=run.run, preset=plan.params.preset, seed=seed,
        metrics=metrics, published_cell=dict(run.published_cell), faithful=faithful,
        deviations=sorted(set(deviations)),
        decisions=sorted(set(DECISIONS) | set(info.get("decisions", []))),
        dataset=plan.data.name,
        extra={"kind": run.kind, "group": run.group.label,
               "job": job.key, "branches": reported_branches(run),
               "test_clips": int(len(labels)),
               "job_seconds": info.get("seconds"), "test_split": plan.data.test_split,
               "config": run_fingerprint(job), "paper_diff": diff,
               **({"rehearsal": {"steps_per_pass": plan.backend.training.optim.steps_per_pass,
                                 "data_root": str(plan.data.root),
                                 "branches_faithful": bool(info.get("faithful", True))}}
                  if plan.params.data.rehearsal else {})},
        started=info.get("started", ""), finished=info.get("finished", ""))


def records_for(plan: Plan) -> list[RunRecord]:
    """One RunRecord per (run, seed) from the stored job outputs (all jobs must be done)."""
    runs = {run.run: run for run in plan.runs}
    return [run_record(plan, runs[name], seed, plan.backend.diff) for name, seed in plan.order]


TableOutcome = runner.TableOutcome        # .plan, .records, .paths, .report, .exit_code


def record_keys(table: TableSpec, n_seeds: int) -> list[tuple[str, str, int]]:
    """(table, run, seed) of every record a table run writes (seeds 0..n_seeds-1)."""
    return [(table.name, run.run, seed) for seed in range(n_seeds) for run in table_runs(table)]


def run_table(table: TableSpec, params: ExperimentParams, *, seeds: int | None = None,
              data_root: str | None = None, results_root: str | None = None,
              overwrite: bool = False, dry_run: bool = False, estimate: bool = True,
              check: bool = True, test_fold: int | None = None,
              validation_fold: int | None = None,
              log: Callable[[str], None] = print) -> TableOutcome:
    """Plans, trains (shared jobs once), writes run records and checks them
    (replication.runner.run_table).

    Args:
      overwrite: replace existing run records (the model store is kept: delete
        <results>/paper2/_store to retrain). Without it, existing records are refused
        (RecordExistsError naming them) before anything is measured or trained.
      dry_run: print the plan (and no estimate) and stop.
    """
    plan = plan_table(table, params, seeds, data_root, results_root, test_fold,
                      require_data=not dry_run, validation_fold=validation_fold)
    if dry_run:
        log(describe_plan(plan))
        log("dry run: nothing trained")
        return TableOutcome(plan, [], [])
    runner.refuse_existing(plan, overwrite, log)     # before the speed measurement and any training
    speeds = backend.measure_epoch_seconds(plan.table.branches, plan.params, plan.data,
                                           train=plan.backend.training) \
        if estimate and plan.pending() else None
    log(describe_plan(plan, speeds))
    return runner.run_table(plan, plan.backend, plan.params, overwrite=overwrite, checked=check,
                            log=log, refuse=False)
