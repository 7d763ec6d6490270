"""The demo's `premises` design: scenes built so that both papers' premises, as issue 12 named
them, hold (paper 1's joined teacher; paper 2's complementary representations). Paper 2's
transfer premise (one representation can learn what the other knows), measured since by
replication.premises, it does NOT carry: what each representation adds is absent from the
other's input (register shared-demo-premises-design, docs/claims.md).

Selected by DemoParams(design="premises"); the default design ("scenes", demo.RECIPES)
is unchanged. Register shared-demo-premises-design. A family is one of five confusable
pairs of scenes (`FAMILIES`). Every clip has two parts:

- a bed, the same recipe for every scene (pink-ish noise, with babble and rumble at low
  fixed-range levels), whose level swings in time by +-DEPTH_DB in every band at one
  rate, with a phase that advances across the mel scale by a fixed number of turns per
  family (`cycles`). Each band on its own has the same level distribution in every
  family, so per-band statistics of a log-mel spectrogram (mean, std, max over time)
  cannot tell the families apart; the pattern across bands can, and the cepstra (MFCC)
  of a frame measure it (cepstrum k swings most when the phase makes k/2 turns).
- in half the clips of each scene and location (`has_event`), one event of 0.4-0.8 s,
  12-18 dB above the bed: a harmonic tone with its family's formant (spectral envelope)
  and its scene's fundamental (`scene_plan`). The two scenes of a family differ by one
  semitone of fundamental only, harmonic fine structure that 128 mel bands resolve and
  20 cepstra of 64 bands smear (they keep the envelope, which the twins share).

What each premise gets from this:
- paper 1 (a teacher hearing two clips of a scene knows more than one hearing one): the
  event is the scene's only evidence that per-band statistics can see, and it is in half
  the clips; a clip joined with another clip of its scene holds it about 3 times in 4.
- paper 2 (logMel128 and MFCC-20 err on different clips): logMel128 resolves the scene
  when the event is there and knows nothing without it; MFCC-20 knows the family in
  every clip (the bed's texture, the event's envelope) and never the semitone, so its
  errors (the scene's twin) do not follow the event's presence.

A model that looks across bands (a CNN) sees the family in the bed too, so for it a clip
without the event is ambiguous within its family only: a second clip can add at most
about 12.5 points there, against about 22 for per-band statistics (ambiguous among 10).
Clip counts and recording locations (EQ, noise; train and evaluate disjoint) are the
default design's, except that the two scenes of a family share their locations
(`location_host`). Sources are placed in stereo by level only (demo._place, delay=False).
All randomness comes from the clip's numpy Generator, in a fixed order.
"""

from __future__ import annotations

import numpy as np

from shared.datasets.demo_sources import _normalise, babble, rumble

DEPTH_DB = 6.0                 # bed modulation, +- dB in every band
BED_FFT = 512                  # frame of the bed's synthesis (32 ms at 16 kHz)
BED_LOW_HZ = 50.0
BED_HIGH_HZ = 7500.0
BASE_F0_HZ = 110.0             # lowest scene fundamental; scenes sit on a semitone grid above it
SEMITONE = 2 ** (1 / 12)

# (scene A, scene B): (formant centre Hz of the family's events, bed phase cycles across the bands).
# A family is one of the confusable pairs; A and B differ only by one semitone of f0.
FAMILIES: dict[tuple[str, str], tuple[float, float]] = {
    ("airport", "shopping_mall"): (400.0, 0.0),
    ("metro", "tram"): (700.0, 0.5),
    ("bus", "street_traffic"): (1200.0, 1.0),
    ("metro_station", "street_pedestrian"): (2000.0, 2.0),
    ("park", "public_square"): (3200.0, 3.0),
}


def scene_plan(scene: str) -> tuple[float, float, float]:
    """(fundamental Hz, formant Hz, bed cycles) of a scene; KeyError names unknown scenes."""
    for j, (pair, (formant, cycles)) in enumerate(FAMILIES.items()):
        if scene in pair:
            return BASE_F0_HZ * SEMITONE ** (2 * j + pair.index(scene)), formant, cycles
    raise KeyError(f"demo_premises: scene '{scene}' is in no family of FAMILIES")


def location_host(scene: str) -> str:
    """The scene whose recording locations `scene` shares: the first of its family.

    In DCASE a location records one scene; here the twins share locations, or each
    location's colouring would be a twin cue (a shortcut whose luck over two evaluate
    locations per scene swung the MFCC-20 probe between 29 and 74 %).
    """
    for pair in FAMILIES:
        if scene in pair:
            return pair[0]
    raise KeyError(f"demo_premises: scene '{scene}' is in no family of FAMILIES")


