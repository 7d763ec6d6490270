"""Constant-Q transform through librosa (TensorFlow has no CQT op).

This is the one representation not computed by tf.signal: it runs in numpy while the
feature cache is built (shared/cache.py), and the tf.data pipeline only reads the
cached result. Paper 2 itself used librosa, so librosa.cqt is also the reference.
Output is dB of the CQT power, like the other log representations.
"""

from __future__ import annotations

import numpy as np

from shared.features.params import FeatureError, FeatureParams


def cqt_db(audio: np.ndarray, params: FeatureParams) -> np.ndarray:
    """float32 [time, channels] -> dB CQT power [channels, frames, cqt_bins] (numpy).

    Frames: 1 + time // hop_length (librosa centres its frames).
    """
    import librosa  # imported here: only the cache build needs it

    audio = np.asarray(audio, dtype=np.float32)                              # [time, channels]
    fmin = params.cqt_fmin if params.cqt_fmin is not None else float(librosa.note_to_hz("C1"))
    top = fmin * 2.0 ** ((params.cqt_bins - 1) / params.cqt_bins_per_octave)
    if top >= params.sample_rate / 2:
        raise FeatureError(f"CQT top bin {top:.0f} Hz is above Nyquist "
                           f"({params.sample_rate / 2:.0f} Hz): lower cqt_bins or cqt_fmin")
    # all channels in one call: librosa builds the filter basis once and treats each
    # channel exactly as a mono call would (same arrays, tested)
    c = librosa.cqt(np.ascontiguousarray(audio.T), sr=params.sample_rate,
                    hop_length=params.hop_length, fmin=fmin, n_bins=params.cqt_bins,
                    bins_per_octave=params.cqt_bins_per_octave)               # [channels, cqt_bins, frames] complex
    power = np.abs(c) ** 2                                                     # [channels, cqt_bins, frames]
    db = 10.0 * np.log10(np.maximum(power, params.log_amin))                  # [channels, cqt_bins, frames]
    result = np.ascontiguousarray(db.transpose(0, 2, 1)).astype(np.float32)    # [channels, frames, cqt_bins]
    if params.log_top_db is not None:
        result = np.maximum(result, result.max() - params.log_top_db)
    start, end = params.trim_frames
    return result[:, start: result.shape[1] - end]                            # [channels, frames', cqt_bins]
