"""Constant-Q transform from one FFT of the whole clip and a folded sparse kernel.

The kit's default CQT (`FeatureParams.cqt_impl = "fast"`). It computes the transform
librosa.cqt defines, at the full sample rate, without librosa's per-octave resampling
and per-octave STFTs:

    C[k, t] = sqrt(len_k) * sum_d h_k[d] * y[t * hop - d]      (frame t centred at t * hop)

where h_k is the Hann-windowed complex sinusoid of bin k (length len_k = Q * sr / f_k,
L1-normalised, librosa's filter) and only non-negative frequencies are kept. In the
frequency domain, with the clip zero-padded to N = M * hop samples:

    R_k(f) = Y(f) * H_k(f)                  f in [0, N/2], Y = rfft(padded clip)
    C[k, t] = ifft_M( fold_M(R_k) )[p + t] / hop * sqrt(len_k)

fold_M sums the bins f = q, q + M, q + 2M, ...: sampling the response every `hop`
samples in time is that folding in frequency (exact, no approximation). H_k is
narrow-band, so the kernel is a sparse matrix [bins * M, N/2 + 1] that maps the clip
spectrum straight to the folded spectra; it depends only on the parameters and on M,
and is built once per (parameters, padded length) and cached. Per clip the cost is one
rfft, one sparse product, and `bins` inverse FFTs of M points.

Differences from librosa.cqt (bounded on real ESC-10 clips by
tests/shared/test_cqt_fast.py): librosa resamples the signal by 2 per octave
(soxr_hq) and designs the lower octaves' filters at the lower rate; it discards 1 % of
each filter's spectral mass at its own FFT resolution, here the discarded mass is set by
KERNEL_TAIL. The kit computes in float32/complex64, as librosa does for float32 input.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal
import scipy.sparse

KERNEL_TAIL = 1e-4        # fraction of each filter's spectral L1 mass left out of the kernel
BLOCK_OVER_CONTEXT = 4    # block length >= 4 x the context frames it needs (overlap-save)
HANN_BANDWIDTH = 1.50018  # equivalent noise bandwidth of the Hann window, in bins


def cqt_frequencies(fmin: float, n_bins: int, bins_per_octave: int) -> np.ndarray:
    """Centre frequencies f_k = fmin * 2 ** (k / bins_per_octave), k = 0..n_bins-1 (Hz)."""
    return fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)


def filter_lengths(freqs: np.ndarray, sample_rate: float,
                   bins_per_octave: int) -> tuple[np.ndarray, float]:
    """(len_k in samples (fractional), highest frequency any filter reaches in Hz).

    Q comes from the relative bandwidth of each bin (its spacing to its neighbours in
    log frequency; a single bin uses bins_per_octave), with filter_scale 1 and no extra
    bandwidth (gamma 0): for equal spacing, alpha = (2^(2/B) - 1) / (2^(2/B) + 1) and
    Q = 1 / alpha (17.3 for B = 12).
    """
    logf = np.log2(freqs)
    per_octave = np.full(len(freqs), float(bins_per_octave))             # local bins per octave
    if len(freqs) > 1:
        per_octave[0] = 1.0 / (logf[1] - logf[0])
        per_octave[-1] = 1.0 / (logf[-1] - logf[-2])
        per_octave[1:-1] = 2.0 / (logf[2:] - logf[:-2])
    alpha = (2.0 ** (2.0 / per_octave) - 1.0) / (2.0 ** (2.0 / per_octave) + 1.0)
    q = 1.0 / alpha
    cutoff = float(np.max(freqs * (1.0 + 0.5 * HANN_BANDWIDTH / q)))
    return q * sample_rate / freqs, cutoff


def _filter(freq: float, length: float, sample_rate: float) -> tuple[np.ndarray, int]:
    """(complex filter taps, index of the tap at time 0 of the convolution).

    Taps at times floor(-L/2) .. floor(L/2) - 1 (floor(L) or floor(L) + 1 of them),
    a periodic Hann window over all of them, L1 norm 1.
    """
    times = np.arange(np.floor(-length / 2), np.floor(length / 2))          # [taps]
    taps = np.exp(2j * np.pi * freq / sample_rate * times)                  # [taps]
    taps *= scipy.signal.get_window("hann", len(times), fftbins=True)       # periodic Hann
    taps /= np.sum(np.abs(taps))
    # librosa centres the taps in its FFT frame and applies them as a convolution:
    # the tap at index ceil(taps / 2) multiplies the sample at the frame centre.
    return taps, (len(times) + 1) // 2


@dataclass(frozen=True)
class CqtKernel:
    """A folded constant-Q kernel for blocks of `block_frames * hop` samples.

    A clip is cut into overlapping blocks (overlap-save): block i is the zero-extended
    clip from sample (i * step - lead) * hop on, and gives the clip's frames
    i * step .. i * step + step - 1 at its local frames lead .. lead + step - 1. The
    lead and the tail are as long as the longest filter reaches (each side), so
    every block's circular result equals the linear transform of the whole clip.
    """

    hop: int
    block_frames: int          # M: a block has M * hop samples
    lead_frames: int           # frames of context before the first frame of a block
    step_frames: int           # frames of output per block
    n_bins: int
    matrix: scipy.sparse.csr_matrix   # [n_bins * M, M * hop // 2 + 1] complex64

    @property
    def block_length(self) -> int:
        return self.block_frames * self.hop


def _sparse_row(spectrum: np.ndarray, tail: float) -> np.ndarray:
    """Indices of the largest entries of |spectrum| holding all but `tail` of its L1 mass."""
    mag = np.abs(spectrum)
    order = np.argsort(mag)                                                 # ascending
    dropped = np.cumsum(mag[order]) <= tail * mag.sum()
    return np.sort(order[~dropped])


@functools.lru_cache(maxsize=8)
def cqt_kernel(sample_rate: int, hop: int, fmin: float, n_bins: int,
               bins_per_octave: int) -> CqtKernel:
    """The folded kernel of one parameter set (built once per process, then reused).

    Block size: the power of two >= BLOCK_OVER_CONTEXT times the context frames
    (lead + tail), so at least 3/4 of every block is output.
    """
    freqs = cqt_frequencies(fmin, n_bins, bins_per_octave)
    lengths, _ = filter_lengths(freqs, sample_rate, bins_per_octave)
    reach = int(np.ceil(np.max(lengths))) // 2 + 1                        # samples, each side
    lead = -(-reach // hop)
    tail = -(-(reach + 1) // hop)
    m = 1 << int(np.ceil(np.log2(BLOCK_OVER_CONTEXT * (lead + tail))))
    n = m * hop                                                             # block length
    n_pos = n // 2 + 1                                                      # rfft bins
    rows, cols, vals = [], [], []
    for k, (freq, length) in enumerate(zip(freqs, lengths)):
        taps, centre = _filter(freq, length, sample_rate)
        circular = np.zeros(n, dtype=np.complex128)                         # h_k[d] at d mod n
        circular[(np.arange(len(taps)) - centre) % n] = taps
        spectrum = scipy.fft.fft(circular)[:n_pos]                          # [n_pos], f >= 0 only
        keep = _sparse_row(spectrum, KERNEL_TAIL)                           # [nnz_k]
        rows.append(k * m + keep % m)                                       # fold f -> f mod M
        cols.append(keep)
        vals.append(spectrum[keep] * (np.sqrt(length) / hop))
    matrix = scipy.sparse.csr_matrix(
        (np.concatenate(vals).astype(np.complex64), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_bins * m, n_pos))                                          # duplicates are summed
    return CqtKernel(hop=hop, block_frames=m, lead_frames=lead, step_frames=m - lead - tail,
                     n_bins=n_bins, matrix=matrix)


def cqt_fast(audio: np.ndarray, sample_rate: int, hop: int, fmin: float, n_bins: int,
             bins_per_octave: int) -> np.ndarray:
    """float32 [time, channels] -> complex64 CQT [channels, n_bins, 1 + time // hop]."""
    audio = np.asarray(audio, dtype=np.float32)                             # [time, channels]
    num_samples, channels = audio.shape
    kernel = cqt_kernel(sample_rate, hop, float(fmin), n_bins, bins_per_octave)
    m, lead, step = kernel.block_frames, kernel.lead_frames, kernel.step_frames
    length = kernel.block_length
    frames = 1 + num_samples // hop
    n_blocks = -(-frames // step)
    by_channel = np.ascontiguousarray(audio.T)                              # [channels, time]
    blocks = np.zeros((n_blocks, channels, length), np.float32)             # [blocks, channels, M * hop]
    for i in range(n_blocks):
        start = (i * step - lead) * hop                                     # clip sample at block sample 0
        a, b = max(start, 0), min(start + length, num_samples)
        if b > a:
            blocks[i, :, a - start: b - start] = by_channel[:, a:b]
    spectrum = scipy.fft.rfft(blocks.reshape(n_blocks * channels, length))  # [blocks * channels, M*hop/2+1]
    folded = kernel.matrix @ spectrum.T                                     # [n_bins * M, blocks * channels]
    folded = folded.reshape(n_bins, m, n_blocks, channels)                  # [n_bins, M, blocks, channels]
    response = scipy.fft.ifft(folded, axis=1)[:, lead: lead + step]        # [n_bins, step, blocks, channels]
    out = response.transpose(3, 0, 2, 1).reshape(channels, n_bins, n_blocks * step)
    return np.ascontiguousarray(out[:, :, :frames], dtype=np.complex64)     # [channels, n_bins, frames]
