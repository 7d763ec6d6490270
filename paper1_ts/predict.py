"""Classify audio files with a trained paper-1 model (or export one to a .keras file).

    python -m paper1_ts.predict MODEL AUDIO [AUDIO ...] [--top 3]
    python -m paper1_ts.predict MODEL --export model.keras

MODEL is one of
  - a store key (16 hex digits) of <--results>/paper1/_store (default results/),
  - a store entry folder (<results>/paper1/_store/<key>),
  - a run record (its results.json or folder): the model(s) it scores (a score-sum
    ensemble row: all of them) and the SVM settings of its config.yaml,
  - a `.keras` file written by --export (shared.classifier.AudioClassifier).
AUDIO: WAV/FLAC files or folders. Each file goes through the model's own front end
(FeatureParams carried by the model) as one whole clip, like the table run's 10 s clips.

Back-end: from the store (key, entry, record) the paper's SVM back-end (Sec. 2.2): one
SVM per model fitted on that entry's stored TRAINING-split embeddings, its decision
scores summed over an ensemble's models; the line then shows SVM decision scores, not
probabilities. An exported .keras file holds the network only (an SVM is not a Keras
object), so it classifies through the network's softmax head, and says so.

Store entries written before the store kept model.keras hold model.weights.h5: the
network is rebuilt from the entry's description and those weights are loaded.

A file at another sample rate or with another channel count than the training data is
refused in one line (the kit never resamples, register shared-verify-strictness).
Exit status: 0 ok, 2 bad input (one line on stderr per bad file; the others still run).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Sequence

from shared.cli import UsageError, command

PROG = "python -m paper1_ts.predict"
STORE_DIR = Path("paper1") / "_store"
KEY = re.compile(r"^[0-9a-f]{16}$")
MODEL_FILE = "model.keras"        # paper1_ts.jobs.MODEL_FILE (not imported: jobs pulls in training)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="store key, store entry folder, run record (results.json "
                                      "or its folder) or an exported .keras file")
    parser.add_argument("audio", nargs="*", help="WAV/FLAC files or folders to classify")
    parser.add_argument("--results", default="results",
                        help="results root holding paper1/_store, for a store key (default results)")
    parser.add_argument("--export", metavar="PATH.keras", default=None,
                        help="write the (one) model with its front end to this .keras file")
    parser.add_argument("--top", type=int, default=3, help="classes printed per file (default 3)")
    return parser


class Model:
    """One network with its front end and, from the store, its SVM back-end."""

    def __init__(self, classifier, svm=None, note: str = ""):
        self.classifier, self.svm, self.note = classifier, svm, note

    def scores(self, path: Path):
        """SVM decision scores [C] (svm) or softmax probabilities [C] of one file."""
        import numpy as np

        from paper1_ts.backend_svm import svm_scores
        from shared.inference import clip_crops, load_clip, softmax
        clf = self.classifier
        audio = load_clip(path, clf.feature_params, clf.about.get("channels"))
        out = clf(clip_crops(clf, audio, where=str(path)), training=False)    # one crop: the clip
        if self.svm is None:
            return softmax(np.asarray(out["logits"], np.float64))[0]
        return svm_scores(self.svm, np.asarray(out["embedding"], np.float32), len(clf.classes))[0]


def entry_model(entry: Path, svm_params, source: str) -> Model:
    """A store entry's model with its SVM fitted on the entry's training embeddings."""
    from paper1_ts.backend_svm import Embeddings, fit_svm
    from replication.store import JobStore
    from shared.classifier import load_classifier
    store = JobStore(entry.parent)
    outputs, payload = store.load(entry.name)
    files = store.files(entry.name)
    if MODEL_FILE in files:
        clf = load_classifier(entry / MODEL_FILE)
    elif "model.weights.h5" in files:
        clf = rebuilt_classifier(entry, payload["description"])
    else:
        raise UsageError(f"{entry}: this store entry holds no trained model (neither {MODEL_FILE} "
                         "nor model.weights.h5); delete it and rerun its table")
    train = Embeddings(outputs["train_embedding"], outputs["train_label"], outputs["train_index"])
    svm = fit_svm(train, svm_params, len(clf.classes), seed=int(payload["description"].get("seed", 0)))
    note = (f"back-end: SVM ({svm_params.kernel}, C={svm_params.c:g}, {source}) fitted on "
            f"{len(train.labels)} stored training embeddings of {entry.name}; numbers are SVM "
            "decision scores (score sum over an ensemble's models), not probabilities")
    return Model(clf, svm, note)


def rebuilt_classifier(entry: Path, description: dict):
    """The AudioClassifier of an entry written before the store kept model.keras: the
    network rebuilt from the entry's description (model params, any input length), its
    model.weights.h5 loaded, the front end from the description's FeatureParams, the class
    names from the data set's spec (the demo data set uses the DCASE class names)."""
    from dataclasses import replace

    from paper1_ts.data import dataset_module
    from paper1_ts.model_params import CNNGRUParams, RawCNNParams
    from paper1_ts.models import build_cnn_gru, build_raw_cnn
    from shared.classifier import AudioClassifier
    from shared.config import ConfigError, override
    family = description.get("family")
    try:
        if family == "raw":
            net = replace(override(RawCNNParams(), description["model"], str(entry)), input_length=None)
            network = build_raw_cnn(net, name="raw_any_length")
        elif family == "spec":
            net = replace(override(CNNGRUParams(), description["model"], str(entry)), input_frames=None)
            network = build_cnn_gru(net, head="gru", name="spec_any_length")
        else:
            raise UsageError(f"{entry}: model family {family!r} unknown (raw, spec)")
        classes = list(dataset_module(description["data"]["dataset"]).spec().classes)
    except (KeyError, ConfigError) as err:
        raise UsageError(f"{entry}: its job.json does not describe a paper-1 model ({err})") from None
    if len(classes) != net.num_classes:
        classes = [f"class_{k}" for k in range(net.num_classes)]
    try:
        network.load_weights(entry / "model.weights.h5")
    except Exception as err:                     # h5 / structure errors of many kinds
        raise UsageError(f"{entry / 'model.weights.h5'}: does not fit the described network "
                         f"({' '.join(str(err).split())[:160]})") from None
    return AudioClassifier(network, features=description["features"], classes=classes,
                           feature_dtype=description["data"].get("cache_dtype", "float32"),
                           about={"family": family, "input_segments": description.get("input_segments"),
                                  "channels": net.channels, "rebuilt_from": "model.weights.h5"})


