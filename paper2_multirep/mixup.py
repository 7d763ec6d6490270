"""Mixup (Zhang et al. 2018, paper 2 ref. [63]) inside the train step, with checkpointable RNG.

Paper 2 uses mixup in every experiment (Sec. IV-C) without giving alpha or saying how
it meets the distillation targets. The kit's reading (register p2-mixup):
  lambda ~ Beta(alpha, alpha), one lambda per (per-replica) batch, partner = a random
  permutation of the batch; the features, the one-hot labels AND the aggregated soft
  labels P_bar of the distillation phase are all mixed with the same lambda and partner:
      x' = lambda x + (1 - lambda) x[perm]      (same for y and P_bar)

The random state lives in a tf.random.Generator held by a tf.Module, so a
tf.train.Checkpoint that holds the `Mixup` object restores the exact stream of lambdas
and permutations. Created inside a tf.distribute strategy scope, each replica draws
its own stream.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf


def beta_sample(seed, alpha: float):
    """One draw of Beta(alpha, alpha) from a stateless seed [2] -> float32 scalar.

    Beta(a, a) = G1 / (G1 + G2) with G1, G2 ~ Gamma(a) independent, drawn in float64
    (small alpha puts mass near 0, where float32 gammas can underflow to 0/0).
    """
    gammas = tf.random.stateless_gamma([2], seed=seed, alpha=alpha, dtype=tf.float64)  # [2]
    total = tf.maximum(gammas[0] + gammas[1], 1e-300)
    return tf.cast(gammas[0] / total, tf.float32)


def random_permutation(seed, size):
    """A permutation of range(size) from a stateless seed [2] -> [size] int32."""
    keys = tf.random.stateless_uniform(tf.reshape(size, [1]), seed=seed)          # [size]
    return tf.argsort(keys, stable=True)                                            # [size]


def mix(tensors: Sequence[tf.Tensor], lam, perm) -> list[tf.Tensor]:
    """Mixes every tensor of a batch with its permuted self: lam * t + (1 - lam) * t[perm].

    Args:
      tensors: tensors sharing the batch axis 0, e.g. x [B, F, K, 3], y [B, C], P_bar [B, C].
      lam: scalar mixing weight in [0, 1].
      perm: [B] partner index of each example.
    """
    out = []
    for t in tensors:
        lam_t = tf.cast(lam, t.dtype)
        out.append(lam_t * t + (1.0 - lam_t) * tf.gather(t, perm))                 # same shape as t
    return out


class Mixup(tf.Module):
    """Draws (lambda, permutation) per batch from a checkpointable generator and mixes."""

    def __init__(self, alpha: float, seed: int, name: str = "mixup"):
        super().__init__(name=name)
        if alpha <= 0:
            raise ValueError(f"mixup alpha must be > 0, got {alpha}")
        self.alpha = float(alpha)
        self.generator = tf.random.Generator.from_seed(int(seed))

    def draw(self, batch_size):
        """(lambda scalar, perm [batch_size]) for one batch; advances the generator."""
        seeds = self.generator.make_seeds(2)                                       # [2, 2]
        lam = beta_sample(seeds[:, 0], self.alpha)
        perm = random_permutation(seeds[:, 1], batch_size)
        return lam, perm

    def __call__(self, tensors: Sequence[tf.Tensor]):
        """Mixes a batch; returns (mixed tensors, lambda, perm)."""
        batch_size = tf.shape(tensors[0])[0]
        lam, perm = self.draw(batch_size)
        return mix(tensors, lam, perm), lam, perm


__all__ = ["Mixup", "beta_sample", "mix", "random_permutation"]
