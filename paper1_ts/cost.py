"""Paper 1's side of the faithful-cost estimate (replication/cost.py): a table's plan
(paper1_ts.tables.make_plan, the runner's jobs) as training and inference clip-passes of
the benchmarked models.

    plan = tables.make_plan(table, params, preset, clips)
    print("\\n".join(cost_lines(table_cost(plan), load_throughput(path), Devices(4))))
"""

from __future__ import annotations

from replication.cost import CostError, FeatureCost, JobCost, TableCost

# model family -> (benchmark name stem, the benchmark's feature-cache key)
BENCH = {"raw": ("p1_raw_cnn", "p1_waveform"), "spec": ("p1_cnn_gru", "p1_spectrogram")}
FEATURE_DATASET = "dcase2018_task1a"   # the benchmark timed the front ends on clips of this format
SCORE_PASSES = 2                       # embeddings and logits of every clip (jobs.JobRunner.embeddings)


def bench_model(family: str, params) -> str:
    """The benchmark's name of the model `params` builds for `family`: the paper size (the
    model params' defaults) or the demo size (paper1_ts.model_params.demo_params).

    Raises:
      CostError: the preset's model is neither (the benchmark measured no such model).
    """
    from paper1_ts.model_params import CNNGRUParams, RawCNNParams, demo_params
    stem = BENCH[family][0]
    model = params.model_of(family)
    demo = demo_params()
    if model == (RawCNNParams() if family == "raw" else CNNGRUParams()):
        return f"{stem}_paper"
    if model == (demo.raw_cnn if family == "raw" else demo.cnn_gru):
        return f"{stem}_demo"
    raise CostError(f"models.{'raw_cnn' if family == 'raw' else 'cnn_gru'}: the preset's model is neither the "
                    "paper's nor the demo's size, and the benchmark measured only those two")


def train_clip_passes(ref, params, n_train: int) -> int:
    """Training clips one model sees: clips x epochs (the CNN-GRU's two steps summed), or
    steps x batch when the preset caps the steps per epoch."""
    from paper1_ts.tables import epochs_of
    per_epoch = params.train.steps_per_epoch * params.train.batch_size if params.train.steps_per_epoch else n_train
    return per_epoch * epochs_of(ref.job, params)


def table_cost(plan) -> TableCost:
    """The work of every job of `plan` (pending or not: the cost of the table from nothing).

    Raises:
      CostError: the plan's clip counts are unknown.
    """
    from paper1_ts.tables import step_cost_factor
    p = plan.params
    n_train, n_eval = plan.clips.get(p.data.train_split), plan.clips.get(p.data.eval_split)
    if n_train is None or n_eval is None:
        raise CostError(f"{p.data.dataset}: clip counts of {p.data.train_split} / {p.data.eval_split} unknown "
                        "(no data and no official counts)")
    jobs = [JobCost(ref.key, ref.label, bench_model(ref.job.family, p), train_clip_passes(ref, p, n_train),
                    factor=step_cost_factor(ref.job, p), score_clips=SCORE_PASSES * (n_train + n_eval),
                    batch=p.train.batch_size)
            for ref in plan.jobs]
    ordered = sorted(plan.systems.items(), key=lambda item: plan.order.index(item[0]))
    rows = [(f"{run} (seed {seed})" if len(plan.seeds) > 1 else run, tuple(ref.key for ref in refs))
            for (run, seed), refs in ordered]
    families = sorted({ref.job.family for ref in plan.jobs})
    features = [FeatureCost(BENCH[f][1], n_train + n_eval) for f in families]
    note = "" if p.data.dataset == FEATURE_DATASET else \
        f"the benchmark timed the front ends on {FEATURE_DATASET} clips, not {p.data.dataset}"
    t = p.train
    what = (f"{n_train} training / {n_eval} evaluation clips of {p.data.dataset}, seeds {list(plan.seeds)}, "
            f"batch {t.batch_size}, epochs raw {t.epochs} / CNN-GRU {t.pool_epochs}+{t.gru_epochs}, "
            f"{len(jobs)} distinct models")
    assumptions = [
        "training clip-passes = training clips x epochs of each model (steps x batch when steps_per_epoch is set)",
        "a model on n joined 10 s segments costs n clips per clip; a TS student adds its teacher's forward "
        "pass, 1/3 per teacher segment (paper1_ts.tables.step_cost_factor, the --dry-run estimate's model)",
        f"inference: embeddings and logits of every training and evaluation clip ({SCORE_PASSES} forward "
        "passes each, 10 s clips); the SVM back-end (CPU, seconds) is not included"]
    return TableCost(plan.name, f"Table {plan.table.number}: {plan.table.caption}", jobs, rows, features,
                     note, what, assumptions)
