"""Do the demo data carry the premises the papers' methods need? Fast linear probes.

    python -m replication.premises [--root data/datasets/demo] [--out docs/results/premises.json]
                                   [--into docs/claims.md] [--section premises]
    python -m replication.premises --root data/datasets/demo_premises --demo-opt design=premises \
        --out docs/results/premises_design.json --into docs/claims.md --section premises_design
    python -m replication.premises --dataset esc10 --root ../shared/data/esc10 [--fold 1 --validation-fold 2]

The claims harness can show a distillation effect only on data where the method has
something to gain (issue 12, part 5). Two premises, each measured here with a probe that
trains in seconds (a logistic regression on per-band statistics of log-mel frames, librosa
features of the channel mean), so a generator can be judged before any network is trained:

- paper 1 (joined teacher): class evidence is sparse in time, so a model that hears a clip
  joined with another clip of its class classifies better than one that hears one clip.
  Probe: accuracy on joined evaluation clips of a probe trained on joined training clips
  (partners drawn within the class and split, `pairings` draws) minus the accuracy of a
  probe trained and scored on single clips. Target: >= P1_MIN_GAIN points.
- paper 2 (representations): two representations make different errors, so their average
  beats each. Probe: logMel128 band statistics vs the first 20 MFCCs (the low cepstra that
  smear fine pitch), their error correlation (phi over evaluation clips) and the accuracy
  of the averaged probabilities minus the better single probe. Targets: correlation
  <= P2_MAX_ERROR_CORR and gain >= P2_MIN_GAIN points. This is what Ensemble* needs.
- paper 2 (transfer): what the average knows can be learnt by ONE representation's model
  from soft labels, which is what "a distilled branch beats its independent twin" needs
  (the first premise does not give it: knowledge that is absent from a branch's input
  cannot be distilled into it). Probe: each representation's probe trained on half one-hot
  labels, half the two probes' averaged probabilities (Eq. (5)'s cross-entropy plus KL at
  equal weight, T = 1) minus the same probe on one-hot labels, with the averaged
  probabilities cross-fitted (each training clip's from probes that did not train on it:
  the most an aggregate can tell about a clip it has not memorised), beside the same with
  the rows permuted (the negative control) and with in-sample probabilities (the method's
  own aggregate). Target: for one representation at least, >= P2_MIN_TRANSFER points over
  both its one-hot probe and its permuted control.

On ESC-10 / ESC-50 (`--dataset`), the probes train on the folds other than the held-out
fold and the validation fold, and score on the validation fold: the held-out fold, the
claims' test set, is never read (the same split as paper2_multirep.esc_select).

A probe is a proxy: a network may find what a linear probe misses, and the reverse. It
tells whether the data hold the premise at all; the claims report (python -m
replication.drivers.claims) tells whether the kit's networks use it. The targets are the kit's own
choice (register shared-demo-premises), not from the papers.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from shared.cli import command

P1_MIN_GAIN = 10.0          # points of accuracy, joined over single
P2_MAX_ERROR_CORR = 0.3     # phi correlation of the two probes' errors
P2_MIN_GAIN = 3.0           # points of accuracy, average over the better probe
P2_MIN_TRANSFER = 3.0       # points of accuracy, a probe taught by the average over its one-hot twin
TRANSFER_FOLDS = 5          # cross-fitting folds of the averaged probabilities
HOP_SECONDS = 0.02


@dataclass(frozen=True)
class Clip:
    logmel64: np.ndarray     # [64, frames]
    logmel128: np.ndarray    # [128, frames]
    mfcc20: np.ndarray       # [20, frames]
    label: int


def _features(path: Path, label: int) -> Clip:
    import librosa
    from shared.audio import read_audio
    samples, sr = read_audio(path)                                     # [frames, channels]
    y = samples.mean(axis=1)                                           # [frames]
    power = np.abs(librosa.stft(y, n_fft=1024, hop_length=max(1, int(sr * HOP_SECONDS)))) ** 2   # [513, frames]
    m64 = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)   # one STFT, two mel banks
    m128 = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=128)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(m64), n_mfcc=20)
    return Clip(np.log(m64 + 1e-6), np.log(m128 + 1e-6), mfcc, label)


def load_split(root: Path, split: str) -> list[Clip]:
    """Features of every clip of a split of a DCASE-layout root (the demo's included)."""
    from shared.datasets.demo import load_splits
    splits = load_splits(root)
    if split not in splits:
        raise KeyError(f"{root}: no split '{split}' (has {', '.join(splits)})")
    return [_features(e.path, e.label) for e in splits[split].examples]


def stats(frames: np.ndarray, with_max: bool = False) -> np.ndarray:
    """Per-band mean and std (and max) over time: [bands, frames] -> [2 or 3 x bands]."""
    parts = [frames.mean(axis=1), frames.std(axis=1)] + ([frames.max(axis=1)] if with_max else [])
    return np.concatenate(parts)


def partners(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each clip, another clip of the same class (itself only if it is alone)."""
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        same = np.flatnonzero((labels == label) & (np.arange(len(labels)) != i))
        out[i] = rng.choice(same) if same.size else i
    return out


def _logistic():
    """The probe: a standardised, strongly regularised logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))


