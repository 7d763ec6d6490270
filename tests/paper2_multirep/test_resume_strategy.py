"""Paper 2's CyclicDistiller on pipeline datasets under a tf.distribute strategy.

Found: the distiller trains each pass on `BranchData.train(pass_index)`; the table
runner builds a fresh shared.pipeline dataset per pass, so the data order WAS a function
of the pass counter - but under any strategy Keras 3.15's fit peeks one batch first,
which opens an extra iterator, and the pass then trained on the dataset's second draw
(another shuffle and other crops than on the default strategy). The distiller now trains
a pipeline dataset by pass number (paper2_multirep.cyclic.pass_of), so:
  - default strategy: the same weights as before (iterator order), whether the factory
    builds a fresh dataset per pass (table runner) or returns one dataset every time;
  - MirroredStrategy on one replica: bit-identical to the default strategy.
The kill -9 resume under 2 replicas is tests/paper2_multirep/test_resume_mirrored_kill.py.
"""

from __future__ import annotations

import numpy as np
import pytest

RATE, CLIP, CROP, CLASSES, CLIPS = 1000, 160, 32, 3, 12


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    """12 stereo clips (class = tone), cached as waveforms [160, 2]."""
    from tests.toy_cache import tone_waveform_cache

    return tone_waveform_cache(tmp_path_factory.mktemp("p2_strategy"), "p2-strategy-toy", clips=CLIPS,
                               clip=CLIP, classes=CLASSES, rate=RATE, base_hz=40, step_hz=120, noise=0.3)


def _branch(name: str):
    """[B, CROP, 2] -> logits [B, 3] (no BatchNorm)."""
    from tests.toy_nets import toy_waveform_net

    return toy_waveform_net(name, CROP, CLASSES, seed=None, embedding=False)


def _cyclic(entry, strategy, factory: str, legacy: bool, mixup: bool = True) -> list[np.ndarray]:
    """Weights and P_bar after 2 cycles; training data from shared.pipeline: factory
    "fresh" = a new dataset per pass (as the table runner), "same" = one dataset."""
    import keras
    import tensorflow as tf

    from paper2_multirep.cyclic import BranchData, CyclicDistiller
    from paper2_multirep.params import TrainParams
    from shared.config import override
    from shared.pipeline import make_dataset, make_eval_crops

    tf.random.set_seed(6)

    def train(seed):
        ds = make_dataset(entry, CLASSES, batch_size=4, crop_frames=CROP, seed=seed)
        return ds.take(-1) if legacy else ds      # take(-1): same iterators, no pass numbers

    data = []
    for i in range(2):
        same = train(10 * i)
        fn = (lambda p, i=i: train(10 * i + 1000 * p)) if factory == "fresh" else same
        data.append(BranchData(train=fn, soft=make_eval_crops(entry, CLASSES, crop_frames=CROP, batch_size=4)))
    params = override(TrainParams(), {"optim": {"learning_rate": 0.1, "epochs": 2, "batch_size": 4},
                                      "mixup": {"enabled": mixup, "alpha": 0.4}}, "test")
    keras.utils.set_random_seed(0)
    with strategy.scope():
        models = [_branch(f"b{i}") for i in range(2)]
    distiller = CyclicDistiller(models, data, CLIPS, CLASSES, params, seed=0, strategy=strategy,
                                log=lambda s: None)
    distiller.run()
    return [w for m in models for w in m.get_weights()] + [distiller.aggregate.numpy()]


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("factory", ["fresh", "same"])
def test_default_strategy_keeps_the_iterator_order(entry, factory):
    import tensorflow as tf

    default = tf.distribute.get_strategy()
    assert _same(_cyclic(entry, default, factory, legacy=False), _cyclic(entry, default, factory, legacy=True))


def test_mirrored_one_replica_equals_the_default_strategy(entry):
    import tensorflow as tf

    # Mixup off: its tf.random.Generator draws another stream inside a strategy's replica
    # context (one lambda per replica batch, paper2_multirep/mixup.py), even on one replica.
    default, mirrored = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0"])
    reference = _cyclic(entry, default, "fresh", legacy=False, mixup=False)
    assert _same(_cyclic(entry, mirrored, "fresh", legacy=False, mixup=False), reference)
    # the problem being fixed: drawn by iterator, the peek gives each pass another draw
    assert not _same(_cyclic(entry, mirrored, "fresh", legacy=True, mixup=False), reference)
