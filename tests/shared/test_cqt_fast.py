"""The kit's fast CQT (shared/features/cqt_fast.py) against librosa.cqt, its reference.

Parity is measured on real ESC-10 clips (22.05 kHz mono) at paper 2's setting (84 bins,
12 per octave, fmin C1, hop 10 ms), in dB of the power, over the bins within 60 dB of
the clip's peak (the floor). Measured on all 400 ESC-10 clips (per clip, worst / average):

  fast vs librosa.cqt (defaults, what the kit used before): mean 0.48 / 0.11 dB,
      99th percentile 8.0 / 0.74 (median), max 38.8 / 9.2 (median) dB;
  fast vs librosa.cqt(sparsity=0):                          mean 0.072 / 0.038 dB,
      99th percentile 0.87 / 0.34 (median), max 15.2 / 3.3 (median) dB;
  librosa.cqt defaults vs librosa.cqt(sparsity=0):           mean 0.53 / 0.098 dB,
      99th percentile 11.2 / 0.68 (median), max 42.2 / 7.6 (median) dB.

The large maxima are deep notches and near-silent frames, where librosa's own 1 %
kernel sparsification (and its per-octave resampling) moves a value by tens of dB: the
fast CQT is nearer to librosa's unsparsified transform than librosa's default is, on
every clip. With librosa's approximations off (an odd hop, so it never resamples, and
sparsity=0) the two compute the same transform to < 1e-4 of the peak, complex.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

librosa = pytest.importorskip("librosa")

from shared.audio import read_audio  # noqa: E402
from shared.features import FeatureError, compute_features, paper2_params  # noqa: E402
from shared.features.cqt import C1_HZ, cqt_db  # noqa: E402
from shared.features.cqt_fast import cqt_fast, cqt_kernel  # noqa: E402

CLIP_STEP = 40      # every 40th ESC-10 file: 10 clips of 10 classes
FLOOR_DB = 60.0     # bins within 60 dB of the clip's peak


@pytest.fixture(scope="module")
def clips(esc10_root):
    files = sorted((esc10_root / "audio").glob("*.flac"))[::CLIP_STEP]
    assert len(files) >= 10, f"expected ESC-10 clips under {esc10_root / 'audio'}"
    return [(f.name, read_audio(f)[0]) for f in files]


def _db(c: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(np.abs(c) ** 2, 1e-10))


def _diff(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|ours - ref| in dB over the bins of `ref` above its floor."""
    above = ref >= ref.max() - FLOOR_DB
    return np.abs(ours - ref)[above]


def test_same_transform_as_librosa_without_its_approximations(clips):
    # hop 221 is odd, so librosa never resamples; sparsity=0 keeps its whole kernel
    for name, x in clips[:2]:                       # librosa at the full rate is slow: 2 clips
        ref = librosa.cqt(x[:, 0], sr=22050, hop_length=221, fmin=C1_HZ, n_bins=84,
                          bins_per_octave=12, sparsity=0)
        ours = cqt_fast(x, 22050, 221, C1_HZ, 84, 12)[0]
        assert ours.shape == ref.shape, name
        assert np.max(np.abs(ours - ref)) / np.max(np.abs(ref)) < 1e-4, name   # measured 2e-5..4e-5


def test_parity_with_librosa_cqt_on_esc10(clips):
    p = paper2_params("CQT", sample_rate=22050, deltas=False)
    assert p.cqt_impl == "fast"
    means = []
    for name, x in clips:
        ours = cqt_db(x, p)[0]                                                # [frames, 84]
        ref = cqt_db(x, p.replace(cqt_impl="librosa"))[0]                     # librosa defaults
        c = librosa.cqt(x[:, 0], sr=22050, hop_length=p.hop_length, fmin=C1_HZ, n_bins=84,
                        bins_per_octave=12, sparsity=0)
        dense = _db(c).T.astype(np.float32)                                   # librosa, unsparsified
        assert ours.shape == ref.shape == dense.shape, name
        d = _diff(ours, ref)
        assert d.mean() < 0.6, name                                           # all 400: <= 0.48
        assert np.percentile(d, 99) < 10.0, name                              # all 400: <= 8.0
        assert d.max() < 45.0, name                                           # all 400: <= 38.8
        e = _diff(ours, dense)
        assert e.mean() < 0.1, name                                           # all 400: <= 0.072
        assert np.percentile(e, 99) < 1.2, name                               # all 400: <= 0.87
        assert e.max() < 20.0, name                                           # all 400: <= 15.2
        # nearer to librosa's exact transform than librosa's own default is
        assert e.mean() < _diff(ref, dense).mean(), name                      # all 400: ratio <= 0.86
        means.append(d.mean())
    assert np.mean(means) < 0.2                                               # all 400: 0.11


