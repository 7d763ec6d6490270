"""Runs a paper-1 result table on the kit's one table runner (replication/runner.py):
plan -> (shared) model jobs -> run records -> checker.

    plan = make_plan(table_by_number(4), resolve_params("demo"), "demo")
    outcome = run_table(plan, jobs.JobRunner(data.DataContext(plan.params)))

This module is paper 1's backend for that runner (`Paper1Backend`): the table's runs as
rows, `describe` (a model's store description, naming its teacher's key), `train`
(paper1_ts.jobs.JobRunner) and `score` (SVM back-end accuracy of one run).

A table's runs need trained models (`experiments.ModelJob`: baselines, teachers, TS
students). Each model at one seed is keyed by its resolved configuration in a
`replication.store.JobStore` under <results>/paper1/_store, so a model shared by several tables
(Table 1's baselines = Table 6 "W/O TS" = Table 4's 10 s teachers) is trained once and
an interrupted table resumes at model granularity. Every number is the accuracy of the
SVM back-end (Sec. 2.2) on the evaluation split (fold1_evaluate), with the model left
after the fixed epoch budget: nothing is selected on the evaluation split.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from paper1_ts.experiments import ModelJob, TableSpec
from paper1_ts.params import Paper1Params, deviations_from_paper, paper_diff
from replication import runner
from replication.records import RunRecord, now_iso
from replication.store import JobStore
from shared.config import to_dict

STORE_DIR = "paper1/_store"        # under the results root
COMMON_DECISIONS = ("p1-spectrogram", "p1-res4-filters", "p1-res-block-order", "p1-leaky-relu")
# Resolved-config fields that cannot change a run's numbers (paths, verbosity, how many
# seeds, device placement); left out of the config fingerprint kept with each record.
FINGERPRINT_IGNORE = ("results_root", "data.root", "data.cache_root", "data.cache_workers", "data.auto_prepare_demo",
                      "train.verbose", "seeds", "first_seed", "figure1_model", "distribute.")

# Fields added after models and demo references were recorded: at the value every earlier run
# had, they are left out of store keys and config fingerprints, so those still find their
# models and references; any other value enters both.
LATER_FIELDS = {"train.lr_schedule": "constant"}       # register p1-lr-schedule


def _at_earlier_value(key: str, value) -> bool:
    return key in LATER_FIELDS and LATER_FIELDS[key] == value


def config_fingerprint(params: Paper1Params) -> dict:
    """{"hash", "fields"} of the settings that determine a run's result (record extra["config"];
    the checker compares it with the demo reference's)."""
    from replication.fingerprint import config_hash, fingerprint
    fields = {k: v for k, v in fingerprint(params, ignore=FINGERPRINT_IGNORE)["fields"].items()
              if not _at_earlier_value(k, v)}
    fp = {"hash": config_hash(fields), "fields": fields}
    if params.distribute.precision != "float32":    # arithmetic, not placement (register shared-precision);
        fp["fields"]["distribute.precision"] = params.distribute.precision   # float32 hashes unchanged
        fp["hash"] = config_hash(fp["fields"])
    return fp


def teacher_of(job: ModelJob, params: Paper1Params) -> ModelJob | None:
    """The one-hot model that teaches `job` under params.ts.teacher_train_input.

    "concat" (default): the teacher is trained on the same number of joined segments it is
    queried on; "base": every teacher is the 10 s baseline, queried on joined segments
    (register p1-teacher-training).
    """
    if job.ts is None:
        return None
    segments = job.ts.teacher_segments if params.ts.teacher_train_input == "concat" else 1
    return ModelJob(job.family, input_segments=segments)


def chain(job: ModelJob, params: Paper1Params) -> tuple[ModelJob, ...]:
    teacher = teacher_of(job, params)
    return (teacher, job) if teacher is not None else (job,)


@dataclass(frozen=True)
class JobRef:
    """One model at one seed, with its store key."""
    job: ModelJob
    seed: int
    key: str
    teacher_key: str | None
    description: dict = field(compare=False, hash=False)

    @property
    def label(self) -> str:
        return f"seed {self.seed}  {self.job.label}"


