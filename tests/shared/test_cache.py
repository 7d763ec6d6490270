"""Feature cache: keying, reuse, streaming reads, and crash safety."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import shared.cache as cache_mod
from shared.audio import AudioError, read_audio, write_audio
from shared.cache import MANIFEST, CacheEntry, CacheError, FeatureCache, cache_key
from shared.datasets.base import Example
from shared.features import FeatureParams, compute_features, paper2_params

RATE = 8000


def _make_clips(folder, n=6, seconds=0.5, channels=1, rate=RATE):
    rng = np.random.RandomState(0)
    examples = []
    for i in range(n):
        path = folder / f"clip{i}.wav"
        write_audio(path, (0.1 * rng.randn(int(rate * seconds), channels)).astype(np.float32), rate)
        examples.append(Example(path=path, label=i % 3, clip_id=f"clip{i}", group=f"g{i}"))
    return examples


@pytest.fixture()
def examples(tmp_path):
    return _make_clips(tmp_path / "audio")


PARAMS = paper2_params("logMel64", sample_rate=RATE, n_mels=32)


def test_build_then_reuse_without_recomputing(tmp_path, examples, monkeypatch):
    cache = FeatureCache(tmp_path / "cache", progress=False)
    entry = cache.get_or_build("toy", examples, PARAMS, dtype="float32")
    assert entry.num_examples == 6
    assert entry.clip_ids == tuple(f"clip{i}" for i in range(6))
    np.testing.assert_array_equal(entry.labels, [0, 1, 2, 0, 1, 2])
    audio, _ = read_audio(examples[4].path)
    expected = compute_features(audio, RATE, PARAMS)
    assert entry.shape(4) == expected.shape
    np.testing.assert_array_equal(entry.read(4), expected)

    def boom(*a, **k):
        raise AssertionError("features recomputed although the entry exists")

    monkeypatch.setattr(cache_mod, "compute_features_many", boom)
    again = cache.get_or_build("toy", examples, PARAMS, dtype="float32")
    assert again.path == entry.path


def test_reads_are_memory_mapped_and_float16_is_close(tmp_path, examples):
    cache = FeatureCache(tmp_path / "cache", progress=False)
    e16 = cache.get_or_build("toy", examples, PARAMS, dtype="float16")
    e32 = cache.get_or_build("toy", examples, PARAMS, dtype="float32")
    assert e16.path != e32.path
    x16 = e16.read(1)
    assert isinstance(x16, np.memmap) and x16.dtype == np.float16
    assert not x16.flags.writeable
    np.testing.assert_allclose(x16.astype(np.float32), e32.read(1), rtol=1e-3, atol=0.06)
    crop = e16.read_frames(1, 3, 10)
    assert crop.dtype == np.float32 and crop.shape == (7,) + e16.shape(1)[1:]


def test_key_changes_with_params_order_dtype_and_file_edits(examples):
    base = cache_key("toy", examples, PARAMS, "float16")
    assert cache_key("toy", examples, PARAMS, "float16") == base
    assert cache_key("toy2", examples, PARAMS, "float16") != base
    assert cache_key("toy", examples, PARAMS.replace(n_mels=40), "float16") != base
    assert cache_key("toy", examples, PARAMS, "float32") != base
    assert cache_key("toy", examples[::-1], PARAMS, "float16") != base
    content = cache_key("toy", examples, PARAMS, "float16", key_mode="content")
    path = examples[0].path
    audio, _ = read_audio(path)
    write_audio(path, audio * 0.5, RATE)
    os.utime(path, ns=(1, 1))  # also a different mtime
    assert cache_key("toy", examples, PARAMS, "float16") != base
    assert cache_key("toy", examples, PARAMS, "float16", key_mode="content") != content


def test_cqt_impl_enters_the_key_of_cqt_entries_only(examples):
    """The CQT transform (fast / librosa) changes a CQT entry's key, so an entry built by
    one is never read for the other; for every other kind the field has no effect and
    stays out of the key (entries made before the field existed keep matching)."""
    from shared.config import to_dict

    cqt = paper2_params("CQT", sample_rate=RATE)
    assert cqt.cqt_impl == "fast" and to_dict(cqt)["cqt_impl"] == "fast"
    assert (cache_key("toy", examples, cqt, "float16")
            != cache_key("toy", examples, cqt.replace(cqt_impl="librosa"), "float16"))
    assert "cqt_impl" not in to_dict(PARAMS)
    assert (cache_key("toy", examples, PARAMS, "float16")
            == cache_key("toy", examples, PARAMS.replace(cqt_impl="librosa"), "float16"))


def test_exception_mid_build_leaves_no_entry_and_rebuild_works(tmp_path, examples, monkeypatch):
    cache = FeatureCache(tmp_path / "cache", progress=False)
    real = cache_mod.compute_features_many
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("simulated crash in the middle of the build")
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_mod, "compute_features_many", flaky)
    with pytest.raises(RuntimeError, match="simulated crash"):
        cache.get_or_build("toy", examples, PARAMS)
    assert cache.find("toy", examples, PARAMS) is None
    assert not list((tmp_path / "cache").rglob(MANIFEST))
    monkeypatch.setattr(cache_mod, "compute_features_many", real)
    entry = cache.get_or_build("toy", examples, PARAMS)
    assert entry.num_examples == len(examples)


def test_hard_kill_leftover_is_ignored_and_cleaned(tmp_path, examples, monkeypatch, capsys):
    """A SIGKILL cannot run cleanup: emulate it by disabling rmtree during a failing build."""
    cache = FeatureCache(tmp_path / "cache", progress=False)
    real = cache_mod.compute_features_many
    calls = {"n": 0}

    def dies(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_mod, "compute_features_many", dies)
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_build("toy", examples, PARAMS)
    monkeypatch.undo()
    leftovers = list((tmp_path / "cache" / "toy").glob(".building-*"))
    assert len(leftovers) == 1 and list(leftovers[0].rglob("clips/*.npy"))   # holder/<key>/clips
    assert cache.find("toy", examples, PARAMS) is None
    capsys.readouterr()
    entry = cache.get_or_build("toy", examples, PARAMS)     # the next build removes the leftover
    assert entry.num_examples == len(examples)
    assert not any(p.exists() for p in leftovers)
    assert f"removed stale staging folder {leftovers[0]}" in capsys.readouterr().out
    assert cache.clean_partial() == []
    assert cache.find("toy", examples, PARAMS) is not None


def test_bad_audio_and_broken_entries_are_clear_errors(tmp_path, examples):
    cache = FeatureCache(tmp_path / "cache", progress=False)
    with pytest.raises(AudioError, match="clip0.wav: sample rate 8000 Hz, expected 16000"):
        cache.get_or_build("toy", examples, PARAMS.replace(sample_rate=16000))
    with pytest.raises(AudioError, match="clip0.wav: 1 channel"):
        cache.get_or_build("toy", examples, PARAMS, expected_channels=2)
    missing = examples[:2] + [Example(tmp_path / "nope.wav", 0, "nope")]
    with pytest.raises(CacheError, match="nope.wav: audio file does not exist"):
        cache.get_or_build("toy", missing, PARAMS)
    loud = FeatureParams(kind="linear_spectrogram", sample_rate=RATE, magnitude_power=2.0)
    write_audio(examples[0].path, np.ones((RATE, 1), np.float32) * 0.99, RATE)
    with pytest.raises(CacheError, match="overflow float16"):
        cache.get_or_build("toy", examples[:1], loud, dtype="float16")
    entry = cache.get_or_build("toy", examples[1:3], PARAMS)
    (entry.path / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(CacheError, match="manifest.json: not valid JSON"):
        CacheEntry.open(entry.path)


def test_real_esc10_clips(tmp_path, esc10_root):
    files = sorted((esc10_root / "audio").glob("*.flac"))[:3]
    examples = [Example(f, i, f.stem) for i, f in enumerate(files)]
    params = paper2_params("MFCC", sample_rate=22050)
    entry = FeatureCache(tmp_path / "cache", progress=False).get_or_build(
        "esc10", examples, params, expected_channels=1)
    for i, f in enumerate(files):
        audio, _ = read_audio(f)
        assert entry.shape(i) == params.output_shape(audio.shape[0], 1) == (502, 64, 3)  # 1 + 110250 // 220
