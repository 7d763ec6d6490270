"""DistributeParams: where a run's models live (device placement, precision, which
batch-normalisation kernel), checked on load.

Kept apart from shared/distribute.py, which imports TensorFlow, so that resolving a preset
(and every command's `--help` and input errors) does not start TensorFlow.
shared.distribute re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import ConfigError

KINDS = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
BATCH_NORMS = ("fused", "keras")


def check_batch_norm(kind: str) -> str:
    """Returns `kind` if it names a batch-normalisation implementation, else raises ConfigError."""
    if kind not in BATCH_NORMS:
        raise ConfigError(f"distribute.batch_norm '{kind}' unknown (choose from {', '.join(BATCH_NORMS)})")
    return kind


def check_precision(precision: str) -> str:
    """Returns `precision` if it is a known policy name, else raises ConfigError naming it."""
    if precision not in PRECISIONS:
        raise ConfigError(f"distribute.precision '{precision}' unknown (choose from {', '.join(PRECISIONS)})")
    return precision


@dataclass(frozen=True)
class DistributeParams:
    kind: str = "default"          # "default" (one device) | "mirrored" (all local GPUs) | "multi_worker" (TF_CONFIG)
    devices: tuple[str, ...] = ()  # mirrored only: explicit device names, e.g. ("/cpu:0", "/cpu:1"); empty = all GPUs
    logical_cpus: int = 0          # >0: split the CPU into this many logical devices (tests without GPUs)
    jit_compile: bool = False      # XLA for train steps (see docs/scale.md, Speed)
    precision: str = "float32"     # "float32" | "mixed_float16" (GPU) | "mixed_bfloat16" (TPU / AVX512-BF16 CPU);
    #                                not stated by the papers, see register shared-precision
    batch_norm: str = "fused"      # "fused" (TensorFlow's fused kernel, shared/fused_bn.py) | "keras" (Keras's
    #                                own layer): same arithmetic, rounding apart; speed only, register shared-fused-bn

    def __post_init__(self):
        # a typo in a preset fails when the config is loaded, not when the strategy is built
        if self.kind not in KINDS:
            raise ConfigError(f"distribute.kind '{self.kind}' unknown (choose from {', '.join(KINDS)})")
        if self.logical_cpus < 0:
            raise ConfigError(f"distribute.logical_cpus must be >= 0 (0 = no split), got {self.logical_cpus}")
        check_precision(self.precision)
        check_batch_norm(self.batch_norm)


__all__ = ["BATCH_NORMS", "KINDS", "PRECISIONS", "DistributeParams", "check_batch_norm", "check_precision"]
