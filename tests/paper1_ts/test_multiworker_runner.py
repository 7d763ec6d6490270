"""Paper 1's runner path under MultiWorkerMirroredStrategy: 2 local workers = 1 process.

Two workers on 127.0.0.1 (harness of tests/shared/test_multiworker.py) train a small
stand-in with paper1_ts.train.train_baseline on shared.pipeline.make_dataset over a
FeatureCache of generated audio (global batch 8, random crops, reshuffled each epoch),
exactly as the table runner does: the dataset reaches fit through
shared.distribute.distribute_input (AutoShardPolicy.DATA). They must agree with each
other bit for bit and with one process at the same global batch within 1e-5 (only the
summation order of the gradient differs; measured 6e-8, printed by the test).

Under a strategy scope Keras 3.15's fit first peeks one batch for its symbolic build,
which opens one extra iterator of the dataset; paper1_ts.train feeds fit the pipeline's
pass streams (shared/passes.py, passes numbered explicitly), so the workers train on
the same passes as the single process without any adjustment of the reference.

The same workers also check:
  - AUTO (the pass stream given to fit as it is): FILE sharding finds no file reader in the
    pipeline and TF falls back to DATA, so the result equals the explicit DATA run (OFF
    would not: both workers would train on the same rows, tests/shared/test_multiworker.py);
  - predict (paper 2's predict_crops over make_eval_crops, 57 crops in global batches of
    8, so the last one leaves one worker an empty slice): every worker gets every crop
    exactly once, in the single-process order, with the same logits (predict_crops pads
    the batches to a multiple of the replicas: without it the empty slice fails).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

RATE, CLIP, CROP, CLASSES, CLIPS = 1000, 400, 100, 3, 20
GLOBAL_BATCH, EPOCHS, EVAL_CLIPS = 8, 2, 19
TOLERANCE = 1e-5

_spec = importlib.util.spec_from_file_location(
    "mw_harness", Path(__file__).resolve().parents[1] / "shared" / "test_multiworker.py")
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)


def make_entry(folder: Path):
    """The cache entry of 20 generated stereo clips (3 classes, a tone per class + noise)."""
    from tests.toy_cache import tone_waveform_cache

    return tone_waveform_cache(folder, "mw-toy", clips=CLIPS, clip=CLIP, classes=CLASSES, rate=RATE,
                               base_hz=50, step_hz=100, noise=0.2, amplitude=0.5, antiphase=True)


def _net(name: str):
    """Stand-in with the paper 1 output dict: [B, CROP, 2] -> logits [B, 3], embedding [B, 8]."""
    from tests.toy_nets import toy_waveform_net

    return toy_waveform_net(name, CROP, CLASSES, width=8, kernel=9, stride=3, seed=3)


def _train_params():
    from paper1_ts.train_params import TrainParams

    return TrainParams(epochs=EPOCHS, learning_rate=1e-2, batch_size=GLOBAL_BATCH)


def _train_ds(entry):
    from shared.pipeline import make_dataset

    return make_dataset(entry, CLASSES, batch_size=GLOBAL_BATCH, shuffle=True, seed=5, crop_frames=CROP)


def _predict(entry, strategy=None):
    """paper 2's predict_crops over every crop of EVAL_CLIPS clips -> (logits, index)."""
    import keras

    from paper2_multirep.cyclic import BranchTrainer, predict_crops
    from paper2_multirep.params import TrainParams
    from shared.pipeline import make_eval_crops

    ds = make_eval_crops(entry, CLASSES, crop_frames=CROP, hop_frames=150,
                         indices=range(EVAL_CLIPS), batch_size=GLOBAL_BATCH)   # 3 crops per clip
    scope = strategy.scope() if strategy is not None else _nullcontext()
    with scope:
        net = _net("predict")
        branch = keras.Model(net.input, net.output["logits"])
        trainer = BranchTrainer(branch, TrainParams(), seed=0)
    return predict_crops(trainer, ds)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _weights(model) -> dict:
    return {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}


def worker(index: int, out: Path, folder: Path) -> int:
    """One worker: the runner's training path (DATA), the raw AUTO path, and predict."""
    from paper1_ts import train
    from shared.distribute import DistributeParams, make_strategy
    from shared.passes import batches_per_pass, pass_stream

    strategy = make_strategy(DistributeParams(kind="multi_worker"))
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    entry = make_entry(folder)
    with strategy.scope():
        net = _net("runner")
    hist = train.train_baseline(net, _train_ds(entry), _train_params(), strategy=strategy)
    result = {**_weights(net), "loss": np.asarray(hist["loss"])}
    with strategy.scope():                          # AUTO: the stream as it is, no distribute_input
        auto_net = _net("auto")
        trainer = train.make_supervised(auto_net, _train_params(), strategy=strategy)
    ds = _train_ds(entry)                           # the passes train_baseline gives fit (stride 2)
    trainer.fit(pass_stream(ds, 0, stride=2), epochs=EPOCHS, steps_per_epoch=batches_per_pass(ds),
                verbose=0, shuffle=False)
    result.update({f"auto_{k}": v for k, v in _weights(auto_net).items()})
    logits, idx = _predict(entry, strategy)
    result.update(pred_logits=logits, pred_index=idx)
    np.savez(out, **result)
    return 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(worker results, stderr of the workers, cache folder)."""
    folder = tmp_path_factory.mktemp("mw_runner")
    make_entry(folder)                               # built once here; the workers reuse it
    outputs = [folder / f"w{i}.npz" for i in range(2)]
    errors = _harness.run_workers(Path(__file__).resolve(), outputs, (str(folder),), log_level="2")
    return [dict(np.load(o)) for o in outputs], errors, folder


def test_workers_agree(runs):
    (w0, w1), _, _ = runs
    for key in w0:
        np.testing.assert_array_equal(w0[key], w1[key], err_msg=f"workers disagree on {key}")


def test_runner_training_matches_one_process(runs):
    from paper1_ts import train

    (w0, _), _, folder = runs
    entry = make_entry(folder)
    net = _net("single")
    start = _weights(net)
    hist = train.train_baseline(net, _train_ds(entry), _train_params())
    single = _weights(net)
    assert max(float(np.max(np.abs(single[k] - start[k]))) for k in single) > 1e-3, "weights did not move"
    worst = max(float(np.max(np.abs(w0[k] - single[k]))) for k in single)
    print(f"max |2 workers - 1 process| weights = {worst:.2e}")
    assert worst <= TOLERANCE
    np.testing.assert_allclose(w0["loss"], hist["loss"], rtol=0, atol=TOLERANCE)


def test_auto_policy_falls_back_to_data(runs):
    (w0, _), _, _ = runs
    for k in [k for k in w0 if k.startswith("w")]:
        np.testing.assert_allclose(w0[f"auto_{k}"], w0[k], rtol=0, atol=1e-6)


def test_predict_sees_every_crop_once_in_order(runs):
    (w0, _), _, folder = runs
    logits, idx = _predict(make_entry(folder))
    assert len(idx) == 3 * EVAL_CLIPS and len(idx) % GLOBAL_BATCH == 1
    np.testing.assert_array_equal(w0["pred_index"], idx)
    np.testing.assert_allclose(w0["pred_logits"], logits, rtol=0, atol=1e-6)


if __name__ == "__main__":
    sys.exit(worker(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