# DataParams fields that cannot change a trained model (paths, worker counts); every other
# data field enters the store key. cache_dtype does enter it: float16 and float32 features
# train different models (the demo preset caches float32, the paper preset float16).
STORE_KEY_IGNORE_DATA = ("root", "cache_root", "cache_workers", "auto_prepare_demo")


def describe(job: ModelJob, seed: int, params: Paper1Params, teacher_key: str | None) -> dict:
    """What determines a trained model: the store key is the hash of this dict."""
    train = {k: v for k, v in to_dict(params.train).items()
             if k != "verbose" and not _at_earlier_value(f"train.{k}", v)}
    if job.family == "raw":               # the raw CNN is trained in one step
        train.pop("pool_epochs"), train.pop("gru_epochs")
    else:
        train.pop("epochs")
    ts = None
    if job.ts is not None:
        ts = {"temperature": job.ts.temperature, "teacher_segments": job.ts.teacher_segments,
              "point": job.ts.point, "teacher_mode": params.ts.teacher_mode,
              "teacher_train_input": params.ts.teacher_train_input,
              "teacher_signal": params.ts.teacher_signal}       # negative control, register p1-teacher-signal
        if job.ts.point in ("hidden",):   # T plays no part in Eq. (5)
            ts.pop("temperature"), ts.pop("teacher_mode")
        if job.ts.point == "both":
            ts.update(output_weight=params.ts.output_weight, hidden_weight=params.ts.hidden_weight)
    data = to_dict(params.data)
    for k in STORE_KEY_IGNORE_DATA:
        data.pop(k)
    description = {"paper": "paper1", "family": job.family, "input_segments": job.input_segments,
                   "data": data, "features": to_dict(params.features_of(job.family)),
                   "model": to_dict(params.model_of(job.family)), "train": train, "ts": ts,
                   "teacher": teacher_key, "svm_embeddings": "embedding", "seed": seed}
    if params.distribute.precision != "float32":      # register shared-precision; float32 keys unchanged
        description["precision"] = params.distribute.precision
    if params.data.dataset == "demo":                 # a non-default demo generation is other data
        from shared.datasets.demo import identity
        from shared.paths import default_dataset_root
        demo = identity(Path(params.data.root) if params.data.root else default_dataset_root("demo"))
        if demo:
            description["demo"] = demo
    return description


# TSParams fields that every TS row of Tables 4-6 sets itself (jobs.ts_params: T and point
# from the row's TSSpec, teacher_query from its teacher length): a value from a preset or an
# override never reaches those rows' students.
ROW_TS_KEYS = ("temperature", "loss", "teacher_query")


def row_overrides(table: TableSpec) -> dict[str, tuple[str, ...]]:
    """{"ts.<field>": names of the runs that set it per row} for the ROW_TS_KEYS."""
    rows = tuple(r.name for r in table.runs if any(s.ts is not None for s in r.systems))
    return {f"ts.{k}": rows for k in ROW_TS_KEYS} if rows else {}


def preset_keys(preset: str) -> set[str]:
    """Dotted keys a preset file sets ("ts.temperature", ...); a preset name of
    paper1_ts/presets or a YAML path, else (a label such as "custom") none."""
    import yaml
    from paper1_ts.params import PRESET_DIR, PRESETS
    from replication.fingerprint import flatten
    path = PRESET_DIR / f"{preset}.yaml" if preset in PRESETS else Path(preset)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return set()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return set(flatten(raw)) if isinstance(raw, dict) else set()


def check_row_overrides(table: TableSpec, params: Paper1Params, preset: str = "custom",
                        explicit: Iterable[str] = ()) -> list[str]:
    """One warning line per ROW_TS_KEYS field that the preset sets (or that differs from
    the TSParams default) while `table`'s rows set it themselves.

    Raises:
      ConfigError: such a field was passed explicitly (`explicit`: dotted keys of the
        command-line overrides); the rows would silently replace it.
    """
    from shared.config import ConfigError
    from paper1_ts.train_params import TSParams

    explicit = set(explicit)
    from_preset = preset_keys(preset)
    lines = []
    for key, rows in row_overrides(table).items():
        name = key.split(".", 1)[1]
        value, default = getattr(params.ts, name), getattr(TSParams(), name)
        shown = ", ".join(rows)
        if key in explicit:
            raise ConfigError(f"{key}={value!r} was given explicitly, but every row of {table.name} "
                              f"sets its own {name} ({shown}); drop the override or run another table")
        if key in from_preset or value != default:
            source = f"set by preset {preset}" if key in from_preset else "from the overrides"
            lines.append(f"warning: {key} = {value!r} ({source}) is not used by {table.name}: "
                         f"rows {shown} set their own {name}")
    return lines


