"""The glue between paper-2 table specs and the kit's pieces (data, features, training).

tables.py (paper 2's backend of replication/runner.py, which runs the checker) calls only
these functions; each one is a thin adapter over the module that owns the work:
  data sets        shared.datasets (get_dataset)
  features/cache   shared.features (paper2_params), shared.cache (FeatureCache)
  tf.data          shared.pipeline (random crops for training, all crops for scoring)
  branches/train   paper2_multirep.branches / cyclic / params (Algorithm 1, independent baseline)
  metrics          shared.metrics (audio-level accuracy, mAP@3)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from paper2_multirep.experiments import PRINTED_REPRESENTATION, BranchSpec, ExperimentParams
from shared.config import to_dict



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
                 test_fold: int | None = None, require_data: bool = True,
                 validation_fold: int | None = None) -> DataContext:
    """Resolves the data set of a table (the preset may substitute the demo data).

    With require_data=False (a dry run) a missing root gives an empty context whose
    clip counts come from the data set's spec, so a plan can be printed anywhere.
    """
    from shared.datasets.registry import get_dataset
    name = params.data.dataset or paper_dataset
    options: dict = {}
    if name == "fsdkaggle2018":
        options["verified_only"] = params.data.verified_only
    if name in ("esc50", "esc10"):
        options = {"esc10_only": name == "esc10", "test_fold": test_fold or 1}
        if validation_fold is not None:                # scored on a training fold; the test fold unread
            options["validation_fold"] = validation_fold
    module = get_dataset("esc50" if name == "esc10" else name)
    from shared.paths import default_dataset_root
    root = Path(data_root or params.data.root or default_dataset_root(name))
    if not root.exists() and not require_data:
        spec = module.spec(None, **({"esc10_only": name == "esc10"} if name in ("esc50", "esc10") else {}))
        return DataContext(name, paper_dataset, root, spec, (), (), "?", "?", options,
                           [f"data set not found at {root} (dry run: plan only)"])
    if not root.exists():
        hint = " (generate it with `python -m replication.data prepare demo`)" if name == "demo" else \
            f" (get it with `python -m replication.data prepare {name}`)"
        raise FileNotFoundError(f"data set root {root} does not exist{hint}")
    # rehearsal data (replication/rehearsal.py) is read only in the loaders' rehearsal mode
    splits = module.load_splits(root, **options, **({"rehearsal": True} if params.data.rehearsal else {}))
    if name in ("esc50", "esc10"):
        from shared.datasets.esc50 import split_names
        train_split, test_split = split_names(options["test_fold"], validation_fold)
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
    if name == "demo":
        from shared.datasets.demo import identity
        if identity(root):                             # store key: a non-default generation is other data
            options = {**options, "demo": identity(root)}
    if params.data.rehearsal:
        options = {**options, "rehearsal": True}       # store key: never shared with real data
        deviations.append("rehearsal data (generated clips in the real format), not the official set")
    spec_options = {}
    if name == "fsdkaggle2018":
        spec_options["verified_only"] = params.data.verified_only
    if name in ("esc50", "esc10"):
        # ESC-50-layout copies may be resampled (the kit's ESC-10 fixture is 22.05 kHz):
        # take the rate from the first listed file; the cache checks every file against it.
        from shared.audio import audio_info
        spec_options = {"esc10_only": name == "esc10",
                        "sample_rate": audio_info(train[0].path).sample_rate}
    return DataContext(name, paper_dataset, root, module.spec(root, **spec_options), train, test,
                       train_split, test_split, options, deviations)


# ------------------------------------------------------------------------ features
def feature_params(representation: str, sample_rate: int, downmix: bool = False):
    """FeatureParams of a representation at the data set's sample rate (Sec. IV-C), of the
    channel mean when `downmix` (DataParams.downmix, register p2-mono-downmix)."""
    from shared.features.presets import paper2_params
    return paper2_params(PRINTED_REPRESENTATION[representation], sample_rate=sample_rate, downmix=downmix)


def describe_branch(branch: BranchSpec, params: ExperimentParams, data: DataContext) -> dict:
    return {"representation": branch.representation, "network": branch.network,
            "arch": params.arch_of(branch.network),
            "features": to_dict(feature_params(branch.representation, data.spec.sample_rate, params.data.downmix)),
            "crop_frames": params.data.crop_frames, "eval_hop_frames": params.data.eval_hop_frames,
            "cache_dtype": params.data.cache_dtype}


def cache_entries(representations: Sequence[str], params: ExperimentParams,
                  data: DataContext) -> dict[str, tuple]:
    """representation -> (train, test) feature-cache entries, built once, then reused.

    The missing representations of a split are built in one pass over its clips (one
    decode per clip, shared STFTs, params.data.cache_workers processes).
    """
    from shared.cache import FeatureCache
    from shared.paths import feature_cache_root
    features = {r: feature_params(r, data.spec.sample_rate, params.data.downmix) for r in dict.fromkeys(representations)}
    cache = FeatureCache(feature_cache_root(params.data.cache_root))
    train, test = (cache.get_or_build_many(f"{data.name}:{name}", examples, features,
                                           dtype=params.data.cache_dtype,
                                           expected_channels=data.spec.channels,
                                           workers=params.data.cache_workers)
                   for name, examples in ((data.train_split, data.train),
                                          (data.test_split, data.test)))
    return {r: (train[r], test[r]) for r in features}


# ------------------------------------------------------------------------ training
def training_params(params: ExperimentParams):
    """paper2_multirep.params training config: the named preset + the experiment's overrides."""
    from paper2_multirep import params as p2
    from shared.config import load_config, override
    preset = Path(params.training_preset)
    if preset.suffix not in (".yaml", ".yml"):
        preset = Path(__file__).resolve().parent / "presets" / f"{params.training_preset}.yaml"
    train = load_config(p2.TrainParams, preset)
    if params.training_overrides:
        train = override(train, params.training_overrides, source="training_overrides")
    return train


