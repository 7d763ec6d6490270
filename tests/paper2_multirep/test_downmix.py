"""Paper 2's paper preset mixes stereo TUT 2018 clips to mono before the front end, so the
3-channel networks get (static, delta, delta-delta); the demo preset keeps per-channel
features (register p2-mono-downmix)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from paper2_multirep import table_backend as backend
from paper2_multirep.tables import resolve_params

TUT = SimpleNamespace(spec=SimpleNamespace(sample_rate=48000, channels=2, clip_seconds=10.0))
DEMO = SimpleNamespace(spec=SimpleNamespace(sample_rate=16000, channels=2, clip_seconds=4.0))


@pytest.mark.parametrize("representation", ["logmel64", "logmel128", "mfcc", "cqt"])
def test_paper_preset_gives_three_channels_on_stereo_tut(representation):
    params = resolve_params("paper")
    assert params.data.downmix
    assert backend.crop_shape(representation, params, TUT)[-1] == 3


def test_demo_preset_keeps_per_channel_features():
    params = resolve_params("demo")
    assert not params.data.downmix
    assert backend.crop_shape("logmel64", params, DEMO)[-1] == 6
    assert not backend.feature_params("logmel64", 16000, params.data.downmix).downmix
