"""When a TS student picks up its teacher's pair evidence: the pair offset epoch by epoch.

    python -m paper1_ts.offset_course --data-root DIR --seeds 0 1 \
        --arm LABEL PRESET RESULTS [--arm LABEL PRESET RESULTS ...] \
        [--gru-epochs LABEL N] [--every 2] [--draws 4] [--out FILE.json] [--plot FILE.png] [--into FILE --section NAME]

For each arm (a preset and the results root of a claims run that trained Table 6 with it)
and seed, retrains Table 6's spectrogram TS student (last hidden layer, 20 s teacher) from
that store's teacher, with the arm's preset, seed and data (the same training functions as
the table; the store is only read, nothing is saved). Every `--every` epochs of each of its
two steps it records the student's training loss, its share of the teacher's class offset
on the confusable pairs' axes (paper1_ts.imitation.offset_share: on the training clips,
against the teacher's mean target over `--draws` partner draws; premises design only) and
its SVM accuracy on the evaluation clips (reported, never used to choose anything).
`--gru-epochs LABEL N` gives one arm's students a longer GRU step than its preset, from the
same stored teachers: how far the offset climbs when a student is given the time. The table
shows the end of step 1 and a few epochs of the GRU step; the plot, the whole course, one
line per arm, seed and step.

It tells whether the constant-rate students' slow loss creep (why they do not level off)
is the pair offset being learnt late, and whether the annealed rate stops before it is
(docs/claims.md, section offset_course).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from shared.cli import UsageError, command

PROG = "python -m paper1_ts.offset_course"


@dataclass(frozen=True)
class Point:
    step: int            # 1: pooling head, 2: the whole CNN-GRU (two-step training)
    epoch: int           # 1-based within the step
    loss: float          # the epoch's mean training loss (Eq. (5))
    offset: float        # share of the teacher's pair offset on the training clips
    accuracy: float      # % SVM accuracy on the evaluation clips (Table 6's back-end)


@dataclass(frozen=True)
class Course:
    arm: str
    seed: int
    points: tuple[Point, ...]

    def at(self, step: int, epoch: int | None = None) -> Point:
        """The point of `step` at `epoch` (None: its last)."""
        points = [p for p in self.points if p.step == step and (epoch is None or p.epoch == epoch)]
        if not points:
            raise KeyError(f"{self.arm} seed {self.seed}: no point at step {step}, epoch {epoch}")
        return points[-1]


def _measure_callback(ctx, params, targets, labels, pairs, every: int, pool, seed: int, points: list):
    import keras

    from paper1_ts import backend_svm
    from paper1_ts.imitation import batchnorm_reestimated, offset_share, svm_accuracy

    class Measure(keras.callbacks.Callback):
        """Every `every` epochs: the student's offset share and SVM accuracy with its
        BatchNorm statistics re-estimated on the training clips (the demo's 6 steps per
        epoch leave the moving averages ~16 epochs behind the weights), then put back."""

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every:
                return
            student = self.model.student
            step = 1 if student is pool else 2                 # the pooling-head model trains first
            with batchnorm_reestimated(student, ctx.train_dataset("spec", seed=seed)):
                emb = backend_svm.extract_embeddings(student, ctx.embed_dataset("spec", "train"))
                evaluation = backend_svm.extract_embeddings(student, ctx.embed_dataset("spec", "eval"))
            if not np.array_equal(emb.labels, labels):
                raise RuntimeError("training clips came back in another order than the teacher's targets")
            accuracy, _ = svm_accuracy(emb, evaluation, params, len(ctx.classes), seed)
            points.append(Point(step, epoch + 1, float((logs or {}).get("loss", np.nan)),
                                offset_share(emb.vectors, targets, labels, pairs), accuracy))
    return Measure()


def course(plan, ctx, params, arm: str, seed: int, draws: int, every: int) -> Course:
    """Retrains one seed's Table 6 spectrogram TS student of `plan` (the order of
    jobs.Paper1Jobs.train: seed, data, teacher, student) and records its course. The
    measurement's training-mode passes draw dropout masks of their own, so this is a rerun
    of the same protocol, not a replay of the stored model."""
    import keras

    from paper1_ts import jobs, train
    from paper1_ts.imitation import STUDENT_RUN, teacher_draws, families_of, teacher_pair_axes
    from shared.distribute import make_strategy

    family = families_of(ctx)
    if family is None:
        raise UsageError(f"{params.data.root}: the pair offset needs the demo's premises design "
                         "(python -m replication.data prepare demo --opt design=premises)")
    ref = plan.systems[(STUDENT_RUN, seed)][0]
    keras.utils.set_random_seed(seed)
    strategy = make_strategy(params.distribute)
    ts = jobs.ts_params(ref.job, params)
    train_ds = ctx.train_dataset("spec", partners=ref.job.ts.teacher_segments - 1, seed=seed)
    teacher = jobs.load_teacher(ref.job, ref.teacher_key, params, plan.store, strategy)
    with strategy.scope():
        pool = jobs.build("spec", 1, params, head="pool", name="student_pool")
        student = jobs.build("spec", 1, params, head="gru", name="student")
    draws_train, labels = teacher_draws(teacher, ctx, "train", draws, seed)
    targets = draws_train.mean(0)                                             # [N, D]
    pairs = teacher_pair_axes(targets, labels, family)

    points: list[Point] = []
    measure = _measure_callback(ctx, params, targets, labels, pairs, every, pool, seed, points)
    train.train_student_ts_two_step(teacher, pool, student, jobs.copy_cnn_weights, train_ds, params.train, ts,
                                    strategy=strategy, callbacks=[measure])
    return Course(arm, seed, tuple(points))


def load(path: str | Path) -> list[Course]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Course(c["arm"], c["seed"], tuple(Point(**p) for p in c["points"])) for c in data["courses"]]


def render(courses: Sequence[Course], gru_epochs: Sequence[int] = (2, 6, 10, 14, 20, 30, 40, 60)) -> str:
    """Markdown: per arm and seed, the offset share, the SVM accuracy and the loss at the end
    of step 1 and at those of `gru_epochs` of step 2 that some course recorded ("-" where a
    course did not), then each arm's mean line."""
    epochs = [e for e in gru_epochs if any(p.step == 2 and p.epoch == e for c in courses for p in c.points)]
    head = ("| arm | seed | end of step 1 | " + " | ".join(f"GRU epoch {e}" for e in epochs)
            + " |\n|" + "---|" * (3 + len(epochs)))

    def cells(c: Course) -> list[tuple[float, float, float]]:
        out = []
        for step, epoch in [(1, None)] + [(2, e) for e in epochs]:
            try:
                p = c.at(step, epoch)
                out.append((p.offset, p.accuracy, p.loss))
            except KeyError:
                out.append((np.nan,) * 3)
        return out

    def line(arm, seed, values):
        return f"| {arm} | {seed} | " + " | ".join(
            "-" if np.isnan(o) else f"{o:.2f} / {a:.1f} % ({l:.3f})" for o, a, l in values) + " |"

    rows = [line(c.arm, c.seed, cells(c)) for c in courses]
    for arm in dict.fromkeys(c.arm for c in courses):
        mine = [cells(c) for c in courses if c.arm == arm]
        rows.append(line(arm, "mean", [tuple(v) for v in np.mean(mine, axis=0)]))
    return ("Share of the teacher's pair offset reproduced on the training clips / SVM accuracy on the "
            "evaluation clips (training loss in brackets):\n\n" + head + "\n" + "\n".join(rows) + "\n")


