"""Several representations of one clip in one call, sharing the STFT where they can.

The feature cache builds every representation a paper needs from one decode of each
clip. Paper 2's logMel64, logMel128 and MFCC all frame the audio alike (80 ms Hann
window, 10 ms hop, centre padding), so their power spectrum is computed once and
only the filterbank / DCT / deltas differ. The result for each FeatureParams is the
same array `compute_features` returns for it alone (tested).

    feats = compute_features_many(audio, 48000, [p_logmel64, p_logmel128, p_mfcc, p_cqt])
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import tensorflow as tf

from shared.features.frontend import (_finish, compute_features, features_from_spectrum,
                                      validate_length)
from shared.features.params import FeatureError, FeatureParams
from shared.features.stft import spectrum
from shared.features.waveform import pre_emphasis, to_channels_first


def framing_key(params: FeatureParams) -> tuple:
    """Everything the spectrum depends on; equal keys give the same spectrum."""
    return (params.sample_rate, params.pre_emphasis, params.frame_length, params.fft_size,
            params.hop_length, params.window, params.padding, params.pad_mode,
            tuple(params.trim_frames), params.magnitude_power)


def _features_many_tf(audio: tf.Tensor, params: tuple[FeatureParams, ...]) -> tuple:
    """float32 [time, channels] -> one tensor per params (tf kinds only, see features_tf)."""
    spectra: dict[tuple, tf.Tensor] = {}
    outs = []
    for p in params:
        x = audio if p.pre_emphasis is None else pre_emphasis(audio, p.pre_emphasis)  # [time', channels]
        if p.kind == "waveform":
            outs.append(x)                                                   # [time', channels]
            continue
        key = framing_key(p)
        if key not in spectra:
            spectra[key] = spectrum(to_channels_first(x), p)                  # [channels, frames, fft_bins]
        chf = features_from_spectrum(spectra[key], p)                        # [channels, frames, bins]
        outs.append(_finish(chf, p))                                         # [frames, bins, channels']
    return tuple(outs)


@functools.lru_cache(maxsize=16)
def _compiled_many(params: tuple[FeatureParams, ...], channels: int):
    spec = tf.TensorSpec([None, channels], tf.float32)
    return tf.function(lambda audio: _features_many_tf(audio, params), input_signature=[spec])


def compute_features_many(audio: np.ndarray, sample_rate: int, params: Sequence[FeatureParams],
                          where: str = "") -> list[np.ndarray]:
    """`[compute_features(audio, sample_rate, p) for p in params]`, with shared spectra.

    Args:
      audio: float32 [time, channels].
      sample_rate: rate of `audio`; every params must have it (no silent resampling).
      params: the representations, in the order of the returned list.
      where: file name for error messages.
    Returns:
      one float32 numpy array per params, shaped as `compute_features` gives it.
    """
    prefix = f"{where}: " if where else ""
    params = tuple(params)
    if not params:
        raise FeatureError(f"{prefix}no representation requested")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise FeatureError(f"{prefix}audio must be [time, channels], got shape {audio.shape}")
    for p in params:
        if p.sample_rate != sample_rate:
            raise FeatureError(f"{prefix}audio at {sample_rate} Hz, {p.kind} features expect "
                               f"{p.sample_rate} Hz")
        try:
            validate_length(audio.shape[0], p)
        except FeatureError as err:
            raise FeatureError(f"{prefix}{err}") from None
    if any(p.downmix for p in params) and audio.shape[1] > 1:
        # mono and per-channel settings cannot share spectra: each group on its own audio
        mono = [i for i, p in enumerate(params) if p.downmix]
        rest = [i for i, p in enumerate(params) if not p.downmix]
        out: dict[int, np.ndarray] = dict(zip(mono, compute_features_many(
            audio.mean(axis=1, keepdims=True, dtype=np.float32), sample_rate,
            [params[i] for i in mono], where)))
        if rest:
            out.update(zip(rest, compute_features_many(audio, sample_rate, [params[i] for i in rest], where)))
        return [out[i] for i in range(len(params))]
    in_tf = tuple(p for p in params if p.kind != "cqt")
    got = iter(t.numpy() for t in _compiled_many(in_tf, audio.shape[1])(audio)) if in_tf else iter(())
    return [compute_features(audio, sample_rate, p, where) if p.kind == "cqt" else next(got)
            for p in params]
