"""One table runner for both papers: plan -> pending jobs -> store (with a work folder per
job) -> records -> checker, with the plan text and its time estimate.

A paper supplies a small backend (`Backend`): its rows as data and three functions,

    describe(item, seed, key_of) -> dict       what determines a trained job (store key = its hash)
    train(job, work_dir, log)    -> Trained    trains one job, checkpointing into work_dir
    score(plan, run, seed)       -> RunRecord  one record from the stored outputs

and `make_plan` resolves every (run, seed) of the rows into distinct jobs keyed by their
store key (replication.store.describe_key), so a job several runs or tables need is
trained once. `run_table` then refuses existing records before any training (unless
overwrite), trains what the store lacks (each job in its work folder, so a killed job
resumes from its checkpoints), scores every run, publishes each record directory as one
unit (replication.records.write_record) and runs the checker.

This module sits between shared/ and the papers: it imports neither paper package.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Mapping, Protocol, Sequence

from replication.records import RunRecord, refuse_existing_records, write_record
from replication.store import JobStore, describe_key

Log = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    """One run of a table as data: its record name and the items (jobs) it needs."""
    name: str
    items: tuple[Hashable, ...]


@dataclass(frozen=True)
class JobRef:
    """One job at one seed with its store key (the default job type of a plan)."""
    item: Hashable
    seed: int
    key: str
    description: dict = field(compare=False, hash=False)

    @property
    def label(self) -> str:
        return f"seed {self.seed}  {self.item}"


@dataclass
class Trained:
    """What a backend's train() returns: arrays for outputs.npz, JSON-able info, and
    optionally functions writing the weights file and further files into the entry
    (JobStore.save: save_weights, save_files)."""
    outputs: Mapping[str, Any]
    info: Mapping[str, Any]
    save_weights: Callable[[Path], None] | None = None
    save_files: Callable[[Path], Sequence[str]] | None = None


class Backend(Protocol):
    """What a paper gives the runner (paper1_ts/tables.py, paper2_multirep/tables.py)."""

    def describe(self, item: Hashable, seed: int, key_of: Callable[[Hashable], str]) -> dict:
        """The store description of `item` at `seed`; key_of(other item) gives the key of a
        job this one needs (a teacher), which the plan then trains first."""

    def make_job(self, item: Hashable, seed: int, key: str, description: dict) -> Any:
        """The plan's job object (needs .key, .seed, .description, .label)."""

    def train(self, job: Any, work_dir: Path, log: Log) -> Trained:
        """Trains one job; checkpoints go to work_dir (it may hold a killed run's)."""

    def score(self, plan: "Plan", run: str, seed: int) -> RunRecord:
        """The run record of (run, seed) from the store (every job of the plan is done)."""


@dataclass(kw_only=True)
class Plan:
    """Everything a table run will do, printed before it starts.

    name: the records' table name ("paper1/table4"); order: (run, seed) of every record
    in the order they are written; systems: (run, seed) -> the jobs the run reads.
    """
    name: str
    seeds: tuple[int, ...]
    jobs: list
    systems: dict
    store: JobStore
    results_root: str
    order: list = field(default_factory=list)
    weights: bool = False                # a job is done only when its entry holds weights

    def pending(self) -> list:
        return [j for j in self.jobs if not self.store.has(j.key, weights=self.weights)]

    def record_keys(self) -> list[tuple[str, str, int]]:
        """(table, run, seed) of every record the plan writes."""
        return [(self.name, run, seed) for run, seed in self.order]


def resolve_jobs(rows: Sequence[Row], seeds: Iterable[int], backend: Backend
                 ) -> tuple[list, dict, list]:
    """(distinct jobs in training order, (run, seed) -> jobs, record order seed-major).

    Jobs are keyed by their store key; a job another needs (key_of in describe) comes
    before it. Nothing is trained and no data is read."""
    by_item: dict[tuple[Hashable, int], Any] = {}
    by_key: dict[str, Any] = {}

    def ref(item: Hashable, seed: int):
        if (item, seed) not in by_item:
            description = backend.describe(item, seed, lambda other: ref(other, seed).key)
            key = describe_key(description)
            if key not in by_key:
                by_key[key] = backend.make_job(item, seed, key, description)
            by_item[(item, seed)] = by_key[key]
        return by_item[(item, seed)]

    systems, order = {}, []
    for seed in seeds:
        for row in rows:
            systems[(row.name, seed)] = tuple(ref(item, seed) for item in row.items)
            order.append((row.name, seed))
    return list(by_key.values()), systems, order


