"""compute_features_many: the same arrays as compute_features, one STFT per framing."""

from __future__ import annotations

import numpy as np
import pytest

from shared.features import FeatureError, compute_features, paper1_spectrogram_params, paper2_params
from shared.features.multi import compute_features_many, framing_key

RATE = 16000


@pytest.fixture(scope="module")
def audio():
    rng = np.random.default_rng(3)
    t = np.arange(RATE) / RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)[:, None] + 0.05 * rng.standard_normal((RATE, 2))
            ).astype(np.float32)                                   # [time, 2]


def test_equal_to_one_at_a_time(audio):
    params = [paper2_params(k, sample_rate=RATE) for k in ("logMel64", "logMel128", "MFCC", "CQT", "WAVE")]
    params.append(paper1_spectrogram_params(sample_rate=RATE))
    got = compute_features_many(audio, RATE, params)
    assert len(got) == len(params)
    for p, g in zip(params, got):
        np.testing.assert_array_equal(g, compute_features(audio, RATE, p))


def test_paper2_mel_kinds_share_one_framing():
    keys = {framing_key(paper2_params(k, sample_rate=48000)) for k in ("logMel64", "logMel128", "MFCC")}
    assert len(keys) == 1
    assert framing_key(paper1_spectrogram_params(sample_rate=48000)) not in keys


def test_errors_name_the_file(audio):
    with pytest.raises(FeatureError, match="a.wav: audio at 16000 Hz"):
        compute_features_many(audio, RATE, [paper2_params("logMel64", sample_rate=44100)], where="a.wav")
    with pytest.raises(FeatureError, match="b.wav: .*9 frames"):
        compute_features_many(audio[:400], RATE, [paper2_params("MFCC", sample_rate=RATE)], where="b.wav")
    with pytest.raises(FeatureError, match="no representation"):
        compute_features_many(audio, RATE, [])


def test_cqt_all_channels_in_one_call_equals_mono_calls(audio):
    """cqt_db (cqt_impl "librosa") calls librosa once for all channels; the arrays are
    those of one call per channel (what the kit computed before)."""
    import librosa
    import tensorflow as tf

    from shared.features.cqt import cqt_db
    from shared.features.frontend import _finish

    p = paper2_params("CQT", sample_rate=RATE, cqt_bins=72, cqt_impl="librosa")
    mono = []
    for ch in range(audio.shape[1]):
        c = librosa.cqt(audio[:, ch], sr=RATE, hop_length=p.hop_length, fmin=librosa.note_to_hz("C1"),
                        n_bins=72, bins_per_octave=12)
        mono.append((10.0 * np.log10(np.maximum(np.abs(c) ** 2, p.log_amin))).T)
    expected = np.stack(mono).astype(np.float32)                       # [channels, frames, bins]
    np.testing.assert_array_equal(cqt_db(audio, p), expected)
    eager = _finish(tf.convert_to_tensor(expected), p).numpy()         # the former eager path
    np.testing.assert_array_equal(compute_features(audio, RATE, p), eager)
