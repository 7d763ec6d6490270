"""Paper-2 training params (presets, epoch accounting) and mixup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from paper2_multirep.cyclic import cosine_lr
from paper2_multirep.mixup import Mixup, beta_sample, mix
from paper2_multirep.params import CyclicParams, TrainParams
from shared.config import ConfigError, load_config, override

PRESETS = Path(__file__).resolve().parents[2] / "paper2_multirep" / "presets"


def test_paper_preset_matches_sec_iv_c():
    p = load_config(TrainParams, PRESETS / "paper.yaml")
    assert (p.optim.learning_rate, p.optim.batch_size, p.optim.epochs) == (0.001, 64, 150)
    assert (p.cyclic.single_epochs, p.cyclic.distill_epochs) == (1, 1)
    assert p.mixup.enabled and p.branch.weights == "imagenet"
    # Q = 150 counts cycles: 150 cycles of b + d = 2 passes; the baseline trains Q passes.
    assert p.num_cycles == 150
    assert p.passes_per_branch() == {"independent": 150, "cyclic": 300}


def test_demo_preset_loads_and_uses_a_small_arch():
    p = load_config(TrainParams, PRESETS / "demo.yaml")
    assert p.branch.arch in ("small_cnn", "small_resnet")
    assert p.num_cycles == p.optim.epochs


def test_epoch_accounting_switches():
    p = override(TrainParams(), {"cyclic": {"epoch_unit": "pass", "independent_budget": "passes"}})
    assert p.num_cycles == 75                      # 150 passes / (b + d)
    assert p.passes_per_branch() == {"independent": 150, "cyclic": 150}
    p = override(TrainParams(), {"cyclic": {"independent_budget": "passes"}})
    assert p.passes_per_branch() == {"independent": 300, "cyclic": 300}
    with pytest.raises(ValueError, match="less than one cycle"):
        _ = override(TrainParams(), {"optim": {"epochs": 1}, "cyclic": {"epoch_unit": "pass"}}).num_cycles


def test_bad_values_are_errors():
    with pytest.raises(ValueError, match="kl_direction 'sideways'"):
        CyclicParams(kl_direction="sideways")
    with pytest.raises(ConfigError, match="unknown key 'temprature'"):
        override(TrainParams(), {"cyclic": {"temprature": 3}})


def test_cosine_lr_is_cosine_annealing():
    assert cosine_lr(0.1, 0.0, 0, 10) == pytest.approx(0.1)
    assert cosine_lr(0.1, 0.0, 5, 10) == pytest.approx(0.05)
    assert cosine_lr(0.1, 0.01, 10, 10) == pytest.approx(0.01)
    lrs = [cosine_lr(1.0, 0.0, s, 8) for s in range(8)]
    assert all(a > b for a, b in zip(lrs, lrs[1:]))


def test_mix_hand_computed():
    x = tf.constant([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    y = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    mx, my = mix([x, y], tf.constant(0.75), tf.constant([1, 2, 0]))
    np.testing.assert_allclose(mx.numpy(), [[0.75, 0.25], [0.5, 1.25], [1.75, 1.5]])
    np.testing.assert_allclose(my.numpy(), [[0.75, 0.25], [0.25, 0.75], [1.0, 0.0]])


def test_mixup_uses_one_lambda_and_partner_for_all_tensors():
    mixer = Mixup(alpha=0.2, seed=3)
    x = tf.eye(6)                                           # row i = e_i, so x' reveals lam and perm
    soft = tf.eye(6) * 2.0
    (mx, msoft), lam, perm = mixer([x, soft])
    lam, perm = float(lam), perm.numpy()
    assert sorted(perm.tolist()) == list(range(6))
    expected = lam * np.eye(6) + (1 - lam) * np.eye(6)[perm]
    np.testing.assert_allclose(mx.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(msoft.numpy(), 2 * expected, atol=1e-6)


def test_beta_draws_follow_beta_alpha_alpha():
    seeds = tf.random.Generator.from_seed(0).make_seeds(3000)  # [2, n]
    draws = np.array([float(beta_sample(seeds[:, i], 0.2)) for i in range(3000)])
    reference = np.random.default_rng(0).beta(0.2, 0.2, 200000)
    assert draws.min() >= 0.0 and draws.max() <= 1.0
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert abs(np.quantile(draws, q) - np.quantile(reference, q)) < 0.06, q


def test_mixup_stream_restores_from_checkpoint(tmp_path):
    mixer = Mixup(alpha=0.2, seed=7)
    mixer.draw(4)
    path = tf.train.Checkpoint(m=mixer).save(str(tmp_path / "ckpt"))
    after = [(float(l), p.numpy().tolist()) for l, p in (mixer.draw(4) for _ in range(3))]
    other = Mixup(alpha=0.2, seed=99)
    tf.train.Checkpoint(m=other).restore(path).assert_consumed()
    again = [(float(l), p.numpy().tolist()) for l, p in (other.draw(4) for _ in range(3))]
    assert after == again
