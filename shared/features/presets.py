"""Named feature settings of the two papers, as functions of the sample rate.

The same function gives the paper-size setting (48 kHz DCASE, 44.1 kHz FSDKaggle) and
the demo-size one (16 kHz demo, 22.05 kHz ESC-10): times are in seconds, sample counts
are derived. Register entries: p1-spectrogram (paper1.yaml), p2-features (paper2.yaml).
"""

from __future__ import annotations

from shared.features.params import FeatureError, FeatureParams

# Paper 1, Sec. 4.2: "256 coefficients from 100 ms windows every 40 ms", Table 3 input
# (249, 256, 2) for a 10 s stereo 48 kHz clip. Each reading below gives exactly
# 249 x 256 per channel at 48 kHz; see register p1-spectrogram for why "end_pad" is default.
P1_READINGS: dict[str, dict] = {
    # 100 ms Hamming window, 40 ms hop, zero-pad the end so the last partial frame is
    # kept: 1 + ceil((480000 - 4800) / 1920) = 249; magnitude STFT, FFT = window,
    # lowest 256 bins (0-2.55 kHz at 48 kHz). Both stated times kept.
    "end_pad": dict(frame_seconds=0.1, hop_seconds=0.04, padding="end", window="hamming",
                    kind="linear_spectrogram", magnitude_power=1.0, max_bins=256),
    # Same framing, 256 log-mel bands over the full band (the "filterbank" reading).
    "end_pad_mel256": dict(frame_seconds=0.1, hop_seconds=0.04, padding="end", window="hamming",
                           kind="logmel", magnitude_power=2.0, n_mels=256),
    # 100 ms window, 40 ms hop, librosa-style centre padding (251 frames) with the two
    # half-empty edge frames dropped -> 249.
    "center_trim": dict(frame_seconds=0.1, hop_seconds=0.04, padding="center", window="hamming",
                        kind="linear_spectrogram", magnitude_power=1.0, max_bins=256,
                        trim_frames=(1, 1)),
    # "100 ms" read as a misprint: a 2048-sample (42.7 ms) window = the lab's usual FFT
    # size, 40 ms hop, no padding: 1 + (480000 - 2048) // 1920 = 249; lowest 256 bins (0-6 kHz).
    "fft2048_valid": dict(frame_seconds=2048 / 48000, hop_seconds=0.04, padding="none",
                          window="hamming", kind="linear_spectrogram", magnitude_power=1.0,
                          max_bins=256),
}
P1_DEFAULT_READING = "end_pad"


def paper1_spectrogram_params(reading: str = P1_DEFAULT_READING, sample_rate: int = 48000,
                              **overrides) -> FeatureParams:
    """Paper 1 CNN-GRU input (Table 3); (249, 256, 2) for a 10 s 48 kHz stereo clip."""
    if reading not in P1_READINGS:
        raise FeatureError(f"paper 1 spectrogram reading '{reading}' unknown "
                           f"(known: {', '.join(P1_READINGS)})")
    fields = dict(P1_READINGS[reading])
    fields["sample_rate"] = sample_rate
    # FFT length = window length (no zero padding), so frames are window-long in every reading.
    fields["fft_length"] = int(round(fields["frame_seconds"] * sample_rate))
    fields.update(overrides)
    return FeatureParams(**fields)


def paper1_waveform_params(sample_rate: int = 48000, **overrides) -> FeatureParams:
    """Paper 1 raw-waveform input (Table 2): pre-emphasis 0.97, (479999, 2) at 48 kHz."""
    fields = dict(kind="waveform", sample_rate=sample_rate, pre_emphasis=0.97)
    fields.update(overrides)
    return FeatureParams(**fields)


P2_KINDS = ("logMel64", "logMel128", "MFCC", "CQT", "WAVE")


def paper2_params(kind: str, sample_rate: int = 44100, n_mels: int | None = None,
                  deltas: bool = True, **overrides) -> FeatureParams:
    """Paper 2 representations (Sec. IV-B): 80 ms frames, 10 ms hop, deltas of width 9.

    Args:
      kind: one of P2_KINDS ("logMel64", "logMel128", "MFCC", "CQT", "WAVE").
      sample_rate: 44100 (FSDKaggle2018), 48000 (TUT 2018), or a demo rate.
      n_mels: overrides the band count of logMel / MFCC.
      deltas: stack (static, delta, delta-delta) as 3 channels (the 3-channel
        ImageNet input, notes "paper 2 open 7").
      overrides: any other FeatureParams field.
    """
    base = dict(sample_rate=sample_rate, frame_seconds=0.08, hop_seconds=0.01,
                padding="center", window="hann", deltas=deltas, delta_width=9)
    if kind in ("logMel64", "logMel128"):
        base.update(kind="logmel", n_mels=64 if kind == "logMel64" else 128)
    elif kind == "MFCC":
        base.update(kind="mfcc", n_mels=64, n_mfcc=64)
    elif kind == "CQT":
        base.update(kind="cqt", cqt_bins=84, cqt_bins_per_octave=12)
    elif kind == "WAVE":
        base.update(kind="waveform", deltas=False)
    else:
        raise FeatureError(f"paper 2 representation '{kind}' unknown (known: {', '.join(P2_KINDS)})")
    if n_mels is not None:
        base["n_mels"] = n_mels
        if base.get("kind") == "mfcc":
            base["n_mfcc"] = n_mels
    base.update(overrides)
    return FeatureParams(**base)
