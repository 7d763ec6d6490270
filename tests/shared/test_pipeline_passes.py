"""Pass streams (shared/passes.py): pass p by number equals the p-th iterator of the pipeline.

The reference is always TensorFlow itself: a dataset of shared.pipeline iterated p + 1
times. If a TensorFlow release changes how re-randomising tf.data ops seed their
iterators, these tests fail (and the kit's resume / strategy guarantees with them).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from shared.audio import write_audio
from shared.cache import FeatureCache
from shared.datasets.base import Example
from shared.features import FeatureParams
from shared.passes import (PassError, batches_per_pass, claim_passes, has_passes, one_pass,
                           pass_stream)
from shared.pipeline import make_dataset, make_eval_crops, make_teacher_pairs

RATE, CLIP = 1000, 300
LABELS = [0, 0, 0, 1, 1, 1, 2, 2, 0, 1, 2]        # 11 clips: the last batch of 4 is short
PASSES = 5


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    """Stereo float WAVs: channel 0 marks the clip, channel 1 the sample position."""
    folder = tmp_path_factory.mktemp("passes")
    examples = []
    for i, label in enumerate(LABELS):
        audio = np.stack([np.full(CLIP, (i + 1) / 16), np.arange(CLIP) / CLIP], axis=1)
        path = folder / "audio" / f"c{i}.wav"
        write_audio(path, audio.astype(np.float32), RATE, subtype="FLOAT")
        examples.append(Example(path, label, f"c{i}"))
    return FeatureCache(folder / "cache", progress=False).get_or_build(
        "toy", examples, FeatureParams(kind="waveform", sample_rate=RATE), dtype="float32")


def _flat(ds) -> list[tuple]:
    """Every element as (index tuple, x bytes, x_teacher bytes or None), in order."""
    out = []
    for el in ds:
        xt = el.get("x_teacher")
        out.append((tuple(np.atleast_1d(el["index"].numpy()).tolist()), el["x"].numpy().tobytes(),
                    None if xt is None else xt.numpy().tobytes()))
    return out


def _iterations(ds, count: int) -> list[list[tuple]]:
    return [_flat(ds) for _ in range(count)]


BUILDERS = {
    "crops": lambda e, **k: make_dataset(e, 3, batch_size=4, crop_frames=50, **k),
    "crops-unshuffled": lambda e, **k: make_dataset(e, 3, batch_size=4, crop_frames=50, shuffle=False, **k),
    "pairs": lambda e, **k: make_teacher_pairs(e, 3, batch_size=4, crop_frames=50, partners=2, **k),
    "unbatched": lambda e, **k: make_dataset(e, 3, batch_size=None, crop_frames=50, **k),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("global_seed", [None, 7])
def test_pass_p_is_the_p_th_iteration(entry, kind, global_seed):
    tf.random.set_seed(global_seed) if global_seed is not None else None
    build = BUILDERS[kind]
    reference = _iterations(build(entry, seed=3), PASSES)
    assert len({str(p) for p in reference}) == PASSES, "passes must differ (crops at least)"
    fresh = build(entry, seed=3)
    n = batches_per_pass(fresh)
    stream = _flat(pass_stream(fresh, 0).take(n * PASSES))
    assert [stream[i * n:(i + 1) * n] for i in range(PASSES)] == reference
    assert _flat(pass_stream(fresh, 2, stride=2).take(2 * n)) == reference[2] + reference[4]
    assert _flat(one_pass(fresh, 3)) == reference[3]
    assert _flat(build(entry, seed=3, pass_index=4)) == reference[4]
    # known lengths (Keras runs a dataset of unknown length until a step fails)
    assert int(one_pass(fresh, 3).cardinality()) == n == int(build(entry, seed=3, pass_index=4).cardinality())


def test_a_stream_is_the_same_on_every_iterator(entry):
    tf.random.set_seed(11)
    ds = BUILDERS["pairs"](entry, seed=5)
    stream = pass_stream(ds, 1).take(3 * batches_per_pass(ds))
    fixed = make_teacher_pairs(entry, 3, batch_size=4, crop_frames=50, partners=2, seed=5, pass_index=2)
    assert _flat(stream) == _flat(stream)
    assert _flat(fixed) == _flat(fixed)
    # iterating the stream or a pass opens no iterator of `ds`: ds's own passes are unmoved
    assert _flat(ds) == _flat(one_pass(ds, 0))


def test_different_seeds_give_different_passes(entry):
    tf.random.set_seed(1)
    a, b = BUILDERS["crops"](entry, seed=1), BUILDERS["crops"](entry, seed=2)
    assert _flat(one_pass(a, 0)) != _flat(one_pass(b, 0))
    assert _flat(one_pass(a, 0)) != _flat(one_pass(a, 1))


def test_claim_passes_hands_out_numbers_in_order(entry):
    ds = BUILDERS["crops"](entry, seed=0)
    assert batches_per_pass(ds) == 3 and has_passes(ds)
    assert claim_passes(ds, 4) == 0
    assert claim_passes(ds, 0) == 4
    assert claim_passes(ds, 2) == 4
    assert claim_passes(ds, 1) == 6
    assert claim_passes(BUILDERS["crops"](entry, seed=0), 1) == 0     # per dataset


def test_datasets_without_passes_are_clear_errors(entry):
    others = [make_eval_crops(entry, 3, crop_frames=50), BUILDERS["crops"](entry, seed=0, pass_index=1),
              BUILDERS["crops"](entry, seed=0).take(2), tf.data.Dataset.range(3)]
    for ds in others:
        assert not has_passes(ds)
        with pytest.raises(PassError, match="make_dataset"):
            pass_stream(ds, 0)
    ds = BUILDERS["crops"](entry, seed=0)
    with pytest.raises(PassError, match="first >= 0"):
        pass_stream(ds, -1)
    with pytest.raises(PassError, match="stride"):
        pass_stream(ds, 0, stride=0)
    with pytest.raises(PassError, match="count"):
        claim_passes(ds, -1)
    with pytest.raises(ValueError, match="pass_index"):
        BUILDERS["crops"](entry, seed=0, pass_index=-1)


def test_keras_peek_under_a_strategy_shifts_iterations_but_not_streams(entry):
    """What the pass streams are for: fit under MirroredStrategy (1 device) opens one extra
    iterator (the symbolic-build peek); on the plain dataset it then trains on other passes
    than the default strategy, on a pass stream on the same ones."""
    import keras

    seen: list = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x["x"][:, 0, :] if isinstance(x, dict) else x)

        def train_step(self, data):
            tf.py_function(lambda v: seen.append(tuple(v.numpy().tolist())), [data["index"]], [])
            return {"n": tf.constant(0.0)}

    def fit_indices(strategy, use_stream: bool) -> list:
        seen.clear()
        tf.random.set_seed(2)
        ds = BUILDERS["crops"](entry, seed=9)
        with strategy.scope():
            model = Recorder()
            model.compile(optimizer="sgd")
        data = pass_stream(ds, 0) if use_stream else ds.repeat()
        model.fit(data, epochs=2, steps_per_epoch=batches_per_pass(ds), verbose=0)
        return list(seen)

    default = tf.distribute.get_strategy()
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0"])
    assert fit_indices(default, True) == fit_indices(default, False)
    assert fit_indices(mirrored, True) == fit_indices(default, True)
    assert fit_indices(mirrored, False) != fit_indices(default, False)    # the problem being fixed
