"""Every paper-2 table end to end on a TINY generated demo data set, plus the ESC path.

Sizes are cut far below the demo preset (a few clips, one epoch) so the whole file
runs in well under two minutes; the full demo preset is exercised by the slow test.
"""

from __future__ import annotations

import json

import pytest

from paper2_multirep import esc, tables
from paper2_multirep.experiments import TABLES, table_by_number, table_runs
from replication.records import find_records

TINY = {"data": {"max_train_clips": 20, "max_eval_clips": 10, "crop_frames": 40,
                 "eval_hop_frames": 40},
        "training_overrides": {"optim": {"epochs": 1, "batch_size": 8}}}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from shared.datasets import demo
    root = tmp_path_factory.mktemp("demo") / "demo"
    demo.generate(root, demo.with_params(train_per_class=2, evaluate_per_class=1, clip_seconds=1.0),
                  progress=False)
    return root


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("results")


def _params(results, **extra):
    overrides = {**TINY, "results_root": str(results), **extra}
    overrides["data"] = {**TINY["data"], "cache_root": str(results / "cache")}
    return tables.resolve_params("demo", overrides)


def test_table_vii_end_to_end_then_shared_jobs(demo_root, results):
    params = _params(results)
    outcome = tables.run_table(table_by_number("VII"), params, seeds=1, data_root=str(demo_root),
                               estimate=False, check=False, log=lambda s: None)
    names = {r.run for r in outcome.records}
    assert names == {r.run for r in table_runs(table_by_number("VII"))}
    for record in outcome.records:
        assert record.preset == "demo" and not record.faithful
        assert any("instead of the paper's dcase2018_task1a" in d for d in record.deviations)
        assert 0.0 <= record.metrics["accuracy"] <= 1.0
        assert record.metrics["accuracy"] <= record.metrics["map_at_3"] + 1e-9
    found = find_records([results / "paper2" / "tableVII"])
    assert len(found) == len(outcome.records)
    # Table IV = VGG logMel + ResNet logMel on the same data: both independent branches
    # were trained for Table VII, only the cyclic group is new.
    plan = tables.plan_table(table_by_number("IV"), params, 1, str(demo_root))
    assert len(plan.jobs) == 3 and len(plan.pending()) == 1


def test_ensemble_is_the_mean_of_the_distilled_branches(demo_root, results):
    params = _params(results)
    plan = tables.plan_table(table_by_number("VII"), params, 1, str(demo_root))
    run = [r for r in plan.runs if r.kind == "ensemble"][0]
    outputs, _ = plan.store.load(plan.job_of[(run.run, 0)].key)
    mean = (outputs["probs_0"] + outputs["probs_1"]) / 2
    expected = tables.backend.metrics(mean, outputs["labels"])
    record = [r for r in tables.records_for(plan) if r.run == run.run][0]
    assert record.metrics == pytest.approx(expected)


@pytest.mark.slow
@pytest.mark.parametrize("numeral", [t.numeral for t in TABLES])
def test_every_table_runs_on_tiny_demo(demo_root, results, numeral):
    params = _params(results)
    outcome = tables.run_table(table_by_number(numeral), params, seeds=1, data_root=str(demo_root),
                               estimate=False, check=False, log=lambda s: None)
    assert len(outcome.records) == len(table_runs(table_by_number(numeral)))


def test_esc_two_folds_on_the_real_fixture(esc10_root, tmp_path):
    params = tables.resolve_params("demo", {**TINY, "results_root": str(tmp_path),
                                            "data": {**TINY["data"], "dataset": "",
                                                     "cache_root": str(tmp_path / "cache")}})
    summary = esc.run_esc(params, dataset="esc10", data_root=str(esc10_root), folds=[1, 2], seeds=1,
                          estimate=False, log=lambda s: None, sets=["branch.small_filters=[8, 16]"])
    assert summary["folds"] == [1, 2]
    assert summary["command"].endswith(" --seeds 1 --set 'branch.small_filters=[8, 16]'")   # reruns the setting
    rows = summary["rows"]
    assert "Ensemble* (distilled)" in rows and len(rows) == 6
    for metrics in rows.values():
        assert 0.0 <= metrics["accuracy"]["mean"] <= 1.0
    saved = json.loads((tmp_path / "esc10" / "table.json").read_text())
    assert saved["rows"].keys() == rows.keys()
    assert "| Ensemble* (distilled) |" in (tmp_path / "esc10" / "table.md").read_text()
    # fold k's records are scored on fold k only (10 classes x 8 clips, cut to 10)
    found = find_records([tmp_path / "esc10" / "fold2"])
    assert found and all(r.extra["test_split"] == "fold2_test" for _, r in found)
