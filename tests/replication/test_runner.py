"""The generic table runner (replication/runner.py) with a toy backend: no TensorFlow.

A toy "table" has two runs that share a teacher; the student needs the teacher's key.
Training writes a checkpoint into the job's work folder and can be told to die after it,
so the resume path (work folder left, resumed on the next run) is exercised for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from replication import runner
from replication.records import RecordExistsError, RunRecord, read_record
from replication.store import JobStore, describe_key


@dataclass(frozen=True)
class ToyConfig:
    lr: float = 0.1
    epochs: int = 2


class Crash(RuntimeError):
    pass


@dataclass
class ToyBackend:
    config: ToyConfig = field(default_factory=ToyConfig)
    crash_after_checkpoint: bool = False
    trained: list = field(default_factory=list)
    resumed_from: list = field(default_factory=list)

    def describe(self, item, seed, key_of):
        teacher = key_of("teacher") if item == "student" else None
        return {"paper": "toy", "item": item, "seed": seed, "lr": self.config.lr, "teacher": teacher}

    def make_job(self, item, seed, key, description):
        return runner.JobRef(item, seed, key, description)

    def train(self, job, work_dir, log):
        ckpt = work_dir / "epoch.json"
        done = json.loads(ckpt.read_text())["epochs"] if ckpt.is_file() else 0
        if done:
            self.resumed_from.append((job.item, done))
        for epoch in range(done, self.config.epochs):
            ckpt.write_text(json.dumps({"epochs": epoch + 1}))
            if self.crash_after_checkpoint:
                raise Crash(f"killed after epoch {epoch + 1}")
        self.trained.append(job.item)
        value = 0.5 + 0.1 * (job.item == "student") + 0.01 * job.seed
        return runner.Trained({"value": np.array([value])}, {"epochs": self.config.epochs})

    def score(self, plan, run, seed):
        values = [float(plan.store.load(j.key)[0]["value"][0]) for j in plan.systems[(run, seed)]]
        return RunRecord(table=plan.name, run=run, preset="toy", seed=seed,
                         metrics={"accuracy": float(np.mean(values))},
                         extra={"jobs": [j.key for j in plan.systems[(run, seed)]]})


ROWS = (runner.Row("teacher_only", ("teacher",)),
        runner.Row("student_only", ("student",)),
        runner.Row("ensemble", ("teacher", "student")))


def toy_plan(tmp_path: Path, backend: ToyBackend, seeds=(0, 1)) -> runner.Plan:
    jobs, systems, order = runner.resolve_jobs(ROWS, seeds, backend)
    return runner.Plan(name="toy/table1", seeds=tuple(seeds), jobs=jobs, systems=systems,
                       store=JobStore(tmp_path / "toy" / "_store"), results_root=str(tmp_path),
                       order=order)


def test_plan_shares_jobs_by_store_key_and_puts_dependencies_first(tmp_path):
    plan = toy_plan(tmp_path, ToyBackend())
    assert [(j.item, j.seed) for j in plan.jobs] == [("teacher", 0), ("student", 0),
                                                     ("teacher", 1), ("student", 1)]
    teacher0, student0 = plan.jobs[:2]
    assert student0.description["teacher"] == teacher0.key
    assert teacher0.key == describe_key(teacher0.description)
    assert plan.systems[("ensemble", 0)] == (teacher0, student0)
    assert plan.systems[("teacher_only", 0)][0] is teacher0         # one job object per key
    assert plan.order[:3] == [("teacher_only", 0), ("student_only", 0), ("ensemble", 0)]
    assert plan.record_keys()[0] == ("toy/table1", "teacher_only", 0)
    assert len(plan.pending()) == 4


def test_items_with_one_description_are_one_job(tmp_path):
    class Same(ToyBackend):
        def describe(self, item, seed, key_of):
            return {"item": "same", "seed": seed}
    plan = toy_plan(tmp_path, Same(), seeds=(0,))
    assert len(plan.jobs) == 1
    assert plan.systems[("ensemble", 0)] == (plan.jobs[0], plan.jobs[0])


def test_run_table_trains_once_publishes_records_and_reuses_the_store(tmp_path):
    backend = ToyBackend()
    plan = toy_plan(tmp_path, backend)
    lines: list[str] = []
    outcome = runner.run_table(plan, backend, backend.config, checked=False, log=lines.append)
    assert sorted(backend.trained) == ["student", "student", "teacher", "teacher"]
    assert len(outcome.records) == len(outcome.paths) == 6 and outcome.exit_code == 0
    assert "[1/4] training seed 0  teacher" in lines[0]
    for path in outcome.paths:
        record = read_record(path)
        assert (path.parent / "config.yaml").is_file()
        assert path.parent == tmp_path / "toy" / "table1" / record.run / f"seed-{record.seed}"
    ens = read_record(tmp_path / "toy/table1/ensemble/seed-1/results.json")
    assert ens.metrics["accuracy"] == pytest.approx((0.51 + 0.61) / 2)
    assert not list((tmp_path / "toy" / "_store").glob(".work-*"))   # published: work folders gone
    # Same plan again with overwrite: nothing to train, records rewritten.
    again = ToyBackend()
    plan2 = toy_plan(tmp_path, again)
    assert plan2.pending() == []
    runner.run_table(plan2, again, again.config, overwrite=True, checked=False, log=lambda _: None)
    assert again.trained == []


def test_existing_records_are_refused_before_any_training(tmp_path):
    backend = ToyBackend()
    runner.run_table(toy_plan(tmp_path, backend), backend, backend.config, checked=False,
                     log=lambda _: None)
    fresh = ToyBackend(config=ToyConfig(lr=0.2))          # other keys: everything would train
    plan = toy_plan(tmp_path, fresh)
    with pytest.raises(RecordExistsError) as err:
        runner.run_table(plan, fresh, fresh.config, checked=False, log=lambda _: None)
    assert "6 of the 6 run record(s)" in str(err.value)
    assert str(tmp_path / "toy/table1/teacher_only/seed-0/results.json") in str(err.value)
    assert fresh.trained == [] and not any(plan.store.has(j.key) for j in plan.jobs)


def test_a_killed_job_resumes_from_its_work_folder(tmp_path):
    dying = ToyBackend(crash_after_checkpoint=True)
    plan = toy_plan(tmp_path, dying, seeds=(0,))
    with pytest.raises(Crash):
        runner.run_table(plan, dying, dying.config, checked=False, log=lambda _: None)
    teacher = plan.jobs[0]
    work = plan.store.work_path(teacher.key)
    assert json.loads((work / "epoch.json").read_text()) == {"epochs": 1}
    assert not plan.store.has(teacher.key) and not list(tmp_path.glob("toy/table1/*/seed-*"))
    backend = ToyBackend()
    lines: list[str] = []
    runner.run_table(toy_plan(tmp_path, backend, seeds=(0,)), backend, backend.config, checked=False,
                     log=lines.append)
    assert backend.resumed_from == [("teacher", 1)]          # the student had not started
    assert any(f"resuming {teacher.key}" in line for line in lines)
    assert plan.store.has(teacher.key) and not work.exists()


def test_plan_text_counts_jobs_and_estimates_the_pending_ones(tmp_path):
    backend = ToyBackend()
    plan = toy_plan(tmp_path, backend)
    runner.train_job(plan, backend, plan.jobs[0], log=lambda _: None)
    lines = runner.jobs_text(plan, note=lambda job: "(2 epochs)", seconds_of=lambda job: 30.0)
    assert lines[0].startswith("  4 distinct training jobs, 3 to train, 1 in the store")
    assert lines[1].startswith("   [done] seed 0  teacher  (2 epochs)") and plan.jobs[0].key in lines[1]
    assert sum("[todo]" in line for line in lines) == 3
    assert "estimated training time: 0h01m30s" in lines[-1]
    assert runner.estimate_seconds(plan, lambda job: None) is None
    assert runner.hms(3725) == "1h02m05s"


def test_check_runs_the_checker_on_the_records(tmp_path, monkeypatch):
    import replication.check as checker
    import replication.report as report
    seen = {}
    monkeypatch.setattr(checker, "check_records",
                        lambda records, reference, reference_dir=None: seen.setdefault("r", records))
    monkeypatch.setattr(report, "check_text", lambda rep: "CHECKED")
    lines: list[str] = []
    backend = ToyBackend()
    outcome = runner.run_table(toy_plan(tmp_path, backend, seeds=(0,)), backend, backend.config,
                               log=lines.append)
    assert seen["r"] == list(zip(outcome.paths, outcome.records)) and lines[-1] == "CHECKED"


def test_the_runner_imports_no_paper_package():
    code = ("import sys, replication.runner; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('paper1_ts', 'paper2_multirep', "
            "'tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "[]"
