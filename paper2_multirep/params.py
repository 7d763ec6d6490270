"""Hyper-parameters of paper 2's branch networks and training (Algorithm 1).

One frozen dataclass per concern, gathered in `TrainParams`; the YAML presets
paper2_multirep/presets/{paper,demo}.yaml override their fields through
shared.config. Every field names its source: a section of paper 2 (Gao et al.) or
the register entry in replication/decisions/paper2.yaml that documents the reading.
Derived numbers (cycles, passes) are properties, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.config import ConfigError
from shared.controls import SIGNALS

ARCHS = ("vgg19", "resnet101", "small_cnn", "small_resnet")
PRETRAINED_ARCHS = ("vgg19", "resnet101")
WEIGHTS = ("imagenet", "none")
INPUT_POLICIES = ("native", "pad", "resize")
EPOCH_UNITS = ("cycle", "pass")
INDEPENDENT_BUDGETS = ("epochs", "passes")
KL_DIRECTIONS = ("as_printed", "reverse")
SOFT_LABEL_CROPS = ("all", "one")
SOFT_LABEL_AVERAGES = ("probs", "logits")
SCHEDULES = ("cosine", "constant")


def _choice(cls: str, name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{cls}.{name} '{value}' unknown (choose from {', '.join(allowed)})")


@dataclass(frozen=True)
class BranchParams:
    """One branch network f_i (Sec. III-A, IV-B)."""
    arch: str = "resnet101"          # Sec. IV-B: "vgg19" | "resnet101"; "small_cnn" | "small_resnet" = CPU demo stand-ins
    weights: str = "imagenet"        # Sec. IV-C, ImageNet pre-training; "none" = random init; register p2-imagenet-weights
    weights_path: str = ""           # local no-top .h5 file; "" = the Keras cache (~/.keras/models or $KERAS_HOME/models)
    require_weights: bool = False    # True: a missing ImageNet file is an error instead of an unfaithful run
    input_policy: str = "native"     # spatial size fed to VGG19/ResNet101, not stated, see register p2-input-size
    resize_to: tuple[int, int] = (224, 224)  # input_policy "resize": (frames, bins), ImageNet's 224, register p2-input-size
    head_hidden: int = 0             # units of an extra FC layer before the logits (0 = none), not stated, register p2-branch-head
    dropout: float = 0.0             # dropout before the logits, not stated, see register p2-branch-head
    small_filters: tuple[int, ...] = (16, 32, 64)  # small_cnn / small_resnet widths per stage (demo only)

    def __post_init__(self) -> None:
        _choice("BranchParams", "arch", self.arch, ARCHS)
        _choice("BranchParams", "weights", self.weights, WEIGHTS)
        _choice("BranchParams", "input_policy", self.input_policy, INPUT_POLICIES)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"BranchParams.dropout must be in [0, 1), got {self.dropout}")
        if self.head_hidden < 0:
            raise ConfigError(f"BranchParams.head_hidden must be >= 0, got {self.head_hidden}")
        if not self.small_filters or min(self.small_filters) < 1:
            raise ConfigError(f"BranchParams.small_filters must be positive widths, got {self.small_filters}")
        if len(self.resize_to) != 2 or min(self.resize_to) < 32:
            raise ConfigError(f"BranchParams.resize_to must be two sizes >= 32, got {self.resize_to}")


@dataclass(frozen=True)
class OptimParams:
    """SGD and its schedule (Sec. IV-C)."""
    learning_rate: float = 0.001     # Sec. IV-C, initial learning rate
    momentum: float = 0.9            # not stated, see register p2-sgd-momentum (notes Open 5)
    weight_decay: float = 0.0        # not stated, see register p2-sgd-momentum
    schedule: str = "cosine"         # Sec. IV-C, PyTorch CosineAnnealingLR; "constant" for ablations
    eta_min: float = 0.0             # CosineAnnealingLR's default floor, see register p2-lr-schedule
    batch_size: int = 64             # Sec. IV-C; GLOBAL batch (split over replicas)
    epochs: int = 150                # Sec. IV-C, Q of Algorithm 1; what it counts: register p2-epoch-accounting
    jit_compile: bool = False        # XLA for the train step (speed only)
    verbose: int = 0                 # keras fit verbosity
    steps_per_pass: int = 0          # 0 = every batch of a pass; n > 0 = at most n steps (--rehearse only)

    def inert_fields(self) -> tuple[str, ...]:
        """steps_per_pass is left out of dicts and store keys while 0 (existing keys hold)."""
        return () if self.steps_per_pass else ("steps_per_pass",)

    def __post_init__(self) -> None:
        _choice("OptimParams", "schedule", self.schedule, SCHEDULES)
        if self.steps_per_pass < 0:
            raise ConfigError(f"OptimParams.steps_per_pass must be >= 0, got {self.steps_per_pass}")
        if self.learning_rate <= 0:
            raise ConfigError(f"OptimParams.learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"OptimParams.momentum must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0 or self.eta_min < 0:
            raise ConfigError("OptimParams.weight_decay and eta_min must be >= 0")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"OptimParams.{name} must be >= 1, got {getattr(self, name)}")
        if self.verbose not in (0, 1, 2):
            raise ConfigError(f"OptimParams.verbose must be 0, 1 or 2 (keras fit), got {self.verbose}")


@dataclass(frozen=True)
class MixupParams:
    """Mixup in every phase and every experiment (Sec. IV-C, ref. [63])."""
    enabled: bool = True             # Sec. IV-C, "in all experiments"
    alpha: float = 0.2               # Beta(alpha, alpha), not stated, see register p2-mixup
    mix_soft_labels: bool = True     # P_bar mixed with the same lambda/partner as x and y, register p2-mixup

    def __post_init__(self) -> None:
        if self.alpha <= 0:
            raise ConfigError(f"MixupParams.alpha must be > 0, got {self.alpha}")


@dataclass(frozen=True)
class CyclicParams:
    """Algorithm 1 (cyclic distillation), Sec. III-C/D."""
    single_epochs: int = 1           # b of Algorithm 1 (printed "s = 1" in Sec. IV-C)
    distill_epochs: int = 1          # d of Algorithm 1, Sec. IV-C
    temperature: float = 2.0         # T of Eq. (2), value not stated, see register p2-temperature
    kl_direction: str = "as_printed"  # Eq. (4) as printed = KL(P_branch || P_bar); register p2-kl-direction
    kl_weight: float = 1.0           # Eq. (5), L_d = L_ce + L_kl (weight 1)
    t_squared: bool = False          # Hinton's T^2 factor on L_kl; Eq. (4) has none, register p2-kl-direction
    epoch_unit: str = "cycle"        # what Q (OptimParams.epochs) counts, register p2-epoch-accounting
    independent_budget: str = "epochs"  # independent baseline: Q passes or the distilled branch's passes, register p2-epoch-accounting
    soft_label_crops: str = "all"    # crops scored for P_i: "all" of a clip, or "one" random crop; register p2-soft-label-crops
    soft_label_average: str = "probs"  # per-clip mean of softened probabilities or of logits, register p2-soft-label-crops
    aggregate_signal: str = "matched"  # negative control: "permuted" = P_bar rows moved to other clips (fixed derangement); register p2-aggregate-signal

    def __post_init__(self) -> None:
        _choice("CyclicParams", "kl_direction", self.kl_direction, KL_DIRECTIONS)
        _choice("CyclicParams", "epoch_unit", self.epoch_unit, EPOCH_UNITS)
        _choice("CyclicParams", "independent_budget", self.independent_budget, INDEPENDENT_BUDGETS)
        _choice("CyclicParams", "soft_label_crops", self.soft_label_crops, SOFT_LABEL_CROPS)
        _choice("CyclicParams", "soft_label_average", self.soft_label_average, SOFT_LABEL_AVERAGES)
        _choice("CyclicParams", "aggregate_signal", self.aggregate_signal, SIGNALS)
        for name in ("single_epochs", "distill_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"CyclicParams.{name} must be >= 1, got {getattr(self, name)}")
        if self.temperature <= 0:
            raise ConfigError(f"CyclicParams.temperature must be > 0, got {self.temperature}")
        if self.kl_weight < 0:
            raise ConfigError(f"CyclicParams.kl_weight must be >= 0, got {self.kl_weight}")

    @property
    def passes_per_cycle(self) -> int:
        """Passes over a branch's training data in one cycle (b + d)."""
        return self.single_epochs + self.distill_epochs


