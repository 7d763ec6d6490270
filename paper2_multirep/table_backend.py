"""The glue between paper-2 table specs and the kit's pieces (data, features, training, checker).

tables.py calls only these functions; each one is a thin adapter over the module that
owns the work:
  data sets        shared.datasets (get_dataset)
  features/cache   shared.features (paper2_params), shared.cache (FeatureCache)
  tf.data          shared.pipeline (random crops for training, all crops for scoring)
  branches/train   paper2_multirep.branches / cyclic / params (Algorithm 1, independent baseline)
  metrics          shared.metrics (audio-level accuracy, mAP@3)
  checker          replication.check (published cells or the recorded demo reference)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from paper2_multirep.experiments import PRINTED_REPRESENTATION, BranchSpec, ExperimentParams
from shared.config import to_dict

DEFAULT_DATA_ROOT = "data/datasets"


# ----------------------------------------------------------------------------- data
@dataclass
class DataContext:
    """The resolved data set of a table run: splits, classes and what departs from the paper."""
    name: str                       # data set actually used ("demo", "fsdkaggle2018", "esc50", ...)
    paper_dataset: str              # data set the paper (or the ESC experiment) names
    root: Path
    spec: Any                       # shared.datasets.base.DatasetSpec
    train: tuple                    # Examples of the training split
    test: tuple                     # Examples of the test split (never used for selection)
    train_split: str
    test_split: str
    options: dict = field(default_factory=dict)
    deviations: list[str] = field(default_factory=list)

    @property
    def substituted(self) -> bool:
        return self.name != self.paper_dataset and self.paper_dataset not in ("esc50", "esc10")

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.spec.classes)

    @property
    def num_train(self) -> int:
        return len(self.train)

    @property
    def num_test(self) -> int:
        return len(self.test)

    def describe(self) -> dict:
        """What identifies this data for the model store (no absolute paths)."""
        return {"dataset": self.name, "options": self.options, "train_split": self.train_split,
                "test_split": self.test_split,
                "train": [e.clip_id for e in self.train], "test": [e.clip_id for e in self.test]}


def _subset(examples, limit: int, seed: int = 0) -> tuple:
    """A class-stratified deterministic subset of at most `limit` examples (limit 0 = all)."""
    if not limit or limit >= len(examples):
        return tuple(examples)
    rng = np.random.default_rng(seed)
    by_class: dict[int, list] = {}
    for e in examples:
        by_class.setdefault(e.label, []).append(e)
    for items in by_class.values():
        rng.shuffle(items)
    chosen, i = [], 0
    while len(chosen) < limit:
        for label in sorted(by_class):
            if i < len(by_class[label]) and len(chosen) < limit:
                chosen.append(by_class[label][i])
        i += 1
    return tuple(sorted(chosen, key=lambda e: e.clip_id))


def data_context(paper_dataset: str, params: ExperimentParams, data_root: str | None = None,
                 test_fold: int | None = None, require_data: bool = True) -> DataContext:
    """Resolves the data set of a table (the preset may substitute the demo data).

    With require_data=False (a dry run) a missing root gives an empty context whose
    clip counts come from the data set's spec, so a plan can be printed anywhere.
    """
    from shared.datasets import get_dataset
    name = params.data.dataset or paper_dataset
    options: dict = {}
    if name == "fsdkaggle2018":
        options["verified_only"] = params.data.verified_only
    if name in ("esc50", "esc10"):
        options = {"esc10_only": name == "esc10", "test_fold": test_fold or 1}
    module = get_dataset("esc50" if name == "esc10" else name)
    root = Path(data_root or params.data.root or Path(DEFAULT_DATA_ROOT) / name)
    if not root.exists() and not require_data:
        spec = module.spec(**({"esc10_only": name == "esc10"} if name in ("esc50", "esc10") else {}))
        return DataContext(name, paper_dataset, root, spec, (), (), "?", "?", options,
                           [f"data set not found at {root} (dry run: plan only)"])
    if not root.exists():
        hint = " (generate it with `python -m replication.data prepare demo`)" if name == "demo" else \
            f" (get it with `python -m replication.data prepare {name}`)"
        raise FileNotFoundError(f"data set root {root} does not exist{hint}")
    splits = module.load_splits(root, **options)
    if name in ("esc50", "esc10"):
        train_split, test_split = f"fold{options['test_fold']}_train", f"fold{options['test_fold']}_test"
    elif name == "fsdkaggle2018":
        train_split, test_split = "train", "test"
    else:
        train_split, test_split = "fold1_train", "fold1_evaluate"
    for split in (train_split, test_split):
        if split not in splits:
            raise KeyError(f"{name} at {root}: no split '{split}' (has {', '.join(splits)})")
    train = _subset(splits[train_split].examples, params.data.max_train_clips)
    test = _subset(splits[test_split].examples, params.data.max_eval_clips)
    deviations = []
    if name != paper_dataset and paper_dataset not in ("esc50", "esc10"):
        deviations.append(f"data set {name} instead of the paper's {paper_dataset}")
    if params.data.max_train_clips:
        deviations.append(f"training split cut to {len(train)} clips")
    if params.data.max_eval_clips:
        deviations.append(f"test split cut to {len(test)} clips")
    spec_options = {}
    if name == "fsdkaggle2018":
        spec_options["verified_only"] = params.data.verified_only
    if name in ("esc50", "esc10"):
        # ESC-50-layout copies may be resampled (the kit's ESC-10 fixture is 22.05 kHz):
        # take the rate from the first listed file; the cache checks every file against it.
        from shared.audio import audio_info
        spec_options = {"esc10_only": name == "esc10",
                        "sample_rate": audio_info(train[0].path).sample_rate}
    if name == "demo":
        spec_options = {"params": module.read_params(root)}
    return DataContext(name, paper_dataset, root, module.spec(**spec_options), train, test,
                       train_split, test_split, options, deviations)


# ------------------------------------------------------------------------ features
def feature_params(representation: str, sample_rate: int):
    """FeatureParams of a representation at the data set's sample rate (Sec. IV-C)."""
    from shared.features.presets import paper2_params
    return paper2_params(PRINTED_REPRESENTATION[representation], sample_rate=sample_rate)


