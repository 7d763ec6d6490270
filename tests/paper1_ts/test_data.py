"""Paper 1 data context: features come from the on-disk cache and stream through tf.data."""

import numpy as np
import pytest

from paper1_ts.data import DataContext
from paper1_ts.params import resolve_params
from shared.datasets.base import DatasetError


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    params = resolve_params("demo", {"data": {"train_per_class": 2, "eval_per_class": 1,
                                              "cache_root": str(cache)},
                                     "train": {"batch_size": 4}})
    return DataContext(params)


def test_features_are_cached_per_clip_on_disk(ctx):
    entry = ctx.entry("spec", "eval")
    assert entry.num_examples == ctx.n_eval == 10
    assert entry.path.is_relative_to(ctx.cache.root)
    assert len(list((entry.path / "clips").glob("*.npy"))) == 10
    assert isinstance(entry.read(0), np.memmap)            # read lazily, not held in RAM
    assert entry.shape(0) == ctx.params.models.cnn_gru.input_shape
    np.testing.assert_array_equal(entry.labels, ctx.labels("eval"))
    assert ctx.entry("spec", "eval") is entry             # built once


def test_train_batches_and_teacher_pairs(ctx):
    frames = ctx.params.models.cnn_gru.input_frames
    batch = next(iter(ctx.train_dataset("spec", partners=1, seed=3)))
    assert batch["x"].shape == (4, frames, 64, 2)
    assert batch["x_teacher"].shape == (4, 2 * frames, 64, 2)
    # The teacher input starts with the student's own clip; the partner is another clip of its class.
    np.testing.assert_allclose(batch["x_teacher"][:, :frames].numpy(), batch["x"].numpy())
    index = batch["index"].numpy()
    for b, i in enumerate(index):
        partner = batch["x_teacher"][b, frames:].numpy()
        same = [j for j in range(ctx.n_train) if ctx.labels("train")[j] == ctx.labels("train")[i] and j != i]
        assert any(np.allclose(partner, ctx.entry("spec", "train").read(j)) for j in same)


def test_embed_dataset_visits_every_clip_once_in_order(ctx):
    seen = np.concatenate([b["index"].numpy() for b in ctx.embed_dataset("raw", "eval")])
    np.testing.assert_array_equal(seen, np.arange(ctx.n_eval))


def test_unknown_split_and_dataset_fail_clearly(ctx, tmp_path):
    with pytest.raises(ValueError, match="split"):
        ctx.entry("spec", "test")
    with pytest.raises(DatasetError, match="dcase2018_task1a or demo"):
        DataContext(resolve_params("demo", {"data": {"dataset": "esc50"}}))


def test_clips_shorter_than_the_preset_model_input_are_named_before_training(tmp_path):
    """2 s demo clips under the demo preset (sized for 4 s): a DatasetError naming the root,
    the split, both shapes and the preset field, not Keras's input-shape error mid-fit."""
    from shared.datasets import demo
    root = demo.generate(tmp_path / "demo", demo.with_params(clip_seconds=1.0, train_per_class=1,
                                                              evaluate_per_class=1), progress=False)
    params = resolve_params("demo", {"data": {"root": str(root), "cache_root": str(tmp_path / "cache")}})
    ctx = DataContext(params)
    with pytest.raises(DatasetError, match=r"raw features of split 'fold1_train' have shape \(15999,\).*"
                                           r"1 s clips.*models\.raw_cnn\.input_length is 63999"):
        ctx.entry("raw", "train")
    with pytest.raises(DatasetError, match=r"models\.cnn_gru\.input_frames / input_bins is 99, 64"):
        ctx.entry("spec", "eval")
    assert not ctx._entries                      # nothing half-accepted is kept
