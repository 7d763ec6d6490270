"""Figures 3-5 write PNGs from the model store (jobs filled with known outputs, no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from paper2_multirep import figures, tables


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from shared.datasets import demo
    root = tmp_path_factory.mktemp("demo") / "demo"
    demo.generate(root, demo.with_params(train_per_class=2, evaluate_per_class=2, clip_seconds=1.0),
                  progress=False)
    return root


def _fill_store(plan, rng):
    """Stores random but valid outputs for every job of the plan; returns them by key."""
    n, c = plan.data.num_test, len(plan.data.classes)
    labels = np.array([e.label for e in plan.data.test])
    for job in plan.jobs:
        outputs = {"labels": labels}
        for i in range(len(job.branches)):
            logits = rng.standard_normal((n, c)).astype("float32")
            outputs[f"logits_{i}"] = logits
            outputs[f"probs_{i}"] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        plan.store.save(job.key, job.description, outputs, {"faithful": False})


def test_figure3_bars_from_stored_jobs(demo_root, tmp_path):
    params = tables.resolve_params("demo", {"results_root": str(tmp_path)})
    plan = figures.narrow(tables.plan_table(figures.figure3_spec(), params, 2, str(demo_root)),
                          figures.LOGMEL_RESNET)
    assert len(plan.jobs) == 2 * 4          # per seed: baseline + DN, DR, D-RN groups
    _fill_store(plan, np.random.default_rng(0))
    out = figures.make_figure(3, params, seeds=2, data_root=str(demo_root), log=lambda s: None)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    values = json.loads(out.with_suffix(".json").read_text())["per_seed"]
    assert set(values) == {"baseline", "DN", "DR", "D-RN"}
    assert all(len(v["accuracy"]) == 2 for v in values.values())
    # the baseline bar is the independent logMel64/ResNet job, recomputed here
    job = plan.job_of[("resnet_logmel64", 0)]
    outputs, _ = plan.store.load(job.key)
    expected = tables.backend.metrics(outputs["probs_0"], outputs["labels"])["accuracy"]
    assert values["baseline"]["accuracy"][0] == pytest.approx(expected)


@pytest.mark.parametrize("number", [4, 5])
def test_figures_4_5_tsne(demo_root, tmp_path, number):
    params = tables.resolve_params("demo", {"results_root": str(tmp_path)})
    plan = tables.plan_table(figures.figure45_spec(), params, 1, str(demo_root))
    _fill_store(plan, np.random.default_rng(number))
    out = figures.make_figure(number, params, data_root=str(demo_root), log=lambda s: None)
    assert out.name == f"figure{number}_demo.png" and out.stat().st_size > 1000


def test_unknown_figure_is_refused():
    with pytest.raises(ValueError, match="no figure 2"):
        figures.make_figure(2, tables.resolve_params("demo"))


def test_figure_title_marks_the_rehearsal_params(tmp_path):
    from paper2_multirep.rehearsal import rehearsal_params
    from replication.rehearsal import TITLE_MARK
    paper = tables.resolve_params("paper")
    rehearsal = rehearsal_params(paper, "fsdkaggle2018", str(tmp_path), None, generate=False)
    assert figures.figure_title(paper, "Fig. 3") == "Fig. 3"
    assert figures.figure_title(rehearsal, "Fig. 3") == TITLE_MARK + "Fig. 3"


@pytest.mark.parametrize("number", [3, 4])
def test_a_rehearsal_figure_says_so_in_its_png_title(demo_root, tmp_path, monkeypatch, number):
    """make_figure titles the PNG from the plan's params: a plan of rehearsal data (here the
    demo plan with its data flag turned on after planning) gives a marked title."""
    from dataclasses import replace

    from replication import plots
    from replication.rehearsal import TITLE_MARK
    params = tables.resolve_params("demo", {"results_root": str(tmp_path)})
    spec = figures.figure3_spec() if number == 3 else figures.figure45_spec()
    _fill_store(tables.plan_table(spec, params, 1, str(demo_root)), np.random.default_rng(number))
    real_plan, titles = tables.plan_table, []

    def rehearsal_plan(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        plan.params = replace(plan.params, data=replace(plan.params.data, rehearsal=True))
        return plan

    for name in ("plot_grouped_bars", "plot_tsne"):
        real = getattr(plots, name)
        monkeypatch.setattr(plots, name, lambda *a, _real=real, **k: titles.append(k["title"]) or _real(*a, **k))
    monkeypatch.setattr(tables, "plan_table", rehearsal_plan)
    out = figures.make_figure(number, params, seeds=1, data_root=str(demo_root), log=lambda s: None)
    assert out.stat().st_size > 1000
    assert len(titles) == 1 and titles[0].startswith(TITLE_MARK + f"Fig. {number}: ")
