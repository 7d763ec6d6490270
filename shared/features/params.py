"""FeatureParams: one frozen dataclass describing every front end of the kit.

Every representation of both papers is a value of this class; a paper's setting is a
preset function (see `shared/features/presets.py`), never a copied code path. Times are
given in seconds; the sample counts the code needs are derived properties, so the same
preset works at 48 kHz (DCASE), 44.1 kHz (FSDKaggle), 22.05 kHz (ESC-10) or 16 kHz (demo).

    params = FeatureParams(kind="logmel", sample_rate=16000, n_mels=64)
    params.frame_length   # 1280 samples (80 ms)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

KINDS = ("waveform", "linear_spectrogram", "log_power_spectrogram", "logmel", "mfcc", "cqt")
PADDINGS = ("center", "none", "end")
WINDOWS = ("hann", "hamming")
MAGNITUDE_POWERS = (1.0, 2.0)
CQT_IMPLS = ("fast", "librosa")


class FeatureError(ValueError):
    """Invalid feature parameters, or audio that cannot give the requested features."""


@dataclass(frozen=True)
class FeatureParams:
    kind: str = "logmel"                 # one of KINDS
    sample_rate: int = 44100             # Hz; audio at another rate is an error, never resampled
    frame_seconds: float = 0.08          # window length; paper 2 Sec. IV-B "frame width 80 ms"
    hop_seconds: float = 0.01            # frame shift; paper 2 Sec. IV-B "frame shift 10 ms"
    fft_length: int | None = None        # None: next power of two >= frame_length (not stated, see register p2-features)
    window: str = "hann"                 # periodic window; "hann" is librosa's default (paper 2 used librosa)
    padding: str = "center"              # "center": pad fft_length//2 both sides (librosa center=True);
                                         # "none": full frames only; "end": zero-pad the end so the last
                                         # partial frame is kept (1 + ceil((N - fft)/hop) frames, register p1-spectrogram)
    pad_mode: str = "constant"           # centre padding values: "constant" (zeros, librosa >= 0.10) or "reflect"
    magnitude_power: float = 2.0         # 1: magnitude |X|, 2: power |X|^2 (linear/log spectrograms, mel input)
    max_bins: int | None = None          # keep only the lowest `max_bins` frequency bins (paper 1 "256 coefficients")
    n_mels: int = 64                     # paper 2 Sec. IV-B "mel filter banks as 64" (128 for logMel128)
    fmin: float = 0.0                    # mel / CQT lowest frequency (Hz); mel: librosa default 0, see register p2-features
    fmax: float | None = None            # mel highest frequency; None = sample_rate / 2 (librosa default)
    mel_htk: bool = False                # False: Slaney mel scale (librosa default); True: HTK formula
    mel_norm: str | None = "slaney"      # "slaney": area-normalised triangles (librosa default); None: peak 1
    n_mfcc: int = 64                     # not stated; default as many as mel bands (notes "paper 2 open 2")
    log_amin: float = 1e-10              # floor inside the log: 10*log10(max(x, amin)) (librosa power_to_db default)
    log_top_db: float | None = None      # None: no dynamic-range clip; a number clips at (clip max - top_db)
    cqt_bins: int = 84                   # not stated; 7 octaves (notes "paper 2 open 2")
    cqt_bins_per_octave: int = 12        # not stated (notes "paper 2 open 2")
    cqt_fmin: float | None = None        # None: C1 = 32.70 Hz (librosa default)
    cqt_impl: str = "fast"               # "fast": one FFT per clip through a folded sparse kernel
                                         # (shared/features/cqt_fast.py); "librosa": librosa.cqt, the
                                         # reference (register shared-cqt-impl)
    pre_emphasis: float | None = None    # y[n] = x[n] - c*x[n-1], first sample dropped (paper 1 Table 2: 0.97)
    deltas: bool = False                 # stack static, delta, delta-delta (paper 2 Sec. IV-B)
    delta_width: int = 9                 # paper 2 Sec. IV-B "window size of 9"
    trim_frames: tuple[int, int] = (0, 0)  # frames dropped at (start, end) after framing (a p1 reading)
    downmix: bool = False                # mix the audio channels to mono (their mean) before the front end:
                                         # paper 2 on stereo TUT 2018 (librosa.load's default), register p2-mono-downmix

    def __post_init__(self) -> None:
        self.validate()

    # ----- derived numbers (never stored) -----
    @property
    def frame_length(self) -> int:
        """Window length in samples (rounded to the nearest sample)."""
        return int(round(self.frame_seconds * self.sample_rate))

    @property
    def hop_length(self) -> int:
        """Frame shift in samples."""
        return int(round(self.hop_seconds * self.sample_rate))

    @property
    def fft_size(self) -> int:
        """FFT length actually used (>= frame_length)."""
        if self.fft_length is not None:
            return self.fft_length
        return 1 << max(0, math.ceil(math.log2(self.frame_length)))

    @property
    def num_fft_bins(self) -> int:
        return self.fft_size // 2 + 1

    @property
    def num_bins(self) -> int:
        """Size of the frequency axis of the output."""
        if self.kind == "waveform":
            raise FeatureError("a waveform has no frequency axis")
        if self.kind == "logmel":
            return self.n_mels
        if self.kind == "mfcc":
            return self.n_mfcc
        if self.kind == "cqt":
            return self.cqt_bins
        full = self.num_fft_bins
        return min(full, self.max_bins) if self.max_bins is not None else full

    def output_channels(self, audio_channels: int) -> int:
        """Channels of the output: per audio channel (one with downmix), times 3 with deltas."""
        return (1 if self.downmix else audio_channels) * (3 if self.deltas else 1)

    def num_samples_after_preemphasis(self, num_samples: int) -> int:
        return num_samples - 1 if self.pre_emphasis is not None else num_samples

    def num_frames(self, num_samples: int) -> int:
        """Frames produced from `num_samples` input samples (before pre-emphasis)."""
        n = self.num_samples_after_preemphasis(num_samples)
        if self.kind == "waveform":
            return n
        hop, fft = self.hop_length, self.fft_size
        if self.padding == "center" or self.kind == "cqt":
            frames = 1 + n // hop
        elif self.padding == "none":
            frames = 1 + (n - fft) // hop if n >= fft else 0
        else:  # "end"
            frames = 1 + max(0, math.ceil((n - fft) / hop))
        return frames - self.trim_frames[0] - self.trim_frames[1]

    def output_shape(self, num_samples: int, audio_channels: int) -> tuple[int, ...]:
        """Shape of the features of a clip: [frames, bins, channels] or [time, channels]."""
        if self.kind == "waveform":
            return (self.num_frames(num_samples), 1 if self.downmix else audio_channels)
        return (self.num_frames(num_samples), self.num_bins, self.output_channels(audio_channels))

    def inert_fields(self) -> tuple[str, ...]:
        """Fields with no effect on this setting's output, left out of its dict (and so of
        the feature-cache and model-store keys): a field added later stays out of the keys
        of the settings it cannot change, so their existing entries keep matching."""
        return (() if self.kind == "cqt" else ("cqt_impl",)) + (() if self.downmix else ("downmix",))

    def replace(self, **changes) -> "FeatureParams":
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        def bad(msg: str) -> None:
            raise FeatureError(f"FeatureParams: {msg}")

        if self.kind not in KINDS:
            bad(f"kind '{self.kind}' unknown (known: {', '.join(KINDS)})")
        if self.sample_rate <= 0:
            bad(f"sample_rate must be positive, got {self.sample_rate}")
        if self.padding not in PADDINGS:
            bad(f"padding '{self.padding}' unknown (known: {', '.join(PADDINGS)})")
        if self.pad_mode not in ("constant", "reflect"):
            bad(f"pad_mode '{self.pad_mode}' unknown (known: constant, reflect)")
        if self.window not in WINDOWS:
            bad(f"window '{self.window}' unknown (known: {', '.join(WINDOWS)})")
        if self.magnitude_power not in MAGNITUDE_POWERS:
            bad(f"magnitude_power must be 1 or 2, got {self.magnitude_power}")
        if self.cqt_impl not in CQT_IMPLS:
            bad(f"cqt_impl '{self.cqt_impl}' unknown (known: {', '.join(CQT_IMPLS)})")
        if self.pre_emphasis is not None and not 0.0 <= self.pre_emphasis < 1.0:
            bad(f"pre_emphasis must be in [0, 1) or None, got {self.pre_emphasis}")
        if self.kind == "waveform":
            if self.deltas:
                bad("deltas need a frequency representation, not kind='waveform'")
            return
        if self.frame_length < 2 or self.hop_length < 1:
            bad(f"frame ({self.frame_length}) / hop ({self.hop_length}) samples too small "
                f"at {self.sample_rate} Hz")
        if self.fft_size < self.frame_length:
            bad(f"fft_length {self.fft_size} is shorter than the window ({self.frame_length} samples)")
        if self.max_bins is not None and self.max_bins < 1:
            bad(f"max_bins must be positive, got {self.max_bins}")
        for name in ("n_mels", "cqt_bins", "cqt_bins_per_octave"):
            if getattr(self, name) < 1:
                bad(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.log_top_db is not None and self.log_top_db <= 0:
            bad(f"log_top_db must be positive or None (no clip), got {self.log_top_db}")
        nyquist = self.sample_rate / 2
        fmax = self.fmax if self.fmax is not None else nyquist
        if self.kind in ("logmel", "mfcc") and not 0 <= self.fmin < fmax <= nyquist:
            bad(f"need 0 <= fmin ({self.fmin}) < fmax ({fmax}) <= Nyquist ({nyquist})")
        if self.kind == "mfcc" and not 1 <= self.n_mfcc <= self.n_mels:
            bad(f"n_mfcc ({self.n_mfcc}) must be between 1 and n_mels ({self.n_mels})")
        if self.deltas and (self.delta_width < 3 or self.delta_width % 2 == 0):
            bad(f"delta_width must be odd and >= 3, got {self.delta_width}")
        if self.log_amin <= 0:
            bad(f"log_amin must be positive, got {self.log_amin}")
        if min(self.trim_frames) < 0:
            bad(f"trim_frames must be non-negative, got {self.trim_frames}")
