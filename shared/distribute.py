"""tf.distribute strategy chosen by config.

Every trainer in the kit builds its models and optimizers inside
`make_strategy(params).scope()`; batch sizes in config are GLOBAL (split across
replicas by tf.distribute), so a run on 1 CPU and on 4 GPUs sees the same
optimisation problem.

    strategy = make_strategy(DistributeParams(kind="mirrored"))
    with strategy.scope():
        model = build(...)

Precision (`DistributeParams.precision`): make_strategy sets Keras' global dtype policy
("float32" default, "mixed_float16" for GPUs, "mixed_bfloat16" for TPUs / CPUs with
AVX512-BF16), so every model built afterwards computes in that dtype with float32
variables. The kit's logits layers are float32 (dtype="float32") and every loss in
shared/losses.py computes in float32; under mixed_float16, Keras' compile wraps the
optimizer in a LossScaleOptimizer (custom train steps call optimizer.scale_loss).

Multi-worker input (`distribute_input`): the table runners pass every dataset that
reaches fit/predict through `distribute_input(ds, strategy)`, which under
MultiWorkerMirroredStrategy sets AutoShardPolicy.DATA explicitly. Keras' fit/predict
call strategy.experimental_distribute_dataset, which splits every GLOBAL batch into
per-replica slices and, with DATA, gives worker i the i-th slice of each global batch:
the global batch of the config is kept and every row is used once per step. (What
AUTO does with the kit's pipeline, an index stream from_tensor_slices -> batch ->
numpy_function read with no file reader: FILE sharding fails and TF falls back to
DATA with a warning; the explicit DATA policy is the same split without the guess.)
Every worker reads whole global batches and keeps its slice, so the input is read
once per worker (the feature cache must be reachable from every worker). predict
under DATA: each worker predicts its slice and Keras all-gathers the slices in global
order, so every worker receives every crop exactly once, in order (tested). A last
global batch with fewer rows than replicas would leave a worker an empty slice, which
TF 2.21 cannot predict on (measured: a shape error); `pad_batches` pads each batch to a
multiple of the replica count with index -1 rows that the caller drops (paper 2's
predict_crops does). Training has the same limit: under multi-worker, choose the global
batch so that the last batch of a pass is empty or holds at least one row per replica,
or give the dataset drop_remainder; an uneven last batch (e.g. 5 rows on 2 replicas)
is weighted per replica, not per row. A
dataset with AutoShardPolicy.OFF passed to fit would make every worker train on the
SAME per-replica rows (measured: 2 workers on global batch 8 equal one process on
batch 4, bit for bit). Custom input with per-worker reads: build it with
`strategy.distribute_datasets_from_function` (shard by input pipeline, per-replica
batch from the input context), as tests/shared/test_multiworker.py does.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import tensorflow as tf

# re-exported: the params live in a module without TensorFlow (fast preset loading)
from shared.distribute_params import (BATCH_NORMS, KINDS, PRECISIONS, DistributeParams,  # noqa: F401
                                      check_batch_norm, check_precision)
from shared.fused_bn import set_batch_norm


def set_precision(precision: str) -> None:
    """Sets Keras' global dtype policy; models built afterwards use it (variables stay float32)."""
    import keras

    keras.mixed_precision.set_global_policy(check_precision(precision))


def split_cpu(n: int) -> list[str]:
    """Splits the physical CPU into `n` logical devices; must run before TF initialises devices."""
    cpus = tf.config.list_physical_devices("CPU")
    existing = tf.config.get_logical_device_configuration(cpus[0])
    if existing and len(existing) == n:
        return [f"/cpu:{i}" for i in range(n)]
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError as err:
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices: TensorFlow was already "
            f"initialised in this process ({err}); set logical_cpus before building anything") from None
    return [f"/cpu:{i}" for i in range(n)]


