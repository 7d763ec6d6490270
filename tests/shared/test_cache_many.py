"""Several representations in one build pass, and the parallel (spawned-process) build."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import shared.cache as cache_mod
from shared.audio import AudioError
from shared.cache import MANIFEST, CacheError, FeatureCache, effective_workers
from shared.features import FeatureParams, paper1_waveform_params, paper2_params
from tests.shared.test_cache import _make_clips

RATE = 8000
REPS = {
    "logMel64": paper2_params("logMel64", sample_rate=RATE, n_mels=32),
    "logMel128": paper2_params("logMel128", sample_rate=RATE, n_mels=48),
    "MFCC": paper2_params("MFCC", sample_rate=RATE, n_mels=32),
    "CQT": paper2_params("CQT", sample_rate=RATE, cqt_bins=48),
    "wave": paper1_waveform_params(RATE),
    "linear": FeatureParams(kind="linear_spectrogram", sample_rate=RATE, frame_seconds=0.05,
                            hop_seconds=0.02, padding="end", window="hamming", max_bins=40),
}


def _clips(folder, n, seconds=0.6):
    return _make_clips(folder, n, seconds=seconds, channels=2, rate=RATE)     # clip0.wav, ...


def _assert_same_entries(a, b):
    assert a.path.name == b.path.name                        # same key
    assert a.manifest["shapes"] == b.manifest["shapes"]
    for i in range(a.num_examples):
        np.testing.assert_array_equal(a.read(i), b.read(i))


def test_many_equals_one_at_a_time(tmp_path):
    examples = _clips(tmp_path / "audio", 4)
    many = FeatureCache(tmp_path / "many", progress=False).get_or_build_many(
        "toy", examples, REPS, dtype="float32")
    single = FeatureCache(tmp_path / "single", progress=False)
    for name, params in REPS.items():
        _assert_same_entries(many[name], single.get_or_build("toy", examples, params, dtype="float32"))


def test_only_missing_representations_are_computed(tmp_path, monkeypatch):
    examples = _clips(tmp_path / "audio", 3)
    cache = FeatureCache(tmp_path / "cache", progress=False)
    first = cache.get_or_build("toy", examples, REPS["logMel64"])
    seen = []
    real = cache_mod.compute_features_many

    def spy(audio, rate, params, where=""):
        seen.append(tuple(p.kind for p in params))
        return real(audio, rate, params, where)

    monkeypatch.setattr(cache_mod, "compute_features_many", spy)
    both = cache.get_or_build_many("toy", examples, {"a": REPS["logMel64"], "b": REPS["MFCC"]})
    assert seen == [("mfcc",)] * 3                            # one decode per clip, logMel64 reused
    assert both["a"].path == first.path


def test_failure_in_one_representation_publishes_none(tmp_path):
    examples = _clips(tmp_path / "audio", 3, seconds=0.05)    # too short for 9-frame deltas
    cache = FeatureCache(tmp_path / "cache", progress=False)
    with pytest.raises(Exception, match="clip0.wav"):
        cache.get_or_build_many("toy", examples, {"wave": REPS["wave"], "mel": REPS["logMel64"]})
    assert not list((tmp_path / "cache").rglob(MANIFEST))
    assert not list((tmp_path / "cache").rglob(".building-*"))


def test_effective_workers():
    assert effective_workers(1, 10_000) == 1
    assert effective_workers(2, 10_000) == 2
    assert effective_workers(2, 6) == 2                       # explicit: as asked
    assert effective_workers(4, 3) == 3                       # never more than one per clip
    cpus = cache_mod.os.cpu_count()
    assert effective_workers(0, 10_000) == cpus               # auto: one per CPU ...
    assert effective_workers(0, cache_mod.MIN_CLIPS_PER_WORKER - 1) == 1   # ... when worth it
    with pytest.raises(CacheError, match="workers"):
        effective_workers(-1, 10)


def test_audio_error_survives_pickling():
    err = pickle.loads(pickle.dumps(AudioError("x.wav", "truncated")))
    assert isinstance(err, AudioError) and err.path == "x.wav" and str(err) == "x.wav: truncated"


def test_parallel_build_equals_serial_and_reports_bad_files(tmp_path, monkeypatch):
    """Two spawned workers (one TF start-up each, ~10 s) give the serial arrays exactly."""
    monkeypatch.setattr(cache_mod, "CHUNK_CLIPS", 2)
    examples = _clips(tmp_path / "audio", 6)
    reps = {k: REPS[k] for k in ("logMel64", "MFCC", "CQT", "wave")}
    parallel = FeatureCache(tmp_path / "par", progress=False).get_or_build_many(
        "toy", examples, reps, dtype="float32", workers=2)
    serial = FeatureCache(tmp_path / "ser", progress=False).get_or_build_many(
        "toy", examples, reps, dtype="float32", workers=1)
    for name in reps:
        _assert_same_entries(parallel[name], serial[name])

    bad = examples[4].path
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="clip4.wav"):
        FeatureCache(tmp_path / "bad", progress=False).get_or_build_many(
            "toy", examples, reps, workers=2)
    assert not list((tmp_path / "bad").rglob(MANIFEST))
    assert not list((tmp_path / "bad").rglob(".building-*"))
