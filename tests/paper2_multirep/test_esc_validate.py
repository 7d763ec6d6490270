"""ESC-50-layout runs scored on a validation fold (paper2_multirep/esc.py, `--validate`):
the plan reads the three folds other than the held-out fold and its validation fold, scores
on the validation fold, never lists a held-out clip, and shares no store key or record path
with the held-out run. Plans only (nothing trained), on the real ESC-10 fixture."""

from __future__ import annotations

from paper2_multirep import esc, tables

TINY = {"data": {"max_train_clips": 0, "max_eval_clips": 0, "dataset": ""}}


def _plans(esc10_root, tmp_path, fold):
    params = tables.resolve_params("demo", {**TINY, "results_root": str(tmp_path),
                                            "data": {**TINY["data"], "cache_root": str(tmp_path / "cache")}})
    branches = esc.parse_branches(esc.DEFAULT_BRANCHES)
    held = tables.plan_table(esc.esc_table("esc10", fold, branches), params, seeds=1,
                             data_root=str(esc10_root), test_fold=fold)
    val = tables.plan_table(esc.esc_table("esc10", fold, branches, validate=True), params, seeds=1,
                            data_root=str(esc10_root), test_fold=fold, validation_fold=esc.VALIDATION_FOLD[fold])
    return held, val


def test_validation_plan_scores_the_next_fold_and_never_reads_the_held_out_fold(esc10_root, tmp_path):
    held, val = _plans(esc10_root, tmp_path, 5)
    assert esc.VALIDATION_FOLD[5] == 1 and esc.VALIDATION_FOLD[2] == 3
    assert (val.data.train_split, val.data.test_split) == ("fold5_val1_train", "fold5_val1_validate")
    assert {e.clip_id.split("-")[0] for e in val.data.train} == {"2", "3", "4"}
    assert {e.clip_id.split("-")[0] for e in val.data.test} == {"1"}
    held_out = {e.clip_id for e in held.data.test}
    assert held_out and not held_out & {e.clip_id for e in val.data.train + val.data.test}
    # other data, so other models and other records: nothing of the held-out run is reused or overwritten
    assert not {j.key for j in held.jobs} & {j.key for j in val.jobs}
    assert val.table.name == "esc10-val/fold5" and held.table.name == "esc10/fold5"
    assert "validation fold 1" in val.table.caption


def test_validation_summary_says_it_is_not_a_result():
    text = esc.render_markdown({"dataset": "esc10-val", "folds": [1], "validation_folds": [2], "seeds": 1,
                                "preset": "esc10", "branches": [], "command": "x", "rows": {}})
    assert "Scored on VALIDATION folds [2]" in text and "not a result" in text
    assert "VALIDATION" not in esc.render_markdown({"dataset": "esc10", "folds": [1], "seeds": 1, "preset": "p",
                                                    "branches": [], "command": "x", "rows": {}})
