"""Paper 2's result tables (I-VII) as data, registered as "paper2/tableI" ... "paper2/tableVII".

A table is a list of *groups*; a group is the set of branches (Gamma = 2 in every
table of the paper) trained together by cyclic distillation. Each branch is a pair
(representation, network). One group yields these runs:

  * one independent run per branch (cross-entropy only, the paper's un-starred rows),
  * one distilled run per branch (the starred rows),
  * one "ensemble" run (Ensemble* = mean of the distilled branches' probabilities).

Run names (the keys of data/published/paper2.yaml, same scheme):
  "<network>_<representation>"                      independent branch
  "<branch>_distilled_with_<partner>"               distilled branch (partner branch key)
  "ensemble_<branch1>_and_<branch2>"                Ensemble* (branch1 = printed first)
with <network> "resnet"|"vgg" and <representation> "logmel64"|"logmel128"|"mfcc"|"cqt"
("logMel" without a number is logMel64, paper Sec. IV-C). An independent branch printed
in two groups of one table (Table II's ResNet logMel) is one run.

Nothing here builds a model or reads a file; `tables.py` turns these specs into runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paper2_multirep.params import ARCHS
from replication import registry
from shared.config import ConfigError
from shared.distribute_params import DistributeParams

# Representation name -> (feature kind, mel bands) for shared.features.paper2_params (Sec. IV-C).
REPRESENTATIONS: dict[str, tuple[str, int]] = {
    "logmel64": ("logmel", 64),    # "logMel64", Sec. IV-C
    "logmel128": ("logmel", 128),  # "logMel128", Sec. IV-C
    "mfcc": ("mfcc", 64),          # MFCC from 64 mel bands, Sec. IV-C (coefficient count: register)
    "cqt": ("cqt", 64),            # CQT; n_mels unused by the CQT front end
}
PRINTED_REPRESENTATION = {"logmel64": "logMel64", "logmel128": "logMel128", "mfcc": "MFCC", "cqt": "CQT"}
# (also the `kind` names of shared.features.presets.paper2_params)
NETWORKS = ("resnet", "vgg")       # ResNet101 / VGG19 in the paper (Sec. IV-B); presets map them to an arch
PRINTED_NETWORK = {"resnet": "ResNet", "vgg": "VGGNet"}
DATASETS = ("fsdkaggle2018", "dcase2018_task1a")
KINDS = ("independent", "distilled", "ensemble")


@dataclass(frozen=True)
class BranchSpec:
    """One branch: a representation fed to a network (paper Sec. III-A, IV-B)."""
    representation: str   # key of REPRESENTATIONS
    network: str          # "resnet" | "vgg"

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"unknown representation '{self.representation}' "
                             f"(known: {', '.join(REPRESENTATIONS)})")
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network '{self.network}' (known: {', '.join(NETWORKS)})")

    @property
    def key(self) -> str:
        return f"{self.network}_{self.representation}"

    @property
    def printed(self) -> str:
        return f"{PRINTED_REPRESENTATION[self.representation]},{PRINTED_NETWORK[self.network]}"


@dataclass(frozen=True)
class GroupSpec:
    """Branches distilled together; `label` is the group's heading as printed."""
    name: str                           # "g1", "g2", ...
    label: str                          # e.g. "ResNet" (Table I) or "logMel,ResNet + MFCC,VGGNet" (Table VI)
    branches: tuple[BranchSpec, ...]

    def __post_init__(self) -> None:
        if len(self.branches) < 2:
            raise ValueError(f"group {self.name}: cyclic distillation needs >= 2 branches")
        if len({b.key for b in self.branches}) != len(self.branches):
            raise ValueError(f"group {self.name}: two identical branches {self.branches}")


@dataclass(frozen=True)
class TableSpec:
    """A result table of paper 2 as data."""
    name: str                           # registry name, "paper2/tableVII"
    numeral: str                        # "VII"
    dataset: str                        # "fsdkaggle2018" | "dcase2018_task1a" (paper Sec. IV-A)
    caption: str                        # short description (own words)
    groups: tuple[GroupSpec, ...]

    @property
    def branches(self) -> tuple[BranchSpec, ...]:
        """Distinct branches over all groups, in first-seen order."""
        seen: dict[str, BranchSpec] = {}
        for group in self.groups:
            for b in group.branches:
                seen.setdefault(b.key, b)
        return tuple(seen.values())


@dataclass(frozen=True)
class RunSpec:
    """One row (or cell group) of a table: what is trained/evaluated and where it is printed."""
    table: str                          # "paper2/tableI"
    run: str                            # run name (see module docstring)
    group: GroupSpec
    kind: str                           # "independent" | "distilled" | "ensemble"
    branch: BranchSpec | None           # None for the ensemble
    published_cell: dict                # {"table", "row", "column"} as printed


def _b(rep: str, net: str) -> BranchSpec:
    return BranchSpec(rep, net)


