"""Classify audio files with a trained paper-2 branch (or export one to a .keras file).

    python -m paper2_multirep.predict MODEL AUDIO [AUDIO ...] [--branch I] [--top 3]
    python -m paper2_multirep.predict MODEL --export branch.keras [--branch I]
    python -m paper2_multirep.predict RECORD_OF_AN_ENSEMBLE_ROW FOLDER --timing   # cost per clip

MODEL is one of
  - a store key (16 hex digits) of <--results>/paper2/_store (default results/),
  - a store entry folder (<results>/paper2/_store/<key>),
  - a run record (its results.json or folder): the job it reads and the branches it
    reports (one branch for a distilled or independent row, all for an ensemble row),
  - a `.keras` file written by --export (shared.classifier.AudioClassifier).
AUDIO: WAV/FLAC files or folders (every .wav/.flac under them). Each file is turned into
the branch's own representation by the training front end (FeatureParams carried by the
model), cut into the evaluation crops, scored crop by crop and averaged (the table run's
audio-level score); with several branches their probabilities are averaged (paper 2's
ensemble). One line per file: the top classes with their probabilities.

A file at another sample rate or with another channel count than the model's training
data is refused (one line; the kit never resamples, register shared-verify-strictness).
Exit status: 0 ok, 2 bad input (one line on stderr per bad file; the others still run).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Sequence

from shared.cli import UsageError, command

PROG = "python -m paper2_multirep.predict"
STORE_DIR = Path("paper2") / "_store"
KEY = re.compile(r"^[0-9a-f]{16}$")
BRANCH_FILE = re.compile(r"^branch_(\d+)\.keras$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="store key, store entry folder, run record (results.json "
                                      "or its folder) or an exported .keras file")
    parser.add_argument("audio", nargs="*", help="WAV/FLAC files or folders to classify")
    parser.add_argument("--branch", type=int, action="append", default=None,
                        help="branch index of the job, repeatable (--branch 0 --branch 1: their "
                             "mean); default: the record's branches, else 0")
    parser.add_argument("--results", default="results",
                        help="results root holding paper2/_store, for a store key (default results)")
    parser.add_argument("--export", metavar="PATH.keras", default=None,
                        help="write the (one) selected branch with its front end to this .keras file")
    parser.add_argument("--top", type=int, default=3, help="classes printed per file (default 3)")
    parser.add_argument("--timing", action="store_true",
                        help="also print the inference cost per clip of each branch and of all "
                             "selected branches together (front end + network, first file excluded)")
    return parser


def find_entry(key: str, start: Path) -> Path:
    """The store entry of `key` under `start` or one of its parents (<anc>/paper2/_store/<key>)."""
    for folder in (start, *start.parents):
        entry = folder / STORE_DIR / key
        if (entry / "job.json").is_file():
            return entry
    raise FileNotFoundError(f"{start}: no {STORE_DIR}/{key} in this folder or above it "
                            "(the store of the record's results root)")


def resolve(model: str, results: str) -> tuple[Path | None, Path | None, list[int] | None]:
    """(exported .keras file, store entry folder, the record's branches) of MODEL."""
    path = Path(model)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        return path, None, None
    if path.is_dir() and (path / "job.json").is_file():
        return None, path, None
    record = path if path.name == "results.json" else path / "results.json"
    if record.is_file():
        try:
            extra = json.loads(record.read_text(encoding="utf-8"))["extra"]
            key, branches = extra["job"], [int(b) for b in extra["branches"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{record}: not a paper-2 run record (needs extra.job and "
                             f"extra.branches: {err})") from None
        return None, find_entry(key, record.parent), branches
    if KEY.match(model):
        entry = Path(results) / STORE_DIR / model
        if not (entry / "job.json").is_file():
            raise FileNotFoundError(f"{entry}: no finished job with key {model} in the store "
                                    f"(--results {results})")
        return None, entry, None
    raise FileNotFoundError(f"{model}: not a store key, store entry, run record or .keras file")


def branch_files(entry: Path) -> dict[int, Path]:
    """branch index -> branch_<i>.keras of a finished store entry.

    Raises:
      UsageError: the entry was written before the store kept the trained branches.
    """
    from replication.store import JobStore
    store = JobStore(entry.parent)
    files = {int(m.group(1)): entry / name for name in store.files(entry.name)
             if (m := BRANCH_FILE.match(name))}
    if not files:
        raise UsageError(f"{entry}: this store entry holds the job's test outputs but no trained "
                         "branches (written before the store kept them); delete the entry and "
                         "rerun its table, or run it under a fresh --results root")
    return files


def load_models(model: str, results: str, branches: Sequence[int] | None) -> list:
    """The AudioClassifier(s) MODEL and --branch select."""
    from shared.classifier import load_classifier
    exported, entry, record_branches = resolve(model, results)
    if exported is not None:
        if branches:
            raise UsageError(f"{exported}: an exported file holds one branch; drop --branch")
        return [load_classifier(exported)]
    files = branch_files(entry)
    chosen = list(branches or record_branches or [0])
    missing = [b for b in chosen if b not in files]
    if missing:
        raise UsageError(f"{entry}: no branch {missing[0]} (the job has branches "
                         f"{', '.join(map(str, sorted(files)))})")
    return [load_classifier(files[b]) for b in chosen]


def clip_probs(models: Sequence, path: Path, seconds: list | None = None):
    """Audio-level probabilities [C] of one file: the mean over the branches of each
    branch's mean over its crops of softmax(logits). `seconds`: a list to which the
    per-branch times (decode + front end + network) of this file are appended."""
    import time

    import numpy as np

    from shared.inference import clip_crops, clip_scores, load_clip
    probs, times = [], []
    for clf in models:
        start = time.perf_counter()
        audio = load_clip(path, clf.feature_params, clf.about.get("channels"))
        probs.append(clip_scores(clf, clip_crops(clf, audio, where=str(path)))[0])
        times.append(time.perf_counter() - start)
    if seconds is not None:
        seconds.append(times)
    return np.mean(probs, axis=0)


def timing_text(models: Sequence, seconds: Sequence[Sequence[float]]) -> str:
    """One line: ms per clip of each branch alone and of all of them (paper 2's point: one
    distilled branch costs one model, the ensemble all of them), the first file left out
    (it traces the graphs)."""
    import numpy as np
    rows = np.asarray(seconds[1:] if len(seconds) > 1 else seconds, dtype=np.float64)   # [files, branches]
    per_branch = rows.mean(axis=0) * 1000.0
    parts = [f"branch {m.about.get('branch', i)} ({m.about.get('network', '?')} on "
             f"{m.about.get('representation', '?')}) {ms:.1f} ms/clip" for i, (m, ms) in enumerate(zip(models, per_branch))]
    total = float(rows.sum(axis=1).mean())
    return (f"timing over {len(rows)} clip(s): " + "; ".join(parts)
            + f"; all {len(models)} together {total * 1000:.1f} ms/clip = {1.0 / total:.1f} clips/s")


@command(PROG)
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)
    from shared.inference import check_request
    check_request(args.top, args.audio, args.export)
    models = load_models(args.model, args.results, args.branch)
    classes = models[0].classes
    if any(m.classes != classes for m in models):
        raise UsageError(f"{args.model}: the selected branches disagree on the classes")
    if args.export:
        if len(models) != 1:
            raise UsageError(f"--export writes one branch; choose it with --branch (got {len(models)})")
        out = Path(args.export)
        out.parent.mkdir(parents=True, exist_ok=True)
        models[0].save(out)
        print(f"exported branch {models[0].about.get('branch', '?')} "
              f"({models[0].about.get('network', '?')} on {models[0].about.get('representation', '?')}) "
              f"to {out}")
    if not args.audio:
        return 0
    from shared.inference import audio_files, classify_files
    seconds: list = []
    code = classify_files(audio_files(args.audio), lambda p: clip_probs(models, p, seconds), classes,
                          PROG, k=min(args.top, len(classes)))
    if args.timing and seconds:
        print(timing_text(models, seconds))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