@dataclass(frozen=True)
class Paper1Backend:
    """Paper 1's side of replication.runner: rows, describe, train, score.

    job_runner (paper1_ts.jobs.JobRunner) and n_classes are needed to train and score,
    not to plan (run_table sets them)."""
    table: TableSpec
    params: Paper1Params
    preset: str
    store: JobStore
    job_runner: Any = None
    n_classes: int = 10

    @cached_property
    def facts(self) -> dict:
        """What every record of the table carries: deviations, config fingerprint, paper
        diff, register decisions."""
        p = self.params
        return {"deviations": deviations_from_paper(p), "config": config_fingerprint(p),
                "diff": paper_diff(p),
                "decisions": sorted(set(COMMON_DECISIONS) | set(self.table.decisions))}

    def rows(self) -> list[runner.Row]:
        return [runner.Row(run.name, tuple(run.systems)) for run in self.table.runs]

    def describe(self, job: ModelJob, seed: int, key_of: Callable[[ModelJob], str]) -> dict:
        teacher = teacher_of(job, self.params)
        return describe(job, seed, self.params, key_of(teacher) if teacher is not None else None)

    def make_job(self, job: ModelJob, seed: int, key: str, description: dict) -> JobRef:
        return JobRef(job, seed, key, description["teacher"], description)

    def train(self, ref: JobRef, work_dir: Path, log: Callable[[str], None]) -> runner.Trained:
        if self.job_runner is None:
            raise RuntimeError(f"{self.table.name}: no job runner given to train {ref.label}")
        return self.job_runner.train(ref, self.params, self.store, work_dir)

    def score(self, plan: "Plan", run: str, seed: int) -> RunRecord:
        p, facts = self.params, self.facts
        spec = next(r for r in self.table.runs if r.name == run)
        started = now_iso()
        metrics, extra = run_metrics(plan.systems[(run, seed)], self.store, p, self.n_classes)
        extra.update(plan_preset=self.preset, store=str(self.store.root), config=facts["config"],
                     paper_diff=facts["diff"])
        if p.data.rehearsal:                 # replication/rehearsal.py: checked, never a regression
            extra["rehearsal"] = {"steps_per_epoch": p.train.steps_per_epoch, "data_root": p.data.root}
        return RunRecord(
            table=self.table.name, run=run, preset=self.preset, seed=seed, metrics=metrics,
            published_cell={"table": self.table.number, "row": spec.row, "column": spec.column},
            faithful=not facts["deviations"], deviations=facts["deviations"],
            decisions=facts["decisions"], dataset=p.data.dataset, extra=extra, started=started)


@dataclass(kw_only=True)
class Plan(runner.Plan):
    """Everything a table run will do, printed before it starts (replication.runner.Plan
    with paper 1's table, params and preset; systems: (run, seed) -> the run's models)."""
    table: TableSpec
    params: Paper1Params
    preset: str
    backend: Paper1Backend
    clips: dict[str, int] = field(default_factory=dict)  # split -> clip count (when known)
    warnings: list[str] = field(default_factory=list)    # settings the table's rows override