def _group(i: int, label: str, *branches: BranchSpec) -> GroupSpec:
    return GroupSpec(f"g{i}", label, tuple(branches))


TABLES: tuple[TableSpec, ...] = (
    TableSpec("paper2/tableI", "I", "fsdkaggle2018",
              "cross-resolution logMel64 + logMel128, per network",
              (_group(1, "ResNet", _b("logmel64", "resnet"), _b("logmel128", "resnet")),
               _group(2, "VGGNet", _b("logmel64", "vgg"), _b("logmel128", "vgg")))),
    TableSpec("paper2/tableII", "II", "fsdkaggle2018",
              "multiple representations with ResNet",
              (_group(1, "ResNet logMel + MFCC", _b("logmel64", "resnet"), _b("mfcc", "resnet")),
               _group(2, "ResNet logMel + CQT", _b("logmel64", "resnet"), _b("cqt", "resnet")))),
    TableSpec("paper2/tableIII", "III", "dcase2018_task1a",
              "multiple representations (logMel + MFCC), per network",
              (_group(1, "VGGNet", _b("logmel64", "vgg"), _b("mfcc", "vgg")),
               _group(2, "ResNet", _b("logmel64", "resnet"), _b("mfcc", "resnet")))),
    TableSpec("paper2/tableIV", "IV", "dcase2018_task1a",
              "different networks on logMel",
              (_group(1, "logMel", _b("logmel64", "vgg"), _b("logmel64", "resnet")),)),
    TableSpec("paper2/tableV", "V", "fsdkaggle2018",
              "different networks, per representation (logMel, CQT)",
              (_group(1, "logMel", _b("logmel64", "vgg"), _b("logmel64", "resnet")),
               _group(2, "CQT", _b("cqt", "vgg"), _b("cqt", "resnet")))),
    TableSpec("paper2/tableVI", "VI", "fsdkaggle2018",
              "different representations and networks",
              (_group(1, "logMel,ResNet + MFCC,VGGNet", _b("logmel64", "resnet"), _b("mfcc", "vgg")),
               _group(2, "MFCC,ResNet + logMel,VGGNet", _b("mfcc", "resnet"), _b("logmel64", "vgg")),
               _group(3, "logMel,ResNet + CQT,VGGNet", _b("logmel64", "resnet"), _b("cqt", "vgg")))),
    TableSpec("paper2/tableVII", "VII", "dcase2018_task1a",
              "different representations and networks",
              (_group(1, "logMel,ResNet + MFCC,VGGNet", _b("logmel64", "resnet"), _b("mfcc", "vgg")),
               _group(2, "MFCC,ResNet + logMel,VGGNet", _b("mfcc", "resnet"), _b("logmel64", "vgg")))),
)

_BRANCH_COLUMN_TABLES = ("VI", "VII")   # printed with Branch1/Branch2/Ensemble columns, one group per row


def run_name(group: GroupSpec, kind: str, branch: BranchSpec | None = None) -> str:
    """The run name of a row (module docstring)."""
    if kind == "ensemble":
        return "ensemble_" + "_and_".join(b.key for b in group.branches)
    if kind not in KINDS:
        raise ValueError(f"unknown run kind '{kind}' (known: {', '.join(KINDS)})")
    if branch is None or branch not in group.branches:
        raise ValueError(f"kind '{kind}' needs a branch of group {group.name}, got {branch}")
    if kind == "independent":
        return branch.key
    partners = "_and_".join(b.key for b in group.branches if b != branch)
    return f"{branch.key}_distilled_with_{partners}"


def _cell(table: TableSpec, group: GroupSpec, kind: str, branch: BranchSpec | None) -> dict:
    """Where the row is printed: table numeral, group, row label and columns."""
    if table.numeral in _BRANCH_COLUMN_TABLES:
        if kind == "ensemble":
            column = "Ensemble ACC*, mAP@3*"
        else:
            pos = group.branches.index(branch) + 1
            column = f"Branch{pos} " + ("ACC*, mAP@3*" if kind == "distilled" else "ACC, mAP@3")
        return {"table": table.numeral, "row": group.label, "column": column}
    if kind == "ensemble":
        row = "Ensemble*"
    elif table.numeral in ("IV", "V"):
        row = PRINTED_NETWORK[branch.network] + ("*" if kind == "distilled" else "")
    else:
        row = PRINTED_REPRESENTATION[branch.representation] + ("*" if kind == "distilled" else "")
    return {"table": table.numeral, "group": group.label, "row": row, "column": "Accuracy, mAP@3"}


def table_runs(table: TableSpec) -> list[RunSpec]:
    """Every distinct run of `table` in the paper's order (independent, distilled, Ensemble* per group)."""
    runs: list[RunSpec] = []
    seen: set[str] = set()
    for group in table.groups:
        for kind in ("independent", "distilled"):
            for branch in group.branches:
                name = run_name(group, kind, branch)
                if name not in seen:
                    seen.add(name)
                    runs.append(RunSpec(table.name, name, group, kind, branch,
                                        _cell(table, group, kind, branch)))
        runs.append(RunSpec(table.name, run_name(group, "ensemble"), group, "ensemble", None,
                            _cell(table, group, "ensemble", None)))
    return runs


