"""Cyclic distillation (Algorithm 1) and the independent baseline on small synthetic data."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from paper2_multirep.branches import build_branch
from paper2_multirep.cyclic import (BranchData, CyclicDistiller, clip_soft_labels,
                                    cosine_lr, train_independent)
from paper2_multirep.params import TrainParams
from shared import metrics
from shared.config import override

N, C, F, K = 48, 4, 16, 8   # clips, classes, frames, bins


def _labels(seed=0):
    return np.random.default_rng(seed).integers(0, C, N)


def _features(labels, shift, seed):
    """Separable synthetic 'representation': class c lifts bins 2c, 2c+1 -> [N, F, K, 3]."""
    x = np.random.default_rng(seed).normal(size=(len(labels), F, K, 3)).astype("float32")
    for i, label in enumerate(labels):
        x[i, :, 2 * label:2 * label + 2, :] += 2.0 + shift
    return x


def _ds(x, labels, batch=8, shuffle_seed=None):
    """Batched dicts; shuffle_seed = pass index gives an order independent of TF's global seed."""
    order = np.arange(len(x))
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(x))
    return tf.data.Dataset.from_tensor_slices(
        {"x": x[order], "y": np.eye(C, dtype="float32")[labels[order]],
         "index": order.astype("int32")}).batch(batch)


def _params(**changes):
    base = {"branch": {"arch": "small_cnn", "weights": "none", "small_filters": [8, 16]},
            "optim": {"learning_rate": 0.05, "epochs": 2, "batch_size": 16}}
    for key, value in changes.items():
        base.setdefault(key, {}).update(value)
    return override(TrainParams(), base)


def _group(params, labels, seed=0):
    keras.utils.set_random_seed(seed)
    xs = [_features(labels, 0.0, 1), _features(labels, 0.5, 2)]
    models = [build_branch(params.branch, (F, K, 3), C, name=f"b{i}", quiet=True).model for i in range(2)]
    data = [BranchData(train=lambda p, x=x: _ds(x, labels, shuffle_seed=p), soft=_ds(x, labels),
                       name=f"rep{i}") for i, x in enumerate(xs)]
    return models, data, xs


def test_two_branch_cyclic_run_learns_follows_algorithm_1_and_resumes(tmp_path):
    labels = _labels()
    params = _params()
    models, data, xs = _group(params, labels)
    distiller = CyclicDistiller(models, data, N, C, params, seed=0, log=lambda s: None)
    ckpt = str(tmp_path / "ckpt")
    history = distiller.run(ckpt, max_to_keep=10)   # saved after every phase: ckpt-1 .. ckpt-6
    # Order per cycle: CE pass of every branch, then a distillation pass of every branch.
    assert [(r["cycle"], r["phase"], r["branch"]) for r in history] == [
        (q, phase, b) for q in range(2) for phase in ("single", "distill") for b in range(2)]
    assert all(r["kl"] == 0.0 for r in history if r["phase"] == "single")
    assert all(r["kl"] > 0.0 for r in history if r["phase"] == "distill")
    # The learning rate is updated once per cycle (cosine over the cycles).
    assert [r["lr"] for r in history[::4]] == pytest.approx([cosine_lr(0.05, 0.0, q, 2) for q in range(2)])
    # Soft labels are distributions, and P_bar is their mean (Eq. 3) shared by the branches.
    for p in distiller.last_soft_labels:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(distiller.aggregate.numpy(), np.mean(distiller.last_soft_labels, axis=0),
                               atol=1e-6)
    assert all(t.aggregate is distiller.aggregate for t in distiller.trainers)
    outs = distiller.evaluate([_ds(x, labels) for x in xs], N)
    for out in outs:
        assert metrics.accuracy(out.probs, labels) > 0.5      # chance is 0.25
    ensemble = metrics.ensemble([o.probs for o in outs])
    assert metrics.map_at_3(ensemble, labels) > 0.6
    # Fault tolerance: a fresh group (other random weights) restored from the checkpoint
    # taken after the second cycle's fusion (ckpt-5) trains only the remaining distillation passes
    # and ends where the uninterrupted run ended (same data order and mixup stream).
    models2, data2, _ = _group(params, labels, seed=1)
    resumed = CyclicDistiller(models2, data2, N, C, params, seed=0, log=lambda s: None)
    resumed.state_checkpoint().restore(f"{ckpt}/ckpt-5").assert_consumed()
    assert (int(resumed.cycle.numpy()), int(resumed.phase.numpy())) == (1, 2)
    np.testing.assert_allclose(resumed.aggregate.numpy(), distiller.aggregate.numpy(), atol=1e-7)
    rest = resumed.run()
    assert [(r["cycle"], r["phase"], r["pass"]) for r in rest] == [(1, "distill", 3), (1, "distill", 3)]
    for a, b in zip(models, models2):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, atol=1e-5)


def test_fusion_averages_crops_per_clip_in_inference_mode():
    labels = _labels()
    params = _params(cyclic={"temperature": 3.0})
    models, data, xs = _group(params, labels)
    # Two different crops per clip, interleaved and out of order.
    extra = [_features(labels, 0.2, 7 + i) for i in range(2)]
    for i in range(2):
        both = {"x": np.concatenate([extra[i], xs[i]]),
                "y": np.eye(C, dtype="float32")[np.concatenate([labels, labels])],
                "index": np.concatenate([np.arange(N), np.arange(N)]).astype("int32")}
        data[i].soft = tf.data.Dataset.from_tensor_slices(both).shuffle(2 * N, seed=3).batch(10)
    distiller = CyclicDistiller(models, data, N, C, params, seed=0, log=lambda s: None)
    p_bar = distiller.fuse()
    expected = []
    for i in range(2):
        z1 = models[i](xs[i], training=False).numpy() / 3.0
        z2 = models[i](extra[i], training=False).numpy() / 3.0
        soft = lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        expected.append((soft(z1) + soft(z2)) / 2)
    np.testing.assert_allclose(p_bar, np.mean(expected, axis=0), atol=1e-5)
    # The other reading: softmax of the clip's mean logits / T.
    other = clip_soft_labels(distiller.trainers[0], data[0].soft, N, 3.0, average="logits")
    z = (models[0](xs[0], training=False).numpy() + models[0](extra[0], training=False).numpy()) / 6.0
    np.testing.assert_allclose(other, soft(z), atol=1e-5)


def test_independent_baseline_is_ce_only():
    labels = _labels()
    params = _params(optim={"epochs": 3})
    models, data, xs = _group(params, labels)
    data = [BranchData(train=d.train, name=d.name) for d in data]   # no soft datasets needed
    trained = train_independent(models[:1], data[:1], N, C, params, seed=0, log=lambda s: None)
    assert trained.aggregate is None
    assert [r["phase"] for r in trained.history] == ["independent"] * params.independent_passes
    assert all(r["kl"] == 0.0 and r["loss"] == pytest.approx(r["ce"]) for r in trained.history)
    out = trained.evaluate([_ds(xs[0], labels)], N)[0]
    assert metrics.accuracy(out.probs, labels) > 0.5


def test_cyclic_needs_two_branches_and_soft_data():
    labels = _labels()
    params = _params()
    models, data, _ = _group(params, labels)
    with pytest.raises(ValueError, match="at least 2 branches"):
        CyclicDistiller(models[:1], data[:1], N, C, params)
    with pytest.raises(ValueError, match="BranchData.soft"):
        CyclicDistiller(models, [BranchData(train=d.train) for d in data], N, C, params)

