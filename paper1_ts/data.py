"""Paper 1's data for the table runner: official splits -> feature cache -> tf.data.

Elements are the dicts the trainers consume (shared/pipeline.py convention):
  {"x": float32 student input (one clip), "y": one-hot [C], "index": int32 clip index}
and, with partners > 0 (shared.pipeline.make_teacher_pairs),
  {"x_teacher": the clip joined IN TIME with `partners` other clips of the same class,
   redrawn every epoch (Eq. 4, notes Open 6: fresh partners)}.

Features of each (family, split) are computed once into the on-disk feature cache
(shared/cache.py: one memory-mapped .npy per clip, keyed by clips + front end + dtype)
under params.data.cache_root (default data/cache in the checkout, gitignored; see
shared/paths.py) and streamed batch by
batch: no split is ever held in RAM (the paper's raw waveform is ~17 GB as float16).

    ctx = DataContext(resolve_params("demo"))
    ds = ctx.train_dataset("spec", partners=1, seed=0)    # batched dicts with "x_teacher"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from paper1_ts.params import Paper1Params
from shared.cache import CacheEntry, FeatureCache
from shared.datasets.base import DatasetError, Example
from shared.paths import default_dataset_root, feature_cache_root
from shared.pipeline import make_dataset, make_teacher_pairs

SPLITS = ("train", "eval")


def dataset_root(params: Paper1Params) -> Path:
    return Path(params.data.root) if params.data.root else default_dataset_root(params.data.dataset)


def cache_root(params: Paper1Params) -> Path:
    """Feature cache directory: params.data.cache_root, else $KD_FEATURE_CACHE, else
    data/cache in the checkout (shared.paths.feature_cache_root, the rule of both papers)."""
    return feature_cache_root(params.data.cache_root)


def dataset_module(name: str):
    """The dataset module of the kit for `name` (dcase2018_task1a | demo)."""
    from shared.datasets import dcase2018_task1a, demo
    modules = {"dcase2018_task1a": dcase2018_task1a, "demo": demo}
    if name not in modules:
        raise DatasetError(f"paper 1 runs on dcase2018_task1a or demo, not '{name}'")
    return modules[name]


def per_class(examples: tuple[Example, ...], limit: int) -> tuple[Example, ...]:
    """The first `limit` examples of each class in official order (all when limit is 0)."""
    if limit <= 0:
        return tuple(examples)
    seen: dict[int, int] = {}
    out = []
    for e in examples:
        if seen.get(e.label, 0) < limit:
            out.append(e)
            seen[e.label] = seen.get(e.label, 0) + 1
    return tuple(out)


def split_sizes(params: Paper1Params) -> dict[str, int]:
    """Clip counts of both splits: read from the data when present, else the official counts."""
    root = dataset_root(params)
    module = dataset_module(params.data.dataset)
    try:
        ctx = DataContext(params, prepare=False)
        return {params.data.train_split: ctx.n_train, params.data.eval_split: ctx.n_eval}
    except (DatasetError, FileNotFoundError, OSError):
        counts = module.spec().extra.get("split_counts", {})
        if not counts:
            return {}
        out = {}
        for split, limit, in ((params.data.train_split, params.data.train_per_class),
                              (params.data.eval_split, params.data.eval_per_class)):
            if split in counts:
                out[split] = counts[split] if not limit else min(counts[split], limit * module.spec().num_classes)
        print(f"data: {root} not readable; clip counts are the official ones")
        return out


class DataContext:
    """The plan's clips, their cached features and tf.data datasets of pipeline dicts.

    Args:
      params: resolved Paper1Params (data, raw_features, spec_features, train.batch_size).
      prepare: generate the demo data set when it is missing (demo only, and only when
        params.data.auto_prepare_demo).
    Raises:
      DatasetError: unknown data set, or a split missing from its metadata (names the root).
    """

    def __init__(self, params: Paper1Params, prepare: bool = True):
        self.params = params
        self.root = dataset_root(params)
        module = dataset_module(params.data.dataset)
        if params.data.dataset == "demo" and prepare and params.data.auto_prepare_demo \
                and module.generated_params(self.root) is None:      # any finished generation is used as it is
            print(f"data: generating the demo data set in {self.root}")
            module.generate(self.root)
        # rehearsal data (replication/rehearsal.py) is read only in the loaders' rehearsal mode
        splits = module.load_splits(self.root, rehearsal=True) if params.data.rehearsal \
            else module.load_splits(self.root)
        for name in (params.data.train_split, params.data.eval_split):
            if name not in splits:
                raise DatasetError(f"{self.root}: no split '{name}' (splits: {', '.join(splits)})")
        self.spec = module.spec() if params.data.dataset != "demo" else module.spec(module.read_params(self.root))
        self.split_names = {"train": params.data.train_split, "eval": params.data.eval_split}
        self.examples = {"train": per_class(splits[params.data.train_split].examples, params.data.train_per_class),
                         "eval": per_class(splits[params.data.eval_split].examples, params.data.eval_per_class)}
        for split, examples in self.examples.items():
            if not examples:
                raise DatasetError(f"{self.root}: split '{self.split_names[split]}' has no clips")
        self.cache = FeatureCache(cache_root(params))
        self._entries: dict[tuple[str, str], CacheEntry] = {}

    @property
    def n_train(self) -> int:
        return len(self.examples["train"])

    @property
    def n_eval(self) -> int:
        return len(self.examples["eval"])

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes

    def labels(self, split: str) -> np.ndarray:
        """int64 [N] labels of `split` ("train" | "eval") in clip-index order."""
        return np.asarray([e.label for e in self._examples(split)], dtype=np.int64)

    def _examples(self, split: str) -> tuple[Example, ...]:
        if split not in SPLITS:
            raise ValueError(f"split '{split}' unknown (choose from {', '.join(SPLITS)})")
        return self.examples[split]

    def entry(self, family: str, split: str) -> CacheEntry:
        """The feature-cache entry of `family` ("raw" | "spec") on `split`, built on first use.

        Clip i of the entry is self.examples[split][i]; arrays are [time, ...] per clip.
        """
        key = (family, split)
        if key not in self._entries:
            examples = self._examples(split)
            name = f"{self.params.data.dataset}:{self.split_names[split]}"
            entry = self.cache.get_or_build(
                name, examples, self.params.features_of(family), dtype=self.params.data.cache_dtype,
                expected_channels=self.spec.channels, workers=self.params.data.cache_workers)
            self._check_model_input(family, split, entry)
            self._entries[key] = entry
        return self._entries[key]

    def _check_model_input(self, family: str, split: str, entry: CacheEntry) -> None:
        """The preset's model input must be the clips' feature shape (one 10 s DCASE clip,
        one 4 s demo clip): a mismatch is named here, before any model meets it.

        Raises:
            DatasetError: a clip's features differ from models.raw_cnn.input_length or
                models.cnn_gru.input_frames / input_bins (a value of None accepts any).
        """
        net = self.params.model_of(family)
        if family == "raw":
            wanted, field = (net.input_length,), "models.raw_cnn.input_length"
        else:
            wanted, field = (net.input_frames, net.input_bins), "models.cnn_gru.input_frames / input_bins"
        shapes = {entry.shape(i)[:len(wanted)] for i in range(entry.num_examples)}
        bad = sorted(s for s in shapes if any(w is not None and w != got for w, got in zip(wanted, s)))
        if bad:
            clips = f"{self.spec.clip_seconds:g} s clips" if self.spec.clip_seconds else "clips"
            raise DatasetError(
                f"{self.root}: the {family} features of split '{self.split_names[split]}' have shape "
                f"{', '.join(str(b) for b in bad)} per clip ({clips} at "
                f"{self.params.features_of(family).sample_rate} Hz), but the preset's {field} is "
                f"{', '.join(str(w) for w in wanted)}: generate the data with the clip length the preset "
                f"was sized for, or change {field} to match")

    def _dataset(self, family: str, split: str, partners: int, seed: int, shuffle: bool) -> tf.data.Dataset:
        entry = self.entry(family, split)
        n_classes = len(self.classes)
        batch = self.params.train.batch_size
        if partners:
            # {"x": [B, T, ...], "x_teacher": [B, T * (1 + partners), ...], "y", "index"}
            return make_teacher_pairs(entry, n_classes, partners=partners, batch_size=batch,
                                      shuffle=shuffle, seed=seed)
        return make_dataset(entry, n_classes, batch_size=batch, shuffle=shuffle, seed=seed)  # {"x": [B, T, ...]}

    def train_dataset(self, family: str, partners: int = 0, seed: int = 0) -> tf.data.Dataset:
        """Shuffled (reshuffled every epoch) training batches; partners redrawn every epoch."""
        return self._dataset(family, "train", partners, seed, shuffle=True)

    def embed_dataset(self, family: str, split: str, partners: int = 0, seed: int = 0) -> tf.data.Dataset:
        """Every clip of `split` once, in order (embeddings / SVM / figures)."""
        return self._dataset(family, split, partners, seed, shuffle=False)
