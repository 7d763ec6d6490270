"""tf.data readers over a feature CacheEntry (streaming, deterministic given a seed).

Every dataset yields dicts. Training / evaluation elements:
    {"x": float32 [T, ...features], "y": float32 one-hot [num_classes], "index": int32}
Teacher pairs (paper 1, Eq. 4):
    {"x": [T, ...], "x_teacher": [T * (1 + partners), ...], "y", "index"}
`index` is the clip's position in the entry, so crop predictions can be averaged per
clip with shared.metrics.clip_average.

Streaming: the dataset holds clip indices only; each element is read from the cache
by memory-mapping inside tf.numpy_function (only the cropped frames are copied).
Randomness: each element is paired with a value of tf.data.Dataset.random(seed,
rerandomize_each_iteration=True); crop offsets and teacher partners are drawn from a
numpy Generator seeded by that value, so results do not depend on parallel map order,
differ from epoch to epoch, and repeat exactly for the same seed.

Passes by number (exact resume, strategies): iterating a training dataset draws the
NEXT pass (shuffle order, crops, partners) at every new iterator, so anything that
opens an extra iterator shifts the passes (Keras 3.15's fit peeks one batch under every
tf.distribute strategy). `pass_stream(ds, first)` gives the passes first, first+1, ...
of a dataset built here as a stream that is the same on EVERY iterator, and
`one_pass(ds, p)` pass p alone (both in shared/passes.py); pass p is bit-identical to
what the p-th iterator of `ds` yields (the seeds TensorFlow gives that iterator are
computed). `claim_passes(ds, n)` hands out pass numbers in order, the way a trainer
used to consume iterators (register shared-pass-streams).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from shared.cache import CacheEntry
from shared.passes import Passes, attach_passes, fixed_pass, op_seeds

AUTOTUNE = tf.data.AUTOTUNE
CROPS = ("random", "center")
SHORT_CLIP = ("wrap", "zeros", "error")
_SEED_MASK = (1 << 63) - 1
_NO_END = np.iinfo(np.int64).max          # Dataset.range end: pass numbers without an end


class PipelineError(ValueError):
    """The cache entry and the requested pipeline do not fit together."""


def _indices(entry: CacheEntry, indices: Sequence[int] | None) -> np.ndarray:
    idx = np.arange(entry.num_examples) if indices is None else np.asarray(indices, np.int64)
    if idx.size == 0:
        raise PipelineError(f"{entry.path}: no clip indices selected")
    if idx.min() < 0 or idx.max() >= entry.num_examples:
        raise PipelineError(f"{entry.path}: clip indices must be in [0, {entry.num_examples})")
    return idx


def _feature_dims(entry: CacheEntry, idx: np.ndarray) -> tuple[tuple[int, ...], set[int]]:
    """Common trailing dims of the selected clips and the set of their lengths."""
    dims = {entry.shape(int(i))[1:] for i in idx}
    if len(dims) != 1:
        raise PipelineError(f"{entry.path}: clips differ in feature shape {sorted(dims)}")
    return dims.pop(), {entry.shape(int(i))[0] for i in idx}


def fit_length(x: np.ndarray, length: int, short_clip: str, where: str) -> np.ndarray:
    """Makes a clip shorter than `length` frames long enough: wrap (tile), zeros, or error."""
    n = x.shape[0]
    if n >= length:
        return x
    if short_clip == "error":
        raise PipelineError(f"{where}: clip has {n} frames, fewer than crop_frames={length}")
    if short_clip == "zeros":
        pad = np.zeros((length - n,) + x.shape[1:], x.dtype)
        return np.concatenate([x, pad], axis=0)
    reps = -(-length // n)
    return np.concatenate([x] * reps, axis=0)[:length]


def _crop(entry: CacheEntry, i: int, crop_frames: int | None, crop: str, rng, short_clip: str):
    """[crop_frames or T, ...] of clip i in the stored dtype: a view of the memory map (no
    copy; the batch is copied once when stacked, then cast to float32 in the graph)."""
    n = entry.shape(i)[0]
    if crop_frames is None:
        return entry.read(i)
    if n <= crop_frames:
        return fit_length(entry.read(i), crop_frames, short_clip, str(entry.clip_path(i)))
    start = int(rng.integers(0, n - crop_frames + 1)) if crop == "random" else (n - crop_frames) // 2
    return entry.read(i)[start:start + crop_frames]


def _check_options(crop: str, short_clip: str, crop_frames: int | None) -> None:
    if crop not in CROPS:
        raise PipelineError(f"crop '{crop}' unknown (known: {', '.join(CROPS)})")
    if short_clip not in SHORT_CLIP:
        raise PipelineError(f"short_clip '{short_clip}' unknown (known: {', '.join(SHORT_CLIP)})")
    if crop_frames is not None and crop_frames < 1:
        raise PipelineError(f"crop_frames must be positive, got {crop_frames}")


def _time_dim(crop_frames: int | None, lengths: set[int]) -> int | None:
    if crop_frames is not None:
        return crop_frames
    return next(iter(lengths)) if len(lengths) == 1 else None


def _check_batching(batch_size: int | None, time_dim: int | None) -> None:
    if batch_size is not None and batch_size < 1:
        raise PipelineError(f"batch_size must be positive or None, got {batch_size}")
    if batch_size is not None and batch_size > 1 and time_dim is None:
        raise PipelineError("clips differ in length: give crop_frames to batch them")


def _batch(pairs: tf.data.Dataset, batch_size: int | None, drop_remainder: bool) -> tf.data.Dataset:
    return pairs if batch_size is None else pairs.batch(batch_size, drop_remainder=drop_remainder)


def _stack(parts: list, dtype: str) -> np.ndarray:
    """[len(parts), ...] in the cache's `dtype`: ONE copy of the memory-mapped parts.
    The float32 conversion happens afterwards in the graph: TensorFlow's CPU cast is
    vectorised, numpy's float16 -> float32 is not (6x slower, measured: 3.5 ms against
    0.6 ms for a 16 x 63999 x 2 batch); both are exact, so the values are the same."""
    out = np.empty((len(parts),) + parts[0].shape, dtype)
    for k, part in enumerate(parts):
        out[k] = part
    return out


def _reader(read_one, dtype: str, outputs: int, batched: bool,
            to_element) -> Callable[[tf.data.Dataset], tf.data.Dataset]:
    """Function mapping a (batched) stream of (index, key) pairs to elements; with a batch
    size, whole batches are read in one tf.numpy_function call (far less Python overhead
    than one call per clip). `read_one` returns one array, or a tuple of `outputs` arrays,
    in the cache's `dtype`, possibly views of its memory maps: each batch is copied exactly
    once, in that dtype, and cast to float32 in the graph before `to_element`."""
    single = outputs == 1
    tout = tf.as_dtype(dtype) if single else (tf.as_dtype(dtype),) * outputs

    def read_many(ii, kk):
        outs = [read_one(i, k) for i, k in zip(ii, kk)]
        if single:
            return _stack(outs, dtype)
        return tuple(_stack(list(parts), dtype) for parts in zip(*outs))

    def read_single(i, k):
        out = read_one(i, k)
        if single:
            return np.array(out, dtype=dtype)                          # owned copy, never a map
        return tuple(np.array(o, dtype=dtype) for o in out)

    fn = read_many if batched else read_single

    def mapper(i, k):
        arrays = tf.numpy_function(fn, [i, k], tout, stateful=False)
        if single:
            arrays = tf.cast(arrays, tf.float32)
        else:
            arrays = tuple(tf.cast(a, tf.float32) for a in arrays)
        return to_element(i, arrays)

    return lambda pairs: pairs.map(mapper, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def _read_mapped(ds: tf.data.Dataset, read_one, dtype: str, batch_size: int | None,
                 drop_remainder: bool, to_element) -> tf.data.Dataset:
    """(index, key) pairs -> elements (batched when batch_size is given)."""
    read = _reader(read_one, dtype, 1, batch_size is not None, to_element)
    return read(_batch(ds, batch_size, drop_remainder))


def _with_shape(x: tf.Tensor, batched: bool, shape: tuple) -> tf.Tensor:
    x.set_shape(((None,) if batched else ()) + shape)
    return x


def _indexed_stream(idx: np.ndarray, shuffle: bool, seed: int) -> tf.data.Dataset:
    """(clip index int64, random int64) pairs; reshuffled and re-randomised each epoch."""
    ds = tf.data.Dataset.from_tensor_slices(idx)
    if shuffle:
        ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
    rand = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip((ds, rand))


def _make_training(idx: np.ndarray, shuffle: bool, seed: int, batch_size: int | None,
                   drop_remainder: bool, read: Callable, pass_index: int | None) -> tf.data.Dataset:
    """The dataset of make_dataset / make_teacher_pairs (`read` maps batched pairs to
    elements), with its pass streams attached; `pass_index` fixes it to that one pass."""
    base = op_seeds(seed)                  # taken now: depends on the global seed, like the stream's

    def passes(first: int, stride: int) -> tf.data.Dataset:
        numbers = tf.data.Dataset.range(first, _NO_END, stride)           # pass numbers
        return read(numbers.flat_map(
            lambda p: _batch(fixed_pass(idx, shuffle, base, p), batch_size, drop_remainder)))

    ds = read(_batch(_indexed_stream(idx, shuffle, seed), batch_size, drop_remainder))
    if pass_index is None:
        return attach_passes(ds, Passes(passes, int(ds.cardinality())))
    if pass_index < 0:
        raise PipelineError(f"pass_index must be >= 0, got {pass_index}")
    fixed = read(_batch(fixed_pass(idx, shuffle, base, tf.constant(pass_index, tf.int64)),
                        batch_size, drop_remainder))
    # known length, as the re-randomising dataset has (Keras runs an unknown one until it fails)
    return fixed.apply(tf.data.experimental.assert_cardinality(int(ds.cardinality())))


def make_dataset(entry: CacheEntry, num_classes: int, *, indices: Sequence[int] | None = None,
                 batch_size: int | None = 32, shuffle: bool = True, seed: int = 0,
                 crop_frames: int | None = None, crop: str = "random",
                 short_clip: str = "wrap", drop_remainder: bool = False,
                 normalize: tuple[np.ndarray, np.ndarray] | None = None,
                 pass_index: int | None = None) -> tf.data.Dataset:
    """Training (or whole-clip evaluation) dataset.

    Args:
      entry: cache entry.
      num_classes: size of the one-hot labels.
      indices: clips to use (default all), e.g. the training split's positions.
      batch_size: None for unbatched elements.
      shuffle: seeded shuffle, reshuffled every epoch.
      crop_frames: None = whole clips; else crops of this many frames along time.
      crop: "random" (training) or "center".
      short_clip: clips shorter than crop_frames are "wrap"ped, zero-padded or an error.
      normalize: (mean, std) broadcastable to one frame (see band_statistics).
      pass_index: None = every iterator draws the next pass (see the module docstring);
        p = only pass p, the same on every iterator (what the p-th iterator of the
        dataset built with None yields).
    Returns:
      tf.data.Dataset of {"x", "y", "index"}.
    """
    _check_options(crop, short_clip, crop_frames)
    idx = _indices(entry, indices)
    dims, lengths = _feature_dims(entry, idx)
    time_dim = _time_dim(crop_frames, lengths)
    _check_batching(batch_size, time_dim)
    labels = tf.constant(entry.labels, tf.int64)                          # [num_examples]
    batched = batch_size is not None

    def read(i, r):
        rng = np.random.default_rng(int(r) & _SEED_MASK)
        return _crop(entry, int(i), crop_frames, crop, rng, short_clip)  # [T, ...]

    def to_element(i, x):
        x = _with_shape(x, batched, (time_dim,) + dims)                  # [(B,) T, ...]
        if normalize is not None:
            x = (x - normalize[0]) / normalize[1]
        y = tf.one_hot(tf.gather(labels, i), num_classes, dtype=tf.float32)  # [(B,) num_classes]
        return {"x": x, "y": y, "index": tf.cast(i, tf.int32)}

    return _make_training(idx, shuffle, seed, batch_size, drop_remainder,
                          _reader(read, entry.dtype, 1, batched, to_element), pass_index)


def eval_crop_starts(num_frames: int, crop_frames: int, hop_frames: int) -> list[int]:
    """Start frames of sliding crops covering a clip; the last crop ends at the clip's end."""
    if hop_frames < 1:
        raise PipelineError(f"hop_frames must be positive, got {hop_frames}")
    if num_frames <= crop_frames:
        return [0]
    starts = list(range(0, num_frames - crop_frames + 1, hop_frames))
    if starts[-1] != num_frames - crop_frames:
        starts.append(num_frames - crop_frames)
    return starts