def _probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Class probabilities [clips, classes] of the probe trained on hard labels."""
    return _logistic().fit(x_train, y_train).predict_proba(x_test)


def _soft_probe(x_train: np.ndarray, targets: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """_probe fitted to soft targets [clips, classes]: each clip enters once per class,
    weighted by its target probability (the cross-entropy to the soft target, exactly)."""
    clips, classes = targets.shape
    rows = np.repeat(np.arange(clips), classes)                        # [clips x classes]
    labels = np.tile(np.arange(classes), clips)
    weights = targets.reshape(-1)
    keep = weights > 0
    model = _logistic()
    model.fit(x_train[rows[keep]], labels[keep], logisticregression__sample_weight=weights[keep])
    probs = np.zeros((len(x_test), classes))
    probs[:, model.classes_] = model.predict_proba(x_test)
    return probs


def error_correlation(wrong_a: np.ndarray, wrong_b: np.ndarray) -> float:
    """Phi coefficient of two boolean error vectors (0 when either is constant)."""
    a, b = np.asarray(wrong_a, float), np.asarray(wrong_b, float)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def paper1_joined_gain(train: Sequence[Clip], test: Sequence[Clip], pairings: int = 3,
                       seed: int = 0) -> dict:
    """Paper 1's premise: accuracy (%) of the joined probe minus the single-clip probe."""
    y_tr = np.array([c.label for c in train])
    y_te = np.array([c.label for c in test])
    single = _probe(np.stack([stats(c.logmel64, True) for c in train]), y_tr,
                    np.stack([stats(c.logmel64, True) for c in test]))
    single_acc = 100.0 * float(np.mean(single.argmax(1) == y_te))
    rng = np.random.default_rng(seed)
    joined = []
    for _ in range(pairings):
        def join(clips, labels):
            other = partners(labels, rng)
            return np.stack([stats(np.concatenate([c.logmel64, clips[j].logmel64], axis=1), True)
                             for c, j in zip(clips, other)])
        probs = _probe(join(train, y_tr), y_tr, join(test, y_te))
        joined.append(100.0 * float(np.mean(probs.argmax(1) == y_te)))
    gain = float(np.mean(joined)) - single_acc
    return {"single_accuracy": single_acc, "joined_accuracy": float(np.mean(joined)),
            "joined_per_pairing": joined, "gain": gain, "target_gain": P1_MIN_GAIN,
            "holds": gain >= P1_MIN_GAIN}


def paper2_complementarity(train: Sequence[Clip], test: Sequence[Clip]) -> dict:
    """Paper 2's premise: error correlation of logMel128 vs MFCC-20 probes and the
    accuracy (%) of their averaged probabilities over the better one."""
    y_tr = np.array([c.label for c in train])
    y_te = np.array([c.label for c in test])
    p_mel = _probe(np.stack([stats(c.logmel128) for c in train]), y_tr, np.stack([stats(c.logmel128) for c in test]))
    p_mfcc = _probe(np.stack([stats(c.mfcc20) for c in train]), y_tr, np.stack([stats(c.mfcc20) for c in test]))
    acc = {name: 100.0 * float(np.mean(p.argmax(1) == y_te))
           for name, p in (("logmel128", p_mel), ("mfcc20", p_mfcc), ("average", p_mel + p_mfcc))}
    corr = error_correlation(p_mel.argmax(1) != y_te, p_mfcc.argmax(1) != y_te)
    gain = acc["average"] - max(acc["logmel128"], acc["mfcc20"])
    return {"accuracy": acc, "error_correlation": corr, "gain_over_best": gain,
            "target_error_correlation": P2_MAX_ERROR_CORR, "target_gain": P2_MIN_GAIN,
            "holds": corr <= P2_MAX_ERROR_CORR and gain >= P2_MIN_GAIN}


