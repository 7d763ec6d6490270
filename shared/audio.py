"""Audio decoding with soundfile (24-bit WAV, FLAC, 16-bit PCM ...).

tensorflow-io would decode inside the graph, but its last release (0.37.1) cannot load
its compiled ops with TensorFlow 2.21 (see docs/dependencies.md), so decoding happens in numpy and
the tf.data pipeline reads decoded features from the cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf


class AudioError(ValueError):
    """An audio file cannot be used; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):
        # picklable with its two arguments (errors cross process boundaries in parallel builds)
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int
    subtype: str

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Header facts of an audio file, or AudioError naming the file."""
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file does not exist")
    try:
        info = sf.info(str(path))
    except Exception as err:  # soundfile raises RuntimeError/LibsndfileError
        raise AudioError(path, f"not a readable audio file ({err})") from None
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames), str(info.subtype))


def read_audio(path: str | os.PathLike,
               expected_rate: int | None = None,
               expected_channels: int | None = None) -> tuple[np.ndarray, int]:
    """Decodes a file to float32 in [-1, 1].

    Args:
      path: any format libsndfile reads (WAV of any bit depth, FLAC, OGG).
      expected_rate: if given, a file at another rate is an error (no silent resampling).
      expected_channels: if given, a file with another channel count is an error.
    Returns:
      (samples [time, channels] float32, sample_rate)
    Raises:
      AudioError: unreadable, empty, wrong rate or channels, or non-finite samples.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file does not exist")
    try:
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)  # [time, channels]
    except Exception as err:
        raise AudioError(path, f"cannot decode ({err})") from None
    if samples.shape[0] == 0:
        raise AudioError(path, "contains no samples")
    if expected_rate is not None and rate != expected_rate:
        raise AudioError(path, f"sample rate {rate} Hz, expected {expected_rate} Hz")
    if expected_channels is not None and samples.shape[1] != expected_channels:
        raise AudioError(path, f"{samples.shape[1]} channel(s), expected {expected_channels}")
    if not np.all(np.isfinite(samples)):
        raise AudioError(path, "contains NaN or infinite samples")
    return samples, int(rate)


def write_audio(path: str | os.PathLike, samples: np.ndarray, rate: int,
                subtype: str = "PCM_16") -> None:
    """Writes [time, channels] float samples; used by the demo generator and tests."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    try:
        sf.write(str(tmp), samples, rate, subtype=subtype, format=fmt)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
