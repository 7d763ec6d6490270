"""How far a TS student's imitation of its teacher carries beyond the clips it trained on.

    python -m paper1_ts.imitation --preset FILE.yaml --data-root DIR --results DIR --seeds 5 \
        [--draws 4] [--out FILE.json] [--into FILE --section NAME]

Reads, per seed, Table 6's spectrogram TS student (last hidden layer, 20 s teacher), its
teacher and its one-hot twin from the job store of `--results` (the `runs` root a claims
run wrote; nothing is trained: a missing model is an error that names the table command
that trains it), and measures on the training split and on the evaluation split:

- imitation error: Eq. (5)'s loss, the mean squared distance between the student's
  embedding of a 10 s clip and the teacher's embedding of that clip joined with a
  same-class partner from the same split, averaged over `--draws` partner draws;
- its floor: the spread of the teacher's embedding over those partner draws (a student
  that hears one clip cannot know the partner; the best it can do is the mean target);
- the teacher's SVM accuracy on joined evaluation clips (SVM fitted on joined training
  clips), and on the mean target over the draws (what a student that imitated the mean
  target exactly would score);
- the SVM accuracy of the student and of the one-hot model, as Table 6 scores them;
- on the demo's premises design, the accuracy within the confusable pairs (of the clips
  whose pair is right, how many get the class right: the pairs differ only by a sparse
  event, the evidence a teacher that hears two clips has more of);
- where the student misses: its relative error on evaluation clips (squared distance over
  the target's variance, per dimension) on the half of the dimensions that carry the
  classes (`class_bearing`: share of variance between class means at or above the median,
  from the training clips' mean targets) and on the other half;
- along each confusable pair's axis (premises design only, after the BatchNorm re-estimate
  below; `pair_axis`), the teacher's axis being the direction between the pair's two
  classes' mean targets on the training clips: what dropping the pairs' class offsets
  would add to the squared distance, as a share of the target's variance (how much Eq. (5)
  weighs that evidence); how far apart the two classes are on evaluation clips (d') in the
  teacher's mean target and in the student's embedding; the student's relative error on
  the axis; the share of the teacher's class offset (mean a - mean b) the student
  reproduces, on its training clips and on evaluation clips; and the d' on each model's
  own best axis (LDA on its training embeddings), student and one-hot: the pair evidence
  a model has anywhere;
- the student and the one-hot model again after re-estimating their BatchNorm statistics on the training clips
  (`recalibrate_batchnorm`): the demo trains 6 steps per epoch, so the moving averages
  (momentum 0.99, a memory of ~100 steps) lag the weights; if that gap were why a student
  scores low, its score would rise here.

An evaluation error far above the training error says the student learnt its teacher's
outputs on the training clips rather than the mapping. Run it on two budgets' roots to
compare them (docs/claims.md, sections imitation_levelled and imitation_cosine).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from shared.cli import UsageError, command

PROG = "python -m paper1_ts.imitation"
STUDENT_RUN, ONE_HOT_RUN = "spec_w_ts", "spec_wo_ts"      # Table 6 rows


@dataclass(frozen=True)
class SplitFit:
    """Imitation of the teacher on one split (means over clips and embedding dims)."""
    error: float          # E_clip E_draw mean_d (student - teacher(joined))^2
    floor: float          # E_clip E_draw mean_d (teacher(joined) - mean_draw teacher)^2
    to_mean: float        # E_clip mean_d (student - mean_draw teacher)^2 = error - floor


def split_fit(student: np.ndarray, teacher_draws: np.ndarray) -> SplitFit:
    """Imitation error of `student` [N, D] against `teacher_draws` [K, N, D] (K partner
    draws of the teacher's embedding of each clip joined with a same-class partner)."""
    if teacher_draws.ndim != 3 or teacher_draws.shape[1:] != student.shape:
        raise ValueError(f"teacher draws {teacher_draws.shape} do not match student embeddings "
                         f"{student.shape} (want [K, N, D] and [N, D])")
    mean_target = teacher_draws.mean(axis=0)                                    # [N, D]
    error = float(np.mean((teacher_draws - student[None]) ** 2))
    floor = float(np.mean((teacher_draws - mean_target[None]) ** 2))
    to_mean = float(np.mean((mean_target - student) ** 2))
    return SplitFit(error, floor, to_mean)


@dataclass(frozen=True)
class PairAxis:
    """A model's embedding along the confusable pairs' axes (means over the pairs; module doc)."""
    offset_share: float      # what dropping every pair's class offset (both classes at their midpoint
                             # on the teacher's axis, all else exact) adds to the squared distance over
                             # all eval clips, as a share of the target's total variance (a student at
                             # the target's mean = 1): how much Eq. (5) weighs the pair evidence
    teacher_dprime: float    # d' of the pair's two classes on that axis, teacher's mean target (eval)
    on_teacher_axis: float   # d' of the pair in the model's embedding on the teacher's axis (eval);
                             # a one-hot model's embedding is not the teacher's space: read only `own`
    own: float               # d' of the pair on the model's own best axis (LDA fitted on the model's
                             # training embeddings, scored on eval clips): the pair evidence it has anywhere
    relative_error: float    # E ((model - target)·u)^2 / var(target·u) on the teacher's axis (eval)
    offset: float            # the model's class-mean difference (a - b) on the teacher's axis over the
                             # teacher's (eval): 1 = the pair's offset reproduced, 0 = none of it
    offset_train: float      # the same on the training clips the model was fitted to


def _dprime(projection: np.ndarray, labels: np.ndarray, a: int, b: int) -> float:
    """(mean of class a - mean of class b) / pooled standard deviation of `projection`."""
    pa, pb = projection[labels == a], projection[labels == b]
    return float((pa.mean() - pb.mean()) / max(math.sqrt(0.5 * (pa.var() + pb.var())), 1e-12))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def teacher_pair_axes(target_train: np.ndarray, train_labels: np.ndarray,
                      family: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """(a, b, u) per confusable pair: its two classes and the teacher's axis, u = unit(mean a -
    mean b) of the training clips' mean targets `target_train` [N_tr, D]; `family` [C] names
    the pair of each class."""
    pairs = []
    for f in np.unique(family):
        a, b = (int(c) for c in np.flatnonzero(family == f)[:2])
        pairs.append((a, b, _unit(target_train[train_labels == a].mean(0) - target_train[train_labels == b].mean(0))))
    return pairs


def _offset(projection: np.ndarray, labels: np.ndarray, a: int, b: int) -> float:
    return float(projection[labels == a].mean() - projection[labels == b].mean())


def offset_share(model: np.ndarray, target: np.ndarray, labels: np.ndarray,
                 pairs: Sequence[tuple[int, int, np.ndarray]]) -> float:
    """Mean over `pairs` (teacher_pair_axes) of the model's class-mean difference a - b on the
    teacher's axis over the target's, on the same clips (`model`, `target` [N, D], `labels`
    [N]): 1 = every pair's offset reproduced, 0 = none of it."""
    return float(np.mean([_offset(model @ u, labels, a, b) / _offset(target @ u, labels, a, b)
                          for a, b, u in pairs]))


def pair_axis(model_train: np.ndarray, model_eval: np.ndarray, target_train: np.ndarray,
              target_eval: np.ndarray, train_labels: np.ndarray, labels: np.ndarray,
              family: np.ndarray) -> PairAxis:
    """A model's embeddings (`model_train` [N_tr, D], `model_eval` [N, D]) against the
    teacher's mean targets (`target_train`, `target_eval`) along each pair's axis: the
    teacher's u (teacher_pair_axes), and the model's own LDA axis (shrinkage, fitted on its
    training embeddings of the pair's two classes); `family` [C] names the pair of each
    class. Every d' is read on the evaluation clips. Means over the pairs."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    total = float(target_eval.var(axis=0).sum())
    pairs = teacher_pair_axes(target_train, train_labels, family)
    facts, dropped = [], 0.0
    for a, b, axis in pairs:
        on_target, on_model = target_eval @ axis, model_eval @ axis                # [N]
        pair = np.isin(train_labels, (a, b))
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(
            model_train[pair], train_labels[pair] == a)
        own = model_eval @ _unit(lda.coef_[0])                                     # [N], a's side positive
        members = np.isin(labels, (a, b))
        class_mean = np.where(labels == a, on_target[labels == a].mean(), on_target[labels == b].mean())
        shift = np.where(members, class_mean - on_target[members].mean(), 0.0)   # [N] to the midpoint
        dropped += float(np.mean(shift ** 2))
        facts.append((_dprime(on_target, labels, a, b),
                      _dprime(on_model, labels, a, b), _dprime(own, labels, a, b),
                      float(np.mean((on_model - on_target) ** 2)) / max(float(on_target.var()), 1e-12)))
    return PairAxis(dropped / max(total, 1e-12), *(float(v) for v in np.mean(facts, axis=0)),
                    offset=offset_share(model_eval, target_eval, labels, pairs),
                    offset_train=offset_share(model_train, target_train, train_labels, pairs))


@dataclass(frozen=True)
class SeedImitation:
    seed: int
    train: SplitFit
    eval: SplitFit
    teacher_joined_svm: float      # % on joined evaluation clips, SVM fitted on joined training clips
    mean_target_svm: float         # % on the evaluation clips' mean target over the draws
    student_svm: float             # % as Table 6 scores the student (10 s clips)
    one_hot_svm: float             # % of the one-hot twin
    recalibrated_eval: SplitFit    # the student after recalibrate_batchnorm, evaluation split
    recalibrated_svm: float        # % of that student
    one_hot_recalibrated_svm: float    # % of the one-hot twin after the same re-estimate
    class_dims: tuple[float, float]    # relative eval error on the class-bearing / the other dimensions
    recalibrated_class_dims: tuple[float, float]   # the same after the BatchNorm re-estimate
    # % of the clips whose confusable pair (family) is right that get the class right too:
    # student, one-hot, both after the re-estimate; None off the premises design
    within_pair: tuple[float, float, float, float] | None = None
    # along the pairs' axes (pair_axis), student and one-hot twin after the re-estimate; None
    # off the premises design and in files written before it was measured
    pair_student: PairAxis | None = None
    pair_one_hot: PairAxis | None = None

    @property
    def gap(self) -> float:
        """How much worse the student imitates on unseen clips (distance to the mean target)."""
        return self.eval.to_mean / max(self.train.to_mean, 1e-12)


def class_bearing(target: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[D] bool: the embedding dimensions whose share of variance between the classes' means
    (eta^2 over the clips of `target` [N, D] with `labels` [N]) is at or above the median:
    the half of the teacher's embedding that carries the classes."""
    grand = target.mean(axis=0)
    between = sum((labels == c).sum() * (target[labels == c].mean(axis=0) - grand) ** 2
                  for c in np.unique(labels))
    share = between / np.maximum(((target - grand) ** 2).sum(axis=0), 1e-12)
    return share >= np.median(share)


def relative_errors(student: np.ndarray, target: np.ndarray, dims: np.ndarray) -> tuple[float, float]:
    """Mean over dimensions of (squared distance to `target` / variance of `target` over the
    clips), on the `dims` dimensions and on the others: 0 = exact, 1 = no better than the
    target's mean, scale-free so that two teachers' students compare."""
    per_dim = ((student - target) ** 2).mean(axis=0) / np.maximum(target.var(axis=0), 1e-12)   # [D]
    return float(per_dim[dims].mean()), float(per_dim[~dims].mean())


def recalibrate_batchnorm(model, batches, key: str = "x") -> int:
    """Re-estimates every BatchNormalization layer's moving mean and variance of `model` as
    the plain average of its batch statistics over `batches` (pipeline dicts; the weights
    are untouched), so inference uses statistics of the final weights rather than a moving
    average that lags them. Returns the number of batches read."""
    from shared.fused_bn import batch_norm_layers      # imports TensorFlow
    layers = batch_norm_layers(model)
    saved = [layer.momentum for layer in layers]
    count = 0
    try:
        for count, batch in enumerate(batches, start=1):
            for layer in layers:               # running mean of the batch statistics so far
                layer.momentum = (count - 1) / count
            model(batch[key], training=True)   # eager: momentum is read on every call
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return count


@contextmanager
def batchnorm_reestimated(model, batches, key: str = "x") -> Iterator[int]:
    """recalibrate_batchnorm for the duration of the block (yields the batch count); the
    moving statistics are put back on exit, so a measurement inside a training run leaves
    the run's own statistics as they were."""
    from shared.fused_bn import batch_norm_layers      # imports TensorFlow
    layers = batch_norm_layers(model)
    saved = [(layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in layers]
    try:
        yield recalibrate_batchnorm(model, batches, key)
    finally:
        for layer, (mean, variance) in zip(layers, saved):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)


def teacher_draws(teacher, ctx, split: str, draws: int, seed: int):
    """[K, N, D] teacher embeddings of the split's clips joined with K partner draws, and
    the labels (the same clips in the same order every draw)."""
    from paper1_ts import backend_svm

    out, labels = [], None
    for k in range(draws):
        ds = ctx.embed_dataset("spec", split, partners=1, seed=1000 * seed + k)
        emb = backend_svm.extract_embeddings(teacher, ds, input_key="x_teacher")
        out.append(emb.vectors)
        labels = emb.labels
    return np.stack(out), labels


def check_trained(plan) -> None:
    """UsageError naming the first store entry the measurement needs and lacks (the TS
    student, its teacher, the one-hot twin, for every seed), before any data is read."""
    for seed in plan.seeds:
        student_ref = plan.systems[(STUDENT_RUN, seed)][0]
        one_hot_ref = plan.systems[(ONE_HOT_RUN, seed)][0]
        for key, what in ((student_ref.key, student_ref.label), (student_ref.teacher_key, "its teacher"),
                          (one_hot_ref.key, one_hot_ref.label)):
            if not plan.store.has(key, weights=True):
                raise UsageError(f"{plan.store.path(key)}: no trained model for '{what}' (seed {seed}); "
                                 "train it first: python -m paper1_ts.run --table 6 with the same "
                                 "--preset, --data-root, --results and --seeds")


def families_of(ctx) -> np.ndarray | None:
    """[C] the confusable pair (family) of each class on the demo's premises design, where
    the two scenes of a pair differ only by a sparse event one semitone apart
    (shared/datasets/demo_premises.py); None for any other data."""
    if ctx.spec.extra.get("design") != "premises":
        return None
    from shared.datasets.demo_premises import FAMILIES
    family = {scene: i for i, pair in enumerate(FAMILIES) for scene in pair}
    return np.array([family[c] for c in ctx.classes])


def within_pair(predicted: np.ndarray, labels: np.ndarray, family: np.ndarray) -> float:
    """% of the clips whose family is predicted right that also get their class right."""
    right_family = family[predicted] == family[labels]
    return 100 * float(np.mean(predicted[right_family] == labels[right_family])) if right_family.any() else 0.0


def svm_accuracy(train, evaluation, params, n: int, seed: int,
         family: np.ndarray | None = None) -> tuple[float, float | None]:
    """(SVM accuracy (%) of `evaluation` by an SVM fitted on `train`, the within-pair
    accuracy given the classes' `family`, else None)."""
    from paper1_ts import backend_svm
    scores = backend_svm.svm_backend(train, evaluation, params.svm, n, seed=seed)
    accuracy = 100 * backend_svm.accuracy(scores, evaluation.labels)
    within = None if family is None else within_pair(backend_svm.predictions(scores), evaluation.labels, family)
    return accuracy, within


def measure_seed(plan, ctx, params, seed: int, draws: int) -> SeedImitation:
    """The imitation facts of one seed's Table 6 spectrogram TS student (module doc)."""
    from paper1_ts import backend_svm, jobs

    student_ref = plan.systems[(STUDENT_RUN, seed)][0]
    one_hot_ref = plan.systems[(ONE_HOT_RUN, seed)][0]
    teacher = jobs.build("spec", None, params, head="gru", name="teacher")
    teacher.load_weights(plan.store.weights_path(student_ref.teacher_key))
    n = len(ctx.classes)
    targets, labels = {}, {}
    for split in ("train", "eval"):
        targets[split], labels[split] = teacher_draws(teacher, ctx, split, draws, seed)

    dims = class_bearing(targets["train"].mean(0), labels["train"])
    family = families_of(ctx)

    def as_embeddings(vectors, split):
        return backend_svm.Embeddings(vectors, labels[split], np.arange(len(vectors)))

    def student_facts(model):
        single = {split: backend_svm.extract_embeddings(model, ctx.embed_dataset("spec", split))
                  for split in ("train", "eval")}
        fits = {split: split_fit(single[split].vectors, targets[split]) for split in single}
        fits["dims"] = relative_errors(single["eval"].vectors, targets["eval"].mean(0), dims)
        if family is not None:
            fits["pairs"] = pair_axis(single["train"].vectors, single["eval"].vectors, targets["train"].mean(0),
                                      targets["eval"].mean(0), labels["train"], labels["eval"], family)
        return fits, svm_accuracy(single["train"], single["eval"], params, n, seed, family)

    accuracy, fits = {}, {}
    for name, ref in (("student", student_ref), ("one_hot", one_hot_ref)):
        model = jobs.build("spec", None, params, head="gru", name=name)
        model.load_weights(plan.store.weights_path(ref.key))
        fits[name], accuracy[name] = student_facts(model)
        recalibrate_batchnorm(model, ctx.train_dataset("spec", seed=seed))   # shuffled, as in training
        fits[f"{name}_re"], accuracy[f"{name}_re"] = student_facts(model)
    teacher_svm, _ = svm_accuracy(as_embeddings(targets["train"][0], "train"),
                          as_embeddings(targets["eval"][0], "eval"), params, n, seed)
    mean_svm, _ = svm_accuracy(as_embeddings(targets["train"].mean(0), "train"),
                       as_embeddings(targets["eval"].mean(0), "eval"), params, n, seed)
    return SeedImitation(
        seed, fits["student"]["train"], fits["student"]["eval"], teacher_svm, mean_svm,
        accuracy["student"][0], accuracy["one_hot"][0], fits["student_re"]["eval"], accuracy["student_re"][0],
        accuracy["one_hot_re"][0], fits["student"]["dims"], fits["student_re"]["dims"],
        within_pair=None if family is None else
        tuple(accuracy[k][1] for k in ("student", "one_hot", "student_re", "one_hot_re")),
        pair_student=fits["student_re"].get("pairs"), pair_one_hot=fits["one_hot_re"].get("pairs"))


def load_rows(path: str | Path) -> tuple[str, list[SeedImitation]]:
    """(label, rows) of a JSON file written by --out."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    fits = ("train", "eval", "recalibrated_eval")
    pairs = ("class_dims", "recalibrated_class_dims", "within_pair")
    axes = ("pair_student", "pair_one_hot")
    rows = [SeedImitation(**{k: SplitFit(**v) if k in fits else tuple(v) if k in pairs and v is not None
                             else PairAxis(**v) if k in axes and v is not None else v
                             for k, v in row.items() if k != "gap"})
            for row in data["rows"]]
    return data["label"], rows


COLUMNS = ("student's distance to the mean target, train / eval (eval / train)",
           "floor (partner spread), train / eval",
           "relative eval error, class-bearing / other half of the dimensions",
           "teacher, joined eval clips", "teacher's mean target, eval",
           "student", "one-hot", "within the confusable pair: student / one-hot",
           "after BatchNorm re-estimate: student's distance eval, relative error class-bearing / other, "
           "student, one-hot (within the pair: student / one-hot)")


def _cells(r) -> list[float]:
    within = r.within_pair or (math.nan,) * 4
    return [r.train.to_mean, r.eval.to_mean, r.gap, r.train.floor, r.eval.floor, *r.class_dims,
            r.teacher_joined_svm, r.mean_target_svm, r.student_svm, r.one_hot_svm, *within[:2],
            r.recalibrated_eval.to_mean, *r.recalibrated_class_dims, r.recalibrated_svm,
            r.one_hot_recalibrated_svm, *within[2:]]


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"



def render(label: str, rows: Sequence[SeedImitation]) -> str:
    """A Markdown table, one line per seed and a mean line (accuracies: SVM back-end, %)."""
    def line(name, m_tr, m_ev, gap, fl_tr, fl_ev, cls, other, teacher, mean_t, student, one_hot, w_s, w_o,
             re_ev, re_cls, re_other, re_svm, re_one_hot, re_w_s, re_w_o):
        return (f"| {name} | {m_tr:.3f} / {m_ev:.3f} (x{gap:.2f}) | {fl_tr:.3f} / {fl_ev:.3f} | "
                f"{cls:.2f} / {other:.2f} | {teacher:.1f} | {mean_t:.1f} | {student:.1f} | {one_hot:.1f} | "
                f"{_pct(w_s)} / {_pct(w_o)} | {re_ev:.3f}, {re_cls:.2f} / {re_other:.2f}, {re_svm:.1f}, "
                f"{re_one_hot:.1f} ({_pct(re_w_s)} / {_pct(re_w_o)}) |")

    body = [line(r.seed, *_cells(r)) for r in rows]
    body.append(line("mean", *np.mean([_cells(r) for r in rows], axis=0)))
    head = "| seed | " + " | ".join(COLUMNS) + " |\n|" + "---|" * (len(COLUMNS) + 1)
    text = f"{label}\n\n{head}\n" + "\n".join(body) + "\n"
    return text + _render_pairs(rows) if all(r.pair_student and r.pair_one_hot for r in rows) else text


PAIR_COLUMNS = ("what dropping every pair's offset adds to the distance (share of the target's variance)", "d' of the pair, teacher's mean target",
                "student's d' on the teacher's axis", "d' on the model's own axis: student / one-hot",
                "student's relative error on the teacher's axis",
                "student's share of the teacher's class offset on the axis, train / eval")


def _render_pairs(rows: Sequence[SeedImitation]) -> str:
    """The pair-axis table (pair_axis; after the BatchNorm re-estimate, evaluation clips)."""
    def cells(r):
        s = r.pair_student
        return [s.offset_share, s.teacher_dprime, s.on_teacher_axis, s.own, r.pair_one_hot.own, s.relative_error,
                s.offset_train, s.offset]

    def line(name, share, teacher, on_axis, own_s, own_o, error, offset_train, offset):
        return (f"| {name} | {share:.3f} | {teacher:.2f} | {on_axis:.2f} | {own_s:.2f} / {own_o:.2f} | "
                f"{error:.2f} | {offset_train:.2f} / {offset:.2f} |")

    body = [line(r.seed, *cells(r)) for r in rows] + [line("mean", *np.mean([cells(r) for r in rows], axis=0))]
    head = "| seed | " + " | ".join(PAIR_COLUMNS) + " |\n|" + "---|" * (len(PAIR_COLUMNS) + 1)
    return ("\nAlong the confusable pairs' axes (mean over the pairs; evaluation clips, after the "
            "BatchNorm re-estimate):\n\n" + head + "\n" + "\n".join(body) + "\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True, help="the preset (name or YAML) the models were trained with")
    p.add_argument("--data-root", required=True)
    p.add_argument("--results", required=True, help="results root holding paper1/_store")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--draws", type=int, default=4, help="partner draws per clip (default 4)")
    p.add_argument("--label", default=None, help="first line of the Markdown (default: the preset)")
    p.add_argument("--out", default=None, help="also write the rows as JSON here")
    p.add_argument("--into", default=None, metavar="FILE", help="also put the table between markers in FILE")
    p.add_argument("--section", default="imitation", help="marker name for --into")
    return p


@command(PROG)
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seeds < 1 or args.draws < 2:
        raise UsageError(f"--seeds must be >= 1 and --draws >= 2 (got {args.seeds}, {args.draws})")
    from paper1_ts import data as p1data
    from paper1_ts import tables
    from paper1_ts.experiments import table_by_number
    from paper1_ts.params import resolve_params

    params = resolve_params(args.preset, {"seeds": args.seeds, "data": {"root": args.data_root},
                                          "results_root": args.results})
    plan = tables.make_plan(table_by_number(6), params, Path(args.preset).stem, warn=lambda _: None)
    check_trained(plan)
    ctx = p1data.DataContext(params, prepare=False)
    rows = []
    for seed in plan.seeds:
        rows.append(measure_seed(plan, ctx, params, seed, args.draws))
        print(f"seed {seed}: measured ({len(rows)} of {len(plan.seeds)})", flush=True)
    label = args.label or f"Imitation of the teacher, {Path(args.preset).stem}, {args.draws} partner draws"
    text = render(label, rows)
    print(text)
    if args.out:
        from shared.config import atomic_write_text
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps({"label": label, "preset": args.preset, "draws": args.draws,
                                                "rows": [asdict(r) | {"gap": r.gap} for r in rows]},
                                               indent=2) + "\n")
    if args.into:
        from replication.report import replace_between_markers
        replace_between_markers(args.into, args.section, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
