"""Paper 1's checkpointed training writes every epoch's logs and learning rate as
TensorBoard scalars beside its checkpoints (one folder per step of a two-step training)."""

from __future__ import annotations

import pytest

from paper1_ts import train as tr
from paper1_ts.train_params import TrainParams
from shared.tensorboard import read_scalars
from tests.paper1_ts.test_train import _data, _net


@pytest.mark.parametrize("schedule, rates", [("constant", [1e-2] * 3), ("cosine", [1e-2, 0.75e-2, 0.25e-2])])
def test_each_epoch_is_a_scalar_of_its_step(tmp_path, schedule, rates):
    params = TrainParams(epochs=3, learning_rate=1e-2, lr_schedule=schedule)
    hist = tr.train_baseline(_net("base"), _data(), params, checkpoint_dir=tmp_path / "work")
    logs = sorted(p.parent for p in (tmp_path / "work").rglob("events.out.tfevents.*"))
    assert logs, "no TensorBoard event file under the checkpoint folder"
    got = read_scalars(logs[0])
    assert got["loss"] == [(e, pytest.approx(v, rel=1e-6)) for e, v in enumerate(hist["loss"])]
    assert got["accuracy"] == [(e, pytest.approx(v, rel=1e-6)) for e, v in enumerate(hist["accuracy"])]
    assert got["lr"] == [(e, pytest.approx(rate)) for e, rate in enumerate(rates)]   # the rate each epoch trained at
