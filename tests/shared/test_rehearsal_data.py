"""Rehearsal data: the real formats and layouts, read by the kit's loaders, refused outside
rehearsal mode (shared/datasets/rehearsal.py, rehearsal_marker.py, shared/verify.py)."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from replication.data import main as data_main
from shared.audio import read_audio
from shared.datasets import dcase2018_task1a as dcase
from shared.datasets import fsdkaggle2018 as fsd
from shared.datasets.base import DatasetError
from shared.datasets.registry import get_dataset
from shared.datasets.rehearsal import (RehearsalParams, expected_counts, fsd_plan, generate,
                                       is_complete, plan, render)
from shared.datasets.rehearsal_marker import MARKER_FILE, read_marker
from shared.verify import verify_dataset

CITIES = "barcelona|helsinki|london|paris|stockholm|vienna"


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict[str, Path]:
    """Both data sets at one clip per class per split (about 6 s, 110 MB)."""
    base = tmp_path_factory.mktemp("rehearsal")
    return {name: generate(base / name, RehearsalParams(name, per_class=1), progress=False)
            for name in (dcase.NAME, fsd.NAME)}


def _rows(path: Path, delimiter: str) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter=delimiter))


def test_dcase_files_metadata_and_folds(roots):
    root = roots[dcase.NAME]
    meta = _rows(root / "meta.csv", "\t")
    assert meta[0] == ["filename", "scene_label", "identifier", "source_label"]
    assert len(meta) == 1 + 20 and [r[0] for r in meta[1:]] == sorted(r[0] for r in meta[1:])
    for filename, scene, identifier, source in meta[1:]:
        assert re.fullmatch(rf"audio/{scene}-({CITIES})-\d+-[01]-a\.wav", filename), filename
        assert filename.startswith(f"audio/{scene}-{identifier}-") and source == "a"
        info = sf.info(str(root / filename))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (48000, 2, 480000, "PCM_24")
    train = _rows(root / "evaluation_setup" / "fold1_train.txt", "\t")
    evaluate = _rows(root / "evaluation_setup" / "fold1_evaluate.txt", "\t")
    test = _rows(root / "evaluation_setup" / "fold1_test.txt", "\t")
    assert all(len(r) == 2 for r in train + evaluate) and all(len(r) == 1 for r in test)
    assert [r[0] for r in test] == [r[0] for r in evaluate]        # the evaluate clips, unlabelled
    assert sorted(r[1] for r in train) == sorted(r[1] for r in evaluate) == list(dcase.CLASSES)
    groups = {r[0]: r[2] for r in meta[1:]}
    assert not {groups[r[0]] for r in train} & {groups[r[0]] for r in evaluate}   # locations disjoint


def test_fsd_files_metadata_and_lengths(roots):
    root = roots[fsd.NAME]
    train = _rows(root / "FSDKaggle2018.meta" / "train_post_competition.csv", ",")
    test = _rows(root / "FSDKaggle2018.meta" / "test_post_competition_scoring_clips.csv", ",")
    assert train[0] == ["fname", "label", "manually_verified", "freesound_id", "license"]
    assert test[0] == ["fname", "label", "usage", "freesound_id", "license"]
    assert sorted(r[1] for r in train[1:]) == sorted(r[1] for r in test[1:]) == list(fsd.CLASSES)
    assert {r[2] for r in test[1:]} <= {"Public", "Private"}
    ids = [r[3] for r in train[1:] + test[1:]]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)
    seconds = []
    for folder, rows in (("FSDKaggle2018.audio_train", train), ("FSDKaggle2018.audio_test", test)):
        assert sorted(os.listdir(root / folder)) == sorted(r[0] for r in rows[1:])
        for row in rows[1:]:
            assert re.fullmatch(r"[0-9a-f]{8}\.wav", row[0]), row[0]
            info = sf.info(str(root / folder / row[0]))
            assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
            seconds.append(info.frames / info.samplerate)
    assert min(seconds) == pytest.approx(0.3) and max(seconds) == pytest.approx(30.0)
    assert len({round(s, 2) for s in seconds}) > 40                      # lengths vary
    flags = [c.extra for c in fsd_plan(RehearsalParams(fsd.NAME, per_class=3)) if c.split == "train"]
    assert flags[:3] == ["1", "0", "1"] and set(flags) == {"0", "1"}


def test_kit_loaders_read_the_roots_only_in_rehearsal_mode(roots):
    for name, counts in ((dcase.NAME, {"fold1_train": 10, "fold1_evaluate": 10}),
                         (fsd.NAME, {"train": 41, "test": 41})):
        entry = get_dataset(name)
        with pytest.raises(DatasetError, match=f"{MARKER_FILE}: rehearsal data.*official count is"):
            entry.load_splits(roots[name])
        splits = entry.load_splits(roots[name], rehearsal=True)
        assert {k: len(v) for k, v in splits.items()} == counts
        marker = read_marker(roots[name])
        assert marker["split_counts"] == expected_counts(RehearsalParams(name, per_class=1))
        example = splits[next(iter(counts))].examples[0]
        samples, _ = read_audio(example.path, expected_rate=entry.spec().sample_rate,
                                expected_channels=entry.spec().channels)
        assert samples.ndim == 2 and np.any(samples)
    verified = fsd.load_splits(roots[fsd.NAME], verified_only=True, rehearsal=True)["train"]
    assert len(verified) == read_marker(roots[fsd.NAME])["split_counts"]["train_verified"]


def test_fsd_reads_the_zenodo_folders_and_the_prepared_ones(tmp_path, roots):
    meta = roots[fsd.NAME] / "FSDKaggle2018.meta"
    for layout in ("FSDKaggle2018.audio_train", "audio_train"):
        root = tmp_path / layout
        shutil.copytree(meta, root / "FSDKaggle2018.meta")
        (root / layout).mkdir()
        train = fsd.load_splits(root)["train"]
        assert train.examples[0].path.parent == (root / layout).resolve()


def test_verify_refuses_rehearsal_data_without_the_mode(roots):
    for name, official in ((dcase.NAME, 6122), (fsd.NAME, 9473)):
        entry, root = get_dataset(name), roots[name]
        report = verify_dataset(root, entry.spec(), lambda: entry.load_splits(root),
                                decode=False, progress=False)
        assert not report.ok() and len(report.errors) == 1 and not report.notes
        line = report.summary().splitlines()[1]
        assert MARKER_FILE in line and f"official count is {official}" in line and "rehearsal mode" in line
        report = verify_dataset(root, entry.spec(), lambda: entry.load_splits(root, rehearsal=True),
                                progress=False, rehearsal=True)
        assert report.ok(strict=True), report.summary()
        assert report.notes[0].startswith("rehearsal data: split sizes differ from the official counts")
        assert f"(official {official})" in report.notes[0]
        # a loader that ignores the mode is still caught by verify itself
        report = verify_dataset(root, entry.spec(), lambda: entry.load_splits(root, rehearsal=True),
                                decode=False, progress=False)
        assert not report.ok() and str(root / MARKER_FILE) == report.errors[0].path


def test_real_roots_are_checked_the_same_in_both_modes(tmp_path, roots):
    real = tmp_path / "real"
    shutil.copytree(roots[dcase.NAME], real, copy_function=os.link)    # hard links: no copy
    (real / MARKER_FILE).unlink()
    splits = dcase.load_splits(real)
    assert len(splits["fold1_train"]) == 10
    for mode in (False, True):
        report = verify_dataset(real, dcase.spec(), lambda: dcase.load_splits(real, rehearsal=mode),
                                decode=False, progress=False, rehearsal=mode)
        assert [p.reason for p in report.errors] == [
            "split fold1_train has 10 examples, the official count is 6122",
            "split fold1_evaluate has 10 examples, the official count is 2518"]
        assert not report.notes


def test_same_seed_same_clips_other_seed_other_clips():
    for name in (dcase.NAME, fsd.NAME):
        a, b = plan(RehearsalParams(name, 2, seed=3)), plan(RehearsalParams(name, 2, seed=3))
        other = plan(RehearsalParams(name, 2, seed=4))
        assert a == b
        spec = get_dataset(name).spec()
        clip = a[1]
        first = render(clip, spec.sample_rate, spec.channels, 1)
        assert np.array_equal(first, render(b[1], spec.sample_rate, spec.channels, 1))
        assert not np.array_equal(first[:1000], render(other[1], spec.sample_rate, spec.channels, 1)[:1000])
        assert first.dtype == np.float32 and np.max(np.abs(first)) < 1.0
    fnames = {c.relpath for c in plan(RehearsalParams(fsd.NAME, 2, seed=3))}
    assert fnames != {c.relpath for c in plan(RehearsalParams(fsd.NAME, 2, seed=4))}


def test_command_line_and_its_errors(roots, tmp_path, capsys):
    root = roots[fsd.NAME]
    assert data_main(["rehearsal-data", fsd.NAME, "--root", str(root), "--per-class", "1",
                      "--no-progress", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "already generated" in out and "verify: OK" in out and "rehearsal data: split sizes" in out
    assert data_main(["verify", fsd.NAME, "--root", str(root), "--quick", "--no-progress"]) == 1
    assert data_main(["verify", fsd.NAME, "--root", str(root), "--quick", "--no-progress",
                      "--rehearsal"]) == 0
    capsys.readouterr()
    cases = [(["rehearsal-data", fsd.NAME], "needs --root"),
             (["rehearsal-data", "esc50", "--root", str(tmp_path / "e")], "no rehearsal data for dataset 'esc50'"),
             (["rehearsal-data", fsd.NAME, "--root", str(root), "--per-class", "2"], "--force"),
             (["rehearsal-data", dcase.NAME, "--root", str(tmp_path / "d"), "--per-class", "0"], "per_class"),
             (["prepare", dcase.NAME, "--root", str(root), "--rehearsal"], "--rehearsal applies to verify")]
    for argv, message in cases:
        assert data_main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("python -m replication.data: error:") and message in err and "\n" not in err


def test_never_replaces_a_root_without_the_marker(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "meta.csv").write_text("filename\tscene_label\tidentifier\tsource_label\n")
    with pytest.raises(DatasetError, match="not rehearsal data.*even with --force"):
        generate(real, RehearsalParams(dcase.NAME, per_class=1), progress=False, force=True)
    assert (real / "meta.csv").is_file() and not is_complete(real, RehearsalParams(dcase.NAME, 1))
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