def describe_branch(branch: BranchSpec, params: ExperimentParams, data: DataContext) -> dict:
    return {"representation": branch.representation, "network": branch.network,
            "arch": params.arch_of(branch.network),
            "features": to_dict(feature_params(branch.representation, data.spec.sample_rate)),
            "crop_frames": params.data.crop_frames, "eval_hop_frames": params.data.eval_hop_frames,
            "cache_dtype": params.data.cache_dtype}


def cache_entries(representation: str, params: ExperimentParams, data: DataContext):
    """(train, test) feature-cache entries of one representation (built once, then reused)."""
    from shared.cache import FeatureCache
    features = feature_params(representation, data.spec.sample_rate)
    cache = FeatureCache(params.data.cache_root)
    train = cache.get_or_build(f"{data.name}:{data.train_split}", data.train, features,
                               dtype=params.data.cache_dtype, expected_channels=data.spec.channels)
    test = cache.get_or_build(f"{data.name}:{data.test_split}", data.test, features,
                              dtype=params.data.cache_dtype, expected_channels=data.spec.channels)
    return train, test


# ------------------------------------------------------------------------ training
def training_params(params: ExperimentParams):
    """paper2_multirep.params training config: the named preset + the experiment's overrides."""
    from paper2_multirep import params as p2
    from shared.config import load_config, override
    preset = Path(__file__).resolve().parent / "presets" / f"{params.training_preset}.yaml"
    train = load_config(p2.TrainParams, preset)
    if params.training_overrides:
        train = override(train, params.training_overrides, source="training_overrides")
    return train


def describe_training(params: ExperimentParams) -> dict:
    return to_dict(training_params(params))


def branch_training_params(params: ExperimentParams, branch: BranchSpec):
    """The training params of one branch: the preset's, with the architecture of its network."""
    from dataclasses import replace
    train = training_params(params)
    return replace(train, branch=replace(train.branch, arch=params.arch_of(branch.network)))


def epochs_per_branch(params: ExperimentParams) -> dict[str, int]:
    """Passes over the training data each branch makes in an independent / a cyclic job."""
    return training_params(params).passes_per_branch()


def train_job(kind: str, branches: tuple[BranchSpec, ...], seed: int, params: ExperimentParams,
              data: DataContext, log: Callable[[str], None] = print) -> tuple[dict, dict]:
    """Trains one job; returns (outputs, info).

    outputs: "labels" [clips] int, "clip_ids" [clips] str, and per branch i
      "probs_i" / "logits_i" [clips, C] audio-level (crops averaged) on the test split.
    info: "faithful", "deviations", "decisions", "started".
    """
    raise NotImplementedError("waiting for paper2_multirep.cyclic")


def measure_epoch_seconds(branches, params: ExperimentParams, data: DataContext) -> dict[str, float]:
    """Seconds per training epoch of each branch, from a few timed steps on this machine."""
    raise NotImplementedError


# ------------------------------------------------------------------- metrics/check
def metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Audio-level accuracy and mAP@3 (fractions) of clip probabilities [clips, C]."""
    from shared import metrics as m
    return {"accuracy": float(m.accuracy(probs, labels)), "map_at_3": float(m.map_at_3(probs, labels))}


def check(records, reference: str, log: Callable[[str], None] = print):
    """Runs the result checker on fresh records and prints its table."""
    from replication import check as checker
    from replication.report import check_text
    report = checker.check_records(records, reference=reference)
    log(check_text(report))
    return report
