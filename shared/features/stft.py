"""Short-time Fourier transform with librosa's framing conventions, in tf.signal.

Frames are `fft_size` samples long and the window (`frame_length` samples) sits in
their centre, as librosa.stft(n_fft, win_length) does, so a kit spectrogram and a
librosa spectrogram configured alike agree frame for frame. Three paddings:

- "center": pad fft_size//2 samples on both sides (librosa center=True);
  frames = 1 + N // hop.
- "none": full frames only; frames = 1 + (N - fft) // hop.
- "end": zero-pad the end so the last, partial frame is kept;
  frames = 1 + ceil((N - fft) / hop) (scipy.signal.stft(boundary=None, padded=True)).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from shared.features.params import FeatureError, FeatureParams


def window_vector(params: FeatureParams) -> tf.Tensor:
    """The periodic window, zero-padded to fft_size with the window centred: [fft_size].

    Built from its formula, w[n] = a - (1 - a) cos(2 pi n / N), a = 0.5 (Hann) or 0.54
    (Hamming), as scipy.signal.get_window(fftbins=True) and librosa do. tf.signal's
    hann/hamming_window ignore periodic=True for odd N (they return the symmetric
    window), which would differ from librosa by ~1e-3 for e.g. 2205-sample windows.
    """
    length = params.frame_length
    a = 0.5 if params.window == "hann" else 0.54
    n = np.arange(length, dtype=np.float64)                       # [frame_length]
    win = a - (1.0 - a) * np.cos(2.0 * np.pi * n / length)        # [frame_length]
    left = (params.fft_size - length) // 2
    right = params.fft_size - length - left
    return tf.constant(np.pad(win, (left, right)), tf.float32)    # [fft_size]


def check_length(num_samples: int, params: FeatureParams) -> None:
    """Raises FeatureError when a clip is too short for the framing (static check)."""
    fft = params.fft_size
    if params.padding == "center":
        if params.pad_mode == "reflect" and num_samples <= fft // 2:
            raise FeatureError(f"reflect padding needs more than {fft // 2} samples, "
                               f"got {num_samples}")
    elif num_samples < fft:
        raise FeatureError(f"clip of {num_samples} samples is shorter than one frame "
                           f"({fft} samples) with padding='{params.padding}'")


def pad_for_framing(signal: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """Pads [channels, time] along time as `params.padding` says (time may be dynamic)."""
    if signal.shape[-1] is not None:
        check_length(int(signal.shape[-1]), params)
    fft, hop = params.fft_size, params.hop_length
    if params.padding == "center":
        half = fft // 2
        mode = "REFLECT" if params.pad_mode == "reflect" else "CONSTANT"
        return tf.pad(signal, [[0, 0], [half, half]], mode=mode)  # [channels, time + fft]
    if params.padding == "none":
        return signal                                               # [channels, time]
    n = tf.shape(signal)[-1]
    frames = 1 + (n - fft + hop - 1) // hop                         # 1 + ceil((n - fft) / hop)
    extra = (frames - 1) * hop + fft - n
    return tf.pad(signal, [[0, 0], [0, extra]])                     # [channels, time + extra]


def frames_of(signal: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """Windowed frames: [channels, time] -> [channels, frames, fft_size]."""
    padded = pad_for_framing(signal, params)                        # [channels, time']
    framed = tf.signal.frame(padded, params.fft_size, params.hop_length,
                             pad_end=False)                         # [channels, frames, fft_size]
    start, end = params.trim_frames
    if start or end:
        framed = framed[:, start:tf.shape(framed)[1] - end]         # [channels, frames', fft_size]
    return framed * window_vector(params)                           # [channels, frames, fft_size]


def rfft_of(framed: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """[channels, frames, fft_size] windowed frames -> complex64 [channels, frames, bins]."""
    return tf.signal.rfft(framed, fft_length=[params.fft_size])     # [channels, frames, bins]


def magnitude_of(stft: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """|STFT| ** magnitude_power (1 or 2): complex [..., bins] -> float32 [..., bins]."""
    mag = tf.abs(stft)                                              # [channels, frames, bins]
    if params.magnitude_power == 2.0:
        return tf.square(mag)                                       # [channels, frames, bins]
    return mag                                                      # [channels, frames, bins]


def spectrum(signal: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """|STFT| ** magnitude_power: [channels, time] -> [channels, frames, fft_size//2 + 1]."""
    framed = frames_of(signal, params)                              # [channels, frames, fft_size]
    return magnitude_of(rfft_of(framed, params), params)            # [channels, frames, bins]


def power_to_db(x: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """10*log10(max(x, amin)), optionally clipped to (max - top_db); librosa.power_to_db(ref=1)."""
    db = 10.0 * tf.math.log(tf.maximum(x, params.log_amin)) / math.log(10.0)  # same shape as x
    if params.log_top_db is not None:
        db = tf.maximum(db, tf.reduce_max(db) - params.log_top_db)          # same shape as x
    return db
