"""paper1_ts.offset_course: the course of a TS student's pair offset (the retraining itself
runs on a claims store; here the table, the JSON, the plot and the errors)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from paper1_ts import offset_course as oc


def _course(arm: str, seed: int, end: float) -> oc.Course:
    points = [oc.Point(1, e, 1.0 / e, 0.1 * e, 50.0) for e in (2, 4)]
    points += [oc.Point(2, e, 0.5 / e, end * e / 20, 50.0 + e) for e in range(2, 21, 2)]
    return oc.Course(arm, seed, tuple(points))


def test_render_takes_the_end_of_step_1_and_the_gru_epochs_and_a_mean_per_arm(tmp_path):
    courses = [_course("constant", 0, 0.6), _course("constant", 1, 0.4), _course("annealed", 0, 0.1)]
    text = oc.render(courses)
    assert "| end of step 1 | GRU epoch 2 | GRU epoch 6 | GRU epoch 10 | GRU epoch 14 | GRU epoch 20 |" in text
    assert "| constant | 0 | 0.40 / 50.0 % (0.250) |" in text               # step 1 ends at epoch 4
    assert "| constant | mean |" in text and "0.50 / 70.0 % (0.025) |" in text   # GRU epoch 20: (0.6 + 0.4) / 2
    assert "| annealed | mean |" in text
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"courses": [asdict(c) for c in courses]}), encoding="utf-8")
    assert oc.render(oc.load(path)) == text


def test_render_leaves_out_epochs_a_course_did_not_record():
    sparse = oc.Course("a", 0, (oc.Point(1, 4, 1.0, 0.2, 40.0), oc.Point(2, 10, 0.5, 0.3, 45.0),
                                oc.Point(2, 20, 0.4, 0.4, 50.0)))
    longer = oc.Course("b", 0, sparse.points + (oc.Point(2, 40, 0.3, 0.6, 60.0),))
    text = oc.render([sparse, longer])
    assert "GRU epoch 10 | GRU epoch 20 | GRU epoch 40 |" in text and "GRU epoch 2 " not in text
    assert "| a | 0 | 0.20 / 40.0 % (1.000) | 0.30 / 45.0 % (0.500) | 0.40 / 50.0 % (0.400) | - |" in text
    assert "| b | mean |" in text and text.rstrip().endswith("0.60 / 60.0 % (0.300) |")
    with pytest.raises(KeyError, match="no point at step 2, epoch 6"):
        sparse.at(2, 6)


def test_plot_writes_a_png_with_a_line_per_course(tmp_path):
    path = oc.plot([_course("constant", 0, 0.6), _course("annealed", 0, 0.1)], tmp_path / "course.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_store_without_the_models_is_one_error_naming_the_command(tmp_path, capsys):
    code = oc.main(["--arm", "x", "demo", str(tmp_path), "--data-root", str(tmp_path / "no_data")])
    assert code == 2
    assert "python -m paper1_ts.run --table 6" in capsys.readouterr().err


def test_every_draws_and_longer_arms_are_checked(capsys):
    assert oc.main(["--arm", "x", "demo", "r", "--data-root", "d", "--every", "0"]) == 2
    assert "--every must be >= 1" in capsys.readouterr().err
    assert oc.main(["--arm", "x", "demo", "r", "--data-root", "d", "--gru-epochs", "y", "60"]) == 2
    assert "--gru-epochs y 60: want the label of an --arm" in capsys.readouterr().err