def test_fast_cqt_is_3x_librosa_on_the_same_clips(clips):
    """Interleaved in one process, best of 3 rounds each; the assertion is loose (2x) for a
    busy shared machine, the target is 3x (measured 12-25x at 22.05 kHz, 5-8x at 48 kHz
    stereo 10 s on a loaded 2-core host)."""
    p = paper2_params("CQT", sample_rate=22050, deltas=False)
    ref = p.replace(cqt_impl="librosa")
    xs = [x for _, x in clips[:5]]
    cqt_db(xs[0], p), cqt_db(xs[0], ref)                                      # kernel built, librosa warm
    fast, slow = [], []
    for _ in range(3):
        for params, times in ((p, fast), (ref, slow)):
            start = time.perf_counter()
            for x in xs:
                cqt_db(x, params)
            times.append(time.perf_counter() - start)
    ratio = min(slow) / min(fast)
    print(f"fast CQT {min(fast) / len(xs) * 1e3:.1f} ms/clip, librosa {min(slow) / len(xs) * 1e3:.1f} "
          f"ms/clip: {ratio:.1f}x")
    assert ratio >= 2.0, f"fast CQT only {ratio:.1f}x librosa (target 3x)"


def test_blocks_do_not_show_in_the_output():
    """Overlap-save blocks: a clip and the same clip with more audio after it give the
    same frames (to float32 rounding) wherever the extra audio is out of reach."""
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((48000 * 6, 2))).astype(np.float32)       # [time, 2], many blocks
    long = cqt_fast(x, 48000, 480, C1_HZ, 84, 12)                            # [2, 84, 601]
    short = cqt_fast(x[:48000 * 3], 48000, 480, C1_HZ, 84, 12)               # [2, 84, 301]
    kernel = cqt_kernel(48000, 480, C1_HZ, 84, 12)
    assert long.shape == (2, 84, 601) and short.shape == (2, 84, 301)
    assert long.shape[2] > 2 * kernel.step_frames                             # several blocks
    safe = 301 - kernel.lead_frames - 1                                       # frames the cut cannot reach
    scale = np.max(np.abs(long))
    # the kernel leaves out KERNEL_TAIL (1e-4) of each filter's spectral mass, so a filter
    # is not exactly time-limited: the blocks agree to that order (measured 1.4e-5)
    assert np.max(np.abs(long[:, :, :safe] - short[:, :, :safe])) < 1e-4 * scale
    np.testing.assert_allclose(cqt_fast(x[:, :1], 48000, 480, C1_HZ, 84, 12)[0], long[0],
                               rtol=0, atol=1e-6 * scale)                    # channels independent


def test_kernel_is_built_once_per_setting():
    a = cqt_kernel(16000, 160, C1_HZ, 72, 12)
    assert cqt_kernel(16000, 160, C1_HZ, 72, 12) is a
    assert cqt_kernel(16000, 160, C1_HZ, 60, 12) is not a


def test_a_tone_peaks_in_its_bin_and_short_clips_work():
    sr = 16000
    t = np.arange(sr // 4) / sr                                               # 0.25 s
    a440 = (0.5 * np.sin(2 * np.pi * 440.0 * t))[:, None].astype(np.float32)
    p = paper2_params("CQT", sample_rate=sr, deltas=False, cqt_bins=72)
    feats = compute_features(a440, sr, p)                                     # [frames, 72, 1]
    assert feats.shape == (1 + len(t) // p.hop_length, 72, 1)
    assert int(np.argmax(feats[len(t) // p.hop_length // 2, :, 0])) == 45    # A4 = C1 + 45 semitones


def test_settings_out_of_range_are_refused_by_both():
    for impl in ("fast", "librosa"):
        p = paper2_params("CQT", sample_rate=8000, deltas=False, cqt_impl=impl)   # 84 bins reach 3.95 kHz
        with pytest.raises(FeatureError, match="Nyquist"):
            cqt_db(np.zeros((8000, 1), np.float32), p)
    with pytest.raises(FeatureError, match="cqt_impl 'torch' unknown"):
        paper2_params("CQT", sample_rate=22050, cqt_impl="torch")
