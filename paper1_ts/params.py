"""Experiment-level parameters of paper 1: one frozen dataclass composing every part.

`Paper1Params()` IS the paper's setting (DCASE 2018 task 1A fold 1, 48 kHz stereo 10 s
clips, Table 2 / Table 3 networks, Adam 1e-3, batch 40, T = 5, 20 s teacher) plus the
register's readings of what the paper leaves open. A preset (presets/paper.yaml,
presets/demo.yaml) only overrides fields; the resolved params are saved beside every
run record and are enough to rerun it.

    params = resolve_params("demo", {"train": {"epochs": 2}})
    params.features_of("spec")      # FeatureParams of the CNN-GRU input
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Mapping

from paper1_ts.model_params import CNNGRUParams, ModelParams, RawCNNParams
from paper1_ts.train_params import SVMParams, TrainParams, TSParams
from shared.config import ConfigError, load_config, override
from shared.distribute_params import DistributeParams
from shared.features.params import FeatureParams
from shared.features.presets import paper1_spectrogram_params, paper1_waveform_params

PRESET_DIR = Path(__file__).resolve().parent / "presets"
PRESETS = ("paper", "demo")
FIGURE1_MODELS = ("teacher", "baseline")


@dataclass(frozen=True)
class DataParams:
    """Which clips are used (Sec. 4.1)."""

    dataset: str = "dcase2018_task1a"     # Sec. 4.1 (DCASE 2018 task 1-a); "demo" = generated stand-in
    root: str = ""                        # "" = data/datasets/<dataset> in the checkout
    train_split: str = "fold1_train"      # Sec. 4.1, official fold 1 (Tables 1, 6 captions)
    eval_split: str = "fold1_evaluate"    # fold-1 validation = the TEST set; nothing is selected on it
    train_per_class: int = 0              # 0 = every clip; n > 0 keeps the first n per class in official order
    eval_per_class: int = 0               # same for the evaluation split (tests only)
    cache_root: str = ""                  # "" = data/cache in the checkout (feature cache)
    cache_dtype: str = "float16"          # feature cache storage; not stated, see register p1-demo-preset
    cache_workers: int = 0                # processes building the feature cache; 0 = auto (shared.cache.effective_workers)
    auto_prepare_demo: bool = True        # generate the demo data set when it is missing (demo only)
    rehearsal: bool = False               # read generated rehearsal data (--rehearse, replication/rehearsal.py)

    def inert_fields(self) -> tuple[str, ...]:
        """rehearsal is left out of dicts and store keys while off (existing keys hold)."""
        return () if self.rehearsal else ("rehearsal",)

    def __post_init__(self):
        for name in ("train_per_class", "eval_per_class", "cache_workers"):
            if getattr(self, name) < 0:
                raise ConfigError(f"DataParams.{name} must be >= 0, got {getattr(self, name)}")
        if self.cache_dtype not in ("float16", "float32"):
            raise ConfigError(f"DataParams.cache_dtype must be float16 or float32, got {self.cache_dtype!r}")


@dataclass(frozen=True)
class Paper1Params:
    """Everything one paper-1 table run needs."""

    data: DataParams = field(default_factory=DataParams)
    raw_features: FeatureParams = field(default_factory=paper1_waveform_params)      # Sec. 4.2, Table 2 input
    spec_features: FeatureParams = field(default_factory=paper1_spectrogram_params)  # Sec. 4.2, register p1-spectrogram
    models: ModelParams = field(default_factory=ModelParams)      # Tables 2 and 3
    train: TrainParams = field(default_factory=TrainParams)       # Sec. 4.2 (Adam 1e-3, batch 40)
    ts: TSParams = field(default_factory=TSParams)                # Sec. 3; per-run T/point/teacher set by experiments.py
    svm: SVMParams = field(default_factory=SVMParams)             # Sec. 2.2, register p1-svm-backend
    distribute: DistributeParams = field(default_factory=DistributeParams)  # device placement only
    seeds: int = 1                        # published numbers are single runs; --seeds N runs N seeds
    first_seed: int = 0                   # seeds are first_seed .. first_seed + seeds - 1
    results_root: str = "results"         # run records + model store (results/paper1/_store)
    figure1_model: str = "teacher"        # Fig. 1 embeddings from the 20 s "teacher" or the 10 s "baseline"; register p1-figure1

    def __post_init__(self):
        if self.seeds < 1:
            raise ConfigError(f"Paper1Params.seeds must be >= 1, got {self.seeds}")
        if self.first_seed < 0:
            raise ConfigError(f"Paper1Params.first_seed must be >= 0, got {self.first_seed}")
        if self.figure1_model not in FIGURE1_MODELS:
            raise ConfigError(f"Paper1Params.figure1_model '{self.figure1_model}' unknown "
                             f"(choose from {', '.join(FIGURE1_MODELS)})")
        for family in ("raw", "spec"):
            if self.features_of(family).sample_rate != self.raw_features.sample_rate:
                raise ConfigError("raw_features and spec_features must share one sample_rate "
                                 f"({self.raw_features.sample_rate} vs {self.spec_features.sample_rate})")

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.first_seed, self.first_seed + self.seeds))

    def features_of(self, family: str) -> FeatureParams:
        """Front end of the "raw" (Table 2) or "spec" (Table 3) model."""
        return {"raw": self.raw_features, "spec": self.spec_features}[_family(family)]

    def model_of(self, family: str) -> RawCNNParams | CNNGRUParams:
        """Network params of the "raw" or "spec" model."""
        return {"raw": self.models.raw_cnn, "spec": self.models.cnn_gru}[_family(family)]


def _family(family: str) -> str:
    if family not in ("raw", "spec"):
        raise ValueError(f"model family '{family}' unknown (choose from raw, spec)")
    return family


def preset_path(preset: str) -> Path:
    """presets/<preset>.yaml for a preset name, or the given YAML path."""
    path = Path(preset)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"{path}: " + ("not a file" if path.exists() else "preset file not found"))
        return path
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset '{preset}' (choose from {', '.join(PRESETS)} or give a .yaml path)")
    return PRESET_DIR / f"{preset}.yaml"


def resolve_params(preset: str = "paper", overrides: Mapping[str, Any] | None = None) -> Paper1Params:
    """Paper1Params from a preset (name or YAML path) plus nested overrides."""
    params = load_config(Paper1Params, preset_path(preset))
    if overrides:
        params = override(params, overrides, source="overrides")
    return params


def differences(params: Any, reference: Any, prefix: str = "") -> list[str]:
    """Dotted `key: value (paper: value)` lines where two nested dataclasses differ."""
    out: list[str] = []
    for f in fields(params):
        a, b = getattr(params, f.name), getattr(reference, f.name)
        key = f"{prefix}{f.name}"
        if is_dataclass(a) and is_dataclass(b):
            out.extend(differences(a, b, key + "."))
        elif a != b:
            out.append(f"{key}: {a!r} (paper: {b!r})")
    return out


# Fields whose value is not stated by the paper (epoch budgets, verbosity, where files go,
# how many seeds): a different value is not a deviation from the paper.
NOT_STATED = ("train.epochs", "train.pool_epochs", "train.gru_epochs", "train.lr_schedule", "train.verbose",
              "data.root", "data.cache_root", "data.cache_dtype", "data.cache_workers", "data.auto_prepare_demo",
              "svm.batch_size", "seeds", "first_seed", "results_root", "figure1_model",
              "distribute.")


def paper_diff(params: Paper1Params) -> dict:
    """{"keys": deviations_from_paper(params), "decisions": the register ids that switch them}
    (record extra["paper_diff"]: a run on the real data set with a changed reading is still
    compared with the paper, flagged with these)."""
    from replication.decisions import paper_diff as register_diff
    return register_diff(deviations_from_paper(params), "paper1")


def deviations_from_paper(params: Paper1Params) -> list[str]:
    """Settings of `params` that differ from the paper's (the dataclass defaults)."""
    return [d for d in differences(params, Paper1Params())
            if not any(d.startswith(k + ":") or (k.endswith(".") and d.startswith(k)) for k in NOT_STATED)]
