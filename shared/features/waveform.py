"""Waveform-domain steps: pre-emphasis and channel handling (pure tf functions)."""

from __future__ import annotations

import tensorflow as tf


def pre_emphasis(audio: tf.Tensor, coefficient: float) -> tf.Tensor:
    """y[n] = x[n] - c * x[n-1] per channel, the first sample dropped.

    Dropping the first sample (no x[-1] is invented) turns a 10 s 48 kHz clip of
    480000 samples into 479999, the input length of paper 1 Table 2.

    Args:
      audio: float32 [time, channels].
      coefficient: c, e.g. 0.97 (paper 1, register p1-preemphasis in the notes).
    Returns:
      float32 [time - 1, channels].
    """
    audio = tf.convert_to_tensor(audio, tf.float32)            # [time, channels]
    return audio[1:] - coefficient * audio[:-1]                 # [time - 1, channels]


def to_channels_first(audio: tf.Tensor) -> tf.Tensor:
    """[time, channels] -> [channels, time] so tf.signal frames the last axis."""
    return tf.transpose(tf.convert_to_tensor(audio, tf.float32))  # [channels, time]