def make_plan(table: TableSpec, params: Paper1Params, preset: str = "custom",
              clips: dict[str, int] | None = None, *, explicit: Iterable[str] = (),
              warn: Callable[[str], None] | None = None, preset_file: str | None = None) -> Plan:
    """Resolves every (run, seed) of `table` to store keys (no training, no data read).

    A ts.temperature / ts.loss / ts.teacher_query that the table's rows override is a
    warning line (to `warn`, default stderr; also kept in plan.warnings), or a
    ConfigError when it is one of the `explicit` command-line keys (check_row_overrides).
    `preset_file`: the preset as given (name or YAML path) when `preset` is only its label.
    """
    warnings = check_row_overrides(table, params, preset_file or preset, explicit)
    for line in warnings:
        (warn or (lambda text: print(text, file=sys.stderr)))(line)
    store = JobStore(Path(params.results_root) / STORE_DIR)
    backend = Paper1Backend(table, params, preset, store)
    jobs, systems, _ = runner.resolve_jobs(backend.rows(), params.seed_list, backend)
    order = [(run.name, seed) for run in table.runs for seed in params.seed_list]   # records: run-major
    return Plan(name=table.name, seeds=params.seed_list, jobs=jobs, systems=systems, store=store,
                results_root=params.results_root, order=order, weights=True, table=table,
                params=params, preset=preset, backend=backend, clips=dict(clips or {}),
                warnings=warnings)


def epochs_of(job: ModelJob, params: Paper1Params) -> int:
    """Training epochs of one model (the CNN-GRU counts both steps)."""
    return params.train.epochs if job.family == "raw" else params.train.pool_epochs + params.train.gru_epochs


def steps_of(job: ModelJob, params: Paper1Params, n_train: int | None) -> int | None:
    """Optimizer steps of one model, or None when the clip count is unknown."""
    if params.train.steps_per_epoch:
        per_epoch = params.train.steps_per_epoch
    elif n_train is None:
        return None
    else:
        per_epoch = math.ceil(n_train / params.train.batch_size)
    return per_epoch * epochs_of(job, params)


def step_cost_factor(job: ModelJob, params: Paper1Params) -> float:
    """Cost of one step relative to a 10 s one-hot step of the same family (estimate only):
    inputs of n segments cost n; a TS step adds the teacher's forward pass (~1/3 of a
    training step per segment)."""
    if job.ts is None:
        return float(job.input_segments)
    return 1.0 + job.ts.teacher_segments / 3.0


def job_seconds(ref: JobRef, plan: Plan, step_seconds: dict[str, float]) -> float | None:
    """Training time of one model from measured per-family step times (None: unknown)."""
    steps = steps_of(ref.job, plan.params, plan.clips.get(plan.params.data.train_split))
    if steps is None or ref.job.family not in step_seconds:
        return None
    return steps * step_seconds[ref.job.family] * step_cost_factor(ref.job, plan.params)


def estimate_seconds(plan: Plan, step_seconds: dict[str, float]) -> float | None:
    """Training time of the pending jobs from measured per-family step times."""
    return runner.estimate_seconds(plan, lambda ref: job_seconds(ref, plan, step_seconds))


def plan_text(plan: Plan, step_seconds: dict[str, float] | None = None) -> str:
    """Human-readable plan: runs, models (done / to train), epochs, clips, time estimate."""
    p = plan.params
    n_train = plan.clips.get(p.data.train_split)
    lines = [f"{plan.table.name} (Table {plan.table.number}: {plan.table.caption})",
             f"  preset {plan.preset}, data set {p.data.dataset}, seeds {list(plan.seeds)}, "
             f"results {p.results_root}",
             "  clips: " + (", ".join(f"{k} {v}" for k, v in plan.clips.items()) or "unknown (data not read)"),
             f"  batch {p.train.batch_size}, Adam lr {p.train.learning_rate:g}"
             f"{'' if p.train.lr_schedule == 'constant' else ' (' + p.train.lr_schedule + ' decay)'}; epochs: raw {p.train.epochs}, "
             f"CNN-GRU {p.train.pool_epochs} (pool head) + {p.train.gru_epochs} (GRU); evaluated: last epoch",
             *(f"  {line}" for line in plan.warnings),
             f"  runs ({len(plan.table.runs)} x {len(plan.seeds)} seed(s)):"]
    for run in plan.table.runs:
        what = " + ".join(s.label for s in run.systems)
        kind = "score-sum ensemble of " if run.is_ensemble else ""
        lines.append(f"    {run.name:<20} {run.row} / {run.column}: {kind}{what}")
    if plan.table.published_only:
        lines.append(f"  published only, not rerun: {', '.join(plan.table.published_only)}")

    def note(ref: JobRef) -> str:
        steps = steps_of(ref.job, p, n_train)
        return f"({epochs_of(ref.job, p)} epochs" + (f", {steps} steps" if steps is not None else "") + ")"

    if step_seconds:
        lines.append("  measured train step: " + ", ".join(
            f"{k} {v * 1000:.0f} ms" for k, v in sorted(step_seconds.items())))
    lines += runner.jobs_text(plan, note, (lambda ref: job_seconds(ref, plan, step_seconds))
                              if step_seconds else None)
    return "\n".join(lines)