def _mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, float) / 700.0)


def textured_bed(rng: np.random.Generator, n: int, sr: int, cycles: float) -> np.ndarray:
    """The shared bed [n] (RMS 1) whose level swings with the family's cross-band phase.

    Synthesised frame by frame (random-phase spectra, overlap-added with a Hann window):
    in frame t at frequency f the level is +-DEPTH_DB * sin(2 pi rate t + phase(f)), the
    phase advancing by `cycles` turns from BED_LOW_HZ to BED_HIGH_HZ on the mel scale.
    """
    high = min(BED_HIGH_HZ, 0.47 * sr)
    hop = BED_FFT // 4
    count = n // hop + 4                                                   # frames
    freqs = np.fft.rfftfreq(BED_FFT, 1.0 / sr)                             # [bins]
    inside = (freqs >= BED_LOW_HZ) & (freqs <= high)
    tilt = rng.uniform(-3.2, -2.8)                                         # dB / octave
    envelope = inside * (np.maximum(freqs, BED_LOW_HZ) / BED_LOW_HZ) ** (tilt / 6.02)   # [bins]
    position = np.clip((_mel(freqs) - _mel(BED_LOW_HZ)) / (_mel(high) - _mel(BED_LOW_HZ)), 0.0, 1.0)
    rate = rng.uniform(1.5, 3.0)                                           # Hz
    t = (np.arange(count) * hop - BED_FFT // 2) / sr                       # [frames] frame centres
    swing = np.sin(2 * np.pi * rate * t[:, None] + rng.uniform(0.0, 2 * np.pi)
                   + 2 * np.pi * cycles * position[None, :])               # [frames, bins]
    spectra = (rng.standard_normal((count, freqs.size)) + 1j * rng.standard_normal((count, freqs.size))) \
        * envelope * 10 ** (DEPTH_DB * swing / 20)                         # [frames, bins]
    frames = np.fft.irfft(spectra, BED_FFT, axis=1) * np.hanning(BED_FFT)  # [frames, fft]
    out = np.zeros((count + 3) * hop)
    for i in range(count):
        out[i * hop:i * hop + BED_FFT] += frames[i]
    bed = _normalise(out[BED_FFT // 2:BED_FFT // 2 + n])                    # [n]
    bed = bed + babble(rng, n, sr) * 10 ** (rng.uniform(-11.0, -9.0) / 20)
    bed = bed + rumble(rng, n, sr) * 10 ** (rng.uniform(-8.0, -6.0) / 20)
    return _normalise(bed)


def event(rng: np.random.Generator, n: int, sr: int, f0: float, formant: float) -> np.ndarray:
    """One harmonic tone [n] (RMS 1 over its span, 0 elsewhere) lasting 0.5-1 s."""
    length = min(n, int(rng.uniform(0.4, 0.8) * sr))
    start = int(rng.integers(0, n - length + 1))
    f0 = f0 * (1.0 + rng.uniform(-0.005, 0.005))
    t = np.arange(length) / sr                                             # [length]
    tone = np.zeros(length)
    for h in range(1, int(0.45 * sr / f0) + 1):
        octaves = np.log2(h * f0 / formant)
        amp = 0.15 + np.exp(-0.5 * (octaves / 0.5) ** 2)                   # formant over a -16 dB floor
        tone += amp * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi))
    ramp = min(length // 2, int(0.05 * sr))
    gate = np.ones(length)
    gate[:ramp] = np.linspace(0.0, 1.0, ramp)
    gate[length - ramp:] = np.linspace(1.0, 0.0, ramp)
    out = np.zeros(n)
    out[start:start + length] = _normalise(tone) * gate
    return out


def has_event(clip_seed: list[int], locations: int) -> bool:
    """Whether a clip holds its scene's event: every other clip of each location does.

    clip_seed is demo._plan's [seed, class, split, clip index, 2]; clip i was recorded at
    location i % locations, so each location (and each scene) gets half its clips with
    the event, the first one chosen at random per location.
    """
    seed, k, split, i = clip_seed[:4]
    first = int(np.random.default_rng([seed, k, split, i % locations, 3]).integers(2))
    return (i // locations + first) % 2 == 0


def sources(rng: np.random.Generator, scene: str, n: int, sr: int, with_event: bool) -> list[np.ndarray]:
    """The mono parts of one clip of `scene` at their levels: [bed] or [bed, event]."""
    f0, formant, cycles = scene_plan(scene)
    parts = [textured_bed(rng, n, sr, cycles)]
    if with_event:
        parts.append(event(rng, n, sr, f0, formant) * 10 ** (rng.uniform(12.0, 18.0) / 20))
    return parts
