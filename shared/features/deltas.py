"""Delta and delta-delta features with librosa.feature.delta semantics.

librosa.feature.delta(x, width=w, order=k) is a Savitzky-Golay filter
(polynomial order k, derivative k, window w) along time with mode="interp": inside
the signal it is a fixed FIR filter; in the first and last w//2 frames it evaluates
the derivative of the polynomial fitted to the first / last w frames. For a
polynomial of order k the k-th derivative is a constant, so each edge frame equals
the nearest fully-covered frame: a "valid" filter followed by edge replication.
Delta-delta is therefore order 2 on the static features (not the delta of the
delta), as librosa computes it. Clips need at least `width` frames (librosa raises
on shorter ones too).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from shared.features.params import FeatureError


def savgol_derivative_taps(width: int, order: int) -> np.ndarray:
    """Least-squares taps for the `order`-th derivative of an `order`-degree fit.

    Returns float64 [width], to be applied as a correlation:
    out[t] = sum_j taps[j] * x[t - width//2 + j].
    """
    half = width // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)                 # [width]
    vander = offsets[:, None] ** np.arange(order + 1)[None, :]             # [width, order + 1]
    return math.factorial(order) * np.linalg.pinv(vander)[order]           # [width]


def _filter_time(x: tf.Tensor, width: int, order: int) -> tf.Tensor:
    """[channels, frames, bins] -> same shape, Savitzky-Golay derivative along frames."""
    frames = int(x.shape[1]) if x.shape[1] is not None else None
    if frames is not None and frames < width:
        raise FeatureError(f"deltas with width {width} need at least {width} frames, got {frames}")
    half = width // 2
    taps = tf.constant(savgol_derivative_taps(width, order), tf.float32)   # [width]
    windows = tf.signal.frame(x, width, 1, axis=1)                          # [channels, frames-2h, width, bins]
    valid = tf.einsum("cfwb,w->cfb", windows, taps)                        # [channels, frames-2h, bins]
    first = tf.repeat(valid[:, :1], half, axis=1)                          # [channels, h, bins]
    last = tf.repeat(valid[:, -1:], half, axis=1)                          # [channels, h, bins]
    return tf.concat([first, valid, last], axis=1)                         # [channels, frames, bins]


def delta(x: tf.Tensor, width: int = 9, order: int = 1) -> tf.Tensor:
    """librosa.feature.delta(x, width, order) along frames: [channels, frames, bins] -> same."""
    if order < 1:
        raise FeatureError(f"delta order must be >= 1, got {order}")
    return _filter_time(tf.convert_to_tensor(x, tf.float32), width, order)


def stack_deltas(x: tf.Tensor, width: int = 9) -> tf.Tensor:
    """[channels, frames, bins] -> [channels * 3, frames, bins] ordered per audio channel as
    (static, delta, delta-delta): a stereo clip gives L, dL, ddL, R, dR, ddR."""
    x = tf.convert_to_tensor(x, tf.float32)                                # [channels, frames, bins]
    stacked = tf.stack([x, delta(x, width, 1), delta(x, width, 2)], axis=1)  # [channels, 3, frames, bins]
    shape = tf.shape(stacked)
    return tf.reshape(stacked, [shape[0] * 3, shape[2], shape[3]])        # [channels*3, frames, bins]