@dataclass(frozen=True)
class TrainParams:
    """Everything that trains paper-2 branches (presets/paper.yaml, presets/demo.yaml)."""
    branch: BranchParams = field(default_factory=BranchParams)
    optim: OptimParams = field(default_factory=OptimParams)
    mixup: MixupParams = field(default_factory=MixupParams)
    cyclic: CyclicParams = field(default_factory=CyclicParams)

    @property
    def epochs(self) -> int:
        """Q of Algorithm 1 (OptimParams.epochs)."""
        return self.optim.epochs

    @property
    def num_cycles(self) -> int:
        """Cycles of Algorithm 1: Q, or Q // (b + d) when Q counts data passes."""
        if self.cyclic.epoch_unit == "cycle":
            return self.optim.epochs
        cycles = self.optim.epochs // self.cyclic.passes_per_cycle
        if cycles < 1:
            raise ConfigError(f"epochs={self.optim.epochs} passes is less than one cycle "
                             f"(b + d = {self.cyclic.passes_per_cycle})")
        return cycles

    @property
    def independent_passes(self) -> int:
        """Passes of the independent (CE-only) baseline."""
        if self.cyclic.independent_budget == "epochs":
            return self.optim.epochs
        return self.num_cycles * self.cyclic.passes_per_cycle

    def passes_per_branch(self) -> dict[str, int]:
        """Passes over the training data each branch makes, per job kind."""
        return {"independent": self.independent_passes,
                "cyclic": self.num_cycles * self.cyclic.passes_per_cycle}


__all__ = [
    "ARCHS", "BranchParams", "CyclicParams", "MixupParams", "OptimParams", "PRETRAINED_ARCHS",
    "TrainParams",
]
