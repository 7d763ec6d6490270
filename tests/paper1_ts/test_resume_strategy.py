"""Paper 1 training under a tf.distribute strategy: same passes as the default strategy,
and kill -9 + rerun bit-identical under MirroredStrategy on 2 (logical CPU) replicas.

Found (before shared/passes.py): under any strategy scope Keras 3.15's fit first peeks one
batch (TensorFlowTrainer._maybe_symbolic_build), which opens one extra iterator of the
training dataset, and the pipeline draws a new pass at every iterator. A run under
MirroredStrategy therefore trained on other passes than the default strategy (weights
differed by up to 2.7 on the resume test's CNN-GRU, one replica), and a kill -9 in step 2
of the two-step CNN-GRU training under 2 replicas resumed on the wrong passes (70 of 72
arrays differed; a kill in step 1 happened to line up). The trainers now feed fit pass
streams numbered explicitly, so:
  - default strategy: the same weights as the uncheckpointed iterator-counting path
    (the recorded results are unchanged), checkpointed or not;
  - MirroredStrategy on one replica: bit-identical to the default strategy;
  - kill -9 in step 2 under 2 replicas and rerun: bit-identical to an uninterrupted
    run under 2 replicas (tests/paper1_ts/test_resume_mirrored_kill.py).
"""

from __future__ import annotations

import numpy as np
import pytest

RATE, CLIP, CROP, CLASSES, CLIPS = 1000, 200, 40, 2, 12


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    """12 stereo clips (class = tone), cached as waveforms [200, 2]."""
    from tests.toy_cache import tone_waveform_cache

    return tone_waveform_cache(tmp_path_factory.mktemp("p1_strategy"), "strategy-toy", clips=CLIPS,
                               clip=CLIP, classes=CLASSES, rate=RATE, base_hz=40, step_hz=150, noise=0.3)


def _net(name: str):
    """[B, CROP, 2] -> {"logits": [B, 2], "embedding": [B, 6]} (no BatchNorm)."""
    from tests.toy_nets import toy_waveform_net

    return toy_waveform_net(name, CROP, CLASSES, seed=1)


def _two_step(entry, strategy, checkpoint_dir, legacy: bool) -> list[np.ndarray]:
    """Final weights of a two-step training (2 + 2 epochs) on a pipeline dataset;
    `legacy`: the dataset without pass streams (ds.take(-1)), i.e. the iterator-counting path."""
    import tensorflow as tf

    from paper1_ts.train import train_two_step_cnn_gru
    from paper1_ts.train_params import TrainParams
    from shared.pipeline import make_dataset

    tf.random.set_seed(4)
    ds = make_dataset(entry, CLASSES, batch_size=4, crop_frames=CROP, seed=3)
    if legacy:
        ds = ds.take(-1)          # same iterators underneath, no pass streams
    with strategy.scope():
        pool, gru = _net("pool"), _net("gru")
    params = TrainParams(learning_rate=1e-2, batch_size=4, pool_epochs=2, gru_epochs=2)
    train_two_step_cnn_gru(pool, gru, lambda a, b: b.set_weights(a.get_weights()), ds, params,
                           strategy=strategy, checkpoint_dir=checkpoint_dir)
    return gru.get_weights()


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("checkpointed", [False, True])
def test_default_strategy_keeps_the_iterator_order(entry, tmp_path, checkpointed):
    """Pass streams, with or without a checkpoint folder, train on the passes the
    uncheckpointed iterator-counting fit drew (how the recorded results were made), so
    the table runners' checkpointed jobs reproduce them (paper1_ts/jobs.py)."""
    import tensorflow as tf

    default = tf.distribute.get_strategy()
    ckpt = (lambda name: tmp_path / name) if checkpointed else (lambda name: None)
    streams = _two_step(entry, default, ckpt("streams"), legacy=False)
    iterators = _two_step(entry, default, None, legacy=True)
    assert _same(streams, iterators)


@pytest.mark.parametrize("checkpointed", [False, True])
def test_mirrored_one_replica_equals_the_default_strategy(entry, tmp_path, checkpointed):
    import tensorflow as tf

    default, mirrored = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0"])
    ckpt = (lambda name: tmp_path / name) if checkpointed else (lambda name: None)
    reference = _two_step(entry, default, ckpt("default"), legacy=False)
    assert _same(_two_step(entry, mirrored, ckpt("mirrored"), legacy=False), reference)
    if not checkpointed:    # the problem the pass streams fix: counting iterators shifts the passes
        assert not _same(_two_step(entry, mirrored, None, legacy=True), reference)
