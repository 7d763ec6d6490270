"""Issue 17: what a paper-2 record says about its configuration, so the checker can pick
its reference by what was run (never by the preset's file name)."""

from __future__ import annotations

from pathlib import Path

import yaml

from paper2_multirep.experiments import table_by_number
from paper2_multirep.tables import PRESET_DIR, paper_diff, plan_table, resolve_params, run_fingerprint


def _copy(tmp_path: Path, source: str, name: str, **changes) -> Path:
    """A user's copy of presets/experiment_<source>.yaml under another name, with changes."""
    data = yaml.safe_load((PRESET_DIR / f"experiment_{source}.yaml").read_text())
    data.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _fingerprints(params) -> dict:
    """(run, job kind) -> config hash of the run's record."""
    plan = plan_table(table_by_number("VII"), params, seeds=1, require_data=False)
    return {(run, job.kind): run_fingerprint(job)["hash"] for (run, _), job in plan.job_of.items()}


def test_a_renamed_demo_preset_keeps_the_fingerprint_and_a_changed_one_does_not(tmp_path):
    demo = _fingerprints(resolve_params("demo"))
    renamed = _fingerprints(resolve_params(str(_copy(tmp_path, "demo", "my_demo", preset="my_demo"))))
    assert renamed == demo
    changed = _fingerprints(resolve_params(str(_copy(
        tmp_path, "demo", "my_demo2", preset="my_demo", training_overrides={"cyclic": {"kl_direction": "reverse"}}))))
    # the KL direction decides every distilled run; the independent baselines never read it
    assert all((changed[run] != demo[run]) == (run[1] == "cyclic") for run in demo)
    assert {kind for _, kind in demo} == {"independent", "cyclic"}


def test_paper_diff_names_the_changed_switch_and_its_register_entry(tmp_path):
    assert paper_diff(resolve_params("paper")) == {"keys": [], "decisions": []}
    mine = resolve_params(str(_copy(tmp_path, "paper", "my_paper", preset="my_paper",
                                    training_overrides={"cyclic": {"kl_direction": "reverse"}})))
    diff = paper_diff(mine)
    assert diff["keys"] == ["training.cyclic.kl_direction: 'reverse' (paper: 'as_printed')"]
    assert diff["decisions"] == ["p2-kl-direction"]
    demo = paper_diff(resolve_params("demo"))
    assert "p2-demo-dataset" in demo["decisions"] and any(k.startswith("training.optim.epochs") for k in demo["keys"])