def plot(courses: Sequence[Course], path: str | Path) -> Path:
    """Offset share against epoch (step 1 then step 2), one line per arm, seed and step."""
    from replication.plots import plot_lines

    series = {}
    for c in courses:
        first = max(p.epoch for p in c.points if p.step == 1)
        for step in (1, 2):                # apart: the GRU step starts from a new embedding layer
            points = [p for p in c.points if p.step == step]
            series[f"{c.arm}, seed {c.seed}, step {step}"] = (
                [p.epoch + (first if step == 2 else 0) for p in points], [p.offset for p in points], c.arm)
    return plot_lines(series, path, xlabel="epoch (pooling step, then GRU step)",
                      ylabel="share of the teacher's pair offset (training clips)",
                      title="Spectrogram TS students: the confusable pairs' offset over training")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arm", nargs=3, action="append", required=True, metavar=("LABEL", "PRESET", "RESULTS"),
                   help="an arm: its label, the preset its models were trained with, the results root of its store")
    p.add_argument("--data-root", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--gru-epochs", nargs=2, action="append", default=[], metavar=("LABEL", "N"),
                   help="train arm LABEL's students' GRU step for N epochs instead of its preset's "
                        "(its teachers as stored); the label should say so")
    p.add_argument("--every", type=int, default=2, help="measure every N epochs (default 2)")
    p.add_argument("--draws", type=int, default=4, help="partner draws per clip (default 4)")
    p.add_argument("--out", default=None, help="write the courses as JSON here")
    p.add_argument("--plot", default=None, help="write the PNG here")
    p.add_argument("--into", default=None, metavar="FILE", help="also put the table between markers in FILE")
    p.add_argument("--section", default="offset_course", help="marker name for --into")
    return p


@command(PROG)
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.every < 1 or args.draws < 2:
        raise UsageError(f"--every must be >= 1 and --draws >= 2 (got {args.every}, {args.draws})")
    from paper1_ts import data as p1data
    from paper1_ts import tables
    from paper1_ts.experiments import table_by_number
    from paper1_ts.imitation import check_trained
    from paper1_ts.params import resolve_params

    longer = {}
    for label, n in args.gru_epochs:
        if label not in {arm[0] for arm in args.arm} or not n.isdigit() or int(n) < 1:
            raise UsageError(f"--gru-epochs {label} {n}: want the label of an --arm and a whole number >= 1")
        longer[label] = int(n)
    arms = []
    for label, preset, results in args.arm:                   # every store checked before training
        params = resolve_params(preset, {"seeds": max(args.seeds) + 1, "data": {"root": args.data_root},
                                         "results_root": results})
        plan = tables.make_plan(table_by_number(6), params, Path(preset).stem, warn=lambda _: None)
        check_trained(plan)
        if label in longer:                                   # the student only: the plan keeps the teacher's key
            params = replace(params, train=replace(params.train, gru_epochs=longer[label]))
        arms.append((label, params, plan))
    courses = []
    for label, params, plan in arms:
        ctx = p1data.DataContext(params, prepare=False)
        for seed in args.seeds:
            courses.append(course(plan, ctx, params, label, seed, args.draws, args.every))
            print(f"{label}, seed {seed}: {len(courses[-1].points)} points", flush=True)
    text = render(courses)
    print(text)
    if args.out:
        from shared.config import atomic_write_text
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps({"courses": [asdict(c) for c in courses]}, indent=2) + "\n")
    if args.plot:
        print(f"plot: {plot(courses, args.plot)}")
    if args.into:
        from replication.report import replace_between_markers
        replace_between_markers(args.into, args.section, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
