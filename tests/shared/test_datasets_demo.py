"""The generated demo dataset: deterministic, DCASE layout, location-disjoint, verifiable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from shared.audio import read_audio
from shared.datasets import dcase2018_task1a as dcase
from shared.datasets import demo
from shared.datasets.base import DatasetError
from shared.verify import verify_dataset

SMALL = demo.with_params(clip_seconds=1.0, train_per_class=3, evaluate_per_class=2, sample_rate=8000)


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    return demo.generate(tmp_path_factory.mktemp("demo") / "demo", SMALL, progress=False)


def test_same_seed_gives_identical_bytes_and_other_seed_differs(small_demo, tmp_path):
    again = demo.generate(tmp_path / "again", SMALL, progress=False)
    assert _tree_hash(again) == _tree_hash(small_demo)
    other = demo.generate(tmp_path / "other", demo.with_params(**{**SMALL.__dict__, "seed": 1}),
                          progress=False)
    assert _tree_hash(other) != _tree_hash(small_demo)


def test_layout_and_splits(small_demo):
    for rel in ("meta.csv", "evaluation_setup/fold1_train.txt", "evaluation_setup/fold1_evaluate.txt",
                demo.PARAMS_FILE):
        assert (small_demo / rel).is_file()
    assert demo.read_params(small_demo) == SMALL
    splits = demo.load_splits(small_demo)
    train, evaluate = splits["fold1_train"], splits["fold1_evaluate"]
    assert len(train) == 30 and len(evaluate) == 20
    assert sorted(set(train.labels)) == list(range(10))
    assert {train.labels.count(k) for k in range(10)} == {3}
    assert not {e.group for e in train.examples} & {e.group for e in evaluate.examples}
    samples, rate = read_audio(train.examples[0].path)
    assert rate == 8000 and samples.shape == (8000, 2)
    assert not np.allclose(samples[:, 0], samples[:, 1])          # real stereo differences
    assert demo.spec(SMALL).classes == dcase.CLASSES


def test_verify_passes_on_the_demo(small_demo):
    report = verify_dataset(small_demo, demo.spec(SMALL), lambda: demo.load_splits(small_demo),
                            progress=False)
    assert report.ok(strict=True), report.summary()
    assert report.files_checked == 50


def test_verify_catches_a_damaged_demo_file(small_demo, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(small_demo, copy)
    victim = demo.load_splits(copy)["fold1_evaluate"].examples[0].path
    victim.write_bytes(victim.read_bytes()[:100])
    report = verify_dataset(copy, demo.spec(SMALL), lambda: demo.load_splits(copy), progress=False)
    assert [Path(p.path).name for p in report.errors] == [victim.name]


def test_existing_foreign_root_is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a complete demo"):
        demo.generate(tmp_path / "root", SMALL, progress=False)
    assert (tmp_path / "root" / "keep.txt").exists()


def test_confusable_pairs_share_their_main_source():
    first = {scene: recipe[0][0] for scene, recipe in demo.RECIPES.items()}
    assert first["airport"] == first["shopping_mall"] == "babble"
    assert first["metro"] == first["tram"] == "rumble"
    assert demo.DemoParams() == demo.DemoParams(16000, 2, 4.0, 24, 12, 0)