def describe_training(params: ExperimentParams, train=None) -> dict:
    """The training params as a dict (store keys): `train` when given, else read as above."""
    return to_dict(training_params(params) if train is None else train)


def branch_training_params(params: ExperimentParams, branch: BranchSpec, train=None):
    """The training params of one branch: the preset's, with the architecture of its network.

    train: the experiment's training params already read (tables.Paper2Backend.training,
      read once when the plan is made); None reads the training preset's file now. A table
      run passes them: re-read for every job, an edit of the preset file during a long run
      could end it hours in (the paper diff's fix, 8437ad9, is the same).
    """
    from dataclasses import replace
    train = training_params(params) if train is None else train
    return replace(train, branch=replace(train.branch, arch=params.arch_of(branch.network)))


def train_job(kind: str, branches: tuple[BranchSpec, ...], seed: int, params: ExperimentParams,
              data: DataContext, log: Callable[[str], None] = print,
              checkpoint_dir: str | Path | None = None, train=None) -> tuple[dict, dict, Callable]:
    """Trains one job; returns (outputs, info, save_files).

    train: the training params read when the plan was made (branch_training_params);
      None reads the training preset's file now.

    checkpoint_dir: the job's work folder (tables.execute_job passes
      <results>/paper2/_store/.work-<key>/, replication.store.JobStore.open_work). The
      CyclicDistiller saves its whole state there after every phase (independent job:
      every pass) and, finding a checkpoint, resumes from it: the training data of a
      pass is drawn from the seed and the pass counter, the learning rate from the
      cycle, the one-crop soft labels from the seed and the cycle, so a run killed
      mid-cycle and started again ends bit-identical (outputs, records); the history
      rows of the passes before the kill are kept beside the checkpoint.

    outputs: "labels" [clips] int, "clip_ids" [clips] str, and per branch i
      "probs_i" / "logits_i" [clips, C] audio-level (crops averaged) on the test split.
    info: "faithful", "deviations", "decisions", "started", "history" (every row of the
      run, one per (branch, pass), a few floats each: replication/claims_curves.py reads
      the loss curves from it).
    save_files(entry_dir) -> file names (replication.store.JobStore.save): writes each
      branch with its front end as branch_<i>.keras (shared.classifier.AudioClassifier:
      FeatureParams, crops, the training split's normalisation, class names; what
      `python -m paper2_multirep.predict` loads) and the job's TensorBoard curves
      (tensorboard/: per pass loss, ce, kl, lr of every branch; final test metrics).
    """
    import keras
    from paper2_multirep.branches import build_branch
    from paper2_multirep.cyclic import BranchData, CyclicDistiller
    from replication.records import now_iso
    from shared.distribute import make_strategy
    from shared.pipeline import band_statistics, make_dataset, make_eval_crops

    if kind not in ("independent", "cyclic"):
        raise ValueError(f"unknown job kind '{kind}'")
    started = now_iso()
    keras.utils.set_random_seed(seed)
    strategy = make_strategy(params.distribute)
    num_classes = len(data.classes)
    crop, hop = params.data.crop_frames, params.data.eval_hop_frames
    models, branch_data, tests, notes, faithful, fronts = [], [], [], [], True, []
    first_params = None
    entries = cache_entries([b.representation for b in branches], params, data)
    for i, branch in enumerate(branches):
        train_p = branch_training_params(params, branch, train)
        first_params = first_params or train_p
        batch = train_p.optim.batch_size
        train_entry, test_entry = entries[branch.representation]
        norm = band_statistics(train_entry)       # per-(bin, channel) stats of the TRAINING split
        fronts.append({"features": to_dict(feature_params(branch.representation, data.spec.sample_rate, params.data.downmix)),
                       "crop_frames": crop, "hop_frames": hop, "feature_dtype": params.data.cache_dtype,
                       "mean": norm[0], "std": norm[1],
                       "about": {"branch": i, "representation": branch.representation,
                                 "network": branch.network, "kind": kind, "seed": seed,
                                 "dataset": data.name, "channels": data.spec.channels}})

        def train_ds(pass_index, entry=train_entry, norm=norm, i=i, batch=batch):
            return make_dataset(entry, num_classes, batch_size=batch, shuffle=True,
                                seed=seed * 100_003 + i * 1_009 + int(pass_index),
                                crop_frames=crop, normalize=norm)

        soft = (make_eval_crops(train_entry, num_classes, crop_frames=crop, hop_frames=hop,
                                batch_size=batch, normalize=norm)
                if kind == "cyclic" else None)
        tests.append(make_eval_crops(test_entry, num_classes, crop_frames=crop, hop_frames=hop,
                                     batch_size=batch, normalize=norm))
        shape = (crop, *train_entry.shape(0)[1:])
        with strategy.scope():
            built = build_branch(train_p.branch, shape, num_classes, name=f"b{i}_{branch.key}")
        faithful = faithful and built.faithful
        notes.extend(f"{branch.key}: {n}" for n in built.notes)
        models.append(built.model)
        branch_data.append(BranchData(train=train_ds, soft=soft, name=branch.key))
    distiller = CyclicDistiller(models, branch_data, num_train_clips=data.num_train,
                                num_classes=num_classes, params=first_params, seed=seed,
                                strategy=strategy, independent=(kind == "independent"), log=log)
    history = distiller.run(checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir))
    outs = distiller.evaluate(tests, num_clips=data.num_test)
    outputs: dict[str, np.ndarray] = {
        "labels": np.array([e.label for e in data.test], dtype=np.int64),
        "clip_ids": np.array([e.clip_id for e in data.test]),
    }
    for i, out in enumerate(outs):
        outputs[f"probs_{i}"] = np.asarray(out.probs, dtype=np.float32)
        outputs[f"logits_{i}"] = np.asarray(out.logits, dtype=np.float32)
    info = {"faithful": faithful, "deviations": notes, "started": started,
            "batch_norm": params.distribute.batch_norm,      # kernel, not key (register shared-fused-bn)
            "history": [{k: (float(v) if isinstance(v, (float, np.floating)) else v)
                         for k, v in row.items()} for row in (history or [])]}

    def save_files(entry: Path) -> list[str]:
        from shared.classifier import AudioClassifier
        from shared.tensorboard import LOG_DIR, write_history
        files = []
        for i, (model, front) in enumerate(zip(models, fronts)):
            name = f"branch_{i}.keras"
            AudioClassifier(model, classes=data.classes, name=f"classifier_{i}", **front).save(entry / name)
            files.append(name)
        final = {f"{k}_b{i}": v for i in range(len(outs))
                 for k, v in metrics(outputs[f"probs_{i}"], outputs["labels"]).items()}
        return files + write_history(entry / LOG_DIR, info["history"], "branch", "pass", final)

    return outputs, info, save_files


