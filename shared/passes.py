"""Training passes by number: pass streams of the pipeline's training datasets.

A training dataset of shared/pipeline.py draws a NEW pass (shuffle order, crops, teacher
partners) at every new iterator, so the pass an epoch trains on depends on how many
iterators were opened before it; Keras 3.15's fit opens one extra (its first-batch peek)
under every tf.distribute strategy, and resuming a run means re-opening them. Here a
pass is asked for by number instead:

    first = claim_passes(ds, 3)          # 0 for a fresh dataset, then 3, 6, ...
    stream = pass_stream(ds, first)      # passes first, first+1, ... on EVERY iterator
    single = one_pass(ds, 7)             # pass 7 alone

Pass p is bit-identical to what the p-th iterator of `ds` yields. How: the pipeline's
`Dataset.shuffle(n, seed, reshuffle_each_iteration=True)` and `Dataset.random(seed,
rerandomize_each_iteration=True)` hold a seed generator (a Philox stream keyed by the
op's two seeds); every new iterator takes the next two 32-bit outputs of that stream as
its own (seed, seed2). So iterator p uses outputs 2p and 2p+1 of Philox-4x32-10 with
key = seed and counter = (0, seed2), which `pass_seeds` computes in-graph, and
`fixed_pass` builds the same ops with those seeds FIXED (reshuffle / rerandomize off).
tests/shared/test_pipeline_passes.py checks this against TensorFlow itself, so a TF
release that changes the scheme fails there (register shared-pass-streams).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

_INT32_MAX = 2 ** 31 - 1
_ATTR = "_kit_passes"              # attribute of a training dataset holding its Passes


class PassError(ValueError):
    """A pass stream was asked of a dataset that has none, or with bad numbers."""


def op_seeds(seed: int) -> tuple[int, int]:
    """(seed, seed2) a tf.data op created now with op seed `seed` receives.

    The global seed (tf.random.set_seed) is combined with `seed` as tf.data does
    (tf.compat.v1.get_seed; (0, 0) would mean "random", tf.data then uses seed2 = 2**31 - 1).
    """
    first, second = tf.compat.v1.get_seed(seed)
    first, second = int(first or 0), int(second or 0)
    if first == 0 and second == 0:
        second = _INT32_MAX
    return first, second


def pass_seeds(base: tuple[int, int], p: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """int64 (seed, seed2) of iterator `p` (int64 scalar tensor, 0-based) of a re-randomising
    op seeded `base`: outputs 2p, 2p+1 of Philox-4x32-10(key=base[0], counter=(0, base[1]))."""
    p = tf.cast(p, tf.int64)
    block = tf.cast(p // 2, tf.uint64)                          # 4 outputs per Philox block
    bits = tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=tf.constant([4], tf.int32),
        key=tf.constant([base[0]], tf.uint64),
        counter=tf.stack([block, tf.constant(base[1], tf.uint64)]),
        alg=tf.constant(1, tf.int32), dtype=tf.uint32)           # [4] block `p // 2`
    words = tf.cast(bits, tf.int64)
    j = 2 * (p % 2)
    # (0, 0) would make the fixed ops draw random seeds; probability 2**-64, not handled.
    return words[j], words[j + 1]


def fixed_pass(idx: np.ndarray, shuffle: bool, base: tuple[int, int], p: tf.Tensor) -> tf.data.Dataset:
    """(clip index, random int64) pairs of pass `p`: equal to iterator p of
    zip(from_tensor_slices(idx).shuffle(len, seed, reshuffle=True) if shuffle,
        Dataset.random(seed, rerandomize=True)) for a seed with op_seeds(seed) == base."""
    seed, seed2 = pass_seeds(base, p)
    clips = tf.data.Dataset.from_tensor_slices(idx)                     # [N] int64
    if shuffle:
        variant = tf.raw_ops.ShuffleDatasetV3(
            input_dataset=tf.data.experimental.to_variant(clips),
            buffer_size=tf.constant(len(idx), tf.int64), seed=seed, seed2=seed2,
            seed_generator=tf.raw_ops.DummySeedGenerator(), reshuffle_each_iteration=False,
            output_types=[tf.int64], output_shapes=[[]])
        clips = tf.data.experimental.from_variant(variant, clips.element_spec)
    rand = tf.data.experimental.from_variant(
        tf.raw_ops.RandomDataset(seed=seed, seed2=seed2, output_types=[tf.int64], output_shapes=[[]]),
        tf.TensorSpec([], tf.int64))
    return tf.data.Dataset.zip((clips, rand))


class Passes:
    """The pass streams of one training dataset and the count of passes handed out."""

    def __init__(self, build: Callable[[int, int], tf.data.Dataset], batches: int):
        self.build = build                 # (first, stride) -> stream of those passes
        self.batches = batches             # batches (elements) per pass
        self.claimed = 0                   # passes handed out by claim_passes


def attach_passes(dataset: tf.data.Dataset, passes: Passes) -> tf.data.Dataset:
    """Marks `dataset` as having the pass streams `passes` (used by shared.pipeline); returns it."""
    setattr(dataset, _ATTR, passes)
    return dataset


def _passes(dataset: tf.data.Dataset) -> Passes:
    found = getattr(dataset, _ATTR, None)
    if found is None:
        raise PassError("only a training dataset built by shared.pipeline.make_dataset / "
                        "make_teacher_pairs (without pass_index) has pass streams")
    return found


def has_passes(dataset) -> bool:
    """True for a training dataset of make_dataset / make_teacher_pairs (pass streams available)."""
    return getattr(dataset, _ATTR, None) is not None


def batches_per_pass(dataset: tf.data.Dataset) -> int:
    """Elements (batches) in one pass of a training dataset of this module."""
    return _passes(dataset).batches


def pass_stream(dataset: tf.data.Dataset, first: int, stride: int = 1) -> tf.data.Dataset:
    """The passes first, first + stride, first + 2 * stride, ... of `dataset`, without end.

    Pass p is what the p-th iterator of `dataset` yields (shuffle order, crops, partners),
    batched within the pass as `dataset` is; every iterator of the returned stream yields
    the same elements, so an extra iterator (a peek) shifts nothing.
    """
    if first < 0 or stride < 1:
        raise PassError(f"pass_stream needs first >= 0 and stride >= 1, got {first}, {stride}")
    return _passes(dataset).build(first, stride)


def one_pass(dataset: tf.data.Dataset, p: int) -> tf.data.Dataset:
    """Pass `p` of `dataset` alone (a finite dataset of known length, the same on every
    iterator). The length matters: Keras runs a dataset of unknown length until it ends,
    and that last, failing step still advances stateful random ops (mixup's generator)."""
    batches = batches_per_pass(dataset)
    return pass_stream(dataset, p).take(batches).apply(tf.data.experimental.assert_cardinality(batches))


def claim_passes(dataset: tf.data.Dataset, count: int) -> int:
    """Hands out the next `count` pass numbers of `dataset`; returns the first of them.

    A fresh dataset starts at 0. Trainers claim the passes a training run used to draw by
    opening iterators, so a dataset reused by several runs (the two steps of the CNN-GRU)
    continues where the previous run stopped, independent of extra iterators.
    """
    if count < 0:
        raise PassError(f"claim_passes: count must be >= 0, got {count}")
    passes = _passes(dataset)
    first = passes.claimed
    passes.claimed += count
    return first
