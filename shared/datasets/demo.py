"""A small acoustic-scene dataset the kit generates itself (register shared-demo-dataset).

It stands in for DCASE 2018 task 1A where the real data is not available (CI, a quick
look at the whole pipeline): same layout (meta.csv, evaluation_setup/fold1_train.txt,
fold1_evaluate.txt, audio/*.wav), the same 10 scene names, stereo 16-bit WAV.

Each scene is a recipe over a shared vocabulary of synthetic sources
(`demo_sources.SOURCES`): every source appears with a probability and a gain range,
so scenes overlap. airport and shopping_mall are both dominated by babble, metro and
tram by rumble and motor whine (the confusable pairs of paper 1, Fig. 2). Each clip
is recorded at a "location" (Example.group) that colours the whole clip (a smooth
random EQ and a background-noise tint); train and evaluate locations are disjoint,
as in the official DCASE split, so a model must generalise across locations.

DemoParams.design chooses the recipe: "scenes" (the above, the default) or "premises"
(`demo_premises`: a bed shared by all scenes plus sparse scene events, built so that
both papers' premises as issue 12 named them hold, not paper 2's transfer premise;
register shared-demo-premises-design).

Everything is drawn from numpy Generators seeded by (seed, class, clip), so the same
DemoParams give byte-identical files. The params are saved in the root as
demo_params.yaml and `load_splits` reads them back.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from shared.audio import write_audio
from shared.config import ConfigError
from shared.config import atomic_write_text, override, read_yaml, to_dict
from shared.datasets import dcase2018_task1a as dcase
from shared.datasets import demo_premises
from shared.datasets.base import DatasetError, DatasetSpec, Split
from shared.datasets.demo_sources import SOURCES
from shared.publish import PublishExistsError, atomic_directory, clean_stale

NAME = "demo"
PARAMS_FILE = "demo_params.yaml"
DONE_FILE = ".demo_complete"
CITIES = ("north", "south", "east")
MIN_SAMPLE_RATE = 8000              # lowest rate DemoParams accepts
MIN_CLIP_SECONDS = 0.25             # shortest clip DemoParams accepts
DESIGNS = ("scenes", "premises")    # DemoParams.design values


@dataclass(frozen=True)
class DemoParams:
    sample_rate: int = 16000        # not from a paper: small for speed, see register shared-demo-dataset
    channels: int = 2               # stereo like DCASE 2018 (paper 1, Table 2 input (479999, 2))
    clip_seconds: float = 4.0       # not from a paper: short for speed (DCASE clips are 10 s)
    train_per_class: int = 24       # not from a paper: demo size
    evaluate_per_class: int = 12    # not from a paper: demo size
    seed: int = 0                   # generator seed; same params -> identical files
    design: str = "scenes"          # "scenes" (RECIPES) or "premises" (demo_premises), see module doc

    def __post_init__(self):
        # checked before anything is generated: a bad --opt never publishes a root
        if self.sample_rate < MIN_SAMPLE_RATE:
            raise ConfigError(f"DemoParams.sample_rate must be >= {MIN_SAMPLE_RATE} Hz "
                              f"(the sources reach 7 kHz), got {self.sample_rate}")
        if self.channels not in (1, 2):
            raise ConfigError(f"DemoParams.channels must be 1 or 2, got {self.channels}")
        if self.clip_seconds < MIN_CLIP_SECONDS:
            raise ConfigError(f"DemoParams.clip_seconds must be >= {MIN_CLIP_SECONDS}, got {self.clip_seconds}")
        for name in ("train_per_class", "evaluate_per_class"):
            if getattr(self, name) < 1:
                raise ConfigError(f"DemoParams.{name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ConfigError(f"DemoParams.seed must be >= 0, got {self.seed}")
        if self.design not in DESIGNS:
            raise ConfigError(f"DemoParams.design must be one of {', '.join(DESIGNS)}, got {self.design!r}")

    @property
    def clip_frames(self) -> int:
        return int(round(self.sample_rate * self.clip_seconds))

    def locations(self, split: str) -> int:
        """Recording locations per class in a split (about 6 clips each)."""
        count = self.train_per_class if split == "train" else self.evaluate_per_class
        return max(1, min(count, round(count / 6)))


# scene -> [(source, probability of presence, (min gain dB, max gain dB))]; the first two
# sources of a scene are its signature (always present), the others come and go.
RECIPES: dict[str, list[tuple[str, float, tuple[float, float]]]] = {
    "airport": [("babble", 1.0, (-3, 0)), ("beeps", 1.0, (-10, -4)), ("engine", 0.5, (-16, -8)),
                ("footsteps", 0.4, (-14, -6)), ("music", 0.1, (-20, -12))],
    "shopping_mall": [("babble", 1.0, (-3, 0)), ("music", 1.0, (-12, -4)),
                      ("footsteps", 0.4, (-14, -6)), ("beeps", 0.2, (-16, -8))],
    "metro": [("rumble", 1.0, (-2, 0)), ("squeal", 1.0, (-12, -4)), ("whine", 0.5, (-14, -6)),
              ("babble", 0.3, (-16, -8))],
    "tram": [("rumble", 1.0, (-3, 0)), ("whine", 1.0, (-10, -4)), ("beeps", 0.5, (-14, -6)),
             ("squeal", 0.2, (-18, -10)), ("babble", 0.2, (-16, -8))],
    "metro_station": [("babble", 1.0, (-6, -2)), ("rumble", 1.0, (-8, -2)),
                      ("footsteps", 0.7, (-10, -4)), ("beeps", 0.4, (-14, -6)),
                      ("squeal", 0.3, (-18, -8))],
    "bus": [("engine", 1.0, (-2, 0)), ("babble", 1.0, (-10, -4)), ("beeps", 0.3, (-14, -6)),
            ("rumble", 0.3, (-12, -4))],
    "park": [("chirps", 1.0, (-6, 0)), ("wind", 1.0, (-10, -2)), ("babble", 0.2, (-18, -10)),
             ("rain", 0.15, (-16, -8))],
    "public_square": [("babble", 1.0, (-6, -1)), ("chirps", 1.0, (-12, -4)),
                      ("footsteps", 0.6, (-10, -4)), ("engine", 0.3, (-16, -8))],
    "street_pedestrian": [("footsteps", 1.0, (-4, 0)), ("babble", 1.0, (-6, -1)),
                          ("engine", 0.4, (-14, -6)), ("music", 0.15, (-18, -10))],
    "street_traffic": [("engine", 1.0, (-1, 0)), ("wind", 1.0, (-10, -4)),
                       ("rumble", 0.5, (-8, -2)), ("beeps", 0.3, (-14, -6))],
}
assert tuple(sorted(RECIPES)) == dcase.CLASSES


def spec(params: DemoParams = DemoParams()) -> DatasetSpec:
    """The demo's facts for the given params (the default params unless told)."""
    return DatasetSpec(
        name=NAME, classes=dcase.CLASSES, sample_rate=params.sample_rate,
        channels=params.channels, clip_seconds=params.clip_seconds,
        description="generated demo scenes in the DCASE 2018 task 1A layout"
                    + ("" if params.design == "scenes" else f" ({params.design} design)"),
        extra={"subtype": "PCM_16", "audio_dirs": dcase.AUDIO_DIRS,
               "split_counts": {"fold1_train": params.train_per_class * len(dcase.CLASSES),
                                "fold1_evaluate": params.evaluate_per_class * len(dcase.CLASSES)},
               "design": params.design})


