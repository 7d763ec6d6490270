"""Choosing ESC settings on validation folds (paper2_multirep/esc_select.py): candidates
file checks, the choice by the independent branches' validation accuracy, the held-out
command, and resuming from saved validation tables. The training step is a stub here (the
--validate path itself: tests/paper2_multirep/test_esc_validate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paper2_multirep import esc_select
from shared.cli import UsageError


def _summary(indep: float, distilled: float, folds=(1, 2), seeds=3) -> dict:
    row = lambda acc: {"accuracy": {"mean": acc, "std": 0.0}, "map_at_3": {"mean": acc, "std": 0.0}}  # noqa: E731
    return {"dataset": "esc10-val", "folds": list(folds), "seeds": seeds,
            "rows": {"logMel64,ResNet independent": row(indep), "MFCC,VGGNet independent": row(indep - 0.02),
                     "logMel64,ResNet distilled*": row(distilled), "Ensemble* (distilled)": row(distilled)}}


def test_the_repo_candidates_file_loads_and_every_candidate_resolves():
    from paper2_multirep import tables
    preset, candidates = esc_select.load_candidates(Path(__file__).resolve().parents[2] / "data" / "esc"
                                                    / "esc10_candidates.yaml")
    assert preset == "esc10" and "preset_as_is" in candidates
    for overrides in candidates.values():        # the preset's equal-budget rule survives every candidate
        params = tables.resolve_params(preset, overrides)
        assert params.training_overrides["cyclic"]["independent_budget"] == "passes"


@pytest.mark.parametrize("text, message", [
    ("preset: esc10\ncandidates: {a: {}}\n", "expected exactly the keys"),
    ("note: n\npreset: esc10\ncandidates: {}\n", "non-empty mapping"),
    ("note: n\npreset: esc10\ncandidates: {'a b': {}}\n", "letters, digits"),
    ("note: n\npreset: esc10\ncandidates: {a: 3}\n", "candidate a: overrides must be a mapping"),
    ("note: [\n", "not valid YAML"),
])
def test_bad_candidates_files_are_named(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as err:
        esc_select.load_candidates(path)
    assert str(path) in str(err.value)
    with pytest.raises(UsageError, match="not found"):
        esc_select.load_candidates(tmp_path / "absent.yaml")


def test_the_choice_is_the_best_independent_validation_score_and_a_rerun_reads_saved_tables(tmp_path):
    candidates = {"as_is": {}, "long": {"training_overrides": {"optim": {"epochs": 15}}},
                  "distilled_only": {"training_overrides": {"mixup": {"enabled": False}}}}
    # "distilled_only" has the best distilled rows but the worst independent ones: not chosen
    made = {"as_is": _summary(0.60, 0.62), "long": _summary(0.74, 0.70), "distilled_only": _summary(0.50, 0.90)}
    calls = []

    def run(name, overrides, out):
        calls.append(name)
        out.mkdir(parents=True)
        (out / "table.json").write_text(json.dumps(made[name]))
        return made[name]

    kwargs = dict(preset="esc10", dataset="esc10", data_root="D", folds=[1, 2], seeds=3, results=tmp_path,
                  log=lambda s: None)
    selection = esc_select.select(candidates, run=run, **kwargs)
    assert selection["chosen"] == "long" and calls == ["as_is", "long", "distilled_only"]
    assert selection["validation_folds"] == [2, 3]
    assert selection["candidates"]["long"]["score"] == pytest.approx(0.73)
    assert selection["command"] == ("python -m paper2_multirep.run --dataset esc10 --preset esc10 --data-root D "
                                    "--folds 1 2 --seeds 3 --set training_overrides.optim.epochs=15")
    text = esc_select.render(selection)
    assert "| long (chosen) | training_overrides.optim.epochs=15 |" in text and "VALIDATION folds [2, 3]" in text
    # a rerun reads the saved validation tables; other folds or seeds train again
    assert esc_select.select(candidates, run=run, **kwargs)["chosen"] == "long" and len(calls) == 3
    with pytest.raises(FileExistsError):             # the stub refuses to overwrite: it was asked to train
        esc_select.select(candidates, run=run, **{**kwargs, "seeds": 5})


def test_dotted_overrides_are_the_set_items():
    assert esc_select.dotted({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": "x", "f": False}) == \
        ["a.b=1", "a.c.d=[1,2]", "e=x", "f=false"]
    # the printed command quotes what a shell would split
    command = esc_select.held_out_command("esc10", "esc10", "my data", [1], 3, {"a": {"b": [1, 2]}, "n": "x y"})
    assert command.endswith("--data-root 'my data' --folds 1 --seeds 3 --set 'a.b=[1,2]' --set 'n=x y'")


def test_command_line_errors_are_one_line(tmp_path, capsys):
    good = tmp_path / "c.yaml"
    good.write_text("note: n\npreset: esc10\ncandidates: {a: {training_overrides: {optim: {epochs: 2}}},"
                    " b: {data: {no_such_key: 1}}}\n")
    base = ["--data-root", str(tmp_path), "--candidates", str(good)]
    assert esc_select.main(["--data-root", str(tmp_path / "nope"), "--candidates", str(good)]) == 2
    assert "data root not found" in capsys.readouterr().err
    assert esc_select.main([*base, "--folds", "1", "1"]) == 2
    assert "distinct ESC-50 folds" in capsys.readouterr().err
    assert esc_select.main([*base, "--seeds", "0"]) == 2
    # every candidate's settings are checked before any trains: b's bad key stops the command
    assert esc_select.main(base) == 2
    err = capsys.readouterr().err
    assert "candidate b" in err and "no_such_key" in err
