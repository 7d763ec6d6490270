"""paper1_ts/imitation.py: the imitation measures on known arrays, the BatchNorm
re-estimate on a tiny model, the table and its JSON round trip, and the error for a
store that lacks the models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from paper1_ts import imitation


def test_split_fit_separates_the_partner_spread_from_the_student_error():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(4, 30, 8)).astype(np.float32)           # [K, N, D]
    mean = draws.mean(axis=0)
    exact = imitation.split_fit(mean, draws)                          # the best a 10 s student can do
    assert exact.to_mean == pytest.approx(0.0, abs=1e-12)
    assert exact.error == pytest.approx(exact.floor, rel=1e-5)
    shifted = imitation.split_fit(mean + 0.5, draws)                 # off by 0.5 in every dimension
    assert shifted.to_mean == pytest.approx(0.25, rel=1e-5)
    assert shifted.error == pytest.approx(exact.floor + 0.25, rel=1e-5)


def test_split_fit_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        imitation.split_fit(np.zeros((5, 8)), np.zeros((3, 6, 8)))


def test_class_bearing_dimensions_and_relative_errors():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(4), 25)
    target = rng.normal(size=(100, 6))
    target[:, :3] += 5.0 * labels[:, None]                     # dimensions 0-2 carry the classes
    dims = imitation.class_bearing(target, labels)
    assert dims.tolist() == [True, True, True, False, False, False]
    student = target.copy()
    student[:, 3:] = target[:, 3:].mean(axis=0)                # exact on the classes, the mean elsewhere
    on_classes, other = imitation.relative_errors(student, target, dims)
    assert on_classes == pytest.approx(0.0) and other == pytest.approx(1.0)


def test_within_pair_counts_only_clips_whose_pair_is_right():
    family = np.array([0, 0, 1, 1])
    labels = np.array([0, 0, 2, 3, 1])
    predicted = np.array([0, 1, 0, 3, 1])      # right; wrong in its pair; wrong pair; right; right
    assert imitation.within_pair(predicted, labels, family) == pytest.approx(75.0)


def test_recalibrate_batchnorm_sets_the_statistics_of_the_data_and_restores_momentum():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
    rng = np.random.default_rng(1)
    data = (rng.normal(size=(200, 3)) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.5]).astype(np.float32)
    batches = [{"x": data[i:i + 40]} for i in range(0, 200, 40)]
    assert imitation.recalibrate_batchnorm(model, batches) == 5
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), data.mean(axis=0), rtol=1e-4, atol=1e-4)
    within = np.mean([b["x"].var(axis=0) for b in batches], axis=0)  # mean of the batch variances
    np.testing.assert_allclose(bn.moving_variance.numpy(), within, rtol=1e-3)
    assert bn.momentum == pytest.approx(0.99)


def _row(seed: int, student: float) -> imitation.SeedImitation:
    fit = imitation.SplitFit(0.3, 0.1, 0.2)
    return imitation.SeedImitation(seed, fit, imitation.SplitFit(0.5, 0.1, 0.4), 70.0, 90.0, student, 60.0,
                                   imitation.SplitFit(0.2, 0.1, 0.1), student + 2, 61.0, (0.5, 0.3), (0.4, 0.2),
                                   within_pair=(student, 50.0, student + 1, 51.0) if seed else None)


def test_render_has_a_line_per_seed_and_the_mean_and_survives_json(tmp_path):
    rows = [_row(0, 50.0), _row(1, 60.0)]
    text = imitation.render("label", rows)
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + 2 + 1 and lines[-1].startswith("| mean |")
    assert "(x2.00)" in lines[1] and "| 55.0 |" in lines[-1]          # eval / train; mean student
    assert "| - / - |" in lines[1] and "| 60.0 / 50.0 |" in lines[2]  # no pairs for seed 0's row
    path = tmp_path / "imitation.json"
    path.write_text(json.dumps({"label": "label", "rows": [
        imitation.asdict(r) | {"gap": r.gap} for r in rows]}), encoding="utf-8")
    label, loaded = imitation.load_rows(path)
    assert imitation.render(label, loaded) == text


def test_a_store_without_the_models_is_one_error_naming_the_command(tmp_path, capsys):
    code = imitation.main(["--preset", "demo", "--data-root", str(tmp_path / "no_data"),
                           "--results", str(tmp_path), "--seeds", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no trained model" in err and "python -m paper1_ts.run --table 6" in err
