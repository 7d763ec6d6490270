"""Integration: the paper 1 trainers and SVM back-end with the real (demo-size) models.

Random inputs of the right shapes stand in for the pipeline's batches; the point is
that the builders' dict outputs, the two-step weight copy, a length-agnostic teacher
on concatenated inputs, the TS trainer and the back-end fit together.

Each case runs in a fresh process: with TensorFlow 2.21's oneDNN CPU kernels the
gradient of a 1x1 convolution with stride 2 (the CNN-GRU's projection shortcuts)
corrupts memory and kills the process (see test_cnn_gru_with_onednn), and a crash must
not take the whole pytest session down. About 30 s of CPU per case, so all are marked
slow: run them with `-m slow`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 30 * 60      # a hang guard only, not a speed check: far above this child's time on a busy machine

COMMON = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np, tensorflow as tf
    from paper1_ts import backend_svm as be
    from paper1_ts import train as tr
    from paper1_ts.model_params import demo_params
    from paper1_ts.models import build_cnn_gru, build_raw_cnn, copy_cnn_weights
    from paper1_ts.train_params import SVMParams, TrainParams, TSParams
    from shared.config import override
    warnings.filterwarnings("ignore", message="Gradients do not exist")
    N, C = 10, 10

    def batches(shape, batch=5):
        rng = np.random.default_rng(0)
        labels = np.arange(N) % C
        x = rng.normal(size=(N, *shape)).astype("float32")
        partner = (np.arange(N) + 1) % N
        data = {"x": x, "x_teacher": np.concatenate([x, x[partner]], axis=1),
                "y": np.eye(C, dtype="float32")[labels], "index": np.arange(N)}
        return tf.data.Dataset.from_tensor_slices(data).batch(batch)

    def weights(m):
        return [w.numpy().copy() for w in m.weights]
""")

CNN_GRU = COMMON + textwrap.dedent("""
    p = override(demo_params().cnn_gru, {"input_frames": 24, "input_bins": 16}, "test")
    p_teacher = override(p, {"input_frames": None}, "test")          # any length: 48 joined frames
    ds = batches((24, 16, 2))
    params = TrainParams(pool_epochs=1, gru_epochs=1, epochs=1)
    ts = TSParams(loss="both", temperature=5.0)
    t_pool, t_gru = build_cnn_gru(p_teacher, "pool", "t_pool"), build_cnn_gru(p_teacher, "gru", "t_gru")
    hist_t = tr.train_teacher_two_step(t_pool, t_gru, copy_cnn_weights, ds, params, ts)
    frozen = weights(t_gru)
    s_pool, s_gru = build_cnn_gru(p, "pool", "s_pool"), build_cnn_gru(p, "gru", "s_gru")
    before = [w.numpy().copy() for w in s_gru.trainable_weights]
    hist_s = tr.train_student_ts_two_step(t_gru, s_pool, s_gru, copy_cnn_weights, ds, params, ts)
    emb = be.extract_embeddings(s_gru, ds)
    scores = be.svm_backend(emb, emb, SVMParams(), n_classes=C)
    print(json.dumps({
        "teacher_loss": hist_t["step2"]["loss"], "student_keys": sorted(hist_s["step2"]),
        "student_loss": hist_s["step2"]["loss"],
        "teacher_frozen": all(np.array_equal(a, b) for a, b in zip(frozen, weights(t_gru))),
        "student_moved": any(not np.array_equal(a, w.numpy()) for a, w in zip(before, s_gru.trainable_weights)),
        "emb_shape": list(emb.vectors.shape), "scores_shape": list(scores.shape),
        "embedding_units": p.embedding_units}))
""")

RAW = COMMON + textwrap.dedent("""
    p = override(demo_params().raw_cnn, {"input_length": 12 * 3 ** 7, "conv1_filters": 8,
                                         "res_filters": [8] * 7}, "test")   # smallest length for 7 pools
    p_teacher = override(p, {"input_length": None}, "test")
    ds = batches((p.input_length, p.channels))
    teacher = build_raw_cnn(p_teacher, name="raw_teacher")
    hist_t = tr.train_teacher(teacher, ds, TrainParams(epochs=1), TSParams())
    frozen = weights(teacher)
    student = build_raw_cnn(p, name="raw_student")
    hist_s = tr.train_student_ts(teacher, student, ds, TrainParams(epochs=1), TSParams(teacher_mode="hinton"))
    t_emb = be.extract_embeddings(teacher, ds, input_key="x_teacher")   # Fig. 1: long inputs
    print(json.dumps({
        "teacher_loss": hist_t["loss"], "student_keys": sorted(hist_s), "student_loss": hist_s["loss"],
        "teacher_frozen": all(np.array_equal(a, b) for a, b in zip(frozen, weights(teacher))),
        "student_moved": True, "emb_shape": list(t_emb.vectors.shape), "scores_shape": [N, C],
        "embedding_units": p.embedding_units}))
""")


def _run(script: str, onednn: bool) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               TF_ENABLE_ONEDNN_OPTS="1" if onednn else "0")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-3000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(res: dict, ts_keys: set) -> None:
    assert all(v == v and abs(v) < 1e6 for v in res["teacher_loss"] + res["student_loss"])
    assert ts_keys <= set(res["student_keys"])
    assert res["teacher_frozen"] and res["student_moved"]
    assert res["emb_shape"] == [10, res["embedding_units"]]
    assert res["scores_shape"] == [10, 10]


@pytest.mark.slow
def test_cnn_gru_two_step_teacher_student_and_svm():
    # With TensorFlow's default oneDNN kernels on: the model's strided projection
    # shortcuts are built so that they do not hit the crashing kernel
    # (paper1_ts/models/blocks.py `projection`, register p1-onednn-shortcut).
    _check(_run(CNN_GRU, onednn=True), {"ts_output_loss", "ts_hidden_loss"})


@pytest.mark.slow
def test_raw_cnn_teacher_on_joined_waveforms_and_student():
    _check(_run(RAW, onednn=True), {"ts_output_loss"})