def make_strategy(params: DistributeParams) -> tf.distribute.Strategy:
    """Returns the strategy named by `params.kind`.

    Also sets the global Keras dtype policy to `params.precision` (float32 by default, so
    a run after a mixed-precision run in the same process is float32 again) and the
    batch-normalisation layer the models' builders use to `params.batch_norm`
    (shared.fused_bn.set_batch_norm).

    Raises:
      ValueError: unknown kind or precision, or multi_worker without a TF_CONFIG
        environment variable.
    """
    if params.kind not in KINDS:
        raise ValueError(f"distribute.kind '{params.kind}' unknown (choose from {', '.join(KINDS)})")
    set_precision(params.precision)
    set_batch_norm(params.batch_norm)
    devices = list(params.devices)
    if params.logical_cpus > 0:
        logical = split_cpu(params.logical_cpus)
        devices = devices or logical
    if params.kind == "default":
        return tf.distribute.get_strategy()
    if params.kind == "mirrored":
        if not devices and not tf.config.list_physical_devices("GPU"):
            # One CPU device: MirroredStrategy would silently be a one-replica strategy;
            # say so instead of pretending to mirror.
            print("distribute: no GPU found, MirroredStrategy runs on the single CPU device")
        return tf.distribute.MirroredStrategy(devices=devices or None)
    if "TF_CONFIG" not in os.environ:
        raise ValueError("distribute.kind 'multi_worker' needs the TF_CONFIG environment variable "
                         "(cluster spec and this worker's task), see docs/scale.md 'Several machines'")
    json.loads(os.environ["TF_CONFIG"])  # fail early with a JSON error if malformed
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _reduce_nested(strategy)
    return strategy


