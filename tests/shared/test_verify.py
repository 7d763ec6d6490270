"""verify: a fake DCASE-layout tree with one bad file of each kind, each reported by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.datasets import dcase2018_task1a as dcase
from shared.datasets.base import DatasetSpec
from shared.verify import verify_dataset

RATE, SECONDS = 8000, 0.5
FRAMES = int(RATE * SECONDS)
SPEC = DatasetSpec(name="fake_dcase", classes=dcase.CLASSES, sample_rate=RATE, channels=2,
                   clip_seconds=SECONDS,
                   extra={"subtype": "PCM_24", "audio_dirs": ("audio",),
                          "split_counts": {"fold1_train": 12, "fold1_evaluate": 1}})


def _tone(frames=FRAMES, channels=2):
    t = np.arange(frames) / RATE
    return np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * channels, axis=1)   # [frames, channels]


def _write(root: Path, name: str, data, rate=RATE, subtype="PCM_24"):
    sf.write(str(root / "audio" / name), data, rate, subtype=subtype, format="WAV")


BAD = {  # file -> (substring expected in its reason, "error" | "warning")
    "truncated.wav": ("truncated", "error"),
    "zero.wav": ("zero-length", "error"),
    "rate.wav": ("sample rate 16000 Hz", "error"),
    "mono.wav": ("mono, expected stereo", "error"),
    "bits16.wav": ("PCM_16", "warning"),
    "header.wav": ("header only", "error"),
    "junk.wav": ("not a decodable audio file", "error"),
    "missing.wav": ("missing", "error"),
    "silent.wav": ("digital silence", "error"),
    "nan.wav": ("NaN", "error"),
    "long.wav": ("expected 4000", "error"),
}


@pytest.fixture
def bad_tree(tmp_path) -> Path:
    root = tmp_path / "fake"
    (root / "audio").mkdir(parents=True)
    (root / "evaluation_setup").mkdir()
    _write(root, "good.wav", _tone())
    _write(root, "truncated.wav", _tone())
    raw = (root / "audio" / "truncated.wav").read_bytes()
    (root / "audio" / "truncated.wav").write_bytes(raw[:len(raw) // 2])
    (root / "audio" / "zero.wav").write_bytes(b"")
    _write(root, "rate.wav", _tone(frames=2 * FRAMES), rate=16000)
    _write(root, "mono.wav", _tone(channels=1))
    _write(root, "bits16.wav", _tone(), subtype="PCM_16")
    _write(root, "header.wav", np.zeros((0, 2)))
    (root / "audio" / "junk.wav").write_bytes(b"this is not audio at all " * 40)
    _write(root, "silent.wav", np.zeros((FRAMES, 2)))
    nan = _tone()
    nan[100, 0] = np.nan
    _write(root, "nan.wav", nan, subtype="FLOAT")
    _write(root, "long.wav", _tone(frames=FRAMES + 1))
    _write(root, "stray.wav", _tone())                 # on disk, listed nowhere
    names = ["good.wav"] + sorted(BAD)
    meta = ["\t".join(dcase.META_HEADER)] + [f"audio/{n}\tairport\tloc-{i}\ta" for i, n in enumerate(names)]
    meta.append("audio/eval.wav\tpark\tloc-eval\ta")
    _write(root, "eval.wav", _tone())
    (root / "meta.csv").write_text("\n".join(meta) + "\n")
    (root / "evaluation_setup" / "fold1_train.txt").write_text(
        "".join(f"audio/{n}\tairport\n" for n in names))
    (root / "evaluation_setup" / "fold1_evaluate.txt").write_text("audio/eval.wav\tpark\n")
    return root


def _verify(root):
    return verify_dataset(root, SPEC, lambda: dcase.load_dcase_layout(root, SPEC, dcase.SPLIT_FILES),
                          progress=False)


def test_every_bad_file_is_reported_by_name_with_its_reason(bad_tree):
    report = _verify(bad_tree)
    by_file: dict[str, list[tuple[str, str]]] = {}
    for kind, items in (("error", report.errors), ("warning", report.warnings)):
        for p in items:
            by_file.setdefault(Path(p.path).name, []).append((kind, p.reason))
    for name, (needle, kind) in BAD.items():
        reasons = by_file.get(name, [])
        assert any(k == kind and needle in r for k, r in reasons), (name, reasons)
    assert "good.wav" not in by_file and "eval.wav" not in by_file
    assert any("not listed" in r for _k, r in by_file["stray.wav"])
    assert not report.ok()
    text = report.summary()
    for name in BAD:
        assert name in text


def test_clean_tree_passes_and_strict_fails_on_warnings(bad_tree):
    for name in BAD:
        if name != "bits16.wav":
            path = bad_tree / "audio" / name
            if path.exists():
                path.unlink()
            _write(bad_tree, name, _tone())
    (bad_tree / "audio" / "stray.wav").unlink()
    report = _verify(bad_tree)
    assert report.errors == [], report.summary()
    assert [Path(p.path).name for p in report.warnings] == ["bits16.wav"]
    assert report.ok() and not report.ok(strict=True)


def test_bad_metadata_rows_are_all_reported(bad_tree):
    setup = bad_tree / "evaluation_setup" / "fold1_train.txt"
    lines = setup.read_text().splitlines()
    lines[1] = "audio/truncated.wav\tairprot"          # typo in the label
    lines[3] = "audio/not_in_meta.wav\tairport"
    setup.write_text("\n".join(lines) + "\n")
    report = _verify(bad_tree)
    assert len(report.errors) == 1
    reason = report.errors[0].reason
    assert "fold1_train.txt: line 2" in reason and "airprot" in reason
    assert "line 4" in reason and "not_in_meta.wav" in reason


def test_wrong_split_count_and_missing_root(bad_tree, tmp_path):
    report = _verify(bad_tree)
    assert not any("official count" in p.reason for p in report.errors)   # 12 and 1, as declared
    shorter = bad_tree / "evaluation_setup" / "fold1_train.txt"
    shorter.write_text("audio/good.wav\tairport\n")
    report = _verify(bad_tree)
    assert any("fold1_train has 1 examples, the official count is 12" in p.reason for p in report.errors)
    missing = _verify(tmp_path / "nowhere")
    assert missing.errors and "does not exist" in missing.errors[0].reason
