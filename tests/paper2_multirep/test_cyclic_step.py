"""The per-branch train step of cyclic distillation: L_ce, and L_ce + L_kl against P_bar[index]."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from paper2_multirep.branches import build_branch
from paper2_multirep.cyclic import BranchTrainer
from shared import losses

# Shared synthetic data helpers of test_cyclic.py (tests are not a package).
_spec = importlib.util.spec_from_file_location("p2_cyclic_helpers", Path(__file__).with_name("test_cyclic.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
N, C, F, K = _helpers.N, _helpers.C, _helpers.F, _helpers.K
_labels, _features, _ds, _params = _helpers._labels, _helpers._features, _helpers._ds, _helpers._params


def _kl_step_metrics(stub: np.ndarray, distill: float):
    """One full-batch step at lr ~ 0 (no mixup) with P_bar stubbed; returns (metrics, x, y, branch)."""
    labels = _labels()
    params = _params(mixup={"enabled": False}, optim={"learning_rate": 1e-12},
                     cyclic={"temperature": 2.0})
    keras.utils.set_random_seed(0)
    branch = build_branch(params.branch, (F, K, 3), C, quiet=True).model
    aggregate = tf.Variable(stub.astype("float32"))
    trainer = BranchTrainer(branch, params, seed=0, aggregate=aggregate)
    trainer.compile(optimizer=keras.optimizers.SGD(1e-12))
    trainer.distill.assign(distill)
    x = _features(labels, 0.0, 1)
    hist = trainer.fit(_ds(x, labels, batch=N), epochs=1, verbose=0, shuffle=False)
    return {k: v[-1] for k, v in hist.history.items()}, x, labels, branch


def test_distillation_step_uses_the_aggregated_soft_labels():
    rng = np.random.default_rng(5)
    stub = rng.dirichlet(np.ones(C), size=N)                   # P_bar looked up by clip index
    got, x, labels, branch = _kl_step_metrics(stub, distill=1.0)
    logits = branch(x, training=True)                          # weights unchanged at lr ~ 0
    kl = losses.paper2_kl(tf.nn.softmax(logits / 2.0), tf.constant(stub, tf.float32))
    ce = losses.hard_cross_entropy(tf.constant(np.eye(C, dtype="float32")[labels]), logits)
    assert got["kl"] == pytest.approx(float(kl), rel=1e-4)
    assert got["ce"] == pytest.approx(float(ce), rel=1e-4)
    assert got["loss"] == pytest.approx(float(kl) + float(ce), rel=1e-4)
    # Another aggregate gives another KL: the step really reads P_bar[index].
    other, *_ = _kl_step_metrics(stub[::-1].copy(), distill=1.0)
    assert abs(other["kl"] - got["kl"]) > 1e-3


def test_single_branch_phase_ignores_the_aggregate():
    stub = np.full((N, C), 1.0 / C)
    got, x, labels, branch = _kl_step_metrics(stub, distill=0.0)
    assert got["kl"] == 0.0
    assert got["loss"] == pytest.approx(got["ce"])