def make_eval_crops(entry: CacheEntry, num_classes: int, *, crop_frames: int,
                    hop_frames: int | None = None, indices: Sequence[int] | None = None,
                    batch_size: int | None = 64, short_clip: str = "wrap",
                    normalize: tuple[np.ndarray, np.ndarray] | None = None) -> tf.data.Dataset:
    """All crops of every clip, in clip order, for audio-level scores (paper 2, notes open 1).

    Each element carries "index" (the clip), so `shared.metrics.clip_average` turns
    crop predictions into clip predictions. hop_frames defaults to crop_frames.
    """
    _check_options("center", short_clip, crop_frames)
    idx = _indices(entry, indices)
    dims, _ = _feature_dims(entry, idx)
    hop = crop_frames if hop_frames is None else hop_frames
    pairs = np.array([(i, s) for i in idx for s in eval_crop_starts(entry.shape(int(i))[0],
                                                                    crop_frames, hop)],
                     dtype=np.int64)                                     # [num_crops, 2]
    labels = tf.constant(entry.labels, tf.int64)
    _check_batching(batch_size, crop_frames)
    batched = batch_size is not None

    def read(i, start):
        i, start = int(i), int(start)
        n = entry.shape(i)[0]
        x = entry.read(i)[start:min(n, start + crop_frames)]                 # view, stored dtype
        return fit_length(x, crop_frames, short_clip, str(entry.clip_path(i)))  # [crop, ...]

    def to_element(i, x):
        x = _with_shape(x, batched, (crop_frames,) + dims)               # [(B,) crop, ...]
        if normalize is not None:
            x = (x - normalize[0]) / normalize[1]
        y = tf.one_hot(tf.gather(labels, i), num_classes, dtype=tf.float32)
        return {"x": x, "y": y, "index": tf.cast(i, tf.int32)}

    ds = tf.data.Dataset.from_tensor_slices((pairs[:, 0], pairs[:, 1]))
    return _read_mapped(ds, read, entry.dtype, batch_size, False, to_element)


