"""The real input pipeline of each benchmarked model: generated clips -> feature cache -> tf.data.

`replication.drivers.bench_training` times every model twice with the same train step: on one
in-memory batch, and fed by `feed_dataset` (shared.cache.FeatureCache +
shared.pipeline.make_dataset, the path the table runners use). The ratio of the two
step times is the input-pipeline overhead the issue asks for, per model.

Each model's feed uses the front end and clip format that give exactly its input shape:

    p1_raw_cnn_paper    10 s 48 kHz stereo, pre-emphasised waveform   -> (479999, 2)
    p1_cnn_gru_paper    10 s 48 kHz stereo, Table 3 spectrogram       -> (249, 256, 2)
    p2_*_paper          5 s 44.1 kHz mono, logMel64 + deltas, crop 150 -> (150, 64, 3)
    demo models         the demo presets' formats (16 kHz)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Feed:
    """Clip format and front end of one model's input."""
    sample_rate: int
    seconds: float
    channels: int
    features: object               # shared.features.FeatureParams
    crop_frames: int | None        # None: whole clips


def feed_for(name: str) -> Feed:
    """The Feed of a model in replication.drivers.bench_training.SPECS."""
    from shared.features import paper1_spectrogram_params, paper1_waveform_params, paper2_params

    if name == "p1_raw_cnn_paper":
        return Feed(48000, 10.0, 2, paper1_waveform_params(48000), None)
    if name == "p1_cnn_gru_paper":
        return Feed(48000, 10.0, 2, paper1_spectrogram_params(sample_rate=48000), None)
    if name in ("p2_vgg19_paper", "p2_resnet101_paper"):
        return Feed(44100, 5.0, 1, paper2_params("logMel64", sample_rate=44100), 150)
    if name in ("p1_raw_cnn_demo", "p1_cnn_gru_demo"):
        from paper1_ts.params import resolve_params
        family = "raw" if "raw" in name else "spec"
        return Feed(16000, 4.0, 2, resolve_params("demo").features_of(family), None)
    if name in ("p2_small_cnn_demo", "p2_small_resnet_demo"):
        return Feed(16000, 4.0, 1, paper2_params("logMel64", sample_rate=16000), 100)
    raise KeyError(f"no pipeline feed defined for benchmark model '{name}'")


def feed_dataset(name: str, input_shape: tuple, batch: int, num_classes: int, workdir: Path,
                 clips: int | None = None, seed: int = 0):
    """Endless shuffled tf.data batches {"x": [batch, *input_shape], "y"} from the cache.

    Generates `clips` (default 2 x batch) noise + tone clips as float WAV files, caches
    their features (float16, as the presets store them) and streams random crops.
    Raises ValueError if the feed does not give `input_shape` (a stale table above).
    """
    from replication.drivers.bench_cache import tone_clips
    from shared.cache import FeatureCache
    from shared.pipeline import make_dataset

    feed = feed_for(name)
    examples = tone_clips(workdir / name, clips or 2 * batch, feed.sample_rate, feed.seconds,
                          feed.channels, seed, "FLOAT", num_classes)
    entry = FeatureCache(workdir / "cache", progress=False).get_or_build(
        name, examples, feed.features, dtype="float16", workers=1)
    ds = make_dataset(entry, num_classes, batch_size=batch, shuffle=True, seed=seed,
                      crop_frames=feed.crop_frames, drop_remainder=True).repeat()
    got = tuple(ds.element_spec["x"].shape[1:])
    if got != tuple(input_shape):
        raise ValueError(f"{name}: pipeline gives {got}, the model takes {tuple(input_shape)}")
    return ds
