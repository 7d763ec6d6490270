"""Hyper-parameters of paper 1's training loops, teacher-student learning and SVM back-end.

Three frozen dataclasses; a YAML preset (paper / demo) overrides their fields
through shared.config. Each field names its source: a section or table of
paper 1 (Heo et al. 2019), or the register entry in
replication/decisions/paper1.yaml that documents the reading chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import ConfigError
from shared.controls import check_signal
from shared.schedules import cosine_lr

TS_LOSSES = ("output", "hidden", "both")
LR_SCHEDULES = ("constant", "cosine")
TEACHER_INPUTS = ("concat", "base")
SVM_KERNELS = ("linear", "linear_svc", "rbf")


@dataclass(frozen=True)
class TrainParams:
    """One-hot training of the baseline models, the teacher and the TS student."""

    learning_rate: float = 1e-3     # Sec. 4.2 (Adam, 0.001)
    lr_schedule: str = "constant"   # not stated: "constant" or "cosine" (per epoch, to ~0 over each step); register p1-lr-schedule
    batch_size: int = 40            # Sec. 4.2; GLOBAL batch (split over replicas)
    epochs: int = 100               # not stated, see register p1-epochs-checkpoint
    pool_epochs: int = 50           # CNN-GRU step 1 (CNN + pooling head), not stated, see register p1-two-step-epochs
    gru_epochs: int = 50            # CNN-GRU step 2 (whole model with GRU), not stated, see register p1-two-step-epochs
    steps_per_epoch: int = 0        # 0 = one pass over the training split per epoch (demo presets may cap it)
    verbose: int = 0                # keras fit verbosity (0 silent, 1 progress bar, 2 one line per epoch)

    def __post_init__(self):
        for name in ("batch_size", "epochs", "pool_epochs", "gru_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TrainParams.{name} must be >= 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ConfigError(f"TrainParams.learning_rate must be > 0, got {self.learning_rate}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"TrainParams.lr_schedule '{self.lr_schedule}' unknown "
                              f"(choose from {', '.join(LR_SCHEDULES)})")
        if self.steps_per_epoch < 0:
            raise ConfigError(f"TrainParams.steps_per_epoch must be >= 0, got {self.steps_per_epoch}")
        if self.verbose not in (0, 1, 2):
            raise ConfigError(f"TrainParams.verbose must be 0, 1 or 2 (keras fit), got {self.verbose}")


def epoch_learning_rate(params: TrainParams, epoch: int, epochs: int) -> float:
    """Adam's learning rate during epoch `epoch` (0-based) of a training step of `epochs` epochs.

    "constant": params.learning_rate throughout. "cosine": half a cosine from
    params.learning_rate at epoch 0 down towards 0, one value per epoch,
    lr * (1 + cos(pi * epoch / epochs)) / 2, so the last epoch trains at lr * (1 - cos(pi / epochs)) / 2,
    not at 0. Each step of a two-step CNN-GRU training runs its own schedule.
    """
    if params.lr_schedule == "constant":
        return params.learning_rate
    return cosine_lr(params.learning_rate, 0.0, epoch, epochs)


@dataclass(frozen=True)
class TSParams:
    """Teacher-student learning, Sec. 3 and Tables 4-6."""

    loss: str = "output"            # Table 5 row: "output" (Eq. 4), "hidden" (Eq. 5), "both"; register p1-ts-loss-composition
    temperature: float = 5.0        # Table 4 (T in {1, 5, 10}); 5 is the best 20 s cell, used by Tables 5-6
    teacher_mode: str = "hinton"    # Eq. (3): "hinton" softmax(z / T) or "as_printed" softmax(softmax(z) / T); register p1-temperature-form
    output_weight: float = 1.0      # weight of Eq. (4) in "both", not stated, see register p1-ts-loss-composition
    hidden_weight: float = 1.0      # weight of Eq. (5) in "both", not stated, see register p1-ts-loss-composition
    teacher_query: str = "concat"   # Table 4 column: teacher sees "concat" (20 s) or "base" (10 s) when labelling
    teacher_train_input: str = "concat"  # teacher trained on "concat" or "base" inputs; register p1-teacher-training
    teacher_signal: str = "matched"  # negative control: "permuted" = each clip learns from ANOTHER clip's teacher outputs; register p1-teacher-signal

    def __post_init__(self):
        if self.loss not in TS_LOSSES:
            raise ConfigError(f"TSParams.loss '{self.loss}' unknown (choose from {', '.join(TS_LOSSES)})")
        if self.teacher_mode not in ("as_printed", "hinton"):
            raise ConfigError(f"TSParams.teacher_mode '{self.teacher_mode}' unknown (as_printed, hinton)")
        for name in ("teacher_query", "teacher_train_input"):
            if getattr(self, name) not in TEACHER_INPUTS:
                raise ConfigError(f"TSParams.{name} '{getattr(self, name)}' unknown "
                                 f"(choose from {', '.join(TEACHER_INPUTS)})")
        if self.temperature <= 0:
            raise ConfigError(f"TSParams.temperature must be > 0, got {self.temperature}")
        for name in ("output_weight", "hidden_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"TSParams.{name} must be >= 0, got {getattr(self, name)}")
        check_signal("TSParams.teacher_signal", self.teacher_signal)


@dataclass(frozen=True)
class SVMParams:
    """Back-end: one SVM per model on the 64-d embeddings, Sec. 2."""

    kernel: str = "linear_svc"      # not stated, see register p1-svm-backend ("linear_svc" | "linear" (SVC) | "rbf")
    c: float = 1.0                  # not stated, see register p1-svm-backend
    standardise: bool = True        # z-score with TRAINING-split statistics; register p1-svm-backend
    max_iter: int = 20000           # LinearSVC iteration cap (a warning is raised if it does not converge)
    batch_size: int = 40            # embedding extraction batch (inference only; any value gives the same result)

    def __post_init__(self):
        if self.kernel not in SVM_KERNELS:
            raise ConfigError(f"SVMParams.kernel '{self.kernel}' unknown (choose from {', '.join(SVM_KERNELS)})")
        if self.c <= 0:
            raise ConfigError(f"SVMParams.c must be > 0, got {self.c}")
        for name in ("max_iter", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"SVMParams.{name} must be >= 1, got {getattr(self, name)}")
