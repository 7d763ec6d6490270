"""A distilled branch in use: the store keeps every trained branch with its front end,
`python -m paper2_multirep.predict` scores real ESC-10 clips exactly as the table run did,
from the store and from an exported .keras file, and refuses unusable audio in one line.

One tiny cyclic job (2 branches, 20 training clips, one cycle) is trained on the ESC-10
fixture (skipped with its reason when the fixture is absent).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from paper2_multirep import esc, predict, tables
from replication.store import JobStore
from shared.audio import read_audio, write_audio
from shared.classifier import load_classifier
from shared.metrics import accuracy, map_at_3
from shared.tensorboard import read_scalars

TINY = {"data": {"max_train_clips": 20, "max_eval_clips": 6, "crop_frames": 40,
                 "eval_hop_frames": 40, "dataset": ""},
        "training_overrides": {"optim": {"epochs": 1, "batch_size": 8}}}


@pytest.fixture(scope="module")
def trained(esc10_root, tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    params = tables.resolve_params("demo", {**TINY, "results_root": str(results),
                                            "data": {**TINY["data"], "cache_root": str(results / "cache")}})
    table = esc.esc_table("esc10", 1, esc.parse_branches(esc.DEFAULT_BRANCHES))
    plan = tables.plan_table(table, params, seeds=1, data_root=str(esc10_root), test_fold=1)
    job = next(j for j in plan.jobs if j.kind == "cyclic")
    tables.execute_job(plan, job, log=lambda s: None)
    outputs, payload = plan.store.load(job.key)
    return {"results": results, "plan": plan, "job": job, "outputs": outputs,
            "entry": plan.store.path(job.key), "clips": [e.path for e in plan.data.test]}


def _probs(models, clips):
    return np.stack([predict.clip_probs(models, p) for p in clips])


def test_store_keeps_each_branch_and_its_curves(trained):
    entry, outputs = trained["entry"], trained["outputs"]
    files = JobStore(entry.parent).files(entry.name)
    assert {"branch_0.keras", "branch_1.keras"} <= set(files)
    assert any(f.startswith("tensorboard/events.out.tfevents.") for f in files)
    curves = read_scalars(entry / "tensorboard")
    info = json.loads((entry / "job.json").read_text())["info"]
    history = info["history"]
    assert info["batch_norm"] == "fused"                 # the kernel that trained it (register shared-fused-bn)
    for b in range(2):
        assert [s for s, _ in curves[f"branch_{b}/loss"]] == [r["pass"] for r in history if r["branch"] == b]
        assert curves[f"final/accuracy_b{b}"][0][1] == pytest.approx(
            accuracy(outputs[f"probs_{b}"], outputs["labels"]))
        assert curves[f"final/map_at_3_b{b}"][0][1] == pytest.approx(
            map_at_3(outputs[f"probs_{b}"], outputs["labels"]))


def test_store_and_exported_predictions_equal_the_table_run(trained, tmp_path, capsys):
    outputs, clips, key = trained["outputs"], trained["clips"], trained["job"].key
    results = str(trained["results"])
    for b in range(2):
        models = predict.load_models(key, results, [b])
        np.testing.assert_allclose(_probs(models, clips), outputs[f"probs_{b}"], atol=2e-5)
    out = tmp_path / "branch1.keras"
    assert predict.main([key, "--results", results, "--branch", "1", "--export", str(out)]) == 0
    exported = load_classifier(out)
    assert exported.about["branch"] == 1 and exported.feature_params.kind == "mfcc"
    np.testing.assert_allclose(_probs([exported], clips), outputs["probs_1"], atol=2e-5)
    capsys.readouterr()
    assert predict.main([str(out), str(clips[0])]) == 0
    line = capsys.readouterr().out.strip()
    top = int(np.argmax(outputs["probs_1"][0]))
    assert line.startswith(f"{clips[0]}  {exported.classes[top]} ") and len(line.split("  ")) == 4


def test_a_run_record_selects_its_job_and_branches(trained, capsys):
    results, key = trained["results"], trained["job"].key
    record = results / "esc10" / "fold1" / "ensemble" / "seed-0" / "results.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"extra": {"job": key, "branches": [0, 1]}}))
    models = predict.load_models(str(record.parent), "elsewhere", None)
    assert [m.about["branch"] for m in models] == [0, 1]
    clip = trained["clips"][1]
    mean = (trained["outputs"]["probs_0"][1] + trained["outputs"]["probs_1"][1]) / 2
    np.testing.assert_allclose(predict.clip_probs(models, clip), mean, atol=2e-5)
    assert predict.main([str(record), str(clip), "--top", "2"]) == 0
    assert len(capsys.readouterr().out.strip().split("  ")) == 3
    clips = [str(c) for c in trained["clips"][:3]]
    assert predict.main([str(record), *clips, "--timing"]) == 0
    timing = capsys.readouterr().out.strip().splitlines()[-1]
    assert timing.startswith("timing over 2 clip(s): branch 0 (resnet on logmel64) ")
    assert "branch 1 (vgg on mfcc)" in timing and "all 2 together" in timing and timing.endswith("clips/s")


def test_unusable_audio_is_one_line_and_the_other_files_still_run(trained, tmp_path, capsys):
    clip = trained["clips"][0]
    audio, rate = read_audio(clip)
    write_audio(tmp_path / "other_rate.wav", audio[::2], rate // 2)
    write_audio(tmp_path / "stereo.flac", np.concatenate([audio, audio], axis=1), rate)
    (tmp_path / "broken.wav").write_bytes(b"RIFF....not audio")
    shutil.copy(clip, tmp_path / "good.flac")
    key, results = trained["job"].key, str(trained["results"])
    capsys.readouterr()
    assert predict.main([key, "--results", results, str(tmp_path)]) == 2
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith(f"{predict.PROG}: error: ") for e in errors)
    text = "\n".join(errors)
    assert f"other_rate.wav: sample rate {rate // 2} Hz, the model's front end expects {rate} Hz" in text
    assert "stereo.flac: 2 channel(s), the model was trained on 1" in text
    assert "broken.wav: not a readable audio file" in text
    assert captured.out.strip().startswith(str(tmp_path / "good.flac"))


def test_entries_without_branches_and_bad_sources_are_one_line(trained, tmp_path, capsys):
    old = tmp_path / "paper2" / "_store" / trained["job"].key
    old.mkdir(parents=True)
    shutil.copy(trained["entry"] / "outputs.npz", old / "outputs.npz")
    payload = json.loads((trained["entry"] / "job.json").read_text())
    (old / "job.json").write_text(json.dumps({**payload, "files": ["outputs.npz"]}))
    clip = str(trained["clips"][0])
    cases = [([trained["job"].key, "--results", str(tmp_path), clip], "no trained branches"),
             (["0123456789abcdef", "--results", str(tmp_path), clip], "no finished job with key"),
             ([trained["job"].key, "--results", str(trained["results"]), "--branch", "5", clip],
              "no branch 5 (the job has branches 0, 1)"),
             ([str(tmp_path / "none.keras"), clip], "none.keras: no such model file"),
             ([trained["job"].key, "--results", str(trained["results"]), str(tmp_path / "missing")],
              "missing: no such file or folder")]
    for argv, message in cases:
        capsys.readouterr()
        assert predict.main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{predict.PROG}: error: ") and message in err and "\n" not in err