def table_by_number(number: str) -> TableSpec:
    """Looks a table up by Roman or Arabic numeral ("VII", "vii", "7") or registry name.

    Raises:
      replication.registry.UnknownNameError (a KeyError): naming the known tables
        (replication.registry.table_number, the lookup both papers share).
    """
    numeral = registry.table_number(number, [t.numeral for t in TABLES], "paper 2")
    return next(t for t in TABLES if t.numeral == numeral)


@dataclass(frozen=True)
class DataParams:
    """Which data a table runs on and how clips become training crops / audio-level scores."""
    dataset: str = ""               # "" = the table's own data set (Sec. IV-A); demo preset: "demo" for every table
    root: str = ""                  # data set root; "" = data/datasets/<dataset>
    verified_only: bool = False     # FSDKaggle2018 training set: all ~9.5k clips (default) or the ~3.7k verified; register p2-fsdkaggle-train-set
    crop_frames: int = 150          # Sec. IV-C, "150 frames per clip" = 1.5 s training crops; register p2-crops
    eval_hop_frames: int = 75       # hop of the all-crops evaluation windows, not stated, see register p2-eval-crops
    max_train_clips: int = 0        # 0 = whole training split; >0 = a stratified subset (tests/CPU presets only, recorded as a deviation)
    max_eval_clips: int = 0         # 0 = whole test split; >0 = a stratified subset (tests only, recorded as a deviation)
    cache_root: str = ""            # feature cache; "" = $KD_FEATURE_CACHE, else data/cache in the checkout (shared/paths.py)
    cache_dtype: str = "float16"    # stored feature precision
    cache_workers: int = 0          # processes building the feature cache; 0 = auto (shared.cache.effective_workers)
    rehearsal: bool = False         # read generated rehearsal data (--rehearse, replication/rehearsal.py)
    downmix: bool = False           # features of the channel mean (FeatureParams.downmix): the paper preset's reading
                                    # for stereo TUT 2018, 3 channels (static, delta, delta-delta); register p2-mono-downmix

    def inert_fields(self) -> tuple[str, ...]:
        """rehearsal and downmix are left out of dicts (and the paper diff) while off."""
        return tuple(name for name in ("rehearsal", "downmix") if not getattr(self, name))

    def __post_init__(self) -> None:
        for name in ("crop_frames", "eval_hop_frames"):
            if getattr(self, name) < 1:
                raise ConfigError(f"DataParams.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_train_clips", "max_eval_clips", "cache_workers"):
            if getattr(self, name) < 0:
                raise ConfigError(f"DataParams.{name} must be >= 0, got {getattr(self, name)}")
        if self.cache_dtype not in ("float16", "float32"):
            raise ConfigError(f"DataParams.cache_dtype must be float16 or float32, got {self.cache_dtype!r}")


@dataclass(frozen=True)
class ExperimentParams:
    """Everything a paper-2 table run needs besides the table itself (presets/experiment_*.yaml)."""
    preset: str = "paper"           # name written into run records ("paper" | "demo" | custom)
    data: DataParams = field(default_factory=DataParams)
    resnet_arch: str = "resnet101"  # "ResNet" of the tables = ResNet101 (Sec. IV-B); demo: a small CNN
    vgg_arch: str = "vgg19"         # "VGGNet" of the tables = VGG19 (Sec. IV-B); demo: a small CNN
    training_preset: str = "paper"  # training preset of paper2_multirep/presets/<name>.yaml (SGD, epochs, mixup, T ...)
    training_overrides: dict = field(default_factory=dict)  # field -> value applied on top of the training preset
    seeds: int = 1                  # the paper reports single runs; the kit reports mean +- std over seeds
    results_root: str = "results"   # run records: <results_root>/paper2/table<N>/<run>/seed-<k>/
    distribute: DistributeParams = field(default_factory=DistributeParams)

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise ConfigError(f"ExperimentParams.seeds must be >= 1, got {self.seeds}")
        for name in ("resnet_arch", "vgg_arch"):
            if getattr(self, name) not in ARCHS:
                raise ConfigError(f"ExperimentParams.{name} '{getattr(self, name)}' unknown "
                                  f"(choose from {', '.join(ARCHS)})")
        if not self.training_preset:
            raise ConfigError("ExperimentParams.training_preset must name a training preset (paper, demo or a path)")

    def arch_of(self, network: str) -> str:
        """The keras architecture name behind a printed network name."""
        return {"resnet": self.resnet_arch, "vgg": self.vgg_arch}[network]


def _register_all() -> None:
    """Registers every table once in the kit's experiment registry (no I/O)."""
    for table in TABLES:
        if table.name not in registry.names():
            registry.register_table(table.name, lambda table=table: table)


_register_all()
