"""Tests for paper1_ts/distill.py with tiny stand-in models (no dependency on the real ones)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from paper1_ts.distill import TeacherStudent
from paper1_ts.train import make_teacher_student
from paper1_ts.train_params import TrainParams, TSParams
from tests.paper1_ts.standins import standin, tiny_batches


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _expected_loss(teacher, student, batch, ts: TSParams) -> float:
    """The TS loss written out in numpy from the two models' raw outputs."""
    t_in = batch["x_teacher"] if ts.teacher_query == "concat" else batch["x"]
    t_out = {k: np.asarray(v, dtype=np.float64) for k, v in teacher(t_in, training=False).items()}
    if ts.teacher_signal == "permuted":      # clip i learns from clip i - 1's teacher outputs
        t_out = {k: np.roll(v, 1, axis=0) for k, v in t_out.items()}
    s_out = {k: np.asarray(v, dtype=np.float64) for k, v in student(batch["x"], training=False).items()}
    total = 0.0
    if ts.loss in ("output", "both"):
        if ts.teacher_mode == "as_printed":
            p_t = _softmax(_softmax(t_out["logits"]) / ts.temperature)
        else:
            p_t = _softmax(t_out["logits"] / ts.temperature)
        log_q = np.log(_softmax(s_out["logits"]))
        total += ts.output_weight * np.mean(-np.sum(p_t * log_q, axis=1))
    if ts.loss in ("hidden", "both"):
        total += ts.hidden_weight * np.mean((t_out["embedding"] - s_out["embedding"]) ** 2)
    return float(total)


@pytest.fixture(scope="module")
def models():
    return standin("teacher", 1), standin("student", 2)


@pytest.mark.parametrize("loss", ["output", "hidden", "both"])
@pytest.mark.parametrize("mode", ["as_printed", "hinton"])
def test_loss_matches_hand_computation(models, loss, mode):
    teacher, student = models
    ts = TSParams(loss=loss, temperature=5.0, teacher_mode=mode)
    trainer = TeacherStudent(teacher, student, ts)
    batch = next(iter(tiny_batches()))
    got = float(trainer.compute_loss(x=batch, y_pred=trainer(batch, training=False), training=False))
    assert got == pytest.approx(_expected_loss(teacher, student, batch, ts), rel=1e-5)
    assert got > 0


def _sharpen(model, factor):
    """Scales the logits layer so that an untrained stand-in gives peaked outputs."""
    layer = model.get_layer("logits")
    layer.set_weights([w * factor for w in layer.get_weights()])
    return model


def test_modes_and_queries_give_different_losses():
    teacher, student = _sharpen(standin("teacher", 5), 50.0), _sharpen(standin("student", 6), 10.0)
    batch = next(iter(tiny_batches()))

    def loss_of(**kw):
        tr = TeacherStudent(teacher, student, TSParams(**kw))
        return float(tr.compute_loss(x=batch, y_pred=tr(batch), training=False))

    printed, hinton = loss_of(teacher_mode="as_printed", temperature=1.0), loss_of(teacher_mode="hinton", temperature=1.0)
    concat, base = loss_of(teacher_query="concat"), loss_of(teacher_query="base")
    assert abs(printed - hinton) > 1e-2
    assert abs(concat - base) > 1e-3
    ts_base = TSParams(teacher_query="base")
    assert base == pytest.approx(_expected_loss(teacher, student, batch, ts_base), rel=1e-5)
    both = loss_of(loss="both")
    assert both == pytest.approx(loss_of(loss="output") + loss_of(loss="hidden"), rel=1e-5)


