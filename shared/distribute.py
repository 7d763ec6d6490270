"""tf.distribute strategy chosen by config.

Every trainer in the kit builds its models and optimizers inside
`make_strategy(params).scope()`; batch sizes in config are GLOBAL (split across
replicas by tf.distribute), so a run on 1 CPU and on 4 GPUs sees the same
optimisation problem.

    strategy = make_strategy(DistributeParams(kind="mirrored"))
    with strategy.scope():
        model = build(...)

Multi-worker input: give each worker its OWN part of every global batch, e.g.
`strategy.distribute_datasets_from_function(fn)` with `ds.shard(ctx.num_input_pipelines,
ctx.input_pipeline_id).batch(ctx.get_per_replica_batch_size(global_batch))`. A dataset
with AutoShardPolicy.OFF passed to fit makes every worker train on the SAME per-replica
rows (measured: 2 workers on global batch 8 equal one process on batch 4, bit for bit).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class DistributeParams:
    kind: str = "default"          # "default" (one device) | "mirrored" (all local GPUs) | "multi_worker" (TF_CONFIG)
    devices: tuple[str, ...] = ()  # mirrored only: explicit device names, e.g. ("/cpu:0", "/cpu:1"); empty = all GPUs
    logical_cpus: int = 0          # >0: split the CPU into this many logical devices (tests without GPUs)
    jit_compile: bool = False      # XLA for train steps (see README speed notes)


KINDS = ("default", "mirrored", "multi_worker")


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

    Raises:
      ValueError: unknown kind, or multi_worker without a TF_CONFIG environment variable.
    """
    if params.kind not in KINDS:
        raise ValueError(f"distribute.kind '{params.kind}' unknown (choose from {', '.join(KINDS)})")
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
                         "(cluster spec and this worker's task), see README 'Several machines'")
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
