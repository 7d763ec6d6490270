"""Paper 1's figures as PNG files, from the same stored models as the tables.

Figure 1: t-SNE of the 64-d embeddings of evaluation clips of the most confused pair
(shopping_mall / airport), each clip alone (10 s) and joined with a same-class partner
(20 s), from one CNN-GRU (params.figure1_model: the 20 s "teacher" by default or the
10 s "baseline"; register p1-figure1).
Figure 2: confusion matrices of the score-sum ensemble without and with TS (Table 6
ensemble rows), with shopping_mall-airport and metro-tram boxed.

Both train (or reuse from the model store) the models they need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from paper1_ts.experiments import ModelJob, RunSpec, TableSpec, table_by_number
from paper1_ts.params import Paper1Params
from replication.rehearsal import TITLE_MARK, marked_title

FIG1_PAIR = ("shopping_mall", "airport")                       # Fig. 1 caption
FIG2_PAIRS = (("shopping_mall", "airport"), ("metro", "tram"))  # Fig. 2 caption (red, green)


REHEARSAL_TITLE = TITLE_MARK                 # replication/rehearsal.py (shared with paper 2's figures)


def figure_dir(params: Paper1Params) -> Path:
    return Path(params.results_root) / "paper1" / "figures"


def figure_title(params: Paper1Params, title: str) -> str:
    """`title`, marked as a rehearsal's when the params read rehearsal data
    (replication/rehearsal.py), so its PNG is never taken for the figure itself."""
    return marked_title(params.data.rehearsal, title)


def _plan_and_train(table: TableSpec, params: Paper1Params, preset: str, dry_run: bool):
    from paper1_ts import data as p1data
    from paper1_ts import jobs, tables

    plan = tables.make_plan(table, params, preset, p1data.split_sizes(params))
    print(tables.plan_text(plan))
    if dry_run:
        return plan, None
    ctx = p1data.DataContext(params)
    tables.train_pending(plan, jobs.JobRunner(ctx))
    return plan, ctx


def figure1(params: Paper1Params, preset: str, dry_run: bool = False) -> Path | None:
    """t-SNE of short vs joined-segment embeddings for shopping_mall / airport."""
    from paper1_ts import backend_svm, jobs
    from replication import plots

    job = ModelJob("spec", input_segments=2 if params.figure1_model == "teacher" else 1)
    spec = TableSpec("paper1/figure1", "F1", f"embeddings of the {params.figure1_model} CNN-GRU",
                     (RunSpec("model", (job,), params.figure1_model, "-"),))
    plan, ctx = _plan_and_train(spec, params, preset, dry_run)
    if ctx is None:
        return None
    seed = plan.seeds[0]
    ref = plan.systems[("model", seed)][0]
    model = jobs.build("spec", None, params, head="gru", name="figure1")
    model.load_weights(plan.store.weights_path(ref.key))
    wanted = [ctx.classes.index(c) for c in FIG1_PAIR]
    vectors, labels, groups = [], [], []
    for partners, group in ((0, "10 s"), (1, "20 s")):
        ds = ctx.embed_dataset("spec", "eval", partners=partners, seed=seed)
        emb = backend_svm.extract_embeddings(model, ds, input_key="x_teacher" if partners else "x")
        keep = np.isin(emb.labels, wanted)
        vectors.append(emb.vectors[keep])
        labels += [ctx.classes[k] for k in emb.labels[keep]]
        groups += [group] * int(keep.sum())
    path, _ = plots.plot_tsne(np.concatenate(vectors), labels, figure_dir(params) / f"figure1_{preset}.png",
                              groups=groups, seed=seed,
                              title=figure_title(params, f"Fig. 1: {FIG1_PAIR[0]} vs {FIG1_PAIR[1]}, 10 s "
                                                         f"vs joined 20 s ({params.figure1_model} CNN-GRU, "
                                                         "evaluation clips)"))
    return path


def figure2(params: Paper1Params, preset: str, dry_run: bool = False) -> Path | None:
    """Confusion matrices of the ensemble without / with TS (Table 6)."""
    from paper1_ts import backend_svm, tables
    from replication import plots

    t6 = table_by_number(6)
    spec = TableSpec("paper1/figure2", "F2", "ensemble without / with TS",
                     (t6.run("ensemble_wo_ts"), t6.run("ensemble_w_ts")))
    plan, ctx = _plan_and_train(spec, params, preset, dry_run)
    if ctx is None:
        return None
    seed = plan.seeds[0]
    n = len(ctx.classes)
    cms = []
    for run in ("ensemble_wo_ts", "ensemble_w_ts"):
        scores, labels, _ = tables.run_scores(plan.systems[(run, seed)], plan.store, params, n)
        cms.append(backend_svm.confusion(scores, labels, n))
    return plots.plot_confusion_pair(cms[0], cms[1], ctx.classes, figure_dir(params) / f"figure2_{preset}.png",
                                     titles=(figure_title(params, f"W/O TS (ensemble; {preset} preset, seed {seed})"),
                                             figure_title(params, f"W/ TS (ensemble; {preset} preset, seed {seed})")),
                                     highlight_pairs=FIG2_PAIRS)


FIGURES: dict[str, Callable[..., Path | None]] = {"1": figure1, "2": figure2}
