"""Mel filterbank (Slaney or HTK scale), log-mel and MFCC as tf functions.

Paper 2 computed its features with librosa, so the default filterbank is librosa's
default: Slaney mel scale, triangles in Hz between mel-spaced edges, each triangle
normalised to unit area ("slaney" norm). tf.signal.linear_to_mel_weight_matrix builds
its triangles in the mel domain, HTK scale, with no normalisation, which is a different
filterbank; it is therefore not used. The matrix is a constant computed in numpy.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from shared.features.params import FeatureParams
from shared.features.stft import power_to_db

_SLANEY_F_SP = 200.0 / 3.0          # Hz per mel below the break frequency
_SLANEY_BREAK_HZ = 1000.0           # linear below, logarithmic above
_SLANEY_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray, htk: bool) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    lin = hz / _SLANEY_F_SP
    brk = _SLANEY_BREAK_HZ / _SLANEY_F_SP
    log = brk + np.log(np.maximum(hz, 1e-12) / _SLANEY_BREAK_HZ) / _SLANEY_LOGSTEP
    return np.where(hz >= _SLANEY_BREAK_HZ, log, lin)


def mel_to_hz(mel: np.ndarray, htk: bool) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    brk = _SLANEY_BREAK_HZ / _SLANEY_F_SP
    lin = mel * _SLANEY_F_SP
    log = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOGSTEP * (mel - brk))
    return np.where(mel >= brk, log, lin)


@functools.lru_cache(maxsize=32)
def _mel_matrix_cached(sample_rate: int, fft_size: int, n_mels: int, fmin: float,
                       fmax: float, htk: bool, norm: str | None) -> np.ndarray:
    bin_hz = np.linspace(0.0, sample_rate / 2.0, fft_size // 2 + 1)       # [bins]
    edges_mel = np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2)
    edges_hz = mel_to_hz(edges_mel, htk)                                   # [n_mels + 2]
    widths = np.diff(edges_hz)                                             # [n_mels + 1]
    dist = edges_hz[:, None] - bin_hz[None, :]                             # [n_mels + 2, bins]
    rising = -dist[:-2] / widths[:-1, None]                                # [n_mels, bins]
    falling = dist[2:] / widths[1:, None]                                  # [n_mels, bins]
    weights = np.maximum(0.0, np.minimum(rising, falling))                 # [n_mels, bins]
    if norm == "slaney":
        weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]        # unit area per band
    weights.setflags(write=False)
    return weights.T.astype(np.float32)                                    # [bins, n_mels]


def mel_matrix(params: FeatureParams) -> np.ndarray:
    """Filterbank as float32 [fft_size//2 + 1, n_mels] (multiply a power spectrum on the right)."""
    fmax = params.fmax if params.fmax is not None else params.sample_rate / 2.0
    return _mel_matrix_cached(params.sample_rate, params.fft_size, params.n_mels,
                              float(params.fmin), float(fmax), params.mel_htk, params.mel_norm)


def mel_spectrum(spec: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """[channels, frames, bins] power (or magnitude) -> [channels, frames, n_mels]."""
    return tf.tensordot(spec, mel_matrix(params), axes=1)                 # [channels, frames, n_mels]


def log_mel(spec: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """[channels, frames, bins] -> dB mel energies [channels, frames, n_mels]."""
    return power_to_db(mel_spectrum(spec, params), params)                # [channels, frames, n_mels]


def mfcc(spec: tf.Tensor, params: FeatureParams) -> tf.Tensor:
    """DCT-II (orthonormal) of dB mel energies, first n_mfcc kept.

    Same definition as librosa.feature.mfcc(S=power_to_db(mel), dct_type=2, norm="ortho").
    [channels, frames, bins] -> [channels, frames, n_mfcc]
    """
    db = log_mel(spec, params)                                            # [channels, frames, n_mels]
    ceps = tf.signal.dct(db, type=2, norm="ortho")                        # [channels, frames, n_mels]
    return ceps[..., : params.n_mfcc]                                     # [channels, frames, n_mfcc]
