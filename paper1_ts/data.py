"""Paper 1's data for the table runner: official splits, features, tf.data of pipeline dicts.

Elements are the dicts the trainers consume (shared/pipeline convention):
  {"x": student input (one clip), "y": one-hot [C], "index": int32 clip index}
and, with partners > 0,
  {"x_teacher": the clip joined IN TIME with `partners` other clips of the same class,
   redrawn every epoch (Eq. 4, notes Open 6: fresh partners)}.

Features are computed once per (family, split) with shared.features.frontend and held in
memory as float arrays [N, ...]; this suits the demo preset (a few hundred MB). The
paper preset (about 17 GB of raw waveform) needs the streaming feature cache of
shared/cache.py and shared/pipeline.py; see the README (limitation noted in the report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import tensorflow as tf

from paper1_ts.params import Paper1Params
from shared.audio import read_audio
from shared.datasets.base import DatasetError, Example

REPO = Path(__file__).resolve().parents[1]


def dataset_root(params: Paper1Params) -> Path:
    return Path(params.data.root) if params.data.root else REPO / "data" / "datasets" / params.data.dataset


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
    """The plan's clips and their features, as tf.data datasets of pipeline dicts."""

    def __init__(self, params: Paper1Params, prepare: bool = True):
        self.params = params
        self.root = dataset_root(params)
        module = dataset_module(params.data.dataset)
        if params.data.dataset == "demo" and prepare and params.data.auto_prepare_demo \
                and not module.is_complete(self.root, module.DemoParams()):
            print(f"data: generating the demo data set in {self.root}")
            module.generate(self.root)
        splits = module.load_splits(self.root)
        for name in (params.data.train_split, params.data.eval_split):
            if name not in splits:
                raise DatasetError(f"{self.root}: no split '{name}' (splits: {', '.join(splits)})")
        self.spec = module.spec() if params.data.dataset != "demo" else module.spec(module.read_params(self.root))
        self.examples = {"train": per_class(splits[params.data.train_split].examples, params.data.train_per_class),
                         "eval": per_class(splits[params.data.eval_split].examples, params.data.eval_per_class)}
        self._features: dict[tuple[str, str], np.ndarray] = {}

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
        return np.asarray([e.label for e in self.examples[split]], dtype=np.int64)

    def features(self, family: str, split: str) -> np.ndarray:
        """[N, ...] float32 features of every clip of `split` ("train" | "eval")."""
        from tqdm.auto import tqdm

        from shared.features.frontend import compute_features

        key = (family, split)
        if key not in self._features:
            fp = self.params.features_of(family)
            arrays = []
            for e in tqdm(self.examples[split], desc=f"{family} features ({split})", unit="clip", leave=False):
                audio, rate = read_audio(e.path, expected_channels=self.spec.channels)
                arrays.append(compute_features(audio, rate, fp, where=str(e.path)))
            shapes = {a.shape for a in arrays}
            if len(shapes) != 1:
                raise DatasetError(f"{self.root}: clips of {split} give features of different shapes {sorted(shapes)}")
            self._features[key] = np.stack(arrays).astype(np.float32)          # [N, ...]
        return self._features[key]

    def _partners(self, rng: np.random.Generator, labels: np.ndarray, partners: int) -> np.ndarray:
        """[N, partners] indices of same-class clips other than the clip itself (when possible)."""
        out = np.empty((len(labels), partners), dtype=np.int64)
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            for i in members:
                others = members[members != i] if len(members) > 1 else members
                out[i] = rng.choice(others, size=partners, replace=len(others) < partners)
        return out

    def _dataset(self, family: str, split: str, partners: int, seed: int, shuffle: bool) -> tf.data.Dataset:
        x = self.features(family, split)                                        # [N, T, ...]
        labels = self.labels(split)
        y = np.eye(len(self.classes), dtype=np.float32)[labels]                 # [N, C]
        rng = np.random.default_rng(seed)

        def epoch() -> Iterator[dict]:
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            mates = self._partners(rng, labels, partners) if partners else None   # redrawn per epoch
            for i in order:
                item = {"x": x[i], "y": y[i], "index": np.int32(i)}
                if mates is not None:
                    item["x_teacher"] = np.concatenate([x[i], *x[mates[i]]], axis=0)   # [T*(1+p), ...]
                yield item

        signature = {"x": tf.TensorSpec(x.shape[1:], tf.float32),
                     "y": tf.TensorSpec(y.shape[1:], tf.float32),
                     "index": tf.TensorSpec((), tf.int32)}
        if partners:
            long = (x.shape[1] * (1 + partners), *x.shape[2:])
            signature["x_teacher"] = tf.TensorSpec(long, tf.float32)
        ds = tf.data.Dataset.from_generator(epoch, output_signature=signature)
        return ds.batch(self.params.train.batch_size).prefetch(tf.data.AUTOTUNE)

    def train_dataset(self, family: str, partners: int = 0, seed: int = 0) -> tf.data.Dataset:
        """Shuffled (reshuffled every epoch) training batches; partners redrawn every epoch."""
        return self._dataset(family, "train", partners, seed, shuffle=True)

    def embed_dataset(self, family: str, split: str, partners: int = 0, seed: int = 0) -> tf.data.Dataset:
        """Every clip of `split` once, in order (embeddings / SVM / figures)."""
        return self._dataset(family, split, partners, seed, shuffle=False)