def same_class_pools(labels: np.ndarray, idx: np.ndarray) -> dict[int, np.ndarray]:
    """Class -> the selected clip indices of that class (partners come only from `idx`)."""
    return {int(c): idx[labels[idx] == c] for c in np.unique(labels[idx])}


def draw_partners(i: int, pool: np.ndarray, partners: int, rng) -> list[int]:
    """`partners` clips of i's class, never i itself unless i is alone in its class."""
    others = pool[pool != i]
    if others.size == 0:
        return [i] * partners
    return [int(p) for p in rng.choice(others, size=partners, replace=others.size < partners)]


def make_teacher_pairs(entry: CacheEntry, num_classes: int, *, partners: int = 1,
                       indices: Sequence[int] | None = None, batch_size: int | None = 40,
                       shuffle: bool = True, seed: int = 0, crop_frames: int | None = None,
                       short_clip: str = "wrap", drop_remainder: bool = False,
                       pass_index: int | None = None) -> tf.data.Dataset:
    """Student clip and its teacher input (paper 1, Eq. 4; notes open 6).

    "x_teacher" is the student's clip followed IN TIME by `partners` (1 or 2) other
    clips of the same class, drawn afresh every epoch from `indices`; a clip alone in
    its class is paired with itself. With crop_frames, every part is a random crop of
    that length. Deterministic given `seed`; `pass_index` as in make_dataset.
    """
    if partners not in (1, 2):
        raise PipelineError(f"partners must be 1 or 2 (20 s or 30 s teacher input), got {partners}")
    _check_options("random", short_clip, crop_frames)
    idx = _indices(entry, indices)
    dims, lengths = _feature_dims(entry, idx)
    time_dim = _time_dim(crop_frames, lengths)
    labels_np = entry.labels
    pools = same_class_pools(labels_np, idx)
    labels = tf.constant(labels_np, tf.int64)
    _check_batching(batch_size, time_dim)
    batched = batch_size is not None

    def read(i, r):
        i = int(i)
        rng = np.random.default_rng(int(r) & _SEED_MASK)
        student = _crop(entry, i, crop_frames, "random", rng, short_clip)    # [T, ...]
        mates = draw_partners(i, pools[int(labels_np[i])], partners, rng)
        parts = [student] + [_crop(entry, p, crop_frames, "random", rng, short_clip) for p in mates]
        return student, np.concatenate(parts, axis=0)                         # [T, ...], [T', ...]

    def to_element(i, arrays):
        x, xt = arrays
        x = _with_shape(x, batched, (time_dim,) + dims)                    # [(B,) T, ...]
        teacher_time = None if time_dim is None else time_dim * (1 + partners)
        xt = _with_shape(xt, batched, (teacher_time,) + dims)            # [(B,) T * (1 + p), ...]
        y = tf.one_hot(tf.gather(labels, i), num_classes, dtype=tf.float32)
        return {"x": x, "x_teacher": xt, "y": y, "index": tf.cast(i, tf.int32)}

    return _make_training(idx, shuffle, seed, batch_size, drop_remainder,
                          _reader(read, entry.dtype, 2, batched, to_element), pass_index)


def band_statistics(entry: CacheEntry, indices: Sequence[int] | None = None,
                    min_std: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Per-(bin, channel) mean and std over all frames of the selected clips, streamed.

    Use the TRAINING split's indices (notes "paper 2 open 2"); returns float32 arrays of
    shape entry.shape(i)[1:], ready for `normalize=`.
    """
    idx = _indices(entry, indices)
    total = sq = None
    count = 0
    for i in idx:
        x = entry.read(int(i)).astype(np.float64)                          # [T, ...]
        s, s2 = x.sum(axis=0), np.square(x).sum(axis=0)
        total = s if total is None else total + s
        sq = s2 if sq is None else sq + s2
        count += x.shape[0]
    mean = total / count
    std = np.sqrt(np.maximum(sq / count - mean ** 2, 0.0))
    return mean.astype(np.float32), np.maximum(std, min_std).astype(np.float32)
