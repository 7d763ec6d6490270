"""Audio-level evaluation metrics, as pure numpy functions.

Both papers report single-label classification scores over clips:
  accuracy            fraction of clips whose top-1 class is the true class.
  map_at_3            mAP@3 as defined by the DCASE 2018 task 2 (FSDKaggle2018) Kaggle
                      competition: per clip, 1/rank if the true class is among the top 3
                      predictions (rank 1, 2 or 3), else 0; averaged over clips. With
                      one true label per clip this equals the mean average precision
                      truncated at 3.
  confusion_matrix    counts [true, predicted].
Clip ("audio-level") probabilities come from crop probabilities by averaging every
crop that carries the clip's index (`clip_average`), and an ensemble is the mean of
several models' clip probabilities (`ensemble`, paper 2's Ensemble*).

All scores are FRACTIONS in [0, 1]. Labels are integer class indices [N]; one-hot
[N, C] labels are accepted and converted. Ties in a probability row are broken
towards the lower class index (a stable descending sort), so results are
deterministic.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class MetricError(ValueError):
    """Inputs of a metric do not fit together (shapes, ranges, missing clips)."""


def label_indices(labels, num_classes: int | None = None) -> np.ndarray:
    """Integer labels [N] from int labels [N] or one-hot/probability labels [N, C]."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        if num_classes is not None and labels.shape[1] != num_classes:
            raise MetricError(f"labels have {labels.shape[1]} columns, expected {num_classes} classes")
        labels = np.argmax(labels, axis=1)                          # [N]
    if labels.ndim != 1:
        raise MetricError(f"labels must be [N] ints or [N, C] one-hot, got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise MetricError("integer labels expected, got non-integer values")
    labels = labels.astype(np.int64)
    if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise MetricError(f"labels must lie in [0, {num_classes}), got range "
                          f"[{labels.min()}, {labels.max()}]")
    return labels


def _check_scores(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise MetricError(f"scores must be [N, C], got shape {probs.shape}")
    if probs.shape[0] == 0:
        raise MetricError("no clips to score (empty score array)")
    labels = label_indices(labels, probs.shape[1])
    if labels.shape[0] != probs.shape[0]:
        raise MetricError(f"{probs.shape[0]} score rows but {labels.shape[0]} labels")
    if not np.all(np.isfinite(probs)):
        raise MetricError("scores contain NaN or inf")
    return probs, labels


def ranking(probs) -> np.ndarray:
    """Class indices of each row from best to worst [N, C] (stable: ties -> lower index)."""
    probs = np.asarray(probs, dtype=np.float64)
    return np.argsort(-probs, axis=1, kind="stable")               # [N, C]


def accuracy(probs, labels) -> float:
    """Top-1 accuracy (fraction) of scores [N, C] against labels [N]."""
    probs, labels = _check_scores(probs, labels)
    top1 = ranking(probs)[:, 0]                                     # [N]
    return float(np.mean(top1 == labels))


def average_precision_at_k(probs, labels, k: int = 3) -> np.ndarray:
    """Per-clip precision at the rank of the true class, 1/rank if rank <= k else 0 -> [N]."""
    if k < 1:
        raise MetricError(f"k must be >= 1, got {k}")
    probs, labels = _check_scores(probs, labels)
    top = ranking(probs)[:, :k]                                     # [N, k]
    hits = top == labels[:, None]                                   # [N, k], at most one True per row
    ranks = np.arange(1, top.shape[1] + 1, dtype=np.float64)        # [k]
    return np.sum(hits / ranks[None, :], axis=1)                    # [N]


def map_at_k(probs, labels, k: int = 3) -> float:
    """Mean over clips of average_precision_at_k (Kaggle's MAP@k with one label per clip)."""
    return float(np.mean(average_precision_at_k(probs, labels, k)))


def map_at_3(probs, labels) -> float:
    """mAP@3 of the FSDKaggle2018 competition (fraction), paper 2 Sec. V."""
    return map_at_k(probs, labels, 3)


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts [num_classes, num_classes]: row = true class, column = predicted class.

    `predictions` are class indices [N] or scores [N, C] (argmax taken).
    """
    labels = label_indices(labels, num_classes)
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        if predictions.shape[1] != num_classes:
            raise MetricError(f"scores have {predictions.shape[1]} columns, expected {num_classes}")
        predictions = ranking(predictions)[:, 0]
    predictions = label_indices(predictions, num_classes)
    if predictions.shape != labels.shape:
        raise MetricError(f"{predictions.shape[0]} predictions but {labels.shape[0]} labels")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def clip_average(crop_values, clip_index, num_clips: int) -> np.ndarray:
    """Averages crop rows [n_crops, C] into clip rows [num_clips, C] by clip index [n_crops].

    Every clip 0..num_clips-1 must have at least one crop: a clip without crops is an
    error (it would otherwise be scored silently as all zeros).
    """
    values = np.asarray(crop_values, dtype=np.float64)
    index = np.asarray(clip_index).reshape(-1)
    if values.ndim != 2:
        raise MetricError(f"crop values must be [n_crops, C], got shape {values.shape}")
    if index.shape[0] != values.shape[0]:
        raise MetricError(f"{values.shape[0]} crop rows but {index.shape[0]} clip indices")
    if not np.issubdtype(index.dtype, np.integer):
        raise MetricError(f"clip indices must be integers, got dtype {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= num_clips):
        raise MetricError(f"clip indices must lie in [0, {num_clips}), got range "
                          f"[{index.min()}, {index.max()}]")
    sums = np.zeros((num_clips, values.shape[1]), dtype=np.float64)     # [clips, C]
    np.add.at(sums, index, values)
    counts = np.bincount(index, minlength=num_clips)                     # [clips]
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        shown = ", ".join(str(i) for i in missing[:10])
        raise MetricError(f"{missing.size} of {num_clips} clips have no crops (e.g. clip indices {shown})")
    return sums / counts[:, None]                                        # [clips, C]


def ensemble(probs_list: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of several models' clip probabilities (paper 2's Ensemble*) -> [N, C]."""
    if len(probs_list) == 0:
        raise MetricError("ensemble of zero models")
    arrays = [np.asarray(p, dtype=np.float64) for p in probs_list]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise MetricError(f"ensemble members have different shapes: {sorted(shapes)}")
    return np.mean(np.stack(arrays), axis=0)


def scores(probs, labels) -> dict[str, float]:
    """{"accuracy", "map_at_3"} as fractions, the two numbers paper 2 reports."""
    return {"accuracy": accuracy(probs, labels), "map_at_3": map_at_3(probs, labels)}


__all__ = [
    "MetricError", "accuracy", "average_precision_at_k", "clip_average", "confusion_matrix",
    "ensemble", "label_indices", "map_at_3", "map_at_k", "ranking", "scores",
]