def paper2_transfer(train: Sequence[Clip], test: Sequence[Clip], seed: int = 0) -> dict:
    """Paper 2's transfer premise: per representation, accuracy (%) of a probe taught by
    the two probes' average (cross-fitted, permuted, in-sample) and of its one-hot twin."""
    from sklearn.model_selection import StratifiedKFold
    y_tr = np.array([c.label for c in train])
    y_te = np.array([c.label for c in test])
    classes = int(max(y_tr.max(), y_te.max())) + 1
    onehot = np.eye(classes)[y_tr]                                     # [clips, classes]
    views = {"logmel128": lambda c: stats(c.logmel128), "mfcc20": lambda c: stats(c.mfcc20)}
    x_tr = {name: np.stack([f(c) for c in train]) for name, f in views.items()}
    x_te = {name: np.stack([f(c) for c in test]) for name, f in views.items()}
    crossed = np.zeros_like(onehot)
    splits = StratifiedKFold(TRANSFER_FOLDS, shuffle=True, random_state=seed).split(x_tr["mfcc20"], y_tr)
    for fit_rows, held_rows in splits:
        for name in views:
            crossed[held_rows] += _soft_probe(x_tr[name][fit_rows], onehot[fit_rows], x_tr[name][held_rows]) / len(views)
    in_sample = sum(_soft_probe(x_tr[name], onehot, x_tr[name]) for name in views) / len(views)
    aggregates = {"crossed": crossed, "permuted": crossed[np.random.default_rng(seed).permutation(len(y_tr))],
                  "in_sample": in_sample}
    accuracy = {name: {"one_hot": 100.0 * float(np.mean(_soft_probe(x_tr[name], onehot, x_te[name]).argmax(1) == y_te)),
                       **{kind: 100.0 * float(np.mean(
                           _soft_probe(x_tr[name], 0.5 * onehot + 0.5 * agg, x_te[name]).argmax(1) == y_te))
                          for kind, agg in aggregates.items()}}
                for name in views}
    gain = {name: min(a["crossed"] - a["one_hot"], a["crossed"] - a["permuted"]) for name, a in accuracy.items()}
    best = max(gain.values())
    return {"accuracy": accuracy, "crossed_aggregate_accuracy": 100.0 * float(np.mean(crossed.argmax(1) == y_tr)),
            "gain": gain, "best_gain": best, "target_gain": P2_MIN_TRANSFER, "holds": best >= P2_MIN_TRANSFER}


def _probes(train: Sequence[Clip], test: Sequence[Clip], pairings: int) -> dict:
    return {"train_clips": len(train), "test_clips": len(test),
            "paper1_joined_teacher": paper1_joined_gain(train, test, pairings),
            "paper2_representations": paper2_complementarity(train, test),
            "paper2_transfer": paper2_transfer(train, test)}


def measure(root: Path, pairings: int = 3) -> dict:
    """Every premise on a demo root (fold1_train -> fold1_evaluate)."""
    from shared.datasets.demo import read_params
    train, test = load_split(root, "fold1_train"), load_split(root, "fold1_evaluate")
    return {"root": str(root), "dataset": "demo", "demo_params": asdict(read_params(root)),
            **_probes(train, test, pairings)}


def measure_esc(root: Path, esc10_only: bool, test_fold: int = 1, validation_fold: int = 2,
                pairings: int = 3) -> dict:
    """Every premise on an ESC-50-layout root: trained on the folds other than `test_fold`
    and `validation_fold`, scored on `validation_fold`; `test_fold` is never read."""
    from shared.datasets import esc50
    splits = esc50.load_splits(root, esc10_only=esc10_only, test_fold=test_fold,
                               validation_fold=validation_fold)
    fit_name, scored_name = esc50.split_names(test_fold, validation_fold)
    train = [_features(e.path, e.label) for e in splits[fit_name].examples]
    test = [_features(e.path, e.label) for e in splits[scored_name].examples]
    return {"root": str(root), "dataset": "esc10" if esc10_only else "esc50",
            "splits": f"{fit_name} -> {scored_name} (held-out fold {test_fold} not read)",
            **_probes(train, test, pairings)}


HEADLINES = (("paper 1 joined gain", ("paper1_joined_teacher", "gain")),
             ("paper 2 average over the better", ("paper2_representations", "gain_over_best")),
             ("paper 2 error correlation", ("paper2_representations", "error_correlation")),
             ("paper 2 transfer best gain", ("paper2_transfer", "best_gain")))


def over_folds(results: list[dict]) -> dict:
    """One result, or several validation folds' results with the mean of each headline."""
    if len(results) == 1:
        return results[0]
    means = {name: float(np.mean([r[a][b] for r in results])) for name, (a, b) in HEADLINES}
    return {"folds": results, "mean": means}