def read_params(root: Path) -> DemoParams:
    """The params a demo root was generated with (DatasetError if it has none)."""
    path = Path(root) / PARAMS_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: missing; generate the demo with "
                           f"`python -m replication.data prepare demo`")
    return override(DemoParams(), read_yaml(path), source=str(path))


def identity(root: Path) -> dict:
    """The DemoParams fields of a generated root that differ from the defaults ({} for a
    root of the default params, or not generated yet). Trained-model store keys carry it,
    so models trained on one generation are never reused for another (the feature cache
    keys on the files themselves)."""
    if not (Path(root) / PARAMS_FILE).is_file():
        return {}
    default = to_dict(DemoParams())
    return {k: v for k, v in to_dict(read_params(root)).items() if default.get(k) != v}


def generated_params(root: Path) -> DemoParams | None:
    """The params of a finished generation at `root`, whatever they are (None: none there)."""
    root = Path(root)
    if not ((root / DONE_FILE).is_file() and (root / PARAMS_FILE).is_file()):
        return None
    return read_params(root)


def load_splits(root: Path, params: DemoParams | None = None) -> dict[str, Split]:
    """Same parser as DCASE 2018 task 1A, with the demo's params (read from root)."""
    params = params if params is not None else read_params(root)
    return dcase.load_dcase_layout(root, spec(params), dcase.SPLIT_FILES)


