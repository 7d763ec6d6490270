"""Synthetic sound sources for the generated demo dataset (pure numpy, seeded).

Every function takes a numpy Generator, a length in samples and a sample rate,
and returns a mono float64 signal [n] with RMS about 1 (levels are set by the
scene recipe). Shapes are built in the frequency domain (`_shaped_noise`) or as sums
of sinusoids, so nothing needs scipy.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Source = Callable[[np.random.Generator, int, int], np.ndarray]


def _normalise(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x ** 2)))
    return x / rms if rms > 0 else x


def _shaped_noise(rng: np.random.Generator, n: int, sr: int, lo: float, hi: float,
                  tilt: float = 0.0) -> np.ndarray:
    """White noise band-limited to [lo, hi] Hz with a spectral tilt (dB/octave)."""
    spec = np.fft.rfft(rng.standard_normal(n))            # [n//2+1]
    freqs = np.fft.rfftfreq(n, 1.0 / sr)                  # [n//2+1]
    gain = ((freqs >= lo) & (freqs <= hi)).astype(float)
    if tilt:
        gain *= (np.maximum(freqs, 1.0) / max(lo, 1.0)) ** (tilt / 6.02)
    return _normalise(np.fft.irfft(spec * gain, n))       # [n]


def _envelope(rng: np.random.Generator, n: int, sr: int, rate_hz: float, depth: float) -> np.ndarray:
    """Slow random amplitude envelope in [1-depth, 1] (smoothed noise at `rate_hz`)."""
    knots = max(2, int(n / sr * rate_hz) + 2)
    values = rng.uniform(1.0 - depth, 1.0, knots)
    return np.interp(np.arange(n), np.linspace(0, n - 1, knots), values)   # [n]


def babble(rng, n, sr):
    """Crowd-like: several speech-band noise voices with syllable-rate modulation."""
    out = np.zeros(n)
    for _ in range(int(rng.integers(4, 9))):
        voice = _shaped_noise(rng, n, sr, 250.0, 3400.0, tilt=-3.0)
        syllables = _envelope(rng, n, sr, rng.uniform(3.0, 6.0), 0.95) ** 2
        out += voice * syllables * rng.uniform(0.3, 1.0)
    return _normalise(out)


def rumble(rng, n, sr):
    """Low-frequency rumble (rails, tunnels) with slow swell."""
    return _normalise(_shaped_noise(rng, n, sr, 20.0, rng.uniform(120.0, 220.0), tilt=-6.0)
                      * _envelope(rng, n, sr, 0.7, 0.6))


def beeps(rng, n, sr):
    """A few tonal beeps/chimes (announcements, doors, stop buttons)."""
    out = np.zeros(n)
    t = np.arange(n) / sr
    for _ in range(int(rng.integers(1, 4))):
        f0 = rng.uniform(500.0, 2000.0)
        start = rng.uniform(0.0, max(t[-1] - 0.4, 0.01))
        dur = rng.uniform(0.1, 0.4)
        gate = ((t >= start) & (t < start + dur)) * np.exp(-(t - start).clip(0) * 6.0)
        out += np.sin(2 * np.pi * f0 * t) * gate
    return _normalise(out + 1e-6 * rng.standard_normal(n))


def chirps(rng, n, sr):
    """Birdsong-like fast upward/downward sweeps between 2 and 7 kHz."""
    out = np.zeros(n)
    top = min(7000.0, 0.45 * sr)
    for _ in range(int(rng.integers(3, 12))):
        dur = int(rng.uniform(0.05, 0.15) * sr)
        if dur >= n:
            continue
        start = int(rng.integers(0, n - dur))
        f = np.linspace(rng.uniform(2000.0, top), rng.uniform(2000.0, top), dur)   # [dur]
        phase = 2 * np.pi * np.cumsum(f) / sr
        out[start:start + dur] += np.sin(phase) * np.hanning(dur)
    return _normalise(out + 1e-6 * rng.standard_normal(n))


def engine(rng, n, sr):
    """Combustion engine: harmonic series on a wobbling 30-90 Hz fundamental."""
    f0 = rng.uniform(30.0, 90.0) * (1.0 + 0.05 * (_envelope(rng, n, sr, 1.0, 1.0) - 0.5))  # [n]
    phase = 2 * np.pi * np.cumsum(f0) / sr
    out = sum(np.sin(k * phase) / k ** 0.8 for k in range(1, 12))
    return _normalise(out + 0.3 * _shaped_noise(rng, n, sr, 50.0, 800.0))


def footsteps(rng, n, sr):
    """Heel clicks at a walking rate: short decaying noise bursts."""
    out = np.zeros(n)
    step = int(sr / rng.uniform(1.6, 2.4))
    pos = int(rng.integers(0, step))
    burst_len = int(0.04 * sr)
    decay = np.exp(-np.arange(burst_len) / (0.006 * sr))
    while pos + burst_len < n:
        out[pos:pos + burst_len] += rng.standard_normal(burst_len) * decay * rng.uniform(0.5, 1.0)
        pos += step + int(rng.integers(-step // 10, step // 10 + 1))
    return _normalise(out + 1e-6 * rng.standard_normal(n))


def wind(rng, n, sr):
    """Gusty low-mid noise."""
    return _normalise(_shaped_noise(rng, n, sr, 30.0, 1200.0, tilt=-4.0) * _envelope(rng, n, sr, 0.5, 0.9))


def rain(rng, n, sr):
    """Broadband hiss with droplet clicks."""
    hiss = _shaped_noise(rng, n, sr, 1000.0, 0.48 * sr)
    drops = (rng.random(n) < 200.0 / sr) * rng.standard_normal(n) * 8.0
    return _normalise(hiss + drops)


def whine(rng, n, sr):
    """Electric motor whine: a tone gliding between 300 and 900 Hz plus its octave."""
    f = np.linspace(rng.uniform(300.0, 600.0), rng.uniform(500.0, 900.0), n)   # [n]
    phase = 2 * np.pi * np.cumsum(f) / sr
    return _normalise(np.sin(phase) + 0.4 * np.sin(2 * phase))


def squeal(rng, n, sr):
    """Brake/wheel squeal: an intermittent high tone (2.5-4.5 kHz)."""
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * rng.uniform(2500.0, min(4500.0, 0.45 * sr)) * t)
    gate = _envelope(rng, n, sr, 2.0, 1.0) > 0.6
    return _normalise(tone * gate + 1e-6 * rng.standard_normal(n))


def music(rng, n, sr):
    """Background music: a slow sequence of three-note chords."""
    t = np.arange(n) / sr
    out = np.zeros(n)
    chord_len = int(rng.uniform(0.5, 1.0) * sr)
    for start in range(0, n, chord_len):
        root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
        seg = slice(start, min(n, start + chord_len))
        for ratio in (1.0, 1.26, 1.5):
            out[seg] += np.sin(2 * np.pi * root * ratio * t[seg])
    return _normalise(out)


SOURCES: dict[str, Source] = {
    "babble": babble, "rumble": rumble, "beeps": beeps, "chirps": chirps, "engine": engine,
    "footsteps": footsteps, "wind": wind, "rain": rain, "whine": whine, "squeal": squeal,
    "music": music,
}
