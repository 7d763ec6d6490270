"""The paper diff every record carries is taken when the plan is made, before training
(paper2_multirep/tables.py Paper2Backend.diff). Read only at scoring, after an hour of
training, it re-read the paper preset's file, so an edit of experiment_paper.yaml during
the run adding a key the running DataParams lacks ended the run with exit 2 after every
job had trained (the likeliest cause of a Table V rehearsal's exit 2, docs/scale.md)."""

from __future__ import annotations

from paper2_multirep import tables
from paper2_multirep.experiments import table_by_number
from shared.config import ConfigError


def test_the_paper_diff_is_taken_when_the_plan_is_made(tmp_path, monkeypatch):
    params = tables.resolve_params("demo")
    plan = tables.plan_table(table_by_number("VII"), params, seeds=1, data_root=str(tmp_path / "absent"),
                             results_root=str(tmp_path), require_data=False)
    expected = tables.paper_diff(params)
    assert expected["keys"]                             # the demo preset departs from the paper's

    def edited_preset(*args, **kwargs):                 # the preset file as edited mid-run
        raise ConfigError("paper2_multirep/presets/experiment_paper.yaml: unknown key 'data.new_key'")

    monkeypatch.setattr(tables, "resolve_params", edited_preset)
    assert plan.backend.diff == expected                # no re-read after planning
