"""Tests for paper1_ts/train.py with tiny stand-in models (the real models are tested elsewhere)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from paper1_ts import train as tr
from paper1_ts.train_params import TrainParams, TSParams

C, F, T = 10, 4, 6


def _net(name, frames=None, seed=0, head="pool"):
    """Stand-in with dict outputs; `head` "gru" adds a GRU between the shared conv and the pool."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((frames, F))                                          # [B, T, F]
    h = keras.layers.Conv1D(16, 3, padding="same", activation="relu", name="conv")(inp)  # [B, T, 16]
    if head == "gru":
        h = keras.layers.GRU(16, name="gru")(h)                             # [B, 16]
    else:
        h = keras.layers.GlobalAveragePooling1D()(h)                        # [B, 16]
    emb = keras.layers.Dense(8, name="embedding")(h)                        # [B, 8]
    logits = keras.layers.Dense(C, name="logits")(emb)                      # [B, C]
    return keras.Model(inp, {"logits": logits, "embedding": emb}, name=f"{name}_{head}")


def _data(n=40, batch=10, seed=0):
    """Learnable toy task: the class id is written into feature 0 of every frame."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % C
    x = rng.normal(scale=0.1, size=(n, T, F)).astype("float32")
    x[:, :, 0] += labels[:, None] / 3.0
    partner = (np.arange(n) + C) % n                                         # same class
    data = {"x": x, "x_teacher": np.concatenate([x, x[partner]], axis=1),
            "y": np.eye(C, dtype="float32")[labels], "index": np.arange(n)}
    return tf.data.Dataset.from_tensor_slices(data).shuffle(n, seed=seed).batch(batch)


def test_baseline_learns_and_reports_history():
    params = TrainParams(epochs=8, learning_rate=1e-2)
    hist = tr.train_baseline(_net("base"), _data(), params)
    assert set(hist) == {"loss", "accuracy"}
    assert len(hist["loss"]) == 8
    assert hist["loss"][-1] < hist["loss"][0] - 0.1
    assert tr.history_summary(hist)["loss"] == hist["loss"][-1]


def test_teacher_trains_on_concatenated_or_base_input():
    params = TrainParams(epochs=1)
    # fixed-length models: each accepts only the input length it is meant to receive
    hist = tr.train_teacher(_net("t20", frames=2 * T), _data(), params, TSParams(teacher_train_input="concat"))
    assert len(hist["loss"]) == 1
    hist = tr.train_teacher(_net("t10", frames=T), _data(), params, TSParams(teacher_train_input="base"))
    assert len(hist["loss"]) == 1
    with pytest.raises(Exception):
        tr.train_teacher(_net("wrong", frames=T), _data(), params, TSParams(teacher_train_input="concat"))


def _copy_by_name(calls):
    def copy(src, dst):
        calls.append((src.name, dst.name))
        for layer in src.layers:
            if layer.weights and layer.name in {l.name for l in dst.layers}:
                target = dst.get_layer(layer.name)
                if [w.shape for w in target.weights] == [w.shape for w in layer.weights]:
                    target.set_weights(layer.get_weights())
    return copy


def test_two_step_runs_both_steps_and_copies():
    calls, at_copy = [], []
    pool, gru = _net("cnn", head="pool", seed=1), _net("cnn", head="gru", seed=2)
    pool_init = pool.get_layer("conv").get_weights()[0].copy()
    copy = _copy_by_name(calls)

    def recording_copy(src, dst):
        copy(src, dst)
        at_copy.append(dst.get_layer("conv").get_weights()[0].copy())

    params = TrainParams(pool_epochs=2, gru_epochs=1)
    out = tr.train_two_step_cnn_gru(pool, gru, recording_copy, _data(), params)
    assert calls == [("cnn_pool", "cnn_gru")]
    assert len(out["step1"]["loss"]) == 2 and len(out["step2"]["loss"]) == 1
    pool_final = pool.get_layer("conv").get_weights()[0]
    assert not np.allclose(pool_final, pool_init)            # step 1 trained the CNN
    np.testing.assert_array_equal(at_copy[0], pool_final)     # step 2 started from step 1's CNN
    assert not np.allclose(gru.get_layer("conv").get_weights()[0], at_copy[0])  # and trained it


# In "hidden" mode the student's output layer gets no gradient (Eq. 5 only); Keras warns.
@pytest.mark.filterwarnings("ignore:Gradients do not exist")
def test_student_ts_trains_only_student_and_two_step_variant():
    teacher = _net("teacher", seed=3)
    tr.train_teacher(teacher, _data(), TrainParams(epochs=2), TSParams())
    frozen = [w.numpy().copy() for w in teacher.weights]
    student = _net("student", seed=4)
    hist = tr.train_student_ts(teacher, student, _data(), TrainParams(epochs=2), TSParams(loss="output"))
    assert {"loss", "ts_output_loss", "accuracy"} <= set(hist)
    assert "ts_hidden_loss" not in hist
    calls = []
    out = tr.train_student_ts_two_step(teacher, _net("s", head="pool", seed=5), _net("s", head="gru", seed=6),
                                       _copy_by_name(calls), _data(), TrainParams(pool_epochs=1, gru_epochs=1),
                                       TSParams(loss="hidden"))
    assert calls == [("s_pool", "s_gru")] and "ts_hidden_loss" in out["step2"]
    for before, w in zip(frozen, teacher.weights):
        np.testing.assert_array_equal(before, w.numpy())


def test_steps_per_epoch_caps_an_epoch():
    hist = tr.train_baseline(_net("cap"), _data().repeat(), TrainParams(epochs=2, steps_per_epoch=2))
    assert len(hist["loss"]) == 2


def test_train_params_validation():
    with pytest.raises(ValueError, match="epochs"):
        TrainParams(epochs=0)
    with pytest.raises(ValueError, match="loss"):
        TSParams(loss="logits")
    with pytest.raises(ValueError, match="teacher_query"):
        TSParams(teacher_query="30s")


def test_cosine_schedule_values_and_validation():
    from paper1_ts.train_params import epoch_learning_rate
    constant = TrainParams(learning_rate=1e-3)
    assert [epoch_learning_rate(constant, e, 4) for e in range(4)] == [1e-3] * 4
    cosine = TrainParams(learning_rate=1e-3, lr_schedule="cosine")
    rates = [epoch_learning_rate(cosine, e, 4) for e in range(4)]
    np.testing.assert_allclose(rates, [1e-3, 0.8536e-3, 0.5e-3, 0.1464e-3], rtol=1e-3)
    with pytest.raises(ValueError, match="lr_schedule 'step' unknown"):
        TrainParams(lr_schedule="step")


def test_cosine_schedule_trains_at_the_rate_of_each_epoch_and_resumes_on_it(tmp_path):
    params = TrainParams(epochs=4, learning_rate=1e-2, lr_schedule="cosine")
    hist = tr.train_baseline(_net("cos"), _data(), params)
    np.testing.assert_allclose(hist["learning_rate"], [1e-2, 0.8536e-2, 0.5e-2, 0.1464e-2], rtol=1e-3)
    # a run that crashes at the start of its third epoch, resumed from its checkpoint, continues the schedule
    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("crash")
    with pytest.raises(RuntimeError, match="crash"):
        tr.train_baseline(_net("cos_ckpt"), _data(), params, checkpoint_dir=tmp_path, callbacks=[Crash()])
    resumed = tr.train_baseline(_net("cos_ckpt"), _data(), params, checkpoint_dir=tmp_path)
    np.testing.assert_allclose(resumed["learning_rate"], hist["learning_rate"], rtol=1e-6)
