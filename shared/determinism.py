"""Seeding and op determinism: same seed, same machine -> the same numbers.

Every entry point that trains calls `seed_everything(params)` before it builds a model
or a dataset:

    from shared.determinism import DeterminismParams, seed_everything
    seed_everything(DeterminismParams(seed=3))            # op determinism on (default)

What is fixed: Python's `random`, NumPy's global generator, TensorFlow's global seed
(all three through keras.utils.set_random_seed, which also seeds Keras' own
SeedGenerator) and, with `op_determinism`, TensorFlow's kernel choice
(tf.config.experimental.enable_op_determinism: deterministic reductions, tf.data with
deterministic element order, errors for ops that have no deterministic kernel).
What is not fixed: a different machine, thread count, TF/oneDNN version or GPU model
may still change the last bits (register shared-determinism).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import keras
import tensorflow as tf

from shared.config import ConfigError


@dataclass(frozen=True)
class DeterminismParams:
    seed: int = 0                 # run seed (the kit's results layout keeps one folder per seed)
    op_determinism: bool = True   # tf.config.experimental.enable_op_determinism; not stated, see register shared-determinism

    def __post_init__(self):
        if self.seed < 0:
            raise ConfigError(f"DeterminismParams.seed must be >= 0, got {self.seed}")


def op_determinism_enabled() -> bool:
    """True if TensorFlow's op determinism is currently switched on in this process."""
    from tensorflow.python.framework import config as tf_config  # no public getter in TF 2.21

    return bool(tf_config.is_op_determinism_enabled())


def set_op_determinism(enabled: bool) -> None:
    """Switches TensorFlow op determinism on or off for the rest of the process."""
    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()


def seed_everything(params: DeterminismParams | int = DeterminismParams()) -> DeterminismParams:
    """Seeds Python, NumPy, TensorFlow and Keras and sets op determinism as requested.

    Args:
      params: DeterminismParams, or a bare seed (op determinism on).
    Returns the DeterminismParams that were applied (to save beside the results).
    """
    if isinstance(params, int):
        params = DeterminismParams(seed=params)
    # only child processes read PYTHONHASHSEED; set it so workers started from here agree
    os.environ["PYTHONHASHSEED"] = str(params.seed)
    keras.utils.set_random_seed(params.seed)
    set_op_determinism(params.op_determinism)
    return params