def load_models(model: str, results: str) -> list[Model]:
    """The model(s) MODEL names (see the module docstring)."""
    from paper1_ts.params import Paper1Params
    from shared.classifier import load_classifier
    from shared.config import load_config
    path = Path(model)
    if path.suffix == ".keras":
        return [Model(load_classifier(path), note=(
            "back-end: the network's softmax head (an exported .keras file carries no SVM: the "
            "paper's SVM back-end needs the store entry's training embeddings); numbers are "
            "probabilities"))]
    default_svm = Paper1Params().svm
    if path.is_dir() and (path / "job.json").is_file():
        return [entry_model(path, default_svm, "the default settings")]
    record = path if path.name == "results.json" else path / "results.json"
    if record.is_file():
        try:
            extra = json.loads(record.read_text(encoding="utf-8"))["extra"]
            keys, store = [s["key"] for s in extra["systems"]], Path(extra["store"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{record}: not a paper-1 run record (needs extra.systems and "
                             f"extra.store: {err})") from None
        config = record.parent / "config.yaml"
        svm, source = (load_config(Paper1Params, config).svm, f"settings of {config}") \
            if config.is_file() else (default_svm, "default settings: the record has no config.yaml")
        return [entry_model(store / key, svm, source) for key in keys]
    if KEY.match(model):
        entry = Path(results) / STORE_DIR / model
        if not (entry / "job.json").is_file():
            raise FileNotFoundError(f"{entry}: no finished model with key {model} in the store "
                                    f"(--results {results})")
        return [entry_model(entry, default_svm, "the default settings")]
    raise FileNotFoundError(f"{model}: not a store key, store entry, run record or .keras file")


@command(PROG)
def main(argv: Sequence[str] | None = None) -> int:
    import numpy as np

    args = build_parser().parse_intermixed_args(argv)
    from shared.inference import check_request
    check_request(args.top, args.audio, args.export)
    models = load_models(args.model, args.results)
    classes = models[0].classifier.classes
    if args.export:
        if len(models) != 1:
            raise UsageError(f"--export writes one model; this record scores {len(models)} "
                             "(export each from its store key)")
        out = Path(args.export)
        out.parent.mkdir(parents=True, exist_ok=True)
        models[0].classifier.save(out)
        print(f"exported {models[0].classifier.about.get('family', '?')} model to {out} "
              "(network + front end; the SVM back-end stays with the store entry)")
    if not args.audio:
        return 0
    from shared.inference import audio_files, classify_files
    print(models[0].note)
    return classify_files(audio_files(args.audio),
                          lambda p: np.sum([m.scores(p) for m in models], axis=0) / len(models),
                          classes, PROG, k=min(args.top, len(classes)))


if __name__ == "__main__":
    raise SystemExit(main())
