"""paper1_ts/imitation.py: the imitation measures on known arrays, the BatchNorm
re-estimate on a tiny model, the table and its JSON round trip, and the error for a
store that lacks the models."""

from __future__ import annotations

import json
from dataclasses import replace

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


def test_pair_axis_finds_evidence_on_a_weak_axis_and_a_student_that_misses_it():
    """Two pairs (classes 0/1, 2/3): the pairs differ strongly on dim 0, the classes inside a
    pair only by +-0.5 on dim 1 (a small share of the variance). A student that copies dim 0
    and drops dim 1 has the pair's d' near 0 and relative error 1 on the pair axis."""
    rng = np.random.default_rng(0)
    family = np.array([0, 0, 1, 1])

    def clips(n):
        labels = np.repeat(np.arange(4), n)
        target = np.zeros((4 * n, 3))
        target[:, 0] = 10.0 * family[labels]
        target[:, 1] = np.where(labels % 2 == 0, 0.5, -0.5)
        return target + 0.1 * rng.standard_normal(target.shape), labels

    train, train_labels = clips(50)
    target, labels = clips(40)
    exact = imitation.pair_axis(train, target, train, target, train_labels, labels, family)
    assert exact.teacher_dprime == pytest.approx(exact.on_teacher_axis) and exact.teacher_dprime > 5
    assert exact.own > 5 and exact.relative_error == 0.0
    # each pair's classes sit at +-0.5 on dim 1: dropping that offset costs 0.25 per clip, against
    # a total variance of 25 (dim 0: 0 or 10 by family) + 0.25 (dim 1) + 3 x 0.01 (noise)
    assert exact.offset_share == pytest.approx(0.25 / (25 + 0.25 + 3 * 0.01), rel=0.05)
    assert exact.offset == pytest.approx(1.0) and exact.offset_train == pytest.approx(1.0)
    half = target.copy()
    half[:, 1] *= 0.5                                   # half the pair's offset on evaluation clips only
    halved = imitation.pair_axis(train, half, train, target, train_labels, labels, family)
    assert halved.offset == pytest.approx(0.5, abs=0.02) and halved.offset_train == pytest.approx(1.0)

    def drop_dim_1(x):
        x = x.copy()
        x[:, 1] = 0.1 * rng.standard_normal(len(x))
        return x

    miss = imitation.pair_axis(drop_dim_1(train), drop_dim_1(target), train, target, train_labels, labels, family)
    assert abs(miss.on_teacher_axis) < 0.5 and abs(miss.own) < 0.5 and abs(miss.offset) < 0.1
    assert miss.relative_error == pytest.approx(1.0, abs=0.1)
    assert miss.teacher_dprime == pytest.approx(exact.teacher_dprime)
    # the evidence on another axis (dim 2, rotated away from the teacher's): own axis finds it
    rotated_train, rotated = drop_dim_1(train), drop_dim_1(target)
    rotated_train[:, 2], rotated[:, 2] = train[:, 1], target[:, 1]
    moved = imitation.pair_axis(rotated_train, rotated, train, target, train_labels, labels, family)
    assert abs(moved.on_teacher_axis) < 0.5 and moved.own > 5


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


def test_batchnorm_reestimated_puts_the_moving_statistics_back():
    import keras
    rng = np.random.default_rng(1)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
    before = model.get_layer("bn").moving_mean.numpy().copy()
    batches = [{"x": (3.0 + rng.standard_normal((8, 4))).astype("float32")} for _ in range(3)]
    with imitation.batchnorm_reestimated(model, batches) as count:
        assert count == 3 and np.all(model.get_layer("bn").moving_mean.numpy() > 2.0)
    np.testing.assert_array_equal(model.get_layer("bn").moving_mean.numpy(), before)


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


def test_the_pair_table_is_rendered_when_every_row_has_it_and_survives_json(tmp_path):
    axis = imitation.PairAxis(0.02, 3.0, 1.0, 2.0, 0.5, 0.3, 0.8)
    rows = [replace(_row(s, 50.0 + s), pair_student=axis,
                    pair_one_hot=imitation.PairAxis(0.02, 3.0, 0.1, 2.5, 0.9, 0.0, 0.0)) for s in (1, 2)]
    text = imitation.render("label", rows)
    assert "Along the confusable pairs' axes" in text
    assert "| mean | 0.020 | 3.00 | 1.00 | 2.00 / 2.50 | 0.50 | 0.80 / 0.30 |" in text
    path = tmp_path / "imitation.json"
    path.write_text(json.dumps({"label": "label", "rows": [
        imitation.asdict(r) | {"gap": r.gap} for r in rows]}), encoding="utf-8")
    assert imitation.render(*imitation.load_rows(path)) == text
    assert "pairs' axes" not in imitation.render("label", [_row(1, 50.0)])     # files written before


def test_a_store_without_the_models_is_one_error_naming_the_command(tmp_path, capsys):
    code = imitation.main(["--preset", "demo", "--data-root", str(tmp_path / "no_data"),
                           "--results", str(tmp_path), "--seeds", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no trained model" in err and "python -m paper1_ts.run --table 6" in err
