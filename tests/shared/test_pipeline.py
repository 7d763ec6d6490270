"""tf.data readers: element structure, seeded randomness, crops, teacher pairs."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from shared.audio import write_audio
from shared.cache import FeatureCache
from shared.datasets.base import Example
from shared.features import FeatureParams
from shared.pipeline import (PipelineError, band_statistics, eval_crop_starts, make_dataset,
                             make_eval_crops, make_teacher_pairs)

RATE = 1000
LABELS = [0, 0, 0, 1, 1, 2]          # class 2 has a single clip
LENGTHS = [400, 400, 400, 400, 400, 400]


@pytest.fixture(scope="module")
def toy_examples(tmp_path_factory):
    """Stereo float WAVs: channel 0 marks the clip ((i+1)/8), channel 1 the sample position."""
    folder = tmp_path_factory.mktemp("pipe")
    examples = []
    for i, (label, n) in enumerate(zip(LABELS, LENGTHS)):
        audio = np.stack([np.full(n, (i + 1) / 8), np.arange(n) / n], axis=1).astype(np.float32)
        path = folder / "audio" / f"c{i}.wav"
        write_audio(path, audio, RATE, subtype="FLOAT")
        examples.append(Example(path, label, f"c{i}"))
    return folder, examples


def _toy_entry(toy_examples, dtype: str):
    folder, examples = toy_examples
    params = FeatureParams(kind="waveform", sample_rate=RATE)
    return FeatureCache(folder / f"cache_{dtype}", progress=False).get_or_build(
        "toy", examples, params, dtype=dtype)


@pytest.fixture(scope="module")
def entry(toy_examples):
    return _toy_entry(toy_examples, "float32")


def _clip_of(x: np.ndarray) -> int:
    marks = np.unique(np.round(x[:, 0] * 8).astype(int) - 1)
    assert marks.size == 1, "a crop mixes clips"
    return int(marks[0])


def _start_of(x: np.ndarray, n: int = 400) -> int:
    return int(round(x[0, 1] * n))


def _epoch(ds):
    return [{k: v.numpy() for k, v in el.items()} for el in ds]


def test_elements_have_the_agreed_structure(entry):
    ds = make_dataset(entry, 3, batch_size=4, crop_frames=100, seed=1)
    assert set(ds.element_spec) == {"x", "y", "index"}
    batch = next(iter(ds))
    assert batch["x"].shape == (4, 100, 2) and batch["x"].dtype == tf.float32
    assert batch["y"].shape == (4, 3) and batch["y"].dtype == tf.float32
    assert batch["index"].dtype == tf.int32
    for x, y, i in zip(batch["x"].numpy(), batch["y"].numpy(), batch["index"].numpy()):
        assert _clip_of(x) == i
        assert y.argmax() == LABELS[i] and y.sum() == 1.0
        start = _start_of(x)
        np.testing.assert_allclose(x, entry.read(int(i))[start:start + 100])


def test_seeded_shuffle_and_crops_repeat_exactly_and_change_each_epoch(entry):
    def run(seed):
        ds = make_dataset(entry, 3, batch_size=None, crop_frames=50, seed=seed)
        return [[(int(e["index"]), _start_of(e["x"])) for e in _epoch(ds)] for _ in range(2)]

    a, b = run(7), run(7)
    assert a == b
    assert a[0] != a[1]                                # new order and/or crops in epoch 2
    assert sorted(i for i, _ in a[0]) == list(range(6))
    assert run(8) != a


def test_center_crop_and_unshuffled_order(entry):
    ds = make_dataset(entry, 3, batch_size=None, shuffle=False, crop_frames=100, crop="center")
    els = _epoch(ds)
    assert [int(e["index"]) for e in els] == list(range(6))
    assert all(_start_of(e["x"]) == 150 for e in els)


def test_short_clips_wrap_pad_or_fail(entry):
    ds = make_dataset(entry, 3, batch_size=None, shuffle=False, crop_frames=500)
    x = next(iter(ds))["x"].numpy()
    np.testing.assert_allclose(x[400:], x[:100])       # wrapped
    ds = make_dataset(entry, 3, batch_size=None, shuffle=False, crop_frames=500, short_clip="zeros")
    assert np.all(next(iter(ds))["x"].numpy()[400:] == 0)
    ds = make_dataset(entry, 3, batch_size=None, crop_frames=500, short_clip="error")
    with pytest.raises(tf.errors.InvalidArgumentError, match="fewer than crop_frames"):
        next(iter(ds))


def test_eval_crops_cover_every_clip(entry):
    assert eval_crop_starts(400, 150, 100) == [0, 100, 200, 250]
    assert eval_crop_starts(100, 150, 100) == [0]
    ds = make_eval_crops(entry, 3, crop_frames=150, hop_frames=100, batch_size=5)
    els = _epoch(ds.unbatch())
    assert len(els) == 6 * 4
    for e in els:
        assert _clip_of(e["x"]) == e["index"] and e["x"].shape == (150, 2)
    starts = [_start_of(e["x"]) for e in els if e["index"] == 3]
    assert starts == [0, 100, 200, 250]


def test_teacher_pairs_concatenate_same_class_partners(entry):
    ds = make_teacher_pairs(entry, 3, partners=1, batch_size=None, seed=3)
    seen = {}
    for epoch in range(5):
        for e in _epoch(ds):
            i = int(e["index"])
            assert e["x"].shape == (400, 2) and e["x_teacher"].shape == (800, 2)
            np.testing.assert_array_equal(e["x_teacher"][:400], e["x"])
            partner = _clip_of(e["x_teacher"][400:])
            assert LABELS[partner] == LABELS[i]
            assert partner != i or LABELS.count(LABELS[i]) == 1
            seen.setdefault(i, set()).add(partner)
    assert seen[0] == {1, 2}                           # redrawn across epochs
    assert seen[5] == {5}                              # alone in its class
    two = next(iter(make_teacher_pairs(entry, 3, partners=2, batch_size=2, seed=0)))
    assert two["x_teacher"].shape == (2, 1200, 2)
    again = next(iter(make_teacher_pairs(entry, 3, partners=2, batch_size=2, seed=0)))
    np.testing.assert_array_equal(two["x_teacher"].numpy(), again["x_teacher"].numpy())


def test_partners_come_only_from_the_selected_indices(entry):
    ds = make_teacher_pairs(entry, 3, indices=[0, 1, 3, 4], batch_size=None, seed=0, crop_frames=60)
    for _ in range(3):
        for e in _epoch(ds):
            partner = _clip_of(e["x_teacher"][60:])
            assert partner in (0, 1, 3, 4) and partner != int(e["index"])
            assert e["x_teacher"].shape == (120, 2)


def test_band_statistics_and_normalisation(entry):
    mean, std = band_statistics(entry, indices=[0, 3])
    stacked = np.concatenate([entry.read(0), entry.read(3)])
    np.testing.assert_allclose(mean, stacked.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, stacked.std(axis=0), rtol=1e-5)
    ds = make_dataset(entry, 3, indices=[0, 3], batch_size=None, shuffle=False,
                      normalize=(mean, std))
    xs = np.concatenate([e["x"] for e in _epoch(ds)])
    np.testing.assert_allclose(xs.mean(axis=0), 0.0, atol=1e-5)


def test_bad_requests_are_clear_errors(entry):
    with pytest.raises(PipelineError, match="clip indices must be in"):
        make_dataset(entry, 3, indices=[0, 9])
    with pytest.raises(PipelineError, match="crop 'middle' unknown"):
        make_dataset(entry, 3, crop="middle")
    with pytest.raises(PipelineError, match="partners must be 1 or 2"):
        make_teacher_pairs(entry, 3, partners=3)


def test_keras_fit_consumes_the_dataset(entry):
    import keras
    ds = make_dataset(entry, 3, batch_size=3, crop_frames=100, seed=0).map(
        lambda d: (d["x"], d["y"]))
    model = keras.Sequential([keras.Input((100, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_batched_reading_gives_the_same_elements_as_unbatched(entry):
    one = _epoch(make_dataset(entry, 3, batch_size=None, crop_frames=70, seed=5))
    many = _epoch(make_dataset(entry, 3, batch_size=4, crop_frames=70, seed=5).unbatch())
    assert len(one) == len(many) == 6
    for a, b in zip(one, many):
        assert a["index"] == b["index"]
        np.testing.assert_array_equal(a["x"], b["x"])
    t1 = _epoch(make_teacher_pairs(entry, 3, batch_size=None, seed=2))
    t4 = _epoch(make_teacher_pairs(entry, 3, batch_size=4, seed=2).unbatch())
    for a, b in zip(t1, t4):
        np.testing.assert_array_equal(a["x_teacher"], b["x_teacher"])


def test_a_float16_cache_gives_float32_batches_of_the_same_crops(toy_examples, entry):
    """Batches are stacked in the cache's dtype and cast in the graph: a float16 cache
    yields float32 tensors equal to the float32 cache's crops rounded to float16."""
    entry16 = _toy_entry(toy_examples, "float16")
    assert entry16.dtype == "float16"
    readers = {
        "batched": lambda e: make_dataset(e, 3, batch_size=4, crop_frames=100, seed=3),
        "single": lambda e: make_dataset(e, 3, batch_size=None, crop_frames=100, seed=3),
        "eval": lambda e: make_eval_crops(e, 3, crop_frames=150, hop_frames=100, batch_size=5),
        "teacher": lambda e: make_teacher_pairs(e, 3, batch_size=3, crop_frames=80, seed=3),
    }
    for name, make in readers.items():
        full, half = _epoch(make(entry)), _epoch(make(entry16))
        assert len(full) == len(half), name
        for a, b in zip(full, half):
            for key in ("x", "x_teacher"):
                if key in a:
                    assert b[key].dtype == np.float32, (name, key)
                    np.testing.assert_array_equal(b[key], a[key].astype(np.float16).astype(np.float32))
            np.testing.assert_array_equal(a["index"], b["index"])
