"""A paper-1 model in use: the store keeps each model with its front end (model.keras) and
its TensorBoard curves; `python -m paper1_ts.predict` scores demo clips as the table run
did (SVM back-end from the store, softmax head from an exported file).

A tiny Table 1 (raw CNN + CNN-GRU, 2 clips per class, one epoch) is run in-process once,
shared with tests/paper1_ts/test_tables.py (fixture tiny_table1, tests/paper1_ts/conftest.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from paper1_ts import backend_svm as svm
from paper1_ts import predict
from replication.records import find_records
from replication.store import JobStore
from shared.classifier import load_classifier
from shared.inference import softmax
from shared.tensorboard import read_scalars


@pytest.fixture(scope="module")
def table1(tiny_table1):
    """The shared tiny Table 1 run (tests/paper1_ts/conftest.py): its records and store."""
    results, code, _ = tiny_table1
    assert code in (0, 1)
    records = {r.run: path for path, r in find_records([results / "paper1" / "table1"])}
    store = JobStore(results / "paper1" / "_store")
    return results, records, store


def _eval_clips(store: JobStore, key: str) -> list:
    """The evaluation clips of a stored model, in the stored order (clip index)."""
    from paper1_ts.data import DataContext
    from paper1_ts.params import Paper1Params
    from shared.config import override
    description = json.loads((store.path(key) / "job.json").read_text())["description"]
    params = override(Paper1Params(), {"data": description["data"]})
    return [e.path for e in DataContext(params, prepare=False).examples["eval"]]


def test_store_model_scores_clips_as_the_table_run(table1, capsys):
    results, records, store = table1
    record = json.loads(records["raw_improved"].read_text())
    key = record["extra"]["systems"][0]["key"]
    assert {"model.weights.h5", "model.keras"} <= set(store.files(key))
    curves = read_scalars(store.path(key) / "tensorboard")
    assert "loss" in curves and "lr" in curves and "final/softmax_accuracy_eval" in curves
    outputs, payload = store.load(key)
    assert payload["info"]["batch_norm"] == "fused"     # the kernel that trained it (register shared-fused-bn)
    clips = _eval_clips(store, key)[:3]
    [model] = predict.load_models(str(records["raw_improved"]), "unused")
    assert model.svm is not None and "SVM" in model.note
    stored = svm.svm_scores(model.svm, outputs["eval_embedding"][:3], 10)
    np.testing.assert_allclose(np.stack([model.scores(p) for p in clips]), stored, atol=1e-3)
    # the exported file: the softmax head, the same network and front end
    out = results / "raw.keras"
    assert predict.main([key, "--results", str(results), "--export", str(out)]) == 0
    exported = predict.load_models(str(out), "unused")[0]
    assert exported.svm is None and "softmax head" in exported.note
    np.testing.assert_allclose(np.stack([exported.scores(p) for p in clips]),
                               softmax(outputs["eval_logits"][:3]), atol=1e-4)
    assert load_classifier(out).about["family"] == "raw"
    capsys.readouterr()
    assert predict.main([str(out), str(clips[0])]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("back-end: the network's softmax head") and len(lines) == 2
    assert lines[1].startswith(str(clips[0])) and len(lines[1].split("  ")) == 4


def test_an_ensemble_record_averages_its_models_svm_scores(table1):
    results, records, store = table1
    models = predict.load_models(str(records["ensemble_improved"].parent), "unused")
    assert len(models) == 2 and all(m.svm is not None for m in models)
    keys = [s["key"] for s in json.loads(records["ensemble_improved"].read_text())["extra"]["systems"]]
    clip = _eval_clips(store, keys[0])[0]
    stored = [svm.svm_scores(m.svm, store.load(k)[0]["eval_embedding"][:1], 10)[0]
              for m, k in zip(models, keys)]
    got = np.mean([m.scores(clip) for m in models], axis=0)
    np.testing.assert_allclose(got, np.mean(stored, axis=0), atol=1e-3)


def test_old_entries_and_bad_input_are_one_line(table1, tmp_path, capsys):
    results, records, store = table1
    key = json.loads(records["spec_improved"].read_text())["extra"]["systems"][0]["key"]
    old = tmp_path / "paper1" / "_store" / key
    old.mkdir(parents=True)
    for name in ("outputs.npz", "model.weights.h5"):
        (old / name).write_bytes((store.path(key) / name).read_bytes())
    payload = json.loads((store.path(key) / "job.json").read_text())
    (old / "job.json").write_text(json.dumps({**payload, "files": ["outputs.npz", "model.weights.h5"]}))
    clip = _eval_clips(store, key)[0]
    # an entry written before the store kept model.keras: rebuilt from its description + weights
    [rebuilt] = predict.load_models(str(old), "unused")
    [current] = predict.load_models(str(store.path(key)), "unused")
    assert rebuilt.classifier.about["rebuilt_from"] == "model.weights.h5"
    assert rebuilt.classifier.feature_params == current.classifier.feature_params
    np.testing.assert_allclose(rebuilt.scores(clip), current.scores(clip), atol=1e-4)
    (old / "model.weights.h5").unlink()
    (old / "job.json").write_text(json.dumps({**payload, "files": ["outputs.npz"]}))
    clip = str(clip)
    for argv, message in [([key, "--results", str(tmp_path), clip], "holds no trained model"),
                          (["fedcba9876543210", clip], "no finished model with key"),
                          ([key, "--results", str(results)], "give audio files")]:
        capsys.readouterr()
        assert predict.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{predict.PROG}: error: ") and message in err and "\n" not in err