def render(result: dict) -> str:
    if "folds" in result:
        return "\n".join([*(render(r) for r in result["folds"]),
                          f"mean over {len(result['folds'])} validation folds: " + ", ".join(
                              f"{name} {value:.2f}" if "correlation" in name else f"{name} {value:+.1f}"
                              for name, value in result["mean"].items())])
    p1, p2 = result["paper1_joined_teacher"], result["paper2_representations"]
    yes = {True: "holds", False: "does NOT hold"}
    lines = [
        f"{result['dataset']} premises at {result['root']} ({result['train_clips']} train / {result['test_clips']} "
        f"{'test' if result['dataset'] == 'demo' else 'validation'} clips{', ' + result['splits'] if 'splits' in result else ''})",
        f"  paper 1, evidence sparse in time: single {p1['single_accuracy']:.1f} %, joined "
        f"{p1['joined_accuracy']:.1f} %, gain {p1['gain']:+.1f} points (target >= {p1['target_gain']:.0f}): "
        f"{yes[p1['holds']]}",
        f"  paper 2, complementary representations: logMel128 {p2['accuracy']['logmel128']:.1f} %, MFCC-20 "
        f"{p2['accuracy']['mfcc20']:.1f} %, average {p2['accuracy']['average']:.1f} % "
        f"({p2['gain_over_best']:+.1f} over the better; target >= {p2['target_gain']:.0f}), error correlation "
        f"{p2['error_correlation']:.2f} (target <= {p2['target_error_correlation']:.1f}): {yes[p2['holds']]}"]
    transfer = result["paper2_transfer"]
    cells = "; ".join(f"{name} {a['one_hot']:.1f} % one-hot, taught {a['crossed']:.1f} % (permuted "
                      f"{a['permuted']:.1f}, in-sample {a['in_sample']:.1f})"
                      for name, a in transfer["accuracy"].items())
    lines.append(f"  paper 2, one representation learns what the average knows: {cells}; best gain "
                 f"{transfer['best_gain']:+.1f} points over one-hot and permuted (target >= "
                 f"{transfer['target_gain']:.0f}): {yes[transfer['holds']]}")
    return "\n".join(lines)


@command("python -m replication.premises")
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m replication.premises", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default="data/datasets/demo",
                   help="demo data root (generated when missing), or the ESC-50-layout root of --dataset esc10 / esc50")
    p.add_argument("--dataset", choices=("demo", "esc10", "esc50"), default="demo")
    p.add_argument("--fold", type=int, default=1, help="esc10 / esc50: held-out fold, never read (default 1)")
    p.add_argument("--validation-fold", type=int, nargs="+", default=[2],
                   help="esc10 / esc50: the fold(s) the probes are scored on, one measurement each, "
                        "then their mean (default 2)")
    p.add_argument("--pairings", type=int, default=3, help="joined-partner draws for paper 1 (default 3)")
    p.add_argument("--out", default=None, help="also write the result as JSON here")
    p.add_argument("--into", default=None, metavar="FILE",
                   help="also put the summary between <!-- BEGIN SECTION --> / <!-- END SECTION --> in FILE")
    p.add_argument("--section", default="premises", help="marker name for --into (default premises)")
    p.add_argument("--demo-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="DemoParams field for a root generated here (e.g. design=premises)")
    args = p.parse_args(argv)
    root = Path(args.root)
    if args.dataset != "demo":
        if args.demo_opt:
            p.error("--demo-opt is for --dataset demo only")
        if not (root / "meta" / "esc50.csv").is_file():
            p.error(f"{root}: no meta/esc50.csv (an ESC-50-layout root is needed for --dataset {args.dataset})")
        result = over_folds([measure_esc(root, args.dataset == "esc10", args.fold, v, args.pairings)
                             for v in args.validation_fold])
    else:
        if not root.exists() or args.demo_opt:
            from replication.data import main as data_main
            if data_main(["prepare", "demo", "--root", str(root), "--no-progress",
                          *[a for opt in args.demo_opt for a in ("--opt", opt)]]) != 0:
                return 2
        result = measure(root, args.pairings)
    print(render(result))
    if args.out:
        from shared.config import atomic_write_text
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps(result, indent=2, default=float) + "\n")
        print(f"written: {args.out}")
    if args.into:
        from replication.report import replace_between_markers
        replace_between_markers(args.into, args.section, "```\n" + render(result) + "\n```\n")
        print(f"summary placed in {args.into} (section {args.section})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
