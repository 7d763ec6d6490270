"""The front end: audio [time, channels] -> features, for every kind of FeatureParams.

`features_tf` is a pure tf function (usable inside tf.data or a Keras layer) for all
kinds but "cqt"; `compute_features` is what the cache calls: numpy in, numpy out,
and it routes "cqt" to numpy (shared/features/cqt.py: the kit's fast CQT, or librosa).

Output layout:
- waveform: [time, channels] (after optional pre-emphasis);
- every other kind: [frames, bins, channels'] where channels' = audio channels, or
  3 x audio channels with deltas, ordered (static, delta, delta-delta) per audio
  channel: mono -> 3 channels; stereo -> L, dL, ddL, R, dR, ddR (6 channels).
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from shared.features.cqt import cqt_db
from shared.features.deltas import stack_deltas
from shared.features.mel import log_mel, mel_spectrum, mfcc
from shared.features.params import FeatureError, FeatureParams
from shared.features.stft import check_length, power_to_db, spectrum
from shared.features.waveform import pre_emphasis, to_channels_first


def _check_audio(audio, params: FeatureParams) -> None:
    if len(audio.shape) != 2:
        raise FeatureError(f"audio must be [time, channels], got shape {tuple(audio.shape)}")


def _channels_first_features(signal: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """[channels, time] -> [channels, frames, bins] for the tf kinds."""
    spec = spectrum(signal, params)                                         # [channels, frames, fft_bins]
    return features_from_spectrum(spec, params)                             # [channels, frames, bins]


def features_from_spectrum(spec: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """The part after the STFT: [channels, frames, fft_bins] -> [channels, frames, bins].

    Representations with the same framing (shared/features/multi.py) share `spec`.
    """
    if params.kind == "linear_spectrogram":
        out = spec                                                          # [channels, frames, fft_bins]
    elif params.kind == "log_power_spectrogram":
        out = power_to_db(spec, params)                                     # [channels, frames, fft_bins]
    elif params.kind == "logmel":
        out = log_mel(spec, params)                                         # [channels, frames, n_mels]
    elif params.kind == "mfcc":
        out = mfcc(spec, params)                                            # [channels, frames, n_mfcc]
    else:
        raise FeatureError(f"kind '{params.kind}' is not computed in tf (use compute_features)")
    if params.max_bins is not None and params.kind in ("linear_spectrogram", "log_power_spectrogram"):
        out = out[..., : params.max_bins]                                   # [channels, frames, max_bins]
    return out


def _finish(chf: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """Deltas and layout: [channels, frames, bins] -> [frames, bins, channels']."""
    if params.deltas:
        chf = stack_deltas(chf, params.delta_width)                          # [channels*3, frames, bins]
    return tf.transpose(chf, [1, 2, 0])                                     # [frames, bins, channels']


def features_tf(audio, params: FeatureParams) -> tf.Tensor:
    """Pure tf front end for every kind except "cqt".

    Args:
      audio: float32 [time, channels] at params.sample_rate.
      params: FeatureParams.
    Returns:
      float32 [time', channels] for "waveform", else [frames, bins, channels'].
    """
    audio = tf.convert_to_tensor(audio, tf.float32)                          # [time, channels]
    if params.downmix:
        audio = tf.reduce_mean(audio, axis=1, keepdims=True)                 # [time, 1]
    _check_audio(audio, params)
    if params.pre_emphasis is not None:
        audio = pre_emphasis(audio, params.pre_emphasis)                     # [time - 1, channels]
    if params.kind == "waveform":
        return audio                                                        # [time', channels]
    chf = _channels_first_features(to_channels_first(audio), params)        # [channels, frames, bins]
    return _finish(chf, params)                                             # [frames, bins, channels']


def compute_features(audio: np.ndarray, sample_rate: int, params: FeatureParams,
                     where: str = "") -> np.ndarray:
    """Numpy entry point used by the cache; checks the rate and routes "cqt" to cqt_db.

    Args:
      audio: float32 [time, channels].
      sample_rate: rate of `audio`; must equal params.sample_rate (no silent resampling).
      where: file name for error messages.
    Returns:
      float32 numpy array shaped like `features_tf`.
    """
    prefix = f"{where}: " if where else ""
    if sample_rate != params.sample_rate:
        raise FeatureError(f"{prefix}audio at {sample_rate} Hz, features expect "
                           f"{params.sample_rate} Hz")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise FeatureError(f"{prefix}audio must be [time, channels], got shape {audio.shape}")
    if params.downmix:
        audio = audio.mean(axis=1, keepdims=True, dtype=np.float32)          # [time, 1]
    try:
        validate_length(audio.shape[0], params)
        if params.kind != "cqt":
            return _compiled(params, audio.shape[1])(audio).numpy()
        if params.pre_emphasis is not None:
            audio = pre_emphasis(audio, params.pre_emphasis).numpy()        # [time - 1, channels]
        chf = cqt_db(audio, params)                                         # [channels, frames, bins]
        return _compiled_finish(params, chf.shape[0], chf.shape[2])(chf).numpy()  # [frames, bins, channels']
    except FeatureError as err:
        raise FeatureError(f"{prefix}{err}") from None


def validate_length(num_samples: int, params: FeatureParams) -> None:
    """FeatureError if a clip of `num_samples` cannot give the requested features."""
    n = params.num_samples_after_preemphasis(num_samples)
    if n < 1:
        raise FeatureError(f"clip of {num_samples} samples is too short")
    if params.kind == "waveform":
        return
    if params.kind != "cqt":
        check_length(n, params)
    frames = params.num_frames(num_samples)
    if frames < 1:
        raise FeatureError(f"clip of {num_samples} samples gives no frame")
    if params.deltas and frames < params.delta_width:
        raise FeatureError(f"deltas with width {params.delta_width} need at least "
                           f"{params.delta_width} frames, got {frames}")


@functools.lru_cache(maxsize=64)
def _compiled(params: FeatureParams, channels: int):
    """features_tf traced once per (params, channel count), any clip length."""
    spec = tf.TensorSpec([None, channels], tf.float32)
    return tf.function(lambda audio: features_tf(audio, params), input_signature=[spec])


@functools.lru_cache(maxsize=16)
def _compiled_finish(params: FeatureParams, channels: int, bins: int):
    """_finish (deltas, layout) traced once per setting: eager, it dispatches ~20 ops per clip."""
    spec = tf.TensorSpec([channels, None, bins], tf.float32)
    return tf.function(lambda chf: _finish(chf, params), input_signature=[spec])


def mel_energies_tf(audio, params: FeatureParams) -> tf.Tensor:
    """Linear mel energies (no log), [frames, n_mels, channels]; used by tests and tools."""
    audio = tf.convert_to_tensor(audio, tf.float32)                          # [time, channels]
    if params.downmix:
        audio = tf.reduce_mean(audio, axis=1, keepdims=True)                 # [time, 1]
    spec = spectrum(to_channels_first(audio), params)                       # [channels, frames, bins]
    return tf.transpose(mel_spectrum(spec, params), [1, 2, 0])             # [frames, n_mels, channels]
