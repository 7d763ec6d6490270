"""Tiny cached data sets of tone + noise clips, shared by the strategy / multi-worker tests.

Clip i has label i % classes, a tone of base_hz + step_hz * label on both channels (the
right one in anti-phase if asked) plus Gaussian noise from default_rng(i); the clips are
float WAV files cached as waveforms [clip, 2] (float32).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tone_waveform_cache(folder: Path, name: str, *, clips: int, clip: int, classes: int,
                        rate: int, base_hz: float, step_hz: float, noise: float,
                        amplitude: float = 1.0, antiphase: bool = False):
    """The CacheEntry of `clips` generated stereo clips (files already there are reused,
    so several processes may call this on one folder)."""
    from shared.audio import write_audio
    from shared.cache import FeatureCache
    from shared.datasets.base import Example
    from shared.features import FeatureParams

    t = np.arange(clip) / rate
    examples = []
    for i in range(clips):
        label = i % classes
        rng = np.random.default_rng(i)
        tone = np.sin(2 * np.pi * (base_hz + step_hz * label) * t)
        audio = np.stack([tone, -tone if antiphase else tone], axis=1) * amplitude \
            + rng.normal(scale=noise, size=(clip, 2))                       # [clip, 2]
        path = folder / "audio" / f"c{i:02d}.wav"
        if not path.exists():
            write_audio(path, audio.astype(np.float32), rate, subtype="FLOAT")
        examples.append(Example(path, label, f"c{i:02d}"))
    return FeatureCache(folder / "cache", progress=False).get_or_build(
        name, examples, FeatureParams(kind="waveform", sample_rate=rate), dtype="float32")
