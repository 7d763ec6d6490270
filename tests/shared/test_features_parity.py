"""Parity of the kit front end with librosa on real ESC-10 clips (22.05 kHz mono).

Each bound was set just above the error measured on these clips (measured values are
in the comments), so a change of convention (window, padding, mel scale, log floor,
DCT norm, delta edges) fails loudly.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

librosa = pytest.importorskip("librosa")

from shared.audio import read_audio  # noqa: E402
from shared.features import FeatureParams, compute_features, paper2_params  # noqa: E402
from shared.features.mel import mel_matrix  # noqa: E402

CLIP_STEP = 100   # every 100th ESC-10 file: 4 clips of 4 classes


@pytest.fixture(scope="module")
def clips(esc10_root):
    files = sorted((esc10_root / "audio").glob("*.flac"))[::CLIP_STEP]
    assert len(files) >= 4, f"expected ESC-10 clips under {esc10_root / 'audio'}"
    out = []
    for f in files:
        x, sr = read_audio(f)
        out.append((f.name, x, sr))
    return out


def _stft_kwargs(p: FeatureParams) -> dict:
    return dict(n_fft=p.fft_size, hop_length=p.hop_length, win_length=p.frame_length,
                window=p.window)


def _peak_rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_power_and_magnitude_stft_match_librosa(clips):
    for name, x, sr in clips:
        p = FeatureParams(kind="linear_spectrogram", sample_rate=sr)          # power, centre, Hann
        ref = np.abs(librosa.stft(x[:, 0], center=True, **_stft_kwargs(p))).T ** 2
        ours = compute_features(x, sr, p)[..., 0]
        assert ours.shape == ref.shape, name
        assert _peak_rel_err(ours, ref) < 1e-6, name                         # measured 4.0e-7

        q = p.replace(magnitude_power=1.0, padding="none", window="hamming")
        ref = np.abs(librosa.stft(x[:, 0], center=False, **_stft_kwargs(q))).T
        ours = compute_features(x, sr, q)[..., 0]
        assert ours.shape == ref.shape, name
        assert _peak_rel_err(ours, ref) < 1e-6, name                         # measured 2.1e-7


def test_end_padding_matches_scipy_padded_stft_with_odd_window(clips):
    # 100 ms at 22.05 kHz = 2205 samples: odd, where tf.signal's own windows are symmetric.
    for name, x, sr in clips:
        p = FeatureParams(kind="linear_spectrogram", sample_rate=sr, frame_seconds=0.1,
                          hop_seconds=0.04, padding="end", window="hamming",
                          magnitude_power=1.0, fft_length=int(round(0.1 * sr)))
        win = p.frame_length
        _, _, z = scipy.signal.stft(x[:, 0].astype(np.float64), fs=sr, window="hamming",
                                    nperseg=win, noverlap=win - p.hop_length, boundary=None,
                                    padded=True, detrend=False)
        ref = np.abs(z).T * scipy.signal.get_window("hamming", win).sum()  # undo scipy's scaling
        ours = compute_features(x, sr, p)[..., 0]
        assert ours.shape == ref.shape == (p.num_frames(x.shape[0]), win // 2 + 1), name
        assert _peak_rel_err(ours, ref) < 1e-6, name                         # measured 1.2e-7


def test_log_power_spectrogram_matches_power_to_db(clips):
    for name, x, sr in clips:
        p = FeatureParams(kind="log_power_spectrogram", sample_rate=sr)
        s = np.abs(librosa.stft(x[:, 0].astype(np.float64), **_stft_kwargs(p))) ** 2
        ref = librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=None).T
        ours = compute_features(x, sr, p)[..., 0]
        # float32 power loses digits far below the peak; compare within 80 dB of it.
        live = ref > ref.max() - 80.0
        assert np.max(np.abs(ours - ref)[live]) < 5e-3, name                 # measured 3.6e-3
        assert np.max(np.abs(ours - ref)[ref > ref.max() - 60.0]) < 5e-4, name  # measured 2.2e-4


@pytest.mark.parametrize("n_mels,bound_db", [(64, 1e-2), (128, 3e-2)])   # measured 4.3e-3 / 1.8e-2
def test_logmel_matches_librosa(clips, n_mels, bound_db):
    for name, x, sr in clips:
        p = paper2_params(f"logMel{n_mels}", sample_rate=sr, deltas=False)
        fb = librosa.filters.mel(sr=sr, n_fft=p.fft_size, n_mels=n_mels)
        assert np.max(np.abs(mel_matrix(p) - fb.T)) < 1e-7                    # measured 3.7e-9
        m = librosa.feature.melspectrogram(y=x[:, 0].astype(np.float64), sr=sr,
                                           n_mels=n_mels, **_stft_kwargs(p))
        ref = librosa.power_to_db(m, ref=1.0, amin=1e-10, top_db=None).T
        ours = compute_features(x, sr, p)
        assert ours.shape == ref.shape + (1,), name
        assert np.max(np.abs(ours[..., 0] - ref)) < bound_db, name


def test_mfcc_matches_librosa(clips):
    for name, x, sr in clips:
        p = paper2_params("MFCC", sample_rate=sr, deltas=False)
        mel = librosa.feature.melspectrogram(y=x[:, 0].astype(np.float64), sr=sr,
                                             n_mels=p.n_mels, **_stft_kwargs(p))
        db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)   # librosa's mfcc clips at 80 dB
        ref = librosa.feature.mfcc(S=db, n_mfcc=p.n_mfcc, dct_type=2, norm="ortho").T
        ours = compute_features(x, sr, p)[..., 0]
        assert ours.shape == ref.shape, name
        assert np.max(np.abs(ours - ref)) < 3e-3, name                       # measured 1.1e-3


def test_deltas_match_librosa_delta_width_9(clips):
    for name, x, sr in clips:
        p = paper2_params("logMel64", sample_rate=sr)                          # deltas on
        ours = compute_features(x, sr, p)                                      # [frames, 64, 3]
        static = ours[..., 0].T.astype(np.float64)                             # [64, frames]
        d1 = librosa.feature.delta(static, width=9, order=1)
        d2 = librosa.feature.delta(static, width=9, order=2)
        assert np.max(np.abs(ours[..., 1].T - d1)) < 2e-5, name                # measured 4.6e-6
        assert np.max(np.abs(ours[..., 2].T - d2)) < 2e-5, name                # measured 4.8e-6


def test_cqt_matches_librosa_and_aligns_with_stft_frames(clips):
    name, x, sr = clips[0]
    p = paper2_params("CQT", sample_rate=sr, deltas=False, cqt_impl="librosa")   # the fast one: test_cqt_fast.py
    c = librosa.cqt(x[:, 0], sr=sr, hop_length=p.hop_length, n_bins=84, bins_per_octave=12)
    ref = librosa.power_to_db(np.abs(c) ** 2, ref=1.0, amin=1e-10, top_db=None).T
    ours = compute_features(x, sr, p)[..., 0]
    assert np.max(np.abs(ours - ref)) < 1e-4, name                              # same library: 0
    mel_frames = compute_features(x, sr, paper2_params("logMel64", sample_rate=sr)).shape[0]
    assert ours.shape == (mel_frames, 84)


def test_pre_emphasis_matches_librosa(clips):
    for name, x, sr in clips:
        p = FeatureParams(kind="waveform", sample_rate=sr, pre_emphasis=0.97)
        ours = compute_features(x, sr, p)
        ref = librosa.effects.preemphasis(x[:, 0], coef=0.97)[1:]          # its first sample keeps x[0]
        assert ours.shape == (x.shape[0] - 1, 1), name
        assert np.max(np.abs(ours[:, 0] - ref)) < 1e-7, name                  # measured 0
