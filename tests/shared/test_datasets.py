"""Dataset parsers: official metadata only, sorted classes, every bad row named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.datasets import dcase2018_task1a as dcase
from shared.datasets import esc50, fsdkaggle2018 as fsd
from shared.datasets.base import DatasetError
from shared.datasets.registry import get_dataset, known_datasets


def test_registry_lists_names_and_rejects_unknown_ones():
    assert known_datasets() == ("dcase2018_task1a", "demo", "esc50", "fsdkaggle2018")
    with pytest.raises(DatasetError, match="known: dcase2018_task1a, demo, esc50, fsdkaggle2018"):
        get_dataset("dcase2019")
    with pytest.raises(DatasetError, match=r"no option\(s\) bogus \(valid: esc10_only, test_fold"):
        get_dataset("esc50").spec(bogus=1)


@pytest.mark.parametrize("name", ["dcase2018_task1a", "fsdkaggle2018", "esc50", "demo"])
def test_every_spec_has_sorted_classes(name):
    spec = get_dataset(name).spec()
    assert list(spec.classes) == sorted(spec.classes) and len(set(spec.classes)) == len(spec.classes)


def test_class_counts_of_the_real_datasets():
    assert dcase.spec().num_classes == 10 and dcase.spec().extra["subtype"] == "PCM_24"
    assert fsd.spec().num_classes == 41 and fsd.spec().clip_seconds is None
    assert esc50.spec().num_classes == 50 and esc50.spec(esc10_only=True).num_classes == 10


@pytest.mark.parametrize("fold", [1, 3, 5])
def test_esc10_fixture_folds(esc10_root, fold):
    splits = esc50.load_splits(esc10_root, esc10_only=True, test_fold=fold)
    train, test = splits[f"fold{fold}_train"], splits[f"fold{fold}_test"]
    assert len(train) == 320 and len(test) == 80
    assert len(train) + len(test) == 400
    assert sorted(set(test.labels)) == list(range(10))
    assert {test.labels.count(k) for k in range(10)} == {8}
    assert not {e.group for e in train.examples} & {e.group for e in test.examples}
    assert all(e.path.exists() and e.clip_id.startswith(f"{fold}-") for e in test.examples)


def test_esc10_validation_split_scores_a_training_fold_and_never_reads_the_held_out_one(esc10_root):
    # held-out fold 2, validation fold 3: train on folds 1, 4, 5, score on fold 3, fold 2 unread
    splits = esc50.load_splits(esc10_root, esc10_only=True, test_fold=2, validation_fold=3)
    assert set(splits) == {"fold2_val3_train", "fold2_val3_validate"}
    assert esc50.split_names(2, 3) == ("fold2_val3_train", "fold2_val3_validate")
    train, val = splits["fold2_val3_train"], splits["fold2_val3_validate"]
    assert len(train) == 240 and len(val) == 80
    assert {e.clip_id.split("-")[0] for e in train.examples} == {"1", "4", "5"}
    assert {e.clip_id.split("-")[0] for e in val.examples} == {"3"}
    held_out = {e.clip_id for e in esc50.load_splits(esc10_root, esc10_only=True, test_fold=2)["fold2_test"].examples}
    assert not held_out & {e.clip_id for e in train.examples + val.examples}
    for bad in (2, 6):
        with pytest.raises(DatasetError, match=f"validation_fold must be one of .* other than the test fold 2, got {bad}"):
            esc50.load_splits(esc10_root, esc10_only=True, test_fold=2, validation_fold=bad)


def test_esc10_labels_come_from_sorted_names_not_targets(esc10_root):
    spec = esc50.spec(esc10_only=True)
    example = next(e for e in esc50.load_splits(esc10_root, esc10_only=True)["fold1_test"].examples
                   if e.clip_id == "1-116765-A-41")           # target 41 = chainsaw
    assert spec.classes[example.label] == "chainsaw" and example.label == 0
    assert spec.classes == ("chainsaw", "clock_tick", "crackling_fire", "crying_baby", "dog",
                            "helicopter", "rain", "rooster", "sea_waves", "sneezing")


def _copy_esc(esc10_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "esc"
    (root / "meta").mkdir(parents=True)
    shutil.copy(esc10_root / "meta" / "esc50.csv", root / "meta" / "esc50.csv")
    return root


def test_esc50_bad_rows_are_all_named(esc10_root, tmp_path):
    root = _copy_esc(esc10_root, tmp_path)
    csv = root / "meta" / "esc50.csv"
    lines = csv.read_text().splitlines()
    lines[2] = lines[2].replace(",0,dog,", ",5,dog,")          # target does not match category
    lines[4] = lines[4].replace(",True,", ",maybe,")
    lines[6] = lines[6] + ",extra"
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as err:
        esc50.load_splits(root, esc10_only=True)
    text = str(err.value)
    assert "line 7" in text and "8 field(s)" in text            # field-count errors first
    csv.write_text("\n".join(lines[:6] + lines[7:]) + "\n")
    with pytest.raises(DatasetError) as err:
        esc50.load_splits(root, esc10_only=True)
    text = str(err.value)
    assert str(csv) in text and "line 3" in text and "target '5'" in text
    assert "line 5" in text and "esc10 is 'maybe'" in text


def test_esc50_bad_fold_option_and_missing_meta(tmp_path):
    with pytest.raises(DatasetError, match="test_fold"):
        esc50.load_splits(tmp_path, test_fold=6)
    with pytest.raises(DatasetError, match="metadata file not found"):
        esc50.load_splits(tmp_path)


def _dcase_tree(root: Path, train_rows: list[str], eval_rows: list[str]) -> None:
    (root / "evaluation_setup").mkdir(parents=True)
    meta = ["filename\tscene_label\tidentifier\tsource_label",
            "audio/airport-barcelona-0-0-a.wav\tairport\tbarcelona-0\ta",
            "audio/tram-helsinki-1-5-a.wav\ttram\thelsinki-1\ta",
            "audio/park-lyon-2-1-a.wav\tpark\tlyon-2\ta"]
    (root / "meta.csv").write_text("\n".join(meta) + "\n")
    (root / "evaluation_setup" / "fold1_train.txt").write_text("\n".join(train_rows) + "\n")
    (root / "evaluation_setup" / "fold1_evaluate.txt").write_text("\n".join(eval_rows) + "\n")


def test_dcase_splits_follow_the_setup_files(tmp_path):
    _dcase_tree(tmp_path, ["audio/tram-helsinki-1-5-a.wav\ttram", "audio/airport-barcelona-0-0-a.wav\tairport"],
                ["audio/park-lyon-2-1-a.wav\tpark"])
    splits = dcase.load_splits(tmp_path)
    train = splits["fold1_train"]
    assert [e.clip_id for e in train.examples] == ["tram-helsinki-1-5-a", "airport-barcelona-0-0-a"]
    assert train.labels == [dcase.CLASSES.index("tram"), 0]
    assert [e.group for e in train.examples] == ["helsinki-1", "barcelona-0"]
    assert splits["fold1_evaluate"].examples[0].path == (tmp_path / "audio" / "park-lyon-2-1-a.wav").resolve()


def test_dcase_disagreements_and_leaks_are_errors(tmp_path):
    _dcase_tree(tmp_path / "a", ["audio/tram-helsinki-1-5-a.wav\tmetro", "../escape.wav\ttram"],
                ["audio/park-lyon-2-1-a.wav\tpark"])
    with pytest.raises(DatasetError) as err:
        dcase.load_splits(tmp_path / "a")
    assert "line 1" in str(err.value) and "disagrees" in str(err.value) and "line 2" in str(err.value)
    _dcase_tree(tmp_path / "b", ["audio/park-lyon-2-1-a.wav\tpark"], ["audio/park-lyon-2-1-a.wav\tpark"])
    with pytest.raises(DatasetError, match="in both fold1_train and fold1_evaluate"):
        dcase.load_splits(tmp_path / "b")
    _dcase_tree(tmp_path / "c", ["audio/park-lyon-2-1-a.wav\tpark"], ["audio/park-lyon-2-1-a.wav\tpark"])
    (tmp_path / "c" / "meta.csv").write_text("filename,scene_label\n")
    with pytest.raises(DatasetError, match="header"):
        dcase.load_splits(tmp_path / "c")


def test_fsdkaggle_splits_and_verified_only(tmp_path):
    meta = tmp_path / "FSDKaggle2018.meta"
    meta.mkdir()
    (meta / "train_post_competition.csv").write_text(
        "fname,label,manually_verified,freesound_id,license\n"
        "00044347.wav,Hi-hat,0,28739,Attribution\n"
        "001ca53d.wav,Saxophone,1,358827,Attribution\n"
        "002d256b.wav,Trumpet,0,10897,Creative Commons 0\n")
    (meta / "test_post_competition_scoring_clips.csv").write_text(
        "fname,label,usage,freesound_id,license\n"
        "00326aa9.wav,Oboe,Private,355125,Attribution\n")
    splits = fsd.load_splits(tmp_path)
    assert len(splits["train"]) == 3 and len(splits["test"]) == 1
    assert splits["train"].examples[1].label == fsd.CLASSES.index("Saxophone")
    assert splits["test"].examples[0].path == (tmp_path / "audio_test" / "00326aa9.wav").resolve()
    verified = fsd.load_splits(tmp_path, verified_only=True)["train"]
    assert [e.clip_id for e in verified.examples] == ["001ca53d"]
    (meta / "train_post_competition.csv").write_text(
        "fname,label,manually_verified,freesound_id,license\n"
        "a.wav,Not_a_label,0,1,x\nb.wav,Oboe,2,1,x\n")
    with pytest.raises(DatasetError) as err:
        fsd.load_splits(tmp_path)
    assert "line 2" in str(err.value) and "Not_a_label" in str(err.value) and "line 3" in str(err.value)
