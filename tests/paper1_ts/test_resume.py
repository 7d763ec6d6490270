"""Mid-run resume of paper 1 training: kill -9 a run after a checkpoint, rerun, same result.

The child process (this file run as a script) trains a tiny two-step CNN-GRU
(paper1_ts.train.train_two_step_cnn_gru) on log-mel crops read from a real feature
cache through shared.pipeline, with op determinism on, and saves its final weights,
history and training-set logits. The parent kills it with SIGKILL at the first batch
after a chosen epoch checkpoint (the child holds there: tests/kill_child.py), runs the
same command again, and compares with an uninterrupted run of the same seed: everything
must be bit-identical. Starting, killing and rerunning the child is the `script_runs`
fixture (tests/conftest.py).
`--strategy mirrored2` runs the child under MirroredStrategy on 2 logical CPU devices
(tests/paper1_ts/test_resume_mirrored_kill.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

RATE, CLIPS, CLASSES, CROP = 8000, 12, 2, 32
# --strategy of the child: shared.distribute.DistributeParams fields

# ----------------------------------------------------------------- child process
def _entry(root: Path):
    """12 stereo 1 s clips (class = tone band) -> cached 16-band log-mel [101, 16, 2]."""
    from shared.audio import write_audio
    from shared.cache import FeatureCache
    from shared.datasets.base import Example
    from shared.features import FeatureParams

    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    examples = []
    for i in range(CLIPS):
        label = i % CLASSES
        tone = np.sin(2 * np.pi * (300 + 1500 * label + 50 * i) * t)
        audio = 0.3 * tone[:, None] + 0.05 * rng.standard_normal((RATE, 2))
        path = root / "audio" / f"c{i:02d}.wav"
        if not path.exists():
            write_audio(path, audio.astype(np.float32), RATE, subtype="FLOAT")
        examples.append(Example(path, label, f"c{i:02d}"))
    params = FeatureParams(kind="logmel", sample_rate=RATE, n_mels=16)
    return FeatureCache(root / "cache", progress=False).get_or_build("toy", examples, params)


def child(argv: list[str]) -> int:
    from tests.kill_child import batch_hold, start_child

    args, strategy = start_child(argv, data=True)
    hold = batch_hold(args)

    import keras

    from paper1_ts.model_params import CNNGRUParams
    from paper1_ts.models.cnn_gru import build_cnn_gru, copy_cnn_weights
    from paper1_ts.train import train_two_step_cnn_gru
    from paper1_ts.train_params import TrainParams
    from shared.pipeline import make_dataset

    entry = _entry(args.data)
    ds = make_dataset(entry, CLASSES, batch_size=4, crop_frames=CROP, seed=11)
    mp = CNNGRUParams(input_frames=CROP, input_bins=16, conv1_filters=4, res_filters=(4, 8, 8),
                      res4_filters=8, gru_units=16, num_classes=CLASSES)
    with strategy.scope():
        pool, gru = build_cnn_gru(mp, head="pool"), build_cnn_gru(mp, head="gru")

    class Hold(keras.callbacks.Callback):     # the kill point (tests/kill_child.py); no effect on values
        def on_train_batch_end(self, batch, logs=None):
            if hold is not None:
                hold()

    params = TrainParams(learning_rate=3e-3, batch_size=4, epochs=1, pool_epochs=3, gru_epochs=2)
    hist = train_two_step_cnn_gru(pool, gru, lambda a, b: copy_cnn_weights(a, b), ds, params,
                                  callbacks=[Hold()], checkpoint_dir=args.ckpt, strategy=strategy)
    x = np.stack([entry.read_frames(i, 0, CROP) for i in range(CLIPS)]).astype(np.float32)
    logits = np.asarray(gru(x, training=False)["logits"])                   # [N, C]
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(gru.get_weights())}
    arrays.update({f"h_{step}_{k}": np.asarray(v) for step, h in hist.items() for k, v in h.items()})
    np.savez(args.out, logits=logits, **arrays)
    return 0


# ----------------------------------------------------------------- parent (tests)
def _args(data: Path, ckpt: Path, out: Path) -> list[str]:
    return ["--data", str(data), "--ckpt", str(ckpt), "--out", str(out)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, script_runs):
    root = tmp_path_factory.mktemp("resume")
    script_runs.run(__file__, *_args(root / "data", root / "ckpt_ref", root / "ref.npz"))
    return root, script_runs.load_npz(root / "ref.npz")


@pytest.mark.parametrize("step, epoch", [("step1", 1), pytest.param("step2", 1, marks=pytest.mark.slow)])
def test_kill9_then_rerun_gives_the_uninterrupted_result(reference, script_runs, step, epoch):
    root, ref = reference
    ckpt, out = root / f"ckpt_{step}", root / f"{step}.npz"
    marker = ckpt / step / f"ckpt-{epoch}.index"
    script_runs.kill9(__file__, *_args(root / "data", ckpt, out), hold_after=marker,
                      unfinished=out)                    # after the next epoch's first batch
    assert not (ckpt / step / f"ckpt-{epoch + 1}.index").exists(), "the kill must land in the next epoch"

    script_runs.run(__file__, *_args(root / "data", ckpt, out))   # the same command again
    got = script_runs.load_npz(out)
    assert sorted(got) == sorted(ref)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_epoch_stream_restores_the_epoch_order_of_the_pipeline(tmp_path):
    """Pass k of a resumed stream is epoch k of the uninterrupted one; a fresh stream is not."""
    from paper1_ts.train import epoch_stream
    from shared.pipeline import make_dataset

    entry = _entry(tmp_path)

    def passes(stream, steps, count):
        batches = [(b["index"].numpy().tolist(), float(b["x"].numpy().sum()))
                   for b in stream.take(steps * count)]
        return [batches[i:i + steps] for i in range(0, len(batches), steps)]

    def fresh():
        return make_dataset(entry, CLASSES, batch_size=4, crop_frames=CROP, seed=5)

    stream, steps = epoch_stream(fresh(), 0, 0)
    assert steps == CLIPS // 4
    uninterrupted = passes(stream, steps, 4)
    assert uninterrupted[0] != uninterrupted[2]
    assert passes(epoch_stream(fresh(), 2, 0)[0], steps, 2) == uninterrupted[2:]
    assert passes(epoch_stream(fresh(), 0, 0)[0], steps, 1) == uninterrupted[:1]
    # steps_per_epoch > 0: epochs of 2 batches, skipped batches are read again
    capped, two = epoch_stream(fresh(), 3, 2)
    assert two == 2
    flat = [b for epoch in uninterrupted for b in epoch]
    assert [b for epoch in passes(capped, 2, 2) for b in epoch] == flat[6:10]


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
