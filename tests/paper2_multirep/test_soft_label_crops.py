"""CyclicParams.soft_label_crops (register p2-soft-label-crops): "all" averages every crop
of a clip, "one" keeps one crop per clip drawn from the run's seed and the cycle."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from paper2_multirep.branches import build_branch
from paper2_multirep.cyclic import BranchData, CyclicDistiller, one_crop_per_clip, soft_label_rng
from paper2_multirep.params import TrainParams
from shared.config import override

N, C, F, K, CROPS, T = 24, 4, 16, 8, 3, 2.0   # clips, classes, frames, bins, crops per clip, temperature


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _setup(crops: str, seed: int = 0):
    params = override(TrainParams(), {
        "branch": {"arch": "small_cnn", "weights": "none", "small_filters": [8]},
        "optim": {"epochs": 1, "batch_size": 8},
        "cyclic": {"temperature": T, "soft_label_crops": crops}})
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, C, N)
    # crops[b][j]: crop j of every clip for branch b -> [N, F, K, 3]; clearly different crops
    crop_x = [[rng.normal(size=(N, F, K, 3)).astype("float32") * (1 + j) for j in range(CROPS)]
              for _ in range(2)]
    models = [build_branch(params.branch, (F, K, 3), C, name=f"b{b}", quiet=True).model for b in range(2)]
    data = []
    for b in range(2):
        # the soft-label dataset yields crops clip by clip, crop number j in order (as make_eval_crops)
        x = np.stack(crop_x[b], axis=1).reshape(N * CROPS, F, K, 3)
        index = np.repeat(np.arange(N), CROPS).astype("int32")
        soft = tf.data.Dataset.from_tensor_slices(
            {"x": x, "y": np.eye(C, dtype="float32")[labels[index]], "index": index}).batch(7)
        data.append(BranchData(train=soft, soft=soft, name=f"rep{b}"))
    distiller = CyclicDistiller(models, data, N, C, params, seed=seed, log=lambda s: None)
    # P_i of every clip from each crop alone: [branch][crop] -> [N, C]
    per_crop = [[_softmax(models[b](crop_x[b][j], training=False).numpy().astype(np.float64) / T)
                 for j in range(CROPS)] for b in range(2)]
    return distiller, per_crop


def _chosen(soft_labels, per_crop_of_branch):
    """Crop number each clip's soft label came from (asserts it equals one crop's output)."""
    out = []
    for n in range(N):
        hits = [j for j in range(CROPS) if np.allclose(soft_labels[n], per_crop_of_branch[j][n], atol=1e-5)]
        assert len(hits) == 1, f"clip {n}: soft label is not the output of exactly one crop ({hits})"
        out.append(hits[0])
    return np.array(out)


def test_all_crops_average_every_crop():
    distiller, per_crop = _setup("all")
    distiller.fuse()
    for b in range(2):
        np.testing.assert_allclose(distiller.last_soft_labels[b], np.mean(per_crop[b], axis=0), atol=1e-5)


def test_one_crop_per_clip_same_crop_for_every_branch_new_draw_each_cycle():
    distiller, per_crop = _setup("one")
    p_bar = distiller.fuse()
    first = [_chosen(distiller.last_soft_labels[b], per_crop[b]) for b in range(2)]
    np.testing.assert_array_equal(first[0], first[1])          # the branches score the same crop
    assert len(set(first[0].tolist())) == CROPS                # every crop number occurs over 24 clips
    # P_bar is the mean of the branches' single-crop soft labels, not of all crops
    np.testing.assert_allclose(p_bar, np.mean(distiller.last_soft_labels, axis=0), atol=1e-6)
    assert not np.allclose(p_bar, np.mean([np.mean(per_crop[b], axis=0) for b in range(2)], axis=0),
                           atol=1e-3)
    # The same cycle draws the same crops again (a resumed run); the next cycle draws anew
    distiller.fuse()
    np.testing.assert_array_equal(_chosen(distiller.last_soft_labels[0], per_crop[0]), first[0])
    distiller.cycle.assign(1)
    distiller.fuse()
    assert not np.array_equal(_chosen(distiller.last_soft_labels[0], per_crop[0]), first[0])


def test_one_crop_choice_is_uniform_and_checks_clips():
    index = np.repeat(np.arange(4), [1, 2, 3, 4])                  # clips with 1..4 crops
    rows = one_crop_per_clip(index, 4, soft_label_rng(0, 0))
    np.testing.assert_array_equal(index[rows], np.arange(4))       # one row per clip, clip order
    picks = np.array([one_crop_per_clip(index, 4, soft_label_rng(0, q))[3] for q in range(400)])
    counts = np.bincount(picks - 6, minlength=4)                   # clip 3 owns rows 6..9
    assert counts.min() > 60, counts                               # ~100 each: every crop is drawn
    with pytest.raises(ValueError, match=r"clips \[2\] have no crop"):
        one_crop_per_clip(np.array([0, 1, 3]), 4, soft_label_rng(0, 0))