def refuse_existing(plan: Plan, overwrite: bool, log: Log | None = print) -> None:
    """Cleans stale record staging, then RecordExistsError naming the plan's existing
    records unless overwrite: called before any measurement or training."""
    refuse_existing_records(plan.results_root, plan.record_keys(), overwrite, log)


def train_job(plan: Plan, backend: Backend, job: Any, log: Log = print) -> None:
    """Trains one job in its work folder and publishes it to the store (a job already
    there is skipped). A work folder a killed run of the same job left is resumed."""
    if plan.store.has(job.key, weights=plan.weights):
        return
    work, resumed = plan.store.open_work(job.key, job.description)
    if resumed:
        log(f"  resuming {job.key} from its checkpoints in {work}")
    trained = backend.train(job, work, log)
    # publishing the entry removes the work folder (JobStore.save)
    plan.store.save(job.key, job.description, trained.outputs, trained.info,
                    save_weights=trained.save_weights, save_files=trained.save_files)


def train_pending(plan: Plan, backend: Backend, log: Log = print) -> None:
    """Trains every job of the plan the store lacks, in plan order, one line each."""
    pending = plan.pending()
    for i, job in enumerate(pending, 1):
        log(f"[{i}/{len(pending)}] training {job.label}  (key {job.key})")
        start = time.time()
        train_job(plan, backend, job, log)
        log(f"  done in {time.time() - start:.1f} s")


def publish(records: Sequence[RunRecord], results_root: str, config: Any,
            overwrite: bool = False) -> list[Path]:
    """Writes each record directory (results.json + config.yaml) as one unit; a record
    another run published meanwhile is not replaced (RecordExistsError)."""
    return [write_record(record, results_root, config=config, overwrite=overwrite) for record in records]


def check(records: Sequence, log: Log = print, reference_dir: str | None = None):
    """Runs the result checker on fresh records ((path, RunRecord) pairs or RunRecords;
    the reference chosen by their preset and data set) and prints its table; returns the
    replication.check report."""
    from replication.check import check_records
    from replication.report import check_text
    report = check_records(records, reference="auto", reference_dir=reference_dir)
    log(check_text(report))
    return report


@dataclass
class TableOutcome:
    plan: Plan
    records: list[RunRecord]
    paths: list[Path]
    report: Any = None                   # replication.check.CheckReport (None: not checked)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return self.report.exit_code if self.report is not None else 0


def run_table(plan: Plan, backend: Backend, config: Any, *, overwrite: bool = False,
              checked: bool = True, log: Log = print, reference_dir: str | None = None,
              refuse: bool = True) -> TableOutcome:
    """Refuses existing records (unless overwrite), trains the pending jobs, scores every
    (run, seed), publishes the records and runs the checker.

    config: the resolved params written beside each record (config.yaml).
    refuse: False when the caller already refused (before a speed measurement).
    """
    start = time.time()
    if refuse:
        refuse_existing(plan, overwrite, log)
    train_pending(plan, backend, log)
    records = [backend.score(plan, run, seed) for run, seed in plan.order]
    paths = publish(records, plan.results_root, config, overwrite)
    report = check(list(zip(paths, records)), log, reference_dir) if checked else None
    return TableOutcome(plan, records, paths, report, time.time() - start)


# -------------------------------------------------------------------------- plan text
def hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s"


def estimate_seconds(plan: Plan, seconds_of: Callable[[Any], float | None]) -> float | None:
    """Training time of the pending jobs (None when one of them cannot be estimated)."""
    total = 0.0
    for job in plan.pending():
        secs = seconds_of(job)
        if secs is None:
            return None
        total += secs
    return total


def jobs_text(plan: Plan, note: Callable[[Any], str] = lambda job: "",
              seconds_of: Callable[[Any], float | None] | None = None) -> list[str]:
    """The plan's job lines: a count line, then `[todo]` / `[done]` per job with its key,
    label and note, and the estimated training time when `seconds_of` is given."""
    pending = {j.key for j in plan.pending()}
    lines = [f"  {len(plan.jobs)} distinct training jobs, {len(pending)} to train, "
             f"{len(plan.jobs) - len(pending)} in the store ({plan.store.root})"]
    for job in plan.jobs:
        state = "todo" if job.key in pending else "done"
        lines.append(f"   [{state}] {job.label}  {note(job)}".rstrip() + f"  key {job.key}")
    if seconds_of is not None:
        total = estimate_seconds(plan, seconds_of)
        if total is not None:
            lines.append(f"  estimated training time: {hms(total)} (from a measured step on this "
                         "machine; plus feature extraction on first use and scoring)")
    return lines
