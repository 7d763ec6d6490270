"""Paper 2's side of the faithful-cost estimate (replication/cost.py): a table's plan
(paper2_multirep.tables.plan_table, the runner's jobs) as training and inference crop-passes
of the benchmarked branch networks.

    plan = tables.plan_table(table, params, require_data=False)
    print("\\n".join(cost_lines(table_cost(plan), load_throughput(path), Devices(4))))

A "clip" of the benchmark is one training crop (crop_frames x bins x channels), so a
branch's training cost is clips x passes crops, and its inference cost the crops the soft
labels (every crop of every training clip, once per cycle, cyclic jobs) and the test
predictions (every crop of every test clip, once) run through it.
"""

from __future__ import annotations

from replication.cost import CostError, FeatureCost, JobCost, TableCost

FEATURE_DATASET = "dcase2018_task1a"      # the benchmark timed the front ends on clips of this format
FEATURE_KEY = {"logmel64": "p2_logMel64", "logmel128": "p2_logMel128", "mfcc": "p2_MFCC", "cqt": "p2_CQT"}
SPLIT_NAMES = {"fsdkaggle2018": ("train", "test")}          # the others: fold1_train / fold1_evaluate


def bench_model(arch: str) -> str:
    """The benchmark's name of a branch network: p2_<arch>_paper (VGG19, ResNet101) or
    p2_<arch>_demo (the demo's small networks)."""
    return f"p2_{arch}_{'demo' if arch.startswith('small') else 'paper'}"


def clip_counts(plan, official: bool = False) -> tuple[int, int, str]:
    """(training clips, test clips, source): the data's when read (unless `official`), else
    the official counts."""
    d = plan.data
    if d.num_train and not official:
        return d.num_train, d.num_test, f"read from {d.root}"
    counts = dict(d.spec.extra.get("split_counts") or {})
    train, test = SPLIT_NAMES.get(d.name, ("fold1_train", "fold1_evaluate"))
    if train not in counts or test not in counts:
        raise CostError(f"{d.name}: no data at {d.root} and no official counts of {train} / {test}")
    return counts[train], counts[test], "official counts, data not read"


def split_crops(branch, plan, examples, count: int, lengths: dict) -> int | None:
    """All-crops windows (shared.pipeline.eval_crop_starts) over `count` clips of a split:
    from the data set's fixed clip length, else (FSDKaggle2018, 0.3-30 s clips) from each
    read clip's length in its file header (`examples`: the split's clips, empty when the data
    was not read: None, unknown). `lengths` caches path -> samples across branches."""
    from paper2_multirep.table_backend import feature_params
    from shared.audio import audio_info
    from shared.pipeline import eval_crop_starts
    d, p = plan.data, plan.params
    features = feature_params(branch.representation, d.spec.sample_rate, p.data.downmix)

    def crops(samples: int) -> int:
        frames = features.output_shape(samples, d.spec.channels)[0]
        return len(eval_crop_starts(frames, p.data.crop_frames, p.data.eval_hop_frames))

    if d.spec.clip_seconds:
        return count * crops(int(round(d.spec.clip_seconds * d.spec.sample_rate)))
    if not examples:
        return None
    total = 0
    for example in examples:
        if example.path not in lengths:
            lengths[example.path] = audio_info(example.path).frames
        total += crops(lengths[example.path])
    return total


def table_cost(plan, official: bool = False) -> TableCost:
    """The work of every job of `plan` (pending or not: the cost of the table from nothing),
    one JobCost per branch of each job (a cyclic job's branches may be different networks);
    `official`: the data set's official clip counts even when the data was read."""
    from paper2_multirep import table_backend as backend
    p = plan.params
    n_train, n_test, source = clip_counts(plan, official)
    train_p = backend.training_params(p)
    passes = train_p.passes_per_branch()
    jobs, branch_keys, lengths = [], {}, {}
    for job in plan.jobs:
        keys = []
        for i, branch in enumerate(job.branches):
            optim = backend.branch_training_params(p, branch).optim
            per_pass = min(n_train, optim.steps_per_pass * optim.batch_size) if optim.steps_per_pass else n_train
            train_crops = split_crops(branch, plan, () if official else plan.data.train, n_train, lengths)
            test_crops = split_crops(branch, plan, () if official else plan.data.test, n_test, lengths)
            cycles = train_p.num_cycles if job.kind == "cyclic" else 0
            score = None if train_crops is None or test_crops is None else cycles * train_crops + test_crops
            key = f"{job.key}/{i}"
            jobs.append(JobCost(key, f"{job.kind} seed {job.seed}  {branch.network}/{branch.representation}",
                                bench_model(p.arch_of(branch.network)), per_pass * passes[job.kind],
                                score_clips=score, input_shape=backend.crop_shape(branch.representation, p, plan.data),
                                batch=optim.batch_size))
            keys.append(key)
        branch_keys[job.key] = tuple(keys)
    ordered = sorted(plan.systems.items(), key=lambda item: plan.order.index(item[0]))
    rows = [(f"{run} (seed {seed})" if len(plan.seeds) > 1 else run,
             tuple(k for job in refs for k in branch_keys[job.key])) for (run, seed), refs in ordered]
    representations = sorted({b.representation for job in plan.jobs for b in job.branches})
    features = [FeatureCost(FEATURE_KEY[r], n_train + n_test) for r in representations]
    note = "" if plan.data.name == FEATURE_DATASET else \
        f"the benchmark timed the front ends on {FEATURE_DATASET} clips, not {plan.data.name}"
    what = (f"{n_train} training / {n_test} test clips of {plan.data.name} ({source}), seeds {list(plan.seeds)}, "
            f"{passes['independent']} passes per independent branch, {passes['cyclic']} per cyclic branch "
            f"({train_p.num_cycles} cycles), {len(plan.jobs)} distinct jobs")
    soft = ("every crop of every training clip, once per cycle" if train_p.cyclic.soft_label_crops == "all" else
            "every crop of every training clip, once per cycle (one is kept per clip, all are predicted)")
    crop_text = ("crops per clip from the clip length" if plan.data.spec.clip_seconds else
                 "crops per clip from each clip's length (file headers)" if plan.data.num_train and not official
                 else "inference n/a: clips of variable length, crops per clip unknown without the data")
    assumptions = [
        "training crop-passes = training clips x passes of each branch (one random crop per clip per pass; "
        "mixup adds no passes)",
        f"inference: soft labels ({soft}) and the test predictions (every crop of every test clip, once); "
        f"{p.data.crop_frames}-frame crops, hop {p.data.eval_hop_frames}; {crop_text}"]
    t = plan.table
    title = f"Figure {t.numeral[1:]}" if "/figure" in t.name else f"Table {t.numeral}"
    return TableCost(plan.name, f"{title}: {t.caption}", jobs, rows, features,
                     note, what, assumptions)