def crop_shape(representation: str, params: ExperimentParams, data: DataContext) -> tuple[int, int, int]:
    """(frames, bins, channels) of one training crop of a representation."""
    features = feature_params(representation, data.spec.sample_rate, params.data.downmix)
    num_samples = int(round((data.spec.clip_seconds or 1.0) * data.spec.sample_rate))
    frames, bins, channels = features.output_shape(num_samples, data.spec.channels)
    return (params.data.crop_frames, bins, channels)


def step_seconds(branch: BranchSpec, params: ExperimentParams, data: DataContext, batch: int,
                 steps: int = 3, clear: bool = False, train=None) -> float:
    """Seconds of one SGD step (the branch's optimiser settings) at `batch` on random crops of
    the branch's shape, after a warm-up step; `clear` frees the model's graph afterwards."""
    import keras
    from paper2_multirep.branches import build_branch
    num_classes = len(data.classes)
    train = branch_training_params(params, branch, train)
    shape = crop_shape(branch.representation, params, data)
    model = build_branch(train.branch, shape, num_classes, quiet=True).model
    model.compile(optimizer=keras.optimizers.SGD(train.optim.learning_rate, momentum=train.optim.momentum),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype("float32")
    y = np.eye(num_classes, dtype="float32")[np.arange(batch) % num_classes]
    model.train_on_batch(x, y)                                        # warm-up (tracing)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    seconds = (time.perf_counter() - start) / steps
    if clear:
        del model
        keras.backend.clear_session()
    return seconds


def measure_epoch_seconds(branches, params: ExperimentParams, data: DataContext,
                          steps: int = 3, train=None) -> dict[str, float]:
    """Seconds per pass over the training split of each branch, from timed steps here
    (step_seconds at the preset's batch, capped by the clip count); one pass =
    ceil(train clips / batch) steps (one crop per clip)."""
    out: dict[str, float] = {}
    for branch in branches:
        batch = min(branch_training_params(params, branch, train).optim.batch_size, max(1, data.num_train))
        out[branch.key] = step_seconds(branch, params, data, batch, steps, train=train) * -(-data.num_train // batch)
    return out


# ------------------------------------------------------------------- metrics/check
def metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Audio-level accuracy and mAP@3 (fractions) of clip probabilities [clips, C]."""
    from shared import metrics as m
    return {"accuracy": float(m.accuracy(probs, labels)), "map_at_3": float(m.map_at_3(probs, labels))}