def _reduce_nested(strategy: tf.distribute.Strategy) -> None:
    """Work-arounds for Keras 3.15 fit under MultiWorkerMirroredStrategy (keras-team/keras
    issue 20585), applied to this strategy object only:
    1. fit's first-batch peek calls strategy.reduce on the whole (x, y) structure, which
       the collective all-reduce cannot take: reduce each element;
    2. the per-step metric reduction calls reduce("MEAN", scalar, axis=0), which fails on
       scalars: reduce scalars across replicas without an axis (the mean over workers).
    """
    reduce_one = strategy.reduce

    def reduce(op, value, axis=None):
        if isinstance(value, dict):
            return {k: reduce(op, v, axis) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(reduce(op, v, axis) for v in value)
        if axis is not None and strategy.experimental_local_results(value)[0].shape.rank == 0:
            axis = None
        return reduce_one(op, value, axis)

    strategy.reduce = reduce


def per_replica_batch(global_batch: int, strategy: tf.distribute.Strategy) -> int:
    n = strategy.num_replicas_in_sync
    if global_batch % n:
        raise ValueError(f"global batch {global_batch} is not divisible by {n} replicas")
    return global_batch // n


def is_multi_worker(strategy: tf.distribute.Strategy | None) -> bool:
    """True for a MultiWorkerMirroredStrategy that really spans several workers."""
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


def distribute_input(dataset: tf.data.Dataset, strategy: tf.distribute.Strategy | None = None
                     ) -> tf.data.Dataset:
    """`dataset` ready for Keras fit/predict under `strategy` (default: the current one).

    Multi-worker: sets AutoShardPolicy.DATA, so that worker i gets the i-th per-replica
    slice of every GLOBAL batch (global batch kept; predict outputs are all-gathered in
    order). Other strategies: `dataset` unchanged. A dataset already distributed
    (tf.distribute.DistributedDataset) is returned as it is.
    """
    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(dataset, tf.data.Dataset) or not is_multi_worker(strategy):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def pad_batches(dataset: tf.data.Dataset, multiple: int, index_key: str = "index") -> tf.data.Dataset:
    """Pads every batch of dict elements to a multiple of `multiple` rows, for predict.

    The padding rows repeat the batch's first row and carry index -1 in
    `batch[index_key]`, so the caller drops them from the outputs (index < 0). Under
    MultiWorkerMirroredStrategy a last global batch with fewer rows than replicas would
    leave a worker an EMPTY slice, which TF 2.21 feeds as a dummy tensor of the wrong
    shape and predict fails (measured); padded, every replica gets the same row count.
    """
    if multiple < 1:
        raise ValueError(f"pad_batches: multiple must be >= 1, got {multiple}")

    def pad(batch):
        if not isinstance(batch, dict) or index_key not in batch:
            raise ValueError(f"pad_batches needs dict batches with '{index_key}' (the kit's pipeline)")
        rows = tf.shape(batch[index_key])[0]
        extra = tf.math.floormod(-rows, multiple)
        out = {}
        for key, value in batch.items():
            if key == index_key:
                fill = tf.fill([extra], tf.constant(-1, value.dtype))          # [extra]
            else:
                fill = tf.repeat(value[:1], extra, axis=0)                    # [extra, ...]
            out[key] = tf.concat([value, fill], axis=0)                       # [rows + extra, ...]
        return out

    return dataset.map(pad)


def sync_replica_copies(variables, strategy: tf.distribute.Strategy | None = None) -> int:
    """Sets every local replica copy of each float variable in `variables` to the mean of
    the copies; returns how many variables had differing copies.

    Keras 3.15 under MirroredStrategy gives BatchNormalization's moving mean / variance
    one copy per replica (aggregation "none"), each updated with its own replica's batch
    statistics, so the copies drift apart. A checkpoint then saves replica 0's copy only
    and `predict` uses each replica's own copy for its rows: a run restored from a
    checkpoint predicts differently from the uninterrupted run (measured: paper 2's soft
    labels after a kill -9 under 2 replicas). Averaging after a training pass makes the
    copies equal again; for the moving means this equals the single-device statistics
    (the update is linear in the batch mean, equal per-replica batches). Cross-replica
    context only; integer variables (seed states) are left alone; under multi-worker only
    this worker's replicas are averaged.
    """
    strategy = strategy or tf.distribute.get_strategy()
    changed = 0
    for variable in variables:
        handle = getattr(variable, "value", variable)          # Keras variable -> tf.Variable
        copies = strategy.experimental_local_results(handle)
        if len(copies) < 2 or not handle.dtype.is_floating:
            continue
        values = [c.read_value() for c in copies]
        if all(bool(tf.reduce_all(values[0] == v)) for v in values[1:]):
            continue
        mean = tf.add_n(values) / float(len(values))
        for copy in copies:
            copy.assign(mean)
        changed += 1
    return changed


def is_chief(tf_config: str | None = None) -> bool:
    """True if this process owns the run's shared outputs (checkpoints, job store, results).

    From TF_CONFIG (or the JSON text `tf_config`): task type "chief"; or "worker" with
    index 0 when the cluster has no "chief". True without TF_CONFIG (one process) or with
    an empty cluster. Other task types (evaluator, ps) are not the chief.

    Raises:
      ValueError: TF_CONFIG is not JSON, or has a cluster but no task type.
    """
    raw = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not raw.strip():
        return True
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err})") from None
    cluster = config.get("cluster") or {}
    task = config.get("task") or {}
    if not cluster:
        return True
    kind = task.get("type")
    if kind is None:
        raise ValueError("TF_CONFIG has a cluster but no task type (task: {\"type\": ..., \"index\": ...})")
    if kind == "chief":
        return True
    return kind == "worker" and "chief" not in cluster and int(task.get("index", 0)) == 0


def worker_results_root(root: str | os.PathLike, kind: str, copy: Sequence[str] = (),
                        log: Callable[[str], None] = print) -> Path:
    """Where this process writes a run's outputs (checkpoints, job store, results.json).

    `root` unless `kind` is "multi_worker" and this process is not the chief
    (`is_chief`): then a new private temporary directory, printed with `log`. Its
    sub-folders `copy` (e.g. the job store) start as copies of root's, so a worker
    plans the same jobs as the chief (every worker must train the same models: their
    steps are collective). Only the chief's files are the run's results.
    """
    root = Path(root)
    if kind != "multi_worker" or is_chief():
        return root
    task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
    private = Path(tempfile.mkdtemp(prefix=f"kit-{task.get('type', 'worker')}{task.get('index', '')}-"))
    for name in copy:
        if (root / name).is_dir():
            shutil.copytree(root / name, private / name)
    log(f"distribute: this {task.get('type', 'worker')} (index {task.get('index', '?')}) is not the chief: "
        f"its checkpoints, job store and results go to {private} (the chief writes {root})")
    return private
