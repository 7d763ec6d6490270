"""Paper 2's equal-budget baseline (TrainParams.cyclic.independent_budget = "passes",
register p2-epoch-accounting), the claims' `variant: equal_budget` arm: the switch
retrains exactly the independent branches, and run records name the branches whose
outputs they report (replication/claims_curves.py reads those branches' loss curves)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paper2_multirep import table_backend
from paper2_multirep.experiments import table_by_number
from paper2_multirep.tables import plan_table, records_for, reported_branches, resolve_params
from replication.drivers import claims as driver

# a data root that never exists (not "/nonexistent": a process may create that on a shared host)
ABSENT = str(Path(__file__).resolve().parent / "no-such-data-root")

EQUAL = {"training_overrides": {"cyclic": {"independent_budget": "passes"}}}


def _plan(overrides=None, table="VII", seeds=1, results_root=None):
    params = resolve_params("demo", overrides)
    return plan_table(table_by_number(table), params, seeds=seeds, data_root=ABSENT,
                      results_root=results_root, require_data=False)


def test_equal_budget_jobs_change_only_the_independent_keys():
    """The cyclic groups never read the baseline's budget, so the equal-budget runs reuse
    them from the faithful runs' store; every independent branch is retrained."""
    for table in ("I", "II", "III", "IV", "V", "VI", "VII"):
        keys = {}
        for name, overrides in (("faithful", None), ("equal", EQUAL)):
            plan = _plan(overrides, table)
            keys[name] = {(j.kind, tuple(b.key for b in j.branches)): j.key for j in plan.jobs}
            assert {j.kind for j in plan.jobs} == {"independent", "cyclic"}
        assert keys["faithful"].keys() == keys["equal"].keys()
        for job, key in keys["faithful"].items():
            assert (keys["equal"][job] == key) == (job[0] == "cyclic"), (table, job)


def test_the_driver_overlay_gives_the_distilled_branch_s_passes(tmp_path):
    path = driver.write_overlay("paper2", tmp_path, "equal_budget")
    params = resolve_params(str(path))
    faithful, equal = (table_backend.training_params(p) for p in (resolve_params("demo"), params))
    assert equal.cyclic.independent_budget == "passes" and faithful.cyclic.independent_budget == "epochs"
    # demo: 8 cycles of b + d = 1 + 1 passes; the faithful baseline trains 8, the equal one 16
    assert faithful.passes_per_branch() == {"independent": 8, "cyclic": 16}
    assert equal.passes_per_branch() == {"independent": 16, "cyclic": 16}
    assert params.data == resolve_params("demo").data and params.preset == "demo"
    # the same jobs as the equal-budget overrides (the overlay is exactly that switch)
    overlay_keys = [j.key for j in plan_table(table_by_number("VII"), params, seeds=1, data_root=ABSENT,
                                               require_data=False).jobs]
    assert overlay_keys == [j.key for j in _plan(EQUAL).jobs]


def test_records_name_the_branches_they_report(tmp_path):
    plan = _plan(results_root=tmp_path, seeds=1)
    labels = np.array([0, 1, 2], np.int64)
    for job in plan.jobs:
        outputs = {"labels": labels, **{f"probs_{i}": np.eye(3, dtype=np.float32)[(labels + i) % 3]
                                        for i in range(len(job.branches))}}
        plan.store.save(job.key, job.description, outputs, {"history": []})
    records = {r.run: r for r in records_for(plan)}
    for run in plan.runs:
        extra = records[run.run].extra
        assert extra["branches"] == reported_branches(run)
        if run.kind == "distilled":            # branch i scores (labels + i) % 3: accuracy 1 only for i = 0
            (i,) = extra["branches"]
            assert run.group.branches[i] == run.branch
            assert records[run.run].metrics["accuracy"] == (1.0 if i == 0 else 0.0)
    kinds = {run.kind: reported_branches(run) for run in plan.runs}
    assert kinds["independent"] == [0] and kinds["ensemble"] == [0, 1]
