"""Learning-rate schedules both papers' training loops use, as plain functions of the step.

    cosine_lr(0.1, 0.0, 5, 10)   # 0.05: half way down a cosine from 0.1 to 0.0 over 10 steps

Paper 2 anneals SGD's rate per pass (paper2_multirep.cyclic); paper 1's claims budget
`levelled_cosine` anneals Adam's rate per epoch (paper1_ts.train_params.epoch_learning_rate).
"""

from __future__ import annotations

import math


def cosine_lr(base: float, eta_min: float, step: int, total: int) -> float:
    """PyTorch CosineAnnealingLR in closed form (T_max = total, step counted from 0)."""
    return eta_min + (base - eta_min) * (1.0 + math.cos(math.pi * step / total)) / 2.0


__all__ = ["cosine_lr"]
