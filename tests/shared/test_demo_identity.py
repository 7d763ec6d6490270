"""A non-default demo generation is other data: its DemoParams enter both papers' model-store
keys (shared.datasets.demo.identity), so models trained on one generation are never reused
for another in the same results root; the default generation keeps its keys."""

from __future__ import annotations

from shared.datasets import demo

SMALL = dict(train_per_class=2, evaluate_per_class=1, clip_seconds=1.0)


def test_identity_lists_the_fields_that_differ_from_the_defaults(tmp_path):
    assert demo.identity(tmp_path / "absent") == {} and demo.generated_params(tmp_path / "absent") is None
    root = demo.generate(tmp_path / "d", demo.with_params(design="premises", **SMALL), progress=False)
    assert demo.identity(root) == {"design": "premises", **SMALL}
    assert demo.generated_params(root).design == "premises"


def test_both_papers_store_keys_follow_the_generation(tmp_path):
    from paper1_ts import tables as p1_tables
    from paper1_ts.experiments import table_by_number as p1_table
    from paper1_ts.params import resolve_params as p1_params
    from paper2_multirep import tables as p2_tables
    from paper2_multirep.experiments import table_by_number as p2_table

    keys = {}
    for design in ("scenes", "premises"):
        root = demo.generate(tmp_path / design, demo.with_params(design=design, **SMALL), progress=False)
        params = p1_params("demo", {"results_root": str(tmp_path / "r"), "data": {"root": str(root)}})
        plan = p1_tables.make_plan(p1_table("1"), params, "demo", warn=lambda line: None)
        p1 = sorted(ref.key for refs in plan.systems.values() for ref in refs)
        params = p2_tables.resolve_params("demo", {"results_root": str(tmp_path / "r")})
        plan = p2_tables.plan_table(p2_table("I"), params, seeds=1, data_root=str(root))
        keys[design] = (p1, sorted(job.key for job in plan.jobs))
    # same clip ids, same configs: only the generation tells the two apart
    assert set(keys["scenes"][0]).isdisjoint(keys["premises"][0])
    assert set(keys["scenes"][1]).isdisjoint(keys["premises"][1])
