"""FeatureParams.downmix (register p2-mono-downmix): features of the channel mean, for
stereo TUT 2018 clips into paper 2's 3-channel networks."""

from __future__ import annotations

import numpy as np
import pytest

from shared.config import to_dict
from shared.features.frontend import compute_features
from shared.features.multi import compute_features_many
from shared.features.presets import paper2_params

RATE = 16000


def _stereo(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    left = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    right = 0.2 * np.sin(2 * np.pi * 1250 * t) + 0.05 * rng.standard_normal(t.size)
    return np.stack([left, right], axis=1).astype(np.float32)          # [time, 2]


def test_downmix_is_out_of_the_keys_while_off_and_in_when_on():
    off = paper2_params("logMel64", sample_rate=RATE)
    on = paper2_params("logMel64", sample_rate=RATE, downmix=True)
    assert "downmix" not in to_dict(off) and to_dict(on)["downmix"] is True
    assert off.output_shape(RATE, 2)[-1] == 6 and on.output_shape(RATE, 2)[-1] == 3
    assert on.output_shape(RATE, 1)[-1] == 3


@pytest.mark.parametrize("kind", ["logMel64", "MFCC", "CQT"])
def test_stereo_with_downmix_equals_the_mean_clip(kind):
    audio = _stereo()
    mono = audio.mean(axis=1, keepdims=True)
    on = paper2_params(kind, sample_rate=RATE, downmix=True) if kind != "CQT" else \
        paper2_params(kind, sample_rate=RATE, downmix=True, cqt_bins=72)
    plain = on.replace(downmix=False)
    got = compute_features(audio, RATE, on)
    assert got.shape == plain.output_shape(audio.shape[0], 1) and got.shape[-1] == 3
    np.testing.assert_allclose(got, compute_features(mono, RATE, plain), rtol=0, atol=1e-4)
    # and differs from either channel alone (the mean, not a pick)
    assert not np.allclose(got, compute_features(audio[:, :1], RATE, plain), atol=1e-2)


def test_many_keeps_order_when_settings_mix_mono_and_per_channel():
    audio = _stereo(seed=1)
    a = paper2_params("logMel64", sample_rate=RATE, downmix=True)
    b = paper2_params("logMel128", sample_rate=RATE)
    c = paper2_params("MFCC", sample_rate=RATE, downmix=True)
    got = compute_features_many(audio, RATE, [a, b, c])
    assert [g.shape[-1] for g in got] == [3, 6, 3]
    for g, p in zip(got, (a, b, c)):
        np.testing.assert_allclose(g, compute_features(audio, RATE, p), rtol=0, atol=1e-4)