@pytest.mark.parametrize("loss", ["output", "hidden", "both"])
def test_permuted_teacher_signal_is_another_clips(loss):
    # Negative control (register p1-teacher-signal): logits AND embedding of clip i - 1.
    teacher, student = _sharpen(standin("teacher", 5), 50.0), _sharpen(standin("student", 6), 10.0)
    batch = next(iter(tiny_batches()))
    matched = TeacherStudent(teacher, student, TSParams(loss=loss, temperature=1.0))
    permuted = TeacherStudent(teacher, student, TSParams(loss=loss, temperature=1.0, teacher_signal="permuted"))
    own, other = matched.teacher_outputs(batch), permuted.teacher_outputs(batch)
    for name in ("logits", "embedding"):
        own_v, other_v = np.asarray(own[name]), np.asarray(other[name])
        np.testing.assert_array_equal(other_v, np.roll(own_v, 1, axis=0))
        assert all(not np.allclose(other_v[i], own_v[i]) for i in range(len(own_v)))  # no clip keeps its own
    y_pred = student(batch["x"], training=False)
    got = float(permuted.compute_loss(x=batch, y_pred=y_pred, training=False))
    assert got == pytest.approx(_expected_loss(teacher, student, batch, permuted.ts), rel=1e-5)
    assert abs(got - float(matched.compute_loss(x=batch, y_pred=y_pred, training=False))) > 1e-2


@pytest.mark.parametrize("signal", ["matched", "permuted"])
def test_teacher_frozen_student_trains(signal):
    teacher, student = standin("teacher", 3), standin("student", 4)
    teacher_before = [w.numpy().copy() for w in teacher.weights]   # includes BN moving stats
    student_before = [w.numpy().copy() for w in student.trainable_weights]
    trainer = make_teacher_student(teacher, student, TrainParams(epochs=1),
                                   TSParams(loss="both", teacher_signal=signal))
    hist = trainer.fit(tiny_batches(), epochs=2, verbose=0, shuffle=False)
    assert not teacher.trainable
    assert len(trainer.trainable_weights) == len(student.trainable_weights)
    for before, w in zip(teacher_before, teacher.weights):
        np.testing.assert_array_equal(before, w.numpy(), err_msg=w.path)
    moved = [not np.array_equal(b, w.numpy()) for b, w in zip(student_before, student.trainable_weights)]
    assert all(moved)
    for key in ("loss", "ts_output_loss", "ts_hidden_loss", "accuracy"):
        assert key in hist.history and np.all(np.isfinite(hist.history[key]))
    # "loss" is the sum of the two unit-weight terms (per-epoch means)
    np.testing.assert_allclose(hist.history["loss"],
                               np.add(hist.history["ts_output_loss"], hist.history["ts_hidden_loss"]),
                               rtol=1e-5)


def test_missing_teacher_input_is_a_clear_error(models):
    teacher, student = models
    trainer = TeacherStudent(teacher, student, TSParams())
    batch = next(iter(tiny_batches()))
    del batch["x_teacher"]
    with pytest.raises(KeyError, match="x_teacher"):
        trainer.compute_loss(x=batch, y_pred=trainer(batch))
    with pytest.raises(ValueError, match="different models"):
        TeacherStudent(teacher, teacher, TSParams())


SCRIPT = textwrap.dedent("""
    import json, sys
    from shared.distribute import DistributeParams, make_strategy
    kind, cpus = sys.argv[1], int(sys.argv[2])
    strategy = make_strategy(DistributeParams(kind=kind, logical_cpus=cpus))
    from paper1_ts.train import train_student_ts
    from paper1_ts.train_params import TrainParams, TSParams
    from tests.paper1_ts.standins import standin, tiny_batches   # imports keras: after the devices
    with strategy.scope():
        teacher, student = standin("teacher", 1), standin("student", 2, bn=False)
    hist = train_student_ts(teacher, student, tiny_batches(n=16, batch=8), TrainParams(epochs=3),
                            TSParams(loss="both"), strategy=strategy)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "loss": hist["loss"]}))
""")


def test_mirrored_two_cpus_matches_one_device(run_script_json):
    single, mirrored = run_script_json(SCRIPT, "default", "0"), run_script_json(SCRIPT, "mirrored", "2")
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    # Same global batch and initial weights; the student has no BatchNorm (whose batch
    # statistics would be per replica), the frozen teacher's BN runs in inference mode.
    # A missing 1/replicas loss scaling doubles the step and breaks this bound.
    np.testing.assert_allclose(single["loss"], mirrored["loss"], rtol=1e-5)
