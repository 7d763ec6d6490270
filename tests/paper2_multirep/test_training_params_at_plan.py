"""The training params (the training preset's file + overrides) are read once, when the plan
is made (paper2_multirep/tables.py Paper2Backend.training), and passed on to the job
descriptions, the training of every job, the plan text and the rehearsal's cost. Re-read at
each job, an edit of the training preset's file during an hours-long run (a key the running
TrainParams lacks) ended the run with exit 2 at the next job, the same class of failure as
the paper diff re-read at scoring (test_paper_diff_at_plan.py, 8437ad9)."""

from __future__ import annotations

import pytest

from paper2_multirep import params as p2
from paper2_multirep import table_backend, tables
from paper2_multirep.experiments import table_by_number
from shared import config
from shared.config import ConfigError


def _edit_training_preset_mid_run(monkeypatch):
    """From now on, reading the training preset's file fails as an edited file would."""
    real = config.load_config

    def load_config(cls, *presets):
        if cls is p2.TrainParams:
            raise ConfigError("paper2_multirep/presets/paper.yaml: unknown key 'optim.new_key'")
        return real(cls, *presets)

    monkeypatch.setattr(config, "load_config", load_config)
    with pytest.raises(ConfigError):                     # the file really cannot be read now
        table_backend.training_params(tables.resolve_params("demo"))


class Reached(Exception):
    """Raised where train_job builds its first network: everything before it ran."""


def test_a_job_trains_with_the_training_params_read_at_plan_time(tmp_path, monkeypatch):
    params = tables.resolve_params("demo")
    plan = tables.plan_table(table_by_number("VII"), params, seeds=1, data_root=str(tmp_path / "absent"),
                             results_root=str(tmp_path), require_data=False)
    expected = table_backend.training_params(params)
    assert plan.backend.training == expected
    _edit_training_preset_mid_run(monkeypatch)

    # the plan text and the store keys come from the params read at plan time
    assert "passes/branch" in tables.describe_plan(plan)
    for job in plan.jobs:
        assert plan.backend.describe((job.kind, job.branches), job.seed) == job.description

    # a job's training gets as far as building its network without reading the file
    import shared.pipeline
    from paper2_multirep import branches as p2branches

    class Entry:
        def shape(self, i):
            return (400, 64, 1)

    monkeypatch.setattr(table_backend, "cache_entries",
                        lambda reps, p, d: {r: (Entry(), Entry()) for r in reps})
    monkeypatch.setattr(shared.pipeline, "band_statistics", lambda entry: (0.0, 1.0))
    monkeypatch.setattr(shared.pipeline, "make_eval_crops", lambda *a, **k: None)

    def build_branch(branch_params, *args, **kwargs):
        raise Reached(branch_params)

    monkeypatch.setattr(p2branches, "build_branch", build_branch)
    job = next(j for j in plan.jobs if j.kind == "independent")
    with pytest.raises(Reached) as reached:
        plan.backend.train(job, tmp_path / "work", log=lambda line: None)
    branch_params = reached.value.args[0]
    assert branch_params.arch == params.arch_of(job.branches[0].network)
    assert branch_params == table_backend.branch_training_params(params, job.branches[0], expected).branch


def test_the_rehearsal_cost_uses_the_training_params_read_before_the_run(tmp_path, monkeypatch):
    from paper2_multirep import rehearsal
    paper = tables.resolve_params("paper")
    plan = tables.plan_table(table_by_number("V"), paper, seeds=1, data_root=str(tmp_path / "absent"),
                             results_root=str(tmp_path), require_data=False)
    before = rehearsal.cost_text(plan, paper, {b.key: 0.5 for b in plan.table.branches})
    _edit_training_preset_mid_run(monkeypatch)
    after = rehearsal.cost_text(plan, paper, {b.key: 0.5 for b in plan.table.branches},
                                train=plan.backend.training)
    assert after == before
