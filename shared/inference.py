"""Audio files -> the crops a trained classifier was trained on -> clip probabilities.

    files = audio_files(["a.wav", "some/folder"])           # folders: every .wav/.flac inside
    audio = load_clip(files[0], clf.feature_params, channels=1)
    probs, logits = clip_scores(clf, clip_crops(clf, audio, where=str(files[0])))
    print(top_k_text(files[0], probs, clf.classes))

The front end is the training one (shared.features.compute_features_many, rounded to
the cache's dtype), crops are the evaluation crops of shared.pipeline.make_eval_crops
(eval_crop_starts, short clips wrapped), and a clip's probabilities are the mean over its
crops of softmax(logits) (paper 2's audio-level score, cyclic.clip_outputs), so a stored
model scores a test clip here exactly as the table run did.

Sample rate and channels: the kit never resamples or mixes channels (register
shared-verify-strictness: a wrong rate or channel count is an error; FeatureParams:
"audio at another rate is an error, never resampled"); a file at another rate or with another channel count is
refused with one line naming the file, what it has and what the model needs.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from shared.audio import AudioError, audio_info, read_audio
from shared.features.params import FeatureParams

AUDIO_SUFFIXES = (".wav", ".flac")


def check_request(top: int, audio: Sequence[str], export: str | None) -> None:
    """The predict commands' shared argument rules (shared.cli.UsageError: exit 2)."""
    from shared.cli import UsageError
    if top < 1:
        raise UsageError(f"--top must be >= 1, got {top}")
    if not audio and not export:
        raise UsageError("give audio files/folders to classify, or --export PATH.keras")
    if export and Path(export).suffix != ".keras":
        raise UsageError(f"--export {export}: the file name must end in .keras")


def audio_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files to classify: each path given, folders expanded to the .wav/.flac files
    under them (sorted).

    Raises:
      FileNotFoundError: a path does not exist, or a folder holds no .wav/.flac file.
    """
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
            if not found:
                raise FileNotFoundError(f"{path}: folder holds no .wav or .flac file")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    if not out:
        raise FileNotFoundError("no audio file given")
    return out


def load_clip(path: str | os.PathLike, params: FeatureParams, channels: int | None) -> np.ndarray:
    """Decoded samples [time, channels] float32 of a file the model can take.

    Raises:
      AudioError: unreadable file, another sample rate than params.sample_rate, or another
        channel count than `channels` (None: any); the message says what to do.
    """
    info = audio_info(path)
    if info.sample_rate != params.sample_rate:
        raise AudioError(path, f"sample rate {info.sample_rate} Hz, the model's front end expects "
                               f"{params.sample_rate} Hz; the kit never resamples: convert the file "
                               f"first (e.g. sox in.wav -r {params.sample_rate} out.wav)")
    if channels is not None and info.channels != channels:
        raise AudioError(path, f"{info.channels} channel(s), the model was trained on {channels}; "
                               f"the kit never mixes or splits channels: convert the file first "
                               f"(e.g. sox in.wav -c {channels} out.wav)")
    audio, _ = read_audio(path, expected_rate=params.sample_rate, expected_channels=channels)
    return audio


def clip_features(audio: np.ndarray, params: FeatureParams, dtype: str, where: str = "") -> np.ndarray:
    """The cache's features of one clip: [frames, ...] in `dtype` (as shared.cache stores them)."""
    from shared.features.multi import compute_features_many
    return compute_features_many(audio, params.sample_rate, [params], where=where)[0].astype(dtype)


def crops_of(features: np.ndarray, crop_frames: int | None, hop_frames: int | None,
             where: str = "") -> np.ndarray:
    """Evaluation crops [n, crop_frames, ...] of one clip's features (make_eval_crops:
    sliding crops, the last ending at the clip's end, a short clip wrapped); crop_frames
    None: the whole clip as one crop [1, frames, ...]."""
    from shared.pipeline import eval_crop_starts, fit_length
    if crop_frames is None:
        return features[None]
    starts = eval_crop_starts(features.shape[0], crop_frames, hop_frames or crop_frames)
    return np.stack([fit_length(features[s:s + crop_frames], crop_frames, "wrap", where) for s in starts])


def clip_crops(classifier, audio: np.ndarray, where: str = "") -> np.ndarray:
    """The crops an AudioClassifier takes for one decoded clip [n, crop, ...]."""
    features = clip_features(audio, classifier.feature_params, classifier.feature_dtype, where)
    return crops_of(features, classifier.crop_frames, classifier.hop, where)


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


_TRACED = weakref.WeakKeyDictionary()     # classifier -> its inference call, traced once


def traced_call(classifier):
    """classifier(x, training=False) as one traced graph, kept per classifier. Called eagerly,
    a Keras model dispatches layer by layer from Python: the benchmark's inference section
    measured ResNet101 at 1424 ms per clip that way and 264 ms traced (same outputs to float
    tolerance, tests/replication/test_bench_inference.py). The table runs score crops through a
    traced step too (paper2_multirep.cyclic.predict_crops)."""
    fn = _TRACED.get(classifier)
    if fn is None:
        import tensorflow as tf
        ref = weakref.ref(classifier)     # the cached value must not keep its key alive
        fn = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True)
        _TRACED[classifier] = fn
    return fn


def clip_scores(classifier, crops: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(probs [C], logits [C]) of one clip: mean over its crops of softmax(logits) and of
    the logits (float64), the network run in inference mode (its call traced once per
    classifier, `traced_call`)."""
    call = traced_call(classifier)
    parts = []
    for start in range(0, len(crops), batch_size):
        out = call(crops[start:start + batch_size])
        if isinstance(out, dict):
            out = out["logits"]
        parts.append(np.asarray(out, np.float64))
    logits = np.concatenate(parts)                                           # [n, C]
    return softmax(logits).mean(axis=0), logits.mean(axis=0)


def top_k(probs: np.ndarray, classes: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable (class, probability) pairs, best first (ties: lower class id)."""
    order = np.argsort(-np.asarray(probs), kind="stable")[:k]
    return [(str(classes[i]), float(probs[i])) for i in order]


def top_k_text(path: str | os.PathLike, probs: np.ndarray, classes: Sequence[str], k: int = 3) -> str:
    """One line: `<file>  class 0.812  class 0.101  class 0.040`."""
    return f"{path}  " + "  ".join(f"{name} {p:.3f}" for name, p in top_k(probs, classes, k))


def classify_files(files: Sequence[Path], score, classes: Sequence[str], prog: str, k: int = 3,
                   out=None) -> int:
    """Prints one top-k line per file (`score(path)` -> probabilities [C]); a file that
    cannot be used (AudioError, FeatureError) is one `<prog>: error: ...` line on stderr
    and the others still run. Returns 0, or EXIT_USAGE (2) when a file failed."""
    import sys

    from shared.cli import EXIT_OK, EXIT_USAGE, fail
    from shared.features.params import FeatureError
    failed = False
    for path in files:
        try:
            probs = score(path)
        except (AudioError, FeatureError) as err:
            fail(prog, err)
            failed = True
            continue
        print(top_k_text(path, probs, classes, k), file=out or sys.stdout, flush=True)
    return EXIT_USAGE if failed else EXIT_OK


__all__ = ["AUDIO_SUFFIXES", "audio_files", "classify_files", "clip_crops", "clip_features", "clip_scores", "crops_of",
           "load_clip", "softmax", "top_k", "top_k_text", "traced_call"]
