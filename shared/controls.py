"""Negative controls: a teacher signal moved to another clip, so it carries no information
about the clip it trains.

These are controls of the kit, not readings of either paper (registers
p1-teacher-signal, p2-aggregate-signal): a distillation effect that survives them points at
a wiring error, not at distillation.

  SIGNALS            "matched" (each clip gets its own teacher signal, the papers' methods)
                     | "permuted" (each clip gets another clip's signal)
  shift_batch(x)     paper 1: x[i] <- x[i - 1] along the batch axis ([B, ...] -> [B, ...]);
                     no clip keeps its own when B >= 2.
  derangement(n, s)  paper 2: a fixed permutation of n clips with no fixed point, drawn
                     from seed s (Sattolo's algorithm: one n-cycle).
"""

from __future__ import annotations

import numpy as np

from shared.config import ConfigError

SIGNALS = ("matched", "permuted")


def check_signal(owner: str, value: str) -> None:
    """Raises ConfigError (a ValueError) naming `owner` (e.g. "TSParams.teacher_signal") for an unknown value."""
    if value not in SIGNALS:
        raise ConfigError(f"{owner} '{value}' unknown (choose from {', '.join(SIGNALS)})")


def shift_batch(x):
    """x [B, ...] -> [B, ...] with row i holding row (i - 1) mod B: every clip of a batch
    of B >= 2 gets another clip's values (a batch of one keeps its own: there is no other)."""
    from keras import ops     # here, not at import: loading a preset must not start TensorFlow

    return ops.roll(x, shift=1, axis=0)


def derangement(n: int, seed: int) -> np.ndarray:
    """A permutation `order` [n] of 0..n-1 with order[i] != i for every i (n >= 2), the
    same for the same (n, seed). Row i of a permuted table is row order[i] of the original.

    Sattolo's algorithm draws a uniformly random n-cycle, which has no fixed point.
    """
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 items, got {n}")
    rng = np.random.default_rng(seed)
    order = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i))          # j < i (not <= i): this makes it one cycle
        order[i], order[j] = order[j], order[i]
    return order


__all__ = ["SIGNALS", "check_signal", "derangement", "shift_batch"]