def _smooth_eq(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A location's random smooth EQ (+-3 dB at 8 log-spaced points) as rfft gains [n//2+1]."""
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    points = np.geomspace(50.0, sr / 2, 8)
    db = rng.uniform(-3.0, 3.0, points.size)
    return 10 ** (np.interp(np.log(np.maximum(freqs, 1.0)), np.log(points), db) / 20)


def _location_traits(params: DemoParams, location_seed: list[int]) -> dict:
    rng = np.random.default_rng(location_seed)
    return {"eq": _smooth_eq(rng, params.clip_frames, params.sample_rate),
            "noise_tilt": rng.uniform(-6.0, 0.0), "noise_db": rng.uniform(-34.0, -24.0)}


def _place(mix: np.ndarray, mono: np.ndarray, rng: np.random.Generator, sr: int,
           delay: bool = True) -> None:
    """Adds a mono source [n] to `mix` [n, ch] at a random stereo position (in place).

    `delay` False: level difference only. The premises design places its sources so: a
    delay between the channels makes their mean (what the premise probes read) a random
    comb filter per clip and source, a clip signature unrelated to either premise.
    """
    n, ch = mix.shape
    angle = rng.uniform(0.1, 0.5 * np.pi - 0.1)                # stereo position
    delay = int(rng.integers(0, max(1, sr // 2000))) if delay else 0   # up to ~0.5 ms between ears
    pans = (np.cos(angle), np.sin(angle))
    for c in range(ch):
        shifted = np.concatenate([np.zeros(delay), mono[:n - delay]]) if c == 1 and delay else mono
        mix[:, c] += shifted * pans[c % 2]


def _render_clip(params: DemoParams, scene: str, traits: dict, clip_seed: list[int],
                 with_event: bool = False) -> np.ndarray:
    """One clip [frames, channels] in [-1, 1] (`with_event`: premises design only)."""
    rng = np.random.default_rng(clip_seed)
    n, sr, ch = params.clip_frames, params.sample_rate, params.channels
    mix = np.zeros((n, ch))                                        # [n, ch]
    if params.design == "premises":
        for mono in demo_premises.sources(rng, scene, n, sr, with_event):
            _place(mix, mono, rng, sr, delay=False)
    else:
        recipe = RECIPES[scene]
        present = [item for item in recipe if rng.random() < item[1]] or [recipe[0]]
        for source, _p, (lo, hi) in present:
            mono = SOURCES[source](rng, n, sr) * 10 ** (rng.uniform(lo, hi) / 20)   # [n]
            if rng.random() < 0.3:   # the source is heard only in part of the clip
                length = int(rng.uniform(0.4, 0.9) * n)
                start = int(rng.integers(0, n - length + 1))
                gate = np.zeros(n)
                gate[start:start + length] = np.hanning(length) ** 0.25
                mono = mono * gate
            _place(mix, mono, rng, sr)
    for c in range(ch):   # location background, decorrelated between channels
        noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n))
                             * (np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0) / 20.0) ** (traits["noise_tilt"] / 6.02), n)
        noise /= max(np.sqrt(np.mean(noise ** 2)), 1e-12)
        mix[:, c] += noise * 10 ** ((traits["noise_db"] + rng.uniform(-3, 3)) / 20)
        mix[:, c] = np.fft.irfft(np.fft.rfft(mix[:, c]) * traits["eq"], n)
    rms = np.sqrt(np.mean(mix ** 2))
    mix *= 10 ** (rng.uniform(-26.0, -22.0) / 20) / max(rms, 1e-12)
    peak = np.max(np.abs(mix))
    if peak > 0.98:
        mix *= 0.98 / peak
    return mix.astype(np.float32)


