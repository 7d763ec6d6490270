"""Constant-Q transform in dB, through the kit's fast CQT or librosa (the reference).

This is the one representation not computed by tf.signal: it runs in numpy while the
feature cache is built (shared/cache.py), and the tf.data pipeline only reads the
cached result. `FeatureParams.cqt_impl` picks the transform: "fast" (default;
shared/features/cqt_fast.py, one FFT per clip through a cached sparse kernel, about
20x librosa on ESC-10 clips) or "librosa" (librosa.cqt, what paper 2 used; the parity of
the two is bounded on real ESC-10 clips in tests/shared/test_cqt_fast.py).
Output is dB of the CQT power, like the other log representations.
"""

from __future__ import annotations

import numpy as np

from shared.features.cqt_fast import cqt_fast, cqt_frequencies, filter_lengths
from shared.features.params import FeatureError, FeatureParams

C1_HZ = 440.0 * 2.0 ** ((24 - 69) / 12)   # MIDI note 24 = C1 = 32.70 Hz (librosa's default fmin)


def cqt_fmin(params: FeatureParams) -> float:
    """Lowest CQT bin in Hz: cqt_fmin, or C1 when it is None."""
    return params.cqt_fmin if params.cqt_fmin is not None else C1_HZ


def check_cqt_range(params: FeatureParams) -> None:
    """FeatureError unless every CQT filter lies below Nyquist (librosa's own condition,
    checked here so both transforms refuse the same settings with the same message)."""
    fmin = cqt_fmin(params)
    nyquist = params.sample_rate / 2
    top = fmin * 2.0 ** ((params.cqt_bins - 1) / params.cqt_bins_per_octave)
    if top >= nyquist:
        raise FeatureError(f"CQT top bin {top:.0f} Hz is above Nyquist "
                           f"({nyquist:.0f} Hz): lower cqt_bins or cqt_fmin")
    _, reach = filter_lengths(cqt_frequencies(fmin, params.cqt_bins, params.cqt_bins_per_octave),
                              params.sample_rate, params.cqt_bins_per_octave)
    if reach > nyquist:
        raise FeatureError(f"CQT top filter reaches {reach:.0f} Hz, above Nyquist "
                           f"({nyquist:.0f} Hz): lower cqt_bins or cqt_fmin")


def cqt_db(audio: np.ndarray, params: FeatureParams) -> np.ndarray:
    """float32 [time, channels] -> dB CQT power [channels, frames, cqt_bins] (numpy).

    Frames: 1 + time // hop_length (frames centred on multiples of the hop, like librosa).
    """
    audio = np.asarray(audio, dtype=np.float32)                              # [time, channels]
    check_cqt_range(params)
    fmin = cqt_fmin(params)
    if params.cqt_impl == "fast":
        c = cqt_fast(audio, params.sample_rate, params.hop_length, fmin, params.cqt_bins,
                     params.cqt_bins_per_octave)                              # [channels, cqt_bins, frames] complex
    else:
        import librosa  # imported here: only the reference path needs it
        # all channels in one call: librosa builds the filter basis once and treats each
        # channel exactly as a mono call would (same arrays, tested)
        c = librosa.cqt(np.ascontiguousarray(audio.T), sr=params.sample_rate,
                        hop_length=params.hop_length, fmin=fmin, n_bins=params.cqt_bins,
                        bins_per_octave=params.cqt_bins_per_octave)           # [channels, cqt_bins, frames] complex
    power = np.abs(c) ** 2                                                     # [channels, cqt_bins, frames]
    db = 10.0 * np.log10(np.maximum(power, params.log_amin))                  # [channels, cqt_bins, frames]
    result = np.ascontiguousarray(db.transpose(0, 2, 1)).astype(np.float32)    # [channels, frames, cqt_bins]
    if params.log_top_db is not None:
        result = np.maximum(result, result.max() - params.log_top_db)
    start, end = params.trim_frames
    return result[:, start: result.shape[1] - end]                            # [channels, frames', cqt_bins]