def run_scores(refs: tuple[JobRef, ...], store: JobStore, params: Paper1Params,
               n_classes: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """SVM scores [N, C] of a system, or the score-sum ensemble of several (Sec. 2.2),
    on the evaluation split, from the stored embeddings. Returns (scores, labels, extra)."""
    from paper1_ts import backend_svm as svm

    scores, extra, labels = [], {"systems": []}, None
    for ref in refs:
        out, payload = store.load(ref.key)
        train = svm.Embeddings(out["train_embedding"], out["train_label"], out["train_index"])
        evaluation = svm.Embeddings(out["eval_embedding"], out["eval_label"], out["eval_index"])
        if labels is not None and not np.array_equal(labels, evaluation.labels):
            raise ValueError(f"{store.path(ref.key)}: evaluation clips differ between the ensemble's models")
        labels = evaluation.labels
        s = svm.svm_backend(train, evaluation, params.svm, n_classes, seed=ref.seed)
        scores.append(s)
        extra["systems"].append({
            "key": ref.key, "model": ref.job.label, "svm_accuracy": svm.accuracy(s, labels),
            "softmax_accuracy": float(np.mean(np.argmax(out["eval_logits"], -1) == labels)),
            "train_seconds": payload["info"].get("train_seconds")})
    combined = svm.ensemble_scores(scores) if len(scores) > 1 else scores[0]
    return combined, labels, extra


def run_metrics(refs: tuple[JobRef, ...], store: JobStore, params: Paper1Params,
                n_classes: int) -> tuple[dict, dict]:
    """SVM accuracy of one run (FRACTION) and extra facts for its record."""
    from paper1_ts import backend_svm as svm

    scores, labels, extra = run_scores(refs, store, params, n_classes)
    extra["evaluated_clips"] = int(len(labels))
    extra["metric"] = ("accuracy of the SVM back-end on the evaluation split"
                       + (" (score-sum ensemble: mean of the models' SVM scores)" if len(refs) > 1 else ""))
    return {"accuracy": svm.accuracy(scores, labels), "map_at_3": None}, extra


TableOutcome = runner.TableOutcome        # .plan, .records, .paths, .report, .seconds


def with_runner(plan: Plan, job_runner: Any, n_classes: int | None = None) -> Paper1Backend:
    """The plan's backend with the job runner (and class count) that train and score."""
    changes = {"job_runner": job_runner}
    if n_classes is not None:
        changes["n_classes"] = n_classes
    return replace(plan.backend, **changes)


def train_pending(plan: Plan, job_runner: Any, echo: Callable[[str], None] = print) -> None:
    """Trains every model of the plan not yet in the store (teachers first), each in its
    work folder (replication.runner.train_pending)."""
    runner.train_pending(plan, with_runner(plan, job_runner), echo)


def record_keys(plan: Plan) -> list[tuple[str, str, int]]:
    """(table, run, seed) of every record the plan writes."""
    return plan.record_keys()


def refuse_existing(plan: Plan, overwrite: bool, echo: Callable[[str], None] = print) -> None:
    """Cleans stale record staging; RecordExistsError naming the plan's existing records
    unless overwrite (replication.runner.refuse_existing, shared with paper 2)."""
    runner.refuse_existing(plan, overwrite, echo)


def run_table(plan: Plan, job_runner: Any, *, overwrite: bool = False, check: bool = True,
              n_classes: int = 10, echo: Callable[[str], None] = print,
              reference_dir: str | None = None) -> TableOutcome:
    """Trains the plan's pending models, writes one record per (run, seed), runs the checker
    (replication.runner.run_table; existing records are refused first unless overwrite)."""
    return runner.run_table(plan, with_runner(plan, job_runner, n_classes), plan.params,
                            overwrite=overwrite, checked=check, log=echo, reference_dir=reference_dir)