def _plan(params: DemoParams) -> list[tuple[str, str, str, list[int], list[int]]]:
    """[(split, scene, identifier, location_seed, clip_seed)] in a fixed order.

    Each scene has its own locations per split; in the premises design the two scenes of a
    family share theirs (`demo_premises.location_host`), so a location cannot tell them apart.
    """
    plan = []
    location_index = 0
    locations: dict[tuple[str, str], list[tuple[str, list[int]]]] = {}
    for k, scene in enumerate(dcase.CLASSES):
        host = demo_premises.location_host(scene) if params.design == "premises" else scene
        for split_index, (split, count) in enumerate((("train", params.train_per_class),
                                                      ("evaluate", params.evaluate_per_class))):
            n_loc = params.locations(split)
            if (host, split) not in locations:
                ids = []
                for j in range(n_loc):
                    ids.append((f"{CITIES[location_index % len(CITIES)]}-{location_index}",
                                [params.seed, dcase.CLASSES.index(host), split_index, j, 1]))
                    location_index += 1
                locations[(host, split)] = ids
            ids = locations[(host, split)]
            for i in range(count):
                identifier, loc_seed = ids[i % n_loc]
                plan.append((split, scene, identifier, loc_seed, [params.seed, k, split_index, i, 2]))
    return plan


def is_complete(root: Path, params: DemoParams) -> bool:
    """True when `root` holds a finished generation with exactly these params."""
    root = Path(root)
    return (root / DONE_FILE).is_file() and (root / PARAMS_FILE).is_file() \
        and read_params(root) == params


def generate(root: Path, params: DemoParams = DemoParams(), progress: bool = True,
             force: bool = False) -> Path:
    """Writes the demo dataset to `root` (built in a temporary folder, then renamed).

    Returns the root. An existing complete root with the same params is kept; any
    other existing root is an error. `force` regenerates and replaces any root.
    Staging folders of killed generations (`.<root name>.partial-*`, owner process
    gone) are removed first, with a line naming each.

    Raises:
      DatasetError: `root` exists (or another process published it while this one
        generated it) and is not a complete demo with these params, without `force`.
    """
    root = Path(root)
    clean_stale(root.parent, [f".{root.name}.partial-"])
    if is_complete(root, params) and not force:
        return root
    if os.path.lexists(root) and not force:
        raise DatasetError(f"{root}: exists but is not a complete demo with these params; "
                           f"remove it or pass force=True (--force)")
    try:
        # A root another process completes with these params meanwhile is kept (same
        # clips); any other root it publishes meanwhile is refused at the rename itself.
        with atomic_directory(root, replace=force, keep=lambda r: is_complete(r, params)) as staging:
            _write_demo(staging, params, progress)
    except PublishExistsError as err:
        if err.target != root:
            raise
        raise DatasetError(f"{root}: another process published it while this one generated the "
                           f"demo, and it is not a complete demo with these params; not replacing "
                           f"it (remove it or pass force=True / --force)") from None
    return root


def _write_demo(staging: Path, params: DemoParams, progress: bool) -> None:
    """Renders every clip and the metadata files into `staging` (the done file last)."""
    from tqdm import tqdm

    meta_rows = ["\t".join(dcase.META_HEADER)]
    split_rows: dict[str, list[str]] = {"train": [], "evaluate": []}
    segment: dict[str, int] = {}
    traits_cache: dict[str, dict] = {}
    for split, scene, identifier, loc_seed, clip_seed in tqdm(
            _plan(params), desc="demo clips", unit="clip", disable=not progress):
        if identifier not in traits_cache:
            traits_cache = {identifier: _location_traits(params, loc_seed)}
        seg = segment.get(identifier, 0)
        segment[identifier] = seg + 1
        relpath = f"audio/{scene}-{identifier}-{seg}-a.wav"
        with_event = params.design == "premises" and demo_premises.has_event(clip_seed, params.locations(split))
        write_audio(staging / relpath, _render_clip(params, scene, traits_cache[identifier], clip_seed, with_event),
                    params.sample_rate, subtype="PCM_16")
        meta_rows.append(f"{relpath}\t{scene}\t{identifier}\ta")
        split_rows[split].append(f"{relpath}\t{scene}")
    atomic_write_text(staging / dcase.META_FILE, "\n".join(meta_rows) + "\n")
    for split, rows in split_rows.items():
        atomic_write_text(staging / dcase.SPLIT_FILES[f"fold1_{split}"], "\n".join(rows) + "\n")
    atomic_write_text(staging / PARAMS_FILE, yaml.safe_dump(to_dict(params), sort_keys=False))
    atomic_write_text(staging / DONE_FILE, "complete\n")


def with_params(**changes) -> DemoParams:
    """DemoParams with some fields changed (tests use smaller sizes)."""
    return dataclasses.replace(DemoParams(), **changes)
